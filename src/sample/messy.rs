//! "Messy" mode: the same JN101 data written the untidy ways county bureaus really fill the form
//! (FORMS.md, "What real returns look like"): other units, columns in another order, header
//! aliases with spaces and line breaks, numbers typed as text with separators or full-width
//! digits, formulas, "—" for nothing, blank rows, a 合计 row anywhere, notes, extra and hidden
//! columns, decoy sheets, lower-case credit codes, industry codes stored as numbers.
//!
//! Every presentation must ingest into exactly the rows of the tidy one; the ingest corpus and
//! property tests (`tests/ingest_*.rs`) hold gongbao to that, and `gongbao sample --messy` writes
//! the whole sample inbox this way.

use anyhow::{Context, Result};
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet};

use super::Jn101Row;

/// The unit the amounts are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Yuan,
    Qianyuan,
    Wanyuan,
    Yiyuan,
}

impl Unit {
    pub const ALL: [Unit; 4] = [Unit::Yuan, Unit::Qianyuan, Unit::Wanyuan, Unit::Yiyuan];

    pub fn name(self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::Qianyuan => "千元",
            Unit::Wanyuan => "万元",
            Unit::Yiyuan => "亿元",
        }
    }

    /// An amount in 万元 expressed in this unit (exact).
    pub fn from_wanyuan(self, d: Decimal) -> Decimal {
        match self {
            Unit::Yuan => d * Decimal::from(10_000),
            Unit::Qianyuan => d * Decimal::from(10),
            Unit::Wanyuan => d,
            Unit::Yiyuan => d / Decimal::from(10_000),
        }
        .normalize()
    }
}

/// Where the unit is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitPlace {
    /// `计量单位:千元` in the header block.
    Block,
    /// In every amount header: `营业收入(千元)` (or a unit row of its own).
    Headers,
    /// Nowhere: the amounts are in 万元, the form's unit.
    None,
}

impl UnitPlace {
    pub const ALL: [UnitPlace; 3] = [UnitPlace::Block, UnitPlace::Headers, UnitPlace::None];
}

/// How a header's parts (measure, time, unit) are put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// Each part in a row of its own: 工业总产值 over 本年累计 (over 亿元).
    Rows,
    /// In one cell, side by side: `工业总产值本年累计亿元`, or the time first.
    Joined,
    /// In one cell, time and unit in brackets: `工业总产值(本年累计)(亿元)`, `[本年]`, `（上年同期，亿元）`.
    Bracketed,
}

impl Joining {
    pub const ALL: [Joining; 3] = [Joining::Rows, Joining::Joined, Joining::Bracketed];
}

/// The order of the ten amount columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountOrder {
    /// Each measure's 本年累计 next to its 上年同期.
    Pairs,
    /// Every 本年累计 column first (where the pairs stood), every 上年同期 column after them.
    CurrentThenPrior,
    /// In an order drawn from this seed.
    Shuffled(u64),
}

impl AmountOrder {
    pub const CLASSES: [AmountOrder; 3] = [AmountOrder::Pairs, AmountOrder::CurrentThenPrior, AmountOrder::Shuffled(7)];
}

/// How the form can be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMark {
    /// A `表号:JN101` line; the sheet is called `Sheet1`.
    Code,
    /// The sheet is called `规上工业`; no 表号, a title without the form's name.
    SheetName,
    /// The title names the form; sheet `Sheet1`.
    Title,
    /// Nothing but the column headers (sheet `数据`).
    HeadersOnly,
}

/// How numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Number cells.
    Plain,
    /// Text cells: `1234.5`.
    Text,
    /// Text with thousands separators and a trailing space: `1,234.5 `.
    TextThousands,
    /// Text in full-width digits and signs: `１２３４．５`, `－５`.
    FullWidth,
    /// Formulas whose cached value is the number.
    Formula,
}

