//! Deterministic sample-data generator, with its known truth.
//!
//! [`generate`] builds, from a fixed seed and without any I/O, the monthly returns of Jining's 14
//! county-level statistics bureaus for 2025-02 ..= 2025-09 (forms JN101–JN104 of FORMS.md) and the
//! reference data the city keeps; [`write_all`] writes them as the county bureaus would send them
//! (one `.xlsx` workbook per county per period, with title rows, merged two-row headers, 合计 rows,
//! numbers typed as text, notes and signatures) plus the reference CSV files.
//!
//! The data are calibrated so that the accepted 2025-09 rows reproduce the figures published in
//! the news article on the "五个倍增" programme ([`published`]): 15 chains' value added +8.3%,
//! manufacturing value added +9.7% and 61.1% of the total (comparable prices: each enterprise
//! deflated by its division's PPI), 85 chain masters, and the JN103 sums.
//! Every row the audit must accept carries `expected_error == None`; a few deliberate violations
//! (2025-09 only, extra rows outside the calibrated population) carry the rule id that must
//! quarantine them.

mod catalog;
mod codes;
mod enterprises;
mod items;
pub mod messy;
mod prior_year;
pub(crate) mod rng;
pub mod scale;
mod write;

use std::collections::BTreeSet;

use rust_decimal::Decimal;

pub use codes::{CREDIT_ALPHABET, credit_check_char, is_valid_credit_code};
pub use prior_year::{PRIOR_PERIODS, disagreement, prior_year_returns};
pub use rng::SEED;
pub use write::{workbook_bytes, workbook_bytes_with, write_all, write_messy, write_reference};

/// The periods of the sample, cumulative from January (`2025-02` = 1—2月).
pub const PERIODS: [&str; 8] = ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09"];

/// The period the published figures refer to, and the only one with deliberate violations.
pub const FINAL_PERIOD: &str = "2025-09";

/// The figures published for 1—9月 2025 (context/jining-article.txt) that the sample reproduces.
pub mod published {
    /// 15 标志性产业链 value added, comparable growth (%), breakdown `chain:_ALL`.
    pub const CHAIN_VA_GROWTH: f64 = 8.3;
    /// Manufacturing (section C) value added, comparable growth (%).
    pub const MANUFACTURING_VA_GROWTH: f64 = 9.7;
    /// Manufacturing share of the total value added (%).
    pub const MANUFACTURING_VA_SHARE: f64 = 61.1;
    /// Distinct chain-master enterprises.
    pub const CHAIN_MASTERS: usize = 85;
    /// City sums of JN103 for 2025-09, by item code.
    pub const JN103_TOTALS: [(&str, i64); 8] = [
        ("appeals_received", 35_700),
        ("appeals_resolved", 34_272),
        ("chain_events", 318),
        ("coop_intents", 566),
        ("coop_agreements", 159),
        ("coop_amount", 314_200),
        ("young_talents", 31_000),
        ("tech_problems_solved", 328),
    ];
    /// appeals_resolved / appeals_received × 100, rounded: 96.
    pub const APPEALS_RESOLUTION_RATE: f64 = 96.0;
}

/// A reporting unit (regions.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub short_name: String,
}

/// One of the 15 标志性产业链 (chains.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub chain_id: String,
    pub name: String,
    /// The "232" cluster the chain belongs to.
    pub cluster: String,
}

/// An enterprise's membership of a chain (chain_members.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainMember {
    pub credit_code: String,
    pub chain_id: String,
    pub is_chain_master: bool,
}

/// A "doubling" target (targets.csv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub indicator: String,
    pub base_year: i64,
    pub base_value: Decimal,
    pub target_year: i64,
    pub target_value: Decimal,
    pub unit: String,
}

/// Everything the generator produces.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleData {
    /// The 14 reporting units of FORMS.md.
    pub regions: Vec<Region>,
    /// The 15 chains.
    pub chains: Vec<Chain>,
    /// Chain memberships; exactly [`published::CHAIN_MASTERS`] distinct masters.
    pub chain_members: Vec<ChainMember>,
    /// The five doublings.
    pub targets: Vec<Target>,
    /// PPI for each period, same period last year = 100: the all-industry index (division `_T`)
    /// and a few divisions of their own (ppi.csv).
    pub ppi: Vec<PpiRow>,
    /// One return per county per period (14 × 8), in region order then period order.
    pub returns: Vec<CountyReturn>,
}

/// One row of ppi.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpiRow {
    /// `YYYY-MM`.
    pub period: String,
    /// A GB/T 4754 division (`06`) or `_T` (all industry).
    pub division: String,
    /// Same period last year = 100, one decimal.
    pub index: Decimal,
}

