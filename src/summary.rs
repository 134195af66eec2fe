//! What a run did: the one-screen summary, the exit codes, and what the ledger records. A leaf
//! of the module graph (the run, the ledger and the scheduler all use it).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::period::Period;

/// A return replaced by a newer one for the same form, county and period (kept on record).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Superseded {
    pub file: String,
    pub by: String,
    pub form: String,
    pub region_code: String,
    pub period: String,
}

/// A file refused as a whole, or a sheet refused within a file.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub file: String,
    pub sheet: Option<String>,
    pub reason: String,
}

/// What a run did; printed as the one-screen summary.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub target: Period,
    pub periods: Vec<Period>,
    pub files_seen: usize,
    pub files_ingested: usize,
    pub refusals: Vec<Refusal>,
    pub superseded: Vec<Superseded>,
    pub rows_input: u64,
    pub rows_accepted: u64,
    pub rows_quarantined: u64,
    /// Where the non-blank rows of every sheet went (the "无遗漏" check).
    pub row_tally: crate::ingest::tally::RowTally,
    pub errors: u64,
    pub warnings: u64,
    pub warnings_explained: u64,
    /// Counties that have not sent a form for the target period: (region name, form).
    pub missing: Vec<(String, String)>,
    pub models: Vec<(String, usize, Option<String>)>,
    /// Model tests (`sql/tests/*.sql`), in model run order. A failing error-severity test also
    /// fails its model (its output is not written), so it shows in `models` too.
    pub model_tests: Vec<crate::models::TestResult>,
    pub rule_failures: Vec<String>,
    pub bulletin: Option<PathBuf>,
    pub findings_sample: Vec<String>,
    /// County feedback written for the target period (`<out>/feedback/YYYY-MM/`).
    pub feedback: Vec<crate::feedback::CountyFeedback>,
    /// Periods rebuilt by this run (`unknown` for sheets without a period), oldest first.
    pub rebuilt: Vec<String>,
    /// Nothing changed since the last publication: nothing was rebuilt or rewritten.
    pub nothing_new: bool,
    /// A bulletin of a rebuilt period could not be rendered.
    pub bulletin_failed: bool,
    /// Why a bulletin could not be rendered (its period is published with a draft notice).
    pub bulletin_error: Option<String>,
    /// An error after the publication was made visible: the run published, then failed.
    pub after_publish: Option<String>,
    /// The publication this run made visible (`<out>/gen/<id>`).
    pub publication: Option<String>,
    /// Workbooks not seen before (by content hash).
    pub files_new: usize,
    /// Workbooks opened and read as spreadsheets by this run; the others it needed came from the
    /// parsed-workbook cache (`<out>/cache/parsed/`).
    pub files_opened: usize,
    /// Workbooks whose periods the plan learned from the heads of their sheets only (a run of
    /// some periods): not read whole unless a period built from them.
    pub files_peeked: usize,
    /// Workbooks whose full read found other periods than a peek had recorded (corrected in
    /// `cache/files.json`): (file, periods recorded, periods read).
    pub period_corrections: Vec<(String, String, String)>,
    /// Periods kept out of `public/` because the disclosure audit found a cell that could be
    /// narrowed too far (period and cells); the run fails.
    pub public_blocked: Vec<String>,
    /// Returns for periods released as final (frozen), held until `gongbao run --revise`: not
    /// used, reported to their counties. Holding is normal: it changes no exit code.
    pub pending_revisions: Vec<crate::incremental::PendingRevision>,
    /// Why a `--revise` period had nothing to apply.
    pub revise_notes: Vec<String>,
    /// Periods this run released as final (their bulletin entered `public/`): frozen from now on.
    pub released: Vec<String>,
    /// Workbooks read and used (some sheet of theirs), and refused as a whole: each counted once
    /// however many periods it holds.
    pub(crate) files_used: BTreeSet<PathBuf>,
    pub(crate) files_refused: BTreeSet<PathBuf>,
}

