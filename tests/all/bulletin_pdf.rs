//! The bulletin as PDF and Markdown from the one template: the sample 2025-09 run renders a PDF
//! whose extracted text carries the published figures, with every font embedded; suppressed
//! cells print as "…" in both outputs; names that look like markup print literally; a draft
//! says 草稿 on every page.
//!
//! The sample run happens once per test binary (shared by the tests below); the tests that
//! change model outputs render from copies of its warehouse tables.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Float64Type};
use gongbao::bulletin::{self, AuditSummary, BulletinInput, Templates};
use gongbao::disclosure;

const CITY: &str = "370800";

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

use crate::sample_run::sample_run as sample;

/// The period's published output of every model, read back from the warehouse.
fn models(out: &Path) -> BTreeMap<String, Vec<RecordBatch>> {
    let mut m = BTreeMap::new();
    for name in
        ["indicator_values", "county_ranking", "chain_summary", "doublings", "trend", "key_projects", "jn101_cells"]
    {
        let batches =
            gongbao::store::read_dir_batches(&out.join("warehouse").join(name).join("period=2025-09")).unwrap();
        m.insert(name.to_string(), batches);
    }
    m
}

fn templates() -> Templates {
    let mut t = Templates::in_project(project());
    // The same fonts on every machine, whatever is installed.
    t.bundled_fonts_only = true;
    t
}

fn input<'a>(models: &'a BTreeMap<String, Vec<RecordBatch>>, audit: AuditSummary) -> BulletinInput<'a> {
    BulletinInput {
        period: "2025-09",
        models,
        audit,
        issued_on: chrono::NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        office: "济宁市统计局".to_string(),
    }
}

fn pdf_text(pdf: &[u8]) -> String {
    pdf_extract::extract_text_from_mem(pdf).expect("the PDF's text can be extracted")
}

fn pdf_pages(pdf: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(pdf).expect("the PDF's text can be extracted")
}

/// A PDF text string: UTF-16BE with a byte order mark, else PDFDocEncoding (ASCII here).
fn pdf_string(b: &[u8]) -> String {
    match b.strip_prefix(&[0xFE, 0xFF]) {
        Some(u) => {
            String::from_utf16(&u.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect::<Vec<_>>()).unwrap()
        }
        None => String::from_utf8_lossy(b).to_string(),
    }
}

/// Text without any whitespace (table cells and line breaks come out spaced in many ways).
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The cells of the Markdown table row that starts with `| <first> | <second> |`.
fn md_row(md: &str, name: &str) -> Vec<String> {
    let line = md
        .lines()
        .find(|l| l.starts_with('|') && l.split('|').nth(2).is_some_and(|c| c.trim() == name))
        .unwrap_or_else(|| panic!("no table row for {name} in\n{md}"));
    line.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect()
}

