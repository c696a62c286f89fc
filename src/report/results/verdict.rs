//! The verdict part of the results document: the gate's decision and every
//! comparison, copied from `verdict`'s types into report-owned ones so the
//! file format changes only with [`super::RESULTS_SCHEMA`].

use crate::diagnose::{Diagnosis, Row, diagnose};
use crate::metric::Metric;
use crate::sample::Variant;
use crate::stats::Interval;
use crate::verdict::{Against, Comparison, GateResult, GateStatus, Outcome, TestKind};
use serde::{Deserialize, Serialize};

/// The gate's decision as stored in the results document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Overall status.
    pub status: Status,
    /// Exit code the gate implies (0 pass, 1 regression, 3 inconclusive).
    pub exit_code: u8,
    /// One-line count, e.g. `1 regressed, 12 no change`.
    pub summary: String,
    /// Family-wise false-alarm budget.
    pub alpha: f64,
    /// Level the tests ran at.
    pub test_alpha: f64,
    /// Hypotheses in the Holm family.
    pub family_size: usize,
    /// All comparisons, in the verdict's order.
    pub comparisons: Vec<ComparisonRecord>,
    /// Gate-level notes.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Valid and failed visits of each page × profile × build the verdict
    /// looked at, and whether there were enough.
    #[serde(default)]
    pub health: Vec<HealthRecord>,
}

/// Whether one page × profile × build had enough valid visits to judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthRecord {
    /// Page.
    pub page: String,
    /// Profile.
    pub profile: String,
    /// Which build.
    pub variant: Variant,
    /// Visits that produced metrics.
    pub valid: usize,
    /// Visits that failed.
    pub failed: usize,
    /// The first failure's message.
    pub first_error: Option<String>,
    /// Whether `valid` reached the minimum (`--min-valid`).
    pub enough: bool,
}

/// The gate's overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No regression and everything decided.
    Pass,
    /// At least one regression.
    Regressed,
    /// Something could not be decided.
    Inconclusive,
}

impl Status {
    /// Label for headlines (`PASS`, `REGRESSED`, `INCONCLUSIVE`).
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Regressed => "REGRESSED",
            Status::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// The outcome of one comparison (mirrors [`Outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Significant and beyond the practical threshold.
    Regressed,
    /// Significantly better.
    Improved,
    /// Significant but small.
    Warning,
    /// No change.
    NoChange,
    /// Could not decide.
    Inconclusive,
    /// Information only (lab vs field without calibration): never judged.
    #[serde(rename = "info")]
    NotComparable,
}

impl OutcomeKind {
    /// Short label for tables (same words as the terminal).
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Regressed => "REGRESSED",
            OutcomeKind::Improved => "improved",
            OutcomeKind::Warning => "warning",
            OutcomeKind::NoChange => "no change",
            OutcomeKind::Inconclusive => "INCONCLUSIVE",
            OutcomeKind::NotComparable => "info",
        }
    }

    /// Machine name (`regressed`, `no_change`…), used as a CSS class.
    pub fn key(self) -> &'static str {
        match self {
            OutcomeKind::Regressed => "regressed",
            OutcomeKind::Improved => "improved",
            OutcomeKind::Warning => "warning",
            OutcomeKind::NoChange => "no_change",
            OutcomeKind::Inconclusive => "inconclusive",
            OutcomeKind::NotComparable => "info",
        }
    }
}

/// A confidence interval; `None` for a side the data cannot bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntervalRecord {
    /// Lower bound.
    pub lower: Option<f64>,
    /// Upper bound.
    pub upper: Option<f64>,
    /// Confidence level.
    pub level: f64,
}

/// One comparison with its numbers (see `verdict::Comparison` for meanings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRecord {
    /// Page.
    pub page: String,
    /// Profile.
    pub profile: String,
    /// Metric.
    pub metric: Metric,
    /// The reference build, the projected field, or the field (information only).
    pub against: Against,
    /// Decision.
    pub outcome: OutcomeKind,
    /// One-line reason.
    pub reason: String,
    /// Test used.
    pub test: TestKind,
    /// Valid candidate values.
    pub n_candidate: usize,
    /// Reference values or field n.
    pub n_reference: u64,
    /// Candidate median (vs reference) or p75 (vs field).
    pub candidate: Option<f64>,
    /// Reference median, field p75 or field good share.
    pub reference: Option<f64>,
    /// Shift estimate or lab p75.
    pub estimate: Option<f64>,
    /// Interval of `estimate`.
    pub interval: Option<IntervalRecord>,
    /// Relative shift.
    pub relative: Option<f64>,
    /// Interval of `relative`.
    pub relative_interval: Option<IntervalRecord>,
    /// Raw one-sided p-value (worse).
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value.
    pub p_adjusted: Option<f64>,
    /// Practical threshold or tested field value.
    pub threshold: Option<f64>,
    /// Caveats.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Projected-field rows: today's and the projected real-user distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionRecord>,
    /// REGRESSED and warning rows measured against reference visits: what
    /// moved and the most likely cause (`diagnose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

