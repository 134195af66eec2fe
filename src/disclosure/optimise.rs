//! Least value lost: reduces the complementary cells that the greedy search
//! ([`super::secondary`]) and the audit's widening chose, once the intruder audit accepts them.
//!
//! The greedy search may hide a complement early that later ones make unnecessary, and nothing
//! there ever publishes one again. Here, per variable:
//!
//! 1. **Release pass** (always): the complements are tried in descending order of value lost
//!    (|value|, ties by cell key); each is tentatively published and the intruder's intervals
//!    of the sensitive cells it could affect (its connected part of the hidden cells, linked by
//!    the relations) are computed again; it stays published if every one is still wide enough.
//!    Hiding more only ever widens an interval, so one pass leaves an *irredundant* pattern: no
//!    remaining complement can be published without narrowing some sensitive cell too far.
//!    Each trial starts from the part's kept basis with the complement fixed (`Warm`), not
//!    from a program set up again.
//! 2. **Exact search** on each connected part whose candidate set is small enough
//!    (`optimal_search_candidates`, `optimal_search_budget` in `config/disclosure.toml`): a
//!    branch and bound over which cells to hide, bounded by the current pattern's cost, pruned by
//!    a cost lower bound and by monotonicity (if hiding every remaining candidate does not
//!    protect, no subset does), with the LP audit deciding feasibility. The candidates are every
//!    cell a cheaper pattern could use: those reachable from the part's sensitive cells through
//!    the relations, via hidden cells or publishable cells cheaper than the current pattern (a
//!    complement not linked to a sensitive cell through hidden cells cannot widen its interval).
//!    A part searched to the end is *proven least-cost* (least total value lost, then fewest
//!    cells), given the cells hidden outside it; a part too large, or whose search runs out of
//!    budget, keeps its irredundant pattern.
//!
//! "Protected" is the audit's test (the interval reaches the requirement on both sides of the
//! true value), and one more: the cell can move at all ([`min_movement`]), so that a zero value
//! with requirement 0 is not left to be worked out exactly (the greedy search ensures this by
//! never leaving a sensitive cell alone in a relation; a part whose greedy pattern does not is
//! kept as it is and reported as such).
//!
//! The reader is modelled as the audit sees the period ([`super::intruder`]): every cell not
//! hidden is known at its true value, except cells no public table shows (`unshown`), which stay
//! unknown, tied only by the relations and the shares between them. The full audit over the
//! public tables runs again on the result ([`super::protect_runs`]). Everything runs in a fixed
//! order over ordered maps, so the result does not depend on the run or the thread count.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use anyhow::Result;

use super::lp::{Program, Row};
use super::rules::Cell;
use super::secondary::{Group, tolerance};
use super::universe::Universe;

/// Marks of a search: an entry is marked when it holds the current stamp.
struct Stamps {
    cells: Vec<u32>,
    /// By relation: the stamp, and where the terms met start (a relation's terms in one block).
    relations: Vec<(u32, usize)>,
    stamp: u32,
}

/// One variable's table as the intruder sees it.
pub struct Table<'a> {
    /// True values of every cell.
    pub values: &'a BTreeMap<Cell, f64>,
    /// The additive relations the data satisfies.
    pub groups: &'a [Group],
    /// The sensitive cells and their protection requirements (always hidden).
    pub requirements: &'a BTreeMap<Cell, f64>,
    /// Cells no public table shows: unknown to the reader whatever is hidden.
    pub unshown: &'a BTreeSet<Cell>,
    /// Published shares between two unshown cells: `cell = percent / 100 × total`.
    pub shares: &'a [(Cell, Cell, f64)],
    /// Never hidden and known to the reader (by policy, or shown by the previous public version).
    pub fixed: &'a BTreeSet<Cell>,
    pub non_negative: bool,
    /// The table's blocks: each is reduced with the reader knowing every cell outside it.
    pub universe: &'a Universe,
}

/// Limits of the exact search (`config/disclosure.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Feasibility checks (one linear program each) one connected part's search may use.
    pub budget: usize,
    /// Parts with more candidate cells than this are not searched.
    pub max_candidates: usize,
}

/// What is known of a connected part's complements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimality {
    /// Least total value lost (then fewest cells), proven by the exact search.
    Proven,
    /// No complement can be published alone; a cheaper pattern was not ruled out.
    Irredundant,
    /// Kept as the greedy search chose it: the audit accepts it, but it leaves a sensitive cell
    /// of requirement 0 that cannot move at all ([`min_movement`]), which this module's check
    /// refuses, so nothing could be released.
    Greedy,
}

impl Optimality {
    pub fn code(self) -> &'static str {
        match self {
            Optimality::Proven => "proven",
            Optimality::Irredundant => "irredundant",
            Optimality::Greedy => "greedy",
        }
    }
}

/// A connected part of the hidden cells (linked by the relations) holding a sensitive cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its first cell by key, naming it.
    pub first: Cell,
    /// Hidden cells, of which sensitive, and complements.
    pub cells: usize,
    pub sensitive: usize,
    pub complements: usize,
    /// Σ |value| of its complements.
    pub value_lost: f64,
    pub optimality: Optimality,
}

/// The result for one variable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Σ |value| of the complements before, after the release pass, and at the end.
    pub greedy_value_lost: f64,
    pub released_value_lost: f64,
    pub value_lost: f64,
    pub components: Vec<Component>,
    /// Feasibility checks made (linear programs set up).
    pub checks: usize,
    /// Time the release pass and the exact search took (logged, for profiling at scale).
    pub release_seconds: f64,
    pub search_seconds: f64,
}

