//! A month of nights on a small inbox (3 counties, 2025-02 … 2025-04): new returns arrive, a
//! county resubmits, nothing arrives, the reference data changes. After each night the published
//! Parquet equals a from-scratch run over the same inputs; a night with nothing new rewrites
//! nothing; periods whose inputs did not change keep their very files.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use gongbao::run::{RunOptions, RunSummary};
use rust_decimal::Decimal;

const COUNTIES: &[&str] = &["370811", "370812", "370829"];

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct World {
    _tmp: tempfile::TempDir,
    inbox: PathBuf,
    reference: PathBuf,
    out: PathBuf,
    root: PathBuf,
    data: gongbao::sample::SampleData,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let (inbox, reference, out) = (root.join("inbox"), root.join("reference"), root.join("out"));
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::create_dir_all(&reference).unwrap();
        for e in std::fs::read_dir(project().join("sample_data/reference")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), reference.join(e.file_name())).unwrap();
        }
        World { _tmp: tmp, inbox, reference, out, root, data: gongbao::sample::generate() }
    }

    fn arrive(&self, period: &str) {
        for code in COUNTIES {
            let r = self.data.return_for(code, period).unwrap();
            std::fs::copy(project().join("sample_data/returns").join(&r.file_name), self.inbox.join(&r.file_name))
                .unwrap();
        }
    }

    fn options(&self, out: &Path) -> RunOptions {
        let mut o = RunOptions::sample(project(), out);
        o.inbox = self.inbox.clone();
        o.reference = self.reference.clone();
        o
    }

    fn night(&self) -> RunSummary {
        gongbao::run::run(&self.options(&self.out)).expect("the nightly run succeeds")
    }

    /// A fresh run over the same inputs, in a new output folder.
    fn scratch(&self, n: usize) -> PathBuf {
        let out = self.root.join(format!("scratch{n}"));
        let s = gongbao::run::run(&self.options(&out)).expect("the scratch run succeeds");
        assert!(!s.nothing_new);
        out
    }
}

/// Every Parquet file of the published warehouse: relative path → bytes.
pub(crate) fn parquet(out: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, acc);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                acc.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(&out.join("warehouse"), &out.join("warehouse"), &mut acc);
    acc
}

/// A Parquet file's rows as a table, to show how two versions differ.
fn shown(bytes: &[u8]) -> String {
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build());
    match reader {
        Ok(r) => {
            let batches: Vec<_> = r.filter_map(|b| b.ok()).collect();
            arrow::util::pretty::pretty_format_batches(&batches).map(|t| t.to_string()).unwrap_or_default()
        }
        Err(e) => format!("(not readable: {e})"),
    }
}

fn assert_same_as_scratch(w: &World, n: usize) {
    let scratch = w.scratch(n);
    let (a, b) = (parquet(&w.out), parquet(&scratch));
    assert!(a.len() > 20, "{} files", a.len());
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "night {n}: the same tables and partitions");
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "night {n}: {k} differs from a from-scratch run:\n{}\nfrom scratch:\n{}",
            shown(v),
            shown(&b[k])
        );
    }
    gongbao::publish::verify(&gongbao::publish::current(&w.out).unwrap()).unwrap();
}

