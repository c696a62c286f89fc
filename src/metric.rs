//! The metrics rumcheck measures, with the RUM agent's names and thresholds.
//!
//! Names and definitions follow Google's web-vitals library (the table in
//! the README's "How rumcheck measures"). Every other module refers to metrics through [`Metric`], so a
//! sample, a baseline and a verdict always agree on what `lcp` means.

mod server;

pub use server::{MAX_SERVER_NAMES, ServerName};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A metric a RUM agent reports (or, for `tbt`, a lab-only companion), or a
/// named `Server-Timing` entry of the navigation (`server.db`).
///
/// In files a metric is its [`Metric::name`]: `lcp`, `js_errors`, `server.db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Time to first byte: `responseStart − activationStart`, floored at 0 (ms).
    Ttfb,
    /// First contentful paint (ms).
    Fcp,
    /// Largest contentful paint, finalised by trusted input or page hide (ms).
    Lcp,
    /// Cumulative layout shift: largest session window (unitless).
    Cls,
    /// Interaction to next paint (ms); absent without interactions.
    Inp,
    /// First input delay, legacy (ms).
    Fid,
    /// `loadEventEnd − activationStart`, "page load time" (ms).
    Load,
    /// `domContentLoadedEventEnd − activationStart` (ms).
    Dcl,
    /// Total blocking time after FCP, lab-only (ms).
    Tbt,
    /// Number of long tasks (> 50 ms) during the visit.
    LongTasks,
    /// Requests: navigation + resource entries.
    Requests,
    /// Transferred bytes over all requests.
    Bytes,
    /// Requests that failed (4xx/5xx or network error).
    FailedRequests,
    /// Uncaught errors and unhandled rejections.
    JsErrors,
    /// The duration of a named `Server-Timing` entry of the navigation (ms),
    /// e.g. `server.db`: lab-only unless a baseline maps a column to it.
    Server(ServerName),
}

/// Whether larger values of a metric are worse (all of ours are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Millis,
    /// A unitless score (CLS).
    Score,
    /// A count of things.
    Count,
    /// Bytes.
    Bytes,
}

