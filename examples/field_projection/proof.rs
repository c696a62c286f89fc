//! The proof of the field projection, shared by the example program and its
//! CI test: a simulated field (real Chromium, web-vitals as the RUM agent,
//! conditions applied by `population.rs` through CDP, never by rumcheck's
//! proxy), imported as a RUM CSV export; `rumcheck calibrate` fitted to it
//! through the shaping proxy; gates that project a change onto it; and
//! resampled gates for the error rates.

#![allow(dead_code)] // Included by the example and the test binary, each using a part.

use crate::population::{FieldOptions, User, run_population, write_csv};
use crate::site::{Build, Site};
use rumcheck::baseline::{Baseline, Format, ImportOptions, Importer};
use rumcheck::calibrate::{self, CalibrateOptions, Fit};
use rumcheck::gate::{Gate, Runs};
use rumcheck::metric::Metric;
use rumcheck::run::RunOptions;
use rumcheck::sample::Sample;
use rumcheck::verdict::{self, Against, FieldBaseline, Inputs, Outcome, VerdictOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The metrics the proof follows (the ones a calibration fits).
pub const METRICS: [Metric; 3] = [Metric::Ttfb, Metric::Fcp, Metric::Lcp];

/// How big a proof to run.
#[derive(Debug, Clone)]
pub struct ProofOptions {
    /// Where CSVs, baseline, calibration and samples go.
    pub out: PathBuf,
    /// Calibration tiers.
    pub tiers: usize,
    /// Visits per calibration probe.
    pub probe_visits: usize,
    /// Calibration refine rounds.
    pub rounds: usize,
    /// Visits per build in each measured gate.
    pub runs: u32,
    /// Browsers at once in the lab (calibration and gates). The simulated
    /// field keeps its own [`FieldOptions`] default.
    pub concurrency: usize,
    /// Resampled gates per error-rate row (0: none).
    pub resampled_gates: usize,
    /// Print progress.
    pub verbose: bool,
}

/// What the proof measured.
#[derive(Debug, Clone)]
pub struct ProofReport {
    /// True field p75 per metric, production build.
    pub field_base: BTreeMap<Metric, f64>,
    /// True field p75 per metric after the change.
    pub field_changed: BTreeMap<Metric, f64>,
    /// Field visits per build that produced metrics.
    pub field_visits: usize,
    /// Seconds the simulated field took (both builds).
    pub field_secs: f64,
    /// The calibration's fit per metric (one page, one profile).
    pub fit: BTreeMap<Metric, Fit>,
    /// Calibration visits and seconds.
    pub calibration_visits: usize,
    /// Wall time of the calibration.
    pub calibration_secs: f64,
    /// Projected p75 after the change per metric: (projected, lower, upper).
    pub projected: BTreeMap<Metric, (f64, f64, f64)>,
    /// Outcome of the projected rows in the measured change gate.
    pub change_outcomes: BTreeMap<Metric, Outcome>,
    /// Whether the measured A/A gate regressed anywhere.
    pub aa_regressed: bool,
    /// Visits and seconds of the two measured gates.
    pub gate_visits: usize,
    /// Wall time of the two measured gates.
    pub gate_secs: f64,
    /// Error rates of gates resampled from the measured visits.
    pub rates: Option<ErrorRates>,
}

/// Error rates of gates resampled from measured visits.
#[derive(Debug, Clone)]
pub struct ErrorRates {
    /// Gates resampled per row.
    pub gates: usize,
    /// Visits per tier and build in each gate.
    pub per_tier: usize,
    /// Share of no-change gates with any regressed row (lab or projected).
    pub false_alarm: f64,
    /// Per metric: share of change gates whose projected row regressed.
    pub caught: BTreeMap<Metric, f64>,
}

/// Resamples `gates` gates of `runs` visits per build (spread over the
/// tiers) from what the proof wrote into `dir`: its baseline, calibration
/// and the two measured gates' samples. The A/A gates draw the candidate
/// from the no-change gate's candidate visits; the change gates from the
/// change gate's; both draw the reference from both gates' reference visits.
pub fn error_rates(dir: &Path, runs: usize, gates: usize) -> anyhow::Result<ErrorRates> {
    let baseline = rumcheck::baseline::read_baseline(&dir.join("baseline.json"))?;
    let cal = rumcheck::calibrate::CalibrationFile::read(&dir.join("calibration.json"))?;
    let layout = cal
        .entries
        .first()
        .ok_or_else(|| anyhow::anyhow!("the calibration has no entry"))?
        .layout();
    let change = rumcheck::sample::read_samples(&dir.join("gate-change/samples.ndjson"))?;
    let same = rumcheck::sample::read_samples(&dir.join("gate-aa/samples.ndjson"))?;
    let of = |s: &[Sample], variant: &str| -> Vec<Sample> {
        s.iter()
            .filter(|x| x.variant.as_str() == variant)
            .cloned()
            .collect()
    };
    let mut reference = of(&change, "reference");
    reference.extend(of(&same, "reference"));
    let per_tier = (runs / layout.len()).max(1);
    let aa = resampled(
        &of(&same, "candidate"),
        &reference,
        &baseline,
        &layout,
        per_tier,
        gates,
        11,
    );
    let ch = resampled(
        &of(&change, "candidate"),
        &reference,
        &baseline,
        &layout,
        per_tier,
        gates,
        12,
    );
    Ok(ErrorRates {
        gates,
        per_tier,
        false_alarm: aa.any,
        caught: ch.projected,
    })
}

fn log(verbose: bool, msg: &str) {
    if verbose {
        eprintln!("proof: {msg}");
    }
}

/// Runs the whole proof for `users` (the same users visit both builds).
pub async fn run(
    users: &[User],
    change: Build,
    opts: &ProofOptions,
) -> anyhow::Result<ProofReport> {
    std::fs::create_dir_all(&opts.out)?;
    let base = Site::start(Build::Base).await?;
    let changed = Site::start(change).await?;

    // 1. The true field, before and after the change.
    let field_opts = FieldOptions::default();
    let t = Instant::now();
    log(
        opts.verbose,
        &format!("simulating the field: {} users × 2 builds", users.len()),
    );
    let before = run_population(&base.base_url(), users, &field_opts).await?;
    let after = run_population(&changed.base_url(), users, &field_opts).await?;
    let field_secs = t.elapsed().as_secs_f64();
    let csv = opts.out.join("field-base.csv");
    let csv_changed = opts.out.join("field-changed.csv");
    write_csv(&csv, &before, "base")?;
    write_csv(&csv_changed, &after, "changed")?;

    // 2. The RUM export becomes the baseline. The true p75s, before and
    //    after, are read the same way (the imported sketch's p75), so they
    //    share the projection's quantile definition.
    let baseline = import(&csv)?;
    let baseline_path = opts.out.join("baseline.json");
    std::fs::write(&baseline_path, serde_json::to_vec_pretty(&baseline)?)?;
    let p75 = |b: &Baseline| -> BTreeMap<Metric, f64> {
        METRICS
            .iter()
            .filter_map(|m| {
                let seg = b.segments.iter().find(|s| {
                    s.page == "/" && s.segment.form_factor.as_deref() == Some("desktop")
                })?;
                seg.metrics.get(m)?.p75.map(|q| (*m, q))
            })
            .collect()
    };
    let (field_base, field_changed) = (p75(&baseline), p75(&import(&csv_changed)?));

    // 3. Calibrate the production build through rumcheck's proxy.
    let run_opts = RunOptions {
        browser: Default::default(),
        concurrency: opts.concurrency,
        out_dir: opts.out.clone(),
        quiet: !opts.verbose,
    };
    let scenario = scenario(&base.base_url(), opts.runs)?;
    let mut c = CalibrateOptions::new(run_opts.clone(), &baseline_path.display().to_string());
    c.tiers = opts.tiers;
    c.visits = opts.probe_visits;
    c.rounds = opts.rounds;
    c.host_probe = false;
    let t = Instant::now();
    log(opts.verbose, "calibrating");
    let cal = calibrate::calibrate(&scenario, &baseline, &c).await?;
    let calibration_secs = t.elapsed().as_secs_f64();
    if opts.verbose {
        eprint!("{}", calibrate::render(&cal));
    }
    let cal_path = opts.out.join("calibration.json");
    std::fs::write(&cal_path, serde_json::to_vec_pretty(&cal)?)?;
    let entry = cal
        .entries
        .first()
        .ok_or_else(|| anyhow::anyhow!("the calibration has no entry"))?;

    // 4. Measured gates: the change, and no change (A/A).
    let t = Instant::now();
    let gate = |candidate: String, dir: &str| {
        let mut s = scenario.clone();
        let _ = s.override_base_url(&candidate);
        Gate::from_scenario(s)
            .baseline(&baseline_path)
            .reference_url(base.base_url())
            .calibration(&cal_path)
            .runs(Runs::Fixed(opts.runs))
            .run_options(RunOptions {
                out_dir: opts.out.join(dir),
                ..run_opts.clone()
            })
    };
    log(opts.verbose, "gate: the change");
    let with_change = gate(changed.base_url(), "gate-change").run().await?;
    log(opts.verbose, "gate: no change (A/A)");
    let aa = gate(base.base_url(), "gate-aa").run().await?;
    let gate_secs = t.elapsed().as_secs_f64();
    let projected_rows = |g: &rumcheck::gate::GateOutcome| {
        g.verdict
            .iter()
            .flat_map(|v| v.comparisons.iter())
            .filter(|c| c.against == Against::ProjectedField)
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut projected = BTreeMap::new();
    let mut change_outcomes = BTreeMap::new();
    for c in projected_rows(&with_change) {
        if let Some(p) = &c.projection {
            let p = &p.projection;
            projected.insert(
                c.metric,
                (p.projected_p75, p.interval.lower, p.interval.upper),
            );
        }
        change_outcomes.insert(c.metric, c.outcome);
    }
    let aa_regressed = aa.verdict.as_ref().is_some_and(|v| {
        v.comparisons
            .iter()
            .any(|c| c.outcome == Outcome::Regressed)
    });

    // 5. Resampled gates from the measured visits (error rates).
    let rates = (opts.resampled_gates > 0)
        .then(|| error_rates(&opts.out, opts.runs as usize, opts.resampled_gates))
        .transpose()?;
    drop(base);
    drop(changed);
    Ok(ProofReport {
        field_visits: before.iter().filter(|v| v.vitals().is_some()).count(),
        field_base,
        field_changed,
        field_secs,
        fit: entry.fit.clone(),
        calibration_visits: entry.visits,
        calibration_secs,
        projected,
        change_outcomes,
        aa_regressed,
        gate_visits: with_change.samples.len() + aa.samples.len(),
        gate_secs,
        rates,
    })
}

/// `rumcheck baseline import FILE --format csv --min-segment 10`, in
/// process (the CI test's field has 24 users, under the default 30).
pub fn import(csv: &Path) -> anyhow::Result<Baseline> {
    let mut options = ImportOptions::new(Format::Csv);
    options.min_segment = 10;
    let mut importer = Importer::new(options);
    importer.read(&csv.display().to_string(), std::fs::File::open(csv)?)?;
    Ok(importer.finish()?)
}

/// One page, one desktop profile standing for the desktop segment. The
/// visit waits for the hero image, as the field's visits do.
pub fn scenario(base_url: &str, runs: u32) -> anyhow::Result<rumcheck::scenario::LoadedScenario> {
    let toml = format!(
        r#"name = "field-proof"
base_url = "{base_url}"
runs = {runs}
viewport = {{ width = 1280, height = 800 }}

[[profile]]
name = "desktop"
segment = {{ form_factor = "desktop" }}

[[page]]
name = "home"
path = "/"
field_page = "/"
steps = [ {{ wait_for = "img.hero[data-loaded]" }} ]
"#
    );
    Ok(rumcheck::scenario::parse(
        &toml,
        Path::new("field-proof.toml"),
    )?)
}

/// Shares of resampled gates with a regressed row: any row, and per metric
/// the projected row.
struct Hits {
    any: f64,
    projected: BTreeMap<Metric, f64>,
}

/// Each gate draws `per_tier` visits per tier and build with replacement
/// from the measured visits and is judged like a real one.
fn resampled(
    candidate: &[Sample],
    reference: &[Sample],
    baseline: &Baseline,
    layout: &[rumcheck::projection::TierLayout],
    per_tier: usize,
    gates: usize,
    seed: u64,
) -> Hits {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    let pools = |s: &[Sample]| -> Vec<Vec<Sample>> {
        (0..layout.len())
            .map(|k| {
                s.iter()
                    .filter(|x| x.ok && x.tier == Some(k as u32))
                    .cloned()
                    .collect()
            })
            .collect()
    };
    let (cp, rp) = (pools(candidate), pools(reference));
    let calibrated: BTreeMap<(String, String), Vec<_>> =
        [(("desktop".to_string(), "home".to_string()), layout.to_vec())]
            .into_iter()
            .collect();
    let segments: BTreeMap<String, rumcheck::segment::SegmentKey> = [(
        "desktop".to_string(),
        rumcheck::segment::SegmentKey {
            form_factor: Some("desktop".into()),
            ..Default::default()
        },
    )]
    .into_iter()
    .collect();
    let pages: BTreeMap<String, String> = [("home".to_string(), "/".to_string())]
        .into_iter()
        .collect();
    let options = VerdictOptions {
        metrics: METRICS.to_vec(),
        ..VerdictOptions::default()
    };
    let mut any = 0;
    let mut projected: BTreeMap<Metric, usize> = METRICS.iter().map(|m| (*m, 0)).collect();
    for _ in 0..gates {
        let mut draw = |pools: &[Vec<Sample>], variant: &str| -> Vec<Sample> {
            let mut out = Vec::new();
            for pool in pools.iter().filter(|p| !p.is_empty()) {
                for _ in 0..per_tier {
                    let mut s = pool[rng.random_range(0..pool.len())].clone();
                    s.variant = variant.into();
                    out.push(s);
                }
            }
            out
        };
        let mut samples = draw(&cp, "candidate");
        samples.extend(draw(&rp, "reference"));
        let g = verdict::judge(
            &Inputs {
                candidate: &samples,
                reference: None,
                field: Some(FieldBaseline {
                    baseline,
                    segments: &segments,
                    pages: &pages,
                    calibrated: Some(&calibrated),
                }),
            },
            &options,
        );
        let regressed = g
            .comparisons
            .iter()
            .filter(|c| c.outcome == Outcome::Regressed);
        let mut hit = false;
        for c in regressed {
            hit = true;
            if c.against == Against::ProjectedField {
                *projected.entry(c.metric).or_default() += 1;
            }
        }
        any += usize::from(hit);
    }
    let share = |n: usize| n as f64 / gates.max(1) as f64;
    Hits {
        any: share(any),
        projected: projected.into_iter().map(|(m, n)| (m, share(n))).collect(),
    }
}
