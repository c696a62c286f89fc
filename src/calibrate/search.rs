//! The measuring half of calibration: real visits of the production build
//! under the shaping proxy, round after round, until every tier reproduces
//! its band of the field.
//!
//! Per page × profile:
//! 1. **Design round**: six probes spanning RTT, bandwidth and CPU (see
//!    [`fit::design`]); a linear model per metric is fitted to their medians.
//! 2. **Solve**: each tier's conditions are those whose predicted TTFB, FCP
//!    and LCP come closest (relative error, within the bounds) to the field
//!    values at the tier's quantile.
//! 3. **Refine rounds**: each tier is measured where the model put it; the
//!    model is refitted with the new probe, and the next point is a Newton
//!    step from the measured medians with the model's slopes.
//!
//! Stopping rule: a tier stops once every fitted metric's median is within
//! `tolerance` (default 5 %) of its target, or after `rounds` refine rounds;
//! its conditions are then those of its best probe (smallest largest
//! relative error). Everything measured is written to
//! `OUT/calibration-samples.ndjson` as it arrives.

use super::fit::{self, Conditions, LinearModel};
use super::model::{CALIBRATION_SCHEMA, CalibratedPage, CalibrationFile, HostFigures, Tier};
use crate::baseline::Baseline;
use crate::metric::Metric;
use crate::projection::FieldDist;
use crate::run::{Job, RunError, RunOptions, Runner, SampleSink, SessionSetup, TierSlot};
use crate::sample::Sample;
use crate::scenario::LoadedScenario;
use crate::throttle::{Engine, NetworkConditions, Profile};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Validated options of `rumcheck calibrate`.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// Tiers per profile (quantile bands of the field).
    pub tiers: usize,
    /// Visits per probe (their median is the probe's value).
    pub visits: usize,
    /// Refine rounds after the design round.
    pub rounds: usize,
    /// A tier stops when every metric is within this relative error.
    pub tolerance: f64,
    /// The production build (default: the scenario's base URL).
    pub base_url: Option<url::Url>,
    /// The baseline file's name, recorded in the calibration.
    pub baseline_name: String,
    /// Run `calibrate-host` under the median tier and record it.
    pub host_probe: bool,
    /// Only these scenario pages (by name); `None` calibrates every page.
    pub pages: Option<Vec<String>>,
    /// Browser, concurrency and output.
    pub run: RunOptions,
}

impl CalibrateOptions {
    /// Defaults: 5 tiers, 3 visits a probe, 3 refine rounds, 5 % tolerance.
    pub fn new(run: RunOptions, baseline_name: &str) -> CalibrateOptions {
        CalibrateOptions {
            tiers: 5,
            visits: 3,
            rounds: 3,
            tolerance: 0.05,
            base_url: None,
            baseline_name: baseline_name.to_string(),
            host_probe: true,
            pages: None,
            run,
        }
    }
}

/// Why a calibration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// No page × profile has field TTFB, FCP or LCP to fit.
    #[error(
        "nothing to calibrate: {0}\n  hint: check that the baseline has TTFB, FCP or LCP for the scenario's pages (`rumcheck baseline show`) and that each profile's `segment` matches one"
    )]
    NothingToFit(String),
    /// `--page` names a page the scenario does not have.
    #[error("--page {0:?}: the scenario has no page of that name (it has: {1})")]
    UnknownPage(String, String),
    /// Browsers or output failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Interrupted.
    #[error("interrupted; the visits measured so far are in {0}")]
    Interrupted(String),
    /// No tier of a page got a single valid visit.
    #[error(
        "no valid calibration visit of {0}: every probe failed; the failures are in {1}\n  hint: check that --base-url serves the page (the production build)"
    )]
    NoValidVisit(String, String),
}

/// A tier's best probe so far: where, its medians, its largest relative error.
type Best = (Conditions, BTreeMap<Metric, f64>, f64);

