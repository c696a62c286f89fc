//! Stratified rank test (van Elteren 1960): one-sided "x is larger than y"
//! when both samples are split into strata that must not be mixed — here the
//! calibration tiers, each a different network and CPU condition.
//!
//! Within stratum `k` (sizes `m_k`, `n_k`, `N_k = m_k + n_k`), `W_k` is the
//! sum of the mid-ranks of `x` in the pooled stratum. Under H0 (same
//! distribution within every stratum) `E[W_k] = m_k (N_k + 1) / 2` and
//! `Var[W_k] = m_k n_k / 12 · (N_k + 1 − Σ(t³ − t) / (N_k (N_k − 1)))` with
//! `t` the sizes of tied groups. The statistic `T = Σ W_k / (N_k + 1)`
//! (van Elteren's locally most powerful weights) is referred to the normal
//! distribution, without continuity correction.
//!
//! Reference: van Elteren, P. (1960), "On the combination of independent
//! two-sample tests of Wilcoxon", Bull. Int. Stat. Inst. 37, 351–361;
//! Lehmann, *Nonparametrics* (1975), §3.3. Strata missing either sample
//! carry no information and are skipped.
//!
//! Invariants: the p-value is in (0, 1]; swapping `x` and `y` gives
//! `p(x > y) + p(y > x) = 1` (continuous normal, no correction); a single
//! stratum reproduces the normal-approximation Wilcoxon rank-sum test.

use super::{Interval, Shift, StatsError, check, check_prob, normal};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The result of the stratified test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stratified {
    /// Standardised statistic (positive when `x` tends to be larger).
    pub z: f64,
    /// One-sided p-value for "x is stochastically larger than y".
    pub p_greater: f64,
    /// One-sided p-value for "x is stochastically smaller than y".
    pub p_less: f64,
    /// Strata that had both samples.
    pub strata_used: usize,
}

/// Van Elteren's stratified Wilcoxon test over `(x_k, y_k)` pairs.
/// Needs at least one stratum with values on both sides and some spread.
pub fn van_elteren(strata: &[(&[f64], &[f64])]) -> Result<Stratified, StatsError> {
    let mut t = 0.0;
    let mut mean = 0.0;
    let mut var = 0.0;
    let mut used = 0;
    for &(x, y) in strata {
        if x.is_empty() || y.is_empty() {
            continue;
        }
        check("stratified x", x, 1)?;
        check("stratified y", y, 1)?;
        let (m, n) = (x.len() as f64, y.len() as f64);
        let big_n = m + n;
        let (w, ties) = rank_sum(x, y);
        let weight = 1.0 / (big_n + 1.0);
        let tie_term = if big_n > 1.0 {
            ties / (big_n * (big_n - 1.0))
        } else {
            0.0
        };
        t += weight * w;
        mean += weight * m * (big_n + 1.0) / 2.0;
        var += weight * weight * m * n / 12.0 * (big_n + 1.0 - tie_term);
        used += 1;
    }
    if used == 0 {
        return Err(StatsError::Invalid(
            "no stratum has values in both samples".into(),
        ));
    }
    if var <= 0.0 {
        return Err(StatsError::Invalid(
            "every stratum is one tied group: nothing to rank".into(),
        ));
    }
    let z = (t - mean) / var.sqrt();
    Ok(Stratified {
        z,
        p_greater: normal::sf(z),
        p_less: normal::cdf(z),
        strata_used: used,
    })
}

