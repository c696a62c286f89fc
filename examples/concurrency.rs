//! What concurrency is safe on this machine: the demo home page under two
//! profiles (desktop, and a phone: 4 × CPU slowdown, slow 4G through the
//! shaping proxy), `n` runs each, at concurrency 1, 2, 3 and 4
//! (`isolation = "context"`). For each it prints the throughput and, per
//! profile, the median and the interquartile range (IQR) of FCP, LCP and
//! TBT: concurrency is safe while the medians and the IQRs stay where
//! concurrency 1 put them. Run on an otherwise idle machine:
//!
//! ```sh
//! cargo run --release --example concurrency -- 24
//! ```

use rumcheck::demo::{DemoKnobs, serve};
use rumcheck::metric::Metric;
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::sample::Sample;
use rumcheck::scenario::parse;
use std::path::Path;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(24);
    let site = serve(DemoKnobs::default()).await.expect("demo shop starts");
    let text = format!(
        "name = \"concurrency\"\nbase_url = \"{}/\"\nruns = {n}\nretries = 0\n\
         [[page]]\nname = \"home\"\npath = \"/\"\nsteps = [ {{ wait_for = \"[data-settled]\" }} ]\n\
         [[profile]]\nname = \"desktop\"\n\
         [[profile]]\nname = \"phone\"\npreset = \"lighthouse-mobile\"\n",
        site.base_url()
    );
    let scenario = parse(&text, Path::new("concurrency.toml")).expect("scenario parses");
    let setups = SessionSetup::candidates(&scenario);
    let out = tempfile::tempdir().unwrap();
    println!(
        "demo home page, {n} runs × 2 profiles per concurrency, isolation = context, {} cores",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
    for concurrency in 1..=4 {
        let opts = RunOptions {
            browser: Default::default(),
            concurrency,
            out_dir: out.path().join(concurrency.to_string()),
            quiet: true,
        };
        let runner = Runner::start(opts).await.expect("browser starts");
        let mut sink = SampleSink::create(&out.path().join(concurrency.to_string())).unwrap();
        // One warm-up job per worker: browsers start outside the timing.
        let warm = plan(0..concurrency as u32, 1, &setups[..1]);
        runner.run_batch(&scenario, warm, &mut sink).await.unwrap();
        let started = Instant::now();
        let batch = runner
            .run_batch(&scenario, plan(0..n, 1, &setups), &mut sink)
            .await
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        runner.shutdown().await;
        let visits = batch.samples.len();
        let ok = batch.samples.iter().filter(|s| s.ok).count();
        println!(
            "concurrency {concurrency}: {wall:.0} s for {visits} visits ({ok} ok), {:.0} visits a minute",
            visits as f64 / wall * 60.0
        );
        for profile in ["desktop", "phone"] {
            let of: Vec<&Sample> = batch
                .samples
                .iter()
                .filter(|s| s.ok && s.profile == profile)
                .collect();
            let cells: Vec<String> = [Metric::Fcp, Metric::Lcp, Metric::Tbt]
                .iter()
                .map(|m| {
                    let mut x: Vec<f64> = of
                        .iter()
                        .filter_map(|s| s.metrics.get(m))
                        .copied()
                        .collect();
                    x.sort_by(f64::total_cmp);
                    format!(
                        "{} {:.0} (IQR {:.0})",
                        m.name(),
                        quantile(&x, 0.5),
                        quantile(&x, 0.75) - quantile(&x, 0.25)
                    )
                })
                .collect();
            println!("  {profile:<8} {}", cells.join(", "));
        }
    }
    site.stop().await;
}

/// Nearest-rank quantile of sorted `x` (NaN when empty).
fn quantile(x: &[f64], q: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * x.len() as f64).ceil() as usize).clamp(1, x.len());
    x[rank - 1]
}