/// How a zero export (blank = 0 by the form) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nothing {
    Empty,
    Dash,
    EmDash,
    Slash,
}

/// Where the 合计 row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalPlace {
    None,
    Top,
    Middle,
    Bottom,
}

/// How the period is written in the header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodStyle {
    /// `2025年1—9月`.
    Cumulative,
    /// `2025年9月`.
    Month,
    /// Not stated in the sheet (the file name must say it).
    Absent,
}

/// The column groups of JN101, in the form's order: credit code, name, industry code, five
/// amount pairs (本年累计/上年同期), employees, note.
pub const SLOTS: usize = 10;

/// One untidy presentation of a JN101 sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    pub unit: Unit,
    pub unit_place: UnitPlace,
    /// A permutation of `0..SLOTS`: the order the column groups appear in.
    pub order: Vec<usize>,
    /// Header wording: 0 canonical, 1 an alias (总产值, 主营业务收入, …), 2 with spaces, line
    /// breaks and full-width brackets.
    pub wording: usize,
    /// Top headers of the amount pairs merged over both columns (else repeated in each).
    pub merged: bool,
    pub numbers: Numbers,
    pub nothing: Nothing,
    /// Blank rows inserted after these data rows (0-based indexes into the rows).
    pub blank_after: Vec<usize>,
    pub total: TotalPlace,
    /// `注:` and signature lines under the data.
    pub notes: bool,
    /// Extra columns 序号, 乡镇, 联系人.
    pub extras: bool,
    /// A hidden extra column (内部编号) between the groups.
    pub hidden_column: bool,
    pub mark: FormMark,
    /// `填报单位(盖章):XX统计局` in the header block.
    pub county_in_sheet: bool,
    pub period: PeriodStyle,
    /// Credit codes in lower case with spaces around and inside.
    pub messy_codes: bool,
    /// Industry codes as number cells (0610 arrives as 610).
    pub industry_as_number: bool,
    /// A visible instructions sheet and a hidden scratch sheet before the form.
    pub decoy_sheets: bool,
    /// Column header rows: 1, 2 or 3.
    pub header_rows: u32,
    pub joining: Joining,
    pub amount_order: AmountOrder,
    /// The time words: 0 本年累计/上年同期, 1 本年/上年, 2 1—M月/上年1—M月, 3 本期/同期.
    pub time_words: usize,
    /// The time before the measure in a joined cell (本年累计工业总产值).
    pub time_first: bool,
}

impl Default for Presentation {
    /// The tidy presentation.
    fn default() -> Self {
        Presentation {
            unit: Unit::Wanyuan,
            unit_place: UnitPlace::Block,
            order: (0..SLOTS).collect(),
            wording: 0,
            merged: true,
            numbers: Numbers::Plain,
            nothing: Nothing::Empty,
            blank_after: Vec::new(),
            total: TotalPlace::Bottom,
            notes: true,
            extras: false,
            hidden_column: false,
            mark: FormMark::Code,
            county_in_sheet: true,
            period: PeriodStyle::Cumulative,
            messy_codes: false,
            industry_as_number: false,
            decoy_sheets: false,
            header_rows: 2,
            joining: Joining::Rows,
            amount_order: AmountOrder::Pairs,
            time_words: 0,
            time_first: false,
        }
    }
}

impl Presentation {
    /// The header layout a presentation really gets: one header row cannot hold parts in rows
    /// of their own (they are joined), and a unit stated nowhere means 万元.
    pub fn effective(&self) -> Presentation {
        let mut p = self.clone();
        p.header_rows = p.header_rows.clamp(1, 3);
        if p.header_rows == 1 && p.joining == Joining::Rows {
            p.joining = Joining::Joined;
        }
        if p.unit_place == UnitPlace::None {
            p.unit = Unit::Wanyuan;
        }
        p
    }
}

