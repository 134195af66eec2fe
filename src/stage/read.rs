//! Stage 1, read: a period's workbooks (from the parsed-workbook cache when unchanged) become
//! typed rows with provenance, one [`SheetRows`] per sheet; a corrected return supersedes the
//! earlier one.

use std::collections::BTreeMap;

use crate::ingest::IngestedFile;
use crate::ingest::cache::ParsedCache;
use crate::ingest::parallel::{CacheWrites, read_each};
use crate::ingest::rows::{SheetRows, sheet_rows};
use crate::project::Project;
use crate::stage::plan::PlannedPeriod;
use crate::store::staged::{StagedSheet, Staging};
use crate::summary::{Refusal, RunSummary, Superseded};

/// A period's returns, as read.
pub struct PeriodReturns {
    /// The workbooks read (their parsed cells dropped once the rows are in Arrow).
    pub files: Vec<IngestedFile>,
    /// The sheets the period uses, one per form × county (the newest return), in a stable order;
    /// their data rows are staged (`staging`: held in memory within its budget, on disk past it).
    pub sheets: Vec<StagedSheet>,
    pub staging: Staging,
    /// Earlier returns replaced by newer ones (kept on record).
    pub superseded: Vec<Superseded>,
    /// How many workbooks were opened (the others came from the cache).
    pub opened: usize,
    /// The rows of each sheet read (for the "无遗漏" check, once the records are dropped).
    pub counts: Vec<crate::ingest::tally::SheetCount>,
    /// The periods of each workbook read whole, as `cache/files.json` records them: (key, name,
    /// periods), to confirm or correct what a peek recorded.
    pub periods_read: Vec<(String, String, Vec<String>)>,
}

/// `history` and `seen` order the versions of a county's return: by when gongbao first saw each
/// (a return held for a frozen period: the night it was held; files not seen before: now), never
/// by modification time. Each sheet's data rows are staged (`staging`) as soon as its workbook is
/// read; only a failure to write there (a full disk) is an error.
pub fn read_period(
    project: &Project,
    planned: &PlannedPeriod,
    cache: &ParsedCache,
    history: &[crate::incremental::Submission],
    seen: &crate::incremental::FirstSeen,
    staging: Staging,
) -> anyhow::Result<PeriodReturns> {
    let paths: Vec<&crate::incremental::InboxFile> = planned.files.iter().collect();
    // Each workbook becomes Arrow rows as soon as it is read, staged (held in memory within the
    // staging's budget, written to its folder past it), and its parsed cells and rows are dropped
    // there: a period's rows are in memory only up to that budget, besides those of the workbooks
    // being read (one per thread).
    let (read, opened) =
        read_each(&paths, &project.forms, &project.reference.regions, cache, CacheWrites::Keep, |inbox, mut f| {
            let periods = (inbox.key(), inbox.name.clone(), crate::stage::plan::periods_of_read(&f));
            let mut sheets = Vec::new();
            for sh in f.sheets.iter().filter(|sh| sh.period == planned.period) {
                let form = project.forms.get(&sh.read.form).expect("sheet of a known form");
                // Files first seen together (one night, or a rebuild from scratch without
                // history) can only be told apart by what they say of themselves: modification
                // time, then name.
                let first = seen.of(history, &f.file, &f.sha256);
                let staged = staging.stage(&form.table, sheet_rows(form, &f, sh));
                sheets.push(staged.map(|s| (s, (first, f.modified.unwrap_or(std::time::UNIX_EPOCH)))));
            }
            let counts = crate::ingest::tally::sheet_counts(std::slice::from_ref(&f), planned.period);
            for sh in &mut f.sheets {
                sh.read.records = Vec::new();
                sh.read.totals = Vec::new();
            }
            (f, sheets, counts, periods)
        });
    let mut files = Vec::with_capacity(read.len());
    let mut sheets = Vec::new();
    let mut counts = Vec::new();
    let mut periods_read = Vec::with_capacity(read.len());
    for (f, s, c, p) in read {
        files.push(f);
        periods_read.push(p);
        for sheet in s {
            sheets.push(sheet?);
        }
        counts.extend(c);
    }
    tracing::info!(period = %planned.name, files = files.len(), opened, "workbooks read");
    let (sheets, superseded) = supersede(sheets);
    for x in &superseded {
        tracing::warn!("{} ({}, {}, {}) is superseded by {}", x.file, x.form, x.region_code, x.period, x.by);
    }
    // The sheets used, combined for the audit: into one file per form, unless the form's sheets
    // are all held in memory, where the audit scans them.
    let sheets = staging.combine(&project.forms, sheets)?;
    tracing::debug!(period = %planned.name, held_bytes = staging.held_bytes(), "staged rows combined");
    Ok(PeriodReturns { files, sheets, staging, superseded, opened, counts, periods_read })
}

