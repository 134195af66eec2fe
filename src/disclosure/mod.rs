//! Disclosure control (统计数据保密): no published figure may let anyone work out an enterprise's
//! figures.
//!
//! Applied to the model outputs of a run *before* they are written or rendered ([`protect_runs`],
//! called right after the models ran), so the warehouse's tables, the public zone and the
//! bulletin all show the same hidden cells. Settings: `config/disclosure.toml` ([`Config`]).
//!
//! - [`rules`]: from the accepted enterprise rows (plain Rust, not a model's column), every cell
//!   (region × breakdown) is assessed on each published magnitude separately (output, value added,
//!   revenue, profit by absolute contributions, exports, employees): frequency, dominance (n, k)
//!   and optionally the p% rule, each with its protection requirement.
//! - [`secondary`]: complementary cells over every additive relation the publication shows
//!   (city = Σ counties for every breakdown, chains included; total = Σ sections = Σ divisions;
//!   section = Σ its divisions), chosen greedily so the hidden value can move by its
//!   requirement, the cheapest (least value lost) cell that can absorb it first.
//! - [`optimise`]: once the audit accepts the greedy pattern, reduces it towards the least total
//!   value lost: a release pass leaves it irredundant (no complement can be published alone),
//!   and an exact branch and bound proves the least value lost of each connected part of the
//!   hidden cells small enough for `optimal_search_candidates` / `optimal_search_budget`. The
//!   result is audited again; it is kept only if the audit accepts it (else the greedy pattern
//!   is). What each part costs is reported in `warehouse/disclosure_cost/` ([`cost_batch`]).
//! - [`intruder`]: the audit. Over every public table of the period, linear programming gives the
//!   interval each hidden value could lie in; a sensitive cell whose interval is narrower than
//!   its requirement gets further complements, and if that does not help it is reported in
//!   [`Protection::disclosed`], which keeps the period out of `public/`.
//! - [`universe`]: a table larger than `max_table_cells` (thousands of regions) is protected and
//!   audited in blocks of regions, each against a reader who knows every figure outside it, so
//!   that the linear programs stay the size of a block.
//!
//! **What is hidden.** A cell hidden on a variable hides every figure derived from it: its
//! amount, growth rate and share (`va_share` also when the region's total value added is hidden,
//! as the share and the cell would give the total away). In `indicator_values` the value becomes
//! NULL with status `C`; in `county_ranking`, `chain_summary` and `division_ranking` the columns
//! become NULL and `suppressed` is set when the table's ranking variable (value added; in
//! `chain_summary` value added or revenue) is hidden. Enterprise counts stay published. Rankings
//! are computed after suppression: hidden counties follow unranked, a ranking model's cut
//! (`-- top: N` in its header) keeps the first N published rows. The city total (`370800`,
//! `_T`) is published whatever the rules say when `publish_city_total` is set.

pub mod intruder;
pub mod lp;
pub mod optimise;
pub mod rules;
pub mod secondary;
pub mod universe;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use serde::Deserialize;

use self::intruder::Depth;
use crate::bulletin::values::{number_cell, text_cell};
use crate::models::exec::ModelRun;
use crate::reference::CITY_CODE;
pub use intruder::Interval;
pub use rules::{Cell, Enterprise, Reason, Var};
use universe::Universe;

/// The settings (`config/disclosure.toml`; each is documented there).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Frequency rule: a cell with fewer enterprises than this is sensitive (3).
    pub min_enterprises: u64,
    /// Protection requirement of a frequency-sensitive cell, in percent of its value (10).
    #[serde(default = "default_frequency_margin")]
    pub frequency_margin: f64,
    /// Dominance rule (n, k): n, the number of largest enterprises (2) …
    #[serde(default = "default_dominance_n")]
    pub dominance_n: u64,
    /// … and k, the percentage of the cell they may hold at most (85).
    pub dominance_share: f64,
    /// The p% rule: 0 turns it off (the shipped setting).
    #[serde(default)]
    pub p_percent: f64,
    /// Publish the city total (370800, _T) whatever the rules say (true).
    #[serde(default = "default_true")]
    pub publish_city_total: bool,
    /// Exact search for the least value lost: linear programs one connected part may use (200).
    #[serde(default = "default_search_budget")]
    pub optimal_search_budget: usize,
    /// … and the most candidate cells a part may have to be searched (16).
    #[serde(default = "default_search_candidates")]
    pub optimal_search_candidates: usize,
    /// Tables with more cells than this are protected in blocks of regions, each as if the
    /// reader knew the rest ([`universe`]); 0: never (8,000) …
    #[serde(default = "default_max_table_cells")]
    pub max_table_cells: usize,
    /// … of about this many cells each (2,000).
    #[serde(default = "default_block_cells")]
    pub block_cells: usize,
}

fn default_frequency_margin() -> f64 {
    10.0
}
fn default_dominance_n() -> u64 {
    2
}
fn default_true() -> bool {
    true
}
fn default_search_budget() -> usize {
    200
}
fn default_search_candidates() -> usize {
    16
}
fn default_max_table_cells() -> usize {
    8_000
}
fn default_block_cells() -> usize {
    2_000
}

impl Default for Config {
    /// The settings of the shipped `config/disclosure.toml`.
    fn default() -> Self {
        Config {
            min_enterprises: 3,
            frequency_margin: default_frequency_margin(),
            dominance_n: default_dominance_n(),
            dominance_share: 85.0,
            p_percent: 0.0,
            publish_city_total: true,
            optimal_search_budget: default_search_budget(),
            optimal_search_candidates: default_search_candidates(),
            max_table_cells: default_max_table_cells(),
            block_cells: default_block_cells(),
        }
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
        if !(cfg.dominance_share > 0.0 && cfg.dominance_share <= 100.0) {
            bail!("{}: dominance_share must be a percentage above 0 and at most 100", path.display());
        }
        if cfg.dominance_n == 0 {
            bail!("{}: dominance_n must be at least 1", path.display());
        }
        for (name, v) in [("p_percent", cfg.p_percent), ("frequency_margin", cfg.frequency_margin)] {
            if !(0.0..=100.0).contains(&v) {
                bail!("{}: {name} must be a percentage between 0 and 100", path.display());
            }
        }
        if cfg.optimal_search_candidates > 64 {
            bail!("{}: optimal_search_candidates must be at most 64", path.display());
        }
        Ok(cfg)
    }

