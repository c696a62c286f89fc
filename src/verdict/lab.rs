//! Candidate vs reference lab samples: one-sided Mann-Whitney U in both
//! directions, Hodges-Lehmann shift, and the practical threshold.

use super::model::{Against, Comparison, Outcome, TestKind};
use super::options::VerdictOptions;
use crate::metric::Metric;
use crate::stats::{self, Alternative, Method};

/// Computes the numbers of one comparison; the outcome is decided after Holm
/// (see [`decide`]). `level` is the confidence level of the intervals.
pub(crate) fn measure(
    page: &str,
    profile: &str,
    metric: Metric,
    x: &[f64],
    y: &[f64],
    options: &VerdictOptions,
    level: f64,
) -> Comparison {
    let mut c = Comparison::undecided(
        page,
        profile,
        metric,
        Against::Reference,
        x.len(),
        y.len() as u64,
    );
    c.candidate = stats::median(x);
    c.reference = stats::median(y);
    let t = options.threshold(metric);
    let reference_median = c.reference.unwrap_or(0.0);
    c.threshold = Some((t.relative * reference_median.abs()).max(t.absolute));
    if x.len() < options.min_valid || y.len() < options.min_valid {
        c.reason = format!(
            "{metric} measured in {} candidate and {} reference visits (need {} each): add runs",
            x.len(),
            y.len(),
            options.min_valid
        );
        return c;
    }
    let (Ok(worse), Ok(better), Ok(shift)) = (
        stats::mann_whitney(x, y, Alternative::Greater),
        stats::mann_whitney(x, y, Alternative::Less),
        stats::hodges_lehmann(x, y, level),
    ) else {
        c.reason = format!("{metric}: values are not finite numbers; check the samples file");
        return c;
    };
    c.test = match worse.method {
        Method::Exact => TestKind::MannWhitneyExact,
        Method::Normal => TestKind::MannWhitneyNormal,
    };
    c.p_value = Some(worse.p_value);
    c.p_improved = Some(better.p_value);
    c.estimate = Some(shift.estimate);
    c.interval = Some(shift.interval);
    if let Ok(rel) = stats::hodges_lehmann_log(x, y, level) {
        c.relative = Some(rel.estimate);
        c.relative_interval = Some(rel.interval);
    }
    c
}

/// Bootstrap replicates of the stratified shift intervals (each end of a
/// 90 % percentile interval then rests on 25 replicates).
const STRATIFIED_RESAMPLES: usize = 500;

/// [`measure`] for visits in strata (`verdict/strata.rs`): a calibrated
/// profile's tiers of very different speed, and the machines (grid nodes)
/// that ran them. The test is van Elteren's stratified rank test and the
/// shift the median of within-stratum differences, a Hodges-Lehmann shift
/// per stratum combined (stratified bootstrap interval); pooling the strata
/// would bury the change in their spread.
#[allow(clippy::too_many_arguments)]
pub(crate) fn measure_stratified(
    page: &str,
    profile: &str,
    metric: Metric,
    x: &[Vec<f64>],
    y: &[Vec<f64>],
    options: &VerdictOptions,
    level: f64,
) -> Comparison {
    let pooled = |v: &[Vec<f64>]| v.iter().flatten().copied().collect::<Vec<f64>>();
    let (px, py) = (pooled(x), pooled(y));
    let mut c = measure(page, profile, metric, &px, &py, options, level);
    if c.p_value.is_none() {
        return c; // too few visits: the reason is set
    }
    let strata: Vec<(&[f64], &[f64])> = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    let seed = super::projected::seed_of(page, profile, metric);
    super::projected::stratified_test(&mut c, &strata);
    if let Ok(shift) = stats::stratified_shift(&strata, level, STRATIFIED_RESAMPLES, seed, false) {
        c.estimate = Some(shift.estimate);
        c.interval = Some(shift.interval);
    }
    (c.relative, c.relative_interval) =
        match stats::stratified_shift(&strata, level, STRATIFIED_RESAMPLES, seed, true) {
            Ok(rel) => (Some(rel.estimate), Some(rel.interval)),
            Err(_) => (None, None),
        };
    c
}

/// Sets outcome and reason once the Holm decisions are known.
pub(crate) fn decide(c: &mut Comparison, worse_rejected: bool, better_rejected: bool) {
    let (Some(est), Some(ci), Some(th)) = (c.estimate, c.interval, c.threshold) else {
        return; // Already inconclusive with a reason.
    };
    let m = c.metric;
    let shift = signed(m, est);
    let rel = c
        .relative
        .map(|r| format!(" ({:+.1} %)", r * 100.0))
        .unwrap_or_default();
    let p = c.p_adjusted.map(fmt_p).unwrap_or_default();
    let thr = m.format(th);
    let ci_text = format!(
        "{:.0} % CI {} … {}",
        ci.level * 100.0,
        bound(m, ci.lower),
        bound(m, ci.upper)
    );
    (c.outcome, c.reason) = if worse_rejected && est > th {
        (
            Outcome::Regressed,
            format!(
                "{shift}{rel} slower than reference ({ci_text}), over the {thr} threshold; adjusted p {p}"
            ),
        )
    } else if worse_rejected {
        (
            Outcome::Warning,
            format!(
                "{shift}{rel} slower: real but small, under the {thr} threshold; adjusted p {p}"
            ),
        )
    } else if better_rejected && est < -th {
        (
            Outcome::Improved,
            format!("{shift}{rel} faster than reference ({ci_text}), beyond the {thr} threshold"),
        )
    } else if better_rejected {
        (
            Outcome::NoChange,
            format!("{shift}{rel} faster: real but small, under the {thr} threshold"),
        )
    } else if ci.upper >= 2.0 * th {
        (
            Outcome::Inconclusive,
            format!(
                "no significant change, but a regression up to {} is still possible (> 2 × {thr}): add runs",
                bound(m, ci.upper)
            ),
        )
    } else {
        (
            Outcome::NoChange,
            format!("{shift}{rel}, not significant; {ci_text} rules out a regression of 2 × {thr}"),
        )
    };
}

/// `+412 ms`, `−0.012`.
pub(crate) fn signed(m: Metric, v: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "+" };
    format!("{sign}{}", m.format(v.abs()))
}

fn bound(m: Metric, v: f64) -> String {
    if v.is_finite() {
        signed(m, v)
    } else if v > 0.0 {
        "+∞".into()
    } else {
        "−∞".into()
    }
}

/// `0.0004`, `<0.0001`.
pub(crate) fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".into()
    } else {
        format!("{p:.4}")
    }
}
