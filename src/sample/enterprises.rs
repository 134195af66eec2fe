//! The JN101 population: about 3,900 enterprises with monthly series for 2025 and 2024, cumulated
//! into 本年累计 / 上年同期, and calibrated to the published 1—9月 figures.

use std::collections::HashSet;

use super::catalog::{self, BRANDS, CHAINS, Industry, MANUFACTURING, MINING, REGIONS, Section, UTILITIES};
use super::codes::new_credit_code;
use super::rng::Rng;
use super::{ChainMember, published};

pub(crate) const MONTHS: usize = 9;
pub(crate) const OUT: usize = 0;
pub(crate) const VA: usize = 1;
pub(crate) const REV: usize = 2;
pub(crate) const PROFIT: usize = 3;
pub(crate) const EXPORT: usize = 4;
const NF: usize = 5;

type Monthly = [[f64; MONTHS]; NF];
/// Cumulative values in tenths of 万元: `[field][month index]` (index 8 = 1—9月).
pub(crate) type Cumulative = [[i64; MONTHS]; NF];

/// Monthly weights: the Spring Festival makes January–February weak.
pub(crate) const SEASON: [f64; MONTHS] = [0.80, 0.74, 1.02, 1.00, 1.03, 1.06, 0.98, 1.00, 1.05];

/// Annualised revenue every genuine row keeps (the audit warns below 2,000; the brief asks ≥ 2,500).
const REVENUE_FLOOR: f64 = 2_700.0;

/// Prior-year annual revenue the groups are drawn to (万元), before calibration.
const MANUFACTURING_TOTAL: f64 = 3.05e7;
const MINING_TOTAL: f64 = 1.2e7;
const UTILITY_TOTAL: f64 = 0.48e7;
/// How much larger (above the floor) chain members are drawn than other manufacturers.
const CHAIN_SIZE_BOOST: f64 = 2.2;

/// The calibration groups: the population the three published figures constrain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Manufacturing enterprises in any chain (breakdown chain:_ALL).
    Chain,
    /// Manufacturing enterprises in no chain.
    OtherManufacturing,
    /// Sections B and D.
    MiningUtility,
}

pub(crate) struct Enterprise {
    pub region: usize,
    pub credit_code: String,
    pub name: String,
    pub industry: &'static str,
    pub section: Section,
    /// First month of production this year; 1 for an enterprise that also produced last year.
    pub entry_month: usize,
    pub chains: Vec<usize>,
    pub master_of: Option<usize>,
    pub note: &'static str,
    pub employees: [i64; MONTHS],
    pub cur: Cumulative,
    pub prev: Cumulative,
    raw_cur: Monthly,
    raw_prev: Monthly,
    /// Prior-year annual revenue (or, for an entrant, its annual rate), for ordering by size.
    size: f64,
}

impl Enterprise {
    pub fn group(&self) -> Group {
        match (self.section, self.chains.is_empty()) {
            (Section::C, false) => Group::Chain,
            (Section::C, true) => Group::OtherManufacturing,
            _ => Group::MiningUtility,
        }
    }

    /// The first period (month) whose return lists the enterprise.
    pub fn first_month(&self) -> usize {
        self.entry_month.max(2)
    }

    pub fn is_entrant(&self) -> bool {
        self.entry_month > 1
    }
}

pub(crate) struct Population {
    /// Sorted by region, then sheet order (existing enterprises by industry code and credit code,
    /// then entrants by entry month).
    pub enterprises: Vec<Enterprise>,
    /// Names and codes already used (so that extra rows can be made unique).
    pub used_names: HashSet<String>,
    pub used_codes: HashSet<String>,
}

