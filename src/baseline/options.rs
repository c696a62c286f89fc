//! Validated import options: what `rumcheck baseline import` flags become
//! before any file is opened.

use crate::metric::Metric;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Input format of the files given to `baseline import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Generic RUM CSV export, long or wide format.
    Csv,
    /// web-vitals beacons, one JSON object per line.
    WebVitals,
    /// Boomerang beacons, one query string or JSON object per line.
    Boomerang,
    /// CrUX API `records:queryRecord` response (or a PSI `loadingExperience`).
    Crux,
    /// CrUX History API `records:queryHistoryRecord` response.
    CruxHistory,
    /// CrUX BigQuery `materialized.device_summary` / `metrics_summary` rows
    /// (one JSON object, a JSON array, or newline-delimited JSON).
    CruxBigQuery,
}

impl Format {
    /// The name used on the command line and in provenance.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::WebVitals => "webvitals",
            Format::Boomerang => "boomerang",
            Format::Crux => "crux",
            Format::CruxHistory => "crux-history",
            Format::CruxBigQuery => "crux-bigquery",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How page keys are derived from URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageBy {
    /// The URL path (query and fragment dropped).
    Path,
    /// The path with numeric and hash-like segments folded to `:id`.
    Template,
    /// Every row belongs to page `*`.
    None,
}

/// A segment dimension selectable with `--segment-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SegmentDim {
    /// phone / tablet / desktop.
    FormFactor,
    /// Effective connection type.
    Connection,
    /// Country code.
    Country,
    /// Browser family.
    Browser,
}

/// A field of the generic row model that `--map FIELD=COLUMN` can point at a CSV column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// Full URL or path of the page.
    Url,
    /// Event time (RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC, or epoch s/ms).
    Timestamp,
    /// User identifier (hashed for counting, then dropped).
    User,
    /// Session identifier (hashed for counting, then dropped).
    Session,
    /// Page-view identifier (long format: groups metric rows of one view).
    View,
    /// Form factor (`mobile`, `phone`, `tablet`, `desktop`).
    FormFactor,
    /// User-agent string, classified into form factor and browser.
    UserAgent,
    /// Effective connection type (`4g`, `3g`, …).
    Connection,
    /// Country code.
    Country,
    /// Browser family.
    Browser,
    /// Long format: the metric name column.
    MetricName,
    /// Long format: the value column.
    Value,
    /// Wide format: the column holding one metric.
    Metric(Metric),
}

impl Field {
    /// The name used in `--map`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Url => "url",
            Field::Timestamp => "timestamp",
            Field::User => "user",
            Field::Session => "session",
            Field::View => "view",
            Field::FormFactor => "form_factor",
            Field::UserAgent => "user_agent",
            Field::Connection => "connection",
            Field::Country => "country",
            Field::Browser => "browser",
            Field::MetricName => "metric",
            Field::Value => "value",
            Field::Metric(m) => m.name(),
        }
    }

    /// The non-metric fields, in documentation order.
    pub const CONTEXT: [Field; 12] = [
        Field::Url,
        Field::Timestamp,
        Field::User,
        Field::Session,
        Field::View,
        Field::FormFactor,
        Field::UserAgent,
        Field::Connection,
        Field::Country,
        Field::Browser,
        Field::MetricName,
        Field::Value,
    ];
}

impl FromStr for Field {
    type Err = OptionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(f) = Field::CONTEXT.iter().find(|f| f.name() == lower) {
            return Ok(*f);
        }
        if lower.starts_with("server.") {
            // A custom metric compared with the lab's Server-Timing entry of the same name.
            return Metric::parse_lab(&lower).map(Field::Metric).map_err(|e| {
                OptionError::ServerName {
                    given: s.trim().to_string(),
                    reason: e.reason.unwrap_or_default(),
                }
            });
        }
        lower
            .parse::<Metric>()
            .map(Field::Metric)
            .map_err(|_| OptionError::UnknownField(s.to_string()))
    }
}

