//! A simulated field for the field projection: the test site in its two
//! builds, visited by the same hidden population of users, written as two
//! RUM CSV exports.
//!
//! ```sh
//! npm ci   # web-vitals, the RUM agent
//! cargo run --release --example field_projection -- [USERS=40] [SEED=1] [OUT_DIR=target/field_projection]
//! ```
//!
//! `FIELD_VERBOSE=1` prints every visit; `FIELD_CONCURRENCY=1` runs one
//! browser at a time (default 2). Prints the field quantiles of TTFB, FCP and LCP per build, the change
//! at p75, and the wall time.

mod population;
mod site;

use population::{
    FieldOptions, PopulationSpec, Visit, Vitals, quantile, run_population, values, write_csv,
};
use site::{Build, Site};
use std::path::PathBuf;
use std::time::Instant;

const QUANTILES: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

/// Reads one metric from a visit's values.
type Read = fn(&Vitals) -> f64;

/// The timing metrics reported, with how to read each from a visit.
const METRICS: [(&str, Read); 3] = [("TTFB", |v| v.ttfb), ("FCP", |v| v.fcp), ("LCP", |v| v.lcp)];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/field_projection".into()),
    );
    std::fs::create_dir_all(&out)?;

    let users = PopulationSpec::default().sample(n, seed);
    let opts = FieldOptions {
        progress: std::env::var_os("FIELD_VERBOSE").is_some(),
        concurrency: match std::env::var("FIELD_CONCURRENCY") {
            Ok(c) => c.parse()?,
            Err(_) => 2,
        },
        ..FieldOptions::default()
    };
    let all = Instant::now();
    let mut p75 = Vec::new();
    for build in [Build::Base, Build::Heavy] {
        let site = Site::start(build).await?;
        let t = Instant::now();
        let visits = run_population(&site.base_url(), &users, &opts).await?;
        let wall = t.elapsed().as_secs_f64();
        let path = out.join(format!("{}-seed{seed}.csv", build.name()));
        let rows = write_csv(&path, &visits, &format!("{}-{seed}", build.name()))?;
        println!(
            "\n{} build: {rows}/{n} visits in {wall:.1} s ({:.2} s per visit, {} browsers) -> {}",
            build.name(),
            wall / n as f64,
            opts.concurrency,
            path.display()
        );
        report(&visits);
        p75.push(METRICS.map(|(_, f)| quantile(&values(&visits, f), 0.75).unwrap_or(f64::NAN)));
    }
    println!("\np75 change heavy vs base:");
    for (i, (name, _)) in METRICS.iter().enumerate() {
        let (b, h) = (p75[0][i], p75[1][i]);
        println!(
            "  {name:<5} {b:>7.0} -> {h:>7.0} ms  ({:+.1} %)",
            (h / b - 1.0) * 100.0
        );
    }
    println!("total wall time {:.1} s", all.elapsed().as_secs_f64());
    Ok(())
}

/// Quantiles of each metric, failures, and sanity checks of the conditions.
fn report(visits: &[Visit]) {
    println!("  metric      p10     p25     p50     p75     p90   (ms)");
    for (name, f) in METRICS {
        let vals = values(visits, f);
        let qs: Vec<String> = QUANTILES
            .iter()
            .map(|&q| format!("{:>7.0}", quantile(&vals, q).unwrap_or(f64::NAN)))
            .collect();
        println!("  {name:<6} {}", qs.join(" "));
    }
    let ok: Vec<_> = visits
        .iter()
        .filter_map(|v| Some((v, v.vitals()?)))
        .collect();
    let not_img = ok.iter().filter(|(_, x)| x.lcp_element != "IMG").count();
    let retried = visits.iter().filter(|v| v.attempts > 1).count();
    // TTFB minus the server-side hold: what the browser adds on top.
    let overhead: Vec<f64> = ok
        .iter()
        .map(|(v, x)| x.ttfb - v.user.navigation_delay_ms() as f64)
        .collect();
    println!(
        "  LCP element not the hero: {not_img}; retried: {retried}; TTFB - (backend + 2 RTT): median {:.1} ms",
        quantile(&overhead, 0.5).unwrap_or(f64::NAN)
    );
    // Work time per unit of CPU slowdown should be about constant.
    let per_unit: Vec<f64> = ok
        .iter()
        .filter_map(|(v, x)| Some(x.work_ms? / v.user.cpu_slowdown))
        .collect();
    println!(
        "  CPU work / slowdown: p10 {:.0}, p50 {:.0}, p90 {:.0} ms",
        quantile(&per_unit, 0.1).unwrap_or(f64::NAN),
        quantile(&per_unit, 0.5).unwrap_or(f64::NAN),
        quantile(&per_unit, 0.9).unwrap_or(f64::NAN)
    );
    for v in visits {
        if let Err(e) = &v.outcome {
            println!("  FAILED user {} ({} attempts): {e}", v.user.id, v.attempts);
        }
    }
}
