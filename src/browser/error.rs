//! Errors of the browser layer, with the fix in the message.

use std::path::PathBuf;

/// Something went wrong starting or talking to a browser.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// No chromedriver binary was found.
    #[error(
        "chromedriver not found (looked for {looked})\n  hint: install it with `sudo apt-get install chromium chromium-driver` (Debian/Ubuntu), pass --chromedriver PATH, or attach to a running WebDriver with --webdriver URL"
    )]
    NoChromedriver {
        /// Where we looked.
        looked: String,
    },
    /// No browser binary was found.
    #[error(
        "no Chromium or Chrome binary found (looked for {looked})\n  hint: install it with `sudo apt-get install chromium chromium-driver`, or pass --browser PATH"
    )]
    NoBrowser {
        /// Where we looked.
        looked: String,
    },
    /// chromedriver could not be started or did not report its port.
    #[error(
        "chromedriver '{path}' failed to start: {reason}\n  hint: run `{path} --version` to check it works"
    )]
    DriverStart {
        /// The binary.
        path: PathBuf,
        /// What happened.
        reason: String,
    },
    /// A `--webdriver` URL is not a URL.
    #[error(
        "--webdriver '{url}' is not a valid URL: {reason}\n  hint: use e.g. http://127.0.0.1:4444 (a Selenium Grid) or http://127.0.0.1:9515 (chromedriver)"
    )]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The WebDriver endpoint refused to create a session.
    #[error("cannot start a browser session at {endpoint}: {reason}")]
    NewSession {
        /// The WebDriver URL.
        endpoint: String,
        /// What the endpoint said.
        reason: String,
    },
    /// A WebDriver command failed.
    #[error("{what}: {source}")]
    Command {
        /// What we were doing.
        what: String,
        /// The WebDriver error.
        source: fantoccini::error::CmdError,
    },
    /// chromedriver did not close a session in time; its browser was killed.
    #[error(
        "chromedriver did not close the browser session within {seconds} s; its browser was killed"
    )]
    CloseTimeout {
        /// The time allowed.
        seconds: u64,
    },
    /// A browser-level DevTools command (browser contexts) failed.
    #[error(
        "browser DevTools {what}: {reason}\n  hint: isolation = \"context\" needs the browser's DevTools endpoint (chromedriver's debuggerAddress or a Selenium Grid's se:cdp); set isolation = \"browser\" in the scenario to start a browser per visit instead"
    )]
    DevTools {
        /// The command or connection.
        what: String,
        /// What went wrong.
        reason: String,
    },
    /// A temporary browser profile directory could not be created.
    #[error("cannot create a temporary browser profile: {0}")]
    Profile(std::io::Error),
}

impl BrowserError {
    /// Wraps a WebDriver error with what we were doing.
    pub fn command(what: impl Into<String>, source: fantoccini::error::CmdError) -> Self {
        BrowserError::Command {
            what: what.into(),
            source,
        }
    }

    /// True when a browser or chromedriver is missing on this machine: a
    /// setup problem the user must fix, not a flaky visit.
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            BrowserError::NoChromedriver { .. }
                | BrowserError::NoBrowser { .. }
                | BrowserError::DriverStart { .. }
                | BrowserError::BadUrl { .. }
        )
    }
}
