//! Baseline importers against the fixtures in tests/fixtures/baseline
//! (reference values printed by tests/fixtures/baseline/gen.py) and real
//! Boomerang beacons; CrUX records are in `baseline_crux`.

use rumcheck::Metric;
use rumcheck::baseline::{Baseline, Format, ImportOptions, SegmentBaseline, import_files};
use rumcheck::segment::SegmentKey;
use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/baseline")
        .join(name)
}

pub fn field_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/field-data")
        .join(name)
}

pub fn opts(format: Format) -> ImportOptions {
    ImportOptions::new(format)
}

pub fn seg(ff: Option<&str>, conn: Option<&str>) -> SegmentKey {
    SegmentKey {
        form_factor: ff.map(String::from),
        connection: conn.map(String::from),
        ..SegmentKey::default()
    }
}

pub fn entry<'a>(b: &'a Baseline, page: &str, key: &SegmentKey) -> &'a SegmentBaseline {
    b.segments
        .iter()
        .find(|s| s.page == page && &s.segment == key)
        .unwrap_or_else(|| {
            panic!(
                "no segment {page} {key:?} in {:#?}",
                b.segments
                    .iter()
                    .map(|s| (&s.page, &s.segment))
                    .collect::<Vec<_>>()
            )
        })
}

/// Within DDSketch's 1 % relative error of a reference order statistic.
fn within_1pct(got: Option<f64>, want: f64) {
    let got = got.expect("quantile present");
    assert!(
        (got - want).abs() <= 0.01 * want + 1e-9,
        "got {got}, want {want} ± 1 %"
    );
}

#[test]
fn boomerang_real_beacons_skip_unload_and_mark_cls_as_a_sum() {
    let b = import_files(
        &[field_data(
            "beacons/boomerang-beacons_11-lines_basicrum-front_basicrum_go_it-data-ab.json.lines",
        )],
        &opts(Format::Boomerang),
    )
    .unwrap();
    let src = &b.provenance.sources[0];
    assert_eq!((src.rows_read, src.rows_accepted), (11, 6));
    assert_eq!(
        src.rejected["unload-beacon"].first_lines,
        vec![2, 4, 6, 8, 11]
    );
    let home = entry(&b, "/", &SegmentKey::default());
    assert_eq!(home.context.page_views, 2);
    let cls = &home.metrics[&Metric::Cls];
    assert_eq!(cls.definition, "boomerang-cls-sum");
    within_1pct(cls.p75, 0.09678397256389808);
    within_1pct(home.metrics[&Metric::Lcp].p50, 2233.0);
    // Line 9 has et.fid 42, line 1 c.fid 1.
    within_1pct(home.metrics[&Metric::Fid].p90, 1.0);
    // Both sessions land on / and go on to other pages.
    assert_eq!(home.context.landing_sessions, Some(2));
    assert_eq!(home.context.bounce_rate, Some(0.0));
    let all = entry(&b, "/", &seg(Some("desktop"), None));
    assert_eq!(all.context.page_views, 2);

    // The form-encoded beacon: t_resp = nt_res_st − nt_nav_st = 296 (SOURCES.md).
    let form = import_files(
        &[field_data(
            "beacons/boomerang-beacon_basicrum.com_2024-02_clickhouse-02984_form_format.txt",
        )],
        &opts(Format::Boomerang),
    )
    .unwrap();
    let p = entry(&form, "/publications", &SegmentKey::default());
    within_1pct(p.metrics[&Metric::Ttfb].p50, 296.0);
    within_1pct(p.metrics[&Metric::Load].p50, 412.0);
    within_1pct(p.metrics[&Metric::Fcp].p50, 407.0);
}

