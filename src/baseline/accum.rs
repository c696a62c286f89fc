//! Streaming aggregation: records in, one [`SegmentBaseline`] per page ×
//! segment out. Nothing per row is kept except hashed ids for distinct counts.
//!
//! Memory: one group per page × segment (plus its roll-ups to the
//! form-factor-only and all-users segments), each with one DDSketch per
//! metric (a few kB). Distinct sessions, users, users per day and (long
//! format) view ids are counted from 8-byte hashes, exactly up to 4096 per
//! group and counter (≈ 16–24 bytes each, ≤ ~100 KiB), then in a 4 KiB
//! HyperLogLog (≈ 1.6 % error). Bounce tracking keeps ~64 bytes per open
//! session and settles sessions idle for 4 h of data time, so it follows
//! concurrent sessions (exports without timestamps keep every session to
//! the end). Rows themselves are never stored, so memory is flat in the
//! number of rows.

use super::distinct::{Distinct, PreHashedState};
use super::model::{Apdex, Context, MetricBaseline, SegmentBaseline, SegmentKey, Shares, Sketch};
use super::record::{Record, View, format_day};
use crate::metric::{Metric, Rating};
use std::collections::{BTreeMap, HashMap};

/// Aggregates records into per page × segment groups.
#[derive(Debug, Default)]
pub struct Accumulator {
    apdex_t: BTreeMap<Metric, f64>,
    min_segment: u64,
    index: HashMap<String, usize>,
    groups: Vec<Group>,
    /// Per group: itself and the coarser groups it rolls up into.
    rollups: Vec<Vec<usize>>,
    sessions: HashMap<u64, SessionState, PreHashedState>,
    key_buf: String,
    time_range: Option<(i64, i64)>,
    records: u64,
}

/// Sessions idle this long (in data time) are settled and forgotten. A
/// session ends after 30 min without activity; the rest is slack for
/// exports that are only roughly sorted by time.
pub const SESSION_EXPIRY_S: i64 = 4 * 3600;

/// Records between sweeps for idle sessions.
const SWEEP_EVERY: u64 = 1 << 16;

#[derive(Debug)]
struct Group {
    page: String,
    segment: SegmentKey,
    metrics: BTreeMap<Metric, MetricAcc>,
    whole_views: u64,
    view_ids: Distinct,
    sessions: Distinct,
    users: Distinct,
    users_per_day: HashMap<i64, Distinct, PreHashedState>,
    landing: u64,
    bounced: u64,
    landing_by_lcp: [(u64, u64); 3],
}

#[derive(Debug, Default)]
struct MetricAcc {
    sketch: Sketch,
    n: u64,
    ratings: [u64; 3],
    nonzero: u64,
    definitions: Vec<&'static str>,
    satisfied: u64,
    tolerating: u64,
}

#[derive(Debug)]
struct SessionState {
    landing: usize,
    landing_time: i64,
    last_time: Option<i64>,
    landing_view: View,
    multi: bool,
    landing_lcp: Option<Rating>,
}

fn rating_index(r: Rating) -> usize {
    match r {
        Rating::Good => 0,
        Rating::NeedsImprovement => 1,
        Rating::Poor => 2,
    }
}

const RATING_NAMES: [&str; 3] = ["good", "needs-improvement", "poor"];

impl Accumulator {
    /// An empty accumulator with Apdex targets and the too-small threshold.
    pub fn new(apdex_t: BTreeMap<Metric, f64>, min_segment: u64) -> Self {
        Accumulator {
            apdex_t,
            min_segment,
            ..Accumulator::default()
        }
    }

    /// First and last timestamps seen (Unix seconds).
    pub fn time_range(&self) -> Option<(i64, i64)> {
        self.time_range
    }

