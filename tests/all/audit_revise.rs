//! A period released as final is frozen: a return for it that arrives later is held as a pending
//! revision (in the plan, the summary, the run ledger and the county's feedback; the period's
//! outputs untouched; exit code 0) and applied only by `gongbao run --revise YYYY-MM`, whose
//! bulletin then lists the revised figures. A draft period takes a new return as usual, and a
//! scheduled job never revises.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow::array::AsArray;
use gongbao::run::{RunControl, RunOptions, RunSummary};
use rust_decimal::{Decimal, RoundingStrategy};

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Σ output_ytd of the accepted JN101 rows of a period (every county, or one), from the warehouse.
fn output_sum(out: &Path, period: &str, region: Option<&str>) -> Decimal {
    let dir = out.join(format!("warehouse/jn101/period={period}"));
    let mut sum = Decimal::ZERO;
    for county in std::fs::read_dir(&dir).unwrap() {
        let county = county.unwrap();
        let name = county.file_name().to_string_lossy().to_string();
        if region.is_some_and(|r| name != format!("region={r}")) {
            continue;
        }
        for b in gongbao::store::read_dir_batches(&county.path()).unwrap() {
            let c = b.column_by_name("output_ytd").unwrap().as_primitive::<arrow::datatypes::Decimal128Type>();
            for v in c.iter().flatten() {
                sum += Decimal::from_i128_with_scale(v, 6);
            }
        }
    }
    sum
}

