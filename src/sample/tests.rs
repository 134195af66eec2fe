//! The sample's known truth, verified with exact decimal arithmetic.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use rust_decimal::Decimal;

use super::*;

static DATA: LazyLock<SampleData> = LazyLock::new(generate);

fn d(x: i64) -> Decimal {
    Decimal::from(x)
}

fn hundred() -> Decimal {
    d(100)
}

/// Comparable va growth (%) over some rows: ((Σᵢ va_ytdᵢ / (PPIᵢ/100)) / Σva_prev − 1) × 100,
/// PPIᵢ the index of row i's division, else the all-industry one (`ppi` maps a class to it).
fn va_growth<'a>(rows: impl Iterator<Item = &'a Jn101Row>, ppi: impl Fn(&str) -> Decimal) -> Decimal {
    let (mut cur, mut prev) = (Decimal::ZERO, Decimal::ZERO);
    for r in rows {
        cur += r.va_ytd / (ppi(&r.industry_code) / hundred());
        prev += r.va_prev;
    }
    (cur / prev - Decimal::ONE) * hundred()
}

fn is_manufacturing(code: &str) -> bool {
    matches!(code[..2].parse::<u32>().unwrap(), 13..=43)
}

#[test]
fn generate_is_deterministic() {
    let again = generate();
    assert!(*DATA == again, "two runs of generate() differ");
}

#[test]
fn shape_of_the_sample() {
    let data = &*DATA;
    assert_eq!(data.regions.len(), 14);
    assert_eq!(data.chains.len(), 15);
    assert_eq!(data.ppi.iter().filter(|r| r.division == "_T").count(), 8);
    assert_eq!(data.ppi_index("2025-09"), Some(Decimal::new(986, 1)));
    // Division indices: a coal mine (06) has its own, a textile mill (17) takes the _T one.
    assert_eq!(data.ppi_for("2025-09", "0610"), Some(Decimal::new(862, 1)));
    assert_eq!(data.ppi_for("2025-09", "1711"), Some(Decimal::new(986, 1)));
    assert_eq!(data.ppi_for("2025-02", "3211"), Some(Decimal::new(1032, 1)));
    // Every division with an index of its own has enterprises in the sample.
    let divisions: HashSet<&str> = data.accepted_jn101("2025-09").map(|(_, r)| &r.industry_code[..2]).collect();
    for r in data.ppi.iter().filter(|r| r.division != "_T") {
        assert!(divisions.contains(r.division.as_str()), "no enterprise in division {}", r.division);
    }
    assert_eq!(data.returns.len(), 14 * 8);
    for region in &data.regions {
        for period in PERIODS {
            let r = data.return_for(&region.code, period).expect("one return per county per period");
            assert!(r.file_name.starts_with(&format!("{}_2025年1-", region.name)), "{}", r.file_name);
            assert!(r.file_name.ends_with("月_倍增监测报表.xlsx"));
            assert_eq!(r.jn102.len(), 6);
            assert_eq!(r.jn103.len(), 8);
            assert!((5..=15).contains(&r.jn104.len()));
        }
    }
    assert_eq!(data.return_for("370811", "2025-09").unwrap().file_name, "任城区_2025年1-9月_倍增监测报表.xlsx");
    assert_eq!(data.return_for("370811", "2025-02").unwrap().file_name, "任城区_2025年1-2月_倍增监测报表.xlsx");
    let n = data.accepted_jn101("2025-09").count();
    assert!((3_850..=3_950).contains(&n), "{n} enterprises");
    let members = data.chain_member_codes().len();
    assert!((900..=1_200).contains(&members), "{members} chain members");
    let revenue: Decimal = data.accepted_jn101("2025-09").map(|(_, r)| r.revenue_ytd).sum();
    let annual = revenue * d(12) / d(9);
    assert!(annual > d(45_000_000) && annual < d(55_000_000), "annual revenue {annual}");
    println!("2025-09: {n} enterprises, {members} chain members, annualised revenue {annual:.0} 万元");
}

