//! `rumcheck baseline import|show|merge` through the real binary: exit
//! codes, messages and files.

use super::baseline_import::{field_data, fixture};
use std::path::Path;
use std::process::{Command, Output};

fn rumcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args(args)
        .output()
        .expect("run rumcheck")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn import_show_and_merge_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("wide-a.csv")),
        "--format",
        "csv",
        "--apdex-t",
        "lcp=2500",
        "-o",
        s(&a),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("wide-b.csv")),
        "--format",
        "csv",
        "--apdex-t",
        "lcp=2500",
        "-o",
        s(&b),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = rumcheck(&["baseline", "merge", s(&a), s(&b), "-o", s(&c)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rumcheck(&["baseline", "show", s(&c)]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("/product/:id — phone"), "{table}");
    assert!(
        table.contains("metric") && table.contains("p75") && table.contains("good"),
        "{table}"
    );
    assert!(table.contains("Apdex lcp(T=2500)"), "{table}");
    assert!(table.contains("71 rows read, 71 accepted"), "{table}");
    assert!(table.contains("[too small to compare]"), "{table}");
}

#[test]
fn crux_show_marks_binned_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("crux.json");
    let f = field_data("crux-api-queryRecord_github.com-origin_PHONE_treosh-readme.json");
    assert_eq!(
        rumcheck(&["baseline", "import", s(&f), "--format", "crux", "-o", s(&o)])
            .status
            .code(),
        Some(0)
    );
    let table = String::from_utf8(rumcheck(&["baseline", "show", s(&o)]).stdout).unwrap();
    let lcp = table
        .lines()
        .find(|l| l.trim_start().starts_with("lcp"))
        .unwrap();
    assert!(
        lcp.contains("binned") && lcp.contains("2312 ms") && lcp.contains("79.0%"),
        "{lcp}"
    );
}

