//! `rumcheck calibrate-host`: how faithfully this machine reproduces a
//! profile. A real browser loads pages from a loopback server under each
//! profile, and the requested RTT, bandwidth and CPU slowdown are set beside
//! what the page measured.

use super::SessionSetup;
use crate::browser::{Browser, BrowserError, BrowserOptions, SessionSpec};
use crate::sample::Variant;
use crate::throttle::Profile;
use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Bytes of the download probe.
pub const DOWNLOAD_BYTES: usize = 500 * 1024;

/// Requested vs measured conditions of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Profile name.
    pub profile: String,
    /// Requested round-trip time (ms), if the profile shapes the network.
    pub rtt_ms: Option<f64>,
    /// Measured TTFB of a page the server answers at once (ms).
    pub ttfb_ms: f64,
    /// Requested downstream bandwidth (kbit/s).
    pub down_kbps: Option<f64>,
    /// Measured time of a 500 KB download on an open connection (ms).
    pub download_ms: f64,
    /// What that download should take: size / bandwidth + one RTT (ms).
    pub expected_download_ms: Option<f64>,
    /// Requested CPU slowdown.
    pub cpu_slowdown: f64,
    /// Measured slowdown of a fixed busy loop, throttled vs unthrottled in the same page.
    pub measured_cpu_slowdown: f64,
}

/// Why calibration failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// Browser trouble.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The loopback server could not start.
    #[error("cannot start the loopback calibration server: {0}")]
    Server(std::io::Error),
    /// The shaping proxy could not start.
    #[error(transparent)]
    Proxy(#[from] crate::throttle::ProxyError),
    /// The page did not report a number.
    #[error("the calibration page returned no {0}")]
    Missing(&'static str),
}

const BUSY_JS: &str = "let x = 0; const t = performance.now(); for (let i = 0; i < 6e6; i++) { x += Math.sqrt(i); } return [performance.now() - t, x];";

/// A small request first, so the timed one runs on an open connection
/// (size / bandwidth + one RTT, no connection set-up).
const DOWNLOAD_JS: &str = "const done = arguments[arguments.length - 1];
  fetch('/?warm=' + Math.random()).then(r => r.text()).then(() => {
    const t = performance.now();
    return fetch('/blob?n=' + Math.random()).then(r => r.arrayBuffer()).then(b => done([performance.now() - t, b.byteLength]));
  }).catch(e => done([-1, String(e)]));";

/// Serves `/` (an empty page, answered at once) and `/blob` (500 KB) on
/// 127.0.0.1 until the returned handle is aborted.
async fn server() -> Result<(String, tokio::task::JoinHandle<()>), CalibrateError> {
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                axum::response::Html("<!doctype html><title>calibrate</title><p>calibrate</p>")
            }),
        )
        .route(
            "/blob",
            get(|Query(_q): Query<HashMap<String, String>>| async { vec![b'x'; DOWNLOAD_BYTES] }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(CalibrateError::Server)?;
    let addr = listener.local_addr().map_err(CalibrateError::Server)?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}/"), task))
}

/// Measures every profile.
pub async fn calibrate(
    options: &BrowserOptions,
    profiles: &[Profile],
) -> Result<Vec<Calibration>, CalibrateError> {
    let browser = Browser::start(options).await?;
    let (url, server) = server().await?;
    let result = async {
        let mut out = Vec::new();
        for p in profiles {
            let m = measure(&browser, &url, Some(p)).await?;
            let network = p.network.as_ref();
            out.push(Calibration {
                profile: p.name.clone(),
                rtt_ms: network.map(|n| n.rtt_ms),
                ttfb_ms: m.ttfb,
                down_kbps: network.map(|n| n.down_kbps),
                download_ms: m.download,
                expected_download_ms: network
                    .map(|n| DOWNLOAD_BYTES as f64 * 8.0 / n.down_kbps + n.rtt_ms),
                cpu_slowdown: p.cpu_slowdown,
                measured_cpu_slowdown: m.cpu_ratio,
            });
        }
        Ok(out)
    }
    .await;
    server.abort();
    browser.shutdown().await;
    result
}

