//! Disclosure control (统计数据保密): no published figure may reveal a single enterprise.
//!
//! Applied to the model outputs of a run *before* they are written or rendered (see
//! [`protect_runs`], called from `run.rs` right after the models ran), so the warehouse's
//! published tables, `indicator_values` and the bulletin all see the same suppressed cells.
//!
//! **Cells.** A cell is a `(region_code, breakdown)` of `jn101_cells` (county or city × total,
//! section, division, chain). Its statistics come from the accepted JN101 rows: `enterprises`
//! (count) and `top2_va_ytd` (value added of its two largest enterprises), computed in
//! `sql/jn101_cells.sql`.
//!
//! **Primary suppression.** A cell is suppressed when it has fewer than `min_enterprises`
//! enterprises, or when its two largest enterprises make up more than `dominance_share` percent
//! of its value added. Both thresholds live in `config/disclosure.toml`, which is read at run
//! time and never copied to the output.
//!
//! **Secondary suppression.** Within each additive table — the counties of a breakdown against
//! the city figure, the sections of a region against its total, the divisions of a region
//! against its total and against their section — a published total with exactly one suppressed
//! member would give that member away by subtraction. The smallest (by value added) other member
//! is then suppressed too; when there is no other member the total itself is (unless it is the
//! city total); a suppressed total whose members are all published gets its smallest member
//! suppressed. This repeats until no table changes. The city total (`370800`, `_T`) is never
//! suppressed. Chains overlap (an enterprise can be in several) and are not additive, so they
//! only get primary suppression.
//!
//! **What is hidden.** Of a suppressed cell: every amount, growth rate and share (value NULL and
//! status `C` in `indicator_values`; NULL and `suppressed = true` in `county_ranking`,
//! `chain_summary`, `division_ranking`). Rankings rank the published rows only: suppressed
//! counties and divisions move to the end without a rank, so their place cannot reveal their
//! size. Enterprise counts stay published. The bulletin prints `…` for them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use serde::Deserialize;

use crate::bulletin::values::{number_cell, text_cell};
use crate::models::exec::ModelRun;
use crate::reference::CITY_CODE;

/// The thresholds (`config/disclosure.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A cell with fewer enterprises than this is suppressed (3).
    pub min_enterprises: u64,
    /// A cell whose two largest enterprises make up more than this percentage of its value
    /// added is suppressed (85).
    pub dominance_share: f64,
}

impl Default for Config {
    /// The thresholds of the shipped `config/disclosure.toml`.
    fn default() -> Self {
        Config { min_enterprises: 3, dominance_share: 85.0 }
    }
}

impl Config {
    /// Reads the settings; a project without the file gets [`Config::default`] (with a warning).
    pub fn load(path: &Path) -> Result<Config> {
        if !path.exists() {
            tracing::warn!("{} not found: disclosure control uses the default thresholds", path.display());
            return Ok(Config::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("the disclosure control settings {} cannot be read", path.display()))?;
        let cfg: Config =
            toml::from_str(&text).with_context(|| format!("{}: not valid disclosure settings", path.display()))?;
        if !(0.0..=100.0).contains(&cfg.dominance_share) {
            bail!("{}: dominance_share must be a percentage between 0 and 100", path.display());
        }
        Ok(cfg)
    }
}

/// Why a cell is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Fewer than `min_enterprises` enterprises.
    TooFew,
    /// The two largest enterprises dominate.
    Dominated,
    /// To protect another suppressed cell of the same table.
    Secondary,
}

pub type Cell = (String, String);

#[derive(Debug, Clone, Copy)]
struct Stat {
    enterprises: u64,
    va: f64,
    top2: f64,
}

/// The suppressed cells of a period.
#[derive(Debug, Clone, Default)]
pub struct Suppression {
    pub cells: BTreeMap<Cell, Reason>,
}

impl Suppression {
    pub fn contains(&self, region: &str, breakdown: &str) -> bool {
        self.cells.contains_key(&(region.to_string(), breakdown.to_string()))
    }
}

fn col<'a>(b: &'a RecordBatch, model: &str, name: &str) -> Result<&'a ArrayRef> {
    b.column_by_name(name)
        .with_context(|| format!("model {model} has no column `{name}` (needed by disclosure control)"))
}

