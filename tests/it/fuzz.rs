//! Fuzz tests of every reader of user input, with a bounded budget so they
//! run in `make test`: proptest mutates a seed corpus (the fixtures in
//! tests/fixtures and the real field data in ../shared/field-data) by
//! flipping, inserting, deleting and duplicating bytes, cutting the input
//! short and splicing two seeds, then hands the result to the reader. A
//! reader may accept or reject the input; it must never panic and never
//! hang. A panic fails the test with the minimised input.
//!
//! Each target runs `FUZZ_CASES` cases (default 128; set the environment
//! variable for a longer local run, e.g. `FUZZ_CASES=5000`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rumcheck::baseline::{Format, ImportOptions, import_files, read_baseline};
use std::path::{Path, PathBuf};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Seed files: paths relative to the crate, or to ../shared/field-data.
fn seeds(paths: &[&str]) -> Vec<Vec<u8>> {
    let shared = root().join("../shared/field-data");
    let out: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| {
            let local = root().join(p);
            let path = if local.exists() {
                local
            } else {
                shared.join(p)
            };
            std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "fuzz seed {} is missing ({e}); the fuzz corpus is tests/fixtures and ../shared/field-data",
                    path.display()
                )
            })
        })
        .collect();
    assert!(!out.is_empty());
    out
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
    Splice(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the formats: quotes, separators, line breaks,
    // braces, digits, signs, NUL, invalid UTF-8.
    let special = prop::sample::select(b"\",;\n\r{}[]:-+.eE0123456789\0\xff\xc3=&%\\ab".to_vec());
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), prop::collection::vec(special, 1..12))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..256).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Splice(a, b)),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit], other: &[u8]) -> Vec<u8> {
    for e in edits {
        let len = data.len().max(1);
        match e {
            Edit::Flip(i, b) if !data.is_empty() => data[i % len] = *b,
            Edit::Insert(i, bytes) => {
                let at = i % (data.len() + 1);
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(i, n) if !data.is_empty() => {
                let at = i % len;
                let end = (at + n).min(data.len());
                data.drain(at..end);
            }
            Edit::Duplicate(i, n) if !data.is_empty() => {
                let at = i % len;
                let end = (at + n).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            Edit::Truncate(i) => data.truncate(i % (data.len() + 1)),
            Edit::Splice(a, b) if !other.is_empty() => {
                let cut = a % (data.len() + 1);
                let from = b % other.len();
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    data
}

/// Runs `reader` on the inputs `make` builds from `strategy`'s values, one
/// file at a time; the reader's result is ignored, a panic fails with the
/// input that caused it.
fn fuzz_with<S: Strategy>(
    name: &str,
    ext: &str,
    strategy: S,
    make: impl Fn(S::Value) -> Vec<u8>,
    reader: impl Fn(&Path),
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("input.{ext}"));
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |value| {
        let data = make(value);
        std::fs::write(&file, &data).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader(&file)));
        prop_assert!(
            caught.is_ok(),
            "{name} panicked on {:?}",
            String::from_utf8_lossy(&data)
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// Runs `reader` on byte-edited seeds (see [`Edit`]).
fn fuzz(name: &str, corpus: &[Vec<u8>], ext: &str, reader: impl Fn(&Path)) {
    let strategy = (
        0..corpus.len(),
        0..corpus.len(),
        prop::collection::vec(edit(), 1..6),
    );
    let make = |(seed, other, edits): (usize, usize, Vec<Edit>)| {
        apply(corpus[seed].clone(), &edits, &corpus[other])
    };
    fuzz_with(name, ext, strategy, make, reader);
}

/// Values a JSON number is replaced with: signs, zero, huge, fractional,
/// past `u32`/`i64`, not an integer where one is expected.
const NUMBERS: &[f64] = &[
    -1.0,
    0.0,
    1.0,
    0.5,
    -0.0,
    1e308,
    -1e308,
    4294967296.0,
    9.3e18,
    -2147483649.0,
    1e-300,
    65535.5,
];

/// A structure-aware edit of a JSON document: the `k`-th numeric leaf
/// becomes `NUMBERS[v]`, or the `k`-th array loses its tail or is emptied.
fn edit_json(value: &mut serde_json::Value, k: &mut usize, v: usize, cut: bool) {
    match value {
        serde_json::Value::Number(_) => {
            if *k == 0 {
                *value = serde_json::json!(NUMBERS[v % NUMBERS.len()]);
            }
            *k = k.wrapping_sub(1);
        }
        serde_json::Value::Array(items) => {
            if cut && *k == 0 {
                items.truncate(v % (items.len() + 1));
            }
            *k = k.wrapping_sub(1);
            for item in items {
                edit_json(item, k, v, cut);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                edit_json(item, k, v, cut);
            }
        }
        _ => {}
    }
}

/// [`fuzz`] for JSON readers, with structure-aware edits: the documents stay
/// valid JSON, so the reader's checks (not the parser) meet the odd values.
fn fuzz_json(name: &str, corpus: &[Vec<u8>], reader: impl Fn(&Path)) {
    let docs: Vec<serde_json::Value> = corpus
        .iter()
        .map(|d| serde_json::from_slice(d).expect("JSON seeds parse"))
        .collect();
    let edits = prop::collection::vec((0usize..400, any::<usize>(), any::<bool>()), 1..8);
    let make = |(seed, edits): (usize, Vec<(usize, usize, bool)>)| {
        let mut doc = docs[seed].clone();
        for (mut k, v, cut) in edits {
            edit_json(&mut doc, &mut k, v, cut);
        }
        serde_json::to_vec(&doc).unwrap()
    };
    fuzz_with(name, "json", (0..docs.len(), edits), make, reader);
}

fn import(format: Format) -> impl Fn(&Path) {
    move |path: &Path| {
        let mut opts = ImportOptions::new(format);
        opts.threads = 1;
        let _ = import_files(&[path], &opts);
    }
}

#[test]
fn fuzz_scenario_reader_never_panics() {
    let corpus = seeds(&[
        "tests/fixtures/scenarios/one-page.toml",
        "tests/fixtures/scenarios/slow-steps.toml",
        "tests/fixtures/scenarios/bad-step.toml",
        "scenarios/demo.toml",
    ]);
    fuzz("scenario", &corpus, "toml", |p| {
        let _ = rumcheck::scenario::load(p);
    });
}

#[test]
fn fuzz_csv_import_never_panics() {
    let corpus = seeds(&[
        "tests/fixtures/baseline/long.csv",
        "tests/fixtures/baseline/wide.csv",
        "tests/fixtures/baseline/bad.csv",
        "tests/fixtures/baseline/privacy.csv",
    ]);
    fuzz("csv import", &corpus, "csv", import(Format::Csv));
}

#[test]
fn fuzz_webvitals_import_never_panics() {
    let corpus = seeds(&["tests/fixtures/baseline/webvitals.ndjson"]);
    fuzz(
        "web-vitals import",
        &corpus,
        "ndjson",
        import(Format::WebVitals),
    );
}

#[test]
fn fuzz_boomerang_import_never_panics() {
    let corpus = seeds(&["tests/fixtures/baseline/boomerang.txt"]);
    fuzz(
        "boomerang import",
        &corpus,
        "txt",
        import(Format::Boomerang),
    );
}

#[test]
fn fuzz_crux_imports_never_panic() {
    let records = seeds(&[
        "crux-api-queryRecord_github.com-origin_PHONE_treosh-readme.json",
        "crux-api-queryRecord_github.com-marketplace_DESKTOP-4G_treosh-readme.json",
        "psi-loadingExperience_bbc.com-news_treosh-lhpfp.json",
    ]);
    fuzz("crux import", &records, "json", import(Format::Crux));
    fuzz_json("crux import (values)", &records, import(Format::Crux));
    let history = seeds(&[
        "crux-history-api_github.com-url_DESKTOP_treosh-readme.json",
        "tests/fixtures/baseline/crux-history-nan.json",
    ]);
    fuzz(
        "crux history import",
        &history,
        "json",
        import(Format::CruxHistory),
    );
    fuzz_json(
        "crux history import (values)",
        &history,
        import(Format::CruxHistory),
    );
    let bigquery = seeds(&[
        "crux-bigquery-device_summary-row_example.com_201911_desktop_AutoWebPerf-docs.json",
    ]);
    fuzz(
        "crux bigquery import",
        &bigquery,
        "json",
        import(Format::CruxBigQuery),
    );
}

#[test]
fn fuzz_baseline_reader_never_panics() {
    let corpus = seeds(&[
        "tests/fixtures/compare/baseline.json",
        "tests/fixtures/report/baseline.json",
    ]);
    // A baseline that reads must also show and merge without a panic.
    let read = |p: &Path| {
        if let Ok(b) = read_baseline(p) {
            let _ = rumcheck::baseline::show(&b);
            let _ =
                rumcheck::baseline::merge_with(&[b.clone(), b], &["a".into(), "b".into()], true);
        }
    };
    fuzz("baseline reader", &corpus, "json", read);
    fuzz_json("baseline reader (values)", &corpus, read);
}

#[test]
fn fuzz_samples_reader_never_panics() {
    let corpus = seeds(&[
        "tests/fixtures/compare/candidate_slower.ndjson",
        "tests/fixtures/compare/mixed.ndjson",
        "tests/fixtures/compare/broken.ndjson",
        "tests/fixtures/report/samples.ndjson",
    ]);
    fuzz("samples reader", &corpus, "ndjson", |p| {
        let _ = rumcheck::sample::read_samples(p);
    });
}

#[test]
#[should_panic(expected = "panicked on")]
fn a_reader_that_panics_fails_the_fuzz_test() {
    // The harness itself: a panic inside a reader must fail the test.
    fuzz("panicking reader", &[b"x".to_vec()], "txt", |_| {
        panic!("a reader bug")
    });
}
