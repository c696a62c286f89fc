//! Helpers shared by the line-oriented importers (web-vitals, Boomerang):
//! reading lines as bytes, and reading fields of loosely typed objects.

use super::error::{ImportError, Reason};
use crate::metric::Metric;
use serde_json::{Map, Value};
use std::io::BufRead;

/// Reads the next line into `buf` (without the line ending). Returns false at
/// the end of the input.
pub fn next_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    file: &str,
) -> Result<bool, ImportError> {
    buf.clear();
    let n = reader
        .read_until(b'\n', buf)
        .map_err(|source| ImportError::Io {
            file: file.to_string(),
            source,
        })?;
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(n > 0)
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
