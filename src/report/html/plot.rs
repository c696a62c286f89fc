//! Inline SVG plots: empirical CDFs of the lab samples (candidate and
//! reference) against the field distribution, with the web-vitals thresholds.
//!
//! The field curve comes from the best data the baseline has: the sketch
//! (percentiles 1..99), else the imported quantiles (p50/p75/p90/p95 as
//! points), else the CrUX 3-bin histogram (a step at each bin edge).

use crate::baseline::MetricBaseline;
use crate::metric::Metric;
use crate::report::text::esc;
use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;

/// The field distribution as (value, cumulative share) points.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldCurve {
    /// Dense quantiles (from a sketch): drawn as a line.
    Quantiles(Vec<(f64, f64)>),
    /// A few imported quantiles: drawn as markers joined by a line.
    Points(Vec<(f64, f64)>),
    /// Cumulative shares at histogram bin edges: drawn as a step.
    Bins(Vec<(f64, f64)>),
}

impl FieldCurve {
    /// The best curve a metric baseline allows, if any.
    pub fn from_baseline(b: &MetricBaseline) -> Option<FieldCurve> {
        if let Some(sketch) = b.sketch.as_ref().filter(|s| s.0.count() > 0) {
            let pts: Vec<(f64, f64)> = (1..100)
                .filter_map(|i| {
                    let q = f64::from(i) / 100.0;
                    let v = sketch.0.quantile(q).ok().flatten()?;
                    v.is_finite().then_some((v, q))
                })
                .collect();
            if pts.len() >= 2 {
                return Some(FieldCurve::Quantiles(pts));
            }
        }
        let pts: Vec<(f64, f64)> = [(b.p50, 0.5), (b.p75, 0.75), (b.p90, 0.9), (b.p95, 0.95)]
            .into_iter()
            .filter_map(|(v, q)| v.filter(|v| v.is_finite()).map(|v| (v, q)))
            .collect();
        if pts.len() >= 2 {
            return Some(FieldCurve::Points(pts));
        }
        let mut cum = 0.0;
        let mut edges = Vec::new();
        for bin in &b.histogram {
            cum += bin.density;
            if let Some(end) = bin.end.filter(|e| e.is_finite()) {
                edges.push((end, cum.min(1.0)));
            }
        }
        if !edges.is_empty() {
            return Some(FieldCurve::Bins(edges));
        }
        // A single quantile still tells the reader where the field is.
        (pts.len() == 1).then_some(FieldCurve::Points(pts))
    }

    fn points(&self) -> &[(f64, f64)] {
        match self {
            FieldCurve::Quantiles(p) | FieldCurve::Points(p) | FieldCurve::Bins(p) => p,
        }
    }
}

/// What one plot shows.
pub struct PlotData<'a> {
    /// The metric (units, thresholds).
    pub metric: Metric,
    /// Candidate lab values.
    pub candidate: &'a [f64],
    /// Reference lab values (may be empty).
    pub reference: &'a [f64],
    /// The field curve, if a baseline matched.
    pub field: Option<&'a FieldCurve>,
}

struct Scale {
    max: f64,
}

impl Scale {
    fn x(&self, v: f64) -> f64 {
        LEFT + (v / self.max).clamp(0.0, 1.0) * (W - LEFT - RIGHT)
    }
    fn y(&self, q: f64) -> f64 {
        TOP + (1.0 - q.clamp(0.0, 1.0)) * (H - TOP - BOTTOM)
    }
}

/// A "nice" axis end: 1, 2, 2.5 or 5 × 10^k at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for f in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if f * mag >= v {
            return f * mag;
        }
    }
    10.0 * mag
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The ECDF as an SVG step path: at the i-th smallest value it jumps to i/n.
fn ecdf_path(values: &[f64], s: &Scale) -> String {
    let n = values.len() as f64;
    let mut d = format!("M{:.1},{:.1}", s.x(0.0), s.y(0.0));
    for (i, v) in values.iter().enumerate() {
        let x = s.x(*v);
        let _ = write!(d, " H{x:.1} V{:.1}", s.y((i + 1) as f64 / n));
    }
    let _ = write!(d, " H{:.1}", s.x(s.max));
    d
}

fn field_path(curve: &FieldCurve, s: &Scale) -> String {
    let pts = curve.points();
    let mut d = String::new();
    match curve {
        FieldCurve::Bins(_) => {
            let _ = write!(d, "M{:.1},{:.1}", s.x(0.0), s.y(0.0));
            for (v, q) in pts {
                let _ = write!(d, " H{:.1} V{:.1}", s.x(*v), s.y(*q));
            }
            let _ = write!(d, " H{:.1}", s.x(s.max));
        }
        FieldCurve::Quantiles(_) | FieldCurve::Points(_) => {
            for (i, (v, q)) in pts.iter().enumerate() {
                let cmd = if i == 0 { 'M' } else { 'L' };
                let _ = write!(d, "{cmd}{:.1},{:.1} ", s.x(*v), s.y(*q));
            }
        }
    }
    d.trim_end().to_string()
}

