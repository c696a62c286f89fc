//! The in-page collector: `collector.js` injected before any page script,
//! finalisation by hiding the page (as a real visit ends), the read-back
//! into metrics, and capture of the user's own RUM agent beacons.
//!
//! Call order for one session: [`install`] once before the first navigation,
//! then for every page visit (each navigation of a journey) navigate, run the
//! steps and call [`finalize`]. The injected scripts persist for every new
//! document of the session. When a step itself navigates (a clicked link),
//! the page that was left is available once from the next document with
//! [`take_previous`].

mod error;
mod finalize;
mod glob;
mod model;

pub use error::CollectError;
pub use finalize::{finalize, finalize_last, take_previous};
pub use glob::glob_to_regex;
pub use model::{Collected, parse_readback};

use crate::browser::Session;
use serde_json::json;

/// The collector's source, a function expression called with its config.
pub const COLLECTOR_JS: &str = include_str!("collector.js");

/// A team's own RUM agent, injected like the collector so its beacons can be
/// compared with rumcheck's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RumAgent {
    /// The agent's JavaScript source (a classic script, not a module).
    pub script: String,
    /// Glob over absolute URLs of its beacons: `*` matches any run of
    /// characters, everything else is literal (e.g. `https://rum.example.com/collect*`).
    pub beacon: String,
}

/// The collector source ready to inject: `collector.js` called with its
/// config (the beacon glob compiled to a regular expression).
pub fn collector_source(rum_agent: Option<&RumAgent>) -> String {
    let config = json!({ "beacon": rum_agent.map(|a| glob_to_regex(&a.beacon)) });
    let body = COLLECTOR_JS.trim_end().trim_end_matches(';');
    format!("{body}({config});\n")
}

/// The agent source as injected: top-level document only (production agents
/// are not in frames), wrapped so an exception in it cannot stop the page.
pub fn agent_source(agent: &RumAgent) -> String {
    format!(
        "if (window === window.top) {{\n{}\n}}\n//# sourceURL=rumcheck-rum-agent.js\n",
        agent.script
    )
}

/// Registers the collector, then the agent (if any), to run before any page
/// script of every later document in this session. Call it before the first
/// navigation, once per session.
pub async fn install(session: &Session, rum_agent: Option<&RumAgent>) -> Result<(), CollectError> {
    add_script(session, &collector_source(rum_agent)).await?;
    if let Some(agent) = rum_agent {
        add_script(session, &agent_source(agent)).await?;
    }
    Ok(())
}

async fn add_script(session: &Session, source: &str) -> Result<(), CollectError> {
    session
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )
        .await
        .map_err(|e| CollectError::Install(Box::new(e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_source_is_a_call_with_the_compiled_glob() {
        let agent = RumAgent {
            script: "x()".into(),
            beacon: "https://rum.example.com/c*".into(),
        };
        let src = collector_source(Some(&agent));
        assert!(src.starts_with("// rumcheck's in-page collector"), "{src}");
        assert!(
            src.trim_end()
                .ends_with(r#"({"beacon":"^https://rum\\.example\\.com/c.*$"});"#),
            "{}",
            &src[src.len() - 80..]
        );
        assert!(
            collector_source(None)
                .trim_end()
                .ends_with(r#"({"beacon":null});"#)
        );
    }

    #[test]
    fn agent_runs_in_the_top_document_only() {
        let agent = RumAgent {
            script: "var webVitals = 1;".into(),
            beacon: "*".into(),
        };
        let src = agent_source(&agent);
        assert!(src.starts_with("if (window === window.top) {\nvar webVitals = 1;\n}"));
    }
}
