//! CrUX: `records:queryRecord` responses, PageSpeed Insights
//! `loadingExperience` / `originLoadingExperience`, and
//! `records:queryHistoryRecord` responses. Only 3-bin histograms and the p75
//! exist, so these metrics are `binned_only` with `n = 0`; the p75 and
//! densities are copied exactly as the file states them.
//!
//! History records: the newest collection period with a complete
//! histogram and a p75 is used per metric; older or incomplete periods
//! (`"NaN"` densities, `null` p75s) are skipped and counted.
//!
//! `round_trip_time` (CrUX's p75 network RTT) is not a web-vitals metric:
//! its p75 goes to the segment's `context.rtt_p75_ms`.

pub mod bigquery;
#[cfg(test)]
mod tests;
mod value;

use super::error::{ImportError, Reason, Tally};
use super::model::{Bin, Context, MetricBaseline, SegmentBaseline, SegmentKey, Shares};
use super::record::parse_time;
use crate::metric::Metric;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use value::{Kind, checked};

/// Definition recorded for CrUX-sourced metrics.
pub const CRUX: &str = "crux";

/// The CrUX metric holding the users' network round-trip time.
const RTT: &str = "round_trip_time";

/// Largest CrUX/PSI document read (PSI responses with Lighthouse are ~1 MB).
const MAX_BYTES: u64 = 64 << 20;

/// What a CrUX document yielded: binned segments and the dates covered.
#[derive(Debug, Default)]
pub struct CruxOut {
    /// One entry per record (page × segment).
    pub segments: Vec<SegmentBaseline>,
    /// First and last day covered (Unix seconds).
    pub time_range: Option<(i64, i64)>,
}

/// Imports one CrUX / PSI / CrUX History JSON document.
pub fn import(
    reader: impl BufRead,
    tally: &mut Tally,
    out: &mut CruxOut,
) -> Result<(), ImportError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|source| ImportError::Io {
            file: tally.source.file.clone(),
            source,
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return tally.reject(Reason::EmptyFile, 1, "the file is empty");
    }
    let doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let reason = if std::str::from_utf8(&bytes).is_err() {
                Reason::NonUtf8
            } else {
                Reason::Malformed
            };
            tally.source.rows_read += 1;
            return tally.reject(
                reason,
                e.line() as u64,
                &format!("not a CrUX JSON document: {e}"),
            );
        }
    };
    let Some(obj) = doc.as_object() else {
        tally.source.rows_read += 1;
        return tally.reject(Reason::Malformed, 1, "not a JSON object");
    };
    if let Some(err) = obj.get("error") {
        tally.source.rows_read += 1;
        let s = |k: &str| {
            err.get(k)
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_default()
        };
        return tally.reject(
            Reason::NoData,
            1,
            &format!(
                "CrUX answered {} {}: {}",
                s("code"),
                s("status"),
                s("message")
            ),
        );
    }
    if let Some(record) = obj.get("record").and_then(Value::as_object) {
        tally.source.rows_read += 1;
        return record_segment(record, tally, out);
    }
    let psi_ff = psi_form_factor(obj);
    let mut any = false;
    for key in ["loadingExperience", "originLoadingExperience"] {
        if let Some(exp) = obj.get(key) {
            any = true;
            tally.source.rows_read += 1;
            psi_segment(key, exp, psi_ff.clone(), tally, out)?;
        }
    }
    if !any {
        tally.source.rows_read += 1;
        tally.reject(
            Reason::Malformed,
            1,
            "neither a CrUX record, a CrUX error, nor a PSI loadingExperience",
        )?;
    }
    Ok(())
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// CrUX metric names (API, History, PSI) to rumcheck metrics, with the PSI
/// CLS scale (PSI states CLS × 100).
fn metric_of(name: &str) -> Option<(Metric, f64)> {
    let lower = name.to_ascii_lowercase();
    let psi_cls = lower == "cumulative_layout_shift_score";
    let bare = lower.trim_end_matches("_ms").trim_end_matches("_score");
    let m: Metric = bare.parse().ok()?;
    if !(Metric::GATED.contains(&m) || m == Metric::Fid) {
        return None;
    }
    Some((m, if psi_cls { 100.0 } else { 1.0 }))
}

