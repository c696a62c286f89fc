//! [`Gate::run`] as named steps: **prepare** (read every input and check it
//! before a browser starts), then per batch **plan** (which runs next),
//! **run** (visits, written to `samples.ndjson` as they arrive), **judge**
//! (the verdict so far, or a sequential look) and **notify** (the results
//! document to the batch observer, e.g. live report files).

use super::setup::{calibrated_layouts, calibration_notes, field_pages, setups};
use super::{BatchView, Gate, GateError, GateOutcome, Runs};
use crate::baseline::{Baseline, read_baseline};
use crate::calibrate::CalibrationFile;
use crate::projection::TierLayout;
use crate::report::{Environment, ProfileInfo, Results, RunMeta, ScenarioInfo};
use crate::run::shard::{Cells, fingerprint};
use crate::run::{Batch, Job, Runner, SampleSink, SessionSetup, plan::plan};
use crate::sample::{Sample, read_samples};
use crate::scenario::LoadedScenario;
use crate::segment::SegmentKey;
use crate::stats::SpendingPlan;
use crate::verdict::{self, FieldBaseline, GateResult, Inputs, sequential};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Runs per batch with a fixed run count (reports are rewritten after each).
const FIXED_BATCH: u32 = 5;

/// Everything a gate reads before it starts a browser.
struct Prepared {
    baseline: Option<Baseline>,
    reference: Option<Vec<Sample>>,
    calibrations: BTreeMap<String, CalibrationFile>,
    setups: Vec<Arc<SessionSetup>>,
    calibrated: BTreeMap<(String, String), Vec<TierLayout>>,
    segments: BTreeMap<String, SegmentKey>,
    pages: BTreeMap<String, String>,
    /// Whether there is anything to judge against.
    judged: bool,
    /// How jobs map to cells, for a shard.
    cells: Cells,
}

/// Which runs come next: fixed batches, or the looks of an adaptive plan.
struct Schedule {
    cap: u32,
    adaptive: Option<SpendingPlan>,
}

/// One batch's place in the schedule.
struct Slot {
    /// Runs done after this batch.
    target: u32,
    /// The adaptive look this batch ends at.
    look: Option<usize>,
}

impl Schedule {
    fn new(runs: Runs, alpha: f64) -> Result<Schedule, GateError> {
        Ok(match runs {
            Runs::Fixed(n) => Schedule {
                cap: n,
                adaptive: None,
            },
            Runs::Auto { cap } => Schedule {
                cap,
                adaptive: Some(
                    sequential::plan(alpha, cap as usize)
                        .map_err(|e| GateError::RunsAuto(e.to_string()))?,
                ),
            },
        })
    }

    /// The batch after `done` runs.
    fn next(&self, done: u32) -> Slot {
        match &self.adaptive {
            // Fixed runs go in batches too, so reports are rewritten as results arrive.
            None => Slot {
                target: (done + FIXED_BATCH).min(self.cap),
                look: None,
            },
            Some(plan) => {
                let look = plan
                    .looks
                    .iter()
                    .position(|&l| l as u32 > done)
                    .unwrap_or(plan.looks.len() - 1);
                Slot {
                    target: plan.looks[look] as u32,
                    look: Some(look),
                }
            }
        }
    }
}

impl Gate {
    /// Runs the scenario and judges it.
    pub async fn run(mut self) -> Result<GateOutcome, GateError> {
        let prepared = self.prepare()?;
        let runs = self
            .runs
            .unwrap_or(Runs::Fixed(self.scenario.scenario.runs));
        let schedule = Schedule::new(runs, self.verdict.alpha)?;
        let stamp = match (self.shard, runs) {
            (None, _) => None,
            (Some(_), Runs::Auto { .. }) => return Err(crate::run::ShardError::Adaptive.into()),
            (Some(shard), Runs::Fixed(n)) => {
                shard.check(&prepared.cells, n)?;
                Some(self.shard_stamp(&prepared, shard, n))
            }
        };
        let mut sink = SampleSink::create(&self.run.out_dir)?;
        if let Some(stamp) = stamp {
            sink.stamp_shard(stamp);
        }
        let runner = Runner::start(self.run.clone()).await?;
        let outcome = self.batches(&prepared, &schedule, &runner, &mut sink).await;
        runner.shutdown().await;
        outcome
    }

