//! The ingest fixture corpus: every untidy way FORMS.md says county returns arrive, each with the
//! exact clean rows it must give, or the exact refusal (rule id and message).
//!
//! Most workbooks are written here from code (the sample generator's messy mode,
//! `gongbao::sample::messy`), so the corpus can be read as code. The .xls, .ods, encrypted .xlsx
//! and zip-bomb files are committed under tests/fixtures/ingest/, made by
//! scripts/make_ingest_fixtures.py; the password-protected .xls is built from bytes here (a
//! minimal compound file whose `Workbook` stream holds BOF, FILEPASS, EOF).

use crate::ingest_support::{Env, canonical, clean, column, expected, project};
use gongbao::findings::Severity;
use gongbao::ingest::{self, IngestedFile, message, rule};
use gongbao::sample::messy::{
    self, FormMark, Nothing, Numbers, PeriodStyle, Presentation, TotalPlace, Unit, UnitPlace,
};
use rust_xlsxwriter::{Format, Formula, Workbook};

const FILE: &str = "邹城市_2025年1-9月_倍增监测报表.xlsx";

/// Writes the canonical data in presentation `p` as `file`, ingests it and checks that it gives
/// exactly the canonical rows for 邹城市 (370883), 2025-09, with no error of any kind.
fn same_rows(file: &str, p: &Presentation) -> IngestedFile {
    let env = Env::new();
    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", p).unwrap();
    let f = env.ingest(file, &bytes);
    assert!(f.refusal.is_none(), "{:?}", f.refusal);
    assert_eq!(f.sheets.len(), 1, "one form sheet, decoys ignored: {:?}", f.findings);
    let s = &f.sheets[0];
    assert_eq!(s.read.form, "JN101");
    assert!(s.refusal.is_none(), "{:?}", s.refusal);
    assert_eq!(s.region_code.as_deref(), Some("370883"));
    assert_eq!(s.period.unwrap().to_string(), "2025-09");
    let expect_totals = usize::from(p.total != TotalPlace::None);
    assert_eq!(s.read.totals.len(), expect_totals, "the 合计 row is recognised, never an enterprise");
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
    assert!(f.findings.iter().all(|x| x.severity == Severity::Warning), "{:?}", f.findings);
    f
}

fn tidy() -> Presentation {
    Presentation::default()
}

/// No finding but 提示 (the 合计 and note rows, each reported with its cell).
fn only_info(findings: &[gongbao::findings::Finding]) -> bool {
    findings.iter().all(|f| f.severity == Severity::Info)
}

// ---------------------------------------------------------------------------------------------
// Presentations that must give exactly the canonical rows.

#[test]
fn c01_tidy_return() {
    let f = same_rows(FILE, &tidy());
    assert!(f.findings.is_empty(), "{:?}", f.findings);
}

#[test]
fn c02_unit_yuan_in_header_block() {
    same_rows(FILE, &Presentation { unit: Unit::Yuan, ..tidy() });
}

#[test]
fn c03_unit_qianyuan_in_header_block() {
    same_rows(FILE, &Presentation { unit: Unit::Qianyuan, ..tidy() });
}

#[test]
fn c04_unit_yiyuan_in_header_block() {
    same_rows(FILE, &Presentation { unit: Unit::Yiyuan, ..tidy() });
}

#[test]
fn c05_unit_qianyuan_in_each_header() {
    same_rows(FILE, &Presentation { unit: Unit::Qianyuan, unit_place: UnitPlace::Headers, ..tidy() });
}

#[test]
fn c06_unit_yiyuan_in_each_header() {
    same_rows(FILE, &Presentation { unit: Unit::Yiyuan, unit_place: UnitPlace::Headers, ..tidy() });
}

#[test]
fn c07_columns_in_another_order() {
    same_rows(FILE, &Presentation { order: (0..messy::SLOTS).rev().collect(), ..tidy() });
}

#[test]
fn c08_header_aliases() {
    // 社会信用代码, 企业名称, 国民经济行业代码, 总产值, 增加值, 主营业务收入, 利润, 从业人员期末人数, 说明
    same_rows(FILE, &Presentation { wording: 1, ..tidy() });
}

#[test]
fn c09_headers_with_spaces_line_breaks_fullwidth_brackets() {
    same_rows(FILE, &Presentation { wording: 2, ..tidy() });
}

#[test]
fn c10_top_headers_repeated_not_merged() {
    same_rows(FILE, &Presentation { merged: false, ..tidy() });
}

#[test]
fn c11_numbers_typed_as_text() {
    same_rows(FILE, &Presentation { numbers: Numbers::Text, ..tidy() });
}

#[test]
fn c12_thousands_separators_and_trailing_spaces() {
    same_rows(FILE, &Presentation { numbers: Numbers::TextThousands, unit: Unit::Yuan, ..tidy() });
}

#[test]
fn c13_fullwidth_digits_and_signs() {
    same_rows(FILE, &Presentation { numbers: Numbers::FullWidth, ..tidy() });
}

#[test]
fn c14_formulas_read_through_cached_values() {
    same_rows(FILE, &Presentation { numbers: Numbers::Formula, unit: Unit::Qianyuan, ..tidy() });
}

#[test]
fn c15_dash_for_nothing() {
    same_rows(FILE, &Presentation { nothing: Nothing::Dash, ..tidy() });
}

#[test]
fn c16_em_dash_for_nothing() {
    same_rows(FILE, &Presentation { nothing: Nothing::EmDash, ..tidy() });
}

#[test]
fn c17_slash_for_nothing() {
    same_rows(FILE, &Presentation { nothing: Nothing::Slash, ..tidy() });
}

#[test]
fn c18_blank_rows_in_the_middle() {
    same_rows(FILE, &Presentation { blank_after: vec![0, 1, 2], ..tidy() });
}

#[test]
fn c19_total_row_on_top() {
    same_rows(FILE, &Presentation { total: TotalPlace::Top, ..tidy() });
}

#[test]
fn c20_total_row_in_the_middle() {
    same_rows(FILE, &Presentation { total: TotalPlace::Middle, ..tidy() });
}

#[test]
fn c21_no_total_row_no_notes() {
    same_rows(FILE, &Presentation { total: TotalPlace::None, notes: false, ..tidy() });
}

#[test]
fn c22_extra_columns() {
    // 序号, 乡镇, 联系人
    same_rows(FILE, &Presentation { extras: true, ..tidy() });
}

#[test]
fn c23_hidden_column() {
    same_rows(FILE, &Presentation { hidden_column: true, ..tidy() });
}

