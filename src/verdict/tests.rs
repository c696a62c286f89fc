use super::*;
use crate::baseline::{MetricBaseline, Provenance, SegmentBaseline, Shares};
use crate::metric::PracticalThreshold;

/// `n` visits of `page` with lcp/fcp spread ±10 % around the given medians.
fn visits(page: &str, variant: &str, n: usize, lcp: f64, fcp: f64) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let mut s = Sample::failed(i as u32, page, "default", "http://x/", String::new());
            s.ok = true;
            s.error = None;
            s.variant = Variant::from(variant.to_string());
            // A fixed permutation of 0..n spread evenly over ±10 %.
            let f = 1.0 + 0.2 * (((i * 7) % n) as f64 / (n - 1) as f64 - 0.5);
            s.metrics.insert(Metric::Lcp, lcp * f);
            s.metrics.insert(Metric::Fcp, fcp * f);
            s
        })
        .collect()
}

fn opts() -> VerdictOptions {
    VerdictOptions {
        metrics: vec![Metric::Lcp, Metric::Fcp],
        ..Default::default()
    }
}

fn vs_reference(cand: &[Sample], refs: &[Sample], o: &VerdictOptions) -> GateResult {
    judge(
        &Inputs {
            candidate: cand,
            reference: Some(refs),
            field: None,
        },
        o,
    )
}

fn find(g: &GateResult, m: Metric, against: Against) -> &Comparison {
    g.comparisons
        .iter()
        .find(|c| c.metric == m && c.against == against)
        .unwrap_or_else(|| panic!("no {m} comparison in {g:#?}"))
}

#[test]
fn clear_regression_fails_the_gate() {
    let g = vs_reference(
        &visits("home", "candidate", 20, 3000.0, 1500.0),
        &visits("home", "reference", 20, 2500.0, 1500.0),
        &opts(),
    );
    let lcp = find(&g, Metric::Lcp, Against::Reference);
    assert_eq!(lcp.outcome, Outcome::Regressed, "{lcp:#?}");
    assert!(
        lcp.reason.contains("slower than reference"),
        "{}",
        lcp.reason
    );
    assert!(lcp.p_adjusted.unwrap() <= 0.05 && lcp.p_adjusted >= lcp.p_value);
    assert!((lcp.estimate.unwrap() - 500.0).abs() < 60.0);
    assert!((lcp.relative.unwrap() - 0.2).abs() < 0.03);
    assert_eq!(lcp.threshold, Some(250.0));
    assert_eq!(
        find(&g, Metric::Fcp, Against::Reference).outcome,
        Outcome::NoChange
    );
    assert_eq!(g.status, GateStatus::Regressed);
    assert_eq!(g.status, GateStatus::Regressed);
    assert_eq!(g.family_size, 2);
}

#[test]
fn significant_but_small_is_a_warning() {
    // +4 % is detectable with 40 runs at ±10 % spread, but under the 10 % threshold.
    let g = vs_reference(
        &visits("home", "candidate", 40, 2600.0, 1500.0),
        &visits("home", "reference", 40, 2500.0, 1500.0),
        &opts(),
    );
    let lcp = find(&g, Metric::Lcp, Against::Reference);
    assert_eq!(lcp.outcome, Outcome::Warning, "{lcp:#?}");
    assert!(lcp.reason.contains("real but small"), "{}", lcp.reason);
    assert_eq!(g.status, GateStatus::Pass);
}

#[test]
fn threshold_override_turns_the_warning_into_a_regression() {
    let mut o = opts();
    o.thresholds.insert(
        Metric::Lcp,
        PracticalThreshold {
            relative: 0.0,
            absolute: 50.0,
        },
    );
    let g = vs_reference(
        &visits("home", "candidate", 40, 2600.0, 1500.0),
        &visits("home", "reference", 40, 2500.0, 1500.0),
        &o,
    );
    assert_eq!(
        find(&g, Metric::Lcp, Against::Reference).outcome,
        Outcome::Regressed
    );
}

