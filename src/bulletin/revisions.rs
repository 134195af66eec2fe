//! The revisions note (附注 7): the city figures that changed since the last publication, as the
//! bulletin prints them. A figure counts as revised only when its published form changes (亿元
//! with two decimals, rates with one, counts whole), and it is named in Chinese, never by code.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use arrow::record_batch::RecordBatch;

use super::names;
use super::values::{number_cell, text_cell};
use super::{RevisedFigure, format};
use crate::period::Period;
use crate::reference::{CITY_CODE, Reference};

/// One city figure of `indicator_values`: its value (None when not computable) and unit, or
/// suppressed (status C).
#[derive(Debug, Clone, PartialEq)]
enum Figure {
    Value(Option<f64>, String),
    Suppressed,
}

/// City figures of `period` whose published form differs from the previous publication's
/// (`previous`: that publication's folder, holding `warehouse/indicator_values/period=P/`).
/// Figures suppressed in either publication are left out (their value cannot be printed).
pub fn revised_figures(
    previous: Option<&Path>,
    period: Period,
    now: Option<&Vec<RecordBatch>>,
    reference: &Reference,
) -> Result<Vec<RevisedFigure>> {
    let (Some(prev), Some(now)) = (previous, now) else { return Ok(Vec::new()) };
    let dir = prev.join("warehouse/indicator_values").join(format!("period={period}"));
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let old = crate::store::read_dir_batches(&dir)?;
    let chains = chain_names(reference);
    Ok(compare(&city_figures(&old), &city_figures(now), &|id: &str| chains.get(id).cloned()))
}

/// The revised figures between two indexes of city figures, most important first (the total,
/// then sections, chains, divisions, projects, doublings; within each, the indicators in the
/// order of INDICATORS.md).
fn compare(
    old: &BTreeMap<(String, String), Figure>,
    new: &BTreeMap<(String, String), Figure>,
    chain: &dyn Fn(&str) -> Option<String>,
) -> Vec<RevisedFigure> {
    let mut out = Vec::new();
    for (key, now) in new {
        let (Some(Figure::Value(ov, _)), Figure::Value(nv, unit)) = (old.get(key), now) else { continue };
        let (o, n) = (published(*ov, unit), published(*nv, unit));
        if o != n {
            let (breakdown, indicator) = key;
            let what = match (names::breakdown(breakdown, chain), names::indicator(indicator)) {
                (Some(b), Some(i)) => format!("{b}{i}"),
                // A code added to the SQL without a name here still shows, by its code.
                (b, i) => {
                    format!("{}{}", b.unwrap_or_else(|| breakdown.clone()), i.unwrap_or_else(|| indicator.clone()))
                }
            };
            out.push((order(breakdown, indicator), RevisedFigure { what, old: o, new: n }));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, r)| r).collect()
}

/// A figure as the bulletin prints it: 万元 as 亿元 with two decimals, percentages and points
/// with one decimal, counts whole; `—` when not computable.
pub fn published(v: Option<f64>, unit: &str) -> String {
    let Some(x) = v.filter(|x| x.is_finite()) else { return format::MISSING.to_string() };
    let x = minijinja::Value::from(x);
    match unit {
        "万元" => format!("{}亿元", format::yi(&x, None)),
        "%" => format::pct1(&x),
        "百分点" => format!("{}个百分点", format::num(&x, None)),
        _ => format!("{}{unit}", format::int(&x, None)),
    }
}

/// Sort key: kind of breakdown, then the indicator's place in INDICATORS.md, then the codes.
fn order(breakdown: &str, indicator: &str) -> (usize, usize, String, String) {
    const KINDS: [&str; 6] = ["_T", "section:", "chain:_ALL", "chain:", "division:", "status:"];
    let kind = KINDS.iter().position(|k| breakdown.starts_with(k)).unwrap_or(KINDS.len());
    const INDICATORS: [&str; 17] = [
        "va_growth",
        "va_ytd",
        "va_share",
        "output_growth",
        "output_ytd",
        "revenue_growth",
        "revenue_ytd",
        "profit_growth",
        "profit_change",
        "profit_ytd",
        "enterprises",
        "chain_masters",
        "export_growth",
        "export_ytd",
        "employees",
        "doubling_current",
        "doubling_progress",
    ];
    let place = INDICATORS.iter().position(|i| *i == indicator).unwrap_or(INDICATORS.len());
    (kind, place, breakdown.to_string(), indicator.to_string())
}

