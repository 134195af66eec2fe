//! Faults that tests inject into a run: a write that fails as a full disk would, and the reading
//! of one workbook that panics (a stand-in for a defect in gongbao or a library).
//!
//! Only code that links the library can set them, through [`inject`]: a test re-runs its own
//! binary as the child process, injects, and calls the run. Nothing in the environment, the
//! configuration or the command line reaches this, so the production binary never fails on
//! purpose.

use std::path::Path;
use std::sync::RwLock;

use anyhow::Result;

/// The faults of this process (none unless a test injected them).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every atomic write of a file whose path contains this text fails with ENOSPC.
    pub fail_writes_containing: Option<String>,
    /// Reading the workbook with exactly this file name panics.
    pub panic_reading: Option<String>,
}

static FAULTS: RwLock<Option<Faults>> = RwLock::new(None);

/// Sets the faults of this process, for tests.
#[doc(hidden)]
pub fn inject(faults: Faults) {
    *FAULTS.write().unwrap_or_else(|e| e.into_inner()) = Some(faults);
}

fn with<T>(f: impl FnOnce(&Faults) -> Option<T>) -> Option<T> {
    FAULTS.read().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(f)
}

/// Fails like a full disk if a test asked writes of `path` to fail.
#[cfg_attr(not(feature = "pipeline"), allow(dead_code))] // the writers are the pipeline's
pub(crate) fn before_write(path: &Path) -> Result<()> {
    let hit = with(|f| {
        f.fail_writes_containing
            .as_ref()
            .filter(|needle| !needle.is_empty() && path.to_string_lossy().contains(needle.as_str()))
            .map(|_| ())
    });
    if hit.is_some() {
        let e = std::io::Error::from_raw_os_error(28); // ENOSPC
        return Err(anyhow::Error::new(e).context(format!("cannot write {} (injected fault)", path.display())));
    }
    Ok(())
}

/// Panics if a test asked the reading of `path` to panic.
pub(crate) fn before_reading(path: &Path) {
    let hit = with(|f| {
        f.panic_reading.as_ref().filter(|n| Some(std::ffi::OsStr::new(n.as_str())) == path.file_name()).map(|_| ())
    });
    if hit.is_some() {
        panic!("injected fault: a panic while reading {}", path.display());
    }
}