/// One county's workbook for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct CountyReturn {
    pub region_code: String,
    /// `YYYY-MM`.
    pub period: String,
    /// e.g. `任城区_2025年1-9月_倍增监测报表.xlsx`.
    pub file_name: String,
    /// Every enterprise row written to the JN101 sheet, in sheet order (合计 excluded),
    /// including the deliberate violations (`expected_error` set).
    pub jn101: Vec<Jn101Row>,
    pub jn102: Vec<ItemRow>,
    pub jn103: Vec<ItemRow>,
    pub jn104: Vec<ProjectRow>,
    /// How this county lays out its sheets.
    pub layout: SheetLayout,
    /// 1-based Excel row of the JN101 合计 row, if any.
    pub jn101_total_row: Option<u32>,
    /// JN101 amounts written as text cells such as `"1,234.5"`: (Excel row, field name).
    pub text_amounts: Vec<(u32, &'static str)>,
}

/// One JN101 enterprise row. Amounts in 万元 with at most one decimal.
#[derive(Debug, Clone, PartialEq)]
pub struct Jn101Row {
    pub credit_code: String,
    pub name: String,
    /// 4 digits, GB/T 4754-2017 class.
    pub industry_code: String,
    pub output_ytd: Decimal,
    pub output_prev: Decimal,
    pub va_ytd: Decimal,
    pub va_prev: Decimal,
    pub revenue_ytd: Decimal,
    pub revenue_prev: Decimal,
    pub profit_ytd: Decimal,
    pub profit_prev: Decimal,
    pub export_ytd: Decimal,
    pub export_prev: Decimal,
    pub employees: i64,
    pub note: String,
    /// 1-based row in the sheet where it was written.
    pub excel_row: u32,
    /// `None`: must be accepted. `Some("JN101-E05")`: must be quarantined by that rule.
    pub expected_error: Option<&'static str>,
}

impl Jn101Row {
    /// The ten amounts in form order: 总产值, 增加值, 营业收入, 利润总额, 出口交货值, each
    /// 本年累计 then 上年同期 (万元).
    pub fn amounts(&self) -> [Decimal; 10] {
        [
            self.output_ytd,
            self.output_prev,
            self.va_ytd,
            self.va_prev,
            self.revenue_ytd,
            self.revenue_prev,
            self.profit_ytd,
            self.profit_prev,
            self.export_ytd,
            self.export_prev,
        ]
    }
}

/// A fixed item row of JN102 / JN103 (item codes as in ARCHITECTURE.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub item: String,
    pub value_ytd: Decimal,
    /// `None` for JN103, which has no 上年同期 column.
    pub value_prev: Option<Decimal>,
}

/// One JN104 project row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub project_name: String,
    pub project_code: Option<String>,
    /// Chain name, one of [`SampleData::chains`].
    pub chain: String,
    pub total_investment: Decimal,
    pub planned_this_year: Decimal,
    pub done_this_year: Decimal,
    pub done_cumulative: Decimal,
    pub progress_pct: Decimal,
    /// 谋划 / 在建 / 竣工 / 投产 / 达产.
    pub status: String,
    /// `YYYY-MM`, however the county writes it (see [`MonthStyle`]).
    pub planned_start: Option<String>,
}

/// Where a county puts the JN101 合计 row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalRow {
    /// After the last enterprise.
    Bottom,
    /// Just under the two header rows, before the first enterprise.
    Top,
    /// No 合计 row.
    None,
}

/// How a county writes 计划投产时间 (all mean the same `YYYY-MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthStyle {
    /// Text `2025-12`.
    Dash,
    /// Text `2025年12月`.
    Chinese,
    /// Text `2025.12`.
    Dotted,
    /// A date cell (the 1st of the month) formatted `yyyy-mm`.
    DateCell,
}

/// The quirks of one county's workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLayout {
    /// Sheet names for JN101..JN104 (`JN101`, `表1` or a Chinese name).
    pub sheet_names: [&'static str; 4],
    /// A leading 序号 column on JN101 and JN104.
    pub seq_column: bool,
    pub total_row: TotalRow,
    /// 合计 written in the first column (序号 or 统一社会信用代码) instead of the name column.
    pub total_label_in_first_column: bool,
    /// Industry codes written as numbers (0610 arrives as 610).
    pub industry_code_as_number: bool,
    pub planned_start_style: MonthStyle,
    /// Full-width colons (表号：JN101) in the header block.
    pub fullwidth_colons: bool,
    /// A zero 出口交货值 is left blank (FORMS.md: blank = 0) instead of written as 0.
    pub zero_export_blank: bool,
}

/// Builds the whole sample. Deterministic: the same bytes of data on every call and platform.
pub fn generate() -> SampleData {
    let ppi = ppi_series();
    let final_ppi = |industry_code: &str| decimal_to_f64(ppi_of(&ppi, FINAL_PERIOD, industry_code).expect("ppi"));
    let population = enterprises::build(&final_ppi);
    let regions = catalog::REGIONS
        .iter()
        .map(|r| Region { code: r.code.into(), name: r.name.into(), short_name: r.short.into() })
        .collect();
    let chains = catalog::CHAINS
        .iter()
        .map(|c| Chain { chain_id: c.id.into(), name: c.name.into(), cluster: c.cluster.into() })
        .collect();
    let chain_members = population.chain_members();
    let returns = items::build_returns(&population);
    let targets = items::build_targets(&returns);
    SampleData { regions, chains, chain_members, targets, ppi, returns }
}

