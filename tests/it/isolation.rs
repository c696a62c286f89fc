//! `isolation = "context"`: visits share a long-lived browser but nothing
//! else. Cookies, storage and the HTTP cache of one visit never reach the
//! next, a warm-cache visit still sees its own priming visit's, and the
//! browser is recycled after `recycle_after` visits.

use crate::support::{Fixtures, browser_lock};
use rumcheck::browser::BrowserOptions;
use rumcheck::metric::Metric;
use rumcheck::run::{RunOptions, Runner, SampleSink, SessionSetup, plan::plan};
use rumcheck::sample::{Sample, Variant};
use rumcheck::scenario::{self, LoadedScenario};
use std::path::Path;
use std::sync::Arc;

fn scenario(fixtures: &Fixtures, extra: &str) -> LoadedScenario {
    let text = format!(
        "name = \"isolation\"\nbase_url = \"{}\"\nretries = 0\n{extra}\n[[page]]\nname = \"isolation\"\npath = \"/isolation.html\"\n",
        fixtures.url("/")
    );
    scenario::parse(&text, Path::new("isolation.toml")).expect("scenario parses")
}

/// Runs `runs` visits of the scenario's page; returns the samples and how
/// many long-lived browsers were retired before the end.
async fn visits(s: &LoadedScenario, runs: u32, concurrency: usize) -> (Vec<Sample>, u32) {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::start(RunOptions {
        browser: BrowserOptions::default(),
        concurrency,
        out_dir: out.path().into(),
        quiet: true,
    })
    .await
    .expect("a browser starts (install chromium and chromium-driver)");
    let setups = vec![Arc::new(SessionSetup::for_profile(
        &s.scenario.profiles[0],
        Variant::Candidate,
        None,
        (1280, 800),
    ))];
    let mut sink = SampleSink::create(out.path()).unwrap();
    let batch = runner
        .run_batch(s, plan(0..runs, 1, &setups), &mut sink)
        .await
        .unwrap();
    let retired = runner.browsers_retired();
    runner.shutdown().await;
    (batch.samples, retired)
}

fn errors(samples: &[Sample]) -> Vec<f64> {
    samples
        .iter()
        .map(|s| {
            assert!(s.ok, "{s:#?}");
            s.metrics[&Metric::JsErrors]
        })
        .collect()
}

#[tokio::test]
async fn cold_visits_in_one_browser_share_no_cookies_storage_or_cache() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let (samples, _) = visits(&scenario(&fixtures, ""), 4, 1).await;
    assert!(
        samples
            .iter()
            .all(|s| s.isolation.as_deref() == Some("context")),
        "context isolation is the default: {samples:#?}"
    );
    // Each visit ended by really hiding the page (its context's cover tab).
    assert!(
        samples.iter().all(|s| s.details["finalized"] == "hidden"),
        "{samples:#?}"
    );
    // The page throws when it finds an earlier visit's cookie or storage.
    assert_eq!(errors(&samples), [0.0; 4], "{samples:#?}");
    // Cacheable for an hour, yet every fresh context fetched it again.
    assert_eq!(fixtures.requests_to("/style.css?cache"), 4);
}

#[tokio::test]
async fn a_warm_visit_sees_its_priming_visit_and_nothing_older() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let (samples, _) = visits(&scenario(&fixtures, "cache = \"warm\""), 2, 1).await;
    // The measured visit of each job finds the priming visit's state…
    assert_eq!(errors(&samples), [1.0; 2], "{samples:#?}");
    // …and its cached stylesheet: one request per job, from the priming visit.
    assert_eq!(fixtures.requests_to("/style.css?cache"), 2);
}

#[tokio::test]
async fn a_browser_per_visit_is_kept_for_users_who_want_a_cold_process() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let (samples, retired) = visits(&scenario(&fixtures, "isolation = \"browser\""), 2, 1).await;
    assert!(
        samples
            .iter()
            .all(|s| s.isolation.as_deref() == Some("browser"))
    );
    assert_eq!(errors(&samples), [0.0; 2]);
    assert_eq!(fixtures.requests_to("/style.css?cache"), 2);
    assert_eq!(retired, 0, "no long-lived browser to retire");
}

#[tokio::test]
async fn a_long_lived_browser_is_recycled_after_recycle_after_visits() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let (samples, retired) = visits(&scenario(&fixtures, "recycle_after = 2"), 5, 1).await;
    assert_eq!(errors(&samples), [0.0; 5]);
    // Retired after visits 2 and 4; the third browser is closed at the end.
    assert_eq!(retired, 2);
    // Two workers keep two browsers, each with its own contexts.
    let (samples, retired) = visits(&scenario(&fixtures, ""), 4, 2).await;
    assert_eq!(errors(&samples), [0.0; 4]);
    assert_eq!(retired, 0);
}
