//! Wall time per cold sample of the demo home page, split into session
//! start, page and finalisation, against a bare fantoccini session +
//! navigation of the same page. Run on an otherwise idle machine:
//!
//! ```sh
//! cargo run --release --example sample_overhead -- 20
//! ```

use fantoccini::ClientBuilder;
use rumcheck::browser::{QUIET_FLAGS, find_browser, find_chromedriver, running_as_root};
use rumcheck::demo::{DemoKnobs, serve};
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::scenario::parse;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let site = serve(DemoKnobs::default()).await.expect("demo shop starts");
    let url = format!("{}/", site.base_url());

    // rumcheck: fresh session per sample, collector, finalise by hiding.
    let scenario = parse(
        &format!("name = \"overhead\"\nbase_url = \"{url}\"\nruns = {n}\nretries = 0\n[[page]]\nname = \"home\"\npath = \"/\"\n"),
        Path::new("overhead.toml"),
    )
    .expect("scenario parses");
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        browser: Default::default(),
        concurrency: 1,
        out_dir: out.path().into(),
        quiet: true,
    };
    let runner = Runner::start(opts).await.expect("browser starts");
    let v = scenario.scenario.viewport;
    let setups = vec![Arc::new(SessionSetup::for_profile(
        &scenario.scenario.profiles[0],
        rumcheck::sample::Variant::Candidate,
        None,
        (v.width, v.height),
    ))];
    let mut sink = SampleSink::create(out.path()).unwrap();
    // One warm-up sample so disk caches are warm for both contenders.
    runner
        .run_batch(&scenario, plan(0..1, 1, &setups), &mut sink)
        .await
        .unwrap();
    let t = Instant::now();
    let batch = runner
        .run_batch(&scenario, plan(0..n, 1, &setups), &mut sink)
        .await
        .unwrap();
    let rumcheck_total = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    runner.shutdown().await;
    let ok: Vec<_> = batch.samples.iter().filter(|s| s.ok).collect();
    let mean = |f: &dyn Fn(&rumcheck::sample::SampleTiming) -> f64| {
        ok.iter()
            .filter_map(|s| s.timing.as_ref())
            .map(f)
            .sum::<f64>()
            / ok.len().max(1) as f64
    };
    let (session, page, fin) = (
        mean(&|t| t.session_ms),
        mean(&|t| t.page_ms),
        mean(&|t| t.finalize_ms),
    );

    // Bare: the same browser flags, connect, navigate, close.
    let bare_total = bare(&url, n).await;

    println!("demo home page, {n} cold samples each, concurrency 1");
    println!(
        "  rumcheck sample   {rumcheck_total:7.0} ms  (session {session:.0} + page {page:.0} + finalise {fin:.0}; {} ok)",
        ok.len()
    );
    println!("  bare fantoccini   {bare_total:7.0} ms  (new session + goto + close)");
    println!(
        "  overhead          {:+7.1} %",
        (rumcheck_total / bare_total - 1.0) * 100.0
    );
    site.stop().await;
}

async fn bare(url: &str, n: u32) -> f64 {
    let driver = find_chromedriver(None).unwrap();
    let mut child = tokio::process::Command::new(driver)
        .arg("--port=9617")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let binary = find_browser(None).unwrap();
    let mut total = 0.0;
    for i in 0..=n {
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec!["--headless".into(), "--disable-gpu".into()];
        args.extend(QUIET_FLAGS.iter().map(|s| s.to_string()));
        if running_as_root() {
            args.push("--no-sandbox".into());
        }
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = serde_json::json!({ "browserName": "chrome", "goog:chromeOptions": { "binary": binary, "args": args } });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let t = Instant::now();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect("http://127.0.0.1:9617")
            .await
            .unwrap();
        client.goto(url).await.unwrap();
        client.close().await.unwrap();
        if i > 0 {
            total += t.elapsed().as_secs_f64() * 1000.0;
        }
    }
    let _ = child.kill().await;
    total / f64::from(n)
}