impl Population {
    pub fn chain_members(&self) -> Vec<ChainMember> {
        let mut out = Vec::new();
        for e in &self.enterprises {
            for &c in &e.chains {
                out.push(ChainMember {
                    credit_code: e.credit_code.clone(),
                    chain_id: CHAINS[c].id.to_string(),
                    is_chain_master: e.master_of == Some(c),
                });
            }
        }
        out.sort_by(|a, b| (&a.chain_id, &a.credit_code).cmp(&(&b.chain_id, &b.credit_code)));
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mining,
    Utility,
    Manufacturing,
}

/// Builds and calibrates the population. `ppi` gives the 2025-09 index that deflates an
/// enterprise of an industry class (its division's, else the all-industry one, e.g. 98.6).
pub(crate) fn build(ppi: &dyn Fn(&str) -> f64) -> Population {
    let mut rng = Rng::stream("enterprises");
    let mut used_names = HashSet::new();
    let mut used_codes = HashSet::new();
    let mut ents: Vec<Enterprise> = Vec::new();

    for (ri, r) in REGIONS.iter().enumerate() {
        let manufacturing = r.enterprises - r.mining - r.utilities;
        // One entrant is a solar farm in the two counties with the most utilities.
        let utility_entrants = usize::from(r.utilities >= 14);
        let manufacturing_entrants = r.entrants - utility_entrants;
        let mut specs: Vec<(Kind, bool)> = Vec::new();
        specs.extend((0..r.mining).map(|_| (Kind::Mining, false)));
        specs.extend((0..r.utilities).map(|i| (Kind::Utility, i + utility_entrants >= r.utilities)));
        specs.extend((0..manufacturing).map(|i| (Kind::Manufacturing, i + manufacturing_entrants >= manufacturing)));
        for (kind, entrant) in specs {
            let industry = pick_industry(&mut rng, kind, r.specialties, entrant);
            let size = draw_size(&mut rng, kind, industry.code);
            let entry_month = if entrant { rng.range(3, 9) as usize } else { 1 };
            let credit_code = loop {
                let area = if rng.chance(0.2) { "370800" } else { r.area };
                let c = new_credit_code(&mut rng, area);
                if used_codes.insert(c.clone()) {
                    break c;
                }
            };
            let name = unique_name(&mut rng, &mut used_names, r.name_place, industry, size);
            ents.push(Enterprise {
                region: ri,
                credit_code,
                name,
                industry: industry.code,
                section: catalog::section_of(industry.code),
                entry_month,
                chains: Vec::new(),
                master_of: None,
                note: "",
                employees: [0; MONTHS],
                cur: [[0; MONTHS]; NF],
                prev: [[0; MONTHS]; NF],
                raw_cur: [[0.0; MONTHS]; NF],
                raw_prev: [[0.0; MONTHS]; NF],
                size,
            });
        }
    }

    assign_memberships(&mut rng, &mut ents);
    normalise_sizes(&mut ents);
    pick_masters(&mut ents);
    for e in ents.iter_mut() {
        draw_series(&mut rng, e);
        enforce_revenue_floor(e);
    }
    calibrate(&mut ents, ppi);
    for e in ents.iter_mut() {
        e.note = note_for(e);
    }
    ents.sort_by(|a, b| {
        (a.region, a.entry_month, a.industry, &a.credit_code).cmp(&(
            b.region,
            b.entry_month,
            b.industry,
            &b.credit_code,
        ))
    });
    Population { enterprises: ents, used_names, used_codes }
}

pub(crate) fn industry_by_code(code: &str) -> &'static Industry {
    MINING.iter().chain(UTILITIES).chain(MANUFACTURING).find(|i| i.code == code).expect("industry in catalogue")
}

fn pick_industry(rng: &mut Rng, kind: Kind, specialties: &[&str], entrant: bool) -> &'static Industry {
    let list = match kind {
        Kind::Mining => MINING,
        Kind::Utility if entrant => return industry_by_code("4416"),
        Kind::Utility => UTILITIES,
        Kind::Manufacturing => MANUFACTURING,
    };
    let weights: Vec<f64> =
        list.iter().map(|i| if specialties.contains(&i.code) { i.weight * 5.0 } else { i.weight }).collect();
    &list[rng.weighted(&weights)]
}

/// Prior-year annual revenue (万元): a floor plus a heavy-tailed excess (tiers of uniforms).
fn draw_size(rng: &mut Rng, kind: Kind, code: &str) -> f64 {
    let tiers: &[(f64, f64, f64)] = match kind {
        Kind::Manufacturing => &[
            (0.50, 0.0, 3_000.0),
            (0.28, 3_000.0, 12_000.0),
            (0.15, 12_000.0, 40_000.0),
            (0.06, 40_000.0, 150_000.0),
            (0.01, 150_000.0, 500_000.0),
        ],
        Kind::Mining if code == "0610" || code == "0620" => {
            &[(0.4, 0.0, 60_000.0), (0.4, 60_000.0, 300_000.0), (0.2, 300_000.0, 900_000.0)]
        }
        Kind::Mining => &[(1.0, 0.0, 25_000.0)],
        Kind::Utility => &[(0.5, 0.0, 15_000.0), (0.4, 15_000.0, 80_000.0), (0.1, 80_000.0, 300_000.0)],
    };
    let weights: Vec<f64> = tiers.iter().map(|t| t.0).collect();
    let (_, lo, hi) = tiers[rng.weighted(&weights)];
    floor_of(kind, code) + rng.uniform(lo, hi)
}

