//! Projected-field rows: the candidate and the reference build measured in
//! the same calibration tiers, the change carried over to the real-user
//! distribution ([`crate::projection`]), judged in real users' terms.
//!
//! - **Test** (joins the Holm family): van Elteren's stratified rank test,
//!   tiers as strata, "candidate slower" (and, in the improvement family,
//!   "faster"). Under no change it holds its level whatever the tiers are,
//!   so a gate with no change still fails with probability at most α.
//! - **Magnitude**: the projected p75 minus today's field p75 against the
//!   threshold `max(field_tolerance × today's p75, the metric's absolute
//!   floor)`.
//! - **Regressed** when Holm rejects and either the projected shift exceeds
//!   the threshold, or the metric is a Core Web Vital that passes the
//!   assessment today and the whole interval of its projected p75 lies above
//!   the good limit (the assessment is significantly projected to flip).

use super::lab::fmt_p;
use super::model::{Against, Comparison, Outcome, ProjectedField, TestKind};
use super::options::VerdictOptions;
use crate::baseline::MetricBaseline;
use crate::metric::Metric;
use crate::projection::{self, FieldDist, ProjectOptions, TierLayout, TierSamples};
use crate::sample::Sample;
use crate::stats;

/// The numbers of one projected row; the outcome is set by [`decide`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn measure(
    page: &str,
    profile: &str,
    metric: Metric,
    candidate: &[&Sample],
    reference: &[&Sample],
    layout: &[TierLayout],
    field: &MetricBaseline,
    options: &VerdictOptions,
    level: f64,
) -> Option<Comparison> {
    let dist = FieldDist::from_baseline(metric, field)?;
    let per_tier = |samples: &[&Sample]| -> Vec<Vec<f64>> {
        (0..layout.len())
            .map(|k| {
                samples
                    .iter()
                    .filter(|s| s.tier == Some(k as u32))
                    .filter_map(|s| s.metric(metric))
                    .filter(|v| v.is_finite())
                    .collect()
            })
            .collect()
    };
    let (x, y) = (per_tier(candidate), per_tier(reference));
    let (nx, ny): (usize, usize) = (x.iter().map(Vec::len).sum(), y.iter().map(Vec::len).sum());
    // No tier with both builds: nothing to project (the caller says why).
    if !x
        .iter()
        .zip(&y)
        .any(|(a, b)| !a.is_empty() && !b.is_empty())
    {
        return None;
    }
    let mut c = Comparison::undecided(
        page,
        profile,
        metric,
        Against::ProjectedField,
        nx,
        ny as u64,
    );
    c.reference = Some(dist.p75);
    let floor = options.threshold(metric).absolute;
    c.threshold = Some((options.field_tolerance * dist.p75.abs()).max(floor));
    if nx < options.min_valid || ny < options.min_valid {
        c.reason = format!(
            "{metric} measured in {nx} candidate and {ny} reference visits over the tiers (need {} each): add runs",
            options.min_valid
        );
        return Some(c);
    }
    let strata: Vec<(&[f64], &[f64])> = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    stratified_test(&mut c, &strata);
    let tiers: Vec<TierSamples<'_>> = layout
        .iter()
        .zip(x.iter().zip(&y))
        .map(|(l, (a, b))| TierSamples {
            layout: *l,
            candidate: a,
            reference: b,
        })
        .collect();
    let seed = seed_of(page, profile, metric);
    let p = projection::project(
        metric,
        &dist,
        &tiers,
        &ProjectOptions {
            level,
            seed,
            ..ProjectOptions::default()
        },
    )?;
    c.candidate = Some(p.projected_p75);
    c.reference = Some(p.today_p75);
    c.threshold = Some((options.field_tolerance * p.today_p75.abs()).max(floor));
    c.estimate = Some(p.projected_p75 - p.today_p75);
    c.interval = Some(p.shift_interval);
    if p.today_p75 > 0.0 {
        c.relative = Some(p.projected_p75 / p.today_p75 - 1.0);
        c.relative_interval = Some(p.shift_interval.map(|s| s / p.today_p75));
    }
    if dist.n.is_none() {
        c.notes.push(
            "the field's n is unknown (CrUX bins): its own sampling error is not in the interval"
                .into(),
        );
    }
    let good_limit = metric.thresholds().map(|(g, _)| g);
    let core = matches!(metric, Metric::Lcp | Metric::Inp | Metric::Cls);
    let passes_today = good_limit.map(|g| p.today_p75 <= g);
    let fails_projected = good_limit.map(|g| p.projected_p75 > g);
    let flips =
        core && passes_today == Some(true) && good_limit.is_some_and(|g| p.interval.lower > g);
    c.projection = Some(ProjectedField {
        projection: p,
        good_limit,
        core_web_vital: core,
        passes_today,
        fails_projected,
        flips,
    });
    Some(c)
}

