//! The modelling layer as a statistician uses it: SQL files (and their tests) dropped into a copy
//! of the project's `sql/` at run time, with the real runner. No rebuild between the runs.
//!
//! To keep it fast, the runs read only three counties' 1—9月 workbooks.

use std::fs::File;
use std::path::{Path, PathBuf};

use gongbao::models::{self, TestSeverity, exec};
use gongbao::run::{RunOptions, RunSummary};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::sample_run::copy_dir;

const PERIOD: &str = "2025-09";
const WORKBOOKS: &[&str] = &[
    "任城区_2025年1-9月_倍增监测报表.xlsx",
    "兖州区_2025年1-9月_倍增监测报表.xlsx",
    "曲阜市_2025年1-9月_倍增监测报表.xlsx",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the project (forms, rules, sql with its tests, templates) and a small inbox.
struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("project");
        for dir in ["forms", "rules", "sql", "templates"] {
            copy_dir(&repo().join(dir), &root.join(dir));
        }
        let inbox = tmp.path().join("inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        for w in WORKBOOKS {
            std::fs::copy(repo().join("sample_data/returns").join(w), inbox.join(w)).unwrap();
        }
        Project { _tmp: tmp, root }
    }

    fn sql(&self) -> PathBuf {
        self.root.join("sql")
    }

    fn out(&self) -> PathBuf {
        self.root.parent().unwrap().join("output")
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.sql().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn options(&self) -> RunOptions {
        let mut opts = RunOptions::sample(&self.root, &self.out());
        opts.inbox = self.root.parent().unwrap().join("inbox");
        opts.reference = repo().join("sample_data/reference");
        opts
    }

    fn run(&self) -> RunSummary {
        gongbao::run::run(&self.options()).expect("the run starts")
    }

    fn run_err(&self) -> String {
        format!("{:#}", gongbao::run::run(&self.options()).expect_err("the run refuses the project"))
    }

    fn output(&self, model: &str) -> PathBuf {
        self.out().join("warehouse").join(model).join(format!("period={PERIOD}")).join("part-0.parquet")
    }
}

fn model_error<'a>(s: &'a RunSummary, name: &str) -> Option<&'a str> {
    s.models.iter().find(|m| m.0 == name).unwrap_or_else(|| panic!("model {name} not in the summary")).2.as_deref()
}

fn test_result<'a>(s: &'a RunSummary, name: &str) -> &'a models::TestResult {
    s.model_tests.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("test {name} not in the summary"))
}

const TOP_COUNTIES: &str = "\
-- description: 增加值增速前三的县市区
-- grain: region_code
-- column rank_no BIGINT: 增加值增速位次
-- column region_code TEXT: 县市区代码
-- column name TEXT: 县市区名称
-- column va_growth DOUBLE: 工业增加值增速(%,可比价)
SELECT rank_no, region_code, name, va_growth
FROM county_ranking
WHERE rank_no <= 3
ORDER BY rank_no, region_code
";

