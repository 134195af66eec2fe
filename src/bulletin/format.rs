//! Number formatting for the bulletin (the template filters).
//!
//! Every figure is rounded half away from zero on its *decimal* representation: an `f64` is
//! first turned into its shortest round-tripping string (`8.25_f64` → `"8.25"`), parsed as a
//! `rust_decimal::Decimal`, and rounded there, so 8.25 prints as 8.3 and not as 8.2 (which is
//! what rounding the binary value 8.2499999… would give). A missing value (none/undefined, NaN,
//! infinite) prints as `—` (不可计算), the bulletin's symbol for "cannot be computed".

use std::str::FromStr;

use minijinja::Value;
use rust_decimal::{Decimal, RoundingStrategy};

/// The symbol printed for a missing or non-computable figure.
pub const MISSING: &str = "—";

/// The symbol printed for a figure suppressed by disclosure control (or too small to show).
/// Suppressed cells reach the template as this very string, and every filter passes it through.
pub const SUPPRESSED: &str = "…";

/// The decimal value of a template value, when it is a finite number (or a numeric string).
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    if let Some(s) = v.as_str() {
        return Decimal::from_str(s.trim()).ok();
    }
    if let Some(i) = v.as_i64() {
        return Some(Decimal::from(i));
    }
    f64::try_from(v.clone()).ok().and_then(decimal_of_f64)
}

/// `x` as a Decimal via its shortest decimal representation; None when not finite or too large.
pub fn decimal_of_f64(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    // Rust's Display for f64 never uses exponent notation and prints the shortest string that
    // round-trips, which is exactly the "decimal representation" we round on. Tiny values with
    // more than 28 decimals fall back to the binary conversion (they round to zero anyway);
    // values beyond ±7.9e28 have no Decimal and print as missing.
    Decimal::from_str(&x.to_string()).ok().or_else(|| Decimal::try_from(x).ok())
}

/// `d` rounded half away from zero to exactly `dp` decimals (`-0.0` prints as `0.0`).
pub fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r.rescale(dp);
    r.to_string()
}

fn or_missing(v: &Value, f: impl FnOnce(Decimal) -> String) -> String {
    if v.as_str() == Some(SUPPRESSED) {
        return SUPPRESSED.to_string();
    }
    decimal_of(v).map(f).unwrap_or_else(|| MISSING.to_string())
}

/// `growth`: 8.34 → `增长8.3%`, −1.2 → `下降1.2%`, 0.04 → `持平`, none → `—`.
pub fn growth(v: &Value) -> String {
    or_missing(v, |d| {
        let r = d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
        if r.is_zero() {
            "持平".to_string()
        } else if r.is_sign_positive() {
            format!("增长{}%", fixed(r, 1))
        } else {
            format!("下降{}%", fixed(r.abs(), 1))
        }
    })
}

/// `pct1`: one decimal and a percent sign, 61.06 → `61.1%`.
pub fn pct1(v: &Value) -> String {
    pct(v, Some(1))
}

/// `pct(dp)`: `dp` decimals (default 1) and a percent sign.
pub fn pct(v: &Value, dp: Option<u32>) -> String {
    or_missing(v, |d| format!("{}%", fixed(d, dp.unwrap_or(1))))
}

/// `num(dp)`: a plain signed number with `dp` decimals (default 1), for table cells: 8.34 → `8.3`,
/// −1.25 → `-1.3`.
pub fn num(v: &Value, dp: Option<u32>) -> String {
    or_missing(v, |d| fixed(d, dp.unwrap_or(1)))
}

/// `yi(dp)`: 万元 → 亿元 with `dp` decimals (default 2): 314200 → `31.42`.
pub fn yi(v: &Value, dp: Option<u32>) -> String {
    or_missing(v, |d| fixed(d / Decimal::from(10_000), dp.unwrap_or(2)))
}

/// `wan(dp)`: a count or amount in units of 万 (÷ 10 000) with `dp` decimals (default 2), no
/// suffix: 35700 → `3.57`.
pub fn wan(v: &Value, dp: Option<u32>) -> String {
    or_missing(v, |d| fixed(d / Decimal::from(10_000), dp.unwrap_or(2)))
}

/// `wanren`: the way Chinese bulletins write large counts: 35700 → `3.57万`, 31000 → `3.1万`,
/// 30000 → `3万`; below 10 000 the whole number itself (9500 → `9500`).
pub fn wanren(v: &Value) -> String {
    or_missing(v, |d| {
        if d.abs() < Decimal::from(10_000) {
            fixed(d, 0)
        } else {
            let r = (d / Decimal::from(10_000))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                .normalize();
            format!("{r}万")
        }
    })
}

