//! Command-line definitions (clap derive) and nothing else: every flag is
//! turned into a validated options type by the module that owns it.

use clap::{Parser, Subcommand};

pub mod baseline;
pub mod compare;
pub mod run;

/// rumcheck: fail the build when real browsers, under field-like conditions,
/// show a regression against your real users' baseline.
#[derive(Debug, Parser)]
#[command(name = "rumcheck", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario in real browsers and write samples (and judge them when a baseline is given).
    Run(run::RunArgs),
    /// Serve the embedded demo shop and run the demo scenario against it.
    Demo(run::DemoArgs),
    /// Compare recorded samples with reference samples or a field baseline.
    Compare(compare::CompareArgs),
    /// Import, show and merge real-user baselines.
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// Write a starter scenario for a URL and print the next commands.
    Init(InitArgs),
    /// Fit lab tiers (RTT, bandwidth, CPU) so the production build reproduces real users' TTFB/FCP/LCP distribution.
    Calibrate(CalibrateFieldArgs),
    /// Measure how faithfully this machine reproduces profiles (requested vs measured RTT, bandwidth, CPU).
    CalibrateHost(CalibrateArgs),
    /// List the network, device and profile presets a scenario's `[[profile]]` can name.
    Profiles,
}

/// `rumcheck calibrate-host [SCENARIO]`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Calibrate this scenario's profiles (default: lighthouse-mobile, lighthouse-desktop and the 4g network).
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<std::path::PathBuf>,
    /// Browser options.
    #[command(flatten)]
    pub browser: run::BrowserArgs,
}

/// `rumcheck calibrate SCENARIO --baseline B.json -o calibration.json`.
#[derive(Debug, clap::Args)]
pub struct CalibrateFieldArgs {
    /// The scenario whose pages and profiles are calibrated.
    #[arg(value_name = "SCENARIO")]
    pub scenario: std::path::PathBuf,
    /// The real-user baseline to reproduce (`rumcheck baseline import` or `fetch-crux`).
    #[arg(long, value_name = "BASELINE.json")]
    pub baseline: std::path::PathBuf,
    /// The production build to fit (default: the scenario's base_url).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Where to write the calibration.
    #[arg(short, long, value_name = "FILE", default_value = "calibration.json")]
    pub output: std::path::PathBuf,
    /// Tiers per profile: quantile bands of the field (2–9).
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub tiers: usize,
    /// Visits per probe (their median is the probe's value).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub visits: usize,
    /// Refine rounds after the design round.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub rounds: usize,
    /// A tier stops searching once every metric is within this relative error.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05)]
    pub tolerance: f64,
    /// Only this scenario page (repeat for several; default: every page with field data).
    #[arg(long, value_name = "NAME")]
    pub page: Vec<String>,
    /// Browser options.
    #[command(flatten)]
    pub browser: run::BrowserArgs,
}

/// `rumcheck init URL`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The page to measure, e.g. https://shop.example.com/product/1.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Where to write the scenario.
    #[arg(short, long, value_name = "FILE", default_value = "rumcheck.toml")]
    pub output: std::path::PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}
