//! Incremental runs: the inbox is scanned by content hash, and a period is rebuilt only when
//! something its outputs depend on changed.
//!
//! A period's *fingerprint* hashes the project definitions (forms, rules, SQL, templates), the
//! reference data, the names and SHA-256 of the period's workbooks (in the order a resubmission
//! supersedes, newest first) and the fingerprint the previous period was built with (cross-period
//! rules and year-to-date models read the earlier periods). The fingerprints each period was built
//! with are kept in the publication (`state/periods.json`), so they change exactly when the
//! outputs do. `cache/files.json` remembers which periods each workbook (by hash and name) holds,
//! so an unchanged workbook is not opened to find that out; it is valid for one reading of the
//! workbooks (the parsed-workbook cache's key: form definitions, region list, code), and starts
//! empty when that changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A workbook of the inbox, hashed.
#[derive(Debug, Clone)]
pub struct InboxFile {
    pub path: PathBuf,
    /// The name it is known by: the file name, or `<region code>/<file name>` in a sender's
    /// folder ([`crate::ingest::sender`]).
    pub name: String,
    pub sha256: String,
    pub modified: SystemTime,
    /// The county account that sent it, in an inbox laid out by sender.
    pub sender: Option<String>,
}

impl InboxFile {
    /// What `cache/files.json` knows a workbook by: its bytes and its name (a sheet without a
    /// period, or a file refused as a whole, takes its period from the name).
    pub fn key(&self) -> String {
        format!("{}/{}", self.sha256, self.name)
    }
}

/// Hashes files (in parallel), each known by its file name.
pub fn scan(paths: &[PathBuf]) -> Vec<InboxFile> {
    paths
        .par_iter()
        .map(|p| hashed(p, None, p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()))
        .collect()
}

/// Hashes every file of `inbox` (as [`crate::ingest::list_inbox`] lists them), each with its
/// sender when it lies in a county account's folder.
pub fn scan_inbox(inbox: &Path, paths: &[PathBuf]) -> Vec<InboxFile> {
    paths
        .par_iter()
        .map(|p| {
            let (sender, name) = crate::ingest::sender::sender_and_name(inbox, p);
            hashed(p, sender, name)
        })
        .collect()
}

fn hashed(p: &Path, sender: Option<String>, name: String) -> InboxFile {
    // Streamed: a file of any size is hashed in bounded memory (ingest refuses one beyond the
    // size cap). An unreadable file hashes as empty and is refused by ingest.
    let sha256 = crate::ingest::guard::hash_file(p).unwrap_or_else(|_| crate::util::sha256_hex(b""));
    InboxFile {
        path: p.to_path_buf(),
        name,
        sha256,
        modified: std::fs::metadata(p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH),
        sender,
    }
}

/// What a workbook (by content hash) held when it was last read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CachedFile {
    /// Periods of its sheets (`unknown` for a sheet without one); empty for a refused file.
    pub periods: Vec<String>,
    /// Learned from the heads of its sheets only ([`crate::ingest::peek_file`], a run of some
    /// periods), not yet confirmed by a full read: a run of the whole inbox reads it again, and
    /// the read stage of a period corrects the periods if the full read finds others.
    #[serde(default, skip_serializing_if = "is_false")]
    pub peeked: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A full read's periods differing from those a peek recorded: the key in `cache/files.json`,
/// the periods recorded and those read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodCorrection {
    pub key: String,
    pub file: String,
    pub recorded: Vec<String>,
    pub read: Vec<String>,
}

impl PeriodCorrection {
    /// As the run's summary shows it: the file, the periods recorded and those read.
    pub fn shown(&self) -> (String, String, String) {
        (self.file.clone(), self.recorded.join(","), self.read.join(","))
    }
}

