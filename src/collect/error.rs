//! Errors of the collector.

use crate::browser::BrowserError;

/// The collector could not be installed or read back.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// `Page.addScriptToEvaluateOnNewDocument` failed.
    #[error(
        "cannot inject the collector before page scripts: {0}\n  hint: the collector needs chromedriver's CDP pass-through (Chrome/Chromium); other browsers are not supported"
    )]
    Install(#[source] Box<BrowserError>),
    /// A browser command failed while ending the visit.
    #[error("finalising the visit of {url}: {source}")]
    Browser {
        /// The page being finalised.
        url: String,
        /// What failed.
        #[source]
        source: Box<BrowserError>,
    },
    /// The page has no collector (it was not installed before navigating, or
    /// the document is not HTML).
    #[error(
        "the page {url} has no rumcheck collector\n  hint: call collect::install before navigating; non-HTML documents (images, PDFs, error pages) cannot be measured"
    )]
    NotInstalled {
        /// The page.
        url: String,
    },
    /// The collector answered something unexpected.
    #[error("the collector on {url} returned an unexpected value: {reason}")]
    Readback {
        /// The page.
        url: String,
        /// What was wrong.
        reason: String,
    },
}
