//! Orchestration: plan, run jobs on K browsers, retry failed visits, show
//! progress, and write every sample to `samples.ndjson` as it arrives.

pub mod calibrate;
mod loaded;
pub mod plan;
mod pool;
pub mod shard;
mod steps;
mod visit;
pub mod watchdog;

pub use plan::{Job, SessionSetup, TierSlot};
pub use shard::{Shard, ShardError};
pub use steps::StepError;
pub use visit::now_rfc3339;

use crate::browser::{Browser, BrowserError, BrowserOptions};
use crate::collect::RumAgent;
use crate::output::inert;
use crate::output::{DirLock, OutputError, OutputTarget};
use crate::sample::{Sample, write_sample};
use crate::scenario::LoadedScenario;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;
use watchdog::{Halt, Stop};

/// Validated options of a run (from `rumcheck run` flags or the library API).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where browsers come from.
    pub browser: BrowserOptions,
    /// Browsers at once (>= 1).
    pub concurrency: usize,
    /// Output directory for `samples.ndjson`.
    pub out_dir: PathBuf,
    /// No progress bar.
    pub quiet: bool,
}

/// Things that stop a run as a whole (single failed visits do not).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The browser could not be started.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The output cannot be written.
    // `cause`, not `source`: the message already says it, and a source
    // would repeat it after the hint.
    #[error("cannot write '{path}': {cause}\n  hint: pass --out with a writable directory")]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// `--concurrency` outside 1..=[`MAX_CONCURRENCY`].
    #[error(
        "--concurrency {0}: expected 1 to {MAX_CONCURRENCY} browsers at once\n  hint: each browser needs about a CPU core; start with the number of cores"
    )]
    Concurrency(usize),
    /// The output directory is locked by another run, or the file is not a regular file.
    #[error(transparent)]
    Out(#[from] OutputError),
}

