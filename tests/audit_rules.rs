//! The audit rules of `rules/*.toml`, one test per rule: a row that breaks the rule and a row
//! that just passes it, built as small county workbooks in memory and driven through the real
//! pipeline (ingest → sheet rows → audit). Plus: a rule file added at run time, a rule that
//! cannot be evaluated, the per-county summary and the county feedback workbook.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use calamine::{Data, Reader, open_workbook_auto};
use gongbao::audit::{self, AuditContext, AuditOutcome};
use gongbao::findings::{Finding, Severity};
use gongbao::forms::Forms;
use gongbao::ingest::{self, rows::SheetRows};
use gongbao::reference::Reference;
use gongbao::run::RunOptions;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// Credit codes (GB 32100)

const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A valid credit code (right check digit), distinct for each `n`.
fn code(n: u32) -> String {
    let body = format!("91370811MA3C{n:05}");
    let sum: usize = body.chars().zip(WEIGHTS).map(|(c, w)| ALPHABET.find(c).unwrap() * w).sum();
    let check = (31 - sum % 31) % 31;
    format!("{body}{}", ALPHABET.as_bytes()[check] as char)
}

/// The same code with a wrong check digit.
fn bad_check(n: u32) -> String {
    let good = code(n);
    let last = good.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    format!("{}{wrong}", &good[..17])
}

// ---------------------------------------------------------------------------------------------
// Small county workbooks

/// One JN101 row. Columns: A credit code, B name, C industry code, D/E output, F/G value added,
/// H/I revenue, J/K profit, L/M export (本年累计/上年同期), N employees, O 备注.
#[derive(Clone)]
struct Ent {
    code: String,
    name: String,
    industry: String,
    /// output, output_prev, va, va_prev, revenue, revenue_prev, profit, profit_prev, export, export_prev
    amounts: [f64; 10],
    employees: f64,
    note: String,
    /// Cells written as text instead (column, text), e.g. a number typed wrongly.
    text: Vec<(u16, String)>,
}

/// A tidy enterprise that breaks no rule: growth 11%, value-added rate 30%, revenue well above
/// the 规模以上 threshold.
fn ent(n: u32) -> Ent {
    Ent {
        code: code(n),
        name: format!("示例企业{n}有限公司"),
        industry: "3311".into(),
        amounts: [10000.0, 9000.0, 3000.0, 2700.0, 9500.0, 9000.0, 500.0, 450.0, 0.0, 0.0],
        employees: 100.0,
        note: String::new(),
        text: Vec::new(),
    }
}

const OUTPUT: usize = 0;
const OUTPUT_PREV: usize = 1;
const VA: usize = 2;
const VA_PREV: usize = 3;
const REVENUE: usize = 4;
const EXPORT: usize = 8;
const EXPORT_PREV: usize = 9;

impl Ent {
    fn set(mut self, i: usize, v: f64) -> Ent {
        self.amounts[i] = v;
        self
    }
}

/// A JN104 project. Columns: A name, B code, C chain, D total, E planned this year, F done this
/// year, G done cumulative, H progress %, I status, J planned start.
#[derive(Clone)]
struct Proj {
    name: String,
    chain: String,
    total: f64,
    planned: f64,
    done_year: f64,
    done_cum: f64,
    progress: f64,
    status: String,
}

const CHAIN: &str = "工程机械产业链";

fn proj(n: u32) -> Proj {
    Proj {
        name: format!("示例项目{n}"),
        chain: CHAIN.into(),
        total: 1000.0,
        planned: 300.0,
        done_year: 200.0,
        done_cum: 500.0,
        progress: 50.0,
        status: "在建".into(),
    }
}