/// The default practical-significance threshold for a metric: a shift must
/// exceed `max(relative × reference, absolute)` to matter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PracticalThreshold {
    /// Relative part, e.g. 0.10 for 10 %.
    pub relative: f64,
    /// Absolute floor in the metric's unit (ms, score or count).
    pub absolute: f64,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 14] = [
        Metric::Ttfb,
        Metric::Fcp,
        Metric::Lcp,
        Metric::Cls,
        Metric::Inp,
        Metric::Fid,
        Metric::Load,
        Metric::Dcl,
        Metric::Tbt,
        Metric::LongTasks,
        Metric::Requests,
        Metric::Bytes,
        Metric::FailedRequests,
        Metric::JsErrors,
    ];

    /// The Core Web Vitals and their diagnostics that the gate judges by default.
    pub const GATED: [Metric; 5] = [
        Metric::Lcp,
        Metric::Cls,
        Metric::Inp,
        Metric::Fcp,
        Metric::Ttfb,
    ];

    /// Where a built-in metric is in [`Metric::ALL`]; `None` for `server.*`.
    pub fn index(self) -> Option<usize> {
        // A match, not a search: the importer calls this for every value.
        Some(match self {
            Metric::Ttfb => 0,
            Metric::Fcp => 1,
            Metric::Lcp => 2,
            Metric::Cls => 3,
            Metric::Inp => 4,
            Metric::Fid => 5,
            Metric::Load => 6,
            Metric::Dcl => 7,
            Metric::Tbt => 8,
            Metric::LongTasks => 9,
            Metric::Requests => 10,
            Metric::Bytes => 11,
            Metric::FailedRequests => 12,
            Metric::JsErrors => 13,
            Metric::Server(_) => return None,
        })
    }

    /// Any metric a lab visit can have: a built-in name or alias (as
    /// [`FromStr`] reads it) or `server.NAME` (case-insensitive; NAME is 1–64
    /// of `a-z 0-9 _ - .`). The `server.*` names are interned, at most
    /// [`MAX_SERVER_NAMES`] per process.
    pub fn parse_lab(s: &str) -> Result<Metric, UnknownMetric> {
        let trimmed = s.trim();
        match trimmed.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("server.") => {
                ServerName::new(&trimmed[7..]).map(Metric::Server)
            }
            _ => trimmed.parse(),
        }
    }

    /// The exact name in files: a built-in's [`Metric::name`] or `server.NAME`.
    fn from_file_name(s: &str) -> Option<Metric> {
        if let Some(m) = Metric::ALL.iter().find(|m| m.name() == s) {
            return Some(*m);
        }
        let rest = s.strip_prefix("server.")?;
        let name = ServerName::new(rest).ok()?;
        (name.as_str() == s).then_some(Metric::Server(name))
    }

    /// The short name used in files and on the command line (`lcp`, `js_errors`, `server.db`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Server(n) => n.as_str(),
            Metric::Ttfb => "ttfb",
            Metric::Fcp => "fcp",
            Metric::Lcp => "lcp",
            Metric::Cls => "cls",
            Metric::Inp => "inp",
            Metric::Fid => "fid",
            Metric::Load => "load",
            Metric::Dcl => "dcl",
            Metric::Tbt => "tbt",
            Metric::LongTasks => "long_tasks",
            Metric::Requests => "requests",
            Metric::Bytes => "bytes",
            Metric::FailedRequests => "failed_requests",
            Metric::JsErrors => "js_errors",
        }
    }

    /// The unit values of this metric are in.
    pub fn unit(self) -> Unit {
        match self {
            Metric::Cls => Unit::Score,
            Metric::LongTasks | Metric::Requests | Metric::FailedRequests | Metric::JsErrors => {
                Unit::Count
            }
            Metric::Bytes => Unit::Bytes,
            _ => Unit::Millis,
        }
    }

    /// web-vitals' "good" / "poor" boundaries `(good_max, poor_min)`: a value
    /// `<= good_max` is good, `> poor_min` is poor (web-vitals rates
    /// `value > poor` as poor and `value > good` as needs-improvement).
    /// `None` for metrics without published thresholds.
    pub fn thresholds(self) -> Option<(f64, f64)> {
        match self {
            Metric::Lcp => Some((2500.0, 4000.0)),
            Metric::Inp => Some((200.0, 500.0)),
            Metric::Cls => Some((0.1, 0.25)),
            Metric::Fcp => Some((1800.0, 3000.0)),
            Metric::Ttfb => Some((800.0, 1800.0)),
            Metric::Fid => Some((100.0, 300.0)),
            _ => None,
        }
    }

    /// Rates a value like web-vitals does.
    pub fn rate(self, value: f64) -> Option<Rating> {
        let (good, poor) = self.thresholds()?;
        Some(if value <= good {
            Rating::Good
        } else if value <= poor {
            Rating::NeedsImprovement
        } else {
            Rating::Poor
        })
    }

    /// Default practical threshold: 10 % relative with absolute floors (lcp/fcp/load
    /// 100 ms, ttfb 50 ms, inp 25 ms, server.* 20 ms, cls 0.02, js_errors 1; `docs/statistics.md`).
    pub fn default_threshold(self) -> PracticalThreshold {
        let absolute = match self {
            Metric::Lcp | Metric::Fcp | Metric::Load | Metric::Dcl => 100.0,
            Metric::Ttfb => 50.0,
            Metric::Inp | Metric::Fid => 25.0,
            Metric::Tbt => 50.0,
            Metric::Cls => 0.02,
            Metric::JsErrors | Metric::FailedRequests | Metric::LongTasks | Metric::Requests => 1.0,
            Metric::Bytes => 10_240.0,
            Metric::Server(_) => 20.0,
        };
        PracticalThreshold {
            relative: 0.10,
            absolute,
        }
    }

    /// Formats a value of this metric for people (`2.31 s`, `0.042`, `12`).
    pub fn format(self, value: f64) -> String {
        match self.unit() {
            Unit::Score => format!("{value:.3}"),
            Unit::Count => format!("{value:.0}"),
            Unit::Bytes => {
                if value >= 1_048_576.0 {
                    format!("{:.1} MB", value / 1_048_576.0)
                } else {
                    format!("{:.1} kB", value / 1024.0)
                }
            }
            Unit::Millis => {
                if value.abs() >= 10_000.0 {
                    format!("{:.1} s", value / 1000.0)
                } else {
                    format!("{value:.0} ms")
                }
            }
        }
    }
}

/// web-vitals' three-way rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rating {
    /// At or below the "good" threshold.
    Good,
    /// Between the thresholds.
    NeedsImprovement,
    /// Above the "poor" threshold.
    Poor,
}