#[test]
fn the_sample_bulletin_pdf_carries_the_published_figures() {
    let run = sample();
    let dir = run.out.join("bulletins/2025-09");
    assert_eq!(run.summary.bulletin.as_deref(), Some(dir.join("bulletin.md").as_path()));
    let md = std::fs::read_to_string(dir.join("bulletin.md")).unwrap();
    let pdf = std::fs::read(dir.join("bulletin.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = squash(&pdf_text(&pdf));

    // Title, period, office and date.
    for needle in ["济宁市工业经济倍增监测月报", "2025年1—9月", "济宁市统计局", "2025年10月15日"]
    {
        assert!(text.contains(needle), "PDF lacks {needle}: {text}");
    }
    // The figures of the published news article (shared/), in both outputs.
    for needle in ["增长8.3%", "增长9.7%", "61.1%", "31.42亿元"] {
        assert!(md.contains(needle), "Markdown lacks {needle}");
        assert!(text.contains(needle), "PDF lacks {needle}: {text}");
    }
    // Section headings and notes; the notes define exactly the symbols the body prints.
    for needle in ["一、总体情况", "四、县市区情况", "附注"] {
        assert!(text.contains(needle), "PDF lacks {needle}");
    }
    assert_eq!(defined_symbols(&md), body_symbols(&md), "{md}");
    // The county table opens with the city, whose figures are the overall section's.
    let city_row = md_row(&md, "全市");
    assert_eq!(city_row[2], city_row[2].parse::<u32>().unwrap().to_string());
    assert!(md.contains(&format!("全市{}家规模以上工业企业", city_row[2])), "{city_row:?}");
    assert!(md.contains(&format!("实现工业增加值{}亿元", city_row[3])), "{city_row:?}");
    assert_eq!(city_row[5], "100.0");
    // Ranks follow the printed rates, ties sharing a rank.
    assert_ranks_follow_printed_rates(&md);
    // Every caption starts its own paragraph (a note above it must not swallow it).
    let lines: Vec<&str> = md.lines().collect();
    for (i, l) in lines.iter().enumerate().skip(1) {
        let caption =
            (l.starts_with('表') || l.starts_with('图')) && l.chars().nth(1).is_some_and(|c| c.is_ascii_digit());
        assert!(!caption || lines[i - 1].is_empty(), "caption {l:?} follows {:?}", lines[i - 1]);
    }
    // A county row of the county table: its cells, in order, as the Markdown has them.
    let first_county = md
        .lines()
        .skip_while(|l| !l.starts_with("表4"))
        .find(|l| l.starts_with("| 1 |"))
        .expect("the county table has a first row");
    let cells: Vec<&str> = first_county.trim_matches('|').split('|').map(str::trim).collect();
    assert_eq!(cells.len(), 9, "{first_county}");
    assert!(cells[2].parse::<u32>().is_ok() && cells[4].parse::<f64>().is_ok(), "{cells:?}");
    assert!(text.contains(&cells.concat()), "PDF lacks the county row {cells:?}");

    // Charts: written beside the bulletin, linked with alt text from the Markdown.
    for chart in ["county_va_growth", "doublings_progress", "trend"] {
        let svg = std::fs::read_to_string(dir.join(format!("charts/{chart}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{chart}");
        let link = format!("](charts/{chart}.svg)");
        let line = md.lines().find(|l| l.contains(&link)).unwrap_or_else(|| panic!("no link to {chart}"));
        assert!(line.starts_with("![") && line.len() > link.len() + 20, "alt text of {chart}: {line}");
    }
    // Chart labels are text in the PDF too (typst sets the SVG's Chinese labels with our fonts).
    assert!(text.contains("各县市区规上工业增加值增速(%)"), "chart title not in the PDF text");
    assert!(text.contains("工业经济总量"), "doublings chart/table label missing");

    // A sensible number of A4 pages.
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    // The charts' alt texts are in the PDF (tagged figures' /Alt), the same as in the Markdown.
    let alts: Vec<String> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter_map(|d| d.get(b"Alt").ok())
        .filter_map(|a| a.as_str().ok())
        .map(pdf_string)
        .collect();
    for chart in ["county_va_growth", "doublings_progress", "trend"] {
        let link = format!("](charts/{chart}.svg)");
        let line = md.lines().find(|l| l.contains(&link)).unwrap();
        let alt = gongbao::bulletin::values::unescape_markdown(&line[2..line.len() - link.len()]);
        assert!(alts.contains(&alt), "PDF lacks the alt text {alt:?} of {chart}: {alts:?}");
    }
    let pages = doc.get_pages();
    assert!((3..=12).contains(&pages.len()), "{} pages", pages.len());
    for (_, id) in pages {
        let page = doc.get_dictionary(id).unwrap();
        let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
        let w = mb[2].as_float().unwrap() - mb[0].as_float().unwrap();
        let h = mb[3].as_float().unwrap() - mb[1].as_float().unwrap();
        assert!((w - 595.28).abs() < 1.0 && (h - 841.89).abs() < 1.0, "not A4: {w} × {h}");
    }
    // The sample holds deliberate errors, so it is a draft: in the Markdown title and the PDF.
    assert!(md.lines().next().unwrap().contains("（草稿）"));
    assert!(text.contains("草稿"));
}

/// Every font of the PDF is embedded: each font descriptor has a FontFile, FontFile2 or
/// FontFile3 stream, and there is at least one.
#[test]
fn every_font_is_embedded() {
    let run = sample();
    let pdf = std::fs::read(run.out.join("bulletins/2025-09/bulletin.pdf")).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let mut descriptors = 0;
    let mut fonts = 0;
    for obj in doc.objects.values() {
        let Ok(dict) = obj.as_dict() else { continue };
        let ty = dict.get(b"Type").and_then(|t| t.as_name()).ok();
        if ty == Some(b"Font".as_slice()) {
            fonts += 1;
            let sub = dict.get(b"Subtype").and_then(|t| t.as_name()).unwrap();
            assert!(sub != b"Type1".as_slice() || dict.has(b"FontDescriptor"), "a non-embedded standard Type1 font");
        }
        if ty == Some(b"FontDescriptor".as_slice()) {
            descriptors += 1;
            assert!(
                dict.has(b"FontFile") || dict.has(b"FontFile2") || dict.has(b"FontFile3"),
                "font descriptor without an embedded font file: {dict:?}"
            );
            let name = String::from_utf8_lossy(dict.get(b"FontName").unwrap().as_name().unwrap()).to_string();
            assert!(name.contains("Noto"), "unexpected font {name}");
        }
    }
    assert!(fonts >= 2 && descriptors >= 2, "{fonts} fonts, {descriptors} descriptors");
}

/// Renders from the sample's model outputs, timing the render (written down in the README).
fn render(models: &BTreeMap<String, Vec<RecordBatch>>, audit: AuditSummary) -> bulletin::Rendered {
    let start = Instant::now();
    let r = bulletin::render(&templates(), &input(models, audit)).expect("the bulletin renders");
    eprintln!("bulletin rendered in {:.2} s, {} pages, {} bytes", start.elapsed().as_secs_f64(), r.pages, r.pdf.len());
    r
}

#[test]
fn a_draft_says_so_on_every_page() {
    let run = sample();
    let m = models(&run.out);
    let audit = AuditSummary { missing: vec!["微山县(JN101)".to_string()], ..Default::default() };
    let r = render(&m, audit);
    assert!(r.markdown.lines().next().unwrap().contains("（草稿）"), "{}", r.markdown);
    let pages = pdf_pages(&r.pdf);
    assert_eq!(pages.len(), r.pages);
    assert!(pages.len() >= 2);
    for (i, p) in pages.iter().enumerate() {
        assert!(squash(p).contains("草稿"), "page {} lacks 草稿: {p}", i + 1);
    }
    assert!(squash(&pages[0]).contains("未报送：微山县(JN101)"));

    // Complete and without errors: no 草稿 anywhere.
    let clean = render(&m, AuditSummary::default());
    assert!(!clean.markdown.contains("草稿"));
    assert!(!pdf_text(&clean.pdf).contains("草稿"));
    // Byte-reproducible: the same inputs give the same PDF.
    assert_eq!(render(&m, AuditSummary::default()).pdf, clean.pdf);
}

/// Replaces the `project_name` of the first key project.
fn rename_first_project(batches: &[RecordBatch], name: &str) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut done = false;
    for b in batches {
        let idx = b.schema().index_of("project_name").unwrap();
        let col = arrow::compute::cast(b.column(idx), &DataType::Utf8).unwrap();
        let names: StringArray = (0..b.num_rows())
            .map(|i| {
                if !done && i == 0 {
                    done = true;
                    Some(name.to_string())
                } else {
                    (!col.is_null(i)).then(|| col.as_string::<i32>().value(i).to_string())
                }
            })
            .collect();
        let mut cols = b.columns().to_vec();
        cols[idx] = Arc::new(names);
        let mut fields: Vec<_> = b.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[idx] = fields[idx].clone().with_data_type(DataType::Utf8);
        out.push(RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), cols).unwrap());
    }
    assert!(done, "the sample has key projects");
    out
}

#[test]
fn names_that_look_like_markup_print_literally() {
    let run = sample();
    let mut m = models(&run.out);
    let evil = r#"#read("/etc/passwd") *bold* <script>alert(1)</script> $x$ ] \ [链接](http://x) `code`"#;
    let projects = rename_first_project(&m["key_projects"], evil);
    m.insert("key_projects".to_string(), projects);
    let r = render(&m, AuditSummary::default());

    // Markdown: escaped so that a Markdown renderer shows it as typed (and no raw HTML).
    assert!(!r.markdown.contains("<script>"));
    let row = md_row(&r.markdown, &gongbao::bulletin::values::escape_markdown(evil));
    assert_eq!(bulletin::values::unescape_markdown(&row[1]), evil);
    // The document the PDF is laid out from holds the name as data, exactly.
    let doc = bulletin::document::parse(&r.markdown, false, "");
    assert!(doc.text().contains(evil));
    // PDF: the name prints as itself (nothing ran: no file was read, nothing became bold code).
    let text = squash(&pdf_text(&r.pdf));
    assert!(text.contains(&squash(evil)), "PDF lacks the literal name: {text}");
    assert!(!text.contains("root:"), "something read /etc/passwd");
}

/// A suppression hiding every variable of the listed counties' totals.
fn hide_counties(codes: &[(&str, disclosure::Reason)]) -> disclosure::Suppression {
    let mut s = disclosure::Suppression::default();
    for (code, why) in codes {
        for v in disclosure::rules::VARS {
            s.hide(code, "_T", v, *why);
        }
    }
    s
}

fn county_ranking_rows(batches: &[RecordBatch]) -> Vec<(String, String, Option<f64>, bool)> {
    let mut rows = Vec::new();
    for b in batches {
        let code = arrow::compute::cast(b.column_by_name("region_code").unwrap(), &DataType::Utf8).unwrap();
        let name = arrow::compute::cast(b.column_by_name("name").unwrap(), &DataType::Utf8).unwrap();
        let va = arrow::compute::cast(b.column_by_name("va_ytd").unwrap(), &DataType::Float64).unwrap();
        let va = va.as_primitive::<Float64Type>();
        let flag = b.column_by_name("suppressed").unwrap().as_boolean().clone();
        for i in 0..b.num_rows() {
            rows.push((
                code.as_string::<i32>().value(i).to_string(),
                name.as_string::<i32>().value(i).to_string(),
                (!va.is_null(i)).then(|| va.value(i)),
                flag.value(i),
            ));
        }
    }
    rows
}

#[test]
fn suppressed_cells_print_as_ellipsis_in_both_outputs_and_totals_still_add_up() {
    let run = sample();
    let published = models(&run.out);
    // The published sample suppresses no county total.
    let original = county_ranking_rows(&published["county_ranking"]);
    assert!(original.iter().all(|r| !r.3 && r.2.is_some()), "{original:?}");

    // Two counties: one with 2 enterprises, one where two enterprises make 90% of value added.
    let (few, dominated) = (&original[0], &original[original.len() / 2]);
    let s = hide_counties(&[(&few.0, disclosure::Reason::TooFew), (&dominated.0, disclosure::Reason::Dominated)]);
    assert!(!s.contains(CITY, "_T", disclosure::Var::ValueAdded));

    let mut m = BTreeMap::new();
    for (name, batches) in &published {
        m.insert(name.clone(), disclosure::apply(name, batches, &s).unwrap());
    }

    // indicator_values: status C, value NULL, for both counties' amounts and growth rates.
    for b in &m["indicator_values"] {
        let col = |n: &str| arrow::compute::cast(b.column_by_name(n).unwrap(), &DataType::Utf8).unwrap();
        let (r, bd, ind, st) = (col("region_code"), col("breakdown"), col("indicator"), col("status"));
        let v = b.column_by_name("value").unwrap();
        for i in 0..b.num_rows() {
            let (r, bd, ind, st) = (
                r.as_string::<i32>().value(i),
                bd.as_string::<i32>().value(i),
                ind.as_string::<i32>().value(i),
                st.as_string::<i32>().value(i),
            );
            if (r == few.0 || r == dominated.0) && bd == "_T" && ["va_ytd", "va_growth", "revenue_ytd"].contains(&ind) {
                assert_eq!(st, "C", "{r} {ind}");
                assert!(v.is_null(i), "{r} {ind}");
            }
            if st == "C" {
                assert!(v.is_null(i));
            }
        }
    }

    // The totals still add up: the city's value added is unchanged and equals the sum of all
    // counties as computed before suppression; the published counties sum to less, the
    // difference covering at least two hidden counties.
    let after = county_ranking_rows(&m["county_ranking"]);
    let hidden: Vec<_> = after.iter().filter(|r| r.3).collect();
    assert!(hidden.len() >= 2);
    assert!(hidden.iter().all(|r| r.2.is_none()));
    let all: f64 = original.iter().filter_map(|r| r.2).sum();
    let shown: f64 = after.iter().filter_map(|r| r.2).sum();
    let city = |ms: &BTreeMap<String, Vec<RecordBatch>>| -> f64 {
        let mut v = None;
        for b in &ms["indicator_values"] {
            let col = |n: &str| arrow::compute::cast(b.column_by_name(n).unwrap(), &DataType::Utf8).unwrap();
            let (r, bd, ind) = (col("region_code"), col("breakdown"), col("indicator"));
            let val = b.column_by_name("value").unwrap().as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                if r.as_string::<i32>().value(i) == CITY
                    && bd.as_string::<i32>().value(i) == "_T"
                    && ind.as_string::<i32>().value(i) == "va_ytd"
                {
                    v = Some(val.value(i));
                }
            }
        }
        v.expect("city va_ytd")
    };
    assert_eq!(city(&m), city(&published));
    assert!((city(&m) - all).abs() < 1e-3 * all.abs().max(1.0), "{} vs {all}", city(&m));
    assert!(shown < all);

    // Both outputs print "…" in the two counties' rows, and their own numbers nowhere.
    let r = render(&m, AuditSummary::default());
    let text = squash(&pdf_text(&r.pdf));
    assert!(r.markdown.contains("“…”表示数据保密，不予公布"), "{}", r.markdown);
    assert_eq!(defined_symbols(&r.markdown), body_symbols(&r.markdown));
    assert_ranks_follow_printed_rates(&r.markdown);
    for county in [few, dominated] {
        let row = md_row(&r.markdown, &county.1);
        assert_eq!(row[0], "…", "{row:?}");
        assert_eq!(&row[3..], ["…"; 6], "{row:?}");
        assert!(text.contains(&squash(&row.concat())), "PDF lacks the suppressed row {row:?}");
    }
}