/// A county's workbook for one period; each non-empty form becomes a sheet.
#[derive(Clone, Default)]
struct Book {
    county: &'static str,
    /// `2025年1—9月`.
    period: &'static str,
    jn101: Vec<Ent>,
    /// A 合计 row under the data with this 工业总产值(本年累计).
    jn101_total: Option<f64>,
    /// (指标名称, 本年累计, 上年同期, 增速)
    jn102: Vec<(&'static str, f64, f64, Option<f64>)>,
    /// (指标名称, 本年累计)
    jn103: Vec<(&'static str, f64)>,
    jn104: Vec<Proj>,
}

fn book(county: &'static str) -> Book {
    Book { county, period: "2025年1—9月", ..Default::default() }
}

fn header_block(ws: &mut Worksheet, form: &str, title: &str, b: &Book) {
    ws.write_string(0, 0, title).unwrap();
    ws.write_string(1, 0, format!("表号:{form}")).unwrap();
    ws.write_string(2, 0, format!("填报单位(盖章):{}统计局", b.county)).unwrap();
    ws.write_string(2, 5, b.period).unwrap();
    ws.write_string(2, 9, "计量单位:万元").unwrap();
}

fn write_book(path: &Path, b: &Book) {
    let mut wb = Workbook::new();
    let merge = Format::new();
    if !b.jn101.is_empty() || b.jn101_total.is_some() {
        let ws = wb.add_worksheet();
        ws.set_name("JN101").unwrap();
        header_block(ws, "JN101", "济宁市规模以上工业企业主要经济指标月报", b);
        for (c, h) in ["统一社会信用代码", "单位详细名称", "行业代码"].iter().enumerate() {
            ws.merge_range(3, c as u16, 4, c as u16, h, &merge).unwrap();
        }
        for (i, h) in ["工业总产值(当年价格)", "工业增加值", "营业收入", "利润总额", "出口交货值"].iter().enumerate()
        {
            let c = 3 + 2 * i as u16;
            ws.merge_range(3, c, 3, c + 1, h, &merge).unwrap();
            ws.write_string(4, c, "本年累计").unwrap();
            ws.write_string(4, c + 1, "上年同期").unwrap();
        }
        ws.merge_range(3, 13, 4, 13, "期末从业人员(人)", &merge).unwrap();
        ws.merge_range(3, 14, 4, 14, "备注", &merge).unwrap();
        for (i, e) in b.jn101.iter().enumerate() {
            let r = 5 + i as u32;
            ws.write_string(r, 0, &e.code).unwrap();
            ws.write_string(r, 1, &e.name).unwrap();
            ws.write_string(r, 2, &e.industry).unwrap();
            for (k, v) in e.amounts.iter().enumerate() {
                ws.write_number(r, 3 + k as u16, *v).unwrap();
            }
            ws.write_number(r, 13, e.employees).unwrap();
            if !e.note.is_empty() {
                ws.write_string(r, 14, &e.note).unwrap();
            }
            for (c, t) in &e.text {
                ws.write_string(r, *c, t).unwrap();
            }
        }
        if let Some(total) = b.jn101_total {
            let r = 5 + b.jn101.len() as u32;
            ws.write_string(r, 1, "合计").unwrap();
            ws.write_number(r, 3, total).unwrap();
        }
    }
    if !b.jn102.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("JN102").unwrap();
        header_block(ws, "JN102", "济宁市\"五个倍增\"指标月报", b);
        for (c, h) in ["指标名称", "计量单位", "本年累计", "上年同期", "增速(%)"].iter().enumerate() {
            ws.write_string(3, c as u16, *h).unwrap();
        }
        for (i, (label, ytd, prev, growth)) in b.jn102.iter().enumerate() {
            let r = 4 + i as u32;
            ws.write_string(r, 0, *label).unwrap();
            ws.write_string(r, 1, if label.ends_with("企业数") { "个" } else { "万元" }).unwrap();
            ws.write_number(r, 2, *ytd).unwrap();
            ws.write_number(r, 3, *prev).unwrap();
            if let Some(g) = growth {
                ws.write_number(r, 4, *g).unwrap();
            }
        }
    }
    if !b.jn103.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("JN103").unwrap();
        header_block(ws, "JN103", "济宁市营商环境与要素保障月报", b);
        for (c, h) in ["指标名称", "计量单位", "本年累计"].iter().enumerate() {
            ws.write_string(3, c as u16, *h).unwrap();
        }
        for (i, (label, ytd)) in b.jn103.iter().enumerate() {
            let r = 4 + i as u32;
            ws.write_string(r, 0, *label).unwrap();
            ws.write_string(r, 1, if *label == "合作金额" { "万元" } else { "项" }).unwrap();
            ws.write_number(r, 2, *ytd).unwrap();
        }
    }
    if !b.jn104.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("JN104").unwrap();
        header_block(ws, "JN104", "济宁市重点项目进度月报", b);
        let headers = [
            "项目名称",
            "项目代码",
            "所属产业链",
            "总投资(万元)",
            "本年计划投资(万元)",
            "本年完成投资(万元)",
            "累计完成投资(万元)",
            "形象进度(%)",
            "项目状态",
            "计划投产时间",
        ];
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(3, c as u16, *h).unwrap();
        }
        for (i, p) in b.jn104.iter().enumerate() {
            let r = 4 + i as u32;
            ws.write_string(r, 0, &p.name).unwrap();
            ws.write_string(r, 1, format!("2025-370811-{i:04}")).unwrap();
            ws.write_string(r, 2, &p.chain).unwrap();
            for (k, v) in [p.total, p.planned, p.done_year, p.done_cum, p.progress].into_iter().enumerate() {
                ws.write_number(r, 3 + k as u16, v).unwrap();
            }
            ws.write_string(r, 8, &p.status).unwrap();
            ws.write_string(r, 9, "2026-06").unwrap();
        }
    }
    wb.save(path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// The pipeline: ingest → sheet rows → audit

struct Env {
    forms: Forms,
    rules: Vec<audit::rules::RuleFile>,
    reference: Reference,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            forms: Forms::load(&project().join("forms")).unwrap(),
            rules: audit::rules::load(&project().join("rules")).unwrap(),
            reference: Reference::load(&project().join("sample_data/reference")).unwrap(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes the workbooks and reads them back as the run does.
    fn sheets(&self, books: &[(&str, Book)]) -> Vec<SheetRows> {
        let mut out = Vec::new();
        for (file, b) in books {
            let path = self.dir.path().join(file);
            write_book(&path, b);
            let f = ingest::ingest_file(&path, &self.forms, &self.reference.regions);
            assert!(f.refusal.is_none(), "{file}: {:?}", f.refusal);
            for s in &f.sheets {
                assert!(s.refusal.is_none(), "{file} {}: {:?}", s.read.sheet, s.refusal);
                let form = self.forms.get(&s.read.form).unwrap();
                out.push(ingest::rows::sheet_rows(form, &f, s));
            }
        }
        out
    }

    fn audit_with(
        &self,
        period: &str,
        sheets: &[SheetRows],
        previous: Option<(&AuditOutcome, &[SheetRows])>,
    ) -> AuditOutcome {
        let period = period.parse().unwrap();
        let cx = AuditContext {
            forms: &self.forms,
            rules: &self.rules,
            previous: previous.map(|(o, _)| o.accepted.clone()).unwrap_or_default(),
            previous_column_maps: previous.map(|(_, s)| audit::column_maps(s)).unwrap_or_default(),
            reference: &self.reference.tables,
            params: gongbao::models::exec::params_batch(period),
        };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(audit::audit_period(period, sheets, &cx)).unwrap()
    }

    /// Writes, reads and audits the books as the returns of 2025-09.
    fn audit(&self, books: &[(&str, Book)]) -> AuditOutcome {
        let sheets = self.sheets(books);
        let outcome = self.audit_with("2025-09", &sheets, None);
        assert!(outcome.stats.iter().all(|s| s.error.is_none()), "a rule failed to run: {:?}", outcome.stats);
        outcome
    }
}

fn row_of(cell: &str) -> i64 {
    cell.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().unwrap()
}

fn show(o: &AuditOutcome) -> String {
    o.findings.iter().map(|f| format!("\n  {}", f.one_line())).collect()
}

/// The rule ids a row was quarantined for, if it was.
fn quarantined(o: &AuditOutcome, file: &str, row: i64) -> Option<String> {
    let q = &o.quarantine;
    let files = q.column_by_name("_source_file").unwrap().as_string::<i32>();
    let rows = q.column_by_name("_source_row").unwrap().as_primitive::<Int64Type>();
    let rules = q.column_by_name("rule_ids").unwrap().as_string::<i32>();
    (0..q.num_rows()).find(|&i| files.value(i) == file && rows.value(i) == row).map(|i| rules.value(i).to_string())
}

fn accepted(o: &AuditOutcome, file: &str, row: i64) -> bool {
    o.accepted.values().flatten().any(|b: &RecordBatch| {
        let files = b.column_by_name("_source_file").unwrap().as_string::<i32>();
        let rows = b.column_by_name("_source_row").unwrap().as_primitive::<Int64Type>();
        (0..b.num_rows()).any(|i| files.value(i) == file && rows.value(i) == row)
    })
}

/// The finding of `rule` on `file`'s cell `cell`, with its severity.
fn finding<'a>(o: &'a AuditOutcome, rule: &str, severity: Severity, file: &str, cell: &str) -> &'a Finding {
    let f = o
        .findings
        .iter()
        .find(|f| f.rule_id == rule && f.location.file == file && f.location.cell.as_deref() == Some(cell))
        .unwrap_or_else(|| panic!("{rule}: no finding on {file} {cell}; findings:{}", show(o)));
    assert_eq!(f.severity, severity, "{rule}: severity of {}", f.one_line());
    assert!(!f.message.is_empty() && !f.message.contains('{'), "{rule}: message not filled in: {}", f.message);
    f
}

