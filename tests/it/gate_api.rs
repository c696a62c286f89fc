//! The library API a team calls from its own `cargo test`, run end to end
//! against the demo shop: two builds on loopback, the bundled RUM baseline,
//! real browsers. The unchanged build passes; a build whose hero image is
//! 400 ms late fails with exit code 1 on LCP.

use crate::support::browser_lock;
use rumcheck::demo::{DemoKnobs, gate::prepare};
use rumcheck::gate::Runs;
use rumcheck::run::RunOptions;
use rumcheck::verdict::{Against, Outcome};
use rumcheck::{Metric, exit};

fn options(dir: &std::path::Path) -> RunOptions {
    RunOptions {
        browser: Default::default(),
        concurrency: 2,
        out_dir: dir.to_path_buf(),
        quiet: true,
    }
}

#[tokio::test]
async fn the_unchanged_demo_build_passes_and_a_late_hero_image_fails_on_lcp() {
    let _lock = browser_lock().await;
    let out = tempfile::tempdir().unwrap();

    let (gate, builds) = prepare(
        DemoKnobs::default(),
        Some(12),
        options(&out.path().join("same")),
    )
    .await
    .unwrap();
    let same = gate.runs(Runs::Fixed(12)).run().await;
    builds.stop().await;
    let same = same.expect("the gate runs");
    assert_ne!(
        same.exit_code(),
        exit::REGRESSION,
        "no change must not fail the build"
    );
    assert!(
        same.verdict
            .as_ref()
            .is_some_and(|v| v.count(Outcome::Regressed) == 0)
    );

    let knobs = DemoKnobs::parse(&["lcp=400ms"]).unwrap();
    let (gate, builds) = prepare(knobs, Some(12), options(&out.path().join("slow")))
        .await
        .unwrap();
    let slow = gate.run().await;
    builds.stop().await;
    let slow = slow.expect("the gate runs");
    assert_eq!(slow.exit_code(), exit::REGRESSION);
    let verdict = slow.verdict.as_ref().unwrap();
    let regressed: Vec<_> = verdict
        .comparisons
        .iter()
        .filter(|c| c.outcome == Outcome::Regressed)
        .collect();
    assert!(
        regressed.iter().any(|c| c.page == "home"
            && c.metric == Metric::Lcp
            && c.against == Against::Reference),
        "{}",
        rumcheck::report::terminal::render(verdict, false)
    );
    let panic = std::panic::catch_unwind(|| slow.assert_pass())
        .expect_err("assert_pass panics on a regression");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("REGRESSED") && message.contains("lcp"),
        "{message}"
    );
}
