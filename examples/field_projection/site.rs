//! The field-projection test site: one page whose speed depends on the
//! visitor's round-trip time, bandwidth and CPU, served in two builds.
//!
//! The page (`/`) has, in order of what the browser waits for:
//!
//! 1. the HTML itself, delayed server-side by `?be=<ms>` (the visit's backend
//!    time; see [`Site::page_url`]);
//! 2. a render-blocking stylesheet `/s/base.css` ([`BASE_CSS_BYTES`]) — and in
//!    [`Build::Heavy`] a second one, `/s/heavy.css` ([`HEAVY_CSS_BYTES`]), the
//!    "change" under test. First contentful paint (the heading) waits for these,
//!    so FCP depends on RTT and bandwidth;
//! 3. after the first frame is presented, an inline script runs a fixed amount
//!    of CPU work ([`WORK_ITERATIONS`] loop iterations, about 60–100 ms on an
//!    unthrottled 2024 core) and only then inserts the hero image
//!    `/img/hero.png` ([`HERO_BYTES`], a real 960×540 PNG). The hero is by far
//!    the largest element, so it is the LCP element, and LCP depends on
//!    bandwidth and CPU.
//!
//! The page records in `window.__site` how long the work took (`work_ms`, to
//! check CPU throttling took effect) and when the hero loaded (`hero_loaded`).
//!
//! Every response has `Cache-Control: no-store` and is sent uncompressed
//! with an exact `Content-Length`, so the bytes on the (emulated) wire are
//! the sizes above.

#![allow(dead_code)] // Included by several binaries, each using a part.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Size of the render-blocking stylesheet both builds have.
pub const BASE_CSS_BYTES: usize = 60 * 1024;
/// Size of the extra render-blocking stylesheet of [`Build::Heavy`].
pub const HEAVY_CSS_BYTES: usize = 300 * 1024;
/// Size of the hero (LCP) image.
pub const HERO_BYTES: usize = 120 * 1024;
/// Iterations of the page's CPU loop before it inserts the hero.
pub const WORK_ITERATIONS: u32 = 12_000_000;
/// Largest backend delay honoured from `?be=` (longer values are capped).
pub const MAX_BACKEND_MS: u64 = 30_000;

/// Which build of the site to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Build {
    /// The production build: one 60 KB stylesheet, CPU work, hero image.
    Base,
    /// The change: [`Build::Base`] plus one extra 300 KB render-blocking stylesheet.
    Heavy,
    /// [`Build::Base`] plus one extra render-blocking stylesheet of this many bytes.
    Extra(usize),
}

impl Build {
    /// A short lowercase name (`base`, `heavy`) for file names and labels.
    pub fn name(self) -> &'static str {
        match self {
            Build::Base => "base",
            Build::Heavy => "heavy",
            Build::Extra(_) => "extra",
        }
    }

    /// Bytes of the extra stylesheet, if the build has one.
    pub fn extra_css(self) -> Option<usize> {
        match self {
            Build::Base => None,
            Build::Heavy => Some(HEAVY_CSS_BYTES),
            Build::Extra(n) => Some(n),
        }
    }
}

/// Backend time of a request without `?be=` (the lab's visits): the
/// population's median backend time, as a production server has one.
pub const DEFAULT_BACKEND_MS: u64 = 120;

/// The generated assets of one build, shared by all requests.
struct Assets {
    html: Vec<u8>,
    base_css: Vec<u8>,
    heavy_css: Option<Vec<u8>>,
    hero: Vec<u8>,
}

/// A running test site. The server stops when this is dropped.
pub struct Site {
    addr: SocketAddr,
    build: Build,
    task: JoinHandle<()>,
}

