//! One page × segment group of an import: its metric sketches, distinct
//! counters and bounce tallies, and the batching that keeps them fast.
//!
//! Why batch: a segmented import touches hundreds of groups, each with a
//! sketch per metric and a few distinct counters (kilobytes each), so
//! updating them row by row misses the CPU cache on almost every update.
//! [`Group::push_value`] and [`Group::push_id`] only append to two small
//! per-group buffers; [`Group::flush`] applies a buffer in one go while the
//! group's structures are hot. Results are the same as updating row by row:
//! every update is order-independent (counts, sketch bins, set unions).

use super::binned::{Binned, Keys};
use super::distinct::{Distinct, PreHashedState};
use super::model::{Apdex, Context, MetricBaseline, SegmentBaseline, SegmentKey, Shares};
use super::pairs::{Pair, PairSample};
use super::record::format_day;
use crate::metric::{Metric, Rating, ServerName};
use std::collections::{BTreeMap, HashMap};

/// Metrics are stored in arrays indexed by `Metric as usize`.
pub const N_METRICS: usize = Metric::ALL.len();

/// Buffered updates per group before they are applied (fewer when there
/// are many groups, see the accumulator). Small enough that the buffers of
/// a hundred groups stay in a core's L2 cache: 512 imported 1 M rows 2–4 %
/// faster than 4 096 or 64 (`perf stat`, one thread).
pub const FLUSH_AT: usize = 512;

/// A buffered metric value: metric index, definition index, value.
#[derive(Debug, Clone, Copy)]
struct PendingValue {
    metric: u8,
    definition: u8,
    value: f64,
}

/// Which distinct counter a buffered id goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A page-view id (long format: one row per metric of a view).
    View,
    /// A session id.
    Session,
    /// A user id, also counted per day when the row has a day.
    User,
}

#[derive(Debug, Clone, Copy)]
struct PendingId {
    kind: IdKind,
    /// Days since the Unix epoch, or `i64::MIN` without a timestamp.
    day: i64,
    hash: u64,
}

/// The aggregate of one page × segment.
#[derive(Debug)]
pub struct Group {
    /// Page key.
    pub page: String,
    /// Segment values.
    pub segment: SegmentKey,
    metrics: [Option<MetricAcc>; N_METRICS],
    /// `server.*` metrics (`--map server.NAME=…`), updated at once: few
    /// imports carry them, and the per-group name lookup needs no index.
    server: Vec<(ServerName, MetricAcc)>,
    /// (TTFB, server metric) pairs of the page's rows: only a page's
    /// all-users group holds them (see `Accumulator::add`).
    pairs: Vec<(ServerName, PairSample)>,
    /// Page views known to be whole rows (wide CSV, beacons).
    pub whole_views: u64,
    /// Records added: how `--max-pages` ranks pages.
    pub rows: u64,
    view_ids: Distinct,
    sessions: Distinct,
    users: Distinct,
    users_per_day: HashMap<i64, Distinct, PreHashedState>,
    /// Sessions that landed here.
    pub landing: u64,
    /// Of those, sessions with a single view.
    pub bounced: u64,
    /// (landing sessions, bounced) per landing-view LCP rating.
    pub landing_by_lcp: [(u64, u64); 3],
    values: Vec<PendingValue>,
    ids: Vec<PendingId>,
}

#[derive(Debug, Default)]
struct MetricAcc {
    /// Values per sketch bin; the sketch is built in `finish`.
    values: Binned,
    n: u64,
    ratings: [u64; 3],
    nonzero: u64,
    /// Bit i set: definition i of the accumulator's list was seen.
    definitions: u64,
    satisfied: u64,
    tolerating: u64,
}

/// Index of a rating in the per-rating arrays.
pub fn rating_index(r: Rating) -> usize {
    match r {
        Rating::Good => 0,
        Rating::NeedsImprovement => 1,
        Rating::Poor => 2,
    }
}

const RATING_NAMES: [&str; 3] = ["good", "needs-improvement", "poor"];

