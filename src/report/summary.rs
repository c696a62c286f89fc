//! The terminal summary of a run: median / p75 / p90 per page, profile and
//! metric, plus failed visits. Descriptive only; judging is `verdict`'s job.

use crate::metric::Metric;
use crate::output::inert::terminal;
use crate::sample::{Sample, Variant};
use crate::stats::nearest_rank;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Summary of one metric of one page × profile.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    /// Visits where the metric happened.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// (page, profile, variant).
pub type GroupKey = (String, String, Variant);

/// A group's failed-visit count and per-metric summaries.
pub type GroupSummary = (usize, BTreeMap<Metric, MetricSummary>);

/// Groups ok samples by (page, profile, variant) and summarises every metric.
pub fn summarize(samples: &[Sample]) -> BTreeMap<GroupKey, GroupSummary> {
    let mut groups: BTreeMap<GroupKey, (usize, BTreeMap<Metric, Vec<f64>>)> = BTreeMap::new();
    for s in samples {
        let entry = groups
            .entry((s.page.clone(), s.profile.clone(), s.variant.clone()))
            .or_default();
        if !s.ok {
            entry.0 += 1;
            continue;
        }
        for (m, v) in &s.metrics {
            entry.1.entry(*m).or_default().push(*v);
        }
    }
    groups
        .into_iter()
        .map(|(key, (failed, metrics))| {
            let metrics = metrics
                .into_iter()
                .map(|(m, mut values)| {
                    values.sort_by(f64::total_cmp);
                    let summary = MetricSummary {
                        n: values.len(),
                        p50: nearest_rank(&values, 0.5),
                        p75: nearest_rank(&values, 0.75),
                        p90: nearest_rank(&values, 0.9),
                    };
                    (m, summary)
                })
                .collect();
            (key, (failed, metrics))
        })
        .collect()
}

/// Renders the summary as a plain-text table.
pub fn render(samples: &[Sample]) -> String {
    let mut out = String::new();
    for ((page, profile, variant), (failed, metrics)) in summarize(samples) {
        let variant = if variant == Variant::Candidate {
            String::new()
        } else {
            format!(" [{variant}]")
        };
        // Names come from the scenario or a samples file: printed inert.
        let (page, profile, variant) = (terminal(&page), terminal(&profile), terminal(&variant));
        let _ = writeln!(
            out,
            "\n{page} · {profile}{variant}{}",
            if failed > 0 {
                format!(" · {failed} failed visit(s)")
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            out,
            "  {:<16} {:>4} {:>10} {:>10} {:>10}",
            "metric", "n", "median", "p75", "p90"
        );
        // Built-ins in report order, then server.* by name (the map's order).
        for (&m, s) in &metrics {
            let _ = writeln!(
                out,
                "  {:<16} {:>4} {:>10} {:>10} {:>10}",
                m.name(),
                s.n,
                m.format(s.p50),
                m.format(s.p75),
                m.format(s.p90)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_visits_are_counted_not_averaged() {
        let mut ok = Sample::failed(0, "home", "default", "u", String::new());
        ok.ok = true;
        ok.metrics.insert(Metric::Lcp, 1000.0);
        let bad = Sample::failed(1, "home", "default", "u", "timeout".into());
        let text = render(&[ok, bad]);
        assert!(text.contains("1 failed visit(s)"), "{text}");
        assert!(text.contains("lcp") && text.contains("1000 ms"), "{text}");
        assert!(!text.contains("inp"), "{text}");
    }

    #[test]
    fn hostile_page_names_cannot_start_a_line_or_send_escapes() {
        let mut s = Sample::failed(0, "x\n::error::pwn\x1b]0;t\x07", "::p", "u", String::new());
        s.ok = true;
        s.metrics.insert(Metric::Lcp, 1.0);
        let text = render(&[s]);
        assert!(!text.contains('\x1b'), "{text}");
        assert!(
            text.lines().all(|l| !l.trim_start().starts_with("::")),
            "{text}"
        );
    }
}
