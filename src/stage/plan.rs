//! Stage 0, plan: recover from a killed run, scan the inbox by content hash, learn the periods of
//! workbooks not seen before, and decide which periods to rebuild and why. The plan prints as
//! text (`gongbao run --dry-run`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::incremental::{self, BuildState, FileCache, InboxFile, PendingRevision};
use crate::ingest::cache::ParsedCache;
use crate::ingest::parallel::{CacheWrites, peek_each, read_each};
use crate::ingest::{self, IngestedFile};
use crate::job::Job;
use crate::period::Period;
use crate::project::Project;

/// Which periods the run covers and what it does with them.
#[derive(Debug, Clone)]
pub struct Selection {
    /// One period only (`--period`).
    pub period: Option<Period>,
    /// A range (`--from/--to`, a schedule's `periods`).
    pub from: Option<Period>,
    pub to: Option<Period>,
    /// Rebuild the selected periods even when nothing changed (backfill).
    pub force: bool,
    /// Frozen periods whose held returns are applied (`--revise`).
    pub revise: Vec<Period>,
    pub job: Job,
}

impl Selection {
    /// Whether models and bulletins are built (an `audit` job stops at the county feedback).
    pub fn with_models(&self) -> bool {
        self.job != Job::Audit
    }

    fn whole_inbox(&self) -> bool {
        self.period.is_none() && self.from.is_none() && self.to.is_none()
    }
}

/// A period to rebuild, with the workbooks it is built from.
#[derive(Debug, Clone)]
pub struct PlannedPeriod {
    /// `None`: sheets and files whose period is unknown.
    pub period: Option<Period>,
    /// `YYYY-MM` or `unknown`.
    pub name: String,
    /// What the period's outputs depend on (see [`incremental::fingerprint`]).
    pub fingerprint: String,
    pub files: Vec<InboxFile>,
    /// Why it is rebuilt, in words for the operator.
    pub reasons: Vec<String>,
}

impl PlannedPeriod {
    /// The id of this build of the period (in the findings table).
    pub fn build_id(&self) -> &str {
        &self.fingerprint[..16]
    }
}

/// What the run will do.
#[derive(Debug)]
pub struct Plan {
    /// A hash of the inbox and the definitions: the same inputs give the same id.
    pub run_id: String,
    /// The latest period selected: the one the summary reports on.
    pub target: Period,
    /// Every period the inbox holds.
    pub inbox_periods: Vec<Period>,
    /// Every workbook of the inbox (the parsed-workbook cache is pruned to them).
    pub inbox: Vec<InboxFile>,
    /// How many workbooks this job uses (a bulletin job: only those already audited).
    pub files_seen: usize,
    /// Workbooks not seen before, opened to learn their periods.
    pub files_new: usize,
    pub files_opened: usize,
    /// Workbooks not seen before whose periods were learned from the heads of their sheets
    /// only (a run of some periods, see [`ingest::peek_file`]).
    pub files_peeked: usize,
    /// What this plan learned changed `cache/files.json` (to be saved even if nothing is built).
    pub file_cache_changed: bool,
    /// Workbooks an earlier run only peeked at, whose full read (a run of the whole inbox)
    /// found other periods: corrected in `file_cache` before the periods were planned.
    pub corrections: Vec<incremental::PeriodCorrection>,
    /// A bulletin job: workbooks not audited yet, left for the next `run` or `audit`.
    pub waiting: Vec<String>,
    pub rebuild: Vec<PlannedPeriod>,
    pub with_models: bool,
    /// The publication the run builds on, and how its periods were built.
    pub published: Option<PathBuf>,
    pub state: BuildState,
    /// The periods of every workbook seen (`cache/files.json`), with what this plan learned.
    pub file_cache: FileCache,
    /// Returns for periods released as final (frozen), held until `--revise`; not rebuilt.
    pub pending: Vec<PendingRevision>,
    /// The returns held at the last publication (`state/pending.json`), with when each was
    /// first seen.
    pub held_before: Vec<PendingRevision>,
    /// The notes telling each county its return is held: (path in the publication, Markdown).
    pub pending_notes: Vec<(PathBuf, String)>,
    /// The current publication already holds exactly these notes and this list of held returns.
    pub pending_published: bool,
    /// What became of each `--revise` period that had nothing to apply, for the operator.
    pub revise_notes: Vec<String>,
}

