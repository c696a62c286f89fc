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
    /// Browsers to run at once (more than the CPU cores inflates the spread).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub concurrency: usize,
    /// Directory for samples.ndjson (created if missing).
    #[arg(long, value_name = "DIR", default_value = "rumcheck-out")]
    pub out: PathBuf,
    /// Only print errors and the final summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `rumcheck run SCENARIO`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Visits per page (overrides the scenario's `runs`).
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Base URL (overrides the scenario's `base_url`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
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
    /// Make the demo site slower, e.g. `lcp=400ms` (delays the hero image), `ttfb=200ms`, `inp=150ms`, `cls=0.1`.
    #[arg(long, value_name = "METRIC=AMOUNT")]
    pub regress: Vec<String>,
    /// Browser and output options.
    #[command(flatten)]
    pub browser: BrowserArgs,
}