/// The presentation the `--messy` sample uses for the `i`-th return: every quirk appears, in
/// many combinations, deterministically.
pub fn presentation_for(i: usize) -> Presentation {
    let mut order: Vec<usize> = (0..SLOTS).collect();
    order.rotate_left(i % SLOTS);
    Presentation {
        unit: Unit::ALL[i % 4],
        unit_place: if i.is_multiple_of(3) { UnitPlace::Headers } else { UnitPlace::Block },
        order,
        wording: i % 3,
        merged: i.is_multiple_of(2),
        numbers: [Numbers::Plain, Numbers::Text, Numbers::TextThousands, Numbers::FullWidth, Numbers::Formula][i % 5],
        nothing: [Nothing::Empty, Nothing::Dash, Nothing::EmDash, Nothing::Slash][(i / 2) % 4],
        blank_after: vec![i % 3, 1 + i % 5],
        total: [TotalPlace::None, TotalPlace::Top, TotalPlace::Middle, TotalPlace::Bottom][(i / 3) % 4],
        notes: i % 4 != 1,
        extras: i % 2 == 1,
        hidden_column: i % 3 == 1,
        // The county and period stay in the sheet, so the sample's file names need not change.
        mark: [FormMark::Code, FormMark::SheetName, FormMark::Title, FormMark::HeadersOnly][(i / 5) % 4],
        county_in_sheet: true,
        period: if i.is_multiple_of(2) { PeriodStyle::Cumulative } else { PeriodStyle::Month },
        messy_codes: i.is_multiple_of(2),
        industry_as_number: i % 3 != 2,
        decoy_sheets: i % 4 == 3,
        header_rows: 1 + (i % 3) as u32,
        joining: Joining::ALL[(i / 3) % 3],
        amount_order: [AmountOrder::Pairs, AmountOrder::CurrentThenPrior, AmountOrder::Shuffled(i as u64)][(i / 2) % 3],
        time_words: (i / 4) % 4,
        time_first: i % 5 == 2,
    }
}

/// Headers of a group in each wording (the measure; amounts get their time and unit by the
/// presentation's grammar): 0 canonical, 1 and 3 aliases of forms/JN101.toml, 2 with spaces,
/// line breaks and full-width brackets.
pub fn group_header(slot: usize, wording: usize) -> &'static str {
    const H: [[&str; WORDINGS]; SLOTS] = [
        ["统一社会信用代码", "社会信用代码", "统一社会信用\n代码", "统一代码"],
        ["单位详细名称", "企业名称", "单位 详细名称", "单位名称"],
        ["行业代码", "国民经济行业代码", "行业\n代码", "行业小类代码"],
        ["工业总产值(当年价格)", "总产值", "工业总产值\n（当年价格）", "工业总产值（现价）"],
        ["工业增加值", "增加值", "工业 增加值", "工业增加值"],
        ["营业收入", "主营业务收入", "营业\n收入", "营业收入合计"],
        ["利润总额", "利润", "利 润 总 额", "利润总额"],
        ["出口交货值", "出口交货值", "出口\n交货值", "出口"],
        ["期末从业人员(人)", "从业人员期末人数", "期末从业人员（人）", "期末从业人数"],
        ["备注", "说明", "备 注", "备注说明"],
    ];
    H[slot][wording % WORDINGS]
}

/// The number of header wordings.
pub const WORDINGS: usize = 4;

/// The words for this year and last year in time-word style `k`.
fn time_word(k: usize, prior: bool, month: u32) -> String {
    match (k % 4, prior) {
        (0, false) => "本年累计".into(),
        (0, true) => "上年同期".into(),
        (1, false) => "本年".into(),
        (1, true) => "上年".into(),
        (2, false) => format!("1—{month}月"),
        (2, true) => format!("上年1—{month}月"),
        (_, false) => "本期".into(),
        (_, true) => "同期".into(),
    }
}

/// Label over the amount columns in a header row that holds no part of their own.
const GROUP_LABEL: &str = "主要经济指标";