impl Plan {
    /// Nothing to rebuild, and the held returns are already reported.
    pub fn nothing_new(&self) -> bool {
        self.rebuild.is_empty() && self.pending_published
    }

    pub fn planned_names(&self) -> Vec<String> {
        self.rebuild.iter().map(|p| p.name.clone()).collect()
    }
}

/// Makes the plan. With `dry_run`, nothing in `out` is touched: no recovery, no cache writes.
pub fn plan(
    project: &Project,
    inbox: &Path,
    out: &Path,
    sel: &Selection,
    parsed: &ParsedCache,
    dry_run: bool,
) -> Result<Plan> {
    if !dry_run {
        crate::publish::recover(out)?;
    }
    crate::publish::verify_current(out)?;
    let published = crate::publish::current(out);
    let state = BuildState::load(published.as_deref())?;
    let released = released_periods(published.as_deref());
    let held_before = incremental::load_pending(published.as_deref());

    // Scan the inbox by content hash.
    let inbox_files = incremental::scan_inbox(inbox, &ingest::list_inbox(inbox)?);
    let (scanned, waiting) = match sel.job {
        // A bulletin job publishes what has been audited: the workbooks the current publication
        // was built from (refused ones included). Returns that arrived since wait for the next
        // `run` or `audit` job.
        Job::Bulletin => {
            let audited: BTreeSet<(&str, &str)> =
                state.periods.values().flat_map(|p| &p.files).map(|(n, h)| (n.as_str(), h.as_str())).collect();
            let (audited, waiting): (Vec<_>, Vec<_>) =
                inbox_files.iter().cloned().partition(|f| audited.contains(&(f.name.as_str(), f.sha256.as_str())));
            if !waiting.is_empty() {
                tracing::warn!(
                    files = waiting.len(),
                    "bulletin job: workbooks not audited yet are left for the next run or audit job"
                );
            }
            if audited.is_empty() {
                bail!("no audited return in {}: run an `audit` or `run` job first", out.display());
            }
            (audited, waiting.into_iter().map(|f| f.name).collect())
        }
        _ => (inbox_files.clone(), Vec::new()),
    };

    // Workbooks not seen before are opened to learn their periods. A run of the whole inbox
    // reads each whole (it builds from every one) and keeps the read in the parsed-workbook
    // cache, not in memory (the periods are built one at a time). A run of some periods builds
    // from few of them: the others are only peeked at (the heads of their sheets, which give
    // the same periods), and the read stage reads whole those it builds from.
    let mut file_cache = FileCache::load(out);
    // Periods learned by another reading (other forms, regions or code) may be wrong now.
    if file_cache.reading != parsed.key() {
        file_cache = FileCache { reading: parsed.key().to_string(), ..Default::default() };
    }
    let whole = sel.whole_inbox();
    // (An entry without periods is from before refused files were given one: look again.)
    let new_files: Vec<&InboxFile> =
        scanned.iter().filter(|f| file_cache.files.get(&f.key()).is_none_or(|c| c.periods.is_empty())).collect();
    // Periods only peeked at by an earlier run are confirmed by a run of the whole inbox.
    let unconfirmed: Vec<&InboxFile> = scanned
        .iter()
        .filter(|f| whole && file_cache.files.get(&f.key()).is_some_and(|c| c.peeked && !c.periods.is_empty()))
        .collect();
    tracing::info!(files = scanned.len(), new = new_files.len(), unconfirmed = unconfirmed.len(), inbox = %inbox.display(), "inbox scanned");
    let writes = if dry_run { CacheWrites::Discard } else { CacheWrites::Keep };
    let (learned, files_opened, files_peeked) = if whole {
        let to_read: Vec<&InboxFile> = new_files.iter().chain(&unconfirmed).copied().collect();
        let (learned, opened) =
            read_each(&to_read, &project.forms, &project.reference.regions, parsed, writes, |f, read| {
                let learned = (f.key(), f.name.clone(), periods_of_read(&read));
                // Held for the read stage, which needs it again this run.
                if writes == CacheWrites::Keep {
                    parsed.hold(read);
                }
                learned
            });
        (learned, opened, 0)
    } else {
        let learned = peek_each(&new_files, &project.forms, &project.reference.regions, |f, read| {
            (f.key(), f.name.clone(), periods_of_read(&read))
        });
        (learned, 0, new_files.len())
    };
    let file_cache_changed = !learned.is_empty();
    let mut corrections = Vec::new();
    for (key, name, periods) in learned {
        if !whole {
            file_cache.files.insert(key, incremental::CachedFile { periods, peeked: true });
        } else if let Some(c) = confirm_read(&mut file_cache, &key, &name, periods.clone()) {
            corrections.push(c);
        } else {
            file_cache.files.insert(key, incremental::CachedFile { periods, peeked: false });
        }
    }
    let periods_of: BTreeMap<String, Vec<String>> =
        file_cache.files.iter().map(|(k, v)| (k.clone(), v.periods.clone())).collect();
    let mut files_of = incremental::files_by_period(&scanned, &periods_of);
    let run_id = run_id(&scanned, &project.definitions);

    // Periods released as final are frozen: a return that arrives for one later is held as a
    // pending revision (reported, never lost) and applied only by `--revise`.
    let revise: Vec<String> = sel.revise.iter().map(|p| p.to_string()).collect();
    let (mut pending, untouched) = incremental::hold_frozen(&state, &released, &mut files_of, &revise);
    if sel.job == Job::Bulletin {
        // A bulletin job looks at no return that arrived since the audit: what was held stays held.
        pending = held_before.clone();
    }
    let now = incremental::seen_at(chrono::Utc::now());
    for p in &mut pending {
        let before = held_before.iter().find(|h| (&h.period, &h.file, &h.sha256) == (&p.period, &p.file, &p.sha256));
        p.first_seen = before.map(|h| h.first_seen.clone()).filter(|t| !t.is_empty()).unwrap_or_else(|| now.clone());
    }
    for p in &pending {
        tracing::warn!(period = %p.period, file = %p.file, change = %p.change, "a return for a period released as final is held until `gongbao run --revise {}`", p.period);
    }
    let pending_notes = crate::feedback::pending::notes(&pending, &project.reference.regions);
    let pending_published = held_before == pending
        && published.as_deref().is_none_or(|d| crate::feedback::pending::are_written(d, &pending_notes));
    let revise_notes = revise_notes(&revise, &released, &held_before, &pending);

    // Which periods this run covers, and which of them changed.
    let inbox_periods: Vec<Period> = files_of.keys().filter_map(|k| k.parse().ok()).collect();
    let selected = selected_periods(&inbox_periods, sel)?;
    let target = *selected.last().expect("a period");
    // A frozen period whose returns left the inbox stays as published, and in the chain.
    let kept: Vec<Period> = untouched.iter().filter_map(|k| k.parse().ok()).collect();
    let all_periods: BTreeSet<Period> = inbox_periods.iter().chain(&selected).chain(&kept).copied().collect();
    let files_in = |key: &str| -> Vec<&InboxFile> { files_of.get(key).cloned().unwrap_or_default() };
    let mut rebuild: Vec<PlannedPeriod> = Vec::new();
    if sel.whole_inbox() && files_of.contains_key("unknown") {
        let files = files_in("unknown");
        let fp = incremental::fingerprint(&project.definitions, None, &files);
        let built = state.periods.get("unknown");
        if sel.force || built.map(|s| &s.fingerprint) != Some(&fp) {
            let reasons = reasons(built, &files, sel.force, false, false);
            rebuild.push(planned(None, fp, &files, reasons));
        }
    }
    let mut previous_built: Option<String> = None;
    let mut previous_rebuilt = false;
    for p in &all_periods {
        let key = p.to_string();
        let files = files_in(&key);
        let fp = incremental::fingerprint(&project.definitions, previous_built.as_deref(), &files);
        let built = state.periods.get(&key);
        let models_missing = sel.with_models() && built.is_some_and(|b| !b.models);
        let stale = built.is_none_or(|b| b.fingerprint != fp) || models_missing;
        let rebuilt = selected.contains(p) && !untouched.contains(&key) && (stale || sel.force);
        let built_fp = if rebuilt {
            let mut reasons = reasons(built, &files, sel.force, models_missing, previous_rebuilt);
            if released.contains(&key) && revise.contains(&key) {
                reasons.insert(0, "发布修订(--revise, 该期已正式发布)".to_string());
            }
            rebuild.push(planned(Some(*p), fp.clone(), &files, reasons));
            fp
        } else {
            built.map(|b| b.fingerprint.clone()).unwrap_or(fp)
        };
        previous_rebuilt = rebuilt;
        previous_built = Some(built_fp);
    }
    Ok(Plan {
        run_id,
        target,
        inbox_periods,
        files_seen: scanned.len(),
        files_new: new_files.len(),
        files_opened,
        files_peeked,
        file_cache_changed,
        corrections,
        waiting,
        rebuild,
        with_models: sel.with_models(),
        published,
        state,
        file_cache,
        inbox: inbox_files,
        pending,
        held_before,
        pending_notes,
        pending_published,
        revise_notes,
    })
}

