//! The whole monthly run on the bundled sample data, checked against the generator's known rows
//! with plain Rust arithmetic (never against the project's own SQL).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use gongbao::run::{RunOptions, RunSummary};
use gongbao::sample::{self, Jn101Row, SampleData};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::sample_run::{copy_dir, sample_run};

const CITY: &str = "370800";

/// (region, breakdown, indicator) → (value, unit, status).
type Indicators = BTreeMap<(String, String, String), (Option<f64>, String, String)>;
type Breakdown<'a> = (String, Box<dyn Fn(&Jn101Row) -> bool + 'a>);

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_sample(out: &Path, period: Option<&str>) -> RunSummary {
    let mut opts = RunOptions::sample(project(), out);
    opts.period = period.map(|p| p.parse().unwrap());
    gongbao::run::run(&opts).expect("the sample run succeeds")
}

/// indicator_values of one period, read by a fresh DataFusion session with Hive partitioning
/// (a consumer other than gongbao's own store code).
fn read_indicators(out: &Path, period: &str) -> Indicators {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ctx = SessionContext::new();
        let opts = ParquetReadOptions::default().table_partition_cols(vec![("period".to_string(), DataType::Utf8)]);
        let dir = out.join("warehouse/indicator_values/");
        ctx.register_parquet("iv", dir.to_str().unwrap(), opts).await.unwrap();
        let batches: Vec<RecordBatch> = ctx
            .sql(&format!(
                "SELECT CAST(region_code AS VARCHAR) r, CAST(breakdown AS VARCHAR) b, CAST(indicator AS VARCHAR) i, value, \
                 CAST(unit AS VARCHAR) u, CAST(status AS VARCHAR) s FROM iv WHERE period = '{period}'"
            ))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for b in batches {
            // Strings may come back as Utf8View; compare them as plain Utf8.
            let col = |i: usize| arrow::compute::cast(b.column(i), &DataType::Utf8).unwrap().as_string::<i32>().clone();
            let (r, bd, ind, u, s) = (col(0), col(1), col(2), col(4), col(5));
            let v = b.column(3).as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                let key = (r.value(i).to_string(), bd.value(i).to_string(), ind.value(i).to_string());
                let val = (!v.is_null(i)).then(|| v.value(i));
                assert!(out.insert(key.clone(), (val, u.value(i).to_string(), s.value(i).to_string())).is_none(), "duplicate key {key:?}");
            }
        }
        out
    })
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap()
}

/// Expected JN101 figures of one cell, computed from the generator's rows.
struct Cell {
    n: usize,
    output: Decimal,
    output_prev: Decimal,
    va: Decimal,
    va_prev: Decimal,
    revenue: Decimal,
    revenue_prev: Decimal,
    profit: Decimal,
    profit_prev: Decimal,
    export: Decimal,
    export_prev: Decimal,
    employees: i64,
}

fn cell<'a>(rows: impl Iterator<Item = &'a Jn101Row>) -> Cell {
    let mut c = Cell {
        n: 0,
        output: Decimal::ZERO,
        output_prev: Decimal::ZERO,
        va: Decimal::ZERO,
        va_prev: Decimal::ZERO,
        revenue: Decimal::ZERO,
        revenue_prev: Decimal::ZERO,
        profit: Decimal::ZERO,
        profit_prev: Decimal::ZERO,
        export: Decimal::ZERO,
        export_prev: Decimal::ZERO,
        employees: 0,
    };
    for r in rows {
        c.n += 1;
        c.output += r.output_ytd;
        c.output_prev += r.output_prev;
        c.va += r.va_ytd;
        c.va_prev += r.va_prev;
        c.revenue += r.revenue_ytd;
        c.revenue_prev += r.revenue_prev;
        c.profit += r.profit_ytd;
        c.profit_prev += r.profit_prev;
        c.export += r.export_ytd;
        c.export_prev += r.export_prev;
        c.employees += r.employees;
    }
    c
}

