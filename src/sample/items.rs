//! Assembles the county returns: JN101 rows from the population (plus the deliberate violations),
//! JN102 / JN103 item rows, JN104 projects, and the doubling targets.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::catalog::{self, CHAINS, REGIONS};
use super::codes::new_credit_code;
use super::enterprises::{
    EXPORT, Enterprise, MONTHS, OUT, PROFIT, Population, REV, SEASON, VA, industry_by_code, unique_name,
};
use super::rng::Rng;
use super::{CountyReturn, FINAL_PERIOD, ItemRow, Jn101Row, PERIODS, ProjectRow, Target, TotalRow, published};

/// JN102 fixed rows: item code, label as written, unit, indent level of the label.
pub(crate) const JN102_ITEMS: [(&str, &str, &str, u8); 6] = [
    ("reported_enterprises", "规模以上工业企业数", "个", 0),
    ("high_tech_enterprises", "高新技术企业数", "个", 0),
    ("producer_services_revenue", "生产性服务业营业收入", "万元", 0),
    ("trade_total", "外贸进出口总额", "万元", 0),
    ("trade_export", "其中:出口", "万元", 1),
    ("trade_import", "进口", "万元", 2),
];

/// JN103 fixed rows: item code, label, unit.
pub(crate) const JN103_ITEMS: [(&str, &str, &str); 8] = [
    ("appeals_received", "企业诉求受理数", "项"),
    ("appeals_resolved", "企业诉求办结数", "项"),
    ("chain_events", "产业链对接活动", "次"),
    ("coop_intents", "达成合作意向", "项"),
    ("coop_agreements", "签订合作协议", "项"),
    ("coop_amount", "合作金额", "万元"),
    ("young_talents", "新引进青年人才", "人"),
    ("tech_problems_solved", "帮助企业解决技术难题", "项"),
];

/// City totals of JN102 for 2025-09 (before apportioning to counties).
const HIGH_TECH_TOTAL: i64 = 1_780;
const PRODUCER_SERVICES_TOTAL: f64 = 3_650_000.0;
const EXPORT_TOTAL: f64 = 2_950_000.0;
const IMPORT_TOTAL: f64 = 1_850_000.0;

fn tenths(x: f64) -> Decimal {
    Decimal::new((x * 10.0).round() as i64, 1)
}

/// Month (2..=9) of a period string.
fn month_of(period: &str) -> usize {
    period[5..].parse().expect("period")
}

/// `任城区_2025年1-9月_倍增监测报表.xlsx`.
pub(crate) fn file_name(region_name: &str, period: &str) -> String {
    format!("{region_name}_{}年1-{}月_倍增监测报表.xlsx", &period[..4], month_of(period))
}

pub(crate) fn build_returns(pop: &Population) -> Vec<CountyReturn> {
    let mut used_names = pop.used_names.clone();
    let mut used_codes = pop.used_codes.clone();
    let mut extra_rng = Rng::stream("violations");
    let jn102 = jn102_plans();
    let jn103 = jn103_plans();
    let projects = project_plans();
    let mut out = Vec::new();
    for (ri, r) in REGIONS.iter().enumerate() {
        let layout = catalog::layout(ri);
        let ents: Vec<&Enterprise> = pop.enterprises.iter().filter(|e| e.region == ri).collect();
        for period in PERIODS {
            let month = month_of(period);
            let mut rows: Vec<Jn101Row> =
                ents.iter().filter(|e| month >= e.first_month()).map(|e| jn101_row(e, month)).collect();
            let genuine = rows.len();
            if period == FINAL_PERIOD {
                add_violations(r.code, &mut rows, &mut extra_rng, &mut used_names, &mut used_codes);
            }
            let first_data_row = if layout.total_row == TotalRow::Top { 7 } else { 6 };
            for (i, row) in rows.iter_mut().enumerate() {
                row.excel_row = first_data_row + i as u32;
            }
            let jn101_total_row = match layout.total_row {
                TotalRow::Top => Some(6),
                TotalRow::Bottom => Some(first_data_row + rows.len() as u32),
                TotalRow::None => None,
            };
            let text_amounts = pick_text_amounts(r.code, period, &rows);
            out.push(CountyReturn {
                region_code: r.code.to_string(),
                period: period.to_string(),
                file_name: file_name(r.name, period),
                jn101: rows,
                jn102: jn102[ri].rows(month, genuine),
                jn103: jn103[ri].rows(month),
                jn104: projects[ri].iter().map(|p| p.row(month)).collect(),
                layout,
                jn101_total_row,
                text_amounts,
            });
        }
    }
    out
}

