//! A model's header (description, grain, columns) and the check of its output against it.

use anyhow::{Result, bail};
use arrow::datatypes::{DataType, Schema};

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    /// As written: TEXT, BIGINT, DOUBLE, DECIMAL(p,s), BOOLEAN.
    pub sql_type: String,
    pub description: String,
}

/// Where a model's output goes: every model is written to the internal `warehouse/`; a public
/// one (`-- publish: public`) also to `public/`, after disclosure control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Publish {
    #[default]
    Internal,
    Public,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelHeader {
    pub description: String,
    pub grain: String,
    pub columns: Vec<ColumnSpec>,
    /// `-- publish: public|internal` (internal when absent).
    pub publish: Publish,
    /// `-- top: N`: a ranking keeps its first N published rows (cut after disclosure control).
    pub top: Option<usize>,
}

/// Whether a column name is enterprise-level (a credit code, an enterprise's name, a sum of the
/// top n enterprises, a pointer to a return row): such a column may never leave the office.
pub fn is_enterprise_column(name: &str) -> bool {
    let n = name.to_lowercase();
    let top_n = n
        .strip_prefix("top")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit() || c == '_' || c == 'n'));
    n.contains("credit_code")
        || top_n
        || n.starts_with("_source")
        || n == "_row_key"
        || ["enterprise_name", "company_name", "legal_name", "enterprise", "firm_name"].contains(&n.as_str())
}

impl ModelHeader {
    /// Reads the leading `-- key: value` comment lines:
    /// `-- description: …`, `-- grain: …`, `-- publish: public`, `-- top: N`,
    /// `-- column <name> <TYPE>: <meaning>`.
    pub fn parse(sql: &str) -> Result<Self> {
        let mut h = ModelHeader::default();
        for line in sql.lines() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let Some(c) = t.strip_prefix("--") else { break };
            let c = c.trim();
            if let Some(v) = c.strip_prefix("description:") {
                h.description = v.trim().to_string();
            } else if let Some(v) = c.strip_prefix("grain:") {
                h.grain = v.trim().to_string();
            } else if let Some(v) = c.strip_prefix("publish:") {
                h.publish = match v.trim() {
                    "public" => Publish::Public,
                    "internal" => Publish::Internal,
                    other => bail!("`-- publish: {other}` must be `public` or `internal`"),
                };
            } else if let Some(v) = c.strip_prefix("top:") {
                match v.trim().parse::<usize>() {
                    Ok(n) if n > 0 => h.top = Some(n),
                    _ => bail!("`-- top: {}` must be a whole number of rows, at least 1", v.trim()),
                }
            } else if let Some(v) = c.strip_prefix("column ") {
                let Some((spec, meaning)) = v.split_once(':') else {
                    bail!("`-- column {v}` needs `: meaning` after the type");
                };
                let mut parts = spec.split_whitespace();
                let (Some(name), Some(ty)) = (parts.next(), parts.next()) else {
                    bail!("`-- column {v}` must be `-- column <name> <TYPE>: <meaning>`");
                };
                let ty = std::iter::once(ty).chain(parts).collect::<Vec<_>>().join("").to_uppercase();
                h.columns.push(ColumnSpec {
                    name: name.to_string(),
                    sql_type: ty,
                    description: meaning.trim().to_string(),
                });
            }
        }
        Ok(h)
    }

    /// Compares DataFusion's output schema with the declared columns (when any are declared).
    pub fn check(&self, schema: &Schema) -> Result<()> {
        if self.columns.is_empty() {
            return Ok(());
        }
        let got: Vec<String> = schema.fields().iter().map(|f| format!("{} {}", f.name(), f.data_type())).collect();
        let mut problems = Vec::new();
        for spec in &self.columns {
            match schema.field_with_name(&spec.name) {
                Err(_) => problems.push(format!("declared column `{}` is missing", spec.name)),
                Ok(f) if !type_matches(&spec.sql_type, f.data_type()) => problems.push(format!(
                    "column `{}` is declared {} but the query gives {}",
                    spec.name,
                    spec.sql_type,
                    f.data_type()
                )),
                Ok(_) => {}
            }
        }
        for f in schema.fields() {
            if !self.columns.iter().any(|c| &c.name == f.name()) {
                problems.push(format!("column `{}` is not declared in the header", f.name()));
            }
        }
        if !problems.is_empty() {
            bail!(
                "output does not match the declared columns: {} (query gives: {})",
                problems.join("; "),
                got.join(", ")
            );
        }
        Ok(())
    }
}

fn type_matches(sql_type: &str, dt: &DataType) -> bool {
    match sql_type {
        "TEXT" | "VARCHAR" | "STRING" => matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
        "BIGINT" | "INT" | "INTEGER" => matches!(dt, DataType::Int64 | DataType::Int32),
        "DOUBLE" | "FLOAT" => matches!(dt, DataType::Float64 | DataType::Float32),
        "BOOLEAN" | "BOOL" => matches!(dt, DataType::Boolean),
        t if t.starts_with("DECIMAL") => {
            let DataType::Decimal128(p, s) = dt else { return false };
            match t.strip_prefix("DECIMAL(").and_then(|r| r.strip_suffix(')')).and_then(|r| r.split_once(',')) {
                Some((ps, ss)) => ps.trim().parse() == Ok(*p) && ss.trim().parse() == Ok(*s),
                None => true,
            }
        }
        _ => false,
    }
}
