//! A small revised two-phase simplex for the intruder audit: maximise or minimise one variable
//! subject to linear equalities, with every variable either ≥ 0 or free. The constraint matrix
//! is kept sparse (by columns and by rows: a province's table relations have two or three
//! non-zeros a column), the basis as a sparse LU factorisation with an eta file on top of it
//! (refactorised every [`REFACTOR`] pivots), and the reduced costs as one vector updated from
//! the pivot row (one BTRAN and a row-wise product with the sparse matrix). A pivot then costs
//! a few vectors of the number of rows, where the dense tableau it replaced (kept for the tests
//! in `lp/dense.rs`) passed over a 674 × 2,926 tableau of a province's table, and a copy of a
//! warm program is its factors (hundreds of KB) rather than that tableau (16 MB).
//! A feasible basis is kept and reused: each bound starts where the previous one ended, and a
//! variable can be fixed on it ([`Program::fix`], a dual simplex restores feasibility), which is
//! how the release pass tries publishing one cell without a phase 1 from scratch.
//! (good_lp with microlp was tried: its dependencies change the features of a crate arrow and
//! DataFusion build on, which would rebuild them. The pure-Rust solvers (microlp, minilp) also
//! fix a problem's objective when it is set up, where each of a province's ~25,000 bounds here
//! starts from the basis the previous one ended on; HiGHS would need a C++ build.)

use anyhow::{Result, bail};
use std::sync::Arc;

#[cfg(test)]
mod dense;

const EPS: f64 = 1e-9;
/// Not basic (in `Program::pos`).
const NONE: usize = usize::MAX;
/// Eta columns kept on top of the LU factors before the basis is factorised again.
const REFACTOR: usize = 64;
/// Open goals worth a sweep ([`Program::sweep_while`]) rather than a program each.
const SWEEP_AT_LEAST: usize = 16;
/// Entries smaller than this are dropped from eta columns.
const TINY: f64 = 1e-14;

/// `Σ a_j x_j = rhs`.
pub type Row = (Vec<(usize, f64)>, f64);

/// The constraint matrix, rows signed so that their right-hand sides are ≥ 0, by columns and
/// by rows. Shared by the copies of a program (it never changes: a fixed column is only
/// barred from the basis, its value moved to the right-hand side).
struct Matrix {
    /// By columns: each column's rows and entries.
    cols: Packed,
    /// By rows: each row's columns and entries.
    rows: Packed,
}

/// Sparse vectors stored one after another: vector k's indices and entries are at
/// `start[k]..start[k + 1]` of `idx` and `val`.
#[derive(Clone, Default)]
struct Packed {
    start: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
}

impl Packed {
    /// No vectors (`start` holds the 0 the first one starts at).
    fn clear(&mut self) {
        self.start.clear();
        self.start.push(0);
        self.idx.clear();
        self.val.clear();
    }

    /// Makes this a copy of `other`, reusing this one's memory.
    fn copy_from(&mut self, other: &Packed) {
        self.start.clone_from(&other.start);
        self.idx.clone_from(&other.idx);
        self.val.clone_from(&other.val);
    }

    /// The same entries by the other dimension (`n` vectors): vector j lists, in order of k,
    /// every vector k with an entry at j.
    fn transpose(&self, n: usize) -> Packed {
        let mut start = vec![0usize; n + 1];
        for j in &self.idx {
            start[*j as usize + 1] += 1;
        }
        for j in 0..n {
            start[j + 1] += start[j];
        }
        let mut fill = start.clone();
        let mut idx = vec![0u32; self.idx.len()];
        let mut val = vec![0.0; self.idx.len()];
        for (k, w) in self.start.windows(2).enumerate() {
            for e in w[0]..w[1] {
                let j = self.idx[e] as usize;
                idx[fill[j]] = k as u32;
                val[fill[j]] = self.val[e];
                fill[j] += 1;
            }
        }
        Packed { start, idx, val }
    }

    fn bytes(&self) -> usize {
        self.start.capacity() * std::mem::size_of::<usize>()
            + self.idx.capacity() * std::mem::size_of::<u32>()
            + self.val.capacity() * std::mem::size_of::<f64>()
    }
}

/// B = L·U (rows and columns permuted) followed by eta columns (product form).
#[derive(Clone, Default)]
struct Factor {
    /// L: eliminations in pivot order, each subtracting `l × v[piv]` from the rows listed.
    l_piv: Vec<u32>,
    l: Packed,
    /// U in pivot order k: its row, its basis position, its diagonal.
    u_row: Vec<u32>,
    u_pos: Vec<u32>,
    u_diag: Vec<f64>,
    /// For BTRAN: the pivots with off-diagonal entries in their U row (in pivot order), then
    /// the others (a table's basis: more than half), each with its diagonal's reciprocal.
    bt_k: Vec<u32>,
    bt_split: usize,
    bt_inv: Vec<f64>,
    /// U's off-diagonal entries by pivot column: (row of an earlier pivot, entry).
    uc: Packed,
    /// U's off-diagonal entries by pivot row: (basis position of a later pivot, entry).
    ur: Packed,
    /// Eta columns: position, pivot entry, the other entries.
    e_piv: Vec<u32>,
    e_diag: Vec<f64>,
    e: Packed,
    /// Each row's L elimination (or `u32::MAX`) and U pivot.
    l_of_row: Vec<u32>,
    k_of_row: Vec<u32>,
    /// Scratch of the sparse FTRAN (marks left all false).
    row_mark: Vec<bool>,
    pos_mark: Vec<bool>,
    rows: Vec<usize>,
    ks: Vec<u32>,
}