#[test]
fn c24_form_known_by_sheet_name() {
    same_rows(FILE, &Presentation { mark: FormMark::SheetName, ..tidy() });
}

#[test]
fn c25_form_known_by_title() {
    same_rows(FILE, &Presentation { mark: FormMark::Title, ..tidy() });
}

#[test]
fn c26_form_known_by_headers_alone() {
    same_rows(FILE, &Presentation { mark: FormMark::HeadersOnly, ..tidy() });
}

#[test]
fn c27_instructions_and_hidden_sheets_ignored() {
    same_rows(FILE, &Presentation { decoy_sheets: true, ..tidy() });
}

#[test]
fn c28_credit_codes_lower_case_with_spaces() {
    same_rows(FILE, &Presentation { messy_codes: true, ..tidy() });
}

#[test]
fn c29_industry_codes_stored_as_numbers() {
    // 0610 arrives as the number 610 and is restored to four digits.
    same_rows(FILE, &Presentation { industry_as_number: true, ..tidy() });
}

#[test]
fn c30_county_and_period_from_the_file_name_short_name() {
    let p = Presentation { county_in_sheet: false, period: PeriodStyle::Absent, ..tidy() };
    let f = same_rows("邹城_2025年1-9月_规上工业.xlsx", &p);
    assert!(f.findings.is_empty(), "{:?}", f.findings);
}

#[test]
fn c31_county_code_and_numeric_period_in_the_file_name() {
    let p = Presentation { county_in_sheet: false, period: PeriodStyle::Absent, ..tidy() };
    same_rows("370883_202509.xlsx", &p);
}

#[test]
fn c32_period_written_as_a_single_month() {
    same_rows(FILE, &Presentation { period: PeriodStyle::Month, ..tidy() });
}

#[test]
fn c33_sheet_and_file_name_disagree_the_sheet_wins_with_a_warning() {
    let f = same_rows("任城区_2025年1-8月_倍增监测报表.xlsx", &tidy());
    let mut w: Vec<(String, String)> = f.findings.iter().map(|x| (x.rule_id.clone(), x.message.clone())).collect();
    w.sort();
    assert_eq!(
        w,
        vec![
            (
                rule::SHEET_FILE_DISAGREE.to_string(),
                "表内填报单位(370883)与文件名(370811)不一致,以表内为准".to_string()
            ),
            (
                rule::SHEET_FILE_DISAGREE.to_string(),
                "表内报告期(2025-09)与文件名(2025-08)不一致,以表内为准".to_string()
            ),
        ]
    );
    assert!(
        f.findings.iter().all(|x| x.severity == Severity::Warning && x.location.sheet.as_deref() == Some("Sheet1"))
    );
}

#[test]
fn c34_everything_at_once() {
    for i in [3, 7, 11, 22, 29] {
        same_rows(FILE, &messy::presentation_for(i));
    }
}

#[test]
fn c35_old_xls_workbook() {
    // BIFF8, 千元, merged two-row headers, numbers as text with separators, "—", a blank row,
    // a 合计 row, industry code 610 stored as a number (scripts/make_ingest_fixtures.py).
    let env = Env::new();
    let bytes = std::fs::read(project().join("tests/fixtures/ingest/zoucheng_jn101.xls")).unwrap();
    let f = env.ingest("zoucheng_jn101.xls", &bytes);
    assert!(f.refusal.is_none(), "{:?}", f.refusal);
    let s = &f.sheets[0];
    assert_eq!((s.read.form.as_str(), s.region_code.as_deref()), ("JN101", Some("370883")));
    assert_eq!(s.period.unwrap().to_string(), "2025-09");
    assert_eq!(s.read.totals.len(), 1);
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
}

#[test]
fn c36_ods_workbook() {
    // OpenDocument: columns in another order, top headers repeated, lower-case credit codes,
    // a hidden decoy sheet, a note under the data.
    let env = Env::new();
    let bytes = std::fs::read(project().join("tests/fixtures/ingest/zoucheng_jn101.ods")).unwrap();
    let f = env.ingest("zoucheng_jn101.ods", &bytes);
    assert!(f.refusal.is_none(), "{:?}", f.refusal);
    assert_eq!(f.sheets.len(), 1, "{:?}", f.findings);
    let s = &f.sheets[0];
    assert_eq!((s.read.sheet.as_str(), s.region_code.as_deref()), ("规上工业", Some("370883")));
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
}

#[test]
fn c37_xlsm_workbook() {
    // A macro-enabled workbook is read like an .xlsx (rust_xlsxwriter writes the same package).
    let env = Env::new();
    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    let f = env.ingest("邹城市_2025年1-9月.xlsm", &bytes);
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
}

#[test]
fn c38_hidden_sheet_that_is_a_form_is_read() {
    let env = Env::new();
    let mut wb = Workbook::new();
    messy::decoy_sheets(&mut wb).unwrap();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    ws.set_hidden(true);
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(f.sheets.len(), 1);
    assert!(f.sheets[0].read.hidden);
    assert_eq!(clean(&env.sheet_rows(&f)[0]), expected(&canonical()));
}

#[test]
fn c58_hidden_stale_copy_of_a_column_is_not_read_over_the_visible_one() {
    // Column D is hidden (内部编号); here it holds a stale copy of 营业收入(本年累计), left of the
    // visible column I with the same headers. The visible column is read, without a warning.
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    let p = Presentation { hidden_column: true, ..tidy() };
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &p).unwrap();
    // Header rows 4 and 5, data rows 6..9 (1-based).
    ws.write_string(3, 3, "营业收入").unwrap();
    ws.write_string(4, 3, "本年累计").unwrap();
    for r in 5..9 {
        ws.write_number(r, 3, 1.0).unwrap();
    }
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert!(f.findings.is_empty(), "{:?}", f.findings);
    assert!(f.sheets[0].read.from_hidden.is_empty());
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
    assert_eq!(rows.cell_of(6, "revenue_ytd").as_deref(), Some("表1!I6"));
}