/// A new model and two tests for it, dropped into `sql/` at run time: its Parquet output (with
/// the column descriptions in the schema), its test results and its data dictionary entry appear.
#[test]
fn a_new_model_and_its_tests_are_picked_up_without_a_rebuild() {
    let p = Project::new();
    p.write("top_counties.sql", TOP_COUNTIES);
    p.write(
        "tests/top_counties_at_most_three.sql",
        "-- model: top_counties\n-- severity: error\n-- description: 至多三行\n\
         SELECT COUNT(*) AS n FROM top_counties HAVING COUNT(*) > 3\n",
    );
    p.write(
        "tests/top_counties_leader_flagged.sql",
        "-- model: top_counties\n-- severity: warning\n-- description: 第一名单独核实\n\
         SELECT region_code, va_growth FROM top_counties WHERE rank_no = 1\n",
    );
    let s = p.run();

    // The model ran, after the model it reads, and was published.
    let names: Vec<&str> = s.models.iter().map(|m| m.0.as_str()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("county_ranking") < pos("top_counties"), "{names:?}");
    assert_eq!(model_error(&s, "top_counties"), None);
    let rows = s.models.iter().find(|m| m.0 == "top_counties").unwrap().1;
    assert_eq!(rows, 3, "three counties reported");

    // Its tests: the error test passed, the warning test is reported and the output still written.
    let t = test_result(&s, "top_counties_at_most_three");
    assert!(t.passed(), "{t:?}");
    assert_eq!(t.severity, TestSeverity::Error);
    let w = test_result(&s, "top_counties_leader_flagged");
    assert_eq!((w.severity, w.failing_rows, w.error.as_deref()), (TestSeverity::Warning, 1, None));
    assert!(w.sample[0].starts_with("region_code="), "{:?}", w.sample);
    assert!(p.output("top_counties").exists());

    // The project's own tests ran on the real models: the error ones pass (city = Σ counties,
    // shares, unique keys, every code), the county-ranking warning reports the 11 counties absent
    // from this small inbox, and none of that fails the run.
    for name in [
        "indicator_values_city_equals_counties",
        "indicator_values_shares_in_range",
        "indicator_values_unique_keys",
        "indicator_values_city_codes_complete",
        "jn101_cells_unique_cells",
        "trend_one_row_per_period",
        "doublings_targets_present",
    ] {
        let t = test_result(&s, name);
        assert!(t.passed(), "{}", t.one_line());
    }
    let absent = test_result(&s, "county_ranking_every_county_reported");
    assert_eq!((absent.severity, absent.failing_rows), (TestSeverity::Warning, 11));
    assert!(s.models.iter().all(|m| m.2.is_none()), "{:?}", s.models);
    assert_eq!(s.exit_code(false), 0);

    // The Parquet, read with the parquet crate: Hive folder period=2025-09, no period column in
    // the file, the header's meanings as field metadata, the model's description on the schema.
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(p.output("top_counties")).unwrap()).unwrap();
    let schema = builder.schema();
    let fields: Vec<(String, String)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.metadata().get("description").cloned().unwrap_or_default()))
        .collect();
    assert_eq!(
        fields,
        [
            ("rank_no", "增加值增速位次"),
            ("region_code", "县市区代码"),
            ("name", "县市区名称"),
            ("va_growth", "工业增加值增速(%,可比价)")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(schema.field_with_name("rank_no").unwrap().data_type(), &arrow::datatypes::DataType::Int64);
    assert_eq!(schema.metadata().get("gongbao.description").map(String::as_str), Some("增加值增速前三的县市区"));
    let total: usize = builder.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(total, 3);

    let iv = ParquetRecordBatchReaderBuilder::try_new(File::open(p.output("indicator_values")).unwrap()).unwrap();
    let iv_schema = iv.schema();
    assert!(iv_schema.field_with_name("period").is_err(), "the partition column lives in the folder name");
    assert_eq!(
        iv_schema.field_with_name("value").unwrap().metadata().get("description").map(String::as_str),
        Some("数值(全精度,不四舍五入;不可计算时为 NULL)")
    );
    assert_eq!(iv_schema.field_with_name("value").unwrap().data_type(), &arrow::datatypes::DataType::Float64);

    // The data dictionary written by the run has the new model, its columns, lineage and tests.
    let dict = std::fs::read_to_string(p.out().join("docs/data_dictionary.md")).unwrap();
    assert!(dict.contains("### top_counties\n\n增加值增速前三的县市区"), "{dict}");
    assert!(dict.contains("| `va_growth` | DOUBLE | 工业增加值增速(%,可比价) |"), "{dict}");
    assert!(dict.contains("- `top_counties` ← model `county_ranking`"), "{dict}");
    assert!(dict.contains("m_county_ranking --> m_top_counties"), "{dict}");
    assert!(dict.contains("  - `top_counties_leader_flagged` (warning): 第一名单独核实"), "{dict}");
    assert!(dict.contains("### jn101\n"), "{dict}");
    assert!(dict.contains("| `credit_code` | TEXT | 统一社会信用代码(GB 32100) | 统一社会信用代码 |"), "{dict}");
    // Every table of the warehouse is in it, under its own name.
    let tables: Vec<String> = std::fs::read_dir(p.out().join("warehouse"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(tables.len() > 10 && tables.contains(&"audit_summary".to_string()), "{tables:?}");
    for table in &tables {
        assert!(dict.contains(&format!("### {table}\n")), "{table}: {dict}");
    }
    // `gongbao models docs` writes the same file from the same project (no run needed).
    let forms = gongbao::forms::Forms::load(&p.root.join("forms")).unwrap();
    let reference = gongbao::reference::Reference::load(&repo().join("sample_data/reference")).unwrap();
    let defs = models::load(&p.sql(), &exec::base_table_names(&forms, &reference.tables)).unwrap();
    let again = models::docs::data_dictionary(&forms, &reference.tables, &defs, &p.out().join("warehouse"));
    assert_eq!(again, dict);
    let listing = models::docs::listing(&defs, &p.out().join("warehouse"));
    assert!(listing.contains("last build: period=2025-09 at "), "{listing}");
    assert!(
        listing.contains("tests: top_counties_at_most_three (error), top_counties_leader_flagged (warning)"),
        "{listing}"
    );
}

/// Two models reading each other: the run refuses the project, naming both files.
#[test]
fn a_cycle_is_refused_naming_both_files() {
    let p = Project::new();
    p.write("ping.sql", "-- description: ping\nSELECT x FROM pong\n");
    p.write("pong.sql", "-- description: pong\nSELECT x FROM ping\n");
    let e = p.run_err();
    assert!(e.contains("cycle"), "{e}");
    assert!(e.contains(&format!("{} (reads `pong`)", p.sql().join("ping.sql").display())), "{e}");
    assert!(e.contains(&format!("{} (reads `ping`)", p.sql().join("pong.sql").display())), "{e}");
    // Models that only read the cycle are not blamed.
    assert!(!e.contains("indicator_values"), "{e}");

    // A cycle through a test: ping's test reads pong, which reads ping.
    let p = Project::new();
    p.write("ping.sql", "SELECT 1 AS x\n");
    p.write("pong.sql", "SELECT x FROM ping\n");
    p.write("tests/ping_matches_pong.sql", "-- model: ping\nSELECT * FROM ping WHERE x NOT IN (SELECT x FROM pong)\n");
    let e = p.run_err();
    assert!(e.contains("cycle"), "{e}");
    assert!(
        e.contains(&format!("its test {} reads `pong`", p.sql().join("tests/ping_matches_pong.sql").display())),
        "{e}"
    );
}

/// An unknown table: the run refuses the project, naming the file and line; the same for a test
/// of a model that does not exist.
#[test]
fn an_unknown_table_is_refused_naming_file_and_line() {
    let p = Project::new();
    p.write(
        "county_list.sql",
        "-- description: 县市区\n-- column code TEXT: 代码\nSELECT r.code\nFROM regions r\nJOIN region_groups g ON g.code = r.code\n",
    );
    let e = p.run_err();
    assert!(e.contains(&format!("{}:5: table `region_groups`", p.sql().join("county_list.sql").display())), "{e}");

    let p = Project::new();
    p.write("tests/orphan.sql", "-- description: x\n-- model: no_such_model\nSELECT 1\n");
    let e = p.run_err();
    assert!(
        e.contains(&format!(
            "{}:2: `-- model: no_such_model` is not a model",
            p.sql().join("tests/orphan.sql").display()
        )),
        "{e}"
    );

    let p = Project::new();
    p.write("tests/typo.sql", "-- model: trend\nSELECT *\nFROM trend\nWHERE va_growth > (SELECT MAX(x) FROM trnd)\n");
    let e = p.run_err();
    assert!(e.contains(&format!("{}:4: table `trnd`", p.sql().join("tests/typo.sql").display())), "{e}");
}

/// A contract mismatch fails that model with a message naming the columns; the output published
/// by the previous run stays, byte for byte.
#[test]
fn a_contract_mismatch_fails_the_model_and_keeps_the_previous_output() {
    let p = Project::new();
    let first = p.run();
    assert_eq!(model_error(&first, "division_ranking"), None);
    let path = p.output("division_ranking");
    let before = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();

    // Declare `rank` as TEXT (the query gives BIGINT) and a column the query does not produce.
    let sql = std::fs::read_to_string(p.sql().join("division_ranking.sql")).unwrap();
    let broken = sql
        .replace("-- column rank BIGINT:", "-- column rank TEXT:")
        .replace("-- column va_share DOUBLE:", "-- column va_rank_change BIGINT: 位次变化\n-- column va_share DOUBLE:");
    assert_ne!(broken, sql);
    p.write("division_ranking.sql", &broken);
    let second = p.run();
    let e = model_error(&second, "division_ranking").expect("the model fails");
    assert!(e.contains("division_ranking.sql"), "{e}");
    assert!(e.contains("column `rank` is declared TEXT but the query gives Int64"), "{e}");
    assert!(e.contains("declared column `va_rank_change` is missing"), "{e}");
    assert_eq!(second.exit_code(false), 1);
    // The other models were rebuilt and published; this one kept its previous output.
    assert_eq!(model_error(&second, "indicator_values"), None);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
}

/// A failing error-severity test blocks its model's output (the previous output stays, the models
/// reading it are not run) and is reported; the run fails.
#[test]
fn a_failing_error_test_blocks_the_output_and_is_reported() {
    let p = Project::new();
    p.write(
        "top_division.sql",
        "-- description: 第一大行业\n-- column division TEXT: 行业大类\nSELECT division FROM division_ranking WHERE rank = 1\n",
    );
    let first = p.run();
    assert_eq!(model_error(&first, "division_ranking"), None);
    let path = p.output("division_ranking");
    let before = std::fs::read(&path).unwrap();

    // A test no ranking can pass: it returns the first row.
    p.write(
        "tests/division_ranking_strict.sql",
        "-- model: division_ranking\n-- severity: error\n-- description: 示例:总是失败\n\
         SELECT rank, division FROM division_ranking WHERE rank = 1\n",
    );
    let second = p.run();
    let t = test_result(&second, "division_ranking_strict");
    assert_eq!((t.severity, t.failing_rows, t.error.as_deref()), (TestSeverity::Error, 1, None));
    assert!(t.sample[0].starts_with("rank=1, division="), "{:?}", t.sample);
    assert!(
        t.one_line().contains("division_ranking_strict [error] on division_ranking: 1 offending row(s)"),
        "{}",
        t.one_line()
    );
    let e = model_error(&second, "division_ranking").expect("blocked");
    assert!(
        e.contains("not published: error-severity test `division_ranking_strict` returned 1 offending row(s)"),
        "{e}"
    );
    let e = model_error(&second, "top_division").expect("not run");
    assert!(e.contains("not run: model `division_ranking` it reads failed"), "{e}");
    assert_eq!(second.exit_code(false), 1);
    assert_eq!(std::fs::read(&path).unwrap(), before, "the previous output stays");
    // A test that cannot run counts as failing too (for error severity).
    p.write(
        "tests/division_ranking_strict.sql",
        "-- model: division_ranking\nSELECT no_such_column FROM division_ranking\n",
    );
    let third = p.run();
    let t = test_result(&third, "division_ranking_strict");
    assert!(t.error.as_deref().unwrap_or_default().contains("no_such_column"), "{t:?}");
    assert!(model_error(&third, "division_ranking").unwrap().contains("could not run"), "{:?}", third.models);
}

/// The runner itself on a tiny session (no returns at all): independent models run in waves, the
/// results come back in run order and identical from one execution to the next; a `period`
/// column other than the period being built is refused (it would be hidden by the partition).
#[test]
fn models_run_in_waves_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let sql = tmp.path().join("sql");
    std::fs::create_dir_all(sql.join("tests")).unwrap();
    let w = |name: &str, text: &str| std::fs::write(sql.join(name), text).unwrap();
    w("a.sql", "-- column x BIGINT: x\nSELECT CAST(1 AS BIGINT) AS x\n");
    w("b.sql", "-- column x BIGINT: x\nSELECT CAST(2 AS BIGINT) AS x\n");
    w("c.sql", "-- column x BIGINT: a + b\nSELECT a.x + b.x AS x FROM a CROSS JOIN b\n");
    w("d.sql", "SELECT c.x * 10 AS x, p.period_label FROM c CROSS JOIN params p\n");
    w("stale.sql", "SELECT '2020-01' AS period, CAST(1 AS BIGINT) AS x\n");
    w(
        "current.sql",
        "SELECT p.period, COUNT(j.credit_code) AS n FROM params p LEFT JOIN jn101 j ON true GROUP BY p.period\n",
    );
    w("tests/c_is_three.sql", "-- model: c\n-- severity: error\nSELECT x FROM c WHERE x <> 3\n");
    w("tests/d_mentions_b.sql", "-- model: d\n-- severity: warning\nSELECT d.x FROM d CROSS JOIN b WHERE d.x > b.x\n");

    let forms = gongbao::forms::Forms::load(&repo().join("forms")).unwrap();
    let reference = gongbao::reference::Reference::load(&repo().join("sample_data/reference")).unwrap();
    let defs = models::load(&sql, &exec::base_table_names(&forms, &reference.tables)).unwrap();
    let order: Vec<&str> = defs.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(order, ["a", "b", "current", "stale", "c", "d"]);
    assert_eq!(defs[5].tests[0].depends_on, ["b"]);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let execute = || {
        rt.block_on(async {
            let ctx = session(tmp.path(), &forms, &reference).await;
            exec::execute(&ctx, &defs).await
        })
    };
    let runs = execute();
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, order);
    let get = |n: &str| runs.iter().find(|r| r.name == n).unwrap();
    for n in ["a", "b", "c", "d", "current"] {
        assert_eq!(get(n).error, None, "{n}");
    }
    let d = &get("d").batches[0];
    let x = d.column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
    assert_eq!((d.num_rows(), x.value(0)), (1, 30), "d reads c, which reads a and b");
    assert_eq!(get("c").tests[0].failing_rows, 0);
    assert_eq!((get("d").tests[0].severity, get("d").tests[0].failing_rows), (TestSeverity::Warning, 1));
    let e = get("stale").error.as_deref().unwrap();
    assert!(e.contains("column `period` is the partition column") && e.contains("2020-01"), "{e}");

    let again = execute();
    for (x, y) in runs.iter().zip(&again) {
        assert_eq!((&x.name, &x.error, &x.batches, &x.tests), (&y.name, &y.error, &y.batches, &y.tests));
    }
}

/// The indicator tests that ship in `sql/tests/` catch what they claim, on a made-up
/// `indicator_values` with one mistake of each kind.
#[test]
fn the_shipped_indicator_tests_catch_bad_values() {
    let tmp = tempfile::tempdir().unwrap();
    let sql = tmp.path().join("sql");
    std::fs::create_dir_all(sql.join("tests")).unwrap();
    for e in std::fs::read_dir(repo().join("sql/tests")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("indicator_values_") {
            std::fs::copy(&p, sql.join("tests").join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        sql.join("indicator_values.sql"),
        "SELECT * FROM (VALUES
            ('2025-09', '370800', '_T', 'enterprises', 10.0, '个', 'A'),
            ('2025-09', '370811', '_T', 'enterprises', 4.0, '个', 'A'),
            ('2025-09', '370812', '_T', 'enterprises', 5.0, '个', 'A'),
            ('2025-09', '370800', '_T', 'va_share', 120.0, '%', 'A'),
            ('2025-09', '370800', '_T', 'va_share', 100.0, '%', 'A')
        ) AS t(period, region_code, breakdown, indicator, value, unit, status)\n",
    )
    .unwrap();
    let forms = gongbao::forms::Forms::load(&repo().join("forms")).unwrap();
    let reference = gongbao::reference::Reference::load(&repo().join("sample_data/reference")).unwrap();
    let defs = models::load(&sql, &exec::base_table_names(&forms, &reference.tables)).unwrap();
    assert_eq!(defs[0].tests.len(), 4);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let runs = rt.block_on(async {
        let ctx = session(tmp.path(), &forms, &reference).await;
        exec::execute(&ctx, &defs).await
    });
    let run = &runs[0];
    let t = |name: &str| run.tests.iter().find(|t| t.name == name).unwrap();
    let sums = t("indicator_values_city_equals_counties");
    assert_eq!(sums.failing_rows, 1, "{sums:?}");
    assert!(sums.sample[0].contains("indicator=enterprises, city_value=10.0, counties_sum=9.0"), "{:?}", sums.sample);
    let shares = t("indicator_values_shares_in_range");
    assert_eq!(shares.failing_rows, 1, "{shares:?}");
    assert!(shares.sample[0].contains("value=120.0"), "{:?}", shares.sample);
    let keys = t("indicator_values_unique_keys");
    assert_eq!(keys.failing_rows, 1, "{keys:?}");
    assert!(keys.sample[0].contains("indicator=va_share, rows_with_key=2"), "{:?}", keys.sample);
    // 40 codes at _T and 7 codes × 5 doublings, less the two present.
    let codes = t("indicator_values_city_codes_complete");
    assert_eq!(codes.failing_rows, 40 + 35 - 2, "{codes:?}");
    assert!(run.error.as_deref().unwrap().starts_with("not published: error-severity test"), "{:?}", run.error);
    assert!(run.schema.is_none() && run.batches.is_empty());
}

/// The worked example of sql/README.md is the shipped model, word for word.
#[test]
fn the_readme_worked_example_is_the_real_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let model = std::fs::read_to_string(dir.join("division_ranking.sql")).unwrap();
    assert!(
        readme.contains(&format!("```sql\n{model}```\n")),
        "sql/README.md's worked example differs from division_ranking.sql"
    );
}

/// `va_growth` of jn101_cells by (region, breakdown), read from the run's Parquet.
fn va_growth_cells(path: &Path) -> std::collections::BTreeMap<(String, String), Option<f64>> {
    use arrow::array::{Array, AsArray};
    let mut m = std::collections::BTreeMap::new();
    for b in ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap() {
        let b = b.unwrap();
        let text =
            |n: &str| arrow::compute::cast(b.column_by_name(n).unwrap(), &arrow::datatypes::DataType::Utf8).unwrap();
        let (r, k) = (text("region_code"), text("breakdown"));
        let g = b.column_by_name("va_growth").unwrap().as_primitive::<arrow::datatypes::Float64Type>().clone();
        for i in 0..b.num_rows() {
            let key = (r.as_string::<i32>().value(i).to_string(), k.as_string::<i32>().value(i).to_string());
            m.insert(key, (!g.is_null(i)).then(|| g.value(i)));
        }
    }
    m
}

/// Comparable growth over the generator's rows of the three counties, each row deflated by
/// `ppi(industry code)`; None when a row has no index.
fn expected_va_growth(
    rows: &[gongbao::sample::Jn101Row],
    keep: impl Fn(&gongbao::sample::Jn101Row) -> bool,
    ppi: impl Fn(&str) -> Option<f64>,
) -> Option<f64> {
    let f = |d: rust_decimal::Decimal| d.to_string().parse::<f64>().unwrap();
    let (mut cur, mut prev) = (0.0, 0.0);
    for r in rows.iter().filter(|r| keep(r)) {
        cur += f(r.va_ytd) / (ppi(&r.industry_code)? / 100.0);
        prev += f(r.va_prev);
    }
    Some((cur / prev - 1.0) * 100.0)
}

/// Comparable prices by division: a ppi.csv in the older two-column layout deflates everything
/// by its one (all-industry) index; a file with division rows and no `_T` row deflates the cells
/// whose every enterprise has its division's index, and leaves the others without a rate.
#[test]
fn value_added_is_deflated_by_division_and_the_old_ppi_layout_is_all_industry() {
    let data = gongbao::sample::generate();
    let rows: Vec<gongbao::sample::Jn101Row> = data
        .accepted_jn101(PERIOD)
        .filter(|(region, _)| ["370811", "370812", "370881"].contains(region))
        .map(|(_, r)| r.clone())
        .collect();
    let mining = |r: &gongbao::sample::Jn101Row| (6..=12).contains(&r.industry_code[..2].parse::<u32>().unwrap());
    let manufacturing =
        |r: &gongbao::sample::Jn101Row| (13..=43).contains(&r.industry_code[..2].parse::<u32>().unwrap());
    let close = |got: Option<f64>, want: Option<f64>, what: &str| match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9 * w.abs().max(1.0), "{what}: {g} vs {w}"),
        _ => assert_eq!(got, want, "{what}"),
    };
    let reference_with = |ppi_csv: &str| {
        let p = Project::new();
        let reference = p.root.parent().unwrap().join("reference");
        copy_dir(&repo().join("sample_data/reference"), &reference);
        std::fs::write(reference.join("ppi.csv"), ppi_csv).unwrap();
        let mut opts = p.options();
        opts.reference = reference;
        let summary = gongbao::run::run(&opts).expect("the run starts");
        assert_eq!(model_error(&summary, "jn101_cells"), None);
        let cells = va_growth_cells(&p.output("jn101_cells"));
        (p, cells)
    };

    // The older layout: one index, 97.0, for everything.
    let (_p, cells) = reference_with("period,index\n2025-08,98.0\n2025-09,97.0\n");
    let all = |_: &str| Some(97.0);
    close(cells[&("370800".into(), "_T".into())], expected_va_growth(&rows, |_| true, all), "old layout, city");
    close(
        cells[&("370800".into(), "section:C".into())],
        expected_va_growth(&rows, manufacturing, all),
        "old layout, C",
    );

    // Divisions of their own for mining (06, 08, 10) and no _T: mining is deflated division by
    // division; any cell holding another division has no comparable rate.
    let by_division = |code: &str| match &code[..2] {
        "06" => Some(85.0),
        "08" => Some(93.5),
        "10" => Some(101.2),
        _ => None,
    };
    let (_p, cells) = reference_with("period,division,index\n2025-09,06,85.0\n2025-09,08,93.5\n2025-09,10,101.2\n");
    assert!(rows.iter().any(|r| &r.industry_code[..2] == "06") && rows.iter().any(mining));
    let want = expected_va_growth(&rows, mining, by_division);
    assert!(want.is_some());
    close(cells[&("370800".into(), "section:B".into())], want, "divisions, mining");
    // not the same as one index for all mining: the division indices matter
    let one_index = expected_va_growth(&rows, mining, |_| Some(85.0)).unwrap();
    assert!((want.unwrap() - one_index).abs() > 0.01, "{want:?} vs {one_index}");
    close(cells[&("370800".into(), "_T".into())], None, "divisions without _T, city");
    close(cells[&("370800".into(), "section:C".into())], None, "divisions without _T, C");
}