fn floor_of(kind: Kind, code: &str) -> f64 {
    match kind {
        Kind::Manufacturing => 3_000.0,
        Kind::Mining if code == "0610" || code == "0620" => 20_000.0,
        Kind::Mining => 6_000.0,
        Kind::Utility => 5_000.0,
    }
}

fn kind_of(section: Section) -> Kind {
    match section {
        Section::B => Kind::Mining,
        Section::C => Kind::Manufacturing,
        Section::D => Kind::Utility,
    }
}

/// Scales the excess over each floor so that each section's prior-year revenue hits its design total.
fn normalise_sizes(ents: &mut [Enterprise]) {
    for (section, total) in [(Section::C, MANUFACTURING_TOTAL), (Section::B, MINING_TOTAL), (Section::D, UTILITY_TOTAL)]
    {
        let mut floors = 0.0;
        let mut excess = 0.0;
        for e in ents.iter().filter(|e| e.section == section && !e.is_entrant()) {
            let f = floor_of(kind_of(section), e.industry);
            floors += f;
            excess += e.size - f;
        }
        let k = (total - floors) / excess;
        for e in ents.iter_mut().filter(|e| e.section == section) {
            let f = floor_of(kind_of(section), e.industry);
            e.size = f + (e.size - f) * k;
        }
    }
}

pub(crate) fn unique_name(
    rng: &mut Rng,
    used: &mut HashSet<String>,
    place: &str,
    industry: &Industry,
    size: f64,
) -> String {
    loop {
        let prefix = match rng.below(20) {
            0..=7 => "济宁",
            8..=13 => "山东",
            14..=18 => place,
            _ => "鲁",
        };
        let brand = rng.pick(BRANDS);
        let biz = rng.pick(industry.biz);
        let suffix = if size > 60_000.0 && rng.chance(0.5) {
            "集团有限公司"
        } else {
            match rng.below(20) {
                0..=12 => "有限公司",
                13..=15 => "有限责任公司",
                _ => "股份有限公司",
            }
        };
        let name = format!("{prefix}{brand}{biz}{suffix}");
        if used.insert(name.clone()) {
            return name;
        }
    }
}

/// Chain memberships (manufacturing, existing enterprises). Chain members are the larger
/// enterprises of their classes: their size above the floor is scaled up.
fn assign_memberships(rng: &mut Rng, ents: &mut [Enterprise]) {
    for e in ents.iter_mut().filter(|e| e.section == Section::C && !e.is_entrant()) {
        let ind = industry_by_code(e.industry);
        for (i, &c) in ind.chains.iter().enumerate() {
            if rng.chance(if i == 0 { 0.5 } else { 0.4 }) {
                e.chains.push(c);
            }
        }
        for (i, &c) in ind.supplies.iter().enumerate() {
            if rng.chance(if i == 0 { 0.22 } else { 0.1 }) {
                e.chains.push(c);
            }
        }
        if !e.chains.is_empty() {
            let floor = floor_of(Kind::Manufacturing, e.industry);
            e.size = floor + (e.size - floor) * CHAIN_SIZE_BOOST;
        }
    }
}

/// The 85 masters: the largest members of each chain, each enterprise master of one chain at most.
fn pick_masters(ents: &mut [Enterprise]) {
    let mut order: Vec<usize> = (0..ents.len()).collect();
    order.sort_by(|&a, &b| {
        ents[b].size.total_cmp(&ents[a].size).then_with(|| ents[a].credit_code.cmp(&ents[b].credit_code))
    });
    for (c, spec) in CHAINS.iter().enumerate() {
        let mut left = spec.masters;
        for &i in &order {
            if left == 0 {
                break;
            }
            if ents[i].chains.contains(&c) && ents[i].master_of.is_none() {
                ents[i].master_of = Some(c);
                left -= 1;
            }
        }
        assert_eq!(left, 0, "chain {} has too few members for its masters", spec.id);
    }
    let masters = ents.iter().filter(|e| e.master_of.is_some()).count();
    assert_eq!(masters, published::CHAIN_MASTERS);
}