impl PeriodReturns {
    /// Where the non-blank rows of the period's sheets went, the audit's rows included.
    pub fn row_tally(
        &self,
        planned: &PlannedPeriod,
        outcome: &crate::audit::AuditOutcome,
    ) -> crate::ingest::tally::RowTally {
        let gone: Vec<(String, String, String)> =
            self.superseded.iter().map(|x| (x.file.clone(), x.form.clone(), x.region_code.clone())).collect();
        crate::ingest::tally::period_tally(
            &self.files,
            planned.period,
            &self.counts,
            &gone,
            outcome.accepted_rows(),
            outcome.quarantined_rows(),
        )
    }

    /// Adds the period's files, refusals and supersessions to the run's summary (a workbook
    /// holding several periods is counted once).
    pub fn tally(&self, planned: &PlannedPeriod, s: &mut RunSummary) {
        s.files_opened += self.opened;
        for f in &self.files {
            match &f.refusal {
                Some(why) if s.files_refused.insert(f.path.clone()) => {
                    s.refusals.push(Refusal { file: f.file.clone(), sheet: None, reason: why.clone() })
                }
                Some(_) => {}
                None => {
                    s.files_used.insert(f.path.clone());
                }
            }
            for sh in f.sheets.iter().filter(|sh| sh.period == planned.period) {
                if let Some((_, why)) = &sh.refusal {
                    s.refusals.push(Refusal {
                        file: f.file.clone(),
                        sheet: Some(sh.read.sheet.clone()),
                        reason: why.clone(),
                    });
                }
            }
        }
        s.files_ingested = s.files_used.len();
        s.superseded.extend(self.superseded.iter().cloned());
        s.superseded.sort();
    }
}

/// Picks, for each form × county × period, the newest return; the others are kept on record.
pub fn supersede<R, K: Ord>(mut sheets: Vec<(SheetRows<R>, K)>) -> (Vec<SheetRows<R>>, Vec<Superseded>) {
    // Newest first: modification time, then file name (a later upload usually sorts later).
    sheets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.file.cmp(&a.0.file)));
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut superseded = Vec::new();
    for (s, _) in sheets {
        let (Some(region), Some(period)) = (&s.region_code, s.period) else {
            kept.push(s);
            continue;
        };
        let key = (s.form.clone(), region.clone(), period.to_string());
        match seen.get(&key) {
            Some(newer) if *newer != s.file => {
                superseded.push(Superseded {
                    file: s.file.clone(),
                    by: newer.clone(),
                    form: s.form.clone(),
                    region_code: region.clone(),
                    period: period.to_string(),
                });
            }
            _ => {
                seen.insert(key, s.file.clone());
                kept.push(s);
            }
        }
    }
    kept.sort_by(|a, b| {
        (&a.form, &a.region_code, &a.file, &a.sheet).cmp(&(&b.form, &b.region_code, &b.file, &b.sheet))
    });
    superseded.sort();
    (kept, superseded)
}
