//! `rumcheck baseline …`: validated options → library → print → exit code.

use crate::baseline::{self, ImportOptions};
use crate::cli::baseline::{BaselineCommand, ImportArgs, MergeArgs, ShowArgs};
use crate::exit::{Failure, PASS};

/// Runs one `baseline` subcommand.
pub fn main(cmd: BaselineCommand) -> Result<u8, Failure> {
    match cmd {
        BaselineCommand::Import(args) => import(args),
        BaselineCommand::Show(args) => show(args),
        BaselineCommand::Merge(args) => merge(args),
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
    opts.threads = args.threads;
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
        eprintln!(
            "rejected: {}",
            baseline::rejection_summary(&b.provenance.sources)
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
    let mut parts = Vec::new();
    for f in &args.files {
        parts.push(baseline::read_baseline(f).map_err(Failure::usage)?);
    }
    let names: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let merged = baseline::merge(&parts, &names).map_err(Failure::usage)?;
    baseline::write_baseline(&args.output, &merged).map_err(Failure::usage)?;
    eprintln!(
        "merged {} baselines into {} page × segment entries -> {}",
        parts.len(),
        merged.segments.len(),
        args.output.display()
    );
    Ok(PASS)
}