/// Reduces the complements of `hidden` (which must pass the audit) to an irredundant pattern,
/// least-cost where the exact search can prove it. The sensitive cells stay hidden.
pub fn optimise(t: &Table, hidden: &mut BTreeSet<Cell>, settings: Settings) -> Result<Outcome> {
    let mut s = Solver::new(t, hidden);
    let greedy_value_lost = s.value_lost();
    let order = s.descending(&(0..s.cells.len()).filter(|c| s.is_complement(*c)).collect::<Vec<_>>());
    let started = std::time::Instant::now();
    s.release(&order)?;
    let released_value_lost = s.value_lost();
    let release_seconds = started.elapsed().as_secs_f64();
    // Exact search until nothing changes; a change re-opens the parts whose search looked at a
    // changed cell (the others would search the same cells in the same state again).
    let mut settled: BTreeMap<Vec<usize>, (Optimality, Option<BTreeSet<usize>>)> = BTreeMap::new();
    loop {
        let mut changed: Option<BTreeSet<usize>> = None;
        for comp in s.components() {
            if settled.contains_key(&comp) {
                continue;
            }
            let (optimality, examined, moved) = s.search(&comp, settings)?;
            if !moved.is_empty() {
                changed = Some(moved);
                break;
            }
            settled.insert(comp, (optimality, examined));
        }
        let Some(moved) = changed else { break };
        settled.retain(|_, (_, examined)| examined.as_ref().is_some_and(|e| e.is_disjoint(&moved)));
    }
    let components = s
        .components()
        .into_iter()
        .map(|comp| {
            let complements: Vec<usize> = comp.iter().copied().filter(|c| s.is_complement(*c)).collect();
            Component {
                first: s.cells[comp[0]].clone(),
                cells: comp.len(),
                sensitive: comp.iter().filter(|c| s.requirement[**c].is_some()).count(),
                complements: complements.len(),
                value_lost: complements.iter().map(|c| s.cost[*c]).sum(),
                optimality: settled.get(&comp).map_or(Optimality::Irredundant, |(o, _)| *o),
            }
        })
        .collect();
    *hidden = s.cells.iter().enumerate().filter(|(i, _)| s.hidden[*i]).map(|(_, c)| c.clone()).collect();
    Ok(Outcome {
        greedy_value_lost,
        released_value_lost,
        value_lost: s.value_lost(),
        components,
        checks: s.checks,
        release_seconds,
        search_seconds: started.elapsed().as_secs_f64() - release_seconds,
    })
}

/// The table by cell number (cells in key order), and the current pattern.
struct Solver {
    cells: Vec<Cell>,
    value: Vec<f64>,
    cost: Vec<f64>,
    requirement: Vec<Option<f64>>,
    fixed: Vec<bool>,
    unshown: Vec<bool>,
    hidden: Vec<bool>,
    /// The block of each cell ([`super::universe`]): a part never spans two, and the cells of
    /// other blocks are known to the reader of a part.
    block: Vec<u32>,
    /// Relations `Σ a·x = 0` over cells, and the relations of each cell.
    relations: Vec<Vec<(usize, f64)>>,
    of: Vec<Vec<usize>>,
    /// Each relation's terms with those of one block together (in their order within it), and
    /// for each cell the range of its own block's terms in each of its relations: a cell's part
    /// never leaves its block, and a relation of a national table spans thousands of regions.
    by_block: Vec<Vec<(usize, f64)>>,
    of_block: Vec<Vec<(usize, std::ops::Range<usize>)>>,
    non_negative: bool,
    checks: usize,
    /// Feasible points of the current pattern, newest last.
    pool: Vec<Point>,
    /// The points the last feasibility check found.
    fresh: Vec<Point>,
    /// During the release pass: feasible bases of the current pattern, one per part tried.
    warm: Vec<Warm>,
    /// A program's memory reused for each trial's copy of a warm basis.
    spare: Option<Program>,
    /// How often each sensitive cell was the one that stopped a release: checked first next
    /// time, since a failing check ends at its first unreached goal.
    blocked: Vec<u32>,
    /// Scratch of [`Solver::component`], one stamp per cell and one per relation (a search marks
    /// the cells and relations it met with a new stamp instead of clearing vectors the size of
    /// the table each time).
    seen: std::cell::RefCell<Stamps>,
    /// Scratch of [`Solver::rows_over`]: each cell's place in the part (`usize::MAX` outside).
    place: Vec<usize>,
}

/// A feasible point: the values of the cells of the part it was found over, by cell (every other
/// cell at its true value). Kept sparse: a table has hundreds of thousands of cells, a part a few
/// thousand, and the pool is copied and combined at every trial of the release pass.
#[derive(Clone, Default)]
struct Point(Vec<(usize, f64)>);

/// The feasible points a check met (over its part, newest last), with the largest and smallest
/// value each cell took at them: a goal is reached at one of the points exactly when it is
/// reached at its cell's extremes, which spares a scan of every point for every goal (a quarter
/// of a national check's time).
struct Met {
    points: Vec<Vec<f64>>,
    hi: Vec<f64>,
    lo: Vec<f64>,
}

impl Met {
    fn new(cells: usize) -> Met {
        Met { points: Vec::new(), hi: vec![f64::NEG_INFINITY; cells], lo: vec![f64::INFINITY; cells] }
    }

    fn push(&mut self, x: Vec<f64>) {
        for ((hi, lo), v) in self.hi.iter_mut().zip(self.lo.iter_mut()).zip(&x) {
            *hi = hi.max(*v);
            *lo = lo.min(*v);
        }
        self.points.push(x);
    }

    /// Whether cell `at` reached one of `alternatives` (at least the goal, or with `false` at
    /// most) at one of the points.
    fn reach(&self, at: usize, alternatives: &[(bool, f64)]) -> bool {
        alternatives.iter().any(|(max, goal)| if *max { self.hi[at] >= *goal } else { self.lo[at] <= *goal })
    }
}

impl Point {
    fn at(&self, cell: usize, value: &[f64]) -> f64 {
        match self.0.binary_search_by_key(&cell, |(c, _)| *c) {
            Ok(i) => self.0[i].1,
            Err(_) => value[cell],
        }
    }

    /// Its values over `cells` (in key order), by a merge of the two ordered lists (what the
    /// tests compare points with).
    #[cfg(test)]
    fn over(&self, cells: &[usize], value: &[f64]) -> Vec<f64> {
        let mut entries = self.0.iter().peekable();
        cells
            .iter()
            .map(|&c| {
                while entries.next_if(|(d, _)| *d < c).is_some() {}
                match entries.peek() {
                    Some((d, x)) if *d == c => *x,
                    _ => value[c],
                }
            })
            .collect()
    }

    /// `mu·a + (1 − mu)·b` over the cells either moves (the others stay at their true values).
    fn combine(a: &Point, b: &Point, mu: f64, value: &[f64]) -> Point {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::with_capacity(a.0.len().max(b.0.len()));
        while i < a.0.len() || j < b.0.len() {
            let ca = a.0.get(i).map_or(usize::MAX, |e| e.0);
            let cb = b.0.get(j).map_or(usize::MAX, |e| e.0);
            let c = ca.min(cb);
            let x = if ca == c {
                i += 1;
                a.0[i - 1].1
            } else {
                value[c]
            };
            let y = if cb == c {
                j += 1;
                b.0[j - 1].1
            } else {
                value[c]
            };
            out.push((c, mu * x + (1.0 - mu) * y));
        }
        Point(out)
    }

