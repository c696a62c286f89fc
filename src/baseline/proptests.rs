//! Properties: no parser panics on any input, quantiles stay within the
//! sketch's 1 % relative error, merging split imports equals one import.

use super::options::{Format, ImportOptions, PageBy};
use super::{Importer, SegmentKey, merge, page, record};
use crate::metric::Metric;
use proptest::prelude::*;

fn try_import(format: Format, bytes: &[u8], strict: bool) {
    let mut o = ImportOptions::new(format);
    o.strict = strict;
    o.min_segment = 1;
    let mut imp = Importer::new(o);
    if imp.read("fuzz", bytes).is_ok() {
        let _ = imp.finish();
    }
}

const FORMATS: [Format; 6] = [
    Format::Csv,
    Format::WebVitals,
    Format::Boomerang,
    Format::Crux,
    Format::CruxHistory,
    Format::CruxBigQuery,
];

/// Inputs that look almost right, so the fuzzing reaches the value checks.
fn near_valid() -> impl Strategy<Value = String> {
    prop_oneof![
        "url,lcp,cls,timestamp\n(/[a-z0-9@?#]{0,12},[-0-9.eNaIinf]{0,8},[0-9.]{0,5},[0-9TZ:-]{0,20}\n){0,5}",
        "metric,value,view_id\n([A-Za-z]{2,4},[-0-9.e]{0,8},[a-z0-9]{0,3}\n){0,5}",
        r#"(\{"name":"(LCP|CLS|INP|X)","value":[-0-9.e]{1,8},"id":"[a-z0-9]{1,2}","page":"/[a-z?]{0,5}"\}\n){0,5}"#,
        "(u=%2F[a-z]{0,4}&rt.start=navigation&pt.lcp=[-0-9.]{0,6}&c.cls=[0-9.]{0,4}&rt.quit=\n){0,4}",
        r#"\{"record":\{"key":\{"formFactor":"PHONE"\},"metrics":\{"largest_contentful_paint":\{"histogram":\[\{"start":0,"end":2500,"density":[0-9."NaN]{1,5}\}\],"percentiles":\{"p75":[0-9."null]{1,5}\}\}\}\}\}"#,
        r#"\[?(\{"(Date|yyyymm|date)":"?[0-9-]{0,10}"?,"origin":"[a-z:/.]{0,8}","device":"(desktop|phone|tv)?","p75_(lcp|cls|fp)":[-0-9."NaN]{1,6},"(fast|small)_(lcp|cls)":[-0-9.e]{1,5},"(avg|medium)_(lcp|cls)":[0-9.null]{1,5},"(slow|large)_lcp":[0-9.]{1,5}\}[,\n]?){0,4}\]?"#,
        "(u=%2F[a-z]{0,3}&rt.start=navigation&pt.lcp=[0-9]{1,4}&(http.initiator=error&)?err=[~()'a-z*0-9!%]{0,24}\n){0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_importer_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400), strict in any::<bool>()) {
        for f in FORMATS {
            try_import(f, &bytes, strict);
        }
    }

    #[test]
    fn no_importer_panics_on_near_valid_text(text in near_valid(), strict in any::<bool>()) {
        for f in FORMATS {
            try_import(f, text.as_bytes(), strict);
        }
    }

    #[test]
    fn boomerang_err_decoding_never_panics(s in "[~()'*!%0-9a-fn.\\-\\[\\]{}\":,]{0,60}", t in "\\PC{0,40}") {
        for text in [&s, &t] {
            if let Some((n, _)) = super::boomerang::err::count(text) {
                prop_assert!(n >= 0.0 && n.is_finite());
            }
            let _ = super::boomerang::err::jsurl(text);
        }
    }

    #[test]
    fn string_helpers_never_panic(s in "\\PC{0,40}") {
        let _ = record::parse_time(&s);
        let _ = record::parse_value(Metric::Lcp, &s);
        let mut out = String::new();
        for by in [PageBy::Path, PageBy::Template, PageBy::None] {
            if page::page_key(&s, by, &mut out) {
                prop_assert!(out.starts_with('/') || out == "*");
                prop_assert!(!out.contains('?') && !out.contains('#'));
            }
        }
        let _ = page::form_factor_from_ua(&s);
        let _ = page::connection(&s);
    }

    /// DDSketch's guarantee: the estimate is within 1 % of the order
    /// statistic at rank floor(q (n − 1)) (numpy's `method="lower"`).
    #[test]
    fn quantiles_are_within_one_percent(mut values in proptest::collection::vec(1.0f64..60_000.0, 1..300)) {
        let pairs: Vec<(Metric, f64)> = values.iter().map(|v| (Metric::Lcp, *v)).collect();
        let b = super::from_values("/", &SegmentKey::default(), &pairs, 1);
        values.sort_by(f64::total_cmp);
        let m = &b.segments[0].metrics[&Metric::Lcp];
        for (q, got) in [(0.5, m.p50), (0.75, m.p75), (0.9, m.p90), (0.95, m.p95)] {
            let want = values[(q * (values.len() - 1) as f64) as usize];
            let got = got.unwrap();
            prop_assert!((got - want).abs() <= 0.01 * want + 1e-9, "q{q}: {got} vs {want}");
        }
        let s = m.shares.unwrap();
        prop_assert!((s.good + s.needs_improvement + s.poor - 1.0).abs() < 1e-9);
    }

    #[test]
    fn merging_a_split_equals_one_import(values in proptest::collection::vec(0.0f64..10_000.0, 2..200), cut in 0usize..200) {
        let cut = cut.min(values.len());
        let pairs: Vec<(Metric, f64)> = values.iter().map(|v| (Metric::Lcp, *v)).collect();
        let whole = super::from_values("/", &SegmentKey::default(), &pairs, 1);
        let a = super::from_values("/", &SegmentKey::default(), &pairs[..cut], 1);
        let b = super::from_values("/", &SegmentKey::default(), &pairs[cut..], 1);
        let m = merge(&[a, b], &[]).unwrap();
        let (x, y) = (&m.segments[0].metrics[&Metric::Lcp], &whole.segments[0].metrics[&Metric::Lcp]);
        prop_assert_eq!(x.n, y.n);
        prop_assert_eq!(x.p75, y.p75);
        prop_assert_eq!(x.p95, y.p95);
        let (xs, ys) = (x.shares.unwrap(), y.shares.unwrap());
        prop_assert!((xs.good - ys.good).abs() < 1e-12);
    }

    #[test]
    fn fast_trim_equals_str_trim(s in r"[ \t\x{a0}\x{3000}]{0,2}\PC{0,6}[ \t\x{a0}\x{2003}]{0,2}") {
        prop_assert_eq!(record::trim(&s), s.trim());
    }

    #[test]
    fn whole_number_fast_path_equals_the_float_parser(n in 0u64..1_000_000_000_000_000, pad in "[ ]{0,2}") {
        let text = format!("{pad}{n}{pad}");
        let fast = record::parse_value(Metric::Bytes, &text);
        let slow = check(Metric::Bytes, n.to_string().parse::<f64>().unwrap());
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn decimal_fast_path_equals_the_float_parser(int in "[0-9]{0,9}", frac in "[0-9]{0,9}", dot in any::<bool>()) {
        let text = if dot { format!("{int}.{frac}") } else { format!("{int}{frac}") };
        prop_assume!(!text.is_empty(), "an empty cell is an absent value");
        let slow = match text.parse::<f64>() {
            Ok(v) => check(Metric::Lcp, v),
            Err(_) => Err(super::error::Reason::NonNumeric),
        };
        prop_assert_eq!(record::parse_value(Metric::Lcp, &text), slow, "{}", text);
    }

    #[test]
    fn gzipped_input_imports_like_the_plain_input(text in near_valid(), f in 0usize..FORMATS.len()) {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let outcome = |bytes: &[u8]| {
            let mut imp = Importer::new(ImportOptions::new(FORMATS[f]));
            imp.read("in", bytes).map_err(|e| e.to_string())?;
            imp.finish()
                .map(|b| (b.segments.len(), b.provenance.sources[0].rows_accepted))
                .map_err(|e| e.to_string())
        };
        prop_assert_eq!(outcome(text.as_bytes()), outcome(&gz));
    }
}

fn check(m: Metric, v: f64) -> Result<Option<f64>, super::error::Reason> {
    record::check_number(m, v).map(Some)
}

/// An identifier planted in a URL path: the segment as written and the
/// strings that must not reach a baseline (the identifier, decoded too).
fn planted() -> impl Strategy<Value = (String, Vec<String>)> {
    let plain = |s: String| (s.clone(), vec![s]);
    prop_oneof![
        (any::<[u8; 4]>()).prop_map(move |o| plain(format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]))),
        (any::<u16>(), any::<u16>())
            .prop_map(move |(a, b)| plain(format!("2001:db8:{a:x}::{b:x}"))),
        ("[a-z]{3,8}[0-9]{0,3}", "[a-z]{4,8}", any::<bool>()).prop_map(|(local, host, encode)| {
            let address = format!("{local}@{host}.example");
            let written = if encode {
                address.replace('@', "%40")
            } else {
                address.clone()
            };
            (
                written.clone(),
                vec![written, address, format!("{host}.example")],
            )
        }),
        any::<u128>().prop_map(move |u| {
            let h = format!("{u:032x}");
            plain(format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            ))
        }),
        "[0-9a-f]{6,30}[0-9][a-f]".prop_map(plain),
        "[A-Za-z]{8,20}[0-9][A-Za-z0-9]{7,20}".prop_map(plain),
        "[A-Z0-9]{8,20}".prop_map(|sid| (format!("search;jsessionid={sid}"), vec![sid])),
        "(USERID[0-9]{4}[A-Z]|[a-z]{3,8}[0-9]{2,4}|[a-z]{3,6}\\.[a-z]{3,6}[0-9]{2,3})"
            .prop_map(plain),
    ]
}

