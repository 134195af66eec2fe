//! GB 32100 unified social credit codes (统一社会信用代码) and their GB 11714 organisation part.

use super::rng::Rng;

/// The 31 characters of GB 32100, in value order (no I, O, S, V, Z).
pub const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights 3^(i−1) mod 31 of the first 17 characters.
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn credit_value(c: char) -> Option<u32> {
    CREDIT_ALPHABET.find(c).map(|i| i as u32)
}

/// The GB 32100 check character for the first 17 characters of a code: 31 − (Σ mod 31), 31 → 0.
/// `None` when the input is not 17 characters of the alphabet.
pub fn credit_check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(CREDIT_WEIGHTS) {
        sum += credit_value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    CREDIT_ALPHABET.chars().nth(check as usize)
}

/// True when `code` is 18 characters of the GB 32100 alphabet with a correct check character.
pub fn is_valid_credit_code(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return false;
    }
    let first17: String = chars[..17].iter().collect();
    credit_check_char(&first17) == Some(chars[17])
}

/// GB 11714 organisation code check character over 8 characters (digits, A=10 … Z=35):
/// 11 − (Σ mod 11) with weights 3 7 9 10 5 8 4 2; 10 → X, 11 → 0.
fn org_check_char(first8: &[u8]) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first8
        .iter()
        .zip(W)
        .map(|(&c, w)| {
            let v = if c.is_ascii_digit() { (c - b'0') as u32 } else { (c - b'A') as u32 + 10 };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    }
}

/// A fresh, valid enterprise credit code: `91` + area + organisation code (old all-digit style, or
/// the post-2015 `MA…` style) + GB 32100 check character.
pub(crate) fn new_credit_code(rng: &mut Rng, area: &str) -> String {
    const OLD_PREFIXES: [&str; 14] =
        ["16", "26", "49", "57", "58", "59", "66", "67", "68", "69", "72", "73", "75", "79"];
    const MA_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut org: Vec<u8> = Vec::with_capacity(9);
    if rng.chance(0.35) {
        org.extend_from_slice(b"MA");
        org.push(*rng.pick(b"3TCQPUWNY".as_slice()));
        for _ in 0..5 {
            org.push(*rng.pick(MA_CHARS));
        }
    } else {
        org.extend_from_slice(rng.pick(&OLD_PREFIXES).as_bytes());
        for _ in 0..6 {
            org.push(b'0' + rng.below(10) as u8);
        }
    }
    let org_check = org_check_char(&org);
    let mut first17 = String::from("91");
    first17.push_str(area);
    first17.push_str(std::str::from_utf8(&org).expect("ascii"));
    first17.push(org_check);
    let check = credit_check_char(&first17).expect("generated from the alphabet");
    first17.push(check);
    first17
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_of_known_codes() {
        // Published example codes with a correct check character.
        assert!(is_valid_credit_code("91350100M000100Y43"));
        assert!(!is_valid_credit_code("91350100M000100Y44"));
        assert!(!is_valid_credit_code("91350100M000100Y4"));
        let mut rng = Rng::stream("codes-test");
        for _ in 0..1000 {
            let c = new_credit_code(&mut rng, "370811");
            assert_eq!(c.len(), 18);
            assert!(is_valid_credit_code(&c), "{c}");
            assert!(c.chars().all(|ch| CREDIT_ALPHABET.contains(ch)));
        }
    }
}
