//! Splits a CSV stream into records: a fast path for the usual line that
//! holds no quote and no stray carriage return, and `csv_core` (the csv
//! crate's parser) for every other record, so quoting, escaped quotes,
//! quoted line breaks and stray quotes read exactly as the csv crate reads
//! them (`tests::same_records_as_the_csv_crate`).
//!
//! Why not the csv crate's reader alone: RUM exports are millions of plain
//! lines, and one vector pass over a plain line (see [`super::scan`]) costs
//! a fraction of running it through the parser's state machine byte by byte
//! (about 50 ns against 170–180 ns for the benchmark's 13-column rows, from
//! `perf` profiles of `cargo bench --bench import`). Line numbers are counted here too, from the
//! line feeds consumed, so they are physical lines (blank lines and quoted
//! line breaks included), which the csv crate's positions are not.
//!
//! Records are bounded: one longer than [`RecordReader::max_record`] bytes
//! is read past (by `csv_core`, into a small reused buffer) and returned as
//! [`Record::too_long`], so no line is ever held whole beyond the bound.

use super::scan::{Scan, scan_line};
use memchr::memchr_iter;
use std::io::{self, Read};

/// Bytes read from the input at a time; a longer line grows the buffer.
const CHUNK: usize = 1 << 18;

/// One record. Field `i` is `bytes[start(i)..ends[i]]`, where `start(0)`
/// is 0 and `start(i)` is `ends[i - 1] + 1`: fields are separated by one
/// byte, as in the line itself, so a plain line is used as it is.
pub(super) struct Record<'r> {
    pub bytes: &'r [u8],
    pub ends: &'r [u32],
    /// The physical line the record starts on (the header is line 1).
    pub line: u64,
    /// The record is longer than the bound: `bytes` and `ends` are empty.
    pub too_long: bool,
}

/// Reads records from `R`; see the module documentation.
pub(super) struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    eof: bool,
    delimiter: u8,
    /// The line number of the byte at `pos`.
    line: u64,
    /// Bytes dropped from the front of `buf` so far (`consumed + pos` is
    /// the input offset of the byte at `pos`).
    consumed: u64,
    /// The last record ended at the end of the input rather than at a line
    /// feed: a record cut short, if the input is a span of a larger file.
    cut_by_end: bool,
    /// Whether the start of the input was checked for a byte-order mark.
    bom_checked: bool,
    core: csv_core::Reader,
    /// The current record's field ends, and (slow path) its bytes.
    ends: Vec<u32>,
    joined: Vec<u8>,
    /// csv_core's output buffers.
    out: Vec<u8>,
    core_ends: Vec<usize>,
    /// Records longer than this many bytes are skipped as too long.
    max_record: usize,
}

impl<R: Read> RecordReader<R> {
    pub(super) fn new(inner: R, delimiter: u8) -> Self {
        RecordReader {
            inner,
            buf: vec![0; CHUNK],
            pos: 0,
            filled: 0,
            eof: false,
            delimiter,
            line: 1,
            consumed: 0,
            cut_by_end: false,
            bom_checked: false,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            ends: Vec::new(),
            joined: Vec::new(),
            out: vec![0; 1024],
            core_ends: vec![0; 64],
            max_record: crate::baseline::options::DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Sets the longest record read, in bytes (see the module docs).
    pub(super) fn max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// A reader of a span that starts on line `line` of a file (at a line
    /// start after the header): no byte-order mark is looked for.
    pub(super) fn at_line(mut self, line: u64) -> Self {
        self.line = line;
        self.bom_checked = true;
        self
    }

    /// The longest record read (see [`RecordReader::max_record`]).
    pub(super) fn limit(&self) -> usize {
        self.max_record
    }

    /// The input offset of the next unread byte.
    #[cfg(test)]
    pub(super) fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    /// The line the next record starts on (one past the last, at the end).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Whether the last record read was ended by the end of the input, not
    /// by a line feed (for a span of a file: the span ended inside it).
    pub(super) fn cut_by_end(&self) -> bool {
        self.cut_by_end
    }

    /// Moves the unread bytes to the front and reads more, growing the
    /// buffer when it is full of one unfinished line.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.consumed += self.pos as u64;
        self.filled -= self.pos;
        self.pos = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            break;
        }
        Ok(())
    }

