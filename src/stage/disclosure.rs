//! Stage 5, disclosure: cells that could reveal an enterprise are suppressed in the model
//! outputs (`src/disclosure`, settings in `config/disclosure.toml`) by [`protect`], and only
//! then are the outputs written into the publication being built: nothing unprotected is ever
//! written. While the bulletin is rendered, [`write_and_stage`] writes them, the internal
//! disclosure report, and stages the period's public zone; after it, [`publish_public`] puts
//! that in place (final bulletins whose intruder audit passed only).

use std::collections::BTreeMap;

use anyhow::Result;
use arrow::array::RecordBatch;

use crate::disclosure::{PublicOutcome, StagedPublic};
use crate::project::Project;
use crate::stage::models::Built;
use crate::stage::publish::Publication;
use crate::store;

/// The protected outputs of the period's models that were built (by model name).
pub struct Disclosed {
    pub outputs: BTreeMap<String, Vec<RecordBatch>>,
    pub protection: crate::disclosure::Protection,
}

/// Decides and applies the period's suppression pattern to the models' outputs (in `built`),
/// audited as an intruder would read the public tables; nothing is written yet.
pub fn protect(project: &Project, built: &mut Built, publication: &Publication) -> Result<Disclosed> {
    let previous = crate::disclosure::previous_public(&publication.dir, &built.period.to_string(), &project.models)?;
    let protection = crate::disclosure::protect_runs(
        &mut built.runs,
        &built.enterprises,
        &project.disclosure,
        &project.models,
        previous.as_ref(),
    )?;
    let outputs = built
        .runs
        .iter()
        .filter(|r| r.error.is_none() && r.schema.is_some())
        .map(|r| (r.name.clone(), r.batches.clone()))
        .collect();
    Ok(Disclosed { outputs, protection })
}

/// Writes the protected outputs of the period's models (those built) into the publication's
/// warehouse, and the internal disclosure report; then, unless the bulletin is a draft (`draft`,
/// known from the audit before the bulletin is rendered) or the audit found a disclosed cell,
/// stages the period's public zone, which [`publish_public`] puts in place. Run beside the
/// bulletin's layout, which reads the same outputs in memory.
pub fn write_and_stage(
    project: &Project,
    built: &Built,
    draft: bool,
    disclosed: &Disclosed,
    publication: &Publication,
) -> Result<StagedPublic> {
    let part = format!("period={}", built.period);
    for r in &built.runs {
        if let (None, Some(schema)) = (&r.error, &r.schema) {
            let dir = publication.staging.join("warehouse").join(&r.name).join(&part);
            store::write_partition(&dir, &r.batches, schema, &["period"])?;
            store::publish_dir(&dir, &publication.warehouse().join(&r.name).join(&part))?;
        }
    }
    let started = std::time::Instant::now();
    let staged = crate::disclosure::stage_period(
        &publication.dir,
        &publication.staging,
        &built.period.to_string(),
        &built.runs,
        &project.models,
        &disclosed.protection,
        &built.enterprises,
        draft,
    )?;
    tracing::debug!(period = %built.period, seconds = started.elapsed().as_secs_f64(), "public zone written");
    Ok(staged)
}

/// The period's public zone put in place; a period the audit refuses is noted in the summary
/// (the run then fails), a bulletin that is not final (草稿, or not rendered) keeps the period's
/// previous public version. `is_final` is the bulletin stage's verdict, so that the public zone
/// and the bulletin never disagree. A period that enters `public/` is released (frozen from
/// then on, see [`crate::publish::Manifest::released_periods`]).
pub fn publish_public(
    built: &Built,
    staged: StagedPublic,
    is_final: bool,
    summary: &mut crate::summary::RunSummary,
) -> Result<()> {
    match staged.publish(&built.period.to_string(), is_final)? {
        PublicOutcome::Disclosed(why) => summary.public_blocked.push(format!("{}: {why}", built.period)),
        PublicOutcome::Written => summary.released.push(built.period.to_string()),
        PublicOutcome::Draft => {}
    }
    Ok(())
}
