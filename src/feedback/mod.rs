//! County feedback (审核反馈): for each county with findings in the published period,
//! `<out>/feedback/YYYY-MM/<code>_<name>_审核反馈.xlsx` and `.md`.
//!
//! The workbook has a sheet 审核问题 listing the county's findings, then a copy of each of its
//! sheets that has findings, with the offending cells filled (red: 强制性, yellow: 核实性) and
//! the messages as a cell note. The Markdown file is a short summary.
//!
//! Text from the returns (cell values, file and sheet names, messages quoting values) is only
//! ever written with `write_string`, which stores a string, never a formula: a cell starting with
//! `=`, `+`, `-` or `@` stays inert. File names are built from the reference data (region code
//! and name) only, never from text of a return. The folder of a period is written under
//! `<out>/.staging/` and renamed into place whole, so readers see the old or the new feedback.

pub mod markdown;
pub mod pending;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use calamine::Data;
use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatBorder, Note, Url, Workbook, Worksheet};

use crate::findings::{Finding, Severity};
use crate::ingest::IngestedFile;
use crate::period::Period;
use crate::reference::Region;
use crate::store;
use crate::store::staged::StagedSheet;

/// Name of the findings sheet of a feedback workbook.
pub const FINDINGS_SHEET: &str = "审核问题";
/// Columns of the findings sheet.
pub const FINDINGS_COLUMNS: [&str; 10] =
    ["文件", "工作表", "行", "单元格", "规则", "类别", "问题说明", "已说明", "处理结果", "反馈表"];
/// Fill of a cell with an error (强制性) finding.
pub const ERROR_FILL: u32 = 0xFF7C80;
/// Fill of a cell with only warning (核实性) findings.
pub const WARNING_FILL: u32 = 0xFFFF00;
/// Longest text written into one cell or note (Excel's limit is 32,767 UTF-16 units).
const MAX_TEXT_CHARS: usize = 16_000;
/// Excel's last row and column (0-based): cells beyond are not copied.
const EXCEL_ROWS: u32 = 1_048_576;

/// The caps on one county's feedback workbook (`config/feedback.toml`; a missing key or file
/// takes the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Most findings listed on the findings sheet (Excel holds 1,048,576 rows); a last line says
    /// how many more there are.
    pub max_rows_per_sheet: usize,
    /// Most marked cells (each with a note) on a copy of a sheet.
    pub max_marked_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_rows_per_sheet: 100_000, max_marked_cells: 20_000 }
    }
}

impl Limits {
    /// Reads `path` (`config/feedback.toml`); the defaults when the file does not exist.
    pub fn load(path: &Path) -> Result<Limits> {
        let limits: Limits = crate::util::load_toml_or_default(path)?;
        // The header row and the "how many more" line fit beside the listed rows.
        anyhow::ensure!(
            (1..=EXCEL_ROWS as usize - 2).contains(&limits.max_rows_per_sheet) && limits.max_marked_cells > 0,
            "{}: max_rows_per_sheet must be 1 to {}, max_marked_cells positive",
            path.display(),
            EXCEL_ROWS - 2
        );
        Ok(limits)
    }
}

/// What the feedback of one period is made from.
pub struct FeedbackInput<'a> {
    pub period: Period,
    /// The period's findings, every county (as audited; sorted by county, form, file, sheet, row).
    pub findings: &'a [Finding],
    /// The period's sheets: to attribute sheet- and file-level findings to their county, and to
    /// rebuild a sheet when its workbook cannot be read again.
    pub sheets: &'a [StagedSheet],
    /// The ingested workbooks, whose paths give the county's own sheets to copy.
    pub files: &'a [IngestedFile],
    /// The reference regions: the only source of the names in file names.
    pub regions: &'a [Region],
    pub limits: Limits,
}

/// The feedback written for one county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyFeedback {
    pub region_code: String,
    pub region_name: String,
    pub errors: usize,
    pub warnings: usize,
    pub workbook: PathBuf,
    pub markdown: PathBuf,
    /// Why this county's feedback could not be written (the other counties' still are).
    pub failed: Option<String>,
}

/// `<out>/feedback/YYYY-MM`.
pub fn feedback_dir(out: &Path, period: Period) -> PathBuf {
    out.join("feedback").join(period.to_string())
}

