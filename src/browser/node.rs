//! Which machine ran a session: the Selenium Grid node that holds it, or
//! this host. Samples carry it so the verdict can compare like with like.
//!
//! A Grid 4 session's returned capabilities do not name its node (`se:cdp`
//! points at the router), so rumcheck asks the Grid's GraphQL endpoint
//! (`POST {grid}/graphql`, `session(id) { nodeUri }`), which standalone,
//! hub and Kubernetes deployments all serve at the router.

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::time::Duration;

/// How long the Grid may take to say where a session runs.
const ASK_WITHIN: Duration = Duration::from_secs(5);

/// This machine's host name (`localhost` if it has none).
pub fn local_host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // within it or truncates (then the last byte is set to 0 below).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    buf[buf.len() - 1] = 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string(),
        _ => "localhost".to_string(),
    }
}

/// The node a remote session runs on: the Grid's `nodeUri` for it, else
/// (a plain remote chromedriver, or a Grid that does not answer) the
/// endpoint's host and port.
pub async fn remote_node(endpoint: &str, session_id: &str) -> String {
    match tokio::time::timeout(ASK_WITHIN, grid_node_uri(endpoint, session_id)).await {
        Ok(Some(uri)) => uri,
        _ => endpoint_authority(endpoint),
    }
}

/// `host:port` of a URL (the URL itself when it has no host).
fn endpoint_authority(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => endpoint.to_string(),
        },
        Err(_) => endpoint.to_string(),
    }
}

async fn grid_node_uri(endpoint: &str, session_id: &str) -> Option<String> {
    let url = format!("{}/graphql", endpoint.trim_end_matches('/'));
    // The id is the Grid's own (hex); escaping keeps the query well-formed anyway.
    let id = serde_json::to_string(session_id).ok()?;
    let body = json!({ "query": format!("{{ session (id: {id}) {{ nodeUri }} }}") }).to_string();
    let request = http::Request::post(url)
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(Full::new(bytes::Bytes::from(body)))
        .ok()?;
    let client = Client::builder(TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let response = client.request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let bytes = response.into_body().collect().await.ok()?.to_bytes();
    node_uri_of(&serde_json::from_slice(&bytes).ok()?)
}

/// `data.session.nodeUri` of a GraphQL answer, as `host:port`.
fn node_uri_of(answer: &Value) -> Option<String> {
    let uri = answer.pointer("/data/session/nodeUri")?.as_str()?;
    Some(endpoint_authority(uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_answer_names_the_node_by_host_and_port() {
        // As Selenium Grid 4.48 answers `{ session (id: "…") { nodeUri } }`.
        let answer = json!({ "data": { "session": { "nodeUri": "http://10.0.0.7:5555" } } });
        assert_eq!(node_uri_of(&answer).as_deref(), Some("10.0.0.7:5555"));
        let unknown = json!({ "errors": [{ "message": "No ongoing session" }], "data": null });
        assert_eq!(node_uri_of(&unknown), None);
    }

    #[test]
    fn without_a_grid_the_endpoint_names_the_machine() {
        assert_eq!(
            endpoint_authority("http://grid.internal:4444/wd/hub"),
            "grid.internal:4444"
        );
        assert_eq!(
            endpoint_authority("http://grid.internal"),
            "grid.internal:80"
        );
        assert!(!local_host_name().is_empty());
    }
}
