//! CrUX on BigQuery: rows of `chrome-ux-report.materialized.device_summary`
//! (and the same columns of `metrics_summary`, which has no device), as
//! `bq query --format=json|prettyjson` or a JSONL export writes them: one
//! JSON object, a JSON array of rows, or one row per line.
//!
//! Each row becomes one binned-only segment: page = the origin as stated
//! (like CrUX API origin records), form factor from `device`, the month from
//! `yyyymm` / `date` / `yyyymmdd`. Per metric (`ttfb`, `fcp`, `lcp`, `fid`,
//! `inp`, `cls`, `dcl`, `ol` → load; `fp` has no rumcheck metric and is
//! ignored) the `p75_*` value and the `fast_*`/`avg_*`/`slow_*` fractions
//! (`small_cls`/`medium_cls`/`large_cls`) are copied exactly.
//!
//! The fractions were cut at the thresholds the summary tables used for that
//! month, which are not always web-vitals' (a 2019 row states TTFB p75 700 ms
//! with only 51 % "fast", so "fast" was not "< 800 ms" then). Shares are
//! therefore kept only when the row's own p75 agrees with web-vitals
//! thresholds; otherwise they are dropped (counted as `other-thresholds`) and
//! the p75 is kept. Connection and form-factor densities (`_4GDensity`,
//! `desktopDensity`, …) have no place in the baseline model and are not kept.

mod cells;

use super::CruxOut;
use crate::baseline::error::{ImportError, Reason, Tally};
use crate::baseline::lines::{line_text, next_line, too_long};
use crate::baseline::model::{MetricBaseline, SegmentBaseline, SegmentKey, Shares};
use crate::baseline::record::check_number;
use crate::metric::Metric;
use cells::{cell, columns, device, month};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};

/// Definition recorded for metrics from CrUX BigQuery summary tables.
pub const CRUX_BIGQUERY: &str = "crux-bigquery";

/// Largest JSON array read whole (export larger tables as JSONL).
const MAX_ARRAY_BYTES: u64 = 64 << 20;
/// Largest single row (a summary row is ~2 kB).
const MAX_ROW_BYTES: usize = 1 << 20;
/// How far the three fractions may sum from 1 (rounding in the tables).
const SUM_TOLERANCE: f64 = 0.01;

/// Column stem, rumcheck metric (`None`: read nothing), fraction prefixes.
const COLUMNS: [(&str, Option<Metric>, [&str; 3]); 9] = [
    ("ttfb", Some(Metric::Ttfb), FAST_AVG_SLOW),
    ("fp", None, FAST_AVG_SLOW),
    ("fcp", Some(Metric::Fcp), FAST_AVG_SLOW),
    ("lcp", Some(Metric::Lcp), FAST_AVG_SLOW),
    ("fid", Some(Metric::Fid), FAST_AVG_SLOW),
    ("inp", Some(Metric::Inp), FAST_AVG_SLOW),
    ("cls", Some(Metric::Cls), ["small", "medium", "large"]),
    ("dcl", Some(Metric::Dcl), FAST_AVG_SLOW),
    ("ol", Some(Metric::Load), FAST_AVG_SLOW),
];
const FAST_AVG_SLOW: [&str; 3] = ["fast", "avg", "slow"];

type Bad = (Reason, String);

/// A row kept so far for one page × segment, with its month.
struct Kept {
    segment: SegmentBaseline,
    month: Option<(i64, i64)>,
    line: u64,
}

