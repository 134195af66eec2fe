//! Sheet records → Arrow batches with provenance; unreadable cells → findings.

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use rust_decimal::Decimal;

use super::values::{AMOUNT_SCALE, Value};
use super::{IngestedFile, IngestedSheet, Record, rule};
use crate::findings::{Finding, Location, Severity};
use crate::forms::{FieldType, FormDef, Layout};
use crate::period::Period;

/// Amounts: 万元 with 6 decimals, up to 10^18 万元.
pub const AMOUNT_TYPE: DataType = DataType::Decimal128(24, AMOUNT_SCALE as i8);

/// Provenance columns carried by every row, to the warehouse and beyond.
pub const PROVENANCE: &[&str] = &["_source_file", "_source_sha256", "_source_sheet", "_source_row", "_row_key"];

fn arrow_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::Text | FieldType::Code | FieldType::IndustryCode | FieldType::Month => DataType::Utf8,
        FieldType::Amount => AMOUNT_TYPE,
        FieldType::Count => DataType::Int64,
        FieldType::Percent => DataType::Float64,
    }
}

/// The row schema of a form: `period`, `region_code`, `item` (forms laid out by item), the form's columns, derived
/// classification columns, provenance.
pub fn form_schema(form: &FormDef) -> SchemaRef {
    form.schema.get_or_init(|| build_schema(form)).clone()
}

