//! The integration tests, one module per subject, in one test binary: one link instead of one
//! per file (each links DataFusion and typst), and the tests of every file run in parallel.
//! Tests that need a whole run in a child process re-run this binary for one test by its full
//! name (`crash::paused_run_child`).

#[allow(dead_code)]
mod hostile_support;
#[allow(dead_code)]
mod ingest_support;

mod audit_revise;
mod audit_rules;
mod bulletin_pdf;
mod crash;
mod disclosure;
mod faults;
mod fuzz_regressions;
mod hostile;
mod ingest_corpus;
mod ingest_layouts;
mod ingest_messy;
mod ingest_props;
mod ingest_run;
mod models;
mod nights;
mod peek;
mod peek_run;
mod pipeline;
mod reproducible;
mod sample_run;
mod scheduler;
