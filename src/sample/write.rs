//! Writes the sample as county bureaus send it: one workbook per county per period, four sheets,
//! and the city's reference CSV files.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use rust_decimal::{Decimal, RoundingStrategy};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet};

use super::catalog::{PEOPLE, REGIONS};
use super::items::{JN102_ITEMS, JN103_ITEMS};
use super::rng::Rng;
use super::{CountyReturn, MonthStyle, SampleData, SheetLayout};

/// Writes `dir/returns/*.xlsx` (one workbook per county per period, and the JN101 returns of the
/// prior-year periods, [`super::prior_year`]) and `dir/reference/*.csv`. Regenerating gives
/// identical bytes.
pub fn write_all(data: &SampleData, dir: &Path) -> Result<()> {
    let returns_dir = dir.join("returns");
    fs::create_dir_all(&returns_dir).with_context(|| format!("creating {}", returns_dir.display()))?;
    for ret in data.returns.iter().chain(&super::prior_year_returns(data)) {
        let bytes = workbook_bytes(data, ret)?;
        let path = returns_dir.join(&ret.file_name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    write_reference(data, &dir.join("reference"))
}

/// Writes regions.csv, chains.csv, chain_members.csv, targets.csv and ppi.csv into `dir`.
pub fn write_reference(data: &SampleData, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, header: &[&str], rows: Vec<Vec<String>>| -> Result<()> {
        let path = dir.join(name);
        let mut w = csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
        w.write_record(header)?;
        for r in rows {
            w.write_record(&r)?;
        }
        w.flush()?;
        Ok(())
    };
    write(
        "regions.csv",
        &["code", "name", "short_name"],
        data.regions.iter().map(|r| vec![r.code.clone(), r.name.clone(), r.short_name.clone()]).collect(),
    )?;
    write(
        "chains.csv",
        &["chain_id", "name", "cluster"],
        data.chains.iter().map(|c| vec![c.chain_id.clone(), c.name.clone(), c.cluster.clone()]).collect(),
    )?;
    write(
        "chain_members.csv",
        &["credit_code", "chain_id", "is_chain_master"],
        data.chain_members
            .iter()
            .map(|m| vec![m.credit_code.clone(), m.chain_id.clone(), u8::from(m.is_chain_master).to_string()])
            .collect(),
    )?;
    write(
        "targets.csv",
        &["indicator", "base_year", "base_value", "target_year", "target_value", "unit"],
        data.targets
            .iter()
            .map(|t| {
                vec![
                    t.indicator.clone(),
                    t.base_year.to_string(),
                    t.base_value.to_string(),
                    t.target_year.to_string(),
                    t.target_value.to_string(),
                    t.unit.clone(),
                ]
            })
            .collect(),
    )?;
    write(
        "ppi.csv",
        &["period", "division", "index"],
        data.ppi.iter().map(|r| vec![r.period.clone(), r.division.clone(), r.index.to_string()]).collect(),
    )?;
    Ok(())
}

/// Cell formats shared by the sheets of a workbook.
struct Formats {
    title: Format,
    header: Format,
    text: Format,
    code: Format,
    amount: Format,
    count: Format,
    growth: Format,
    month: Format,
    indent1: Format,
    indent2: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin).set_font_name("宋体").set_font_size(10);
        Formats {
            title: Format::new().set_bold().set_font_name("黑体").set_font_size(16).set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap(),
            text: cell.clone(),
            code: cell.clone().set_num_format("@"),
            amount: cell.clone().set_num_format("#,##0.0"),
            count: cell.clone().set_num_format("#,##0"),
            growth: cell.clone().set_num_format("0.0"),
            month: cell.clone().set_num_format("yyyy-mm"),
            indent1: cell.clone().set_indent(1),
            indent2: cell.set_indent(2),
        }
    }
}

/// Who fills in a workbook: the unit's name and the 填报单位 it signs as.
struct Signer<'a> {
    name: &'a str,
    reporter: &'a str,
}

/// What a workbook's header blocks and footers say.
struct Block<'a> {
    layout: SheetLayout,
    reporter: &'a str,
    period_label: String,
    report_date: String,
    signature: String,
}

/// The bytes of one county's workbook (what [`write_all`] writes as `ret.file_name`).
pub fn workbook_bytes(data: &SampleData, ret: &CountyReturn) -> Result<Vec<u8>> {
    workbook_bytes_with(data, ret, None)
}

