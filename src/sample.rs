//! The raw sample: one JSON object per page visit, one per line in
//! `samples.ndjson`. Written by `run`, read by `stats`/`verdict`/`report`.
//!
//! Metrics that did not happen (no interaction → no INP) are absent, never 0.

mod attribution;

pub use attribution::{InpPhases, LcpParts, Request, ServerTimingEntry};

use crate::metric::{Metric, Unit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

/// Version of the sample line format. Bump on incompatible changes.
pub const SAMPLE_SCHEMA: u32 = 1;

/// One page visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Sample format version ([`SAMPLE_SCHEMA`]).
    #[serde(default = "default_schema")]
    pub schema: u32,
    /// Run index (0-based): the n-th repetition of the scenario.
    pub run: u32,
    /// Page name from the scenario (for journeys: `page/step-name`).
    pub page: String,
    /// Profile name the visit ran under (`default` without profiles).
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Which build the visit measured.
    #[serde(default)]
    pub variant: Variant,
    /// The calibration tier the visit ran in (calibrated profiles only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
    /// The shard of a plan split across CI jobs (`rumcheck run --shard
    /// K/N`) this visit belongs to; absent in unsharded runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardStamp>,
    /// The URL visited.
    pub url: String,
    /// Whether the visit produced metrics.
    pub ok: bool,
    /// Why the visit failed (only when `ok` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whose fault a failed visit was: the machine's (`infrastructure`:
    /// browser or chromedriver gone, site unreachable, the watchdog) or the
    /// page's (`page`: an HTTP error, a failed step, a crash). Absent in ok
    /// visits and in files written before rumcheck recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureKind>,
    /// Attempts made (1 = first try succeeded).
    #[serde(default = "one")]
    pub attempts: u32,
    /// Metric values by name; absent when the metric did not happen.
    #[serde(default)]
    pub metrics: BTreeMap<Metric, f64>,
    /// Attribution and extra detail (LCP element, CLS target, INP phases, error messages…).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// Beacons the user's own RUM agent sent during the visit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beacons: Vec<Beacon>,
    /// What happened step by step (for reports and debugging).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepLog>,
    /// Browser name and version, e.g. `chrome 156.0.8078.73`.
    #[serde(default)]
    pub browser: String,
    /// How the visit was isolated from the others: `context` (a fresh
    /// browser context in a long-lived browser) or `browser` (a fresh
    /// browser). Absent in files written before rumcheck recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    /// The machine that ran the visit: a Selenium Grid node (`host:port`
    /// of its URI), a remote WebDriver's `host:port`, or this host's name.
    /// Absent in failed visits without a session and in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// RFC 3339 start time of the visit.
    #[serde(default)]
    pub started_at: String,
    /// Wall-clock timings of the sample's phases (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<SampleTiming>,
    /// Base64 PNG of the final viewport (failed and outlier visits only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
}

fn default_schema() -> u32 {
    SAMPLE_SCHEMA
}
fn default_profile() -> String {
    "default".into()
}
fn one() -> u32 {
    1
}

/// Which build a visit measured. Written as `"candidate"` / `"reference"`;
/// any other name read from a file is kept (and ignored by the verdict with
/// a note), so a samples file from another tool still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Variant {
    /// The build under test (the default when a line has no `variant`).
    #[default]
    Candidate,
    /// The production build, measured alongside or recorded earlier.
    Reference,
    /// A calibration probe (`rumcheck calibrate`, `calibrate-host`).
    Calibrate,
    /// A name this version does not know.
    Other(String),
}

impl Variant {
    /// The name in files and reports.
    pub fn as_str(&self) -> &str {
        match self {
            Variant::Candidate => "candidate",
            Variant::Reference => "reference",
            Variant::Calibrate => "calibrate",
            Variant::Other(name) => name,
        }
    }
}

impl From<String> for Variant {
    fn from(name: String) -> Self {
        match name.as_str() {
            "candidate" => Variant::Candidate,
            "reference" => Variant::Reference,
            "calibrate" => Variant::Calibrate,
            _ => Variant::Other(name),
        }
    }
}

impl From<&str> for Variant {
    fn from(name: &str) -> Self {
        Variant::from(name.to_string())
    }
}

impl From<Variant> for String {
    fn from(v: Variant) -> String {
        v.as_str().to_string()
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which shard of which plan a visit belongs to (`shard` in a sample
/// line), so `rumcheck compare` can put shards back together as one gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStamp {
    /// K of `--shard K/N` (1-based).
    pub index: u32,
    /// N of `--shard K/N`.
    pub of: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The plan fingerprint: 16 hex digits of a hash of the pages, profiles,
    /// runs and builds (`run::shard::fingerprint`).
    pub plan: String,
}

/// Whose fault a failed visit was (`failure` in a sample line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// The machine: browser or chromedriver gone, the site unreachable, a
    /// visit the watchdog ended. Such a run is not a pass (exit 3).
    Infrastructure,
    /// The page itself: an HTTP error status, a failed step, a crash.
    Page,
}

/// A beacon captured from the user's RUM agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beacon {
    /// How it was sent: `sendBeacon`, `fetch`, `xhr` or `image`.
    pub transport: String,
    /// Destination URL.
    pub url: String,
    /// Body as text (JSON bodies are kept as text too).
    #[serde(default)]
    pub body: String,
    /// Milliseconds since navigation start when it was sent.
    #[serde(default)]
    pub at_ms: f64,
}

