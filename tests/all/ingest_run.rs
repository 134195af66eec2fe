//! Ingest through whole runs: a layout change gives byte-identical indicators; a January return
//! and a superseded return are reported to their counties without failing the night; the
//! "无遗漏" line accounts for every non-blank row of every sheet.

use std::path::{Path, PathBuf};

use gongbao::run::{RunOptions, RunSummary};
use gongbao::sample::messy::{self, AmountOrder, Joining, Presentation, Unit, UnitPlace};

use crate::sample_run::sample_run;

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(inbox: &Path, out: &Path) -> RunSummary {
    let opts = RunOptions { inbox: inbox.to_path_buf(), ..RunOptions::sample(project(), out) };
    gongbao::run::run(&opts).expect("the run succeeds")
}

/// Every Parquet file under `dir`, by path relative to it, with its bytes.
fn parquet_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn one_row_joined_current_then_prior_yiyuan_headers_give_identical_indicators() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let messy_inbox = tmp.path().join("messy");
    std::fs::create_dir_all(&messy_inbox).unwrap();
    let p = Presentation {
        header_rows: 1,
        joining: Joining::Joined,
        amount_order: AmountOrder::CurrentThenPrior,
        unit: Unit::Yiyuan,
        unit_place: UnitPlace::Headers,
        ..Presentation::default()
    };
    // every return of the sample inbox, the prior-year ones included
    for ret in data.returns.iter().chain(&gongbao::sample::prior_year_returns(&data)) {
        let bytes = gongbao::sample::workbook_bytes_with(&data, ret, Some(&p)).unwrap();
        std::fs::write(messy_inbox.join(&ret.file_name), bytes).unwrap();
    }
    // The tidy side is the sample run the test process shares (the bundled inbox as it is).
    let tidy_run = sample_run();
    let tidy = &tidy_run.summary;
    let untidy = run(&messy_inbox, &tmp.path().join("out-messy"));
    assert_eq!(untidy.rows_accepted, tidy.rows_accepted);
    assert_eq!(untidy.rows_quarantined, tidy.rows_quarantined);
    assert!(untidy.refusals.is_empty(), "{:?}", untidy.refusals);
    let a = parquet_files(&tidy_run.out.join("warehouse/indicator_values"));
    let b = parquet_files(&tmp.path().join("out-messy/warehouse/indicator_values"));
    assert_eq!(a.len(), 10, "one partition per period (2025-02 … 09 and the prior-year 2024-08, 09)");
    assert_eq!(a.iter().map(|x| &x.0).collect::<Vec<_>>(), b.iter().map(|x| &x.0).collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{} differs", name.display());
    }
    // Every non-blank row of every sheet is accounted for, in both runs.
    for s in [tidy, &untidy] {
        assert!(s.row_tally.balanced(), "{}", s.row_tally.line());
        assert_eq!(s.row_tally.accepted, s.rows_accepted);
        assert!(s.row_tally.skipped > 0 && s.row_tally.above > 0);
    }
}

#[test]
fn january_and_superseded_returns_are_reported_to_their_counties_and_the_night_exits_0() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // The periods the test looks at (and those they read: the month before, the prior year).
    for e in std::fs::read_dir(project().join("sample_data/returns")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy();
        if ["2024年1-9月", "2025年1-2月", "2025年1-8月", "2025年1-9月"].iter().any(|m| name.contains(m)) {
            std::fs::copy(&p, inbox.join(p.file_name().unwrap())).unwrap();
        }
    }
    // 任城区 sends a January return: refused for its period alone.
    let first = data.returns.iter().find(|r| r.region_code == "370811").unwrap();
    let jan = messy::jn101_workbook(&first.jn101, "任城区统计局", "2025-01", &Presentation::default()).unwrap();
    std::fs::write(inbox.join("任城区_2025年1月_倍增监测报表.xlsx"), jan).unwrap();
    // 兖州区 resends its 1—9月 return a day later: the first one is superseded.
    let ret = data.returns.iter().find(|r| r.region_code == "370812" && r.period == "2025-09").unwrap();
    let again = gongbao::sample::workbook_bytes_with(&data, ret, Some(&messy::presentation_for(4))).unwrap();
    let resent = inbox.join("兖州区_2025年1-9月_倍增监测报表(更正).xlsx");
    std::fs::write(&resent, again).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    std::fs::File::options().write(true).open(&resent).unwrap().set_modified(later).unwrap();

    let out = tmp.path().join("out");
    let summary = run(&inbox, &out);
    assert_eq!(summary.exit_code(false), 0, "{:?} {:?}", summary.models, summary.rule_failures);
    assert!(summary.periods.iter().all(|p| p.month != 1), "{:?}", summary.periods);
    assert!(!out.join("warehouse/indicator_values/period=2025-01").exists());
    assert!(summary.refusals.iter().any(|r| r.file == "任城区_2025年1月_倍增监测报表.xlsx"), "{:?}", summary.refusals);
    assert!(summary.row_tally.balanced(), "{}", summary.row_tally.line());
    assert!(summary.row_tally.superseded > 0 && summary.row_tally.unread > 0, "{}", summary.row_tally.line());

    let md = |period: &str, stem: &str| {
        std::fs::read_to_string(out.join("feedback").join(period).join(format!("{stem}_审核反馈.md"))).unwrap()
    };
    let rencheng = md("2025-02", "370811_任城区");
    assert!(rencheng.contains("INGEST-E04") && rencheng.contains("1月数据不单独报送"), "{rencheng}");
    let yanzhou = md("2025-09", "370812_兖州区");
    assert!(yanzhou.contains("INGEST-W02") && yanzhou.contains("已被后报送的"), "{yanzhou}");
}

#[test]
fn the_row_check_fails_when_a_row_goes_missing() {
    // The tally of a sheet whose reading lost a row does not balance.
    let env_forms = gongbao::forms::Forms::load(&project().join("forms")).unwrap();
    let regions = gongbao::reference::Reference::load(&project().join("sample_data/reference")).unwrap().regions;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("邹城市_2025年1-9月.xlsx");
    let data = gongbao::sample::generate();
    let rows = &data.returns[0].jn101;
    std::fs::write(&path, messy::jn101_workbook(rows, "邹城市统计局", "2025-09", &Presentation::default()).unwrap())
        .unwrap();
    let mut f = gongbao::ingest::ingest_file(&path, &env_forms, &regions);
    let period = f.sheets[0].period;
    let n = f.sheets[0].read.records.len() as u64;
    let tally = |f: &gongbao::ingest::IngestedFile, accepted: u64| {
        let counts = gongbao::ingest::tally::sheet_counts(std::slice::from_ref(f), period);
        gongbao::ingest::tally::period_tally(std::slice::from_ref(f), period, &counts, &[], accepted, 0)
    };
    assert!(tally(&f, n).balanced(), "{}", tally(&f, n).line());
    // A row the audit never saw.
    assert!(!tally(&f, n - 1).balanced());
    // A note row ingest forgot to report.
    f.sheets[0].read.skipped.pop();
    assert!(!tally(&f, n).balanced());
    // A sheet read without a word about it.
    f.sheets[0].read.skipped.push(gongbao::ingest::sheet::SkippedRow { row: 99, col: 0, text: String::new() });
    assert!(tally(&f, n).balanced());
    // A sheet dropped without a word (neither read nor reported as unread).
    let n_counted = tally(&f, n).counted;
    f.sheets.clear();
    let t = tally(&f, 0);
    assert_eq!(t.counted, n_counted);
    assert!(!t.balanced());
    assert!(tally(&f, n).line().ends_with("(行数不符!)"));
}
