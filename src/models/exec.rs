//! Running models: the DataFusion session over the warehouse, then each model in order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use super::Model;
use super::model_tests::{self, ModelTest, TestResult};
use crate::forms::Forms;
use crate::ingest::rows::form_schema;
use crate::period::Period;

/// The one-row `params` table every model (and audit rule) can read.
pub fn params_batch(period: Period) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("period", DataType::Utf8, false),
        Field::new("year", DataType::Int64, false),
        Field::new("month", DataType::Int64, false),
        Field::new("period_label", DataType::Utf8, false),
        Field::new("prev_period", DataType::Utf8, true),
        Field::new("year_ago_period", DataType::Utf8, false),
        Field::new("annualise", DataType::Float64, false),
    ]));
    let s = |v: Option<String>| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    RecordBatch::try_new(
        schema,
        vec![
            s(Some(period.to_string())),
            Arc::new(Int64Array::from(vec![period.year as i64])),
            Arc::new(Int64Array::from(vec![period.month as i64])),
            s(Some(period.label())),
            s(period.prev_in_year().map(|p| p.to_string())),
            s(Some(period.year_ago().to_string())),
            Arc::new(Float64Array::from(vec![period.annualise()])),
        ],
    )
    .expect("params schema")
}

/// `submissions`: which county sent which form for the period, and how many of its rows of that
/// form were quarantined (unresolved 强制性 errors: the figures built on that form are incomplete).
pub fn submissions_batch(rows: &[(String, String, bool, i64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("region_code", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("submitted", DataType::Boolean, false),
        Field::new("quarantined_rows", DataType::Int64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>())),
            Arc::new(StringArray::from(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
            Arc::new(Int64Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>())),
        ],
    )
    .expect("submissions schema")
}

/// A DataFusion session whose strings come back as plain Utf8 (what every consumer reads), with
/// [`partitions`] partitions, in the memory `memory` gives it ([`super::pool`]).
pub fn new_session(memory: &super::pool::QueryMemory) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .set_bool("datafusion.execution.parquet.schema_force_view_types", false)
        .set_bool("datafusion.sql_parser.map_string_types_to_utf8view", false)
        .with_target_partitions(partitions());
    Ok(SessionContext::new_with_config_rt(config, memory.runtime()?))
}

/// The query engine's partitions: as many as the run has threads (its thread pool, see
/// `run::run_with`: every core the process may use, fewer when pinned with `taskset` or given
/// `--threads`). The outputs are the same whatever the number (tests/all/reproducible.rs).
pub fn partitions() -> usize {
    rayon::current_num_threads()
}

/// Names of the tables the run provides to models.
pub fn base_table_names(forms: &Forms, reference: &BTreeMap<String, RecordBatch>) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["params", "submissions"].iter().map(|s| s.to_string()).collect();
    for f in &forms.forms {
        names.insert(f.table.clone());
        names.insert(format!("{}_all", f.table));
    }
    names.extend(reference.keys().cloned());
    names
}

/// Registers rows in memory as table `name` ([`mem_table`]).
pub fn register_mem(ctx: &SessionContext, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
    ctx.register_table(name, Arc::new(mem_table(schema, batches)?))?;
    Ok(())
}

