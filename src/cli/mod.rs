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
