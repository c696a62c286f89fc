//! `baseline merge`: combine baselines of split exports.
//!
//! Sketches merge exactly (same bins as one import of all rows); counts and
//! provenance add up; rates are re-weighted by their stored denominators.
//! Distinct sessions and users add up too, which is exact for exports split
//! by session or by site, and an upper bound when one user appears in
//! several parts. Binned-only (CrUX) metrics cannot merge: the later file's
//! record wins, and so does its round-trip-time p75 (`context.rtt_p75_ms`)
//! when it has one.
//!
//! Every part is validated first (the sketch crate trusts its input), and
//! the same imported data twice is refused: it would count every value
//! twice. Parts are recognised by the content hashes their provenance
//! records (or, for files without them, by hashing their segments).

use super::error::ImportError;
use super::model::{
    Apdex, BASELINE_SCHEMA, Baseline, Context, MetricBaseline, Provenance, SegmentBaseline, Shares,
};
use super::record::format_time;
use super::validate::validate;
use crate::metric::Metric;
use std::collections::BTreeMap;

/// Merges baselines in order, refusing the same data twice. `names` label
/// them in errors.
pub fn merge(parts: &[Baseline], names: &[String]) -> Result<Baseline, ImportError> {
    merge_with(parts, names, false)
}

/// Merges baselines in order; `allow_duplicate` merges parts holding the
/// same imported data too (`baseline merge --allow-duplicate`).
pub fn merge_with(
    parts: &[Baseline],
    names: &[String],
    allow_duplicate: bool,
) -> Result<Baseline, ImportError> {
    let name = |i: usize| {
        names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("input {}", i + 1))
    };
    let mut hashes: Vec<(String, usize)> = Vec::new();
    for (i, b) in parts.iter().enumerate() {
        validate(b).map_err(|e| ImportError::Invalid {
            file: name(i),
            field: e.field,
            problem: e.problem,
        })?;
        let mut mine = b.provenance.content_hashes.clone();
        if mine.is_empty() {
            mine.push(b.content_hash());
        }
        mine.sort_unstable();
        mine.dedup();
        for h in mine {
            match hashes.iter().find(|(seen, _)| *seen == h) {
                Some((_, j)) if !allow_duplicate => {
                    return Err(ImportError::Duplicate {
                        file: name(i),
                        other: name(*j),
                        hash: h,
                    });
                }
                Some(_) => {}
                None => hashes.push((h, i)),
            }
        }
    }
    let mut out = Baseline {
        schema: BASELINE_SCHEMA,
        provenance: Provenance {
            rumcheck_version: env!("CARGO_PKG_VERSION").to_string(),
            imported_at: format_time(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            ),
            ..Provenance::default()
        },
        segments: Vec::new(),
    };
    out.provenance.content_hashes = hashes.into_iter().map(|(h, _)| h).collect();
    for (i, b) in parts.iter().enumerate() {
        let name = name(i);
        let p = &b.provenance;
        out.provenance.sources.extend(p.sources.iter().cloned());
        out.provenance.min_segment = out.provenance.min_segment.max(p.min_segment);
        if let Some((a, z)) = &p.time_range {
            out.provenance.time_range = Some(match out.provenance.time_range.take() {
                Some((x, y)) => (x.min(a.clone()), y.max(z.clone())),
                None => (a.clone(), z.clone()),
            });
        }
        for s in &b.segments {
            match out
                .segments
                .iter_mut()
                .find(|o| o.page == s.page && o.segment == s.segment)
            {
                Some(o) => merge_segment(o, s).map_err(|message| ImportError::Baseline {
                    file: name.clone(),
                    message,
                })?,
                None => out.segments.push(s.clone()),
            }
        }
    }
    let min = out.provenance.min_segment.unwrap_or(30);
    for s in &mut out.segments {
        let max_n = s.metrics.values().map(|m| m.n).max().unwrap_or(0);
        let binned = s.metrics.values().all(|m| m.binned_only) && !s.metrics.is_empty();
        s.too_small = !binned && max_n < min;
    }
    out.segments
        .sort_by(|a, b| (&a.page, &a.segment).cmp(&(&b.page, &b.segment)));
    Ok(out)
}

fn weighted(a: Option<f64>, wa: u64, b: Option<f64>, wb: u64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) if wa.saturating_add(wb) > 0 => {
            Some((x * wa as f64 + y * wb as f64) / (wa as f64 + wb as f64))
        }
        (x, None) => x,
        (None, y) => y,
        (x, _) => x,
    }
}

fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        _ => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

fn merge_segment(o: &mut SegmentBaseline, s: &SegmentBaseline) -> Result<(), String> {
    for (m, mb) in &s.metrics {
        match o.metrics.get_mut(m) {
            Some(om) => merge_metric(*m, om, mb)?,
            None => {
                o.metrics.insert(*m, mb.clone());
            }
        }
    }
    merge_context(&mut o.context, &s.context);
    for (m, pairs) in &s.ttfb_pairs {
        // Keys are stored, so the union's smallest keys are the sample one
        // import of both parts would have drawn.
        let mine = o.ttfb_pairs.entry(*m).or_default();
        mine.merge(pairs);
        mine.finish();
    }
    Ok(())
}