#[test]
fn boomerang_fixture_folds_templates_and_counts_bad_lines() {
    let b = import_files(&[fixture("boomerang.txt")], &opts(Format::Boomerang)).unwrap();
    let src = &b.provenance.sources[0];
    assert_eq!(src.rejected["unload-beacon"].first_lines, vec![3]);
    assert_eq!(src.rejected["malformed"].first_lines, vec![5]);
    assert_eq!(src.rejected["not-finite"].first_lines, vec![6]);
    let product = entry(&b, "/product/:id", &seg(Some("phone"), None));
    assert_eq!(
        product.context.page_views, 2,
        "/product/123 and /product/456 are one page"
    );
    assert_eq!(product.metrics[&Metric::Lcp].shares.unwrap().good, 0.5);
    assert_eq!(product.context.bounce_rate, Some(0.0));
    let home = entry(&b, "/", &seg(Some("desktop"), None));
    assert_eq!(home.context.bounce_rate, Some(1.0));
    assert_eq!(home.context.bounce_rate_by_lcp["poor"], 1.0);
}

/// Reference values: `python3 tests/fixtures/baseline/gen.py`, which computes
/// `np.percentile(lcp, q, method="lower")` (the order statistic DDSketch
/// estimates), shares as means of the web-vitals comparisons, Apdex as
/// `(sum(lcp <= 2500) + sum((lcp > 2500) & (lcp <= 10000)) / 2) / n`.
fn check_wide_reference(b: &Baseline) {
    let p = entry(b, "/product/:id", &SegmentKey::default());
    let lcp = &p.metrics[&Metric::Lcp];
    assert_eq!(lcp.n, 25);
    within_1pct(lcp.p50, 2167.0);
    within_1pct(lcp.p75, 2668.0);
    within_1pct(lcp.p90, 3552.0);
    let s = lcp.shares.unwrap();
    assert!(
        (s.good - 0.64).abs() < 1e-12
            && (s.needs_improvement - 0.32).abs() < 1e-12
            && (s.poor - 0.04).abs() < 1e-12
    );
    assert_eq!(p.context.page_views, 25);
    assert_eq!(p.context.sessions, Some(25));
    assert_eq!(p.context.landing_sessions, Some(13));
    assert!((p.context.bounce_rate.unwrap() - 0.46153846153846156).abs() < 1e-12);
    let phone = entry(b, "/product/:id", &seg(Some("phone"), None));
    within_1pct(phone.metrics[&Metric::Lcp].p75, 3470.0);
    let cart = entry(b, "/cart", &seg(Some("phone"), None));
    within_1pct(cart.metrics[&Metric::Lcp].p90, 3712.0);
    assert_eq!(
        cart.metrics[&Metric::Lcp].shares.unwrap().needs_improvement,
        0.6
    );
    assert!(
        (entry(b, "/cart", &SegmentKey::default())
            .context
            .bounce_rate
            .unwrap()
            - 0.5384615384615384)
            .abs()
            < 1e-12
    );
}

#[test]
fn wide_csv_matches_reference_values_and_context() {
    let mut o = opts(Format::Csv);
    o.apdex_t.insert(Metric::Lcp, 2500.0);
    let b = import_files(&[fixture("wide.csv")], &o).unwrap();
    check_wide_reference(&b);
    let p = entry(&b, "/product/:id", &SegmentKey::default());
    assert_eq!(p.context.active_users, Some(22));
    assert!((p.context.apdex[&Metric::Lcp].score - 0.82).abs() < 1e-12);
    assert!((p.context.js_error_rate.unwrap() - 0.12).abs() < 1e-12);
    assert!(p.too_small, "25 < --min-segment 30");
    let home = entry(&b, "/", &SegmentKey::default());
    assert!((home.context.js_error_rate.unwrap() - 0.13043478260869565).abs() < 1e-12);
    assert!((home.context.bounce_rate.unwrap() - 0.5).abs() < 1e-12);
    assert!(!home.context.users_per_day.is_empty());
    let (a, z) = b.provenance.time_range.clone().unwrap();
    assert_eq!(a, "2024-10-27T03:33:20Z");
    assert!(z.starts_with("2024-11-0"), "{z}");
    o.min_segment = 10;
    let b = import_files(&[fixture("wide.csv")], &o).unwrap();
    assert!(!entry(&b, "/product/:id", &SegmentKey::default()).too_small);
}

#[test]
fn long_csv_with_user_agents_gives_the_same_distributions() {
    let b = import_files(&[fixture("long.csv")], &opts(Format::Csv)).unwrap();
    check_wide_reference(&b);
    let p = entry(&b, "/product/:id", &SegmentKey::default());
    assert_eq!(p.context.active_users, Some(22));
}

