//! The process's memory allocator, and what a run may keep in memory instead of on disk
//! ([`Budgets`], `config/memory.toml`).
//!
//! **The allocator.** With the pipeline on Linux, every program of this crate (the `gongbao`
//! command, its tests and benchmarks) allocates with jemalloc, an arena per CPU. Each stage of a
//! run works on all cores, with more threads than cores (rayon's reading workbooks and protecting
//! tables, DataFusion's, the county partitions' writer). glibc's malloc gives each thread that
//! finds the arenas busy an arena of its own, up to eight per core, and memory freed stays in the
//! arena that held it: the national peak was 4.5 GiB so. The run then limited glibc to an arena per
//! core, whose locks its threads waited on, and trimmed the heap between stages: malloc and free
//! were 12 % of a province run's samples. jemalloc's arena per CPU serves whichever thread runs
//! there, its thread caches take most allocations without a lock (5 % of the samples), and pages
//! left free for a second go back to the system of themselves (`dirty_decay_ms`; its default is ten
//! seconds), with no trim between stages. BENCHMARKS.md, "jemalloc".
//!
//! The fuzz targets build without the pipeline and keep the system's malloc, which their
//! sanitizers and libFuzzer's memory limits watch. An operator overrides the settings below with
//! `_RJEM_MALLOC_CONF` in the service's environment (jemalloc's `MALLOC_CONF`, as the crate
//! prefixes jemalloc's names).

#[cfg(all(target_os = "linux", feature = "pipeline"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts (its `malloc_conf`): an arena per CPU, and pages left
/// free for a second given back to the system.
#[cfg(all(target_os = "linux", feature = "pipeline"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_CONF: &[u8; 40] = b"percpu_arena:percpu,dirty_decay_ms:1000\0";

/// What a run may hold in memory, from `config/memory.toml` (a key left out takes its default).
/// The two budgets of rows held change no output, only where rows wait between stages: within
/// them a province's month never touches the disk between reading and the warehouse; past them
/// (the country) rows wait on disk, so memory stays bounded by the largest workbook. An operator
/// on a small machine lowers them; 0 keeps nothing in memory. The query engine's pool can change
/// an output (a query past it fails), so it is part of the definitions' hash (`Project::load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budgets {
    /// Rows (records, totals and skipped rows) of the workbooks the plan read, held for the read
    /// stage ([`crate::ingest::cache::ParsedCache::hold`]); past it, the read stage loads them
    /// from the parsed-workbook cache on disk.
    pub held_read_rows: usize,
    /// Bytes of Arrow arrays of one period's sheets held for the audit and the warehouse
    /// ([`crate::store::staged::Staging`]); past it, sheets are staged in spill files.
    pub held_sheet_bytes: usize,
    /// Bytes the query engine's operators may hold at once, in each of a period's sessions (the
    /// audit's rules, the models): past it sorts and aggregations spill to disk, and a query
    /// that cannot (a join's build side) fails, named, with this setting to raise
    /// (`crate::models::pool`).
    pub query_bytes: usize,
}

impl Default for Budgets {
    /// A province's month within the first two (~40,000 enterprises: ~44,000 rows read, 23 MB of
    /// arrays); the query engine's pools held at most 229 MB at once on the country's month.
    fn default() -> Self {
        Budgets { held_read_rows: 60_000, held_sheet_bytes: 64 << 20, query_bytes: 1 << 30 }
    }
}

impl Budgets {
    /// Reads `path` (`config/memory.toml`); the defaults when the file does not exist.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Budgets> {
        let budgets: Budgets = crate::util::load_toml_or_default(path)?;
        // 0 rows held is a choice; a query engine with no memory at all runs nothing.
        anyhow::ensure!(
            budgets.query_bytes > 0,
            "{}: query_bytes must be positive (each sort alone reserves 10 MB)",
            path.display()
        );
        Ok(budgets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", feature = "pipeline"))]
    #[test]
    fn the_pipeline_allocates_with_jemalloc_an_arena_per_cpu() {
        use tikv_jemalloc_ctl::raw;
        // The settings took (a misspelt symbol or option is ignored by jemalloc without a word).
        // SAFETY: each name is a jemalloc option of the type read.
        let (percpu, decay) = unsafe {
            (raw::read_str(b"opt.percpu_arena\0").unwrap(), raw::read::<isize>(b"opt.dirty_decay_ms\0").unwrap())
        };
        assert_eq!((percpu, decay), (&b"percpu\0"[..], 1000));
        // And Rust's allocations go to it: this thread's count of bytes allocated grows by 64 MiB.
        // SAFETY: `thread.allocated` is a u64 counter of the calling thread.
        let allocated = || unsafe { raw::read::<u64>(b"thread.allocated\0").unwrap() };
        let before = allocated();
        let big = std::hint::black_box(vec![1u8; 64 << 20]);
        assert!(allocated() - before >= 64 << 20, "{} bytes counted", allocated() - before);
        drop(big);
    }

    #[test]
    fn the_shipped_configuration_documents_the_defaults_and_keys_are_checked() {
        let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(Budgets::load(&project.join("config/memory.toml")).unwrap(), Budgets::default());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("memory.toml");
        assert_eq!(Budgets::load(&p).unwrap(), Budgets::default(), "no file: the defaults");
        std::fs::write(&p, "held_sheet_bytes = 0\n").unwrap();
        assert_eq!(Budgets::load(&p).unwrap(), Budgets { held_sheet_bytes: 0, ..Budgets::default() });
        std::fs::write(&p, "held_sheet_byte = 0\n").unwrap();
        let err = Budgets::load(&p).unwrap_err().to_string();
        assert!(err.contains("memory.toml") && err.contains("held_sheet_byte"), "{err}");
        std::fs::write(&p, "held_read_rows = -1\n").unwrap();
        assert!(Budgets::load(&p).is_err(), "a negative budget is refused");
        std::fs::write(&p, "query_bytes = 0\n").unwrap();
        let err = Budgets::load(&p).unwrap_err().to_string();
        assert!(err.contains("memory.toml") && err.contains("query_bytes"), "{err}");
    }
}