/// Everything an import needs to know, validated.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Input format.
    pub format: Format,
    /// Explicit CSV column mapping (field → column header).
    pub map: BTreeMap<Field, String>,
    /// Segment dimensions, sorted and deduplicated.
    pub segment_by: Vec<SegmentDim>,
    /// Page keying.
    pub page_by: PageBy,
    /// Path segments `--page-by template` keeps although they look like ids.
    pub keep_path_segments: crate::segment::KeepSegments,
    /// Apdex target T (ms or score) per metric.
    pub apdex_t: BTreeMap<Metric, f64>,
    /// Segments with fewer samples are marked too small.
    pub min_segment: u64,
    /// Stop at the first bad row.
    pub strict: bool,
    /// Threads for CSV import, the calling thread included: 0 = one per
    /// CPU, 1 = the calling thread alone. The baseline does not depend on
    /// it (see `docs/design-notes.md`).
    pub threads: usize,
    /// Page keys kept, the most viewed first; the others are folded into
    /// the page [`OTHER_PAGE`] (see `docs/baseline-format.md`).
    pub max_pages: usize,
    /// The longest record (CSV) or line (NDJSON, Boomerang) read, in bytes;
    /// a longer one is rejected as `too-long`, and read no further than this.
    pub max_line_bytes: usize,
}

/// The page that pages beyond `--max-pages` are folded into.
pub const OTHER_PAGE: &str = "(other)";

/// Default `--max-pages`.
pub const DEFAULT_MAX_PAGES: usize = 1000;

/// Default `--max-line-bytes`: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// Threads per CPU `-j` may ask for: more only add memory and contention.
pub const THREADS_PER_CPU: usize = 4;

/// The CPUs this process may use.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl ImportOptions {
    /// The threads an import uses: `threads` (at most [`THREADS_PER_CPU`]
    /// per CPU), or one per CPU for 0.
    pub fn thread_count(&self) -> usize {
        match self.threads {
            0 => cpus(),
            n => n.min(cpus() * THREADS_PER_CPU),
        }
    }

    /// Defaults for `format`: segment by form factor, template pages, min segment 30.
    pub fn new(format: Format) -> Self {
        ImportOptions {
            format,
            map: BTreeMap::new(),
            segment_by: vec![SegmentDim::FormFactor],
            page_by: PageBy::Template,
            keep_path_segments: Default::default(),
            apdex_t: BTreeMap::new(),
            min_segment: 30,
            strict: false,
            threads: 0,
            max_pages: DEFAULT_MAX_PAGES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Sets the `-j` thread count (0 = one per CPU), refusing more than
    /// [`THREADS_PER_CPU`] per CPU: each thread holds a block of the file and
    /// its aggregates, and thousands only exhaust memory.
    pub fn set_threads(&mut self, threads: usize) -> Result<(), OptionError> {
        let most = cpus() * THREADS_PER_CPU;
        if threads > most {
            return Err(OptionError::Threads {
                asked: threads,
                most,
            });
        }
        self.threads = threads;
        Ok(())
    }

    /// Sets `--max-pages` and `--max-line-bytes`, refusing zero and line
    /// bounds below 1 KiB or above 1 GiB.
    pub fn set_bounds(
        &mut self,
        max_pages: usize,
        max_line_bytes: usize,
    ) -> Result<(), OptionError> {
        if max_pages == 0 {
            return Err(OptionError::MaxPages);
        }
        if !(1 << 10..=1 << 30).contains(&max_line_bytes) {
            return Err(OptionError::MaxLineBytes(max_line_bytes));
        }
        self.max_pages = max_pages;
        self.max_line_bytes = max_line_bytes;
        Ok(())
    }

    /// Validates the raw flag values of `baseline import`.
    pub fn from_flags(
        format: &str,
        map: &[String],
        segment_by: &[String],
        page_by: &str,
        apdex_t: &[String],
        min_segment: u64,
        strict: bool,
    ) -> Result<Self, OptionError> {
        let format = match format.trim().to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "webvitals" | "web-vitals" => Format::WebVitals,
            "boomerang" => Format::Boomerang,
            "crux" | "psi" => Format::Crux,
            "crux-history" | "crux_history" => Format::CruxHistory,
            "crux-bigquery" | "crux_bigquery" | "bigquery" => Format::CruxBigQuery,
            _ => return Err(OptionError::Format(format.to_string())),
        };
        let mut opts = ImportOptions::new(format);
        for m in map {
            let (field, column) = m
                .split_once('=')
                .ok_or_else(|| OptionError::MapSyntax(m.clone()))?;
            if column.trim().is_empty() {
                return Err(OptionError::MapSyntax(m.clone()));
            }
            opts.map.insert(field.parse()?, column.trim().to_string());
        }
        let server = opts
            .map
            .keys()
            .any(|f| matches!(f, Field::Metric(Metric::Server(_))));
        if server && !matches!(format, Format::Csv | Format::WebVitals) {
            return Err(OptionError::ServerFormat(format));
        }
        let mut dims = Vec::new();
        for d in segment_by
            .iter()
            .map(|d| d.trim())
            .filter(|d| !d.is_empty())
        {
            dims.push(match d.to_ascii_lowercase().as_str() {
                "form_factor" | "form-factor" | "device" => SegmentDim::FormFactor,
                "connection" | "ect" => SegmentDim::Connection,
                "country" => SegmentDim::Country,
                "browser" => SegmentDim::Browser,
                _ => return Err(OptionError::SegmentDim(d.to_string())),
            });
        }
        dims.sort();
        dims.dedup();
        opts.segment_by = dims;
        opts.page_by = match page_by.trim().to_ascii_lowercase().as_str() {
            "path" => PageBy::Path,
            "template" => PageBy::Template,
            "none" => PageBy::None,
            _ => return Err(OptionError::PageBy(page_by.to_string())),
        };
        for a in apdex_t {
            let bad = || OptionError::Apdex(a.clone());
            let (metric, t) = a.split_once('=').ok_or_else(bad)?;
            let metric: Metric = metric.parse().map_err(|_| bad())?;
            let t: f64 = t.trim().parse().map_err(|_| bad())?;
            if !(t.is_finite() && t > 0.0) {
                return Err(bad());
            }
            opts.apdex_t.insert(metric, t);
        }
        opts.min_segment = min_segment;
        opts.strict = strict;
        Ok(opts)
    }
}

