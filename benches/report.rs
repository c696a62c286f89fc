//! How long rendering the reports takes for a realistic run: 3 pages × 2
//! profiles × 2 variants × 50 visits (600 samples), with a verdict and a
//! baseline. `write_all` runs after every batch, so this must stay cheap.

use criterion::{Criterion, criterion_group, criterion_main};
use rumcheck::Metric;
use rumcheck::baseline::{Baseline, MetricBaseline, Provenance, SegmentBaseline};
use rumcheck::report::{
    Environment, Format, ProfileInfo, ReportInput, Results, RunMeta, ScenarioInfo,
};
use rumcheck::sample::{Sample, StepLog};
use rumcheck::segment::SegmentKey;
use std::collections::BTreeMap;
use std::hint::black_box;

fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    let mut x: u64 = 42;
    let mut next = move || {
        // xorshift: deterministic values without a dependency.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 1000) as f64 / 1000.0
    };
    for page in ["home", "product", "checkout"] {
        for profile in ["phone", "desktop"] {
            for variant in ["candidate", "reference"] {
                for run in 0..50 {
                    let mut s =
                        Sample::failed(run, page, profile, "http://127.0.0.1/", String::new());
                    s.ok = true;
                    s.error = None;
                    s.variant = variant.into();
                    for m in [
                        Metric::Ttfb,
                        Metric::Fcp,
                        Metric::Lcp,
                        Metric::Cls,
                        Metric::Inp,
                    ] {
                        let base = if m == Metric::Cls { 0.05 } else { 1500.0 };
                        s.metrics.insert(m, base * (0.8 + 0.4 * next()));
                    }
                    s.steps = vec![StepLog {
                        step: "load http://127.0.0.1/".into(),
                        ms: 900.0,
                        error: None,
                    }];
                    out.push(s);
                }
            }
        }
    }
    out
}

fn baseline() -> Baseline {
    let mut segments = Vec::new();
    for page in ["home", "product", "checkout"] {
        let mut metrics = BTreeMap::new();
        let mut sketch = rumcheck::baseline::Sketch::default();
        for i in 0..10_000 {
            sketch.0.add(800.0 + f64::from(i % 3000));
        }
        metrics.insert(
            Metric::Lcp,
            MetricBaseline {
                n: 10_000,
                definition: "web-vitals".into(),
                binned_only: false,
                p50: Some(2200.0),
                p75: Some(2900.0),
                p90: Some(3500.0),
                p95: Some(3700.0),
                shares: None,
                histogram: Vec::new(),
                sketch: Some(sketch),
            },
        );
        segments.push(SegmentBaseline {
            page: page.into(),
            segment: SegmentKey::default(),
            too_small: false,
            metrics,
            context: Default::default(),
            ttfb_pairs: Default::default(),
        });
    }
    Baseline {
        schema: 1,
        provenance: Provenance::default(),
        segments,
    }
}

fn bench(c: &mut Criterion) {
    let all = samples();
    let meta = RunMeta {
        scenario: ScenarioInfo {
            name: "bench".into(),
            base_url: "http://127.0.0.1/".into(),
            runs: 50,
            pages: vec!["home".into(), "product".into(), "checkout".into()],
        },
        profiles: ["phone", "desktop"]
            .map(|p| ProfileInfo {
                name: p.into(),
                segment: SegmentKey::default(),
            })
            .to_vec(),
        environment: Environment::detect("Chromium"),
    };
    let results = Results::new(meta.clone(), &all, None);
    let (cand, reference): (Vec<Sample>, Vec<Sample>) = all
        .iter()
        .cloned()
        .partition(|s| s.variant == rumcheck::sample::Variant::Candidate);
    let base = baseline();
    let input = ReportInput::new(&results, &cand)
        .with_reference(&reference)
        .with_baseline(Some(&base));
    c.bench_function("results_new_600_samples", |b| {
        b.iter(|| Results::new(meta.clone(), black_box(&all), None))
    });
    for format in [Format::Json, Format::Junit, Format::Markdown, Format::Html] {
        let reporter = format.reporter();
        let size = reporter.render(&input).unwrap().len();
        println!("{format:?}: {size} bytes");
        c.bench_function(&format!("render_{format:?}_600_samples"), |b| {
            b.iter(|| reporter.render(black_box(&input)).unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
