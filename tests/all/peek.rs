//! The plan's peek (`ingest::peek_file`: the heads of the sheets only) gives the periods a full
//! read gives (`tally::periods_of_file`), for the sample inbox, the fixtures, hostile files and
//! generated county layouts: header rows at any depth, titles and stray lines with and without
//! periods, continuation sheets, hidden copies, decoys, periods only in the file name, January
//! and impossible periods, files refused whole.

use std::path::Path;

use calamine::{Data, Reader};
use gongbao::ingest::tally::periods_of_file;
use gongbao::ingest::{self, IngestedFile};
use gongbao::period::Period;
use gongbao::sample::messy::{self, PeriodStyle, Presentation};
use proptest::prelude::*;

use crate::ingest_support::{Env, canonical, project};

fn periods(f: &IngestedFile) -> Vec<Option<Period>> {
    periods_of_file(f)
}

/// The periods of a full read and of a peek of `path`, and what the full read made of it.
fn both(env: &Env, path: &Path) -> (Vec<Option<Period>>, Vec<Option<Period>>, IngestedFile) {
    let full = ingest::ingest_file(path, &env.forms, &env.regions);
    let peek = ingest::peek_file(path, &env.forms, &env.regions);
    (periods(&full), periods(&peek), full)
}

fn assert_same(env: &Env, path: &Path) {
    let (full, peek, read) = both(env, path);
    assert_eq!(
        peek,
        full,
        "{}: peeked periods differ from the full read's (refusal {:?}, sheets {:?})",
        path.display(),
        read.refusal,
        read.sheets.iter().map(|s| (&s.read.sheet, s.period, &s.refusal)).collect::<Vec<_>>()
    );
}

#[test]
fn every_sample_workbook_peeks_to_the_periods_of_its_full_read() {
    let env = Env::new();
    let paths = ingest::list_inbox(&project().join("sample_data/returns")).unwrap();
    assert_eq!(paths.len(), 140);
    for p in &paths {
        assert_same(&env, p);
    }
    // Through the inbox's own path (the hash checked, a sender's folder applied), as the plan does.
    let scanned = gongbao::incremental::scan(&paths[..14]);
    for f in &scanned {
        let full = gongbao::stage::plan::periods_of_read(&ingest::sender::read(f, &env.forms, &env.regions));
        let peek = gongbao::stage::plan::periods_of_read(&ingest::sender::peek(f, &env.forms, &env.regions));
        assert_eq!(peek, full, "{}", f.name);
    }
}

#[test]
fn the_messy_sample_and_the_fixtures_peek_to_the_periods_of_their_full_read() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let data = gongbao::sample::generate();
    gongbao::sample::write_messy(&data, dir.path()).unwrap();
    let mut paths = ingest::list_inbox(&dir.path().join("returns")).unwrap();
    // Every county layout and quirk of the messy sample appears within its first returns.
    paths.truncate(40);
    for dir in ["tests/fixtures/ingest", "tests/fixtures/fuzz"] {
        paths.extend(ingest::list_inbox(&project().join(dir)).unwrap());
    }
    for p in &paths {
        assert_same(&env, p);
    }
}

/// Files refused whole, or with sheets refused by the guard: the peek meets the same caps.
#[test]
fn hostile_files_peek_to_the_periods_of_their_full_read() {
    use crate::hostile_support as h;
    let env = Env::new();
    let data = gongbao::sample::generate();
    let ret = data.return_for("370811", "2025-09").unwrap();
    let good = h::workbook(&data, ret);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("任城区_2025年1-8月_空.xlsx", Vec::new()),
        ("任城区_2025年1-8月_文本.xlsx", "不是表格".as_bytes().to_vec()),
        ("任城区_2025年1-8月_截断.xlsx", good[..good.len() / 2].to_vec()),
        ("任城区_2025年1-8月_多表.xlsx", h::many_sheets(300)),
        ("任城区_2025年1-8月_ods.ods", h::ods_repeated(3_000, 1_000)),
        ("任城区_2025年1-8月_xls.xls", h::xls_last_cell()),
        ("任城区_2025年1-8月_dim.xls", h::xls_lying_dimensions()),
        ("无报告期.xlsx", "不是表格".as_bytes().to_vec()),
        (
            "任城区_2025年1-8月_加密.xlsx",
            std::fs::read(project().join("tests/fixtures/ingest/encrypted.xlsx")).unwrap(),
        ),
        ("任城区_2025年1-8月_炸弹.xlsx", std::fs::read(project().join("tests/fixtures/ingest/zip_bomb.xlsx")).unwrap()),
        ("任城区_2025年1-8月.xlsx", good.clone()),
    ];
    for (name, bytes) in cases {
        let path = env.path(name);
        std::fs::write(&path, &bytes).unwrap();
        assert_same(&env, &path);
    }
}

