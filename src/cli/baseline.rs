//! Arguments of `rumcheck baseline …`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `rumcheck baseline import|show|merge|fetch-crux`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Import RUM exports or CrUX records into a baseline file.
    Import(ImportArgs),
    /// Print a baseline as a table per page × segment × metric.
    Show(ShowArgs),
    /// Merge baselines from split exports (sketches merge, provenance adds up).
    Merge(MergeArgs),
    /// Fetch Chrome UX Report field data for an origin or URL from the CrUX
    /// API and write it as a baseline (as `import --format crux` would).
    FetchCrux(FetchCruxArgs),
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
    /// Column mapping for CSV, e.g. `lcp=largest_contentful_paint_ms`;
    /// `server.NAME=COLUMN` imports a custom server metric (CSV column or
    /// web-vitals TTFB beacon field), e.g. `server.db=db_time_ms`.
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
    /// With `--page-by template`, keep path segments matching this regular
    /// expression (whole segment) instead of folding them to `:id`, e.g.
    /// `es20[0-9]{2}`. Repeatable. E-mail addresses always fold.
    #[arg(long = "keep-path-segment", value_name = "REGEX")]
    pub keep_path_segment: Vec<String>,
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
    /// 1 = one thread. The baseline is the same for any number; at most
    /// 4 per CPU.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Page keys kept, the most viewed first; the others are folded into
    /// one `(other)` page, and the baseline records the share of views
    /// folded.
    #[arg(long, value_name = "N", default_value_t = crate::baseline::DEFAULT_MAX_PAGES)]
    pub max_pages: usize,
    /// The longest CSV record or NDJSON/Boomerang line read, in bytes;
    /// longer ones are rejected as `too-long` with their line numbers.
    #[arg(long, value_name = "BYTES", default_value_t = crate::baseline::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
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
    /// Merge baselines holding the same imported data too (normally
    /// refused: every value would count twice).
    #[arg(long)]
    pub allow_duplicate: bool,
    /// Output baseline file.
    #[arg(short, long, value_name = "BASELINE.json")]
    pub output: PathBuf,
}

/// `rumcheck baseline fetch-crux (--origin URL | --url URL) -o OUT`.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["origin", "url"])))]
pub struct FetchCruxArgs {
    /// Origin to fetch (all its pages together), e.g. https://example.com.
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// One page to fetch, e.g. https://example.com/product/1.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Fetch one form factor: phone, desktop, tablet or all. Default: each
    /// of them, merged into one baseline; those without data are skipped.
    #[arg(long, value_name = "FORM_FACTOR")]
    pub form_factor: Option<String>,
    /// Use the CrUX History API (weekly periods; the newest complete one is
    /// kept per metric) instead of the latest 28 days.
    #[arg(long)]
    pub history: bool,
    /// CrUX API key (a Google Cloud API key allowed to use the Chrome UX
    /// Report API).
    #[arg(long, value_name = "KEY", env = "CRUX_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Also write each API response body to DIR, so that
    /// `baseline import DIR/*.json --format crux` reproduces the baseline.
    #[arg(long, value_name = "DIR")]
    pub save_responses: Option<PathBuf>,
    /// Attempts per query; 429, 5xx and network failures are retried with
    /// exponential backoff, honouring Retry-After.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub attempts: u32,
    /// API base URL (for tests and proxies).
    #[arg(
        long,
        value_name = "URL",
        env = "RUMCHECK_CRUX_ENDPOINT",
        hide = true,
        default_value = crate::baseline::CRUX_ENDPOINT
    )]
    pub endpoint: String,
    /// First retry wait in milliseconds, doubled per retry (tests shorten it).
    #[arg(
        long,
        value_name = "MS",
        env = "RUMCHECK_CRUX_RETRY_BASE_MS",
        hide = true,
        default_value_t = 1000
    )]
    pub retry_base_ms: u64,
    /// Output baseline file.
    #[arg(short, long, value_name = "BASELINE.json")]
    pub output: PathBuf,
}

impl std::fmt::Debug for FetchCruxArgs {
    /// Like the derived form, with the key hidden.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchCruxArgs")
            .field("origin", &self.origin)
            .field("url", &self.url)
            .field("form_factor", &self.form_factor)
            .field("history", &self.history)
            .field("key", &self.key.as_ref().map(|_| "[hidden]"))
            .field("save_responses", &self.save_responses)
            .field("attempts", &self.attempts)
            .field("endpoint", &self.endpoint)
            .field("retry_base_ms", &self.retry_base_ms)
            .field("output", &self.output)
            .finish()
    }
}
