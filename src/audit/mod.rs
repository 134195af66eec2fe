//! Audit (审核): rules from `rules/*.toml` run with DataFusion over one period's rows of every
//! county; error findings quarantine rows, warnings are reported. Every input row ends up
//! accepted or quarantined.

pub mod format;
pub mod rules;
mod together;
pub mod udf;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::findings::{Finding, Location, Severity};
use crate::forms::{FormDef, Forms};
use crate::ingest::rows::{SheetRows, form_schema, parse_row_key};
// Rows in memory are registered as the models register theirs (coalesced, in partitions).
use crate::models::exec::register_mem as register;
use crate::period::Period;
use crate::store::staged::{Kept, ScanRows, StagedSheet};
use rules::{Rule, RuleFile, RuleKind};

/// One rule's tally over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStat {
    pub rule_id: String,
    pub form: String,
    pub severity: Severity,
    /// Rows the rule looked at (row rules); for query rules, the rows of the form.
    pub checked: u64,
    pub failed: u64,
    /// Rows where the rule could not be evaluated (a NULL condition), or all of them when the
    /// rule itself failed to run.
    pub not_evaluable: u64,
    /// Why the rule could not run at all.
    pub error: Option<String>,
}

/// One rule's tally for one county (or, with [`crate::reference::CITY_CODE`], all counties
/// together): the `audit_summary` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyRuleStat {
    pub rule_id: String,
    pub form: String,
    pub severity: Severity,
    pub region_code: String,
    /// Data rows of the form in this county's returns of the period.
    pub checked: u64,
    /// `checked − failed − not_evaluable` (never below 0: a cross-period or 合计 rule may flag
    /// rows that are not among the period's data rows, e.g. last month's enterprise).
    pub passed: u64,
    /// Distinct rows the rule flagged.
    pub failed: u64,
    /// Rows where the condition was NULL; all of them when the rule failed to run.
    pub not_evaluable: u64,
    /// Why the rule could not run at all.
    pub error: Option<String>,
}

/// What the audit of one period produced.
#[derive(Debug, Clone)]
pub struct AuditOutcome {
    pub period: Period,
    /// Accepted rows by warehouse table, one entry per sheet: which of its staged rows are kept
    /// (read back one sheet at a time, see [`Kept::load`]).
    pub accepted: BTreeMap<String, Vec<Kept>>,
    /// Quarantined rows, with their reasons and raw values.
    pub quarantine: RecordBatch,
    pub findings: Vec<Finding>,
    pub stats: Vec<RuleStat>,
    /// Per rule and county: checked, passed, failed, not evaluable (sorted by rule, county; the
    /// all-counties row of each rule carries the city code).
    pub summary: Vec<CountyRuleStat>,
    /// Data rows read, per form.
    pub input_rows: BTreeMap<String, u64>,
}

impl AuditOutcome {
    pub fn accepted_rows(&self) -> u64 {
        self.accepted.values().flatten().map(|k| k.kept as u64).sum()
    }
    /// The accepted rows of each table, read into memory (for small periods and tests; the run
    /// reads them one sheet at a time).
    pub fn accepted_batches(&self) -> Result<BTreeMap<String, Vec<RecordBatch>>> {
        let mut out: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
        for (table, kept) in &self.accepted {
            let batches = out.entry(table.clone()).or_default();
            for k in kept {
                batches.push(k.load()?);
            }
        }
        Ok(out)
    }
    pub fn quarantined_rows(&self) -> u64 {
        self.quarantine.num_rows() as u64
    }
    pub fn count(&self, severity: Severity) -> u64 {
        self.findings.iter().filter(|f| f.severity == severity).count() as u64
    }
    /// Rules that could not be evaluated this period (the period is then a draft).
    pub fn rules_not_evaluated(&self) -> Vec<String> {
        self.stats.iter().filter(|s| s.error.is_some()).map(|s| s.rule_id.clone()).collect()
    }
}

/// What the audit needs besides the rows.
pub struct AuditContext<'a> {
    pub forms: &'a Forms,
    pub rules: &'a [RuleFile],
    /// Accepted rows of the previous period, by table (for cross-period rules).
    pub previous: BTreeMap<String, TableRows>,
    /// Accepted rows of the same period last year, by table (`<table>_last_year`, for the
    /// prior-year check), when that period is in the warehouse.
    pub last_year: BTreeMap<String, TableRows>,
    /// What counts as an explanation in 备注 (`rules/explanations.toml`).
    pub explanations: rules::Explanations,
    /// Column maps of the previous period's sheets, so that a finding on one of last month's
    /// rows (an enterprise gone missing) points at its cell; see [`column_maps`].
    pub previous_column_maps: ColumnMaps,
    /// Reference tables (chains, …) by name.
    pub reference: &'a BTreeMap<String, RecordBatch>,
    /// The one-row `params` table.
    pub params: RecordBatch,
    /// The memory the rules' queries may hold, and where they spill.
    pub query: crate::models::pool::QueryMemory,
}

/// Rows of an earlier period for the cross-period rules: a warehouse partition (its Parquet files,
/// scanned by the query engine), or batches in memory.
#[derive(Debug, Clone)]
pub enum TableRows {
    Parquet(PathBuf),
    Batches(Vec<RecordBatch>),
}

impl TableRows {
    /// Every table of `batches` in memory.
    pub fn in_memory(batches: BTreeMap<String, Vec<RecordBatch>>) -> BTreeMap<String, TableRows> {
        batches.into_iter().map(|(t, b)| (t, TableRows::Batches(b))).collect()
    }
}

