//! Why rows are rejected, and the errors an import can end with.

use super::model::Source;
use super::options::OptionError;

/// Why a row (line, record) did not contribute to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The row could not be parsed (CSV field count, invalid JSON, bad query string).
    Malformed,
    /// The record or line is longer than `--max-line-bytes`.
    TooLong,
    /// A field the importer reads holds bytes that are not UTF-8.
    NonUtf8,
    /// A metric value is not a number.
    NonNumeric,
    /// A metric value is negative.
    Negative,
    /// A metric value is NaN or infinite.
    NotFinite,
    /// A metric value is physically implausible (e.g. LCP over an hour).
    Absurd,
    /// The timestamp could not be parsed.
    BadTimestamp,
    /// The page URL is missing or empty.
    MissingPage,
    /// A web-vitals beacon names a metric rumcheck does not know.
    UnknownMetric,
    /// The row carries no metric value.
    NoMetrics,
    /// The file holds no rows at all.
    EmptyFile,
    /// The record says there is no data (CrUX 404, PSI without field data).
    NoData,
    /// A Boomerang unload beacon (it repeats the page-load beacon's timers).
    UnloadBeacon,
    /// A CrUX History period with NaN densities or a null p75.
    IncompletePeriod,
    /// Three-bin fractions (CrUX BigQuery `fast_*`/`avg_*`/`slow_*`) that are
    /// incomplete or do not sum to about 1.
    BadFractions,
    /// CrUX BigQuery fractions whose p75 shows they were cut at other
    /// thresholds than web-vitals': the shares are dropped, the p75 kept.
    OtherThresholds,
    /// A CrUX BigQuery row for an older month of a page × segment that the
    /// file also has a newer row for.
    Superseded,
    /// A Boomerang error beacon (`http.initiator=error`): errors reported
    /// after the page-load beacon, with no timers of their own.
    ErrorBeacon,
}

impl Reason {
    /// The kebab-case name used in provenance and messages.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::TooLong => "too-long",
            Reason::NonUtf8 => "non-utf8",
            Reason::NonNumeric => "non-numeric",
            Reason::Negative => "negative",
            Reason::NotFinite => "not-finite",
            Reason::Absurd => "absurd",
            Reason::BadTimestamp => "bad-timestamp",
            Reason::MissingPage => "missing-page",
            Reason::UnknownMetric => "unknown-metric",
            Reason::NoMetrics => "no-metrics",
            Reason::EmptyFile => "empty-file",
            Reason::NoData => "no-data",
            Reason::UnloadBeacon => "unload-beacon",
            Reason::IncompletePeriod => "incomplete-period",
            Reason::BadFractions => "bad-fractions",
            Reason::OtherThresholds => "other-thresholds",
            Reason::Superseded => "superseded",
            Reason::ErrorBeacon => "error-beacon",
        }
    }

    /// Whether `--strict` stops on it. Skipping an unload or error beacon,
    /// an incomplete history period, an older BigQuery month or shares cut at
    /// other thresholds is how the formats work, not bad input.
    pub fn is_bad_input(self) -> bool {
        !matches!(
            self,
            Reason::UnloadBeacon
                | Reason::IncompletePeriod
                | Reason::OtherThresholds
                | Reason::Superseded
                | Reason::ErrorBeacon
        )
    }
}

/// How many line numbers are kept per reason.
pub const FIRST_LINES_KEPT: usize = 10;

