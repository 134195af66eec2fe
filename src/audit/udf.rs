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
    // The alphabet is ASCII: a code of 18 characters of it is 18 bytes, each looked up in a table
    // (the rule runs over every row of the period).
    let bytes: &[u8; 18] = code.as_bytes().try_into().ok()?;
    let value = |b: u8| VALUE.get(usize::from(b)).copied().filter(|v| *v != NOT_IN_ALPHABET).map(u32::from);
    let mut sum = 0u32;
    for (b, w) in bytes[..17].iter().zip(WEIGHTS) {
        sum += value(*b)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(check == value(bytes[17])?)
}

/// Each ASCII character's value in [`ALPHABET`], or [`NOT_IN_ALPHABET`].
const VALUE: [u8; 128] = {
    let mut table = [NOT_IN_ALPHABET; 128];
    let alphabet = ALPHABET.as_bytes();
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NOT_IN_ALPHABET: u8 = u8::MAX;

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

    /// The check as GB 32100 defines it, character by character (the table lookup must agree).
    fn by_definition(code: &str) -> Option<bool> {
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return None;
        }
        let mut sum = 0u32;
        for (c, w) in chars[..17].iter().zip(WEIGHTS) {
            sum += ALPHABET.find(*c)? as u32 * w;
        }
        Some((31 - sum % 31) % 31 == ALPHABET.find(chars[17])? as u32)
    }

    #[test]
    fn check_digit_agrees_with_the_definition_on_generated_codes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(32100);
        // Mostly the alphabet, some characters outside it (lower case, I O S V Z, non-ASCII,
        // full-width digits), lengths around 18.
        let pool: Vec<char> = ALPHABET.chars().chain("aiIOSVZ-  é统一０９".chars()).collect();
        let (mut valid, mut invalid, mut none) = (0, 0, 0);
        for _ in 0..20_000 {
            let len = rng.random_range(16..=19);
            let mut code: String = (0..len)
                .map(|_| {
                    if rng.random_bool(0.97) {
                        ALPHABET.chars().nth(rng.random_range(0..31)).unwrap()
                    } else {
                        pool[rng.random_range(0..pool.len())]
                    }
                })
                .collect();
            if len == 18 && rng.random_bool(0.3) {
                // A right check digit, often.
                let body: String = code.chars().take(17).collect();
                if let Some(c) = gb32100_check_char(&body) {
                    code = format!("{body}{c}");
                }
            }
            let expected = by_definition(&code);
            assert_eq!(gb32100_check_ok(&code), expected, "{code:?}");
            match expected {
                Some(true) => valid += 1,
                Some(false) => invalid += 1,
                None => none += 1,
            }
        }
        assert!(valid > 1000 && invalid > 1000 && none > 1000, "{valid} {invalid} {none}");
    }
}