#[test]
fn calibrated_to_the_published_figures() {
    let data = &*DATA;
    let period = FINAL_PERIOD;
    let ppi = |code: &str| data.ppi_for(period, code).unwrap();
    let members = data.chain_member_codes();
    let rows: Vec<&Jn101Row> = data.accepted_jn101(period).map(|(_, r)| r).collect();

    let chain = va_growth(rows.iter().copied().filter(|r| members.contains(r.credit_code.as_str())), ppi);
    let manu = va_growth(rows.iter().copied().filter(|r| is_manufacturing(&r.industry_code)), ppi);
    // The division indices matter: deflating everything by the all-industry index alone would
    // miss the published manufacturing figure.
    let all_industry = data.ppi_index(period).unwrap();
    let manu_t = va_growth(rows.iter().copied().filter(|r| is_manufacturing(&r.industry_code)), |_| all_industry);
    assert_ne!(manu_t.round_dp(1), Decimal::new(97, 1), "manufacturing at the _T index alone: {manu_t}");
    let total_va: Decimal = rows.iter().map(|r| r.va_ytd).sum();
    let manu_va: Decimal = rows.iter().filter(|r| is_manufacturing(&r.industry_code)).map(|r| r.va_ytd).sum();
    let share = manu_va / total_va * hundred();
    println!("chain:_ALL va growth {chain:.4}, section C va growth {manu:.4}, section C share {share:.4}");

    assert_eq!(chain.round_dp(1), Decimal::new(83, 1));
    assert_eq!(manu.round_dp(1), Decimal::new(97, 1));
    assert_eq!(share.round_dp(1), Decimal::new(611, 1));
    // Well inside the rounding interval, so that float arithmetic downstream cannot tip it.
    assert!((chain - Decimal::new(83, 1)).abs() < Decimal::new(1, 2));
    assert!((manu - Decimal::new(97, 1)).abs() < Decimal::new(1, 2));
    assert!((share - Decimal::new(611, 1)).abs() < Decimal::new(1, 2));

    // Chain members are all manufacturing, so chain:_ALL is inside section C.
    let by_code: BTreeMap<&str, &Jn101Row> = rows.iter().map(|r| (r.credit_code.as_str(), *r)).collect();
    for code in &members {
        let r = by_code.get(code).expect("every chain member reports in 2025-09");
        assert!(is_manufacturing(&r.industry_code));
    }
}

#[test]
fn chain_masters() {
    let data = &*DATA;
    let masters = data.chain_master_codes();
    assert_eq!(masters.len(), published::CHAIN_MASTERS);
    for period in PERIODS {
        let present: HashSet<&str> = data.accepted_jn101(period).map(|(_, r)| r.credit_code.as_str()).collect();
        for m in &masters {
            assert!(present.contains(m), "master {m} missing in {period}");
        }
    }
    let chain_ids: BTreeSet<&str> = data.chains.iter().map(|c| c.chain_id.as_str()).collect();
    for m in &data.chain_members {
        assert!(chain_ids.contains(m.chain_id.as_str()));
    }
    for c in &data.chains {
        let n = data.chain_members.iter().filter(|m| m.chain_id == c.chain_id && m.is_chain_master).count();
        assert!(n >= 5, "{} has {n} masters", c.chain_id);
    }
    let pairs: HashSet<(&str, &str)> =
        data.chain_members.iter().map(|m| (m.credit_code.as_str(), m.chain_id.as_str())).collect();
    assert_eq!(pairs.len(), data.chain_members.len(), "duplicate membership rows");
    let clusters: BTreeSet<&str> = data.chains.iter().map(|c| c.cluster.as_str()).collect();
    assert_eq!(clusters.len(), 7, "the 232 clusters");
}

#[test]
fn jn103_city_sums() {
    let data = &*DATA;
    for (item, total) in published::JN103_TOTALS {
        assert_eq!(data.jn103_city_total(FINAL_PERIOD, item), d(total), "{item}");
    }
    let rate = data.jn103_city_total(FINAL_PERIOD, "appeals_resolved")
        / data.jn103_city_total(FINAL_PERIOD, "appeals_received")
        * hundred();
    assert_eq!(rate.round_dp(0), d(96));
    for region in &data.regions {
        let mut last: Option<Vec<Decimal>> = None;
        for period in PERIODS {
            let r = data.return_for(&region.code, period).unwrap();
            let v: Vec<Decimal> = r.jn103.iter().map(|i| i.value_ytd).collect();
            assert!(r.jn103.iter().all(|i| i.value_prev.is_none()));
            assert!(v.iter().all(|x| *x >= Decimal::ZERO));
            assert!(v[1] <= v[0], "{} {period}: resolved above received", region.code);
            assert!(v[4] <= v[3], "{} {period}: agreements above intents", region.code);
            if let Some(prev) = &last {
                for (a, b) in prev.iter().zip(&v) {
                    assert!(a <= b, "{} {period}: JN103 falls", region.code);
                }
            }
            last = Some(v);
        }
    }
    // Earlier months are smaller.
    assert!(data.jn103_city_total("2025-02", "appeals_received") < d(15_000));
}