/// GB/T 4754 section of a two-digit division: 06–12 B, 13–43 C, 44–46 D.
fn section_of(division: &str) -> Option<&'static str> {
    match division.parse::<u32>().ok()? {
        6..=12 => Some("B"),
        13..=43 => Some("C"),
        44..=46 => Some("D"),
        _ => None,
    }
}

/// Decides which cells of `jn101_cells` are suppressed.
pub fn decide(cells: &[RecordBatch], cfg: &Config) -> Result<Suppression> {
    let mut stats: BTreeMap<Cell, Stat> = BTreeMap::new();
    for b in cells {
        let (region, breakdown) = (col(b, "jn101_cells", "region_code")?, col(b, "jn101_cells", "breakdown")?);
        let (n, va, top2) = (
            col(b, "jn101_cells", "enterprises")?,
            col(b, "jn101_cells", "va_ytd")?,
            col(b, "jn101_cells", "top2_va_ytd")?,
        );
        for row in 0..b.num_rows() {
            let key = (text_cell(region, row).unwrap_or_default(), text_cell(breakdown, row).unwrap_or_default());
            let stat = Stat {
                enterprises: number_cell(n, row).unwrap_or(0.0) as u64,
                va: number_cell(va, row).unwrap_or(0.0),
                top2: number_cell(top2, row).unwrap_or(0.0),
            };
            stats.insert(key, stat);
        }
    }
    let city_total: Cell = (CITY_CODE.to_string(), "_T".to_string());
    let mut out = Suppression::default();
    for (key, s) in &stats {
        if *key == city_total {
            continue;
        }
        if s.enterprises < cfg.min_enterprises {
            out.cells.insert(key.clone(), Reason::TooFew);
        } else if s.va > 0.0 && s.top2 / s.va * 100.0 > cfg.dominance_share {
            out.cells.insert(key.clone(), Reason::Dominated);
        }
    }

    // The additive tables: (total, members).
    let mut groups: Vec<(Cell, Vec<Cell>)> = Vec::new();
    let regions: BTreeSet<&String> = stats.keys().map(|k| &k.0).collect();
    let breakdowns: BTreeSet<&String> = stats.keys().map(|k| &k.1).collect();
    for b in &breakdowns {
        if b.starts_with("chain:") {
            continue;
        }
        let members: Vec<Cell> = stats.keys().filter(|k| &&k.1 == b && k.0 != CITY_CODE).cloned().collect();
        groups.push(((CITY_CODE.to_string(), b.to_string()), members));
    }
    for r in &regions {
        let of = |prefix: &str| -> Vec<Cell> {
            stats.keys().filter(|k| &&k.0 == r && k.1.starts_with(prefix)).cloned().collect()
        };
        let total = (r.to_string(), "_T".to_string());
        groups.push((total.clone(), of("section:")));
        groups.push((total, of("division:")));
        for s in ["B", "C", "D"] {
            let members: Vec<Cell> = of("division:")
                .into_iter()
                .filter(|k| section_of(k.1.trim_start_matches("division:")) == Some(s))
                .collect();
            groups.push(((r.to_string(), format!("section:{s}")), members));
        }
    }
    groups.retain(|(total, members)| stats.contains_key(total) && !members.is_empty());

    let va = |k: &Cell| stats.get(k).map_or(0.0, |s| s.va);
    loop {
        let mut changed = false;
        for (total, members) in &groups {
            let hidden = members.iter().filter(|m| out.cells.contains_key(*m)).count();
            let total_hidden = out.cells.contains_key(total);
            let smallest_open = members
                .iter()
                .filter(|m| !out.cells.contains_key(*m))
                .min_by(|a, b| va(a).total_cmp(&va(b)).then_with(|| a.cmp(b)))
                .cloned();
            let add = if !total_hidden && hidden == 1 {
                // Exactly one hidden member beside a published total: hide another, or the total.
                smallest_open.or_else(|| (*total != city_total).then(|| total.clone()))
            } else if total_hidden && hidden == 0 {
                smallest_open
            } else {
                None
            };
            if let Some(cell) = add
                && !out.cells.contains_key(&cell)
                && cell != city_total
            {
                out.cells.insert(cell, Reason::Secondary);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Ok(out)
}

/// Indicator codes of `indicator_values` that a suppressed cell hides (counts stay).
pub const HIDDEN_INDICATORS: [&str; 13] = [
    "output_ytd",
    "output_growth",
    "va_ytd",
    "va_growth",
    "va_share",
    "revenue_ytd",
    "revenue_growth",
    "profit_ytd",
    "profit_growth",
    "profit_change",
    "export_ytd",
    "export_growth",
    "employees",
];

/// Sets the rows of `batch` for which `hide(row)` is true to NULL in `columns`, and its
/// `suppressed` column (added when absent) to true for them.
fn hide_rows(batch: &RecordBatch, hide: &[bool], columns: &[&str]) -> Result<RecordBatch> {
    let mask = BooleanArray::from(hide.to_vec());
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let mut has_flag = false;
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        let array = if columns.contains(&field.name().as_str()) {
            arrow::compute::nullif(array, &mask)?
        } else if field.name() == "suppressed" {
            has_flag = true;
            Arc::new(BooleanArray::from(hide.to_vec())) as ArrayRef
        } else {
            Arc::clone(array)
        };
        fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
        arrays.push(array);
    }
    if !has_flag {
        fields.push(Arc::new(Field::new("suppressed", DataType::Boolean, true)));
        arrays.push(Arc::new(BooleanArray::from(hide.to_vec())));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())), arrays)?)
}