fn no_finding(o: &AuditOutcome, rule: &str, file: &str, row: i64) {
    let hit =
        o.findings.iter().find(|f| f.rule_id == rule && f.location.file == file && f.location.row == Some(row as u32));
    assert!(
        hit.is_none(),
        "{rule}: the row that just passes ({file} row {row}) was flagged: {}",
        hit.unwrap().one_line()
    );
}

/// The row that breaks `rule` has its finding at `cell` and ended up quarantined (errors) or
/// accepted (warnings); the row at `pass_row` has no finding of the rule and was accepted.
fn check(o: &AuditOutcome, rule: &str, severity: Severity, file: &str, cell: &str, pass: (&str, i64)) -> Finding {
    let f = finding(o, rule, severity, file, cell).clone();
    let row = row_of(cell);
    match severity {
        Severity::Error => {
            let q = quarantined(o, file, row).unwrap_or_else(|| panic!("{rule}: {file} row {row} was not quarantined"));
            assert!(q.split(',').any(|r| r == rule), "{rule}: {file} row {row} quarantined for {q} only");
            assert!(!accepted(o, file, row), "{rule}: {file} row {row} is both accepted and quarantined");
        }
        Severity::Warning | Severity::Info => {
            assert!(accepted(o, file, row), "{rule}: a warning must leave {file} row {row} accepted");
            assert!(quarantined(o, file, row).is_none(), "{rule}: a warning quarantined {file} row {row}");
        }
    }
    no_finding(o, rule, pass.0, pass.1);
    assert!(accepted(o, pass.0, pass.1), "{rule}: the row that passes ({} row {}) was not accepted", pass.0, pass.1);
    f
}

const F: &str = "任城区_2025年1-9月.xlsx";
const G: &str = "兖州区_2025年1-9月.xlsx";

// ---------------------------------------------------------------------------------------------
// JN101, within a row

#[test]
fn jn101_e01_credit_code_malformed() {
    let env = Env::new();
    let mut b = book("任城区");
    let mut broken = ent(1);
    broken.code = broken.code.replacen('M', "O", 1); // O is not in the GB 32100 alphabet
    // Lower case and spaces are normalised at ingest: the code just passes.
    let mut tidy = ent(2);
    tidy.code = format!(" {} ", tidy.code.to_lowercase());
    b.jn101 = vec![broken, tidy];
    let o = env.audit(&[(F, b)]);
    let f = check(&o, "JN101-E01", Severity::Error, F, "A6", (F, 7));
    assert!(f.message.contains("GB 32100"), "{}", f.message);
}

#[test]
fn jn101_e02_industry_code() {
    let env = Env::new();
    let mut b = book("任城区");
    let mut broken = ent(1);
    broken.industry = "4711".into(); // division 47 is not industry
    let mut edge = ent(2);
    edge.industry = "4690".into(); // division 46, the last one of industry
    let mut low = ent(3);
    low.industry = "0511".into(); // division 05
    let mut first = ent(4);
    first.industry = "0610".into(); // division 06, the first one
    b.jn101 = vec![broken, edge, low, first];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-E02", Severity::Error, F, "C6", (F, 7));
    check(&o, "JN101-E02", Severity::Error, F, "C8", (F, 9));
}

#[test]
fn jn101_e03_value_missing_or_not_a_number() {
    let env = Env::new();
    let mut b = book("任城区");
    let mut broken = ent(1);
    broken.text.push((3, "约一万".into())); // D6: 工业总产值 not a number
    let mut typed = ent(2);
    typed.text.push((3, "10,000.0 ".into())); // a number typed as text passes
    b.jn101 = vec![broken, typed];
    let o = env.audit(&[(F, b)]);
    let f = check(&o, "JN101-E03", Severity::Error, F, "D6", (F, 7));
    assert!(f.message.contains("工业总产值"), "{}", f.message);
}