    /// Step 1: read and check every input.
    fn prepare(&self) -> Result<Prepared, GateError> {
        self.verdict.validate()?;
        let baseline = self.baseline.as_deref().map(read_baseline).transpose()?;
        let reference = self
            .reference_samples
            .as_deref()
            .map(read_samples)
            .transpose()?;
        let reference_url = self
            .reference_url
            .as_deref()
            .map(|u| match url::Url::parse(u) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                _ => Err(GateError::ReferenceUrl(u.to_string())),
            })
            .transpose()?;
        let calibrations = self.calibrations()?;
        if !calibrations.is_empty() && baseline.is_none() {
            return Err(GateError::CalibrationWithoutBaseline);
        }
        let setups = setups(&self.scenario, reference_url.as_ref(), &calibrations);
        Ok(Prepared {
            // A shard's share is judged with the other shards' (`compare`).
            judged: self.shard.is_none()
                && (baseline.is_some() || reference.is_some() || reference_url.is_some()),
            cells: Cells::new(self.scenario.scenario.pages.len(), &setups),
            setups,
            calibrated: calibrated_layouts(&calibrations),
            segments: self
                .scenario
                .scenario
                .profiles
                .iter()
                .map(|p| (p.name.clone(), p.segment.clone()))
                .collect(),
            pages: field_pages(&self.scenario),
            baseline,
            reference,
            calibrations,
        })
    }

    /// Steps 2–5, batch after batch, until the schedule or a sequential
    /// look says stop.
    async fn batches(
        &mut self,
        prepared: &Prepared,
        schedule: &Schedule,
        runner: &Runner,
        sink: &mut SampleSink,
    ) -> Result<GateOutcome, GateError> {
        let mut samples: Vec<Sample> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut done = 0u32;
        loop {
            let slot = schedule.next(done);
            let batch = self
                .run_batch(prepared, runner, sink, done, slot.target)
                .await?;
            samples.extend(batch.samples);
            done = slot.target;
            if notes.is_empty() {
                notes = calibration_notes(
                    &prepared.calibrations,
                    runner.browser_version(),
                    self.scenario.scenario.isolation,
                    runner.options().concurrency,
                );
            }
            if batch.interrupted {
                // What was measured still reaches the reports, marked
                // partial, with the verdict of the visits so far.
                let (verdict, _) = self.judge(prepared, &samples, schedule, None, false);
                let browser = runner.browser_version();
                self.notify(prepared, &samples, verdict.as_ref(), browser, false);
                return Err(GateError::Interrupted {
                    measured: samples.len(),
                    path: sink.path().to_path_buf(),
                });
            }
            let last = done >= schedule.cap;
            let (mut verdict, stop) = self.judge(prepared, &samples, schedule, slot.look, last);
            if let Some(v) = verdict.as_mut() {
                v.notes.extend(notes.iter().cloned());
            }
            let results = self.notify(
                prepared,
                &samples,
                verdict.as_ref(),
                runner.browser_version(),
                stop,
            );
            if stop {
                return Ok(GateOutcome {
                    samples,
                    verdict,
                    results,
                    runs: done,
                    browser: runner.browser_version().to_string(),
                    samples_path: sink.path().to_path_buf(),
                });
            }
        }
    }

    /// Step 2: the visits of runs `done..target`, every page and setup,
    /// interleaved.
    async fn run_batch(
        &self,
        prepared: &Prepared,
        runner: &Runner,
        sink: &mut SampleSink,
        done: u32,
        target: u32,
    ) -> Result<Batch, GateError> {
        let pages = self.scenario.scenario.pages.len();
        let mut jobs: Vec<Job> = plan(done..target, pages, &prepared.setups);
        if let Some(shard) = self.shard {
            jobs = shard.select(jobs, &prepared.cells);
        }
        Ok(runner.run_batch(&self.scenario, jobs, sink).await?)
    }

    /// What every sample of a shard records: the shard, the scenario and
    /// the plan's fingerprint.
    fn shard_stamp(
        &self,
        prepared: &Prepared,
        shard: crate::run::Shard,
        runs: u32,
    ) -> crate::sample::ShardStamp {
        let pages: Vec<(&str, &str)> = self
            .scenario
            .scenario
            .pages
            .iter()
            .map(|p| (p.name.as_str(), p.path.as_str()))
            .collect();
        let s = &self.scenario.scenario;
        let visits = format!("cache={:?} isolation={}", s.cache, s.isolation.as_str());
        crate::sample::ShardStamp {
            index: shard.index,
            of: shard.of,
            scenario: s.name.clone(),
            plan: fingerprint(&pages, runs, &visits, &prepared.setups),
        }
    }

    /// Step 3: the verdict over every sample so far, and whether to stop.
    /// With fixed runs the verdict only counts once every run is in; an
    /// adaptive gate may stop at any look.
    fn judge(
        &self,
        prepared: &Prepared,
        samples: &[Sample],
        schedule: &Schedule,
        look: Option<usize>,
        last: bool,
    ) -> (Option<GateResult>, bool) {
        if !prepared.judged {
            return (None, last);
        }
        let inputs = Inputs {
            candidate: samples,
            reference: prepared.reference.as_deref(),
            field: prepared.baseline.as_ref().map(|b| FieldBaseline {
                baseline: b,
                segments: &prepared.segments,
                pages: &prepared.pages,
                calibrated: Some(&prepared.calibrated),
            }),
        };
        match (&schedule.adaptive, look) {
            (Some(plan), Some(look)) => {
                match sequential::step(&inputs, &self.verdict, plan, look) {
                    sequential::Step::Stop(result) => (Some(result), true),
                    sequential::Step::Continue { provisional, .. } => (Some(provisional), last),
                }
            }
            _ => (Some(verdict::judge(&inputs, &self.verdict)), last),
        }
    }

    /// Step 4: the results document so far, to the batch observer.
    fn notify(
        &mut self,
        prepared: &Prepared,
        samples: &[Sample],
        verdict: Option<&GateResult>,
        browser: &str,
        done: bool,
    ) -> Results {
        let mut results = Results::new(run_meta(&self.scenario, browser), samples, verdict);
        results.partial = !done;
        if let Some(f) = self.observer.as_mut() {
            f(&BatchView {
                samples,
                verdict,
                results: &results,
                reference: prepared.reference.as_deref().unwrap_or_default(),
                baseline: prepared.baseline.as_ref(),
                done,
            });
        }
        results
    }
}

/// The results document's description of the run.
pub fn run_meta(scenario: &LoadedScenario, browser: &str) -> RunMeta {
    let s = &scenario.scenario;
    RunMeta {
        scenario: ScenarioInfo {
            name: s.name.clone(),
            base_url: scenario.base_url.to_string(),
            runs: s.runs,
            pages: s.pages.iter().map(|p| p.name.clone()).collect(),
        },
        profiles: s
            .profiles
            .iter()
            .map(|p| ProfileInfo {
                name: p.name.clone(),
                segment: p.segment.clone(),
            })
            .collect(),
        environment: Environment::detect(browser),
    }
}
