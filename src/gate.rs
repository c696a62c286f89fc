//! The gate: run a scenario, judge it against the lab reference and the
//! field baseline, and say pass / regression / inconclusive. `rumcheck run
//! --baseline`, `rumcheck demo` and the library API (for `cargo test`) all
//! go through here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rumcheck::gate::GateError> {
//! rumcheck::Gate::new("scenarios/shop.toml")?
//!     .baseline("baselines/shop.json")
//!     .run()
//!     .await?
//!     .assert_pass();
//! # Ok(()) }
//! ```

use crate::baseline::{Baseline, ImportError, read_baseline};
use crate::browser::BrowserOptions;
use crate::calibrate::{CalibrationError, CalibrationFile};
use crate::exit;
use crate::projection::TierLayout;
use crate::run::{Job, RunError, RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use crate::sample::{Sample, SampleError, read_samples};
use crate::scenario::{self, LoadedScenario, ScenarioError, Step};
use crate::segment::SegmentKey;
use crate::verdict::{
    self, FieldBaseline, GateResult, Inputs, OptionsError, VerdictOptions, sequential,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a gate could not produce a verdict.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The scenario is unusable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The baseline file is unusable.
    #[error(transparent)]
    Baseline(#[from] ImportError),
    /// The reference samples file is unusable.
    #[error(transparent)]
    Samples(#[from] SampleError),
    /// A verdict option is invalid.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// A calibration file is unusable.
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    /// Calibrating (the demo's quick calibration) failed.
    #[error(transparent)]
    Calibrate(#[from] crate::calibrate::CalibrateError),
    /// A calibration without the field it was fitted to.
    #[error(
        "a calibration needs the baseline it was fitted to\n  hint: add --baseline B.json (the file given to `rumcheck calibrate`)"
    )]
    CalibrationWithoutBaseline,
    /// A calibration does not cover the profile that names it.
    #[error(
        "{file} has no tiers for profile \"{profile}\" (it calibrates: {has})\n  hint: run `rumcheck calibrate` with this scenario, or remove the profile's `calibration`"
    )]
    CalibrationProfile {
        /// The calibration file.
        file: String,
        /// The profile.
        profile: String,
        /// Profiles it has.
        has: String,
    },
    /// A reference URL is invalid.
    #[error(
        "--reference-url {0:?} is not a valid http(s) URL\n  hint: pass the production build's base URL, e.g. https://shop.example.com"
    )]
    ReferenceUrl(String),
    /// `--runs auto` cannot plan its looks (e.g. a cap below the first look).
    #[error(
        "--runs auto: {0}\n  hint: raise the scenario's max_runs (the first look is after 8 runs)"
    )]
    RunsAuto(String),
    /// Browsers or output failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Ctrl-C.
    #[error("interrupted; the {measured} samples measured so far are in {path}")]
    Interrupted {
        /// Samples written.
        measured: usize,
        /// Where.
        path: PathBuf,
    },
}

impl GateError {
    /// The exit code this error should produce: 2 for bad input, 3 for infrastructure.
    pub fn exit_code(&self) -> u8 {
        match self {
            GateError::Run(RunError::Browser(_))
            | GateError::Interrupted { .. }
            | GateError::Calibrate(crate::calibrate::CalibrateError::Run(_))
            | GateError::Calibrate(crate::calibrate::CalibrateError::Interrupted(_))
            | GateError::Calibrate(crate::calibrate::CalibrateError::NoValidVisit(..)) => {
                exit::INCONCLUSIVE
            }
            _ => exit::USAGE,
        }
    }
}

/// How many visits per page × profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// Exactly this many.
    Fixed(u32),
    /// Adaptive: batches until every decision is resolved or `cap` is reached.
    Auto {
        /// Upper bound.
        cap: u32,
    },
}

/// What a batch observer sees: everything measured so far.
pub struct BatchView<'a> {
    /// All visits so far (candidate and, with a reference URL, reference).
    pub samples: &'a [Sample],
    /// The verdict so far (final when `done`).
    pub verdict: Option<&'a GateResult>,
    /// Reference samples read from a file, if any.
    pub reference: &'a [Sample],
    /// The field baseline, if any.
    pub baseline: Option<&'a Baseline>,
    /// True for the last call.
    pub done: bool,
}

