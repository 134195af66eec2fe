//! Which county sent which form for a period, and how the bulletin says what is missing.
//!
//! Linear in counties × forms + sheets (a national inbox has 2,800 units and 11,000 sheets).

use std::collections::{BTreeMap, HashSet};

use arrow::array::{AsArray, RecordBatch};

use crate::forms::Forms;
use crate::ingest::rows::SheetRows;
use crate::reference::Region;

/// Completeness of one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completeness {
    /// Every county × form: (region code, form, submitted, quarantined rows) — the `submissions`
    /// table the models read.
    pub submissions: Vec<(String, String, bool, i64)>,
    /// (county name, form) of every form a county has not sent, in region then form order.
    pub missing: Vec<(String, String)>,
}

/// Counties × forms against the period's sheets (refused sheets do not count as sent) and its
/// quarantine table (`region_code`, `form` columns).
pub fn completeness<R>(
    regions: &[Region],
    forms: &Forms,
    sheets: &[SheetRows<R>],
    quarantine: &RecordBatch,
) -> Completeness {
    let mut quarantined: BTreeMap<(String, String), i64> = BTreeMap::new();
    let col = |name: &str| quarantine.column_by_name(name).and_then(|c| c.as_string_opt::<i32>().cloned());
    if let (Some(codes), Some(form_col)) = (col("region_code"), col("form")) {
        for i in 0..quarantine.num_rows() {
            *quarantined.entry((codes.value(i).to_string(), form_col.value(i).to_uppercase())).or_default() += 1;
        }
    }
    let sent: HashSet<(&str, &str)> = sheets
        .iter()
        .filter(|s| s.refusal.is_none())
        .filter_map(|s| Some((s.region_code.as_deref()?, s.form.as_str())))
        .collect();
    let mut out = Completeness::default();
    for region in regions {
        for form in &forms.forms {
            let submitted = sent.contains(&(region.code.as_str(), form.code.as_str()));
            if !submitted {
                out.missing.push((region.name.clone(), form.code.clone()));
            }
            let q = quarantined.get(&(region.code.clone(), form.code.to_uppercase())).copied().unwrap_or(0);
            out.submissions.push((region.code.clone(), form.code.clone(), submitted, q));
        }
    }
    out
}

