//! Wall time per cold visit of the demo home page in both isolation modes
//! (a fresh browser context in a long-lived browser, and a fresh browser),
//! split into setup, page and finalisation, against the floor of bare
//! WebDriver (new session, navigate, quit). Then, with a second argument,
//! the memory of the long-lived browsers over that many context visits
//! (recycled every `recycle_after`). Run on an otherwise idle machine:
//!
//! ```sh
//! cargo run --release --example sample_overhead -- 20
//! cargo run --release --example sample_overhead -- 20 1000
//! ```

use fantoccini::ClientBuilder;
use rumcheck::browser::{QUIET_FLAGS, find_browser, find_chromedriver, running_as_root};
use rumcheck::demo::{DemoKnobs, serve};
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::sample::Sample;
use rumcheck::scenario::{Isolation, LoadedScenario, parse};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let arg = |i: usize| std::env::args().nth(i).and_then(|a| a.parse::<u32>().ok());
    let n = arg(1).unwrap_or(20);
    let site = serve(DemoKnobs::default()).await.expect("demo shop starts");
    let url = format!("{}/", site.base_url());
    let scenario = parse(
        &format!("name = \"overhead\"\nbase_url = \"{url}\"\nruns = {n}\nretries = 0\n[[page]]\nname = \"home\"\npath = \"/\"\nsteps = [ {{ wait_for = \"[data-settled]\" }} ]\n"),
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
    let mut sink = SampleSink::create(out.path()).unwrap();
    let modes = [Isolation::Context, Isolation::Browser];
    // One warm-up visit per mode so disk caches are warm for every contender.
    for mode in modes {
        visit(&runner, &scenario, mode, 0, &mut sink).await;
    }
    let mut wall = [0.0f64; 2];
    let mut samples: [Vec<Sample>; 2] = Default::default();
    for run in 0..n {
        // Interleaved, alternating which goes first.
        for k in if run % 2 == 0 { [0, 1] } else { [1, 0] } {
            let t = Instant::now();
            samples[k].extend(visit(&runner, &scenario, modes[k], run, &mut sink).await);
            wall[k] += t.elapsed().as_secs_f64() * 1000.0;
        }
    }
    let bare_total = bare(&url, n).await;
    println!("demo home page, {n} cold visits per contender, concurrency 1, interleaved");
    for k in 0..2 {
        let ok: Vec<_> = samples[k].iter().filter(|s| s.ok).collect();
        let mean = |f: &dyn Fn(&rumcheck::sample::SampleTiming) -> f64| {
            ok.iter()
                .filter_map(|s| s.timing.as_ref())
                .map(f)
                .sum::<f64>()
                / ok.len().max(1) as f64
        };
        let (setup, page, fin) = (
            mean(&|t| t.session_ms),
            mean(&|t| t.page_ms),
            mean(&|t| t.finalize_ms),
        );
        let per_visit = wall[k] / f64::from(n);
        println!(
            "  isolation = {:<8} {per_visit:7.0} ms per visit (setup {setup:.0} + page {page:.0} + finalise {fin:.0}; overhead beyond the page {:.0} ms; {} ok)",
            modes[k].as_str(),
            per_visit - page,
            ok.len()
        );
    }
    println!("  bare WebDriver     {bare_total:7.0} ms per visit (new session + goto + quit)");
    if let Some(visits) = arg(2) {
        memory(&runner, &scenario, visits, &mut sink).await;
    }
    runner.shutdown().await;
    site.stop().await;
}

async fn visit(
    runner: &Runner,
    scenario: &LoadedScenario,
    isolation: Isolation,
    run: u32,
    sink: &mut SampleSink,
) -> Vec<Sample> {
    let mut s = scenario.clone();
    s.scenario.isolation = isolation;
    let v = s.scenario.viewport;
    let setups = vec![Arc::new(SessionSetup::for_profile(
        &s.scenario.profiles[0],
        rumcheck::sample::Variant::Candidate,
        None,
        (v.width, v.height),
    ))];
    runner
        .run_batch(&s, plan(run..run + 1, 1, &setups), sink)
        .await
        .unwrap()
        .samples
}

/// Runs `visits` context visits and prints the memory (PSS) of rumcheck's
/// browsers every 50 visits, and how many browsers were recycled.
async fn memory(runner: &Runner, scenario: &LoadedScenario, visits: u32, sink: &mut SampleSink) {
    println!(
        "memory of the long-lived browser over {visits} visits (recycle_after = {}):",
        scenario.scenario.recycle_after
    );
    let mut peak = 0u64;
    for run in 0..visits {
        visit(runner, scenario, Isolation::Context, run, sink).await;
        let now = runner.browsers_memory().await;
        peak = peak.max(now);
        if (run + 1) % 50 == 0 {
            println!(
                "  after {:5} visits: {:6.1} MB (peak so far {:.1} MB), {} browsers recycled",
                run + 1,
                mb(now),
                mb(peak),
                runner.browsers_retired()
            );
        }
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
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