#[test]
fn c59_column_only_a_hidden_column_supplies_is_read_with_a_warning() {
    // 营业收入(本年累计) (H) is hidden and no visible column has its headers: its values are read,
    // and a warning names the file, the sheet and the column.
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    ws.set_column_hidden(7).unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
    let w: Vec<_> = f
        .findings
        .iter()
        .map(|x| {
            (
                x.rule_id.as_str(),
                x.severity,
                x.location.sheet.as_deref(),
                x.location.cell.as_deref(),
                x.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        w,
        vec![(
            rule::HIDDEN_COLUMN,
            Severity::Warning,
            Some("表1"),
            Some("H4"),
            "文件\"邹城市_2025年1-9月_倍增监测报表.xlsx\"工作表\"表1\"第H列(营业收入(本年累计))为隐藏列,已按其数据读入,请核实"
        )]
    );
    assert_eq!(f.findings[0].location.file, FILE);
}

// ---------------------------------------------------------------------------------------------
// Cells that are reported, never guessed.

#[test]
fn c39_error_cells_are_reported_on_their_cell_never_read_as_zero() {
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    // Rows 6..9 hold the data; columns D.. the amounts (output_ytd is D, va_ytd F, revenue_ytd H).
    ws.write_formula(5, 3, Formula::new("=1/0").set_result("#DIV/0!")).unwrap();
    ws.write_formula(6, 5, Formula::new("=#REF!").set_result("#REF!")).unwrap();
    ws.write_formula(7, 7, Formula::new("=\"a\"+1").set_result("#VALUE!")).unwrap();
    ws.write_formula(8, 3, Formula::new("=NA()").set_result("#N/A")).unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    let rows = env.sheet_rows(&f).remove(0);
    let mut got: Vec<(Option<String>, String, String)> = rows
        .findings
        .iter()
        .filter(|x| x.rule_id == "JN101-E03")
        .map(|x| (x.location.cell.clone(), x.message.clone(), x.observed.clone()))
        .collect();
    got.sort();
    let cell = |c: &str| Some(c.to_string());
    assert_eq!(
        got,
        vec![
            (cell("D6"), "工业总产值(本年累计)单元格为错误值#DIV/0!".into(), "output_ytd=#DIV/0!".into()),
            (cell("D9"), "工业总产值(本年累计)单元格为错误值#N/A".into(), "output_ytd=#N/A".into()),
            (cell("F7"), "工业增加值(本年累计)单元格为错误值#REF!".into(), "va_ytd=#REF!".into()),
            (cell("H8"), "营业收入(本年累计)单元格为错误值#VALUE!".into(), "revenue_ytd=#VALUE!".into()),
        ]
    );
    // The values are null (quarantined by the audit), not 0.
    assert_eq!(column(&rows, "output_ytd")[0], "");
    assert_eq!(column(&rows, "va_ytd")[1], "");
    // Every finding names its file, hash and sheet: 表1!D6.
    let f6 = rows.findings.iter().find(|x| x.location.cell.as_deref() == Some("D6")).unwrap();
    assert_eq!(f6.location.sheet.as_deref(), Some("表1"));
    assert_eq!(f6.location.sha256, f.sha256);
    assert!(f6.one_line().starts_with(&format!("{FILE} 表1!D6 [JN101-E03 强制性]")), "{}", f6.one_line());
}

#[test]
fn c40_total_row_that_disagrees_with_the_sums_is_a_warning_on_its_cell() {
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    let p = Presentation { total: TotalPlace::Top, ..tidy() };
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &p).unwrap();
    // The 合计 row is row 6; its 营业收入(本年累计) (H6) is off by 100 万元, 利润 (J6) by 0.5.
    ws.write_number(5, 7, 150356.8).unwrap();
    ws.write_number(5, 9, 9600.5).unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(f.sheets[0].read.records.len(), 4, "the 合计 row is not an enterprise");
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&rows), expected(&canonical()));
    let w: Vec<_> = rows
        .findings
        .iter()
        .filter(|x| x.severity != Severity::Info)
        .map(|x| (x.rule_id.as_str(), x.location.cell.as_deref(), x.message.as_str(), x.severity))
        .collect();
    assert_eq!(
        w,
        vec![(
            rule::TOTAL_MISMATCH,
            Some("H6"),
            "合计行营业收入(本年累计)(150356.8)与各行之和(150256.8)相差超过1万元",
            Severity::Warning
        )]
    );
}

#[test]
fn c41_percentages_as_fraction_points_or_text() {
    // JN104 形象进度 written as 0.35 shown as 35%, as 35, as "35%" and as "３５％": all 35.
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("重点项目").unwrap();
    ws.write_string(0, 0, "表号:JN104").unwrap();
    ws.write_string(1, 0, "填报单位:邹城市统计局 2025年1—9月").unwrap();
    // A one-row header.
    let h = [
        "项目名称",
        "所属产业链",
        "总投资(万元)",
        "本年计划投资(万元)",
        "本年完成投资(万元)",
        "累计完成投资(万元)",
        "形象进度(%)",
        "项目状态",
    ];
    for (c, t) in h.iter().enumerate() {
        ws.write_string(2, c as u16, *t).unwrap();
    }
    let pct = Format::new().set_num_format("0%");
    for r in 0..4u32 {
        ws.write_string(3 + r, 0, format!("项目{r}")).unwrap();
        ws.write_string(3 + r, 1, "工程机械产业链").unwrap();
        for c in 2..6u16 {
            ws.write_number(3 + r, c, 1000.0).unwrap();
        }
        ws.write_string(3 + r, 7, "在建").unwrap();
    }
    ws.write_number_with_format(3, 6, 0.35, &pct).unwrap();
    ws.write_number(4, 6, 35.0).unwrap();
    ws.write_string(5, 6, "35%").unwrap();
    ws.write_string(6, 6, "３５％").unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(rows.form, "JN104");
    assert!(only_info(&rows.findings), "{:?}", rows.findings);
    assert_eq!(column(&rows, "progress_pct"), vec!["35.0", "35.0", "35.0", "35.0"]);
    // A percentage shown as 8.3% (0.083), typed 8.3 or "8.3%" in JN102 增速.
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表2").unwrap();
    ws.write_string(0, 0, "表号:JN102  填报单位:邹城市统计局 2025年1—9月").unwrap();
    for (c, t) in ["指标名称", "计量单位", "本年累计", "上年同期", "增速(%)"].iter().enumerate() {
        ws.write_string(1, c as u16, *t).unwrap();
    }
    let pct1 = Format::new().set_num_format("0.0%");
    for (r, label) in ["生产性服务业营业收入", "外贸进出口总额", "其中:出口"].iter().enumerate() {
        let r = 2 + r as u32;
        ws.write_string(r, 0, *label).unwrap();
        ws.write_string(r, 1, "万元").unwrap();
        ws.write_number(r, 2, 1083.0).unwrap();
        ws.write_number(r, 3, 1000.0).unwrap();
    }
    ws.write_formula_with_format(2, 4, Formula::new("=C3/D3-1").set_result("0.083"), &pct1).unwrap();
    ws.write_number(3, 4, 8.3).unwrap();
    ws.write_string(4, 4, "8.3%").unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(column(&rows, "reported_growth"), vec!["8.3", "8.3", "8.3"]);
}

