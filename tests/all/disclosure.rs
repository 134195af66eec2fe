//! Disclosure control on the bundled sample, checked from outside: the public zone is read back
//! as a dashboard would and compared with the generator's enterprise rows by plain arithmetic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use gongbao::disclosure::{self, Var};
use gongbao::sample::{Jn101Row, SampleData};
use rust_decimal::prelude::ToPrimitive;

const CITY: &str = "370800";

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

use crate::sample_run::sample_run;

fn text(b: &RecordBatch, name: &str) -> Vec<String> {
    let c = arrow::compute::cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    let s = c.as_string::<i32>();
    (0..s.len()).map(|i| s.value(i).to_string()).collect()
}

/// The amounts `public/indicator_values` shows for one period: (region, breakdown, variable) →
/// value, NULL when hidden.
fn public_amounts(out: &Path, period: &str) -> BTreeMap<(String, String, Var), Option<f64>> {
    let dir = out.join("public/indicator_values").join(format!("period={period}"));
    let batches = gongbao::store::read_dir_batches(&dir).unwrap();
    assert!(!batches.is_empty(), "{} is empty", dir.display());
    let mut m = BTreeMap::new();
    for b in &batches {
        let (r, bd, ind) = (text(b, "region_code"), text(b, "breakdown"), text(b, "indicator"));
        let v = b.column_by_name("value").unwrap().as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            let Some(var) = Var::of_indicator(&ind[i]) else { continue };
            if ind[i] == var.amount_indicator() {
                m.insert((r[i].clone(), bd[i].clone(), var), (!v.is_null(i)).then(|| v.value(i)));
            }
        }
    }
    m
}

fn amount(r: &Jn101Row, var: Var) -> f64 {
    match var {
        Var::Output => r.output_ytd.to_f64().unwrap(),
        Var::ValueAdded => r.va_ytd.to_f64().unwrap(),
        Var::Revenue => r.revenue_ytd.to_f64().unwrap(),
        Var::Profit => r.profit_ytd.to_f64().unwrap(),
        Var::Export => r.export_ytd.to_f64().unwrap(),
        Var::Employees => r.employees as f64,
    }
}

/// The cells an enterprise row of `region` counts in (written out again from the definitions).
fn breakdowns(data: &SampleData, r: &Jn101Row) -> Vec<String> {
    let division = &r.industry_code[..2];
    let section = match division.parse::<u32>().unwrap() {
        6..=12 => "B",
        13..=43 => "C",
        _ => "D",
    };
    let mut out = vec!["_T".to_string(), format!("section:{section}"), format!("division:{division}")];
    let chains: BTreeSet<&str> =
        data.chain_members.iter().filter(|m| m.credit_code == r.credit_code).map(|m| m.chain_id.as_str()).collect();
    out.extend(chains.iter().map(|c| format!("chain:{c}")));
    if !chains.is_empty() {
        out.push("chain:_ALL".to_string());
    }
    out
}

/// Each cell's absolute contributions per variable, from the generator's accepted rows.
fn contributions(data: &SampleData, period: &str) -> BTreeMap<(String, String, Var), Vec<f64>> {
    let mut m: BTreeMap<(String, String, Var), Vec<f64>> = BTreeMap::new();
    for ret in data.returns.iter().filter(|r| r.period == period) {
        for row in ret.jn101.iter().filter(|r| r.expected_error.is_none()) {
            for b in breakdowns(data, row) {
                for region in [ret.region_code.as_str(), CITY] {
                    for var in disclosure::rules::VARS {
                        m.entry((region.to_string(), b.clone(), var)).or_default().push(amount(row, var));
                    }
                }
            }
        }
    }
    m
}

/// The frequency and dominance rules of the shipped config/disclosure.toml (3; 2, 85 %).
fn sensitive(x: &[f64]) -> bool {
    let mut a: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    a.sort_by(|p, q| q.total_cmp(p));
    let total: f64 = a.iter().sum();
    a.len() < 3 || (total > 0.0 && (a[0] + a[1]) / total * 100.0 > 85.0)
}

