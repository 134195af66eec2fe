//! Models: every `sql/*.sql` file is one SELECT, run with DataFusion in dependency order.
//!
//! A model reads warehouse tables, reference tables, `params` and earlier models by name;
//! gongbao works out the order from the table references and refuses cycles and unknown names.

pub mod contract;
pub mod docs;
pub mod exec;
pub mod model_tests;
pub mod pool;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use datafusion::common::config::Dialect;
use datafusion::prelude::SessionContext;

pub use contract::{ColumnSpec, ModelHeader, Publish};
pub use model_tests::{ModelTest, TestHeader, TestResult, TestSeverity};

/// One report definition.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub header: ModelHeader,
    /// Other models this one reads.
    pub depends_on: Vec<String>,
    /// Warehouse, reference and parameter tables this one reads.
    pub reads: Vec<String>,
    /// Its tests (`sql/tests/*.sql` whose header names this model), by file name.
    pub tests: Vec<ModelTest>,
}

/// Line (1-based) of the first mention of `name` in `sql`, for error messages.
fn line_of(sql: &str, name: &str) -> usize {
    let lower = name.to_lowercase();
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mentions = |line: &str| {
        let line = line.to_lowercase();
        line.match_indices(&lower)
            .any(|(i, m)| !is_word(line[..i].chars().last()) && !is_word(line[i + m.len()..].chars().next()))
    };
    sql.lines().position(|l| !l.trim_start().starts_with("--") && mentions(l)).map(|i| i + 1).unwrap_or(1)
}

/// The `.sql` files of `dir`, sorted; a missing folder has none when `optional`.
fn sql_files(dir: &Path, optional: bool) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read the report definitions folder {}", dir.display()));
        }
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    Ok(paths)
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default()
}

