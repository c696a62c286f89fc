//! Per-visit details: the step log, where the time went, and a screenshot
//! of the final viewport for failed and outlier visits.

use crate::metric::Metric;
use crate::report::text::esc;
use crate::sample::Sample;
use crate::stats::nearest_rank;
use base64::Engine;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Upper fences per metric: a value above `p75 + 3·IQR` of its group is an
/// outlier (Tukey's "far out" fence). Needs at least 4 values.
pub fn fences(samples: &[&Sample]) -> BTreeMap<Metric, f64> {
    let mut out = BTreeMap::new();
    for m in Metric::GATED {
        let mut v: Vec<f64> = samples.iter().filter_map(|s| s.metric(m)).collect();
        if v.len() < 4 {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let (q1, q3) = (nearest_rank(&v, 0.25), nearest_rank(&v, 0.75));
        out.insert(m, q3 + 3.0 * (q3 - q1));
    }
    out
}

/// The metrics of a visit beyond their fences.
pub fn outlying(sample: &Sample, fences: &BTreeMap<Metric, f64>) -> Vec<Metric> {
    fences
        .iter()
        .filter(|&(&m, &fence)| sample.metric(m).is_some_and(|v| v > fence))
        .map(|(&m, _)| m)
        .collect()
}

/// A screenshot usable as a `data:` URI: valid base64 of a PNG, else `None`
/// (so a damaged or hostile string never reaches an attribute).
fn png_data(b64: &str) -> Option<&str> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    bytes.starts_with(b"\x89PNG\r\n\x1a\n").then_some(b64)
}

/// Renders the visits of one page × profile as nested `<details>`.
pub fn render(samples: &[&Sample]) -> String {
    if samples.is_empty() {
        return String::new();
    }
    let by_variant = |variant: &str| -> Vec<&Sample> {
        samples
            .iter()
            .copied()
            .filter(|s| s.variant.as_str() == variant)
            .collect()
    };
    let mut out = String::new();
    let flagged = samples.iter().filter(|s| !s.ok).count();
    // Open when something failed: the first thing a developer looks at.
    let _ = writeln!(
        out,
        "<details class=\"visits\"{}><summary>Visits: {} ({} failed)</summary>",
        if flagged > 0 { " open=\"open\"" } else { "" },
        samples.len(),
        flagged
    );
    let mut variants: Vec<&str> = samples.iter().map(|s| s.variant.as_str()).collect();
    variants.dedup();
    variants.sort();
    variants.dedup();
    for variant in variants {
        let group = by_variant(variant);
        let fences = fences(&group);
        for s in group {
            visit(&mut out, s, &fences);
        }
    }
    out.push_str("</details>\n");
    out
}

fn visit(out: &mut String, s: &Sample, fences: &BTreeMap<Metric, f64>) {
    let outliers = outlying(s, fences);
    let class = if !s.ok {
        "visit failed"
    } else if !outliers.is_empty() {
        "visit outlier"
    } else {
        "visit"
    };
    let headline = if !s.ok {
        format!(
            "failed: {}",
            s.error.as_deref().unwrap_or("no reason recorded")
        )
    } else {
        let mut parts: Vec<String> = Metric::GATED
            .iter()
            .filter_map(|&m| s.metric(m).map(|v| format!("{m} {}", m.format(v))))
            .collect();
        if !outliers.is_empty() {
            let names: Vec<&str> = outliers.iter().map(|m| m.name()).collect();
            parts.push(format!("outlier: {}", names.join(", ")));
        }
        parts.join(" · ")
    };
    let open = if s.ok { "" } else { " open=\"open\"" };
    let _ = writeln!(
        out,
        "<details class=\"{class}\"{open}><summary>run {} · {} · {}</summary>",
        s.run,
        esc(s.variant.as_str()),
        esc(&headline)
    );
    let _ = writeln!(
        out,
        "<p class=\"visit-meta\"><span class=\"url\">{}</span> · {} attempt(s){}{}</p>",
        esc(&s.url),
        s.attempts,
        if s.started_at.is_empty() {
            String::new()
        } else {
            format!(" · started {}", esc(&s.started_at))
        },
        if s.browser.is_empty() {
            String::new()
        } else {
            format!(" · {}", esc(&s.browser))
        }
    );
    if let Some(t) = s.timing {
        let _ = writeln!(
            out,
            "<p class=\"timing\">session {:.0} ms · page {:.0} ms · finalise {:.0} ms</p>",
            t.session_ms, t.page_ms, t.finalize_ms
        );
    }
    if !s.steps.is_empty() {
        out.push_str("<table class=\"steps\"><thead><tr><th>step</th><th>ms</th><th>error</th></tr></thead><tbody>\n");
        for step in &s.steps {
            let _ = writeln!(
                out,
                "<tr{}><td>{}</td><td class=\"num\">{:.0}</td><td>{}</td></tr>",
                if step.error.is_some() {
                    " class=\"step-failed\""
                } else {
                    ""
                },
                esc(&step.step),
                step.ms,
                esc(step.error.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !s.ok || !outliers.is_empty() {
        match s.screenshot.as_deref().and_then(png_data) {
            Some(png) => {
                let _ = writeln!(
                    out,
                    "<img class=\"screenshot\" alt=\"final viewport of run {}\" src=\"data:image/png;base64,{}\"/>",
                    s.run,
                    esc(png)
                );
            }
            None => out.push_str("<p class=\"no-screenshot\">no screenshot recorded</p>\n"),
        }
    }
    out.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit_with(lcp: f64) -> Sample {
        let mut s = Sample::failed(0, "p", "d", "u", String::new());
        s.ok = true;
        s.error = None;
        s.metrics.insert(Metric::Lcp, lcp);
        s
    }

    #[test]
    fn the_far_out_fence_flags_only_extreme_visits() {
        // Values 100..=107 and 500: nearest-rank q1 = 102, q3 = 106 (n = 9),
        // fence = 106 + 3·4 = 118.
        let mut all: Vec<Sample> = (100..108).map(|v| visit_with(f64::from(v))).collect();
        all.push(visit_with(500.0));
        let refs: Vec<&Sample> = all.iter().collect();
        let f = fences(&refs);
        assert_eq!(f[&Metric::Lcp], 118.0);
        assert_eq!(outlying(&all[8], &f), vec![Metric::Lcp]);
        assert!(outlying(&all[7], &f).is_empty());
    }

    #[test]
    fn only_real_pngs_become_data_uris() {
        assert!(png_data("iVBORw0KGgo=").is_some());
        assert!(png_data("\"><script>").is_none());
        assert!(png_data("aGVsbG8=").is_none());
    }
}