    fn search_settings(&self) -> optimise::Settings {
        optimise::Settings { budget: self.optimal_search_budget, max_candidates: self.optimal_search_candidates }
    }
}

/// The hidden cells of a period, per variable.
#[derive(Debug, Clone, Default)]
pub struct Suppression {
    pub cells: BTreeMap<(Cell, Var), Reason>,
}

impl Suppression {
    pub fn contains(&self, region: &str, breakdown: &str, var: Var) -> bool {
        self.cells.contains_key(&((region.to_string(), breakdown.to_string()), var))
    }

    /// Hides a cell on one variable.
    pub fn hide(&mut self, region: &str, breakdown: &str, var: Var, why: Reason) {
        self.cells.insert(((region.to_string(), breakdown.to_string()), var), why);
    }

    /// Whether `indicator` of a cell is hidden: its variable is hidden in the cell, or (a share)
    /// in the region's total.
    /// `va_share_city` (a county's share of the city) is hidden with the city's total.
    pub fn hides(&self, region: &str, breakdown: &str, indicator: &str) -> bool {
        hides_in(|r, b, v| self.contains(r, b, v), region, breakdown, indicator)
    }

    /// The hidden cells for lookups by `&str` (no key built per lookup): a public table of a
    /// national period has millions of rows, looked up again in every round of the audit.
    pub fn lookup(&self) -> Lookup<'_> {
        Lookup(self.cells.keys().map(|((r, b), v)| (r.as_str(), b.as_str(), *v)).collect())
    }
}

/// [`Suppression::hides`] over a borrowed index of the hidden cells (a fast hash: a national
/// period's public tables are looked up cell by cell in every round of the audit).
pub struct Lookup<'a>(rustc_hash::FxHashSet<(&'a str, &'a str, Var)>);

impl<'a> Lookup<'a> {
    /// The cells each variable's problem hides.
    fn of(problems: &'a BTreeMap<Var, VarProblem>) -> Lookup<'a> {
        Lookup(problems.iter().flat_map(|(v, p)| p.hidden.iter().map(|(r, b)| (r.as_str(), b.as_str(), *v))).collect())
    }

    pub fn contains(&self, region: &str, breakdown: &str, var: Var) -> bool {
        self.0.contains(&(region, breakdown, var))
    }

    pub fn hides(&self, region: &str, breakdown: &str, indicator: &str) -> bool {
        hides_in(|r, b, v| self.contains(r, b, v), region, breakdown, indicator)
    }
}

/// Whether `indicator` of a cell is hidden, given which cells × variables are (`contains`).
fn hides_in(contains: impl Fn(&str, &str, Var) -> bool, region: &str, breakdown: &str, indicator: &str) -> bool {
    if indicator == "va_share_city" {
        return contains(region, breakdown, Var::ValueAdded) || contains(CITY_CODE, "_T", Var::ValueAdded);
    }
    let Some(var) = Var::of_indicator(indicator) else { return false };
    contains(region, breakdown, var) || (indicator == "va_share" && contains(region, "_T", var))
}

/// The outcome of disclosure control for one period.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    pub suppression: Suppression,
    /// Every sensitive hidden cell's interval as the intruder audit computed it.
    pub intervals: Vec<Interval>,
    /// Sensitive cells whose interval is narrower than their requirement: the period must not
    /// enter `public/`.
    pub disclosed: Vec<Interval>,
    /// Per variable, the value lost to complementary cells and how far it is proven least
    /// ([`optimise`]); empty when the audit refused the greedy pattern (nothing was reduced).
    pub costs: BTreeMap<Var, optimise::Outcome>,
}

