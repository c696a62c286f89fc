//! WebDriver sessions: spawning chromedriver on a free loopback port with a
//! fresh profile per session, or attaching to any W3C endpoint (Selenium
//! Grid); the CDP pass-through; always closing sessions.
//!
//! This module drives browsers and reports what happened. It never decides
//! whether a result is good or bad.

mod context;
mod devtools;
mod driver;
mod error;
mod node;
mod procs;

pub use driver::{browser_version, find_browser, find_chromedriver, running_as_root};
pub use error::BrowserError;
pub use node::local_host_name;

use driver::ChromeDriver;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use procs::{browser_processes, kill_all, running};
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
    /// The user's own browser arguments, added to every session (e.g.
    /// `--no-sandbox` for a grid node that runs as root; rumcheck adds it
    /// by itself only to the browsers it starts).
    pub browser_args: Vec<String>,
    /// Where the shaping proxies listen (`--proxy-listen`; default
    /// 127.0.0.1). Beyond loopback, browsers on other machines can use them.
    pub proxy_listen: Option<std::net::IpAddr>,
    /// The name or address browsers use to reach the proxies
    /// (`--proxy-advertise`; default the listen address).
    pub proxy_advertise: Option<String>,
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
    /// Our chromedriver (None for a remote endpoint); replaced when it dies.
    driver: tokio::sync::Mutex<Option<ChromeDriver>>,
    /// The chromedriver binary, to start a new one.
    chromedriver: Option<PathBuf>,
    endpoint: std::sync::RwLock<String>,
    binary: Option<PathBuf>,
    version: std::sync::OnceLock<String>,
    restarts: std::sync::atomic::AtomicU32,
    /// [`BrowserOptions::browser_args`].
    user_args: Vec<String>,
}

