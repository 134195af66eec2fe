//! Benchmark (not a test): gongbao's ingest of an inbox against bare calamine reading the same
//! files cell by cell, in one run, on the same machine state.
//!
//!     cargo bench --profile dev --bench ingest [-- INBOX [ROUNDS]]
//!
//! Default inbox: sample_data/returns (112 workbooks). The reference data is the `reference`
//! folder beside the inbox when there is one (a generated scale inbox), else the sample's. Each
//! round reads every file's bytes from the page cache; both sides start from the same bytes in
//! memory.
//! * bare calamine: open the workbook, `worksheet_range` every sheet, visit every cell.
//! * gongbao: `ingest_file` (hash, zip guard, form/header/county/period detection, typed values,
//!   percent styles) and `sheet_rows` (Arrow rows with provenance, cell findings) for every sheet.
//!
//! Both are timed sequentially (one thread) and in parallel over files (rayon, as `gongbao run`
//! does), in alternating rounds (calamine, gongbao, calamine, …) so that the machine's load
//! weighs on both alike. The median of the rounds is printed with the ratio, as a Markdown table.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, open_workbook_auto_from_rs};
use gongbao::forms::Forms;
use gongbao::ingest::{self, rows::sheet_rows};
use gongbao::reference::Reference;
use rayon::prelude::*;

fn bare_calamine(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read");
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).expect("open");
    let mut visited = 0u64;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for (_, _, cell) in range.used_cells() {
            visited += match cell {
                Data::Float(f) => black_box(*f).is_finite() as u64,
                Data::String(s) => black_box(s.len()).min(1) as u64,
                Data::Empty => 0,
                _ => 1,
            };
        }
    }
    visited
}

fn gongbao_ingest(path: &Path, forms: &Forms, reference: &Reference) -> u64 {
    let f = ingest::ingest_file(path, forms, &reference.regions);
    let mut rows = 0u64;
    for s in &f.sheets {
        let form = forms.get(&s.read.form).expect("form");
        rows += sheet_rows(form, &f, s).rows.num_rows() as u64;
    }
    black_box(rows)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `a` and `b` in alternating rounds (a, b, a, b, …), so that a change in the machine's
/// load during the run weighs on both sides alike; the medians of both and their last results.
fn time_pair(
    rounds: usize,
    mut a: impl FnMut() -> u64,
    mut b: impl FnMut() -> u64,
) -> ((Duration, u64), (Duration, u64)) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let (mut oa, mut ob) = (0, 0);
    for _ in 0..rounds {
        let t = Instant::now();
        oa = a();
        ta.push(t.elapsed());
        let t = Instant::now();
        ob = b();
        tb.push(t.elapsed());
    }
    ((median(ta), oa), (median(tb), ob))
}

fn main() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `cargo bench` passes `--bench`; the first other argument is the inbox.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let inbox = args.first().map(PathBuf::from).unwrap_or_else(|| project.join("sample_data/returns"));
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let forms = Forms::load(&project.join("forms")).expect("forms");
    // A generated inbox (`gongbao sample --scale …`) has its reference data beside it.
    let beside = inbox.parent().map(|p| p.join("reference")).filter(|r| r.is_dir());
    let reference_dir = beside.unwrap_or_else(|| project.join("sample_data/reference"));
    let reference = Reference::load(&reference_dir).expect("reference");
    let files = ingest::list_inbox(&inbox).expect("inbox");
    let bytes: u64 = files.iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum();
    // Warm the page cache and both code paths once.
    files.iter().for_each(|p| {
        bare_calamine(p);
        gongbao_ingest(p, &forms, &reference);
    });

    let ((cal_seq, cells), (gb_seq, rows)) = time_pair(
        rounds,
        || files.iter().map(|p| bare_calamine(p)).sum(),
        || files.iter().map(|p| gongbao_ingest(p, &forms, &reference)).sum(),
    );
    let ((cal_par, _), (gb_par, _)) = time_pair(
        rounds,
        || files.par_iter().map(|p| bare_calamine(p)).sum(),
        || files.par_iter().map(|p| gongbao_ingest(p, &forms, &reference)).sum(),
    );

    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let ratio = |a: Duration, b: Duration| format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64());
    println!(
        "inbox: {} ({} files, {:.1} MB; {cells} non-empty cells, {rows} rows ingested); median of {rounds} rounds; {} threads",
        inbox.display(),
        files.len(),
        bytes as f64 / 1e6,
        rayon::current_num_threads()
    );
    println!();
    println!("| | bare calamine (cell by cell) | gongbao ingest | ratio |");
    println!("|---|---|---|---|");
    println!("| one thread | {} | {} | {} |", ms(cal_seq), ms(gb_seq), ratio(gb_seq, cal_seq));
    println!("| parallel over files | {} | {} | {} |", ms(cal_par), ms(gb_par), ratio(gb_par, cal_par));
}