#[test]
fn jn101_e04_negative_value() {
    let env = Env::new();
    let mut b = book("任城区");
    let broken = ent(1).set(OUTPUT, -0.1);
    // A loss is allowed, and zero export is not negative.
    let pass = ent(2).set(6, -500.0).set(EXPORT, 0.0);
    // The highlighted cell is the negative one.
    let revenue = ent(3).set(REVENUE, -0.1);
    let mut employees = ent(4);
    employees.employees = -1.0;
    b.jn101 = vec![broken, pass, revenue, employees];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-E04", Severity::Error, F, "D6", (F, 7));
    finding(&o, "JN101-E04", Severity::Error, F, "H8");
    finding(&o, "JN101-E04", Severity::Error, F, "N9");
}

#[test]
fn jn101_e05_value_added_above_output() {
    let env = Env::new();
    let mut b = book("任城区");
    let broken = ent(1).set(VA, 10000.1); // output 10000
    let pass = ent(2).set(VA, 10000.0);
    // Last year's figures too, highlighted on their own cell (output_prev 9000).
    let prev = ent(3).set(VA_PREV, 9000.1);
    let prev_pass = ent(4).set(VA_PREV, 9000.0);
    b.jn101 = vec![broken, pass, prev, prev_pass];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-E05", Severity::Error, F, "G8", (F, 9));
    let f = check(&o, "JN101-E05", Severity::Error, F, "F6", (F, 7));
    assert!(f.message.contains("10,000.1") && f.message.contains("10,000"), "{}", f.message);
}

#[test]
fn jn101_e06_export_above_output() {
    let env = Env::new();
    let mut b = book("任城区");
    let broken = ent(1).set(EXPORT, 10000.1);
    let pass = ent(2).set(EXPORT, 10000.0);
    let prev = ent(3).set(EXPORT_PREV, 9000.1);
    let prev_pass = ent(4).set(EXPORT_PREV, 9000.0);
    b.jn101 = vec![broken, pass, prev, prev_pass];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-E06", Severity::Error, F, "L6", (F, 7));
    check(&o, "JN101-E06", Severity::Error, F, "M8", (F, 9));
}

// ---------------------------------------------------------------------------------------------
// JN101, across rows and counties

#[test]
fn jn101_e07_duplicate_in_one_return() {
    let env = Env::new();
    let mut b = book("任城区");
    let first = ent(1);
    let mut again = ent(2);
    again.code = first.code.clone();
    b.jn101 = vec![first, ent(3), again];
    let o = env.audit(&[(F, b)]);
    // The first occurrence is kept, the repeat is quarantined.
    let f = check(&o, "JN101-E07", Severity::Error, F, "A8", (F, 6));
    assert!(f.message.contains("第6行"), "{}", f.message);
}

#[test]
fn jn101_e08_same_code_in_two_counties() {
    let env = Env::new();
    let mut a = book("任城区");
    a.jn101 = vec![ent(1), ent(2)];
    let mut b = book("兖州区");
    let mut twin = ent(3);
    twin.code = code(1);
    b.jn101 = vec![ent(4), twin];
    let o = env.audit(&[(F, a), (G, b)]);
    // Both counties are told, both rows quarantined; a code in one county only passes.
    let fa = check(&o, "JN101-E08", Severity::Error, F, "A6", (F, 7));
    let fb = check(&o, "JN101-E08", Severity::Error, G, "A7", (G, 6));
    assert_eq!(fa.region_code.as_deref(), Some("370811"));
    assert_eq!(fb.region_code.as_deref(), Some("370812"));
    assert!(fa.message.contains("370811、370812"), "{}", fa.message);
}

// ---------------------------------------------------------------------------------------------
// JN101, warnings

#[test]
fn jn101_w01_output_growth_out_of_range() {
    let env = Env::new();
    let mut b = book("任城区");
    let va = |e: Ent| e.set(VA, 4000.0); // keep the value-added rate in range
    let broken = va(ent(1).set(OUTPUT, 20000.1).set(OUTPUT_PREV, 10000.0)); // +100.001%
    let pass = va(ent(2).set(OUTPUT, 20000.0).set(OUTPUT_PREV, 10000.0)); // +100%
    let low = va(ent(3).set(OUTPUT, 9999.9).set(OUTPUT_PREV, 20000.0)); // −50.0005%
    let low_pass = va(ent(4).set(OUTPUT, 10000.0).set(OUTPUT_PREV, 20000.0)); // −50%
    b.jn101 = vec![broken, pass, low, low_pass];
    let o = env.audit(&[(F, b)]);
    let f = check(&o, "JN101-W01", Severity::Warning, F, "D6", (F, 7));
    assert!(f.message.contains("100"), "{}", f.message);
    check(&o, "JN101-W01", Severity::Warning, F, "D8", (F, 9));
}

#[test]
fn jn101_w02_value_added_rate_out_of_range() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn101 = vec![
        ent(1).set(VA, 6000.1), // 60.001%
        ent(2).set(VA, 6000.0), // 60%
        ent(3).set(VA, 999.9),  // 9.999%
        ent(4).set(VA, 1000.0), // 10%
    ];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-W02", Severity::Warning, F, "F6", (F, 7));
    check(&o, "JN101-W02", Severity::Warning, F, "F8", (F, 9));
}