/// `(breakdown, indicator)` → figure, for the city rows of `indicator_values` batches.
fn city_figures(batches: &[RecordBatch]) -> BTreeMap<(String, String), Figure> {
    let mut m = BTreeMap::new();
    for b in batches {
        let cols = ["region_code", "breakdown", "indicator", "value", "unit"].map(|n| b.column_by_name(n));
        let [Some(region), Some(breakdown), Some(indicator), Some(value), Some(unit)] = cols else { continue };
        let status = b.column_by_name("status");
        for i in 0..b.num_rows() {
            if text_cell(region, i).as_deref() != Some(CITY_CODE) {
                continue;
            }
            let key = (text_cell(breakdown, i).unwrap_or_default(), text_cell(indicator, i).unwrap_or_default());
            let figure = if status.is_some_and(|s| text_cell(s, i).as_deref() == Some("C")) {
                Figure::Suppressed
            } else {
                Figure::Value(number_cell(value, i), text_cell(unit, i).unwrap_or_default())
            };
            m.insert(key, figure);
        }
    }
    m
}

fn chain_names(reference: &Reference) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(b) = reference.tables.get("chains")
        && let (Some(id), Some(name)) = (b.column_by_name("chain_id"), b.column_by_name("name"))
    {
        for i in 0..b.num_rows() {
            if let (Some(id), Some(name)) = (text_cell(id, i), text_cell(name, i)) {
                m.insert(id, name);
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(rows: &[(&str, &str, Option<f64>, &str)]) -> BTreeMap<(String, String), Figure> {
        rows.iter()
            .map(|(b, i, v, u)| {
                let f = if *u == "C" { Figure::Suppressed } else { Figure::Value(*v, u.to_string()) };
                ((b.to_string(), i.to_string()), f)
            })
            .collect()
    }

    fn chain(id: &str) -> Option<String> {
        (id == "C01").then(|| "工程机械产业链".to_string())
    }

    #[test]
    fn published_forms() {
        assert_eq!(published(Some(12_345_678.0), "万元"), "1234.57亿元");
        assert_eq!(published(Some(8.25), "%"), "8.3%");
        assert_eq!(published(Some(3100.0), "个"), "3100个");
        assert_eq!(published(Some(0.45), "百分点"), "0.5个百分点");
        assert_eq!(published(None, "万元"), "—");
        assert_eq!(published(None, "%"), "—");
        assert_eq!(published(None, "个"), "—");
    }

    #[test]
    fn only_changes_visible_at_published_precision_are_listed_by_name() {
        let old = figures(&[
            ("_T", "va_growth", Some(8.31), "%"),
            ("_T", "va_ytd", Some(12_345_678.0), "万元"),
            ("_T", "enterprises", Some(3100.0), "个"),
            ("section:C", "va_growth", Some(9.70), "%"),
            ("chain:C01", "revenue_ytd", Some(100_000.0), "万元"),
            ("division:31", "va_growth", Some(1.0), "%"),
            ("division:32", "va_growth", Some(1.0), "%"),
            ("target:trade_total", "doubling_current", Some(4_000_000.0), "万元"),
            ("_T", "brand_new_code", Some(1.0), "%"),
        ]);
        let new = figures(&[
            // 8.31 → 8.34: both print 8.3%, not a revision
            ("_T", "va_growth", Some(8.34), "%"),
            // 1234.5678 亿元 → 1234.5749: both print 1234.57
            ("_T", "va_ytd", Some(12_345_749.0), "万元"),
            ("_T", "enterprises", Some(3101.0), "个"),
            ("section:C", "va_growth", Some(9.66), "%"),
            ("chain:C01", "revenue_ytd", Some(110_000.0), "万元"),
            // now suppressed: left out
            ("division:31", "va_growth", None, "C"),
            ("division:32", "va_growth", None, "%"),
            ("target:trade_total", "doubling_current", Some(4_100_000.0), "万元"),
            ("_T", "brand_new_code", Some(2.0), "%"),
        ]);
        let got = compare(&old, &new, &chain);
        let text: Vec<String> = got.iter().map(|r| format!("{}:{}→{}", r.what, r.old, r.new)).collect();
        assert_eq!(
            text,
            [
                "规上工业企业数:3100个→3101个",
                "brand_new_code:1.0%→2.0%",
                "工程机械产业链营业收入:10.00亿元→11.00亿元",
                "有色金属冶炼和压延加工业工业增加值增速:1.0%→—",
                "\"五个倍增\"外贸进出口总额当前值:400.00亿元→410.00亿元",
            ]
        );
        // No code reaches the text when the code is known.
        for r in &got[..1] {
            assert!(!r.what.is_ascii(), "{}", r.what);
        }
    }
}
