//! The rendered Markdown bulletin → a structured document (blocks of plain-text runs) that the
//! typst layout (`templates/bulletin.typ`) reads as JSON *data*.
//!
//! This is how one template (`templates/bulletin.md.j2`) gives both outputs: the statistician's
//! template renders Markdown; the Markdown is parsed here (pulldown-cmark, which also undoes the
//! Markdown escaping of text from the returns) into headings, paragraphs, tables, lists, quotes
//! and images; the typst layout walks that list. No text of the bulletin is ever pasted into
//! typst markup: a project named `#read("/etc/passwd")` arrives in typst as a string value and
//! prints as itself.
//!
//! Conventions the layout relies on:
//! * the first level-1 heading is the title;
//! * paragraphs before the first level-2 heading are front matter (period, office and date),
//!   set centred;
//! * a paragraph starting with `表` or `图` directly before a table or an image is its caption.

use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// A run of text, bold or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The text, literally.
    pub t: String,
    /// Bold.
    pub b: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    /// A section heading (`##` → level 2).
    Heading { level: u8, runs: Vec<Run> },
    /// A paragraph; `front` for the centred front matter under the title.
    Para { runs: Vec<Run>, front: bool },
    /// A block quote (the draft notice), as paragraphs.
    Quote { paras: Vec<Vec<Run>> },
    /// A list (the notes), one run list per item.
    List { ordered: bool, start: u64, items: Vec<Vec<Run>> },
    /// A table: alignment per column (`l`, `c`, `r`), header cells, body rows.
    Table { caption: Option<String>, align: Vec<String>, header: Vec<Vec<Run>>, rows: Vec<Vec<Vec<Run>>> },
    /// An image (a chart) with its alt text, on its own paragraph.
    Image { caption: Option<String>, src: String, alt: String },
}

/// The whole bulletin as data for the typst layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub title: String,
    pub draft: bool,
    pub office: String,
    pub blocks: Vec<Block>,
}

impl Document {
    /// Every character of visible text (for the font coverage check).
    pub fn text(&self) -> String {
        let mut s = self.title.clone();
        s.push_str(&self.office);
        if self.draft {
            s.push_str("草稿");
        }
        let runs = |s: &mut String, r: &[Run]| r.iter().for_each(|r| s.push_str(&r.t));
        for b in &self.blocks {
            match b {
                Block::Heading { runs: r, .. } | Block::Para { runs: r, .. } => runs(&mut s, r),
                Block::Quote { paras } => paras.iter().for_each(|p| runs(&mut s, p)),
                Block::List { items, .. } => items.iter().for_each(|p| runs(&mut s, p)),
                Block::Table { caption, header, rows, .. } => {
                    s.push_str(caption.as_deref().unwrap_or_default());
                    header.iter().for_each(|c| runs(&mut s, c));
                    rows.iter().flatten().for_each(|c| runs(&mut s, c));
                }
                Block::Image { caption, alt, .. } => {
                    s.push_str(caption.as_deref().unwrap_or_default());
                    s.push_str(alt);
                }
            }
        }
        s
    }
}

/// Plain text of runs.
pub fn plain(runs: &[Run]) -> String {
    runs.iter().map(|r| r.t.as_str()).collect()
}

fn push_text(runs: &mut Vec<Run>, text: &str, bold: bool) {
    if text.is_empty() {
        return;
    }
    match runs.last_mut() {
        Some(last) if last.b == bold => last.t.push_str(text),
        _ => runs.push(Run { t: text.to_string(), b: bold }),
    }
}

/// A table being read: alignments, header cells, body rows.
type TableParts = (Vec<String>, Vec<Vec<Run>>, Vec<Vec<Vec<Run>>>);

