//! Whole-workbook ingest of an .xls: any bytes, through the guarded reader and the forms,
//! without the panic guard (a panic is a finding of the fuzzer).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|input: &[u8]| common::ingest(input, "xls"));