/// An import that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A flag is invalid.
    #[error(transparent)]
    Option(#[from] OptionError),
    /// A file could not be opened or read.
    #[error("cannot read '{file}': {source}")]
    Io {
        /// The file.
        file: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// `--strict` and a bad row.
    #[error(
        "{file}:{line}: {reason}: {detail}\n  hint: fix or remove the row, or drop --strict to skip bad rows and count them by reason"
    )]
    Strict {
        /// The file.
        file: String,
        /// 1-based line (for JSON documents: the record or period number).
        line: u64,
        /// Reason name.
        reason: &'static str,
        /// What exactly was wrong.
        detail: String,
    },
    /// `--map` points at a column the CSV header does not have.
    #[error(
        "{file}: --map {field}={column}: the header has no column '{column}'; columns are: {columns}"
    )]
    UnknownColumn {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// The column asked for.
        column: String,
        /// The columns that exist.
        columns: String,
    },
    /// A CSV file has neither metric columns nor a metric/value pair.
    #[error(
        "{file}: no metric columns found (looked for lcp, cls, inp, fcp, ttfb, … or a metric + value pair); columns are: {columns}\n  hint: name them with --map, e.g. --map lcp=largest_contentful_paint_ms"
    )]
    NoMetricColumns {
        /// The file.
        file: String,
        /// The columns that exist.
        columns: String,
    },
    /// The CSV header line is longer than `--max-line-bytes`.
    #[error(
        "{file}:1: the header line is longer than {limit} bytes (--max-line-bytes): not a CSV export\n  hint: check the file, or raise --max-line-bytes if its header really is that long"
    )]
    HeaderTooLong {
        /// The file.
        file: String,
        /// The bound.
        limit: usize,
    },
    /// Nothing at all could be imported.
    #[error(
        "no usable data in {files}; rejected: {summary}\n  hint: check --format and --map, and see the reasons above"
    )]
    Nothing {
        /// Files read.
        files: String,
        /// Rejections by reason.
        summary: String,
    },
    /// A baseline holds a value rumcheck never writes (a damaged or
    /// hand-edited file).
    #[error(
        "baseline '{file}': {field}: {problem}\n  hint: rumcheck never writes this; re-create the file with `rumcheck baseline import` (or `merge`) rather than editing it"
    )]
    Invalid {
        /// The file.
        file: String,
        /// Path of the field inside the file.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A CrUX or PageSpeed document states a value no such document holds
    /// (a negative p75, a density that is not a share).
    #[error(
        "{file}: {field}: {problem}\n  hint: the CrUX and PageSpeed APIs never send this; fetch the record again (`rumcheck baseline fetch-crux`) rather than editing it"
    )]
    BadValue {
        /// The file.
        file: String,
        /// Path of the field inside the document.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// `baseline merge` was given the same imported data twice.
    #[error(
        "baseline '{file}' holds the same imported data as '{other}' ({hash}): merging them would count every value twice\n  hint: drop one of the two, or pass --allow-duplicate if the same data really belongs in twice"
    )]
    Duplicate {
        /// The later file.
        file: String,
        /// The earlier file with the same data.
        other: String,
        /// The content hash both record.
        hash: String,
    },
    /// A baseline file cannot be read or written.
    #[error("baseline '{file}': {message}")]
    Baseline {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
}

/// Row counts of one input file, with strict-mode handling.
#[derive(Debug)]
pub struct Tally {
    /// Provenance entry being filled.
    pub source: Source,
    strict: bool,
}

impl Tally {
    /// A fresh tally for `file` in `format`.
    pub fn new(file: &str, format: &str, strict: bool) -> Self {
        Tally {
            source: Source {
                file: file.to_string(),
                format: format.to_string(),
                ..Source::default()
            },
            strict,
        }
    }

    /// Adds the counts of a tally kept by another thread over the same file:
    /// rows and rejections add up; the first line numbers stay the lowest
    /// [`FIRST_LINES_KEPT`]. `line_offset` is added to `other`'s line
    /// numbers (a span of a file counts its lines from its own start).
    pub fn absorb(&mut self, other: Tally, line_offset: u64) {
        self.source.rows_read += other.source.rows_read;
        self.source.rows_accepted += other.source.rows_accepted;
        for (reason, r) in other.source.rejected {
            let mine = self.source.rejected.entry(reason).or_default();
            mine.count += r.count;
            mine.first_lines
                .extend(r.first_lines.iter().map(|l| l + line_offset));
            mine.first_lines.sort_unstable();
            mine.first_lines.truncate(FIRST_LINES_KEPT);
        }
    }

    /// Counts a rejected row; with `--strict`, bad input ends the import.
    pub fn reject(&mut self, reason: Reason, line: u64, detail: &str) -> Result<(), ImportError> {
        if self.strict && reason.is_bad_input() {
            return Err(ImportError::Strict {
                file: self.source.file.clone(),
                line,
                reason: reason.name(),
                detail: detail.to_string(),
            });
        }
        let r = self
            .source
            .rejected
            .entry(reason.name().to_string())
            .or_default();
        r.count += 1;
        if r.first_lines.len() < FIRST_LINES_KEPT && line > 0 {
            r.first_lines.push(line);
        }
        Ok(())
    }
}
