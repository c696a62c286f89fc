//! Scenario files: the TOML model, loading with file:line:column errors,
//! validation, and command-line overrides.

mod checks;
mod locate;
mod model;
mod selector;
mod starter;

pub use checks::{MAX_CPU_SLOWDOWN, MAX_VIEWPORT};

pub use model::*;
pub use starter::starter;

use std::path::{Path, PathBuf};

/// A scenario file that cannot be used, with where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error(
        "cannot read scenario '{path}': {source}\n  hint: check the path; example scenarios live in scenarios/"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not text (a binary or a file in another encoding).
    #[error(
        "'{path}' is not a text TOML file: byte {offset} is {what}\n  hint: pass the scenario's .toml file (UTF-8 text); example scenarios live in scenarios/"
    )]
    NotText {
        /// The file.
        path: PathBuf,
        /// 0-based offset of the first offending byte.
        offset: usize,
        /// `not UTF-8` or `a NUL byte`.
        what: &'static str,
    },
    /// The file is not valid TOML, or does not fit the scenario model.
    #[error("{path}:{line}:{column}: {message}\n  hint: {hint}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The file parses but a value is unusable.
    #[error("{path}:{line}:{column}: {message}\n  hint: {hint}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line (of the offending value, or 1).
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// A command-line override is unusable.
    #[error("{flag} {value:?}: {message}")]
    Override {
        /// The flag (`--base-url`).
        flag: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        message: String,
    },
}

/// A scenario ready to run: validated, overrides applied, agent script read.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    /// The model.
    pub scenario: Scenario,
    /// Where it came from (for messages).
    pub path: PathBuf,
    /// The base URL, parsed.
    pub base_url: url::Url,
    /// The RUM agent's source, if the scenario names one.
    pub rum_agent_source: Option<String>,
}

const GENERIC_HINT: &str =
    "see the scenario reference in README.md, or scenarios/demo.toml for a working example";

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let not_text = |offset, what| ScenarioError::NotText {
        path: path.to_path_buf(),
        offset,
        what,
    };
    let text = String::from_utf8(bytes)
        .map_err(|e| not_text(e.utf8_error().valid_up_to(), "not UTF-8"))?;
    // Valid UTF-8 with NUL bytes is a binary too (TOML forbids them).
    if let Some(offset) = text.bytes().position(|b| b == 0) {
        return Err(not_text(offset, "a NUL byte"));
    }
    parse(&text, path)
}

/// Parses and validates scenario text; `path` is used in messages and to
/// resolve the RUM agent script.
pub fn parse(text: &str, path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let scenario: Scenario = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_col(text, offset);
        let message = e.message().trim().to_string();
        ScenarioError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            hint: hint_for(&message, key_at(text, offset)),
            message,
        }
    })?;
    validate(scenario, text, path)
}

const STEP_HINT: &str = "a step is one of { wait_for = \"css\" }, { click = \"css\" }, { wait_ms = 500 }, { type = { selector = \"css\", text = \"…\" } }, { scroll = 600 }, { press = \"Enter\" }, { navigate = \"/path\" }";

fn hint_for(message: &str, key: Option<&str>) -> String {
    if message.contains("unknown variant") {
        // The step list only helps when the value is a step.
        let expected = message.split_once("expected ").map(|(_, e)| e.trim());
        match (key, expected) {
            (_, Some(e)) if e.contains("`wait_for`") => STEP_HINT.into(),
            (Some(key), Some(e)) => {
                let values = e.trim_start_matches("one of ");
                format!("`{key}` takes {values}")
            }
            _ => format!("use one of the values listed above; {GENERIC_HINT}"),
        }
    } else if message.contains("unknown field") {
        format!("remove or rename the key; {GENERIC_HINT}")
    } else if message.contains("missing field") {
        format!("add the key; {GENERIC_HINT}")
    } else if message.contains("invalid type") {
        format!("check the value's type (quotes for strings, none for numbers); {GENERIC_HINT}")
    } else {
        GENERIC_HINT.into()
    }
}

/// The key whose value starts at `offset`: the bare key before the `=` on
/// that line, inside an inline table too (`{ engine = "tc" }` → `engine`).
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let offset = char_floor(text, offset);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..offset].trim_end();
    let before = before.strip_suffix('=')?;
    let key = before
        .rsplit(['{', ',', '['])
        .next()?
        .trim()
        .rsplit('.')
        .next()?
        .trim_matches(['"', '\'', ' ']);
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then_some(key)
}

