//! The bundled sample's run, made once per test process and shared read-only by the test
//! modules that only read its outputs (one full sample run instead of one per module), and
//! what tests use to copy it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gongbao::run::{RunOptions, RunSummary};
use gongbao::sample::SampleData;

pub struct SampleRun {
    _tmp: tempfile::TempDir,
    pub out: PathBuf,
    pub summary: RunSummary,
    /// The generator's data the sample returns were written from.
    pub data: SampleData,
}

/// The sample run of every period in the bundled inbox, into a temporary folder.
pub fn sample_run() -> &'static SampleRun {
    static RUN: OnceLock<SampleRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let summary = gongbao::run::run(&RunOptions::sample(project, &out)).expect("the sample run succeeds");
        SampleRun { _tmp: tmp, out, summary, data: gongbao::sample::generate() }
    })
}

/// Copies the folder `from` (recursively) to `to`, symbolic links as links (an output folder's
/// `current` points into `gen/`): a test that must change or re-run an output folder works on a
/// copy, never on the shared one.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&p).unwrap(), &target).unwrap();
        } else if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}