fn merge_metric(m: Metric, o: &mut MetricBaseline, s: &MetricBaseline) -> Result<(), String> {
    let (Some(os), Some(ss)) = (o.sketch.as_mut(), s.sketch.as_ref()) else {
        *o = s.clone();
        return Ok(());
    };
    os.merge(ss).map_err(|e| format!("{m}: {e}"))?;
    let (na, nb) = (o.n, s.n);
    o.shares = match (o.shares, s.shares) {
        (Some(a), Some(b)) => Some(Shares {
            good: weighted(Some(a.good), na, Some(b.good), nb).unwrap_or(0.0),
            needs_improvement: weighted(
                Some(a.needs_improvement),
                na,
                Some(b.needs_improvement),
                nb,
            )
            .unwrap_or(0.0),
            poor: weighted(Some(a.poor), na, Some(b.poor), nb).unwrap_or(0.0),
        }),
        (a, b) => a.or(b),
    };
    o.n = na.saturating_add(nb);
    for d in s.definition.split('+') {
        if !o.definition.split('+').any(|x| x == d) {
            o.definition = format!("{}+{d}", o.definition);
        }
    }
    o.p50 = os.quantile(0.50);
    o.p75 = os.quantile(0.75);
    o.p90 = os.quantile(0.90);
    o.p95 = os.quantile(0.95);
    Ok(())
}

fn merge_context(o: &mut Context, s: &Context) {
    let (la, lb) = (
        o.landing_sessions.unwrap_or(0),
        s.landing_sessions.unwrap_or(0),
    );
    o.bounce_rate = weighted(o.bounce_rate, la, s.bounce_rate, lb);
    let mut by_lcp = BTreeMap::new();
    for (k, rate) in o.bounce_rate_by_lcp.iter().chain(&s.bounce_rate_by_lcp) {
        let n = |c: &Context| c.landing_sessions_by_lcp.get(k).copied().unwrap_or(0);
        let merged = weighted(
            o.bounce_rate_by_lcp.get(k).copied(),
            n(o),
            s.bounce_rate_by_lcp.get(k).copied(),
            n(s),
        );
        by_lcp.insert(k.clone(), merged.unwrap_or(*rate));
    }
    o.bounce_rate_by_lcp = by_lcp;
    for (k, n) in &s.landing_sessions_by_lcp {
        let e = o.landing_sessions_by_lcp.entry(k.clone()).or_default();
        *e = e.saturating_add(*n);
    }
    let (ja, jb) = (
        o.js_reported_views.unwrap_or(0),
        s.js_reported_views.unwrap_or(0),
    );
    o.js_error_rate = weighted(o.js_error_rate, ja, s.js_error_rate, jb);
    o.js_reported_views = add_opt(o.js_reported_views, s.js_reported_views);
    o.landing_sessions = add_opt(o.landing_sessions, s.landing_sessions);
    // CrUX states an RTT p75 per record and p75s cannot be combined: like
    // binned metrics, the later file's value wins; one side's value is kept.
    o.rtt_p75_ms = s.rtt_p75_ms.or(o.rtt_p75_ms);
    o.page_views = o.page_views.saturating_add(s.page_views);
    o.sessions = add_opt(o.sessions, s.sessions);
    o.active_users = add_opt(o.active_users, s.active_users);
    for (d, n) in &s.users_per_day {
        let e = o.users_per_day.entry(d.clone()).or_default();
        *e = e.saturating_add(*n);
    }
    for (m, b) in &s.apdex {
        let a = o.apdex.get(m).copied();
        let score = weighted(a.map(|x| x.score), a.map_or(0, |x| x.n), Some(b.score), b.n)
            .unwrap_or(b.score);
        o.apdex.insert(
            *m,
            Apdex {
                t_ms: b.t_ms,
                score,
                n: a.map_or(0, |x| x.n).saturating_add(b.n),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::model::SegmentKey;

    fn part(rtt: Option<f64>) -> Baseline {
        Baseline {
            schema: BASELINE_SCHEMA,
            provenance: Provenance::default(),
            segments: vec![SegmentBaseline {
                page: "https://shop.example".into(),
                segment: SegmentKey::default(),
                too_small: false,
                metrics: BTreeMap::new(),
                context: Context {
                    rtt_p75_ms: rtt,
                    ..Context::default()
                },
                ttfb_pairs: Default::default(),
            }],
        }
    }

    fn merged_rtt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
        // Two parts without rtt are the same data: allowed here on purpose.
        merge_with(&[part(a), part(b)], &[], true).unwrap().segments[0]
            .context
            .rtt_p75_ms
    }

    #[test]
    fn rtt_p75_is_kept_from_either_side_and_the_later_one_wins() {
        assert_eq!(merged_rtt(Some(120.0), None), Some(120.0));
        assert_eq!(merged_rtt(None, Some(95.0)), Some(95.0));
        assert_eq!(merged_rtt(Some(120.0), Some(95.0)), Some(95.0));
        assert_eq!(merged_rtt(None, None), None);
    }
}