/// One step of a visit, as executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// Human description, e.g. `click #buy`.
    pub step: String,
    /// Wall time the step took (ms).
    pub ms: f64,
    /// Error, when the step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where the wall time of a sample went (ms).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SampleTiming {
    /// Creating the WebDriver session and warming it up, or with
    /// `isolation = "context"` opening the visit's browser context (plus
    /// starting the long-lived browser on its first visit).
    pub session_ms: f64,
    /// Navigation and steps.
    pub page_ms: f64,
    /// Hiding the page and reading the collector back.
    pub finalize_ms: f64,
}

impl Sample {
    /// A failed visit with its reason.
    pub fn failed(run: u32, page: &str, profile: &str, url: &str, error: String) -> Self {
        Sample {
            schema: SAMPLE_SCHEMA,
            run,
            page: page.to_string(),
            profile: profile.to_string(),
            variant: Variant::Candidate,
            tier: None,
            shard: None,
            url: url.to_string(),
            ok: false,
            error: Some(error),
            failure: Some(FailureKind::Page),
            attempts: 1,
            metrics: BTreeMap::new(),
            details: serde_json::Value::Null,
            beacons: Vec::new(),
            steps: Vec::new(),
            browser: String::new(),
            isolation: None,
            node: None,
            started_at: String::new(),
            timing: None,
            screenshot: None,
        }
    }

    /// Whether this visit failed for the machine's reasons, not the page's.
    pub fn infrastructure_failure(&self) -> bool {
        !self.ok && self.failure == Some(FailureKind::Infrastructure)
    }

    /// The value of a metric, if this visit was ok and the metric happened.
    pub fn metric(&self, m: Metric) -> Option<f64> {
        if self.ok {
            self.metrics.get(&m).copied()
        } else {
            None
        }
    }
}

/// Error reading a samples file.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The file could not be opened or read.
    #[error("cannot read samples file '{path}': {source}")]
    Io {
        /// The file.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A line is not a valid sample.
    #[error(
        "{path}:{line}, column {column}: not a rumcheck sample: {message}\n  hint: samples files are written by `rumcheck run` (one JSON object per line)"
    )]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column in that line.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A metric value no visit can produce (negative, or beyond any
    /// plausible visit): judging it would report nonsense.
    #[error(
        "{path}:{line}: metrics.{metric} = {value} is {reason}\n  hint: samples files are written by `rumcheck run`; fix or remove this line"
    )]
    Value {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The metric's field name.
        metric: Metric,
        /// The value, as written (exponent form when huge).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A line comes from an incompatible version.
    #[error(
        "{path}:{line}: sample schema {found} is not supported (this rumcheck reads schema {SAMPLE_SCHEMA})\n  hint: re-record the samples with this version of rumcheck"
    )]
    Schema {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The schema found.
        found: u32,
    },
}

/// Reads an NDJSON samples file; blank lines are ignored.
pub fn read_samples(path: &Path) -> Result<Vec<Sample>, SampleError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SampleError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| SampleError::Io {
            path: shown.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let sample: Sample = serde_json::from_str(&line).map_err(|e| {
            // serde_json counts lines within the string, always 1 here.
            let text = e.to_string();
            let message = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(what, _)| what)
                .to_string();
            SampleError::Parse {
                path: shown.clone(),
                line: i + 1,
                column: e.column(),
                message,
            }
        })?;
        check_values(&sample).map_err(|(metric, value, reason)| SampleError::Value {
            path: shown.clone(),
            line: i + 1,
            metric,
            value: shown_value(value),
            reason,
        })?;
        if sample.schema != SAMPLE_SCHEMA {
            return Err(SampleError::Schema {
                path: shown,
                line: i + 1,
                found: sample.schema,
            });
        }
        out.push(sample);
    }
    Ok(out)
}

/// The largest value of a metric any real visit produces, by unit: a day of
/// milliseconds, a CLS of 1000, ten million of a count, a terabyte.
pub fn plausible_max(metric: Metric) -> f64 {
    match metric.unit() {
        Unit::Millis => 86_400_000.0,
        Unit::Score => 1_000.0,
        Unit::Count => 10_000_000.0,
        Unit::Bytes => 1e12,
    }
}