#[test]
fn jn101_w03_check_digit() {
    let env = Env::new();
    let mut b = book("任城区");
    let mut broken = ent(1);
    broken.code = bad_check(1);
    b.jn101 = vec![broken, ent(2)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN101-W03", Severity::Warning, F, "A6", (F, 7));
    assert!(o.findings.iter().all(|f| f.rule_id != "JN101-E01"), "a wrong check digit is only a warning:{}", show(&o));
}

#[test]
fn jn101_w04_annualised_revenue_below_threshold() {
    let env = Env::new();
    let mut b = book("任城区");
    // 1—9月: 1500 × 12 / 9 = 2000 万元 exactly passes; 1499.9 is below.
    b.jn101 = vec![ent(1).set(REVENUE, 1499.9), ent(2).set(REVENUE, 1500.0)];
    let o = env.audit(&[(F, b)]);
    let f = check(&o, "JN101-W04", Severity::Warning, F, "H6", (F, 7));
    assert!(f.message.contains("1,999.9"), "{}", f.message);
}

#[test]
fn jn101_w07_total_row_disagrees() {
    let env = Env::new();
    let mut a = book("任城区");
    a.jn101 = vec![ent(1), ent(2)];
    a.jn101_total = Some(20001.1); // the rows sum to 20000
    let mut b = book("兖州区");
    b.jn101 = vec![ent(3), ent(4)];
    b.jn101_total = Some(20001.0); // 1 万元 off: within tolerance
    let o = env.audit(&[(F, a), (G, b)]);
    finding(&o, "JN101-W07", Severity::Warning, F, "D8");
    no_finding(&o, "JN101-W07", G, 8);
    // One warning on the cell: ingest's generic 合计 check of the same cell gives way to the rule.
    let on_d8: Vec<&str> = o
        .findings
        .iter()
        .filter(|f| f.location.file == F && f.location.cell.as_deref() == Some("D8"))
        .map(|f| f.rule_id.as_str())
        .collect();
    assert_eq!(on_d8, ["JN101-W07"], "{}", show(&o));
    // The 合计 row is never an enterprise: neither accepted nor quarantined; the data rows are used.
    for (file, row) in [(F, 8), (G, 8)] {
        assert!(!accepted(&o, file, row) && quarantined(&o, file, row).is_none(), "{file} 合计 row");
    }
    for (file, row) in [(F, 6), (F, 7), (G, 6), (G, 7)] {
        assert!(accepted(&o, file, row), "{file} row {row}");
    }
}

// ---------------------------------------------------------------------------------------------
// JN101, across periods

#[test]
fn jn101_w05_w06_across_periods() {
    let env = Env::new();
    let mut aug = book("任城区");
    aug.period = "2025年1—8月";
    aug.jn101 = vec![ent(1), ent(2), ent(3), ent(4)];
    let aug_file = "任城区_2025年1-8月.xlsx";
    let aug_sheets = env.sheets(&[(aug_file, aug)]);
    let aug_outcome = env.audit_with("2025-08", &aug_sheets, None);

    let mut sep = book("任城区");
    // Enterprise 1's output falls below last month's YTD; enterprise 2's equals it; 3 is gone;
    // 4's value added falls (highlighted on its own cell).
    sep.jn101 = vec![ent(1).set(OUTPUT, 9999.9), ent(2), ent(4).set(VA, 2999.9)];
    let sep_sheets = env.sheets(&[(F, sep)]);
    let o = env.audit_with("2025-09", &sep_sheets, Some((&aug_outcome, &aug_sheets)));

    let f = check(&o, "JN101-W05", Severity::Warning, F, "D6", (F, 7));
    assert!(f.message.contains("工业总产值") && f.message.contains("9,999.9"), "{}", f.message);
    let f = finding(&o, "JN101-W05", Severity::Warning, F, "F8");
    assert!(f.message.contains("工业增加值") && f.message.contains("2,999.9"), "{}", f.message);

    // W06 points at last month's row of the missing enterprise (and its cell).
    let f = finding(&o, "JN101-W06", Severity::Warning, aug_file, "A8");
    assert_eq!(f.region_code.as_deref(), Some("370811"));
    assert!(f.message.contains(&code(3)), "{}", f.message);
    // Enterprises 1, 2 and 4 (last month's rows 6, 7, 9) are still reported, and accepted.
    for row in [6, 7, 9] {
        no_finding(&o, "JN101-W06", aug_file, row);
    }
    for row in [6, 7, 8] {
        assert!(accepted(&o, F, row), "{F} row {row}");
    }
}

// ---------------------------------------------------------------------------------------------
// JN102

#[test]
fn jn102_e04_negative() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn102 = vec![
        ("生产性服务业营业收入", -0.1, 100.0, None),
        ("高新技术企业数", 0.0, 0.0, None),
        ("外贸进出口总额", 0.0, -0.1, None),
    ];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN102-E04", Severity::Error, F, "C5", (F, 6));
    check(&o, "JN102-E04", Severity::Error, F, "D7", (F, 6));
}

#[test]
fn jn102_e06_trade_total() {
    let env = Env::new();
    let trade = |import: f64| {
        vec![("外贸进出口总额", 1000.0, 900.0, None), ("出口", 600.0, 500.0, None), ("进口", import, 400.0, None)]
    };
    let mut a = book("任城区");
    a.jn102 = trade(401.1); // 1001.1 vs 1000
    let mut b = book("兖州区");
    b.jn102 = trade(401.0); // 1 万元 off: within tolerance
    let o = env.audit(&[(F, a), (G, b)]);
    check(&o, "JN102-E06", Severity::Error, F, "C5", (G, 5));
}

#[test]
fn jn102_w01_reported_growth() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn102 = vec![
        ("生产性服务业营业收入", 150.0, 100.0, Some(50.2)), // recomputed 50.0: 0.2 point off
        ("高新技术企业数", 150.0, 100.0, Some(50.1)),       // 0.1 point off: passes
    ];
    let o = env.audit(&[(F, b)]);
    let f = check(&o, "JN102-W01", Severity::Warning, F, "E5", (F, 6));
    assert!(f.message.contains("50.2") && f.message.contains("50"), "{}", f.message);
}