fn build_schema(form: &FormDef) -> SchemaRef {
    let mut fields =
        vec![Field::new("period", DataType::Utf8, false), Field::new("region_code", DataType::Utf8, false)];
    if form.layout == Layout::Items {
        fields.push(Field::new("item", DataType::Utf8, true));
    }
    for c in &form.columns {
        let mut f = Field::new(&c.field, arrow_type(c.ty), true);
        if !c.description.is_empty() {
            f = f.with_metadata([("description".to_string(), c.description.clone())].into());
        }
        fields.push(f);
    }
    if form.columns.iter().any(|c| c.ty == FieldType::IndustryCode) {
        fields.push(Field::new("division", DataType::Utf8, true));
        fields.push(Field::new("section", DataType::Utf8, true));
    }
    fields.push(Field::new("_source_file", DataType::Utf8, false));
    fields.push(Field::new("_source_sha256", DataType::Utf8, false));
    fields.push(Field::new("_source_sheet", DataType::Utf8, false));
    fields.push(Field::new("_source_row", DataType::Int64, false));
    fields.push(Field::new("_row_key", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// GB/T 4754-2017 section of a division (fixed by the standard, so it ships with the code).
pub fn section_of(division: u32) -> Option<&'static str> {
    match division {
        6..=12 => Some("B"),
        13..=43 => Some("C"),
        44..=46 => Some("D"),
        _ => None,
    }
}

/// The rows of one sheet, ready for audit: `R` holds its data rows, an Arrow batch as ingest
/// makes it, or where they were staged (`crate::store::staged`: held in memory within a budget,
/// in a file past it) so that a period's rows are never all in memory.
#[derive(Debug, Clone)]
pub struct SheetRows<R = RecordBatch> {
    pub form: String,
    pub period: Option<Period>,
    pub region_code: Option<String>,
    pub file: String,
    pub sha256: String,
    pub sheet: String,
    pub rows: R,
    /// 合计 rows, same schema (a few per sheet: they stay in memory).
    pub totals: RecordBatch,
    /// Cell-level problems (each names its row key and cell).
    pub findings: Vec<Finding>,
    /// When set, every row of this sheet is quarantined with this (rule id, message).
    pub refusal: Option<(String, String)>,
    /// Sheet column of each form field (`credit_code=A; name=B; …`), for cell addresses.
    pub column_map: String,
}

/// A cell address as a person writes it: `表1!H17` (row 1-based, column 0-based).
pub fn cell_address(sheet: &str, row: u32, col: u32) -> String {
    format!("{sheet}!{}", crate::util::cell_ref(row - 1, col))
}

impl<R> SheetRows<R> {
    /// The same sheet with its data rows held as `rows`.
    pub fn with_rows<S>(self, rows: S) -> SheetRows<S> {
        SheetRows {
            form: self.form,
            period: self.period,
            region_code: self.region_code,
            file: self.file,
            sha256: self.sha256,
            sheet: self.sheet,
            rows,
            totals: self.totals,
            findings: self.findings,
            refusal: self.refusal,
            column_map: self.column_map,
        }
    }

    /// What the [`row_key`]s of this sheet's rows name it by: the file's SHA-256 prefix and the
    /// sheet (as [`parse_row_key`] gives them back).
    pub fn key_prefix(&self) -> (&str, &str) {
        (sha_prefix(&self.sha256), &self.sheet)
    }

    /// Where a field of an input row came from (`表1!H17`), through the sheet's column map:
    /// with the file and its SHA-256 this traces any accepted or quarantined value to its cell.
    pub fn cell_of(&self, row: u32, field: &str) -> Option<String> {
        self.column_map.split("; ").find_map(|pair| {
            let (f, col) = pair.split_once('=')?;
            (f == field).then(|| format!("{}!{col}{row}", self.sheet))
        })
    }
}

/// Stable identity of an input row: the file's content, the sheet, the row.
pub fn row_key(sha256: &str, sheet: &str, row: u32) -> String {
    format!("{}:{}:{}", sha_prefix(sha256), sheet, row)
}

fn sha_prefix(sha256: &str) -> &str {
    sha256.get(..16).unwrap_or(sha256)
}

/// A [`row_key`]'s parts: the file's SHA-256 prefix, the sheet, the row. The prefix is hex and
/// the row a number, so a sheet name holding `:` still parses.
pub fn parse_row_key(key: &str) -> Option<(&str, &str, u32)> {
    let (sha, rest) = key.split_once(':')?;
    let (sheet, row) = rest.rsplit_once(':')?;
    Some((sha, sheet, row.parse().ok()?))
}

enum Builder {
    Text(StringBuilder),
    Amount(Decimal128Builder),
    Int(Int64Builder),
    Float(Float64Builder),
}

impl Builder {
    /// A builder for exactly `n` values: the arrays keep their builders' buffers, and a default
    /// builder reserves 1,024 values, which a sheet's one 合计 row would then hold in every column.
    fn with_capacity(ty: FieldType, n: usize) -> Self {
        match ty {
            FieldType::Text | FieldType::Code | FieldType::IndustryCode | FieldType::Month => {
                Builder::Text(StringBuilder::with_capacity(n, n * 16))
            }
            FieldType::Amount => Builder::Amount(Decimal128Builder::with_capacity(n)),
            FieldType::Count => Builder::Int(Int64Builder::with_capacity(n)),
            FieldType::Percent => Builder::Float(Float64Builder::with_capacity(n)),
        }
    }
    fn push(&mut self, v: &Value) {
        match (self, v) {
            (Builder::Text(b), Value::Text(s)) => b.append_value(s),
            (Builder::Text(b), Value::Null) => b.append_null(),
            (Builder::Text(b), other) => b.append_value(other.display()),
            (Builder::Amount(b), Value::Decimal(d)) => b.append_value(decimal_to_i128(*d)),
            (Builder::Amount(b), Value::Int(i)) => b.append_value(decimal_to_i128(Decimal::from(*i))),
            (Builder::Amount(b), _) => b.append_null(),
            (Builder::Int(b), Value::Int(i)) => b.append_value(*i),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), Value::Float(f)) => b.append_value(*f),
            (Builder::Float(b), _) => b.append_null(),
        }
    }
    fn finish(self) -> ArrayRef {
        match self {
            Builder::Text(mut b) => Arc::new(b.finish()),
            Builder::Amount(mut b) => {
                Arc::new(b.finish().with_precision_and_scale(24, AMOUNT_SCALE as i8).expect("valid decimal type"))
            }
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Float(mut b) => Arc::new(b.finish()),
        }
    }
}

/// A decimal as the unscaled i128 of Decimal128(24, 6).
pub fn decimal_to_i128(d: Decimal) -> i128 {
    // Amounts are rounded to at most AMOUNT_SCALE decimals: scaling the mantissa up is exact
    // (and what `rescale` does) as long as it stays within Decimal's 96 bits.
    if d.scale() <= AMOUNT_SCALE {
        let m = d.mantissa() * 10i128.pow(AMOUNT_SCALE - d.scale());
        if m.unsigned_abs() < 1u128 << 96 {
            return m;
        }
    }
    let mut d = d;
    d.rescale(AMOUNT_SCALE);
    d.mantissa()
}

/// A blank amount the form reads as 0 (`blank_is_zero`): the cell is empty, not unreadable.
static ZERO: Value = Value::Decimal(Decimal::ZERO);

