//! Stage 2, audit: the rules of `rules/` over the period's rows, with last month's accepted rows
//! for the cross-period rules. Errors quarantine rows; warnings are reported.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use crate::audit::{self, AuditContext, AuditOutcome};
use crate::findings::Severity;
use crate::models::exec;
use crate::period::Period;
use crate::project::Project;
use crate::stage::plan::PlannedPeriod;
use crate::stage::publish::Publication;
use crate::stage::read::PeriodReturns;
use crate::store;
use crate::summary::RunSummary;

/// Audits the period's returns. Cross-period rules read last month's accepted rows and column
/// maps from the publication being built (rebuilt just before, or carried over unchanged).
/// `target` stands in for the period of sheets whose period is unknown.
pub async fn audit(
    project: &Project,
    planned: &PlannedPeriod,
    returns: &PeriodReturns,
    publication: &Publication,
    target: Period,
) -> Result<AuditOutcome> {
    let warehouse = publication.warehouse();
    let params = exec::params_batch(planned.period.unwrap_or(target));
    let prev_period = planned.period.and_then(|p| p.prev_in_year());
    let tables: Vec<String> = project.forms.forms.iter().map(|f| f.table.clone()).collect();
    let mut previous = BTreeMap::new();
    let mut previous_column_maps = Default::default();
    if let Some(want) = prev_period {
        previous = audit::period_tables(&warehouse, &tables, want);
        previous_column_maps = audit::column_maps_from_sources(&store::read_dir_batches(
            &warehouse.join("sources").join(format!("period={want}")),
        )?);
    }
    let cx = AuditContext {
        forms: &project.forms,
        rules: &project.rules,
        previous,
        last_year: audit::last_year_tables(&warehouse, &tables, planned.period),
        explanations: project.explanations.clone(),
        previous_column_maps,
        reference: &project.reference.tables,
        params,
        query: publication.query_memory(project.memory.query_bytes),
    };
    let mut outcome = audit::audit_period(planned.period.unwrap_or(target), &returns.sheets, &cx).await?;
    // File-level findings belong to the periods of the file's sheets still used (not those of
    // a superseded return); a file refused as a whole belongs to the period its name gives,
    // else to `unknown` (see the plan).
    let shas: BTreeSet<&str> = returns.sheets.iter().map(|s| s.sha256.as_str()).collect();
    let file_findings = returns
        .files
        .iter()
        .filter(|f| f.sheets.is_empty() || shas.contains(f.sha256.as_str()))
        .flat_map(|f| &f.findings);
    for f in file_findings {
        if !outcome.findings.contains(f) {
            let mut f = f.clone();
            f.period = Some(planned.name.clone());
            outcome.findings.push(f);
        }
    }
    // A superseded return is reported to its county (INGEST-W02).
    for x in &returns.superseded {
        if let Some(f) = returns.files.iter().find(|f| f.file == x.file) {
            let w02 = crate::ingest::workbook::superseded_finding(f, &x.form, &x.region_code, &x.period, &x.by);
            if !outcome.findings.contains(&w02) {
                outcome.findings.push(w02);
            }
        }
    }
    // 无遗漏: every non-blank row of the period's sheets, counted from the raw cells, is
    // accounted for; else a row was lost without a word, and nothing is published.
    let rows = returns.row_tally(planned, &outcome);
    if !rows.balanced() {
        anyhow::bail!("报告期 {} 行数核对不符,未发布: {}", planned.name, rows.line());
    }
    tracing::info!(
        period = %planned.name,
        accepted = outcome.accepted_rows(),
        quarantined = outcome.quarantined_rows(),
        findings = outcome.findings.len(),
        "audited"
    );
    Ok(outcome)
}

/// Adds the period's audit to the run's summary.
pub fn tally(planned: &PlannedPeriod, outcome: &AuditOutcome, s: &mut RunSummary) {
    for st in &outcome.stats {
        if let Some(e) = &st.error {
            s.rule_failures.push(format!("{} ({}): {e}", st.rule_id, planned.name));
        }
    }
    s.rows_input += outcome.input_rows.values().sum::<u64>();
    s.rows_accepted += outcome.accepted_rows();
    s.rows_quarantined += outcome.quarantined_rows();
    s.errors += outcome.count(Severity::Error);
    s.warnings += outcome.count(Severity::Warning);
    s.warnings_explained +=
        outcome.findings.iter().filter(|f| f.severity == Severity::Warning && f.explained).count() as u64;
    if planned.period == Some(s.target) {
        s.findings_sample =
            outcome.findings.iter().filter(|f| f.severity == Severity::Error).take(8).map(|f| f.one_line()).collect();
    }
}