/// Column map of each sheet, by (SHA-256, sheet): `credit_code=A; name=B; …`.
pub type ColumnMaps = BTreeMap<(String, String), String>;

/// The column maps of read sheets.
pub fn column_maps<R>(sheets: &[SheetRows<R>]) -> ColumnMaps {
    sheets.iter().map(|s| ((s.sha256.clone(), s.sheet.clone()), s.column_map.clone())).collect()
}

/// The column maps recorded in a published `sources` table (`sha256`, `sheet`, `column_map`).
pub fn column_maps_from_sources(batches: &[RecordBatch]) -> ColumnMaps {
    let mut out = ColumnMaps::new();
    for b in batches {
        let col = |n: &str| {
            b.column_by_name(n)
                .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
                .map(|c| c.as_string::<i32>().clone())
        };
        let (Some(sha), Some(sheet), Some(map)) = (col("sha256"), col("sheet"), col("column_map")) else { continue };
        for i in 0..b.num_rows() {
            if !map.is_null(i) && !map.value(i).is_empty() {
                out.insert((sha.value(i).to_string(), sheet.value(i).to_string()), map.value(i).to_string());
            }
        }
    }
    out
}

/// The accepted rows of one period, by table, in a warehouse (tables without rows left out).
pub fn period_tables(warehouse: &std::path::Path, tables: &[String], period: Period) -> BTreeMap<String, TableRows> {
    let mut out = BTreeMap::new();
    for table in tables {
        let dir = warehouse.join(table).join(format!("period={period}"));
        if crate::store::has_parquet(&dir) {
            out.insert(table.clone(), TableRows::Parquet(dir));
        }
    }
    out
}

/// The accepted rows of the same period last year, by table, from a warehouse (empty when that
/// period is not there, or for the `unknown` period).
pub fn last_year_tables(
    warehouse: &std::path::Path,
    tables: &[String],
    period: Option<Period>,
) -> BTreeMap<String, TableRows> {
    period.map(|p| period_tables(warehouse, tables, p.year_ago())).unwrap_or_default()
}

/// Where a row came from, for findings and quarantine.
#[derive(Clone)]
struct RowOrigin {
    region_code: String,
    form: String,
    location: Location,
}

/// Registers a Parquet file as a table of the given schema (the staged rows of a form:
/// DataFusion scans it, in parallel, with its own memory accounting).
fn register_file(ctx: &SessionContext, name: &str, schema: SchemaRef, file: &std::path::Path) -> Result<()> {
    let url = ListingTableUrl::parse(file.display().to_string())?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Registers an earlier period's rows; none: an empty table of the form's shape.
async fn register_rows(ctx: &SessionContext, name: &str, form: &FormDef, rows: Option<&TableRows>) -> Result<()> {
    match rows {
        Some(TableRows::Parquet(dir)) => {
            ctx.register_parquet(name, format!("{}/", dir.display()), ParquetReadOptions::default())
                .await
                .with_context(|| format!("cannot read {}", dir.display()))?;
            Ok(())
        }
        Some(TableRows::Batches(b)) if !b.is_empty() => register(ctx, name, b[0].schema(), b.clone()),
        _ => register(ctx, name, form_schema(form), vec![]),
    }
}

fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("region_code", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("_row_key", DataType::Utf8, false),
        Field::new("_source_file", DataType::Utf8, false),
        Field::new("_source_sha256", DataType::Utf8, false),
        Field::new("_source_sheet", DataType::Utf8, false),
        Field::new("_source_row", DataType::Int64, false),
        Field::new("rule_ids", DataType::Utf8, false),
        Field::new("messages", DataType::Utf8, false),
        Field::new("row_json", DataType::Utf8, false),
    ]))
}

/// The raw values of one row as a JSON object (field → text), so a quarantined row loses nothing.
fn row_json(batch: &RecordBatch, i: usize) -> String {
    let mut map = serde_json::Map::new();
    for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
        if f.name().starts_with('_') || f.name() == "period" {
            continue;
        }
        let v = if col.is_null(i) {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(arrow::util::display::array_value_to_string(col, i).unwrap_or_default())
        };
        map.insert(f.name().clone(), v);
    }
    serde_json::Value::Object(map).to_string()
}