fn jn101_row(e: &Enterprise, month: usize) -> Jn101Row {
    let i = month - 1;
    let d = |v: i64| Decimal::new(v, 1);
    Jn101Row {
        credit_code: e.credit_code.clone(),
        name: e.name.clone(),
        industry_code: e.industry.to_string(),
        output_ytd: d(e.cur[OUT][i]),
        output_prev: d(e.prev[OUT][i]),
        va_ytd: d(e.cur[VA][i]),
        va_prev: d(e.prev[VA][i]),
        revenue_ytd: d(e.cur[REV][i]),
        revenue_prev: d(e.prev[REV][i]),
        profit_ytd: d(e.cur[PROFIT][i]),
        profit_prev: d(e.prev[PROFIT][i]),
        export_ytd: d(e.cur[EXPORT][i]),
        export_prev: d(e.prev[EXPORT][i]),
        employees: e.employees[i],
        note: e.note.to_string(),
        excel_row: 0,
        expected_error: None,
    }
}

/// Three amounts per workbook (on genuine rows) typed as text with thousands separators ("1,234.5").
fn pick_text_amounts(region: &str, period: &str, rows: &[Jn101Row]) -> Vec<(u32, &'static str)> {
    const FIELDS: [&str; 5] = ["output_ytd", "output_prev", "va_ytd", "revenue_ytd", "revenue_prev"];
    let mut rng = Rng::stream(&format!("text-amounts/{region}/{period}"));
    let genuine: Vec<&Jn101Row> = rows.iter().filter(|r| r.expected_error.is_none()).collect();
    let mut out: Vec<(u32, &'static str)> = Vec::new();
    while out.len() < 3.min(genuine.len()) {
        let row = genuine[rng.below(genuine.len())].excel_row;
        if out.iter().all(|(r, _)| *r != row) {
            out.push((row, *rng.pick(&FIELDS)));
        }
    }
    out.sort();
    out
}

/// An otherwise ordinary enterprise row that is not part of the calibrated population.
fn extra_row(
    rng: &mut Rng,
    names: &mut HashSet<String>,
    codes: &mut HashSet<String>,
    region: &catalog::RegionSpec,
    industry: &str,
) -> Jn101Row {
    let code = loop {
        let c = new_credit_code(rng, region.area);
        if codes.insert(c.clone()) {
            break c;
        }
    };
    let name = unique_name(rng, names, region.name_place, industry_by_code(industry), 8_000.0);
    let output_prev = rng.uniform(6_000.0, 20_000.0);
    let output = output_prev * rng.uniform(1.0, 1.15);
    Jn101Row {
        credit_code: code,
        name,
        industry_code: industry.to_string(),
        output_ytd: tenths(output),
        output_prev: tenths(output_prev),
        va_ytd: tenths(output * 0.3),
        va_prev: tenths(output_prev * 0.29),
        revenue_ytd: tenths(output * 0.97),
        revenue_prev: tenths(output_prev * 0.98),
        profit_ytd: tenths(output * 0.05),
        profit_prev: tenths(output_prev * 0.045),
        export_ytd: Decimal::ZERO,
        export_prev: Decimal::ZERO,
        employees: rng.range(60, 240),
        note: String::new(),
        excel_row: 0,
        expected_error: None,
    }
}

/// The deliberate 2025-09 violations, one county each.
fn add_violations(
    region_code: &str,
    rows: &mut Vec<Jn101Row>,
    rng: &mut Rng,
    names: &mut HashSet<String>,
    codes: &mut HashSet<String>,
) {
    let region = REGIONS.iter().find(|r| r.code == region_code).expect("region");
    match region_code {
        // 微山县: a credit code with the letter O (outside the GB 32100 alphabet).
        "370826" => {
            let mut row = extra_row(rng, names, codes, region, "3021");
            let mut chars: Vec<char> = row.credit_code.chars().collect();
            chars[11] = 'O';
            row.credit_code = chars.into_iter().collect();
            row.expected_error = Some("JN101-E01");
            rows.insert(rows.len() * 2 / 5, row);
        }
        // 兖州区: the same enterprise twice; the copy (below the first) is the duplicate.
        "370812" => {
            let mut row = rows[rows.len() / 4].clone();
            row.expected_error = Some("JN101-E07");
            rows.push(row);
        }
        // 梁山县: value added above output.
        "370832" => {
            let mut row = extra_row(rng, names, codes, region, "3660");
            row.va_ytd = (row.output_ytd * Decimal::new(112, 2)).round_dp(1);
            row.expected_error = Some("JN101-E05");
            rows.insert(rows.len() / 2, row);
        }
        // 曲阜市: a negative revenue.
        "370881" => {
            let mut row = extra_row(rng, names, codes, region, "2720");
            row.revenue_ytd = -row.revenue_ytd;
            row.expected_error = Some("JN101-E04");
            rows.insert(rows.len() / 3, row);
        }
        _ => {}
    }
}

/// Splits `total` into integers proportional to `weights` (largest remainder; ties by position).
fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut left = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// Share of the year's flow accumulated by the end of month `month` (1—month月 of 1—9月).
fn season_fraction(month: usize) -> f64 {
    let upto: f64 = SEASON[..month].iter().sum();
    let all: f64 = SEASON.iter().sum();
    upto / all
}

/// A county's JN102 figures: 2025-09 values and growths, spread back over the months.
struct Jn102Plan {
    count_growth: f64,
    high_tech: i64,
    high_tech_growth: f64,
    flows: [(f64, f64); 3], // (2025-09 ytd, growth) of producer services, export, import
}

fn jn102_plans() -> Vec<Jn102Plan> {
    let mut rng = Rng::stream("jn102");
    let weights: Vec<f64> = REGIONS.iter().map(|r| r.enterprises as f64 * rng.uniform(0.7, 1.3)).collect();
    let ht_weights: Vec<f64> =
        REGIONS.iter().zip(&weights).map(|(r, w)| if r.code == "370871" { w * 3.0 } else { *w }).collect();
    let high_tech = apportion(HIGH_TECH_TOTAL, &ht_weights);
    let total_w: f64 = weights.iter().sum();
    REGIONS
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let share = weights[i] / total_w;
            Jn102Plan {
                count_growth: rng.uniform(0.04, 0.14),
                high_tech: high_tech[i],
                high_tech_growth: rng.uniform(0.08, 0.2),
                flows: [
                    (PRODUCER_SERVICES_TOTAL * share * rng.uniform(0.8, 1.2), rng.uniform(0.05, 0.18)),
                    (EXPORT_TOTAL * share * rng.uniform(0.6, 1.4), rng.uniform(0.05, 0.2)),
                    (IMPORT_TOTAL * share * rng.uniform(0.6, 1.4), rng.uniform(0.05, 0.18)),
                ],
            }
        })
        .collect()
}

