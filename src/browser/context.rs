//! Browser contexts: a fresh, isolated context per visit inside a browser
//! that lives for many visits (`isolation = "context"`).
//!
//! A context made with `Target.createBrowserContext` is off the record: its
//! own cookies, storage, HTTP cache, service workers and sockets, dropped
//! with it. It may name its own proxy, so each concurrent visit still gets
//! its own shaping proxy. Every context gets two tabs: the page tab WebDriver
//! switches to and a blank cover tab opened behind it.
//! Bringing the cover to the front hides the page for real at the end of a
//! visit, as in a browser-per-visit session.

use super::{BrowserError, Session, procs};
use fantoccini::wd::WindowHandle;
use serde_json::{Value, json};

/// The context a session's WebDriver commands go to now.
#[derive(Debug, Clone)]
pub(super) struct OpenContext {
    id: String,
}

impl Session {
    /// Opens a fresh browser context with a blank page tab at `viewport`,
    /// its traffic (loopback included) sent through `proxy`
    /// (`http://HOST:PORT`) when given, and points WebDriver
    /// and the page-level CDP commands at that tab. The previous visit's
    /// context is disposed while this one is made, and gone before it returns.
    pub async fn open_context(
        &self,
        proxy: Option<&str>,
        viewport: (u32, u32),
    ) -> Result<(), BrowserError> {
        // The previous visit's context goes while this one is made.
        self.leave_context().await?;
        let mut devtools = self.devtools.lock().await;
        if devtools.is_none() {
            let caps = self.client.capabilities().cloned().unwrap_or_default();
            *devtools = super::devtools::DevTools::connect(&caps).await?;
        }
        let Some(devtools) = devtools.as_mut() else {
            return Err(BrowserError::DevTools {
                what: "creating a browser context".into(),
                reason: "the WebDriver endpoint reports no DevTools address".into(),
            });
        };
        let mut params = json!({ "disposeOnDetach": true });
        if let Some(proxy) = proxy {
            // As the browser-wide switch does: loopback goes through the proxy too.
            params["proxyServer"] = json!(proxy);
            params["proxyBypassList"] = json!("<-loopback>");
        }
        let created = devtools.call("Target.createBrowserContext", params).await?;
        let id = string(&created, "browserContextId")?;
        if let Ok(mut c) = self.context.lock() {
            *c = Some(OpenContext { id: id.clone() });
        }
        let tab = json!({ "url": "about:blank", "browserContextId": id });
        let page = devtools.call("Target.createTarget", tab.clone()).await?;
        let handle = WindowHandle::try_from(string(&page, "targetId")?).map_err(|e| {
            BrowserError::DevTools {
                what: "switching to the new tab".into(),
                reason: e.to_string(),
            }
        })?;
        // WebDriver attaches to the page tab first; the cover tab opens
        // behind it afterwards, in ~10 ms. Making both at once was slower
        // on 2 cores (setup 345 ms against 257 a visit): the two compete
        // for the CPU while the page tab's renderer starts.
        self.client
            .switch_to_window(handle)
            .await
            .map_err(|e| BrowserError::command("switching to the visit's tab", e))?;
        let mut cover_tab = tab;
        cover_tab["background"] = json!(true);
        let cover = devtools.call("Target.createTarget", cover_tab).await?;
        let cover = string(&cover, "targetId")?;
        if let Ok(mut c) = self.cover.lock() {
            *c = Some(cover);
        }
        // Nothing of the previous visit may still run when this one loads.
        devtools.settle().await?;
        self.set_viewport(viewport.0, viewport.1, 1.0, false).await
    }

    /// Ends the visit's context: asks the browser to dispose of it (its
    /// tabs, cookies, cache and sockets with it) without waiting for the
    /// answer, which the next [`Session::open_context`] (or
    /// [`Session::settle_context`]) awaits.
    pub async fn leave_context(&self) -> Result<(), BrowserError> {
        if let Ok(mut c) = self.cover.lock() {
            *c = None;
        }
        let Some(open) = self.context.lock().ok().and_then(|mut c| c.take()) else {
            return Ok(());
        };
        let mut devtools = self.devtools.lock().await;
        let Some(devtools) = devtools.as_mut() else {
            return Ok(());
        };
        let id = devtools
            .send(
                "Target.disposeBrowserContext",
                json!({ "browserContextId": open.id }),
            )
            .await?;
        devtools.disposing = Some(id);
        Ok(())
    }

    /// Waits until the context left last is gone.
    pub async fn settle_context(&self) -> Result<(), BrowserError> {
        let mut devtools = self.devtools.lock().await;
        match devtools.as_mut() {
            Some(d) => d.settle().await,
            None => Ok(()),
        }
    }

    /// Brings a blank tab to the front, hiding the page for real (a trusted
    /// `visibilitychange`). The cover tab is the context's own, or in a
    /// browser-per-visit session one opened the first time and reused.
    pub async fn hide_page(&self) -> Result<(), BrowserError> {
        let known = self.cover.lock().ok().and_then(|c| c.clone());
        if let Some(id) = known {
            // Over the browser's own socket when there is one: a round trip
            // through chromedriver fewer.
            let params = json!({ "targetId": id });
            let activated = match self.devtools.lock().await.as_mut() {
                Some(d) => d.call("Target.activateTarget", params).await.is_ok(),
                None => self.cdp("Target.activateTarget", params).await.is_ok(),
            };
            if activated {
                return Ok(());
            }
        }
        let created = self
            .cdp("Target.createTarget", json!({ "url": COVER_URL }))
            .await?;
        if let Ok(mut c) = self.cover.lock() {
            *c = created["targetId"].as_str().map(str::to_string);
        }
        Ok(())
    }

    /// Resident memory of this session's browser processes, in bytes;
    /// `None` for a remote session, whose processes rumcheck cannot see.
    pub fn memory_bytes(&self) -> Option<u64> {
        let profile = self.profile.as_ref()?;
        Some(procs::resident_bytes(&procs::browser_processes(
            profile.path(),
        )))
    }
}

/// The blank page that covers the measured one in a browser-per-visit session.
const COVER_URL: &str = "about:blank#rumcheck-cover";

fn string(v: &Value, key: &str) -> Result<String, BrowserError> {
    v[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| BrowserError::DevTools {
            what: format!("reading {key}"),
            reason: format!("the browser answered {v}"),
        })
}
