//! Field projection: what a change measured in calibrated lab tiers does to
//! the real-user distribution. Pure and synchronous (no I/O, no browser);
//! the method and its assumption are in `docs/statistics.md` ("Field
//! projection").
//!
//! A calibration ([`crate::calibrate`]) gives each tier `k` a quantile
//! point `q_k` of the field: tier `k` reproduces the real users around
//! `q_k` of the production build's TTFB / FCP / LCP distribution. The
//! projection:
//!
//! 1. measures the change per tier, candidate vs reference: the
//!    Hodges-Lehmann ratio (median of all pairwise `ln c − ln r`, mapped by
//!    `exp`) for timings, or the Hodges-Lehmann shift for scores and counts
//!    ([`Transfer`]);
//! 2. interpolates the change between tiers as a function of the field
//!    quantile `u`, linearly in the probit `Φ⁻¹(u)`, flat beyond the first
//!    and last tier;
//! 3. applies it to every field quantile on a grid of `u` (each real user
//!    band changes as its tier did), and reads the projected p75 and the
//!    share of good visits off the changed grid.
//!
//! The interval is a percentile bootstrap (500 replicates by default) that resamples visits within each
//! tier for both builds (stratified) and, when the field's n is known,
//! moves the field quantile levels by their binomial sampling error
//! (`u ± z·√(u(1 − u)/n)`, one `z` per replicate). Invariants: with no
//! change in any tier the projection equals today's field; the projected
//! p75 is monotone in every tier's change; intervals contain the estimate.

pub mod field;

pub use field::{FieldDist, FieldSource};

use crate::metric::Metric;
use crate::stats::{Interval, normal};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// Grid of field quantile levels the change is applied on.
const GRID: usize = 400;

/// A tier as the projection sees it: the field quantile it stands for and
/// its share of the visits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierLayout {
    /// The field quantile level the tier reproduces, in (0, 1).
    pub quantile: f64,
    /// The share of real users the tier stands for (weights sum to 1).
    pub weight: f64,
}

/// How a lab change carries over to a band of real users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transfer {
    /// Multiply by the tier's candidate/reference ratio (timings: a change
    /// that costs bandwidth or CPU costs slow users more).
    Scale,
    /// Add the tier's shift (CLS and counts, which have exact zeros).
    Shift,
}

impl Transfer {
    /// The transfer a metric's behaviour supports.
    pub fn for_metric(metric: Metric) -> Transfer {
        match metric.unit() {
            crate::metric::Unit::Millis => Transfer::Scale,
            _ => Transfer::Shift,
        }
    }
}

/// One tier's lab values of both builds.
#[derive(Debug, Clone, Copy)]
pub struct TierSamples<'a> {
    /// Where the tier sits in the field.
    pub layout: TierLayout,
    /// Candidate values measured in this tier.
    pub candidate: &'a [f64],
    /// Reference values measured in this tier.
    pub reference: &'a [f64],
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectOptions {
    /// Two-sided confidence level of the intervals.
    pub level: f64,
    /// Bootstrap replicates.
    pub resamples: usize,
    /// RNG seed (same inputs and seed → same interval).
    pub seed: u64,
}

impl Default for ProjectOptions {
    fn default() -> Self {
        ProjectOptions {
            level: 0.90,
            resamples: 500,
            seed: 0x5eed_f1e1d,
        }
    }
}

/// The change measured in one tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierChange {
    /// The tier's field quantile level.
    pub quantile: f64,
    /// Its weight.
    pub weight: f64,
    /// Candidate values.
    pub n_candidate: usize,
    /// Reference values.
    pub n_reference: usize,
    /// Relative change (`ratio − 1`) for [`Transfer::Scale`], shift otherwise.
    pub change: f64,
}

