//! The pure half of calibration: field targets per tier, a linear response
//! model of the page (metric ≈ b + a·(rtt, 1/bandwidth, cpu)), the bounded
//! solve for each tier's conditions, and the fit table. No browser here;
//! `search.rs` measures, this module decides where to measure next.

use super::model::{FIT_QUANTILES, Fit};
use crate::metric::Metric;
use crate::projection::FieldDist;
use crate::stats::normal;

/// Lab conditions of one probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// Round-trip time (ms).
    pub rtt_ms: f64,
    /// Downstream bandwidth (kbit/s).
    pub down_kbps: f64,
    /// CPU slowdown factor.
    pub cpu: f64,
}

/// Search bounds: what the shaping proxy and CDP CPU throttling can do
/// faithfully on a CI machine.
pub const RTT_MS: (f64, f64) = (0.0, 3000.0);
/// Bandwidth bounds (kbit/s).
pub const DOWN_KBPS: (f64, f64) = (250.0, 200_000.0);
/// CPU slowdown bounds.
pub const CPU: (f64, f64) = (1.0, 8.0);

/// Upload is not in any field data; it is set to half the download, as in
/// the published DSL / cable presets.
pub fn up_kbps(down: f64) -> f64 {
    down / 2.0
}

impl Conditions {
    /// The model's variables: `(rtt, 1000 / down_kbps, cpu)`.
    fn x(&self) -> [f64; 3] {
        [self.rtt_ms, 1000.0 / self.down_kbps, self.cpu]
    }

    fn from_x(x: [f64; 3]) -> Conditions {
        Conditions {
            rtt_ms: x[0],
            down_kbps: 1000.0 / x[1],
            cpu: x[2],
        }
    }
}

fn bounds() -> [(f64, f64); 3] {
    [RTT_MS, (1000.0 / DOWN_KBPS.1, 1000.0 / DOWN_KBPS.0), CPU]
}

/// The field level each of `k` tiers stands for: band centres `(i + ½) / k`,
/// equal weights (quantile matching).
pub fn tier_levels(k: usize) -> Vec<(f64, f64)> {
    (0..k)
        .map(|i| ((i as f64 + 0.5) / k as f64, 1.0 / k as f64))
        .collect()
}

/// The starting design: corners and middles of the box the targets need,
/// so the linear model sees every variable move.
pub fn design(max_ttfb: f64) -> Vec<Conditions> {
    let rtt = (max_ttfb / 2.0).clamp(20.0, RTT_MS.1);
    let c = |rtt_ms: f64, down_kbps: f64, cpu: f64| Conditions {
        rtt_ms,
        down_kbps,
        cpu,
    };
    vec![
        c(0.0, 50_000.0, 1.0),
        c(rtt, 50_000.0, 1.0),
        c(0.0, 1_000.0, 1.0),
        c(0.0, 50_000.0, 4.0),
        c(rtt / 2.0, 4_000.0, 2.0),
        c(rtt, 1_500.0, 3.0),
    ]
}

/// `metric ≈ coef[0] + coef[1]·rtt + coef[2]·(1000 / kbps) + coef[3]·cpu`,
/// fitted by least squares over every probe so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearModel {
    /// Intercept and slopes.
    pub coef: [f64; 4],
}

impl LinearModel {
    /// Least squares with a small ridge on the slopes (keeps the fit defined
    /// when the probes do not move a variable). `None` without probes.
    pub fn fit(points: &[(Conditions, f64)]) -> Option<LinearModel> {
        if points.is_empty() {
            return None;
        }
        let mut ata = [[0.0; 4]; 4];
        let mut atb = [0.0; 4];
        for (c, y) in points {
            let x = c.x();
            let row = [1.0, x[0], x[1], x[2]];
            for i in 0..4 {
                atb[i] += row[i] * y;
                for j in 0..4 {
                    ata[i][j] += row[i] * row[j];
                }
            }
        }
        for (i, d) in ata.iter_mut().enumerate().skip(1) {
            d[i] += 1e-6 * (1.0 + d[i]);
        }
        solve4(ata, atb).map(|coef| LinearModel { coef })
    }

    /// The model's prediction.
    pub fn predict(&self, c: &Conditions) -> f64 {
        let x = c.x();
        self.coef[0] + self.coef[1] * x[0] + self.coef[2] * x[1] + self.coef[3] * x[2]
    }
}