fn growth_pct(ytd: Decimal, prev: Decimal) -> Decimal {
    (ytd / prev - Decimal::ONE) * hundred()
}

#[test]
fn jn102_rows() {
    let data = &*DATA;
    let codes: Vec<&str> = vec![
        "reported_enterprises",
        "high_tech_enterprises",
        "producer_services_revenue",
        "trade_total",
        "trade_export",
        "trade_import",
    ];
    for r in &data.returns {
        let items: Vec<&str> = r.jn102.iter().map(|i| i.item.as_str()).collect();
        assert_eq!(items, codes);
        let v = |k: usize| (r.jn102[k].value_ytd, r.jn102[k].value_prev.unwrap());
        let genuine = r.jn101.iter().filter(|row| row.expected_error.is_none()).count();
        assert_eq!(v(0).0, d(genuine as i64), "{} {}", r.region_code, r.period);
        assert_eq!(v(3).0, v(4).0 + v(5).0);
        assert_eq!(v(3).1, v(4).1 + v(5).1);
        let g0 = growth_pct(v(0).0, v(0).1);
        assert!(g0 > d(2) && g0 < d(20), "enterprise count growth {g0}");
        for (k, code) in codes.iter().enumerate().skip(1) {
            let (ytd, prev) = v(k);
            assert!(prev > Decimal::ZERO);
            let g = growth_pct(ytd, prev);
            assert!(g >= d(4) && g <= d(21), "{} {} {code}: growth {g}", r.region_code, r.period);
        }
    }
    // Flows are cumulative: monotone over the months.
    for region in &data.regions {
        for k in 2..6 {
            let series: Vec<Decimal> =
                PERIODS.iter().map(|p| data.return_for(&region.code, p).unwrap().jn102[k].value_ytd).collect();
            assert!(series.windows(2).all(|w| w[0] <= w[1]), "{} item {k}", region.code);
        }
    }
}

#[test]
fn jn104_rows() {
    let data = &*DATA;
    let chain_names: HashSet<&str> = data.chains.iter().map(|c| c.name.as_str()).collect();
    let mut lyocell = false;
    for r in &data.returns {
        let mut names = HashSet::new();
        for p in &r.jn104 {
            assert!(names.insert(p.project_name.as_str()), "duplicate project {}", p.project_name);
            assert!(chain_names.contains(p.chain.as_str()), "{}", p.chain);
            assert!(p.done_cumulative <= p.total_investment, "{}", p.project_name);
            assert!(p.done_this_year <= p.done_cumulative);
            assert!(p.planned_this_year <= p.total_investment);
            assert!(p.total_investment > Decimal::ZERO && p.done_this_year >= Decimal::ZERO);
            assert!(p.progress_pct >= Decimal::ZERO && p.progress_pct <= hundred());
            // Never a value in (0, 1] that could be read as a fraction.
            assert!(p.progress_pct == Decimal::ZERO || p.progress_pct >= d(3));
            match p.status.as_str() {
                "谋划" => assert_eq!(p.progress_pct, Decimal::ZERO),
                "在建" => assert!(p.progress_pct < hundred()),
                "竣工" | "投产" | "达产" => assert_eq!(p.progress_pct, hundred()),
                other => panic!("status {other}"),
            }
            if let Some(m) = &p.planned_start {
                assert!(m.len() == 7 && m.as_bytes()[4] == b'-', "{m}");
            }
            if p.project_name == "鱼台县莱赛尔纤维新材料项目" && r.period == FINAL_PERIOD {
                lyocell = true;
                assert_eq!(p.status, "在建");
                assert_eq!(p.planned_start.as_deref(), Some("2025-12"));
            }
        }
    }
    assert!(lyocell);
    let lyocell_projects = data
        .returns_for(FINAL_PERIOD)
        .flat_map(|r| r.jn104.iter())
        .filter(|p| p.project_name.contains("莱赛尔"))
        .count();
    assert_eq!(lyocell_projects, 1);
    // Cumulative over the months.
    for region in &data.regions {
        let first = data.return_for(&region.code, "2025-02").unwrap();
        for (i, p0) in first.jn104.iter().enumerate() {
            let mut last = p0.done_cumulative;
            for period in &PERIODS[1..] {
                let p = &data.return_for(&region.code, period).unwrap().jn104[i];
                assert_eq!(p.project_name, p0.project_name);
                assert!(p.done_cumulative >= last);
                last = p.done_cumulative;
            }
        }
    }
}

