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
/// that 济宁高新技术产业开发区 is not read as a shorter name it contains (of equal lengths, the
/// first region of the list, and its full name before its code and short name).
pub fn find_region(text: &str, regions: &[Region]) -> Option<String> {
    let text = normalize(text);
    let names = RegionNames::of(regions);
    let mut best: Option<(usize, usize)> = None;
    for m in names.automaton.find_overlapping_iter(text.as_ref()) {
        let id = m.pattern().as_usize();
        let len = m.end() - m.start();
        if best.is_none_or(|(l, i)| len > l || (len == l && id < i)) {
            best = Some((len, id));
        }
    }
    best.map(|(_, id)| regions[names.region[id]].code.clone())
}

/// Every name a region goes by (full name, code, short name, the name without its 区/县/市), as
/// one automaton that reads a text once. Scanning the text once per region made a header cost
/// as much as the regions are many: 2,800 at national scale, a few seconds of every run.
struct RegionNames {
    regions: Vec<Region>,
    automaton: aho_corasick::AhoCorasick,
    /// The region (its index) of each name, in the automaton's order (region by region).
    region: Vec<usize>,
}

impl RegionNames {
    /// The automaton of `regions`, built once for a list and kept while the list is the same.
    fn of(regions: &[Region]) -> std::sync::Arc<RegionNames> {
        static LAST: std::sync::Mutex<Option<std::sync::Arc<RegionNames>>> = std::sync::Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(names) = last.as_ref().filter(|n| n.regions == regions) {
            return names.clone();
        }
        let mut patterns: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut region = Vec::new();
        for (i, r) in regions.iter().enumerate() {
            let bare = r.name.trim_end_matches(['区', '县', '市']);
            for name in [r.name.as_str(), r.code.as_str(), r.short_name.as_str(), bare] {
                // The first of equal names wins a tie: a later copy could never be chosen.
                if name.chars().count() >= 2 && seen.insert(name) {
                    patterns.push(name);
                    region.push(i);
                }
            }
        }
        let automaton = aho_corasick::AhoCorasick::new(&patterns).expect("region names form an automaton");
        let names = std::sync::Arc::new(RegionNames { regions: regions.to_vec(), automaton, region });
        *last = Some(names.clone());
        names
    }
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

    /// The region found by the automaton is the one a scan of every name of every region finds,
    /// over generated region lists (names inside other names, shared short names, codes in
    /// text) and texts made of their pieces.
    #[test]
    fn regions_found_in_one_pass_are_those_a_scan_of_every_name_finds() {
        use rand::{Rng, SeedableRng};
        fn by_scan(text: &str, regions: &[Region]) -> Option<String> {
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
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let syllables = ["济", "宁", "任", "城", "兖", "州", "曲", "阜", "高", "新", "太", "白", "湖", "微", "山"];
        let suffixes = ["区", "县", "市", "", "新区"];
        let word = |rng: &mut rand::rngs::SmallRng, n: usize| -> String {
            (0..n).map(|_| syllables[rng.random_range(0..syllables.len())]).collect()
        };
        let mut found = 0;
        for _ in 0..200 {
            let n = rng.random_range(1..12);
            let regions: Vec<Region> = (0..n)
                .map(|i| {
                    let len = rng.random_range(1..4);
                    let stem = word(&mut rng, len);
                    let name = format!("{stem}{}", suffixes[rng.random_range(0..suffixes.len())]);
                    let short = if rng.random_bool(0.5) { stem.clone() } else { word(&mut rng, 2) };
                    Region { code: format!("3708{:02}", rng.random_range(0..20) + i % 3), name, short_name: short }
                })
                .collect();
            for _ in 0..20 {
                let mut text = String::new();
                for _ in 0..rng.random_range(0..5) {
                    let r = &regions[rng.random_range(0..regions.len())];
                    let piece = match rng.random_range(0..5) {
                        0 => r.name.clone(),
                        1 => r.code.clone(),
                        2 => r.short_name.clone(),
                        3 => word(&mut rng, 2),
                        _ => " 统计局_2025年1-9月 ".to_string(),
                    };
                    text.push_str(&piece);
                }
                let expected = by_scan(&text, &regions);
                found += usize::from(expected.is_some());
                assert_eq!(find_region(&text, &regions), expected, "{text:?} in {regions:?}");
            }
        }
        assert!(found > 1000, "{found}");
    }

    #[test]
    fn header_keys() {
        assert_eq!(header_key("工业总产值\n（当年价格）"), "工业总产值");
        assert_eq!(header_key(" 期末从业人员(人) "), "期末从业人员");
        assert_eq!(header_key("其中:出口"), "其中出口");
    }
}
