//! `rumcheck baseline …`: validated options → library → print → exit code.

use crate::baseline::{self, ImportOptions};
use crate::baseline::{
    ApiKey, FetchError, FetchOptions, Fetched, FormFactor, Target, fetch_crux as fetch_from_crux,
    parse_crux_endpoint,
};
use crate::cli::baseline::{BaselineCommand, FetchCruxArgs, ImportArgs, MergeArgs, ShowArgs};
use crate::exit::{Failure, PASS};
use crate::output::inert;
use crate::output::{OutputTarget, refuse_overwriting_inputs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs one `baseline` subcommand.
pub fn main(cmd: BaselineCommand) -> Result<u8, Failure> {
    match cmd {
        BaselineCommand::Import(args) => import(args),
        BaselineCommand::Show(args) => show(args),
        BaselineCommand::Merge(args) => merge(args),
        BaselineCommand::FetchCrux(args) => fetch_crux(args),
    }
}

fn import(args: ImportArgs) -> Result<u8, Failure> {
    let mut opts = ImportOptions::from_flags(
        &args.format,
        &args.map,
        &args.segment_by,
        &args.page_by,
        &args.apdex_t,
        args.min_segment,
        args.strict,
    )
    .map_err(Failure::usage)?;
    opts.set_threads(args.threads).map_err(Failure::usage)?;
    opts.set_bounds(args.max_pages, args.max_line_bytes)
        .map_err(Failure::usage)?;
    check_output(&args.output, &args.files)?;
    opts.keep_path_segments =
        crate::segment::KeepSegments::new(&args.keep_path_segment).map_err(Failure::usage)?;
    let b = baseline::import_files(&args.files, &opts).map_err(Failure::usage)?;
    baseline::write_baseline(&args.output, &b).map_err(Failure::usage)?;
    let (read, accepted) = b
        .provenance
        .sources
        .iter()
        .fold((0, 0), |(r, a), s| (r + s.rows_read, a + s.rows_accepted));
    let small = b.segments.iter().filter(|s| s.too_small).count();
    eprintln!(
        "imported {accepted} of {read} rows into {} page × segment entries ({small} too small to compare) -> {}",
        b.segments.len(),
        args.output.display()
    );
    if b.provenance.sources.iter().any(|s| !s.rejected.is_empty()) {
        // Rejection reasons quote the input's values: printed inert.
        eprintln!(
            "rejected: {}",
            inert::message(&baseline::rejection_summary(&b.provenance.sources))
        );
    }
    Ok(PASS)
}

fn show(args: ShowArgs) -> Result<u8, Failure> {
    let b = baseline::read_baseline(&args.file).map_err(Failure::usage)?;
    print!("{}", baseline::show(&b));
    Ok(PASS)
}

fn merge(args: MergeArgs) -> Result<u8, Failure> {
    check_output(&args.output, &args.files)?;
    let mut parts = Vec::new();
    for f in &args.files {
        parts.push(baseline::read_baseline(f).map_err(Failure::usage)?);
    }
    let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let merged =
        baseline::merge_with(&parts, &names, args.allow_duplicate).map_err(Failure::usage)?;
    baseline::write_baseline(&args.output, &merged).map_err(Failure::usage)?;
    eprintln!(
        "merged {} baselines into {} page × segment entries -> {}",
        parts.len(),
        merged.segments.len(),
        args.output.display()
    );
    Ok(PASS)
}

/// `-o` must be replaceable and none of the inputs, before any input is read.
fn check_output(output: &Path, inputs: &[PathBuf]) -> Result<(), Failure> {
    OutputTarget::check("-o", output).map_err(Failure::usage)?;
    let inputs: Vec<(&str, &Path)> = inputs.iter().map(|p| ("FILE", p.as_path())).collect();
    refuse_overwriting_inputs(&[("-o", output)], &inputs).map_err(Failure::usage)
}

fn fetch_failure(e: FetchError) -> Failure {
    if e.is_infra() {
        Failure::infra(e)
    } else {
        Failure::usage(e)
    }
}

/// Flags → validated [`FetchOptions`] (no network yet).
fn fetch_options(args: &FetchCruxArgs) -> Result<FetchOptions, FetchError> {
    let target = match (&args.origin, &args.url) {
        (Some(o), _) => Target::origin(o)?,
        (None, Some(u)) => Target::url(u)?,
        (None, None) => unreachable!("clap requires --origin or --url"),
    };
    let endpoint = parse_crux_endpoint(&args.endpoint)?;
    let key = ApiKey::new(args.key.as_deref())?;
    let mut opts = FetchOptions::new(target, key, endpoint);
    if let Some(ff) = &args.form_factor {
        opts.form_factors = vec![ff.parse::<FormFactor>()?];
    }
    opts.history = args.history;
    opts.retry.attempts = args.attempts.max(1);
    opts.retry.base = Duration::from_millis(args.retry_base_ms);
    opts.save_responses = args.save_responses.clone();
    Ok(opts)
}

fn fetch_crux(args: FetchCruxArgs) -> Result<u8, Failure> {
    let opts = fetch_options(&args).map_err(fetch_failure)?;
    check_output(&args.output, &[])?;
    super::with_runtime(|| async {
        let fetched = fetch_from_crux(&opts, &mut |msg: &str| eprintln!("{}", inert::message(msg)))
            .await
            .map_err(fetch_failure)?;
        report_fetch(&args, &opts, &fetched)
    })
}

fn report_fetch(
    args: &FetchCruxArgs,
    opts: &FetchOptions,
    fetched: &Fetched,
) -> Result<u8, Failure> {
    let b = &fetched.baseline;
    baseline::write_baseline(&args.output, b).map_err(Failure::usage)?;
    let names: Vec<String> = fetched.fetched.iter().map(|f| f.to_string()).collect();
    eprintln!(
        "fetched CrUX {} data for {} ({}) into {} page × segment entries -> {}",
        if opts.history { "history" } else { "28-day" },
        opts.target,
        names.join(", "),
        b.segments.len(),
        args.output.display()
    );
    if let Some(dir) = &opts.save_responses {
        eprintln!(
            "saved {} responses in {}; `rumcheck baseline import {}/*.json --format {}` rebuilds the baseline",
            fetched.saved.len(),
            dir.display(),
            dir.display(),
            opts.format()
        );
    }
    Ok(PASS)
}