/// The symbols printed as figures in the bulletin's body (before 附注): `…` anywhere, `—` unless
/// between two digits (`1—9月` is a period).
fn body_symbols(md: &str) -> Vec<&'static str> {
    let body: Vec<char> = md[..md.find("## 附注").unwrap()].chars().collect();
    let mut found = Vec::new();
    if body.contains(&'…') {
        found.push("…");
    }
    let digit = |i: usize| body.get(i).is_some_and(|c| c.is_ascii_digit());
    if (0..body.len()).any(|i| body[i] == '—' && !(i > 0 && digit(i - 1) && digit(i + 1))) {
        found.push("—");
    }
    found
}

fn defined_symbols(md: &str) -> Vec<&'static str> {
    let notes = &md[md.find("## 附注").unwrap()..];
    ["…", "—", "#"].into_iter().filter(|s| notes.contains(&format!("“{s}”"))).collect()
}

/// Every ranked row of 表4 has rank 1 + the number of counties printed with a higher rate.
fn assert_ranks_follow_printed_rates(md: &str) {
    let rows: Vec<Vec<String>> = md
        .lines()
        .skip_while(|l| !l.starts_with("表4"))
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect();
    let rates: Vec<Option<f64>> = rows.iter().map(|r| r[4].parse::<f64>().ok()).collect();
    let mut ranked = 0;
    for (r, rate) in rows.iter().zip(&rates) {
        if r[1] == "全市" {
            continue;
        }
        if let (Ok(rank), Some(rate)) = (r[0].parse::<usize>(), rate) {
            let higher =
                rows.iter().zip(&rates).filter(|(o, x)| o[1] != "全市" && x.is_some_and(|x| x > *rate)).count();
            assert_eq!(rank, higher + 1, "{r:?}");
            ranked += 1;
        }
    }
    assert!(ranked >= 10, "{ranked} ranked rows in\n{md}");
}

