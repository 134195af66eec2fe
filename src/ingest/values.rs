//! Cell values → typed values, exactly as the form declares them.
//!
//! Counties type numbers as text, with thousands separators, full-width digits and trailing
//! spaces, and write "—", "-" or "/" for nothing. Amounts are converted to 万元 with decimal
//! arithmetic so that no float drift reaches the stored figures.

use std::borrow::Cow;
use std::str::FromStr;

use calamine::Data;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::forms::FieldType;

/// Decimal places of stored amounts (万元): enough for 元 with 分 (0.01 元 = 0.000001 万元).
pub const AMOUNT_SCALE: u32 = 6;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Null,
    Text(String),
    Decimal(#[serde(with = "decimal_bytes")] Decimal),
    Int(i64),
    Float(f64),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A rendering for messages and the raw-row record of quarantine.
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Decimal(d) => d.normalize().to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
        }
    }
}

/// Decimals in the parsed-workbook cache as their exact 16-byte form (the cache's format is not
/// self-describing, and a decimal must come back with its scale).
mod decimal_bytes {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        Serialize::serialize(&d.serialize(), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let bytes = <[u8; 16]>::deserialize(d)?;
        Ok(Decimal::deserialize(bytes))
    }
}

/// The unit of money a sheet or a column is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MoneyUnit {
    Yuan,
    Qianyuan,
    Wanyuan,
    Yiyuan,
}

impl MoneyUnit {
    /// Finds a unit word in `s` (longest words first, so 万元 is not read as 元).
    pub fn find_in(s: &str) -> Option<MoneyUnit> {
        if s.contains("亿元") {
            Some(MoneyUnit::Yiyuan)
        } else if s.contains("万元") {
            Some(MoneyUnit::Wanyuan)
        } else if s.contains("千元") {
            Some(MoneyUnit::Qianyuan)
        } else if s.contains('元') {
            Some(MoneyUnit::Yuan)
        } else {
            None
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            MoneyUnit::Yuan => "元",
            MoneyUnit::Qianyuan => "千元",
            MoneyUnit::Wanyuan => "万元",
            MoneyUnit::Yiyuan => "亿元",
        }
    }

    /// Converts an amount in this unit to 万元, exactly.
    pub fn to_wanyuan(&self, d: Decimal) -> Decimal {
        match self {
            MoneyUnit::Yuan => d / Decimal::from(10_000),
            MoneyUnit::Qianyuan => d / Decimal::from(10),
            MoneyUnit::Wanyuan => d,
            MoneyUnit::Yiyuan => d * Decimal::from(10_000),
        }
    }
}

/// Full-width ASCII (Ａ１，（）：％) and the ideographic space to their ASCII forms.
pub fn halfwidth(s: &str) -> Cow<'_, str> {
    // Most cells hold nothing to map: borrow them whole rather than copy them char by char.
    if !s.chars().any(|c| matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}' | '\u{00A0}')) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                '\u{00A0}' => ' ',
                _ => c,
            })
            .collect(),
    )
}

/// Does this text stand for "nothing" (an empty cell in all but name)?
fn is_nothing(s: &str) -> bool {
    matches!(s, "" | "-" | "—" | "——" | "–" | "/" | "－" | "－－" | "--" | "…" | "无")
}

/// Cleans a number typed as text: full-width digits, separators, spaces. `None` for "nothing".
fn clean_numeric_text(raw: &str) -> Option<String> {
    let s = halfwidth(raw);
    let s = s.trim();
    if is_nothing(s) {
        return None;
    }
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',' && *c != '，' && *c != '\'')
        .map(|c| if c == '−' || c == '－' { '-' } else { c })
        .collect();
    Some(cleaned)
}

/// The reason a cell could not be read; `cell_error` when the cell holds an Excel error value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellProblem {
    pub message: String,
    pub raw: String,
}

fn problem(message: impl Into<String>, raw: impl Into<String>) -> CellProblem {
    CellProblem { message: message.into(), raw: raw.into() }
}