#[test]
fn targets() {
    let data = &*DATA;
    let indicators: Vec<&str> = data.targets.iter().map(|t| t.indicator.as_str()).collect();
    assert_eq!(
        indicators,
        ["industrial_scale", "enterprises", "high_tech_enterprises", "producer_services_revenue", "trade_total"]
    );
    let revenue: Decimal = data.accepted_jn101(FINAL_PERIOD).map(|(_, r)| r.revenue_ytd).sum();
    let count = d(data.accepted_jn101(FINAL_PERIOD).count() as i64);
    let jn102 = |item: &str| -> Decimal {
        data.returns_for(FINAL_PERIOD)
            .flat_map(|r| r.jn102.iter())
            .filter(|i| i.item == item)
            .map(|i| i.value_ytd)
            .sum()
    };
    let annual = d(12) / d(9);
    let current = [
        revenue * annual,
        count,
        jn102("high_tech_enterprises"),
        jn102("producer_services_revenue") * annual,
        jn102("trade_total") * annual,
    ];
    for (t, cur) in data.targets.iter().zip(current) {
        assert_eq!(t.base_year, 2024);
        assert!(t.target_year == 2027 || t.target_year == 2028);
        assert_eq!(t.target_value, t.base_value * d(2));
        let progress = (cur - t.base_value) / (t.target_value - t.base_value) * hundred();
        assert!(progress >= d(5) && progress <= d(40), "{}: progress {progress}", t.indicator);
    }
}

/// Every rule of FORMS.md (errors and warnings) the genuine rows must pass.
#[test]
fn genuine_rows_are_clean() {
    let data = &*DATA;
    let mut codes_by_period: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for r in &data.returns {
        let month: i64 = r.period[5..].parse().unwrap();
        let mut seen = HashSet::new();
        for row in r.jn101.iter().filter(|row| row.expected_error.is_none()) {
            let ctx = format!("{} {} row {}", r.region_code, r.period, row.excel_row);
            assert!(is_valid_credit_code(&row.credit_code), "{ctx}: credit code {}", row.credit_code);
            assert!(seen.insert(row.credit_code.as_str()), "{ctx}: duplicate");
            let prior = codes_by_period.entry(r.period.as_str()).or_default().insert(&row.credit_code, &r.region_code);
            assert!(prior.is_none(), "{ctx}: credit code in two counties");
            assert_eq!(row.industry_code.len(), 4);
            assert!(row.industry_code.chars().all(|c| c.is_ascii_digit()));
            assert!((6..=46).contains(&row.industry_code[..2].parse::<u32>().unwrap()), "{ctx}");
            assert!(!row.name.is_empty());
            for v in [
                row.output_ytd,
                row.output_prev,
                row.va_ytd,
                row.va_prev,
                row.revenue_ytd,
                row.revenue_prev,
                row.export_ytd,
                row.export_prev,
            ] {
                assert!(v >= Decimal::ZERO, "{ctx}: negative");
                assert!(v.scale() <= 1, "{ctx}: more than one decimal");
            }
            assert!(row.va_ytd <= row.output_ytd && row.va_prev <= row.output_prev, "{ctx}: va > output");
            assert!(row.export_ytd <= row.output_ytd && row.export_prev <= row.output_prev, "{ctx}: export > output");
            assert!((20..=5_000).contains(&row.employees), "{ctx}: employees {}", row.employees);
            // Warnings: value-added rate 20–45%, output growth −30…+60%, annualised revenue ≥ 2,500.
            let rate = row.va_ytd / row.output_ytd;
            assert!(rate >= Decimal::new(20, 2) && rate <= Decimal::new(45, 2), "{ctx}: va rate {rate}");
            if row.output_prev > Decimal::ZERO {
                let rate = row.va_prev / row.output_prev;
                assert!(rate >= Decimal::new(20, 2) && rate <= Decimal::new(45, 2), "{ctx}: prev va rate {rate}");
                let g = growth_pct(row.output_ytd, row.output_prev);
                assert!(g >= d(-30) && g <= d(60), "{ctx}: output growth {g}");
            } else {
                assert!(
                    row.va_prev.is_zero() && row.revenue_prev.is_zero(),
                    "{ctx}: new enterprise with last-year data"
                );
                assert!(!row.note.is_empty(), "{ctx}: new enterprise without a note");
            }
            let annual = row.revenue_ytd * d(12) / d(month);
            assert!(annual >= d(2_500), "{ctx}: annualised revenue {annual}");
        }
    }
}

