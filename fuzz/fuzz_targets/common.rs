//! Shared by the whole-workbook targets.

use std::io::Write;
use std::sync::OnceLock;

use gongbao::forms::Forms;
use gongbao::reference::{Reference, Region};

fn project() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn setup() -> &'static (Forms, Vec<Region>, std::path::PathBuf) {
    static SETUP: OnceLock<(Forms, Vec<Region>, std::path::PathBuf)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let project = project();
        let forms = Forms::load(&project.join("forms")).unwrap();
        let regions = Reference::load(&project.join("sample_data/reference")).unwrap().regions;
        // Files in memory-backed /dev/shm when there is one.
        let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
        let dir = base.join(format!("gongbao-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        (forms, regions, dir)
    })
}

/// Reads `input` as a county's workbook the way the run does (the guarded reader, the forms, the
/// rows of every sheet), without the panic guard of `ingest_file`: a panic is a finding.
#[allow(dead_code)]
pub fn ingest(input: &[u8], ext: &str) {
    let (forms, regions, dir) = setup();
    let path = dir.join(format!("邹城市_2025年1-9月.{ext}"));
    std::fs::write(&path, input).unwrap();
    let read = gongbao::ingest::read_workbook(&path, forms, regions);
    for s in &read.sheets {
        if let Some(form) = forms.get(&s.read.form) {
            let _ = gongbao::ingest::rows::sheet_rows(form, &read, s);
        }
    }
}

/// A zip of `parts`, stored uncompressed (with their right checksums): what the structure-aware
/// targets wrap the fuzzed XML in, so that the fuzzer's mutations reach the XML parsers rather
/// than failing the zip's checksum.
#[allow(dead_code)]
pub fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The parts of a sample return (.xlsx), the template `xlsx_sheet` puts its first sheet into.
#[allow(dead_code)]
pub fn xlsx_template() -> &'static Vec<(String, Vec<u8>)> {
    static TEMPLATE: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = project().join("sample_data/returns/任城区_2025年1-2月_倍增监测报表.xlsx");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        (0..zip.len())
            .map(|i| {
                let mut f = zip.by_index(i).unwrap();
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
                (f.name().unwrap().to_string(), bytes)
            })
            .collect()
    })
}

/// The manifest of an .ods package.
#[allow(dead_code)]
pub const ODS_MANIFEST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
