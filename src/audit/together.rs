//! A form's row rules evaluated in one pass over its rows.
//!
//! Run one at a time, each row rule costs two queries (its offending rows, then the rows it
//! could not be evaluated on), and a small period's audit is mostly the planning of those
//! queries. Here one query computes every rule's condition and message values over the form's
//! rows; each batch it streams is split, rule by rule, into the rows where the condition is true
//! (kept, with that rule's columns under their own names) and the rows where it is NULL
//! (counted per county). Memory stays that of a batch plus the offending rows, as before.
//!
//! The result is that of [`super::RowSql`] rule by rule: the same rows, columns and order
//! (by `_row_key`), the same counts. Whenever the pass cannot give that (a rule whose SQL is not
//! valid, a condition that is not boolean, a value that fails on some row, two columns of one
//! rule under one name), it fails as a whole and the caller runs the rules one by one, with the
//! narrowing down of failing rows that only that path does.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Result, bail};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::rules::Rule;
use super::{Evaluated, RowSql};

/// Every rule of `rules` (row rules of one form) over `table`, in one pass, in their order.
pub(super) async fn evaluate(ctx: &SessionContext, rules: &[&Rule], table: &str) -> Result<Vec<Evaluated>> {
    let queries: Vec<RowSql> = rules.iter().map(|r| RowSql::new(r)).collect();
    let mut select = vec!["region_code AS \"__region\"".to_string()];
    for (k, q) in queries.iter().enumerate() {
        let mut names: Vec<&str> = q.columns.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            bail!("rule {}: two of its columns have one name", rules[k].id);
        }
        select.push(format!("({}) AS \"__w{k}\"", q.when));
        select.extend(q.columns.iter().enumerate().map(|(j, c)| format!("{} AS \"__c{k}_{j}\"", c.expr)));
    }
    let sql = format!("SELECT {} FROM {}", select.join(", "), RowSql::source(table));
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    // Checked on the plan, not on the rows: a table with no rows must fail as the rule does.
    let schema = stream.schema();
    let mut at = 1;
    for (k, q) in queries.iter().enumerate() {
        if schema.field(at).data_type() != &DataType::Boolean {
            bail!("rule {}: the condition is not a boolean", rules[k].id);
        }
        at += 1 + q.columns.len();
    }
    let mut hits: Vec<Vec<RecordBatch>> = vec![Vec::new(); rules.len()];
    let mut unknown: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); rules.len()];
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let regions = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        let regions = regions.as_string::<i32>();
        // The columns of rule k start after the region and the columns of the rules before it
        // (a condition and the rule's own columns each).
        let mut at = 1;
        for (k, q) in queries.iter().enumerate() {
            let when = batch.column(at).as_boolean();
            if when.null_count() > 0 {
                for i in (0..batch.num_rows()).filter(|i| when.is_null(*i)) {
                    let region = if regions.is_null(i) { "" } else { regions.value(i) };
                    *unknown[k].entry(region.to_string()).or_insert(0) += 1;
                }
            }
            let columns = at + 1..at + 1 + q.columns.len();
            if when.true_count() > 0 {
                let fields: Vec<Field> = q
                    .columns
                    .iter()
                    .zip(columns.clone())
                    .map(|(c, i)| batch.schema().field(i).clone().with_name(c.name.clone()))
                    .collect();
                let own = RecordBatch::try_new(
                    Arc::new(Schema::new(fields)),
                    columns.clone().map(|i| batch.column(i).clone()).collect(),
                )?;
                hits[k].push(arrow::compute::filter_record_batch(&own, when)?);
            }
            at = columns.end;
        }
    }
    // Each rule's rows in the order its own query gives them (`ORDER BY _row_key`).
    let mut out = Vec::with_capacity(rules.len());
    for (rows, unknown) in hits.into_iter().zip(unknown) {
        let hits = match rows.first() {
            None => Vec::new(),
            Some(first) => {
                let all = arrow::compute::concat_batches(&first.schema(), &rows)?;
                let order = arrow::compute::sort_to_indices(all.column(0), None, None)?;
                vec![arrow::compute::take_record_batch(&all, &order)?]
            }
        };
        out.push(Evaluated { hits, unknown, failed_rows: None });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! The pass together against the rules run one by one (the path it replaces, the oracle
    //! here), on generated tables and rule sets: safe rules, rules whose SQL is not valid or not
    //! boolean, and rules or message values that fail on some rows only.
    use std::path::Path;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

    use super::*;
    use crate::audit::format;
    use crate::audit::rules::RuleFile;
    use crate::forms::Forms;
    use crate::models::exec::register_mem;
    use crate::models::pool::QueryMemory;
    use crate::period::Period;
    use crate::sample::rng::Rng;

    /// Conditions that never fail, whatever the row.
    const SAFE: &[&str] = &[
        "a > 2",
        "a IS NULL",
        "b < 0.5 OR a = 0",
        "a + 1 > b",
        "s LIKE 'x%'",
        "TRY_CAST(s AS INT) > 3",
        "regexp_like(s, '^[0-9]+$')",
        "report_month = 9 AND a < 0",
        "NOT (region_code = 'R1')",
        "true",
        "false",
        "a > 1 AND NULL",
    ];
    /// Conditions that fail on some rows (a letter in `s`), always (no such column), or are
    /// not a condition.
    const UNSAFE: &[&str] = &["CAST(s AS INT) > 3", "no_such_column > 1", "a", "CAST(s AS INT) IS NULL OR a > 0"];

    fn table(rng: &mut Rng, n: usize) -> RecordBatch {
        // Keys in a shuffled order, so that the order of the offending rows is the pass's work.
        let mut keys: Vec<String> = (0..n).map(|i| format!("k{i:06}")).collect();
        for i in (1..keys.len()).rev() {
            keys.swap(i, rng.below(i + 1));
        }
        let region: Vec<Option<&str>> =
            (0..n).map(|_| rng.chance(0.95).then(|| *rng.pick(&["R1", "R2", "R3"]))).collect();
        let a: Vec<Option<i64>> = (0..n).map(|_| rng.chance(0.9).then(|| rng.range(-5, 5))).collect();
        let b: Vec<Option<f64>> = (0..n).map(|_| rng.chance(0.9).then(|| rng.uniform(-1.0, 6.0))).collect();
        let mut s: Vec<Option<String>> = (0..n).map(|_| rng.chance(0.9).then(|| rng.range(0, 9).to_string())).collect();
        // A letter in a few rows of some tables: where a CAST fails.
        if n > 0 && rng.chance(0.4) {
            for _ in 0..rng.range(1, 3) {
                s[rng.below(n)] = Some("x7".into());
            }
        }
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("_row_key", Arc::new(StringArray::from(keys))),
            ("region_code", Arc::new(StringArray::from(region))),
            ("a", Arc::new(Int64Array::from(a))),
            ("b", Arc::new(Float64Array::from(b))),
            ("s", Arc::new(StringArray::from(s))),
        ];
        RecordBatch::try_from_iter(columns).unwrap()
    }

    /// A rule set: its TOML and whether every rule is safe (conditions and message values).
    fn rules(rng: &mut Rng) -> (Vec<Rule>, bool) {
        let mut safe = true;
        let mut text = String::from("form = \"JN101\"\n");
        for k in 0..rng.range(1, 7) {
            let when = if rng.chance(0.8) {
                *rng.pick(SAFE)
            } else {
                safe = false;
                *rng.pick(UNSAFE)
            };
            text += &format!("[[rule]]\nid = \"R{k}\"\nseverity = \"error\"\nwhen = \"{when}\"\n");
            text += &format!("fields = {}\n", rng.pick(&["[\"a\"]", "[\"b\", \"s\"]", "[\"s\", \"a\"]"]));
            if rng.chance(0.4) {
                text += "cell = \"CASE WHEN a > 0 THEN 'a' ELSE 'b' END\"\n";
            }
            let message = match rng.below(4) {
                0 => "a is {a}",
                1 => "{a} and {b}, twice {twice}",
                2 => "{s}: {t}",
                _ => "nothing to say",
            };
            if message.contains("{twice}") {
                text += "values = { twice = \"a * 2\" }\n";
            }
            if message.contains("{t}") {
                // Fails on a row whose `s` has a letter, offending or not.
                safe = false;
                text += "values = { t = \"CAST(s AS INT) + 1\" }\n";
            }
            text += &format!("message = \"{message}\"\n");
        }
        let file: RuleFile = toml::from_str(&text).unwrap();
        (file.rules, safe)
    }

    /// What a rule's evaluation gave, as text: each offending row's columns (name = value), the
    /// counts of rows not evaluable, the rows it failed on; or its error.
    fn shown(r: &Result<Evaluated>) -> String {
        match r {
            Err(e) => format!("error: {e:#}"),
            Ok(ev) => {
                let mut out = String::new();
                for b in &ev.hits {
                    for i in 0..b.num_rows() {
                        for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                            out += &format!("{}={} ", f.name(), format::cell(c, i));
                        }
                        out += "\n";
                    }
                }
                format!("{out}unknown {:?}\nfailed {:?}", ev.unknown, ev.failed_rows)
            }
        }
    }

    /// Each rule's results the same, or the first line that differs.
    fn same(got: &[String], want: &[String], case: usize, what: &str) {
        assert_eq!(got.len(), want.len(), "case {case}: {what}: number of rules");
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            if let Some((n, (a, b))) = g.lines().zip(w.lines()).enumerate().find(|(_, (a, b))| a != b) {
                panic!("case {case}: {what}, rule {k}, line {n}:\n{a}\nagainst one by one:\n{b}");
            }
            assert_eq!(g.lines().count(), w.lines().count(), "case {case}: {what}, rule {k}: number of lines");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_pass_together_gives_what_the_rules_give_one_by_one() {
        let forms = Forms::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).unwrap();
        let form = forms.get("JN101").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng::stream("audit rules together");
        let (mut together_used, mut cases) = (0, 0);
        for case in 0..40 {
            let n = match case % 4 {
                0 => 0,
                1 => rng.below(50),
                _ => rng.below(3_000),
            };
            let rows = table(&mut rng, n);
            let ctx = crate::models::exec::new_session(&QueryMemory::new(1 << 30, dir.path())).unwrap();
            let params = crate::models::exec::params_batch(Period::new(2025, 9).unwrap());
            register_mem(&ctx, "params", params.schema(), vec![params]).unwrap();
            // In several batches over two partitions: the pass streams them.
            let batches: Vec<RecordBatch> = (0..n).step_by(700).map(|at| rows.slice(at, (n - at).min(700))).collect();
            let half = batches.len() / 2;
            let parts = vec![batches[..half].to_vec(), batches[half..].to_vec()];
            let raw = datafusion::datasource::MemTable::try_new(rows.schema(), parts).unwrap();
            ctx.register_table("jn101_raw", Arc::new(raw)).unwrap();
            let (rules, safe) = rules(&mut rng);
            let mut one_by_one = Vec::new();
            for (i, rule) in rules.iter().enumerate() {
                one_by_one.push(shown(&super::super::evaluate(&ctx, form, rule, i).await));
            }
            let own: Vec<&Rule> = rules.iter().collect();
            match evaluate(&ctx, &own, "jn101_raw").await {
                Ok(evaluated) => {
                    together_used += 1;
                    let evaluated: Vec<String> = evaluated.into_iter().map(|e| shown(&Ok(e))).collect();
                    same(&evaluated, &one_by_one, case, "the pass together");
                }
                Err(e) => assert!(!safe, "case {case}: safe rules failed together: {e:#}"),
            }
            // And the audit's own entry, which falls back to one by one when the pass fails.
            let all = super::super::evaluate_all(&ctx, rules.iter().map(|r| (form, r)).collect()).await;
            let all: Vec<String> = all.iter().map(|(_, _, r)| shown(r)).collect();
            same(&all, &one_by_one, case, "the audit's entry");
            cases += 1;
        }
        // Most rule sets are safe: the pass together, not the fallback, was compared.
        assert!(together_used >= cases / 3, "the pass together was used in {together_used} of {cases} cases");
        eprintln!("the pass together was used in {together_used} of {cases} cases");
    }
}
