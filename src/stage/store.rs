//! Stage 3, store: the period's accepted rows (partitioned by county), quarantine, findings,
//! sources and audit summary as Parquet in the publication being built, and the versions of
//! each county's return it used in the history of submissions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rayon::prelude::*;

use crate::audit::{self, AuditOutcome};
use crate::findings::Finding;
use crate::project::Project;
use crate::stage::plan::PlannedPeriod;
use crate::stage::publish::Publication;
use crate::stage::read::PeriodReturns;
use crate::store;
use crate::store::staged::{Accepted, AcceptedRows, StagedSheet};
use crate::summary::Superseded;

/// Stages every table of the period, then moves the partitions into the publication being built
/// (invisible to readers until it is published). The period's accepted rows of each form go to
/// one file first (the models read it), or stay in memory where the form's sheets are held there
/// ([`crate::store::staged::Staging`]'s budget: writing them to read them back cost a province's
/// run a twentieth of a second on its critical path); their partitions by county are written from
/// them in the background ([`Partitions`]), while the models and disclosure control run.
pub fn store(
    project: &Project,
    planned: &PlannedPeriod,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
    publication: &mut Publication,
    seen: &crate::incremental::FirstSeen,
) -> Result<Partitions> {
    let warehouse = publication.warehouse();
    let staging = publication.staging.join("warehouse");
    let part = format!("period={}", planned.name);
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut forms = Vec::new();
    if planned.period.is_some() {
        for form in &project.forms.forms {
            // By county: its sheets' accepted rows are read back from the staging.
            let mut by_region: BTreeMap<&str, Vec<&crate::store::staged::Kept>> = BTreeMap::new();
            for k in outcome.accepted.get(&form.table).into_iter().flatten().filter(|k| k.kept > 0) {
                by_region.entry(k.region.as_str()).or_default().push(k);
            }
            let schema = crate::ingest::rows::form_schema(form);
            let held = by_region.values().flatten().all(|k| k.rows.is_held());
            let mut accepted = if held {
                AcceptedRows::held(&schema, &planned.name)
            } else {
                AcceptedRows::create(&returns.staging.accepted_file(&form.table), &schema, &planned.name)?
            };
            // Counties a chunk at a time: a chunk's rows are read back in parallel while the
            // previous chunk's are appended, in county order. Memory holds two chunks' rows,
            // never the period's.
            let regions: Vec<(&str, Vec<&crate::store::staged::Kept>)> = by_region.into_iter().collect();
            let mut loaded: Vec<(&str, Vec<RecordBatch>)> = Vec::new();
            for chunk in regions.chunks(STORE_CHUNK) {
                let (appended, read) = rayon::join(
                    || append(&mut accepted, std::mem::take(&mut loaded)),
                    || {
                        chunk
                            .par_iter()
                            .map(|(region, kept)| Ok((*region, kept.iter().map(|k| k.load()).collect::<Result<_>>()?)))
                            .collect::<Result<Vec<_>>>()
                    },
                );
                appended?;
                loaded = read?;
            }
            append(&mut accepted, loaded)?;
            let accepted = accepted.close()?;
            let dir = staging.join(&form.table).join(&part);
            let to = warehouse.join(&form.table).join(&part);
            forms.push(FormPartitions { table: form.table.clone(), accepted, dir, to });
        }
        // The audit and this stage were the staged files' readers; the feedback reads a few
        // sheets' notes later and parses a footer again if it needs one.
        for sheet in &returns.sheets {
            sheet.rows.forget_footer();
        }
    }
    let partitions = Partitions::start(forms)?;
    for (table, batch) in [
        ("quarantine", outcome.quarantine.clone()),
        ("findings", findings_batch(planned.build_id(), &outcome.findings)),
        ("sources", sources_batch(&returns.sheets, &returns.superseded, &planned.name)),
        ("audit_summary", audit::summary_batch(outcome)),
    ] {
        let dir = staging.join(table).join(&part);
        store::write_partition(&dir, std::slice::from_ref(&batch), &batch.schema(), &[])?;
        staged.push((dir, warehouse.join(table).join(&part)));
    }
    for (from, to) in &staged {
        store::publish_dir(from, to)?;
    }
    tracing::info!(period = %planned.name, tables = staged.len() + partitions.forms(), "stored");
    if planned.period.is_some() {
        crate::incremental::record_submissions(
            &mut publication.history,
            &planned.name,
            &versions_used(planned, returns),
            |file, sha256| seen.recorded(file, sha256),
        );
    }
    Ok(partitions)
}

/// Counties whose rows are read back at once.
const STORE_CHUNK: usize = 32;

