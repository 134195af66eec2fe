//! What a workbook's sheets add up to: which sheets are returns (a hidden sheet only when it is
//! the only sheet of its form), which sheets are reported as not read, and whether the whole
//! file is refused for its period alone.

use super::{IngestedFile, rule};
use crate::findings::{Finding, Severity};
use crate::period::Period;

/// A sheet `read_sheet` found no form in: (name, hidden, non-blank rows).
pub type OtherSheet = (String, bool, u32);

fn finding(
    file: &IngestedFile,
    sheet: &str,
    region: Option<String>,
    rule_id: &str,
    severity: Severity,
    message: String,
) -> Finding {
    Finding {
        period: None,
        region_code: region,
        form: None,
        location: file.location(Some(sheet)),
        row_key: None,
        rule_id: rule_id.to_string(),
        severity,
        observed: String::new(),
        message,
        explained: false,
    }
}

/// Settles a workbook once its sheets are read: drops hidden copies of forms a visible sheet
/// holds, warns on a hidden sheet read as the only one of its form, reports sheets that are no
/// form in a workbook that holds forms, and refuses a file whose every return is refused for
/// its period (a January return) as a whole, to be reported in the period it should have been.
pub fn settle(out: &mut IngestedFile, others: &[OtherSheet]) {
    let region = out.sheets.iter().find_map(|s| s.region_code.clone());
    // Hidden sheets: a return only when no visible sheet holds the same form.
    let visible_forms: Vec<String> =
        out.sheets.iter().filter(|s| !s.read.hidden).map(|s| s.read.form.clone()).collect();
    for s in std::mem::take(&mut out.sheets) {
        if !s.read.hidden {
            out.sheets.push(s);
        } else if visible_forms.contains(&s.read.form) {
            let msg =
                format!("隐藏工作表\"{}\"({})未作为报表读入:本文件另有该表的可见工作表", s.read.sheet, s.read.form);
            let f = finding(out, &s.read.sheet, s.region_code.clone(), rule::HIDDEN_SHEET_SKIPPED, Severity::Info, msg);
            out.findings.push(f);
            out.findings
                .retain(|f| !(f.location.sheet.as_deref() == Some(&s.read.sheet) && f.severity == Severity::Error));
            out.unread.push(s.read.sheet.clone());
        } else {
            let msg = format!(
                "工作表\"{}\"为隐藏工作表,是本文件中唯一的{}表,已按报表读入,请核实是否为应报数据",
                s.read.sheet, s.read.form
            );
            let f = finding(out, &s.read.sheet, s.region_code.clone(), rule::HIDDEN_SHEET, Severity::Warning, msg);
            out.findings.push(f);
            out.sheets.push(s);
        }
    }
    // Sheets that are no form: reported when the workbook holds forms (else the file is refused).
    for (name, hidden, rows) in others {
        out.unread.push(name.clone());
        if out.sheets.is_empty() || *rows == 0 {
            continue;
        }
        let what = if *hidden { "隐藏工作表" } else { "工作表" };
        let msg =
            format!("{what}\"{name}\"({rows}行)不是可识别的报表(表号 JN101—JN104),未读入;如为报表数据请按报表格式填报");
        let f = finding(out, name, region.clone(), rule::UNKNOWN_SHEET, Severity::Warning, msg);
        out.findings.push(f);
    }
    refuse_for_period(out);
}

/// The period a return refused for its period belongs to: the first of its year (1—2月) for a
/// January return.
fn first_period_of(year: i32) -> Option<Period> {
    Period::new(year, 2).ok()
}

/// A file whose every sheet is refused for its period alone is refused as a whole: it creates
/// no period of its own, and is reported in the period it should have been (or its name says).
fn refuse_for_period(out: &mut IngestedFile) {
    let period_rules = [rule::JANUARY_ONLY, rule::BAD_PERIOD];
    let refused =
        |s: &super::IngestedSheet| s.refusal.as_ref().is_some_and(|(r, _)| period_rules.contains(&r.as_str()));
    if out.sheets.is_empty() || !out.sheets.iter().all(refused) {
        return;
    }
    let sheets = std::mem::take(&mut out.sheets);
    let (_, why) = sheets[0].refusal.clone().expect("refused");
    let hint = sheets.iter().find_map(|s| match &s.refusal {
        Some((r, _)) if r == rule::JANUARY_ONLY => s.period.and_then(|p| first_period_of(p.year)),
        _ => None,
    });
    out.period_hint =
        hint.or_else(|| super::header::find_period(&out.file).filter(|m| !m.january_only).map(|m| m.period));
    for s in &sheets {
        out.unread.push(s.read.sheet.clone());
        // The sheet's refusal finding now speaks for the file, with the county it names.
        for f in out.findings.iter_mut().filter(|f| f.location.sheet.as_deref() == Some(&s.read.sheet)) {
            f.region_code = f.region_code.clone().or_else(|| s.region_code.clone());
        }
    }
    out.refusal = Some(why);
}

/// INGEST-W02 for the county: its return `file` for `form` and `period` is superseded by the
/// later return `by`, whose rows are used instead.
pub fn superseded_finding(file: &IngestedFile, form: &str, region: &str, period: &str, by: &str) -> Finding {
    let sheet = file.sheets.iter().find(|s| s.read.form == form).map(|s| s.read.sheet.clone());
    Finding {
        period: Some(period.to_string()),
        region_code: Some(region.to_string()),
        form: Some(form.to_string()),
        location: file.location(sheet.as_deref()),
        row_key: None,
        rule_id: rule::SUPERSEDED.to_string(),
        severity: Severity::Warning,
        observed: format!("superseded_by={by}"),
        message: format!("{form}报表\"{}\"已被后报送的\"{by}\"替代,本期采用后者的数据;如有误请重新报送", file.file),
        explained: false,
    }
}