/// The bulletin's list of what is missing: a form no county sent is named once
/// (`JN102(全部14个县市区均未报送)`), the others as `微山县(JN103)`.
pub fn missing_notes(missing: &[(String, String)], regions: usize) -> Vec<String> {
    let mut by_form: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, form) in missing {
        *by_form.entry(form.as_str()).or_default() += 1;
    }
    let everywhere: HashSet<&str> = by_form.iter().filter(|(_, n)| **n >= regions).map(|(f, _)| *f).collect();
    let mut notes: Vec<String> =
        everywhere.iter().map(|f| format!("{f}(全部{regions}个县市区均未报送)")).collect::<Vec<_>>();
    notes.sort();
    notes.extend(missing.iter().filter(|(_, f)| !everywhere.contains(f.as_str())).map(|(r, f)| format!("{r}({f})")));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::scale::{ScaleSpec, read_expected, regions, write_scale};
    use arrow::array::{Array, Float64Array};
    use std::path::Path;

    /// (region, breakdown, indicator) → (value, status) of the published indicator_values.
    fn published(out: &Path, period: &str) -> BTreeMap<(String, String, String), (Option<f64>, String)> {
        let dir = out.join("warehouse/indicator_values").join(format!("period={period}"));
        let mut m = BTreeMap::new();
        for b in crate::store::read_dir_batches(&dir).unwrap() {
            let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
            let (r, bd, ind, st) = (s("region_code"), s("breakdown"), s("indicator"), s("status"));
            let v = b.column_by_name("value").unwrap().as_any().downcast_ref::<Float64Array>().unwrap().clone();
            for i in 0..b.num_rows() {
                let key = (r.value(i).to_string(), bd.value(i).to_string(), ind.value(i).to_string());
                m.insert(key, ((!v.is_null(i)).then(|| v.value(i)), st.value(i).to_string()));
            }
        }
        m
    }

    /// Returns of JN101 alone (no county sent JN102–JN104): the JN101 indicators are published
    /// with the generator's sums, the other forms' city codes are there with no value and status
    /// E, and the bulletin is a draft that names the missing forms once each.
    #[test]
    fn a_jn101_only_inbox_publishes_its_jn101_indicators_and_a_draft_bulletin() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = ScaleSpec { units: 5, per_unit: 30, forms: vec!["JN101".into()] };
        write_scale(&spec, tmp.path()).unwrap();
        let out = tmp.path().join("out");
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let opts = crate::job::RunOptions {
            project: project.to_path_buf(),
            inbox: tmp.path().join("returns"),
            reference: tmp.path().join("reference"),
            out: out.clone(),
            period: None,
            issued_on: None,
            threads: None,
        };
        let summary = crate::run::run(&opts).unwrap();
        let failed: Vec<_> = summary.models.iter().filter(|m| m.2.is_some()).collect();
        assert!(failed.is_empty(), "models failed: {failed:?}");
        assert_eq!(summary.missing.len(), 5 * 3);

        let iv = published(&out, "2025-09");
        let get = |r: &str, ind: &str| iv.get(&(r.to_string(), "_T".to_string(), ind.to_string())).cloned();
        // JN101 figures: the generator's own sums (tenths of 万元), county by county and for the city.
        let expected = read_expected(&tmp.path().join("expected.csv")).unwrap();
        let codes: BTreeMap<String, String> = regions(5).into_iter().map(|r| (r.name, r.code)).collect();
        let mut city = 0i64;
        for (name, enterprises, output_tenths) in &expected {
            let code = &codes[name];
            let (v, status) = get(code, "output_ytd").expect("county output published");
            assert!((v.unwrap() * 10.0 - *output_tenths as f64).abs() < 1e-3, "{name}: {v:?} vs {output_tenths}");
            assert_eq!(status, "A");
            assert_eq!(get(code, "enterprises").unwrap().0, Some(*enterprises as f64));
            city += output_tenths;
        }
        let (v, status) = get(crate::reference::CITY_CODE, "output_ytd").unwrap();
        assert!((v.unwrap() * 10.0 - city as f64).abs() < 1e-3);
        assert_eq!(status, "A");
        // The forms nobody sent: every city code there, without a value, status E.
        for ind in ["trade_total", "trade_total_growth", "appeals_received", "appeals_resolution_rate", "projects"] {
            assert_eq!(get(crate::reference::CITY_CODE, ind), Some((None, "E".to_string())), "{ind}");
        }

        let bulletin = std::fs::read_to_string(out.join("bulletins/2025-09/bulletin.md")).unwrap();
        assert!(bulletin.contains("（草稿）"), "the bulletin is a draft");
        for form in ["JN102", "JN103", "JN104"] {
            assert_eq!(bulletin.matches(&format!("{form}(全部5个县市区均未报送)")).count(), 1, "{form}");
        }
        assert!(out.join("bulletins/2025-09/bulletin.pdf").exists());
    }

    #[test]
    fn a_form_nobody_sent_is_named_once() {
        let mut missing = Vec::new();
        for county in ["甲县", "乙县", "丙县"] {
            missing.push((county.to_string(), "JN102".to_string()));
        }
        missing.push(("乙县".to_string(), "JN103".to_string()));
        assert_eq!(
            missing_notes(&missing, 3),
            vec!["JN102(全部3个县市区均未报送)".to_string(), "乙县(JN103)".to_string()]
        );
        assert_eq!(missing_notes(&missing[2..], 3), vec!["丙县(JN102)".to_string(), "乙县(JN103)".to_string()]);
        assert!(missing_notes(&[], 3).is_empty());
    }
}
