//! Ingest: county workbooks → typed Arrow rows with provenance to the cell.
//!
//! Each workbook is read on its own (in parallel across workbooks, memory bounded by one
//! workbook); a file that cannot be read is refused on its own and the run goes on.

pub mod cache;
pub mod classify;
pub mod grammar;
pub mod header;
pub mod parallel;
pub mod rows;
pub mod sheet;
pub mod tally;
pub mod values;
pub mod workbook;
pub mod xlsx_cols;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use calamine::{Cell, Data, Range, Reader, SheetVisible, Sheets, open_workbook_auto_from_rs};

use crate::findings::{Finding, Location, Severity};
use crate::forms::Forms;
use crate::period::Period;
use crate::reference::Region;
pub use sheet::{Record, SheetRead};

/// Largest workbook accepted, in bytes: a county return is a few hundred kB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest sheet accepted, in cells (a guard against zip bombs and runaway used ranges).
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// Largest total size of the parts of a zip-based workbook (.xlsx .xlsm .ods) once unpacked, as
/// its central directory declares it (the zip reader never inflates a part beyond its declared
/// size, so this bounds the memory a zip bomb can take).
pub const MAX_UNZIPPED_BYTES: u64 = 256 * 1024 * 1024;
/// Most parts a zip-based workbook may hold (a county return has a few dozen).
pub const MAX_ZIP_ENTRIES: usize = 10_000;

/// Extensions read as spreadsheets.
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods"];

/// Ingest-level rule ids (file and sheet problems, before any form rule).
pub mod rule {
    pub const UNREADABLE: &str = "INGEST-E01";
    pub const SHEET_LAYOUT: &str = "INGEST-E02";
    pub const NO_REGION_OR_PERIOD: &str = "INGEST-E03";
    pub const JANUARY_ONLY: &str = "INGEST-E04";
    pub const UNKNOWN_ITEM: &str = "INGEST-E05";
    /// A period that is no reporting period (month outside 1—12, a range not from January).
    pub const BAD_PERIOD: &str = "INGEST-E06";
    pub const SHEET_FILE_DISAGREE: &str = "INGEST-W01";
    pub const SUPERSEDED: &str = "INGEST-W02";
    /// A 合计 row whose amount differs from the sum of the rows by more than 1 万元.
    pub const TOTAL_MISMATCH: &str = "INGEST-W03";
    /// A form column read from a hidden sheet column, no visible column having its header.
    pub const HIDDEN_COLUMN: &str = "INGEST-W04";
    /// A hidden sheet read as a return, being the only sheet of its form in the workbook.
    pub const HIDDEN_SHEET: &str = "INGEST-W05";
    /// A sheet not recognised as any form, in a workbook whose other sheets are forms.
    pub const UNKNOWN_SHEET: &str = "INGEST-W06";
    /// A note or signature row under the data: skipped, not data (提示).
    pub const NOTE_ROW: &str = "INGEST-I01";
    /// A 合计 row: never an enterprise, only checked against the column sums (提示).
    pub const TOTAL_ROW: &str = "INGEST-I02";
    /// A hidden sheet not read, another sheet of the workbook holding its form (提示).
    pub const HIDDEN_SHEET_SKIPPED: &str = "INGEST-I03";
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IngestedSheet {
    pub read: SheetRead,
    pub region_code: Option<String>,
    pub period: Option<Period>,
    /// Why every row of this sheet is quarantined: (rule id, message).
    pub refusal: Option<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IngestedFile {
    pub path: PathBuf,
    /// File name as shown to people (no folders).
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub modified: Option<SystemTime>,
    pub sheets: Vec<IngestedSheet>,
    /// Why the whole file was refused.
    pub refusal: Option<String>,
    /// File- and sheet-level findings (refusals, disagreements between sheet and file name).
    pub findings: Vec<Finding>,
    /// Non-blank rows of every sheet read, counted from the raw cells (`tally::nonblank_rows`).
    #[serde(default)]
    pub sheet_rows: Vec<(String, u32)>,
    /// Sheets not read as returns (no form, a hidden copy, refused for the period alone).
    #[serde(default)]
    pub unread: Vec<String>,
    /// For a file refused for its period alone: the period it is reported in.
    #[serde(default)]
    pub period_hint: Option<Period>,
}

impl IngestedFile {
    pub(crate) fn location(&self, sheet: Option<&str>) -> Location {
        Location {
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            sheet: sheet.map(str::to_string),
            row: None,
            cell: None,
        }
    }
}

/// Lists the workbooks of an inbox, sorted by name (other files are listed too, to be refused).
pub fn list_inbox(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read the inbox {}: {e}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        // Office lock files and hidden files are not returns.
        if name.starts_with('.') || name.starts_with("~$") || !entry.file_type()?.is_file() {
            continue;
        }
        files.push(path);
    }
    files.sort();
    Ok(files)
}

/// Refusal messages for whole files (exact texts, so tests and county bureaus see the same words).
pub mod message {
    pub const EMPTY: &str = "文件为空(0 字节),请重新报送";
    pub const ENCRYPTED: &str = "文件已加密(设置了打开密码),请取消密码后重新报送";
    pub const NOT_SPREADSHEET: &str = "不是 Excel 或 ODS 电子表格文件,请用 Excel 另存为 .xlsx 后重新报送";
    pub const DAMAGED: &str = "文件已损坏或不完整(可能传输中断),无法打开,请重新导出后报送";
    pub const ZIP_BOMB: &str = "文件解压后过大或结构异常(疑似压缩炸弹),已拒收";
    pub const NO_FORM: &str = "文件中没有可识别的报表(表号 JN101—JN104)";
}

/// Is this an OLE (CFB) container holding an encrypted Office package (`EncryptedPackage`,
/// how Excel stores an .xlsx with an opening password)?
fn is_encrypted_ooxml(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) && bytes.windows(needle.len()).any(|w| w == needle)
}

