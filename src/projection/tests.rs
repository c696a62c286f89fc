use super::*;
use proptest::prelude::*;

/// A log-normal field with median 2000 ms and σ = 0.5, tabled exactly.
fn field(n: Option<u64>) -> FieldDist {
    let values: Vec<f64> = (1..=4000)
        .map(|i| 2000.0 * (0.5 * normal::quantile((i as f64 - 0.5) / 4000.0)).exp())
        .collect();
    FieldDist::from_sorted(&values, n)
}

fn layout(k: usize, of: usize) -> TierLayout {
    TierLayout {
        quantile: (k as f64 + 0.5) / of as f64,
        weight: 1.0 / of as f64,
    }
}

fn run(metric: Metric, f: &FieldDist, tiers: &[(Vec<f64>, Vec<f64>)]) -> Projection {
    let samples: Vec<TierSamples<'_>> = tiers
        .iter()
        .enumerate()
        .map(|(k, (c, r))| TierSamples {
            layout: layout(k, tiers.len()),
            candidate: c,
            reference: r,
        })
        .collect();
    let options = ProjectOptions {
        resamples: 400,
        ..ProjectOptions::default()
    };
    project(metric, f, &samples, &options).unwrap()
}

#[test]
fn no_change_projects_today_exactly() {
    let f = field(Some(10_000));
    let same = vec![1000.0, 1100.0, 1200.0];
    let tiers: Vec<_> = (0..5).map(|_| (same.clone(), same.clone())).collect();
    let p = run(Metric::Lcp, &f, &tiers);
    assert_eq!(p.projected_p75, p.today_p75);
    // p75 of a log-normal: 2000 · exp(0.5 · 0.6745) = 2804 ms.
    assert!((p.today_p75 / 2804.0 - 1.0).abs() < 0.01, "{}", p.today_p75);
    assert_eq!(p.good_projected, p.good_today);
    assert!(p.interval.contains(p.projected_p75));
    assert!(p.shift_interval.contains(0.0));
}

#[test]
fn a_uniform_ratio_scales_the_whole_field() {
    let f = field(None);
    let tiers: Vec<_> = (0..4)
        .map(|k| {
            let r = vec![500.0 * (k + 1) as f64; 5];
            let c: Vec<f64> = r.iter().map(|v| v * 1.3).collect();
            (c, r)
        })
        .collect();
    let p = run(Metric::Lcp, &f, &tiers);
    assert!((p.projected_p75 / p.today_p75 - 1.3).abs() < 1e-9);
    assert!(p.tiers.iter().all(|t| (t.change - 0.3).abs() < 1e-9));
    // Good share: P(X ≤ 2500 / 1.3) of the log-normal = Φ(ln(1923/2000)/0.5) = 0.469.
    let good = p.good_projected.unwrap();
    assert!((good - 0.469).abs() < 0.01, "{good}");
    // No field n and exact ratios: nothing is uncertain.
    assert!((p.interval.upper - p.interval.lower).abs() < 1e-6);
}

#[test]
fn cls_is_shifted_not_scaled() {
    let values: Vec<f64> = (0..1000)
        .map(|i| if i < 400 { 0.0 } else { i as f64 / 5000.0 })
        .collect();
    let f = FieldDist::from_sorted(&values, Some(1000));
    let tiers = vec![(vec![0.05, 0.05, 0.05], vec![0.0, 0.0, 0.0]); 3];
    let p = run(Metric::Cls, &f, &tiers);
    assert_eq!(p.transfer, Transfer::Shift);
    assert!((p.projected_p75 - p.today_p75 - 0.05).abs() < 1e-9);
}

#[test]
fn a_change_in_the_slowest_tier_reaches_p75_through_interpolation() {
    // Tiers at 0.1, 0.3, 0.5, 0.7, 0.9; only the last is 50 % slower. p75 is
    // 0.674 in probit, between 0.524 (0.7) and 1.282 (0.9): weight 0.198.
    let f = field(None);
    let mut tiers: Vec<_> = (0..5).map(|_| (vec![1000.0], vec![1000.0])).collect();
    tiers[4].0 = vec![1500.0];
    let p = run(Metric::Lcp, &f, &tiers);
    let expected = (0.198 * 1.5f64.ln()).exp();
    assert!(
        (p.projected_p75 / p.today_p75 - expected).abs() < 0.01,
        "{}",
        p.projected_p75 / p.today_p75
    );
    // The projected p10 band is untouched, so good share barely moves.
    assert!(p.good_today.unwrap() - p.good_projected.unwrap() < 0.05);
}

#[test]
fn no_tier_with_both_builds_gives_none() {
    let f = field(None);
    let c = [1.0];
    let tiers = [TierSamples {
        layout: layout(0, 1),
        candidate: &c,
        reference: &[],
    }];
    assert!(project(Metric::Lcp, &f, &tiers, &ProjectOptions::default()).is_none());
}

#[test]
fn interval_covers_the_true_projection_in_simulated_labs() {
    // 100 simulated labs: 5 tiers, 6 visits per build per tier, CV 10 %
    // log-normal lab noise, true change +20 % in every tier. The 90 %
    // interval must cover the true projected p75 (today × 1.2) in at least
    // 80 % of labs (a percentile bootstrap under-covers with 6 values a tier;
    // measured coverage is in the assertion message).
    let f = field(None);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut covered = 0;
    let labs = 100;
    for _ in 0..labs {
        let tiers: Vec<(Vec<f64>, Vec<f64>)> = (0..5)
            .map(|k| {
                let base = 800.0 + 400.0 * k as f64;
                let mut draw = |m: f64| -> Vec<f64> {
                    (0..6)
                        .map(|_| m * (0.1 * standard_normal(&mut rng)).exp())
                        .collect()
                };
                (draw(base * 1.2), draw(base))
            })
            .collect();
        let p = run(Metric::Lcp, &f, &tiers);
        if p.interval.contains(p.today_p75 * 1.2) {
            covered += 1;
        }
    }
    let coverage = covered as f64 / labs as f64;
    assert!(coverage >= 0.80, "coverage {coverage}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn slowing_any_tier_never_lowers_the_projected_p75(
        base in prop::collection::vec(200.0f64..5000.0, 3..6),
        k in 0usize..3,
        extra in 0.0f64..2000.0,
    ) {
        let f = field(None);
        let tiers: Vec<(Vec<f64>, Vec<f64>)> = base.iter().map(|&b| (vec![b, b * 1.1], vec![b])).collect();
        let mut slower = tiers.clone();
        for v in &mut slower[k].0 {
            *v += extra;
        }
        let a = run(Metric::Lcp, &f, &tiers);
        let b = run(Metric::Lcp, &f, &slower);
        prop_assert!(b.projected_p75 >= a.projected_p75 - 1e-9);
        prop_assert!(a.interval.contains(a.projected_p75));
        prop_assert!(b.shift_interval.contains(b.projected_p75 - b.today_p75));
    }
}
