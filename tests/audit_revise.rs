//! A period released as final is frozen: a return for it that arrives later is held as a pending
//! revision (reported in the summary, the run ledger and the county's feedback) and applied only
//! by `gongbao run --revise YYYY-MM`, whose bulletin then lists the revised figures.

use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use gongbao::run::{RunControl, RunOptions, RunSummary};
use rust_decimal::Decimal;

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Σ output_ytd of a county's accepted JN101 rows, from the warehouse.
fn output_sum(out: &Path, period: &str, region: &str) -> Decimal {
    let dir = out.join(format!("warehouse/jn101/period={period}/region={region}"));
    let mut sum = Decimal::ZERO;
    for b in gongbao::store::read_dir_batches(&dir).unwrap() {
        let c = b.column_by_name("output_ytd").unwrap().as_primitive::<arrow::datatypes::Decimal128Type>();
        for v in c.iter().flatten() {
            sum += Decimal::from_i128_with_scale(v, 6);
        }
    }
    sum
}

#[test]
fn a_return_for_a_released_period_waits_for_revise() {
    let data = gongbao::sample::generate();
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // 2025-08: every county, every form, no deliberate violation: released as final.
    for r in data.returns_for("2025-08") {
        std::fs::write(inbox.join(&r.file_name), gongbao::sample::workbook_bytes(&data, r).unwrap()).unwrap();
    }
    let out: PathBuf = tmp.path().join("out");
    let mut opts = RunOptions::sample(project(), &out);
    opts.inbox = inbox.clone();
    let run = |revise: &[&str]| -> RunSummary {
        let ctl = RunControl { revise: revise.iter().map(|p| p.parse().unwrap()).collect(), ..Default::default() };
        gongbao::run::run_with(&opts, &ctl).unwrap()
    };
    let s = run(&[]);
    assert_eq!(s.released, ["2025-08"], "the bulletin was published as final");
    let md = std::fs::read_to_string(out.join("bulletins/2025-08/bulletin.md")).unwrap();
    assert!(!md.contains("草稿"));
    let before = output_sum(&out, "2025-08", "370811");
    let bulletin_before = std::fs::read(out.join("bulletins/2025-08/bulletin.md")).unwrap();

    // 任城区 sends a corrected 2025-08 return: held, not used.
    let original = data.return_for("370811", "2025-08").unwrap();
    let mut corrected = original.clone();
    corrected.jn101[0].output_ytd += Decimal::from(5_000);
    let name = original.file_name.replace(".xlsx", "(更正).xlsx");
    std::fs::write(inbox.join(&name), gongbao::sample::workbook_bytes(&data, &corrected).unwrap()).unwrap();
    let s = run(&[]);
    assert!(s.rebuilt.is_empty(), "{:?}", s.rebuilt);
    assert_eq!(s.pending_revisions.len(), 1, "{:?}", s.pending_revisions);
    let p = &s.pending_revisions[0];
    assert_eq!((p.period.as_str(), p.file.as_str(), p.change.as_str()), ("2025-08", name.as_str(), "new"));
    assert_eq!(output_sum(&out, "2025-08", "370811"), before, "the released figures stand");
    assert_eq!(std::fs::read(out.join("bulletins/2025-08/bulletin.md")).unwrap(), bulletin_before);
    // Reported: the ledger, and the county's feedback.
    let ledger = gongbao::ledger::read(&out).unwrap();
    let last = ledger.last().unwrap();
    assert_eq!(last.pending_revisions.len(), 1, "{last:?}");
    assert!(last.pending_revisions[0].contains(&name));
    let note = std::fs::read_to_string(out.join("feedback/2025-08/370811_任城区_修订暂存.md")).unwrap();
    assert!(note.contains(&name) && note.contains("已暂存"), "{note}");

    // Another night: still held, nothing rewritten.
    let s = run(&[]);
    assert!(s.nothing_new && s.pending_revisions.len() == 1, "{:?}", s.rebuilt);

    // --revise 2025-08 applies it; the bulletin lists what moved; the note is gone.
    let s = run(&["2025-08"]);
    assert_eq!(s.rebuilt, ["2025-08"]);
    assert!(s.pending_revisions.is_empty());
    assert_eq!(output_sum(&out, "2025-08", "370811"), before + Decimal::from(5_000));
    assert!(s.superseded.iter().any(|x| x.file == original.file_name && x.by == name), "{:?}", s.superseded);
    let md = std::fs::read_to_string(out.join("bulletins/2025-08/bulletin.md")).unwrap();
    assert!(md.contains("数据修订"), "{}", &md[md.len().saturating_sub(800)..]);
    assert!(!out.join("feedback/2025-08/370811_任城区_修订暂存.md").exists());
    // And the period is frozen again.
    let again = data.return_for("370812", "2025-08").unwrap();
    let mut c2 = again.clone();
    c2.jn101[0].output_ytd += Decimal::from(1_000);
    std::fs::write(
        inbox.join(again.file_name.replace(".xlsx", "(更正).xlsx")),
        gongbao::sample::workbook_bytes(&data, &c2).unwrap(),
    )
    .unwrap();
    let s = run(&[]);
    assert_eq!(s.pending_revisions.len(), 1);
    assert!(s.rebuilt.is_empty());
}