/// The projected field distribution of one metric after the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// How the change was transferred.
    pub transfer: Transfer,
    /// The field p75 today.
    pub today_p75: f64,
    /// The projected p75 after the change.
    pub projected_p75: f64,
    /// Interval of the projected p75 (lab noise of both builds, field n).
    pub interval: Interval,
    /// Interval of `projected_p75 − today_p75` (the field's own sampling
    /// error mostly cancels here).
    pub shift_interval: Interval,
    /// Share of good visits today (web-vitals thresholds), if defined.
    pub good_today: Option<f64>,
    /// Projected share of good visits.
    pub good_projected: Option<f64>,
    /// Interval of the projected good share.
    pub good_interval: Option<Interval>,
    /// Per-tier changes.
    pub tiers: Vec<TierChange>,
    /// The field's n, when the sampling error could be carried.
    pub field_n: Option<u64>,
    /// Where the field distribution came from.
    pub field_source: FieldSource,
}

/// Projects `metric`'s field distribution through the tiers' changes.
/// `None` when no tier has values of both builds.
pub fn project(
    metric: Metric,
    field: &FieldDist,
    tiers: &[TierSamples<'_>],
    options: &ProjectOptions,
) -> Option<Projection> {
    let transfer = Transfer::for_metric(metric);
    let mut used: Vec<&TierSamples<'_>> = tiers
        .iter()
        .filter(|t| !t.candidate.is_empty() && !t.reference.is_empty())
        .collect();
    if used.is_empty() {
        return None;
    }
    // Fastest band first, so the interpolation weights below are fixed.
    used.sort_by(|a, b| a.layout.quantile.total_cmp(&b.layout.quantile));
    let good = metric.thresholds().map(|(g, _)| g);
    let mut diffs = Vec::new();
    let changes: Vec<f64> = used
        .iter()
        .map(|t| tier_change(transfer, t.candidate, t.reference, &mut diffs))
        .collect();
    let points: Vec<f64> = used
        .iter()
        .map(|t| normal::quantile(t.layout.quantile.clamp(1e-6, 1.0 - 1e-6)))
        .collect();
    let grid = Grid::new(&points);
    let estimate = evaluate(&grid, field, transfer, &changes, 0.0, good);

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    let mut projected = Vec::with_capacity(options.resamples);
    let mut shifts = Vec::with_capacity(options.resamples);
    let mut goods = Vec::with_capacity(options.resamples);
    let mut buf_c = Vec::new();
    let mut buf_r = Vec::new();
    for _ in 0..options.resamples {
        let boot: Vec<f64> = used
            .iter()
            .map(|t| {
                resample(&mut rng, t.candidate, &mut buf_c);
                resample(&mut rng, t.reference, &mut buf_r);
                tier_change(transfer, &buf_c, &buf_r, &mut diffs)
            })
            .collect();
        let z = if field.n.is_some() {
            standard_normal(&mut rng)
        } else {
            0.0
        };
        let e = evaluate(&grid, field, transfer, &boot, z, good);
        projected.push(e.projected);
        shifts.push(e.projected - e.today);
        if let Some(g) = e.good_projected {
            goods.push(g);
        }
    }
    let interval = percentile_interval(&mut projected, options.level);
    let shift_interval = percentile_interval(&mut shifts, options.level);
    let good_interval = (!goods.is_empty()).then(|| percentile_interval(&mut goods, options.level));
    Some(Projection {
        transfer,
        today_p75: estimate.today,
        projected_p75: estimate.projected,
        interval: widen(interval, estimate.projected),
        shift_interval: widen(shift_interval, estimate.projected - estimate.today),
        good_today: estimate.good_today,
        good_projected: estimate.good_projected,
        good_interval: good_interval
            .zip(estimate.good_projected)
            .map(|(i, g)| widen(i, g)),
        tiers: used
            .iter()
            .zip(&changes)
            .map(|(t, &c)| TierChange {
                quantile: t.layout.quantile,
                weight: t.layout.weight,
                n_candidate: t.candidate.len(),
                n_reference: t.reference.len(),
                change: match transfer {
                    Transfer::Scale => c.exp() - 1.0,
                    Transfer::Shift => c,
                },
            })
            .collect(),
        field_n: field.n,
        field_source: field.source,
    })
}

struct Evaluated {
    today: f64,
    projected: f64,
    good_today: Option<f64>,
    good_projected: Option<f64>,
}

/// The grid of field levels `u_i = (i + ½) / GRID`, and for each the two
/// tiers (sorted by level) its change interpolates between, with the weight
/// of the second: linear in the probit, flat beyond the end tiers. The
/// weights depend only on the tiers' levels, so they are computed once.
struct Grid {
    u: Vec<f64>,
    weights: Vec<(usize, usize, f64)>,
}

impl Grid {
    fn new(points: &[f64]) -> Grid {
        let u: Vec<f64> = (0..GRID).map(|i| (i as f64 + 0.5) / GRID as f64).collect();
        let last = points.len() - 1;
        let weights = u
            .iter()
            .map(|&u| {
                let z = normal::quantile(u);
                if z <= points[0] {
                    return (0, 0, 0.0);
                }
                if z >= points[last] {
                    return (last, last, 0.0);
                }
                let k = (0..last).find(|&k| z <= points[k + 1]).unwrap_or(last - 1);
                let (z0, z1) = (points[k], points[k + 1]);
                let t = if z1 > z0 { (z - z0) / (z1 - z0) } else { 1.0 };
                (k, k + 1, t)
            })
            .collect();
        Grid { u, weights }
    }
}

/// Today's and the projected p75 and good shares on the grid; `z` moves the
/// field's quantile levels by `z` standard errors of an n-sample quantile.
fn evaluate(
    grid: &Grid,
    field: &FieldDist,
    transfer: Transfer,
    changes: &[f64],
    z: f64,
    good: Option<f64>,
) -> Evaluated {
    let mut today = Vec::with_capacity(GRID);
    let mut after = Vec::with_capacity(GRID);
    for (&u, &(k0, k1, t)) in grid.u.iter().zip(&grid.weights) {
        let moved = match field.n {
            Some(n) if n > 0 && z != 0.0 => {
                (u + z * (u * (1.0 - u) / n as f64).sqrt()).clamp(1e-4, 1.0 - 1e-4)
            }
            _ => u,
        };
        let v = field.quantile(moved);
        let c = changes[k0] + t * (changes[k1] - changes[k0]);
        let w = match transfer {
            Transfer::Scale => v * c.exp(),
            Transfer::Shift => (v + c).max(0.0),
        };
        today.push(v);
        after.push(w);
    }
    let share =
        |xs: &[f64]| good.map(|g| xs.iter().filter(|&&x| x <= g).count() as f64 / xs.len() as f64);
    Evaluated {
        good_today: share(&today),
        good_projected: share(&after),
        today: p75(&mut today),
        projected: p75(&mut after),
    }
}

/// Nearest-rank p75 of the grid (the grid is equally spaced in `u`).
fn p75(xs: &mut [f64]) -> f64 {
    let k = ((0.75 * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
    *xs.select_nth_unstable_by(k, f64::total_cmp).1
}

/// Hodges-Lehmann change of one tier: on the log scale for [`Transfer::Scale`]
/// (values floored at 0.5 so a 0 ms TTFB stays finite), absolute otherwise.
fn tier_change(transfer: Transfer, c: &[f64], r: &[f64], d: &mut Vec<f64>) -> f64 {
    let f = |v: f64| match transfer {
        Transfer::Scale => v.max(0.5).ln(),
        Transfer::Shift => v,
    };
    d.clear();
    for &a in c {
        for &b in r {
            d.push(f(a) - f(b));
        }
    }
    crate::stats::median_mut(d).unwrap_or(0.0)
}

fn resample(rng: &mut Xoshiro256PlusPlus, from: &[f64], into: &mut Vec<f64>) {
    into.clear();
    into.extend((0..from.len()).map(|_| from[rng.random_range(0..from.len())]));
}

/// Box–Muller: one standard normal draw from two uniforms.
fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn percentile_interval(xs: &mut [f64], level: f64) -> Interval {
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let k = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
        xs[k]
    };
    let a = (1.0 - level) / 2.0;
    Interval {
        lower: at(a),
        upper: at(1.0 - a),
        level,
    }
}

/// A percentile interval can miss its own estimate when resamples are
/// lumpy (three visits a tier); widen it to contain the estimate.
fn widen(i: Interval, estimate: f64) -> Interval {
    Interval {
        lower: i.lower.min(estimate),
        upper: i.upper.max(estimate),
        level: i.level,
    }
}

#[cfg(test)]
mod tests;