struct Problem {
    profile: Profile,
    page: usize,
    page_name: String,
    field_page: String,
    segment: crate::segment::SegmentKey,
    targets: Vec<(Metric, FieldDist)>,
    levels: Vec<(f64, f64)>,
    probes: Vec<(Conditions, BTreeMap<Metric, f64>)>,
    current: Vec<Conditions>,
    best: Vec<Option<Best>>,
    done: Vec<bool>,
    visits: usize,
    notes: Vec<String>,
    /// CrUX's round-trip-time p75 of the segment, when the record has it.
    rtt_p75: Option<f64>,
}

impl Problem {
    fn target(&self, tier: usize) -> Vec<(Metric, f64)> {
        let u = self.levels[tier].0;
        self.targets
            .iter()
            .map(|(m, d)| (*m, d.quantile(u)))
            .collect()
    }

    fn error(&self, tier: usize, lab: &BTreeMap<Metric, f64>) -> f64 {
        self.target(tier)
            .iter()
            .map(|(m, t)| {
                lab.get(m)
                    .map_or(f64::INFINITY, |l| (l / t.max(1.0) - 1.0).abs())
            })
            .fold(0.0, f64::max)
    }

    fn models(&self) -> Vec<(Metric, LinearModel)> {
        self.targets
            .iter()
            .filter_map(|(m, _)| {
                let pts: Vec<(Conditions, f64)> = self
                    .probes
                    .iter()
                    .filter_map(|(c, v)| v.get(m).map(|y| (*c, *y)))
                    .collect();
                LinearModel::fit(&pts).map(|l| (*m, l))
            })
            .collect()
    }

    /// Where tier `k` should be measured next, given what it measured at `at`.
    fn next(
        &self,
        k: usize,
        at: Conditions,
        measured: Option<&BTreeMap<Metric, f64>>,
    ) -> Conditions {
        let models = self.models();
        let target: BTreeMap<Metric, f64> = self.target(k).into_iter().collect();
        let problem: Vec<(LinearModel, f64, f64)> = models
            .iter()
            .filter_map(|(m, model)| {
                let offset = measured
                    .and_then(|v| v.get(m))
                    .map_or(0.0, |y| y - model.predict(&at));
                target.get(m).map(|t| (*model, offset, *t))
            })
            .collect();
        fit::solve(&problem, at)
    }
}

/// Fits every page × profile of `scenario` whose segment has field data.
pub async fn calibrate(
    scenario: &LoadedScenario,
    baseline: &Baseline,
    opts: &CalibrateOptions,
) -> Result<CalibrationFile, CalibrateError> {
    let mut problems = problems(scenario, baseline, opts)?;
    let base_url = opts
        .base_url
        .clone()
        .unwrap_or_else(|| scenario.base_url.clone());
    let mut sink = SampleSink::create_named(&opts.run.out_dir, "calibration-samples.ndjson")?;
    let runner = Runner::start(opts.run.clone()).await?;
    let result = rounds(&runner, scenario, &mut problems, &base_url, &mut sink, opts).await;
    let browser = runner.browser_version().to_string();
    runner.shutdown().await;
    result?;
    if let Some(p) = problems.iter().find(|p| p.best.iter().all(Option::is_none)) {
        return Err(CalibrateError::NoValidVisit(
            format!("{} [{}]", p.page_name, p.profile.name),
            sink.path().display().to_string(),
        ));
    }

    let entries: Vec<CalibratedPage> = problems.into_iter().map(|p| finish(p, opts)).collect();
    let mut host = HostFigures::detect();
    if opts.host_probe {
        host.probe = host_probe(&entries, scenario, opts).await;
    }
    Ok(CalibrationFile {
        schema: CALIBRATION_SCHEMA,
        created_at: crate::run::now_rfc3339(),
        rumcheck_version: env!("CARGO_PKG_VERSION").to_string(),
        browser,
        host,
        baseline: opts.baseline_name.clone(),
        base_url: base_url.to_string(),
        entries,
    })
}