    /// The point with `cell` at `v`.
    fn set(&mut self, cell: usize, v: f64) {
        match self.0.binary_search_by_key(&cell, |(c, _)| *c) {
            Ok(i) => self.0[i].1 = v,
            Err(i) => self.0.insert(i, (cell, v)),
        }
    }
}

/// Whether a value reaches one of `alternatives` (at least the goal, or with `false` at most).
fn reaches(at: f64, alternatives: &[(bool, f64)]) -> bool {
    alternatives.iter().any(|(max, goal)| if *max { at >= *goal } else { at <= *goal })
}

/// The largest and smallest value each cell of `comp` (a part, in key order) takes at the points
/// of `pool` (its true value, from `value`, at a point that does not move it): a goal is reached
/// at one of the points exactly when it is reached at its cell's extremes. `place` is scratch of
/// one entry per cell, `usize::MAX` on entry and on return.
fn extremes(pool: &[Point], comp: &[usize], value: &[f64], place: &mut [usize]) -> Met {
    let mut m = Met::new(comp.len());
    if pool.is_empty() {
        return m;
    }
    for (k, c) in comp.iter().enumerate() {
        place[*c] = k;
    }
    // How many points move each cell: the others hold it at its true value.
    let mut moved = vec![0usize; comp.len()];
    for x in pool {
        for &(c, v) in &x.0 {
            let k = place[c];
            if k != usize::MAX {
                moved[k] += 1;
                m.hi[k] = m.hi[k].max(v);
                m.lo[k] = m.lo[k].min(v);
            }
        }
    }
    for (k, c) in comp.iter().enumerate() {
        if moved[k] < pool.len() {
            m.hi[k] = m.hi[k].max(value[*c]);
            m.lo[k] = m.lo[k].min(value[*c]);
        }
        place[*c] = usize::MAX;
    }
    m
}

/// A feasible basis of the pattern in force over a connected part of the unknown cells (and
/// the cells published from it since, fixed at their values). A trial release fixes one more
/// cell on a copy of it: a few dual simplex pivots instead of a phase 1 from scratch, which was
/// most of the release pass (a province's part has ~3,000 unknowns and ~700 relations).
struct Warm {
    /// The program's variables, in key order.
    cells: Vec<usize>,
    program: Program,
    tolerance: f64,
    /// Releases accepted on it: after [`WARM_RELEASES`], it is set up again from scratch, so
    /// that rounding does not build up over the pivots of a whole pass.
    releases: usize,
}

/// The memory the kept bases of one variable may hold together (a block of a large table
/// holds a tableau of ~100 MB).
const WARM_BYTES: usize = 256 << 20;

/// Releases a kept basis takes before it is set up again.
const WARM_RELEASES: usize = 16;

/// Goals checked one program each before the rest are pushed at together ([`Solver::check`]).
const SWEEP_AFTER: usize = 16;

/// Points kept in the pool.
const POOL: usize = 64;

/// How far a sensitive cell must be able to move at least, whatever its requirement: a figure
/// the reader can work out exactly is disclosed even when its requirement is 0 (a zero value
/// of a frequency-sensitive cell). The greedy search guarantees as much by never leaving a
/// sensitive cell the only hidden one of a relation.
pub fn min_movement(value: f64) -> f64 {
    1e-3 + 1e-6 * value.abs()
}

/// A sensitive cell, its place in the part being checked, and the alternatives of which the
/// check must reach one: (maximise, target).
type Goal = (usize, usize, Vec<(bool, f64)>);

/// A pattern's cost: total value lost, then number of cells.
type Cost = (f64, usize);

/// `a` is strictly cheaper than `b` (value lost beyond rounding noise, then cells).
fn cheaper(a: Cost, b: Cost) -> bool {
    let eps = 1e-9 * (1.0 + a.0.abs().max(b.0.abs()));
    a.0 < b.0 - eps || (a.0 <= b.0 + eps && a.1 < b.1)
}

impl Solver {
    fn new(t: &Table, hidden: &BTreeSet<Cell>) -> Solver {
        // Numbered once, in key order: each cell is cloned once, found by hash, and every
        // per-cell property is set from its own (smaller) set rather than looked up for each of
        // the table's cells (a national table's 134,000, for each of six variables).
        let mut all: BTreeSet<&Cell> = t.values.keys().collect();
        all.extend(t.groups.iter().flat_map(|g| g.cells()));
        all.extend(t.requirements.keys());
        all.extend(hidden.iter());
        all.extend(t.shares.iter().flat_map(|(c, tot, _)| [c, tot]));
        let cells: Vec<Cell> = all.into_iter().cloned().collect();
        let id: rustc_hash::FxHashMap<&Cell, usize> = cells.iter().enumerate().map(|(i, c)| (c, i)).collect();
        let n_cells = cells.len();
        let mut value = vec![0.0; n_cells];
        for (c, v) in t.values {
            value[id[c]] = *v;
        }
        let mut relations: Vec<Vec<(usize, f64)>> = t
            .groups
            .iter()
            .map(|g| std::iter::once((id[&g.total], -1.0)).chain(g.members.iter().map(|m| (id[m], 1.0))).collect())
            .collect();
        relations.extend(t.shares.iter().map(|(c, tot, pct)| vec![(id[c], 1.0), (id[tot], -pct / 100.0)]));
        let mut of = vec![Vec::new(); cells.len()];
        for (r, terms) in relations.iter().enumerate() {
            for (c, _) in terms {
                if of[*c].last() != Some(&r) {
                    of[*c].push(r);
                }
            }
        }
        let flags = |set: &mut dyn Iterator<Item = &Cell>| {
            let mut on = vec![false; n_cells];
            for c in set {
                if let Some(i) = id.get(c) {
                    on[*i] = true;
                }
            }
            on
        };
        let fixed = flags(&mut t.fixed.iter());
        let mut unshown = flags(&mut t.unshown.iter());
        for (u, f) in unshown.iter_mut().zip(&fixed) {
            *u &= !f;
        }
        let hidden = flags(&mut hidden.iter());
        let mut requirement = vec![None; n_cells];
        for (c, r) in t.requirements {
            requirement[id[c]] = Some(*r);
        }
        // A cell's block is its region's: cells in key order come region by region.
        let mut block = Vec::with_capacity(n_cells);
        let mut last: Option<(&str, u32)> = None;
        for c in &cells {
            let b = match last {
                Some((region, b)) if region == c.0 => b,
                _ => t.universe.block(c),
            };
            last = Some((c.0.as_str(), b));
            block.push(b);
        }
        let by_block: Vec<Vec<(usize, f64)>> = relations
            .iter()
            .map(|terms| {
                let mut terms = terms.clone();
                terms.sort_by_key(|(c, _)| block[*c]);
                terms
            })
            .collect();
        let of_block = of
            .iter()
            .enumerate()
            .map(|(c, rs)| {
                rs.iter()
                    .map(|&r| {
                        let terms = &by_block[r];
                        let start = terms.partition_point(|(d, _)| block[*d] < block[c]);
                        let end = terms.partition_point(|(d, _)| block[*d] <= block[c]);
                        (r, start..end)
                    })
                    .collect()
            })
            .collect();
        let n_relations = relations.len();
        Solver {
            cost: value.iter().map(|v| v.abs()).collect(),
            value,
            requirement,
            unshown,
            hidden,
            block,
            fixed,
            cells,
            relations,
            of,
            by_block,
            of_block,
            non_negative: t.non_negative,
            checks: 0,
            pool: Vec::new(),
            fresh: Vec::new(),
            warm: Vec::new(),
            spare: None,
            blocked: vec![0; n_cells],
            seen: std::cell::RefCell::new(Stamps {
                cells: vec![0; n_cells],
                relations: vec![(0, 0); n_relations],
                stamp: 0,
            }),
            place: vec![usize::MAX; n_cells],
        }
    }

