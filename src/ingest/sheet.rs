//! One sheet → the rows of one form, mapped through the form definition.
//!
//! The sheet is read as cells first; the header block, the header rows and every column are
//! located by content, never by position, and a column's type comes from the form definition.

use std::borrow::Cow;

use calamine::{Data, Range};

use super::classify::{self, RowKind};
use super::grammar::{self, ColumnParts, Grammar, Lexicon};
use super::header::{self, BlockInfo, cell_text, header_key, normalize, normalized_text};
use super::values::{self, CellProblem, MoneyUnit, Value};
use super::xlsx_cols::is_hidden;
use crate::forms::{FieldType, FormDef, Forms, Layout};
use crate::reference::Region;

/// How far down a sheet the column headers may start.
const HEADER_SCAN_ROWS: u32 = 30;
/// Most header rows above the data (measure, time, unit and a group label).
const MAX_HEADER_ROWS: u32 = 5;

/// Rows from a sheet's first one that decide its form, column headers and header block (hence
/// its county and period): [`read_sheet`] on a range cut to them (by
/// [`super::guard::read_range_head`]) finds what it finds on the whole sheet, but the data rows.
/// `identify` reads the first 9 rows and the header search the first `HEADER_SCAN_ROWS + 1`
/// (row `h` ≤ r0 + 30); `header_band` grows the band to at most `MAX_HEADER_ROWS` rows around `h`,
/// looking one row further only while it is shorter (bottom + 1 ≤ h + 4), and asks whether
/// `bottom < r1` (true on both when the sheet goes on below the cut, whose last row is then
/// r0 + 35); the header block is the rows above the band; `is_continuation` reads 3 rows.
pub const HEAD_ROWS: u32 = HEADER_SCAN_ROWS + MAX_HEADER_ROWS + 1;

/// One data row of a sheet.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// 1-based Excel row.
    pub row: u32,
    /// One value per form column, in the form's column order.
    pub values: Vec<Value>,
    /// Items layout: the item code this row's label matched.
    pub item: Option<String>,
    /// Cells that could not be read: (form column index, absolute 0-based column, problem).
    pub problems: Vec<(usize, u32, CellProblem)>,
    /// A row-level problem (an unknown item label).
    pub row_problem: Option<String>,
    /// The column of the cell that marks a 合计 row (its label), for findings.
    #[serde(default)]
    pub label_col: Option<u32>,
}

/// A non-blank row under the headers that is not data (a note or signature line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkippedRow {
    /// 1-based Excel row.
    pub row: u32,
    /// 0-based column of the cell that says what the row is.
    pub col: u32,
    pub text: String,
}

/// A sheet read through its form.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SheetRead {
    pub form: String,
    pub sheet: String,
    pub hidden: bool,
    pub block: BlockInfo,
    /// Absolute 0-based column of each form column, `None` where the sheet lacks it.
    pub columns: Vec<Option<u32>>,
    /// 1-based rows of the column headers: the first one, and the last one.
    pub header_rows: (u32, u32),
    pub records: Vec<Record>,
    /// 合计 rows (never enterprises; checked against the column sums).
    pub totals: Vec<Record>,
    /// A problem with the whole sheet: every row of it is quarantined with this reason.
    pub refusal: Option<String>,
    /// Note and signature rows under the data, each reported with its cell.
    pub skipped: Vec<SkippedRow>,
    /// Non-blank rows above the data (title, header block, column headers), as ingest saw them.
    pub above_rows: u32,
    /// Form columns read from a hidden sheet column (no visible column has their header).
    pub from_hidden: Vec<usize>,
    /// The money unit of each form column (a unit in its header, else the header block's).
    #[serde(default)]
    pub units: Vec<Option<MoneyUnit>>,
}

struct Grid<'a> {
    range: &'a Range<Data>,
    r0: u32,
    c0: u32,
    r1: u32,
    c1: u32,
}

static EMPTY: Data = Data::Empty;

impl<'a> Grid<'a> {
    fn new(range: &'a Range<Data>) -> Option<Self> {
        let (r0, c0) = range.start()?;
        let (r1, c1) = range.end()?;
        Some(Grid { range, r0, c0, r1, c1 })
    }
    fn get(&self, r: u32, c: u32) -> &'a Data {
        self.range.get_value((r, c)).unwrap_or(&EMPTY)
    }
    fn text(&self, r: u32, c: u32) -> Cow<'a, str> {
        cell_text(self.get(r, c))
    }
    /// The texts of a row's non-blank cells, joined by spaces (numbers written straight in).
    fn row_line(&self, r: u32) -> String {
        let mut line = String::new();
        for c in self.c0..=self.c1 {
            let cell = self.get(r, c);
            if matches!(cell, Data::Empty) {
                continue;
            }
            let start = line.len();
            if start > 0 {
                line.push(' ');
            }
            let text = line.len();
            header::push_cell_text(&mut line, cell);
            if line[text..].trim().is_empty() {
                line.truncate(start);
            }
        }
        line
    }
    fn is_blank_row(&self, r: u32) -> bool {
        (self.c0..=self.c1).all(|c| match self.get(r, c) {
            Data::Empty => true,
            Data::String(s) => s.trim().is_empty(),
            _ => false,
        })
    }
}