#[test]
fn c42_units_convert_exactly_without_float_drift() {
    // 0.1 亿元, 1234567.89 元 and 0.3 千元 are exactly 1000, 123.456789 and 0.03 万元.
    let env = Env::new();
    let mut rows = canonical();
    rows.truncate(1);
    for (unit, value, want) in [
        (Unit::Yiyuan, "0.1", "1000.000000"),
        (Unit::Yuan, "1234567.89", "123.456789"),
        (Unit::Qianyuan, "0.3", "0.030000"),
    ] {
        let p = Presentation { unit, total: TotalPlace::None, ..tidy() };
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("表1").unwrap();
        messy::jn101_sheet(ws, &rows, "邹城市统计局", "2025-09", &p).unwrap();
        ws.write_string(5, 7, value).unwrap(); // 营业收入(本年累计), as text
        let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
        assert_eq!(column(&env.sheet_rows(&f)[0], "revenue_ytd"), vec![want]);
    }
}

// ---------------------------------------------------------------------------------------------
// Returns refused with the reason.

fn sheet_refusal(f: &IngestedFile) -> (String, String) {
    let (r, m) = f.sheets[0].refusal.clone().expect("sheet refused");
    (r.to_string(), m)
}

#[test]
fn c43_january_only_return_is_refused() {
    // Refused as a whole for its period alone: no period 2025-01 is created; the file is
    // reported (to 邹城市) in 2025-02, the first period of the year.
    let env = Env::new();
    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-01", &tidy()).unwrap();
    let f = env.ingest("邹城市_2025年1月.xlsx", &bytes);
    let why = "1月数据不单独报送:每年首次报送为1—2月累计数,请按1—2月报送";
    assert_eq!(f.refusal.as_deref(), Some(why));
    assert!(f.sheets.is_empty());
    assert_eq!(f.period_hint.map(|p| p.to_string()).as_deref(), Some("2025-02"));
    let e: Vec<_> =
        f.findings.iter().map(|x| (x.rule_id.as_str(), x.region_code.as_deref(), x.message.as_str())).collect();
    assert_eq!(e, vec![(rule::JANUARY_ONLY, Some("370883"), why)]);
    assert_eq!(ingest::tally::periods_of_file(&f), vec![f.period_hint]);
}

#[test]
fn c43b_period_outside_the_year_is_refused() {
    // 1—13月 is no period: refused with the period as written.
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    ws.write_string(2, 5, "2025年1—13月").unwrap();
    let f = env.ingest("邹城市_报表.xlsx", &wb.save_to_buffer().unwrap());
    assert!(f.sheets.is_empty());
    assert_eq!(
        f.refusal.as_deref(),
        Some("报告期\"2025年1—13月\"不是有效的报告期:应为当年1月至报告月的累计(如\"2025年1—9月\"),月份为2—12")
    );
    assert_eq!(f.findings[0].rule_id, rule::BAD_PERIOD);
}

#[test]
fn c44_no_county_anywhere_is_refused() {
    let env = Env::new();
    let p = Presentation { county_in_sheet: false, ..tidy() };
    let bytes = messy::jn101_workbook(&canonical(), "", "2025-09", &p).unwrap();
    let f = env.ingest("2025年1-9月_报表.xlsx", &bytes);
    assert_eq!(
        sheet_refusal(&f),
        (rule::NO_REGION_OR_PERIOD.into(), "无法确定填报单位:表头\"填报单位\"和文件名均未写明县市区".into())
    );
    let f2 = env.sheet_rows(&f);
    assert_eq!(f2[0].refusal.as_ref().unwrap().0, rule::NO_REGION_OR_PERIOD);
}

#[test]
fn c45_missing_required_column_is_refused() {
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    ws.write_string(0, 0, "表号:JN101 填报单位:邹城市统计局 2025年1—9月").unwrap();
    for (c, t) in ["统一社会信用代码", "单位详细名称", "行业代码"].iter().enumerate() {
        ws.write_string(1, c as u16, *t).unwrap();
    }
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    let (r, m) = sheet_refusal(&f);
    assert_eq!(r, rule::SHEET_LAYOUT);
    assert!(m.starts_with("缺少必填列: 工业总产值(本年累计)、工业总产值(上年同期)、"), "{m}");
}

/// A whole file refused: its exact reason, one error finding naming the file, no sheets.
fn refused(f: &IngestedFile, why: &str) {
    assert_eq!(f.refusal.as_deref(), Some(why));
    assert!(f.sheets.is_empty());
    assert_eq!(f.findings.len(), 1);
    assert_eq!((f.findings[0].rule_id.as_str(), f.findings[0].message.as_str()), (rule::UNREADABLE, why));
    assert_eq!(f.findings[0].severity, Severity::Error);
}

#[test]
fn c46_not_a_spreadsheet() {
    let env = Env::new();
    refused(&env.ingest("邹城市_2025年1-9月.xlsx", "县区报表见附件".as_bytes()), message::NOT_SPREADSHEET);
    // A PDF renamed .xls.
    refused(&env.ingest("邹城市_2025年1-9月.xls", b"%PDF-1.4\n%\xe2\xe3\n"), message::NOT_SPREADSHEET);
}

#[test]
fn c47_password_protected() {
    let env = Env::new();
    let bytes = std::fs::read(project().join("tests/fixtures/ingest/encrypted.xlsx")).unwrap();
    refused(&env.ingest("任城区_2025年1-2月_加密.xlsx", &bytes), message::ENCRYPTED);
}