/// PPI of the cumulative periods (same period last year = 100): the all-industry index, and the
/// divisions whose prices moved apart from it (coal and steel down, non-ferrous metals up).
fn ppi_series() -> Vec<PpiRow> {
    const ALL_INDUSTRY: [i64; 8] = [982, 981, 982, 983, 984, 984, 985, 986];
    // (division, tenths of a point from the all-industry index in 2025-09, tenths per month
    // earlier: a positive slope means the gap was wider at the start of the year)
    const DIVISIONS: [(&str, i64, i64); 9] = [
        ("06", -124, 3),
        ("08", -41, 0),
        ("10", -15, 1),
        ("25", -62, 2),
        ("26", -47, 1),
        ("30", -36, 0),
        ("31", -68, -1),
        ("32", 57, -1),
        ("44", -9, 0),
    ];
    let mut out = Vec::new();
    for (i, (p, t)) in PERIODS.iter().zip(ALL_INDUSTRY).enumerate() {
        let months_before_final = (PERIODS.len() - 1 - i) as i64;
        out.push(PpiRow { period: p.to_string(), division: "_T".into(), index: Decimal::new(t, 1) });
        for (division, gap, slope) in DIVISIONS {
            let tenths = t + gap + gap.signum() * slope * months_before_final;
            out.push(PpiRow { period: p.to_string(), division: division.into(), index: Decimal::new(tenths, 1) });
        }
    }
    out
}

/// The index that deflates an enterprise of class `industry_code` in `period`: its division's,
/// else the all-industry one.
fn ppi_of(ppi: &[PpiRow], period: &str, industry_code: &str) -> Option<Decimal> {
    let find = |division: &str| ppi.iter().find(|r| r.period == period && r.division == division).map(|r| r.index);
    find(industry_code.get(..2)?).or_else(|| find("_T"))
}

fn decimal_to_f64(d: Decimal) -> f64 {
    d.to_string().parse().expect("decimal")
}

impl SampleData {
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    /// The return of one county for one period.
    pub fn return_for(&self, region_code: &str, period: &str) -> Option<&CountyReturn> {
        self.returns.iter().find(|r| r.region_code == region_code && r.period == period)
    }

    /// The 14 returns of a period.
    pub fn returns_for<'a>(&'a self, period: &'a str) -> impl Iterator<Item = &'a CountyReturn> + 'a {
        self.returns.iter().filter(move |r| r.period == period)
    }

    /// The JN101 rows of a period the audit must accept, with their region code.
    pub fn accepted_jn101<'a>(&'a self, period: &'a str) -> impl Iterator<Item = (&'a str, &'a Jn101Row)> + 'a {
        self.returns_for(period).flat_map(|r| {
            r.jn101.iter().filter(|row| row.expected_error.is_none()).map(move |row| (r.region_code.as_str(), row))
        })
    }

    /// The deliberate violations: (return, row), each row with `expected_error` set.
    pub fn expected_errors(&self) -> impl Iterator<Item = (&CountyReturn, &Jn101Row)> {
        self.returns
            .iter()
            .flat_map(|r| r.jn101.iter().filter(|row| row.expected_error.is_some()).map(move |row| (r, row)))
    }

    /// Credit codes of the distinct chain masters.
    pub fn chain_master_codes(&self) -> BTreeSet<&str> {
        self.chain_members.iter().filter(|m| m.is_chain_master).map(|m| m.credit_code.as_str()).collect()
    }

    /// Credit codes of the enterprises in any chain.
    pub fn chain_member_codes(&self) -> BTreeSet<&str> {
        self.chain_members.iter().map(|m| m.credit_code.as_str()).collect()
    }

    /// The all-industry PPI of a period (division `_T`).
    pub fn ppi_index(&self, period: &str) -> Option<Decimal> {
        self.ppi.iter().find(|r| r.period == period && r.division == "_T").map(|r| r.index)
    }

    /// The PPI that deflates an enterprise of class `industry_code` in `period`: its division's
    /// own index, else the all-industry one.
    pub fn ppi_for(&self, period: &str, industry_code: &str) -> Option<Decimal> {
        ppi_of(&self.ppi, period, industry_code)
    }

    /// City sum of a JN103 item for a period.
    pub fn jn103_city_total(&self, period: &str, item: &str) -> Decimal {
        self.returns_for(period).flat_map(|r| r.jn103.iter()).filter(|i| i.item == item).map(|i| i.value_ytd).sum()
    }
}

#[cfg(test)]
mod tests;
