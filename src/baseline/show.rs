//! `baseline show`: a readable table per page × segment × metric.

use super::model::{Baseline, Context, SegmentBaseline, SegmentKey};
use std::fmt::Write;

/// Renders a baseline for people: provenance, then one block per page × segment.
pub fn show(b: &Baseline) -> String {
    let mut out = String::new();
    let p = &b.provenance;
    let (read, accepted) = p
        .sources
        .iter()
        .fold((0, 0), |(r, a), s| (r + s.rows_read, a + s.rows_accepted));
    let _ = writeln!(
        out,
        "baseline (schema {}) written by rumcheck {} at {}",
        b.schema, p.rumcheck_version, p.imported_at
    );
    let _ = writeln!(
        out,
        "{} input file(s): {read} rows read, {accepted} accepted",
        p.sources.len()
    );
    for s in &p.sources {
        for (reason, r) in &s.rejected {
            let lines: Vec<String> = r.first_lines.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "  {}: {} rejected as {reason} (first lines: {})",
                s.file,
                r.count,
                lines.join(", ")
            );
        }
    }
    if let Some((a, z)) = &p.time_range {
        let _ = writeln!(out, "data from {a} to {z}");
    }
    if let Some(cap) = &p.page_cap {
        let _ = writeln!(
            out,
            "pages: {} kept (--max-pages {}); {} of page views ({}) folded into (other)",
            cap.pages,
            cap.max_pages,
            pct(cap.other_share),
            cap.other_views
        );
    }
    for s in &b.segments {
        segment_block(&mut out, s);
    }
    out
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn segment_block(out: &mut String, s: &SegmentBaseline) {
    let flag = if s.too_small {
        "  [too small to compare]"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\n{} — {}{flag}",
        s.page,
        SegmentKey::label(&s.segment)
    );
    let ctx = context_line(&s.context);
    if !ctx.is_empty() {
        let _ = writeln!(out, "  {ctx}");
    }
    let _ = writeln!(
        out,
        "  {:<10} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}  source",
        "metric", "n", "p50", "p75", "p90", "good", "NI", "poor"
    );
    for (m, mb) in &s.metrics {
        let q = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| m.format(x));
        let sh = |f: fn(&super::model::Shares) -> f64| {
            mb.shares
                .as_ref()
                .map_or_else(|| "-".to_string(), |s| pct(f(s)))
        };
        let n = if mb.binned_only {
            "binned".to_string()
        } else {
            mb.n.to_string()
        };
        let _ = writeln!(
            out,
            "  {:<10} {:>8} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}  {}",
            m.name(),
            n,
            q(mb.p50),
            q(mb.p75),
            q(mb.p90),
            sh(|s| s.good),
            sh(|s| s.needs_improvement),
            sh(|s| s.poor),
            mb.definition
        );
    }
    for (m, pairs) in &s.ttfb_pairs {
        let _ = writeln!(out, "  {}", super::correlation::reading(*m, pairs));
    }
}

fn context_line(c: &Context) -> String {
    let mut parts = Vec::new();
    if c.page_views > 0 {
        parts.push(format!("{} page views", c.page_views));
    }
    if let Some(s) = c.sessions {
        parts.push(format!("{s} sessions"));
    }
    if let Some(u) = c.active_users {
        let per_day = if c.users_per_day.is_empty() {
            String::new()
        } else {
            let avg = c.users_per_day.values().sum::<u64>() as f64 / c.users_per_day.len() as f64;
            format!(" ({avg:.0}/day over {} days)", c.users_per_day.len())
        };
        parts.push(format!("{u} users{per_day}"));
    }
    if let Some(b) = c.bounce_rate {
        let by: Vec<String> = c
            .bounce_rate_by_lcp
            .iter()
            .map(|(k, v)| format!("LCP {k} {}", pct(*v)))
            .collect();
        let by = if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        };
        parts.push(format!("bounce {}{by}", pct(b)));
    }
    if let Some(j) = c.js_error_rate {
        parts.push(format!("JS errors in {} of views", pct(j)));
    }
    for (m, a) in &c.apdex {
        parts.push(format!("Apdex {m}(T={}) {:.2}", a.t_ms, a.score));
    }
    parts.join(" · ")
}
