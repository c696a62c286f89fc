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
}

impl Ctx {
    pub(super) fn new(knobs: DemoKnobs, third_party: String) -> Ctx {
        let config = serde_json::json!({
            "inpBusyMs": INP_BUSY_MS + knobs.inp_extra_ms,
            "clsExtra": knobs.cls_extra,
        });
        let head = HEAD
            .replace("{{CONFIG}}", &config.to_string())
            .replace("{{THIRD_PARTY}}", &third_party);
        Ctx(Arc::new(Inner { knobs, head }))
    }

    fn render(&self, template: &str) -> String {
        template
            .replace("{{HEAD}}", &self.0.head)
            .replace("{{HEADER}}", HEADER)
    }

    /// The server's think time before the first byte of any page.
    async fn think(&self) {
        sleep(self.0.knobs.ttfb_extra_ms).await;
    }
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

async fn hero(State(ctx): State<Ctx>) -> Response {
    sleep(HERO_DELAY_MS + ctx.0.knobs.lcp_extra_ms).await;
    asset("image/png", HERO_PNG).await
}

fn page(html: String) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response()
}

async fn home(State(ctx): State<Ctx>) -> Response {
    ctx.think().await;
    page(ctx.render(HOME))
}

async fn product(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    ctx.think().await;
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
    page(
        ctx.render(PRODUCT)
            .replace("{{ID}}", &i.to_string())
            .replace("{{NAME}}", name)
            .replace("{{PRICE}}", price),
    )
}

async fn search(State(ctx): State<Ctx>) -> Response {
    ctx.think().await;
    page(ctx.render(SEARCH))
}

async fn cart(State(ctx): State<Ctx>) -> Response {
    ctx.think().await;
    page(ctx.render(CART))
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
        }
    }
}
