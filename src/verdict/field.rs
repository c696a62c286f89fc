//! Candidate lab samples vs the real-user segment **without a
//! calibration**: the offset between one lab condition and the whole field,
//! shown for information only. One lab condition is not a sample of the
//! field's mixture of networks, devices and backends, so the offset says
//! how far the lab is from real users, not whether the change hurt them;
//! these rows never enter the Holm family and never fail a build. With a
//! calibration, [`super::projected`] rows judge the change in real users'
//! terms instead.

use super::model::{Against, Comparison, Outcome, TestKind};
use crate::baseline::MetricBaseline;
use crate::metric::{Metric, Rating};
use crate::stats;

/// The information row for `metric`, or `None` when the baseline has
/// nothing comparable.
pub(crate) fn offset(
    page: &str,
    profile: &str,
    metric: Metric,
    x: &[f64],
    field: &MetricBaseline,
    why: &str,
) -> Option<Comparison> {
    let mut c = Comparison::undecided(page, profile, metric, Against::Field, x.len(), field.n);
    c.outcome = Outcome::NotComparable;
    if field.definition != "web-vitals" {
        c.notes.push(format!(
            "the field {metric} is defined as '{}', not web-vitals: lab and field may disagree for that reason alone",
            field.definition
        ));
    }
    let use_bins = field.binned_only || field.p75.is_none();
    if use_bins {
        let share = field
            .shares
            .map(|s| s.good)
            .filter(|_| metric.thresholds().is_some())?;
        if x.is_empty() {
            return None;
        }
        let good = x
            .iter()
            .filter(|&&v| metric.rate(v) == Some(Rating::Good))
            .count();
        let lab = good as f64 / x.len() as f64;
        c.test = TestKind::FieldGoodShareOffset;
        c.candidate = Some(lab);
        c.reference = Some(share);
        c.reason = format!(
            "{:.0} % of lab visits are good vs {:.0} % of real users: not comparable {why}",
            lab * 100.0,
            share * 100.0
        );
        return Some(c);
    }
    let p75 = field.p75?;
    let sorted = stats::sorted(x);
    let lab = stats::percentile(&sorted, 0.75).ok()?;
    c.test = TestKind::FieldP75Offset;
    c.candidate = Some(lab);
    c.reference = Some(p75);
    c.estimate = Some(lab);
    let side = if p75 > 0.0 {
        let rel = lab / p75 - 1.0;
        format!(
            "{:.0} % {} field p75 {}",
            rel.abs() * 100.0,
            if rel < 0.0 { "below" } else { "above" },
            metric.format(p75)
        )
    } else {
        format!("vs field p75 {}", metric.format(p75))
    };
    c.reason = format!(
        "lab p75 {} is {side}: not comparable {why}",
        metric.format(lab)
    );
    Some(c)
}

/// Why a segment's rows are information only.
pub(crate) const NO_CALIBRATION: &str =
    "without calibration; run `rumcheck calibrate` to judge the change in real users' terms";

/// Why a calibrated profile still cannot project (no reference build).
pub(crate) const NO_REFERENCE: &str = "without the reference build: projecting onto real users needs it measured under the same calibration (--reference-url or --reference-samples)";

/// Why a calibrated profile's row could not be projected: no tier has
/// visits of both builds (reference samples recorded without the calibration?).
pub(crate) const NO_TIERS: &str = "with this calibration: no tier has visits of both builds (were the reference samples recorded without it?); nothing to project";
