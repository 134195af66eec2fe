//! The run ledger: one JSON line per run, scheduled or manual, appended to `<out>/runs/runs.jsonl`
//! (append-only; `gongbao runs` lists it).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    /// `manual`, or `schedule:<name>`.
    pub trigger: String,
    pub started: String,
    pub ended: String,
    pub files_seen: usize,
    pub files_ingested: usize,
    /// Workbooks opened as spreadsheets; the other ones used came from the parsed-workbook cache.
    #[serde(default)]
    pub files_opened: usize,
    pub files_refused: usize,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    pub findings_errors: u64,
    pub findings_warnings: u64,
    pub models_built: usize,
    pub models_failed: usize,
    /// Periods rebuilt (empty on a night with nothing new).
    pub rebuilt: Vec<String>,
    /// Periods whose held returns the run was asked to apply (`--revise`).
    #[serde(default)]
    pub revise: Vec<String>,
    /// Returns held for periods released as final (`period: file (new|withdrawn)`), waiting for
    /// `--revise`.
    #[serde(default)]
    pub pending_revisions: Vec<String>,
    /// The publication made visible by this run, if it published.
    pub publication: Option<String>,
    /// `nothing-new`, `published`, `published-with-audit-errors`, `published-then-failed` (an error
    /// after the publication was made visible), `failed`.
    pub outcome: String,
    pub exit_code: i32,
    /// Why the run failed; for a run that published, the error after publishing, else what
    /// failed within it (a bulletin not rendered, a county's feedback not written).
    pub error: Option<String>,
}

pub fn path(out: &Path) -> PathBuf {
    out.join("runs").join("runs.jsonl")
}