#[test]
fn connection_segments_and_page_by_none() {
    let mut o = opts(Format::Csv);
    o.segment_by = vec![
        rumcheck::baseline::SegmentDim::FormFactor,
        rumcheck::baseline::SegmentDim::Connection,
    ];
    o.page_by = rumcheck::baseline::PageBy::None;
    let b = import_files(&[fixture("wide.csv")], &o).unwrap();
    assert!(b.segments.iter().all(|s| s.page == "*"));
    let all = entry(&b, "*", &SegmentKey::default());
    assert_eq!(all.metrics[&Metric::Lcp].n, 71);
    let ph4 = entry(&b, "*", &seg(Some("phone"), Some("4g")));
    let ph3 = entry(&b, "*", &seg(Some("phone"), Some("3g")));
    let ph = entry(&b, "*", &seg(Some("phone"), None));
    assert_eq!(
        ph4.metrics[&Metric::Lcp].n + ph3.metrics[&Metric::Lcp].n,
        ph.metrics[&Metric::Lcp].n
    );
    // find() falls back from an unknown browser to the phone · 4g segment.
    let want = SegmentKey {
        browser: Some("firefox".into()),
        ..seg(Some("phone"), Some("4g"))
    };
    assert_eq!(
        b.find("/any", &want).unwrap().segment,
        seg(Some("phone"), Some("4g"))
    );
}

#[test]
fn web_vitals_duplicates_keep_the_last_value() {
    let b = import_files(&[fixture("webvitals.ndjson")], &opts(Format::WebVitals)).unwrap();
    let all: u64 = b
        .segments
        .iter()
        .filter(|s| s.segment == SegmentKey::default())
        .map(|s| s.metrics[&Metric::Lcp].n)
        .sum();
    assert_eq!(all, 30, "60 LCP beacons, 30 ids");
    let src = &b.provenance.sources[0];
    assert_eq!((src.rows_read, src.rows_accepted), (120, 120));
    // Merge all pages: p75 of the final LCP values, np.percentile(lcp, 75, method="lower") = 2877 (gen.py).
    let mut o = opts(Format::WebVitals);
    o.page_by = rumcheck::baseline::PageBy::None;
    let b = import_files(&[fixture("webvitals.ndjson")], &o).unwrap();
    let s = entry(&b, "*", &SegmentKey::default());
    within_1pct(s.metrics[&Metric::Lcp].p75, 2877.0);
    assert_eq!(
        s.metrics[&Metric::Lcp].sketch.as_ref().unwrap().0.max(),
        Some(6091.0)
    );
    assert_eq!(s.context.page_views, 30, "distinct pageViewId");
}

#[test]
fn every_bad_input_reason_is_counted_with_its_line() {
    let mut o = opts(Format::Csv);
    o.min_segment = 1;
    let b = import_files(&[fixture("bad.csv")], &o).unwrap();
    let src = &b.provenance.sources[0];
    assert_eq!((src.rows_read, src.rows_accepted), (12, 2));
    let lines = |r: &str| {
        src.rejected
            .get(r)
            .map(|x| x.first_lines.clone())
            .unwrap_or_default()
    };
    assert_eq!(lines("malformed"), vec![3]);
    assert_eq!(lines("non-numeric"), vec![4]);
    assert_eq!(lines("negative"), vec![5]);
    assert_eq!(lines("not-finite"), vec![6, 7]);
    assert_eq!(lines("absurd"), vec![8]);
    assert_eq!(lines("non-utf8"), vec![9]);
    assert_eq!(lines("bad-timestamp"), vec![10]);
    assert_eq!(lines("missing-page"), vec![11]);
    assert_eq!(lines("no-metrics"), vec![12]);
    let e = import_files(&[fixture("empty.csv")], &o).unwrap_err();
    assert!(e.to_string().contains("empty-file"), "{e}");
    o.strict = true;
    let e = import_files(&[fixture("bad.csv")], &o)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.csv:3: malformed"), "{e}");
}