/// Audits one period. `sheets` are the period's sheets of every county (superseded returns
/// already removed), their data rows staged: the rules' SQL scans each form's rows where the
/// staging has them (held in memory, or its file of the staging folder), and only the rows with
/// findings are read back here, one sheet at a time.
pub async fn audit_period(period: Period, sheets: &[StagedSheet], cx: &AuditContext<'_>) -> Result<AuditOutcome> {
    // The models' session settings: strings read from Parquet stay Utf8, as in the batches.
    let ctx = crate::models::exec::new_session(&cx.query)?;
    ctx.register_udf(udf::gb32100_udf());
    register(&ctx, "params", cx.params.schema(), vec![cx.params.clone()])?;
    for (name, batch) in cx.reference {
        register(&ctx, name, batch.schema(), vec![batch.clone()])?;
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut input_rows = BTreeMap::new();
    // Data rows per form and county, for the per-county summary.
    let mut rows_by_region: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    // A refused sheet (its rows all quarantined) is no return: the rules do not see it (its rows
    // are set aside), so that e.g. a forged sheet listing a neighbour's enterprise cannot
    // trigger JN101-E08 against it.
    for s in sheets.iter().filter(|s| s.refusal.is_none()) {
        let region = s.region_code.clone().unwrap_or_else(|| "unknown".to_string());
        *rows_by_region.entry(s.form.clone()).or_default().entry(region).or_default() += s.rows.rows as u64;
    }
    for form in &cx.forms.forms {
        let schema = form_schema(form);
        let mine: Vec<&StagedSheet> = sheets.iter().filter(|s| s.form == form.code).collect();
        let checked: Vec<&StagedSheet> = mine.iter().copied().filter(|s| s.refusal.is_none()).collect();
        input_rows.insert(form.code.clone(), mine.iter().map(|s| s.rows.rows as u64).sum());
        for s in &mine {
            findings.extend(s.findings.iter().cloned());
        }
        let raw = format!("{}_raw", form.table);
        match crate::store::staged::scan_rows(&checked, &schema)? {
            ScanRows::Empty => register(&ctx, &raw, schema.clone(), vec![])?,
            ScanRows::File(file) => register_file(&ctx, &raw, schema.clone(), &file)?,
            ScanRows::Batches(rows) => register(&ctx, &raw, schema.clone(), rows)?,
        }
        let totals: Vec<RecordBatch> = checked.iter().map(|s| s.totals.clone()).collect();
        register(&ctx, &format!("{}_totals", form.table), schema.clone(), totals)?;
        register_rows(&ctx, &format!("{}_prev", form.table), form, cx.previous.get(&form.table)).await?;
        register_rows(&ctx, &format!("{}_last_year", form.table), form, cx.last_year.get(&form.table)).await?;
    }
    // This period's sheets, and last month's (for findings on last month's rows).
    let mut all_maps = cx.previous_column_maps.clone();
    all_maps.extend(column_maps(sheets));
    let column_maps: HashMap<(String, String), HashMap<String, String>> = all_maps
        .into_iter()
        .map(|(key, map)| {
            let map = map
                .split("; ")
                .filter_map(|p| p.split_once('='))
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .collect();
            (key, map)
        })
        .collect();
    // Where a row of this period came from follows from its key (file, sheet, row) and its sheet.
    let sheet_of: HashMap<(&str, &str), &StagedSheet> = sheets.iter().map(|s| (s.key_prefix(), s)).collect();

    // Error rules first; then `<table>_accepted` (the rows no error rule or sheet refusal
    // quarantined) is registered, so that warning rules can compare with what will be used.
    let mut stats = Vec::new();
    let mut summary = Vec::new();
    // The form's cell-level rule (a required value missing or not a number) is applied at
    // ingest; it is tallied here like any other rule.
    for form in &cx.forms.forms {
        let rule_id = &form.invalid_value_rule;
        if cx.rules.iter().flat_map(|f| &f.rules).any(|r| &r.id == rule_id) {
            continue;
        }
        let new: Vec<&Finding> = findings.iter().filter(|f| &f.rule_id == rule_id).collect();
        let checked = input_rows.get(&form.code).copied().unwrap_or(0);
        let (stat, county) =
            tally(rule_id, &form.code, Severity::Error, &new, &rows_by_region, &BTreeMap::new(), None, false);
        if checked > 0 || stat.failed > 0 {
            stats.push(stat);
            summary.extend(county);
        }
    }
    for pass in [Severity::Error, Severity::Warning] {
        if pass == Severity::Warning {
            let quarantined: BTreeSet<&str> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .filter_map(|f| f.row_key.as_deref())
                .collect();
            let keys: ArrayRef = Arc::new(StringArray::from_iter_values(quarantined));
            let keys = RecordBatch::try_from_iter([("_row_key", keys)])?;
            register(&ctx, "__quarantined", keys.schema(), vec![keys])?;
            for form in &cx.forms.forms {
                let t = &form.table;
                let view = ctx
                    .sql(&format!("SELECT * FROM {t}_raw WHERE _row_key NOT IN (SELECT _row_key FROM __quarantined)"))
                    .await?
                    .into_view();
                ctx.register_table(format!("{t}_accepted"), view)?;
            }
        }
        // Each rule's offending rows, then their findings (a warning's 备注 is read for the rows
        // it flags only).
        let mut to_run = Vec::new();
        for file in cx.rules {
            let Some(form) = cx.forms.get(&file.form) else {
                anyhow::bail!("audit rules name form {} which has no definition in forms/", file.form);
            };
            to_run.extend(file.rules.iter().filter(|r| r.severity == pass).map(|rule| (form, rule)));
        }
        let evaluated = evaluate_all(&ctx, to_run).await;
        let notes = if pass == Severity::Warning {
            let flagged: BTreeSet<&str> = evaluated
                .iter()
                .filter_map(|(_, _, r)| r.as_ref().ok())
                .flat_map(|ev| &ev.hits)
                .filter_map(|b| b.column_by_name("_row_key").and_then(|c| c.as_string_opt::<i32>()))
                .flat_map(|keys| keys.iter().flatten())
                .collect();
            crate::store::staged::notes_of(sheets, &flagged)?
        } else {
            HashMap::new()
        };
        let lookup =
            Lookup { sheets: &sheet_of, notes: &notes, column_maps: &column_maps, explanations: &cx.explanations };
        for (form, rule, result) in evaluated {
            let first_new = findings.len();
            let mut unknown = BTreeMap::new();
            let mut error = None;
            // The rule failed for every row (`true`) or only for some (`false`).
            let mut whole = false;
            match result {
                Ok(ev) => {
                    unknown = ev.unknown;
                    for b in &ev.hits {
                        for i in 0..b.num_rows() {
                            findings.push(make_finding(period, form, rule, b, i, &lookup));
                        }
                    }
                    if let Some(e) = ev.failed_rows {
                        // Still a failure of the audit (the period is a draft), but the
                        // rows it could check are checked.
                        let e = crate::models::pool::explain(e);
                        tracing::error!(rule = %rule.id, source = %rule.source, "audit rule failed on some rows: {e}");
                        error = Some(e);
                    }
                }
                Err(e) => {
                    // A rule that cannot run is a failure of the audit, never a pass.
                    let e = crate::models::pool::explain(format!("{e:#}"));
                    tracing::error!(rule = %rule.id, source = %rule.source, "audit rule failed to run: {e}");
                    error = Some(e);
                    whole = true;
                }
            }
            let new: Vec<&Finding> = findings[first_new..].iter().collect();
            let (stat, county) =
                tally(&rule.id, &form.code, rule.severity, &new, &rows_by_region, &unknown, error, whole);
            stats.push(stat);
            summary.extend(county);
        }
    }
    stats.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    summary.sort_by(|a, b| (&a.rule_id, &a.region_code).cmp(&(&b.rule_id, &b.region_code)));

    // One warning per 合计 cell: where a rule of rules/ (the statisticians' own, e.g. JN101-W07)
    // reports a 合计 row's cell, ingest's generic check of the same cell (INGEST-W03) is dropped.
    let ruled: std::collections::HashSet<(&str, Option<&str>, Option<&str>)> = findings
        .iter()
        .filter(|f| !f.rule_id.starts_with("INGEST-") && f.location.cell.is_some())
        .map(|f| (f.location.sha256.as_str(), f.location.sheet.as_deref(), f.location.cell.as_deref()))
        .collect();
    let duplicate: Vec<bool> = findings
        .iter()
        .map(|f| {
            f.rule_id == crate::ingest::rule::TOTAL_MISMATCH
                && ruled.contains(&(
                    f.location.sha256.as_str(),
                    f.location.sheet.as_deref(),
                    f.location.cell.as_deref(),
                ))
        })
        .collect();
    let mut duplicate = duplicate.into_iter();
    findings.retain(|_| !duplicate.next().unwrap_or(false));

    // Quarantine: rows with an error finding, and every row of a refused sheet. Only the sheets
    // holding such rows are read back.
    let mut reasons: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for f in &findings {
        if f.severity == Severity::Error
            && let Some(k) = &f.row_key
        {
            reasons.entry(k.clone()).or_default().push((f.rule_id.clone(), f.message.clone()));
        }
    }
    let with_reasons: BTreeSet<(&str, &str)> =
        reasons.keys().filter_map(|k| parse_row_key(k)).map(|(sha, sheet, _)| (sha, sheet)).collect();
    let mut accepted: BTreeMap<String, Vec<Kept>> = BTreeMap::new();
    let mut q = QuarantineBuilder::default();
    for s in sheets {
        let form = cx.forms.get(&s.form).expect("sheet of a known form");
        let region = s.region_code.clone().unwrap_or_else(|| "unknown".to_string());
        let id = s.key_prefix();
        let mut kept = Kept { region, rows: s.rows.clone(), mask: None, kept: s.rows.rows };
        if s.refusal.is_some() || with_reasons.contains(&id) {
            let rows = s.rows.load()?;
            let keys = rows.column_by_name("_row_key").expect("provenance").as_string::<i32>().clone();
            let mut keep = Vec::with_capacity(rows.num_rows());
            for i in 0..rows.num_rows() {
                let mut why = reasons.get(keys.value(i)).cloned().unwrap_or_default();
                if let Some((rule, msg)) = &s.refusal {
                    why.insert(0, (rule.clone(), msg.clone()));
                }
                keep.push(why.is_empty());
                if !why.is_empty() {
                    q.push(s, &form.code, &rows, i, &why);
                }
            }
            kept.kept = keep.iter().filter(|k| **k).count();
            kept.mask = Some(BooleanArray::from(keep));
        }
        accepted.entry(form.table.clone()).or_default().push(kept);
    }
    for f in &mut findings {
        if f.period.is_none() {
            f.period = Some(period.to_string());
        }
    }
    // Every field in the order, so that the order of the findings does not depend on the order the
    // query engine's partitions returned the rules' rows in.
    findings.sort_by_cached_key(|f| {
        (
            f.region_code.clone(),
            f.form.clone(),
            f.location.file.clone(),
            f.location.sheet.clone(),
            f.location.row,
            f.rule_id.clone(),
            f.location.cell.clone(),
            f.row_key.clone(),
            f.message.clone(),
            f.observed.clone(),
            (f.location.sha256.clone(), f.severity, f.explained),
        )
    });
    findings.dedup();
    let peak = crate::models::pool::peak(&ctx.runtime_env());
    tracing::debug!(%period, peak_bytes = peak, "the audit's queries: the most their memory pool held at once");
    Ok(AuditOutcome { period, accepted, quarantine: q.finish()?, findings, stats, summary, input_rows })
}

/// A rule's tally over the period and per county, from the findings it produced (`new`), the
/// rows of its form per county, and the rows per county where it could not be evaluated (all of
/// them when the rule failed as a whole, `whole`).
#[allow(clippy::too_many_arguments)]
fn tally(
    rule_id: &str,
    form: &str,
    severity: Severity,
    new: &[&Finding],
    rows_by_region: &BTreeMap<String, BTreeMap<String, u64>>,
    unknown: &BTreeMap<String, u64>,
    error: Option<String>,
    whole: bool,
) -> (RuleStat, Vec<CountyRuleStat>) {
    let no_rows = BTreeMap::new();
    let rows = rows_by_region.get(form).unwrap_or(&no_rows);
    let mut failed: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for f in new {
        let region = f.region_code.clone().unwrap_or_else(|| "unknown".to_string());
        let key = f.row_key.clone().unwrap_or_else(|| format!("{}:{:?}", f.location.sha256, f.location.row));
        failed.entry(region).or_default().insert(key);
    }
    let mut regions: std::collections::BTreeSet<&String> = rows.keys().collect();
    regions.extend(failed.keys());
    regions.extend(unknown.keys());
    let row = |region: &str, checked: u64, failed: u64, unknown: u64| {
        let not_evaluable = if whole { checked } else { unknown };
        CountyRuleStat {
            rule_id: rule_id.to_string(),
            form: form.to_string(),
            severity,
            region_code: region.to_string(),
            checked,
            passed: checked.saturating_sub(failed + not_evaluable),
            failed,
            not_evaluable,
            error: error.clone(),
        }
    };
    let mut county: Vec<CountyRuleStat> = regions
        .into_iter()
        .map(|r| {
            let checked = rows.get(r).copied().unwrap_or(0);
            let n_failed = failed.get(r).map(|k| k.len() as u64).unwrap_or(0);
            row(r, checked, n_failed, unknown.get(r).copied().unwrap_or(0))
        })
        .collect();
    let all = row(
        crate::reference::CITY_CODE,
        county.iter().map(|c| c.checked).sum(),
        county.iter().map(|c| c.failed).sum(),
        unknown.values().sum(),
    );
    let stat = RuleStat {
        rule_id: rule_id.to_string(),
        form: form.to_string(),
        severity,
        checked: all.checked,
        failed: all.failed,
        not_evaluable: all.not_evaluable,
        error: error.clone(),
    };
    county.push(all);
    (stat, county)
}

/// The `audit_summary` table: per rule and county, rows checked, passed, failed and not
/// evaluable (partitioned by period on disk).
pub fn summary_batch(outcome: &AuditOutcome) -> RecordBatch {
    let st = &outcome.summary;
    let schema = Arc::new(Schema::new(vec![
        Field::new("rule_id", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("region_code", DataType::Utf8, false),
        Field::new("checked", DataType::Int64, false),
        Field::new("passed", DataType::Int64, false),
        Field::new("failed", DataType::Int64, false),
        Field::new("not_evaluable", DataType::Int64, false),
        Field::new("error", DataType::Utf8, true),
    ]));
    let text = |f: &dyn Fn(&CountyRuleStat) -> String| -> ArrayRef {
        Arc::new(StringArray::from(st.iter().map(f).collect::<Vec<_>>()))
    };
    let int = |f: &dyn Fn(&CountyRuleStat) -> u64| -> ArrayRef {
        Arc::new(Int64Array::from(st.iter().map(|s| f(s) as i64).collect::<Vec<_>>()))
    };
    RecordBatch::try_new(
        schema,
        vec![
            text(&|s| s.rule_id.clone()),
            text(&|s| s.form.clone()),
            text(&|s| s.severity.as_str().to_string()),
            text(&|s| s.region_code.clone()),
            int(&|s| s.checked),
            int(&|s| s.passed),
            int(&|s| s.failed),
            int(&|s| s.not_evaluable),
            Arc::new(StringArray::from(st.iter().map(|s| s.error.clone()).collect::<Vec<_>>())),
        ],
    )
    .expect("audit summary schema")
}

/// What running one rule gave.
struct Evaluated {
    /// The offending rows, with the message's values.
    hits: Vec<RecordBatch>,
    /// Per county, rows where the rule's condition was NULL or failed.
    unknown: BTreeMap<String, u64>,
    /// When a row rule failed on some rows only: which, and why (the other rows were checked).
    failed_rows: Option<String>,
}

/// Most queries spent finding the rows a failing row rule cannot be computed on.
const BISECT_BUDGET: usize = 256;

/// The rules evaluated a few at a time, each query on a task of its own: a query's planning
/// runs on the task that asks for it, and a small period's rules are mostly planning (a city
/// month: 31 queries of ~10 ms on a few thousand rows), so one after another they used one core.
/// A form's row rules are one task and, first, one query ([`together`]); query rules one task
/// each. The results come in the rules' order, whatever order they finish in.
async fn evaluate_all<'a>(
    ctx: &SessionContext,
    rules: Vec<(&'a FormDef, &'a Rule)>,
) -> Vec<(&'a FormDef, &'a Rule, Result<Evaluated>)> {
    use futures::StreamExt;
    // As many as the runtime has workers (the run's `--threads`), four at most.
    let at_once = tokio::runtime::Handle::current().metrics().num_workers().clamp(1, 4);
    // Jobs: the numbers of the rules each evaluates, a form's row rules together, where the
    // first of them is.
    let mut jobs: Vec<Vec<usize>> = Vec::new();
    let mut rows_job: HashMap<&str, usize> = HashMap::new();
    for (i, (form, rule)) in rules.iter().enumerate() {
        if rule.kind != RuleKind::Row {
            jobs.push(vec![i]);
            continue;
        }
        match rows_job.get(form.code.as_str()) {
            Some(j) => jobs[*j].push(i),
            None => {
                rows_job.insert(form.code.as_str(), jobs.len());
                jobs.push(vec![i]);
            }
        }
    }
    let tasks = jobs.into_iter().map(|job| {
        let ctx = ctx.clone();
        let job: Vec<(usize, FormDef, Rule)> =
            job.into_iter().map(|i| (i, rules[i].0.clone(), rules[i].1.clone())).collect();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            if let [(_, form, first), ..] = job.as_slice()
                && first.kind == RuleKind::Row
            {
                let own: Vec<&Rule> = job.iter().map(|(_, _, r)| r).collect();
                let table = format!("{}_raw", form.table);
                // A panic in the pass (caught here) is treated as its failure: the rules are
                // then run one by one, each panic the failure of its own rule.
                let pass = std::panic::AssertUnwindSafe(together::evaluate(&ctx, &own, &table));
                match futures::FutureExt::catch_unwind(pass).await.unwrap_or_else(|_| Err(anyhow::anyhow!("panicked")))
                {
                    Ok(evaluated) => {
                        // Where the audit's time goes (`RUST_LOG=gongbao=debug`).
                        tracing::debug!(form = %form.code, rules = own.len(),
                            seconds = started.elapsed().as_secs_f64(), "audit row rules evaluated together");
                        return job.iter().map(|(i, ..)| *i).zip(evaluated.into_iter().map(Ok)).collect();
                    }
                    Err(e) => tracing::debug!(form = %form.code, "audit row rules run one by one: {e:#}"),
                }
            }
            // Each rule on a task of its own, all at once, as before there was a pass together
            // (its fallback is no slower). A panic in a query is the failure of its rule
            // (reported as one), not of the run or of the other rules.
            let tasks: Vec<_> = job
                .into_iter()
                .map(|(i, form, rule)| {
                    let ctx = ctx.clone();
                    let task = tokio::spawn(async move {
                        let started = std::time::Instant::now();
                        let result = evaluate(&ctx, &form, &rule, i).await;
                        // Where the audit's time goes, rule by rule (`RUST_LOG=gongbao=debug`).
                        tracing::debug!(rule = %rule.id, seconds = started.elapsed().as_secs_f64(), "audit rule evaluated");
                        result
                    });
                    (i, task)
                })
                .collect();
            let mut out = Vec::with_capacity(tasks.len());
            for (i, task) in tasks {
                let result = task.await.unwrap_or_else(|e| Err(anyhow::anyhow!("the rule's query panicked: {e}")));
                out.push((i, result));
            }
            out
        })
    });
    let mut results: Vec<Option<Result<Evaluated>>> = (0..rules.len()).map(|_| None).collect();
    let finished: Vec<_> = futures::stream::iter(tasks).buffered(at_once).collect().await;
    for joined in finished {
        // A job's task catches the panics of its queries; should it fail all the same, its
        // rules are reported as failed below, never passed.
        match joined {
            Ok(done) => {
                for (i, result) in done {
                    results[i] = Some(result);
                }
            }
            Err(e) => tracing::error!("audit rules' task failed: {e}"),
        }
    }
    rules
        .into_iter()
        .zip(results)
        .map(|((form, rule), result)| {
            let result = result.unwrap_or_else(|| Err(anyhow::anyhow!("the rule's query panicked")));
            (form, rule, result)
        })
        .collect()
}

