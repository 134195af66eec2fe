//! The cells of a period's tables, and the blocks of regions a large table is protected in.
//!
//! Disclosure control's linear programs (the intruder audit, the release pass, the exact search)
//! run over a connected part of the hidden cells, with a dense tableau of its relations × its
//! unknowns. At a province's size a part holds ~3,000 cells; a table of 2,800 counties × ~50
//! breakdowns would make one part of ~100,000, whose tableau does not fit in memory. So a table
//! with more cells than `max_table_cells` (`config/disclosure.toml`) is split into blocks of
//! consecutive regions (by code) of about `block_cells` cells each, and every block is protected
//! and audited **as if the reader knew every figure outside it**, hidden or not, at its true
//! value. That reader is stronger than the real one (the intervals it computes can only be
//! narrower: the feasible set of a block with the rest fixed is a slice of the whole table's),
//! so a pattern it accepts protects against the real reader too; it may hide more than a
//! whole-table search would. Memory and time then grow with the size of a block and the number
//! of blocks, not with the square of the table.
//!
//! A hidden cell's movement must then be absorbed inside its own block: the greedy search picks
//! complements there ([`super::secondary`]), and a relation that spans blocks (a breakdown's city
//! = Σ counties) ties only the cells of one block at a time, the others moved to its constant
//! side. In a sparse table a block may hold no partner for a cell (its column's other cells in
//! the block all hidden or zero, or what narrows the cell lies outside the block); the rounds of
//! "audit, then hide more" then join that block with the next (as soon as hiding more in it left
//! the cell as narrow as before) and make the greedy search again ([`Universe::join`]; at worst the blocks join into
//! the whole table). A table within the limit is one block, and everything is as if blocks did
//! not exist.

use std::collections::{BTreeMap, BTreeSet};

use super::rules::Cell;

/// The cells of the tables (those that exist: the reader sees their enterprise counts), and
/// which block each region belongs to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Universe {
    pub cells: BTreeSet<Cell>,
    /// Block of each region; empty when the table is one block.
    block_of: BTreeMap<String, u32>,
    blocks: usize,
}

impl Universe {
    /// One block: the whole table.
    pub fn whole(cells: BTreeSet<Cell>) -> Universe {
        Universe { cells, block_of: BTreeMap::new(), blocks: 1 }
    }

    /// One block when the table has at most `max_table` cells (`max_table` 0: always);
    /// otherwise blocks of consecutive regions of about `max_cells` cells each. A region is never
    /// split, so a block exceeds `max_cells` only when one region alone does.
    pub fn in_blocks(cells: BTreeSet<Cell>, max_table: usize, max_cells: usize) -> Universe {
        if max_table == 0 || cells.len() <= max_table {
            return Universe::whole(cells);
        }
        let max_cells = max_cells.max(1);
        let mut per_region: BTreeMap<&String, usize> = BTreeMap::new();
        for (region, _) in &cells {
            *per_region.entry(region).or_default() += 1;
        }
        // Evenly sized: as many blocks as the limit needs, each about the same share.
        let wanted = cells.len().div_ceil(max_cells);
        let target = cells.len().div_ceil(wanted);
        let mut block_of = BTreeMap::new();
        let (mut block, mut filled) = (0u32, 0usize);
        for (region, n) in per_region {
            if filled > 0 && filled + n > target {
                block += 1;
                filled = 0;
            }
            filled += n;
            block_of.insert(region.clone(), block);
        }
        let blocks = block as usize + 1;
        Universe { cells, block_of, blocks }
    }

    /// The block of `cell` (0 when the table is one block).
    pub fn block(&self, cell: &Cell) -> u32 {
        self.block_of.get(&cell.0).copied().unwrap_or(0)
    }