impl Protection {
    /// Names the disclosed cells (for the error that keeps the period out of `public/`).
    pub fn describe_disclosed(&self) -> String {
        self.disclosed
            .iter()
            .map(|i| {
                format!(
                    "{} {} {}: value {:.2} could be narrowed to [{:.2}, {:.2}], protection requirement {:.2}",
                    i.cell.0,
                    i.cell.1,
                    i.var.code(),
                    i.value,
                    i.lower,
                    i.upper,
                    i.requirement.unwrap_or(0.0)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The cells exempt from suppression by policy.
fn exempt(cfg: &Config) -> BTreeSet<Cell> {
    let mut s = BTreeSet::new();
    if cfg.publish_city_total {
        s.insert((CITY_CODE.to_string(), "_T".to_string()));
    }
    s
}

/// One variable's problem: true values, the relations the data satisfies, the primary cells.
struct VarProblem {
    values: BTreeMap<Cell, f64>,
    groups: Vec<secondary::Group>,
    requirements: BTreeMap<Cell, f64>,
    reasons: BTreeMap<Cell, Reason>,
    hidden: BTreeSet<Cell>,
    /// Never hidden: by policy, or unchanged since the previous public version showed it.
    fixed: BTreeSet<Cell>,
    /// Figures the previous public version showed that have not changed: readers know them.
    known_before: BTreeMap<Cell, f64>,
    /// The table's blocks for this variable (joined where its cells needed partners).
    universe: Universe,
    /// The previous audit's connected parts, so that a round audits again only what it changed.
    audits: intruder::Memo,
}

impl VarProblem {
    /// The greedy pattern from the sensitive cells over the current blocks
    /// ([`secondary::Problem::protect`]), replacing whatever was hidden.
    fn greedy(&mut self, var: Var) {
        self.hidden = self.requirements.keys().cloned().collect();
        let problem = secondary::Problem {
            values: &self.values,
            groups: &self.groups,
            fixed: &self.fixed,
            non_negative: var.non_negative(),
            universe: &self.universe,
        };
        problem.protect(&mut self.hidden, &self.requirements);
    }

    /// What a reader knows of this variable: what the public tables show (`shown`), and what the
    /// previous public version showed that has not changed.
    fn reader_view(&self, shown: Option<&intruder::View>) -> intruder::View {
        let mut view = shown.cloned().unwrap_or_default();
        for (c, v) in &self.known_before {
            view.known.entry(c.clone()).or_insert(*v);
        }
        view
    }
}

/// The period's current public version, when it is being republished: its enterprise rows
/// (the internal basis written with it) and the figures its public tables show.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub rows: Vec<Enterprise>,
    pub published: BTreeMap<Var, BTreeMap<Cell, f64>>,
}

/// Internal: the enterprise rows each public version of a period was built from.
pub const BASIS_TABLE: &str = "disclosure_basis";

/// Reads the public version of `period` in the publication being built (which starts as the
/// current one), if there is one.
pub fn previous_public(gen_dir: &Path, period: &str, defs: &[crate::models::Model]) -> Result<Option<Previous>> {
    let part = format!("period={period}");
    let basis = crate::store::read_dir_batches(&gen_dir.join("warehouse").join(BASIS_TABLE).join(&part))?;
    if basis.is_empty() {
        return Ok(None);
    }
    let rows = rules::from_batches(&basis)?;
    let mut tables: Vec<(String, Vec<RecordBatch>)> = Vec::new();
    for name in public_models(defs) {
        let dir = gen_dir.join(crate::publish::PUBLIC).join(&name).join(&part);
        tables.push((name, crate::store::read_dir_batches(&dir)?));
    }
    let refs: Vec<(&str, &[RecordBatch])> = tables.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let published = intruder::view_of(&refs).into_iter().map(|(v, view)| (v, view.known)).collect();
    Ok(Some(Previous { rows, published }))
}

/// Primary and secondary suppression of every variable from the enterprise rows (no audit).
pub fn decide(rows: &[Enterprise], cfg: &Config) -> Suppression {
    let (_, problems) = plan(rows, cfg, None);
    suppression_of(&problems)
}

fn plan(rows: &[Enterprise], cfg: &Config, previous: Option<&Previous>) -> (Universe, BTreeMap<Var, VarProblem>) {
    let stats = rules::cell_stats(rows);
    let universe = Universe::in_blocks(stats.keys().cloned().collect(), cfg.max_table_cells, cfg.block_cells);
    if universe.blocks() > 1 {
        tracing::info!(
            cells = universe.cells.len(),
            blocks = universe.blocks(),
            block_cells = cfg.block_cells,
            "disclosure control: the table is protected in blocks of regions"
        );
    }
    let policy = exempt(cfg);
    let primary = rules::primary(&stats, cfg, &policy);
    let structure = secondary::structure(&universe.cells);
    // A republished period: what moved since the public version, per enterprise.
    let delta = previous.map(|p| rules::cell_stats(&rules::changes(&p.rows, rows)));
    // Each variable's problem on its own, in parallel (the greedy search is most of a national
    // table's plan); gathered by variable, so the result does not depend on the order.
    let problems = rules::VARS
        .par_iter()
        .map(|&var| {
            let values: BTreeMap<Cell, f64> = stats.iter().map(|(c, s)| (c.clone(), s.total(var))).collect();
            let groups = secondary::balanced(structure.clone(), &values);
            let mut sens = primary.get(&var).cloned().unwrap_or_default();
            let mut fixed = policy.clone();
            let mut known_before = BTreeMap::new();
            if let (Some(prev), Some(delta)) = (previous, &delta) {
                let shown = prev.published.get(&var).cloned().unwrap_or_default();
                // Enterprises whose corrections the exempt city total shows anyway (by policy): a cell
                // moved by exactly those reveals nothing more.
                let conceded = policy
                    .iter()
                    .filter_map(|c| delta.get(c))
                    .map(|d| revision_stat(d, var).enterprises)
                    .max()
                    .unwrap_or(0);
                for (cell, old_value) in &shown {
                    let moved = delta.get(cell).map(|d| revision_stat(d, var)).filter(|d| d.enterprises > 0);
                    match moved {
                        // Unchanged since it was published: readers know it, so it protects nothing.
                        None => {
                            fixed.insert(cell.clone());
                            known_before.insert(cell.clone(), *old_value);
                        }
                        // Moved by a few enterprises' corrections: publishing it again would show them.
                        Some(d) if !policy.contains(cell) && d.enterprises != conceded => {
                            if let Some(r) = rules::assess(&d, var, cfg) {
                                let e = sens
                                    .entry(cell.clone())
                                    .or_insert(rules::Sensitivity { reason: Reason::Revision, requirement: 0.0 });
                                if r.requirement >= e.requirement {
                                    *e = rules::Sensitivity { reason: Reason::Revision, requirement: r.requirement };
                                }
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            let requirements: BTreeMap<Cell, f64> = sens.iter().map(|(c, s)| (c.clone(), s.requirement)).collect();
            let reasons: BTreeMap<Cell, Reason> = sens.iter().map(|(c, s)| (c.clone(), s.reason)).collect();
            let hidden = BTreeSet::new();
            let universe = universe.clone();
            let audits = intruder::Memo::default();
            let mut p =
                VarProblem { values, groups, requirements, reasons, hidden, fixed, known_before, universe, audits };
            p.greedy(var);
            (var, p)
        })
        .collect();
    (universe, problems)
}

/// A cell's changes on one variable as a cell of their own: only the enterprises whose value of
/// `var` moved count.
fn revision_stat(delta: &rules::CellStat, var: Var) -> rules::CellStat {
    let i = rules::VARS.iter().position(|v| *v == var).expect("listed");
    let moved: Vec<f64> = delta.contributions[i].iter().copied().filter(|x| *x > 0.0).collect();
    let mut s = rules::CellStat { enterprises: moved.len() as u64, ..Default::default() };
    s.totals[i] = delta.totals[i];
    s.contributions[i] = moved;
    s
}

fn suppression_of(problems: &BTreeMap<Var, VarProblem>) -> Suppression {
    let mut s = Suppression::default();
    for (var, p) in problems {
        for c in &p.hidden {
            let why = p.reasons.get(c).copied().unwrap_or(Reason::Secondary);
            s.cells.insert((c.clone(), *var), why);
        }
    }
    s
}

/// What applying a pattern and auditing it needs besides the pattern.
struct Audited<'a> {
    public: &'a BTreeSet<String>,
    cuts: &'a BTreeMap<String, usize>,
    originals: &'a [Vec<RecordBatch>],
}

impl Audited<'_> {
    /// Applies the hidden cells of `problems` to the models' original outputs and audits the
    /// public tables to `depth`; also returns what a reader sees of each variable.
    fn apply(
        &self,
        runs: &mut [ModelRun],
        problems: &BTreeMap<Var, VarProblem>,
        depth: intruder::Depth,
    ) -> Result<(Protection, BTreeMap<Var, intruder::View>)> {
        let started = std::time::Instant::now();
        let hidden = Lookup::of(problems);
        for (r, batches) in runs.iter_mut().zip(self.originals) {
            if r.error.is_some() || r.schema.is_none() {
                continue;
            }
            let out = apply_cut(&r.name, batches, &hidden, self.cuts.get(&r.name).copied())?;
            if let Some(first) = out.first() {
                r.schema = Some(first.schema());
            }
            r.batches = out;
        }
        let tables: Vec<(&str, &[RecordBatch])> = runs
            .iter()
            .filter(|r| self.public.contains(&r.name) && r.error.is_none())
            .map(|r| (r.name.as_str(), r.batches.as_slice()))
            .collect();
        let applied = started.elapsed().as_secs_f64();
        let views = intruder::view_of(&tables);
        let viewed = started.elapsed().as_secs_f64();
        // The variables' tables are independent: audited in parallel, gathered in their order.
        let audits: Vec<Result<Vec<Interval>>> = problems
            .par_iter()
            .map(|(var, p)| {
                let view = p.reader_view(views.get(var));
                let (universe, values, groups) = (&p.universe, &p.values, &p.groups);
                intruder::audit(*var, universe, values, &view, groups, &p.requirements, depth, &p.audits)
            })
            .collect();
        tracing::debug!(
            applied,
            viewed = viewed - applied,
            audited = started.elapsed().as_secs_f64() - viewed,
            "disclosure control: pattern applied to the public tables, read as a reader would, audited (seconds)"
        );
        let mut intervals = Vec::new();
        for a in audits {
            intervals.extend(a?);
        }
        let disclosed: Vec<Interval> = intervals.iter().filter(|i| !i.sufficient()).cloned().collect();
        // The verdict of a round is read for its disclosed cells only; the pattern with its
        // reasons is kept for the exact audit (built for every round, it was a fifth of a
        // national round's time).
        let suppression = match depth {
            Depth::Exact => suppression_of(problems),
            Depth::Verdict => Suppression::default(),
        };
        Ok((Protection { suppression, intervals, disclosed, costs: BTreeMap::new() }, views))
    }
}

/// What the rounds of "audit, then hide more" remember: each disclosed cell's shortfall when it
/// was last widened.
#[derive(Default)]
pub(crate) struct Widenings(BTreeMap<(Var, Cell), f64>);

impl Widenings {
    /// Hides more for the disclosed cell of `d` ([`secondary::widen`]) and returns true; false when
    /// nothing is left to hide, or when the last widening left the cell as short as it is now and
    /// the table is in blocks: that widening did not reach what narrows the cell (in a sparse
    /// column, often nothing in its block can), so its block is to be joined now, not after every
    /// partner in it was hidden, a round each (a national table's exports took 30 rounds so).
    pub(crate) fn widen(&mut self, p: &secondary::Problem, hidden: &mut BTreeSet<Cell>, d: &Interval) -> bool {
        let shortfall = d.shortfall();
        let key = (d.var, d.cell.clone());
        let futile = p.universe.blocks() > 1
            && self.0.get(&key).is_some_and(|before| shortfall >= before - secondary::tolerance(d.value));
        if futile || !secondary::widen(p, hidden, &d.cell, shortfall) {
            return false;
        }
        self.0.insert(key, shortfall);
        true
    }

    /// Forgets `var`'s cells: its blocks were joined and its greedy search starts again.
    pub(crate) fn forget(&mut self, var: Var) {
        self.0.retain(|(v, _), _| *v != var);
    }
}

/// Rounds of "audit, then hide more" before a disclosed cell is reported. Every round hides
/// more or joins blocks, so the rounds end of themselves; the limit bounds the time. A round
/// audits again only the parts it changed (`intruder::Memo`): the national inbox's exports
/// needed 30 rounds of ~3 s (release build), joining 69 blocks into 63.
const MAX_AUDIT_ROUNDS: usize = 100;

/// Decides from the enterprise rows, applies the result to every model of `runs`, and audits the
/// public tables (models of `defs` declared public) as an intruder would.
pub fn protect_runs(
    runs: &mut [ModelRun],
    rows: &[Enterprise],
    cfg: &Config,
    defs: &[crate::models::Model],
    previous: Option<&Previous>,
) -> Result<Protection> {
    let public = public_models(defs);
    let cuts: BTreeMap<String, usize> = defs.iter().filter_map(|m| m.header.top.map(|n| (m.name.clone(), n))).collect();
    let started = std::time::Instant::now();
    let (universe, mut problems) = plan(rows, cfg, previous);
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "disclosure control: cells assessed, greedy pattern found"
    );
    let originals: Vec<Vec<RecordBatch>> = runs.iter().map(|r| r.batches.clone()).collect();
    let (mut protection, mut views) = (Protection::default(), BTreeMap::new());
    // The rounds need only the audit's verdict; the intervals reported are computed exactly once
    // the pattern is final.
    let started = std::time::Instant::now();
    let mut rounds = 0;
    let mut widenings = Widenings::default();
    for round in 0.. {
        rounds = round + 1;
        let audited = Audited { public: &public, cuts: &cuts, originals: &originals };
        (protection, views) = audited.apply(runs, &problems, Depth::Verdict)?;
        let mut widened = false;
        if round < MAX_AUDIT_ROUNDS {
            // Per variable, the blocks with a disclosed cell and nothing left to hide in them.
            let mut stuck: BTreeMap<Var, BTreeSet<u32>> = BTreeMap::new();
            for d in &protection.disclosed {
                let p = problems.get_mut(&d.var).expect("every variable");
                let problem = secondary::Problem {
                    values: &p.values,
                    groups: &p.groups,
                    fixed: &p.fixed,
                    non_negative: d.var.non_negative(),
                    universe: &p.universe,
                };
                if widenings.widen(&problem, &mut p.hidden, d) {
                    widened = true;
                } else {
                    stuck.entry(d.var).or_default().insert(p.universe.block(&d.cell));
                }
            }
            for (var, blocks) in stuck {
                let p = problems.get_mut(&var).expect("every variable");
                if !p.universe.join(&blocks) {
                    continue;
                }
                widenings.forget(var);
                tracing::info!(
                    variable = var.code(),
                    blocks = p.universe.blocks(),
                    "disclosure control: blocks joined where a cell had no partner left"
                );
                // The greedy search again, from the sensitive cells, over the joined blocks (the
                // widened pattern may have used up a cell's partners in the old ones).
                p.greedy(var);
                widened = true;
            }
        }
        let (solved, reused, repeated) = problems.values().fold((0, 0, 0), |(s, r, a), p| {
            let audits = &p.audits;
            (
                s + audits.solved.load(Ordering::Relaxed),
                r + audits.reused.load(Ordering::Relaxed),
                a + audits.repeated.load(Ordering::Relaxed),
            )
        });
        tracing::debug!(
            round = rounds,
            disclosed = protection.disclosed.len(),
            parts_solved = solved,
            parts_reused = reused,
            audits_repeated = repeated,
            seconds = started.elapsed().as_secs_f64(),
            "disclosure control: audit round"
        );
        if !widened {
            break;
        }
    }
    let audited = Audited { public: &public, cuts: &cuts, originals: &originals };
    tracing::debug!(rounds, seconds = started.elapsed().as_secs_f64(), "disclosure control: greedy pattern audited");
    let started = std::time::Instant::now();
    if !protection.disclosed.is_empty() {
        // Reported as disclosed: with the exact intervals.
        (protection, _) = audited.apply(runs, &problems, Depth::Exact)?;
    } else {
        // The greedy pattern passes the audit: reduce it to the least value lost.
        let greedy: BTreeMap<Var, BTreeSet<Cell>> = problems.iter().map(|(v, p)| (*v, p.hidden.clone())).collect();
        // Each variable's table on its own, in parallel (the result does not depend on the order),
        // those with the most complements to try first.
        let reduced: Vec<(Var, Result<optimise::Outcome>)> = crate::util::par_costliest_first(
            problems.iter_mut().collect(),
            |(_, p)| p.hidden.len().saturating_sub(p.requirements.len()),
            |(var, p)| {
                let view = p.reader_view(views.get(var));
                let mut known = view.known;
                let shares = intruder::resolve_shares(&mut known, &view.shares);
                let unshown: BTreeSet<Cell> = universe
                    .cells
                    .iter()
                    .filter(|c| !p.hidden.contains(*c) && !known.contains_key(*c))
                    .cloned()
                    .collect();
                let table = optimise::Table {
                    values: &p.values,
                    groups: &p.groups,
                    requirements: &p.requirements,
                    unshown: &unshown,
                    shares: &shares,
                    fixed: &p.fixed,
                    non_negative: var.non_negative(),
                    universe: &p.universe,
                };
                (*var, optimise::optimise(&table, &mut p.hidden, cfg.search_settings()))
            },
        );
        let mut costs = BTreeMap::new();
        for (var, outcome) in reduced {
            costs.insert(var, outcome?);
        }
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "disclosure control: complements reduced");
        let started = std::time::Instant::now();
        let (reduced, _) = audited.apply(runs, &problems, Depth::Exact)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "disclosure control: reduced pattern audited");
        if reduced.disclosed.is_empty() {
            protection = Protection { costs, ..reduced };
        } else {
            // The reader model of `optimise` missed something the public tables show: keep the
            // greedy pattern, which the audit accepted.
            tracing::warn!(
                "disclosure control: the reduced pattern fails the audit ({}); the greedy one is kept",
                reduced.describe_disclosed()
            );
            for (var, hidden) in greedy {
                problems.get_mut(&var).expect("every variable").hidden = hidden;
            }
            (protection, _) = audited.apply(runs, &problems, Depth::Exact)?;
        }
        for (var, o) in &protection.costs {
            let proven = o.components.iter().filter(|c| c.optimality == optimise::Optimality::Proven).count();
            tracing::debug!(
                variable = var.code(),
                greedy = o.greedy_value_lost,
                released = o.released_value_lost,
                value_lost = o.value_lost,
                components = o.components.len(),
                proven,
                checks = o.checks,
                release_seconds = o.release_seconds,
                search_seconds = o.search_seconds,
                "disclosure control: value lost to complementary cells"
            );
        }
    }
    let count = |why: Reason| protection.suppression.cells.values().filter(|r| **r == why).count();
    let costs = protection.costs.values();
    let components = || costs.clone().flat_map(|o| &o.components);
    tracing::info!(
        too_few = count(Reason::TooFew),
        dominated = count(Reason::Dominated),
        p_percent = count(Reason::PPercent),
        secondary = count(Reason::Secondary),
        disclosed = protection.disclosed.len(),
        greedy_value_lost = costs.clone().map(|o| o.greedy_value_lost).sum::<f64>(),
        value_lost = costs.clone().map(|o| o.value_lost).sum::<f64>(),
        proven = components().filter(|c| c.optimality == optimise::Optimality::Proven).count(),
        irredundant = components().filter(|c| c.optimality == optimise::Optimality::Irredundant).count(),
        greedy = components().filter(|c| c.optimality == optimise::Optimality::Greedy).count(),
        "disclosure control: cell × variable figures hidden"
    );
    Ok(protection)
}

/// The internal report of a period (`warehouse/disclosure_report/`): every hidden cell ×
/// variable with why, its true value, its requirement and the intruder's interval.
pub fn report_batch(period: &str, p: &Protection) -> Result<RecordBatch> {
    let mut rows: Vec<&Interval> = p.intervals.iter().collect();
    rows.sort_by(|a, b| (&a.cell, a.var).cmp(&(&b.cell, b.var)));
    let reason = |i: &Interval| p.suppression.cells.get(&(i.cell.clone(), i.var)).map_or("published", |r| r.code());
    // An interval's end is a point of the linear program, where a zero may carry a sign: written
    // as 0 (x + 0.0 is +0.0 for either zero), not as -0.
    let finite = |x: f64| x.is_finite().then_some(x + 0.0);
    let schema = Arc::new(Schema::new(vec![
        Field::new("period", DataType::Utf8, false),
        Field::new("region_code", DataType::Utf8, false),
        Field::new("breakdown", DataType::Utf8, false),
        Field::new("variable", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("requirement", DataType::Float64, true),
        Field::new("lower", DataType::Float64, true),
        Field::new("upper", DataType::Float64, true),
        Field::new("sufficient", DataType::Boolean, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![period; rows.len()])),
        Arc::new(StringArray::from(rows.iter().map(|i| i.cell.0.as_str()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|i| i.cell.1.as_str()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|i| i.var.code()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|i| reason(i)).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|i| i.value).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|i| i.requirement).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|i| finite(i.lower)).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|i| finite(i.upper)).collect::<Vec<_>>())),
        Arc::new(BooleanArray::from(rows.iter().map(|i| i.sufficient()).collect::<Vec<_>>())),
    ];
    Ok(RecordBatch::try_new(schema, cols)?)
}

/// The internal report of what complementary cells cost (`warehouse/disclosure_cost/`): per
/// variable and connected part of the hidden cells, the value lost to its complements and
/// whether it is proven least-cost or only irredundant; each row also carries its variable's
/// totals (the greedy search's, after the release pass, and final), so the gain shows.
pub fn cost_batch(period: &str, p: &Protection) -> Result<RecordBatch> {
    let rows: Vec<(Var, &optimise::Outcome, &optimise::Component)> =
        p.costs.iter().flat_map(|(v, o)| o.components.iter().map(move |c| (*v, o, c))).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("period", DataType::Utf8, false),
        Field::new("variable", DataType::Utf8, false),
        Field::new("region_code", DataType::Utf8, false),
        Field::new("breakdown", DataType::Utf8, false),
        Field::new("hidden_cells", DataType::Int64, false),
        Field::new("sensitive_cells", DataType::Int64, false),
        Field::new("complements", DataType::Int64, false),
        Field::new("value_lost", DataType::Float64, false),
        Field::new("optimality", DataType::Utf8, false),
        Field::new("variable_value_lost", DataType::Float64, false),
        Field::new("variable_released_value_lost", DataType::Float64, false),
        Field::new("variable_greedy_value_lost", DataType::Float64, false),
    ]));
    let int = |f: fn(&optimise::Component) -> usize| -> ArrayRef {
        Arc::new(Int64Array::from(rows.iter().map(|r| f(r.2) as i64).collect::<Vec<_>>()))
    };
    let float = |f: &dyn Fn(&(Var, &optimise::Outcome, &optimise::Component)) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![period; rows.len()])),
        Arc::new(StringArray::from(rows.iter().map(|r| r.0.code()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.2.first.0.as_str()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.2.first.1.as_str()).collect::<Vec<_>>())),
        int(|c| c.cells),
        int(|c| c.sensitive),
        int(|c| c.complements),
        float(&|r| r.2.value_lost),
        Arc::new(StringArray::from(rows.iter().map(|r| r.2.optimality.code()).collect::<Vec<_>>())),
        float(&|r| r.1.value_lost),
        float(&|r| r.1.released_value_lost),
        float(&|r| r.1.greedy_value_lost),
    ];
    Ok(RecordBatch::try_new(schema, cols)?)
}

