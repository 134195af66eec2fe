//! One run at a time: an advisory lock on `<out>/.gongbao.lock`.
//!
//! The lock is the operating system's (`flock`), held by the open file: when the process ends in
//! any way, a crash or SIGKILL included, the system releases it, so a dead run never leaves the
//! output folder locked. The file also records who holds it (pid and start time) for the message
//! shown to a second run.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    pub path: PathBuf,
}

pub fn lock_path(out: &Path) -> PathBuf {
    out.join(".gongbao.lock")
}

/// Takes the lock of `out`, or fails at once naming the run that holds it.
pub fn acquire(out: &Path) -> Result<RunLock> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let path = lock_path(out);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            file.read_to_string(&mut holder).ok();
            bail!(
                "another gongbao run is using {} ({}); try again when it has finished",
                out.display(),
                holder.trim().replace('\n', ", ")
            );
        }
        Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
    }
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "pid {}\nstarted {}", std::process::id(), chrono::Utc::now().to_rfc3339())?;
    file.flush()?;
    Ok(RunLock { file, path })
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.file.set_len(0).ok();
        self.file.unlock().ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap();
        let err = format!("{:#}", acquire(dir.path()).unwrap_err());
        assert!(err.contains("another gongbao run") && err.contains(&format!("pid {}", std::process::id())), "{err}");
        drop(first);
        let again = acquire(dir.path()).unwrap();
        drop(again);
    }
}