fn key_segment(key: &Map<String, Value>) -> SegmentKey {
    let s = |k: &str| {
        key.get(k)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    SegmentKey {
        form_factor: s("formFactor").filter(|f| f != "all_form_factors"),
        connection: s("effectiveConnectionType"),
        ..SegmentKey::default()
    }
}

fn day(d: Option<&Value>) -> Option<i64> {
    let d = d?;
    let part = |k: &str| d.get(k).and_then(Value::as_i64);
    parse_time(&format!(
        "{:04}-{:02}-{:02}",
        part("year")?,
        part("month")?,
        part("day")?
    ))
}

fn widen(out: &mut CruxOut, period: Option<&Value>) {
    let (Some(a), Some(b)) = (
        day(period.and_then(|p| p.get("firstDate"))),
        day(period.and_then(|p| p.get("lastDate"))),
    ) else {
        return;
    };
    out.time_range = Some(match out.time_range {
        Some((x, y)) => (x.min(a), y.max(b)),
        None => (a, b),
    });
}

/// Builds a metric from bins (`start`/`end`/density) and a p75, scaled.
fn binned(
    m: Metric,
    bins: &[(Option<f64>, Option<f64>, Option<f64>)],
    p75: Option<f64>,
    scale: f64,
) -> Option<MetricBaseline> {
    let mut histogram = Vec::new();
    for (start, end, density) in bins {
        let density = density.filter(|d| d.is_finite())?;
        histogram.push(Bin {
            start: start.unwrap_or(0.0) / scale,
            end: end.map(|e| e / scale),
            density,
        });
    }
    let p75 = p75.filter(|p| p.is_finite())? / scale;
    let shares = match (m.thresholds(), histogram.as_slice()) {
        (Some((good, poor)), [a, b, c])
            if a.end == Some(good) && b.end == Some(poor) && c.end.is_none() =>
        {
            Some(Shares {
                good: a.density,
                needs_improvement: b.density,
                poor: c.density,
            })
        }
        _ => None,
    };
    Some(MetricBaseline::binned(CRUX, Some(p75), shares, histogram))
}

fn push(
    out: &mut CruxOut,
    tally: &mut Tally,
    page: String,
    segment: SegmentKey,
    metrics: BTreeMap<Metric, MetricBaseline>,
    context: Context,
    what: &str,
) -> Result<(), ImportError> {
    if metrics.is_empty() {
        return tally.reject(Reason::NoData, 1, &format!("{what} has no usable metrics"));
    }
    tally.source.rows_accepted += 1;
    out.segments.push(SegmentBaseline {
        page,
        segment,
        too_small: false,
        metrics,
        context,
        ttfb_pairs: Default::default(),
    });
    Ok(())
}

/// The record's `round_trip_time` p75 (ms): `percentiles.p75` in API
/// records, the newest finite `percentilesTimeseries.p75s` entry in History
/// records. Not a web-vitals metric: it goes to the segment's context.
fn rtt_p75(metrics: &Map<String, Value>, history: bool) -> Option<f64> {
    let body = metrics.get(RTT)?;
    let finite = |v: &Value| num(v).filter(|x| x.is_finite() && *x >= 0.0);
    if history {
        let p75s = body.get("percentilesTimeseries")?.get("p75s")?.as_array()?;
        p75s.iter().rev().find_map(finite)
    } else {
        body.get("percentiles")?.get("p75").and_then(finite)
    }
}

fn record_segment(
    record: &Map<String, Value>,
    tally: &mut Tally,
    out: &mut CruxOut,
) -> Result<(), ImportError> {
    let empty = Map::new();
    let key = record
        .get("key")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let page = ["url", "origin"]
        .iter()
        .find_map(|k| key.get(*k).and_then(Value::as_str))
        .unwrap_or("*")
        .to_string();
    let history = record.get("collectionPeriods").and_then(Value::as_array);
    let mut metrics = BTreeMap::new();
    let raw_metrics = record
        .get("metrics")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, body) in raw_metrics {
        let Some((m, scale)) = metric_of(name) else {
            continue;
        };
        let got = match history {
            None => {
                let at = |what: &str| format!("record.metrics.{name}.{what}");
                let mut bins = Vec::new();
                let empty = Vec::new();
                let histogram = body.get("histogram").and_then(Value::as_array);
                for (i, b) in histogram.unwrap_or(&empty).iter().enumerate() {
                    let f = |k: &str, kind| {
                        checked(b.get(k), kind, tally, || at(&format!("histogram[{i}].{k}")))
                    };
                    bins.push((
                        f("start", Kind::NonNegative)?,
                        f("end", Kind::NonNegative)?,
                        f("density", Kind::Density)?,
                    ));
                }
                let p75 = body.get("percentiles").and_then(|p| p.get("p75"));
                let p75 = checked(p75, Kind::NonNegative, tally, || at("percentiles.p75"))?;
                binned(m, &bins, p75, scale)
            }
            Some(periods) => {
                newest_complete(name, m, body, periods.len(), tally)?.map(|(mb, k)| {
                    widen(out, periods.get(k));
                    mb
                })
            }
        };
        if let Some(mb) = got {
            metrics.insert(m, mb);
        }
    }
    if history.is_none() {
        widen(out, record.get("collectionPeriod"));
    }
    let context = Context {
        rtt_p75_ms: rtt_p75(raw_metrics, history.is_some()),
        ..Context::default()
    };
    push(
        out,
        tally,
        page,
        key_segment(key),
        metrics,
        context,
        "the CrUX record",
    )
}

