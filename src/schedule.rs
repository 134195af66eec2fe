//! Schedules (`schedules/*.toml`): when the job runs, read at run time.
//!
//! `gongbao schedule list` shows each schedule's next fire times. The long-running scheduler is
//! a later step; until then a plain crontab line calling `gongbao run` does the same job.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeZone};
use serde::Deserialize;

/// What a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    Run,
    Audit,
    Bulletin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDef {
    pub name: String,
    /// Cron expression with seconds: `sec min hour day-of-month month day-of-week`.
    pub cron: String,
    pub job: Job,
    /// Which periods a firing covers: `open` (every period still open for revision) or `previous`
    /// (the previous month).
    pub periods: String,
    pub inbox: PathBuf,
    pub reference: PathBuf,
    pub out: PathBuf,
    #[serde(skip)]
    pub source: PathBuf,
}

impl ScheduleDef {
    pub fn parsed(&self) -> Result<cron::Schedule> {
        cron::Schedule::from_str(&self.cron).map_err(|e| {
            anyhow::anyhow!("{}: cron expression `{}` is not valid: {e}", self.source.display(), self.cron)
        })
    }

    /// The next `n` fire times after `after`.
    pub fn next_fires<Z: TimeZone>(&self, after: &DateTime<Z>, n: usize) -> Result<Vec<DateTime<Z>>> {
        Ok(self.parsed()?.after(after).take(n).collect())
    }
}

/// Loads every schedule of `dir`, checking each cron expression.
pub fn load(dir: &Path) -> Result<Vec<ScheduleDef>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the schedules folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut def: ScheduleDef =
            toml::from_str(&text).with_context(|| format!("schedule {} is not valid", path.display()))?;
        def.source = path.clone();
        def.parsed()?;
        if !matches!(def.periods.as_str(), "open" | "previous") {
            bail!("{}: periods = \"{}\" must be \"open\" or \"previous\"", path.display(), def.periods);
        }
        out.push(def);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schedules_load_and_fire_nightly() {
        let defs = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules")).unwrap();
        let nightly = defs.iter().find(|d| d.name == "nightly").unwrap();
        let after = chrono::Utc.with_ymd_and_hms(2025, 10, 8, 12, 0, 0).unwrap();
        let fires = nightly.next_fires(&after, 2).unwrap();
        assert_eq!(fires[0].to_rfc3339(), "2025-10-09T02:15:00+00:00");
        assert_eq!(fires[1].to_rfc3339(), "2025-10-10T02:15:00+00:00");
    }

    #[test]
    fn a_bad_cron_expression_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.toml"),
            "name = \"x\"\ncron = \"every night\"\njob = \"run\"\nperiods = \"open\"\ninbox = \"i\"\nreference = \"r\"\nout = \"o\"\n",
        )
        .unwrap();
        let err = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(err.contains("bad.toml") && err.contains("every night"), "{err}");
    }
}
