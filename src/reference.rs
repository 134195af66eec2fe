//! Reference data the city keeps (regions, chains, chain members, targets, PPI), read from CSV
//! with declared column types: codes stay text, never numbers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

/// The city's own region code (全市).
pub const CITY_CODE: &str = "370800";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Text,
    Int,
    Float,
}

/// The reference files and their columns (FORMS.md, "Reference data the city keeps").
const FILES: &[(&str, &[(&str, ColType)])] = &[
    ("regions", &[("code", ColType::Text), ("name", ColType::Text), ("short_name", ColType::Text)]),
    ("chains", &[("chain_id", ColType::Text), ("name", ColType::Text), ("cluster", ColType::Text)]),
    (
        "chain_members",
        &[("credit_code", ColType::Text), ("chain_id", ColType::Text), ("is_chain_master", ColType::Int)],
    ),
    (
        "targets",
        &[
            ("indicator", ColType::Text),
            ("base_year", ColType::Int),
            ("base_value", ColType::Float),
            ("target_year", ColType::Int),
            ("target_value", ColType::Float),
            ("unit", ColType::Text),
        ],
    ),
    ("ppi", &[("period", ColType::Text), ("index", ColType::Float)]),
];

#[derive(Debug, Clone)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub short_name: String,
}

/// All reference tables, as Arrow batches (for SQL) plus the regions as plain structs (for ingest).
#[derive(Debug, Clone)]
pub struct Reference {
    pub tables: BTreeMap<String, RecordBatch>,
    pub regions: Vec<Region>,
    /// SHA-256 of every reference file, for lineage and change detection.
    pub hashes: BTreeMap<String, String>,
}

impl Reference {
    pub fn load(dir: &Path) -> Result<Self> {
        let mut tables = BTreeMap::new();
        let mut hashes = BTreeMap::new();
        for (name, cols) in FILES {
            let path = dir.join(format!("{name}.csv"));
            let bytes = std::fs::read(&path)
                .with_context(|| format!("reference file {} is missing or unreadable", path.display()))?;
            hashes.insert(name.to_string(), crate::util::sha256_hex(&bytes));
            let batch = parse_csv(&path, &bytes, cols)?;
            tables.insert(name.to_string(), batch);
        }
        let regions = read_regions(&tables["regions"]);
        if regions.is_empty() {
            bail!("{}: no regions", dir.join("regions.csv").display());
        }
        Ok(Reference { tables, regions, hashes })
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }
}

fn read_regions(batch: &RecordBatch) -> Vec<Region> {
    use arrow::array::AsArray;
    let code = batch.column(0).as_string::<i32>();
    let name = batch.column(1).as_string::<i32>();
    let short = batch.column(2).as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| Region {
            code: code.value(i).to_string(),
            name: name.value(i).to_string(),
            short_name: short.value(i).to_string(),
        })
        .collect()
}

fn parse_csv(path: &Path, bytes: &[u8], cols: &[(&str, ColType)]) -> Result<RecordBatch> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let headers = reader.headers().with_context(|| format!("{}: cannot read the header row", path.display()))?.clone();
    let mut index = Vec::new();
    for (name, _) in cols {
        let Some(i) = headers.iter().position(|h| h == *name) else {
            bail!(
                "{}: column `{name}` is missing (expected columns: {})",
                path.display(),
                cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
            );
        };
        index.push(i);
    }
    enum B {
        T(StringBuilder),
        I(Int64Builder),
        F(Float64Builder),
    }
    let mut builders: Vec<B> = cols
        .iter()
        .map(|(_, t)| match t {
            ColType::Text => B::T(StringBuilder::new()),
            ColType::Int => B::I(Int64Builder::new()),
            ColType::Float => B::F(Float64Builder::new()),
        })
        .collect();
    for (line, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {} is not valid CSV", path.display(), line + 2))?;
        for ((b, &i), (name, _)) in builders.iter_mut().zip(&index).zip(cols) {
            let v = rec.get(i).unwrap_or("");
            let bad = || format!("{}: line {}, column `{name}`: `{v}` is not a number", path.display(), line + 2);
            match b {
                B::T(b) => b.append_value(v),
                B::I(b) if v.is_empty() => b.append_null(),
                B::I(b) => b.append_value(v.parse().with_context(bad)?),
                B::F(b) if v.is_empty() => b.append_null(),
                B::F(b) => b.append_value(v.parse().with_context(bad)?),
            }
        }
    }
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, t)| {
            let dt = match t {
                ColType::Text => DataType::Utf8,
                ColType::Int => DataType::Int64,
                ColType::Float => DataType::Float64,
            };
            Field::new(*n, dt, *t != ColType::Text)
        })
        .collect();
    let arrays: Vec<ArrayRef> = builders
        .into_iter()
        .map(|b| -> ArrayRef {
            match b {
                B::T(mut b) => Arc::new(b.finish()),
                B::I(mut b) => Arc::new(b.finish()),
                B::F(mut b) => Arc::new(b.finish()),
            }
        })
        .collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
