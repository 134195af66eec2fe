//! The process's memory allocator: glibc's malloc, with fewer arenas than its default.
//!
//! glibc gives each thread that finds the arenas busy an arena of its own, up to eight per core,
//! and memory freed stays in the arena it came from until that arena is used again. Every stage
//! of a run works on all cores (rayon reading workbooks and protecting tables, DataFusion's
//! query threads), so what one stage frees sits in arenas the next stage's threads do not reuse.
//! At national scale the run's peak resident memory was 4.5 GiB with glibc's default and 3.1 GiB
//! with one arena per core, no slower; one arena in all was 40 % slower (BENCHMARKS.md, "The
//! allocator's arenas").
//!
//! And what a run may keep in memory instead of on disk ([`Budgets`], `config/memory.toml`).

/// Limits glibc's malloc to one arena per core (at least two), unless the operator set
/// `MALLOC_ARENA_MAX`, which glibc has read already. Call it first thing in `main`, before any
/// thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets one of malloc's parameters; no memory is touched.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns the memory malloc holds free to the system, between stages, once the process is
/// large: what the models' queries freed (national: ~1.2 GiB) would otherwise stay resident
/// through disclosure control and the bulletin, which allocate in other arenas. A smaller process
/// keeps it for the stages after: pages given back are zeroed by the kernel again when they are
/// used, which was 8 % of a province run's CPU (BENCHMARKS.md, "Header spellings found at once").
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if worth_trimming(resident_bytes()) {
        // SAFETY: malloc_trim only gives back pages malloc holds free.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// The resident size below which [`release_freed`] gives nothing back. Measured at its calls: a
/// province month is resident at 170–220 MB, the country's at 1.0–1.9 GB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_FROM_RESIDENT_BYTES: u64 = 512 << 20;

/// Whether memory held free is given back at a process's resident size (unknown: it is).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn worth_trimming(resident: Option<u64>) -> bool {
    resident.is_none_or(|r| r >= TRIM_FROM_RESIDENT_BYTES)
}

/// The process's resident memory (`/proc/self/statm`), where the system says.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system setting.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    pages.checked_mul(page)
}

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

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn memory_held_free_is_given_back_only_by_a_large_process() {
        assert!(!worth_trimming(Some(200 << 20)), "a province month keeps it");
        assert!(worth_trimming(Some(1 << 30)), "the country gives it back");
        assert!(worth_trimming(Some(TRIM_FROM_RESIDENT_BYTES)));
        assert!(worth_trimming(None), "unknown: given back");
        // 64 MiB written are resident.
        let big = std::hint::black_box(vec![1u8; 64 << 20]);
        let resident = resident_bytes().expect("Linux tells the resident size");
        assert!((64 << 20..1 << 40).contains(&resident), "{resident}");
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
