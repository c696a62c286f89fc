//! What a visit's failure was and whose fault: what loaded (a network
//! error page, an HTTP error, no response at all), and whether chromedriver
//! or the browser died under it.

use super::visit::VisitError;
use crate::browser::{Browser, BrowserError, Session};
use crate::collect;
use crate::sample::FailureKind;

/// A failed visit's reason and kind: a dead chromedriver or browser is the
/// machine's fault whatever the command said.
pub(super) async fn explain(
    browser: &Browser,
    session: &Session,
    e: VisitError,
) -> (String, FailureKind) {
    if !browser.driver_alive().await {
        return (
            format!("chromedriver exited during the visit (rumcheck starts a new one): {e}"),
            FailureKind::Infrastructure,
        );
    }
    if !session.browser_alive() {
        return (
            format!("the browser exited during the visit: {e}"),
            FailureKind::Infrastructure,
        );
    }
    let kind = e.kind();
    let reason = match &e {
        // The collector is installed before every navigation: a document
        // without it is one no script runs in.
        VisitError::Collect(collect::CollectError::NotInstalled { url }) => format!(
            "{url} cannot be measured: it is not an HTML page (an image, a PDF, a download), so rumcheck's collector never ran in it"
        ),
        _ => e.to_string(),
    };
    (reason, kind)
}

/// A navigation that chromedriver reports as a network error
/// (`net::ERR_CONNECTION_REFUSED`…) means the site could not be reached.
pub(super) fn unreachable(e: BrowserError, url: &str) -> VisitError {
    let text = e.to_string();
    match text.find("net::ERR_") {
        Some(at) => {
            let code: String = text[at + "net::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            VisitError::Unreachable(format!(
                "the browser could not load {url}: {code} (is the site up and reachable from this machine?)"
            ))
        }
        None => e.into(),
    }
}

/// After a page-load timeout: true when the browser still shows `before`
/// (the page it was on), i.e. the server never sent the new document.
pub(super) async fn no_response(session: &Session, before: &str) -> bool {
    session
        .eval("return location.href;")
        .await
        .ok()
        .and_then(|v| v.as_str().map(|href| href == before))
        .unwrap_or(false)
}

pub(super) fn no_response_reason(page_load_ms: u64, url: &str) -> String {
    format!("no response from the server within {page_load_ms} ms (page_load_ms) for {url}")
}

/// chromedriver reports success for error pages, so look at what loaded:
/// Chrome's network-error page, or an HTTP error status. A renderer that
/// does not answer in time (a hung synchronous third-party script blocks
/// it) is not a failed visit: it is what that visit was like, and the
/// collector still tells what rendered. Returns a note for the step log.
pub(super) async fn check_navigation(
    session: &Session,
    url: &str,
) -> Result<Option<String>, VisitError> {
    let v = session
        .eval(
            "const n = performance.getEntriesByType('navigation')[0];
             const code = document.querySelector('.error-code');
             return [location.protocol, n ? n.responseStatus : 0, code ? code.textContent : ''];",
        )
        .await;
    let v = match v {
        Ok(v) => v,
        Err(BrowserError::Command { source, .. })
            if source.is_timeout() || source.is_script_timeout() =>
        {
            return Ok(Some("the page was still loading: its renderer did not answer (e.g. blocked by a hung synchronous script)".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let protocol = v[0].as_str().unwrap_or_default();
    let status = v[1].as_u64().unwrap_or(0);
    if protocol == "chrome-error:" {
        let code = v[2]
            .as_str()
            .filter(|c| !c.is_empty())
            .unwrap_or("network error");
        return Err(VisitError::Unreachable(format!(
            "the browser could not load {url}: {code} (is the site up and reachable from this machine?)"
        )));
    }
    if status >= 400 {
        return Err(VisitError::Load(format!("HTTP {status} for {url}")));
    }
    Ok(None)
}
