//! Boomerang beacons: one per line, either the urlencoded query string /
//! form body Boomerang sends, or a JSON object of the same parameters (as
//! collectors such as basicRUM store them).
//!
//! Mapping: `pt.lcp` → lcp, `pt.fcp` → fcp, `et.inp` → inp, `et.fid` (else
//! `c.fid`) → fid, `c.cls` → cls with definition `boomerang-cls-sum` (a sum
//! of all shifts, not web-vitals' session window), `nt_res_st − nt_nav_st`
//! → ttfb (else `t_resp`), `nt_load_end − nt_nav_st` → load (else
//! `t_done`), `nt_domcontloaded_end − nt_nav_st` → dcl. Unload beacons
//! (`rt.quit` without `rt.start`) repeat the page-load beacon and are skipped.
//!
//! JS errors: the Errors plugin's `err` (see [`err`]) → js_errors, the number
//! of errors queued before the beacon, on beacons that carry timers. A beacon
//! without `err` reports no js_errors (not 0): nothing in a beacon tells a
//! page with the plugin and no errors from a page without the plugin. Error
//! beacons (`http.initiator=error`, errors after the page-load beacon) have
//! no timers and no view id to join them to; they are skipped and counted.

use super::accum::Accumulator;
use super::error::{ImportError, Reason, Tally};
use super::lines::{line_text, next_record};
use super::options::ImportOptions;
use super::page::{self, SegmentValues};
use super::record::{Record, View, WEB_VITALS, hash_id, parse_time, parse_value};
use crate::metric::Metric;
use std::collections::HashMap;
use std::io::BufRead;

pub mod err;

/// Definition of Boomerang's CLS (`c.cls`): the sum of all layout shifts.
pub const BOOMERANG_CLS: &str = "boomerang-cls-sum";
/// Definition of load time from `t_done` (page-load timer, not loadEventEnd exactly).
pub const BOOMERANG_T_DONE: &str = "boomerang-t_done";
/// Definition of TTFB from `t_resp`.
pub const BOOMERANG_T_RESP: &str = "boomerang-t_resp";

type Params = HashMap<String, String>;

/// Imports one file of Boomerang beacons into `acc`.
pub fn import(
    reader: impl BufRead,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut views = 0u64;
    let mut page_buf = String::new();
    let mut metrics = Vec::new();
    while next_record(&mut reader, &mut buf, opts.max_line_bytes, &mut line, tally)? {
        let params = match line_text(&buf).and_then(parse_params) {
            Ok(p) => p,
            Err((reason, detail)) => {
                tally.reject(reason, line, &detail)?;
                continue;
            }
        };
        if params.contains_key("rt.quit") && !params.contains_key("rt.start") {
            tally.reject(Reason::UnloadBeacon, line, "unload beacon")?;
            continue;
        }
        if params.get("http.initiator").map(String::as_str) == Some("error") {
            tally.reject(
                Reason::ErrorBeacon,
                line,
                "error beacon (http.initiator=error)",
            )?;
            continue;
        }
        let seg = match beacon(&params, opts, &mut page_buf, &mut metrics) {
            Ok(s) => s,
            Err((reason, detail)) => {
                tally.reject(reason, line, &detail)?;
                continue;
            }
        };
        let time = match params.get("created_at").or_else(|| params.get("rt.tstart")) {
            Some(t) => match parse_time(t) {
                Some(t) => Some(t),
                None => {
                    tally.reject(
                        Reason::BadTimestamp,
                        line,
                        &format!("timestamp '{}'", t.chars().take(40).collect::<String>()),
                    )?;
                    continue;
                }
            },
            None => None,
        };
        views += 1;
        acc.add(&Record {
            page: &page_buf,
            segment: seg.key(&opts.segment_by),
            time,
            user: None,
            session: params.get("rt.si").and_then(|s| hash_id(s)),
            view: View::Whole(views),
            metrics: &metrics,
        });
        tally.source.rows_accepted += 1;
    }
    if tally.source.rows_read == 0 {
        tally.reject(Reason::EmptyFile, 1, "the file has no beacons")?;
    }
    Ok(())
}

