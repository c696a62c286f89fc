//! Speed of a full verdict: 6 pages × 5 metrics = 30 comparisons of 30
//! candidate vs 30 reference runs, plus the same 30 against field segments of
//! 100,000 real-user values each (DDSketch, as `baseline import` writes them).
//! Target: under 50 ms.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rumcheck::baseline::{Baseline, MetricBaseline, Provenance, SegmentBaseline, Sketch};
use rumcheck::metric::Metric;
use rumcheck::sample::Variant;
use rumcheck::segment::SegmentKey;
use rumcheck::verdict::simulate::{World, visits};
use rumcheck::verdict::{FieldBaseline, Inputs, VerdictOptions, judge};
use std::collections::BTreeMap;
use std::hint::black_box;

fn field_baseline(world: &World, rng: &mut Xoshiro256PlusPlus) -> Baseline {
    // 100,000 field values per metric, from the same generator as the lab.
    let field = visits(world, 100_000 / world.pages, "field".into(), None, rng);
    let metrics = world
        .metrics
        .iter()
        .map(|&m| {
            let mut sketch = Sketch::default();
            for s in &field {
                if let Some(v) = s.metric(m) {
                    sketch.0.add(v);
                }
            }
            let q = |p: f64| sketch.0.quantile(p).ok().flatten();
            let mb = MetricBaseline {
                n: sketch.0.count() as u64,
                definition: "web-vitals".into(),
                binned_only: false,
                p50: q(0.5),
                p75: q(0.75),
                p90: q(0.9),
                p95: q(0.95),
                shares: None,
                histogram: Vec::new(),
                sketch: Some(sketch),
            };
            (m, mb)
        })
        .collect();
    Baseline {
        schema: 1,
        provenance: Provenance::default(),
        segments: vec![SegmentBaseline {
            page: "*".into(),
            segment: SegmentKey::default(),
            too_small: false,
            metrics,
            context: Default::default(),
            ttfb_pairs: Default::default(),
        }],
    }
}

fn bench(c: &mut Criterion) {
    let world = World {
        pages: 6,
        metrics: Metric::GATED.to_vec(),
        ..World::default()
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let candidate = visits(&world, 30, Variant::Candidate, None, &mut rng);
    let reference = visits(&world, 30, Variant::Reference, None, &mut rng);
    let baseline = field_baseline(&world, &mut rng);
    let segments = BTreeMap::new();
    let options = VerdictOptions::default();
    c.bench_function("verdict: 30 comparisons vs reference", |b| {
        b.iter(|| {
            let inputs = Inputs {
                candidate: &candidate,
                reference: Some(&reference),
                field: None,
            };
            black_box(judge(black_box(&inputs), &options))
        })
    });
    c.bench_function(
        "verdict: 30 vs reference + 30 vs 100k-sample field segments",
        |b| {
            b.iter(|| {
                let inputs = Inputs {
                    candidate: &candidate,
                    reference: Some(&reference),
                    field: Some(FieldBaseline {
                        baseline: &baseline,
                        segments: &segments,
                        pages: &BTreeMap::new(),
                        calibrated: None,
                    }),
                };
                black_box(judge(black_box(&inputs), &options))
            })
        },
    );
    // The same visits spread over 5 calibration tiers: 30 stratified lab rows
    // plus 30 projected rows (500 bootstrap replicates each).
    let tier = |v: &[rumcheck::Sample]| -> Vec<rumcheck::Sample> {
        v.iter()
            .cloned()
            .map(|mut s| {
                s.tier = Some(s.run % 5);
                s
            })
            .collect()
    };
    let (tc, tr) = (tier(&candidate), tier(&reference));
    let layout: Vec<rumcheck::projection::TierLayout> = (0..5)
        .map(|k| rumcheck::projection::TierLayout {
            quantile: (k as f64 + 0.5) / 5.0,
            weight: 0.2,
        })
        .collect();
    let calibrated: BTreeMap<(String, String), Vec<rumcheck::projection::TierLayout>> = tc
        .iter()
        .map(|s| ((s.profile.clone(), s.page.clone()), layout.clone()))
        .collect();
    c.bench_function(
        "verdict: 30 stratified vs reference + 30 projected onto 100k-sample field segments",
        |b| {
            b.iter(|| {
                let inputs = Inputs {
                    candidate: &tc,
                    reference: Some(&tr),
                    field: Some(FieldBaseline {
                        baseline: &baseline,
                        segments: &segments,
                        pages: &BTreeMap::new(),
                        calibrated: Some(&calibrated),
                    }),
                };
                black_box(judge(black_box(&inputs), &options))
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
