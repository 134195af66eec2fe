//! Stage 4, models: which county sent which form (completeness), then every `sql/*.sql` over the
//! publication being built, with its declared columns and tests checked.

use std::collections::BTreeMap;

use anyhow::Result;
use arrow::array::AsArray;

use crate::audit::AuditOutcome;
use crate::models::exec::{self, ModelRun};
use crate::period::Period;
use crate::project::Project;
use crate::stage::publish::Publication;
use crate::stage::read::PeriodReturns;
use crate::summary::RunSummary;

/// The models of one period, not yet protected or written.
pub struct Built {
    pub period: Period,
    /// Every model, in run order (failed ones with their error).
    pub runs: Vec<ModelRun>,
    /// Counties that sent no usable return of a form: (region name, form).
    pub missing: Vec<(String, String)>,
}

pub async fn build(
    project: &Project,
    period: Period,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
    publication: &Publication,
) -> Result<Built> {
    let (submissions, missing) = completeness(project, returns, outcome);
    let ctx = exec::warehouse_session(
        &publication.warehouse(),
        &project.forms,
        &project.reference.tables,
        period,
        exec::submissions_batch(&submissions),
    )
    .await?;
    let runs = exec::execute(&ctx, &project.models).await;
    Ok(Built { period, runs, missing })
}

/// Completeness for the period: every county × form, whether it was sent and how many of its
/// rows are quarantined (a form with unresolved errors makes the figures built on it status E).
fn completeness(
    project: &Project,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
) -> (Vec<(String, String, bool, i64)>, Vec<(String, String)>) {
    let mut quarantined: BTreeMap<(String, String), i64> = BTreeMap::new();
    let q = &outcome.quarantine;
    let col = |name: &str| q.column_by_name(name).map(|c| c.as_string::<i32>().clone());
    if let (Some(regions), Some(forms)) = (col("region_code"), col("form")) {
        for i in 0..q.num_rows() {
            let key = (regions.value(i).to_string(), forms.value(i).to_uppercase());
            *quarantined.entry(key).or_default() += 1;
        }
    }
    let mut submissions = Vec::new();
    let mut missing = Vec::new();
    for region in &project.reference.regions {
        for form in &project.forms.forms {
            let sent = returns
                .sheets
                .iter()
                .any(|s| s.form == form.code && s.region_code.as_deref() == Some(&region.code) && s.refusal.is_none());
            if !sent {
                missing.push((region.name.clone(), form.code.clone()));
            }
            let q = quarantined.get(&(region.code.clone(), form.code.to_uppercase())).copied().unwrap_or(0);
            submissions.push((region.code.clone(), form.code.clone(), sent, q));
        }
    }
    (submissions, missing)
}

impl Built {
    /// Adds the period's models and tests to the run's summary.
    pub fn tally(&self, s: &mut RunSummary) {
        if self.period == s.target {
            s.missing = self.missing.clone();
        }
        for r in &self.runs {
            s.models.push((r.name.clone(), r.rows(), r.error.clone()));
            s.model_tests.extend(r.tests.iter().cloned());
        }
    }
}