#[test]
fn jn102_w02_enterprise_count_vs_jn101() {
    let env = Env::new();
    // 任城区 reports 3 enterprises but one of its 3 JN101 rows is quarantined: 2 accepted.
    let mut a = book("任城区");
    a.jn101 = vec![ent(1), ent(2), ent(3).set(VA, 10000.1)];
    a.jn102 = vec![("规模以上工业企业数", 3.0, 3.0, None)];
    let mut b = book("兖州区");
    b.jn101 = vec![ent(4), ent(5)];
    b.jn102 = vec![("规模以上工业企业数", 2.0, 2.0, None)];
    let o = env.audit(&[(F, a), (G, b)]);
    let f = check(&o, "JN102-W02", Severity::Warning, F, "C5", (G, 5));
    assert_eq!(f.message, "规模以上工业企业数(3)与JN101表审核通过的企业数(2)不一致");
}

// ---------------------------------------------------------------------------------------------
// JN103

#[test]
fn jn103_e04_negative() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn103 = vec![("产业链对接活动", -1.0), ("新引进青年人才", 0.0)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN103-E04", Severity::Error, F, "C5", (F, 6));
}

#[test]
fn jn103_e06_resolved_above_received() {
    let env = Env::new();
    let mut a = book("任城区");
    a.jn103 = vec![("企业诉求受理数", 100.0), ("企业诉求办结数", 101.0)];
    let mut b = book("兖州区");
    b.jn103 = vec![("企业诉求受理数", 100.0), ("企业诉求办结数", 100.0)];
    let o = env.audit(&[(F, a), (G, b)]);
    check(&o, "JN103-E06", Severity::Error, F, "C6", (G, 6));
}

#[test]
fn jn103_w01_agreements_above_intents() {
    let env = Env::new();
    let mut a = book("任城区");
    a.jn103 = vec![("达成合作意向", 10.0), ("签订合作协议", 11.0)];
    let mut b = book("兖州区");
    b.jn103 = vec![("达成合作意向", 10.0), ("签订合作协议", 10.0)];
    let o = env.audit(&[(F, a), (G, b)]);
    check(&o, "JN103-W01", Severity::Warning, F, "C6", (G, 6));
}

// ---------------------------------------------------------------------------------------------
// JN104

fn with(p: Proj, f: impl FnOnce(&mut Proj)) -> Proj {
    let mut p = p;
    f(&mut p);
    p
}

#[test]
fn jn104_e01_progress_out_of_range() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn104 = vec![
        with(proj(1), |p| p.progress = 100.1),
        with(proj(2), |p| p.progress = 100.0),
        with(proj(3), |p| p.progress = -0.1),
        with(proj(4), |p| p.progress = 0.0),
    ];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-E01", Severity::Error, F, "H5", (F, 6));
    check(&o, "JN104-E01", Severity::Error, F, "H7", (F, 8));
}

#[test]
fn jn104_e02_unknown_chain() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn104 = vec![with(proj(1), |p| p.chain = "工程机械产业".into()), proj(2)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-E02", Severity::Error, F, "C5", (F, 6));
}

#[test]
fn jn104_e04_negative_amounts() {
    let env = Env::new();
    let mut b = book("任城区");
    let zero = |p: &mut Proj| {
        (p.total, p.planned, p.done_year, p.done_cum, p.progress) = (0.0, 0.0, 0.0, 0.0, 0.0);
    };
    b.jn104 = vec![with(proj(1), |p| p.total = -0.1), with(proj(2), zero), with(proj(3), |p| p.done_year = -0.1)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-E04", Severity::Error, F, "D5", (F, 6));
    check(&o, "JN104-E04", Severity::Error, F, "F7", (F, 6));
}

#[test]
fn jn104_w01_cumulative_above_total() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn104 = vec![with(proj(1), |p| p.done_cum = 1200.1), with(proj(2), |p| p.done_cum = 1200.0)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-W01", Severity::Warning, F, "G5", (F, 6));
}

#[test]
fn jn104_w02_in_production_below_full_progress() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn104 = vec![
        with(proj(1), |p| (p.status, p.progress) = ("投产".into(), 99.9)),
        with(proj(2), |p| (p.status, p.progress) = ("达产".into(), 100.0)),
    ];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-W02", Severity::Warning, F, "H5", (F, 6));
}

#[test]
fn jn104_w03_this_year_above_cumulative() {
    let env = Env::new();
    let mut b = book("任城区");
    b.jn104 = vec![with(proj(1), |p| p.done_year = 500.1), with(proj(2), |p| p.done_year = 500.0)];
    let o = env.audit(&[(F, b)]);
    check(&o, "JN104-W03", Severity::Warning, F, "F5", (F, 6));
}

/// Every rule of `rules/*.toml` has its test above (a new rule needs one).
#[test]
fn every_rule_has_a_test() {
    let tested = [
        "JN101-E01",
        "JN101-E02",
        "JN101-E04",
        "JN101-E05",
        "JN101-E06",
        "JN101-E07",
        "JN101-E08",
        "JN101-W01",
        "JN101-W02",
        "JN101-W03",
        "JN101-W04",
        "JN101-W05",
        "JN101-W06",
        "JN101-W07",
        "JN102-E04",
        "JN102-E06",
        "JN102-W01",
        "JN102-W02",
        "JN103-E04",
        "JN103-E06",
        "JN103-W01",
        "JN104-E01",
        "JN104-E02",
        "JN104-E04",
        "JN104-W01",
        "JN104-W02",
        "JN104-W03",
    ];
    let rules = audit::rules::load(&project().join("rules")).unwrap();
    for r in rules.iter().flat_map(|f| &f.rules) {
        assert!(tested.contains(&r.id.as_str()), "rule {} ({}) has no test in tests/audit_rules.rs", r.id, r.source);
    }
}

// ---------------------------------------------------------------------------------------------
// Per-county summary

