//! Why `fetch-crux` fails, and the API's error details in messages.

use super::{ApiKey, DEFAULT_ENDPOINT};
use crate::baseline::ImportError;

/// Why `fetch-crux` failed. [`FetchError::is_infra`] tells network trouble
/// (exit 3) from usage and input errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// `--origin` / `--url` is not a usable address.
    #[error("{flag} '{value}' is not usable: {reason}\n  hint: {hint}")]
    BadTarget {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
        /// What is wrong with it.
        reason: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// `--form-factor` names no form factor.
    #[error(
        "--form-factor '{value}' is not a form factor\n  hint: use phone, desktop, tablet or all, or leave it out to fetch each"
    )]
    BadFormFactor {
        /// What was given.
        value: String,
    },
    /// The endpoint override is not an http(s) base URL.
    #[error(
        "--endpoint / RUMCHECK_CRUX_ENDPOINT '{value}' is not usable: {reason}\n  hint: give an http:// or https:// base URL such as {DEFAULT_ENDPOINT}"
    )]
    BadEndpoint {
        /// What was given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No key was given.
    #[error(
        "no CrUX API key\n  hint: pass --key KEY or set CRUX_API_KEY; create a key at https://console.cloud.google.com/apis/credentials and enable the Chrome UX Report API for it"
    )]
    NoKey,
    /// The API refused the key (400 "API key not valid", 401, 403).
    #[error(
        "the CrUX API refused the API key (HTTP {status}{detail})\n  hint: check --key / CRUX_API_KEY, and that the key is allowed to use the Chrome UX Report API"
    )]
    KeyRejected {
        /// HTTP status.
        status: u16,
        /// The API's status and message, if any.
        detail: String,
    },
    /// The API refused the query itself (400).
    #[error(
        "the CrUX API rejected the query for {target} (HTTP {status}{detail})\n  hint: check {flag}: an origin is scheme://host (--origin), a page is a full URL (--url)"
    )]
    Rejected {
        /// The origin or URL.
        target: String,
        /// `--origin` or `--url`.
        flag: &'static str,
        /// HTTP status.
        status: u16,
        /// The API's status and message, if any.
        detail: String,
    },
    /// CrUX has no data for the target in any form factor queried.
    #[error("chrome ux report has no data for {target}; check the URL or use --origin")]
    NoData {
        /// The origin or URL.
        target: String,
    },
    /// An answer no CrUX endpoint gives (a redirect, a 404 without
    /// `NOT_FOUND`, another 4xx).
    #[error(
        "{url} answered HTTP {status}{detail}, which is no CrUX API answer\n  hint: check --endpoint / RUMCHECK_CRUX_ENDPOINT (default {DEFAULT_ENDPOINT})"
    )]
    Unexpected {
        /// The method URL, without the key.
        url: String,
        /// HTTP status.
        status: u16,
        /// The body's status and message, if any.
        detail: String,
    },
    /// Every attempt failed to connect or to get an answer.
    #[error(
        "cannot reach the CrUX API at {url} (attempts: {attempts}): {detail}\n  hint: check the network and any proxy, then run again"
    )]
    Network {
        /// The method URL, without the key.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        detail: String,
    },
    /// Every attempt was answered 429 or 5xx.
    #[error(
        "the CrUX API at {url} answered HTTP {status}{detail} to every attempt (attempts: {attempts})\n  hint: {hint}"
    )]
    Unavailable {
        /// The method URL, without the key.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last status.
        status: u16,
        /// The API's status and message, if any.
        detail: String,
        /// What to do.
        hint: &'static str,
    },
    /// A response could not be saved.
    #[error("cannot save the CrUX response to '{path}': {source}\n  hint: check --save-responses")]
    Save {
        /// The file.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The answers could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl FetchError {
    /// Whether the failure is the network's or the API's (exit 3) rather
    /// than the command line's or the input's (exit 2).
    pub fn is_infra(&self) -> bool {
        matches!(
            self,
            FetchError::Network { .. } | FetchError::Unavailable { .. }
        )
    }
}

/// The API's `error.status` and `error.message` as ` STATUS: message`, or
/// the start of a non-JSON body; control characters dropped, key scrubbed.
pub(super) fn api_detail(body: &[u8], key: &ApiKey) -> String {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let err = v.as_ref().and_then(|v| v.get("error"));
    let text = match err {
        Some(e) => {
            let s = |k: &str| e.get(k).and_then(|x| x.as_str()).unwrap_or("");
            format!("{} {}", s("status"), s("message"))
        }
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let clean: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    let clean = key.scrub(&clean);
    if clean.is_empty() {
        clean
    } else {
        format!(" {clean}")
    }
}
