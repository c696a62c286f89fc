//! Routes and page rendering of the demo shop (assets embedded at compile time).

use super::DemoKnobs;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;

const HOME: &str = include_str!("assets/home.html");
const PRODUCT: &str = include_str!("assets/product.html");
const SEARCH: &str = include_str!("assets/search.html");
const CART: &str = include_str!("assets/cart.html");
const HEAD: &str = include_str!("assets/head.html");
const HEADER: &str = include_str!("assets/header.html");
const STYLE: &str = include_str!("assets/style.css");
const APP_JS: &str = include_str!("assets/app.js");
const WIDGET_JS: &str = include_str!("assets/widget.js");
const HERO_PNG: &[u8] = include_bytes!("assets/hero.png");
const PRODUCT_PNG: &[u8] = include_bytes!("assets/product.png");

/// The hero image is "late" even in the fast build: it comes from a slow
/// image service.
const HERO_DELAY_MS: u64 = 150;
/// The third-party widget's server is a little slow too.
const WIDGET_DELAY_MS: u64 = 80;
/// Busy time of the "Add to cart" handler in the fast build.
const INP_BUSY_MS: u64 = 120;
/// The `db` phase of every page in the fast build (`Server-Timing: db`).
const DB_MS: u64 = 5;

const PRODUCTS: [(&str, &str); 3] = [
    ("Trail shoe", "$89"),
    ("Rain jacket", "$129"),
    ("Day pack", "$59"),
];

/// What every handler needs: the knobs and the rendered shared head.
#[derive(Clone)]
pub(super) struct Ctx(Arc<Inner>);

struct Inner {
    knobs: DemoKnobs,
    head: String,
    /// `--regress blocking-css=…`: the new stylesheet's body.
    promo_css: String,
}

impl Ctx {
    pub(super) fn new(knobs: DemoKnobs, third_party: String) -> Ctx {
        let config = serde_json::json!({
            "inpBusyMs": INP_BUSY_MS + knobs.inp_extra_ms,
            "clsExtra": knobs.cls_extra,
            "heroDelayMs": knobs.lcp_extra_ms,
        });
        let promo = if knobs.blocking_css_bytes > 0 {
            "<link rel=\"stylesheet\" href=\"/static/promo.css\">\n"
        } else {
            ""
        };
        let head = HEAD
            .replace("{{CONFIG}}", &config.to_string())
            .replace("{{THIRD_PARTY}}", &third_party)
            .replace("{{PROMO}}", promo);
        let promo_css = promo_css(knobs.blocking_css_bytes);
        Ctx(Arc::new(Inner {
            knobs,
            head,
            promo_css,
        }))
    }

    fn render(&self, template: &str) -> String {
        // A late hero has no `src` in the markup, so the preload scanner cannot start it.
        let hero_src = if self.0.knobs.lcp_extra_ms > 0 {
            "data-src"
        } else {
            "src"
        };
        template
            .replace("{{HEAD}}", &self.0.head)
            .replace("{{HEADER}}", HEADER)
            .replace("{{HERO_SRC}}", hero_src)
    }

    /// The server's `db` phase before the first byte of any page; returns its ms.
    async fn think(&self) -> u64 {
        let db = DB_MS + self.0.knobs.ttfb_extra_ms;
        sleep(db).await;
        db
    }

    /// Renders a page after its `db` phase, with `Server-Timing` for both phases.
    async fn page(&self, html: impl FnOnce(&Ctx) -> String) -> Response {
        let db = self.think().await;
        let started = std::time::Instant::now();
        let body = html(self);
        let render = started.elapsed().as_secs_f64() * 1000.0;
        (
            [
                (header::CACHE_CONTROL, "no-cache".to_string()),
                (
                    header::HeaderName::from_static("server-timing"),
                    format!("db;dur={db};desc=\"database\", render;dur={render:.2}"),
                ),
            ],
            Html(body),
        )
            .into_response()
    }
}

/// A stylesheet of exactly `bytes` bytes: rules the pages never match.
fn promo_css(bytes: u64) -> String {
    let rule = ".promo-unused { color: #b00; margin: 1px }\n";
    let mut css = rule.repeat(bytes as usize / rule.len());
    css.extend(std::iter::repeat_n(' ', bytes as usize - css.len()));
    css
}