/// `<code>_<name>_审核反馈` from reference data, or `None` when the code is not a plain code.
/// The name keeps letters, digits and `-`/`·` only (no separators, dots or control characters).
pub fn file_stem(region: &Region) -> Option<String> {
    let code_ok = !region.code.is_empty()
        && region.code.len() <= 32
        && region.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !code_ok {
        return None;
    }
    let name: String = region.name.chars().filter(|c| c.is_alphanumeric() || *c == '-' || *c == '·').take(40).collect();
    Some(if name.is_empty() {
        format!("{}_审核反馈", region.code)
    } else {
        format!("{}_{name}_审核反馈", region.code)
    })
}

/// Writes the period's feedback folder (replacing the previous one as a whole) and returns what
/// was written, one entry per county with findings.
pub fn write_feedback(out: &Path, input: &FeedbackInput) -> Result<Vec<CountyFeedback>> {
    let mut by_county: BTreeMap<&str, (&Region, Vec<&Finding>)> = BTreeMap::new();
    // 提示 findings (合计 and note rows skipped) stay in the findings table.
    for f in input.findings.iter().filter(|f| f.severity != Severity::Info) {
        match county_of(f, input) {
            Some(region) => by_county.entry(region.code.as_str()).or_insert((region, Vec::new())).1.push(f),
            None => tracing::debug!(
                "finding {} on {} belongs to no known county; not in any feedback",
                f.rule_id,
                f.location.file
            ),
        }
    }
    let published = feedback_dir(out, input.period);
    let staging = out.join(".staging").join(format!("feedback-{}-{}", input.period, std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let mut written = Vec::new();
    for (region, findings) in by_county.values() {
        let Some(stem) = file_stem(region) else {
            tracing::warn!(region = %region.code, "region code is not usable in a file name; no feedback written");
            continue;
        };
        let xlsx_name = format!("{stem}.xlsx");
        let md_name = format!("{stem}.md");
        // One county's feedback that cannot be built or written is reported, never fatal to the
        // others' (nor to the run).
        let one = || -> Result<()> {
            // This county's sheets and notes only: memory stays that of one county.
            let mut sources = SourceCache::default();
            let keys: std::collections::BTreeSet<&str> = findings.iter().filter_map(|f| f.row_key.as_deref()).collect();
            let notes: BTreeMap<String, String> =
                crate::store::staged::notes_of(input.sheets, &keys)?.into_iter().collect();
            let bytes = workbook_bytes(input, findings, &notes, &mut sources)
                .with_context(|| format!("cannot build the feedback workbook of {}", region.name))?;
            store::write_bytes(&staging.join(&xlsx_name), &bytes)?;
            let md = markdown::summary(region, input.period, findings, &xlsx_name, &notes);
            store::write_bytes(&staging.join(&md_name), md.as_bytes())
        };
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(one))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("internal error (panic) building the feedback of {}", region.name)))
            .err()
            .map(|e| {
                tracing::error!(region = %region.code, "county feedback not written: {e:#}");
                std::fs::remove_file(staging.join(&xlsx_name)).ok();
                std::fs::remove_file(staging.join(&md_name)).ok();
                format!("{e:#}")
            });
        written.push(CountyFeedback {
            region_code: region.code.clone(),
            region_name: region.name.clone(),
            errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
            workbook: published.join(xlsx_name),
            markdown: published.join(md_name),
            failed,
        });
    }
    store::publish_dir(&staging, &published)?;
    Ok(written)
}

/// The county a finding is about: its own region code, else that of its sheet or file, else the
/// county named by the file name. Only counties of the reference data.
fn county_of<'a>(f: &Finding, input: &FeedbackInput<'a>) -> Option<&'a Region> {
    let sha = &f.location.sha256;
    let code = f
        .region_code
        .clone()
        .filter(|c| input.regions.iter().any(|r| &r.code == c))
        .or_else(|| {
            let same_sheet =
                input.sheets.iter().find(|s| &s.sha256 == sha && Some(&s.sheet) == f.location.sheet.as_ref());
            same_sheet.or_else(|| input.sheets.iter().find(|s| &s.sha256 == sha)).and_then(|s| s.region_code.clone())
        })
        .or_else(|| {
            input
                .files
                .iter()
                .filter(|x| !sha.is_empty() && &x.sha256 == sha)
                .flat_map(|x| &x.sheets)
                .find_map(|s| s.region_code.clone())
        })
        .or_else(|| crate::ingest::header::find_region(&f.location.file, input.regions))?;
    input.regions.iter().find(|r| r.code == code)
}

