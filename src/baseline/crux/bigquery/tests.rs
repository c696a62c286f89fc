//! The real device_summary row in ../shared/field-data (truth: its
//! SOURCES.md, section `crux-bigquery-device_summary-row_…`), the same row
//! as a JSON array and as NDJSON, and bad rows.

use super::super::CruxOut;
use super::CRUX_BIGQUERY;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::model::{SegmentBaseline, Source};
use crate::baseline::record::format_time;
use crate::metric::Metric;
use serde_json::Value;

const ROW_FILE: &str =
    "crux-bigquery-device_summary-row_example.com_201911_desktop_AutoWebPerf-docs.json";

fn shared_row_text() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/field-data")
        .join(ROW_FILE);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn shared_row() -> Value {
    serde_json::from_str(&shared_row_text()).unwrap()
}

fn run(bytes: &[u8], strict: bool) -> Result<(CruxOut, Source), ImportError> {
    let mut tally = Tally::new("rows.json", "crux-bigquery", strict);
    let mut out = CruxOut::default();
    super::import(bytes, &mut tally, &mut out)?;
    Ok((out, tally.source))
}

/// The literal from SOURCES.md as the double it denotes.
fn lit(s: &str) -> f64 {
    s.parse().unwrap()
}

/// Every p75 and fraction the SOURCES.md table states for the row.
fn assert_is_the_shared_row(s: &SegmentBaseline) {
    assert_eq!(
        s.page, "https://example.com",
        "the origin, as CrUX origin records are keyed"
    );
    assert_eq!(s.segment.form_factor.as_deref(), Some("desktop"));
    assert_eq!(s.segment.connection, None);
    let table = [
        (
            Metric::Ttfb,
            700.0,
            [
                "0.5149856658848059",
                "0.4289809747198332",
                "0.05603335939536096",
            ],
        ),
        (
            Metric::Fcp,
            1300.0,
            [
                "0.785305105853051",
                "0.14919053549190536",
                "0.06550435865504359",
            ],
        ),
        (
            Metric::Lcp,
            1600.0,
            [
                "0.9038031319910513",
                "0.06062639821029082",
                "0.03557046979865772",
            ],
        ),
        (
            Metric::Fid,
            0.0,
            [
                "0.9914021164021164",
                "0.006393298059964726",
                "0.002204585537918871",
            ],
        ),
        (
            Metric::Dcl,
            1600.0,
            [
                "0.6841195356878241",
                "0.27265991602864903",
                "0.0432205482835268",
            ],
        ),
        (
            Metric::Load,
            2600.0,
            [
                "0.7125312713213555",
                "0.2572208323857176",
                "0.030247896292926995",
            ],
        ),
        (
            Metric::Cls,
            lit("0.05"),
            [
                "0.7818437719915552",
                "0.15435139573070605",
                "0.06380483227773867",
            ],
        ),
    ];
    for (m, p75, fr) in table {
        let mb = &s.metrics[&m];
        assert!(mb.binned_only && mb.n == 0 && mb.sketch.is_none(), "{m}");
        assert_eq!(mb.definition, CRUX_BIGQUERY, "{m}");
        assert_eq!(mb.p75, Some(p75), "{m}: p75 copied exactly");
        assert!(
            mb.histogram.is_empty(),
            "{m}: the table states no bin bounds"
        );
        if m == Metric::Ttfb {
            // 51 % "fast" yet p75 700 ms: "fast" was not "< 800 ms" in 2019.
            assert!(
                mb.shares.is_none(),
                "ttfb shares were cut at other thresholds"
            );
            continue;
        }
        let sh = mb.shares.unwrap_or_else(|| panic!("{m}: shares"));
        assert_eq!(
            [sh.good, sh.needs_improvement, sh.poor],
            fr.map(lit),
            "{m}: fractions copied bit for bit"
        );
    }
    assert_eq!(
        s.metrics.len(),
        7,
        "no fp (no rumcheck metric), no inp (not in the row)"
    );
}

