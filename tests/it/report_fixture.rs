//! Shared inputs of the report tests: recorded samples and a baseline from
//! tests/fixtures/report, a hand-written verdict over them, and a hostile
//! variant where every string carries markup-breaking payloads.

use rumcheck::baseline::Baseline;
use rumcheck::metric::Metric;
use rumcheck::report::{Environment, ProfileInfo, Results, RunMeta, ScenarioInfo};
use rumcheck::sample::{Sample, Variant, read_samples};
use rumcheck::segment::SegmentKey;
use rumcheck::stats::Interval;
use rumcheck::verdict::{
    Against, Comparison, GateResult, GateStatus, Outcome, PageHealth, TestKind,
};
use std::path::Path;

/// Payloads that break out of HTML text, attributes, CDATA and lines.
pub const PAYLOAD: &str = "<script>window.__xss=1;alert(1)</script>\"><img src=x onerror=window.__xss=2>]]>&amp; 'q' \"dq\"\nline2\r\n";

pub struct Fixture {
    pub results: Results,
    pub gate: GateResult,
    pub candidate: Vec<Sample>,
    pub reference: Vec<Sample>,
    pub baseline: Baseline,
}

fn dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/report"
    ))
}

#[allow(clippy::too_many_arguments)]
fn comparison(
    page: &str,
    metric: Metric,
    against: Against,
    outcome: Outcome,
    reason: &str,
    candidate: f64,
    reference: f64,
    relative: Option<(f64, f64, f64)>,
    p: Option<(f64, f64)>,
) -> Comparison {
    let test = match against {
        Against::Reference => TestKind::MannWhitneyExact,
        Against::ProjectedField => TestKind::StratifiedRank,
        Against::Field => TestKind::FieldGoodShareOffset,
    };
    Comparison {
        page: page.into(),
        profile: "phone".into(),
        metric,
        against,
        outcome,
        reason: reason.into(),
        test,
        n_candidate: 8,
        n_reference: if against == Against::Reference {
            8
        } else {
            41_000
        },
        candidate: Some(candidate),
        reference: Some(reference),
        estimate: Some(candidate - reference),
        interval: Some(Interval {
            lower: (candidate - reference) * 0.5,
            upper: f64::INFINITY,
            level: 0.95,
        }),
        relative: relative.map(|r| r.0),
        relative_interval: relative.map(|r| Interval {
            lower: r.1,
            upper: r.2,
            level: 0.95,
        }),
        p_value: p.map(|p| p.0),
        p_adjusted: p.map(|p| p.1),
        p_improved: None,
        p_improved_adjusted: None,
        threshold: Some(reference * 0.1),
        notes: Vec::new(),
        projection: None,
    }
}

/// A projected-field row: real users' LCP p75 2.21 s → 2.62 s, the
/// assessment flips (the whole interval is above 2.5 s).
fn projected_lcp() -> Comparison {
    use rumcheck::projection::{FieldSource, Projection, TierChange, Transfer};
    let mut c = comparison(
        "home",
        Metric::Lcp,
        Against::ProjectedField,
        Outcome::Regressed,
        "real users' p75 2210 ms → 2620 ms (90 % CI 2540 ms … 2710 ms, +19 %); good visits 81 % → 66 %; the LCP assessment flips: p75 passes the 2500 ms limit today and is projected above it; adjusted p 0.0031",
        2620.0,
        2210.0,
        Some((0.186, 0.15, 0.226)),
        Some((0.0004, 0.0031)),
    );
    c.n_reference = 8;
    c.projection = Some(rumcheck::verdict::ProjectedField {
        projection: Projection {
            transfer: Transfer::Scale,
            today_p75: 2210.0,
            projected_p75: 2620.0,
            interval: Interval {
                lower: 2540.0,
                upper: 2710.0,
                level: 0.9,
            },
            shift_interval: Interval {
                lower: 330.0,
                upper: 500.0,
                level: 0.9,
            },
            good_today: Some(0.81),
            good_projected: Some(0.66),
            good_interval: Some(Interval {
                lower: 0.62,
                upper: 0.7,
                level: 0.9,
            }),
            tiers: (0..4)
                .map(|k| TierChange {
                    quantile: (k as f64 + 0.5) / 4.0,
                    weight: 0.25,
                    n_candidate: 2,
                    n_reference: 2,
                    change: 0.1 + 0.04 * k as f64,
                })
                .collect(),
            field_n: Some(41_000),
            field_source: FieldSource::Sketch,
        },
        good_limit: Some(2500.0),
        core_web_vital: true,
        passes_today: Some(true),
        fails_projected: Some(true),
        flips: true,
    });
    c
}