/// Imports one file of CrUX BigQuery summary rows into `out`.
pub fn import(
    reader: impl BufRead,
    tally: &mut Tally,
    out: &mut CruxOut,
) -> Result<(), ImportError> {
    let mut reader = reader;
    let file = tally.source.file.clone();
    let io = |source| ImportError::Io {
        file: file.clone(),
        source,
    };
    let first = loop {
        let buf = reader.fill_buf().map_err(io)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let mut kept: HashMap<(String, SegmentKey), Kept> = HashMap::new();
    let mut order = Vec::new();
    let mut row = |value: Value, line: u64, tally: &mut Tally| -> Result<(), ImportError> {
        tally.source.rows_read += 1;
        let (segment, month) = match interpret(&value, line, tally)? {
            Ok(r) => r,
            Err((reason, detail)) => return tally.reject(reason, line, &detail),
        };
        let key = (segment.page.clone(), segment.segment.clone());
        let new = Kept {
            segment,
            month,
            line,
        };
        match kept.get_mut(&key) {
            // Same page × segment: the newest month wins (a later row on ties).
            Some(old) if old.month.map(|m| m.0) > new.month.map(|m| m.0) => {
                tally.reject(Reason::Superseded, line, "an older month than another row")
            }
            Some(old) => {
                let older = std::mem::replace(old, new);
                tally.reject(
                    Reason::Superseded,
                    older.line,
                    "an older month than another row",
                )
            }
            None => {
                order.push(key.clone());
                kept.insert(key, new);
                Ok(())
            }
        }
    };
    match first {
        None => return tally.reject(Reason::EmptyFile, 1, "the file is empty"),
        Some(b'[') => {
            let mut bytes = Vec::new();
            (&mut reader)
                .take(MAX_ARRAY_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            if bytes.len() as u64 > MAX_ARRAY_BYTES {
                tally.source.rows_read += 1;
                return tally.reject(
                    Reason::Malformed,
                    1,
                    "the JSON array is larger than 64 MiB: export the table as newline-delimited JSON (one row per line) instead",
                );
            }
            match serde_json::from_slice::<Vec<Value>>(&bytes) {
                Ok(rows) => {
                    for (i, v) in rows.into_iter().enumerate() {
                        row(v, i as u64 + 1, tally)?;
                    }
                }
                Err(e) => {
                    tally.source.rows_read += 1;
                    let reason = if std::str::from_utf8(&bytes).is_err() {
                        Reason::NonUtf8
                    } else {
                        Reason::Malformed
                    };
                    tally.reject(
                        reason,
                        e.line() as u64,
                        &format!("not a JSON array of BigQuery rows: {e}"),
                    )?;
                }
            }
        }
        Some(_) => stream_rows(&mut reader, tally, &mut row)?,
    }
    if tally.source.rows_read == 0 {
        tally.reject(Reason::EmptyFile, 1, "the file has no rows")?;
    }
    for key in order {
        let Some(k) = kept.remove(&key) else { continue };
        if let Some((a, b)) = k.month {
            out.time_range = Some(match out.time_range {
                Some((x, y)) => (x.min(a), y.max(b)),
                None => (a, b),
            });
        }
        tally.source.rows_accepted += 1;
        out.segments.push(k.segment);
    }
    Ok(())
}

/// Bracket depth and string state of JSON text fed line by line.
#[derive(Default)]
struct Nesting {
    depth: i64,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    fn feed(&mut self, text: &str) {
        for b in text.bytes() {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
    }

    /// Inside an unclosed object, array or string: more lines are needed.
    fn open(&self) -> bool {
        self.depth > 0 || self.in_string
    }
}

/// Reads JSON values one after another: one per line (JSONL), or objects
/// spread over several lines (pretty-printed). Each value is passed to `row`
/// with the line it starts on; a line that cannot start or continue a value
/// is rejected and reading goes on with the next line.
fn stream_rows(
    reader: &mut impl BufRead,
    tally: &mut Tally,
    row: &mut impl FnMut(Value, u64, &mut Tally) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let file = tally.source.file.clone();
    let (mut buf, mut pending) = (Vec::new(), String::new());
    let (mut line, mut start) = (0u64, 0u64);
    // Where the pending text stands, so a pretty-printed value is parsed
    // once, when its brackets close, not again on every line (quadratic).
    let mut scan = Nesting::default();
    while let Some(long) = next_line(
        reader,
        &mut buf,
        &file,
        crate::baseline::options::DEFAULT_MAX_LINE_BYTES,
    )? {
        line += 1;
        if long {
            tally.source.rows_read += 1;
            tally.reject(
                Reason::TooLong,
                line,
                &too_long(crate::baseline::options::DEFAULT_MAX_LINE_BYTES),
            )?;
            pending.clear();
            continue;
        }
        if pending.is_empty() && buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match line_text(&buf) {
            Ok(t) => t,
            Err((reason, detail)) => {
                tally.source.rows_read += 1;
                tally.reject(reason, line, &detail)?;
                pending.clear();
                continue;
            }
        };
        if pending.is_empty() {
            start = line;
            scan = Nesting::default();
        }
        pending.push_str(text);
        pending.push('\n');
        scan.feed(text);
        if scan.open() && pending.len() < MAX_ROW_BYTES {
            continue;
        }
        match serde_json::from_str::<Value>(&pending) {
            Ok(v) => {
                pending.clear();
                row(v, start, tally)?;
            }
            Err(e) if e.is_eof() && pending.len() < MAX_ROW_BYTES => {}
            Err(e) => {
                pending.clear();
                tally.source.rows_read += 1;
                tally.reject(
                    Reason::Malformed,
                    start,
                    &format!(
                        "not a JSON row: {e} (one BigQuery row per line, or a JSON array of rows)"
                    ),
                )?;
            }
        }
    }
    if !pending.is_empty() {
        tally.source.rows_read += 1;
        tally.reject(
            Reason::Malformed,
            start,
            "the file ends inside a JSON row (truncated export?)",
        )?;
    }
    Ok(())
}

/// A row's segment and the first and last day of its month.
type Row = (SegmentBaseline, Option<(i64, i64)>);

/// One row → its segment and month, or why the whole row is rejected.
/// Shares cut at other thresholds are reported to `tally` (not an error).
fn interpret(value: &Value, line: u64, tally: &mut Tally) -> Result<Result<Row, Bad>, ImportError> {
    let Some(obj) = value.as_object() else {
        return Ok(Err((
            Reason::Malformed,
            "not a JSON object (expected one BigQuery row with origin, p75_* and fast_*/avg_*/slow_* columns)".into(),
        )));
    };
    let cols = columns(obj);
    let page = match cols.get("origin").copied() {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => {
            return Ok(Err((
                Reason::MissingPage,
                "no origin column (select `origin` from the summary table)".into(),
            )));
        }
    };
    let form_factor = match device(&cols) {
        Ok(d) => d,
        Err(bad) => return Ok(Err(bad)),
    };
    let month = match month(&cols) {
        Ok(m) => m,
        Err(bad) => return Ok(Err(bad)),
    };
    let mut metrics = BTreeMap::new();
    let mut other = Vec::new();
    for (stem, metric, prefixes) in COLUMNS {
        let Some(m) = metric else { continue };
        match one_metric(&cols, stem, m, prefixes) {
            Ok(None) => {}
            Ok(Some((mut mb, mismatch))) => {
                if let Some(why) = mismatch {
                    mb.shares = None;
                    other.push(why);
                }
                metrics.insert(m, mb);
            }
            Err(bad) => return Ok(Err(bad)),
        }
    }
    if metrics.is_empty() {
        return Ok(Err((
            Reason::NoMetrics,
            "no p75_* value and no fast_*/avg_*/slow_* fractions for any metric (select p75_lcp, fast_lcp, avg_lcp, slow_lcp, …)".into(),
        )));
    }
    for why in other {
        tally.reject(Reason::OtherThresholds, line, &why)?;
    }
    let segment = SegmentBaseline {
        page,
        segment: SegmentKey {
            form_factor,
            ..SegmentKey::default()
        },
        too_small: false,
        metrics,
        context: Default::default(),
        ttfb_pairs: Default::default(),
    };
    Ok(Ok((segment, month)))
}

/// One metric of a row: `None` when the row has nothing for it; with a
/// reason when its shares must be dropped (cut at other thresholds).
fn one_metric(
    cols: &HashMap<String, &Value>,
    stem: &str,
    m: Metric,
    prefixes: [&str; 3],
) -> Result<Option<(MetricBaseline, Option<String>)>, Bad> {
    let p75_name = format!("p75_{stem}");
    let p75 = match cell(cols, &p75_name)? {
        Some(v) => Some(check_number(m, v).map_err(|r| {
            (
                r,
                format!("{p75_name} = {v} is beyond what {m} can be; fix the value"),
            )
        })?),
        None => None,
    };
    let names = prefixes.map(|p| format!("{p}_{stem}"));
    let mut fr = [None; 3];
    for (slot, name) in fr.iter_mut().zip(&names) {
        *slot = cell(cols, name)?;
    }
    let shares = match fr {
        [None, None, None] => None,
        [Some(a), Some(b), Some(c)] if a + b + c == 0.0 => None,
        [Some(good), Some(needs_improvement), Some(poor)] => {
            let sum = good + needs_improvement + poor;
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return Err((
                    Reason::BadFractions,
                    format!(
                        "{} + {} + {} = {sum}, not 1: the fractions are shares of one metric's experiences",
                        names[0], names[1], names[2]
                    ),
                ));
            }
            Some(Shares {
                good,
                needs_improvement,
                poor,
            })
        }
        _ => {
            let missing: Vec<&str> = names
                .iter()
                .zip(fr)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| n.as_str())
                .collect();
            return Err((
                Reason::BadFractions,
                format!(
                    "{} missing while the other fractions of {stem} are set; select all three",
                    missing.join(" and ")
                ),
            ));
        }
    };
    if p75.is_none() && shares.is_none() {
        return Ok(None);
    }
    let mismatch = match (p75, shares) {
        (Some(p), Some(s)) => other_thresholds(m, p, &s, &names, &p75_name),
        _ => None,
    };
    Ok(Some((
        MetricBaseline::binned(CRUX_BIGQUERY, p75, shares, Vec::new()),
        mismatch,
    )))
}

/// Whether the row's p75 contradicts fractions cut at the web-vitals
/// thresholds (`good`, `poor`). With shares cut there, 75 % or more below
/// `good` means p75 ≤ `good`, and less means p75 ≥ `good` (CrUX p75s are
/// bin bounds, and the thresholds are bin bounds). Shares within 0.5 points
/// of 75 % are not judged (the tables round). `None` for metrics without
/// web-vitals thresholds (dcl, load): their shares are the table's own.
fn other_thresholds(
    m: Metric,
    p75: f64,
    s: &Shares,
    names: &[String; 3],
    p75_name: &str,
) -> Option<String> {
    let (good, poor) = m.thresholds()?;
    let checks = [
        (s.good, good, names[0].clone()),
        (
            s.good + s.needs_improvement,
            poor,
            format!("{} + {}", names[0], names[1]),
        ),
    ];
    for (below, threshold, what) in checks {
        let contradiction =
            (below <= 0.745 && p75 < threshold) || (below >= 0.755 && p75 > threshold);
        if contradiction {
            return Some(format!(
                "{what} = {below} but {p75_name} = {p75}: these fractions were not cut at the web-vitals threshold {threshold}; shares dropped, p75 kept"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests;
