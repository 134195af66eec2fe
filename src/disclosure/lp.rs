//! A small dense two-phase simplex for the intruder audit: maximise or minimise one variable
//! subject to linear equalities, with every variable either ≥ 0 or free. The audit's programs
//! are small (the hidden cells of one connected part of a table), so a dense tableau is enough.
//! A feasible basis is kept and reused: each bound starts where the previous one ended, and a
//! variable can be fixed on it ([`Program::fix`], a dual simplex restores feasibility), which is
//! how the release pass tries publishing one cell without a phase 1 from scratch.
//! (good_lp with microlp was tried: its dependencies change the features of a crate arrow and
//! DataFusion build on, which would rebuild them.)

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
    /// Columns fixed by [`Program::fix`]: all zeros, never entering the basis.
    fixed_col: Vec<bool>,
    /// Variables fixed by [`Program::fix`], with their values.
    fixed: Vec<Option<f64>>,
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
        let mut p = Program { free, n_cols, tableau, basis, fixed_col: vec![false; n_cols], fixed: vec![None; n] };
        // Minimise the artificials: maximise −Σ a_i, whose reduced costs are the column sums.
        let mut reduced = vec![0.0; width];
        for r in &p.tableau {
            for (d, a) in reduced.iter_mut().zip(r) {
                *d += a;
            }
        }
        p.optimise(reduced, None)?;
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
    /// cannot cycle). Returns false when unbounded. With `stop`, returns true as soon as the
    /// objective reaches it (every basis on the way is feasible, so that value is attained).
    fn optimise(&mut self, mut reduced: Vec<f64>, stop: Option<f64>) -> Result<bool> {
        let cols = self.n_cols;
        let width = cols + 1;
        // Columns that cannot enter: basic, or fixed.
        let mut blocked = self.fixed_col.clone();
        for b in self.basis.iter().filter(|b| **b < cols) {
            blocked[*b] = true;
        }
        for step in 0..50_000 {
            if stop.is_some_and(|goal| -reduced[width - 1] >= goal) {
                return Ok(true);
            }
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
        if !self.optimise(reduced, None)? {
            return Ok(if maximise { f64::INFINITY } else { f64::NEG_INFINITY });
        }
        Ok(self.value(target))
    }

    /// Whether variable `target` can reach `goal` (at least, or with `maximise` false at most):
    /// the simplex stops as soon as it does, which is much quicker than the exact bound. Also
    /// returns the feasible point where it stopped. Like [`Program::bound`], it starts from the
    /// basis the previous call ended on.
    pub fn reaches(&mut self, target: usize, maximise: bool, goal: f64) -> Result<(bool, Vec<f64>)> {
        let reduced = self.objective(target, maximise);
        let sign = if maximise { 1.0 } else { -1.0 };
        // Unbounded, or stopped at (or optimal beyond) the goal.
        let bounded = self.optimise(reduced, Some(sign * goal))?;
        Ok((!bounded || sign * self.value(target) >= sign * goal, self.point()))
    }

    /// The current basic solution: a feasible point.
    pub fn point(&self) -> Vec<f64> {
        let n = if self.free { self.n_cols / 2 } else { self.n_cols };
        let mut col = vec![0.0; self.n_cols];
        for (b, r) in self.basis.iter().zip(&self.tableau) {
            col[*b] = *r.last().expect("rhs");
        }
        (0..n)
            .map(|j| match self.fixed[j] {
                Some(v) => v,
                None if self.free => col[2 * j] - col[2 * j + 1],
                None => col[j],
            })
            .collect()
    }

    /// The memory its tableau holds, in bytes.
    pub fn bytes(&self) -> usize {
        self.tableau.iter().map(|r| r.capacity()).sum::<usize>() * std::mem::size_of::<f64>()
    }

    /// Makes this a copy of `other`, reusing this one's memory (a trial's copy of a warm basis,
    /// made hundreds of times over a province's table of ~3,000 unknowns).
    pub fn copy_from(&mut self, other: &Program) {
        self.free = other.free;
        self.n_cols = other.n_cols;
        self.tableau.truncate(other.tableau.len());
        for (mine, theirs) in self.tableau.iter_mut().zip(&other.tableau) {
            mine.clone_from(theirs);
        }
        let have = self.tableau.len();
        self.tableau.extend(other.tableau[have..].iter().cloned());
        self.basis.clone_from(&other.basis);
        self.fixed_col.clone_from(&other.fixed_col);
        self.fixed.clone_from(&other.fixed);
    }

    /// Fixes variable `var` at `value`, keeping the rest of the current basis: the program of
    /// the same rows with `var` known (a cell published). The basis stays feasible where it can
    /// (a few dual simplex pivots, instead of a phase 1 from scratch). Returns false when no
    /// feasible basis was found that way (infeasible beyond `tolerance`, or too many pivots):
    /// the caller then sets the program up from scratch, which decides.
    pub fn fix(&mut self, var: usize, value: f64, tolerance: f64) -> bool {
        if self.fixed[var].is_some() {
            return self.fixed[var] == Some(value);
        }
        // Once fixed, a column's sign no longer matters: its value moves to the right-hand side.
        let parts = if self.free {
            vec![(2 * var, value.max(0.0)), (2 * var + 1, (-value).max(0.0))]
        } else {
            vec![(var, value)]
        };
        for (col, at) in parts {
            if !self.fix_column(col, at, tolerance) {
                return false;
            }
        }
        self.fixed[var] = Some(value);
        self.restore(tolerance)
    }

    /// Makes column `col` non-basic at `at` and removes it (its coefficients move to the
    /// right-hand side). Right-hand sides may turn negative: [`Program::restore`] follows.
    fn fix_column(&mut self, col: usize, at: f64, tolerance: f64) -> bool {
        let width = self.n_cols + 1;
        if let Some(i) = self.basis.iter().position(|b| *b == col) {
            // Out of the basis: onto the largest other entry of its row (not its own negative
            // part, which would only take its place).
            let partner = if self.free { Some(col ^ 1) } else { None };
            let enter = (0..self.n_cols)
                .filter(|j| *j != col && Some(*j) != partner && !self.fixed_col[*j])
                .filter(|j| self.tableau[i][*j].abs() > 1e-7)
                .max_by(|a, b| self.tableau[i][*a].abs().total_cmp(&self.tableau[i][*b].abs()).then(b.cmp(a)));
            match enter {
                Some(j) => {
                    self.pivot(i, j);
                }
                None => {
                    // The row reads `col = rhs`: the variable was determined already.
                    if (self.tableau[i][width - 1] - at).abs() > tolerance.max(1e-9) {
                        return false;
                    }
                    self.tableau.remove(i);
                    self.basis.remove(i);
                }
            }
        }
        for r in self.tableau.iter_mut() {
            let a = r[col];
            if a != 0.0 {
                r[width - 1] -= a * at;
                r[col] = 0.0;
            }
        }
        self.fixed_col[col] = true;
        true
    }

    /// Restores a feasible basis after [`Program::fix`] by the dual simplex with a zero
    /// objective (every basis is dual feasible): a row whose right-hand side is negative leaves
    /// for a column with a negative entry in it. The most negative row first, then Bland's rule
    /// (lowest basic column, lowest entering column), which cannot cycle.
    fn restore(&mut self, tolerance: f64) -> bool {
        let width = self.n_cols + 1;
        let tol = tolerance.max(1e-9);
        for step in 0..20_000 {
            let bland = step >= 1_000;
            let mut leave: Option<(usize, f64)> = None;
            for (i, r) in self.tableau.iter().enumerate() {
                let b = r[width - 1];
                if b < -tol {
                    let better = match leave {
                        None => true,
                        Some((li, lb)) => {
                            if bland {
                                self.basis[i] < self.basis[li]
                            } else {
                                b < lb
                            }
                        }
                    };
                    if better {
                        leave = Some((i, b));
                    }
                }
            }
            let Some((row, _)) = leave else { return true };
            let r = &self.tableau[row];
            let candidates = (0..self.n_cols).filter(|j| r[*j] < -1e-9 && !self.fixed_col[*j]);
            let enter =
                if bland { candidates.min() } else { candidates.max_by(|a, b| r[*b].total_cmp(&r[*a]).then(b.cmp(a))) };
            // No negative entry: the row cannot be met with non-negative columns.
            let Some(col) = enter else { return false };
            self.pivot(row, col);
        }
        false
    }

    /// The reduced costs of the objective that maximises (or minimises) `target`.
    fn objective(&self, target: usize, maximise: bool) -> Vec<f64> {
        self.objective_of(&[(target, if maximise { 1.0 } else { -1.0 })])
    }

    /// Maximises `Σ weight × variable` (until optimal, or until found unbounded) and returns the
    /// feasible point where it stopped: one program that moves many variables towards their
    /// goals at once, where one each would take many.
    pub fn sweep(&mut self, weights: &[(usize, f64)]) -> Result<Vec<f64>> {
        let reduced = self.objective_of(weights);
        self.optimise(reduced, None)?;
        Ok(self.point())
    }

    /// The reduced costs of the objective that maximises `Σ weight × variable`.
    fn objective_of(&self, weights: &[(usize, f64)]) -> Vec<f64> {
        let mut cost = vec![0.0; self.n_cols + 1];
        for &(target, weight) in weights {
            if self.fixed[target].is_some() {
                continue;
            }
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
        if let Some(v) = self.fixed[target] {
            return v;
        }
        let column = |col: usize| -> f64 {
            self.basis.iter().position(|b| *b == col).map_or(0.0, |i| *self.tableau[i].last().expect("rhs"))
        };
        if self.free { column(2 * target) - column(2 * target + 1) } else { column(target) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of_first_table() -> Vec<Row> {
        vec![(vec![(0, 1.0), (1, 1.0)], 10.0), (vec![(1, 1.0), (2, 1.0)], 4.0)]
    }

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
        // `reaches` agrees with the bounds: x0 ∈ [6, 10].
        let mut p = Program::new(3, &rows_of_first_table(), true, 1e-9).unwrap();
        let reaches = |p: &mut Program, t, max, goal| p.reaches(t, max, goal).unwrap().0;
        assert!(reaches(&mut p, 0, true, 10.0) && !reaches(&mut p, 0, true, 10.5));
        assert!(reaches(&mut p, 0, false, 6.0) && !reaches(&mut p, 0, false, 5.5));
        // The point where it stopped is feasible and reaches the goal.
        let (_, x) = p.reaches(0, true, 7.0).unwrap();
        assert!(x[0] >= 7.0 - 1e-9 && (x[0] + x[1] - 10.0).abs() < 1e-9 && (x[1] + x[2] - 4.0).abs() < 1e-9, "{x:?}");
        let mut p = Program::new(3, &rows_of_first_table(), false, 1e-9).unwrap();
        assert!(reaches(&mut p, 0, true, 1e12) && reaches(&mut p, 2, false, -1e12));
        // Inconsistent: refused.
        let rows: Vec<Row> = vec![(vec![(0, 1.0)], 5.0), (vec![(0, 1.0)], 6.0)];
        assert!(Program::new(1, &rows, true, 1e-9).is_err());
    }

    /// Rows of `relations` (`Σ a·x = 0` over cells) with the cells not in `unknown` moved to
    /// the right-hand side; the unknowns numbered by their position in `unknown`.
    fn rows_with(relations: &[Vec<(usize, f64)>], values: &[f64], unknown: &[usize]) -> Vec<Row> {
        relations
            .iter()
            .map(|rel| {
                let mut terms = Vec::new();
                let mut rhs = 0.0;
                for &(c, a) in rel {
                    match unknown.iter().position(|u| *u == c) {
                        Some(k) => terms.push((k, a)),
                        None => rhs -= a * values[c],
                    }
                }
                (terms, rhs)
            })
            .collect()
    }

    /// Fixing a variable on a feasible basis (a cell published) gives the same bounds as
    /// setting the program up again without it, over generated tables with margins (rows,
    /// columns, grand total), many cells hidden, zeros among them, non-negative and free.
    #[test]
    fn fixing_a_variable_matches_a_program_set_up_again() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let mut fixes = 0;
        for seed in 0..60u64 {
            let mut rng = SmallRng::seed_from_u64(seed);
            let (nr, nc) = (rng.random_range(2..6usize), rng.random_range(2..6usize));
            // Cells: the body r·nc + c, row totals, column totals, the grand total.
            let body = nr * nc;
            // Free programs get negative figures too (a profit).
            let non_negative = seed % 3 != 0;
            let shift = if non_negative { 0.0 } else { 20.0 };
            let mut values: Vec<f64> = (0..body)
                .map(|_| if rng.random_bool(0.3) { 0.0 } else { f64::from(rng.random_range(1..50u32)) - shift })
                .collect();
            let row_total = |r: usize| body + r;
            let col_total = |c: usize| body + nr + c;
            let grand = body + nr + nc;
            values.resize(grand + 1, 0.0);
            let mut relations: Vec<Vec<(usize, f64)>> = Vec::new();
            for r in 0..nr {
                values[row_total(r)] = (0..nc).map(|c| values[r * nc + c]).sum();
                let mut rel: Vec<(usize, f64)> = (0..nc).map(|c| (r * nc + c, 1.0)).collect();
                rel.push((row_total(r), -1.0));
                relations.push(rel);
            }
            for c in 0..nc {
                values[col_total(c)] = (0..nr).map(|r| values[r * nc + c]).sum();
                let mut rel: Vec<(usize, f64)> = (0..nr).map(|r| (r * nc + c, 1.0)).collect();
                rel.push((col_total(c), -1.0));
                relations.push(rel);
            }
            values[grand] = (0..nr).map(|r| values[row_total(r)]).sum();
            let mut rel: Vec<(usize, f64)> = (0..nr).map(|r| (row_total(r), 1.0)).collect();
            rel.push((grand, -1.0));
            relations.push(rel);
            let mut unknown: Vec<usize> = (0..=grand).filter(|_| rng.random_bool(0.6)).collect();
            if unknown.len() < 3 {
                continue;
            }
            let mut warm = Program::new(unknown.len(), &rows_with(&relations, &values, &unknown), non_negative, 1e-9)
                .expect("the true values are feasible");
            // Publish unknowns one at a time (the warm program keeps its numbering).
            let numbering = unknown.clone();
            while unknown.len() > 2 {
                let published = unknown.remove(rng.random_range(0..unknown.len()));
                let at = numbering.iter().position(|u| *u == published).unwrap();
                assert!(warm.fix(at, values[published], 1e-9), "seed {seed}: fixing {published} failed");
                fixes += 1;
                let mut again =
                    Program::new(unknown.len(), &rows_with(&relations, &values, &unknown), non_negative, 1e-9).unwrap();
                for (k, cell) in unknown.iter().enumerate() {
                    let w = numbering.iter().position(|u| u == cell).unwrap();
                    for maximise in [true, false] {
                        let (a, b) = (warm.bound(w, maximise).unwrap(), again.bound(k, maximise).unwrap());
                        assert!(
                            a == b || (a - b).abs() < 1e-6,
                            "seed {seed}, cell {cell}, maximise {maximise}: {a} after fixing, {b} set up again"
                        );
                    }
                }
                // The fixed variable reads as its value in the points.
                assert_eq!(warm.point()[at], values[published]);
            }
        }
        assert!(fixes > 200, "only {fixes} fixes tried");
    }
}
