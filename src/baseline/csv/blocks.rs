//! The CSV import of a file on disk: the file is cut into blocks, threads
//! read, parse and aggregate one block at a time, each into a fresh
//! [`Accumulator`], and the blocks are merged in file order.
//!
//! Why the baseline does not depend on `-j`: where the blocks start depends
//! on the file alone (its size and where its lines start), never on the
//! thread count, and each block is aggregated from a fresh state and merged
//! in file order. The threads only decide which block is read when. So the
//! one-hour session expiry, which follows the data's clock as rows arrive,
//! sees the same rows in the same order with `-j 1` as with `-j 7`, however
//! the export is sorted (`tests::any_thread_count_gives_the_same_baseline`).
//!
//! Three things need care:
//! - A quoted field may hold line breaks, so a line start found after a cut
//!   may lie inside a record. Each block's reader parses its bytes as if
//!   they were the whole input; if it starts at a true record start, it
//!   parses exactly as a single reader would, and reaches the next block's
//!   start either between records (the cut was right) or inside one, which
//!   the block's end then cuts short ([`RecordReader::cut_by_end`]). The
//!   first block starts after the header, so by induction every cut is
//!   checked; after a wrong one the whole file is read as one block.
//! - A session may have views on both sides of a cut. Each block keeps the
//!   sessions that begin early in it until the merge
//!   ([`Accumulator::hold_early_sessions`]), which joins the two halves
//!   ([`Accumulator::absorb`]).
//! - Pages are capped (`--max-pages`). The first pass aggregates every page
//!   and gives up as soon as a block or the merge holds more than the cap;
//!   then a counting pass finds the most viewed pages with Space-Saving
//!   summaries ([`SpaceSaving`], merged in file order), and a last pass
//!   aggregates those pages and folds the rest into `(other)`. Exports
//!   within the cap (the usual ones) are read once.
//!
//! Line numbers in a block count from its start and are shifted by the
//! lines of the blocks before it when the tallies merge.

use super::reader::RecordReader;
use super::{Columns, Fields, Pages, Rows, header, no_rows, read_records, resolve};
use crate::baseline::accum::Accumulator;
use crate::baseline::distinct::PreHashedState;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::options::{ImportOptions, OTHER_PAGE};
use crate::baseline::topk::{SpaceSaving, page_hash};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::{ControlFlow, Range};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// A block is a 64th of the file, but at least 4 MiB (each block starts
/// its groups, distinct sets and sessions afresh and is merged serially:
/// with 1 MiB blocks that cost 20 % more CPU per row on the benchmark) and
/// at most 16 MiB (so blocks in flight stay small and the last one does not
/// keep one thread busy alone for long).
const BLOCKS_PER_FILE: u64 = 64;
#[cfg(not(test))]
const BLOCK_MIN: u64 = 4 << 20;
/// Unit tests cut their few-MB files into several blocks.
#[cfg(test)]
const BLOCK_MIN: u64 = 1 << 20;
const BLOCK_MAX: u64 = 16 << 20;

/// Page-view numbers of block `k` start at `k << VIEW_BITS` (2^40 rows a block).
const VIEW_BITS: u32 = 40;

/// Space-Saving counters per page kept: with 4× the cap the summary ranks
/// the pages around the cap's boundary from counts, not from its error.
const COUNTERS_PER_PAGE: usize = 4;

/// Rows between checks whether another block asked everyone to stop.
const STOP_CHECK: u64 = 1024;