fn growth(now: Decimal, prev: Decimal) -> Option<f64> {
    (!prev.is_zero()).then(|| (f(now) / f(prev) - 1.0) * 100.0)
}

fn accepted<'a>(data: &'a SampleData, period: &'a str, region: &'a str) -> impl Iterator<Item = &'a Jn101Row> + 'a {
    data.returns
        .iter()
        .filter(move |r| r.period == period && (region == CITY || r.region_code == region))
        .flat_map(|r| r.jn101.iter())
        .filter(|r| r.expected_error.is_none())
}

fn close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (Some(g), Some(w)) => {
            let tol = 1e-9 * w.abs().max(1.0);
            assert!((g - w).abs() <= tol, "{what}: got {g}, expected {w}");
        }
        (None, None) => {}
        _ => panic!("{what}: got {got:?}, expected {want:?}"),
    }
}

fn check_period(data: &SampleData, iv: &Indicators, period: &str) {
    // Comparable prices: each row deflated by its division's PPI (else the _T one), then summed.
    let va_comparable = |r: &Jn101Row| f(r.va_ytd) / (f(data.ppi_for(period, &r.industry_code).expect("ppi")) / 100.0);
    let chain_codes: BTreeSet<&str> = data.chain_members.iter().map(|m| m.credit_code.as_str()).collect();
    let masters: BTreeSet<&str> =
        data.chain_members.iter().filter(|m| m.is_chain_master).map(|m| m.credit_code.as_str()).collect();
    let counties: Vec<&str> = vec!["370811", "370883", "370827", "JN-JKQ"];
    for region in std::iter::once(CITY).chain(counties) {
        let total = cell(accepted(data, period, region));
        let breakdowns: Vec<Breakdown> = vec![
            ("_T".into(), Box::new(|_| true)),
            (
                "section:C".into(),
                Box::new(|r: &Jn101Row| (13..=43).contains(&r.industry_code[..2].parse::<u32>().unwrap())),
            ),
            (
                "section:B".into(),
                Box::new(|r: &Jn101Row| (6..=12).contains(&r.industry_code[..2].parse::<u32>().unwrap())),
            ),
            (
                "section:D".into(),
                Box::new(|r: &Jn101Row| (44..=46).contains(&r.industry_code[..2].parse::<u32>().unwrap())),
            ),
            ("chain:_ALL".into(), Box::new(|r: &Jn101Row| chain_codes.contains(r.credit_code.as_str()))),
        ];
        // Every industry division (大类) and every chain present in the data.
        let divisions: BTreeSet<String> =
            accepted(data, period, region).map(|r| r.industry_code[..2].to_string()).collect();
        let mut breakdowns = breakdowns;
        for dv in divisions {
            let key = format!("division:{dv}");
            breakdowns.push((key, Box::new(move |r: &Jn101Row| r.industry_code[..2] == dv)));
        }
        for chain in &data.chains {
            let members: BTreeSet<&str> = data
                .chain_members
                .iter()
                .filter(|m| m.chain_id == chain.chain_id)
                .map(|m| m.credit_code.as_str())
                .collect();
            breakdowns.push((
                format!("chain:{}", chain.chain_id),
                Box::new(move |r: &Jn101Row| members.contains(r.credit_code.as_str())),
            ));
        }
        let mut cells_checked = 0;
        for (bd, pred) in &breakdowns {
            let c = cell(accepted(data, period, region).filter(|r| pred(r)));
            if c.n == 0 {
                continue;
            }
            let status = |ind: &str| {
                iv.get(&(region.to_string(), bd.clone(), ind.to_string()))
                    .unwrap_or_else(|| panic!("indicator_values lacks {region} {bd} {ind} for {period}"))
                    .2
                    .clone()
            };
            // Enterprise counts are never hidden.
            assert_ne!(status("enterprises"), "C", "{period} {region} {bd} enterprises");
            cells_checked += 1;
            let raw = |ind: &str| -> Option<f64> {
                iv.get(&(region.to_string(), bd.clone(), ind.to_string()))
                    .unwrap_or_else(|| panic!("indicator_values lacks {region} {bd} {ind} for {period}"))
                    .0
            };
            let what = |ind: &str| format!("{period} {region} {bd} {ind}");
            close(raw("enterprises"), Some(c.n as f64), &what("enterprises"));
            // Disclosure control (config/disclosure.toml), per variable: fewer than 3 enterprises,
            // or the two largest (by absolute value) above 85% of the cell, hides that variable's
            // figures (status C, NULL); secondary suppression may hide others, never the city total.
            let rows_of_cell: Vec<&Jn101Row> = accepted(data, period, region).filter(|r| pred(r)).collect();
            let dominated = |x: Vec<Decimal>| {
                let mut x: Vec<f64> = x.into_iter().map(|d| f(d).abs()).collect();
                x.sort_by(|a, b| b.total_cmp(a));
                let total: f64 = x.iter().sum();
                x.len() < 3 || (total > 0.0 && x.iter().take(2).sum::<f64>() / total * 100.0 > 85.0)
            };
            let variables: [(&[&str], Vec<Decimal>); 6] = [
                (&["output_ytd", "output_growth"], rows_of_cell.iter().map(|r| r.output_ytd).collect()),
                (&["va_ytd", "va_growth", "va_share"], rows_of_cell.iter().map(|r| r.va_ytd).collect()),
                (&["revenue_ytd", "revenue_growth"], rows_of_cell.iter().map(|r| r.revenue_ytd).collect()),
                (
                    &["profit_ytd", "profit_growth", "profit_change"],
                    rows_of_cell.iter().map(|r| r.profit_ytd).collect(),
                ),
                (&["export_ytd", "export_growth"], rows_of_cell.iter().map(|r| r.export_ytd).collect()),
                (&["employees"], rows_of_cell.iter().map(|r| Decimal::from(r.employees)).collect()),
            ];
            let city_total = region == CITY && bd == "_T";
            for (inds, x) in variables {
                if dominated(x) && !city_total {
                    assert_eq!(status(inds[0]), "C", "{} is sensitive but published", what(inds[0]));
                }
                if status(inds[0]) == "C" {
                    assert!(!city_total, "the city total is never suppressed");
                    for ind in inds {
                        assert_eq!((status(ind).as_str(), raw(ind)), ("C", None), "{}", what(ind));
                    }
                }
            }
            // Figures still published must be right.
            let check = |ind: &str, want: Option<f64>| {
                if status(ind) != "C" {
                    close(raw(ind), want, &what(ind));
                }
            };
            check("output_ytd", Some(f(c.output)));
            check("output_growth", growth(c.output, c.output_prev));
            check("va_ytd", Some(f(c.va)));
            let va_cmp: f64 = accepted(data, period, region).filter(|r| pred(r)).map(&va_comparable).sum();
            let va_growth = (!c.va_prev.is_zero()).then(|| (va_cmp / f(c.va_prev) - 1.0) * 100.0);
            check("va_growth", va_growth);
            check("va_share", Some(f(c.va) / f(total.va) * 100.0));
            check("revenue_ytd", Some(f(c.revenue)));
            check("revenue_growth", growth(c.revenue, c.revenue_prev));
            check("profit_ytd", Some(f(c.profit)));
            // A profit rate only on a positive base; the change in 万元 always.
            let pg = (c.profit_prev > Decimal::ZERO).then(|| (f(c.profit) / f(c.profit_prev) - 1.0) * 100.0);
            check("profit_growth", pg);
            check("profit_change", Some(f(c.profit - c.profit_prev)));
            check("export_ytd", Some(f(c.export)));
            check("export_growth", growth(c.export, c.export_prev));
            check("employees", Some(c.employees as f64));
        }
        assert!(cells_checked >= 10, "{period} {region}: only {cells_checked} JN101 cells published");
        let n_masters = accepted(data, period, region).filter(|r| masters.contains(r.credit_code.as_str())).count();
        close(
            iv.get(&(region.to_string(), "_T".into(), "chain_masters".into())).and_then(|v| v.0),
            Some(n_masters as f64),
            &format!("{period} {region} chain_masters"),
        );
        // JN103: sums of the county returns.
        let mut jn103: BTreeMap<&str, Decimal> = BTreeMap::new();
        for r in data.returns.iter().filter(|r| r.period == period && (region == CITY || r.region_code == region)) {
            for it in &r.jn103 {
                *jn103.entry(it.item.as_str()).or_default() += it.value_ytd;
            }
        }
        for (item, v) in &jn103 {
            close(
                iv.get(&(region.to_string(), "_T".into(), item.to_string())).and_then(|x| x.0),
                Some(f(*v)),
                &format!("{period} {region} {item}"),
            );
        }
        let rate = f(jn103["appeals_resolved"]) / f(jn103["appeals_received"]) * 100.0;
        close(
            iv.get(&(region.to_string(), "_T".into(), "appeals_resolution_rate".into())).and_then(|x| x.0),
            Some(rate),
            &format!("{period} {region} appeals_resolution_rate"),
        );
    }
}

