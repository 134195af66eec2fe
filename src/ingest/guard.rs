//! The one guarded path by which gongbao touches a county's file.
//!
//! Ingest, the county feedback's second reading of a sheet, the hidden-column scan and the
//! inbox's hashing all go through here, with the same caps (`config/limits.toml`, see
//! [`Limits`]): the file is read once, bounded by the size cap, hashed, and parsed from those same
//! bytes; a zip's directory, an .ods's repeated rows and columns and an .xls's cell records are
//! checked before calamine expands anything; every sheet is counted before its rectangle is
//! allocated. A cap exceeded refuses the file (or the sheet) with a reason in Chinese.

use std::io::{BufReader, Read, Seek};
use std::path::Path;
use std::sync::RwLock;

use calamine::{Cell, Data, Range, Reader, Sheets, open_workbook_auto_from_rs};
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;

use super::message;

/// The caps on what one county file may hold. Loaded from `config/limits.toml` at run time;
/// a missing key takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest file, in bytes (read into memory once, hashed and parsed from there).
    pub max_file_bytes: u64,
    /// Largest total size of a zip-based workbook's parts once unpacked, as its central
    /// directory declares it (the zip reader never inflates a part beyond its declared size).
    pub max_unzipped_bytes: u64,
    /// Most parts of a zip-based workbook.
    pub max_zip_entries: usize,
    /// Most sheets in a workbook.
    pub max_sheets: usize,
    /// Largest sheet, in cells of its used rectangle (also the most cells an .ods's repeated
    /// rows and columns may expand to, and the most cell records of an .xls sheet).
    pub max_sheet_cells: u64,
    /// Most cells of all sheets of a workbook together (.xls and .ods are expanded whole when
    /// opened).
    pub max_workbook_cells: u64,
    /// Longest text of one cell, in characters (Excel's own limit is 32,767).
    pub max_text_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 * 1024 * 1024,
            max_unzipped_bytes: 256 * 1024 * 1024,
            max_zip_entries: 10_000,
            max_sheets: 255,
            max_sheet_cells: 2_000_000,
            max_workbook_cells: 8_000_000,
            max_text_chars: 32_767,
        }
    }
}

impl Limits {
    /// Reads `path` (`config/limits.toml`); the defaults when the file does not exist.
    pub fn load(path: &Path) -> anyhow::Result<Limits> {
        let limits: Limits = crate::util::load_toml_or_default(path)?;
        anyhow::ensure!(
            limits.max_file_bytes > 0 && limits.max_sheet_cells > 0 && limits.max_sheets > 0,
            "{}: caps must be positive",
            path.display()
        );
        Ok(limits)
    }
}

static INSTALLED: RwLock<Option<Limits>> = RwLock::new(None);

/// The caps in force: those installed by the run (from `config/limits.toml`), else the defaults.
pub fn limits() -> Limits {
    INSTALLED.read().ok().and_then(|l| *l).unwrap_or_default()
}

/// Puts `limits` in force for every later reading of a county file in this process.
pub fn install(limits: Limits) {
    if let Ok(mut l) = INSTALLED.write() {
        *l = Some(limits);
    }
}

/// Why a file (or a sheet) is refused: the county's words, and the technical detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub detail: String,
}

fn refusal(message: impl Into<String>, detail: impl Into<String>) -> Refusal {
    Refusal { message: message.into(), detail: detail.into() }
}

fn too_large(limits: &Limits) -> String {
    format!("文件过大(超过 {} MB),不像一份县区报表", limits.max_file_bytes.div_ceil(1024 * 1024))
}

