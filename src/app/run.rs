//! `rumcheck run` and `rumcheck demo`: flags → validated options → gate →
//! summary, verdict table → exit code.

use crate::browser::{BrowserError, BrowserOptions};
use crate::cli::run::{BrowserArgs, DemoArgs, GateArgs, ReportArgs, RunArgs};
use crate::demo::DemoKnobs;
use crate::exit::Failure;
use crate::gate::LiveReports;
use crate::gate::{Gate, GateError, GateOutcome, Runs};
use crate::output::inert;
use crate::report::{ReportManager, github};
use crate::run::{self, RunError, RunOptions, Shard, ShardError};
use crate::scenario;
use crate::verdict::VerdictOptions;
use std::path::Path;

impl RunOptions {
    /// Validates the browser and output flags.
    pub fn from_cli_arguments(args: &BrowserArgs) -> Result<Self, Failure> {
        let webdriver = args
            .webdriver
            .as_deref()
            .map(|u| {
                url::Url::parse(u).map_err(|e| BrowserError::BadUrl {
                    url: u.to_string(),
                    reason: e.to_string(),
                })
            })
            .transpose()
            .map_err(Failure::usage)?;
        if let Some(bad) = args.browser_arg.iter().find(|a| !a.starts_with("--")) {
            return Err(Failure::usage(anyhow::anyhow!(
                "--browser-arg {bad:?}: expected a browser switch starting with `--`\n  hint: write it as --browser-arg=--no-sandbox"
            )));
        }
        let proxy_listen = args
            .proxy_listen
            .as_deref()
            .map(|a| {
                a.parse::<std::net::IpAddr>().map_err(|_| {
                    Failure::usage(anyhow::anyhow!(
                        "--proxy-listen {a:?}: expected an IP address to bind, e.g. 0.0.0.0 or 10.0.0.5\n  hint: give the host name nodes use with --proxy-advertise"
                    ))
                })
            })
            .transpose()?;
        let proxy = crate::throttle::proxy::Listen {
            bind: proxy_listen,
            advertise: args.proxy_advertise.clone(),
        };
        if let Some(host) = &proxy.advertise {
            if host.is_empty()
                || host
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '/')
            {
                return Err(Failure::usage(anyhow::anyhow!(
                    "--proxy-advertise {host:?}: expected a host name or IP address, e.g. rumcheck.ci.internal or 10.0.0.5"
                )));
            }
        }
        proxy.validate().map_err(Failure::usage)?;
        let concurrency = args.concurrency.unwrap_or_else(run::default_concurrency);
        if !(1..=run::MAX_CONCURRENCY).contains(&concurrency) {
            return Err(Failure::usage(RunError::Concurrency(concurrency)));
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if concurrency > cores {
            eprintln!(
                "warning: --concurrency {concurrency} exceeds the {cores} CPU cores; concurrent browsers compete for CPU and inflate the spread of timings",
            );
        }
        Ok(RunOptions {
            browser: BrowserOptions {
                webdriver,
                chromedriver: args.chromedriver.clone(),
                browser: args.browser.clone(),
                browser_args: args.browser_arg.clone(),
                proxy_listen: proxy.bind,
                proxy_advertise: proxy.advertise,
            },
            concurrency,
            out_dir: args.out.clone(),
            quiet: args.quiet,
        })
    }
}

impl VerdictOptions {
    /// Validates `--alpha` and `--threshold`.
    pub fn from_cli_arguments(args: &GateArgs) -> Result<Self, Failure> {
        let mut options = VerdictOptions {
            alpha: args.alpha,
            ..VerdictOptions::default()
        };
        super::insert_thresholds(&mut options, &args.threshold)?;
        options.validate().map_err(Failure::usage)?;
        Ok(options)
    }
}

fn parse_runs(text: &str, cap: u32) -> Result<Runs, Failure> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(Runs::Auto { cap });
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Runs::Fixed(n)),
        _ => Err(Failure::usage(anyhow::anyhow!(
            "--runs {text:?}: expected a number of visits (at least 1) or `auto`"
        ))),
    }
}

/// Validates the report paths before any browser starts.
pub(crate) fn report_manager(args: &ReportArgs) -> Result<ReportManager, Failure> {
    ReportManager::from_cli_arguments(
        args.json.as_deref(),
        args.junit.as_deref(),
        args.markdown.as_deref(),
        args.html.as_deref(),
    )
    .map_err(Failure::usage)
}

/// Runs the gate with live reports; a report that could not be written is exit 2.
async fn run_gate(gate: Gate, manager: ReportManager) -> Result<GateOutcome, Failure> {
    let reports = LiveReports::new(manager);
    let outcome = gate
        .on_batch(reports.observer())
        .run()
        .await
        .map_err(gate_failure)?;
    if let Some(e) = reports.take_error() {
        return Err(Failure::usage(e));
    }
    Ok(outcome)
}

fn gate_failure(e: GateError) -> Failure {
    Failure::of_kind(e.kind(), e)
}

