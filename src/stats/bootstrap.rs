//! Seeded percentile bootstrap (Efron & Tibshirani 1993, ch. 13), for
//! statistics without a closed-form interval (e.g. a ratio of p75s).
//!
//! Resampling uses `Xoshiro256PlusPlus` seeded from a `u64`: the same data,
//! statistic, count and seed give the same interval on every platform and
//! rand release. Cost: `resamples × (n + cost of the statistic)`.
//!
//! Invariants: the estimate is the statistic of the original data; for a
//! statistic that returns a value within the data's range (any quantile), the
//! interval lies within that range too.

use super::{Interval, StatsError, check, check_prob, percentile, sorted};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

/// A bootstrap estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapEstimate {
    /// The statistic on the original data.
    pub estimate: f64,
    /// Percentile interval of the resampled statistics.
    pub interval: Interval,
    /// Resamples drawn.
    pub resamples: usize,
}

/// Percentile bootstrap of `statistic` over `data` (at least 2 finite values).
pub fn bootstrap_ci(
    data: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<BootstrapEstimate, StatsError> {
    check("bootstrap sample", data, 2)?;
    check_prob("confidence level", level)?;
    if resamples < 10 {
        return Err(StatsError::Invalid(format!(
            "bootstrap needs at least 10 resamples, got {resamples}"
        )));
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut buf = vec![0.0; data.len()];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for slot in buf.iter_mut() {
            *slot = data[rng.random_range(0..data.len())];
        }
        let v = statistic(&buf);
        if v.is_finite() {
            stats.push(v);
        }
    }
    let estimate = statistic(data);
    if stats.is_empty() || !estimate.is_finite() {
        return Err(StatsError::Invalid(
            "the bootstrap statistic is not finite".into(),
        ));
    }
    let s = sorted(&stats);
    let half = (1.0 - level) / 2.0;
    Ok(BootstrapEstimate {
        estimate,
        interval: Interval {
            lower: percentile(&s, half)?,
            upper: percentile(&s, 1.0 - half)?,
            level,
        },
        resamples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p75(xs: &[f64]) -> f64 {
        percentile(&sorted(xs), 0.75).unwrap_or(f64::NAN)
    }

    #[test]
    fn same_seed_same_answer_other_seed_other_answer() {
        let data: Vec<f64> = (0..50)
            .map(|i| 1000.0 + (i * 37 % 50) as f64 * 10.0)
            .collect();
        let a = bootstrap_ci(&data, p75, 500, 0.95, 7).unwrap();
        let b = bootstrap_ci(&data, p75, 500, 0.95, 7).unwrap();
        let c = bootstrap_ci(&data, p75, 500, 0.95, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.interval, c.interval);
    }

    #[test]
    fn mean_interval_is_close_to_the_normal_one() {
        // Data 1..=100: mean 50.5, sd 29.01; normal 95 % interval of the mean ≈ 50.5 ± 5.69.
        let data: Vec<f64> = (1..=100).map(f64::from).collect();
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let b = bootstrap_ci(&data, mean, 4000, 0.95, 1).unwrap();
        assert_eq!(b.estimate, 50.5);
        assert!((b.interval.lower - 44.81).abs() < 1.0, "{b:?}");
        assert!((b.interval.upper - 56.19).abs() < 1.0, "{b:?}");
    }

    proptest! {
        #[test]
        fn quantile_interval_stays_in_data_range(
            data in proptest::collection::vec(0.0f64..1e4, 2..40), seed in 0u64..1000,
        ) {
            let b = bootstrap_ci(&data, p75, 200, 0.9, seed).unwrap();
            let lo = data.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = data.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(b.interval.lower >= lo && b.interval.upper <= hi);
            prop_assert!(b.interval.lower <= b.interval.upper);
        }
    }
}