/// Runs one rule. A row rule that fails at execution (a value its SQL cannot handle, e.g. a
/// CAST of a code with a letter) is run again on halves of the rows, down to the rows it fails
/// on, so that one county's bad value does not switch the rule off for every county: those rows
/// count as not evaluable and the rule as failed. `n` numbers the rule among those evaluated at
/// once (its table of rows narrowed down by bisection is named after it).
async fn evaluate(ctx: &SessionContext, form: &FormDef, rule: &Rule, n: usize) -> Result<Evaluated> {
    let sql = match rule.kind {
        RuleKind::Query => {
            let sql = rule.sql.as_deref().expect("validated");
            let hits = ctx
                .sql(sql)
                .await
                .with_context(|| format!("{} rule {}: the query is not valid", rule.source, rule.id))?
                .collect()
                .await?;
            if let Some(b) = hits.first()
                && b.column_by_name("_row_key").is_none()
            {
                anyhow::bail!("{} rule {}: the query must return a `_row_key` column", rule.source, rule.id);
            }
            return Ok(Evaluated { hits, unknown: BTreeMap::new(), failed_rows: None });
        }
        RuleKind::Row => RowSql::new(rule),
    };
    let raw = format!("{}_raw", form.table);
    let first = match sql.run(ctx, rule, &raw).await {
        Ok((hits, unknown)) => return Ok(Evaluated { hits, unknown, failed_rows: None }),
        Err(e) => e,
    };
    // A condition that is not valid SQL fails on no rows as well: nothing to narrow down.
    let rows = ctx.table(raw.as_str()).await?.collect().await?;
    let schema = ctx.table(raw.as_str()).await?.schema().inner().clone();
    let rows = arrow::compute::concat_batches(&schema, &rows)?;
    // In the order of their keys: the engine gives its partitions' rows in any order, and the
    // rows found, and the one a failure is shown with, must not depend on it.
    let rows = match rows.column_by_name("_row_key") {
        Some(keys) => arrow::compute::take_record_batch(&rows, &arrow::compute::sort_to_indices(keys, None, None)?)?,
        None => rows,
    };
    let subset = format!("__rule_rows_{n}");
    let run_on = |batch: RecordBatch| {
        let (sql, subset) = (&sql, subset.as_str());
        let schema = schema.clone();
        async move {
            ctx.deregister_table(subset)?;
            register(ctx, subset, schema, vec![batch])?;
            sql.run(ctx, rule, subset).await
        }
    };
    // (Its last slice shares the form's rows: deregistered before returning, not left in the
    // context for the rest of the audit.)
    if run_on(rows.slice(0, 0)).await.is_err() {
        ctx.deregister_table(subset.as_str())?;
        return Err(first);
    }
    let mut hits = Vec::new();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed: Vec<(usize, String)> = Vec::new();
    let mut todo = vec![(0, rows.num_rows())];
    let mut budget = BISECT_BUDGET;
    while let Some((offset, len)) = todo.pop() {
        if len == 0 {
            continue;
        }
        let result = if budget > 0 {
            budget -= 1;
            run_on(rows.slice(offset, len)).await
        } else {
            Err(anyhow::anyhow!("not narrowed down (too many failing rows)"))
        };
        match result {
            Ok((h, u)) => {
                hits.extend(h);
                for (region, n) in u {
                    *unknown.entry(region).or_default() += n;
                }
            }
            Err(e) if len == 1 || budget == 0 => failed.extend((offset..offset + len).map(|i| (i, format!("{e:#}")))),
            Err(_) => {
                todo.push((offset + len / 2, len - len / 2));
                todo.push((offset, len / 2));
            }
        }
    }
    ctx.deregister_table(subset.as_str())?;
    if failed.is_empty() {
        // It failed on the whole and on no part: report the first failure as it was.
        return Err(first);
    }
    let text = |name: &str, i: usize| {
        rows.column_by_name(name).filter(|c| !c.is_null(i)).map(|c| format::cell(c, i)).unwrap_or_default()
    };
    for (i, _) in &failed {
        *unknown.entry(text("region_code", *i)).or_default() += 1;
    }
    let (i, why) = &failed[0];
    let failed_rows = format!(
        "{} rule {}: cannot be computed on {} row(s), e.g. {} row {}: {why}; the other rows were checked",
        rule.source,
        rule.id,
        failed.len(),
        text("_source_file", *i),
        text("_source_row", *i),
    );
    Ok(Evaluated { hits, unknown, failed_rows: Some(failed_rows) })
}

