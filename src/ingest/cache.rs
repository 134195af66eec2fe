//! The parsed-workbook cache: a workbook read once is not opened again.
//!
//! A rebuilt period needs every one of its workbooks, not only the new ones, and a change to the
//! SQL or the templates rebuilds every period. Opening a workbook (unzip, XML, header detection,
//! typed conversion of every cell) costs far more than loading what it gave, so each read is
//! kept under `<out>/cache/parsed/`. An entry is keyed by the workbook's SHA-256, its file name
//! (the county and period may come from it) and a hash of everything reading depends on (the form
//! definitions, the region list, gongbao's version and a hash of its source): a change to any of
//! them reads again.
//!
//! It is only a cache: a missing, stale or damaged entry (checked by its own SHA-256) is read
//! from the workbook again, never trusted.
//!
//! Within one run, the plan reads the new workbooks whole (to learn their periods) and the read
//! stage needs them again: the plan's reads are also *held* in memory for it, up to a budget of
//! rows in all (`held_read_rows` of `config/memory.toml`, [`crate::memory::Budgets`]: a
//! province's inbox; the country's rest are loaded from disk, so memory stays bounded), which
//! spares reading and decoding them again (1.4 % of a province run's CPU samples).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use bincode::Options;

use super::IngestedFile;
use crate::incremental::InboxFile;

const MAGIC: &[u8] = b"gongbao-parsed-1\n";
/// An entry larger than this is not loaded (the largest accepted workbook gives far less).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

pub struct ParsedCache {
    dir: PathBuf,
    /// Hash of what reading a workbook depends on besides its bytes and name.
    key: String,
    /// Reads held for the read stage (by entry path), and their rows.
    held: Mutex<(HashMap<PathBuf, IngestedFile>, usize)>,
    /// The most rows (records, totals and skipped rows) the reads held may have in all.
    hold_rows: usize,
}

/// Whether a read may be kept (stored or held) for later: not a file that could not be read at
/// all, nor one replaced while it was read (read again next time, whatever it then holds).
fn keepable(read: &IngestedFile) -> bool {
    !read.sha256.is_empty() && read.refusal.as_deref() != Some(super::message::REPLACED)
}

/// The rows a read holds (what its memory grows with).
fn rows(read: &IngestedFile) -> usize {
    read.sheets.iter().map(|s| s.read.records.len() + s.read.totals.len() + s.read.skipped.len()).sum()
}

fn codec() -> impl Options {
    bincode::options().with_limit(MAX_ENTRY_BYTES)
}

impl ParsedCache {
    /// The cache of the output folder `out`, for workbooks read through the form definitions in
    /// `forms_dir` with the region list whose SHA-256 is `regions_sha256`, holding reads of at most
    /// `hold_rows` rows in memory ([`ParsedCache::hold`]).
    pub fn new(out: &Path, forms_dir: &Path, regions_sha256: &str, hold_rows: usize) -> Self {
        let mut parts = vec![
            format!("gongbao={}+{}", env!("CARGO_PKG_VERSION"), env!("GONGBAO_CODE_HASH")),
            format!("regions={regions_sha256}"),
        ];
        let mut paths: Vec<PathBuf> = std::fs::read_dir(forms_dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap_or_default();
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            parts.push(format!("forms/{name}={}", crate::util::sha256_hex(&bytes)));
        }
        ParsedCache {
            dir: out.join("cache").join("parsed"),
            key: crate::util::sha256_hex(parts.join("\n").as_bytes()),
            held: Mutex::default(),
            hold_rows,
        }
    }

