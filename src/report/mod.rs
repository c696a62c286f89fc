//! Reports people read: the results document (JSON), JUnit XML for CI test
//! tabs, a Markdown summary for pull requests (and GitHub's step summary and
//! annotations), and one self-contained HTML file with SVG plots.
//!
//! Every format is a [`Reporter`] that renders a [`ReportInput`] to bytes; the
//! [`ReportManager`] validates the output paths before anything runs and
//! rewrites all files after every batch, so a crash keeps what was measured.

pub mod github;
pub mod html;

pub mod json;
pub mod junit;
mod manager;
pub mod markdown;
mod results;
pub mod summary;
pub mod terminal;
mod text;

pub use manager::{Format, ReportManager};
pub use results::{
    ComparisonRecord, Environment, FailedVisit, GroupResult, HealthRecord, IntervalRecord,
    OutcomeKind, ProfileInfo, ProjectionRecord, RESULTS_SCHEMA, Results, RunMeta, ScenarioInfo,
    Status, Summary, TierChangeRecord, Verdict,
};

use crate::baseline::Baseline;
use crate::sample::Sample;

/// What a report is rendered from: the results document plus the raw visits
/// (for plots and per-visit details) and the field baseline (for context).
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The results document.
    pub results: &'a Results,
    /// Candidate visits (failed ones included).
    pub candidate: &'a [Sample],
    /// Reference visits, when a reference build was measured.
    pub reference: &'a [Sample],
    /// The field baseline, when one was given.
    pub baseline: Option<&'a Baseline>,
}

impl<'a> ReportInput<'a> {
    /// Input with candidate samples only.
    pub fn new(results: &'a Results, candidate: &'a [Sample]) -> Self {
        ReportInput {
            results,
            candidate,
            reference: &[],
            baseline: None,
        }
    }

    /// Adds the reference samples.
    pub fn with_reference(mut self, reference: &'a [Sample]) -> Self {
        self.reference = reference;
        self
    }

    /// Adds the field baseline.
    pub fn with_baseline(mut self, baseline: Option<&'a Baseline>) -> Self {
        self.baseline = baseline;
        self
    }
}

/// One output format.
pub trait Reporter {
    /// Renders the whole file.
    fn render(&self, input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError>;
}

/// Why a report could not be written or a results file not read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The output path is a directory.
    #[error("{flag} '{path}' is a directory\n  hint: give a file name, e.g. '{path}/report.{ext}'")]
    IsDirectory {
        /// The flag.
        flag: String,
        /// The path.
        path: String,
        /// Usual extension of the format.
        ext: String,
    },
    /// Writing a report failed after validation.
    #[error("could not write report '{path}': {source}")]
    Write {
        /// The path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The output is not a regular file, or is one of the inputs.
    #[error(transparent)]
    Output(crate::output::OutputError),
    /// A results file could not be read.
    #[error("cannot read results file '{path}': {source}")]
    Read {
        /// The path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A results file is not a results document.
    #[error(
        "'{path}' is not a rumcheck results file: {message}\n  hint: results files are written by `rumcheck run --json FILE` or `rumcheck compare --json FILE`"
    )]
    Parse {
        /// The path.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A results file from an incompatible version.
    #[error(
        "'{path}': results schema {found} is not supported (this rumcheck reads schema {RESULTS_SCHEMA})\n  hint: re-create it with this version of rumcheck (`rumcheck compare … --json {path}`)"
    )]
    Schema {
        /// The path.
        path: String,
        /// Schema found in the file.
        found: u64,
    },
    /// A format could not be rendered (should not happen; a bug).
    #[error("could not render the {format} report: {message}")]
    Render {
        /// The format.
        format: &'static str,
        /// What failed.
        message: String,
    },
}
