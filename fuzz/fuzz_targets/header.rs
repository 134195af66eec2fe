//! Header detection: a grid of texts (lines of tab-separated cells) read as a sheet through
//! the forms, then converted to rows as the run does.
#![no_main]

use std::sync::OnceLock;

use calamine::{Data, Range};
use gongbao::forms::Forms;
use gongbao::reference::{Reference, Region};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (Forms, Vec<Region>) {
    static SETUP: OnceLock<(Forms, Vec<Region>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let forms = Forms::load(&project.join("forms")).unwrap();
        let regions = Reference::load(&project.join("sample_data/reference")).unwrap().regions;
        (forms, regions)
    })
}

fuzz_target!(|input: &[u8]| {
    let (forms, regions) = setup();
    let text = String::from_utf8_lossy(input);
    let mut cells = Vec::new();
    for (r, line) in text.lines().take(200).enumerate() {
        for (c, cell) in line.split('\t').take(40).enumerate() {
            let v = match cell.parse::<f64>() {
                Ok(f) => Data::Float(f),
                Err(_) if cell.is_empty() => continue,
                Err(_) => Data::String(cell.to_string()),
            };
            cells.push(calamine::Cell::new((r as u32, c as u32), v));
        }
    }
    let range: Range<Data> = Range::from_sparse(cells);
    if let Some(read) = gongbao::ingest::sheet::read_sheet(&range, "表1", false, &[], forms, regions) {
        let file = gongbao::ingest::IngestedFile {
            path: "x.xlsx".into(),
            file: "x.xlsx".into(),
            sha256: "0".repeat(64),
            bytes: 0,
            modified: None,
            sheets: Vec::new(),
            refusal: None,
            findings: Vec::new(),
            sheet_rows: Vec::new(),
            unread: Vec::new(),
            period_hint: None,
        };
        let form = forms.get(&read.form).unwrap();
        let sheet =
            gongbao::ingest::IngestedSheet { read, region_code: Some("370811".into()), period: None, refusal: None };
        let _ = gongbao::ingest::rows::sheet_rows(form, &file, &sheet);
    }
});
