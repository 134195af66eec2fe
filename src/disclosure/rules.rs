//! Primary sensitivity: which cells could reveal an enterprise, on which variable, and by how
//! much their value must stay uncertain (the protection requirement). Computed in plain Rust
//! from the accepted enterprise rows, never from a column of a model.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use datafusion::prelude::SessionContext;
use rayon::prelude::*;

use super::Config;
use crate::reference::CITY_CODE;

/// A cell: (region code, breakdown) as in `jn101_cells` and `indicator_values`.
pub type Cell = (String, String);

/// A published magnitude. Each is protected separately: a cell can be sensitive on exports and
/// harmless on value added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Var {
    Output,
    ValueAdded,
    Revenue,
    Profit,
    Export,
    Employees,
}

pub const VARS: [Var; 6] = [Var::Output, Var::ValueAdded, Var::Revenue, Var::Profit, Var::Export, Var::Employees];

impl Var {
    /// Short code (the `variable` column of the disclosure report).
    pub fn code(self) -> &'static str {
        match self {
            Var::Output => "output",
            Var::ValueAdded => "va",
            Var::Revenue => "revenue",
            Var::Profit => "profit",
            Var::Export => "export",
            Var::Employees => "employees",
        }
    }

    /// The indicator of `indicator_values` that publishes the amount itself.
    pub fn amount_indicator(self) -> &'static str {
        match self {
            Var::Output => "output_ytd",
            Var::ValueAdded => "va_ytd",
            Var::Revenue => "revenue_ytd",
            Var::Profit => "profit_ytd",
            Var::Export => "export_ytd",
            Var::Employees => "employees",
        }
    }

    /// Every indicator of `indicator_values` derived from this variable (amount, growth, share):
    /// a cell sensitive on the variable hides all of them.
    pub fn indicators(self) -> &'static [&'static str] {
        match self {
            Var::Output => &["output_ytd", "output_growth"],
            Var::ValueAdded => &["va_ytd", "va_growth", "va_share"],
            Var::Revenue => &["revenue_ytd", "revenue_growth"],
            Var::Profit => &["profit_ytd", "profit_growth", "profit_change"],
            Var::Export => &["export_ytd", "export_growth"],
            Var::Employees => &["employees"],
        }
    }

    /// The variable an indicator of `indicator_values` derives from (counts derive from none).
    pub fn of_indicator(indicator: &str) -> Option<Var> {
        VARS.into_iter().find(|v| v.indicators().contains(&indicator))
    }

    /// Whether every enterprise's value is ≥ 0 (profits are not): the intruder may use it.
    pub fn non_negative(self) -> bool {
        self != Var::Profit
    }

    fn index(self) -> usize {
        VARS.iter().position(|v| *v == self).expect("listed")
    }
}

/// One accepted JN101 row, as disclosure control needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Enterprise {
    pub region_code: String,
    pub credit_code: String,
    pub section: Option<String>,
    pub division: Option<String>,
    /// Reference chains the enterprise belongs to (`chain_members`).
    pub chains: Vec<String>,
    /// Values in the order of [`VARS`] (万元; employees in persons).
    pub values: [f64; 6],
}

impl Enterprise {
    pub fn value(&self, var: Var) -> f64 {
        self.values[var.index()]
    }

    /// The breakdowns the enterprise counts in, within its county (and the city).
    pub fn breakdowns(&self) -> Vec<String> {
        let mut out = vec!["_T".to_string()];
        if let Some(s) = &self.section {
            out.push(format!("section:{s}"));
        }
        if let Some(d) = &self.division {
            out.push(format!("division:{d}"));
        }
        for c in &self.chains {
            out.push(format!("chain:{c}"));
        }
        if !self.chains.is_empty() {
            out.push("chain:_ALL".to_string());
        }
        out
    }
}

