//! The project: everything a statistician edits (forms, rules, SQL models, templates,
//! configuration) and the reference data, loaded once per run and passed by reference to the
//! stages. Nothing below the run reads the run's options.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::audit::rules::RuleFile;
use crate::forms::Forms;
use crate::reference::Reference;

pub struct Project {
    /// The project folder (`forms/`, `rules/`, `sql/`, `templates/`, `config/`, `fonts/`).
    pub dir: PathBuf,
    pub forms: Forms,
    pub rules: Vec<RuleFile>,
    /// What counts as an explanation in 备注 (`rules/explanations.toml`).
    pub explanations: crate::audit::rules::Explanations,
    pub reference: Reference,
    /// The report definitions (`sql/*.sql` and their tests), in run order.
    pub models: Vec<crate::models::Model>,
    pub templates: crate::bulletin::Templates,
    pub disclosure: crate::disclosure::Config,
    /// The caps on a county's feedback workbook (`config/feedback.toml`).
    pub feedback: crate::feedback::Limits,
    /// What the run may keep in memory instead of on disk (`config/memory.toml`).
    pub memory: crate::memory::Budgets,
    /// A hash of every definition and reference file and of gongbao's own code: part of every
    /// period's fingerprint (see [`crate::incremental::combine_definitions`]).
    pub definitions: String,
}

impl Project {
    /// Loads and checks the project in `dir` with the reference data in `reference`. An error
    /// here is a problem with the project itself (a broken form, rule or model), never with a
    /// county's return.
    pub fn load(dir: &Path, reference: &Path) -> Result<Project> {
        // The definition files are hashed beside the loading (the fonts are most of the bytes).
        let (mut files, project) =
            rayon::join(|| crate::incremental::definition_files(dir), || Project::parse(dir, reference));
        let mut project = project?;
        // Of the memory budgets only the query engine's can change an output (a query past it
        // fails; raised, the period must be built again): it is part of the definitions, and
        // the budgets of rows kept in memory are not (see `definition_files`).
        files.push(format!("config/memory.toml:query_bytes={}", project.memory.query_bytes));
        project.definitions = crate::incremental::combine_definitions(&project.reference.hashes, &files);
        Ok(project)
    }

    /// Everything but the definitions' hash.
    fn parse(dir: &Path, reference: &Path) -> Result<Project> {
        let forms = Forms::load(&dir.join("forms"))?;
        let rules = crate::audit::rules::load(&dir.join("rules"))?;
        let explanations = crate::audit::rules::Explanations::load(&dir.join("rules"))?;
        let reference = Reference::load(reference)?;
        let base_tables = crate::models::exec::base_table_names(&forms, &reference.tables);
        let models = crate::models::load(&dir.join("sql"), &base_tables)?;
        let templates = crate::bulletin::Templates::in_project(dir);
        if !templates.markdown.exists() {
            bail!("bulletin template {} is missing", templates.markdown.display());
        }
        let disclosure = crate::disclosure::Config::load(&dir.join("config/disclosure.toml"))
            .context("disclosure control configuration")?;
        let feedback = crate::feedback::Limits::load(&dir.join("config/feedback.toml"))?;
        let memory = crate::memory::Budgets::load(&dir.join("config/memory.toml"))?;
        crate::ingest::guard::install(crate::ingest::guard::Limits::load(&dir.join("config/limits.toml"))?);
        Ok(Project {
            dir: dir.to_path_buf(),
            forms,
            rules,
            explanations,
            reference,
            models,
            templates,
            disclosure,
            feedback,
            memory,
            definitions: String::new(),
        })
    }

    /// SHA-256 of the region list (part of the parsed-workbook cache's key).
    pub fn regions_sha256(&self) -> &str {
        self.reference.hashes.get("regions").map(String::as_str).unwrap_or_default()
    }
}
