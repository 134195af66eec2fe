//! Stage 8, publish: the rebuilt periods are written into a new publication (`<out>/gen/<id>/`,
//! hard links of the current one), which one rename of the `current` symlink makes visible; then
//! the caches are saved and leftovers cleared.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::incremental::{self, BuildState, PeriodState, Submission};
use crate::ingest::cache::ParsedCache;
use crate::project::Project;
use crate::stage::plan::{Plan, PlannedPeriod};
use crate::summary::RunSummary;

/// A publication being built: invisible to readers until [`commit`].
pub struct Publication {
    pub id: String,
    /// `<out>/gen/<id>`.
    pub dir: PathBuf,
    /// Where tables are written before they move into `dir` (`<out>/.staging/<run id>`).
    pub staging: PathBuf,
    /// The publication it starts from (the published one), if any.
    pub previous: Option<PathBuf>,
    /// How each period was built (`state/periods.json`).
    pub state: BuildState,
    /// Every version of every county's return (`state/submissions.jsonl`).
    pub history: Vec<Submission>,
}

impl Publication {
    pub fn warehouse(&self) -> PathBuf {
        self.dir.join("warehouse")
    }

    /// The memory of a query engine session of this run (`bytes`: `query_bytes` of
    /// `config/memory.toml`), spilling into the run's staging folder.
    pub fn query_memory(&self, bytes: usize) -> crate::models::pool::QueryMemory {
        crate::models::pool::QueryMemory::new(bytes, &self.staging.join("spill"))
    }

    /// Notes that `planned` is built in this publication, from its workbooks.
    pub fn built(&mut self, planned: &PlannedPeriod, with_models: bool) {
        let files = planned.files.iter().map(|f| (f.name.clone(), f.sha256.clone())).collect();
        self.state.periods.insert(
            planned.name.clone(),
            PeriodState { fingerprint: planned.fingerprint.clone(), models: with_models, files },
        );
    }
}

/// Starts the publication of `plan`.
pub fn begin(out: &Path, plan: &Plan) -> Result<Publication> {
    let id = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"), &plan.run_id[..8]);
    let dir = crate::publish::begin(out, &id)?;
    let staging = out.join(".staging").join(&plan.run_id);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let history = incremental::load_submissions(&dir);
    Ok(Publication { id, dir, staging, previous: plan.published.clone(), state: plan.state.clone(), history })
}

/// The returns held for frozen periods: the list (`state/pending.json`) and a note to each
/// county that sent one (`feedback/YYYY-MM/<code>_<name>_修订暂存.md`); notes no longer pending
/// are removed.
pub fn hold(publication: &Publication, plan: &Plan) -> Result<()> {
    incremental::save_pending(&publication.dir, &plan.pending)?;
    crate::feedback::pending::write(&publication.dir, &plan.pending_notes)
}

/// Completes the publication (data dictionary, build state, history of returns, manifest).
/// Nothing is visible yet.
pub fn seal(project: &Project, publication: &Publication, plan: &Plan, rebuilt: &[String]) -> Result<()> {
    let started = std::time::Instant::now();
    if let Err(e) = crate::models::docs::write_data_dictionary(
        &publication.dir,
        &project.forms,
        &project.reference.tables,
        &project.models,
    ) {
        tracing::error!("the data dictionary could not be written: {e:#}");
    }
    publication.state.save(&publication.dir)?;
    incremental::save_submissions(&publication.dir, &publication.history)?;
    std::fs::remove_dir_all(&publication.staging).ok();
    let previous_name =
        publication.previous.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string());
    let manifest =
        crate::publish::write_manifest(&publication.dir, &publication.id, &plan.run_id, previous_name, rebuilt)?;
    tracing::debug!(files = manifest.files.len(), seconds = started.elapsed().as_secs_f64(), "publication sealed");
    Ok(())
}

/// Makes the publication visible (one atomic rename).
pub fn commit(out: &Path, publication: &Publication) -> Result<()> {
    crate::publish::commit(out, &publication.dir)?;
    tracing::info!(publication = %publication.id, "published");
    Ok(())
}

/// After publishing: remembers the periods of the workbooks seen, prunes the parsed-workbook
/// cache to the inbox, and clears leftovers (older publications, staging).
pub fn tidy(out: &Path, plan: &Plan, parsed: &ParsedCache) -> Result<()> {
    plan.file_cache.save(out)?;
    match parsed.prune(&plan.inbox) {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(entries = n, "parsed-workbook cache: entries of workbooks no longer in the inbox removed")
        }
        Err(e) => tracing::warn!("the parsed-workbook cache could not be pruned: {e:#}"),
    }
    crate::publish::recover(out)
}

/// A night with nothing new: nothing is rebuilt or rewritten (the periods learned of new
/// workbooks are remembered).
pub fn nothing_new(out: &Path, plan: &Plan, mut summary: RunSummary) -> Result<RunSummary> {
    tracing::info!(files = plan.files_seen, "nothing new: every period is up to date; no output rewritten");
    if plan.file_cache_changed {
        plan.file_cache.save(out)?;
    }
    summary.nothing_new = true;
    let published_bulletin = out.join("bulletins").join(plan.target.to_string()).join("bulletin.md");
    summary.bulletin = published_bulletin.exists().then_some(published_bulletin);
    Ok(summary)
}
