//! The previous year's same periods ([`PRIOR_PERIODS`]): each county's JN101 return as it was
//! sent a year earlier, so that the prior-year check (JN101-W09: 上年同期 against last year's
//! 本年累计) has something to check in the sample.
//!
//! A 2024 return lists the enterprises of the 2025 return of the same month that existed a year
//! earlier (上年同期 > 0); its 本年累计 are exactly the 2025 return's 上年同期, its 上年同期 (2023)
//! a year's drawn growth below. One enterprise carries a deliberate disagreement
//! ([`disagreement`]): its 2024-09 工业总产值 was reported 2% higher than the 2025-09 return now
//! gives as 上年同期, which JN101-W09 must flag on the 2025-09 row. Only JN101 is sent for these
//! periods. Nothing of the 2025 returns changes.

use rust_decimal::Decimal;

use super::catalog::REGIONS;
use super::rng::Rng;
use super::{CountyReturn, Jn101Row, SampleData, TotalRow};

/// The prior-year periods of the sample (the same months of 2025 are in it).
pub const PRIOR_PERIODS: [&str; 2] = ["2024-08", "2024-09"];

/// The deliberate disagreement: (region code, credit code, period) of the 2024 row whose
/// 工业总产值(本年累计) differs from the 2025 return's 上年同期, and the 2025 period that must flag it.
pub fn disagreement(data: &SampleData) -> (String, String, &'static str, &'static str) {
    let ret = data.return_for(REGIONS[0].code, "2025-09").expect("the first county's 2025-09 return");
    let row = ret
        .jn101
        .iter()
        .filter(|r| r.expected_error.is_none() && r.output_prev > Decimal::ZERO)
        .max_by_key(|r| r.output_prev)
        .expect("an enterprise that existed last year");
    (ret.region_code.clone(), row.credit_code.clone(), "2024-09", "2025-09")
}

/// The JN101 returns of [`PRIOR_PERIODS`], one per county and period.
pub fn prior_year_returns(data: &SampleData) -> Vec<CountyReturn> {
    let (bad_region, bad_code, bad_period, _) = disagreement(data);
    let mut out = Vec::new();
    for period in PRIOR_PERIODS {
        let now = format!("{}{}", (period[..4].parse::<i32>().expect("year") + 1), &period[4..]);
        for ret in data.returns.iter().filter(|r| r.period == now) {
            let mut rows: Vec<Jn101Row> = ret
                .jn101
                .iter()
                .filter(|r| r.expected_error.is_none() && r.output_prev > Decimal::ZERO)
                .map(a_year_earlier)
                .collect();
            if period == bad_period && ret.region_code == bad_region {
                let row = rows.iter_mut().find(|r| r.credit_code == bad_code).expect("the enterprise");
                row.output_ytd = (row.output_ytd * Decimal::new(102, 2)).round_dp(1);
            }
            let first_data_row = if ret.layout.total_row == TotalRow::Top { 7 } else { 6 };
            for (i, row) in rows.iter_mut().enumerate() {
                row.excel_row = first_data_row + i as u32;
            }
            let jn101_total_row = match ret.layout.total_row {
                TotalRow::Top => Some(6),
                TotalRow::Bottom => Some(first_data_row + rows.len() as u32),
                TotalRow::None => None,
            };
            let name = REGIONS.iter().find(|r| r.code == ret.region_code).expect("region").name;
            out.push(CountyReturn {
                region_code: ret.region_code.clone(),
                period: period.to_string(),
                file_name: super::items::file_name(name, period),
                jn101: rows,
                jn102: Vec::new(),
                jn103: Vec::new(),
                jn104: Vec::new(),
                layout: ret.layout,
                jn101_total_row,
                text_amounts: Vec::new(),
            });
        }
    }
    out
}

/// The row as the enterprise reported it a year earlier: this year's 上年同期 as 本年累计, and
/// a year of growth (drawn per enterprise, −5%…+15%) below that as its own 上年同期.
fn a_year_earlier(r: &Jn101Row) -> Jn101Row {
    let mut rng = Rng::stream(&format!("prior-year/{}", r.credit_code));
    let growth = Decimal::new((10_000.0 * (1.0 + rng.uniform(-0.05, 0.15))).round() as i64, 4);
    let before = |d: Decimal| (d / growth).round_dp(1);
    Jn101Row {
        output_ytd: r.output_prev,
        output_prev: before(r.output_prev),
        va_ytd: r.va_prev,
        va_prev: before(r.va_prev),
        revenue_ytd: r.revenue_prev,
        revenue_prev: before(r.revenue_prev),
        profit_ytd: r.profit_prev,
        profit_prev: before(r.profit_prev),
        export_ytd: r.export_prev,
        export_prev: before(r.export_prev),
        note: String::new(),
        excel_row: 0,
        expected_error: None,
        ..r.clone()
    }
}
