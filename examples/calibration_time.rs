//! Whole-run figure for `rumcheck calibrate` with its defaults (5 tiers,
//! 3 visits a probe, 3 refine rounds) on the demo shop's 3 pages × 1
//! segment, against the bundled demo field data, 2 browsers at once.
//!
//! ```sh
//! cargo run --release --example calibration_time
//! ```

use rumcheck::calibrate::{self, CalibrateOptions};
use rumcheck::demo::{self, DemoKnobs};
use rumcheck::run::RunOptions;
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let shop = demo::serve(DemoKnobs::default()).await?;
    let scenario = demo::gate::scenario(&shop.base_url())?;
    let baseline = demo::gate::baseline()?;
    let out = tempfile::tempdir()?;
    let run = RunOptions {
        browser: Default::default(),
        concurrency: 2,
        out_dir: out.path().to_path_buf(),
        quiet: false,
    };
    let options = CalibrateOptions::new(run, "demo/field.csv");
    let started = Instant::now();
    let file = calibrate::calibrate(&scenario, &baseline, &options).await?;
    let secs = started.elapsed().as_secs_f64();
    print!("{}", calibrate::render(&file));
    let visits: usize = file.entries.iter().map(|e| e.visits).sum();
    println!(
        "\ncalibrate: {} page × profile entries, {visits} visits, {secs:.0} s ({:.1} min) on {} cores",
        file.entries.len(),
        secs / 60.0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    shop.stop().await;
    Ok(())
}
