//! web-vitals beacons as NDJSON: `{name, value, rating, delta, id,
//! navigationType, …context}` per line.
//!
//! web-vitals reports a metric again when it changes (CLS, INP, LCP), with
//! the same `id`; the last value wins. Beacons wait in a window of the most
//! recent [`DEDUP_WINDOW`] ids before they are counted, which bounds memory;
//! a repeat of an id older than that (far apart in the file) counts twice.

use super::accum::Accumulator;
use super::error::{ImportError, Reason, Tally};
use super::lines::{field, json_value, line_text, next_record};
use super::options::ImportOptions;
use super::page::{self, SegmentValues};
use super::record::{Record, View, WEB_VITALS, hash_id, parse_time, unknown_metric};
use crate::metric::Metric;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

/// Distinct beacon ids held back for de-duplication.
pub const DEDUP_WINDOW: usize = 65_536;

/// One beacon waiting for a possible later update of its value.
struct Pending {
    page: String,
    seg: SegmentValues,
    time: Option<i64>,
    user: Option<u64>,
    session: Option<u64>,
    view: Option<u64>,
    metric: (Metric, f64, &'static str),
}

impl Pending {
    fn add_to(&self, acc: &mut Accumulator, opts: &ImportOptions) {
        acc.add(&Record {
            page: &self.page,
            segment: self.seg.key(&opts.segment_by),
            time: self.time,
            user: self.user,
            session: self.session,
            view: self.view.map_or(View::Unknown, View::Part),
            metrics: std::slice::from_ref(&self.metric),
        });
    }
}

/// Imports one NDJSON file of web-vitals beacons into `acc`.
pub fn import(
    reader: impl BufRead,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut order: VecDeque<u64> = VecDeque::new();
    let mut line = 0u64;
    while next_record(&mut reader, &mut buf, opts.max_line_bytes, &mut line, tally)? {
        let beacon = match parse(&buf, opts) {
            Ok(b) => b,
            Err((reason, detail)) => {
                tally.reject(reason, line, &detail)?;
                continue;
            }
        };
        tally.source.rows_accepted += 1;
        let Some(id) = beacon.1 else {
            beacon.0.add_to(acc, opts);
            continue;
        };
        if let Some(slot) = pending.get_mut(&id) {
            *slot = beacon.0;
            continue;
        }
        pending.insert(id, beacon.0);
        order.push_back(id);
        if order.len() > DEDUP_WINDOW {
            if let Some(old) = order.pop_front().and_then(|o| pending.remove(&o)) {
                old.add_to(acc, opts);
            }
        }
    }
    for id in order {
        if let Some(p) = pending.remove(&id) {
            p.add_to(acc, opts);
        }
    }
    if tally.source.rows_read == 0 {
        tally.reject(Reason::EmptyFile, 1, "the file has no beacons")?;
    }
    Ok(())
}

/// Reads one beacon line; returns it with its hashed `id`, if any.
fn parse(buf: &[u8], opts: &ImportOptions) -> Result<(Pending, Option<u64>), (Reason, String)> {
    let text = line_text(buf)?;
    let obj: Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| (Reason::Malformed, format!("not a JSON object: {e}")))?;
    let name = field(&obj, &["name", "metric"])
        .ok_or((Reason::Malformed, "no 'name' field".to_string()))?;
    let metric: Metric = name.parse().map_err(|_| unknown_metric(&name))?;
    let raw = obj.get("value").unwrap_or(&Value::Null);
    let value = json_value(metric, raw)
        .map_err(|r| {
            (
                r,
                format!(
                    "{metric} value {}",
                    raw.to_string().chars().take(40).collect::<String>()
                ),
            )
        })?
        .ok_or((Reason::NoMetrics, "no 'value' field".to_string()))?;
    let url = field(
        &obj,
        &["page", "url", "href", "pathname", "path", "location"],
    );
    let mut page_key = String::new();
    match url {
        Some(u) => {
            if !opts.page_key(&u, &mut page_key) {
                return Err((Reason::MissingPage, "the page field is empty".into()));
            }
        }
        None => {
            page::page_key("*", super::options::PageBy::None, &mut page_key);
        }
    }
    let time = match field(&obj, &["timestamp", "ts", "time", "date"]) {
        Some(t) => Some(parse_time(&t).ok_or((
            Reason::BadTimestamp,
            format!("timestamp '{}'", t.chars().take(40).collect::<String>()),
        ))?),
        None => None,
    };
    let ect = match obj.get("connection") {
        Some(Value::Object(c)) => field(c, &["effectiveType", "ect"]),
        _ => field(
            &obj,
            &[
                "effectiveType",
                "effective_type",
                "ect",
                "connection",
                "connectionType",
            ],
        ),
    };
    let mut seg = SegmentValues {
        form_factor: field(&obj, &["formFactor", "form_factor", "deviceType", "device"])
            .and_then(|f| page::form_factor(&f)),
        connection: ect.and_then(|c| page::connection(&c)),
        country: field(&obj, &["country", "countryCode", "country_code"])
            .and_then(|c| page::country(&c)),
        browser: field(&obj, &["browser"]).and_then(|b| page::browser(&b)),
    };
    if let Some(ua) = field(&obj, &["userAgent", "user_agent", "ua"]) {
        seg.from_ua(&ua);
    }
    let id = |keys: &[&str]| field(&obj, keys).and_then(|s| hash_id(&s));
    Ok((
        Pending {
            page: page_key,
            seg,
            time,
            user: id(&["userId", "user_id", "uid", "visitorId"]),
            session: id(&["sessionId", "session_id", "sid"]),
            view: id(&[
                "pageViewId",
                "page_view_id",
                "viewId",
                "view_id",
                "navigationId",
            ]),
            metric: (metric, value, WEB_VITALS),
        },
        id(&["id"]),
    ))
}
