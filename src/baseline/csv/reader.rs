//! Splits a CSV stream into records: a fast path for the usual line that
//! holds no quote and no stray carriage return, and `csv_core` (the csv
//! crate's parser) for every other record, so quoting, escaped quotes,
//! quoted line breaks and stray quotes read exactly as the csv crate reads
//! them (`tests::same_records_as_the_csv_crate`).
//!
//! Why not the csv crate's reader alone: RUM exports are millions of plain
//! lines, and finding a plain line's field boundaries with `memchr` costs a
//! fraction of running them through the parser's state machine byte by byte
//! (see the import benchmark). Line numbers are counted here too, from the
//! line feeds consumed, so they are physical lines (blank lines and quoted
//! line breaks included), which the csv crate's positions are not.

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
    /// Whether the start of the input was checked for a byte-order mark.
    bom_checked: bool,
    core: csv_core::Reader,
    /// The current record's field ends, and (slow path) its bytes.
    ends: Vec<u32>,
    joined: Vec<u8>,
    /// csv_core's output buffers.
    out: Vec<u8>,
    core_ends: Vec<usize>,
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
            bom_checked: false,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            ends: Vec::new(),
            joined: Vec::new(),
            out: vec![0; 1024],
            core_ends: vec![0; 64],
        }
    }

    /// Moves the unread bytes to the front and reads more, growing the
    /// buffer when it is full of one unfinished line.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
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
                Scan::Line { len, plain } => (len, len + 1, plain),
                Scan::Quoted => return self.parse_with_core(),
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
            let start = self.pos;
            let record_line = self.line;
            self.pos += step;
            self.line += 1;
            return Ok(Some(Record {
                bytes: &self.buf[start..start + line.len()],
                ends: &self.ends,
                line: record_line,
            }));
        }
    }

    /// Reads one record starting at `pos` with csv_core.
    fn parse_with_core(&mut self) -> io::Result<Option<Record<'_>>> {
        let record_line = self.line;
        self.core.reset();
        let (mut nout, mut nend) = (0, 0);
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
            match res {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.core_ends.len() * 2;
                    self.core_ends.resize(n, 0);
                }
                csv_core::ReadRecordResult::End => return Ok(None),
                csv_core::ReadRecordResult::Record => break,
            }
        }
        // Re-lay the fields out with one separator byte between them.
        self.joined.clear();
        self.ends.clear();
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
        }))
    }
}

/// What [`scan_line`] found at the start of a buffer.
#[derive(Debug, PartialEq)]
enum Scan {
    /// A line feed at `len`; `plain` if the line holds no carriage return
    /// but one just before the line feed.
    Line { len: usize, plain: bool },
    /// A quote before any line feed: the csv parser takes over.
    Quoted,
    /// No line feed in the buffer.
    Unfinished { plain: bool },
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `w` that equals `b`, and no other bit.
/// (`(x & 0x7f) + 0x7f` sets a byte's high bit iff its low bits are not
/// all zero, without carrying into the next byte; or-ing `x` adds its own
/// high bit: what stays clear marks a zero byte of `x`.)
#[inline(always)]
fn bytes_equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    !(((x & !HIGH) + !HIGH) | x) & HIGH
}

/// Eight bytes as a word, byte 0 lowest; short slices are padded with
/// zeros, which match none of the bytes looked for.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            let mut w = [0; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(w)
        }
    }
}

/// Scans the first line of `buf` eight bytes at a time, writing the
/// offsets of its delimiters to `ends` (one pass finds the line feed, the
/// delimiters, quotes and carriage returns, where `memchr` would take one
/// call per delimiter).
fn scan_line(buf: &[u8], delimiter: u8, ends: &mut Vec<u32>) -> Scan {
    ends.clear();
    let mut returns = 0;
    let mut off = 0;
    while off < buf.len() {
        let w = word(&buf[off..]);
        // Line feeds, carriage returns and quotes are all below 0x23: one
        // test (exact: some byte is below it) skips the three exact ones
        // on most words.
        let low = w.wrapping_sub(ONES * 0x23) & !w & HIGH;
        let (mut feeds, mut before) = (0, u64::MAX);
        if low != 0 {
            feeds = bytes_equal(w, b'\n');
            if feeds != 0 {
                // Every bit below the first line feed's flag: the bytes before it.
                before = (feeds & feeds.wrapping_neg()) - 1;
            }
            if bytes_equal(w, b'"') & before != 0 {
                return Scan::Quoted;
            }
            returns += (bytes_equal(w, b'\r') & before).count_ones();
        }
        let mut delims = bytes_equal(w, delimiter) & before;
        while delims != 0 {
            ends.push((off + delims.trailing_zeros() as usize / 8) as u32);
            delims &= delims - 1;
        }
        if feeds != 0 {
            let len = off + feeds.trailing_zeros() as usize / 8;
            let plain = returns == 0 || returns == 1 && buf[len - 1] == b'\r';
            return Scan::Line { len, plain };
        }
        off += 8;
    }
    let plain = returns == 0 || returns == 1 && buf.last() == Some(&b'\r');
    Scan::Unfinished { plain }
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

    /// `scan_line` the slow way.
    fn scan_naive(buf: &[u8], delimiter: u8) -> (Scan, Vec<u32>) {
        let len = buf.iter().position(|b| *b == b'\n');
        let line = &buf[..len.unwrap_or(buf.len())];
        if line.contains(&b'"') {
            return (Scan::Quoted, Vec::new());
        }
        let returns = line.iter().filter(|b| **b == b'\r').count();
        let plain = returns == 0 || returns == 1 && line.last() == Some(&b'\r');
        let ends = (0..line.len())
            .filter(|i| line[*i] == delimiter)
            .map(|i| i as u32)
            .collect();
        let scan = match len {
            Some(len) => Scan::Line { len, plain },
            None => Scan::Unfinished { plain },
        };
        (scan, ends)
    }

    proptest! {
        #[test]
        fn scan_line_finds_what_a_byte_loop_finds(
            buf in prop::collection::vec(prop_oneof![
                Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), Just(b';'), Just(0xe9u8), any::<u8>()
            ], 0..40),
            semicolon in any::<bool>(),
        ) {
            let d = if semicolon { b';' } else { b',' };
            let mut ends = Vec::new();
            let got = scan_line(&buf, d, &mut ends);
            let (want, want_ends) = scan_naive(&buf, d);
            if want != Scan::Quoted {
                prop_assert_eq!(ends, want_ends);
            }
            prop_assert_eq!(got, want);
        }

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
