//! Exit codes and the error type that carries one to `main`.

use std::fmt;

/// Everything passed.
pub const PASS: u8 = 0;
/// A regression was found.
pub const REGRESSION: u8 = 1;
/// Usage, configuration or input error.
pub const USAGE: u8 = 2;
/// Inconclusive gate or infrastructure failure (browser, network).
pub const INCONCLUSIVE: u8 = 3;

/// An error on its way to `main`, with the exit code it should produce.
pub struct Failure {
    /// The exit code (2 or 3).
    pub code: u8,
    /// What went wrong, with context.
    pub error: anyhow::Error,
}

impl Failure {
    /// A usage, configuration or input error (exit 2).
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: USAGE,
            error: error.into(),
        }
    }

    /// An infrastructure failure (exit 3).
    pub fn infra(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: INCONCLUSIVE,
            error: error.into(),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {}: {:?}", self.code, self.error)
    }
}

impl fmt::Display for Failure {
    /// The error and its causes, `: `-separated, leaving out a cause the
    /// message already quotes (`cannot read 'x': {source}` would otherwise
    /// say the I/O error twice).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = String::new();
        for cause in self.error.chain() {
            let text = cause.to_string();
            if said.contains(&text) {
                continue;
            }
            if !said.is_empty() {
                said.push_str(": ");
            }
            said.push_str(&text);
        }
        f.write_str(&said)
    }
}
