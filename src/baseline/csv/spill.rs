//! A CSV stream (standard input, gzip) is copied to a temporary file and
//! imported as a file ([`super::blocks`]): one import path, so a stream and
//! a file give the same baseline, for any `-j`.
//!
//! The copy holds no line: it moves 64 KiB at a time. A physical line
//! longer than `--max-line-bytes` is cut in the copy just past the bound
//! (the reader rejects it as too long anyway), keeping the parity of its
//! quotes so that the records after it are read as they would have been;
//! so the temporary file is at most about the stream's size, and an endless
//! line costs no disk. A header longer than the bound ends the copy at once
//! with an error.

use super::blocks::import_file;
use crate::baseline::accum::Accumulator;
use crate::baseline::error::{ImportError, Tally};
use crate::baseline::options::ImportOptions;
use memchr::{memchr, memchr_iter};
use std::io::{BufWriter, Read, Write};

/// Copies `reader` to a temporary file (in `TMPDIR`) and imports it.
pub(crate) fn import_stream(
    reader: impl Read,
    opts: &ImportOptions,
    acc: &mut Accumulator,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    let file = tally.source.file.clone();
    let io = |source| ImportError::Io {
        file: file.clone(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new().map_err(|e| ImportError::Io {
        file: file.clone(),
        source: std::io::Error::new(
            e.kind(),
            format!("cannot create a temporary file to copy the stream to (set TMPDIR): {e}"),
        ),
    })?;
    let mut out = BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    match copy_bounded(reader, &mut out, opts.max_line_bytes) {
        Ok(true) => {}
        Ok(false) => {
            return Err(ImportError::HeaderTooLong {
                file,
                limit: opts.max_line_bytes,
            });
        }
        Err(e) => return Err(io(e)),
    }
    out.flush().map_err(io)?;
    drop(out);
    import_file(tmp.path(), opts, acc, tally)
}

/// Copies `reader` to `out`, cutting physical lines longer than `limit + 2`
/// bytes (see the module docs). Returns `false`, having stopped, when the
/// first line (the header) is longer than `limit`.
fn copy_bounded(
    mut reader: impl Read,
    out: &mut impl Write,
    limit: usize,
) -> std::io::Result<bool> {
    let keep = limit + 2;
    let mut buf = vec![0; 1 << 16];
    // Bytes of the current line seen, and whether an odd number of quotes
    // was dropped from it.
    let (mut line_len, mut odd_quotes, mut header) = (0usize, false, true);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (part, feed) = match memchr(b'\n', rest) {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            let room = keep.saturating_sub(line_len).min(part.len());
            out.write_all(&part[..room])?;
            let dropped = &part[room..];
            odd_quotes ^= memchr_iter(b'"', dropped).count() % 2 == 1;
            line_len = line_len.saturating_add(part.len());
            if header && line_len > limit {
                return Ok(false);
            }
            if feed {
                if odd_quotes {
                    out.write_all(b"\"")?;
                }
                out.write_all(b"\n")?;
                (line_len, odd_quotes, header) = (0, false, false);
                rest = &rest[part.len() + 1..];
            } else {
                rest = &[];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(input: &[u8], limit: usize) -> (bool, Vec<u8>) {
        let mut out = Vec::new();
        let ok = copy_bounded(input, &mut out, limit).unwrap();
        (ok, out)
    }

    #[test]
    fn short_lines_are_copied_byte_for_byte() {
        let input = b"a,b\r\n1,\"x\ny\"\n\n2,3";
        assert_eq!(copy(input, 1024), (true, input.to_vec()));
    }

    #[test]
    fn long_lines_are_cut_past_the_bound_keeping_quote_parity() {
        let long = format!("1,{}\"tail\n", "z".repeat(5000));
        let input = format!("a,b\n{long}2,\"q\n3\"\n");
        let (ok, out) = copy(input.as_bytes(), 1024);
        assert!(ok);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[1].len(), 1026 + 1, "cut at the bound plus the quote");
        assert!(lines[1].ends_with('"'));
        assert_eq!(&lines[2..], ["2,\"q", "3\"", ""]);
    }

    #[test]
    fn an_endless_header_stops_the_copy() {
        let zeros = std::io::repeat(0).take(1 << 30);
        let mut out = Vec::new();
        assert!(!copy_bounded(zeros, &mut out, 4096).unwrap());
        assert!(out.len() <= 4098);
    }
}
