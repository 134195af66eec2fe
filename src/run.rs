//! The run, as an outline of its stages (`src/stage/`): plan, then for each period to rebuild
//! read → audit → store → models → disclosure → bulletin → feedback, then publish. Each stage
//! takes what it uses (the [`Project`], the plan, the publication being built) and hands the
//! next a typed value; its errors name it. See docs/ARCHITECTURE.md.

use anyhow::{Context, Result};

use crate::ingest::cache::ParsedCache;
use crate::job::Checkpoint;
use crate::project::Project;
use crate::stage::plan::{Plan, PlannedPeriod, Selection};
use crate::stage::publish::Publication;
use crate::stage::{self, Stage, StageResult};

pub use crate::job::{RunControl, RunOptions};
pub use crate::stage::bulletin::default_issue_date;
pub use crate::stage::read::supersede;
pub use crate::summary::{Refusal, RunSummary, Superseded, exit};

/// Runs the whole job once. Problems with the returns become findings; only a problem with the
/// project itself (a broken form definition, an unreadable output folder) is an `Err`.
pub fn run(opts: &RunOptions) -> Result<RunSummary> {
    run_with(opts, &RunControl::default())
}

/// [`run`] with a period range, a job and a trigger. Holds the output folder's lock for the whole
/// run and appends the run to the ledger (`<out>/runs/runs.jsonl`), whatever the outcome.
pub fn run_with(opts: &RunOptions, ctl: &RunControl) -> Result<RunSummary> {
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let record = |result: &Result<RunSummary>| {
        if let Err(e) = crate::ledger::append(&opts.out, &crate::ledger::record(result, ctl, &started)) {
            tracing::error!("the run could not be recorded in the ledger: {e:#}");
        }
    };
    let mut recorded = false;
    let result = crate::lock::acquire(&opts.out).and_then(|lock| {
        // Holding the lock, no other run is in progress: a run noted as in progress was killed.
        match crate::ledger::record_interrupted(&opts.out) {
            Ok(Some(r)) => tracing::warn!(started = %r.started, "the previous run did not finish (killed or crashed); recorded in the run ledger as interrupted"),
            Ok(None) => {}
            Err(e) => tracing::error!("an interrupted run could not be recorded: {e:#}"),
        }
        crate::ledger::note_progress(&opts.out, &ctl.trigger, &started, |_| {});
        let result = with_threads(opts.threads, || {
            runtime(rayon::current_num_threads()).and_then(|rt| rt.block_on(execute(opts, ctl, &started)))
        });
        record(&result);
        crate::ledger::clear_mark(&opts.out);
        recorded = true;
        drop(lock);
        result
    });
    // A run refused because another holds the lock is recorded too (appending needs no lock).
    if !recorded && opts.out.is_dir() {
        record(&result);
    }
    result
}

/// The plan of a run (what it would rebuild and why), changing nothing: no lock, no recovery, no
/// cache written, nothing published (`gongbao run --dry-run`).
pub fn dry_run(opts: &RunOptions, ctl: &RunControl) -> Result<Plan> {
    let project = Project::load(&opts.project, &opts.reference)?;
    let parsed = ParsedCache::new(
        &opts.out,
        &project.dir.join("forms"),
        project.regions_sha256(),
        project.memory.held_read_rows,
    );
    stage::plan::plan(&project, &opts.inbox, &opts.out, &selection(opts, ctl), &parsed, true).at(Stage::Plan, "")
}

/// The run: the plan, each period's stages, the publication.
async fn execute(opts: &RunOptions, ctl: &RunControl, started: &str) -> Result<RunSummary> {
    let out = opts.out.as_path();
    let project = Project::load(&opts.project, &opts.reference)?;
    let parsed =
        ParsedCache::new(out, &project.dir.join("forms"), project.regions_sha256(), project.memory.held_read_rows);
    let mut plan =
        stage::plan::plan(&project, &opts.inbox, out, &selection(opts, ctl), &parsed, false).at(Stage::Plan, "")?;
    let mut summary = plan.summary();
    if plan.nothing_new() {
        return stage::publish::nothing_new(out, &plan, summary);
    }
    crate::ledger::note_progress(out, &ctl.trigger, started, |r| plan.note(r));
    tracing::info!(periods = %plan.planned_names().join(","), "rebuilding");

    let mut publication = stage::publish::begin(out, &plan).at(Stage::Publish, "")?;
    let period_run = PeriodRun {
        project: &project,
        plan: &plan,
        parsed: &parsed,
        ctl,
        started,
        issued_on: opts.issued_on,
        periods_read: Default::default(),
    };
    for (i, planned) in plan.rebuild.iter().enumerate() {
        period_run.build(planned, i == 0, &mut publication, &mut summary).await?;
        ctl.checkpoint(Checkpoint::PeriodBuilt);
    }
    // What the periods' full reads found confirms or corrects what the plan peeked at: saved
    // with the publication, so the next run rebuilds the periods a corrected workbook left or
    // joins (their files changed).
    let periods_read = period_run.periods_read.into_inner().unwrap_or_else(|e| e.into_inner());
    for (key, file, periods) in periods_read {
        if let Some(c) = stage::plan::confirm_read(&mut plan.file_cache, &key, &file, periods) {
            summary.period_corrections.push(c.shown());
        }
    }
    // After the periods: a rebuilt period's feedback folder is replaced whole.
    stage::publish::hold(&publication, &plan).at(Stage::Feedback, "")?;
    stage::publish::seal(&project, &publication, &plan, &summary.rebuilt).at(Stage::Publish, "")?;
    ctl.checkpoint(Checkpoint::BeforeCommit);
    stage::publish::commit(out, &publication).at(Stage::Publish, "")?;
    crate::ledger::note_progress(out, &ctl.trigger, started, |r| {
        plan.note(r);
        r.publication = Some(publication.id.clone());
    });
    summary.publication = Some(publication.id.clone());
    ctl.checkpoint(Checkpoint::AfterCommit);
    // Published: a failure from here on is recorded as what it is (published, then failed).
    if let Err(e) = stage::publish::tidy(out, &plan, &parsed) {
        tracing::error!("published {}, then failed: {e:#}", publication.id);
        summary.after_publish = Some(format!("{e:#}"));
    }
    summary.point_at_published(out, &publication.dir);
    if summary.rebuilt.is_empty() {
        // Only the notes of held returns were published: the bulletin is the one published before.
        let published = out.join("bulletins").join(plan.target.to_string()).join("bulletin.md");
        summary.bulletin = published.exists().then_some(published);
    }
    Ok(summary)
}

