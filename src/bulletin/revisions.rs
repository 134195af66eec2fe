//! The figures revised since the last publication (the bulletin's 附注 7): city-level values of
//! `indicator_values` that differ from the previous publication's.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use arrow::array::{Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;

use super::RevisedFigure;
use crate::period::Period;

/// City-level figures of `period` in `now` that differ from those the publication `previous`
/// holds for it.
pub fn revised_figures(
    previous: Option<&Path>,
    period: Period,
    now: Option<&Vec<RecordBatch>>,
) -> Result<Vec<RevisedFigure>> {
    let (Some(prev), Some(now)) = (previous, now) else { return Ok(Vec::new()) };
    let old =
        crate::store::read_dir_batches(&prev.join("warehouse/indicator_values").join(format!("period={period}")))?;
    let (old, new) = (city_values(&old), city_values(now));
    let fmt = |v: Option<f64>, unit: &str| match v {
        Some(x) => format!("{}{unit}", (x * 100.0).round() / 100.0),
        None => "—".to_string(),
    };
    let mut out = Vec::new();
    for (key, (nv, unit)) in &new {
        if let Some((ov, _)) = old.get(key) {
            let same = match (ov, nv) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (None, None) => true,
                _ => false,
            };
            if !same {
                let what = if key.1 == "_T" { key.0.clone() } else { format!("{}({})", key.0, key.1) };
                out.push(RevisedFigure { what, old: fmt(*ov, unit), new: fmt(*nv, unit) });
            }
        }
    }
    Ok(out)
}

/// (indicator, breakdown) → (value, unit) of the city (`370800`).
fn city_values(batches: &[RecordBatch]) -> BTreeMap<(String, String), (Option<f64>, String)> {
    let mut m = BTreeMap::new();
    for b in batches {
        let text = |n: &str| {
            b.column_by_name(n)
                .and_then(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
                .map(|c| c.as_any().downcast_ref::<StringArray>().cloned().expect("utf8"))
        };
        let value =
            b.column_by_name("value").and_then(|c| c.as_any().downcast_ref::<arrow::array::Float64Array>().cloned());
        let (Some(r), Some(bd), Some(ind), Some(unit), Some(v)) =
            (text("region_code"), text("breakdown"), text("indicator"), text("unit"), value)
        else {
            continue;
        };
        for i in 0..b.num_rows() {
            if r.value(i) != "370800" {
                continue;
            }
            let val = (!v.is_null(i)).then(|| v.value(i));
            m.insert((ind.value(i).to_string(), bd.value(i).to_string()), (val, unit.value(i).to_string()));
        }
    }
    m
}
