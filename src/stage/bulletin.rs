//! Stage 6, bulletin: the protected model outputs rendered through `templates/` as
//! `bulletins/YYYY-MM/bulletin.md`, `bulletin.pdf` and the charts, with the figures revised since
//! the last publication.

use std::path::PathBuf;

use anyhow::Result;

use crate::audit::AuditOutcome;
use crate::bulletin::{self, AuditSummary, BulletinInput};
use crate::findings::Severity;
use crate::period::Period;
use crate::project::Project;
use crate::stage::disclosure::Disclosed;
use crate::stage::models::Built;
use crate::stage::publish::Publication;

/// Renders and writes the period's bulletin (草稿 when [`is_draft`] says so); returns the path of
/// its Markdown. A bulletin that cannot be rendered is an error of this stage (the run goes on and
/// reports it).
pub fn render(
    project: &Project,
    built: &Built,
    outcome: &AuditOutcome,
    disclosed: &Disclosed,
    publication: &Publication,
    issued_on: Option<chrono::NaiveDate>,
) -> Result<PathBuf> {
    let (period, started) = (built.period, std::time::Instant::now());
    let revisions = bulletin::revisions::revised_figures(
        publication.previous.as_deref(),
        period,
        disclosed.outputs.get("indicator_values"),
        &project.reference,
    )?;
    let audit = audit_summary(project, built, outcome, revisions);
    let rendered = bulletin::render(
        &project.templates,
        &BulletinInput {
            period: &period.to_string(),
            models: &disclosed.outputs,
            audit,
            issued_on: issued_on.unwrap_or_else(|| default_issue_date(period)),
            office: "济宁市统计局".to_string(),
        },
    )?;
    let path = bulletin::write(&publication.dir.join("bulletins").join(period.to_string()), &rendered)?;
    let pages = rendered.pages;
    drop(rendered);
    tracing::debug!(%period, pages, seconds = started.elapsed().as_secs_f64(), "bulletin rendered");
    Ok(path)
}

/// Whether the period's bulletin is a draft (草稿): known from the audit before the bulletin is
/// rendered, so that the public zone can be staged beside the layout.
pub fn is_draft(project: &Project, built: &Built, outcome: &AuditOutcome) -> bool {
    audit_summary(project, built, outcome, Vec::new()).is_draft()
}

/// What the bulletin says of the audit, with the figures revised since the last publication.
fn audit_summary(
    project: &Project,
    built: &Built,
    outcome: &AuditOutcome,
    revisions: Vec<bulletin::RevisedFigure>,
) -> AuditSummary {
    AuditSummary {
        accepted: outcome.accepted_rows(),
        quarantined: outcome.quarantined_rows(),
        findings_errors: outcome.count(Severity::Error),
        findings_warnings: outcome.count(Severity::Warning),
        missing: crate::completeness::missing_notes(&built.missing, project.reference.regions.len()),
        revisions,
        rules_not_evaluated: outcome.stats.iter().filter(|s| s.error.is_some()).map(|s| s.rule_id.clone()).collect(),
    }
}

/// The 15th of the month after the period: the city's release calendar.
pub fn default_issue_date(p: Period) -> chrono::NaiveDate {
    let (y, m) = if p.month == 12 { (p.year + 1, 1) } else { (p.year, p.month + 1) };
    chrono::NaiveDate::from_ymd_opt(y, m, 15).expect("valid date")
}
