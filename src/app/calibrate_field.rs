//! `rumcheck calibrate`: flags → validated options → fit → table → file.

use crate::calibrate::{self, CalibrateOptions};
use crate::cli::CalibrateFieldArgs;
use crate::exit::{self, Failure};
use crate::output::{OutputTarget, refuse_overwriting_inputs};
use crate::run::RunOptions;
use anyhow::anyhow;

impl CalibrateOptions {
    /// Validates `rumcheck calibrate`'s numeric flags.
    pub fn from_cli_arguments(args: &CalibrateFieldArgs) -> Result<Self, Failure> {
        let run = RunOptions::from_cli_arguments(&args.browser)?;
        let mut o = CalibrateOptions::new(run, &args.baseline.display().to_string());
        let bad = |flag: &str, v: String, want: &str| {
            Failure::usage(anyhow!("{flag} {v}: expected {want}"))
        };
        if !(2..=9).contains(&args.tiers) {
            return Err(bad(
                "--tiers",
                args.tiers.to_string(),
                "2 to 9 tiers (5 is the default: bands around p10, p30, p50, p70, p90)",
            ));
        }
        if !(1..=15).contains(&args.visits) {
            return Err(bad(
                "--visits",
                args.visits.to_string(),
                "1 to 15 visits per probe",
            ));
        }
        if args.rounds > 10 {
            return Err(bad(
                "--rounds",
                args.rounds.to_string(),
                "0 to 10 refine rounds",
            ));
        }
        if !(args.tolerance > 0.0 && args.tolerance < 1.0) {
            return Err(bad(
                "--tolerance",
                args.tolerance.to_string(),
                "a fraction in (0, 1), e.g. 0.05",
            ));
        }
        o.tiers = args.tiers;
        o.visits = args.visits;
        o.rounds = args.rounds;
        o.tolerance = args.tolerance;
        o.pages = (!args.page.is_empty()).then(|| args.page.clone());
        if let Some(u) = &args.base_url {
            o.base_url = Some(
                url::Url::parse(u)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        Failure::usage(anyhow!(
                            "--base-url {u:?} is not a valid http(s) URL\n  hint: pass the production build's base URL, e.g. https://shop.example.com"
                        ))
                    })?,
            );
        }
        Ok(o)
    }
}

/// Runs `rumcheck calibrate`.
pub async fn main(args: CalibrateFieldArgs) -> Result<u8, Failure> {
    let options = CalibrateOptions::from_cli_arguments(&args)?;
    let scenario = crate::scenario::load(&args.scenario).map_err(Failure::usage)?;
    let baseline = crate::baseline::read_baseline(&args.baseline).map_err(Failure::usage)?;
    let output = check_output(&args)?;
    let file = calibrate::calibrate(&scenario, &baseline, &options)
        .await
        .map_err(|e| Failure::of_kind(e.kind(), e))?;
    let text = serde_json::to_string_pretty(&file).map_err(Failure::infra)?;
    output
        .write((text + "\n").as_bytes())
        .map_err(Failure::usage)?;
    print!("{}", calibrate::render(&file));
    println!(
        "\nwrote {} ({} page × profile entries); use it with `calibration = \"{}\"` in a [[profile]] or `rumcheck run --calibration {}`",
        args.output.display(),
        file.entries.len(),
        args.output.display(),
        args.output.display()
    );
    Ok(exit::PASS)
}

/// `-o` must be replaceable, and neither the scenario nor the baseline,
/// before any browser starts.
fn check_output(args: &CalibrateFieldArgs) -> Result<OutputTarget, Failure> {
    let target = OutputTarget::check("-o", &args.output).map_err(Failure::usage)?;
    refuse_overwriting_inputs(
        &[("-o", &args.output)],
        &[("SCENARIO", &args.scenario), ("--baseline", &args.baseline)],
    )
    .map_err(Failure::usage)?;
    Ok(target)
}
