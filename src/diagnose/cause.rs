//! The one sentence: the most likely cause of a row's shift with its
//! evidence, or an honest "no single cause stands out".

use super::{PartShift, RequestChange, RequestChangeKind, Row};
use crate::metric::Metric;

/// A moved part explains the row when it carries at least this share of the
/// row's shift.
const DOMINANT: f64 = 0.5;

/// The sentence when nothing explains the shift.
pub const NOTHING: &str = "no single cause stands out";

/// `+420 ms`, `-1.2 kB`: a signed amount in the metric's unit.
pub(crate) fn signed(metric: Metric, x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "+" };
    format!("{sign}{}", metric.format(x.abs()))
}

fn ms(x: f64) -> String {
    signed(Metric::Lcp, x)
}

/// `resource_load_delay` → `resource load delay`; `ttfb` → `time to first byte`.
pub(crate) fn label(part: &str) -> String {
    match part {
        "ttfb" => "time to first byte".into(),
        "presentation" => "presentation delay".into(),
        "tbt" => "total blocking time".into(),
        "long_tasks" => "long tasks".into(),
        "long_tasks_before_paint" => "long tasks before the LCP paint".into(),
        other => other.replace('_', " "),
    }
}

/// `/promo.css (300.0 kB)`, or `/hero.png (120.0 kB → 900.0 kB)` for a grown one.
pub(crate) fn request_text(r: &RequestChange) -> String {
    let kb = |b: f64| Metric::Bytes.format(b);
    match r.change {
        RequestChangeKind::Added => format!("{} ({})", r.url, kb(r.bytes_candidate)),
        RequestChangeKind::Removed => format!("{} ({})", r.url, kb(r.bytes_reference)),
        RequestChangeKind::Grown => format!(
            "{} ({} → {}, {:.0} ms → {:.0} ms)",
            r.url,
            kb(r.bytes_reference),
            kb(r.bytes_candidate),
            r.ms_reference,
            r.ms_candidate
        ),
    }
}

fn blocking(requests: &[RequestChange]) -> Option<&RequestChange> {
    requests
        .iter()
        .find(|r| r.render_blocking && r.change != RequestChangeKind::Removed)
}

fn blocking_text(r: &RequestChange) -> String {
    let what = if r.change == RequestChangeKind::Added {
        "new"
    } else {
        "grown"
    };
    format!("{what} render-blocking request {}", request_text(r))
}

fn main_thread_text(main: &[PartShift]) -> Option<String> {
    let moved: Vec<String> = main
        .iter()
        .filter(|p| p.moved)
        .map(|p| match p.name.as_str() {
            "long_tasks" => format!("long tasks {}", signed(Metric::LongTasks, p.shift)),
            _ => format!("{} {}", label(&p.name), ms(p.shift)),
        })
        .collect();
    (!moved.is_empty()).then(|| format!("{} (the main thread is busy)", moved.join(", ")))
}

/// Whether `part` carries the row's shift (or the row has none to compare).
fn dominant(part: &PartShift, row_shift: Option<f64>) -> bool {
    part.moved && row_shift.is_none_or(|d| d <= 0.0 || part.shift >= DOMINANT * d)
}

/// Said when the visits carry no attribution at all (samples recorded
/// before rumcheck collected it, or pages without LCP and requests).
const NO_ATTRIBUTION: &str =
    " (the visits carry no LCP sub-parts, Server-Timing entries or request list to compare)";

/// The sentence and whether it names a cause.
pub(crate) fn explain(
    row: Row<'_>,
    parts: &[PartShift],
    server: &[PartShift],
    requests: &[RequestChange],
    main: &[PartShift],
) -> (String, bool) {
    let m = row.metric;
    let head = match row.shift {
        Some(d) => format!("{} {}", m.name().to_uppercase(), signed(m, d)),
        None => m.name().to_uppercase(),
    };
    let server_top = server.iter().find(|p| p.moved);
    let server_text = |p: &PartShift| format!("{} {} (Server-Timing)", p.name, ms(p.shift));
    let found = |evidence: Vec<String>| (format!("{head}: {}", evidence.join("; ")), true);
    // The part of the metric that moved most, when it carries the shift.
    let top = parts
        .iter()
        .find(|p| p.moved)
        .filter(|p| dominant(p, row.shift));
    match (m, top) {
        (Metric::Ttfb, _) => {
            if let Some(s) = server_top.filter(|p| dominant(p, row.shift)) {
                return found(vec![server_text(s)]);
            }
        }
        (Metric::Lcp | Metric::Fcp, Some(p)) => {
            let mut ev = vec![format!("{} {}", label(&p.name), ms(p.shift))];
            match p.name.as_str() {
                "ttfb" => ev.extend(server_top.map(server_text)),
                "resource_load_delay" => {
                    ev[0].push_str(" (the LCP resource starts later)");
                    ev.extend(blocking(requests).map(blocking_text));
                }
                "resource_load_duration" => {
                    ev[0].push_str(" (the LCP resource takes longer to arrive)");
                    ev.extend(
                        requests
                            .iter()
                            .find(|r| r.change == RequestChangeKind::Grown)
                            .map(request_text),
                    );
                }
                _ => {
                    ev[0].push_str(" (the paint waits after the content arrived)");
                    if let Some(b) = blocking(requests) {
                        ev.push(blocking_text(b));
                    } else {
                        ev.extend(main_thread_text(main));
                    }
                }
            }
            return found(ev);
        }
        (Metric::Inp, Some(p)) => {
            let why = match p.name.as_str() {
                "input_delay" => " (the main thread is busy when the user interacts)",
                "processing" => " (the event handlers run longer)",
                _ => " (rendering after the handlers takes longer)",
            };
            return found(vec![format!("{} {}{why}", label(&p.name), ms(p.shift))]);
        }
        _ => {}
    }
    // No part carries it: evidence from outside the metric's own split.
    if matches!(m, Metric::Lcp | Metric::Fcp) {
        if let Some(b) = blocking(requests) {
            return found(vec![blocking_text(b)]);
        }
        if let Some(s) = server_top.filter(|p| dominant(p, row.shift)) {
            return found(vec![server_text(s)]);
        }
    }
    if matches!(m, Metric::Lcp | Metric::Fcp | Metric::Inp | Metric::Tbt)
        && let Some(t) = main_thread_text(main)
    {
        return found(vec![t]);
    }
    if matches!(m, Metric::Bytes | Metric::Requests)
        && let Some(r) = requests
            .iter()
            .find(|r| r.change != RequestChangeKind::Removed)
    {
        let what = if r.change == RequestChangeKind::Added {
            "new request"
        } else {
            "grown request"
        };
        return found(vec![format!("{what} {}", request_text(r))]);
    }
    let attributed = |s: &crate::sample::Sample| {
        s.lcp_parts().is_some() || !s.requests().is_empty() || !s.server_timing().is_empty()
    };
    if !row
        .candidate
        .iter()
        .chain(row.reference)
        .any(|s| attributed(s))
    {
        return (format!("{head}: {NOTHING}{NO_ATTRIBUTION}"), false);
    }
    let partly = parts.iter().find(|p| p.moved).map(|p| {
        format!(
            " ({} {} explains only part of it)",
            label(&p.name),
            ms(p.shift)
        )
    });
    (
        format!("{head}: {NOTHING}{}", partly.unwrap_or_default()),
        false,
    )
}
