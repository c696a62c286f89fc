//! CSV import of a file on disk on several threads: the file is cut into
//! one span per thread at line starts, and each thread reads, parses and
//! aggregates its own span into its own [`Accumulator`]; the accumulators
//! are merged in file order at the end.
//!
//! Why not only the streaming split of [`super::parallel`]: there one
//! thread reads every record and hands batches to the others, and lanes of
//! aggregates move between cores. A span costs its thread what a whole
//! file costs one thread, with no hand-off at all.
//!
//! Two things need care:
//! - A quoted field may hold line breaks, so a line start found after a cut
//!   may lie inside a record. Each span's reader parses its bytes as if they
//!   were the whole input; if it starts at a true record start, it parses
//!   exactly as a single reader would, and reaches the next span's start
//!   either between records (the cut was right) or inside one, which the
//!   input's end then cuts short ([`RecordReader::cut_by_end`]). The first
//!   span starts after the header, so by induction every cut is checked;
//!   after a wrong one the whole file is imported as a stream instead.
//! - A session may have views on both sides of a cut. Each span keeps the
//!   sessions that begin early in it until the merge
//!   ([`Accumulator::hold_early_sessions`]), which joins the two halves
//!   ([`Accumulator::absorb`]). For an export sorted by time the baseline
//!   is the one a single thread builds (`tests`); in other orders both
//!   approximate the one-hour session expiry (a single thread by periodic
//!   sweeps) and may count a few sessions differently. Also approximate:
//!   in the long format, an LCP row of a session's landing view that
//!   comes after the cut and after another view's row is not its landing
//!   LCP.
//!
//! Line numbers in a span count from its start and are shifted by the
//! lines of the spans before it when the tallies merge.

use super::reader::RecordReader;
use super::{Columns, Fields, Rows, import, no_rows, open, read_records, resolve};
use crate::baseline::accum::Accumulator;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::options::ImportOptions;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

/// Bytes a span has at least: smaller files are not worth a thread.
const SPAN_MIN: u64 = 1 << 20;

/// Page-view numbers of span `k` start at `k << VIEW_BITS` (2^40 rows a span).
const VIEW_BITS: u32 = 40;

/// Whether [`import_file`] would split `file`: a plain (not gzipped)
/// regular file of at least two spans, imported with more than one thread.
/// Leaves the file's position at its start.
pub fn splits(file: &mut File, opts: &ImportOptions) -> bool {
    let big = file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() >= 2 * SPAN_MIN);
    if opts.thread_count() < 2 || !big {
        return false;
    }
    let mut magic = [0; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0)).is_ok() && !gzip
}

/// Imports the CSV file at `path` (which [`splits`] accepted) into `acc`,
/// a span per thread; see the module documentation.
pub fn import_file(
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
    let Some((rdr, headers)) = open(BufReader::new(file), tally)? else {
        return Ok(());
    };
    let cols = resolve(&headers, opts, &name)?;
    let (data, first_line, delimiter) = (rdr.offset(), rdr.line(), rdr.delimiter());
    let n = opts
        .thread_count()
        .min((len.saturating_sub(data) / SPAN_MIN).max(1) as usize);
    let starts = span_starts(path, data..len, n).map_err(io)?;
    let read = |k: usize| {
        let range = starts[k]..starts.get(k + 1).copied().unwrap_or(len);
        let span = Span {
            path,
            range,
            first_line: if k == 0 { first_line } else { 1 },
            first_view: (k as u64) << VIEW_BITS,
            delimiter,
            width: headers.len(),
        };
        span.read(&cols, opts, &name)
    };
    let spans: Vec<Result<SpanOut, ImportError>> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..starts.len())
            .map(|k| scope.spawn(move || read(k)))
            .collect();
        let first = read(0);
        std::iter::once(first)
            .chain(others.into_iter().map(|h| {
                // A span's thread only panics in a bug: re-raise it here.
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            }))
            .collect()
    });
    let spans = spans.into_iter().collect::<Result<Vec<_>, _>>()?;
    let last = spans.len() - 1;
    if spans[..last].iter().any(|s| s.cut) {
        // A cut fell inside a quoted field: read the file as one stream.
        let file = File::open(path).map_err(io)?;
        return import(BufReader::with_capacity(1 << 16, file), opts, acc, tally);
    }
    let mut line = first_line;
    for (k, span) in spans.into_iter().enumerate() {
        let offset = if k == 0 { 0 } else { line - 1 };
        line += span.lines;
        acc.absorb(span.acc);
        tally.absorb(span.tally, offset);
    }
    no_rows(tally)
}

/// Where each of `n` spans of `data` (the file's bytes after the header)
/// starts: at the first line start at or after each even cut, never
/// before the previous span's start.
fn span_starts(path: &Path, data: Range<u64>, n: usize) -> std::io::Result<Vec<u64>> {
    let mut starts = vec![data.start];
    let mut file = BufReader::with_capacity(1 << 14, File::open(path)?);
    for k in 1..n as u64 {
        let cut = data.start + (data.end - data.start) * k / n as u64;
        // The byte before the cut may be the line feed that ends a line.
        file.seek(SeekFrom::Start(cut - 1))?;
        let skipped = file.skip_until(b'\n')?;
        let start = (cut - 1 + skipped as u64).max(*starts.last().unwrap_or(&0));
        if start >= data.end {
            break;
        }
        if start > *starts.last().unwrap_or(&0) {
            starts.push(start);
        }
    }
    Ok(starts)
}

