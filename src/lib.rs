//! gongbao: the monthly industrial statistics pipeline of Jining.
//!
//! plan → read → audit → store → models → disclosure → bulletin → feedback → publish, one module
//! per stage under `stage/`, strung together by `run`; see docs/ARCHITECTURE.md.

pub mod audit;
pub mod bulletin;
pub mod completeness;
pub mod disclosure;
pub mod faults;
pub mod feedback;
pub mod findings;
pub mod forms;
pub mod incremental;
pub mod ingest;
pub mod job;
pub mod ledger;
pub mod lock;
pub mod models;
pub mod period;
pub mod project;
pub mod publish;
pub mod reference;
pub mod run;
pub mod sample;
pub mod schedule;
pub mod stage;
pub mod store;
pub mod summary;
pub mod util;
