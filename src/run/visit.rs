//! One job in one fresh browser session: set the session up, load the page,
//! run the steps, end each visit as a real one ends, and read the metrics.
//! A journey (`navigate` steps) yields one sample per navigation.

use super::plan::Job;
use super::steps;
use crate::browser::{Browser, BrowserError, Session, SessionSpec};
use crate::collect::{self, RumAgent};
use crate::sample::{Sample, SampleTiming, StepLog};
use crate::scenario::{Cache, LoadedScenario, Step};
use base64::Engine;
use std::time::{Duration, Instant};

/// Everything a visit needs besides the job.
pub struct VisitContext<'a> {
    /// The scenario.
    pub scenario: &'a LoadedScenario,
    /// The user's RUM agent, if any.
    pub rum_agent: Option<&'a RumAgent>,
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
    /// The page did not load: network error or HTTP error status.
    #[error("{0}")]
    Load(String),
    /// The collector could not be installed or read.
    #[error(transparent)]
    Collect(#[from] collect::CollectError),
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
        Some(base) => base
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| path.to_string()),
        None => ctx.scenario.url_of(path),
    };
    let mut out = vec![Leg {
        name: page.name.clone(),
        url: url_of(&page.path),
        steps: Vec::new(),
    }];
    for step in &page.steps {
        match step {
            Step::Navigate(n) => out.push(Leg {
                name: format!("{}/{}", page.name, n.name()),
                url: url_of(n.path()),
                steps: Vec::new(),
            }),
            other => out
                .last_mut()
                .expect("legs starts non-empty")
                .steps
                .push(other),
        }
    }
    out
}

/// Runs one attempt of a job in a fresh session, always closing it.
pub async fn attempt(browser: &Browser, ctx: &VisitContext<'_>, job: &Job) -> Attempt {
    let legs = legs(ctx, job);
    let started = Instant::now();
    let mut spec = session_spec(ctx, job);
    // One shaping proxy per session: concurrent browsers never share a link.
    let proxy = match &job.setup.proxy {
        None => None,
        Some(config) => match crate::throttle::proxy::start(0, config.clone()).await {
            Ok(handle) => {
                spec.extra_args.extend(handle.chrome_args());
                Some(handle)
            }
            Err(e) => {
                let s = failed(
                    job,
                    &legs[0],
                    format!("cannot start the shaping proxy: {e}"),
                );
                return Attempt {
                    samples: vec![s],
                    error: Some(e.to_string()),
                    setup_failure: true,
                };
            }
        },
    };
    let session = browser
        .session(&spec)
        .await
        .map(|s| (s, browser.version().to_string()));
    let (session, version) = match session {
        Ok(s) => s,
        Err(e) => {
            let setup_failure = e.is_setup();
            let mut s = failed(job, &legs[0], e.to_string());
            s.timing = Some(SampleTiming {
                session_ms: ms(started.elapsed()),
                ..Default::default()
            });
            return Attempt {
                samples: vec![s],
                error: Some(e.to_string()),
                setup_failure,
            };
        }
    };
    let session_ms = ms(started.elapsed());
    let mut samples = Vec::new();
    let result = run_legs(
        &session,
        ctx,
        job,
        &legs,
        &version,
        session_ms,
        &mut samples,
    )
    .await;
    let error = match result {
        Ok(()) => None,
        Err((leg, e)) => {
            let mut s = failed(job, &legs[leg], e.to_string());
            s.browser = version.clone();
            s.screenshot = session
                .screenshot()
                .await
                .ok()
                .map(|png| base64::engine::general_purpose::STANDARD.encode(png));
            samples.push(s);
            Some(e.to_string())
        }
    };
    let _ = session.close().await;
    if let Some(proxy) = proxy {
        proxy.shutdown().await;
    }
    Attempt {
        samples,
        error,
        setup_failure: false,
    }
}

