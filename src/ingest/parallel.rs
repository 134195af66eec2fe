//! Reading many workbooks at once: in parallel across files, each through the parsed-workbook
//! cache, with a progress bar on a terminal.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::IngestedFile;
use super::cache::ParsedCache;
use crate::forms::Forms;
use crate::incremental::InboxFile;
use crate::reference::Region;

/// Whether workbooks opened now are kept in the parsed-workbook cache (a dry run keeps nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheWrites {
    Keep,
    Discard,
}

/// Reads `files` in parallel and hands each read to `keep` (which decides what of it stays in
/// memory). A workbook read by an earlier run (same bytes, name, form definitions and code) comes
/// from the parsed-workbook cache; the others are opened and, with [`CacheWrites::Keep`], their
/// reads kept there. Returns what `keep` kept, in the order of `files`, and how many were opened.
pub fn read_each<T: Send>(
    files: &[&InboxFile],
    forms: &Forms,
    regions: &[Region],
    cache: &ParsedCache,
    writes: CacheWrites,
    keep: impl Fn(&InboxFile, IngestedFile) -> T + Sync,
) -> (Vec<T>, usize) {
    let bar = crate::util::progress(files.len(), "reading");
    let opened = AtomicUsize::new(0);
    let kept = files
        .par_iter()
        .map(|f| {
            let read = cache.load(f).unwrap_or_else(|| {
                opened.fetch_add(1, Ordering::Relaxed);
                let read = super::sender::read(f, forms, regions);
                if writes == CacheWrites::Keep
                    && let Err(e) = cache.store(&read)
                {
                    tracing::warn!(file = %f.name, "the parsed workbook could not be cached: {e:#}");
                }
                read
            });
            bar.inc(1);
            keep(f, read)
        })
        .collect();
    bar.finish_and_clear();
    (kept, opened.into_inner())
}

/// The heads of `files`' sheets, read in parallel ([`super::sender::peek`]), each handed to
/// `keep`; nothing is cached (a head is no reading to build from). In the order of `files`.
pub fn peek_each<T: Send>(
    files: &[&InboxFile],
    forms: &Forms,
    regions: &[Region],
    keep: impl Fn(&InboxFile, IngestedFile) -> T + Sync,
) -> Vec<T> {
    let bar = crate::util::progress(files.len(), "peeking");
    let kept = files
        .par_iter()
        .map(|f| {
            let read = super::sender::peek(f, forms, regions);
            bar.inc(1);
            keep(f, read)
        })
        .collect();
    bar.finish_and_clear();
    kept
}