/// `offset` moved back to a character boundary within `text`, so slicing
/// at a position the parser reported can never panic.
fn char_floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = char_floor(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn validate(
    mut scenario: Scenario,
    text: &str,
    path: &Path,
) -> Result<LoadedScenario, ScenarioError> {
    use locate::Seg::{Index, Key};
    let check = checks::Checker {
        path,
        spans: locate::Spans::new(text),
    };
    let at = |p: &[locate::Seg<'_>]| check.spans.at(p);
    let base_url = parse_base_url(&scenario.base_url).map_err(|m| {
        check.error(
            at(&[Key("base_url")]),
            format!("base_url: {m}"),
            "use e.g. base_url = \"http://127.0.0.1:8080\"",
        )
    })?;
    if scenario.runs == 0 {
        return Err(check.error(
            at(&[Key("runs")]),
            "runs must be at least 1".into(),
            "use e.g. runs = 10",
        ));
    }
    if scenario.pages.is_empty() {
        return Err(check.error(
            (1, 1),
            "the scenario has no [[page]]".into(),
            "add at least one [[page]] with name and path",
        ));
    }
    check.bounds(&scenario)?;
    check.names(&scenario)?;
    check.browser_args(&scenario)?;
    crate::throttle::check_unique(&scenario.profiles).map_err(|e| {
        let twice = scenario
            .profiles
            .iter()
            .enumerate()
            .filter(|(i, p)| scenario.profiles[..*i].iter().any(|q| q.name == p.name))
            .map(|(i, _)| i)
            .next()
            .unwrap_or(0);
        check.error(
            at(&[Key("profile"), Index(twice), Key("name")]),
            e.to_string(),
            "give every [[profile]] its own name",
        )
    })?;
    if scenario.profiles.is_empty() {
        let v = scenario.viewport;
        scenario
            .profiles
            .push(crate::throttle::Profile::default_for_viewport(
                v.width, v.height,
            ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, page) in scenario.pages.iter().enumerate() {
        let name_at = at(&[Key("page"), Index(i), Key("name")]);
        if page.name.trim().is_empty() || page.name.contains('/') {
            return Err(check.error(
                name_at,
                format!(
                    "page name {:?} must be non-empty and without '/'",
                    page.name
                ),
                "use a short name such as \"product\"",
            ));
        }
        if !seen.insert(page.name.clone()) {
            return Err(check.error(
                name_at,
                format!("page name {:?} is used twice", page.name),
                "give every [[page]] its own name",
            ));
        }
        for (j, step) in page.steps.iter().enumerate() {
            if let Some(sel) = step.selector() {
                selector::check(sel).map_err(|m| {
                    check.error(
                        check.spans.step(i, j, Some("selector")),
                        format!(
                            "page {:?}, step `{}`: invalid CSS selector {sel:?}: {m}",
                            page.name,
                            step.describe()
                        ),
                        "write a CSS selector such as \"#buy\" or \"button.add-to-cart\"",
                    )
                })?;
            }
        }
    }
    check.origins(&scenario, &base_url)?;
    let rum_agent_source = match &scenario.rum_agent {
        None => None,
        Some(agent) => {
            let script = path.parent().unwrap_or(Path::new(".")).join(&agent.script);
            Some(std::fs::read_to_string(&script).map_err(|e| {
                check.error(
                    at(&[Key("rum_agent"), Key("script")]),
                    format!("rum_agent script '{}': {e}", script.display()),
                    "the path is relative to the scenario file",
                )
            })?)
        }
    };
    scenario.base_url = base_url.to_string();
    Ok(LoadedScenario {
        scenario,
        path: path.to_path_buf(),
        base_url,
        rum_agent_source,
    })
}

fn parse_base_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme '{}' is not http or https", url.scheme()));
    }
    Ok(url)
}

impl LoadedScenario {
    /// Applies `--base-url`; nothing changes when it is refused.
    pub fn override_base_url(&mut self, base: &str) -> Result<(), ScenarioError> {
        let refused = |message: String| ScenarioError::Override {
            flag: "--base-url",
            value: base.to_string(),
            message,
        };
        let url = parse_base_url(base).map_err(refused)?;
        // Absolute page URLs must still be on the (new) base origin.
        let check = checks::Checker {
            path: &self.path,
            spans: locate::Spans::new(""),
        };
        check.origins(&self.scenario, &url).map_err(|e| match e {
            ScenarioError::Invalid { message, hint, .. } => {
                refused(format!("{message}\n  hint: {hint}"))
            }
            other => other,
        })?;
        self.scenario.base_url = url.to_string();
        self.base_url = url;
        Ok(())
    }

    /// Applies `--runs`.
    pub fn override_runs(&mut self, runs: u32) -> Result<(), ScenarioError> {
        if runs == 0 {
            return Err(ScenarioError::Override {
                flag: "--runs",
                value: "0".into(),
                message: "must be at least 1".into(),
            });
        }
        self.scenario.runs = runs;
        Ok(())
    }

    /// The baseline page key of a page: `field_page`, else its path with
    /// ids folded the way `baseline import --page-by template` folds them.
    pub fn field_page(&self, page: &Page) -> String {
        page.field_page
            .clone()
            .unwrap_or_else(|| crate::segment::template(&page.path))
    }

    /// The absolute URL of a page path (paths join the base URL).
    pub fn url_of(&self, path: &str) -> String {
        self.base_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| path.to_string())
    }
}

#[cfg(test)]
mod tests;