impl Site {
    /// Serves `build` on `127.0.0.1` at a free port.
    pub async fn start(build: Build) -> std::io::Result<Site> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let assets = Arc::new(Assets {
            html: page_html(build).into_bytes(),
            base_css: stylesheet("base", BASE_CSS_BYTES, BASE_STYLES),
            heavy_css: build
                .extra_css()
                .map(|n| stylesheet("heavy", n, HEAVY_STYLES)),
            hero: hero_png(960, 540, HERO_BYTES),
        });
        let app = Router::new()
            .route("/", get(page))
            .route("/s/base.css", get(base_css))
            .route("/s/heavy.css", get(heavy_css))
            .route("/img/hero.png", get(hero))
            .route(
                "/favicon.ico",
                get(|| async { no_store(StatusCode::NO_CONTENT, "", Vec::new()) }),
            )
            .with_state(assets);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Site { addr, build, task })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The page URL for a visit whose HTML should take `delay_ms` server-side
    /// before its first byte (`/?be=<delay_ms>`).
    pub fn page_url(&self, delay_ms: u64) -> String {
        page_url(&self.base_url(), delay_ms)
    }

    /// The build this site serves.
    pub fn build(&self) -> Build {
        self.build
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The page URL under `base_url` whose HTML is delayed by `delay_ms`
/// server-side (`{base_url}/?be=<delay_ms>`).
pub fn page_url(base_url: &str, delay_ms: u64) -> String {
    format!("{}/?be={delay_ms}", base_url.trim_end_matches('/'))
}

#[derive(Deserialize)]
struct PageQuery {
    be: Option<u64>,
}

async fn page(State(a): State<Arc<Assets>>, Query(q): Query<PageQuery>) -> Response {
    let delay = q.be.unwrap_or(DEFAULT_BACKEND_MS).min(MAX_BACKEND_MS);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    no_store(StatusCode::OK, "text/html; charset=utf-8", a.html.clone())
}

async fn base_css(State(a): State<Arc<Assets>>) -> Response {
    no_store(StatusCode::OK, "text/css", a.base_css.clone())
}

async fn heavy_css(State(a): State<Arc<Assets>>) -> Response {
    match &a.heavy_css {
        Some(css) => no_store(StatusCode::OK, "text/css", css.clone()),
        None => no_store(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not in this build".to_vec(),
        ),
    }
}

async fn hero(State(a): State<Arc<Assets>>) -> Response {
    no_store(StatusCode::OK, "image/png", a.hero.clone())
}

/// A response with the given body, `Cache-Control: no-store`, identity encoding.
fn no_store(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    if !content_type.is_empty() {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The HTML of `build`'s page.
fn page_html(build: Build) -> String {
    let heavy = match build.extra_css() {
        None => "",
        Some(_) => "<link rel=\"stylesheet\" href=\"/s/heavy.css\">\n",
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Field simulation</title>
<link rel="stylesheet" href="/s/base.css">
{heavy}</head><body>
<header class="top"><h1>Field simulation</h1><p class="lede">A page whose speed depends on the network and the CPU.</p></header>
<main><div id="hero-slot" class="hero-slot"></div></main>
<script>
(function () {{
  var site = window.__site = {{ work_ms: null, hero_loaded: null, hero_error: false }};
  function work() {{
    var t0 = performance.now(), x = 0;
    for (var i = 0; i < {WORK_ITERATIONS}; i++) {{ x = (x * 31 + i) % 1000003; }}
    site.work_ms = performance.now() - t0;
    site.work_result = x;
    var img = new Image(960, 540);
    img.alt = "";
    img.className = "hero";
    img.onload = function () {{ site.hero_loaded = performance.now(); img.setAttribute("data-loaded", ""); }};
    img.onerror = function () {{ site.hero_error = true; }};
    img.src = "/img/hero.png";
    document.getElementById("hero-slot").appendChild(img);
  }}
  // After the first frame, so the heading paints (FCP) before the work runs.
  requestAnimationFrame(function () {{ setTimeout(work, 0); }});
}})();
</script>
</body></html>
"#
    )
}

/// Styles the page uses; the rest of each stylesheet is rules that match nothing.
const BASE_STYLES: &str = "html{font-family:sans-serif;background:#f4f1ea;color:#222}\n\
body{margin:0}\n.top{padding:8px 24px}\nh1{font-size:20px;margin:4px 0}\n\
.lede{font-size:13px;margin:0}\n.hero-slot{width:960px;height:540px;margin:0 24px;background:#ddd}\n\
.hero{display:block;width:960px;height:540px}\n";
const HEAVY_STYLES: &str = ".top{border-bottom:1px solid #ccc}\n";

/// A stylesheet of exactly `size` bytes: `used` first, then distinct rules
/// for classes the page does not have (parsed, never matched), then a
/// comment that pads to the size.
fn stylesheet(prefix: &str, size: usize, used: &str) -> Vec<u8> {
    let mut css = String::with_capacity(size + 128);
    css.push_str(used);
    let mut i: u32 = 0;
    loop {
        let h = i.wrapping_mul(2_654_435_761);
        let rule = format!(
            ".{prefix}-c{i} .{prefix}-e{j}>a:hover{{color:#{c:06x};margin:{m}px {n}px;padding:{p}px;border:1px solid #{b:06x}}}\n",
            j = h % 97,
            c = h & 0xff_ffff,
            m = h % 13,
            n = (h >> 4) % 17,
            p = (h >> 8) % 11,
            b = (h >> 3) & 0xff_ffff,
        );
        if css.len() + rule.len() + 5 > size {
            break;
        }
        css.push_str(&rule);
        i += 1;
    }
    css.push_str("/*");
    while css.len() + 3 < size {
        css.push('x');
    }
    css.push_str("*/\n");
    debug_assert_eq!(css.len(), size);
    css.into_bytes()
}

/// A `width`×`height` RGB PNG of exactly `size` bytes (when the compressed
/// picture is smaller than `size`; otherwise as small as it is): a gradient
/// with stripes, compressed, plus a private ancillary chunk (`ruPd`) of
/// pseudo-random bytes placed before the image data, so the picture can only
/// be decoded once the padding has arrived.
fn hero_png(width: u32, height: u32, size: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width as usize * 3 + 1) * height as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let stripe = if (x / 40 + y / 40) % 2 == 0 { 30 } else { 0 };
            raw.push(((x * 255 / width) as u8).saturating_add(stripe));
            raw.push(((y * 255 / height) as u8).saturating_add(stripe));
            raw.push(160u8.saturating_sub(stripe));
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("writing to a Vec");
    let idat = z.finish().expect("writing to a Vec");

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter set, no interlace

    // Signature 8 + IHDR 25 + IDAT 12+n + IEND 12 + padding chunk 12+p.
    let fixed = 8 + 25 + 12 + idat.len() + 12 + 12;
    let pad_len = size.saturating_sub(fixed);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let pad: Vec<u8> = (0..pad_len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    if pad_len > 0 {
        chunk(&mut png, b"ruPd", &pad);
    }
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends one PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}
