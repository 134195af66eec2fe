//! The hostile corpus: files a county could plausibly send that must never stop the night.
//!
//! Each case is checked twice: read on its own (the exact refusal or cell finding), and all
//! together in one nightly run beside well-formed returns of two other counties, run as the
//! binary: the night finishes, the other counties publish, every hostile file is refused or its
//! cell reported, and the run's peak memory stays under 1 GiB. The files are made on the fly from
//! the sample returns (small on disk, whatever they expand to).

use std::path::{Path, PathBuf};

use crate::hostile_support::*;
use arrow::array::Array;
use gongbao::forms::Forms;
use gongbao::ingest::rows::sheet_rows;
use gongbao::ingest::{self, IngestedFile, message, rule};
use gongbao::reference::{Reference, Region};
use gongbao::sample::{CountyReturn, MonthStyle, SampleData, TotalRow};

const PERIOD: &str = "2025-02";
const GOOD: [&str; 2] = ["370811", "370812"];

struct Env {
    forms: Forms,
    regions: Vec<Region>,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            forms: Forms::load(&project().join("forms")).unwrap(),
            regions: Reference::load(&project().join("sample_data/reference")).unwrap().regions,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn ingest(&self, name: &str, bytes: &[u8]) -> IngestedFile {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        ingest::ingest_file(&path, &self.forms, &self.regions)
    }

    /// Every finding of a file: file- and sheet-level ones, and those of its cells.
    fn findings(&self, f: &IngestedFile) -> Vec<(String, Option<String>, String)> {
        let mut out: Vec<_> =
            f.findings.iter().map(|x| (x.rule_id.clone(), x.location.cell.clone(), x.message.clone())).collect();
        for s in &f.sheets {
            let rows = sheet_rows(self.forms.get(&s.read.form).unwrap(), f, s);
            for x in rows.findings {
                out.push((x.rule_id, x.location.cell, x.message));
            }
        }
        out
    }
}

/// One hostile file: its name, how it is made, and a text its refusal or cell finding shows.
struct Case {
    name: String,
    bytes: Vec<u8>,
    expect: &'static str,
}

fn sample() -> SampleData {
    gongbao::sample::generate()
}

/// The first enterprise row the sample wants accepted.
fn clean_row(ret: &CountyReturn) -> &gongbao::sample::Jn101Row {
    ret.jn101.iter().find(|r| r.expected_error.is_none()).unwrap()
}

fn hostile_counties(data: &SampleData) -> Vec<&CountyReturn> {
    data.returns_for(PERIOD).filter(|r| !GOOD.contains(&r.region_code.as_str())).collect()
}

