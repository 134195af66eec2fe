//! Arrow record batches → template values, with Markdown escaping of every text cell.
//!
//! **Escaping rule.** Text in model outputs comes, directly or not, from the county returns
//! (project names, enterprise names, chain names as reported …). Every string cell is therefore
//! passed through [`escape_markdown`] *here*, when the batches are converted, so that no template
//! author can forget it: `{{ p.project_name }}` is always safe to print in Markdown, including
//! inside a table cell. The consequence for templates: string columns hold the escaped text
//! (`chain:_ALL` arrives as `chain:\_ALL`), so compare codes that contain Markdown punctuation
//! through `ind()` (which accepts escaped or raw keys) rather than with `==` on literals.
//! Numbers are converted as numbers (Decimal128 via its exact decimal string to `f64`).

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Decimal128Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;
use minijinja::Value;

/// Escapes text for CommonMark/GFM so it prints literally, in running text and in table cells.
///
/// * backslash-escapes `\` `` ` `` `*` `_` `{` `}` `[` `]` `<` `>` `#` `|` `~` `&` `!` `$` anywhere
///   (emphasis, code, links, images, raw HTML, entities, headings, table cells, strikethrough,
///   math in renderers that have it);
/// * backslash-escapes a leading `-` `+` `=` and the `.`/`)` of a leading `12.` / `12)`, which
///   would start a list or a setext heading if the text begins a line;
/// * turns line breaks and tabs into spaces (a newline would end a table row or a paragraph).
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    // A leading ordered-list marker: digits then `.` or `)`.
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let list_marker_at = (digits > 0 && matches!(s.as_bytes().get(digits), Some(b'.') | Some(b')'))).then_some(digits);
    for (i, ch) in s.char_indices() {
        match ch {
            '\r' | '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' | '!' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            '.' | ')' if Some(i) == list_marker_at => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Undoes [`escape_markdown`]'s backslashes (for looking up codes that went through it).
pub fn unescape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\\'
            && let Some(next) = chars.peek()
            && next.is_ascii_punctuation()
        {
            out.push(*next);
            chars.next();
            continue;
        }
        out.push(ch);
    }
    out
}