    /// The terms of each relation of `c` in `c`'s block (so a term's cell is unknown to the reader
    /// of `c`'s part exactly when it is [`Solver::unknown`]).
    fn beside(&self, c: usize) -> impl Iterator<Item = &[(usize, f64)]> {
        self.of_block[c].iter().map(|(r, range)| &self.by_block[*r][range.clone()])
    }

    fn unknown(&self, c: usize) -> bool {
        (self.hidden[c] || self.unshown[c]) && !self.fixed[c]
    }

    /// Unknown to the reader of `of`'s block (a cell of another block is known to it).
    fn unknown_beside(&self, c: usize, of: usize) -> bool {
        self.unknown(c) && self.block[c] == self.block[of]
    }

    fn is_complement(&self, c: usize) -> bool {
        self.hidden[c] && self.requirement[c].is_none()
    }

    fn value_lost(&self) -> f64 {
        (0..self.cells.len()).filter(|c| self.is_complement(*c)).map(|c| self.cost[c]).sum()
    }

    /// `cells` by descending value lost, ties by key.
    fn descending(&self, cells: &[usize]) -> Vec<usize> {
        let mut v = cells.to_vec();
        v.sort_by(|a, b| self.cost[*b].total_cmp(&self.cost[*a]).then(a.cmp(b)));
        v
    }