/// What every period's build reads.
struct PeriodRun<'a> {
    project: &'a Project,
    plan: &'a Plan,
    parsed: &'a ParsedCache,
    ctl: &'a RunControl,
    /// The run's start: when the returns it uses were first seen (unless held before).
    started: &'a str,
    issued_on: Option<chrono::NaiveDate>,
    /// The periods of every workbook the periods' read stages read whole: (key, name, periods).
    periods_read: std::sync::Mutex<Vec<(String, String, Vec<String>)>>,
}

impl PeriodRun<'_> {
    /// One period, stage by stage, into the publication being built.
    async fn build(
        &self,
        planned: &PlannedPeriod,
        first: bool,
        publication: &mut Publication,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let (project, name) = (self.project, planned.name.as_str());
        let now = chrono::DateTime::parse_from_rfc3339(self.started)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|_| chrono::Utc::now());
        let seen = crate::incremental::FirstSeen { now, held: self.plan.held_before.clone() };
        let staging = crate::store::staged::Staging::new(
            &publication.staging.join("rows").join(name),
            project.memory.held_sheet_bytes,
        )
        .at(Stage::Read, name)?;
        let returns = stage::read::read_period(project, planned, self.parsed, &publication.history, &seen, staging)
            .at(Stage::Read, name)?;
        returns.tally(planned, summary);
        self.periods_read.lock().unwrap_or_else(|e| e.into_inner()).extend(returns.periods_read.iter().cloned());
        if first {
            self.ctl.checkpoint(Checkpoint::Ingested);
        }
        let audited = stage::audit::audit(project, planned, &returns, publication, self.plan.target)
            .await
            .at(Stage::Audit, name)?;
        stage::audit::tally(planned, &audited, summary);
        summary.row_tally.add(&returns.row_tally(planned, &audited));
        let partitions =
            stage::store::store(project, planned, &returns, &audited, publication, &seen).at(Stage::Store, name)?;
        if let (Some(period), true) = (planned.period, self.plan.with_models) {
            let mut built = stage::models::build(project, period, &returns, &audited, publication, &partitions)
                .await
                .at(Stage::Models, name)?;
            let disclosed = stage::disclosure::protect(project, &mut built, publication).at(Stage::Disclosure, name)?;
            built.tally(summary);
            // The bulletin and, beside it, the protected outputs' and the public zone's files:
            // typst's layout holds one thread, their Parquet another. The public zone enters
            // the publication after the bulletin, and only if that is final.
            let draft = stage::bulletin::is_draft(project, &built, &audited);
            let (rendered, staged) = std::thread::scope(|s| {
                let staged =
                    s.spawn(|| stage::disclosure::write_and_stage(project, &built, draft, &disclosed, publication));
                let rendered =
                    stage::bulletin::render(project, &built, &audited, &disclosed, publication, self.issued_on);
                (rendered, staged.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            });
            let staged = staged.at(Stage::Disclosure, name)?;
            let is_final = match rendered {
                Ok(path) => {
                    if period == summary.target {
                        summary.bulletin = Some(path);
                    }
                    !draft
                }
                Err(e) => {
                    summary.bulletin_failed = true;
                    tracing::error!("{}: the bulletin could not be rendered: {e:#}", Stage::Bulletin.context(name));
                    // Never the previous bulletin beside the new tables: a draft notice instead.
                    let dir = publication.dir.join("bulletins").join(period.to_string());
                    crate::bulletin::write_failure_notice(&dir, &period.full_label(), &format!("{e:#}"))
                        .at(Stage::Bulletin, name)?;
                    summary.bulletin_error = Some(format!("{period}: {e:#}"));
                    false
                }
            };
            stage::disclosure::publish_public(&built, staged, is_final, summary).at(Stage::Disclosure, name)?;
        }
        if let Some(period) = planned.period {
            let written =
                stage::feedback::write(project, period, &returns, &audited, publication).at(Stage::Feedback, name)?;
            summary.feedback.extend(written);
        }
        partitions.wait().at(Stage::Store, name)?;
        returns.staging.remove();
        publication.built(planned, self.plan.with_models);
        summary.rebuilt.push(name.to_string());
        Ok(())
    }
}

fn selection(opts: &RunOptions, ctl: &RunControl) -> Selection {
    Selection {
        period: opts.period,
        from: ctl.from,
        to: ctl.to,
        force: ctl.force,
        revise: ctl.revise.clone(),
        job: ctl.job,
    }
}

/// Runs `f` in a thread pool of `threads` threads (the workbooks read in parallel; the query
/// engine takes its partitions from it), or in the process's pool of one thread per core.
fn with_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    match threads {
        None => f(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .thread_name(|i| format!("gongbao-{i}"))
            .build()
            .context("cannot start the run's threads")?
            .install(f),
    }
}

/// The query engine's runtime (DataFusion runs the audit's SQL rules and the models).
fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}