/// The conditions, within bounds, whose predictions come closest to the
/// targets in relative terms. `offsets[m]` is added to model `m`'s prediction
/// (the measured bias at the current point: a Newton step with the model's
/// slopes). A small pull toward `from` keeps the step short when two
/// variables explain a metric equally well.
pub fn solve(models: &[(LinearModel, f64, f64)], from: Conditions) -> Conditions {
    let b = bounds();
    let x0 = from.x();
    let scale = [100.0, 0.5, 1.0];
    let mut best: Option<([f64; 3], f64)> = None;
    // Each variable is free, at its lower bound or at its upper bound.
    for code in 0..27 {
        let state = [code % 3, (code / 3) % 3, code / 9];
        let mut x = x0;
        let free: Vec<usize> = (0..3).filter(|&i| state[i] == 0).collect();
        for i in 0..3 {
            match state[i] {
                1 => x[i] = b[i].0,
                2 => x[i] = b[i].1,
                _ => {}
            }
        }
        if let Some(sol) = least_squares(models, &x, &free, &x0, &scale) {
            for (&i, v) in free.iter().zip(sol) {
                x[i] = v;
            }
        } else {
            continue;
        }
        if (0..3).any(|i| x[i] < b[i].0 - 1e-9 || x[i] > b[i].1 + 1e-9) {
            continue;
        }
        let cost = cost(models, &x, &x0, &scale);
        if best.is_none_or(|(_, c)| cost < c - 1e-12) {
            best = Some((x, cost));
        }
    }
    let x = best.map_or(x0, |(x, _)| x);
    Conditions::from_x(x)
}

const PULL: f64 = 1e-4;

fn cost(models: &[(LinearModel, f64, f64)], x: &[f64; 3], x0: &[f64; 3], scale: &[f64; 3]) -> f64 {
    let c = Conditions::from_x(*x);
    let fit: f64 = models
        .iter()
        .map(|(m, offset, target)| ((m.predict(&c) + offset - target) / target.max(1.0)).powi(2))
        .sum();
    let pull: f64 = (0..3).map(|i| ((x[i] - x0[i]) / scale[i]).powi(2)).sum();
    fit + PULL * pull
}