/// What the models read as a form's table of the period (`jn101`: the one file of the period's
/// accepted rows the store stage writes, or the same rows held in memory for a small period) is
/// what a query of the warehouse's county partitions gives: the same columns (names, types,
/// nullability) and the same rows. A form with no rows is
/// an empty table of the same shape. `jn101_all` takes the period from the file, not from the
/// warehouse, which may hold an earlier version of it while the models run (the store stage
/// writes the period's partitions in the background): here a county the period no longer has.
#[test]
fn a_forms_period_file_reads_as_its_county_partitions_do() {
    use gongbao::store::staged::AcceptedRows;
    let tmp = tempfile::tempdir().unwrap();
    let forms = gongbao::forms::Forms::load(&repo().join("forms")).unwrap();
    let reference = gongbao::reference::Reference::load(&repo().join("sample_data/reference")).unwrap();
    let form = forms.forms.iter().find(|f| f.table == "jn101").unwrap();
    let schema = gongbao::ingest::rows::form_schema(form);
    let accepted = tmp.path().join("accepted/jn101.parquet");
    let mut writer = AcceptedRows::create(&accepted, &schema, PERIOD).unwrap();
    let mut held = AcceptedRows::held(&schema, PERIOD);
    // A county's JN101 rows of the sample, also written as its partition of the warehouse.
    let stored = |county: &str| {
        let path = repo().join(format!("sample_data/returns/{county}_2025年1-9月_倍增监测报表.xlsx"));
        let read = gongbao::ingest::read_workbook(&path, &forms, &reference.regions);
        let sheet = read.sheets.iter().find(|s| s.read.form == form.code).expect("a JN101 sheet");
        let sheet = gongbao::ingest::rows::sheet_rows(form, &read, sheet);
        let region = sheet.region_code.clone().unwrap();
        let dir = tmp.path().join(format!("warehouse/jn101/period={PERIOD}/region={region}"));
        gongbao::store::write_partition(&dir, std::slice::from_ref(&sheet.rows), &schema, &["period"]).unwrap();
        (region, sheet.rows)
    };
    let mut rows = 0;
    for county in ["任城区", "兖州区", "曲阜市"] {
        let (region, batch) = stored(county);
        writer.write(&region, &batch).unwrap();
        held.write(&region, &batch).unwrap();
        rows += batch.num_rows();
    }
    let sources = [writer.close().unwrap(), held.close().unwrap()];
    assert!(rows > 30, "{rows}");
    // An earlier version of the period in the warehouse: a county with rows the file has not.
    let (stale, _) = stored("邹城市");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for source in sources {
        rt.block_on(async {
            let jn101 = |table: &str| (table == "jn101").then(|| source.clone());
            let ctx = session_with(tmp.path(), &forms, &reference, jn101).await;
            let query = |sql: String| {
                let ctx = ctx.clone();
                async move {
                    let df = ctx.sql(&sql).await.unwrap();
                    let schema = df.schema().as_arrow().clone();
                    let batches = df.collect().await.unwrap();
                    (schema, arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string())
                }
            };
            for table in ["jn101", "jn102", "jn103", "jn104"] {
                // A total order: the sample repeats a credit code within a return (JN101-E07), and
                // the two sides may meet those rows in either order.
                let order = if table == "jn101" { " ORDER BY region, credit_code, _row_key" } else { "" };
                let (period_schema, period_rows) = query(format!("SELECT * FROM {table}{order}")).await;
                // The warehouse as stored, less the stale county.
                let stored =
                    format!("SELECT * FROM _{table}_stored WHERE period = '{PERIOD}' AND region <> '{stale}'{order}");
                let (stored_schema, stored_rows) = query(stored).await;
                assert_eq!(period_schema, stored_schema, "{table}");
                assert_eq!(period_rows, stored_rows, "{table}");
                let (all_schema, all_rows) =
                    query(format!("SELECT * FROM {table}_all WHERE period = '{PERIOD}'{order}")).await;
                assert_eq!(period_schema, all_schema, "{table}");
                assert_eq!(period_rows, all_rows, "{table}: the period's rows in {table}_all");
                let n = period_rows.lines().filter(|l| l.starts_with("| ")).count().saturating_sub(1);
                assert_eq!(n, if table == "jn101" { rows } else { 0 }, "{table}: {period_rows}");
            }
        });
    }
}

/// The models' session over `dir`: its warehouse (`dir/warehouse`) and the period's accepted rows
/// of each form (`dir/accepted/<table>.parquet`, where there is one), no submissions.
async fn session(
    dir: &Path,
    forms: &gongbao::forms::Forms,
    reference: &gongbao::reference::Reference,
) -> datafusion::prelude::SessionContext {
    let accepted = |table: &str| {
        Some(gongbao::store::staged::Accepted::File(dir.join("accepted").join(format!("{table}.parquet"))))
    };
    session_with(dir, forms, reference, accepted).await
}

/// [`session`], the period's accepted rows where `accepted` says.
async fn session_with(
    dir: &Path,
    forms: &gongbao::forms::Forms,
    reference: &gongbao::reference::Reference,
    accepted: impl Fn(&str) -> Option<gongbao::store::staged::Accepted>,
) -> datafusion::prelude::SessionContext {
    exec::warehouse_session(
        &dir.join("warehouse"),
        forms,
        &reference.tables,
        PERIOD.parse().unwrap(),
        exec::submissions_batch(&[]),
        accepted,
        &gongbao::models::pool::QueryMemory::new(gongbao::memory::Budgets::default().query_bytes, &dir.join("spill")),
    )
    .await
    .unwrap()
}
