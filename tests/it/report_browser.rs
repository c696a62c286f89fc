//! The HTML report in a real headless Chromium: the verdict rows, one SVG
//! per metric, the hostile payload shown as text and never executed. A
//! screenshot of the report is saved as this test's artifact.

use crate::report_fixture;
use crate::report_hostile::hostile_html;
use rumcheck::browser::{Browser, BrowserOptions, Session, SessionSpec};
use rumcheck::report::{Format, ReportInput};
use serde_json::Value;
use std::path::PathBuf;

/// Navigates and waits until the whole document (its last element, the
/// footer) is parsed, so counts never see a half-loaded page on a busy host.
async fn open(session: &Session, url: &str) -> Result<(), String> {
    session.goto(url).await.map_err(|e| e.to_string())?;
    for _ in 0..100 {
        let ready = session
            .eval(
                "return document.readyState === 'complete' && !!document.querySelector('footer');",
            )
            .await
            .map_err(|e| e.to_string())?;
        if ready == Value::Bool(true) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("{url} did not finish loading in 10 s"))
}

async fn inspect(session: &Session, url: &str) -> Result<(Value, Vec<u8>), String> {
    open(session, url).await?;
    let facts = session
        .eval(
            r#"
            const attrs = [...document.querySelectorAll('*')]
                .flatMap(e => [...e.attributes].map(a => a.name))
                .filter(n => n.startsWith('on'));
            return {
                xss: window.__xss === undefined ? null : String(window.__xss),
                title: document.title,
                rows: document.querySelectorAll('table.verdict tbody tr').length,
                regressed: document.querySelectorAll('tr[data-outcome="regressed"]').length,
                svgs: [...document.querySelectorAll('figure.plot')]
                    .filter(f => f.querySelector('svg.ecdf path.series.candidate')).length,
                figures: document.querySelectorAll('figure.plot').length,
                scripts: document.querySelectorAll('script').length,
                handlers: attrs.length,
                images: [...document.images].map(i => i.naturalWidth),
                status: document.getElementById('status').textContent,
                firstPage: document.querySelector('section.group h2 .page').textContent,
                reasonText: document.querySelector('table.verdict td.reason').textContent,
            };
            "#,
        )
        .await
        .map_err(|e| e.to_string())?;
    let png = session.screenshot().await.map_err(|e| e.to_string())?;
    Ok((facts, png))
}

/// The clean fixture's report as one full-page PNG, for people to look at.
async fn full_page(session: &Session, url: &str) -> Result<Vec<u8>, String> {
    open(session, url).await?;
    let height = session
        .eval("return document.documentElement.scrollHeight;")
        .await
        .map_err(|e| e.to_string())?
        .as_u64()
        .unwrap_or(1600)
        .min(8000) as u32;
    session
        .set_viewport(1280, height, 1.0, false)
        .await
        .map_err(|e| e.to_string())?;
    session.screenshot().await.map_err(|e| e.to_string())
}

fn clean_html() -> String {
    let f = report_fixture::load();
    let input = ReportInput::new(&f.results, &f.candidate)
        .with_reference(&f.reference)
        .with_baseline(Some(&f.baseline));
    String::from_utf8(Format::Html.reporter().render(&input).unwrap()).unwrap()
}

#[tokio::test]
async fn the_html_report_renders_in_chromium_and_runs_no_payload() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, hostile_html()).unwrap();
    let url = url::Url::from_file_path(&page).unwrap().to_string();
    let clean = dir.path().join("clean.html");
    std::fs::write(&clean, clean_html()).unwrap();
    let clean_url = url::Url::from_file_path(&clean).unwrap().to_string();

    let browser = Browser::start(&BrowserOptions::default())
        .await
        .expect("a Chromium and chromedriver to run the report test");
    let spec = SessionSpec {
        viewport: (1280, 1600),
        ..SessionSpec::default()
    };
    let outcome = match browser.session(&spec).await {
        Ok(session) => {
            let r = match inspect(&session, &url).await {
                Ok((facts, png)) => full_page(&session, &clean_url)
                    .await
                    .map(|full| (facts, png, full)),
                Err(e) => Err(e),
            };
            // Close explicitly whatever happened, then judge.
            let _ = session.close().await;
            r
        }
        Err(e) => Err(e.to_string()),
    };
    browser.shutdown().await;
    let (facts, png, full) = outcome.expect("the report opens in Chromium");

    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report-html.png");
    std::fs::write(&shot, &png).unwrap();
    println!("report screenshot (hostile input): {}", shot.display());
    let full_shot = artifacts.join("report-html-full.png");
    std::fs::write(&full_shot, &full).unwrap();
    println!(
        "report screenshot (full page, fixture): {}",
        full_shot.display()
    );

    assert_eq!(facts["xss"], Value::Null, "a payload ran: {facts}");
    assert_eq!(facts["scripts"], 0, "{facts}");
    assert_eq!(facts["handlers"], 0, "{facts}");
    assert_eq!(facts["rows"], 9, "{facts}");
    assert_eq!(facts["regressed"], 2, "{facts}");
    assert_eq!(facts["figures"], 9, "{facts}");
    assert_eq!(facts["svgs"], 9, "{facts}");
    assert_eq!(facts["status"], "REGRESSED", "{facts}");
    // Both screenshots decode as real images in the browser.
    assert_eq!(facts["images"], serde_json::json!([160, 160]), "{facts}");
    let first = facts["firstPage"].as_str().unwrap();
    assert!(
        first.starts_with("home<script>window.__xss=1;alert(1)</script>\"><img src=x onerror="),
        "{first}"
    );
    let reason = facts["reasonText"].as_str().unwrap();
    assert!(
        reason.contains("<script>window.__xss=1;alert(1)</script>"),
        "{reason}"
    );
    assert!(png.starts_with(b"\x89PNG") && full.starts_with(b"\x89PNG"));
}
