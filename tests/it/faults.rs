//! Faults that must not stop or hang a run: a page stuck in a script, a
//! killed chromedriver, a site that refuses or never answers, and rumcheck
//! itself stopped by SIGTERM or SIGKILL. Each runs the real binary against
//! pages on 127.0.0.1, with small timeouts so the tests stay short.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A page whose main thread never returns once it has loaded.
const BUSY: &str = "<!doctype html><title>busy</title><h1>busy</h1>\
<script>addEventListener('load', () => setTimeout(() => { while (true) {} }, 0));</script>";
const PLAIN: &str = "<!doctype html><title>plain</title><h1>plain</h1>";

/// Serves `/busy` (the stuck page) and anything else (a plain page) on
/// 127.0.0.1, one thread per connection, for the life of the test process.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let body = if request.starts_with("GET /busy") {
                    BUSY
                } else {
                    PLAIN
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

/// A loopback port that accepts connections and never answers.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

/// A loopback port nothing listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Writes a scenario with small timeouts: page_load 3 s, script 2 s, step 2 s.
fn scenario(dir: &Path, runs: u32, retries: u32, pages: &[(&str, &str, &str)]) -> String {
    let mut text = format!(
        "name = \"faults\"\nbase_url = \"http://127.0.0.1:9\"\nruns = {runs}\nretries = {retries}\n\
         timeouts = {{ page_load_ms = 3000, script_ms = 2000, step_ms = 2000 }}\n"
    );
    for (name, path, steps) in pages {
        text.push_str(&format!(
            "\n[[page]]\nname = \"{name}\"\npath = \"{path}\"\nsteps = [{steps}]\n"
        ));
    }
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn rumcheck(tmp: &Path, scenario: &str, base: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rumcheck"));
    cmd.args(["run", scenario, "--quiet", "--base-url", base, "--out"])
        .arg(tmp.join("out"))
        .arg("--json")
        .arg(tmp.join("results.json"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // The browsers' profiles live here, so /proc tells which are ours.
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// State and parent of a process, from /proc; None once it is gone.
fn stat(pid: u32) -> Option<(char, u32, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_string();
    let mut rest = text[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.next()?.parse().ok()?, name))
}

/// Whether a process runs (a zombie waiting to be reaped does not).
fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _, _)| state != 'Z' && state != 'X')
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// Running processes whose command line names a browser profile in `dir`
/// (rumcheck's own command line names `dir` too, for its scenario).
fn browsers_using(dir: &Path) -> Vec<String> {
    let needle = dir.join("rumcheck-profile-").to_string_lossy().into_owned();
    all_pids()
        .into_iter()
        .filter(|&p| alive(p))
        .filter_map(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(&needle).then(|| format!("{p}: {cmd}"))
        })
        .collect()
}

/// rumcheck's running children (chromedriver and its guard).
fn children_of(parent: u32) -> Vec<(u32, String)> {
    all_pids()
        .into_iter()
        .filter_map(|p| {
            let (state, ppid, name) = stat(p)?;
            (ppid == parent && state != 'Z').then_some((p, name))
        })
        .collect()
}

/// Waits until a browser of this run is up (and rumcheck has its children).
fn wait_for_browser(tmp: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while browsers_using(tmp).is_empty() {
        assert!(Instant::now() < deadline, "no browser started within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that none of `pids` runs and no browser uses `tmp`, allowing
/// Chromium's helpers a moment to exit.
fn assert_nothing_left(tmp: &Path, pids: &[(u32, String)]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let browsers = browsers_using(tmp);
        let children: Vec<_> = pids.iter().filter(|(p, _)| alive(*p)).collect();
        if browsers.is_empty() && children.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left alive: {children:?}\n{browsers:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn samples(tmp: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(tmp.join("out/samples.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_page_stuck_in_a_script_is_ended_by_the_watchdog_and_the_run_goes_on() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let base = serve();
    let file = scenario(
        tmp.path(),
        1,
        0,
        &[("busy", "/busy", ""), ("plain", "/plain", "")],
    );
    let started = Instant::now();
    let out = rumcheck(tmp.path(), &file, &base).output().unwrap();
    let took = started.elapsed();
    let err = stderr(&out);
    // Budget: script 2 s + load 3 s + script 2 s + 5 s margin = 12 s.
    assert!(took < Duration::from_secs(40), "took {took:?}\n{err}");
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("failed for infrastructure reasons"), "{err}");
    let samples = samples(tmp.path());
    let busy = samples.iter().find(|s| s["page"] == "busy").unwrap();
    assert_eq!(busy["ok"], false);
    assert_eq!(busy["failure"], "infrastructure");
    let reason = busy["error"].as_str().unwrap();
    assert!(
        reason.starts_with("visit exceeded its 12 s budget (page busy:"),
        "{reason}"
    );
    // The run went on: the next page was measured.
    let plain = samples.iter().find(|s| s["page"] == "plain").unwrap();
    assert_eq!(plain["ok"], true, "{plain}");
    assert!(plain.get("failure").is_none());
    assert_nothing_left(tmp.path(), &[]);
}

#[tokio::test]
async fn a_killed_chromedriver_is_replaced_and_later_visits_succeed() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let base = serve();
    let file = scenario(
        tmp.path(),
        4,
        1,
        &[("plain", "/plain", "{ wait_ms = 1000 }")],
    );
    let child = rumcheck(tmp.path(), &file, &base).spawn().unwrap();
    wait_for_browser(tmp.path());
    let first: Vec<_> = children_of(child.id())
        .into_iter()
        .filter(|(_, name)| name == "chromedriver")
        .collect();
    assert_eq!(first.len(), 1, "{first:?}");
    let status = Command::new("kill")
        .args(["-KILL", &first[0].0.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(err.contains("started a new one"), "{err}");
    // The visit the dead driver took was retried; every run has a valid visit.
    let samples = samples(tmp.path());
    assert_eq!(samples.len(), 4, "{samples:#?}\n{err}");
    assert!(
        samples.iter().all(|s| s["ok"] == true),
        "{samples:#?}\n{err}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The browser the killed chromedriver had started did not outlive the run.
    assert_nothing_left(tmp.path(), &first);
}

#[tokio::test]
async fn a_site_that_refuses_or_never_answers_is_an_infrastructure_failure_exit_3() {
    let _lock = crate::support::browser_lock().await;
    for (base, reason) in [
        (closed_port(), "ERR_CONNECTION_REFUSED"),
        (
            silent_server(),
            "no response from the server within 3000 ms",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let file = scenario(tmp.path(), 1, 0, &[("home", "/", "")]);
        let out = rumcheck(tmp.path(), &file, &base).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{err}");
        let samples = samples(tmp.path());
        assert_eq!(samples[0]["failure"], "infrastructure");
        let error = samples[0]["error"].as_str().unwrap();
        assert!(error.contains(reason), "{error}");
        assert!(!error.contains("hint"), "{error}");
    }
}

/// Starts a run of the busy page after a plain one, waits until its browser
/// is stuck, and returns it with its children (chromedriver, the guard).
fn stuck_run(tmp: &Path) -> (Child, Vec<(u32, String)>) {
    let base = serve();
    let file = scenario(tmp, 2, 0, &[("plain", "/plain", ""), ("busy", "/busy", "")]);
    let child = rumcheck(tmp, &file, &base).spawn().unwrap();
    wait_for_browser(tmp);
    // Until the plain page's sample is in, then into the busy visit.
    let deadline = Instant::now() + Duration::from_secs(30);
    while samples(tmp).is_empty() {
        assert!(Instant::now() < deadline, "no sample within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(2500));
    let children = children_of(child.id());
    assert!(
        children.iter().any(|(_, n)| n == "chromedriver"),
        "{children:?}"
    );
    (child, children)
}

#[tokio::test]
async fn sigterm_ends_the_run_within_seconds_keeps_the_samples_and_leaves_nothing() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let (child, children) = stuck_run(tmp.path());
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let err = stderr(&out);
    assert!(took < Duration::from_secs(5), "exit took {took:?}\n{err}");
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    // What was measured stays; the results document says it is partial.
    assert!(samples(tmp.path()).iter().any(|s| s["ok"] == true));
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(results["partial"], true);
    assert_nothing_left(tmp.path(), &children);
}

#[tokio::test]
async fn sigkill_leaves_no_chromedriver_or_browser_alive() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, children) = stuck_run(tmp.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_nothing_left(tmp.path(), &children);
}

#[tokio::test]
async fn a_samples_file_that_cannot_be_written_stops_the_run_at_once_naming_it() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let base = serve();
    // Eight visits of about 2.5 s each: 20 s if the run went on.
    let file = scenario(
        tmp.path(),
        8,
        0,
        &[("plain", "/plain", "{ wait_ms = 1500 }")],
    );
    // The first sample moves an earlier samples.ndjson aside: a non-empty
    // directory in the way makes that write fail (root can write anywhere,
    // so permissions cannot).
    let samples_path = tmp.path().join("out/samples.ndjson");
    std::fs::create_dir_all(tmp.path().join("out/samples.previous.ndjson/x")).unwrap();
    std::fs::write(&samples_path, "{}\n").unwrap();
    let child = rumcheck(tmp.path(), &file, &base).spawn().unwrap();
    wait_for_browser(tmp.path());
    let started = Instant::now();
    let children = children_of(child.id());
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot write '{}'", samples_path.display())),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}\n{err}");
    assert_nothing_left(tmp.path(), &children);
}

#[tokio::test]
async fn a_killed_browser_gets_a_new_session_and_its_visit_is_retried() {
    let _lock = crate::support::browser_lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let base = serve();
    let file = scenario(
        tmp.path(),
        3,
        1,
        &[("plain", "/plain", "{ wait_ms = 1500 }")],
    );
    let child = rumcheck(tmp.path(), &file, &base).spawn().unwrap();
    wait_for_browser(tmp.path());
    std::thread::sleep(Duration::from_millis(1000));
    for line in browsers_using(tmp.path()) {
        let pid = line.split(':').next().unwrap();
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    let samples = samples(tmp.path());
    assert_eq!(samples.len(), 3, "{samples:#?}\n{err}");
    assert!(
        samples.iter().all(|s| s["ok"] == true),
        "{samples:#?}\n{err}"
    );
    assert!(samples.iter().any(|s| s["attempts"] == 2), "{samples:#?}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_nothing_left(tmp.path(), &[]);
}