/// Parses the bulletin's Markdown (CommonMark + GFM tables).
pub fn parse(markdown: &str, draft: bool, office: &str) -> Document {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES);
    let mut doc = Document { title: String::new(), draft, office: office.to_string(), blocks: Vec::new() };
    let mut runs: Vec<Run> = Vec::new();
    let mut bold = 0usize;
    let mut seen_section = false;
    let mut quote: Option<Vec<Vec<Run>>> = None;
    let mut list: Option<(bool, u64, Vec<Vec<Run>>)> = None;
    let mut table: Option<TableParts> = None;
    let mut row: Vec<Vec<Run>> = Vec::new();
    // (src, alt) of an image being read, and images finished in the current paragraph.
    let mut image: Option<(String, String)> = None;
    let mut images: Vec<(String, String)> = Vec::new();

    let take_caption = |blocks: &mut Vec<Block>, mark: char| -> Option<String> {
        if let Some(Block::Para { runs, front: false }) = blocks.last() {
            let text = plain(runs);
            if text.starts_with(mark) {
                blocks.pop();
                return Some(text);
            }
        }
        None
    };

    for event in parser {
        match event {
            Event::Start(Tag::Heading { .. })
            | Event::Start(Tag::Paragraph)
            | Event::Start(Tag::Item)
            | Event::Start(Tag::TableCell) => {
                runs.clear();
                bold = 0;
            }
            Event::End(TagEnd::Heading(level)) => {
                let level = level as u8;
                if level == 1 && doc.title.is_empty() {
                    doc.title = plain(&runs);
                } else {
                    seen_section |= level == 2;
                    doc.blocks.push(Block::Heading { level, runs: std::mem::take(&mut runs) });
                }
            }
            Event::End(TagEnd::Paragraph) => {
                let r = std::mem::take(&mut runs);
                if let Some(q) = quote.as_mut() {
                    q.push(r);
                } else if let Some((_, _, items)) = list.as_mut() {
                    // A loose list item: its paragraph is the item's text.
                    items.push(r);
                } else if !images.is_empty() && plain(&r).trim().is_empty() {
                    for (src, alt) in images.drain(..) {
                        let caption = take_caption(&mut doc.blocks, '图');
                        doc.blocks.push(Block::Image { caption, src, alt });
                    }
                } else {
                    images.clear();
                    doc.blocks.push(Block::Para { runs: r, front: !seen_section });
                }
            }
            Event::Start(Tag::BlockQuote(_)) => quote = Some(Vec::new()),
            Event::End(TagEnd::BlockQuote(_)) => {
                if let Some(paras) = quote.take() {
                    doc.blocks.push(Block::Quote { paras });
                }
            }
            Event::Start(Tag::List(start)) => list = Some((start.is_some(), start.unwrap_or(1), Vec::new())),
            Event::End(TagEnd::List(_)) => {
                if let Some((ordered, start, items)) = list.take() {
                    doc.blocks.push(Block::List { ordered, start, items });
                }
            }
            Event::End(TagEnd::Item) => {
                if !runs.is_empty()
                    && let Some((_, _, items)) = list.as_mut()
                {
                    items.push(std::mem::take(&mut runs));
                }
            }
            Event::Start(Tag::Table(aligns)) => {
                let align = aligns
                    .iter()
                    .map(|a| match a {
                        Alignment::Right => "r",
                        Alignment::Center => "c",
                        _ => "l",
                    })
                    .map(String::from)
                    .collect();
                table = Some((align, Vec::new(), Vec::new()));
            }
            Event::End(TagEnd::TableCell) => row.push(std::mem::take(&mut runs)),
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.1 = std::mem::take(&mut row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.2.push(std::mem::take(&mut row));
                }
            }
            Event::End(TagEnd::Table) => {
                if let Some((align, header, rows)) = table.take() {
                    let caption = take_caption(&mut doc.blocks, '表');
                    doc.blocks.push(Block::Table { caption, align, header, rows });
                }
            }
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Image { dest_url, .. }) => image = Some((dest_url.to_string(), String::new())),
            Event::End(TagEnd::Image) => {
                if let Some(img) = image.take() {
                    images.push(img);
                }
            }
            // Text of any kind prints literally; raw HTML too (it was escaped, but should any
            // reach here it is text, never markup).
            Event::Text(s) | Event::Code(s) | Event::Html(s) | Event::InlineHtml(s) | Event::InlineMath(s) => {
                if let Some((_, alt)) = image.as_mut() {
                    alt.push_str(&s);
                } else {
                    push_text(&mut runs, &s, bold > 0);
                }
            }
            Event::SoftBreak | Event::HardBreak => push_text(&mut runs, " ", bold > 0),
            _ => {}
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(t: &str) -> Run {
        Run { t: t.to_string(), b: false }
    }

    #[test]
    fn parses_the_bulletin_shapes() {
        let md = "# 月报（草稿）\n\n（2025年1—9月）\n\n> **草稿**：本期\n\n## 一、总体\n\n正文\\*不是强调\\*。\n\n\
                  表1　主要指标\n\n| 时期 | 增速(%) |\n|:---|---:|\n| 1—2月 | 8.3 |\n\n图1　趋势\n\n![折线图：趋势](charts/trend.svg)\n\n\
                  1. 注一\n2. 注二\n";
        let d = parse(md, true, "济宁市统计局");
        assert_eq!(d.title, "月报（草稿）");
        assert_eq!(
            d.blocks,
            vec![
                Block::Para { runs: vec![r("（2025年1—9月）")], front: true },
                Block::Quote { paras: vec![vec![Run { t: "草稿".into(), b: true }, r("：本期")]] },
                Block::Heading { level: 2, runs: vec![r("一、总体")] },
                Block::Para { runs: vec![r("正文*不是强调*。")], front: false },
                Block::Table {
                    caption: Some("表1　主要指标".into()),
                    align: vec!["l".into(), "r".into()],
                    header: vec![vec![r("时期")], vec![r("增速(%)")]],
                    rows: vec![vec![vec![r("1—2月")], vec![r("8.3")]]],
                },
                Block::Image {
                    caption: Some("图1　趋势".into()),
                    src: "charts/trend.svg".into(),
                    alt: "折线图：趋势".into()
                },
                Block::List { ordered: true, start: 1, items: vec![vec![r("注一")], vec![r("注二")]] },
            ]
        );
    }

    #[test]
    fn escaped_markup_comes_back_literally() {
        let name = r#"#read("/etc/passwd") *bold* <script>alert(1)</script> $x$ ] \ `c`"#;
        let md = format!("## 项目\n\n| 项目 |\n|:---|\n| {} |\n", crate::bulletin::values::escape_markdown(name));
        let d = parse(&md, false, "");
        let Block::Table { rows, .. } = &d.blocks[1] else { panic!("{:?}", d.blocks) };
        assert_eq!(plain(&rows[0][0]), name);
    }
}
