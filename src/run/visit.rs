//! One job in one fresh browser session: set the session up, load the page,
//! run the steps, end each visit as a real one ends, and read the metrics.
//! A journey (`navigate` steps) yields one sample per navigation.

use super::loaded::{check_navigation, explain, no_response, no_response_reason, unreachable};
use super::plan::Job;
use super::pool::{Pool, Pooled};
use super::steps;
use super::watchdog::{self, Phase, Stop};
use crate::browser::{Browser, BrowserError, Session, SessionSpec};
use crate::collect::{self, RumAgent};
use crate::sample::{FailureKind, Sample, SampleTiming, StepLog};
use crate::scenario::{Cache, Isolation, LoadedScenario, Step};
use base64::Engine;
use std::time::{Duration, Instant};

/// Everything a visit needs besides the job.
pub struct VisitContext<'a> {
    /// The scenario.
    pub scenario: &'a LoadedScenario,
    /// The user's RUM agent, if any.
    pub rum_agent: Option<&'a RumAgent>,
    /// Where each session's shaping proxy listens.
    pub proxy: crate::throttle::proxy::Listen,
}

/// Why a job produced no (or partial) samples.
#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    /// Browser or WebDriver trouble.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// A step failed.
    #[error(transparent)]
    Step(#[from] steps::StepError),
    /// The page did not load: HTTP error status.
    #[error("{0}")]
    Load(String),
    /// The site could not be reached: a network error page (connection
    /// refused, name not resolved…) or no response at all.
    #[error("{0}")]
    Unreachable(String),
    /// The collector could not be installed or read.
    #[error(transparent)]
    Collect(#[from] collect::CollectError),
}

impl VisitError {
    /// Whose fault the failure is, when the browser and chromedriver still run.
    pub(super) fn kind(&self) -> FailureKind {
        match self {
            VisitError::Unreachable(_) => FailureKind::Infrastructure,
            _ => FailureKind::Page,
        }
    }
}

/// The outcome of one attempt at a job: samples of the visits that completed
/// and, when the attempt failed, the error and where.
pub struct Attempt {
    /// Completed visits (each `ok`), then a failed one when `error` is set.
    pub samples: Vec<Sample>,
    /// The failure that stopped the attempt.
    pub error: Option<String>,
    /// True when the failure is the machine's (no browser), not the page's.
    pub setup_failure: bool,
    /// True when the run stopped (SIGINT, SIGTERM) during the attempt: its
    /// unfinished visit is not recorded and not retried.
    pub halted: bool,
}

impl Attempt {
    fn failed(sample: Sample, setup_failure: bool) -> Attempt {
        Attempt {
            error: sample.error.clone(),
            samples: vec![sample],
            setup_failure,
            halted: false,
        }
    }
}

/// One planned visit inside a job: its sample name, URL and steps.
struct Leg<'s> {
    name: String,
    url: String,
    steps: Vec<&'s Step>,
}

fn legs<'s>(ctx: &VisitContext<'s>, job: &Job) -> Vec<Leg<'s>> {
    let page = &ctx.scenario.scenario.pages[job.page];
    let url_of = |path: &str| match &job.setup.base_url {
        // Another build (the reference): a path, or an absolute URL on the
        // scenario's own origin, moves to that build's origin; a URL on an
        // `allow_origins` origin stays where it is.
        Some(base) => {
            let rebased = match url::Url::parse(path) {
                Ok(u) if u.origin() == ctx.scenario.base_url.origin() => {
                    base.join(&u[url::Position::BeforePath..])
                }
                Ok(u) => Ok(u),
                // A relative path resolves against the other build's base.
                Err(_) => base.join(path),
            };
            rebased.map_or_else(|_| path.to_string(), |u| u.to_string())
        }
        None => ctx.scenario.url_of(path),
    };
    let mut first = Leg {
        name: page.name.clone(),
        url: url_of(&page.path),
        steps: Vec::new(),
    };
    let mut out = Vec::new();
    for step in &page.steps {
        match step {
            Step::Navigate(n) => {
                let next = Leg {
                    name: format!("{}/{}", page.name, n.name()),
                    url: url_of(n.path()),
                    steps: Vec::new(),
                };
                out.push(std::mem::replace(&mut first, next));
            }
            other => first.steps.push(other),
        }
    }
    out.push(first);
    out
}

