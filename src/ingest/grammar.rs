//! The header grammar: a column's header text decomposed into its parts — the measure (a form
//! column's header or alias), the time (current or prior year) and the unit — wherever each part
//! stands: in a row of its own, or joined in one cell with or without brackets.
//!
//! The vocabulary (time words, units, separators) is data: `forms/header_grammar.toml`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;

use super::header::normalize;
use super::values::MoneyUnit;
use crate::forms::{FieldType, FormDef, Time};

/// The file of the grammar, in the forms folder.
pub const FILE: &str = "header_grammar.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrammarFile {
    time: TimeWords,
    units: UnitWords,
    #[serde(default)]
    separators: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeWords {
    current: Vec<String>,
    prior: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitWords {
    money: Vec<String>,
    #[serde(default)]
    count: Vec<String>,
    #[serde(default)]
    percent: Vec<String>,
}

/// A unit a header states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderUnit {
    Money(MoneyUnit),
    Count,
    Percent,
}

impl HeaderUnit {
    /// Whether a column of type `ty` can carry this unit.
    pub fn fits(self, ty: FieldType) -> bool {
        matches!(
            (self, ty),
            (HeaderUnit::Money(_), FieldType::Amount)
                | (HeaderUnit::Count, FieldType::Count)
                | (HeaderUnit::Percent, FieldType::Percent)
        )
    }
}

/// One part of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Time(Time),
    Unit(HeaderUnit),
}

/// The header grammar, compiled.
#[derive(Debug, Clone)]
pub struct Grammar {
    /// Anchored patterns of the time words.
    current: Regex,
    prior: Regex,
    /// Unit words, longest first.
    units: Vec<(String, HeaderUnit)>,
    separators: Vec<String>,
}

/// `{months}` in a time word: a month range or a month (1—9月, 1-9月, 9月).
const MONTHS: &str = r"(?:\d{1,2}(?:[-—–~至到]+)\d{1,2}|\d{1,2})月份?";

fn alternation(words: &[String], what: &str) -> Result<Regex> {
    let mut words: Vec<String> = words.iter().map(|w| normalize(w).into_owned()).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        bail!("the header grammar lists no {what} words");
    }
    // Leftmost-first alternation: longer words first, so 上年同期 is not read as 上年.
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    let alts: Vec<String> = words.iter().map(|w| regex::escape(w).replace(r"\{months\}", MONTHS)).collect();
    Ok(Regex::new(&format!("^(?:{})", alts.join("|")))?)
}

impl Grammar {
    /// Reads `forms/header_grammar.toml`.
    pub fn load(forms_dir: &Path) -> Result<Grammar> {
        let path = forms_dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the header grammar {}", path.display()))?;
        Grammar::parse(&text).with_context(|| format!("header grammar {} is not valid", path.display()))
    }

    pub fn parse(text: &str) -> Result<Grammar> {
        let file: GrammarFile = toml::from_str(text)?;
        let mut units = Vec::new();
        for w in &file.units.money {
            let Some(m) = MoneyUnit::find_in(w).filter(|m| m.name() == normalize(w)) else {
                bail!("money unit `{w}` is not one of 元, 千元, 万元, 亿元");
            };
            units.push((normalize(w).into_owned(), HeaderUnit::Money(m)));
        }
        units.extend(file.units.count.iter().map(|w| (normalize(w).into_owned(), HeaderUnit::Count)));
        units.extend(file.units.percent.iter().map(|w| (normalize(w).into_owned(), HeaderUnit::Percent)));
        units.retain(|(w, _)| !w.is_empty());
        units.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        Ok(Grammar {
            current: alternation(&file.time.current, "current-year time")?,
            prior: alternation(&file.time.prior, "prior-year time")?,
            units,
            separators: file.separators.iter().map(|s| normalize(s).into_owned()).filter(|s| !s.is_empty()).collect(),
        })
    }

    /// The longest grammar token at the start of `s`, with its length in bytes.
    fn token_at(&self, s: &str) -> Option<(Token, usize)> {
        let mut best: Option<(Token, usize)> = None;
        let mut consider = |t: Token, len: usize| {
            if len > 0 && best.is_none_or(|(_, l)| len > l) {
                best = Some((t, len));
            }
        };
        if let Some(m) = self.prior.find(s) {
            consider(Token::Time(Time::Prior), m.end());
        }
        if let Some(m) = self.current.find(s) {
            consider(Token::Time(Time::Current), m.end());
        }
        if let Some((w, u)) = self.units.iter().find(|(w, _)| s.starts_with(w.as_str())) {
            consider(Token::Unit(*u), w.len());
        }
        best
    }