#[test]
fn strict_stops_at_the_first_bad_row_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x.json");
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("bad.csv")),
        "--format",
        "csv",
        "--strict",
        "-o",
        s(&o),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3: malformed"), "{err}");
    assert!(!o.exists(), "no baseline written");
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("bad.csv")),
        "--format",
        "csv",
        "-o",
        s(&o),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not-finite ×2 (lines 6, 7)"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_say_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x.json");
    let wide = fixture("wide.csv");
    let cases: [(&[&str], &str); 5] = [
        (&["--format", "xlsx"], "--format 'xlsx'"),
        (
            &["--format", "csv", "--map", "lcp=nope"],
            "the header has no column 'nope'",
        ),
        (&["--format", "csv", "--map", "lpc=x"], "--map field 'lpc'"),
        (
            &["--format", "csv", "--page-by", "domain"],
            "--page-by 'domain'",
        ),
        (&["--format", "csv", "--apdex-t", "lcp"], "--apdex-t 'lcp'"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["baseline", "import", s(&wide), "-o", s(&o)];
        args.extend_from_slice(extra);
        let out = rumcheck(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("empty.csv")),
        "--format",
        "csv",
        "-o",
        s(&o),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = rumcheck(&["baseline", "show", s(&fixture("wide.csv"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

#[test]
fn crux_bigquery_rows_import_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("bq.json");
    let f = field_data(
        "crux-bigquery-device_summary-row_example.com_201911_desktop_AutoWebPerf-docs.json",
    );
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&f),
        "--format",
        "crux-bigquery",
        "-o",
        s(&o),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&o).unwrap()).unwrap();
    assert_eq!(b["provenance"]["sources"][0]["format"], "crux-bigquery");
    let seg = b["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["page"] == "https://example.com" && s["segment"]["form_factor"] == "desktop")
        .expect("the origin's desktop segment");
    // SOURCES.md: p75_lcp 1600, fast_lcp 0.9038031319910513; p75_cls "0.05".
    assert_eq!(seg["metrics"]["lcp"]["p75"], 1600.0);
    assert_eq!(seg["metrics"]["lcp"]["shares"]["good"], 0.9038031319910513);
    assert_eq!(seg["metrics"]["lcp"]["definition"], "crux-bigquery");
    assert_eq!(seg["metrics"]["cls"]["p75"], 0.05);
    assert_eq!(
        b["provenance"]["time_range"],
        serde_json::json!(["2019-11-01T00:00:00Z", "2019-11-30T00:00:00Z"])
    );
    let table = String::from_utf8(rumcheck(&["baseline", "show", s(&o)]).stdout).unwrap();
    let lcp = table
        .lines()
        .find(|l| l.trim_start().starts_with("lcp"))
        .unwrap();
    assert!(
        lcp.contains("binned") && lcp.contains("1600 ms") && lcp.contains("90.4%"),
        "{lcp}"
    );

    // The same row as NDJSON, a second row with fractions summing to 1.46:
    // counted by default, file:line and exit 2 with --strict.
    let row: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    let mut bad = row.clone();
    bad["Device"] = "phone".into();
    bad["slow_lcp"] = 0.5.into();
    let nd = dir.path().join("rows.ndjson");
    std::fs::write(&nd, format!("{row}\n{bad}\n")).unwrap();
    let args = |strict: bool| {
        let mut a = vec![
            "baseline",
            "import",
            s(&nd),
            "--format",
            "crux-bigquery",
            "-o",
            s(&o),
        ];
        if strict {
            a.push("--strict");
        }
        rumcheck(&a)
    };
    let out = args(false);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-fractions ×1 (lines 2)"), "{err}");
    let out = args(true);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rows.ndjson:2: bad-fractions") && err.contains("slow_lcp"),
        "{err}"
    );
}

#[test]
fn worker_threads_do_not_change_what_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let import = |threads: &str| {
        let out = dir.path().join(format!("j{threads}.json"));
        let run = rumcheck(&[
            "baseline",
            "import",
            s(&fixture("wide-a.csv")),
            "--format",
            "csv",
            "-j",
            threads,
            "-o",
            s(&out),
        ]);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let b: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        // Everything but the import time and the sketches' internal layout.
        (segments_of(&out), b["provenance"]["sources"].clone())
    };
    let one = import("1");
    assert!(one.0.as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(one, import("2"));
    assert_eq!(one, import("0"));
}

/// The segments of a baseline file without the sketches' internal layout.
fn segments_of(path: &Path) -> serde_json::Value {
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut segments = b["segments"].clone();
    for seg in segments.as_array_mut().unwrap() {
        for m in seg["metrics"].as_object_mut().unwrap().values_mut() {
            m.as_object_mut().unwrap().remove("sketch");
        }
    }
    segments
}

#[test]
fn gzip_files_and_standard_input_import_like_the_plain_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let plain = fixture("wide-a.csv");
    let text = std::fs::read(&plain).unwrap();
    // Two gzip members, as `cat a.gz b.gz` makes: one stream of both halves.
    let gz = dir.path().join("export.csv.gz");
    let cut = text.iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut bytes = Vec::new();
    for part in [&text[..cut], &text[cut..]] {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(part).unwrap();
        bytes.extend(enc.finish().unwrap());
    }
    std::fs::write(&gz, &bytes).unwrap();
    let out = |name: &str| dir.path().join(name);
    let import = |input: &Path, o: &Path| {
        rumcheck(&[
            "baseline",
            "import",
            s(input),
            "--format",
            "csv",
            "-o",
            s(o),
        ])
    };
    assert_eq!(import(&plain, &out("plain.json")).status.code(), Some(0));
    let run = import(&gz, &out("gz.json"));
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let expected = segments_of(&out("plain.json"));
    assert!(expected.as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(segments_of(&out("gz.json")), expected);

    let mut child = Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args(["baseline", "import", "-", "--format", "csv", "-o"])
        .arg(out("stdin.json"))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let run = child.wait_with_output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(segments_of(&out("stdin.json")), expected);
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("stdin.json")).unwrap()).unwrap();
    assert_eq!(b["provenance"]["sources"][0]["file"], "stdin");

    // A truncated download: exit 2, naming the file.
    let cut_gz = out("cut.csv.gz");
    std::fs::write(&cut_gz, &bytes[..bytes.len() / 2]).unwrap();
    let run = import(&cut_gz, &out("cut.json"));
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("cut.csv.gz"), "{err}");
}