/// Runs one attempt of a job, in a fresh browser context of a long-lived
/// session (`isolation = "context"`) or in a fresh session, and always
/// cleans up. The watchdog bounds it by [`watchdog::budget`]: a visit still
/// running then (a renderer stuck in a script blocks every WebDriver
/// command, and with them the page-load and script timeouts) has its browser
/// killed and is recorded as failed. When `stop` fires, the visit in flight
/// is ended the same way and not recorded.
pub async fn attempt(
    browser: &Browser,
    pool: &Pool,
    ctx: &VisitContext<'_>,
    job: &Job,
    stop: &Stop,
) -> Attempt {
    // A proxy open to the network proves itself to the browser with its own
    // key, which Chromium takes only as switches at browser start: such
    // visits start a browser each.
    let isolation = match ctx.scenario.scenario.isolation {
        Isolation::Context if job.setup.proxy.is_some() && ctx.proxy.is_open() => {
            Isolation::Browser
        }
        chosen => chosen,
    };
    let mut attempt = isolated(browser, pool, ctx, job, stop, isolation).await;
    // Failed visits too: a start-up failure says which mode it happened in.
    for s in &mut attempt.samples {
        s.isolation = Some(isolation.as_str().to_string());
    }
    attempt
}

/// [`attempt`] in the given isolation mode.
async fn isolated(
    browser: &Browser,
    pool: &Pool,
    ctx: &VisitContext<'_>,
    job: &Job,
    stop: &Stop,
    isolation: Isolation,
) -> Attempt {
    let legs = legs(ctx, job);
    let started = Instant::now();
    let mut spec = session_spec(ctx, job);
    // One shaping proxy per visit: concurrent visits never share a link.
    let proxy = match &job.setup.proxy {
        None => None,
        Some(config) => {
            match crate::throttle::proxy::start_with(&ctx.proxy, 0, config.clone()).await {
                Ok(handle) => Some(handle),
                Err(e) => {
                    let mut s = failed(
                        job,
                        &legs[0],
                        format!("cannot start the shaping proxy: {e}"),
                    );
                    s.failure = Some(FailureKind::Infrastructure);
                    return Attempt::failed(s, true);
                }
            }
        }
    };
    if let (Isolation::Browser, Some(proxy)) = (isolation, &proxy) {
        spec.extra_args.extend(proxy.chrome_args());
    }
    let taken = match isolation {
        Isolation::Context => pool.take(&super::pool::key(&spec)),
        Isolation::Browser => None,
    };
    if taken.is_none() {
        pool.make_room().await;
    }
    let pooled = match taken {
        Some(pooled) => pooled,
        None => match new_session(browser, job, &legs[0], &spec, started, stop).await {
            Ok(session) => Pooled {
                session,
                key: super::pool::key(&spec),
                visits: 0,
                first_memory: None,
            },
            Err(attempt) => {
                if let Some(proxy) = proxy {
                    proxy.shutdown().await;
                }
                return attempt;
            }
        },
    };
    if isolation == Isolation::Context {
        let server = proxy.as_ref().map(|p| p.server());
        let opened = tokio::time::timeout(
            watchdog::SESSION_WITHIN,
            pooled
                .session
                .open_context(server.as_deref(), spec.viewport),
        )
        .await;
        let reason = match opened {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("cannot open a fresh browser context: {e}")),
            Err(_) => Some(format!(
                "the browser did not open a context within {} s",
                watchdog::SESSION_WITHIN.as_secs()
            )),
        };
        if let Some(reason) = reason {
            pooled.session.kill_browser();
            pool.retire(pooled).await;
            if let Some(proxy) = proxy {
                proxy.shutdown().await;
            }
            let mut s = failed(job, &legs[0], reason);
            s.failure = Some(FailureKind::Infrastructure);
            return Attempt::failed(s, false);
        }
    }
    let (attempt, reusable) =
        measure(browser, ctx, job, &legs, &pooled.session, started, stop).await;
    match isolation {
        Isolation::Browser => {
            let _ = pooled.session.close().await;
        }
        Isolation::Context if reusable && pooled.session.leave_context().await.is_ok() => {
            pool.give_back(pooled, ctx.scenario.scenario.recycle_after)
                .await;
        }
        Isolation::Context => {
            pooled.session.kill_browser();
            pool.retire(pooled).await;
        }
    }
    if let Some(proxy) = proxy {
        proxy.shutdown().await;
    }
    attempt
}