/// The periods the current publication released as final (see
/// [`crate::publish::Manifest::released_periods`] for why they are read from there). The
/// manifest was verified just before; without one nothing is frozen.
fn released_periods(published: Option<&Path>) -> BTreeSet<String> {
    let Some(dir) = published else { return BTreeSet::new() };
    match crate::publish::read_manifest(dir) {
        Ok(m) => m.released_periods(),
        Err(e) => {
            tracing::warn!("{e:#}: no period is taken as released");
            BTreeSet::new()
        }
    }
}

/// For each `--revise` period with nothing to apply, why (a period that is not frozen is built
/// as usual).
fn revise_notes(
    revise: &[String],
    released: &BTreeSet<String>,
    held_before: &[PendingRevision],
    pending: &[PendingRevision],
) -> Vec<String> {
    let mut notes = Vec::new();
    for p in revise {
        if !released.contains(p) {
            notes.push(format!("--revise {p}: 该期尚未正式发布(草稿或未生成), 无需修订, 照常处理"));
        } else if !held_before.iter().chain(pending).any(|h| &h.period == p) {
            notes.push(format!("--revise {p}: 该期没有暂存的修订报表"));
        }
    }
    notes
}

fn planned(period: Option<Period>, fingerprint: String, files: &[&InboxFile], reasons: Vec<String>) -> PlannedPeriod {
    PlannedPeriod {
        name: period.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string()),
        period,
        fingerprint,
        files: files.iter().map(|f| (*f).clone()).collect(),
        reasons,
    }
}

