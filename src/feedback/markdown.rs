//! The short Markdown summary of a county's feedback.

use std::collections::BTreeMap;

use crate::findings::{Finding, Severity};
use crate::period::Period;
use crate::reference::Region;

/// How many findings the summary lists one by one (the workbook has them all).
pub const LISTED: usize = 20;

/// Text from a return made inert in Markdown: characters that open emphasis, code, links, HTML,
/// tables or entities are backslash-escaped, and line breaks become spaces (so a value can never
/// start a heading, list or table row of its own).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The county's summary: counts by rule, then the first [`LISTED`] findings with their cells.
pub fn summary(
    region: &Region,
    period: Period,
    findings: &[&Finding],
    workbook_name: &str,
    notes: &BTreeMap<String, String>,
) -> String {
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = findings.iter().filter(|f| f.severity == Severity::Warning).count();
    let explained = findings.iter().filter(|f| f.severity == Severity::Warning && f.explained).count();
    let mut md = String::new();
    md.push_str(&format!("# {} {}报表审核反馈\n\n", escape(&region.name), period.full_label()));
    md.push_str(&format!(
        "报告期 {period}({})。共 {} 条审核问题:强制性错误 {errors} 条,核实性问题 {warnings} 条(已在备注中说明 {explained} 条)。\n\n",
        period.label(),
        findings.len()
    ));
    if errors > 0 {
        md.push_str("- 强制性错误所在的数据行未采用,请更正后重新报送。\n");
    }
    if warnings > explained {
        md.push_str("- 核实性问题的数据已采用,请逐条核实;数据属实的,请在该行\"备注\"中说明原因。\n");
    }
    md.push_str(&format!(
        "- 全部问题见同名 Excel 文件 {}:\"审核问题\"表逐条列出,报表副本中问题单元格已标色(红色为强制性、黄色为核实性)并附批注。\n\n",
        escape(workbook_name)
    ));

    md.push_str("## 按规则统计\n\n| 规则 | 类别 | 条数 | 已说明 |\n|---|---|---:|---:|\n");
    let mut by_rule: BTreeMap<(&str, Severity), (usize, usize)> = BTreeMap::new();
    for f in findings {
        let e = by_rule.entry((f.rule_id.as_str(), f.severity)).or_default();
        e.0 += 1;
        e.1 += usize::from(f.explained);
    }
    for ((rule, severity), (n, ex)) in &by_rule {
        let ex = if *severity == Severity::Warning { ex.to_string() } else { "—".to_string() };
        md.push_str(&format!("| {} | {} | {n} | {ex} |\n", escape(rule), severity.chinese()));
    }

    md.push_str(&format!("\n## 问题明细(前 {} 条)\n\n", LISTED.min(findings.len())));
    for (i, f) in findings.iter().take(LISTED).enumerate() {
        let mut place = escape(&f.location.file);
        if let Some(sheet) = &f.location.sheet {
            place.push_str(&format!(" 工作表 {}", escape(sheet)));
        }
        match (&f.location.cell, f.location.row) {
            (Some(cell), _) => place.push_str(&format!(" 单元格 {}", escape(cell))),
            (None, Some(row)) => place.push_str(&format!(" 第{row}行")),
            _ => {}
        }
        // Which note a warning was taken to be explained by (or why a note was not taken).
        let note = match f.severity {
            Severity::Warning if f.explained || f.row_key.as_ref().is_some_and(|k| notes.contains_key(k)) => {
                format!("({})", escape(&super::explained_text(f, notes)))
            }
            _ => String::new(),
        };
        md.push_str(&format!(
            "{}. {place} [{} {}]{note}:{}\n",
            i + 1,
            escape(&f.rule_id),
            f.severity.chinese(),
            escape(&f.message)
        ));
    }
    if findings.len() > LISTED {
        md.push_str(&format!("\n其余 {} 条见 Excel 文件。\n", findings.len() - LISTED));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_text_is_inert() {
        assert_eq!(escape("a*b_c[d](e)"), "a\\*b\\_c\\[d\\](e)");
        assert_eq!(escape("<script>|x|"), "\\<script\\>\\|x\\|");
        assert_eq!(escape("line\n# heading"), "line \\# heading");
        assert_eq!(escape("工业增加值(12,345.6)"), "工业增加值(12,345.6)");
    }
}
