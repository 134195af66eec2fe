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
/// Integer digits of stored amounts: Decimal128(24, 6) holds less than 10^18 万元. A larger
/// amount is a cell problem (强制性), so no sum or message downstream can overflow.
pub const AMOUNT_INTEGER_DIGITS: u32 = 18;
/// Largest percentage read, in percent points (far beyond any real growth rate, small enough
/// that sums and charts of percentages stay finite and drawable).
pub const MAX_PERCENT_POINTS: f64 = 1e12;

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

    /// Converts an amount in this unit to 万元, exactly; `None` when the result does not fit a
    /// decimal (an amount of 10^28 亿元).
    pub fn to_wanyuan(&self, d: Decimal) -> Option<Decimal> {
        match self {
            MoneyUnit::Yuan => d.checked_div(Decimal::from(10_000)),
            MoneyUnit::Qianyuan => d.checked_div(Decimal::from(10)),
            MoneyUnit::Wanyuan => Some(d),
            MoneyUnit::Yiyuan => d.checked_mul(Decimal::from(10_000)),
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
            Some(d) => amount_in_wanyuan(d, money).map(Value::Decimal).ok_or_else(|| {
                out_of_range(cell, &format!("超出可存储范围(金额须小于10^{AMOUNT_INTEGER_DIGITS}万元)"))
            }),
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
                let d = Decimal::from_str(p.strip_prefix('+').unwrap_or(p))
                    .map_err(|_| problem(format!("\"{}\"不是有效百分比", s.trim()), s.clone()))?;
                return percent_value(d).ok_or_else(|| out_of_range(cell, PERCENT_RANGE));
            }
            match read_decimal(cell)? {
                None => Ok(Value::Null),
                Some(d) => percent_value(d).ok_or_else(|| out_of_range(cell, PERCENT_RANGE)),
            }
        }
        FieldType::Month => read_month(cell),
    }
}

/// An amount in `money` as stored: 万元 rounded to AMOUNT_SCALE decimals, within
/// AMOUNT_INTEGER_DIGITS digits; `None` when it does not fit.
pub fn amount_in_wanyuan(d: Decimal, money: MoneyUnit) -> Option<Decimal> {
    let d = money.to_wanyuan(d)?.round_dp_with_strategy(AMOUNT_SCALE, RoundingStrategy::MidpointAwayFromZero);
    (d.abs() < Decimal::from(10u64.pow(AMOUNT_INTEGER_DIGITS))).then_some(d)
}

const PERCENT_RANGE: &str = "超出合理范围(百分比绝对值须不超过10^12个百分点)";

/// A cell whose number cannot be stored: the message shows the value (a huge number as Excel
/// shows it, `5E+28`) and names the limit.
fn out_of_range(cell: &Data, what: &str) -> CellProblem {
    let raw = match cell {
        Data::Float(f) if f.abs() >= 1e15 => {
            let s = format!("{f:E}");
            match s.split_once('E') {
                Some((m, e)) if !e.starts_with('-') => format!("{m}E+{e}"),
                _ => s,
            }
        }
        _ => cell_raw(cell),
    };
    problem(format!("数值{}{what}", clip_chars(&raw, 40)), raw)
}

/// The first `n` characters of `s` (never cut inside a character), with "…" when cut.
pub fn clip_chars(s: &str, n: usize) -> Cow<'_, str> {
    match s.char_indices().nth(n) {
        None => Cow::Borrowed(s),
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
    }
}

/// A percentage in percent points as stored, `None` beyond MAX_PERCENT_POINTS.
fn percent_value(d: Decimal) -> Option<Value> {
    let f: f64 = d.normalize().to_string().parse().ok()?;
    (f.is_finite() && f.abs() <= MAX_PERCENT_POINTS).then_some(Value::Float(f))
}

/// A percentage cell displayed with a `%` format (Excel stores 8.3% as 0.083), in percent points;
/// a cell problem when the value is beyond what is stored.
pub fn percent_points(cell: &Data) -> Option<Result<Value, CellProblem>> {
    match cell {
        Data::Float(_) | Data::Int(_) => read_decimal(cell).ok().flatten().map(|d| {
            d.checked_mul(Decimal::from(100)).and_then(percent_value).ok_or_else(|| out_of_range(cell, PERCENT_RANGE))
        }),
        _ => None,
    }
}

