//! An .ods's `content.xml` (the fuzzed bytes) in a well-formed package: the guarded reader's
//! counting of repeated rows and columns, calamine's parser and the forms, behind a valid zip.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|content: &[u8]| {
    let ods = common::zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", common::ODS_MANIFEST),
        ("content.xml", content),
    ]);
    common::ingest(&ods, "ods");
});
