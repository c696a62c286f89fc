//! Baseline importers against real public field data (../shared/field-data,
//! truth in its SOURCES.md) and the fixtures in tests/fixtures/baseline
//! (reference values printed by tests/fixtures/baseline/gen.py).

use rumcheck::Metric;
use rumcheck::baseline::{
    Baseline, Format, ImportError, ImportOptions, MetricBaseline, SegmentBaseline, SegmentKey,
    import_files,
};
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

fn opts(format: Format) -> ImportOptions {
    ImportOptions::new(format)
}

fn seg(ff: Option<&str>, conn: Option<&str>) -> SegmentKey {
    SegmentKey {
        form_factor: ff.map(String::from),
        connection: conn.map(String::from),
        ..SegmentKey::default()
    }
}

fn entry<'a>(b: &'a Baseline, page: &str, key: &SegmentKey) -> &'a SegmentBaseline {
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

/// The double a number printed in a source file denotes.
fn text_f64(s: &str) -> f64 {
    s.parse().unwrap()
}

fn assert_crux(m: &MetricBaseline, p75: f64, densities: [f64; 3]) {
    assert!(m.binned_only && m.n == 0 && m.sketch.is_none());
    assert_eq!(m.p75, Some(p75));
    let got: Vec<f64> = m.histogram.iter().map(|b| b.density).collect();
    assert_eq!(
        got,
        densities.to_vec(),
        "densities must be copied bit for bit"
    );
    let s = m.shares.expect("web-vitals bins give shares");
    assert_eq!([s.good, s.needs_improvement, s.poor], densities);
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
fn crux_api_origin_record_reproduces_p75_and_densities_exactly() {
    let b = import_files(
        &[field_data(
            "crux-api-queryRecord_github.com-origin_PHONE_treosh-readme.json",
        )],
        &opts(Format::Crux),
    )
    .unwrap();
    let s = entry(&b, "https://github.com", &seg(Some("phone"), None));
    // Values copied from SOURCES.md (CLS p75 is the string "0.02" in the file).
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.02,
        [0.8527302813017104, 0.09817981246552682, 0.04908990623276335],
    );
    assert_crux(
        &s.metrics[&Metric::Ttfb],
        1039.0,
        [0.6018518518518505, 0.3312757201646084, 0.0668724279835391],
    );
    assert_crux(
        &s.metrics[&Metric::Fcp],
        1934.0,
        [0.7165570175438571, 0.1781798245614029, 0.10526315789473623],
    );
    assert_crux(
        &s.metrics[&Metric::Fid],
        17.0,
        [
            0.9498680738786286,
            0.03430079155672826,
            0.015831134564643756,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Inp],
        272.0,
        [0.6478405315614636, 0.24584717607973486, 0.10631229235880371],
    );
    assert_crux(
        &s.metrics[&Metric::Lcp],
        2312.0,
        [0.7900432900432863, 0.13528138528138467, 0.0746753246753239],
    );
    assert_eq!(s.metrics[&Metric::Cls].histogram[1].start, 0.1);
    assert!(!s.too_small);
    let (a, z) = b.provenance.time_range.clone().unwrap();
    assert!(
        a.starts_with("2023-09-15") && z.starts_with("2023-10-12"),
        "{a} {z}"
    );
}