/// One form's partitions: written from its accepted rows into `dir`, then moved to `to`.
struct FormPartitions {
    table: String,
    accepted: Accepted,
    dir: PathBuf,
    to: PathBuf,
}

/// The partitions by county of the period's accepted rows (`warehouse/<table>/period=…/region=…`,
/// 11,200 files at national scale), written on a thread of their own from the files the models
/// read, so that they take the cores the models and disclosure control leave idle. [`wait`]
/// (before the period's staging folder is removed) moves them into the publication. The models
/// see the period's rows in `<table>_all` all the same: from the file of accepted rows (see
/// [`crate::models::exec::warehouse_session`]).
///
/// [`wait`]: Partitions::wait
#[must_use = "the partitions are moved into the publication by `wait`"]
pub struct Partitions {
    writing: Option<std::thread::JoinHandle<Result<()>>>,
    forms: Vec<FormPartitions>,
}

impl Partitions {
    fn start(forms: Vec<FormPartitions>) -> Result<Partitions> {
        let jobs: Vec<(Accepted, PathBuf)> = forms.iter().map(|f| (f.accepted.clone(), f.dir.clone())).collect();
        let writing = std::thread::Builder::new()
            .name("gongbao-partitions".into())
            .spawn(move || jobs.iter().try_for_each(|(accepted, dir)| write_partitions(accepted, dir, 64 * 1024)))?;
        Ok(Partitions { writing: Some(writing), forms })
    }

    fn forms(&self) -> usize {
        self.forms.len()
    }

    /// Where the period's accepted rows of a form (`table`) are, for the models: none for the
    /// `unknown` period, which has no partitions.
    pub fn accepted(&self, table: &str) -> Option<&Accepted> {
        self.forms.iter().find(|f| f.table == table).map(|f| &f.accepted)
    }

    /// Waits for the partitions, then moves them into the publication being built.
    pub fn wait(mut self) -> Result<()> {
        if let Some(writing) = self.writing.take() {
            writing.join().unwrap_or_else(|_| Err(anyhow::anyhow!("writing the period's partitions panicked")))?;
        }
        for f in &self.forms {
            store::publish_dir(&f.dir, &f.to)?;
        }
        Ok(())
    }
}

impl Drop for Partitions {
    /// A period that fails before [`Partitions::wait`] still waits for its thread, so that nothing
    /// writes into a staging folder after the run has moved on.
    fn drop(&mut self) {
        if let Some(writing) = self.writing.take() {
            let _ = writing.join();
        }
    }
}

/// Writes a form's partitions by county (`dir/region=<region>/part-0.parquet`, the form's columns
/// less `period`) from its accepted rows, in which each county's rows are together
/// ([`AcceptedRows`], columns `period` and `region` last): from their file, read `batch_rows`
/// rows at a time, or as they are held in memory.
fn write_partitions(accepted: &Accepted, dir: &std::path::Path, batch_rows: usize) -> Result<()> {
    use arrow::array::RecordBatchReader;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    match accepted {
        Accepted::File(file) => {
            let open = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(open)?.with_batch_size(batch_rows).build()?;
            let schema = reader.schema();
            let batches = reader.map(|b| b.with_context(|| format!("cannot read {}", file.display())));
            partitions_of(&file.display().to_string(), &schema, batches, dir)
        }
        Accepted::Held(schema, batches) => {
            partitions_of("the accepted rows held in memory", schema, batches.iter().cloned().map(Ok), dir)
        }
    }
}

