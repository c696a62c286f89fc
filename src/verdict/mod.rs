//! The decision rules: turn samples (and a reference or a field baseline)
//! into Regressed / Improved / Warning / No change / Inconclusive.
//!
//! For every page × profile × metric:
//!
//! 1. **vs reference samples**: one-sided Mann-Whitney U for "candidate is
//!    slower" and, separately, "candidate is faster"; Hodges-Lehmann shift with
//!    its distribution-free interval at level `1 − 2α` (each end a one-sided
//!    `1 − α` bound). A regression needs a
//!    Holm rejection over the whole gate *and* a shift estimate beyond the
//!    practical threshold `max(relative × reference median, absolute floor)`.
//!    Because every Regressed needs a Holm rejection, the probability that a
//!    gate with no real change fails is at most α (family-wise), whatever the
//!    threshold; the threshold only removes alarms about changes too small to
//!    matter (those become Warning, "real but small"). Not significant is
//!    No change when the interval rules out a regression of twice the
//!    threshold, Inconclusive otherwise (more runs needed).
//! 2. **vs the field baseline segment** the profile maps to, *projected*
//!    when the profile is calibrated ([`projected`]): the change measured in
//!    the calibration's tiers is carried over to the real-user distribution,
//!    tested with van Elteren's stratified rank test (tiers as strata) in the
//!    same Holm family, and judged by the projected p75 and whether the Core
//!    Web Vitals assessment flips. Without a calibration (or without a
//!    reference build to project from) the lab-vs-field offset is shown for
//!    information only ([`field`]): one lab condition is not a sample of the
//!    field's mixture, so it cannot pass or fail a build.
//!
//! Failed visits count: a page × profile whose valid visits fall below the
//! minimum makes the gate Inconclusive (exit 3), never Pass. So does a gate
//! that compared nothing. Improvements form their own Holm family: they never
//! fail a build, so they do not spend the regression budget.
//!
//! [`sequential`] runs the same rules at the lower per-look levels of an
//! alpha-spending plan for `--runs auto`; `simulate` (feature `testkit`) is the evaluation
//! behind `examples/gate_validity.rs`.

mod field;
mod lab;
pub mod model;
pub mod options;
mod projected;
pub mod sequential;
#[cfg(feature = "testkit")]
pub mod simulate;
mod strata;

pub use model::*;
pub use options::{OptionsError, VerdictOptions, parse_threshold};

use crate::baseline::Baseline;
use crate::metric::Metric;
use crate::projection::TierLayout;
use crate::sample::{Sample, Variant};
use crate::segment::SegmentKey;
use crate::stats::holm;
use std::collections::BTreeMap;

/// A field baseline plus the segment each profile maps to.
#[derive(Debug, Clone, Copy)]
pub struct FieldBaseline<'a> {
    /// The baseline file.
    pub baseline: &'a Baseline,
    /// Profile name → segment; profiles not listed use the all-users segment.
    pub segments: &'a BTreeMap<String, SegmentKey>,
    /// Sample page name → baseline page key (e.g. `product` → `/product/:id`);
    /// pages not listed are looked up by their name.
    pub pages: &'a BTreeMap<String, String>,
    /// Calibrated (profile, page) → tier layout; those rows are projected.
    pub calibrated: Option<&'a BTreeMap<(String, String), Vec<TierLayout>>>,
}

/// What to judge.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Candidate samples. Samples with variant `reference` count as the
    /// reference when `reference` is `None`.
    pub candidate: &'a [Sample],
    /// Reference samples from a separate file (all of them count).
    pub reference: Option<&'a [Sample]>,
    /// Field baseline.
    pub field: Option<FieldBaseline<'a>>,
}

/// Judges the candidate at the options' `alpha`.
pub fn judge(inputs: &Inputs<'_>, options: &VerdictOptions) -> GateResult {
    judge_at(inputs, options, options.alpha)
}

