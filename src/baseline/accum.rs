//! Streaming aggregation: records in, one [`SegmentBaseline`] per page ×
//! segment out. Nothing per row is kept except hashed ids for distinct counts.
//!
//! Memory: one group per page × segment (plus its roll-ups to the
//! form-factor-only and all-users segments), each with counts per DDSketch
//! bin per metric (16 bytes a bin, a few kB; see `binned.rs`). Distinct sessions, users, users per day and (long
//! format) view ids are counted from 8-byte hashes, exactly up to 256 per
//! group and counter, then in a 4 KiB HyperLogLog (≈ 1–1.6 % error), so a
//! counter never exceeds ~4.5 KiB. Updates are buffered per group and
//! applied in batches (see [`super::group`]), a few tens of MiB of buffers
//! at most. Bounce tracking keeps ~40 bytes per open session and settles sessions idle for 1 h of data time, so it follows
//! concurrent sessions (exports without timestamps keep every session to
//! the end). Rows themselves are never stored, so memory is flat in the
//! number of rows. Rows with TTFB and `server.*` values also feed a sample
//! of at most 2 000 pairs per page and server metric (24 bytes a pair,
//! twice that before a trim; see `pairs.rs`).

use super::distinct::PreHashedState;
use super::group::{FLUSH_AT, Group, IdKind, N_METRICS, rating_index};
use super::model::{Pair, SegmentBaseline, SegmentKey};
use super::pairs;
use super::record::{Record, View};
use crate::metric::{Metric, Rating};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Aggregates records into per page × segment groups.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    apdex_t: BTreeMap<Metric, f64>,
    /// `apdex_t` by metric index, for the per-value lookup.
    apdex_by_index: [Option<f64>; N_METRICS],
    min_segment: u64,
    index: HashMap<String, usize, PreHashedState>,
    groups: Vec<Group>,
    /// Per group: itself and the coarser groups it rolls up into.
    rollups: Vec<Vec<usize>>,
    sessions: HashMap<u64, SessionState, PreHashedState>,
    /// Metric definitions seen, indexed by the groups' definition bits.
    definitions: Vec<&'static str>,
    /// Updates buffered over all groups.
    pending: usize,
    key_buf: String,
    time_range: Option<(i64, i64)>,
    since_sweep: u64,
    /// Sessions that began early and went idle are parked in `early`
    /// rather than settled (see [`Accumulator::hold_early_sessions`]).
    hold_early: bool,
    /// Idle sessions that began early, parked for [`Accumulator::absorb`].
    early: HashMap<u64, SessionState, PreHashedState>,
    /// Records added, and the first timestamp seen: together they say when
    /// the early phase ends.
    added: u64,
    first_time: Option<i64>,
    /// Distinct page keys among the groups (for the `--max-pages` cap).
    pages: HashSet<String>,
    /// Fold down to this many pages whenever twice as many are held
    /// (see [`Accumulator::fold_pages_over`]).
    fold_over: Option<usize>,
}

/// Sessions idle this long (in data time) are settled and forgotten. A
/// session ends after 30 min without activity (the usual analytics
/// definition); the other 30 min are slack for exports only roughly sorted
/// by time. Short, so the table of open sessions, probed at a random place
/// on every row, stays small enough for the CPU caches.
pub(crate) const SESSION_EXPIRY_S: i64 = 3600;

/// Records between sweeps for idle sessions, at least; a sweep visits every
/// open session, so sweeps are also at least half a table apart (at most
/// two entries visited per record).
const SWEEP_EVERY: u64 = 1 << 13;

/// Buffered updates over all groups (16–24 bytes each) before every group
/// is flushed; with many groups each group's share is smaller too. Bounds
/// the buffers to a few tens of MiB however many groups there are.
const PENDING_CAP: usize = 1 << 18;

