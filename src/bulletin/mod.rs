//! Bulletin rendering: model outputs → the monthly bulletin in Markdown (minijinja template).
//!
//! The template (`templates/bulletin.md.j2`, edited by the statistician) sees:
//!
//! | name | what |
//! |---|---|
//! | `models.<name>` | every model's output for the period, as a list of row maps (`models.county_ranking`, …) |
//! | `ind(region, breakdown, indicator)` | a value of `indicator_values` (a number, or none when missing) |
//! | `period` `year` `month` | `2025-09`, 2025, 9 |
//! | `period_label` `full_label` | `1—9月`, `2025年1—9月` |
//! | `city` | `370800` |
//! | `office` `issued_on` | `济宁市统计局`, `2025年10月15日` |
//! | `draft` | true when a county's form is missing or errors are unresolved (the title then carries （草稿）) |
//! | `audit` | `accepted`, `quarantined`, `findings_errors`, `findings_warnings`, `missing` (county names) |
//! | `charts.<name>` | `src`, `alt` of each chart drawn for the period (`trend`, `doublings_progress`, `county_va_growth`; absent when its model is) |
//!
//! and the filters `growth`, `pct1`, `pct(dp)`, `num(dp)`, `yi(dp)`, `wan(dp)`, `wanren`,
//! `int(sep)` of [`format`]. Undefined names are errors (strict mode), so a misspelt column
//! fails the run instead of printing nothing; a bare `{{ x }}` whose value is none prints `—`.
//!
//! **One template, two outputs.** [`render`] renders the template to Markdown, parses that
//! Markdown into blocks ([`document`]) and lays them out with `templates/bulletin.typ` into a PDF
//! ([`pdf`], typst as a library); [`write`] puts `bulletin.md`, `bulletin.pdf` and the charts
//! ([`charts`]) in `bulletins/YYYY-MM/`, each file atomically. Suppressed figures (disclosure
//! control, `crate::disclosure`) print as `…` in both.
//!
//! **Escaping.** Every text cell of every model is Markdown-escaped when it is converted (see
//! [`values`]), so text from the county returns (project and enterprise names) can never inject
//! Markdown or HTML into the bulletin, whatever the template does with it.

pub mod charts;
pub mod document;
pub mod format;
pub mod pdf;
pub mod revisions;
pub mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use arrow::record_batch::RecordBatch;
use chrono::Datelike;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use crate::period::Period;
use crate::reference::CITY_CODE;

/// What the audit says about the period, for the bulletin's draft marker and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Rows accepted into the warehouse.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Error (强制性) findings not yet corrected by a resubmission.
    pub findings_errors: u64,
    /// Warning (核实性) findings.
    pub findings_warnings: u64,
    /// Counties missing a form for the period, e.g. `微山县(JN103)` or just `微山县`.
    pub missing: Vec<String>,
    /// City figures revised since the last publication (`revisions` in the template).
    pub revisions: Vec<RevisedFigure>,
}

/// A published figure that changed since the last publication (a county resubmitted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisedFigure {
    /// Indicator code, with its breakdown unless `_T`: `va_growth`, `va_growth(section:C)`.
    pub what: String,
    pub old: String,
    pub new: String,
}

impl AuditSummary {
    /// A bulletin is a draft while a county's return is missing or errors are unresolved.
    pub fn is_draft(&self) -> bool {
        !self.missing.is_empty() || self.findings_errors > 0
    }
}

pub struct BulletinInput<'a> {
    /// `2025-09`.
    pub period: &'a str,
    /// Every model's output for the period, by model name.
    pub models: &'a BTreeMap<String, Vec<RecordBatch>>,
    pub audit: AuditSummary,
    /// Date printed on the bulletin.
    pub issued_on: chrono::NaiveDate,
    /// `济宁市统计局`.
    pub office: String,
}

