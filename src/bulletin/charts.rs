//! The bulletin's charts as SVG (plotters, SVG backend only), written beside the bulletin,
//! linked from the Markdown and embedded in the PDF.
//!
//! * `county_va_growth.svg`: value-added growth by county (horizontal bars, city average line);
//! * `doublings_progress.svg`: progress of the five doublings against their targets (bars on a
//!   0—100% track);
//! * `trend.svg`: cumulative growth of value added, output and revenue since 1—2月 (lines).
//!
//! Labels are Chinese, in the family `Noto Sans CJK SC` (bundled, see `fonts/`), which typst
//! resolves from its own fonts when it embeds the SVG. Every chart has an alt text that states
//! what it shows and its key figures in words. Counties whose figures are suppressed by
//! disclosure control are left out of the county chart (and said so in its alt text).

use std::collections::BTreeMap;

use arrow::record_batch::RecordBatch;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{decimal_of_f64, fixed};
use super::values::{number_cell, text_cell};

/// The font family of every label.
pub const FONT: &str = "Noto Sans CJK SC";

/// One chart: its file name (beside the bulletin), alt text and SVG.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `county_va_growth`, `doublings_progress`, `trend`.
    pub name: &'static str,
    /// `county_va_growth.svg`.
    pub file: String,
    pub alt: String,
    pub svg: String,
}

const BLUE: RGBColor = RGBColor(31, 78, 140);
const RED: RGBColor = RGBColor(192, 0, 0);
const GREY: RGBColor = RGBColor(150, 150, 150);
const LIGHT: RGBColor = RGBColor(226, 230, 236);
const ORANGE: RGBColor = RGBColor(214, 120, 30);
const GREEN: RGBColor = RGBColor(40, 130, 80);

fn p1(v: f64) -> String {
    decimal_of_f64(v).map(|d| fixed(d, 1)).unwrap_or_else(|| "—".into())
}

fn style(size: u32, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(color).pos(Pos::new(h, v))
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn svg_of(size: (u32, u32), draw: impl FnOnce(&Area) -> Result<(), String>) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// Horizontal bars, one per labelled value, with an optional reference line (`reference`:
/// label, value) and a fixed scale maximum (`scale_max`, e.g. 100 for progress).
fn bars(
    title: &str,
    rows: &[(String, f64)],
    reference: Option<(String, f64)>,
    scale_max: Option<f64>,
    unit_suffix: &str,
) -> Result<String, String> {
    let width = 760i32;
    let row_h = 30i32;
    let top = 54i32;
    let height = top + row_h * rows.len() as i32 + 40;
    // room for the longest label (about one em of 17 px per character)
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0) as i32;
    let (left, right) = ((24 + 17 * longest).max(90), width - 80);
    let rows: Vec<(String, f64)> = rows.iter().filter(|r| r.1.is_finite()).cloned().collect();
    let rows = &rows[..];
    let reference = reference.filter(|r| r.1.is_finite());
    let lo = rows.iter().map(|r| r.1).fold(0.0_f64, f64::min).min(reference.as_ref().map_or(0.0, |r| r.1));
    let mut hi = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(reference.as_ref().map_or(0.0, |r| r.1));
    if let Some(m) = scale_max {
        hi = hi.max(m);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let x = |v: f64| left + ((v - lo) / (hi - lo) * f64::from(right - left)).round() as i32;
    svg_of((width as u32, height as u32), |root| {
        root.draw(&Text::new(title.to_string(), (width / 2, 22), style(21, &BLACK, HPos::Center, VPos::Center)))
            .map_err(e)?;
        for (i, (label, v)) in rows.iter().enumerate() {
            let y0 = top + row_h * i as i32 + 5;
            let y1 = y0 + row_h - 10;
            if let Some(m) = scale_max {
                root.draw(&Rectangle::new([(x(0.0), y0), (x(m), y1)], LIGHT.filled())).map_err(e)?;
            }
            let (a, b) = if *v >= 0.0 { (x(0.0), x(*v)) } else { (x(*v), x(0.0)) };
            root.draw(&Rectangle::new([(a, y0), (b.max(a + 1), y1)], BLUE.filled())).map_err(e)?;
            let ymid = (y0 + y1) / 2;
            root.draw(&Text::new(label.clone(), (left - 8, ymid), style(17, &BLACK, HPos::Right, VPos::Center)))
                .map_err(e)?;
            // the value right of the bar's end, the zero line and the track, whichever is furthest
            let vx = b.max(x(0.0)).max(x(scale_max.unwrap_or(0.0))) + 6;
            root.draw(&Text::new(
                format!("{}{unit_suffix}", p1(*v)),
                (vx, ymid),
                style(16, &BLACK, HPos::Left, VPos::Center),
            ))
            .map_err(e)?;
        }
        let bottom = top + row_h * rows.len() as i32;
        root.draw(&PathElement::new(vec![(x(0.0), top), (x(0.0), bottom)], BLACK.stroke_width(1))).map_err(e)?;
        if let Some((label, v)) = reference {
            root.draw(&PathElement::new(vec![(x(v), top - 6), (x(v), bottom + 4)], RED.stroke_width(2))).map_err(e)?;
            root.draw(&Text::new(
                format!("{label} {}{unit_suffix}", p1(v)),
                (x(v), bottom + 20),
                style(16, &RED, HPos::Center, VPos::Center),
            ))
            .map_err(e)?;
        }
        Ok(())
    })
}

/// Most grid lines of a chart's value axis.
const MAX_GRID_LINES: usize = 10;

/// The grid step for a value range: 2, 5, 10, 20, 50, 100, … (1, 2, 5 × 10^k, at least 2), the
/// smallest giving at most 8 steps. Any finite range gives a finite step.
fn grid_step(range: f64) -> f64 {
    if !range.is_finite() || range <= 16.0 {
        return 2.0;
    }
    let raw = range / 8.0;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| range / s <= 8.0).unwrap_or(10.0 * magnitude)
}

