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

/// `x` as the bulletin prints it with `dp` decimals (half away from zero on the decimal value),
/// for comparisons at published precision (ranks, revisions); None when not finite.
pub fn published(x: f64, dp: u32) -> Option<Decimal> {
    decimal_of_f64(x).map(|d| d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
}

/// `published(dp)` filter: the number as printed with `dp` decimals, as a number again (to compare
/// figures the way a reader sees them); a missing figure stays none, a suppressed one `…`.
pub fn published_value(v: &Value, dp: u32) -> Value {
    if v.as_str() == Some(SUPPRESSED) {
        return v.clone();
    }
    match decimal_of(v).map(|d| d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)) {
        Some(d) => d.to_string().parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::from(())),
        None => Value::from(()),
    }
}

/// `profit(ytd, change, growth)`: the profit clause of the bulletin, worded by the signs of this
/// year's and last year's profit (`change` = this year − last year, 万元; `growth` the rate,
/// none on a loss base), amounts in 亿元:
///
/// | last year | this year | clause |
/// |---|---|---|
/// | profit | profit or 0 | 实现利润总额12.00亿元，同比增长5.0% |
/// | profit | loss | 亏损3.00亿元，上年同期盈利5.00亿元，由盈转亏 |
/// | loss or 0 | profit | 实现利润总额2.00亿元，上年同期亏损1.00亿元，扭亏为盈 |
/// | loss | smaller loss | 亏损1.00亿元，同比减亏2.00亿元 |
/// | loss | 0 | 利润总额为零，同比减亏2.00亿元 |
/// | loss or 0 | larger loss | 亏损4.00亿元，同比增亏1.00亿元 |
/// | loss | the same loss | 亏损1.00亿元，与上年同期持平 |
/// | 0 | 0 | 利润总额与上年同期均为零 |
///
/// A missing figure prints `—`, a suppressed one `…`.
pub fn profit(ytd: &Value, change: &Value, growth_v: &Value) -> String {
    for v in [ytd, change] {
        if v.as_str() == Some(SUPPRESSED) {
            return format!("实现利润总额{SUPPRESSED}");
        }
    }
    let (Some(now), Some(delta)) = (decimal_of(ytd), decimal_of(change)) else {
        return format!("实现利润总额{}亿元，同比{}", yi_of(ytd), growth(growth_v));
    };
    let prev = now - delta;
    let yi_abs = |d: Decimal| fixed(d.abs() / Decimal::from(10_000), 2);
    let zero = Decimal::ZERO;
    if prev > zero && now >= zero {
        format!("实现利润总额{}亿元，同比{}", yi_abs(now), growth(growth_v))
    } else if prev > zero {
        format!("亏损{}亿元，上年同期盈利{}亿元，由盈转亏", yi_abs(now), yi_abs(prev))
    } else if now > zero && prev < zero {
        format!("实现利润总额{}亿元，上年同期亏损{}亿元，扭亏为盈", yi_abs(now), yi_abs(prev))
    } else if now > zero {
        format!("实现利润总额{}亿元，上年同期为零，扭亏为盈", yi_abs(now))
    } else if now == zero && prev == zero {
        "利润总额与上年同期均为零".to_string()
    } else if now == zero {
        format!("利润总额为零，同比减亏{}亿元", yi_abs(delta))
    } else if now == prev {
        format!("亏损{}亿元，与上年同期持平", yi_abs(now))
    } else if now > prev {
        format!("亏损{}亿元，同比减亏{}亿元", yi_abs(now), yi_abs(delta))
    } else {
        format!("亏损{}亿元，同比增亏{}亿元", yi_abs(now), yi_abs(delta))
    }
}

fn yi_of(v: &Value) -> String {
    yi(v, None)
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

    /// Every combination of signs of last year's and this year's profit, with amounts drawn
    /// from a small generator: the clause's words follow the signs and name the right amounts.
    #[test]
    fn profit_words_follow_the_signs() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut draw = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // whole 万元, so that sums and differences are exact in f64 (halves included)
            (seed % 2_000_000) as f64 + 1.0
        };
        for _ in 0..200 {
            let (a, b) = (draw(), draw());
            for (prev, now) in [(a, b), (a, -b), (-a, b), (-a, -b), (0.0, b), (0.0, -b), (-a, 0.0), (a, 0.0)] {
                let change = now - prev;
                let growth_v = if prev > 0.0 { v((now / prev - 1.0) * 100.0) } else { Value::from(()) };
                let text = profit(&v(now), &v(change), &growth_v);
                // 亿元 with two decimals, half up, in integers
                let yi_abs = |x: f64| {
                    let hundredths = (((x.abs() * 10.0).round() as i64) + 500) / 1000;
                    format!("{}.{:02}", hundredths / 100, hundredths % 100)
                };
                let expect = match (prev.partial_cmp(&0.0).unwrap(), now.partial_cmp(&0.0).unwrap()) {
                    (std::cmp::Ordering::Greater, o) if o.is_ge() => {
                        format!("实现利润总额{}亿元，同比{}", yi_abs(now), growth(&growth_v))
                    }
                    (std::cmp::Ordering::Greater, _) => {
                        format!("亏损{}亿元，上年同期盈利{}亿元，由盈转亏", yi_abs(now), yi_abs(prev))
                    }
                    (std::cmp::Ordering::Less, std::cmp::Ordering::Greater) => {
                        format!("实现利润总额{}亿元，上年同期亏损{}亿元，扭亏为盈", yi_abs(now), yi_abs(prev))
                    }
                    (_, std::cmp::Ordering::Greater) => {
                        format!("实现利润总额{}亿元，上年同期为零，扭亏为盈", yi_abs(now))
                    }
                    (std::cmp::Ordering::Less, std::cmp::Ordering::Equal) => {
                        format!("利润总额为零，同比减亏{}亿元", yi_abs(change))
                    }
                    (_, _) if now > prev => format!("亏损{}亿元，同比减亏{}亿元", yi_abs(now), yi_abs(change)),
                    (_, _) => format!("亏损{}亿元，同比增亏{}亿元", yi_abs(now), yi_abs(change)),
                };
                assert_eq!(text, expect, "prev {prev}, now {now}");
                // A rate is printed only on a positive base.
                assert_eq!(text.contains('%'), prev > 0.0 && now >= 0.0, "{text}");
            }
        }
        assert_eq!(profit(&v(-10_000.0), &v(0.0), &Value::from(())), "亏损1.00亿元，与上年同期持平");
        assert_eq!(profit(&v(0.0), &v(0.0), &Value::from(())), "利润总额与上年同期均为零");
        assert_eq!(
            profit(&v(20_000.0), &v(50_000.0), &Value::from(())),
            "实现利润总额2.00亿元，上年同期亏损3.00亿元，扭亏为盈"
        );
        assert_eq!(
            profit(&Value::from(SUPPRESSED), &Value::from(SUPPRESSED), &Value::from(SUPPRESSED)),
            "实现利润总额…"
        );
        assert_eq!(profit(&Value::from(()), &Value::from(()), &Value::from(())), "实现利润总额—亿元，同比—");
    }

    #[test]
    fn published_values_compare_as_printed() {
        assert_eq!(published_value(&v(8.25), 1), Value::from(8.3));
        assert_eq!(published_value(&v(8.34), 1), published_value(&v(8.26), 1));
        assert!(published_value(&Value::from(()), 1).is_none());
        assert_eq!(published_value(&Value::from(SUPPRESSED), 1), Value::from(SUPPRESSED));
        assert_eq!(published(-1.25, 1), Some(Decimal::new(-13, 1)));
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
