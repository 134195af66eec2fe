//! Ingest: county workbooks → typed Arrow rows with provenance to the cell.
//!
//! Each workbook is read on its own (in parallel across workbooks, memory bounded by one
//! workbook); a file that cannot be read is refused on its own and the run goes on.

#[cfg(feature = "pipeline")]
pub mod cache;
pub mod classify;
pub mod grammar;
pub mod guard;
pub mod header;
#[cfg(feature = "pipeline")]
pub mod parallel;
pub mod rows;
pub mod sender;
pub mod sheet;
pub mod tally;
pub mod values;
pub mod workbook;
pub mod xls_scan;
pub mod xlsx_cols;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use calamine::{Reader, SheetVisible};

use crate::findings::{Finding, Location, Severity};
use crate::forms::Forms;
use crate::period::Period;
use crate::reference::Region;
pub use sheet::{Record, SheetRead};

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
    pub const BAD_PERIOD: &str = "INGEST-E07";
    pub const SHEET_FILE_DISAGREE: &str = "INGEST-W01";
    pub const SUPERSEDED: &str = "INGEST-W02";
    /// A 合计 row whose amount differs from the sum of the rows by more than 1 万元.
    pub const TOTAL_MISMATCH: &str = "INGEST-W03";
    /// A form column read from a hidden sheet column, no visible column having its header.
    pub const HIDDEN_COLUMN: &str = "INGEST-W04";
    /// In an inbox laid out by sender: a sheet claiming another county than the sender's.
    pub const WRONG_SENDER: &str = "INGEST-E06";
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
/// An inbox laid out by sender has one folder per county account, named by its region code
/// (`inbox/370811/…`, see [`sender`]): the files of such folders are listed too.
pub fn list_inbox(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read the inbox {}: {e}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        // Office lock files and hidden files are not returns.
        if name.starts_with('.') || name.starts_with("~$") {
            continue;
        }
        if entry.file_type()?.is_dir() && sender::is_account_folder(&name) {
            files.extend(list_inbox_files(&path)?);
        } else if entry.file_type()?.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The files of one sender's folder (no deeper folders).
fn list_inbox_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with('.') && !name.starts_with("~$") && entry.file_type()?.is_file() {
            files.push(entry.path());
        }
    }
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
    pub const REPLACED: &str = "文件在读取过程中被替换,本次未采用,将在下次运行时读取新文件";
    pub const INTERNAL: &str = "读取文件时发生内部错误,本文件暂未采用,请联系市统计局";
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
pub(crate) fn is_encrypted_xls(bytes: &[u8]) -> bool {
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
pub(crate) fn explain_open_error(bytes: &[u8], err: &str) -> &'static str {
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

/// Reads one workbook through the forms. Never fails: problems become a refusal or findings,
/// and a panic while reading it (a defect of gongbao or of a library) becomes the refusal of this
/// file alone, with the panic's message in the log and the finding.
pub fn ingest_file(path: &Path, forms: &Forms, regions: &[Region]) -> IngestedFile {
    guarded(path, || read_workbook(path, forms, regions))
}

/// `read`, with a panic becoming the refusal of the file.
fn guarded(path: &Path, read: impl FnOnce() -> IngestedFile) -> IngestedFile {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(read) => read,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            tracing::error!(file = %path.display(), "internal error while reading the workbook: {what}");
            internal_error(path, what)
        }
    }
}

/// The refusal of a file whose reading failed inside gongbao.
fn internal_error(path: &Path, what: String) -> IngestedFile {
    let out = IngestedFile {
        sha256: guard::hash_file(path).unwrap_or_default(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        ..not_yet_read(path)
    };
    refuse_with(out, message::INTERNAL.to_string(), format!("internal error: {what}"))
}

/// The file before anything of it is read: its name and modification time.
fn not_yet_read(path: &Path) -> IngestedFile {
    IngestedFile {
        path: path.to_path_buf(),
        file: path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
        sha256: String::new(),
        bytes: 0,
        modified: std::fs::metadata(path).and_then(|m| m.modified()).ok(),
        sheets: Vec::new(),
        refusal: None,
        findings: Vec::new(),
        sheet_rows: Vec::new(),
        unread: Vec::new(),
        period_hint: None,
    }
}

/// How much of each sheet a reading looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Every row: the reading a period is built from.
    Full,
    /// The first [`sheet::HEAD_ROWS`] rows of each sheet: the form, header block, county and
    /// period of every sheet, hence which sheets are returns and of which periods, but no data
    /// rows, row counts or percent cells ([`peek_file`]).
    Head,
}

