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
//! | `draft` | true when a county's form is missing, errors are unresolved or an audit rule could not be evaluated (the title then carries （草稿）) |
//! | `audit` | `accepted`, `quarantined`, `findings_errors`, `findings_warnings`, `missing` (county names), `rules_not_evaluated` (rule ids) |
//! | `charts.<name>` | `src`, `alt` of each chart drawn for the period (`trend`, `doublings_progress`, `county_va_growth`; absent when its model is) |
//! | `revisions` | the city figures revised since the last publication ([`revisions`]): `what`, `old`, `new` |
//! | `profit(ytd, change, growth)` | the profit clause, worded by the signs of the two years ([`format::profit`]) |
//! | `symbols_used()` | the symbols (`—`, `…`) the filters have printed so far: the notes define only those |
//!
//! and the filters `growth`, `pct1`, `pct(dp)`, `num(dp)`, `yi(dp)`, `wan(dp)`, `wanren`,
//! `int(sep)`, `published(dp)` of [`format`]. Undefined names are errors (strict mode), so a misspelt column
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
pub mod names;
pub mod pdf;
pub mod revisions;
pub mod values;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

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
    /// Audit rules that could not be evaluated this period (their rows are not fully checked).
    #[serde(default)]
    pub rules_not_evaluated: Vec<String>,
}

/// A published figure that changed since the last publication (a county resubmitted), as the
/// bulletin prints it ([`revisions`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisedFigure {
    /// The figure's Chinese name: `工业增加值增速`, `制造业工业增加值增速`.
    pub what: String,
    /// `8.3%`, `1234.57亿元`, `3100个`; `—` when not computable.
    pub old: String,
    pub new: String,
}