/// A float from a cell, as the decimal it was typed as (Excel stores 1234.5 as the nearest
/// double; its shortest round-trip rendering is what the user typed).
fn float_to_decimal(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    // Fast path, same result: the fewest decimals k for which an integer m gives back exactly
    // this double (m / 10^k is correctly rounded). Below 2^50 the candidates are more than 4 ulps
    // apart, so that m is the one the shortest rendering would print.
    let mut p = 1.0f64;
    for k in 0..=9u32 {
        let m = (f * p).round();
        if m.abs() >= (1u64 << 50) as f64 {
            break;
        }
        if m / p == f {
            return Some(Decimal::new(m as i64, k));
        }
        p *= 10.0;
    }
    Decimal::from_str(&format!("{f}")).ok().or_else(|| Decimal::from_f64_retain(f))
}

fn cell_raw(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::Error(e) => format!("#{e:?}"),
        other => other.to_string(),
    }
}

/// Excel's spelling of an error value.
fn excel_error_name(cell: &Data) -> Option<&'static str> {
    use calamine::CellErrorType as E;
    match cell {
        Data::Error(e) => Some(match e {
            E::Div0 => "#DIV/0!",
            E::NA => "#N/A",
            E::Name => "#NAME?",
            E::Null => "#NULL!",
            E::Num => "#NUM!",
            E::Ref => "#REF!",
            E::Value => "#VALUE!",
            E::GettingData => "#GETTING_DATA",
        }),
        _ => None,
    }
}

/// Excel error values that arrive as text (an .xls or .ods saved by other programs, or a value
/// pasted as text): reported like the error cells they are, never read as a number or a name.
const ERROR_TEXTS: &[&str] =
    &["#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!", "Err:502", "Err:504", "Err:522"];

fn error_name(cell: &Data) -> Option<&'static str> {
    if let Data::String(s) = cell {
        // Every error text starts with "#" (or "＃") or "Err:".
        if !s.trim_start().starts_with(['#', '＃', 'E', 'e', 'Ｅ']) {
            return None;
        }
        let t = halfwidth(s);
        let t = t.trim();
        return ERROR_TEXTS.iter().find(|e| e.eq_ignore_ascii_case(t)).copied();
    }
    excel_error_name(cell)
}

/// Reads a number cell. `Ok(None)` is an empty cell or a "nothing" mark.
pub fn read_decimal(cell: &Data) -> Result<Option<Decimal>, CellProblem> {
    if let Some(e) = error_name(cell) {
        return Err(problem(format!("单元格为错误值{e}"), e));
    }
    match cell {
        Data::Empty => Ok(None),
        Data::Float(f) => float_to_decimal(*f).map(Some).ok_or_else(|| problem("不是有效数值", cell_raw(cell))),
        Data::Int(i) => Ok(Some(Decimal::from(*i))),
        Data::String(s) => match clean_numeric_text(s) {
            None => Ok(None),
            Some(t) => {
                let t = t.strip_prefix('+').unwrap_or(&t);
                Decimal::from_str(t)
                    .or_else(|_| Decimal::from_scientific(t))
                    .map(Some)
                    .map_err(|_| problem(format!("\"{}\"不是有效数值", s.trim()), s.clone()))
            }
        },
        Data::Bool(_) | Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            Err(problem(format!("\"{}\"不是数值", cell_raw(cell)), cell_raw(cell)))
        }
        Data::Error(_) => Err(problem("单元格为错误值", cell_raw(cell))),
    }
}

/// Reads a cell as text: numbers as typed (no trailing `.0`), trimmed.
pub fn read_text(cell: &Data) -> Result<Option<String>, CellProblem> {
    if let Some(e) = error_name(cell) {
        return Err(problem(format!("单元格为错误值{e}"), e));
    }
    let s = match cell {
        Data::Empty => return Ok(None),
        Data::Float(f) => float_to_decimal(*f).map(|d| d.normalize().to_string()).unwrap_or_default(),
        Data::Int(i) => i.to_string(),
        Data::String(s) => s.trim().to_string(),
        other => other.to_string(),
    };
    Ok((!s.is_empty()).then_some(s))
}