/// The periods a workbook's rows belong to (`tally::periods_of_file`), learned from the head of
/// each sheet ([`Depth::Head`]): what the plan needs of a workbook it does not build from. The
/// same reading as [`ingest_file`] in all but the data rows, so the same periods, except where
/// the full read meets what lies below the heads of an .xlsx's sheets (a damaged part, a sheet
/// beyond the cell cap, rows out of order) or panics there; the run corrects the record then
/// (see `stage::read`).
pub fn peek_file(path: &Path, forms: &Forms, regions: &[Region]) -> IngestedFile {
    guarded(path, || read_workbook_to(path, forms, regions, Depth::Head))
}

/// [`ingest_file`] without its guard against panics (for the fuzz targets, where a panic is a finding).
#[doc(hidden)]
pub fn read_workbook(path: &Path, forms: &Forms, regions: &[Region]) -> IngestedFile {
    read_workbook_to(path, forms, regions, Depth::Full)
}

#[doc(hidden)]
pub fn read_workbook_to(path: &Path, forms: &Forms, regions: &[Region], depth: Depth) -> IngestedFile {
    crate::faults::before_reading(path);
    let mut out = not_yet_read(path);
    let file = out.file.clone();
    let limits = guard::limits();
    let read = match guard::read_file(path, &limits) {
        Ok(Ok(read)) => read,
        Ok(Err(refusal)) => {
            // Too large to read: hashed as a stream, so its refusal still names its content.
            out.sha256 = guard::hash_file(path).unwrap_or_default();
            return refuse_with(out, refusal.message, refusal.detail);
        }
        Err(e) => {
            out.refusal = Some(format!("无法读取文件: {e}"));
            out.findings.push(refusal_finding(&out, None, out.refusal.clone().unwrap_or_default()));
            return out;
        }
    };
    // Hashed and parsed from the same bytes: what is published is what was hashed.
    let bytes = read.bytes;
    out.sha256 = read.sha256;
    out.bytes = bytes.len() as u64;
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return refuse(out, format!("文件类型 .{ext} 不是可接受的报表格式(.xlsx .xlsm .xls .ods)"));
    }
    let (mut workbook, hidden_columns) = match guard::open_workbook(&bytes, &ext, &limits) {
        Ok(w) => w,
        Err(refusal) => return refuse_with(out, refusal.message, refusal.detail),
    };
    let metas: Vec<(String, bool)> =
        workbook.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible != SheetVisible::Visible)).collect();
    let name_hint_region = header::find_region(&file, regions);
    let name_hint_period = header::find_period(&file);
    let mut others: Vec<workbook::OtherSheet> = Vec::new();
    for (name, hidden) in metas {
        let read = match depth {
            Depth::Full => guard::read_range(&mut workbook, &name, &limits),
            Depth::Head => guard::read_range_head(&mut workbook, &name, &limits, sheet::HEAD_ROWS).map(|r| (r, None)),
        };
        let (range, percent) = match read {
            Ok(r) => r,
            Err(why) => {
                out.findings.push(refusal_finding(&out, Some(&name), why));
                continue;
            }
        };
        // Counted on the whole sheet only (a head's count would be wrong, and is never used).
        let raw_rows = if depth == Depth::Full { tally::nonblank_rows(&range) } else { 0 };
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

/// A workbook whose bytes, when read, were not those the inbox scan hashed (the file was replaced
/// in between): refused for this run under the hash the run knows it by; the next run reads the
/// new file.
pub fn replaced_since_scan(read: IngestedFile, scanned_sha256: &str) -> IngestedFile {
    if read.sha256.is_empty() || read.sha256 == scanned_sha256 {
        return read;
    }
    let detail = format!("sha256 {} when scanned, {} when read", scanned_sha256, read.sha256);
    let out = IngestedFile {
        sha256: scanned_sha256.to_string(),
        sheets: Vec::new(),
        refusal: None,
        findings: Vec::new(),
        ..read
    };
    refuse_with(out, message::REPLACED.to_string(), detail)
}

pub(crate) fn refusal_finding(file: &IngestedFile, sheet: Option<&str>, message: String) -> Finding {
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
