//! Models: every `sql/*.sql` file is one SELECT, run with DataFusion in dependency order.
//!
//! A model reads warehouse tables, reference tables, `params` and earlier models by name;
//! gongbao works out the order from the table references and refuses cycles and unknown names.

pub mod contract;
pub mod exec;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use datafusion::common::config::Dialect;
use datafusion::prelude::SessionContext;

pub use contract::{ColumnSpec, ModelHeader};

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
}

/// Line (1-based) of the first mention of `name` in `sql`, for error messages.
fn line_of(sql: &str, name: &str) -> usize {
    sql.lines().position(|l| !l.trim_start().starts_with("--") && l.contains(name)).map(|i| i + 1).unwrap_or(1)
}

/// Loads the models of `dir` and orders them so that every model comes after those it reads.
/// `base_tables` are the tables the run provides.
pub fn load(dir: &Path, base_tables: &BTreeSet<String>) -> Result<Vec<Model>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the report definitions folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    let names: BTreeSet<String> =
        paths.iter().filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().to_lowercase())).collect();
    let ctx = SessionContext::new();
    let state = ctx.state();
    let mut models = Vec::new();
    for path in paths {
        let name = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
        if base_tables.contains(&name) {
            bail!("{}: a model may not be named `{name}`: that is a warehouse or reference table", path.display());
        }
        let sql = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let header = ModelHeader::parse(&sql).with_context(|| format!("{}: header", path.display()))?;
        let statement = state
            .sql_to_statement(&sql, &Dialect::Generic)
            .map_err(|e| anyhow::anyhow!("{}: not valid SQL: {e}", path.display()))?;
        let refs =
            state.resolve_table_references(&statement).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
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
                    line_of(&sql, r.table()),
                    dir.display(),
                    base_tables.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
        models.push(Model {
            name,
            path,
            sql,
            header,
            depends_on: depends_on.into_iter().collect(),
            reads: reads.into_iter().collect(),
        });
    }
    order(models)
}

/// Topological order, stable by name; a cycle is an error naming its members.
fn order(models: Vec<Model>) -> Result<Vec<Model>> {
    let mut remaining: BTreeMap<String, Model> = models.into_iter().map(|m| (m.name.clone(), m)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .values()
            .filter(|m| m.depends_on.iter().all(|d| done.contains(d)))
            .map(|m| m.name.clone())
            .collect();
        if ready.is_empty() {
            let cycle: Vec<String> = remaining
                .values()
                .map(|m| format!("{} (reads {})", m.path.display(), m.depends_on.join(", ")))
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