#[test]
fn shared_device_summary_row_reproduces_every_p75_and_fraction() {
    let (out, src) = run(shared_row_text().as_bytes(), false).unwrap();
    assert_eq!((src.rows_read, src.rows_accepted), (1, 1));
    assert_eq!(out.segments.len(), 1);
    assert_is_the_shared_row(&out.segments[0]);
    let only: Vec<&String> = src.rejected.keys().collect();
    assert_eq!(only, ["other-thresholds"], "fp counts as nothing");
    assert_eq!(src.rejected["other-thresholds"].first_lines, vec![1]);
    let (a, b) = out.time_range.unwrap();
    assert_eq!(
        (format_time(a), format_time(b)),
        (
            "2019-11-01T00:00:00Z".to_string(),
            "2019-11-30T00:00:00Z".to_string()
        ),
        "Date 201911 is November 2019"
    );
    // Not bad input: --strict imports the row too.
    assert!(run(shared_row_text().as_bytes(), true).is_ok());
}

#[test]
fn json_array_and_ndjson_give_the_same_segments() {
    let row = shared_row();
    let mut phone = row.clone();
    phone["Device"] = "phone".into();
    phone["Origin"] = "https://example.org".into();
    let array =
        serde_json::to_string_pretty(&Value::Array(vec![row.clone(), phone.clone()])).unwrap();
    let ndjson = format!("{}\n\n{}\n", row, phone);
    for (what, text, lines) in [("array", array, [1, 2]), ("ndjson", ndjson, [1, 3])] {
        let (out, src) = run(text.as_bytes(), false).unwrap();
        assert_eq!((src.rows_read, src.rows_accepted), (2, 2), "{what}");
        assert_is_the_shared_row(&out.segments[0]);
        let p = &out.segments[1];
        assert_eq!(
            (p.page.as_str(), p.segment.form_factor.as_deref()),
            ("https://example.org", Some("phone"))
        );
        assert_eq!(p.metrics[&Metric::Lcp].p75, Some(1600.0), "{what}");
        assert_eq!(
            src.rejected["other-thresholds"].first_lines, lines,
            "{what}: row numbers"
        );
    }
}

#[test]
fn bq_cli_strings_lower_case_columns_and_inp_are_read() {
    // `bq query --format=json` prints every value as a string; the table's
    // own columns are lower case, `date` a DATE.
    let line = r#"{"date":"2023-10-01","origin":"https://shop.example","device":"tablet","p75_inp":"300","fast_inp":"0.6","avg_inp":"0.3","slow_inp":"0.1","p75_lcp_origin":"99999","p75_rtt":"150"}"#;
    let (out, src) = run(line.as_bytes(), true).unwrap();
    assert_eq!(src.rows_accepted, 1);
    let s = &out.segments[0];
    assert_eq!(s.segment.form_factor.as_deref(), Some("tablet"));
    let inp = &s.metrics[&Metric::Inp];
    assert_eq!(inp.p75, Some(300.0));
    assert_eq!(
        inp.shares.unwrap().good,
        0.6,
        "60 % < 200 ms agrees with p75 300"
    );
    assert!(
        !s.metrics.contains_key(&Metric::Lcp),
        "p75_lcp_origin is not p75_lcp"
    );
    let (a, b) = out.time_range.unwrap();
    assert_eq!(
        (format_time(a).as_str(), format_time(b).as_str()),
        ("2023-10-01T00:00:00Z", "2023-10-31T00:00:00Z")
    );
}

#[test]
fn the_newest_month_of_a_segment_wins() {
    let mut old = shared_row();
    let mut new = shared_row();
    new["Date"] = 202001.into();
    new["p75_lcp"] = 1700.into();
    old["Date"] = 201912.into();
    let text = format!("{}\n{}\n{}\n", old, new, shared_row());
    let (out, src) = run(text.as_bytes(), false).unwrap();
    assert_eq!(out.segments.len(), 1);
    assert_eq!(out.segments[0].metrics[&Metric::Lcp].p75, Some(1700.0));
    assert_eq!(src.rejected["superseded"].first_lines, vec![1, 3]);
    assert_eq!(src.rows_accepted, 1);
    let (a, _) = out.time_range.unwrap();
    assert!(
        format_time(a).starts_with("2020-01-01"),
        "only the kept month counts"
    );
}