/// Cuts text to what a cell or note can hold.
fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT_CHARS { s.to_string() } else { s.chars().take(MAX_TEXT_CHARS).collect() }
}

/// 0-based (row, col) of `H17`.
pub fn parse_cell(cell: &str) -> Option<(u32, u16)> {
    let split = cell.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = cell.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let row: u32 = digits.parse().ok()?;
    let col = letters.bytes().fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A' + 1)) - 1;
    if row == 0 || col >= 16_384 {
        return None;
    }
    Some((row - 1, col as u16))
}

/// Where a finding is marked on the copy of its sheet: its cell, else the first cell of its row,
/// else A1 (a finding about the whole sheet).
fn mark_position(f: &Finding) -> (u32, u16) {
    if let Some(pos) = f.location.cell.as_deref().and_then(parse_cell) {
        return pos;
    }
    (f.location.row.map(|r| r.saturating_sub(1)).unwrap_or(0), 0)
}

/// The cells of a sheet, as (0-based row, col, value).
type Cells = Vec<(u32, u16, Data)>;

/// Sheets read again from the county's workbooks, by (sha256, sheet).
#[derive(Default)]
struct SourceCache {
    sheets: BTreeMap<(String, String), Option<Cells>>,
}

impl SourceCache {
    fn get(&mut self, input: &FeedbackInput, sha: &str, sheet: &str) -> Option<&Cells> {
        let key = (sha.to_string(), sheet.to_string());
        if !self.sheets.contains_key(&key) {
            let cells = read_source(input, sha, sheet).or_else(|| rebuild(input, sha, sheet));
            self.sheets.insert(key.clone(), cells);
        }
        self.sheets.get(&key).and_then(Option::as_ref)
    }
}

/// The sheet as the county sent it, read again from its workbook through the same guarded path
/// and caps as ingest; `None` when the file is gone, refused, or no longer the one audited (its
/// hash changed).
fn read_source(input: &FeedbackInput, sha: &str, sheet: &str) -> Option<Cells> {
    use crate::ingest::guard;
    let file = input.files.iter().find(|f| !sha.is_empty() && f.sha256 == sha)?;
    let limits = guard::limits();
    let read = guard::read_file(&file.path, &limits).ok()?.ok()?;
    if read.sha256 != sha {
        tracing::warn!(file = %file.file, "changed since it was read; its feedback sheet is rebuilt from the rows");
        return None;
    }
    let ext = file.path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (mut wb, _) = guard::open_workbook(&read.bytes, &ext, &limits).ok()?;
    let (range, _) = guard::read_range(&mut wb, sheet, &limits).ok()?;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    Some(
        range
            .used_cells()
            .filter_map(|(r, c, v)| {
                let (r, c) = (r0 + r as u32, c0 + c as u32);
                u16::try_from(c).ok().map(|c| (r, c, v.clone()))
            })
            .collect(),
    )
}

/// The sheet rebuilt from the audited rows and the sheet's column map (values in 万元), with the
/// form's column descriptions in the row above the first data row.
fn rebuild(input: &FeedbackInput, sha: &str, sheet: &str) -> Option<Cells> {
    let s = input.sheets.iter().find(|s| s.sha256 == sha && s.sheet == sheet)?;
    let map: Vec<(String, u16)> = s
        .column_map
        .split("; ")
        .filter_map(|p| p.split_once('='))
        .filter_map(|(f, c)| parse_cell(&format!("{c}1")).map(|(_, col)| (f.to_string(), col)))
        .collect();
    let mut cells = Cells::new();
    let rows = s.rows.load().ok()?;
    let schema = rows.schema();
    let mut first_row = u32::MAX;
    for batch in [&rows, &s.totals] {
        let Some(rows) = batch.column_by_name("_source_row") else { continue };
        let rows = rows.as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            let r = rows.value(i).max(1) as u32 - 1;
            first_row = first_row.min(r);
            for (field, col) in &map {
                let Some(a) = batch.column_by_name(field) else { continue };
                if a.is_null(i) {
                    continue;
                }
                let v = match a.data_type() {
                    DataType::Utf8 => Data::String(a.as_string::<i32>().value(i).to_string()),
                    DataType::Int64 => Data::Int(a.as_primitive::<Int64Type>().value(i)),
                    _ => match arrow::compute::cast(a, &DataType::Float64) {
                        Ok(f) => Data::Float(f.as_primitive::<Float64Type>().value(i)),
                        Err(_) => Data::String(crate::audit::format::cell(a, i)),
                    },
                };
                cells.push((r, *col, v));
            }
        }
    }
    if first_row != u32::MAX && first_row > 0 {
        for (field, col) in &map {
            let label = schema
                .field_with_name(field)
                .ok()
                .and_then(|f| f.metadata().get("description").cloned())
                .unwrap_or_else(|| field.clone());
            cells.push((first_row - 1, *col, Data::String(label)));
        }
    }
    Some(cells)
}

