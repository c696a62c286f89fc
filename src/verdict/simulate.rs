//! Monte-Carlo evaluation of the gate ("proof that the gate is trustworthy").
//!
//! Simulates whole gates end to end — [`Sample`]s in, [`GateResult`] out —
//! on synthetic page visits: log-normal timings with a given coefficient of
//! variation, a per-visit factor shared by all metrics of a visit (a slow
//! visit is slow everywhere), occasional outlier visits ×1.5–3, and a CLS
//! that is exactly 0 on 40 % of visits (ties, as in real data). The same
//! generator also scores the rules other tools use today, so the numbers are
//! comparable. Used by `examples/gate_validity.rs` (thousands of gates, in
//! release mode) and by a small CI test (a few hundred gates).

use super::sequential::{self, Step};
use super::{GateStatus, Inputs, Outcome, VerdictOptions, judge};
use crate::metric::Metric;
use crate::sample::{Sample, Variant};
use crate::stats::{self, Alternative};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The synthetic site.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// Pages per gate.
    pub pages: usize,
    /// Metrics judged per page.
    pub metrics: Vec<Metric>,
    /// Coefficient of variation of the log-normal part (0.15 = 15 %).
    pub cv: f64,
    /// Share of visits hit by an outlier factor ×1.5–3.
    pub outlier_rate: f64,
    /// Machines (grid nodes) visits land on at random, by speed: each
    /// multiplies every timing of the visits it runs (CLS is not a time).
    /// Empty: one machine, and samples name none.
    pub node_speeds: Vec<f64>,
}

impl Default for World {
    /// 3 pages × the 5 gated metrics, 15 % CV, 2 % outliers.
    fn default() -> Self {
        World {
            pages: 3,
            metrics: Metric::GATED.to_vec(),
            cv: 0.15,
            outlier_rate: 0.02,
            node_speeds: Vec::new(),
        }
    }
}

/// A real change applied to the candidate: `metric` on page `page` × `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// Page index.
    pub page: usize,
    /// Metric.
    pub metric: Metric,
    /// Multiplicative factor, e.g. 1.2 for +20 %.
    pub factor: f64,
}

/// What happened over many simulated gates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    /// Gates simulated.
    pub gates: usize,
    /// Share of gates that flagged a regression somewhere there is none.
    pub false_alarm: f64,
    /// Share of gates that flagged the real change (0 without one).
    pub detected: f64,
    /// Share of gates that ended inconclusive.
    pub inconclusive: f64,
    /// Mean runs per page and variant used.
    pub mean_runs: f64,
}

