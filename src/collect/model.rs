//! What the collector hands back, turned into rumcheck's types.

use super::CollectError;
use crate::metric::Metric;
use crate::sample::Beacon;
use crate::segment::request_key;
use serde_json::Value;
use std::collections::BTreeMap;

/// The result of one page visit as the collector saw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Collected {
    /// Metric values; a metric that did not happen is absent.
    pub metrics: BTreeMap<Metric, f64>,
    /// Attribution: `lcp.element`, `cls.target`, `inp.{target, input_delay,
    /// processing, presentation}`, `js_errors` messages, `failed_requests`,
    /// and `finalized` (`hidden`, or `synthetic` when the page could not be
    /// hidden for real).
    pub details: Value,
    /// Beacons the user's RUM agent sent (answered in the page, never sent).
    pub beacons: Vec<Beacon>,
}

/// Parses the collector's `read()` answer. Unknown metric names and
/// non-finite values are dropped (never reported as 0).
pub fn parse_readback(url: &str, value: Value) -> Result<Collected, CollectError> {
    let bad = |reason: &str| CollectError::Readback {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let Value::Object(mut obj) = value else {
        return Err(bad("not an object"));
    };
    let mut metrics = BTreeMap::new();
    match obj.remove("metrics") {
        Some(Value::Object(m)) => {
            for (name, v) in m {
                if let (Ok(metric), Some(x)) = (Metric::parse_lab(&name), v.as_f64())
                    && x.is_finite()
                {
                    metrics.insert(metric, x);
                }
            }
        }
        _ => return Err(bad("no `metrics` object")),
    }
    let mut details = match obj.remove("details") {
        Some(v @ Value::Object(_)) => v,
        _ => Value::Object(Default::default()),
    };
    fold_request_urls(url, &mut details);
    let beacons = match obj.remove("beacons") {
        Some(v) => {
            serde_json::from_value::<Vec<Beacon>>(v).map_err(|e| bad(&format!("beacons: {e}")))?
        }
        None => Vec::new(),
    };
    Ok(Collected {
        metrics,
        details,
        beacons,
    })
}

/// Request URLs leave the browser with their identifiers folded
/// (`segment::request_key`): samples carry no ids, and two builds' request
/// lists line up by key.
fn fold_request_urls(page_url: &str, details: &mut Value) {
    let fold = |v: &mut Value| {
        if let Some(u) = v.as_str() {
            *v = Value::String(request_key(u, page_url));
        }
    };
    if let Some(list) = details.get_mut("requests").and_then(Value::as_array_mut) {
        list.iter_mut().for_each(|r| fold(&mut r["url"]));
    }
    if let Some(list) = details
        .get_mut("server_timing")
        .and_then(Value::as_array_mut)
    {
        list.iter_mut()
            .filter(|t| t.get("request").is_some_and(Value::is_string))
            .for_each(|t| fold(&mut t["request"]));
    }
    if let Some(u) = details.pointer_mut("/lcp/url") {
        fold(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_metrics_stay_absent_and_junk_is_dropped() {
        let c = parse_readback(
            "http://x/",
            json!({
                "metrics": {"lcp": 812.5, "cls": 0.0, "nonsense": 3, "fcp": null},
                "details": {"lcp": {"element": "#hero"}},
                "beacons": [{"transport": "sendBeacon", "url": "http://rum/", "body": "{}", "at_ms": 10.5}],
            }),
        )
        .unwrap();
        assert_eq!(c.metrics.len(), 2);
        assert_eq!(c.metrics[&Metric::Lcp], 812.5);
        assert_eq!(c.metrics[&Metric::Cls], 0.0);
        assert!(!c.metrics.contains_key(&Metric::Inp));
        assert_eq!(c.details["lcp"]["element"], "#hero");
        assert_eq!(c.beacons[0].transport, "sendBeacon");
    }

    #[test]
    fn request_urls_are_folded_and_foreign_origins_kept() {
        let c = parse_readback(
            "http://127.0.0.1:1/p/1",
            json!({
                "metrics": {},
                "details": {
                    "lcp": {"url": "http://127.0.0.1:1/img/alice14.png?x=1"},
                    "requests": [{"url": "http://127.0.0.1:1/u/alice@example.com/a.css"},
                                 {"url": "https://cdn.example/x.js"}],
                    "server_timing": [{"request": null, "name": "db"},
                                      {"request": "http://127.0.0.1:1/api/123", "name": "q"}],
                },
            }),
        )
        .unwrap();
        assert_eq!(c.details["lcp"]["url"], "/img/:id");
        assert_eq!(c.details["requests"][0]["url"], "/u/:id/a.css");
        assert_eq!(c.details["requests"][1]["url"], "https://cdn.example/x.js");
        assert_eq!(c.details["server_timing"][0]["request"], Value::Null);
        assert_eq!(c.details["server_timing"][1]["request"], "/api/:id");
    }

    #[test]
    fn a_non_object_is_an_error_naming_the_page() {
        let err = parse_readback("http://x/p", json!(null))
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://x/p"), "{err}");
    }
}