struct Measured {
    ttfb: f64,
    download: f64,
    cpu_ratio: f64,
}

async fn measure(
    browser: &Browser,
    url: &str,
    profile: Option<&Profile>,
) -> Result<Measured, CalibrateError> {
    let setup =
        profile.map(|p| SessionSetup::for_profile(p, Variant::Calibrate, None, (1280, 800)));
    let mut spec = SessionSpec {
        script_timeout: Duration::from_secs(60),
        ..SessionSpec::default()
    };
    let proxy = match setup.as_ref().and_then(|s| s.proxy.clone()) {
        Some(config) => Some(crate::throttle::proxy::start(0, config).await?),
        None => None,
    };
    if let Some(p) = &proxy {
        spec.extra_args.extend(p.chrome_args());
    }
    let session = browser.session(&spec).await?;
    let result = async {
        for (method, params) in setup.iter().flat_map(|s| s.cdp.iter()) {
            session.cdp(method, params.clone()).await?;
        }
        session.goto(url).await?;
        let ttfb = session
            .eval("const n = performance.getEntriesByType('navigation')[0]; return n.responseStart - n.activationStart;")
            .await?
            .as_f64()
            .ok_or(CalibrateError::Missing("TTFB"))?;
        // Download first at full CPU speed: a throttled renderer would add
        // its own slowness to what should be the network's.
        session.cdp("Emulation.setCPUThrottlingRate", serde_json::json!({ "rate": 1 })).await?;
        let download = session
            .client()
            .execute_async(DOWNLOAD_JS, vec![])
            .await
            .map_err(|e| BrowserError::command("downloading the probe", e))?;
        let download = download[0].as_f64().filter(|v| *v >= 0.0).ok_or(CalibrateError::Missing("download time"))?;
        // Unthrottled and throttled loops alternate in the same renderer, so
        // other load on the host slows both sides of each ratio alike; the
        // median of three ratios resists a stray scheduler hiccup.
        let rate = profile.map_or(1.0, |p| p.cpu_slowdown);
        let mut ratios = Vec::new();
        for _ in 0..3 {
            let mut times = [0.0; 2];
            for (slot, r) in [1.0, rate].into_iter().enumerate() {
                session.cdp("Emulation.setCPUThrottlingRate", serde_json::json!({ "rate": r })).await?;
                let v = session.eval(BUSY_JS).await?;
                times[slot] = v[0].as_f64().ok_or(CalibrateError::Missing("busy-loop time"))?;
            }
            ratios.push(times[1] / times[0]);
        }
        ratios.sort_by(f64::total_cmp);
        Ok(Measured { ttfb, download, cpu_ratio: ratios[1] })
    }
    .await;
    let _ = session.close().await;
    if let Some(p) = proxy {
        p.shutdown().await;
    }
    result
}

/// A table of requested vs measured values.
pub fn render(rows: &[Calibration]) -> String {
    let mut out = format!(
        "{:<20} {:>9} {:>10} {:>11} {:>14} {:>14} {:>5} {:>9}\n",
        "profile", "RTT", "TTFB", "down kbps", "500 KB expect", "500 KB took", "CPU", "CPU took"
    );
    let opt = |v: Option<f64>, unit: &str| v.map_or("–".to_string(), |v| format!("{v:.0}{unit}"));
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:>9} {:>10} {:>11} {:>14} {:>14} {:>5} {:>9}\n",
            r.profile,
            opt(r.rtt_ms, " ms"),
            format!("{:.0} ms", r.ttfb_ms),
            opt(r.down_kbps, ""),
            opt(r.expected_download_ms, " ms"),
            format!("{:.0} ms", r.download_ms),
            format!("{}x", r.cpu_slowdown),
            format!("{:.2}x", r.measured_cpu_slowdown),
        ));
    }
    out
}