/// Appends one record (one `write` of one line, so concurrent readers see whole lines).
pub fn append(out: &Path, record: &RunRecord) -> Result<()> {
    let p = path(out);
    std::fs::create_dir_all(p.parent().expect("runs folder"))?;
    let mut line = serde_json::to_string(record)?;
    line.push('\n');
    // A run killed while appending may have left half a line: start on a line of our own.
    if let Ok(bytes) = std::fs::read(&p)
        && bytes.last().is_some_and(|b| *b != b'\n')
    {
        line.insert(0, '\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .with_context(|| format!("cannot open the run ledger {}", p.display()))?;
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// The record of the run in progress, kept beside the ledger while it runs (under the lock).
/// A run that finishes replaces it with its ledger record; one killed or crashed leaves it, and
/// the next run (once it holds the lock) records it as `interrupted`.
fn marker_path(out: &Path) -> PathBuf {
    out.join("runs").join("running.json")
}

/// Notes what the run in progress is doing (its start, then its plan, then its publication).
pub fn mark(out: &Path, progress: &RunRecord) -> Result<()> {
    crate::store::write_bytes(&marker_path(out), serde_json::to_string(progress)?.as_bytes())
}

/// Notes the run's progress beside the ledger, for the record of a run killed before it ends;
/// a failure to note it is only logged.
pub fn note_progress(out: &Path, trigger: &str, started: &str, fill: impl FnOnce(&mut RunRecord)) {
    let mut r = RunRecord {
        trigger: trigger.to_string(),
        started: started.to_string(),
        outcome: "running".to_string(),
        ..Default::default()
    };
    fill(&mut r);
    if let Err(e) = mark(out, &r) {
        tracing::warn!("the run's progress could not be noted: {e:#}");
    }
}

/// The run finished and is recorded: no longer in progress.
pub fn clear_mark(out: &Path) {
    std::fs::remove_file(marker_path(out)).ok();
}

/// Records a run that ended without finishing (killed, crashed, the machine went down), from the
/// progress it had noted. Call only while holding the lock: then no run is in progress.
pub fn record_interrupted(out: &Path) -> Result<Option<RunRecord>> {
    let path = marker_path(out);
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    // A marker torn by the kill still says that a run did not finish.
    let mut r: RunRecord = serde_json::from_str(&text).unwrap_or_default();
    let found = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    r.ended = String::new();
    r.outcome = "interrupted".to_string();
    r.exit_code = crate::summary::exit::FAILURE;
    r.error = Some(format!(
        "the run ended without finishing (killed or crashed); {}; found by the next run at {found}",
        match &r.publication {
            Some(p) => format!("it had published {p}"),
            None => "nothing of it was published".to_string(),
        }
    ));
    append(out, &r)?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(Some(r))
}

/// Every record, oldest first. A torn last line (a run killed while appending) is skipped.
pub fn read(out: &Path) -> Result<Vec<RunRecord>> {
    let p = path(out);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", p.display())),
    };
    Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
}

/// The ledger as a table for the terminal.
pub fn listing(records: &[RunRecord]) -> String {
    let mut s = String::from(
        "run_id            trigger            started                    ended                      files(seen/in/opened/refused)  rows(accepted/quarantined)  findings(E/W)  models  rebuilt            outcome\n",
    );
    for r in records {
        let rebuilt = if r.rebuilt.is_empty() {
            "-".to_string()
        } else if r.rebuilt.len() <= 2 {
            r.rebuilt.join(",")
        } else {
            format!("{}…{} ({})", r.rebuilt[0], r.rebuilt[r.rebuilt.len() - 1], r.rebuilt.len())
        };
        s.push_str(&format!(
            "{:<17} {:<18} {:<26} {:<26} {:>6}/{}/{}/{:<12} {:>10}/{:<15} {:>6}/{:<6} {:>3}/{:<2} {:<18} {}{}\n",
            r.run_id,
            r.trigger,
            r.started,
            r.ended,
            r.files_seen,
            r.files_ingested,
            r.files_opened,
            r.files_refused,
            r.rows_accepted,
            r.rows_quarantined,
            r.findings_errors,
            r.findings_warnings,
            r.models_built,
            r.models_failed,
            rebuilt,
            r.outcome,
            r.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
        ));
    }
    s
}

/// The ledger record of a finished run (or of one that failed).
pub fn record(result: &Result<crate::summary::RunSummary>, ctl: &crate::job::RunControl, started: &str) -> RunRecord {
    let ended = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut r = RunRecord {
        trigger: ctl.trigger.clone(),
        started: started.to_string(),
        ended,
        revise: ctl.revise.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };
    match result {
        Err(e) => {
            r.outcome = "failed".to_string();
            r.exit_code = crate::summary::exit::FAILURE;
            r.error = Some(format!("{e:#}"));
        }
        Ok(s) => {
            r.run_id = s.run_id.clone();
            r.files_seen = s.files_seen;
            r.files_ingested = s.files_ingested;
            r.files_opened = s.files_opened;
            r.files_refused = s.refusals.iter().filter(|x| x.sheet.is_none()).count();
            r.rows_accepted = s.rows_accepted;
            r.rows_quarantined = s.rows_quarantined;
            r.findings_errors = s.errors;
            r.findings_warnings = s.warnings;
            r.models_built = s.models.iter().filter(|m| m.2.is_none()).count();
            r.models_failed = s.models.iter().filter(|m| m.2.is_some()).count();
            r.rebuilt = s.rebuilt.clone();
            r.pending_revisions =
                s.pending_revisions.iter().map(|p| format!("{}: {} ({})", p.period, p.file, p.change)).collect();
            r.publication = s.publication.clone();
            r.exit_code = s.exit_code(true);
            let failures = s.failures();
            r.error = s.after_publish.clone().or_else(|| (!failures.is_empty()).then(|| failures.join("; ")));
            r.outcome = if s.nothing_new {
                "nothing-new"
            } else if s.after_publish.is_some() {
                "published-then-failed"
            } else {
                match r.exit_code {
                    crate::summary::exit::FAILURE => "failed",
                    crate::summary::exit::AUDIT_ERRORS => "published-with-audit-errors",
                    crate::summary::exit::WARNINGS => "published-with-warnings",
                    _ => "published",
                }
            }
            .to_string();
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunRecord { run_id: "a".into(), outcome: "published".into(), ..Default::default() };
        let b = RunRecord { run_id: "b".into(), outcome: "nothing-new".into(), ..Default::default() };
        append(dir.path(), &a).unwrap();
        append(dir.path(), &b).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(path(dir.path())).unwrap();
        f.write_all(b"{\"run_id\":\"tor").unwrap();
        assert_eq!(read(dir.path()).unwrap(), vec![a, b]);
        assert!(listing(&read(dir.path()).unwrap()).contains("nothing-new"));
    }
}