#[derive(Default)]
struct Group<'a> {
    candidate: Vec<&'a Sample>,
    reference: Vec<&'a Sample>,
}

/// Judges with the tests at `test_alpha` (≤ `options.alpha`; lower at early
/// adaptive looks) and intervals at `1 − 2 · options.alpha`.
pub fn judge_at(inputs: &Inputs<'_>, options: &VerdictOptions, test_alpha: f64) -> GateResult {
    let mut notes = Vec::new();
    let mut groups: BTreeMap<(String, String), Group<'_>> = BTreeMap::new();
    let mut ignored: BTreeMap<&str, usize> = BTreeMap::new();
    for s in inputs.candidate {
        let key = (s.page.clone(), s.profile.clone());
        match &s.variant {
            Variant::Candidate => groups.entry(key).or_default().candidate.push(s),
            Variant::Reference if inputs.reference.is_none() => {
                groups.entry(key).or_default().reference.push(s)
            }
            other => *ignored.entry(other.as_str()).or_default() += 1,
        }
    }
    for (variant, n) in ignored {
        notes.push(format!(
            "ignored {n} candidate-file samples of variant '{variant}'"
        ));
    }
    if let Some(reference) = inputs.reference {
        for s in reference {
            let key = (s.page.clone(), s.profile.clone());
            // Pages without candidates are reported below, once each.
            if let Some(g) = groups.get_mut(&key) {
                g.reference.push(s);
            }
        }
        let orphans: std::collections::BTreeSet<_> = reference
            .iter()
            .filter(|s| !groups.contains_key(&(s.page.clone(), s.profile.clone())))
            .map(|s| format!("{} [{}]", s.page, s.profile))
            .collect();
        for o in orphans {
            notes.push(format!(
                "reference page {o} has no candidate samples: not compared"
            ));
        }
    }
    let has_reference = groups.values().any(|g| !g.reference.is_empty());
    // Two-sided 1 − 2α intervals: each end is a one-sided 1 − α bound, which
    // is what "rules out a regression of 2 × threshold" needs.
    let level = (1.0 - 2.0 * options.alpha).max(0.5);

    let mut pages = Vec::new();
    let mut comparisons = Vec::new();
    for ((page, profile), g) in &groups {
        let cand = health(
            page,
            profile,
            Variant::Candidate,
            &g.candidate,
            options.min_valid,
        );
        let reference_used = has_reference;
        let refh = reference_used.then(|| {
            health(
                page,
                profile,
                Variant::Reference,
                &g.reference,
                options.min_valid,
            )
        });
        let unhealthy = !cand.enough || refh.as_ref().is_some_and(|h| !h.enough);
        let reason = unhealthy.then(|| unhealthy_reason(&cand, refh.as_ref(), options.min_valid));
        pages.push(cand);
        pages.extend(refh);

        let field_segment = inputs.field.and_then(|f| {
            let key = f.segments.get(profile).cloned().unwrap_or_default();
            let field_page = f.pages.get(page).map_or(page.as_str(), String::as_str);
            match f.baseline.find(field_page, &key) {
                None => {
                    notes.push(format!(
                        "no field segment for page {page} [{profile}] (baseline page '{field_page}', segment {}): field check skipped; `rumcheck baseline show` lists the baseline's pages — a baseline imported before identifier folding needs importing again, or set the page's `field_page`",
                        key.label()
                    ));
                    None
                }
                Some(seg) if seg.too_small => {
                    notes.push(format!(
                        "field segment for page {page} [{profile}] is too small to compare: field check skipped"
                    ));
                    None
                }
                Some(seg) => Some(seg),
            }
        });

        let layout = inputs
            .field
            .and_then(|f| f.calibrated)
            .and_then(|c| c.get(&(profile.clone(), page.clone())));
        // Visits from several machines: compare like with like (node strata).
        let shared = strata::shared_nodes(&g.candidate, &g.reference);
        let nodes: &[Option<&str>] = if shared.len() > 1 { &shared } else { &[] };
        if reference_used && !nodes.is_empty() {
            notes.push(format!(
                "{page} [{profile}] ran on {} machines: its lab rows compare the builds within each machine (stratified by node)",
                nodes.len()
            ));
        } else if reference_used && strata::machines_differ(&g.candidate, &g.reference) {
            notes.push(format!(
                "{page} [{profile}]: candidate and reference ran on different machines, so the lab rows include the machines' difference; measure both builds in one run (--reference-url) to rule it out"
            ));
        }
        for metric in judged_metrics(options, &g.candidate, &g.reference, reference_used) {
            let x = values(&g.candidate, metric);
            let y = values(&g.reference, metric);
            let mut add = |mut c: Comparison| {
                if let Some(r) = &reason {
                    c.reason = r.clone();
                    c.p_value = None;
                    c.p_improved = None;
                    c.test = TestKind::None;
                }
                comparisons.push(c);
            };
            if reference_used {
                if x.is_empty() && y.is_empty() {
                    if reason.is_none() {
                        notes.push(format!("{metric} was not measured on {page} [{profile}]"));
                    }
                } else if layout.is_some() || !nodes.is_empty() {
                    let tiers = layout.map(|l| l.len());
                    let (tx, ty) = (
                        strata::split(&g.candidate, metric, tiers, nodes),
                        strata::split(&g.reference, metric, tiers, nodes),
                    );
                    add(lab::measure_stratified(
                        page, profile, metric, &tx, &ty, options, level,
                    ));
                } else {
                    add(lab::measure(page, profile, metric, &x, &y, options, level));
                }
            }
            // A metric the lab never saw (no interaction → no INP) has nothing to hold against the field.
            let lab_saw_it = !x.is_empty() || reason.is_some();
            let Some(mb) = field_segment
                .filter(|_| lab_saw_it)
                .and_then(|seg| seg.metrics.get(&metric))
            else {
                continue;
            };
            match layout {
                Some(layout) if !g.reference.is_empty() => {
                    let row = projected::measure(
                        page,
                        profile,
                        metric,
                        &g.candidate,
                        &g.reference,
                        layout,
                        mb,
                        options,
                        level,
                    );
                    match row {
                        Some(c) => add(c),
                        None => comparisons.extend(field::offset(
                            page,
                            profile,
                            metric,
                            &x,
                            mb,
                            field::NO_TIERS,
                        )),
                    }
                }
                _ => {
                    let why = if layout.is_some() {
                        field::NO_REFERENCE
                    } else {
                        field::NO_CALIBRATION
                    };
                    // Information only: never part of the verdict or the Holm family.
                    comparisons.extend(field::offset(page, profile, metric, &x, mb, why));
                }
            }
        }
    }
    if inputs.reference.is_none() && inputs.field.is_none() && !has_reference {
        notes.push("nothing to compare with: give reference samples or a field baseline".into());
    }

    if comparisons
        .iter()
        .any(|c| c.outcome == Outcome::NotComparable)
    {
        notes.push("rows marked info hold one lab condition against the whole field: they are shown, never judged; `rumcheck calibrate` plus a reference build turns them into projected-field rows".into());
    }
    let family_size = adjust(&mut comparisons, test_alpha);
    comparisons.sort_by(|a, b| {
        (&a.page, &a.profile, a.metric, a.against).cmp(&(&b.page, &b.profile, b.metric, b.against))
    });
    let judged = comparisons
        .iter()
        .any(|c| c.outcome != Outcome::NotComparable);
    let status = if comparisons.iter().any(|c| c.outcome == Outcome::Regressed) {
        GateStatus::Regressed
    } else if !judged
        || comparisons
            .iter()
            .any(|c| c.outcome == Outcome::Inconclusive)
        || pages.iter().any(|p| !p.enough)
    {
        GateStatus::Inconclusive
    } else {
        GateStatus::Pass
    };
    GateResult {
        status,
        alpha: options.alpha,
        test_alpha,
        family_size,
        comparisons,
        pages,
        notes,
    }
}