/// The concurrency a run uses unless told: one browser per two CPU cores,
/// at least 1 and at most [`DEFAULT_MAX_CONCURRENCY`]. A visit keeps about
/// two cores busy (the page's renderer, and the browser and compositor
/// beside it). Measured on the 2-core reference machine
/// (`examples/concurrency.rs`, README "Measured"): a second browser gives
/// 1.5 × the visits a minute, but FCP reads 27-34 % higher (LCP 7 %) and
/// the interquartile ranges are 1.2-3 times as wide, so the safe value
/// there is 1.
pub fn default_concurrency() -> usize {
    concurrency_for(std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// [`default_concurrency`] on a machine with `cores` logical cores.
pub fn concurrency_for(cores: usize) -> usize {
    (cores / 2).clamp(1, DEFAULT_MAX_CONCURRENCY)
}

/// The largest default concurrency: beyond it, more browsers need a reason
/// (and a measurement) from the user.
pub const DEFAULT_MAX_CONCURRENCY: usize = 4;

/// The most browsers one run starts at once: each is a process tree of
/// several hundred MB, and a Selenium Grid rarely offers more sessions.
pub const MAX_CONCURRENCY: usize = 64;

/// Appends samples to `DIR/samples.ndjson`, flushing each line so a crash
/// or Ctrl-C keeps everything measured so far.
///
/// Creating a sink locks `DIR` for this process ([`DirLock`]) and checks the
/// file, but writes nothing: an earlier run's file is moved to
/// `samples.previous.ndjson` only when the first new sample arrives, so a
/// run that fails to start (no chromedriver) leaves it as it was.
pub struct SampleSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    shard: Option<crate::sample::ShardStamp>,
    _lock: DirLock,
}

impl SampleSink {
    /// Prepares `dir/samples.ndjson`, creating `dir` if needed.
    pub fn create(dir: &Path) -> Result<Self, RunError> {
        Self::create_named(dir, "samples.ndjson")
    }

    /// Prepares `dir/name`, creating `dir` if needed, and locks `dir`.
    pub fn create_named(dir: &Path, name: &str) -> Result<Self, RunError> {
        std::fs::create_dir_all(dir).map_err(|cause| RunError::Output {
            path: dir.to_path_buf(),
            cause,
        })?;
        let lock = DirLock::acquire(dir)?;
        let path = dir.join(name);
        // Refuses a device, FIFO or directory in the file's place.
        OutputTarget::check("--out", &path)?;
        Ok(SampleSink {
            path,
            out: None,
            shard: None,
            _lock: lock,
        })
    }

    /// Stamps every sample written from now on as part of this shard.
    pub fn stamp_shard(&mut self, stamp: crate::sample::ShardStamp) {
        self.shard = Some(stamp);
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name an earlier run's file is kept under: `samples.previous.ndjson`.
    pub fn previous_path(&self) -> PathBuf {
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        let name = match self.path.extension() {
            Some(ext) => format!("{stem}.previous.{}", ext.to_string_lossy()),
            None => format!("{stem}.previous"),
        };
        self.path.with_file_name(name)
    }

    /// Opens the file on the first sample, keeping a non-empty earlier one.
    fn open(&mut self) -> Result<&mut BufWriter<File>, RunError> {
        if self.out.is_none() {
            let fail = |cause| RunError::Output {
                path: self.path.clone(),
                cause,
            };
            if std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 0) {
                let previous = self.previous_path();
                std::fs::rename(&self.path, &previous).map_err(fail)?;
                eprintln!(
                    "note: kept the earlier samples as '{}'; this run writes '{}'",
                    previous.display(),
                    self.path.display()
                );
            }
            let file = File::create(&self.path).map_err(fail)?;
            self.out = Some(BufWriter::new(file));
        }
        Ok(self.out.as_mut().expect("opened above"))
    }

    fn write(&mut self, sample: &mut Sample) -> Result<(), RunError> {
        if sample.shard.is_none() {
            sample.shard.clone_from(&self.shard);
        }
        let out = self.open()?;
        write_sample(out, sample).map_err(|cause| RunError::Output {
            path: self.path.clone(),
            cause,
        })
    }
}

/// A browser source plus the settings of a run; runs batches of jobs.
pub struct Runner {
    browser: Browser,
    /// Idle long-lived sessions (`isolation = "context"`).
    pool: pool::Pool,
    opts: RunOptions,
    stop: Arc<Stop>,
    signals: tokio::task::JoinHandle<()>,
}

/// What a batch produced.
pub struct Batch {
    /// Every sample, ok or failed, in completion order.
    pub samples: Vec<Sample>,
    /// True when SIGINT (Ctrl-C) or SIGTERM stopped the batch early.
    pub interrupted: bool,
}

impl Runner {
    /// Starts the browser source (spawns chromedriver, or checks `--webdriver`).
    pub async fn start(opts: RunOptions) -> Result<Runner, RunError> {
        if !(1..=MAX_CONCURRENCY).contains(&opts.concurrency) {
            return Err(RunError::Concurrency(opts.concurrency));
        }
        let browser = Browser::start(&opts.browser).await?;
        let stop = Arc::new(Stop::default());
        let signals = tokio::spawn(on_signal(Arc::clone(&stop)));
        Ok(Runner {
            browser,
            pool: pool::Pool::default(),
            opts,
            stop,
            signals,
        })
    }

    /// The browser version, once a session has been created.
    pub fn browser_version(&self) -> &str {
        self.browser.version()
    }

    /// Long-lived browsers closed before the end of the run
    /// (`isolation = "context"`): recycled, or left in doubt by a visit.
    pub fn browsers_retired(&self) -> u32 {
        self.pool.retired()
    }

    /// Memory of the long-lived browsers waiting between visits, in bytes
    /// (proportional set size; local browsers only).
    pub async fn browsers_memory(&self) -> u64 {
        self.pool.memory().await
    }

    /// The run options.
    pub fn options(&self) -> &RunOptions {
        &self.opts
    }

    /// Runs `jobs` on up to `concurrency` sessions at once, retrying failed
    /// jobs up to the scenario's `retries`, writing samples to `sink`.
    pub async fn run_batch(
        &self,
        scenario: &LoadedScenario,
        jobs: Vec<Job>,
        sink: &mut SampleSink,
    ) -> Result<Batch, RunError> {
        let rum_agent = scenario
            .rum_agent_source
            .as_ref()
            .zip(scenario.scenario.rum_agent.as_ref())
            .map(|(script, spec)| RumAgent {
                script: script.clone(),
                beacon: spec.beacon.clone(),
            });
        let ctx = visit::VisitContext {
            scenario,
            rum_agent: rum_agent.as_ref(),
            proxy: crate::throttle::proxy::Listen {
                bind: self.opts.browser.proxy_listen,
                advertise: self.opts.browser.proxy_advertise.clone(),
            },
        };
        let bar = progress(jobs.len() as u64, self.opts.quiet);
        let queue = std::sync::Mutex::new(jobs.into_iter().collect::<VecDeque<_>>());
        let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
        let retries = scenario.scenario.retries;
        let workers = (0..self.opts.concurrency).map(|_| {
            let tx = tx.clone();
            let (queue, ctx, stop) = (&queue, &ctx, &*self.stop);
            let (browser, pool) = (&self.browser, &self.pool);
            async move {
                loop {
                    if stop.halted() {
                        break;
                    }
                    let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                    let Some(job) = next else {
                        break;
                    };
                    for sample in run_job(browser, pool, ctx, &job, retries, stop).await {
                        let _ = tx.send(sample);
                    }
                }
            }
        });
        let workers: Vec<_> = workers.collect();
        drop(tx);
        let collect = async {
            let mut samples = Vec::new();
            while let Some(mut sample) = rx.recv().await {
                if let Err(e) = sink.write(&mut sample) {
                    // Measuring on would be thrown away: stop every visit now.
                    self.stop.halt(Halt::OutputFailed);
                    return Err(e);
                }
                if !sample.ok {
                    bar.suspend(|| {
                        eprintln!(
                            "visit failed: {} run {} ({}, attempt {}): {}",
                            inert::terminal(&sample.page),
                            sample.run,
                            inert::terminal(&sample.profile),
                            sample.attempts,
                            inert::terminal(sample.error.as_deref().unwrap_or(""))
                        )
                    });
                }
                // A journey yields several samples; count the job once, on its first visit.
                if !sample.page.contains('/') {
                    bar.inc(1);
                }
                samples.push(sample);
            }
            Ok::<_, RunError>(samples)
        };
        let ((), samples) = tokio::join!(futures_join_all(workers.into_iter()), collect);
        bar.finish_and_clear();
        Ok(Batch {
            samples: samples?,
            interrupted: self.stop.state() == Halt::Interrupted,
        })
    }

    /// Stops the run as SIGINT or SIGTERM do: no new visits; running ones
    /// are ended, their browsers closed, and what was measured is kept.
    pub fn interrupt(&self) {
        self.stop.halt(Halt::Interrupted);
    }

    /// Stops chromedriver and every browser it started. Call after the last batch.
    pub async fn shutdown(self) {
        self.signals.abort();
        self.pool.close_all().await;
        self.browser.shutdown().await;
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (`timeout`, CI job limits, `kill`): stop
/// taking jobs, end running visits and close their sessions.
async fn on_signal(stop: Arc<Stop>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let name = tokio::select! {
            _ = int.recv() => "interrupted",
            _ = term.recv() => "terminated (SIGTERM)",
        };
        eprintln!(
            "\n{name}: ending running visits and closing browsers… (signal again to stop at once)"
        );
        stop.halt(Halt::Interrupted);
        // A second signal while browsers close means "now": exit as a
        // signalled process would; the guard process still ends the browsers.
        tokio::select! {
            _ = int.recv() => std::process::exit(130),
            _ = term.recv() => std::process::exit(143),
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("\ninterrupted: ending running visits and closing browsers…");
        stop.halt(Halt::Interrupted);
    }
}

/// Runs one job with retries; returns the samples of the last attempt
/// (failed ones carry their reason and the number of attempts). A dead
/// chromedriver is replaced before each attempt.
async fn run_job(
    browser: &Browser,
    pool: &pool::Pool,
    ctx: &visit::VisitContext<'_>,
    job: &Job,
    retries: u32,
    stop: &Stop,
) -> Vec<Sample> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match browser.revive().await {
            Ok(true) => {
                eprintln!("chromedriver had exited; started a new one");
                // Its browsers went with it.
                pool.close_all().await;
            }
            Ok(false) => {}
            Err(e) => {
                // Every later job tries again, and is recorded like this one
                // if chromedriver still does not start: the run exits 3.
                let page = &ctx.scenario.scenario.pages[job.page];
                let mut s = Sample::failed(
                    job.run,
                    &page.name,
                    &job.setup.profile,
                    &match &job.setup.base_url {
                        Some(base) => base
                            .join(&page.path)
                            .map(|u| u.to_string())
                            .unwrap_or_default(),
                        None => ctx.scenario.url_of(&page.path),
                    },
                    format!("chromedriver exited and could not be restarted: {e}"),
                );
                s.failure = Some(crate::sample::FailureKind::Infrastructure);
                s.variant = job.setup.variant.clone();
                s.tier = job.setup.tier.map(|t| t.index);
                s.started_at = now_rfc3339();
                s.attempts = attempts;
                return vec![s];
            }
        }
        let mut attempt = visit::attempt(browser, pool, ctx, job, stop).await;
        if attempt.halted {
            // Visits that finished before the stop are kept.
            for s in &mut attempt.samples {
                s.attempts = attempts;
            }
            return attempt.samples;
        }
        if attempt.error.is_none() || attempts > retries || attempt.setup_failure || stop.halted() {
            for s in &mut attempt.samples {
                s.attempts = attempts;
            }
            return attempt.samples;
        }
    }
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

fn progress(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} visits, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests;
