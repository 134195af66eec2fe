//! Ingest of an untidy county workbook: the clean rows it must give, cell by cell.

use std::path::Path;
use std::str::FromStr;

use gongbao::findings::Severity;
use gongbao::forms::Forms;
use gongbao::ingest::values::Value;
use gongbao::ingest::{self, rule};
use gongbao::reference::Reference;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Formula, Workbook};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn d(s: &str) -> Value {
    Value::Decimal(Decimal::from_str(s).unwrap())
}

/// A JN101 sheet in 千元, columns reordered, a 序号 column, a 合计 row on top, text numbers,
/// an error cell, a blank row and notes under the data; no 表号 line (found by its title).
fn messy_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("规上工业").unwrap();
    let merge = Format::new();
    ws.merge_range(0, 0, 0, 16, "济宁市规模以上工业企业主要经济指标月报", &merge).unwrap();
    ws.write_string(1, 0, "填报单位(盖章):邹城市统计局").unwrap();
    ws.write_string(1, 5, "2025年1—9月").unwrap();
    ws.write_string(1, 9, "计量单位:千元").unwrap();
    // Two-row header: single-level columns merged vertically, pairs merged horizontally.
    let singles = [(0u16, "序号"), (1, "单位详细名称"), (2, "统一社会信用代码"), (3, "行业\n代码")];
    for (c, h) in singles {
        ws.merge_range(2, c, 3, c, h, &merge).unwrap();
    }
    let pairs =
        [(4u16, "营业收入"), (6, "工业总产值（当年价格）"), (8, "工业增加值"), (10, "利润总额"), (12, "出口交货值")];
    for (c, h) in pairs {
        ws.merge_range(2, c, 2, c + 1, h, &merge).unwrap();
        ws.write_string(3, c, "本年累计").unwrap();
        ws.write_string(3, c + 1, "上年同期").unwrap();
    }
    ws.merge_range(2, 14, 3, 14, "期末从业人员(人)", &merge).unwrap();
    ws.merge_range(2, 15, 3, 15, "乡镇", &merge).unwrap();
    ws.merge_range(2, 16, 3, 16, "备注", &merge).unwrap();
    // 合计 on top.
    ws.write_string(4, 1, "合计").unwrap();
    ws.write_number(4, 4, 300000.0).unwrap();
    // Row 6: a tidy enterprise, industry code stored as a number.
    let row = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, vals: &[(u16, &str)]| {
        for (c, v) in vals {
            if let Ok(n) = v.parse::<f64>() {
                ws.write_number(r, *c, n).unwrap();
            } else {
                ws.write_string(r, *c, *v).unwrap();
            }
        }
    };
    row(
        ws,
        5,
        &[
            (0, "1"),
            (1, "邹城市示例机械有限公司"),
            (2, " 91370883mA3c00001x "),
            (3, "610"),
            (4, "120000"),
            (5, "100000"),
            (6, "150000"),
            (7, "130000"),
            (8, "40000"),
            (9, "35000"),
            (10, "-5000"),
            (11, "2000"),
            (14, "320"),
            (15, "太平镇"),
        ],
    );
    ws.write_string(5, 12, "—").unwrap();
    ws.write_string(5, 13, "/").unwrap();
    // Row 7 blank. Row 8: numbers typed as text with separators and full-width digits.
    row(ws, 7, &[(0, "2"), (1, "邹城市示例化工有限公司"), (2, "91370883MA3C00002Y"), (3, "2614")]);
    ws.write_string(7, 4, "1,234,567.8 ").unwrap();
    ws.write_string(7, 5, "１０００００").unwrap();
    row(
        ws,
        7,
        &[
            (6, "2000000"),
            (7, "1800000"),
            (8, "500000"),
            (9, "450000"),
            (10, "100000"),
            (11, "90000"),
            (12, "0"),
            (13, "0"),
            (14, "880"),
        ],
    );
    // Row 9: an error cell where value added should be.
    row(
        ws,
        8,
        &[
            (0, "3"),
            (1, "邹城市示例电力有限公司"),
            (2, "91370883MA3C00003Z"),
            (3, "4411"),
            (4, "50000"),
            (5, "40000"),
            (6, "60000"),
            (7, "50000"),
            (9, "10000"),
            (10, "1000"),
            (11, "900"),
            (14, "60"),
        ],
    );
    ws.write_formula(8, 8, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    ws.write_string(10, 0, "注:本表数据截至报出日期。").unwrap();
    ws.write_string(11, 0, "单位负责人:张三    填表人:李四    报出日期:2025年10月8日").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn messy_sheet_reads_into_clean_rows() {
    let forms = Forms::load(&project().join("forms")).unwrap();
    let reference = Reference::load(&project().join("sample_data/reference")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("邹城_9月_规上工业.xlsx");
    messy_workbook(&path);

    let file = ingest::ingest_file(&path, &forms, &reference.regions);
    assert!(file.refusal.is_none(), "{:?}", file.refusal);
    assert_eq!(file.sheets.len(), 1);
    let sheet = &file.sheets[0];
    assert_eq!(sheet.read.form, "JN101");
    assert_eq!(sheet.region_code.as_deref(), Some("370883"));
    assert_eq!(sheet.period.unwrap().to_string(), "2025-09");
    assert!(sheet.refusal.is_none(), "{:?}", sheet.refusal);
    assert_eq!(sheet.read.totals.len(), 1, "the 合计 row is never an enterprise");
    assert_eq!(sheet.read.records.len(), 3, "blank rows and notes are skipped");

    let form = forms.get("JN101").unwrap();
    let idx = |f: &str| form.columns.iter().position(|c| c.field == f).unwrap();
    let r = &sheet.read.records[0];
    assert_eq!(r.row, 6);
    assert_eq!(r.values[idx("credit_code")], Value::Text("91370883MA3C00001X".into()));
    assert_eq!(r.values[idx("industry_code")], Value::Text("0610".into()));
    // 千元 → 万元, exactly.
    assert_eq!(r.values[idx("revenue_ytd")], d("12000"));
    assert_eq!(r.values[idx("output_ytd")], d("15000"));
    assert_eq!(r.values[idx("va_prev")], d("3500"));
    assert_eq!(r.values[idx("profit_ytd")], d("-500"));
    assert_eq!(r.values[idx("employees")], Value::Int(320));
    let r = &sheet.read.records[1];
    assert_eq!(r.row, 8);
    assert_eq!(r.values[idx("revenue_ytd")], d("123456.78"));
    assert_eq!(r.values[idx("revenue_prev")], d("10000"));
    // The error cell is reported on its cell, never read as 0.
    let r = &sheet.read.records[2];
    assert_eq!(r.values[idx("va_ytd")], Value::Null);
    assert_eq!(r.problems.len(), 1);
    assert!(r.problems[0].2.message.contains("#DIV/0!"));

    let rows = ingest::rows::sheet_rows(form, &file, sheet);
    assert_eq!(rows.rows.num_rows(), 3);
    let f = rows.findings.iter().find(|f| f.location.cell.as_deref() == Some("I9")).expect("finding on I9");
    assert_eq!(f.rule_id, "JN101-E03");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("工业增加值") && f.message.contains("#DIV/0!"), "{}", f.message);
    // Blank export cells ("—", "/") are 0 by the form's definition.
    assert!(rows.findings.iter().all(|f| f.location.row != Some(6)), "{:?}", rows.findings);
}

#[test]
fn files_that_are_not_returns_are_refused_alone() {
    let forms = Forms::load(&project().join("forms")).unwrap();
    let reference = Reference::load(&project().join("sample_data/reference")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let not_xlsx = dir.path().join("任城区_2025年1-9月.xlsx");
    std::fs::write(&not_xlsx, "this is a text file").unwrap();
    let f = ingest::ingest_file(&not_xlsx, &forms, &reference.regions);
    assert!(f.refusal.as_deref().unwrap().contains("不是 Excel"), "{:?}", f.refusal);
    let empty = dir.path().join("空.xlsx");
    std::fs::write(&empty, "").unwrap();
    assert!(ingest::ingest_file(&empty, &forms, &reference.regions).refusal.unwrap().contains("为空"));

    // A January-only return is refused with the reason.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "济宁市规模以上工业企业主要经济指标月报").unwrap();
    ws.write_string(1, 0, "表号:JN101").unwrap();
    ws.write_string(2, 0, "填报单位:任城区统计局 2025年1月").unwrap();
    for (c, h) in ["统一社会信用代码", "单位详细名称", "行业代码"].iter().enumerate() {
        ws.write_string(3, c as u16, *h).unwrap();
    }
    let jan = dir.path().join("jan.xlsx");
    wb.save(&jan).unwrap();
    let f = ingest::ingest_file(&jan, &forms, &reference.regions);
    assert!(f.sheets.is_empty(), "refused as a whole, for its period alone");
    assert_eq!(f.findings[0].rule_id, rule::JANUARY_ONLY);
    assert!(f.refusal.as_deref().unwrap().contains("1—2月"));
}
