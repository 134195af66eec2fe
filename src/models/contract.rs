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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelHeader {
    pub description: String,
    pub grain: String,
    pub columns: Vec<ColumnSpec>,
}

impl ModelHeader {
    /// Reads the leading `-- key: value` comment lines:
    /// `-- description: …`, `-- grain: …`, `-- column <name> <TYPE>: <meaning>`.
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