/// Monthly series of 2025 (`raw_cur`) and 2024 (`raw_prev`), and the employees.
fn draw_series(rng: &mut Rng, e: &mut Enterprise) {
    let (growth, rate_lo, rate_hi) = match (e.section, e.chains.is_empty()) {
        (Section::B, _) => (rng.uniform(-0.18, 0.20), 0.34, 0.43),
        (Section::D, _) => (rng.uniform(-0.12, 0.24), 0.24, 0.36),
        (Section::C, false) => (rng.uniform(-0.18, 0.32), 0.22, 0.38),
        (Section::C, true) => (rng.uniform(-0.16, 0.36), 0.22, 0.38),
    };
    let rate_prev = rng.uniform(rate_lo, rate_hi);
    let rate_cur = (rate_prev * rng.uniform(0.97, 1.03)).clamp(0.215, 0.44);
    let out_per_rev = rng.uniform(0.93, 1.06);
    let loss_maker = rng.chance(0.05);
    let margin = if loss_maker { rng.uniform(-0.08, -0.01) } else { rng.uniform(0.01, 0.12) };
    let margin_prev = if loss_maker { rng.uniform(-0.06, 0.0) } else { rng.uniform(0.01, 0.12) };
    let exporter = e.section == Section::C && rng.chance(0.15);
    let export_share = if exporter { rng.uniform(0.05, 0.6) } else { 0.0 };
    let export_share_prev = if exporter { (export_share * rng.uniform(0.85, 1.15)).min(0.65) } else { 0.0 };
    let monthly = e.size / 12.0;
    for (m, season) in SEASON.iter().enumerate() {
        // Last year.
        if !e.is_entrant() {
            let rev = monthly * season * rng.uniform(0.94, 1.06);
            let out = rev * out_per_rev * rng.uniform(0.99, 1.01);
            e.raw_prev[REV][m] = rev;
            e.raw_prev[OUT][m] = out;
            e.raw_prev[VA][m] = out * rate_prev * rng.uniform(0.99, 1.01);
            e.raw_prev[PROFIT][m] = rev * margin_prev * rng.uniform(0.8, 1.2);
            e.raw_prev[EXPORT][m] = out * export_share_prev * rng.uniform(0.9, 1.1);
        }
        // This year.
        if m + 1 >= e.entry_month {
            let rev = if e.is_entrant() {
                monthly * season * rng.uniform(0.94, 1.06)
            } else {
                e.raw_prev[REV][m] * (1.0 + growth) * rng.uniform(0.96, 1.04)
            };
            let out = rev * out_per_rev * rng.uniform(0.99, 1.01);
            e.raw_cur[REV][m] = rev;
            e.raw_cur[OUT][m] = out;
            e.raw_cur[VA][m] = out * rate_cur * rng.uniform(0.99, 1.01);
            e.raw_cur[PROFIT][m] = rev * margin * rng.uniform(0.8, 1.2);
            e.raw_cur[EXPORT][m] = out * export_share * rng.uniform(0.9, 1.1);
        }
    }
    let per_head = match e.section {
        Section::B => rng.uniform(30.0, 80.0),
        Section::C => rng.uniform(30.0, 90.0),
        Section::D => rng.uniform(80.0, 200.0),
    };
    // Head counts flatten out for the largest enterprises (mines, power plants), below 5,000.
    let raw = e.size / per_head;
    let base = if raw > 2_500.0 { 2_500.0 + (raw - 2_500.0) / (1.0 + (raw - 2_500.0) / 2_400.0) } else { raw };
    let trend = rng.uniform(-1.0, 1.0);
    for m in 0..MONTHS {
        let v = base * (1.0 + 0.004 * trend * (m as f64 - 4.0));
        e.employees[m] = (v.round() as i64).clamp(20, 5_000);
    }
}

/// Scales an enterprise up when its annualised revenue would fall below the floor in any period.
fn enforce_revenue_floor(e: &mut Enterprise) {
    let mut min_annualised = f64::INFINITY;
    let mut ytd = 0.0;
    for m in 0..MONTHS {
        ytd += e.raw_cur[REV][m];
        let month = m + 1;
        if month >= e.first_month() {
            min_annualised = min_annualised.min(ytd * 12.0 / month as f64);
        }
    }
    if min_annualised < REVENUE_FLOOR {
        let k = REVENUE_FLOOR / min_annualised * 1.01;
        for f in 0..NF {
            for m in 0..MONTHS {
                e.raw_cur[f][m] *= k;
                e.raw_prev[f][m] *= k;
            }
        }
        e.size *= k;
    }
}