/// [`write_partitions`] of the accepted rows `batches` (`what`, for errors).
fn partitions_of(
    what: &str,
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch>>,
    dir: &std::path::Path,
) -> Result<()> {
    use arrow::array::AsArray;
    let width = schema.fields().len();
    anyhow::ensure!(
        width >= 2 && schema.field(width - 2).name() == "period" && schema.field(width - 1).name() == "region",
        "{what} do not end with the columns period and region",
    );
    let columns: Vec<usize> = (0..width - 2).collect();
    let out_schema = Arc::new(schema.project(&columns)?);
    let mut county: Option<(String, Vec<RecordBatch>)> = None;
    let write = |(region, batches): (String, Vec<RecordBatch>)| {
        store::write_partition(&dir.join(format!("region={region}")), &batches, &out_schema, &[])
    };
    for batch in batches {
        let batch = batch?;
        let regions = batch
            .column(width - 1)
            .as_string_opt::<i32>()
            .with_context(|| format!("{what}: the column region is not text"))?;
        let mut start = 0;
        while start < batch.num_rows() {
            let region = regions.value(start);
            let end = (start..batch.num_rows()).find(|i| regions.value(*i) != region).unwrap_or(batch.num_rows());
            let rows = batch.slice(start, end - start).project(&columns)?;
            match &mut county {
                Some((r, batches)) if r == region => batches.push(rows),
                _ => {
                    if let Some(done) = county.replace((region.to_string(), vec![rows])) {
                        write(done)?;
                    }
                }
            }
            start = end;
        }
    }
    if let Some(done) = county {
        write(done)?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(())
}

/// Appends counties' accepted rows, in order.
fn append(accepted: &mut AcceptedRows, counties: Vec<(&str, Vec<RecordBatch>)>) -> Result<()> {
    for (region, batches) in counties {
        for b in &batches {
            accepted.write(region, b)?;
        }
    }
    Ok(())
}

/// The versions of each county's return the period now uses: (region, form, file, sha256,
/// status), status `current`, `refused` or `superseded`.
fn versions_used(planned: &PlannedPeriod, returns: &PeriodReturns) -> Vec<(String, String, String, String, String)> {
    let mut used: Vec<(String, String, String, String, String)> = returns
        .sheets
        .iter()
        .filter_map(|s| {
            let status = if s.refusal.is_some() { "refused" } else { "current" };
            Some((s.region_code.clone()?, s.form.clone(), s.file.clone(), s.sha256.clone(), status.to_string()))
        })
        .collect();
    for sup in returns.superseded.iter().filter(|s| s.period == planned.name) {
        if let Some(f) = returns.files.iter().find(|f| f.file == sup.file) {
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
    used
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
fn sources_batch(sheets: &[StagedSheet], superseded: &[Superseded], period: &str) -> RecordBatch {
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
        rows.push(s.rows.rows as i64);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each county's partition holds exactly its rows of the accepted rows, in order, whether they
    /// came in one batch or across several, and is the file `write_partition` writes from those
    /// rows (byte for byte): from the file of accepted rows, and from the same rows held in memory.
    #[test]
    fn partitions_written_from_the_accepted_rows_are_each_countys_rows() {
        let forms = crate::forms::Forms::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).unwrap();
        let form = forms.get("JN104").unwrap();
        let schema = crate::ingest::rows::form_schema(form);
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("accepted.parquet");
        let mut accepted = AcceptedRows::create(&file, &schema, "2025-09").unwrap();
        let mut held = AcceptedRows::held(&schema, "2025-09");
        // Counties of 0..40 rows, one written in two pieces.
        let rows_of = |region: &str, n: usize| -> RecordBatch {
            let columns: Vec<ArrayRef> = schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Utf8 => {
                        Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("{region}-{}-{i}", f.name()))))
                            as ArrayRef
                    }
                    DataType::Int64 => Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
                    other => arrow::array::new_null_array(other, n),
                })
                .collect();
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };
        let counties = [("370811", 7), ("370812", 0), ("370826", 40), ("370827", 1), ("370828", 23)];
        for (region, n) in counties {
            let rows = rows_of(region, n);
            for accepted in [&mut accepted, &mut held] {
                if n > 20 {
                    accepted.write(region, &rows.slice(0, 20)).unwrap();
                    accepted.write(region, &rows.slice(20, n - 20)).unwrap();
                } else {
                    accepted.write(region, &rows).unwrap();
                }
            }
        }
        let in_file = accepted.close().unwrap();
        assert!(matches!(&in_file, Accepted::File(f) if *f == file));
        let held = held.close().unwrap();
        assert!(matches!(&held, Accepted::Held(..)));
        // Batch sizes apply to the file's reader; the rows held are read as they were written.
        for (batch_rows, accepted) in [(1, &in_file), (6, &in_file), (17, &in_file), (1024, &in_file), (0, &held)] {
            let dir = tmp.path().join(format!("out-{batch_rows}"));
            write_partitions(accepted, &dir, batch_rows).unwrap();
            for (region, n) in counties {
                let part = dir.join(format!("region={region}")).join("part-0.parquet");
                if n == 0 {
                    assert!(!part.exists(), "{region}: a partition without rows");
                    continue;
                }
                let read = store::read_dir_batches(part.parent().unwrap()).unwrap();
                let read = arrow::compute::concat_batches(&read[0].schema(), &read).unwrap();
                let want = store::drop_columns(&rows_of(region, n), &["period"]).unwrap();
                assert_eq!(read, want, "{region}, batches of {batch_rows}");
                let direct = tmp.path().join(format!("direct-{batch_rows}-{region}"));
                store::write_partition(&direct, &[rows_of(region, n)], &schema, &["period"]).unwrap();
                let bytes = |p: &std::path::Path| std::fs::read(p).unwrap();
                assert_eq!(bytes(&part), bytes(&direct.join("part-0.parquet")), "{region}, batches of {batch_rows}");
            }
        }
    }
}
