//! A small version of `examples/gate_validity.rs`: a few hundred simulated
//! gates that fail the build if a change breaks error control or power.
//! The bounds leave room for Monte-Carlo noise (binomial standard error
//! sqrt(0.05 · 0.95 / 300) ≈ 0.013), so a pass is not luck and a real break
//! (e.g. dropping Holm: ~40 % false alarms) cannot pass.

use rumcheck::metric::Metric;
use rumcheck::verdict::VerdictOptions;
use rumcheck::verdict::simulate::{self, Change, World};

const GATES: usize = 300;

#[test]
fn aa_gates_rarely_fail() {
    let r = simulate::fixed_runs(
        &World::default(),
        20,
        None,
        GATES,
        11,
        &VerdictOptions::default(),
    );
    assert!(
        r.false_alarm <= 0.05 + 3.0 * 0.013,
        "A/A family-wise false alarms: {r:?}"
    );
}

#[test]
fn a_20_percent_lcp_regression_is_found() {
    let change = Change {
        page: 0,
        metric: Metric::Lcp,
        factor: 1.2,
    };
    let r = simulate::fixed_runs(
        &World::default(),
        30,
        Some(change),
        150,
        12,
        &VerdictOptions::default(),
    );
    assert!(
        r.detected >= 0.85,
        "power at +20 %, 15 % CV, 30 runs: {r:?}"
    );
    assert!(r.false_alarm <= 0.1, "{r:?}");
}

#[test]
fn adaptive_sampling_keeps_the_bound_and_stops_early() {
    let r = simulate::adaptive_runs(
        &World::default(),
        40,
        None,
        GATES,
        13,
        &VerdictOptions::default(),
    );
    assert!(r.false_alarm <= 0.05 + 3.0 * 0.013, "{r:?}");
    assert!(
        r.mean_runs < 28.0,
        "A/A gates should stop well before the cap of 40: {r:?}"
    );
}

#[test]
fn uncorrected_tests_do_raise_false_alarms() {
    // The comparison the README shows: without Holm, 15 tests at 0.05 fail often.
    let r = simulate::uncorrected_mann_whitney(&World::default(), 20, None, GATES, 14);
    assert!(r.false_alarm > 0.2, "{r:?}");
}

/// 4 grid nodes whose speeds differ by up to 30 % (as examples/node_strata.rs,
/// smaller: 2 pages × 2 metrics, so the stratified bootstrap stays cheap in
/// a debug build). Judged by node, the gate keeps its false-alarm bound and
/// finds a real change at least as often as the pooled test on the same samples.
#[test]
fn judging_by_node_keeps_the_bound_and_loses_no_power_on_a_grid_of_unequal_nodes() {
    let world = World {
        pages: 2,
        metrics: vec![Metric::Lcp, Metric::Ttfb],
        node_speeds: vec![1.0, 1.1, 1.2, 1.3],
        ..World::default()
    };
    let options = VerdictOptions::default();
    let (stratified, pooled) = simulate::by_node(&world, 20, None, 120, 21, &options);
    // Binomial standard error at 120 gates: sqrt(0.05 · 0.95 / 120) ≈ 0.02.
    assert!(
        stratified.false_alarm <= 0.05 + 3.0 * 0.02,
        "A/A by node: {stratified:?} (pooled {pooled:?})"
    );
    let change = Change {
        page: 0,
        metric: Metric::Lcp,
        factor: 1.2,
    };
    let (stratified, pooled) = simulate::by_node(&world, 20, Some(change), 60, 22, &options);
    assert!(
        stratified.detected >= pooled.detected,
        "+20 % LCP: by node {stratified:?}, pooled {pooled:?}"
    );
    assert!(stratified.detected >= 0.6, "{stratified:?}");
}
