//! The HTTPS client behind `fetch-crux`: hyper-util's client over rustls
//! (ring, Mozilla's roots from webpki-roots), HTTP/1.1, plain http allowed
//! for test endpoints.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Largest response body read (CrUX History answers are tens of kB).
const MAX_BODY: usize = 64 << 20;

/// One HTTP answer, whatever its status.
pub(super) struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The whole body.
    pub body: Bytes,
}

/// A connection-pooling HTTP(S) client.
pub(super) struct Client(Hyper<HttpsConnector<HttpConnector>, Full<Bytes>>);

impl Client {
    /// A client trusting webpki-roots' certificate authorities.
    pub(super) fn new() -> Client {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Client(Hyper::builder(TokioExecutor::new()).build(https))
    }

    /// POSTs a JSON body and reads the answer within `timeout`. The error is
    /// the transport failure with its causes (it never holds the URL).
    pub(super) async fn post_json(
        &self,
        url: &url::Url,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let req = http::Request::post(url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("rumcheck/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let exchange = async {
            let resp = self.0.request(req).await.map_err(|e| causes(&e))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {}", causes(e.as_ref())))?
                .to_bytes();
            Ok(Answer {
                status,
                retry_after,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {} s", timeout.as_secs_f64()))?
    }
}

/// An error and its sources, joined by `: `.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