impl Factor {
    fn bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        let i = std::mem::size_of::<u32>();
        [&self.l, &self.uc, &self.ur, &self.e].iter().map(|p| p.bytes()).sum::<usize>()
            + (self.u_diag.capacity() + self.bt_inv.capacity() + self.e_diag.capacity()) * f
            + (self.l_piv.capacity()
                + self.u_row.capacity()
                + self.u_pos.capacity()
                + self.bt_k.capacity()
                + self.e_piv.capacity())
                * i
    }

    /// Makes this a copy of `other`'s factors, reusing this one's memory (the derived
    /// `clone_from` would allocate afresh); the scratch is only sized, not copied.
    fn copy_from(&mut self, other: &Factor) {
        self.l_piv.clone_from(&other.l_piv);
        self.l.copy_from(&other.l);
        self.u_row.clone_from(&other.u_row);
        self.u_pos.clone_from(&other.u_pos);
        self.u_diag.clone_from(&other.u_diag);
        self.bt_k.clone_from(&other.bt_k);
        self.bt_split = other.bt_split;
        self.bt_inv.clone_from(&other.bt_inv);
        self.uc.copy_from(&other.uc);
        self.ur.copy_from(&other.ur);
        self.e_piv.clone_from(&other.e_piv);
        self.e_diag.clone_from(&other.e_diag);
        self.e.copy_from(&other.e);
        self.l_of_row.clone_from(&other.l_of_row);
        self.k_of_row.clone_from(&other.k_of_row);
        let m = other.row_mark.len();
        if self.row_mark.len() != m {
            self.row_mark.clear();
            self.row_mark.resize(m, false);
            self.pos_mark.clear();
            self.pos_mark.resize(m, false);
        }
    }

    fn etas(&self) -> usize {
        self.e_piv.len()
    }

    fn record(&mut self, r: usize, c: usize, a: f64, urow: &[(usize, f64)], lcol: &[(usize, f64)]) {
        self.u_row.push(r as u32);
        self.u_pos.push(c as u32);
        self.u_diag.push(a);
        for &(j, u) in urow {
            self.ur.idx.push(j as u32);
            self.ur.val.push(u);
        }
        self.ur.start.push(self.ur.idx.len());
        if !lcol.is_empty() {
            self.l_piv.push(r as u32);
            for &(i, l) in lcol {
                self.l.idx.push(i as u32);
                self.l.val.push(l);
            }
            self.l.start.push(self.l.idx.len());
        }
    }

    /// Factorises the basis whose columns (by position) are given by `cs`, `cr`, `cv` (by
    /// columns, entries by row): singletons first (a table's basis is mostly triangular:
    /// no fill, flat arrays), then Markowitz pivoting on what is left. False when the basis is
    /// singular.
    fn factorise(&mut self, m: usize, basis: &Packed) -> bool {
        let (cs, cr, cv) = (&basis.start[..], &basis.idx[..], &basis.val[..]);
        self.l_piv.clear();
        self.l.clear();
        self.u_row.clear();
        self.u_pos.clear();
        self.u_diag.clear();
        self.ur.clear();
        self.e_piv.clear();
        self.e_diag.clear();
        self.e.clear();
        let by_rows = basis.transpose(m);
        let (rs, rcol, rval) = (&by_rows.start[..], &by_rows.idx[..], &by_rows.val[..]);
        let mut ccount: Vec<usize> = (0..m).map(|c| cs[c + 1] - cs[c]).collect();
        let mut rcount: Vec<usize> = (0..m).map(|r| rs[r + 1] - rs[r]).collect();
        let mut row_done = vec![false; m];
        let mut col_done = vec![false; m];
        let mut col_q: Vec<usize> = (0..m).filter(|c| ccount[*c] == 1).collect();
        let mut row_q: Vec<usize> = (0..m).filter(|r| rcount[*r] == 1).collect();
        let mut lcol: Vec<(usize, f64)> = Vec::new();
        let mut urow: Vec<(usize, f64)> = Vec::new();
        let mut done = 0;
        'singletons: while done < m {
            while let Some(c) = col_q.pop() {
                if col_done[c] || ccount[c] != 1 {
                    continue;
                }
                let Some(e) = (cs[c]..cs[c + 1]).find(|e| !row_done[cr[*e] as usize]) else { continue };
                let (r, a) = (cr[e] as usize, cv[e]);
                if a.abs() <= 1e-11 {
                    continue;
                }
                urow.clear();
                for e in rs[r]..rs[r + 1] {
                    let j = rcol[e] as usize;
                    if j != c && !col_done[j] {
                        urow.push((j, rval[e]));
                        ccount[j] -= 1;
                        if ccount[j] == 1 {
                            col_q.push(j);
                        }
                    }
                }
                row_done[r] = true;
                col_done[c] = true;
                self.record(r, c, a, &urow, &[]);
                done += 1;
                continue 'singletons;
            }
            while let Some(r) = row_q.pop() {
                if row_done[r] || rcount[r] != 1 {
                    continue;
                }
                let Some(e) = (rs[r]..rs[r + 1]).find(|e| !col_done[rcol[*e] as usize]) else { continue };
                let (c, a) = (rcol[e] as usize, rval[e]);
                let big =
                    (cs[c]..cs[c + 1]).filter(|e| !row_done[cr[*e] as usize]).map(|e| cv[e].abs()).fold(0.0, f64::max);
                if a.abs() < 0.01 * big || a.abs() <= 1e-11 {
                    continue;
                }
                lcol.clear();
                for e in cs[c]..cs[c + 1] {
                    let i = cr[e] as usize;
                    if i != r && !row_done[i] {
                        lcol.push((i, cv[e] / a));
                        rcount[i] -= 1;
                        if rcount[i] == 1 {
                            row_q.push(i);
                        }
                    }
                }
                row_done[r] = true;
                col_done[c] = true;
                self.record(r, c, a, &[], &lcol);
                done += 1;
                continue 'singletons;
            }
            break;
        }
        if done < m {
            // The bump: the active submatrix, entries by column, pattern by row.
            let mut ce: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
            let mut rc: Vec<Vec<usize>> = vec![Vec::new(); m];
            for c in (0..m).filter(|c| !col_done[*c]) {
                for e in cs[c]..cs[c + 1] {
                    let r = cr[e] as usize;
                    if !row_done[r] {
                        ce[c].push((r, cv[e]));
                        rc[r].push(c);
                    }
                }
            }
            // The bump's columns, in order (scanned at every step: not all m of them).
            let mut active: Vec<usize> = (0..m).filter(|c| !col_done[*c]).collect();
            for _ in done..m {
                // Markowitz: the least (r − 1)(c − 1) among entries at least a tenth of their
                // column's largest; ties to the larger entry.
                let mut best: Option<(usize, f64, usize, usize)> = None;
                for &c in &active {
                    if ce[c].is_empty() {
                        continue;
                    }
                    let cc = ce[c].len() - 1;
                    let big = ce[c].iter().map(|e| e.1.abs()).fold(0.0, f64::max);
                    for &(r, a) in &ce[c] {
                        let a = a.abs();
                        if a < 0.1 * big || a <= 1e-11 {
                            continue;
                        }
                        let cost = (rc[r].len() - 1) * cc;
                        if best.is_none_or(|(bc, ba, _, _)| cost < bc || (cost == bc && a > ba)) {
                            best = Some((cost, a, r, c));
                        }
                    }
                    if best.is_some_and(|b| b.0 == 0) {
                        break;
                    }
                }
                let Some((_, _, r, c)) = best else { return false };
                // Eliminate: U's row is row r's other active entries, L's column column c's.
                let a_rc = ce[c].iter().find(|e| e.0 == r).expect("pivot").1;
                urow.clear();
                for &j in &rc[r] {
                    if j == c {
                        continue;
                    }
                    let k = ce[j].iter().position(|e| e.0 == r).expect("pattern");
                    urow.push((j, ce[j].swap_remove(k).1));
                }
                lcol.clear();
                for &(i, a) in &ce[c] {
                    if i == r {
                        continue;
                    }
                    lcol.push((i, a / a_rc));
                    let k = rc[i].iter().position(|j| *j == c).expect("pattern");
                    rc[i].swap_remove(k);
                }
                for &(i, l) in &lcol {
                    for &(j, u) in &urow {
                        match ce[j].iter_mut().find(|e| e.0 == i) {
                            Some(e) => e.1 -= l * u,
                            None => {
                                ce[j].push((i, -l * u));
                                rc[i].push(j);
                            }
                        }
                    }
                }
                ce[c].clear();
                rc[r].clear();
                row_done[r] = true;
                col_done[c] = true;
                let at = active.binary_search(&c).expect("active");
                active.remove(at);
                self.record(r, c, a_rc, &urow, &lcol);
            }
        }
        self.l_of_row.clear();
        self.l_of_row.resize(m, u32::MAX);
        for (k, r) in self.l_piv.iter().enumerate() {
            self.l_of_row[*r as usize] = k as u32;
        }
        self.k_of_row.clear();
        self.k_of_row.resize(m, 0);
        for (k, r) in self.u_row.iter().enumerate() {
            self.k_of_row[*r as usize] = k as u32;
        }
        self.row_mark.clear();
        self.row_mark.resize(m, false);
        self.pos_mark.clear();
        self.pos_mark.resize(m, false);
        // BTRAN's order: a pivot without U-row entries changes no other position, so it can
        // wait until the end (what it reads is final once every earlier pivot is done).
        self.bt_k.clear();
        self.bt_k.extend((0..m as u32).filter(|k| self.ur.start[*k as usize + 1] > self.ur.start[*k as usize]));
        self.bt_split = self.bt_k.len();
        self.bt_k.extend((0..m as u32).filter(|k| self.ur.start[*k as usize + 1] == self.ur.start[*k as usize]));
        self.bt_inv.clear();
        self.bt_inv.extend(self.bt_k.iter().map(|k| 1.0 / self.u_diag[*k as usize]));
        // U by columns (for FTRAN): pivot k's entry at position c_j goes to column j.
        let mut k_of = vec![0usize; m];
        for (k, c) in self.u_pos.iter().enumerate() {
            k_of[*c as usize] = k;
        }
        let mut count = vec![0usize; m + 1];
        for c in &self.ur.idx {
            count[k_of[*c as usize] + 1] += 1;
        }
        for k in 0..m {
            count[k + 1] += count[k];
        }
        self.uc.start.clear();
        self.uc.start.extend_from_slice(&count);
        self.uc.idx.clear();
        self.uc.idx.resize(self.ur.idx.len(), 0);
        self.uc.val.clear();
        self.uc.val.resize(self.ur.idx.len(), 0.0);
        for k in 0..m {
            for e in self.ur.start[k]..self.ur.start[k + 1] {
                let j = k_of[self.ur.idx[e] as usize];
                let at = count[j];
                count[j] += 1;
                self.uc.idx[at] = self.u_row[k];
                self.uc.val[at] = self.ur.val[e];
            }
        }
        true
    }

    /// Solves B·out = v: `v` by row (left all zero), `out` by basis position (overwritten).
    fn ftran(&self, v: &mut [f64], out: &mut [f64]) {
        for k in 0..self.l_piv.len() {
            let t = v[self.l_piv[k] as usize];
            if t != 0.0 {
                for e in self.l.start[k]..self.l.start[k + 1] {
                    v[self.l.idx[e] as usize] -= self.l.val[e] * t;
                }
            }
        }
        for k in (0..self.u_row.len()).rev() {
            let r = self.u_row[k] as usize;
            let t = v[r];
            v[r] = 0.0;
            let c = self.u_pos[k] as usize;
            if t == 0.0 {
                out[c] = 0.0;
                continue;
            }
            let x = t / self.u_diag[k];
            out[c] = x;
            for e in self.uc.start[k]..self.uc.start[k + 1] {
                v[self.uc.idx[e] as usize] -= self.uc.val[e] * x;
            }
        }
        for k in 0..self.e_piv.len() {
            let p = self.e_piv[k] as usize;
            let x = out[p];
            if x != 0.0 {
                let x = x / self.e_diag[k];
                out[p] = x;
                for e in self.e.start[k]..self.e.start[k + 1] {
                    out[self.e.idx[e] as usize] -= self.e.val[e] * x;
                }
            }
        }
    }

    /// Solves B·out = v for a sparse `v` (by row, non-zero only in the rows `input`, left all
    /// zero): only the eliminations and pivots its non-zeros reach are visited. `out` (by
    /// basis position) must be zero on entry; its non-zeros are listed in `nz`.
    fn ftran_sparse(&mut self, v: &mut [f64], out: &mut [f64], nz: &mut Vec<usize>, input: &[u32]) {
        nz.clear();
        let mut rows = std::mem::take(&mut self.rows);
        let mut ks = std::mem::take(&mut self.ks);
        rows.clear();
        for &r in input {
            let r = r as usize;
            if !self.row_mark[r] {
                self.row_mark[r] = true;
                rows.push(r);
            }
        }
        if !self.l_piv.is_empty() {
            ks.clear();
            let mut at = 0;
            while at < rows.len() {
                let k = self.l_of_row[rows[at]];
                at += 1;
                if k != u32::MAX {
                    ks.push(k);
                    let k = k as usize;
                    for e in self.l.start[k]..self.l.start[k + 1] {
                        let i = self.l.idx[e] as usize;
                        if !self.row_mark[i] {
                            self.row_mark[i] = true;
                            rows.push(i);
                        }
                    }
                }
            }
            ks.sort_unstable();
            for &k in &ks {
                let k = k as usize;
                let t = v[self.l_piv[k] as usize];
                if t != 0.0 {
                    for e in self.l.start[k]..self.l.start[k + 1] {
                        v[self.l.idx[e] as usize] -= self.l.val[e] * t;
                    }
                }
            }
        }
        ks.clear();
        let mut at = 0;
        while at < rows.len() {
            let k = self.k_of_row[rows[at]];
            at += 1;
            ks.push(k);
            let k = k as usize;
            for e in self.uc.start[k]..self.uc.start[k + 1] {
                let i = self.uc.idx[e] as usize;
                if !self.row_mark[i] {
                    self.row_mark[i] = true;
                    rows.push(i);
                }
            }
        }
        ks.sort_unstable_by(|a, b| b.cmp(a));
        for &k in &ks {
            let k = k as usize;
            let r = self.u_row[k] as usize;
            let t = v[r];
            v[r] = 0.0;
            if t == 0.0 {
                continue;
            }
            let c = self.u_pos[k] as usize;
            let x = t / self.u_diag[k];
            out[c] = x;
            nz.push(c);
            self.pos_mark[c] = true;
            for e in self.uc.start[k]..self.uc.start[k + 1] {
                v[self.uc.idx[e] as usize] -= self.uc.val[e] * x;
            }
        }
        for &r in &rows {
            self.row_mark[r] = false;
        }
        for k in 0..self.e_piv.len() {
            let p = self.e_piv[k] as usize;
            let x = out[p];
            if x != 0.0 {
                let x = x / self.e_diag[k];
                out[p] = x;
                for e in self.e.start[k]..self.e.start[k + 1] {
                    let i = self.e.idx[e] as usize;
                    if !self.pos_mark[i] {
                        self.pos_mark[i] = true;
                        nz.push(i);
                    }
                    out[i] -= self.e.val[e] * x;
                }
            }
        }
        for &c in nz.iter() {
            self.pos_mark[c] = false;
        }
        self.rows = rows;
        self.ks = ks;
    }

    /// Solves Bᵀ·y = d: `d` by basis position (left all zero), `y` by row (overwritten).
    fn btran(&self, d: &mut [f64], y: &mut [f64]) {
        for k in (0..self.e_piv.len()).rev() {
            let p = self.e_piv[k] as usize;
            let mut s = d[p];
            for e in self.e.start[k]..self.e.start[k + 1] {
                s -= self.e.val[e] * d[self.e.idx[e] as usize];
            }
            d[p] = s / self.e_diag[k];
        }
        // U: no test for zeros (over a few hundred positions, its mispredicted branches cost
        // more than the arithmetic they skip); a reciprocal rather than a division (the
        // diagonals of a table's basis are ±1: exact).
        let (with, without) = self.bt_k.split_at(self.bt_split);
        let (inv_with, inv_without) = self.bt_inv.split_at(self.bt_split);
        for (k, inv) in with.iter().zip(inv_with) {
            let k = *k as usize;
            let c = self.u_pos[k] as usize;
            let w = d[c] * inv;
            d[c] = 0.0;
            y[self.u_row[k] as usize] = w;
            if w == 0.0 {
                continue;
            }
            let (s, e) = (self.ur.start[k], self.ur.start[k + 1]);
            for (j, u) in self.ur.idx[s..e].iter().zip(&self.ur.val[s..e]) {
                d[*j as usize] -= u * w;
            }
        }
        for (k, inv) in without.iter().zip(inv_without) {
            let k = *k as usize;
            let c = self.u_pos[k] as usize;
            y[self.u_row[k] as usize] = d[c] * inv;
            d[c] = 0.0;
        }
        for k in (0..self.l_piv.len()).rev() {
            let r = self.l_piv[k] as usize;
            let mut s = y[r];
            for e in self.l.start[k]..self.l.start[k + 1] {
                s -= self.l.val[e] * y[self.l.idx[e] as usize];
            }
            y[r] = s;
        }
    }

    /// The basis after position `p` takes the column whose FTRAN is `alpha`.
    fn push_eta(&mut self, p: usize, alpha: &[f64], nz: &[usize]) {
        self.e_piv.push(p as u32);
        self.e_diag.push(alpha[p]);
        for &i in nz {
            let a = alpha[i];
            if i != p && a.abs() > TINY {
                self.e.idx.push(i as u32);
                self.e.val.push(a);
            }
        }
        self.e.start.push(self.e.idx.len());
    }
}

