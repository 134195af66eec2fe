//! Inboxes at the scale of a city, a province or the country, for benchmarks
//! (`gongbao sample --scale province --out DIR`).
//!
//! The same workbooks as the sample (one per reporting unit, forms JN101–JN104, the sheet layouts
//! of the 14 counties in turn: 序号 columns, 合计 rows at the top, bottom or none, numbers typed as
//! text, full-width colons, …), for one period and any number of synthetic units with a chosen
//! number of enterprises each, plus the reference data to run gongbao on them. Not calibrated to
//! published figures: every row is valid (nothing to quarantine), so the per-unit JN101 sums the
//! generator writes to `expected.csv` are what gongbao's accepted rows must add up to, and what the
//! peer scripts of `benches/peers/` print (same CSV). Deterministic: each unit draws from its own
//! stream, so the bytes do not depend on the number of threads that write them.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::catalog::{self, CHAINS, Industry, MANUFACTURING, MINING, UTILITIES};
use super::codes::new_credit_code;
use super::items::{JN102_ITEMS, file_name};
use super::rng::Rng;
use super::{Chain, ChainMember, CountyReturn, ItemRow, Jn101Row, ProjectRow, Region, SampleData, Target, TotalRow};

/// The period of every scale inbox (1—9月 2025, as the sample's last period).
pub const PERIOD: &str = "2025-09";

/// The forms of a whole return.
pub const ALL_FORMS: [&str; 4] = ["JN101", "JN102", "JN103", "JN104"];

/// How big an inbox to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSpec {
    /// Reporting units (one workbook each).
    pub units: usize,
    /// Mean JN101 enterprises per unit (each unit has 75 %–125 % of it).
    pub per_unit: usize,
    /// The forms every workbook holds: JN101 and any of the others (an inbox lacking a form).
    pub forms: Vec<String>,
}

impl ScaleSpec {
    /// The named sizes: `city` (14 units, ~4,000 enterprises), `province` (136 units, ~40,000)
    /// and `national` (2,800 units, ~500,000).
    pub fn named(name: &str) -> Result<ScaleSpec> {
        let (units, per_unit) = match name {
            "city" => (14, 290),
            "province" => (136, 300),
            "national" => (2_800, 180),
            other => bail!("unknown scale `{other}` (city, province or national)"),
        };
        Ok(ScaleSpec { units, per_unit, forms: ALL_FORMS.iter().map(|f| f.to_string()).collect() })
    }
}

/// What [`write_scale`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSummary {
    pub workbooks: usize,
    pub jn101_rows: usize,
}

/// One unit's JN101 sums, in tenths of 万元 (exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSums {
    pub code: String,
    pub name: String,
    pub enterprises: usize,
    pub output_ytd: i64,
    pub output_prev: i64,
    pub revenue_ytd: i64,
    pub revenue_prev: i64,
}

/// The synthetic units: codes `SSPPCC` (never the city's own `370800`), names `模拟0001县`.
pub fn regions(units: usize) -> Vec<Region> {
    let width = units.to_string().len().max(3);
    (0..units)
        .map(|i| {
            let code = format!("{:02}{:02}{:02}", 11 + i / 400, (i / 20) % 20 + 1, i % 20 + 1);
            let short = format!("模拟{:0width$}", i + 1);
            Region { code, name: format!("{short}县"), short_name: short }
        })
        .collect()
}

