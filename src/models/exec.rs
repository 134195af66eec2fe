//! Running models: the DataFusion session over the warehouse, then each model in order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use super::Model;
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

/// `submissions`: which county sent which form for the period.
pub fn submissions_batch(rows: &[(String, String, bool)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("region_code", DataType::Utf8, false),
        Field::new("form", DataType::Utf8, false),
        Field::new("submitted", DataType::Boolean, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>())),
            Arc::new(StringArray::from(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        ],
    )
    .expect("submissions schema")
}

/// A DataFusion session whose strings come back as plain Utf8 (what every consumer reads).
pub fn new_session() -> SessionContext {
    let config = SessionConfig::new()
        .set_bool("datafusion.execution.parquet.schema_force_view_types", false)
        .set_bool("datafusion.sql_parser.map_string_types_to_utf8view", false)
        .with_target_partitions(2);
    SessionContext::new_with_config(config)
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

fn register_mem(ctx: &SessionContext, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(())
}

/// Registers the warehouse (Hive-partitioned Parquet), reference data and parameters.
pub async fn warehouse_session(
    warehouse: &Path,
    forms: &Forms,
    reference: &BTreeMap<String, RecordBatch>,
    period: Period,
    submissions: RecordBatch,
) -> Result<SessionContext> {
    let ctx = new_session();
    let params = params_batch(period);
    register_mem(&ctx, "params", params.schema(), vec![params])?;
    register_mem(&ctx, "submissions", submissions.schema(), vec![submissions])?;
    for (name, batch) in reference {
        register_mem(&ctx, name, batch.schema(), vec![batch.clone()])?;
    }
    for form in &forms.forms {
        let dir = warehouse.join(&form.table);
        let all = format!("{}_all", form.table);
        let has_files = !crate::store::read_dir_batches(&dir).map(|b| b.is_empty()).unwrap_or(true);
        if has_files {
            let options = ParquetReadOptions::default().table_partition_cols(vec![
                ("period".to_string(), DataType::Utf8),
                ("region".to_string(), DataType::Utf8),
            ]);
            ctx.register_parquet(&all, format!("{}/", dir.display()), options)
                .await
                .with_context(|| format!("cannot register {}", dir.display()))?;
        } else {
            // No returns of this form yet: an empty table of the right shape.
            let base = form_schema(form);
            let mut fields: Vec<Field> =
                base.fields().iter().filter(|f| f.name() != "period").map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new("period", DataType::Utf8, false));
            fields.push(Field::new("region", DataType::Utf8, false));
            register_mem(&ctx, &all, Arc::new(Schema::new(fields)), vec![])?;
        }
        ctx.sql(&format!("CREATE VIEW {} AS SELECT * FROM {all} WHERE period = '{period}'", form.table))
            .await?
            .collect()
            .await?;
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
    pub schema: Option<SchemaRef>,
    pub batches: Vec<RecordBatch>,
    pub error: Option<String>,
}

impl ModelRun {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Runs the models in order; a failed model fails those that read it, the others go on.
pub async fn execute(ctx: &SessionContext, models: &[Model]) -> Vec<ModelRun> {
    let mut runs: Vec<ModelRun> = Vec::new();
    for model in models {
        let failed_dep = model.depends_on.iter().find(|d| runs.iter().any(|r| &r.name == *d && r.error.is_some()));
        let result: Result<(SchemaRef, Vec<RecordBatch>)> = match failed_dep {
            Some(d) => Err(anyhow::anyhow!("not run: model `{d}` it reads failed")),
            None => {
                async {
                    let df = ctx.sql(&model.sql).await.map_err(|e| anyhow::anyhow!("{}: {e}", model.path.display()))?;
                    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                    let batches = df.collect().await.map_err(|e| anyhow::anyhow!("{}: {e}", model.path.display()))?;
                    model.header.check(&schema).map_err(|e| anyhow::anyhow!("{}: {e}", model.path.display()))?;
                    let (schema, batches) = finish_schema(model, batches, schema)?;
                    register_mem(ctx, &model.name, schema.clone(), batches.clone())?;
                    Ok((schema, batches))
                }
                .await
            }
        };
        match result {
            Ok((schema, batches)) => {
                tracing::info!(model = %model.name, rows = batches.iter().map(|b| b.num_rows()).sum::<usize>(), "model built");
                runs.push(ModelRun { name: model.name.clone(), schema: Some(schema), batches, error: None })
            }
            Err(e) => {
                tracing::error!(model = %model.name, "model failed: {e:#}");
                runs.push(ModelRun {
                    name: model.name.clone(),
                    schema: None,
                    batches: vec![],
                    error: Some(format!("{e:#}")),
                })
            }
        }
    }
    runs
}