/// A text column read in place (cast to Utf8 once), or as strings when it cannot be cast.
enum Texts {
    Utf8(ArrayRef),
    Owned(Vec<Option<String>>),
}

impl Texts {
    fn of(c: &ArrayRef) -> Texts {
        match arrow::compute::cast(c, &DataType::Utf8) {
            Ok(a) => Texts::Utf8(a),
            Err(_) => Texts::Owned((0..c.len()).map(|i| text_cell(c, i)).collect()),
        }
    }

    fn get(&self, i: usize) -> Option<&str> {
        use arrow::array::{Array, AsArray};
        match self {
            Texts::Utf8(a) => {
                let s = a.as_string::<i32>();
                (!s.is_null(i)).then(|| s.value(i))
            }
            Texts::Owned(v) => v[i].as_deref(),
        }
    }
}

/// A numeric column as f64, cast once (NULL stays None).
fn numbers(c: &ArrayRef) -> Vec<Option<f64>> {
    use arrow::array::{Array, AsArray};
    if matches!(c.data_type(), DataType::Decimal128(_, _)) {
        return (0..c.len()).map(|i| number_cell(c, i)).collect();
    }
    match arrow::compute::cast(c, &DataType::Float64) {
        Ok(a) => {
            let f = a.as_primitive::<arrow::datatypes::Float64Type>();
            (0..f.len()).map(|i| (!f.is_null(i)).then(|| f.value(i))).collect()
        }
        Err(_) => (0..c.len()).map(|i| number_cell(c, i)).collect(),
    }
}