/// The newest History period with finite densities and a p75.
fn newest_complete(
    name: &str,
    m: Metric,
    body: &Value,
    periods: usize,
    tally: &mut Tally,
) -> Result<Option<(MetricBaseline, usize)>, ImportError> {
    let bins = body.get("histogramTimeseries").and_then(Value::as_array);
    let p75s = body
        .get("percentilesTimeseries")
        .and_then(|p| p.get("p75s"))
        .and_then(Value::as_array);
    let (Some(bins), Some(p75s)) = (bins, p75s) else {
        return Ok(None);
    };
    let field = |what: String| format!("record.metrics.{name}.{what}");
    for k in (0..periods).rev() {
        let mut at = Vec::new();
        for (i, b) in bins.iter().enumerate() {
            let f = |what: &str| field(format!("histogramTimeseries[{i}].{what}"));
            at.push((
                checked(b.get("start"), Kind::NonNegative, tally, || f("start"))?,
                checked(b.get("end"), Kind::NonNegative, tally, || f("end"))?,
                checked(
                    b.get("densities").and_then(|d| d.get(k)),
                    Kind::Density,
                    tally,
                    || f(&format!("densities[{k}]")),
                )?,
            ));
        }
        let p75 = checked(p75s.get(k), Kind::NonNegative, tally, || {
            field(format!("percentilesTimeseries.p75s[{k}]"))
        })?;
        if let Some(mb) = binned(m, &at, p75, 1.0) {
            return Ok(Some((mb, k)));
        }
        tally.reject(
            Reason::IncompletePeriod,
            k as u64 + 1,
            &format!("{m}: period {} has NaN densities or no p75", k + 1),
        )?;
    }
    Ok(None)
}

/// PSI answers for one strategy; Lighthouse says which form factor.
fn psi_form_factor(obj: &Map<String, Value>) -> Option<String> {
    let settings = obj.get("lighthouseResult")?.get("configSettings")?;
    let ff = settings
        .get("formFactor")
        .or_else(|| settings.get("emulatedFormFactor"))?
        .as_str()?;
    match ff {
        "mobile" => Some("phone".into()),
        "desktop" => Some("desktop".into()),
        _ => None,
    }
}

fn psi_segment(
    which: &str,
    exp: &Value,
    ff: Option<String>,
    tally: &mut Tally,
    out: &mut CruxOut,
) -> Result<(), ImportError> {
    let Some(exp) = exp.as_object() else {
        return tally.reject(
            Reason::NoData,
            1,
            &format!("{which} is null (no field data)"),
        );
    };
    let Some(raw) = exp.get("metrics").and_then(Value::as_object) else {
        return tally.reject(
            Reason::NoData,
            1,
            &format!("{which} has no metrics (no field data)"),
        );
    };
    let page = exp
        .get("id")
        .or_else(|| exp.get("initial_url"))
        .and_then(Value::as_str)
        .unwrap_or("*");
    let page = page.split(['?', '#']).next().unwrap_or(page).to_string();
    let mut metrics = BTreeMap::new();
    for (name, body) in raw {
        let Some((m, scale)) = metric_of(name) else {
            continue;
        };
        let at = |what: &str| format!("{which}.metrics.{name}.{what}");
        let mut bins = Vec::new();
        let empty = Vec::new();
        let distributions = body.get("distributions").and_then(Value::as_array);
        for (i, b) in distributions.unwrap_or(&empty).iter().enumerate() {
            let f = |k: &str, kind| {
                checked(b.get(k), kind, tally, || {
                    at(&format!("distributions[{i}].{k}"))
                })
            };
            bins.push((
                f("min", Kind::NonNegative)?,
                f("max", Kind::NonNegative)?,
                f("proportion", Kind::Density)?,
            ));
        }
        let p75 = checked(body.get("percentile"), Kind::NonNegative, tally, || {
            at("percentile")
        })?;
        if let Some(mut mb) = binned(m, &bins, p75, scale) {
            mb.definition = format!("{CRUX}-psi");
            metrics.insert(m, mb);
        }
    }
    let segment = SegmentKey {
        form_factor: ff,
        ..SegmentKey::default()
    };
    push(
        out,
        tally,
        page,
        segment,
        metrics,
        Context::default(),
        which,
    )
}
