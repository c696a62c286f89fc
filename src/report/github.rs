//! GitHub Actions: the job's step summary and `::error`/`::warning`
//! workflow commands, escaped per GitHub's workflow-command rules
//! (data: `%`, CR, LF; properties additionally `:` and `,`).

use super::ReportError;
use super::markdown;
use super::results::{OutcomeKind, Results};
use super::text::numbers;
use crate::output::inert;
use std::io::Write;
use std::path::PathBuf;

/// Whether we run inside GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` when that variable
/// is set; returns the file written, `None` outside Actions. Call once at the
/// end of a run (appending after every batch would repeat the summary).
pub fn step_summary(results: &Results) -> Result<Option<PathBuf>, ReportError> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    append(&path, &markdown::render(results))?;
    Ok(Some(path))
}

/// Appends `text` to a file, creating it if needed.
pub fn append(path: &std::path::Path, text: &str) -> Result<(), ReportError> {
    let err = |source| ReportError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.write_all(b"\n").map_err(err)
}

/// Workflow-command lines for a results document's verdict: `::error` for
/// regressions and inconclusive comparisons (both fail the build),
/// `::warning` for warnings; empty without a verdict.
pub fn annotations(results: &Results) -> String {
    let mut out = String::new();
    let comparisons = results.verdict.iter().flat_map(|v| &v.comparisons);
    for c in comparisons {
        let level = match c.outcome {
            OutcomeKind::Regressed | OutcomeKind::Inconclusive => "error",
            OutcomeKind::Warning => "warning",
            OutcomeKind::Improved | OutcomeKind::NoChange | OutcomeKind::NotComparable => continue,
        };
        let title = format!(
            "rumcheck: {} {} · {} · {} vs {}",
            c.outcome.label(),
            c.page,
            c.profile,
            c.metric,
            c.against
        );
        let message = format!("{}\n{}", c.reason, numbers(c));
        // Values come from pages and files: controls (ESC…) are escaped
        // visibly first, then the workflow-command escapes apply.
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            escape_property(&inert::terminal(&title)),
            escape_data(&inert::message(&message))
        ));
    }
    out
}

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn hostile_values_stay_inside_one_escaped_annotation() {
        let title = inert::terminal("rumcheck: x\n::error::pwn\x1b]0;t\x07");
        let data = escape_data(&inert::message("a\r\n::warning::b\x1b[2J"));
        let line = format!("::error title={}::{data}", escape_property(&title));
        assert!(!line.contains(['\n', '\r', '\x1b', '\x07']), "{line}");
        // The title cannot end early: its colons are escaped.
        assert!(!escape_property(&title).contains(':'), "{line}");
    }

    #[test]
    fn appending_twice_keeps_both() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("summary.md");
        append(&f, "one").unwrap();
        append(&f, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\ntwo\n");
    }
}
