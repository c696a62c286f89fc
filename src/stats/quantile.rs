//! The one percentile definition every p50 / p75 / p90 a user sees is
//! computed with: **nearest rank** (Hyndman & Fan type 1, `numpy.quantile`'s
//! `method="inverted_cdf"`). The `q`-percentile is the smallest value with at
//! least a share `q` of the sample at or below it, so it is always a value
//! that was measured.
//!
//! Why nearest rank and not linear interpolation: web-vitals' reporting
//! guidance, CrUX and RUM dashboards quote a p75 that a real visit had
//! ("75 % of visits were at or below this"). Using the same definition for
//! lab summaries, field information rows and the bootstrap's interval ends
//! means one results file never shows two p75s for the same visits.
//! The median used as a *shift statistic* (Hodges-Lehmann, `stats::median`)
//! is the conventional midpoint of the middle pair; it is a location
//! estimate, not a reported percentile.

use super::{StatsError, check};

/// Nearest-rank `q`-percentile of an already **sorted**, non-empty, finite
/// slice; `q` in [0, 1] (`q = 0` gives the minimum).
pub fn percentile(sorted: &[f64], q: f64) -> Result<f64, StatsError> {
    check("sample", sorted, 1)?;
    if !(0.0..=1.0).contains(&q) {
        return Err(StatsError::Invalid(format!(
            "percentile q must be in [0, 1], got {q}"
        )));
    }
    Ok(nearest_rank(sorted, q))
}

/// [`percentile`] without the checks, for hot loops over data already
/// known to be sorted, non-empty and finite, with `q` in [0, 1].
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_numpy_inverted_cdf() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.5, 0.75, 0.9], method="inverted_cdf")
        //   = [3., 4., 10.]
        let s = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&s, 0.5).unwrap(), 3.0);
        assert_eq!(percentile(&s, 0.75).unwrap(), 4.0);
        assert_eq!(percentile(&s, 0.9).unwrap(), 10.0);
        // numpy.quantile(range(1, 31), 0.75, method="inverted_cdf") = 23.
        let xs: Vec<f64> = (1..=30).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.75).unwrap(), 23.0);
    }

    #[test]
    fn textbook_nearest_rank() {
        // Wikipedia "Percentile", nearest-rank method: {15, 20, 35, 40, 50}.
        let v = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(nearest_rank(&v, 0.3), 20.0);
        assert_eq!(nearest_rank(&v, 0.4), 20.0);
        assert_eq!(nearest_rank(&v, 0.5), 35.0);
        assert_eq!(nearest_rank(&v, 1.0), 50.0);
        assert_eq!(nearest_rank(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(percentile(&[], 0.5).is_err());
        assert!(percentile(&[1.0], 1.5).is_err());
        assert!(percentile(&[f64::NAN], 0.5).is_err());
    }

    proptest! {
        #[test]
        fn is_a_measured_value_with_at_least_q_at_or_below(
            mut xs in proptest::collection::vec(0.0f64..5000.0, 1..80),
            q in 0.0f64..=1.0,
        ) {
            xs.sort_by(f64::total_cmp);
            let p = percentile(&xs, q).unwrap();
            prop_assert!(xs.contains(&p));
            let at_or_below = xs.iter().filter(|&&x| x <= p).count() as f64;
            prop_assert!(at_or_below >= q * xs.len() as f64 - 1e-9);
            let below = xs.iter().filter(|&&x| x < p).count() as f64;
            prop_assert!(below < q * xs.len() as f64 || q == 0.0);
        }
    }
}
