//! WebDriver sessions: spawning chromedriver on a free loopback port with a
//! fresh profile per session, or attaching to any W3C endpoint (Selenium
//! Grid); the CDP pass-through; always closing sessions.
//!
//! This module drives browsers and reports what happened. It never decides
//! whether a result is good or bad.

mod driver;
mod error;

pub use driver::{browser_version, find_browser, find_chromedriver, running_as_root};
pub use error::BrowserError;

use driver::ChromeDriver;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// Flags that keep Chromium off the network except for the pages we load
/// (this machine, and many CI runners, refuse other connections).
pub const QUIET_FLAGS: [&str; 5] = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
];

/// How to get browsers.
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Attach to this WebDriver URL instead of spawning chromedriver.
    pub webdriver: Option<url::Url>,
    /// chromedriver to spawn (default: on PATH).
    pub chromedriver: Option<PathBuf>,
    /// Browser binary (default: Debian's chromium, then PATH).
    pub browser: Option<PathBuf>,
}

/// Per-session settings.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    /// CSS viewport the page should see (`innerWidth` × `innerHeight`).
    pub viewport: (u32, u32),
    /// Extra browser arguments (e.g. the shaping proxy).
    pub extra_args: Vec<String>,
    /// Page-load timeout.
    pub page_load_timeout: Duration,
    /// Script timeout.
    pub script_timeout: Duration,
}

impl Default for SessionSpec {
    fn default() -> Self {
        SessionSpec {
            viewport: (1280, 800),
            extra_args: Vec::new(),
            page_load_timeout: Duration::from_secs(30),
            script_timeout: Duration::from_secs(10),
        }
    }
}

/// A source of browser sessions: our own chromedriver or a remote endpoint.
pub struct Browser {
    driver: Option<ChromeDriver>,
    endpoint: String,
    binary: Option<PathBuf>,
    version: std::sync::OnceLock<String>,
}

impl Browser {
    /// Finds the binaries and spawns chromedriver, or checks the remote URL.
    pub async fn start(opts: &BrowserOptions) -> Result<Browser, BrowserError> {
        if let Some(url) = &opts.webdriver {
            // A remote browser: we know neither its binary nor its version yet.
            let binary = opts.browser.clone();
            return Ok(Browser {
                driver: None,
                endpoint: url.as_str().trim_end_matches('/').to_string(),
                binary,
                version: std::sync::OnceLock::new(),
            });
        }
        let binary = find_browser(opts.browser.as_deref())?;
        let chromedriver = find_chromedriver(opts.chromedriver.as_deref())?;
        let version = std::sync::OnceLock::new();
        if let Some(v) = browser_version(&binary) {
            let _ = version.set(v);
        }
        let driver = ChromeDriver::spawn(&chromedriver).await?;
        Ok(Browser {
            endpoint: driver.url(),
            driver: Some(driver),
            binary: Some(binary),
            version,
        })
    }

    /// The browser version string (`Chromium 156.0.8078.73`), once known.
    pub fn version(&self) -> &str {
        self.version.get().map_or("", String::as_str)
    }

    /// The WebDriver endpoint sessions are created at.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates a fresh session: new temporary profile (cold cache), headless,
    /// quiet network flags, the requested viewport, and a warm-up navigation
    /// to about:blank so the browser's first-navigation cost (~0.5 s) does not
    /// land in the measured visit.
    pub async fn session(&self, spec: &SessionSpec) -> Result<Session, BrowserError> {
        let local = self.driver.is_some();
        let profile = if local {
            Some(
                tempfile::Builder::new()
                    .prefix("rumcheck-profile-")
                    .tempdir()
                    .map_err(BrowserError::Profile)?,
            )
        } else {
            None
        };
        let mut args: Vec<String> = vec![
            "--headless".into(),
            "--disable-gpu".into(),
            "--mute-audio".into(),
        ];
        args.extend(QUIET_FLAGS.iter().map(|s| s.to_string()));
        if local && running_as_root() {
            args.push("--no-sandbox".into());
        }
        if let Some(dir) = &profile {
            args.push(format!("--user-data-dir={}", dir.path().display()));
        }
        // The window only bounds the viewport; the device-metrics override below sets it exactly.
        args.push(format!(
            "--window-size={},{}",
            spec.viewport.0,
            spec.viewport.1 + 200
        ));
        args.extend(spec.extra_args.iter().cloned());

        let mut chrome_options = json!({ "args": args });
        if let Some(bin) = &self.binary {
            chrome_options["binary"] = json!(bin.display().to_string());
        }
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            // In the capabilities rather than a later command: one round trip less per sample.
            "timeouts": {
                "script": spec.script_timeout.as_millis() as u64,
                "pageLoad": spec.page_load_timeout.as_millis() as u64,
                "implicit": 0,
            },
            "goog:chromeOptions": chrome_options,
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => unreachable!("capabilities are an object literal"),
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.endpoint)
            .await
            .map_err(|e| BrowserError::NewSession {
                endpoint: self.endpoint.clone(),
                reason: e.to_string(),
            })?;
        let session = Session { client, profile };
        if let Err(e) = session.configure(spec).await {
            // Close it properly (browser gone, profile deleted) before failing.
            let _ = session.close().await;
            return Err(e);
        }
        if self.version.get().is_none() {
            if let Some(v) = session.user_agent_version().await {
                let _ = self.version.set(v);
            }
        }
        Ok(session)
    }

    /// Stops our chromedriver (by its PID). Sessions should be closed first.
    pub async fn shutdown(mut self) {
        if let Some(driver) = self.driver.take() {
            driver.stop().await;
        }
    }
}

