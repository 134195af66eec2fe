//! Secondary suppression: the additive relations a publication shows, and the complementary
//! cells hidden so that no sensitive cell can be worked out from the others.
//!
//! **Relations** (each enterprise reports in exactly one county and has one section and one
//! division): for every breakdown, chains included, the city equals the sum of its counties;
//! in every region, the total equals the sum of its sections and the sum of its divisions, and
//! each section the sum of its divisions. Chains overlap one another, so they only take part in
//! the city = Σ counties relation. A relation the data does not satisfy exactly (an enterprise
//! without a division, say) is left out, since no reader could use it either.
//!
//! **Complements.** A hidden cell must be able to move by its protection requirement `r` in
//! both directions while every published figure stays the same. In each relation it belongs
//! to, that movement is absorbed by the other hidden cells of the relation: a hidden member can
//! absorb up to its own value (values are non-negative, except profits: unlimited), and the
//! movement then goes on through that cell's own other relations, which therefore need
//! protection as well. Where the hidden others cannot absorb `r`, the
//! cheapest published cell that can is hidden too: the one with the least value (value lost),
//! among those large enough, not simply the smallest cell. This propagates until every
//! relation is covered. The result is then checked by the intruder audit ([`super::intruder`]),
//! which computes the exact intervals by linear programming; a cell it finds too narrow gets
//! further complements ([`widen`]).
//!
//! This greedy choice can hide more than needed (a complement chosen early may be made
//! unnecessary by later ones). [`super::optimise`] then publishes every complement the audit
//! does not need and, where a connected part is small enough, proves its least value lost.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use super::rules::Cell;
use super::universe::Universe;
use crate::reference::CITY_CODE;

/// `total = Σ members`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub total: Cell,
    pub members: Vec<Cell>,
}

impl Group {
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        std::iter::once(&self.total).chain(self.members.iter())
    }
}

/// GB/T 4754 section of a two-digit division: 06–12 B, 13–43 C, 44–46 D.
pub fn section_of(division: &str) -> Option<&'static str> {
    match division.parse::<u32>().ok()? {
        6..=12 => Some("B"),
        13..=43 => Some("C"),
        44..=46 => Some("D"),
        _ => None,
    }
}

/// The additive relations among `cells` (structure only). Each cell is looked at a fixed
/// number of times (grouped by breakdown and by region once), not once per region: a national
/// table has thousands of regions.
pub fn structure(cells: &BTreeSet<Cell>) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut by_breakdown: BTreeMap<&String, Vec<Cell>> = BTreeMap::new();
    let mut by_region: BTreeMap<&String, Vec<&Cell>> = BTreeMap::new();
    for k in cells {
        let members = by_breakdown.entry(&k.1).or_default();
        if k.0 != CITY_CODE {
            members.push(k.clone());
        }
        by_region.entry(&k.0).or_default().push(k);
    }
    for (b, members) in by_breakdown {
        groups.push(Group { total: (CITY_CODE.to_string(), b.to_string()), members });
    }
    for (r, of_region) in by_region {
        let of = |prefix: &str| -> Vec<Cell> {
            of_region.iter().filter(|k| k.1.starts_with(prefix)).map(|k| (*k).clone()).collect()
        };
        let total = (r.to_string(), "_T".to_string());
        let divisions = of("division:");
        groups.push(Group { total: total.clone(), members: of("section:") });
        groups.push(Group { total, members: divisions.clone() });
        for s in ["B", "C", "D"] {
            let members: Vec<Cell> = divisions
                .iter()
                .filter(|k| section_of(k.1.trim_start_matches("division:")) == Some(s))
                .cloned()
                .collect();
            groups.push(Group { total: (r.to_string(), format!("section:{s}")), members });
        }
    }
    groups.retain(|g| cells.contains(&g.total) && !g.members.is_empty());
    groups
}