fn keys(
    b: &RecordBatch,
    model: &str,
    region: Option<&str>,
    breakdown: impl Fn(&str) -> String,
    key_col: &str,
) -> Result<Vec<Cell>> {
    let k = col(b, model, key_col)?;
    let r = match region {
        Some(_) => None,
        None => Some(col(b, model, "region_code")?),
    };
    Ok((0..b.num_rows())
        .map(|row| {
            let reg = match (region, r) {
                (Some(code), _) => code.to_string(),
                (None, Some(c)) => text_cell(c, row).unwrap_or_default(),
                _ => unreachable!(),
            };
            (reg, breakdown(&text_cell(k, row).unwrap_or_default()))
        })
        .collect())
}

/// Applies `s` to one model's output (by model name); other models are returned unchanged.
pub fn apply(model: &str, batches: &[RecordBatch], s: &Suppression) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for b in batches {
        let b = match model {
            "indicator_values" => {
                let cells = keys(b, model, None, |x| x.to_string(), "breakdown")?;
                let ind = col(b, model, "indicator")?;
                let hide: Vec<bool> = (0..b.num_rows())
                    .map(|row| {
                        s.cells.contains_key(&cells[row])
                            && text_cell(ind, row).is_some_and(|i| HIDDEN_INDICATORS.contains(&i.as_str()))
                    })
                    .collect();
                let status = col(b, model, "status")?;
                let new_status: StringArray = (0..b.num_rows())
                    .map(|row| if hide[row] { Some("C".to_string()) } else { text_cell(status, row) })
                    .collect();
                let idx = b.schema().index_of("status")?;
                let mut cols = b.columns().to_vec();
                cols[idx] = Arc::new(new_status);
                let value_idx = b.schema().index_of("value")?;
                cols[value_idx] = arrow::compute::nullif(&cols[value_idx], &BooleanArray::from(hide.clone()))?;
                let schema = Schema::new_with_metadata(
                    b.schema().fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>(),
                    b.schema().metadata().clone(),
                );
                RecordBatch::try_new(Arc::new(schema), cols)?
            }
            "county_ranking" => {
                let cells = keys(b, model, None, |_| "_T".to_string(), "region_code")?;
                let hide: Vec<bool> = cells.iter().map(|c| s.cells.contains_key(c)).collect();
                let cols = [
                    "va_ytd",
                    "va_growth",
                    "va_share_city",
                    "output_ytd",
                    "output_growth",
                    "revenue_ytd",
                    "revenue_growth",
                    "profit_ytd",
                    "profit_growth",
                    "rank_no",
                ];
                rerank(&hide_rows(b, &hide, &cols)?)?
            }
            "chain_summary" => {
                let cells = keys(b, model, Some(CITY_CODE), |x| format!("chain:{x}"), "chain_id")?;
                let hide: Vec<bool> = cells.iter().map(|c| s.cells.contains_key(c)).collect();
                hide_rows(b, &hide, &["va_ytd", "va_growth", "va_share", "revenue_ytd", "revenue_growth"])?
            }
            "division_ranking" => {
                let cells = keys(b, model, Some(CITY_CODE), |x| format!("division:{x}"), "division")?;
                let hide: Vec<bool> = cells.iter().map(|c| s.cells.contains_key(c)).collect();
                rank_published_first(&hide_rows(b, &hide, &["va_ytd", "va_growth", "va_share"])?, "division")?
            }
            _ => b.clone(),
        };
        out.push(b);
    }
    Ok(out)
}

