//! The monthly run: ingest → audit → store → models → bulletin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
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
}

impl RunSummary {
    /// Whether the returns need correcting: quarantined rows, refusals or missing returns.
    pub fn has_audit_errors(&self) -> bool {
        self.errors > 0 || !self.missing.is_empty() || !self.refusals.is_empty()
    }

    pub fn exit_code(&self, fail_on_audit_errors: bool) -> i32 {
        if !self.rule_failures.is_empty() || self.models.iter().any(|m| m.2.is_some()) || self.bulletin.is_none() {
            exit::FAILURE
        } else if fail_on_audit_errors && self.has_audit_errors() {
            exit::AUDIT_ERRORS
        } else {
            exit::OK
        }
    }
}

/// The run id: a hash of everything the outputs depend on, so the same inputs give the same id.
fn run_id(files: &[IngestedFile], reference: &Reference, project: &Path) -> String {
    let mut parts: Vec<String> = files.iter().map(|f| format!("{}={}", f.file, f.sha256)).collect();
    parts.extend(reference.hashes.iter().map(|(k, v)| format!("ref:{k}={v}")));
    for dir in ["forms", "rules", "sql", "sql/tests", "templates"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(project.join(dir))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        paths.sort();
        for p in paths {
            if let Ok(bytes) = std::fs::read(&p) {
                parts.push(format!(
                    "{dir}/{}={}",
                    p.file_name().unwrap_or_default().to_string_lossy(),
                    crate::util::sha256_hex(&bytes)
                ));
            }
        }
    }
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

/// Runs the whole job once. Problems with the returns become findings; only a problem with the
/// project itself (a broken form definition, an unreadable output folder) is an `Err`.
pub fn run(opts: &RunOptions) -> Result<RunSummary> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the query runtime")?;
    runtime.block_on(run_async(opts))
}