/// The tables a query reads, split into models (`names`) and base tables; anything else is an
/// error naming the file and line.
fn references(
    state: &datafusion::execution::SessionState,
    path: &Path,
    sql: &str,
    names: &BTreeSet<String>,
    base_tables: &BTreeSet<String>,
    dir: &Path,
) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let statement = state
        .sql_to_statement(sql, &Dialect::Generic)
        .map_err(|e| anyhow::anyhow!("{}: not valid SQL: {e}", path.display()))?;
    let refs = state.resolve_table_references(&statement).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut depends_on = BTreeSet::new();
    let mut reads = BTreeSet::new();
    for r in refs {
        let t = r.table().to_lowercase();
        if names.contains(&t) {
            depends_on.insert(t);
        } else if base_tables.contains(&t) {
            reads.insert(t);
        } else {
            bail!(
                "{}:{}: table `{t}` is neither a warehouse table, a reference table nor a model in {} (known tables: {})",
                path.display(),
                line_of(sql, r.table()),
                dir.display(),
                base_tables.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok((depends_on, reads))
}

/// Loads the models of `dir` and their tests (`dir/tests/*.sql`), and orders the models so that
/// every model comes after those it (or one of its tests) reads. `base_tables` are the tables the
/// run provides.
pub fn load(dir: &Path, base_tables: &BTreeSet<String>) -> Result<Vec<Model>> {
    let paths = sql_files(dir, false)?;
    let names: BTreeSet<String> = paths.iter().map(|p| stem(p)).collect();
    let ctx = SessionContext::new();
    let state = ctx.state();
    let mut models = Vec::new();
    for path in paths {
        let name = stem(&path);
        if base_tables.contains(&name) {
            bail!("{}: a model may not be named `{name}`: that is a warehouse or reference table", path.display());
        }
        let sql = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let header = ModelHeader::parse(&sql).with_context(|| format!("{}: header", path.display()))?;
        let (depends_on, reads) = references(&state, &path, &sql, &names, base_tables, dir)?;
        models.push(Model {
            name,
            path,
            sql,
            header,
            depends_on: depends_on.into_iter().collect(),
            reads: reads.into_iter().collect(),
            tests: Vec::new(),
        });
    }
    let tests_dir = dir.join("tests");
    for path in sql_files(&tests_dir, true)? {
        let sql = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let header = TestHeader::parse(&sql).map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
        let Some(model) = models.iter_mut().find(|m| m.name == header.model) else {
            bail!(
                "{}:{}: `-- model: {}` is not a model in {} (models: {})",
                path.display(),
                header.model_line,
                header.model,
                dir.display(),
                names.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        };
        let (mut depends_on, reads) = references(&state, &path, &sql, &names, base_tables, dir)?;
        if !depends_on.remove(&header.model) {
            bail!(
                "{}: a test of `{}` must read that model (e.g. `FROM {}`); it reads: {}",
                path.display(),
                header.model,
                header.model,
                depends_on.iter().chain(reads.iter()).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        model.tests.push(ModelTest {
            name: stem(&path),
            path,
            sql,
            header,
            depends_on: depends_on.into_iter().collect(),
            reads: reads.into_iter().collect(),
        });
    }
    let models = order(models)?;
    check_publication(&models)?;
    Ok(models)
}

/// The form tables holding enterprise rows.
const ENTERPRISE_ROWS: &[&str] = &["jn101", "jn101_all"];

/// A public model may carry no enterprise-level column, may not read enterprise rows itself,
/// and when it carries figures built from them (through another model) disclosure control must
/// know how to protect it (`crate::disclosure::PROTECTED_MODELS`). Anything else is refused
/// here, before anything runs.
pub fn check_publication(models: &[Model]) -> Result<()> {
    // Models whose output derives from enterprise rows (models are in dependency order).
    let mut carries: BTreeSet<&str> = BTreeSet::new();
    for m in models {
        if m.reads.iter().any(|t| ENTERPRISE_ROWS.contains(&t.as_str()))
            || m.depends_on.iter().any(|d| carries.contains(d.as_str()))
        {
            carries.insert(&m.name);
        }
    }
    for m in models.iter().filter(|m| m.header.publish == Publish::Public) {
        let file = m.path.display();
        if m.header.columns.is_empty() {
            bail!("{file}: a public model (`-- publish: public`) must declare its columns (`-- column …`)");
        }
        let bad: Vec<&str> = m
            .header
            .columns
            .iter()
            .filter(|c| contract::is_enterprise_column(&c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !bad.is_empty() {
            bail!(
                "{file}: a public model may not publish enterprise-level columns ({}); remove them or make the model internal",
                bad.join(", ")
            );
        }
        if let Some(t) = m.reads.iter().find(|t| ENTERPRISE_ROWS.contains(&t.as_str())) {
            bail!(
                "{file}:{}: a public model may not read the enterprise rows (`{t}`): publish figures through `jn101_cells` \
                 in a model disclosure control protects, or make this model internal",
                line_of(&m.sql, t)
            );
        }
        if carries.contains(m.name.as_str()) && !crate::disclosure::PROTECTED_MODELS.contains(&m.name.as_str()) {
            bail!(
                "{file}: a public model built on enterprise figures must be protected by disclosure control, which \
                 protects only {}; make this model internal (no `-- publish: public`)",
                crate::disclosure::PROTECTED_MODELS.join(", ")
            );
        }
    }
    Ok(())
}

impl Model {
    /// Models that must be built before this one: those it reads, and those its tests read.
    pub fn run_after(&self) -> BTreeSet<&str> {
        self.depends_on.iter().chain(self.tests.iter().flat_map(|t| t.depends_on.iter())).map(String::as_str).collect()
    }

    /// What one model's entry in a cycle message says it reads.
    fn reads_for_cycle(&self, among: &BTreeSet<String>) -> String {
        let mut parts: Vec<String> =
            self.depends_on.iter().filter(|d| among.contains(*d)).map(|d| format!("reads `{d}`")).collect();
        for t in &self.tests {
            for d in t.depends_on.iter().filter(|d| among.contains(*d)) {
                parts.push(format!("its test {} reads `{d}`", t.path.display()));
            }
        }
        parts.join(", ")
    }
}

/// Topological order, stable by name (wave by wave); a cycle is an error naming its members.
fn order(models: Vec<Model>) -> Result<Vec<Model>> {
    let mut remaining: BTreeMap<String, Model> = models.into_iter().map(|m| (m.name.clone(), m)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .values()
            .filter(|m| m.run_after().iter().all(|d| done.contains(*d) || !remaining.contains_key(*d)))
            .map(|m| m.name.clone())
            .collect();
        if ready.is_empty() {
            // Leave out the models that merely read a cycle: repeatedly drop those no other
            // remaining model waits for.
            let mut members: BTreeSet<String> = remaining.keys().cloned().collect();
            loop {
                let needed: BTreeSet<String> = members
                    .iter()
                    .flat_map(|n| remaining[n].run_after().into_iter().map(str::to_string).collect::<Vec<_>>())
                    .collect();
                let before = members.len();
                members.retain(|n| needed.contains(n));
                if members.len() == before {
                    break;
                }
            }
            let cycle: Vec<String> = members
                .iter()
                .map(|n| {
                    let m = &remaining[n];
                    format!("{} ({})", m.path.display(), m.reads_for_cycle(&members))
                })
                .collect();
            bail!("report definitions depend on each other in a cycle: {}", cycle.join("; "));
        }
        for name in ready {
            let m = remaining.remove(&name).expect("present");
            done.insert(name);
            out.push(m);
        }
    }
    Ok(out)
}