/// Is this a legacy .xls (BIFF8) with a FILEPASS record, i.e. saved with a password to open
/// (RC4 encryption or XOR obfuscation)? FILEPASS immediately follows the BOF record of the
/// workbook globals, at the start of the `Workbook` stream. calamine reports only the RC4 case,
/// and `open_workbook_auto_from_rs` then hides it behind "Cannot detect file format".
fn is_encrypted_xls(bytes: &[u8]) -> bool {
    // BOF (0x0809), 16 bytes long, BIFF8 (0x0600), workbook globals (0x0005).
    const BOF_GLOBALS: [u8; 8] = [0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00];
    const FILEPASS: [u8; 2] = [0x2F, 0x00];
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        && bytes
            .windows(BOF_GLOBALS.len())
            .enumerate()
            .any(|(i, w)| w == BOF_GLOBALS && bytes.get(i + 4 + 16..i + 4 + 16 + 2) == Some(&FILEPASS[..]))
}

/// Explains a file calamine could not open in words a county bureau understands; the technical
/// detail goes to the finding's `observed` field.
fn explain_open_error(bytes: &[u8], err: &str) -> &'static str {
    let is_cfb = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let is_zip = bytes.starts_with(b"PK");
    let lower = err.to_lowercase();
    if bytes.is_empty() {
        message::EMPTY
    } else if is_encrypted_ooxml(bytes)
        || is_encrypted_xls(bytes)
        || lower.contains("password")
        || lower.contains("encrypt")
    {
        message::ENCRYPTED
    } else if !is_cfb && !is_zip {
        message::NOT_SPREADSHEET
    } else {
        message::DAMAGED
    }
}

/// Checks a zip-based workbook's central directory before any part is inflated: the number of
/// parts and their declared unpacked sizes. `Err` holds (message, detail).
fn check_zip(bytes: &[u8]) -> Result<zip::ZipArchive<std::io::Cursor<&[u8]>>, (&'static str, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| (message::DAMAGED, format!("zip central directory: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err((message::ZIP_BOMB, format!("{} zip entries (at most {MAX_ZIP_ENTRIES})", archive.len())));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| (message::DAMAGED, format!("zip entry {i}: {e}")))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err((message::ZIP_BOMB, format!("{total} bytes unpacked (at most {MAX_UNZIPPED_BYTES})")));
    }
    Ok(archive)
}

/// The cells of an .xlsx sheet displayed as a percentage (a number format with `%`: Excel
/// stores 8.3% as 0.083), found in the same pass over the sheet as the values.
enum PercentCells {
    /// Sorted positions (0-based row, column).
    Cells(Vec<(u32, u32)>),
    /// The workbook's default cell format is itself a percentage (never seen in practice): the
    /// sheet's full style map, where unstyled cells inside the styled area take the default.
    Styles(calamine::StyleRange),
}

