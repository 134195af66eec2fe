//! gongbao: the monthly industrial statistics pipeline of Jining.
//!
//! plan → read → audit → store → models → disclosure → bulletin → feedback → publish, one module
//! per stage under `stage/`, strung together by `run`; see docs/ARCHITECTURE.md.
//!
//! Without the default feature `pipeline`, only ingest and what it reads (forms, reference data)
//! are built: the fuzz targets' library (fuzz/Cargo.toml).

#[cfg(feature = "pipeline")]
pub mod audit;
#[cfg(feature = "pipeline")]
pub mod bulletin;
#[cfg(feature = "pipeline")]
pub mod completeness;
#[cfg(feature = "pipeline")]
pub mod disclosure;
pub mod faults;
#[cfg(feature = "pipeline")]
pub mod feedback;
pub mod findings;
pub mod forms;
#[cfg(feature = "pipeline")]
pub mod incremental;
pub mod ingest;
#[cfg(feature = "pipeline")]
pub mod job;
#[cfg(feature = "pipeline")]
pub mod ledger;
#[cfg(feature = "pipeline")]
pub mod lock;
pub mod memory;
#[cfg(feature = "pipeline")]
pub mod models;
pub mod period;
#[cfg(feature = "pipeline")]
pub mod project;
#[cfg(feature = "pipeline")]
pub mod publish;
pub mod reference;
#[cfg(feature = "pipeline")]
pub mod run;
#[cfg(feature = "pipeline")]
pub mod sample;
#[cfg(feature = "pipeline")]
pub mod schedule;
#[cfg(feature = "pipeline")]
pub mod stage;
#[cfg(feature = "pipeline")]
pub mod store;
#[cfg(feature = "pipeline")]
pub mod summary;
pub mod util;
