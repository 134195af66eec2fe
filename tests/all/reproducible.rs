//! Two runs over the same inputs into two folders give byte-identical outputs: every file of the
//! publication (Parquet, Markdown, PDF, SVG, feedback workbooks, the data dictionary), compared
//! byte for byte. Only the files that hold the run's own time and identity differ by design: the
//! manifest (publication id, run id) and the submission history (when each return was first
//! seen); the ledger (`runs/`) lives outside the publication. The number of threads a run works
//! with (`--threads`: workbooks read in parallel, the query engine's partitions) changes nothing
//! either, nor do the memory budgets (`config/memory.toml`: rows kept in memory or waiting on
//! disk between stages).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use gongbao::run::RunOptions;

use crate::sample_run::{copy_dir, sample_run};

/// Files that record when and by which run something happened.
const RUN_RECORDS: &[&str] = &["manifest.json", "state/submissions.jsonl"];

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the published publication: relative path → bytes.
fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(root, &e.path(), files);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().to_string();
                files.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let dir = gongbao::publish::current(out).expect("a publication");
    let mut files = BTreeMap::new();
    walk(&dir, &dir, &mut files);
    files
}

#[test]
fn two_runs_give_byte_identical_outputs() {
    // The first run is the one the test process shares; the second, a fresh one.
    let b = tempfile::tempdir().unwrap();
    gongbao::run::run(&RunOptions::sample(project(), b.path())).expect("the sample run succeeds");
    same_outputs(&sample_run().out, b.path());
}

#[test]
fn one_thread_and_many_give_byte_identical_outputs() {
    // Several periods (the year-to-date models read them all), one thread against more
    // partitions than the machine has cores: every aggregation is split differently.
    let (one, many) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (out, threads) in [(one.path(), 1), (many.path(), 5)] {
        let opts = RunOptions { threads: Some(threads), ..RunOptions::sample(project(), out) };
        let ctl = gongbao::run::RunControl {
            from: Some("2025-08".parse().unwrap()),
            to: Some("2025-09".parse().unwrap()),
            force: true,
            ..Default::default()
        };
        gongbao::run::run_with(&opts, &ctl).expect("the sample run succeeds");
    }
    same_outputs(one.path(), many.path());
}

#[test]
fn rows_kept_in_memory_or_waiting_on_disk_give_byte_identical_outputs() {
    // A project that keeps nothing in memory: every sheet waits in spill files, every workbook
    // the plan read is loaded back from the parsed cache on disk (the country's path, which the
    // defaults spare the sample). Two periods, as above.
    let frugal = tempfile::tempdir().unwrap();
    for dir in ["forms", "rules", "sql", "templates", "config", "fonts"] {
        copy_dir(&project().join(dir), &frugal.path().join(dir));
    }
    std::fs::write(frugal.path().join("config/memory.toml"), "held_read_rows = 0\nheld_sheet_bytes = 0\n").unwrap();
    let (held, spilled) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut spill_files = Vec::new();
    for (out, definitions) in [(held.path(), project()), (spilled.path(), frugal.path())] {
        // Once the first period's returns are read: the spill files of its staging.
        let found = Arc::new(Mutex::new(None));
        let (seen, root) = (found.clone(), out.join(".staging"));
        let hook = gongbao::job::CheckpointHook(Arc::new(move |at| {
            if at == gongbao::job::Checkpoint::Ingested {
                *seen.lock().unwrap() = Some(files_under(&root, "sheets"));
            }
        }));
        let opts = RunOptions { project: definitions.to_path_buf(), ..RunOptions::sample(project(), out) };
        let ctl = gongbao::run::RunControl {
            from: Some("2025-08".parse().unwrap()),
            to: Some("2025-09".parse().unwrap()),
            hook: Some(hook),
            ..Default::default()
        };
        gongbao::run::run_with(&opts, &ctl).expect("the sample run succeeds");
        spill_files.push(found.lock().unwrap().expect("the run passed its checkpoint"));
    }
    assert_eq!(spill_files[0], 0, "the defaults hold the sample's sheets in memory");
    assert!(spill_files[1] > 0, "a budget of 0 stages the sheets on disk");
    same_outputs(held.path(), spilled.path());
}

/// Files below `root` inside a folder named `name` (at any depth).
fn files_under(root: &Path, name: &str) -> usize {
    fn walk(dir: &Path, inside: bool, name: &str) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path(), inside || e.file_name() == name, name),
                Ok(_) => usize::from(inside),
                Err(_) => 0,
            })
            .sum()
    }
    walk(root, false, name)
}

/// The publications of two runs hold the same files, byte for byte, but for the run records.
fn same_outputs(a: &Path, b: &Path) {
    let (fa, fb) = (published(a), published(b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>(), "the same files");
    for kind in [".parquet", ".md", ".pdf", ".svg", ".xlsx"] {
        assert!(fa.keys().any(|k| k.ends_with(kind)), "the runs wrote {kind} files");
    }
    let differ: Vec<&String> = fa.iter().filter(|(k, v)| fb[*k] != **v).map(|(k, _)| k).collect();
    let unexpected: Vec<&&String> = differ.iter().filter(|k| !RUN_RECORDS.contains(&k.as_str())).collect();
    assert!(unexpected.is_empty(), "differ between the runs: {unexpected:#?}");
}