/// `rumcheck run SCENARIO`.
pub async fn run(args: RunArgs) -> Result<u8, Failure> {
    let mut scenario = scenario::load(&args.scenario).map_err(Failure::usage)?;
    if let Some(base) = &args.base_url {
        scenario.override_base_url(base).map_err(Failure::usage)?;
    }
    let cap = scenario
        .scenario
        .max_runs
        .unwrap_or(scenario.scenario.runs.max(40));
    let runs = args
        .runs
        .as_deref()
        .map(|r| parse_runs(r, cap))
        .transpose()?;
    if let Some(Runs::Fixed(n)) = runs {
        // Reports state the run count actually used.
        scenario.override_runs(n).map_err(Failure::usage)?;
    }
    let shard = args
        .shard
        .as_deref()
        .map(|s| s.parse::<Shard>().map_err(Failure::usage))
        .transpose()?;
    if shard.is_some() && matches!(runs, Some(Runs::Auto { .. })) {
        return Err(Failure::usage(ShardError::Adaptive));
    }
    let verdict = VerdictOptions::from_cli_arguments(&args.gate)?;
    let opts = RunOptions::from_cli_arguments(&args.browser)?;
    let manager = report_manager(&args.reports)?;
    refuse_overwriting_inputs(&args, &manager, &opts)?;
    let quiet = opts.quiet;
    let mut gate = Gate::from_scenario(scenario)
        .verdict_options(verdict)
        .run_options(opts);
    if let Some(b) = &args.baseline {
        gate = gate.baseline(b);
    }
    if let Some(r) = &args.reference_samples {
        gate = gate.reference_samples(r);
    }
    if let Some(c) = &args.calibration {
        gate = gate.calibration(c);
    }
    if let Some(u) = &args.reference_url {
        gate = gate.reference_url(u);
    }
    if let Some(r) = runs {
        gate = gate.runs(r);
    }
    if let Some(s) = shard {
        gate = gate.shard(s);
    }
    if !quiet {
        announce(&gate, shard);
    }
    let outcome = run_gate(gate, manager).await?;
    let code = finish(&outcome);
    if let Some(s) = shard {
        println!(
            "shard {s}: measured, not judged; pass the samples files of all {} shards to `rumcheck compare` to judge them as one gate",
            s.of
        );
    }
    Ok(code)
}

/// No output of the run may be one of its inputs, or another output:
/// reports and `--out DIR/samples.ndjson` (and the earlier samples kept
/// beside it) against every input file and each other.
fn refuse_overwriting_inputs(
    args: &RunArgs,
    manager: &ReportManager,
    opts: &RunOptions,
) -> Result<(), Failure> {
    let mut inputs: Vec<(&str, &Path)> = vec![("SCENARIO", &args.scenario)];
    for (flag, path) in [
        ("--baseline", &args.baseline),
        ("--reference-samples", &args.reference_samples),
        ("--calibration", &args.calibration),
    ] {
        if let Some(p) = path {
            inputs.push((flag, p));
        }
    }
    let samples = opts.out_dir.join("samples.ndjson");
    let previous = opts.out_dir.join("samples.previous.ndjson");
    manager
        .refuse_inputs(&inputs, &[("--out", &samples), ("--out", &previous)])
        .map_err(Failure::usage)
}

fn announce(gate: &Gate, shard: Option<Shard>) {
    let s = gate.scenario();
    eprintln!(
        "rumcheck: {} — {} page(s) × {} profile(s) on {}{}",
        inert::terminal(&s.scenario.name),
        s.scenario.pages.len(),
        s.scenario.profiles.len(),
        s.base_url,
        shard.map_or(String::new(), |s| format!(", shard {s}"))
    );
}

/// Prints the summary and the verdict, and returns the exit code.
fn finish(outcome: &GateOutcome) -> u8 {
    println!("{}", crate::report::summary::render(&outcome.samples));
    println!(
        "browser: {}\nsamples: {} ({} runs per page and profile)",
        outcome.browser,
        outcome.samples_path.display(),
        outcome.runs
    );
    if outcome.verdict.is_some() {
        if github::in_github_actions() {
            print!("{}", github::annotations(&outcome.results));
        }
        print!(
            "\n{}",
            crate::report::terminal::render(&outcome.results, crate::report::terminal::use_color())
        );
    }
    let missing = outcome.pages_without_valid_visit();
    if outcome.verdict.is_none() && !missing.is_empty() {
        eprintln!(
            "error: no valid visit of page(s) {}; see the failures above",
            inert::terminal(&missing.join(", "))
        );
    }
    let infrastructure = outcome.infrastructure_failures();
    if infrastructure > 0 {
        eprintln!(
            "error: {infrastructure} visit(s) failed for infrastructure reasons (browser or chromedriver gone, site unreachable, the watchdog), so this run is not a pass; see the failures above"
        );
    }
    outcome.exit_code()
}

/// `rumcheck demo`.
pub async fn demo(args: DemoArgs) -> Result<u8, Failure> {
    let knobs = DemoKnobs::parse(&args.regress).map_err(Failure::usage)?;
    let opts = RunOptions::from_cli_arguments(&args.browser)?;
    if !opts.quiet {
        eprintln!(
            "rumcheck demo: serving the demo shop twice on 127.0.0.1 (reference build, and the candidate{}) and gating the candidate",
            if knobs.is_baseline() {
                ""
            } else {
                " with --regress"
            }
        );
    }
    let manager = report_manager(&args.reports)?;
    let verdict = VerdictOptions::from_cli_arguments(&args.gate)?;
    let (gate, builds) =
        crate::demo::gate::prepare(knobs, args.runs, opts, args.calibration.clone())
            .await
            .map_err(gate_failure)?;
    let outcome = run_gate(gate.verdict_options(verdict), manager).await;
    builds.stop().await;
    let outcome = outcome?;
    Ok(finish(&outcome))
}
