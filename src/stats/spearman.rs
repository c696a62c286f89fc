//! Spearman's rank correlation with ties, its p-value and a Fisher-z interval.
//!
//! `rho` is Pearson's correlation of the two samples' ranks, tied values
//! sharing their average rank (as `scipy.stats.spearmanr` computes it). The
//! two-sided p-value of "no monotone association" uses
//! `t = rho·√((n−2)/(1−rho²))` with n − 2 degrees of freedom, as scipy does.
//! The interval maps `atanh(rho)` ± z·se back with `tanh`, with Fieller,
//! Hartley and Pearson's (1957) `se = √(1.06/(n−3))` for rank correlations;
//! it is given for n > 10 only, where that approximation holds.
//!
//! Invariants (proptested): `rho` is in [−1, 1]; it does not change when
//! either sample goes through a strictly increasing map; swapping the samples
//! gives the same result.

use super::mann_whitney::ranks;
use super::{Interval, StatsError, check, check_prob, normal};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The smallest sample [`spearman`] gives an interval for.
pub const MIN_INTERVAL_N: usize = 11;

/// The result of [`spearman`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spearman {
    /// The rank correlation, in [−1, 1].
    pub rho: f64,
    /// Number of pairs.
    pub n: usize,
    /// Two-sided p-value of rho = 0 (t approximation, as scipy).
    pub p_value: f64,
    /// Fisher-z interval for rho at the level asked, for n > 10.
    pub interval: Option<Interval>,
}

/// Spearman's rho of the pairs `(x[i], y[i])` (at least 3), with a `level`
/// interval. Fails when a sample is constant: its ranks carry no order.
pub fn spearman(x: &[f64], y: &[f64], level: f64) -> Result<Spearman, StatsError> {
    check("x", x, 3)?;
    check("y", y, 3)?;
    check_prob("level", level)?;
    if x.len() != y.len() {
        return Err(StatsError::Invalid(format!(
            "spearman needs pairs: x has {} values, y has {}",
            x.len(),
            y.len()
        )));
    }
    // Mid-ranks, shared with the rank-sum test.
    let (rx, ry) = (ranks(x).0, ranks(y).0);
    let n = x.len();
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        let (da, db) = (a - mean, b - mean);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(StatsError::Invalid(
            "spearman: one sample has a single value, so its ranks carry no order".into(),
        ));
    }
    let rho = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    Ok(Spearman {
        rho,
        n,
        p_value: p_value(rho, n),
        interval: interval(rho, n, level),
    })
}

fn p_value(rho: f64, n: usize) -> f64 {
    let df = (n - 2) as f64;
    let denom = (1.0 - rho * rho).max(0.0);
    if denom == 0.0 {
        return 0.0;
    }
    let t = rho * (df / denom).sqrt();
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).min(1.0),
        // df ≥ 1 always holds here (n ≥ 3).
        Err(_) => 1.0,
    }
}