/// The relations of `structure(cells)` that `values` satisfy (within rounding).
pub fn balanced(groups: Vec<Group>, values: &BTreeMap<Cell, f64>) -> Vec<Group> {
    let v = |c: &Cell| values.get(c).copied().unwrap_or(0.0);
    groups
        .into_iter()
        .filter(|g| {
            let sum: f64 = g.members.iter().map(v).sum();
            let ok = (v(&g.total) - sum).abs() <= tolerance(v(&g.total));
            if !ok {
                tracing::debug!(total = ?g.total, "relation not satisfied by the data: left out");
            }
            ok
        })
        .collect()
}

/// Rounding tolerance of a relation whose total is `total`.
pub fn tolerance(total: f64) -> f64 {
    1e-6 + 1e-9 * total.abs()
}

/// What the complement search needs of one variable.
pub struct Problem<'a> {
    pub values: &'a BTreeMap<Cell, f64>,
    pub groups: &'a [Group],
    /// Never hidden (the city total, by policy).
    pub fixed: &'a BTreeSet<Cell>,
    pub non_negative: bool,
    /// The table's blocks: a movement is absorbed inside the block of the cell that makes it.
    pub universe: &'a Universe,
}

impl Problem<'_> {
    fn value(&self, c: &Cell) -> f64 {
        self.values.get(c).copied().unwrap_or(0.0)
    }

    /// Hides complements until every hidden cell can move by its requirement in every relation.
    /// `hidden` starts as the primary cells (with their requirements) and grows.
    pub fn protect(&self, hidden: &mut BTreeSet<Cell>, requirements: &BTreeMap<Cell, f64>) {
        // Cells numbered in key order, so that comparing numbers compares cells: the search
        // looks cells up in every relation at every step, and string keys made those lookups
        // most of a province's greedy search. Numbered through a hash map: searching the sorted
        // keys for each cell of each relation was a third of a national table's search.
        let mut all: BTreeSet<&Cell> = self.groups.iter().flat_map(|g| g.cells()).collect();
        all.extend(hidden.iter());
        all.extend(requirements.keys());
        let cells: Vec<&Cell> = all.into_iter().collect();
        let index: HashMap<&Cell, usize> = cells.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let id = |c: &Cell| index[c];
        let value: Vec<f64> = cells.iter().map(|c| self.value(c)).collect();
        let block: Vec<u32> = cells.iter().map(|c| self.universe.block(c)).collect();
        // Each relation's cells by block (in the relation's order within a block): a movement is
        // absorbed in its cell's block, and a national relation (city = Σ counties) has
        // thousands of cells, of which a block holds a few dozen.
        let groups: Vec<Vec<usize>> = self
            .groups
            .iter()
            .map(|g| {
                let mut ids: Vec<usize> = g.cells().map(id).collect();
                ids.sort_by_key(|c| block[*c]);
                ids
            })
            .collect();
        let mut of: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
        for (i, g) in groups.iter().enumerate() {
            for c in g {
                of[*c].push(i);
            }
        }
        let in_block = |g: &[usize], b: u32| -> std::ops::Range<usize> {
            g.partition_point(|o| block[*o] < b)..g.partition_point(|o| block[*o] <= b)
        };
        // How much of a movement (either way) a hidden cell can absorb: down to zero at most,
        // when values are non-negative.
        let capacity = |c: usize| if self.non_negative { value[c].max(0.0) } else { f64::INFINITY };
        let fixed: Vec<bool> = cells.iter().map(|c| self.fixed.contains(*c)).collect();
        let mut is_hidden: Vec<bool> = cells.iter().map(|c| hidden.contains(*c)).collect();
        // Largest requirement first (ties: the first cell), so the complements chosen for it
        // serve the smaller ones. A heap: re-sorting a list after every step was quadratic.
        let mut queue: BinaryHeap<Pending> = requirements.iter().map(|(c, r)| Pending(*r, Reverse(id(c)))).collect();
        let mut done: Vec<Option<f64>> = vec![None; cells.len()];
        // The largest movement each cell was queued with: queued again with no more, it would
        // only be popped after that one and skipped (a movement spreads through every relation
        // of every partner, so most pushes were such repeats).
        let mut queued: Vec<Option<f64>> = vec![None; cells.len()];
        for (c, r) in requirements {
            queued[id(c)] = Some(*r);
        }
        while let Some(Pending(r, Reverse(c))) = queue.pop() {
            if done[c].is_some_and(|d| d >= r) {
                continue;
            }
            done[c] = Some(r);
            for &gi in &of[c] {
                let g = &groups[gi];
                // The relation's other cells in c's block.
                let same = &g[in_block(g, block[c])];
                loop {
                    let others = || same.iter().copied().filter(|o| *o != c && is_hidden[*o]);
                    let cap: f64 = others().map(capacity).sum();
                    if others().next().is_some() && cap >= r {
                        for h in others() {
                            // The movement goes on through the partner's other relations.
                            let need = r.min(capacity(h));
                            if done[h].is_none_or(|d| d < need) && queued[h].is_none_or(|q| q < need) {
                                queued[h] = Some(need);
                                queue.push(Pending(need, Reverse(h)));
                            }
                        }
                        break;
                    }
                    let missing = r - cap;
                    let candidates = || same.iter().copied().filter(|o| *o != c && !is_hidden[*o] && !fixed[*o]);
                    let cost = |o: usize| value[o].abs();
                    // The cheapest that can absorb what is missing (ties: the first cell), else the
                    // one that can absorb most.
                    let pick = candidates()
                        .filter(|o| capacity(*o) >= missing)
                        .min_by(|a, b| cost(*a).total_cmp(&cost(*b)).then_with(|| a.cmp(b)))
                        .or_else(|| {
                            candidates().max_by(|a, b| capacity(*a).total_cmp(&capacity(*b)).then_with(|| b.cmp(a)))
                        });
                    let Some(pick) = pick else { break };
                    is_hidden[pick] = true;
                }
            }
        }
        let complements: Vec<Cell> = cells
            .iter()
            .zip(&is_hidden)
            .filter(|(c, h)| **h && !hidden.contains(**c))
            .map(|(c, _)| (*c).clone())
            .collect();
        hidden.extend(complements);
    }
}

