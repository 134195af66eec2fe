//! Property test: randomly perturbed presentations of the same JN101 data (units and where they
//! are stated, column order, header aliases, merged or repeated headers, numbers as text /
//! separators / full-width / formulas, "nothing" marks, blank rows, 合计 position, extra and
//! hidden columns, how the form is recognised, decoy sheets, messy codes) ingest to identical rows.

mod ingest_support;

use gongbao::sample::messy::{
    self, FormMark, Nothing, Numbers, PeriodStyle, Presentation, SLOTS, TotalPlace, Unit, UnitPlace,
};
use ingest_support::{Env, canonical, clean, expected};
use proptest::prelude::*;

fn presentation() -> impl Strategy<Value = Presentation> {
    let order = Just((0..SLOTS).collect::<Vec<usize>>()).prop_shuffle();
    (
        (
            prop::sample::select(Unit::ALL.to_vec()),
            prop::sample::select(vec![UnitPlace::Block, UnitPlace::Headers]),
            order,
            0usize..3,
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
    )
        .prop_map(
            |(
                (unit, unit_place, order, wording, merged, numbers, nothing, blank_after),
                (total, notes, extras, hidden_column, mark, period, [messy_codes, industry_as_number, decoy_sheets]),
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
        prop_assert!(rows.findings.is_empty(), "{:?}", rows.findings);
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