fn is_pair(slot: usize) -> bool {
    (3..=7).contains(&slot)
}

/// A sheet column: a group's column, or an extra one.
enum Col {
    Group(usize, u8),
    Seq,
    Town,
    Contact,
    Hidden,
}

fn columns(p: &Presentation) -> Vec<Col> {
    let mut cols = Vec::new();
    if p.extras {
        cols.push(Col::Seq);
    }
    let pairs: Vec<usize> = p.order.iter().copied().filter(|&s| is_pair(s)).collect();
    // The amount columns in the presentation's order, handed out where the pairs stand.
    let mut amounts: Vec<Col> = match p.amount_order {
        AmountOrder::Pairs => pairs.iter().flat_map(|&s| [Col::Group(s, 0), Col::Group(s, 1)]).collect(),
        AmountOrder::CurrentThenPrior => {
            pairs.iter().map(|&s| Col::Group(s, 0)).chain(pairs.iter().map(|&s| Col::Group(s, 1))).collect()
        }
        AmountOrder::Shuffled(seed) => {
            let mut v: Vec<Col> = pairs.iter().flat_map(|&s| [Col::Group(s, 0), Col::Group(s, 1)]).collect();
            let mut rng = super::rng::Rng::stream(&format!("messy-columns/{seed}"));
            for i in (1..v.len()).rev() {
                v.swap(i, rng.below(i + 1));
            }
            v
        }
    }
    .into_iter()
    .rev()
    .collect();
    for (k, &slot) in p.order.iter().enumerate() {
        if is_pair(slot) {
            cols.extend(amounts.pop());
            cols.extend(amounts.pop());
        } else {
            cols.push(Col::Group(slot, 0));
        }
        if p.extras && slot == 1 {
            cols.push(Col::Town);
        }
        if p.hidden_column && k == 2 {
            cols.push(Col::Hidden);
        }
    }
    if p.extras {
        cols.push(Col::Contact);
    }
    cols
}

/// The text of amount column (`slot`, `k`) in each of the presentation's header rows, top first.
fn amount_headers(p: &Presentation, slot: usize, k: u8, month: u32) -> Vec<String> {
    let m = group_header(slot, p.wording).to_string();
    let t = time_word(p.time_words, k == 1, month);
    let u = (p.unit_place == UnitPlace::Headers).then(|| p.unit.name());
    let time_on_top = p.amount_order == AmountOrder::CurrentThenPrior;
    // Brackets in three styles, by the measure.
    let (open, close) = [("(", ")"), ("（", "）"), ("[", "]")][slot % 3];
    let joined = |with_measure: bool| -> String {
        let mut s = String::new();
        match p.joining {
            Joining::Rows | Joining::Joined => {
                let (a, b) = if p.time_first { (t.as_str(), m.as_str()) } else { (m.as_str(), t.as_str()) };
                if with_measure {
                    s.push_str(a);
                    s.push_str(b);
                } else {
                    s.push_str(&t);
                }
                if let Some(u) = u {
                    s.push_str(u);
                }
            }
            Joining::Bracketed => {
                if with_measure {
                    s.push_str(&m);
                }
                match (u, slot.is_multiple_of(2)) {
                    (Some(u), true) => s.push_str(&format!("{open}{t}，{u}{close}")),
                    (Some(u), false) => s.push_str(&format!("{open}{t}{close}{open}{u}{close}")),
                    (None, _) => s.push_str(&format!("{open}{t}{close}")),
                }
            }
        }
        s
    };
    let with_unit = |s: &str| match u {
        Some(u) => format!("{s}({u})"),
        None => s.to_string(),
    };
    match (p.header_rows, p.joining) {
        (1, _) => vec![joined(true)],
        (2, Joining::Rows) if time_on_top => vec![t, with_unit(&m)],
        (2, Joining::Rows) => vec![with_unit(&m), t],
        (2, _) => vec![m.clone(), joined(false)],
        (_, Joining::Rows) => match (u, time_on_top) {
            (Some(u), false) => vec![m, t, u.to_string()],
            (Some(u), true) => vec![t, m, u.to_string()],
            (None, false) => vec![GROUP_LABEL.to_string(), m, t],
            (None, true) => vec![GROUP_LABEL.to_string(), t, m],
        },
        (_, _) => vec![GROUP_LABEL.to_string(), m.clone(), joined(false)],
    }
}