impl Jn102Plan {
    fn rows(&self, month: usize, enterprises: usize) -> Vec<ItemRow> {
        let item = |code: &str, ytd: Decimal, prev: Decimal| ItemRow {
            item: code.to_string(),
            value_ytd: ytd,
            value_prev: Some(prev),
        };
        let count_prev = (enterprises as f64 / (1.0 + self.count_growth)).round() as i64;
        let ht = (self.high_tech as f64 * (0.93 + 0.07 * (month - 2) as f64 / 7.0)).round() as i64;
        let ht_prev = (ht as f64 / (1.0 + self.high_tech_growth)).round() as i64;
        let frac = season_fraction(month);
        let flow = |k: usize| {
            let (final_ytd, growth) = self.flows[k];
            let ytd = tenths(final_ytd * frac);
            // The growth drifts a little from month to month.
            let g = growth * (1.0 + 0.04 * ((month as f64) - 5.5) / 3.5);
            let prev = tenths(final_ytd * frac / (1.0 + g));
            (ytd, prev)
        };
        let (ps, ps_prev) = flow(0);
        let (ex, ex_prev) = flow(1);
        let (im, im_prev) = flow(2);
        vec![
            item("reported_enterprises", Decimal::from(enterprises as i64), Decimal::from(count_prev)),
            item("high_tech_enterprises", Decimal::from(ht), Decimal::from(ht_prev)),
            item("producer_services_revenue", ps, ps_prev),
            item("trade_total", ex + im, ex_prev + im_prev),
            item("trade_export", ex, ex_prev),
            item("trade_import", im, im_prev),
        ]
    }
}

/// A county's JN103 figures: 2025-09 values and the cumulative path to them.
struct Jn103Plan {
    finals: [i64; 8],
    /// Cumulative share of the final value at the end of each month, per item.
    paths: [[f64; MONTHS]; 8],
}

