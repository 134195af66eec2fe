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

/// The `division` of the all-industry PPI row (SDMX's code for a total).
pub const ALL_INDUSTRY: &str = "_T";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColType {
    Text,
    Int,
    Float,
    /// A GB/T 4754 division (`06` … `46`, a dropped leading zero restored) or [`ALL_INDUSTRY`];
    /// the column may be absent (older layouts), which, like an empty cell, means `_T`.
    Division,
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
    // By GB/T 4754 division; `_T` (all industry) serves divisions without a row of their own.
    // The older two-column layout (period, index) is all `_T`.
    ("ppi", &[("period", ColType::Text), ("division", ColType::Division), ("index", ColType::Float)]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// `6` → `06`, `13` → `13`, `` or `_T` → `_T`; None for anything else.
fn division_code(v: &str) -> Option<String> {
    if v.is_empty() || v == ALL_INDUSTRY {
        return Some(ALL_INDUSTRY.to_string());
    }
    let n: u32 = v.parse().ok().filter(|_| v.len() <= 2 && v.bytes().all(|b| b.is_ascii_digit()))?;
    (6..=46).contains(&n).then(|| format!("{n:02}"))
}

fn parse_csv(path: &Path, bytes: &[u8], cols: &[(&str, ColType)]) -> Result<RecordBatch> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let headers = reader.headers().with_context(|| format!("{}: cannot read the header row", path.display()))?.clone();
    // Column positions; None for an optional column the file does not have.
    let mut index: Vec<Option<usize>> = Vec::new();
    for (name, t) in cols {
        let found = headers.iter().position(|h| h == *name);
        if found.is_none() && *t == ColType::Division {
            index.push(None);
            continue;
        }
        let Some(i) = found else {
            bail!(
                "{}: column `{name}` is missing (expected columns: {})",
                path.display(),
                cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
            );
        };
        index.push(Some(i));
    }
    enum B {
        T(StringBuilder),
        I(Int64Builder),
        F(Float64Builder),
    }
    let mut builders: Vec<B> = cols
        .iter()
        .map(|(_, t)| match t {
            ColType::Text | ColType::Division => B::T(StringBuilder::new()),
            ColType::Int => B::I(Int64Builder::new()),
            ColType::Float => B::F(Float64Builder::new()),
        })
        .collect();
    for (line, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {} is not valid CSV", path.display(), line + 2))?;
        for ((b, &i), (name, t)) in builders.iter_mut().zip(&index).zip(cols) {
            let v = i.and_then(|i| rec.get(i)).unwrap_or("");
            let division;
            let v = if *t == ColType::Division {
                division = division_code(v).with_context(|| {
                    format!(
                        "{}: line {}, column `{name}`: `{v}` is not a GB/T 4754 division (06 … 46) or {ALL_INDUSTRY}",
                        path.display(),
                        line + 2
                    )
                })?;
                division.as_str()
            } else {
                v
            };
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
                ColType::Text | ColType::Division => DataType::Utf8,
                ColType::Int => DataType::Int64,
                ColType::Float => DataType::Float64,
            };
            Field::new(*n, dt, matches!(t, ColType::Int | ColType::Float))
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

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, Float64Array};

    use super::*;

    fn ppi(csv: &str) -> Vec<(String, String, Option<f64>)> {
        let cols = FILES.iter().find(|f| f.0 == "ppi").unwrap().1;
        let b = parse_csv(Path::new("ppi.csv"), csv.as_bytes(), cols).unwrap();
        assert_eq!(b.schema().field(1).name(), "division");
        let (p, d) = (b.column(0).as_string::<i32>(), b.column(1).as_string::<i32>());
        let v = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        (0..b.num_rows())
            .map(|i| (p.value(i).to_string(), d.value(i).to_string(), (!v.is_null(i)).then(|| v.value(i))))
            .collect()
    }

    #[test]
    fn ppi_by_division_and_the_old_layout_as_all_industry() {
        let by_division = ppi("period,division,index\n2025-09,_T,98.6\n2025-09,06,88.4\n2025-09,,99\n");
        assert_eq!(
            by_division,
            vec![
                ("2025-09".into(), "_T".into(), Some(98.6)),
                ("2025-09".into(), "06".into(), Some(88.4)),
                // an empty division is the all-industry row
                ("2025-09".into(), "_T".into(), Some(99.0)),
            ]
        );
        // Columns in another order are found by name; codes stay text, a dropped zero restored.
        assert_eq!(ppi("index,period,division\n88.4,2025-09,6\n"), vec![("2025-09".into(), "06".into(), Some(88.4))]);
        // The older two-column layout: every row is `_T`.
        assert_eq!(
            ppi("period,index\n2025-08,98.5\n2025-09,98.6\n"),
            vec![("2025-08".into(), "_T".into(), Some(98.5)), ("2025-09".into(), "_T".into(), Some(98.6))]
        );
        // A required column is still required, and a division must be one.
        let cols = FILES.iter().find(|f| f.0 == "ppi").unwrap().1;
        for bad in ["C13", "47", "05", "130", "1.5"] {
            let csv = format!("period,division,index\n2025-09,{bad},98\n");
            let err = parse_csv(Path::new("ppi.csv"), csv.as_bytes(), cols).unwrap_err();
            assert!(format!("{err:#}").contains(&format!("line 2, column `division`: `{bad}`")), "{err:#}");
        }
        let err = parse_csv(Path::new("ppi.csv"), b"period,division\n2025-09,06\n", cols).unwrap_err();
        assert!(format!("{err:#}").contains("column `index` is missing"), "{err:#}");
    }
}