#[test]
fn improvement_is_reported_and_passes() {
    let g = vs_reference(
        &visits("home", "candidate", 20, 2000.0, 1500.0),
        &visits("home", "reference", 20, 2500.0, 1500.0),
        &opts(),
    );
    assert_eq!(
        find(&g, Metric::Lcp, Against::Reference).outcome,
        Outcome::Improved
    );
    assert_eq!(g.status, GateStatus::Pass);
}

#[test]
fn identical_builds_pass() {
    let g = vs_reference(
        &visits("home", "candidate", 20, 2500.0, 1500.0),
        &visits("home", "reference", 20, 2500.0, 1500.0),
        &opts(),
    );
    assert!(
        g.comparisons.iter().all(|c| c.outcome == Outcome::NoChange),
        "{g:#?}"
    );
    assert_eq!(g.status, GateStatus::Pass);
}

#[test]
fn failed_visits_make_the_gate_inconclusive_never_pass() {
    let mut cand = visits("home", "candidate", 10, 2500.0, 1500.0);
    for s in cand.iter_mut().take(5) {
        s.ok = false;
        s.error = Some("navigation timeout after 30 s".into());
    }
    let g = vs_reference(
        &cand,
        &visits("home", "reference", 10, 2500.0, 1500.0),
        &opts(),
    );
    assert_eq!(g.status, GateStatus::Inconclusive);
    assert_eq!(g.status, GateStatus::Inconclusive);
    let lcp = find(&g, Metric::Lcp, Against::Reference);
    assert_eq!(lcp.outcome, Outcome::Inconclusive);
    assert!(
        lcp.reason.contains("5 candidate visits valid of 10"),
        "{}",
        lcp.reason
    );
    assert!(lcp.reason.contains("navigation timeout"), "{}", lcp.reason);
    assert_eq!(g.family_size, 0);
}

#[test]
fn small_samples_that_cannot_rule_out_a_big_regression_are_inconclusive() {
    let mut o = opts();
    o.min_valid = 3;
    let g = vs_reference(
        &visits("home", "candidate", 3, 2500.0, 1500.0),
        &visits("home", "reference", 3, 2500.0, 1500.0),
        &o,
    );
    let lcp = find(&g, Metric::Lcp, Against::Reference);
    assert_eq!(lcp.outcome, Outcome::Inconclusive, "{lcp:#?}");
    assert!(lcp.reason.contains("add runs"));
}

#[test]
fn variants_in_one_file_are_split() {
    let mut all = visits("home", "candidate", 20, 3000.0, 1500.0);
    all.extend(visits("home", "reference", 20, 2500.0, 1500.0));
    all.extend(visits("home", "third-party-down", 5, 9000.0, 1500.0));
    let g = judge(
        &Inputs {
            candidate: &all,
            reference: None,
            field: None,
        },
        &opts(),
    );
    assert_eq!(
        find(&g, Metric::Lcp, Against::Reference).outcome,
        Outcome::Regressed
    );
    assert!(
        g.notes.iter().any(|n| n.contains("third-party-down")),
        "{:?}",
        g.notes
    );
}

#[test]
fn nothing_to_compare_is_inconclusive() {
    let cand = visits("home", "candidate", 20, 3000.0, 1500.0);
    let g = judge(
        &Inputs {
            candidate: &cand,
            reference: None,
            field: None,
        },
        &opts(),
    );
    assert!(g.comparisons.is_empty());
    assert_eq!(g.status, GateStatus::Inconclusive);
}

fn baseline(p75: Option<f64>, binned: bool, definition: &str, too_small: bool) -> Baseline {
    let mb = MetricBaseline {
        n: if binned { 0 } else { 100_000 },
        definition: definition.into(),
        binned_only: binned,
        p50: None,
        p75,
        p90: None,
        p95: None,
        shares: Some(Shares {
            good: 0.8,
            needs_improvement: 0.15,
            poor: 0.05,
        }),
        histogram: Vec::new(),
        sketch: None,
    };
    Baseline {
        schema: 1,
        provenance: Provenance::default(),
        segments: vec![SegmentBaseline {
            page: "*".into(),
            segment: SegmentKey::default(),
            too_small,
            metrics: [(Metric::Lcp, mb)].into_iter().collect(),
            context: Default::default(),
            ttfb_pairs: Default::default(),
        }],
    }
}

