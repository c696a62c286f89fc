//! The results document: everything a run or a comparison found, in one
//! versioned JSON file ([`RESULTS_SCHEMA`], documented in
//! `docs/results-format.md`). Every report format renders from it, so the
//! terminal, JUnit, Markdown and HTML outputs always show the same numbers.
//!
//! The verdict is copied into report-owned types ([`Verdict`]) rather than
//! embedded as [`GateResult`]: the file format then changes only when this
//! module bumps the schema, and a results file can be read back.

use super::ReportError;
use crate::metric::Metric;
use crate::run::summary::{GroupKey, summarize};
use crate::sample::Sample;
use crate::segment::SegmentKey;
use crate::stats::Interval;
use crate::verdict::{Comparison, GateResult, GateStatus, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the results document. Bump on incompatible changes.
pub const RESULTS_SCHEMA: u32 = 1;

/// The whole results document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Format version ([`RESULTS_SCHEMA`]).
    pub schema: u32,
    /// `true` while a run is still going (written after each batch); `false`
    /// once every planned visit is in.
    #[serde(default)]
    pub partial: bool,
    /// What was run.
    pub scenario: ScenarioInfo,
    /// The profiles and the field segment each one stands for.
    pub profiles: Vec<ProfileInfo>,
    /// Where it ran.
    pub environment: Environment,
    /// Per page × profile × variant: visit counts and per-metric summaries.
    pub groups: Vec<GroupResult>,
    /// The gate's decision, when there was something to compare with.
    pub verdict: Option<Verdict>,
    /// Every failed visit with its reason.
    pub failed_visits: Vec<FailedVisit>,
}

/// Everything [`Results::new`] needs besides samples and verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The scenario.
    pub scenario: ScenarioInfo,
    /// The profiles.
    pub profiles: Vec<ProfileInfo>,
    /// The environment ([`Environment::detect`]).
    pub environment: Environment,
}

/// The scenario as run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// Base URL (after `--base-url`).
    pub base_url: String,
    /// Planned visits per page × profile × variant.
    pub runs: u32,
    /// Page names in scenario order.
    pub pages: Vec<String>,
}

/// A lab profile and the field segment it is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    /// Profile name (`phone`, `desktop`, `default`…).
    pub name: String,
    /// The baseline segment that matches it.
    #[serde(default)]
    pub segment: SegmentKey,
}

/// The machine and software the results came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Browser name and version (`Chromium 156.0.8078.73`), empty if unknown.
    pub browser: String,
    /// Logical CPU cores of the host.
    pub host_cores: usize,
    /// Operating system and architecture (`linux x86_64`).
    pub os: String,
    /// rumcheck version that wrote the file.
    pub rumcheck_version: String,
    /// RFC 3339 time the document was generated.
    pub generated_at: String,
}

impl Environment {
    /// Describes this host now, with the browser version the caller learned.
    pub fn detect(browser: &str) -> Environment {
        let generated_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Environment {
            browser: browser.to_string(),
            host_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            rumcheck_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at,
        }
    }
}

/// Visits and metric summaries of one page × profile × variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    /// Page name.
    pub page: String,
    /// Profile name.
    pub profile: String,
    /// `candidate`, `reference`, …
    pub variant: String,
    /// Visits that produced metrics.
    pub valid: usize,
    /// Visits that failed.
    pub failed: usize,
    /// Per metric: nearest-rank summary of the valid visits where it happened.
    pub metrics: BTreeMap<Metric, Summary>,
}

/// n and nearest-rank percentiles of one metric (see `run::summary`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Visits where the metric happened.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// A visit that produced no metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedVisit {
    /// Page name.
    pub page: String,
    /// Profile name.
    pub profile: String,
    /// Variant.
    pub variant: String,
    /// Run index.
    pub run: u32,
    /// URL visited.
    pub url: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed.
    pub error: String,
}

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
    /// `reference`, `projected_field`, or `field` (information only).
    pub against: String,
    /// Decision.
    pub outcome: OutcomeKind,
    /// One-line reason.
    pub reason: String,
    /// Test used (`mann-whitney-exact`, `quantile-sign-test`…).
    pub test: String,
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
            against: serde_name(&c.against),
            outcome: c.outcome.into(),
            reason: c.reason.clone(),
            test: serde_name(&c.test),
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
            exit_code: g.exit_code(),
            summary: g.summary(),
            alpha: g.alpha,
            test_alpha: g.test_alpha,
            family_size: g.family_size,
            comparisons: g.comparisons.iter().map(ComparisonRecord::from).collect(),
            notes: g.notes.clone(),
        }
    }
}