/// The projected field distribution of a `projected_field` row (see
/// `verdict::ProjectedField` and `docs/statistics.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionRecord {
    /// Field p75 today.
    pub today_p75: f64,
    /// Projected p75 after the change.
    pub projected_p75: f64,
    /// Interval of the projected p75.
    pub interval: IntervalRecord,
    /// Share of good visits today.
    pub good_today: Option<f64>,
    /// Projected share of good visits.
    pub good_projected: Option<f64>,
    /// Interval of the projected good share.
    pub good_interval: Option<IntervalRecord>,
    /// The metric's web-vitals "good" limit.
    pub good_limit: Option<f64>,
    /// LCP, INP or CLS: the p75 decides the Core Web Vitals assessment.
    pub core_web_vital: bool,
    /// Passes the assessment today.
    pub passes_today: Option<bool>,
    /// Projected p75 above the good limit.
    pub fails_projected: Option<bool>,
    /// Passes today and the whole projected interval is above the limit.
    pub flips: bool,
    /// `scale` or `shift`: how the lab change was carried to real users.
    pub transfer: String,
    /// Per tier: its field level, weight, lab change and visits.
    pub tiers: Vec<TierChangeRecord>,
    /// The field's n, when its sampling error is in the interval.
    pub field_n: Option<u64>,
    /// `sketch` or `log-normal-from-bins`.
    pub field_source: String,
}

/// The change measured in one calibration tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TierChangeRecord {
    /// The field quantile level the tier stands for.
    pub quantile: f64,
    /// Its weight.
    pub weight: f64,
    /// Relative change (scale) or shift.
    pub change: f64,
    /// Candidate visits.
    pub n_candidate: usize,
    /// Reference visits.
    pub n_reference: usize,
}

impl From<&crate::verdict::ProjectedField> for ProjectionRecord {
    fn from(f: &crate::verdict::ProjectedField) -> Self {
        let p = &f.projection;
        ProjectionRecord {
            today_p75: p.today_p75,
            projected_p75: p.projected_p75,
            interval: interval(&p.interval),
            good_today: p.good_today,
            good_projected: p.good_projected,
            good_interval: p.good_interval.as_ref().map(interval),
            good_limit: f.good_limit,
            core_web_vital: f.core_web_vital,
            passes_today: f.passes_today,
            fails_projected: f.fails_projected,
            flips: f.flips,
            transfer: serde_name(&p.transfer),
            tiers: p
                .tiers
                .iter()
                .map(|t| TierChangeRecord {
                    quantile: t.quantile,
                    weight: t.weight,
                    change: t.change,
                    n_candidate: t.n_candidate,
                    n_reference: t.n_reference,
                })
                .collect(),
            field_n: p.field_n,
            field_source: serde_name(&p.field_source),
        }
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn interval(i: &Interval) -> IntervalRecord {
    IntervalRecord {
        lower: finite(i.lower),
        upper: finite(i.upper),
        level: i.level,
    }
}

/// Serialises a verdict enum to its file name (`reference`, `mann-whitney-exact`).
fn serde_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

impl From<Outcome> for OutcomeKind {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Regressed => OutcomeKind::Regressed,
            Outcome::Improved => OutcomeKind::Improved,
            Outcome::Warning => OutcomeKind::Warning,
            Outcome::NoChange => OutcomeKind::NoChange,
            Outcome::Inconclusive => OutcomeKind::Inconclusive,
            Outcome::NotComparable => OutcomeKind::NotComparable,
        }
    }
}

impl From<&Comparison> for ComparisonRecord {
    fn from(c: &Comparison) -> Self {
        ComparisonRecord {
            page: c.page.clone(),
            profile: c.profile.clone(),
            metric: c.metric,
            against: c.against,
            outcome: c.outcome.into(),
            reason: c.reason.clone(),
            test: c.test,
            n_candidate: c.n_candidate,
            n_reference: c.n_reference,
            candidate: c.candidate.and_then(finite),
            reference: c.reference.and_then(finite),
            estimate: c.estimate.and_then(finite),
            interval: c.interval.as_ref().map(interval),
            relative: c.relative.and_then(finite),
            relative_interval: c.relative_interval.as_ref().map(interval),
            p_value: c.p_value.and_then(finite),
            p_adjusted: c.p_adjusted.and_then(finite),
            threshold: c.threshold.and_then(finite),
            notes: c.notes.clone(),
            projection: c.projection.as_ref().map(ProjectionRecord::from),
            diagnosis: None,
        }
    }
}

