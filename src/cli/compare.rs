//! Arguments of `rumcheck compare`.

use clap::Args;
use std::path::PathBuf;

/// `rumcheck compare CANDIDATE.ndjson (--reference REF.ndjson | --baseline BASELINE.json)`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Candidate samples (NDJSON written by `rumcheck run`).
    #[arg(value_name = "CANDIDATE")]
    pub candidate: PathBuf,
    /// Reference samples of the production build, same profile.
    #[arg(long, value_name = "REF.ndjson")]
    pub reference: Option<PathBuf>,
    /// Field baseline (written by `rumcheck baseline import`).
    #[arg(long, value_name = "BASELINE.json")]
    pub baseline: Option<PathBuf>,
    /// Family-wise false-alarm rate.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Practical threshold per metric, e.g. `lcp=10%` or `lcp=150ms` or `cls=0.05`.
    #[arg(long, value_name = "METRIC=AMOUNT")]
    pub threshold: Vec<String>,
}
