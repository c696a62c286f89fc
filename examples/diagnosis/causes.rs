//! Pages with planted causes, for the proof that a diagnosis names the
//! cause of a regression (tests/it/diagnosis.rs, examples/diagnosis).
//!
//! `GET /page?plant=P` serves one page: a line of text (the first paint),
//! then a large hero image (`/hero.png`, answered after 50 ms, the LCP
//! element). The navigation sends `Server-Timing: db;dur=…, render;dur=3`.
//! Each [`Plant`] changes one thing:
//!
//! - `db`: the server's db phase takes 200 ms longer (TTFB and `server.db`);
//! - `hero`: the hero is inserted by a script 300 ms late (its resource
//!   load delay);
//! - `css`: a new render-blocking stylesheet `/promo.css`, answered after
//!   300 ms, holds the first paint (element render delay, a new
//!   render-blocking request);
//! - `task`: a 350 ms long task right after the first paint delays the
//!   hero's paint (element render delay, long tasks, TBT).
//!
//! Every response is `Cache-Control: no-store`, so every visit loads everything.

#![allow(dead_code)] // Included by the test and the example, each using a part.

use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rumcheck::browser::Session;
use rumcheck::collect;
use rumcheck::diagnose::{Diagnosis, Row, diagnose};
use rumcheck::{Metric, Sample};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// What a page's candidate build changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plant {
    /// Nothing: the reference build.
    None,
    /// A slow db phase.
    Db,
    /// A late hero image.
    Hero,
    /// A new render-blocking stylesheet.
    Css,
    /// A long task before the LCP paint.
    Task,
}

impl Plant {
    /// Every planted cause.
    pub const CAUSES: [Plant; 4] = [Plant::Db, Plant::Hero, Plant::Css, Plant::Task];

    /// The name in the query string.
    pub fn name(self) -> &'static str {
        match self {
            Plant::None => "none",
            Plant::Db => "db",
            Plant::Hero => "hero",
            Plant::Css => "css",
            Plant::Task => "task",
        }
    }

    /// The row a developer would look at for this cause.
    pub fn metric(self) -> Metric {
        match self {
            Plant::Db => Metric::Ttfb,
            _ => Metric::Lcp,
        }
    }

    /// Whether a diagnosis sentence names this cause.
    pub fn named_in(self, cause: &str) -> bool {
        match self {
            Plant::None => false,
            Plant::Db => cause.contains("server.db"),
            Plant::Hero => cause.contains("resource load delay"),
            Plant::Css => cause.contains("render-blocking request /promo.css"),
            Plant::Task => cause.contains("long tasks") || cause.contains("total blocking time"),
        }
    }
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    plant: String,
}

const DB_MS: u64 = 10;
const SLOW_DB_MS: u64 = 210;
const HERO_MS: u64 = 50;

async fn page(Query(q): Query<PageQuery>) -> Response {
    let db = if q.plant == "db" { SLOW_DB_MS } else { DB_MS };
    tokio::time::sleep(Duration::from_millis(db)).await;
    let css = if q.plant == "css" {
        r#"<link rel="stylesheet" href="/promo.css">"#
    } else {
        ""
    };
    let hero = if q.plant == "hero" {
        r#"<img id="hero" alt="">
<script>setTimeout(() => { document.getElementById('hero').src = '/hero.png'; }, 300);</script>"#
    } else {
        r#"<img id="hero" src="/hero.png" alt="">"#
    };
    let task = if q.plant == "task" {
        "requestAnimationFrame(() => setTimeout(() => { const end = performance.now() + 350; while (performance.now() < end) {} }, 0));"
    } else {
        ""
    };
    let html = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>cause</title>{css}
<style>body {{ margin: 0; font: 16px sans-serif }} #hero {{ display: block; width: 800px; height: 450px }}</style></head>
<body><p>A page with a planted cause.</p>{hero}
<script>{task}
const hero = document.getElementById('hero');
// Done once the hero has painted (it may start after the load event) and the page is idle.
const heroLoaded = new Promise((ok) => {{
  if (hero.getAttribute('src') && hero.complete) ok(); else hero.addEventListener('load', ok, {{ once: true }});
}});
addEventListener('load', () => heroLoaded.then(() => setTimeout(() => requestAnimationFrame(() =>
  requestAnimationFrame(() => {{ window.__done = true; }})), 200)));</script>
</body></html>"#
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CACHE_CONTROL, "no-store".into()),
            (
                header::HeaderName::from_static("server-timing"),
                format!("db;dur={db};desc=\"database\", render;dur=3"),
            ),
        ],
        html,
    )
        .into_response()
}

async fn hero() -> Response {
    tokio::time::sleep(Duration::from_millis(HERO_MS)).await;
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        &include_bytes!("../../src/demo/assets/hero.png")[..],
    )
        .into_response()
}

async fn promo() -> Response {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let css = ".promo { color: #b00 }\n".repeat(400);
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        css,
    )
        .into_response()
}