/// JN102, JN104 and the five doublings of one period, from the generator's rows.
fn check_period_other_forms(data: &SampleData, iv: &Indicators, period: &str) {
    let month: u32 = period[5..].parse().unwrap();
    let annualise = 12.0 / month as f64;
    let get = |region: &str, bd: &str, ind: &str| -> Option<f64> {
        let (v, _, s) = iv
            .get(&(region.to_string(), bd.to_string(), ind.to_string()))
            .unwrap_or_else(|| panic!("indicator_values lacks {region} {bd} {ind} for {period}"));
        assert_ne!(s, "C", "{region} {bd} {ind} is suppressed");
        *v
    };
    let mut jn102_city: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for region in [CITY, "370811", "370883", "370827", "JN-JKQ"] {
        let returns: Vec<_> =
            data.returns.iter().filter(|r| r.period == period && (region == CITY || r.region_code == region)).collect();
        // JN102: sums of the county returns and their growth from 本年累计 / 上年同期.
        let mut jn102: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
        for it in returns.iter().flat_map(|r| r.jn102.iter()) {
            let e = jn102.entry(it.item.as_str()).or_default();
            e.0 += it.value_ytd;
            e.1 += it.value_prev.expect("JN102 has 上年同期");
        }
        for (item, (ytd, prev)) in &jn102 {
            let what = format!("{period} {region} {item}");
            close(get(region, "_T", item), Some(f(*ytd)), &what);
            close(get(region, "_T", &format!("{item}_growth")), growth(*ytd, *prev), &format!("{what}_growth"));
        }
        if region == CITY {
            jn102_city = jn102;
        }
        // JN104: project counts (in all and by status) and investment sums.
        let projects: Vec<_> = returns.iter().flat_map(|r| r.jn104.iter()).collect();
        close(get(region, "_T", "projects"), Some(projects.len() as f64), &format!("{period} {region} projects"));
        let statuses: BTreeSet<&str> = projects.iter().map(|p| p.status.as_str()).collect();
        for st in statuses {
            let n = projects.iter().filter(|p| p.status == st).count();
            close(get(region, &format!("status:{st}"), "projects"), Some(n as f64), &format!("{region} status:{st}"));
        }
        let sum = |g: fn(&sample::ProjectRow) -> Decimal| f(projects.iter().map(|p| g(p)).sum());
        close(get(region, "_T", "project_investment_total"), Some(sum(|p| p.total_investment)), "investment total");
        close(get(region, "_T", "project_investment_done_year"), Some(sum(|p| p.done_this_year)), "done this year");
        close(
            get(region, "_T", "project_investment_done_cumulative"),
            Some(sum(|p| p.done_cumulative)),
            "done cumulative",
        );
    }
    // The five doublings, city level: current value (flows annualised), progress, growth needed.
    let city = cell(accepted(data, period, CITY));
    let j = |item: &str| jn102_city[item];
    let year: i64 = period[..4].parse().unwrap();
    let year_ago = format!("{}{}", year - 1, &period[4..]);
    // a year ago: the JN101 returns of that period the sample carries for the prior-year check
    let year_ago_n = accepted(data, &year_ago, CITY).count()
        + sample::prior_year_returns(data)
            .iter()
            .filter(|r| r.period == year_ago)
            .flat_map(|r| r.jn101.iter())
            .filter(|r| r.expected_error.is_none())
            .count();
    let enterprises_growth = (year_ago_n > 0).then(|| (city.n as f64 / year_ago_n as f64 - 1.0) * 100.0);
    let doublings: [(&str, f64, Option<f64>); 5] = [
        ("industrial_scale", f(city.revenue) * annualise, growth(city.revenue, city.revenue_prev)),
        // one source: the JN101 count now and a year ago (no growth when that period is absent)
        ("enterprises", city.n as f64, enterprises_growth),
        (
            "high_tech_enterprises",
            f(j("high_tech_enterprises").0),
            growth(j("high_tech_enterprises").0, j("high_tech_enterprises").1),
        ),
        (
            "producer_services_revenue",
            f(j("producer_services_revenue").0) * annualise,
            growth(j("producer_services_revenue").0, j("producer_services_revenue").1),
        ),
        ("trade_total", f(j("trade_total").0) * annualise, growth(j("trade_total").0, j("trade_total").1)),
    ];
    for (code, current, yoy) in doublings {
        let t = data.targets.iter().find(|t| t.indicator == code).expect("a target for each doubling");
        let bd = format!("target:{code}");
        let (base, target) = (f(t.base_value), f(t.target_value));
        let what = |i: &str| format!("{period} {bd} {i}");
        close(get(CITY, &bd, "doubling_current"), Some(current), &what("current"));
        close(get(CITY, &bd, "doubling_base"), Some(base), &what("base"));
        close(get(CITY, &bd, "doubling_target"), Some(target), &what("target"));
        close(get(CITY, &bd, "doubling_progress"), Some((current - base) / (target - base) * 100.0), &what("progress"));
        let years = (t.target_year - t.base_year) as f64;
        let required = ((target / base).powf(1.0 / years) - 1.0) * 100.0;
        close(get(CITY, &bd, "doubling_required_growth"), Some(required), &what("required growth"));
        let left = (t.target_year - year) as f64;
        let from_now = (left > 0.0 && current > 0.0).then(|| ((target / current).powf(1.0 / left) - 1.0) * 100.0);
        close(get(CITY, &bd, "doubling_required_growth_from_now"), from_now, &what("required growth from now"));
        close(get(CITY, &bd, "doubling_growth"), yoy, &what("growth"));
    }
}