fn median_of(metric: Metric) -> f64 {
    match metric {
        Metric::Lcp => 2500.0,
        Metric::Fcp => 1500.0,
        Metric::Ttfb => 400.0,
        Metric::Inp => 120.0,
        Metric::Cls => 0.05,
        _ => 1000.0,
    }
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `runs` visits per page of one variant, run-major (a prefix of the vector
/// holds the first k runs of every page).
pub fn visits(
    world: &World,
    runs: usize,
    variant: Variant,
    change: Option<Change>,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<Sample> {
    let sigma = (1.0 + world.cv * world.cv).ln().sqrt();
    let shared = 0.5f64;
    let own = (1.0 - shared * shared).sqrt();
    let mut out = Vec::with_capacity(runs * world.pages);
    for run in 0..runs {
        for page in 0..world.pages {
            let name = format!("page{page}");
            let mut s = Sample::failed(run as u32, &name, "default", "http://sim/", String::new());
            s.ok = true;
            s.error = None;
            s.variant = variant.clone();
            // Drawn only with nodes, so one-machine worlds keep their numbers.
            let speed = if world.node_speeds.is_empty() {
                1.0
            } else {
                let i = rng.random_range(0..world.node_speeds.len());
                s.node = Some(format!("node{i}"));
                world.node_speeds[i]
            };
            let common = normal(rng);
            let outlier = if rng.random::<f64>() < world.outlier_rate {
                1.5 + 1.5 * rng.random::<f64>()
            } else {
                1.0
            };
            for &m in &world.metrics {
                let z = shared * common + own * normal(rng);
                let mut v = median_of(m) * (sigma * z).exp();
                if m == Metric::Cls {
                    if rng.random::<f64>() < 0.4 {
                        v = 0.0;
                    }
                } else {
                    v *= outlier * speed;
                }
                if let Some(c) = change.filter(|c| c.page == page && c.metric == m) {
                    v *= c.factor;
                }
                s.metrics.insert(m, v);
            }
            out.push(s);
        }
    }
    out
}

fn regressed(gate_comparisons: &[super::Comparison], change: Option<Change>) -> (bool, bool) {
    let mut false_alarm = false;
    let mut detected = false;
    for c in gate_comparisons
        .iter()
        .filter(|c| c.outcome == Outcome::Regressed)
    {
        let real =
            change.is_some_and(|ch| c.metric == ch.metric && c.page == format!("page{}", ch.page));
        if real {
            detected = true;
        } else {
            false_alarm = true;
        }
    }
    (false_alarm, detected)
}

struct Tally {
    gates: usize,
    false_alarm: usize,
    detected: usize,
    inconclusive: usize,
    runs: usize,
}

impl Tally {
    fn new() -> Self {
        Tally {
            gates: 0,
            false_alarm: 0,
            detected: 0,
            inconclusive: 0,
            runs: 0,
        }
    }
    fn add(&mut self, false_alarm: bool, detected: bool, inconclusive: bool, runs: usize) {
        self.gates += 1;
        self.false_alarm += usize::from(false_alarm);
        self.detected += usize::from(detected);
        self.inconclusive += usize::from(inconclusive);
        self.runs += runs;
    }
    /// Judges one fixed-runs gate and counts what it decided.
    fn judge(
        &mut self,
        cand: &[Sample],
        refs: &[Sample],
        change: Option<Change>,
        runs: usize,
        options: &VerdictOptions,
    ) {
        let inputs = Inputs {
            candidate: cand,
            reference: Some(refs),
            field: None,
        };
        let gate = judge(&inputs, options);
        let (fa, det) = regressed(&gate.comparisons, change);
        self.add(fa, det, gate.status == GateStatus::Inconclusive, runs);
    }
    fn rates(&self) -> Rates {
        let g = self.gates.max(1) as f64;
        Rates {
            gates: self.gates,
            false_alarm: self.false_alarm as f64 / g,
            detected: self.detected as f64 / g,
            inconclusive: self.inconclusive as f64 / g,
            mean_runs: self.runs as f64 / g,
        }
    }
}

/// rumcheck's gate with a fixed number of runs per page and variant.
pub fn fixed_runs(
    world: &World,
    runs: usize,
    change: Option<Change>,
    gates: usize,
    seed: u64,
    options: &VerdictOptions,
) -> Rates {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = Tally::new();
    for _ in 0..gates {
        let cand = visits(world, runs, Variant::Candidate, change, &mut rng);
        let refs = visits(world, runs, Variant::Reference, None, &mut rng);
        t.judge(&cand, &refs, change, runs, options);
    }
    t.rates()
}

/// rumcheck's gate on visits spread over [`World::node_speeds`], judged
/// twice on the same samples: stratified by node (what rumcheck does when
/// samples name their nodes) and pooled (the same samples with `node`
/// removed). Returns (stratified, pooled).
pub fn by_node(
    world: &World,
    runs: usize,
    change: Option<Change>,
    gates: usize,
    seed: u64,
    options: &VerdictOptions,
) -> (Rates, Rates) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut stratified, mut pooled) = (Tally::new(), Tally::new());
    let unnamed = |v: &[Sample]| -> Vec<Sample> {
        v.iter()
            .cloned()
            .map(|mut s| {
                s.node = None;
                s
            })
            .collect()
    };
    for _ in 0..gates {
        let cand = visits(world, runs, Variant::Candidate, change, &mut rng);
        let refs = visits(world, runs, Variant::Reference, None, &mut rng);
        for (tally, cand, refs) in [
            (&mut stratified, cand.clone(), refs.clone()),
            (&mut pooled, unnamed(&cand), unnamed(&refs)),
        ] {
            tally.judge(&cand, &refs, change, runs, options);
        }
    }
    (stratified.rates(), pooled.rates())
}

/// rumcheck's gate with `--runs auto` (looks every 8 runs from 8 up to `cap`).
pub fn adaptive_runs(
    world: &World,
    cap: usize,
    change: Option<Change>,
    gates: usize,
    seed: u64,
    options: &VerdictOptions,
) -> Rates {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = Tally::new();
    let Ok(plan) = sequential::plan(options.alpha, cap) else {
        return Rates::default();
    };
    for _ in 0..gates {
        let cand = visits(world, cap, Variant::Candidate, change, &mut rng);
        let refs = visits(world, cap, Variant::Reference, None, &mut rng);
        let mut look = 0;
        loop {
            let n = plan.looks[look] * world.pages;
            let inputs = Inputs {
                candidate: &cand[..n],
                reference: Some(&refs[..n]),
                field: None,
            };
            match sequential::step(&inputs, options, &plan, look) {
                Step::Stop(gate) => {
                    let (fa, det) = regressed(&gate.comparisons, change);
                    t.add(
                        fa,
                        det,
                        gate.status == GateStatus::Inconclusive,
                        plan.looks[look],
                    );
                    break;
                }
                Step::Continue { .. } => look += 1,
            }
        }
    }
    t.rates()
}

/// sitespeed.io's compare plugin: a one-sided Mann-Whitney U per page ×
/// metric at 0.05, no correction for the number of tests.
pub fn uncorrected_mann_whitney(
    world: &World,
    runs: usize,
    change: Option<Change>,
    gates: usize,
    seed: u64,
) -> Rates {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = Tally::new();
    for _ in 0..gates {
        let cand = visits(world, runs, Variant::Candidate, change, &mut rng);
        let refs = visits(world, runs, Variant::Reference, None, &mut rng);
        let (mut fa, mut det) = (false, false);
        for page in 0..world.pages {
            for &m in &world.metrics {
                let pick = |v: &[Sample]| -> Vec<f64> {
                    v.iter()
                        .skip(page)
                        .step_by(world.pages)
                        .filter_map(|s| s.metric(m))
                        .collect()
                };
                let flagged = stats::mann_whitney(&pick(&cand), &pick(&refs), Alternative::Greater)
                    .is_ok_and(|r| r.p_value < 0.05);
                let real = change.is_some_and(|c| c.page == page && c.metric == m);
                if flagged && real {
                    det = true;
                } else if flagged {
                    fa = true;
                }
            }
        }
        t.add(fa, det, false, runs);
    }
    t.rates()
}

/// Lighthouse CI's default: the best (minimum) of 3 runs per page × metric
/// against a budget. Budgets are set at the metric's true median + 10 %
/// (CLS: web-vitals' "good" limit 0.1) — a team that budgets "today + 10 %".
pub fn best_of_three(world: &World, change: Option<Change>, gates: usize, seed: u64) -> Rates {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = Tally::new();
    for _ in 0..gates {
        let cand = visits(world, 3, Variant::Candidate, change, &mut rng);
        let (mut fa, mut det) = (false, false);
        for page in 0..world.pages {
            for &m in &world.metrics {
                let best = cand
                    .iter()
                    .skip(page)
                    .step_by(world.pages)
                    .filter_map(|s| s.metric(m))
                    .fold(f64::INFINITY, f64::min);
                let budget = if m == Metric::Cls {
                    0.1
                } else {
                    median_of(m) * 1.1
                };
                let flagged = best > budget;
                let real = change.is_some_and(|c| c.page == page && c.metric == m);
                if flagged && real {
                    det = true;
                } else if flagged {
                    fa = true;
                }
            }
        }
        t.add(fa, det, false, 3);
    }
    t.rates()
}

/// Candidate run counts tried by [`runs_for_power`].
pub const RUN_GRID: [usize; 14] = [8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 160];

/// The smallest run count in [`RUN_GRID`] whose detection rate reaches
/// `target` (binary search: power grows with runs), with that rate.
pub fn runs_for_power(
    world: &World,
    change: Change,
    target: f64,
    gates: usize,
    seed: u64,
    options: &VerdictOptions,
) -> Option<(usize, f64)> {
    let (mut lo, mut hi) = (0usize, RUN_GRID.len());
    let mut best = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = fixed_runs(world, RUN_GRID[mid], Some(change), gates, seed, options);
        if r.detected >= target {
            best = Some((RUN_GRID[mid], r.detected));
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    best
}
