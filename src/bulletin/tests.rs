//! Render tests with small hand-made model outputs.

use std::collections::BTreeMap;
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
    let rows: &[(&str, &str, Option<f64>)] = &[
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
    let n = rows.len();
    batch(vec![
        ("period", text(&vec!["2025-09"; n])),
        ("region_code", text(&vec!["370800"; n])),
        ("breakdown", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        ("indicator", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
        ("value", float(&rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        ("unit", text(&vec!["%"; n])),
        ("status", text(&vec!["A"; n])),
    ])
}

const EVIL: &str = r#"*bold* <script>#read("/etc/passwd")"#;

fn models() -> BTreeMap<String, Vec<RecordBatch>> {
    let mut m = BTreeMap::new();
    m.insert("indicator_values".to_string(), indicator_values());
    m.insert(
        "county_ranking".to_string(),
        batch(vec![
            ("rank_no", int(&[Some(1), Some(2), None])),
            ("region_code", text(&["370881", "370811", "370826"])),
            ("name", text(&["曲阜市", "任城区", "微山县"])),
            ("short_name", text(&["曲阜", "任城", "微山"])),
            ("reported", boolean(&[true, true, false])),
            ("enterprises", int(&[Some(200), Some(400), Some(0)])),
            ("va_ytd", amount(&[Some(1_000_000.0), Some(2_500_000.0), None])),
            ("va_growth", float(&[Some(12.35), Some(-0.5), None])),
            ("va_share_city", float(&[Some(8.1), Some(20.25), None])),
            ("output_growth", float(&[Some(10.0), Some(1.0), None])),
            ("revenue_ytd", amount(&[Some(3_000_000.0), Some(9_000_000.0), None])),
            ("revenue_growth", float(&[Some(5.0), Some(2.0), None])),
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
            ("growth", float(&[Some(0.04), Some(3.0)])),
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
    assert!(md.contains("利润总额200.00亿元，同比—"), "{md}");
    assert!(md.contains("制造业增加值同比增长9.7%，占规上工业增加值比重61.1%"), "{md}");
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
    // counties, ranked, right-aligned; a missing county prints …
    assert!(md.contains("|---:|:---|---:|"), "{md}");
    assert!(md.contains("| 1 | 曲阜市 | 200 | 100.00 | 12.4 | 8.1 | 10.0 | 300.00 | 5.0 |"), "{md}");
    assert!(md.contains("| — | 微山县 | … |"), "{md}");
    assert!(md.contains("增速居前三位的是曲阜（增长12.4%）、任城（下降0.5%）"), "{md}");
    assert!(md.contains("1个县市区规上工业增加值增速高于全市平均水平"), "{md}");
    // doublings
    assert!(md.contains("以2023年为基期，目标年份为2026、2027年"), "{md}");
    assert!(md.contains("| 工业经济总量(亿元) | 5000.00 | 10000.00 | 6666.67 | 33.3% | 26.0% |"), "{md}");
    assert!(md.contains("| 规上工业企业数量(个) | 2800 | 5600 | 3100 | 10.7% | 26.0% |"), "{md}");
    assert!(md.contains("工业经济总量持平，规上工业企业数量增长3.0%"), "{md}");
    // projects: status counts (none for a missing status prints —) and the escaped name
    assert!(md.contains("谋划1个、在建1个、竣工—个"), "{md}");
    assert!(md.contains(r#"| 2 | \*bold\* \<script\>\#read("/etc/passwd") | 任城 | 工程\|机械 |"#), "{md}");
    assert!(!md.contains("<script>"), "{md}");
    // trend
    assert!(md.contains("| 1—8月 | 8.0 | -1.0 | 0.5 | 9.0 | — |"), "{md}");
    // footnotes
    assert!(md.contains("年主营业务收入2000万元及以上"));
    assert!(md.contains("“…”表示数据不足或保密；“—”表示不可计算；“#”表示其中项"));
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
    // An audit rule that could not run: the rows were not fully checked.
    let md = render(AuditSummary { rule_failures: vec!["JN101-E02".into()], ..Default::default() });
    assert!(md.starts_with("# 济宁市工业经济倍增监测月报（草稿）\n"), "{md}");
    assert!(md.contains("审核规则JN101-E02未能完整运行"), "{md}");
}

#[test]
fn ind_accepts_escaped_keys_and_returns_none_when_missing() {
    let models = models();
    let input = BulletinInput {
        period: "2025-09",
        models: &models,
        audit: AuditSummary::default(),
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "x".into(),
    };
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
    let input = BulletinInput {
        period: "2025-09",
        models: &models,
        audit: AuditSummary::default(),
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "x".into(),
    };
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
    let input = BulletinInput {
        period: "2025-09",
        models: &models,
        audit: AuditSummary::default(),
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "x".into(),
    };
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
