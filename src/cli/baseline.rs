//! Arguments of `rumcheck baseline …`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `rumcheck baseline import|show|merge`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Import RUM exports or CrUX records into a baseline file.
    Import(ImportArgs),
    /// Print a baseline as a table per page × segment × metric.
    Show(ShowArgs),
    /// Merge baselines from split exports (sketches merge, provenance adds up).
    Merge(MergeArgs),
}

/// `rumcheck baseline import FILE... --format F -o OUT`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Input files; `-` reads standard input. Gzip is recognised and
    /// decompressed as it streams.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Input format: csv, webvitals, boomerang, crux, crux-history, crux-bigquery.
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// Column mapping for CSV, e.g. `lcp=largest_contentful_paint_ms`.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// Segment dimensions: form_factor, connection, country, browser (comma separated).
    #[arg(
        long,
        value_name = "DIMS",
        value_delimiter = ',',
        default_value = "form_factor"
    )]
    pub segment_by: Vec<String>,
    /// How pages are keyed: path, template (folds ids) or none.
    #[arg(long, value_name = "HOW", default_value = "template")]
    pub page_by: String,
    /// Apdex target per metric, e.g. `lcp=2500`.
    #[arg(long, value_name = "METRIC=MS")]
    pub apdex_t: Vec<String>,
    /// Segments with fewer samples are kept but marked too small to compare.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub min_segment: u64,
    /// Stop at the first bad row (file:line, exit 2) instead of counting it.
    #[arg(long)]
    pub strict: bool,
    /// Threads for CSV import, the reading one included: 0 = one per CPU;
    /// 1 = one thread reads and aggregates. The baseline is the same for
    /// any number (`--strict` uses one).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Output baseline file.
    #[arg(short, long, value_name = "BASELINE.json")]
    pub output: PathBuf,
}

/// `rumcheck baseline show FILE`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Baseline file.
    #[arg(value_name = "BASELINE.json")]
    pub file: PathBuf,
}

/// `rumcheck baseline merge A B -o C`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Baselines to merge.
    #[arg(value_name = "BASELINE.json", required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Output baseline file.
    #[arg(short, long, value_name = "BASELINE.json")]
    pub output: PathBuf,
}
