//! Fault injection: a write that fails (a full disk, injected through `gongbao::faults` in a child
//! process, and a real full tmpfs where the test may mount one), a missing or malformed reference
//! file, a failing SQL model, a damaged publication. Each gives a clear error; the previous publication stays published, untouched
//! and verifying against its manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const COUNTIES: &[&str] = &["370811", "370812"];

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Env {
    _tmp: tempfile::TempDir,
    inbox: PathBuf,
    out: PathBuf,
    reference: PathBuf,
}

impl Env {
    /// Two counties' returns of 2025-02, published once.
    fn published(out: Option<PathBuf>) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let (inbox, reference) = (tmp.path().join("inbox"), tmp.path().join("reference"));
        let out = out.unwrap_or_else(|| tmp.path().join("out"));
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&reference).unwrap();
        for e in std::fs::read_dir(project().join("sample_data/reference")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), reference.join(e.file_name())).unwrap();
        }
        let env = Env { _tmp: tmp, inbox, out, reference };
        env.arrive("2025-02");
        let first = env.run();
        assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
        env
    }

    fn arrive(&self, period: &str) {
        let data = gongbao::sample::generate();
        for code in COUNTIES {
            let r = data.return_for(code, period).unwrap();
            std::fs::write(self.inbox.join(&r.file_name), gongbao::sample::workbook_bytes(&data, r).unwrap()).unwrap();
        }
    }

    fn run(&self) -> Output {
        self.run_in(project())
    }

    /// The binary's run of this project.
    fn run_in(&self, project: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gongbao"))
            .current_dir(project)
            .args(["run", "--project"])
            .arg(project)
            .arg("--inbox")
            .arg(&self.inbox)
            .arg("--reference")
            .arg(&self.reference)
            .arg("--out")
            .arg(&self.out)
            .output()
            .unwrap()
    }

    /// The same run in a child process (this test binary, see [`failing_write_child`]) where
    /// every write of a file whose path contains `target` fails as on a full disk.
    fn run_failing_writes(&self, target: &str) -> Output {
        Command::new(std::env::current_exe().unwrap())
            .current_dir(project())
            .args(["faults::failing_write_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(
                WRITE_CHILD,
                format!("{}\n{}\n{}\n{target}", self.inbox.display(), self.reference.display(), self.out.display()),
            )
            .output()
            .unwrap()
    }

    /// The published publication: its folder and every file's bytes.
    fn snapshot(&self) -> (PathBuf, BTreeMap<String, Vec<u8>>) {
        let dir = gongbao::publish::current(&self.out).expect("a publication");
        let m = gongbao::publish::read_manifest(&dir).unwrap();
        let files = m.files.iter().map(|f| (f.path.clone(), std::fs::read(dir.join(&f.path)).unwrap())).collect();
        (dir, files)
    }

    /// The run failed with `error` in its message, and the publication before it is still the
    /// published one, byte for byte, and verifies.
    fn failed_leaving(&self, run: &Output, before: &(PathBuf, BTreeMap<String, Vec<u8>>), error: &str) {
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(error), "{error:?} not in: {stderr}");
        let after = self.snapshot();
        assert_eq!(after.0, before.0, "the same publication is published");
        assert!(after.1 == before.1, "its files are untouched");
        gongbao::publish::verify(&after.0).expect("it still verifies");
    }
}

/// The variable that makes [`failing_write_child`] run: inbox, reference, out and the text of
/// the paths whose writes fail, on four lines (set only by [`Env::run_failing_writes`]).
const WRITE_CHILD: &str = "GONGBAO_TEST_FAILING_WRITE";

