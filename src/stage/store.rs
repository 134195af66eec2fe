//! Stage 3, store: the period's accepted rows (partitioned by county), quarantine, findings,
//! sources and audit summary as Parquet in the publication being built, and the versions of
//! each county's return it used in the history of submissions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
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
use crate::store::staged::{AcceptedRows, StagedSheet};
use crate::summary::Superseded;

/// Stages every table of the period, then moves the partitions into the publication being built
/// (invisible to readers until it is published).
pub fn store(
    project: &Project,
    planned: &PlannedPeriod,
    returns: &PeriodReturns,
    outcome: &AuditOutcome,
    publication: &mut Publication,
    seen: &crate::incremental::FirstSeen,
) -> Result<()> {
    let warehouse = publication.warehouse();
    let staging = publication.staging.join("warehouse");
    let part = format!("period={}", planned.name);
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    if planned.period.is_some() {
        for form in &project.forms.forms {
            let dir = staging.join(&form.table).join(&part);
            // One county at a time: its sheets' accepted rows are read back from the staging.
            let mut by_region: BTreeMap<&str, Vec<&crate::store::staged::Kept>> = BTreeMap::new();
            for k in outcome.accepted.get(&form.table).into_iter().flatten().filter(|k| k.kept > 0) {
                by_region.entry(k.region.as_str()).or_default().push(k);
            }
            let schema = crate::ingest::rows::form_schema(form);
            let mut accepted =
                AcceptedRows::create(&returns.staging.accepted_file(&form.table), &schema, &planned.name)?;
            // Counties a chunk at a time: a chunk's partitions are written in parallel while the
            // previous chunk's rows are appended, in county order, to the file the models read.
            // Memory holds two chunks' rows, never the period's.
            let regions: Vec<(&str, Vec<&crate::store::staged::Kept>)> = by_region.into_iter().collect();
            let mut loaded: Vec<(&str, Vec<RecordBatch>)> = Vec::new();
            for chunk in regions.chunks(STORE_CHUNK) {
                let (appended, written) = rayon::join(
                    || append(&mut accepted, std::mem::take(&mut loaded)),
                    || {
                        chunk
                            .par_iter()
                            .map(|(region, kept)| {
                                let batches: Vec<RecordBatch> = kept.iter().map(|k| k.load()).collect::<Result<_>>()?;
                                let to = dir.join(format!("region={region}"));
                                store::write_partition(&to, &batches, &schema, &["period"])?;
                                Ok((*region, batches))
                            })
                            .collect::<Result<Vec<_>>>()
                    },
                );
                appended?;
                loaded = written?;
            }
            append(&mut accepted, loaded)?;
            accepted.close()?;
            std::fs::create_dir_all(&dir)?;
            staged.push((dir, warehouse.join(&form.table).join(&part)));
        }
        // The audit and this stage were the staged files' readers; the feedback reads a few
        // sheets' notes later and parses a footer again if it needs one.
        for sheet in &returns.sheets {
            sheet.rows.forget_footer();
        }
    }
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
    tracing::info!(period = %planned.name, tables = staged.len(), "stored");
    if planned.period.is_some() {
        crate::incremental::record_submissions(
            &mut publication.history,
            &planned.name,
            &versions_used(planned, returns),
            |file, sha256| seen.recorded(file, sha256),
        );
    }
    Ok(())
}

/// Counties whose partitions are written at once.
const STORE_CHUNK: usize = 32;

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
