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
    /// A query engine out of its memory (a session's query that stopped the stage) says also
    /// what to raise ([`crate::models::pool::ADVICE`]).
    fn at(self, stage: Stage, period: &str) -> anyhow::Result<T> {
        anyhow::Context::with_context(self, || stage.context(period)).map_err(|e| {
            if crate::models::pool::exhausted(&format!("{e:#}")) { e.context(crate::models::pool::ADVICE) } else { e }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_stopped_by_a_query_out_of_memory_says_what_to_raise() {
        let exhausted: anyhow::Result<()> = Err(anyhow::anyhow!(
            "Resources exhausted: Failed to allocate additional 10.0 MB for ExternalSorterMerge[0]"
        ));
        let message = format!("{:#}", exhausted.at(Stage::Models, "2025-09").unwrap_err());
        assert!(message.contains("stage models (2025-09)") && message.contains("Resources exhausted"), "{message}");
        assert!(message.contains("config/memory.toml") && message.contains("查询引擎内存池已用尽"), "{message}");
        assert_eq!(message.matches("query_bytes").count(), 2, "advised once: {message}");
        // Advised already (a rule's message), or another failure: left as it is.
        let advised: anyhow::Result<()> =
            Err(anyhow::anyhow!("{}", crate::models::pool::explain("Resources exhausted: x".into())));
        let message = format!("{:#}", advised.at(Stage::Audit, "2025-09").unwrap_err());
        assert_eq!(message.matches("query_bytes").count(), 2, "{message}");
        let other: anyhow::Result<()> = Err(anyhow::anyhow!("cannot open x.parquet"));
        let message = format!("{:#}", other.at(Stage::Store, "2025-09").unwrap_err());
        assert_eq!(message, "stage store (2025-09): cannot open x.parquet");
    }
}