/// Reads the period's accepted JN101 rows and the chain membership from the run's session (the
/// same tables the models read).
pub async fn load_enterprises(ctx: &SessionContext) -> Result<Vec<Enterprise>> {
    let rows = collect(
        ctx,
        "SELECT region_code, credit_code, section, division, CAST(output_ytd AS DOUBLE), CAST(va_ytd AS DOUBLE), \
         CAST(revenue_ytd AS DOUBLE), CAST(profit_ytd AS DOUBLE), CAST(export_ytd AS DOUBLE), \
         CAST(employees AS DOUBLE) FROM jn101",
    )
    .await?;
    let members = collect(
        ctx,
        "SELECT upper(trim(m.credit_code)), m.chain_id FROM chain_members m JOIN chains c ON c.chain_id = m.chain_id",
    )
    .await?;
    let mut chains: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in &members {
        let (code, chain) = (text(b, 0)?, text(b, 1)?);
        for i in 0..b.num_rows() {
            if let (Some(c), Some(ch)) = (code[i].clone(), chain[i].clone()) {
                chains.entry(c).or_default().insert(ch);
            }
        }
    }
    let mut out = Vec::new();
    for b in &rows {
        let (region, code, section, division) = (text(b, 0)?, text(b, 1)?, text(b, 2)?, text(b, 3)?);
        let nums: Vec<_> = (4..10).map(|i| b.column(i).as_primitive::<Float64Type>().clone()).collect();
        for i in 0..b.num_rows() {
            let credit_code = code[i].clone().unwrap_or_default();
            let mut values = [0.0; 6];
            for (k, n) in nums.iter().enumerate() {
                values[k] = if n.is_null(i) { 0.0 } else { n.value(i) };
            }
            out.push(Enterprise {
                region_code: region[i].clone().unwrap_or_default(),
                chains: chains.get(&credit_code).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
                credit_code,
                section: section[i].clone(),
                division: division[i].clone(),
                values,
            });
        }
    }
    // The scan's row order varies between runs; sums in floating point follow it, so fix it
    // (byte-identical reports for the same inputs).
    out.sort_by(|a, b| (&a.region_code, &a.credit_code).cmp(&(&b.region_code, &b.credit_code)));
    Ok(out)
}

async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<arrow::record_batch::RecordBatch>> {
    ctx.sql(sql)
        .await
        .with_context(|| format!("disclosure control cannot read the enterprise rows: {sql}"))?
        .collect()
        .await
        .context("disclosure control cannot read the enterprise rows")
}

fn text(b: &arrow::record_batch::RecordBatch, i: usize) -> Result<Vec<Option<String>>> {
    let c = arrow::compute::cast(b.column(i), &DataType::Utf8)?;
    let s = c.as_string::<i32>();
    Ok((0..s.len()).map(|r| (!s.is_null(r)).then(|| s.value(r).to_string())).collect())
}

/// The contributions of the enterprises of one cell.
#[derive(Debug, Clone, Default)]
pub struct CellStat {
    pub enterprises: u64,
    /// Per variable (order of [`VARS`]): the cell's value (signed sum).
    pub totals: [f64; 6],
    /// Per variable: absolute contributions, largest first.
    pub contributions: [Vec<f64>; 6],
}

impl CellStat {
    pub fn total(&self, var: Var) -> f64 {
        self.totals[var.index()]
    }
}

/// Every cell of the county and city tables with its contributions.
pub fn cell_stats(rows: &[Enterprise]) -> BTreeMap<Cell, CellStat> {
    // Each cell's statistics in a vector, found by region then breakdown with borrowed keys: a
    // national table is 500,000 enterprises of ~10 cells each, and a key of two new strings per
    // step (to search a map of cells) was most of the time. Each cell still adds its enterprises
    // in row order, so its sums are the same to the last bit.
    let mut index: rustc_hash::FxHashMap<&str, rustc_hash::FxHashMap<String, usize>> = Default::default();
    let mut stats: Vec<(Cell, CellStat)> = Vec::new();
    for e in rows {
        for b in e.breakdowns() {
            for region in [e.region_code.as_str(), CITY_CODE] {
                let cells = index.entry(region).or_default();
                let i = match cells.get(b.as_str()) {
                    Some(i) => *i,
                    None => {
                        stats.push(((region.to_string(), b.clone()), CellStat::default()));
                        cells.insert(b.clone(), stats.len() - 1);
                        stats.len() - 1
                    }
                };
                let s = &mut stats[i].1;
                s.enterprises += 1;
                for v in VARS {
                    s.totals[v.index()] += e.value(v);
                    s.contributions[v.index()].push(e.value(v).abs());
                }
            }
        }
    }
    // 30 M contributions at national scale, sorted cell by cell on every core.
    stats.par_iter_mut().for_each(|(_, s)| {
        for c in &mut s.contributions {
            c.sort_by(|a, b| b.total_cmp(a));
        }
    });
    stats.into_iter().collect()
}

