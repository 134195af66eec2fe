//! What the fuzzers found (BENCHMARKS.md, "Fuzzing"), kept as fixtures in `tests/fixtures/fuzz/`
//! and read here on stable the way the fuzz targets read them: the guarded reader, the forms and
//! the rows of every sheet, without the panic guard of `ingest_file` (a panic fails the test).
//! A file added to that folder is checked by `every_fuzz_finding_reads_without_panicking` with
//! nothing else to write; each known finding also has its expected outcome below.

use std::path::{Path, PathBuf};

use gongbao::forms::Forms;
use gongbao::ingest::{self, IngestedFile, message};
use gongbao::reference::{Reference, Region};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn setup() -> (Forms, Vec<Region>) {
    let forms = Forms::load(&project().join("forms")).unwrap();
    let regions = Reference::load(&project().join("sample_data/reference")).unwrap().regions;
    (forms, regions)
}

/// Reads a fixture as fuzz/fuzz_targets/common.rs does.
fn read(path: &Path, forms: &Forms, regions: &[Region]) -> IngestedFile {
    let read = ingest::read_workbook(path, forms, regions);
    for s in &read.sheets {
        if let Some(form) = forms.get(&s.read.form) {
            let _ = ingest::rows::sheet_rows(form, &read, s);
        }
    }
    read
}

fn findings() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(project().join("tests/fixtures/fuzz"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_finding_reads_without_panicking() {
    let (forms, regions) = setup();
    let files = findings();
    assert!(!files.is_empty());
    for path in files {
        let t = std::time::Instant::now();
        let f = read(&path, &forms, &regions);
        assert!(t.elapsed().as_secs() < 30, "{}: {:?}", path.display(), t.elapsed());
        // Refused or read, never an internal error.
        assert!(
            f.refusal.as_deref().is_none_or(|r| !r.contains(message::INTERNAL)),
            "{}: {:?}",
            path.display(),
            f.refusal
        );
    }
}

/// ingest_xls, out-of-memory: a 4.9 kB .xls whose compound-file directory chain starts past the
/// end of the file and then loops (sector 0 → 0). calamine follows it until its buffer reaches
/// gigabytes; the guard refuses the file first.
#[test]
fn an_xls_whose_directory_chain_loops_is_refused_as_damaged() {
    let (forms, regions) = setup();
    let path = project().join("tests/fixtures/fuzz/xls_directory_chain_loops.xls");
    let f = read(&path, &forms, &regions);
    assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "{:?}", f.findings);
    assert!(f.findings.iter().any(|x| x.observed.contains("compound file: a chain")), "{:?}", f.findings);
    assert!(f.sheets.is_empty());
}

/// The well-formed .xls of the ingest corpus still reads after the chain check.
#[test]
fn a_well_formed_xls_passes_the_chain_check() {
    let (forms, regions) = setup();
    let f = read(&project().join("tests/fixtures/ingest/zoucheng_jn101.xls"), &forms, &regions);
    assert!(f.refusal.is_none(), "{:?}", f.refusal);
    assert!(!f.sheets.is_empty());
}

/// ingest_xls, panic: a 5 kB .xls whose FAT sector is the file's short last sector (5,042 bytes:
/// the sector holds 434, not a multiple of 4); calamine asserts on it. Refused as damaged.
#[test]
fn an_xls_with_a_short_fat_sector_is_refused_as_damaged() {
    let (forms, regions) = setup();
    let f = read(&project().join("tests/fixtures/fuzz/xls_short_fat_sector.xls"), &forms, &regions);
    assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "{:?}", f.findings);
    assert!(f.findings.iter().any(|x| x.observed.contains("compound file: a chain Outside")), "{:?}", f.findings);
}

