//! Form definitions: the machine-readable copy of the county return forms (`forms/*.toml`).
//!
//! Forms change from year to year, so they are data loaded at run time, never compiled in.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// How a form's rows are laid out on the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// One row per reporting entity (enterprise, project).
    Records,
    /// Fixed indicator rows identified by their label (JN102, JN103).
    Items,
}

/// The declared type of a column: ingestion never infers a type from the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text, trimmed.
    Text,
    /// An identifier: trimmed, inner spaces removed, upper-cased (credit codes).
    Code,
    /// GB/T 4754 class: 4 digits, restored when stored as a number (610 -> 0610).
    IndustryCode,
    /// Money, converted to 万元 exactly (Decimal128(24, 6)).
    Amount,
    /// A whole number.
    Count,
    /// A percentage in percent points (8.3 means 8.3%).
    Percent,
    /// A month, stored as `YYYY-MM`.
    Month,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub field: String,
    pub header: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Which year's figure the column holds (本年累计 / 上年同期), for measures reported twice.
    /// The header grammar (`header_grammar.toml`) says which header words mean which.
    #[serde(default)]
    pub time: Option<Time>,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    /// An empty cell means 0 rather than "missing".
    #[serde(default)]
    pub blank_is_zero: bool,
    #[serde(default)]
    pub description: String,
}

/// The year a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Time {
    /// This year (本年累计).
    Current,
    /// The same months of last year (上年同期).
    Prior,
}

impl Time {
    /// The word the forms use.
    pub fn word(self) -> &'static str {
        match self {
            Time::Current => "本年累计",
            Time::Prior => "上年同期",
        }
    }
}

/// A fixed row of an items-layout form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub unit: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDef {
    pub code: String,
    pub name: String,
    /// Warehouse table name.
    pub table: String,
    pub layout: Layout,
    #[serde(default)]
    pub sheet_names: Vec<String>,
    #[serde(default)]
    pub title_keywords: Vec<String>,
    /// Column whose cell says 合计 on the total row.
    pub label_field: String,
    /// Rule id reported for a missing required value or a cell that is not a valid value.
    pub invalid_value_rule: String,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub items: Vec<Item>,
    /// The Arrow row schema, built once (`ingest::rows::form_schema`).
    #[serde(skip)]
    pub(crate) schema: std::sync::OnceLock<arrow::datatypes::SchemaRef>,
    /// The spellings of its measures, built once (`FormDef::lexicon`).
    #[serde(skip)]
    lexicon: std::sync::OnceLock<crate::ingest::grammar::Lexicon>,
}

impl Column {
    /// The column as a person names it: `工业总产值(本年累计)`, or the header alone.
    pub fn display_name(&self) -> String {
        match self.time {
            Some(t) => format!("{}({})", self.header, t.word()),
            None => self.header.clone(),
        }
    }
}

impl FormDef {
    /// The spellings of the form's measures that header cells are read with, built once.
    pub fn lexicon(&self) -> &crate::ingest::grammar::Lexicon {
        self.lexicon.get_or_init(|| crate::ingest::grammar::Lexicon::new(self))
    }

    pub fn column(&self, field: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// Every spelling a column's top header may take.
    pub fn header_names(col: &Column) -> impl Iterator<Item = &str> {
        std::iter::once(col.header.as_str()).chain(col.aliases.iter().map(String::as_str))
    }

    fn validate(&self) -> Result<()> {
        if self.columns.is_empty() {
            bail!("form {} declares no columns", self.code);
        }
        if self.column(&self.label_field).is_none() {
            bail!("form {}: label_field `{}` is not a column", self.code, self.label_field);
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            if !seen.insert(&c.field) {
                bail!("form {}: column `{}` declared twice", self.code, c.field);
            }
        }
        if self.layout == Layout::Items && self.items.is_empty() {
            bail!("form {} has layout = \"items\" but no [[items]]", self.code);
        }
        Ok(())
    }
}

/// All forms of the reporting system, in form-code order.
#[derive(Debug, Clone)]
pub struct Forms {
    pub forms: Vec<FormDef>,
    /// How column headers are read (`header_grammar.toml` in the same folder).
    pub grammar: crate::ingest::grammar::Grammar,
}

impl Forms {
    /// Loads every `*.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut forms = Vec::new();
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the form definitions folder {}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .filter(|p| p.file_name().is_none_or(|n| n != crate::ingest::grammar::FILE))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let form: FormDef =
                toml::from_str(&text).with_context(|| format!("form definition {} is not valid", path.display()))?;
            form.validate().with_context(|| format!("form definition {}", path.display()))?;
            forms.push(form);
        }
        if forms.is_empty() {
            bail!("no form definitions (*.toml) in {}", dir.display());
        }
        forms.sort_by(|a, b| a.code.cmp(&b.code));
        let grammar = crate::ingest::grammar::Grammar::load(dir)?;
        Ok(Forms { forms, grammar })
    }

    pub fn get(&self, code: &str) -> Option<&FormDef> {
        self.forms.iter().find(|f| f.code.eq_ignore_ascii_case(code))
    }
}
