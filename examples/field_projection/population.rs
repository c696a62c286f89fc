//! A simulated field: a hidden population of users, each visiting a page
//! once in a real headless Chromium under that user's own network and CPU,
//! with web-vitals as the RUM agent.
//!
//! This is deliberately independent of the rumcheck machinery it is used to
//! test: it uses none of rumcheck's scenario, profile, throttle, proxy,
//! collector or runner code, only `rumcheck::browser::{find_browser,
//! find_chromedriver}` to locate the binaries. It spawns its own
//! chromedriver, creates its own sessions and applies each user's
//! conditions itself through chromedriver's CDP pass-through
//! (`POST /session/{id}/goog/cdp/execute`):
//!
//! - `Network.enable`, then `Network.emulateNetworkConditions` with the
//!   user's RTT as `latency` and their downlink/uplink in bytes/s;
//! - `Emulation.setCPUThrottlingRate` with the user's CPU slowdown.
//!
//! CDP's emulated latency delays requests but does not show in the
//! navigation's `responseStart` (measured: web-vitals' TTFB exceeds the
//! server-side hold by a median 6–10 ms whatever the RTT), so a visit's time
//! to first byte would miss the connection and request round trips a real
//! first visit pays. The navigation therefore asks the site to hold its HTML
//! for [`User::navigation_delay_ms`] = backend time + 2 × RTT (one round trip
//! to connect, one for the request; no TLS on the test site) via `/?be=<ms>`.
//!
//! Each visit ends the way a real one does: another tab is brought to the
//! front, so the page becomes hidden with a trusted `visibilitychange` and
//! web-vitals reports LCP and CLS. The values are web-vitals' own. The
//! browser side of a visit is in `visit.rs`.
//!
//! Up to [`FieldOptions::concurrency`] browsers exist at once, but by default
//! ([`FieldOptions::exclusive_page`]) only one at a time starts up and loads
//! its page; the others only shut down meanwhile. Two pages loading at once
//! on a 2-core machine distort each other's CPU-bound timings.

#![allow(dead_code)] // Included by several binaries, each using a part.

#[path = "visit.rs"] // Beside this file, however this file is included.
mod visit;

use visit::{Driver, agent_source, visit};

use anyhow::{Context, anyhow};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The page URL written into the RUM export (the real URL is a loopback one).
pub const FIELD_PAGE_URL: &str = "https://field.example/";
/// The device (form factor) written into the RUM export.
pub const FIELD_DEVICE: &str = "desktop";
/// The CSS viewport every visit has.
pub const VIEWPORT: (u32, u32) = (1280, 800);

/// One user's hidden attributes. Each user visits once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Index in the population (0-based).
    pub id: u32,
    /// Round-trip time to the site, ms.
    pub rtt_ms: f64,
    /// Downlink, Mbit/s (10⁶ bit/s).
    pub down_mbps: f64,
    /// Uplink, Mbit/s.
    pub up_mbps: f64,
    /// CPU slowdown relative to this machine (1 = unthrottled).
    pub cpu_slowdown: f64,
    /// The site's backend time for this user's visit, ms.
    pub backend_ms: f64,
}

impl User {
    /// How long the site holds the HTML: backend time plus two round trips
    /// (connection and request), rounded to whole ms.
    pub fn navigation_delay_ms(&self) -> u64 {
        (self.backend_ms + 2.0 * self.rtt_ms).round().max(0.0) as u64
    }
}

/// The population's distributions. Log-normal ones are given by their
/// median and the standard deviation `sigma` of the natural log, and are
/// clamped to `[min, max]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpec {
    /// RTT, ms: (median, sigma, min, max).
    pub rtt_ms: (f64, f64, f64, f64),
    /// Downlink, Mbit/s: (median, sigma, min, max).
    pub down_mbps: (f64, f64, f64, f64),
    /// Uplink as a fraction of the downlink.
    pub up_fraction: f64,
    /// CPU slowdowns and their relative weights.
    pub cpu: Vec<(f64, f64)>,
    /// Backend time, ms: (median, sigma, min, max).
    pub backend_ms: (f64, f64, f64, f64),
}

impl Default for PopulationSpec {
    /// RTT median 80 ms (p10 ≈ 35, p90 ≈ 180); downlink median 10 Mbit/s
    /// (p10 ≈ 4, p90 ≈ 25, clamped to 1.5–60); CPU 1× 40 %, 1.5× 25 %,
    /// 2× 20 %, 3× 10 %, 4× 5 %; backend median 120 ms (p10 ≈ 55,
    /// p90 ≈ 260). With the test site this puts the 300 KB stylesheet's
    /// effect at p75 near +50 % for FCP and +30 % for LCP.
    fn default() -> Self {
        PopulationSpec {
            rtt_ms: (80.0, 0.65, 10.0, 600.0),
            down_mbps: (10.0, 0.7, 1.5, 60.0),
            up_fraction: 0.3,
            cpu: vec![
                (1.0, 40.0),
                (1.5, 25.0),
                (2.0, 20.0),
                (3.0, 10.0),
                (4.0, 5.0),
            ],
            backend_ms: (120.0, 0.6, 5.0, 3000.0),
        }
    }
}