/// `int(sep)`: a whole number (rounded half away from zero), optionally with a thousands
/// separator: `{{ 35700|int }}` → `35700`, `{{ 35700|int(",") }}` → `35,700`.
pub fn int(v: &Value, sep: Option<&str>) -> String {
    or_missing(v, |d| {
        let s = fixed(d, 0);
        match sep {
            Some(sep) if !sep.is_empty() => group_thousands(&s, sep),
            _ => s,
        }
    })
}

fn group_thousands(s: &str, sep: &str) -> String {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s),
    };
    let mut out = String::from(sign);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(sep);
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64) -> Value {
        Value::from(x)
    }

    #[test]
    fn rounds_half_away_from_zero_on_the_decimal_representation() {
        // 8.25 is 8.2499999999999996… in binary; naive rounding gives 8.2.
        assert_eq!(num(&v(8.25), None), "8.3");
        assert_eq!(num(&v(-8.25), None), "-8.3");
        assert_eq!(num(&v(0.15), None), "0.2");
        assert_eq!(num(&v(2.675), Some(2)), "2.68");
        assert_eq!(num(&v(1.005), Some(2)), "1.01");
        assert_eq!(num(&v(-0.04), None), "0.0");
        assert_eq!(num(&v(7.0), None), "7.0");
        assert_eq!(num(&v(f64::NAN), None), "—");
        assert_eq!(num(&v(f64::INFINITY), None), "—");
        assert_eq!(num(&Value::from(()), None), "—");
        assert_eq!(num(&Value::UNDEFINED, None), "—");
        assert_eq!(num(&Value::from(SUPPRESSED), None), "…");
        assert_eq!(growth(&Value::from(SUPPRESSED)), "…");
        assert_eq!(int(&Value::from(SUPPRESSED), Some(",")), "…");
        assert_eq!(num(&Value::from(12_i64), Some(2)), "12.00");
        assert_eq!(num(&v(1e-30), Some(2)), "0.00");
        // beyond rust_decimal's range: no figure, and no panic
        assert_eq!(num(&v(1e300), Some(0)), "—");
    }

    #[test]
    fn growth_words() {
        assert_eq!(growth(&v(8.34)), "增长8.3%");
        assert_eq!(growth(&v(8.25)), "增长8.3%");
        assert_eq!(growth(&v(-1.2)), "下降1.2%");
        assert_eq!(growth(&v(-1.25)), "下降1.3%");
        assert_eq!(growth(&v(0.0)), "持平");
        assert_eq!(growth(&v(0.04)), "持平");
        assert_eq!(growth(&v(-0.049)), "持平");
        assert_eq!(growth(&v(-0.05)), "下降0.1%");
        assert_eq!(growth(&v(12.0)), "增长12.0%");
        assert_eq!(growth(&Value::from(())), "—");
        assert_eq!(growth(&Value::UNDEFINED), "—");
    }

    #[test]
    fn percentages() {
        assert_eq!(pct1(&v(61.06)), "61.1%");
        assert_eq!(pct1(&v(96.0)), "96.0%");
        assert_eq!(pct(&v(96.0), Some(0)), "96%");
        assert_eq!(pct1(&Value::from(())), "—");
    }

    #[test]
    fn yi_and_wan() {
        assert_eq!(yi(&v(314200.0), None), "31.42");
        assert_eq!(yi(&v(314250.0), None), "31.43");
        assert_eq!(yi(&v(-314250.0), None), "-31.43");
        assert_eq!(yi(&v(12.0), None), "0.00");
        assert_eq!(yi(&v(123456789.0), Some(1)), "12345.7");
        assert_eq!(wan(&v(35700.0), None), "3.57");
        assert_eq!(wanren(&v(35700.0)), "3.57万");
        assert_eq!(wanren(&v(31000.0)), "3.1万");
        assert_eq!(wanren(&v(30000.0)), "3万");
        assert_eq!(wanren(&v(35749.0)), "3.57万");
        assert_eq!(wanren(&v(35750.0)), "3.58万");
        assert_eq!(wanren(&v(9500.0)), "9500");
        assert_eq!(wanren(&Value::from(())), "—");
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(int(&v(35700.0), None), "35700");
        assert_eq!(int(&v(35700.0), Some(",")), "35,700");
        assert_eq!(int(&v(1234567.5), Some(",")), "1,234,568");
        assert_eq!(int(&v(-1234.0), Some(",")), "-1,234");
        assert_eq!(int(&v(85.0), Some(",")), "85");
        assert_eq!(int(&v(0.5), None), "1");
    }
}