/// Imports the CSV file at `path` (a regular file, not gzipped) into `acc`;
/// see the module documentation.
pub(crate) fn import_file(
    path: &Path,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    let name = tally.source.file.clone();
    let io = |source| ImportError::Io {
        file: name.clone(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let Some(head) = header(BufReader::new(file), opts.max_line_bytes, tally)? else {
        return Ok(());
    };
    let cols = resolve(&head.names, opts, &name)?;
    let mut plan = Plan {
        path,
        name: &name,
        cols: &cols,
        opts,
        width: head.names.len(),
        delimiter: head.delimiter,
        first_line: head.line,
        starts: block_starts(path, head.data..len.max(head.data)).map_err(io)?,
        len,
    };
    let threads = opts.thread_count();
    let mut pass = plan.aggregate(Pages::All, threads)?;
    if matches!(pass, Pass::BadCut) {
        plan.starts.truncate(1);
        pass = plan.aggregate(Pages::All, threads)?;
    }
    let (file_acc, file_tally) = match pass {
        Pass::Done(done) => *done,
        _ => {
            let kept = match plan.top_pages(threads)? {
                Some(kept) => kept,
                None => {
                    plan.starts.truncate(1);
                    plan.top_pages(threads)?.unwrap_or_default()
                }
            };
            match plan.aggregate(Pages::Kept(&kept), threads)? {
                Pass::Done(done) => *done,
                // The cuts were checked by the counting pass.
                _ => return Err(plan.internal("a checked cut failed")),
            }
        }
    };
    acc.absorb(file_acc);
    tally.absorb(file_tally, 0);
    no_rows(tally)
}

/// Where each block of `data` (the file's bytes after the header) starts:
/// at the first line start at or after each multiple of the block size.
fn block_starts(path: &Path, data: Range<u64>) -> std::io::Result<Vec<u64>> {
    let size = ((data.end - data.start) / BLOCKS_PER_FILE).clamp(BLOCK_MIN, BLOCK_MAX);
    let mut starts = vec![data.start];
    let mut file = BufReader::with_capacity(1 << 14, File::open(path)?);
    let mut cut = data.start + size;
    while cut < data.end {
        // The byte before the cut may be the line feed that ends a line.
        file.seek(SeekFrom::Start(cut - 1))?;
        let start = cut - 1 + file.skip_until(b'\n')? as u64;
        if start >= data.end {
            break;
        }
        if start > *starts.last().unwrap_or(&0) {
            starts.push(start);
        }
        cut = cut.max(start) + size;
    }
    Ok(starts)
}

/// The file, its columns and its blocks.
struct Plan<'a> {
    path: &'a Path,
    name: &'a str,
    cols: &'a Columns,
    opts: &'a ImportOptions,
    width: usize,
    delimiter: u8,
    /// The line the first record after the header is on.
    first_line: u64,
    starts: Vec<u64>,
    len: u64,
}

/// How a pass over the blocks ended.
enum Pass {
    /// Every block merged.
    Done(Box<(Accumulator, Tally)>),
    /// More pages than `--max-pages`: nothing was kept.
    Overflow,
    /// A cut fell inside a quoted field: nothing was kept.
    BadCut,
}

/// What a block's thread aggregated.
struct Aggregated {
    acc: Accumulator,
    tally: Tally,
    /// Lines the block holds.
    lines: u64,
    /// Its last record ran into the block's end (see the module docs).
    cut: bool,
    /// It stopped early, holding more pages than the cap.
    overflow: bool,
}

/// What a block's thread counted in the counting pass.
struct Counted {
    top: SpaceSaving,
    cut: bool,
}

impl Plan<'_> {
    fn internal(&self, what: &str) -> ImportError {
        ImportError::Io {
            file: self.name.to_string(),
            source: std::io::Error::other(format!("internal error: {what}")),
        }
    }

    /// A reader of block `k`, at its first record.
    fn reader(&self, k: usize) -> Result<RecordReader<impl Read>, ImportError> {
        let io = |source| ImportError::Io {
            file: self.name.to_string(),
            source,
        };
        let start = self.starts[k];
        let end = self.starts.get(k + 1).copied().unwrap_or(self.len);
        let mut file = File::open(self.path).map_err(io)?;
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let first_line = if k == 0 { self.first_line } else { 1 };
        Ok(RecordReader::new(file.take(end - start), self.delimiter)
            .at_line(first_line)
            .max_record(self.opts.max_line_bytes))
    }

    /// Aggregates block `k`; with [`Pages::All`] it stops once it holds more
    /// than `--max-pages` pages.
    fn aggregate_block(
        &self,
        k: usize,
        pages: Pages<'_>,
        stop: &AtomicBool,
    ) -> Result<Aggregated, ImportError> {
        let mut rdr = self.reader(k)?;
        let opts = self.opts;
        let mut acc = Accumulator::new(opts.apdex_t.clone(), opts.min_segment);
        if k > 0 {
            // Its first sessions may have begun in the block before.
            acc.hold_early_sessions();
        }
        let mut tally = Tally::new(self.name, "csv", opts.strict);
        let mut rows = Rows::new(self.cols, opts, pages).numbering_from((k as u64) << VIEW_BITS);
        let cap = match pages {
            Pages::All => opts.max_pages,
            Pages::Kept(_) => usize::MAX,
        };
        let mut overflow = false;
        read_records(&mut rdr, self.width, &mut tally, |rec, tally| {
            let fields = Fields::new(rec.bytes, rec.ends);
            rows.take_fields(fields, rec.line, &mut acc, tally)?;
            overflow = acc.page_count() > cap;
            let stopped = tally.source.rows_read % STOP_CHECK == 0 && stop.load(Ordering::Relaxed);
            Ok(if overflow || stopped {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
        // Apply buffered updates here, in parallel, rather than in the merge.
        acc.flush_all();
        let first_line = if k == 0 { self.first_line } else { 1 };
        Ok(Aggregated {
            acc,
            tally,
            lines: rdr.line() - first_line,
            cut: rdr.cut_by_end(),
            overflow,
        })
    }

    /// One pass that aggregates every block (see [`Pass`]).
    fn aggregate(&self, pages: Pages<'_>, threads: usize) -> Result<Pass, ImportError> {
        let opts = self.opts;
        let mut acc = Accumulator::new(opts.apdex_t.clone(), opts.min_segment);
        let mut tally = Tally::new(self.name, "csv", opts.strict);
        let mut line = self.first_line;
        let mut end: Result<Option<Pass>, ImportError> = Ok(None);
        let last = self.starts.len() - 1;
        in_order(
            self.starts.len(),
            threads,
            |k, stop| self.aggregate_block(k, pages, stop),
            |k, out| {
                // Lines of block k count from 1: shift them past the blocks before.
                let offset = if k == 0 { 0 } else { line - 1 };
                let out = match out {
                    Ok(out) => out,
                    Err(ImportError::Strict {
                        file,
                        line: l,
                        reason,
                        detail,
                    }) => {
                        let line = l + offset;
                        end = Err(ImportError::Strict {
                            file,
                            line,
                            reason,
                            detail,
                        });
                        return ControlFlow::Break(());
                    }
                    Err(e) => {
                        end = Err(e);
                        return ControlFlow::Break(());
                    }
                };
                if out.cut && k < last {
                    end = Ok(Some(Pass::BadCut));
                    return ControlFlow::Break(());
                }
                line += out.lines;
                acc.absorb(out.acc);
                tally.absorb(out.tally, offset);
                if out.overflow || acc.page_count() > opts.max_pages && matches!(pages, Pages::All)
                {
                    end = Ok(Some(Pass::Overflow));
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        );
        Ok(end?.unwrap_or_else(|| Pass::Done(Box::new((acc, tally)))))
    }

    /// The counting pass: the hashes of the `--max-pages` most viewed
    /// pages, or `None` when a cut fell inside a quoted field.
    fn top_pages(
        &self,
        threads: usize,
    ) -> Result<Option<HashSet<u64, PreHashedState>>, ImportError> {
        let capacity = self.opts.max_pages.saturating_mul(COUNTERS_PER_PAGE);
        let count = |k: usize, stop: &AtomicBool| -> Result<Counted, ImportError> {
            let mut rdr = self.reader(k)?;
            let mut rows = Rows::new(self.cols, self.opts, Pages::All);
            let mut top = SpaceSaving::new(capacity);
            // Rejections are counted by the aggregating pass, not here.
            let mut tally = Tally::new(self.name, "csv", false);
            read_records(&mut rdr, self.width, &mut tally, |rec, tally| {
                if let Some(page) = rows.accepted_page(Fields::new(rec.bytes, rec.ends)) {
                    top.add(page_hash(page), 1);
                }
                let stopped =
                    tally.source.rows_read % STOP_CHECK == 0 && stop.load(Ordering::Relaxed);
                Ok(if stopped {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            })?;
            Ok(Counted {
                top,
                cut: rdr.cut_by_end(),
            })
        };
        let mut total = SpaceSaving::new(capacity);
        let mut end: Result<bool, ImportError> = Ok(true);
        let last = self.starts.len() - 1;
        in_order(self.starts.len(), threads, count, |k, out| match out {
            Ok(c) if c.cut && k < last => {
                end = Ok(false);
                ControlFlow::Break(())
            }
            Ok(c) => {
                total.merge(&c.top);
                ControlFlow::Continue(())
            }
            Err(e) => {
                end = Err(e);
                ControlFlow::Break(())
            }
        });
        if !end? {
            return Ok(None);
        }
        let other = page_hash(OTHER_PAGE);
        let ranked = total.ranked().into_iter().filter(|(h, _)| *h != other);
        Ok(Some(
            ranked.take(self.opts.max_pages).map(|(h, _)| h).collect(),
        ))
    }
}

/// Blocks handed out and finished, behind one lock.
struct Queue<T> {
    /// The next block to hand out.
    next: usize,
    /// Blocks merged so far (the next to merge).
    merged: usize,
    /// Finished blocks waiting for their turn to merge.
    ready: BTreeMap<usize, T>,
}

/// Runs `work` on blocks `0..n` on `threads` threads (this one included)
/// and hands the results to `merge` in block order, on this thread. Blocks
/// are handed out in order, at most `2 × threads` ahead of the merge (which
/// bounds the results held). When `merge` breaks, no further block is
/// started and `work` sees `stop` set.
fn in_order<T: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(usize, &AtomicBool) -> T + Sync,
    mut merge: impl FnMut(usize, T) -> ControlFlow<()>,
) {
    let window = 2 * threads.max(1);
    let queue = Mutex::new(Queue {
        next: 0,
        merged: 0,
        ready: BTreeMap::new(),
    });
    let (changed, stop) = (Condvar::new(), AtomicBool::new(false));
    let lock = || queue.lock().unwrap_or_else(PoisonError::into_inner);
    // The next block to work on, waiting while the window is full; `None`
    // when every block is handed out or the merge stopped.
    let take = |q: &mut Queue<T>| -> Option<Option<usize>> {
        if stop.load(Ordering::Relaxed) || q.next >= n {
            return Some(None);
        }
        if q.next >= q.merged + window {
            return None;
        }
        q.next += 1;
        Some(Some(q.next - 1))
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(n) {
            scope.spawn(|| {
                let mut q = lock();
                loop {
                    match take(&mut q) {
                        Some(Some(k)) => {
                            drop(q);
                            let out = work(k, &stop);
                            q = lock();
                            q.ready.insert(k, out);
                            changed.notify_all();
                        }
                        Some(None) => return,
                        None => q = changed.wait(q).unwrap_or_else(PoisonError::into_inner),
                    }
                }
            });
        }
        // This thread merges whatever is next in order, else works too.
        let mut q = lock();
        while q.merged < n && !stop.load(Ordering::Relaxed) {
            let k = q.merged;
            if let Some(out) = q.ready.remove(&k) {
                q.merged += 1;
                changed.notify_all();
                drop(q);
                if merge(k, out).is_break() {
                    stop.store(true, Ordering::Relaxed);
                }
                q = lock();
                continue;
            }
            match take(&mut q) {
                Some(Some(j)) => {
                    drop(q);
                    let out = work(j, &stop);
                    q = lock();
                    q.ready.insert(j, out);
                }
                _ => q = changed.wait(q).unwrap_or_else(PoisonError::into_inner),
            }
        }
        changed.notify_all();
    });
}

#[cfg(test)]
mod tests;