async fn run_async(opts: &RunOptions) -> Result<RunSummary> {
    let forms = Forms::load(&opts.project.join("forms"))?;
    let rule_files = audit::rules::load(&opts.project.join("rules"))?;
    let reference = Reference::load(&opts.reference)?;
    let base_tables = exec::base_table_names(&forms, &reference.tables);
    let model_defs = models::load(&opts.project.join("sql"), &base_tables)?;
    let template = opts.project.join("templates/bulletin.md.j2");
    if !template.exists() {
        bail!("bulletin template {} is missing", template.display());
    }

    // 1. Ingest, in parallel across workbooks.
    let paths = ingest::list_inbox(&opts.inbox)?;
    tracing::info!(files = paths.len(), inbox = %opts.inbox.display(), "ingesting");
    let files: Vec<IngestedFile> =
        paths.par_iter().map(|p| ingest::ingest_file(p, &forms, &reference.regions)).collect();
    let run_id = run_id(&files, &reference, &opts.project);
    let mut refusals = Vec::new();
    let mut file_findings: Vec<Finding> = Vec::new();
    let mut all_sheets = Vec::new();
    for f in &files {
        if let Some(why) = &f.refusal {
            refusals.push(Refusal { file: f.file.clone(), sheet: None, reason: why.clone() });
        }
        for s in &f.sheets {
            if let Some((_, why)) = &s.refusal {
                refusals.push(Refusal { file: f.file.clone(), sheet: Some(s.read.sheet.clone()), reason: why.clone() });
            }
            let form = forms.get(&s.read.form).expect("sheet of a known form");
            let rows = sheet_rows(form, f, s);
            all_sheets.push((rows, f.modified.unwrap_or(std::time::UNIX_EPOCH)));
        }
        file_findings.extend(f.findings.iter().cloned());
    }
    let (sheets, superseded) = supersede(all_sheets);
    for s in &superseded {
        tracing::warn!("{} ({}, {}, {}) is superseded by {}", s.file, s.form, s.region_code, s.period, s.by);
    }

    // 2. Audit each period, oldest first, so cross-period rules see last month's accepted rows.
    let mut by_period: BTreeMap<Option<Period>, Vec<SheetRows>> = BTreeMap::new();
    for s in sheets {
        by_period.entry(s.period).or_default().push(s);
    }
    let periods: Vec<Period> = by_period.keys().flatten().copied().collect();
    let target = match opts.period {
        Some(p) => p,
        None => *periods.last().context("the inbox holds no readable return for any period")?,
    };
    let warehouse = opts.out.join("warehouse");
    let staging = opts.out.join(".staging").join(&run_id);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let form_tables: Vec<String> = forms.forms.iter().map(|f| f.table.clone()).collect();
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        target,
        periods: periods.clone(),
        files_seen: files.len(),
        files_ingested: files.iter().filter(|f| f.refusal.is_none()).count(),
        refusals,
        superseded: superseded.clone(),
        rows_input: 0,
        rows_accepted: 0,
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
    };
    let mut previous: Option<(Period, BTreeMap<String, Vec<RecordBatch>>)> = None;
    let mut target_outcome: Option<AuditOutcome> = None;
    let mut staged_partitions: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (period, sheets) in &by_period {
        let period_name = period.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string());
        let params = match period {
            Some(p) => exec::params_batch(*p),
            None => exec::params_batch(target),
        };
        // Last month's accepted rows: from this run, else from the published warehouse.
        let prev_period = period.and_then(|p| p.prev_in_year());
        let prev_tables = match (&previous, prev_period) {
            (Some((pp, tables)), Some(want)) if *pp == want => tables.clone(),
            (_, Some(want)) => {
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
            _ => BTreeMap::new(),
        };
        let previous_column_maps = match prev_period {
            Some(want) => match by_period.get(&Some(want)) {
                Some(prev_sheets) => audit::column_maps(prev_sheets),
                None => audit::column_maps_from_sources(&store::read_dir_batches(
                    &warehouse.join("sources").join(format!("period={want}")),
                )?),
            },
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
        // File-level findings belong to the period of the file's sheets, or to `unknown`.
        let shas: BTreeSet<&str> = sheets.iter().map(|s| s.sha256.as_str()).collect();
        for f in &file_findings {
            let belongs = shas.contains(f.location.sha256.as_str())
                || (period.is_none() && !by_period.values().flatten().any(|s| s.sha256 == f.location.sha256));
            if belongs && !outcome.findings.contains(f) {
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

        // 3. Store: stage this period's partitions of every table.
        let part = format!("period={period_name}");
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
            ("findings", findings_batch(&run_id, &outcome.findings)),
            ("sources", sources_batch(sheets, &superseded, &period_name)),
            ("audit_summary", audit::summary_batch(&outcome)),
        ] {
            let dir = staging.join("warehouse").join(table).join(&part);
            store::write_partition(&dir, std::slice::from_ref(&batch), &batch.schema(), &[])?;
            staged_partitions.push((dir, warehouse.join(table).join(&part)));
        }
        if let Some(p) = period {
            previous = Some((*p, outcome.accepted.clone()));
            if *p == target {
                target_outcome = Some(outcome);
            }
        }
    }
    // Publish the audited warehouse, partition by partition (each a whole-folder rename).
    for (staged, published) in &staged_partitions {
        store::publish_dir(staged, published)?;
    }

    // Completeness for the target period: every county × form.
    let mut submissions = Vec::new();
    let target_sheets: Vec<&SheetRows> = by_period.get(&Some(target)).map(|v| v.iter().collect()).unwrap_or_default();
    for region in &reference.regions {
        for form in &forms.forms {
            let sent = target_sheets
                .iter()
                .any(|s| s.form == form.code && s.region_code.as_deref() == Some(&region.code) && s.refusal.is_none());
            if !sent {
                summary.missing.push((region.name.clone(), form.code.clone()));
            }
            submissions.push((region.code.clone(), form.code.clone(), sent));
        }
    }

    // County feedback on the target period's findings.
    if let Some(o) = &target_outcome {
        let feedback_input = crate::feedback::FeedbackInput {
            period: target,
            findings: &o.findings,
            sheets: by_period.get(&Some(target)).map(Vec::as_slice).unwrap_or_default(),
            files: &files,
            regions: &reference.regions,
        };
        summary.feedback = crate::feedback::write_feedback(&opts.out, &feedback_input)?;
    }

    // 4. Models for the target period, over the published warehouse.
    let ctx =
        exec::warehouse_session(&warehouse, &forms, &reference.tables, target, exec::submissions_batch(&submissions))
            .await?;
    let runs = exec::execute(&ctx, &model_defs).await;
    let mut outputs: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    for r in &runs {
        summary.models.push((r.name.clone(), r.rows(), r.error.clone()));
        summary.model_tests.extend(r.tests.iter().cloned());
        if let (None, Some(schema)) = (&r.error, &r.schema) {
            let dir = staging.join("warehouse").join(&r.name).join(format!("period={target}"));
            store::write_partition(&dir, &r.batches, schema, &["period"])?;
            store::publish_dir(&dir, &warehouse.join(&r.name).join(format!("period={target}")))?;
            outputs.insert(r.name.clone(), r.batches.clone());
        }
    }

    if let Err(e) = models::docs::write_data_dictionary(&opts.out, &forms, &reference.tables, &model_defs) {
        tracing::error!("the data dictionary could not be written: {e:#}");
    }

    // 5. The bulletin.
    let outcome = target_outcome.as_ref();
    let issued_on = opts.issued_on.unwrap_or_else(|| default_issue_date(target));
    match crate::bulletin::render_markdown(
        &template,
        &crate::bulletin::BulletinInput {
            period: &target.to_string(),
            models: &outputs,
            audit: crate::bulletin::AuditSummary {
                accepted: outcome.map(|o| o.accepted_rows()).unwrap_or(0),
                quarantined: outcome.map(|o| o.quarantined_rows()).unwrap_or(0),
                findings_errors: outcome.map(|o| o.count(Severity::Error)).unwrap_or(0),
                findings_warnings: outcome.map(|o| o.count(Severity::Warning)).unwrap_or(0),
                missing: summary.missing.iter().map(|(r, f)| format!("{r}({f})")).collect(),
            },
            issued_on,
            office: "济宁市统计局".to_string(),
        },
    ) {
        Ok(md) => {
            let path = opts.out.join("bulletins").join(target.to_string()).join("bulletin.md");
            store::write_text(&path, &md)?;
            summary.bulletin = Some(path);
        }
        Err(e) => tracing::error!("the bulletin could not be rendered: {e:#}"),
    }
    if let Some(o) = outcome {
        summary.findings_sample =
            o.findings.iter().filter(|f| f.severity == Severity::Error).take(8).map(|f| f.one_line()).collect();
    }
    std::fs::remove_dir_all(&staging).ok();
    if let Ok(mut rd) = std::fs::read_dir(opts.out.join(".staging"))
        && rd.next().is_none()
    {
        std::fs::remove_dir(opts.out.join(".staging")).ok();
    }
    Ok(summary)
}

/// The 15th of the month after the period: the city's release calendar.
pub fn default_issue_date(p: Period) -> chrono::NaiveDate {
    let (y, m) = if p.month == 12 { (p.year + 1, 1) } else { (p.year, p.month + 1) };
    chrono::NaiveDate::from_ymd_opt(y, m, 15).expect("valid date")
}