/// A URL with `id` between ordinary path words, maybe an origin and a query.
fn url_with(id: String) -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "shop", "product", "user", "track", "p", "u", "settings", "v2", "mp3",
    ]);
    (
        prop::collection::vec(word.clone(), 0..3),
        prop::collection::vec(word, 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(before, after, origin, query)| {
            let mut u = if origin {
                "https://shop.example".to_string()
            } else {
                String::new()
            };
            for w in &before {
                u.push('/');
                u.push_str(w);
            }
            u.push('/');
            u.push_str(&id);
            for w in &after {
                u.push('/');
                u.push_str(w);
            }
            if query {
                u.push_str("?ref=1");
            }
            u
        })
}

fn planted_url() -> impl Strategy<Value = (String, Vec<String>)> {
    planted().prop_flat_map(|(id, needles)| url_with(id).prop_map(move |u| (u, needles.clone())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The hardening issue: no IP address, e-mail address, UUID, token,
    /// session id or user id in a URL reaches the baseline file or
    /// `baseline show`, in any import format that has URLs.
    #[test]
    fn planted_identifiers_never_reach_the_baseline_or_show((url, needles) in planted_url()) {
        let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
        let inputs = [
            (Format::Csv, format!("url,lcp\n{url},1200\n")),
            (Format::WebVitals, format!("{}\n", serde_json::json!({"name": "LCP", "value": 1200, "id": "v1", "page": url}))),
            (Format::Boomerang, format!("u={encoded}&rt.start=navigation&pt.lcp=1200\n")),
        ];
        for (format, text) in inputs {
            let mut o = ImportOptions::new(format);
            o.min_segment = 1;
            let mut imp = Importer::new(o);
            imp.read("planted", text.as_bytes()).unwrap();
            let b = imp.finish().unwrap();
            // Scenario pages are keyed by the same folding, so they still match.
            let scenario_page = crate::segment::template(&url);
            prop_assert!(b.segments.iter().any(|s| s.page == scenario_page), "{format}: {url} is not {scenario_page}");
            let out = serde_json::to_string(&b).unwrap() + &super::show(&b);
            for n in &needles {
                prop_assert!(!out.contains(n.as_str()), "{format}: {n} from {url} leaked");
            }
        }
    }
}

/// A `good` baseline whose LCP sketch store is replaced by arbitrary
/// bins, keys and offset (count and n kept consistent with the bins).
fn with_store(offset: i32, bins: Vec<u64>, from: i32, span: i32) -> Option<super::Baseline> {
    let values: Vec<(Metric, f64)> = (1..=5)
        .map(|i| (Metric::Lcp, 100.0 * f64::from(i)))
        .collect();
    let mut j =
        serde_json::to_value(super::from_values("/", &SegmentKey::default(), &values, 1)).ok()?;
    let count: u64 = bins.iter().sum();
    let store = j.pointer_mut("/segments/0/metrics/lcp/sketch/store")?;
    store["bins"] = serde_json::json!(bins);
    store["count"] = serde_json::json!(count);
    store["offset"] = serde_json::json!(offset);
    store["min_key"] = serde_json::json!(offset.saturating_add(from));
    store["max_key"] = serde_json::json!(offset.saturating_add(from).saturating_add(span));
    *j.pointer_mut("/segments/0/metrics/lcp/n")? = serde_json::json!(count);
    serde_json::from_value(j).ok()
}

fn any_store() -> impl Strategy<Value = Option<super::Baseline>> {
    let offset = prop_oneof![
        200..400i32,
        -(1 << 21)..(1 << 21),
        Just(i32::MIN),
        Just(i32::MAX - 10)
    ];
    (
        offset,
        proptest::collection::vec(0u64..4, 0..60),
        -3..70i32,
        -3..70i32,
    )
        .prop_map(|(o, bins, from, span)| with_store(o, bins, from, span))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `baseline merge` of hand-edited sketches: either a part is rejected
    /// by validation or the merge (and every quantile) works; never a
    /// panic inside the sketch crate.
    #[test]
    fn merging_arbitrary_sketch_stores_never_panics(a in any_store(), b in any_store()) {
        if let (Some(a), Some(b)) = (a, b) {
            let valid = super::validate(&a).is_ok() && super::validate(&b).is_ok();
            match super::merge_with(&[a, b], &[], true) {
                Ok(m) => {
                    prop_assert!(valid);
                    for s in &m.segments {
                        for mb in s.metrics.values() {
                            if let Some(sk) = &mb.sketch {
                                let _ = sk.quantile(0.75);
                            }
                        }
                    }
                }
                Err(e) => prop_assert!(!valid, "{e}"),
            }
        }
    }
}
