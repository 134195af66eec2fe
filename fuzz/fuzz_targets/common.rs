//! Shared by the whole-workbook targets.

use std::sync::OnceLock;

use gongbao::forms::Forms;
use gongbao::reference::{Reference, Region};

fn setup() -> &'static (Forms, Vec<Region>, std::path::PathBuf) {
    static SETUP: OnceLock<(Forms, Vec<Region>, std::path::PathBuf)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let forms = Forms::load(&project.join("forms")).unwrap();
        let regions = Reference::load(&project.join("sample_data/reference")).unwrap().regions;
        // Files in memory-backed /dev/shm when there is one.
        let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
        let dir = base.join(format!("gongbao-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        (forms, regions, dir)
    })
}

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
