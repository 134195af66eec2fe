//! The intruder audit: what could a reader of every public table of the period work out about a
//! hidden figure? For each variable, the figures the public tables show (amounts, and shares of a
//! published total) are constants; the hidden cells are unknowns tied by the additive relations
//! ([`super::secondary::structure`]) and, where it holds, by non-negativity. Two linear programs
//! per sensitive hidden cell (minimise, maximise; [`super::lp`], a dense simplex) give the
//! interval it could lie in. A sensitive cell whose interval does not reach its protection
//! requirement on both sides of its true value is disclosed: the public write is refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use super::lp::{Program, Row};
use super::rules::{Cell, Var};
use super::secondary::{Group, tolerance};
use super::universe::Universe;
use crate::bulletin::values::{number_cell, text_cell};
use crate::reference::CITY_CODE;

/// What a reader sees of one variable.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// Cells whose value some public table shows.
    pub known: BTreeMap<Cell, f64>,
    /// `(cell, total, percent)`: a published share `cell = percent / 100 × total`.
    pub shares: Vec<(Cell, Cell, f64)>,
}

/// The interval a hidden cell could lie in, as the intruder computes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub cell: Cell,
    pub var: Var,
    /// The true value (from the enterprise rows).
    pub value: f64,
    /// The protection requirement (sensitive cells only).
    pub requirement: Option<f64>,
    pub lower: f64,
    pub upper: f64,
}

impl Interval {
    /// The interval reaches the requirement on both sides of the true value.
    pub fn sufficient(&self) -> bool {
        match self.requirement {
            None => true,
            Some(r) => {
                let tol = tolerance(self.value);
                self.upper - self.value >= r - tol && self.value - self.lower >= r - tol
            }
        }
    }

    /// How much further the cell must be able to move on its narrower side (0 when sufficient):
    /// at least the least movement of a figure ([`super::optimise::min_movement`]) when it is
    /// not sufficient.
    pub fn shortfall(&self) -> f64 {
        if self.sufficient() {
            return 0.0;
        }
        let moves = (self.upper - self.value).min(self.value - self.lower).max(0.0);
        (self.requirement.unwrap_or(0.0) - moves).max(super::optimise::min_movement(self.value))
    }
}