/// 万元 as the bulletin prints 亿元: two decimals, half away from zero.
fn yi(wan: Decimal) -> String {
    format!("{}亿元", (wan / Decimal::from(10_000)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

/// The files of a period in the current publication, by path → SHA-256 (from its manifest).
fn period_files(out: &Path, period: &str) -> BTreeMap<String, String> {
    let m = gongbao::publish::read_manifest(&gongbao::publish::current(out).unwrap()).unwrap();
    m.period_files(period).into_iter().map(|f| (f.path.clone(), f.sha256.clone())).collect()
}

fn gongbao_cli(opts: &RunOptions, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gongbao"))
        .arg("run")
        .arg("--inbox")
        .arg(&opts.inbox)
        .arg("--reference")
        .arg(&opts.reference)
        .arg("--out")
        .arg(&opts.out)
        .arg("--project")
        .arg(&opts.project)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_return_for_a_released_period_waits_for_revise() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // 2025-08: every county, every form, no deliberate violation: released as final. 2025-09 holds
    // the sample's deliberate violations: a draft.
    for period in ["2025-08", "2025-09"] {
        for r in data.returns_for(period) {
            std::fs::copy(project().join("sample_data/returns").join(&r.file_name), inbox.join(&r.file_name)).unwrap();
        }
    }
    let out: PathBuf = tmp.path().join("out");
    let mut opts = RunOptions::sample(project(), &out);
    opts.inbox = inbox.clone();
    let run = |revise: &[&str]| -> RunSummary {
        let ctl = RunControl { revise: revise.iter().map(|p| p.parse().unwrap()).collect(), ..Default::default() };
        gongbao::run::run_with(&opts, &ctl).unwrap()
    };
    let correct = |code: &str, period: &str, add: i64| -> String {
        let original = data.return_for(code, period).unwrap();
        let mut corrected = original.clone();
        corrected.jn101[0].output_ytd += Decimal::from(add);
        let name = original.file_name.replace(".xlsx", "(更正).xlsx");
        std::fs::write(inbox.join(&name), gongbao::sample::workbook_bytes(&data, &corrected).unwrap()).unwrap();
        name
    };

    // Night 1: 2025-08 is released as final (it enters public/), 2025-09 stays a draft.
    let s = run(&[]);
    assert_eq!(s.rebuilt, ["2025-08", "2025-09"]);
    assert_eq!(s.released, ["2025-08"], "only the final bulletin is released");
    assert!(!std::fs::read_to_string(out.join("bulletins/2025-08/bulletin.md")).unwrap().contains("草稿"));
    assert!(std::fs::read_to_string(out.join("bulletins/2025-09/bulletin.md")).unwrap().contains("草稿"));
    assert!(out.join("public/bulletins/2025-08/bulletin.md").exists());
    let city_before = output_sum(&out, "2025-08", None);
    let county_before = output_sum(&out, "2025-08", Some("370811"));
    let released_files = period_files(&out, "2025-08");
    assert!(released_files.keys().any(|p| p.starts_with("public/")), "{released_files:?}");

    // Night 2: 任城区 sends a corrected 2025-08 return (frozen: held), 兖州区 a corrected 2025-09
    // return (a draft: taken as usual).
    let held = correct("370811", "2025-08", 5_000);
    let taken = correct("370812", "2025-09", 1_000);
    let sep_before = output_sum(&out, "2025-09", Some("370812"));

    // The plan shows it, changing nothing.
    let plan = gongbao_cli(&opts, &["--dry-run"]);
    assert_eq!(plan.status.code(), Some(0), "{}", String::from_utf8_lossy(&plan.stderr));
    let plan = String::from_utf8(plan.stdout).unwrap();
    let held_line = plan.lines().find(|l| l.contains(&held)).unwrap_or_else(|| panic!("{plan}"));
    assert!(held_line.contains("2025-08") && held_line.contains("已暂存") && held_line.contains("--revise 2025-08"));
    assert!(plan.contains("已正式发布的报告期不重建"), "{plan}");
    let rebuilt: Vec<&str> = plan.lines().filter(|l| l.contains("个文件)")).collect();
    assert_eq!(rebuilt.len(), 1, "{plan}");
    assert!(rebuilt[0].trim_start().starts_with("2025-09") && rebuilt[0].contains(&taken), "{plan}");
    assert_eq!(period_files(&out, "2025-08"), released_files, "a dry run writes nothing");

    // The night itself, by the command line: exit 0, the summary names the file and the period.
    let night = gongbao_cli(&opts, &[]);
    let stdout = String::from_utf8_lossy(&night.stdout).to_string();
    assert_eq!(night.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&night.stderr));
    let line = stdout.lines().find(|l| l.contains(&held)).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("2025-08") && line.contains("--revise 2025-08"), "{line}");
    // 2025-08 is byte for byte as released (its feedback gains the note of the held return).
    let note_path = "feedback/2025-08/370811_任城区_修订暂存.md";
    let mut now = period_files(&out, "2025-08");
    assert!(now.remove(note_path).is_some(), "{now:?}");
    assert_eq!(now, released_files, "the released period is untouched");
    assert_eq!(output_sum(&out, "2025-08", Some("370811")), county_before);
    // 2025-09 (a draft) took its correction without --revise.
    assert_eq!(output_sum(&out, "2025-09", Some("370812")), sep_before + Decimal::from(1_000));
    // Reported: the ledger and the county's feedback.
    let ledger = gongbao::ledger::read(&out).unwrap();
    let last = ledger.last().unwrap();
    assert_eq!(last.rebuilt, ["2025-09"]);
    assert_eq!(last.pending_revisions, [format!("2025-08: {held} (new)")]);
    let note = std::fs::read_to_string(out.join(note_path)).unwrap();
    // (Markdown: the file name's underscores are escaped.)
    assert!(note.contains(&held.replace('_', "\\_")) && note.contains("已暂存"), "{note}");

    // Night 3: still held, nothing rewritten.
    let s = run(&[]);
    assert!(s.nothing_new, "{:?}", s.rebuilt);
    assert_eq!(s.pending_revisions.len(), 1);
    let held_since = s.pending_revisions[0].first_seen.clone();
    assert_eq!(s.exit_code(false), 0);

    // Night 4: --revise 2025-08 applies it, and rebuilds 2025-09 (which reads 2025-08).
    let s = run(&["2025-08"]);
    assert_eq!(s.rebuilt, ["2025-08", "2025-09"]);
    assert!(s.pending_revisions.is_empty(), "{:?}", s.pending_revisions);
    assert_eq!(output_sum(&out, "2025-08", Some("370811")), county_before + Decimal::from(5_000));
    let original = &data.return_for("370811", "2025-08").unwrap().file_name;
    assert!(s.superseded.iter().any(|x| &x.file == original && x.by == held), "{:?}", s.superseded);
    // The bulletin's revisions note lists the moved city output, computed here from the rows.
    let city_after = output_sum(&out, "2025-08", None);
    assert_eq!(city_after, city_before + Decimal::from(5_000));
    let md = std::fs::read_to_string(out.join("bulletins/2025-08/bulletin.md")).unwrap();
    let moved = format!("工业总产值由{}修订为{}", yi(city_before), yi(city_after));
    assert!(md.contains("数据修订") && md.contains(&moved), "{moved}\n{}", &md[md.len().saturating_sub(1500)..]);
    assert!(std::fs::read_to_string(out.join("public/bulletins/2025-08/bulletin.md")).unwrap().contains(&moved));
    assert!(!out.join(note_path).exists(), "the note goes once the return is applied");
    // The applied return ranks by when it arrived (night 2), not by the night of --revise.
    let history = gongbao::incremental::load_submissions(&gongbao::publish::current(&out).unwrap());
    let recorded = history.iter().find(|h| h.file == held).unwrap();
    assert_eq!(recorded.first_seen, held_since);
    assert_eq!(gongbao::ledger::read(&out).unwrap().last().unwrap().revise, ["2025-08"]);

    // A scheduled job: the period is frozen again, and a schedule never revises.
    let again = correct("370812", "2025-08", 1_000);
    let schedules = tmp.path().join("schedules");
    std::fs::create_dir_all(&schedules).unwrap();
    std::fs::write(
        schedules.join("nightly.toml"),
        format!(
            "name = \"nightly\"\ncron = \"0 15 2 * * *\"\njob = \"run\"\nperiods = \"open\"\ninbox = \"{}\"\nreference = \"{}\"\nout = \"{}\"\nproject = \"{}\"\n",
            inbox.display(),
            opts.reference.display(),
            out.display(),
            project().display()
        ),
    )
    .unwrap();
    let defs = gongbao::schedule::load(&schedules).unwrap();
    let (sopts, sctl) = defs[0].control(chrono::NaiveDate::from_ymd_opt(2025, 10, 2).unwrap()).unwrap();
    let revised = period_files(&out, "2025-08");
    let s = gongbao::run::run_with(&sopts, &sctl).unwrap();
    assert!(s.rebuilt.is_empty(), "{:?}", s.rebuilt);
    assert_eq!(s.pending_revisions.iter().map(|p| p.file.as_str()).collect::<Vec<_>>(), [again.as_str()]);
    let mut now = period_files(&out, "2025-08");
    assert!(now.remove("feedback/2025-08/370812_兖州区_修订暂存.md").is_some(), "{now:?}");
    assert_eq!(now, revised);
}