/// A file's bytes, read once and no more than the size cap, and their SHA-256.
pub struct FileBytes {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Reads a county file whole, refusing it (without reading on) when it exceeds the size cap.
/// `Err` of the outer result is an I/O error (the file cannot be opened or read).
pub fn read_file(path: &Path, limits: &Limits) -> std::io::Result<Result<FileBytes, Refusal>> {
    let file = std::fs::File::open(path)?;
    let declared = file.metadata()?.len();
    if declared > limits.max_file_bytes {
        return Ok(Err(refusal(too_large(limits), format!("{declared} bytes"))));
    }
    let mut bytes = Vec::with_capacity(declared as usize);
    file.take(limits.max_file_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Ok(Err(refusal(too_large(limits), format!("more than {} bytes", limits.max_file_bytes))));
    }
    let sha256 = crate::util::sha256_hex(&bytes);
    Ok(Ok(FileBytes { bytes, sha256 }))
}

/// SHA-256 of a file, streamed (a file of any size is hashed in 64 kB of memory).
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks a zip-based workbook's central directory before any part is inflated: the number of
/// parts and their declared unpacked sizes.
pub fn check_zip<'a>(bytes: &'a [u8], limits: &Limits) -> Result<zip::ZipArchive<std::io::Cursor<&'a [u8]>>, Refusal> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| refusal(message::DAMAGED, format!("zip central directory: {e}")))?;
    if archive.len() > limits.max_zip_entries {
        return Err(refusal(
            message::ZIP_BOMB,
            format!("{} zip entries (at most {})", archive.len(), limits.max_zip_entries),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| refusal(message::DAMAGED, format!("zip entry {i}: {e}")))?;
        total = total.saturating_add(entry.size());
    }
    if total > limits.max_unzipped_bytes {
        return Err(refusal(
            message::ZIP_BOMB,
            format!("{total} bytes unpacked (at most {})", limits.max_unzipped_bytes),
        ));
    }
    Ok(archive)
}

fn sheet_too_large(name: &str, h: u64, w: u64) -> String {
    format!("工作表\"{name}\"过大({h} 行 × {w} 列),已拒收")
}