/// A minimal OLE2 compound file (CFB v3, 512-byte sectors) holding one stream, `Workbook`, of at
/// least 4096 bytes (so it lives in regular sectors, no mini stream): header, directory sector,
/// FAT sector, then the stream.
fn compound_file_with_workbook(stream: &[u8]) -> Vec<u8> {
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let mut stream = stream.to_vec();
    stream.resize(stream.len().max(4096).div_ceil(512) * 512, 0);
    let n = (stream.len() / 512) as u32;
    let mut out = Vec::new();
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    // Header.
    out.extend_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    out.extend_from_slice(&[0; 16]); // CLSID
    for x in [0x003E, 0x0003, 0xFFFE, 9, 6] {
        u16le(&mut out, x); // minor, major (v3), byte order, sector shift, mini sector shift
    }
    out.extend_from_slice(&[0; 6]);
    for x in [0, 1, 0, 0, 4096, END, 0, END, 0] {
        // dir sectors, FAT sectors, first dir sector (0), transaction, mini cutoff,
        // first mini FAT, mini FAT sectors, first DIFAT, DIFAT sectors
        u32le(&mut out, x);
    }
    u32le(&mut out, 1); // DIFAT[0]: the FAT is sector 1
    (1..109).for_each(|_| u32le(&mut out, FREE));
    assert_eq!(out.len(), 512);
    // Sector 0: the directory (root entry, Workbook, two unused entries).
    let entry = |out: &mut Vec<u8>, name: &str, kind: u8, child: u32, start: u32, size: u32| {
        let mut e = Vec::new();
        let utf16: Vec<u16> = name.encode_utf16().collect();
        utf16.iter().for_each(|c| u16le(&mut e, *c));
        e.resize(64, 0);
        let name_len = if name.is_empty() { 0 } else { (utf16.len() as u16 + 1) * 2 };
        u16le(&mut e, name_len);
        e.extend_from_slice(&[kind, 1]); // type, black
        for x in [FREE, FREE, child] {
            u32le(&mut e, x); // left, right sibling, child
        }
        e.extend_from_slice(&[0; 36]); // CLSID, state bits, times
        u32le(&mut e, start);
        u32le(&mut e, size);
        u32le(&mut e, 0);
        assert_eq!(e.len(), 128);
        out.extend_from_slice(&e);
    };
    entry(&mut out, "Root Entry", 5, 1, END, 0);
    entry(&mut out, "Workbook", 2, FREE, 2, stream.len() as u32);
    entry(&mut out, "", 0, FREE, 0, 0);
    entry(&mut out, "", 0, FREE, 0, 0);
    // Sector 1: the FAT. Sector 0: directory (one sector); 1: the FAT itself; 2..: the stream.
    let mut fat = vec![END, 0xFFFF_FFFD];
    fat.extend((2..2 + n).map(|s| if s == 1 + n { END } else { s + 1 }));
    fat.resize(128, FREE);
    fat.iter().for_each(|x| u32le(&mut out, *x));
    out.extend_from_slice(&stream);
    out
}

/// The start of a BIFF8 `Workbook` stream saved with a password to open: BOF (workbook
/// globals), FILEPASS with `encryption` (1: RC4, its 54-byte header; 0: XOR obfuscation, key and
/// verifier), EOF.
fn biff8_with_filepass(encryption: u16) -> Vec<u8> {
    let mut s = Vec::new();
    let record = |s: &mut Vec<u8>, typ: u16, data: &[u8]| {
        s.extend_from_slice(&typ.to_le_bytes());
        s.extend_from_slice(&(data.len() as u16).to_le_bytes());
        s.extend_from_slice(data);
    };
    // BOF: BIFF8, workbook globals, build 0x0DBB, year 1996, no flags, lowest version 6.
    record(&mut s, 0x0809, &[0x00, 0x06, 0x05, 0x00, 0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 0x06, 0, 0, 0]);
    let mut filepass = encryption.to_le_bytes().to_vec();
    if encryption == 1 {
        filepass.extend_from_slice(&[1, 0, 1, 0]); // RC4 header version 1.1
        filepass.extend((0..48).map(|i| (i * 37 % 251) as u8)); // salt, verifier, verifier hash
    } else {
        filepass.extend_from_slice(&[0x34, 0x12, 0x78, 0x56]); // XOR key, verifier
    }
    record(&mut s, 0x002F, &filepass);
    record(&mut s, 0x000A, &[]);
    s
}

#[test]
fn c60_password_protected_xls() {
    // Excel 97-2003 with a password to open: RC4 (what Excel writes) and XOR obfuscation (older
    // versions) are refused like the encrypted .xlsx, not as damaged files.
    let env = Env::new();
    for encryption in [1, 0] {
        let bytes = compound_file_with_workbook(&biff8_with_filepass(encryption));
        let f = env.ingest("任城区_2025年1-2月_加密.xls", &bytes);
        refused(&f, message::ENCRYPTED);
        assert_eq!(f.findings[0].observed, "BIFF8 FILEPASS record");
    }
    // The same compound file without FILEPASS opens (and holds no form).
    let mut plain = biff8_with_filepass(1);
    plain.drain(20..20 + 4 + 56);
    refused(&env.ingest("任城区_2025年1-2月.xls", &compound_file_with_workbook(&plain)), message::NO_FORM);
}

#[test]
fn c48_truncated() {
    let env = Env::new();
    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    refused(&env.ingest(FILE, &bytes[..bytes.len() / 2]), message::DAMAGED);
    // Cut inside the central directory (the tail), too.
    refused(&env.ingest(FILE, &bytes[..bytes.len() - 30]), message::DAMAGED);
}

#[test]
fn c49_empty_file() {
    let env = Env::new();
    refused(&env.ingest(FILE, b""), message::EMPTY);
}

#[test]
fn c50_zip_bomb() {
    // 300 MB of blanks packed into 300 kB: refused from the central directory, before inflating.
    let env = Env::new();
    let bytes = std::fs::read(project().join("tests/fixtures/ingest/zip_bomb.xlsx")).unwrap();
    let f = env.ingest("zip_bomb.xlsx", &bytes);
    refused(&f, message::ZIP_BOMB);
    assert!(f.findings[0].observed.contains("bytes unpacked"), "{}", f.findings[0].observed);
}

#[test]
fn c51_huge_sparse_sheet_is_refused_without_allocating_it() {
    // Two cells, A1 and XFD1048576: a bare range would be 17 billion cells.
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    ws.write_string(0, 0, "表号:JN101").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert!(f.sheets.is_empty());
    let msgs: Vec<_> = f.findings.iter().map(|x| (x.rule_id.as_str(), x.message.as_str())).collect();
    assert_eq!(msgs[0], (rule::UNREADABLE, "工作表\"表1\"过大(1048576 行 × 16384 列),已拒收"));
}

#[test]
fn c52_other_file_types_are_refused() {
    let env = Env::new();
    refused(
        &env.ingest("邹城市_2025年1-9月.csv", "统一社会信用代码,单位详细名称".as_bytes()),
        "文件类型 .csv 不是可接受的报表格式(.xlsx .xlsm .xls .ods)",
    );
}