/// Sets the van Elteren p-values of a row measured in tiers (shared by the
/// stratified lab rows and the projected rows).
pub(crate) fn stratified_test(c: &mut Comparison, strata: &[(&[f64], &[f64])]) {
    c.test = TestKind::StratifiedRank;
    // Every tier one tied group (e.g. CLS 0 everywhere): no evidence either way.
    let (worse, better) =
        stats::van_elteren(strata).map_or((1.0, 1.0), |t| (t.p_greater, t.p_less));
    c.p_value = Some(worse);
    c.p_improved = Some(better);
}

/// A stable seed per row, so the same samples give the same interval.
pub(crate) fn seed_of(page: &str, profile: &str, metric: Metric) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("{page}\u{0}{profile}\u{0}{metric}").as_bytes())
}

/// Sets outcome and reason once the Holm decisions are known.
pub(crate) fn decide(c: &mut Comparison, worse: bool, better: bool) {
    let (Some(shift), Some(ci), Some(th), Some(pf)) =
        (c.estimate, c.interval, c.threshold, c.projection.as_ref())
    else {
        return; // Already inconclusive with a reason.
    };
    let m = c.metric;
    let p = &pf.projection;
    let mut text = format!(
        "real users' p75 {} → {} ({:.0} % CI {} … {}, {:+.0} %)",
        m.format(p.today_p75),
        m.format(p.projected_p75),
        p.interval.level * 100.0,
        m.format(p.interval.lower.max(0.0)),
        m.format(p.interval.upper),
        c.relative.unwrap_or(0.0) * 100.0
    );
    if let (Some(a), Some(b)) = (p.good_today, p.good_projected) {
        text.push_str(&format!(
            "; good visits {:.0} % → {:.0} %",
            a * 100.0,
            b * 100.0
        ));
    }
    if pf.flips {
        text.push_str(&format!(
            "; the {} assessment flips: p75 passes the {} limit today and is projected above it",
            m.to_string().to_uppercase(),
            m.format(pf.good_limit.unwrap_or(0.0))
        ));
    } else if pf.core_web_vital && pf.passes_today == Some(true) && pf.fails_projected == Some(true)
    {
        text.push_str("; the assessment may flip (not significant)");
    }
    let adj = c.p_adjusted.map(fmt_p).unwrap_or_default();
    let thr = m.format(th);
    (c.outcome, c.reason) = if worse && (shift > th || pf.flips) {
        (Outcome::Regressed, format!("{text}; adjusted p {adj}"))
    } else if worse {
        (
            Outcome::Warning,
            format!("{text}: real but under the {thr} threshold; adjusted p {adj}"),
        )
    } else if better && shift < -th {
        (Outcome::Improved, text)
    } else if ci.upper >= 2.0 * th {
        (
            Outcome::Inconclusive,
            format!(
                "{text}: not significant, but a rise up to {} is still possible (> 2 × {thr}): add runs",
                m.format(ci.upper)
            ),
        )
    } else {
        (Outcome::NoChange, format!("{text}: not significant"))
    };
}
