//! CSV import of a stream (standard input, gzip: anything that cannot be
//! cut into spans like a file on disk, see [`super::spans`]) on several
//! threads. The calling thread splits records and
//! routes them by session id to one lane per thread, in batches; each lane
//! has its own [`Accumulator`], and the accumulators are merged at the end.
//!
//! Any thread may aggregate any lane's next batch, but only one at a time
//! and in order, so every view of a session meets in one lane in file
//! order: bounce tracking sees exactly what a single thread would. The
//! reading thread aggregates too whenever enough is queued, so no core
//! waits on another. (On 2 cores a reader plus one fixed worker per lane
//! ran at about 0.34 of the csv crate's rate and this at about 0.45; four
//! lanes per thread balanced better but spread each lane's groups and
//! sessions over more memory and cost 20 % more CPU per row.) Everything
//! else merges exactly (bin counts and counters add, distinct sets unite),
//! so the baseline does not depend on the number of threads
//! (`tests::threads_do_not_change_the_baseline`).

use super::reader::{Record, RecordReader};
use super::{Columns, Fields, Rows, field, read_records, slot};
use crate::baseline::accum::Accumulator;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::options::{Field, ImportOptions};
use crate::baseline::record::hash_id;
use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Records per batch: large enough that locking is noise.
const BATCH: usize = 512;

/// Batches queued over all lanes before the reading thread stops reading
/// and aggregates too (per thread).
const QUEUED_PER_THREAD: usize = 8;

/// A batch of records, copied end to end into one buffer: the worker then
/// reads it front to back, which the CPU prefetches, instead of chasing
/// records scattered over the heap (each a cache miss on the other core).
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// Field end offsets, relative to each record's first byte (laid out
    /// as [`Record`] describes).
    ends: Vec<u32>,
    /// Per record: where its bytes and field ends start, its line and its
    /// hashed session id (hashed once, to route it).
    records: Vec<(usize, usize, u64, Option<u64>)>,
}

impl Batch {
    fn push(&mut self, rec: &Record<'_>, session: Option<u64>) {
        self.records
            .push((self.bytes.len(), self.ends.len(), rec.line, session));
        self.bytes.extend_from_slice(rec.bytes);
        self.ends.extend_from_slice(rec.ends);
    }

    fn len(&self) -> usize {
        self.records.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.records.clear();
    }

    /// Each record's fields, line and hashed session id.
    fn iter(&self) -> impl Iterator<Item = (Fields<'_>, u64, Option<u64>)> {
        let next = self.records.iter().skip(1).map(|&(b, e, _, _)| (b, e));
        let ends = next.chain(std::iter::once((self.bytes.len(), self.ends.len())));
        self.records
            .iter()
            .zip(ends)
            .map(|(&(b, e, line, session), (b2, e2))| {
                let fields = Fields::new(&self.bytes[b..b2], &self.ends[e..e2]);
                (fields, line, session)
            })
    }
}

/// What one lane aggregates: the rows of its share of the sessions.
struct LaneWork<'a> {
    acc: Accumulator,
    tally: Tally,
    rows: Rows<'a>,
}

impl LaneWork<'_> {
    fn take(&mut self, batch: &Batch) {
        for (fields, line, session) in batch.iter() {
            // Without --strict a rejected row is only counted.
            let (acc, tally) = (&mut self.acc, &mut self.tally);
            let _ = self.rows.take_fields(fields, line, session, acc, tally);
        }
    }
}

/// The lanes' queues and state, behind one lock.
struct Lanes<'a> {
    queues: Vec<VecDeque<Batch>>,
    /// A lane's work, or `None` while a thread holds it.
    work: Vec<Option<LaneWork<'a>>>,
    queued: usize,
    /// Emptied batches, for the reader to fill again.
    spare: Vec<Batch>,
    /// The reader is done: threads leave when nothing is queued.
    closed: bool,
    /// Where the next search for a ready lane starts (so no lane starves).
    turn: usize,
    /// Lanes whose updates and sessions are settled (after the last batch).
    settled: Vec<bool>,
}

impl<'a> Lanes<'a> {
    /// A lane with queued batches that no thread holds, `home` first: its
    /// oldest batch and its work, taken out until [`Lanes::give_back`].
    /// (A thread that stays with one lane keeps that lane's groups and
    /// sessions in its core's cache.)
    fn take_ready(&mut self, home: usize) -> Option<(usize, Batch, LaneWork<'a>)> {
        let n = self.queues.len();
        let ready = |l: &usize| self.work[*l].is_some() && !self.queues[*l].is_empty();
        let lane = std::iter::once(home)
            .chain((0..n).map(|i| (self.turn + i) % n))
            .find(ready)?;
        if lane != home {
            self.turn = lane + 1;
        }
        let batch = self.queues[lane].pop_front()?;
        self.queued -= 1;
        Some((lane, batch, self.work[lane].take()?))
    }