#[test]
fn c53_workbook_without_any_form() {
    let env = Env::new();
    let mut wb = Workbook::new();
    messy::decoy_sheets(&mut wb).unwrap();
    refused(&env.ingest(FILE, &wb.save_to_buffer().unwrap()), message::NO_FORM);
}

// ---------------------------------------------------------------------------------------------
// Provenance, and a run with hostile files beside good ones.

#[test]
fn c54_every_value_traces_to_its_cell() {
    let env = Env::new();
    let p = Presentation { extras: true, total: TotalPlace::Top, ..tidy() };
    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &p).unwrap();
    let f = env.ingest(FILE, &bytes);
    let rows = env.sheet_rows(&f).remove(0);
    assert_eq!(f.sha256, gongbao::util::sha256_hex(&bytes));
    assert_eq!(column(&rows, "_source_file"), vec![FILE; 4]);
    assert_eq!(column(&rows, "_source_sha256"), vec![f.sha256.clone(); 4]);
    assert_eq!(column(&rows, "_source_sheet"), vec!["Sheet1"; 4]);
    // Title, 表号, 填报单位 lines, two header rows, 合计 on row 6: data on rows 7..10.
    assert_eq!(column(&rows, "_source_row"), vec!["7", "8", "9", "10"]);
    // 序号 A, credit code B, name C, 乡镇 D, industry E, 工业总产值 F/G, 工业增加值 H/I, 营业收入 J/K…
    assert_eq!(rows.cell_of(8, "revenue_ytd").as_deref(), Some("Sheet1!J8"));
    assert_eq!(rows.cell_of(7, "credit_code").as_deref(), Some("Sheet1!B7"));
    assert_eq!(ingest::rows::cell_address("表1", 17, 7), "表1!H17");
}

#[test]
fn c55_hostile_files_are_refused_alone_the_rest_of_the_run_goes_on() {
    let env = Env::new();
    let inbox = env.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let good = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    std::fs::write(inbox.join(FILE), &good).unwrap();
    std::fs::write(inbox.join("truncated.xlsx"), &good[..good.len() / 3]).unwrap();
    std::fs::write(inbox.join("empty.xlsx"), b"").unwrap();
    std::fs::copy(project().join("tests/fixtures/ingest/encrypted.xlsx"), inbox.join("encrypted.xlsx")).unwrap();
    std::fs::copy(project().join("tests/fixtures/ingest/zip_bomb.xlsx"), inbox.join("zip_bomb.xlsx")).unwrap();
    std::fs::write(inbox.join("~$lockfile.xlsx"), b"lock").unwrap();
    let files: Vec<IngestedFile> =
        ingest::list_inbox(&inbox).unwrap().iter().map(|p| ingest::ingest_file(p, &env.forms, &env.regions)).collect();
    let outcome: Vec<(&str, Option<&str>)> = files.iter().map(|f| (f.file.as_str(), f.refusal.as_deref())).collect();
    assert_eq!(
        outcome,
        vec![
            ("empty.xlsx", Some(message::EMPTY)),
            ("encrypted.xlsx", Some(message::ENCRYPTED)),
            ("truncated.xlsx", Some(message::DAMAGED)),
            ("zip_bomb.xlsx", Some(message::ZIP_BOMB)),
            (FILE, None),
        ]
    );
    let good = files.iter().find(|f| f.refusal.is_none()).unwrap();
    assert_eq!(clean(&env.sheet_rows(good)[0]), expected(&canonical()));
}

#[test]
fn c56_resubmission_newest_file_wins_earlier_kept_on_record() {
    let env = Env::new();
    let first = env.path("邹城市_2025年1-9月_倍增监测报表.xlsx");
    let second = env.path("邹城市_2025年1-9月_倍增监测报表(更正).xlsx");
    let mut corrected = canonical();
    corrected[0].revenue_ytd += rust_decimal::Decimal::from(100);
    std::fs::write(&first, messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap()).unwrap();
    std::fs::write(&second, messy::jn101_workbook(&corrected, "邹城市统计局", "2025-09", &tidy()).unwrap()).unwrap();
    // The correction is sent a day later.
    let t0 = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_760_000_000);
    std::fs::File::options().write(true).open(&first).unwrap().set_modified(t0).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&second)
        .unwrap()
        .set_modified(t0 + std::time::Duration::from_secs(86_400))
        .unwrap();
    let mut sheets = Vec::new();
    for p in [&first, &second] {
        let f = ingest::ingest_file(p, &env.forms, &env.regions);
        let rows = env.sheet_rows(&f).remove(0);
        sheets.push((rows, f.modified.unwrap()));
    }
    let (kept, superseded) = gongbao::run::supersede(sheets);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].file, "邹城市_2025年1-9月_倍增监测报表(更正).xlsx");
    assert_eq!(clean(&kept[0]), expected(&corrected));
    assert_eq!(
        superseded,
        vec![gongbao::run::Superseded {
            file: "邹城市_2025年1-9月_倍增监测报表.xlsx".into(),
            by: "邹城市_2025年1-9月_倍增监测报表(更正).xlsx".into(),
            form: "JN101".into(),
            region_code: "370883".into(),
            period: "2025-09".into(),
        }]
    );
}

