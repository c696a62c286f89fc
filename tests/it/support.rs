//! Shared helpers for the integration tests: a loopback fixture server,
//! browser sessions that are always closed (even when a test panics), and a
//! lock that runs browser tests one at a time.

#![allow(dead_code)] // Each test module uses its own subset.

use rumcheck::browser::{Browser, BrowserOptions, Session, SessionSpec};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The fixture server lives in its own file so examples can use it too.
#[path = "fixture_server.rs"]
mod fixture_server;
pub use fixture_server::{Fixtures, pages_dir, root};

/// Browser tests share two cores with everything else: one at a time.
static BROWSER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The web-vitals IIFE build from node_modules; fails with the fix when missing.
pub fn web_vitals_iife() -> String {
    let path = root().join("node_modules/web-vitals/dist/web-vitals.iife.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): run `npm ci` (make test does it)",
            path.display()
        )
    })
}

/// Runs `body` with a fresh browser session, pointed at a fresh browser
/// context as every visit is by default (`isolation = "context"`), while
/// holding the browser lock; the session is closed and chromedriver stopped
/// whether the body returns or panics (the panic is then re-raised). No
/// browser is a loud failure.
pub async fn with_session<F, Fut>(body: F)
where
    F: FnOnce(Arc<Session>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _guard = BROWSER_LOCK.lock().await;
    let browser = Browser::start(&BrowserOptions::default())
        .await
        .unwrap_or_else(|e| {
            panic!("browser tests need Chromium and chromedriver and none could be started: {e}")
        });
    let spec = SessionSpec::default();
    let session = match browser.session(&spec).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            browser.shutdown().await;
            panic!("cannot start a browser session: {e}");
        }
    };
    if let Err(e) = session.open_context(None, spec.viewport).await {
        if let Ok(s) = Arc::try_unwrap(session) {
            let _ = s.close().await;
        }
        browser.shutdown().await;
        panic!("cannot open a browser context: {e}");
    }
    let outcome = tokio::spawn(body(session.clone())).await;
    match Arc::try_unwrap(session) {
        Ok(s) => {
            let _ = s.close().await;
        }
        Err(_) => eprintln!("a test kept its session; dropping it with chromedriver"),
    }
    browser.shutdown().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Polls a script until it returns `true` (e.g. the page's own "done" flag).
pub async fn wait_until(session: &Session, script: &str, timeout: Duration) {
    let start = Instant::now();
    loop {
        let v = session.eval(script).await.expect("polling the page");
        if v == serde_json::Value::Bool(true) {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "page condition `{script}` not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A trusted click through WebDriver Actions (pointer move, down, up).
pub async fn click(session: &Session, selector: &str) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let client = session.client();
    let element = client
        .find(fantoccini::Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no element {selector}: {e}"));
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client
        .perform_actions(mouse)
        .await
        .unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
    let _ = client.release_actions().await;
}

/// Holds the browser-test lock for tests that start their own browsers
/// (through the runner or calibration) instead of [`with_session`].
pub async fn browser_lock() -> tokio::sync::MutexGuard<'static, ()> {
    BROWSER_LOCK.lock().await
}

/// The built `rumcheck` binary run in `dir` with `args`, as a user's shell
/// outside CI would: no `--webdriver` from the environment, no GitHub
/// Actions output, no colour.
pub fn rumcheck_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUMCHECK_WEBDRIVER")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .output()
        .expect("the rumcheck binary runs")
}
