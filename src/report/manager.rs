//! Output files: validated before the run, rewritten after every batch.

use super::{ReportError, ReportInput, Reporter};
use std::io::Write;
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
    outputs: Vec<(Format, PathBuf)>,
}

impl ReportManager {
    /// Validates the `--json`, `--junit`, `--markdown` and `--html` paths:
    /// each one's directory must exist and the file must be writable. Nothing
    /// is created or truncated here, so the CLI can exit 2 before a browser
    /// starts and leave no files behind.
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
                check_writable(format, path)?;
                outputs.push((format, path.to_path_buf()));
            }
        }
        Ok(ReportManager { outputs })
    }

    /// Whether no report was requested.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// The requested outputs in flag order.
    pub fn outputs(&self) -> &[(Format, PathBuf)] {
        &self.outputs
    }

    /// Renders and writes every requested report. Each file is replaced
    /// atomically (temporary file in the same directory, then rename), so a
    /// crash mid-write leaves the previous complete version. Call it after
    /// every batch and once at the end. All files are attempted; the first
    /// error is returned.
    pub fn write_all(&self, input: &ReportInput<'_>) -> Result<(), ReportError> {
        let mut first_error = None;
        for (format, path) in &self.outputs {
            let result = format
                .reporter()
                .render(input)
                .and_then(|bytes| write_atomically(path, &bytes));
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn check_writable(format: Format, path: &Path) -> Result<(), ReportError> {
    let flag = format.flag().to_string();
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(ReportError::IsDirectory {
            flag,
            path: shown,
            ext: format.extension().into(),
        });
    }
    let dir = parent_of(path);
    if !dir.is_dir() {
        return Err(ReportError::MissingDirectory {
            flag,
            path: shown,
            dir: dir.display().to_string(),
        });
    }
    let not_writable = |source| ReportError::NotWritable {
        flag: flag.clone(),
        path: shown.clone(),
        source,
    };
    if path.exists() {
        // Opening for writing without truncating proves we may replace it.
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(not_writable)?;
    }
    // The atomic replace needs a temporary file next to the target.
    tempfile::NamedTempFile::new_in(dir).map_err(not_writable)?;
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(parent_of(path)).map_err(err)?;
    // Temporary files are private (0600); a report is for everyone who can read the directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(mode).map_err(err)?;
    }
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_data().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