    /// Adds one record to its group and the groups it rolls up into.
    pub fn add(&mut self, rec: &Record<'_>) {
        if let Some(t) = rec.time {
            self.time_range = Some(match self.time_range {
                Some((a, b)) => (a.min(t), b.max(t)),
                None => (t, t),
            });
        }
        let g = self.intern(rec.page, rec.segment);
        let day = rec.time.map(|t| t.div_euclid(86_400));
        // Only the record's own group; roll-ups are merged in `finish`.
        {
            let group = &mut self.groups[g];
            match rec.view {
                View::Whole(_) => group.whole_views += 1,
                View::Part(id) => {
                    group.view_ids.insert(id);
                }
                View::Unknown => {}
            }
            if let Some(s) = rec.session {
                group.sessions.insert(s);
            }
            if let Some(u) = rec.user {
                group.users.insert(u);
                if let Some(d) = day {
                    group.users_per_day.entry(d).or_default().insert(u);
                }
            }
            for &(m, v, def) in rec.metrics {
                let acc = group.metrics.entry(m).or_default();
                acc.sketch.add(v);
                acc.n += 1;
                if v > 0.0 {
                    acc.nonzero += 1;
                }
                if let Some(r) = m.rate(v) {
                    acc.ratings[rating_index(r)] += 1;
                }
                if !acc.definitions.contains(&def) {
                    acc.definitions.push(def);
                }
                if let Some(&t) = self.apdex_t.get(&m) {
                    if v <= t {
                        acc.satisfied += 1;
                    } else if v <= 4.0 * t {
                        acc.tolerating += 1;
                    }
                }
            }
        }
        if let (Some(s), true) = (rec.session, rec.view != View::Unknown) {
            self.track_session(s, g, rec);
        }
        self.records += 1;
        if self.records % SWEEP_EVERY == 0 {
            self.sweep_sessions();
        }
    }

    /// Settles sessions idle for [`SESSION_EXPIRY_S`] so memory follows the
    /// number of concurrent sessions, not all sessions ever seen. Sessions
    /// without timestamps stay until the end.
    fn sweep_sessions(&mut self) {
        let Some((_, now)) = self.time_range else {
            return;
        };
        let cutoff = now - SESSION_EXPIRY_S;
        let groups = &mut self.groups;
        self.sessions.retain(|_, st| {
            let idle = st.last_time.is_some_and(|t| t < cutoff);
            if idle {
                settle(groups, st);
            }
            !idle
        });
    }

