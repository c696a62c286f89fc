//! Wall time of a whole gate: the demo shop's 3 pages under 2 profiles
//! (desktop, and a phone on slow 4G through the shaping proxy), the
//! unchanged candidate against a reference build, with `--runs auto`, the
//! bundled baseline, and the default concurrency. Runs once per isolation
//! mode named on the command line (default: context).
//!
//! ```sh
//! cargo run --release --example gate_time -- context browser
//! ```

use rumcheck::demo::{DemoKnobs, gate::baseline, serve};
use rumcheck::gate::{Gate, Runs};
use rumcheck::run::{RunOptions, default_concurrency};
use rumcheck::scenario::{Isolation, parse};
use std::path::Path;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let modes: Vec<String> = std::env::args().skip(1).collect();
    let modes = if modes.is_empty() {
        vec!["context".to_string()]
    } else {
        modes
    };
    let out = tempfile::tempdir().unwrap();
    let baseline_path = out.path().join("baseline.json");
    let b = baseline().expect("demo baseline imports");
    std::fs::write(&baseline_path, serde_json::to_vec(&b).unwrap()).unwrap();
    for mode in modes {
        let isolation = match mode.as_str() {
            "browser" => Isolation::Browser,
            _ => Isolation::Context,
        };
        let reference = serve(DemoKnobs::default()).await.expect("reference build");
        let candidate = serve(DemoKnobs::default()).await.expect("candidate build");
        let text = format!(
            "{}\n[[profile]]\nname = \"phone\"\npreset = \"lighthouse-mobile\"\nsegment = {{ form_factor = \"phone\" }}\n",
            rumcheck::demo::SCENARIO_TOML
        );
        let mut scenario = parse(&text, Path::new("demo.toml")).expect("scenario parses");
        scenario.override_base_url(&candidate.base_url()).unwrap();
        scenario.scenario.isolation = isolation;
        let cap = scenario.scenario.max_runs.unwrap_or(32);
        let options = RunOptions {
            browser: Default::default(),
            concurrency: default_concurrency(),
            out_dir: out.path().join(&mode),
            quiet: true,
        };
        let started = Instant::now();
        let outcome = Gate::from_scenario(scenario)
            .baseline(&baseline_path)
            .reference_url(reference.base_url())
            .runs(Runs::Auto { cap })
            .run_options(options)
            .run()
            .await
            .expect("the gate runs");
        let wall = started.elapsed().as_secs_f64();
        let visits = outcome.samples.len();
        println!(
            "isolation = {mode:<8} concurrency {}: {:.0} s ({:.1} min), {visits} visits ({:.2} s a visit), exit {}",
            default_concurrency(),
            wall,
            wall / 60.0,
            wall / visits.max(1) as f64,
            outcome.exit_code()
        );
        reference.stop().await;
        candidate.stop().await;
    }
}