/// Lines over categorical periods; `series`: (name, colour, values).
fn lines(title: &str, periods: &[String], series: &[(&str, RGBColor, Vec<Option<f64>>)]) -> Result<String, String> {
    let (width, height) = (760i32, 400i32);
    let (left, right, top, bottom) = (60i32, width - 30, 70i32, height - 50);
    // A value that is not a finite number has no place on an axis: drawn as a gap.
    let series: Vec<(&str, RGBColor, Vec<Option<f64>>)> =
        series.iter().map(|(n, c, v)| (*n, *c, v.iter().map(|x| x.filter(|x| x.is_finite())).collect())).collect();
    let series = &series[..];
    let vals: Vec<f64> = series.iter().flat_map(|s| s.2.iter().flatten().copied()).collect();
    let mut lo = vals.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
    let mut hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max).max(0.0);
    lo = (lo / 2.0).floor() * 2.0;
    hi = (hi / 2.0).ceil() * 2.0;
    if hi - lo < 2.0 {
        hi = lo + 2.0;
    }
    let n = periods.len().max(1);
    let x = |i: usize| {
        if n == 1 { (left + right) / 2 } else { left + 20 + (i as i32) * (right - left - 40) / (n as i32 - 1) }
    };
    let y = |v: f64| bottom - ((v - lo) / (hi - lo) * f64::from(bottom - top)).round() as i32;
    svg_of((width as u32, height as u32), |root| {
        root.draw(&Text::new(title.to_string(), (width / 2, 22), style(21, &BLACK, HPos::Center, VPos::Center)))
            .map_err(e)?;
        // grid and y labels every 2, 5, 10, 20, 50, 100 … points: at most 8 steps, whatever
        // the range (an absurd growth rate gives a wide axis, never millions of lines)
        let step = grid_step(hi - lo);
        let first = (lo / step).ceil();
        for k in 0..=MAX_GRID_LINES {
            let g = (first + k as f64) * step;
            if g > hi + step * 1e-9 {
                break;
            }
            let c = if g.abs() < step * 1e-9 { BLACK } else { LIGHT };
            root.draw(&PathElement::new(vec![(left, y(g)), (right, y(g))], c.stroke_width(1))).map_err(e)?;
            root.draw(&Text::new(format!("{g:.0}"), (left - 8, y(g)), style(15, &BLACK, HPos::Right, VPos::Center)))
                .map_err(e)?;
        }
        root.draw(&Text::new("%", (left - 8, top - 16), style(15, &BLACK, HPos::Right, VPos::Center))).map_err(e)?;
        for (i, p) in periods.iter().enumerate() {
            root.draw(&Text::new(p.clone(), (x(i), bottom + 18), style(15, &BLACK, HPos::Center, VPos::Center)))
                .map_err(e)?;
        }
        // legend
        let mut lx = left + 10;
        for (name, colour, _) in series {
            root.draw(&PathElement::new(vec![(lx, 48), (lx + 26, 48)], colour.stroke_width(3))).map_err(e)?;
            root.draw(&Text::new(name.to_string(), (lx + 32, 48), style(16, &BLACK, HPos::Left, VPos::Center)))
                .map_err(e)?;
            lx += 40 + 15 * name.chars().count() as i32;
        }
        for (_, colour, values) in series {
            // a gap where a value is missing
            let mut segment: Vec<(i32, i32)> = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(v) => segment.push((x(i), y(*v))),
                    None => {
                        if segment.len() > 1 {
                            root.draw(&PathElement::new(segment.clone(), colour.stroke_width(3))).map_err(e)?;
                        }
                        segment.clear();
                    }
                }
                if let Some(v) = v {
                    root.draw(&Circle::new((x(i), y(*v)), 4, colour.filled())).map_err(e)?;
                }
            }
            if segment.len() > 1 {
                root.draw(&PathElement::new(segment, colour.stroke_width(3))).map_err(e)?;
            }
        }
        // last values
        for (_, colour, values) in series {
            if let Some((i, Some(v))) = values.iter().enumerate().next_back() {
                root.draw(&Text::new(p1(*v), (x(i) + 8, y(*v) - 10), style(15, colour, HPos::Left, VPos::Center)))
                    .map_err(e)?;
            }
        }
        let _ = GREY;
        Ok(())
    })
}

