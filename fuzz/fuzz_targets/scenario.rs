//! The scenario loader (TOML, validation, positions) on arbitrary bytes.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::with_file(data, "toml", |p| {
        let _ = rumcheck::scenario::load(p);
    });
});
