//! The hardening review's findings, through the real binary: outputs that
//! lose nothing, inputs that are never overwritten, a locked `--out`, and
//! the messages (snapshots in tests/it/snapshots/).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::rumcheck_in as rumcheck;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Snapshots a message with the temporary directory written as `[DIR]`.
macro_rules! snapshot {
    ($name:expr, $dir:expr, $text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        let dir = $dir.to_string_lossy().into_owned();
        settings.add_filter(&regex_escape(&dir), "[DIR]");
        settings.bind(|| insta::assert_snapshot!($name, $text));
    }};
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

const SCENARIO: &str = "name = \"one page\"\nbase_url = \"http://127.0.0.1:9\"\nruns = 1\nretries = 0\n\n[[page]]\nname = \"home\"\npath = \"/\"\n";

fn scenario_in(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    path
}

const SAMPLE: &str =
    r#"{"run":0,"page":"home","variant":"reference","url":"u","ok":true,"metrics":{"lcp":1200}}"#;

#[test]
fn an_earlier_samples_file_survives_a_run_whose_browser_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("samples.ndjson"), "earlier run\n").unwrap();
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--browser",
            "/nonexistent/chromium",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("samples.ndjson")).unwrap(),
        "earlier run\n"
    );
    assert!(!out.join("samples.previous.ndjson").exists());
}

#[cfg(unix)]
#[test]
fn a_second_run_into_a_locked_out_dir_is_refused_naming_the_holder() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("samples.ndjson"), "earlier run\n").unwrap();
    // This test process plays the first run: it holds the lock.
    let mut lock = std::fs::File::create(out.join(".rumcheck.lock")).unwrap();
    // SAFETY: flock on an open descriptor.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    writeln!(lock, "4242").unwrap();
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--browser",
            "/nonexistent/chromium",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_locked_out_dir", dir.path(), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("samples.ndjson")).unwrap(),
        "earlier run\n"
    );
    drop(lock);
    // Released: the next run gets as far as the browser.
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--browser",
            "/nonexistent/chromium",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn a_device_as_report_is_refused_and_stays_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    let o = rumcheck(dir.path(), &["run", "s.toml", "--html", "/dev/null"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_html_device", dir.path(), stderr(&o));
    let t = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(t.is_char_device());
}

#[test]
fn a_report_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    let o = rumcheck(dir.path(), &["run", "s.toml", "--markdown", "./s.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_report_is_input", dir.path(), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("s.toml")).unwrap(),
        SCENARIO
    );

    std::fs::write(dir.path().join("c.ndjson"), format!("{SAMPLE}\n")).unwrap();
    let o = rumcheck(dir.path(), &["compare", "c.ndjson", "--json", "c.ndjson"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("compare_json_is_input", dir.path(), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("c.ndjson")).unwrap(),
        format!("{SAMPLE}\n")
    );
}

#[test]
fn a_report_onto_the_samples_file_or_another_report_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/samples.ndjson"), "earlier\n").unwrap();
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--out",
            "out",
            "--json",
            "out/samples.ndjson",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_report_onto_samples", dir.path(), stderr(&o));
    let o = rumcheck(
        dir.path(),
        &["run", "s.toml", "--json", "r.json", "--html", "./r.json"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("are the same file"), "{}", stderr(&o));
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--out",
            "out",
            "--reference-samples",
            "out/samples.ndjson",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_out_onto_reference", dir.path(), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/samples.ndjson")).unwrap(),
        "earlier\n"
    );
}

#[test]
fn a_baseline_import_onto_its_own_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "page,lcp\n/,1200\n";
    std::fs::write(dir.path().join("x.csv"), csv).unwrap();
    let o = rumcheck(
        dir.path(),
        &[
            "baseline", "import", "x.csv", "--format", "csv", "-o", "x.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("baseline_import_onto_input", dir.path(), stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.csv")).unwrap(),
        csv
    );
}