/// Every file reachable from the output folder but the run ledger and the lock:
/// path → (inode, mtime in ns, bytes).
fn snapshot(out: &Path) -> BTreeMap<String, (u64, i64, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<String, (u64, i64, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if rel == "runs" || rel == ".gongbao.lock" || rel == "gen" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, acc);
            } else {
                let m = std::fs::metadata(&p).unwrap();
                acc.insert(rel, (m.ino(), m.mtime() * 1_000_000_000 + m.mtime_nsec(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(out, out, &mut acc);
    acc.insert(
        "current ->".into(),
        (0, 0, std::fs::read_link(out.join("current")).unwrap().display().to_string().into_bytes()),
    );
    acc
}

fn inodes_of(out: &Path, period: &str) -> BTreeMap<String, u64> {
    snapshot(out).into_iter().filter(|(k, _)| k.contains(&format!("period={period}"))).map(|(k, v)| (k, v.0)).collect()
}

/// Sum of one JN101 column over a county's accepted rows of a period, from the warehouse.
fn jn101_sum(out: &Path, period: &str, region: &str, column: &str) -> Decimal {
    let dir = out.join(format!("warehouse/jn101/period={period}/region={region}"));
    let mut total = Decimal::ZERO;
    for b in gongbao::store::read_dir_batches(&dir).unwrap() {
        let col = b.column_by_name(column).unwrap().as_primitive::<arrow::datatypes::Decimal128Type>();
        for i in 0..b.num_rows() {
            total += Decimal::from_i128_with_scale(col.value(i), 6);
        }
    }
    total
}

#[test]
fn a_month_of_nights() {
    let w = World::new();

    // Night 1: the first two periods arrive.
    w.arrive("2025-02");
    w.arrive("2025-03");
    let s = w.night();
    assert_eq!(s.rebuilt, ["2025-02", "2025-03"]);
    assert_eq!((s.files_seen, s.files_new), (6, 6));
    assert_same_as_scratch(&w, 1);

    // Night 2: 2025-04 arrives; only it is built, the earlier periods keep their files.
    let before_02 = inodes_of(&w.out, "2025-02");
    let before_03 = inodes_of(&w.out, "2025-03");
    assert!(before_02.len() > 10);
    w.arrive("2025-04");
    let s = w.night();
    assert_eq!(s.rebuilt, ["2025-04"]);
    assert_eq!(s.files_new, 3);
    assert_eq!(s.files_ingested, 3, "only the new workbooks are read");
    assert_eq!(s.files_opened, 3);
    assert_eq!(inodes_of(&w.out, "2025-02"), before_02);
    assert_eq!(inodes_of(&w.out, "2025-03"), before_03);
    assert_same_as_scratch(&w, 2);

    // Night 3: 任城区 resubmits 2025-03 with a corrected output value; 2025-03 and the periods
    // after it (which read it) are rebuilt; 2025-02 is not.
    let original = w.data.return_for("370811", "2025-03").unwrap();
    let mut corrected = original.clone();
    let row = corrected.jn101.iter_mut().find(|r| r.expected_error.is_none()).unwrap();
    let old_sum = jn101_sum(&w.out, "2025-03", "370811", "output_ytd");
    row.output_ytd += Decimal::from(5_000);
    let name = original.file_name.replace(".xlsx", "(更正).xlsx");
    std::fs::write(w.inbox.join(&name), gongbao::sample::workbook_bytes(&w.data, &corrected).unwrap()).unwrap();
    let s = w.night();
    assert_eq!(s.rebuilt, ["2025-03", "2025-04"]);
    // The rebuilt periods use seven workbooks; only the new one is opened, the others come from
    // the parsed-workbook cache (and the from-scratch comparison below shows they give the same).
    assert_eq!((s.files_ingested, s.files_opened), (7, 1));
    assert_eq!(inodes_of(&w.out, "2025-02"), before_02);
    assert!(s.superseded.iter().any(|x| x.file == original.file_name && x.by == name), "{:?}", s.superseded);
    assert_eq!(jn101_sum(&w.out, "2025-03", "370811", "output_ytd"), old_sum + Decimal::from(5_000));
    // The history keeps both versions; the bulletin notes the revised figures.
    let subs = gongbao::incremental::load_submissions(&gongbao::publish::current(&w.out).unwrap());
    let versions: Vec<_> =
        subs.iter().filter(|x| x.period == "2025-03" && x.region_code == "370811" && x.form == "JN101").collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    let old = versions.iter().find(|x| x.file == original.file_name).unwrap();
    assert_eq!((old.status.as_str(), old.superseded_by.as_deref()), ("superseded", Some(name.as_str())));
    assert_eq!(versions.iter().find(|x| x.file == name).unwrap().status, "current");
    let md = std::fs::read_to_string(w.out.join("bulletins/2025-03/bulletin.md")).unwrap();
    // in the bulletin's words and units: the city's output moved by the 5,000万元 added above
    assert!(md.contains("数据修订") && md.contains("工业总产值由"), "{}", &md[md.len().saturating_sub(600)..]);
    assert_same_as_scratch(&w, 3);

    // Night 4: nothing arrives. Nothing is rebuilt and no file is rewritten.
    let before = snapshot(&w.out);
    let s = w.night();
    assert!(s.nothing_new && s.rebuilt.is_empty() && s.publication.is_none());
    assert_eq!(s.exit_code(true), 0);
    assert_eq!(snapshot(&w.out), before);
    let ledger = gongbao::ledger::read(&w.out).unwrap();
    assert_eq!(ledger.len(), 4);
    assert_eq!(ledger[3].outcome, "nothing-new");
    assert_eq!(ledger[2].rebuilt, ["2025-03", "2025-04"]);
    assert_eq!(ledger[0].files_ingested, 6);
    assert_eq!(ledger.iter().map(|r| r.files_opened).collect::<Vec<_>>(), [6, 3, 1, 0]);

    // Night 5: the reference data changes (a PPI): every period is rebuilt.
    let ppi = std::fs::read_to_string(w.reference.join("ppi.csv")).unwrap();
    std::fs::write(w.reference.join("ppi.csv"), ppi.replace("2025-03,_T,98.1", "2025-03,_T,97.9")).unwrap();
    let s = w.night();
    assert_eq!(s.rebuilt, ["2025-02", "2025-03", "2025-04"]);
    assert_eq!((s.files_ingested, s.files_opened), (10, 0), "a price index does not change how a workbook reads");
    assert_same_as_scratch(&w, 5);

    // Backfill: --from/--to rebuilds the range in order even though nothing changed.
    let ctl = gongbao::run::RunControl {
        from: Some("2025-03".parse().unwrap()),
        to: Some("2025-04".parse().unwrap()),
        force: true,
        ..Default::default()
    };
    let s = gongbao::run::run_with(&w.options(&w.out), &ctl).unwrap();
    assert_eq!(s.rebuilt, ["2025-03", "2025-04"]);
    assert_same_as_scratch(&w, 6);
}

/// An `audit` job audits and sends county feedback without models or bulletin; a `bulletin` job
/// then publishes from exactly the audited returns, leaving returns that arrived since for later.
#[test]
fn a_bulletin_job_publishes_what_was_audited() {
    use gongbao::schedule::Job;
    let w = World::new();
    let job = |job: Job| gongbao::run::RunControl { job, ..Default::default() };
    let bulletin = |p: &str| w.out.join(format!("bulletins/{p}/bulletin.md"));

    // Nothing audited yet: a bulletin job has nothing to publish.
    w.arrive("2025-02");
    // One county's return has a negative revenue (an error the county must fix).
    let mut bad = w.data.return_for("370812", "2025-02").unwrap().clone();
    let row = bad.jn101.iter_mut().find(|r| r.expected_error.is_none()).unwrap();
    row.revenue_ytd = -row.revenue_ytd;
    std::fs::write(w.inbox.join(&bad.file_name), gongbao::sample::workbook_bytes(&w.data, &bad).unwrap()).unwrap();
    let err = gongbao::run::run_with(&w.options(&w.out), &job(Job::Bulletin)).unwrap_err();
    assert!(format!("{err:#}").contains("no audited return"), "{err:#}");

    std::fs::write(w.inbox.join("嘉祥县_2025年1-2月_倍增监测报表(补报).xlsx"), "not a workbook").unwrap();
    let s = gongbao::run::run_with(&w.options(&w.out), &job(Job::Audit)).unwrap();
    assert_eq!(s.rebuilt, ["2025-02"]);
    assert_eq!(s.refusals.len(), 1, "{:?}", s.refusals);
    assert!(s.models.is_empty() && !bulletin("2025-02").exists());
    assert_eq!(s.rows_quarantined, 1);
    let feedback: Vec<_> = s.feedback.iter().map(|f| f.workbook.clone()).collect();
    // The counties with the negative revenue and the refused file get their feedback from the
    // audit job.
    let counties: Vec<&str> = s.feedback.iter().map(|f| f.region_code.as_str()).collect();
    assert_eq!(counties, ["370812", "370829"], "{feedback:?}");
    assert!(feedback.iter().all(|f| f.exists() && f.starts_with(w.out.join("feedback/2025-02"))), "{feedback:?}");

    // 2025-03 arrives after the audit, with a file that is not a workbook; the bulletin job uses
    // only the audited 2025-02 returns.
    w.arrive("2025-03");
    std::fs::write(w.inbox.join("任城区_2025年1-3月_倍增监测报表(补报).xlsx"), "not a workbook").unwrap();
    let s = gongbao::run::run_with(&w.options(&w.out), &job(Job::Bulletin)).unwrap();
    assert_eq!(s.rebuilt, ["2025-02"]);
    // The refused file was audited with 2025-02: it stays part of it (its finding too).
    assert_eq!((s.files_seen, s.files_opened), (4, 0));
    assert_eq!(s.refusals.len(), 1, "{:?}", s.refusals);
    assert!(bulletin("2025-02").exists() && !bulletin("2025-03").exists());
    assert!(s.models.iter().all(|m| m.2.is_none()) && !s.models.is_empty());
    let again = gongbao::run::run_with(&w.options(&w.out), &job(Job::Bulletin)).unwrap();
    assert!(again.nothing_new);

    // The next full run takes the new returns (and reports the refused file).
    let s = w.night();
    assert_eq!(s.rebuilt, ["2025-03"]);
    assert_eq!(s.refusals.len(), 1, "{:?}", s.refusals);
    assert!(bulletin("2025-03").exists());
    assert_same_as_scratch(&w, 1);
}

/// A file that is not a workbook is reported on the night it arrives, to the county and period
/// its name gives (or under `unknown`), never passed over as "nothing new".
#[test]
fn a_refused_file_is_reported_on_the_night_it_arrives() {
    let w = World::new();
    w.arrive("2025-02");
    w.night();

    let junk = "任城区_2025年1-2月_倍增监测报表(补报).xlsx";
    std::fs::write(w.inbox.join(junk), "这不是一个Excel文件").unwrap();
    let s = w.night();
    assert!(!s.nothing_new);
    assert_eq!(s.rebuilt, ["2025-02"]);
    assert_eq!(s.refusals.iter().map(|r| (r.file.as_str(), r.sheet.is_none())).collect::<Vec<_>>(), [(junk, true)]);
    // 任城区 is told in its feedback for 2025-02; the finding is in the warehouse.
    let feedback: Vec<_> = s.feedback.iter().filter(|f| f.region_code == "370811").collect();
    assert_eq!(feedback.len(), 1, "{:?}", s.feedback);
    let md = std::fs::read_to_string(&feedback[0].markdown).unwrap();
    assert!(md.contains("补报"), "{md}");
    let findings = gongbao::store::read_dir_batches(&w.out.join("warehouse/findings/period=2025-02")).unwrap();
    let files: Vec<String> = findings
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("file").unwrap().as_string::<i32>().clone();
            (0..b.num_rows()).map(move |i| c.value(i).to_string())
        })
        .collect();
    assert!(files.iter().any(|f| f == junk), "{files:?}");
    assert_eq!(gongbao::ledger::read(&w.out).unwrap().last().unwrap().files_refused, 1);

    // A file whose name gives no period goes to `unknown`, still reported.
    std::fs::write(w.inbox.join("说明.xlsx"), "notes").unwrap();
    let s = w.night();
    assert_eq!(s.rebuilt, ["unknown"]);
    assert!(s.refusals.iter().any(|r| r.file == "说明.xlsx"), "{:?}", s.refusals);
    assert!(w.night().nothing_new);
}

/// A change to the form definitions reads every workbook again: the periods learned and the
/// parsed workbooks cached under the old definitions are not trusted.
#[test]
fn a_change_to_the_forms_reads_every_workbook_again() {
    let w = World::new();
    // A project whose forms/ can change (the rest links to the repository's).
    let proj = w.root.join("project");
    std::fs::create_dir_all(proj.join("forms")).unwrap();
    for dir in ["rules", "sql", "templates", "config", "fonts"] {
        std::os::unix::fs::symlink(project().join(dir), proj.join(dir)).unwrap();
    }
    for e in std::fs::read_dir(project().join("forms")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), proj.join("forms").join(e.file_name())).unwrap();
    }
    let opts = RunOptions { project: proj.clone(), ..w.options(&w.out) };
    w.arrive("2025-02");
    let s = gongbao::run::run(&opts).unwrap();
    assert_eq!((s.rebuilt.len(), s.files_opened), (1, 3));
    let learned = gongbao::incremental::FileCache::load(&w.out);
    assert_eq!(learned.files.len(), 3);
    assert!(gongbao::run::run(&opts).unwrap().nothing_new);

    let jn101 = proj.join("forms/JN101.toml");
    let text = std::fs::read_to_string(&jn101).unwrap();
    std::fs::write(&jn101, format!("{text}\n# 口径说明已更新\n")).unwrap();
    let s = gongbao::run::run(&opts).unwrap();
    assert_eq!(s.rebuilt, ["2025-02"]);
    assert_eq!(s.files_opened, 3, "every workbook is read again under the new definitions");
    let relearned = gongbao::incremental::FileCache::load(&w.out);
    assert_ne!(relearned.reading, learned.reading);
    assert_eq!(relearned.files.keys().collect::<Vec<_>>(), learned.files.keys().collect::<Vec<_>>());
    assert!(gongbao::run::run(&opts).unwrap().nothing_new);
}