/// A feasible basis of `rows`, from which each variable's bounds are found.
#[derive(Clone)]
pub struct Program {
    a: Arc<Matrix>,
    /// Columns: for a free variable j, `2j` is its positive and `2j+1` its negative part;
    /// otherwise column j is the variable itself. Columns from `n_cols` on are the artificial
    /// variables of phase 1 (`n_cols + i` the unit column of row i): once out of the basis they
    /// never enter again; one still basic after phase 1 (or put back by [`Program::fix`])
    /// stands for a redundant row, left out of every ratio test.
    free: bool,
    n_cols: usize,
    m: usize,
    /// Right-hand sides, less the fixed columns' values.
    rhs: Vec<f64>,
    /// The column at each basis position, and each column's position (or [`NONE`]).
    basis: Vec<usize>,
    pos: Vec<usize>,
    /// The basic variables' values, by position.
    x: Vec<f64>,
    /// Columns fixed by [`Program::fix`]: never entering the basis.
    fixed_col: Vec<bool>,
    /// Variables fixed by [`Program::fix`]: whether each one is, and their values in the order
    /// they were fixed (a copy of a program copies a byte a variable, not an `Option<f64>`).
    is_fixed: Vec<bool>,
    fixed: Vec<(usize, f64)>,
    lu: Factor,
    /// The objective: (column, weight).
    cost: Vec<(usize, f64)>,
    /// Reduced costs of the structural columns (garbage where `elig` is 0), and 1 for the
    /// columns that may enter (non-basic, not fixed), 0 for the others.
    d: Vec<f64>,
    elig: Vec<f64>,
    /// Whether `d` holds the reduced costs of `cost` at the current basis (not after a pivot
    /// outside [`Program::optimise`], nor in a copy, which leaves `d` out).
    d_valid: bool,
    /// Work vectors of the number of rows: by row, by position, an FTRAN result (by
    /// position), a BTRAN result (by row).
    w_row: Vec<f64>,
    w_pos: Vec<f64>,
    alpha: Vec<f64>,
    alpha_nz: Vec<usize>,
    rho: Vec<f64>,
    /// A row of B⁻¹A over the structural columns (sparse).
    acc: Vec<f64>,
    acc_in: Vec<bool>,
    acc_list: Vec<usize>,
}