#[test]
fn summary_per_rule_and_county() {
    let env = Env::new();
    let mut a = book("任城区");
    a.jn101 = vec![ent(1).set(VA, 10000.1), ent(2), ent(3).set(VA, 6000.1)];
    let mut b = book("兖州区");
    let mut unreadable = ent(6);
    unreadable.text.push((3, "约一万".into())); // output not a number: E05 cannot be evaluated
    b.jn101 = vec![ent(4), ent(5), unreadable];
    let o = env.audit(&[(F, a), (G, b)]);
    let get = |rule: &str, region: &str| {
        o.summary
            .iter()
            .find(|s| s.rule_id == rule && s.region_code == region)
            .unwrap_or_else(|| panic!("no summary row for {rule} {region}: {:?}", o.summary))
            .clone()
    };
    let s = get("JN101-E05", "370811");
    assert_eq!((s.checked, s.passed, s.failed, s.not_evaluable), (3, 2, 1, 0), "{s:?}");
    // A NULL condition is not evaluable, never a pass.
    let s = get("JN101-E05", "370812");
    assert_eq!((s.checked, s.passed, s.failed, s.not_evaluable), (3, 2, 0, 1), "{s:?}");
    let s = get("JN101-E05", "370800");
    assert_eq!((s.checked, s.passed, s.failed, s.not_evaluable), (6, 4, 1, 1), "all counties: {s:?}");
    // The ingest-level rule (a value missing or not a number) is tallied too.
    let s = get("JN101-E03", "370812");
    assert_eq!((s.checked, s.passed, s.failed), (3, 2, 1), "{s:?}");
    let s = get("JN101-E03", "370811");
    assert_eq!((s.checked, s.passed, s.failed), (3, 3, 0), "{s:?}");
    // W02 on 任城区: the E05 row (rate 100%) and the 60.001% row.
    let s = get("JN101-W02", "370811");
    assert_eq!((s.checked, s.failed), (3, 2), "{s:?}");
    let batch = audit::summary_batch(&o);
    assert_eq!(batch.num_rows(), o.summary.len());
    for name in ["rule_id", "form", "severity", "region_code", "checked", "passed", "failed", "not_evaluable", "error"]
    {
        assert!(batch.column_by_name(name).is_some(), "audit_summary lacks {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Whole runs: a rule added at run time, feedback, a rule that cannot be evaluated

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of the project's forms/, rules/, sql/, templates/ with `extra` added to rules/, and an
/// inbox with `books`.
fn project_copy(extra: &str, books: &[(&str, Book)]) -> (tempfile::TempDir, RunOptions) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("project");
    for d in ["forms", "rules", "sql", "templates"] {
        copy_dir(&project().join(d), &p.join(d));
    }
    std::fs::write(p.join("rules/extra.toml"), extra).unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for (file, b) in books {
        write_book(&inbox.join(file), b);
    }
    let opts = RunOptions {
        project: p,
        inbox,
        reference: project().join("sample_data/reference"),
        out: tmp.path().join("out"),
        period: None,
        issued_on: None,
    };
    (tmp, opts)
}

fn text_col(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    let c = c.as_string::<i32>();
    (0..c.len()).map(|i| (!c.is_null(i)).then(|| c.value(i).to_string())).collect()
}

const EXTRA_RULE: &str = r#"
form = "JN101"

[[rule]]
id = "JN101-X01"
severity = "warning"
fields = ["employees"]
when = "employees > 1000"
message = "{name}期末从业人员{employees}人超过1000人,请核实"
"#;

/// A name a spreadsheet would run as a formula if it were written as one.
const FORMULA_NAME: &str = "=HYPERLINK(\"http://x\",\"点击\")*_示例_";

#[test]
fn rule_added_at_run_time_and_county_feedback() {
    let mut b = book("任城区");
    let mut big = ent(1).set(VA, 10000.1); // also an error: E05 on F6
    big.employees = 1500.0;
    big.name = FORMULA_NAME.into();
    let mut edge = ent(2);
    edge.employees = 1000.0;
    b.jn101 = vec![big, edge];
    let (_tmp, opts) = project_copy(EXTRA_RULE, &[(F, b)]);
    let summary = gongbao::run::run(&opts).unwrap();
    assert!(summary.rule_failures.is_empty(), "{:?}", summary.rule_failures);

    // The new rule ran, with no rebuild: its finding is in the findings table, on N6 only.
    let findings = gongbao::store::read_dir_batches(&opts.out.join("warehouse/findings/period=2025-09")).unwrap();
    let mut hits = Vec::new();
    for batch in &findings {
        let (rule, cell, sev, msg) = (
            text_col(batch, "rule_id"),
            text_col(batch, "cell"),
            text_col(batch, "severity"),
            text_col(batch, "message"),
        );
        for i in 0..batch.num_rows() {
            if rule[i].as_deref() == Some("JN101-X01") {
                hits.push((cell[i].clone().unwrap_or_default(), sev[i].clone().unwrap(), msg[i].clone().unwrap()));
            }
        }
    }
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, "N6");
    assert_eq!(hits[0].1, "warning");
    let message = hits[0].2.clone();
    assert!(message.contains("1500人超过1000人"), "{message}");

    // The per-county summary has the new rule.
    let sm = gongbao::store::read_dir_batches(&opts.out.join("warehouse/audit_summary/period=2025-09")).unwrap();
    let mut row = None;
    for batch in &sm {
        let (rule, region) = (text_col(batch, "rule_id"), text_col(batch, "region_code"));
        let n = |c: &str| batch.column_by_name(c).unwrap().as_primitive::<Int64Type>().clone();
        let (checked, passed, failed) = (n("checked"), n("passed"), n("failed"));
        for i in 0..batch.num_rows() {
            if rule[i].as_deref() == Some("JN101-X01") && region[i].as_deref() == Some("370811") {
                row = Some((checked.value(i), passed.value(i), failed.value(i)));
            }
        }
    }
    assert_eq!(row, Some((2, 1, 1)), "audit_summary row of JN101-X01 for 370811");

    // The county's feedback workbook.
    let dir = opts.out.join("feedback/2025-09");
    let xlsx = dir.join("370811_任城区_审核反馈.xlsx");
    assert!(
        xlsx.exists(),
        "{:?}",
        std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    assert_eq!(summary.feedback.len(), 1, "{:?}", summary.feedback);
    assert_eq!(summary.feedback[0].workbook, xlsx);
    let mut wb = open_workbook_auto(&xlsx).unwrap();
    assert_eq!(wb.sheet_names()[0], "审核问题");
    let list = wb.worksheet_range("审核问题").unwrap();
    let header: Vec<String> = list.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let col = |h: &str| header.iter().position(|x| x == h).unwrap_or_else(|| panic!("审核问题 lacks {h}: {header:?}"));
    let listed: Vec<Vec<String>> = list.rows().skip(1).map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let x01 = listed.iter().find(|r| r[col("规则")] == "JN101-X01").expect("the new rule's finding is listed");
    assert_eq!(x01[col("文件")], F);
    assert_eq!(x01[col("单元格")], "N6");
    assert_eq!(x01[col("类别")], "核实性");
    assert_eq!(x01[col("问题说明")], message);
    assert_eq!(x01[col("已说明")], "否");
    let e05 = listed.iter().find(|r| r[col("规则")] == "JN101-E05").expect("E05 listed");
    assert_eq!(e05[col("单元格")], "F6");
    assert_eq!(e05[col("类别")], "强制性");

    // The copy of the county's sheet: the highlighted cells hold the county's values, the
    // formula-like name is plain text.
    let copy = wb.worksheet_range("JN101").unwrap();
    assert_eq!(copy.get_value((5, 13)), Some(&Data::Float(1500.0)), "N6");
    assert_eq!(copy.get_value((5, 5)), Some(&Data::Float(10000.1)), "F6");
    assert_eq!(copy.get_value((5, 1)), Some(&Data::String(FORMULA_NAME.into())), "B6");

    // The notes (comments) carry the messages; no cell of the workbook is a formula.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx).unwrap()).unwrap();
    let mut comments = String::new();
    zip.by_name("xl/comments1.xml").expect("the sheet copy has notes").read_to_string(&mut comments).unwrap();
    let xml_text = |s: &str| s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    assert!(comments.contains(&xml_text(&message)) || comments.contains(&message), "note of N6: {comments}");
    assert!(comments.contains("JN101-E05"), "note of F6: {comments}");
    let sheet_xml: Vec<String> = (0..zip.len())
        .filter_map(|i| {
            let mut f = zip.by_index(i).unwrap();
            f.name().is_ok_and(|n| n.starts_with("xl/worksheets/sheet")).then(|| {
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                s
            })
        })
        .collect();
    assert_eq!(sheet_xml.len(), 2, "审核问题 and the JN101 copy");
    assert!(sheet_xml.iter().all(|s| !s.contains("<f>") && !s.contains("<f ")), "a formula was written");
    // Red fill for the error, yellow for the warning (the styles part holds both fills).
    let mut styles = String::new();
    zip.by_name("xl/styles.xml").unwrap().read_to_string(&mut styles).unwrap();
    assert!(styles.contains("FFFF7C80") && styles.contains("FFFFFF00"), "{styles}");

    // The Markdown summary: counts by rule and the findings, text from the return escaped.
    let md = std::fs::read_to_string(dir.join("370811_任城区_审核反馈.md")).unwrap();
    assert!(md.contains("| JN101-X01 | 核实性 | 1 | 0 |"), "{md}");
    assert!(md.contains("单元格 N6"), "{md}");
    assert!(md.contains("\\*\\_示例\\_"), "markdown characters from the return are escaped: {md}");
    assert!(!md.contains("*_示例_"), "{md}");
}

#[test]
fn a_rule_that_cannot_run_is_a_failure() {
    let broken = r#"
form = "JN101"

[[rule]]
id = "JN101-X02"
severity = "error"
fields = ["credit_code"]
when = "no_such_column > 1"
message = "不会出现"
"#;
    let mut b = book("任城区");
    b.jn101 = vec![ent(1), ent(2)];
    let (_tmp, opts) = project_copy(broken, &[(F, b)]);
    let summary = gongbao::run::run(&opts).unwrap();
    assert!(summary.rule_failures.iter().any(|f| f.contains("JN101-X02")), "{:?}", summary.rule_failures);
    assert_eq!(summary.exit_code(false), gongbao::run::exit::FAILURE);
    assert_eq!(summary.exit_code(true), gongbao::run::exit::FAILURE);

    // Never a pass: every row is not evaluable, none passed, and the error is recorded.
    let sm = gongbao::store::read_dir_batches(&opts.out.join("warehouse/audit_summary/period=2025-09")).unwrap();
    let mut seen = BTreeMap::new();
    for batch in &sm {
        let (rule, region, error) =
            (text_col(batch, "rule_id"), text_col(batch, "region_code"), text_col(batch, "error"));
        let n = |c: &str| batch.column_by_name(c).unwrap().as_primitive::<Int64Type>().clone();
        let (checked, passed, ne) = (n("checked"), n("passed"), n("not_evaluable"));
        for i in 0..batch.num_rows() {
            if rule[i].as_deref() == Some("JN101-X02") {
                seen.insert(
                    region[i].clone().unwrap(),
                    (checked.value(i), passed.value(i), ne.value(i), error[i].clone()),
                );
            }
        }
    }
    let (checked, passed, not_evaluable, error) = seen.get("370811").cloned().expect("summary row for 370811");
    assert_eq!((checked, passed, not_evaluable), (2, 0, 2));
    assert!(error.is_some_and(|e| e.contains("JN101-X02")));
}