/// An open session, 32 bytes: the table is probed once per row at a random
/// place, so its size decides how much of it stays in the CPU caches.
#[derive(Debug, Clone)]
struct SessionState {
    /// Time of the landing view (`i64::MAX` when unknown).
    landing_time: i64,
    /// Time of the latest view (`i64::MIN` when unknown).
    last_time: i64,
    /// The landing view's id (`View::Whole` number or `View::Part` hash).
    landing_view: u64,
    /// The landing view's group.
    landing: u32,
    multi: bool,
    landing_lcp: Option<Rating>,
    /// Began in the accumulator's early phase (only with `hold_early`).
    early: bool,
}

impl Accumulator {
    /// An empty accumulator with Apdex targets and the too-small threshold.
    pub(crate) fn new(apdex_t: BTreeMap<Metric, f64>, min_segment: u64) -> Self {
        let mut apdex_by_index = [None; N_METRICS];
        for (m, t) in &apdex_t {
            if let Some(i) = m.index() {
                apdex_by_index[i] = Some(*t);
            }
        }
        Accumulator {
            apdex_t,
            apdex_by_index,
            min_segment,
            ..Accumulator::default()
        }
    }

    /// Keeps the sessions that begin early, in the first 8 192
    /// records or the first [`SESSION_EXPIRY_S`] of data time after the
    /// first timestamp, until [`Accumulator::absorb`]: when this
    /// accumulator takes a block of a file that starts mid-way
    /// (`csv/blocks.rs`), such a session may have begun in the block before.
    /// When one goes idle it is parked, not settled, and later rows with its
    /// id start a new session, as they would have without the cut.
    pub(crate) fn hold_early_sessions(&mut self) {
        self.hold_early = true;
    }

    /// Caps the pages of a stream added row by row (web-vitals, Boomerang)
    /// at `max_pages`: whenever twice as many are held, the least viewed
    /// so far are folded into `(other)`, so memory stays bounded. A page
    /// folded early that comes back starts afresh, so its earlier rows stay
    /// in `(other)`. (The CSV import ranks pages in a counting pass instead,
    /// see `csv/blocks.rs`, and folds nothing it keeps.)
    pub(crate) fn fold_pages_over(&mut self, max_pages: usize) {
        self.fold_over = Some(max_pages);
    }