/// A code without white space, full-width characters made half-width.
fn compact(s: String) -> String {
    if s.bytes().all(|b| b.is_ascii() && !(b as char).is_whitespace()) {
        return s;
    }
    halfwidth(&s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Converts one cell to the declared type. `money` applies to amounts only.
pub fn convert(cell: &Data, ty: FieldType, money: MoneyUnit) -> Result<Value, CellProblem> {
    match ty {
        FieldType::Text => Ok(read_text(cell)?.map(Value::Text).unwrap_or(Value::Null)),
        FieldType::Code => Ok(read_text(cell)?
            .map(|s| {
                // Most codes are already upper-case ASCII without spaces: kept as they are.
                if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase() && !(b as char).is_whitespace()) {
                    return Value::Text(s);
                }
                let s = compact(s);
                Value::Text(s.to_uppercase())
            })
            .filter(|v| !matches!(v, Value::Text(s) if s.is_empty()))
            .unwrap_or(Value::Null)),
        FieldType::IndustryCode => Ok(read_text(cell)?
            .map(|s| {
                let s = compact(s);
                // Stored as a number, 0610 arrives as 610: restore the leading zero.
                if s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()) {
                    Value::Text(format!("0{s}"))
                } else {
                    Value::Text(s)
                }
            })
            .unwrap_or(Value::Null)),
        FieldType::Amount => match read_decimal(cell)? {
            None => Ok(Value::Null),
            Some(d) => {
                let d =
                    money.to_wanyuan(d).round_dp_with_strategy(AMOUNT_SCALE, RoundingStrategy::MidpointAwayFromZero);
                Ok(Value::Decimal(d))
            }
        },
        FieldType::Count => match read_decimal(cell)? {
            None => Ok(Value::Null),
            Some(d) if d.fract().is_zero() => {
                i64::try_from(d).map(Value::Int).map_err(|_| problem("数值过大", cell_raw(cell)))
            }
            Some(_) => Err(problem(format!("\"{}\"不是整数", cell_raw(cell)), cell_raw(cell))),
        },
        FieldType::Percent => {
            if error_name(cell).is_none()
                && let Data::String(s) = cell
                && let Some(t) = clean_numeric_text(s)
                && let Some(p) = t.strip_suffix('%')
            {
                return Decimal::from_str(p.strip_prefix('+').unwrap_or(p))
                    .map(decimal_to_float)
                    .map_err(|_| problem(format!("\"{}\"不是有效百分比", s.trim()), s.clone()));
            }
            Ok(read_decimal(cell)?.map(decimal_to_float).unwrap_or(Value::Null))
        }
        FieldType::Month => read_month(cell),
    }
}

fn decimal_to_float(d: Decimal) -> Value {
    Value::Float(d.normalize().to_string().parse().unwrap_or(f64::NAN))
}

/// A percentage cell displayed with a `%` format (Excel stores 8.3% as 0.083), in percent points.
pub fn percent_points(cell: &Data) -> Option<Value> {
    match cell {
        Data::Float(_) | Data::Int(_) => {
            read_decimal(cell).ok().flatten().map(|d| decimal_to_float(d * Decimal::from(100)))
        }
        _ => None,
    }
}

