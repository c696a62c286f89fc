//! Pure, synchronous statistics for the regression gate.
//!
//! Every function here is deterministic (the bootstrap takes an explicit
//! seed), does no I/O and never panics on finite input. The shared
//! invariants, checked by [`check`] and reported as [`StatsError`]:
//!
//! - inputs are finite (`NaN` and `±∞` are rejected, not silently dropped);
//! - a sample has at least the number of points a function documents
//!   (usually 1; the bootstrap needs 2);
//! - probabilities and levels are in the open interval (0, 1).
//!
//! Interval bounds that the data cannot determine (too few points for the
//! requested confidence) are `-∞` / `+∞`; `serde_json` writes them as `null`.
//!
//! Modules, each with its references:
//!
//! | module | what |
//! |---|---|
//! | [`mann_whitney`] | one-sided Mann-Whitney U: exact for small samples, normal approximation with tie and continuity correction otherwise |
//! | [`hodges_lehmann`] | Hodges-Lehmann shift and its distribution-free interval, absolute and on the log scale |
//! | [`quantile`] | the nearest-rank percentile, the one definition of every reported p50 / p75 / p90 |
//! | [`binomial`] | exact binomial test and binomial distribution functions |
//! | [`bootstrap`] | seeded percentile bootstrap |
//! | [`holm`] | Holm–Bonferroni step-down adjustment |
//! | [`sequential`] | alpha-spending boundaries for group-sequential (adaptive) sampling |
//! | [`stratified`] | van Elteren's stratified rank-sum test (calibration tiers as strata) |
//! | [`normal`] | the standard normal distribution (via statrs) |
//! | [`spearman`] | Spearman's rank correlation with ties, its p-value and Fisher-z interval |

pub mod binomial;
pub mod bootstrap;
pub mod hodges_lehmann;
pub mod holm;
pub mod mann_whitney;
pub mod normal;
pub mod quantile;
pub mod sequential;
pub mod spearman;
pub mod stratified;
pub mod tost;

use serde::Serialize;

pub use binomial::{Tail, binomial_test};
pub use bootstrap::bootstrap_ci;
pub use hodges_lehmann::{Shift, hodges_lehmann, hodges_lehmann_log};
pub use holm::holm;
pub use mann_whitney::{Alternative, MannWhitney, Method, mann_whitney};
pub use quantile::{nearest_rank, percentile};
pub use sequential::{Spending, SpendingPlan};
pub use spearman::{Spearman, spearman};
pub use stratified::{Stratified, stratified_shift, van_elteren};
pub use tost::{Tost, tost};

/// A confidence interval. Unbounded sides are `-∞` / `+∞`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound (`-∞` when the data cannot bound it).
    pub lower: f64,
    /// Upper bound (`+∞` when the data cannot bound it).
    pub upper: f64,
    /// The confidence level the interval guarantees (at least), e.g. 0.95.
    pub level: f64,
}

impl Interval {
    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// Applies a monotone increasing map to both bounds.
    pub fn map(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval {
            lower: f(self.lower),
            upper: f(self.upper),
            level: self.level,
        }
    }
}

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Fewer points than the method needs.
    #[error("{what} needs at least {needed} values, got {got}")]
    TooFew {
        /// Which input.
        what: &'static str,
        /// Minimum size.
        needed: usize,
        /// Actual size.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what} contains a non-finite value ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A value is not positive where logarithms are taken.
    #[error("{what} contains a value <= 0 ({value}); the log scale needs positive values")]
    NotPositive {
        /// Which input.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A probability or level outside (0, 1), or another bad argument.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// Checks that `xs` has at least `needed` finite values.
pub fn check(what: &'static str, xs: &[f64], needed: usize) -> Result<(), StatsError> {
    if xs.len() < needed {
        return Err(StatsError::TooFew {
            what,
            needed,
            got: xs.len(),
        });
    }
    if let Some(&value) = xs.iter().find(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite { what, value });
    }
    Ok(())
}

/// Checks that `p` is a probability strictly between 0 and 1.
pub fn check_prob(what: &str, p: f64) -> Result<(), StatsError> {
    if p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "{what} must be strictly between 0 and 1, got {p}"
        )))
    }
}

/// A sorted copy (finite input assumed; uses `total_cmp`).
pub fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// [`median`] without allocating: reorders `xs` (selection, O(n)).
pub fn median_mut(xs: &mut [f64]) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let (lower, mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *mid;
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo + hi) / 2.0)
}

/// The median (midpoint of the middle pair for even n), `None` if empty.
/// A location estimate for shifts, not a reported percentile (see [`quantile`]).
pub fn median(xs: &[f64]) -> Option<f64> {
    median_mut(&mut xs.to_vec())
}