/// ods_content, timeout: a content.xml cut off inside a table (mutated from the corpus .ods).
/// calamine reads a table until its end tag and loops for ever at the end of the file; the
/// guard, which streams content.xml first, refuses it as damaged.
#[test]
fn an_ods_whose_content_ends_inside_a_table_is_refused_as_damaged() {
    let (forms, regions) = setup();
    let t = std::time::Instant::now();
    let f = read(&project().join("tests/fixtures/fuzz/ods_table_cut_off.ods"), &forms, &regions);
    assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "{:?}", f.findings);
    assert!(f.findings.iter().any(|x| x.observed.contains("content.xml ends inside")), "{:?}", f.findings);
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
}

/// ingest_xls, panic: an .xls whose defined-name (NAME) record is shorter than its fixed header;
/// calamine indexes past it. Refused as damaged.
#[test]
fn an_xls_with_a_short_name_record_is_refused_as_damaged() {
    let (forms, regions) = setup();
    let f = read(&project().join("tests/fixtures/fuzz/xls_short_name_record.xls"), &forms, &regions);
    assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "{:?}", f.findings);
    assert!(f.findings.iter().any(|x| x.observed.contains("NAME record of")), "{:?}", f.findings);
}

/// ingest_xls, panic: an .xls whose MULRK record's last column comes before its first; calamine
/// subtracts them unchecked (a panic where overflow checks are on, as in the development build).
/// Refused as damaged before calamine opens it.
#[test]
fn an_xls_with_reversed_mulrk_columns_is_refused_as_damaged() {
    let (forms, regions) = setup();
    let f = read(&project().join("tests/fixtures/fuzz/xls_mulrk_columns_reversed.xls"), &forms, &regions);
    assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "{:?}", f.findings);
    assert!(f.findings.iter().any(|x| x.observed.contains("MULRK record from column")), "{:?}", f.findings);
    assert!(f.sheets.is_empty());
}

/// The class of that finding: the fixture .xls's first MULRK record (row 5, columns 2 to 10) with
/// its first and last column set to every pair of a grid of edge values. Read without the panic
/// guard, none panics; a width calamine would compute with a 16-bit overflow (last column before
/// first, or 0 to 65535) is refused as damaged; the record's own columns still read.
#[test]
fn mulrk_records_with_any_columns_never_panic_and_overflowing_ones_are_refused() {
    let (forms, regions) = setup();
    let good = std::fs::read(project().join("tests/fixtures/ingest/zoucheng_jn101.xls")).unwrap();
    // MULRK (0x00BD) of 60 bytes: row 5, first column 2, nine RK values, last column 10.
    let at = good
        .windows(8)
        .position(|w| w == [0xBD, 0x00, 60, 0x00, 5, 0x00, 2, 0x00])
        .expect("the fixture's first MULRK record");
    let dir = tempfile::tempdir().unwrap();
    let edges = [0u16, 1, 2, 9, 10, 11, 255, 256, 32767, 65534, 65535];
    for &c0 in &edges {
        for &c1 in &edges {
            let mut b = good.clone();
            b[at + 6..at + 8].copy_from_slice(&c0.to_le_bytes());
            b[at + 4 + 58..at + 4 + 60].copy_from_slice(&c1.to_le_bytes());
            let path = dir.path().join(format!("mulrk_{c0}_{c1}.xls"));
            std::fs::write(&path, &b).unwrap();
            let f = read(&path, &forms, &regions);
            let overflows = c1 < c0 || c1 - c0 == u16::MAX;
            if overflows {
                assert_eq!(f.refusal.as_deref(), Some(message::DAMAGED), "columns {c0}..{c1}: {:?}", f.findings);
            } else if (c0, c1) == (2, 10) {
                assert!(f.refusal.is_none() && !f.sheets.is_empty(), "{:?}", f.refusal);
            }
            assert!(
                f.refusal.as_deref().is_none_or(|r| !r.contains(message::INTERNAL)),
                "columns {c0}..{c1}: {:?}",
                f.refusal
            );
        }
    }
}
