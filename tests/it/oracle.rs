//! The oracle: Google's web-vitals library (node_modules/web-vitals, the
//! IIFE build) runs in the same pages as the "user's RUM agent"; rumcheck's
//! values must equal the ones it beacons, on every run.

use crate::support::{Fixtures, click, wait_until, web_vitals_iife, with_session};
use rumcheck::Metric;
use rumcheck::collect::{self, Collected, RumAgent};
use std::collections::BTreeMap;
use std::time::Duration;

/// The agent a team would ship: web-vitals reporting each metric by sendBeacon.
fn agent() -> RumAgent {
    let report = r#"
(function () {
  var send = function (m) {
    navigator.sendBeacon('https://rum.invalid/collect?m=' + m.name, JSON.stringify({ name: m.name, value: m.value }));
  };
  webVitals.onTTFB(send);
  webVitals.onFCP(send);
  webVitals.onLCP(send);
  webVitals.onCLS(send);
  webVitals.onINP(send);
})();
"#;
    RumAgent {
        script: format!("{}\n{report}", web_vitals_iife()),
        beacon: "https://rum.invalid/collect*".into(),
    }
}

/// The last value web-vitals beaconed for each metric.
fn beaconed(c: &Collected) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for b in &c.beacons {
        assert_eq!(b.transport, "sendBeacon");
        let v: serde_json::Value = serde_json::from_str(&b.body).expect("beacon body is JSON");
        out.insert(
            v["name"].as_str().unwrap().to_ascii_lowercase(),
            v["value"].as_f64().unwrap(),
        );
    }
    out
}

/// Every metric web-vitals reported must equal rumcheck's, and every one of
/// `expected` must have been reported by both.
fn assert_agree(page: &str, c: &Collected, expected: &[Metric]) -> Vec<(Metric, f64)> {
    let theirs = beaconed(c);
    let mut diffs = Vec::new();
    for m in expected {
        let ours = c.metrics.get(m).copied();
        let wv = theirs.get(m.name()).copied();
        let (Some(ours), Some(wv)) = (ours, wv) else {
            panic!(
                "{page}: {m} ours {ours:?} web-vitals {wv:?}\n{:?}\n{theirs:?}",
                c.metrics
            );
        };
        let tolerance = if *m == Metric::Cls { 0.001 } else { 1.0 };
        assert!(
            (ours - wv).abs() <= tolerance,
            "{page}: {m} rumcheck {ours} vs web-vitals {wv}"
        );
        diffs.push((*m, (ours - wv).abs()));
    }
    diffs
}

#[tokio::test]
async fn rumcheck_equals_web_vitals_on_every_run() {
    const RUNS: usize = 3;
    let all = [
        Metric::Ttfb,
        Metric::Fcp,
        Metric::Lcp,
        Metric::Cls,
        Metric::Inp,
    ];
    let mut worst: BTreeMap<Metric, f64> = BTreeMap::new();
    for _ in 0..RUNS {
        let diffs = with_oracle_session().await;
        for (m, d) in diffs {
            let w = worst.entry(m).or_default();
            *w = w.max(d);
        }
    }
    eprintln!("largest |rumcheck - web-vitals| over {RUNS} runs x 3 pages: {worst:?}");
    assert_eq!(worst.len(), all.len());
}

/// One fresh session visiting both oracle pages (a journey: two visits).
async fn with_oracle_session() -> Vec<(Metric, f64)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    with_session(|s| async move {
        let fx = Fixtures::start().await;
        let agent = agent();
        collect::install(&s, Some(&agent)).await.unwrap();
        let all = [
            Metric::Ttfb,
            Metric::Fcp,
            Metric::Lcp,
            Metric::Cls,
            Metric::Inp,
        ];
        let mut diffs = Vec::new();

        // Late hero image, a shift, then a slow click.
        s.goto(&fx.url("oracle.html")).await.unwrap();
        wait_until(&s, "return window.__done === true", Duration::from_secs(5)).await;
        click(&s, "#buy").await;
        let c = collect::finalize(&s).await.unwrap();
        assert!(c.metrics[&Metric::Cls] > 0.0, "{:?}", c.metrics);
        assert_eq!(c.details["lcp"]["element"], "#hero", "{:#}", c.details);
        diffs.extend(assert_agree("oracle.html", &c, &all));

        // Late text LCP, then a click that shifts content (excluded from CLS).
        s.goto(&fx.url("oracle_text.html")).await.unwrap();
        wait_until(&s, "return window.__done === true", Duration::from_secs(5)).await;
        click(&s, "#more").await;
        let c = collect::finalize(&s).await.unwrap();
        diffs.extend(assert_agree("oracle_text.html", &c, &all));

        // Input before the largest paint: both stop LCP at the first click;
        // several clicks and key presses make up INP.
        s.goto(&fx.url("oracle_input_first.html")).await.unwrap();
        // As a visitor would, click once the page has painted (a click
        // before the first paint leaves no LCP at all, to either library).
        let painted = "return performance.getEntriesByType('paint').length > 0;";
        wait_until(&s, painted, Duration::from_secs(5)).await;
        click(&s, "#go").await;
        let q = s
            .client()
            .find(fantoccini::Locator::Css("#q"))
            .await
            .unwrap();
        q.send_keys("abc").await.unwrap();
        click(&s, "#go").await;
        wait_until(&s, "return window.__done === true", Duration::from_secs(5)).await;
        // The session's last visit: no need to bring the page back.
        let c = collect::finalize_last(&s).await.unwrap();
        assert_ne!(c.details["lcp"]["element"], "#late", "{:#}", c.details);
        assert!(
            c.details["inp"]["interactions"].as_f64() >= Some(4.0),
            "{:#}",
            c.details
        );
        diffs.extend(assert_agree("oracle_input_first.html", &c, &all));
        let _ = tx.send(diffs);
    })
    .await;
    rx.await
        .expect("the oracle session reports its differences")
}