fn problems(
    scenario: &LoadedScenario,
    baseline: &Baseline,
    opts: &CalibrateOptions,
) -> Result<Vec<Problem>, CalibrateError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let names: Vec<&str> = scenario
        .scenario
        .pages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for wanted in opts.pages.iter().flatten() {
        if !names.contains(&wanted.as_str()) {
            return Err(CalibrateError::UnknownPage(
                wanted.clone(),
                names.join(", "),
            ));
        }
    }
    for profile in &scenario.scenario.profiles {
        for (i, page) in scenario.scenario.pages.iter().enumerate() {
            if opts
                .pages
                .as_ref()
                .is_some_and(|only| !only.contains(&page.name))
            {
                continue;
            }
            let field_page = scenario.field_page(page);
            let seg = baseline
                .find(&field_page, &profile.segment)
                .filter(|s| !s.too_small);
            let targets = seg.map(fit::targets).unwrap_or_default();
            let rtt_p75 = seg.and_then(|s| s.context.rtt_p75_ms);
            if targets.is_empty() {
                skipped.push(format!(
                    "{} [{}] (field page {field_page})",
                    page.name, profile.name
                ));
                continue;
            }
            let k = opts.tiers;
            let start = Conditions {
                rtt_ms: 0.0,
                down_kbps: 50_000.0,
                cpu: 1.0,
            };
            out.push(Problem {
                profile: profile.clone(),
                page: i,
                page_name: page.name.clone(),
                field_page,
                segment: profile.segment.clone(),
                targets,
                levels: fit::tier_levels(k),
                probes: Vec::new(),
                current: vec![start; k],
                best: vec![None; k],
                done: vec![false; k],
                visits: 0,
                notes: Vec::new(),
                rtt_p75,
            });
        }
    }
    if out.is_empty() {
        return Err(CalibrateError::NothingToFit(format!(
            "no field data for {}",
            skipped.join(", ")
        )));
    }
    for s in skipped {
        eprintln!("calibrate: no field TTFB/FCP/LCP for {s}: not calibrated");
    }
    Ok(out)
}

/// What one batch job measures: a design probe or a tier's probe.
#[derive(Clone, Copy)]
enum Probe {
    Design(usize, Conditions),
    Tier(usize, usize, Conditions),
}

async fn rounds(
    runner: &Runner,
    scenario: &LoadedScenario,
    problems: &mut [Problem],
    base_url: &url::Url,
    sink: &mut SampleSink,
    opts: &CalibrateOptions,
) -> Result<(), CalibrateError> {
    // Design round: every problem's six probes.
    let probes: Vec<Probe> = problems
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let max_ttfb = p
                .targets
                .iter()
                .find(|(m, _)| *m == Metric::Ttfb)
                .map_or(600.0, |(_, d)| d.quantile(0.9));
            fit::design(max_ttfb)
                .into_iter()
                .map(move |c| Probe::Design(i, c))
        })
        .collect();
    let total = opts.rounds + 1;
    eprintln!(
        "calibrate: round 1/{total} (design): {} probes",
        probes.len()
    );
    let measured = measure(runner, scenario, problems, &probes, base_url, sink, opts).await?;
    for (probe, values) in probes.iter().zip(measured) {
        if let (Probe::Design(i, c), Some(v)) = (probe, values) {
            problems[*i].probes.push((*c, v));
        }
    }
    for p in problems.iter_mut() {
        let from = p.current[0];
        for k in 0..p.current.len() {
            p.current[k] = p.next(k, from, None);
        }
    }
    for round in 1..=opts.rounds {
        let probes: Vec<Probe> = problems
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                (0..p.current.len())
                    .filter(|&k| !p.done[k])
                    .map(move |k| Probe::Tier(i, k, p.current[k]))
            })
            .collect();
        if probes.is_empty() {
            break;
        }
        eprintln!(
            "calibrate: round {}/{total}: {} tiers still searching",
            round + 1,
            probes.len()
        );
        let measured = measure(runner, scenario, problems, &probes, base_url, sink, opts).await?;
        for (probe, values) in probes.iter().zip(measured) {
            let Probe::Tier(i, k, at) = *probe else {
                continue;
            };
            let p = &mut problems[i];
            let Some(v) = values else {
                p.notes.push(format!(
                    "tier {k}: every visit of round {} failed",
                    round + 1
                ));
                continue;
            };
            let err = p.error(k, &v);
            if p.best[k].as_ref().is_none_or(|b| err < b.2) {
                p.best[k] = Some((at, v.clone(), err));
            }
            p.probes.push((at, v.clone()));
            if err <= opts.tolerance {
                p.done[k] = true;
            } else {
                p.current[k] = p.next(k, at, Some(&v));
            }
        }
    }
    Ok(())
}