#[test]
fn unknown_map_column_names_the_flag_and_the_columns() {
    let o = ImportOptions::from_flags(
        "csv",
        &["lcp=LCP_MILLIS".into()],
        &[],
        "template",
        &[],
        30,
        false,
    )
    .unwrap();
    let e = import_files(&[fixture("wide.csv")], &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--map lcp=LCP_MILLIS") && e.contains("largest_contentful_paint_ms"),
        "{e}"
    );
    let o = ImportOptions::from_flags(
        "csv",
        &["lcp=cumulative_layout_shift".into()],
        &[],
        "template",
        &[],
        30,
        false,
    )
    .unwrap();
    let b = import_files(&[fixture("wide.csv")], &o).unwrap();
    let home = entry(&b, "/", &SegmentKey::default());
    assert!(
        home.metrics[&Metric::Lcp].p95.unwrap() < 1.0,
        "lcp read from the mapped CLS column"
    );
}

#[test]
fn identifiers_never_reach_the_baseline() {
    for page_by in ["path", "template"] {
        let o = ImportOptions::from_flags(
            "csv",
            &[],
            &["form_factor".into(), "country".into()],
            page_by,
            &[],
            30,
            false,
        )
        .unwrap();
        let b = import_files(&[fixture("privacy.csv")], &o).unwrap();
        let json = serde_json::to_string(&b).unwrap();
        for needle in [
            "SECRET",
            "203.0.113",
            "@",
            "mail.example",
            "token",
            "frag",
            "ref.example",
            "?",
            "#",
        ] {
            assert!(
                !json.contains(needle),
                "{needle} leaked with --page-by {page_by}"
            );
        }
        let all: u64 = b
            .segments
            .iter()
            .filter(|s| s.segment == SegmentKey::default())
            .map(|s| s.context.active_users.unwrap())
            .sum();
        assert_eq!(all, 40, "ids were still counted");
    }
}

#[test]
fn merge_equals_import_of_the_concatenation() {
    let o = opts(Format::Csv);
    let whole = import_files(&[fixture("wide.csv")], &o).unwrap();
    let a = import_files(&[fixture("wide-a.csv")], &o).unwrap();
    let b = import_files(&[fixture("wide-b.csv")], &o).unwrap();
    let merged = rumcheck::baseline::merge(&[a, b], &[]).unwrap();
    assert_eq!(merged.segments.len(), whole.segments.len());
    for w in &whole.segments {
        let m = entry(&merged, &w.page, &w.segment);
        assert_eq!(m.too_small, w.too_small);
        assert_eq!(m.context.page_views, w.context.page_views);
        assert_eq!(
            m.context.sessions, w.context.sessions,
            "split at a session boundary"
        );
        assert_eq!(m.context.landing_sessions, w.context.landing_sessions);
        let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 + 0.01 * y.abs(),
            (x, y) => x == y,
        };
        assert!(close(m.context.bounce_rate, w.context.bounce_rate));
        for (metric, wm) in &w.metrics {
            let mm = &m.metrics[metric];
            assert_eq!(mm.n, wm.n);
            for (x, y) in [
                (mm.p50, wm.p50),
                (mm.p75, wm.p75),
                (mm.p90, wm.p90),
                (mm.p95, wm.p95),
            ] {
                assert!(close(x, y), "{} {metric}: {x:?} vs {y:?}", w.page);
            }
            if let (Some(x), Some(y)) = (mm.shares, wm.shares) {
                assert!((x.good - y.good).abs() < 1e-12 && (x.poor - y.poor).abs() < 1e-12);
            }
        }
    }
    assert_eq!(merged.provenance.sources.len(), 2);
    assert_eq!(
        merged
            .provenance
            .sources
            .iter()
            .map(|s| s.rows_read)
            .sum::<u64>(),
        71
    );
    assert_eq!(merged.provenance.time_range, whole.provenance.time_range);
}

#[test]
fn baseline_round_trips_through_json() {
    let b = import_files(&[fixture("wide.csv")], &opts(Format::Csv)).unwrap();
    let text = serde_json::to_string(&b).unwrap();
    let back: Baseline = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    let s = entry(&back, "/", &SegmentKey::default());
    let sk = s.metrics[&Metric::Lcp].sketch.as_ref().unwrap();
    assert_eq!(sk.quantile(0.75), s.metrics[&Metric::Lcp].p75);
}
