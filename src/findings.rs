//! Findings: what ingest and audit say about the returns, in Chinese for the county bureaus.

use std::fmt;

use serde::{Deserialize, Serialize};

/// 强制性 (error: the row or sheet is quarantined) or 核实性 (warning: the row is used and the
/// county must confirm or explain it); 提示 (info: what ingest did with a row that is not data,
/// a 合计 or note row, recorded in the findings table and not sent to the county).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
    pub fn chinese(&self) -> &'static str {
        match self {
            Severity::Error => "强制性",
            Severity::Warning => "核实性",
            Severity::Info => "提示",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding points: a file, and where known a sheet, a row and a cell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub sha256: String,
    pub sheet: Option<String>,
    /// 1-based Excel row.
    pub row: Option<u32>,
    /// `H17`.
    pub cell: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub period: Option<String>,
    pub region_code: Option<String>,
    pub form: Option<String>,
    pub location: Location,
    /// The row this finding is about (joins to the row tables and quarantine).
    pub row_key: Option<String>,
    pub rule_id: String,
    pub severity: Severity,
    /// The values the rule looked at, as `field=value; …`.
    pub observed: String,
    pub message: String,
    /// A warning the county explained in the row's 备注.
    pub explained: bool,
}

impl Finding {
    /// A one-line rendering for logs and terminals: `任城区.xlsx 表1!H17 [JN101-E05 强制性] …`.
    pub fn one_line(&self) -> String {
        let mut place = self.location.file.clone();
        if let Some(sheet) = &self.location.sheet {
            place.push(' ');
            place.push_str(sheet);
            match (&self.location.cell, self.location.row) {
                (Some(c), _) => {
                    place.push('!');
                    place.push_str(c);
                }
                (None, Some(r)) => place.push_str(&format!(" 第{r}行")),
                _ => {}
            }
        }
        format!("{place} [{} {}] {}", self.rule_id, self.severity.chinese(), self.message)
    }
}