#[test]
fn c57_messy_sample_gives_the_rows_of_the_tidy_sample() {
    // `gongbao sample --messy`: every 9th return of the sample, tidy and messy, read to the same rows.
    let env = Env::new();
    let data = gongbao::sample::generate();
    for (i, ret) in data.returns.iter().enumerate().step_by(9) {
        let p = messy::presentation_for(i);
        let tidy = env.ingest(&ret.file_name, &gongbao::sample::workbook_bytes(&data, ret).unwrap());
        let untidy = env.ingest(&ret.file_name, &gongbao::sample::workbook_bytes_with(&data, ret, Some(&p)).unwrap());
        let (a, b) = (env.sheet_rows(&tidy), env.sheet_rows(&untidy));
        assert_eq!(a.len(), 4, "{}", ret.file_name);
        assert_eq!(b.len(), 4, "{} {p:?}: {:?}", ret.file_name, untidy.findings);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.form, &x.region_code, x.period), (&y.form, &y.region_code, y.period));
            assert_eq!(clean(x), clean(y), "{} {} {p:?}", ret.file_name, x.form);
            let real = |r: &gongbao::ingest::rows::SheetRows| {
                r.findings.iter().filter(|f| f.severity != Severity::Info).count()
            };
            assert_eq!(real(x), real(y), "{} {}", ret.file_name, x.form);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Header layouts: one case per class of the header grammar (tests/ingest_layouts.rs runs every
// combination of them).

#[test]
fn g01_one_header_row_parts_joined() {
    // 工业总产值(当年价格)本年累计亿元 …: one row, the unit in every header.
    let p = Presentation {
        header_rows: 1,
        joining: messy::Joining::Joined,
        unit: Unit::Yiyuan,
        unit_place: UnitPlace::Headers,
        ..tidy()
    };
    same_rows(FILE, &p);
}

#[test]
fn g02_one_header_row_parts_bracketed_time_first() {
    let p = Presentation {
        header_rows: 1,
        joining: messy::Joining::Bracketed,
        unit: Unit::Qianyuan,
        unit_place: UnitPlace::Headers,
        time_first: true,
        ..tidy()
    };
    same_rows(FILE, &p);
}

#[test]
fn g03_three_header_rows_measure_time_unit() {
    let p = Presentation { header_rows: 3, unit: Unit::Yuan, unit_place: UnitPlace::Headers, ..tidy() };
    same_rows(FILE, &p);
}

#[test]
fn g04_three_header_rows_under_a_group_label() {
    let p = Presentation { header_rows: 3, unit_place: UnitPlace::None, ..tidy() };
    same_rows(FILE, &p);
}

#[test]
fn g05_all_current_then_all_prior_time_merged_on_top() {
    let p = Presentation { amount_order: messy::AmountOrder::CurrentThenPrior, ..tidy() };
    same_rows(FILE, &p);
}

#[test]
fn g06_amount_columns_shuffled() {
    for seed in [1, 2, 3] {
        same_rows(FILE, &Presentation { amount_order: messy::AmountOrder::Shuffled(seed), ..tidy() });
    }
}

#[test]
fn g07_time_words_of_every_style() {
    // 本年/上年, 1—9月/上年1—9月, 本期/同期.
    for time_words in 1..4 {
        same_rows(FILE, &Presentation { time_words, header_rows: 1, ..tidy() });
    }
}

#[test]
fn g08_aliases_of_the_form() {
    // 统一代码, 单位名称, 行业小类代码, 工业总产值（现价）, 营业收入合计, 出口, 期末从业人数, 备注说明.
    same_rows(FILE, &Presentation { wording: 3, header_rows: 1, ..tidy() });
}

/// A one-row-header JN101 sheet with these headers and one enterprise row (all amounts 100).
fn one_row_sheet(headers: &[&str]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    ws.write_string(0, 0, "表号:JN101").unwrap();
    ws.write_string(1, 0, "填报单位:邹城市统计局").unwrap();
    ws.write_string(1, 4, "2025年1—9月").unwrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    ws.write_string(3, 0, "91370883MA3C00001X").unwrap();
    ws.write_string(3, 1, "邹城市示例机械有限公司").unwrap();
    ws.write_string(3, 2, "0610").unwrap();
    for c in 3..headers.len() as u16 {
        ws.write_number(3, c, 100.0).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

const ONE_ROW: [&str; 14] = [
    "统一社会信用代码",
    "单位详细名称",
    "行业代码",
    "工业总产值本年累计",
    "工业增加值本年累计",
    "营业收入本年累计",
    "利润总额本年累计",
    "工业总产值上年同期",
    "工业增加值上年同期",
    "营业收入上年同期",
    "利润总额上年同期",
    "期末从业人员",
    "出口交货值本年累计",
    "出口交货值上年同期",
];

#[test]
fn g09_two_columns_claiming_one_field_are_refused_with_every_header() {
    let env = Env::new();
    let mut h = ONE_ROW.to_vec();
    h.push("主营业务收入(本年)");
    let f = env.ingest(FILE, &one_row_sheet(&h));
    let (r, m) = sheet_refusal(&f);
    assert_eq!(r, rule::SHEET_LAYOUT);
    assert!(
        m.starts_with(
            "多列对应同一栏目: 营业收入(本年累计)(F列\"营业收入本年累计\"、O列\"主营业务收入(本年)\")。表头识别: "
        ),
        "{m}"
    );
    assert!(m.contains("A列\"统一社会信用代码\"→统一社会信用代码"), "{m}");
    assert!(m.contains("H列\"工业总产值上年同期\"→工业总产值(上年同期)"), "{m}");
    assert!(m.contains("O列\"主营业务收入(本年)\"→营业收入(本年累计)"), "{m}");
}

#[test]
fn g10_a_missing_column_is_named_with_what_each_header_was_taken_for() {
    let env = Env::new();
    let mut h = ONE_ROW.to_vec();
    h[8] = "工业增加值上年同期增速"; // words beside the measure: not 工业增加值(上年同期)
    let f = env.ingest(FILE, &one_row_sheet(&h));
    let (_, m) = sheet_refusal(&f);
    assert!(m.starts_with("缺少必填列: 工业增加值(上年同期)。表头识别: "), "{m}");
    assert!(m.contains("I列\"工业增加值上年同期增速\"→未采用(\"工业增加值\"旁有无法识别的文字\"增速\")"), "{m}");
    // Every other header is listed with the column it was taken for.
    assert_eq!(m.matches("→").count(), 14, "{m}");
}

// ---------------------------------------------------------------------------------------------
// Nothing dropped without a word.

#[test]
fn s01_an_enterprise_named_like_a_note_is_data() {
    // 注塑… and 说明书印刷厂 are enterprises (a credit code, numbers), not notes.
    let env = Env::new();
    let mut rows = canonical();
    rows[1].name = "注塑机械有限公司".into();
    rows[2].name = "说明:书印刷有限公司".into();
    let p = Presentation { order: vec![1, 0, 2, 3, 4, 5, 6, 7, 8, 9], ..tidy() };
    let bytes = messy::jn101_workbook(&rows, "邹城市统计局", "2025-09", &p).unwrap();
    let f = env.ingest(FILE, &bytes);
    let got = env.sheet_rows(&f).remove(0);
    assert_eq!(clean(&got), expected(&rows));
}

#[test]
fn s02_total_and_note_rows_are_reported_with_their_cell() {
    let env = Env::new();
    let f = env.ingest(FILE, &messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap());
    let rows = env.sheet_rows(&f).remove(0);
    let got: Vec<_> = rows
        .findings
        .iter()
        .map(|x| (x.rule_id.as_str(), x.severity, x.location.cell.as_deref(), x.row_key.is_none()))
        .collect();
    // 合计 on row 10 (its label in the name column B), notes on rows 12 and 13 (column A).
    assert_eq!(
        got,
        vec![
            (rule::TOTAL_ROW, Severity::Info, Some("B10"), true),
            (rule::NOTE_ROW, Severity::Info, Some("A12"), true),
            (rule::NOTE_ROW, Severity::Info, Some("A13"), true),
        ]
    );
    assert!(rows.findings[1].message.contains("注:金额单位为万元"), "{}", rows.findings[1].message);
}

#[test]
fn s03_a_hidden_copy_of_a_form_beside_a_visible_one_is_not_read() {
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    let stale = wb.add_worksheet().set_name("旧表1").unwrap();
    messy::jn101_sheet(stale, &canonical()[..2], "邹城市统计局", "2025-09", &tidy()).unwrap();
    stale.set_hidden(true);
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(f.sheets.len(), 1);
    assert_eq!(f.sheets[0].read.sheet, "表1");
    assert_eq!(clean(&env.sheet_rows(&f)[0]), expected(&canonical()));
    assert_eq!(f.unread, vec!["旧表1".to_string()]);
    let x: Vec<_> = f.findings.iter().map(|x| (x.rule_id.as_str(), x.severity, x.location.sheet.as_deref())).collect();
    assert_eq!(x, vec![(rule::HIDDEN_SHEET_SKIPPED, Severity::Info, Some("旧表1"))]);
}

#[test]
fn s04_a_hidden_sheet_that_is_the_only_one_of_its_form_is_read_with_a_warning() {
    let env = Env::new();
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Sheet2").unwrap();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    ws.set_hidden(true);
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(clean(&env.sheet_rows(&f)[0]), expected(&canonical()));
    let x: Vec<_> = f.findings.iter().map(|x| (x.rule_id.as_str(), x.severity, x.region_code.as_deref())).collect();
    // The empty Sheet2 is not worth a word.
    assert_eq!(x, vec![(rule::HIDDEN_SHEET, Severity::Warning, Some("370883"))]);
}

#[test]
fn s05_a_sheet_that_is_no_form_beside_forms_is_reported_to_the_county() {
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &canonical(), "邹城市统计局", "2025-09", &tidy()).unwrap();
    let other = wb.add_worksheet().set_name("补充企业").unwrap();
    other.write_string(0, 0, "企业").unwrap();
    other.write_string(1, 0, "邹城市新增企业有限公司").unwrap();
    other.write_number(1, 1, 1234.0).unwrap();
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(f.sheets.len(), 1);
    let w: Vec<_> = f
        .findings
        .iter()
        .map(|x| (x.rule_id.as_str(), x.severity, x.region_code.as_deref(), x.message.as_str()))
        .collect();
    assert_eq!(
        w,
        vec![(
            rule::UNKNOWN_SHEET,
            Severity::Warning,
            Some("370883"),
            "工作表\"补充企业\"(2行)不是可识别的报表(表号 JN101—JN104),未读入;如为报表数据请按报表格式填报"
        )]
    );
}

#[test]
fn s06_a_continuation_sheet_is_read_as_part_of_its_form() {
    // 表1 holds the first two enterprises; 表1续 (no header block, no headers, a title) the rest.
    let env = Env::new();
    let all = canonical();
    let p = Presentation { total: TotalPlace::None, notes: false, ..tidy() };
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表1").unwrap();
    messy::jn101_sheet(ws, &all[..2], "邹城市统计局", "2025-09", &p).unwrap();
    // The continuation: the same columns (A code … D–M amounts, N employees, O note), data from
    // row 2 under a 续表 title.
    let cont = wb.add_worksheet().set_name("表1续").unwrap();
    cont.write_string(0, 0, "规模以上工业企业主要经济指标(续表)").unwrap();
    for (k, r) in all[2..].iter().enumerate() {
        let row = 1 + k as u32;
        cont.write_string(row, 0, &r.credit_code).unwrap();
        cont.write_string(row, 1, &r.name).unwrap();
        cont.write_string(row, 2, &r.industry_code).unwrap();
        let amounts = [
            r.output_ytd,
            r.output_prev,
            r.va_ytd,
            r.va_prev,
            r.revenue_ytd,
            r.revenue_prev,
            r.profit_ytd,
            r.profit_prev,
            r.export_ytd,
            r.export_prev,
        ];
        for (i, a) in amounts.iter().enumerate() {
            if !a.is_zero() || i < 8 {
                cont.write_number(row, 3 + i as u16, a.to_string().parse::<f64>().unwrap()).unwrap();
            }
        }
        cont.write_number(row, 13, r.employees as f64).unwrap();
        if !r.note.is_empty() {
            cont.write_string(row, 14, &r.note).unwrap();
        }
    }
    let f = env.ingest(FILE, &wb.save_to_buffer().unwrap());
    assert_eq!(f.sheets.len(), 2, "{:?}", f.findings);
    let rows = env.sheet_rows(&f);
    assert_eq!(rows[1].sheet, "表1续");
    assert_eq!(
        (rows[1].region_code.as_deref(), rows[1].period.map(|p| p.to_string())),
        (Some("370883"), Some("2025-09".into()))
    );
    let mut both = clean(&rows[0]);
    both.extend(clean(&rows[1]));
    assert_eq!(both, expected(&all));
    // The 续表 title is reported as skipped, on its cell.
    let t: Vec<_> = rows[1].findings.iter().map(|x| (x.rule_id.as_str(), x.location.cell.as_deref())).collect();
    assert_eq!(t, vec![(rule::NOTE_ROW, Some("A1"))]);
}

#[test]
fn s07_raw_row_count_is_accounted_for_in_every_presentation() {
    // The independent counter of non-blank rows equals the rows ingest accounts for: above the
    // data, records, 合计 and notes (blank rows in the middle are not rows).
    let env = Env::new();
    for i in 0..24 {
        let p = messy::presentation_for(i);
        let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &p).unwrap();
        let f = env.ingest(FILE, &bytes);
        for s in &f.sheets {
            let raw = f.sheet_rows.iter().find(|(n, _)| *n == s.read.sheet).unwrap().1;
            let r = &s.read;
            let accounted = r.above_rows as usize + r.records.len() + r.totals.len() + r.skipped.len();
            assert_eq!(raw as usize, accounted, "{p:?}");
        }
        let unread: Vec<&String> = f.unread.iter().collect();
        assert_eq!(unread.len(), if p.decoy_sheets { 2 } else { 0 }, "{p:?}");
    }
}
