//! Scenario files: the TOML model, loading with file:line:column errors,
//! validation, and command-line overrides.

mod model;
mod selector;
mod starter;

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
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
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
            hint: hint_for(&message),
            message,
        }
    })?;
    validate(scenario, text, path)
}

fn hint_for(message: &str) -> String {
    if message.contains("unknown variant") {
        "a step is one of { wait_for = \"css\" }, { click = \"css\" }, { wait_ms = 500 }, { type = { selector = \"css\", text = \"…\" } }, { scroll = 600 }, { press = \"Enter\" }, { navigate = \"/path\" }".into()
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

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where a value first appears in the file (best effort: validation runs
/// after parsing, so positions are found by searching for the quoted value).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    [
        format!("\"{needle}\""),
        format!("'{needle}'"),
        needle.to_string(),
    ]
    .iter()
    .find_map(|n| text.find(n.as_str()))
    .map_or((1, 1), |off| line_col(text, off))
}

fn validate(
    mut scenario: Scenario,
    text: &str,
    path: &Path,
) -> Result<LoadedScenario, ScenarioError> {
    let invalid = |needle: &str, message: String, hint: &str| {
        let (line, column) = locate(text, needle);
        ScenarioError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
            hint: hint.to_string(),
        }
    };
    let base_url = parse_base_url(&scenario.base_url).map_err(|m| {
        invalid(
            &scenario.base_url,
            format!("base_url: {m}"),
            "use e.g. base_url = \"http://127.0.0.1:8080\"",
        )
    })?;
    if scenario.runs == 0 {
        return Err(invalid(
            "runs",
            "runs must be at least 1".into(),
            "use e.g. runs = 10",
        ));
    }
    if scenario.pages.is_empty() {
        return Err(invalid(
            "",
            "the scenario has no [[page]]".into(),
            "add at least one [[page]] with name and path",
        ));
    }
    if scenario.viewport.width == 0 || scenario.viewport.height == 0 {
        return Err(invalid(
            "viewport",
            "viewport width and height must be positive".into(),
            "use e.g. viewport = { width = 1280, height = 800 }",
        ));
    }
    crate::throttle::check_unique(&scenario.profiles).map_err(|e| {
        invalid(
            "[[profile]]",
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
    for page in &scenario.pages {
        if page.name.trim().is_empty() || page.name.contains('/') {
            return Err(invalid(
                &page.name,
                format!(
                    "page name {:?} must be non-empty and without '/'",
                    page.name
                ),
                "use a short name such as \"product\"",
            ));
        }
        if !seen.insert(page.name.clone()) {
            return Err(invalid(
                &page.name,
                format!("page name {:?} is used twice", page.name),
                "give every [[page]] its own name",
            ));
        }
        for step in &page.steps {
            if let Some(sel) = step.selector() {
                selector::check(sel).map_err(|m| {
                    invalid(
                        sel,
                        format!(
                            "page {:?}, step `{}`: invalid CSS selector {sel:?}: {m}",
                            page.name,
                            step.describe()
                        ),
                        "write a CSS selector such as \"#buy\" or \"button.add-to-cart\"",
                    )
                })?;
            }
            if let Step::Navigate(n) = step {
                base_url.join(n.path()).map_err(|e| {
                    invalid(
                        n.path(),
                        format!(
                            "page {:?}: navigate {:?} is not a path or URL: {e}",
                            page.name,
                            n.path()
                        ),
                        "use a path such as \"/cart\"",
                    )
                })?;
            }
        }
    }
    let rum_agent_source = match &scenario.rum_agent {
        None => None,
        Some(agent) => {
            let script = path.parent().unwrap_or(Path::new(".")).join(&agent.script);
            Some(std::fs::read_to_string(&script).map_err(|e| {
                invalid(
                    &agent.script,
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
    /// Applies `--base-url`.
    pub fn override_base_url(&mut self, base: &str) -> Result<(), ScenarioError> {
        self.base_url = parse_base_url(base).map_err(|message| ScenarioError::Override {
            flag: "--base-url",
            value: base.to_string(),
            message,
        })?;
        self.scenario.base_url = self.base_url.to_string();
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