impl PopulationSpec {
    /// `n` users drawn with a seeded RNG (the same seed gives the same users).
    pub fn sample(&self, n: usize, seed: u64) -> Vec<User> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let total: f64 = self.cpu.iter().map(|(_, w)| w).sum();
        (0..n)
            .map(|i| {
                let rtt_ms = log_normal(&mut rng, self.rtt_ms);
                let down_mbps = log_normal(&mut rng, self.down_mbps);
                let mut pick = rng.random::<f64>() * total;
                let mut cpu_slowdown = self.cpu.last().map_or(1.0, |c| c.0);
                for &(rate, w) in &self.cpu {
                    if pick < w {
                        cpu_slowdown = rate;
                        break;
                    }
                    pick -= w;
                }
                let backend_ms = log_normal(&mut rng, self.backend_ms);
                User {
                    id: i as u32,
                    rtt_ms: rtt_ms.round(),
                    down_mbps,
                    up_mbps: down_mbps * self.up_fraction,
                    cpu_slowdown,
                    backend_ms: backend_ms.round(),
                }
            })
            .collect()
    }
}

/// A clamped log-normal draw (Box–Muller).
fn log_normal(
    rng: &mut Xoshiro256PlusPlus,
    (median, sigma, min, max): (f64, f64, f64, f64),
) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (median * (sigma * z).exp()).clamp(min, max)
}

/// How to run visits.
#[derive(Debug, Clone)]
pub struct FieldOptions {
    /// Browsers alive at once (see also `exclusive_page`).
    pub concurrency: usize,
    /// chromedriver to spawn (default: on PATH).
    pub chromedriver: Option<PathBuf>,
    /// Browser binary (default: Debian's chromium, then PATH).
    pub browser: Option<PathBuf>,
    /// web-vitals' IIFE build (defines the global `webVitals`).
    pub web_vitals: PathBuf,
    /// Longest one attempt may take, browser start to read-back.
    pub visit_timeout: Duration,
    /// Pause after the hero image loaded, before the visit ends.
    pub settle: Duration,
    /// Print one line per visit to stderr.
    pub progress: bool,
    /// Let only one browser at a time start, load its page and read it
    /// back; the others may meanwhile shut down. Without this, two visits at
    /// once on a small machine slow each other's CPU work unevenly (measured
    /// on 2 cores, 6 users: the page's CPU work per unit of slowdown spread
    /// 77–240 ms, against 80–105 ms one at a time).
    pub exclusive_page: bool,
}

impl Default for FieldOptions {
    fn default() -> Self {
        FieldOptions {
            concurrency: 2,
            chromedriver: None,
            browser: None,
            web_vitals: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("node_modules/web-vitals/dist/web-vitals.iife.js"),
            visit_timeout: Duration::from_secs(90),
            settle: Duration::from_millis(300),
            progress: false,
            exclusive_page: true,
        }
    }
}

/// What web-vitals reported for one visit (ms, except CLS).
#[derive(Debug, Clone, PartialEq)]
pub struct Vitals {
    /// Time to first byte.
    pub ttfb: f64,
    /// First contentful paint.
    pub fcp: f64,
    /// Largest contentful paint.
    pub lcp: f64,
    /// Cumulative layout shift.
    pub cls: f64,
    /// Tag name of the LCP element (`IMG` when the hero won), if known.
    pub lcp_element: String,
    /// How long the page's CPU work took (shows the CPU throttling).
    pub work_ms: Option<f64>,
}

/// One user's visit: web-vitals' values, or why it failed.
#[derive(Debug, Clone)]
pub struct Visit {
    /// Who visited.
    pub user: User,
    /// When the (last) attempt started.
    pub started: OffsetDateTime,
    /// Attempts made (1, or 2 after a retry).
    pub attempts: u32,
    /// Wall time of all attempts.
    pub wall: Duration,
    /// The values, or the reason of the last failure.
    pub outcome: Result<Vitals, String>,
}

impl Visit {
    /// The values of a visit that succeeded.
    pub fn vitals(&self) -> Option<&Vitals> {
        self.outcome.as_ref().ok()
    }
}

/// One field value of each successful visit, e.g. `values(&v, |x| x.lcp)`.
pub fn values(visits: &[Visit], f: impl Fn(&Vitals) -> f64) -> Vec<f64> {
    visits.iter().filter_map(Visit::vitals).map(f).collect()
}