/// What lies below the heads of an .xlsx's sheets is not seen by the peek: a cell beyond the
/// cap, a damaged part. The full read refuses such a sheet and the periods can differ; the run
/// corrects the record then (`peek_run::a_wrong_peek_is_corrected_by_the_full_read`). This shows the limit.
#[test]
fn the_peek_does_not_see_below_the_heads_of_an_xlsx() {
    let env = Env::new();
    let bytes = one_sheet_workbook(&Presentation::default(), "2025-09", 60);
    let far = crate::hostile_support::with_last_cell(&bytes);
    let path = env.path("任城区_2025年1-8月.xlsx");
    std::fs::write(&path, &far).unwrap();
    let (full, peek, _) = both(&env, &path);
    let p = |s: &str| Some(s.parse::<Period>().unwrap());
    assert_eq!(full, vec![p("2025-08")], "the full read refuses the sheet: the file name's period");
    assert_eq!(peek, vec![p("2025-09")], "the peek stops at the head: the sheet's period");
}

/// The column headers at every depth around the head's end: the sheet's period when they are
/// found (within the first 31 rows), the file name's when not (the first 9 rows, all stray
/// lines, give none), on a peek as on the full read; with and without a title, over many rows.
#[test]
fn headers_at_every_depth_peek_to_the_periods_of_the_full_read() {
    let env = Env::new();
    let mut seen = std::collections::BTreeSet::new();
    for mark in [messy::FormMark::Code, messy::FormMark::HeadersOnly] {
        for depth in 0..=44usize {
            let p = Presentation { mark, ..Presentation::default() };
            let base = one_sheet_workbook(&p, "2025-09", 50);
            let (_, range) = sheets_of(&base).remove(0);
            let stray = vec!["说明:本表由乡镇汇总"; depth];
            let mut wb = rust_xlsxwriter::Workbook::new();
            copy_cells(wb.add_worksheet().set_name("Sheet1").unwrap(), &range, (0, 0), &stray, 0, 0);
            let path = env.path("邹城市_2025年1-8月.xlsx");
            std::fs::write(&path, wb.save_to_buffer().unwrap()).unwrap();
            let (full, peek, _) = both(&env, &path);
            assert_eq!(peek, full, "{mark:?}, {depth} stray lines");
            seen.insert(full);
        }
    }
    assert_eq!(seen.len(), 2, "both the sheet's period and the file name's: {seen:?}");
}

/// The cells of every sheet of an .xlsx (as calamine reads them), by sheet name.
fn sheets_of(bytes: &[u8]) -> Vec<(String, calamine::Range<Data>)> {
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names();
    names.into_iter().map(|n| (n.clone(), wb.worksheet_range(&n).unwrap())).collect()
}

/// A JN101 sheet of `rows` enterprises (the canonical ones over and over) in presentation `p`,
/// alone in a workbook.
fn one_sheet_workbook(p: &Presentation, period: &str, rows: usize) -> Vec<u8> {
    let rows: Vec<_> = canonical().into_iter().cycle().take(rows).collect();
    let mut wb = rust_xlsxwriter::Workbook::new();
    messy::jn101_sheet(wb.add_worksheet(), &rows, "邹城市统计局", period, p).unwrap();
    wb.save_to_buffer().unwrap()
}

/// Lines a county puts above or among the headers: blank, plain text, periods good and bad,
/// another county.
const STRAY: &[&str] = &[
    "",
    "说明:本表由乡镇汇总",
    "2025年3—9月",
    "报告期:2025年1—8月",
    "2025年1月",
    "填报单位:任城区统计局",
    "续表",
    "202507",
];

const FILE_NAMES: &[&str] = &[
    "邹城市_2025年1-9月_倍增监测报表.xlsx",
    "邹城市_2025年1-8月.xlsx",
    "邹城市.xlsx",
    "邹城市_2025年1月.xlsx",
    "zoucheng_202509.xlsx",
    "数据(补报).xlsx",
];

