//! The equivalence proof behind `isolation = "context"` (the default):
//! every demo page (under the demo's desktop profile and under a shaped
//! `cable` network through the per-visit proxy) and every browser-test
//! fixture page, visited in both isolation modes, interleaved run by run,
//! `RUNS` visits each. Each metric is tested for equivalence with TOST
//! (`stats::tost`, alpha 0.05) within max(5 %, 20 ms) of the
//! browser-per-visit median (0.01 for CLS; max(5 %, 1) for counts).
//! Prints a Markdown table (the README's) and a summary.
//!
//! ```sh
//! cargo run --release --example isolation_equivalence -- 30
//! ```

#[path = "../tests/it/fixture_server.rs"]
mod fixture_server;

use rumcheck::demo::{DemoKnobs, serve};
use rumcheck::metric::{Metric, Unit};
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::sample::Sample;
use rumcheck::scenario::{Isolation, LoadedScenario, parse};
use std::collections::BTreeMap;
use std::path::Path;

/// Fixture pages of the browser tests, with the steps they are measured with.
const FIXTURES: [(&str, &str); 12] = [
    ("plain", "plain.html"),
    ("cls_single", "cls_single.html"),
    ("cls_windows", "cls_windows.html"),
    ("errors", "errors.html"),
    ("lcp_timed", "lcp_timed.html"),
    ("inp_click", "inp_click.html"),
    ("shift_after_input", "shift_after_input.html"),
    ("oracle", "oracle.html"),
    ("oracle_text", "oracle_text.html"),
    ("oracle_input_first", "oracle_input_first.html"),
    ("journey_a", "journey_a.html"),
    ("slow_server", "plain.html?delay=300"),
];

#[tokio::main]
async fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    let shop = serve(DemoKnobs::default()).await.expect("demo shop starts");
    // The browser tests' own fixture server.
    let fixtures = fixture_server::Fixtures::start().await;
    let demo = with_shaped_profile(rumcheck::demo::SCENARIO_TOML, &shop.base_url());
    let pages = fixture_scenario(&fixtures.url(""));
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        browser: Default::default(),
        concurrency: 1,
        out_dir: out.path().into(),
        quiet: true,
    };
    let runner = Runner::start(opts).await.expect("browser starts");
    let mut sink = SampleSink::create(out.path()).unwrap();
    let mut samples: Vec<Sample> = Vec::new();
    let started = std::time::Instant::now();
    for run in 0..runs {
        // Alternate which mode goes first, so neither always follows the other.
        let order = if run % 2 == 0 {
            [Isolation::Context, Isolation::Browser]
        } else {
            [Isolation::Browser, Isolation::Context]
        };
        for isolation in order {
            for scenario in [&demo, &pages] {
                let mut s = scenario.clone();
                s.scenario.isolation = isolation;
                let batch = runner
                    .run_batch(
                        &s,
                        plan(
                            run..run + 1,
                            s.scenario.pages.len(),
                            &SessionSetup::candidates(&s),
                        ),
                        &mut sink,
                    )
                    .await
                    .expect("batch runs");
                samples.extend(batch.samples);
            }
        }
        eprintln!(
            "run {}/{runs} done, {:.0} s",
            run + 1,
            started.elapsed().as_secs_f64()
        );
    }
    runner.shutdown().await;
    report(&samples, runs);
    shop.stop().await;
}

/// The demo scenario plus a profile shaped by the proxy engine.
fn with_shaped_profile(toml: &str, base: &str) -> LoadedScenario {
    let text = format!("{toml}\n[[profile]]\nname = \"cable\"\nnetwork = \"cable\"\n");
    let mut s = parse(&text, Path::new("demo.toml")).expect("demo scenario parses");
    s.override_base_url(base).expect("base url");
    s.scenario.retries = 1;
    s
}

fn fixture_scenario(base: &str) -> LoadedScenario {
    let mut text = format!("name = \"fixtures\"\nbase_url = \"{base}\"\nretries = 1\n");
    for (name, path) in FIXTURES {
        text.push_str(&format!(
            "[[page]]\nname = \"{name}\"\npath = \"/{path}\"\n"
        ));
        match name {
            "inp_click" => text.push_str("steps = [ { click = \"#slow\" }, { wait_ms = 300 } ]\n"),
            "shift_after_input" => {
                text.push_str("steps = [ { click = \"button\" }, { wait_ms = 300 } ]\n")
            }
            _ => {}
        }
    }
    parse(&text, Path::new("fixtures.toml")).expect("fixture scenario parses")
}

/// The equivalence margin for `metric` around the browser-per-visit median.
fn margin(metric: Metric, median: f64) -> f64 {
    match metric.unit() {
        Unit::Score => 0.01,
        Unit::Millis => (0.05 * median).max(20.0),
        Unit::Count => (0.05 * median).max(1.0),
        Unit::Bytes => (0.05 * median).max(1.0),
    }
}

fn report(samples: &[Sample], runs: u32) {
    type Key = (String, String, Metric);
    let mut values: BTreeMap<Key, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut failed = BTreeMap::<&str, usize>::new();
    for s in samples {
        let mode = s.isolation.as_deref().unwrap_or("?");
        if !s.ok {
            *failed
                .entry(if mode == "context" {
                    "context"
                } else {
                    "browser"
                })
                .or_default() += 1;
            continue;
        }
        for (&m, &v) in &s.metrics {
            let e = values
                .entry((s.page.clone(), s.profile.clone(), m))
                .or_default();
            if mode == "context" {
                e.0.push(v)
            } else {
                e.1.push(v)
            }
        }
    }
    println!(
        "| page | profile | metric | median context | median browser | shift [90 % CI] | margin | TOST p | equivalent |"
    );
    println!("|---|---|---|---:|---:|---|---:|---:|---|");
    let (mut tested, mut equivalent) = (0, 0);
    let mut not = Vec::new();
    for ((page, profile, m), (ctx, browser)) in &values {
        if ctx.len() < 5 || browser.len() < 5 {
            continue;
        }
        let (mc, mb) = (median(ctx), median(browser));
        // A metric constant in both modes (e.g. a page's request count) is equal.
        let t = if ctx.iter().chain(browser).all(|v| *v == ctx[0]) {
            None
        } else {
            rumcheck::stats::tost(ctx, browser, margin(*m, mb), 0.05).ok()
        };
        tested += 1;
        let (shift, p, eq) = match t {
            Some(t) => (
                format!(
                    "{:+.1} [{:+.1}, {:+.1}]",
                    t.shift.estimate, t.shift.interval.lower, t.shift.interval.upper
                ),
                format!("{:.3}", t.p_value),
                t.equivalent,
            ),
            None => ("0 (constant)".into(), "—".into(), true),
        };
        if eq {
            equivalent += 1;
        } else {
            not.push(format!("{page} / {profile} / {}", m.name()));
        }
        println!(
            "| {page} | {profile} | {} | {mc:.1} | {mb:.1} | {shift} | {:.1} | {p} | {} |",
            m.name(),
            margin(*m, mb),
            if eq { "yes" } else { "**no**" }
        );
    }
    println!();
    println!(
        "{runs} runs; {equivalent} of {tested} page × profile × metric rows equivalent; failed visits: {failed:?}"
    );
    if !not.is_empty() {
        println!("not shown equivalent: {}", not.join(", "));
    }
}

fn median(v: &[f64]) -> f64 {
    rumcheck::stats::median(v).unwrap_or(f64::NAN)
}