/// Called after every batch, e.g. to rewrite report files.
pub type BatchObserver = dyn FnMut(&BatchView<'_>) + Send;

/// A gate, configured step by step (builder style).
pub struct Gate {
    scenario: LoadedScenario,
    baseline: Option<PathBuf>,
    reference_samples: Option<PathBuf>,
    reference_url: Option<String>,
    calibration: Option<PathBuf>,
    runs: Option<Runs>,
    verdict: VerdictOptions,
    run: RunOptions,
    observer: Option<Box<BatchObserver>>,
}

/// What a gate measured and decided.
pub struct GateOutcome {
    /// Every visit, failed ones included.
    pub samples: Vec<Sample>,
    /// The verdict; `None` when there was nothing to compare with.
    pub verdict: Option<GateResult>,
    /// Visits per page × profile actually run.
    pub runs: u32,
    /// Browser version.
    pub browser: String,
    /// Where the samples were written.
    pub samples_path: PathBuf,
}

impl Gate {
    /// A gate for the scenario file at `path`, with default options
    /// (α = 0.05, default thresholds, samples in `rumcheck-out/`).
    pub fn new(path: impl AsRef<Path>) -> Result<Gate, GateError> {
        Ok(Gate::from_scenario(scenario::load(path.as_ref())?))
    }

    /// A gate for an already loaded scenario.
    pub fn from_scenario(scenario: LoadedScenario) -> Gate {
        Gate {
            scenario,
            baseline: None,
            reference_samples: None,
            reference_url: None,
            calibration: None,
            runs: None,
            verdict: VerdictOptions::default(),
            run: RunOptions {
                browser: BrowserOptions::default(),
                concurrency: 1,
                out_dir: PathBuf::from("rumcheck-out"),
                quiet: true,
            },
            observer: None,
        }
    }

    /// Judge against this field baseline (written by `rumcheck baseline import`).
    pub fn baseline(mut self, path: impl AsRef<Path>) -> Gate {
        self.baseline = Some(path.as_ref().to_path_buf());
        self
    }

    /// Judge against these recorded reference samples.
    pub fn reference_samples(mut self, path: impl AsRef<Path>) -> Gate {
        self.reference_samples = Some(path.as_ref().to_path_buf());
        self
    }

    /// Measure this base URL (the production build) interleaved with the candidate.
    pub fn reference_url(mut self, url: impl Into<String>) -> Gate {
        self.reference_url = Some(url.into());
        self
    }

    /// Use this calibration (`rumcheck calibrate`) for every profile it
    /// covers, instead of the profiles' own `calibration` files.
    pub fn calibration(mut self, path: impl AsRef<Path>) -> Gate {
        self.calibration = Some(path.as_ref().to_path_buf());
        self
    }

    /// Visits per page × profile.
    pub fn runs(mut self, runs: Runs) -> Gate {
        self.runs = Some(runs);
        self
    }

    /// Verdict options (α, thresholds, minimum valid visits…).
    pub fn verdict_options(mut self, options: VerdictOptions) -> Gate {
        self.verdict = options;
        self
    }

    /// Browser, concurrency and output options.
    pub fn run_options(mut self, options: RunOptions) -> Gate {
        self.run = options;
        self
    }

    /// Called after every batch with all samples so far and the provisional
    /// verdict, e.g. to rewrite report files so a crash keeps partial results.
    pub fn on_batch(mut self, f: impl FnMut(&BatchView<'_>) + Send + 'static) -> Gate {
        self.observer = Some(Box::new(f));
        self
    }

    /// The scenario being gated.
    pub fn scenario(&self) -> &LoadedScenario {
        &self.scenario
    }

    /// Runs the scenario and judges it.
    pub async fn run(mut self) -> Result<GateOutcome, GateError> {
        self.verdict.validate()?;
        let baseline = self.baseline.as_deref().map(read_baseline).transpose()?;
        let reference = self
            .reference_samples
            .as_deref()
            .map(read_samples)
            .transpose()?;
        let reference_url = self
            .reference_url
            .as_deref()
            .map(|u| match url::Url::parse(u) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                _ => Err(GateError::ReferenceUrl(u.to_string())),
            })
            .transpose()?;
        let judged = baseline.is_some() || reference.is_some() || reference_url.is_some();
        let calibrations = self.calibrations()?;
        if !calibrations.is_empty() && baseline.is_none() {
            return Err(GateError::CalibrationWithoutBaseline);
        }
        let setups = setups(&self.scenario, reference_url.as_ref(), &calibrations);
        let calibrated = calibrated_layouts(&calibrations);
        let mut gate_notes: Vec<String> = Vec::new();
        let segments: BTreeMap<String, SegmentKey> = self
            .scenario
            .scenario
            .profiles
            .iter()
            .map(|p| (p.name.clone(), p.segment.clone()))
            .collect();
        let pages = field_pages(&self.scenario);

        let mut sink = SampleSink::create(&self.run.out_dir)?;
        let runner = Runner::start(self.run.clone()).await?;
        let runs = self
            .runs
            .unwrap_or(Runs::Fixed(self.scenario.scenario.runs));
        let pages_n = self.scenario.scenario.pages.len();
        let mut samples: Vec<Sample> = Vec::new();
        let judge = |samples: &[Sample], level: Option<(&crate::stats::SpendingPlan, usize)>| {
            let inputs = Inputs {
                candidate: samples,
                reference: reference.as_deref(),
                field: baseline.as_ref().map(|b| FieldBaseline {
                    baseline: b,
                    segments: &segments,
                    pages: &pages,
                    calibrated: Some(&calibrated),
                }),
            };
            match level {
                Some((plan, look)) => sequential::step(&inputs, &self.verdict, plan, look),
                None => sequential::Step::Stop(verdict::judge(&inputs, &self.verdict)),
            }
        };
        let cap = runs_cap(runs);
        let plan_auto = match runs {
            Runs::Fixed(_) => None,
            Runs::Auto { cap } => Some(
                sequential::plan(self.verdict.alpha, cap as usize)
                    .map_err(|e| GateError::RunsAuto(e.to_string()))?,
            ),
        };
        let mut done = 0u32;
        let outcome = loop {
            // Fixed runs go in batches too, so reports are rewritten as results arrive.
            let (target, look) = match &plan_auto {
                None => ((done + FIXED_BATCH).min(cap), None),
                Some(plan) => {
                    let look = plan
                        .looks
                        .iter()
                        .position(|&l| l as u32 > done)
                        .unwrap_or(plan.looks.len() - 1);
                    (plan.looks[look] as u32, Some(look))
                }
            };
            let jobs: Vec<Job> = plan(done..target, pages_n, &setups);
            let batch = match runner.run_batch(&self.scenario, jobs, &mut sink).await {
                Ok(b) => b,
                Err(e) => {
                    runner.shutdown().await;
                    return Err(e.into());
                }
            };
            samples.extend(batch.samples);
            done = target;
            if batch.interrupted {
                runner.shutdown().await;
                return Err(GateError::Interrupted {
                    measured: samples.len(),
                    path: sink.path().to_path_buf(),
                });
            }
            let last = done >= cap;
            let step = match (judged, &plan_auto, look) {
                (false, _, _) => None,
                (true, Some(plan), Some(look)) => Some(judge(&samples, Some((plan, look)))),
                (true, _, _) => Some(judge(&samples, None)),
            };
            let (mut verdict, stop) = match step {
                None => (None, last),
                Some(sequential::Step::Stop(result)) => (Some(result), true),
                Some(sequential::Step::Continue { provisional, .. }) => (Some(provisional), last),
            };
            if gate_notes.is_empty() {
                gate_notes = calibration_notes(&calibrations, runner.browser_version());
            }
            if let Some(v) = verdict.as_mut() {
                v.notes.extend(gate_notes.iter().cloned());
            }
            // With fixed runs the verdict only counts once every run is in.
            let stop = stop && (plan_auto.is_some() || last);
            if let Some(f) = self.observer.as_mut() {
                f(&BatchView {
                    samples: &samples,
                    verdict: verdict.as_ref(),
                    reference: reference.as_deref().unwrap_or_default(),
                    baseline: baseline.as_ref(),
                    done: stop,
                });
            }
            if stop {
                break verdict;
            }
        };
        let browser = runner.browser_version().to_string();
        runner.shutdown().await;
        Ok(GateOutcome {
            samples,
            verdict: outcome,
            runs: done,
            browser,
            samples_path: sink.path().to_path_buf(),
        })
    }
}

/// Runs per batch with a fixed run count (reports are rewritten after each).
const FIXED_BATCH: u32 = 5;

/// The last run count a run can reach.
fn runs_cap(runs: Runs) -> u32 {
    match runs {
        Runs::Fixed(n) => n,
        Runs::Auto { cap } => cap,
    }
}

/// One setup per profile for the candidate, and per profile for the
/// reference build when one is measured alongside (interleaved in the plan).
/// A calibrated profile gets one setup per page × tier instead: run `r` of a
/// page runs in tier `r mod K`, for both builds alike.
pub fn setups(
    scenario: &LoadedScenario,
    reference: Option<&url::Url>,
    calibrations: &BTreeMap<String, CalibrationFile>,
) -> Vec<Arc<SessionSetup>> {
    let v = scenario.scenario.viewport;
    let variants: Vec<(&str, Option<url::Url>)> = std::iter::once(("candidate", None))
        .chain(reference.map(|u| ("reference", Some(u.clone()))))
        .collect();
    let mut out = Vec::new();
    for profile in &scenario.scenario.profiles {
        let file = calibrations.get(&profile.name);
        let mut plain_pages = Vec::new();
        for (i, page) in scenario.scenario.pages.iter().enumerate() {
            let Some(entry) = file.and_then(|f| f.entry(&profile.name, &page.name)) else {
                plain_pages.push(i);
                continue;
            };
            let of = entry.tiers.len() as u32;
            for (k, tier) in entry.tiers.iter().enumerate() {
                let tiered = tier.profile(profile);
                for (variant, base) in &variants {
                    let mut s = SessionSetup::for_profile(
                        &tiered,
                        variant,
                        base.clone(),
                        (v.width, v.height),
                    );
                    s.tier = Some(crate::run::TierSlot {
                        index: k as u32,
                        of,
                    });
                    s.pages = Some(vec![i]);
                    out.push(Arc::new(s));
                }
            }
        }
        if plain_pages.is_empty() {
            continue;
        }
        let only = (plain_pages.len() < scenario.scenario.pages.len()).then_some(plain_pages);
        for (variant, base) in &variants {
            let mut s =
                SessionSetup::for_profile(profile, variant, base.clone(), (v.width, v.height));
            s.pages = only.clone();
            out.push(Arc::new(s));
        }
    }
    out
}

/// (profile, page) → tier layout of every calibrated page.
pub fn calibrated_layouts(
    calibrations: &BTreeMap<String, CalibrationFile>,
) -> BTreeMap<(String, String), Vec<TierLayout>> {
    calibrations
        .iter()
        .flat_map(|(profile, file)| {
            file.entries
                .iter()
                .filter(move |e| &e.profile == profile)
                .map(|e| ((e.profile.clone(), e.page.clone()), e.layout()))
        })
        .collect()
}

/// Warnings when a calibration was made on another host or browser.
fn calibration_notes(
    calibrations: &BTreeMap<String, CalibrationFile>,
    browser: &str,
) -> Vec<String> {
    let mut notes: Vec<String> = calibrations
        .values()
        .flat_map(|f| f.mismatch(browser))
        .collect();
    notes.sort();
    notes.dedup();
    notes
}

impl Gate {
    /// Profile name → its calibration: `--calibration` for every profile it
    /// covers, else the profile's own `calibration` file (relative to the
    /// scenario).
    fn calibrations(&self) -> Result<BTreeMap<String, CalibrationFile>, GateError> {
        let mut out = BTreeMap::new();
        let profiles = &self.scenario.scenario.profiles;
        if let Some(path) = &self.calibration {
            let file = CalibrationFile::read(path)?;
            for p in profiles {
                if file.profiles().contains(&p.name.as_str()) {
                    out.insert(p.name.clone(), file.clone());
                }
            }
            if out.is_empty() {
                return Err(GateError::CalibrationProfile {
                    file: path.display().to_string(),
                    profile: profiles
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    has: file.profiles().join(", "),
                });
            }
            return Ok(out);
        }
        let dir = self.scenario.path.parent().unwrap_or(Path::new("."));
        for p in profiles {
            let Some(name) = &p.calibration else { continue };
            let path = dir.join(name);
            let file = CalibrationFile::read(&path)?;
            if !file.profiles().contains(&p.name.as_str()) {
                return Err(GateError::CalibrationProfile {
                    file: path.display().to_string(),
                    profile: p.name.clone(),
                    has: file.profiles().join(", "),
                });
            }
            out.insert(p.name.clone(), file);
        }
        Ok(out)
    }
}

/// Sample page name → baseline page key, for pages and journey legs.
pub fn field_pages(scenario: &LoadedScenario) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for page in &scenario.scenario.pages {
        out.insert(page.name.clone(), scenario.field_page(page));
        for step in &page.steps {
            if let Step::Navigate(n) = step {
                out.insert(
                    format!("{}/{}", page.name, n.name()),
                    crate::segment::template(n.path()),
                );
            }
        }
    }
    out
}

