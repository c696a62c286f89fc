//! One page × profile to fit: the field's targets per tier, every probe
//! measured so far, the best probe of each tier, and the finished entry of
//! the calibration file. Pure: [`super::search`] measures, this keeps score.

use super::fit::{self, Conditions, LinearModel};
use super::model::{CalibratedPage, Tier};
use super::search::{CalibrateError, CalibrateOptions, conditioned};
use crate::baseline::Baseline;
use crate::metric::Metric;
use crate::projection::FieldDist;
use crate::scenario::LoadedScenario;
use crate::throttle::{NetworkConditions, Profile};
use std::collections::BTreeMap;

/// A tier's best probe so far: where, its medians, its largest relative error.
type Best = (Conditions, BTreeMap<Metric, f64>, f64);

pub(super) struct Problem {
    pub(super) profile: Profile,
    pub(super) page: usize,
    pub(super) page_name: String,
    pub(super) field_page: String,
    pub(super) segment: crate::segment::SegmentKey,
    pub(super) targets: Vec<(Metric, FieldDist)>,
    pub(super) levels: Vec<(f64, f64)>,
    pub(super) probes: Vec<(Conditions, BTreeMap<Metric, f64>)>,
    pub(super) current: Vec<Conditions>,
    pub(super) best: Vec<Option<Best>>,
    pub(super) done: Vec<bool>,
    pub(super) visits: usize,
    pub(super) notes: Vec<String>,
    /// CrUX's round-trip-time p75 of the segment, when the record has it.
    pub(super) rtt_p75: Option<f64>,
}

impl Problem {
    pub(super) fn target(&self, tier: usize) -> Vec<(Metric, f64)> {
        let u = self.levels[tier].0;
        self.targets
            .iter()
            .map(|(m, d)| (*m, d.quantile(u)))
            .collect()
    }

    pub(super) fn error(&self, tier: usize, lab: &BTreeMap<Metric, f64>) -> f64 {
        self.target(tier)
            .iter()
            .map(|(m, t)| {
                lab.get(m)
                    .map_or(f64::INFINITY, |l| (l / t.max(1.0) - 1.0).abs())
            })
            .fold(0.0, f64::max)
    }

    pub(super) fn models(&self) -> Vec<(Metric, LinearModel)> {
        self.targets
            .iter()
            .filter_map(|(m, _)| {
                let pts: Vec<(Conditions, f64)> = self
                    .probes
                    .iter()
                    .filter_map(|(c, v)| v.get(m).map(|y| (*c, *y)))
                    .collect();
                LinearModel::fit(&pts).map(|l| (*m, l))
            })
            .collect()
    }

    /// Where tier `k` should be measured next, given what it measured at `at`.
    pub(super) fn next(
        &self,
        k: usize,
        at: Conditions,
        measured: Option<&BTreeMap<Metric, f64>>,
    ) -> Conditions {
        let models = self.models();
        let target: BTreeMap<Metric, f64> = self.target(k).into_iter().collect();
        let problem: Vec<(LinearModel, f64, f64)> = models
            .iter()
            .filter_map(|(m, model)| {
                let offset = measured
                    .and_then(|v| v.get(m))
                    .map_or(0.0, |y| y - model.predict(&at));
                target.get(m).map(|t| (*model, offset, *t))
            })
            .collect();
        fit::solve(&problem, at)
    }
}

