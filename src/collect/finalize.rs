//! Ending a visit the way a real one ends: the page becomes hidden.
//!
//! Bringing another tab to the front (CDP `Target.createTarget`, then
//! `Target.activateTarget` on later visits) hides the measured page for real:
//! the browser fires a trusted `visibilitychange`, so the collector and any
//! RUM agent (web-vitals finalises LCP only on trusted events) finish exactly
//! as in the field. WebDriver stays attached to the measured page, so we read
//! it while hidden, then bring it back to the front (`Page.bringToFront`) for
//! the next navigation of a journey. The blank cover tab stays open in the
//! background until the session ends.
//!
//! If a browser cannot open the cover tab or never reports the page hidden
//! (some remote or old headless builds), we fall back to what web-vitals' own test suite does: override
//! `document.visibilityState` and dispatch `visibilitychange`. That event is
//! untrusted, so an agent that checks `isTrusted` may not report LCP; the
//! sample says `details.finalized = "synthetic"` when this happened.

use super::{CollectError, Collected, parse_readback};
use crate::browser::{BrowserError, Session};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long the browser may take to report the page hidden or visible.
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(5);

/// Lets the frames the visit depends on be presented before the page is
/// hidden, and says whether the collector is there: two frames, then more
/// while the collector says one is due (the frame after the last input, the
/// first contentful paint). Under CPU load a frame's presentation can lag
/// its animation frame callbacks, and an entry whose frame is presented
/// after the hide is lost, as it would be in the field.
const SETTLE_JS: &str = r#"
const c = window[Symbol.for('rumcheck')];
const state = { present: !!c, url: location.href };
if (document.visibilityState === 'hidden') return state;
const since = performance.now();
return new Promise((resolve) => {
  const done = () => resolve(state);
  setTimeout(done, 400);
  let frames = 0;
  const next = () => requestAnimationFrame(() => setTimeout(() => {
    frames += 1;
    if (frames >= 2 && !(c && c.due && c.due(since))) done(); else next();
  }, 0));
  next();
});
"#;

const SYNTHETIC_HIDE_JS: &str = r#"
Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
"#;

const RESTORE_JS: &str = r#"
delete document.visibilityState;
delete document.hidden;
"#;

const READ_JS: &str = "return window[Symbol.for('rumcheck')].read();";

const READ_WHEN_HIDDEN_JS: &str =
    "return document.visibilityState === 'hidden' ? window[Symbol.for('rumcheck')].read() : null;";

/// Ends the visit (the page becomes hidden), reads the collector back and
/// returns the page to the foreground so the session can navigate again.
pub async fn finalize(session: &Session) -> Result<Collected, CollectError> {
    end_visit(session, true).await
}

/// Like [`finalize`] for the last visit of a session that is about to be
/// closed: the page is left hidden, which saves two round trips. Do not
/// navigate this session again afterwards (its next page would start hidden
/// and report no FCP or LCP).
pub async fn finalize_last(session: &Session) -> Result<Collected, CollectError> {
    end_visit(session, false).await
}

async fn end_visit(session: &Session, give_back: bool) -> Result<Collected, CollectError> {
    let settled = session
        .eval(SETTLE_JS)
        .await
        .map_err(|source| CollectError::Browser {
            url: "(current page)".into(),
            source: Box::new(source),
        })?;
    let url = settled["url"]
        .as_str()
        .unwrap_or("(unknown page)")
        .to_string();
    if settled["present"] != Value::Bool(true) {
        return Err(CollectError::NotInstalled { url });
    }
    let result = match session.hide_page().await {
        Ok(()) => match read_when_hidden(session, &url).await {
            Ok(Some(c)) => Ok(c),
            Ok(None) => synthetic(session, &url).await,
            Err(e) => Err(e),
        },
        // An endpoint that refuses new tabs still lets us end the visit.
        Err(_) => synthetic(session, &url).await,
    };
    // Give the page back even when reading failed.
    if give_back {
        let _ = session.cdp("Page.bringToFront", json!({})).await;
        let _ = wait_for_visibility(session, "visible").await;
    }
    result
}

/// Polls until the page is hidden and then reads it in the same round trip;
/// `None` when the browser never hid it.
async fn read_when_hidden(session: &Session, url: &str) -> Result<Option<Collected>, CollectError> {
    let start = Instant::now();
    loop {
        let v =
            session
                .eval(READ_WHEN_HIDDEN_JS)
                .await
                .map_err(|source| CollectError::Browser {
                    url: url.to_string(),
                    source: Box::new(source),
                })?;
        if !v.is_null() {
            return finish(url, v, "hidden").map(Some);
        }
        if start.elapsed() > VISIBILITY_TIMEOUT {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn synthetic(session: &Session, url: &str) -> Result<Collected, CollectError> {
    let fail = |source| CollectError::Browser {
        url: url.to_string(),
        source: Box::new(source),
    };
    session.eval(SYNTHETIC_HIDE_JS).await.map_err(fail)?;
    let out = read(session, url, "synthetic").await;
    session.eval(RESTORE_JS).await.map_err(fail)?;
    out
}

async fn read(session: &Session, url: &str, how: &str) -> Result<Collected, CollectError> {
    let raw = session
        .eval(READ_JS)
        .await
        .map_err(|source| CollectError::Browser {
            url: url.to_string(),
            source: Box::new(source),
        })?;
    finish(url, raw, how)
}

fn finish(url: &str, raw: Value, how: &str) -> Result<Collected, CollectError> {
    let mut collected = parse_readback(url, raw)?;
    if let Value::Object(d) = &mut collected.details {
        d.insert("finalized".into(), Value::String(how.into()));
    }
    Ok(collected)
}

/// The visit of the previous document when it ended by navigating to this
/// one (e.g. a clicked link in a journey) instead of through [`finalize`].
/// The collector hands it over through `sessionStorage`, so only same-origin
/// navigations keep it; `None` otherwise. Its `details.finalized` is
/// `navigated`.
pub async fn take_previous(session: &Session) -> Result<Option<Collected>, CollectError> {
    let raw = session
        .eval("const c = window[Symbol.for('rumcheck')]; return c ? c.previous() : null;")
        .await
        .map_err(|source| CollectError::Browser {
            url: "(current page)".into(),
            source: Box::new(source),
        })?;
    if raw.is_null() {
        return Ok(None);
    }
    let url = raw["url"].as_str().unwrap_or("(previous page)").to_string();
    finish(&url, raw, "navigated").map(Some)
}

/// Polls `document.visibilityState` until it equals `state`; false on timeout.
async fn wait_for_visibility(session: &Session, state: &str) -> Result<bool, BrowserError> {
    let start = Instant::now();
    loop {
        let v = session.eval("return document.visibilityState").await?;
        if v.as_str() == Some(state) {
            return Ok(true);
        }
        if start.elapsed() > VISIBILITY_TIMEOUT {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}