/// Rows of a model as column → cell accessor.
struct Rows<'a>(&'a [RecordBatch]);

impl Rows<'_> {
    fn each(&self, mut f: impl FnMut(&dyn Fn(&str) -> (Option<String>, Option<f64>))) {
        for b in self.0 {
            for row in 0..b.num_rows() {
                let get = |name: &str| match b.column_by_name(name) {
                    Some(c) => (text_cell(c, row), number_cell(c, row)),
                    None => (None, None),
                };
                f(&get);
            }
        }
    }
}

fn is_true(s: Option<String>) -> bool {
    s.is_some_and(|s| s == "true")
}

/// The charts for the period's model outputs (a chart whose model is missing or empty is
/// left out). `full_label`: `2025年1—9月`; `city_va_growth`: the city's growth (reference line).
pub fn build(
    models: &BTreeMap<String, Vec<RecordBatch>>,
    full_label: &str,
    city_va_growth: Option<f64>,
) -> Result<Vec<Chart>, String> {
    let mut charts = Vec::new();

    if let Some(b) = models.get("county_ranking") {
        let mut rows = Vec::new();
        let mut hidden = 0;
        Rows(b).each(|get| {
            let name = get("short_name").0.or(get("name").0).unwrap_or_default();
            if is_true(get("suppressed").0) {
                hidden += 1;
            } else if let Some(v) = get("va_growth").1 {
                rows.push((name, v));
            }
        });
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        if !rows.is_empty() {
            let title = format!("{full_label}各县市区规上工业增加值增速(%)");
            let svg = bars(&title, &rows, city_va_growth.map(|v| ("全市".to_string(), v)), None, "")?;
            let mut alt = format!(
                "条形图：{title}，按增速从高到低排列。最高为{}（{}%），最低为{}（{}%）",
                rows[0].0,
                p1(rows[0].1),
                rows[rows.len() - 1].0,
                p1(rows[rows.len() - 1].1)
            );
            if let Some(c) = city_va_growth {
                alt.push_str(&format!("；红线为全市平均{}%", p1(c)));
            }
            if hidden > 0 {
                alt.push_str(&format!("；{hidden}个县市区数据保密，未列出"));
            }
            alt.push('。');
            charts.push(Chart { name: "county_va_growth", file: "county_va_growth.svg".into(), alt, svg });
        }
    }

    if let Some(b) = models.get("doublings") {
        let mut rows = Vec::new();
        Rows(b).each(|get| {
            if let (Some(name), Some(p)) = (get("name").0, get("progress").1) {
                rows.push((name, p));
            }
        });
        if !rows.is_empty() {
            let title = "“五个倍增”目标进度(%)".to_string();
            let svg = bars(&title, &rows, None, Some(100.0), "%")?;
            let list: Vec<String> = rows.iter().map(|(n, p)| format!("{n}{}%", p1(*p))).collect();
            let alt = format!("条形图：“五个倍增”各项指标完成目标的进度，满格为100%：{}。", list.join("，"));
            charts.push(Chart { name: "doublings_progress", file: "doublings_progress.svg".into(), alt, svg });
        }
    }

    if let Some(b) = models.get("trend") {
        let mut periods = Vec::new();
        let (mut va, mut out, mut rev) = (Vec::new(), Vec::new(), Vec::new());
        Rows(b).each(|get| {
            periods.push(get("period_label").0.unwrap_or_default());
            va.push(get("va_growth").1);
            out.push(get("output_growth").1);
            rev.push(get("revenue_growth").1);
        });
        if va.iter().chain(&out).chain(&rev).any(Option::is_some) {
            let title = format!("{full_label}全市规上工业主要指标累计增速(%)");
            let first_last = |v: &[Option<f64>]| match (v.iter().flatten().next(), v.iter().flatten().next_back()) {
                (Some(a), Some(b)) => format!("由{}%变为{}%", p1(*a), p1(*b)),
                _ => "无数据".to_string(),
            };
            let alt = format!(
                "折线图：{}至{}全市规上工业增加值、工业总产值、营业收入累计增速。增加值增速{}，总产值增速{}，营业收入增速{}。",
                periods.first().cloned().unwrap_or_default(),
                periods.last().cloned().unwrap_or_default(),
                first_last(&va),
                first_last(&out),
                first_last(&rev)
            );
            let svg = lines(
                &title,
                &periods,
                &[("工业增加值", BLUE, va), ("工业总产值", ORANGE, out), ("营业收入", GREEN, rev)],
            )?;
            charts.push(Chart { name: "trend", file: "trend.svg".into(), alt, svg });
        }
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_chinese_labels_and_values() {
        let svg = bars(
            "各县市区增速",
            &[("任城".into(), 9.75), ("微山".into(), -1.25)],
            Some(("全市".into(), 8.25)),
            None,
            "",
        )
        .unwrap();
        assert!(svg.contains("任城") && svg.contains("微山") && svg.contains("各县市区增速"), "{svg}");
        // rounding as in the tables: half away from zero on the decimal value
        assert!(svg.contains("\n9.8\n"), "{svg}");
        assert!(svg.contains("\n-1.3\n"), "{svg}");
        assert!(svg.contains("\n全市 8.3\n"), "{svg}");
        assert!(svg.contains(FONT));
    }

    #[test]
    fn an_absurd_value_gives_a_wide_axis_not_a_dense_grid() {
        // A revenue of 1E+17 万元 against a normal base: growth of about 10^11 %.
        let svg = lines(
            "趋势",
            &["1—2月".into(), "1—3月".into()],
            &[
                ("营业收入", GREEN, vec![Some(8.0), Some(1.2e11)]),
                ("x", BLUE, vec![Some(f64::NAN), Some(f64::INFINITY)]),
            ],
        )
        .unwrap();
        let grid = svg.matches("stroke=\"#E2E6EC\"").count() + svg.matches("stroke=\"#000000\"").count();
        assert!((2..=MAX_GRID_LINES + 2).contains(&grid), "{grid} grid lines");
        assert!(svg.len() < 20_000, "{} bytes", svg.len());
        for range in [1.0, 17.0, 99.0, 1e3, 1.23e11, 1e300, f64::MAX] {
            let step = grid_step(range);
            assert!(step.is_finite() && range / step <= 8.0 + 1e-9, "{range}: {step}");
        }
        let bars =
            bars("x", &[("a".into(), 1e17), ("b".into(), f64::NAN)], Some(("全市".into(), 5.0)), None, "").unwrap();
        assert!(bars.len() < 20_000);
    }

    #[test]
    fn lines_leave_gaps_for_missing_values() {
        let svg = lines(
            "趋势",
            &["1—2月".into(), "1—3月".into(), "1—4月".into()],
            &[("增加值", BLUE, vec![Some(8.0), None, Some(9.0)])],
        )
        .unwrap();
        // two points, and no connecting line across the gap: the only blue line is the legend's
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert_eq!(svg.matches("stroke=\"#1F4E8C\"").count(), 1, "{svg}");
        assert!(svg.contains("1—3月"));
    }
}
