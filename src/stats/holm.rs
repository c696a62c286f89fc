//! Holm–Bonferroni step-down adjustment (Holm 1979).
//!
//! Sort the `m` p-values ascending; the adjusted value of the `i`-th smallest
//! is `max_{j <= i} min(1, (m − j + 1) · p_(j))`. Rejecting every hypothesis
//! whose adjusted p-value is `<= α` controls the family-wise error rate at `α`
//! under any dependence between the tests. Same values as R's
//! `p.adjust(p, "holm")` and statsmodels' `multipletests(p, method="holm")`.
//!
//! Invariants: output has the input's order and length, every value is in
//! `[p_i, 1]`, and the order of the adjusted values follows the raw ones.

/// Holm-adjusted p-values, in the order of `p`. NaN inputs are treated as 1.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let clean: Vec<f64> = p
        .iter()
        .map(|&v| if v.is_nan() { 1.0 } else { v.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean[a].total_cmp(&clean[b]));
    let mut adjusted = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let v = ((m - rank) as f64 * clean[i]).min(1.0);
        running = running.max(v);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_p_adjust_holm() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
        // (by hand: 4·0.005, 3·0.01, max(2·0.03, …), max(1·0.04, 0.06)).
        let a = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-15, "{a:?}");
        }
        assert!(holm(&[]).is_empty());
        assert_eq!(holm(&[0.2]), vec![0.2]);
    }

    proptest! {
        #[test]
        fn adjusted_values_are_bounded_and_monotone(p in proptest::collection::vec(0.0f64..=1.0, 0..40)) {
            let a = holm(&p);
            prop_assert_eq!(a.len(), p.len());
            for i in 0..p.len() {
                prop_assert!(a[i] >= p[i] - 1e-15 && a[i] <= 1.0);
                prop_assert!(a[i] <= (p[i] * p.len() as f64).min(1.0) + 1e-15);
                for j in 0..p.len() {
                    if p[i] < p[j] { prop_assert!(a[i] <= a[j]); }
                }
            }
        }
    }
}
