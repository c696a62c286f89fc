//! The exact binomial test (Clopper & Pearson 1934; two-sided p-value as in
//! `scipy.stats.binomtest`: the total probability of outcomes no more likely
//! than the observed one, with scipy's relative tolerance of 1e-7).
//!
//! Distribution functions come from `statrs::distribution::Binomial`
//! (regularised incomplete beta). Cost: `O(1)` for one-sided tests, `O(n)`
//! for the two-sided one.

use super::{StatsError, check_prob};
use serde::Serialize;
use statrs::distribution::{Binomial, Discrete, DiscreteCDF};

/// Which side of the null the alternative lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tail {
    /// The true proportion is smaller than `p0`.
    Less,
    /// The true proportion is greater than `p0`.
    Greater,
    /// The true proportion differs from `p0`.
    TwoSided,
}

fn dist(n: u64, p0: f64) -> Result<Binomial, StatsError> {
    Binomial::new(p0, n).map_err(|e| StatsError::Invalid(format!("binomial(n={n}, p={p0}): {e}")))
}

/// `P(B <= k)` for `B ~ Binomial(n, p)`.
pub fn cdf(k: u64, n: u64, p: f64) -> Result<f64, StatsError> {
    Ok(dist(n, p)?.cdf(k))
}

/// The smallest `k` with `P(B <= k) >= q` (`scipy.stats.binom.ppf`).
pub fn ppf(q: f64, n: u64, p: f64) -> Result<u64, StatsError> {
    let d = dist(n, p)?;
    // Binary search over 0..=n; cdf is monotone.
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if d.cdf(mid) >= q * (1.0 - 1e-12) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Exact binomial test of `k` successes in `n` trials against proportion `p0`.
/// Returns the p-value in [0, 1]. `p0` must be in (0, 1), `k <= n`, `n >= 1`.
pub fn binomial_test(k: u64, n: u64, p0: f64, tail: Tail) -> Result<f64, StatsError> {
    check_prob("null proportion", p0)?;
    if n == 0 || k > n {
        return Err(StatsError::Invalid(format!(
            "binomial test needs 0 <= k <= n and n >= 1, got k={k}, n={n}"
        )));
    }
    let d = dist(n, p0)?;
    let p = match tail {
        Tail::Less => d.cdf(k),
        Tail::Greater => {
            if k == 0 {
                1.0
            } else {
                d.sf(k - 1)
            }
        }
        Tail::TwoSided => {
            let observed = d.pmf(k) * (1.0 + 1e-7);
            (0..=n).map(|i| d.pmf(i)).filter(|&q| q <= observed).sum()
        }
    };
    Ok(p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }

    #[test]
    fn matches_scipy_binomtest() {
        // scipy.stats.binomtest(3, 15, 0.1).pvalue = 0.18406106910639106
        close(
            binomial_test(3, 15, 0.1, Tail::TwoSided).unwrap(),
            0.18406106910639106,
        );
        // scipy.stats.binomtest(3, 15, 0.1, alternative="greater").pvalue = 0.18406106910639106
        close(
            binomial_test(3, 15, 0.1, Tail::Greater).unwrap(),
            0.18406106910639106,
        );
        // scipy.stats.binomtest(12, 30, 0.75, alternative="less").pvalue = 5.008334648427728e-05
        close(
            binomial_test(12, 30, 0.75, Tail::Less).unwrap(),
            5.008334648427728e-05,
        );
        // scipy.stats.binomtest(20, 30, 0.5).pvalue = 0.09873714670538905
        close(
            binomial_test(20, 30, 0.5, Tail::TwoSided).unwrap(),
            0.09873714670538905,
        );
    }

    #[test]
    fn ppf_matches_scipy() {
        // scipy.stats.binom.ppf(0.025, 30, 0.75) = 18.0; ppf(0.975, 30, 0.75) = 27.0
        assert_eq!(ppf(0.025, 30, 0.75).unwrap(), 18);
        assert_eq!(ppf(0.975, 30, 0.75).unwrap(), 27);
        // scipy.stats.binom.ppf(0.975, 8, 0.75) = 8.0
        assert_eq!(ppf(0.975, 8, 0.75).unwrap(), 8);
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(binomial_test(5, 3, 0.5, Tail::Less).is_err());
        assert!(binomial_test(1, 3, 1.0, Tail::Less).is_err());
        assert!(binomial_test(0, 0, 0.5, Tail::Less).is_err());
    }

    proptest! {
        #[test]
        fn p_values_are_probabilities(n in 1u64..200, frac in 0.0f64..=1.0, p0 in 0.01f64..0.99) {
            let k = ((n as f64) * frac).round() as u64;
            for tail in [Tail::Less, Tail::Greater, Tail::TwoSided] {
                let p = binomial_test(k, n, p0, tail).unwrap();
                prop_assert!((0.0..=1.0).contains(&p));
            }
            // One-sided tails overlap at k, so they sum to at least 1.
            let l = binomial_test(k, n, p0, Tail::Less).unwrap();
            let g = binomial_test(k, n, p0, Tail::Greater).unwrap();
            prop_assert!(l + g >= 1.0 - 1e-9);
        }
    }
}