impl Program {
    /// Phase 1: a feasible basis. `tolerance` absorbs the rounding of published figures.
    pub fn new(n: usize, rows: &[Row], non_negative: bool, tolerance: f64) -> Result<Program> {
        let free = !non_negative;
        let n_cols = if free { 2 * n } else { n };
        let m = rows.len();
        // Rows (signed so that the right-hand sides are ≥ 0), duplicates summed.
        let mut dense = vec![0.0; n_cols];
        // The columns a row names, each once (marked: a row of a total can name hundreds).
        let mut touched: Vec<usize> = Vec::new();
        let mut in_row = vec![false; n_cols];
        let mut row_start = vec![0usize];
        let mut row_col: Vec<u32> = Vec::new();
        let mut row_val: Vec<f64> = Vec::new();
        let mut rhs = Vec::with_capacity(m);
        for (terms, b) in rows {
            let sign = if *b < 0.0 { -1.0 } else { 1.0 };
            for (j, a) in terms {
                let cols: &[(usize, f64)] =
                    if free { &[(2 * j, sign * a), (2 * j + 1, -sign * a)] } else { &[(*j, sign * a)] };
                for &(c, v) in cols {
                    if !in_row[c] {
                        in_row[c] = true;
                        touched.push(c);
                    }
                    dense[c] += v;
                }
            }
            touched.sort_unstable();
            for &c in &touched {
                if dense[c] != 0.0 {
                    row_col.push(c as u32);
                    row_val.push(dense[c]);
                }
                dense[c] = 0.0;
                in_row[c] = false;
            }
            touched.clear();
            row_start.push(row_col.len());
            rhs.push(sign * b);
        }
        let by_rows = Packed { start: row_start, idx: row_col, val: row_val };
        let a = Arc::new(Matrix { cols: by_rows.transpose(n_cols), rows: by_rows });
        let mut p = Program {
            a,
            free,
            n_cols,
            m,
            x: rhs.clone(),
            rhs,
            basis: (n_cols..n_cols + m).collect(),
            pos: (0..n_cols + m).map(|c| if c < n_cols { NONE } else { c - n_cols }).collect(),
            fixed_col: vec![false; n_cols],
            is_fixed: vec![false; n],
            fixed: Vec::new(),
            lu: Factor::default(),
            cost: Vec::new(),
            d: vec![0.0; n_cols],
            elig: vec![1.0; n_cols],
            d_valid: false,
            w_row: vec![0.0; m],
            w_pos: vec![0.0; m],
            alpha: vec![0.0; m],
            alpha_nz: Vec::new(),
            rho: vec![0.0; m],
            acc: vec![0.0; n_cols],
            acc_in: vec![false; n_cols],
            acc_list: Vec::new(),
        };
        p.refactor()?;
        // Minimise the artificials: maximise −Σ a_i.
        let cost: Vec<(usize, f64)> = (0..m).map(|i| (n_cols + i, -1.0)).collect();
        p.set_objective(&cost);
        p.optimise(true, None)?;
        let infeasibility: f64 = (0..m).filter(|i| p.basis[*i] >= n_cols).map(|i| p.x[i]).sum();
        if infeasibility > tolerance {
            bail!("the published figures are inconsistent (off by {infeasibility})");
        }
        // Drive the artificials out of the basis (or leave them for redundant rows).
        for i in 0..m {
            if p.basis[i] < n_cols {
                continue;
            }
            p.pivot_row_of(i);
            let mut enter: Option<(usize, f64)> = None;
            for &j in &p.acc_list {
                let v = p.acc[j].abs();
                if p.pos[j] == NONE && v > 1e-7 && enter.is_none_or(|(bj, bv)| v > bv || (v == bv && j < bj)) {
                    enter = Some((j, v));
                }
            }
            p.clear_acc();
            if let Some((j, _)) = enter {
                p.ftran_col(j);
                p.pivot(i, j)?;
            }
        }
        p.refactor()?;
        Ok(p)
    }

    /// Factorises the basis afresh and recomputes the basic values from it.
    fn refactor(&mut self) -> Result<()> {
        // The basis's columns (an artificial's is the unit column of its row).
        let mut b = Packed {
            start: Vec::with_capacity(self.m + 1),
            idx: Vec::with_capacity(4 * self.m),
            val: Vec::with_capacity(4 * self.m),
        };
        b.clear();
        for &c in &self.basis {
            if c < self.n_cols {
                let (s, e) = (self.a.cols.start[c], self.a.cols.start[c + 1]);
                b.idx.extend_from_slice(&self.a.cols.idx[s..e]);
                b.val.extend_from_slice(&self.a.cols.val[s..e]);
            } else {
                b.idx.push((c - self.n_cols) as u32);
                b.val.push(1.0);
            }
            b.start.push(b.idx.len());
        }
        if !self.lu.factorise(self.m, &b) {
            bail!("the intruder audit's linear program has a singular basis");
        }
        self.w_row.copy_from_slice(&self.rhs);
        self.lu.ftran(&mut self.w_row, &mut self.x);
        Ok(())
    }

    /// `alpha` = B⁻¹ times column `j` (structural or artificial).
    fn ftran_col(&mut self, j: usize) {
        for &i in &self.alpha_nz {
            self.alpha[i] = 0.0;
        }
        let unit = [(j.wrapping_sub(self.n_cols)) as u32];
        let rows: &[u32] = if j < self.n_cols {
            let (s, e) = (self.a.cols.start[j], self.a.cols.start[j + 1]);
            for k in s..e {
                self.w_row[self.a.cols.idx[k] as usize] = self.a.cols.val[k];
            }
            &self.a.cols.idx[s..e]
        } else {
            self.w_row[j - self.n_cols] = 1.0;
            &unit
        };
        self.lu.ftran_sparse(&mut self.w_row, &mut self.alpha, &mut self.alpha_nz, rows);
    }

    /// Row `p` of B⁻¹A over the structural columns, into `acc` (`rho` = row p of B⁻¹).
    fn pivot_row_of(&mut self, p: usize) {
        self.w_pos[p] = 1.0;
        self.lu.btran(&mut self.w_pos, &mut self.rho);
        self.row_product();
    }

    /// `acc` = ρᵀA over the structural columns.
    fn row_product(&mut self) {
        let a = &*self.a;
        for i in 0..self.m {
            let r = self.rho[i];
            if r == 0.0 {
                continue;
            }
            for k in a.rows.start[i]..a.rows.start[i + 1] {
                let j = a.rows.idx[k] as usize;
                if self.acc_in[j] {
                    self.acc[j] += r * a.rows.val[k];
                } else {
                    self.acc_in[j] = true;
                    self.acc_list.push(j);
                    self.acc[j] = r * a.rows.val[k];
                }
            }
        }
    }

    fn clear_acc(&mut self) {
        for &j in &self.acc_list {
            self.acc[j] = 0.0;
            self.acc_in[j] = false;
        }
        self.acc_list.clear();
    }