impl Browser {
    /// Finds the binaries and spawns chromedriver, or checks the remote URL.
    pub async fn start(opts: &BrowserOptions) -> Result<Browser, BrowserError> {
        if let Some(url) = &opts.webdriver {
            // A remote browser: we know neither its binary nor its version yet.
            let binary = opts.browser.clone();
            return Ok(Browser {
                driver: tokio::sync::Mutex::new(None),
                chromedriver: None,
                endpoint: std::sync::RwLock::new(url.as_str().trim_end_matches('/').to_string()),
                binary,
                version: std::sync::OnceLock::new(),
                restarts: Default::default(),
                user_args: opts.browser_args.clone(),
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
            endpoint: std::sync::RwLock::new(driver.url()),
            driver: tokio::sync::Mutex::new(Some(driver)),
            chromedriver: Some(chromedriver),
            binary: Some(binary),
            version,
            restarts: Default::default(),
            user_args: opts.browser_args.clone(),
        })
    }

    /// Whether our chromedriver is still running (always true for a remote
    /// endpoint, which rumcheck cannot watch).
    pub async fn driver_alive(&self) -> bool {
        match self.driver.lock().await.as_mut() {
            Some(driver) => driver.alive().await,
            None => true,
        }
    }

    /// Replaces our chromedriver when it has died (killed, crashed): the
    /// dead one's process group is killed (the browsers it started are
    /// orphans) and a new one is spawned. Returns true when it restarted.
    pub async fn revive(&self) -> Result<bool, BrowserError> {
        let mut driver = self.driver.lock().await;
        let Some(current) = driver.as_mut() else {
            return Ok(false);
        };
        if current.alive().await {
            return Ok(false);
        }
        if let Some(dead) = driver.take() {
            dead.stop().await;
        }
        let path = self.chromedriver.clone().unwrap_or_default();
        let fresh = ChromeDriver::spawn(&path).await?;
        if let Ok(mut endpoint) = self.endpoint.write() {
            *endpoint = fresh.url();
        }
        *driver = Some(fresh);
        self.restarts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(true)
    }

    /// How many times a dead chromedriver was replaced.
    pub fn restarts(&self) -> u32 {
        self.restarts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The browser version string (`Chromium 156.0.8078.73`), once known.
    pub fn version(&self) -> &str {
        self.version.get().map_or("", String::as_str)
    }

    /// The WebDriver endpoint sessions are created at (it changes when a
    /// dead chromedriver is replaced).
    pub fn endpoint(&self) -> String {
        self.endpoint.read().map(|e| e.clone()).unwrap_or_default()
    }

    /// Creates a fresh session: new temporary profile (cold cache), headless,
    /// quiet network flags, the requested viewport, and a warm-up navigation
    /// to about:blank so the browser's first-navigation cost (~0.5 s) does not
    /// land in the measured visit.
    pub async fn session(&self, spec: &SessionSpec) -> Result<Session, BrowserError> {
        let local = self.chromedriver.is_some();
        let endpoint = self.endpoint();
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
        args.extend(self.user_args.iter().cloned());

        let mut chrome_options = json!({
            "args": args,
            // The first tab stays blank. Left to itself, Chromium navigates it
            // to its new tab page about a second after start, and chromedriver
            // holds every command until that load ends: ~1.2 s per session,
            // and past a short page-load timeout on a busy machine.
            // (4 = open `startup_urls`; chromedriver passes no URL argument.)
            "prefs": {
                "session.restore_on_startup": 4,
                "session.startup_urls": ["about:blank"],
            },
        });
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
            .connect(&endpoint)
            .await
            .map_err(|e| BrowserError::NewSession {
                endpoint: endpoint.clone(),
                reason: e.to_string(),
            })?;
        let node = if local {
            node::local_host_name()
        } else {
            let id = client.session_id().await.ok().flatten().unwrap_or_default();
            node::remote_node(&endpoint, &id).await
        };
        let session = Session {
            client,
            profile,
            node,
            devtools: tokio::sync::Mutex::new(None),
            context: std::sync::Mutex::new(None),
            cover: std::sync::Mutex::new(None),
        };
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
    pub async fn shutdown(self) {
        if let Some(driver) = self.driver.into_inner() {
            driver.stop().await;
        }
    }
}

/// How long closing a session may take before its browser is killed.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);

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

/// One WebDriver session with its own temporary profile (deleted on drop).
/// Dropping the last handle also ends the WebDriver session.
pub struct Session {
    client: Client,
    profile: Option<tempfile::TempDir>,
    node: String,
    /// The browser-level DevTools connection, opened with the first context.
    devtools: tokio::sync::Mutex<Option<devtools::DevTools>>,
    /// The browser context of the visit in progress (`isolation = "context"`).
    context: std::sync::Mutex<Option<context::OpenContext>>,
    /// The blank tab brought to the front to hide the page.
    cover: std::sync::Mutex<Option<String>>,
}

impl Session {
    /// The machine the session runs on: a Selenium Grid node's `host:port`,
    /// a remote endpoint's `host:port`, or this host's name.
    pub fn node(&self) -> &str {
        &self.node
    }

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
    /// The URL must be absolute: fantoccini's own `goto` first asks for
    /// the current URL to resolve relative ones, a round trip (~15 ms) that
    /// would land in every measured page time.
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.client
            .issue_cmd(Navigate {
                url: url.to_string(),
            })
            .await
            .map(|_| ())
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
    /// A session that chromedriver cannot close within 10 s (its renderer
    /// is busy, chromedriver is gone) has its browser killed instead.
    pub async fn close(self) -> Result<(), BrowserError> {
        let pids = self
            .profile
            .as_ref()
            .map(|p| browser_processes(p.path()))
            .unwrap_or_default();
        let closed = match tokio::time::timeout(CLOSE_WITHIN, self.client.close()).await {
            Ok(closed) => {
                closed.map_err(|e| BrowserError::command("closing the browser session", e))
            }
            Err(_) => Err(BrowserError::CloseTimeout {
                seconds: CLOSE_WITHIN.as_secs(),
            }),
        };
        if closed.is_err() {
            kill_all(&pids);
        }
        if let Some(profile) = self.profile {
            remove_profile(profile, pids).await;
        }
        closed
    }

    /// Kills this session's browser (every process using its profile, and
    /// their children) without asking chromedriver, which may be waiting on
    /// a busy renderer. Returns how many processes were killed; 0 for a
    /// remote session, whose processes rumcheck cannot see.
    pub fn kill_browser(&self) -> usize {
        let pids = self
            .profile
            .as_ref()
            .map(|p| browser_processes(p.path()))
            .unwrap_or_default();
        kill_all(&pids);
        pids.len()
    }

    /// Whether this session's browser still runs (true for a remote
    /// session, which rumcheck cannot see).
    pub fn browser_alive(&self) -> bool {
        match &self.profile {
            Some(p) => browser_processes(p.path()).iter().any(|&pid| running(pid)),
            None => true,
        }
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

/// WebDriver's Navigate To, `POST /session/{id}/url`, as sent.
#[derive(Debug)]
struct Navigate {
    url: String,
}

impl WebDriverCompatibleCommand for Navigate {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/url", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "url": self.url });
        (http::Method::POST, Some(body.to_string()))
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