/// A county that did not report prints 未报 (never …, which means confidential), in both
/// outputs, with a note that the city figures exclude it.
#[test]
fn a_county_that_did_not_report_shows_as_not_reported() {
    use arrow::array::BooleanArray;
    let run = sample();
    let mut m = models(&run.out);
    let b = &m["county_ranking"][0];
    let name = arrow::compute::cast(b.column_by_name("name").unwrap(), &DataType::Utf8).unwrap();
    let name = name.as_string::<i32>().value(3).to_string();
    // As county_ranking has it for a county without accepted JN101 rows: reported false, no figures.
    let mut cols = b.columns().to_vec();
    let schema = b.schema();
    for (i, f) in schema.fields().iter().enumerate() {
        let keep: Vec<bool> = (0..b.num_rows()).map(|r| r != 3).collect();
        match f.name().as_str() {
            "reported" => cols[i] = Arc::new(BooleanArray::from(keep)),
            "region_code" | "name" | "short_name" | "suppressed" | "enterprises" => {}
            _ => {
                cols[i] =
                    arrow::compute::nullif(&cols[i], &BooleanArray::from(keep.iter().map(|k| !k).collect::<Vec<_>>()))
                        .unwrap()
            }
        }
    }
    let doctored = RecordBatch::try_new(schema.clone(), cols).unwrap();
    m.insert("county_ranking".to_string(), vec![doctored]);
    let r = render(&m, AuditSummary::default());
    let row = md_row(&r.markdown, &name);
    assert_eq!(row, [vec!["".to_string(), name.clone()], vec!["未报".to_string(); 7]].concat(), "{row:?}");
    assert!(r.markdown.contains(&format!("“未报”表示本期未报送规上工业报表，全市数据不含{name}。")), "{}", r.markdown);
    let text = squash(&pdf_text(&r.pdf));
    assert!(text.contains(&squash(&row.concat())), "PDF lacks the row {row:?}");
    assert!(text.contains(&format!("全市数据不含{name}")));
}

