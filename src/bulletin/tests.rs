//! Render tests with small hand-made model outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use super::*;

fn text(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}
fn opt_text(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}
fn float(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}
fn int(v: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}
fn boolean(v: &[bool]) -> ArrayRef {
    Arc::new(BooleanArray::from(v.to_vec()))
}
/// Amounts in 万元 as Decimal128(24,6), like the warehouse.
fn amount(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(v.iter().map(|x| x.map(|x| (x * 1e6).round() as i128)).collect::<Vec<_>>())
            .with_precision_and_scale(24, 6)
            .unwrap(),
    )
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(
        cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>(),
    ));
    vec![RecordBatch::try_new(schema, cols.into_iter().map(|c| c.1).collect()).unwrap()]
}

/// The indicator_values rows the template reads (city only).
fn indicator_values() -> Vec<RecordBatch> {
    indicator_values_with(&[])
}

/// The same, with some (breakdown, indicator) values replaced or added; a value of
/// `Some(f64::NAN)` marks the figure suppressed (status C, NULL).
fn indicator_values_with(edits: &[(&str, &str, Option<f64>)]) -> Vec<RecordBatch> {
    let base: &[(&str, &str, Option<f64>)] = &[
        ("_T", "enterprises", Some(3100.0)),
        ("_T", "va_ytd", Some(12_345_678.0)),
        ("_T", "va_growth", Some(8.25)),
        ("_T", "output_ytd", Some(45_000_000.0)),
        ("_T", "output_growth", Some(-1.2)),
        ("_T", "revenue_ytd", Some(50_000_000.0)),
        ("_T", "revenue_growth", Some(0.04)),
        ("_T", "profit_ytd", Some(2_000_000.0)),
        ("_T", "profit_growth", None),
        ("section:C", "va_growth", Some(9.7)),
        ("section:C", "va_share", Some(61.06)),
        ("chain:_ALL", "va_growth", Some(8.3)),
        ("chain:_ALL", "chain_masters", Some(85.0)),
        ("_T", "appeals_received", Some(35_700.0)),
        ("_T", "appeals_resolved", Some(34_272.0)),
        ("_T", "appeals_resolution_rate", Some(96.0)),
        ("_T", "chain_events", Some(318.0)),
        ("_T", "coop_intents", Some(566.0)),
        ("_T", "coop_agreements", Some(159.0)),
        ("_T", "coop_amount", Some(314_200.0)),
        ("_T", "young_talents", Some(31_000.0)),
        ("_T", "tech_problems_solved", Some(328.0)),
        ("_T", "projects", Some(2.0)),
        ("status:在建", "projects", Some(1.0)),
        ("status:谋划", "projects", Some(1.0)),
        ("_T", "project_investment_total", Some(501_000.0)),
    ];
    let mut rows: Vec<(&str, &str, Option<f64>)> = base.to_vec();
    for e in edits {
        match rows.iter_mut().find(|r| r.0 == e.0 && r.1 == e.1) {
            Some(r) => *r = *e,
            None => rows.push(*e),
        }
    }
    let status: Vec<&str> = rows.iter().map(|r| if r.2.is_some_and(f64::is_nan) { "C" } else { "A" }).collect();
    let rows: Vec<(&str, &str, Option<f64>)> = rows.iter().map(|r| (r.0, r.1, r.2.filter(|v| !v.is_nan()))).collect();
    let n = rows.len();
    batch(vec![
        ("period", text(&vec!["2025-09"; n])),
        ("region_code", text(&vec!["370800"; n])),
        ("breakdown", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        ("indicator", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
        ("value", float(&rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        ("unit", text(&vec!["%"; n])),
        ("status", text(&status)),
    ])
}

const EVIL: &str = r#"*bold* <script>#read("/etc/passwd")"#;

fn models() -> BTreeMap<String, Vec<RecordBatch>> {
    let mut m = BTreeMap::new();
    m.insert("indicator_values".to_string(), indicator_values());
    m.insert(
        "county_ranking".to_string(),
        batch(vec![
            ("rank_no", int(&[Some(1), Some(2), Some(3), None])),
            ("region_code", text(&["370881", "JN-JKQ", "370811", "370826"])),
            ("name", text(&["曲阜市", "济宁经济技术开发区", "任城区", "微山县"])),
            ("short_name", text(&["曲阜", "经开区", "任城", "微山"])),
            ("reported", boolean(&[true, true, true, false])),
            ("enterprises", int(&[Some(200), Some(90), Some(400), Some(0)])),
            ("va_ytd", amount(&[Some(1_000_000.0), Some(300_000.0), Some(2_500_000.0), None])),
            ("va_growth", float(&[Some(12.35), Some(5.0), Some(-0.5), None])),
            ("va_share_city", float(&[Some(8.1), Some(2.4), Some(20.25), None])),
            ("output_growth", float(&[Some(10.0), Some(4.0), Some(1.0), None])),
            ("revenue_ytd", amount(&[Some(3_000_000.0), Some(800_000.0), Some(9_000_000.0), None])),
            ("revenue_growth", float(&[Some(5.0), Some(4.5), Some(2.0), None])),
        ]),
    );
    m.insert(
        "chain_summary".to_string(),
        batch(vec![
            ("chain_id", text(&["c01", "c02"])),
            ("name", text(&["工程机械", "纺织新材料"])),
            ("cluster", text(&["高端装备", "新材料"])),
            ("enterprises", int(&[Some(120), Some(0)])),
            ("chain_masters", int(&[Some(5), Some(0)])),
            ("va_ytd", amount(&[Some(880_000.0), None])),
            ("va_growth", float(&[Some(8.25), None])),
            ("revenue_ytd", amount(&[Some(2_000_000.0), None])),
            ("revenue_growth", float(&[Some(3.0), None])),
        ]),
    );
    m.insert(
        "doublings".to_string(),
        batch(vec![
            ("indicator", text(&["industrial_scale", "enterprises"])),
            ("name", text(&["工业经济总量", "规上工业企业数量"])),
            ("unit", text(&["万元", "个"])),
            ("annualised", boolean(&[true, false])),
            ("base_year", int(&[Some(2023), Some(2023)])),
            ("base_value", float(&[Some(50_000_000.0), Some(2800.0)])),
            ("target_year", int(&[Some(2026), Some(2027)])),
            ("target_value", float(&[Some(100_000_000.0), Some(5600.0)])),
            ("current_value", float(&[Some(66_666_666.7), Some(3100.0)])),
            ("progress", float(&[Some(33.33), Some(10.71)])),
            ("required_growth", float(&[Some(25.99), Some(25.99)])),
            ("required_growth_from_now", float(&[Some(22.47), None])),
            ("growth", float(&[Some(0.04), None])),
        ]),
    );
    m.insert(
        "key_projects".to_string(),
        batch(vec![
            ("rank_no", int(&[Some(1), Some(2)])),
            ("region_code", text(&["370827", "370811"])),
            ("region_short", opt_text(&[Some("鱼台"), Some("任城")])),
            ("project_name", text(&["莱赛尔纤维项目", EVIL])),
            ("chain_name", text(&["纺织新材料", "工程|机械"])),
            ("total_investment", amount(&[Some(500_000.0), Some(1_000.0)])),
            ("done_this_year", amount(&[Some(100_000.0), Some(200.0)])),
            ("progress_pct", float(&[Some(90.0), Some(10.0)])),
            ("status", text(&["在建", "谋划"])),
            ("planned_start", opt_text(&[Some("2025-12"), None])),
        ]),
    );
    m.insert(
        "trend".to_string(),
        batch(vec![
            ("period", text(&["2025-08", "2025-09"])),
            ("period_label", text(&["1—8月", "1—9月"])),
            ("va_growth", float(&[Some(8.0), Some(8.25)])),
            ("output_growth", float(&[Some(-1.0), Some(-1.2)])),
            ("revenue_growth", float(&[Some(0.5), Some(0.04)])),
            ("manufacturing_va_growth", float(&[Some(9.0), Some(9.7)])),
            ("chain_va_growth", float(&[None, Some(8.3)])),
        ]),
    );
    m
}

fn template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join("bulletin.md.j2")
}

fn render(audit: AuditSummary) -> String {
    let models = models();
    let input = BulletinInput {
        period: "2025-09",
        models: &models,
        audit,
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "济宁市统计局".to_string(),
    };
    render_markdown(&template_path(), &input).unwrap()
}

#[test]
fn renders_the_bulletin() {
    let md = render(AuditSummary { accepted: 10, ..Default::default() });
    assert!(md.starts_with("# 济宁市工业经济倍增监测月报\n"), "{md}");
    assert!(!md.contains("草稿"), "{md}");
    assert!(md.contains("（2025年1—9月）"));
    assert!(md.contains("济宁市统计局　　2025年10月15日"));
    // overall: growth words, 亿元, rounding of 8.25
    assert!(
        md.contains("1—9月，全市3100家规模以上工业企业实现工业增加值1234.57亿元，按可比价格计算同比增长8.3%"),
        "{md}"
    );
    assert!(md.contains("工业总产值4500.00亿元，同比下降1.2%"), "{md}");
    assert!(md.contains("营业收入5000.00亿元，同比持平"), "{md}");
    assert!(md.contains("实现利润总额200.00亿元，同比—"), "{md}");
    // 制造业当家 by the template's rule: 9.7 > 8.3 (as printed) and 61.1% > 50%
    assert!(
        md.contains("制造业增加值同比增长9.7%，占规上工业增加值比重61.1%，增速高于全市规上工业1.4个百分点，制造业当家作用持续显现"),
        "{md}"
    );
    // chains
    assert!(md.contains("2条标志性产业链规上工业增加值同比增长8.3%"), "{md}");
    assert!(md.contains("其中\"链主\"企业85家"), "{md}");
    assert!(md.contains("| 工程机械 | 高端装备 | 120 | 5 | 88.00 | 8.3 | 200.00 | 3.0 |"), "{md}");
    assert!(md.contains("| 纺织新材料 | 新材料 | 0 | 0 | — | — | — | — |"), "{md}");
    // environment figures as the article writes them
    assert!(md.contains("企业诉求3.57万项"), "{md}");
    assert!(md.contains("问题解决率达96.0%"), "{md}");
    assert!(md.contains("对接活动318次，达成合作意向566项，签订合作协议159项，实现合作金额31.42亿元"), "{md}");
    assert!(md.contains("新引进青年人才3.1万人"), "{md}");
    assert!(md.contains("技术难题328项"), "{md}");
    // counties, ranked, right-aligned, under a 全市 row; a county that did not report prints 未报
    // (never …, which means confidential) and the note says the city excludes it
    assert!(md.contains("|---:|:---|---:|"), "{md}");
    assert!(md.contains("|  | 全市 | 3100 | 1234.57 | 8.3 | — | -1.2 | 5000.00 | 0.0 |"), "{md}");
    assert!(md.contains("| 1 | 曲阜市 | 200 | 100.00 | 12.4 | 8.1 | 10.0 | 300.00 | 5.0 |"), "{md}");
    assert!(md.contains("|  | 微山县 | 未报 | 未报 | 未报 | 未报 | 未报 | 未报 | 未报 |"), "{md}");
    assert!(md.contains("“未报”表示本期未报送规上工业报表，全市数据不含微山县。"), "{md}");
    assert!(!md.contains("| … |"), "{md}");
    assert!(md.contains("增速居前三位的是曲阜（增长12.4%）、经开区（增长5.0%）、任城（下降0.5%）"), "{md}");
    assert!(md.contains("1个县市区规上工业增加值增速高于全市平均水平"), "{md}");
    // functional zones
    assert!(
        md.contains("表中4个统计单位为3个县市区和济宁经济技术开发区1个功能区，数据互不重叠：任城区的数据不含太白湖新区，嘉祥县的数据不含经开区。"),
        "{md}"
    );
    // chains overlap
    assert!(md.contains("各产业链数据相互交叉，不能相加"), "{md}");
    // doublings
    assert!(md.contains("以2023年为基期，目标年份为2026、2027年"), "{md}");
    // doublings: the growth still needed from the current value, labelled so; a growth that
    // cannot be computed is left out of the sentence
    assert!(md.contains("| 指标 | 基期值 | 目标值 | 当前值 | 进度 | 自本期起年均需增长 |"), "{md}");
    assert!(md.contains("| 工业经济总量(亿元) | 5000.00 | 10000.00 | 6666.67 | 33.3% | 22.5% |"), "{md}");
    assert!(md.contains("| 规上工业企业数量(个) | 2800 | 5600 | 3100 | 10.7% | — |"), "{md}");
    assert!(md.contains("从本期同比增速看，工业经济总量持平。"), "{md}");
    assert!(md.contains("按本年1—9月累计数×12/9折算为全年值"), "{md}");
    // projects: status counts (none for a missing status prints —) and the escaped name
    assert!(md.contains("谋划1个、在建1个、竣工—个"), "{md}");
    assert!(md.contains(r#"| 2 | \*bold\* \<script\>\#read("/etc/passwd") | 任城 | 工程\|机械 |"#), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    // trend
    assert!(md.contains("| 1—8月 | 8.0 | -1.0 | 0.5 | 9.0 | — |"), "{md}");
    // footnotes: no threshold that configuration does not give; only the symbols printed
    assert!(!md.contains("2000万元") && !md.contains("不足3家"), "{md}");
    assert!(md.contains("6. 符号说明：“—”表示不可计算或无此项数据。"), "{md}");
    assert!(!md.contains("“…”") && !md.contains("“#”"), "{md}");
    assert!(!md.contains("\n\n\n"));
}

#[test]
fn draft_when_a_county_is_missing_or_errors_remain() {
    let md = render(AuditSummary { missing: vec!["微山县(JN103)".into()], ..Default::default() });
    assert!(md.starts_with("# 济宁市工业经济倍增监测月报（草稿）\n"), "{md}");
    assert!(md.contains("> 未报送：微山县(JN103)。"), "{md}");
    let md = render(AuditSummary { findings_errors: 3, ..Default::default() });
    assert!(md.starts_with("# 济宁市工业经济倍增监测月报（草稿）\n"), "{md}");
    assert!(md.contains("尚有3条强制性审核问题"), "{md}");
    let md = render(AuditSummary { rules_not_evaluated: vec!["JN101-W07".into()], ..Default::default() });
    assert!(md.starts_with("# 济宁市工业经济倍增监测月报（草稿）\n"), "{md}");
    assert!(md.contains("审核规则JN101-W07未能执行"), "{md}");
}

#[test]
fn ind_accepts_escaped_keys_and_returns_none_when_missing() {
    let models = models();
    let input = snippet_input(&models);
    let out = render_markdown_str(
        r#"{{ ind(city, "chain:\\_ALL", "va_growth")|growth }} {{ ind(city, "chain:_ALL", "va_growth") }} {{ ind("370811", "_T", "va_growth") is none }} {{ ind(city, "_T", "profit_growth") is none }}"#,
        &input,
    )
    .unwrap();
    assert_eq!(out, "增长8.3% 8.3 True True\n");
}

#[test]
fn none_prints_as_not_computable() {
    let models = models();
    let input = snippet_input(&models);
    let out = render_markdown_str(
        "{% for p in models.key_projects %}{{ p.planned_start }};{% endfor %}{{ ind(city, \"_T\", \"profit_growth\") }}",
        &input,
    )
    .unwrap();
    assert_eq!(out, "2025-12;—;—\n");
}

#[test]
fn template_errors_are_reported_not_swallowed() {
    let models = models();
    let input = snippet_input(&models);
    // strict undefined: a misspelt column is an error
    let err =
        render_markdown_str("{% for c in models.county_ranking %}{{ c.va_grwth }}{% endfor %}", &input).unwrap_err();
    assert!(format!("{err:#}").contains("undefined"), "{err:#}");
    assert!(render_markdown(Path::new("/nonexistent/bulletin.md.j2"), &input).is_err());
    // no indicator table, no bulletin
    let mut partial = models.clone();
    partial.remove("indicator_values");
    let input = BulletinInput { models: &partial, ..input };
    let err = render_markdown(&template_path(), &input).unwrap_err();
    assert!(format!("{err:#}").contains("indicator_values"), "{err:#}");
}

fn render_with(edits: &[(&str, &str, Option<f64>)], audit: AuditSummary) -> String {
    let mut models = models();
    models.insert("indicator_values".to_string(), indicator_values_with(edits));
    let input = BulletinInput {
        period: "2025-09",
        models: &models,
        audit,
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "济宁市统计局".to_string(),
    };
    render_markdown(&template_path(), &input).unwrap()
}

/// The symbols printed as figures in the bulletin's body (before 附注): a table cell or a figure
/// that is just `—` or `…`, found without the template's help. `1—9月` is a period, not a symbol.
fn body_symbols(md: &str) -> BTreeSet<&'static str> {
    let body = &md[..md.find("## 附注").unwrap()];
    let chars: Vec<char> = body.chars().collect();
    let mut found = BTreeSet::new();
    for (i, c) in chars.iter().enumerate() {
        let digit = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_ascii_digit());
        match c {
            '…' => {
                found.insert("…");
            }
            '—' if !(digit(i.checked_sub(1)) && digit(Some(i + 1))) => {
                found.insert("—");
            }
            _ => {}
        }
    }
    found
}

/// The symbols the notes define.
fn defined_symbols(md: &str) -> BTreeSet<&'static str> {
    let notes = &md[md.find("## 附注").unwrap()..];
    ["…", "—", "#"].into_iter().filter(|s| notes.contains(&format!("“{s}”"))).collect()
}

#[test]
fn the_notes_define_exactly_the_symbols_the_bulletin_prints() {
    // The test models: no suppressed figure, some not computable.
    let md = render(AuditSummary::default());
    assert_eq!(defined_symbols(&md), body_symbols(&md), "{md}");
    assert_eq!(defined_symbols(&md), BTreeSet::from(["—"]));
    // A suppressed figure: … is printed and defined.
    let md = render_with(&[("section:B", "va_growth", Some(f64::NAN))], AuditSummary::default());
    assert!(md.contains("采矿业增加值同比…"), "{md}");
    assert_eq!(defined_symbols(&md), BTreeSet::from(["…", "—"]), "{md}");
    assert_eq!(defined_symbols(&md), body_symbols(&md));
    assert!(md.contains("符号说明：“…”表示数据保密，不予公布；“—”表示不可计算或无此项数据。"), "{md}");
}

/// The test models' input with a default audit, for rendering template snippets.
fn snippet_input(models: &BTreeMap<String, Vec<RecordBatch>>) -> BulletinInput<'_> {
    BulletinInput {
        period: "2025-09",
        models,
        audit: AuditSummary::default(),
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "x".into(),
    }
}

#[test]
fn symbols_used_lists_what_the_filters_printed_so_far() {
    let models = models();
    let input = snippet_input(&models);
    let out = render_markdown_str(
        r#"[{{ symbols_used()|join(",") }}] {{ 8.3|num }} {{ period_label }} [{{ symbols_used()|join(",") }}] {{ none|growth }} [{{ symbols_used()|join(",") }}] {{ "…"|yi }} [{{ symbols_used()|join(",") }}]"#,
        &input,
    )
    .unwrap();
    assert_eq!(out, "[] 8.3 1—9月 [] — [—] … [—,…]\n");
    // A bare none prints — and counts too.
    let out = render_markdown_str(r#"{{ none }}{{ symbols_used()|join(",") }}"#, &input).unwrap();
    assert_eq!(out, "——\n");
}

#[test]
fn manufacturing_is_praised_only_when_the_figures_say_so() {
    let praise = "制造业当家作用";
    // slower than all industry, as printed (8.3 vs 8.25 → 8.3): no praise
    let md = render_with(&[("section:C", "va_growth", Some(8.3))], AuditSummary::default());
    assert!(md.contains("制造业增加值同比增长8.3%，占规上工业增加值比重61.1%；"), "{md}");
    assert!(!md.contains(praise), "{md}");
    // faster but less than half of value added: no praise
    let md = render_with(&[("section:C", "va_share", Some(49.96))], AuditSummary::default());
    assert!(md.contains("比重50.0%；"), "{md}");
    assert!(!md.contains(praise), "{md}");
    // suppressed or missing: no praise and no error
    let md = render_with(&[("section:C", "va_growth", Some(f64::NAN))], AuditSummary::default());
    assert!(!md.contains(praise), "{md}");
    let md = render_with(&[("_T", "va_growth", None)], AuditSummary::default());
    assert!(!md.contains(praise), "{md}");
}

#[test]
fn profit_is_worded_by_the_signs_of_the_two_years() {
    let cases: [(f64, f64, Option<f64>, &str); 5] = [
        (2_000_000.0, 100_000.0, Some(5.26), "实现利润总额200.00亿元，同比增长5.3%"),
        (-300_000.0, -800_000.0, None, "亏损30.00亿元，上年同期盈利50.00亿元，由盈转亏"),
        (200_000.0, 500_000.0, None, "实现利润总额20.00亿元，上年同期亏损30.00亿元，扭亏为盈"),
        (-100_000.0, 200_000.0, None, "亏损10.00亿元，同比减亏20.00亿元"),
        (-400_000.0, -100_000.0, None, "亏损40.00亿元，同比增亏10.00亿元"),
    ];
    for (ytd, change, growth, words) in cases {
        let md = render_with(
            &[("_T", "profit_ytd", Some(ytd)), ("_T", "profit_change", Some(change)), ("_T", "profit_growth", growth)],
            AuditSummary::default(),
        );
        assert!(md.contains(&format!("同比持平；{words}。")), "{words}: {md}");
    }
}

#[test]
fn the_revisions_note_prints_what_it_is_given() {
    let revisions =
        vec![RevisedFigure { what: "工业增加值增速".into(), old: "8.3%".into(), new: "8.4%".into() }];
    let md = render(AuditSummary { revisions, ..Default::default() });
    assert!(
        md.contains("6. 数据修订：因县市区重新报送，以下全市数据较上次发布有所修订：工业增加值增速由8.3%修订为8.4%。"),
        "{md}"
    );
    assert!(md.contains("7. 符号说明"), "{md}");
}

/// The bulletin's index of `indicator_values` finds what a plain map over the rows finds (the
/// last row of a repeated key, suppressed figures as `Err`, NULL values as `None`), over
/// generated tables in several batches with repeated keys, and nothing for a key not there.
#[test]
fn the_indicator_index_finds_what_a_map_of_the_rows_finds() {
    use rand::{Rng, SeedableRng, rngs::SmallRng};
    use std::collections::HashMap;
    let regions = ["370800", "370811", "370812", "370826"];
    let breakdowns = ["_T", "division:C13", "chain:01", ""];
    let indicators = ["va_growth", "output_ytd", "enterprises"];
    for seed in 0..20u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut expected: HashMap<(String, String, String), Figure> = HashMap::new();
        let mut batches = Vec::new();
        for _ in 0..rng.random_range(1..4) {
            let n = rng.random_range(0..40);
            let pick = |rng: &mut SmallRng, from: &[&'static str]| from[rng.random_range(0..from.len())];
            let rows: Vec<(&str, &str, &str, Option<f64>, &str)> = (0..n)
                .map(|_| {
                    let value = rng.random_bool(0.8).then(|| f64::from(rng.random_range(-50..500)) / 4.0);
                    let status = if rng.random_bool(0.2) { "C" } else { "A" };
                    (pick(&mut rng, &regions), pick(&mut rng, &breakdowns), pick(&mut rng, &indicators), value, status)
                })
                .collect();
            for (r, b, i, v, s) in &rows {
                expected
                    .insert((r.to_string(), b.to_string(), i.to_string()), if *s == "C" { Err(()) } else { Ok(*v) });
            }
            batches.extend(batch(vec![
                ("region_code", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>())),
                ("breakdown", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
                ("indicator", text(&rows.iter().map(|r| r.2).collect::<Vec<_>>())),
                ("value", float(&rows.iter().map(|r| r.3).collect::<Vec<_>>())),
                ("status", text(&rows.iter().map(|r| r.4).collect::<Vec<_>>())),
            ]));
        }
        let models = BTreeMap::from([("indicator_values".to_string(), batches)]);
        let index = IndicatorIndex::new(&models).unwrap();
        assert_eq!(index.figures.len(), expected.len(), "seed {seed}: one figure per key");
        for r in regions {
            for b in breakdowns {
                for i in indicators {
                    let want = expected.get(&(r.to_string(), b.to_string(), i.to_string())).copied();
                    assert_eq!(index.get(r, b, i), want, "seed {seed}: {r} {b} {i}");
                }
            }
        }
        assert_eq!(index.get("370899", "_T", "va_growth"), None);
    }
}
