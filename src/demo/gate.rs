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
use std::path::Path;

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
/// directory; returns the gate to run and the servers to stop afterwards.
pub async fn prepare(
    knobs: DemoKnobs,
    runs: Option<u32>,
    options: RunOptions,
) -> Result<(Gate, Builds), GateError> {
    let serve_err = |e: std::io::Error| {
        GateError::Run(crate::run::RunError::Output {
            path: "127.0.0.1:0".into(),
            source: e,
        })
    };
    let reference = serve(DemoKnobs::default()).await.map_err(serve_err)?;
    let candidate = serve(knobs).await.map_err(serve_err)?;
    let scenario = scenario(&candidate.base_url())?;
    let baseline_path = options.out_dir.join("demo-baseline.json");
    std::fs::create_dir_all(&options.out_dir)
        .and_then(|()| {
            let b = baseline().map_err(std::io::Error::other)?;
            std::fs::write(
                &baseline_path,
                serde_json::to_vec_pretty(&b).map_err(std::io::Error::other)?,
            )
        })
        .map_err(|e| {
            GateError::Run(crate::run::RunError::Output {
                path: baseline_path.clone(),
                source: e,
            })
        })?;
    // A quick calibration of the reference ("production") build against the
    // bundled field data, so the field rows are projected onto real users.
    let calibration_path = options.out_dir.join("demo-calibration.json");
    let b = baseline().map_err(GateError::Baseline)?;
    let mut quick = CalibrateOptions::new(options.clone(), "demo/field.csv");
    quick.tiers = QUICK_TIERS;
    quick.visits = 1;
    quick.rounds = 2;
    quick.host_probe = false;
    quick.base_url = url::Url::parse(&reference.base_url()).ok();
    if !options.quiet {
        eprintln!(
            "rumcheck demo: calibrating the reference build to the bundled field data (quick: {QUICK_TIERS} tiers, 1 visit a probe)…"
        );
    }
    let file = calibrate::calibrate(&scenario, &b, &quick)
        .await
        .map_err(|e| match e {
            calibrate::CalibrateError::Run(r) => GateError::Run(r),
            other => GateError::Run(crate::run::RunError::Output {
                path: calibration_path.clone(),
                source: std::io::Error::other(other.to_string()),
            }),
        })?;
    if !options.quiet {
        eprint!("{}", calibrate::render(&file));
    }
    std::fs::write(
        &calibration_path,
        serde_json::to_vec_pretty(&file)
            .map_err(std::io::Error::other)
            .unwrap_or_default(),
    )
    .map_err(|e| {
        GateError::Run(crate::run::RunError::Output {
            path: calibration_path.clone(),
            source: e,
        })
    })?;
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
