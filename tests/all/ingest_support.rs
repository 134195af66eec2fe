//! Shared by the ingest corpus and property tests: the canonical JN101 data, and the clean rows
//! a workbook ingests to (as the warehouse will hold them).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use arrow::array::Array;
use arrow::util::display::array_value_to_string;
use gongbao::forms::Forms;
use gongbao::ingest::rows::{SheetRows, sheet_rows};
use gongbao::ingest::{self, IngestedFile};
use gongbao::reference::{Reference, Region};
use gongbao::sample::Jn101Row;
use rust_decimal::Decimal;

pub fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub struct Env {
    pub forms: Forms,
    pub regions: Vec<Region>,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            forms: Forms::load(&project().join("forms")).unwrap(),
            regions: Reference::load(&project().join("sample_data/reference")).unwrap().regions,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `bytes` as `name` in a fresh folder and ingests it.
    pub fn ingest(&self, name: &str, bytes: &[u8]) -> IngestedFile {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        ingest::ingest_file(&path, &self.forms, &self.regions)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The rows of every sheet of a file, as the run hands them to the audit.
    pub fn sheet_rows(&self, file: &IngestedFile) -> Vec<SheetRows> {
        file.sheets.iter().map(|s| sheet_rows(self.forms.get(&s.read.form).unwrap(), file, s)).collect()
    }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn row(code: &str, name: &str, ind: &str, a: [&str; 10], employees: i64, note: &str) -> Jn101Row {
    Jn101Row {
        credit_code: code.into(),
        name: name.into(),
        industry_code: ind.into(),
        output_ytd: d(a[0]),
        output_prev: d(a[1]),
        va_ytd: d(a[2]),
        va_prev: d(a[3]),
        revenue_ytd: d(a[4]),
        revenue_prev: d(a[5]),
        profit_ytd: d(a[6]),
        profit_prev: d(a[7]),
        export_ytd: d(a[8]),
        export_prev: d(a[9]),
        employees,
        note: note.into(),
        excel_row: 0,
        expected_error: None,
    }
}

/// The canonical JN101 rows of 邹城市 (370883), 2025-09, in 万元. The same rows are in
/// scripts/make_ingest_fixtures.py (the .xls and .ods fixtures).
pub fn canonical() -> Vec<Jn101Row> {
    vec![
        row(
            "91370883MA3C00001X",
            "邹城市示例机械有限公司",
            "0610",
            ["15000", "13000", "4000", "3500", "12000", "10000", "-500", "200", "0", "0"],
            320,
            "",
        ),
        row(
            "91370883MA3C00002Y",
            "邹城市示例化工有限公司",
            "2614",
            ["200000.5", "180000", "50000", "45000.3", "123456.7", "100000", "10000", "9000", "1234.5", "1000"],
            880,
            "新投产",
        ),
        row(
            "91370883MA3C00003W",
            "邹城市示例电力有限公司",
            "4411",
            ["6000", "5000", "1500", "1200", "5800", "4900", "100", "90", "0", "0"],
            60,
            "",
        ),
        row(
            "91370883MA3C00004U",
            "邹城市示例纺织有限公司",
            "1713",
            ["8888.8", "7777.7", "2222.2", "1999.9", "9000.1", "8000", "0", "-12.3", "300", "250"],
            150,
            "",
        ),
    ]
}

/// How an amount is stored: Decimal128(24, 6) in 万元.
fn amount(d: Decimal) -> String {
    let mut d = d;
    d.rescale(6);
    d.to_string()
}

/// The clean rows `rows` must ingest to: the form's columns in order, as displayed by Arrow
/// (amounts with 6 decimals in 万元, "∅" for null), then division and section.
pub fn expected(rows: &[Jn101Row]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let mut v = vec![r.credit_code.clone(), r.name.clone(), r.industry_code.clone()];
            for a in r.amounts() {
                v.push(amount(a));
            }
            v.push(r.employees.to_string());
            v.push(if r.note.is_empty() { "∅".into() } else { r.note.clone() });
            v.push(r.industry_code[..2].to_string());
            let div: u32 = r.industry_code[..2].parse().unwrap();
            v.push(
                match div {
                    6..=12 => "B",
                    13..=43 => "C",
                    _ => "D",
                }
                .to_string(),
            );
            v
        })
        .collect()
}

/// The clean rows of one sheet: every column after `region_code` up to (not including) the
/// provenance columns (for JN101: `credit_code` … `section`).
pub fn clean(rows: &SheetRows) -> Vec<Vec<String>> {
    let b = &rows.rows;
    let schema = b.schema();
    let first = schema.index_of("region_code").unwrap() + 1;
    let last = schema.index_of("_source_file").unwrap();
    (0..b.num_rows())
        .map(|i| {
            (first..last)
                .map(|c| {
                    let col = b.column(c);
                    if col.is_null(i) { "∅".to_string() } else { array_value_to_string(col, i).unwrap() }
                })
                .collect()
        })
        .collect()
}

/// A column of the rows as strings.
pub fn column(rows: &SheetRows, name: &str) -> Vec<String> {
    let b = &rows.rows;
    let col = b.column_by_name(name).unwrap();
    (0..b.num_rows()).map(|i| array_value_to_string(col, i).unwrap()).collect()
}
