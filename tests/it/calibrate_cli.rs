//! `rumcheck calibrate` and `--calibration` from the outside: every bad
//! input is exit 2 with a message that names the flag or file, before any
//! browser starts.

use std::process::{Command, Output};

fn rumcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUMCHECK_WEBDRIVER")
        // A browser must never be needed: point at one that does not exist.
        .env("RUMCHECK_CHROMEDRIVER", "/nonexistent/chromedriver")
        .output()
        .expect("the rumcheck binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo_baseline(dir: &std::path::Path) -> String {
    let path = dir.join("baseline.json");
    let b = rumcheck::demo::gate::baseline().unwrap();
    std::fs::write(&path, serde_json::to_vec(&b).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn bad_calibrate_flags_exit_2_and_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let b = demo_baseline(dir.path());
    for (flag, value, says) in [
        ("--tiers", "1", "--tiers 1: expected 2 to 9 tiers"),
        ("--visits", "0", "--visits 0"),
        ("--tolerance", "1.5", "--tolerance 1.5"),
        (
            "--base-url",
            "ftp://x",
            "--base-url \"ftp://x\" is not a valid http(s) URL",
        ),
    ] {
        let o = rumcheck(&[
            "calibrate",
            "scenarios/demo.toml",
            "--baseline",
            &b,
            flag,
            value,
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains(says), "{flag}: {err}");
    }
}

#[test]
fn a_baseline_without_the_scenarios_pages_is_nothing_to_calibrate() {
    let dir = tempfile::tempdir().unwrap();
    // The CrUX-style fixture baseline has no desktop segment for the demo's pages.
    let o = rumcheck(&[
        "calibrate",
        "scenarios/demo.toml",
        "--baseline",
        "tests/fixtures/compare/baseline.json",
        "-o",
        &dir.path().join("c.json").display().to_string(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing to calibrate"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!dir.path().join("c.json").exists());
}

#[test]
fn an_output_in_a_missing_directory_is_refused_before_any_browser() {
    let dir = tempfile::tempdir().unwrap();
    let b = demo_baseline(dir.path());
    let o = rumcheck(&[
        "calibrate",
        "scenarios/demo.toml",
        "--baseline",
        &b,
        "-o",
        "/nonexistent-dir/c.json",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "-o '/nonexistent-dir/c.json': the directory '/nonexistent-dir' does not exist"
        ),
        "{err}"
    );
}

#[test]
fn a_broken_or_foreign_calibration_file_is_exit_2_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{ \"schema\": 1, ").unwrap();
    let o = rumcheck(&[
        "run",
        "scenarios/demo.toml",
        "--calibration",
        &broken.display().to_string(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("broken.json:1: not a rumcheck calibration file"),
        "{err}"
    );

    // A valid file whose tiers are for another profile.
    let other = dir.path().join("other.json");
    let file = rumcheck::calibrate::CalibrationFile {
        schema: rumcheck::calibrate::CALIBRATION_SCHEMA,
        created_at: String::new(),
        rumcheck_version: String::new(),
        browser: String::new(),
        host: rumcheck::calibrate::HostFigures::detect(),
        baseline: String::new(),
        base_url: String::new(),
        isolation: None,
        concurrency: None,
        entries: vec![rumcheck::calibrate::CalibratedPage {
            profile: "phone".into(),
            page: "home".into(),
            field_page: "/".into(),
            segment: Default::default(),
            tiers: vec![rumcheck::calibrate::Tier {
                quantile: 0.5,
                weight: 1.0,
                rtt_ms: 50.0,
                down_kbps: 5000.0,
                up_kbps: 2500.0,
                cpu_slowdown: 1.0,
                target: Default::default(),
                lab: Default::default(),
            }],
            fit: Default::default(),
            visits: 0,
            notes: Vec::new(),
        }],
    };
    std::fs::write(&other, serde_json::to_vec(&file).unwrap()).unwrap();
    let o = rumcheck(&[
        "run",
        "scenarios/demo.toml",
        "--calibration",
        &other.display().to_string(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has no tiers for profile \"desktop\" (it calibrates: phone)"),
        "{err}"
    );

    // A calibration for the right profile, but no baseline to project onto.
    let mut desktop = file.clone();
    desktop.entries[0].profile = "desktop".into();
    let mine = dir.path().join("desktop.json");
    std::fs::write(&mine, serde_json::to_vec(&desktop).unwrap()).unwrap();
    let o = rumcheck(&[
        "run",
        "scenarios/demo.toml",
        "--calibration",
        &mine.display().to_string(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a calibration needs the baseline it was fitted to"),
        "{err}"
    );

    // Out-of-range tier values are named; compare wants the baseline too.
    let mut bad = file.clone();
    bad.entries[0].tiers[0].cpu_slowdown = 0.5;
    std::fs::write(&other, serde_json::to_vec(&bad).unwrap()).unwrap();
    let compare = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "tests/fixtures/compare/candidate_same.ndjson",
            "--reference",
            "tests/fixtures/compare/reference.ndjson",
        ];
        args.extend_from_slice(extra);
        rumcheck(&args)
    };
    let other = other.display().to_string();
    let o = compare(&["--calibration", &other]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--calibration needs the baseline"), "{err}");
    let o = compare(&[
        "--baseline",
        "tests/fixtures/compare/baseline.json",
        "--calibration",
        &other,
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("entry home [phone] tier 0: cpu_slowdown = 0.5 is out of range"),
        "{err}"
    );
}
