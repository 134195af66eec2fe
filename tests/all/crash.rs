//! A run killed (SIGKILL) at several points leaves the previous publication published, complete
//! (its manifest verifies) and unchanged; the lock dies with the process; the next run recovers
//! without manual cleanup and publishes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const COUNTIES: &[&str] = &["370811", "370812"];

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn gongbao(inbox: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongbao"));
    c.current_dir(project()).args(["run", "--inbox"]).arg(inbox).arg("--out").arg(out);
    c
}

/// The variable that makes [`paused_run_child`] run (set only by [`paused_run`], in the child).
const CHILD: &str = "GONGBAO_TEST_PAUSED_RUN";

/// The child process of [`paused_run`]: this test binary, re-run for this one test, runs the
/// sample job with a checkpoint hook (`RunControl::hook`) that stops at the stage named in
/// `GONGBAO_TEST_PAUSED_RUN` (`stage`, inbox, out on three lines) until it is killed.
#[test]
#[ignore = "the child process of killed_runs_leave_the_published_state_intact"]
fn paused_run_child() {
    let spec = std::env::var(CHILD).expect("run by paused_run only");
    let mut lines = spec.lines();
    let (stage, inbox, out) = (lines.next().unwrap().to_string(), lines.next().unwrap(), lines.next().unwrap());
    let opts = gongbao::run::RunOptions {
        inbox: PathBuf::from(inbox),
        ..gongbao::run::RunOptions::sample(project(), Path::new(out))
    };
    let hook = gongbao::job::CheckpointHook(std::sync::Arc::new(move |at: gongbao::job::Checkpoint| {
        if at.as_str() == stage {
            eprintln!("GONGBAO_TEST_PAUSED {stage}");
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }));
    let ctl = gongbao::run::RunControl { hook: Some(hook), ..Default::default() };
    gongbao::run::run_with(&opts, &ctl).unwrap();
}

fn arrive(data: &gongbao::sample::SampleData, inbox: &Path, period: &str) {
    for code in COUNTIES {
        let r = data.return_for(code, period).unwrap();
        std::fs::copy(project().join("sample_data/returns").join(&r.file_name), inbox.join(&r.file_name)).unwrap();
    }
}

/// The published files (through `current`): path → bytes.
fn published(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = gongbao::publish::current(out).expect("a publication");
    gongbao::publish::read_manifest(&dir)
        .unwrap()
        .files
        .iter()
        .map(|f| (f.path.clone(), std::fs::read(dir.join(&f.path)).unwrap()))
        .collect()
}

/// Starts a run that stops at `stage`, waits until it is there, and returns it.
fn paused_run(inbox: &Path, out: &Path, stage: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .current_dir(project())
        .args(["crash::paused_run_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{stage}\n{}\n{}", inbox.display(), out.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.contains(&format!("GONGBAO_TEST_PAUSED {stage}")) {
            return child;
        }
        seen.push(line);
    }
    child.kill().ok();
    child.wait().ok();
    panic!("the run never reached {stage}: {}", seen.join("\n"));
}

#[test]
fn killed_runs_leave_the_published_state_intact() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out): (PathBuf, PathBuf) = (tmp.path().join("inbox"), tmp.path().join("out"));
    std::fs::create_dir_all(&inbox).unwrap();
    arrive(&data, &inbox, "2025-02");
    let first = gongbao(&inbox, &out).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let old_pub = gongbao::publish::current(&out).unwrap();
    let old = published(&out);
    assert!(old.keys().any(|k| k.starts_with("warehouse/indicator_values/period=2025-02/")));
    assert!(old.contains_key("bulletins/2025-02/bulletin.md"));

    // New returns arrive; each run is killed at a different point before it publishes.
    arrive(&data, &inbox, "2025-03");
    for stage in ["ingested", "period-built", "before-commit"] {
        let mut child = paused_run(&inbox, &out, stage);
        // One run at a time: a second run is refused while the first holds the lock.
        let second = gongbao(&inbox, &out).output().unwrap();
        assert_eq!(second.status.code(), Some(1));
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(err.contains("another gongbao run") && err.contains(&format!("pid {}", child.id())), "{err}");

        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(gongbao::publish::current(&out).unwrap(), old_pub, "killed at {stage}: still the old publication");
        gongbao::publish::verify(&old_pub).unwrap();
        assert_eq!(published(&out), old, "killed at {stage}: the published files are unchanged");
        // Readers see the old state through the usual paths.
        assert!(out.join("bulletins/2025-02/bulletin.md").exists());
        assert!(!out.join("bulletins/2025-03").exists(), "killed at {stage}");
        if stage != "ingested" {
            let gens = std::fs::read_dir(out.join("gen")).unwrap().count();
            assert!(gens >= 2, "the dead run left its unfinished publication ({gens})");
        }
    }

    // Killed just after publishing: the new state is published and complete.
    let mut child = paused_run(&inbox, &out, "after-commit");
    child.kill().unwrap();
    child.wait().unwrap();
    let new_pub = gongbao::publish::current(&out).unwrap();
    assert_ne!(new_pub, old_pub);
    gongbao::publish::verify(&new_pub).unwrap();
    assert!(out.join("bulletins/2025-03/bulletin.md").exists());

    // The next run recovers by itself: leftovers removed, and (since the killed run published but
    // could not save its file cache) it finds nothing to rebuild.
    let next = gongbao(&inbox, &out).output().unwrap();
    assert_eq!(next.status.code(), Some(0), "{}", String::from_utf8_lossy(&next.stderr));
    assert!(String::from_utf8_lossy(&next.stdout).contains("未改写任何输出"));
    assert!(!out.join(".staging").exists());
    let gens: Vec<String> = std::fs::read_dir(out.join("gen"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(gens.len() <= 2, "only the current publication and the one before it are kept: {gens:?}");

    // A new run after a kill before publishing publishes normally.
    arrive(&data, &inbox, "2025-04");
    let mut child = paused_run(&inbox, &out, "before-commit");
    child.kill().unwrap();
    child.wait().unwrap();
    let done = gongbao(&inbox, &out).output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stderr));
    gongbao::publish::verify(&gongbao::publish::current(&out).unwrap()).unwrap();
    assert!(out.join("bulletins/2025-04/bulletin.md").exists());
    let ledger = gongbao::ledger::read(&out).unwrap();
    // The three runs refused by the lock are recorded as failed; the five killed ones are recorded
    // by the run after each as interrupted, with what they had planned and whether they published.
    assert_eq!(ledger.iter().filter(|r| r.outcome == "failed").count(), 3, "{ledger:?}");
    let interrupted: Vec<_> = ledger.iter().filter(|r| r.outcome == "interrupted").collect();
    assert_eq!(interrupted.len(), 5, "{ledger:?}");
    assert!(interrupted.iter().all(|r| r.exit_code == 1 && !r.started.is_empty() && !r.run_id.is_empty()));
    assert_eq!(interrupted[0].rebuilt, ["2025-03"]);
    let published_by_killed: Vec<_> = interrupted.iter().map(|r| r.publication.is_some()).collect();
    assert_eq!(published_by_killed, [false, false, false, true, false]);
    assert!(interrupted[3].error.as_deref().unwrap().contains("it had published"));
    assert_eq!(ledger.last().unwrap().rebuilt, ["2025-04"]);
    assert_eq!(ledger.last().unwrap().outcome, "published-with-audit-errors");
    assert!(!out.join("runs/running.json").exists(), "the finished run is no longer noted as in progress");
}