impl From<&GateResult> for Verdict {
    fn from(g: &GateResult) -> Self {
        Verdict {
            status: match g.status {
                GateStatus::Pass => Status::Pass,
                GateStatus::Regressed => Status::Regressed,
                GateStatus::Inconclusive => Status::Inconclusive,
            },
            exit_code: crate::exit::of_status(g.status),
            summary: g.summary(),
            alpha: g.alpha,
            test_alpha: g.test_alpha,
            family_size: g.family_size,
            comparisons: g.comparisons.iter().map(ComparisonRecord::from).collect(),
            notes: g.notes.clone(),
            health: g
                .pages
                .iter()
                .map(|p| HealthRecord {
                    page: p.page.clone(),
                    profile: p.profile.clone(),
                    variant: p.variant.clone(),
                    valid: p.valid,
                    failed: p.failed,
                    first_error: p.first_error.clone(),
                    enough: p.enough,
                })
                .collect(),
        }
    }
}

/// The diagnosis of a REGRESSED or warning row that compared lab visits of
/// both builds; `None` for any other row.
fn diagnosis_of<'s>(
    c: &ComparisonRecord,
    candidate: &[&'s crate::sample::Sample],
    reference: &[&'s crate::sample::Sample],
) -> Option<Diagnosis> {
    let judged = matches!(c.outcome, OutcomeKind::Regressed | OutcomeKind::Warning);
    if !judged || c.against == Against::Field {
        return None;
    }
    let of = |visits: &[&'s crate::sample::Sample]| {
        visits
            .iter()
            .copied()
            .filter(|s| s.page == c.page && s.profile == c.profile)
            .collect::<Vec<_>>()
    };
    let (candidate, reference) = (of(candidate), of(reference));
    if reference.is_empty() {
        return None;
    }
    Some(diagnose(Row {
        metric: c.metric,
        shift: match c.against {
            Against::Reference => c.estimate,
            _ => None,
        },
        candidate: &candidate,
        reference: &reference,
    }))
}

impl Verdict {
    /// The verdict of a run whose samples are `samples`: a pass with visits
    /// lost to the infrastructure (browser, driver or site gone, the
    /// watchdog) is inconclusive, in the document as in the exit code
    /// ([`crate::exit::of_run`]), so every report says what the process
    /// says.
    pub fn with_samples(g: &GateResult, samples: &[crate::sample::Sample]) -> Verdict {
        let mut v = Verdict::from(g);
        v.diagnose(samples, &[]);
        let lost = samples
            .iter()
            .filter(|s| s.infrastructure_failure())
            .count();
        v.exit_code = crate::exit::of_run(Some(g.status), true, lost > 0);
        if lost > 0 && v.status == Status::Pass {
            v.status = Status::Inconclusive;
            v.notes.push(format!(
                "{lost} visit(s) failed for infrastructure reasons (browser, chromedriver or site gone, or a visit past its time budget; see the failed visits): the gate cannot pass"
            ));
        }
        v
    }

    /// Says why every REGRESSED or warning row moved (`diagnose`): the
    /// candidate visits of `samples` against `reference` (a separate
    /// reference file, all of its visits) or, when that is empty, against
    /// the reference visits in `samples`.
    pub fn diagnose(
        &mut self,
        samples: &[crate::sample::Sample],
        reference: &[crate::sample::Sample],
    ) {
        let candidate: Vec<_> = samples
            .iter()
            .filter(|s| s.variant == Variant::Candidate)
            .collect();
        let reference: Vec<_> = if reference.is_empty() {
            samples
                .iter()
                .filter(|s| s.variant == Variant::Reference)
                .collect()
        } else {
            reference.iter().collect()
        };
        for c in &mut self.comparisons {
            c.diagnosis = diagnosis_of(c, &candidate, &reference);
        }
    }

    /// How many comparisons ended in `outcome`.
    pub fn count(&self, outcome: OutcomeKind) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.outcome == outcome)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{FailureKind, Sample};

    fn passed() -> GateResult {
        GateResult {
            status: GateStatus::Pass,
            alpha: 0.05,
            test_alpha: 0.05,
            family_size: 1,
            comparisons: Vec::new(),
            pages: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_pass_with_a_visit_lost_to_the_infrastructure_is_inconclusive_exit_3() {
        let mut lost = Sample::failed(0, "home", "default", "http://127.0.0.1/", "gone".into());
        lost.failure = Some(FailureKind::Infrastructure);
        let v = Verdict::with_samples(&passed(), &[lost]);
        assert_eq!((v.status, v.exit_code), (Status::Inconclusive, 3));
        assert!(
            v.notes.iter().any(|n| n.contains("infrastructure")),
            "{:?}",
            v.notes
        );
        // A page's own failure leaves the pass alone.
        let mut own = Sample::failed(0, "home", "default", "http://127.0.0.1/", "500".into());
        own.failure = Some(FailureKind::Page);
        let v = Verdict::with_samples(&passed(), &[own]);
        assert_eq!((v.status, v.exit_code), (Status::Pass, 0));
    }
}