fn vs_field(cand: &[Sample], b: &Baseline) -> GateResult {
    let segments = BTreeMap::new();
    judge(
        &Inputs {
            candidate: cand,
            reference: None,
            field: Some(FieldBaseline {
                baseline: b,
                segments: &segments,
                pages: &BTreeMap::new(),
                calibrated: None,
            }),
        },
        &opts(),
    )
}

#[test]
fn without_calibration_the_field_offset_is_information_only() {
    // The lab p75 is 25 % above the field p75: shown, never judged.
    let g = vs_field(
        &visits("home", "candidate", 30, 3000.0, 1500.0),
        &baseline(Some(2400.0), false, "boomerang-lcp", false),
    );
    let c = find(&g, Metric::Lcp, Against::Field);
    assert_eq!(c.outcome, Outcome::NotComparable, "{c:#?}");
    assert_eq!(c.p_value, None);
    assert!(c.reason.contains("above field p75"), "{}", c.reason);
    assert!(c.reason.contains("rumcheck calibrate"), "{}", c.reason);
    assert!(c.notes[0].contains("boomerang-lcp"));
    assert_eq!(g.family_size, 0);
    // Nothing was judged: never a pass.
    assert_eq!(g.status, GateStatus::Inconclusive);
    assert!(g.summary().contains("1 info"), "{}", g.summary());
}

#[test]
fn binned_crux_segments_show_the_good_share_offset() {
    let g = vs_field(
        &visits("home", "candidate", 20, 3000.0, 1500.0),
        &baseline(None, true, "web-vitals", false),
    );
    let c = find(&g, Metric::Lcp, Against::Field);
    assert_eq!(c.outcome, Outcome::NotComparable);
    assert!(
        c.reason.starts_with("0 % of lab visits are good vs 80 %"),
        "{}",
        c.reason
    );
}

/// A field of 20 000 LCP values, log-normal around `median` ms (σ = 0.5).
fn sketch_baseline(median: f64) -> Baseline {
    let mut b = baseline(None, false, "web-vitals", false);
    let mut sketch = crate::baseline::Sketch::default();
    for i in 0..20_000 {
        let u = (i as f64 + 0.5) / 20_000.0;
        sketch.add(median * (0.5 * crate::stats::normal::quantile(u)).exp());
    }
    let mb = b.segments[0].metrics.get_mut(&Metric::Lcp).unwrap();
    mb.p75 = sketch.quantile(0.75);
    mb.n = sketch.count();
    mb.sketch = Some(sketch);
    b
}

/// `n` visits per tier; tier `k` is `(k + 1)` × slower, times `factor`.
fn tiered(variant: &str, tiers: u32, n: usize, factor: f64) -> Vec<Sample> {
    let mut out = Vec::new();
    for k in 0..tiers {
        for mut s in visits("home", variant, n, 1000.0 * (k + 1) as f64 * factor, 600.0) {
            s.tier = Some(k);
            out.push(s);
        }
    }
    out
}

/// The LCP verdict of `cand` against `refs` with home calibrated in three
/// equal tiers against field `b`.
fn projected_with(
    b: &Baseline,
    cand: &[Sample],
    refs: &[Sample],
    options: VerdictOptions,
) -> GateResult {
    let segments = BTreeMap::new();
    let layout: Vec<crate::projection::TierLayout> = (0..3)
        .map(|k| crate::projection::TierLayout {
            quantile: (k as f64 + 0.5) / 3.0,
            weight: 1.0 / 3.0,
        })
        .collect();
    let calibrated = [(("default".to_string(), "home".to_string()), layout)]
        .into_iter()
        .collect();
    judge(
        &Inputs {
            candidate: cand,
            reference: Some(refs),
            field: Some(FieldBaseline {
                baseline: b,
                segments: &segments,
                pages: &BTreeMap::new(),
                calibrated: Some(&calibrated),
            }),
        },
        &VerdictOptions {
            metrics: vec![Metric::Lcp],
            ..options
        },
    )
}

