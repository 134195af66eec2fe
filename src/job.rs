//! What a run is asked to do: where things are ([`RunOptions`]), which periods and which job
//! ([`RunControl`]). Shared by the command line, the scheduler, the run and the ledger, so it
//! imports none of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::period::Period;

/// What a schedule (or a manual run) does.
/// `run`: ingest, audit, models, bulletin. `audit`: ingest and audit only (the warehouse and the
/// county feedback, no models or bulletin). `bulletin`: models and bulletins from the returns
/// already audited (the workbooks the current publication was built from); returns that arrived
/// since wait for the next `audit` or `run`. So a nightly `audit` job can send counties feedback
/// while a `bulletin` job on the release date publishes exactly what was audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    Run,
    Audit,
    Bulletin,
}

/// Where things are. Paths are used as given (relative to the working directory).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The project folder holding `forms/`, `rules/`, `sql/`, `templates/`, `config/`.
    pub project: PathBuf,
    pub inbox: PathBuf,
    pub reference: PathBuf,
    pub out: PathBuf,
    /// Build models and the bulletin for this period; default: the latest period in the inbox.
    pub period: Option<Period>,
    /// Date printed on the bulletin; default: the 15th of the month after the period (the
    /// city's release calendar), so that the same inputs give the same bulletin.
    pub issued_on: Option<chrono::NaiveDate>,
    /// How many threads the run works with (reading workbooks, the query engine's partitions);
    /// default: every core the process may use. The outputs are the same whatever the number.
    pub threads: Option<usize>,
}

impl RunOptions {
    /// The bundled sample data, run from the project folder.
    pub fn sample(project: &Path, out: &Path) -> Self {
        RunOptions {
            project: project.to_path_buf(),
            inbox: project.join("sample_data/returns"),
            reference: project.join("sample_data/reference"),
            out: out.to_path_buf(),
            period: None,
            issued_on: None,
            threads: None,
        }
    }
}

/// What to rebuild and why (the command line's `--from/--to`, a schedule's job).
#[derive(Debug, Clone)]
pub struct RunControl {
    /// First and last period to build (inclusive); `RunOptions::period` takes precedence.
    pub from: Option<Period>,
    pub to: Option<Period>,
    /// Rebuild the selected periods even when nothing they depend on changed (backfill).
    pub force: bool,
    /// Periods released as final whose held returns are applied (`gongbao run --revise`). Only
    /// an operator asks for it: a schedule never does (its firings leave this empty).
    pub revise: Vec<Period>,
    pub job: Job,
    /// `manual`, or `schedule:<name>` (recorded in the run ledger).
    pub trigger: String,
    /// Called as the run passes each checkpoint (see [`Checkpoint`]); tests use it to stop a run
    /// at a known point. Production runs have none.
    pub hook: Option<CheckpointHook>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            from: None,
            to: None,
            force: false,
            revise: Vec::new(),
            job: Job::Run,
            trigger: "manual".to_string(),
            hook: None,
        }
    }
}

/// Points of a run that a [`CheckpointHook`] sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// The first rebuilt period's workbooks are read.
    Ingested,
    /// A period is built in the publication being prepared (not yet published).
    PeriodBuilt,
    /// The publication is complete, its manifest written, not yet published.
    BeforeCommit,
    /// The publication is published (the `current` symlink swapped).
    AfterCommit,
}

impl Checkpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::Ingested => "ingested",
            Checkpoint::PeriodBuilt => "period-built",
            Checkpoint::BeforeCommit => "before-commit",
            Checkpoint::AfterCommit => "after-commit",
        }
    }
}

/// An observer of the run's checkpoints, injected by the caller (tests); never read from the
/// environment.
#[derive(Clone)]
pub struct CheckpointHook(pub Arc<dyn Fn(Checkpoint) + Send + Sync>);

impl std::fmt::Debug for CheckpointHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckpointHook")
    }
}

impl RunControl {
    /// Tells the hook, if any, that the run reached `at`.
    pub fn checkpoint(&self, at: Checkpoint) {
        if let Some(h) = &self.hook {
            (h.0)(at);
        }
    }
}