/// Counts what calamine would expand an .ods's `content.xml` to, streaming it: per table, the
/// cells its rows hold (repeated columns counted as calamine stores them) and the rectangle from
/// the first to the last non-empty row. Either beyond the cell cap refuses the file.
pub fn check_ods<R: Read + Seek>(archive: &mut zip::ZipArchive<R>, limits: &Limits) -> Result<(), Refusal> {
    let Ok(part) = archive.by_name("content.xml") else { return Ok(()) }; // calamine reports it
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let cap = limits.max_sheet_cells;
    let mut buf = Vec::new();
    let mut tables = 0usize;
    let mut table_count = TableCount { cap, ..TableCount::default() };
    // Per row: its repeat count, columns so far, columns up to its last non-empty cell.
    let (mut row_repeat, mut cols, mut row_width) = (1u64, 0u64, 0u64);
    let repeat = |e: &BytesStart, key: &str| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == key)
            .and_then(|a| a.value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let mut total = 0u64;
    // Elements open (end names are checked, so they close in order). calamine reads a table
    // until its end tag and loops for ever at the end of the file (found by fuzzing: a
    // content.xml cut off inside a table hung the night).
    let mut open = 0usize;
    loop {
        buf.clear();
        let event =
            xml.read_event_into(&mut buf).map_err(|e| refusal(message::DAMAGED, format!("content.xml: {e}")))?;
        let (e, empty) = match &event {
            Event::Start(e) => {
                open += 1;
                (e, false)
            }
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                open = open.saturating_sub(1);
                match e.name().as_ref() {
                    "table:table-row" => end_row(row_repeat, row_width, &mut table_count)?,
                    "table:table" => {
                        total = total.saturating_add(table_count.rows_to_last.saturating_mul(table_count.width));
                        table_count = TableCount { cap, ..TableCount::default() };
                        if total > limits.max_workbook_cells {
                            return Err(refusal(
                                super::xls_scan::workbook_too_large(limits),
                                "ods tables expand to more cells than the cap",
                            ));
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof if open > 0 => {
                return Err(refusal(message::DAMAGED, format!("content.xml ends inside {open} open elements")));
            }
            Event::Eof => return Ok(()),
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" => {
                tables += 1;
                if tables > limits.max_sheets {
                    return Err(refusal(too_many_sheets(limits), format!("more than {} tables", limits.max_sheets)));
                }
                table_count.name = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == "table:name")
                    .map(|a| a.value.chars().take(64).collect())
                    .unwrap_or_default();
            }
            "table:table-row" => {
                (row_repeat, cols, row_width) = (repeat(e, "table:number-rows-repeated"), 0, 0);
                if empty {
                    end_row(row_repeat, row_width, &mut table_count)?;
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let n = repeat(e, "table:number-columns-repeated");
                cols = cols.saturating_add(n);
                // A cell with a value, a formula or content (a Start element has children): its
                // columns are stored; empty ones only when a non-empty cell follows.
                let has_value = !empty
                    || e.attributes()
                        .flatten()
                        .any(|a| matches!(a.key.as_ref(), "office:value-type" | "office:value" | "table:formula"));
                if has_value {
                    row_width = cols;
                }
            }
            _ => {}
        }
    }
}

/// What calamine will make of one .ods table so far.
#[derive(Default)]
struct TableCount {
    name: String,
    /// Cells stored before expansion.
    stored: u64,
    /// Rows (repeats counted) from the first non-empty row to the last one seen.
    rows_to_last: u64,
    /// Empty rows since the last non-empty one (expanded only if another non-empty row follows).
    pending_rows: u64,
    /// The widest row.
    width: u64,
    started: bool,
    cap: u64,
}

/// Counts a finished row (its repeat count, its columns up to its last non-empty cell).
fn end_row(row_repeat: u64, row_width: u64, t: &mut TableCount) -> Result<(), Refusal> {
    // calamine caps a row at 16,384 columns.
    let w = row_width.min(16_384);
    t.stored = t.stored.saturating_add(w);
    if w > 0 {
        t.started = true;
        t.rows_to_last = t.rows_to_last.saturating_add(t.pending_rows).saturating_add(row_repeat);
        t.pending_rows = 0;
        t.width = t.width.max(w);
    } else if t.started {
        t.pending_rows = t.pending_rows.saturating_add(row_repeat);
    }
    let expanded = t.rows_to_last.saturating_mul(t.width);
    if t.stored > t.cap || expanded > t.cap {
        let h = if expanded > t.cap { t.rows_to_last } else { t.stored.div_ceil(t.width.max(1)) };
        return Err(refusal(sheet_too_large(&t.name, h, t.width), "ods repeated rows or columns"));
    }
    Ok(())
}

fn too_many_sheets(limits: &Limits) -> String {
    format!("文件中工作表过多(超过 {} 个),不像一份县区报表,已拒收", limits.max_sheets)
}

/// A workbook opened from bytes in memory, with the hidden columns of its sheets.
pub type OpenedWorkbook<'a> = (Sheets<std::io::Cursor<&'a [u8]>>, super::xlsx_cols::HiddenColumns);

/// Opens a workbook from its bytes through the checks of its container (zip directory, .ods
/// repetitions, .xls cell records) and the sheet count. The hidden columns of an .xlsx / .xlsm
/// come with it. `Err` is the refusal of the whole file.
pub fn open_workbook<'a>(bytes: &'a [u8], ext: &str, limits: &Limits) -> Result<OpenedWorkbook<'a>, Refusal> {
    let mut hidden = super::xlsx_cols::HiddenColumns::new();
    if bytes.starts_with(b"PK") {
        let mut archive = check_zip(bytes, limits)?;
        if ext == "xlsx" || ext == "xlsm" {
            hidden = super::xlsx_cols::hidden_columns(&mut archive);
        } else if ext == "ods" || archive.by_name("content.xml").is_ok() {
            check_ods(&mut archive, limits)?;
        }
    }
    // An .xls with a password to open: refused before calamine, which would read an
    // XOR-obfuscated one as if it were plain.
    if super::is_encrypted_xls(bytes) {
        return Err(refusal(message::ENCRYPTED, "BIFF8 FILEPASS record"));
    }
    if bytes.starts_with(&super::xls_scan::CFB_MAGIC) {
        super::xls_scan::check(bytes, limits)?;
    }
    let workbook = open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
        let detail = e.to_string();
        refusal(super::explain_open_error(bytes, &detail), detail)
    })?;
    if workbook.sheets_metadata().len() > limits.max_sheets {
        return Err(refusal(too_many_sheets(limits), format!("{} sheets", workbook.sheets_metadata().len())));
    }
    Ok((workbook, hidden))
}

/// The cells of an .xlsx sheet displayed as a percentage (a number format with `%`: Excel
/// stores 8.3% as 0.083), found in the same pass over the sheet as the values.
pub enum PercentCells {
    /// Sorted positions (0-based row, column).
    Cells(Vec<(u32, u32)>),
    /// The workbook's default cell format is itself a percentage (never seen in practice): the
    /// sheet's full style map, where unstyled cells inside the styled area take the default.
    Styles(calamine::StyleRange),
}

