//! No browser is left behind: after a normal run and after Ctrl-C, no
//! process still uses one of the run's temporary browser profiles.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Serves a tiny page on 127.0.0.1 from a thread that ends with the test process.
fn serve_tiny_page() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<!doctype html><title>t</title><h1>hello</h1>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/")
}

/// Processes whose command line mentions `dir` (our browsers' profiles live there).
fn processes_using(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(&needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

fn run_in(tmp: &Path, base: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args([
            "run",
            "tests/fixtures/scenarios/slow-steps.toml",
            "--quiet",
            "--base-url",
            base,
            "--out",
        ])
        .arg(tmp.join("out"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rumcheck starts")
}

#[test]
fn ctrl_c_closes_every_browser_and_keeps_what_was_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let base = serve_tiny_page();
    let child = run_in(tmp.path(), &base);
    // Wait until a browser is running with one of this run's profiles.
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_using(tmp.path()).is_empty() {
        assert!(Instant::now() < deadline, "no browser started within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    std::thread::sleep(Duration::from_millis(500));
    let left = processes_using(tmp.path());
    assert!(left.is_empty(), "browser processes left behind: {left:#?}");
    // The visit in flight was ended, not recorded; the rest were not started.
    // Visits that had finished stay in samples.ndjson.
    let samples =
        std::fs::read_to_string(tmp.path().join("out/samples.ndjson")).unwrap_or_default();
    assert!(samples.lines().count() < 3, "{samples}");
}

#[test]
fn a_normal_run_leaves_no_browser_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let base = serve_tiny_page();
    let out = Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args([
            "run",
            "tests/fixtures/scenarios/one-page.toml",
            "--quiet",
            "--base-url",
            &base,
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Chromium's helper processes may take a moment to exit after the
    // browser is closed; one still there after a few seconds is left behind.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = processes_using(tmp.path());
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = processes_using(tmp.path());
    }
    assert!(left.is_empty(), "browser processes left behind: {left:#?}");
    // Temporary profiles are deleted, not just abandoned.
    let profiles: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("rumcheck-profile-")
        })
        .collect();
    assert!(
        profiles.is_empty(),
        "profiles left: {profiles:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
