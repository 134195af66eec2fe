//! Every header layout class a county uses, exhaustively: 1, 2 or 3 header rows × the parts of a
//! header in rows of their own, joined, or bracketed × the unit in the header block, in every
//! header, or nowhere × the amount columns in pairs, all current then all prior, or shuffled —
//! each with the aliases of forms/ and every style of time word in turn. Each workbook must
//! ingest to exactly the rows of the tidy layout, with nothing but 提示 findings (合计, notes).

use crate::ingest_support::{Env, canonical, clean, expected};
use gongbao::findings::Severity;
use gongbao::sample::messy::{self, AmountOrder, Joining, Presentation, Unit, UnitPlace, WORDINGS};

#[test]
fn every_header_layout_ingests_to_the_tidy_rows() {
    let env = Env::new();
    let want = expected(&canonical());
    let mut n = 0usize;
    for header_rows in 1..=3u32 {
        for joining in Joining::ALL {
            for unit_place in UnitPlace::ALL {
                for (o, amount_order) in AmountOrder::CLASSES.into_iter().enumerate() {
                    let p = Presentation {
                        header_rows,
                        joining,
                        unit_place,
                        amount_order,
                        unit: [Unit::Yiyuan, Unit::Qianyuan, Unit::Yuan][o],
                        wording: n % WORDINGS,
                        time_words: (n / WORDINGS) % 4,
                        time_first: n % 3 == 1,
                        merged: n % 5 != 3,
                        ..Presentation::default()
                    };
                    n += 1;
                    let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &p).unwrap();
                    let f = env.ingest(&format!("邹城市_2025年1-9月_{n}.xlsx"), &bytes);
                    assert!(f.refusal.is_none(), "{p:?}: {:?}", f.refusal);
                    assert_eq!(f.sheets.len(), 1, "{p:?}");
                    let s = &f.sheets[0];
                    assert!(s.refusal.is_none(), "{p:?}: {:?}", s.refusal);
                    assert!(s.read.header_rows.1 - s.read.header_rows.0 + 1 >= header_rows.min(2), "{p:?}");
                    let rows = env.sheet_rows(&f).remove(0);
                    assert_eq!(clean(&rows), want, "{p:?}");
                    assert!(rows.findings.iter().all(|x| x.severity == Severity::Info), "{p:?}: {:?}", rows.findings);
                }
            }
        }
    }
    assert_eq!(n, 81);
}

#[test]
fn a_unit_in_a_header_overrides_the_header_block() {
    // 计量单位:元 in the block, 亿元 in one column's header: that column is in 亿元.
    use rust_xlsxwriter::Workbook;
    let env = Env::new();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "表号:JN101").unwrap();
    ws.write_string(1, 0, "填报单位:邹城市统计局").unwrap();
    ws.write_string(1, 3, "2025年1—9月").unwrap();
    ws.write_string(1, 6, "计量单位:元").unwrap();
    let heads = [
        "统一社会信用代码",
        "单位详细名称",
        "行业代码",
        "工业总产值本年累计(亿元)",
        "工业总产值上年同期",
        "工业增加值本年累计",
        "工业增加值上年同期",
        "营业收入本年累计",
        "营业收入上年同期",
        "利润总额本年累计",
        "利润总额上年同期",
        "期末从业人员",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    ws.write_string(3, 0, "91370883MA3C00001X").unwrap();
    ws.write_string(3, 1, "邹城市示例机械有限公司").unwrap();
    ws.write_string(3, 2, "0610").unwrap();
    ws.write_number(3, 3, 1.5).unwrap(); // 亿元 → 15000 万元
    for c in 4..11u16 {
        ws.write_number(3, c, 10_000_000.0).unwrap(); // 元 → 1000 万元
    }
    ws.write_number(3, 11, 320.0).unwrap();
    let f = env.ingest("邹城市_2025年1-9月.xlsx", &wb.save_to_buffer().unwrap());
    let s = &f.sheets[0];
    assert!(s.refusal.is_none(), "{:?}", s.refusal);
    let form = env.forms.get("JN101").unwrap();
    let idx = |f: &str| form.columns.iter().position(|c| c.field == f).unwrap();
    let dec = |v: &str| gongbao::ingest::values::Value::Decimal(v.parse().unwrap());
    let r = &s.read.records[0];
    assert_eq!(r.values[idx("output_ytd")], dec("15000"));
    assert_eq!(r.values[idx("output_prev")], dec("1000"));
    assert_eq!(r.values[idx("profit_prev")], dec("1000"));
}