impl PercentCells {
    pub fn contains(&self, r: u32, c: u32) -> bool {
        match self {
            PercentCells::Cells(v) => v.binary_search(&(r, c)).is_ok(),
            PercentCells::Styles(styles) => {
                styles.get((r, c)).and_then(|st| st.number_format.as_ref()).is_some_and(|f| f.format_code.contains('%'))
            }
        }
    }
}

/// A text too long for one cell: cut to the cap, so no later step carries megabytes of it.
fn clip_text(v: Data, limits: &Limits) -> Data {
    match v {
        Data::String(s) if s.len() > limits.max_text_chars => match s.char_indices().nth(limits.max_text_chars) {
            Some((i, _)) => Data::String(s[..i].to_string()),
            None => Data::String(s),
        },
        other => other,
    }
}

/// Reads a worksheet into a range, refusing sheets whose used area exceeds the cell cap. For
/// .xlsx the cells are streamed and counted before any rectangle is allocated (a sheet with one
/// cell at A1 and one at XFD1048576 would otherwise take gigabytes), and the cells displayed as
/// percentages are noted on the way. Texts longer than the text cap are cut to it.
pub fn read_range<RS: Read + Seek>(
    workbook: &mut Sheets<RS>,
    name: &str,
    limits: &Limits,
) -> Result<(Range<Data>, Option<PercentCells>), String> {
    read_range_rows(workbook, name, limits, None)
}

/// The first `head` rows of a worksheet (counted from its first non-empty row) as
/// [`read_range`] reads them, for a look at its header block and column headers only: the rows
/// from the first non-empty one to `head - 1` rows below it, with the range's last row exactly
/// `min(last row of the sheet, first row + head - 1)`, so that every computation bounded to those
/// rows sees the same cells and the same bounds as on the whole sheet. No percent cells.
///
/// An .xlsx sheet is streamed only until a non-empty cell `head` rows below the first one: what
/// lies further (a damaged part, a cell beyond the cap, a row written out of order above the
/// others) is not seen, and the full read may refuse the sheet where this did not. .xls and .ods
/// sheets come whole from calamine and are cut here, with every check of the full read.
pub fn read_range_head<RS: Read + Seek>(
    workbook: &mut Sheets<RS>,
    name: &str,
    limits: &Limits,
    head: u32,
) -> Result<Range<Data>, String> {
    read_range_rows(workbook, name, limits, Some(head.max(1))).map(|(range, _)| range)
}

