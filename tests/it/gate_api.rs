//! The library API a team calls from its own `cargo test`, run end to end
//! against the demo shop: two builds on loopback, the bundled RUM baseline,
//! real browsers, the demo's quick calibration. The unchanged build passes;
//! a build whose hero image is 1 s late fails with exit code 1 on LCP, in
//! the lab and projected onto real users, whose LCP assessment flips.

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
async fn the_unchanged_demo_build_passes_and_a_late_hero_image_fails_on_lcp_and_flips_the_assessment()
 {
    let _lock = browser_lock().await;
    let out = tempfile::tempdir().unwrap();

    let (gate, builds) = prepare(
        DemoKnobs::default(),
        Some(12),
        options(&out.path().join("same")),
        None,
    )
    .await
    .unwrap();
    // The second gate reuses the first one's calibration (one calibration per CI run).
    let calibration = out.path().join("same/demo-calibration.json");
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

    assert!(
        same.verdict.as_ref().is_some_and(|v| v
            .comparisons
            .iter()
            .any(|c| c.against == Against::ProjectedField)),
        "the calibrated demo has projected-field rows"
    );

    let knobs = DemoKnobs::parse(&["lcp=1000ms"]).unwrap();
    let (gate, builds) = prepare(
        knobs,
        Some(12),
        options(&out.path().join("slow")),
        Some(calibration),
    )
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
    let table = rumcheck::report::terminal::render(&slow.results, false);
    assert!(
        regressed.iter().any(|c| c.page == "home"
            && c.metric == Metric::Lcp
            && c.against == Against::Reference),
        "{table}"
    );
    let projected = regressed
        .iter()
        .find(|c| {
            c.page == "home" && c.metric == Metric::Lcp && c.against == Against::ProjectedField
        })
        .unwrap_or_else(|| panic!("no regressed projected LCP row:\n{table}"));
    assert!(
        projected.projection.as_ref().is_some_and(|p| p.flips),
        "{table}"
    );
    assert!(projected.reason.contains("assessment flips"), "{table}");
    let panic = std::panic::catch_unwind(|| slow.assert_pass())
        .expect_err("assert_pass panics on a regression");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("REGRESSED") && message.contains("lcp"),
        "{message}"
    );
}