/// Recomputes `rank_no` (1 = highest `va_growth`, ties share a rank) among the published
/// counties; the suppressed ones follow, unranked (see [`suppressed_last`]), so that neither a gap
/// in the ranks nor a row's position can place a suppressed county. Rates are compared as the
/// bulletin prints them (one decimal), so two counties printed with the same rate tie.
fn rerank(b: &RecordBatch) -> Result<RecordBatch> {
    let (b, _) = suppressed_last(b, "county_ranking", "region_code")?;
    let growth = col(&b, "county_ranking", "va_growth")?;
    let g: Vec<Option<rust_decimal::Decimal>> = (0..b.num_rows())
        .map(|r| number_cell(growth, r).and_then(|v| crate::bulletin::format::published(v, 1)))
        .collect();
    let ranks: Int64Array =
        g.iter().map(|v| v.map(|v| 1 + g.iter().flatten().filter(|o| **o > v).count() as i64)).collect();
    with_column(&b, "rank_no", ranks)
}

/// A ranking by size (`rank`, 1 = largest, rows already in that order): the published rows keep
/// their order and are ranked 1, 2, …; the suppressed ones follow, unranked.
fn rank_published_first(b: &RecordBatch, key: &str) -> Result<RecordBatch> {
    let (b, published) = suppressed_last(b, "division_ranking", key)?;
    let ranks: Int64Array = (0..b.num_rows()).map(|r| (r < published).then_some(r as i64 + 1)).collect();
    with_column(&b, "rank", ranks)
}

/// The published rows in their order, then the suppressed ones ordered by `key` (not by the
/// ranking, which would say how large they are); and how many are published.
fn suppressed_last(b: &RecordBatch, model: &str, key: &str) -> Result<(RecordBatch, usize)> {
    let flag = col(b, model, "suppressed")?;
    let keys = col(b, model, key)?;
    let hidden: Vec<bool> = (0..b.num_rows()).map(|r| text_cell(flag, r).as_deref() == Some("true")).collect();
    let (published, mut suppressed): (Vec<u32>, Vec<u32>) =
        (0..b.num_rows() as u32).partition(|i| !hidden[*i as usize]);
    suppressed.sort_by_key(|i| text_cell(keys, *i as usize));
    let n = published.len();
    let order = arrow::array::UInt32Array::from(published.into_iter().chain(suppressed).collect::<Vec<_>>());
    Ok((arrow::compute::take_record_batch(b, &order)?, n))
}

/// `b` with the integer column `name` replaced by `values` (cast to its type, made nullable).
fn with_column(b: &RecordBatch, name: &str, values: Int64Array) -> Result<RecordBatch> {
    let idx = b.schema().index_of(name)?;
    let mut cols = b.columns().to_vec();
    cols[idx] = match b.schema().field(idx).data_type() {
        DataType::Int64 => Arc::new(values),
        other => arrow::compute::cast(&(Arc::new(values) as ArrayRef), other)?,
    };
    let mut fields: Vec<Field> = b.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[idx] = fields[idx].clone().with_nullable(true);
    Ok(RecordBatch::try_new(Arc::new(Schema::new_with_metadata(fields, b.schema().metadata().clone())), cols)?)
}

/// Decides from the run's `jn101_cells` and applies the result to every model of `runs` whose
/// output is to be published. Returns the suppressed cells (for the log and the tests).
pub fn protect_runs(runs: &mut [ModelRun], cfg: &Config) -> Result<Suppression> {
    let Some(cells) = runs.iter().find(|r| r.name == "jn101_cells" && r.error.is_none()) else {
        return Ok(Suppression::default());
    };
    let s = decide(&cells.batches, cfg)?;
    for r in runs.iter_mut() {
        if r.error.is_some() || r.schema.is_none() {
            continue;
        }
        let batches = apply(&r.name, &r.batches, &s)?;
        if let Some(first) = batches.first() {
            r.schema = Some(first.schema());
        }
        r.batches = batches;
    }
    let count = |why: Reason| s.cells.values().filter(|r| **r == why).count();
    tracing::info!(
        too_few = count(Reason::TooFew),
        dominated = count(Reason::Dominated),
        secondary = count(Reason::Secondary),
        "disclosure control: cells suppressed"
    );
    Ok(s)
}

#[cfg(test)]
mod tests;