/// A cell (by number) waiting in [`Problem::protect`] with the movement it must be able to
/// make, ordered by that requirement, then by the cell (reversed, so that the heap yields the
/// first cell).
struct Pending(f64, Reverse<usize>);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then_with(|| self.1.cmp(&other.1))
    }
}

/// For a cell the intruder audit found too narrow by `shortfall` (how much more it must be able
/// to move): hides, in each of its relations, the cheapest published cells of its block not
/// hidden yet, from the smallest up, until what they can absorb (their values; unlimited where
/// values may be negative) covers the shortfall, or at least one (the exact intervals then decide
/// again). Sizing each step by the shortfall, not one cell at a time, is what keeps the rounds of
/// "audit, then hide more" few in a sparse column: a national table's exports needed a round per
/// cell. Returns whether anything was added.
pub fn widen(p: &Problem, hidden: &mut BTreeSet<Cell>, cell: &Cell, shortfall: f64) -> bool {
    let mut added = false;
    let block = p.universe.block(cell);
    for g in p.groups.iter().filter(|g| g.cells().any(|c| c == cell)) {
        let mut picks: Vec<&Cell> = g
            .cells()
            .filter(|o| *o != cell && !hidden.contains(*o) && !p.fixed.contains(*o))
            .filter(|o| p.universe.block(o) == block)
            .filter(|o| !p.non_negative || **o == g.total || p.value(o) > 0.0)
            .collect();
        picks.sort_by(|a, b| p.value(a).abs().total_cmp(&p.value(b).abs()).then_with(|| a.cmp(b)));
        let mut absorbed = 0.0;
        for pick in picks {
            hidden.insert(pick.clone());
            added = true;
            absorbed += if p.non_negative { p.value(pick).abs() } else { f64::INFINITY };
            if absorbed >= shortfall {
                break;
            }
        }
    }
    added
}