    /// The unknown cells linked to `seeds` through the relations, in key order.
    fn component(&self, seeds: &[usize]) -> Vec<usize> {
        let mut scratch = self.seen.borrow_mut();
        let Stamps { cells: seen, relations: seen_relation, stamp } = &mut *scratch;
        if *stamp == u32::MAX {
            seen.fill(0);
            seen_relation.fill((0, 0));
            *stamp = 0;
        }
        *stamp += 1;
        let stamp = *stamp;
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &s in seeds {
            if seen[s] != stamp {
                seen[s] = stamp;
                queue.push_back(s);
            }
        }
        let mut out = Vec::new();
        while let Some(c) = queue.pop_front() {
            out.push(c);
            // A relation's terms in a block once: every member of the part in that block meets the
            // same terms (a total's relation has hundreds, scanned once per member before).
            for (r, range) in &self.of_block[c] {
                if seen_relation[*r] == (stamp, range.start) {
                    continue;
                }
                seen_relation[*r] = (stamp, range.start);
                for &(d, _) in &self.by_block[*r][range.clone()] {
                    if seen[d] != stamp && self.unknown(d) {
                        seen[d] = stamp;
                        queue.push_back(d);
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The connected parts of the unknown cells that hold a sensitive cell, by first cell.
    fn components(&self) -> Vec<Vec<usize>> {
        let mut done = vec![false; self.cells.len()];
        let mut out = Vec::new();
        for c in 0..self.cells.len() {
            if self.requirement[c].is_some() && self.unknown(c) && !done[c] {
                let comp = self.component(&[c]);
                for d in &comp {
                    done[*d] = true;
                }
                out.push(comp);
            }
        }
        out.sort();
        out
    }

    /// Whether every cell of `sensitive` keeps its protection requirement on both sides in the
    /// current pattern: the intruder's linear program over their connected part, stopped as
    /// soon as each side is reached.
    fn feasible(&mut self, sensitive: &[usize]) -> Result<bool> {
        Ok(self.check(sensitive, None)?.0)
    }

    /// The relations over `comp` (the unknown cells of a closed set, in one block) as the
    /// program's rows, the known cells (and those of other blocks) moved to the right-hand side;
    /// and the rounding they are allowed.
    fn rows_over(&mut self, comp: &[usize]) -> (Vec<Row>, f64) {
        let mut local = std::mem::take(&mut self.place);
        for (k, c) in comp.iter().enumerate() {
            local[*c] = k;
        }
        let touched: BTreeSet<usize> = comp.iter().flat_map(|c| self.of[*c].iter().copied()).collect();
        let mut rows: Vec<Row> = Vec::new();
        for r in touched {
            let mut terms = Vec::new();
            let mut rhs = 0.0;
            for &(c, a) in &self.relations[r] {
                if self.unknown_beside(c, comp[0]) {
                    terms.push((local[c], a));
                } else {
                    rhs -= a * self.value[c];
                }
            }
            rows.push((terms, rhs));
        }
        for c in comp {
            local[*c] = usize::MAX;
        }
        self.place = local;
        let scale: f64 = rows.iter().map(|r| r.1.abs()).fold(0.0, f64::max);
        let tolerance = 1e-6 * rows.len() as f64 + 1e-9 * scale;
        (rows, tolerance)
    }

    /// [`Solver::feasible`] of a trial that publishes `cell`, starting from `warm` when given:
    /// a feasible basis of the pattern before it over a closed set of cells holding the
    /// sensitive cells' part. Returns the program it set up, if it needed one: a feasible basis
    /// of the trial's pattern over the same cells.
    fn check(&mut self, sensitive: &[usize], warm: Option<(&Warm, usize)>) -> Result<(bool, Option<Program>)> {
        let pool = std::mem::take(&mut self.pool);
        let checked = self.check_against(&pool, sensitive, warm);
        self.pool = pool;
        checked
    }

    /// [`Solver::check`], with the pool of feasible points (`pool`) set aside.
    fn check_against(
        &mut self,
        pool: &[Point],
        sensitive: &[usize],
        warm: Option<(&Warm, usize)>,
    ) -> Result<(bool, Option<Program>)> {
        // A sensitive cell the reader could work out exactly is disclosed even where its
        // requirement is 0 (a zero value): it must be able to move by [`min_movement`] (goals
        // below); the quickest case, being the only unknown of a relation, is screened first.
        self.fresh.clear();
        // A trial of the release pass (from a warm start) was screened by the caller, over the
        // cells its release can change.
        if warm.is_none() && self.screened_out(sensitive) {
            return Ok((false, None));
        }
        self.checks += 1;
        // Without a warm start: the sensitive cells' part and its rows, set up here.
        let built = match warm {
            Some(_) => None,
            None => {
                let comp = self.component(sensitive);
                let rows = self.rows_over(&comp);
                Some((comp, rows))
            }
        };
        let (comp, rows): (&[usize], _) = match (&built, warm) {
            (Some((comp, rows)), _) => (comp, Some(rows)),
            (None, Some((warm, _))) => (&warm.cells, None),
            (None, None) => unreachable!("set up without a warm start"),
        };
        let mut program: Option<Program> = None;
        // Each sensitive cell's place in the part.
        let local = |p: usize| comp.binary_search(&p).expect("the part holds its sensitive cells");
        // Feasible points known for this pattern (earlier trials' witnesses, see `release`) and
        // met on the way: most goals are reached by one of them already (a vertex puts many
        // cells at zero or at an extreme), which spares their linear programs, and when all
        // are, the program is not even set up. For the first goals, the pool's points are read
        // at a goal's cell when that goal comes (most failing trials stop at their first goal);
        // past them, at their extremes over the part, taken once (below). The points met here
        // are over the part.
        let mut points = Met::new(comp.len());
        // Every goal: both sides of each cell's requirement; then, where it is below the least
        // movement, either side of that.
        let mut goals: Vec<Goal> = Vec::new();
        for &p in sensitive {
            let (v, r) = (self.value[p], self.requirement[p].unwrap_or(0.0));
            let tol = tolerance(v);
            let m = min_movement(v);
            let at = local(p);
            goals.push((p, at, vec![(true, v + r - tol)]));
            goals.push((p, at, vec![(false, v - r + tol)]));
            if r < m {
                goals.push((p, at, vec![(true, v + m), (false, v - m)]));
            }
        }
        let met = |points: &Met, (_, at, alternatives): &Goal| points.reach(*at, alternatives);
        let scanned =
            |value: &[f64], (p, _, alternatives): &Goal| pool.iter().any(|x| reaches(x.at(*p, value), alternatives));
        let pooled = |in_pool: &Option<Met>, value: &[f64], g: &Goal| match in_pool {
            Some(extremes) => met(extremes, g),
            None => scanned(value, g),
        };
        let mut outcome = true;
        let mut swept = false;
        // Past its first goals (where most failing checks stop), a check reads every goal
        // against the pool: through the pool's extremes over the part, taken once, rather than
        // a search in each of its points for each goal (a quarter of a national check's time).
        let mut in_pool: Option<Met> = None;
        for (i, goal) in goals.iter().enumerate() {
            if i == SWEEP_AFTER {
                in_pool = Some(extremes(pool, comp, &self.value, &mut self.place));
            }
            if met(&points, goal) || pooled(&in_pool, &self.value, goal) {
                continue;
            }
            let lp = match &mut program {
                Some(lp) => lp,
                None => {
                    let lp = match (rows, warm) {
                        (Some((rows, tolerance)), _) => Program::new(comp.len(), rows, self.non_negative, *tolerance)?,
                        (None, Some((warm, cell))) => self.started(warm, cell)?,
                        (None, None) => unreachable!("rows are set up without a warm start"),
                    };
                    points.push(lp.point());
                    program.insert(lp)
                }
            };
            if i >= SWEEP_AFTER && !swept {
                // The first goals (the cells that stopped releases before, and the neighbours)
                // decide most failing trials, one program each; the rest of a passing one are
                // mostly reached by sweeps, programs that push all the open goals of a side at
                // once (one sweep left three in four open on a province: it now repeats).
                swept = true;
                for maximise in [true, false] {
                    let mut open: Vec<&Goal> = goals[i..]
                        .iter()
                        .filter(|g| g.2[0].0 == maximise && !met(&points, g) && !pooled(&in_pool, &self.value, g))
                        .collect();
                    lp.sweep_while(
                        maximise,
                        &mut open,
                        |g| g.1,
                        |point, open| {
                            points.push(point);
                            open.retain(|g| !met(&points, g));
                        },
                    )?;
                }
                if met(&points, goal) {
                    continue;
                }
            }
            let (p, at, alternatives) = goal;
            let mut reached = false;
            for &(maximise, target) in alternatives {
                let (r, point) = lp.reaches(*at, maximise, target)?;
                points.push(point);
                if r {
                    reached = true;
                    break;
                }
            }
            if !reached {
                self.blocked[*p] += 1;
                outcome = false;
                break;
            }
        }
        // The new points, over the part (every other cell at its true value): the newest only,
        // as many as the pool keeps (a check over a large part can meet thousands).
        let newest = points.points.len().saturating_sub(POOL);
        self.fresh = points.points[newest..]
            .iter()
            .map(|x| Point(comp.iter().copied().zip(x.iter().copied()).collect()))
            .collect();
        Ok((outcome, program))
    }

    /// Whether a necessary condition already fails for one of `sensitive`: it is the only unknown
    /// of a relation (the quickest way for the reader to work it out exactly, ruled out even
    /// where its requirement is 0), or a relation on its own cannot absorb its requirement.
    /// Much cheaper than the linear program, it rejects most failing trials.
    fn screened_out(&self, sensitive: &[usize]) -> bool {
        sensitive.iter().any(|&p| {
            let need = self.requirement[p].unwrap_or(0.0) - tolerance(self.value[p]);
            self.beside(p).any(|terms| {
                terms.iter().filter(|(c, _)| self.unknown(*c)).count() < 2
                    || (need > 0.0 && !self.absorbs(terms, p, need))
            })
        })
    }

    /// The program of a trial publishing `cell` over the cells of `warm`: its basis with the cell
    /// fixed (copied into the spare program's memory), or when that finds no feasible basis, set
    /// up from scratch over the same cells.
    fn started(&mut self, warm: &Warm, cell: usize) -> Result<Program> {
        let at = warm.cells.binary_search(&cell).expect("the part holds the cell");
        let mut lp = match self.spare.take() {
            Some(mut spare) => {
                spare.copy_from(&warm.program);
                spare
            }
            None => warm.program.clone(),
        };
        if lp.fix(at, self.value[cell], warm.tolerance) {
            return Ok(lp);
        }
        let (rows, tolerance) = self.rows_over(&warm.cells);
        let mut lp = Program::new(warm.cells.len(), &rows, self.non_negative, tolerance)?;
        // In no row now: fixed so that its points read its value.
        lp.fix(at, self.value[cell], tolerance);
        Ok(lp)
    }

    /// Whether a relation alone (its `terms` in `p`'s block: the others are known) lets cell `p`
    /// move by `by` both ways, the other unknown cells staying within their bounds
    /// (non-negative: down to zero at most).
    fn absorbs(&self, terms: &[(usize, f64)], p: usize, by: f64) -> bool {
        let (mut a_p, mut lower, mut upper) = (0.0, 0.0, 0.0);
        for &(c, a) in terms {
            if c == p {
                a_p += a;
            } else if self.unknown(c) {
                // The range of a·Δc.
                let room = if self.non_negative { self.value[c].max(0.0) * a.abs() } else { f64::INFINITY };
                if a > 0.0 {
                    lower -= room;
                    upper = f64::INFINITY;
                } else {
                    lower = f64::NEG_INFINITY;
                    upper += room;
                }
            }
        }
        // a_p·Δp + Σ a·Δc = 0 for Δp = ±by.
        let shift = (a_p * by).abs();
        a_p == 0.0 || (lower <= -shift && upper >= shift)
    }

    /// The pool's points made valid once `cell` is published: those where it has its true value
    /// already, and combinations of one on each side of it (the feasible set is convex).
    fn repaired(&self, cell: usize) -> Vec<Point> {
        let v = self.value[cell];
        let eps = 1e-9 * (1.0 + v.abs());
        let mut out = Vec::new();
        let (mut above, mut below) = (Vec::new(), Vec::new());
        for x in &self.pool {
            let at = x.at(cell, &self.value);
            let d = at - v;
            if d.abs() <= eps {
                let mut x = x.clone();
                x.set(cell, v);
                out.push(x);
            } else if d > 0.0 {
                above.push((at, x));
            } else {
                below.push((at, x));
            }
        }
        let combine = |(a_at, a): &(f64, &Point), (b_at, b): &(f64, &Point)| -> Point {
            let mu = (v - b_at) / (a_at - b_at);
            let mut z = Point::combine(a, b, mu, &self.value);
            z.set(cell, v);
            z
        };
        let lowest = below.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        let highest = above.iter().max_by(|a, b| a.0.total_cmp(&b.0));
        if let (Some(low), Some(high)) = (lowest, highest) {
            out.extend(above.iter().map(|a| combine(a, low)));
            out.extend(below.iter().map(|b| combine(high, b)));
        }
        out
    }

    /// Tentatively publishes each complement of `order` in turn, keeping it published where the
    /// sensitive cells of its connected part stay protected.
    fn release(&mut self, order: &[usize]) -> Result<()> {
        self.warm.clear();
        let outcome = self.release_in_turn(order);
        self.warm.clear();
        self.spare = None;
        outcome
    }

    fn release_in_turn(&mut self, order: &[usize]) -> Result<()> {
        // The connected part of each complement tried, kept until a release changes it (a trial
        // turned down changes nothing, and a part holds many complements): by number, and the
        // number of each cell's part.
        let mut parts: Vec<Option<Vec<usize>>> = Vec::new();
        let mut part_of: Vec<usize> = vec![usize::MAX; self.cells.len()];
        for &c in order {
            if !self.is_complement(c) {
                continue;
            }
            // Its neighbours first: they are the likeliest to be narrowed.
            let near: BTreeSet<usize> = self.beside(c).flat_map(|terms| terms.iter().map(|(d, _)| *d)).collect();
            let id = match part_of[c] {
                id if id != usize::MAX && parts[id].is_some() => id,
                _ => {
                    let part = self.component(&[c]);
                    for d in &part {
                        part_of[*d] = parts.len();
                    }
                    parts.push(Some(part));
                    parts.len() - 1
                }
            };
            let part = parts[id].as_ref().expect("a part kept");
            // The cells that stopped releases before (most often first), then c's neighbours,
            // then the rest in key order. Most are in the last group, in key order already (the
            // part is): only the others are sorted (sorting them all, a province's part of
            // ~3,000 cells for each of its complements, took a sixth of the release pass).
            let (mut sensitive, rest): (Vec<usize>, Vec<usize>) = part
                .iter()
                .copied()
                .filter(|d| self.requirement[*d].is_some())
                .partition(|d| self.blocked[*d] > 0 || near.contains(d));
            sensitive.sort_unstable_by_key(|d| (std::cmp::Reverse(self.blocked[*d]), !near.contains(d), *d));
            sensitive.extend(rest);
            if sensitive.is_empty() {
                self.hidden[c] = false;
                parts[id] = None;
                continue;
            }
            // Only the relations of c change when it is published, and the current pattern passes
            // the audit, so only the sensitive cells beside c can fail the screen now: it is made
            // here, before the pool is repaired and a basis set up for a trial it turns down.
            self.hidden[c] = false;
            let beside: Vec<usize> = sensitive.iter().copied().filter(|d| near.contains(d)).collect();
            let rejected = self.screened_out(&beside);
            self.hidden[c] = true;
            if rejected {
                continue;
            }
            // The current pattern's basis over c's part, set up once per part.
            let w = match self.warm.iter().position(|w| w.cells.binary_search(&c).is_ok()) {
                Some(w) => w,
                None => {
                    let cells = part.clone();
                    let (rows, tolerance) = self.rows_over(&cells);
                    let program = Program::new(cells.len(), &rows, self.non_negative, tolerance)?;
                    self.warm.push(Warm { cells, program, tolerance, releases: 0 });
                    self.warm.len() - 1
                }
            };
            let mut warm = self.warm.swap_remove(w);
            // The pool stays valid for the pattern in force: the points found for the trial
            // pattern are valid for the current one too (it has one unknown more).
            let trial = self.repaired(c);
            let current = std::mem::replace(&mut self.pool, trial);
            self.hidden[c] = false;
            let (released, program) = self.check(&sensitive, Some((&warm, c)))?;
            let fresh = std::mem::take(&mut self.fresh);
            if released {
                // Published now: its part may have split.
                parts[id] = None;
            }
            let keep = if !released {
                self.hidden[c] = true;
                self.pool = current;
                self.spare = program.or(self.spare.take());
                true
            } else if let Some(program) = program {
                self.spare = Some(std::mem::replace(&mut warm.program, program));
                warm.releases += 1;
                warm.releases < WARM_RELEASES
            } else {
                // Every goal was met by a known point: the basis still needs the cell fixed (or,
                // failing that, is set up again when next needed).
                let at = warm.cells.binary_search(&c).expect("the part holds the cell");
                warm.releases += 1;
                warm.releases < WARM_RELEASES && warm.program.fix(at, self.value[c], warm.tolerance)
            };
            if keep {
                self.warm.push(warm);
                // Bounded memory: the bases of the parts tried longest ago go first (set up
                // again if their part is tried later).
                while self.warm.len() > 1 && self.warm.iter().map(|w| w.program.bytes()).sum::<usize>() > WARM_BYTES {
                    self.warm.remove(0);
                }
            }
            self.pool.extend(fresh);
            let excess = self.pool.len().saturating_sub(POOL);
            self.pool.drain(..excess);
        }
        Ok(())
    }

    /// The exact search of one connected part. Returns what is proven, the cells it examined
    /// (None when it stopped early: any change re-opens it) and the cells whose status it changed.
    fn search(
        &mut self,
        comp: &[usize],
        settings: Settings,
    ) -> Result<(Optimality, Option<BTreeSet<usize>>, BTreeSet<usize>)> {
        let sensitive: Vec<usize> = comp.iter().copied().filter(|c| self.requirement[*c].is_some()).collect();
        let current: Vec<usize> = comp.iter().copied().filter(|c| self.is_complement(*c)).collect();
        let nothing = BTreeSet::new();
        if current.is_empty() {
            // Nothing lost: nothing is cheaper (and a change elsewhere that reaches the part
            // changes the part itself).
            return Ok((Optimality::Proven, Some(comp.iter().copied().collect()), nothing));
        }
        if !self.feasible(&sensitive)? {
            return Ok((Optimality::Greedy, Some(comp.iter().copied().collect()), nothing));
        }
        let bound: Cost = (current.iter().map(|c| self.cost[*c]).sum(), current.len());
        // The candidates: reachable from the sensitive cells through hidden cells (free) or
        // publishable cells cheaper than the whole current pattern.
        let mut examined: BTreeSet<usize> = comp.iter().copied().collect();
        let mut reached: BTreeSet<usize> = sensitive.iter().copied().collect();
        let mut queue: VecDeque<usize> = sensitive.iter().copied().collect();
        let mut candidates: Vec<usize> = Vec::new();
        while let Some(c) = queue.pop_front() {
            for &r in &self.of[c] {
                for &(d, _) in &self.relations[r] {
                    examined.insert(d);
                    // Cells of other blocks are known to this part's reader whatever is hidden.
                    if reached.contains(&d) || self.fixed[d] || self.block[d] != self.block[c] {
                        continue;
                    }
                    let free = self.unknown(d) && !current.contains(&d);
                    let candidate = !free && (current.contains(&d) || cheaper((self.cost[d], 1), bound));
                    if free || candidate {
                        reached.insert(d);
                        queue.push_back(d);
                    }
                    if candidate {
                        candidates.push(d);
                        if candidates.len() > settings.max_candidates {
                            return Ok((Optimality::Irredundant, None, nothing));
                        }
                    }
                }
            }
        }
        candidates.sort_by(|a, b| self.cost[*a].total_cmp(&self.cost[*b]).then(a.cmp(b)));
        // The pool holds points of the current pattern only; the search tries others.
        let pool = std::mem::take(&mut self.pool);
        for c in &current {
            self.hidden[*c] = false;
        }
        let mut b = BranchAndBound {
            candidates: &candidates,
            sensitive: &sensitive,
            best: bound,
            best_set: None,
            left: settings.budget,
            memo: BTreeMap::new(),
        };
        let outcome = b.run(self, 0, &mut Vec::new(), 0.0);
        let (best_set, exhausted) = (b.best_set.take(), b.left == 0);
        for c in &candidates {
            self.hidden[*c] = false;
        }
        let keep = |s: &mut Solver, cells: &[usize]| {
            for c in cells {
                s.hidden[*c] = true;
            }
        };
        outcome?;
        match best_set {
            // Out of budget: the irredundant pattern stays, even if a cheaper one was seen.
            _ if exhausted => {
                keep(self, &current);
                self.pool = pool;
                Ok((Optimality::Irredundant, Some(examined), nothing))
            }
            None => {
                keep(self, &current);
                self.pool = pool;
                Ok((Optimality::Proven, Some(examined), nothing))
            }
            Some(better) => {
                keep(self, &better);
                // Parts it joined may now have complements to spare.
                let order = self.descending(&self.component(&sensitive));
                self.release(&order)?;
                let moved: BTreeSet<usize> = current
                    .iter()
                    .chain(&better)
                    .copied()
                    .filter(|c| current.contains(c) != better.contains(c))
                    .collect();
                let released: BTreeSet<usize> =
                    order.iter().copied().filter(|c| !self.hidden[*c] && !current.contains(c)).collect();
                Ok((Optimality::Proven, Some(examined), moved.union(&released).copied().collect()))
            }
        }
    }
}

/// Depth-first branch and bound over the candidates (cheapest first): include, then exclude.
struct BranchAndBound<'a> {
    candidates: &'a [usize],
    sensitive: &'a [usize],
    best: Cost,
    best_set: Option<Vec<usize>>,
    /// Feasibility checks left.
    left: usize,
    /// Feasibility of the candidate subsets checked (by position).
    memo: BTreeMap<Vec<usize>, bool>,
}

impl BranchAndBound<'_> {
    /// Whether hiding the candidates at `positions` protects the part.
    fn feasible(&mut self, s: &mut Solver, positions: Vec<usize>) -> Result<Option<bool>> {
        if let Some(f) = self.memo.get(&positions) {
            return Ok(Some(*f));
        }
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        for p in &positions {
            s.hidden[self.candidates[*p]] = true;
        }
        let f = s.feasible(self.sensitive);
        for p in &positions {
            s.hidden[self.candidates[*p]] = false;
        }
        let f = f?;
        self.memo.insert(positions, f);
        Ok(Some(f))
    }

    fn run(&mut self, s: &mut Solver, i: usize, chosen: &mut Vec<usize>, cost: f64) -> Result<()> {
        if !cheaper((cost, chosen.len()), self.best) {
            return Ok(());
        }
        match self.feasible(s, chosen.clone())? {
            None => return Ok(()),
            Some(true) => {
                self.best = (cost, chosen.len());
                self.best_set = Some(chosen.iter().map(|p| self.candidates[*p]).collect());
                return Ok(());
            }
            Some(false) => {}
        }
        let n = self.candidates.len();
        // At least one more cell is needed, and the cheapest left is the next.
        if i == n || !cheaper((cost + s.cost[self.candidates[i]], chosen.len() + 1), self.best) {
            return Ok(());
        }
        // If hiding all that is left does not protect, no part of it does.
        let all: Vec<usize> = chosen.iter().copied().chain(i..n).collect();
        if self.feasible(s, all)? != Some(true) {
            return Ok(());
        }
        chosen.push(i);
        self.run(s, i + 1, chosen, cost + s.cost[self.candidates[i]])?;
        chosen.pop();
        self.run(s, i + 1, chosen, cost)
    }
}

#[cfg(test)]
mod tests {
    use super::{Met, Point, extremes, reaches};
    use rand::{Rng, SeedableRng};

    /// A sparse point over `cells` (in key order) and the same point written out over every cell.
    fn point(rng: &mut rand::rngs::SmallRng, value: &[f64]) -> (Point, Vec<f64>) {
        let mut dense = value.to_vec();
        let mut entries = Vec::new();
        for (c, x) in dense.iter_mut().enumerate() {
            if rng.random_bool(0.3) {
                *x = rng.random_range(-50.0..50.0);
                entries.push((c, *x));
            }
        }
        (Point(entries), dense)
    }

    /// A goal is reached at the points met exactly when one of them reaches it, read point by
    /// point (what a check did before it kept each cell's extremes).
    #[test]
    fn goals_read_from_the_extremes_agree_with_every_point_read() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
        let (mut reached, mut missed) = (0, 0);
        for _ in 0..300 {
            let n = rng.random_range(1..12);
            let mut met = Met::new(n);
            let mut points: Vec<Vec<f64>> = Vec::new();
            for _ in 0..rng.random_range(0..6) {
                let x: Vec<f64> = (0..n).map(|_| f64::from(rng.random_range(-20..20i32))).collect();
                points.push(x.clone());
                met.push(x);
                for _ in 0..10 {
                    let at = rng.random_range(0..n);
                    let alternatives: Vec<(bool, f64)> = (0..rng.random_range(1..3))
                        .map(|_| (rng.random_bool(0.5), f64::from(rng.random_range(-25..25i32))))
                        .collect();
                    let one_by_one = points.iter().any(|x| reaches(x[at], &alternatives));
                    assert_eq!(met.reach(at, &alternatives), one_by_one, "{points:?} at {at}: {alternatives:?}");
                    if one_by_one {
                        reached += 1;
                    } else {
                        missed += 1;
                    }
                }
            }
            assert!(points.is_empty() || !met.reach(0, &[(true, f64::INFINITY)]));
        }
        assert!(reached > 1_000 && missed > 1_000, "{reached} reached, {missed} missed");
    }

    /// The pool's extremes over a part reach a goal exactly when one of its sparse points does,
    /// read at the goal's cell (a cell a point does not move at its true value).
    #[test]
    fn the_pools_extremes_agree_with_its_points_read_one_by_one() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(13);
        let (mut reached, mut missed) = (0, 0);
        for _ in 0..300 {
            let n = rng.random_range(1..30);
            let value: Vec<f64> = (0..n).map(|_| rng.random_range(-100.0..100.0)).collect();
            let pool: Vec<Point> = (0..rng.random_range(0..5)).map(|_| point(&mut rng, &value).0).collect();
            let comp: Vec<usize> = (0..n).filter(|_| rng.random_bool(0.6)).collect();
            let mut place = vec![usize::MAX; n];
            let met = extremes(&pool, &comp, &value, &mut place);
            assert!(place.iter().all(|p| *p == usize::MAX), "scratch left set");
            for (k, &c) in comp.iter().enumerate() {
                for _ in 0..4 {
                    let alternatives: Vec<(bool, f64)> = (0..rng.random_range(1..3))
                        .map(|_| (rng.random_bool(0.5), rng.random_range(-120.0..120.0)))
                        .collect();
                    let one_by_one = pool.iter().any(|x| reaches(x.at(c, &value), &alternatives));
                    assert_eq!(met.reach(k, &alternatives), one_by_one, "cell {c}: {alternatives:?}");
                    if one_by_one {
                        reached += 1;
                    } else {
                        missed += 1;
                    }
                }
            }
        }
        assert!(reached > 500 && missed > 500, "{reached} reached, {missed} missed");
    }

    #[test]
    fn sparse_points_read_combine_and_set_as_points_over_every_cell_do() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..200 {
            let n = rng.random_range(1..40);
            let value: Vec<f64> = (0..n).map(|_| rng.random_range(-100.0..100.0)).collect();
            let (a, da) = point(&mut rng, &value);
            let (b, db) = point(&mut rng, &value);
            for (c, want) in da.iter().enumerate() {
                assert_eq!(a.at(c, &value), *want);
            }
            let cells: Vec<usize> = (0..n).filter(|_| rng.random_bool(0.5)).collect();
            assert_eq!(a.over(&cells, &value), cells.iter().map(|c| da[*c]).collect::<Vec<_>>());
            let mu = rng.random_range(-2.0..2.0);
            let z = Point::combine(&a, &b, mu, &value);
            assert!(z.0.windows(2).all(|w| w[0].0 < w[1].0), "in key order");
            for (c, (x, y)) in da.iter().zip(&db).enumerate() {
                let want = mu * x + (1.0 - mu) * y;
                assert!((z.at(c, &value) - want).abs() <= 1e-9 * (1.0 + want.abs()), "cell {c}");
            }
            let (mut s, mut ds) = (a.clone(), da.clone());
            let c = rng.random_range(0..n);
            s.set(c, 1234.5);
            ds[c] = 1234.5;
            assert!(s.0.windows(2).all(|w| w[0].0 < w[1].0), "in key order");
            assert_eq!(s.over(&(0..n).collect::<Vec<_>>(), &value), ds);
        }
    }
}
