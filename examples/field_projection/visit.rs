//! One visit of the simulated field: a fresh headless Chromium from our own
//! chromedriver, the user's conditions applied through chromedriver's CDP
//! pass-through (`POST /session/{id}/goog/cdp/execute`), web-vitals injected
//! before any page script, the page loaded, the visit ended by hiding the
//! page, and web-vitals' values read back.

use super::{Shared, User, VIEWPORT, Vitals};
use anyhow::{Context, anyhow, bail};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The web-vitals IIFE followed by a registration that keeps each metric's
/// final value in `window.__wv` (`ttfb`, `fcp`, `lcp`, `cls`, plus the LCP
/// element's tag name as `lcp_element`).
pub(super) fn agent_source(iife: &Path) -> anyhow::Result<String> {
    let lib = std::fs::read_to_string(iife).with_context(|| {
        format!(
            "reading web-vitals from {} (run `npm ci` in the repository)",
            iife.display()
        )
    })?;
    if !lib.contains("webVitals") {
        bail!("{} is not web-vitals' IIFE build", iife.display());
    }
    Ok(format!(
        r#"{lib}
;(function () {{
  var wv = window.__wv = {{}};
  function put(m) {{
    wv[m.name.toLowerCase()] = m.value;
    if (m.name === "LCP") {{
      var e = m.entries[m.entries.length - 1];
      wv.lcp_element = e && e.element ? e.element.tagName : "";
    }}
  }}
  webVitals.onTTFB(put);
  webVitals.onFCP(put);
  webVitals.onLCP(put);
  webVitals.onCLS(put);
}})();
"#
    ))
}

/// Waits for the hero image (or its failure) and the page's load event.
const HERO_JS: &str = "const s = window.__site; \
return document.readyState === 'complete' && s && (s.hero_loaded !== null || s.hero_error) \
? { loaded: s.hero_loaded !== null, work_ms: s.work_ms } : null;";

/// web-vitals' values once the page is hidden, else null.
const READ_JS: &str =
    "return document.visibilityState === 'hidden' && window.__wv ? window.__wv : null;";

/// One attempt at one user's visit in a fresh browser.
pub(super) async fn visit(shared: &Shared, user: &User) -> anyhow::Result<Vitals> {
    let profile = tempfile::Builder::new()
        .prefix("field-sim-profile-")
        .tempdir()
        .context("creating a browser profile")?;
    let exclusive = if shared.opts.exclusive_page {
        Some(shared.page.lock().await)
    } else {
        None
    };
    let client = new_session(shared, profile.path()).await?;
    let result = drive(&client, shared, user).await;
    drop(exclusive);
    let closed = client.close().await;
    // The browser's helpers may still write to the profile for a moment.
    let path = profile.keep();
    for _ in 0..20 {
        if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let vitals = result?;
    closed.context("closing the session")?;
    Ok(vitals)
}

async fn new_session(shared: &Shared, profile: &Path) -> anyhow::Result<Client> {
    let args = [
        "--headless=new".to_string(),
        "--disable-gpu".into(),
        "--no-sandbox".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-quic".into(),
        "--mute-audio".into(),
        format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1),
        format!("--user-data-dir={}", profile.display()),
    ];
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "script": 30_000, "pageLoad": 60_000, "implicit": 0 },
        "goog:chromeOptions": { "binary": shared.binary.display().to_string(), "args": args },
    });
    let Value::Object(caps) = caps else {
        unreachable!("an object literal")
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&shared.endpoint)
        .await
        .context("starting a browser session")
}

async fn drive(client: &Client, shared: &Shared, user: &User) -> anyhow::Result<Vitals> {
    let (w, h) = VIEWPORT;
    cdp(
        client,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": w, "height": h, "deviceScaleFactor": 1, "mobile": false }),
    )
    .await?;
    // Warm-up, so starting the browser's first page is not part of the visit.
    client
        .goto("about:blank")
        .await
        .context("opening about:blank")?;
    cdp(client, "Network.enable", json!({})).await?;
    cdp(
        client,
        "Network.emulateNetworkConditions",
        json!({
            "offline": false,
            "latency": user.rtt_ms,
            "downloadThroughput": user.down_mbps * 1e6 / 8.0,
            "uploadThroughput": user.up_mbps * 1e6 / 8.0,
        }),
    )
    .await?;
    cdp(
        client,
        "Emulation.setCPUThrottlingRate",
        json!({ "rate": user.cpu_slowdown }),
    )
    .await?;
    cdp(
        client,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": shared.agent }),
    )
    .await?;

    let url = format!("{}/?be={}", shared.base_url, user.navigation_delay_ms());
    client
        .goto(&url)
        .await
        .with_context(|| format!("loading {url}"))?;
    let hero = poll(client, HERO_JS, Duration::from_secs(60))
        .await?
        .ok_or_else(|| anyhow!("the hero image did not load within 60 s"))?;
    if hero["loaded"] != Value::Bool(true) {
        bail!("the hero image failed to load");
    }
    tokio::time::sleep(shared.opts.settle).await;

    // End the visit: another tab to the front hides the page (trusted event).
    let tab = cdp(
        client,
        "Target.createTarget",
        json!({ "url": "about:blank" }),
    )
    .await?;
    if let Some(id) = tab["targetId"].as_str() {
        cdp(client, "Target.activateTarget", json!({ "targetId": id })).await?;
    }
    let wv = poll(client, READ_JS, Duration::from_secs(5))
        .await?
        .ok_or_else(|| anyhow!("the page never became hidden"))?;
    let get = |k: &str| {
        wv[k]
            .as_f64()
            .ok_or_else(|| anyhow!("web-vitals reported no {k}: {wv}"))
    };
    Ok(Vitals {
        ttfb: get("ttfb")?,
        fcp: get("fcp")?,
        lcp: get("lcp")?,
        cls: get("cls")?,
        lcp_element: wv["lcp_element"].as_str().unwrap_or("").to_string(),
        work_ms: hero["work_ms"].as_f64(),
    })
}

/// Runs `script` every 25 ms until it returns non-null; `None` on timeout.
async fn poll(client: &Client, script: &str, limit: Duration) -> anyhow::Result<Option<Value>> {
    let start = Instant::now();
    loop {
        let v = client
            .execute(script, vec![])
            .await
            .context("running a script in the page")?;
        if !v.is_null() {
            return Ok(Some(v));
        }
        if start.elapsed() > limit {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Sends one CDP command through chromedriver's pass-through.
async fn cdp(client: &Client, method: &str, params: Value) -> anyhow::Result<Value> {
    client
        .issue_cmd(Cdp {
            method: method.to_string(),
            params,
        })
        .await
        .with_context(|| format!("CDP {method}"))
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    method: String,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Our chromedriver on a free loopback port; killed when dropped.
pub(super) struct Driver {
    _child: Child,
    port: u16,
}

impl Driver {
    pub(super) async fn spawn(path: &Path) -> anyhow::Result<Driver> {
        let mut child = Command::new(path)
            .args(["--port=0", "--allowed-ips=127.0.0.1", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", path.display()))?;
        let stdout = child.stdout.take().context("chromedriver has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        // "ChromeDriver was started successfully on port 36789."
        let port = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return digits.parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .context("chromedriver reported no port within 20 s")?
        .context("chromedriver exited without reporting a port")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Driver {
            _child: child,
            port,
        })
    }

    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