/// The cases with a value in a cell, each in its own county's return (so none supersedes
/// another): (case, county code).
fn cell_cases(data: &SampleData) -> Vec<(Case, String)> {
    let mut counties = hostile_counties(data);
    let mut take = |want: &dyn Fn(&CountyReturn) -> bool| {
        let i = counties.iter().position(|r| want(r)).expect("a county of that layout");
        counties.remove(i)
    };
    let mut out = Vec::new();

    // 1E+28 in a 亿元 sheet.
    let ret = take(&|_| true);
    let bytes = patch_xlsx(&workbook(data, ret), |name, t| {
        if name == "xl/sharedStrings.xml" { t.replace("万元", "亿元") } else { t }
    });
    let bytes = patch_value(&bytes, 1, &v(clean_row(ret).output_ytd), "1E+28", 1);
    out.push((Case { name: ret.file_name.clone(), bytes, expect: "超出可存储范围" }, ret.region_code.clone()));

    // Two amounts of 5E+28 and a 合计 row.
    let ret = take(&|r| r.layout.total_row != TotalRow::None);
    let rows: Vec<_> = ret.jn101.iter().filter(|r| r.expected_error.is_none()).take(2).collect();
    let bytes = patch_value(&workbook(data, ret), 1, &v(rows[0].revenue_ytd), "5E+28", 1);
    let bytes = patch_value(&bytes, 1, &v(rows[1].revenue_ytd), "5E+28", 1);
    out.push((Case { name: ret.file_name.clone(), bytes, expect: "5E+28" }, ret.region_code.clone()));

    // A percent-formatted 形象进度 of 1E+27.
    let ret = take(&|r| !r.jn104.is_empty());
    let bytes = patch_xlsx(&workbook(data, ret), |name, t| {
        if name == "xl/styles.xml" { t.replace("formatCode=\"0.0\"", "formatCode=\"0.0%\"") } else { t }
    });
    let bytes = patch_value(&bytes, 4, &v(ret.jn104[0].progress_pct), "1E+27", 1);
    out.push((Case { name: ret.file_name.clone(), bytes, expect: "超出合理范围(百分比" }, ret.region_code.clone()));

    // A date-formatted 2E+8 as 计划投产时间.
    let ret = take(&|r| {
        r.layout.planned_start_style == MonthStyle::DateCell && r.jn104.iter().any(|p| p.planned_start.is_some())
    });
    let ym = ret.jn104.iter().find_map(|p| p.planned_start.clone()).unwrap();
    let date = chrono::NaiveDate::parse_from_str(&format!("{ym}-01"), "%Y-%m-%d").unwrap();
    let serial = (date - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days();
    let bytes = patch_value(&workbook(data, ret), 4, &serial.to_string(), "200000000", 1);
    out.push((Case { name: ret.file_name.clone(), bytes, expect: "不是有效日期" }, ret.region_code.clone()));

    // A sheet someone scrolled to the last cell of: refused, and its feedback must not read it
    // whole either.
    let ret = take(&|_| true);
    let bytes = with_last_cell(&workbook(data, ret));
    out.push((
        Case { name: ret.file_name.clone(), bytes, expect: "过大(1048576 行 × 16384 列)" },
        ret.region_code.clone(),
    ));
    out
}

/// The cases refused as whole files (named for counties that send nothing else tonight).
fn file_cases() -> Vec<Case> {
    let zip_bomb = std::fs::read(project().join("tests/fixtures/ingest/zip_bomb.xlsx")).unwrap();
    vec![
        Case {
            name: "梁山县_2025年1-2月_倍增监测报表.ods".into(), bytes: ods_repeated(6_000, 16_384), expect: "过大"
        },
        Case {
            name: "曲阜市_2025年1-2月_倍增监测报表.xls".into(), bytes: xls_last_cell(), expect: "工作表过大"
        },
        Case {
            name: "邹城市_2025年1-2月_倍增监测报表.xls".into(),
            bytes: xls_lying_dimensions(),
            expect: message::DAMAGED,
        },
        Case {
            name: "济宁高新技术产业开发区_2025年1-2月.xlsx".into(), bytes: many_sheets(300), expect: "工作表过多"
        },
        Case { name: "济宁太白湖新区_2025年1-2月.xlsx".into(), bytes: zip_bomb, expect: message::ZIP_BOMB },
    ]
}

#[test]
fn each_value_case_is_a_finding_on_its_cell() {
    let env = Env::new();
    let data = sample();
    for (case, code) in cell_cases(&data) {
        let f = env.ingest(&case.name, &case.bytes);
        let findings = env.findings(&f);
        let hit = findings.iter().find(|(_, _, m)| m.contains(case.expect));
        assert!(hit.is_some(), "{}: no finding with {:?} in {findings:#?}", case.name, case.expect);
        if !case.expect.starts_with("过大") {
            // On its cell, the county's other sheets still read.
            assert!(hit.unwrap().1.is_some(), "{hit:?}");
            assert!(f.refusal.is_none() && f.sheets.iter().all(|s| s.region_code.as_deref() == Some(code.as_str())));
        }
    }
}

#[test]
fn the_5e28_case_reports_both_cells_and_the_total_without_overflow() {
    let env = Env::new();
    let data = sample();
    let (case, _) = cell_cases(&data).into_iter().nth(1).unwrap();
    let f = env.ingest(&case.name, &case.bytes);
    let findings = env.findings(&f);
    let cells: Vec<_> = findings.iter().filter(|(_, _, m)| m.contains("5E+28")).collect();
    assert_eq!(cells.len(), 2, "{findings:#?}");
    assert!(cells.iter().all(|(_, c, m)| c.is_some() && m.contains("超出可存储范围(金额")), "{cells:?}");
}

#[test]
fn each_cap_refuses_its_file_with_a_chinese_reason() {
    let env = Env::new();
    for case in file_cases() {
        let t = std::time::Instant::now();
        let f = env.ingest(&case.name, &case.bytes);
        let why = f.refusal.clone().or_else(|| f.findings.first().map(|x| x.message.clone()));
        assert!(why.as_deref().is_some_and(|w| w.contains(case.expect)), "{}: {why:?} {:?}", case.name, f.findings);
        assert!(f.sheets.is_empty(), "{}", case.name);
        assert!(f.findings.iter().all(|x| x.rule_id == rule::UNREADABLE), "{:?}", f.findings);
        // Refused from the count, before anything is expanded.
        assert!(t.elapsed().as_secs() < 30, "{}: {:?}", case.name, t.elapsed());
    }
}

#[test]
fn a_file_over_the_size_cap_is_refused_unread_and_hashed_as_a_stream() {
    let env = Env::new();
    let path = env.dir.path().join("微山县_2025年1-2月.xlsx");
    sparse_file(&path, 65 * 1024 * 1024);
    let f = ingest::ingest_file(&path, &env.forms, &env.regions);
    assert_eq!(f.refusal.as_deref(), Some("文件过大(超过 64 MB),不像一份县区报表"));
    assert_eq!(f.sha256, gongbao::util::sha256_hex(&vec![0u8; 65 * 1024 * 1024]));
}

#[test]
fn caps_come_from_the_configuration() {
    use gongbao::ingest::guard::{Limits, read_range};
    // A 3-sheet workbook against a cap of 2 sheets; a 10-cell sheet against a cap of 9 cells.
    let limits = Limits { max_sheets: 2, ..Limits::default() };
    let refused = gongbao::ingest::guard::open_workbook(&many_sheets(3), "xlsx", &limits).err().unwrap();
    assert_eq!(refused.message, "文件中工作表过多(超过 2 个),不像一份县区报表,已拒收");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for c in 0..10 {
        ws.write_string(0, c, "一二三四五").unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let limits = Limits { max_sheet_cells: 9, max_text_chars: 2, ..Limits::default() };
    let (mut w, _) = gongbao::ingest::guard::open_workbook(&bytes, "xlsx", &limits).unwrap();
    assert_eq!(read_range(&mut w, "Sheet1", &limits).err().unwrap(), "工作表\"Sheet1\"过大(1 行 × 10 列),已拒收");
    let limits = Limits { max_sheet_cells: 10, max_text_chars: 2, ..Limits::default() };
    let (range, _) = read_range(&mut w, "Sheet1", &limits).unwrap();
    assert_eq!(range.get_value((0, 9)), Some(&calamine::Data::String("一二".into())));
    // The same for an .ods: 3 × 4 repeated cells against caps of 11 and 12.
    let ods = ods_repeated(3, 4);
    let limits = Limits { max_sheet_cells: 11, ..Limits::default() };
    let refused = gongbao::ingest::guard::open_workbook(&ods, "ods", &limits).err().unwrap();
    assert!(refused.message.contains("过大"), "{refused:?}");
    let limits = Limits { max_sheet_cells: 16, ..Limits::default() };
    let (mut w, _) = gongbao::ingest::guard::open_workbook(&ods, "ods", &limits).unwrap();
    let (range, _) = read_range(&mut w, "表1", &limits).unwrap();
    assert_eq!(range.get_size(), (4, 4), "what was counted is what calamine expands");
}

#[test]
fn a_file_replaced_between_the_scan_and_its_reading_is_refused_under_the_scanned_hash() {
    let env = Env::new();
    let data = sample();
    let (first, second) = (data.return_for("370811", PERIOD).unwrap(), data.return_for("370812", PERIOD).unwrap());
    let path = env.dir.path().join(&first.file_name);
    std::fs::write(&path, workbook(&data, first)).unwrap();
    let scanned = gongbao::incremental::scan(std::slice::from_ref(&path)).remove(0);
    // Another county's return takes its place before it is read.
    let other = workbook(&data, second);
    std::fs::write(&path, &other).unwrap();
    let f = gongbao::ingest::sender::read(&scanned, &env.forms, &env.regions);
    assert_eq!(f.refusal.as_deref(), Some(message::REPLACED), "{:?}", f.findings);
    assert_eq!(f.sha256, scanned.sha256, "known by the hash the run scanned");
    assert_ne!(f.sha256, gongbao::util::sha256_hex(&other));
    assert!(f.sheets.is_empty(), "nothing of the new bytes is read under the old hash");
    // Unchanged since the scan, the same call reads it.
    let scanned = gongbao::incremental::scan(std::slice::from_ref(&path)).remove(0);
    let f = gongbao::ingest::sender::read(&scanned, &env.forms, &env.regions);
    assert!(f.refusal.is_none() && !f.sheets.is_empty(), "{:?}", f.refusal);
    assert!(f.sheets.iter().all(|s| s.region_code.as_deref() == Some("370812")));
}

#[test]
fn a_panic_while_reading_refuses_that_file_alone() {
    // An injected fault panics inside the reading of this one file (a stand-in for a defect);
    // no other test reads a file of this name.
    let name = "任城区_2025年1-2月_panic.xlsx";
    let env = Env::new();
    let path = env.dir.path().join(name);
    let data = sample();
    std::fs::write(&path, workbook(&data, data.return_for("370811", PERIOD).unwrap())).unwrap();
    gongbao::faults::inject(gongbao::faults::Faults { panic_reading: Some(name.to_string()), ..Default::default() });
    let f = ingest::ingest_file(&path, &env.forms, &env.regions);
    assert!(f.findings[0].observed.contains("injected fault"), "{:?}", f.findings);
    assert_eq!(f.sha256, gongbao::util::sha256_hex(&std::fs::read(&path).unwrap()));
    assert!(f.refusal.as_deref().is_some_and(|r| r.contains("读取文件时发生内部错误")), "{:?}", f.refusal);
    assert!(f.sheets.is_empty(), "nothing of the file is read as data");
}

/// The variable that makes [`hostile_night_child`] run: inbox, out and the file whose reading
/// panics, on three lines (set only by [`the_night_finishes_beside_every_hostile_file`]).
const NIGHT_CHILD: &str = "GONGBAO_TEST_HOSTILE_NIGHT";

/// The child process of [`the_night_finishes_beside_every_hostile_file`]: this test binary,
/// re-run for this one test, runs the night with a fault injected into one file's reading and
/// exits with the run's exit code (as the binary would).
#[test]
#[ignore = "the child process of the_night_finishes_beside_every_hostile_file"]
fn hostile_night_child() {
    let spec = std::env::var(NIGHT_CHILD).expect("run by the_night_finishes_beside_every_hostile_file only");
    let mut lines = spec.lines();
    let (inbox, out, panics) = (lines.next().unwrap(), lines.next().unwrap(), lines.next().unwrap());
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).init();
    gongbao::faults::inject(gongbao::faults::Faults { panic_reading: Some(panics.to_string()), ..Default::default() });
    let opts = gongbao::run::RunOptions {
        inbox: PathBuf::from(inbox),
        ..gongbao::run::RunOptions::sample(project(), Path::new(out))
    };
    let code = match gongbao::run::run_with(&opts, &gongbao::run::RunControl::default()) {
        Ok(summary) => summary.exit_code(false),
        Err(e) => {
            eprintln!("gongbao: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

/// Runs `cmd` to its end and returns its exit code, stdout, stderr and its own peak resident
/// memory in bytes (wait4 on this child alone: other tests of this binary run children too).
fn run_measured(mut cmd: std::process::Command, dir: &Path) -> (Option<i32>, String, String, u64) {
    let (out_path, err_path) = (dir.join("child.stdout"), dir.join("child.stderr"));
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its rusage
    let child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the two values it is given; the pid is our own child, not yet
    // waited for (std's Child is dropped without waiting).
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).to_string();
    (code, read(&out_path), read(&err_path), usage.ru_maxrss as u64 * 1024)
}

/// (file, rule, message) of every finding of the period.
fn published_findings(out: &Path) -> Vec<(String, String, String)> {
    let dir = out.join("warehouse/findings").join(format!("period={PERIOD}"));
    let mut found = Vec::new();
    for b in gongbao::store::read_dir_batches(&dir).unwrap() {
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let (file, rule, msg) = (col("file"), col("rule_id"), col("message"));
        let s = |a: &arrow::array::ArrayRef, i: usize| -> String {
            if a.is_null(i) { String::new() } else { arrow::util::display::array_value_to_string(a, i).unwrap() }
        };
        for i in 0..b.num_rows() {
            found.push((s(&file, i), s(&rule, i), s(&msg, i)));
        }
    }
    found
}

#[test]
fn the_night_finishes_beside_every_hostile_file() {
    let data = sample();
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out): (PathBuf, PathBuf) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&inbox).unwrap();
    for code in GOOD {
        let r = data.return_for(code, PERIOD).unwrap();
        std::fs::write(inbox.join(&r.file_name), workbook(&data, r)).unwrap();
    }
    let mut cases: Vec<Case> = cell_cases(&data).into_iter().map(|(c, _)| c).collect();
    cases.extend(file_cases());
    for c in &cases {
        std::fs::write(inbox.join(&c.name), &c.bytes).unwrap();
    }
    // Over the size cap, a hole on disk; and a file whose reading panics.
    let big = "济宁经济技术开发区_2025年1-2月.xlsx";
    sparse_file(&inbox.join(big), 65 * 1024 * 1024);
    let panics = "汶上县_2025年1-2月_补报.xlsx";
    std::fs::write(inbox.join(panics), many_sheets(1)).unwrap();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .current_dir(project())
        .args(["hostile::hostile_night_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(NIGHT_CHILD, format!("{}\n{}\n{panics}", inbox.display(), out.display()));
    let (code, stdout, stderr, peak) = run_measured(child, tmp.path());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(peak < 1024 * 1024 * 1024, "peak RSS {} MiB", peak / 1024 / 1024);
    eprintln!("hostile night: peak RSS {} MiB", peak / 1024 / 1024);

    // The other counties published.
    for code in GOOD {
        let part = out.join(format!("warehouse/jn101/period={PERIOD}/region={code}/part-0.parquet"));
        assert!(part.exists(), "{}", part.display());
    }
    assert!(out.join(format!("bulletins/{PERIOD}/bulletin.md")).exists());
    // Every hostile file refused or its cell reported, by name.
    let found = published_findings(&out);
    let mut expected: Vec<(String, &str)> = cases.iter().map(|c| (c.name.clone(), c.expect)).collect();
    expected.push((big.to_string(), "文件过大"));
    expected.push((panics.to_string(), message::INTERNAL));
    for (name, expect) in expected {
        assert!(
            found.iter().any(|(f, _, m)| *f == name && m.contains(expect)),
            "{name}: nothing with {expect:?} among {:#?}",
            found.iter().filter(|(f, _, _)| *f == name).collect::<Vec<_>>()
        );
    }
    assert!(stderr.contains("injected fault: a panic while reading"), "the panic's message is in the log");
    // The counties with cell findings got their feedback.
    let feedback: Vec<String> = std::fs::read_dir(out.join(format!("feedback/{PERIOD}")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    for (_, code) in cell_cases(&data) {
        assert!(feedback.iter().any(|f| f.starts_with(&code) && f.ends_with(".xlsx")), "{code}: {feedback:?}");
    }
}
