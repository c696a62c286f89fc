//! Output files: validated before the run, rewritten after every batch.

use super::{ReportError, ReportInput, Reporter};
use crate::output::{OutputError, OutputTarget};
use std::path::{Path, PathBuf};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The results document.
    Json,
    /// JUnit XML.
    Junit,
    /// Markdown summary.
    Markdown,
    /// Self-contained HTML.
    Html,
}

impl Format {
    /// The command-line flag that asks for it.
    pub fn flag(self) -> &'static str {
        match self {
            Format::Json => "--json",
            Format::Junit => "--junit",
            Format::Markdown => "--markdown",
            Format::Html => "--html",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "xml",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }

    /// The renderer.
    pub fn reporter(self) -> Box<dyn Reporter + Send + Sync> {
        match self {
            Format::Json => Box::new(super::json::JsonReporter),
            Format::Junit => Box::new(super::junit::JunitReporter),
            Format::Markdown => Box::new(super::markdown::MarkdownReporter),
            Format::Html => Box::new(super::html::HtmlReporter),
        }
    }
}

/// The requested report files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportManager {
    outputs: Vec<(Format, OutputTarget)>,
}

impl ReportManager {
    /// Validates the `--json`, `--junit`, `--markdown` and `--html` paths:
    /// each must be a regular file (or a link to one) or not exist yet, and
    /// its directory must accept a new file. Nothing is created or truncated
    /// here, so the CLI can exit 2 before a browser starts and leave no files
    /// behind.
    pub fn from_cli_arguments(
        json: Option<&Path>,
        junit: Option<&Path>,
        markdown: Option<&Path>,
        html: Option<&Path>,
    ) -> Result<ReportManager, ReportError> {
        let mut outputs = Vec::new();
        for (format, path) in [
            (Format::Json, json),
            (Format::Junit, junit),
            (Format::Markdown, markdown),
            (Format::Html, html),
        ] {
            if let Some(path) = path {
                let target = OutputTarget::check(format.flag(), path)
                    .map_err(|e| report_error(format, e))?;
                outputs.push((format, target));
            }
        }
        Ok(ReportManager { outputs })
    }

    /// Refuses a report path that is also one of the command's inputs
    /// (`(name, path)` pairs such as `("--reference", …)`), another report,
    /// or one of the command's other outputs (`others`, e.g. the samples file).
    pub fn refuse_inputs(
        &self,
        inputs: &[(&str, &Path)],
        others: &[(&str, &Path)],
    ) -> Result<(), ReportError> {
        let mut outputs: Vec<(&str, &Path)> = others.to_vec();
        outputs.extend(self.outputs.iter().map(|(f, t)| (f.flag(), t.path())));
        crate::output::refuse_same_outputs(&outputs).map_err(ReportError::Output)?;
        crate::output::refuse_overwriting_inputs(&outputs, inputs).map_err(ReportError::Output)
    }

    /// Whether no report was requested.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// The requested outputs in flag order.
    pub fn outputs(&self) -> Vec<(Format, PathBuf)> {
        self.outputs
            .iter()
            .map(|(f, t)| (*f, t.path().to_path_buf()))
            .collect()
    }

    /// Renders and writes every requested report. Each file is replaced
    /// only by a complete new one ([`OutputTarget::write`]), so a crash or
    /// a full disk mid-write leaves the previous complete version. Call it
    /// after every batch and once at the end. All files are attempted; the
    /// first error is returned.
    pub fn write_all(&self, input: &ReportInput<'_>) -> Result<(), ReportError> {
        let mut first_error = None;
        for (format, target) in &self.outputs {
            let result = format
                .reporter()
                .render(input)
                .and_then(|bytes| target.write(&bytes).map_err(|e| report_error(*format, e)));
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A directory given as a report file gets a hint with the format's file
/// name; everything else is the output module's error as it is.
fn report_error(format: Format, e: OutputError) -> ReportError {
    match e {
        OutputError::NotAFile {
            flag,
            path,
            kind: "a directory",
            ..
        } => ReportError::IsDirectory {
            flag,
            path,
            ext: format.extension().into(),
        },
        OutputError::Write { path, source } => ReportError::Write { path, source },
        other => ReportError::Output(other),
    }
}
