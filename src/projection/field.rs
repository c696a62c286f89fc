//! The field distribution of one metric as a quantile function, built from
//! what a baseline holds: a DDSketch (RUM imports) or three bins and a p75
//! (CrUX). Both calibration (targets per tier) and projection (the real
//! users a change acts on) read the field through this type.

use crate::baseline::MetricBaseline;
use crate::metric::Metric;
use crate::stats::normal;

/// Points of the stored quantile table: `u_j = j / TABLE` for `j = 1..TABLE`.
const TABLE: usize = 1024;

/// A field quantile function `u ↦ value`, tabled on a fine grid and
/// interpolated linearly between table points.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDist {
    /// `values[j - 1]` is the quantile at `j / TABLE` (non-decreasing).
    values: Vec<f64>,
    /// Real-user values behind it; `None` when unknown (CrUX bins), so no
    /// field sampling error can be carried.
    pub n: Option<u64>,
    /// How the quantile function was obtained.
    pub source: FieldSource,
    /// The field p75 as the baseline states it.
    pub p75: f64,
}

/// Where a [`FieldDist`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldSource {
    /// Quantiles of the full sketch of every real-user value (≤ 1 % relative error).
    Sketch,
    /// A log-normal fitted to the p75 and the good / needs-improvement
    /// shares (CrUX): exact at p75, approximate elsewhere.
    LogNormalFromBins,
}

impl FieldDist {
    /// The field distribution of `metric`, if the baseline holds enough:
    /// a non-empty sketch, or a positive p75 plus good share (CrUX).
    pub fn from_baseline(metric: Metric, mb: &MetricBaseline) -> Option<FieldDist> {
        if let Some(sketch) = mb.sketch.as_ref().filter(|s| s.count() > 0) {
            let values: Vec<f64> = (1..=TABLE)
                .map(|j| sketch.quantile(j as f64 / TABLE as f64).unwrap_or(0.0))
                .collect();
            let p75 = mb.p75.or_else(|| sketch.quantile(0.75))?;
            return Some(FieldDist::from_values(
                monotone(values),
                Some(mb.n.max(sketch.count())),
                FieldSource::Sketch,
                p75,
            ));
        }
        let p75 = mb.p75.filter(|p| *p > 0.0 && p.is_finite())?;
        let shares = mb.shares?;
        let (good, poor) = metric.thresholds()?;
        let (mu, sigma) =
            lognormal_from_bins(p75, good, poor, shares.good, shares.needs_improvement)?;
        let values = (1..=TABLE)
            .map(|j| {
                let u = (j as f64 / TABLE as f64).min(1.0 - 0.5 / TABLE as f64);
                (mu + sigma * normal::quantile(u)).exp()
            })
            .collect();
        Some(FieldDist::from_values(
            values,
            None,
            FieldSource::LogNormalFromBins,
            p75,
        ))
    }

    fn from_values(values: Vec<f64>, n: Option<u64>, source: FieldSource, p75: f64) -> FieldDist {
        FieldDist {
            values,
            n,
            source,
            p75,
        }
    }

    /// A field given directly by its quantile table (tests, simulations).
    /// `values` must be sorted; they are read as quantiles at `j / len`.
    pub fn from_sorted(values: &[f64], n: Option<u64>) -> FieldDist {
        let m = values.len().max(1);
        let table: Vec<f64> = (1..=TABLE)
            .map(|j| {
                let pos = (j as f64 / TABLE as f64 * m as f64).ceil() as usize;
                values.get(pos.clamp(1, m) - 1).copied().unwrap_or(0.0)
            })
            .collect();
        let p75 = values
            .get(((0.75 * m as f64).ceil() as usize).clamp(1, m) - 1)
            .copied()
            .unwrap_or(0.0);
        FieldDist::from_values(table, n, FieldSource::Sketch, p75)
    }

    /// The field's `u`-quantile (`u` is clamped to the table's range).
    pub fn quantile(&self, u: f64) -> f64 {
        let pos = (u * TABLE as f64).clamp(1.0, TABLE as f64);
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(TABLE);
        let t = pos - lo as f64;
        self.values[lo - 1] * (1.0 - t) + self.values[hi - 1] * t
    }
}

/// Sketch quantiles are monotone already; this guards against rounding.
fn monotone(mut v: Vec<f64>) -> Vec<f64> {
    for i in 1..v.len() {
        if v[i] < v[i - 1] {
            v[i] = v[i - 1];
        }
    }
    v
}

