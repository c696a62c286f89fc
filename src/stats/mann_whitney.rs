//! One-sided Mann-Whitney U (Wilcoxon rank-sum) test.
//!
//! `U` is the number of pairs `(x_i, y_j)` with `x_i > y_j`, ties counting
//! one half (Mann & Whitney 1947). The p-value of [`Alternative::Greater`] is
//! `P(U >= u)` under H0 (both samples from one continuous distribution).
//!
//! Method choice follows `scipy.stats.mannwhitneyu(method="auto")` (scipy
//! 1.17): the exact null distribution when `min(n1, n2) <= 8` and there are
//! no ties, the normal approximation with tie correction and a continuity
//! correction of 0.5 otherwise. One deviation: the exact distribution is also
//! skipped when the larger sample exceeds [`EXACT_MAX_N`] (its counts would
//! overflow); the normal approximation is excellent there.
//!
//! The exact distribution is the coefficient list of the Gaussian binomial
//! `[n1+n2 choose n1]_q` (the generating function of U), built with
//! `n_small` multiply/divide steps in exact `i128` arithmetic: cost
//! `O(n_small² · n_large)`.
//!
//! Why not `statrs::stats_tests::mannwhitneyu`: its exact method enumerates
//! all `C(n1+n2, n1)` rank subsets, and its automatic mode picks the exact
//! method whenever *one* sample has <= 8 values, which is exponential for
//! `8 vs 1000`. It is used in the tests as a cross-check of the normal
//! approximation.

use super::{StatsError, check, normal};
use serde::Serialize;

/// Largest size of the bigger sample for which the exact distribution is used.
pub const EXACT_MAX_N: usize = 10_000;

/// Direction of the alternative hypothesis, for `x` relative to `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// `x` tends to be larger than `y` (for timings: `x` is slower).
    Greater,
    /// `x` tends to be smaller than `y`.
    Less,
}

/// How the p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Exact null distribution of U.
    Exact,
    /// Normal approximation with tie and continuity correction.
    Normal,
}

/// Result of [`mann_whitney`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U statistic of `x` (pairs with `x_i > y_j`, ties 1/2), as scipy reports it.
    pub u: f64,
    /// One-sided p-value, in [0, 1].
    pub p_value: f64,
    /// Exact or normal approximation.
    pub method: Method,
}

/// Mid-ranks (1-based) of `values` and the sizes of the tie groups.
pub(crate) fn ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the mean rank.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        ties.push(end - start);
        start = end;
    }
    (ranks, ties)
}

/// One-sided Mann-Whitney U test of `x` against `y`.
///
/// Needs at least one finite value in each sample.
pub fn mann_whitney(
    x: &[f64],
    y: &[f64],
    alternative: Alternative,
) -> Result<MannWhitney, StatsError> {
    check("first sample", x, 1)?;
    check("second sample", y, 1)?;
    let (n1, n2) = (x.len(), y.len());
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (r, ties) = ranks(&all);
    let r1: f64 = r[..n1].iter().sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let u2 = (n1 * n2) as f64 - u1;
    let u = match alternative {
        Alternative::Greater => u1,
        Alternative::Less => u2,
    };
    let has_ties = ties.iter().any(|&t| t > 1);
    let exact = n1.min(n2) <= 8 && !has_ties && n1.max(n2) <= EXACT_MAX_N;
    let (p_value, method) = if exact {
        let dist = UDistribution::new(n1, n2);
        (dist.sf(u.round() as usize), Method::Exact)
    } else {
        (normal_p(u, n1, n2, &ties), Method::Normal)
    };
    Ok(MannWhitney {
        u: u1,
        p_value: p_value.clamp(0.0, 1.0),
        method,
    })
}