#[test]
fn bad_rows_are_counted_by_reason_with_line_numbers() {
    let good = shared_row();
    let with = |k: &str, v: Value| {
        let mut r = good.clone();
        r[k] = v;
        r.to_string()
    };
    let mut no_metrics = serde_json::Map::new();
    no_metrics.insert("origin".into(), "https://x.example".into());
    no_metrics.insert("p75_fp".into(), 1000.into());
    let mut partial = good.clone();
    partial.as_object_mut().unwrap().remove("avg_lcp");
    let lines = [
        good.to_string(),                      // 1
        "this is not json".to_string(),        // 2
        with("slow_lcp", 0.5.into()),          // 3: sums to 1.46
        with("p75_fcp", (-5).into()),          // 4
        with("fast_cls", Value::Null),         // 5: null column, fine
        with("p75_lcp", "abc".into()),         // 6
        with("Date", "2019-13-01".into()),     // 7
        Value::Object(no_metrics).to_string(), // 8
        with("Origin", "".into()),             // 9
        partial.to_string(),                   // 10
        with("Device", "tv".into()),           // 11
        with("p75_lcp", "NaN".into()),         // 12
        "[1, 2]".to_string(),                  // 13
    ];
    let (out, src) = run(lines.join("\n").as_bytes(), false).unwrap();
    let r = |k: &str| src.rejected[k].first_lines.clone();
    assert_eq!(r("malformed"), vec![2, 11, 13]);
    assert_eq!(r("bad-fractions"), vec![3, 10]);
    assert_eq!(r("negative"), vec![4]);
    assert_eq!(r("non-numeric"), vec![6]);
    assert_eq!(r("bad-timestamp"), vec![7]);
    assert_eq!(r("no-metrics"), vec![8]);
    assert_eq!(r("missing-page"), vec![9]);
    assert_eq!(r("not-finite"), vec![12]);
    assert_eq!(
        r("superseded"),
        vec![1],
        "line 5 is the same origin and month"
    );
    assert_eq!(src.rows_read, 13);
    assert_eq!(out.segments.len(), 1);
    assert_eq!(src.rows_accepted, 1);

    let e = run(with("slow_lcp", 0.5.into()).as_bytes(), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rows.json:1: bad-fractions") && e.contains("fast_lcp + avg_lcp + slow_lcp"),
        "{e}"
    );
    let e = run(b"{\"origin\": \"https://a\",\n \"p75_lcp\": -1}\n", true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rows.json:1: negative") && e.contains("p75_lcp"),
        "{e}"
    );
}

#[test]
fn empty_truncated_and_non_utf8_files_are_rejected_not_panicking() {
    let (_, src) = run(b"  \n\n", false).unwrap();
    assert_eq!(src.rejected["empty-file"].count, 1);
    let (_, src) = run(b"[]", false).unwrap();
    assert_eq!(src.rejected["empty-file"].count, 1);
    let (_, src) = run(b"\n{\"origin\": \"https://a\",\n", false).unwrap();
    assert_eq!(
        src.rejected["malformed"].first_lines,
        vec![2],
        "truncated row starts on line 2"
    );
    let (_, src) = run(b"[{\"origin\": 1}", false).unwrap();
    assert_eq!(src.rejected["malformed"].count, 1);
    let (_, src) = run(b"{\"origin\": \"\xff\"}\n", false).unwrap();
    assert_eq!(src.rejected["non-utf8"].first_lines, vec![1]);
}

#[test]
fn nesting_waits_for_the_closing_bracket_outside_strings() {
    // A pretty-printed value is parsed once its brackets close; brackets
    // and escaped quotes inside strings do not count.
    let mut n = super::Nesting::default();
    n.feed(r#"{ "origin": "https://x.example/{a}\"[", "#);
    assert!(n.open());
    n.feed(r#"  "rows": [1, 2] "#);
    assert!(n.open());
    n.feed("}");
    assert!(!n.open());
}
