//! Property test: randomly perturbed presentations of the same JN101 data (units and where they
//! are stated, column order, header aliases, merged or repeated headers, numbers as text /
//! separators / full-width / formulas, "nothing" marks, blank rows, 合计 position, extra and
//! hidden columns, how the form is recognised, decoy sheets, messy codes, and the header grammar:
//! 1–3 header rows, parts in rows / joined / bracketed, every amount order, time words, aliases)
//! ingest to identical rows.

use crate::ingest_support::{Env, canonical, clean, expected};
use gongbao::findings::Severity;
use gongbao::sample::messy::{
    self, AmountOrder, FormMark, Joining, Nothing, Numbers, PeriodStyle, Presentation, SLOTS, TotalPlace, Unit,
    UnitPlace, WORDINGS,
};
use proptest::prelude::*;

fn presentation() -> impl Strategy<Value = Presentation> {
    let order = Just((0..SLOTS).collect::<Vec<usize>>()).prop_shuffle();
    (
        (
            prop::sample::select(Unit::ALL.to_vec()),
            prop::sample::select(UnitPlace::ALL.to_vec()),
            order,
            0usize..WORDINGS,
            any::<bool>(),
            prop::sample::select(vec![
                Numbers::Plain,
                Numbers::Text,
                Numbers::TextThousands,
                Numbers::FullWidth,
                Numbers::Formula,
            ]),
            prop::sample::select(vec![Nothing::Empty, Nothing::Dash, Nothing::EmDash, Nothing::Slash]),
            prop::collection::vec(0usize..4, 0..3),
        ),
        (
            prop::sample::select(vec![TotalPlace::None, TotalPlace::Top, TotalPlace::Middle, TotalPlace::Bottom]),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec![FormMark::Code, FormMark::SheetName, FormMark::Title, FormMark::HeadersOnly]),
            prop::sample::select(vec![PeriodStyle::Cumulative, PeriodStyle::Month]),
            any::<[bool; 3]>(),
        ),
        (
            1u32..=3,
            prop::sample::select(Joining::ALL.to_vec()),
            prop_oneof![
                Just(AmountOrder::Pairs),
                Just(AmountOrder::CurrentThenPrior),
                any::<u64>().prop_map(AmountOrder::Shuffled)
            ],
            0usize..4,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (unit, unit_place, order, wording, merged, numbers, nothing, blank_after),
                (total, notes, extras, hidden_column, mark, period, [messy_codes, industry_as_number, decoy_sheets]),
                (header_rows, joining, amount_order, time_words, time_first),
            )| Presentation {
                unit,
                unit_place,
                order,
                wording,
                merged,
                numbers,
                nothing,
                blank_after,
                total,
                notes,
                extras,
                hidden_column,
                mark,
                county_in_sheet: true,
                period,
                messy_codes,
                industry_as_number,
                decoy_sheets,
                header_rows,
                joining,
                amount_order,
                time_words,
                time_first,
            },
        )
}

proptest! {
    // Each case writes and reads one workbook (tens of milliseconds in the debug profile).
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_presentation_ingests_to_the_same_rows(p in presentation()) {
        let env = Env::new();
        let bytes = messy::jn101_workbook(&canonical(), "邹城市统计局", "2025-09", &p).unwrap();
        let f = env.ingest("邹城市_2025年1-9月_倍增监测报表.xlsx", &bytes);
        prop_assert!(f.refusal.is_none(), "{:?}", f.refusal);
        prop_assert_eq!(f.sheets.len(), 1);
        let s = &f.sheets[0];
        prop_assert!(s.refusal.is_none(), "{:?}", s.refusal);
        prop_assert_eq!(s.region_code.as_deref(), Some("370883"));
        prop_assert_eq!(s.period.map(|p| p.to_string()), Some("2025-09".to_string()));
        let rows = env.sheet_rows(&f).remove(0);
        prop_assert_eq!(clean(&rows), expected(&canonical()));
        // Only 提示 findings: the 合计 and note rows, each reported with its cell.
        prop_assert!(rows.findings.iter().all(|f| f.severity == Severity::Info), "{:?}", rows.findings);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// A number cell reads as the decimal its shortest rendering shows (what the county typed),
    /// whether typed with few decimals or any double at all.
    #[test]
    fn number_cells_read_as_their_shortest_rendering(
        m in -(1i64 << 53)..(1i64 << 53),
        k in 0u32..12,
        any_f in -1e15f64..1e15,
    ) {
        use gongbao::ingest::values::{MoneyUnit, Value, convert};
        use gongbao::forms::FieldType;
        use std::str::FromStr;
        for f in [m as f64 / 10f64.powi(k as i32), any_f] {
            let want = rust_decimal::Decimal::from_str(&format!("{f}")).unwrap().normalize().to_string();
            let got = convert(&calamine::Data::Float(f), FieldType::Text, MoneyUnit::Wanyuan).unwrap();
            prop_assert_eq!(got, Value::Text(want));
        }
    }
}