/// The stratified shift of `x` over `y`: the median of all within-stratum
/// differences `f(x_i) − f(y_j)` (pairs never cross strata, so the spread
/// between tiers does not enter), with `f = ln` when `log` is set (then the
/// estimate and interval are mapped back to a relative change `exp(·) − 1`).
/// The interval is a seeded percentile bootstrap that resamples each sample
/// within its stratum (Efron & Tibshirani 1993, §8.4 on stratified resampling).
pub fn stratified_shift(
    strata: &[(&[f64], &[f64])],
    level: f64,
    resamples: usize,
    seed: u64,
    log: bool,
) -> Result<Shift, StatsError> {
    check_prob("confidence level", level)?;
    let used: Vec<(&[f64], &[f64])> = strata
        .iter()
        .copied()
        .filter(|(x, y)| !x.is_empty() && !y.is_empty())
        .collect();
    if used.is_empty() {
        return Err(StatsError::Invalid(
            "no stratum has values in both samples".into(),
        ));
    }
    for (x, y) in &used {
        check("stratified x", x, 1)?;
        check("stratified y", y, 1)?;
        if log {
            if let Some(&value) = x.iter().chain(y.iter()).find(|v| **v <= 0.0) {
                return Err(StatsError::NotPositive {
                    what: "stratified sample",
                    value,
                });
            }
        }
    }
    let f = |v: f64| if log { v.ln() } else { v };
    let mut d = Vec::new();
    let mut stat = |pairs: &[(Vec<f64>, Vec<f64>)]| -> f64 {
        d.clear();
        for (x, y) in pairs {
            for &a in x {
                for &b in y {
                    d.push(f(a) - f(b));
                }
            }
        }
        super::median_mut(&mut d).unwrap_or(0.0)
    };
    let original: Vec<(Vec<f64>, Vec<f64>)> =
        used.iter().map(|(x, y)| (x.to_vec(), y.to_vec())).collect();
    let estimate = stat(&original);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut boot = Vec::with_capacity(resamples);
    let mut buf = original.clone();
    for _ in 0..resamples.max(10) {
        for ((bx, by), (x, y)) in buf.iter_mut().zip(&used) {
            for v in bx.iter_mut() {
                *v = x[rng.random_range(0..x.len())];
            }
            for v in by.iter_mut() {
                *v = y[rng.random_range(0..y.len())];
            }
        }
        boot.push(stat(&buf));
    }
    boot.sort_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    let at = |q: f64| boot[((q * boot.len() as f64).ceil() as usize).clamp(1, boot.len()) - 1];
    let back = |v: f64| if log { v.exp() - 1.0 } else { v };
    Ok(Shift {
        estimate: back(estimate),
        interval: Interval {
            lower: back(at(a).min(estimate)),
            upper: back(at(1.0 - a).max(estimate)),
            level,
        },
    })
}