fn read_range_rows<RS: Read + Seek>(
    workbook: &mut Sheets<RS>,
    name: &str,
    limits: &Limits,
    head: Option<u32>,
) -> Result<(Range<Data>, Option<PercentCells>), String> {
    let cap = limits.max_sheet_cells;
    if let Sheets::Xlsx(x) = workbook {
        let mut reader = match x.worksheet_cells_reader(name) {
            Ok(r) => r,
            // A chart sheet holds no cells: like calamine's own reader, an empty range.
            Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok((Range::default(), None)),
            Err(e) => return Err(format!("工作表\"{name}\"无法读取: {e}")),
        };
        let is_percent: Vec<bool> = reader
            .styles()
            .iter()
            .map(|st| st.number_format.as_ref().is_some_and(|f| f.format_code.contains('%')))
            .collect();
        let default_is_percent = is_percent.first().copied().unwrap_or(false);
        let mut percent: Vec<(u32, u32)> = Vec::new();
        // As calamine's own reader: room for the cells the sheet declares, when they are few.
        let declared = reader.dimensions().len();
        let room = if head.is_some() {
            256
        } else if declared < 100_000 {
            declared as usize
        } else {
            0
        };
        let mut cells: Vec<Cell<Data>> = Vec::with_capacity(room);
        let (mut r0, mut c0, mut r1, mut c1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        let mut seen: u64 = 0;
        // A non-empty cell below the head: the sheet goes on past it.
        let mut beyond = false;
        while let Some((cell, style)) =
            reader.next_cell_with_style_id().map_err(|e| format!("工作表\"{name}\"无法读取: {e}"))?
        {
            let (r, c) = cell.get_position();
            // Styled empty cells cost memory too (the percent list): counted against the cap.
            seen += 1;
            if seen > cap.saturating_mul(2) {
                return Err(sheet_too_large(name, u64::from(r) + 1, u64::from(c) + 1));
            }
            if head.is_none() && style > 0 && is_percent.get(style).copied().unwrap_or(false) {
                percent.push((r, c));
            }
            if matches!(cell.get_value(), calamine::DataRef::Empty) {
                continue;
            }
            if let Some(n) = head
                && r0 != u32::MAX
                && u64::from(r) >= u64::from(r0) + u64::from(n)
            {
                beyond = true;
                break;
            }
            (r0, c0, r1, c1) = (r0.min(r), c0.min(c), r1.max(r), c1.max(c));
            let (h, w) = (u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1);
            if h * w > cap {
                return Err(sheet_too_large(name, h, w));
            }
            cells.push(Cell::new((r, c), clip_text(cell.get_value().clone().into(), limits)));
        }
        drop(reader);
        if let Some(n) = head {
            let last = u64::from(r0) + u64::from(n) - 1;
            // A row above the first one, met after it (rows out of order): cut to the head again.
            let before = cells.len();
            cells.retain(|cell| u64::from(cell.get_position().0) <= last);
            if (beyond || cells.len() < before)
                && let Ok(last) = u32::try_from(last)
                && let Some(col) = cells.iter().map(|cell| cell.get_position().1).min()
            {
                // The sheet goes on below the head: its last row is the head's last one (an empty
                // cell only sets the bounds; it comes first, so no cell of the sheet is hidden by it).
                cells.insert(0, Cell::new((last, col), Data::Empty));
            }
            return Ok((Range::from_sparse(cells), None));
        }
        let percent = if default_is_percent {
            x.worksheet_style(name).ok().map(PercentCells::Styles)
        } else {
            percent.sort_unstable();
            Some(PercentCells::Cells(percent))
        };
        return Ok((Range::from_sparse(cells), percent));
    }
    let mut range = workbook.worksheet_range(name).map_err(|e| format!("工作表\"{name}\"无法读取: {e}"))?;
    let (h, w) = range.get_size();
    if (h as u64).saturating_mul(w as u64) > cap {
        return Err(sheet_too_large(name, h as u64, w as u64));
    }
    if let Some(start) = range.start() {
        let long: Vec<(u32, u32)> = range
            .used_cells()
            .filter(|(_, _, v)| matches!(v, Data::String(s) if s.len() > limits.max_text_chars))
            .map(|(r, c, _)| (start.0 + r as u32, start.1 + c as u32))
            .collect();
        for pos in long {
            if let Some(v) = range.get_value(pos).cloned() {
                range.set_value(pos, clip_text(v, limits));
            }
        }
    }
    if let (Some(n), Some(start), Some(end)) = (head, range.start(), range.end()) {
        let last = u64::from(start.0) + u64::from(n) - 1;
        if u64::from(end.0) > last {
            range = range.range(start, (last as u32, end.1));
        }
    }
    Ok((range, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_limits_parse_and_missing_keys_take_defaults() {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shipped = Limits::load(&project.join("config/limits.toml")).unwrap();
        assert_eq!(shipped, Limits::default(), "config/limits.toml documents the defaults");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("limits.toml");
        std::fs::write(&p, "max_sheets = 3\n").unwrap();
        assert_eq!(Limits::load(&p).unwrap(), Limits { max_sheets: 3, ..Limits::default() });
        std::fs::write(&p, "max_sheet = 3\n").unwrap();
        assert!(format!("{:#}", Limits::load(&p).unwrap_err()).contains("unknown field"));
        assert_eq!(Limits::load(&dir.path().join("none.toml")).unwrap(), Limits::default());
    }

    #[test]
    fn streamed_hash_is_the_hash_of_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(hash_file(&p).unwrap(), crate::util::sha256_hex(&bytes));
        let small = Limits { max_file_bytes: 1000, ..Limits::default() };
        let refused = read_file(&p, &small).unwrap().err().unwrap();
        assert!(refused.message.contains("文件过大"), "{}", refused.message);
        let read = read_file(&p, &Limits::default()).unwrap().ok().unwrap();
        assert_eq!((read.bytes.len(), read.sha256), (bytes.len(), crate::util::sha256_hex(&bytes)));
    }

    #[test]
    fn long_texts_are_cut_on_a_character() {
        let l = Limits { max_text_chars: 3, ..Limits::default() };
        assert_eq!(clip_text(Data::String("济宁市统计局".into()), &l), Data::String("济宁市".into()));
        assert_eq!(clip_text(Data::String("ab".into()), &l), Data::String("ab".into()));
    }
}