/// The run id: a hash of everything the outputs depend on (the inbox's files and the project's
/// definitions), so the same inputs give the same id.
fn run_id(files: &[InboxFile], definitions: &str) -> String {
    let mut parts: Vec<String> = files.iter().map(|f| format!("{}={}", f.name, f.sha256)).collect();
    parts.push(format!("definitions={definitions}"));
    crate::util::sha256_hex(parts.join("\n").as_bytes())[..16].to_string()
}

/// The periods a run covers: one (`--period`), a range (every month of it, returns or not:
/// a backfill), or every period of the inbox.
fn selected_periods(inbox_periods: &[Period], sel: &Selection) -> Result<Vec<Period>> {
    let selected: Vec<Period> = match (sel.period, sel.from, sel.to) {
        (Some(p), _, _) => vec![p],
        (None, from, to) => {
            let mut v: Vec<Period> = inbox_periods
                .iter()
                .copied()
                .filter(|p| from.is_none_or(|f| *p >= f) && to.is_none_or(|t| *p <= t))
                .collect();
            if let (Some(mut p), Some(t)) = (from, to) {
                while p <= t {
                    v.push(p);
                    p = if p.month == 12 {
                        Period { year: p.year + 1, month: 1 }
                    } else {
                        Period { month: p.month + 1, ..p }
                    };
                }
            }
            v.sort();
            v.dedup();
            v
        }
    };
    if selected.is_empty() {
        match (sel.from, sel.to) {
            (None, None) => bail!("the inbox holds no readable return for any period"),
            _ => bail!("no period of the inbox lies between {:?} and {:?}", sel.from, sel.to),
        }
    }
    Ok(selected)
}