/// Holm over the regression tests (one family: reference and field), Holm
/// over the improvement tests (another), then the per-comparison decisions.
/// Returns the size of the regression family.
fn adjust(comparisons: &mut [Comparison], alpha: f64) -> usize {
    let worse: Vec<usize> = (0..comparisons.len())
        .filter(|&i| comparisons[i].p_value.is_some())
        .collect();
    let adj = holm(
        &worse
            .iter()
            .map(|&i| comparisons[i].p_value.unwrap_or(1.0))
            .collect::<Vec<_>>(),
    );
    for (&i, a) in worse.iter().zip(adj) {
        comparisons[i].p_adjusted = Some(a);
    }
    let better: Vec<usize> = (0..comparisons.len())
        .filter(|&i| comparisons[i].p_improved.is_some())
        .collect();
    let adj = holm(
        &better
            .iter()
            .map(|&i| comparisons[i].p_improved.unwrap_or(1.0))
            .collect::<Vec<_>>(),
    );
    for (&i, a) in better.iter().zip(adj) {
        comparisons[i].p_improved_adjusted = Some(a);
    }
    for c in comparisons.iter_mut() {
        let worse = c.p_adjusted.is_some_and(|p| p <= alpha);
        let better = c.p_improved_adjusted.is_some_and(|p| p <= alpha);
        match c.against {
            Against::Reference => lab::decide(c, worse, better),
            Against::ProjectedField => projected::decide(c, worse, better),
            Against::Field => {}
        }
    }
    worse.len()
}