impl FileCache {
    /// Confirms or corrects what a peek recorded of a workbook, now `read` whole (its periods as
    /// [`crate::stage::plan::periods_of_read`] gives them). `None` when nothing was peeked or the
    /// peek was right (then confirmed).
    pub fn confirm(&mut self, key: &str, file: &str, read: Vec<String>) -> Option<PeriodCorrection> {
        let entry = self.files.get_mut(key).filter(|e| e.peeked)?;
        entry.peeked = false;
        if entry.periods == read {
            return None;
        }
        let recorded = std::mem::replace(&mut entry.periods, read.clone());
        Some(PeriodCorrection { key: key.to_string(), file: file.to_string(), recorded, read })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileCache {
    /// The reading the periods were learned with ([`crate::ingest::cache::ParsedCache::key`]).
    #[serde(default)]
    pub reading: String,
    pub files: BTreeMap<String, CachedFile>,
}

impl FileCache {
    pub fn path(out: &Path) -> PathBuf {
        out.join("cache").join("files.json")
    }

    /// A missing or unreadable cache is an empty one (it is only a cache).
    pub fn load(out: &Path) -> FileCache {
        std::fs::read_to_string(Self::path(out)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
    }

    pub fn save(&self, out: &Path) -> Result<()> {
        crate::store::write_bytes(&Self::path(out), serde_json::to_string(self)?.as_bytes())
    }
}

/// How each period of a publication was built.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PeriodState {
    pub fingerprint: String,
    /// Whether models and the bulletin were built too (not by an audit-only job).
    pub models: bool,
    /// The workbooks the period was built from, (file name, SHA-256); a `bulletin` job uses only
    /// these.
    #[serde(default)]
    pub files: Vec<(String, String)>,
}

/// A return for a frozen period, held back (see [`hold_frozen`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PendingRevision {
    pub period: String,
    /// The workbook as the inbox knows it, and its SHA-256.
    pub file: String,
    pub sha256: String,
    /// `new` (a workbook the period was not built from) or `withdrawn` (one it was built from
    /// left the inbox).
    pub change: String,
    /// The county account that sent it, in an inbox laid out by sender.
    pub sender: Option<String>,
    /// When gongbao first saw it held (RFC 3339, UTC; kept from night to night in
    /// `state/pending.json`): when it is applied, it ranks among the county's versions by this
    /// time, not by the night of `--revise` (nor by its modification time).
    #[serde(default)]
    pub first_seen: String,
}

/// Holds back the returns of frozen periods (`released`: published as final, see
/// [`crate::publish::Manifest::released_periods`]) that are not being revised (`revise`): such a
/// period keeps exactly the workbooks it was built from; any other workbook of it is removed from
/// `files_of` and returned as a pending revision. When a workbook it was built from has left the
/// inbox, the period cannot be built as released: it is returned in the second set, to be left
/// as published.
pub fn hold_frozen(
    state: &BuildState,
    released: &BTreeSet<String>,
    files_of: &mut BTreeMap<String, Vec<&InboxFile>>,
    revise: &[String],
) -> (Vec<PendingRevision>, BTreeSet<String>) {
    let mut pending = Vec::new();
    let mut untouched = BTreeSet::new();
    let frozen = state.periods.iter().filter(|(p, _)| released.contains(*p) && !revise.contains(p));
    for (period, built) in frozen {
        let files = files_of.entry(period.clone()).or_default();
        let from: BTreeSet<(&str, &str)> = built.files.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
        let (kept, held): (Vec<&InboxFile>, Vec<&InboxFile>) =
            files.iter().copied().partition(|f| from.contains(&(f.name.as_str(), f.sha256.as_str())));
        let held_as = |file: &str, sha256: &str, change: &str, sender: Option<String>| PendingRevision {
            period: period.clone(),
            file: file.to_string(),
            sha256: sha256.to_string(),
            change: change.to_string(),
            sender,
            first_seen: String::new(),
        };
        for f in held {
            pending.push(held_as(&f.name, &f.sha256, "new", f.sender.clone()));
        }
        for (name, sha) in &built.files {
            if !kept.iter().any(|f| &f.name == name && &f.sha256 == sha) {
                pending.push(held_as(name, sha, "withdrawn", None));
                untouched.insert(period.clone());
            }
        }
        *files = kept;
    }
    files_of.retain(|_, v| !v.is_empty());
    pending.sort();
    (pending, untouched)
}

/// The returns held at the last publication (`state/pending.json`).
pub fn pending_path(gen_dir: &Path) -> PathBuf {
    gen_dir.join("state").join("pending.json")
}

pub fn load_pending(gen_dir: Option<&Path>) -> Vec<PendingRevision> {
    gen_dir
        .and_then(|d| std::fs::read_to_string(pending_path(d)).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Writes the held returns into a publication being built (an empty list removes the file).
pub fn save_pending(gen_dir: &Path, pending: &[PendingRevision]) -> Result<()> {
    let path = pending_path(gen_dir);
    if pending.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        };
    }
    crate::store::write_bytes(&path, serde_json::to_string_pretty(pending)?.as_bytes())
}

/// When a version of a return was first seen: the submission history, else the night it was
/// first held (a revision applied by `--revise`), else now (a return new tonight).
#[derive(Debug, Clone)]
pub struct FirstSeen {
    pub now: chrono::DateTime<chrono::Utc>,
    /// The returns held before this run, with when each was first seen.
    pub held: Vec<PendingRevision>,
}

impl FirstSeen {
    pub fn of(&self, history: &[Submission], file: &str, sha256: &str) -> chrono::DateTime<chrono::Utc> {
        first_seen(history, file, sha256).or_else(|| self.held_since(file, sha256)).unwrap_or(self.now)
    }

