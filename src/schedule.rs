//! Schedules (`schedules/*.toml`): when the job runs, read at run time.
//!
//! `gongbao schedule list` shows each schedule's next fire times; `gongbao schedule run` is the
//! long-running scheduler ([`run_scheduler`]). A plain crontab line calling `gongbao run` does
//! the same job without it (see the README).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, TimeZone};
use serde::Deserialize;

use crate::job::{RunControl, RunOptions};
use crate::period::Period;

pub use crate::job::Job;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDef {
    pub name: String,
    /// Cron expression with seconds: `sec min hour day-of-month month day-of-week`.
    pub cron: String,
    pub job: Job,
    /// Which periods a firing covers: `open` (every period in the inbox, i.e. still open for
    /// revision), `previous` (the month before the firing) or `YYYY-MM` / `YYYY-MM..YYYY-MM`.
    pub periods: String,
    pub inbox: PathBuf,
    pub reference: PathBuf,
    pub out: PathBuf,
    /// Project folder (forms/, rules/, sql/, templates/); default: the working folder.
    #[serde(default)]
    pub project: Option<PathBuf>,
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

impl ScheduleDef {
    /// The (first, last) period a firing on `today` covers; `(None, None)`: every open period.
    pub fn period_range(&self, today: chrono::NaiveDate) -> Result<(Option<Period>, Option<Period>)> {
        use chrono::Datelike;
        let p = self.periods.trim();
        Ok(match p {
            "open" => (None, None),
            "previous" | "previous-month" => {
                let (y, m) =
                    if today.month() == 1 { (today.year() - 1, 12) } else { (today.year(), today.month() - 1) };
                let prev = Period::new(y, m)?;
                (Some(prev), Some(prev))
            }
            _ => match p.split_once("..") {
                Some((a, b)) => (Some(a.parse()?), Some(b.parse()?)),
                None => {
                    let one: Period = p.parse().map_err(|_| {
                        anyhow::anyhow!("periods = \"{p}\" must be \"open\", \"previous\", YYYY-MM or YYYY-MM..YYYY-MM")
                    })?;
                    (Some(one), Some(one))
                }
            },
        })
    }

    /// The run a firing makes (paths relative to the schedule's working folder).
    pub fn control(&self, today: chrono::NaiveDate) -> Result<(RunOptions, RunControl)> {
        let (from, to) = self.period_range(today)?;
        let opts = RunOptions {
            project: self.project.clone().unwrap_or_else(|| PathBuf::from(".")),
            inbox: self.inbox.clone(),
            reference: self.reference.clone(),
            out: self.out.clone(),
            period: None,
            issued_on: None,
            threads: None,
        };
        let ctl =
            RunControl { from, to, job: self.job, trigger: format!("schedule:{}", self.name), ..RunControl::default() };
        Ok((opts, ctl))
    }
}

/// What [`run_scheduler`] did.
#[derive(Debug, Default)]
pub struct SchedulerReport {
    pub fired: usize,
    pub failed: usize,
}

/// The long-running scheduler: fires each schedule at its cron times, one run at a time, until
/// `stop` is set (by SIGTERM or SIGINT). A stop during a run lets that run finish and publish
/// (or, if it is killed instead, the next run recovers); no new run starts after it.
pub fn run_scheduler(defs: &[ScheduleDef], stop: &std::sync::atomic::AtomicBool) -> Result<SchedulerReport> {
    use std::sync::atomic::Ordering;
    let mut report = SchedulerReport::default();
    let parsed: Vec<(&ScheduleDef, cron::Schedule)> =
        defs.iter().map(|d| d.parsed().map(|s| (d, s))).collect::<Result<_>>()?;
    let mut next: Vec<Option<DateTime<chrono::Utc>>> =
        parsed.iter().map(|(_, s)| s.after(&chrono::Utc::now()).next()).collect();
    for ((d, _), n) in parsed.iter().zip(&next) {
        tracing::info!(schedule = %d.name, next = ?n.map(|t| t.to_rfc3339()), "scheduled");
    }
    while !stop.load(Ordering::SeqCst) {
        let now = chrono::Utc::now();
        let due = next.iter().enumerate().filter_map(|(i, n)| n.filter(|t| *t <= now).map(|_| i)).next();
        let Some(i) = due else {
            std::thread::sleep(std::time::Duration::from_millis(100));
            continue;
        };
        let (def, sched) = &parsed[i];
        tracing::info!(schedule = %def.name, job = ?def.job, "firing");
        report.fired += 1;
        match def.control(now.date_naive()).and_then(|(opts, ctl)| crate::run::run_with(&opts, &ctl)) {
            Ok(s) if s.nothing_new => tracing::info!(schedule = %def.name, "nothing new"),
            Ok(s) => tracing::info!(
                schedule = %def.name,
                rebuilt = %s.rebuilt.join(","),
                exit = s.exit_code(true),
                "run finished"
            ),
            Err(e) => {
                report.failed += 1;
                tracing::error!(schedule = %def.name, "run failed: {e:#}");
            }
        }
        // Firings missed while the run went on are not made up: next is after now.
        next[i] = sched.after(&chrono::Utc::now()).next();
    }
    tracing::info!(fired = report.fired, "scheduler stopped");
    Ok(report)
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
        if let Err(e) = def.period_range(chrono::Utc::now().date_naive()) {
            bail!("{}: {e}", path.display());
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
    fn periods_covered() {
        let mut d = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schedules")).unwrap().remove(0);
        let jan = chrono::NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
        assert_eq!(d.period_range(jan).unwrap(), (None, None));
        d.periods = "previous".into();
        let p = |s: &str| Some(s.parse::<Period>().unwrap());
        assert_eq!(d.period_range(jan).unwrap(), (p("2025-12"), p("2025-12")));
        d.periods = "2025-02..2025-09".into();
        assert_eq!(d.period_range(jan).unwrap(), (p("2025-02"), p("2025-09")));
        d.periods = "lastmonth".into();
        assert!(format!("{:#}", d.period_range(jan).unwrap_err()).contains("lastmonth"));
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
