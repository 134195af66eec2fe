//! An .xlsx's first worksheet part (the fuzzed bytes) inside a sample return, every other part
//! as the sample has it: the guarded reader's cell streaming and column visibility scan,
//! calamine's sheet parser and the forms, behind a valid zip.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|sheet: &[u8]| {
    let parts: Vec<(&str, &[u8])> = common::xlsx_template()
        .iter()
        .map(|(name, bytes)| (name.as_str(), if name == "xl/worksheets/sheet1.xml" { sheet } else { bytes.as_slice() }))
        .collect();
    common::ingest(&common::zip_of(&parts), "xlsx");
});