impl AuditSummary {
    /// A bulletin is a draft while a county's return is missing, errors are unresolved or an
    /// audit rule could not be run.
    pub fn is_draft(&self) -> bool {
        !self.missing.is_empty() || self.findings_errors > 0 || !self.rules_not_evaluated.is_empty()
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
    let log = SymbolLog::default();
    let mut env = environment(&log);
    env.set_loader(minijinja::path_loader(dir));
    let tmpl =
        env.get_template(name).with_context(|| format!("cannot load the bulletin template {}", template.display()))?;
    let ctx = context(input, &[], Arc::new(IndicatorIndex::new(input.models)?))?;
    let out = tmpl.render(ctx).map_err(|e| anyhow!("rendering {} failed: {}", template.display(), describe(&e)))?;
    Ok(tidy(&out))
}

/// The same as [`render_markdown`], from template source (tests, previews).
pub fn render_markdown_str(source: &str, input: &BulletinInput) -> Result<String> {
    let log = SymbolLog::default();
    let env = environment(&log);
    let ctx = context(input, &[], Arc::new(IndicatorIndex::new(input.models)?))?;
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

/// The symbols (`—`, `…`) the bulletin has printed so far in figures, for `symbols_used()`:
/// the notes define only the symbols the bulletin uses.
#[derive(Clone, Default)]
struct SymbolLog(Arc<Mutex<BTreeSet<&'static str>>>);

impl SymbolLog {
    /// Notes `text` when it is one of the symbols, and passes it on.
    fn note(&self, text: String) -> String {
        for symbol in [format::MISSING, format::SUPPRESSED] {
            if text.contains(symbol) {
                self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(symbol);
            }
        }
        text
    }

    fn used(&self) -> Vec<&'static str> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect()
    }
}

fn environment(log: &SymbolLog) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // A bare `{{ x }}` of a missing value prints the bulletin's "cannot be computed" symbol,
    // never `None`.
    let l = log.clone();
    env.set_formatter(move |out, state, value| {
        if value.is_none() {
            l.note(format::MISSING.to_string());
            out.write_str(format::MISSING).map_err(minijinja::Error::from)
        } else {
            // A figure printed as text (revisions) that is just a symbol; never any text that
            // merely contains one (1—9月).
            if let Some(text) = value.as_str().filter(|t| *t == format::SUPPRESSED || *t == format::MISSING) {
                l.note(text.to_string());
            }
            minijinja::escape_formatter(out, state, value)
        }
    });
    // Every figure filter notes the symbol it prints for a missing or suppressed figure.
    let l = log.clone();
    env.add_filter("growth", move |v: Value| l.note(format::growth(&v)));
    let l = log.clone();
    env.add_filter("pct1", move |v: Value| l.note(format::pct1(&v)));
    let l = log.clone();
    env.add_filter("pct", move |v: Value, dp: Option<u32>| l.note(format::pct(&v, dp)));
    let l = log.clone();
    env.add_filter("num", move |v: Value, dp: Option<u32>| l.note(format::num(&v, dp)));
    let l = log.clone();
    env.add_filter("yi", move |v: Value, dp: Option<u32>| l.note(format::yi(&v, dp)));
    let l = log.clone();
    env.add_filter("wan", move |v: Value, dp: Option<u32>| l.note(format::wan(&v, dp)));
    let l = log.clone();
    env.add_filter("wanren", move |v: Value| l.note(format::wanren(&v)));
    let l = log.clone();
    env.add_filter("int", move |v: Value, sep: Option<String>| l.note(format::int(&v, sep.as_deref())));
    let l = log.clone();
    env.add_function("profit", move |ytd: Value, change: Value, growth: Value| {
        l.note(format::profit(&ytd, &change, &growth))
    });
    env.add_filter("published", |v: Value, dp: Option<u32>| format::published_value(&v, dp.unwrap_or(1)));
    let l = log.clone();
    env.add_function("symbols_used", move || Value::from(l.used()));
    env
}

/// A figure of `indicator_values`: its value, or `Err(())` when disclosure control suppressed it
/// (status `C`).
type Figure = std::result::Result<Option<f64>, ()>;

/// `(region, breakdown, indicator)` → figure, from the `indicator_values` model, built once per
/// bulletin. The three keys are numbered and the figures sorted by them: a national table has
/// ~2 million rows, which as a map of owned strings took ~600 MB.
#[derive(Default)]
struct IndicatorIndex {
    regions: HashMap<String, u32>,
    breakdowns: HashMap<String, u32>,
    indicators: HashMap<String, u32>,
    /// Sorted by key; the last row of a repeated key wins.
    figures: Vec<([u32; 3], Figure)>,
}

impl IndicatorIndex {
    fn new(models: &BTreeMap<String, Vec<RecordBatch>>) -> Result<IndicatorIndex> {
        // Without it every figure of the bulletin would print as —: refuse instead.
        let Some(batches) = models.get("indicator_values") else {
            bail!("the model `indicator_values` is missing (did it fail?): the bulletin cannot be written without it");
        };
        let mut index = IndicatorIndex::default();
        let number = |names: &mut HashMap<String, u32>, name: Option<String>| -> u32 {
            let next = u32::try_from(names.len()).unwrap_or(u32::MAX);
            *names.entry(name.unwrap_or_default()).or_insert(next)
        };
        index.figures.reserve_exact(batches.iter().map(RecordBatch::num_rows).sum());
        for batch in batches {
            let col = |name: &str| {
                batch.column_by_name(name).ok_or_else(|| anyhow!("model indicator_values has no column `{name}`"))
            };
            let (region, breakdown, indicator, value) =
                (col("region_code")?, col("breakdown")?, col("indicator")?, col("value")?);
            let status = batch.column_by_name("status");
            for row in 0..batch.num_rows() {
                let key = [
                    number(&mut index.regions, values::text_cell(region, row)),
                    number(&mut index.breakdowns, values::text_cell(breakdown, row)),
                    number(&mut index.indicators, values::text_cell(indicator, row)),
                ];
                let confidential = status.is_some_and(|s| values::text_cell(s, row).as_deref() == Some("C"));
                index.figures.push((key, if confidential { Err(()) } else { Ok(values::number_cell(value, row)) }));
            }
        }
        // Stable: within a key, rows stay in order, and the last is kept.
        index.figures.sort_by_key(|(key, _)| *key);
        let mut kept = 0;
        for i in 0..index.figures.len() {
            if i + 1 == index.figures.len() || index.figures[i + 1].0 != index.figures[i].0 {
                index.figures.swap(kept, i);
                kept += 1;
            }
        }
        index.figures.truncate(kept);
        index.figures.shrink_to_fit();
        Ok(index)
    }