fn col<'a>(b: &'a RecordBatch, model: &str, name: &str) -> Result<&'a ArrayRef> {
    b.column_by_name(name)
        .with_context(|| format!("model {model} has no column `{name}` (needed by disclosure control)"))
}

/// `batch` with each listed column set to NULL where its mask is true, and its `suppressed`
/// column (added when absent) set to `flag`.
fn hide_columns(batch: &RecordBatch, masks: &[(&str, Vec<bool>)], flag: &[bool]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let mut has_flag = false;
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        let array = if let Some((_, mask)) = masks.iter().find(|(n, _)| *n == field.name().as_str()) {
            arrow::compute::nullif(array, &BooleanArray::from(mask.clone()))?
        } else if field.name() == "suppressed" {
            has_flag = true;
            Arc::new(BooleanArray::from(flag.to_vec())) as ArrayRef
        } else {
            Arc::clone(array)
        };
        fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
        arrays.push(array);
    }
    if !has_flag {
        fields.push(Arc::new(Field::new("suppressed", DataType::Boolean, true)));
        arrays.push(Arc::new(BooleanArray::from(flag.to_vec())));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())), arrays)?)
}

/// The cell of each row: `region` fixed (or the `region_code` column), breakdown from `key_col`.
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

/// Masks of a wide table: for each (column, indicator) present, where the cell hides it.
fn masks<'a>(b: &RecordBatch, cells: &[Cell], s: &Lookup, columns: &[(&'a str, &str)]) -> Vec<(&'a str, Vec<bool>)> {
    columns
        .iter()
        .filter(|(c, _)| b.column_by_name(c).is_some())
        .map(|(c, ind)| (*c, cells.iter().map(|k| s.hides(&k.0, &k.1, ind)).collect()))
        .collect()
}

