//! The results document: everything a run or a comparison found, in one
//! versioned JSON file ([`RESULTS_SCHEMA`], documented in
//! `docs/results-format.md`). Every report format renders from it, so the
//! terminal, JUnit, Markdown and HTML outputs always show the same numbers.
//!
//! The verdict is copied into report-owned types ([`Verdict`]) rather than
//! embedded as [`GateResult`]: the file format then changes only when this
//! module bumps the schema, and a results file can be read back.

mod verdict;

pub use verdict::{
    ComparisonRecord, HealthRecord, IntervalRecord, OutcomeKind, ProjectionRecord, Status,
    TierChangeRecord, Verdict,
};

use super::ReportError;
use super::summary::{GroupKey, summarize};
use crate::metric::Metric;
use crate::sample::{Sample, Variant};
use crate::segment::SegmentKey;
use crate::verdict::GateResult;
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
    /// Which build.
    pub variant: Variant,
    /// Visits that produced metrics.
    pub valid: usize,
    /// Visits that failed.
    pub failed: usize,
    /// Per metric: nearest-rank summary of the valid visits where it happened.
    pub metrics: BTreeMap<Metric, Summary>,
}

/// n and nearest-rank percentiles of one metric (see `report::summary`).
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
    /// Which build.
    pub variant: Variant,
    /// Run index.
    pub run: u32,
    /// URL visited.
    pub url: String,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed.
    pub error: String,
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
            verdict: verdict.map(|g| Verdict::with_samples(g, samples)),
            failed_visits,
        }
    }

    /// The group of `page` × `profile` × `variant`, if any visit happened.
    pub fn group(&self, page: &str, profile: &str, variant: &Variant) -> Option<&GroupResult> {
        self.groups
            .iter()
            .find(|g| g.page == page && g.profile == profile && &g.variant == variant)
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
