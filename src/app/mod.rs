//! The top of the program: each subcommand turns its arguments into
//! validated options, calls the library, prints, and returns an exit code.
//! `anyhow` lives here and nowhere below.

use crate::cli::{Cli, Command};
use crate::exit::Failure;

mod baseline;
mod calibrate;
mod calibrate_field;
mod compare;
mod init;
mod profiles;
mod run;

/// Runs a parsed command line and returns the process exit code.
pub fn main(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Baseline(cmd) => baseline::main(cmd),
        Command::Compare(args) => compare::main(args),
        Command::Init(args) => init::main(args),
        Command::Run(args) => with_runtime(|| run::run(args)),
        Command::Demo(args) => with_runtime(|| run::demo(args)),
        Command::Calibrate(args) => with_runtime(|| calibrate_field::main(args)),
        Command::CalibrateHost(args) => with_runtime(|| calibrate::main(args)),
        Command::Profiles => profiles::main(),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            // Errors quote pages, URLs and file contents: no raw controls,
            // and no line that GitHub Actions would run as a command.
            eprintln!(
                "error: {}",
                crate::output::inert::message(&failure.to_string())
            );
            failure.code
        }
    }
}

/// Parses `--threshold METRIC=AMOUNT` flags into `options`; a metric given
/// twice is an error, since only one of the two could apply.
fn insert_thresholds(
    options: &mut crate::verdict::VerdictOptions,
    flags: &[String],
) -> Result<(), Failure> {
    let mut given: std::collections::BTreeMap<crate::metric::Metric, &str> = Default::default();
    for t in flags {
        let (metric, threshold) = crate::verdict::parse_threshold(t).map_err(Failure::usage)?;
        if let Some(first) = given.insert(metric, t) {
            return Err(Failure::usage(anyhow::anyhow!(
                "--threshold {t:?}: {metric} already has a threshold (--threshold {first:?})\n  hint: give each metric one --threshold"
            )));
        }
        options.thresholds.insert(metric, threshold);
    }
    Ok(())
}

/// Builds the tokio runtime only for commands that drive browsers.
fn with_runtime<F, Fut>(f: F) -> Result<u8, Failure>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<u8, Failure>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::infra(anyhow::anyhow!("cannot start the async runtime: {e}")))?;
    rt.block_on(f())
}