    fn give_back(&mut self, lane: usize, mut batch: Batch, work: LaneWork<'a>) {
        self.work[lane] = Some(work);
        batch.clear();
        self.spare.push(batch);
    }
}

/// The lanes with the lock and the condition threads wait on.
struct Shared<'a> {
    lanes: Mutex<Lanes<'a>>,
    changed: Condvar,
}

impl<'a> Shared<'a> {
    fn lock(&self) -> MutexGuard<'_, Lanes<'a>> {
        // A thread only panics in a bug, which `scope` re-raises anyway.
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Aggregates one ready batch outside the lock, or else waits until
    /// another thread changes something.
    fn process<'s>(
        &'s self,
        mut guard: MutexGuard<'s, Lanes<'a>>,
        home: usize,
    ) -> MutexGuard<'s, Lanes<'a>> {
        let Some((lane, batch, mut work)) = guard.take_ready(home) else {
            return self.changed.wait(guard).unwrap_or_else(|p| p.into_inner());
        };
        drop(guard);
        work.take(&batch);
        guard = self.lock();
        guard.give_back(lane, batch, work);
        self.changed.notify_all();
        guard
    }

    /// A worker: takes ready batches until the reader is done and every
    /// queue is empty.
    fn work(&self, home: usize) {
        let mut guard = self.lock();
        while !(guard.queued == 0 && guard.closed) {
            guard = self.process(guard, home);
        }
        drop(guard);
        self.settle_lanes();
    }

    /// Once all is read and aggregated: settles every lane no thread holds
    /// (flushes its buffered updates and open sessions), so the lanes
    /// settle in parallel rather than one by one in the final merge. A lane
    /// still held is settled by its thread, which comes here next.
    fn settle_lanes(&self) {
        loop {
            let mut guard = self.lock();
            let lanes = &mut *guard;
            let free =
                (0..lanes.work.len()).find(|&l| !lanes.settled[l] && lanes.work[l].is_some());
            let Some(lane) = free else {
                return;
            };
            lanes.settled[lane] = true;
            let Some(mut work) = lanes.work[lane].take() else {
                return;
            };
            drop(guard);
            work.acc.settle();
            self.lock().work[lane] = Some(work);
        }
    }

    /// Queues a full batch; while too many are queued the reader (whose
    /// home lane is 0) aggregates queued batches itself instead of waiting.
    /// Returns an empty batch to fill next.
    fn queue(&self, lane: usize, batch: Batch, limit: usize) -> Batch {
        let mut guard = self.lock();
        guard.queues[lane].push_back(batch);
        guard.queued += 1;
        self.changed.notify_all();
        while guard.queued > limit {
            guard = self.process(guard, 0);
        }
        guard.spare.pop().unwrap_or_default()
    }
}

