//! Candidate lab samples vs the real-user baseline segment: is the lab p75
//! above the field p75 × (1 + tolerance)? For binned (CrUX) data: is the
//! lab's share of good visits below the field's × (1 − tolerance)?

use super::lab::fmt_p;
use super::model::{Against, Comparison, Outcome, TestKind};
use super::options::VerdictOptions;
use crate::baseline::MetricBaseline;
use crate::metric::{Metric, Rating};
use crate::stats::{self, Tail};

/// Numbers of one field comparison, or `None` when the baseline has nothing
/// comparable for this metric. The outcome is set by [`decide`] after Holm.
pub(crate) fn measure(
    page: &str,
    profile: &str,
    metric: Metric,
    x: &[f64],
    field: &MetricBaseline,
    options: &VerdictOptions,
    level: f64,
) -> Option<Comparison> {
    let mut c = Comparison::undecided(page, profile, metric, Against::Field, x.len(), field.n);
    if field.definition != "web-vitals" {
        c.notes.push(format!(
            "the field {metric} is defined as '{}', not web-vitals: lab and field may disagree for that reason alone",
            field.definition
        ));
    }
    let tol = options.field_tolerance;
    let good_share = field
        .shares
        .map(|s| s.good)
        .filter(|_| metric.thresholds().is_some());
    let use_bins = field.binned_only || field.p75.is_none();
    if use_bins && good_share.is_none() {
        return None;
    }
    if x.len() < options.min_valid {
        c.reason = format!(
            "{metric} measured in {} candidate visits (need {}): add runs",
            x.len(),
            options.min_valid
        );
        return Some(c);
    }
    if use_bins {
        let share = good_share?;
        let target = share * (1.0 - tol);
        let good = x
            .iter()
            .filter(|&&v| metric.rate(v) == Some(Rating::Good))
            .count();
        c.test = TestKind::GoodShareBinomial;
        c.candidate = Some(good as f64 / x.len() as f64);
        c.reference = Some(share);
        c.threshold = Some(target);
        if target > 0.0 && target < 1.0 {
            c.p_value = stats::binomial_test(good as u64, x.len() as u64, target, Tail::Less).ok();
        } else {
            c.reason = format!("field good share {share:.2} leaves nothing to test");
        }
        return Some(c);
    }
    let p75 = field.p75?;
    let limit = p75 * (1.0 + tol);
    let q = stats::quantile_ci(x, 0.75, level).ok()?;
    c.test = TestKind::QuantileSignTest;
    c.candidate = Some(q.estimate);
    c.reference = Some(p75);
    c.estimate = Some(q.estimate);
    c.interval = Some(q.interval);
    c.threshold = Some(limit);
    c.p_value = stats::quantile_sign_test(x, 0.75, limit, Tail::Greater).ok();
    Some(c)
}

/// Sets outcome and reason once the Holm decision is known.
pub(crate) fn decide(c: &mut Comparison, rejected: bool, tolerance: f64) {
    let m = c.metric;
    let (Some(p), Some(reference), Some(limit)) = (c.p_adjusted, c.reference, c.threshold) else {
        return;
    };
    let p = fmt_p(p);
    if c.test == TestKind::GoodShareBinomial {
        let lab = c.candidate.unwrap_or(0.0);
        (c.outcome, c.reason) = if rejected {
            (
                Outcome::Regressed,
                format!(
                    "{:.0} % of lab visits are good vs {:.0} % of real users (limit {:.0} %); adjusted p {p}",
                    lab * 100.0,
                    reference * 100.0,
                    limit * 100.0
                ),
            )
        } else {
            (
                Outcome::NoChange,
                format!(
                    "{:.0} % of lab visits are good vs {:.0} % of real users: consistent",
                    lab * 100.0,
                    reference * 100.0
                ),
            )
        };
        return;
    }
    let (Some(est), Some(ci)) = (c.estimate, c.interval) else {
        return;
    };
    let upper = if ci.upper.is_finite() {
        m.format(ci.upper)
    } else {
        "unbounded".into()
    };
    let ci_text = format!(
        "{:.0} % CI {} … {upper}",
        ci.level * 100.0,
        m.format(ci.lower.max(0.0))
    );
    let loose = reference * (1.0 + 2.0 * tolerance);
    (c.outcome, c.reason) = if rejected {
        (
            Outcome::Regressed,
            format!(
                "lab p75 {} ({ci_text}) is above real users' p75 {} + {:.0} %; adjusted p {p}",
                m.format(est),
                m.format(reference),
                tolerance * 100.0
            ),
        )
    } else if ci.upper > loose {
        (
            Outcome::Inconclusive,
            format!(
                "lab p75 {} could be as high as {upper} (> field p75 {} + {:.0} %): add runs",
                m.format(est),
                m.format(reference),
                2.0 * tolerance * 100.0
            ),
        )
    } else {
        (
            Outcome::NoChange,
            format!(
                "lab p75 {} ({ci_text}) is within real users' p75 {} + {:.0} %",
                m.format(est),
                m.format(reference),
                tolerance * 100.0
            ),
        )
    };
}