/// Writes `dir/returns/*.xlsx`, `dir/reference/*.csv` and `dir/expected.csv`. The returns are
/// written in parallel; the result is the same bytes whatever the number of threads.
pub fn write_scale(spec: &ScaleSpec, dir: &Path) -> Result<ScaleSummary> {
    if spec.units == 0 || spec.per_unit == 0 {
        bail!("a scale inbox needs at least one unit and one enterprise per unit");
    }
    if !spec.forms.iter().any(|f| f == "JN101") || spec.forms.iter().any(|f| !ALL_FORMS.contains(&f.as_str())) {
        bail!("forms must be JN101 and any of {}, not {}", ALL_FORMS[1..].join(", "), spec.forms.join(", "));
    }
    if spec.units > 8_000 {
        bail!("at most 8,000 units (region codes have six digits)");
    }
    let returns_dir = dir.join("returns");
    std::fs::create_dir_all(&returns_dir).with_context(|| format!("creating {}", returns_dir.display()))?;
    let chains: Vec<Chain> = CHAINS
        .iter()
        .map(|c| Chain { chain_id: c.id.into(), name: c.name.into(), cluster: c.cluster.into() })
        .collect();
    let mut data = SampleData {
        regions: regions(spec.units),
        chains,
        chain_members: Vec::new(),
        targets: Vec::new(),
        ppi: vec![super::PpiRow {
            period: PERIOD.to_string(),
            division: "_T".to_string(),
            index: Decimal::new(986, 1),
        }],
        returns: Vec::new(),
    };
    let units: Vec<(CountyReturn, Vec<ChainMember>, UnitSums)> = (0..spec.units)
        .into_par_iter()
        .map(|i| {
            let (ret, members, sums) = unit_return(spec, i, &data.regions[i]);
            let bytes = super::workbook_bytes(&data, &ret)?;
            let path = returns_dir.join(&ret.file_name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            // Only what the reference data and the totals need is kept, not the rows.
            let light = CountyReturn { jn101: Vec::new(), jn104: Vec::new(), text_amounts: Vec::new(), ..ret };
            Ok((light, members, sums))
        })
        .collect::<Result<_>>()?;
    let mut sums = Vec::new();
    for (ret, members, s) in units {
        data.chain_members.extend(members);
        data.returns.push(ret);
        sums.push(s);
    }
    data.targets = targets(&data.returns, &sums);
    super::write_reference(&data, &dir.join("reference"))?;
    write_expected(&dir.join("expected.csv"), &sums)?;
    Ok(ScaleSummary { workbooks: spec.units, jn101_rows: sums.iter().map(|s| s.enterprises).sum() })
}

fn tenths(x: f64) -> i64 {
    (x * 10.0).round() as i64
}

fn dec(t: i64) -> Decimal {
    Decimal::new(t, 1)
}

/// A uniform draw in [lo, hi] centred like a bell (mean of three uniforms).
fn bell(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let u = (rng.f64() + rng.f64() + rng.f64()) / 3.0;
    lo + (hi - lo) * u
}

fn pick_industry(rng: &mut Rng) -> &'static Industry {
    let group: &[Industry] = match rng.below(20) {
        0 => MINING,
        1 | 2 => UTILITIES,
        _ => MANUFACTURING,
    };
    let weights: Vec<f64> = group.iter().map(|x| x.weight).collect();
    &group[rng.weighted(&weights)]
}