/// Writes `dir/returns/*.xlsx` in "messy" mode: the same data, each county's JN101 sheet in
/// another untidy presentation ([`super::messy::presentation_for`]), plus the reference files.
pub fn write_messy(data: &SampleData, dir: &Path) -> Result<()> {
    let returns_dir = dir.join("returns");
    fs::create_dir_all(&returns_dir).with_context(|| format!("creating {}", returns_dir.display()))?;
    for (i, ret) in data.returns.iter().enumerate() {
        let p = super::messy::presentation_for(i);
        let bytes = workbook_bytes_with(data, ret, Some(&p))?;
        let path = returns_dir.join(&ret.file_name);
        fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    write_reference(data, &dir.join("reference"))
}

/// One county's workbook; with a presentation, its JN101 sheet is written in messy mode.
pub fn workbook_bytes_with(
    data: &SampleData,
    ret: &CountyReturn,
    messy: Option<&super::messy::Presentation>,
) -> Result<Vec<u8>> {
    // The 14 counties' bureaus sign as the catalogue says; a synthetic unit (`sample --scale`)
    // as `<name>统计局`.
    let region = data.region(&ret.region_code).context("unknown region")?;
    let reporter = match REGIONS.iter().find(|r| r.code == ret.region_code) {
        Some(spec) => spec.reporter.to_string(),
        None => format!("{}统计局", region.name),
    };
    let spec = Signer { name: &region.name, reporter: &reporter };
    let year: u16 = ret.period[..4].parse()?;
    let month: u8 = ret.period[5..].parse()?;
    let (report_year, report_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let mut rng = Rng::stream(&format!("signature/{}", ret.region_code));
    let mut people: Vec<&str> = Vec::new();
    while people.len() < 3 {
        let p = *rng.pick(PEOPLE);
        if !people.contains(&p) {
            people.push(p);
        }
    }
    let phone = format!("0537-{}", rng.range(2_100_000, 8_999_999));
    let report_date = format!("{report_year}年{report_month}月8日");
    let ctx = Block {
        layout: ret.layout,
        reporter: spec.reporter,
        period_label: format!("{year}年1—{month}月"),
        signature: format!(
            "单位负责人:{}    统计负责人:{}    填表人:{}    联系电话:{}    报出日期:{}",
            people[0], people[1], people[2], phone, report_date
        ),
        report_date,
    };
    let fmt = Formats::new();
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(report_year, report_month, 8)?.and_hms(9, 30, 0)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{}{}倍增监测报表", spec.name, ctx.period_label))
            .set_author(spec.reporter)
            .set_company(spec.reporter)
            .set_creation_datetime(&created),
    );
    let names = ctx.layout.sheet_names;
    match messy {
        None => jn101_sheet(wb.add_worksheet().set_name(names[0])?, &fmt, &ctx, ret)?,
        Some(p) => {
            if p.decoy_sheets {
                super::messy::decoy_sheets(&mut wb)?;
            }
            let name = match p.mark {
                super::messy::FormMark::SheetName => "规上工业",
                super::messy::FormMark::HeadersOnly => "数据",
                _ => names[0],
            };
            super::messy::jn101_sheet(wb.add_worksheet().set_name(name)?, &ret.jn101, spec.reporter, &ret.period, p)?
        }
    }
    // A form with nothing to report has no sheet (the prior-year returns send JN101 only; a
    // return lacking it, `sample --scale --forms`).
    if !ret.jn102.is_empty() {
        jn102_sheet(wb.add_worksheet().set_name(names[1])?, &fmt, &ctx, ret)?;
    }
    if !ret.jn103.is_empty() {
        jn103_sheet(wb.add_worksheet().set_name(names[2])?, &fmt, &ctx, ret)?;
    }
    if !ret.jn104.is_empty() {
        jn104_sheet(wb.add_worksheet().set_name(names[3])?, &fmt, &ctx, ret, data)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn colon(ctx: &Block) -> char {
    if ctx.layout.fullwidth_colons { '：' } else { ':' }
}

/// Rows 1–3: title, 表号 line, 填报单位 / period / unit line.
fn header_block(
    ws: &mut Worksheet,
    fmt: &Formats,
    ctx: &Block,
    form: &str,
    title: &str,
    ncols: u16,
    unit: bool,
) -> Result<()> {
    let c = colon(ctx);
    ws.merge_range(0, 0, 0, ncols - 1, title, &fmt.title)?;
    ws.set_row_height(0, 30)?;
    let mid = (ncols / 2).saturating_sub(1).max(1);
    let last = ncols.saturating_sub(3).max(mid + 1).min(ncols - 1);
    ws.write_string(1, 0, format!("表号{c}{form}"))?;
    ws.write_string(1, mid, format!("制定机关{c}济宁市统计局"))?;
    ws.write_string(1, last, format!("有效期至{c}2026年12月"))?;
    ws.write_string(2, 0, format!("填报单位(盖章){c}{}", ctx.reporter))?;
    ws.write_string(2, mid, &ctx.period_label)?;
    if unit {
        ws.write_string(2, last, format!("计量单位{c}万元"))?;
    }
    Ok(())
}

/// The note and signature rows below the data, starting at 0-based row `row` (after one blank row).
fn footer(ws: &mut Worksheet, ctx: &Block, row: u32, ncols: u16) -> Result<()> {
    let plain = Format::new();
    ws.merge_range(
        row + 1,
        0,
        row + 1,
        ncols - 1,
        &format!("注:本表数据截至报出日期({}),金额单位为万元,本年累计为1月至本月累计数。", ctx.report_date),
        &plain,
    )?;
    ws.merge_range(row + 2, 0, row + 2, ncols - 1, &ctx.signature, &plain)?;
    Ok(())
}

/// "1,234.5": an amount typed as text with a thousands separator.
fn thousands(d: Decimal) -> String {
    let s = format!("{:.1}", d.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    let sign = if d.is_sign_negative() && !d.is_zero() { "-" } else { "" };
    format!("{sign}{out}.{frac}")
}

fn f64_of(d: Decimal) -> f64 {
    // Shortest decimal text → nearest f64: what Excel stores and what a reader parses back.
    d.to_string().parse().expect("decimal")
}

const JN101_AMOUNTS: [&str; 10] = [
    "output_ytd",
    "output_prev",
    "va_ytd",
    "va_prev",
    "revenue_ytd",
    "revenue_prev",
    "profit_ytd",
    "profit_prev",
    "export_ytd",
    "export_prev",
];

fn jn101_sheet(ws: &mut Worksheet, fmt: &Formats, ctx: &Block, ret: &CountyReturn) -> Result<()> {
    let seq = u16::from(ctx.layout.seq_column);
    let ncols = 15 + seq;
    header_block(ws, fmt, ctx, "JN101", "济宁市规模以上工业企业主要经济指标月报", ncols, true)?;
    // Two-row headers.
    if seq == 1 {
        ws.merge_range(3, 0, 4, 0, "序号", &fmt.header)?;
        ws.set_column_width(0, 6)?;
    }
    let singles_before = ["统一社会信用代码", "单位详细名称", "行业代码"];
    for (i, h) in singles_before.iter().enumerate() {
        ws.merge_range(3, seq + i as u16, 4, seq + i as u16, h, &fmt.header)?;
    }
    let pairs = ["工业总产值(当年价格)", "工业增加值", "营业收入", "利润总额", "出口交货值"];
    for (i, h) in pairs.iter().enumerate() {
        let c = seq + 3 + 2 * i as u16;
        ws.merge_range(3, c, 3, c + 1, h, &fmt.header)?;
        ws.write_string_with_format(4, c, "本年累计", &fmt.header)?;
        ws.write_string_with_format(4, c + 1, "上年同期", &fmt.header)?;
    }
    ws.merge_range(3, seq + 13, 4, seq + 13, "期末从业人员(人)", &fmt.header)?;
    ws.merge_range(3, seq + 14, 4, seq + 14, "备注", &fmt.header)?;
    ws.set_row_height(3, 24)?;
    ws.set_column_width(seq, 22)?;
    ws.set_column_width(seq + 1, 34)?;
    ws.set_column_width(seq + 2, 9)?;
    for c in 0..10 {
        ws.set_column_width(seq + 3 + c, 12)?;
    }
    ws.set_column_width(seq + 13, 10)?;
    ws.set_column_width(seq + 14, 26)?;
    ws.set_freeze_panes(5, seq + 2)?;

    for (i, r) in ret.jn101.iter().enumerate() {
        let row = r.excel_row - 1;
        if seq == 1 {
            ws.write_number_with_format(row, 0, (i + 1) as f64, &fmt.count)?;
        }
        ws.write_string_with_format(row, seq, &r.credit_code, &fmt.code)?;
        ws.write_string_with_format(row, seq + 1, &r.name, &fmt.text)?;
        if ctx.layout.industry_code_as_number {
            let n: f64 = r.industry_code.parse()?;
            ws.write_number_with_format(row, seq + 2, n, &fmt.text)?;
        } else {
            ws.write_string_with_format(row, seq + 2, &r.industry_code, &fmt.code)?;
        }
        for (k, (field, v)) in JN101_AMOUNTS.iter().zip(r.amounts()).enumerate() {
            let col = seq + 3 + k as u16;
            if ret.text_amounts.contains(&(r.excel_row, *field)) {
                ws.write_string_with_format(row, col, thousands(v), &fmt.text)?;
            } else if v.is_zero() && field.starts_with("export") && ctx.layout.zero_export_blank {
                ws.write_blank(row, col, &fmt.amount)?;
            } else {
                ws.write_number_with_format(row, col, f64_of(v), &fmt.amount)?;
            }
        }
        ws.write_number_with_format(row, seq + 13, r.employees as f64, &fmt.count)?;
        if r.note.is_empty() {
            ws.write_blank(row, seq + 14, &fmt.text)?;
        } else {
            ws.write_string_with_format(row, seq + 14, &r.note, &fmt.text)?;
        }
    }

    let mut last_row = 4 + ret.jn101.len() as u32; // 0-based index of the last data row
    if let Some(total_row) = ret.jn101_total_row {
        let row = total_row - 1;
        let label_col = if ctx.layout.total_label_in_first_column { 0 } else { seq + 1 };
        for c in 0..ncols {
            ws.write_blank(row, c, &fmt.text)?;
        }
        ws.write_string_with_format(row, label_col, "合计", &fmt.header)?;
        for k in 0..10 {
            let sum: Decimal = ret.jn101.iter().map(|r| r.amounts()[k]).sum();
            ws.write_number_with_format(row, seq + 3 + k as u16, f64_of(sum), &fmt.amount)?;
        }
        let employees: i64 = ret.jn101.iter().map(|r| r.employees).sum();
        ws.write_number_with_format(row, seq + 13, employees as f64, &fmt.count)?;
        // Top or bottom, the 合计 row adds one row above the footer.
        last_row += 1;
    }
    footer(ws, ctx, last_row + 1, ncols)
}

fn jn102_sheet(ws: &mut Worksheet, fmt: &Formats, ctx: &Block, ret: &CountyReturn) -> Result<()> {
    header_block(ws, fmt, ctx, "JN102", "济宁市\"五个倍增\"指标月报", 5, false)?;
    for (c, h) in ["指标名称", "计量单位", "本年累计", "上年同期", "增速(%)"].iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &fmt.header)?;
    }
    ws.set_column_width(0, 26)?;
    ws.set_column_width(1, 9)?;
    ws.set_column_width(2, 14)?;
    ws.set_column_width(3, 14)?;
    ws.set_column_width(4, 10)?;
    for (i, item) in ret.jn102.iter().enumerate() {
        let row = 4 + i as u32;
        let (_, label, unit, indent) = JN102_ITEMS.iter().find(|x| x.0 == item.item).context("jn102 item")?;
        let label_fmt = match indent {
            0 => &fmt.text,
            1 => &fmt.indent1,
            _ => &fmt.indent2,
        };
        ws.write_string_with_format(row, 0, *label, label_fmt)?;
        ws.write_string_with_format(row, 1, *unit, &fmt.text)?;
        let num_fmt = if *unit == "个" { &fmt.count } else { &fmt.amount };
        let prev = item.value_prev.unwrap_or_default();
        ws.write_number_with_format(row, 2, f64_of(item.value_ytd), num_fmt)?;
        ws.write_number_with_format(row, 3, f64_of(prev), num_fmt)?;
        let growth = ((item.value_ytd / prev - Decimal::ONE) * Decimal::from(100))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
        let r1 = row + 1;
        let formula = Formula::new(format!("=ROUND((C{r1}/D{r1}-1)*100,1)")).set_result(growth.to_string());
        ws.write_formula_with_format(row, 4, formula, &fmt.growth)?;
    }
    footer(ws, ctx, 4 + ret.jn102.len() as u32, 5)
}

fn jn103_sheet(ws: &mut Worksheet, fmt: &Formats, ctx: &Block, ret: &CountyReturn) -> Result<()> {
    header_block(ws, fmt, ctx, "JN103", "济宁市营商环境与要素保障月报", 3, false)?;
    for (c, h) in ["指标名称", "计量单位", "本年累计"].iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &fmt.header)?;
    }
    ws.set_column_width(0, 26)?;
    ws.set_column_width(1, 22)?;
    ws.set_column_width(2, 22)?;
    for (i, item) in ret.jn103.iter().enumerate() {
        let row = 4 + i as u32;
        let (_, label, unit) = JN103_ITEMS.iter().find(|x| x.0 == item.item).context("jn103 item")?;
        ws.write_string_with_format(row, 0, *label, &fmt.text)?;
        ws.write_string_with_format(row, 1, *unit, &fmt.text)?;
        let num_fmt = if *unit == "万元" { &fmt.amount } else { &fmt.count };
        ws.write_number_with_format(row, 2, f64_of(item.value_ytd), num_fmt)?;
    }
    footer(ws, ctx, 4 + ret.jn103.len() as u32, 3)
}