#[test]
fn flags_beyond_their_bounds_are_refused_before_any_browser() {
    let dir = tempfile::tempdir().unwrap();
    scenario_in(dir.path());
    let o = rumcheck(dir.path(), &["run", "s.toml", "--concurrency", "100000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_concurrency_bound", dir.path(), stderr(&o));
    let o = rumcheck(
        dir.path(),
        &[
            "run",
            "s.toml",
            "--threshold",
            "lcp=10%",
            "--threshold",
            "lcp=200ms",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("run_threshold_twice", dir.path(), stderr(&o));
    std::fs::write(dir.path().join("c.ndjson"), format!("{SAMPLE}\n")).unwrap();
    let o = rumcheck(
        dir.path(),
        &["compare", "c.ndjson", "--segment", "default=toaster/9g"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("compare_segment_values", dir.path(), stderr(&o));
}

#[test]
fn negative_or_absurd_sample_values_are_exit_2_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = SAMPLE.replace("1200", "-1200");
    std::fs::write(dir.path().join("c.ndjson"), format!("{SAMPLE}\n{bad}\n")).unwrap();
    std::fs::write(dir.path().join("r.ndjson"), format!("{SAMPLE}\n")).unwrap();
    let o = rumcheck(
        dir.path(),
        &["compare", "c.ndjson", "--reference", "r.ndjson"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("compare_negative_value", dir.path(), stderr(&o));
    let huge = SAMPLE.replace("1200", "1e308");
    std::fs::write(dir.path().join("c.ndjson"), format!("{huge}\n")).unwrap();
    let o = rumcheck(
        dir.path(),
        &["compare", "c.ndjson", "--reference", "r.ndjson"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("c.ndjson:1: metrics.lcp = 1e308 is above"),
        "{}",
        stderr(&o)
    );
    std::fs::write(dir.path().join("c.ndjson"), format!("{SAMPLE}\n{{x\n")).unwrap();
    let o = rumcheck(
        dir.path(),
        &["compare", "c.ndjson", "--reference", "r.ndjson"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("compare_malformed_line", dir.path(), stderr(&o));
}

#[test]
fn scenario_messages_name_the_file_the_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 4] = [
        (
            "file_url",
            &SCENARIO.replace("path = \"/\"", "path = \"file:///etc/hostname\""),
        ),
        (
            "engine",
            &format!("{SCENARIO}\n[[profile]]\nname = \"m\"\nengine = \"tc\"\n"),
        ),
        (
            "name_with_escape",
            &SCENARIO.replace(
                "name = \"home\"",
                "name = \"home\\n::error::pwn\\u001b]0;x\\u0007\"",
            ),
        ),
        (
            "bad_selector",
            &format!(
                "{SCENARIO}steps = [\n  {{ wait_ms = 1 }},\n  {{ click = \"a[href=\\\"x\\\"\" }},\n]\n"
            ),
        ),
    ];
    for (name, text) in cases {
        std::fs::write(dir.path().join("s.toml"), text).unwrap();
        let o = rumcheck(dir.path(), &["run", "s.toml"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.lines().all(|l| !l.trim_start().starts_with("::")),
            "{err}"
        );
        assert!(!err.contains('\x1b'), "{err}");
        snapshot!(format!("scenario_{name}"), dir.path(), err);
    }
    std::fs::write(dir.path().join("s.toml"), b"\x7fELF\x02\x01\x01\x00\xff").unwrap();
    let o = rumcheck(dir.path(), &["run", "s.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("scenario_binary", dir.path(), stderr(&o));
}

/// `baseline import -o existing.json` whose write cannot finish: the file
/// size limit (RLIMIT_FSIZE) stands in for a full disk. With SIGXFSZ
/// ignored the write fails (EFBIG); with its default action the process is
/// killed mid-write, as by `kill -9`.
#[cfg(target_os = "linux")]
fn import_with_file_size_limit(dir: &Path, kill: bool) -> Output {
    use std::os::unix::process::CommandExt;
    let csv = super::baseline_import::fixture("wide-a.csv");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rumcheck"));
    cmd.args(["baseline", "import"])
        .arg(csv)
        .args(["--format", "csv", "-o", "existing.json"])
        .current_dir(dir);
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: 20_000,
                rlim_max: 20_000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if !kill {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    cmd.output().expect("the rumcheck binary runs")
}

#[cfg(target_os = "linux")]
#[test]
fn a_baseline_write_that_fails_midway_keeps_the_old_baseline_whole() {
    let dir = tempfile::tempdir().unwrap();
    let old = "{\"old\": \"baseline\"}\n";
    std::fs::write(dir.path().join("existing.json"), old).unwrap();
    let o = import_with_file_size_limit(dir.path(), false);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("could not write 'existing.json'"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("existing.json")).unwrap(),
        old
    );
    // The temporary file is removed on failure.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn a_baseline_import_killed_midway_leaves_no_partial_file_under_the_final_name() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let old = "{\"old\": \"baseline\"}\n";
    std::fs::write(dir.path().join("existing.json"), old).unwrap();
    let o = import_with_file_size_limit(dir.path(), true);
    assert_eq!(o.status.signal(), Some(libc::SIGXFSZ), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("existing.json")).unwrap(),
        old
    );
}
