//! The scenario file model (TOML). See `scenarios/` for examples.

use serde::{Deserialize, Serialize};

/// A scenario: which pages to visit, how, and how often.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports.
    pub name: String,
    /// Base URL page paths are relative to (`--base-url` overrides).
    pub base_url: String,
    /// Visits per page and profile (`--runs` overrides).
    #[serde(default = "default_runs")]
    pub runs: u32,
    /// Upper bound for `--runs auto`.
    #[serde(default)]
    pub max_runs: Option<u32>,
    /// CSS viewport of the default profile.
    #[serde(default)]
    pub viewport: Viewport,
    /// `cold` (fresh profile per sample, a new visitor) or `warm` (repeat view).
    #[serde(default)]
    pub cache: Cache,
    /// How visits are kept apart: a fresh browser context per visit in a
    /// browser that lives for many visits, or a fresh browser per visit.
    #[serde(default)]
    pub isolation: Isolation,
    /// With `isolation = "context"`, a browser is replaced after this many
    /// visits (or sooner when its memory has doubled), so long runs do not drift.
    #[serde(default = "default_recycle_after")]
    pub recycle_after: u32,
    /// Retries of a failed visit before it is recorded as failed.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// The team's own RUM agent, injected before page scripts; its beacons are captured.
    #[serde(default)]
    pub rum_agent: Option<RumAgentSpec>,
    /// Field-like conditions; every page runs under every profile. Without
    /// any, one `default` profile (no throttling, `viewport`) runs.
    #[serde(default, rename = "profile")]
    pub profiles: Vec<crate::throttle::Profile>,
    /// Extra browser switches for every session, e.g. `["--no-sandbox"]`
    /// for Selenium Grid nodes that run as root (`--browser-arg` adds more).
    #[serde(default)]
    pub browser_args: Vec<String>,
    /// Other http(s) origins every page may load or navigate to (besides
    /// `base_url`'s), e.g. `["https://cdn.example"]`.
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Pages (or journeys) to visit.
    #[serde(rename = "page")]
    pub pages: Vec<Page>,
}

fn default_runs() -> u32 {
    10
}
fn default_recycle_after() -> u32 {
    100
}
fn default_retries() -> u32 {
    2
}

/// A viewport in CSS pixels.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Viewport {
    /// Width (`innerWidth`).
    pub width: u32,
    /// Height (`innerHeight`).
    pub height: u32,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            width: 1280,
            height: 800,
        }
    }
}

/// Cache state of a sample.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    /// Fresh profile per sample: a first-time visitor.
    #[default]
    Cold,
    /// Repeat view: a priming visit of the same page in the same session first.
    Warm,
}

/// How one visit is isolated from the others.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// A fresh off-the-record browser context per visit (own cookies,
    /// storage, HTTP cache, service workers and sockets) in a long-lived
    /// browser: the cost of a browser start is paid once, not per visit.
    #[default]
    Context,
    /// A fresh browser process (and profile) per visit: a cold process.
    Browser,
}

impl Isolation {
    /// The name used in scenarios and samples.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Context => "context",
            Isolation::Browser => "browser",
        }
    }
}

/// Timeouts in milliseconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Navigation until the load event.
    pub page_load_ms: u64,
    /// Each step (waiting for a selector, a click…).
    pub step_ms: u64,
    /// Scripts run in the page.
    pub script_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            page_load_ms: 30_000,
            step_ms: 10_000,
            script_ms: 10_000,
        }
    }
}

/// `rum_agent = { script = "agent.js", beacon = "*/collect*" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RumAgentSpec {
    /// Path of the agent script, relative to the scenario file.
    pub script: String,
    /// URL glob matching the agent's beacons (`*` matches anything).
    pub beacon: String,
}

/// A page, or a journey when its steps contain `navigate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Name used in samples and reports.
    pub name: String,
    /// Path relative to `base_url` (or an absolute http(s) URL on its origin
    /// or on one of `allow_origins`).
    pub path: String,
    /// The page key in the field baseline (default: the path with ids folded,
    /// as `rumcheck baseline import --page-by template` keys pages).
    #[serde(default)]
    pub field_page: Option<String>,
    /// What to do after the page loaded.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Other http(s) origins this page's `path` and `navigate` steps may go
    /// to, besides `base_url`'s and the scenario's `allow_origins`.
    #[serde(default)]
    pub allow_origins: Vec<String>,
}

/// One step of a page visit. Input steps use WebDriver Actions, so the
/// browser sees trusted input (what finalises LCP in a real visit).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Wait until an element matching the CSS selector exists.
    WaitFor(String),
    /// Click the element (pointer move, down, up).
    Click(String),
    /// Wait a fixed time.
    WaitMs(u64),
    /// Click the element, then type the text key by key.
    Type(TypeStep),
    /// Scroll the page by this many pixels with the mouse wheel.
    Scroll(i64),
    /// Press one key (e.g. `Enter`, `Tab`, `a`).
    Press(String),
    /// End this visit and navigate: a new page visit with its own metrics.
    Navigate(Navigate),
}

/// `{ type = { selector = "#q", text = "shoes" } }`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TypeStep {
    /// Element to type into.
    pub selector: String,
    /// Text to type.
    pub text: String,
}

/// `{ navigate = "/cart" }` or `{ navigate = { path = "/cart", name = "cart" } }`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Navigate {
    /// Just a path; the visit is named after it.
    Path(String),
    /// A path and the name of the visit.
    Named {
        /// Path or URL.
        path: String,
        /// Visit name (`page/name` in samples).
        name: String,
    },
}

impl Navigate {
    /// The path or URL to load.
    pub fn path(&self) -> &str {
        match self {
            Navigate::Path(p) | Navigate::Named { path: p, .. } => p,
        }
    }

    /// The visit's name within the journey.
    pub fn name(&self) -> String {
        match self {
            Navigate::Path(p) => p.trim_matches('/').replace('/', "-"),
            Navigate::Named { name, .. } => name.clone(),
        }
    }
}

impl Step {
    /// A short description for logs and errors: `click #buy`.
    pub fn describe(&self) -> String {
        match self {
            Step::WaitFor(s) => format!("wait_for {s}"),
            Step::Click(s) => format!("click {s}"),
            Step::WaitMs(ms) => format!("wait_ms {ms}"),
            Step::Type(t) => format!("type into {}", t.selector),
            Step::Scroll(px) => format!("scroll {px}"),
            Step::Press(k) => format!("press {k}"),
            Step::Navigate(n) => format!("navigate {}", n.path()),
        }
    }

    /// The CSS selector the step uses, if any.
    pub fn selector(&self) -> Option<&str> {
        match self {
            Step::WaitFor(s) | Step::Click(s) => Some(s),
            Step::Type(t) => Some(&t.selector),
            _ => None,
        }
    }
}
