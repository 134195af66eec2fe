//! Hidden columns of the worksheets of an .xlsx / .xlsm package.
//!
//! calamine does not expose column visibility, so the `<cols><col min=".." max=".."
//! hidden="1"/></cols>` elements are read here from each worksheet's XML part, found through
//! `xl/workbook.xml` and `xl/_rels/workbook.xml.rels`. Only the head of a worksheet part is read:
//! `<cols>` comes before `<sheetData>`, where reading stops. Other formats (.xls, .ods) are not
//! inspected: for them every column counts as visible.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

/// Most bytes of XML read from one part: workbook.xml, its relationships, or the head of a
/// worksheet up to `<sheetData>` (a few kB in a real workbook; `<cols>` of all 16,384 columns
/// one by one stays under 1 MB).
pub const MAX_HEAD_BYTES: u64 = 4 * 1024 * 1024;
/// Columns of a worksheet (A..XFD), 1-based as in `<col min max>`.
const MAX_COLUMN: u32 = 16_384;

/// Hidden columns of each worksheet, by sheet name: 0-based inclusive ranges.
pub type HiddenColumns = HashMap<String, Vec<(u32, u32)>>;

/// Is the 0-based column `c` inside one of `ranges`?
pub fn is_hidden(ranges: &[(u32, u32)], c: u32) -> bool {
    ranges.iter().any(|&(a, b)| a <= c && c <= b)
}

/// Reads the hidden columns of every worksheet of the package. Best effort: a part that is
/// missing, malformed or too large gives no hidden columns (calamine reports real damage).
pub fn hidden_columns<R: Read + Seek>(archive: &mut ZipArchive<R>) -> HiddenColumns {
    let mut out = HiddenColumns::new();
    let Some(targets) = relationship_targets(archive) else { return out };
    let Some(sheets) = workbook_sheets(archive) else { return out };
    for (name, rel_id) in sheets {
        let Some(target) = targets.get(&rel_id) else { continue };
        let path = match target.strip_prefix('/') {
            Some(abs) => abs.to_string(),
            None => format!("xl/{target}"),
        };
        if let Some(ranges) = sheet_hidden_columns(archive, &path)
            && !ranges.is_empty()
        {
            out.insert(name, ranges);
        }
    }
    out
}

/// A bounded XML reader over one part of the package.
fn part_reader<'a, R: Read + Seek>(
    archive: &'a mut ZipArchive<R>,
    path: &str,
) -> Option<Reader<BufReader<std::io::Take<zip::read::ZipFile<'a, R>>>>> {
    let file = archive.by_name(path).ok()?;
    // A small buffer: only the head of a worksheet is wanted, and each byte buffered is a byte
    // inflated.
    Some(Reader::from_reader(BufReader::with_capacity(1024, file.take(MAX_HEAD_BYTES))))
}

fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| quick_xml::escape::unescape(&a.value).ok().map(|v| v.into_owned()))
}

/// `Id` → `Target` of the workbook's relationships.
fn relationship_targets<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Option<HashMap<String, String>> {
    let mut xml = part_reader(archive, "xl/_rels/workbook.xml.rels")?;
    let mut buf = Vec::new();
    let mut out = HashMap::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                if let (Some(id), Some(target)) = (attr(&e, "Id"), attr(&e, "Target")) {
                    out.insert(id, target);
                }
            }
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}

/// (sheet name, relationship id) of every sheet in workbook.xml, in order.
fn workbook_sheets<R: Read + Seek>(archive: &mut ZipArchive<R>) -> Option<Vec<(String, String)>> {
    let mut xml = part_reader(archive, "xl/workbook.xml")?;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sheet" => {
                // `r:id`, whatever the namespace prefix.
                if let (Some(name), Some(id)) = (attr(&e, "name"), attr(&e, "id")) {
                    out.push((name, id));
                }
            }
            Event::End(e) if e.local_name().as_ref() == "sheets" => return Some(out),
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}

/// The hidden column ranges (0-based, inclusive) declared before a worksheet's `<sheetData>`.
fn sheet_hidden_columns<R: Read + Seek>(archive: &mut ZipArchive<R>, path: &str) -> Option<Vec<(u32, u32)>> {
    let mut xml = part_reader(archive, path)?;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "col" => {
                    let hidden = attr(&e, "hidden").is_some_and(|h| h == "1" || h == "true");
                    let num = |k: &str| attr(&e, k).and_then(|v| v.trim().parse::<u32>().ok());
                    if let (true, Some(min), Some(max)) = (hidden, num("min"), num("max")) {
                        let (min, max) = (min.clamp(1, MAX_COLUMN), max.clamp(1, MAX_COLUMN));
                        if min <= max {
                            out.push((min - 1, max - 1));
                        }
                    }
                }
                // The cells follow: nothing about columns comes after.
                "sheetData" => return Some(out),
                _ => {}
            },
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}
