//! Stage 7, feedback: for each county with findings, a workbook (every finding, and copies of
//! its sheets with the offending cells marked) and a short Markdown summary, in Chinese.

use anyhow::Result;

use crate::audit::AuditOutcome;
use crate::feedback::{CountyFeedback, FeedbackInput};
use crate::period::Period;
use crate::project::Project;
use crate::stage::publish::Publication;
use crate::stage::read::PeriodReturns;

pub fn write(
    project: &Project,
    period: Period,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
    publication: &Publication,
) -> Result<Vec<CountyFeedback>> {
    let started = std::time::Instant::now();
    let written = crate::feedback::write_feedback(
        &publication.dir,
        &FeedbackInput {
            period,
            findings: &outcome.findings,
            sheets: &returns.sheets,
            files: &returns.files,
            regions: &project.reference.regions,
            limits: project.feedback,
        },
    )?;
    tracing::debug!(%period, counties = written.len(), seconds = started.elapsed().as_secs_f64(), "feedback written");
    Ok(written)
}