/// Deletes a closed session's profile once the browser's processes have
/// exited (`pids`, taken before closing). Chromium's helpers outlive the
/// browser by a moment, and its network service writes its state and cache
/// index into the profile as it exits, which would leave a half-deleted
/// directory behind.
async fn remove_profile(profile: tempfile::TempDir, pids: Vec<u32>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| running(p)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let path = profile.keep();
    for _ in 0..3 {
        if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The state letter and parent of process `pid`, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (command) S ppid …": the command may hold spaces and parentheses.
    let mut rest = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.next()?.parse().ok()?))
}

/// Whether `pid` still runs (an exited process waiting to be reaped does not).
fn running(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _)| state != 'Z' && state != 'X')
}

/// The processes of the browser using profile `dir` and all their
/// descendants (Linux; elsewhere none, and the profile is deleted at once).
fn browser_processes(dir: &std::path::Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = dir.as_os_str().as_encoded_bytes();
    let pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let mut found: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|cmd| cmd.windows(needle.len()).any(|w| w == needle))
        })
        .collect();
    let parents: Vec<(u32, u32)> = pids
        .iter()
        .filter_map(|&p| Some((p, proc_stat(p)?.1)))
        .collect();
    // Children of found processes, until none is new.
    loop {
        let more: Vec<u32> = parents
            .iter()
            .filter(|(p, parent)| found.contains(parent) && !found.contains(p))
            .map(|(p, _)| *p)
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// One WebDriver session with its own temporary profile (deleted on drop).
/// Dropping the last handle also ends the WebDriver session.
pub struct Session {
    client: Client,
    profile: Option<tempfile::TempDir>,
}

impl Session {
    /// The fantoccini client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver's
    /// `goog/cdp/execute` pass-through and returns its result.
    pub async fn cdp(&self, method: &str, params: Value) -> Result<Value, BrowserError> {
        let cmd = CdpCommand {
            method: method.to_string(),
            params,
        };
        self.client
            .issue_cmd(cmd)
            .await
            .map_err(|e| BrowserError::command(format!("CDP {method}"), e))
    }

    /// Runs a script in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Result<Value, BrowserError> {
        self.client
            .execute(script, vec![])
            .await
            .map_err(|e| BrowserError::command("running a script in the page", e))
    }

    /// Navigates and waits for the load event (WebDriver's "normal" strategy).
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.client
            .goto(url)
            .await
            .map_err(|e| BrowserError::command(format!("loading {url}"), e))
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, BrowserError> {
        self.client
            .screenshot()
            .await
            .map_err(|e| BrowserError::command("taking a screenshot", e))
    }

    /// Ends the session (and with it the browser), then deletes its profile.
    pub async fn close(self) -> Result<(), BrowserError> {
        let pids = self
            .profile
            .as_ref()
            .map(|p| browser_processes(p.path()))
            .unwrap_or_default();
        let closed = self
            .client
            .close()
            .await
            .map_err(|e| BrowserError::command("closing the browser session", e));
        if let Some(profile) = self.profile {
            remove_profile(profile, pids).await;
        }
        closed
    }

    async fn configure(&self, spec: &SessionSpec) -> Result<(), BrowserError> {
        self.set_viewport(spec.viewport.0, spec.viewport.1, 1.0, false)
            .await?;
        self.goto("about:blank").await
    }

    /// Sets the CSS viewport exactly (ChromeDriver's window size leaves the
    /// viewport smaller than the window).
    pub async fn set_viewport(
        &self,
        width: u32,
        height: u32,
        dpr: f64,
        mobile: bool,
    ) -> Result<(), BrowserError> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": dpr, "mobile": mobile }),
        )
        .await
        .map(|_| ())
    }

    async fn user_agent_version(&self) -> Option<String> {
        let v = self.cdp("Browser.getVersion", json!({})).await.ok()?;
        v.get("product")
            .and_then(Value::as_str)
            .map(|s| s.replace('/', " "))
    }
}

/// chromedriver's vendor command `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct CdpCommand {
    method: String,
    params: Value,
}

impl WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
