//! The monthly run: ingest → audit → store → models → bulletin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;

use crate::audit::{self, AuditContext, AuditOutcome};
use crate::findings::{Finding, Severity};
use crate::forms::Forms;
use crate::ingest::rows::{SheetRows, sheet_rows};
use crate::ingest::{self, IngestedFile};
use crate::models::{self, exec};
use crate::period::Period;
use crate::reference::Reference;
use crate::store;

/// Where things are. Paths are used as given (relative to the working directory).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The project folder holding `forms/`, `rules/`, `sql/`, `templates/`.
    pub project: PathBuf,
    pub inbox: PathBuf,
    pub reference: PathBuf,
    pub out: PathBuf,
    /// Build models and the bulletin for this period; default: the latest period in the inbox.
    pub period: Option<Period>,
    /// Date printed on the bulletin; default: the 15th of the month after the period (the
    /// city's release calendar), so that the same inputs give the same bulletin.
    pub issued_on: Option<chrono::NaiveDate>,
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
        }
    }
}

/// A return replaced by a newer one for the same form, county and period (kept on record).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Superseded {
    pub file: String,
    pub by: String,
    pub form: String,
    pub region_code: String,
    pub period: String,
}

/// A file refused as a whole, or a sheet refused within a file.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub file: String,
    pub sheet: Option<String>,
    pub reason: String,
}

/// What a run did; printed as the one-screen summary.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub target: Period,
    pub periods: Vec<Period>,
    pub files_seen: usize,
    pub files_ingested: usize,
    pub refusals: Vec<Refusal>,
    pub superseded: Vec<Superseded>,
    pub rows_input: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    /// Where the non-blank rows of every sheet went (the "无遗漏" check).
    pub row_tally: crate::ingest::tally::RowTally,
    pub errors: u64,
    pub warnings: u64,
    pub warnings_explained: u64,
    /// Counties that have not sent a form for the target period: (region name, form).
    pub missing: Vec<(String, String)>,
    pub models: Vec<(String, usize, Option<String>)>,
    /// Model tests (`sql/tests/*.sql`), in model run order. A failing error-severity test also
    /// fails its model (its output is not written), so it shows in `models` too.
    pub model_tests: Vec<models::TestResult>,
    pub rule_failures: Vec<String>,
    pub bulletin: Option<PathBuf>,
    pub findings_sample: Vec<String>,
    /// County feedback written for the target period (`<out>/feedback/YYYY-MM/`).
    pub feedback: Vec<crate::feedback::CountyFeedback>,
    /// Periods rebuilt by this run (`unknown` for sheets without a period), oldest first.
    pub rebuilt: Vec<String>,
    /// Nothing changed since the last publication: nothing was rebuilt or rewritten.
    pub nothing_new: bool,
    /// A bulletin of a rebuilt period could not be rendered.
    pub bulletin_failed: bool,
    /// The publication this run made visible (`<out>/gen/<id>`).
    pub publication: Option<String>,
    /// Workbooks not seen before (by content hash).
    pub files_new: usize,
    /// Workbooks opened and read as spreadsheets by this run; the others it needed came from the
    /// parsed-workbook cache (`<out>/cache/parsed/`).
    pub files_opened: usize,
}

/// Exit codes (documented in the README).
pub mod exit {
    /// The run finished and published (quarantined rows and warnings are in the summary).
    pub const OK: i32 = 0;
    /// Something failed: a model, an audit rule, the bulletin, or the run itself.
    pub const FAILURE: i32 = 1;
    /// With `--fail-on-audit-errors`: the run published, but rows were quarantined, a file or
    /// sheet was refused, or a county has not submitted a form.
    pub const AUDIT_ERRORS: i32 = 2;
    /// With `--fail-on-audit-errors`: the run published without audit errors, but with warnings
    /// (核实性) that no 备注 explains.
    pub const WARNINGS: i32 = 3;
}

impl RunSummary {
    /// Whether the returns need correcting: quarantined rows, refusals or missing returns.
    pub fn has_audit_errors(&self) -> bool {
        self.errors > 0 || !self.missing.is_empty() || !self.refusals.is_empty()
    }

    pub fn exit_code(&self, fail_on_audit_errors: bool) -> i32 {
        if !self.rule_failures.is_empty() || self.models.iter().any(|m| m.2.is_some()) || self.bulletin_failed {
            exit::FAILURE
        } else if fail_on_audit_errors && self.has_audit_errors() {
            exit::AUDIT_ERRORS
        } else if fail_on_audit_errors && self.warnings > self.warnings_explained {
            exit::WARNINGS
        } else {
            exit::OK
        }
    }
}

/// The run id: a hash of everything the outputs depend on (the inbox's files and the project's
/// definitions, see [`incremental::definitions_hash`]), so the same inputs give the same id.
fn run_id(files: &[crate::incremental::InboxFile], definitions: &str) -> String {
    let mut parts: Vec<String> = files.iter().map(|f| format!("{}={}", f.name, f.sha256)).collect();
    parts.push(format!("definitions={definitions}"));
    crate::util::sha256_hex(parts.join("\n").as_bytes())[..16].to_string()
}