fn gate() -> GateResult {
    use Against::*;
    use Outcome::*;
    let comparisons = vec![
        comparison(
            "home",
            Metric::Lcp,
            Reference,
            Regressed,
            "lcp median 2.07 s vs 1.79 s: +15.6 % [+9.1 %, +22.0 %], beyond the 10 % threshold",
            2070.0,
            1790.0,
            Some((0.156, 0.091, 0.220)),
            Some((0.0004, 0.0028)),
        ),
        projected_lcp(),
        comparison(
            "home",
            Metric::Fcp,
            Reference,
            Warning,
            "fcp median +8.2 %: significant but below the 10 % threshold",
            1449.0,
            1339.0,
            Some((0.082, 0.021, 0.140)),
            Some((0.004, 0.024)),
        ),
        comparison(
            "home",
            Metric::Cls,
            Reference,
            NoChange,
            "no significant change (p = 0.41); the interval rules out +0.02",
            0.034,
            0.036,
            None,
            Some((0.41, 1.0)),
        ),
        comparison(
            "home",
            Metric::Ttfb,
            Reference,
            NoChange,
            "no significant change (p = 0.55)",
            121.0,
            119.0,
            Some((0.017, -0.06, 0.09)),
            Some((0.55, 1.0)),
        ),
        comparison(
            "checkout",
            Metric::Lcp,
            Reference,
            NoChange,
            "no significant change (p = 0.62)",
            2301.0,
            2290.0,
            Some((0.005, -0.04, 0.05)),
            Some((0.62, 1.0)),
        ),
        comparison(
            "checkout",
            Metric::Lcp,
            Field,
            NotComparable,
            "86 % of lab visits are good vs 76 % of real users: not comparable without calibration; run `rumcheck calibrate` to judge the change in real users' terms",
            0.857,
            0.76,
            None,
            None,
        ),
        comparison(
            "checkout",
            Metric::Fcp,
            Reference,
            Inconclusive,
            "no significant change, but a regression up to +410 ms is still possible (> 2 × 150 ms): add runs",
            1510.0,
            1480.0,
            Some((0.02, -0.08, 0.27)),
            Some((0.31, 1.0)),
        ),
        comparison(
            "checkout",
            Metric::Inp,
            Reference,
            Improved,
            "inp median −18.4 % [−30.1 %, −7.9 %]: faster than the reference",
            78.0,
            95.6,
            Some((-0.184, -0.301, -0.079)),
            Some((0.97, 1.0)),
        ),
    ];
    GateResult {
        status: GateStatus::Regressed,
        alpha: 0.05,
        test_alpha: 0.05,
        family_size: 8,
        comparisons,
        pages: vec![PageHealth {
            page: "checkout".into(),
            profile: "phone".into(),
            variant: "candidate".into(),
            valid: 7,
            failed: 1,
            first_error: Some("timed out waiting for #pay after 10000 ms".into()),
            enough: false,
        }],
        notes: vec![
            "segment checkout · phone has only CrUX bins and no calibration: shown for information"
                .into(),
        ],
    }
}

fn meta(environment: Environment) -> RunMeta {
    RunMeta {
        scenario: ScenarioInfo {
            name: "shop".into(),
            base_url: "http://127.0.0.1:8080".into(),
            runs: 8,
            pages: vec!["home".into(), "checkout".into()],
        },
        profiles: vec![ProfileInfo {
            name: "phone".into(),
            segment: SegmentKey {
                form_factor: Some("phone".into()),
                ..SegmentKey::default()
            },
        }],
        environment,
    }
}

/// The recorded fixture with a real environment (dates and versions vary).
pub fn load() -> Fixture {
    let all = read_samples(&dir().join("samples.ndjson")).expect("fixture samples");
    let baseline: Baseline = serde_json::from_str(
        &std::fs::read_to_string(dir().join("baseline.json")).expect("fixture baseline"),
    )
    .expect("fixture baseline parses");
    build(
        all,
        baseline,
        gate(),
        Environment::detect("Chromium 142.0.7444.59"),
    )
}

fn build(all: Vec<Sample>, baseline: Baseline, gate: GateResult, env: Environment) -> Fixture {
    let results = Results::new(meta(env), &all, Some(&gate));
    let (candidate, reference) = all
        .into_iter()
        .partition(|s| s.variant == Variant::Candidate);
    Fixture {
        results,
        gate,
        candidate,
        reference,
        baseline,
    }
}

/// The fixture with `PAYLOAD` in every string a user or a RUM export controls.
pub fn hostile() -> Fixture {
    hostile_with(PAYLOAD)
}

/// The fixture with `payload` appended to every string a user or a RUM export controls.
pub fn hostile_with(payload: &str) -> Fixture {
    let hostile = |s: &str| format!("{s}{payload}");
    let mut f = load();
    let mut all: Vec<Sample> = f.candidate.drain(..).chain(f.reference.drain(..)).collect();
    for s in &mut all {
        s.page = hostile(&s.page);
        s.profile = hostile(&s.profile);
        s.url = hostile(&s.url);
        s.browser = hostile(&s.browser);
        s.started_at = hostile(&s.started_at);
        if let Some(e) = &mut s.error {
            *e = hostile(e);
        }
        for step in &mut s.steps {
            step.step = hostile(&step.step);
            step.error = Some(hostile(step.error.as_deref().unwrap_or("")));
        }
        if s.screenshot.is_none() && s.run == 0 {
            s.screenshot = Some(format!("\"><script>window.__xss=3</script>{PAYLOAD}"));
        }
    }
    let mut gate = f.gate.clone();
    for c in &mut gate.comparisons {
        c.page = hostile(&c.page);
        c.profile = hostile(&c.profile);
        c.reason = hostile(&c.reason);
        c.notes.push(hostile("note"));
    }
    gate.notes.push(hostile("gate note"));
    let mut baseline = f.baseline.clone();
    for seg in &mut baseline.segments {
        seg.page = hostile(&seg.page);
        seg.segment.form_factor = seg.segment.form_factor.as_deref().map(hostile);
        let rates = std::mem::take(&mut seg.context.bounce_rate_by_lcp);
        seg.context.bounce_rate_by_lcp = rates.into_iter().map(|(k, v)| (hostile(&k), v)).collect();
    }
    let mut env = Environment::detect(&hostile("Chromium"));
    env.os = hostile("linux");
    let mut fx = build(all, baseline, gate, env);
    fx.results.scenario.name = hostile("shop");
    fx.results.scenario.base_url = hostile("http://127.0.0.1:8080");
    fx.results.scenario.pages = fx
        .results
        .scenario
        .pages
        .iter()
        .map(|p| hostile(p))
        .collect();
    for p in &mut fx.results.profiles {
        p.name = hostile(&p.name);
        p.segment.form_factor = p.segment.form_factor.as_deref().map(hostile);
    }
    fx
}