    /// Splits text into grammar tokens; the characters that are none (nor separators) are
    /// returned as the leftover.
    fn tokenize(&self, s: &str, tokens: &mut Vec<Token>) -> String {
        let mut leftover = String::new();
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            if let Some((t, len)) = self.token_at(rest) {
                tokens.push(t);
                i += len;
            } else if let Some(sep) = self.separators.iter().find(|sep| rest.starts_with(sep.as_str())) {
                i += sep.len();
            } else {
                let c = rest.chars().next().expect("not at the end");
                leftover.push(c);
                i += c.len_utf8();
            }
        }
        leftover
    }
}

/// The measures of a form: every spelling (normalised), longest first, with the index of the
/// measure it names (columns with the same `header` share a measure).
#[derive(Debug, Clone)]
pub struct Lexicon {
    spellings: Vec<(String, usize)>,
    /// Every spelling at once, pattern ids in `spellings`' order: one pass over a cell's text
    /// instead of a substring search per spelling (the header search parses every text cell of
    /// a sheet's top rows, for every form it might be).
    automaton: aho_corasick::AhoCorasick,
    /// The canonical header of each measure.
    pub names: Vec<String>,
    /// The measure of each form column.
    pub of_column: Vec<usize>,
}

impl Lexicon {
    pub fn new(form: &FormDef) -> Lexicon {
        let mut names: Vec<String> = Vec::new();
        let mut of_column = Vec::new();
        let mut spellings: Vec<(String, usize)> = Vec::new();
        for col in &form.columns {
            let key = normalize(&col.header).into_owned();
            let m = match names.iter().position(|n| *n == key) {
                Some(m) => m,
                None => {
                    names.push(key);
                    names.len() - 1
                }
            };
            of_column.push(m);
            for s in FormDef::header_names(col) {
                let s = normalize(s).into_owned();
                if !s.is_empty() && !spellings.iter().any(|(x, _)| *x == s) {
                    spellings.push((s, m));
                }
            }
        }
        spellings.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then_with(|| a.0.cmp(&b.0)));
        let automaton = aho_corasick::AhoCorasick::new(spellings.iter().map(|(w, _)| w))
            .expect("a form's header spellings form an automaton");
        Lexicon { spellings, automaton, names, of_column }
    }

    /// The longest spelling of a measure in `s` (the first in `spellings`' order that occurs),
    /// at its first occurrence: (measure, byte range).
    fn find(&self, s: &str) -> Option<(usize, std::ops::Range<usize>)> {
        // Every occurrence of every spelling, overlapping ones included; for one spelling they
        // come in order of their end, so the first seen of the best spelling is its first.
        let mut best: Option<(usize, std::ops::Range<usize>)> = None;
        for hit in self.automaton.find_overlapping_iter(s) {
            let id = hit.pattern().as_usize();
            if best.as_ref().is_none_or(|(b, _)| id < *b) {
                best = Some((id, hit.range()));
                if id == 0 {
                    break;
                }
            }
        }
        best.map(|(id, range)| (self.spellings[id].1, range))
    }
}

/// What one header cell says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellParts {
    pub measure: Option<usize>,
    /// A second, different measure in the same cell.
    pub second_measure: bool,
    pub times: Vec<Time>,
    pub units: Vec<HeaderUnit>,
    /// Text outside brackets that is neither the measure nor a grammar word.
    pub leftover: String,
}

impl CellParts {
    /// Whether the cell reads as a header: a measure standing alone with grammar words, or
    /// grammar words alone.
    pub fn is_header(&self) -> bool {
        self.leftover.is_empty()
            && !self.second_measure
            && (self.measure.is_some() || !self.times.is_empty() || !self.units.is_empty())
    }
}

/// Splits normalised text into (in brackets, text) parts; nested brackets stay in their outer part.
fn segments(s: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | '[' | '【' | '〔' => {
                if depth == 0 && !cur.is_empty() {
                    out.push((false, std::mem::take(&mut cur)));
                } else if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' | ']' | '】' | '〕' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push((true, std::mem::take(&mut cur)));
                } else {
                    cur.push(c);
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push((depth > 0, cur));
    }
    out
}

