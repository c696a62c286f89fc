//! Field-like conditions in a real browser: the shaping proxy moves TTFB and
//! download time as a network does, CPU throttling slows scripts, device
//! emulation is visible to the page, and third-party failures show in the
//! metrics.

use crate::support::browser_lock;
use rumcheck::browser::{Browser, BrowserOptions, SessionSpec};
use rumcheck::run::calibrate::calibrate;
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::sample::Variant;
use rumcheck::throttle::{NameOr, NetworkConditions, Profile, ProfileSpec};
use rumcheck::{Metric, scenario};
use std::path::Path;
use std::sync::Arc;

fn profile(spec: ProfileSpec) -> Profile {
    spec.resolve().expect("test profile is valid")
}

#[tokio::test]
async fn the_proxy_adds_rtt_to_ttfb_and_limits_bandwidth_and_cpu_slowdown_holds() {
    let _lock = browser_lock().await;
    let p = profile(ProfileSpec {
        name: "shaped".into(),
        network: Some(NameOr::Custom(NetworkConditions {
            rtt_ms: 200.0,
            down_kbps: 4000.0,
            up_kbps: 2000.0,
            loss: 0.0,
            jitter_ms: 0.0,
        })),
        cpu_slowdown: Some(4.0),
        ..ProfileSpec::default()
    });
    let rows = calibrate(&BrowserOptions::default(), &[p])
        .await
        .expect("calibration runs");
    let r = &rows[0];
    eprintln!("{}", rumcheck::run::calibrate::render(&rows));
    assert!(
        r.ttfb_ms >= 200.0,
        "TTFB {} ms under a 200 ms RTT",
        r.ttfb_ms
    );
    let expected = r.expected_download_ms.unwrap();
    let error = (r.download_ms - expected).abs() / expected;
    assert!(
        error <= 0.10,
        "500 KB took {:.0} ms, expected {expected:.0} ms ±10 %",
        r.download_ms
    );
    assert!(
        (3.4..=4.6).contains(&r.measured_cpu_slowdown),
        "CPU slowdown 4 measured as {:.2}x",
        r.measured_cpu_slowdown
    );
}

#[tokio::test]
async fn device_emulation_is_what_the_page_sees() {
    let _lock = browser_lock().await;
    let phone = profile(ProfileSpec {
        name: "phone".into(),
        device: Some(NameOr::Preset("phone".into())),
        ..ProfileSpec::default()
    });
    let setup = SessionSetup::for_profile(&phone, Variant::Candidate, None, (1280, 800));
    let browser = Browser::start(&BrowserOptions::default())
        .await
        .expect("browser starts");
    let session = browser
        .session(&SessionSpec {
            viewport: setup.viewport,
            ..SessionSpec::default()
        })
        .await
        .expect("session");
    for (method, params) in &setup.cdp {
        session
            .cdp(method, params.clone())
            .await
            .expect("CDP command accepted");
    }
    // A mobile viewport without <meta name=viewport> lays out at 980 px, as phones do.
    session
        .goto("data:text/html,<meta name=viewport content='width=device-width'><p>phone</p>")
        .await
        .unwrap();
    let v = session
        .eval("return [innerWidth, innerHeight, devicePixelRatio, navigator.userAgent, navigator.maxTouchPoints, matchMedia('(pointer: coarse)').matches]")
        .await
        .unwrap();
    let _ = session.close().await;
    browser.shutdown().await;
    assert_eq!(
        (v[0].as_u64(), v[1].as_u64()),
        (Some(412), Some(823)),
        "{v}"
    );
    assert_eq!(v[2].as_f64(), Some(1.75), "{v}");
    assert!(v[3].as_str().unwrap().contains("Android"), "{v}");
    assert!(v[4].as_u64().unwrap() > 0, "touch points {v}");
}

/// A page whose synchronous third-party script comes from another host
/// (`localhost`, while the page is on 127.0.0.1).
async fn spof_site() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = format!(
        "<!doctype html><html><head><title>spof</title><script src=\"http://localhost:{port}/lib.js\"></script></head>\
         <body><h1>Hello, shop</h1><p>The script above is synchronous: while it hangs, nothing renders.</p></body></html>"
    );
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(page) }),
        )
        .route(
            "/lib.js",
            axum::routing::get(|| async {
                (
                    [("content-type", "text/javascript")],
                    "window.libLoaded = true;",
                )
            }),
        );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://127.0.0.1:{port}/"), task)
}

#[tokio::test]
async fn blocked_and_hung_third_parties_show_in_the_metrics() {
    let _lock = browser_lock().await;
    let (base, server) = spof_site().await;
    let text = format!(
        r#"name = "spof"
base_url = "{base}"
runs = 1
retries = 0
timeouts = {{ page_load_ms = 3000, script_ms = 3000, step_ms = 3000 }}
[[profile]]
name = "normal"
[[profile]]
name = "cdn-blocked"
block = ["localhost"]
[[profile]]
name = "cdn-hangs"
hang = ["localhost"]
[[page]]
name = "home"
path = "/"
"#
    );
    let s = scenario::parse(&text, Path::new("spof.toml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::start(RunOptions {
        browser: BrowserOptions::default(),
        concurrency: 1,
        out_dir: out.path().into(),
        quiet: true,
    })
    .await
    .expect("browser starts");
    let setups: Vec<_> = s
        .scenario
        .profiles
        .iter()
        .map(|p| {
            Arc::new(SessionSetup::for_profile(
                p,
                Variant::Candidate,
                None,
                (1280, 800),
            ))
        })
        .collect();
    let mut sink = SampleSink::create(out.path()).unwrap();
    let batch = runner
        .run_batch(&s, plan(0..1, 1, &setups), &mut sink)
        .await
        .unwrap();
    runner.shutdown().await;
    server.abort();
    let by = |name: &str| {
        batch
            .samples
            .iter()
            .find(|x| x.profile == name)
            .unwrap_or_else(|| panic!("no {name} sample"))
    };
    let (normal, blocked, hung) = (by("normal"), by("cdn-blocked"), by("cdn-hangs"));
    for x in [normal, blocked, hung] {
        assert!(x.ok, "{}: {:?}", x.profile, x.error);
    }
    // Normal and blocked pages render; the blocked script is a failed request.
    assert!(normal.metric(Metric::Fcp).is_some());
    assert_eq!(normal.metric(Metric::FailedRequests), Some(0.0));
    assert!(
        blocked.metric(Metric::Fcp).is_some(),
        "{:?}",
        blocked.metrics
    );
    assert!(
        blocked.metric(Metric::FailedRequests).unwrap_or(0.0) >= 1.0,
        "{:?}",
        blocked.metrics
    );
    // A hung synchronous script keeps the page blank for the whole visit.
    assert_eq!(hung.metric(Metric::Fcp), None, "{:?}", hung.metrics);
    assert_eq!(hung.metric(Metric::Lcp), None, "{:?}", hung.metrics);
}
