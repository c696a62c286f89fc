//! web-vitals beacons as NDJSON: `{name, value, rating, delta, id,
//! navigationType, …context}` per line.
//!
//! web-vitals reports a metric again when it changes (CLS, INP, LCP), with
//! the same `id`; the last value wins. Beacons wait in a window of the most
//! recent [`DEDUP_WINDOW`] ids before they are counted, which bounds memory;
//! a repeat of an id older than that (far apart in the file) counts twice.
//!
//! `--map server.NAME=FIELD` reads FIELD (a key, or a dotted path into
//! nested objects such as `serverTiming.db`) from TTFB beacons only: the
//! backend time belongs to the navigation's response, as TTFB does, and one
//! beacon per page view counts it once.

use super::accum::Accumulator;
use super::error::{ImportError, Reason, Tally};
use super::lines::{field, json_value, line_text, next_record};
use super::options::{Field, ImportOptions};
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
    /// The beacon's metric, then any `--map server.*` values it carries.
    metrics: Vec<(Metric, f64, &'static str)>,
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
            metrics: &self.metrics,
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

/// Adds the `--map server.NAME=FIELD` values a TTFB beacon carries; a
/// field that is there but not a plausible number rejects the beacon, as a
/// bad `value` does.
fn server_fields(
    obj: &Map<String, Value>,
    opts: &ImportOptions,
    out: &mut Vec<(Metric, f64, &'static str)>,
) -> Result<(), (Reason, String)> {
    for (f, path) in &opts.map {
        let Field::Metric(m @ Metric::Server(_)) = *f else {
            continue;
        };
        // A key as it stands, else a dotted path into nested objects.
        let raw = obj.get(path.as_str()).or_else(|| {
            let mut parts = path.split('.');
            let first = obj.get(parts.next()?)?;
            parts.try_fold(first, |v, k| v.get(k))
        });
        let Some(raw) = raw else {
            continue;
        };
        let shown = || raw.to_string().chars().take(40).collect::<String>();
        match json_value(m, raw) {
            Ok(Some(v)) => out.push((m, v, WEB_VITALS)),
            Ok(None) => {}
            Err(r) => return Err((r, format!("field '{path}': {m} = {}", shown()))),
        }
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
    let mut metrics = vec![(metric, value, WEB_VITALS)];
    if metric == Metric::Ttfb {
        server_fields(&obj, opts, &mut metrics)?;
    }
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
            metrics,
        },
        id(&["id"]),
    ))
}

#[cfg(test)]
mod tests {
    use crate::baseline::{Format, ImportOptions, Importer};
    use crate::metric::Metric;

    fn import(
        lines: &str,
        map: &[&str],
        strict: bool,
    ) -> Result<crate::baseline::Baseline, String> {
        let mut opts = ImportOptions::new(Format::WebVitals);
        for m in map {
            let (f, c) = m.split_once('=').unwrap();
            opts.map.insert(f.parse().unwrap(), c.to_string());
        }
        opts.strict = strict;
        opts.segment_by.clear();
        let mut imp = Importer::new(opts);
        imp.read("beacons.ndjson", lines.as_bytes())
            .map_err(|e| e.to_string())?;
        imp.finish().map_err(|e| e.to_string())
    }

    #[test]
    fn ttfb_beacons_carry_mapped_server_fields_and_pair_them() {
        let mut lines = String::new();
        for i in 0..40 {
            let ttfb = 100 + 10 * i;
            lines += &format!(
                "{{\"name\":\"TTFB\",\"value\":{ttfb},\"id\":\"t{i}\",\"page\":\"/a\",\"serverTiming\":{{\"db\":{}}},\"app_ms\":\"{}\"}}\n",
                ttfb / 2,
                i % 7
            );
            // Other beacons of the view repeat the field: not counted again.
            lines += &format!(
                "{{\"name\":\"LCP\",\"value\":1500,\"id\":\"l{i}\",\"page\":\"/a\",\"serverTiming\":{{\"db\":{}}}}}\n",
                ttfb / 2
            );
        }
        let b = import(
            &lines,
            &["server.db=serverTiming.db", "server.app=app_ms"],
            true,
        )
        .unwrap();
        let (db, app) = (
            Metric::parse_lab("server.db").unwrap(),
            Metric::parse_lab("server.app").unwrap(),
        );
        let s = &b.segments[0];
        assert_eq!((s.metrics[&db].n, s.metrics[&app].n), (40, 40));
        assert_eq!(s.metrics[&Metric::Lcp].n, 40);
        let pairs = &s.ttfb_pairs[&db];
        assert_eq!(pairs.pairs.len(), 40);
        assert!(pairs.pairs.iter().all(|p| p.1 * 2.0 == p.0), "{pairs:?}");
        let e = import(
            "{\"name\":\"TTFB\",\"value\":100,\"page\":\"/a\",\"db\":\"slow\"}\n",
            &["server.db=db"],
            true,
        )
        .unwrap_err();
        assert!(
            e.starts_with("beacons.ndjson:1: non-numeric: field 'db': server.db = \"slow\""),
            "{e}"
        );
    }
}