/// Decomposes the text of one header cell.
pub fn parse_cell(text: &str, grammar: &Grammar, lexicon: &Lexicon) -> CellParts {
    let n = normalize(text);
    let mut parts = CellParts::default();
    let mut tokens = Vec::new();
    for (bracketed, seg) in segments(&n) {
        if bracketed {
            // A bracket of grammar words only (本年累计, 亿元, 本年累计/亿元) is read; anything
            // else in brackets is a qualifier (当年价格, 现价) and ignored.
            let mut inner = Vec::new();
            if grammar.tokenize(&seg, &mut inner).is_empty() {
                tokens.extend(inner);
            }
            continue;
        }
        let mut rest = seg.as_str();
        let mut before = String::new();
        if let Some((m, range)) = lexicon.find(rest) {
            if parts.measure.is_some_and(|x| x != m) {
                parts.second_measure = true;
            }
            parts.measure = Some(m);
            before = rest[..range.start].to_string();
            rest = &rest[range.end..];
            if let Some((m2, _)) = lexicon.find(rest).or_else(|| lexicon.find(&before)) {
                parts.second_measure |= m2 != m;
            }
        }
        parts.leftover.push_str(&grammar.tokenize(&before, &mut tokens));
        parts.leftover.push_str(&grammar.tokenize(rest, &mut tokens));
    }
    for t in tokens {
        match t {
            Token::Time(x) if !parts.times.contains(&x) => parts.times.push(x),
            Token::Unit(u) if !parts.units.contains(&u) => parts.units.push(u),
            _ => {}
        }
    }
    parts
}

/// What a sheet column's header says, all header rows together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnParts {
    pub measure: Option<usize>,
    pub time: Option<Time>,
    pub unit: Option<HeaderUnit>,
    /// Why the header names no single column (two measures, two times, words beside the measure).
    pub conflict: Option<String>,
}

/// Combines the cells of one sheet column, top to bottom. `spread` marks a cell whose text is
/// that of a merged cell to its left: what the column's own cells say wins over it.
pub fn combine(cells: &[(CellParts, bool)], lexicon: &Lexicon) -> ColumnParts {
    fn pick<T: Copy + PartialEq>(
        cells: &[(CellParts, bool)],
        get: impl Fn(&CellParts) -> Vec<T>,
    ) -> Result<Option<T>, ()> {
        for spread in [false, true] {
            let mut found: Vec<T> = Vec::new();
            for (c, _) in cells.iter().filter(|(_, s)| *s == spread) {
                for v in get(c) {
                    if !found.contains(&v) {
                        found.push(v);
                    }
                }
            }
            match found.len() {
                0 => continue,
                1 => return Ok(Some(found[0])),
                _ => return Err(()),
            }
        }
        Ok(None)
    }
    // A column with a label of its own (乡镇 under an empty cell) takes nothing from a merged
    // cell to its left.
    let own_label = cells.iter().any(|(c, spread)| !spread && !c.is_header());
    let kept: Vec<(CellParts, bool)> = cells.iter().filter(|(_, spread)| !(own_label && *spread)).cloned().collect();
    let cells = kept.as_slice();
    let mut out = ColumnParts::default();
    match pick(cells, |c| c.measure.into_iter().collect()) {
        Ok(m) => out.measure = m,
        Err(()) => out.conflict = Some("表头含两个不同的指标".to_string()),
    }
    if cells.iter().any(|(c, _)| c.second_measure) {
        out.conflict = Some("表头含两个不同的指标".to_string());
    }
    // Words beside the measure that the grammar does not know make it another column
    // (出口退税额 is not 出口); other cells may hold group labels, which are ignored.
    if let Some(m) = out.measure
        && let Some((c, _)) = cells.iter().find(|(c, _)| c.measure == Some(m) && !c.leftover.is_empty())
    {
        out.conflict = Some(format!("\"{}\"旁有无法识别的文字\"{}\"", lexicon.names[m], c.leftover));
    }
    match pick(cells, |c| c.times.clone()) {
        Ok(t) => out.time = t,
        Err(()) => out.conflict = Some("表头同时含本年和上年".to_string()),
    }
    match pick(cells, |c| c.units.clone()) {
        Ok(u) => out.unit = u,
        Err(()) => out.conflict = Some("表头含两个不同的计量单位".to_string()),
    }
    out
}