    /// Sets the objective (maximise Σ weight × column) and its reduced costs
    /// cⱼ − c_B B⁻¹aⱼ.
    fn set_objective(&mut self, cost: &[(usize, f64)]) {
        // The opposite of the objective just optimised (a cell's upper bound after its lower
        // one, or its other side in the release pass): its reduced costs are those negated, no
        // BTRAN needed.
        if self.d_valid
            && !cost.is_empty()
            && cost.len() == self.cost.len()
            && cost.iter().zip(&self.cost).all(|(a, b)| a.0 == b.0 && a.1 == -b.1)
        {
            self.cost.clear();
            self.cost.extend_from_slice(cost);
            for v in &mut self.d {
                *v = -*v;
            }
            return;
        }
        self.d_valid = true;
        self.cost.clear();
        self.cost.extend_from_slice(cost);
        self.d.fill(0.0);
        let mut any_basic = false;
        for &(c, w) in cost {
            if self.pos[c] != NONE {
                self.w_pos[self.pos[c]] += w;
                any_basic = true;
            } else if c < self.n_cols {
                self.d[c] += w;
            }
        }
        if any_basic {
            self.lu.btran(&mut self.w_pos, &mut self.rho);
            self.update_d(1.0);
        }
    }

    /// d −= f × ρᵀA.
    fn update_d(&mut self, f: f64) {
        let a = &*self.a;
        let d = &mut self.d;
        for (i, y) in self.rho.iter().enumerate() {
            if *y != 0.0 {
                let g = f * y;
                let (s, e) = (a.rows.start[i], a.rows.start[i + 1]);
                for (j, v) in a.rows.idx[s..e].iter().zip(&a.rows.val[s..e]) {
                    d[*j as usize] -= g * v;
                }
            }
        }
    }

    /// The entering column: the largest reduced cost above [`EPS`] among the columns that may
    /// enter, the lowest such column on ties (under Bland's rule, the lowest such column).
    fn choose_entering(&self, bland: bool) -> Option<(usize, f64)> {
        let (d, elig) = (&self.d[..], &self.elig[..]);
        if bland {
            return (0..d.len()).find(|j| d[*j] * elig[*j] > EPS).map(|j| (j, d[j]));
        }
        // Blocks of 64: a block's largest value by 8 independent lanes (packed max, no
        // branches), and only a block that beats the best so far is scanned again in order (the
        // first of equal values wins, as in a plain scan). The best rises a few times a scan.
        let mut best = EPS;
        let mut at = NONE;
        const B: usize = 64;
        const W: usize = 8;
        let blocks = d.len() / B;
        for b in 0..blocks {
            let (db, eb) = (&d[b * B..b * B + B], &elig[b * B..b * B + B]);
            let mut lane = [0.0f64; W];
            for (dc, ec) in db.chunks_exact(W).zip(eb.chunks_exact(W)) {
                for k in 0..W {
                    let v = dc[k] * ec[k];
                    lane[k] = if v > lane[k] { v } else { lane[k] };
                }
            }
            let m = lane.iter().fold(0.0f64, |m, v| if *v > m { *v } else { m });
            if m > best {
                for k in 0..B {
                    let v = db[k] * eb[k];
                    if v > best {
                        best = v;
                        at = b * B + k;
                    }
                }
            }
        }
        for j in blocks * B..d.len() {
            let v = d[j] * elig[j];
            if v > best {
                best = v;
                at = j;
            }
        }
        if at == NONE { None } else { Some((at, best)) }
    }

    /// The objective's value at the current basis.
    fn objective_value(&self) -> f64 {
        self.cost.iter().map(|&(c, w)| if self.pos[c] == NONE { 0.0 } else { w * self.x[self.pos[c]] }).sum()
    }

