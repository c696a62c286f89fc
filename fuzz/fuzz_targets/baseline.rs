//! Reading a baseline file, then showing it and merging it with itself.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::with_file(data, "json", |p| {
        if let Ok(b) = rumcheck::baseline::read_baseline(p) {
            let _ = rumcheck::baseline::show(&b);
            let names = ["a".to_string(), "b".to_string()];
            let _ = rumcheck::baseline::merge_with(&[b.clone(), b], &names, true);
        }
    });
});