/// The number of distinct measures of the form that header cells of row `r` name.
fn header_score(grid: &Grid, grammar: &Grammar, lex: &Lexicon, r: u32) -> usize {
    let mut seen: Vec<usize> = Vec::new();
    for c in grid.c0..=grid.c1 {
        // Headers are text: number cells (most of a sheet's first rows once data starts) never are.
        let Data::String(s) = grid.get(r, c) else { continue };
        if s.trim().is_empty() {
            continue;
        }
        let p = grammar::parse_cell(s, grammar, lex);
        if let (true, Some(m)) = (p.is_header(), p.measure)
            && !seen.contains(&m)
        {
            seen.push(m);
        }
    }
    seen.len()
}

/// The row with the most of the form's measures (the first such row), if it has at least two.
fn best_header_row(grid: &Grid, grammar: &Grammar, lex: &Lexicon) -> Option<(u32, usize)> {
    let last = grid.r1.min(grid.r0 + HEADER_SCAN_ROWS);
    let mut best: Option<(u32, usize)> = None;
    for r in grid.r0..=last {
        let s = header_score(grid, grammar, lex, r);
        if s >= 2 && best.is_none_or(|(_, b)| s > b) {
            best = Some((r, s));
            // A row naming every measure cannot be bettered by a later one.
            if s == lex.names.len() {
                break;
            }
        }
    }
    best
}

/// Whether row `r` continues the column headers: text cells only, most of them header parts
/// (a measure, a time, a unit), and not a `label:value` line of the header block. `need_time`:
/// a row above the measures must hold a time word (本年累计 over a group of columns).
fn is_header_row(grid: &Grid, grammar: &Grammar, lex: &Lexicon, r: u32, need_time: bool) -> bool {
    let (mut header, mut other, mut time) = (0usize, 0usize, false);
    for c in grid.c0..=grid.c1 {
        match grid.get(r, c) {
            Data::Empty => {}
            Data::String(s) if s.trim().is_empty() => {}
            Data::String(s) => {
                if need_time && (s.contains(':') || s.contains('：')) {
                    return false;
                }
                let p = grammar::parse_cell(s, grammar, lex);
                if p.is_header() {
                    header += 1;
                    time |= !p.times.is_empty();
                } else {
                    other += 1;
                }
            }
            _ => return false,
        }
    }
    header >= 1 && other * 2 <= header && (time || !need_time)
}

/// The rows of the column headers: (first, last), 0-based.
fn header_band(grid: &Grid, grammar: &Grammar, lex: &Lexicon) -> Option<(u32, u32)> {
    let (h, _) = best_header_row(grid, grammar, lex)?;
    let (mut top, mut bottom) = (h, h);
    while top > grid.r0 && bottom - top + 1 < MAX_HEADER_ROWS && is_header_row(grid, grammar, lex, top - 1, true) {
        top -= 1;
    }
    while bottom < grid.r1 && bottom - top + 1 < MAX_HEADER_ROWS && is_header_row(grid, grammar, lex, bottom + 1, false)
    {
        bottom += 1;
    }
    Some((top, bottom))
}

/// A sheet column's header: its text (header rows joined by `/`) and what it says.
struct SheetColumn {
    col: u32,
    text: String,
    parts: ColumnParts,
}

/// Reads every sheet column's header. A cell left empty under a merged cell (the text of a
/// merge stands in its first cell) takes the text of the nearest filled cell to its left when
/// a lower header row of its column has text: a merged 工业总产值 spans its 本年累计 and 上年同期.
fn sheet_columns(grid: &Grid, grammar: &Grammar, lex: &Lexicon, (top, bottom): (u32, u32)) -> Vec<SheetColumn> {
    let mut out = Vec::new();
    for c in grid.c0..=grid.c1 {
        let mut cells: Vec<(grammar::CellParts, bool)> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for r in top..=bottom {
            let own = grid.text(r, c);
            if !own.trim().is_empty() {
                cells.push((grammar::parse_cell(&own, grammar, lex), false));
                texts.push(own.trim().to_string());
                continue;
            }
            let below = (r + 1..=bottom).any(|r2| !grid.text(r2, c).trim().is_empty());
            if !below {
                continue;
            }
            if let Some(left) = (grid.c0..c).rev().map(|c2| grid.text(r, c2)).find(|t| !t.trim().is_empty()) {
                cells.push((grammar::parse_cell(&left, grammar, lex), true));
            }
        }
        if texts.is_empty() {
            continue;
        }
        let parts = grammar::combine(&cells, lex);
        out.push(SheetColumn { col: c, text: texts.join("/"), parts });
    }
    out
}