/// `P(U >= u)` by the normal approximation with tie and continuity correction
/// (scipy's `_get_mwu_z`).
fn normal_p(u: f64, n1: usize, n2: usize, ties: &[usize]) -> f64 {
    let (a, b) = (n1 as f64, n2 as f64);
    let n = a + b;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let var = a * b / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var.is_nan() || var <= 0.0 {
        // All values equal: no evidence either way.
        return 1.0;
    }
    normal::sf((u - a * b / 2.0 - 0.5) / var.sqrt())
}

/// The exact null distribution of U for sample sizes `n1`, `n2` (no ties).
#[derive(Debug, Clone)]
pub struct UDistribution {
    counts: Vec<i128>,
    total: f64,
}

impl UDistribution {
    /// Builds the distribution. Sizes up to `8 × EXACT_MAX_N` are safe in `i128`;
    /// keep `min(n1, n2)` small (the cost is `O(min² · max)`).
    pub fn new(n1: usize, n2: usize) -> Self {
        let (m, n) = (n1.min(n2), n1.max(n2));
        let mut poly: Vec<i128> = vec![1];
        for j in 1..=m {
            // poly ← poly · (1 − q^(n+j)) / (1 − q^j); stays [n+j choose j]_q.
            let shift = n + j;
            let mut next = vec![0i128; poly.len() + shift];
            for (k, &c) in poly.iter().enumerate() {
                next[k] += c;
                next[k + shift] -= c;
            }
            for k in j..next.len() {
                next[k] += next[k - j];
            }
            next.truncate(j * n + 1);
            poly = next;
        }
        let total = poly.iter().map(|&c| c as f64).sum();
        UDistribution {
            counts: poly,
            total,
        }
    }

    /// `P(U <= u)`.
    pub fn cdf(&self, u: usize) -> f64 {
        let upto = (u + 1).min(self.counts.len());
        self.counts[..upto].iter().map(|&c| c as f64).sum::<f64>() / self.total
    }

    /// `P(U >= u)`.
    pub fn sf(&self, u: usize) -> f64 {
        if u == 0 {
            return 1.0;
        }
        1.0 - self.cdf(u - 1)
    }

    /// `P(U = u)` for `u = 0..=n1·n2`.
    pub fn pmf(&self) -> Vec<f64> {
        self.counts.iter().map(|&c| c as f64 / self.total).collect()
    }

    /// The largest value `U` can take (`n1 · n2`).
    pub fn max_u(&self) -> usize {
        self.counts.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn exact_matches_scipy() {
        // scipy.stats.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12],
        //     alternative="greater") -> statistic=17.0, pvalue=0.05555555555555555
        let r = mann_whitney(
            &[19.0, 22.0, 16.0, 29.0, 24.0],
            &[20.0, 11.0, 17.0, 12.0],
            Alternative::Greater,
        )
        .unwrap();
        assert_eq!(r.method, Method::Exact);
        close(r.u, 17.0, 0.0);
        close(r.p_value, 0.05555555555555555, 1e-12);
        // alternative="less" -> pvalue=0.9682539682539683
        let r = mann_whitney(
            &[19.0, 22.0, 16.0, 29.0, 24.0],
            &[20.0, 11.0, 17.0, 12.0],
            Alternative::Less,
        )
        .unwrap();
        close(r.p_value, 0.9682539682539683, 1e-12);
    }

    #[test]
    fn exact_with_one_large_sample_matches_scipy() {
        // x = [1.5, 2.5, ..., 8.5] (8 values), y = 0..40 (40 values)
        // scipy.stats.mannwhitneyu(x, y, alternative="greater", method="auto")
        //   -> statistic=44.0, pvalue=0.9997070907786758 (method exact)
        let x: Vec<f64> = (1..=8).map(|i| i as f64 + 0.5).collect();
        let y: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let r = mann_whitney(&x, &y, Alternative::Greater).unwrap();
        assert_eq!(r.method, Method::Exact);
        close(r.u, 44.0, 0.0);
        close(r.p_value, 0.9997070907786758, 1e-10);
    }

    #[test]
    fn normal_with_ties_matches_scipy() {
        // scipy.stats.mannwhitneyu([1, 2, 2, 3, 4, 5, 5, 6, 7, 9],
        //     [1, 1, 2, 3, 3, 3, 4, 4, 5, 6], alternative="greater")
        //   -> statistic=64.0, pvalue=0.1512650153416079
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 9.0];
        let y = [1.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 5.0, 6.0];
        let r = mann_whitney(&x, &y, Alternative::Greater).unwrap();
        assert_eq!(r.method, Method::Normal);
        close(r.u, 64.0, 1e-12);
        close(r.p_value, 0.1512650153416079, 1e-9);
    }

