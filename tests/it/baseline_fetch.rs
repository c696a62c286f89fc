//! `rumcheck baseline fetch-crux` through the real binary against a loopback
//! HTTP server that answers like the CrUX API with the REAL responses in
//! ../shared/field-data (truth in its SOURCES.md): request bodies, the key in
//! the query string, retries, exit codes and the baseline written.

use super::baseline_import::{entry, field_data, seg};
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rumcheck::Metric;
use rumcheck::baseline::{Baseline, MetricBaseline, read_baseline};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORIGIN_PHONE: &str = "crux-api-queryRecord_github.com-origin_PHONE_treosh-readme.json";
const MARKETPLACE: &str =
    "crux-api-queryRecord_github.com-marketplace_DESKTOP-4G_treosh-readme.json";
const HISTORY: &str = "crux-history-api_github.com-url_DESKTOP_treosh-readme.json";
const NOT_FOUND: &str = "crux-api-error-404-not-found_treosh-readme.json";
const KEY: &str = "test-key-Zq81";

/// One request the fake API received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: String,
    body: Value,
}

/// What the fake API answers: status, headers, body.
type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);
type Script = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A loopback server standing in for chromeuxreport.googleapis.com; `script`
/// gets the request number (0-based) and the request. Stops when dropped.
struct FakeCrux {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeCrux {
    fn start(script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> FakeCrux {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fake CrUX API");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let log = seen.clone();
        let app = Router::new().fallback(move |req: Request| {
            let (log, script) = (log.clone(), script.clone());
            async move { answer(req, &log, &*script).await }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port for the fake CrUX API");
        let addr = listener.local_addr().expect("fake CrUX API address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCrux {
            runtime: Some(runtime),
            addr,
            seen,
        }
    }

    /// The base URL to pass as `--endpoint`.
    fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("request log").clone()
    }
}

impl Drop for FakeCrux {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn answer(req: Request, log: &Mutex<Vec<Seen>>, script: &Script) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        path,
        query,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    let n = {
        let mut log = log.lock().expect("request log");
        log.push(seen.clone());
        log.len() - 1
    };
    let (status, headers, body) = script(n, &seen);
    let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    for (name, value) in headers {
        resp.headers_mut().insert(name, value.parse().unwrap());
    }
    resp
}

fn file(name: &str) -> Vec<u8> {
    std::fs::read(field_data(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

fn ok(name: &str) -> Reply {
    (200, vec![], file(name))
}

fn not_found() -> Reply {
    (404, vec![], file(NOT_FOUND))
}

/// Runs rumcheck without any CrUX variables from the environment.
fn rumcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rumcheck"));
    cmd.args(args)
        .env_remove("CRUX_API_KEY")
        .env_remove("RUMCHECK_CRUX_ENDPOINT")
        .env_remove("RUMCHECK_CRUX_RETRY_BASE_MS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run rumcheck")
}

/// `rumcheck baseline fetch-crux ARGS -o OUT` (ARGS split at spaces).
fn fetch_crux(out: &Path, args: &str, env: &[(&str, &str)]) -> Output {
    let mut all = vec!["baseline", "fetch-crux"];
    all.extend(args.split_whitespace());
    all.extend(["-o", s(out)]);
    rumcheck(&all, env)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_crux(m: &MetricBaseline, p75: f64, densities: [f64; 3]) {
    assert!(m.binned_only && m.n == 0 && m.sketch.is_none());
    assert_eq!(m.p75, Some(p75));
    let got: Vec<f64> = m.histogram.iter().map(|b| b.density).collect();
    assert_eq!(got, densities.to_vec(), "densities copied bit for bit");
}

/// The table of SOURCES.md for the origin-level PHONE record.
fn assert_origin_phone(b: &Baseline) {
    let s = entry(b, "https://github.com", &seg(Some("phone"), None));
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.02,
        [0.8527302813017104, 0.09817981246552682, 0.04908990623276335],
    );
    assert_crux(
        &s.metrics[&Metric::Ttfb],
        1039.0,
        [0.6018518518518505, 0.3312757201646084, 0.0668724279835391],
    );
    assert_crux(
        &s.metrics[&Metric::Fcp],
        1934.0,
        [0.7165570175438571, 0.1781798245614029, 0.10526315789473623],
    );
    assert_crux(
        &s.metrics[&Metric::Fid],
        17.0,
        [
            0.9498680738786286,
            0.03430079155672826,
            0.015831134564643756,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Inp],
        272.0,
        [0.6478405315614636, 0.24584717607973486, 0.10631229235880371],
    );
    assert_crux(
        &s.metrics[&Metric::Lcp],
        2312.0,
        [0.7900432900432863, 0.13528138528138467, 0.0746753246753239],
    );
}

#[test]
fn every_form_factor_is_queried_and_the_404s_skipped() {
    let api = FakeCrux::start(|_, seen| match seen.body.get("formFactor") {
        Some(ff) if ff == "PHONE" => ok(ORIGIN_PHONE),
        _ => not_found(),
    });
    let dir = tempfile::tempdir().unwrap();
    let (out_file, saved) = (dir.path().join("crux.json"), dir.path().join("responses"));
    let endpoint = api.endpoint();
    let out = fetch_crux(
        &out_file,
        &format!(
            "--origin https://github.com/ --save-responses {}",
            s(&saved)
        ),
        &[("CRUX_API_KEY", KEY), ("RUMCHECK_CRUX_ENDPOINT", &endpoint)],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains(KEY), "the key never shows: {err}");
    for ff in ["DESKTOP", "TABLET", "all form factors"] {
        assert!(
            err.contains(&format!("no data for https://github.com on {ff}")),
            "{err}"
        );
    }

    let seen = api.seen();
    assert_eq!(seen.len(), 4, "one query per form factor, no retries");
    for r in &seen {
        assert_eq!(r.path, "/v1/records:queryRecord");
        assert_eq!(r.query, format!("key={KEY}"));
        assert_eq!(r.body["origin"], "https://github.com");
        assert!(r.body.get("url").is_none());
    }
    let ffs: Vec<Value> = seen.iter().map(|r| r.body["formFactor"].clone()).collect();
    assert_eq!(
        ffs,
        [
            json!("PHONE"),
            json!("DESKTOP"),
            json!("TABLET"),
            Value::Null
        ]
    );

    let b = read_baseline(&out_file).unwrap();
    assert_eq!(b.segments.len(), 1, "only PHONE has data");
    assert_origin_phone(&b);
    assert_eq!(b.provenance.sources.len(), 1);
    assert_eq!(b.provenance.sources[0].format, "crux");

    // The saved body imports to the same segments.
    let saved_file = saved.join("crux-queryRecord-phone.json");
    assert_eq!(std::fs::read(&saved_file).unwrap(), file(ORIGIN_PHONE));
    let again = dir.path().join("again.json");
    let out = rumcheck(
        &[
            "baseline",
            "import",
            s(&saved_file),
            "--format",
            "crux",
            "-o",
            s(&again),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = read_baseline(&again).unwrap();
    assert_eq!(
        serde_json::to_value(&again.segments).unwrap(),
        serde_json::to_value(&b.segments).unwrap()
    );
    assert_eq!(again.provenance.time_range, b.provenance.time_range);
}

#[test]
fn one_url_and_form_factor_keeps_the_normalised_url_and_connection() {
    let api = FakeCrux::start(|_, _| ok(MARKETPLACE));
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let out = fetch_crux(
        &out_file,
        &format!(
            "--url https://github.com/marketplace?type=actions --form-factor desktop --key {} --endpoint {}",
            KEY,
            api.endpoint()
        ),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body,
        json!({"url": "https://github.com/marketplace?type=actions", "formFactor": "DESKTOP"})
    );
    assert_eq!(seen[0].query, format!("key={KEY}"));
    let b = read_baseline(&out_file).unwrap();
    let s = entry(
        &b,
        "https://github.com/marketplace",
        &seg(Some("desktop"), Some("4g")),
    );
    assert_crux(
        &s.metrics[&Metric::Lcp],
        895.0,
        [
            0.9798854493386074,
            0.012886949406791222,
            0.007227601254602516,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Inp],
        50.0,
        [
            0.9759848893685868,
            0.014301133297355571,
            0.009713977334052826,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.02,
        [
            0.9430604982206409,
            0.020804817957842878,
            0.03613468382151657,
        ],
    );
    assert_eq!(s.context.rtt_p75_ms, None, "the 2023 record has no RTT");
}

#[test]
fn history_queries_the_history_method_and_keeps_the_newest_period() {
    let api = FakeCrux::start(|_, _| ok(HISTORY));
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let out = fetch_crux(
        &out_file,
        &format!(
            "--history --url https://github.com/ --form-factor DESKTOP --key {} --endpoint {}",
            KEY,
            api.endpoint()
        ),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/records:queryHistoryRecord");
    assert_eq!(
        seen[0].body,
        json!({"url": "https://github.com/", "formFactor": "DESKTOP"})
    );
    let b = read_baseline(&out_file).unwrap();
    assert_eq!(b.provenance.sources[0].format, "crux-history");
    let s = entry(&b, "https://github.com/", &seg(Some("desktop"), None));
    // Newest period (index 24) per SOURCES.md.
    assert_crux(
        &s.metrics[&Metric::Lcp],
        1556.0,
        [0.896820068359375, 0.0595703125, 0.043609619140625],
    );
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.05,
        [0.903533935546875, 0.07342529296875, 0.023040771484375],
    );
    assert_eq!(s.metrics[&Metric::Ttfb].p75, Some(841.0));
    let (a, z) = b.provenance.time_range.clone().unwrap();
    assert!(
        a.starts_with("2023-09-10") && z.starts_with("2023-10-07"),
        "{a} {z}"
    );
}

#[test]
fn rate_limiting_is_retried_after_the_time_retry_after_asks_for() {
    let api = FakeCrux::start(|n, _| {
        match n {
        0 => (
            429,
            vec![("retry-after", "1".to_string())],
            br#"{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}"#
                .to_vec(),
        ),
        _ => ok(ORIGIN_PHONE),
    }
    });
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let start = Instant::now();
    let out = fetch_crux(
        &out_file,
        &format!(
            "--origin https://github.com --form-factor phone --key {}",
            KEY
        ),
        &[
            ("RUMCHECK_CRUX_ENDPOINT", &api.endpoint()),
            ("RUMCHECK_CRUX_RETRY_BASE_MS", "1"),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 is honoured although the backoff is 1 ms"
    );
    assert!(err.contains("HTTP 429; retrying in 1.0 s"), "{err}");
    assert_eq!(api.seen().len(), 2);
    assert_origin_phone(&read_baseline(&out_file).unwrap());
}

#[test]
fn a_failing_api_gives_exit_3_after_the_bounded_attempts() {
    let api = FakeCrux::start(|_, _| {
        (
            500,
            vec![],
            br#"{"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}"#
                .to_vec(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let out = fetch_crux(
        &out_file,
        &format!(
            "--origin https://github.com --key {} --attempts 3 --endpoint {} --retry-base-ms 1",
            KEY,
            api.endpoint()
        ),
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(api.seen().len(), 3, "3 attempts, then it gives up");
    assert!(
        err.contains(
            "answered HTTP 500 INTERNAL Internal error encountered. to every attempt (attempts: 3)"
        ),
        "{err}"
    );
    assert!(err.contains("/v1/records:queryRecord"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert!(!out_file.exists());
}

#[test]
fn an_unreachable_api_gives_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = fetch_crux(
        &dir.path().join("crux.json"),
        &format!(
            "--origin https://github.com --key {KEY} --attempts 2 --retry-base-ms 1 --endpoint http://127.0.0.1:{port}/v1"
        ),
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot reach the CrUX API"), "{err}");
    assert!(err.contains("(attempts: 2)"), "{err}");
    assert!(!err.contains(KEY), "{err}");
}

#[test]
fn no_data_for_any_form_factor_gives_exit_2_with_the_fix() {
    let api = FakeCrux::start(|_, _| not_found());
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let out = fetch_crux(
        &out_file,
        &format!(
            "--origin https://github.com --key {} --endpoint {}",
            KEY,
            api.endpoint()
        ),
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "chrome ux report has no data for https://github.com; check the URL or use --origin"
        ),
        "{err}"
    );
    assert_eq!(api.seen().len(), 4, "404 is an answer, not retried");
    assert!(!out_file.exists());
}

#[test]
fn a_missing_or_refused_key_gives_exit_2_and_names_the_fix() {
    let api = FakeCrux::start(|_, _| {
        (
            400,
            vec![],
            br#"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}"#
                .to_vec(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    let base = [
        "baseline",
        "fetch-crux",
        "--origin",
        "https://github.com",
        "--endpoint",
        &api.endpoint(),
        "-o",
        s(&out_file),
    ];
    let out = rumcheck(&base, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--key") && err.contains("CRUX_API_KEY"),
        "{err}"
    );
    assert!(api.seen().is_empty(), "nothing is sent without a key");

    let out = rumcheck(&base, &[("CRUX_API_KEY", KEY)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused the API key (HTTP 400"), "{err}");
    assert!(err.contains("CRUX_API_KEY"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert_eq!(api.seen().len(), 1, "a refused key is not retried");
}

#[test]
fn bad_targets_and_endpoints_give_exit_2_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("crux.json");
    for (flag, value, expect) in [
        (
            "--origin",
            "github.com",
            "--origin 'github.com' is not usable",
        ),
        ("--origin", "https://github.com/marketplace", "use --url"),
        ("--url", "ftp://github.com/", "is not http(s)"),
        ("--endpoint", "file:///etc", "RUMCHECK_CRUX_ENDPOINT"),
        ("--form-factor", "watch", "phone, desktop, tablet"),
    ] {
        let mut args = vec!["baseline", "fetch-crux", "--key", KEY, "-o", s(&out_file)];
        if flag != "--origin" && flag != "--url" {
            args.extend(["--origin", "https://github.com"]);
        }
        args.extend([flag, value]);
        let out = rumcheck(&args, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(expect), "{flag} {value}: {err}");
    }
}