/// Which form a sheet holds: 表号, else sheet name, else title, else the best header match.
/// `top_lines`: the text of the sheet's first 9 rows.
fn identify<'f>(grid: &Grid, top_lines: &[String], sheet_name: &str, forms: &'f Forms) -> Option<&'f FormDef> {
    if let Some(code) = header::find_form_code(top_lines)
        && let Some(f) = forms.get(&code)
    {
        return Some(f);
    }
    let sn = normalize(sheet_name);
    if let Some(f) = forms.forms.iter().find(|f| f.sheet_names.iter().any(|n| normalize(n) == sn)) {
        return Some(f);
    }
    let title = top_lines.iter().take(3).map(|l| normalize(l)).collect::<String>();
    if let Some(f) = forms.forms.iter().find(|f| f.title_keywords.iter().any(|k| title.contains(normalize(k).as_ref())))
    {
        return Some(f);
    }
    forms
        .forms
        .iter()
        .filter_map(|f| {
            let lex = f.lexicon();
            best_header_row(grid, &forms.grammar, lex).map(|(_, s)| (f, s, lex.names.len()))
        })
        .filter(|(_, s, n)| *s >= 3.min(*n))
        .max_by_key(|(_, s, _)| *s)
        .map(|(f, _, _)| f)
}

/// Column letters and header texts, for messages: `D列"工业总产值/本年累计"`.
fn described(c: &SheetColumn) -> String {
    format!("{}列\"{}\"", crate::util::col_letter(c.col), c.text.replace('\n', ""))
}

/// Assigns the sheet's columns to the form's. Returns the refusal, if any: a required column
/// absent, or two visible columns claiming one field; the message lists every header found and
/// what it was taken for.
fn assign_columns(
    form: &FormDef,
    lex: &Lexicon,
    cols: &[SheetColumn],
    hidden_columns: &[(u32, u32)],
    out: &mut SheetRead,
) -> Option<String> {
    let mut taken_for: Vec<Option<usize>> = vec![None; cols.len()];
    let mut doubled: Vec<String> = Vec::new();
    for i in 0..form.columns.len() {
        let cands: Vec<usize> = (0..cols.len()).filter(|&k| grammar::matches(&cols[k].parts, form, lex, i)).collect();
        let (visible, hidden): (Vec<usize>, Vec<usize>) =
            cands.iter().partition(|&&k| !is_hidden(hidden_columns, cols[k].col));
        let pick = match (visible.as_slice(), hidden.first()) {
            ([k], _) => Some(*k),
            ([], Some(&k)) => {
                // A hidden column (a stale copy, say) supplies a form column only when no
                // visible column has its header.
                out.from_hidden.push(i);
                Some(k)
            }
            ([], None) => None,
            many => {
                doubled.push(format!(
                    "{}({})",
                    form.columns[i].display_name(),
                    many.0.iter().map(|&k| described(&cols[k])).collect::<Vec<_>>().join("、")
                ));
                None
            }
        };
        if let Some(k) = pick {
            out.columns[i] = Some(cols[k].col);
            taken_for[k] = Some(i);
            if let Some(grammar::HeaderUnit::Money(m)) = cols[k].parts.unit {
                out.units[i] = Some(m);
            }
        }
        for &k in visible.iter().chain(&hidden) {
            taken_for[k] = taken_for[k].or(Some(i));
        }
    }
    let missing: Vec<String> = form
        .columns
        .iter()
        .zip(&out.columns)
        .filter(|(c, found)| c.required && found.is_none())
        .map(|(c, _)| c.display_name())
        .filter(|name| !doubled.iter().any(|d| d.starts_with(&format!("{name}("))))
        .collect();
    if missing.is_empty() && doubled.is_empty() {
        return None;
    }
    let mut msg = Vec::new();
    if !missing.is_empty() {
        msg.push(format!("缺少必填列: {}", missing.join("、")));
    }
    if !doubled.is_empty() {
        msg.push(format!("多列对应同一栏目: {}", doubled.join("; ")));
    }
    let found: Vec<String> = cols
        .iter()
        .zip(&taken_for)
        .map(|(c, t)| match (t, &c.parts.conflict) {
            (Some(i), _) => format!("{}→{}", described(c), form.columns[*i].display_name()),
            (None, Some(why)) => format!("{}→未采用({why})", described(c)),
            (None, None) => format!("{}→未采用", described(c)),
        })
        .collect();
    Some(format!("{}。表头识别: {}", msg.join("; "), found.join("; ")))
}

