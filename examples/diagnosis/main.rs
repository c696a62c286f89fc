//! The diagnosis proof at full size, in real Chromium: every gate gets
//! fresh visits (no visit serves two gates), unlike the CI test
//! (tests/it/diagnosis.rs), which draws 20 gates from small pools.
//!
//! ```sh
//! cargo run --release --example diagnosis -- [GATES=20] [VISITS_PER_BUILD=6]
//! ```
//!
//! Pages with a planted cause (a slow db phase, a late hero image, a new
//! render-blocking stylesheet, a long task before the LCP paint;
//! `causes.rs`) are visited `GATES × VISITS` times each, the unchanged page
//! twice as often (the reference of every gate, and the candidate of the
//! A/A gates). Prints per cause how many gates named it, how many A/A gates
//! named any cause, and the largest |sum of LCP sub-parts − LCP| seen.

mod causes;

use causes::{CauseSite, Gates, Plant, hit_rates, pool};
use rumcheck::browser::{Browser, BrowserOptions, SessionSpec};
use rumcheck::{Metric, collect};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let gates: usize = args.next().map_or(Ok(20), |a| a.parse())?;
    let k: usize = args.next().map_or(Ok(6), |a| a.parse())?;
    let started = std::time::Instant::now();
    let browser = Browser::start(&BrowserOptions::default()).await?;
    let session = browser.session(&SessionSpec::default()).await?;
    let site = CauseSite::start().await;
    collect::install(&session, None).await?;
    let n = gates * k;
    let reference = pool(&session, &site, Plant::None, n).await;
    let aa = pool(&session, &site, Plant::None, n).await;
    let mut causes = Vec::new();
    for plant in Plant::CAUSES {
        causes.push((plant, pool(&session, &site, plant, n).await));
    }
    let _ = session.close().await;
    browser.shutdown().await;
    let visits = 2 * n + causes.len() * n;
    let worst = reference
        .iter()
        .chain(&aa)
        .chain(causes.iter().flat_map(|(_, p)| p))
        .filter_map(|s| Some((s.lcp_parts()?.sum() - s.metric(Metric::Lcp)?).abs()))
        .fold(0.0_f64, f64::max);
    let rates = hit_rates(&reference, &aa, &causes, gates, k, Gates::Disjoint);
    println!(
        "\n## Diagnosis hit rates ({gates} gates per cause, {k} fresh visits per build and gate; {visits} visits in {:.0} s)\n",
        started.elapsed().as_secs_f64()
    );
    println!("| planted cause | row | gates naming it | example |");
    println!("|---|---|---|---|");
    for plant in Plant::CAUSES {
        let (hit, of, example) = &rates.hits[plant.name()];
        println!(
            "| {} | {} | {hit} / {of} | {example} |",
            plant.name(),
            plant.metric()
        );
    }
    println!(
        "| none (A/A; lcp and ttfb rows) | lcp, ttfb | {} / {} named a cause | {} |",
        rates.false_names.0, rates.false_names.1, rates.aa_example
    );
    println!("\nlargest |sum of LCP sub-parts − LCP| over all {visits} visits: {worst:.3} ms");
    Ok(())
}