/// Writes `text` over columns `c0..=c1` of row `r` (merged when more than one).
fn write_span(ws: &mut Worksheet, r: u32, c0: u16, c1: u16, text: &str, f: &Format) -> Result<()> {
    if c1 > c0 {
        ws.merge_range(r, c0, r, c1, text, f)?;
    } else {
        ws.write_string(r, c0, text)?;
    }
    Ok(())
}

fn pair_values(r: &Jn101Row, slot: usize) -> [Decimal; 2] {
    match slot {
        3 => [r.output_ytd, r.output_prev],
        4 => [r.va_ytd, r.va_prev],
        5 => [r.revenue_ytd, r.revenue_prev],
        6 => [r.profit_ytd, r.profit_prev],
        _ => [r.export_ytd, r.export_prev],
    }
}

fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | '.' | '-' | ',' | '+' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn with_thousands(s: &str) -> String {
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", s));
    let (int, frac) = digits.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((digits, None));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

fn write_number(ws: &mut Worksheet, row: u32, col: u16, d: Decimal, numbers: Numbers) -> Result<()> {
    let text = d.normalize().to_string();
    let f: f64 = text.parse().context("decimal")?;
    match numbers {
        Numbers::Plain => ws.write_number(row, col, f)?,
        Numbers::Text => ws.write_string(row, col, &text)?,
        Numbers::TextThousands => ws.write_string(row, col, format!("{} ", with_thousands(&text)))?,
        Numbers::FullWidth => ws.write_string(row, col, fullwidth(&text))?,
        Numbers::Formula => ws.write_formula(row, col, Formula::new(format!("={text}*1")).set_result(&text))?,
    };
    Ok(())
}

/// Writes one JN101 sheet in presentation `p` for `reporter` (e.g. 邹城市统计局) and period
/// `YYYY-MM`.
pub fn jn101_sheet(
    ws: &mut Worksheet,
    rows: &[Jn101Row],
    reporter: &str,
    period: &str,
    p: &Presentation,
) -> Result<()> {
    let p = &p.effective();
    let plain = Format::new();
    let cols = columns(p);
    let ncols = cols.len() as u16;
    let (year, month): (u32, u32) = (period[..4].parse()?, period[5..].parse()?);
    // Header block.
    let mut r: u32 = 0;
    match p.mark {
        FormMark::Code | FormMark::Title => {
            ws.merge_range(r, 0, r, ncols - 1, "济宁市规模以上工业企业主要经济指标月报", &plain)?;
            r += 1;
        }
        FormMark::SheetName => {
            ws.merge_range(r, 0, r, ncols - 1, "济宁市工业统计月报", &plain)?;
            r += 1;
        }
        FormMark::HeadersOnly => {}
    }
    if p.mark == FormMark::Code {
        ws.write_string(r, 0, "表号:JN101")?;
        ws.write_string(r, 4, "制定机关:济宁市统计局")?;
        ws.write_string(r, 8, "有效期至:2026年12月")?;
        r += 1;
    }
    let mut line: Vec<(u16, String)> = Vec::new();
    if p.county_in_sheet {
        line.push((0, format!("填报单位(盖章):{reporter}")));
    }
    match p.period {
        PeriodStyle::Cumulative => line.push((5, format!("{year}年1—{month}月"))),
        PeriodStyle::Month => line.push((5, format!("{year}年{month}月"))),
        PeriodStyle::Absent => {}
    }
    if p.unit_place == UnitPlace::Block {
        line.push((9, format!("计量单位:{}", p.unit.name())));
    }
    if !line.is_empty() {
        for (c, t) in line {
            ws.write_string(r, c, t)?;
        }
        r += 1;
    }
    // The column headers: `header_rows` rows; the singles merged down over all of them, the
    // amounts' parts laid out by the presentation, equal texts side by side merged (when
    // `merged`) in every header row but the last.
    let h = r;
    let nrows = p.header_rows;
    let last = h + nrows - 1;
    let mut grid: Vec<Vec<Option<String>>> = Vec::new(); // [column][header row]
    for col in &cols {
        let single = |t: &str| {
            let mut v = vec![None; nrows as usize];
            v[0] = Some(t.to_string());
            v
        };
        grid.push(match col {
            Col::Group(slot, k) if is_pair(*slot) => {
                amount_headers(p, *slot, *k, month).into_iter().map(Some).collect()
            }
            Col::Group(slot, _) => single(group_header(*slot, p.wording)),
            Col::Seq => single("序号"),
            Col::Town => single("乡镇"),
            Col::Contact => single("联系人"),
            Col::Hidden => single("内部编号"),
        });
    }
    for (c, col) in cols.iter().enumerate() {
        if matches!(col, Col::Group(slot, _) if is_pair(*slot)) {
            continue;
        }
        let text = grid[c][0].clone().unwrap_or_default();
        if nrows > 1 {
            ws.merge_range(h, c as u16, last, c as u16, &text, &plain)?;
        } else {
            ws.write_string(h, c as u16, &text)?;
        }
        if matches!(col, Col::Hidden) {
            ws.set_column_hidden(c as u16)?;
        }
    }
    for k in 0..nrows as usize {
        let row = h + k as u32;
        let mut c = 0usize;
        while c < cols.len() {
            let is_amount = matches!(cols[c], Col::Group(slot, _) if is_pair(slot));
            let Some(text) = grid[c][k].clone().filter(|_| is_amount) else {
                c += 1;
                continue;
            };
            let mut end = c;
            if p.merged && row != last {
                while end + 1 < cols.len()
                    && matches!(cols[end + 1], Col::Group(slot, _) if is_pair(slot))
                    && grid[end + 1][k].as_deref() == Some(text.as_str())
                    // A merged cell never spans two cells that differ in a row above.
                    && (0..k).all(|k2| grid[end + 1][k2] == grid[c][k2])
                {
                    end += 1;
                }
            }
            write_span(ws, row, c as u16, end as u16, &text, &plain)?;
            c = end + 1;
        }
    }
    r = last + 1;
    let unit = |d: Decimal| p.unit.from_wanyuan(d);
    let write_total = |ws: &mut Worksheet, r: u32| -> Result<()> {
        for (c, col) in cols.iter().enumerate() {
            let c = c as u16;
            match col {
                Col::Group(1, _) => {
                    ws.write_string(r, c, "合计")?;
                }
                Col::Group(slot, k) if is_pair(*slot) => {
                    let sum: Decimal = rows.iter().map(|x| pair_values(x, *slot)[*k as usize]).sum();
                    write_number(ws, r, c, unit(sum), p.numbers)?;
                }
                Col::Group(8, _) => {
                    ws.write_number(r, c, rows.iter().map(|x| x.employees).sum::<i64>() as f64)?;
                }
                _ => {}
            }
        }
        Ok(())
    };
    if p.total == TotalPlace::Top {
        write_total(ws, r)?;
        r += 1;
    }
    for (i, row) in rows.iter().enumerate() {
        if p.total == TotalPlace::Middle && i == rows.len() / 2 {
            write_total(ws, r)?;
            r += 1;
        }
        for (c, col) in cols.iter().enumerate() {
            let c = c as u16;
            match col {
                Col::Seq => {
                    ws.write_number(r, c, (i + 1) as f64)?;
                }
                Col::Town => {
                    ws.write_string(r, c, "某镇")?;
                }
                Col::Contact => {
                    ws.write_string(r, c, "王五")?;
                }
                Col::Hidden => {
                    ws.write_string(r, c, format!("N{i:03}"))?;
                }
                Col::Group(0, _) => {
                    let code = if p.messy_codes {
                        let a: String = row.credit_code.chars().take(8).collect();
                        let b: String = row.credit_code.chars().skip(8).collect();
                        format!(" {} {} ", a.to_lowercase(), b.to_lowercase())
                    } else {
                        row.credit_code.clone()
                    };
                    ws.write_string(r, c, code)?;
                }
                Col::Group(1, _) => {
                    ws.write_string(r, c, &row.name)?;
                }
                Col::Group(2, _) => {
                    // Only a code made of digits can be stored as a number.
                    let digits = !row.industry_code.is_empty() && row.industry_code.chars().all(|c| c.is_ascii_digit());
                    if p.industry_as_number && digits {
                        ws.write_number(r, c, row.industry_code.parse::<f64>()?)?;
                    } else {
                        ws.write_string(r, c, &row.industry_code)?;
                    }
                }
                Col::Group(slot, k) if is_pair(*slot) => {
                    let v = pair_values(row, *slot)[*k as usize];
                    if *slot == 7 && v.is_zero() {
                        match p.nothing {
                            Nothing::Empty => {}
                            Nothing::Dash => {
                                ws.write_string(r, c, "-")?;
                            }
                            Nothing::EmDash => {
                                ws.write_string(r, c, "—")?;
                            }
                            Nothing::Slash => {
                                ws.write_string(r, c, "/")?;
                            }
                        }
                    } else {
                        write_number(ws, r, c, unit(v), p.numbers)?;
                    }
                }
                Col::Group(8, _) => {
                    write_number(ws, r, c, Decimal::from(row.employees), p.numbers)?;
                }
                Col::Group(_, _) => {
                    if !row.note.is_empty() {
                        ws.write_string(r, c, &row.note)?;
                    }
                }
            }
        }
        r += 1;
        if p.blank_after.contains(&i) {
            r += 1;
        }
    }
    if p.total == TotalPlace::Bottom {
        write_total(ws, r)?;
        r += 1;
    }
    if p.notes {
        ws.write_string(r + 1, 0, format!("注:金额单位为{},本年累计为1月至本月累计数。", p.unit.name()))?;
        ws.write_string(r + 2, 0, "单位负责人:张三    统计负责人:李四    填表人:王五    联系电话:0537-2345678")?;
    }
    Ok(())
}

/// Adds the instructions and hidden scratch sheets a county's template sometimes carries.
pub fn decoy_sheets(wb: &mut Workbook) -> Result<()> {
    let ws = wb.add_worksheet().set_name("填表说明")?;
    ws.write_string(0, 0, "填表说明:请按统计制度填报,金额单位见各表。")?;
    ws.write_string(1, 0, "统一社会信用代码 单位详细名称 行业代码 均为必填项")?;
    let ws = wb.add_worksheet().set_name("草稿")?;
    ws.write_string(0, 0, "临时计算")?;
    ws.write_number(1, 0, 12345.0)?;
    ws.set_hidden(true);
    Ok(())
}

/// A workbook holding only a JN101 sheet in presentation `p` (decoys first when asked).
pub fn jn101_workbook(rows: &[Jn101Row], reporter: &str, period: &str, p: &Presentation) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    if p.decoy_sheets {
        decoy_sheets(&mut wb)?;
    }
    let name = match p.mark {
        FormMark::SheetName => "规上工业",
        FormMark::HeadersOnly => "数据",
        _ => "Sheet1",
    };
    jn101_sheet(wb.add_worksheet().set_name(name)?, rows, reporter, period, p)?;
    Ok(wb.save_to_buffer()?)
}
