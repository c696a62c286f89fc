//! `rumcheck compare`: validated options → read files → verdict → table → exit code.

use crate::cli::compare::CompareArgs;
use crate::exit::Failure;
use crate::metric::Metric;
use crate::report::{
    Environment, ProfileInfo, ReportInput, Results, RunMeta, ScenarioInfo, github, terminal,
};
use crate::run::shard::{ShardSet, combine};
use crate::sample::{Sample, Variant, read_samples};
use crate::segment::SegmentKey;
use crate::verdict::{self, FieldBaseline, Inputs, VerdictOptions};
use anyhow::anyhow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `compare`'s arguments, checked.
#[derive(Debug)]
pub struct CompareOptions {
    /// Candidate samples files (shards, or runs pooled).
    pub candidate: Vec<PathBuf>,
    /// Reference samples files.
    pub reference: Vec<PathBuf>,
    /// Judge an incomplete set of shards (with a warning) instead of refusing it.
    pub allow_missing_shards: bool,
    /// Baseline file.
    pub baseline: Option<PathBuf>,
    /// Profile → field segment.
    pub segments: BTreeMap<String, SegmentKey>,
    /// Sample page → baseline page key.
    pub pages: BTreeMap<String, String>,
    /// The verdict's options.
    pub verdict: VerdictOptions,
    /// Calibrated (profile, page) → tiers (`--calibration`): field rows are projected.
    pub calibrated: BTreeMap<(String, String), Vec<crate::projection::TierLayout>>,
}

impl CompareOptions {
    /// Validates every flag before any file is read.
    pub fn from_cli_arguments(args: &CompareArgs) -> Result<Self, Failure> {
        let mut verdict = VerdictOptions {
            alpha: args.alpha,
            min_valid: args.min_valid,
            field_tolerance: args.field_tolerance,
            ..VerdictOptions::default()
        };
        super::insert_thresholds(&mut verdict, &args.threshold)?;
        if !args.metrics.is_empty() {
            // An explicit list is the whole list.
            verdict.server_metrics = false;
            verdict.metrics = args
                .metrics
                .iter()
                .map(|m| {
                    Metric::parse_lab(m).map_err(|e| Failure::usage(anyhow!("--metrics: {e}")))
                })
                .collect::<Result<_, _>>()?;
        }
        verdict.validate().map_err(Failure::usage)?;
        let mut segments = BTreeMap::new();
        let mut pages = BTreeMap::new();
        if let Some(path) = &args.scenario {
            let scenario = crate::scenario::load(path).map_err(Failure::usage)?;
            for p in &scenario.scenario.profiles {
                segments.insert(p.name.clone(), p.segment.clone());
            }
            pages = crate::gate::field_pages(&scenario);
        }
        for s in &args.segment {
            let (profile, key) = parse_segment(s).map_err(Failure::usage)?;
            segments.insert(profile, key);
        }
        let mut calibrated = BTreeMap::new();
        if args.calibration.is_some() && args.baseline.is_none() {
            return Err(Failure::usage(anyhow!(
                "--calibration needs the baseline it was fitted to\n  hint: add --baseline B.json (the file given to `rumcheck calibrate`)"
            )));
        }
        if let Some(path) = &args.calibration {
            let file = crate::calibrate::CalibrationFile::read(path).map_err(Failure::usage)?;
            for e in &file.entries {
                calibrated.insert((e.profile.clone(), e.page.clone()), e.layout());
            }
        }
        Ok(CompareOptions {
            calibrated,
            candidate: args.candidate.clone(),
            reference: args.reference.clone(),
            allow_missing_shards: args.allow_missing_shards,
            baseline: args.baseline.clone(),
            pages,
            segments,
            verdict,
        })
    }
}

fn parse_segment(text: &str) -> anyhow::Result<(String, SegmentKey)> {
    use crate::throttle::profile::{CONNECTIONS, FORM_FACTORS};
    let hint = "write PROFILE=FORM_FACTOR[/CONNECTION], e.g. mobile=phone/4g";
    let (profile, rest) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("invalid --segment '{text}': missing '='; {hint}"))?;
    let mut parts = rest.split('/').map(str::trim);
    let form_factor = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    let connection = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    if parts.next().is_some() || profile.trim().is_empty() {
        return Err(anyhow!("invalid --segment '{text}'; {hint}"));
    }
    // Baselines only hold these values; any other never matches a segment.
    for (what, value, valid) in [
        ("form factor", &form_factor, FORM_FACTORS),
        ("connection", &connection, CONNECTIONS),
    ] {
        if let Some(v) = value
            && !valid.split(", ").any(|x| x.eq_ignore_ascii_case(v))
        {
            return Err(anyhow!(
                "invalid --segment '{text}': {what} '{v}' is not one of {valid}; {hint}"
            ));
        }
    }
    Ok((
        profile.trim().to_string(),
        SegmentKey {
            form_factor: form_factor.map(|v| v.to_ascii_lowercase()),
            connection: connection.map(|v| v.to_ascii_lowercase()),
            ..SegmentKey::default()
        },
    ))
}

