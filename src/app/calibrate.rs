//! `rumcheck calibrate-host`.

use crate::cli::CalibrateArgs;
use crate::exit::{self, Failure};
use crate::run::RunOptions;
use crate::run::calibrate::{calibrate, render};
use crate::throttle::{Profile, ProfileSpec};

/// The profiles calibrated when no scenario is given.
fn default_profiles() -> Result<Vec<Profile>, Failure> {
    let spec = |name: &str, preset: Option<&str>, network: Option<&str>| ProfileSpec {
        name: name.into(),
        preset: preset.map(str::to_string),
        network: network.map(|n| crate::throttle::NameOr::Preset(n.to_string())),
        ..ProfileSpec::default()
    };
    [
        spec("lighthouse-mobile", Some("lighthouse-mobile"), None),
        spec("lighthouse-desktop", Some("lighthouse-desktop"), None),
        spec("4g", None, Some("4g")),
    ]
    .into_iter()
    .map(|s| s.resolve().map_err(Failure::usage))
    .collect()
}

pub async fn main(args: CalibrateArgs) -> Result<u8, Failure> {
    let profiles = match &args.scenario {
        Some(path) => {
            crate::scenario::load(path)
                .map_err(Failure::usage)?
                .scenario
                .profiles
        }
        None => default_profiles()?,
    };
    let opts = RunOptions::from_cli_arguments(&args.browser)?;
    eprintln!(
        "calibrating {} profile(s) in a real browser against a loopback server…",
        profiles.len()
    );
    let rows = calibrate(&opts.browser, &profiles)
        .await
        .map_err(Failure::infra)?;
    print!("{}", render(&rows));
    println!(
        "\nTTFB should be at least the RTT (connection set-up plus request); the 500 KB download on an open connection should take about size/bandwidth + RTT; CPU should be near the requested factor."
    );
    Ok(exit::PASS)
}
