//! Finding a sheet's form, county, period and unit in its header block, and its column headers.
//!
//! Header matching is by content: spaces, line breaks and full-width forms are ignored, and a
//! "(...)" part is compared separately, so "工业总产值\n(当年价格)" matches "工业总产值".

use std::borrow::Cow;
use std::sync::LazyLock;

use calamine::Data;
use regex::Regex;

use super::values::{MoneyUnit, halfwidth};
use crate::period::Period;
use crate::reference::Region;

/// Normalised header text: half-width, no white space (borrowed when there is nothing to change).
pub fn normalize(s: &str) -> Cow<'_, str> {
    // One pass for the common case: nothing full-width and no white space (the CJK ideographs
    // of names and labels are neither).
    if !s.chars().any(|c| match c {
        '\0'..='\x7f' => c.is_ascii_whitespace() || c == '\x0b',
        '\u{80}'..='\u{3000}' => c.is_whitespace() || c == '\u{00A0}' || c == '\u{3000}',
        _ => matches!(c, '\u{FF01}'..='\u{FF5E}'),
    }) {
        return Cow::Borrowed(s);
    }
    let h = halfwidth(s);
    if !h.chars().any(char::is_whitespace) {
        return h;
    }
    Cow::Owned(h.chars().filter(|c| !c.is_whitespace()).collect())
}

/// The comparison key of a header: normalised, with every "(...)" part removed.
pub fn header_key(s: &str) -> String {
    let mut out = String::new();
    header_key_into(s, &mut out);
    out
}

/// [`header_key`] written into `out` (cleared first), to reuse one buffer over many cells.
pub fn header_key_into(s: &str, out: &mut String) {
    out.clear();
    let n = normalize(s);
    out.reserve(n.len());
    let mut depth = 0usize;
    for c in n.chars() {
        match c {
            '(' | '[' | '【' => depth += 1,
            ')' | ']' | '】' => depth = depth.saturating_sub(1),
            // Colons are dropped wherever they stand, inside brackets or not.
            ':' | '：' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
}

/// Text of a cell for header purposes (borrowed for text cells).
pub fn cell_text(cell: &Data) -> Cow<'_, str> {
    match cell {
        Data::String(s) => Cow::Borrowed(s),
        Data::Empty => Cow::Borrowed(""),
        Data::Float(f) => Cow::Owned(format!("{f}")),
        Data::Int(i) => Cow::Owned(i.to_string()),
        other => Cow::Owned(other.to_string()),
    }
}

/// Appends the [`cell_text`] of a cell to `out`.
pub fn push_cell_text(out: &mut String, cell: &Data) {
    use std::fmt::Write;
    match cell {
        Data::String(s) => out.push_str(s),
        Data::Empty => {}
        Data::Float(f) => write!(out, "{f}").expect("write to a string"),
        Data::Int(i) => write!(out, "{i}").expect("write to a string"),
        other => write!(out, "{other}").expect("write to a string"),
    }
}

/// [`normalize`]d text of a cell (borrowed for text cells that need no change).
pub fn normalized_text(cell: &Data) -> Cow<'_, str> {
    match cell_text(cell) {
        Cow::Borrowed(s) => normalize(s),
        Cow::Owned(s) => Cow::Owned(normalize(&s).into_owned()),
    }
}

/// What the header block (title, 表号, 填报单位, period, 计量单位 lines) says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlockInfo {
    pub form_code: Option<String>,
    pub region_code: Option<String>,
    pub period: Option<PeriodMention>,
    pub unit: Option<MoneyUnit>,
    /// A period written that is no reporting period (`2025年1—13月`, `2025年3—9月`).
    #[serde(default)]
    pub bad_period: Option<String>,
}

/// A period as written: `2025年1—9月` (cumulative) or `2025年9月`; `january_only` for a return
/// labelled January alone, which the reporting system does not accept.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PeriodMention {
    pub period: Period,
    pub january_only: bool,
}

static FORM_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"表\s*号\s*[:：]?\s*([A-Za-z]{1,4}\s*-?\s*\d{2,4})").expect("regex"));
static REPORTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"填报单位[^:：]*[:：]\s*(\S+)").expect("regex"));
static PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{4})\s*年\s*(?:(\d{1,2})\s*(?:月)?\s*[-—–~至到－]+\s*)?(\d{1,2})\s*月").expect("regex")
});
static PERIOD_NUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\D)(20\d{2})[-_.]?(0[1-9]|1[0-2])(?:\D|$)").expect("regex"));
static UNIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:计量)?单位\s*[:：]\s*(亿元|千元|万元|元)").expect("regex"));
/// Dates in the header block that are not the period (validity of the form, date of filing).
static NOT_PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(有效期至|有效期|报出日期|填报日期|批准文号|制定机关)\s*[:：]?\s*\S*").expect("regex")
});

/// Finds a period mention in free text (a header line or a file name).
pub fn find_period(text: &str) -> Option<PeriodMention> {
    let text = halfwidth(text);
    let cleaned = NOT_PERIOD.replace_all(&text, " ");
    if let Some(c) = PERIOD.captures(&cleaned) {
        let year: i32 = c[1].parse().ok()?;
        let end: u32 = c[3].parse().ok()?;
        let start: Option<u32> = c.get(2).and_then(|m| m.as_str().parse().ok());
        // Cumulative from January: a range from another month is no reporting period.
        if start.is_some_and(|s| s != 1) {
            return None;
        }
        let period = Period::new(year, end).ok()?;
        let january_only = end == 1;
        return Some(PeriodMention { period, january_only });
    }
    let c = PERIOD_NUMERIC.captures(&cleaned)?;
    let period = Period::new(c[1].parse().ok()?, c[2].parse().ok()?).ok()?;
    Some(PeriodMention { period, january_only: period.month == 1 })
}

