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
        .filter(|p| p.file_name().is_none_or(|n| n != EXPLANATIONS_FILE))
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

/// The file of `rules/` that says what counts as an explanation in 备注 (not a rule file).
pub const EXPLANATIONS_FILE: &str = "explanations.toml";

/// What counts as an explanation of a warning in a row's 备注 (`rules/explanations.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explanations {
    /// Fewest characters (after removing spaces, punctuation and stop-list phrases) a note needs.
    pub min_chars: usize,
    /// Phrases that explain nothing ("无", "正常", …).
    #[serde(default)]
    pub stop_list: Vec<String>,
}

impl Default for Explanations {
    /// Without the file: any non-empty note explains (the rule before `explanations.toml`).
    fn default() -> Self {
        Explanations { min_chars: 1, stop_list: Vec::new() }
    }
}

/// A note's text without spaces and punctuation, lower-cased.
fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl Explanations {
    /// Whether `note` explains a warning: once spaces, punctuation and every stop-list phrase
    /// (longest first) are removed, at least `min_chars` characters remain.
    pub fn is_substantive(&self, note: &str) -> bool {
        let mut rest = normalise(note);
        let mut stops: Vec<String> = self.stop_list.iter().map(|s| normalise(s)).filter(|s| !s.is_empty()).collect();
        stops.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        for stop in &stops {
            rest = rest.replace(stop.as_str(), "");
        }
        rest.chars().count() >= self.min_chars.max(1)
    }

    /// Reads `rules/explanations.toml`; without it, [`Explanations::default`].
    pub fn load(dir: &Path) -> Result<Explanations> {
        let path = dir.join(EXPLANATIONS_FILE);
        if !path.exists() {
            return Ok(Explanations::default());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Explanations {
        Explanations::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap()
    }

    #[test]
    fn boilerplate_explains_nothing() {
        let e = project();
        for note in ["", "无", "/", "-", "正常", " 无。", "——", "N/A", "数据属实", "经核实,数据属实", "正常正常", "ok!"]
        {
            assert!(!e.is_substantive(note), "{note:?} was taken as an explanation");
        }
        for note in ["新增生产线投产,产值翻番", "7月起停产检修", "企业由兖州区迁入", "产量正常增长"]
        {
            assert!(e.is_substantive(note), "{note:?} was not taken as an explanation");
        }
    }

    #[test]
    fn the_threshold_is_data() {
        let e = Explanations { min_chars: 3, stop_list: vec!["停产".into()] };
        assert!(e.is_substantive("检修中"));
        assert!(!e.is_substantive("检修"));
        assert!(!e.is_substantive("停产停产"));
        assert!(Explanations::default().is_substantive("无"), "without the file, the old rule");
    }
}
