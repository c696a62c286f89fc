//! `rumcheck demo`: the whole loop on the embedded shop (see [`prepare`]). Two builds of the
//! shop run side by side on loopback — the reference ("production") and the
//! candidate (slower when `--regress` knobs are given) — and the candidate is
//! gated against the reference in the lab and against a bundled RUM baseline.

use super::{DemoKnobs, DemoServer, serve};
use crate::baseline::{Baseline, Format, ImportError, ImportOptions, Importer};
use crate::calibrate::{self, CalibrateOptions};
use crate::gate::{Gate, GateError, Runs};
use crate::run::RunOptions;
use crate::scenario::{LoadedScenario, ScenarioError, parse};
use std::path::{Path, PathBuf};

/// The demo shop's made-up RUM export (see tools/make-demo-field-data.py):
/// a week of page views with LCP, FCP, TTFB, CLS, INP per page and device.
pub const FIELD_CSV: &str = include_str!("field.csv");

/// The bundled scenario, pointed at `base_url`.
pub fn scenario(base_url: &str) -> Result<LoadedScenario, ScenarioError> {
    let mut s = parse(super::SCENARIO_TOML, Path::new("scenarios/demo.toml"))?;
    s.override_base_url(base_url)?;
    Ok(s)
}

/// The demo baseline, imported from [`FIELD_CSV`] the way
/// `rumcheck baseline import field.csv --format csv` would.
pub fn baseline() -> Result<Baseline, ImportError> {
    let mut importer = Importer::new(ImportOptions::new(Format::Csv));
    importer.read("demo/field.csv", FIELD_CSV.as_bytes())?;
    importer.finish()
}

/// Tiers of the demo's quick calibration: a run count that is a multiple
/// gives every tier the same visits.
pub const QUICK_TIERS: usize = 3;

/// Pages the demo calibrates: home, whose hero image `--regress lcp=…`
/// delays. The others stay uncalibrated, so the demo shows both kinds of
/// field row (projected, and info) and stays within three minutes.
pub const QUICK_PAGES: [&str; 1] = ["home"];

/// The two running builds of the demo shop.
pub struct Builds {
    reference: DemoServer,
    candidate: DemoServer,
}

impl Builds {
    /// Stops both servers.
    pub async fn stop(self) {
        self.candidate.stop().await;
        self.reference.stop().await;
    }
}

/// Serves both builds and writes the demo baseline into the output
/// directory, calibrates the reference build to it (or reuses
/// `calibration`, e.g. the `demo-calibration.json` of an earlier run);
/// returns the gate to run and the servers to stop afterwards.
pub async fn prepare(
    knobs: DemoKnobs,
    runs: Option<u32>,
    options: RunOptions,
    calibration: Option<PathBuf>,
) -> Result<(Gate, Builds), GateError> {
    let serve_err = |e: std::io::Error| {
        GateError::Run(crate::run::RunError::Output {
            path: "127.0.0.1:0".into(),
            cause: e,
        })
    };
    let reference = serve(DemoKnobs::default()).await.map_err(serve_err)?;
    let candidate = serve(knobs).await.map_err(serve_err)?;
    let scenario = scenario(&candidate.base_url())?;
    let b = baseline()?;
    let baseline_path = options.out_dir.join("demo-baseline.json");
    write_json(&baseline_path, &b)?;
    let calibration_path = match calibration {
        Some(path) => path,
        None => quick_calibration(&scenario, &b, &reference.base_url(), &options).await?,
    };
    let mut gate = Gate::from_scenario(scenario)
        .baseline(&baseline_path)
        .reference_url(reference.base_url())
        .calibration(&calibration_path)
        .run_options(options);
    if let Some(n) = runs {
        gate = gate.runs(Runs::Fixed(n));
    }
    Ok((
        gate,
        Builds {
            reference,
            candidate,
        },
    ))
}

/// A quick calibration of the reference ("production") build's
/// [`QUICK_PAGES`] against the bundled field data ([`QUICK_TIERS`] tiers,
/// one visit a probe, two refine rounds), written to `OUT/demo-calibration.json`.
async fn quick_calibration(
    scenario: &LoadedScenario,
    baseline: &Baseline,
    reference_url: &str,
    options: &RunOptions,
) -> Result<PathBuf, GateError> {
    let path = options.out_dir.join("demo-calibration.json");
    let mut quick = CalibrateOptions::new(options.clone(), "demo/field.csv");
    quick.tiers = QUICK_TIERS;
    quick.visits = 1;
    quick.rounds = 2;
    quick.host_probe = false;
    quick.base_url = url::Url::parse(reference_url).ok();
    quick.pages = Some(QUICK_PAGES.iter().map(|p| p.to_string()).collect());
    if !options.quiet {
        eprintln!(
            "rumcheck demo: calibrating the reference build's {} page to the bundled field data (quick: {QUICK_TIERS} tiers, 1 visit a probe; reuse it with --calibration {})",
            QUICK_PAGES.join(", "),
            path.display()
        );
    }
    let file = calibrate::calibrate(scenario, baseline, &quick).await?;
    if !options.quiet {
        eprint!("{}", calibrate::render(&file));
    }
    write_json(&path, &file)?;
    Ok(path)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), GateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |source| {
        GateError::Run(crate::run::RunError::Output {
            path: path.to_path_buf(),
            cause: source,
        })
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = serde_json::to_vec_pretty(value).map_err(|e| io(std::io::Error::other(e)))?;
    // Replaced only by a complete file, like every output.
    crate::output::write_file("--out", path, &text)
        .map_err(|e| GateError::Run(crate::run::RunError::Out(e)))
}
