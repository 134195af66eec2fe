//! A run of one period from an empty output folder peeks at the workbooks of the other periods
//! (the heads of their sheets) instead of reading them whole, and publishes that period as a run
//! whose plan read every workbook whole does; a peek the full read contradicts is corrected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gongbao::incremental::FileCache;
use gongbao::run::{RunControl, RunOptions, RunSummary};

const COUNTIES: &[&str] = &["370811", "370812", "370829"];
const PERIODS: &[&str] = &["2025-07", "2025-08", "2025-09"];

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    inbox: PathBuf,
    data: gongbao::sample::SampleData,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let inbox = root.join("inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        let data = gongbao::sample::generate();
        for period in PERIODS {
            for code in COUNTIES {
                let r = data.return_for(code, period).unwrap();
                std::fs::copy(project().join("sample_data/returns").join(&r.file_name), inbox.join(&r.file_name))
                    .unwrap();
            }
        }
        World { _tmp: tmp, root, inbox, data }
    }

    fn options(&self, out: &str, period: Option<&str>) -> RunOptions {
        let mut o = RunOptions::sample(project(), &self.root.join(out));
        o.inbox = self.inbox.clone();
        o.period = period.map(|p| p.parse().unwrap());
        o
    }

    fn run(&self, out: &str, period: Option<&str>) -> RunSummary {
        gongbao::run::run_with(&self.options(out, period), &RunControl::default()).expect("the run succeeds")
    }
}

/// Every Parquet file of a publication's warehouse under a `period=<period>` folder.
fn parquet_of(out: &Path, period: &str) -> BTreeMap<String, Vec<u8>> {
    let folder = format!("period={period}");
    crate::nights::parquet(out).into_iter().filter(|(k, _)| k.split('/').any(|c| c == folder)).collect()
}

fn peeked(out: &Path) -> usize {
    FileCache::load(out).files.values().filter(|f| f.peeked).count()
}

#[test]
fn a_period_run_peeks_at_the_other_periods_and_publishes_the_same() {
    let w = World::new();
    let files = COUNTIES.len() * PERIODS.len();

    // The reference: a plan that read every workbook whole (a run of the whole inbox), whose
    // `cache/files.json` a run of 2025-09 then finds (nothing new to learn, nothing peeked).
    let whole = w.run("whole", None);
    assert_eq!((whole.files_new, whole.files_opened, whole.files_peeked), (files, files, 0));
    assert_eq!(whole.rebuilt, PERIODS);
    let full = w.root.join("full");
    std::fs::create_dir_all(full.join("cache")).unwrap();
    std::fs::copy(FileCache::path(&w.root.join("whole")), FileCache::path(&full)).unwrap();
    let reference = w.run("full", Some("2025-09"));
    assert_eq!((reference.files_new, reference.files_peeked, reference.files_opened), (0, 0, COUNTIES.len()));

    // From an empty folder: every workbook is peeked at, only 2025-09's are read whole.
    let s = w.run("peek", Some("2025-09"));
    assert_eq!(s.rebuilt, ["2025-09"]);
    assert_eq!((s.files_new, s.files_peeked, s.files_opened), (files, files, COUNTIES.len()));
    assert!(s.period_corrections.is_empty(), "{:?}", s.period_corrections);
    // The periods learned are those of the full reads; 2025-09's are confirmed by its read stage.
    let (learned, read) = (FileCache::load(&w.root.join("peek")), FileCache::load(&w.root.join("whole")));
    let periods = |c: &FileCache| c.files.iter().map(|(k, f)| (k.clone(), f.periods.clone())).collect::<Vec<_>>();
    assert_eq!(periods(&learned), periods(&read));
    assert_eq!(peeked(&w.root.join("peek")), files - COUNTIES.len());

    // The same publication of 2025-09, byte for byte, as the run whose plan read every workbook.
    let (a, b) = (parquet_of(&w.root.join("full"), "2025-09"), parquet_of(&w.root.join("peek"), "2025-09"));
    assert!(a.len() >= 8, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between the peeking run and the run that read every workbook");
    }
    // And as the whole-inbox run published 2025-09, but for the tables that read the earlier
    // periods (cross-period rules, year-to-date and trend models), which a run of one period
    // into an empty folder does not build, peeking or not.
    let earlier = ["audit_summary", "doublings", "findings", "indicator_values", "trend"];
    let whole_09 = parquet_of(&w.root.join("whole"), "2025-09");
    assert_eq!(whole_09.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let table = |k: &str| k.split('/').next().unwrap_or_default().to_string();
    let same: Vec<String> = b.keys().filter(|k| !earlier.contains(&table(k).as_str())).cloned().collect();
    assert!(same.iter().any(|k| k.starts_with("jn101/")) && same.len() > 10, "{same:?}");
    for k in &same {
        assert!(whole_09[k] == b[k], "{k} differs from the whole-inbox run's");
    }

    // A run of the whole inbox reads whole the workbooks only peeked at, and confirms them.
    let s = w.run("peek", None);
    assert_eq!((s.files_new, s.files_peeked, s.files_opened), (0, 0, files - COUNTIES.len()));
    assert!(s.period_corrections.is_empty(), "{:?}", s.period_corrections);
    assert_eq!(peeked(&w.root.join("peek")), 0);
    assert!(w.run("peek", None).nothing_new);
}

/// A workbook whose peek is wrong (a cell beyond the cap below the head of its only sheet: the
/// full read refuses the sheet, and its period is the file name's) is corrected by the read stage
/// of the period it was peeked into, and the next run of that period rebuilds it without it.
#[test]
fn a_wrong_peek_is_corrected_by_the_full_read() {
    let w = World::new();
    let ret = w.data.return_for("370811", "2025-09").unwrap();
    // A cell at XFD1048576 in every sheet: the full read refuses each (beyond the cell cap).
    let bytes = crate::hostile_support::patch_xlsx(&gongbao::sample::workbook_bytes(&w.data, ret).unwrap(), |n, t| {
        if !n.starts_with("xl/worksheets/sheet") {
            return t;
        }
        let far = r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>末格</t></is></c></row></sheetData>"#;
        t.replace("</sheetData>", far)
    });
    let name = "任城区_2025年1-8月_倍增监测报表(补报).xlsx";
    std::fs::write(w.inbox.join(name), bytes).unwrap();

    let s = w.run("out", Some("2025-09"));
    assert_eq!(s.rebuilt, ["2025-09"]);
    let corrected: Vec<_> = s.period_corrections.iter().filter(|c| c.0 == name).collect();
    assert_eq!(corrected.len(), 1, "{:?}", s.period_corrections);
    let cache = FileCache::load(&w.root.join("out"));
    let entry = cache.files.iter().find(|(k, _)| k.ends_with(name)).unwrap().1;
    assert_eq!(corrected[0].2, entry.periods.join(","));
    assert!(!entry.peeked && !entry.periods.contains(&"2025-09".to_string()), "{entry:?}");

    // 2025-09 lost a workbook: rebuilt; then up to date.
    let s = w.run("out", Some("2025-09"));
    assert_eq!(s.rebuilt, ["2025-09"]);
    assert!(s.period_corrections.is_empty());
    assert!(w.run("out", Some("2025-09")).nothing_new);
}