/// Metric values must be finite, non-negative and plausible.
fn check_values(sample: &Sample) -> Result<(), (Metric, f64, String)> {
    for (&m, &v) in &sample.metrics {
        if !v.is_finite() {
            return Err((m, v, "not a finite number".into()));
        }
        if v < 0.0 {
            return Err((m, v, "negative; no metric can be below 0".into()));
        }
        if v > plausible_max(m) {
            return Err((
                m,
                v,
                format!(
                    "above {} (the most any visit can measure)",
                    match m.unit() {
                        Unit::Millis => "86400000 ms, a day",
                        Unit::Score => "1000",
                        Unit::Count => "10000000",
                        Unit::Bytes => "1e12 bytes",
                    }
                ),
            ));
        }
    }
    Ok(())
}

fn shown_value(v: f64) -> String {
    if v.abs() >= 1e9 {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// Writes one sample as a line and flushes, so a crash keeps what was measured.
pub fn write_sample(out: &mut impl Write, sample: &Sample) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, sample)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_absent_metrics_absent() {
        let mut s = Sample::failed(3, "home", "default", "http://127.0.0.1/", "timeout".into());
        s.ok = true;
        s.error = None;
        s.metrics.insert(Metric::Lcp, 1234.5);
        let mut buf = Vec::new();
        write_sample(&mut buf, &s).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("inp"), "{text}");
        let back: Sample = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.metric(Metric::Inp), None);
        assert_eq!(back.metric(Metric::Lcp), Some(1234.5));
    }

    fn read(lines: &str) -> Result<Vec<Sample>, SampleError> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.ndjson");
        std::fs::write(&f, lines).unwrap();
        read_samples(&f).map_err(|e| match e {
            SampleError::Parse {
                path,
                line,
                column,
                message,
            } => SampleError::Parse {
                path: path.replace(&*dir.path().to_string_lossy(), "DIR"),
                line,
                column,
                message,
            },
            SampleError::Value {
                path,
                line,
                metric,
                value,
                reason,
            } => SampleError::Value {
                path: path.replace(&*dir.path().to_string_lossy(), "DIR"),
                line,
                metric,
                value,
                reason,
            },
            other => other,
        })
    }

    const OK: &str = r#"{"run":0,"page":"home","url":"u","ok":true,"metrics":{"lcp":1200}}"#;

    #[test]
    fn the_failure_kind_is_optional_and_old_lines_still_read() {
        let old = r#"{"run":0,"page":"home","url":"u","ok":false,"error":"x"}"#;
        let infra = r#"{"run":0,"page":"home","url":"u","ok":false,"error":"x","failure":"infrastructure"}"#;
        let page = r#"{"run":0,"page":"home","url":"u","ok":false,"error":"x","failure":"page"}"#;
        let read = read(&format!("{old}\n{infra}\n{page}\n")).unwrap();
        let kinds: Vec<_> = read.iter().map(|s| s.failure).collect();
        assert_eq!(
            kinds,
            [
                None,
                Some(FailureKind::Infrastructure),
                Some(FailureKind::Page)
            ]
        );
        let infra: Vec<_> = read.iter().map(Sample::infrastructure_failure).collect();
        assert_eq!(infra, [false, true, false]);
        // Ok visits write no `failure` at all.
        let mut ok = read[0].clone();
        ok.ok = true;
        ok.failure = None;
        let mut buf = Vec::new();
        write_sample(&mut buf, &ok).unwrap();
        assert!(!String::from_utf8(buf).unwrap().contains("failure"));
    }

    #[test]
    fn negative_metric_values_are_refused_with_file_line_and_field() {
        let text = format!("{OK}\n\n{}\n", OK.replace("1200", "-5"));
        let e = read(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("DIR/c.ndjson:3: metrics.lcp = -5 is negative; no metric can be below 0"),
            "{e}"
        );
    }

    #[test]
    fn absurd_metric_values_are_refused_and_shown_short() {
        let e = read(&OK.replace("1200", "1e308")).unwrap_err().to_string();
        assert!(
            e.starts_with("DIR/c.ndjson:1: metrics.lcp = 1e308 is above 86400000 ms"),
            "{e}"
        );
        let e = read(&OK.replace(r#""lcp":1200"#, r#""cls":5000"#))
            .unwrap_err()
            .to_string();
        assert!(e.contains("metrics.cls = 5000 is above"), "{e}");
        // Out of f64's range is a parse error, not an infinity.
        assert!(read(&OK.replace("1200", "1e999")).is_err());
        assert_eq!(read(&OK.replace("1200", "0")).unwrap().len(), 1);
    }

    #[test]
    fn a_malformed_line_names_file_line_and_column_once() {
        let e = read(&format!("{OK}\n{{x\n")).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "DIR/c.ndjson:2, column 2: not a rumcheck sample: key must be a string\n"
            ),
            "{e}"
        );
        assert!(!e.contains("at line 1"), "{e}");
    }
}
