//! Alpha spending for group-sequential (adaptive) sampling.
//!
//! The gate looks at the data after batches of runs (looks `k = 1..K` at
//! cumulative run counts `n_1 < … < n_K`, information fraction
//! `t_k = n_k / n_K`). A spending function `α(t)` says how much of the
//! false-alarm budget may be used up by time `t` (Lan & DeMets 1983):
//!
//! - [`Spending::OBrienFleming`]: `α(t) = 2 − 2·Φ(z_{1−α/2} / √t)`, spends
//!   almost nothing early and keeps most of `α` for the last look;
//! - [`Spending::Pocock`]: `α(t) = α · ln(1 + (e − 1)·t)`, spends evenly.
//!
//! Boundaries: look `k` tests at the nominal level `α(t_k) − α(t_{k−1})`
//! (the last look gets whatever is left of `α`). By the union bound the
//! probability of *any* false rejection over all looks is at most
//! `Σ_k (α(t_k) − α(t_{k−1})) = α`, for any test and any dependence between
//! looks — no normal approximation of the rank statistics' joint law is
//! needed. This is conservative compared with boundaries from the joint
//! normal distribution (Jennison & Turnbull 2000, ch. 7), which is the price
//! for an exact guarantee with rank tests and small batches. Stopping early
//! for futility ("no change") only removes rejections, so it keeps the bound.

use super::{StatsError, check_prob, normal};
use serde::Serialize;

/// A Lan–DeMets spending function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spending {
    /// O'Brien–Fleming-type: conservative early, most of α at the end.
    OBrienFleming,
    /// Pocock-type: roughly equal spending per look.
    Pocock,
}

impl Spending {
    /// Cumulative α spent by information fraction `t` in [0, 1].
    pub fn spent(self, alpha: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if t >= 1.0 {
            return alpha;
        }
        match self {
            Spending::OBrienFleming => {
                let z = normal::quantile(1.0 - alpha / 2.0);
                (2.0 * normal::sf(z / t.sqrt())).min(alpha)
            }
            Spending::Pocock => alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
        }
    }
}

/// The per-look nominal levels of a group-sequential design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendingPlan {
    /// Overall false-alarm budget.
    pub alpha: f64,
    /// The spending function.
    pub spending: Spending,
    /// Cumulative run counts at each look (strictly increasing, last = cap).
    pub looks: Vec<usize>,
    /// Nominal level of each look; sums to `alpha`.
    pub look_alpha: Vec<f64>,
}

impl SpendingPlan {
    /// A plan with looks at `looks` (cumulative runs, strictly increasing).
    pub fn new(alpha: f64, spending: Spending, looks: &[usize]) -> Result<Self, StatsError> {
        check_prob("alpha", alpha)?;
        if looks.is_empty() || looks[0] == 0 || looks.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StatsError::Invalid(format!(
                "looks must be strictly increasing positive run counts, got {looks:?}"
            )));
        }
        let cap = *looks.last().unwrap_or(&1) as f64;
        let mut look_alpha = Vec::with_capacity(looks.len());
        let mut before = 0.0;
        for (k, &n) in looks.iter().enumerate() {
            let now = if k + 1 == looks.len() {
                alpha
            } else {
                spending.spent(alpha, n as f64 / cap)
            };
            look_alpha.push((now - before).max(0.0));
            before = now;
        }
        Ok(SpendingPlan {
            alpha,
            spending,
            looks: looks.to_vec(),
            look_alpha,
        })
    }

    /// Looks at `min, min + batch, …` up to and including `cap`.
    pub fn batches(
        alpha: f64,
        spending: Spending,
        min: usize,
        batch: usize,
        cap: usize,
    ) -> Result<Self, StatsError> {
        if min == 0 || batch == 0 || cap < min {
            return Err(StatsError::Invalid(format!(
                "adaptive sampling needs min >= 1, batch >= 1, cap >= min (got min {min}, batch {batch}, cap {cap})"
            )));
        }
        let mut looks: Vec<usize> = (min..cap).step_by(batch).collect();
        looks.push(cap);
        Self::new(alpha, spending, &looks)
    }

    /// The one-sided z boundary of look `k` (0-based) for a single test.
    pub fn z_boundary(&self, k: usize) -> f64 {
        match self.look_alpha.get(k) {
            Some(&a) if a > 0.0 => normal::quantile(1.0 - a),
            _ => f64::INFINITY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn obrien_fleming_values() {
        // 2 * scipy.stats.norm.sf(scipy.stats.norm.ppf(0.975) / sqrt(0.5)) = 0.005574596680784415
        let v = Spending::OBrienFleming.spent(0.05, 0.5);
        assert!((v - 0.005574596680784415).abs() < 1e-10, "{v}");
        // 0.05 * log(1 + (e - 1) * 0.5) = 0.031006153...
        let p = Spending::Pocock.spent(0.05, 0.5);
        assert!((p - 0.05 * (1.0 + (std::f64::consts::E - 1.0) * 0.5).ln()).abs() < 1e-15);
    }

    #[test]
    fn batches_end_at_the_cap() {
        let plan = SpendingPlan::batches(0.05, Spending::OBrienFleming, 8, 8, 30).unwrap();
        assert_eq!(plan.looks, vec![8, 16, 24, 30]);
        assert!(SpendingPlan::new(0.05, Spending::Pocock, &[8, 8]).is_err());
        assert!(SpendingPlan::batches(0.05, Spending::Pocock, 0, 8, 30).is_err());
    }

    proptest! {
        #[test]
        fn look_levels_sum_to_alpha(
            alpha in 0.001f64..0.2, min in 1usize..20, batch in 1usize..20, extra in 0usize..100,
            pocock in any::<bool>(),
        ) {
            let s = if pocock { Spending::Pocock } else { Spending::OBrienFleming };
            let plan = SpendingPlan::batches(alpha, s, min, batch, min + extra).unwrap();
            let total: f64 = plan.look_alpha.iter().sum();
            prop_assert!((total - alpha).abs() < 1e-12);
            prop_assert!(plan.look_alpha.iter().all(|&a| a >= 0.0));
        }
    }
}