/// Which lane gets a row, and its hashed session id: by session id (hashed
/// as the accumulator hashes it, so ids differing only in padding agree),
/// else round-robin.
fn route(
    rec: &Record<'_>,
    session_col: Option<usize>,
    lanes: usize,
    n: &mut usize,
) -> (usize, Option<u64>) {
    let id = session_col
        .and_then(|i| field(rec.bytes, rec.ends, i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(hash_id);
    let Some(h) = id else {
        *n = n.wrapping_add(1);
        return (*n % lanes, None);
    };
    // Multiply-shift on re-mixed bits: the low and top bits of `h` also
    // pick hash-table buckets and HyperLogLog registers in the lane.
    let mixed = h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (((mixed * lanes as u64) >> 32) as usize, id)
}

/// Imports the records of `rdr` on `threads` threads (this one included)
/// into `acc`.
pub(super) fn import<R: Read>(
    rdr: &mut RecordReader<R>,
    width: usize,
    cols: &Columns,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
    threads: usize,
) -> Result<(), ImportError> {
    let session_col = cols.ctx[slot(Field::Session)];
    let file = tally.source.file.clone();
    let n_lanes = threads;
    let lane = || LaneWork {
        acc: Accumulator::new(opts.apdex_t.clone(), opts.min_segment),
        tally: Tally::new(&file, "csv", false),
        rows: Rows::new(cols, opts),
    };
    let shared = Shared {
        lanes: Mutex::new(Lanes {
            queues: (0..n_lanes).map(|_| VecDeque::new()).collect(),
            work: (0..n_lanes).map(|_| Some(lane())).collect(),
            queued: 0,
            spare: Vec::new(),
            closed: false,
            turn: 0,
            settled: vec![false; n_lanes],
        }),
        changed: Condvar::new(),
    };
    let limit = threads * QUEUED_PER_THREAD;
    let read = std::thread::scope(|scope| {
        for home in 1..threads {
            let shared = &shared;
            scope.spawn(move || shared.work(home));
        }
        let mut filling: Vec<Batch> = (0..n_lanes).map(|_| Batch::default()).collect();
        let mut turn = 0;
        let read = read_records(rdr, width, tally, |rec, _| {
            let (l, session) = route(&rec, session_col, n_lanes, &mut turn);
            filling[l].push(&rec, session);
            if filling[l].len() == BATCH {
                let full = std::mem::take(&mut filling[l]);
                filling[l] = shared.queue(l, full, limit);
            }
            Ok(())
        });
        for (l, batch) in filling.into_iter().enumerate() {
            if batch.len() > 0 {
                shared.queue(l, batch, usize::MAX);
            }
        }
        shared.lock().closed = true;
        shared.changed.notify_all();
        // The reader helps until every queue is empty.
        shared.work(0);
        read
    });
    let lanes = shared.lanes.into_inner().unwrap_or_else(|p| p.into_inner());
    for work in lanes.work.into_iter().flatten() {
        acc.absorb(work.acc);
        tally.absorb(work.tally, 0);
    }
    read
}

#[cfg(test)]
pub(super) mod tests {
    use crate::baseline::options::{Format, ImportOptions};
    use crate::baseline::{Baseline, Importer, SegmentBaseline};
    use crate::metric::Metric;

    /// Sessions of 1–3 views over 30 pages, some rows bad, one session's
    /// id padded differently on its second view.
    pub(in crate::baseline::csv) fn export(rows: usize) -> String {
        let mut out = String::from("timestamp,session_id,user_id,url,device,lcp,cls,inp\n");
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut session, mut left) = (0, 0);
        for i in 0..rows {
            if left == 0 {
                session += 1;
                left = 1 + rnd() % 3;
            }
            left -= 1;
            let r = rnd();
            let pad = if left == 1 { " " } else { "" };
            let lcp = if r % 97 == 0 {
                "NaN".to_string()
            } else {
                (500 + r % 6000).to_string()
            };
            out.push_str(&format!(
                "{},{pad}s{session},u{},https://shop.example/p{}/{}?q=1,{},{lcp},{:.3},{}\n",
                1_700_000_000 + i as u64 / 3,
                r % 5000,
                r % 30,
                r >> 40,
                ["phone", "desktop", "tablet"][(r >> 8) as usize % 3],
                ((r >> 16) % 500) as f64 / 1000.0,
                40 + (r >> 24) % 700,
            ));
        }
        out
    }

    fn import(text: &str, threads: usize) -> Baseline {
        let mut o = ImportOptions::new(Format::Csv);
        o.threads = threads;
        o.min_segment = 1;
        o.apdex_t.insert(Metric::Lcp, 2500.0);
        let mut imp = Importer::new(o);
        imp.read("export.csv", text.as_bytes()).unwrap();
        imp.finish().unwrap()
    }

    /// A segment without its raw sketches (merged sketches lay their bins
    /// out differently and sum in another order), plus the sketches' counts,
    /// extremes and quantiles, which must agree exactly.
    fn summary(s: &SegmentBaseline) -> serde_json::Value {
        let mut v = serde_json::to_value(s).unwrap();
        for (name, m) in v["metrics"].as_object_mut().unwrap() {
            m.as_object_mut().unwrap().remove("sketch");
            let sketch = s.metrics[&name.parse::<Metric>().unwrap()]
                .sketch
                .as_ref()
                .unwrap();
            let qs: Vec<Option<f64>> = (0..=20).map(|i| sketch.quantile(i as f64 / 20.0)).collect();
            m["quantiles"] = serde_json::json!(qs);
            m["count"] = serde_json::json!(sketch.0.count());
        }
        v
    }

    /// Checks that `many` (imported on `threads` threads) has the segments
    /// and provenance of `one` (one thread).
    pub(in crate::baseline::csv) fn assert_same(one: &Baseline, many: &Baseline, threads: usize) {
        assert_eq!(one.segments.len(), many.segments.len());
        for (a, b) in one.segments.iter().zip(&many.segments) {
            assert_eq!(
                summary(a),
                summary(b),
                "{threads} threads, {} {:?}",
                a.page,
                a.segment
            );
        }
        let (a, b) = (&one.provenance.sources[0], &many.provenance.sources[0]);
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
    }

    #[test]
    fn threads_do_not_change_the_baseline() {
        let text = export(20_000);
        let one = import(&text, 1);
        for threads in [2, 3] {
            assert_same(&one, &import(&text, threads), threads);
        }
        let home = one
            .segments
            .iter()
            .find(|s| s.page == "/:id/:id" && s.segment.form_factor.is_none());
        assert!(home.is_none(), "template folding keeps p0..p29 apart");
        let rejected = &one.provenance.sources[0].rejected;
        assert!(
            rejected.values().map(|r| r.count).sum::<u64>() > 100,
            "{rejected:?}"
        );
        let bounced = one.segments.iter().filter_map(|s| s.context.bounce_rate);
        assert!(bounced.clone().count() > 0 && bounced.clone().all(|b| b < 1.0));
    }
}
