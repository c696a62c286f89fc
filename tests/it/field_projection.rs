//! The field projection, proven small on every CI run (the full figures come
//! from `cargo run --release --example field_projection`): a simulated
//! field in real Chromium with web-vitals and CDP-applied conditions,
//! imported as a RUM CSV; `rumcheck calibrate` through the shaping proxy; a
//! gate that projects an extra 160 KB render-blocking stylesheet onto the
//! field; and a gate with no change.
//!
//! Thresholds here are looser than the example's targets (10 %) because 24
//! users and 2 visits a probe are noisy; the example's README table holds
//! the real figures.

use crate::population::PopulationSpec;
use crate::proof::{self, ProofOptions};
use crate::site::Build;
use crate::support::browser_lock;
use rumcheck::metric::Metric;
use rumcheck::verdict::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_projected_onto_a_simulated_field_within_its_true_p75() {
    let _lock = browser_lock().await;
    let dir = tempfile::tempdir().unwrap();
    let users = PopulationSpec::default().sample(24, 7);
    let opts = ProofOptions {
        out: dir.path().to_path_buf(),
        tiers: 4,
        probe_visits: 2,
        rounds: 2,
        // 6 visits per tier and build, as at the default 30 runs with 5 tiers:
        // with 3 a tier the +30 % FCP change was inconclusive in one CI run.
        runs: 24,
        concurrency: 2,
        resampled_gates: 0,
        verbose: true,
    };
    let r = proof::run(&users, Build::Extra(160 * 1024), &opts)
        .await
        .unwrap_or_else(|e| panic!("the proof could not run: {e:#}"));
    eprintln!("{r:#?}");
    assert!(r.field_visits >= 22, "field visits: {}", r.field_visits);

    // The calibrated lab reproduces the field's p75 (production build).
    for m in [Metric::Ttfb, Metric::Fcp, Metric::Lcp] {
        let fit = &r.fit[&m];
        assert!(
            fit.p75_rel_error.abs() <= 0.20,
            "{m}: fit at p75 {:+.1} %",
            fit.p75_rel_error * 100.0
        );
    }
    // The change's projected p75 lands near the true field p75 after it.
    for m in [Metric::Fcp, Metric::Lcp] {
        let truth = r.field_changed[&m];
        let (projected, _, _) = r.projected[&m];
        let err = projected / truth - 1.0;
        assert!(
            err.abs() <= 0.20,
            "{m}: projected {projected:.0} vs true {truth:.0} ({:+.1} %)",
            err * 100.0
        );
    }
    // FCP moves by far more than the threshold: the projected row fails the gate.
    assert_eq!(
        r.change_outcomes.get(&Metric::Fcp),
        Some(&Outcome::Regressed),
        "{:?}",
        r.change_outcomes
    );
    assert!(!r.aa_regressed, "the gate without a change regressed");
}