impl Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Metric {
    /// Exact names only (`lcp`, `server.db`), as files are written.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Metric::from_file_name(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown metric '{s}'; known metrics: {}, or server.NAME",
                known_names()
            ))
        })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for a metric name nobody knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric '{given}'{}; known metrics: {}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(), known_names())]
pub struct UnknownMetric {
    /// What the user wrote.
    pub given: String,
    /// Why a `server.NAME` was refused, if that was the trouble.
    pub reason: Option<String>,
}

fn known_names() -> String {
    Metric::ALL
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Metric {
    type Err = UnknownMetric;

    /// Accepts our names, case-insensitively, plus the common aliases RUM
    /// exports use (`LCP`, `largest_contentful_paint`, `CLS`, `TTFB`, …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase().replace(['-', ' ', '.'], "_");
        let m = match lower.as_str() {
            "ttfb" | "time_to_first_byte" | "experimental_time_to_first_byte" => Metric::Ttfb,
            "fcp" | "first_contentful_paint" => Metric::Fcp,
            "lcp" | "largest_contentful_paint" => Metric::Lcp,
            "cls" | "cumulative_layout_shift" => Metric::Cls,
            "inp" | "interaction_to_next_paint" | "experimental_interaction_to_next_paint" => {
                Metric::Inp
            }
            "fid" | "first_input_delay" => Metric::Fid,
            "load" | "page_load" | "onload" | "load_time" => Metric::Load,
            "dcl" | "dom_content_loaded" | "domcontentloaded" => Metric::Dcl,
            "tbt" | "total_blocking_time" => Metric::Tbt,
            "long_tasks" | "longtasks" => Metric::LongTasks,
            "requests" => Metric::Requests,
            "bytes" | "transfer_size" => Metric::Bytes,
            "failed_requests" => Metric::FailedRequests,
            "js_errors" | "errors" => Metric::JsErrors,
            _ => {
                return Err(UnknownMetric {
                    given: s.to_string(),
                    reason: None,
                });
            }
        };
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), Some(i));
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
        }
    }

    #[test]
    fn ratings_follow_web_vitals_boundaries() {
        assert_eq!(Metric::Lcp.rate(2500.0), Some(Rating::Good));
        assert_eq!(Metric::Lcp.rate(2500.1), Some(Rating::NeedsImprovement));
        assert_eq!(Metric::Lcp.rate(4000.0), Some(Rating::NeedsImprovement));
        assert_eq!(Metric::Lcp.rate(4000.1), Some(Rating::Poor));
        assert_eq!(Metric::Cls.rate(0.1), Some(Rating::Good));
        assert_eq!(Metric::Requests.rate(3.0), None);
    }

    #[test]
    fn server_metrics_parse_serialise_and_sort_after_the_built_ins() {
        let db = Metric::parse_lab(" Server.DB ").unwrap();
        assert_eq!(db.name(), "server.db");
        assert_eq!(db, Metric::parse_lab("server.db").unwrap());
        assert_eq!(db.unit(), Unit::Millis);
        assert_eq!(db.index(), None);
        assert_eq!(Metric::Lcp.index(), Some(2));
        assert!(Metric::JsErrors < db);
        assert_eq!(serde_json::to_string(&db).unwrap(), "\"server.db\"");
        let map: std::collections::BTreeMap<Metric, f64> =
            serde_json::from_str(r#"{"lcp": 1, "server.db": 2.5}"#).unwrap();
        assert_eq!(map[&db], 2.5);
        // Files hold exact names; the command line may use any case.
        assert!(serde_json::from_str::<Metric>("\"Server.DB\"").is_err());
        assert!(serde_json::from_str::<Metric>("\"LCP\"").is_err());
        assert_eq!(Metric::parse_lab("LCP").unwrap(), Metric::Lcp);
        // The built-in parser does not know server metrics (baselines key by built-ins).
        assert!("server.db".parse::<Metric>().is_err());
        let e = Metric::parse_lab("server.").unwrap_err().to_string();
        assert!(e.contains("'server.'") && e.contains("1 to 64"), "{e}");
        let e = Metric::parse_lab("server.a b").unwrap_err().to_string();
        assert!(e.contains("a-z"), "{e}");
    }

    #[test]
    fn unknown_metric_lists_the_known_ones() {
        let err = "lpc".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("'lpc'") && err.contains("lcp, cls"), "{err}");
    }
}