/// A period written in free text that is no reporting period: a month outside 1—12, or a
/// range that does not start in January. The text as written.
pub fn find_bad_period(text: &str) -> Option<String> {
    let text = halfwidth(text);
    let cleaned = NOT_PERIOD.replace_all(&text, " ");
    let c = PERIOD.captures(&cleaned)?;
    let end: u32 = c[3].parse().ok()?;
    let start: Option<u32> = c.get(2).and_then(|m| m.as_str().parse().ok());
    let bad = !(1..=12).contains(&end) || start.is_some_and(|s| s != 1);
    bad.then(|| c[0].trim().to_string())
}

/// Finds a region named in free text: full name, short name or code; the longest match wins so
/// that 济宁高新技术产业开发区 is not read as a shorter name it contains.
pub fn find_region(text: &str, regions: &[Region]) -> Option<String> {
    let text = normalize(text);
    let mut best: Option<(usize, &Region)> = None;
    for r in regions {
        let bare = r.name.trim_end_matches(['区', '县', '市']);
        for cand in [r.name.as_str(), r.code.as_str(), r.short_name.as_str(), bare] {
            if cand.chars().count() >= 2 && text.contains(cand) && best.is_none_or(|(l, _)| cand.len() > l) {
                best = Some((cand.len(), r));
            }
        }
    }
    best.map(|(_, r)| r.code.clone())
}

/// The 表号 written in half-width text, upper-case without separators (`JN101`).
fn form_code_in(text: &str) -> Option<String> {
    FORM_CODE
        .captures(text)
        .map(|c| c[1].chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase())
}

/// The 表号 of a header block, as [`parse_block`] reads it (without reading the rest).
pub fn find_form_code(lines: &[String]) -> Option<String> {
    let joined = lines.join(" ");
    form_code_in(&halfwidth(&joined))
}

/// Reads the header block: the text of the rows above the column headers.
pub fn parse_block(lines: &[String], regions: &[Region]) -> BlockInfo {
    let joined = lines.join(" ");
    let text = halfwidth(&joined);
    let form_code = form_code_in(&text);
    let region_code =
        REPORTER.captures(&text).and_then(|c| find_region(&c[1], regions)).or_else(|| find_region(&text, regions));
    let period = find_period(&text);
    let bad_period = if period.is_none() { find_bad_period(&text) } else { None };
    let unit = UNIT.captures(&text).and_then(|c| MoneyUnit::find_in(&c[1]));
    BlockInfo { form_code, region_code, period, unit, bad_period }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<Region> {
        [
            ("370811", "任城区", "任城"),
            ("370871", "济宁高新技术产业开发区", "高新区"),
            ("JN-TBH", "济宁太白湖新区", "太白湖"),
        ]
        .iter()
        .map(|(c, n, s)| Region { code: c.to_string(), name: n.to_string(), short_name: s.to_string() })
        .collect()
    }

    #[test]
    fn block_is_read() {
        let lines = vec![
            "济宁市规模以上工业企业主要经济指标月报".to_string(),
            "表号:JN101 制定机关:济宁市统计局 有效期至:2026年12月".to_string(),
            "填报单位(盖章):任城区统计局 2025年1—9月 计量单位:千元".to_string(),
        ];
        let b = parse_block(&lines, &regions());
        assert_eq!(b.form_code.as_deref(), Some("JN101"));
        assert_eq!(b.region_code.as_deref(), Some("370811"));
        assert_eq!(b.period.unwrap().period.to_string(), "2025-09");
        assert_eq!(b.unit, Some(MoneyUnit::Qianyuan));
    }

    #[test]
    fn periods_and_regions_in_text() {
        assert_eq!(find_period("2025年9月").unwrap().period.to_string(), "2025-09");
        assert!(find_period("2025年1月").unwrap().january_only);
        assert!(!find_period("2025年1-2月").unwrap().january_only);
        assert!(find_period("2025年3-9月").is_none());
        assert_eq!(find_bad_period("填报单位:任城区 2025年3—9月").as_deref(), Some("2025年3—9月"));
        assert_eq!(find_bad_period("2025年1-13月").as_deref(), Some("2025年1-13月"));
        assert_eq!(find_bad_period("2025年1-9月"), None);
        assert_eq!(find_period("任城区_2025年1-9月_倍增监测报表").unwrap().period.to_string(), "2025-09");
        assert_eq!(find_period("rencheng_202508.xlsx").unwrap().period.to_string(), "2025-08");
        assert_eq!(find_region("高新区_2025年1-9月", &regions()).as_deref(), Some("370871"));
        assert_eq!(find_region("太白湖新区统计局", &regions()).as_deref(), Some("JN-TBH"));
    }

    #[test]
    fn header_keys() {
        assert_eq!(header_key("工业总产值\n（当年价格）"), "工业总产值");
        assert_eq!(header_key(" 期末从业人员(人) "), "期末从业人员");
        assert_eq!(header_key("其中:出口"), "其中出口");
    }
}
