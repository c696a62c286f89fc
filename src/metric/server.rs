//! Names of `server.*` metrics, interned so [`super::Metric`] stays `Copy`.

use super::UnknownMetric;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// How many distinct `server.*` names one process keeps: a page that sends a
/// fresh name on every response cannot grow memory without bound.
pub const MAX_SERVER_NAMES: usize = 256;

/// Longest Server-Timing name accepted, in bytes.
const MAX_LEN: usize = 64;

static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// A validated, interned `server.NAME` (the full name, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerName(&'static str);

impl ServerName {
    /// Checks and interns the entry name `name` (`db`, without `server.`):
    /// 1–64 of `a-z 0-9 _ - .`, compared case-insensitively.
    pub fn new(name: &str) -> Result<ServerName, UnknownMetric> {
        let refuse = |reason: String| UnknownMetric {
            given: format!("server.{name}"),
            reason: Some(reason),
        };
        let lower = name.to_ascii_lowercase();
        if lower.is_empty() || lower.len() > MAX_LEN {
            return Err(refuse(format!(
                "a Server-Timing name has 1 to {MAX_LEN} characters"
            )));
        }
        if !lower.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        }) {
            return Err(refuse(
                "a Server-Timing name here uses only a-z, 0-9, '_', '-' and '.'".into(),
            ));
        }
        let full = format!("server.{lower}");
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = names.get(full.as_str()) {
            return Ok(ServerName(known));
        }
        if names.len() >= MAX_SERVER_NAMES {
            return Err(refuse(format!(
                "more than {MAX_SERVER_NAMES} distinct server.* names in one run"
            )));
        }
        // Leaked once per distinct name, at most MAX_SERVER_NAMES of them.
        let interned: &'static str = Box::leak(full.into_boxed_str());
        names.insert(interned);
        Ok(ServerName(interned))
    }

    /// The full name, `server.db`.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The Server-Timing entry's name, `db`.
    pub fn entry(self) -> &'static str {
        &self.0["server.".len()..]
    }
}