fn projected(cand: &[Sample], refs: &[Sample]) -> GateResult {
    projected_with(
        &sketch_baseline(2000.0),
        cand,
        refs,
        VerdictOptions::default(),
    )
}

#[test]
fn a_calibrated_change_is_projected_onto_real_users_and_flips_the_assessment() {
    // +40 % in every tier: real users' p75 2804 ms → ~3926 ms; today it
    // already fails (p75 > 2500), so no flip, but a clear regression.
    let g = projected(
        &tiered("candidate", 3, 6, 1.4),
        &tiered("reference", 3, 6, 1.0),
    );
    let c = find(&g, Metric::Lcp, Against::ProjectedField);
    assert_eq!(c.outcome, Outcome::Regressed, "{c:#?}");
    assert_eq!(c.test, TestKind::StratifiedRank);
    let p = c.projection.as_ref().unwrap();
    assert!(
        (p.projection.projected_p75 / p.projection.today_p75 - 1.4).abs() < 0.05,
        "{p:#?}"
    );
    assert!(c.reason.contains("real users' p75"), "{}", c.reason);
    assert_eq!(p.passes_today, Some(false));
    assert!(!p.flips);
    // The lab row is stratified too: the tiers' spread does not hide the change.
    let lab = find(&g, Metric::Lcp, Against::Reference);
    assert_eq!(lab.test, TestKind::StratifiedRank);
    assert_eq!(lab.outcome, Outcome::Regressed, "{lab:#?}");
    assert_eq!(g.family_size, 2);
}

#[test]
fn a_calibrated_build_without_change_passes_its_projected_row() {
    let g = projected(
        &tiered("candidate", 3, 6, 1.0),
        &tiered("reference", 3, 6, 1.0),
    );
    let c = find(&g, Metric::Lcp, Against::ProjectedField);
    assert_eq!(c.outcome, Outcome::NoChange, "{c:#?}");
    let p = c.projection.as_ref().unwrap();
    assert_eq!(p.projection.projected_p75, p.projection.today_p75);
}

#[test]
fn flipping_the_assessment_regresses_even_under_the_threshold() {
    // A field whose p75 sits just under 2500 ms; a +12 % change, under a
    // 25 % field tolerance, pushes the whole projected interval past the limit.
    let b = sketch_baseline(1700.0);
    let mb = &b.segments[0].metrics[&Metric::Lcp];
    assert!(
        mb.p75.unwrap() < 2500.0 && mb.p75.unwrap() > 2300.0,
        "{:?}",
        mb.p75
    );
    let cand: Vec<Sample> = tiered("candidate", 3, 12, 1.0)
        .into_iter()
        .map(|mut s| {
            let v = s.metrics[&Metric::Lcp];
            s.metrics.insert(Metric::Lcp, v * 1.12);
            s
        })
        .collect();
    // Reference values identical within each tier, so the ratio is exact.
    let refs: Vec<Sample> = tiered("reference", 3, 12, 1.0);
    let g = projected_with(
        &b,
        &cand,
        &refs,
        VerdictOptions {
            field_tolerance: 0.25,
            ..Default::default()
        },
    );
    let c = find(&g, Metric::Lcp, Against::ProjectedField);
    let p = c.projection.as_ref().unwrap();
    assert!(c.estimate.unwrap() < c.threshold.unwrap(), "{c:#?}");
    assert!(p.flips, "{c:#?}");
    assert_eq!(c.outcome, Outcome::Regressed, "{c:#?}");
    assert!(c.reason.contains("assessment flips"), "{}", c.reason);
}

#[test]
fn too_small_segments_are_not_compared() {
    let g = vs_field(
        &visits("home", "candidate", 20, 3000.0, 1500.0),
        &baseline(Some(2000.0), false, "web-vitals", true),
    );
    assert!(g.comparisons.is_empty());
    assert!(
        g.notes.iter().any(|n| n.contains("too small")),
        "{:?}",
        g.notes
    );
    assert_eq!(g.status, GateStatus::Inconclusive);
}