    /// Position `p` takes column `q`, whose FTRAN is in `alpha`. Returns whether the basis was
    /// factorised afresh.
    fn pivot(&mut self, p: usize, q: usize) -> Result<bool> {
        self.d_valid = false;
        let theta = self.x[p] / self.alpha[p];
        for &i in &self.alpha_nz {
            self.x[i] -= theta * self.alpha[i];
        }
        self.x[p] = theta;
        let out = self.basis[p];
        self.pos[out] = NONE;
        if out < self.n_cols && !self.fixed_col[out] {
            self.elig[out] = 1.0;
        }
        self.basis[p] = q;
        self.pos[q] = p;
        if q < self.n_cols {
            self.elig[q] = 0.0;
        }
        self.lu.push_eta(p, &self.alpha, &self.alpha_nz);
        if self.lu.etas() >= REFACTOR {
            self.refactor()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Maximises the objective set by [`Program::set_objective`] (Dantzig's rule, Bland's after
    /// many steps, which cannot cycle). Returns false when unbounded. With `stop`, returns
    /// true as soon as the objective reaches it (every basis on the way is feasible, so that
    /// value is attained). In phase 1 the artificial variables' rows take part in the ratio
    /// test; afterwards a basic artificial stands for a redundant row and is left out.
    fn optimise(&mut self, phase1: bool, stop: Option<f64>) -> Result<bool> {
        let cols = self.n_cols;
        for step in 0..50_000 {
            if stop.is_some_and(|goal| self.objective_value() >= goal) {
                return Ok(true);
            }
            let bland = step >= 5_000;
            let Some((q, _)) = self.choose_entering(bland) else { return Ok(true) };
            self.ftran_col(q);
            // Ratio test: the smallest ratio; near ties to the larger pivot (the lowest basic
            // column under Bland's rule).
            let mut leave: Option<(usize, f64)> = None;
            for &i in &self.alpha_nz {
                let a = self.alpha[i];
                if a > EPS {
                    if !phase1 && self.basis[i] >= cols {
                        continue;
                    }
                    let ratio = self.x[i] / a;
                    let better = match leave {
                        None => true,
                        Some((li, lr)) => {
                            ratio < lr - 1e-12
                                || (ratio <= lr + 1e-12
                                    && if bland { self.basis[i] < self.basis[li] } else { a > self.alpha[li] })
                        }
                    };
                    if better {
                        leave = Some((i, ratio));
                    }
                }
            }
            let Some((r, _)) = leave else { return Ok(false) };
            // Reduced costs: d −= (d_q / α_rq) × row r of B⁻¹A.
            self.w_pos[r] = 1.0;
            self.lu.btran(&mut self.w_pos, &mut self.rho);
            let dq = self.d[q];
            let f = dq / self.alpha[r];
            self.update_d(f);
            let out = self.basis[r];
            if out < cols {
                self.d[out] = -f;
            }
            self.d[q] = 0.0;
            if self.pivot(r, q)? {
                // Fresh reduced costs with the fresh factors.
                let cost = std::mem::take(&mut self.cost);
                self.set_objective(&cost);
            } else {
                // Updated above for the new basis.
                self.d_valid = true;
            }
        }
        bail!("the intruder audit's linear program did not converge")
    }

    /// The largest (or smallest) value variable `target` can take; ±∞ when unbounded. Starts
    /// from the basis the previous bound ended on (any feasible basis will do, and the optimum
    /// of one cell is usually a few pivots from the next one's).
    pub fn bound(&mut self, target: usize, maximise: bool) -> Result<f64> {
        self.objective(&[(target, if maximise { 1.0 } else { -1.0 })]);
        if !self.optimise(false, None)? {
            return Ok(if maximise { f64::INFINITY } else { f64::NEG_INFINITY });
        }
        Ok(self.value(target))
    }

    /// Whether variable `target` can reach `goal` (at least, or with `maximise` false at most):
    /// the simplex stops as soon as it does, which is much quicker than the exact bound. Also
    /// returns the feasible point where it stopped. Like [`Program::bound`], it starts from the
    /// basis the previous call ended on.
    pub fn reaches(&mut self, target: usize, maximise: bool, goal: f64) -> Result<(bool, Vec<f64>)> {
        let sign = if maximise { 1.0 } else { -1.0 };
        self.objective(&[(target, sign)]);
        // Unbounded, or stopped at (or optimal beyond) the goal.
        let bounded = self.optimise(false, Some(sign * goal))?;
        Ok((!bounded || sign * self.value(target) >= sign * goal, self.point()))
    }

    /// Maximises `Σ weight × variable` (until optimal, or until found unbounded) and returns the
    /// feasible point where it stopped: one program that moves many variables towards their
    /// goals at once, where one each would take many.
    pub fn sweep(&mut self, weights: &[(usize, f64)]) -> Result<Vec<f64>> {
        self.objective(weights);
        self.optimise(false, None)?;
        Ok(self.point())
    }

    /// Sweeps one side of many goals: maximises the sum of the `open` goals' variables (`var`
    /// of each; their opposite when `maximise` is false), hands the point to `reached`, which
    /// drops the goals it reaches from `open`, and sweeps again over those left while a program
    /// reaches at least a quarter of them. A goal left open still needs a program of its own:
    /// a sweep only finds feasible points (the goals each reached), it never rules one out.
    pub fn sweep_while<G>(
        &mut self,
        maximise: bool,
        open: &mut Vec<G>,
        var: impl Fn(&G) -> usize,
        mut reached: impl FnMut(Vec<f64>, &mut Vec<G>),
    ) -> Result<()> {
        let sign = if maximise { 1.0 } else { -1.0 };
        while open.len() >= SWEEP_AT_LEAST {
            let weights: Vec<(usize, f64)> = open.iter().map(|g| (var(g), sign)).collect();
            let point = self.sweep(&weights)?;
            let before = open.len();
            reached(point, open);
            if 4 * (before - open.len()) < before {
                break;
            }
        }
        Ok(())
    }

    /// Sets the objective that maximises `Σ weight × variable` (fixed variables left out).
    fn objective(&mut self, weights: &[(usize, f64)]) {
        let mut cost = Vec::with_capacity(2 * weights.len());
        for &(target, weight) in weights {
            if self.is_fixed[target] {
                continue;
            }
            if self.free {
                cost.push((2 * target, weight));
                cost.push((2 * target + 1, -weight));
            } else {
                cost.push((target, weight));
            }
        }
        self.set_objective(&cost);
    }

    fn column(&self, col: usize) -> f64 {
        if self.pos[col] == NONE { 0.0 } else { self.x[self.pos[col]] }
    }

    /// The current basic solution: a feasible point.
    pub fn point(&self) -> Vec<f64> {
        // From the basis (a few hundred positions) rather than a lookup per variable: points are
        // taken after every `reaches`, thousands of them over a province's tables.
        // Straight into the variables: a free variable's two parts added with their signs
        // (at most one of them is non-zero in a basic solution, up to degenerate zeros).
        let mut col = vec![0.0; self.is_fixed.len()];
        for (c, x) in self.basis.iter().zip(&self.x) {
            if *c < self.n_cols {
                if !self.free {
                    col[*c] = *x;
                } else if c & 1 == 0 {
                    col[c >> 1] += *x;
                } else {
                    col[c >> 1] -= *x;
                }
            }
        }
        for &(k, v) in &self.fixed {
            col[k] = v;
        }
        col
    }

    /// The value variable `target` was fixed at, if it was.
    fn fixed_value(&self, target: usize) -> Option<f64> {
        if !self.is_fixed[target] {
            return None;
        }
        self.fixed.iter().find(|(k, _)| *k == target).map(|(_, v)| *v)
    }

    /// The current basic solution's value of variable `target`.
    fn value(&self, target: usize) -> f64 {
        if let Some(v) = self.fixed_value(target) {
            return v;
        }
        if self.free { self.column(2 * target) - self.column(2 * target + 1) } else { self.column(target) }
    }

    /// The memory it holds, in bytes (its matrix, shared with its copies, included).
    pub fn bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        let u = std::mem::size_of::<usize>();
        self.a.cols.bytes()
            + self.a.rows.bytes()
            + self.lu.bytes()
            + (self.rhs.capacity()
                + self.x.capacity()
                + self.d.capacity()
                + self.elig.capacity()
                + self.w_row.capacity()
                + self.w_pos.capacity()
                + self.alpha.capacity()
                + self.rho.capacity()
                + self.acc.capacity())
                * f
            + (self.basis.capacity() + self.pos.capacity() + self.acc_list.capacity()) * u
            + self.fixed_col.capacity()
            + self.acc_in.capacity()
            + self.is_fixed.capacity()
            + self.fixed.capacity() * std::mem::size_of::<(usize, f64)>()
            + self.cost.capacity() * std::mem::size_of::<(usize, f64)>()
    }

    /// Makes this a copy of `other`, reusing this one's memory (a trial's copy of a warm basis,
    /// made hundreds of times over a province's table of ~3,000 unknowns).
    pub fn copy_from(&mut self, other: &Program) {
        self.a.clone_from(&other.a);
        self.free = other.free;
        self.n_cols = other.n_cols;
        self.m = other.m;
        self.rhs.clone_from(&other.rhs);
        self.basis.clone_from(&other.basis);
        self.pos.clone_from(&other.pos);
        self.x.clone_from(&other.x);
        self.fixed_col.clone_from(&other.fixed_col);
        self.is_fixed.clone_from(&other.is_fixed);
        self.fixed.clone_from(&other.fixed);
        self.lu.copy_from(&other.lu);
        self.d_valid = false;
        self.cost.clone_from(&other.cost);
        self.elig.clone_from(&other.elig);
        // The rest is scratch, which only needs its size and its resting state (all zero, lists
        // empty; `d` is set afresh with every objective): copying it (the columns' vectors of
        // thousands of entries) would cost a trial more than its few pivots.
        let (m, n) = (self.m, self.n_cols);
        if self.alpha.len() != m {
            self.alpha_nz.clear();
        }
        for v in [&mut self.w_row, &mut self.w_pos, &mut self.alpha, &mut self.rho] {
            if v.len() != m {
                v.clear();
                v.resize(m, 0.0);
            }
        }
        for v in [&mut self.d, &mut self.acc] {
            if v.len() != n {
                v.clear();
                v.resize(n, 0.0);
            }
        }
        if self.acc_in.len() != n {
            self.acc_in.clear();
            self.acc_in.resize(n, false);
        }
    }

    /// Fixes variable `var` at `value`, keeping the rest of the current basis: the program of
    /// the same rows with `var` known (a cell published). The basis stays feasible where it can
    /// (a few dual simplex pivots, instead of a phase 1 from scratch). Returns false when no
    /// feasible basis was found that way (infeasible beyond `tolerance`, or too many pivots):
    /// the caller then sets the program up from scratch, which decides.
    pub fn fix(&mut self, var: usize, value: f64, tolerance: f64) -> bool {
        if self.is_fixed[var] {
            return self.fixed_value(var) == Some(value);
        }
        // Once fixed, a column's sign no longer matters: its value moves to the right-hand side.
        let parts = if self.free {
            vec![(2 * var, value.max(0.0)), (2 * var + 1, (-value).max(0.0))]
        } else {
            vec![(var, value)]
        };
        for (col, at) in parts {
            if !matches!(self.fix_column(col, at, tolerance), Ok(true)) {
                return false;
            }
        }
        self.is_fixed[var] = true;
        self.fixed.push((var, value));
        self.restore(tolerance).unwrap_or(false)
    }

    /// Makes column `col` non-basic at `at` and bars it from the basis (its coefficients move
    /// to the right-hand side). Basic values may turn negative: [`Program::restore`] follows.
    fn fix_column(&mut self, col: usize, at: f64, tolerance: f64) -> Result<bool> {
        let p = self.pos[col];
        if p != NONE {
            // Out of the basis: onto the largest other entry of its row (not its own negative
            // part, which would only take its place).
            let partner = if self.free { Some(col ^ 1) } else { None };
            self.pivot_row_of(p);
            let mut enter: Option<(usize, f64)> = None;
            for &j in &self.acc_list {
                let v = self.acc[j].abs();
                if j != col
                    && Some(j) != partner
                    && !self.fixed_col[j]
                    && self.pos[j] == NONE
                    && v > 1e-7
                    && enter.is_none_or(|(bj, bv)| v > bv || (v == bv && j < bj))
                {
                    enter = Some((j, v));
                }
            }
            self.clear_acc();
            match enter {
                Some((j, _)) => {
                    self.ftran_col(j);
                    self.pivot(p, j)?;
                }
                None => {
                    // The row reads `col = x_p`: the variable was determined already. The row is
                    // then redundant: an artificial takes the position (on the largest entry of
                    // the row of B⁻¹), left out of the ratio tests from now on.
                    if (self.x[p] - at).abs() > tolerance.max(1e-9) {
                        return Ok(false);
                    }
                    let mut best: Option<(usize, f64)> = None;
                    for (i, r) in self.rho.iter().enumerate() {
                        if best.is_none_or(|(_, bv)| r.abs() > bv) {
                            best = Some((i, r.abs()));
                        }
                    }
                    let Some((i, v)) = best else { return Ok(false) };
                    if v <= 1e-11 || self.pos[self.n_cols + i] != NONE {
                        return Ok(false);
                    }
                    self.ftran_col(self.n_cols + i);
                    self.pivot(p, self.n_cols + i)?;
                }
            }
        }
        if at != 0.0 {
            for k in self.a.cols.start[col]..self.a.cols.start[col + 1] {
                self.rhs[self.a.cols.idx[k] as usize] -= self.a.cols.val[k] * at;
            }
            self.w_row.copy_from_slice(&self.rhs);
            self.lu.ftran(&mut self.w_row, &mut self.x);
        }
        self.fixed_col[col] = true;
        self.elig[col] = 0.0;
        Ok(true)
    }

    /// Restores a feasible basis after [`Program::fix`] by the dual simplex with a zero
    /// objective (every basis is dual feasible): a row whose value is negative leaves for a
    /// column with a negative entry in it. The most negative row first, then Bland's rule
    /// (lowest basic column, lowest entering column), which cannot cycle.
    fn restore(&mut self, tolerance: f64) -> Result<bool> {
        let tol = tolerance.max(1e-9);
        for step in 0..20_000 {
            let bland = step >= 1_000;
            let mut leave: Option<(usize, f64)> = None;
            for i in 0..self.m {
                let b = self.x[i];
                if b < -tol && self.basis[i] < self.n_cols {
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
            let Some((row, _)) = leave else { return Ok(true) };
            self.pivot_row_of(row);
            let mut enter: Option<(usize, f64)> = None;
            for &j in &self.acc_list {
                let a = self.acc[j];
                if a < -EPS && self.pos[j] == NONE && !self.fixed_col[j] {
                    let better = match enter {
                        None => true,
                        Some((bj, ba)) => {
                            if bland {
                                j < bj
                            } else {
                                a < ba || (a == ba && j < bj)
                            }
                        }
                    };
                    if better {
                        enter = Some((j, a));
                    }
                }
            }
            self.clear_acc();
            // No negative entry: the row cannot be met with non-negative columns.
            let Some((col, _)) = enter else { return Ok(false) };
            self.ftran_col(col);
            self.pivot(row, col)?;
        }
        Ok(false)
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

    /// A generated table of `dims` dimensions (sizes 2 to 4, each with a total), its cells'
    /// values (the body random, a third zeros, shifted negative when `shift`) and its
    /// additivity relations (`Σ a·cell = 0`).
    fn table(rng: &mut rand::rngs::SmallRng, dims: usize, shift: f64) -> (Vec<f64>, Vec<Vec<(usize, f64)>>) {
        use rand::Rng;
        let sizes: Vec<usize> = (0..dims).map(|_| rng.random_range(2..5usize)).collect();
        let ext: Vec<usize> = sizes.iter().map(|s| s + 1).collect();
        let cells: usize = ext.iter().product();
        let coords = |mut i: usize| -> Vec<usize> {
            let mut c = vec![0; dims];
            for a in (0..dims).rev() {
                c[a] = i % ext[a];
                i /= ext[a];
            }
            c
        };
        let index = |c: &[usize]| c.iter().zip(&ext).fold(0, |acc, (x, e)| acc * e + x);
        let mut values = vec![0.0; cells];
        for i in 0..cells {
            let c = coords(i);
            if c.iter().zip(&sizes).any(|(x, s)| x == s) {
                continue;
            }
            let v = if rng.random_bool(0.3) { 0.0 } else { f64::from(rng.random_range(1..1000u32)) - shift };
            for mask in 0..(1usize << dims) {
                let t: Vec<usize> = (0..dims).map(|a| if mask >> a & 1 == 1 { sizes[a] } else { c[a] }).collect();
                values[index(&t)] += v;
            }
        }
        let mut relations = Vec::new();
        for i in 0..cells {
            let c = coords(i);
            for a in 0..dims {
                if c[a] != sizes[a] {
                    continue;
                }
                let mut rel: Vec<(usize, f64)> = (0..sizes[a])
                    .map(|x| {
                        let mut t = c.clone();
                        t[a] = x;
                        (index(&t), 1.0)
                    })
                    .collect();
                rel.push((i, -1.0));
                relations.push(rel);
            }
        }
        (values, relations)
    }

    fn close(a: f64, b: f64) -> bool {
        if a.is_infinite() || b.is_infinite() {
            return a == b;
        }
        a == b || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
    }

    fn feasible(rows: &[Row], x: &[f64], non_negative: bool) -> bool {
        rows.iter().all(|(terms, rhs)| {
            let s: f64 = terms.iter().map(|(j, a)| a * x[*j]).sum();
            (s - rhs).abs() <= 1e-6 * rhs.abs().max(1.0)
        }) && (!non_negative || x.iter().all(|v| *v >= -1e-7))
    }

    /// Sweeps drop exactly the goals a point they found reaches, every point is feasible, and a
    /// goal beyond the cell's bound is never dropped: over generated three-dimensional tables
    /// (non-negative and free), goals at the bounds (reachable) mixed with goals past them.
    #[test]
    fn sweeps_drop_only_goals_their_points_reach() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let (mut swept, mut dropped) = (0, 0);
        for seed in 0..60u64 {
            let mut rng = SmallRng::seed_from_u64(9000 + seed);
            let non_negative = seed % 3 != 0;
            let (values, relations) = table(&mut rng, 3, if non_negative { 0.0 } else { 500.0 });
            let unknown: Vec<usize> = (0..values.len()).filter(|_| rng.random_bool(0.6)).collect();
            let rows = rows_with(&relations, &values, &unknown);
            let mut exact = Program::new(unknown.len(), &rows, non_negative, 1e-9).unwrap();
            let mut lp = Program::new(unknown.len(), &rows, non_negative, 1e-9).unwrap();
            for maximise in [true, false] {
                let sign = if maximise { 1.0 } else { -1.0 };
                // (variable, goal, reachable): a third of the goals just past the bound.
                let goals: Vec<(usize, f64, bool)> = (0..unknown.len())
                    .map(|k| {
                        let b = exact.bound(k, maximise).unwrap();
                        if !b.is_finite() {
                            return (k, sign * 1e9, true);
                        }
                        let past = rng.random_bool(0.33);
                        (k, if past { b + sign * 1.0 } else { b - sign * 1e-7 }, !past)
                    })
                    .collect();
                let mut open = goals.clone();
                let mut met = vec![false; unknown.len()];
                lp.sweep_while(
                    maximise,
                    &mut open,
                    |g| g.0,
                    |x, open| {
                        swept += 1;
                        assert!(feasible(&rows, &x, non_negative), "seed {seed}: a sweep's point is not feasible");
                        for (k, v) in x.iter().enumerate() {
                            met[k] |= goals.iter().any(|g| g.0 == k && sign * v >= sign * g.1);
                        }
                        open.retain(|g| !met[g.0]);
                    },
                )
                .unwrap();
                for g in &goals {
                    let left = open.iter().any(|o| o.0 == g.0);
                    assert!(g.2 || left, "seed {seed}: goal {g:?} past its bound was dropped");
                    assert_eq!(left, !met[g.0], "seed {seed}: goal {g:?}");
                    dropped += usize::from(!left);
                }
            }
        }
        assert!(swept > 50 && dropped > 200, "only {swept} sweeps, {dropped} goals reached");
    }

    /// A cell's bound right after its opposite one (the reduced costs negated rather than
    /// computed again) agrees with the dense tableau, also after a copy and a fix.
    #[test]
    fn opposite_bounds_in_a_row_agree_with_the_dense_tableau() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        for seed in 0..40u64 {
            let mut rng = SmallRng::seed_from_u64(7000 + seed);
            let non_negative = seed % 3 != 0;
            let (values, relations) = table(&mut rng, 2 + (seed % 2) as usize, if non_negative { 0.0 } else { 500.0 });
            let unknown: Vec<usize> = (0..values.len()).filter(|_| rng.random_bool(0.7)).collect();
            if unknown.len() < 3 {
                continue;
            }
            let rows = rows_with(&relations, &values, &unknown);
            let mut dense = dense::Program::new(unknown.len(), &rows, non_negative, 1e-9).unwrap();
            let mut new = Program::new(unknown.len(), &rows, non_negative, 1e-9).unwrap();
            for k in 0..unknown.len() {
                for maximise in [false, true, false] {
                    let (a, b) = (dense.bound(k, maximise).unwrap(), new.bound(k, maximise).unwrap());
                    assert!(close(a, b), "seed {seed}: bound of {k} (max {maximise}): {b}, dense {a}");
                }
            }
            let mut copy = Program::new(2, &[(vec![(0, 1.0), (1, 1.0)], 3.0)], true, 1e-9).unwrap();
            copy.copy_from(&new);
            if copy.fix(0, values[unknown[0]], 1e-9) {
                let mut again = dense::Program::new(
                    unknown.len() - 1,
                    &rows_with(&relations, &values, &unknown[1..]),
                    non_negative,
                    1e-9,
                )
                .unwrap();
                for k in 1..unknown.len() {
                    for maximise in [true, false] {
                        let (a, b) = (again.bound(k - 1, maximise).unwrap(), copy.bound(k, maximise).unwrap());
                        assert!(close(a, b), "seed {seed}: bound of {k} after a fix (max {maximise}): {b}, dense {a}");
                    }
                }
            }
        }
    }

    /// The revised simplex's warm program against the dense tableau set up from scratch: over
    /// generated tables of two and three dimensions (non-negative and free), bounds in a random
    /// order; cells published one by one with `fix` (the dense program set up again without
    /// them each time); copies continued on; the points of `reaches` and `sweep` feasible and at
    /// their goals.
    #[test]
    fn agrees_with_the_dense_tableau_set_up_from_scratch() {
        use rand::{Rng, SeedableRng, rngs::SmallRng};
        let (mut bounds, mut fixes, mut failed_fixes, mut points) = (0, 0, 0, 0);
        for seed in 0..150u64 {
            let mut rng = SmallRng::seed_from_u64(1000 + seed);
            let dims = if seed % 4 == 0 { 3 } else { 2 };
            let non_negative = seed % 3 != 0;
            let (values, relations) = table(&mut rng, dims, if non_negative { 0.0 } else { 500.0 });
            let p_hidden = rng.random_range(0.3..0.9);
            let mut unknown: Vec<usize> = (0..values.len()).filter(|_| rng.random_bool(p_hidden)).collect();
            if unknown.len() < 3 {
                continue;
            }
            let numbering = unknown.clone();
            let rows = rows_with(&relations, &values, &unknown);
            let mut new = Program::new(numbering.len(), &rows, non_negative, 1e-9).unwrap();
            // A spare with other memory, for copy_from.
            let mut spare = Program::new(2, &[(vec![(0, 1.0), (1, 1.0)], 3.0)], true, 1e-9).unwrap();
            let mut published: Vec<(usize, f64)> = Vec::new();
            loop {
                // The unknowns not yet published, and the dense program of them alone (numbered
                // by their place in `live`).
                let live: Vec<usize> = (0..numbering.len()).filter(|k| published.iter().all(|(p, _)| p != k)).collect();
                let cells: Vec<usize> = live.iter().map(|k| numbering[*k]).collect();
                let mut dense =
                    dense::Program::new(live.len(), &rows_with(&relations, &values, &cells), non_negative, 1e-9)
                        .unwrap();
                for _ in 0..2 * live.len() {
                    let i = rng.random_range(0..live.len());
                    let maximise = rng.random_bool(0.5);
                    let (a, b) = (dense.bound(i, maximise).unwrap(), new.bound(live[i], maximise).unwrap());
                    assert!(
                        close(a, b),
                        "seed {seed}: bound of {} (max {maximise}) after publishing {published:?}: {b}, from scratch {a}",
                        live[i]
                    );
                    bounds += 1;
                }
                // The rows in the warm program's numbering, the published cells' values moved to
                // the right-hand side: the points of reaches and sweep must meet them.
                let current: Vec<Row> = rows
                    .iter()
                    .map(|(terms, rhs)| {
                        let mut rhs = *rhs;
                        for (j, a) in terms {
                            if let Some((_, v)) = published.iter().find(|(p, _)| p == j) {
                                rhs -= a * v;
                            }
                        }
                        let terms = terms.iter().filter(|(j, _)| published.iter().all(|(p, _)| p != j)).copied();
                        (terms.collect(), rhs)
                    })
                    .collect();
                let i = rng.random_range(0..live.len());
                let k = live[i];
                let maximise = rng.random_bool(0.5);
                let exact = dense.bound(i, maximise).unwrap();
                let sign = if maximise { 1.0 } else { -1.0 };
                let goal = if exact.is_finite() { exact - sign } else { sign * 1e6 };
                let (reached, x) = new.reaches(k, maximise, goal).unwrap();
                assert!(reached, "seed {seed}: {k} should reach {goal} (exact {exact})");
                assert!(feasible(&current, &x, non_negative), "seed {seed}: infeasible point of reaches");
                if exact.is_finite() {
                    // (Unbounded, it says so at the vertex where it found the ray.)
                    assert!(sign * x[k] >= sign * goal - 1e-6, "seed {seed}: stopped short: {} for {goal}", x[k]);
                    let beyond = exact + sign;
                    let (r2, x2) = new.reaches(k, maximise, beyond).unwrap();
                    assert!(!r2, "seed {seed}: {k} cannot reach {beyond} (exact {exact})");
                    assert!(feasible(&current, &x2, non_negative));
                }
                let weights: Vec<(usize, f64)> = live
                    .iter()
                    .filter(|_| rng.random_bool(0.5))
                    .map(|k| (*k, if k % 2 == 0 { 1.0 } else { -1.0 }))
                    .collect();
                if non_negative {
                    let x = new.sweep(&weights).unwrap();
                    assert!(feasible(&current, &x, non_negative), "seed {seed}: infeasible point of sweep");
                    for (p, v) in &published {
                        assert_eq!(x[*p], *v);
                    }
                }
                points += 1;
                // Sometimes continue on a copy.
                if rng.random_bool(0.3) {
                    spare.copy_from(&new);
                    std::mem::swap(&mut spare, &mut new);
                }
                if live.len() <= 2 {
                    break;
                }
                // Publish one more.
                let k = live[rng.random_range(0..live.len())];
                let v = values[numbering[k]];
                fixes += 1;
                if !new.fix(k, v, 1e-9) {
                    // The caller then sets the program up from scratch: it must agree too.
                    failed_fixes += 1;
                    unknown.retain(|u| *u != numbering[k]);
                    let again = rows_with(&relations, &values, &unknown);
                    let n = unknown.len();
                    let mut dense = dense::Program::new(n, &again, non_negative, 1e-9).unwrap();
                    let mut new = Program::new(n, &again, non_negative, 1e-9).unwrap();
                    for maximise in [true, false] {
                        for k in 0..n {
                            let (a, b) = (dense.bound(k, maximise).unwrap(), new.bound(k, maximise).unwrap());
                            assert!(close(a, b), "seed {seed}: bound of {k} after a rebuild: {b}, from scratch {a}");
                            bounds += 1;
                        }
                    }
                    break;
                }
                published.push((k, v));
                assert!(new.bytes() > 0);
            }
        }
        assert!(
            bounds > 5_000 && fixes > 300 && failed_fixes * 20 <= fixes,
            "{bounds} bounds, {fixes} fixes ({failed_fixes} failed), {points} point checks"
        );
    }
}