    /// Distinct page keys aggregated so far.
    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// First and last timestamps seen (Unix seconds).
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        self.time_range
    }

    /// Adds one record to its group (roll-ups are merged in `finish`).
    pub(crate) fn add(&mut self, rec: &Record<'_>) {
        if let Some(n) = self.fold_over {
            if self.pages.len() > n.saturating_mul(2) {
                self.fold_pages(n);
            }
        }
        self.added += 1;
        if let Some(t) = rec.time {
            self.first_time.get_or_insert(t);
            self.time_range = Some(match self.time_range {
                Some((a, b)) => (a.min(t), b.max(t)),
                None => (t, t),
            });
        }
        let g = self.intern(rec.page, rec.segment);
        let day = rec.time.map(|t| t.div_euclid(86_400));
        let before = self.groups[g].pending();
        for &(m, v, def) in rec.metrics {
            let d = self.definition_index(def);
            self.groups[g].push_value(m, d, v);
        }
        self.pair_up(g, rec);
        // With many groups each may buffer less, so that buffers (and the
        // capacity they keep) stay within about PENDING_CAP entries in all.
        let limit = (PENDING_CAP / self.groups.len()).clamp(16, FLUSH_AT);
        let group = &mut self.groups[g];
        group.rows += 1;
        match rec.view {
            View::Whole(_) => group.whole_views += 1,
            View::Part(id) => group.push_id(IdKind::View, None, id),
            View::Unknown => {}
        }
        if let Some(s) = rec.session {
            group.push_id(IdKind::Session, None, s);
        }
        if let Some(u) = rec.user {
            group.push_id(IdKind::User, day, u);
        }
        self.pending += group.pending() - before;
        if group.pending() >= limit {
            self.pending -= group.pending();
            group.flush(&self.apdex_by_index);
        }
        if self.pending > PENDING_CAP {
            self.flush_all();
        }
        if let (Some(s), true) = (rec.session, rec.view != View::Unknown) {
            self.track_session(s, g, rec);
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY.max(self.sessions.len() as u64 / 2) {
            self.since_sweep = 0;
            self.sweep_sessions();
        }
    }

    /// Samples the row's (TTFB, `server.*`) pairs into its page's all-users
    /// group, the last of its roll-ups: one sample per page, not per segment.
    fn pair_up(&mut self, g: usize, rec: &Record<'_>) {
        let servers = || {
            rec.metrics.iter().filter_map(|&(m, v, _)| match m {
                Metric::Server(name) => Some((name, v)),
                _ => None,
            })
        };
        if servers().next().is_none() {
            return;
        }
        let Some(&(_, ttfb, _)) = rec.metrics.iter().find(|(m, _, _)| *m == Metric::Ttfb) else {
            return;
        };
        let salt = match rec.view {
            View::Whole(n) | View::Part(n) => n,
            View::Unknown => 0,
        };
        let all = *self.rollups[g].last().unwrap_or(&g);
        for (name, v) in servers() {
            let pair = Pair(ttfb, v, pairs::key(salt, ttfb, v));
            self.groups[all].push_pair(name, pair);
        }
    }

    /// Applies every buffered update (a span's thread does this before the
    /// merge, so the merge does not do it serially).
    pub(crate) fn flush_all(&mut self) {
        for g in &mut self.groups {
            g.flush(&self.apdex_by_index);
        }
        self.pending = 0;
    }

    /// The bit index of a definition; there are a handful (one per source
    /// format), far below the 64 the groups' bit sets hold.
    fn definition_index(&mut self, def: &'static str) -> u8 {
        // Definitions are constants: comparing addresses is enough almost always.
        let same = |d: &&str| std::ptr::eq(*d, def) || *d == def;
        let i = match self.definitions.iter().position(same) {
            Some(i) => i,
            None => {
                self.definitions.push(def);
                self.definitions.len() - 1
            }
        };
        debug_assert!(i < 64, "more than 64 metric definitions");
        i.min(63) as u8
    }

    /// Settles sessions idle for [`SESSION_EXPIRY_S`] so memory follows the
    /// number of concurrent sessions, not all sessions ever seen. Sessions
    /// without timestamps stay until the end.
    fn sweep_sessions(&mut self) {
        let Some((_, now)) = self.time_range else {
            return;
        };
        let cutoff = now - SESSION_EXPIRY_S;
        let (groups, early, hold) = (&mut self.groups, &mut self.early, self.hold_early);
        self.sessions.retain(|&id, st| {
            let idle = st.last_time != i64::MIN && st.last_time < cutoff;
            if idle && st.early && hold {
                // The only id kept per session: a parked one never comes back.
                if let Some(older) = early.insert(id, st.clone()) {
                    settle(groups, &older);
                }
            } else if idle {
                settle(groups, st);
            }
            !idle
        });
    }

    /// Whether a session beginning now is an early one (see
    /// [`Accumulator::hold_early_sessions`]).
    fn in_early_phase(&self) -> bool {
        let young = |first: i64| match self.time_range {
            Some((_, now)) => now <= first.saturating_add(SESSION_EXPIRY_S),
            None => true,
        };
        self.hold_early && (self.added <= SWEEP_EVERY || self.first_time.is_none_or(young))
    }
    /// Follows a session's landing view and whether it saw a second view.
    fn track_session(&mut self, session: u64, g: usize, rec: &Record<'_>) {
        let lcp = rec
            .metrics
            .iter()
            .find(|(m, _, _)| *m == Metric::Lcp)
            .and_then(|(_, v, _)| Metric::Lcp.rate(*v));
        let time = rec.time.unwrap_or(i64::MAX);
        let view = match rec.view {
            View::Whole(n) | View::Part(n) => n,
            View::Unknown => return,
        };
        let early = self.in_early_phase();
        let st = self.sessions.entry(session).or_insert(SessionState {
            landing: g as u32,
            landing_time: time,
            last_time: rec.time.unwrap_or(i64::MIN),
            landing_view: view,
            multi: false,
            landing_lcp: lcp,
            early,
        });
        st.last_time = st.last_time.max(rec.time.unwrap_or(i64::MIN));
        if st.landing_view == view {
            if lcp.is_some() {
                st.landing_lcp = lcp;
            }
            return;
        }
        st.multi = true;
        if time < st.landing_time {
            // An earlier view arrived late: it is the landing page.
            st.landing = g as u32;
            st.landing_time = time;
            st.landing_view = view;
            st.landing_lcp = lcp;
        }
    }

    fn intern(&mut self, page: &str, seg: [Option<&str>; 4]) -> usize {
        self.key_buf.clear();
        self.key_buf.push_str(page);
        for s in seg {
            self.key_buf.push('\u{1f}');
            self.key_buf.push_str(s.unwrap_or(""));
        }
        if let Some(&i) = self.index.get(self.key_buf.as_str()) {
            return i;
        }
        let i = self.groups.len();
        self.index.insert(self.key_buf.clone(), i);
        if !self.pages.contains(page) {
            self.pages.insert(page.to_string());
        }
        let own = |s: Option<&str>| s.map(str::to_string);
        self.groups.push(Group::new(
            page.to_string(),
            SegmentKey {
                form_factor: own(seg[0]),
                connection: own(seg[1]),
                country: own(seg[2]),
                browser: own(seg[3]),
            },
        ));
        self.rollups.push(vec![i]);
        // Every group also feeds its form-factor-only and all-users groups,
        // the fallbacks `Baseline::find` uses.
        let mut ups = vec![i];
        if seg[1..].iter().any(Option::is_some) && seg[0].is_some() {
            ups.push(self.intern(page, [seg[0], None, None, None]));
        }
        if seg.iter().any(Option::is_some) {
            ups.push(self.intern(page, [None; 4]));
        }
        self.rollups[i] = ups;
        i
    }

    /// Adds everything `other` aggregated, as if its records had been added
    /// here after this one's. A session open in both is joined into one
    /// (its landing view is the earlier, and it bounced only if both saw
    /// the same single view), unless it was idle for [`SESSION_EXPIRY_S`]
    /// in between, which ends a session as a sweep would.
    pub(crate) fn absorb(&mut self, mut other: Accumulator) {
        other.flush_all();
        if self.groups.is_empty() && self.sessions.is_empty() && self.time_range.is_none() {
            // Nothing here yet: take `other` whole (same options, as every
            // accumulator of an import is made from them).
            other.hold_early = self.hold_early;
            other.fold_over = self.fold_over;
            *self = other;
            self.sweep_sessions();
            return;
        }
        let definitions: Vec<u8> = other
            .definitions
            .iter()
            .map(|d| self.definition_index(d))
            .collect();
        let mut here = Vec::with_capacity(other.groups.len());
        for g in &other.groups {
            let s = &g.segment;
            let seg = [&s.form_factor, &s.connection, &s.country, &s.browser].map(|v| v.as_deref());
            here.push(self.intern(&g.page, seg));
        }
        for (g, &i) in other.groups.iter().zip(&here) {
            self.groups[i].merge_from(g, &definitions);
        }
        // Parked sessions are older than open ones with the same id.
        for (id, mut st) in other.early.drain().chain(other.sessions.drain()) {
            st.landing = here[st.landing as usize] as u32;
            self.join_session(id, st);
        }
        if let Some((a, b)) = other.time_range {
            self.time_range = Some(
                self.time_range
                    .map_or((a, b), |(x, y)| (x.min(a), y.max(b))),
            );
        }
        // Sessions idle for an hour of data time end here as they would in
        // `add`: merging block after block must not keep every session of
        // the file open until the end.
        self.sweep_sessions();
    }

    /// Adds session `b`, seen after this accumulator's records, to the open
    /// sessions (see [`Accumulator::absorb`]).
    fn join_session(&mut self, id: u64, b: SessionState) {
        let a = match self.sessions.entry(id) {
            Entry::Vacant(e) => {
                e.insert(b);
                return;
            }
            Entry::Occupied(e) => e.into_mut(),
        };
        let known = a.last_time != i64::MIN && b.landing_time != i64::MAX;
        if known && b.landing_time - a.last_time > SESSION_EXPIRY_S {
            let ended = std::mem::replace(a, b);
            settle(&mut self.groups, &ended);
            return;
        }
        a.multi |= b.multi || a.landing_view != b.landing_view;
        if b.landing_view == a.landing_view {
            // One landing view on both sides: its latest LCP counts.
            a.landing_lcp = b.landing_lcp.or(a.landing_lcp);
        } else if b.landing_time < a.landing_time {
            // An earlier view arrived late: it is the landing page.
            a.landing = b.landing;
            a.landing_time = b.landing_time;
            a.landing_view = b.landing_view;
            a.landing_lcp = b.landing_lcp;
        }
        a.last_time = a.last_time.max(b.last_time);
    }

    /// Ends the import: attributes sessions to landing pages and builds the
    /// segment baselines, sorted by page and segment.
    pub(crate) fn finish(self) -> Vec<SegmentBaseline> {
        self.finish_on(1)
    }

    /// [`Accumulator::finish`] on `threads` threads: each builds a share of
    /// the segments (merging in their roll-ups, building their sketches
    /// and counting their distinct ids), the part of the finish that grows
    /// with the number of segments.
    pub(crate) fn finish_on(mut self, threads: usize) -> Vec<SegmentBaseline> {
        self.flush_all();
        for st in self.sessions.values().chain(self.early.values()) {
            settle(&mut self.groups, st);
        }
        // Each group's own records feed it and its coarser roll-ups.
        let mut sources = vec![Vec::new(); self.groups.len()];
        for (i, ups) in self.rollups.iter().enumerate() {
            for &r in ups {
                sources[r].push(i);
            }
        }
        let same: Vec<u8> = (0..self.definitions.len() as u8).collect();
        let (min, apdex_t, defs) = (self.min_segment, &self.apdex_t, &self.definitions);
        let groups = &self.groups;
        let build = |r: usize| {
            let mut g = groups[r].empty_like();
            for &i in &sources[r] {
                g.merge_from(&groups[i], &same);
            }
            g.finish(min, apdex_t, defs)
        };
        let per = groups.len().div_ceil(threads.max(1)).max(1);
        let mut out: Vec<SegmentBaseline> = std::thread::scope(|scope| {
            let build = &build;
            let shares: Vec<_> = (per..groups.len())
                .step_by(per)
                .map(|a| scope.spawn(move || (a..groups.len().min(a + per)).map(build).collect()))
                .collect();
            let mut out: Vec<SegmentBaseline> = (0..per.min(groups.len())).map(build).collect();
            for share in shares {
                // A share's thread only panics in a bug: re-raise it here.
                let built: Vec<SegmentBaseline> = share
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                out.extend(built);
            }
            out
        });
        out.sort_by(|a, b| (&a.page, &a.segment).cmp(&(&b.page, &b.segment)));
        out
    }
}

/// Counts a finished session on its landing page (and roll-ups).
fn settle(groups: &mut [Group], st: &SessionState) {
    let g = &mut groups[st.landing as usize];
    g.landing += 1;
    g.bounced += u64::from(!st.multi);
    if let Some(r) = st.landing_lcp {
        let slot = &mut g.landing_by_lcp[rating_index(r)];
        slot.0 += 1;
        slot.1 += u64::from(!st.multi);
    }
}

mod pages;
#[cfg(test)]
mod tests;