/// The queries of a row rule, over a table of the form's rows.
struct RowSql {
    /// What each offending row is returned with: its key, the field to highlight, the
    /// message's values (the query's select list, in order).
    columns: Vec<RowColumn>,
    when: String,
}

/// A column of a row rule's offending rows: a SQL expression and the name it is read by.
struct RowColumn {
    expr: String,
    name: String,
    /// Written `expr AS "name"` in the select list (else `expr`, which names itself).
    aliased: bool,
}

impl RowColumn {
    fn select_item(&self) -> String {
        match self.aliased {
            true => format!("{} AS \"{}\"", self.expr, self.name),
            false => self.expr.clone(),
        }
    }
}

impl RowSql {
    fn new(rule: &Rule) -> RowSql {
        let when = rule.when.clone().expect("validated");
        let column = |expr: String, name: &str, aliased: bool| RowColumn { expr, name: name.to_string(), aliased };
        let mut columns = vec![column("_row_key".into(), "_row_key", false)];
        if let Some(cell) = &rule.cell {
            columns.push(column(format!("({cell})"), "_field", true));
        }
        for name in rule.placeholders().into_iter().chain(rule.fields.iter().cloned()) {
            let c = match rule.values.get(&name) {
                Some(e) => column(format!("({e})"), &name, true),
                None => column(format!("\"{name}\""), &name, false),
            };
            if !columns.iter().any(|d| d.select_item() == c.select_item()) {
                columns.push(c);
            }
        }
        RowSql { columns, when }
    }