/// Rounds half away from zero at `dp` decimals, the way the bulletin prints.
fn rounded(v: f64, dp: u32) -> Decimal {
    Decimal::from_f64_retain(v)
        .unwrap()
        .round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[test]
fn sample_run_end_to_end() {
    let shared = sample_run();
    let (data, out, summary) = (&shared.data, shared.out.as_path(), &shared.summary);
    assert_eq!(summary.target.to_string(), "2025-09");
    let prior = sample::prior_year_returns(data);
    assert_eq!(summary.files_seen, 112 + prior.len(), "14 counties × 8 periods, and the prior-year returns");
    assert!(summary.refusals.is_empty(), "{:?}", summary.refusals);
    assert!(summary.missing.is_empty(), "{:?}", summary.missing);
    assert!(summary.models.iter().all(|m| m.2.is_none()), "{:?}", summary.models);
    // The run published: exit 0; the deliberate violations make --fail-on-audit-errors exit 2.
    assert_eq!(summary.exit_code(false), 0);
    assert_eq!(summary.exit_code(true), 2);

    // Nothing lost: every data row written to the workbooks is accepted or quarantined.
    let written: u64 = data
        .returns
        .iter()
        .chain(&prior)
        .map(|r| (r.jn101.len() + r.jn102.len() + r.jn103.len() + r.jn104.len()) as u64)
        .sum();
    assert_eq!(summary.rows_input, written);
    assert_eq!(summary.rows_accepted + summary.rows_quarantined, written);
    // The rows staged while each period was built (enterprise rows) are gone once it is published.
    let staged: Vec<_> = walkdir(&out.join(".staging")).into_iter().filter(|p| p.is_file()).collect();
    assert!(staged.is_empty(), "left in the staging folder: {staged:?}");
    let expected_bad: Vec<(&str, &Jn101Row)> = data
        .returns
        .iter()
        .flat_map(|r| r.jn101.iter().map(move |row| (r.file_name.as_str(), row)))
        .filter(|(_, row)| row.expected_error.is_some())
        .collect();
    assert!(expected_bad.len() >= 4);
    assert_eq!(summary.rows_quarantined, expected_bad.len() as u64, "only the deliberate violations are quarantined");

    // Every deliberate violation is caught, by the expected rule, at its row.
    let q = gongbao::store::read_dir_batches(&out.join("warehouse/quarantine/period=2025-09")).unwrap();
    let mut caught: BTreeMap<(String, i64), String> = BTreeMap::new();
    for b in &q {
        let file = b.column_by_name("_source_file").unwrap().as_string::<i32>();
        let row = b.column_by_name("_source_row").unwrap().as_primitive::<arrow::datatypes::Int64Type>();
        let rules = b.column_by_name("rule_ids").unwrap().as_string::<i32>();
        let msgs = b.column_by_name("messages").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            assert!(!msgs.value(i).is_empty());
            caught.insert((file.value(i).to_string(), row.value(i)), rules.value(i).to_string());
        }
    }
    for (file, row) in &expected_bad {
        let rules = caught
            .get(&(file.to_string(), row.excel_row as i64))
            .unwrap_or_else(|| panic!("{file} row {} ({:?}) was not quarantined", row.excel_row, row.expected_error));
        assert!(rules.split(',').any(|r| Some(r) == row.expected_error), "{file} row {}: {rules}", row.excel_row);
    }

    // The prior-year check flags the one enterprise whose 2024-09 本年累计 disagrees with its
    // 2025-09 上年同期, on that cell, and nothing else.
    let (region, credit_code, _, flagged_in) = sample::disagreement(data);
    let ret = data.return_for(&region, flagged_in).unwrap();
    let row = ret.jn101.iter().find(|r| r.credit_code == credit_code).unwrap();
    let findings =
        gongbao::store::read_dir_batches(&out.join(format!("warehouse/findings/period={flagged_in}"))).unwrap();
    let mut w09 = Vec::new();
    for b in &findings {
        let rule = b.column_by_name("rule_id").unwrap().as_string::<i32>();
        let file = b.column_by_name("file").unwrap().as_string::<i32>();
        let r = b.column_by_name("row").unwrap().as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..b.num_rows() {
            if rule.value(i) == "JN101-W09" {
                w09.push((file.value(i).to_string(), r.value(i)));
            }
        }
    }
    assert_eq!(w09, vec![(ret.file_name.clone(), row.excel_row as i64)]);

    // Indicators against plain Rust sums of the generator's rows.
    let iv = read_indicators(out, "2025-09");
    check_period(data, &iv, "2025-09");
    check_period_other_forms(data, &iv, "2025-09");

    // Status E: the JN101 figures of a county with quarantined rows, and the city's, are incomplete;
    // a county without errors and its other forms stay A.
    let status = |r: &str, b: &str, i: &str| iv[&(r.to_string(), b.to_string(), i.to_string())].2.clone();
    let with_errors: BTreeSet<&str> =
        data.expected_errors().filter(|(r, _)| r.period == "2025-09").map(|(r, _)| r.region_code.as_str()).collect();
    assert!(!with_errors.is_empty());
    for region in &with_errors {
        assert_eq!(status(region, "_T", "output_ytd"), "E", "{region} has quarantined JN101 rows");
        assert_eq!(status(region, "_T", "appeals_received"), "A", "{region}'s JN103 is complete");
    }
    assert_eq!(status(CITY, "_T", "va_growth"), "E");
    let clean = data.regions.iter().find(|r| !with_errors.contains(r.code.as_str())).unwrap();
    assert_eq!(status(&clean.code, "_T", "output_ytd"), "A", "{} has no errors", clean.name);

    // The published 1—9月 figures, at their published precision.
    let get = |b: &str, i: &str| iv[&(CITY.to_string(), b.to_string(), i.to_string())].0.unwrap();
    assert_eq!(rounded(get("chain:_ALL", "va_growth"), 1).to_string(), "8.3");
    assert_eq!(rounded(get("section:C", "va_growth"), 1).to_string(), "9.7");
    assert_eq!(rounded(get("section:C", "va_share"), 1).to_string(), "61.1");
    assert_eq!(get("_T", "chain_masters"), 85.0);
    assert_eq!(get("_T", "appeals_received"), 35_700.0);
    assert_eq!(rounded(get("_T", "appeals_resolution_rate"), 0).to_string(), "96");
    assert_eq!(get("_T", "chain_events"), 318.0);
    assert_eq!(get("_T", "coop_intents"), 566.0);
    assert_eq!(get("_T", "coop_agreements"), 159.0);
    assert_eq!(rounded(get("_T", "coop_amount") / 10_000.0, 2).to_string(), "31.42");
    assert_eq!(get("_T", "young_talents"), 31_000.0);
    assert_eq!(get("_T", "tech_problems_solved"), 328.0);

    // The bulletin carries the figures in the register of a statistical bulletin.
    let md = std::fs::read_to_string(out.join("bulletins/2025-09/bulletin.md")).unwrap();
    for needle in [
        "济宁市工业经济倍增监测月报",
        "1—9月",
        "增长8.3%",
        "增长9.7%",
        "61.1%",
        "85",
        "31.42亿元",
        "318",
        "566",
        "159",
        "328",
    ] {
        assert!(md.contains(needle), "bulletin lacks {needle}");
    }

    // Idempotent: the same inputs again on that output folder (a copy: the run is shared) give
    // the same run and byte-identical Parquet outputs.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(out, tmp.path());
    let before = std::fs::read(tmp.path().join("warehouse/indicator_values/period=2025-09/part-0.parquet")).unwrap();
    let again = run_sample(tmp.path(), None);
    assert_eq!(again.run_id, summary.run_id);
    let after = std::fs::read(tmp.path().join("warehouse/indicator_values/period=2025-09/part-0.parquet")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn first_period_of_the_year() {
    let data = sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let summary = run_sample(tmp.path(), Some("2025-02"));
    assert_eq!(summary.target.to_string(), "2025-02");
    let iv = read_indicators(tmp.path(), "2025-02");
    check_period(&data, &iv, "2025-02");
    check_period_other_forms(&data, &iv, "2025-02");
    let md = std::fs::read_to_string(tmp.path().join("bulletins/2025-02/bulletin.md")).unwrap();
    assert!(md.contains("1—2月"));
}

#[test]
fn a_broken_setup_fails_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gongbao"))
        .current_dir(project())
        .args(["run", "--inbox", "/nonexistent/inbox", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/inbox"), "{err}");
}

/// Every path below `dir` (none when it does not exist).
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        }
        out.push(p);
    }
    out
}
