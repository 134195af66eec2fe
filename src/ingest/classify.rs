//! What a non-blank row under a form's headers is: data, a 合计 row, or a note.
//!
//! Evidence of data wins over words: a row with a credit code, or with anything in the form's
//! number columns, is data whatever its first cell says (an enterprise called 注塑… is an
//! enterprise). Only a row without either may be a note (注:…, signatures); a 合计 row is known by
//! its label and never has a credit code.

use calamine::Data;

use super::header::normalized_text;
use crate::forms::{FieldType, FormDef};

/// Words that start a note row under the data (after normalising: half-width, no spaces).
const NOTE_PREFIXES: &[&str] = &[
    "说明:",
    "备注:",
    "单位负责人",
    "统计负责人",
    "填表人",
    "联系电话",
    "报出日期",
    "填报日期",
    "审核人",
    "制表人",
    "填报说明",
];

/// Labels of a 合计 row.
const TOTAL_LABELS: &[&str] = &["合计", "总计", "全县合计", "全区合计", "全市合计", "合计数"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Blank,
    Data,
    /// A 合计 row: never an enterprise, checked against the column sums.
    Total,
    /// A note or signature line; the column of the cell that says so.
    Note(u32),
}

/// Does the text open a note: 注 followed by a mark (注:, 注1, 注①, 注、) or alone, or a
/// signature word? 注塑厂 is not a note.
fn is_note(text: &str) -> bool {
    if let Some(rest) = text.strip_prefix('注') {
        return match rest.chars().next() {
            None => true,
            Some(c) => !is_cjk(c),
        };
    }
    NOTE_PREFIXES.iter().any(|p| text.starts_with(p))
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Whether a cell holds something other than a "nothing" mark.
fn has_value(d: &Data) -> bool {
    match d {
        Data::Empty => false,
        Data::String(s) => !matches!(s.trim(), "" | "-" | "—" | "——" | "–" | "/" | "－" | "--"),
        _ => true,
    }
}

/// A credit code (a `code` column) in the row: anything there but words (a title or note
/// spilling into the column is no code; a malformed code still is, to be reported).
fn has_code<'a>(get: &impl Fn(u32) -> &'a Data, form: &FormDef, columns: &[Option<u32>]) -> bool {
    form.columns.iter().zip(columns).any(|(col, c)| {
        col.ty == FieldType::Code
            && c.is_some_and(|c| {
                let d = get(c);
                has_value(d) && !matches!(d, Data::String(s) if s.chars().any(is_cjk))
            })
    })
}

/// Numbers in the form's number columns: number and error cells, text with digits and no words
/// (a note spilling over the column is no number).
fn has_numbers<'a>(get: &impl Fn(u32) -> &'a Data, form: &FormDef, columns: &[Option<u32>]) -> bool {
    form.columns.iter().zip(columns).any(|(col, c)| {
        matches!(col.ty, FieldType::Amount | FieldType::Count | FieldType::Percent)
            && c.is_some_and(|c| match get(c) {
                Data::Empty => false,
                Data::String(s) => {
                    s.chars().any(|ch| ch.is_ascii_digit() || ('０'..='９').contains(&ch)) && !s.chars().any(is_cjk)
                }
                _ => true,
            })
    })
}

/// Whether a row shows data: a credit code or numbers.
pub fn has_evidence<'a>(get: impl Fn(u32) -> &'a Data, form: &FormDef, columns: &[Option<u32>]) -> bool {
    has_code(&get, form, columns) || has_numbers(&get, form, columns)
}

/// Classifies row `r`. `get(c)` reads a cell of the row; `c0..=c1` the sheet's columns;
/// `columns` the sheet column of each form column; `label` the form's label column.
pub fn classify<'a>(
    get: impl Fn(u32) -> &'a Data,
    c0: u32,
    c1: u32,
    form: &FormDef,
    columns: &[Option<u32>],
    label: usize,
) -> RowKind {
    let Some(first_col) = (c0..=c1).find(|&c| match get(c) {
        Data::Empty => false,
        Data::String(s) => !s.trim().is_empty(),
        _ => true,
    }) else {
        return RowKind::Blank;
    };
    if has_code(&get, form, columns) {
        return RowKind::Data;
    }
    let first = normalized_text(get(first_col));
    let label_text = columns[label].map(|c| normalized_text(get(c))).unwrap_or_default();
    if TOTAL_LABELS.iter().any(|t| label_text == *t || first == *t) || (label_text.is_empty() && first.contains("合计"))
    {
        return RowKind::Total;
    }
    if has_numbers(&get, form, columns) {
        return RowKind::Data;
    }
    if is_note(&first) { RowKind::Note(first_col) } else { RowKind::Data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_marked_words_not_any_zhu() {
        for t in ["注:本表数据截至报出日期", "注1.金额单位万元", "注", "注、", "单位负责人:张三", "说明:无"]
        {
            assert!(is_note(t), "{t}");
        }
        for t in ["注塑机械有限公司", "注册资本", "济宁市注塑厂"] {
            assert!(!is_note(t), "{t}");
        }
    }
}
