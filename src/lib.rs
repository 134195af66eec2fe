//! gongbao: the monthly industrial statistics pipeline of Jining.
//!
//! ingest → audit → store → models → bulletin; see docs/ARCHITECTURE.md.

pub mod audit;
pub mod bulletin;
pub mod completeness;
pub mod disclosure;
pub mod feedback;
pub mod findings;
pub mod forms;
pub mod incremental;
pub mod ingest;
pub mod ledger;
pub mod lock;
pub mod models;
pub mod period;
pub mod publish;
pub mod reference;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod store;
pub mod util;
