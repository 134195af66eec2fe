//! Stage 4, models: which county sent which form (completeness), then every `sql/*.sql` over the
//! publication being built, with its declared columns and tests checked.

use anyhow::Result;

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
    /// The period's accepted enterprise rows, for disclosure control.
    pub enterprises: Vec<crate::disclosure::Enterprise>,
}

pub async fn build(
    project: &Project,
    period: Period,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
    publication: &Publication,
    partitions: &crate::stage::store::Partitions,
) -> Result<Built> {
    // Completeness: every county × form, whether it was sent and how many of its rows are
    // quarantined (a form with unresolved errors makes the figures built on it status E).
    let crate::completeness::Completeness { submissions, missing } = crate::completeness::completeness(
        &project.reference.regions,
        &project.forms,
        &returns.sheets,
        &outcome.quarantine,
    );
    let ctx = exec::warehouse_session(
        &publication.warehouse(),
        &project.forms,
        &project.reference.tables,
        period,
        exec::submissions_batch(&submissions),
        |table| partitions.accepted(table).cloned(),
        &publication.query_memory(project.memory.query_bytes),
    )
    .await?;
    // The enterprise rows disclosure control needs are read beside the models (whose waves
    // leave a core idle at times), not after them.
    let started = std::time::Instant::now();
    let loaded = async {
        let enterprises = crate::disclosure::rules::load_enterprises(&ctx).await;
        (enterprises, started.elapsed().as_secs_f64())
    };
    let (runs, (enterprises, seconds)) = futures::join!(exec::execute(&ctx, &project.models), loaded);
    let enterprises = enterprises?;
    tracing::debug!(%period, rows = enterprises.len(), seconds, "enterprise rows loaded for disclosure control (beside the models)");
    let peak = crate::models::pool::peak(&ctx.runtime_env());
    tracing::debug!(%period, peak_bytes = peak, "the models' queries: the most their memory pool held at once");
    drop(ctx);
    Ok(Built { period, runs, missing, enterprises })
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