/// Picks, for each form × county × period, the newest return; the others are kept on record.
pub fn supersede(mut sheets: Vec<(SheetRows, std::time::SystemTime)>) -> (Vec<SheetRows>, Vec<Superseded>) {
    // Newest first: modification time, then file name (a later upload usually sorts later).
    sheets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.file.cmp(&a.0.file)));
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut superseded = Vec::new();
    for (s, _) in sheets {
        let (Some(region), Some(period)) = (&s.region_code, s.period) else {
            kept.push(s);
            continue;
        };
        let key = (s.form.clone(), region.clone(), period.to_string());
        match seen.get(&key) {
            Some(newer) if *newer != s.file => {
                superseded.push(Superseded {
                    file: s.file.clone(),
                    by: newer.clone(),
                    form: s.form.clone(),
                    region_code: region.clone(),
                    period: period.to_string(),
                });
            }
            _ => {
                seen.insert(key, s.file.clone());
                kept.push(s);
            }
        }
    }
    kept.sort_by(|a, b| {
        (&a.form, &a.region_code, &a.file, &a.sheet).cmp(&(&b.form, &b.region_code, &b.file, &b.sheet))
    });
    superseded.sort();
    (kept, superseded)
}

fn findings_schema() -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("run_id", false),
        s("region_code", true),
        s("form", true),
        s("file", false),
        s("sha256", false),
        s("sheet", true),
        Field::new("row", DataType::Int64, true),
        s("cell", true),
        s("_row_key", true),
        s("rule_id", false),
        s("severity", false),
        s("observed", false),
        s("message", false),
        Field::new("explained", DataType::Boolean, false),
    ]))
}

/// Findings as a table (partitioned by period on disk).
pub fn findings_batch(run_id: &str, findings: &[Finding]) -> RecordBatch {
    let text = |f: &dyn Fn(&Finding) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(findings.iter().map(f).collect::<Vec<_>>()))
    };
    RecordBatch::try_new(
        findings_schema(),
        vec![
            text(&|_| Some(run_id.to_string())),
            text(&|f| f.region_code.clone()),
            text(&|f| f.form.clone()),
            text(&|f| Some(f.location.file.clone())),
            text(&|f| Some(f.location.sha256.clone())),
            text(&|f| f.location.sheet.clone()),
            Arc::new(Int64Array::from(findings.iter().map(|f| f.location.row.map(i64::from)).collect::<Vec<_>>())),
            text(&|f| f.location.cell.clone()),
            text(&|f| f.row_key.clone()),
            text(&|f| Some(f.rule_id.clone())),
            text(&|f| Some(f.severity.as_str().to_string())),
            text(&|f| Some(f.observed.clone())),
            text(&|f| Some(f.message.clone())),
            Arc::new(BooleanArray::from(findings.iter().map(|f| f.explained).collect::<Vec<_>>())),
        ],
    )
    .expect("findings schema")
}

/// One row per ingested sheet: where each form's rows came from and which columns held what.
fn sources_batch(sheets: &[SheetRows], superseded: &[Superseded], period: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("region_code", DataType::Utf8, true),
        Field::new("form", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("sheet", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("column_map", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("superseded_by", DataType::Utf8, true),
    ]));
    let mut region = Vec::new();
    let mut form = Vec::new();
    let mut file = Vec::new();
    let mut sha = Vec::new();
    let mut sheet = Vec::new();
    let mut rows = Vec::new();
    let mut map = Vec::new();
    let mut status = Vec::new();
    let mut by = Vec::new();
    for s in sheets {
        region.push(s.region_code.clone());
        form.push(s.form.clone());
        file.push(s.file.clone());
        sha.push(s.sha256.clone());
        sheet.push(s.sheet.clone());
        rows.push(s.rows.num_rows() as i64);
        map.push(s.column_map.clone());
        status.push(if s.refusal.is_some() { "refused" } else { "used" }.to_string());
        by.push(None::<String>);
    }
    for sup in superseded {
        if sup.period != period {
            continue;
        }
        region.push(Some(sup.region_code.clone()));
        form.push(sup.form.clone());
        file.push(sup.file.clone());
        sha.push(String::new());
        sheet.push(String::new());
        rows.push(0);
        map.push(String::new());
        status.push("superseded".to_string());
        by.push(Some(sup.by.clone()));
    }
    let s = |v: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(region)),
            s(form),
            s(file),
            s(sha),
            s(sheet),
            Arc::new(Int64Array::from(rows)),
            s(map),
            s(status),
            Arc::new(StringArray::from(by)),
        ],
    )
    .expect("sources schema")
}

/// What to rebuild and why (the command line's `--from/--to`, a schedule's job).
#[derive(Debug, Clone)]
pub struct RunControl {
    /// First and last period to build (inclusive); `RunOptions::period` takes precedence.
    pub from: Option<Period>,
    pub to: Option<Period>,
    /// Rebuild the selected periods even when nothing they depend on changed (backfill).
    pub force: bool,
    pub job: crate::schedule::Job,
    /// `manual`, or `schedule:<name>` (recorded in the run ledger).
    pub trigger: String,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl { from: None, to: None, force: false, job: crate::schedule::Job::Run, trigger: "manual".to_string() }
    }
}

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
        note_progress(opts, ctl, &started, |_| {});
        let result = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the query runtime")
            .and_then(|runtime| runtime.block_on(run_async(opts, ctl, &started)));
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