/// Sum of the mid-ranks of `x` in `x ∪ y`, and `Σ (t³ − t)` over tied groups.
fn rank_sum(x: &[f64], y: &[f64]) -> (f64, f64) {
    let mut all: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut w, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mid = (i + j + 2) as f64 / 2.0;
        let group = (j - i + 1) as f64;
        w += mid * all[i..=j].iter().filter(|e| e.1).count() as f64;
        ties += group * group * group - group;
        i = j + 1;
    }
    (w, ties)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn matches_a_hand_computation_with_scipy_ranks() {
        // Reference (Python 3.11, scipy 1.17.1):
        //   from scipy.stats import rankdata, norm
        //   strata = [([10,12,15],[9,11,10.5]), ([30,31,29,35],[28,27,30]), ([100,90],[95,85,80,88])]
        //   T=E=V=0
        //   for x,y in strata:
        //       N=len(x)+len(y); r=rankdata(x+y); W=sum(r[:len(x)])
        //       _,c=np.unique(x+y,return_counts=True); ties=sum(c**3-c)
        //       w=1/(N+1); T+=w*W; E+=w*len(x)*(N+1)/2
        //       V+=w*w*len(x)*len(y)/12*(N+1-ties/(N*(N-1)))
        //   z=(T-E)/sqrt(V); norm.sf(z)
        // gives z = 2.3643830675176205, p = 0.00903006381076554
        let s1 = ([10.0, 12.0, 15.0], [9.0, 11.0, 10.5]);
        let s2 = ([30.0, 31.0, 29.0, 35.0], [28.0, 27.0, 30.0]);
        let s3 = ([100.0, 90.0], [95.0, 85.0, 80.0, 88.0]);
        let r = van_elteren(&[(&s1.0, &s1.1), (&s2.0, &s2.1), (&s3.0, &s3.1)]).unwrap();
        close(r.z, 2.3643830675176205, 1e-12);
        close(r.p_greater, 0.00903006381076554, 1e-11);
        close(r.p_greater + r.p_less, 1.0, 1e-12);
        assert_eq!(r.strata_used, 3);
    }

    #[test]
    fn one_stratum_is_the_rank_sum_test_without_continuity_correction() {
        // scipy.stats.mannwhitneyu([3,5,7,9,11],[1,2,4,6], alternative="greater",
        //   method="asymptotic", use_continuity=False).pvalue = 0.04320536648685
        let r = van_elteren(&[(&[3.0, 5.0, 7.0, 9.0, 11.0], &[1.0, 2.0, 4.0, 6.0])]).unwrap();
        close(r.p_greater, 0.04320536648685, 1e-11);
    }

    #[test]
    fn strata_without_both_samples_are_skipped_and_all_ties_is_an_error() {
        let r = van_elteren(&[(&[1.0, 2.0], &[]), (&[3.0, 4.0], &[1.0, 2.0])]).unwrap();
        assert_eq!(r.strata_used, 1);
        assert!(van_elteren(&[(&[1.0], &[])]).is_err());
        assert!(van_elteren(&[(&[5.0, 5.0], &[5.0])]).is_err());
        assert!(van_elteren(&[(&[f64::NAN], &[1.0])]).is_err());
    }

    #[test]
    fn stratified_shift_ignores_the_spread_between_strata() {
        // Three tiers 1000 ms apart, candidate exactly 50 ms slower in each:
        // within-tier differences are all 50 (plus the ±1 jitter), so the
        // estimate is 50 and the interval is tight, while a pooled
        // Hodges-Lehmann would see the tiers' spread.
        let tiers: Vec<(Vec<f64>, Vec<f64>)> = (0..3)
            .map(|k| {
                let base = 1000.0 * (k + 1) as f64;
                let y = vec![base - 1.0, base, base + 1.0];
                let x: Vec<f64> = y.iter().map(|v| v + 50.0).collect();
                (x, y)
            })
            .collect();
        let strata: Vec<(&[f64], &[f64])> = tiers
            .iter()
            .map(|(x, y)| (x.as_slice(), y.as_slice()))
            .collect();
        let s = stratified_shift(&strata, 0.9, 500, 1, false).unwrap();
        assert_eq!(s.estimate, 50.0);
        assert!(
            s.interval.lower >= 48.0 && s.interval.upper <= 52.0,
            "{:?}",
            s.interval
        );
        let r = stratified_shift(&strata, 0.9, 500, 1, true).unwrap();
        assert!(r.estimate > 0.0 && r.interval.contains(r.estimate));
        assert!(stratified_shift(&[(&[0.0], &[1.0])], 0.9, 100, 1, true).is_err());
    }

    proptest! {
        #[test]
        fn p_values_are_probabilities_and_complementary(
            xs in prop::collection::vec(prop::collection::vec(0.0f64..100.0, 1..6), 1..5),
            ys in prop::collection::vec(prop::collection::vec(0.0f64..100.0, 1..6), 1..5),
        ) {
            let strata: Vec<(&[f64], &[f64])> = xs.iter().zip(&ys).map(|(x, y)| (x.as_slice(), y.as_slice())).collect();
            if let Ok(r) = van_elteren(&strata) {
                prop_assert!(r.p_greater > 0.0 && r.p_greater <= 1.0);
                prop_assert!((r.p_greater + r.p_less - 1.0).abs() < 1e-9);
                let swapped: Vec<(&[f64], &[f64])> = strata.iter().map(|&(x, y)| (y, x)).collect();
                let s = van_elteren(&swapped).unwrap();
                prop_assert!((s.p_greater - r.p_less).abs() < 1e-9);
            }
        }

        #[test]
        fn shifting_x_up_never_raises_p_greater(
            x in prop::collection::vec(0.0f64..100.0, 2..8),
            y in prop::collection::vec(0.0f64..100.0, 2..8),
            d in 0.0f64..50.0,
        ) {
            let up: Vec<f64> = x.iter().map(|v| v + d).collect();
            if let (Ok(a), Ok(b)) = (van_elteren(&[(&x, &y)]), van_elteren(&[(&up, &y)])) {
                prop_assert!(b.p_greater <= a.p_greater + 1e-12);
            }
        }
    }
}