/// Starts a session for `job`, or says why not as a failed attempt.
async fn new_session(
    browser: &Browser,
    job: &Job,
    leg: &Leg<'_>,
    spec: &SessionSpec,
    started: Instant,
    stop: &Stop,
) -> Result<Session, Attempt> {
    let created = tokio::select! {
        created = tokio::time::timeout(watchdog::SESSION_WITHIN, browser.session(spec)) => created,
        () = stop.wait() => {
            return Err(Attempt { samples: Vec::new(), error: None, setup_failure: false, halted: true });
        }
    };
    let (setup_failure, reason) = match created {
        Ok(Ok(session)) => return Ok(session),
        Ok(Err(e)) => (e.is_setup(), e.to_string()),
        Err(_) => (
            false,
            format!(
                "the browser session did not start within {} s",
                watchdog::SESSION_WITHIN.as_secs()
            ),
        ),
    };
    let reason = if browser.driver_alive().await {
        reason
    } else {
        format!("chromedriver exited (rumcheck starts a new one): {reason}")
    };
    let mut s = failed(job, leg, reason);
    s.failure = Some(FailureKind::Infrastructure);
    s.timing = Some(SampleTiming {
        session_ms: ms(started.elapsed()),
        ..Default::default()
    });
    Err(Attempt::failed(s, setup_failure))
}

/// The visits of one attempt in a ready session, under the watchdog. Also
/// says whether the session may serve another visit (no kill, no WebDriver
/// trouble).
async fn measure(
    browser: &Browser,
    ctx: &VisitContext<'_>,
    job: &Job,
    legs: &[Leg<'_>],
    session: &Session,
    started: Instant,
    stop: &Stop,
) -> (Attempt, bool) {
    let version = browser.version().to_string();
    let session_ms = ms(started.elapsed());
    let mut samples = Vec::new();
    let phase = Phase::default();
    let budget = watchdog::budget(ctx.scenario, job.page);
    let run = Visit {
        session,
        ctx,
        job,
        legs,
        version: &version,
        phase: &phase,
    };
    let result = tokio::select! {
        result = run.legs(session_ms, &mut samples) => Some(result),
        () = tokio::time::sleep(budget) => None,
        () = stop.wait() => {
            session.kill_browser();
            let halted = Attempt { samples, error: None, setup_failure: false, halted: true };
            return (halted, false);
        }
    };
    let mut reusable = true;
    let failure = match result {
        Some(Ok(())) => None,
        Some(Err((leg, e))) => {
            // A WebDriver error leaves the browser's state in doubt.
            reusable = !matches!(e, VisitError::Browser(_));
            Some((leg, explain(browser, session, e).await))
        }
        None => {
            // A renderer stuck in a script: chromedriver waits on it, so
            // neither asking it to close nor its own timeouts would end this.
            session.kill_browser();
            reusable = false;
            let reason = format!(
                "visit exceeded its {} s budget (page busy: no answer while {}); its browser was killed",
                watchdog::seconds(budget),
                phase.current()
            );
            Some((samples.len(), (reason, FailureKind::Infrastructure)))
        }
    };
    let error = match failure {
        None => None,
        Some((leg, (reason, kind))) => {
            reusable &= kind == FailureKind::Page;
            let leg = leg.min(legs.len() - 1);
            let mut s = failed(job, &legs[leg], reason.clone());
            s.failure = Some(kind);
            s.browser = version.clone();
            s.node = Some(session.node().to_string());
            if kind == FailureKind::Page {
                s.screenshot = tokio::time::timeout(SCREENSHOT_WITHIN, session.screenshot())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|png| base64::engine::general_purpose::STANDARD.encode(png));
            }
            samples.push(s);
            Some(reason)
        }
    };
    let attempt = Attempt {
        samples,
        error,
        setup_failure: false,
        halted: false,
    };
    (attempt, reusable)
}

/// How long a failed visit's screenshot may take.
const SCREENSHOT_WITHIN: Duration = Duration::from_secs(5);

fn session_spec(ctx: &VisitContext<'_>, job: &Job) -> SessionSpec {
    let t = ctx.scenario.scenario.timeouts;
    SessionSpec {
        viewport: job.setup.viewport,
        extra_args: job
            .setup
            .browser_args
            .iter()
            .chain(&ctx.scenario.scenario.browser_args)
            .cloned()
            .collect(),
        page_load_timeout: Duration::from_millis(t.page_load_ms),
        script_timeout: Duration::from_millis(t.script_ms),
    }
}

/// One attempt's visits in an open session.
struct Visit<'a, 's> {
    session: &'a Session,
    ctx: &'a VisitContext<'s>,
    job: &'a Job,
    legs: &'a [Leg<'s>],
    version: &'a str,
    phase: &'a Phase,
}

