//! CSV import on several threads. The calling thread splits records and
//! hands them out in batches; each worker turns its records
//! into updates of its own [`Accumulator`], and the accumulators are merged
//! at the end.
//!
//! Rows are routed by session id, so every view of a session meets in one
//! worker in file order: bounce tracking sees exactly what a single thread
//! would. Everything else merges exactly (sketch bins and counters add,
//! distinct sets unite), so the baseline does not depend on the number of
//! threads (`tests::threads_do_not_change_the_baseline`).

use super::reader::{Record, RecordReader};
use super::{Columns, Fields, Rows, field, read_records, slot};
use crate::baseline::accum::Accumulator;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::options::{Field, ImportOptions};
use crate::baseline::record::hash_id;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

/// Records per batch: large enough that channel traffic is noise.
const BATCH: usize = 512;

/// Batches in flight per worker (queued, being filled, being processed).
const BATCHES_PER_WORKER: usize = 8;

/// A batch of records, copied end to end into one buffer: the worker then
/// reads it front to back, which the CPU prefetches, instead of chasing
/// records scattered over the heap (each a cache miss on the other core).
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// Field end offsets, relative to each record's first byte (laid out
    /// as [`Record`] describes).
    ends: Vec<u32>,
    /// Per record: where its bytes and field ends start, and its line.
    records: Vec<(usize, usize, u64)>,
}

impl Batch {
    fn push(&mut self, rec: &Record<'_>) {
        self.records
            .push((self.bytes.len(), self.ends.len(), rec.line));
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

    /// Each record's fields and line.
    fn iter(&self) -> impl Iterator<Item = (Fields<'_>, u64)> {
        let next = self.records.iter().skip(1).map(|&(b, e, _)| (b, e));
        let ends = next.chain(std::iter::once((self.bytes.len(), self.ends.len())));
        self.records
            .iter()
            .zip(ends)
            .map(|(&(b, e, line), (b2, e2))| {
                (Fields::new(&self.bytes[b..b2], &self.ends[e..e2]), line)
            })
    }
}

/// The reader's end of one worker.
struct Lane {
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    current: Batch,
    /// Batches that may still be allocated for this lane.
    spare: usize,
}

impl Lane {
    /// Copies `rec` into the current batch and sends the batch when full.
    fn push(&mut self, rec: &Record<'_>) {
        self.current.push(rec);
        if self.current.len() == BATCH {
            let next = self.next_batch();
            let full = std::mem::replace(&mut self.current, next);
            // A worker only goes away by panicking, which `join` re-raises.
            let _ = self.full.send(full);
        }
    }

    /// A returned batch, a new one while under the limit, or else waits
    /// for the worker to return one.
    fn next_batch(&mut self) -> Batch {
        let reuse = |mut b: Batch| {
            b.clear();
            b
        };
        if let Ok(b) = self.empty.try_recv() {
            return reuse(b);
        }
        if self.spare > 0 {
            self.spare -= 1;
            return Batch::default();
        }
        self.empty.recv().map_or_else(|_| Batch::default(), reuse)
    }

    /// Sends what is left; dropping the sender ends the worker's loop.
    fn close(self) {
        if self.current.len() > 0 {
            let _ = self.full.send(self.current);
        }
    }
}

/// Which worker gets a row: by session id (hashed as the accumulator hashes
/// it, so ids differing only in padding agree), else round-robin.
fn route(rec: &Record<'_>, session_col: Option<usize>, workers: usize, n: &mut usize) -> usize {
    let id = session_col
        .and_then(|i| field(rec.bytes, rec.ends, i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(hash_id);
    let Some(h) = id else {
        *n = n.wrapping_add(1);
        return *n % workers;
    };
    // Multiply-shift on re-mixed bits: the low and top bits of `h` also
    // pick hash-table buckets and HyperLogLog registers in the worker.
    let mixed = h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    ((mixed * workers as u64) >> 32) as usize
}

/// Imports the records of `rdr` with `workers` worker threads into `acc`.
pub(super) fn import<R: Read>(
    rdr: &mut RecordReader<R>,
    width: usize,
    cols: &Columns,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
    workers: usize,
) -> Result<(), ImportError> {
    let session_col = cols.ctx[slot(Field::Session)];
    let file = tally.source.file.clone();
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_PER_WORKER - 2);
            let (empty_tx, empty_rx) = channel::<Batch>();
            let file = file.clone();
            handles.push(scope.spawn(move || {
                let mut acc = Accumulator::new(opts.apdex_t.clone(), opts.min_segment);
                let mut tally = Tally::new(&file, "csv", false);
                let mut rows = Rows::new(cols, opts);
                for batch in full_rx {
                    for (fields, line) in batch.iter() {
                        // Without --strict a rejected row is only counted.
                        let _ = rows.take_fields(fields, line, &mut acc, &mut tally);
                    }
                    let _ = empty_tx.send(batch);
                }
                (acc, tally)
            }));
            lanes.push(Lane {
                full: full_tx,
                empty: empty_rx,
                current: Batch::default(),
                spare: BATCHES_PER_WORKER - 1,
            });
        }
        let mut turn = 0;
        let read = read_records(rdr, width, tally, |rec, _| {
            let w = route(&rec, session_col, workers, &mut turn);
            lanes[w].push(&rec);
            Ok(())
        });
        for lane in lanes {
            lane.close();
        }
        for h in handles {
            let (worker_acc, worker_tally) =
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            acc.absorb(worker_acc);
            tally.absorb(worker_tally);
        }
        read
    })
}

#[cfg(test)]
mod tests {
    use crate::baseline::options::{Format, ImportOptions};
    use crate::baseline::{Baseline, Importer, SegmentBaseline};
    use crate::metric::Metric;

    /// Sessions of 1–3 views over 30 pages, some rows bad, one session's
    /// id padded differently on its second view.
    fn export(rows: usize) -> String {
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

    #[test]
    fn threads_do_not_change_the_baseline() {
        let text = export(20_000);
        let one = import(&text, 1);
        for threads in [2, 3] {
            let many = import(&text, threads);
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
