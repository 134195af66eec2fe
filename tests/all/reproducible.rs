//! Two runs over the same inputs into two folders give byte-identical outputs: every file of the
//! publication (Parquet, Markdown, PDF, SVG, feedback workbooks, the data dictionary), compared
//! byte for byte. Only the files that hold the run's own time and identity differ by design: the
//! manifest (publication id, run id) and the submission history (when each return was first
//! seen); the ledger (`runs/`) lives outside the publication.

use std::collections::BTreeMap;
use std::path::Path;

use gongbao::run::RunOptions;

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
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for out in [a.path(), b.path()] {
        gongbao::run::run(&RunOptions::sample(project(), out)).expect("the sample run succeeds");
    }
    let (fa, fb) = (published(a.path()), published(b.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>(), "the same files");
    for kind in [".parquet", ".md", ".pdf", ".svg", ".xlsx"] {
        assert!(fa.keys().any(|k| k.ends_with(kind)), "the runs wrote {kind} files");
    }
    let differ: Vec<&String> = fa.iter().filter(|(k, v)| fb[*k] != **v).map(|(k, _)| k).collect();
    let unexpected: Vec<&&String> = differ.iter().filter(|k| !RUN_RECORDS.contains(&k.as_str())).collect();
    assert!(unexpected.is_empty(), "differ between the runs: {unexpected:#?}");
}
