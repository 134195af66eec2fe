//! A small dense two-phase simplex for the intruder audit: maximise or minimise one variable
//! subject to linear equalities, with every variable either ≥ 0 or free. The audit's programs
//! are small (the hidden cells of one connected part of a table), so a dense tableau is enough.
//! (good_lp with microlp was tried: its dependencies change the features of a crate arrow and
//! DataFusion build on, which would rebuild them.)

use anyhow::{Result, bail};

const EPS: f64 = 1e-9;

/// `Σ a_j x_j = rhs`.
pub type Row = (Vec<(usize, f64)>, f64);

/// A feasible basis of `rows`, from which each variable's bounds are found.
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
        let width = n_cols + m + 1;
        let mut tableau = Vec::with_capacity(m);
        for (i, (terms, rhs)) in rows.iter().enumerate() {
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
            r[n_cols + i] = 1.0;
            r[width - 1] = sign * rhs;
            tableau.push(r);
        }
        let basis: Vec<usize> = (n_cols..n_cols + m).collect();
        let mut p = Program { free, n_cols, tableau, basis };
        // Minimise the artificials: maximise −Σ a_i.
        let mut cost = vec![0.0; width];
        for c in cost.iter_mut().skip(n_cols).take(m) {
            *c = -1.0;
        }
        p.optimise(&cost, n_cols + m)?;
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
                    Some(j) => p.pivot(i, j),
                    None => {
                        p.tableau.remove(i);
                        p.basis.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        // Artificial columns are no longer needed.
        for r in &mut p.tableau {
            let rhs = r[width - 1];
            r.truncate(n_cols);
            r.push(rhs);
        }
        Ok(p)
    }

    fn pivot(&mut self, row: usize, col: usize) {
        let pv = self.tableau[row][col];
        for x in self.tableau[row].iter_mut() {
            *x /= pv;
        }
        let pr = self.tableau[row].clone();
        for (i, r) in self.tableau.iter_mut().enumerate() {
            if i == row {
                continue;
            }
            let f = r[col];
            if f.abs() > EPS {
                for (x, p) in r.iter_mut().zip(&pr) {
                    *x -= f * p;
                }
            }
        }
        self.basis[row] = col;
    }

    /// Maximises `cost · x` over the first `cols` columns (Dantzig's rule, Bland's after many
    /// steps, which cannot cycle). Returns false when unbounded.
    fn optimise(&mut self, cost: &[f64], cols: usize) -> Result<bool> {
        let width = self.tableau.first().map_or(0, |r| r.len());
        let mut in_basis = vec![false; width];
        for b in &self.basis {
            in_basis[*b] = true;
        }
        for step in 0..50_000 {
            // Reduced costs c_j − Σ c_B a_ij: only rows whose basic variable has a cost
            // contribute (in phase 2 the cost is one variable, so this is one or two rows).
            let priced: Vec<(usize, f64)> =
                self.basis.iter().enumerate().filter(|(_, b)| cost[**b] != 0.0).map(|(i, b)| (i, cost[*b])).collect();
            let mut best: Option<(usize, f64)> = None;
            for j in 0..cols {
                if in_basis[j] {
                    continue;
                }
                let mut d = cost[j];
                for (i, c) in &priced {
                    d -= c * self.tableau[*i][j];
                }
                if d > 1e-9 {
                    let better = match best {
                        None => true,
                        Some((_, bd)) => step < 5_000 && d > bd,
                    };
                    if better {
                        best = Some((j, d));
                    }
                    if step >= 5_000 {
                        break;
                    }
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
            in_basis[self.basis[row]] = false;
            in_basis[col] = true;
            self.pivot(row, col);
        }
        bail!("the intruder audit's linear program did not converge")
    }

    /// The largest (or smallest) value variable `target` can take; ±∞ when unbounded. Starts
    /// from the basis the previous bound ended on (any feasible basis will do, and the optimum
    /// of one cell is usually a few pivots from the next one's), rather than from a copy of the
    /// phase-1 tableau each time: at a province's scale the copies were most of the audit.
    pub fn bound(&mut self, target: usize, maximise: bool) -> Result<f64> {
        let mut cost = vec![0.0; self.n_cols + 1];
        let sign = if maximise { 1.0 } else { -1.0 };
        if self.free {
            cost[2 * target] = sign;
            cost[2 * target + 1] = -sign;
        } else {
            cost[target] = sign;
        }
        if !self.optimise(&cost, self.n_cols)? {
            return Ok(if maximise { f64::INFINITY } else { f64::NEG_INFINITY });
        }
        let value = |col: usize| -> f64 {
            self.basis.iter().position(|b| *b == col).map_or(0.0, |i| *self.tableau[i].last().expect("rhs"))
        };
        Ok(if self.free { value(2 * target) - value(2 * target + 1) } else { value(target) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_a_small_table() {
        // x0 + x1 = 10, x1 + x2 = 4, x ≥ 0: x0 ∈ [6, 10], x1 ∈ [0, 4], x2 ∈ [0, 4].
        let rows: Vec<Row> = vec![(vec![(0, 1.0), (1, 1.0)], 10.0), (vec![(1, 1.0), (2, 1.0)], 4.0)];
        let mut p = Program::new(3, &rows, true, 1e-9).unwrap();
        let mut b = |t, max| p.bound(t, max).unwrap();
        assert!((b(0, false) - 6.0).abs() < 1e-9 && (b(0, true) - 10.0).abs() < 1e-9);
        assert!((b(1, false)).abs() < 1e-9 && (b(1, true) - 4.0).abs() < 1e-9);
        // Free variables: unbounded both ways.
        let mut p = Program::new(3, &rows, false, 1e-9).unwrap();
        assert_eq!(p.bound(0, true).unwrap(), f64::INFINITY);
        assert_eq!(p.bound(2, false).unwrap(), f64::NEG_INFINITY);
        // x0 − x1 = −3 (a negative right-hand side), x0 + x1 = 5: x0 = 1 exactly.
        let rows: Vec<Row> = vec![(vec![(0, 1.0), (1, -1.0)], -3.0), (vec![(0, 1.0), (1, 1.0)], 5.0)];
        let mut p = Program::new(2, &rows, true, 1e-9).unwrap();
        assert!((p.bound(0, true).unwrap() - 1.0).abs() < 1e-9 && (p.bound(0, false).unwrap() - 1.0).abs() < 1e-9);
        // Inconsistent: refused.
        let rows: Vec<Row> = vec![(vec![(0, 1.0)], 5.0), (vec![(0, 1.0)], 6.0)];
        assert!(Program::new(1, &rows, true, 1e-9).is_err());
    }
}
