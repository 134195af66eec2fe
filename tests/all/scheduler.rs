//! The scheduler fires a schedule whose cron expression fires every two seconds, records each
//! firing in the run ledger, and stops cleanly on SIGTERM.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fires_every_two_seconds_and_stops_on_sigterm() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out, schedules) = (tmp.path().join("inbox"), tmp.path().join("out"), tmp.path().join("schedules"));
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::create_dir_all(&schedules).unwrap();
    for code in ["370811", "370812"] {
        let r = data.return_for(code, "2025-02").unwrap();
        std::fs::copy(project().join("sample_data/returns").join(&r.file_name), inbox.join(&r.file_name)).unwrap();
    }
    std::fs::write(
        schedules.join("often.toml"),
        format!(
            "name = \"often\"\ncron = \"*/2 * * * * *\"\njob = \"run\"\nperiods = \"open\"\ninbox = \"{}\"\nreference = \"{}\"\nout = \"{}\"\nproject = \"{}\"\n",
            inbox.display(),
            project().join("sample_data/reference").display(),
            out.display(),
            project().display()
        ),
    )
    .unwrap();

    // `schedule list` shows fire times two seconds apart.
    let list = Command::new(env!("CARGO_BIN_EXE_gongbao"))
        .args(["schedule", "list", "--dir"])
        .arg(&schedules)
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0));
    let text = String::from_utf8_lossy(&list.stdout);
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = text
        .lines()
        .filter(|l| l.starts_with("    "))
        .map(|l| chrono::DateTime::parse_from_str(l.trim(), "%Y-%m-%d %H:%M:%S %:z").unwrap())
        .collect();
    assert_eq!(times.len(), 3, "{text}");
    assert_eq!((times[1] - times[0]).num_seconds(), 2);

    let child = Command::new(env!("CARGO_BIN_EXE_gongbao"))
        .args(["--log-format", "json", "schedule", "run", "--dir"])
        .arg(&schedules)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for two firings: the first publishes, the second finds nothing new.
    let start = Instant::now();
    loop {
        let ledger = gongbao::ledger::read(&out).unwrap();
        if ledger.len() >= 2 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the scheduler did not fire twice: {ledger:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("scheduler stopped after"));

    let ledger = gongbao::ledger::read(&out).unwrap();
    assert!(ledger.iter().all(|r| r.trigger == "schedule:often"), "{ledger:?}");
    assert_eq!(ledger[0].rebuilt, ["2025-02"]);
    assert_eq!(ledger[1].outcome, "nothing-new");
    gongbao::publish::verify(&gongbao::publish::current(&out).unwrap()).unwrap();
    assert!(out.join("bulletins/2025-02/bulletin.md").exists());
    // Logs are JSON lines when asked.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.iter().any(|l| l.contains("firing")), "{stderr}");
    for l in lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
    }
}
