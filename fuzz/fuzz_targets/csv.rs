//! `baseline import --format csv` on arbitrary bytes.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::import(data, rumcheck::baseline::Format::Csv, "csv");
});