/// Reads a sheet. `None` when the sheet holds none of the forms (an instructions sheet, say).
/// `hidden_columns`: the sheet's hidden columns (0-based inclusive ranges; .xlsx / .xlsm only).
pub fn read_sheet(
    range: &Range<Data>,
    sheet_name: &str,
    hidden: bool,
    hidden_columns: &[(u32, u32)],
    forms: &Forms,
    regions: &[Region],
) -> Option<SheetRead> {
    let grid = Grid::new(range)?;
    let top_lines: Vec<String> = (grid.r0..=grid.r1.min(grid.r0 + 8)).map(|r| grid.row_line(r)).collect();
    let form = identify(&grid, &top_lines, sheet_name, forms)?;
    let grammar = &forms.grammar;
    let lex = form.lexicon();
    let mut out = SheetRead {
        form: form.code.clone(),
        sheet: sheet_name.to_string(),
        hidden,
        block: BlockInfo::default(),
        columns: vec![None; form.columns.len()],
        header_rows: (0, 0),
        records: Vec::new(),
        totals: Vec::new(),
        refusal: None,
        skipped: Vec::new(),
        above_rows: 0,
        from_hidden: Vec::new(),
        units: vec![None; form.columns.len()],
    };
    let Some((top, bottom)) = header_band(&grid, grammar, lex) else {
        out.block = header::parse_block(&top_lines, regions);
        out.above_rows = (grid.r0..=grid.r1).filter(|&r| !grid.is_blank_row(r)).count() as u32;
        out.refusal = Some(format!("未找到{}的表头行(应含\"{}\"等列)", form.code, form.columns[0].header));
        return Some(out);
    };
    let block_lines: Vec<String> = (grid.r0..top)
        .map(|r| top_lines.get((r - grid.r0) as usize).cloned().unwrap_or_else(|| grid.row_line(r)))
        .collect();
    out.block = header::parse_block(&block_lines, regions);
    out.header_rows = (top + 1, bottom + 1);
    out.above_rows = (grid.r0..=bottom).filter(|&r| !grid.is_blank_row(r)).count() as u32;
    let cols = sheet_columns(&grid, grammar, lex, (top, bottom));
    out.refusal = assign_columns(form, lex, &cols, hidden_columns, &mut out);
    read_rows(&grid, form, bottom + 1, false, &mut out);
    Some(out)
}

/// Whether a sheet continues the one before it: 续表 (or 续) in its name or its first rows.
pub fn is_continuation(sheet_name: &str, range: &Range<Data>) -> bool {
    if normalize(sheet_name).contains('续') {
        return true;
    }
    let Some(grid) = Grid::new(range) else { return false };
    (grid.r0..=grid.r1.min(grid.r0 + 2)).any(|r| normalize(&grid.row_line(r)).contains("续表"))
}

/// Reads a continuation sheet without headers of its own through the columns, units and header
/// block of the sheet it continues. Only rows with a credit code or numbers are data; the rest
/// (a 续表 title) are reported as skipped.
pub fn read_continuation(
    range: &Range<Data>,
    sheet_name: &str,
    hidden: bool,
    prev: &SheetRead,
    forms: &Forms,
) -> Option<SheetRead> {
    let grid = Grid::new(range)?;
    let form = forms.get(&prev.form)?;
    let mut out = SheetRead {
        form: form.code.clone(),
        sheet: sheet_name.to_string(),
        hidden,
        block: prev.block.clone(),
        columns: prev.columns.clone(),
        header_rows: (0, 0),
        records: Vec::new(),
        totals: Vec::new(),
        refusal: prev.refusal.clone(),
        skipped: Vec::new(),
        above_rows: 0,
        from_hidden: prev.from_hidden.clone(),
        units: prev.units.clone(),
    };
    read_rows(&grid, form, grid.r0, true, &mut out);
    Some(out)
}

