//! `rumcheck run` and `rumcheck demo`.

use crate::browser::BrowserOptions;
use crate::cli::run::{BrowserArgs, DemoArgs, RunArgs};
use crate::exit::{self, Failure};
use crate::run::{self, RunOptions, Runner, SampleSink, SessionSetup};
use crate::sample::Sample;
use crate::scenario::{self, LoadedScenario};
use std::sync::Arc;

impl RunOptions {
    /// Validates the browser and output flags.
    pub fn from_cli_arguments(args: &BrowserArgs) -> Result<Self, Failure> {
        let webdriver = args
            .webdriver
            .as_deref()
            .map(|u| {
                url::Url::parse(u).map_err(|e| crate::browser::BrowserError::BadUrl {
                    url: u.to_string(),
                    reason: e.to_string(),
                })
            })
            .transpose()
            .map_err(Failure::usage)?;
        if args.concurrency == 0 {
            return Err(Failure::usage(run::RunError::Concurrency));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if args.concurrency > cores {
            eprintln!(
                "warning: --concurrency {} exceeds the {cores} CPU cores; concurrent browsers compete for CPU and inflate the spread of timings",
                args.concurrency
            );
        }
        Ok(RunOptions {
            browser: BrowserOptions {
                webdriver,
                chromedriver: args.chromedriver.clone(),
                browser: args.browser.clone(),
            },
            concurrency: args.concurrency,
            out_dir: args.out.clone(),
            quiet: args.quiet,
        })
    }
}

/// `rumcheck run SCENARIO`.
pub async fn run(args: RunArgs) -> Result<u8, Failure> {
    let mut scenario = scenario::load(&args.scenario).map_err(Failure::usage)?;
    if let Some(base) = &args.base_url {
        scenario.override_base_url(base).map_err(Failure::usage)?;
    }
    if let Some(runs) = args.runs {
        scenario.override_runs(runs).map_err(Failure::usage)?;
    }
    let opts = RunOptions::from_cli_arguments(&args.browser)?;
    let samples = measure(&scenario, opts).await?;
    Ok(run_exit_code(&scenario, &samples))
}

/// Runs every page of a scenario `runs` times and prints the summary.
pub(crate) async fn measure(
    scenario: &LoadedScenario,
    opts: RunOptions,
) -> Result<Vec<Sample>, Failure> {
    let mut sink = SampleSink::create(&opts.out_dir).map_err(Failure::usage)?;
    let quiet = opts.quiet;
    let runner = Runner::start(opts).await.map_err(Failure::infra)?;
    let setups = vec![Arc::new(default_setup(scenario))];
    let jobs = run::plan::plan(
        0..scenario.scenario.runs,
        scenario.scenario.pages.len(),
        &setups,
    );
    if !quiet {
        eprintln!(
            "rumcheck: {} — {} page(s) × {} run(s) on {}",
            scenario.scenario.name,
            scenario.scenario.pages.len(),
            scenario.scenario.runs,
            scenario.base_url
        );
    }
    let batch = runner.run_batch(scenario, jobs, &mut sink).await;
    let version = runner.browser_version().to_string();
    runner.shutdown().await;
    let batch = batch.map_err(Failure::usage)?;
    println!("{}", run::summary::render(&batch.samples));
    println!("browser: {version}\nsamples: {}", sink.path().display());
    if batch.interrupted {
        return Err(Failure::infra(anyhow::anyhow!(
            "interrupted; the {} samples measured so far are in {}",
            batch.samples.len(),
            sink.path().display()
        )));
    }
    Ok(batch.samples)
}

fn default_setup(scenario: &LoadedScenario) -> SessionSetup {
    let v = scenario.scenario.viewport;
    SessionSetup {
        profile: "default".into(),
        viewport: (v.width, v.height),
        variant: "candidate".into(),
        ..SessionSetup::default()
    }
}

/// 0 when every page has at least one valid visit, else 3: a run that
/// measured nothing for a page must not look like a pass.
fn run_exit_code(scenario: &LoadedScenario, samples: &[Sample]) -> u8 {
    let missing: Vec<&str> = scenario
        .scenario
        .pages
        .iter()
        .map(|p| p.name.as_str())
        .filter(|name| !samples.iter().any(|s| s.ok && (s.page == *name)))
        .collect();
    if missing.is_empty() {
        exit::PASS
    } else {
        eprintln!(
            "error: no valid visit of page(s) {}; see the failures above",
            missing.join(", ")
        );
        exit::INCONCLUSIVE
    }
}

/// `rumcheck demo`.
pub async fn demo(args: DemoArgs) -> Result<u8, Failure> {
    Err(Failure::usage(anyhow::anyhow!(
        "`rumcheck demo` is not built yet: {args:?}"
    )))
}