    /// When a version not in the history yet is recorded as first seen.
    pub fn recorded(&self, file: &str, sha256: &str) -> String {
        seen_at(self.held_since(file, sha256).unwrap_or(self.now))
    }

    fn held_since(&self, file: &str, sha256: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.held
            .iter()
            .filter(|h| h.file == file && h.sha256 == sha256)
            .filter_map(|h| chrono::DateTime::parse_from_rfc3339(&h.first_seen).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .min()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BuildState {
    pub periods: BTreeMap<String, PeriodState>,
}

impl BuildState {
    pub fn path(gen_dir: &Path) -> PathBuf {
        gen_dir.join("state").join("periods.json")
    }

    pub fn load(gen_dir: Option<&Path>) -> Result<BuildState> {
        let Some(dir) = gen_dir else { return Ok(BuildState::default()) };
        let p = Self::path(dir);
        match std::fs::read_to_string(&p) {
            Ok(t) => serde_json::from_str(&t).with_context(|| format!("{} is not valid", p.display())),
            Err(_) => Ok(BuildState::default()),
        }
    }

    pub fn save(&self, gen_dir: &Path) -> Result<()> {
        crate::store::write_bytes(&Self::path(gen_dir), serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// The project's definition files with their SHA-256, as `dir/name=hash` in a fixed order (the
/// part of the definitions' hash that reads files: the bundled fonts are 11 MB, so they are
/// hashed in parallel, each streamed through a small buffer rather than read whole). Not the
/// memory budgets (`config/memory.toml`): those of rows kept in memory change where rows wait
/// between stages, never an output (tests/all/reproducible.rs), so changing them rebuilds
/// nothing; the query engine's, which can, is added by `Project::load`.
pub fn definition_files(project: &Path) -> Vec<String> {
    use rayon::prelude::*;
    let mut files: Vec<(&str, PathBuf)> = Vec::new();
    for dir in ["forms", "rules", "sql", "sql/tests", "templates", "config", "fonts"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(project.join(dir))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        paths.retain(|p| !(dir == "config" && p.file_name().is_some_and(|n| n == "memory.toml")));
        paths.sort();
        files.extend(paths.into_iter().map(|p| (dir, p)));
    }
    files
        .par_iter()
        .filter_map(|(dir, p)| {
            let hash = crate::ingest::guard::hash_file(p).ok()?;
            Some(format!("{dir}/{}={hash}", p.file_name().unwrap_or_default().to_string_lossy()))
        })
        .collect()
}

/// Hash of the project definitions and the reference data (a change rebuilds every period), from
/// the reference tables' hashes and [`definition_files`].
pub fn combine_definitions(reference_hashes: &BTreeMap<String, String>, files: &[String]) -> String {
    let mut parts: Vec<String> = reference_hashes.iter().map(|(k, v)| format!("ref:{k}={v}")).collect();
    // A new gongbao may compute differently: its version and a hash of its source (build.rs) are
    // part of every period's fingerprint.
    parts.push(format!("gongbao={}+{}", env!("CARGO_PKG_VERSION"), env!("GONGBAO_CODE_HASH")));
    parts.extend(files.iter().cloned());
    crate::util::sha256_hex(parts.join("\n").as_bytes())
}

/// The fingerprint of one period (see the module documentation). The files' modification times
/// play no part: which return supersedes which follows when gongbao first saw each (the
/// submission history), which only new files can change.
pub fn fingerprint(definitions: &str, previous: Option<&str>, files: &[&InboxFile]) -> String {
    let mut files = files.to_vec();
    files.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.sha256.cmp(&b.sha256)));
    let mut parts = vec![format!("definitions={definitions}"), format!("previous={}", previous.unwrap_or("-"))];
    parts.extend(files.iter().map(|f| format!("{}={}", f.name, f.sha256)));
    crate::util::sha256_hex(parts.join("\n").as_bytes())
}

/// Files grouped by the periods they hold (from the cache or a fresh read).
pub fn files_by_period<'a>(
    files: &'a [InboxFile],
    periods_of: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<&'a InboxFile>> {
    let mut out: BTreeMap<String, Vec<&InboxFile>> = BTreeMap::new();
    for f in files {
        let ps: BTreeSet<&String> = periods_of.get(&f.key()).into_iter().flatten().collect();
        for p in ps {
            out.entry(p.clone()).or_default().push(f);
        }
    }
    out
}

/// One version of a county's return: the history of submissions (`state/submissions.jsonl`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Submission {
    pub period: String,
    pub region_code: String,
    pub form: String,
    /// When this version was first used (the run's start, UTC).
    pub first_seen: String,
    pub file: String,
    pub sha256: String,
    /// `current`, `superseded` (by a newer return) or `refused`.
    pub status: String,
    pub superseded_by: Option<String>,
}

/// When gongbao first saw a version of a return (file name and SHA-256), from the submission
/// history: the earliest `first_seen` recorded for it. `None` for a file not seen before.
pub fn first_seen(history: &[Submission], file: &str, sha256: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    history
        .iter()
        .filter(|h| h.file == file && h.sha256 == sha256)
        .filter_map(|h| chrono::DateTime::parse_from_rfc3339(&h.first_seen).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .min()
}

/// How a first-seen time is recorded (RFC 3339, UTC, milliseconds: two runs in one second
/// still order their returns).
pub fn seen_at(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn submissions_path(gen_dir: &Path) -> PathBuf {
    gen_dir.join("state").join("submissions.jsonl")
}

pub fn load_submissions(gen_dir: &Path) -> Vec<Submission> {
    std::fs::read_to_string(submissions_path(gen_dir))
        .map(|t| t.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}

pub fn save_submissions(gen_dir: &Path, subs: &[Submission]) -> Result<()> {
    let mut text = String::new();
    for s in subs {
        text.push_str(&serde_json::to_string(s)?);
        text.push('\n');
    }
    crate::store::write_bytes(&submissions_path(gen_dir), text.as_bytes())
}

/// Records the returns a rebuild of `period` used: `now` are (region, form, file, sha256, status)
/// as the run decided. Versions seen before keep their first-seen time; a new one is recorded as
/// first seen at `seen(file, sha256)`; a version no longer used for its county and form
/// becomes `superseded` by the one that is.
pub fn record_submissions(
    history: &mut Vec<Submission>,
    period: &str,
    now: &[(String, String, String, String, String)],
    seen: impl Fn(&str, &str) -> String,
) {
    let current: BTreeMap<(String, String), String> = now
        .iter()
        .filter(|n| n.4 == "current")
        .map(|(r, f, file, _, _)| ((r.clone(), f.clone()), file.clone()))
        .collect();
    for h in history.iter_mut().filter(|h| h.period == period) {
        let used = now.iter().find(|n| n.0 == h.region_code && n.1 == h.form && n.2 == h.file && n.3 == h.sha256);
        match used {
            Some(n) => {
                h.status = n.4.clone();
                h.superseded_by = None;
            }
            None if h.status == "current" => {
                h.status = "superseded".to_string();
                h.superseded_by = current.get(&(h.region_code.clone(), h.form.clone())).cloned();
            }
            None => {}
        }
    }
    for (region, form, file, sha, status) in now {
        let known = history.iter_mut().find(|h| {
            h.period == period && &h.region_code == region && &h.form == form && &h.file == file && &h.sha256 == sha
        });
        match known {
            Some(h) => {
                if status == "superseded" {
                    h.superseded_by = current.get(&(region.clone(), form.clone())).cloned();
                }
            }
            None => history.push(Submission {
                period: period.to_string(),
                region_code: region.clone(),
                form: form.clone(),
                first_seen: seen(file, sha),
                file: file.clone(),
                sha256: sha.clone(),
                status: status.clone(),
                superseded_by: (status == "superseded")
                    .then(|| current.get(&(region.clone(), form.clone())).cloned())
                    .flatten(),
            }),
        }
    }
    history.sort_by(|a, b| {
        (&a.period, &a.region_code, &a.form, &a.first_seen, &a.file).cmp(&(
            &b.period,
            &b.region_code,
            &b.form,
            &b.first_seen,
            &b.file,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, sha: &str, secs: u64) -> InboxFile {
        InboxFile {
            path: PathBuf::from(name),
            name: name.into(),
            sha256: sha.into(),
            modified: std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
            sender: None,
        }
    }

    #[test]
    fn fingerprint_follows_content_and_the_previous_period() {
        let (a, b) = (f("a.xlsx", "1", 10), f("b.xlsx", "2", 20));
        let base = fingerprint("d", None, &[&a, &b]);
        assert_eq!(base, fingerprint("d", None, &[&b, &a]), "listing order does not matter");
        assert_ne!(base, fingerprint("d", None, &[&a, &f("b.xlsx", "3", 20)]), "content");
        // Modification times are the sender's to set: they change nothing.
        assert_eq!(base, fingerprint("d", None, &[&a, &f("b.xlsx", "2", 5)]), "an older mtime");
        assert_eq!(base, fingerprint("d", None, &[&a, &f("b.xlsx", "2", 25)]), "a touch");
        assert_ne!(base, fingerprint("e", None, &[&a, &b]), "definitions");
        assert_ne!(base, fingerprint("d", Some("x"), &[&a, &b]), "previous period");
    }

    #[test]
    fn a_frozen_period_holds_later_returns() {
        let (a, b, c) = (f("a.xlsx", "1", 10), f("b.xlsx", "2", 20), f("c.xlsx", "3", 30));
        let mut state = BuildState::default();
        let built = |files: &[&InboxFile]| PeriodState {
            fingerprint: "x".into(),
            models: true,
            files: files.iter().map(|f| (f.name.clone(), f.sha256.clone())).collect(),
        };
        state.periods.insert("2025-08".into(), built(&[&a]));
        state.periods.insert("2025-09".into(), built(&[&b]));
        let released: BTreeSet<String> = ["2025-08".to_string()].into();
        // b2: a corrected b; c: a late return for the frozen August.
        let b2 = f("b.xlsx", "4", 40);
        let inbox = || -> BTreeMap<String, Vec<&InboxFile>> {
            [("2025-08".to_string(), vec![&a, &c]), ("2025-09".to_string(), vec![&b2])].into_iter().collect()
        };
        let mut files_of = inbox();
        let (pending, untouched) = hold_frozen(&state, &released, &mut files_of, &[]);
        assert_eq!(files_of["2025-08"].iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["a.xlsx"]);
        assert_eq!(files_of["2025-09"][0].sha256, "4", "a draft period takes every return");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].period.as_str(), pending[0].file.as_str(), pending[0].change.as_str()),
            ("2025-08", "c.xlsx", "new")
        );
        assert!(untouched.is_empty());
        // --revise 2025-08 takes it.
        let mut files_of = inbox();
        let (pending, _) = hold_frozen(&state, &released, &mut files_of, &["2025-08".to_string()]);
        assert!(pending.is_empty());
        assert_eq!(files_of["2025-08"].len(), 2);
        // A workbook of the released period left the inbox: left as published.
        let mut files_of: BTreeMap<String, Vec<&InboxFile>> = [("2025-08".to_string(), vec![&c])].into_iter().collect();
        let (pending, untouched) = hold_frozen(&state, &released, &mut files_of, &[]);
        assert_eq!(
            pending.iter().map(|p| (p.file.as_str(), p.change.as_str())).collect::<Vec<_>>(),
            [("a.xlsx", "withdrawn"), ("c.xlsx", "new")]
        );
        assert!(untouched.contains("2025-08"));
        assert!(!files_of.contains_key("2025-08"));
    }

    #[test]
    fn a_resubmission_supersedes_and_history_is_kept() {
        let mut h = Vec::new();
        let row = |file: &str, sha: &str, st: &str| {
            ("370811".to_string(), "JN101".to_string(), file.to_string(), sha.to_string(), st.to_string())
        };
        record_submissions(&mut h, "2025-09", &[row("a.xlsx", "1", "current")], |_, _| "t1".to_string());
        record_submissions(&mut h, "2025-09", &[row("a.xlsx", "2", "current")], |_, _| "t2".to_string());
        assert_eq!(h.len(), 2);
        assert_eq!((h[0].sha256.as_str(), h[0].status.as_str()), ("1", "superseded"));
        assert_eq!(h[0].superseded_by.as_deref(), Some("a.xlsx"));
        assert_eq!((h[1].sha256.as_str(), h[1].status.as_str(), h[1].first_seen.as_str()), ("2", "current", "t2"));
        // Rebuilding with the same return changes nothing.
        let before = h.clone();
        record_submissions(&mut h, "2025-09", &[row("a.xlsx", "2", "current")], |_, _| "t3".to_string());
        assert_eq!(h, before);
    }
}