/// The value of form column `i` in a record as stored; with `zero_fill`, blanks of
/// `blank_is_zero` columns (without a cell problem) are 0.
fn stored_value<'r>(form: &FormDef, rec: &'r Record, i: usize, zero_fill: bool) -> &'r Value {
    let v = &rec.values[i];
    if zero_fill && v.is_null() && form.columns[i].blank_is_zero && !rec.problems.iter().any(|(j, _, _)| *j == i) {
        &ZERO
    } else {
        v
    }
}

fn build_batch(
    form: &FormDef,
    schema: &SchemaRef,
    sheet: &IngestedSheet,
    file: &IngestedFile,
    records: &[Record],
    zero_fill: bool,
) -> RecordBatch {
    let period = sheet.period.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into());
    let region = sheet.region_code.clone().unwrap_or_else(|| "unknown".into());
    let n = records.len();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    let const_col = |v: &str| -> ArrayRef { Arc::new(arrow::array::StringArray::new_repeated(v, n)) };
    arrays.push(const_col(&period));
    arrays.push(const_col(&region));
    if form.layout == Layout::Items {
        arrays.push(Arc::new(arrow::array::StringArray::from(
            records.iter().map(|r| r.item.clone()).collect::<Vec<_>>(),
        )));
    }
    for (i, c) in form.columns.iter().enumerate() {
        let mut b = Builder::with_capacity(c.ty, n);
        for r in records {
            b.push(stored_value(form, r, i, zero_fill));
        }
        arrays.push(b.finish());
    }
    if let Some(ic) = form.columns.iter().position(|c| c.ty == FieldType::IndustryCode) {
        let mut div = StringBuilder::with_capacity(n, n * 2);
        let mut sec = StringBuilder::with_capacity(n, n);
        for r in records {
            match &r.values[ic] {
                Value::Text(s) if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) => {
                    let d = &s[..2];
                    div.append_value(d);
                    match section_of(d.parse().unwrap_or(0)) {
                        Some(x) => sec.append_value(x),
                        None => sec.append_null(),
                    }
                }
                _ => {
                    div.append_null();
                    sec.append_null();
                }
            }
        }
        arrays.push(Arc::new(div.finish()));
        arrays.push(Arc::new(sec.finish()));
    }
    arrays.push(const_col(&file.file));
    arrays.push(const_col(&file.sha256));
    arrays.push(const_col(&sheet.read.sheet));
    arrays.push(Arc::new(arrow::array::Int64Array::from(records.iter().map(|r| r.row as i64).collect::<Vec<_>>())));
    // Row keys (`row_key`), written straight into the array.
    let prefix = row_key(&file.sha256, &sheet.read.sheet, 0);
    let prefix = &prefix[..prefix.len() - 1];
    let mut keys = StringBuilder::with_capacity(n, n * (prefix.len() + 6));
    for r in records {
        write!(keys, "{prefix}{}", r.row).expect("write to a string builder");
        keys.append_value("");
    }
    arrays.push(Arc::new(keys.finish()));
    RecordBatch::try_new(schema.clone(), arrays).expect("batch matches its schema")
}

/// The sum of the amounts of form column `i` (blanks count as 0), taken exactly on the scaled
/// integers (amounts have at most AMOUNT_SCALE decimals); `None` if it does not fit a decimal.
fn column_sum(records: &[Record], i: usize) -> Option<Decimal> {
    let mut acc: i128 = 0;
    for r in records {
        if let Value::Decimal(d) = &r.values[i] {
            let d = d.round_dp(AMOUNT_SCALE);
            acc = acc.checked_add(d.mantissa().checked_mul(10i128.pow(AMOUNT_SCALE - d.scale()))?)?;
        }
    }
    Decimal::try_from_i128_with_scale(acc, AMOUNT_SCALE).ok()
}