impl PercentCells {
    fn contains(&self, r: u32, c: u32) -> bool {
        match self {
            PercentCells::Cells(v) => v.binary_search(&(r, c)).is_ok(),
            PercentCells::Styles(styles) => {
                styles.get((r, c)).and_then(|st| st.number_format.as_ref()).is_some_and(|f| f.format_code.contains('%'))
            }
        }
    }
}

/// Reads a worksheet into a range, refusing sheets whose cells or used area exceed
/// [`MAX_SHEET_CELLS`]. For .xlsx the cells are streamed and counted before any rectangle is
/// allocated (a sheet with one cell at A1 and one at XFD1048576 would otherwise take gigabytes),
/// and the cells displayed as percentages are noted on the way.
fn read_range<RS: std::io::Read + std::io::Seek>(
    workbook: &mut Sheets<RS>,
    name: &str,
) -> Result<(Range<Data>, Option<PercentCells>), String> {
    let too_big = |h: u64, w: u64| format!("工作表\"{name}\"过大({h} 行 × {w} 列),已拒收");
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
        let mut cells: Vec<Cell<Data>> = Vec::with_capacity(if declared < 100_000 { declared as usize } else { 0 });
        let (mut r0, mut c0, mut r1, mut c1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        while let Some((cell, style)) =
            reader.next_cell_with_style_id().map_err(|e| format!("工作表\"{name}\"无法读取: {e}"))?
        {
            let (r, c) = cell.get_position();
            if style > 0 && is_percent.get(style).copied().unwrap_or(false) {
                percent.push((r, c));
            }
            if matches!(cell.get_value(), calamine::DataRef::Empty) {
                continue;
            }
            (r0, c0, r1, c1) = (r0.min(r), c0.min(c), r1.max(r), c1.max(c));
            let (h, w) = (u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1);
            if h * w > MAX_SHEET_CELLS {
                return Err(too_big(h, w));
            }
            cells.push(Cell::new((r, c), cell.get_value().clone().into()));
        }
        drop(reader);
        let percent = if default_is_percent {
            x.worksheet_style(name).ok().map(PercentCells::Styles)
        } else {
            percent.sort_unstable();
            Some(PercentCells::Cells(percent))
        };
        return Ok((Range::from_sparse(cells), percent));
    }
    let range = workbook.worksheet_range(name).map_err(|e| format!("工作表\"{name}\"无法读取: {e}"))?;
    let (h, w) = range.get_size();
    if (h as u64) * (w as u64) > MAX_SHEET_CELLS {
        return Err(too_big(h as u64, w as u64));
    }
    Ok((range, None))
}