fn read_month(cell: &Data) -> Result<Value, CellProblem> {
    match cell {
        Data::Empty => Ok(Value::Null),
        Data::DateTime(dt) => {
            // Excel serial days since 1899-12-30 (the 1900 system's usual epoch); a serial
            // beyond 9999-12-31 (2958465) is no date Excel can show.
            let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
            let serial = dt.as_f64();
            let date = (serial.is_finite() && (0.0..2_958_466.0).contains(&serial))
                .then(|| chrono::TimeDelta::try_days(serial.floor() as i64))
                .flatten()
                .and_then(|days| base.checked_add_signed(days));
            match date {
                Some(date) => Ok(Value::Text(date.format("%Y-%m").to_string())),
                None => Err(problem(format!("数值{serial}不是有效日期(超出 Excel 日期范围)"), cell_raw(cell))),
            }
        }
        // An ISO date from .ods: `2025-03-01…`; anything else is read as text below.
        Data::DateTimeIso(s) if s.get(..7).is_some_and(|ym| ym.as_bytes()[4] == b'-') => {
            read_month(&Data::String(s[..7].to_string()))
        }
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
    fn values_beyond_what_is_stored_are_cell_problems_not_panics() {
        // 1E+28 in a 亿元 sheet: 10^32 万元 does not fit a decimal.
        let e = convert(&Data::Float(1e28), FieldType::Amount, MoneyUnit::Yiyuan).unwrap_err();
        assert_eq!(e.message, "数值1E+28超出可存储范围(金额须小于10^18万元)");
        let e = convert(&Data::String("1E+28".into()), FieldType::Amount, MoneyUnit::Yiyuan).unwrap_err();
        assert!(e.message.contains("1E+28"), "{e:?}");
        // 5E+28 万元 fits a decimal but not Decimal128(24, 6).
        assert!(convert(&Data::Float(5e28), FieldType::Amount, MoneyUnit::Wanyuan).is_err());
        assert!(convert(&Data::Float(1e18), FieldType::Amount, MoneyUnit::Wanyuan).is_err());
        let max = "999999999999999999.999999";
        assert_eq!(
            convert(&Data::String(max.into()), FieldType::Amount, MoneyUnit::Wanyuan).unwrap(),
            Value::Decimal(d(max))
        );
        assert!(convert(&Data::Float(-1e14), FieldType::Amount, MoneyUnit::Yiyuan).is_err());
        assert_eq!(
            convert(&Data::Float(-1e13), FieldType::Amount, MoneyUnit::Yiyuan).unwrap(),
            Value::Decimal(d("-100000000000000000"))
        );
        // Percent 1E+27, typed, as text with %, and displayed as a percentage (×100 overflows).
        for cell in [Data::Float(1e27), Data::String("1E+27%".into()), Data::String("1e27".into())] {
            let e = convert(&cell, FieldType::Percent, MoneyUnit::Wanyuan).unwrap_err();
            assert!(e.message.contains("超出合理范围(百分比"), "{e:?}");
        }
        assert!(percent_points(&Data::Float(1e27)).unwrap().is_err());
        assert!(percent_points(&Data::Float(7e28)).unwrap().is_err());
        assert_eq!(percent_points(&Data::Float(0.083)).unwrap().unwrap(), Value::Float(8.3));
        // A date-formatted 2E+8 as 计划投产时间: beyond 9999-12-31.
        for serial in [2e8, -1.0, f64::MAX, 2_958_466.0] {
            let cell =
                Data::DateTime(calamine::ExcelDateTime::new(serial, calamine::ExcelDateTimeType::DateTime, false));
            let e = convert(&cell, FieldType::Month, MoneyUnit::Wanyuan).unwrap_err();
            assert!(e.message.contains("不是有效日期"), "{serial}: {e:?}");
            assert!(serial < 0.0 || e.message.contains(&format!("{serial}")[..3]), "{e:?}");
        }
        let cell = Data::DateTime(calamine::ExcelDateTime::new(45_900.0, calamine::ExcelDateTimeType::DateTime, false));
        assert_eq!(convert(&cell, FieldType::Month, MoneyUnit::Wanyuan).unwrap(), Value::Text("2025-08".into()));
        // An .ods date value that is not a date: sliced on characters, never inside one.
        for iso in ["二〇二五年三月", "2025年3月", "2025-0", "2025-03-01T00:00:00", "ab"] {
            let r = convert(&Data::DateTimeIso(iso.into()), FieldType::Month, MoneyUnit::Wanyuan);
            if iso.starts_with("2025-03") || iso == "2025年3月" {
                assert_eq!(r.unwrap(), Value::Text("2025-03".into()), "{iso}");
            } else {
                assert!(r.is_err(), "{iso}: {r:?}");
            }
        }
    }

    #[test]
    fn any_cell_converts_without_panicking() {
        // Generated, not listed: numbers across the whole double range and text forms of them,
        // through every field type and unit.
        let mut cells = Vec::new();
        for exp in -320..=308 {
            for m in [1.0, -1.0, 9.999_999, 5.0] {
                let f = m * 10f64.powi(exp);
                cells.push(Data::Float(f));
                cells.push(Data::String(format!("{f:e}")));
                cells.push(Data::String(format!("{f:e}%")));
                cells.push(Data::DateTime(calamine::ExcelDateTime::new(
                    f,
                    calamine::ExcelDateTimeType::DateTime,
                    false,
                )));
            }
        }
        cells.extend([Data::Float(f64::NAN), Data::Float(f64::INFINITY), Data::Int(i64::MIN), Data::Int(i64::MAX)]);
        cells.extend(
            ["济宁", "１２３４５６７８９０１２３４５６７８９０１２３４５６７８９０", "é", "-"]
                .map(|s| Data::String(s.into())),
        );
        let types = [
            FieldType::Text,
            FieldType::Code,
            FieldType::IndustryCode,
            FieldType::Amount,
            FieldType::Count,
            FieldType::Percent,
            FieldType::Month,
        ];
        let units = [MoneyUnit::Yuan, MoneyUnit::Qianyuan, MoneyUnit::Wanyuan, MoneyUnit::Yiyuan];
        for cell in &cells {
            for ty in types {
                for unit in units {
                    if let Ok(Value::Decimal(v)) = convert(cell, ty, unit) {
                        assert!(v.abs() < Decimal::from(10u64.pow(AMOUNT_INTEGER_DIGITS)), "{cell:?}");
                    }
                }
            }
            let _ = percent_points(cell);
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
