//! What bounds a visit: its time budget (from the scenario's timeouts), the
//! phase it is in (named when the watchdog ends it), and the run-wide stop
//! (SIGINT, SIGTERM, a sample that cannot be written).

use crate::scenario::{Cache, LoadedScenario, Step};
use std::time::Duration;
use tokio::sync::watch;

/// Time a visit may take beyond the sum of its timeouts (WebDriver round
/// trips, hiding the page, a slow machine).
pub const MARGIN: Duration = Duration::from_secs(5);

/// The most a new browser session may take (start, viewport, warm-up).
pub const SESSION_WITHIN: Duration = Duration::from_secs(60);

/// Why a run stops before its jobs are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Keep going.
    Running,
    /// SIGINT (Ctrl-C) or SIGTERM: end the visits, keep what was measured.
    Interrupted,
    /// A sample could not be written: measuring more would be thrown away.
    OutputFailed,
}

/// The run-wide stop every worker and visit watches.
#[derive(Debug)]
pub struct Stop(watch::Sender<Halt>);

impl Default for Stop {
    fn default() -> Self {
        Stop(watch::Sender::new(Halt::Running))
    }
}

impl Stop {
    /// Stops the run for `why` (the first reason is kept).
    pub fn halt(&self, why: Halt) {
        self.0.send_if_modified(|now| {
            let first = *now == Halt::Running;
            if first {
                *now = why;
            }
            first
        });
    }

    /// The current state.
    pub fn state(&self) -> Halt {
        *self.0.borrow()
    }

    /// True once the run is stopping.
    pub fn halted(&self) -> bool {
        self.state() != Halt::Running
    }

    /// Resolves when the run stops (at once when it already has).
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|h| *h != Halt::Running).await;
    }
}

/// The longest one attempt at a job may run once its session exists: for
/// each navigation the page-load timeout plus the script timeout (checking
/// what loaded, reading the collector back), each step's timeout (plus the
/// second a step is given to report), the collector's installation, a warm
/// cache's priming visit, and [`MARGIN`].
pub fn budget(scenario: &LoadedScenario, page: usize) -> Duration {
    let s = &scenario.scenario;
    let t = s.timeouts;
    let Some(page) = s.pages.get(page) else {
        return MARGIN;
    };
    let navigations = 1 + page
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Navigate(_)))
        .count() as u64;
    let steps: u64 = page
        .steps
        .iter()
        .map(|step| match step {
            Step::Navigate(_) => 0,
            Step::WaitMs(ms) => ms + 1000,
            _ => t.step_ms + 1000,
        })
        .sum();
    let load = t.page_load_ms + t.script_ms;
    let warm = if s.cache == Cache::Warm { load } else { 0 };
    let ms = t.script_ms + warm + navigations * load + steps;
    Duration::from_millis(ms) + MARGIN
}

/// What a visit is doing now, for the watchdog's reason.
#[derive(Debug, Default)]
pub struct Phase(std::sync::Mutex<String>);

impl Phase {
    /// Records the phase the visit enters.
    pub fn enter(&self, what: impl Into<String>) {
        if let Ok(mut now) = self.0.lock() {
            *now = what.into();
        }
    }

    /// The phase last entered.
    pub fn current(&self) -> String {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Whole seconds, rounded up, for messages.
pub fn seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000) as u64
}