    /// How many blocks the table is split into.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Joins each block of `stuck` with the next one (the last block with the one before): for
    /// a block whose reader still narrows a sensitive cell too far with nothing left to hide in
    /// the block (a sparse column: its other cells in the block are all hidden or zero). The
    /// joined block's reader knows less, and the cell has more partners. Returns whether
    /// anything was joined (not when the table is one block already).
    pub fn join(&mut self, stuck: &BTreeSet<u32>) -> bool {
        let mut joined = false;
        // From the last block down, so that joining one leaves the numbers below it unchanged.
        for &b in stuck.iter().rev() {
            if self.blocks <= 1 {
                break;
            }
            let b = b.min(self.blocks as u32 - 1);
            let keep = if (b as usize) + 1 < self.blocks { b } else { b - 1 };
            for v in self.block_of.values_mut() {
                if *v > keep {
                    *v -= 1;
                }
            }
            self.blocks -= 1;
            joined = true;
        }
        if self.blocks == 1 {
            self.block_of.clear();
        }
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(regions: usize, breakdowns: usize) -> BTreeSet<Cell> {
        (0..regions)
            .flat_map(|r| (0..breakdowns).map(move |b| (format!("R{r:04}"), format!("division:{b:02}"))))
            .collect()
    }

    #[test]
    fn a_table_within_the_limit_is_one_block() {
        let u = Universe::in_blocks(table(10, 5), 50, 10);
        assert_eq!(u.blocks(), 1);
        assert!(u.cells.iter().all(|c| u.block(c) == 0));
        // One cell over: blocks of the block size.
        assert_eq!(Universe::in_blocks(table(10, 5), 49, 10).blocks(), 5);
        assert_eq!(Universe::in_blocks(table(10, 5), 0, 10).blocks(), 1);
    }

    #[test]
    fn joined_blocks_stay_consecutive_and_end_as_one() {
        let mut u = Universe::in_blocks(table(40, 5), 100, 20);
        assert_eq!(u.blocks(), 10);
        let before: Vec<u32> = u.cells.iter().map(|c| u.block(c)).collect();
        // Blocks 2 and 9 (the last) stuck: 2 joins 3, 9 joins 8.
        assert!(u.join(&[2, 9].into()));
        assert_eq!(u.blocks(), 8);
        for (c, b) in u.cells.iter().zip(&before) {
            let expected = match *b {
                0..=2 => *b,
                3 => 2,
                4..=8 => *b - 1,
                _ => 7,
            };
            assert_eq!(u.block(c), expected, "{c:?} was in block {b}");
        }
        while u.blocks() > 1 {
            let all: BTreeSet<u32> = (0..u.blocks() as u32).collect();
            assert!(u.join(&all));
        }
        assert!(!u.join(&[0].into()));
        assert!(u.cells.iter().all(|c| u.block(c) == 0));
    }

    #[test]
    fn blocks_are_consecutive_whole_regions_of_about_the_limit() {
        for (regions, breakdowns, max) in [(100, 7, 50), (2_800, 47, 8_000), (13, 3, 10), (5, 40, 30)] {
            let u = Universe::in_blocks(table(regions, breakdowns), max, max);
            let cells = regions * breakdowns;
            if breakdowns <= max {
                assert!(u.blocks() >= cells.div_ceil(max), "{regions}×{breakdowns}/{max}: {} blocks", u.blocks());
            }
            let mut size: BTreeMap<u32, usize> = BTreeMap::new();
            let mut last = 0;
            for c in &u.cells {
                let b = u.block(c);
                assert!(b >= last, "blocks follow the regions' order");
                last = b;
                *size.entry(b).or_default() += 1;
            }
            assert_eq!(size.len(), u.blocks());
            for (b, n) in size {
                // Over the limit only when one region alone is.
                assert!(n <= max.max(breakdowns), "{regions}×{breakdowns}/{max}: block {b} has {n} cells");
            }
            // A region is never split.
            for r in 0..regions {
                let blocks: BTreeSet<u32> =
                    u.cells.iter().filter(|c| c.0 == format!("R{r:04}")).map(|c| u.block(c)).collect();
                assert_eq!(blocks.len(), 1);
            }
        }
    }
}
