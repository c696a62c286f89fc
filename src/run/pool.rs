//! Long-lived browser sessions for `isolation = "context"`: a worker takes
//! an idle session (or starts one), runs one visit in a fresh browser
//! context inside it, and gives it back. A session is retired after the
//! scenario's `recycle_after` visits, when its browser's memory (read every
//! ten visits) has doubled since its first visit, or when a visit left it
//! in doubt (a watchdog kill, a WebDriver error): the next visit then starts
//! a fresh browser.

use crate::browser::Session;
use std::sync::Mutex;

/// Memory growth that retires a browser: twice its size after its first visit.
const MEMORY_GROWTH: f64 = 2.0;

/// Visits between two readings of a browser's memory.
const MEMORY_EVERY: u32 = 10;

/// One long-lived session and what it has served.
pub(super) struct Pooled {
    /// The session.
    pub session: Session,
    /// What it was started with: browser arguments and timeouts (a visit
    /// needing others starts its own session). See [`key`].
    pub key: String,
    /// Visits run in it so far.
    pub visits: u32,
    /// Its browser's memory after its first visit (bytes; local sessions only).
    pub first_memory: Option<u64>,
}

/// What makes two sessions interchangeable: the settings fixed when the
/// browser starts (arguments, WebDriver timeouts).
pub(super) fn key(spec: &crate::browser::SessionSpec) -> String {
    format!(
        "{:?} {:?} {:?}",
        spec.extra_args, spec.page_load_timeout, spec.script_timeout
    )
}

/// Idle sessions between visits; with the sessions in use, at most one per
/// concurrent worker (see [`Pool::make_room`]).
#[derive(Default)]
pub(super) struct Pool {
    idle: Mutex<Vec<Pooled>>,
    retired: std::sync::atomic::AtomicU32,
}

impl Pool {
    /// An idle session started as `key` says, if any.
    pub fn take(&self, key: &str) -> Option<Pooled> {
        let mut idle = self.idle.lock().ok()?;
        let at = idle.iter().position(|p| p.key == key)?;
        Some(idle.swap_remove(at))
    }

    /// Gives a session back after a visit that ended cleanly, or closes it
    /// when it has served `recycle_after` visits or its memory has doubled.
    pub async fn give_back(&self, mut pooled: Pooled, recycle_after: u32) {
        pooled.visits += 1;
        // Reading the memory walks /proc (~50-100 ms): not after every visit.
        let memory = if pooled.visits == 1 || pooled.visits % MEMORY_EVERY == 0 {
            // Without the last visit's context, which is being disposed.
            if pooled.session.settle_context().await.is_err() {
                self.retire(pooled).await;
                return;
            }
            pooled.session.memory_bytes()
        } else {
            None
        };
        if pooled.first_memory.is_none() {
            pooled.first_memory = memory;
        }
        let grown = match (memory, pooled.first_memory) {
            (Some(now), Some(first)) => now as f64 > first as f64 * MEMORY_GROWTH,
            _ => false,
        };
        if pooled.visits >= recycle_after || grown {
            self.retire(pooled).await;
            return;
        }
        match self.idle.lock() {
            Ok(mut idle) => idle.push(pooled),
            Err(_) => {
                let _ = pooled.session.close().await;
            }
        }
    }

    /// Closes the longest-idle session, if any, before a worker starts a
    /// new one (no idle session was started as its visit needs). So a run
    /// never holds more sessions than workers: a Selenium Grid has only
    /// so many slots, and a session request would otherwise queue behind
    /// idle sessions nobody frees (a gate mixing context visits and visits
    /// that need a browser each timed out that way).
    pub async fn make_room(&self) {
        let oldest = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| (!idle.is_empty()).then(|| idle.remove(0)));
        if let Some(pooled) = oldest {
            self.retire(pooled).await;
        }
    }

    /// Closes a session that will not be used again.
    pub async fn retire(&self, pooled: Pooled) {
        self.retired
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = pooled.session.close().await;
    }

    /// How many sessions were closed before the end of the run.
    pub fn retired(&self) -> u32 {
        self.retired.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Memory of the idle sessions' browsers, in bytes (local ones only),
    /// once the contexts they were left with are gone.
    pub async fn memory(&self) -> u64 {
        let idle = self
            .idle
            .lock()
            .map(|mut i| std::mem::take(&mut *i))
            .unwrap_or_default();
        let mut total = 0;
        for pooled in &idle {
            if pooled.session.settle_context().await.is_ok() {
                total += pooled.session.memory_bytes().unwrap_or(0);
            }
        }
        if let Ok(mut i) = self.idle.lock() {
            i.extend(idle);
        }
        total
    }

    /// Closes every idle session (the end of a run).
    pub async fn close_all(&self) {
        let idle = self
            .idle
            .lock()
            .map(|mut i| std::mem::take(&mut *i))
            .unwrap_or_default();
        for pooled in idle {
            let _ = pooled.session.close().await;
        }
    }
}