#[test]
fn results_serialize() {
    let g = vs_reference(
        &visits("home", "candidate", 5, 3000.0, 1500.0),
        &visits("home", "reference", 5, 2500.0, 1500.0),
        &VerdictOptions {
            min_valid: 5,
            ..opts()
        },
    );
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["comparisons"][0]["metric"], "fcp");
    // 5 vs 5 cannot bound the interval at 95 %: infinities become null.
    assert!(
        json["comparisons"][0]["interval"]["upper"].is_null()
            || json["comparisons"][0]["interval"]["upper"].is_number()
    );
}

#[test]
fn adaptive_stops_early_on_no_change_and_continues_when_unsure() {
    let plan = sequential::plan(0.05, 40).unwrap();
    assert_eq!(plan.looks, vec![8, 16, 24, 32, 40]);
    let same = (
        visits("home", "candidate", 8, 2500.0, 1500.0),
        visits("home", "reference", 8, 2500.0, 1500.0),
    );
    let step = sequential::step(
        &Inputs {
            candidate: &same.0,
            reference: Some(&same.1),
            field: None,
        },
        &opts(),
        &plan,
        0,
    );
    assert!(
        matches!(step, sequential::Step::Stop(ref g) if g.status == GateStatus::Pass),
        "{step:#?}"
    );
    // A +20 % shift at 8 runs is not significant at the tiny first-look level: continue.
    let shifted = visits("home", "candidate", 8, 3000.0, 1500.0);
    let step = sequential::step(
        &Inputs {
            candidate: &shifted,
            reference: Some(&same.1),
            field: None,
        },
        &opts(),
        &plan,
        0,
    );
    assert!(
        matches!(step, sequential::Step::Continue { runs: 16, .. }),
        "{step:#?}"
    );
}

#[test]
fn reference_visits_without_tiers_cannot_be_projected_and_say_so() {
    let refs: Vec<Sample> = tiered("reference", 3, 6, 1.0)
        .into_iter()
        .map(|mut s| {
            s.tier = None;
            s
        })
        .collect();
    let g = projected(&tiered("candidate", 3, 6, 1.4), &refs);
    let c = find(&g, Metric::Lcp, Against::Field);
    assert_eq!(c.outcome, Outcome::NotComparable, "{c:#?}");
    assert!(
        c.reason.contains("no tier has visits of both builds"),
        "{}",
        c.reason
    );
    assert!(
        g.comparisons
            .iter()
            .all(|c| c.against != Against::ProjectedField)
    );
}

#[test]
fn server_timing_metrics_both_builds_measured_are_judged_like_any_other() {
    let db = Metric::parse_lab("server.db").unwrap();
    let only_candidate = Metric::parse_lab("server.cache").unwrap();
    let with = |mut v: Vec<Sample>, ms: f64, extra: bool| {
        for (i, s) in v.iter_mut().enumerate() {
            s.metrics.insert(db, ms + i as f64);
            if extra {
                s.metrics.insert(only_candidate, 1.0);
            }
        }
        v
    };
    let cand = with(visits("home", "candidate", 12, 2500.0, 1500.0), 300.0, true);
    let refs = with(
        visits("home", "reference", 12, 2500.0, 1500.0),
        100.0,
        false,
    );
    let g = vs_reference(&cand, &refs, &opts());
    let row = find(&g, db, Against::Reference);
    assert_eq!(row.outcome, Outcome::Regressed, "{row:#?}");
    assert_eq!(row.estimate, Some(200.0));
    assert_eq!(g.family_size, 3, "lcp, fcp and server.db");
    assert!(g.comparisons.iter().all(|c| c.metric != only_candidate));
    let off = VerdictOptions {
        server_metrics: false,
        ..opts()
    };
    let g = vs_reference(&cand, &refs, &off);
    assert!(g.comparisons.iter().all(|c| c.metric != db), "{g:#?}");
}