/// Excel sheet name from a return's sheet name: no `[]:*?/\'`, at most 31 characters, unique.
fn sheet_name(original: &str, taken: &[String]) -> String {
    let base: String = original
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\' | '\'') && !c.is_control())
        .collect();
    let base = base.trim();
    let base = if base.is_empty() || base.eq_ignore_ascii_case("history") { "工作表" } else { base };
    for n in 1.. {
        let suffix = if n == 1 { String::new() } else { format!("({n})") };
        let room = 31 - suffix.chars().count();
        let name: String = base.chars().take(room).collect::<String>() + &suffix;
        if !taken.iter().any(|t| t.to_lowercase() == name.to_lowercase()) {
            return name;
        }
    }
    unreachable!("some suffix is free")
}

/// A cell's findings on a sheet copy.
struct Mark {
    severity: Severity,
    lines: Vec<String>,
}

/// Whether a finding is explained, and by which note: `是:备注"…"`, or why its row's note was not
/// taken as an explanation (too short, or boilerplate such as "无" or "正常").
pub fn explained_text(f: &Finding, notes: &BTreeMap<String, String>) -> String {
    let note = f.row_key.as_ref().and_then(|k| notes.get(k));
    match (f.severity, f.explained, note) {
        (Severity::Error | Severity::Info, _, _) => "—".to_string(),
        (Severity::Warning, true, Some(n)) => format!("是:备注“{}”", clip_chars(n, 200)),
        (Severity::Warning, true, None) => "是".to_string(),
        (Severity::Warning, false, Some(n)) => {
            format!("否:备注“{}”过短或为套话,不作为说明", clip_chars(n, 200))
        }
        (Severity::Warning, false, None) => "否".to_string(),
    }
}

fn clip_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