/// Why a period is rebuilt, for the operator.
fn reasons(
    built: Option<&incremental::PeriodState>,
    files: &[&InboxFile],
    forced: bool,
    models_missing: bool,
    previous_rebuilt: bool,
) -> Vec<String> {
    let mut why = Vec::new();
    if forced {
        why.push("按要求重建(--from/--to)".to_string());
    }
    let Some(built) = built else {
        why.push("尚未生成过".to_string());
        return why;
    };
    if models_missing {
        why.push("上次只做了审核,需生成模型和公报".to_string());
    }
    let before: BTreeMap<&str, &str> = built.files.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    let now: BTreeMap<&str, &str> = files.iter().map(|f| (f.name.as_str(), f.sha256.as_str())).collect();
    let added: Vec<&str> = now.keys().filter(|n| !before.contains_key(*n)).copied().collect();
    let changed: Vec<&str> =
        now.iter().filter(|(n, h)| before.get(*n).is_some_and(|b| b != *h)).map(|(n, _)| *n).collect();
    let removed: Vec<&str> = before.keys().filter(|n| !now.contains_key(*n)).copied().collect();
    for (what, names) in [("新增报表", &added), ("报表有更改", &changed), ("报表已移出收件箱", &removed)]
    {
        if !names.is_empty() {
            why.push(format!("{what}: {}", names.join("、")));
        }
    }
    let files_same = added.is_empty() && changed.is_empty() && removed.is_empty();
    if files_same && previous_rebuilt {
        why.push("上一报告期重建(跨期审核和累计模型读取它)".to_string());
    } else if files_same && !models_missing && !forced {
        why.push("表式、审核规则、SQL、模板、配置、参考数据或程序有变".to_string());
    }
    why
}

/// The periods a workbook holds, as `cache/files.json` records them. A file refused as a whole
/// belongs to the period it is reported in (`tally::periods_of_file`: 1—2月 for a January
/// return, else the period its name gives), so that its county hears of it in that period's
/// feedback and the period is rebuilt; without one, to `unknown`. Never to no period: a refused
/// file must not go unreported.
pub fn periods_of_read(read: &IngestedFile) -> Vec<String> {
    let name = |p: Option<Period>| p.map(|p| p.to_string()).unwrap_or_else(|| "unknown".to_string());
    let mut periods: Vec<String> = ingest::tally::periods_of_file(read).into_iter().map(name).collect();
    periods.sort();
    periods
}