/// `(μ, σ)` of a log-normal that passes exactly through `p75` and, by least
/// squares on the probit scale, close to the two bin edges: the share at or
/// below `good` is `good_share`, at or below `poor` is `good_share + ni_share`.
fn lognormal_from_bins(
    p75: f64,
    good: f64,
    poor: f64,
    good_share: f64,
    ni_share: f64,
) -> Option<(f64, f64)> {
    let z75 = normal::quantile(0.75);
    let points: Vec<(f64, f64)> = [(good, good_share), (poor, good_share + ni_share)]
        .into_iter()
        .filter(|&(x, s)| x > 0.0 && s > 0.001 && s < 0.999)
        .map(|(x, s)| (normal::quantile(s) - z75, x.ln() - p75.ln()))
        .filter(|(dz, _)| dz.abs() > 1e-6)
        .collect();
    // Through (z75, ln p75): ln x − ln p75 = σ (z − z75); least squares for σ.
    let num: f64 = points.iter().map(|(dz, dl)| dz * dl).sum();
    let den: f64 = points.iter().map(|(dz, _)| dz * dz).sum();
    let sigma = if den > 0.0 { num / den } else { return None };
    if !(sigma.is_finite() && sigma > 0.0) {
        return None;
    }
    Some((p75.ln() - sigma * z75, sigma.min(3.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Shares, Sketch};

    fn mb(sketch: Option<Sketch>, p75: Option<f64>, shares: Option<Shares>) -> MetricBaseline {
        let mut m = MetricBaseline::binned("web-vitals", p75, shares, Vec::new());
        m.binned_only = sketch.is_none();
        m.n = sketch.as_ref().map_or(0, Sketch::count);
        m.sketch = sketch;
        m
    }

    #[test]
    fn a_sketch_gives_its_own_quantiles() {
        let mut s = Sketch::default();
        for v in 1..=1000 {
            s.add(v as f64);
        }
        let d = FieldDist::from_baseline(Metric::Lcp, &mb(Some(s), Some(750.0), None)).unwrap();
        assert_eq!(d.source, FieldSource::Sketch);
        assert_eq!(d.n, Some(1000));
        for (u, want) in [(0.1, 100.0), (0.5, 500.0), (0.75, 750.0), (0.9, 900.0)] {
            let got = d.quantile(u);
            assert!((got / want - 1.0).abs() < 0.02, "q{u}: {got} vs {want}");
        }
    }

    #[test]
    fn crux_bins_give_a_lognormal_through_p75_and_close_to_the_good_share() {
        // github.com PHONE origin record (../shared/field-data SOURCES.md):
        // LCP p75 2312 ms, good share 0.79004, needs improvement 0.13528.
        let shares = Shares {
            good: 0.7900432900432863,
            needs_improvement: 0.13528138528138467,
            poor: 0.0746753246753239,
        };
        let d =
            FieldDist::from_baseline(Metric::Lcp, &mb(None, Some(2312.0), Some(shares))).unwrap();
        assert_eq!(d.source, FieldSource::LogNormalFromBins);
        assert_eq!(d.n, None);
        assert!((d.quantile(0.75) / 2312.0 - 1.0).abs() < 0.005);
        // The fitted shares at the bin edges land within a few points.
        let share_below = |x: f64| {
            (1..=1000)
                .filter(|&j| d.quantile(j as f64 / 1000.0) <= x)
                .count() as f64
                / 1000.0
        };
        assert!(
            (share_below(2500.0) - 0.790).abs() < 0.03,
            "{}",
            share_below(2500.0)
        );
        assert!(
            (share_below(4000.0) - 0.925).abs() < 0.03,
            "{}",
            share_below(4000.0)
        );
    }

    #[test]
    fn nothing_usable_gives_none() {
        assert!(FieldDist::from_baseline(Metric::Lcp, &mb(None, None, None)).is_none());
        assert!(FieldDist::from_baseline(Metric::Lcp, &mb(None, Some(2000.0), None)).is_none());
        // A metric without web-vitals thresholds cannot use bins.
        let shares = Shares {
            good: 0.5,
            needs_improvement: 0.3,
            poor: 0.2,
        };
        assert!(
            FieldDist::from_baseline(Metric::Load, &mb(None, Some(2000.0), Some(shares))).is_none()
        );
    }
}