/// Renders the bulletin template at `template` (other templates it includes are looked up in
/// the same folder) for `input`.
pub fn render_markdown(template: &Path, input: &BulletinInput) -> Result<String> {
    let dir = template.parent().unwrap_or_else(|| Path::new("."));
    let name = template
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("template path {} has no file name", template.display()))?;
    let mut env = environment();
    env.set_loader(minijinja::path_loader(dir));
    let tmpl =
        env.get_template(name).with_context(|| format!("cannot load the bulletin template {}", template.display()))?;
    let ctx = context(input, &[])?;
    let out = tmpl.render(ctx).map_err(|e| anyhow!("rendering {} failed: {}", template.display(), describe(&e)))?;
    Ok(tidy(&out))
}

/// The same as [`render_markdown`], from template source (tests, previews).
pub fn render_markdown_str(source: &str, input: &BulletinInput) -> Result<String> {
    let env = environment();
    let ctx = context(input, &[])?;
    let out = env
        .render_named_str("bulletin.md.j2", source, ctx)
        .map_err(|e| anyhow!("rendering the bulletin failed: {}", describe(&e)))?;
    Ok(tidy(&out))
}

/// minijinja's error with its template location and source context.
fn describe(e: &minijinja::Error) -> String {
    let mut s = format!("{e:#}");
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(&format!("\ncaused by: {cause}"));
        src = cause.source();
    }
    s
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // A bare `{{ x }}` of a missing value prints the bulletin's "cannot be computed" symbol,
    // never `None`.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            out.write_str(format::MISSING).map_err(minijinja::Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.add_filter("growth", |v: Value| format::growth(&v));
    env.add_filter("pct1", |v: Value| format::pct1(&v));
    env.add_filter("pct", |v: Value, dp: Option<u32>| format::pct(&v, dp));
    env.add_filter("num", |v: Value, dp: Option<u32>| format::num(&v, dp));
    env.add_filter("yi", |v: Value, dp: Option<u32>| format::yi(&v, dp));
    env.add_filter("wan", |v: Value, dp: Option<u32>| format::wan(&v, dp));
    env.add_filter("wanren", |v: Value| format::wanren(&v));
    env.add_filter("int", |v: Value, sep: Option<String>| format::int(&v, sep.as_deref()));
    env
}

/// `(region, breakdown, indicator)` → value, from the `indicator_values` model; a value
/// suppressed by disclosure control (status `C`) is `Err(())`.
type IndicatorIndex = HashMap<(String, String, String), std::result::Result<Option<f64>, ()>>;

fn indicator_index(models: &BTreeMap<String, Vec<RecordBatch>>) -> Result<IndicatorIndex> {
    let mut index = HashMap::new();
    // Without it every figure of the bulletin would print as —: refuse instead.
    let Some(batches) = models.get("indicator_values") else {
        bail!("the model `indicator_values` is missing (did it fail?): the bulletin cannot be written without it");
    };
    for batch in batches {
        let col = |name: &str| {
            batch.column_by_name(name).ok_or_else(|| anyhow!("model indicator_values has no column `{name}`"))
        };
        let (region, breakdown, indicator, value) =
            (col("region_code")?, col("breakdown")?, col("indicator")?, col("value")?);
        let status = batch.column_by_name("status");
        for row in 0..batch.num_rows() {
            let key = (
                values::text_cell(region, row).unwrap_or_default(),
                values::text_cell(breakdown, row).unwrap_or_default(),
                values::text_cell(indicator, row).unwrap_or_default(),
            );
            let confidential = status.is_some_and(|s| values::text_cell(s, row).as_deref() == Some("C"));
            index.insert(key, if confidential { Err(()) } else { Ok(values::number_cell(value, row)) });
        }
    }
    Ok(index)
}

