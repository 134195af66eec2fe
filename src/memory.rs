//! The process's memory allocator: glibc's malloc, with fewer arenas than its default.
//!
//! glibc gives each thread that finds the arenas busy an arena of its own, up to eight per core,
//! and memory freed stays in the arena it came from until that arena is used again. Every stage
//! of a run works on all cores (rayon reading workbooks and protecting tables, DataFusion's
//! query threads), so what one stage frees sits in arenas the next stage's threads do not reuse.
//! At national scale the run's peak resident memory was 4.5 GiB with glibc's default and 3.1 GiB
//! with one arena per core, no slower; one arena in all was 40 % slower (BENCHMARKS.md, "The
//! allocator's arenas").

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

/// Returns the memory malloc holds free to the system, between stages: what the models' queries
/// freed (national: ~1.2 GiB) would otherwise stay resident through disclosure control and the
/// bulletin, which allocate in other arenas.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only gives back pages malloc holds free.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
