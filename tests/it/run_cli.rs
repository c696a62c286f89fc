//! `rumcheck run` from the outside: messages, hints and exit codes.

use std::process::{Command, Output};

fn rumcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUMCHECK_WEBDRIVER")
        .output()
        .expect("the rumcheck binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_bad_scenario_names_file_line_column_and_exits_2() {
    let o = rumcheck(&["run", "tests/fixtures/scenarios/bad-step.toml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tests/fixtures/scenarios/bad-step.toml:8:"),
        "{err}"
    );
    assert!(
        err.contains("unknown variant `clik`") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn a_missing_scenario_file_exits_2() {
    let o = rumcheck(&["run", "tests/fixtures/scenarios/nope.toml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read scenario 'tests/fixtures/scenarios/nope.toml'"),
        "{err}"
    );
}

#[test]
fn a_missing_browser_says_how_to_install_one_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = rumcheck(&[
        "run",
        "tests/fixtures/scenarios/one-page.toml",
        "--browser",
        "/nonexistent/chromium",
        "--out",
        out,
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("no Chromium or Chrome binary found (looked for /nonexistent/chromium)"),
        "{err}"
    );
    assert!(
        err.contains("apt-get install chromium chromium-driver"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_2() {
    let o = rumcheck(&[
        "run",
        "tests/fixtures/scenarios/one-page.toml",
        "--base-url",
        "not a url",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--base-url \"not a url\""),
        "{}",
        stderr(&o)
    );
    let o = rumcheck(&[
        "run",
        "tests/fixtures/scenarios/one-page.toml",
        "--webdriver",
        "::",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--webdriver '::' is not a valid URL"),
        "{}",
        stderr(&o)
    );
}

/// A real browser visits a port nothing listens on: the visit is recorded
/// as failed with the browser's reason, and the run exits 3, never 0.
#[test]
fn an_unreachable_site_records_failed_visits_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // A port that was free a moment ago (Chrome refuses "unsafe" ports like 9 itself).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/");
    let o = rumcheck(&[
        "run",
        "tests/fixtures/scenarios/one-page.toml",
        "--base-url",
        &base,
        "--out",
        out,
        "--quiet",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("no valid visit of page(s) home"), "{err}");
    let samples = rumcheck::sample::read_samples(&dir.path().join("samples.ndjson")).unwrap();
    assert_eq!(samples.len(), 1, "one job, one failed sample");
    assert!(!samples[0].ok);
    let reason = samples[0].error.as_deref().unwrap_or_default();
    assert!(reason.contains("ERR_CONNECTION_REFUSED"), "{reason}");
}
