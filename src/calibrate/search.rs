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

use super::fit::{self, Conditions};
use super::model::{CALIBRATION_SCHEMA, CalibratedPage, CalibrationFile, HostFigures};
use super::problem::{Problem, finish, problems};
use crate::baseline::Baseline;
use crate::metric::Metric;
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

impl CalibrateError {
    /// Whether the user's input or the machine is at fault (the exit code
    /// is [`crate::exit`]'s choice).
    pub fn kind(&self) -> crate::exit::ErrorKind {
        match self {
            CalibrateError::NothingToFit(_) | CalibrateError::UnknownPage(..) => {
                crate::exit::ErrorKind::Input
            }
            CalibrateError::Run(_)
            | CalibrateError::Interrupted(_)
            | CalibrateError::NoValidVisit(..) => crate::exit::ErrorKind::Infrastructure,
        }
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
        isolation: Some(scenario.scenario.isolation),
        concurrency: Some(opts.run.concurrency),
        entries,
    })
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
            crate::sample::Variant::Calibrate,
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