impl Group {
    /// An empty group.
    pub fn new(page: String, segment: SegmentKey) -> Self {
        Group {
            page,
            segment,
            metrics: std::array::from_fn(|_| None),
            server: Vec::new(),
            pairs: Vec::new(),
            whole_views: 0,
            rows: 0,
            view_ids: Distinct::default(),
            sessions: Distinct::default(),
            users: Distinct::default(),
            users_per_day: HashMap::default(),
            landing: 0,
            bounced: 0,
            landing_by_lcp: [(0, 0); 3],
            values: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// An empty group with the same page and segment.
    pub fn empty_like(&self) -> Group {
        Group::new(self.page.clone(), self.segment.clone())
    }

    /// Buffers a metric value; `definition` indexes the accumulator's list
    /// of definitions (< 64).
    pub fn push_value(&mut self, metric: Metric, definition: u8, value: f64) {
        let Some(index) = metric.index() else {
            if let Metric::Server(name) = metric {
                named(&mut self.server, name).add(metric, definition, value, None);
            }
            return;
        };
        self.values.push(PendingValue {
            metric: index as u8,
            definition,
            value,
        });
    }

    /// Adds one row's (TTFB, `name`) pair to the page's sample.
    pub fn push_pair(&mut self, name: ServerName, pair: Pair) {
        named(&mut self.pairs, name).push(pair);
    }

    /// Buffers a hashed id.
    pub fn push_id(&mut self, kind: IdKind, day: Option<i64>, hash: u64) {
        self.ids.push(PendingId {
            kind,
            day: day.unwrap_or(i64::MIN),
            hash,
        });
    }

    /// Entries the buffers can hold without growing (what they keep).
    #[cfg(test)]
    pub fn buffer_capacity(&self) -> usize {
        self.values.capacity() + self.ids.capacity()
    }

    /// Buffered updates not yet applied.
    pub fn pending(&self) -> usize {
        self.values.len() + self.ids.len()
    }

    /// Applies the buffered updates. `apdex_t` is indexed by metric.
    pub fn flush(&mut self, apdex_t: &[Option<f64>; N_METRICS]) {
        let keys = Keys::get();
        for p in self.values.drain(..) {
            let i = usize::from(p.metric);
            let acc = self.metrics[i].get_or_insert_with(MetricAcc::default);
            acc.add_with(keys, Metric::ALL[i], p.definition, p.value, apdex_t[i]);
        }
        for p in self.ids.drain(..) {
            match p.kind {
                IdKind::View => self.view_ids.insert(p.hash),
                IdKind::Session => self.sessions.insert(p.hash),
                IdKind::User => {
                    self.users.insert(p.hash);
                    if p.day != i64::MIN {
                        self.users_per_day.entry(p.day).or_default().insert(p.hash);
                    }
                }
            }
        }
    }

    /// Adds everything `o` counted (`o` must be flushed). `definitions`
    /// maps `o`'s definition indexes to this group's.
    pub fn merge_from(&mut self, o: &Group, definitions: &[u8]) {
        debug_assert!(o.values.is_empty() && o.ids.is_empty());
        self.whole_views += o.whole_views;
        self.rows += o.rows;
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
        for (mine, acc) in self.metrics.iter_mut().zip(&o.metrics) {
            let Some(acc) = acc else { continue };
            mine.get_or_insert_with(MetricAcc::default)
                .merge(acc, definitions);
        }
        for (name, acc) in &o.server {
            named(&mut self.server, *name).merge(acc, definitions);
        }
        for (name, sample) in &o.pairs {
            named(&mut self.pairs, *name).merge(sample);
        }
    }

    /// The segment baseline of a flushed group; `definitions` names the
    /// definition indexes.
    pub fn finish(
        self,
        min_segment: u64,
        apdex_t: &BTreeMap<Metric, f64>,
        definitions: &[&'static str],
    ) -> SegmentBaseline {
        let max_n = self
            .metrics
            .iter()
            .flatten()
            .chain(self.server.iter().map(|(_, acc)| acc))
            .map(|m| m.n)
            .max()
            .unwrap_or(0);
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
        let present = Metric::ALL.into_iter().zip(self.metrics);
        for (m, acc) in present.filter_map(|(m, acc)| Some((m, acc?))) {
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
            metrics.insert(m, acc.finish(m, definitions));
        }
        for (name, acc) in self.server {
            let m = Metric::Server(name);
            metrics.insert(m, acc.finish(m, definitions));
        }
        let ttfb_pairs = self
            .pairs
            .into_iter()
            .map(|(name, mut sample)| {
                sample.finish();
                (Metric::Server(name), sample)
            })
            .collect();
        SegmentBaseline {
            page: self.page,
            segment: self.segment,
            too_small: max_n < min_segment,
            metrics,
            context: ctx,
            ttfb_pairs,
        }
    }
}

/// The entry of server metric `name` in `list`, added empty if new (a
/// group holds a handful, so a scan beats a map).
fn named<T: Default>(list: &mut Vec<(ServerName, T)>, name: ServerName) -> &mut T {
    let i = match list.iter().position(|(n, _)| *n == name) {
        Some(i) => i,
        None => {
            list.push((name, T::default()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

impl MetricAcc {
    /// Counts one value of `m` (`apdex_t`: its Apdex target, if any).
    fn add(&mut self, m: Metric, definition: u8, v: f64, apdex_t: Option<f64>) {
        self.add_with(Keys::get(), m, definition, v, apdex_t);
    }

    fn add_with(&mut self, keys: Keys, m: Metric, definition: u8, v: f64, apdex_t: Option<f64>) {
        self.values.add(keys, v);
        self.n += 1;
        self.nonzero += u64::from(v > 0.0);
        if let Some(r) = m.rate(v) {
            self.ratings[rating_index(r)] += 1;
        }
        self.definitions |= 1 << definition;
        if let Some(t) = apdex_t {
            if v <= t {
                self.satisfied += 1;
            } else if v <= 4.0 * t {
                self.tolerating += 1;
            }
        }
    }

    /// Adds what `o` counted; `definitions` maps `o`'s definition indexes to ours.
    fn merge(&mut self, o: &MetricAcc, definitions: &[u8]) {
        self.values.merge(&o.values);
        self.n += o.n;
        for (a, b) in self.ratings.iter_mut().zip(o.ratings) {
            *a += b;
        }
        self.nonzero += o.nonzero;
        self.satisfied += o.satisfied;
        self.tolerating += o.tolerating;
        for (i, to) in definitions.iter().enumerate() {
            if o.definitions & (1 << i) != 0 {
                self.definitions |= 1 << to;
            }
        }
    }

    fn finish(self, m: Metric, definitions: &[&'static str]) -> MetricBaseline {
        let sketch = self.values.to_sketch();
        let n = self.n.max(1) as f64;
        let names: Vec<&str> = (0..definitions.len())
            .filter(|i| self.definitions & (1 << i) != 0)
            .map(|i| definitions[i])
            .collect();
        MetricBaseline {
            n: self.n,
            definition: names.join("+"),
            binned_only: false,
            p50: sketch.quantile(0.50),
            p75: sketch.quantile(0.75),
            p90: sketch.quantile(0.90),
            p95: sketch.quantile(0.95),
            shares: m.thresholds().map(|_| Shares {
                good: self.ratings[0] as f64 / n,
                needs_improvement: self.ratings[1] as f64 / n,
                poor: self.ratings[2] as f64 / n,
            }),
            histogram: Vec::new(),
            sketch: Some(sketch),
        }
    }
}
