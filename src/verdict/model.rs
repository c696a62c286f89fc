//! The verdict's result types. All `Serialize`, so every report format
//! (terminal, JSON, JUnit, HTML) reads the same numbers.

use crate::metric::Metric;
use crate::stats::Interval;
use serde::{Deserialize, Serialize};

/// The decision for one page × profile × metric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Significant after Holm and larger than the practical threshold.
    Regressed,
    /// Significantly faster by more than the threshold.
    Improved,
    /// Significant after Holm but smaller than the threshold: real but small.
    Warning,
    /// No significant change, and the interval rules out a large regression.
    NoChange,
    /// Cannot decide: too few valid samples, or the interval still allows a
    /// regression of twice the threshold (more runs needed).
    Inconclusive,
    /// Shown for information only, outside the pass/fail family: a lab
    /// condition held against the whole field without a calibration.
    NotComparable,
}

impl Outcome {
    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Regressed => "REGRESSED",
            Outcome::Improved => "improved",
            Outcome::Warning => "warning",
            Outcome::NoChange => "no change",
            Outcome::Inconclusive => "INCONCLUSIVE",
            Outcome::NotComparable => "info",
        }
    }
}

/// What the candidate was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// Lab samples of the reference build.
    Reference,
    /// The real-user baseline segment, uncalibrated: information only.
    Field,
    /// The real-user segment as the change is projected onto it through a
    /// calibration ([`crate::projection`]).
    ProjectedField,
}

impl Against {
    /// The name in results files (`reference`, `field`, `projected_field`).
    pub fn as_str(self) -> &'static str {
        match self {
            Against::Reference => "reference",
            Against::Field => "field",
            Against::ProjectedField => "projected_field",
        }
    }
}

impl std::fmt::Display for Against {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a comparison was tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestKind {
    /// One-sided Mann-Whitney U, exact null distribution.
    MannWhitneyExact,
    /// One-sided Mann-Whitney U, normal approximation.
    MannWhitneyNormal,
    /// Not a test: the lab p75's offset from the field p75 (information only).
    FieldP75Offset,
    /// Not a test: the lab's good share beside the field's (CrUX bins; information only).
    FieldGoodShareOffset,
    /// Van Elteren's stratified rank test over calibration tiers.
    StratifiedRank,
    /// Not tested (too few samples).
    None,
    /// The sign test of the lab p75 against the field p75 (results files
    /// written before field projection; never produced now).
    QuantileSignTest,
    /// The binomial test of the lab's good share (results files written
    /// before field projection; never produced now).
    GoodShareBinomial,
}

impl TestKind {
    /// The name in results files (`mann-whitney-exact`, `stratified-rank`…).
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::MannWhitneyExact => "mann-whitney-exact",
            TestKind::MannWhitneyNormal => "mann-whitney-normal",
            TestKind::FieldP75Offset => "field-p75-offset",
            TestKind::FieldGoodShareOffset => "field-good-share-offset",
            TestKind::StratifiedRank => "stratified-rank",
            TestKind::None => "none",
            TestKind::QuantileSignTest => "quantile-sign-test",
            TestKind::GoodShareBinomial => "good-share-binomial",
        }
    }
}

impl std::fmt::Display for TestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One comparison with all its numbers and a one-line reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Page name.
    pub page: String,
    /// Profile name.
    pub profile: String,
    /// The metric.
    pub metric: Metric,
    /// Reference samples or field baseline.
    pub against: Against,
    /// The decision.
    pub outcome: Outcome,
    /// One line a developer understands.
    pub reason: String,
    /// The test used.
    pub test: TestKind,
    /// Valid candidate values.
    pub n_candidate: usize,
    /// Valid reference values, or the field segment's n (0 for CrUX bins).
    pub n_reference: u64,
    /// Candidate median (vs reference) or p75 (vs field), in the metric's unit.
    pub candidate: Option<f64>,
    /// Reference median, field p75, or field good share.
    pub reference: Option<f64>,
    /// Hodges-Lehmann shift (vs reference) or the lab p75 (vs field).
    pub estimate: Option<f64>,
    /// Confidence interval of `estimate`.
    pub interval: Option<Interval>,
    /// Relative shift (log-scale Hodges-Lehmann), when all values are positive.
    pub relative: Option<f64>,
    /// Interval of `relative`.
    pub relative_interval: Option<Interval>,
    /// Raw one-sided p-value for "candidate is worse".
    pub p_value: Option<f64>,
    /// Holm-adjusted `p_value` over the gate's family.
    pub p_adjusted: Option<f64>,
    /// Raw one-sided p-value for "candidate is better" (reference only).
    pub p_improved: Option<f64>,
    /// Holm-adjusted `p_improved` (a separate family: improvements never fail a build).
    pub p_improved_adjusted: Option<f64>,
    /// The practical threshold in the metric's unit (vs reference), or the
    /// field value × (1 + tolerance) the lab is tested against.
    pub threshold: Option<f64>,
    /// Caveats (definition mismatch, unbounded interval…).
    pub notes: Vec<String>,
    /// The projected field distribution (projected-field rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectedField>,
}