fn public_periods(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join("public/indicator_values"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_start_matches("period=").to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn no_public_figure_is_sensitive_on_its_variable_and_no_relation_gives_one_away() {
    let run = sample_run();
    let periods = public_periods(&run.out);
    // 2025-09 carries deliberate errors: its bulletin is a draft and stays out of public/.
    assert_eq!(periods, ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]);
    let mut hidden_total = 0;
    for period in &periods {
        let shown = public_amounts(&run.out, period);
        let truth = contributions(&run.data, period);
        for ((region, bd, var), x) in &truth {
            let published = shown.get(&(region.clone(), bd.clone(), *var)).unwrap_or_else(|| {
                panic!("{period} {region} {bd} {var:?}: a cell with enterprises is missing from public/")
            });
            match published {
                None => hidden_total += 1,
                Some(v) => {
                    if !(region == CITY && bd == "_T") {
                        assert!(!sensitive(x), "{period} {region} {bd} {var:?} is sensitive but published ({v})");
                    }
                    let sum: f64 = x.iter().sum::<f64>();
                    assert!(
                        (v - sum).abs() <= 1e-6 * sum.abs().max(1.0),
                        "{period} {region} {bd} {var:?}: {v} vs {sum}"
                    );
                }
            }
        }
        // Additive relations, written out here: city = Σ counties (every breakdown), region total
        // = Σ sections = Σ divisions, section = Σ its divisions. No published total may have
        // exactly one hidden member.
        let cells: BTreeSet<(String, String)> = truth.keys().map(|k| (k.0.clone(), k.1.clone())).collect();
        type Cell = (String, String);
        let mut relations: Vec<(Cell, Vec<Cell>)> = Vec::new();
        let bds: BTreeSet<&String> = cells.iter().map(|c| &c.1).collect();
        for b in bds {
            let members = cells.iter().filter(|c| &c.1 == b && c.0 != CITY).cloned().collect();
            relations.push(((CITY.to_string(), b.clone()), members));
        }
        let regions: BTreeSet<&String> = cells.iter().map(|c| &c.0).collect();
        for r in regions {
            let of = |p: &str| cells.iter().filter(|c| &c.0 == r && c.1.starts_with(p)).cloned().collect::<Vec<_>>();
            relations.push(((r.clone(), "_T".into()), of("section:")));
            relations.push(((r.clone(), "_T".into()), of("division:")));
            for (s, range) in [("B", 6..=12), ("C", 13..=43), ("D", 44..=46)] {
                let members: Vec<_> =
                    of("division:").into_iter().filter(|c| range.contains(&c.1[9..].parse::<u32>().unwrap())).collect();
                if !members.is_empty() && cells.contains(&(r.clone(), format!("section:{s}"))) {
                    relations.push(((r.clone(), format!("section:{s}")), members));
                }
            }
        }
        for (total, members) in &relations {
            for var in disclosure::rules::VARS {
                let hidden = |c: &(String, String)| shown[&(c.0.clone(), c.1.clone(), var)].is_none();
                if hidden(total) {
                    continue;
                }
                let n = members.iter().filter(|m| hidden(m)).count();
                assert_ne!(n, 1, "{period} {total:?} {var:?}: published with exactly one hidden member");
            }
        }
    }
    assert!(hidden_total > 100, "the sample needs protection on several variables ({hidden_total} hidden)");
}

#[test]
fn the_intruder_finds_every_interval_wide_enough_and_reports_it_internally() {
    let run = sample_run();
    assert!(run.summary.public_blocked.is_empty(), "{:?}", run.summary.public_blocked);
    for period in public_periods(&run.out) {
        let dir = run.out.join("warehouse").join(disclosure::REPORT_TABLE).join(format!("period={period}"));
        let batches = gongbao::store::read_dir_batches(&dir).unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert!(rows > 0, "{period}: empty disclosure report");
        for b in &batches {
            let (region, bd, reason) = (text(b, "region_code"), text(b, "breakdown"), text(b, "reason"));
            let num = |n: &str| b.column_by_name(n).unwrap().as_primitive::<Float64Type>().clone();
            let (value, req, lo, hi) = (num("value"), num("requirement"), num("lower"), num("upper"));
            let ok = b.column_by_name("sufficient").unwrap().as_boolean().clone();
            for i in 0..b.num_rows() {
                assert!(ok.value(i), "{period} {} {}: interval too narrow", region[i], bd[i]);
                if reason[i] != "secondary" {
                    // Checked again here: the interval reaches the requirement on both sides.
                    let r = req.value(i);
                    let lower = if lo.is_null(i) { f64::NEG_INFINITY } else { lo.value(i) };
                    let upper = if hi.is_null(i) { f64::INFINITY } else { hi.value(i) };
                    let tol = 1e-6 + 1e-9 * value.value(i).abs();
                    assert!(lower <= value.value(i) - r + tol && upper >= value.value(i) + r - tol, "{period} row {i}");
                }
            }
        }
    }
    // The report stays internal.
    assert!(!run.out.join("public").join(disclosure::REPORT_TABLE).exists());
}

#[test]
fn complements_lose_no_more_than_the_greedy_choice_and_the_cost_report_says_how_much() {
    let run = sample_run();
    let (mut gained, mut proven) = (false, 0);
    for period in public_periods(&run.out) {
        let truth = contributions(&run.data, &period);
        let read = |table: &str| {
            gongbao::store::read_dir_batches(&run.out.join("warehouse").join(table).join(format!("period={period}")))
                .unwrap()
        };
        // The sensitive cells: those the audit report gives an interval.
        let mut sensitive: BTreeSet<(String, String, String)> = BTreeSet::new();
        for b in &read(disclosure::REPORT_TABLE) {
            let (r, bd, var) = (text(b, "region_code"), text(b, "breakdown"), text(b, "variable"));
            sensitive.extend((0..b.num_rows()).map(|i| (r[i].clone(), bd[i].clone(), var[i].clone())));
        }
        // Value lost, recomputed from the enterprise rows: every hidden amount that is not sensitive.
        let mut lost: BTreeMap<String, f64> = BTreeMap::new();
        for ((r, bd, var), v) in public_amounts(&run.out, &period) {
            if v.is_none() && !sensitive.contains(&(r.clone(), bd.clone(), var.code().to_string())) {
                let value: f64 = truth.get(&(r, bd, var)).map_or(0.0, |x| x.iter().sum());
                *lost.entry(var.code().to_string()).or_default() += value.abs();
            }
        }
        let mut reported: BTreeMap<String, (f64, f64, f64, f64)> = BTreeMap::new();
        for b in &read(disclosure::COST_TABLE) {
            let (var, optimality) = (text(b, "variable"), text(b, "optimality"));
            let num = |n: &str| b.column_by_name(n).unwrap().as_primitive::<Float64Type>().clone();
            let (part, total, released, greedy) = (
                num("value_lost"),
                num("variable_value_lost"),
                num("variable_released_value_lost"),
                num("variable_greedy_value_lost"),
            );
            for i in 0..b.num_rows() {
                let e =
                    reported.entry(var[i].clone()).or_insert((0.0, total.value(i), released.value(i), greedy.value(i)));
                e.0 += part.value(i);
                assert_eq!(
                    (e.1, e.2, e.3),
                    (total.value(i), released.value(i), greedy.value(i)),
                    "{period} {}",
                    var[i]
                );
                assert!(["proven", "irredundant", "greedy"].contains(&optimality[i].as_str()), "{}", optimality[i]);
                proven += usize::from(optimality[i] == "proven");
            }
        }
        for var in disclosure::rules::VARS {
            let (parts, total, released, greedy) = reported.get(var.code()).copied().unwrap_or_default();
            let recomputed = lost.get(var.code()).copied().unwrap_or(0.0);
            let tol = 1e-3 + 1e-9 * greedy.abs();
            assert!(
                (recomputed - total).abs() <= tol,
                "{period} {var:?}: hidden complements hold {recomputed}, report says {total}"
            );
            assert!((parts - total).abs() <= tol, "{period} {var:?}: the parts add up to {parts}, not {total}");
            // The release pass and the exact search never lose more than the greedy choice did.
            assert!(
                total <= released + tol && released <= greedy + tol,
                "{period} {var:?}: {total} {released} {greedy}"
            );
            gained |= total < greedy - 1.0;
        }
    }
    assert!(gained, "the sample's greedy complements should leave something to release");
    assert!(proven > 0, "some connected part of the sample should be proven least-cost");
}

#[test]
fn the_intruder_fails_a_crafted_publication() {
    // The 2025-08 figures as published, with the complementary (secondary) cells put back: the
    // audit must find primary cells it can narrow too far.
    let run = sample_run();
    let period = "2025-08";
    let iv =
        gongbao::store::read_dir_batches(&run.out.join("public/indicator_values").join(format!("period={period}")))
            .unwrap();
    let truth = contributions(&run.data, period);
    let report = gongbao::store::read_dir_batches(
        &run.out.join("warehouse").join(disclosure::REPORT_TABLE).join(format!("period={period}")),
    )
    .unwrap();
    let mut requirements: BTreeMap<Var, BTreeMap<(String, String), f64>> = BTreeMap::new();
    for b in &report {
        let (r, bd, var) = (text(b, "region_code"), text(b, "breakdown"), text(b, "variable"));
        let req = b.column_by_name("requirement").unwrap().as_primitive::<Float64Type>().clone();
        for i in 0..b.num_rows() {
            let v = disclosure::rules::VARS.into_iter().find(|v| v.code() == var[i]).unwrap();
            requirements.entry(v).or_default().insert((r[i].clone(), bd[i].clone()), req.value(i));
        }
    }
    // Hidden but not sensitive (not in the report): the complementary cells.
    let mut secondary: BTreeSet<(String, String, String)> = BTreeSet::new();
    for ((r, bd, var), v) in public_amounts(&run.out, period) {
        if v.is_none() && !requirements.get(&var).is_some_and(|m| m.contains_key(&(r.clone(), bd.clone()))) {
            secondary.insert((r, bd, var.amount_indicator().to_string()));
        }
    }
    assert!(!secondary.is_empty());
    // Put the true values of the secondary cells back.
    let mut crafted = Vec::new();
    for b in &iv {
        let (r, bd, ind) = (text(b, "region_code"), text(b, "breakdown"), text(b, "indicator"));
        let v = b.column_by_name("value").unwrap().as_primitive::<Float64Type>();
        let values: arrow::array::Float64Array = (0..b.num_rows())
            .map(|i| {
                if secondary.contains(&(r[i].clone(), bd[i].clone(), ind[i].clone())) {
                    let var = Var::of_indicator(&ind[i]).unwrap();
                    Some(truth[&(r[i].clone(), bd[i].clone(), var)].iter().sum())
                } else {
                    (!v.is_null(i)).then(|| v.value(i))
                }
            })
            .collect();
        let idx = b.schema().index_of("value").unwrap();
        let mut cols = b.columns().to_vec();
        cols[idx] = std::sync::Arc::new(values);
        crafted.push(RecordBatch::try_new(b.schema(), cols).unwrap());
    }
    let views = disclosure::intruder::view_of(&[("indicator_values", crafted.as_slice())]);
    let cells: BTreeSet<(String, String)> = truth.keys().map(|k| (k.0.clone(), k.1.clone())).collect();
    let mut narrowed = Vec::new();
    for (var, reqs) in &requirements {
        let values: BTreeMap<(String, String), f64> =
            truth.iter().filter(|k| k.0.2 == *var).map(|(k, x)| ((k.0.clone(), k.1.clone()), x.iter().sum())).collect();
        let groups = disclosure::secondary::balanced(disclosure::secondary::structure(&cells), &values);
        let iv = disclosure::intruder::audit(
            *var,
            &disclosure::universe::Universe::whole(cells.clone()),
            &values,
            &views[var],
            &groups,
            reqs,
            disclosure::intruder::Depth::Exact,
            &disclosure::intruder::Memo::default(),
        )
        .unwrap();
        narrowed.extend(iv.into_iter().filter(|i| !i.sufficient()));
    }
    assert!(!narrowed.is_empty(), "the crafted publication should disclose a primary cell");
}

#[test]
fn public_holds_no_enterprise_level_data_and_every_table_is_documented_as_public() {
    let run = sample_run();
    let public = run.out.join("public");
    let dict = std::fs::read_to_string(run.out.join("docs/data_dictionary.md")).unwrap();
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for ret in &run.data.returns {
        for r in &ret.jn101 {
            codes.insert(r.credit_code.clone());
            codes.insert(r.name.clone());
        }
    }
    let mut tables = Vec::new();
    for e in std::fs::read_dir(&public).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name == "bulletins" {
            continue;
        }
        assert!(
            dict.contains(&format!("### {name}\n"))
                && dict.contains(&format!("- publication: **public** (`public/{name}/")),
            "{name} is not documented as public"
        );
        let batches = gongbao::store::read_dir_batches(&public.join(&name)).unwrap();
        for b in &batches {
            for f in b.schema().fields() {
                assert!(!gongbao::models::contract::is_enterprise_column(f.name()), "{name}.{}", f.name());
                if matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                    for v in text(b, f.name()) {
                        assert!(!codes.contains(&v), "{name}.{} holds an enterprise's code or name: {v}", f.name());
                    }
                }
            }
        }
        tables.push(name);
    }
    tables.sort();
    assert_eq!(tables, ["chain_summary", "county_ranking", "division_ranking", "indicator_values", "key_projects"]);
    // Final bulletins only; the internal tables stay in warehouse/.
    assert!(public.join("bulletins/2025-08/bulletin.md").is_file());
    assert!(!public.join("bulletins/2025-09").exists());
    assert!(run.out.join("bulletins/2025-09/bulletin.md").is_file());
    for internal in ["jn101", "jn101_cells", "quarantine", "findings", "sources", "trend"] {
        assert!(!public.join(internal).exists(), "{internal} must stay internal");
        assert!(dict.contains(&format!("### {internal}\n")));
    }
    assert!(dict.contains("### trend\n") && dict.contains("- publication: internal"));
    // The top-ten division ranking is cut after suppression: ten published divisions.
    let dr = gongbao::store::read_dir_batches(&public.join("division_ranking/period=2025-08")).unwrap();
    let flags: Vec<bool> =
        dr.iter().flat_map(|b| b.column_by_name("suppressed").unwrap().as_boolean().iter().flatten()).collect();
    assert_eq!(flags.len(), 10);
    assert!(flags.iter().all(|f| !f));
}