/// Notes the run's progress beside the ledger, for the record of a run killed before it ends.
fn note_progress(opts: &RunOptions, ctl: &RunControl, started: &str, fill: impl FnOnce(&mut crate::ledger::RunRecord)) {
    let mut r = crate::ledger::RunRecord {
        trigger: ctl.trigger.clone(),
        started: started.to_string(),
        outcome: "running".to_string(),
        ..Default::default()
    };
    fill(&mut r);
    if let Err(e) = crate::ledger::mark(&opts.out, &r) {
        tracing::warn!("the run's progress could not be noted: {e:#}");
    }
}

/// Test hook: `GONGBAO_TEST_PAUSE_AT=<stage>` stops the run at that stage for a minute (so that
/// a test can kill it there). Stages: `ingested`, `period-built`, `before-commit`, `after-commit`.
fn pause_point(stage: &str) {
    if std::env::var("GONGBAO_TEST_PAUSE_AT").is_ok_and(|s| s == stage) {
        eprintln!("GONGBAO_TEST_PAUSED {stage}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Reads workbooks in parallel across files, with a progress bar on a terminal, and hands each
/// read to `keep` (which decides what of it stays in memory). A workbook read by an earlier run
/// (same bytes, name, form definitions and code) comes from the parsed-workbook cache; the others
/// are opened and their reads kept there. Returns what `keep` kept and how many were opened.
fn read_each<T: Send>(
    files: &[&crate::incremental::InboxFile],
    forms: &Forms,
    regions: &[crate::reference::Region],
    cache: &ingest::cache::ParsedCache,
    keep: impl Fn(&crate::incremental::InboxFile, IngestedFile) -> T + Sync,
) -> (Vec<T>, usize) {
    let bar = progress(files.len(), "reading");
    let opened = std::sync::atomic::AtomicUsize::new(0);
    let kept = files
        .par_iter()
        .map(|f| {
            let read = cache.load(f).unwrap_or_else(|| {
                opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let read = ingest::ingest_file(&f.path, forms, regions);
                if let Err(e) = cache.store(&read) {
                    tracing::warn!(file = %f.name, "the parsed workbook could not be cached: {e:#}");
                }
                read
            });
            bar.inc(1);
            keep(f, read)
        })
        .collect();
    bar.finish_and_clear();
    (kept, opened.into_inner())
}

/// The periods a workbook holds, as `cache/files.json` records them. A file refused as a whole
/// belongs to the period its name gives, so that its county hears of it in that period's
/// feedback and the period is rebuilt; without one, to `unknown`. Never to no period: a refused
/// file must not go unreported.
fn periods_of_read(read: &IngestedFile) -> Vec<String> {
    let name = |p: Option<Period>| p.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string());
    let mut periods: Vec<String> = ingest::tally::periods_of_file(read).into_iter().map(name).collect();
    periods.sort();
    periods
}

/// A progress bar on a terminal; hidden when stderr is not one (logs, cron, tests).
fn progress(len: usize, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what);
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// City-level figures of `period` that differ from the previous publication's.
fn revised_figures(
    previous: Option<&Path>,
    period: Period,
    now: Option<&Vec<RecordBatch>>,
) -> Result<Vec<crate::bulletin::RevisedFigure>> {
    let (Some(prev), Some(now)) = (previous, now) else { return Ok(Vec::new()) };
    let old = store::read_dir_batches(&prev.join("warehouse/indicator_values").join(format!("period={period}")))?;
    let index = |batches: &[RecordBatch]| -> BTreeMap<(String, String), (Option<f64>, String)> {
        let mut m = BTreeMap::new();
        for b in batches {
            let text = |n: &str| {
                b.column_by_name(n)
                    .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
                    .map(|c| c.as_any().downcast_ref::<StringArray>().cloned().expect("utf8"))
            };
            let value = b
                .column_by_name("value")
                .and_then(|c| c.as_any().downcast_ref::<arrow::array::Float64Array>().cloned());
            let (Some(r), Some(bd), Some(ind), Some(unit), Some(v)) =
                (text("region_code"), text("breakdown"), text("indicator"), text("unit"), value)
            else {
                continue;
            };
            for i in 0..b.num_rows() {
                if r.value(i) != "370800" {
                    continue;
                }
                use arrow::array::Array;
                let val = (!v.is_null(i)).then(|| v.value(i));
                m.insert((ind.value(i).to_string(), bd.value(i).to_string()), (val, unit.value(i).to_string()));
            }
        }
        m
    };
    let (old, new) = (index(&old), index(now));
    let fmt = |v: Option<f64>, unit: &str| match v {
        Some(x) => format!("{}{unit}", (x * 100.0).round() / 100.0),
        None => "—".to_string(),
    };
    let mut out = Vec::new();
    for (key, (nv, unit)) in &new {
        if let Some((ov, _)) = old.get(key) {
            let same = match (ov, nv) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (None, None) => true,
                _ => false,
            };
            if !same {
                let what = if key.1 == "_T" { key.0.clone() } else { format!("{}({})", key.0, key.1) };
                out.push(crate::bulletin::RevisedFigure { what, old: fmt(*ov, unit), new: fmt(*nv, unit) });
            }
        }
    }
    Ok(out)
}

async fn run_async(opts: &RunOptions, ctl: &RunControl, started: &str) -> Result<RunSummary> {
    use crate::incremental::{self, BuildState, FileCache, PeriodState};
    let forms = Forms::load(&opts.project.join("forms"))?;
    let rule_files = audit::rules::load(&opts.project.join("rules"))?;
    let reference = Reference::load(&opts.reference)?;
    let base_tables = exec::base_table_names(&forms, &reference.tables);
    let model_defs = models::load(&opts.project.join("sql"), &base_tables)?;
    let template = opts.project.join("templates/bulletin.md.j2");
    if !template.exists() {
        bail!("bulletin template {} is missing", template.display());
    }
    let with_models = ctl.job != crate::schedule::Job::Audit;
    let disclosure = crate::disclosure::Config::load(&opts.project.join("config/disclosure.toml"))?;

    // 0. Recover from a killed run; read how the published periods were built.
    crate::publish::recover(&opts.out)?;
    let published = crate::publish::current(&opts.out);
    let mut state = BuildState::load(published.as_deref())?;

    // 1. Scan the inbox by content hash; read only workbooks not seen before to learn their periods.
    let paths = ingest::list_inbox(&opts.inbox)?;
    let inbox_files = incremental::scan(&paths);
    let scanned = match ctl.job {
        // A bulletin job publishes what has been audited: the workbooks the current publication
        // was built from (refused ones included). Returns that arrived since wait for the next
        // `run` or `audit` job.
        crate::schedule::Job::Bulletin => {
            let audited: BTreeSet<(&str, &str)> =
                state.periods.values().flat_map(|p| &p.files).map(|(n, h)| (n.as_str(), h.as_str())).collect();
            let (audited, waiting): (Vec<_>, Vec<_>) =
                inbox_files.iter().cloned().partition(|f| audited.contains(&(f.name.as_str(), f.sha256.as_str())));
            if !waiting.is_empty() {
                tracing::warn!(
                    files = waiting.len(),
                    "bulletin job: workbooks not audited yet are left for the next run or audit job"
                );
            }
            if audited.is_empty() {
                bail!("no audited return in {}: run an `audit` or `run` job first", opts.out.display());
            }
            audited
        }
        _ => inbox_files.clone(),
    };
    let parsed_cache = ingest::cache::ParsedCache::new(
        &opts.out,
        &opts.project.join("forms"),
        reference.hashes.get("regions").map(String::as_str).unwrap_or_default(),
    );
    let mut cache = FileCache::load(&opts.out);
    // Periods learned by another reading (other forms, regions or code) may be wrong now.
    if cache.reading != parsed_cache.key() {
        cache = FileCache { reading: parsed_cache.key().to_string(), ..Default::default() };
    }
    // (An entry without periods is from before refused files were given one: look again.)
    let new_files: Vec<&incremental::InboxFile> =
        scanned.iter().filter(|f| cache.files.get(&f.key()).is_none_or(|c| c.periods.is_empty())).collect();
    tracing::info!(files = scanned.len(), new = new_files.len(), inbox = %opts.inbox.display(), "inbox scanned");
    // Workbooks not seen before are opened to learn their periods; their reads go to the cache,
    // not into memory (the periods are built one at a time).
    let (learned, mut files_opened) =
        read_each(&new_files, &forms, &reference.regions, &parsed_cache, |f, read| (f.key(), periods_of_read(&read)));
    for (key, periods) in learned {
        cache.files.insert(key, incremental::CachedFile { periods });
    }
    let periods_of: BTreeMap<String, Vec<String>> =
        cache.files.iter().map(|(k, v)| (k.clone(), v.periods.clone())).collect();
    let files_of = incremental::files_by_period(&scanned, &periods_of);
    let definitions = incremental::definitions_hash(&opts.project, &reference.hashes);
    let run_id = run_id(&scanned, &definitions);

    // Which periods this run covers, and which of them changed.
    let inbox_periods: Vec<Period> = files_of.keys().filter_map(|k| k.parse().ok()).collect();
    let selected: Vec<Period> = match (opts.period, ctl.from, ctl.to) {
        (Some(p), _, _) => vec![p],
        (None, from, to) => {
            let mut v: Vec<Period> = inbox_periods
                .iter()
                .copied()
                .filter(|p| from.is_none_or(|f| *p >= f) && to.is_none_or(|t| *p <= t))
                .collect();
            // A backfill covers every month of its range, returns or not.
            if let (Some(mut p), Some(t)) = (from, to) {
                while p <= t {
                    v.push(p);
                    p = if p.month == 12 {
                        Period { year: p.year + 1, month: 1 }
                    } else {
                        Period { month: p.month + 1, ..p }
                    };
                }
            }
            v.sort();
            v.dedup();
            v
        }
    };
    if selected.is_empty() {
        match (ctl.from, ctl.to) {
            (None, None) => bail!("the inbox holds no readable return for any period"),
            _ => bail!("no period of the inbox lies between {:?} and {:?}", ctl.from, ctl.to),
        }
    }
    let target = *selected.last().expect("a period");
    let all_periods: BTreeSet<Period> = inbox_periods.iter().chain(&selected).copied().collect();
    let mut rebuild: Vec<(Option<Period>, String)> = Vec::new();
    let whole_inbox = opts.period.is_none() && ctl.from.is_none() && ctl.to.is_none();
    if whole_inbox && let Some(unknown) = files_of.get("unknown") {
        let fp = incremental::fingerprint(&definitions, None, unknown);
        if ctl.force || state.periods.get("unknown").map(|s| &s.fingerprint) != Some(&fp) {
            rebuild.push((None, fp));
        }
    }
    let mut previous_built: Option<String> = None;
    for p in &all_periods {
        let key = p.to_string();
        let files: Vec<&incremental::InboxFile> = files_of.get(&key).cloned().unwrap_or_default();
        let fp = incremental::fingerprint(&definitions, previous_built.as_deref(), &files);
        let built = state.periods.get(&key);
        let stale = built.is_none_or(|b| b.fingerprint != fp || (with_models && !b.models));
        let built_fp = if selected.contains(p) && (stale || ctl.force) {
            rebuild.push((Some(*p), fp.clone()));
            fp
        } else {
            built.map(|b| b.fingerprint.clone()).unwrap_or(fp)
        };
        previous_built = Some(built_fp);
    }

    let files_seen = scanned.len();
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        target,
        periods: inbox_periods.clone(),
        files_seen,
        files_ingested: 0,
        refusals: Vec::new(),
        superseded: Vec::new(),
        rows_input: 0,
        rows_accepted: 0,
        row_tally: Default::default(),
        rows_quarantined: 0,
        errors: 0,
        warnings: 0,
        warnings_explained: 0,
        missing: Vec::new(),
        models: Vec::new(),
        model_tests: Vec::new(),
        rule_failures: Vec::new(),
        bulletin: None,
        findings_sample: Vec::new(),
        feedback: Vec::new(),
        rebuilt: Vec::new(),
        nothing_new: false,
        bulletin_failed: false,
        publication: None,
        files_new: new_files.len(),
        files_opened: 0,
    };
    if rebuild.is_empty() {
        tracing::info!(files = files_seen, "nothing new: every period is up to date; no output rewritten");
        if !new_files.is_empty() {
            cache.save(&opts.out)?;
        }
        summary.nothing_new = true;
        summary.files_opened = files_opened;
        let published_bulletin = opts.out.join("bulletins").join(target.to_string()).join("bulletin.md");
        summary.bulletin = published_bulletin.exists().then_some(published_bulletin);
        return Ok(summary);
    }
    let planned: Vec<String> =
        rebuild.iter().map(|r| r.0.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string())).collect();
    note_progress(opts, ctl, started, |r| {
        r.run_id = run_id.clone();
        r.files_seen = files_seen;
        r.rebuilt = planned.clone();
    });
    tracing::info!(periods = %planned.join(","), "rebuilding");

    // 2. Period by period, oldest first, in a new publication: read the period's workbooks (from
    // the parsed-workbook cache when unchanged), audit, store, build. One period's rows are in
    // memory at a time; cross-period rules read last month's accepted rows from the publication
    // being built (rebuilt just before, or carried over unchanged).
    let publication = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f"), &run_id[..8]);
    let gen_dir = crate::publish::begin(&opts.out, &publication)?;
    let warehouse = gen_dir.join("warehouse");
    let staging = opts.out.join(".staging").join(&run_id);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let mut history = incremental::load_submissions(&gen_dir);
    let form_tables: Vec<String> = forms.forms.iter().map(|f| f.table.clone()).collect();
    let mut files_used: BTreeSet<PathBuf> = BTreeSet::new();
    let mut files_refused: BTreeSet<PathBuf> = BTreeSet::new();
    let bar = progress(rebuild.len(), "periods");
    for (i, (period, fingerprint)) in rebuild.iter().enumerate() {
        let period_name = period.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string());
        let period_files: Vec<&incremental::InboxFile> = files_of.get(&period_name).cloned().unwrap_or_default();
        let built_from: Vec<(String, String)> =
            period_files.iter().map(|f| (f.name.clone(), f.sha256.clone())).collect();
        let (mut files, opened) = read_each(&period_files, &forms, &reference.regions, &parsed_cache, |_, read| read);
        files_opened += opened;
        tracing::info!(period = %period_name, files = files.len(), opened, "workbooks read");
        if i == 0 {
            pause_point("ingested");
        }
        let mut period_sheets = Vec::new();
        for f in &files {
            match &f.refusal {
                Some(why) if files_refused.insert(f.path.clone()) => {
                    summary.refusals.push(Refusal { file: f.file.clone(), sheet: None, reason: why.clone() })
                }
                Some(_) => {}
                None => {
                    files_used.insert(f.path.clone());
                }
            }
            for sh in f.sheets.iter().filter(|sh| sh.period == *period) {
                if let Some((_, why)) = &sh.refusal {
                    summary.refusals.push(Refusal {
                        file: f.file.clone(),
                        sheet: Some(sh.read.sheet.clone()),
                        reason: why.clone(),
                    });
                }
                let form = forms.get(&sh.read.form).expect("sheet of a known form");
                period_sheets.push((sheet_rows(form, f, sh), f.modified.unwrap_or(std::time::UNIX_EPOCH)));
            }
        }
        let sheet_counts = ingest::tally::sheet_counts(&files, *period);
        // The rows now live in Arrow (`period_sheets`); the parsed cells are not needed again.
        for f in &mut files {
            for sh in &mut f.sheets {
                sh.read.records = Vec::new();
                sh.read.totals = Vec::new();
            }
        }
        let (sheets, superseded) = supersede(period_sheets);
        for x in &superseded {
            tracing::warn!("{} ({}, {}, {}) is superseded by {}", x.file, x.form, x.region_code, x.period, x.by);
        }
        summary.superseded.extend(superseded.iter().cloned());
        let sheets = &sheets;
        let build_id = &fingerprint[..16];
        let params = match period {
            Some(p) => exec::params_batch(*p),
            None => exec::params_batch(target),
        };
        // Last month's accepted rows and column maps, from the publication being built.
        let prev_period = period.and_then(|p| p.prev_in_year());
        let prev_tables = match prev_period {
            Some(want) => {
                let mut t = BTreeMap::new();
                for table in &form_tables {
                    let dir = warehouse.join(table).join(format!("period={want}"));
                    let batches = store::read_dir_batches(&dir)?;
                    if !batches.is_empty() {
                        t.insert(table.clone(), batches);
                    }
                }
                t
            }
            None => BTreeMap::new(),
        };
        let previous_column_maps = match prev_period {
            Some(want) => audit::column_maps_from_sources(&store::read_dir_batches(
                &warehouse.join("sources").join(format!("period={want}")),
            )?),
            None => Default::default(),
        };
        let cx = AuditContext {
            forms: &forms,
            rules: &rule_files,
            previous: prev_tables,
            previous_column_maps,
            reference: &reference.tables,
            params,
        };
        let mut outcome = audit::audit_period(period.unwrap_or(target), sheets, &cx).await?;
        // A superseded return is reported to its county (INGEST-W02).
        for x in &superseded {
            if let Some(f) = files.iter().find(|f| f.file == x.file) {
                let w02 = ingest::workbook::superseded_finding(f, &x.form, &x.region_code, &x.period, &x.by);
                if !outcome.findings.contains(&w02) {
                    outcome.findings.push(w02);
                }
            }
        }
        // 无遗漏: every non-blank row of the period's sheets, counted from the raw cells, is
        // accounted for; else a row was lost without a word, and nothing is published.
        let gone: Vec<(String, String, String)> =
            superseded.iter().map(|x| (x.file.clone(), x.form.clone(), x.region_code.clone())).collect();
        let tally = ingest::tally::period_tally(
            &files,
            *period,
            &sheet_counts,
            &gone,
            outcome.accepted_rows(),
            outcome.quarantined_rows(),
        );
        summary.row_tally.add(&tally);
        if !tally.balanced() {
            bail!("报告期 {period_name} 行数核对不符,未发布: {}", tally.line());
        }
        // File-level findings belong to the periods of the file's sheets still used (not those of
        // a superseded return); a file refused as a whole belongs to the period its name gives,
        // else to `unknown` (see `periods_of_read`).
        let shas: BTreeSet<&str> = sheets.iter().map(|s| s.sha256.as_str()).collect();
        let file_findings =
            files.iter().filter(|f| f.sheets.is_empty() || shas.contains(f.sha256.as_str())).flat_map(|f| &f.findings);
        for f in file_findings {
            if !outcome.findings.contains(f) {
                let mut f = f.clone();
                f.period = Some(period_name.clone());
                outcome.findings.push(f);
            }
        }
        for st in &outcome.stats {
            if let Some(e) = &st.error {
                summary.rule_failures.push(format!("{} ({period_name}): {e}", st.rule_id));
            }
        }
        summary.rows_input += outcome.input_rows.values().sum::<u64>();
        summary.rows_accepted += outcome.accepted_rows();
        summary.rows_quarantined += outcome.quarantined_rows();
        summary.errors += outcome.count(Severity::Error);
        summary.warnings += outcome.count(Severity::Warning);
        summary.warnings_explained +=
            outcome.findings.iter().filter(|f| f.severity == Severity::Warning && f.explained).count() as u64;

        // 3. Store: stage this period's partitions of every table, then move them into the
        // publication being built (invisible to readers until it is published).
        let part = format!("period={period_name}");
        let mut staged_partitions: Vec<(PathBuf, PathBuf)> = Vec::new();
        if period.is_some() {
            for form in &forms.forms {
                let dir = staging.join("warehouse").join(&form.table).join(&part);
                let mut by_region: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
                for b in outcome.accepted.get(&form.table).into_iter().flatten() {
                    if b.num_rows() == 0 {
                        continue;
                    }
                    let region = b
                        .column_by_name("region_code")
                        .and_then(|c| c.as_any().downcast_ref::<StringArray>().map(|a| a.value(0).to_string()))
                        .unwrap_or_default();
                    by_region.entry(region).or_default().push(b.clone());
                }
                let schema = crate::ingest::rows::form_schema(form);
                for (region, batches) in &by_region {
                    store::write_partition(&dir.join(format!("region={region}")), batches, &schema, &["period"])?;
                }
                std::fs::create_dir_all(&dir)?;
                staged_partitions.push((dir, warehouse.join(&form.table).join(&part)));
            }
        }
        for (table, batch) in [
            ("quarantine", outcome.quarantine.clone()),
            ("findings", findings_batch(build_id, &outcome.findings)),
            ("sources", sources_batch(sheets, &superseded, &period_name)),
            ("audit_summary", audit::summary_batch(&outcome)),
        ] {
            let dir = staging.join("warehouse").join(table).join(&part);
            store::write_partition(&dir, std::slice::from_ref(&batch), &batch.schema(), &[])?;
            staged_partitions.push((dir, warehouse.join(table).join(&part)));
        }
        for (staged, published) in &staged_partitions {
            store::publish_dir(staged, published)?;
        }

        // The history of returns: which version of each county's form this period now uses.
        let mut used: Vec<(String, String, String, String, String)> = sheets
            .iter()
            .filter_map(|s| {
                let status = if s.refusal.is_some() { "refused" } else { "current" };
                Some((s.region_code.clone()?, s.form.clone(), s.file.clone(), s.sha256.clone(), status.to_string()))
            })
            .collect();
        for sup in superseded.iter().filter(|s| s.period == period_name) {
            if let Some(f) = files.iter().find(|f| f.file == sup.file) {
                used.push((
                    sup.region_code.clone(),
                    sup.form.clone(),
                    f.file.clone(),
                    f.sha256.clone(),
                    "superseded".into(),
                ));
            }
        }
        used.sort();
        used.dedup();
        if period.is_some() {
            incremental::record_submissions(&mut history, &period_name, &used, started);
        }

        // County feedback on the period's findings (audit jobs too: it is what counties act on).
        if let Some(p) = period {
            let feedback_input = crate::feedback::FeedbackInput {
                period: *p,
                findings: &outcome.findings,
                sheets,
                files: &files,
                regions: &reference.regions,
            };
            summary.feedback.extend(crate::feedback::write_feedback(&gen_dir, &feedback_input)?);
        }
        if let (Some(p), true) = (period, with_models) {
            build_outputs(
                &BuildInputs {
                    opts,
                    forms: &forms,
                    reference: &reference,
                    model_defs: &model_defs,
                    disclosure: &disclosure,
                    gen_dir: &gen_dir,
                    previous_publication: published.as_deref(),
                    staging: &staging,
                },
                *p,
                sheets,
                &outcome,
                &mut summary,
            )
            .await?;
            if *p == target {
                summary.findings_sample = outcome
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .take(8)
                    .map(|f| f.one_line())
                    .collect();
            }
        }
        state.periods.insert(
            period_name.clone(),
            PeriodState { fingerprint: fingerprint.clone(), models: with_models, files: built_from },
        );
        summary.rebuilt.push(period_name);
        bar.inc(1);
        pause_point("period-built");
    }
    bar.finish_and_clear();
    summary.files_ingested = files_used.len();
    summary.files_opened = files_opened;
    summary.superseded.sort();

    if let Err(e) = models::docs::write_data_dictionary(&gen_dir, &forms, &reference.tables, &model_defs) {
        tracing::error!("the data dictionary could not be written: {e:#}");
    }
    state.save(&gen_dir)?;
    incremental::save_submissions(&gen_dir, &history)?;
    std::fs::remove_dir_all(&staging).ok();
    let previous_name = published.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string());
    let manifest = crate::publish::write_manifest(&gen_dir, &publication, &run_id, previous_name, &summary.rebuilt)?;
    pause_point("before-commit");
    crate::publish::commit(&opts.out, &gen_dir)?;
    note_progress(opts, ctl, started, |r| {
        r.run_id = run_id.clone();
        r.files_seen = files_seen;
        r.rebuilt = summary.rebuilt.clone();
        r.publication = Some(publication.clone());
    });
    tracing::info!(publication = %publication, files = manifest.files.len(), periods = %summary.rebuilt.join(","), "published");
    summary.publication = Some(publication);
    pause_point("after-commit");
    cache.save(&opts.out)?;
    match parsed_cache.prune(&inbox_files) {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(entries = n, "parsed-workbook cache: entries of workbooks no longer in the inbox removed")
        }
        Err(e) => tracing::warn!("the parsed-workbook cache could not be pruned: {e:#}"),
    }
    crate::publish::recover(&opts.out)?;
    if let Some(b) = &summary.bulletin {
        // Point at the published path (through `bulletins/`), not the publication folder.
        let published_bulletin = opts.out.join("bulletins").join(target.to_string()).join("bulletin.md");
        if b.exists() || published_bulletin.exists() {
            summary.bulletin = Some(published_bulletin);
        }
    }
    for fb in &mut summary.feedback {
        if let Ok(rel) = fb.workbook.strip_prefix(&gen_dir) {
            fb.workbook = opts.out.join(rel);
        }
        if let Ok(rel) = fb.markdown.strip_prefix(&gen_dir) {
            fb.markdown = opts.out.join(rel);
        }
    }
    Ok(summary)
}

