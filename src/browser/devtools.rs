//! The browser-level DevTools connection of a session.
//!
//! chromedriver's `goog/cdp/execute` talks to the current *page*, and
//! Chromium refuses browser-wide commands there (`Target.createBrowserContext`
//! answers "Not allowed"). Browser contexts are therefore made over the
//! browser's own DevTools WebSocket: the `debuggerAddress` chromedriver
//! reports for its browsers (on loopback), or the `se:cdp` URL a Selenium
//! Grid proxies to its node's browser.

use super::BrowserError;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long one browser-level command may take.
const COMMAND_WITHIN: Duration = Duration::from_secs(10);

/// A browser-level DevTools session: commands are sent one at a time and
/// their answers matched by id; events (none are enabled) are skipped.
pub(super) struct DevTools {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Answers that arrived while another was awaited, by command id.
    early: HashMap<u64, Result<Value, String>>,
    /// The `Target.disposeBrowserContext` sent last, until its answer is read.
    pub(super) disposing: Option<u64>,
}

impl DevTools {
    /// Connects to the browser's DevTools WebSocket from the capabilities a
    /// new session returned; `None` when they name none (a remote end that
    /// is neither chromedriver nor a Selenium Grid).
    pub(super) async fn connect(
        caps: &serde_json::Map<String, Value>,
    ) -> Result<Option<DevTools>, BrowserError> {
        let url = if let Some(se) = caps.get("se:cdp").and_then(Value::as_str) {
            se.to_string()
        } else if let Some(addr) = caps
            .get("goog:chromeOptions")
            .and_then(|o| o.get("debuggerAddress"))
            .and_then(Value::as_str)
        {
            browser_socket_url(addr).await?
        } else {
            return Ok(None);
        };
        let (socket, _) = tokio::time::timeout(
            COMMAND_WITHIN,
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        .map_err(|_| BrowserError::DevTools {
            what: format!("connecting to {url}"),
            reason: "no answer within 10 s".into(),
        })?
        .map_err(|e| BrowserError::DevTools {
            what: format!("connecting to {url}"),
            reason: e.to_string(),
        })?;
        Ok(Some(DevTools {
            socket,
            next_id: 1,
            early: HashMap::new(),
            disposing: None,
        }))
    }

    /// Sends one browser-level command and waits for its answer.
    pub(super) async fn call(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Value, BrowserError> {
        let id = self.send(method, params).await?;
        self.answer(id, method).await
    }

    /// Sends a command without waiting: the browser works on it while
    /// others are sent; [`DevTools::answer`] collects its result later.
    pub(super) async fn send(&mut self, method: &str, params: Value) -> Result<u64, BrowserError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({ "id": id, "method": method, "params": params });
        let sent = tokio::time::timeout(
            COMMAND_WITHIN,
            self.socket.send(Message::text(request.to_string())),
        )
        .await;
        match sent {
            Ok(Ok(())) => Ok(id),
            Ok(Err(e)) => Err(fail(method, e.to_string())),
            Err(_) => Err(fail(method, "could not send within 10 s".into())),
        }
    }

    /// Waits for the answer to the context disposal sent last, if any.
    pub(super) async fn settle(&mut self) -> Result<(), BrowserError> {
        match self.disposing.take() {
            Some(id) => self
                .answer(id, "Target.disposeBrowserContext")
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// The answer to command `id` (sent as `method`). Answers to other
    /// commands that arrive first are kept for their own `answer` call.
    pub(super) async fn answer(&mut self, id: u64, method: &str) -> Result<Value, BrowserError> {
        let exchange = async {
            loop {
                if let Some(answer) = self.early.remove(&id) {
                    return answer;
                }
                let Some(message) = self.socket.next().await else {
                    return Err("the browser closed its DevTools connection".to_string());
                };
                let Message::Text(text) = message.map_err(|e| e.to_string())? else {
                    continue;
                };
                // Events carry no id.
                let Ok(answer) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let Some(from) = answer["id"].as_u64() else {
                    continue;
                };
                let result = match answer.get("error") {
                    Some(error) => Err(error["message"].as_str().unwrap_or("error").to_string()),
                    None => Ok(answer["result"].clone()),
                };
                self.early.insert(from, result);
            }
        };
        match tokio::time::timeout(COMMAND_WITHIN, exchange).await {
            Ok(answer) => answer.map_err(|reason| fail(method, reason)),
            Err(_) => Err(fail(method, "no answer within 10 s".into())),
        }
    }
}

/// The browser target's WebSocket URL, from `http://ADDR/json/version`.
/// `ADDR` is chromedriver's `localhost:PORT`: the browser it started.
fn fail(method: &str, reason: String) -> BrowserError {
    BrowserError::DevTools {
        what: method.to_string(),
        reason,
    }
}

async fn browser_socket_url(addr: &str) -> Result<String, BrowserError> {
    let fail = |reason: String| BrowserError::DevTools {
        what: format!("reading http://{addr}/json/version"),
        reason,
    };
    let read = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let request =
            format!("GET /json/version HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| fail(e.to_string()))?;
        // Chromium keeps the connection open: read the head, then
        // Content-Length bytes of body.
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        let body = loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if n == 0 {
                break raw.split_off(head_end(&raw).unwrap_or(raw.len()));
            }
            raw.extend_from_slice(&chunk[..n]);
            if let Some(end) = head_end(&raw) {
                let length = content_length(&raw[..end]);
                if length.is_some_and(|l| raw.len() - end >= l) || raw.len() > 1 << 20 {
                    break raw.split_off(end);
                }
            }
        };
        Ok::<_, BrowserError>(body)
    };
    let raw = tokio::time::timeout(COMMAND_WITHIN, read)
        .await
        .map_err(|_| fail("no answer within 10 s".into()))??;
    let version: Value =
        serde_json::from_slice(&raw).map_err(|e| fail(format!("not JSON: {e}")))?;
    version["webSocketDebuggerUrl"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| fail("no webSocketDebuggerUrl".into()))
}

/// Where an HTTP response's head ends (after its blank line).
fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The `Content-Length` of a response head.
fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}