/// Runs `visits` visits per probe in one batch; returns each probe's
/// per-metric medians (`None` when every visit failed).
async fn measure(
    runner: &Runner,
    scenario: &LoadedScenario,
    problems: &mut [Problem],
    probes: &[Probe],
    base_url: &url::Url,
    sink: &mut SampleSink,
    opts: &CalibrateOptions,
) -> Result<Vec<Option<BTreeMap<Metric, f64>>>, CalibrateError> {
    let mut jobs = Vec::new();
    let mut owner: HashMap<u32, usize> = HashMap::new();
    let v = scenario.scenario.viewport;
    for (n, probe) in probes.iter().enumerate() {
        let (i, tier, c) = match *probe {
            Probe::Design(i, c) => (i, None, c),
            Probe::Tier(i, k, c) => (i, Some(k), c),
        };
        let p = &mut problems[i];
        let mut setup = SessionSetup::for_profile(
            &conditioned(&p.profile, c),
            "calibrate",
            Some(base_url.clone()),
            (v.width, v.height),
        );
        setup.tier = tier.map(|k| TierSlot {
            index: k as u32,
            of: p.levels.len() as u32,
        });
        let setup = Arc::new(setup);
        for j in 0..opts.visits {
            let run = (n * opts.visits + j) as u32;
            owner.insert(run, n);
            jobs.push(Job {
                run,
                page: p.page,
                setup: Arc::clone(&setup),
            });
        }
        p.visits += opts.visits;
    }
    let batch = runner.run_batch(scenario, jobs, sink).await?;
    if batch.interrupted {
        return Err(CalibrateError::Interrupted(
            sink.path().display().to_string(),
        ));
    }
    let mut values: Vec<BTreeMap<Metric, Vec<f64>>> = vec![BTreeMap::new(); probes.len()];
    for s in batch
        .samples
        .iter()
        .filter(|s| s.ok && !s.page.contains('/'))
    {
        if let Some(&n) = owner.get(&s.run) {
            for m in super::model::FITTED {
                if let Some(x) = Sample::metric(s, m) {
                    values[n].entry(m).or_default().push(x);
                }
            }
        }
    }
    Ok(values
        .into_iter()
        .map(|per| {
            let medians: BTreeMap<Metric, f64> = per
                .into_iter()
                .filter_map(|(m, xs)| crate::stats::median(&xs).map(|v| (m, v)))
                .collect();
            (!medians.is_empty()).then_some(medians)
        })
        .collect())
}

