//! Reading a samples file (`compare`, `--reference-samples`).
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::with_file(data, "ndjson", |p| {
        let _ = rumcheck::sample::read_samples(p);
    });
});
