//! A loopback server for tests/fixtures/pages, shared by the integration
//! tests (through `support`) and the examples that visit the same pages.

#![allow(dead_code)] // Each user takes its own subset.

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The crate root (tests find fixtures and node_modules relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// tests/fixtures/pages
pub fn pages_dir() -> PathBuf {
    root().join("tests/fixtures/pages")
}

/// A loopback server for tests/fixtures/pages/*. Knobs in the query string:
/// `delay=MS` waits before answering, `status=CODE` answers with that status,
/// `cache=SECONDS` lets the browser cache the answer that long.
/// Stops when dropped.
pub struct Fixtures {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    log: RequestLog,
}

/// Every path (with query) the fixture server was asked for, in order.
type RequestLog = Arc<std::sync::Mutex<Vec<String>>>;

impl Fixtures {
    /// Starts the server on 127.0.0.1 on a free port.
    pub async fn start() -> Fixtures {
        let log = RequestLog::default();
        let seen = log.clone();
        let app = Router::new()
            .route("/{*path}", axum::routing::any(serve_fixture))
            .layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let seen = seen.clone();
                    async move {
                        let uri = req.uri().to_string();
                        seen.lock().expect("request log").push(uri);
                        next.run(req).await
                    }
                },
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fixture server");
        let addr = listener.local_addr().expect("fixture server address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fixtures { addr, task, log }
    }

    /// How many requests for paths starting with `prefix` reached the server.
    pub fn requests_to(&self, prefix: &str) -> usize {
        let log = self.log.lock().expect("request log");
        log.iter().filter(|p| p.starts_with(prefix)).count()
    }

    /// `http://127.0.0.1:PORT/` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_fixture(
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(ms) = q.get("delay").and_then(|d| d.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = q
        .get("status")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    if path.contains("..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let file = pages_dir().join(&path);
    let Ok(body) = tokio::fs::read(&file).await else {
        return (StatusCode::NOT_FOUND, "no such fixture").into_response();
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let mut response = (status, [(header::CONTENT_TYPE, kind)], body).into_response();
    if let Some(seconds) = q.get("cache").and_then(|c| c.parse::<u32>().ok()) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_str(&format!("max-age={seconds}"))
                .expect("a number is a header value"),
        );
    }
    response
}
