//! Arguments of `rumcheck run` and `rumcheck demo`.

use clap::Args;
use std::path::PathBuf;

/// Browser and output options shared by `run` and `demo`.
#[derive(Debug, Args, Clone)]
pub struct BrowserArgs {
    /// Attach to this W3C WebDriver endpoint (e.g. a Selenium Grid) instead of spawning chromedriver.
    #[arg(long, value_name = "URL", env = "RUMCHECK_WEBDRIVER")]
    pub webdriver: Option<String>,
    /// chromedriver binary to spawn (default: found on PATH).
    #[arg(long, value_name = "PATH", env = "RUMCHECK_CHROMEDRIVER")]
    pub chromedriver: Option<PathBuf>,
    /// Chromium/Chrome binary (default: /usr/lib/chromium/chromium, then chromium/google-chrome on PATH).
    #[arg(long, value_name = "PATH", env = "RUMCHECK_BROWSER")]
    pub browser: Option<PathBuf>,
    /// An extra browser argument for every session, repeatable, e.g.
    /// `--browser-arg=--no-sandbox` for Selenium Grid nodes that run as root
    /// (rumcheck adds it by itself only to the browsers it starts as root).
    #[arg(
        long = "browser-arg",
        value_name = "--SWITCH",
        allow_hyphen_values = true
    )]
    pub browser_arg: Vec<String>,
    /// Let browsers on other machines (Selenium Grid nodes) use the shaping
    /// proxy: bind it to this address, e.g. `0.0.0.0` or the host's LAN IP
    /// (default 127.0.0.1). Each session's proxy then takes a free port and
    /// accepts only TLS connections naming that session's random token.
    #[arg(long, value_name = "ADDR", env = "RUMCHECK_PROXY_LISTEN")]
    pub proxy_listen: Option<String>,
    /// The host name or IP grid nodes reach this host by (needed with
    /// `--proxy-listen 0.0.0.0`; default the listen address).
    #[arg(long, value_name = "HOST", env = "RUMCHECK_PROXY_ADVERTISE")]
    pub proxy_advertise: Option<String>,
    /// Browsers to run at once, 1 to 64 [default: one per two CPU cores, at least 1, at most 4: more browsers than that widen the spread of timings (README, Measured)].
    #[arg(long, value_name = "K")]
    pub concurrency: Option<usize>,
    /// Directory for samples.ndjson (created if missing; one run at a time; an earlier samples.ndjson is kept as samples.previous.ndjson).
    #[arg(long, value_name = "DIR", default_value = "rumcheck-out")]
    pub out: PathBuf,
    /// Only print errors and the final summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How to judge the samples and where to report (shared by `run` and `demo`).
#[derive(Debug, Args, Clone, Default)]
pub struct GateArgs {
    /// Family-wise false-alarm rate of the gate.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Practical threshold per metric, e.g. `lcp=10%`, `lcp=150ms`, `cls=0.05`.
    #[arg(long, value_name = "METRIC=AMOUNT")]
    pub threshold: Vec<String>,
}

/// Report files (shared by `run`, `demo` and `compare`).
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// Write the results document (JSON) here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write JUnit XML here (CI test tabs).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary here (also to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `rumcheck run SCENARIO`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Visits per page and profile: a number (overrides the scenario's `runs`) or
    /// `auto` (adaptive: start with 8, add batches until every decision is resolved
    /// or the scenario's `max_runs` is reached; not with --shard).
    #[arg(long, value_name = "N|auto")]
    pub runs: Option<String>,
    /// Run only shard K of N of the plan (pages × profiles × runs, both builds of a
    /// run together), e.g. `2/4` in the second of four CI jobs. Samples record the
    /// shard and the plan; nothing is judged: pass every shard's samples.ndjson to
    /// `rumcheck compare`. Needs a fixed run count: `--runs auto` across shards is
    /// not supported.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Base URL (overrides the scenario's `base_url`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Field baseline to judge against (written by `rumcheck baseline import`).
    #[arg(long, value_name = "BASELINE.json")]
    pub baseline: Option<PathBuf>,
    /// Reference samples of the production build (NDJSON from an earlier run).
    #[arg(long, value_name = "REF.ndjson")]
    pub reference_samples: Option<PathBuf>,
    /// Also measure this base URL (the production build), interleaved with the
    /// candidate, as the lab reference.
    #[arg(long, value_name = "URL", conflicts_with = "reference_samples")]
    pub reference_url: Option<String>,
    /// Calibration (`rumcheck calibrate`) for every profile it covers:
    /// visits are spread over its tiers and field rows are projected onto real users.
    #[arg(long, value_name = "CALIBRATION.json")]
    pub calibration: Option<PathBuf>,
    /// Judging.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Reports.
    #[command(flatten)]
    pub reports: ReportArgs,
    /// Browser and output options.
    #[command(flatten)]
    pub browser: BrowserArgs,
}

/// `rumcheck demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Visits per page.
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Judging.
    #[command(flatten)]
    pub gate: GateArgs,
    /// Reports.
    #[command(flatten)]
    pub reports: ReportArgs,
    /// Make the demo site slower, e.g. `lcp=400ms` (the hero image's request starts later), `ttfb=200ms` (a slower `db` server phase), `inp=150ms`, `cls=0.1`, `blocking-css=300KB` (a new render-blocking stylesheet).
    #[arg(long, value_name = "METRIC=AMOUNT")]
    pub regress: Vec<String>,
    /// Reuse a calibration (e.g. `rumcheck-out/demo-calibration.json` of an earlier demo) instead of calibrating again.
    #[arg(long, value_name = "CALIBRATION.json")]
    pub calibration: Option<PathBuf>,
    /// Browser and output options.
    #[command(flatten)]
    pub browser: BrowserArgs,
}