fn read_month(cell: &Data) -> Result<Value, CellProblem> {
    match cell {
        Data::Empty => Ok(Value::Null),
        Data::DateTime(dt) => {
            // Excel serial days since 1899-12-30 (the 1900 system's usual epoch).
            let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
            let days = dt.as_f64().floor() as i64;
            let date = base + chrono::Duration::days(days);
            Ok(Value::Text(date.format("%Y-%m").to_string()))
        }
        Data::DateTimeIso(s) if s.len() >= 7 => Ok(Value::Text(s[..7].to_string())),
        _ => {
            let Some(s) = read_text(cell)? else { return Ok(Value::Null) };
            let t = halfwidth(&s);
            if is_nothing(t.trim()) {
                return Ok(Value::Null);
            }
            let digits: Vec<&str> = t.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).collect();
            match digits.as_slice() {
                [y, m, ..] if y.len() == 4 => match (y.parse::<i32>(), m.parse::<u32>()) {
                    (Ok(y), Ok(m)) if (1..=12).contains(&m) => Ok(Value::Text(format!("{y:04}-{m:02}"))),
                    _ => Err(problem(format!("\"{s}\"不是有效年月"), s.clone())),
                },
                [ym] if ym.len() == 6 => {
                    let (y, m) = ym.split_at(4);
                    match m.parse::<u32>() {
                        Ok(mm) if (1..=12).contains(&mm) => Ok(Value::Text(format!("{y}-{m}"))),
                        _ => Err(problem(format!("\"{s}\"不是有效年月"), s.clone())),
                    }
                }
                _ => Err(problem(format!("\"{s}\"不是有效年月"), s.clone())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn numbers_as_text_and_units() {
        let amt = |c: Data, u| convert(&c, FieldType::Amount, u).unwrap();
        assert_eq!(amt(Data::String(" 1,234.5 ".into()), MoneyUnit::Wanyuan), Value::Decimal(d("1234.5")));
        assert_eq!(amt(Data::String("１２３．４".into()), MoneyUnit::Wanyuan), Value::Decimal(d("123.4")));
        assert_eq!(amt(Data::String("—".into()), MoneyUnit::Wanyuan), Value::Null);
        assert_eq!(amt(Data::String("/".into()), MoneyUnit::Wanyuan), Value::Null);
        assert_eq!(amt(Data::Float(12345678.9), MoneyUnit::Yuan), Value::Decimal(d("1234.56789")));
        assert_eq!(amt(Data::Float(0.1), MoneyUnit::Yiyuan), Value::Decimal(d("1000")));
        assert_eq!(amt(Data::Float(1234.5), MoneyUnit::Qianyuan), Value::Decimal(d("123.45")));
        assert_eq!(amt(Data::String("-12.5".into()), MoneyUnit::Wanyuan), Value::Decimal(d("-12.5")));
        assert!(convert(&Data::String("abc".into()), FieldType::Amount, MoneyUnit::Wanyuan).is_err());
        let e =
            convert(&Data::Error(calamine::CellErrorType::Div0), FieldType::Amount, MoneyUnit::Wanyuan).unwrap_err();
        assert!(e.message.contains("#DIV/0!"));
    }

    #[test]
    fn floats_read_as_typed() {
        for (f, want) in [
            (0.1, "0.1"),
            (1234.5, "1234.5"),
            (-12.3, "-12.3"),
            (200000.5, "200000.5"),
            (0.000015, "0.000015"),
            (1e-12, "0.000000000001"),
            (123456789012345.6, "123456789012345.6"),
            (2f64.powi(60), "1152921504606847000"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(float_to_decimal(f).unwrap().to_string(), want, "{f}");
            assert_eq!(float_to_decimal(f).unwrap(), Decimal::from_str(&format!("{f}")).unwrap(), "{f}");
        }
    }

    #[test]
    fn codes_and_percent() {
        let v = convert(&Data::String(" 91370800 mA3c ".into()), FieldType::Code, MoneyUnit::Wanyuan).unwrap();
        assert_eq!(v, Value::Text("91370800MA3C".into()));
        let v = convert(&Data::Float(610.0), FieldType::IndustryCode, MoneyUnit::Wanyuan).unwrap();
        assert_eq!(v, Value::Text("0610".into()));
        let v = convert(&Data::String("8.3%".into()), FieldType::Percent, MoneyUnit::Wanyuan).unwrap();
        assert_eq!(v, Value::Float(8.3));
        let v = convert(&Data::String("2025年12月".into()), FieldType::Month, MoneyUnit::Wanyuan).unwrap();
        assert_eq!(v, Value::Text("2025-12".into()));
        let v = convert(&Data::String("2025.3".into()), FieldType::Month, MoneyUnit::Wanyuan).unwrap();
        assert_eq!(v, Value::Text("2025-03".into()));
        assert!(convert(&Data::Float(12.5), FieldType::Count, MoneyUnit::Wanyuan).is_err());
    }
}
