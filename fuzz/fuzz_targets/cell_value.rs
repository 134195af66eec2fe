//! Cell values → typed values: any cell, every field type and money unit.
#![no_main]

use calamine::{Data, ExcelDateTime, ExcelDateTimeType};
use gongbao::forms::FieldType;
use gongbao::ingest::values::{MoneyUnit, convert, percent_points};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&kind, rest)) = input.split_first() else { return };
    let float = || rest.get(..8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0.0);
    let text = || String::from_utf8_lossy(rest).into_owned();
    let cell = match kind % 6 {
        0 => Data::String(text()),
        1 => Data::Float(float()),
        2 => Data::Int(rest.get(..8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)),
        3 => Data::DateTime(ExcelDateTime::new(float(), ExcelDateTimeType::DateTime, kind & 0x80 != 0)),
        4 => Data::DateTimeIso(text()),
        _ => Data::Bool(rest.first().is_some_and(|b| b & 1 == 1)),
    };
    for ty in [
        FieldType::Text,
        FieldType::Code,
        FieldType::IndustryCode,
        FieldType::Amount,
        FieldType::Count,
        FieldType::Percent,
        FieldType::Month,
    ] {
        for unit in [MoneyUnit::Yuan, MoneyUnit::Qianyuan, MoneyUnit::Wanyuan, MoneyUnit::Yiyuan] {
            let _ = convert(&cell, ty, unit);
        }
    }
    let _ = percent_points(&cell);
});