fn context(input: &BulletinInput, charts: &[charts::Chart]) -> Result<Value> {
    let period: Period = input.period.parse()?;
    let index = Arc::new(indicator_index(input.models)?);

    let models: BTreeMap<String, Value> =
        input.models.iter().map(|(name, batches)| (name.clone(), values::rows_value(batches))).collect();

    let ind = {
        let index = Arc::clone(&index);
        // Keys may arrive escaped (taken from a model's text column): unescape before lookup.
        move |region: String, breakdown: String, indicator: String| -> Value {
            let key = (
                values::unescape_markdown(&region),
                values::unescape_markdown(&breakdown),
                values::unescape_markdown(&indicator),
            );
            match index.get(&key) {
                Some(Ok(Some(v))) if v.is_finite() => Value::from(*v),
                Some(Err(())) => Value::from(format::SUPPRESSED),
                _ => Value::from(()),
            }
        }
    };

    let audit = &input.audit;
    let missing: Vec<Value> = audit.missing.iter().map(|m| Value::from(values::escape_markdown(m))).collect();
    let audit_value = Value::from_iter([
        ("accepted", Value::from(audit.accepted)),
        ("quarantined", Value::from(audit.quarantined)),
        ("findings_errors", Value::from(audit.findings_errors)),
        ("findings_warnings", Value::from(audit.findings_warnings)),
        ("missing", Value::from(missing)),
    ]);
    let revisions = Value::from_serialize(&audit.revisions);

    let d = input.issued_on;
    Ok(Value::from_iter([
        ("models", Value::from(models)),
        ("revisions", revisions),
        ("ind", Value::from_function(ind)),
        ("period", Value::from(period.to_string())),
        ("year", Value::from(period.year)),
        ("month", Value::from(period.month)),
        ("period_label", Value::from(period.label())),
        ("full_label", Value::from(period.full_label())),
        ("city", Value::from(CITY_CODE)),
        ("office", Value::from(values::escape_markdown(&input.office))),
        ("issued_on", Value::from(format!("{}年{}月{}日", d.year(), d.month(), d.day()))),
        ("draft", Value::from(audit.is_draft())),
        ("audit", audit_value),
        ("charts", charts_value(charts)),
    ]))
}

/// `charts.<name>` = `{src: "charts/<file>", alt}` (alt Markdown-escaped: it names counties).
fn charts_value(charts: &[charts::Chart]) -> Value {
    let map: BTreeMap<String, Value> = charts
        .iter()
        .map(|c| {
            let v = Value::from_iter([
                ("src", Value::from(format!("{CHARTS_DIR}/{}", c.file))),
                ("alt", Value::from(values::escape_markdown(&c.alt))),
            ]);
            (c.name.to_string(), v)
        })
        .collect();
    Value::from(map)
}

/// The charts' folder, beside the bulletin.
pub const CHARTS_DIR: &str = "charts";

/// Everything of one period's bulletin, rendered.
pub struct Rendered {
    pub markdown: String,
    pub pdf: Vec<u8>,
    /// Pages of the PDF.
    pub pages: usize,
    pub charts: Vec<charts::Chart>,
    /// Problems worth a statistician's attention (characters no font has, typst warnings).
    pub warnings: Vec<String>,
}

/// Where the bulletin's templates and fonts are.
#[derive(Debug, Clone)]
pub struct Templates {
    /// `templates/bulletin.md.j2`: the one template the statistician edits.
    pub markdown: std::path::PathBuf,
    /// `templates/bulletin.typ`: the PDF's page layout.
    pub layout: std::path::PathBuf,
    /// `fonts/`: the bundled CJK fonts.
    pub fonts: std::path::PathBuf,
    /// Use only the bundled fonts, even when full system CJK fonts are installed (tests).
    pub bundled_fonts_only: bool,
}