/// Reads what the public tables show, per variable. `tables` are (model name, batches) after
/// disclosure control; tables it does not know carry no JN101 figure (models refuses such a
/// public model at load time).
pub fn view_of(tables: &[(&str, &[RecordBatch])]) -> BTreeMap<Var, View> {
    let mut out: BTreeMap<Var, View> = BTreeMap::new();
    let city_total = || (CITY_CODE.to_string(), "_T".to_string());
    for (name, batches) in tables {
        for b in batches.iter() {
            let col = |n: &str| b.column_by_name(n);
            let n = b.num_rows();
            match *name {
                "indicator_values" => {
                    let (Some(r), Some(bd), Some(ind), Some(val)) =
                        (col("region_code"), col("breakdown"), col("indicator"), col("value"))
                    else {
                        continue;
                    };
                    // Read in place: a national period has 2 M rows, read again every round of
                    // the audit; only the cells a reader learns are copied.
                    let (r, bd, ind) = (super::Texts::of(r), super::Texts::of(bd), super::Texts::of(ind));
                    let val = super::numbers(val);
                    for (i, v) in val.iter().enumerate() {
                        let (Some(ind), Some(v)) = (ind.get(i), *v) else { continue };
                        let Some(var) = Var::of_indicator(ind) else { continue };
                        let view = out.entry(var).or_default();
                        let (amount, share) = (ind == var.amount_indicator(), ind == "va_share");
                        if !amount && !share {
                            continue;
                        }
                        let cell =
                            (r.get(i).unwrap_or_default().to_string(), bd.get(i).unwrap_or_default().to_string());
                        if amount {
                            view.known.insert(cell, v);
                        } else {
                            let total = (cell.0.clone(), "_T".to_string());
                            view.shares.push((cell, total, v));
                        }
                    }
                }
                "county_ranking" | "chain_summary" | "division_ranking" => {
                    let key = match *name {
                        "county_ranking" => "region_code",
                        "chain_summary" => "chain_id",
                        _ => "division",
                    };
                    let Some(k) = col(key) else { continue };
                    for i in 0..n {
                        let k = text_cell(k, i).unwrap_or_default();
                        let cell = match *name {
                            "county_ranking" => (k, "_T".to_string()),
                            "chain_summary" => (CITY_CODE.to_string(), format!("chain:{k}")),
                            _ => (CITY_CODE.to_string(), format!("division:{k}")),
                        };
                        for (column, var) in [
                            ("va_ytd", Var::ValueAdded),
                            ("output_ytd", Var::Output),
                            ("revenue_ytd", Var::Revenue),
                            ("profit_ytd", Var::Profit),
                            ("export_ytd", Var::Export),
                            ("employees", Var::Employees),
                        ] {
                            if let Some(v) = col(column).and_then(|c| number_cell(c, i)) {
                                out.entry(var).or_default().known.insert(cell.clone(), v);
                            }
                        }
                        for share in ["va_share", "va_share_city"] {
                            if let Some(v) = col(share).and_then(|c| number_cell(c, i)) {
                                out.entry(Var::ValueAdded).or_default().shares.push((cell.clone(), city_total(), v));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Resolves shares whose one side is known (to a fixed point); returns those left with both
/// sides unknown.
pub fn resolve_shares(known: &mut BTreeMap<Cell, f64>, shares: &[(Cell, Cell, f64)]) -> Vec<(Cell, Cell, f64)> {
    loop {
        let mut changed = false;
        for (c, t, pct) in shares {
            match (known.get(c).copied(), known.get(t).copied()) {
                (None, Some(tv)) => {
                    known.insert(c.clone(), pct / 100.0 * tv);
                    changed = true;
                }
                (Some(cv), None) if *pct != 0.0 => {
                    known.insert(t.clone(), cv * 100.0 / pct);
                    changed = true;
                }
                _ => {}
            }
        }
        if !changed {
            break;
        }
    }
    shares.iter().filter(|(c, t, _)| !known.contains_key(c) && !known.contains_key(t)).cloned().collect()
}

/// The sensitive cells of a connected part whose exact bounds are found from one copy of its
/// feasible basis, one after another (see [`audit`]): long enough that each bound still starts
/// a few pivots from the previous one's optimum, short enough that a part with thousands of
/// sensitive cells is shared among the cores.
const EXACT_RUN: usize = 256;

/// How much of each interval the audit computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The exact interval: two linear programs to optimality per sensitive hidden cell. What the
    /// internal report shows.
    Exact,
    /// Only the verdict ([`Interval::sufficient`]): a side is settled as soon as some feasible
    /// point reaches the requirement (a point found for another cell, or by a sweep over many,
    /// often already does), so most programs stop early or are never solved. The bounds of a
    /// sufficient side are then only what was witnessed (the true interval is at least that
    /// wide); the side of a disclosed cell is exact. For the rounds of "audit, then hide more",
    /// whose intervals are not reported.
    Verdict,
}

/// The intervals of the connected parts one audit solved, by their content, for the next audit
/// of the same variable: a round of "audit, then hide more" changes a few blocks of a large
/// table, and a part whose unknowns, relations, true values, requirements and depth are all
/// the same has the same intervals (the linear programs are deterministic), so only the parts
/// the round's changes touched are solved again. Keeps the parts of the latest audit only, so
/// it stays the size of the table.
///
/// An audit whose inputs are all those of the previous one (a variable a round did not change:
/// same blocks, same view, same depth) returns the previous intervals without being set up; the
/// inputs are compared by a SHA-256 of all of them, so nothing a caller passes is assumed fixed.
#[derive(Debug, Default)]
pub struct Memo {
    parts: Mutex<HashMap<Vec<u8>, Vec<Interval>>>,
    /// The latest audit: a digest of its inputs, and its intervals.
    last: Mutex<Option<([u8; 32], Vec<Interval>)>>,
    /// Parts solved and parts taken from the previous audit, and whole audits repeated, over
    /// the memo's life.
    pub solved: AtomicUsize,
    pub reused: AtomicUsize,
    pub repeated: AtomicUsize,
}

/// Everything an audit's intervals depend on (see [`audit`]).
#[derive(Clone, Copy)]
struct Inputs<'a> {
    var: Var,
    universe: &'a Universe,
    truth: &'a BTreeMap<Cell, f64>,
    view: &'a View,
    groups: &'a [Group],
    requirements: &'a BTreeMap<Cell, f64>,
    depth: Depth,
}

/// A digest of all the inputs.
fn inputs_digest(inputs: Inputs) -> [u8; 32] {
    use sha2::Digest;
    let Inputs { var, universe, truth, view, groups, requirements, depth } = inputs;
    let mut h = sha2::Sha256::new();
    let text = |h: &mut sha2::Sha256, t: &str| {
        h.update((t.len() as u64).to_le_bytes());
        h.update(t.as_bytes());
    };
    let cell = |h: &mut sha2::Sha256, c: &Cell| {
        text(h, &c.0);
        text(h, &c.1);
    };
    let number = |h: &mut sha2::Sha256, v: f64| h.update(v.to_bits().to_le_bytes());
    text(&mut h, var.code());
    h.update([depth as u8]);
    h.update((universe.cells.len() as u64).to_le_bytes());
    for c in &universe.cells {
        cell(&mut h, c);
        h.update(universe.block(c).to_le_bytes());
    }
    for map in [truth, &view.known, requirements] {
        h.update((map.len() as u64).to_le_bytes());
        for (c, v) in map {
            cell(&mut h, c);
            number(&mut h, *v);
        }
    }
    h.update((view.shares.len() as u64).to_le_bytes());
    for (c, total, pct) in &view.shares {
        cell(&mut h, c);
        cell(&mut h, total);
        number(&mut h, *pct);
    }
    h.update((groups.len() as u64).to_le_bytes());
    for g in groups {
        cell(&mut h, &g.total);
        h.update((g.members.len() as u64).to_le_bytes());
        for m in &g.members {
            cell(&mut h, m);
        }
    }
    h.finalize().into()
}

/// What a connected part's intervals depend on, as bytes: the depth, the sign constraint, each
/// unknown (cell, true value, requirement) in order, and the relations over them.
fn part_key(depth: Depth, non_negative: bool, cells: &[(&Cell, f64, Option<f64>)], rows: &[Row]) -> Vec<u8> {
    let mut key = Vec::with_capacity(cells.len() * 40 + rows.len() * 48);
    key.push(depth as u8);
    key.push(u8::from(non_negative));
    key.extend_from_slice(&(cells.len() as u64).to_le_bytes());
    for ((region, breakdown), value, requirement) in cells {
        for text in [region, breakdown] {
            key.extend_from_slice(&(text.len() as u32).to_le_bytes());
            key.extend_from_slice(text.as_bytes());
        }
        key.extend_from_slice(&value.to_bits().to_le_bytes());
        key.extend_from_slice(&requirement.map_or(u64::MAX, f64::to_bits).to_le_bytes());
    }
    for (terms, rhs) in rows {
        key.extend_from_slice(&(terms.len() as u32).to_le_bytes());
        for (i, a) in terms {
            key.extend_from_slice(&(*i as u32).to_le_bytes());
            key.extend_from_slice(&a.to_bits().to_le_bytes());
        }
        key.extend_from_slice(&rhs.to_bits().to_le_bytes());
    }
    key
}

/// The intervals of every hidden cell of `universe` (cells that exist: the reader sees their
/// enterprise counts) for one variable. `truth` gives true values, `requirements` the
/// protection requirement of the sensitive cells. A table in several blocks is audited one
/// block at a time, the reader knowing every cell outside it at its true value (see
/// [`super::universe`]). A connected part unchanged since the previous audit with `memo` takes
/// its intervals from it (see [`Memo`]; `&Memo::default()` for an audit on its own): the result
/// is the same.
#[allow(clippy::too_many_arguments)]
pub fn audit(
    var: Var,
    universe: &Universe,
    truth: &BTreeMap<Cell, f64>,
    view: &View,
    groups: &[Group],
    requirements: &BTreeMap<Cell, f64>,
    depth: Depth,
    memo: &Memo,
) -> Result<Vec<Interval>> {
    let inputs = Inputs { var, universe, truth, view, groups, requirements, depth };
    let digest = inputs_digest(inputs);
    if let Some((last, intervals)) = &*memo.last.lock().unwrap_or_else(|e| e.into_inner())
        && *last == digest
    {
        memo.repeated.fetch_add(1, Ordering::Relaxed);
        return Ok(intervals.clone());
    }
    let intervals = audit_parts(inputs, memo)?;
    *memo.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((digest, intervals.clone()));
    Ok(intervals)
}

/// [`audit`], part by part.
fn audit_parts(inputs: Inputs, memo: &Memo) -> Result<Vec<Interval>> {
    let Inputs { var, universe, truth, view, groups, requirements, depth } = inputs;
    let mut previous = std::mem::take(&mut *memo.parts.lock().unwrap_or_else(|e| e.into_inner()));
    let mut kept: HashMap<Vec<u8>, Vec<Interval>> = HashMap::new();
    let mut known = view.known.clone();
    let free_shares = resolve_shares(&mut known, &view.shares);
    // A sensitive cell some table shows (itself, or through a share) is known exactly.
    let mut out: Vec<Interval> = requirements
        .iter()
        .filter_map(|(c, r)| {
            known.get(c).map(|v| Interval {
                cell: c.clone(),
                var,
                value: truth.get(c).copied().unwrap_or(*v),
                requirement: Some(*r),
                lower: *v,
                upper: *v,
            })
        })
        .collect();
    let unknown: Vec<&Cell> = universe.cells.iter().filter(|c| !known.contains_key(*c)).collect();
    if unknown.is_empty() {
        return Ok(out);
    }
    let index: BTreeMap<&Cell, usize> = unknown.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    // Looked up once: a relation across blocks reads its other blocks' unknowns once per part.
    let truth_of: Vec<f64> = unknown.iter().map(|c| truth.get(*c).copied().unwrap_or(0.0)).collect();
    // Each unknown's requirement (sensitive cells only), looked up once too.
    let required: Vec<Option<f64>> = unknown.iter().map(|c| requirements.get(*c).copied()).collect();
    // Relations that involve an unknown cell: Σ a_i x_i = rhs.
    let mut relations: Vec<(Vec<(usize, f64)>, f64)> = Vec::new();
    for g in groups {
        let mut terms = Vec::new();
        let mut rhs = 0.0;
        for (c, sign) in std::iter::once((&g.total, -1.0)).chain(g.members.iter().map(|m| (m, 1.0))) {
            match index.get(c) {
                Some(i) => terms.push((*i, sign)),
                None => rhs -= sign * known.get(c).copied().unwrap_or(0.0),
            }
        }
        if !terms.is_empty() {
            relations.push((terms, rhs));
        }
    }
    for (c, t, pct) in &free_shares {
        if let (Some(i), Some(j)) = (index.get(c), index.get(t)) {
            relations.push((vec![(*i, 1.0), (*j, -pct / 100.0)], 0.0));
        }
    }
    // Connected components, within a block: each is solved on its own.
    let block: Vec<u32> = unknown.iter().map(|c| universe.block(c)).collect();
    let mut parent: Vec<usize> = (0..unknown.len()).collect();
    // With path halving: the links only ever point nearer the root, so the roots (and hence
    // the parts and their order) are those of the plain walk, but a long relation's chain of
    // links does not make every later walk along it quadratic.
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            p[r] = p[p[r]];
            r = p[r];
        }
        r
    }
    for (terms, _) in &relations {
        // Each term joins the previous term of its block (a relation across blocks ties the
        // cells of each block among themselves only).
        let mut last: BTreeMap<u32, usize> = BTreeMap::new();
        for (i, _) in terms {
            if let Some(prev) = last.insert(block[*i], *i) {
                let (a, b) = (find(&mut parent, prev), find(&mut parent, *i));
                parent[a] = b;
            }
        }
    }
    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut root = vec![0; unknown.len()];
    for (i, r) in root.iter_mut().enumerate() {
        *r = find(&mut parent, i);
        components.entry(*r).or_default().push(i);
    }
    // Each component's rows: the relations over its cells in order, the unknown cells of other
    // blocks moved to the right-hand side at their true values.
    let mut rows_of: BTreeMap<usize, Vec<Row>> = BTreeMap::new();
    for (terms, rhs) in &relations {
        let mut roots: Vec<usize> = terms.iter().map(|(i, _)| root[*i]).collect();
        roots.dedup();
        if roots.len() == 1 {
            rows_of.entry(roots[0]).or_default().push((terms.clone(), *rhs));
            continue;
        }
        roots.sort_unstable();
        roots.dedup();
        for r in roots {
            let mut own = Vec::new();
            let mut rhs = *rhs;
            for (i, a) in terms {
                if root[*i] == r {
                    own.push((*i, *a));
                } else {
                    rhs -= a * truth_of[*i];
                }
            }
            rows_of.entry(r).or_default().push((own, rhs));
        }
    }
    // Each part that holds a sensitive cell: its rows, and its intervals if the previous audit
    // solved the same part.
    /// A part's key, its cells (by number among the unknowns), rows and previous intervals.
    type Part<'a> = (Vec<u8>, &'a [usize], Vec<Row>, Option<Vec<Interval>>);
    let mut parts: Vec<Part> = Vec::new();
    for (r, members) in &components {
        // Only sensitive cells need their interval.
        if !members.iter().any(|i| required[*i].is_some()) {
            continue;
        }
        let local: BTreeMap<usize, usize> = members.iter().enumerate().map(|(k, i)| (*i, k)).collect();
        let rows: Vec<Row> = rows_of
            .remove(r)
            .unwrap_or_default()
            .into_iter()
            .map(|(t, rhs)| (t.iter().map(|(i, a)| (local[i], *a)).collect(), rhs))
            .collect();
        let cells: Vec<(&Cell, f64, Option<f64>)> =
            members.iter().map(|i| (unknown[*i], truth_of[*i], required[*i])).collect();
        let key = part_key(depth, var.non_negative(), &cells, &rows);
        let before = previous.remove(&key);
        match before {
            Some(_) => memo.reused.fetch_add(1, Ordering::Relaxed),
            None => memo.solved.fetch_add(1, Ordering::Relaxed),
        };
        parts.push((key, members.as_slice(), rows, before));
    }
    // The parts are independent: solved in parallel (a round often changes one variable only),
    // gathered in their order.
    let solve = |members: &[usize], rows: &[Row]| -> Result<Vec<Interval>> {
        let scale: f64 = rows.iter().map(|r| r.1.abs()).fold(0.0, f64::max);
        let mut program =
            Program::new(members.len(), rows, var.non_negative(), 1e-6 * rows.len() as f64 + 1e-9 * scale)
                .map_err(|e| anyhow::anyhow!("intruder audit of {}: {e}", var.code()))?;
        if depth == Depth::Exact {
            // Two programs to optimality per sensitive cell, each from the basis the previous
            // one ended on; a large part's cells in runs of a fixed length, each run from a copy
            // of the feasible basis, in parallel (the length, not the number of threads, decides
            // where a run starts, so the bounds are the same with any number of threads).
            let sensitive: Vec<(usize, usize, f64)> =
                members.iter().enumerate().filter_map(|(k, &i)| Some((k, i, required[i]?))).collect();
            let runs: Vec<Result<Vec<Interval>>> = sensitive
                .par_chunks(EXACT_RUN)
                .map(|run| {
                    let mut program = program.clone();
                    run.iter()
                        .map(|&(k, i, req)| {
                            let (lower, upper) = (program.bound(k, false)?, program.bound(k, true)?);
                            let (cell, value) = (unknown[i].clone(), truth_of[i]);
                            Ok(Interval { cell, var, value, requirement: Some(req), lower, upper })
                        })
                        .collect()
                })
                .collect();
            let mut out = Vec::with_capacity(sensitive.len());
            for run in runs {
                out.extend(run?);
            }
            return Ok(out);
        }
        // Verdict, from here on. The largest and smallest value each member has taken at a
        // feasible point.
        let mut seen_hi = vec![f64::NEG_INFINITY; members.len()];
        let mut seen_lo = vec![f64::INFINITY; members.len()];
        // The goals of `Interval::sufficient`: the value member `i` must reach on a side.
        let goal = |i: usize, req: f64, maximise: bool| {
            let value = truth_of[i];
            value + if maximise { 1.0 } else { -1.0 } * (req - tolerance(value))
        };
        let record = |hi: &mut [f64], lo: &mut [f64], point: &[f64]| {
            for (j, x) in point.iter().enumerate() {
                hi[j] = hi[j].max(*x);
                lo[j] = lo[j].min(*x);
            }
        };
        // Sweeps first: programs that push the goals of a side at once, where a part with many
        // sensitive cells took a program for each goal no earlier point had reached; what the
        // sweeps leave open gets its own below.
        // A goal: (member, the value it must reach).
        for maximise in [false, true] {
            let sign = if maximise { 1.0 } else { -1.0 };
            let mut open: Vec<(usize, f64)> =
                members.iter().enumerate().filter_map(|(k, &i)| Some((k, goal(i, required[i]?, maximise)))).collect();
            program.sweep_while(
                maximise,
                &mut open,
                |g| g.0,
                |point, open| {
                    record(&mut seen_hi, &mut seen_lo, &point);
                    let at = if maximise { &seen_hi } else { &seen_lo };
                    open.retain(|(k, goal)| sign * at[*k] < sign * goal);
                },
            )?;
        }
        // Verdict: each side settled by a point already seen, or by a program that stops at
        // the goal.
        let mut out = Vec::new();
        for (k, &i) in members.iter().enumerate() {
            let cell = unknown[i];
            let Some(req) = required[i] else { continue };
            let value = truth_of[i];
            let mut side = |maximise: bool| -> Result<f64> {
                let goal = goal(i, req, maximise);
                let sign = if maximise { 1.0 } else { -1.0 };
                let seen = if maximise { seen_hi[k] } else { seen_lo[k] };
                if sign * seen >= sign * goal {
                    return Ok(seen);
                }
                let (reached, point) = program.reaches(k, maximise, goal)?;
                record(&mut seen_hi, &mut seen_lo, &point);
                Ok(match (reached, sign * point[k] >= sign * goal) {
                    // Unbounded on this side.
                    (true, false) => sign * f64::INFINITY,
                    // Stopped at or beyond the goal, or the exact optimum short of it.
                    _ => point[k],
                })
            };
            let (lower, upper) = (side(false)?, side(true)?);
            out.push(Interval { cell: cell.clone(), var, value, requirement: Some(req), lower, upper });
        }
        Ok(out)
    };
    let solved: Vec<Result<Vec<Interval>>> = parts
        .par_iter_mut()
        .map(|(_, members, rows, before)| match before.take() {
            Some(intervals) => Ok(intervals),
            None => solve(members, rows),
        })
        .collect();
    for ((key, ..), intervals) in parts.into_iter().zip(solved) {
        let intervals = intervals?;
        out.extend(intervals.iter().cloned());
        kept.insert(key, intervals);
    }
    *memo.parts.lock().unwrap_or_else(|e| e.into_inner()) = kept;
    Ok(out)
}