    /// Hash of what reading a workbook depends on besides its bytes and name.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn entry(&self, sha256: &str, name: &str) -> PathBuf {
        let id = crate::util::sha256_hex(format!("{}\n{sha256}\n{name}", self.key).as_bytes());
        self.dir.join(format!("{}.bin", &id[..32]))
    }

    /// The workbook as it was read before, at its current path and modification time.
    pub fn load(&self, f: &InboxFile) -> Option<IngestedFile> {
        let path = self.entry(&f.sha256, &f.name);
        let held = {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            let read = held.0.remove(&path);
            held.1 -= read.as_ref().map_or(0, rows);
            read
        };
        if let Some(mut read) = held.filter(|r| r.sha256 == f.sha256 && r.file == f.name) {
            read.path = f.path.clone();
            read.modified = Some(f.modified);
            return Some(read);
        }
        let bytes = std::fs::read(&path).ok()?;
        let decoded = (|| {
            let rest = bytes.strip_prefix(MAGIC)?;
            let (sum, payload) = rest.split_at_checked(65)?;
            (sum[..64] == *crate::util::sha256_hex(payload).as_bytes() && sum[64] == b'\n').then_some(())?;
            codec().deserialize::<IngestedFile>(payload).ok()
        })();
        match decoded {
            Some(mut read) if read.sha256 == f.sha256 && read.file == f.name => {
                read.path = f.path.clone();
                read.modified = Some(f.modified);
                Some(read)
            }
            _ => {
                tracing::warn!(file = %f.name, cache = %path.display(), "damaged cache entry; the workbook is read again");
                None
            }
        }
    }

    /// Keeps a read for later runs. A file that could not be read at all is not kept.
    pub fn store(&self, read: &IngestedFile) -> Result<()> {
        if !keepable(read) {
            return Ok(());
        }
        let payload = codec().serialize(read).context("cannot encode a parsed workbook")?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + 65 + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(crate::util::sha256_hex(&payload).as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(&payload);
        // Not flushed: `load` checks the checksum, and an entry lost is a workbook read again.
        crate::store::write_bytes_unflushed(&self.entry(&read.sha256, &read.file), &bytes)
    }

    /// Holds a read (one [`ParsedCache::store`] kept) in memory for this run's next
    /// [`ParsedCache::load`] of it, while the reads held have at most the cache's budget of rows.
    pub fn hold(&self, read: IngestedFile) {
        if !keepable(&read) {
            return;
        }
        let n = rows(&read);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.1 + n <= self.hold_rows {
            let path = self.entry(&read.sha256, &read.file);
            held.1 += n;
            if let Some(old) = held.0.insert(path, read) {
                held.1 -= rows(&old);
            }
        }
    }

    /// Removes the entries of workbooks no longer in the inbox (and of older definitions), so the
    /// cache stays the size of the inbox.
    pub fn prune(&self, inbox: &[InboxFile]) -> Result<usize> {
        let keep: std::collections::BTreeSet<PathBuf> = inbox.iter().map(|f| self.entry(&f.sha256, &f.name)).collect();
        let mut removed = 0;
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Ok(0) };
        for e in entries.flatten() {
            let p = e.path();
            if !keep.contains(&p) {
                std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Forms;

    /// A budget that holds every read of the sample.
    const HOLD: usize = 1 << 20;

    fn project() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The project's folder, its forms, the sample's reference data and returns (sorted).
    fn sample() -> (PathBuf, Forms, crate::reference::Reference, Vec<PathBuf>) {
        let root = project();
        let forms = Forms::load(&root.join("forms")).unwrap();
        let reference = crate::reference::Reference::load(&root.join("sample_data/reference")).unwrap();
        let mut paths = crate::ingest::list_inbox(&root.join("sample_data/returns")).unwrap();
        paths.sort();
        (root, forms, reference, paths)
    }

    fn inbox_file(path: &Path) -> InboxFile {
        crate::incremental::scan(&[path.to_path_buf()]).remove(0)
    }

    #[test]
    fn a_cached_read_equals_a_fresh_one_and_damage_is_detected() {
        let (root, forms, reference, paths) = sample();
        let path = paths.iter().find(|p| p.to_string_lossy().contains("2025年1-9月")).unwrap_or(&paths[0]);
        let f = inbox_file(path);
        let fresh = crate::ingest::ingest_file(path, &forms, &reference.regions);
        assert!(fresh.sheets.iter().map(|s| s.read.records.len()).sum::<usize>() > 10);

        let out = tempfile::tempdir().unwrap();
        let cache = ParsedCache::new(out.path(), &root.join("forms"), &reference.hashes["regions"], HOLD);
        assert!(cache.load(&f).is_none(), "empty cache");
        cache.store(&fresh).unwrap();
        let cached = cache.load(&f).expect("a stored entry loads");
        // Everything the run uses is identical, down to the exact decimals and their scale.
        assert_eq!(format!("{:?}", cached.sheets), format!("{:?}", fresh.sheets));
        assert_eq!(cached.findings, fresh.findings);
        assert_eq!(
            (cached.refusal.clone(), cached.bytes, cached.sha256.clone()),
            (fresh.refusal.clone(), fresh.bytes, fresh.sha256.clone())
        );

        // Another name for the same bytes, or other form definitions: not the same entry.
        let renamed = InboxFile { name: "other.xlsx".into(), ..f.clone() };
        assert!(cache.load(&renamed).is_none());
        let other_forms = tempfile::tempdir().unwrap();
        assert!(
            ParsedCache::new(out.path(), other_forms.path(), &reference.hashes["regions"], HOLD).load(&f).is_none()
        );

        // A flipped byte in the payload is caught by the entry's checksum.
        let entry = cache.entry(&f.sha256, &f.name);
        let mut bytes = std::fs::read(&entry).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x01;
        std::fs::write(&entry, &bytes).unwrap();
        assert!(cache.load(&f).is_none());

        // Pruning keeps only the entries of the inbox given.
        cache.store(&fresh).unwrap();
        assert_eq!(cache.prune(std::slice::from_ref(&f)).unwrap(), 0);
        assert_eq!(cache.prune(&[]).unwrap(), 1);
        assert!(cache.load(&f).is_none());
    }

    #[test]
    fn a_held_read_is_handed_over_once_and_within_its_budget() {
        let (root, forms, reference, paths) = sample();
        let out = tempfile::tempdir().unwrap();
        let cache = ParsedCache::new(out.path(), &root.join("forms"), &reference.hashes["regions"], HOLD);
        let reads: Vec<(InboxFile, IngestedFile)> = paths
            .iter()
            .take(4)
            .map(|p| (inbox_file(p), crate::ingest::ingest_file(p, &forms, &reference.regions)))
            .filter(|(_, r)| rows(r) > 0)
            .collect();
        assert!(reads.len() >= 2);
        for (_, r) in &reads {
            cache.hold(r.clone());
        }
        // Nothing was stored on disk: what loads is the read held, once, equal to the fresh one.
        let (f, fresh) = &reads[0];
        let held = cache.load(f).expect("a held read loads");
        assert_eq!(format!("{:?}", held.sheets), format!("{:?}", fresh.sheets));
        assert_eq!((held.findings.clone(), held.sha256.clone()), (fresh.findings.clone(), fresh.sha256.clone()));
        assert!(cache.load(f).is_none(), "handed over once, and nothing on disk");
        // Another name for the same bytes is another entry.
        let renamed = InboxFile { name: "other.xlsx".into(), ..reads[1].0.clone() };
        assert!(cache.load(&renamed).is_none());
        let total: usize = reads[1..].iter().map(|(_, r)| rows(r)).sum();
        assert_eq!(cache.held.lock().unwrap().1, total, "the rows held are counted");

        // Past the budget, reads are not held (the read stage loads them from disk): a budget of
        // one read's rows holds it, not a read of one sheet more; a budget of 0 holds nothing.
        let small = ParsedCache::new(out.path(), &root.join("forms"), &reference.hashes["regions"], rows(fresh));
        let sheet = fresh.sheets.iter().find(|s| !s.read.records.is_empty()).expect("a sheet with rows");
        let filler = IngestedFile { sheets: [fresh.sheets.clone(), vec![sheet.clone()]].concat(), ..fresh.clone() };
        assert!(rows(&filler) > rows(fresh));
        small.hold(filler);
        assert!(small.load(f).is_none(), "a read over the budget is not held");
        small.hold(fresh.clone());
        assert!(small.load(f).is_some());
        let none = ParsedCache::new(out.path(), &root.join("forms"), &reference.hashes["regions"], 0);
        none.hold(fresh.clone());
        assert!(none.load(f).is_none(), "a budget of 0 holds nothing");
    }
}