/// Why a cell is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Fewer than `min_enterprises` enterprises.
    TooFew,
    /// The `dominance_n` largest enterprises hold more than `dominance_share` percent.
    Dominated,
    /// The p% rule: the others' total would let the second largest estimate the largest within p%.
    PPercent,
    /// Hidden to protect another hidden cell (secondary suppression).
    Secondary,
    /// A republished figure that moved by the corrections of too few (or dominant) enterprises
    /// since its previous public version: showing it again would reveal them.
    Revision,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::TooFew => "frequency",
            Reason::Dominated => "dominance",
            Reason::PPercent => "p_percent",
            Reason::Secondary => "secondary",
            Reason::Revision => "revision",
        }
    }
}

/// A primary-sensitive cell: why, and the protection requirement: how far (in the variable's
/// unit) the intruder's interval must reach on each side of the true value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sensitivity {
    pub reason: Reason,
    pub requirement: f64,
}

/// Applies the frequency, dominance (n, k) and p% rules to one cell on one variable. Absolute
/// contributions are used, so negative profits count by their size.
pub fn assess(stat: &CellStat, var: Var, cfg: &Config) -> Option<Sensitivity> {
    let x = &stat.contributions[var.index()];
    let total: f64 = x.iter().sum();
    let mut found: Option<Sensitivity> = None;
    let mut note = |reason: Reason, requirement: f64| {
        let requirement = requirement.max(0.0);
        if found.is_none_or(|f| requirement > f.requirement) {
            found = Some(Sensitivity { reason, requirement });
        }
    };
    if stat.enterprises < cfg.min_enterprises {
        note(Reason::TooFew, cfg.frequency_margin / 100.0 * total);
    }
    if total > 0.0 {
        let top: f64 = x.iter().take(cfg.dominance_n as usize).sum();
        if top > cfg.dominance_share / 100.0 * total {
            // The total must look at least top × 100/k for the cell to pass the rule.
            note(Reason::Dominated, top * 100.0 / cfg.dominance_share - total);
        }
        if cfg.p_percent > 0.0 {
            let x1 = x.first().copied().unwrap_or(0.0);
            let x2 = x.get(1).copied().unwrap_or(0.0);
            let rest = total - x1 - x2;
            if rest < cfg.p_percent / 100.0 * x1 {
                note(Reason::PPercent, cfg.p_percent / 100.0 * x1 - rest);
            }
        }
    }
    found
}

/// The primary-sensitive cells of every variable. `exempt` cells (the city total, by policy)
/// are never suppressed.
pub fn primary(
    stats: &BTreeMap<Cell, CellStat>,
    cfg: &Config,
    exempt: &BTreeSet<Cell>,
) -> BTreeMap<Var, BTreeMap<Cell, Sensitivity>> {
    let mut out: BTreeMap<Var, BTreeMap<Cell, Sensitivity>> = BTreeMap::new();
    for v in VARS {
        let m = out.entry(v).or_default();
        for (cell, s) in stats {
            if exempt.contains(cell) {
                continue;
            }
            if let Some(sens) = assess(s, v, cfg) {
                m.insert(cell.clone(), sens);
            }
        }
    }
    out
}