/// Runs `rumcheck compare`.
pub fn main(args: CompareArgs) -> Result<u8, Failure> {
    let options = CompareOptions::from_cli_arguments(&args)?;
    let manager = super::run::report_manager(&args.reports)?;
    let mut inputs: Vec<(&str, &Path)> = options
        .candidate
        .iter()
        .map(|p| ("CANDIDATE", p.as_path()))
        .collect();
    inputs.extend(
        options
            .reference
            .iter()
            .map(|p| ("--reference", p.as_path())),
    );
    for (flag, path) in [
        ("--baseline", &options.baseline),
        ("--scenario", &args.scenario),
        ("--calibration", &args.calibration),
    ] {
        if let Some(p) = path {
            inputs.push((flag, p));
        }
    }
    manager
        .refuse_inputs(&inputs, &[])
        .map_err(Failure::usage)?;
    let mut notes = Vec::new();
    let (candidate, shards) = read_group("candidate", &options.candidate, &options, &mut notes)?;
    if candidate.is_empty() {
        return Err(Failure::usage(anyhow!(
            "{} contain(s) no samples\n  hint: record some with `rumcheck run`",
            quoted(&options.candidate)
        )));
    }
    if options.reference.is_empty()
        && options.baseline.is_none()
        && !candidate.iter().any(|s| s.variant == Variant::Reference)
    {
        return Err(Failure::usage(anyhow!(
            "nothing to compare {} with: pass --reference REF.ndjson or --baseline BASELINE.json\n  hint: or record reference visits (variant \"reference\") in the same file",
            quoted(&options.candidate)
        )));
    }
    let reference = if options.reference.is_empty() {
        None
    } else {
        Some(read_group("reference", &options.reference, &options, &mut notes)?.0)
    };
    let baseline = match &options.baseline {
        Some(p) => Some(crate::baseline::read_baseline(p).map_err(Failure::usage)?),
        None => None,
    };
    let inputs = Inputs {
        candidate: &candidate,
        reference: reference.as_deref(),
        field: baseline.as_ref().map(|b| FieldBaseline {
            baseline: b,
            segments: &options.segments,
            pages: &options.pages,
            calibrated: Some(&options.calibrated),
        }),
    };
    let mut gate = verdict::judge(&inputs, &options.verdict);
    gate.notes.extend(notes);
    let mut results = results_document(&options, shards.as_ref(), &candidate, &gate);
    if let (Some(v), Some(reference)) = (results.verdict.as_mut(), reference.as_deref()) {
        v.diagnose(&candidate, reference);
    }
    let input = ReportInput::new(&results, &candidate)
        .with_reference(reference.as_deref().unwrap_or_default())
        .with_baseline(baseline.as_ref());
    manager.write_all(&input).map_err(Failure::usage)?;
    github::step_summary(&results).map_err(Failure::usage)?;
    if github::in_github_actions() {
        print!("{}", github::annotations(&results));
    }
    print!("{}", terminal::render(&results, terminal::use_color()));
    // The document's code: a pass with visits lost to the infrastructure is 3.
    Ok(results
        .verdict
        .as_ref()
        .map_or(crate::exit::of_status(gate.status), |v| v.exit_code))
}

/// The results document of an offline comparison: what the samples tell
/// about the run they came from.
fn results_document(
    options: &CompareOptions,
    shards: Option<&ShardSet>,
    candidate: &[crate::sample::Sample],
    gate: &verdict::GateResult,
) -> Results {
    let mut pages: Vec<String> = candidate.iter().map(|s| s.page.clone()).collect();
    pages.sort();
    pages.dedup();
    let mut profiles: Vec<String> = candidate.iter().map(|s| s.profile.clone()).collect();
    profiles.sort();
    profiles.dedup();
    let meta = RunMeta {
        scenario: ScenarioInfo {
            name: shards.map_or_else(
                || {
                    let names: Vec<String> = options
                        .candidate
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    names.join(", ")
                },
                |s| s.scenario.clone(),
            ),
            base_url: String::new(),
            runs: candidate.iter().map(|s| s.run + 1).max().unwrap_or(0),
            pages,
        },
        profiles: profiles
            .into_iter()
            .map(|name| ProfileInfo {
                segment: options.segments.get(&name).cloned().unwrap_or_default(),
                name,
            })
            .collect(),
        environment: Environment::detect(
            candidate
                .iter()
                .find(|s| !s.browser.is_empty())
                .map_or("", |s| s.browser.as_str()),
        ),
    };
    Results::new(meta, candidate, Some(gate))
}

/// The files of one side (candidate or reference) as one set of samples:
/// shards of one plan put back together, refused when they do not add up;
/// missing shards refused unless `--allow-missing-shards` (then a warning
/// and a note in the reports).
fn read_group(
    side: &str,
    files: &[PathBuf],
    options: &CompareOptions,
    notes: &mut Vec<String>,
) -> Result<(Vec<Sample>, Option<ShardSet>), Failure> {
    let read: Vec<Vec<Sample>> = files
        .iter()
        .map(|p| read_samples(p).map_err(Failure::usage))
        .collect::<Result<_, _>>()?;
    let pairs: Vec<(&Path, &[Sample])> = files
        .iter()
        .zip(&read)
        .map(|(p, s)| (p.as_path(), s.as_slice()))
        .collect();
    let set = combine(&pairs).map_err(Failure::usage)?;
    if let Some(set) = &set {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        if let Some(missing) = set.missing_error(&paths) {
            if !options.allow_missing_shards {
                return Err(Failure::usage(missing));
            }
            eprintln!(
                "warning: {}",
                crate::output::inert::message(&missing.to_string())
            );
            notes.push(format!(
                "{side}: incomplete shards: {} missing; the visits of those shards are not judged",
                set.missing()
                    .iter()
                    .map(|k| format!("{k}/{}", set.of))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        notes.push(format!("{side}: {}", set.describe()));
    }
    Ok((read.into_iter().flatten().collect(), set))
}

/// `'a', 'b'` for messages.
fn quoted(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