fn values(samples: &[&Sample], metric: Metric) -> Vec<f64> {
    samples
        .iter()
        .filter_map(|s| s.metric(metric))
        .filter(|v| v.is_finite())
        .collect()
}

fn health(
    page: &str,
    profile: &str,
    variant: Variant,
    samples: &[&Sample],
    min: usize,
) -> PageHealth {
    let valid = samples.iter().filter(|s| s.ok).count();
    PageHealth {
        page: page.to_string(),
        profile: profile.to_string(),
        variant,
        valid,
        failed: samples.len() - valid,
        first_error: samples.iter().find(|s| !s.ok).and_then(|s| s.error.clone()),
        enough: valid >= min,
    }
}

fn unhealthy_reason(cand: &PageHealth, refh: Option<&PageHealth>, min: usize) -> String {
    let describe = |h: &PageHealth| {
        let mut s = format!(
            "{} {} visits valid of {}",
            h.valid,
            h.variant,
            h.valid + h.failed
        );
        if let Some(e) = &h.first_error {
            s.push_str(&format!(" (first error: {e})"));
        }
        s
    };
    let mut parts = vec![describe(cand)];
    if let Some(r) = refh {
        parts.push(describe(r));
    }
    format!("too few valid visits, need {min}: {}", parts.join("; "))
}

/// The metrics of one page: the options' list, then (with
/// `server_metrics` and reference visits) every `server.*` metric that
/// visits of both builds measured, by name.
fn judged_metrics(
    options: &VerdictOptions,
    candidate: &[&Sample],
    reference: &[&Sample],
    reference_used: bool,
) -> Vec<Metric> {
    let mut out = options.metrics.clone();
    if !(options.server_metrics && reference_used) {
        return out;
    }
    let server = |visits: &[&Sample]| -> std::collections::BTreeSet<Metric> {
        visits
            .iter()
            .filter(|s| s.ok)
            .flat_map(|s| s.metrics.keys().copied())
            .filter(|m| matches!(m, Metric::Server(_)))
            .collect()
    };
    let both = server(reference);
    out.extend(
        server(candidate)
            .into_iter()
            .filter(|m| both.contains(m) && !options.metrics.contains(m)),
    );
    out
}

#[cfg(test)]
mod tests;