/// Renders the plot as an inline `<svg>` element.
pub fn svg(data: &PlotData<'_>) -> String {
    let cand = sorted(data.candidate);
    let reference = sorted(data.reference);
    let field_max = data
        .field
        .and_then(|f| f.points().iter().map(|p| p.0).reduce(f64::max))
        .unwrap_or(0.0);
    let data_max = cand
        .last()
        .copied()
        .unwrap_or(0.0)
        .max(reference.last().copied().unwrap_or(0.0))
        .max(field_max);
    let thresholds = data.metric.thresholds();
    let mut max = data_max;
    if let Some((good, poor)) = thresholds {
        // Show the good line always; the poor line only when it is near the data.
        max = max.max(good * 1.05);
        if poor <= data_max * 1.5 {
            max = max.max(poor * 1.05);
        }
    }
    let s = Scale {
        max: nice_ceiling(max * 1.02),
    };
    let metric = data.metric;
    let mut out = format!(
        "<svg class=\"ecdf\" data-metric=\"{m}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{m}: distribution of lab visits against the field\">\n<title>{m}: cumulative share of visits at or below each value</title>\n",
        m = esc(metric.name())
    );
    // Axes and grid.
    for i in 0..=4 {
        let q = f64::from(i) / 4.0;
        let y = s.y(q);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}%</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            i * 25
        );
    }
    for i in 0..=5 {
        let v = s.max * f64::from(i) / 5.0;
        let x = s.x(v);
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            esc(&metric.format(v))
        );
    }
    if let Some((good, poor)) = thresholds {
        for (v, class, label) in [(good, "good", "good ≤"), (poor, "poor", "poor >")] {
            if v <= s.max {
                let x = s.x(v);
                let _ = writeln!(
                    out,
                    "<line class=\"threshold {class}\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text class=\"threshold-label {class}\" x=\"{:.1}\" y=\"{:.1}\">{label} {}</text>",
                    H - BOTTOM,
                    x + 3.0,
                    TOP + 10.0,
                    esc(&metric.format(v))
                );
            }
        }
    }
    if let Some(field) = data.field {
        let _ = writeln!(
            out,
            "<path class=\"series field\" d=\"{}\"/>",
            field_path(field, &s)
        );
        if let FieldCurve::Points(pts) = field {
            for (v, q) in pts {
                let _ = writeln!(
                    out,
                    "<circle class=\"field-point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                    s.x(*v),
                    s.y(*q)
                );
            }
        }
    }
    if !reference.is_empty() {
        let _ = writeln!(
            out,
            "<path class=\"series reference\" d=\"{}\"/>",
            ecdf_path(&reference, &s)
        );
    }
    if !cand.is_empty() {
        let _ = writeln!(
            out,
            "<path class=\"series candidate\" d=\"{}\"/>",
            ecdf_path(&cand, &s)
        );
    }
    // Legend.
    let mut lx = LEFT;
    let ly = H - 8.0;
    let mut legend = vec![("candidate", format!("lab candidate (n={})", cand.len()))];
    if !reference.is_empty() {
        legend.push((
            "reference",
            format!("lab reference (n={})", reference.len()),
        ));
    }
    if data.field.is_some() {
        legend.push(("field", "field (real users)".to_string()));
    }
    for (class, label) in legend {
        let _ = writeln!(
            out,
            "<line class=\"series {class}\" x1=\"{lx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/><text class=\"legend\" x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
            ly - 4.0,
            lx + 18.0,
            ly - 4.0,
            lx + 22.0,
            esc(&label)
        );
        lx += 30.0 + label.chars().count() as f64 * 6.2;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Bin;

    #[test]
    fn nice_ceiling_rounds_up_to_1_2_25_5() {
        assert_eq!(nice_ceiling(2300.0), 2500.0);
        assert_eq!(nice_ceiling(0.13), 0.2);
        assert_eq!(nice_ceiling(4000.0), 5000.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }

    #[test]
    fn ecdf_steps_to_one_at_the_largest_value() {
        let s = Scale { max: 100.0 };
        let d = ecdf_path(&[10.0, 50.0], &s);
        // Two jumps: to 1/2 at 10 and to 1 at 50.
        assert!(
            d.contains(&format!("H{:.1} V{:.1}", s.x(10.0), s.y(0.5))),
            "{d}"
        );
        assert!(
            d.contains(&format!("H{:.1} V{:.1}", s.x(50.0), s.y(1.0))),
            "{d}"
        );
    }

    #[test]
    fn crux_bins_become_cumulative_steps() {
        let b = MetricBaseline {
            n: 0,
            definition: "web-vitals".into(),
            binned_only: true,
            p50: None,
            p75: Some(2100.0),
            p90: None,
            p95: None,
            shares: None,
            histogram: vec![
                Bin {
                    start: 0.0,
                    end: Some(2500.0),
                    density: 0.8,
                },
                Bin {
                    start: 2500.0,
                    end: Some(4000.0),
                    density: 0.15,
                },
                Bin {
                    start: 4000.0,
                    end: None,
                    density: 0.05,
                },
            ],
            sketch: None,
        };
        let FieldCurve::Bins(edges) = FieldCurve::from_baseline(&b).unwrap() else {
            panic!("expected bins");
        };
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0], (2500.0, 0.8));
        assert!((edges[1].1 - 0.95).abs() < 1e-12);
    }
}