/// Applies `s` to one model's output (by model name); other models are returned unchanged.
pub fn apply(model: &str, batches: &[RecordBatch], s: &Suppression) -> Result<Vec<RecordBatch>> {
    apply_cut(model, batches, &s.lookup(), None)
}

/// [`apply`], then keeps the first `cut` rows of a ranking (the cut comes after suppression, so
/// a hidden row never takes a place in it).
pub fn apply_cut(model: &str, batches: &[RecordBatch], s: &Lookup, cut: Option<usize>) -> Result<Vec<RecordBatch>> {
    // Batch by batch, in parallel (a national period's indicators are 2 M rows, applied again in
    // every round of the audit), gathered in order.
    let out: Vec<Result<RecordBatch>> = batches.par_iter().map(|b| apply_batch(model, b, s)).collect();
    let mut out = out.into_iter().collect::<Result<Vec<_>>>()?;
    if let Some(n) = cut {
        out = cut_ranking(out, n)?;
    }
    Ok(out)
}

/// [`apply_cut`] of one batch.
fn apply_batch(model: &str, b: &RecordBatch, s: &Lookup) -> Result<RecordBatch> {
    let b = match model {
        "indicator_values" => {
            let (region, breakdown) =
                (Texts::of(col(b, model, "region_code")?), Texts::of(col(b, model, "breakdown")?));
            let ind = Texts::of(col(b, model, "indicator")?);
            let hide: Vec<bool> = (0..b.num_rows())
                .map(|row| match (region.get(row), breakdown.get(row), ind.get(row)) {
                    (Some(r), Some(bd), Some(i)) => s.hides(r, bd, i),
                    _ => false,
                })
                .collect();
            let status = Texts::of(col(b, model, "status")?);
            let new_status: StringArray =
                (0..b.num_rows()).map(|row| if hide[row] { Some("C") } else { status.get(row) }).collect();
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
            let flag: Vec<bool> = cells.iter().map(|c| s.contains(&c.0, &c.1, Var::ValueAdded)).collect();
            let mut m = masks(
                b,
                &cells,
                s,
                &[
                    ("va_ytd", "va_ytd"),
                    ("va_growth", "va_growth"),
                    ("va_share_city", "va_share_city"),
                    ("output_ytd", "output_ytd"),
                    ("output_growth", "output_growth"),
                    ("revenue_ytd", "revenue_ytd"),
                    ("revenue_growth", "revenue_growth"),
                    ("profit_ytd", "profit_ytd"),
                    ("profit_growth", "profit_growth"),
                    ("export_ytd", "export_ytd"),
                    ("export_growth", "export_growth"),
                    ("employees", "employees"),
                ],
            );
            m.push(("rank_no", flag.clone()));
            rerank(&hide_columns(b, &m, &flag)?)?
        }
        "chain_summary" => {
            let cells = keys(b, model, Some(CITY_CODE), |x| format!("chain:{x}"), "chain_id")?;
            let flag: Vec<bool> = cells
                .iter()
                .map(|c| s.contains(&c.0, &c.1, Var::ValueAdded) || s.contains(&c.0, &c.1, Var::Revenue))
                .collect();
            let m = masks(
                b,
                &cells,
                s,
                &[
                    ("va_ytd", "va_ytd"),
                    ("va_growth", "va_growth"),
                    ("va_share", "va_share"),
                    ("revenue_ytd", "revenue_ytd"),
                    ("revenue_growth", "revenue_growth"),
                    ("output_ytd", "output_ytd"),
                    ("profit_ytd", "profit_ytd"),
                    ("export_ytd", "export_ytd"),
                    ("employees", "employees"),
                ],
            );
            hide_columns(b, &m, &flag)?
        }
        "division_ranking" => {
            let cells = keys(b, model, Some(CITY_CODE), |x| format!("division:{x}"), "division")?;
            let flag: Vec<bool> = cells.iter().map(|c| s.contains(&c.0, &c.1, Var::ValueAdded)).collect();
            let m = masks(
                b,
                &cells,
                s,
                &[
                    ("va_ytd", "va_ytd"),
                    ("va_growth", "va_growth"),
                    ("va_share", "va_share"),
                    ("output_ytd", "output_ytd"),
                    ("revenue_ytd", "revenue_ytd"),
                    ("profit_ytd", "profit_ytd"),
                    ("export_ytd", "export_ytd"),
                    ("employees", "employees"),
                ],
            );
            rank_published_first(&hide_columns(b, &m, &flag)?, "division")?
        }
        _ => b.clone(),
    };
    Ok(b)
}