fn workbook_bytes(
    input: &FeedbackInput,
    findings: &[&Finding],
    notes: &BTreeMap<String, String>,
    sources: &mut SourceCache,
) -> Result<Vec<u8>> {
    // The sheets with findings, in order of first finding, and their names in the feedback.
    let mut copies: Vec<((String, String), String)> = Vec::new();
    let mut taken = vec![FINDINGS_SHEET.to_string()];
    for f in findings {
        let Some(sheet) = &f.location.sheet else { continue };
        let key = (f.location.sha256.clone(), sheet.clone());
        if copies.iter().any(|(k, _)| *k == key) || sources.get(input, &key.0, &key.1).is_none() {
            continue;
        }
        let name = sheet_name(sheet, &taken);
        taken.push(name.clone());
        copies.push((key, name));
    }
    let copy_of = |f: &Finding| -> Option<&str> {
        let sheet = f.location.sheet.as_ref()?;
        copies.iter().find(|((sha, s), _)| *sha == f.location.sha256 && s == sheet).map(|(_, n)| n.as_str())
    };

    let mut wb = Workbook::new();
    // A fixed creation date (the 1st of the month after the period): the same findings give the
    // same bytes.
    let (y, m) =
        if input.period.month == 12 { (input.period.year + 1, 1) } else { (input.period.year, input.period.month + 1) };
    let created = ExcelDateTime::from_ymd(y as u16, m as u8, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{}报表审核反馈", input.period.full_label()))
            .set_author("济宁市统计局")
            .set_creation_datetime(&created),
    );
    let header = Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color(Color::RGB(0xD9E1F2));
    let wrap = Format::new().set_text_wrap();
    let error_fmt = Format::new().set_background_color(Color::RGB(ERROR_FILL));
    let warning_fmt = Format::new().set_background_color(Color::RGB(WARNING_FILL));

    let ws = wb.add_worksheet();
    ws.set_name(FINDINGS_SHEET)?;
    for (c, h) in FINDINGS_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header)?;
    }
    for (c, w) in [30.0, 14.0, 6.0, 8.0, 12.0, 8.0, 70.0, 8.0, 30.0, 14.0].into_iter().enumerate() {
        ws.set_column_width(c as u16, w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let cap = input.limits.max_rows_per_sheet;
    let listed = &findings[..findings.len().min(cap)];
    if listed.len() < findings.len() {
        let more = findings.len() - listed.len();
        ws.write_string_with_format(
            listed.len() as u32 + 1,
            0,
            format!("另有 {more} 条问题未列出(每表最多列出 {cap} 条),请先更正以上问题后重新报送"),
            &header,
        )?;
    }
    for (i, f) in listed.iter().enumerate() {
        let r = i as u32 + 1;
        let fill = if f.severity == Severity::Error { &error_fmt } else { &warning_fmt };
        ws.write_string(r, 0, clip(&f.location.file))?;
        ws.write_string(r, 1, clip(f.location.sheet.as_deref().unwrap_or("")))?;
        if let Some(row) = f.location.row {
            ws.write_number(r, 2, f64::from(row))?;
        }
        let copy = copy_of(f);
        match (&f.location.cell, copy) {
            // The address is ours (column letters and a number); the sheet name is sanitised.
            (Some(cell), Some(name)) if parse_cell(cell).is_some() => {
                ws.write_url_with_text(r, 3, Url::new(format!("internal:'{name}'!{cell}")), cell.as_str())?;
            }
            (Some(cell), _) => {
                ws.write_string(r, 3, clip(cell))?;
            }
            _ => {}
        }
        ws.write_string(r, 4, clip(&f.rule_id))?;
        ws.write_string_with_format(r, 5, f.severity.chinese(), fill)?;
        ws.write_string_with_format(r, 6, clip(&f.message), &wrap)?;
        ws.write_string_with_format(r, 7, explained_text(f, notes), &wrap)?;
        ws.write_string(r, 8, outcome_text(f))?;
        if let Some(name) = copy {
            ws.write_string(r, 9, name)?;
        }
    }
    if !listed.is_empty() {
        ws.autofilter(0, 0, listed.len() as u32, FINDINGS_COLUMNS.len() as u16 - 1)?;
    }

    for ((sha, sheet), name) in &copies {
        let mut marks: BTreeMap<(u32, u16), Mark> = BTreeMap::new();
        for f in findings.iter().filter(|f| f.location.sha256 == *sha && f.location.sheet.as_ref() == Some(sheet)) {
            if marks.len() >= input.limits.max_marked_cells && !marks.contains_key(&mark_position(f)) {
                continue; // the findings sheet says how many there are
            }
            let m = marks.entry(mark_position(f)).or_insert(Mark { severity: f.severity, lines: Vec::new() });
            m.severity = m.severity.min(f.severity); // Error < Warning: an error wins.
            let line = format!("[{} {}] {}", f.rule_id, f.severity.chinese(), f.message);
            if !m.lines.contains(&line) {
                m.lines.push(line);
            }
        }
        let cells = sources.get(input, sha, sheet).cloned().unwrap_or_default();
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        copy_sheet(ws, &cells, &marks, &error_fmt, &warning_fmt)?;
    }
    Ok(wb.save_to_buffer()?)
}

/// What happened to the row, in the county's words.
fn outcome_text(f: &Finding) -> &'static str {
    match (f.severity, f.explained, f.row_key.is_some()) {
        (Severity::Error, _, true) => "该行数据未采用,请更正后重新报送",
        (Severity::Error, _, false) => "该表(文件)未采用,请更正后重新报送",
        (Severity::Warning, true, _) => "数据已采用,已在备注中说明",
        (Severity::Warning, false, _) => "数据已采用,请核实;属实的请在备注中说明",
        (Severity::Info, _, _) => "非数据行,未读入",
    }
}