impl GateOutcome {
    /// 0 pass, 1 regression, 3 inconclusive; without a verdict, 0 when every
    /// page has a valid visit and 3 otherwise.
    pub fn exit_code(&self) -> u8 {
        match &self.verdict {
            Some(v) => v.exit_code(),
            None if self.pages_without_valid_visit().is_empty() => exit::PASS,
            None => exit::INCONCLUSIVE,
        }
    }

    /// Pages (and journey legs) that have failed visits but not a single valid one.
    pub fn pages_without_valid_visit(&self) -> Vec<String> {
        let mut pages: Vec<String> = self.samples.iter().map(|s| s.page.clone()).collect();
        pages.sort();
        pages.dedup();
        pages.retain(|p| !self.samples.iter().any(|s| s.ok && &s.page == p));
        pages
    }

    /// Panics with the verdict table unless the gate passed: the assertion
    /// for a team's own `cargo test`.
    #[track_caller]
    pub fn assert_pass(&self) {
        if self.exit_code() != exit::PASS {
            let table = match &self.verdict {
                Some(v) => crate::report::terminal::render(v, false),
                None => format!(
                    "no valid visit of: {}",
                    self.pages_without_valid_visit().join(", ")
                ),
            };
            panic!(
                "rumcheck gate did not pass (exit {}):\n{table}",
                self.exit_code()
            );
        }
    }
}