/// The first `n` published rows of a ranking (hidden rows leave it altogether).
fn cut_ranking(batches: Vec<RecordBatch>, n: usize) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    let mut kept = 0;
    for b in batches {
        let keep: Vec<bool> = match b.column_by_name("suppressed") {
            Some(flag) => (0..b.num_rows())
                .map(|r| {
                    let shown = text_cell(flag, r).as_deref() != Some("true");
                    let k = shown && kept < n;
                    kept += usize::from(k);
                    k
                })
                .collect(),
            None => (0..b.num_rows())
                .map(|_| {
                    let k = kept < n;
                    kept += usize::from(k);
                    k
                })
                .collect(),
        };
        out.push(arrow::compute::filter_record_batch(&b, &BooleanArray::from(keep))?);
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

/// What became of a period's public zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicOutcome {
    /// The period's public tables and bulletin were written to `public/`.
    Written,
    /// The bulletin is a draft (草稿): `public/` keeps the period's previous public version.
    Draft,
    /// The intruder audit found a disclosed cell (named): nothing of the period entered `public/`.
    Disclosed(String),
}

/// The public models of `defs`.
pub fn public_models(defs: &[crate::models::Model]) -> BTreeSet<String> {
    defs.iter().filter(|m| m.header.publish == crate::models::Publish::Public).map(|m| m.name.clone()).collect()
}

