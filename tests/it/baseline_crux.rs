//! CrUX API, PageSpeed Insights and CrUX History records from real public
//! field data (../shared/field-data, truth in its SOURCES.md): p75s and
//! densities reproduced exactly.

use super::baseline_import::{entry, field_data, fixture, opts, seg};
use rumcheck::Metric;
use rumcheck::baseline::{Format, ImportError, MetricBaseline, import_files};
use rumcheck::segment::SegmentKey;

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