/// One cell as a template value: numbers as numbers, text escaped, NULL as none.
fn cell(col: &ArrayRef, row: usize) -> Value {
    if col.is_null(row) {
        return Value::from(());
    }
    match col.data_type() {
        DataType::Null => Value::from(()),
        DataType::Boolean => Value::from(col.as_boolean().value(row)),
        DataType::Int8 => Value::from(col.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => Value::from(col.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => Value::from(col.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Value::from(col.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => Value::from(col.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => Value::from(col.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(row)),
        DataType::Float16 => Value::from(f64::from(col.as_primitive::<Float16Type>().value(row))),
        DataType::Float32 => Value::from(f64::from(col.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => Value::from(col.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, _) => {
            // The exact decimal text, then the nearest f64 (what the filters round from).
            let text = col.as_primitive::<Decimal128Type>().value_as_string(row);
            text.parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::from(()))
        }
        DataType::Utf8 => Value::from(escape_markdown(col.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Value::from(escape_markdown(col.as_string::<i64>().value(row))),
        DataType::Utf8View => Value::from(escape_markdown(col.as_string_view().value(row))),
        DataType::Decimal256(_, _) => match arrow::compute::cast(&col.slice(row, 1), &DataType::Float64) {
            Ok(a) if !a.is_null(0) => Value::from(a.as_primitive::<Float64Type>().value(0)),
            _ => Value::from(()),
        },
        // Anything else (dictionaries of text, dates, …): its text form, escaped.
        _ => match text_cell(col, row) {
            Some(s) => Value::from(escape_markdown(&s)),
            None => Value::from(()),
        },
    }
}

/// The raw (unescaped) text of a cell of any type, None when NULL. Text and booleans are read
/// in place (the bulletin and disclosure control read every row of `indicator_values`, millions
/// at national scale); other types go through Arrow's cast to text.
pub fn text_cell(col: &ArrayRef, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        DataType::Utf8 => Some(col.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Some(col.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Some(col.as_string_view().value(row).to_string()),
        DataType::Boolean => Some(col.as_boolean().value(row).to_string()),
        _ => {
            let utf8 = arrow::compute::cast(&col.slice(row, 1), &DataType::Utf8).ok()?;
            let strings = utf8.as_string::<i32>();
            (!strings.is_null(0)).then(|| strings.value(0).to_string())
        }
    }
}

/// The f64 of a numeric cell of any type, None when NULL or not numeric. Floats and integers
/// are read in place (as Arrow's cast would convert them); other types go through the cast.
pub fn number_cell(col: &ArrayRef, row: usize) -> Option<f64> {
    if col.is_null(row) {
        return None;
    }
    match col.data_type() {
        DataType::Float64 => return Some(col.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => return Some(f64::from(col.as_primitive::<Float32Type>().value(row))),
        DataType::Int64 => return Some(col.as_primitive::<Int64Type>().value(row) as f64),
        DataType::Int32 => return Some(f64::from(col.as_primitive::<Int32Type>().value(row))),
        DataType::Decimal128(_, _) => {
            return col.as_primitive::<Decimal128Type>().value_as_string(row).parse().ok();
        }
        _ => {}
    }
    let f = arrow::compute::cast(&col.slice(row, 1), &DataType::Float64).ok()?;
    let f = f.as_primitive::<Float64Type>();
    (!f.is_null(0)).then(|| f.value(0))
}

/// A model's output as a list of row maps (column name → value). In a row whose `suppressed`
/// column is true (disclosure control, see `crate::disclosure`), every NULL cell becomes
/// [`super::format::SUPPRESSED`], which the filters print as `…`.
pub fn rows_value(batches: &[RecordBatch]) -> Value {
    let mut rows = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let suppressed = batch.column_by_name("suppressed");
        for row in 0..batch.num_rows() {
            let hidden = suppressed.is_some_and(|c| text_cell(c, row).is_some_and(|t| t == "true"));
            let map: BTreeMap<String, Value> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, col)| {
                    let v = if hidden && col.is_null(row) {
                        Value::from(super::format::SUPPRESSED)
                    } else {
                        cell(col, row)
                    };
                    (field.name().clone(), v)
                })
                .collect();
            rows.push(Value::from(map));
        }
    }
    Value::from(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Decimal128Array, Float64Array, Int64Array, StringArray, StringViewArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn escapes_markdown_specials() {
        assert_eq!(
            escape_markdown(r#"*bold* <script>#read("/etc/passwd")"#),
            r#"\*bold\* \<script\>\#read("/etc/passwd")"#
        );
        assert_eq!(
            escape_markdown("a|b [x](y) `c` _d_ \\ ~~e~~ &amp; ![i]"),
            r"a\|b \[x\](y) \`c\` \_d\_ \\ \~\~e\~\~ \&amp; \!\[i\]"
        );
        assert_eq!(escape_markdown("济宁莱赛尔纤维项目(一期)"), "济宁莱赛尔纤维项目(一期)");
        assert_eq!(escape_markdown("- item"), r"\- item");
        assert_eq!(escape_markdown("+1"), r"\+1");
        assert_eq!(escape_markdown("2025. 年度项目"), r"2025\. 年度项目");
        assert_eq!(escape_markdown("2025-12"), "2025-12");
        assert_eq!(escape_markdown("一行\n二行\r\n三\t行"), "一行 二行  三 行");
    }

    #[test]
    fn unescape_inverts_escape() {
        for s in ["chain:_ALL", r#"*bold* <script>#read("/etc/passwd")"#, "a\\b", "-x", "12. y", "plain 中文"] {
            assert_eq!(unescape_markdown(&escape_markdown(s)), s);
        }
        assert_eq!(unescape_markdown(r"C:\路径"), r"C:\路径");
    }

    /// The cells read in place give what Arrow's cast to text or to f64 gives, for every type
    /// read in place and one that is not (a date).
    #[test]
    fn cells_read_in_place_equal_arrows_cast() {
        use arrow::array::{Date32Array, Float32Array, Int32Array, LargeStringArray};
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("3.5"), None, Some("济宁")])),
            Arc::new(LargeStringArray::from(vec![Some("x"), Some("-2"), None])),
            Arc::new(StringViewArray::from(vec![None, Some("a rather longer text than twelve"), Some("7")])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(-3), None])),
            Arc::new(Int32Array::from(vec![Some(i32::MIN), None, Some(12)])),
            Arc::new(Float32Array::from(vec![Some(0.1_f32), Some(f32::NAN), None])),
            Arc::new(Float64Array::from(vec![Some(0.1), Some(-0.0), Some(f64::INFINITY)])),
            Arc::new(
                Decimal128Array::from(vec![Some(-1_234_500_i128), None, Some(7)])
                    .with_precision_and_scale(20, 4)
                    .unwrap(),
            ),
            Arc::new(Date32Array::from(vec![Some(20_000), None, Some(0)])),
        ];
        for col in &columns {
            let text = arrow::compute::cast(col, &DataType::Utf8).unwrap();
            let number = arrow::compute::cast(col, &DataType::Float64);
            for row in 0..col.len() {
                let cast_text = (!text.is_null(row)).then(|| text.as_string::<i32>().value(row).to_string());
                assert_eq!(text_cell(col, row), cast_text, "{} row {row}", col.data_type());
                let cast_number = number
                    .as_ref()
                    .ok()
                    .and_then(|n| (!n.is_null(row)).then(|| n.as_primitive::<Float64Type>().value(row)));
                let got = number_cell(col, row);
                assert_eq!(got.map(f64::to_bits), cast_number.map(f64::to_bits), "{} row {row}", col.data_type());
            }
        }
    }

    #[test]
    fn converts_batches_generically() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("view", DataType::Utf8View, true),
            Field::new("n", DataType::Int64, true),
            Field::new("x", DataType::Float64, true),
            Field::new("amount", DataType::Decimal128(24, 6), true),
            Field::new("flag", DataType::Boolean, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("*bold*"), None])),
                Arc::new(StringViewArray::from(vec![Some("a_b"), Some("c")])),
                Arc::new(Int64Array::from(vec![Some(7), None])),
                Arc::new(Float64Array::from(vec![Some(8.25), None])),
                Arc::new(
                    Decimal128Array::from(vec![Some(314_200_000_000_i128), None])
                        .with_precision_and_scale(24, 6)
                        .unwrap(),
                ),
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ],
        )
        .unwrap();
        let rows = rows_value(&[batch]);
        let env = minijinja::Environment::new();
        let out = env
            .render_str(
                "{% for r in rows %}{{ r.name }}|{{ r.view }}|{{ r.n }}|{{ r.x }}|{{ r.amount }}|{{ r.flag }};{% endfor %}",
                minijinja::context! { rows },
            )
            .unwrap();
        assert_eq!(out, r"\*bold\*|a\_b|7|8.25|314200.0|True;None|c|None|None|None|None;");
    }
}