/// After a period's models are in the publication being built (`gen_dir`), while its bulletin is
/// rendered: writes the internal disclosure report (`warehouse/disclosure_report/`) and, unless
/// the bulletin is a draft or the audit found a disclosed cell, stages the period's public zone
/// (its public tables, and the rows they were built from), which [`StagedPublic::publish`] puts
/// in place once the bulletin is known to be final.
#[allow(clippy::too_many_arguments)] // the period's parts, each from a different stage
pub fn stage_period(
    gen_dir: &Path,
    staging: &Path,
    period: &str,
    runs: &[ModelRun],
    defs: &[crate::models::Model],
    protection: &Protection,
    rows: &[Enterprise],
    draft: bool,
) -> Result<StagedPublic> {
    let part = format!("period={period}");
    for (table, batch) in
        [(REPORT_TABLE, report_batch(period, protection)?), (COST_TABLE, cost_batch(period, protection)?)]
    {
        let dir = staging.join("warehouse").join(table).join(&part);
        crate::store::write_partition(&dir, std::slice::from_ref(&batch), &batch.schema(), &["period"])?;
        crate::store::publish_dir(&dir, &gen_dir.join("warehouse").join(table).join(&part))?;
    }
    if !protection.disclosed.is_empty() {
        let why = protection.describe_disclosed();
        tracing::error!("disclosure audit of {period}: not published to public/: {why}");
        return Ok(StagedPublic::Settled(PublicOutcome::Disclosed(why)));
    }
    if draft {
        return Ok(StagedPublic::Settled(PublicOutcome::Draft));
    }
    let public = public_models(defs);
    let tables: Vec<(&str, &arrow::datatypes::SchemaRef, &[RecordBatch])> = runs
        .iter()
        .filter(|r| public.contains(&r.name) && r.error.is_none())
        .filter_map(|r| r.schema.as_ref().map(|s| (r.name.as_str(), s, r.batches.as_slice())))
        .collect();
    let mut folders = crate::publish::stage_public(gen_dir, staging, period, &tables)?;
    // The rows this public version was built from (internal): a republication is checked against it.
    let basis = rules::to_batch(period, rows)?;
    let dir = staging.join("warehouse").join(BASIS_TABLE).join(&part);
    crate::store::write_partition(&dir, std::slice::from_ref(&basis), &basis.schema(), &["period"])?;
    folders.push((dir, gen_dir.join("warehouse").join(BASIS_TABLE).join(&part)));
    Ok(StagedPublic::Ready { gen_dir: gen_dir.to_path_buf(), staging: staging.to_path_buf(), folders })
}

/// A period's public zone staged by [`stage_period`], or what became of it already.
#[derive(Debug)]
pub enum StagedPublic {
    /// Written under `staging`: each folder with where it goes in the publication `gen_dir`.
    Ready { gen_dir: PathBuf, staging: PathBuf, folders: Vec<(PathBuf, PathBuf)> },
    /// Nothing to publish: a draft, or a disclosed cell.
    Settled(PublicOutcome),
}

impl StagedPublic {
    /// Puts the staged public zone in place with the period's bulletin when the bulletin is
    /// final (`bulletin_final`: rendered, and not a draft); otherwise removes it, and `public/`
    /// keeps the period's previous public version.
    pub fn publish(self, period: &str, bulletin_final: bool) -> Result<PublicOutcome> {
        let outcome = match self {
            StagedPublic::Settled(outcome) => outcome,
            StagedPublic::Ready { gen_dir, staging, folders } => {
                if bulletin_final {
                    crate::publish::publish_public(&gen_dir, &staging, period, &folders)?;
                    return Ok(PublicOutcome::Written);
                }
                // Only tidying: the staging folder is never published, and the run's tidying
                // after publishing removes it whole.
                for (dir, _) in &folders {
                    std::fs::remove_dir_all(dir).ok();
                }
                PublicOutcome::Draft
            }
        };
        if outcome == PublicOutcome::Draft {
            tracing::info!("{period} is a draft (草稿): public/ keeps its previous public version");
        }
        Ok(outcome)
    }
}

/// The internal report of the intruder audit, in `warehouse/`.
pub const REPORT_TABLE: &str = "disclosure_report";

/// The internal report of the value lost to complementary cells, in `warehouse/`.
pub const COST_TABLE: &str = "disclosure_cost";

/// Models disclosure control knows how to protect: a public model carrying JN101 figures must be
/// one of them (checked when the models are loaded).
pub const PROTECTED_MODELS: &[&str] = &["indicator_values", "county_ranking", "chain_summary", "division_ranking"];

#[cfg(test)]
mod tests;
