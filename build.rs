//! Sets `GONGBAO_CODE_HASH`: a hash of gongbao's own source. A rebuilt gongbao may read or compute
//! differently, so the hash is part of every period's fingerprint and of the parsed-workbook
//! cache's key (src/incremental.rs, src/ingest/cache.rs): outputs and cached reads made by other
//! code are never reused. Two builds of the same source get the same hash.

use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed=src");
    let mut paths = Vec::new();
    files(Path::new("src"), &mut paths);
    paths.sort();
    let mut h = DefaultHasher::new();
    for p in &paths {
        h.write(p.to_string_lossy().as_bytes());
        h.write(&std::fs::read(p).unwrap_or_default());
    }
    println!("cargo::rustc-env=GONGBAO_CODE_HASH={:016x}", h.finish());
}
