//! The query engine's memory: each session (the audit's, the models') gets a pool of
//! `query_bytes` (`config/memory.toml`). Operators that can spill (sorts, aggregations) share it
//! fairly and, past their share, write what they hold to files in the run's staging folder and
//! go on; an operator that cannot (a hash join's build side) may use what the others leave, and
//! past it its query fails with DataFusion's "Resources exhausted", which the run reports against
//! the model (or rule) and [`explain`] turns into the setting to raise. So the engine's memory
//! is bounded by configuration, not by the size of the country's month.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

/// What a session may hold, and where its operators spill.
#[derive(Debug, Clone)]
pub struct QueryMemory {
    /// The pool's size in bytes (`query_bytes` of `config/memory.toml`).
    pub bytes: usize,
    /// Where spill files go: a folder of the run's staging, removed with it.
    pub spill_dir: PathBuf,
}

impl QueryMemory {
    /// A pool of `bytes` for each session, spilling under `spill_dir`.
    pub fn new(bytes: usize, spill_dir: &Path) -> QueryMemory {
        QueryMemory { bytes, spill_dir: spill_dir.to_path_buf() }
    }

    /// The runtime of a session: a fair spilling pool of `bytes` that records its peak, and a
    /// disk manager writing under `spill_dir` (created with the session; DataFusion makes a
    /// folder of its own inside for each, and a spill file only when an operator spills).
    pub fn runtime(&self) -> Result<Arc<RuntimeEnv>> {
        let pool = Peak { inner: FairSpillPool::new(self.bytes), peak: AtomicUsize::new(0) };
        let disk = DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![self.spill_dir.clone()]));
        std::fs::create_dir_all(&self.spill_dir)?;
        Ok(RuntimeEnvBuilder::new().with_memory_pool(Arc::new(pool)).with_disk_manager_builder(disk).build_arc()?)
    }
}

/// The most a session's pool held at once (None: a session without our pool).
pub fn peak(runtime: &RuntimeEnv) -> Option<usize> {
    runtime.memory_pool.downcast_ref::<Peak>().map(|p| p.peak.load(Ordering::Relaxed))
}

/// What to do when a query ran out of its pool.
pub const ADVICE: &str = "查询引擎内存池已用尽：请调高 config/memory.toml 中的 query_bytes。The query engine's \
                          memory pool is exhausted: raise query_bytes in config/memory.toml.";

/// Whether an error's message says the query engine ran out of its pool (DataFusion's
/// "Resources exhausted"), read from the message, which survives the wrapping a failure gets on
/// its way up (a stream's error inside an Arrow error, an anyhow context), and not already
/// advised.
pub fn exhausted(message: &str) -> bool {
    message.contains("Resources exhausted") && !message.contains(ADVICE)
}

/// A query's error message, with [`ADVICE`] when the engine ran out of its pool: for the
/// failures a run reports as messages (a rule, a model, a model's test); an error that stops a
/// stage gets it from [`crate::stage::StageResult::at`].
pub fn explain(message: String) -> String {
    if exhausted(&message) { format!("{message}（{ADVICE}）") } else { message }
}

/// A pool that records the most it held at once (logged, and what `query_bytes` is sized from).
#[derive(Debug)]
struct Peak {
    inner: FairSpillPool,
    peak: AtomicUsize,
}

impl Peak {
    fn note(&self) {
        self.peak.fetch_max(self.inner.reserved(), Ordering::Relaxed);
    }
}

impl std::fmt::Display for Peak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (peak {} bytes)", self.inner, self.peak.load(Ordering::Relaxed))
    }
}

impl MemoryPool for Peak {
    fn name(&self) -> &str {
        "fair (peak recorded)"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer)
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer)
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.note();
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink)
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> datafusion::error::Result<()> {
        self.inner.try_grow(reservation, additional)?;
        self.note();
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}