impl Visit<'_, '_> {
    async fn legs(
        &self,
        session_ms: f64,
        samples: &mut Vec<Sample>,
    ) -> Result<(), (usize, VisitError)> {
        let (session, ctx, job, legs) = (self.session, self.ctx, self.job, self.legs);
        let setup_started = Instant::now();
        self.phase.enter("setting the browser up");
        for (method, params) in &job.setup.cdp {
            session
                .cdp(method, params.clone())
                .await
                .map_err(|e| (0, e.into()))?;
        }
        collect::install(session, ctx.rum_agent)
            .await
            .map_err(|e| (0, e.into()))?;
        let page_load_ms = ctx.scenario.scenario.timeouts.page_load_ms;
        if ctx.scenario.scenario.cache == Cache::Warm {
            // Repeat view: prime the cache with the same page, then measure.
            self.phase
                .enter(format!("priming the cache with {}", legs[0].url));
            match session.goto(&legs[0].url).await {
                Err(BrowserError::Command { source, .. }) if source.is_timeout() => {
                    if no_response(session, "about:blank").await {
                        return Err((
                            0,
                            VisitError::Unreachable(no_response_reason(page_load_ms, &legs[0].url)),
                        ));
                    }
                }
                other => other.map_err(|e| (0, e.into()))?,
            }
            collect::finalize(session)
                .await
                .map_err(|e| (0, e.into()))?;
        }
        let mut session_ms = session_ms + ms(setup_started.elapsed());
        let step_timeout = Duration::from_millis(ctx.scenario.scenario.timeouts.step_ms);
        let mut index = 0;
        for (i, leg) in legs.iter().enumerate() {
            let started_at = now_rfc3339();
            let page_started = Instant::now();
            let mut log = Vec::new();
            self.phase.enter(format!("loading {}", leg.url));
            let note = match session.goto(&leg.url).await {
                Ok(()) => {
                    self.phase
                        .enter(format!("checking what loaded at {}", leg.url));
                    check_navigation(session, &leg.url)
                        .await
                        .map_err(|e| (i, e))?
                }
                // The load event did not come in time (a hung third party, say):
                // the visit still happened, and the collector says what rendered.
                // Unless nothing came at all: the browser still shows the page before.
                Err(BrowserError::Command { source, .. }) if source.is_timeout() => {
                    let before = if i == 0 {
                        "about:blank"
                    } else {
                        legs[i - 1].url.as_str()
                    };
                    if before != leg.url && no_response(session, before).await {
                        return Err((
                            i,
                            VisitError::Unreachable(no_response_reason(page_load_ms, &leg.url)),
                        ));
                    }
                    Some(format!("no load event within {page_load_ms} ms"))
                }
                Err(e) => return Err((i, unreachable(e, &leg.url))),
            };
            log.push(StepLog {
                step: format!("load {}", leg.url),
                ms: ms(page_started.elapsed()),
                error: note,
            });
            for step in &leg.steps {
                index += 1;
                let t = Instant::now();
                self.phase
                    .enter(format!("step {index} ({})", step.describe()));
                let result = steps::execute(session, step, index, step_timeout).await;
                log.push(StepLog {
                    step: step.describe(),
                    ms: ms(t.elapsed()),
                    error: result.as_ref().err().map(|e| e.reason.clone()),
                });
                result.map_err(|e| (i, e.into()))?;
            }
            index += 1; // the navigate step that started the next leg
            let page_ms = ms(page_started.elapsed());
            let fin = Instant::now();
            self.phase
                .enter(format!("reading the metrics of {} back", leg.url));
            // The last page of the job is not navigated again (its context
            // or browser goes next): it stays hidden, two round trips fewer.
            let collected = if i + 1 == legs.len() {
                collect::finalize_last(session).await
            } else {
                collect::finalize(session).await
            }
            .map_err(|e| (i, e.into()))?;
            samples.push(Sample {
                ok: true,
                metrics: collected.metrics,
                details: collected.details,
                beacons: collected.beacons,
                steps: log,
                browser: self.version.to_string(),
                node: Some(self.session.node().to_string()),
                started_at,
                timing: Some(SampleTiming {
                    session_ms,
                    page_ms,
                    finalize_ms: ms(fin.elapsed()),
                }),
                error: None,
                failure: None,
                ..failed(job, leg, String::new())
            });
            session_ms = 0.0;
        }
        Ok(())
    }
}

fn failed(job: &Job, leg: &Leg<'_>, error: String) -> Sample {
    let mut s = Sample::failed(job.run, &leg.name, &job.setup.profile, &leg.url, error);
    s.variant = job.setup.variant.clone();
    s.tier = job.setup.tier.map(|t| t.index);
    s.started_at = now_rfc3339();
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The current time as RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
