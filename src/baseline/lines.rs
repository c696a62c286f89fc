//! Helpers shared by the line-oriented importers (web-vitals, Boomerang):
//! reading lines as bytes, and reading fields of loosely typed objects.

use super::error::{ImportError, Reason, Tally};
use crate::metric::Metric;
use serde_json::{Map, Value};
use std::io::BufRead;

/// Reads the next line into `buf` (without the line ending), holding at
/// most `max` bytes of it: `None` at the end of the input, `Some(true)` for
/// a line longer than `max`, which is read past to its end and left out of
/// `buf` (so an endless line costs no memory), else `Some(false)`.
pub fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    file: &str,
    max: usize,
) -> Result<Option<bool>, ImportError> {
    let io = |source| ImportError::Io {
        file: file.to_string(),
        source,
    };
    buf.clear();
    let (mut seen, mut too_long) = (0usize, false);
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if avail.is_empty() {
            if seen == 0 {
                return Ok(None);
            }
            break;
        }
        let (part, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], true),
            None => (avail, false),
        };
        seen += part.len() + usize::from(done);
        if !too_long && buf.len() + part.len() <= max.saturating_add(1) {
            buf.extend_from_slice(part);
        } else {
            too_long = true;
            buf.clear();
        }
        let used = part.len() + usize::from(done);
        reader.consume(used);
        if done {
            break;
        }
    }
    while matches!(buf.last(), Some(b'\r')) {
        buf.pop();
    }
    too_long |= buf.len() > max;
    if too_long {
        buf.clear();
    }
    Ok(Some(too_long))
}

/// The next record of a one-record-per-line file (beacons) into `buf`:
/// blank lines are skipped, a line past `max` bytes is rejected as
/// `too-long` and skipped, `line` counts physical lines and the tally the
/// rows read. `false` at the end of the input.
pub fn next_record(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    line: &mut u64,
    tally: &mut Tally,
) -> Result<bool, ImportError> {
    let file = tally.source.file.clone();
    while let Some(long) = next_line(reader, buf, &file, max)? {
        *line += 1;
        if long {
            tally.source.rows_read += 1;
            tally.reject(Reason::TooLong, *line, &too_long(max))?;
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        tally.source.rows_read += 1;
        return Ok(true);
    }
    Ok(false)
}

/// The detail of a line rejected as `too-long`.
pub fn too_long(max: usize) -> String {
    format!("the line is longer than {max} bytes (--max-line-bytes); it was skipped unread")
}

/// The line as UTF-8 text (a UTF-8 byte-order mark is dropped).
pub fn line_text(buf: &[u8]) -> Result<&str, (Reason, String)> {
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    std::str::from_utf8(buf).map_err(|e| {
        (
            Reason::NonUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// The first of `keys` present in `obj` as text (numbers are formatted).
pub fn field<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<std::borrow::Cow<'a, str>> {
    keys.iter().find_map(|k| match obj.get(*k)? {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    })
}

/// A metric value from a JSON number or a numeric string, checked.
pub fn json_value(metric: Metric, v: &Value) -> Result<Option<f64>, Reason> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => {
            let f = n.as_f64().ok_or(Reason::NonNumeric)?;
            super::record::check_number(metric, f).map(Some)
        }
        Value::String(s) => super::record::parse_value(metric, s),
        _ => Err(Reason::NonNumeric),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    #[test]
    fn lines_past_the_bound_are_skipped_without_holding_them() {
        let endless = std::io::repeat(b'x').take(50 << 20);
        let input = b"{\"a\":1}\r\n".chain(endless).chain(&b"\nlast"[..]);
        let mut r = BufReader::with_capacity(1 << 12, input);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(long) = next_line(&mut r, &mut buf, "f", 1 << 16).unwrap() {
            assert!(buf.capacity() <= 1 << 18, "held {}", buf.capacity());
            got.push((long, String::from_utf8_lossy(&buf).into_owned()));
        }
        let want = [(false, "{\"a\":1}"), (true, ""), (false, "last")];
        let want: Vec<(bool, String)> = want.iter().map(|(l, s)| (*l, s.to_string())).collect();
        assert_eq!(got, want);
    }
}