/// One span of the file and how to read it.
struct Span<'p> {
    path: &'p Path,
    range: Range<u64>,
    /// The line the span starts on: the real one for the first span, 1 for
    /// the others (shifted when the tallies merge).
    first_line: u64,
    first_view: u64,
    delimiter: u8,
    width: usize,
}

/// What a span's thread aggregated.
struct SpanOut {
    acc: Accumulator,
    tally: Tally,
    /// Lines the span holds.
    lines: u64,
    /// Its last record ran into the span's end (see the module docs).
    cut: bool,
}

impl Span<'_> {
    fn read(
        self,
        cols: &Columns,
        opts: &ImportOptions,
        name: &str,
    ) -> Result<SpanOut, ImportError> {
        let io = |source| ImportError::Io {
            file: name.to_string(),
            source,
        };
        let mut file = File::open(self.path).map_err(io)?;
        file.seek(SeekFrom::Start(self.range.start)).map_err(io)?;
        let bytes = file.take(self.range.end - self.range.start);
        let mut rdr = RecordReader::new(bytes, self.delimiter).at_line(self.first_line);
        let mut acc = Accumulator::new(opts.apdex_t.clone(), opts.min_segment);
        acc.hold_early_sessions();
        // Never strict: `--strict` imports on one thread (`splits`).
        let mut tally = Tally::new(name, "csv", false);
        let mut rows = Rows::new(cols, opts).numbering_from(self.first_view);
        read_records(&mut rdr, self.width, &mut tally, |rec, tally| {
            let fields = Fields::new(rec.bytes, rec.ends);
            rows.take_fields(fields, rec.line, None, &mut acc, tally)
        })?;
        // Apply buffered updates here, in parallel, rather than in the merge.
        acc.flush_all();
        Ok(SpanOut {
            acc,
            tally,
            lines: rdr.line() - self.first_line,
            cut: rdr.cut_by_end(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::parallel::tests::{assert_same, export};
    use super::*;
    use crate::baseline::options::Format;
    use crate::baseline::{Baseline, Importer};
    use crate::metric::Metric;
    use std::io::Write;

    fn options(threads: usize) -> ImportOptions {
        let mut o = ImportOptions::new(Format::Csv);
        o.threads = threads;
        o.min_segment = 1;
        o.apdex_t.insert(Metric::Lcp, 2500.0);
        o
    }

    fn import_path(path: &Path, threads: usize) -> Baseline {
        let mut imp = Importer::new(options(threads));
        imp.read_file(path).unwrap();
        imp.finish().unwrap()
    }

    /// Imports `text` from a file with one thread and with `threads`, and
    /// checks that every segment and the provenance agree.
    fn same_as_one_thread(text: &str, threads: &[usize]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let one = import_path(&path, 1);
        for &n in threads {
            let mut file = File::open(&path).unwrap();
            assert!(splits(&mut file, &options(n)), "{n} threads");
            assert_same(&one, &import_path(&path, n), n);
        }
    }

    #[test]
    fn spans_give_the_baseline_of_one_thread() {
        // About 3.5 MB: three spans of over a megabyte each. Sessions of
        // consecutive rows straddle the cuts; some rows are rejected.
        let text = export(42_000);
        assert!(text.len() as u64 > 3 * SPAN_MIN);
        same_as_one_thread(&text, &[2, 3]);
    }

    /// A 90 000-row export (`time(i)`, session `session(i)`, 7 pages).
    fn sessions_export(time: impl Fn(u64) -> u64, session: impl Fn(u64) -> u64) -> String {
        let mut out = String::from("timestamp,session_id,url,lcp\n");
        for i in 0..90_000 {
            let (t, s, lcp) = (time(i), session(i), 1000 + (i * 37) % 3000);
            out.push_str(&format!(
                "{t},s{s},https://shop.example/p{}/x,{lcp}\n",
                i % 7
            ));
        }
        out
    }

    #[test]
    fn an_id_seen_again_after_hours_is_a_new_session_in_any_span() {
        // One row a second; each id comes back every 20 000 s.
        let text = sessions_export(|i| 1_700_000_000 + i, |i| i % 20_000);
        same_as_one_thread(&text, &[2, 3]);
    }

    #[test]
    fn an_old_timestamp_inside_a_span_does_not_split_its_first_sessions() {
        // Sessions of three rows 10 s apart, and one row from 2001.
        let odd = |i| match i {
            47_000 => 1_000_000_000,
            i => 1_700_000_000 + i * 10,
        };
        same_as_one_thread(&sessions_export(odd, |i| i / 3), &[2, 3]);
    }

    #[test]
    fn a_cut_inside_a_quoted_field_reads_the_file_as_one_stream() {
        // A 1.2 MB quoted stack trace sits in the middle of the file, so
        // the cut for two spans falls inside it, after a line feed.
        let rows = export(12_000);
        let mut lines = rows.lines();
        let mut text = format!("{},error\n", lines.next().unwrap_or_default());
        let body: Vec<&str> = lines.collect();
        let (head, tail) = body.split_at(body.len() / 2);
        for l in head {
            text.push_str(&format!("{l},\n"));
        }
        let stack = "    at render (https://shop.example/app.js:1:2)\n".repeat(25_000);
        text.push_str(&format!("{},\"TypeError: x is null\n{stack}\"\n", head[0]));
        for l in tail {
            text.push_str(&format!("{l},\n"));
        }
        let data = text.find('\n').unwrap_or(0);
        let cut = data + (text.len() - data) / 2;
        let quoted = text.find("TypeError").unwrap_or(0)..text.rfind('"').unwrap_or(0);
        assert!(quoted.contains(&cut), "the cut at {cut} misses {quoted:?}");
        same_as_one_thread(&text, &[2]);
    }
}