pub(super) fn problems(
    scenario: &LoadedScenario,
    baseline: &Baseline,
    opts: &CalibrateOptions,
) -> Result<Vec<Problem>, CalibrateError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let names: Vec<&str> = scenario
        .scenario
        .pages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for wanted in opts.pages.iter().flatten() {
        if !names.contains(&wanted.as_str()) {
            return Err(CalibrateError::UnknownPage(
                wanted.clone(),
                names.join(", "),
            ));
        }
    }
    for profile in &scenario.scenario.profiles {
        for (i, page) in scenario.scenario.pages.iter().enumerate() {
            if opts
                .pages
                .as_ref()
                .is_some_and(|only| !only.contains(&page.name))
            {
                continue;
            }
            let field_page = scenario.field_page(page);
            let seg = baseline
                .find(&field_page, &profile.segment)
                .filter(|s| !s.too_small);
            let targets = seg.map(fit::targets).unwrap_or_default();
            let rtt_p75 = seg.and_then(|s| s.context.rtt_p75_ms);
            if targets.is_empty() {
                skipped.push(format!(
                    "{} [{}] (field page {field_page})",
                    page.name, profile.name
                ));
                continue;
            }
            let k = opts.tiers;
            let start = Conditions {
                rtt_ms: 0.0,
                down_kbps: 50_000.0,
                cpu: 1.0,
            };
            out.push(Problem {
                profile: profile.clone(),
                page: i,
                page_name: page.name.clone(),
                field_page,
                segment: profile.segment.clone(),
                targets,
                levels: fit::tier_levels(k),
                probes: Vec::new(),
                current: vec![start; k],
                best: vec![None; k],
                done: vec![false; k],
                visits: 0,
                notes: Vec::new(),
                rtt_p75,
            });
        }
    }
    if out.is_empty() {
        return Err(CalibrateError::NothingToFit(format!(
            "no field data for {}",
            skipped.join(", ")
        )));
    }
    for s in skipped {
        eprintln!("calibrate: no field TTFB/FCP/LCP for {s}: not calibrated");
    }
    Ok(out)
}

pub(super) fn finish(p: Problem, opts: &CalibrateOptions) -> CalibratedPage {
    let mut notes = p.notes.clone();
    let tiers: Vec<Tier> = (0..p.levels.len())
        .map(|k| {
            let (u, w) = p.levels[k];
            let (c, lab, err) =
                p.best[k]
                    .clone()
                    .unwrap_or((p.current[k], BTreeMap::new(), f64::INFINITY));
            if err > opts.tolerance {
                notes.push(format!(
                    "tier {k} (field q{:.0}): best probe is {:.0} % off its target",
                    u * 100.0,
                    err * 100.0
                ));
            }
            let c = conditioned(&p.profile, c);
            let net = c.network.unwrap_or(NetworkConditions {
                rtt_ms: 0.0,
                down_kbps: fit::DOWN_KBPS.1,
                up_kbps: fit::up_kbps(fit::DOWN_KBPS.1),
                loss: 0.0,
                jitter_ms: 0.0,
            });
            Tier {
                quantile: u,
                weight: w,
                rtt_ms: net.rtt_ms,
                down_kbps: net.down_kbps,
                up_kbps: net.up_kbps,
                cpu_slowdown: c.cpu_slowdown,
                target: p.target(k).into_iter().collect(),
                lab,
            }
        })
        .collect();
    if tiers.iter().all(|t| t.cpu_slowdown <= 1.01) {
        notes.push("no tier needed CPU throttling: network conditions alone reproduce the field, so a change that costs only CPU is projected from unthrottled CPUs (likely too small for slow devices)".into());
    }
    if tiers.iter().all(|t| t.down_kbps >= fit::DOWN_KBPS.1 * 0.99) {
        notes.push("every tier is at the top bandwidth: a change that costs only bytes is projected from unthrottled links (likely too small for slow networks)".into());
    }
    if let Some(crux) = p.rtt_p75 {
        let pts: Vec<(f64, f64)> = tiers
            .iter()
            .map(|t| (t.quantile, t.rtt_ms.max(1.0)))
            .collect();
        if let Some(lab) = fit::mixture_quantile(&pts, 0.75) {
            notes.push(format!(
                "CrUX gives real users' round-trip time p75 as {crux:.0} ms; the tiers' RTT at p75 is {lab:.0} ms (the tiers' RTT also stands in for server and TLS time, so it may be higher)"
            ));
        }
    }
    let fit = p
        .targets
        .iter()
        .filter_map(|(m, field)| {
            let pts: Vec<(f64, f64)> = tiers
                .iter()
                .filter_map(|t| t.lab.get(m).map(|v| (t.quantile, *v)))
                .collect();
            fit::fit_table(&pts, field).map(|f| (*m, f))
        })
        .collect();
    CalibratedPage {
        profile: p.profile.name.clone(),
        page: p.page_name,
        field_page: p.field_page,
        segment: p.segment,
        tiers,
        fit,
        visits: p.visits,
        notes,
    }
}