#[test]
fn characters_no_font_has_are_named_in_a_warning() {
    let run = sample();
    let mut m = models(&run.out);
    // 堃 is GBK but not GB 2312; 𠀀 is beyond the BMP: neither is in the bundled subsets.
    let projects = rename_first_project(&m["key_projects"], "山东堃𠀀机械项目");
    m.insert("key_projects".to_string(), projects);
    let r = render(&m, AuditSummary::default());
    let w = r.warnings.join("\n");
    assert!(w.contains("「堃」(U+5803)") && w.contains("「𠀀」(U+20000)"), "{w}");
    // The sample as it is needs no warning.
    let clean = render(&models(&run.out), AuditSummary::default());
    assert!(clean.warnings.is_empty(), "{:?}", clean.warnings);
}

/// A hidden county and its complement (which complement is chosen is tested in
/// src/disclosure): both print as "…" in both outputs and leave the county chart.
#[test]
fn one_hidden_county_and_its_complement_print_as_ellipsis_and_leave_the_chart() {
    let run = sample();
    let published = models(&run.out);
    let original = county_ranking_rows(&published["county_ranking"]);
    let few = &original[0];
    let next_smallest =
        original.iter().filter(|r| r.0 != few.0).min_by(|a, b| a.2.unwrap().total_cmp(&b.2.unwrap())).unwrap();
    let s = hide_counties(&[(&few.0, disclosure::Reason::TooFew), (&next_smallest.0, disclosure::Reason::Secondary)]);
    let mut m = BTreeMap::new();
    for (name, batches) in &published {
        m.insert(name.clone(), disclosure::apply(name, batches, &s).unwrap());
    }
    let r = render(&m, AuditSummary::default());
    let text = squash(&pdf_text(&r.pdf));
    for county in [few, next_smallest] {
        let row = md_row(&r.markdown, &county.1);
        assert_eq!(&row[3..], ["…"; 6], "{row:?}");
        assert!(text.contains(&squash(&row.concat())), "PDF lacks the suppressed row {row:?}");
    }
    // The county chart leaves them out and says so.
    let chart = r.charts.iter().find(|c| c.name == "county_va_growth").unwrap();
    assert!(chart.alt.contains("2个县市区数据保密"), "{}", chart.alt);
    let short = |code: &str| -> String {
        let b = &published["county_ranking"][0];
        let codes = arrow::compute::cast(b.column_by_name("region_code").unwrap(), &DataType::Utf8).unwrap();
        let names = arrow::compute::cast(b.column_by_name("short_name").unwrap(), &DataType::Utf8).unwrap();
        let i = (0..b.num_rows()).find(|i| codes.as_string::<i32>().value(*i) == code).unwrap();
        names.as_string::<i32>().value(i).to_string()
    };
    assert!(!chart.svg.contains(&format!("\n{}\n", short(&few.0))));
    assert!(!chart.svg.contains(&format!("\n{}\n", short(&next_smallest.0))));
}