/// Minimises [`cost`] over the `free` variables (others fixed in `x`).
fn least_squares(
    models: &[(LinearModel, f64, f64)],
    x: &[f64; 3],
    free: &[usize],
    x0: &[f64; 3],
    scale: &[f64; 3],
) -> Option<Vec<f64>> {
    if free.is_empty() {
        return Some(Vec::new());
    }
    let n = free.len();
    let mut ata = [[0.0; 4]; 4];
    let mut atb = [0.0; 4];
    for (m, offset, target) in models {
        let w = 1.0 / target.max(1.0);
        // Residual at x with the free variables at 0.
        let mut rest = m.coef[0] + offset - target;
        for (i, xi) in x.iter().enumerate() {
            if !free.contains(&i) {
                rest += m.coef[i + 1] * xi;
            }
        }
        let row: Vec<f64> = free.iter().map(|&i| m.coef[i + 1] * w).collect();
        for a in 0..n {
            atb[a] -= row[a] * rest * w;
            for bb in 0..n {
                ata[a][bb] += row[a] * row[bb];
            }
        }
    }
    for (a, &i) in free.iter().enumerate() {
        let p = PULL / (scale[i] * scale[i]);
        ata[a][a] += p;
        atb[a] += p * x0[i];
    }
    // Pad to 4×4 with identity so one solver serves every size.
    for (a, row) in ata.iter_mut().enumerate().skip(n) {
        row[a] = 1.0;
    }
    solve4(ata, atb).map(|s| s[..n].to_vec())
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..4 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (k, v) in a[row].iter_mut().enumerate().skip(col) {
                *v -= f * pivot_row[k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        let s: f64 = (row + 1..4).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The calibrated lab mixture's `q`-quantile: the tiers' lab medians
/// interpolated linearly in `(Φ⁻¹(u), ln value)`, extended along the end
/// segments — exactly how the projection spreads a tier over its band.
pub fn mixture_quantile(tiers: &[(f64, f64)], q: f64) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = tiers
        .iter()
        .filter(|(_, v)| *v > 0.0 && v.is_finite())
        .map(|&(u, v)| (normal::quantile(u), v.ln()))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let z = normal::quantile(q);
    match pts.len() {
        0 => None,
        1 => Some(pts[0].1.exp()),
        n => {
            let seg = (0..n - 1).find(|&i| z <= pts[i + 1].0).unwrap_or(n - 2);
            let ((z0, l0), (z1, l1)) = (pts[seg], pts[seg + 1]);
            let t = if z1 > z0 { (z - z0) / (z1 - z0) } else { 0.0 };
            Some((l0 + t * (l1 - l0)).exp())
        }
    }
}

/// Lab mixture vs field at [`FIT_QUANTILES`].
pub fn fit_table(tiers: &[(f64, f64)], field: &FieldDist) -> Option<Fit> {
    let lab: Vec<f64> = FIT_QUANTILES
        .iter()
        .map(|&q| mixture_quantile(tiers, q))
        .collect::<Option<_>>()?;
    let fieldq: Vec<f64> = FIT_QUANTILES.iter().map(|&q| field.quantile(q)).collect();
    let rel: Vec<f64> = lab
        .iter()
        .zip(&fieldq)
        .map(|(l, f)| if *f > 0.0 { l / f - 1.0 } else { 0.0 })
        .collect();
    Some(Fit {
        max_rel_error: rel.iter().fold(0.0f64, |m, r| m.max(r.abs())),
        p75_rel_error: rel[3],
        field: fieldq,
        lab,
    })
}

/// The fitted metrics a field segment can target (TTFB, FCP, LCP with a
/// usable distribution).
pub fn targets(seg: &crate::baseline::SegmentBaseline) -> Vec<(Metric, FieldDist)> {
    super::model::FITTED
        .iter()
        .filter_map(|&m| {
            let mb = seg.metrics.get(&m)?;
            FieldDist::from_baseline(m, mb).map(|d| (m, d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page that behaves exactly linearly: TTFB = 20 + 2 rtt,
    /// FCP = TTFB + 3 rtt + 300·(1000/kbps) + 40 cpu, LCP = FCP + 500·(1000/kbps) + 120 cpu.
    fn page(c: &Conditions) -> [f64; 3] {
        let x = c.x();
        let ttfb = 20.0 + 2.0 * x[0];
        let fcp = ttfb + 3.0 * x[0] + 300.0 * x[1] + 40.0 * x[2];
        let lcp = fcp + 500.0 * x[1] + 120.0 * x[2];
        [ttfb, fcp, lcp]
    }

    #[test]
    fn a_linear_page_is_fitted_exactly_from_the_design() {
        let probes: Vec<(Conditions, [f64; 3])> =
            design(800.0).into_iter().map(|c| (c, page(&c))).collect();
        let models: Vec<LinearModel> = (0..3)
            .map(|m| {
                let pts: Vec<_> = probes.iter().map(|(c, y)| (*c, y[m])).collect();
                LinearModel::fit(&pts).unwrap()
            })
            .collect();
        let want = Conditions {
            rtt_ms: 90.0,
            down_kbps: 2500.0,
            cpu: 2.5,
        };
        let targets = page(&want);
        let problem: Vec<_> = models
            .iter()
            .zip(targets)
            .map(|(m, t)| (*m, 0.0, t))
            .collect();
        let got = solve(&problem, design(800.0)[0]);
        let reached = page(&got);
        for (r, t) in reached.iter().zip(targets) {
            assert!(
                (r / t - 1.0).abs() < 0.01,
                "{got:?}: {reached:?} vs {targets:?}"
            );
        }
    }

    #[test]
    fn targets_out_of_reach_stop_at_the_bounds() {
        let models: Vec<LinearModel> = (0..3)
            .map(|m| {
                let pts: Vec<_> = design(800.0)
                    .into_iter()
                    .map(|c| (c, page(&c)[m]))
                    .collect();
                LinearModel::fit(&pts).unwrap()
            })
            .collect();
        // Faster than the page can ever be: everything at its fast bound.
        let problem: Vec<_> = models.iter().map(|m| (*m, 0.0, 1.0)).collect();
        let got = solve(&problem, design(800.0)[4]);
        assert_eq!(got.rtt_ms, RTT_MS.0);
        assert_eq!(got.cpu, CPU.0);
        assert!((got.down_kbps - DOWN_KBPS.1).abs() < 1e-6);
    }

    #[test]
    fn the_mixture_is_exact_at_tier_points_and_lognormal_between() {
        // Tiers on a log-normal (median 1000, σ = 0.5) at 0.1 … 0.9.
        let ln = |u: f64| 1000.0 * (0.5 * normal::quantile(u)).exp();
        let tiers: Vec<(f64, f64)> = tier_levels(5).iter().map(|&(u, _)| (u, ln(u))).collect();
        for q in [0.1, 0.25, 0.5, 0.75, 0.9, 0.95] {
            let got = mixture_quantile(&tiers, q).unwrap();
            assert!((got / ln(q) - 1.0).abs() < 1e-9, "q{q}");
        }
        let values: Vec<f64> = (1..=2000).map(|i| ln((i as f64 - 0.5) / 2000.0)).collect();
        let fit = fit_table(&tiers, &FieldDist::from_sorted(&values, None)).unwrap();
        assert!(fit.max_rel_error < 0.01, "{fit:?}");
    }

    #[test]
    fn tier_levels_are_band_centres_with_equal_weights() {
        let t = tier_levels(4);
        assert_eq!(t[0], (0.125, 0.25));
        assert_eq!(t[3], (0.875, 0.25));
    }
}
