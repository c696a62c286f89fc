//! The CrUX readers (API record, History, BigQuery) on arbitrary bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use rumcheck::baseline::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [Format::Crux, Format::CruxHistory, Format::CruxBigQuery] {
        common::import(data, format, "json");
    }
});