    /// The next record, or `None` at the end of the input.
    pub(super) fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        if !self.bom_checked {
            while self.filled - self.pos < 3 && !self.eof {
                self.refill()?;
            }
            self.bom_checked = true;
            if self.buf[self.pos..self.filled].starts_with(b"\xef\xbb\xbf") {
                self.pos += 3;
            }
        }
        loop {
            let avail = &self.buf[self.pos..self.filled];
            let (len, step, plain) = match scan_line(avail, self.delimiter, &mut self.ends) {
                Scan::Line { len, .. } if len > self.max_record + 1 => {
                    return self.parse_with_core();
                }
                Scan::Line { len, plain } => (len, len + 1, plain),
                Scan::Quoted => return self.parse_with_core(),
                // Past the bound without a line end: csv_core reads past it.
                Scan::Unfinished { .. } if avail.len() > self.max_record + 1 => {
                    return self.parse_with_core();
                }
                Scan::Unfinished { plain } if self.eof => (avail.len(), avail.len(), plain),
                Scan::Unfinished { .. } => {
                    self.refill()?;
                    continue;
                }
            };
            if step == 0 {
                return Ok(None);
            }
            let mut line = &avail[..len];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.is_empty() {
                // Blank lines are skipped, as the csv crate skips them.
                self.pos += step;
                self.line += 1;
                continue;
            }
            if !plain {
                return self.parse_with_core();
            }
            self.ends.push(line.len() as u32);
            self.cut_by_end = step == len;
            let start = self.pos;
            let record_line = self.line;
            self.pos += step;
            self.line += 1;
            return Ok(Some(Record {
                bytes: &self.buf[start..start + line.len()],
                ends: &self.ends,
                line: record_line,
                too_long: false,
            }));
        }
    }

    /// Reads one record starting at `pos` with csv_core; past
    /// `max_record` bytes, its output is dropped as it comes.
    fn parse_with_core(&mut self) -> io::Result<Option<Record<'_>>> {
        let record_line = self.line;
        self.core.reset();
        let (mut nout, mut nend, mut taken, mut too_long) = (0, 0, 0, false);
        loop {
            if self.pos == self.filled && !self.eof {
                self.refill()?;
            }
            let input = &self.buf[self.pos..self.filled];
            let (res, nin, o, e) =
                self.core
                    .read_record(input, &mut self.out[nout..], &mut self.core_ends[nend..]);
            self.line += memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.pos += nin;
            nout += o;
            nend += e;
            taken += nin;
            if taken > self.max_record + 1 {
                // Too long: what was parsed of it is dropped from here on.
                (too_long, nout, nend) = (true, 0, 0);
            }
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull if too_long => nout = 0,
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull if too_long => nend = 0,
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.core_ends.len() * 2;
                    self.core_ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::End => return Ok(None),
                csv_core::ReadRecordResult::Record => {
                    // Given no input, the parser ends the record it was in.
                    self.cut_by_end = input.is_empty();
                    break;
                }
            }
        }
        // Re-lay the fields out with one separator byte between them.
        self.joined.clear();
        self.ends.clear();
        if too_long {
            return Ok(Some(Record {
                bytes: &self.joined,
                ends: &self.ends,
                line: record_line,
                too_long,
            }));
        }
        let mut start = 0;
        for (k, &end) in self.core_ends[..nend].iter().enumerate() {
            if k > 0 {
                self.joined.push(self.delimiter);
            }
            self.joined.extend_from_slice(&self.out[start..end]);
            self.ends.push(self.joined.len() as u32);
            start = end;
        }
        Ok(Some(Record {
            bytes: &self.joined,
            ends: &self.ends,
            line: record_line,
            too_long: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each record's fields and line, read by `RecordReader`.
    fn ours(input: &[u8]) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut r = RecordReader::new(input, b',');
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let mut start = 0;
            let fields = rec
                .ends
                .iter()
                .map(|&e| {
                    let f = rec.bytes[start..e as usize].to_vec();
                    start = e as usize + 1;
                    f
                })
                .collect();
            out.push((fields, rec.line));
        }
        out
    }

    /// The csv crate's records (headers included as a record).
    fn theirs(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            out.push(rec.iter().map(<[u8]>::to_vec).collect());
        }
        out
    }

    fn fields_of(v: &[(Vec<Vec<u8>>, u64)]) -> Vec<Vec<Vec<u8>>> {
        v.iter().map(|(f, _)| f.clone()).collect()
    }

    #[test]
    fn records_cut_short_by_the_end_of_input_are_flagged() {
        let cases = [
            ("a\nb\n", false),
            ("a\nb", true),
            ("a\r\nb\r\n\n", false),
            ("a\n\"b\nc\"\n", false),
            ("a\n\"b\n", true),
            ("a\n\"b\nc\"", true),
        ];
        for (input, cut) in cases {
            let mut r = RecordReader::new(input.as_bytes(), b',');
            while r.next_record().unwrap().is_some() {}
            assert_eq!(r.cut_by_end(), cut, "{input:?}");
            assert_eq!(r.offset(), input.len() as u64, "{input:?}");
        }
    }

    #[test]
    fn the_offset_and_line_follow_the_records_across_refills() {
        let row = format!("{},x\n", "7".repeat(1000));
        let input = format!("h,i\n{}", row.repeat(600));
        let mut r = RecordReader::new(input.as_bytes(), b',');
        r.next_record().unwrap();
        for k in 0..600u64 {
            assert_eq!(r.offset(), 4 + k * row.len() as u64);
            assert_eq!(r.line(), 2 + k);
            r.next_record().unwrap();
        }
        assert_eq!(r.offset(), input.len() as u64);
        let later = RecordReader::new(&b"1,2\n"[..], b',').at_line(40);
        assert_eq!(later.line(), 40);
    }

    #[test]
    fn plain_quoted_and_malformed_lines() {
        let input =
            b"\xef\xbb\xbfa,b,c\r\n1,2,3\r\n\r\n4,\"5\r\n5\",6\n7,x\"y,9\n\n10,\"q\"\"x\",12";
        let got = ours(input);
        assert_eq!(fields_of(&got), theirs(input));
        let lines: Vec<u64> = got.iter().map(|(_, l)| *l).collect();
        // Physical lines: a blank line and a quoted line break are counted.
        assert_eq!(lines, vec![1, 2, 4, 6, 8]);
        assert_eq!(got[2].0[1], b"5\r\n5");
        assert_eq!(
            got[3].0[1], b"x\"y",
            "a stray quote is kept, as the csv crate keeps it"
        );
    }

    #[test]
    fn a_line_longer_than_the_buffer() {
        let long = "x".repeat(CHUNK * 3);
        let input = format!("a,b\n1,{long}\n\"2\",{long}\n3,4");
        let got = ours(input.as_bytes());
        assert_eq!(fields_of(&got), theirs(input.as_bytes()));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn records_past_the_bound_are_skipped_without_holding_them() {
        // 3 MB of one line without a line feed, then a quoted 3 MB field
        // over several lines, then a short record: the buffer stays small.
        let plain = "z".repeat(3 << 20);
        let quoted = format!("\"{}\n{}\"", "q".repeat(1 << 20), "q".repeat(2 << 20));
        let input = format!("a,b\n1,{plain}\n2,{quoted}\n3,4\n");
        let mut r = RecordReader::new(input.as_bytes(), b',').max_record(4096);
        let mut got = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            got.push((rec.line, rec.too_long, rec.ends.len()));
        }
        assert_eq!(
            got,
            vec![(1, false, 2), (2, true, 0), (3, true, 0), (5, false, 2)]
        );
        assert!(r.buf.len() <= 1 << 19, "buffer grew to {}", r.buf.len());
        assert!(r.out.len() <= 1 << 14, "output grew to {}", r.out.len());
    }

    #[test]
    fn empty_and_blank_inputs_have_no_records() {
        assert!(ours(b"").is_empty());
        assert!(ours(b"\n\r\n\n").is_empty());
    }

    /// Text built from the characters that matter to a CSV parser.
    fn csvish() -> impl Strategy<Value = Vec<u8>> {
        let atom = prop_oneof![
            4 => Just(b"a".to_vec()),
            2 => Just(b"12".to_vec()),
            3 => Just(b",".to_vec()),
            2 => Just(b"\n".to_vec()),
            1 => Just(b"\r\n".to_vec()),
            1 => Just(b"\r".to_vec()),
            2 => Just(b"\"".to_vec()),
            1 => Just(b"\"\"".to_vec()),
            1 => Just("é".as_bytes().to_vec()),
        ];
        prop::collection::vec(atom, 0..80).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn same_records_as_the_csv_crate(input in csvish()) {
            prop_assert_eq!(fields_of(&ours(&input)), theirs(&input));
        }

        #[test]
        fn lines_are_physical_lines(input in csvish()) {
            let got = ours(&input);
            let newlines = input.iter().filter(|b| **b == b'\n').count() as u64;
            // Non-decreasing: a lone carriage return ends a record too.
            for w in got.windows(2) {
                prop_assert!(w[0].1 <= w[1].1, "{:?}", got);
            }
            if let Some((_, last)) = got.last() {
                prop_assert!(*last <= newlines + 1);
            }
        }

        #[test]
        fn same_records_from_a_reader_that_returns_one_byte_at_a_time(input in csvish()) {
            struct Trickle<'a>(&'a [u8]);
            impl Read for Trickle<'_> {
                fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                    let n = self.0.len().min(out.len()).min(1);
                    out[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let mut r = RecordReader::new(Trickle(&input), b',');
            let mut n = 0;
            while r.next_record().unwrap().is_some() {
                n += 1;
            }
            prop_assert_eq!(n, theirs(&input).len());
        }
    }
}