    fn get(&self, region: &str, breakdown: &str, indicator: &str) -> Option<Figure> {
        let key = [*self.regions.get(region)?, *self.breakdowns.get(breakdown)?, *self.indicators.get(indicator)?];
        self.figures.binary_search_by_key(&key, |(k, _)| *k).ok().map(|i| self.figures[i].1)
    }
}

fn context(input: &BulletinInput, charts: &[charts::Chart], index: Arc<IndicatorIndex>) -> Result<Value> {
    let period: Period = input.period.parse()?;

    let models = Value::from_object(Models::new(input.models));

    let ind = {
        // Keys may arrive escaped (taken from a model's text column): unescape before lookup.
        move |region: String, breakdown: String, indicator: String| -> Value {
            let figure = index.get(
                &values::unescape_markdown(&region),
                &values::unescape_markdown(&breakdown),
                &values::unescape_markdown(&indicator),
            );
            match figure {
                Some(Ok(Some(v))) if v.is_finite() => Value::from(v),
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
        ("rules_not_evaluated", Value::from(audit.rules_not_evaluated.clone())),
    ]);
    let revisions = Value::from_serialize(&audit.revisions);

    let d = input.issued_on;
    Ok(Value::from_iter([
        ("models", models),
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

/// `models.<name>`: a model's rows as template values ([`values::rows_value`]), converted when a
/// template first reads that model. The templates read `indicator_values` (a row per region,
/// breakdown and indicator: millions at national scale) through `ind()`, so converting every
/// model up front would build millions of row maps no template reads.
#[derive(Debug)]
struct Models {
    batches: BTreeMap<String, Vec<RecordBatch>>,
    converted: Mutex<BTreeMap<String, Value>>,
}

impl Models {
    fn new(models: &BTreeMap<String, Vec<RecordBatch>>) -> Models {
        Models { batches: models.clone(), converted: Default::default() }
    }
}

impl minijinja::value::Object for Models {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let batches = self.batches.get(name)?;
        let mut converted = self.converted.lock().unwrap_or_else(|e| e.into_inner());
        Some(converted.entry(name.to_string()).or_insert_with(|| values::rows_value(batches)).clone())
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(self.batches.keys().map(|k| Value::from(k.as_str())).collect())
    }
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
    let index = Arc::new(IndicatorIndex::new(input.models)?);
    let city_growth = match index.get(CITY_CODE, "_T", "va_growth") {
        Some(Ok(v)) => v,
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
    let log = SymbolLog::default();
    let mut env = environment(&log);
    env.set_loader(minijinja::path_loader(dir));
    let tmpl = env
        .get_template(name)
        .with_context(|| format!("cannot load the bulletin template {}", t.markdown.display()))?;
    let out = tmpl
        .render(context(input, &charts, index)?)
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

/// In place of a bulletin that could not be rendered: the period's bulletin folder holds only a
/// draft notice saying so (never the previous bulletin beside the new tables).
pub fn write_failure_notice(dir: &Path, full_label: &str, reason: &str) -> Result<std::path::PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let md = dir.join("bulletin.md");
    let text = format!(
        "# 济宁市工业经济倍增监测月报（草稿）\n\n（{full_label}）\n\n> **草稿**：本期公报未能生成，\
         数据表已按本次审核结果更新，请勿引用本期公报。原因：{}\n",
        reason.replace('\n', " ")
    );
    crate::store::write_bytes(&md, text.as_bytes())?;
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