#[derive(Debug, Clone)]
struct Layout {
    presentation: usize,
    period_style: PeriodStyle,
    county_in_sheet: bool,
    period: &'static str,
    rows: usize,
    /// Blank rows and columns before the sheet.
    offset: (u32, u16),
    /// Stray lines (indexes into STRAY) inserted at a row of the sheet.
    stray: Vec<usize>,
    stray_at: u32,
    /// 0 none; 1 a 续表 sheet of data rows only; 2 a 续表 sheet with its own headers; 3 a sheet
    /// whose first row says 续表, then data rows.
    continuation: u8,
    hidden_copy: Option<&'static str>,
    file_name: usize,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        (
            0usize..64,
            prop::sample::select(vec![PeriodStyle::Cumulative, PeriodStyle::Month, PeriodStyle::Absent]),
            any::<bool>(),
            prop::sample::select(vec!["2025-09", "2025-08", "2025-01", "2024-12"]),
            0usize..60,
        ),
        (
            (0u32..4, 0u16..3),
            // Mostly lines without a period, so that the first period may lie deep down.
            prop::collection::vec(prop_oneof![8 => Just(0usize), 8 => Just(1usize), 3 => 2..STRAY.len()], 0..40),
            0u32..6,
            0u8..4,
            prop::option::of(prop::sample::select(vec!["2025-09", "2025-07", "2025-01"])),
            0..FILE_NAMES.len(),
        ),
    )
        .prop_map(
            |(
                (presentation, period_style, county_in_sheet, period, rows),
                (offset, stray, stray_at, continuation, hidden_copy, file_name),
            )| Layout {
                presentation,
                period_style,
                county_in_sheet,
                period,
                rows,
                offset,
                stray,
                stray_at,
                continuation,
                hidden_copy,
                file_name,
            },
        )
}

/// Writes `range`'s cells into `ws`, shifted by `offset`, with `stray` lines inserted before
/// the row `stray_at` rows down; only rows from `from` on when given.
fn copy_cells(
    ws: &mut rust_xlsxwriter::Worksheet,
    range: &calamine::Range<Data>,
    offset: (u32, u16),
    stray: &[&str],
    stray_at: u32,
    from: u32,
) {
    let Some((r0, _)) = range.start() else { return };
    let n = stray.len() as u32;
    for (i, s) in stray.iter().enumerate() {
        if !s.is_empty() {
            ws.write_string(offset.0 + stray_at + i as u32, offset.1, *s).unwrap();
        }
    }
    let base = from.max(r0);
    for (r, c, v) in range.used_cells() {
        let Some(rel) = (r0 + r as u32).checked_sub(base) else { continue };
        let row = offset.0 + rel + if rel >= stray_at { n } else { 0 };
        let col = offset.1 + c as u16;
        match v {
            Data::String(s) => ws.write_string(row, col, s).map(|_| ()),
            Data::Float(f) => ws.write_number(row, col, *f).map(|_| ()),
            Data::Int(i) => ws.write_number(row, col, *i as f64).map(|_| ()),
            Data::Bool(b) => ws.write_boolean(row, col, *b).map(|_| ()),
            other => ws.write_string(row, col, other.to_string()).map(|_| ()),
        }
        .unwrap();
    }
}