/// `profile` under conditions `c`, always through the shaping proxy (the
/// engine that moves TTFB with RTT, as real networks do).
pub fn conditioned(profile: &Profile, c: Conditions) -> Profile {
    Profile {
        network: Some(NetworkConditions {
            rtt_ms: round1(c.rtt_ms),
            down_kbps: round1(c.down_kbps),
            up_kbps: round1(fit::up_kbps(c.down_kbps)),
            loss: 0.0,
            jitter_ms: 0.0,
        }),
        cpu_slowdown: (c.cpu * 100.0).round() / 100.0,
        engine: Engine::Proxy,
        ..profile.clone()
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn finish(p: Problem, opts: &CalibrateOptions) -> CalibratedPage {
    let mut notes = p.notes.clone();
    let tiers: Vec<Tier> = (0..p.levels.len())
        .map(|k| {
            let (u, w) = p.levels[k];
            let (c, lab, err) =
                p.best[k]
                    .clone()
                    .unwrap_or((p.current[k], BTreeMap::new(), f64::INFINITY));
            if err > opts.tolerance {
                notes.push(format!(
                    "tier {k} (field q{:.0}): best probe is {:.0} % off its target",
                    u * 100.0,
                    err * 100.0
                ));
            }
            let c = conditioned(&p.profile, c);
            let net = c.network.unwrap_or(NetworkConditions {
                rtt_ms: 0.0,
                down_kbps: fit::DOWN_KBPS.1,
                up_kbps: fit::up_kbps(fit::DOWN_KBPS.1),
                loss: 0.0,
                jitter_ms: 0.0,
            });
            Tier {
                quantile: u,
                weight: w,
                rtt_ms: net.rtt_ms,
                down_kbps: net.down_kbps,
                up_kbps: net.up_kbps,
                cpu_slowdown: c.cpu_slowdown,
                target: p.target(k).into_iter().collect(),
                lab,
            }
        })
        .collect();
    if tiers.iter().all(|t| t.cpu_slowdown <= 1.01) {
        notes.push("no tier needed CPU throttling: network conditions alone reproduce the field, so a change that costs only CPU is projected from unthrottled CPUs (likely too small for slow devices)".into());
    }
    if tiers.iter().all(|t| t.down_kbps >= fit::DOWN_KBPS.1 * 0.99) {
        notes.push("every tier is at the top bandwidth: a change that costs only bytes is projected from unthrottled links (likely too small for slow networks)".into());
    }
    if let Some(crux) = p.rtt_p75 {
        let pts: Vec<(f64, f64)> = tiers
            .iter()
            .map(|t| (t.quantile, t.rtt_ms.max(1.0)))
            .collect();
        if let Some(lab) = fit::mixture_quantile(&pts, 0.75) {
            notes.push(format!(
                "CrUX gives real users' round-trip time p75 as {crux:.0} ms; the tiers' RTT at p75 is {lab:.0} ms (the tiers' RTT also stands in for server and TLS time, so it may be higher)"
            ));
        }
    }
    let fit = p
        .targets
        .iter()
        .filter_map(|(m, field)| {
            let pts: Vec<(f64, f64)> = tiers
                .iter()
                .filter_map(|t| t.lab.get(m).map(|v| (t.quantile, *v)))
                .collect();
            fit::fit_table(&pts, field).map(|f| (*m, f))
        })
        .collect();
    CalibratedPage {
        profile: p.profile.name.clone(),
        page: p.page_name,
        field_page: p.field_page,
        segment: p.segment,
        tiers,
        fit,
        visits: p.visits,
        notes,
    }
}

/// `calibrate-host` under the first entry's median tier, so the file records
/// how faithful this host was at the conditions that matter.
async fn host_probe(
    entries: &[CalibratedPage],
    scenario: &LoadedScenario,
    opts: &CalibrateOptions,
) -> Option<crate::run::calibrate::Calibration> {
    let e = entries.first()?;
    let t = e.tiers.get(e.tiers.len() / 2)?;
    let base = scenario
        .scenario
        .profiles
        .iter()
        .find(|p| p.name == e.profile)?;
    let profile = conditioned(
        base,
        Conditions {
            rtt_ms: t.rtt_ms,
            down_kbps: t.down_kbps,
            cpu: t.cpu_slowdown,
        },
    );
    match crate::run::calibrate::calibrate(&opts.run.browser, &[profile]).await {
        Ok(mut rows) => rows.pop(),
        Err(e) => {
            eprintln!(
                "calibrate: the host probe failed ({e}); the file will not record host figures"
            );
            None
        }
    }
}