    #[test]
    fn normal_agrees_with_statrs() {
        let x: Vec<f64> = (0..30).map(|i| (i * 37 % 101) as f64).collect();
        let y: Vec<f64> = (0..25).map(|i| (i * 53 % 97) as f64 + 0.25).collect();
        let ours = mann_whitney(&x, &y, Alternative::Greater).unwrap();
        let (u, p) = statrs::stats_tests::mannwhitneyu::mannwhitneyu(
            &x,
            &y,
            statrs::stats_tests::mannwhitneyu::MannWhitneyUMethod::AsymptoticInclContinuityCorrection,
            statrs::stats_tests::Alternative::Greater,
        )
        .unwrap();
        close(ours.u, u, 1e-9);
        close(ours.p_value, p, 1e-12);
    }

    #[test]
    fn all_equal_gives_no_evidence() {
        let r = mann_whitney(&[3.0; 12], &[3.0; 12], Alternative::Greater).unwrap();
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(mann_whitney(&[], &[1.0], Alternative::Greater).is_err());
        assert!(mann_whitney(&[f64::NAN], &[1.0], Alternative::Greater).is_err());
    }

    #[test]
    fn distribution_sums_to_one_and_is_symmetric() {
        let d = UDistribution::new(5, 7);
        assert_eq!(d.max_u(), 35);
        close(d.cdf(35), 1.0, 1e-15);
        for u in 0..=35 {
            close(d.cdf(u), d.sf(35 - u), 1e-12);
        }
        // C(12, 5) = 792 arrangements, exactly one with U = 0.
        close(d.cdf(0), 1.0 / 792.0, 1e-15);
    }

    proptest! {
        #[test]
        fn p_in_unit_interval_and_directions_complement(
            x in proptest::collection::vec(0.0f64..100.0, 1..20),
            y in proptest::collection::vec(0.0f64..100.0, 1..20),
        ) {
            let g = mann_whitney(&x, &y, Alternative::Greater).unwrap();
            let l = mann_whitney(&x, &y, Alternative::Less).unwrap();
            prop_assert!((0.0..=1.0).contains(&g.p_value));
            prop_assert!((0.0..=1.0).contains(&l.p_value));
            // Swapping the samples swaps the direction.
            let s = mann_whitney(&y, &x, Alternative::Less).unwrap();
            prop_assert!((g.p_value - s.p_value).abs() < 1e-12);
            // Without ties and exact, P(U>=u) + P(U<=u-1)... both tails cover everything.
            if g.method == Method::Exact {
                prop_assert!(g.p_value + l.p_value >= 1.0 - 1e-12);
            }
        }

        #[test]
        fn shifting_x_up_never_raises_p(
            x in proptest::collection::vec(0.0f64..100.0, 2..15),
            y in proptest::collection::vec(0.0f64..100.0, 2..15),
        ) {
            let p0 = mann_whitney(&x, &y, Alternative::Greater).unwrap().p_value;
            let shifted: Vec<f64> = x.iter().map(|v| v + 1000.0).collect();
            let p1 = mann_whitney(&shifted, &y, Alternative::Greater).unwrap().p_value;
            prop_assert!(p1 <= p0 + 1e-12);
        }
    }
}