impl Templates {
    /// The usual places under the project folder. A project folder without `fonts/` (a copy
    /// of only some folders, as tests make) uses the fonts of the source tree it was built from.
    pub fn in_project(project: &Path) -> Templates {
        let fonts = project.join("fonts");
        let fonts = if fonts.is_dir() { fonts } else { Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts") };
        Templates {
            markdown: project.join("templates/bulletin.md.j2"),
            layout: project.join("templates/bulletin.typ"),
            fonts,
            bundled_fonts_only: false,
        }
    }
}

/// Renders the bulletin of `input`: charts, Markdown, and the PDF laid out from that Markdown.
pub fn render(t: &Templates, input: &BulletinInput) -> Result<Rendered> {
    let period: Period = input.period.parse()?;
    let index = indicator_index(input.models)?;
    let city_growth = match index.get(&(CITY_CODE.to_string(), "_T".to_string(), "va_growth".to_string())) {
        Some(Ok(v)) => *v,
        _ => None,
    };
    let charts = charts::build(input.models, &period.full_label(), city_growth)
        .map_err(|e| anyhow!("the bulletin's charts could not be drawn: {e}"))?;

    let dir = t.markdown.parent().unwrap_or_else(|| Path::new("."));
    let name = t
        .markdown
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("template path {} has no file name", t.markdown.display()))?;
    let mut env = environment();
    env.set_loader(minijinja::path_loader(dir));
    let tmpl = env
        .get_template(name)
        .with_context(|| format!("cannot load the bulletin template {}", t.markdown.display()))?;
    let out = tmpl
        .render(context(input, &charts)?)
        .map_err(|e| anyhow!("rendering {} failed: {}", t.markdown.display(), describe(&e)))?;
    let markdown = tidy(&out);

    let doc = document::parse(&markdown, input.audit.is_draft(), &input.office);
    let fonts = if t.bundled_fonts_only { pdf::Fonts::bundled(&t.fonts)? } else { pdf::Fonts::load(&t.fonts)? };
    let mut warnings = Vec::new();
    let mut text = doc.text();
    for c in &charts {
        text.push_str(&c.svg);
    }
    let missing = pdf::missing_glyphs(&fonts, &text);
    if !missing.is_empty() {
        let list: String =
            missing.iter().map(|c| format!("「{c}」(U+{:04X})", *c as u32)).collect::<Vec<_>>().join("、");
        warnings.push(format!(
            "公报中有字体缺少的字符，PDF 中将无法正常显示：{list}；请安装完整的思源/Noto CJK 字体或扩充 fonts/ 子集"
        ));
    }
    let layout = std::fs::read_to_string(&t.layout)
        .with_context(|| format!("cannot read the bulletin layout {}", t.layout.display()))?;
    let data = serde_json::to_vec(&doc)?;
    let files: BTreeMap<String, Vec<u8>> =
        charts.iter().map(|c| (format!("{CHARTS_DIR}/{}", c.file), c.svg.clone().into_bytes())).collect();
    let (pdf, pages, typst_warnings) =
        pdf::compile_pdf(&layout, &data, &files, &fonts, input.issued_on, &format!("gongbao-bulletin-{period}"))?;
    warnings.extend(typst_warnings.into_iter().map(|w| format!("typst: {w}")));
    for w in &warnings {
        tracing::warn!("bulletin {period}: {w}");
    }
    Ok(Rendered { markdown, pdf, pages, charts, warnings })
}

/// Writes `bulletin.md`, `bulletin.pdf` and `charts/*.svg` into `dir` (`bulletins/YYYY-MM`),
/// each atomically; the charts first, the Markdown last. Returns the Markdown's path.
pub fn write(dir: &Path, r: &Rendered) -> Result<std::path::PathBuf> {
    for c in &r.charts {
        crate::store::write_bytes(&dir.join(CHARTS_DIR).join(&c.file), c.svg.as_bytes())?;
    }
    crate::store::write_bytes(&dir.join("bulletin.pdf"), &r.pdf)?;
    let md = dir.join("bulletin.md");
    crate::store::write_bytes(&md, r.markdown.as_bytes())?;
    Ok(md)
}

/// Collapses runs of blank lines left by template control blocks and ends with one newline.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