fn jn104_sheet(ws: &mut Worksheet, fmt: &Formats, ctx: &Block, ret: &CountyReturn, _data: &SampleData) -> Result<()> {
    let seq = u16::from(ctx.layout.seq_column);
    let headers = [
        "项目名称",
        "项目代码",
        "所属产业链",
        "总投资(万元)",
        "本年计划投资(万元)",
        "本年完成投资(万元)",
        "累计完成投资(万元)",
        "形象进度(%)",
        "项目状态",
        "计划投产时间",
    ];
    let ncols = headers.len() as u16 + seq;
    header_block(ws, fmt, ctx, "JN104", "济宁市重点项目进度月报", ncols, true)?;
    if seq == 1 {
        ws.write_string_with_format(3, 0, "序号", &fmt.header)?;
    }
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(3, seq + c as u16, *h, &fmt.header)?;
    }
    ws.set_row_height(3, 30)?;
    ws.set_column_width(seq, 36)?;
    ws.set_column_width(seq + 1, 24)?;
    ws.set_column_width(seq + 2, 22)?;
    for c in 3..8 {
        ws.set_column_width(seq + c, 12)?;
    }
    ws.set_column_width(seq + 9, 12)?;
    for (i, p) in ret.jn104.iter().enumerate() {
        let row = 4 + i as u32;
        if seq == 1 {
            ws.write_number_with_format(row, 0, (i + 1) as f64, &fmt.count)?;
        }
        ws.write_string_with_format(row, seq, &p.project_name, &fmt.text)?;
        match &p.project_code {
            Some(code) => ws.write_string_with_format(row, seq + 1, code, &fmt.code)?,
            None => ws.write_blank(row, seq + 1, &fmt.code)?,
        };
        ws.write_string_with_format(row, seq + 2, &p.chain, &fmt.text)?;
        let money = [p.total_investment, p.planned_this_year, p.done_this_year, p.done_cumulative];
        for (k, v) in money.into_iter().enumerate() {
            ws.write_number_with_format(row, seq + 3 + k as u16, f64_of(v), &fmt.amount)?;
        }
        ws.write_number_with_format(row, seq + 7, f64_of(p.progress_pct), &fmt.growth)?;
        ws.write_string_with_format(row, seq + 8, &p.status, &fmt.text)?;
        let col = seq + 9;
        match &p.planned_start {
            None => {
                ws.write_blank(row, col, &fmt.text)?;
            }
            Some(ym) => {
                let (y, m) = ym.split_once('-').context("planned_start")?;
                match ctx.layout.planned_start_style {
                    MonthStyle::Dash => ws.write_string_with_format(row, col, ym, &fmt.text)?,
                    MonthStyle::Chinese => ws.write_string_with_format(
                        row,
                        col,
                        format!("{y}年{}月", m.trim_start_matches('0')),
                        &fmt.text,
                    )?,
                    MonthStyle::Dotted => ws.write_string_with_format(row, col, format!("{y}.{m}"), &fmt.text)?,
                    MonthStyle::DateCell => {
                        let date = ExcelDateTime::from_ymd(y.parse()?, m.parse()?, 1)?;
                        ws.write_datetime_with_format(row, col, &date, &fmt.month)?
                    }
                };
            }
        }
    }
    footer(ws, ctx, 4 + ret.jn104.len() as u32, ncols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(Decimal::new(12345, 1)), "1,234.5");
        assert_eq!(thousands(Decimal::new(5, 1)), "0.5");
        assert_eq!(thousands(Decimal::new(1234567890, 1)), "123,456,789.0");
        assert_eq!(thousands(Decimal::new(-123456, 1)), "-12,345.6");
        assert_eq!(thousands(Decimal::new(1000, 0)), "1,000.0");
    }
}