/// Rows in memory as a table the engine scans as it scans a file: the batches coalesced to its
/// batch size (rows held come a sheet or a county at a time, a few hundred rows, and every
/// operator of every query pays per batch: a regular expression is even compiled again for each)
/// and dealt, in order, into as many partitions as it has, so that a scan runs on every core.
pub fn mem_table(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<MemTable> {
    let parts = deal(&schema, batches, BATCH_ROWS, partitions())?;
    Ok(MemTable::try_new(schema, parts)?)
}

/// DataFusion's default batch size.
const BATCH_ROWS: usize = 8192;

/// [`mem_table`]'s partitions: consecutive batches concatenated until they reach `rows` rows
/// (empty ones dropped), then split in order into at most `partitions` runs of batches (at least
/// one partition, empty when there are no rows).
fn deal(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
    rows: usize,
    partitions: usize,
) -> Result<Vec<Vec<RecordBatch>>> {
    let mut coalesced = Vec::new();
    let mut group: Vec<RecordBatch> = Vec::new();
    let mut held = 0;
    let flush = |group: &mut Vec<RecordBatch>, out: &mut Vec<RecordBatch>| -> Result<()> {
        match group.len() {
            0 => {}
            1 => out.push(group.remove(0)),
            _ => out.push(arrow::compute::concat_batches(schema, group.iter())?),
        }
        group.clear();
        Ok(())
    };
    for b in batches.into_iter().filter(|b| b.num_rows() > 0) {
        held += b.num_rows();
        group.push(b);
        if held >= rows {
            flush(&mut group, &mut coalesced)?;
            held = 0;
        }
    }
    flush(&mut group, &mut coalesced)?;
    let per = coalesced.len().div_ceil(partitions.max(1)).max(1);
    let mut parts: Vec<Vec<RecordBatch>> = coalesced.chunks(per).map(<[RecordBatch]>::to_vec).collect();
    if parts.is_empty() {
        parts.push(Vec::new());
    }
    Ok(parts)
}

/// Registers a model's output for the models after it without its descriptions (schema and field
/// metadata): they belong in the Parquet files, and a query that reads one table twice (a CTE used
/// in a UNION and a join) otherwise trips DataFusion's check that the physical and logical plans
/// carry the same metadata.
fn register_mem_plain(ctx: &SessionContext, name: &str, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone().with_metadata(HashMap::new())).collect();
    let plain = Arc::new(Schema::new(fields));
    let batches = batches
        .iter()
        .map(|b| RecordBatch::try_new(plain.clone(), b.columns().to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    register_mem(ctx, name, plain, batches)
}

/// Registers the warehouse (Hive-partitioned Parquet) as `<table>_all`, the period's accepted
/// rows of each form as `<table>` (`accepted(table)`: one file, or rows held in memory, see
/// [`crate::store::staged::AcceptedRows`], with the columns of `<table>_all`; none, no rows),
/// reference data and parameters.
pub async fn warehouse_session(
    warehouse: &Path,
    forms: &Forms,
    reference: &BTreeMap<String, RecordBatch>,
    period: Period,
    submissions: RecordBatch,
    accepted: impl Fn(&str) -> Option<crate::store::staged::Accepted>,
    memory: &super::pool::QueryMemory,
) -> Result<SessionContext> {
    let ctx = new_session(memory)?;
    let params = params_batch(period);
    register_mem(&ctx, "params", params.schema(), vec![params])?;
    register_mem(&ctx, "submissions", submissions.schema(), vec![submissions])?;
    for (name, batch) in reference {
        register_mem(&ctx, name, batch.schema(), vec![batch.clone()])?;
    }
    for form in &forms.forms {
        // The shape of both tables when there is no file to read: the form's columns, then the
        // partition columns.
        let empty = || crate::store::staged::with_partitions(&form_schema(form));
        let dir = warehouse.join(&form.table);
        // The warehouse as stored, of which `<table>_all` takes the other periods.
        let stored = format!("_{}_stored", form.table);
        // Listed, not read: the table is every period of the form.
        if crate::store::has_parquet(&dir) {
            let options = ParquetReadOptions::default().table_partition_cols(vec![
                ("period".to_string(), DataType::Utf8),
                ("region".to_string(), DataType::Utf8),
            ]);
            ctx.register_parquet(&stored, format!("{}/", dir.display()), options)
                .await
                .with_context(|| format!("cannot register {}", dir.display()))?;
        } else {
            register_mem(&ctx, &stored, empty(), vec![])?;
        }
        match accepted(&form.table) {
            Some(crate::store::staged::Accepted::File(file)) if file.is_file() => {
                ctx.register_parquet(&form.table, file.to_string_lossy().as_ref(), ParquetReadOptions::default())
                    .await
                    .with_context(|| format!("cannot register {}", file.display()))?;
            }
            // Without the columns' descriptions, as the file reads (DataFusion skips a Parquet
            // file's metadata): the same table either way.
            Some(crate::store::staged::Accepted::Held(schema, batches)) => {
                register_mem_plain(&ctx, &form.table, &schema, &batches)?;
            }
            _ => register_mem(&ctx, &form.table, empty(), vec![])?,
        }
        // `<table>_all`: this period's rows are the accepted ones (the same columns), whether or
        // not the warehouse holds the period yet: its partitions are written while the models
        // run (`stage::store::Partitions`), and an earlier version of it may be there.
        let all = ctx
            .sql(&format!(
                "SELECT * FROM {stored} WHERE period <> '{period}' UNION ALL SELECT * FROM {table}",
                table = form.table
            ))
            .await
            .with_context(|| format!("cannot define {}_all", form.table))?;
        ctx.register_table(format!("{}_all", form.table), all.into_view())?;
    }
    Ok(ctx)
}

/// Strings as Utf8 and column descriptions from the model header in the schema metadata.
fn finish_schema(model: &Model, batches: Vec<RecordBatch>, schema: SchemaRef) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let descriptions: HashMap<&str, &str> =
        model.header.columns.iter().map(|c| (c.name.as_str(), c.description.as_str())).collect();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let dt = match f.data_type() {
                DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
                other => other.clone(),
            };
            let mut nf = Field::new(f.name(), dt, true);
            if let Some(d) = descriptions.get(f.name().as_str()) {
                nf = nf.with_metadata([("description".to_string(), d.to_string())].into());
            }
            nf
        })
        .collect();
    let mut meta = std::collections::HashMap::new();
    meta.insert("gongbao.model".to_string(), model.name.clone());
    if !model.header.description.is_empty() {
        meta.insert("gongbao.description".to_string(), model.header.description.clone());
    }
    if !model.header.grain.is_empty() {
        meta.insert("gongbao.grain".to_string(), model.header.grain.clone());
    }
    let out_schema = Arc::new(Schema::new_with_metadata(fields, meta));
    let out = batches
        .into_iter()
        .map(|b| {
            let cols = b
                .columns()
                .iter()
                .zip(out_schema.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new(out_schema.clone(), cols)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((out_schema, out))
}

/// What running one model gave.
#[derive(Debug, Clone)]
pub struct ModelRun {
    pub name: String,
    /// Set (with the batches) only when the output may be published.
    pub schema: Option<SchemaRef>,
    pub batches: Vec<RecordBatch>,
    pub error: Option<String>,
    /// Its tests, in file-name order (not run when the model failed to build).
    pub tests: Vec<TestResult>,
}

impl ModelRun {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Runs the models: every model whose dependencies are done runs concurrently with the others of
/// its wave. A failed model (query, contract or error-severity test) fails those that read it;
/// the others go on. The result is in the order of `models`, whatever order they finished in.
pub async fn execute(ctx: &SessionContext, models: &[Model]) -> Vec<ModelRun> {
    let mut runs: Vec<Option<ModelRun>> = vec![None; models.len()];
    let mut failed: BTreeSet<String> = BTreeSet::new();
    // Read once for every model; a failure to read it fails the models that have a `period`.
    let built = period_built(ctx).await.map_err(|e| format!("{e:#}"));
    loop {
        let pending: BTreeSet<&str> =
            models.iter().zip(&runs).filter(|(_, r)| r.is_none()).map(|(m, _)| m.name.as_str()).collect();
        if pending.is_empty() {
            break;
        }
        let mut wave: Vec<usize> = (0..models.len())
            .filter(|&i| runs[i].is_none() && models[i].run_after().iter().all(|d| !pending.contains(d)))
            .collect();
        if wave.is_empty() {
            // A cycle (models::load refuses them; a hand-made list may not): run the rest in
            // order, they fail on the tables they cannot find.
            wave = (0..models.len()).filter(|&i| runs[i].is_none()).collect();
        }
        // Each model on a task of its own: a query's planning runs on the task that asks for it,
        // and a small period's models are mostly planning, which on one task used one core.
        let tasks = wave.iter().map(|&i| {
            let (ctx, model, built, failed) = (ctx.clone(), models[i].clone(), built.clone(), failed.clone());
            tokio::spawn(async move {
                let built = built.as_ref().map(Option::as_deref).map_err(String::as_str);
                run_model(&ctx, &model, built, &failed).await
            })
        });
        let results = futures::future::join_all(tasks).await;
        for (i, joined) in wave.into_iter().zip(results) {
            // A panic in a query is the failure of its model, not of the run.
            let run = joined.unwrap_or_else(|e| {
                tracing::error!(model = %models[i].name, "model failed: its query panicked: {e}");
                failed_run(&models[i], format!("the model's query panicked: {e}"))
            });
            if run.error.is_some() {
                failed.insert(run.name.clone());
            }
            runs[i] = Some(run);
        }
    }
    runs.into_iter().map(|r| r.expect("every model ran")).collect()
}

/// A model that did not build, for `why`; its tests not run.
fn failed_run(model: &Model, why: String) -> ModelRun {
    ModelRun {
        name: model.name.clone(),
        schema: None,
        batches: vec![],
        tests: model.tests.iter().map(|t| test_not_run(t, &why)).collect(),
        error: Some(why),
    }
}

/// Builds one model, checks its contract, registers it for the models after it, runs its tests.
async fn run_model(
    ctx: &SessionContext,
    model: &Model,
    built: Result<Option<&str>, &str>,
    failed: &BTreeSet<String>,
) -> ModelRun {
    if let Some(d) = model.depends_on.iter().find(|d| failed.contains(*d)) {
        tracing::error!(model = %model.name, "model not run: model `{d}` it reads failed");
        return failed_run(model, format!("not run: model `{d}` it reads failed"));
    }
    let built: Result<(SchemaRef, Vec<RecordBatch>)> = async {
        // Every failure names the model's file (and, a query out of its pool, what to raise).
        let fail = |e: &dyn std::fmt::Display| {
            anyhow::anyhow!("{}: {}", model.path.display(), super::pool::explain(e.to_string()))
        };
        let df = ctx.sql(&model.sql).await.map_err(|e| fail(&e))?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(|e| fail(&e))?;
        model.header.check(&schema).map_err(|e| fail(&e))?;
        check_period_column(built, &batches).map_err(|e| fail(&e))?;
        let (schema, batches) = finish_schema(model, batches, schema)?;
        register_mem_plain(ctx, &model.name, &schema, &batches)?;
        Ok((schema, batches))
    }
    .await;
    let (schema, batches) = match built {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(model = %model.name, "model failed: {e:#}");
            return failed_run(model, format!("{e:#}"));
        }
    };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    // The tests at once (each a query of its own; a model's tests read it, not each other),
    // their results in file-name order.
    let tests = model.tests.iter().map(|t| {
        let (ctx, t, failed) = (ctx.clone(), t.clone(), failed.clone());
        tokio::spawn(async move { run_test(&ctx, &t, &failed).await })
    });
    let tests: Vec<TestResult> = futures::future::join_all(tests)
        .await
        .into_iter()
        .zip(&model.tests)
        .map(|(joined, t)| {
            joined.unwrap_or_else(|e| TestResult {
                error: Some(format!("the test's query panicked: {e}")),
                ..blank_result(t)
            })
        })
        .collect();
    let blocking: Vec<String> = tests
        .iter()
        .filter(|t| t.blocks())
        .map(|t| match &t.error {
            Some(e) => format!("`{}` could not run ({e})", t.name),
            None => format!("`{}` returned {} offending row(s)", t.name, t.failing_rows),
        })
        .collect();
    for t in tests.iter().filter(|t| !t.passed()) {
        tracing::warn!(model = %model.name, test = %t.name, severity = %t.severity, "model test failed: {}", t.one_line());
    }
    if !blocking.is_empty() {
        // Not published, and not visible to the models that read it.
        ctx.deregister_table(model.name.as_str()).ok();
        let why = format!("not published: error-severity test {}", blocking.join("; "));
        tracing::error!(model = %model.name, "{why}");
        return ModelRun { name: model.name.clone(), schema: None, batches: vec![], error: Some(why), tests };
    }
    tracing::info!(model = %model.name, rows, tests = tests.len(), "model built");
    ModelRun { name: model.name.clone(), schema: Some(schema), batches, error: None, tests }
}

/// Model outputs are partitioned by `period` (the folder `period=YYYY-MM`, not a column in the
/// file), so a `period` column must hold the period being built in every row; otherwise the
/// readers of the Parquet would see the folder's period instead of the row's.
/// `built` is the period being built ([`period_built`]; `None`: nothing to check against; an
/// error: it could not be read).
fn check_period_column(built: Result<Option<&str>, &str>, batches: &[RecordBatch]) -> Result<()> {
    let Some(first) = batches.first() else { return Ok(()) };
    if first.schema().column_with_name("period").is_none() {
        return Ok(());
    }
    let built = match built {
        Ok(Some(built)) => built,
        Ok(None) => return Ok(()),
        Err(e) => anyhow::bail!("the period being built could not be read from `params`: {e}"),
    };
    let mut others = BTreeSet::new();
    for b in batches {
        let col = arrow::compute::cast(b.column_by_name("period").expect("checked"), &DataType::Utf8)?;
        let col = col.as_any().downcast_ref::<StringArray>().expect("cast to Utf8");
        for i in 0..col.len() {
            let v = if col.is_null(i) { "NULL".to_string() } else { col.value(i).to_string() };
            if v != built {
                others.insert(v);
            }
        }
    }
    if !others.is_empty() {
        anyhow::bail!(
            "column `period` is the partition column (folder period={built}) and must hold the period being built in \
             every row, but it also holds {}; give a column of other periods another name (e.g. `data_period`)",
            others.into_iter().take(5).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// The period being built, from the session's `params` table (none without one), read once for
/// every model's [`check_period_column`].
async fn period_built(ctx: &SessionContext) -> Result<Option<String>> {
    let Ok(df) = ctx.sql("SELECT CAST(period AS VARCHAR) AS period FROM params").await else { return Ok(None) };
    let params = df.collect().await?;
    let Some(first) = params.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
    let built = arrow::compute::cast(first.column(0), &DataType::Utf8)?;
    Ok(Some(built.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").value(0).to_string()))
}

/// A test's result before it has found anything (no failing rows, no error).
fn blank_result(t: &ModelTest) -> TestResult {
    TestResult {
        name: t.name.clone(),
        model: t.header.model.clone(),
        severity: t.header.severity,
        description: t.header.description.clone(),
        failing_rows: 0,
        sample: vec![],
        error: None,
    }
}

fn test_not_run(t: &ModelTest, why: &str) -> TestResult {
    TestResult { error: Some(format!("not run: model `{}` failed ({why})", t.header.model)), ..blank_result(t) }
}

/// Runs one test over the session (its model is registered): every row it returns is a failure.
async fn run_test(ctx: &SessionContext, t: &ModelTest, failed: &BTreeSet<String>) -> TestResult {
    let mut result = blank_result(t);
    if let Some(d) = t.depends_on.iter().find(|d| failed.contains(*d)) {
        result.error = Some(format!("not run: model `{d}` it reads failed"));
        return result;
    }
    let batches: Result<Vec<RecordBatch>> = async {
        let df = ctx.sql(&t.sql).await?;
        Ok(df.collect().await?)
    }
    .await;
    match batches {
        Ok(batches) => {
            result.failing_rows = batches.iter().map(|b| b.num_rows()).sum();
            result.sample = model_tests::sample_rows(&batches, model_tests::SAMPLE_ROWS);
        }
        Err(e) => result.error = Some(super::pool::explain(format!("{}: {e:#}", t.path.display()))),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_column_is_checked_against_the_period_built_or_fails_when_that_is_unreadable() {
        let schema = Arc::new(Schema::new(vec![Field::new("period", DataType::Utf8, false)]));
        let rows = |p: &str| {
            vec![RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![p])) as ArrayRef]).unwrap()]
        };
        assert!(check_period_column(Ok(Some("2025-09")), &rows("2025-09")).is_ok());
        assert!(check_period_column(Ok(Some("2025-09")), &rows("2025-08")).is_err());
        assert!(check_period_column(Ok(None), &rows("2025-08")).is_ok(), "no params: nothing to check against");
        let e = check_period_column(Err("disk gone"), &rows("2025-09")).unwrap_err().to_string();
        assert!(e.contains("params") && e.contains("disk gone"), "{e}");
        let other = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, false)]));
        let no_period =
            vec![RecordBatch::try_new(other, vec![Arc::new(StringArray::from(vec!["x"])) as ArrayRef]).unwrap()];
        assert!(check_period_column(Err("disk gone"), &no_period).is_ok(), "a model without `period` needs no period");
    }

    #[test]
    fn rows_in_memory_are_dealt_in_order_into_coalesced_batches_and_partitions() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = |from: i64, rows: i64| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from_iter_values(from..from + rows))])
                .unwrap()
        };
        let values = |parts: &[Vec<RecordBatch>]| -> Vec<i64> {
            parts
                .iter()
                .flatten()
                .flat_map(|b| b.column(0).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec())
                .collect()
        };
        // Sheets of 0 to 300 rows, some empty, as the staging holds them.
        let mut sheets = Vec::new();
        let mut next = 0;
        for i in 0..50 {
            let rows = (i * 37) % 301;
            sheets.push(batch(next, rows));
            next += rows;
        }
        for (rows, partitions) in [(1000, 2), (1000, 1), (1000, 7), (1, 3), (usize::MAX, 2), (8192, 2)] {
            let parts = deal(&schema, sheets.clone(), rows, partitions).unwrap();
            assert_eq!(values(&parts), (0..next).collect::<Vec<_>>(), "every row once, in order");
            assert!(!parts.is_empty() && parts.len() <= partitions.max(1));
            let batches: Vec<&RecordBatch> = parts.iter().flatten().collect();
            assert!(batches.iter().all(|b| b.num_rows() > 0), "no empty batch");
            // Each batch but the last stops at the first sheet that takes it to `rows`.
            for b in &batches[..batches.len() - 1] {
                assert!(b.num_rows() >= rows.min(next as usize), "{} rows", b.num_rows());
                assert!(b.num_rows() < rows.saturating_add(301), "{} rows", b.num_rows());
            }
        }
        assert_eq!(deal(&schema, sheets.clone(), 1000, 2).unwrap().len(), 2, "both partitions used");
        let none = deal(&schema, vec![batch(0, 0)], 1000, 2).unwrap();
        assert_eq!((none.len(), none[0].len()), (1, 0), "no rows: one empty partition");
    }
}