/// Writes the cells (values only, never formulas) with the marked ones filled and annotated.
fn copy_sheet(
    ws: &mut Worksheet,
    cells: &Cells,
    marks: &BTreeMap<(u32, u16), Mark>,
    error_fmt: &Format,
    warning_fmt: &Format,
) -> Result<()> {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let fill_of =
        |pos: &(u32, u16)| marks.get(pos).map(|m| if m.severity == Severity::Error { error_fmt } else { warning_fmt });
    let max_col = cells.iter().map(|c| c.1).chain(marks.keys().map(|k| k.1)).max().unwrap_or(0);
    for c in 0..=max_col {
        ws.set_column_width(c, 14)?;
    }
    for (r, c, v) in cells.iter().filter(|(r, _, _)| *r < EXCEL_ROWS) {
        let fill = fill_of(&(*r, *c));
        match v {
            Data::Empty => {}
            Data::Int(i) => {
                match fill {
                    Some(f) => ws.write_number_with_format(*r, *c, *i as f64, f)?,
                    None => ws.write_number(*r, *c, *i as f64)?,
                };
            }
            Data::Float(x) => {
                match fill {
                    Some(f) => ws.write_number_with_format(*r, *c, *x, f)?,
                    None => ws.write_number(*r, *c, *x)?,
                };
            }
            Data::Bool(b) => {
                match fill {
                    Some(f) => ws.write_boolean_with_format(*r, *c, *b, f)?,
                    None => ws.write_boolean(*r, *c, *b)?,
                };
            }
            Data::DateTime(d) => {
                let f = match fill {
                    Some(f) => f.clone().set_num_format("yyyy-mm-dd"),
                    None => date.clone(),
                };
                ws.write_number_with_format(*r, *c, d.as_f64(), &f)?;
            }
            // Text from the return: always a string, never a formula.
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                match fill {
                    Some(f) => ws.write_string_with_format(*r, *c, clip(s), f)?,
                    None => ws.write_string(*r, *c, clip(s))?,
                };
            }
            Data::Error(e) => {
                let s = e.to_string();
                match fill {
                    Some(f) => ws.write_string_with_format(*r, *c, s, f)?,
                    None => ws.write_string(*r, *c, s)?,
                };
            }
        }
    }
    let filled: std::collections::HashSet<(u32, u16)> =
        cells.iter().filter(|(_, _, v)| !matches!(v, Data::Empty)).map(|(r, c, _)| (*r, *c)).collect();
    for ((r, c), m) in marks.iter().filter(|((r, _), _)| *r < EXCEL_ROWS) {
        if !filled.contains(&(*r, *c)) {
            ws.write_blank(*r, *c, if m.severity == Severity::Error { error_fmt } else { warning_fmt })?;
        }
        let note = Note::new(clip(&m.lines.join("\n")))
            .set_author("济宁市统计局")
            .add_author_prefix(false)
            .set_width(360)
            .set_height(40 + 36 * m.lines.len().min(8) as u32);
        ws.insert_note(*r, *c, &note)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse() {
        assert_eq!(parse_cell("A1"), Some((0, 0)));
        assert_eq!(parse_cell("H17"), Some((16, 7)));
        assert_eq!(parse_cell("AA3"), Some((2, 26)));
        assert_eq!(parse_cell("a1"), None);
        assert_eq!(parse_cell("A0"), None);
        assert_eq!(parse_cell("17"), None);
    }

    #[test]
    fn names_are_safe() {
        let r = |code: &str, name: &str| Region { code: code.into(), name: name.into(), short_name: String::new() };
        assert_eq!(file_stem(&r("370883", "邹城市")).unwrap(), "370883_邹城市_审核反馈");
        assert_eq!(file_stem(&r("JN-JKQ", "济宁经济技术开发区")).unwrap(), "JN-JKQ_济宁经济技术开发区_审核反馈");
        assert_eq!(file_stem(&r("370883", "../../etc/x y")).unwrap(), "370883_etcxy_审核反馈");
        assert!(file_stem(&r("../x", "邹城市")).is_none());
        assert!(file_stem(&r("", "邹城市")).is_none());
        let taken = vec!["审核问题".to_string(), "表1".to_string()];
        assert_eq!(sheet_name("表1", &taken), "表1(2)");
        assert_eq!(sheet_name("a/b:c*?[x]'", &taken), "abcx");
        assert_eq!(sheet_name(&"长".repeat(40), &taken).chars().count(), 31);
    }
}
