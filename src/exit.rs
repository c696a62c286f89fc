//! The exit-code policy, in one place: which process exit code each way a
//! command can end produces, and the error type that carries one to `main`.
//!
//! | code | meaning | decided by |
//! |---|---|---|
//! | 0 | pass | [`of_status`], [`of_run`] |
//! | 1 | regression | [`of_status`] |
//! | 2 | usage, configuration or input error | [`ErrorKind::Input`] |
//! | 3 | inconclusive gate, or infrastructure (browser, network, interrupt) | [`of_status`], [`of_run`], [`ErrorKind::Infrastructure`] |
//!
//! Domain errors say only *what kind* of failure they are (`GateError::kind`,
//! `CalibrateError::kind`); the code for each kind is chosen here. The
//! verdict knows statuses, never codes.

use crate::verdict::GateStatus;
use std::fmt;

/// Everything passed.
pub const PASS: u8 = 0;
/// A regression was found.
pub const REGRESSION: u8 = 1;
/// Usage, configuration or input error.
pub const USAGE: u8 = 2;
/// Inconclusive gate or infrastructure failure (browser, network).
pub const INCONCLUSIVE: u8 = 3;

/// The code of a finished verdict: 0 pass, 1 regression, 3 inconclusive.
pub fn of_status(status: GateStatus) -> u8 {
    match status {
        GateStatus::Pass => PASS,
        GateStatus::Regressed => REGRESSION,
        GateStatus::Inconclusive => INCONCLUSIVE,
    }
}

/// The code of a run: its verdict's, or without one (nothing to compare
/// with) 0 when every page had a valid visit and 3 otherwise. A run whose
/// visits failed for infrastructure reasons (browser or chromedriver gone,
/// site unreachable, a visit the watchdog ended) is never a pass: the
/// visits that did succeed may not stand for the site, so 0 becomes 3
/// (a regression found despite them stays 1).
pub fn of_run(
    verdict: Option<GateStatus>,
    every_page_valid: bool,
    infrastructure_failures: bool,
) -> u8 {
    let code = match verdict {
        Some(status) => of_status(status),
        None if every_page_valid => PASS,
        None => INCONCLUSIVE,
    };
    if code == PASS && infrastructure_failures {
        INCONCLUSIVE
    } else {
        code
    }
}

/// What kind of failure stopped a command before it could judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's input: a flag, scenario, baseline or samples file (exit 2).
    Input,
    /// The machine: browser, driver, network, an interrupt (exit 3).
    Infrastructure,
}

impl ErrorKind {
    /// The exit code of this kind of failure.
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::Input => USAGE,
            ErrorKind::Infrastructure => INCONCLUSIVE,
        }
    }
}

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

    /// A failure of the given kind.
    pub fn of_kind(kind: ErrorKind, error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: kind.code(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infrastructure_failures_turn_a_pass_into_3_and_keep_a_regression() {
        assert_eq!(of_run(None, true, false), PASS);
        assert_eq!(of_run(None, true, true), INCONCLUSIVE);
        assert_eq!(of_run(Some(GateStatus::Pass), true, true), INCONCLUSIVE);
        assert_eq!(of_run(Some(GateStatus::Regressed), true, true), REGRESSION);
        assert_eq!(of_run(None, false, false), INCONCLUSIVE);
    }
}