#[test]
fn keep_path_segment_keeps_what_it_matches_and_a_bad_pattern_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("pages.csv");
    std::fs::write(
        &csv,
        "url,lcp\n/docs/es2015/intro,1000\n/u/alice14/profile,1100\n/docs/es2016/intro,900\n",
    )
    .unwrap();
    let out_file = dir.path().join("b.json");
    let args = |keep: &'static str| {
        vec![
            "baseline".to_string(),
            "import".into(),
            s(&csv).into(),
            "--format".into(),
            "csv".into(),
            "--min-segment".into(),
            "1".into(),
            "--keep-path-segment".into(),
            keep.into(),
            "-o".into(),
            s(&out_file).into(),
        ]
    };
    let run = |a: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_rumcheck"))
            .args(a)
            .output()
            .unwrap()
    };
    let out = run(args("es20[0-9]{2}"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(&out_file).unwrap();
    assert!(json.contains("\"/docs/es2015/intro\""), "{json}");
    assert!(json.contains("\"/docs/es2016/intro\""), "{json}");
    assert!(
        json.contains("\"/u/:id/profile\"") && !json.contains("alice14"),
        "{json}"
    );
    let out = run(args("es20("));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--keep-path-segment 'es20('"), "{err}");
}

/// Imports `wide.csv` into `dir/name` and returns the path.
fn imported(dir: &Path, name: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    let r = rumcheck(&[
        "baseline",
        "import",
        s(&fixture("wide.csv")),
        "--format",
        "csv",
        "-o",
        s(&out),
    ]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    out
}

/// `file` with the JSON value at `pointer` replaced, written to `to`.
fn edited(file: &Path, pointer: &str, v: serde_json::Value, to: &Path) {
    let mut j: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    *j.pointer_mut(pointer).unwrap() = v;
    std::fs::write(to, serde_json::to_vec(&j).unwrap()).unwrap();
}

#[test]
fn merge_and_show_reject_broken_sketches_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let good = imported(dir.path(), "good.json");
    let bad = dir.path().join("bad.json");
    let sketch = "/segments/0/metrics/ttfb/sketch/store";
    for (field, v) in [
        ("bins", serde_json::json!([])),
        ("offset", serde_json::json!(i32::MIN)),
        ("max_key", serde_json::json!(i32::MAX)),
    ] {
        edited(&good, &format!("{sketch}/{field}"), v, &bad);
        for args in [
            vec![
                "baseline",
                "merge",
                s(&bad),
                s(&good),
                "-o",
                s(&dir.path().join("m.json")),
            ],
            vec!["baseline", "show", s(&bad)],
        ] {
            let out = rumcheck(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{field}: {args:?}: {err}");
            assert!(
                err.contains("bad.json") && err.contains("sketch.store"),
                "{field}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn merge_refuses_the_same_data_twice_unless_allow_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let a = imported(dir.path(), "a.json");
    let again = imported(dir.path(), "again.json");
    let m = dir.path().join("m.json");
    let out = rumcheck(&["baseline", "merge", s(&a), s(&again), "-o", s(&m)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("again.json") && err.contains("a.json"),
        "{err}"
    );
    assert!(
        err.contains("count every value twice") && err.contains("--allow-duplicate"),
        "{err}"
    );
    assert!(!m.exists());
    let out = rumcheck(&[
        "baseline",
        "merge",
        s(&a),
        s(&again),
        "-o",
        s(&m),
        "--allow-duplicate",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The merge of both still holds a's data: merging it with a is refused.
    let out = rumcheck(&[
        "baseline",
        "merge",
        s(&m),
        s(&a),
        "-o",
        s(&dir.path().join("m2.json")),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unsupported_schema_says_which_is_supported_and_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let good = imported(dir.path(), "good.json");
    let two = dir.path().join("two.json");
    edited(&good, "/schema", serde_json::json!(2), &two);
    let out = rumcheck(&["baseline", "show", s(&two)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("Some("), "{err}");
    assert!(
        err.contains("two.json") && err.contains("schema 2"),
        "{err}"
    );
    assert!(
        err.contains("reads schema 1") && err.contains("re-import"),
        "{err}"
    );
}

#[test]
fn a_truncated_gzip_input_is_named_once_and_explained() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(fixture("wide.csv")).unwrap())
        .unwrap();
    let bytes = gz.finish().unwrap();
    let cut = dir.path().join("cut.csv.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = rumcheck(&[
        "baseline",
        "import",
        s(&cut),
        "--format",
        "csv",
        "-o",
        s(&dir.path().join("b.json")),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cut.csv.gz") && err.contains("truncated"),
        "{err}"
    );
    assert_eq!(err.matches("incomplete deflate stream").count(), 1, "{err}");
}

#[test]
fn importing_dev_zero_ends_with_a_clear_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("z.json");
    for input in ["/dev/zero", "-"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rumcheck"));
        cmd.args([
            "baseline",
            "import",
            input,
            "--format",
            "csv",
            "-o",
            s(&out),
        ]);
        let run = cmd
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{input}: {err}");
        assert!(
            err.contains(":1: the header line is longer than 1048576 bytes (--max-line-bytes)"),
            "{input}: {err}"
        );
    }
}

#[test]
fn showing_dev_zero_is_refused_at_once() {
    let out = rumcheck(&["baseline", "show", "/dev/zero"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("does not start with a JSON object"), "{err}");
}

#[test]
fn thousands_of_threads_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("j.json");
    let wide = fixture("wide-a.csv");
    let run = rumcheck(&[
        "baseline",
        "import",
        s(&wide),
        "--format",
        "csv",
        "-j",
        "20000",
        "-o",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("-j 20000: at most"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_record_over_the_line_bound_is_rejected_by_line_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, out) = (dir.path().join("long.csv"), dir.path().join("l.json"));
    let mut text = String::from("url,lcp\n/a,1200\n");
    text.push_str(&format!("/{},1300\n", "x".repeat(5000)));
    text.push_str("/a,1400\n");
    std::fs::write(&csv, text).unwrap();
    let run = rumcheck(&[
        "baseline",
        "import",
        s(&csv),
        "--format",
        "csv",
        "--max-line-bytes",
        "4096",
        "--min-segment",
        "1",
        "-o",
        s(&out),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("too-long ×1 (lines 3)"), "{err}");
    assert!(err.contains("imported 2 of 3 rows"), "{err}");
}

#[test]
fn an_impossible_date_is_rejected_per_row_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, out) = (dir.path().join("d.csv"), dir.path().join("d.json"));
    let text = "timestamp,url,lcp\n2024-02-28 10:00:00,/a,1200\n2024-02-31 10:00:00,/a,1300\n";
    std::fs::write(&csv, text).unwrap();
    let args = |strict: bool| {
        let mut a = vec![
            "baseline",
            "import",
            s(&csv),
            "--format",
            "csv",
            "-o",
            s(&out),
        ];
        if strict {
            a.push("--strict");
        }
        rumcheck(&a)
    };
    let lax = args(false);
    let err = String::from_utf8_lossy(&lax.stderr);
    assert_eq!(lax.status.code(), Some(0), "{err}");
    assert!(err.contains("bad-timestamp ×1 (lines 3)"), "{err}");
    let strict = args(true);
    let err = String::from_utf8_lossy(&strict.stderr);
    assert_eq!(strict.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "d.csv:3: bad-timestamp: timestamp '2024-02-31 10:00:00' is not a valid date (February 2024 has days 01 to 29)"
        ),
        "{err}"
    );
}