    /// The rows a rule sees: the form's rows of `table`, with the period's year and month.
    fn source(table: &str) -> String {
        format!("(SELECT t.*, p.year AS report_year, p.month AS report_month FROM {table} t CROSS JOIN params p) r")
    }

    /// The offending rows of `table` and, per county, the rows where the condition is NULL.
    async fn run(
        &self,
        ctx: &SessionContext,
        rule: &Rule,
        table: &str,
    ) -> Result<(Vec<RecordBatch>, BTreeMap<String, u64>)> {
        let source = RowSql::source(table);
        let when = &self.when;
        let select: Vec<String> = self.columns.iter().map(RowColumn::select_item).collect();
        let sql = format!("SELECT {} FROM {source} WHERE ({when}) ORDER BY _row_key", select.join(", "));
        let hits = ctx
            .sql(&sql)
            .await
            .with_context(|| format!("{} rule {}: the condition is not valid SQL", rule.source, rule.id))?
            .collect()
            .await?;
        let count_sql =
            format!("SELECT region_code, COUNT(*) AS n FROM {source} WHERE ({when}) IS NULL GROUP BY region_code");
        let counts = ctx.sql(&count_sql).await?.collect().await?;
        let mut unknown = BTreeMap::new();
        for b in &counts {
            let regions = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let regions = regions.as_string::<i32>();
            let n = arrow::compute::cast(b.column(1), &DataType::Int64)?;
            let n = n.as_any().downcast_ref::<Int64Array>().expect("Int64");
            for i in 0..b.num_rows() {
                *unknown.entry(regions.value(i).to_string()).or_insert(0) += n.value(i) as u64;
            }
        }
        Ok((hits, unknown))
    }
}