/// The child process of [`Env::run_failing_writes`]: runs the job with a write fault injected
/// (`gongbao::faults`) and exits as the binary would (the error on stderr, exit code 1).
#[test]
#[ignore = "the child process of a_failing_write_leaves_the_previous_publication"]
fn failing_write_child() {
    let spec = std::env::var(WRITE_CHILD).expect("run by Env::run_failing_writes only");
    let l: Vec<&str> = spec.lines().collect();
    gongbao::faults::inject(gongbao::faults::Faults {
        fail_writes_containing: Some(l[3].to_string()),
        ..Default::default()
    });
    let opts = gongbao::run::RunOptions {
        project: project().to_path_buf(),
        inbox: PathBuf::from(l[0]),
        reference: PathBuf::from(l[1]),
        out: PathBuf::from(l[2]),
        period: None,
        issued_on: None,
    };
    let code = match gongbao::run::run_with(&opts, &gongbao::run::RunControl::default()) {
        Ok(summary) => summary.exit_code(false),
        Err(e) => {
            eprintln!("gongbao: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

#[test]
fn a_failing_write_leaves_the_previous_publication() {
    let env = Env::published(None);
    let before = env.snapshot();
    env.arrive("2025-03");
    for target in ["part-0.parquet", "bulletin.md", "manifest.json"] {
        let run = env.run_failing_writes(target);
        env.failed_leaving(&run, &before, "No space left on device");
        assert!(String::from_utf8_lossy(&run.stderr).contains(target), "the error names the file");
    }
    // Without the fault, the same night publishes.
    let run = env.run();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_ne!(env.snapshot().0, before.0);
}

#[test]
fn a_full_disk_leaves_the_previous_publication() {
    // A real tmpfs, filled up: needs the right to mount (root); elsewhere the injected failure
    // above stands for it.
    let mnt = tempfile::tempdir().unwrap();
    let mount = Command::new("mount").args(["-t", "tmpfs", "-o", "size=200m", "tmpfs"]).arg(mnt.path()).output();
    if !mount.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            Command::new("umount").arg(&self.0).status().ok();
        }
    }
    let _unmount = Unmount(mnt.path().to_path_buf());
    let out = mnt.path().join("out");
    let env = Env::published(Some(out.clone()));
    let before = env.snapshot();
    // Leave 64 kB free: the next publication's first Parquet files do not fit.
    let used: u64 = String::from_utf8_lossy(
        &Command::new("df").args(["--output=used", "-B1"]).arg(mnt.path()).output().unwrap().stdout,
    )
    .lines()
    .nth(1)
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let filler = mnt.path().join("filler");
    let f = std::fs::File::create(&filler).unwrap();
    // tmpfs allocates on write: write the filler out.
    let free = 200 * 1024 * 1024 - used - 64 * 1024;
    std::io::Write::write_all(&mut &f, &vec![0u8; free as usize]).ok();
    drop(f);
    env.arrive("2025-03");
    let run = env.run();
    env.failed_leaving(&run, &before, "No space left on device");
    std::fs::remove_file(&filler).unwrap();
    let run = env.run();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn a_missing_or_malformed_reference_file_is_a_clear_error() {
    let env = Env::published(None);
    let before = env.snapshot();
    env.arrive("2025-03");
    let ppi = env.reference.join("ppi.csv");
    let good = std::fs::read(&ppi).unwrap();
    std::fs::remove_file(&ppi).unwrap();
    let run = env.run();
    env.failed_leaving(&run, &before, "ppi.csv");
    std::fs::write(&ppi, "period,ppi\n2025-02,not a number\n").unwrap();
    let run = env.run();
    env.failed_leaving(&run, &before, "ppi.csv");
    std::fs::write(&ppi, good).unwrap();
}

#[test]
fn a_failing_model_is_reported_and_nothing_is_built_on_a_damaged_publication() {
    let env = Env::published(None);
    // A copy of the project whose indicator model divides by a column that does not exist.
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("project");
    copy_dir(project(), &proj, &["target", "output", "sample_data", ".git", "fuzz"]);
    let sql = proj.join("sql/county_ranking.sql");
    let text = std::fs::read_to_string(&sql).unwrap();
    std::fs::write(&sql, text.replacen("SELECT", "SELECT no_such_column,", 1)).unwrap();
    env.arrive("2025-03");
    let before = env.snapshot();
    let run = env.run_in(&proj);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("county_ranking"), "{stdout}");
    // Whatever it published verifies; the previous publication's files are untouched.
    gongbao::publish::verify(&env.snapshot().0).unwrap();
    for (path, bytes) in &before.1 {
        assert_eq!(&std::fs::read(before.0.join(path)).unwrap(), bytes, "{path}");
    }

    // A published file damaged by hand: the next run refuses to build on it, naming the file.
    let cur = env.snapshot();
    let victim = cur.1.keys().find(|k| k.ends_with("bulletin.md")).unwrap().clone();
    std::fs::write(cur.0.join(&victim), "tampered").unwrap();
    env.arrive("2025-04");
    let run = env.run();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&victim) && stderr.contains("damaged"), "{stderr}");
    assert_eq!(gongbao::publish::current(&env.out).unwrap(), cur.0, "nothing new was published");
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name), &[]);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