/// `gongbao run --dry-run` on a changed inbox prints the plan (which periods, why) and changes
/// nothing: no file of the output folder, no cache, no ledger line; the real run that follows
/// rebuilds exactly what the plan said.
#[test]
fn a_dry_run_shows_the_plan_and_changes_nothing() {
    let w = World::new();
    w.arrive("2025-02");
    w.arrive("2025-03");
    w.night();
    // 任城区 resubmits 2025-03; 2025-04 arrives.
    let original = w.data.return_for("370811", "2025-03").unwrap();
    let mut corrected = original.clone();
    corrected.jn101[0].output_ytd += Decimal::from(1_000);
    let name = original.file_name.replace(".xlsx", "(更正).xlsx");
    std::fs::write(w.inbox.join(&name), gongbao::sample::workbook_bytes(&w.data, &corrected).unwrap()).unwrap();
    w.arrive("2025-04");

    let all_files = |out: &Path| -> BTreeMap<String, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if meta.is_dir() {
                    walk(root, &p, acc);
                } else if meta.file_type().is_symlink() {
                    acc.insert(rel, std::fs::read_link(&p).unwrap().display().to_string().into_bytes());
                } else {
                    acc.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        let mut acc = BTreeMap::new();
        walk(out, out, &mut acc);
        acc
    };
    let before = all_files(&w.out);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gongbao"))
        .current_dir(project())
        .args(["run", "--dry-run", "--inbox"])
        .arg(&w.inbox)
        .arg("--reference")
        .arg(&w.reference)
        .arg("--out")
        .arg(&w.out)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan = String::from_utf8(out.stdout).unwrap();
    let line = |period: &str| plan.lines().find(|l| l.trim_start().starts_with(period)).map(str::to_string);
    // 2025-02 is unchanged; 2025-03 has a new return; 2025-04 was never built.
    assert!(line("2025-02").is_none(), "{plan}");
    let p03 = line("2025-03").unwrap_or_else(|| panic!("{plan}"));
    assert!(p03.contains("新增报表") && p03.contains(&name), "{p03}");
    let p04 = line("2025-04").unwrap_or_else(|| panic!("{plan}"));
    assert!(p04.contains("尚未生成过"), "{p04}");
    assert!(plan.contains("将重新生成 2 个报告期"), "{plan}");
    assert_eq!(all_files(&w.out), before, "a dry run changes nothing in the output folder");

    // The same plan through the library, then the real run does what it said.
    let planned = gongbao::run::dry_run(&w.options(&w.out), &Default::default()).unwrap();
    assert_eq!(planned.planned_names(), ["2025-03", "2025-04"]);
    assert_eq!(w.night().rebuilt, planned.planned_names());
    let again = gongbao::run::dry_run(&w.options(&w.out), &Default::default()).unwrap();
    assert!(again.nothing_new());
    assert!(again.to_string().contains("不会改写任何输出"), "{again}");
}