fn jn103_plans() -> Vec<Jn103Plan> {
    let mut rng = Rng::stream("jn103");
    let n = REGIONS.len();
    let weights: Vec<f64> = REGIONS.iter().map(|r| r.enterprises as f64 * rng.uniform(0.6, 1.4)).collect();
    let mut finals = vec![[0i64; 8]; n];
    let totals = published::JN103_TOTALS;
    for (k, (code, total)) in totals.iter().enumerate() {
        let per_county = match *code {
            // Resolved and agreements follow their parents, so that they never exceed them.
            "appeals_resolved" | "coop_agreements" => continue,
            _ => {
                let w: Vec<f64> = weights.iter().map(|w| w * rng.uniform(0.8, 1.2)).collect();
                apportion(*total, &w)
            }
        };
        for (c, v) in per_county.into_iter().enumerate() {
            finals[c][k] = v;
        }
    }
    for (child, parent, lo, hi) in [(1, 0, 0.93, 0.99), (4, 3, 0.2, 0.38)] {
        let parents: Vec<i64> = finals.iter().map(|f| f[parent]).collect();
        let w: Vec<f64> = parents.iter().map(|&p| p as f64 * rng.uniform(lo, hi)).collect();
        let mut children = apportion(totals[child].1, &w);
        // Move any excess over the parent to the county with the most room.
        while let Some(over) = (0..n).find(|&c| children[c] > parents[c]) {
            let excess = children[over] - parents[over];
            children[over] = parents[over];
            let room = (0..n).max_by_key(|&c| parents[c] - children[c]).expect("counties");
            children[room] += excess;
        }
        for (c, v) in children.into_iter().enumerate() {
            finals[c][child] = v;
        }
    }
    finals
        .into_iter()
        .map(|f| {
            let mut paths = [[0.0; MONTHS]; 8];
            for path in paths.iter_mut() {
                let w: Vec<f64> = (0..MONTHS).map(|m| SEASON[m] * rng.uniform(0.7, 1.3)).collect();
                let all: f64 = w.iter().sum();
                let mut acc = 0.0;
                for m in 0..MONTHS {
                    acc += w[m];
                    path[m] = if m == MONTHS - 1 { 1.0 } else { acc / all };
                }
            }
            Jn103Plan { finals: f, paths }
        })
        .collect()
}

