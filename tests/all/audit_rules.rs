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
use gongbao::audit::{self, AuditContext, AuditOutcome, TableRows};
use gongbao::findings::{Finding, Severity};
use gongbao::forms::Forms;
use gongbao::ingest;
use gongbao::reference::Reference;
use gongbao::run::RunOptions;
use gongbao::store::staged::{StagedSheet, Staging};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::sample_run::copy_dir;

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

    /// Writes the workbooks and reads them back as the run does (each call's rows staged in a
    /// folder of their own): every other call's held in memory as a run holds a small period's,
    /// the others written to disk as a run does past its budget (the two audit alike:
    /// `rows_held_in_memory_are_audited_as_rows_staged_on_disk`).
    fn sheets(&self, books: &[(&str, Book)]) -> Vec<StagedSheet> {
        let files = self.write(books);
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        self.staged(&files, if n.is_multiple_of(2) { gongbao::memory::Budgets::default().held_sheet_bytes } else { 0 })
    }

    /// Writes the workbooks; their names.
    fn write<'a>(&self, books: &[(&'a str, Book)]) -> Vec<&'a str> {
        for (file, b) in books {
            write_book(&self.dir.path().join(file), b);
        }
        books.iter().map(|(file, _)| *file).collect()
    }

    /// The workbooks `files` (written already) read as the run does, staged with a budget of
    /// `hold_bytes` held in memory.
    fn staged(&self, files: &[&str], hold_bytes: usize) -> Vec<StagedSheet> {
        let n = std::fs::read_dir(self.dir.path()).unwrap().count();
        let staging = Staging::new(&self.dir.path().join(format!("staging-{n}")), hold_bytes).unwrap();
        let mut out = Vec::new();
        for file in files {
            let path = self.dir.path().join(file);
            let f = ingest::ingest_file(&path, &self.forms, &self.reference.regions);
            assert!(f.refusal.is_none(), "{file}: {:?}", f.refusal);
            for s in &f.sheets {
                assert!(s.refusal.is_none(), "{file} {}: {:?}", s.read.sheet, s.refusal);
                let form = self.forms.get(&s.read.form).unwrap();
                out.push(staging.stage(&form.table, ingest::rows::sheet_rows(form, &f, s)).unwrap());
            }
        }
        staging.combine(&self.forms, out).unwrap()
    }

    fn audit_with(
        &self,
        period: &str,
        sheets: &[StagedSheet],
        previous: Option<(&AuditOutcome, &[StagedSheet])>,
    ) -> AuditOutcome {
        self.audit_full(period, sheets, previous, None)
    }

    /// [`Env::audit_with`], with the same period last year's outcome for the prior-year check.
    fn audit_full(
        &self,
        period: &str,
        sheets: &[StagedSheet],
        previous: Option<(&AuditOutcome, &[StagedSheet])>,
        last_year: Option<&AuditOutcome>,
    ) -> AuditOutcome {
        let period = period.parse().unwrap();
        let cx = AuditContext {
            forms: &self.forms,
            rules: &self.rules,
            previous: previous.map(|(o, _)| TableRows::in_memory(o.accepted_batches().unwrap())).unwrap_or_default(),
            last_year: last_year.map(|o| TableRows::in_memory(o.accepted_batches().unwrap())).unwrap_or_default(),
            explanations: audit::rules::Explanations::load(&project().join("rules")).unwrap(),
            previous_column_maps: previous.map(|(_, s)| audit::column_maps(s)).unwrap_or_default(),
            reference: &self.reference.tables,
            params: gongbao::models::exec::params_batch(period),
            query: gongbao::models::pool::QueryMemory::new(
                gongbao::memory::Budgets::default().query_bytes,
                &self.dir.path().join("spill"),
            ),
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
    o.accepted_batches().unwrap().values().flatten().any(|b: &RecordBatch| {
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

/// The same returns audited from rows held in memory (a small period), staged on disk (past the
/// budget), and half and half (the budget runs out midway): the same findings, quarantine and
/// accepted rows. Two counties' returns break rules within rows, across rows and across
/// counties.
#[test]
fn rows_held_in_memory_are_audited_as_rows_staged_on_disk() {
    let env = Env::new();
    let mut a = book("任城区");
    let mut bad_code = ent(1);
    bad_code.code = bad_code.code.replacen('M', "O", 1);
    let mut again = ent(3);
    again.code = ent(2).code;
    a.jn101 = vec![bad_code, ent(2), again, ent(4).set(OUTPUT, -1.0), ent(5).set(VA, 20000.0), ent(6)];
    let mut b = book("兖州区");
    // The same enterprise in two counties, and a growth out of range.
    b.jn101 = vec![ent(6), ent(7).set(OUTPUT, 30000.0), ent(8)];
    b.jn104 = vec![proj(1), proj(2)];
    // Written once: a workbook written again is another file (its properties hold the time).
    let files = env.write(&[(F, a), (G, b)]);
    let summary = |o: &AuditOutcome| {
        let mut findings: Vec<String> = o.findings.iter().map(|f| f.one_line()).collect();
        findings.sort();
        let kept: Vec<(String, usize)> = o.accepted.values().flatten().map(|k| (k.region.clone(), k.kept)).collect();
        (findings, o.quarantine.clone(), o.accepted_batches().unwrap(), kept, o.input_rows.clone())
    };
    let on_disk = env.staged(&files, 0);
    assert!(on_disk.iter().all(|s| !s.rows.is_held()));
    let expected = summary(&env.audit_with("2025-09", &on_disk, None));
    assert!(expected.0.len() >= 5 && expected.1.num_rows() >= 3, "the returns break rules: {:?}", expected.0);
    let held = env.staged(&files, gongbao::memory::Budgets::default().held_sheet_bytes);
    assert!(held.iter().all(|s| s.rows.is_held()));
    assert_eq!(summary(&env.audit_with("2025-09", &held, None)), expected);
    // A budget that holds the first county's sheet only.
    let first = env.staged(&files[..1], gongbao::memory::Budgets::default().held_sheet_bytes);
    let budget = first.iter().map(|s| s.rows.load().unwrap().get_array_memory_size()).sum::<usize>();
    let mixed = env.staged(&files, budget);
    assert!(mixed.iter().any(|s| s.rows.is_held()) && mixed.iter().any(|s| !s.rows.is_held()));
    assert_eq!(summary(&env.audit_with("2025-09", &mixed, None)), expected);
}

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

/// Generated returns with repeated credit codes (two counties, each its own codes, so that
/// JN101-E08 stays out of it): in each return every occurrence of a code after its first is
/// quarantined under JN101-E07 and names the first row; first occurrences are accepted.
#[test]
fn jn101_e07_repeats_generated() {
    use rand::{Rng, SeedableRng};
    let env = Env::new();
    for seed in 0..4u64 {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let mut books = Vec::new();
        let mut expected: Vec<(&str, i64, Option<i64>)> = Vec::new();
        for (file, county, base) in [(F, "任城区", 1), (G, "兖州区", 101)] {
            let mut b = book(county);
            let mut first: BTreeMap<u32, i64> = BTreeMap::new();
            for k in 0..rng.random_range(2..14) {
                let n = base + rng.random_range(0..5);
                let row = 6 + k as i64;
                let mut e = ent(base + 50 + k);
                e.code = code(n);
                b.jn101.push(e);
                expected.push((file, row, first.get(&n).copied()));
                first.entry(n).or_insert(row);
            }
            books.push((file, b));
        }
        let o = env.audit(&books);
        for (file, row, first) in expected {
            let hit = o
                .findings
                .iter()
                .find(|f| f.rule_id == "JN101-E07" && f.location.file == file && f.location.row == Some(row as u32));
            match first {
                Some(first) => {
                    let f =
                        hit.unwrap_or_else(|| panic!("seed {seed}: {file} row {row} repeats row {first}, no finding"));
                    assert!(f.message.contains(&format!("第{first}行")), "seed {seed}: {}", f.message);
                    assert!(!accepted(&o, file, row), "seed {seed}: the repeat {file} row {row} was accepted");
                }
                None => {
                    assert!(hit.is_none(), "seed {seed}: the first occurrence {file} row {row} was flagged");
                    assert!(accepted(&o, file, row), "seed {seed}: {file} row {row} was not accepted:{}", show(&o));
                }
            }
        }
    }
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
    // Neither county reported it last period: both are told, both rows quarantined; a code in
    // one county only passes.
    let fa = check(&o, "JN101-E08", Severity::Error, F, "A6", (F, 7));
    let fb = check(&o, "JN101-E08", Severity::Error, G, "A7", (G, 6));
    assert_eq!(fa.region_code.as_deref(), Some("370811"));
    assert_eq!(fb.region_code.as_deref(), Some("370812"));
    assert!(fa.message.contains("任城区、兖州区") && fa.message.contains("无法确定归属"), "{}", fa.message);
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

#[test]
fn jn102_e07_trade_of_a_zone_again_in_its_host_district() {
    let env = Env::new();
    let trade = |total: f64, export: f64| {
        vec![
            ("外贸进出口总额", total, 900.0, None),
            ("出口", export, 500.0, None),
            ("进口", total - export, 400.0, None),
        ]
    };
    // 太白湖新区 lies in 任城区: the same 外贸进出口总额 in both returns (exports differ).
    let mut zone = book("济宁太白湖新区");
    zone.jn102 = trade(1000.0, 600.0);
    let mut host = book("任城区");
    host.jn102 = trade(1000.0, 650.0);
    // 兖州区 hosts no zone: the same amount there is a coincidence, not a duplicate.
    let mut other = book("兖州区");
    other.jn102 = trade(1000.0, 600.0);
    // 经开区 and its host 嘉祥县 with different amounts pass.
    let mut jkq = book("济宁经济技术开发区");
    jkq.jn102 = trade(300.0, 100.0);
    let mut jiaxiang = book("嘉祥县");
    jiaxiang.jn102 = trade(310.0, 110.0);
    const Z: &str = "太白湖新区_2025年1-9月.xlsx";
    const K: &str = "经开区_2025年1-9月.xlsx";
    const J: &str = "嘉祥县_2025年1-9月.xlsx";
    let o = env.audit(&[(Z, zone), (F, host), (G, other), (K, jkq), (J, jiaxiang)]);
    let fz = check(&o, "JN102-E07", Severity::Error, Z, "C5", (Z, 6));
    let fh = check(&o, "JN102-E07", Severity::Error, F, "C5", (F, 6));
    assert_eq!((fz.region_code.as_deref(), fh.region_code.as_deref()), (Some("JN-TBH"), Some("370811")));
    assert!(fz.message.contains("JN-TBH") && fz.message.contains("370811"), "{}", fz.message);
    for (file, row) in [(G, 5), (K, 5), (J, 5), (J, 6)] {
        no_finding(&o, "JN102-E07", file, row);
    }
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

#[test]
fn jn104_e05_same_project_code_in_two_units() {
    let env = Env::new();
    // The workbooks number project codes by row (2025-370811-0000, -0001, …): 任城区's first
    // project and 兖州区's only one carry the same code.
    let mut a = book("任城区");
    a.jn104 = vec![proj(1), proj(2)];
    let mut b = book("兖州区");
    b.jn104 = vec![proj(3)];
    let o = env.audit(&[(F, a), (G, b)]);
    let fa = check(&o, "JN104-E05", Severity::Error, F, "B5", (F, 6));
    let fb = finding(&o, "JN104-E05", Severity::Error, G, "B5");
    assert!(quarantined(&o, G, 5).is_some_and(|q| q.contains("JN104-E05")));
    assert_eq!((fa.region_code.as_deref(), fb.region_code.as_deref()), (Some("370811"), Some("370812")));
    assert!(fa.message.contains("2025-370811-0000") && fa.message.contains("370811、370812"), "{}", fa.message);
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
        "JN102-E07",
        "JN102-W01",
        "JN101-W08",
        "JN101-W09",
        "JN102-W02",
        "JN103-E04",
        "JN103-E06",
        "JN103-W01",
        "JN104-E01",
        "JN104-E02",
        "JN104-E04",
        "JN104-E05",
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
        let path = inbox.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_book(&path, b);
    }
    let opts = RunOptions {
        project: p,
        inbox,
        reference: project().join("sample_data/reference"),
        out: tmp.path().join("out"),
        period: None,
        issued_on: None,
        threads: None,
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

// ---------------------------------------------------------------------------------------------
// Audit integrity (issue 16)

const H: &str = "微山县_2025年1-9月.xlsx";

/// Whether a 4754 industry code is a class of divisions 06–46, computed in plain Rust.
fn industry_code_ok(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) && (6..=46).contains(&code[..2].parse::<u32>().unwrap())
}

/// The rows quarantined for `rule`, as (file, row).
fn quarantined_for(o: &AuditOutcome, rule: &str) -> std::collections::BTreeSet<(String, i64)> {
    let q = &o.quarantine;
    let files = q.column_by_name("_source_file").unwrap().as_string::<i32>();
    let rows = q.column_by_name("_source_row").unwrap().as_primitive::<Int64Type>();
    let rules = q.column_by_name("rule_ids").unwrap().as_string::<i32>();
    (0..q.num_rows())
        .filter(|&i| rules.value(i).split(',').any(|r| r == rule))
        .map(|i| (files.value(i).to_string(), rows.value(i)))
        .collect()
}

/// One code like `C3311` among many rows of three counties: every rule still runs, and E02
/// quarantines exactly the bad codes of every county. Amounts at the edges too (huge, tiny,
/// zero), where decimal division would overflow.
#[test]
fn rules_are_total_one_bad_code_does_not_disable_a_rule() {
    let env = Env::new();
    let codes = ["3311", "C3311", "4711", "0610", "0511", "33A1", "4690", "331", "9999", "1310", "c331", "3311 "];
    let mut books = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    let mut n = 0;
    for (file, county) in [(F, "任城区"), (G, "兖州区"), (H, "微山县")] {
        let mut b = book(county);
        for (i, c) in codes.iter().enumerate() {
            n += 1;
            let mut e = ent(n);
            e.industry = c.to_string();
            // Extreme but legal amounts: a 1e12 output over a 0.1 last year, a zero output.
            match i % 3 {
                0 => e = e.set(OUTPUT, 1e12).set(VA, 1e11).set(OUTPUT_PREV, 0.1).set(VA_PREV, 0.01),
                1 => e = e.set(OUTPUT, 0.0).set(VA, 0.0).set(EXPORT, 0.0),
                _ => {}
            }
            // The code as ingest stores it (spaces removed, a 3-digit number gets its 0 back).
            let stored: String = c.chars().filter(|c| !c.is_whitespace()).collect();
            if !industry_code_ok(&stored) {
                expected.insert((file.to_string(), 6 + i as i64));
            }
            b.jn101.push(e);
        }
        books.push((file, b));
    }
    // `env.audit` asserts that no rule failed to run.
    let o = env.audit(&books);
    assert_eq!(quarantined_for(&o, "JN101-E02"), expected, "{}", show(&o));
    assert!(expected.iter().any(|(f, _)| f == H) && expected.len() >= 3 * 6, "the case covers every county");
    // Every rule of rules/ ran over the period and was evaluable on every row (no NULL verdicts
    // hidden as failures).
    for st in &o.stats {
        assert!(st.error.is_none(), "{} failed: {:?}", st.rule_id, st.error);
    }
}

/// A rule that does fail on some rows (a CAST of a code with a letter) is still run on the
/// others: the rows it can check in every county are checked, the rows it cannot are not
/// evaluable, and the rule is reported as failed.
#[test]
fn a_rule_failing_on_some_rows_checks_the_others() {
    let mut env = Env::new();
    let fragile: audit::rules::RuleFile = toml::from_str(
        r#"
form = "JN101"
[[rule]]
id = "JN101-X03"
severity = "error"
fields = ["industry_code"]
when = "CAST(substr(industry_code, 1, 2) AS INT) > 40"
message = "大类{industry_code}大于40"
# A second rule failing on some rows, evaluated beside the first (rules run a few at a time):
# each narrows down its own failing rows.
[[rule]]
id = "JN101-X04"
severity = "error"
fields = ["industry_code"]
when = "CAST(industry_code AS INT) < 2000"
message = "行业代码{industry_code}小于2000"
"#,
    )
    .unwrap();
    env.rules.push(fragile);
    let mut books = Vec::new();
    let mut n = 0;
    for (file, county) in [(F, "任城区"), (G, "兖州区")] {
        let mut b = book(county);
        for c in ["4111", "3311", "C3311", "4411", "1311", "4511"] {
            n += 1;
            let mut e = ent(n);
            e.industry = c.into();
            b.jn101.push(e);
        }
        books.push((file, b));
    }
    let sheets = env.sheets(&books);
    let o = env.audit_with("2025-09", &sheets, None);
    let st = o.stats.iter().find(|s| s.rule_id == "JN101-X03").unwrap();
    let err = st.error.as_deref().expect("the rule is reported as failed");
    assert!(err.contains("2 row(s)"), "{err}");
    // Divisions above 40 (41, 44, 45) are caught in both counties despite the two bad codes.
    let mut want = std::collections::BTreeSet::new();
    for file in [F, G] {
        for row in [6, 9, 11] {
            want.insert((file.to_string(), row));
        }
    }
    assert_eq!(quarantined_for(&o, "JN101-X03"), want, "{}", show(&o));
    assert_eq!(st.not_evaluable, 2);
    assert_eq!(st.failed, 6);
    let county = o.summary.iter().find(|c| c.rule_id == "JN101-X03" && c.region_code == "370811").unwrap();
    assert_eq!((county.checked, county.failed, county.not_evaluable, county.passed), (6, 3, 1, 2));
    // The second: code 1311 (row 10) caught in both counties, C3311 (row 8) not evaluable.
    let st = o.stats.iter().find(|s| s.rule_id == "JN101-X04").unwrap();
    let err = st.error.as_deref().expect("the rule is reported as failed");
    assert!(err.contains("2 row(s)") && err.contains("row 8"), "{err}");
    let want: std::collections::BTreeSet<_> = [F, G].iter().map(|f| (f.to_string(), 10)).collect();
    assert_eq!(quarantined_for(&o, "JN101-X04"), want, "{}", show(&o));
    assert_eq!((st.not_evaluable, st.failed), (2, 2));
}

/// A run where a rule fails on a row: the run exits 1 (the bulletin's draft marking for a rule
/// failure is shown in `bulletin::tests::draft_when_a_county_is_missing_or_errors_remain`).
#[test]
fn a_failing_rule_fails_the_run() {
    let fragile = r#"
form = "JN101"
[[rule]]
id = "JN101-X04"
severity = "warning"
fields = ["industry_code"]
when = "CAST(industry_code AS INT) > 4000"
message = "行业代码{industry_code}"
"#;
    let mut b = book("任城区");
    let mut bad = ent(2);
    bad.industry = "C3311".into();
    b.jn101 = vec![ent(1), bad];
    let (_tmp, opts) = project_copy(fragile, &[(F, b)]);
    let summary = gongbao::run::run(&opts).unwrap();
    assert!(summary.rule_failures.iter().any(|f| f.contains("JN101-X04")), "{:?}", summary.rule_failures);
    assert_eq!(summary.exit_code(false), gongbao::run::exit::FAILURE);
}

/// JN101-E08 cannot be aimed at a neighbour: an enterprise stays in the county that reported it
/// last period (quarantined elsewhere, both told); only when no single county reported it last
/// period are all its rows quarantined. Every combination of last period's and this period's
/// claimants over three counties, the expectation computed in plain Rust.
#[test]
fn jn101_e08_keeps_the_enterprise_where_it_reported_last_period() {
    let env = Env::new();
    let counties = [("任城区", "370811"), ("兖州区", "370812"), ("微山县", "370826")];
    let subsets = |min: usize| -> Vec<Vec<usize>> {
        (0u32..8)
            .filter(|m| m.count_ones() as usize >= min)
            .map(|m| (0..3).filter(|i| m & (1 << i) != 0).collect())
            .collect()
    };
    // (enterprise, last period's claimants, this period's claimants)
    let mut cases = Vec::new();
    let mut n = 0;
    for before in subsets(0).into_iter().filter(|s| s.len() <= 2) {
        for now in subsets(1) {
            n += 1;
            cases.push((n, before.clone(), now));
        }
    }
    let books_for = |period: &'static str, this_period: bool| {
        counties
            .iter()
            .enumerate()
            .map(|(c, (name, _))| {
                let mut b = book(name);
                b.period = period;
                // Every county reports one enterprise of its own, so that no return is empty.
                b.jn101 = vec![ent(1000 + c as u32)];
                let claims =
                    |k: &(u32, Vec<usize>, Vec<usize>)| if this_period { k.2.contains(&c) } else { k.1.contains(&c) };
                b.jn101.extend(cases.iter().filter(|k| claims(k)).map(|k| ent(k.0)));
                (c, b)
            })
            .collect::<Vec<_>>()
    };
    let file = |c: usize, month: &str| format!("{}_2025年1-{month}月.xlsx", counties[c].0);
    let aug: Vec<(String, Book)> =
        books_for("2025年1—8月", false).into_iter().map(|(c, b)| (file(c, "8"), b)).collect();
    let aug_refs: Vec<(&str, Book)> = aug.iter().map(|(f, b)| (f.as_str(), b.clone())).collect();
    let aug_sheets = env.sheets(&aug_refs);
    let aug_outcome = env.audit_with("2025-08", &aug_sheets, None);
    let sep: Vec<(String, Book)> = books_for("2025年1—9月", true).into_iter().map(|(c, b)| (file(c, "9"), b)).collect();
    let sep_refs: Vec<(&str, Book)> = sep.iter().map(|(f, b)| (f.as_str(), b.clone())).collect();
    let sep_sheets = env.sheets(&sep_refs);
    let o = env.audit_with("2025-09", &sep_sheets, Some((&aug_outcome, &aug_sheets)));
    assert!(o.stats.iter().all(|s| s.error.is_none()), "{:?}", o.stats);

    // Where each case's enterprise sits in each county's September sheet.
    let row_in = |c: usize, k: u32| -> i64 {
        let pos = cases.iter().filter(|x| x.2.contains(&c)).position(|x| x.0 == k).unwrap();
        7 + pos as i64
    };
    let mut want_e08 = std::collections::BTreeSet::new();
    let mut want_w08 = std::collections::BTreeSet::new();
    for (k, before, now) in &cases {
        if now.len() < 2 {
            continue;
        }
        // Last period's accepted home: exactly one claimant then (two were both quarantined).
        let home = if before.len() == 1 { Some(before[0]) } else { None };
        for &c in now {
            if home == Some(c) {
                want_w08.insert((file(c, "9"), row_in(c, *k)));
            } else {
                want_e08.insert((file(c, "9"), row_in(c, *k)));
            }
        }
    }
    assert_eq!(quarantined_for(&o, "JN101-E08"), want_e08, "{}", show(&o));
    let w08: std::collections::BTreeSet<(String, i64)> = o
        .findings
        .iter()
        .filter(|f| f.rule_id == "JN101-W08")
        .map(|f| (f.location.file.clone(), f.location.row.unwrap() as i64))
        .collect();
    assert_eq!(w08, want_w08, "{}", show(&o));
    for (f, row) in &want_w08 {
        assert!(accepted(&o, f, *row), "the home county's row {f} {row} is kept");
    }
    // Both counties are told, by name: the kept one by W08 naming the other, the other by E08
    // naming the home county.
    let (k, _, _) = cases.iter().find(|(_, b, nw)| *b == vec![0] && *nw == vec![0, 1]).unwrap();
    let w = o
        .findings
        .iter()
        .find(|f| {
            f.rule_id == "JN101-W08" && f.location.row == Some(row_in(0, *k) as u32) && f.location.file == file(0, "9")
        })
        .unwrap();
    assert_eq!(w.region_code.as_deref(), Some("370811"));
    assert!(w.message.contains("兖州区"), "{}", w.message);
    let e = o
        .findings
        .iter()
        .find(|f| {
            f.rule_id == "JN101-E08" && f.location.row == Some(row_in(1, *k) as u32) && f.location.file == file(1, "9")
        })
        .unwrap();
    assert_eq!(e.region_code.as_deref(), Some("370812"));
    assert!(e.message.contains("上期在任城区报送"), "{}", e.message);
}

/// "无", "/", "-", "正常" and every phrase of the stop list (read here from the file, decorated
/// with spaces and punctuation) explain nothing; a substantive note does, and the feedback
/// names the note each warning was taken to be explained by.
#[test]
fn boilerplate_notes_do_not_explain_warnings() {
    let text = std::fs::read_to_string(project().join("rules/explanations.toml")).unwrap();
    let conf: toml::Value = toml::from_str(&text).unwrap();
    let mut notes: Vec<String> = ["无", "/", "-", "正常", "无。", " / "].iter().map(|s| s.to_string()).collect();
    for s in conf["stop_list"].as_array().unwrap() {
        notes.push(format!(" {}。", s.as_str().unwrap()));
    }
    let min = conf["min_chars"].as_integer().unwrap() as usize;
    notes.push("停".repeat(min - 1)); // too short
    let good = "新增两条生产线,7月起满产,产值翻番";
    let mut b = book("任城区");
    // Each row breaks W01 (output doubled and more).
    let doubled = |n: u32| ent(n).set(OUTPUT, 30000.0).set(VA, 9000.0);
    for (i, note) in notes.iter().enumerate() {
        let mut e = doubled(i as u32 + 1);
        e.note = note.clone();
        b.jn101.push(e);
    }
    let mut e = doubled(900);
    e.note = good.into();
    b.jn101.push(e);
    let (_tmp, opts) = project_copy("form = \"JN101\"\n", &[(F, b.clone())]);
    let summary = gongbao::run::run(&opts).unwrap();
    let env = Env::new();
    let o = env.audit(&[(F, b)]);
    let w01: Vec<&Finding> = o.findings.iter().filter(|f| f.rule_id == "JN101-W01").collect();
    assert_eq!(w01.len(), notes.len() + 1, "{}", show(&o));
    for f in &w01 {
        let row = f.location.row.unwrap() as usize;
        let is_good = row == 6 + notes.len();
        assert_eq!(f.explained, is_good, "row {row} note {:?}", notes.get(row - 6));
    }
    assert_eq!(
        (summary.warnings, summary.warnings_explained),
        (notes.len() as u64 + 1, 1),
        "{:?}",
        summary.findings_sample
    );
    // The feedback says which note explained which warning, and which notes were not taken.
    let xlsx = opts.out.join("feedback/2025-09/370811_任城区_审核反馈.xlsx");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = wb.worksheet_range(gongbao::feedback::FINDINGS_SHEET).unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let good_row = rows.iter().find(|r| r[4] == "JN101-W01" && r[2] == (6 + notes.len()).to_string()).unwrap();
    assert_eq!(good_row[7], format!("是:备注“{good}”"));
    let bare = rows.iter().find(|r| r[4] == "JN101-W01" && r[2] == "6").unwrap();
    assert!(bare[7].starts_with("否:备注“无”"), "{:?}", bare);
    let md = std::fs::read_to_string(opts.out.join("feedback/2025-09/370811_任城区_审核反馈.md")).unwrap();
    // The summary lists the first findings: the bare notes, each with why it was not taken.
    assert!(md.contains("否:备注“无”过短或为套话"), "{md}");
}

/// 上年同期 checked against what the enterprise reported as 本年累计 for the same period last
/// year: within the tolerance (0.5%, at least 1 万元) it passes, beyond it is a warning on the
/// first field that differs; an enterprise not in last year's returns is not checked.
#[test]
fn jn101_w09_prior_year_figures() {
    let env = Env::new();
    let mut last = book("任城区");
    last.period = "2024年1—9月";
    // Last year's 本年累计 = this year's 上年同期 of the tidy enterprise (9000, 2700, 9000, 450, 0).
    let prior = |n: u32| {
        let e = ent(n);
        let a = e.amounts;
        e.set(OUTPUT, a[OUTPUT_PREV])
            .set(VA, a[VA_PREV])
            .set(REVENUE, a[5])
            .set(6, a[7])
            .set(EXPORT, a[EXPORT_PREV])
            .set(OUTPUT_PREV, 8000.0)
            .set(VA_PREV, 2400.0)
            .set(5, 8000.0)
            .set(7, 400.0)
    };
    last.jn101 = vec![prior(1), prior(2), prior(3), prior(4), prior(6), prior(7)];
    let last_file = "任城区_2024年1-9月.xlsx";
    let last_sheets = env.sheets(&[(last_file, last)]);
    let last_outcome = env.audit_with("2024-09", &last_sheets, None);

    let mut now = book("任城区");
    now.jn101 = vec![
        ent(1),                                  // same: passes
        ent(2).set(OUTPUT_PREV, 9000.0 * 1.004), // 0.4%: within tolerance
        ent(3).set(OUTPUT_PREV, 9000.0 * 1.006), // 0.6%: flagged on 总产值 上年同期 (E)
        ent(4).set(VA_PREV, 2690.0),             // 10 万元 = 0.37% of 2700: within
        ent(5).set(OUTPUT_PREV, 1.0),            // not in last year's returns: not checked
        ent(6).set(VA_PREV, 2000.0),             // 增加值 上年同期 (G) off by 26%
        // Off on both: one finding, on the first (总产值, E).
        ent(7).set(OUTPUT_PREV, 9000.0 * 1.01).set(VA_PREV, 2000.0),
    ];
    let sheets = env.sheets(&[(F, now)]);
    let o = env.audit_full("2025-09", &sheets, None, Some(&last_outcome));
    assert!(o.stats.iter().all(|s| s.error.is_none()), "{:?}", o.stats);
    let f = finding(&o, "JN101-W09", Severity::Warning, F, "E8");
    assert!(
        f.message.contains("工业总产值") && f.message.contains("9,054") && f.message.contains("9,000"),
        "{}",
        f.message
    );
    let hits: Vec<u32> =
        o.findings.iter().filter(|f| f.rule_id == "JN101-W09").map(|f| f.location.row.unwrap()).collect();
    assert_eq!(hits, vec![8, 11, 12], "{}", show(&o));
    finding(&o, "JN101-W09", Severity::Warning, F, "E12");
    let f = finding(&o, "JN101-W09", Severity::Warning, F, "G11");
    assert!(f.message.contains("工业增加值") && f.message.contains("2,700"), "{}", f.message);
    // Without last year's period in the warehouse, nothing is checked.
    let o = env.audit_with("2025-09", &sheets, None);
    assert!(o.findings.iter().all(|f| f.rule_id != "JN101-W09"));
}

/// The credit codes of the accepted JN101 rows of a period, by county.
fn accepted_codes(out: &Path, period: &str) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut by = BTreeMap::new();
    let dir = out.join("warehouse/jn101").join(format!("period={period}"));
    for region in std::fs::read_dir(&dir).unwrap() {
        let region = region.unwrap();
        let code = region.file_name().to_string_lossy().trim_start_matches("region=").to_string();
        for b in gongbao::store::read_dir_batches(&region.path()).unwrap() {
            for c in text_col(&b, "credit_code").into_iter().flatten() {
                by.entry(code.clone()).or_insert_with(std::collections::BTreeSet::new).insert(c);
            }
        }
    }
    by
}

fn findings_of(out: &Path, period: &str) -> Vec<(String, String, String, String)> {
    let mut v = Vec::new();
    for b in gongbao::store::read_dir_batches(&out.join("warehouse/findings").join(format!("period={period}"))).unwrap()
    {
        let (r, rule, file, msg) =
            (text_col(&b, "region_code"), text_col(&b, "rule_id"), text_col(&b, "file"), text_col(&b, "message"));
        for i in 0..b.num_rows() {
            v.push((
                r[i].clone().unwrap_or_default(),
                rule[i].clone().unwrap(),
                file[i].clone().unwrap(),
                msg[i].clone().unwrap(),
            ));
        }
    }
    v
}

/// An inbox laid out by sender: a sheet claiming another county is refused (强制性) and told to
/// the sender, never taken as the other county's return nor superseding it; a sheet of the
/// sender's own is used; a file directly in the inbox is read as before.
#[test]
fn a_county_cannot_file_for_another() {
    let mut own = book("任城区");
    own.jn101 = vec![ent(1), ent(2)];
    // The forged sheet lists 兖州区's own enterprise (credit codes are public) and another.
    let mut forged = book("兖州区");
    forged.jn101 = vec![ent(3), ent(4)];
    let mut genuine = book("兖州区");
    genuine.jn101 = vec![ent(4)];
    let mut flat = book("微山县");
    flat.jn101 = vec![ent(5)];
    let forged_name = "370811/兖州区_2025年1-9月.xlsx";
    let (_tmp, opts) = project_copy(
        "form = \"JN101\"\n",
        &[
            ("370811/任城区_2025年1-9月.xlsx", own),
            ("370812/兖州区_2025年1-9月.xlsx", genuine),
            (forged_name, forged),
            ("微山县_2025年1-9月.xlsx", flat),
        ],
    );
    // The forged file is the newest on disk, and would have superseded by modification time.
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    std::fs::File::options().write(true).open(opts.inbox.join(forged_name)).unwrap().set_modified(future).unwrap();
    let summary = gongbao::run::run(&opts).unwrap();
    assert!(summary.superseded.is_empty(), "{:?}", summary.superseded);
    assert!(summary.refusals.iter().any(|r| r.file == forged_name && r.sheet.is_some()), "{:?}", summary.refusals);

    let codes = accepted_codes(&opts.out, "2025-09");
    let set = |v: &[u32]| v.iter().map(|n| code(*n)).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(codes.get("370811"), Some(&set(&[1, 2])));
    assert_eq!(codes.get("370812"), Some(&set(&[4])), "the genuine return of 兖州区 is used, the forged one not");
    assert_eq!(codes.get("370826"), Some(&set(&[5])), "a flat inbox file is read as before");

    let f = findings_of(&opts.out, "2025-09");
    let refusal = f.iter().find(|x| x.1 == "INGEST-E06").expect("the forged sheet is refused");
    assert_eq!(refusal.0, "370811", "the sender is told");
    assert_eq!(refusal.2, forged_name);
    assert!(refusal.3.contains("本表填报单位为兖州区") && refusal.3.contains("任城区的报送账户"), "{}", refusal.3);
    // Its rows are quarantined, not lost.
    let q = gongbao::store::read_dir_batches(&opts.out.join("warehouse/quarantine/period=2025-09")).unwrap();
    let quarantined: Vec<String> = q.iter().flat_map(|b| text_col(b, "_source_file")).flatten().collect();
    assert_eq!(quarantined, vec![forged_name.to_string(); 2]);
    assert!(f.iter().all(|x| x.1 != "JN101-E08"), "a refused sheet triggers no rule against 兖州区: {f:?}");
    // The sender's feedback carries it.
    let md = std::fs::read_to_string(opts.out.join("feedback/2025-09/370811_任城区_审核反馈.md")).unwrap();
    assert!(md.contains("INGEST-E06"), "{md}");
}

/// Versions of a return are ordered by when gongbao first saw them, never by modification time:
/// a correction sent later wins even when its file claims to be older; touching the old file
/// afterwards changes nothing.
#[test]
fn a_resubmission_wins_by_first_seen_not_by_mtime() {
    let mut first = book("任城区");
    first.jn101 = vec![ent(1), ent(2)];
    let (_tmp, opts) = project_copy("form = \"JN101\"\n", &[("任城区_2025年1-9月_b.xlsx", first)]);
    let s1 = gongbao::run::run(&opts).unwrap();
    assert!(s1.superseded.is_empty());

    // The correction (ent(3) instead of ent(2)) arrives a night later, under a name that sorts
    // first and with a modification time a year back.
    let mut second = book("任城区");
    second.jn101 = vec![ent(1), ent(3)];
    let corrected = opts.inbox.join("任城区_2025年1-9月_a.xlsx");
    write_book(&corrected, &second);
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(365 * 86_400);
    std::fs::File::options().write(true).open(&corrected).unwrap().set_modified(past).unwrap();
    let s2 = gongbao::run::run(&opts).unwrap();
    assert_eq!(s2.superseded.len(), 1, "{:?}", s2.superseded);
    assert_eq!(s2.superseded[0].file, "任城区_2025年1-9月_b.xlsx");
    let set = |v: &[u32]| v.iter().map(|n| code(*n)).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(accepted_codes(&opts.out, "2025-09").get("370811"), Some(&set(&[1, 3])));

    // The sender touches the old file to make it look newest: nothing changes, nothing is rebuilt.
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(opts.inbox.join("任城区_2025年1-9月_b.xlsx"))
        .unwrap()
        .set_modified(future)
        .unwrap();
    let s3 = gongbao::run::run(&opts).unwrap();
    assert!(s3.nothing_new, "{:?}", s3.rebuilt);
    assert_eq!(accepted_codes(&opts.out, "2025-09").get("370811"), Some(&set(&[1, 3])));
}
