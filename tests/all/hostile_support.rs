//! Builders of hostile county files, made on the fly from the sample returns (small on disk,
//! whatever they expand to): a value patched into a cell, a cell at the last address of a sheet,
//! an .ods of repeated rows and columns, an .xls whose cell records span the whole sheet.

use std::io::{Read, Write};
use std::path::Path;

use gongbao::sample::{CountyReturn, SampleData};

pub fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Rewrites the parts of an .xlsx: `patch(part name, text)` returns the new text of an XML part.
pub fn patch_xlsx(bytes: &[u8], patch: impl Fn(&str, String) -> String) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name.ends_with(".xml") {
            data = patch(&name, String::from_utf8(data).unwrap()).into_bytes();
        }
        zout.start_file(name, opts).unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap().into_inner()
}

/// Replaces the first `times` cell values `<v>{from}</v>` of worksheet `sheet` (1-based, in the
/// order the sheets were added) by `to`, and asserts there were that many.
pub fn patch_value(bytes: &[u8], sheet: usize, from: &str, to: &str, times: usize) -> Vec<u8> {
    let needle = format!("<v>{from}</v>");
    let part = format!("xl/worksheets/sheet{sheet}.xml");
    let done = std::cell::Cell::new(0usize);
    let out = patch_xlsx(bytes, |name, text| {
        if name != part || done.get() >= times {
            return text;
        }
        let n = text.matches(&needle).count().min(times - done.get());
        done.set(done.get() + n);
        text.replacen(&needle, &format!("<v>{to}</v>"), n)
    });
    assert_eq!(done.get(), times, "{needle} found {} times", done.get());
    out
}

/// A sample return's workbook.
pub fn workbook(data: &SampleData, ret: &CountyReturn) -> Vec<u8> {
    gongbao::sample::workbook_bytes(data, ret).unwrap()
}

/// How the sample writer writes a number (as its cell value text).
pub fn v(d: rust_decimal::Decimal) -> String {
    use rust_decimal::prelude::ToPrimitive;
    format!("{}", d.to_f64().unwrap())
}

/// A cell at XFD1048576 (and its text) appended to the first worksheet.
pub fn with_last_cell(bytes: &[u8]) -> Vec<u8> {
    patch_xlsx(bytes, |name, text| {
        if name != "xl/worksheets/sheet1.xml" {
            return text;
        }
        text.replace(
            "</sheetData>",
            r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>末格</t></is></c></row></sheetData>"#,
        )
    })
}

/// An .ods whose one table has `rows` repeated rows of `cols` repeated non-empty cells: a few
/// hundred bytes that a reader expanding repetitions makes `rows × cols` cells of.
pub fn ods_repeated(rows: u64, cols: u64) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="表1"><table:table-row><table:table-cell office:value-type="string"><text:p>表号:JN101</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="{rows}"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="{cols}"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
    z.start_file("content.xml", deflated).unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.start_file("META-INF/manifest.xml", deflated).unwrap();
    z.write_all(manifest.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

/// The .xls fixture with one RK cell record moved to IV65536 (the last cell of a BIFF8 sheet):
/// calamine would make a 65,536 × 256 rectangle of it.
pub fn xls_last_cell() -> Vec<u8> {
    let mut b = std::fs::read(project().join("tests/fixtures/ingest/zoucheng_jn101.xls")).unwrap();
    let at = b.windows(4).position(|w| w == [0x7E, 0x02, 0x0A, 0x00]).expect("an RK record");
    b[at + 4..at + 8].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0x00]);
    b
}

/// The .xls fixture with a DIMENSIONS record claiming 4 billion rows (calamine would reserve
/// room for them).
pub fn xls_lying_dimensions() -> Vec<u8> {
    let mut b = std::fs::read(project().join("tests/fixtures/ingest/zoucheng_jn101.xls")).unwrap();
    let at = b.windows(4).position(|w| w == [0x00, 0x02, 0x0E, 0x00]).expect("a DIMENSIONS record");
    b[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    b
}

/// An .xlsx with `n` sheets.
pub fn many_sheets(n: usize) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for i in 0..n {
        wb.add_worksheet().set_name(format!("S{i}")).unwrap().write_string(0, 0, "x").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// A file of `len` bytes that takes no room on disk (a hole).
pub fn sparse_file(path: &Path, len: u64) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(len).unwrap();
}