/// Parses a line as a JSON object or a urlencoded query string.
fn parse_params(text: &str) -> Result<Params, (Reason, String)> {
    let t = text.trim();
    if t.starts_with('{') {
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(t)
            .map_err(|e| (Reason::Malformed, format!("not a JSON object: {e}")))?;
        return Ok(obj
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect());
    }
    let query = t.split_once('?').map_or(t, |(_, q)| q);
    if !query.contains('=') {
        return Err((
            Reason::Malformed,
            "neither a JSON object nor a query string".into(),
        ));
    }
    Ok(url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect())
}

/// Fills the page key and metrics of one beacon; returns its segment values.
fn beacon(
    p: &Params,
    opts: &ImportOptions,
    page_buf: &mut String,
    metrics: &mut Vec<(Metric, f64, &'static str)>,
) -> Result<SegmentValues, (Reason, String)> {
    let url = p
        .get("u")
        .or_else(|| p.get("pgu"))
        .map_or("", String::as_str);
    if !opts.page_key(url, page_buf) {
        return Err((Reason::MissingPage, "no 'u' (page URL) parameter".into()));
    }
    metrics.clear();
    let put = |metrics: &mut Vec<_>,
               m: Metric,
               key: &str,
               def: &'static str|
     -> Result<bool, (Reason, String)> {
        let Some(raw) = p.get(key) else {
            return Ok(false);
        };
        match parse_value(m, raw) {
            Ok(Some(v)) => {
                metrics.push((m, v, def));
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(r) => Err(super::csv::bad_value(r, m, raw)),
        }
    };
    put(metrics, Metric::Lcp, "pt.lcp", WEB_VITALS)?;
    put(metrics, Metric::Fcp, "pt.fcp", WEB_VITALS)?;
    put(metrics, Metric::Inp, "et.inp", WEB_VITALS)?;
    if !put(metrics, Metric::Fid, "et.fid", WEB_VITALS)? {
        put(metrics, Metric::Fid, "c.fid", WEB_VITALS)?;
    }
    put(metrics, Metric::Cls, "c.cls", BOOMERANG_CLS)?;
    let since_nav = |key: &str| -> Option<f64> {
        let start: f64 = p.get("nt_nav_st")?.parse().ok()?;
        let end: f64 = p.get(key)?.parse().ok()?;
        (end >= start && start > 0.0).then_some(end - start)
    };
    let derived = [
        (Metric::Ttfb, "nt_res_st", "t_resp", BOOMERANG_T_RESP),
        (Metric::Load, "nt_load_end", "t_done", BOOMERANG_T_DONE),
        (Metric::Dcl, "nt_domcontloaded_end", "", ""),
    ];
    for (m, nt, fallback, def) in derived {
        match since_nav(nt) {
            Some(v) => {
                let v = super::record::check_number(m, v)
                    .map_err(|r| super::csv::bad_value(r, m, &v.to_string()))?;
                metrics.push((m, v, WEB_VITALS));
            }
            None if !fallback.is_empty() => {
                put(metrics, m, fallback, def)?;
            }
            None => {}
        }
    }
    if metrics.is_empty() {
        return Err((
            Reason::NoMetrics,
            "the beacon has no timer Boomerang reports".into(),
        ));
    }
    if let Some((n, def)) = p.get("err").and_then(|e| err::count(e)) {
        let n = super::record::check_number(Metric::JsErrors, n)
            .map_err(|r| super::csv::bad_value(r, Metric::JsErrors, &n.to_string()))?;
        metrics.push((Metric::JsErrors, n, def));
    }
    let mut seg = SegmentValues {
        connection: p.get("mob.etype").and_then(|c| page::connection(c)),
        ..SegmentValues::default()
    };
    // Collectors often store the request headers next to the beacon.
    let headers: Option<HashMap<String, Vec<String>>> = p
        .get("request_headers")
        .and_then(|h| serde_json::from_str(h).ok());
    let header = |name: &str| {
        headers
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|v| v.first())
            .map(String::as_str)
    };
    if let Some(ua) = p
        .get("ua")
        .or_else(|| p.get("user_agent"))
        .map(String::as_str)
        .or_else(|| header("User-Agent"))
    {
        seg.from_ua(ua);
    }
    seg.country = header("Cf-Ipcountry").and_then(page::country);
    if seg.form_factor.is_none() {
        seg.form_factor = p.get("ua.plt").and_then(|plt| match plt.as_str() {
            "iPhone" => Some("phone"),
            "iPad" => Some("tablet"),
            "Win32" | "Win64" | "MacIntel" | "Linux x86_64" => Some("desktop"),
            _ => None,
        });
    }
    Ok(seg)
}
