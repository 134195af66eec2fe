//! The stages of a run, in order, each a function with a typed input and output:
//!
//! ```text
//! plan ─▶ for each period: read ─▶ audit ─▶ store ─▶ models ─▶ disclosure ─▶ bulletin ─▶ feedback ─▶ publish
//! ```
//!
//! [`crate::run`] strings them together; docs/ARCHITECTURE.md draws them with their hand-offs.
//! An error of a stage carries the stage's name and the period ([`Stage::context`]).

pub mod audit;
pub mod bulletin;
pub mod disclosure;
pub mod feedback;
pub mod models;
pub mod plan;
pub mod publish;
pub mod read;
pub mod store;

/// A stage's name, for its errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Plan,
    Read,
    Audit,
    Store,
    Models,
    Disclosure,
    Bulletin,
    Feedback,
    Publish,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Plan => "plan",
            Stage::Read => "read",
            Stage::Audit => "audit",
            Stage::Store => "store",
            Stage::Models => "models",
            Stage::Disclosure => "disclosure",
            Stage::Bulletin => "bulletin",
            Stage::Feedback => "feedback",
            Stage::Publish => "publish",
        }
    }

    /// `stage audit (2025-09)`: what an error of this stage is prefixed with.
    pub fn context(self, period: &str) -> String {
        if period.is_empty() { format!("stage {}", self.name()) } else { format!("stage {} ({period})", self.name()) }
    }
}

/// Names the stage (and period) an error comes from.
pub trait StageResult<T> {
    fn at(self, stage: Stage, period: &str) -> anyhow::Result<T>;
}

impl<T, E> StageResult<T> for Result<T, E>
where
    Result<T, E>: anyhow::Context<T, E>,
{
    fn at(self, stage: Stage, period: &str) -> anyhow::Result<T> {
        anyhow::Context::with_context(self, || stage.context(period))
    }
}