#[test]
fn cumulative_and_no_disappearing_enterprises() {
    let data = &*DATA;
    for region in &data.regions {
        let mut last: BTreeMap<String, Jn101Row> = BTreeMap::new();
        for period in PERIODS {
            let r = data.return_for(&region.code, period).unwrap();
            let now: BTreeMap<String, Jn101Row> = r
                .jn101
                .iter()
                .filter(|row| row.expected_error.is_none())
                .map(|row| (row.credit_code.clone(), row.clone()))
                .collect();
            for (code, before) in &last {
                let after = now.get(code).unwrap_or_else(|| panic!("{code} disappears in {period}"));
                for (a, b) in [
                    (before.output_ytd, after.output_ytd),
                    (before.va_ytd, after.va_ytd),
                    (before.revenue_ytd, after.revenue_ytd),
                    (before.export_ytd, after.export_ytd),
                    (before.output_prev, after.output_prev),
                    (before.revenue_prev, after.revenue_prev),
                ] {
                    assert!(a <= b, "{code} {period}: YTD falls");
                }
                if before.profit_ytd >= Decimal::ZERO {
                    assert!(before.profit_ytd <= after.profit_ytd, "{code} {period}: profit falls");
                }
                assert_eq!(before.name, after.name);
                assert_eq!(before.industry_code, after.industry_code);
            }
            last = now;
        }
    }
    let feb = data.accepted_jn101("2025-02").count();
    let sep = data.accepted_jn101("2025-09").count();
    assert!(sep > feb && sep - feb <= 40, "entrants: {feb} → {sep}");
}

#[test]
fn deliberate_violations() {
    let data = &*DATA;
    let errors: Vec<(&CountyReturn, &Jn101Row)> = data.expected_errors().collect();
    let rules: BTreeSet<&str> = errors.iter().map(|(_, r)| r.expected_error.unwrap()).collect();
    assert_eq!(rules, BTreeSet::from(["JN101-E01", "JN101-E04", "JN101-E05", "JN101-E07"]));
    let regions: BTreeSet<&str> = errors.iter().map(|(r, _)| r.region_code.as_str()).collect();
    assert_eq!(regions.len(), 4, "violations in different counties");
    for (ret, row) in &errors {
        assert_eq!(ret.period, FINAL_PERIOD);
        let rule = row.expected_error.unwrap();
        let code_ok =
            row.credit_code.chars().count() == 18 && row.credit_code.chars().all(|c| CREDIT_ALPHABET.contains(c));
        assert_eq!(code_ok, rule != "JN101-E01", "{rule}");
        if rule != "JN101-E01" {
            assert!(is_valid_credit_code(&row.credit_code));
        }
        assert_eq!(row.revenue_ytd < Decimal::ZERO, rule == "JN101-E04");
        assert_eq!(row.va_ytd > row.output_ytd, rule == "JN101-E05");
        assert!(row.output_ytd >= Decimal::ZERO && row.va_ytd >= Decimal::ZERO && row.export_ytd <= row.output_ytd);
        let dup_of: Vec<&Jn101Row> =
            ret.jn101.iter().filter(|r| r.credit_code == row.credit_code && r.expected_error.is_none()).collect();
        if rule == "JN101-E07" {
            assert_eq!(dup_of.len(), 1);
            assert!(dup_of[0].excel_row < row.excel_row, "the copy is below the first");
        } else {
            assert!(dup_of.is_empty());
            // Not a credit code of any other county either.
            let elsewhere = data.accepted_jn101(FINAL_PERIOD).any(|(_, r)| r.credit_code == row.credit_code);
            assert!(!elsewhere);
        }
    }
}

