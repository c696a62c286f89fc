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
    /// List the network, device and profile presets a scenario's `[[profile]]` can name.
    Profiles,
}