/// One unit's return, its chain memberships and its JN101 sums.
fn unit_return(spec: &ScaleSpec, i: usize, region: &Region) -> (CountyReturn, Vec<ChainMember>, UnitSums) {
    let mut rng = Rng::stream(&format!("scale/{i}"));
    let layout = catalog::layout(i % catalog::REGIONS.len());
    let n = ((spec.per_unit as f64 * bell(&mut rng, 0.75, 1.25)).round() as usize).max(1);
    let mut codes = HashSet::new();
    let mut rows = Vec::with_capacity(n);
    let mut members = Vec::new();
    let mut sums = UnitSums {
        code: region.code.clone(),
        name: region.name.clone(),
        enterprises: n,
        output_ytd: 0,
        output_prev: 0,
        revenue_ytd: 0,
        revenue_prev: 0,
    };
    for k in 0..n {
        let credit_code = loop {
            let c = new_credit_code(&mut rng, &region.code);
            if codes.insert(c.clone()) {
                break c;
            }
        };
        let industry = pick_industry(&mut rng);
        // Annual revenue from 2,500 万元 (above the 2,000 threshold) with a long upper tail.
        let annual = 2_500.0 + 3_000.0 * (1.0 / (1.0 - 0.97 * rng.f64()) - 1.0);
        let revenue = annual * 9.0 / 12.0;
        let output = revenue * rng.uniform(0.92, 1.08);
        let g = bell(&mut rng, -0.2, 0.4);
        let va_rate = rng.uniform(0.2, 0.35);
        let t = |x: f64| tenths(x).max(0);
        let output_t = t(output);
        let output_prev_t = t(output / (1.0 + g)).max(1);
        let (export_t, export_prev_t) = if rng.chance(0.25) {
            let share = rng.uniform(0.05, 0.4);
            (t(output * share), t(output / (1.0 + g) * share))
        } else {
            (0, 0)
        };
        let revenue_t = t(revenue);
        let revenue_prev_t = t(revenue / (1.0 + g + rng.uniform(-0.02, 0.02)));
        let profit = revenue * rng.uniform(-0.02, 0.1);
        let row = Jn101Row {
            credit_code: credit_code.clone(),
            name: format!("{}第{}号{}有限公司", region.short_name, k + 1, rng.pick(industry.biz)),
            industry_code: industry.code.to_string(),
            output_ytd: dec(output_t),
            output_prev: dec(output_prev_t),
            va_ytd: dec(t(output * va_rate).min(output_t)),
            va_prev: dec(t(output / (1.0 + g) * va_rate).min(output_prev_t)),
            revenue_ytd: dec(revenue_t),
            revenue_prev: dec(revenue_prev_t),
            profit_ytd: dec(tenths(profit)),
            profit_prev: dec(tenths(profit / (1.0 + g))),
            export_ytd: dec(export_t.min(output_t)),
            export_prev: dec(export_prev_t.min(output_prev_t)),
            employees: (annual / 150.0).round().max(20.0) as i64,
            note: String::new(),
            excel_row: 0,
            expected_error: None,
        };
        if let Some(&chain) = industry.chains.first()
            && rng.chance(0.7)
        {
            members.push(ChainMember {
                credit_code,
                chain_id: CHAINS[chain].id.to_string(),
                is_chain_master: rng.chance(0.02),
            });
        }
        sums.output_ytd += output_t;
        sums.output_prev += output_prev_t;
        sums.revenue_ytd += revenue_t;
        sums.revenue_prev += revenue_prev_t;
        rows.push(row);
    }
    let first_data_row = if layout.total_row == TotalRow::Top { 7 } else { 6 };
    for (k, row) in rows.iter_mut().enumerate() {
        row.excel_row = first_data_row + k as u32;
    }
    let jn101_total_row = match layout.total_row {
        TotalRow::Top => Some(6),
        TotalRow::Bottom => Some(first_data_row + rows.len() as u32),
        TotalRow::None => None,
    };
    // About one amount in a hundred rows typed as text ("1,234.5"), as counties do.
    const TEXT_FIELDS: [&str; 5] = ["output_ytd", "output_prev", "va_ytd", "revenue_ytd", "revenue_prev"];
    let mut text_amounts: Vec<(u32, &'static str)> = Vec::new();
    for r in &rows {
        if rng.chance(0.01) {
            text_amounts.push((r.excel_row, *rng.pick(&TEXT_FIELDS)));
        }
    }
    text_amounts.sort();
    // A form left out has no rows, and so no sheet (the draws stay the same either way).
    let has = |form: &str| spec.forms.iter().any(|f| f == form);
    let (jn102, jn103, jn104) = (jn102_rows(&mut rng, n), jn103_rows(&mut rng), projects(&mut rng, region));
    let ret = CountyReturn {
        region_code: region.code.clone(),
        period: PERIOD.to_string(),
        file_name: file_name(&region.name, PERIOD),
        jn102: if has("JN102") { jn102 } else { Vec::new() },
        jn103: if has("JN103") { jn103 } else { Vec::new() },
        jn104: if has("JN104") { jn104 } else { Vec::new() },
        jn101: rows,
        layout,
        jn101_total_row,
        text_amounts,
    };
    (ret, members, sums)
}

fn jn102_rows(rng: &mut Rng, enterprises: usize) -> Vec<ItemRow> {
    let item = |code: &str, ytd: i64, prev: i64| ItemRow {
        item: code.to_string(),
        value_ytd: dec(ytd),
        value_prev: Some(dec(prev.max(1))),
    };
    let grow = |rng: &mut Rng, t: i64| (t as f64 / rng.uniform(0.95, 1.2)).round() as i64;
    let n = enterprises as i64 * 10;
    let high_tech = (enterprises as i64 / 3).max(1) * 10;
    let services = tenths(rng.uniform(1e4, 8e4));
    let export = tenths(rng.uniform(5e3, 6e4));
    let import = tenths(rng.uniform(2e3, 4e4));
    let (export_prev, import_prev) = (grow(rng, export), grow(rng, import));
    let rows = vec![
        item(JN102_ITEMS[0].0, n, (n as f64 * rng.uniform(0.9, 1.0) / 10.0).round() as i64 * 10),
        item(JN102_ITEMS[1].0, high_tech, (high_tech as f64 * rng.uniform(0.85, 1.0) / 10.0).round() as i64 * 10),
        item(JN102_ITEMS[2].0, services, grow(rng, services)),
        item(JN102_ITEMS[3].0, export + import, export_prev + import_prev),
        item(JN102_ITEMS[4].0, export, export_prev),
        item(JN102_ITEMS[5].0, import, import_prev),
    ];
    rows
}

fn jn103_rows(rng: &mut Rng) -> Vec<ItemRow> {
    let received = rng.range(50, 800);
    let resolved = (received as f64 * rng.uniform(0.9, 1.0)).floor() as i64;
    let intents = rng.range(2, 20);
    let values = [
        received * 10,
        resolved * 10,
        rng.range(1, 12) * 10,
        intents * 10,
        intents / 3 * 10,
        tenths(rng.uniform(1e3, 5e4)),
        rng.range(50, 600) * 10,
        rng.range(1, 15) * 10,
    ];
    super::items::JN103_ITEMS
        .iter()
        .zip(values)
        .map(|((code, _, _), v)| ItemRow { item: code.to_string(), value_ytd: dec(v), value_prev: None })
        .collect()
}

fn projects(rng: &mut Rng, region: &Region) -> Vec<ProjectRow> {
    const STATUSES: [&str; 3] = ["在建", "在建", "谋划"];
    (0..rng.range(2, 8))
        .map(|k| {
            let chain = rng.pick(&CHAINS);
            let total = tenths(rng.uniform(1e4, 3e5));
            let planned = tenths(total as f64 / 10.0 * rng.uniform(0.1, 0.5));
            let done = tenths(planned as f64 / 10.0 * rng.uniform(0.3, 1.0));
            let cumulative = (done + tenths(total as f64 / 10.0 * rng.uniform(0.0, 0.5))).min(total);
            ProjectRow {
                project_name: format!("{}{}项目{}", region.short_name, rng.pick(chain.stems), k + 1),
                project_code: None,
                chain: chain.name.to_string(),
                total_investment: dec(total),
                planned_this_year: dec(planned),
                done_this_year: dec(done),
                done_cumulative: dec(cumulative),
                progress_pct: Decimal::from(rng.range(10, 95)),
                status: rng.pick(&STATUSES).to_string(),
                planned_start: Some(format!("{}-{:02}", 2026 + rng.range(0, 1), rng.range(1, 12))),
            }
        })
        .collect()
}

/// The five doublings: base a little below the current (annualised) value, target twice the base.
fn targets(returns: &[CountyReturn], sums: &[UnitSums]) -> Vec<Target> {
    let jn102 = |item: &str| -> i64 {
        returns
            .iter()
            .flat_map(|r| &r.jn102)
            .filter(|i| i.item == item)
            .map(|i| (i.value_ytd * Decimal::TEN).try_into().unwrap_or(0i64))
            .sum()
    };
    let annual = |tenths: i64| tenths as f64 / 10.0 * 12.0 / 9.0;
    let revenue: i64 = sums.iter().map(|s| s.revenue_ytd).sum();
    let enterprises: usize = sums.iter().map(|s| s.enterprises).sum();
    [
        ("industrial_scale", annual(revenue), "万元"),
        ("enterprises", enterprises as f64, "个"),
        ("high_tech_enterprises", jn102("high_tech_enterprises") as f64 / 10.0, "个"),
        ("producer_services_revenue", annual(jn102("producer_services_revenue")), "万元"),
        ("trade_total", annual(jn102("trade_total")), "万元"),
    ]
    .into_iter()
    .map(|(indicator, current, unit)| {
        let base = (current / 1.1).round() as i64;
        Target {
            indicator: indicator.to_string(),
            base_year: 2024,
            base_value: Decimal::from(base),
            target_year: 2027,
            target_value: Decimal::from(base * 2),
            unit: unit.to_string(),
        }
    })
    .collect()
}

/// `expected.csv`: per unit (by name), JN101 enterprises, output and revenue sums and growth, in
/// the layout the peer scripts print (`benches/peers/`).
fn write_expected(path: &Path, sums: &[UnitSums]) -> Result<()> {
    let mut sorted: Vec<&UnitSums> = sums.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::from(
        "region,enterprises,output_ytd,output_prev,output_growth,revenue_ytd,revenue_prev,revenue_growth\n",
    );
    let growth = |a: i64, b: i64| (a as f64 / b as f64 - 1.0) * 100.0;
    for s in sorted {
        out.push_str(&format!(
            "{},{},{:.1},{:.1},{:.4},{:.1},{:.1},{:.4}\n",
            s.name,
            s.enterprises,
            s.output_ytd as f64 / 10.0,
            s.output_prev as f64 / 10.0,
            growth(s.output_ytd, s.output_prev),
            s.revenue_ytd as f64 / 10.0,
            s.revenue_prev as f64 / 10.0,
            growth(s.revenue_ytd, s.revenue_prev),
        ));
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// Reads `expected.csv` back: unit name → (enterprises, output_ytd in tenths of 万元).
pub fn read_expected(path: &Path) -> Result<Vec<(String, usize, i64)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let tenths: i64 = f[2].replace('.', "").parse()?;
        out.push((f[0].to_string(), f[1].parse()?, tenths));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_scales() {
        let province = ScaleSpec::named("province").unwrap();
        assert_eq!((province.units, province.per_unit, province.forms.len()), (136, 300, 4));
        assert!(ScaleSpec::named("planet").is_err());
    }

    #[test]
    fn region_codes_are_unique_six_digits_and_never_the_city() {
        let r = regions(8_000);
        let codes: HashSet<&str> = r.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes.len(), 8_000);
        assert!(r.iter().all(|r| r.code.len() == 6 && r.code.bytes().all(|b| b.is_ascii_digit())));
        assert!(!codes.contains(crate::reference::CITY_CODE));
        // No name is the prefix of another with the same digits (模拟001县 vs 模拟0011县).
        assert_eq!(r[0].name, "模拟0001县");
    }

    #[test]
    fn unit_returns_are_valid_and_sum_to_their_totals() {
        let spec = ScaleSpec { units: 20, per_unit: 40, ..ScaleSpec::named("city").unwrap() };
        for (i, region) in regions(spec.units).iter().enumerate() {
            let (ret, members, sums) = unit_return(&spec, i, region);
            assert_eq!(ret.jn101.len(), sums.enterprises);
            assert!((30..=50).contains(&sums.enterprises), "{}", sums.enterprises);
            let total: Decimal = ret.jn101.iter().map(|r| r.output_ytd).sum();
            assert_eq!(total, dec(sums.output_ytd));
            for r in &ret.jn101 {
                assert!(super::super::is_valid_credit_code(&r.credit_code), "{}", r.credit_code);
                assert!(r.va_ytd <= r.output_ytd && r.export_ytd <= r.output_ytd);
                assert!(r.va_prev <= r.output_prev && r.export_prev <= r.output_prev);
                assert!(r.output_prev > Decimal::ZERO && r.revenue_ytd >= Decimal::ZERO);
            }
            let codes: HashSet<&str> = ret.jn101.iter().map(|r| r.credit_code.as_str()).collect();
            assert_eq!(codes.len(), ret.jn101.len());
            assert!(members.iter().all(|m| codes.contains(m.credit_code.as_str())));
            let item = |code: &str| ret.jn102.iter().find(|i| i.item == code).unwrap().value_ytd;
            assert_eq!(item("trade_total"), item("trade_export") + item("trade_import"));
            // The same unit gives the same return.
            assert_eq!(unit_return(&spec, i, region).0, ret);
        }
    }
}
