//! Adaptive sampling (`--runs auto`): judge after each batch of runs and stop
//! as soon as every decision is resolved.
//!
//! Look `k` tests at the nominal level of an alpha-spending plan
//! ([`crate::stats::SpendingPlan`], O'Brien–Fleming-type by default), so the
//! probability of a false regression alarm over *all* looks stays at most α
//! (union bound over looks, Holm within a look). Stopping because everything
//! is already "no change" only removes chances to reject, so it keeps the
//! bound. Intervals keep their nominal level at every look.

use super::{GateResult, GateStatus, Inputs, Outcome, VerdictOptions, judge_at};
use crate::stats::{Spending, SpendingPlan, StatsError};

/// Defaults for `--runs auto`: first look after 8 valid runs, batches of 8.
pub const MIN_RUNS: usize = 8;
/// Runs added between looks.
pub const BATCH: usize = 8;

/// What the runner should do after a look.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Done: this is the verdict.
    Stop(GateResult),
    /// Run more visits per page until `runs` (cumulative) and look again.
    Continue {
        /// Cumulative runs per page at the next look.
        runs: usize,
        /// The provisional verdict of this look (for progress output).
        provisional: GateResult,
    },
}

/// The look schedule for `--runs auto` with the scenario's cap.
pub fn plan(alpha: f64, cap: usize) -> Result<SpendingPlan, StatsError> {
    SpendingPlan::batches(
        alpha,
        Spending::OBrienFleming,
        MIN_RUNS.min(cap),
        BATCH,
        cap,
    )
}

/// Judges look `look` (0-based) of `plan` and says whether to stop.
pub fn step(
    inputs: &Inputs<'_>,
    options: &VerdictOptions,
    plan: &SpendingPlan,
    look: usize,
) -> Step {
    let last = look + 1 >= plan.looks.len();
    let level = plan.look_alpha.get(look).copied().unwrap_or(0.0);
    let gate = judge_at(inputs, options, level);
    let unresolved = gate.status == GateStatus::Inconclusive
        || gate
            .comparisons
            .iter()
            .any(|c| c.outcome == Outcome::Inconclusive);
    if last || gate.status == GateStatus::Regressed || !unresolved {
        Step::Stop(gate)
    } else {
        Step::Continue {
            runs: plan.looks[look + 1],
            provisional: gate,
        }
    }
}
