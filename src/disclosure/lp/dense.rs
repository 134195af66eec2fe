//! The dense two-phase tableau simplex that [`super::Program`] replaced, kept for the tests as
//! a second, independent implementation: a program set up from scratch ([`Program::new`], then
//! [`Program::bound`]) gives each variable's bounds, against which the revised simplex's warm
//! bounds, fixes and copies are checked. (Its own warm `fix`, removed here, gave wrong bounds on
//! free programs after several fixes; the tests therefore only set it up from scratch.)

use anyhow::{Result, bail};

const EPS: f64 = 1e-9;

/// `Σ a_j x_j = rhs`.
pub type Row = (Vec<(usize, f64)>, f64);

/// A feasible basis of `rows`, from which each variable's bounds are found.
#[derive(Clone)]
pub struct Program {
    /// Columns: for a free variable j, `2j` is its positive and `2j+1` its negative part;
    /// otherwise column j is the variable itself.
    free: bool,
    n_cols: usize,
    /// Constraint rows of the tableau (`n_cols` coefficients, then the right-hand side).
    tableau: Vec<Vec<f64>>,
    basis: Vec<usize>,
}

impl Program {
    /// Phase 1: a feasible basis. `tolerance` absorbs the rounding of published figures.
    pub fn new(n: usize, rows: &[Row], non_negative: bool, tolerance: f64) -> Result<Program> {
        let free = !non_negative;
        let n_cols = if free { 2 * n } else { n };
        let m = rows.len();
        // The artificial variables (one per row, basic at first) get no column: once out of the
        // basis they never enter again, so their columns would only be carried along.
        let width = n_cols + 1;
        let mut tableau = Vec::with_capacity(m);
        for (terms, rhs) in rows {
            let mut r = vec![0.0; width];
            let sign = if *rhs < 0.0 { -1.0 } else { 1.0 };
            for (j, a) in terms {
                if free {
                    r[2 * j] += sign * a;
                    r[2 * j + 1] -= sign * a;
                } else {
                    r[*j] += sign * a;
                }
            }
            r[width - 1] = sign * rhs;
            tableau.push(r);
        }
        // Basis entries from n_cols on name the artificials.
        let basis: Vec<usize> = (n_cols..n_cols + m).collect();
        let mut p = Program { free, n_cols, tableau, basis };
        // Minimise the artificials: maximise −Σ a_i, whose reduced costs are the column sums.
        let mut reduced = vec![0.0; width];
        for r in &p.tableau {
            for (d, a) in reduced.iter_mut().zip(r) {
                *d += a;
            }
        }
        p.optimise(reduced)?;
        let infeasibility: f64 =
            p.basis.iter().zip(&p.tableau).filter(|(b, _)| **b >= n_cols).map(|(_, r)| r[width - 1]).sum();
        if infeasibility > tolerance {
            bail!("the published figures are inconsistent (off by {infeasibility})");
        }
        // Drive the artificials out of the basis (or drop their redundant rows).
        let mut i = 0;
        while i < p.basis.len() {
            if p.basis[i] >= n_cols {
                match (0..n_cols).find(|j| p.tableau[i][*j].abs() > 1e-7) {
                    Some(j) => {
                        p.pivot(i, j);
                    }
                    None => {
                        p.tableau.remove(i);
                        p.basis.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        Ok(p)
    }

    /// Pivots on (`row`, `col`) and returns the new pivot row's non-zero entries. The tableau
    /// of a province's table is mostly zeros even after many pivots, so the other rows are
    /// updated only where the pivot row is non-zero (the same arithmetic as the dense update:
    /// subtracting `f × 0` changes nothing).
    fn pivot(&mut self, row: usize, col: usize) -> Vec<(usize, f64)> {
        let pv = self.tableau[row][col];
        // Only the non-zero entries are divided (a zero stays zero) and collected, in one pass.
        let mut pr: Vec<(usize, f64)> = Vec::new();
        for (j, x) in self.tableau[row].iter_mut().enumerate() {
            if *x != 0.0 {
                *x /= pv;
                if *x != 0.0 {
                    pr.push((j, *x));
                }
            }
        }
        for (i, r) in self.tableau.iter_mut().enumerate() {
            if i == row {
                continue;
            }
            let f = r[col];
            if f.abs() > EPS {
                for &(j, p) in &pr {
                    r[j] -= f * p;
                }
            }
        }
        self.basis[row] = col;
        pr
    }

    /// Maximises the objective whose reduced costs (over the columns, then minus its value) are
    /// `reduced`, kept up to date by each pivot (Dantzig's rule, Bland's after many steps, which
    /// cannot cycle). Returns false when unbounded.
    fn optimise(&mut self, mut reduced: Vec<f64>) -> Result<bool> {
        let cols = self.n_cols;
        let width = cols + 1;
        // Columns that cannot enter: basic.
        let mut blocked = vec![false; cols];
        for b in self.basis.iter().filter(|b| **b < cols) {
            blocked[*b] = true;
        }
        for step in 0..50_000 {
            let mut best: Option<(usize, f64)> = None;
            for (j, d) in reduced[..cols].iter().enumerate() {
                // Most columns do not improve: their cost is tested first.
                if *d <= 1e-9 || blocked[j] {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some((_, bd)) => step < 5_000 && *d > bd,
                };
                if better {
                    best = Some((j, *d));
                }
                if step >= 5_000 {
                    break;
                }
            }
            let Some((col, _)) = best else { return Ok(true) };
            let mut leave: Option<(usize, f64)> = None;
            for (i, r) in self.tableau.iter().enumerate() {
                if r[col] > 1e-9 {
                    let ratio = r[width - 1] / r[col];
                    if leave.is_none_or(|(li, lr)| {
                        ratio < lr - 1e-12 || (ratio <= lr + 1e-12 && self.basis[i] < self.basis[li])
                    }) {
                        leave = Some((i, ratio));
                    }
                }
            }
            let Some((row, _)) = leave else { return Ok(false) };
            if self.basis[row] < cols {
                blocked[self.basis[row]] = false;
            }
            blocked[col] = true;
            let pr = self.pivot(row, col);
            let f = reduced[col];
            for (j, a) in pr {
                reduced[j] -= f * a;
            }
        }
        bail!("the intruder audit's linear program did not converge")
    }

    /// The largest (or smallest) value variable `target` can take; ±∞ when unbounded. Starts
    /// from the basis the previous bound ended on (any feasible basis will do, and the optimum
    /// of one cell is usually a few pivots from the next one's), rather than from a copy of the
    /// phase-1 tableau each time: at a province's scale the copies were most of the audit.
    pub fn bound(&mut self, target: usize, maximise: bool) -> Result<f64> {
        let reduced = self.objective(target, maximise);
        if !self.optimise(reduced)? {
            return Ok(if maximise { f64::INFINITY } else { f64::NEG_INFINITY });
        }
        Ok(self.value(target))
    }

    /// The reduced costs of the objective that maximises (or minimises) `target`.
    fn objective(&self, target: usize, maximise: bool) -> Vec<f64> {
        self.objective_of(&[(target, if maximise { 1.0 } else { -1.0 })])
    }

    /// The reduced costs of the objective that maximises `Σ weight × variable`.
    fn objective_of(&self, weights: &[(usize, f64)]) -> Vec<f64> {
        let mut cost = vec![0.0; self.n_cols + 1];
        for &(target, weight) in weights {
            if self.free {
                cost[2 * target] += weight;
                cost[2 * target + 1] -= weight;
            } else {
                cost[target] += weight;
            }
        }
        // Reduced costs c_j − Σ c_B a_ij (after phase 1 every basic variable is a column).
        let mut reduced = cost.clone();
        for (i, b) in self.basis.iter().enumerate() {
            if cost[*b] != 0.0 {
                for (d, a) in reduced.iter_mut().zip(&self.tableau[i]) {
                    *d -= cost[*b] * a;
                }
            }
        }
        reduced
    }

    /// The current basic solution's value of variable `target`.
    fn value(&self, target: usize) -> f64 {
        let column = |col: usize| -> f64 {
            self.basis.iter().position(|b| *b == col).map_or(0.0, |i| *self.tableau[i].last().expect("rhs"))
        };
        if self.free { column(2 * target) - column(2 * target + 1) } else { column(target) }
    }
}
