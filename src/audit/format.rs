//! Values as a county bureau reads them in a message: 12,345.6.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int32Type, Int64Type, UInt64Type};
use rust_decimal::Decimal;

/// Thousands separators on the integer part of a plain decimal string.
pub fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", s));
    let (int, frac) = rest.split_once('.').map(|(a, b)| (a, Some(b))).unwrap_or((rest, None));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// An amount: thousands separators, at least one decimal, no trailing zeros beyond it.
pub fn amount(d: Decimal) -> String {
    let mut n = d.normalize();
    if n.scale() == 0 {
        n.rescale(1);
    }
    group_thousands(&n.to_string())
}

/// One cell of an Arrow array as message text; empty cells as "空".
pub fn cell(array: &ArrayRef, i: usize) -> String {
    if array.is_null(i) {
        return "空".to_string();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i).to_string(),
        DataType::Utf8View => array.as_string_view().value(i).to_string(),
        // A sum beyond a 96-bit decimal (Decimal128(38, _) holds more) is shown as Arrow writes it.
        DataType::Decimal128(_, s) => {
            match Decimal::try_from_i128_with_scale(array.as_primitive::<Decimal128Type>().value(i), *s as u32) {
                Ok(d) => amount(d),
                Err(_) => arrow::util::display::array_value_to_string(array, i).unwrap_or_default(),
            }
        }
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(i);
            let d = Decimal::from_str_exact(&format!("{v}")).unwrap_or_default();
            amount(d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
        }
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).to_string(),
        _ => arrow::util::display::array_value_to_string(array, i).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts() {
        assert_eq!(amount(Decimal::from_str("12345.600000").unwrap()), "12,345.6");
        assert_eq!(amount(Decimal::from_str("11000").unwrap()), "11,000.0");
        assert_eq!(amount(Decimal::from_str("-1234567.25").unwrap()), "-1,234,567.25");
        assert_eq!(amount(Decimal::from_str("0.5").unwrap()), "0.5");
    }
}