/// What a finding is completed with: the period's sheets (where each row came from), the 备注
/// of the rows warnings flag, the sheets' column maps, and what counts as an explanation.
struct Lookup<'a> {
    /// By the SHA-256 prefix and sheet of a [`crate::ingest::rows::row_key`].
    sheets: &'a HashMap<(&'a str, &'a str), &'a StagedSheet>,
    notes: &'a HashMap<String, String>,
    column_maps: &'a HashMap<(String, String), HashMap<String, String>>,
    explanations: &'a rules::Explanations,
}

impl Lookup<'_> {
    /// Where a row of this period's returns came from, from its key.
    fn origin(&self, key: &str) -> Option<RowOrigin> {
        let (sha, sheet, row) = parse_row_key(key)?;
        let s = self.sheets.get(&(sha, sheet))?;
        Some(RowOrigin {
            region_code: s.region_code.clone().unwrap_or_else(|| "unknown".to_string()),
            form: s.form.clone(),
            location: Location {
                file: s.file.clone(),
                sha256: s.sha256.clone(),
                sheet: Some(s.sheet.clone()),
                row: Some(row),
                cell: None,
            },
        })
    }
}

fn make_finding(
    period: Period,
    form: &FormDef,
    rule: &Rule,
    batch: &RecordBatch,
    i: usize,
    lookup: &Lookup,
) -> Finding {
    let get = |name: &str| -> Option<&ArrayRef> { batch.column_by_name(name) };
    let text = |name: &str| get(name).filter(|a| !a.is_null(i)).map(|a| format::cell(a, i));
    let key = text("_row_key").unwrap_or_default();
    let mut message = rule.message.clone();
    let mut observed = Vec::new();
    for name in rule.placeholders() {
        let v = text(&name).unwrap_or_else(|| "空".to_string());
        message = message.replace(&format!("{{{name}}}"), &v);
        observed.push(format!("{name}={v}"));
    }
    // A row from this period's returns, or one the query describes itself (e.g. last month's).
    let origin = lookup.origin(&key).unwrap_or_else(|| RowOrigin {
        region_code: text("region_code").unwrap_or_default(),
        form: form.code.clone(),
        location: Location {
            file: text("_source_file").unwrap_or_default(),
            sha256: text("_source_sha256").unwrap_or_default(),
            sheet: text("_source_sheet"),
            row: get("_source_row")
                .and_then(|a| a.as_any().downcast_ref::<Int64Array>())
                .filter(|a| !a.is_null(i))
                .map(|a| a.value(i) as u32),
            cell: None,
        },
    });
    let mut location = origin.location.clone();
    // The highlighted cell: the field the rule names for this row, else its first field.
    let field = text("_field").or_else(|| rule.fields.first().cloned());
    if let (Some(field), Some(sheet), Some(row)) = (field.as_ref(), &location.sheet, location.row)
        && let Some(col) = lookup.column_maps.get(&(location.sha256.clone(), sheet.clone())).and_then(|m| m.get(field))
    {
        location.cell = Some(format!("{col}{row}"));
    }
    // Only a substantive 备注 explains a warning ("无", "/", "正常" do not).
    let explained = rule.severity == Severity::Warning
        && lookup.notes.get(&key).is_some_and(|n| lookup.explanations.is_substantive(n));
    Finding {
        period: Some(period.to_string()),
        region_code: Some(origin.region_code),
        form: Some(origin.form),
        location,
        row_key: Some(key),
        rule_id: rule.id.clone(),
        severity: rule.severity,
        observed: observed.join("; "),
        message,
        explained,
    }
}

