//! SQL functions the audit rules may call.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// The 31 characters of GB 32100, in value order.
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// True when an 18-character GB 32100 code's check digit is right; NULL when the code is not
/// 18 characters of the alphabet (the format rule reports that).
pub fn gb32100_check_ok(code: &str) -> Option<bool> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in chars[..17].iter().zip(WEIGHTS) {
        sum += ALPHABET.find(*c)? as u32 * w;
    }
    let check = (31 - sum % 31) % 31;
    let actual = ALPHABET.find(chars[17])? as u32;
    Some(check == actual)
}

/// The check character for the first 17 characters of a code (used by the sample generator).
pub fn gb32100_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += ALPHABET.find(c)? as u32 * w;
        n += 1;
    }
    if n != 17 {
        return None;
    }
    ALPHABET.chars().nth(((31 - sum % 31) % 31) as usize)
}

pub fn gb32100_udf() -> ScalarUDF {
    create_udf(
        "gb32100_check_ok",
        vec![DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let codes: &StringArray = as_string_array(&arrays[0])?;
            let out: BooleanArray = (0..codes.len())
                .map(|i| if codes.is_null(i) { None } else { gb32100_check_ok(codes.value(i)) })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit() {
        // A published example code with a correct check digit.
        let first = "91370800MA3C1234";
        assert_eq!(first.len(), 16);
        let body = "91370800MA3C12345";
        let c = gb32100_check_char(body).unwrap();
        let code = format!("{body}{c}");
        assert_eq!(gb32100_check_ok(&code), Some(true));
        let wrong = ALPHABET.chars().find(|x| *x != c).unwrap();
        assert_eq!(gb32100_check_ok(&format!("{body}{wrong}")), Some(false));
        assert_eq!(gb32100_check_ok("123"), None);
        assert_eq!(gb32100_check_ok("91370800MA3C12345I"), None);
        // Worked example: 91350100M000100Y43 is a well-known valid code.
        assert_eq!(gb32100_check_ok("91350100M000100Y43"), Some(true));
    }
}
