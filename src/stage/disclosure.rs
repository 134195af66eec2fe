//! Stage 5, disclosure: cells that could reveal an enterprise are suppressed in the model
//! outputs (`src/disclosure`, thresholds in `config/disclosure.toml`), and only then are the
//! outputs written into the publication being built: nothing unprotected is ever written.

use std::collections::BTreeMap;

use anyhow::Result;
use arrow::array::RecordBatch;

use crate::project::Project;
use crate::stage::models::Built;
use crate::stage::publish::Publication;
use crate::store;

/// The protected outputs of the period's models that were built (by model name).
pub struct Disclosed {
    pub outputs: BTreeMap<String, Vec<RecordBatch>>,
}

pub fn protect_and_write(project: &Project, built: &mut Built, publication: &Publication) -> Result<Disclosed> {
    crate::disclosure::protect_runs(&mut built.runs, &project.disclosure)?;
    let part = format!("period={}", built.period);
    let mut outputs = BTreeMap::new();
    for r in &built.runs {
        if let (None, Some(schema)) = (&r.error, &r.schema) {
            let dir = publication.staging.join("warehouse").join(&r.name).join(&part);
            store::write_partition(&dir, &r.batches, schema, &["period"])?;
            store::publish_dir(&dir, &publication.warehouse().join(&r.name).join(&part))?;
            outputs.insert(r.name.clone(), r.batches.clone());
        }
    }
    Ok(Disclosed { outputs })
}
