//! Sample quantiles and distribution-free confidence intervals for them.
//!
//! The point estimate is the linear interpolation of Hyndman & Fan's type 7
//! (`numpy.quantile`'s default). The interval uses order statistics: for a
//! continuous distribution the number `B` of observations below the true
//! `p`-quantile is `Binomial(n, p)`, so with `l = binom.ppf((1−level)/2, n, p)`
//! and `u = binom.ppf(1 − (1−level)/2, n, p) + 1` the interval
//! `[x_(l), x_(u)]` covers it with probability at least `level`
//! (Conover, *Practical Nonparametric Statistics*, §3.2). Sides the sample
//! cannot bound (`l = 0`, `u > n`) are infinite; the interval is widened to
//! contain the point estimate when needed (only raising coverage).
//!
//! [`quantile_sign_test`] is the matching test: is the `p`-quantile above (or
//! below) a given value? Cost: one sort, `O(n log n)`.

use super::binomial::{self, Tail};
use super::{Interval, StatsError, check, check_prob, sorted};
use serde::Serialize;

/// A quantile estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuantileEstimate {
    /// The probability, e.g. 0.75.
    pub p: f64,
    /// Type-7 point estimate.
    pub estimate: f64,
    /// Distribution-free interval.
    pub interval: Interval,
}

/// Type-7 quantile of an already **sorted**, non-empty, finite slice; `p` in [0, 1].
pub fn quantile(sorted: &[f64], p: f64) -> Result<f64, StatsError> {
    check("sample", sorted, 1)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(StatsError::Invalid(format!(
            "quantile p must be in [0, 1], got {p}"
        )));
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Ok(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The `p`-quantile of `xs` (any order) with a `level` distribution-free interval.
pub fn quantile_ci(xs: &[f64], p: f64, level: f64) -> Result<QuantileEstimate, StatsError> {
    check("sample", xs, 1)?;
    check_prob("quantile p", p)?;
    check_prob("confidence level", level)?;
    let s = sorted(xs);
    let n = s.len() as u64;
    let estimate = quantile(&s, p)?;
    let half = (1.0 - level) / 2.0;
    let l = binomial::ppf(half, n, p)?;
    let u = binomial::ppf(1.0 - half, n, p)? + 1;
    let lower = if l == 0 {
        f64::NEG_INFINITY
    } else {
        s[l as usize - 1]
    };
    let upper = if u > n {
        f64::INFINITY
    } else {
        s[u as usize - 1]
    };
    Ok(QuantileEstimate {
        p,
        estimate,
        interval: Interval {
            lower: lower.min(estimate),
            upper: upper.max(estimate),
            level,
        },
    })
}

/// Exact sign test for a quantile. With [`Tail::Greater`] it tests
/// H0: "the `p`-quantile is <= `value`" against "it is above `value`"; with
/// [`Tail::Less`], H0: "the `p`-quantile is >= `value`". Returns the p-value.
/// [`Tail::TwoSided`] is the two-sided binomial test of the count below `value`.
pub fn quantile_sign_test(xs: &[f64], p: f64, value: f64, tail: Tail) -> Result<f64, StatsError> {
    check("sample", xs, 1)?;
    check_prob("quantile p", p)?;
    let n = xs.len() as u64;
    match tail {
        // Under H0 at least a share p of the distribution is <= value, so few
        // observations <= value is evidence that the quantile is higher.
        Tail::Greater => {
            let at_or_below = xs.iter().filter(|&&x| x <= value).count() as u64;
            binomial::binomial_test(at_or_below, n, p, Tail::Less)
        }
        Tail::Less => {
            let below = xs.iter().filter(|&&x| x < value).count() as u64;
            binomial::binomial_test(below, n, p, Tail::Greater)
        }
        Tail::TwoSided => {
            let below = xs.iter().filter(|&&x| x <= value).count() as u64;
            binomial::binomial_test(below, n, p, Tail::TwoSided)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn type7_matches_numpy() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.5, 0.75, 0.9]) = [3., 4., 7.6]
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&s, 0.5).unwrap(), 3.0);
        assert_eq!(quantile(&s, 0.75).unwrap(), 4.0);
        assert!((quantile(&s, 0.9).unwrap() - 7.6).abs() < 1e-12);
    }

    #[test]
    fn order_statistic_interval() {
        // n = 30, p = 0.75, level 0.95: scipy.stats.binom.ppf(0.025, 30, 0.75) = 18,
        // binom.ppf(0.975, 30, 0.75) + 1 = 28 -> [x_(18), x_(28)] of 1..=30.
        let xs: Vec<f64> = (1..=30).map(f64::from).collect();
        let q = quantile_ci(&xs, 0.75, 0.95).unwrap();
        assert_eq!(q.interval.lower, 18.0);
        assert_eq!(q.interval.upper, 28.0);
        assert!((q.estimate - 22.75).abs() < 1e-12); // numpy.quantile(range(1, 31), 0.75)
    }

    #[test]
    fn eight_values_cannot_bound_p75_from_above() {
        // binom.ppf(0.975, 8, 0.75) = 8 -> u = 9 > n.
        let xs: Vec<f64> = (1..=8).map(f64::from).collect();
        let q = quantile_ci(&xs, 0.75, 0.95).unwrap();
        assert!(q.interval.upper.is_infinite());
        assert!(q.interval.lower.is_finite());
    }

    #[test]
    fn sign_test_matches_scipy() {
        // 12 of 30 values <= 100: scipy.stats.binomtest(12, 30, 0.75, alternative="less")
        //   .pvalue = 5.008334648427728e-05
        let xs: Vec<f64> = (0..30).map(|i| if i < 12 { 50.0 } else { 150.0 }).collect();
        let p = quantile_sign_test(&xs, 0.75, 100.0, Tail::Greater).unwrap();
        assert!((p - 5.008334648427728e-05).abs() < 1e-12);
        let p = quantile_sign_test(&xs, 0.75, 100.0, Tail::Less).unwrap();
        assert!(p > 0.99);
    }

    proptest! {
        #[test]
        fn interval_contains_estimate(
            xs in proptest::collection::vec(0.0f64..5000.0, 1..80),
            p in prop::sample::select(vec![0.5, 0.75, 0.9]),
            level in 0.5f64..0.99,
        ) {
            let q = quantile_ci(&xs, p, level).unwrap();
            prop_assert!(q.interval.contains(q.estimate));
            let lo = xs.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(q.estimate >= lo && q.estimate <= hi);
            let t = quantile_sign_test(&xs, p, q.estimate, Tail::Greater).unwrap();
            prop_assert!((0.0..=1.0).contains(&t));
        }
    }
}