/// What a projected-field row adds: today's and the projected real-user
/// distribution, and whether the Core Web Vitals assessment flips.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectedField {
    /// The projection itself (p75s, intervals, good shares, tier changes).
    #[serde(flatten)]
    pub projection: crate::projection::Projection,
    /// The "good" limit of the metric (web-vitals), if it has one.
    pub good_limit: Option<f64>,
    /// Whether the metric is a Core Web Vital (LCP, INP, CLS): its p75 decides the assessment.
    pub core_web_vital: bool,
    /// The p75 passes the assessment today (p75 ≤ good limit).
    pub passes_today: Option<bool>,
    /// The projected p75 fails it (estimate above the good limit).
    pub fails_projected: Option<bool>,
    /// Passing today and significantly projected to fail: the whole
    /// interval of the projected p75 is above the good limit.
    pub flips: bool,
}

impl Comparison {
    /// A comparison not yet decided: Inconclusive, no numbers, no reason.
    pub fn undecided(
        page: &str,
        profile: &str,
        metric: Metric,
        against: Against,
        n_candidate: usize,
        n_reference: u64,
    ) -> Self {
        Comparison {
            page: page.to_string(),
            profile: profile.to_string(),
            metric,
            against,
            outcome: Outcome::Inconclusive,
            reason: String::new(),
            test: TestKind::None,
            n_candidate,
            n_reference,
            candidate: None,
            reference: None,
            estimate: None,
            interval: None,
            relative: None,
            relative_interval: None,
            p_value: None,
            p_adjusted: None,
            p_improved: None,
            p_improved_adjusted: None,
            threshold: None,
            notes: Vec::new(),
            projection: None,
        }
    }
}

/// Valid and failed visits of one page × profile × variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageHealth {
    /// Page name.
    pub page: String,
    /// Profile name.
    pub profile: String,
    /// Which build.
    pub variant: crate::sample::Variant,
    /// Visits that produced metrics.
    pub valid: usize,
    /// Visits that failed.
    pub failed: usize,
    /// The first failure's message, if any.
    pub first_error: Option<String>,
    /// Whether `valid` reaches the minimum.
    pub enough: bool,
}

/// The gate as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// No regression and every comparison decided.
    Pass,
    /// At least one comparison regressed.
    Regressed,
    /// No regression found, but something could not be decided.
    Inconclusive,
}

/// The whole verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// Overall status.
    pub status: GateStatus,
    /// The family-wise false-alarm budget.
    pub alpha: f64,
    /// The level the tests ran at (below `alpha` at early adaptive looks).
    pub test_alpha: f64,
    /// Number of hypotheses in the Holm family for regressions.
    pub family_size: usize,
    /// All comparisons, ordered by page, profile, metric, against.
    pub comparisons: Vec<Comparison>,
    /// Valid/failed visits per page.
    pub pages: Vec<PageHealth>,
    /// Gate-level notes (skipped segments, unknown variants…).
    pub notes: Vec<String>,
}

impl GateResult {
    /// How many comparisons ended in `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.outcome == outcome)
            .count()
    }

    /// One-line summary, e.g. `1 regressed, 2 warnings, 12 no change`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (Outcome::Regressed, "regressed"),
            (Outcome::Improved, "improved"),
            (Outcome::Warning, "warning"),
            (Outcome::NoChange, "no change"),
            (Outcome::Inconclusive, "inconclusive"),
            (Outcome::NotComparable, "info"),
        ]
        .iter()
        .filter_map(|&(o, name)| {
            let n = self.count(o);
            let plural = if o == Outcome::Warning && n != 1 {
                "s"
            } else {
                ""
            };
            (n > 0).then(|| format!("{n} {name}{plural}"))
        })
        .collect();
        if parts.is_empty() {
            "nothing compared".into()
        } else {
            parts.join(", ")
        }
    }
}
