//! Arguments of `rumcheck compare`.

use clap::Args;
use std::path::PathBuf;

/// `rumcheck compare CANDIDATE.ndjson… (--reference REF.ndjson | --baseline BASELINE.json)`.
///
/// Without either, the candidate files must hold `variant: "reference"` visits too.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Candidate samples (NDJSON written by `rumcheck run`). Several files are judged
    /// as one gate: the samples of every shard of `rumcheck run --shard K/N` (all of
    /// one scenario and plan, each shard once), or several unsharded runs pooled.
    #[arg(value_name = "CANDIDATE", required = true, num_args = 1..)]
    pub candidate: Vec<PathBuf>,
    /// Reference samples of the production build, same profile (repeat for
    /// several files, e.g. the shards of a reference run).
    #[arg(long, value_name = "REF.ndjson")]
    pub reference: Vec<PathBuf>,
    /// Judge the shards that are there when some are missing (a warning and a
    /// note in the reports) instead of refusing (exit 2).
    #[arg(long)]
    pub allow_missing_shards: bool,
    /// Field baseline (written by `rumcheck baseline import`).
    #[arg(long, value_name = "BASELINE.json")]
    pub baseline: Option<PathBuf>,
    /// Family-wise false-alarm rate.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Practical threshold per metric, e.g. `lcp=10%` or `lcp=150ms` or `cls=0.05`.
    #[arg(long, value_name = "METRIC=AMOUNT")]
    pub threshold: Vec<String>,
    /// Metrics to judge, comma-separated (default: lcp,cls,inp,fcp,ttfb).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Minimum valid visits per page and variant; fewer makes the gate inconclusive.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub min_valid: usize,
    /// Projected field rows: how much real users' p75 may worsen before it
    /// counts as a regression (0.1 = 10 %, with the metric's absolute floor).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.10)]
    pub field_tolerance: f64,
    /// Calibration (`rumcheck calibrate`): field rows of calibrated profiles
    /// are projected onto real users from the samples' tiers.
    #[arg(long, value_name = "CALIBRATION.json")]
    pub calibration: Option<PathBuf>,
    /// The scenario the samples came from: maps its profiles to field segments
    /// and its pages to baseline page keys (`field_page`, or the path with ids folded).
    #[arg(long, value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Field segment of a profile, e.g. `mobile=phone/4g` or `desktop=desktop` (default: all users).
    #[arg(long, value_name = "PROFILE=FORM_FACTOR[/CONNECTION]")]
    pub segment: Vec<String>,
    /// Reports.
    #[command(flatten)]
    pub reports: super::run::ReportArgs,
}
