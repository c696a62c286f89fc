//! Equivalence by two one-sided tests (TOST; Schuirmann 1987), rank-based:
//! "the shift of `x` relative to `y` lies within `(−margin, +margin)`".
//!
//! The two null hypotheses are `shift ≤ −margin` and `shift ≥ +margin`.
//! The first is rejected when `x + margin` is stochastically larger than
//! `y` by a one-sided Mann-Whitney test at level `alpha`, the second when
//! `x − margin` is smaller. Equivalence is declared when both are rejected;
//! the TOST p-value is the larger of the two. This is the rank version of
//! the test (Wellek, *Testing Statistical Hypotheses of Equivalence and
//! Noninferiority*, 2nd ed., 2010, §6.1 uses the same construction), and
//! it agrees with "the `1 − 2·alpha` Hodges-Lehmann interval lies inside
//! the margins", which is reported alongside.
//!
//! Invariants: the p-value is in (0, 1]; a wider margin never gives a larger
//! p-value; `x` and `y` swapped give the same p-value.

use super::mann_whitney::{Alternative, mann_whitney};
use super::{Shift, StatsError, check_prob, hodges_lehmann};

/// The result of [`tost`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tost {
    /// Hodges-Lehmann shift of `x` relative to `y`, with its `1 − 2·alpha` interval.
    pub shift: Shift,
    /// The larger of the two one-sided p-values.
    pub p_value: f64,
    /// True when both one-sided tests reject at `alpha`.
    pub equivalent: bool,
}

/// Tests whether `x` and `y` are equivalent within `±margin` at level `alpha`.
pub fn tost(x: &[f64], y: &[f64], margin: f64, alpha: f64) -> Result<Tost, StatsError> {
    check_prob("alpha", alpha)?;
    if !(margin.is_finite() && margin > 0.0) {
        return Err(StatsError::Invalid(format!(
            "equivalence margin {margin}: expected a positive number"
        )));
    }
    let shift = hodges_lehmann(x, y, 1.0 - 2.0 * alpha)?;
    let up: Vec<f64> = x.iter().map(|v| v + margin).collect();
    let down: Vec<f64> = x.iter().map(|v| v - margin).collect();
    let above_lower = mann_whitney(&up, y, Alternative::Greater)?.p_value;
    let below_upper = mann_whitney(&down, y, Alternative::Less)?.p_value;
    let p_value = above_lower.max(below_upper);
    Ok(Tost {
        shift,
        p_value,
        equivalent: p_value < alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn x() -> Vec<f64> {
        vec![
            101.0, 98.5, 103.2, 99.1, 100.4, 97.8, 102.6, 100.9, 99.7, 101.8, 98.2, 100.1,
        ]
    }
    fn y() -> Vec<f64> {
        vec![
            100.2, 99.4, 101.5, 98.9, 102.1, 99.8, 100.6, 97.9, 101.1, 100.3, 99.2, 100.8,
        ]
    }

    /// Reference (scipy 1.17.1; 12 vs 12 values use the normal
    /// approximation with continuity correction, as here):
    /// `mannwhitneyu(x + 5, y, alternative="greater", method="asymptotic")`
    /// gives p = 1.82923e-05 and `mannwhitneyu(x - 5, y, alternative="less",
    /// method="asymptotic")` p = 2.34744e-05, so TOST p = 2.34744e-05.
    #[test]
    fn a_small_shift_is_equivalent_within_a_wide_margin() {
        let t = tost(&x(), &y(), 5.0, 0.05).unwrap();
        assert!(t.equivalent, "{t:?}");
        assert!((t.p_value - 2.34744e-05).abs() < 1e-9, "{}", t.p_value);
        assert!(t.shift.interval.lower > -5.0 && t.shift.interval.upper < 5.0);
    }

    /// Reference (scipy 1.17.1, `method="asymptotic"`):
    /// `mannwhitneyu(x + 0.5, y, "greater")` p = 0.209310 and
    /// `mannwhitneyu(x - 0.5, y, "less")` p = 0.272098; TOST p = 0.272098,
    /// not equivalent at a 0.5 margin.
    #[test]
    fn a_narrow_margin_is_not_shown() {
        let t = tost(&x(), &y(), 0.5, 0.05).unwrap();
        assert!(!t.equivalent, "{t:?}");
        assert!((t.p_value - 0.272098).abs() < 1e-6, "{}", t.p_value);
    }

    #[test]
    fn a_real_shift_is_never_equivalent() {
        let slow: Vec<f64> = x().iter().map(|v| v + 20.0).collect();
        assert!(!tost(&slow, &y(), 5.0, 0.05).unwrap().equivalent);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(tost(&x(), &y(), 0.0, 0.05).is_err());
        assert!(tost(&x(), &y(), f64::NAN, 0.05).is_err());
        assert!(tost(&x(), &y(), 1.0, 0.7).is_err());
        assert!(tost(&[], &y(), 1.0, 0.05).is_err());
    }

    proptest! {
        #[test]
        fn wider_margins_never_raise_the_p_value_and_order_does_not_matter(
            a in prop::collection::vec(0.0f64..100.0, 3..20),
            b in prop::collection::vec(0.0f64..100.0, 3..20),
            m in 0.1f64..50.0,
        ) {
            let narrow = tost(&a, &b, m, 0.05).unwrap();
            let wide = tost(&a, &b, m * 2.0, 0.05).unwrap();
            prop_assert!(wide.p_value <= narrow.p_value + 1e-12);
            prop_assert!(narrow.p_value > 0.0 && narrow.p_value <= 1.0);
            let swapped = tost(&b, &a, m, 0.05).unwrap();
            prop_assert!((swapped.p_value - narrow.p_value).abs() < 1e-9);
        }
    }
}