impl Jn103Plan {
    fn rows(&self, month: usize) -> Vec<ItemRow> {
        let at = |k: usize| -> i64 {
            if month == MONTHS {
                self.finals[k]
            } else {
                (self.finals[k] as f64 * self.paths[k][month - 1]).floor() as i64
            }
        };
        let mut v: Vec<i64> = (0..8).map(at).collect();
        v[1] = v[1].min(v[0]);
        v[4] = v[4].min(v[3]);
        JN103_ITEMS
            .iter()
            .zip(v)
            .map(|((code, _, _), x)| ItemRow { item: code.to_string(), value_ytd: Decimal::from(x), value_prev: None })
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ProjectKind {
    /// 谋划, then 在建 from `switch` (never, if 10).
    Planning,
    /// 在建 all year.
    Building,
    /// 在建, 竣工 in month `switch`, 投产 after.
    Completing,
    /// 投产 since last year, 达产 from month `switch` (never, if ≥ 10).
    Producing,
}

struct ProjectPlan {
    name: String,
    code: Option<String>,
    chain: usize,
    kind: ProjectKind,
    switch: usize,
    /// Tenths of 万元.
    total: i64,
    done_before: i64,
    planned: i64,
    spend: [i64; MONTHS],
    progress_factor: f64,
    planned_start: Option<String>,
}

fn ym(year: i64, month: i64) -> String {
    let idx = year * 12 + month - 1;
    format!("{}-{:02}", idx / 12, idx % 12 + 1)
}

fn project_plans() -> Vec<Vec<ProjectPlan>> {
    let mut rng = Rng::stream("jn104");
    REGIONS
        .iter()
        .map(|r| {
            let mut names: HashSet<String> = HashSet::new();
            let mut plans = Vec::new();
            // The projects the article names come first.
            let forced: &[(usize, &str)] = match r.code {
                "370827" => &[(9, "莱赛尔纤维新材料")],
                "370832" => &[(10, "稀土永磁材料")],
                "370812" => &[(11, "高档特种纸")],
                "370871" => &[(0, "工程机械智能制造产业园")],
                _ => &[],
            };
            for i in 0..r.projects {
                let (chain, stem) = match forced.get(i) {
                    Some(&(c, s)) => (c, s),
                    None => {
                        let c = rng.below(CHAINS.len());
                        (c, *rng.pick(CHAINS[c].stems))
                    }
                };
                let mut name = format!("{}{stem}项目", r.project_prefix);
                while !names.insert(name.clone()) {
                    name = format!("{}{}{stem}项目", r.project_prefix, rng.pick(catalog::BRANDS));
                }
                // Only the forced 鱼台 project carries the article's figures.
                let lyocell = i < forced.len() && stem == "莱赛尔纤维新材料";
                plans.push(project_plan(&mut rng, r, name, chain, lyocell));
            }
            plans
        })
        .collect()
}

fn project_plan(rng: &mut Rng, r: &catalog::RegionSpec, name: String, chain: usize, lyocell: bool) -> ProjectPlan {
    let code = rng.chance(0.75).then(|| {
        format!(
            "{:02}{:02}-{}-{:02}-{:02}-{:06}",
            rng.range(22, 24),
            rng.range(1, 12),
            r.area,
            rng.range(3, 4),
            rng.range(1, 3),
            rng.range(100_000, 999_999)
        )
    });
    let t = |x: f64| (x * 10.0).round() as i64;
    if lyocell {
        // 鱼台莱赛尔: 总投资 100 亿元, ~85% done by September, first line due at the end of 2025.
        let total = t(1_000_000.0);
        let target = t(430_000.0);
        return ProjectPlan {
            name,
            code,
            chain,
            kind: ProjectKind::Building,
            switch: 0,
            total,
            done_before: t(420_000.0),
            planned: t(500_000.0),
            spend: spread(rng, target, 1),
            progress_factor: 1.0,
            planned_start: Some("2025-12".into()),
        };
    }
    let total_f = match rng.weighted(&[0.5, 0.35, 0.15]) {
        0 => rng.uniform(10_000.0, 50_000.0),
        1 => rng.uniform(50_000.0, 200_000.0),
        _ => rng.uniform(200_000.0, 800_000.0),
    };
    let total = t(total_f);
    let kind = match rng.weighted(&[0.15, 0.45, 0.25, 0.15]) {
        0 => ProjectKind::Planning,
        1 => ProjectKind::Building,
        2 => ProjectKind::Completing,
        _ => ProjectKind::Producing,
    };
    let frac = |x: f64| (total as f64 * x).round() as i64;
    let (switch, done_before, planned, spend, start) = match kind {
        ProjectKind::Planning => {
            let s = rng.range(4, 10) as usize;
            let planned = frac(rng.uniform(0.1, 0.25));
            let target = if s <= MONTHS {
                (planned as f64 * rng.uniform(0.3, 0.6) * (10 - s) as f64 / 6.0).round() as i64
            } else {
                0
            };
            (s, 0, planned, spread(rng, target, s), ym(2026, rng.range(3, 18)))
        }
        ProjectKind::Building => {
            let done_before = frac(rng.uniform(0.05, 0.5));
            let planned = (total - done_before).min(frac(rng.uniform(0.2, 0.4)));
            let target = (planned as f64 * rng.uniform(0.55, 0.95)).round() as i64;
            (0, done_before, planned, spread(rng, target, 1), ym(2025, rng.range(10, 30)))
        }
        ProjectKind::Completing => {
            let k = rng.range(3, 9) as usize;
            let done_before = frac(rng.uniform(0.4, 0.8));
            let final_done = frac(rng.uniform(0.9, 0.99));
            let planned = ((final_done - done_before) as f64 * rng.uniform(1.0, 1.08)).round() as i64;
            let planned = planned.min(total - done_before);
            let mut spend = spread(rng, final_done - done_before, 1);
            // Everything is spent by the month of completion.
            let after: i64 = spend[k..].iter().sum();
            spend[k - 1] += after;
            spend[k..].iter_mut().for_each(|x| *x = 0);
            (k, done_before, planned, spend, ym(2025, k as i64 + 1))
        }
        ProjectKind::Producing => {
            let done_before = frac(rng.uniform(0.85, 0.95));
            let tail = frac(rng.uniform(0.01, 0.04));
            let planned = ((tail as f64) * rng.uniform(1.0, 1.3)).round() as i64;
            let planned = planned.min(total - done_before);
            let j = rng.range(3, 12) as usize;
            (j, done_before, planned, spread(rng, tail, 1), ym(2024, rng.range(3, 12)))
        }
    };
    ProjectPlan {
        name,
        code,
        chain,
        kind,
        switch,
        total,
        done_before,
        planned,
        spend,
        progress_factor: rng.uniform(0.95, 1.15),
        planned_start: rng.chance(0.8).then_some(start),
    }
}

/// Spreads `amount` over months `from..=9` (1-based) with seasonal noise; exact sum.
fn spread(rng: &mut Rng, amount: i64, from: usize) -> [i64; MONTHS] {
    let mut out = [0i64; MONTHS];
    if from > MONTHS || amount == 0 {
        return out;
    }
    let w: Vec<f64> =
        (0..MONTHS).map(|m| if m + 1 >= from { SEASON[m] * rng.uniform(0.6, 1.4) } else { 0.0 }).collect();
    let parts = apportion(amount, &w);
    out.copy_from_slice(&parts);
    out
}

impl ProjectPlan {
    fn row(&self, month: usize) -> ProjectRow {
        let done_year: i64 = self.spend[..month].iter().sum();
        let done_cum = self.done_before + done_year;
        let building_progress = || {
            let p = (100.0 * done_cum as f64 / self.total as f64 * self.progress_factor).round() as i64;
            p.clamp(3, 95)
        };
        let (status, progress) = match self.kind {
            ProjectKind::Planning if month < self.switch => ("谋划", 0),
            ProjectKind::Planning | ProjectKind::Building => ("在建", building_progress()),
            ProjectKind::Completing if month < self.switch => ("在建", building_progress()),
            ProjectKind::Completing if month == self.switch => ("竣工", 100),
            ProjectKind::Completing => ("投产", 100),
            ProjectKind::Producing if month < self.switch => ("投产", 100),
            ProjectKind::Producing => ("达产", 100),
        };
        let d = |v: i64| Decimal::new(v, 1);
        ProjectRow {
            project_name: self.name.clone(),
            project_code: self.code.clone(),
            chain: CHAINS[self.chain].name.to_string(),
            total_investment: d(self.total),
            planned_this_year: d(self.planned),
            done_this_year: d(done_year),
            done_cumulative: d(done_cum),
            progress_pct: Decimal::from(progress),
            status: status.to_string(),
            planned_start: self.planned_start.clone(),
        }
    }
}

/// The five doublings: base 2024 a little below the current (annualised) value, target 2 × base.
pub(crate) fn build_targets(returns: &[CountyReturn]) -> Vec<Target> {
    let finals: Vec<&CountyReturn> = returns.iter().filter(|r| r.period == FINAL_PERIOD).collect();
    let annualise = Decimal::from(12) / Decimal::from(month_of(FINAL_PERIOD) as i64);
    let jn102_sum = |item: &str| -> Decimal {
        finals.iter().flat_map(|r| r.jn102.iter()).filter(|i| i.item == item).map(|i| i.value_ytd).sum()
    };
    let accepted = || finals.iter().flat_map(|r| r.jn101.iter()).filter(|row| row.expected_error.is_none());
    let revenue: Decimal = accepted().map(|row| row.revenue_ytd).sum();
    let enterprises = Decimal::from(accepted().count() as i64);
    let current = [
        ("industrial_scale", revenue * annualise, 0.08, 2027, "万元"),
        ("enterprises", enterprises, 0.12, 2027, "个"),
        ("high_tech_enterprises", jn102_sum("high_tech_enterprises"), 0.18, 2027, "个"),
        ("producer_services_revenue", jn102_sum("producer_services_revenue") * annualise, 0.10, 2027, "万元"),
        ("trade_total", jn102_sum("trade_total") * annualise, 0.09, 2028, "万元"),
    ];
    current
        .into_iter()
        .map(|(indicator, cur, progress, target_year, unit)| {
            let cur: f64 = cur.to_string().parse().expect("decimal");
            let step = if unit == "万元" { 100.0 } else { 1.0 };
            let base = ((cur / (1.0 + progress) / step).round() * step) as i64;
            Target {
                indicator: indicator.to_string(),
                base_year: 2024,
                base_value: Decimal::from(base),
                target_year,
                target_value: Decimal::from(base * 2),
                unit: unit.to_string(),
            }
        })
        .collect()
}
