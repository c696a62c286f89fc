//! Server metrics in the field, through the real binary: `baseline import
//! --map server.db=COLUMN` builds `server.db` sketches and (TTFB, server.db)
//! pairs, `baseline show` reads their correlation, `merge` keeps the pairs,
//! and `compare` holds the lab's `server.db` against the field's.

use super::support::rumcheck_in;
use std::fmt::Write;
use std::path::Path;

/// A CSV export with a `db_time_ms` column: on `/checkout` the database time
/// is most of TTFB (they rise together), on `/home` it has nothing to do
/// with TTFB. Row 3 (file line 4) has a database time that is no number.
fn export(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("url,form_factor,ttfb,lcp,db_time_ms\n");
    for i in 0..120u64 {
        let ff = ["phone", "desktop"][i as usize % 2];
        let ttfb = 200 + 3 * i;
        // Backend time plus noise: scipy.stats.spearmanr of these 119 pairs
        // (row 2 dropped) is 0.7954137587238287.
        let db = ttfb * 7 / 10 + (i * 37) % 97 * 2;
        let cell = if i == 2 {
            "slow".to_string()
        } else {
            db.to_string()
        };
        let _ = writeln!(csv, "https://shop.example/checkout,{ff},{ttfb},1800,{cell}");
        // i·7919 mod 101 scrambles TTFB's order: scipy's rho is 0.006927792954783861.
        let _ = writeln!(
            csv,
            "https://shop.example/,{ff},{},1500,{}",
            150 + i,
            (i * 7919) % 101
        );
    }
    let path = dir.join("export.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn text(out: &std::process::Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn import(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "baseline",
        "import",
        "export.csv",
        "--format",
        "csv",
        "--map",
        "server.db=db_time_ms",
        "-o",
        "field.json",
    ];
    args.extend(extra);
    rumcheck_in(dir, &args)
}

#[test]
fn server_columns_import_show_their_ttfb_correlation_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path());
    let (_, err, code) = text(&import(dir.path(), &[]));
    assert_eq!(code, Some(0), "{err}");
    // The row with a non-numeric database time is rejected, as a bad LCP is.
    assert!(err.contains("imported 239 of 240 rows"), "{err}");
    assert!(err.contains("non-numeric ×1 (lines 6)"), "{err}");

    let (table, err, code) = text(&rumcheck_in(
        dir.path(),
        &["baseline", "show", "field.json"],
    ));
    assert_eq!(code, Some(0), "{err}");
    let checkout = table
        .split("\n\n")
        .find(|b| b.starts_with("/checkout — all users"));
    let db_row = checkout
        .and_then(|b| b.lines().find(|l| l.trim_start().starts_with("server.db")))
        .unwrap_or_else(|| panic!("no /checkout server.db row in:\n{table}"));
    assert!(db_row.contains(" 119 "), "{db_row}");
    let readings: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_start().starts_with("TTFB"))
        .collect();
    // rho and the Fisher-z interval as scipy gives them (0.0069 and 0.7954,
    // see `export`; np.tanh(np.arctanh(r) ± 1.96·sqrt(1.06/(n−3)))).
    insta::assert_snapshot!(readings.join("\n"), @r"
    TTFB barely follows server.db (rho 0.01, 95% CI -0.18 to 0.19, n 120): weak, look at the network
    TTFB follows server.db (rho 0.80, 95% CI 0.72 to 0.85, n 119): slow TTFB here is backend time
    ");

    // Merging two imports of different rows keeps every pair (under the cap).
    std::fs::rename(dir.path().join("field.json"), dir.path().join("a.json")).unwrap();
    let (_, err, code) = text(&import(dir.path(), &["--page-by", "path"]));
    assert_eq!(code, Some(0), "{err}");
    let merged = rumcheck_in(
        dir.path(),
        &[
            "baseline",
            "merge",
            "a.json",
            "field.json",
            "--allow-duplicate",
            "-o",
            "m.json",
        ],
    );
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged).1);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    let checkout = m["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["page"] == "/checkout" && s["segment"].as_object().unwrap().is_empty())
        .unwrap();
    assert_eq!(checkout["ttfb_pairs"]["server.db"]["seen"], 238);
    // One "ttfb value key" triple per pair, comma separated.
    let pairs = checkout["ttfb_pairs"]["server.db"]["pairs"]
        .as_str()
        .unwrap();
    assert_eq!(pairs.split(',').count(), 238);
}

#[test]
fn a_bad_server_cell_names_file_line_and_column_and_a_bad_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path());
    let (_, err, code) = text(&import(dir.path(), &["--strict"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("export.csv:6: non-numeric: column 'db_time_ms': server.db = 'slow'"),
        "{err}"
    );
    let out = rumcheck_in(
        dir.path(),
        &[
            "baseline",
            "import",
            "export.csv",
            "--format",
            "csv",
            "--map",
            "server.db time=db_time_ms",
            "-o",
            "x.json",
        ],
    );
    let (_, err, code) = text(&out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--map field 'server.db time' is not a valid server metric")
            && err.contains("e.g. --map server.db=db_time_ms"),
        "{err}"
    );
    assert!(!dir.path().join("x.json").exists());
}

#[test]
fn compare_holds_the_lab_server_metric_against_the_field_one() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path());
    assert_eq!(import(dir.path(), &[]).status.code(), Some(0));
    let db = rumcheck::Metric::parse_lab("server.db").unwrap();
    let mut lines = Vec::new();
    for run in 0..12 {
        let url = "https://shop.example/checkout";
        let mut s = rumcheck::Sample::failed(run, "/checkout", "default", url, String::new());
        s.ok = true;
        s.error = None;
        s.failure = None;
        s.metrics
            .insert(rumcheck::Metric::Ttfb, 600.0 + f64::from(run));
        s.metrics.insert(db, 400.0 + f64::from(run));
        rumcheck::sample::write_sample(&mut lines, &s).unwrap();
    }
    std::fs::write(dir.path().join("samples.ndjson"), lines).unwrap();
    let out = rumcheck_in(
        dir.path(),
        &[
            "compare",
            "samples.ndjson",
            "--baseline",
            "field.json",
            "--metrics",
            "ttfb,server.db",
        ],
    );
    let (stdout, err, code) = text(&out);
    // Information rows only (no calibration): shown, never judged.
    assert_eq!(code, Some(3), "{stdout}{err}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("info /checkout [default] server.db:"))
        .unwrap_or_else(|| panic!("no server.db field row in:\n{stdout}"));
    assert!(
        row.contains("lab p75 408 ms") && row.contains("field p75"),
        "{row}"
    );
}