fn generated(l: &Layout) -> Vec<u8> {
    let mut p = messy::presentation_for(l.presentation);
    p.period = l.period_style;
    p.county_in_sheet = l.county_in_sheet;
    let base = one_sheet_workbook(&p, l.period, l.rows);
    let (_, range) = sheets_of(&base).remove(0);
    let stray: Vec<&str> = l.stray.iter().map(|&i| STRAY[i]).collect();
    let mut wb = rust_xlsxwriter::Workbook::new();
    if p.decoy_sheets {
        messy::decoy_sheets(&mut wb).unwrap();
    }
    copy_cells(wb.add_worksheet().set_name("Sheet1").unwrap(), &range, l.offset, &stray, l.stray_at, 0);
    // The data rows: those below the first row with a credit code.
    let first_data = range
        .used_cells()
        .find(|(_, _, v)| matches!(v, Data::String(s) if s.trim().len() == 18 && s.trim().starts_with("91")))
        .map(|(r, _, _)| r as u32 + range.start().unwrap().0)
        .unwrap_or(range.end().map_or(0, |e| e.0));
    match l.continuation {
        1 => copy_cells(wb.add_worksheet().set_name("续表").unwrap(), &range, (0, 0), &[], 0, first_data),
        2 => copy_cells(wb.add_worksheet().set_name("续表1").unwrap(), &range, (1, 0), &[], 0, 0),
        3 => {
            let ws = wb.add_worksheet().set_name("Sheet2").unwrap();
            copy_cells(ws, &range, (0, 0), &["续表"], 0, first_data);
        }
        _ => {}
    }
    if let Some(period) = l.hidden_copy {
        let copy = one_sheet_workbook(&p, period, l.rows.min(5));
        let (_, r) = sheets_of(&copy).remove(0);
        let ws = wb.add_worksheet().set_name("备份").unwrap();
        copy_cells(ws, &r, (0, 0), &[], 0, 0);
        ws.set_hidden(true);
    }
    wb.save_to_buffer().unwrap()
}

proptest! {
    // Each case writes two workbooks and reads one twice (tens of milliseconds in debug).
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_county_layout_peeks_to_the_periods_of_its_full_read(l in layout()) {
        let env = Env::new();
        let path = env.path(FILE_NAMES[l.file_name]);
        std::fs::write(&path, generated(&l)).unwrap();
        let (full, peek, read) = both(&env, &path);
        prop_assert_eq!(
            peek,
            full,
            "{:?}: refusal {:?}, sheets {:?}",
            l,
            read.refusal,
            read.sheets.iter().map(|s| (&s.read.sheet, s.period, &s.refusal)).collect::<Vec<_>>()
        );
    }
}

/// The head of a sheet is the sheet cut to its first `HEAD_ROWS` rows: the same first row, the
/// same cells in those rows, and the last row the sheet's or the head's (what the proof at
/// `sheet::HEAD_ROWS` rests on), for .xlsx (streamed, stopped), .xls and .ods (cut).
#[test]
fn the_head_of_a_sheet_is_the_sheet_cut_to_its_head_rows() {
    use gongbao::ingest::guard;
    let limits = guard::Limits::default();
    let mut paths = ingest::list_inbox(&project().join("sample_data/returns")).unwrap();
    paths.truncate(14);
    paths.extend(ingest::list_inbox(&project().join("tests/fixtures/ingest")).unwrap());
    let long = tempfile::tempdir().unwrap();
    let generated = long.path().join("long.xlsx");
    std::fs::write(&generated, one_sheet_workbook(&Presentation::default(), "2025-09", 80)).unwrap();
    paths.push(generated);
    let n = ingest::sheet::HEAD_ROWS;
    let mut cut = 0;
    for p in &paths {
        let bytes = std::fs::read(p).unwrap();
        let ext = p.extension().unwrap().to_string_lossy().to_string();
        let Ok((mut wb, _)) = guard::open_workbook(&bytes, &ext, &limits) else { continue };
        let Ok((mut wb2, _)) = guard::open_workbook(&bytes, &ext, &limits) else { continue };
        for name in wb.sheet_names() {
            let (full, _) = guard::read_range(&mut wb, &name, &limits).unwrap();
            let head = guard::read_range_head(&mut wb2, &name, &limits, n).unwrap();
            let (Some(start), Some(end)) = (full.start(), full.end()) else {
                assert!(head.is_empty(), "{}: {name}", p.display());
                continue;
            };
            let last = end.0.min(start.0 + n - 1);
            cut += usize::from(last < end.0);
            assert_eq!(head.start().map(|s| s.0), Some(start.0), "{}: {name}", p.display());
            assert_eq!(head.end().map(|e| e.0), Some(last), "{}: {name}", p.display());
            for r in start.0..=last {
                for c in start.1..=end.1 {
                    let (a, b) = (full.get_value((r, c)), head.get_value((r, c)));
                    let empty = |v: Option<&Data>| v.is_none_or(|v| *v == Data::Empty);
                    assert!(a == b || (empty(a) && empty(b)), "{}: {name} ({r}, {c}): {a:?} {b:?}", p.display());
                }
            }
        }
    }
    assert!(cut > 10, "sheets longer than the head: {cut}");
}
