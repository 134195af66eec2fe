//! Model tests: SQL assertions beside the models (`sql/tests/*.sql`) that return offending rows.
//!
//! ```sql
//! -- model: indicator_values
//! -- severity: error
//! -- description: 全市数等于各县市区之和
//! SELECT … FROM indicator_values … -- every row returned is a failure
//! ```
//!
//! A test runs right after its model is built and before the model is written. A failing
//! `error` test blocks the model's output for the period (nothing is written, the previous
//! output stays, models that read it are not run); a failing `warning` test is only reported.

use std::fmt;
use std::path::PathBuf;

use anyhow::{Result, bail};
use arrow::array::RecordBatch;

/// What a failing test does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TestSeverity {
    /// Blocks publishing the model's output for the period.
    Error,
    /// Reported in the run summary; the output is written.
    Warning,
}

impl TestSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            TestSeverity::Error => "error",
            TestSeverity::Warning => "warning",
        }
    }
}

impl fmt::Display for TestSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The header of a test file.
#[derive(Debug, Clone, PartialEq)]
pub struct TestHeader {
    pub model: String,
    /// 1-based line of the `-- model:` line, for error messages.
    pub model_line: usize,
    pub severity: TestSeverity,
    pub description: String,
}

impl TestHeader {
    /// Reads the leading comment lines: `-- model: <name>`, `-- severity: error|warning`
    /// (default error), `-- description: …`.
    pub fn parse(sql: &str) -> Result<Self> {
        let mut model = None;
        let mut severity = TestSeverity::Error;
        let mut description = String::new();
        for (i, line) in sql.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let Some(c) = t.strip_prefix("--") else { break };
            let c = c.trim();
            if let Some(v) = c.strip_prefix("model:") {
                model = Some((v.trim().to_lowercase(), i + 1));
            } else if let Some(v) = c.strip_prefix("severity:") {
                severity = match v.trim().to_lowercase().as_str() {
                    "error" => TestSeverity::Error,
                    "warning" | "warn" => TestSeverity::Warning,
                    other => bail!("line {}: severity must be `error` or `warning`, not `{other}`", i + 1),
                };
            } else if let Some(v) = c.strip_prefix("description:") {
                description = v.trim().to_string();
            }
        }
        let Some((model, model_line)) = model.filter(|(m, _)| !m.is_empty()) else {
            bail!("a model test needs a `-- model: <model name>` line in its header");
        };
        Ok(TestHeader { model, model_line, severity, description })
    }
}

/// One test file.
#[derive(Debug, Clone)]
pub struct ModelTest {
    /// The file name without `.sql`.
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub header: TestHeader,
    /// Models the test reads besides its own (they must be built before the test runs).
    pub depends_on: Vec<String>,
    /// Warehouse, reference and parameter tables the test reads.
    pub reads: Vec<String>,
}

/// What running one test gave.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    pub name: String,
    pub model: String,
    pub severity: TestSeverity,
    pub description: String,
    /// Rows the assertion returned (each one a failure).
    pub failing_rows: usize,
    /// The first few offending rows, as `column=value, …`.
    pub sample: Vec<String>,
    /// Why the test could not run (a failing test too: it could not vouch for the output).
    pub error: Option<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.failing_rows == 0
    }

    /// A failing error-severity test: the model's output is not published.
    pub fn blocks(&self) -> bool {
        self.severity == TestSeverity::Error && !self.passed()
    }

    /// One line for the run summary.
    pub fn one_line(&self) -> String {
        let what = match &self.error {
            Some(e) => format!("could not run: {e}"),
            None if self.failing_rows == 0 => "passed".to_string(),
            None => format!(
                "{} offending row(s){}",
                self.failing_rows,
                self.sample.first().map(|s| format!(", e.g. {s}")).unwrap_or_default()
            ),
        };
        format!("{} [{}] on {}: {what}", self.name, self.severity, self.model)
    }
}

/// How many sample rows a result keeps.
pub const SAMPLE_ROWS: usize = 5;

/// The first rows of `batches` as `column=value, …` lines.
pub fn sample_rows(batches: &[RecordBatch], n: usize) -> Vec<String> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let formatters: Result<Vec<_>, _> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect();
        let Ok(formatters) = formatters else { continue };
        for row in 0..b.num_rows() {
            if out.len() >= n {
                return out;
            }
            let cells: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .zip(&formatters)
                .map(|(f, fmt)| format!("{}={}", f.name(), fmt.value(row)))
                .collect();
            out.push(cells.join(", "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_header() {
        let h = TestHeader::parse(
            "-- description: 全市数等于各县之和\n--model: Indicator_Values\n-- severity: warning\nSELECT 1",
        )
        .unwrap();
        assert_eq!(h.model, "indicator_values");
        assert_eq!(h.model_line, 2);
        assert_eq!(h.severity, TestSeverity::Warning);
        assert_eq!(h.description, "全市数等于各县之和");
        let h = TestHeader::parse("-- model: x\nSELECT 1").unwrap();
        assert_eq!(h.severity, TestSeverity::Error);
        assert!(TestHeader::parse("SELECT 1").unwrap_err().to_string().contains("-- model:"));
        assert!(
            TestHeader::parse("-- model: x\n-- severity: fatal\nSELECT 1").unwrap_err().to_string().contains("fatal")
        );
    }
}
