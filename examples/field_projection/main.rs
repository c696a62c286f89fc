//! The proof of rumcheck's field projection, in real Chromium.
//!
//! A hidden population of users (RTT, bandwidth, CPU, backend time) visits a
//! test site whose speed depends on all four, each visit measured by the
//! web-vitals library with the user's conditions applied through CDP
//! (`population.rs`) — not by rumcheck's shaping proxy, so the proof covers
//! the mismatch between a real field and the lab's engine. Their visits
//! become a RUM CSV export, imported as the baseline. `rumcheck calibrate`
//! then fits tiers through the proxy; a gate measures a change (an extra
//! render-blocking stylesheet) and projects it onto the field; the same
//! users visiting the changed build give the true field after the change.
//!
//! ```sh
//! npm ci   # web-vitals
//! cargo run --release --example field_projection -- [USERS=80] [SEED=1] [EXTRA_KB=160] [OUT=target/field_projection]
//! ```
//!
//! Prints the calibration's fit, the projected vs the true p75 after the
//! change, the measured gates, and error rates from 1000 gates resampled
//! from the measured visits (`runs` = 30 per build, rumcheck init's default).

mod population;
mod proof;
mod site;

use population::PopulationSpec;
use proof::{METRICS, ProofOptions};
use site::Build;
use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `resample DIR [RUNS] [GATES]`: error rates again from a finished proof's files.
    if std::env::args().nth(1).as_deref() == Some("resample") {
        let mut a = std::env::args().skip(2);
        let dir = PathBuf::from(a.next().unwrap_or_else(|| "target/field_projection".into()));
        let runs: usize = a.next().map_or(Ok(30), |v| v.parse())?;
        let gates: usize = a.next().map_or(Ok(1000), |v| v.parse())?;
        print_rates(&proof::error_rates(&dir, runs, gates)?);
        return Ok(());
    }
    let mut args = std::env::args().skip(1);
    let users: usize = args.next().map_or(Ok(80), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let extra_kb: usize = args.next().map_or(Ok(160), |a| a.parse())?;
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/field_projection".into()),
    );
    let opts = ProofOptions {
        out,
        tiers: 5,
        probe_visits: 3,
        rounds: 3,
        runs: 30,
        // What `rumcheck calibrate` and `run` use unless told.
        concurrency: rumcheck::run::default_concurrency(),
        resampled_gates: 1000,
        verbose: true,
    };
    let started = std::time::Instant::now();
    let population = PopulationSpec::default().sample(users, seed);
    let r = proof::run(&population, Build::Extra(extra_kb * 1024), &opts).await?;

    println!(
        "\n## Field projection, proven ({users} users, seed {seed}, change: +{extra_kb} KB render-blocking stylesheet)\n"
    );
    println!(
        "| metric | field p75 before | true field p75 after | true change | projected p75 after (90 % CI) | projection error | calibration fit at p75 | largest fit error p10…p90 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for m in METRICS {
        let before = r.field_base.get(&m).copied().unwrap_or(f64::NAN);
        let after = r.field_changed.get(&m).copied().unwrap_or(f64::NAN);
        let (proj, lo, hi) = r
            .projected
            .get(&m)
            .copied()
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let fit = r.fit.get(&m);
        println!(
            "| {m} | {before:.0} ms | {after:.0} ms | {:+.1} % | {proj:.0} ms ({lo:.0}–{hi:.0}) | {:+.1} % | {} | {} |",
            (after / before - 1.0) * 100.0,
            (proj / after - 1.0) * 100.0,
            fit.map_or("–".into(), |f| format!(
                "{:+.1} %",
                f.p75_rel_error * 100.0
            )),
            fit.map_or("–".into(), |f| format!(
                "{:.1} %",
                f.max_rel_error * 100.0
            )),
        );
    }
    println!(
        "\nmeasured change gate (runs {} per build): projected rows {:?}",
        opts.runs, r.change_outcomes
    );
    println!(
        "measured A/A gate: {}",
        if r.aa_regressed {
            "REGRESSED (false alarm)"
        } else {
            "no regression"
        }
    );
    if let Some(rates) = &r.rates {
        print_rates(rates);
    }
    println!(
        "\ncost: field {} visits per build in {:.0} s (both builds); calibration {} visits in {:.0} s; two gates {} visits in {:.0} s; total {:.0} s",
        r.field_visits,
        r.field_secs,
        r.calibration_visits,
        r.calibration_secs,
        r.gate_visits,
        r.gate_secs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_rates(r: &proof::ErrorRates) {
    println!(
        "resampled gates ({} each, {} visits per tier and build): no change → any row regressed in {:.1} %; the change → projected row regressed: {}",
        r.gates,
        r.per_tier,
        r.false_alarm * 100.0,
        r.caught
            .iter()
            .map(|(m, v)| format!("{m} {:.1} %", v * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