/// Reads the rows under the headers (from `data_start`, 0-based) through the sheet's columns.
/// `strict`: only rows with evidence of data (a credit code, numbers) are data.
fn read_rows(grid: &Grid, form: &FormDef, data_start: u32, strict: bool, out: &mut SheetRead) {
    let sheet_unit = out.block.unit.unwrap_or(MoneyUnit::Wanyuan);
    let label_idx = form.columns.iter().position(|c| c.field == form.label_field).expect("validated");
    let unit_idx = form.columns.iter().position(|c| c.field == "unit");
    // Items: the comparison keys of every label and alias of each item, computed once.
    let item_keys: Vec<Vec<String>> = form
        .items
        .iter()
        .map(|it| {
            std::iter::once(&it.label)
                .chain(&it.aliases)
                .map(|l| header_key(l).trim_start_matches("其中").to_string())
                .collect()
        })
        .collect();
    for r in data_start..=grid.r1 {
        let mut kind = classify::classify(|c| grid.get(r, c), grid.c0, grid.c1, form, &out.columns, label_idx);
        if strict && kind == RowKind::Data && !classify::has_evidence(|c| grid.get(r, c), form, &out.columns) {
            let first = (grid.c0..=grid.c1).find(|&c| !grid.text(r, c).trim().is_empty()).unwrap_or(grid.c0);
            kind = RowKind::Note(first);
        }
        let is_total = match kind {
            RowKind::Blank => continue,
            RowKind::Note(c) => {
                out.skipped.push(SkippedRow { row: r + 1, col: c, text: grid.text(r, c).trim().to_string() });
                continue;
            }
            RowKind::Total => true,
            RowKind::Data => false,
        };
        let label = out.columns[label_idx].map(|c| normalized_text(grid.get(r, c))).unwrap_or_default();

        // Items: the label says which item, and the row's unit column may override the sheet's unit.
        let mut item = None;
        let mut row_problem = None;
        let mut row_unit = None;
        if form.layout == Layout::Items && !is_total {
            let key = header_key(&label);
            let key = key.trim_start_matches("其中");
            match form.items.iter().zip(&item_keys).find(|(_, keys)| keys.iter().any(|k| k == key)).map(|(it, _)| it) {
                Some(it) => {
                    item = Some(it.code.clone());
                    let declared_money = MoneyUnit::find_in(&it.unit).is_some();
                    let written = unit_idx
                        .and_then(|u| out.columns[u])
                        .and_then(|c| MoneyUnit::find_in(&normalized_text(grid.get(r, c))));
                    row_unit = Some(if declared_money { written.unwrap_or(sheet_unit) } else { MoneyUnit::Wanyuan });
                }
                None => row_problem = Some(format!("未知的指标名称\"{}\"", label)),
            }
        }
        let label_col = if is_total {
            out.columns[label_idx]
                .filter(|&c| !grid.text(r, c).trim().is_empty())
                .or_else(|| (grid.c0..=grid.c1).find(|&c| normalized_text(grid.get(r, c)).contains("合计")))
        } else {
            None
        };
        let mut rec = Record {
            row: r + 1,
            values: Vec::with_capacity(form.columns.len()),
            item,
            problems: Vec::new(),
            row_problem,
            label_col,
        };
        for (i, col) in form.columns.iter().enumerate() {
            let Some(c) = out.columns[i] else {
                rec.values.push(Value::Null);
                continue;
            };
            let unit = row_unit.or(out.units[i]).unwrap_or(sheet_unit);
            match values::convert(grid.get(r, c), col.ty, unit) {
                Ok(v) => rec.values.push(v),
                Err(p) => {
                    rec.values.push(Value::Null);
                    rec.problems.push((i, c, p));
                }
            }
        }
        if is_total {
            out.totals.push(rec);
        } else {
            out.records.push(rec);
        }
    }
}

/// Rereads the percent columns of a sheet's rows whose cells are displayed as percentages
/// (`is_percent(row, col)`, 0-based absolute): 0.083 shown as 8.3% is 8.3 percent points.
pub fn scale_percent_cells(
    read: &mut SheetRead,
    form: &FormDef,
    range: &Range<Data>,
    is_percent: &dyn Fn(u32, u32) -> bool,
) {
    for (i, col) in form.columns.iter().enumerate() {
        let Some(c) = read.columns.get(i).copied().flatten() else { continue };
        if col.ty != FieldType::Percent {
            continue;
        }
        for rec in read.records.iter_mut().chain(read.totals.iter_mut()) {
            let r = rec.row - 1;
            if is_percent(r, c)
                && let Some(cell) = range.get_value((r, c))
                && let Some(v) = values::percent_points(cell)
            {
                rec.problems.retain(|(j, _, _)| *j != i);
                match v {
                    Ok(v) => rec.values[i] = v,
                    Err(p) => {
                        rec.values[i] = Value::Null;
                        rec.problems.push((i, c, p));
                    }
                }
            }
        }
    }
}