impl RunSummary {
    /// A summary before anything was built.
    pub fn new(run_id: String, target: Period) -> RunSummary {
        RunSummary {
            run_id,
            target,
            periods: Vec::new(),
            files_seen: 0,
            files_ingested: 0,
            refusals: Vec::new(),
            superseded: Vec::new(),
            rows_input: 0,
            rows_accepted: 0,
            rows_quarantined: 0,
            row_tally: Default::default(),
            errors: 0,
            warnings: 0,
            warnings_explained: 0,
            missing: Vec::new(),
            models: Vec::new(),
            model_tests: Vec::new(),
            rule_failures: Vec::new(),
            bulletin: None,
            findings_sample: Vec::new(),
            feedback: Vec::new(),
            rebuilt: Vec::new(),
            nothing_new: false,
            bulletin_failed: false,
            bulletin_error: None,
            after_publish: None,
            publication: None,
            files_new: 0,
            files_opened: 0,
            files_peeked: 0,
            period_corrections: Vec::new(),
            public_blocked: Vec::new(),
            pending_revisions: Vec::new(),
            revise_notes: Vec::new(),
            released: Vec::new(),
            files_used: BTreeSet::new(),
            files_refused: BTreeSet::new(),
        }
    }
}

impl RunSummary {
    /// Points the bulletin and feedback paths at the published folders (through `<out>/bulletins`
    /// and `<out>/feedback`), not at the publication they were written in.
    pub fn point_at_published(&mut self, out: &std::path::Path, publication: &std::path::Path) {
        if self.bulletin.is_some() {
            let published = out.join("bulletins").join(self.target.to_string()).join("bulletin.md");
            if published.exists() || self.bulletin.as_ref().is_some_and(|b| b.exists()) {
                self.bulletin = Some(published);
            }
        }
        for fb in &mut self.feedback {
            if let Ok(rel) = fb.workbook.strip_prefix(publication) {
                fb.workbook = out.join(rel);
            }
            if let Ok(rel) = fb.markdown.strip_prefix(publication) {
                fb.markdown = out.join(rel);
            }
        }
    }
}

/// Exit codes (documented in the README).
pub mod exit {
    /// The run finished and published (quarantined rows and warnings are in the summary).
    pub const OK: i32 = 0;
    /// Something failed: a model, an audit rule, the bulletin, a county's feedback, or the run
    /// itself.
    pub const FAILURE: i32 = 1;
    /// With `--fail-on-audit-errors`: the run published, but rows were quarantined, a file or
    /// sheet was refused, or a county has not submitted a form.
    pub const AUDIT_ERRORS: i32 = 2;
    /// With `--fail-on-audit-errors`: the run published without audit errors, but with warnings
    /// (核实性) that no 备注 explains.
    pub const WARNINGS: i32 = 3;
}

impl RunSummary {
    /// Whether the returns need correcting: quarantined rows, refusals or missing returns.
    pub fn has_audit_errors(&self) -> bool {
        self.errors > 0 || !self.missing.is_empty() || !self.refusals.is_empty()
    }

    /// What failed in a run that still published: the bulletins not rendered and the county
    /// feedback not written (for the ledger; the summary prints them too).
    pub fn failures(&self) -> Vec<String> {
        let bulletin = self.bulletin_error.iter().map(|e| format!("公报未能生成(已发布草稿说明): {e}"));
        let feedback = self
            .feedback
            .iter()
            .filter_map(|f| f.failed.as_ref().map(|e| format!("审核反馈未能生成 {}: {e}", f.region_name)));
        bulletin.chain(feedback).collect()
    }

    pub fn exit_code(&self, fail_on_audit_errors: bool) -> i32 {
        if !self.rule_failures.is_empty()
            || self.models.iter().any(|m| m.2.is_some())
            || self.bulletin_failed
            || self.feedback.iter().any(|f| f.failed.is_some())
            || self.after_publish.is_some()
            || !self.public_blocked.is_empty()
        {
            exit::FAILURE
        } else if fail_on_audit_errors && self.has_audit_errors() {
            exit::AUDIT_ERRORS
        } else if fail_on_audit_errors && self.warnings > self.warnings_explained {
            exit::WARNINGS
        } else {
            exit::OK
        }
    }
}
