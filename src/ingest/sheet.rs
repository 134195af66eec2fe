//! One sheet → the rows of one form, mapped through the form definition.
//!
//! The sheet is read as cells first; the header block, the header rows and every column are
//! located by content, never by position, and a column's type comes from the form definition.

use std::borrow::Cow;

use calamine::{Data, Range};

use super::header::{self, BlockInfo, cell_text, header_key, header_key_into, normalize, normalized_text};
use super::values::{self, CellProblem, MoneyUnit, Value};
use super::xlsx_cols::is_hidden;
use crate::forms::{FieldType, FormDef, Forms, Layout};
use crate::reference::Region;

/// How far down a sheet the column headers may start.
const HEADER_SCAN_ROWS: u32 = 30;
/// Words that start a note row under the data (not an enterprise).
const NOTE_PREFIXES: &[&str] = &[
    "注",
    "说明:",
    "说明：",
    "备注:",
    "备注：",
    "单位负责人",
    "统计负责人",
    "填表人",
    "联系电话",
    "报出日期",
    "审核人",
    "制表人",
    "填报说明",
];

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
    /// 1-based rows of the column headers.
    pub header_rows: (u32, u32),
    pub records: Vec<Record>,
    /// 合计 rows (never enterprises; checked against the column sums).
    pub totals: Vec<Record>,
    /// A problem with the whole sheet: every row of it is quarantined with this reason.
    pub refusal: Option<String>,
    /// Rows skipped as blank or notes, for the record.
    pub skipped_rows: u32,
    /// Form columns read from a hidden sheet column (no visible column has their header).
    pub from_hidden: Vec<usize>,
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
    fn row_texts(&self, r: u32) -> impl Iterator<Item = (u32, Cow<'a, str>)> + '_ {
        (self.c0..=self.c1).filter_map(move |c| {
            let t = cell_text(self.get(r, c));
            (!t.trim().is_empty()).then_some((c, t))
        })
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
}

/// The comparison keys of every spelling of each column's top header, computed once per form.
fn header_keys(form: &FormDef) -> Vec<Vec<String>> {
    form.columns.iter().map(|c| FormDef::header_names(c).map(header_key).filter(|k| !k.is_empty()).collect()).collect()
}

/// How many distinct columns of `form` have their top header in row `r`.
fn header_score(grid: &Grid, form: &FormDef, keys: &[Vec<String>], r: u32, buf: &mut String) -> usize {
    let mut matched = vec![false; keys.len()];
    for c in grid.c0..=grid.c1 {
        // Headers are text: number cells (most of a sheet's first rows once data starts) never are.
        let Data::String(s) = grid.get(r, c) else { continue };
        header_key_into(s, buf);
        if buf.is_empty() {
            continue;
        }
        for (m, col_keys) in matched.iter_mut().zip(keys) {
            *m = *m || col_keys.iter().any(|k| k == buf);
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for (col, _) in form.columns.iter().zip(&matched).filter(|(_, m)| **m) {
        if !seen.contains(&col.header.as_str()) {
            seen.push(&col.header);
        }
    }
    seen.len()
}

/// The row with the most of the form's headers (the first such row), if it has at least two.
fn best_header_row(grid: &Grid, form: &FormDef) -> Option<(u32, usize)> {
    let keys = header_keys(form);
    let last = grid.r1.min(grid.r0 + HEADER_SCAN_ROWS);
    // A row holding every distinct header cannot be bettered by a later one: stop there.
    let mut distinct: Vec<&str> = form.columns.iter().map(|c| c.header.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut buf = String::new();
    let mut best: Option<(u32, usize)> = None;
    for r in grid.r0..=last {
        let s = header_score(grid, form, &keys, r, &mut buf);
        if s >= 2 && best.is_none_or(|(_, b)| s > b) {
            best = Some((r, s));
            if s == distinct.len() {
                break;
            }
        }
    }
    best
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
        .filter_map(|f| best_header_row(grid, f).map(|(_, s)| (f, s)))
        .filter(|(f, s)| *s >= 3.min(f.columns.len()))
        .max_by_key(|(_, s)| *s)
        .map(|(f, _)| f)
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
        skipped_rows: 0,
        from_hidden: Vec::new(),
    };
    let Some((h, _)) = best_header_row(&grid, form) else {
        out.block = header::parse_block(&top_lines, regions);
        out.refusal = Some(format!("未找到{}的表头行(应含\"{}\"等列)", form.code, form.columns[0].header));
        return Some(out);
    };
    let block_lines: Vec<String> = (grid.r0..h)
        .map(|r| top_lines.get((r - grid.r0) as usize).cloned().unwrap_or_else(|| grid.row_line(r)))
        .collect();
    out.block = header::parse_block(&block_lines, regions);

    // A second header row holds the sub-headers (本年累计 / 上年同期) under merged top headers.
    let subs: Vec<String> = form.columns.iter().filter_map(|c| c.sub_header.as_deref()).map(header_key).collect();
    let two_rows =
        h < grid.r1 && !subs.is_empty() && grid.row_texts(h + 1).any(|(_, t)| subs.contains(&header_key(&t)));
    let data_start = if two_rows { h + 2 } else { h + 1 };
    out.header_rows = (h + 1, data_start);

    // Top header of each sheet column; a merged top header spreads over the sub-headers under it.
    let mut tops: Vec<(u32, String, String)> = Vec::new(); // (col, top, sub)
    let mut last_top = String::new();
    for c in grid.c0..=grid.c1 {
        let top = cell_text(grid.get(h, c)).into_owned();
        let sub = if two_rows { cell_text(grid.get(h + 1, c)).into_owned() } else { String::new() };
        let top = if top.trim().is_empty() && !sub.trim().is_empty() && subs.contains(&header_key(&sub)) {
            last_top.clone()
        } else {
            top
        };
        if !top.trim().is_empty() {
            last_top = top.clone();
        }
        tops.push((c, top, sub));
    }
    // Keys computed once: (top key, sub key) of each sheet column, every spelling of each form column.
    let keys = header_keys(form);
    let top_keys: Vec<(String, String)> = tops.iter().map(|(_, t, s)| (header_key(t), header_key(s))).collect();
    let mut col_units: Vec<Option<MoneyUnit>> = vec![None; form.columns.len()];
    for (i, col) in form.columns.iter().enumerate() {
        let sub_key = col.sub_header.as_deref().map(header_key);
        // The first sheet column with the header, visible ones first: a hidden column (a stale
        // copy, say) supplies a form column only when no visible column has its header.
        let found = tops
            .iter()
            .zip(&top_keys)
            .filter(|((c, top, _), (tk, sk))| {
                !out.columns.contains(&Some(*c))
                    && match &sub_key {
                        Some(sh) => keys[i].contains(tk) && sk == sh,
                        None => keys[i].contains(tk) || (top.trim().is_empty() && keys[i].contains(sk)),
                    }
            })
            .min_by_key(|((c, _, _), _)| is_hidden(hidden_columns, *c));
        if let Some(((c, top, sub), _)) = found {
            out.columns[i] = Some(*c);
            if is_hidden(hidden_columns, *c) {
                out.from_hidden.push(i);
            }
            if col.ty == FieldType::Amount {
                col_units[i] = MoneyUnit::find_in(&normalize(top)).or_else(|| MoneyUnit::find_in(&normalize(sub)));
            }
        }
    }
    let missing: Vec<String> = form
        .columns
        .iter()
        .zip(&out.columns)
        .filter(|(c, found)| c.required && found.is_none())
        .map(|(c, _)| c.display_name())
        .collect();
    if !missing.is_empty() {
        out.refusal = Some(format!("缺少必填列: {}", missing.join("、")));
    }

    let sheet_unit = out.block.unit.unwrap_or(MoneyUnit::Wanyuan);
    let note_prefixes: Vec<String> = NOTE_PREFIXES.iter().map(|p| normalize(p).into_owned()).collect();
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
        // The first cell with anything in it (an error value counts); none: a blank row.
        let Some(first_cell) = (grid.c0..=grid.c1).map(|c| grid.get(r, c)).find(|d| match d {
            Data::Empty => false,
            Data::String(s) => !s.trim().is_empty(),
            _ => true,
        }) else {
            out.skipped_rows += 1;
            continue;
        };
        let first = normalized_text(first_cell);
        if note_prefixes.iter().any(|p| first.starts_with(p.as_str())) {
            out.skipped_rows += 1;
            continue;
        }
        let label = out.columns[label_idx].map(|c| normalized_text(grid.get(r, c))).unwrap_or_default();
        let is_total = ["合计", "总计", "全县合计", "全区合计", "全市合计"].iter().any(|t| label == *t || first == *t)
            || (label.is_empty() && first.contains("合计"));

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
        let mut rec = Record {
            row: r + 1,
            values: Vec::with_capacity(form.columns.len()),
            item,
            problems: Vec::new(),
            row_problem,
        };
        for (i, col) in form.columns.iter().enumerate() {
            let Some(c) = out.columns[i] else {
                rec.values.push(Value::Null);
                continue;
            };
            let unit = row_unit.or(col_units[i]).unwrap_or(sheet_unit);
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
    Some(out)
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