#[test]
fn crux_api_url_record_keeps_connection_and_normalised_url() {
    let b = import_files(
        &[field_data(
            "crux-api-queryRecord_github.com-marketplace_DESKTOP-4G_treosh-readme.json",
        )],
        &opts(Format::Crux),
    )
    .unwrap();
    let s = entry(
        &b,
        "https://github.com/marketplace",
        &seg(Some("desktop"), Some("4g")),
    );
    assert_crux(
        &s.metrics[&Metric::Lcp],
        895.0,
        [
            0.9798854493386074,
            0.012886949406791222,
            0.007227601254602516,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.02,
        [
            0.9430604982206409,
            0.020804817957842878,
            0.03613468382151657,
        ],
    );
    assert_crux(
        &s.metrics[&Metric::Fid],
        3.0,
        [
            0.9936164307521526,
            0.004579517069109083,
            0.0018040521787399426,
        ],
    );
    // The marketplace record was queried with ?type=actions; nothing of it remains.
    assert!(!serde_json::to_string(&b).unwrap().contains("type=actions"));
}

#[test]
fn psi_loading_experience_scales_cls_and_keeps_old_bins_without_shares() {
    let b = import_files(
        &[field_data("psi-v5_neredeoku.com_webperfix_pagespeed.json")],
        &opts(Format::Crux),
    )
    .unwrap();
    let page = entry(&b, "https://www.neredeoku.com/", &seg(Some("phone"), None));
    let cls = &page.metrics[&Metric::Cls];
    assert_eq!(cls.p75, Some(0.0));
    assert_eq!(cls.histogram[1].start, 0.1);
    assert_eq!(cls.histogram[1].end, Some(0.25));
    assert_eq!(cls.histogram[0].density, 0.931993199319932);
    // 17-significant-digit densities parse to the same double.
    assert_eq!(
        page.metrics[&Metric::Ttfb].histogram[0].density,
        text_f64("0.79857985798579856")
    );
    assert_eq!(
        page.metrics[&Metric::Fid].histogram[1].density,
        text_f64("0.081700000000000009")
    );
    let origin = entry(&b, "https://www.neredeoku.com", &seg(Some("phone"), None));
    assert_eq!(
        origin.metrics[&Metric::Cls].p75,
        Some(0.15),
        "PSI states CLS × 100"
    );
    assert_eq!(origin.metrics[&Metric::Inp].p75, Some(368.0));
    assert_eq!(
        origin.metrics[&Metric::Lcp].shares.unwrap().good,
        text_f64("0.84466498519574518")
    );

    // 2019 files bin FCP at 1000/2500 and FID at 50/250: no web-vitals shares.
    let old = import_files(
        &[field_data(
            "psi-loadingExperience_bbc.com-news_treosh-lhpfp.json",
        )],
        &opts(Format::Crux),
    )
    .unwrap();
    let news = entry(&old, "https://www.bbc.com/news", &SegmentKey::default());
    let fcp = &news.metrics[&Metric::Fcp];
    assert_eq!(fcp.p75, Some(2443.0));
    assert!(fcp.shares.is_none());
    assert_eq!(fcp.histogram[1].end, Some(2500.0));
    assert_eq!(
        entry(&old, "https://www.bbc.com", &SegmentKey::default()).metrics[&Metric::Fid].p75,
        Some(224.0)
    );
}

#[test]
fn no_data_imports_as_absent_never_as_zero() {
    let err = import_files(
        &[field_data(
            "crux-api-error-404-not-found_treosh-readme.json",
        )],
        &opts(Format::Crux),
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::Nothing { .. }));
    assert!(err.to_string().contains("no-data"), "{err}");
    let b = import_files(
        &[
            field_data("crux-api-error-404-not-found_treosh-readme.json"),
            field_data("psi-loadingExperience_not-in-crux_treosh-lhpfp.json"),
            field_data("psi-v5_html5rocks.com_GoogleChromeLabs-psi_response.json"),
        ],
        &opts(Format::Crux),
    )
    .unwrap();
    assert!(
        b.segments.iter().all(|s| s.page.contains("html5rocks")),
        "only html5rocks has data"
    );
    let en = b
        .segments
        .iter()
        .find(|s| s.page == "https://www.html5rocks.com/en/")
        .unwrap();
    assert_eq!(en.metrics[&Metric::Fcp].p75, Some(2384.0));
    assert!(!en.metrics.contains_key(&Metric::Lcp), "absent, not zero");
    assert_eq!(b.provenance.sources[0].rejected["no-data"].count, 1);
    assert_eq!(b.provenance.sources[1].rejected["no-data"].count, 2);
}

#[test]
fn crux_history_uses_the_newest_complete_period() {
    let b = import_files(
        &[field_data(
            "crux-history-api_github.com-url_DESKTOP_treosh-readme.json",
        )],
        &opts(Format::CruxHistory),
    )
    .unwrap();
    let s = entry(&b, "https://github.com/", &seg(Some("desktop"), None));
    // Newest period (index 24) per SOURCES.md.
    assert_crux(
        &s.metrics[&Metric::Lcp],
        1556.0,
        [0.896820068359375, 0.0595703125, 0.043609619140625],
    );
    assert_crux(
        &s.metrics[&Metric::Cls],
        0.05,
        [0.903533935546875, 0.07342529296875, 0.023040771484375],
    );
    assert_eq!(s.metrics[&Metric::Ttfb].p75, Some(841.0));
    let (a, z) = b.provenance.time_range.clone().unwrap();
    assert!(
        a.starts_with("2023-09-10") && z.starts_with("2023-10-07"),
        "{a} {z}"
    );
}

#[test]
fn crux_history_survives_nan_densities_and_null_p75s() {
    let b = import_files(
        &[fixture("crux-history-nan.json")],
        &opts(Format::CruxHistory),
    )
    .unwrap();
    let s = entry(&b, "https://shop.example/", &seg(Some("phone"), None));
    let lcp = &s.metrics[&Metric::Lcp];
    assert_eq!(
        lcp.p75,
        Some(2710.0),
        "period 3 has a NaN density, period 2 is complete"
    );
    assert!(
        !s.metrics.contains_key(&Metric::Cls),
        "no complete CLS period: absent"
    );
    let r = &b.provenance.sources[0].rejected["incomplete-period"];
    assert_eq!(r.count, 4);
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
