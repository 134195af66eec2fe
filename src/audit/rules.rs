//! Audit rules as data: `rules/*.toml`, read at run time.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::findings::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A SQL boolean expression over one row: true = the row breaks the rule.
    #[default]
    Row,
    /// A SQL query returning the offending rows' `_row_key`.
    Query,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    #[serde(default)]
    pub kind: RuleKind,
    /// Cells the finding points at; the first is highlighted unless `cell` says otherwise.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Row rules: a SQL expression giving the name of the field whose cell is highlighted, when
    /// it depends on the row (e.g. which of several amounts is negative). Query rules return it
    /// as a `_field` column instead. Default (or NULL): the first of `fields`.
    #[serde(default)]
    pub cell: Option<String>,
    /// Row rules: the violation condition.
    #[serde(default)]
    pub when: Option<String>,
    /// Query rules: the query.
    #[serde(default)]
    pub sql: Option<String>,
    /// Extra values for the message: name → SQL expression (row rules).
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, String>,
    /// Chinese message; `{name}` is replaced by that column's value.
    pub message: String,
    /// Where the rule was defined, for error messages.
    #[serde(skip)]
    pub source: String,
}

impl Rule {
    /// The `{placeholders}` of the message, in order of first appearance.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = self.message.as_str();
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else { break };
            let name = &after[..end];
            if !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !out.iter().any(|n| n == name)
            {
                out.push(name.to_string());
            }
            rest = &after[end + 1..];
        }
        out
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub form: String,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// Every rule file of `dir`, in file-name order.
pub fn load(dir: &Path) -> Result<Vec<RuleFile>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the audit rules folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut file: RuleFile =
            toml::from_str(&text).with_context(|| format!("audit rule file {} is not valid", path.display()))?;
        for rule in &mut file.rules {
            rule.source = path.display().to_string();
            match rule.kind {
                RuleKind::Row if rule.when.is_none() => {
                    bail!("{}: rule {} is a row rule but has no `when`", rule.source, rule.id)
                }
                RuleKind::Query if rule.sql.is_none() => {
                    bail!("{}: rule {} is a query rule but has no `sql`", rule.source, rule.id)
                }
                RuleKind::Query if rule.cell.is_some() => {
                    bail!(
                        "{}: rule {} is a query rule: return a `_field` column instead of `cell`",
                        rule.source,
                        rule.id
                    )
                }
                _ => {}
            }
            if !ids.insert(rule.id.clone()) {
                bail!("{}: rule id {} is used twice", rule.source, rule.id);
            }
        }
        files.push(file);
    }
    Ok(files)
}