fn session_spec(ctx: &VisitContext<'_>, job: &Job) -> SessionSpec {
    let t = ctx.scenario.scenario.timeouts;
    SessionSpec {
        viewport: job.setup.viewport,
        extra_args: job.setup.browser_args.clone(),
        page_load_timeout: Duration::from_millis(t.page_load_ms),
        script_timeout: Duration::from_millis(t.script_ms),
    }
}

async fn run_legs(
    session: &Session,
    ctx: &VisitContext<'_>,
    job: &Job,
    legs: &[Leg<'_>],
    version: &str,
    session_ms: f64,
    samples: &mut Vec<Sample>,
) -> Result<(), (usize, VisitError)> {
    let setup_started = Instant::now();
    for (method, params) in &job.setup.cdp {
        session
            .cdp(method, params.clone())
            .await
            .map_err(|e| (0, e.into()))?;
    }
    collect::install(session, ctx.rum_agent)
        .await
        .map_err(|e| (0, e.into()))?;
    if ctx.scenario.scenario.cache == Cache::Warm {
        // Repeat view: prime the cache with the same page, then measure.
        session
            .goto(&legs[0].url)
            .await
            .map_err(|e| (0, e.into()))?;
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
        let note = match session.goto(&leg.url).await {
            Ok(()) => check_navigation(session, &leg.url)
                .await
                .map_err(|e| (i, e))?,
            // The load event did not come in time (a hung third party, say):
            // the visit still happened, and the collector says what rendered.
            Err(BrowserError::Command { source, .. }) if source.is_timeout() => Some(format!(
                "no load event within {} ms",
                ctx.scenario.scenario.timeouts.page_load_ms
            )),
            Err(e) => return Err((i, e.into())),
        };
        log.push(StepLog {
            step: format!("load {}", leg.url),
            ms: ms(page_started.elapsed()),
            error: note,
        });
        for step in &leg.steps {
            index += 1;
            let t = Instant::now();
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
        let collected = collect::finalize(session)
            .await
            .map_err(|e| (i, e.into()))?;
        samples.push(Sample {
            ok: true,
            metrics: collected.metrics,
            details: collected.details,
            beacons: collected.beacons,
            steps: log,
            browser: version.to_string(),
            started_at,
            timing: Some(SampleTiming {
                session_ms,
                page_ms,
                finalize_ms: ms(fin.elapsed()),
            }),
            error: None,
            ..failed(job, leg, String::new())
        });
        session_ms = 0.0;
    }
    Ok(())
}

/// chromedriver reports success for error pages, so look at what loaded:
/// Chrome's network-error page, or an HTTP error status. A renderer that
/// does not answer in time (a hung synchronous third-party script blocks
/// it) is not a failed visit: it is what that visit was like, and the
/// collector still tells what rendered. Returns a note for the step log.
async fn check_navigation(session: &Session, url: &str) -> Result<Option<String>, VisitError> {
    let v = session
        .eval(
            "const n = performance.getEntriesByType('navigation')[0];
             const code = document.querySelector('.error-code');
             return [location.protocol, n ? n.responseStatus : 0, code ? code.textContent : ''];",
        )
        .await;
    let v = match v {
        Ok(v) => v,
        Err(BrowserError::Command { source, .. })
            if source.is_timeout() || source.is_script_timeout() =>
        {
            return Ok(Some("the page was still loading: its renderer did not answer (e.g. blocked by a hung synchronous script)".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let protocol = v[0].as_str().unwrap_or_default();
    let status = v[1].as_u64().unwrap_or(0);
    if protocol == "chrome-error:" {
        let code = v[2]
            .as_str()
            .filter(|c| !c.is_empty())
            .unwrap_or("network error");
        return Err(VisitError::Load(format!(
            "the browser could not load {url}: {code}"
        )));
    }
    if status >= 400 {
        return Err(VisitError::Load(format!("HTTP {status} for {url}")));
    }
    Ok(None)
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
