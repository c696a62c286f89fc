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

mod live;
mod setup;
mod steps;

pub use live::LiveReports;
pub use setup::{calibrated_layouts, field_pages, setups};
pub use steps::run_meta;

use crate::baseline::{Baseline, ImportError};
use crate::browser::BrowserOptions;
use crate::calibrate::CalibrationError;
use crate::exit::{self, ErrorKind};
use crate::report::Results;
use crate::run::{RunError, RunOptions, Shard, ShardError};
use crate::sample::{Sample, SampleError};
use crate::scenario::{self, LoadedScenario, ScenarioError};
use crate::verdict::{GateResult, OptionsError, VerdictOptions};
use std::path::{Path, PathBuf};

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
    /// A shard that cannot be run (`--shard` with `--runs auto`, an empty shard).
    #[error(transparent)]
    Shard(#[from] ShardError),
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
    /// Whether the user's input or the machine is at fault (the exit code
    /// is [`crate::exit`]'s choice).
    pub fn kind(&self) -> ErrorKind {
        match self {
            GateError::Run(RunError::Browser(_)) | GateError::Interrupted { .. } => {
                ErrorKind::Infrastructure
            }
            GateError::Calibrate(e) => e.kind(),
            _ => ErrorKind::Input,
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
    /// The results document of everything so far (`partial` until `done`):
    /// what every report renders.
    pub results: &'a Results,
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
    shard: Option<Shard>,
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
    /// The results document (what every report renders).
    pub results: Results,
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
            shard: None,
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

    /// Run only this shard of the plan (one CI job of several). A shard
    /// measures and writes its samples, stamped with the shard and the
    /// plan's fingerprint, but judges nothing: its share of the visits is
    /// too small, so the union is judged by `rumcheck compare`. Fixed runs
    /// only.
    pub fn shard(mut self, shard: Shard) -> Gate {
        self.shard = Some(shard);
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
}

impl GateOutcome {
    /// 0 pass, 1 regression, 3 inconclusive; without a verdict, 0 when every
    /// page has a valid visit and 3 otherwise; never 0 when visits failed
    /// for infrastructure reasons ([`Self::infrastructure_failures`]).
    pub fn exit_code(&self) -> u8 {
        exit::of_run(
            self.verdict.as_ref().map(|v| v.status),
            self.pages_without_valid_visit().is_empty(),
            self.infrastructure_failures() > 0,
        )
    }

    /// Recorded visits that failed for the machine's reasons (browser or
    /// chromedriver gone, site unreachable, the watchdog), after retries.
    pub fn infrastructure_failures(&self) -> usize {
        self.samples
            .iter()
            .filter(|s| s.infrastructure_failure())
            .count()
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
                Some(_) => crate::report::terminal::render(&self.results, false),
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
