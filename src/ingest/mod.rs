//! Ingest: county workbooks → typed Arrow rows with provenance to the cell.
//!
//! Each workbook is read on its own (in parallel across workbooks, memory bounded by one
//! workbook); a file that cannot be read is refused on its own and the run goes on.

pub mod header;
pub mod rows;
pub mod sheet;
pub mod values;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use calamine::{Reader, SheetVisible, open_workbook_auto_from_rs};

use crate::findings::{Finding, Location, Severity};
use crate::forms::Forms;
use crate::period::Period;
use crate::reference::Region;
pub use sheet::{Record, SheetRead};

/// Largest workbook accepted, in bytes: a county return is a few hundred kB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest sheet accepted, in cells (a guard against zip bombs and runaway used ranges).
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// Extensions read as spreadsheets.
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods"];

/// Ingest-level rule ids (file and sheet problems, before any form rule).
pub mod rule {
    pub const UNREADABLE: &str = "INGEST-E01";
    pub const SHEET_LAYOUT: &str = "INGEST-E02";
    pub const NO_REGION_OR_PERIOD: &str = "INGEST-E03";
    pub const JANUARY_ONLY: &str = "INGEST-E04";
    pub const UNKNOWN_ITEM: &str = "INGEST-E05";
    pub const SHEET_FILE_DISAGREE: &str = "INGEST-W01";
    pub const SUPERSEDED: &str = "INGEST-W02";
}

#[derive(Debug, Clone)]
pub struct IngestedSheet {
    pub read: SheetRead,
    pub region_code: Option<String>,
    pub period: Option<Period>,
    /// Why every row of this sheet is quarantined: (rule id, message).
    pub refusal: Option<(&'static str, String)>,
}

#[derive(Debug, Clone)]
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
}

impl IngestedFile {
    fn location(&self, sheet: Option<&str>) -> Location {
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

/// Explains a calamine error in words a county bureau understands.
fn explain_open_error(bytes: &[u8], ext: &str, err: &calamine::Error) -> String {
    let is_cfb = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    let is_zip = bytes.starts_with(b"PK");
    if bytes.is_empty() {
        "文件为空(0 字节)".to_string()
    } else if is_cfb && matches!(ext, "xlsx" | "xlsm") {
        "文件已加密(设置了打开密码),请取消密码后重新报送".to_string()
    } else if !is_cfb && !is_zip {
        "不是 Excel 或 ODS 电子表格文件,请用 Excel 另存为 .xlsx 后重新报送".to_string()
    } else {
        let detail = err.to_string();
        if detail.to_lowercase().contains("password") || detail.contains("encrypt") {
            "文件已加密(设置了打开密码),请取消密码后重新报送".to_string()
        } else {
            format!("文件已损坏或不完整,无法打开({detail})")
        }
    }
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
    let mut workbook = match open_workbook_auto_from_rs(std::io::Cursor::new(&bytes[..])) {
        Ok(wb) => wb,
        Err(e) => {
            let why = explain_open_error(&bytes, &ext, &e);
            return refuse(out, why);
        }
    };
    let metas: Vec<(String, bool)> =
        workbook.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible != SheetVisible::Visible)).collect();
    let name_hint_region = header::find_region(&file, regions);
    let name_hint_period = header::find_period(&file);
    for (name, hidden) in metas {
        let range = match workbook.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                let why = format!("工作表\"{name}\"无法读取: {e}");
                out.findings.push(refusal_finding(&out, Some(&name), why));
                continue;
            }
        };
        let (h, w) = range.get_size();
        if (h as u64) * (w as u64) > MAX_SHEET_CELLS {
            let why = format!("工作表\"{name}\"过大({h} 行 × {w} 列),已拒收");
            out.findings.push(refusal_finding(&out, Some(&name), why));
            continue;
        }
        let Some(read) = sheet::read_sheet(&range, &name, hidden, forms, regions) else {
            tracing::debug!(file = %file, sheet = %name, "sheet holds no known form; ignored");
            continue;
        };
        // County and period: the sheet wins over the file name, with a warning when they differ.
        let region_code = read.block.region_code.clone().or_else(|| name_hint_region.clone());
        let mention = read.block.period.or(name_hint_period);
        let refusal = read.refusal.clone().map(|m| (rule::SHEET_LAYOUT, m));
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
            sheet_out.refusal =
                Some((rule::JANUARY_ONLY, "1月数据不单独报送:每年首次报送为1—2月累计数,请按1—2月报送".to_string()));
        } else if sheet_out.refusal.is_none() {
            if sheet_out.region_code.is_none() {
                sheet_out.refusal = Some((
                    rule::NO_REGION_OR_PERIOD,
                    "无法确定填报单位:表头\"填报单位\"和文件名均未写明县市区".to_string(),
                ));
            } else if sheet_out.period.is_none() {
                sheet_out.refusal = Some((
                    rule::NO_REGION_OR_PERIOD,
                    "无法确定报告期:表头和文件名均未写明年月(如\"2025年1—9月\")".to_string(),
                ));
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
    if out.sheets.is_empty() && out.findings.iter().all(|f| f.severity != Severity::Error) {
        return refuse(out, "文件中没有可识别的报表(表号 JN101—JN104)".to_string());
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

fn refuse(mut out: IngestedFile, why: String) -> IngestedFile {
    out.findings.push(refusal_finding(&out, None, why.clone()));
    out.refusal = Some(why);
    out
}