/// A flag of `baseline import` that cannot be used as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// `--format` is unknown.
    #[error(
        "--format '{0}' is unknown; use one of: csv, webvitals, boomerang, crux, crux-history, crux-bigquery"
    )]
    Format(String),
    /// `--map` is not `FIELD=COLUMN`.
    #[error("--map '{0}' must be FIELD=COLUMN, e.g. --map lcp=largest_contentful_paint_ms")]
    MapSyntax(String),
    /// `--map` names a field that does not exist.
    #[error(
        "--map field '{0}' is unknown; use a metric name (lcp, cls, inp, fcp, ttfb, …) or one of: {fields}",
        fields = Field::CONTEXT.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    )]
    UnknownField(String),
    /// `--map server.NAME=…` with a NAME no Server-Timing entry can have.
    #[error(
        "--map field '{given}' is not a valid server metric: {reason}; name it server.NAME with 1 to 64 of a-z, 0-9, '_', '-' and '.', e.g. --map server.db=db_time_ms"
    )]
    ServerName {
        /// The field as given.
        given: String,
        /// Why the name was refused.
        reason: String,
    },
    /// `--map server.*` with a format that has no such columns.
    #[error(
        "--map server.NAME=…: --format {0} has no columns of a team's own; server metrics come from csv columns or fields of webvitals TTFB beacons"
    )]
    ServerFormat(Format),
    /// `--segment-by` names an unknown dimension.
    #[error("--segment-by '{0}' is unknown; use form_factor, connection, country and/or browser")]
    SegmentDim(String),
    /// `--page-by` is unknown.
    #[error("--page-by '{0}' is unknown; use path, template or none")]
    PageBy(String),
    /// `--apdex-t` is not `METRIC=T` with a positive T.
    #[error("--apdex-t '{0}' must be METRIC=T with a positive target, e.g. --apdex-t lcp=2500")]
    Apdex(String),
    /// `-j` asks for more threads than the machine can use.
    #[error(
        "-j {asked}: at most {most} threads on this machine ({THREADS_PER_CPU} per CPU); use -j 0 for one per CPU"
    )]
    Threads {
        /// The thread count asked for.
        asked: usize,
        /// The most allowed here.
        most: usize,
    },
    /// `--max-pages 0`.
    #[error("--max-pages must be at least 1 (default {DEFAULT_MAX_PAGES})")]
    MaxPages,
    /// `--max-line-bytes` out of range.
    #[error(
        "--max-line-bytes {0} is out of range; use 1024 to 1073741824 (default {DEFAULT_MAX_LINE_BYTES})"
    )]
    MaxLineBytes(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        let o = ImportOptions::from_flags(
            "CSV",
            &["lcp=LCP_ms".into(), "url=page".into()],
            &[
                "connection".into(),
                "form_factor".into(),
                "connection".into(),
            ],
            "path",
            &["lcp=2500".into()],
            10,
            true,
        )
        .unwrap();
        assert_eq!(o.format, Format::Csv);
        assert_eq!(o.map[&Field::Metric(Metric::Lcp)], "LCP_ms");
        assert_eq!(o.map[&Field::Url], "page");
        assert_eq!(
            o.segment_by,
            vec![SegmentDim::FormFactor, SegmentDim::Connection]
        );
        assert_eq!(o.apdex_t[&Metric::Lcp], 2500.0);
    }

    #[test]
    fn server_fields_map_to_server_metrics_and_bad_names_say_how_to_fix() {
        let e_has = |r: Result<ImportOptions, OptionError>, what: &str| {
            r.is_err_and(|e| e.to_string().contains(what))
        };
        let o = ImportOptions::from_flags(
            "csv",
            &["Server.DB=db_time_ms".into()],
            &[],
            "path",
            &[],
            30,
            false,
        )
        .unwrap();
        let db = Metric::parse_lab("server.db").unwrap();
        assert_eq!(o.map[&Field::Metric(db)], "db_time_ms");
        assert_eq!(Field::Metric(db).name(), "server.db");
        let crux =
            ImportOptions::from_flags("crux", &["server.db=x".into()], &[], "path", &[], 30, false);
        assert!(e_has(crux, "--format crux has no columns"));
        for bad in ["server.=x", "server.a b=x", "server.caché=x"] {
            let e = ImportOptions::from_flags("csv", &[bad.into()], &[], "path", &[], 30, false)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("--map field 'server.") && e.contains("e.g. --map server.db="),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let e = |r: Result<ImportOptions, OptionError>| r.unwrap_err().to_string();
        let ok = |f: &str| ImportOptions::from_flags(f, &[], &[], "template", &[], 30, false);
        assert!(e(ok("xls")).contains("--format 'xls'"));
        let m = ImportOptions::from_flags("csv", &["lpc=x".into()], &[], "path", &[], 30, false);
        assert!(e(m).contains("--map field 'lpc'"));
        let m = ImportOptions::from_flags("csv", &["lcp".into()], &[], "path", &[], 30, false);
        assert!(e(m).contains("FIELD=COLUMN"));
        let a = ImportOptions::from_flags("csv", &[], &[], "path", &["lcp=-1".into()], 30, false);
        assert!(e(a).contains("--apdex-t"));
        let mut o = ImportOptions::new(Format::Csv);
        let j = o.set_threads(20_000).unwrap_err().to_string();
        assert!(j.starts_with("-j 20000: at most"), "{j}");
        assert_eq!(o.threads, 0);
        assert!(o.set_threads(1).is_ok());
        assert!(
            o.set_bounds(0, 1 << 20)
                .unwrap_err()
                .to_string()
                .contains("--max-pages")
        );
        assert!(
            o.set_bounds(10, 10)
                .unwrap_err()
                .to_string()
                .contains("--max-line-bytes 10")
        );
    }
}