/// Whether a sheet column with these parts is form column `i`.
pub fn matches(parts: &ColumnParts, form: &FormDef, lexicon: &Lexicon, i: usize) -> bool {
    let col = &form.columns[i];
    parts.conflict.is_none()
        && parts.measure == Some(lexicon.of_column[i])
        && match (col.time, parts.time) {
            (want, got) if want == got => true,
            // A column the form gives no time is this year's figure (期末从业人员 under 本年).
            (None, Some(Time::Current)) => true,
            _ => false,
        }
        && parts.unit.is_none_or(|u| u.fits(col.ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Forms;

    fn setup() -> (Grammar, FormDef) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let forms = Forms::load(&root).unwrap();
        (Grammar::load(&root).unwrap(), forms.get("JN101").unwrap().clone())
    }

    fn column_of(text: &[&str], g: &Grammar, form: &FormDef) -> Option<String> {
        let lex = Lexicon::new(form);
        let cells: Vec<(CellParts, bool)> = text.iter().map(|t| (parse_cell(t, g, &lex), false)).collect();
        let parts = combine(&cells, &lex);
        let found: Vec<&str> = (0..form.columns.len())
            .filter(|&i| matches(&parts, form, &lex, i))
            .map(|i| form.columns[i].field.as_str())
            .collect();
        assert!(found.len() <= 1, "{text:?} matches {found:?}");
        found.first().map(|s| s.to_string())
    }

    #[test]
    fn parts_in_any_place() {
        let (g, f) = setup();
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["工业总产值(当年价格)", "本年累计"], Some("output_ytd")),
            (&["工业总产值(当年价格)本年累计"], Some("output_ytd")),
            (&["工业总产值(当年价格)(本年累计)"], Some("output_ytd")),
            (&["工业总产值本年累计(亿元)"], Some("output_ytd")),
            (&["本年累计工业总产值"], Some("output_ytd")),
            (&["总产值", "上年1—9月"], Some("output_prev")),
            (&["上年同期", "营业收入", "千元"], Some("revenue_prev")),
            (&["主营业务收入 [本年]"], Some("revenue_ytd")),
            (&["利润总额（上年同期，万元）"], Some("profit_prev")),
            (&["1-9月", "出口交货值"], Some("export_ytd")),
            (&["期末从业人员(人)"], Some("employees")),
            (&["期末从业人员", "本年累计"], Some("employees")),
            (&["统一社会信用\n代码"], Some("credit_code")),
            // Not a form column: words beside the measure, two times, a unit of another kind.
            (&["出口退税额", "本年累计"], None),
            (&["工业增加值", "本年累计", "上年同期"], None),
            (&["期末从业人员(万元)"], None),
            (&["工业总产值"], None),
            (&["序号"], None),
        ];
        for (text, want) in cases {
            assert_eq!(column_of(text, &g, &f).as_deref(), *want, "{text:?}");
        }
    }

    /// The automaton finds what searching for each spelling in turn found: the first spelling
    /// (longest first) that occurs, at its first occurrence. Texts are generated from pieces of
    /// every form's spellings (overlapping, repeated, cut), grammar words and other characters.
    #[test]
    fn the_automaton_finds_the_longest_spelling_at_its_first_occurrence() {
        use proptest::prelude::*;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let forms = Forms::load(&root).unwrap();
        for form in &forms.forms {
            let lex = form.lexicon();
            let naive =
                |s: &str| lex.spellings.iter().find_map(|(w, m)| s.find(w.as_str()).map(|at| (*m, at..at + w.len())));
            let mut pieces: Vec<String> = lex.spellings.iter().map(|(w, _)| w.clone()).collect();
            for (w, _) in &lex.spellings {
                let chars: Vec<char> = w.chars().collect();
                pieces.push(chars[..chars.len().div_ceil(2)].iter().collect());
                pieces.push(chars[chars.len() / 2..].iter().collect());
            }
            pieces.extend(["本年累计", "上年同期", "万元", "(", ")", "总", "值", "a", " ", "收入"].map(String::from));
            let text = proptest::collection::vec(proptest::sample::select(pieces), 0..6).prop_map(|v| v.concat());
            let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
                cases: 400,
                ..Default::default()
            });
            runner
                .run(&text, |s| {
                    prop_assert_eq!(lex.find(&s), naive(&s), "{}: {:?}", form.code, s);
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn units_in_headers() {
        let (g, f) = setup();
        let lex = Lexicon::new(&f);
        let p = parse_cell("工业增加值（亿元）", &g, &lex);
        assert_eq!(p.units, vec![HeaderUnit::Money(MoneyUnit::Yiyuan)]);
        let p = parse_cell("万元", &g, &lex);
        assert!(p.is_header() && p.measure.is_none());
        assert!(!parse_cell("91370883MA3C00001X", &g, &lex).is_header());
        assert!(!parse_cell("填报单位:任城区统计局", &g, &lex).is_header());
    }

    #[test]
    fn grammar_file_is_checked() {
        assert!(Grammar::parse("[time]\ncurrent=[]\nprior=[\"上年\"]\n[units]\nmoney=[\"元\"]\n").is_err());
        assert!(Grammar::parse("[time]\ncurrent=[\"本年\"]\nprior=[\"上年\"]\n[units]\nmoney=[\"美元\"]\n").is_err());
    }
}