fn interval(rho: f64, n: usize, level: f64) -> Option<Interval> {
    if n < MIN_INTERVAL_N {
        return None;
    }
    let z = rho.clamp(-1.0 + 1e-12, 1.0 - 1e-12).atanh();
    let half = normal::quantile(0.5 + level / 2.0) * (1.06 / (n as f64 - 3.0)).sqrt();
    Some(Interval {
        lower: (z - half).tanh(),
        upper: (z + half).tanh(),
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const X: [f64; 12] = [1., 2., 2., 3., 5., 8., 8., 8., 10., 12., 13., 15.];
    const Y: [f64; 12] = [3., 1., 4., 4., 5., 9., 2., 6., 5., 3., 5., 8.];

    #[test]
    fn matches_scipy_with_ties() {
        // python3: from scipy.stats import spearmanr, norm; import numpy as np
        // r = spearmanr(X, Y)  (scipy 1.17.1)
        //   statistic 0.4973269933169194, pvalue 0.09995082920407136
        // np.tanh(np.arctanh(r.statistic) ± norm.ppf(0.975) * np.sqrt(1.06 / (12 - 3)))
        //   -0.1262103991527802, 0.8391768203762172
        let s = spearman(&X, &Y, 0.95).unwrap();
        assert!((s.rho - 0.4973269933169194).abs() < 1e-12, "{s:?}");
        assert!((s.p_value - 0.09995082920407136).abs() < 1e-9, "{s:?}");
        let ci = s.interval.unwrap();
        assert!((ci.lower - -0.1262103991527802).abs() < 1e-9, "{ci:?}");
        assert!((ci.upper - 0.8391768203762172).abs() < 1e-9, "{ci:?}");
        assert_eq!(s.n, 12);
    }

    #[test]
    fn matches_scipy_without_ties_and_when_perfect() {
        // spearmanr(10..=150 step 10, [12,11,35,33,33,70,41,90,88,60,150,120,99,160,150])
        //   statistic 0.928445134977611, pvalue 5.933867125616855e-07;
        //   Fisher z (1.06/(n-3)) 95 %: 0.787373616424541, 0.9771179709517623
        let x: Vec<f64> = (1..=15).map(|i| f64::from(i) * 10.0).collect();
        let y = [
            12., 11., 35., 33., 33., 70., 41., 90., 88., 60., 150., 120., 99., 160., 150.,
        ];
        let s = spearman(&x, &y, 0.95).unwrap();
        assert!((s.rho - 0.928445134977611).abs() < 1e-12, "{s:?}");
        assert!((s.p_value - 5.933867125616855e-07).abs() < 1e-12, "{s:?}");
        let ci = s.interval.unwrap();
        assert!((ci.lower - 0.787373616424541).abs() < 1e-9, "{ci:?}");
        assert!((ci.upper - 0.9771179709517623).abs() < 1e-9, "{ci:?}");
        // spearmanr([.5,1.5,2.5,3.5,4.5,5.5], [6,5,4,3,2,1]): -1.0, pvalue 0.0
        let s = spearman(
            &[0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            &[6., 5., 4., 3., 2., 1.],
            0.95,
        );
        let s = s.unwrap();
        assert_eq!((s.rho, s.p_value, s.interval), (-1.0, 0.0, None));
    }

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(
            ranks(&[10., 20., 10., 30., 20., 20.]).0,
            [1.5, 4., 1.5, 6., 4., 4.]
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_number() {
        assert!(spearman(&[1., 2.], &[1., 2.], 0.95).is_err());
        assert!(spearman(&[1., 2., 3.], &[1., 2.], 0.95).is_err());
        assert!(spearman(&[1., 2., f64::NAN], &[1., 2., 3.], 0.95).is_err());
        let e = spearman(&[5., 5., 5.], &[1., 2., 3.], 0.95).unwrap_err();
        assert!(e.to_string().contains("single value"), "{e}");
    }

    proptest! {
        #[test]
        fn rho_is_bounded_and_blind_to_monotone_maps(
            pairs in prop::collection::vec((0u32..50, 0u32..50), 3..60),
        ) {
            let x: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let y: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            let Ok(s) = spearman(&x, &y, 0.95) else {
                // Only a constant sample is refused.
                prop_assert!(x.iter().all(|v| *v == x[0]) || y.iter().all(|v| *v == y[0]));
                return Ok(());
            };
            prop_assert!((-1.0..=1.0).contains(&s.rho));
            prop_assert!((0.0..=1.0).contains(&s.p_value));
            // Strictly increasing maps keep every rank, so rho stays.
            let fx: Vec<f64> = x.iter().map(|v| (v + 1.0).ln() * 7.0 - 3.0).collect();
            let fy: Vec<f64> = y.iter().map(|v| v.powi(3) + 2.0 * v).collect();
            let t = spearman(&fx, &fy, 0.95).unwrap();
            prop_assert!((t.rho - s.rho).abs() < 1e-12);
            let swapped = spearman(&y, &x, 0.95).unwrap();
            prop_assert!((swapped.rho - s.rho).abs() < 1e-12);
            // A decreasing map flips the sign.
            let neg: Vec<f64> = y.iter().map(|v| -v).collect();
            prop_assert!((spearman(&x, &neg, 0.95).unwrap().rho + s.rho).abs() < 1e-12);
            if let Some(ci) = s.interval {
                prop_assert!(ci.lower <= s.rho && s.rho <= ci.upper);
                prop_assert!(ci.lower >= -1.0 && ci.upper <= 1.0);
            }
        }
    }
}
