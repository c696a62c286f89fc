//! Unit tests for the CrUX importer's `round_trip_time` handling.
//!
//! The records below are hand-written, small and not real data. Their field
//! names (`record.key`, `metrics.round_trip_time`, `percentiles.p75`,
//! `histogram`, `percentilesTimeseries.p75s`, `collectionPeriods`) are the
//! CrUX API / CrUX History API documentation's (developer.chrome.com/docs/crux/api;
//! `round_trip_time` came with the February 2025 CrUX release, which also
//! dropped the effective-connection-type dimension). The values are made up.
//! The importer reads only the p75; the RTT histogram in `API_RECORD` is
//! there to show it is ignored rather than taken for a metric.

use super::{CruxOut, import};
use crate::baseline::error::Tally;
use crate::metric::Metric;

fn run(json: &str) -> (CruxOut, Tally) {
    let mut tally = Tally::new("test.json", "crux", false);
    let mut out = CruxOut::default();
    import(json.as_bytes(), &mut tally, &mut out).unwrap();
    (out, tally)
}

const API_RECORD: &str = r#"{
  "record": {
    "key": {"formFactor": "PHONE", "origin": "https://shop.example"},
    "metrics": {
      "largest_contentful_paint": {
        "histogram": [
          {"start": 0, "end": 2500, "density": 0.8},
          {"start": 2500, "end": 4000, "density": 0.15},
          {"start": 4000, "density": 0.05}
        ],
        "percentiles": {"p75": 2100}
      },
      "round_trip_time": {
        "histogram": [
          {"start": 0, "end": 75, "density": 0.4},
          {"start": 75, "end": 275, "density": 0.5},
          {"start": 275, "density": 0.1}
        ],
        "percentiles": {"p75": 187}
      }
    },
    "collectionPeriod": {
      "firstDate": {"year": 2025, "month": 1, "day": 5},
      "lastDate": {"year": 2025, "month": 2, "day": 1}
    }
  }
}"#;

#[test]
fn api_record_keeps_the_rtt_p75_in_the_context_not_as_a_metric() {
    let (out, tally) = run(API_RECORD);
    assert_eq!(tally.source.rows_accepted, 1);
    let s = &out.segments[0];
    assert_eq!(s.context.rtt_p75_ms, Some(187.0));
    assert_eq!(
        s.metrics.len(),
        1,
        "round_trip_time is no web-vitals metric"
    );
    assert_eq!(s.metrics[&Metric::Lcp].p75, Some(2100.0));
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["context"]["rtt_p75_ms"], 187.0);
}

#[test]
fn records_without_rtt_leave_it_absent() {
    let (out, _) = run(&API_RECORD.replace("round_trip_time", "some_future_metric"));
    assert_eq!(out.segments[0].context.rtt_p75_ms, None);
    let json = serde_json::to_value(&out.segments[0]).unwrap();
    assert!(json["context"].get("rtt_p75_ms").is_none(), "not written");
}

#[test]
fn history_record_uses_the_newest_finite_rtt_p75() {
    let (out, _) = run(r#"{
      "record": {
        "key": {"formFactor": "DESKTOP", "url": "https://shop.example/"},
        "metrics": {
          "first_contentful_paint": {
            "histogramTimeseries": [
              {"start": 0, "end": 1800, "densities": [0.9, 0.91, 0.92]},
              {"start": 1800, "end": 3000, "densities": [0.07, 0.06, 0.05]},
              {"start": 3000, "densities": [0.03, 0.03, 0.03]}
            ],
            "percentilesTimeseries": {"p75s": [1200, 1190, 1180]}
          },
          "round_trip_time": {
            "percentilesTimeseries": {"p75s": [101, 96, null]}
          }
        },
        "collectionPeriods": [
          {"firstDate": {"year": 2025, "month": 1, "day": 5}, "lastDate": {"year": 2025, "month": 2, "day": 1}},
          {"firstDate": {"year": 2025, "month": 1, "day": 12}, "lastDate": {"year": 2025, "month": 2, "day": 8}},
          {"firstDate": {"year": 2025, "month": 1, "day": 19}, "lastDate": {"year": 2025, "month": 2, "day": 15}}
        ]
      }
    }"#);
    let s = &out.segments[0];
    assert_eq!(s.metrics[&Metric::Fcp].p75, Some(1180.0));
    assert_eq!(
        s.context.rtt_p75_ms,
        Some(96.0),
        "the newest period has a null p75; the one before is used"
    );
}

fn error_of(json: &str) -> String {
    let mut tally = Tally::new("crux-phone.json", "crux", false);
    import(json.as_bytes(), &mut tally, &mut CruxOut::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_negative_cls_p75_is_rejected_naming_file_and_field() {
    let e = error_of(
        r#"{"record": {"key": {"origin": "https://shop.example"}, "metrics": {
        "cumulative_layout_shift": {"histogram": [{"start": "0.00", "end": "0.10", "density": 1}],
        "percentiles": {"p75": -3}}}}}"#,
    );
    assert!(e.starts_with("crux-phone.json: "), "{e}");
    assert!(
        e.contains("record.metrics.cumulative_layout_shift.percentiles.p75: -3"),
        "{e}"
    );
}

#[test]
fn a_non_numeric_lcp_density_is_rejected_naming_file_and_field() {
    let e = error_of(&API_RECORD.replace("\"density\": 0.8", "\"density\": \"abc\""));
    assert!(e.starts_with("crux-phone.json: "), "{e}");
    assert!(
        e.contains(
            "record.metrics.largest_contentful_paint.histogram[0].density: \"abc\" is not a number"
        ),
        "{e}"
    );
    let e = error_of(&API_RECORD.replace("\"density\": 0.8", "\"density\": 1.8"));
    assert!(e.contains("between 0 and 1"), "{e}");
}

#[test]
fn psi_and_history_values_are_checked_too() {
    let psi = r#"{"loadingExperience": {"id": "https://shop.example/", "metrics": {
        "LARGEST_CONTENTFUL_PAINT_MS": {"percentile": 2100, "distributions": [
          {"min": 0, "max": 2500, "proportion": "abc"}]}}}}"#;
    let e = error_of(psi);
    assert!(
        e.contains(
            "loadingExperience.metrics.LARGEST_CONTENTFUL_PAINT_MS.distributions[0].proportion"
        ),
        "{e}"
    );
    let history = r#"{"record": {"key": {"origin": "https://shop.example"},
      "collectionPeriods": [{}],
      "metrics": {"largest_contentful_paint": {
        "histogramTimeseries": [{"start": 0, "end": 2500, "densities": [0.8]}],
        "percentilesTimeseries": {"p75s": [-1]}}}}}"#;
    let e = error_of(history);
    assert!(
        e.contains("record.metrics.largest_contentful_paint.percentilesTimeseries.p75s[0]"),
        "{e}"
    );
}
