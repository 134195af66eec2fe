//! Inboxes laid out by sender: `inbox/<region code>/…`, one folder per county account, so that
//! gongbao knows who sent each file (the upload account), not only what the file says.
//!
//! There a sheet must be the sender's own: a sheet whose 填报单位 (or, without one, file name)
//! names another county is refused (`INGEST-E06`, 强制性), never taken as that county's return;
//! a sheet naming no county is the sender's. The refusal is the sender's to hear of. Files put
//! directly in the inbox (a flat inbox) are read as before: the sheet's 填报单位, else the file
//! name, gives the county.

use std::path::Path;

use super::{IngestedFile, rule};
use crate::findings::{Finding, Location, Severity};
use crate::reference::Region;

/// Whether a folder of the inbox is a county account's: named by a region code (6 digits).
pub fn is_account_folder(name: &str) -> bool {
    name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit())
}

/// Who sent a file of `inbox`: the account folder it lies in, if any; and the name the file is
/// known by (`370811/任城区_2025年1-9月.xlsx`, or the bare file name in a flat inbox).
pub fn sender_and_name(inbox: &Path, path: &Path) -> (Option<String>, String) {
    let file = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let folder = path
        .strip_prefix(inbox)
        .ok()
        .filter(|rel| rel.components().count() == 2)
        .and_then(|rel| rel.parent())
        .map(|p| p.to_string_lossy().to_string())
        .filter(|f| is_account_folder(f));
    match folder {
        Some(code) => (Some(code.clone()), format!("{code}/{file}")),
        None => (None, file),
    }
}

/// The sheet's county and the sender's disagree (Chinese, for the sender's feedback).
pub fn wrong_sender_message(claimed: &str, sender: &str) -> String {
    format!(
        "本表填报单位为{claimed},但由{sender}的报送账户报送;各县市区只能报送本县(市、区)的报表,本表不予采用。如确属{claimed}的报表,请由{claimed}自行报送"
    )
}

/// Applies the sender to a read workbook: it is known by `name`, every sheet is the sender's
/// or refused, and every finding without a county is the sender's.
pub fn apply(mut read: IngestedFile, name: &str, sender: &str, regions: &[Region]) -> IngestedFile {
    let region_name = |code: &str| regions.iter().find(|r| r.code == code).map(|r| r.name.clone());
    let old_name = std::mem::replace(&mut read.file, name.to_string());
    for f in &mut read.findings {
        if f.location.file == old_name {
            f.location.file = name.to_string();
        }
    }
    let Some(sender_name) = region_name(sender) else {
        // An account folder that is no county of the reference data: nobody's return.
        let why = format!("报送账户(文件夹{sender})不是已知的县市区代码,文件不予采用");
        read.sheets.clear();
        read.refusal = Some(why.clone());
        read.findings = vec![super::refusal_finding(&read, None, why)];
        return read;
    };
    let mut findings: Vec<Finding> = Vec::new();
    for sheet in &mut read.sheets {
        let sheet_name = sheet.read.sheet.clone();
        match sheet.region_code.clone() {
            // No county in the sheet or the file name: the account says whose it is.
            None => {
                sheet.region_code = Some(sender.to_string());
                if sheet
                    .refusal
                    .as_ref()
                    .is_some_and(|(id, m)| id == rule::NO_REGION_OR_PERIOD && m.contains("填报单位"))
                {
                    sheet.refusal = None;
                    read.findings.retain(|f| {
                        !(f.rule_id == rule::NO_REGION_OR_PERIOD && f.location.sheet.as_deref() == Some(&sheet_name))
                    });
                    if sheet.period.is_none() {
                        let why = "无法确定报告期:表头和文件名均未写明年月(如\"2025年1—9月\")".to_string();
                        sheet.refusal = Some((rule::NO_REGION_OR_PERIOD.to_string(), why.clone()));
                        findings.push(sheet_refusal(
                            &read.file,
                            &read.sha256,
                            &sheet_name,
                            rule::NO_REGION_OR_PERIOD,
                            why,
                        ));
                    }
                }
            }
            Some(code) if code == sender => {}
            Some(code) => {
                let claimed = region_name(&code).unwrap_or(code);
                let why = wrong_sender_message(&claimed, &sender_name);
                // Refused as a whole sheet, and nobody's rows: it must not stand in for the
                // claimed county's return, nor supersede the sender's own.
                sheet.region_code = None;
                sheet.refusal = Some((rule::WRONG_SENDER.to_string(), why.clone()));
                let mut f = sheet_refusal(&read.file, &read.sha256, &sheet_name, rule::WRONG_SENDER, why);
                f.form = Some(sheet.read.form.clone());
                f.observed = format!("sheet={claimed}; sender={sender_name}");
                findings.push(f);
            }
        }
    }
    read.findings.extend(findings);
    for f in &mut read.findings {
        if f.region_code.is_none() {
            f.region_code = Some(sender.to_string());
        }
    }
    read
}

/// The finding of a refused sheet.
fn sheet_refusal(file: &str, sha256: &str, sheet: &str, rule_id: &str, message: String) -> Finding {
    Finding {
        period: None,
        region_code: None,
        form: None,
        location: Location {
            file: file.to_string(),
            sha256: sha256.to_string(),
            sheet: Some(sheet.to_string()),
            row: None,
            cell: None,
        },
        row_key: None,
        rule_id: rule_id.to_string(),
        severity: Severity::Error,
        observed: String::new(),
        message,
        explained: false,
    }
}

/// Reads a workbook of the inbox as the run does: [`super::ingest_file`], then, in a sender's
/// folder, [`apply`].
#[cfg(feature = "pipeline")]
pub fn read(f: &crate::incremental::InboxFile, forms: &crate::forms::Forms, regions: &[Region]) -> IngestedFile {
    as_sent(f, super::ingest_file(&f.path, forms, regions), regions)
}

/// [`read`] through [`super::peek_file`]: the heads of the sheets only, for the periods.
#[cfg(feature = "pipeline")]
pub fn peek(f: &crate::incremental::InboxFile, forms: &crate::forms::Forms, regions: &[Region]) -> IngestedFile {
    as_sent(f, super::peek_file(&f.path, forms, regions), regions)
}

#[cfg(feature = "pipeline")]
fn as_sent(f: &crate::incremental::InboxFile, read: IngestedFile, regions: &[Region]) -> IngestedFile {
    // Replaced since the inbox was hashed: never published under the other hash.
    let read = super::replaced_since_scan(read, &f.sha256);
    match &f.sender {
        Some(sender) => apply(read, &f.name, sender, regions),
        None => read,
    }
}