/// Rounds the (scaled) monthly values to tenths of 万元 and cumulates them.
/// `factors`: prior-year scale of the chain group, prior-year scale of other manufacturing, and
/// the scale of both years of mining and utilities.
fn materialise(e: &mut Enterprise, factors: [f64; 3]) {
    let (cur_k, prev_k) = match e.group() {
        Group::Chain => (1.0, factors[0]),
        Group::OtherManufacturing => (1.0, factors[1]),
        Group::MiningUtility => (factors[2], factors[2]),
    };
    for f in 0..NF {
        let (mut c, mut p) = (0i64, 0i64);
        for m in 0..MONTHS {
            c += (e.raw_cur[f][m] * cur_k * 10.0).round() as i64;
            p += (e.raw_prev[f][m] * prev_k * 10.0).round() as i64;
            e.cur[f][m] = c;
            e.prev[f][m] = p;
        }
    }
}

/// Fits the three factors so that, over the genuine 2025-09 rows, chain:_ALL va growth is 8.3,
/// section C va growth 9.7 and section C's share of va 61.1 (comparable prices: each enterprise's
/// value added deflated by its division's PPI, then summed).
fn calibrate(ents: &mut [Enterprise], ppi: &dyn Fn(&str) -> f64) {
    let deflators: Vec<f64> = ents.iter().map(|e| ppi(e.industry) / 100.0).collect();
    let chain_target = 1.0 + published::CHAIN_VA_GROWTH / 100.0;
    let manu_target = 1.0 + published::MANUFACTURING_VA_GROWTH / 100.0;
    let share_target = published::MANUFACTURING_VA_SHARE / 100.0;
    let mut factors = [1.0; 3];
    for _ in 0..12 {
        for e in ents.iter_mut() {
            materialise(e, factors);
        }
        // c: current prices, d: deflated (comparable), p: last year; in tenths of 万元
        let (mut c1, mut d1, mut p1, mut c2, mut d2, mut p2, mut c3) = (0i64, 0.0, 0i64, 0i64, 0.0, 0i64, 0i64);
        for (e, deflator) in ents.iter().zip(&deflators) {
            let (cur, prev) = (e.cur[VA][MONTHS - 1], e.prev[VA][MONTHS - 1]);
            match e.group() {
                Group::Chain => {
                    c1 += cur;
                    d1 += cur as f64 / deflator;
                    p1 += prev;
                }
                Group::OtherManufacturing => {
                    c2 += cur;
                    d2 += cur as f64 / deflator;
                    p2 += prev;
                }
                Group::MiningUtility => c3 += cur,
            }
        }
        let (c1, p1, c2, p2, c3) = (c1 as f64, p1 as f64, c2 as f64, p2 as f64, c3 as f64);
        let chain = d1 / p1;
        let manu = (d1 + d2) / (p1 + p2);
        let share = (c1 + c2) / (c1 + c2 + c3);
        if (chain - chain_target).abs() < 1e-7
            && (manu - manu_target).abs() < 1e-7
            && (share - share_target).abs() < 1e-7
        {
            break;
        }
        let p1_new = d1 / chain_target;
        let p2_new = (d1 + d2) / manu_target - p1_new;
        let c3_new = (c1 + c2) * (1.0 / share_target - 1.0);
        factors[0] *= p1_new / p1;
        factors[1] *= p2_new / p2;
        factors[2] *= c3_new / c3;
    }
}

/// A county's 说明 for rows the audit will warn about.
fn note_for(e: &Enterprise) -> &'static str {
    let last = MONTHS - 1;
    if e.is_entrant() {
        return "本年新投产企业,上年同期无数据";
    }
    let growth = e.cur[OUT][last] as f64 / e.prev[OUT][last] as f64 - 1.0;
    if growth > 0.35 {
        "新增产能释放,产值增长较快"
    } else if growth < -0.15 {
        "订单减少,产销下降"
    } else if e.cur[PROFIT][last] < 0 {
        "原材料价格上涨,经营亏损"
    } else {
        ""
    }
}