/// What [`build_outputs`] reads.
struct BuildInputs<'a> {
    opts: &'a RunOptions,
    forms: &'a Forms,
    reference: &'a Reference,
    model_defs: &'a [models::Model],
    disclosure: &'a crate::disclosure::Config,
    /// The publication being built.
    gen_dir: &'a Path,
    /// The published one (for the revised figures).
    previous_publication: Option<&'a Path>,
    staging: &'a Path,
}

/// Completeness, models and the bulletin of one period.
async fn build_outputs(
    b: &BuildInputs<'_>,
    target: Period,
    target_sheets: &[SheetRows],
    outcome: &AuditOutcome,
    summary: &mut RunSummary,
) -> Result<()> {
    let warehouse = b.gen_dir.join("warehouse");
    // Completeness for the period: every county × form, with its quarantined rows (a form with
    // unresolved errors makes the figures built on it status E).
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
    for region in &b.reference.regions {
        for form in &b.forms.forms {
            let sent = target_sheets
                .iter()
                .any(|s| s.form == form.code && s.region_code.as_deref() == Some(&region.code) && s.refusal.is_none());
            if !sent {
                missing.push((region.name.clone(), form.code.clone()));
            }
            let q = quarantined.get(&(region.code.clone(), form.code.to_uppercase())).copied().unwrap_or(0);
            submissions.push((region.code.clone(), form.code.clone(), sent, q));
        }
    }
    if target == summary.target {
        summary.missing = missing.clone();
    }

    // 4. Models for the period, over the publication being built.
    let ctx = exec::warehouse_session(
        &warehouse,
        b.forms,
        &b.reference.tables,
        target,
        exec::submissions_batch(&submissions),
    )
    .await?;
    let mut runs = exec::execute(&ctx, b.model_defs).await;
    // Disclosure control before anything is written or rendered (src/disclosure).
    crate::disclosure::protect_runs(&mut runs, b.disclosure)?;
    let mut outputs: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    for r in &runs {
        summary.models.push((r.name.clone(), r.rows(), r.error.clone()));
        summary.model_tests.extend(r.tests.iter().cloned());
        if let (None, Some(schema)) = (&r.error, &r.schema) {
            let dir = b.staging.join("warehouse").join(&r.name).join(format!("period={target}"));
            store::write_partition(&dir, &r.batches, schema, &["period"])?;
            store::publish_dir(&dir, &warehouse.join(&r.name).join(format!("period={target}")))?;
            outputs.insert(r.name.clone(), r.batches.clone());
        }
    }

    // 5. The bulletin (Markdown, PDF, charts), with the figures revised since the last publication.
    let revisions = revised_figures(b.previous_publication, target, outputs.get("indicator_values"))?;
    let issued_on = b.opts.issued_on.unwrap_or_else(|| default_issue_date(target));
    match crate::bulletin::render(
        &crate::bulletin::Templates::in_project(&b.opts.project),
        &crate::bulletin::BulletinInput {
            period: &target.to_string(),
            models: &outputs,
            audit: crate::bulletin::AuditSummary {
                accepted: outcome.accepted_rows(),
                quarantined: outcome.quarantined_rows(),
                findings_errors: outcome.count(Severity::Error),
                findings_warnings: outcome.count(Severity::Warning),
                missing: missing.iter().map(|(r, f)| format!("{r}({f})")).collect(),
                revisions,
            },
            issued_on,
            office: "济宁市统计局".to_string(),
        },
    ) {
        Ok(rendered) => {
            let dir = b.gen_dir.join("bulletins").join(target.to_string());
            let path = crate::bulletin::write(&dir, &rendered)?;
            if target == summary.target {
                summary.bulletin = Some(path);
            }
        }
        Err(e) => {
            summary.bulletin_failed = true;
            tracing::error!("the bulletin of {target} could not be rendered: {e:#}");
        }
    }
    Ok(())
}

/// The 15th of the month after the period: the city's release calendar.
pub fn default_issue_date(p: Period) -> chrono::NaiveDate {
    let (y, m) = if p.month == 12 { (p.year + 1, 1) } else { (p.year, p.month + 1) };
    chrono::NaiveDate::from_ymd_opt(y, m, 15).expect("valid date")
}