/// The `q` quantile (0–1) by linear interpolation between order statistics
/// (Hyndman–Fan type 7, as numpy's default); `None` for no values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Writes the successful visits as a wide RUM CSV export
/// (`timestamp,page_url,device,session_id,ttfb,fcp,lcp,cls`; one session per
/// visit, `session_id` = `{session_prefix}-{user id}`) that
/// `rumcheck baseline import FILE --format csv` reads without `--map`.
/// Failed visits are left out, as a real RUM agent never beacons them.
/// Returns the number of rows written.
pub fn write_csv(path: &Path, visits: &[Visit], session_prefix: &str) -> std::io::Result<usize> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "timestamp,page_url,device,session_id,ttfb,fcp,lcp,cls")?;
    let mut rows = 0;
    for visit in visits {
        let Some(v) = visit.vitals() else { continue };
        let ts = visit
            .started
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(std::io::Error::other)?;
        writeln!(
            out,
            "{ts},{FIELD_PAGE_URL},{FIELD_DEVICE},{session_prefix}-{:05},{:.1},{:.1},{:.1},{:.4}",
            visit.user.id, v.ttfb, v.fcp, v.lcp, v.cls
        )?;
        rows += 1;
    }
    out.flush()?;
    Ok(rows)
}

/// Everything the workers share.
struct Shared {
    endpoint: String,
    binary: PathBuf,
    agent: String,
    base_url: String,
    users: Vec<User>,
    opts: FieldOptions,
    next: AtomicUsize,
    /// Held from browser start to read-back (see [`FieldOptions::exclusive_page`]).
    page: tokio::sync::Mutex<()>,
    done: Mutex<Vec<Option<Visit>>>,
}

/// Has every user visit `base_url` once (at most `opts.concurrency`
/// browsers at once), retrying a failed visit once. The visits come back in
/// the order of `users`; failures are kept with their reason.
pub async fn run_population(
    base_url: &str,
    users: &[User],
    opts: &FieldOptions,
) -> anyhow::Result<Vec<Visit>> {
    let binary = rumcheck::browser::find_browser(opts.browser.as_deref())?;
    let chromedriver = rumcheck::browser::find_chromedriver(opts.chromedriver.as_deref())?;
    let agent = agent_source(&opts.web_vitals)?;
    let driver = Driver::spawn(&chromedriver).await?;
    let shared = Arc::new(Shared {
        endpoint: driver.url(),
        binary,
        agent,
        base_url: base_url.trim_end_matches('/').to_string(),
        users: users.to_vec(),
        opts: opts.clone(),
        next: AtomicUsize::new(0),
        page: tokio::sync::Mutex::new(()),
        done: Mutex::new(vec![None; users.len()]),
    });
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency.max(1) {
        let shared = Arc::clone(&shared);
        workers.spawn(async move { worker(&shared).await });
    }
    while let Some(r) = workers.join_next().await {
        r.context("a visit worker panicked")?;
    }
    drop(driver);
    let done = std::mem::take(&mut *shared.done.lock().expect("no worker panicked"));
    done.into_iter()
        .map(|v| v.ok_or_else(|| anyhow!("a visit was never run")))
        .collect()
}

async fn worker(shared: &Shared) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(user) = shared.users.get(i) else {
            return;
        };
        let t = Instant::now();
        let mut attempts = 0;
        let (started, outcome) = loop {
            attempts += 1;
            let started = OffsetDateTime::now_utc();
            let outcome = tokio::time::timeout(shared.opts.visit_timeout, visit(shared, user))
                .await
                .unwrap_or_else(|_| Err(anyhow!("timed out after {:?}", shared.opts.visit_timeout)))
                .map_err(|e| format!("{e:#}"));
            if outcome.is_ok() || attempts == 2 {
                break (started, outcome);
            }
        };
        let v = Visit {
            user: user.clone(),
            started,
            attempts,
            wall: t.elapsed(),
            outcome,
        };
        if shared.opts.progress {
            match &v.outcome {
                Ok(x) => eprintln!(
                    "user {:>4}: rtt {:>4} ms, {:>5.1} Mbit/s, cpu {}x, be {:>4} ms -> ttfb {:>6.0} fcp {:>6.0} lcp {:>6.0} ({}; work {:.0} ms) in {:.1} s",
                    user.id,
                    user.rtt_ms,
                    user.down_mbps,
                    user.cpu_slowdown,
                    user.backend_ms,
                    x.ttfb,
                    x.fcp,
                    x.lcp,
                    x.lcp_element,
                    x.work_ms.unwrap_or(f64::NAN),
                    v.wall.as_secs_f64()
                ),
                Err(e) => eprintln!("user {:>4}: FAILED after {attempts} attempts: {e}", user.id),
            }
        }
        shared.done.lock().expect("no worker panicked")[i] = Some(v);
    }
}
