//! The "无遗漏" check: the non-blank rows of every sheet, counted straight from the raw cells
//! (independently of how ingest reads them), must each be accounted for: above the data (title,
//! header block, column headers), accepted, quarantined, skipped with a finding (合计 and note
//! rows), in a sheet not read as a return (reported), or in a superseded return (reported).
//! A mismatch means a row went missing without a word, and fails the run before it publishes.

use calamine::{Data, Range};

use super::IngestedFile;
use crate::period::Period;

/// The non-blank rows of a sheet: rows with a cell that is not empty or blank text. A plain
/// count over the cells, sharing no code with the reading of rows.
pub fn nonblank_rows(range: &Range<Data>) -> u32 {
    let mut n = 0u32;
    for row in range.rows() {
        if row.iter().any(|d| match d {
            Data::Empty => false,
            Data::String(s) => !s.trim().is_empty(),
            _ => true,
        }) {
            n += 1;
        }
    }
    n
}

/// Where the non-blank rows of a period's sheets went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowTally {
    /// Counted from the raw cells.
    pub counted: u64,
    /// Title, header block and column header rows.
    pub above: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// 合计 and note rows, each reported with its cell.
    pub skipped: u64,
    /// Rows of sheets not read as returns (not a form, a hidden copy, a file refused for its
    /// period), each sheet reported.
    pub unread: u64,
    /// Data rows of superseded returns (INGEST-W02).
    pub superseded: u64,
}

impl RowTally {
    pub fn accounted(&self) -> u64 {
        self.above + self.accepted + self.quarantined + self.skipped + self.unread + self.superseded
    }

    pub fn balanced(&self) -> bool {
        self.counted == self.accounted()
    }

    pub fn add(&mut self, o: &RowTally) {
        self.counted += o.counted;
        self.above += o.above;
        self.accepted += o.accepted;
        self.quarantined += o.quarantined;
        self.skipped += o.skipped;
        self.unread += o.unread;
        self.superseded += o.superseded;
    }

    /// The summary line, in Chinese.
    pub fn line(&self) -> String {
        format!(
            "非空行 {} = 表头 {} + 采用 {} + 隔离 {} + 跳过 {} + 未读表 {} + 被替代 {} ({})",
            self.counted,
            self.above,
            self.accepted,
            self.quarantined,
            self.skipped,
            self.unread,
            self.superseded,
            if self.balanced() { "无遗漏" } else { "行数不符!" }
        )
    }
}

/// The periods a workbook's rows belong to: those of its sheets; for a file refused as a whole,
/// the period it is reported in (`period_hint`, else the period its name gives, else unknown).
/// Never no period: a refused file must not go unreported. `None` is the unknown period.
pub fn periods_of_file(file: &IngestedFile) -> Vec<Option<Period>> {
    let mut periods: Vec<Option<Period>> = file.sheets.iter().map(|s| s.period).collect();
    if periods.is_empty() {
        let named = super::header::find_period(&file.file).filter(|m| !m.january_only).map(|m| m.period);
        periods.push(file.period_hint.or(named));
    }
    periods.sort();
    periods.dedup();
    periods
}

/// What one read sheet holds, kept for the tally once its records are gone.
#[derive(Debug, Clone)]
pub struct SheetCount {
    pub file: String,
    pub sheet: String,
    pub form: String,
    pub region_code: Option<String>,
    pub period: Option<Period>,
    pub records: u64,
    pub above: u64,
    /// 合计 and note rows.
    pub skipped: u64,
}

/// The sheets of `files` in `period`, with their row counts (taken before the records and 合计
/// rows are dropped).
pub fn sheet_counts(files: &[IngestedFile], period: Option<Period>) -> Vec<SheetCount> {
    files
        .iter()
        .flat_map(|f| {
            f.sheets.iter().filter(|s| s.period == period).map(|s| SheetCount {
                file: f.file.clone(),
                sheet: s.read.sheet.clone(),
                form: s.read.form.clone(),
                region_code: s.region_code.clone(),
                period: s.period,
                records: s.read.records.len() as u64,
                above: u64::from(s.read.above_rows),
                skipped: (s.read.skipped.len() + s.read.totals.len()) as u64,
            })
        })
        .collect()
}

/// The tally of one period: `files` the period's workbooks, `counts` from [`sheet_counts`],
/// `superseded` the (file, form, region) of returns superseded in it, `accepted` and
/// `quarantined` the audit's row counts.
pub fn period_tally(
    files: &[IngestedFile],
    period: Option<Period>,
    counts: &[SheetCount],
    superseded: &[(String, String, String)],
    accepted: u64,
    quarantined: u64,
) -> RowTally {
    let mut t = RowTally { accepted, quarantined, ..RowTally::default() };
    for c in counts {
        t.above += c.above;
        t.skipped += c.skipped;
    }
    // Every sheet the counter saw counts in the period it was read for; a sheet not read as a
    // return (or dropped) counts in the first period of its workbook.
    for f in files {
        let home = periods_of_file(f).first().copied().flatten();
        for (name, n) in &f.sheet_rows {
            let p = f.sheets.iter().find(|s| s.read.sheet == *name).map_or(home, |s| s.period);
            if p != period {
                continue;
            }
            t.counted += u64::from(*n);
            if f.unread.contains(name) {
                t.unread += u64::from(*n);
            }
        }
    }
    for c in counts {
        let gone = superseded.iter().any(|(file, form, region)| {
            *file == c.file && *form == c.form && c.region_code.as_ref() == Some(region) && c.period == period
        });
        if gone {
            t.superseded += c.records;
        }
    }
    t
}