/// The enterprise rows as a table (the internal basis of a public version, see
/// `super::BASIS_TABLE`). Chains are joined with `,`.
pub fn to_batch(period: &str, rows: &[Enterprise]) -> Result<arrow::record_batch::RecordBatch> {
    use arrow::array::{ArrayRef, Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;
    let text = |f: &dyn Fn(&Enterprise) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let mut fields = vec![
        Field::new("period", DataType::Utf8, false),
        Field::new("region_code", DataType::Utf8, false),
        Field::new("credit_code", DataType::Utf8, false),
        Field::new("section", DataType::Utf8, true),
        Field::new("division", DataType::Utf8, true),
        Field::new("chains", DataType::Utf8, false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        text(&|_| Some(period.to_string())),
        text(&|e| Some(e.region_code.clone())),
        text(&|e| Some(e.credit_code.clone())),
        text(&|e| e.section.clone()),
        text(&|e| e.division.clone()),
        text(&|e| Some(e.chains.join(","))),
    ];
    for v in VARS {
        fields.push(Field::new(v.code(), DataType::Float64, false));
        cols.push(Arc::new(rows.iter().map(|e| e.value(v)).collect::<Float64Array>()));
    }
    Ok(arrow::record_batch::RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// Reads back [`to_batch`].
pub fn from_batches(batches: &[arrow::record_batch::RecordBatch]) -> Result<Vec<Enterprise>> {
    let mut out = Vec::new();
    for b in batches {
        let col = |n: &str| b.column_by_name(n).with_context(|| format!("disclosure basis lacks `{n}`"));
        let t = |n: &str| -> Result<Vec<Option<String>>> {
            let c = arrow::compute::cast(col(n)?, &DataType::Utf8)?;
            let s = c.as_string::<i32>();
            Ok((0..s.len()).map(|r| (!s.is_null(r)).then(|| s.value(r).to_string())).collect())
        };
        let (region, code, section, division, chains) =
            (t("region_code")?, t("credit_code")?, t("section")?, t("division")?, t("chains")?);
        let nums: Vec<_> = VARS
            .iter()
            .map(|v| {
                Ok(arrow::compute::cast(col(v.code())?, &DataType::Float64)?.as_primitive::<Float64Type>().clone())
            })
            .collect::<Result<_>>()?;
        for i in 0..b.num_rows() {
            let mut values = [0.0; 6];
            for (k, n) in nums.iter().enumerate() {
                values[k] = if n.is_null(i) { 0.0 } else { n.value(i) };
            }
            out.push(Enterprise {
                region_code: region[i].clone().unwrap_or_default(),
                credit_code: code[i].clone().unwrap_or_default(),
                section: section[i].clone(),
                division: division[i].clone(),
                chains: chains[i]
                    .clone()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                values,
            });
        }
    }
    Ok(out)
}

/// What changed between the public version `old` and `new`, as signed contributions per
/// enterprise: an enterprise present in both with the same cells gives `new − old`; otherwise its
/// new row counts positively and its old row negatively. Unchanged enterprises are left out.
pub fn changes(old: &[Enterprise], new: &[Enterprise]) -> Vec<Enterprise> {
    let key = |e: &Enterprise| (e.region_code.clone(), e.credit_code.clone());
    let old_by: BTreeMap<_, &Enterprise> = old.iter().map(|e| (key(e), e)).collect();
    let new_by: BTreeMap<_, &Enterprise> = new.iter().map(|e| (key(e), e)).collect();
    let mut out = Vec::new();
    for (k, n) in &new_by {
        match old_by.get(k) {
            Some(o) if o.breakdowns() == n.breakdowns() => {
                if o.values != n.values {
                    let mut d = (*n).clone();
                    for i in 0..6 {
                        d.values[i] = n.values[i] - o.values[i];
                    }
                    out.push(d);
                }
            }
            Some(o) => {
                out.push((*n).clone());
                let mut neg = (*o).clone();
                neg.values = o.values.map(|v| -v);
                out.push(neg);
            }
            None => out.push((*n).clone()),
        }
    }
    for (k, o) in &old_by {
        if !new_by.contains_key(k) {
            let mut neg = (*o).clone();
            neg.values = o.values.map(|v| -v);
            out.push(neg);
        }
    }
    out
}