/// The site on 127.0.0.1; stops when dropped.
pub struct CauseSite {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl CauseSite {
    /// Serves the pages on a free loopback port.
    pub async fn start() -> CauseSite {
        let app = Router::new()
            .route("/page", get(page))
            .route("/hero.png", get(hero))
            .route("/promo.css", get(promo));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the cause site");
        let addr = listener.local_addr().expect("cause site address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CauseSite { addr, task }
    }

    /// The page with `plant`.
    pub fn url(&self, plant: Plant) -> String {
        format!("http://{}/page?plant={}", self.addr, plant.name())
    }
}

impl Drop for CauseSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Visits the page with `plant` `n` times in `session` (the collector
/// installed) and returns the samples (`variant` candidate unless `None`).
pub async fn pool(session: &Session, site: &CauseSite, plant: Plant, n: usize) -> Vec<Sample> {
    let mut out = Vec::with_capacity(n);
    for run in 0..n {
        let url = site.url(plant);
        session
            .goto(&url)
            .await
            .expect("navigate to the cause page");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while session
            .eval("return window.__done === true")
            .await
            .ok()
            .and_then(|v| v.as_bool())
            != Some(true)
        {
            assert!(std::time::Instant::now() < deadline, "{url} never finished");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let c = collect::finalize(session)
            .await
            .expect("read the collector");
        let mut s = Sample::failed(run as u32, "cause", "default", &url, String::new());
        s.ok = true;
        s.error = None;
        s.failure = None;
        s.metrics = c.metrics;
        s.details = c.details;
        s.variant = if plant == Plant::None {
            rumcheck::sample::Variant::Reference
        } else {
            rumcheck::sample::Variant::Candidate
        };
        out.push(s);
    }
    out
}

/// A small deterministic generator (SplitMix64) for drawing gates.
pub struct Draw(u64);

impl Draw {
    /// Seeded.
    pub fn new(seed: u64) -> Draw {
        Draw(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `k` distinct indices of `0..n`, in random order.
    pub fn pick(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + (self.next() % (n - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(k);
        idx
    }
}

/// The diagnosis of one gate: `candidate` against `reference` on `metric`,
/// with the row's shift measured as the verdict measures it (Hodges–Lehmann).
pub fn gate(metric: Metric, candidate: &[&Sample], reference: &[&Sample]) -> Diagnosis {
    let values = |v: &[&Sample]| {
        v.iter()
            .filter_map(|s| s.metric(metric))
            .collect::<Vec<_>>()
    };
    let shift = rumcheck::stats::hodges_lehmann(&values(candidate), &values(reference), 0.95)
        .ok()
        .map(|s| s.estimate);
    diagnose(Row {
        metric,
        shift,
        candidate,
        reference,
    })
}

/// How often the planted cause was named (and, on A/A gates, how often any
/// cause was named as if planted), per cause.
pub struct HitRates {
    /// Per cause: (gates naming it, gates), and one example sentence.
    pub hits: HashMap<&'static str, (usize, usize, String)>,
    /// A/A gates naming a planted cause (any of the four), and A/A gates.
    pub false_names: (usize, usize),
    /// An A/A sentence, for the record.
    pub aa_example: String,
}

/// How a gate's visits are taken from a pool.
#[derive(Debug, Clone, Copy)]
pub enum Gates {
    /// `k` visits drawn at random (seeded) for each gate: pooled visits
    /// serve several gates, so gates are not independent.
    Drawn {
        /// Seed of the draws.
        seed: u64,
    },
    /// Gate `g` takes visits `g·k .. (g+1)·k`: every gate has its own
    /// visits (pools need `gates · k` visits).
    Disjoint,
}

/// Forms `gates` gates per cause from the pools, `k` visits per build each:
/// the candidate visits from the cause's pool, the reference visits from
/// `reference`; A/A gates take both sides from `aa` and `reference`.
pub fn hit_rates(
    reference: &[Sample],
    aa: &[Sample],
    causes: &[(Plant, Vec<Sample>)],
    gates: usize,
    k: usize,
    how: Gates,
) -> HitRates {
    let mut draw = Draw::new(match how {
        Gates::Drawn { seed } => seed,
        Gates::Disjoint => 0,
    });
    let mut take = move |pool: &'_ [Sample], g: usize| -> Vec<usize> {
        match how {
            Gates::Drawn { .. } => draw.pick(pool.len(), k),
            Gates::Disjoint => (g * k..((g + 1) * k).min(pool.len())).collect(),
        }
    };
    let mut hits = HashMap::new();
    for (plant, pool) in causes {
        let mut hit = 0;
        let mut example = String::new();
        for g in 0..gates {
            let c: Vec<&Sample> = take(pool, g).into_iter().map(|i| &pool[i]).collect();
            let r: Vec<&Sample> = take(reference, g)
                .into_iter()
                .map(|i| &reference[i])
                .collect();
            let d = gate(plant.metric(), &c, &r);
            if plant.named_in(&d.cause) {
                hit += 1;
            } else {
                eprintln!("{}: missed: {}", plant.name(), d.cause);
            }
            example = d.cause;
        }
        hits.insert(plant.name(), (hit, gates, example));
    }
    let mut false_names = (0, 0);
    let mut aa_example = String::new();
    for g in 0..gates {
        let c: Vec<&Sample> = take(aa, g).into_iter().map(|i| &aa[i]).collect();
        let r: Vec<&Sample> = take(reference, g)
            .into_iter()
            .map(|i| &reference[i])
            .collect();
        for metric in [Metric::Lcp, Metric::Ttfb] {
            let d = gate(metric, &c, &r);
            false_names.1 += 1;
            if d.found || Plant::CAUSES.iter().any(|p| p.named_in(&d.cause)) {
                false_names.0 += 1;
                eprintln!("A/A named: {}", d.cause);
            }
            aa_example = d.cause;
        }
    }
    HitRates {
        hits,
        false_names,
        aa_example,
    }
}