/// Converts a read sheet into rows, totals and cell findings.
pub fn sheet_rows(form: &FormDef, file: &IngestedFile, sheet: &IngestedSheet) -> SheetRows {
    let read = &sheet.read;
    let records = &read.records;
    let mut findings = Vec::new();
    let period = sheet.period.map(|p| p.to_string());
    let loc = |row: u32, col: Option<u32>| Location {
        file: file.file.clone(),
        sha256: file.sha256.clone(),
        sheet: Some(read.sheet.clone()),
        row: Some(row),
        cell: col.map(|c| crate::util::cell_ref(row - 1, c)),
    };
    let header_name = |i: usize| form.columns[i].display_name();
    for rec in records {
        let mut finding = |rule_id: &str, col: Option<u32>, observed: String, message: String| {
            findings.push(Finding {
                period: period.clone(),
                region_code: sheet.region_code.clone(),
                form: Some(form.code.clone()),
                location: loc(rec.row, col),
                row_key: Some(row_key(&file.sha256, &read.sheet, rec.row)),
                rule_id: rule_id.to_string(),
                severity: Severity::Error,
                observed,
                message,
                explained: false,
            })
        };
        for (i, col, p) in &rec.problems {
            finding(
                &form.invalid_value_rule,
                Some(*col),
                format!("{}={}", form.columns[*i].field, p.raw),
                format!("{}{}", header_name(*i), p.message),
            );
        }
        if let Some(p) = &rec.row_problem {
            let col = read.columns.iter().position(|c| c.is_some()).and_then(|i| read.columns[i]);
            finding(rule::UNKNOWN_ITEM, col, String::new(), p.clone());
        }
        // Blanks of `blank_is_zero` columns are stored as 0 (`stored_value`); other required
        // blanks are findings.
        for (i, c) in form.columns.iter().enumerate() {
            if !rec.values[i].is_null() || rec.problems.iter().any(|(j, _, _)| *j == i) {
                continue;
            }
            if c.blank_is_zero {
                continue;
            } else if c.required && read.columns[i].is_some() {
                finding(
                    &form.invalid_value_rule,
                    read.columns[i],
                    format!("{}=", c.field),
                    format!("{}为空(必填项)", header_name(i)),
                );
            }
        }
    }
    // 合计 rows: never enterprises, but checked against the column sums (FORMS.md: 1 万元).
    for t in &read.totals {
        for (i, c) in form.columns.iter().enumerate() {
            let (FieldType::Amount, Value::Decimal(total)) = (c.ty, &t.values[i]) else { continue };
            let sum = column_sum(records, i);
            let differs = sum.is_none_or(|sum| total.checked_sub(sum).is_none_or(|d| d.abs() > Decimal::ONE));
            let sum = sum.map(|s| s.normalize().to_string()).unwrap_or_else(|| "超出可计算范围".to_string());
            if differs {
                findings.push(Finding {
                    period: period.clone(),
                    region_code: sheet.region_code.clone(),
                    form: Some(form.code.clone()),
                    location: loc(t.row, read.columns[i]),
                    row_key: Some(row_key(&file.sha256, &read.sheet, t.row)),
                    rule_id: rule::TOTAL_MISMATCH.to_string(),
                    severity: Severity::Warning,
                    observed: format!("{}: 合计={}; 各行之和={sum}", c.field, total.normalize()),
                    message: format!("合计行{}({})与各行之和({sum})相差超过1万元", header_name(i), total.normalize()),
                    explained: false,
                });
            }
        }
    }
    // Rows that are not data are reported with their cell, never dropped without a word.
    let label_col = form.columns.iter().position(|c| c.field == form.label_field).and_then(|i| read.columns[i]);
    let skipped = read
        .totals
        .iter()
        .map(|t| (t.row, t.label_col.or(label_col), None))
        .chain(read.skipped.iter().map(|s| (s.row, Some(s.col), Some(s.text.as_str()))));
    for (row, col, note) in skipped {
        let (rule_id, message) = match note {
            None => (rule::TOTAL_ROW, format!("第{row}行为合计行,不作为数据读入,仅用于核对各行之和")),
            Some(text) => {
                let text: String = text.chars().take(40).collect();
                (rule::NOTE_ROW, format!("第{row}行为说明或签字行(\"{text}\"),不是数据行,未读入"))
            }
        };
        findings.push(Finding {
            period: period.clone(),
            region_code: sheet.region_code.clone(),
            form: Some(form.code.clone()),
            location: loc(row, col),
            row_key: None,
            rule_id: rule_id.to_string(),
            severity: Severity::Info,
            observed: String::new(),
            message,
            explained: false,
        });
    }
    let schema = form_schema(form);
    let column_map = form
        .columns
        .iter()
        .zip(&read.columns)
        .filter_map(|(c, col)| col.map(|col| format!("{}={}", c.field, crate::util::col_letter(col))))
        .collect::<Vec<_>>()
        .join("; ");
    SheetRows {
        form: form.code.clone(),
        period: sheet.period,
        region_code: sheet.region_code.clone(),
        file: file.file.clone(),
        sha256: file.sha256.clone(),
        sheet: read.sheet.clone(),
        rows: build_batch(form, &schema, sheet, file, records, true),
        totals: build_batch(form, &schema, sheet, file, &read.totals, false),
        findings,
        refusal: sheet.refusal.as_ref().map(|(r, m)| (r.to_string(), m.clone())),
        column_map,
    }
}