#[derive(Default)]
struct QuarantineBuilder {
    region: Vec<String>,
    form: Vec<String>,
    key: Vec<String>,
    file: Vec<String>,
    sha: Vec<String>,
    sheet: Vec<String>,
    row: Vec<i64>,
    rules: Vec<String>,
    messages: Vec<String>,
    json: Vec<String>,
}

impl QuarantineBuilder {
    fn push<R>(&mut self, s: &SheetRows<R>, form: &str, batch: &RecordBatch, i: usize, why: &[(String, String)]) {
        let col = |n: &str| batch.column_by_name(n).expect("provenance").as_string::<i32>().value(i).to_string();
        self.region.push(col("region_code"));
        self.form.push(form.to_string());
        self.key.push(col("_row_key"));
        self.file.push(s.file.clone());
        self.sha.push(s.sha256.clone());
        self.sheet.push(s.sheet.clone());
        let rows = batch.column_by_name("_source_row").expect("provenance");
        self.row.push(rows.as_any().downcast_ref::<Int64Array>().expect("Int64").value(i));
        let mut ids: Vec<&str> = why.iter().map(|(r, _)| r.as_str()).collect();
        ids.dedup();
        self.rules.push(ids.join(","));
        self.messages.push(why.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(";"));
        self.json.push(row_json(batch, i));
    }

    fn finish(self) -> Result<RecordBatch> {
        let s = |v: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        Ok(RecordBatch::try_new(
            quarantine_schema(),
            vec![
                s(self.region),
                s(self.form),
                s(self.key),
                s(self.file),
                s(self.sha),
                s(self.sheet),
                Arc::new(Int64Array::from(self.row)),
                s(self.rules),
                s(self.messages),
                s(self.json),
            ],
        )?)
    }
}