#[test]
fn a_public_model_with_enterprise_level_output_is_refused_at_load_time() {
    use gongbao::models::{self, exec};
    let forms = gongbao::forms::Forms::load(&project().join("forms")).unwrap();
    let reference = gongbao::reference::Reference::load(&project().join("sample_data/reference")).unwrap();
    let base = exec::base_table_names(&forms, &reference.tables);
    let load = |files: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        for (name, sql) in files {
            std::fs::write(dir.path().join(name), sql).unwrap();
        }
        models::load(dir.path(), &base).map(|_| ()).map_err(|e| format!("{e:#}"))
    };
    // Credit codes in a public table.
    let e = load(&[(
        "big_firms.sql",
        "-- publish: public\n-- column credit_code TEXT: 代码\nSELECT credit_code FROM jn101\n",
    )])
    .unwrap_err();
    assert!(e.contains("big_firms.sql") && e.contains("enterprise-level columns (credit_code)"), "{e}");
    // Enterprise rows read by a public model directly.
    let e = load(&[(
        "county_va.sql",
        "-- publish: public\n-- column region_code TEXT: 地区\n-- column va DOUBLE: 增加值\n\
         SELECT region_code, CAST(SUM(va_ytd) AS DOUBLE) AS va FROM jn101 GROUP BY region_code\n",
    )])
    .unwrap_err();
    assert!(e.contains("county_va.sql:4") && e.contains("may not read the enterprise rows (`jn101`)"), "{e}");
    // Built on enterprise figures through another model, which disclosure control does not know.
    let cells = std::fs::read_to_string(project().join("sql/jn101_cells.sql")).unwrap();
    let e = load(&[
        ("jn101_cells.sql", cells.as_str()),
        ("exports.sql", "-- publish: public\n-- column region_code TEXT: 地区\nSELECT region_code FROM jn101_cells\n"),
    ])
    .unwrap_err();
    assert!(e.contains("exports.sql") && e.contains("must be protected by disclosure control"), "{e}");
    // The same model internal is fine; a public model of reference data only is fine too.
    load(&[
        ("jn101_cells.sql", cells.as_str()),
        ("exports.sql", "-- column region_code TEXT: 地区\nSELECT region_code FROM jn101_cells\n"),
        ("chain_list.sql", "-- publish: public\n-- column name TEXT: 名称\nSELECT name FROM chains\n"),
    ])
    .unwrap();
    assert!(
        load(&[("x.sql", "-- publish: everyone\nSELECT 1 AS x\n")])
            .unwrap_err()
            .contains("must be `public` or `internal`")
    );
}
