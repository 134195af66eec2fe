//! Small helpers shared by the stages.

use sha2::{Digest, Sha256};

/// Reads a TOML configuration file; `T::default()` when the file does not exist.
pub fn load_toml_or_default<T: serde::de::DeserializeOwned + Default>(path: &std::path::Path) -> anyhow::Result<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Excel column letters for a 0-based column index (0 -> A, 26 -> AA).
pub fn col_letter(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// `H17` for 0-based (row, col).
pub fn cell_ref(row: u32, col: u32) -> String {
    format!("{}{}", col_letter(col), row + 1)
}

/// A progress bar on a terminal; hidden when stderr is not one (logs, cron, tests).
pub fn progress(len: usize, what: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(len as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what);
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// `f` of every item, on rayon's threads, the costliest items (by `cost`) started first and each
/// thread taking the next item as soon as it is free; the results in the items' order. A few
/// tasks of uneven cost (a table's variables) split in halves up front, as a parallel iterator
/// does, left one core idle for a quarter of a national run's release passes.
pub fn par_costliest_first<T: Send, R: Send>(
    items: Vec<T>,
    cost: impl Fn(&T) -> usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(cost(&items[*i])));
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = slots.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = rayon::current_num_threads().min(slots.len());
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let item = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take().expect("each item taken once");
                    let r = f(item);
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    results.into_iter().map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every item done")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(701), "ZZ");
        assert_eq!(col_letter(702), "AAA");
        assert_eq!(cell_ref(16, 7), "H17");
    }

    /// Every item is done once, whatever its cost, and the results come in the items' order.
    #[test]
    fn costliest_first_keeps_the_items_order() {
        let items: Vec<usize> = (0..50).map(|i| (i * 37) % 11).collect();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let out = par_costliest_first(
            items.clone(),
            |c| *c,
            |c| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                c * 2
            },
        );
        assert_eq!(out, items.iter().map(|c| c * 2).collect::<Vec<_>>());
        assert_eq!(calls.into_inner(), 50);
        assert!(par_costliest_first(Vec::<u8>::new(), |_| 0, |x| x).is_empty());
    }
}