/// Reads one workbook through the forms. Never fails: problems become a refusal or findings.
pub fn ingest_file(path: &Path, forms: &Forms, regions: &[Region]) -> IngestedFile {
    let file = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut out = IngestedFile {
        path: path.to_path_buf(),
        file: file.clone(),
        sha256: String::new(),
        bytes: 0,
        modified: std::fs::metadata(path).and_then(|m| m.modified()).ok(),
        sheets: Vec::new(),
        refusal: None,
        findings: Vec::new(),
        sheet_rows: Vec::new(),
        unread: Vec::new(),
        period_hint: None,
    };
    let bytes = match std::fs::File::open(path).and_then(|f| {
        let mut buf = Vec::new();
        f.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
        Ok(buf)
    }) {
        Ok(b) => b,
        Err(e) => {
            out.refusal = Some(format!("无法读取文件: {e}"));
            out.findings.push(refusal_finding(&out, None, out.refusal.clone().unwrap_or_default()));
            return out;
        }
    };
    out.sha256 = crate::util::sha256_hex(&bytes);
    out.bytes = bytes.len() as u64;
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if out.bytes > MAX_FILE_BYTES {
        return refuse(out, format!("文件过大(超过 {} MB),不像一份县区报表", MAX_FILE_BYTES / 1024 / 1024));
    }
    if !EXTENSIONS.contains(&ext.as_str()) {
        return refuse(out, format!("文件类型 .{ext} 不是可接受的报表格式(.xlsx .xlsm .xls .ods)"));
    }
    // Hidden columns: read from the sheets' XML for .xlsx / .xlsm (calamine does not expose them).
    let mut hidden_columns = xlsx_cols::HiddenColumns::new();
    if bytes.starts_with(b"PK") {
        match check_zip(&bytes) {
            Err((why, detail)) => return refuse_with(out, why.to_string(), detail),
            Ok(mut archive) if ext == "xlsx" || ext == "xlsm" => {
                hidden_columns = xlsx_cols::hidden_columns(&mut archive);
            }
            Ok(_) => {}
        }
    }
    // An .xls with a password to open: refused before calamine, which would read an
    // XOR-obfuscated one as if it were plain.
    if is_encrypted_xls(&bytes) {
        return refuse_with(out, message::ENCRYPTED.to_string(), "BIFF8 FILEPASS record".to_string());
    }
    let mut workbook = match open_workbook_auto_from_rs(std::io::Cursor::new(&bytes[..])) {
        Ok(wb) => wb,
        Err(e) => {
            let detail = e.to_string();
            let why = explain_open_error(&bytes, &detail);
            return refuse_with(out, why.to_string(), detail);
        }
    };
    let metas: Vec<(String, bool)> =
        workbook.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible != SheetVisible::Visible)).collect();
    let name_hint_region = header::find_region(&file, regions);
    let name_hint_period = header::find_period(&file);
    let mut others: Vec<workbook::OtherSheet> = Vec::new();
    for (name, hidden) in metas {
        let (range, percent) = match read_range(&mut workbook, &name) {
            Ok(r) => r,
            Err(why) => {
                out.findings.push(refusal_finding(&out, Some(&name), why));
                continue;
            }
        };
        let raw_rows = tally::nonblank_rows(&range);
        out.sheet_rows.push((name.clone(), raw_rows));
        let hidden_cols = hidden_columns.get(&name).map(Vec::as_slice).unwrap_or_default();
        // A continuation sheet (续表) of the form before it: read through that sheet's columns.
        let prev = out.sheets.len().checked_sub(1).filter(|_| sheet::is_continuation(&name, &range));
        let continuation = |i: usize| sheet::read_continuation(&range, &name, hidden, &out.sheets[i].read, forms);
        let read = match (sheet::read_sheet(&range, &name, hidden, hidden_cols, forms, regions), prev) {
            // Without headers of its own (its title names the form, say): read as a continuation.
            (Some(own), Some(i)) if own.header_rows.0 == 0 => continuation(i).or(Some(own)),
            (Some(own), _) => Some(own),
            (None, Some(i)) => continuation(i),
            (None, None) => None,
        };
        let Some(mut read) = read else {
            tracing::debug!(file = %file, sheet = %name, "sheet holds no known form");
            others.push((name.clone(), hidden, raw_rows));
            continue;
        };
        // A continuation says its county and period through the sheet it continues.
        if let Some(p) = prev.map(|i| &out.sheets[i].read).filter(|p| p.form == read.form) {
            read.block.region_code = read.block.region_code.clone().or_else(|| p.block.region_code.clone());
            read.block.period = read.block.period.or(p.block.period);
        }
        if let Some(form) = forms.get(&read.form)
            && form.columns.iter().any(|c| c.ty == crate::forms::FieldType::Percent)
            && let Some(percent) = &percent
        {
            sheet::scale_percent_cells(&mut read, form, &range, &|r, c| percent.contains(r, c));
        }
        // County and period: the sheet wins over the file name, with a warning when they differ.
        let region_code = read.block.region_code.clone().or_else(|| name_hint_region.clone());
        let mention = read.block.period.or(name_hint_period);
        let refusal = read.refusal.clone().map(|m| (rule::SHEET_LAYOUT.to_string(), m));
        let mut sheet_out = IngestedSheet { read, region_code, period: mention.map(|m| m.period), refusal };
        let loc = out.location(Some(&name));
        let mut warn = |what: &str, sheet_says: String, file_says: String| {
            out.findings.push(Finding {
                period: None,
                region_code: None,
                form: Some(sheet_out.read.form.clone()),
                location: loc.clone(),
                row_key: None,
                rule_id: rule::SHEET_FILE_DISAGREE.into(),
                severity: Severity::Warning,
                observed: format!("sheet={sheet_says}; file={file_says}"),
                message: format!("表内{what}({sheet_says})与文件名({file_says})不一致,以表内为准"),
                explained: false,
            })
        };
        if let (Some(s), Some(f)) = (&sheet_out.read.block.region_code, &name_hint_region)
            && s != f
        {
            warn("填报单位", s.clone(), f.clone());
        }
        if let (Some(s), Some(f)) = (sheet_out.read.block.period, name_hint_period)
            && s.period != f.period
        {
            warn("报告期", s.period.to_string(), f.period.to_string());
        }
        if mention.is_some_and(|m| m.january_only) {
            // The most basic reason first: the whole return is for a period that is not reported.
            sheet_out.refusal = Some((
                rule::JANUARY_ONLY.to_string(),
                "1月数据不单独报送:每年首次报送为1—2月累计数,请按1—2月报送".to_string(),
            ));
        } else if let (None, Some(bad)) = (mention, &sheet_out.read.block.bad_period) {
            sheet_out.refusal = Some((
                rule::BAD_PERIOD.to_string(),
                format!("报告期\"{bad}\"不是有效的报告期:应为当年1月至报告月的累计(如\"2025年1—9月\"),月份为2—12"),
            ));
        } else if sheet_out.refusal.is_none() {
            if sheet_out.region_code.is_none() {
                sheet_out.refusal = Some((
                    rule::NO_REGION_OR_PERIOD.to_string(),
                    "无法确定填报单位:表头\"填报单位\"和文件名均未写明县市区".to_string(),
                ));
            } else if sheet_out.period.is_none() {
                sheet_out.refusal = Some((
                    rule::NO_REGION_OR_PERIOD.to_string(),
                    "无法确定报告期:表头和文件名均未写明年月(如\"2025年1—9月\")".to_string(),
                ));
            }
        }
        // A form column only a hidden sheet column supplies: read, with a warning to check it.
        if let Some(form) = forms.get(&sheet_out.read.form) {
            for &i in &sheet_out.read.from_hidden {
                let Some(c) = sheet_out.read.columns[i] else { continue };
                let letter = crate::util::col_letter(c);
                let header = form.columns[i].display_name();
                let mut loc = out.location(Some(&name));
                loc.row = Some(sheet_out.read.header_rows.0);
                loc.cell = Some(crate::util::cell_ref(sheet_out.read.header_rows.0 - 1, c));
                out.findings.push(Finding {
                    period: None,
                    region_code: sheet_out.region_code.clone(),
                    form: Some(form.code.clone()),
                    location: loc,
                    row_key: None,
                    rule_id: rule::HIDDEN_COLUMN.into(),
                    severity: Severity::Warning,
                    observed: format!("{}={letter} (hidden)", form.columns[i].field),
                    message: format!(
                        "文件\"{}\"工作表\"{name}\"第{letter}列({header})为隐藏列,已按其数据读入,请核实",
                        out.file
                    ),
                    explained: false,
                });
            }
        }
        if let Some((rule_id, message)) = &sheet_out.refusal {
            let mut f = refusal_finding(&out, Some(&name), message.clone());
            f.rule_id = rule_id.to_string();
            f.form = Some(sheet_out.read.form.clone());
            out.findings.push(f);
        }
        out.sheets.push(sheet_out);
    }
    workbook::settle(&mut out, &others);
    if out.refusal.is_some() {
        return out;
    }
    if out.sheets.is_empty() && out.findings.iter().all(|f| f.severity != Severity::Error) {
        return refuse(out, message::NO_FORM.to_string());
    }
    out
}

fn refusal_finding(file: &IngestedFile, sheet: Option<&str>, message: String) -> Finding {
    Finding {
        period: None,
        region_code: None,
        form: None,
        location: file.location(sheet),
        row_key: None,
        rule_id: rule::UNREADABLE.into(),
        severity: Severity::Error,
        observed: String::new(),
        message,
        explained: false,
    }
}

fn refuse(out: IngestedFile, why: String) -> IngestedFile {
    refuse_with(out, why, String::new())
}

/// Refuses the whole file; `detail` (the reader's own words) goes to the finding's `observed`.
fn refuse_with(mut out: IngestedFile, why: String, detail: String) -> IngestedFile {
    let mut f = refusal_finding(&out, None, why.clone());
    f.observed = detail;
    out.findings.push(f);
    out.refusal = Some(why);
    out
}