async fn sleep(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

pub(super) fn shop(ctx: Ctx) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/product/{id}", get(product))
        .route("/search", get(search))
        .route("/cart", get(cart))
        .route(
            "/static/style.css",
            get(|| asset("text/css", STYLE.as_bytes())),
        )
        .route(
            "/static/app.js",
            get(|| asset("text/javascript", APP_JS.as_bytes())),
        )
        .route("/static/hero.png", get(hero))
        .route("/static/promo.css", get(promo))
        .route(
            "/static/product.png",
            get(|| asset("image/png", PRODUCT_PNG)),
        )
        .route(
            "/api/recommendations",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "recommendations are down") }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Html("<!doctype html><title>Not found</title><h1>Not found</h1>"),
            )
        })
        .with_state(ctx)
}

pub(super) fn third_party() -> Router {
    Router::new().route(
        "/widget.js",
        get(|| async {
            sleep(WIDGET_DELAY_MS).await;
            (
                [
                    (header::CONTENT_TYPE, "text/javascript"),
                    // Let the shop's RUM see this origin's timings and sizes.
                    (header::HeaderName::from_static("timing-allow-origin"), "*"),
                    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                    (header::CACHE_CONTROL, "max-age=3600"),
                ],
                WIDGET_JS,
            )
        }),
    )
}

async fn asset(kind: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn promo(State(ctx): State<Ctx>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        ctx.0.promo_css.clone(),
    )
        .into_response()
}

async fn hero() -> Response {
    sleep(HERO_DELAY_MS).await;
    asset("image/png", HERO_PNG).await
}

async fn home(State(ctx): State<Ctx>) -> Response {
    ctx.page(|c| c.render(HOME)).await
}

async fn product(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    let index = id
        .parse::<usize>()
        .ok()
        .filter(|i| (1..=PRODUCTS.len()).contains(i));
    let Some(i) = index else {
        return (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>No such product</title><h1>No such product</h1>"),
        )
            .into_response();
    };
    let (name, price) = PRODUCTS[i - 1];
    ctx.page(|c| {
        c.render(PRODUCT)
            .replace("{{ID}}", &i.to_string())
            .replace("{{NAME}}", name)
            .replace("{{PRICE}}", price)
    })
    .await
}

async fn search(State(ctx): State<Ctx>) -> Response {
    ctx.page(|c| c.render(SEARCH)).await
}

async fn cart(State(ctx): State<Ctx>) -> Response {
    ctx.page(|c| c.render(CART)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_render_without_leftover_placeholders() {
        let ctx = Ctx::new(
            DemoKnobs {
                inp_extra_ms: 30,
                ..DemoKnobs::default()
            },
            "http://127.0.0.1:9".into(),
        );
        for t in [HOME, PRODUCT, SEARCH, CART] {
            let html = ctx
                .render(t)
                .replace("{{ID}}", "1")
                .replace("{{NAME}}", "x")
                .replace("{{PRICE}}", "y");
            assert!(!html.contains("{{"), "{html}");
            assert!(html.contains("http://127.0.0.1:9/widget.js"));
            assert!(html.contains(r#""inpBusyMs":150"#), "{html}");
            assert!(!html.contains("promo.css"), "{html}");
        }
        assert!(
            ctx.render(HOME)
                .contains(r#"<img id="hero" src="/static/hero.png""#)
        );
    }

    #[test]
    fn knobs_make_the_hero_late_and_add_a_stylesheet_of_the_given_size() {
        let ctx = Ctx::new(
            DemoKnobs::parse(&["lcp=400ms,blocking-css=300KB"]).unwrap(),
            "http://127.0.0.1:9".into(),
        );
        let home = ctx.render(HOME);
        assert!(
            home.contains(r#"<img id="hero" data-src="/static/hero.png""#),
            "{home}"
        );
        assert!(home.contains(r#""heroDelayMs":400"#), "{home}");
        assert!(home.contains(r#"<link rel="stylesheet" href="/static/promo.css">"#));
        assert_eq!(ctx.0.promo_css.len(), 307_200);
        assert_eq!(promo_css(0), "");
    }
}