/// Confirms or corrects what a peek recorded of a workbook now read whole ([`FileCache::confirm`]),
/// with a warning where its periods differ: the record is corrected (the periods it left and
/// joins are rebuilt by the next run that selects them, their files having changed).
pub fn confirm_read(
    cache: &mut FileCache,
    key: &str,
    file: &str,
    read: Vec<String>,
) -> Option<incremental::PeriodCorrection> {
    let c = cache.confirm(key, file, read)?;
    tracing::warn!(
        file = %c.file,
        recorded = %c.recorded.join(","),
        read = %c.read.join(","),
        "the periods a workbook was peeked to hold differ from those its full read gives; cache/files.json corrected, the periods concerned are rebuilt by the next run that selects them"
    );
    Some(c)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let periods: Vec<String> = self.inbox_periods.iter().map(|p| p.to_string()).collect();
        writeln!(f, "gongbao 运行计划(试运行,未改写任何文件)  run {}", self.run_id)?;
        writeln!(
            f,
            "  收件箱: {} 个文件, 其中新文件 {} 个; 报告期 {}",
            self.files_seen,
            self.files_new,
            if periods.is_empty() { "-".to_string() } else { periods.join(", ") }
        )?;
        if !self.waiting.is_empty() {
            writeln!(f, "  尚未审核、留待下次 run 或 audit 作业: {}", self.waiting.join("、"))?;
        }
        write_pending(f, &self.pending)?;
        for n in &self.revise_notes {
            writeln!(f, "  {n}")?;
        }
        if self.rebuild.is_empty() && !self.pending_published {
            return writeln!(f, "  不重新生成任何报告期; 将发布新的修订暂存通知(审核反馈)。");
        }
        if self.rebuild.is_empty() {
            return writeln!(f, "  没有新的或变更的报表: 各报告期已是最新, 不会改写任何输出。");
        }
        let what = if self.with_models { "审核、模型、公报和审核反馈" } else { "审核和审核反馈" };
        writeln!(f, "  将重新生成 {} 个报告期({what}):", self.rebuild.len())?;
        for p in &self.rebuild {
            writeln!(f, "    {}  ({} 个文件)  {}", p.name, p.files.len(), p.reasons.join("; "))?;
        }
        Ok(())
    }
}

/// The returns held for frozen periods, one line each (the plan and the run's summary).
pub fn write_pending(f: &mut impl fmt::Write, pending: &[PendingRevision]) -> fmt::Result {
    if pending.is_empty() {
        return Ok(());
    }
    writeln!(
        f,
        "  已正式发布的报告期不重建, 其后收到的报表暂存为待修订, 经审定后用 gongbao run --revise YYYY-MM 发布修订 ({} 项):",
        pending.len()
    )?;
    for p in pending {
        let what = if p.change == "withdrawn" {
            "发布所用的报表已移出收件箱, 该期保持已发布的数据"
        } else {
            "已暂存, 未使用"
        };
        writeln!(f, "    {}  {}  {what} (--revise {})", p.period, p.file, p.period)?;
    }
    Ok(())
}

impl Plan {
    /// The run's summary before any period is built.
    pub fn summary(&self) -> crate::summary::RunSummary {
        let mut s = crate::summary::RunSummary::new(self.run_id.clone(), self.target);
        s.periods = self.inbox_periods.clone();
        s.files_seen = self.files_seen;
        s.files_new = self.files_new;
        s.files_opened = self.files_opened;
        s.files_peeked = self.files_peeked;
        s.period_corrections = self.corrections.iter().map(incremental::PeriodCorrection::shown).collect();
        s.pending_revisions = self.pending.clone();
        s.revise_notes = self.revise_notes.clone();
        s
    }

    /// Notes the plan in the run's progress record (for the record of a run killed before it ends).
    pub fn note(&self, r: &mut crate::ledger::RunRecord) {
        r.run_id = self.run_id.clone();
        r.files_seen = self.files_seen;
        r.rebuilt = self.planned_names();
    }
}