    /// Follows a session's landing view and whether it saw a second view.
    fn track_session(&mut self, session: u64, g: usize, rec: &Record<'_>) {
        let lcp = rec
            .metrics
            .iter()
            .find(|(m, _, _)| *m == Metric::Lcp)
            .and_then(|(_, v, _)| Metric::Lcp.rate(*v));
        let time = rec.time.unwrap_or(i64::MAX);
        let st = self.sessions.entry(session).or_insert(SessionState {
            landing: g,
            landing_time: time,
            last_time: rec.time,
            landing_view: rec.view,
            multi: false,
            landing_lcp: lcp,
        });
        st.last_time = st.last_time.max(rec.time);
        if st.landing_view == rec.view {
            if lcp.is_some() {
                st.landing_lcp = lcp;
            }
            return;
        }
        st.multi = true;
        if time < st.landing_time {
            // An earlier view arrived late: it is the landing page.
            st.landing = g;
            st.landing_time = time;
            st.landing_view = rec.view;
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
        let own = |s: Option<&str>| s.map(str::to_string);
        self.groups.push(Group {
            page: page.to_string(),
            segment: SegmentKey {
                form_factor: own(seg[0]),
                connection: own(seg[1]),
                country: own(seg[2]),
                browser: own(seg[3]),
            },
            metrics: BTreeMap::new(),
            whole_views: 0,
            view_ids: Distinct::default(),
            sessions: Distinct::default(),
            users: Distinct::default(),
            users_per_day: HashMap::default(),
            landing: 0,
            bounced: 0,
            landing_by_lcp: [(0, 0); 3],
        });
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

    /// Ends the import: attributes sessions to landing pages and builds the
    /// segment baselines, sorted by page and segment.
    pub fn finish(mut self) -> Vec<SegmentBaseline> {
        for st in self.sessions.values() {
            settle(&mut self.groups, st);
        }
        // Each group's own records feed it and its coarser roll-ups.
        let mut merged: Vec<Group> = self.groups.iter().map(Group::empty_like).collect();
        for (i, ups) in self.rollups.iter().enumerate() {
            for &r in ups {
                merged[r].merge_from(&self.groups[i]);
            }
        }
        let (min, apdex_t) = (self.min_segment, &self.apdex_t);
        let mut out: Vec<SegmentBaseline> =
            merged.into_iter().map(|g| g.finish(min, apdex_t)).collect();
        out.sort_by(|a, b| (&a.page, &a.segment).cmp(&(&b.page, &b.segment)));
        out
    }
}

/// Counts a finished session on its landing page (and roll-ups).
fn settle(groups: &mut [Group], st: &SessionState) {
    let g = &mut groups[st.landing];
    g.landing += 1;
    g.bounced += u64::from(!st.multi);
    if let Some(r) = st.landing_lcp {
        let slot = &mut g.landing_by_lcp[rating_index(r)];
        slot.0 += 1;
        slot.1 += u64::from(!st.multi);
    }
}

impl Group {
    fn empty_like(&self) -> Group {
        Group {
            page: self.page.clone(),
            segment: self.segment.clone(),
            metrics: BTreeMap::new(),
            whole_views: 0,
            view_ids: Distinct::default(),
            sessions: Distinct::default(),
            users: Distinct::default(),
            users_per_day: HashMap::default(),
            landing: 0,
            bounced: 0,
            landing_by_lcp: [(0, 0); 3],
        }
    }

    fn merge_from(&mut self, o: &Group) {
        self.whole_views += o.whole_views;
        self.view_ids.merge(&o.view_ids);
        self.sessions.merge(&o.sessions);
        self.users.merge(&o.users);
        for (d, u) in &o.users_per_day {
            self.users_per_day.entry(*d).or_default().merge(u);
        }
        self.landing += o.landing;
        self.bounced += o.bounced;
        for (a, b) in self.landing_by_lcp.iter_mut().zip(o.landing_by_lcp) {
            a.0 += b.0;
            a.1 += b.1;
        }
        for (m, acc) in &o.metrics {
            let mine = self.metrics.entry(*m).or_default();
            // Both sketches use the default configuration, so merging cannot fail.
            let _ = mine.sketch.merge(&acc.sketch);
            mine.n += acc.n;
            for (a, b) in mine.ratings.iter_mut().zip(acc.ratings) {
                *a += b;
            }
            mine.nonzero += acc.nonzero;
            mine.satisfied += acc.satisfied;
            mine.tolerating += acc.tolerating;
            for d in &acc.definitions {
                if !mine.definitions.contains(d) {
                    mine.definitions.push(d);
                }
            }
        }
    }

    fn finish(self, min_segment: u64, apdex_t: &BTreeMap<Metric, f64>) -> SegmentBaseline {
        let max_n = self.metrics.values().map(|m| m.n).max().unwrap_or(0);
        let mut ctx = Context {
            page_views: self.whole_views + self.view_ids.count(),
            sessions: (!self.sessions.is_empty()).then(|| self.sessions.count()),
            active_users: (!self.users.is_empty()).then(|| self.users.count()),
            users_per_day: self
                .users_per_day
                .iter()
                .map(|(d, u)| (format_day(*d), u.count()))
                .collect(),
            ..Context::default()
        };
        if ctx.page_views == 0 {
            ctx.page_views = max_n;
        }
        if self.landing > 0 {
            ctx.landing_sessions = Some(self.landing);
            ctx.bounce_rate = Some(self.bounced as f64 / self.landing as f64);
            for (i, (n, b)) in self.landing_by_lcp.iter().enumerate() {
                if *n > 0 {
                    ctx.landing_sessions_by_lcp
                        .insert(RATING_NAMES[i].into(), *n);
                    ctx.bounce_rate_by_lcp
                        .insert(RATING_NAMES[i].into(), *b as f64 / *n as f64);
                }
            }
        }
        let mut metrics = BTreeMap::new();
        for (m, acc) in self.metrics {
            if let Some(js) = (m == Metric::JsErrors).then_some(&acc) {
                ctx.js_reported_views = Some(js.n);
                ctx.js_error_rate = Some(js.nonzero as f64 / js.n as f64);
            }
            if let Some(&t) = apdex_t.get(&m) {
                ctx.apdex.insert(
                    m,
                    Apdex {
                        t_ms: t,
                        score: (acc.satisfied as f64 + acc.tolerating as f64 / 2.0) / acc.n as f64,
                        n: acc.n,
                    },
                );
            }
            metrics.insert(m, acc.finish(m));
        }
        SegmentBaseline {
            page: self.page,
            segment: self.segment,
            too_small: max_n < min_segment,
            metrics,
            context: ctx,
        }
    }
}

impl MetricAcc {
    fn finish(self, m: Metric) -> MetricBaseline {
        let n = self.n.max(1) as f64;
        MetricBaseline {
            n: self.n,
            definition: self.definitions.join("+"),
            binned_only: false,
            p50: self.sketch.quantile(0.50),
            p75: self.sketch.quantile(0.75),
            p90: self.sketch.quantile(0.90),
            p95: self.sketch.quantile(0.95),
            shares: m.thresholds().map(|_| Shares {
                good: self.ratings[0] as f64 / n,
                needs_improvement: self.ratings[1] as f64 / n,
                poor: self.ratings[2] as f64 / n,
            }),
            histogram: Vec::new(),
            sketch: Some(self.sketch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::record::WEB_VITALS;

    fn rec<'a>(
        page: &'a str,
        t: i64,
        view: u64,
        m: &'a [(Metric, f64, &'static str)],
    ) -> Record<'a> {
        Record {
            page,
            segment: [Some("phone"), None, None, None],
            time: Some(t),
            user: Some(1),
            session: Some(7),
            view: View::Whole(view),
            metrics: m,
        }
    }

    #[test]
    fn the_earliest_view_is_the_landing_page_even_when_it_arrives_late() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        let poor = [(Metric::Lcp, 5000.0, WEB_VITALS)];
        let good = [(Metric::Lcp, 1000.0, WEB_VITALS)];
        acc.add(&rec("/b", 200, 2, &good));
        acc.add(&rec("/a", 100, 1, &poor));
        // A lone session elsewhere bounces.
        let mut lone = rec("/c", 300, 3, &good);
        lone.session = Some(8);
        acc.add(&lone);
        let out = acc.finish();
        let get = |p: &str, ff: Option<&str>| {
            out.iter()
                .find(|s| s.page == p && s.segment.form_factor.as_deref() == ff)
                .unwrap()
        };
        let a = get("/a", None);
        assert_eq!(a.context.landing_sessions, Some(1));
        assert_eq!(a.context.bounce_rate, Some(0.0));
        assert_eq!(a.context.bounce_rate_by_lcp["poor"], 0.0);
        assert_eq!(get("/b", Some("phone")).context.landing_sessions, None);
        assert_eq!(get("/c", Some("phone")).context.bounce_rate, Some(1.0));
        assert_eq!(get("/c", None).context.bounce_rate_by_lcp["good"], 1.0);
        assert_eq!(get("/c", None).context.users_per_day.len(), 1);
    }
}

#[cfg(test)]
mod sweep_tests {
    use super::*;
    use crate::baseline::record::WEB_VITALS;

    #[test]
    fn idle_sessions_are_settled_and_forgotten_without_changing_results() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        let m = [(Metric::Lcp, 1000.0, WEB_VITALS)];
        let n = 3 * SWEEP_EVERY;
        for i in 0..n {
            // Two views per session, a minute apart; a new session every 10 s.
            let s = i / 2;
            acc.add(&Record {
                page: if i % 2 == 0 { "/" } else { "/next" },
                segment: [None; 4],
                time: Some(1_700_000_000 + s as i64 * 10 + (i % 2) as i64 * 60),
                user: None,
                session: Some(s),
                view: View::Whole(i),
                metrics: &m,
            });
        }
        assert!(
            acc.sessions.len() < 5_000,
            "{} sessions still held",
            acc.sessions.len()
        );
        let out = acc.finish();
        let home = out.iter().find(|s| s.page == "/").unwrap();
        assert_eq!(home.context.landing_sessions, Some(n / 2));
        assert_eq!(home.context.bounce_rate, Some(0.0));
    }
}
