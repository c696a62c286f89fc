//! Wall time of one cold sample of the demo home page, and rumcheck's
//! overhead over a bare fantoccini session + navigation of the same page.
//!
//! `cargo bench --bench sample` (needs Chromium and chromedriver). Besides
//! criterion's totals it prints the split of a rumcheck sample into session
//! start, page (install + navigation) and finalisation (hide + read back).

use criterion::{Criterion, criterion_group, criterion_main};
use rumcheck::browser::{Browser, BrowserOptions, SessionSpec, find_browser, running_as_root};
use rumcheck::collect;
use rumcheck::demo::{self, DemoKnobs};
use std::time::{Duration, Instant};

/// A plain fantoccini session with a fresh profile, headless: the floor any
/// WebDriver tool pays for a cold visit.
async fn bare_sample(endpoint: &str, url: &str) -> Duration {
    let start = Instant::now();
    let profile = tempfile::tempdir().expect("temporary profile");
    let mut args = vec![
        "--headless".to_string(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    if running_as_root() {
        args.push("--no-sandbox".into());
    }
    let binary = find_browser(None).expect("a Chromium binary");
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "args": args, "binary": binary.display().to_string() },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("capabilities are an object literal")
    };
    let client =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(endpoint)
            .await
            .expect("a bare session");
    client.goto(url).await.expect("the demo home page");
    client.close().await.expect("closing the bare session");
    start.elapsed()
}

/// Phases of one rumcheck sample.
#[derive(Default, Clone, Copy)]
struct Split {
    session: Duration,
    page: Duration,
    finalize: Duration,
    close: Duration,
}

async fn rumcheck_sample(browser: &mut Browser, url: &str) -> Split {
    let t = Instant::now();
    let session = browser
        .session(&SessionSpec::default())
        .await
        .expect("a session");
    let session_done = t.elapsed();
    collect::install(&session, None).await.expect("collector");
    session.goto(url).await.expect("the demo home page");
    let page_done = t.elapsed();
    let c = collect::finalize_last(&session).await.expect("finalised");
    assert!(c.metrics.contains_key(&rumcheck::Metric::Lcp));
    let fin_done = t.elapsed();
    session.close().await.expect("closing");
    Split {
        session: session_done,
        page: page_done - session_done,
        finalize: fin_done - page_done,
        close: t.elapsed() - fin_done,
    }
}

fn cold_sample(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (mut browser, server) = rt.block_on(async {
        let browser = Browser::start(&BrowserOptions::default())
            .await
            .expect("benchmarks need Chromium and chromedriver");
        let server = demo::serve(DemoKnobs::default())
            .await
            .expect("demo server");
        (browser, server)
    });
    let url = format!("{}/", server.base_url());
    let endpoint = browser.endpoint().to_string();

    let mut group = c.benchmark_group("demo_home_cold_sample");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(30));
    group.bench_function("bare_fantoccini", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(bare_sample(&endpoint, &url)))
                .sum()
        })
    });
    let mut splits = Vec::new();
    group.bench_function("rumcheck", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let s = rt.block_on(rumcheck_sample(&mut browser, &url));
                    splits.push(s);
                    s.session + s.page + s.finalize + s.close
                })
                .sum()
        })
    });
    group.finish();

    let n = splits.len().max(1) as f64;
    let mean = |f: fn(&Split) -> Duration| {
        splits.iter().map(f).sum::<Duration>().as_secs_f64() * 1000.0 / n
    };
    eprintln!(
        "rumcheck sample split over {} samples (mean ms): session {:.0}, page {:.0}, finalize {:.0}, close {:.0}",
        splits.len(),
        mean(|s| s.session),
        mean(|s| s.page),
        mean(|s| s.finalize),
        mean(|s| s.close),
    );
    rt.block_on(async {
        server.stop().await;
        browser.shutdown().await;
    });
}

criterion_group!(benches, cold_sample);
criterion_main!(benches);