impl Verdict {
    /// How many comparisons ended in `outcome`.
    pub fn count(&self, outcome: OutcomeKind) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.outcome == outcome)
            .count()
    }
}

impl Results {
    /// Builds the document from the run's metadata, all samples so far (any
    /// variant, failed ones included) and the verdict, if one was reached.
    pub fn new(meta: RunMeta, samples: &[Sample], verdict: Option<&GateResult>) -> Results {
        let groups = summarize(samples)
            .into_iter()
            .map(|((page, profile, variant), (failed, metrics))| {
                let key: GroupKey = (page, profile, variant);
                let valid = samples
                    .iter()
                    .filter(|s| s.ok && s.page == key.0 && s.profile == key.1 && s.variant == key.2)
                    .count();
                GroupResult {
                    page: key.0,
                    profile: key.1,
                    variant: key.2,
                    valid,
                    failed,
                    metrics: metrics
                        .into_iter()
                        .map(|(m, s)| {
                            let summary = Summary {
                                n: s.n,
                                p50: s.p50,
                                p75: s.p75,
                                p90: s.p90,
                            };
                            (m, summary)
                        })
                        .collect(),
                }
            })
            .collect();
        let failed_visits = samples
            .iter()
            .filter(|s| !s.ok)
            .map(|s| FailedVisit {
                page: s.page.clone(),
                profile: s.profile.clone(),
                variant: s.variant.clone(),
                run: s.run,
                url: s.url.clone(),
                attempts: s.attempts,
                error: s
                    .error
                    .clone()
                    .unwrap_or_else(|| "failed without a reason".into()),
            })
            .collect();
        Results {
            schema: RESULTS_SCHEMA,
            partial: false,
            scenario: meta.scenario,
            profiles: meta.profiles,
            environment: meta.environment,
            groups,
            verdict: verdict.map(Verdict::from),
            failed_visits,
        }
    }

    /// The group of `page` × `profile` × `variant`, if any visit happened.
    pub fn group(&self, page: &str, profile: &str, variant: &str) -> Option<&GroupResult> {
        self.groups
            .iter()
            .find(|g| g.page == page && g.profile == profile && g.variant == variant)
    }

    /// The distinct (page, profile) pairs, in scenario order (pages, then profiles).
    pub fn page_profiles(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let pairs = self.groups.iter().map(|g| (&g.page, &g.profile)).chain(
            self.verdict
                .iter()
                .flat_map(|v| v.comparisons.iter().map(|c| (&c.page, &c.profile))),
        );
        for (page, profile) in pairs {
            if !out.iter().any(|(p, q)| p == page && q == profile) {
                out.push((page.clone(), profile.clone()));
            }
        }
        // Scenario order reads better than alphabetical; unknown names go last.
        let page_rank = |x: &str| self.scenario.pages.iter().position(|n| n == x);
        let profile_rank = |x: &str| self.profiles.iter().position(|p| p.name == x);
        out.sort_by_key(|(page, profile)| {
            (
                page_rank(page).unwrap_or(usize::MAX),
                profile_rank(profile).unwrap_or(usize::MAX),
            )
        });
        out
    }

    /// The segment a profile stands for (all users when unknown).
    pub fn segment_of(&self, profile: &str) -> SegmentKey {
        self.profiles
            .iter()
            .find(|p| p.name == profile)
            .map(|p| p.segment.clone())
            .unwrap_or_default()
    }

    /// Reads a results file back, checking the schema version first.
    pub fn read(path: &Path) -> Result<Results, ReportError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
            path: shown.clone(),
            source,
        })?;
        Results::parse(&text, &shown)
    }

    /// Parses a results document; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Results, ReportError> {
        let parse_error = |message: String| ReportError::Parse {
            path: origin.to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        match value.get("schema").and_then(serde_json::Value::as_u64) {
            Some(found) if found == u64::from(RESULTS_SCHEMA) => {}
            Some(found) => {
                return Err(ReportError::Schema {
                    path: origin.to_string(),
                    found,
                });
            }
            None => {
                return Err(parse_error(
                    "no numeric \"schema\" field at the top level".into(),
                ));
            }
        }
        serde_json::from_value(value).map_err(|e| parse_error(e.to_string()))
    }
}