#[test]
fn excel_rows_follow_the_layout() {
    let data = &*DATA;
    let mut text_total = 0;
    for r in &data.returns {
        let first = if r.layout.total_row == TotalRow::Top { 7 } else { 6 };
        for (i, row) in r.jn101.iter().enumerate() {
            assert_eq!(row.excel_row, first + i as u32);
        }
        match r.layout.total_row {
            TotalRow::Top => assert_eq!(r.jn101_total_row, Some(6)),
            TotalRow::Bottom => assert_eq!(r.jn101_total_row, Some(first + r.jn101.len() as u32)),
            TotalRow::None => assert_eq!(r.jn101_total_row, None),
        }
        assert_eq!(r.text_amounts.len(), 3);
        text_total += r.text_amounts.len();
    }
    assert_eq!(text_total, 3 * 112);
}

#[test]
fn workbooks_are_reproducible() {
    let data = &*DATA;
    let r = data.return_for("370826", FINAL_PERIOD).unwrap();
    let a = workbook_bytes(data, r).unwrap();
    let b = workbook_bytes(data, r).unwrap();
    assert!(a == b, "workbook bytes differ between two writes");
    assert!(a.starts_with(b"PK"));
}

/// Regenerates the committed sample: `cargo test --lib sample::tests::write_sample_data -- --ignored`.
#[test]
#[ignore]
fn write_sample_data() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    write_all(&DATA, &dir).unwrap();
}

/// The prior-year returns: one per county and prior period, JN101 only; each row's 本年累计 is
/// the 2025 return's 上年同期 of the same enterprise (recomputed here row by row), except the one
/// deliberate 2% disagreement; within-row rules hold on every row.
#[test]
fn prior_year_returns_match_this_years_prev_figures() {
    let data = &*DATA;
    let prior = prior_year_returns(data);
    assert_eq!(prior.len(), PRIOR_PERIODS.len() * data.regions.len());
    let (bad_region, bad_code, bad_period, _) = disagreement(data);
    let mut disagreements = 0;
    for ret in &prior {
        assert!(ret.jn102.is_empty() && ret.jn103.is_empty() && ret.jn104.is_empty());
        assert!(ret.file_name.contains(&format!(
            "{}年1-{}月",
            &ret.period[..4],
            ret.period[5..].trim_start_matches('0')
        )));
        let year: i32 = ret.period[..4].parse().unwrap();
        let now = data.return_for(&ret.region_code, &format!("{}{}", year + 1, &ret.period[4..])).unwrap();
        let existed: Vec<&Jn101Row> =
            now.jn101.iter().filter(|r| r.expected_error.is_none() && r.output_prev > Decimal::ZERO).collect();
        assert_eq!(ret.jn101.len(), existed.len(), "{} {}", ret.region_code, ret.period);
        for (old, new) in ret.jn101.iter().zip(existed) {
            assert_eq!(old.credit_code, new.credit_code);
            let is_bad = ret.region_code == bad_region && ret.period == bad_period && old.credit_code == bad_code;
            if is_bad {
                disagreements += 1;
                let off = (old.output_ytd / new.output_prev - Decimal::ONE) * hundred();
                assert!(off > d(1) && off < d(3), "{off}");
            } else {
                assert_eq!(old.output_ytd, new.output_prev);
            }
            assert_eq!(
                (old.va_ytd, old.revenue_ytd, old.profit_ytd, old.export_ytd),
                (new.va_prev, new.revenue_prev, new.profit_prev, new.export_prev)
            );
            // Within-row rules: value added and export not above output, no negatives but profit.
            for (ytd, prev) in
                [(old.output_ytd, old.output_prev), (old.va_ytd, old.va_prev), (old.export_ytd, old.export_prev)]
            {
                assert!(ytd >= Decimal::ZERO && prev >= Decimal::ZERO);
            }
            assert!(old.va_ytd <= old.output_ytd && old.va_prev <= old.output_prev);
            assert!(old.export_ytd <= old.output_ytd && old.export_prev <= old.output_prev);
            assert!(old.expected_error.is_none());
        }
    }
    assert_eq!(disagreements, 1);
}
