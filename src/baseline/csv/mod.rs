//! Generic RUM CSV exports: wide (a column per metric) or long (metric name
//! + value per row), columns found by common names or `--map`.
//!
//! One import path: a file is read in blocks ([`blocks`]); a stream is
//! first copied to a temporary file ([`spill`]).

mod blocks;
mod header;
mod reader;
mod scan;
mod spill;

use super::accum::Accumulator;
use super::distinct::PreHashedState;
use super::error::{ImportError, Reason, Tally};
use super::options::{Field, ImportOptions, OTHER_PAGE, PageBy};
use super::page::{self, SegmentValues};
use super::record::{
    Record, View, WEB_VITALS, check_number, hash_id, parse_time_checked, parse_value,
    plain_decimal, unknown_metric,
};
use crate::metric::Metric;
use reader::{Record as RawRecord, RecordReader};
use std::collections::HashSet;
use std::io::Read;
use std::ops::ControlFlow;

pub(crate) use blocks::import_file;
use header::{Columns, header, resolve, slot};
pub(crate) use spill::import_stream;

/// Page keys longer than this are folded into [`OTHER_PAGE`]: no real
/// page is keyed by kilobytes of path, and a cap on pages means little if
/// each may hold a megabyte.
const MAX_PAGE_KEY_BYTES: usize = 2048;

/// Counts a file with a header and no rows as empty.
fn no_rows(tally: &mut Tally) -> Result<(), ImportError> {
    if tally.source.rows_read == 0 {
        tally.reject(Reason::EmptyFile, 1, "the file has a header but no rows")?;
    }
    Ok(())
}

/// Reads every record after the header, counts it as read and hands it to
/// `sink` until it breaks; records longer than the reader's bound or with
/// another number of fields than the header's `width` are counted as
/// rejected here.
fn read_records<R: Read>(
    rdr: &mut RecordReader<R>,
    width: usize,
    tally: &mut Tally,
    mut sink: impl FnMut(RawRecord<'_>, &mut Tally) -> Result<ControlFlow<()>, ImportError>,
) -> Result<(), ImportError> {
    let limit = rdr.limit();
    loop {
        let rec = rdr.next_record().map_err(|source| ImportError::Io {
            file: tally.source.file.clone(),
            source,
        })?;
        let Some(rec) = rec else {
            return Ok(());
        };
        tally.source.rows_read += 1;
        if rec.too_long {
            let detail = format!(
                "the record is longer than {limit} bytes (--max-line-bytes); it was skipped unread"
            );
            tally.reject(Reason::TooLong, rec.line, &detail)?;
        } else if rec.ends.len() == width {
            if sink(rec, tally)?.is_break() {
                return Ok(());
            }
        } else {
            let detail = format!(
                "the row has {} fields, the header has {width}",
                rec.ends.len()
            );
            tally.reject(Reason::Malformed, rec.line, &detail)?;
        }
    }
}

/// Field `i` of a record laid out as [`RawRecord`] describes.
fn field<'r>(bytes: &'r [u8], ends: &[u32], i: usize) -> Option<&'r [u8]> {
    bytes.get(field_range(ends, i)?)
}

fn field_range(ends: &[u32], i: usize) -> Option<std::ops::Range<usize>> {
    let end = *ends.get(i)? as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize + 1 };
    Some(start..end)
}

/// Which page keys an import keeps (see `blocks`).
#[derive(Clone, Copy)]
enum Pages<'a> {
    /// Every page (the file has at most `--max-pages`, or this pass finds out).
    All,
    /// The pages whose [`page_hash`](super::topk::page_hash) is in the set;
    /// the others become [`OTHER_PAGE`].
    Kept(&'a HashSet<u64, PreHashedState>),
}

/// Turns records into accumulator updates; one per block.
struct Rows<'a> {
    cols: &'a Columns,
    opts: &'a ImportOptions,
    pages: Pages<'a>,
    row: RowState,
}

impl<'a> Rows<'a> {
    fn new(cols: &'a Columns, opts: &'a ImportOptions, pages: Pages<'a>) -> Self {
        Rows {
            cols,
            opts,
            pages,
            row: RowState::default(),
        }
    }

    /// The page a read row is counted under.
    fn page(&self) -> &str {
        let page = self.row.page.as_str();
        let kept = match self.pages {
            _ if page.len() > MAX_PAGE_KEY_BYTES => false,
            Pages::All => true,
            Pages::Kept(set) => set.contains(&super::topk::page_hash(page)),
        };
        if kept { page } else { OTHER_PAGE }
    }

    /// The page of a row that would be accepted (for counting pages), or
    /// `None` for a row that would be rejected.
    fn accepted_page(&mut self, fields: Fields<'_>) -> Option<&str> {
        self.row.read(&fields, self.cols, self.opts).ok()?;
        Some(self.page())
    }

    /// Numbers this reader's page views (wide format) from `n` on, so that
    /// views read by different spans of a file never share a number.
    fn numbering_from(mut self, n: u64) -> Self {
        self.row.next_view = n;
        self
    }

    /// Adds one record's fields, or counts the row as rejected (which fails
    /// only with `--strict`).
    fn take_fields(
        &mut self,
        fields: Fields<'_>,
        line: u64,
        acc: &mut Accumulator,
        tally: &mut Tally,
    ) -> Result<(), ImportError> {
        match self.row.read(&fields, self.cols, self.opts) {
            Ok(()) => {
                let page = self.page();
                let row = &self.row;
                let view = if !self.cols.long {
                    View::Whole(row.next_view)
                } else {
                    row.view.map_or(View::Unknown, View::Part)
                };
                acc.add(&Record {
                    page,
                    segment: row.seg.key(&self.opts.segment_by),
                    time: row.time,
                    user: row.user,
                    session: row.session,
                    view,
                    metrics: &row.metrics,
                });
                tally.source.rows_accepted += 1;
                self.row.next_view += 1;
                Ok(())
            }
            Err((reason, detail)) => tally.reject(reason, line, &detail),
        }
    }
}

/// Buffers reused across rows so the hot loop does not allocate.
#[derive(Default)]
struct RowState {
    page: String,
    seg: SegmentValues,
    time: Option<i64>,
    user: Option<u64>,
    session: Option<u64>,
    view: Option<u64>,
    metrics: Vec<(Metric, f64, &'static str)>,
    next_view: u64,
    /// The last timestamp text that parsed, and its value.
    last_stamp: (String, Option<i64>),
}

type RowError = (Reason, String);

/// One row's fields as text. The whole record is checked for UTF-8 once
/// (one pass over ~100 bytes instead of a dozen short ones); only when that
/// fails is each field checked alone, so bad bytes in a column rumcheck does
/// not read do not reject the row.
pub(super) struct Fields<'r> {
    bytes: &'r [u8],
    /// End offset of each field in `bytes` (see [`RawRecord`]).
    ends: &'r [u32],
    all: Option<&'r str>,
}

impl<'r> Fields<'r> {
    pub(super) fn new(bytes: &'r [u8], ends: &'r [u32]) -> Self {
        Fields {
            bytes,
            ends,
            all: std::str::from_utf8(bytes).ok(),
        }
    }

    /// Field `i` as bytes (empty when the record is short).
    fn bytes(&self, i: usize) -> &'r [u8] {
        field(self.bytes, self.ends, i).unwrap_or_default()
    }

    fn text(&self, i: usize, name: &str) -> Result<&'r str, RowError> {
        let Some(r) = field_range(self.ends, i) else {
            return Ok("");
        };
        match self.all.and_then(|all| all.get(r.clone())) {
            Some(t) => Ok(t),
            None => std::str::from_utf8(&self.bytes[r])
                .map_err(|_| (Reason::NonUtf8, format!("column '{name}' is not UTF-8"))),
        }
    }
}

impl RowState {
    fn parse_stamp(&mut self, t: &str) -> Result<i64, RowError> {
        let v = parse_time_checked(t).map_err(|why| {
            let shown: String = t.chars().take(40).collect();
            (
                Reason::BadTimestamp,
                format!("timestamp '{shown}' is {why}"),
            )
        })?;
        self.last_stamp.0.clear();
        self.last_stamp.0.push_str(t);
        self.last_stamp.1 = Some(v);
        Ok(v)
    }

    fn read(
        &mut self,
        fields: &Fields<'_>,
        cols: &Columns,
        opts: &ImportOptions,
    ) -> Result<(), RowError> {
        let get = |f: Field| -> Result<Option<&str>, RowError> {
            cols.ctx[slot(f)]
                .map(|i| fields.text(i, f.name()))
                .transpose()
        };
        match get(Field::Url)? {
            Some(u) => {
                if !opts.page_key(u, &mut self.page) {
                    return Err((Reason::MissingPage, "the url column is empty".into()));
                }
            }
            None => {
                page::page_key("*", PageBy::None, &mut self.page);
            }
        }
        self.time = match get(Field::Timestamp)?.filter(|t| !super::record::trim(t).is_empty()) {
            // Exports sorted by time repeat a timestamp on neighbouring rows.
            Some(t) if self.last_stamp.0 == t => self.last_stamp.1,
            Some(t) => Some(self.parse_stamp(t)?),
            None => None,
        };
        self.user = get(Field::User)?.and_then(hash_id);
        self.session = get(Field::Session)?.and_then(hash_id);
        self.view = get(Field::View)?.and_then(hash_id);
        self.seg = SegmentValues {
            form_factor: get(Field::FormFactor)?.and_then(page::form_factor),
            connection: get(Field::Connection)?.and_then(page::connection),
            country: get(Field::Country)?.and_then(page::country),
            browser: get(Field::Browser)?.and_then(page::browser),
        };
        if let Some(ua) = get(Field::UserAgent)? {
            self.seg.from_ua(ua);
        }
        self.metrics.clear();
        if cols.long {
            let name = get(Field::MetricName)?.unwrap_or("");
            let metric: Metric = name.parse().map_err(|_| unknown_metric(name))?;
            let raw = get(Field::Value)?.unwrap_or("");
            if let Some(v) = parse_value(metric, raw).map_err(|r| bad_value(r, metric, raw))? {
                self.metrics.push((metric, v, WEB_VITALS));
            }
        } else {
            for &(m, i) in &cols.metrics {
                // The usual cell, plain digits, needs no UTF-8 check or trim.
                let parsed = match plain_decimal(fields.bytes(i)) {
                    Some(v) => check_number(m, v).map(Some),
                    None => {
                        let raw = fields.text(i, m.name())?;
                        parse_value(m, raw)
                    }
                };
                let bad = |r| {
                    let (reason, why) = bad_value(r, m, &String::from_utf8_lossy(fields.bytes(i)));
                    match (m, cols.names.get(i)) {
                        // A custom column: say which one, as --map named it.
                        (Metric::Server(_), Some(col)) => {
                            (reason, format!("column '{col}': {why}"))
                        }
                        _ => (reason, why),
                    }
                };
                if let Some(v) = parsed.map_err(bad)? {
                    self.metrics.push((m, v, WEB_VITALS));
                }
            }
        }
        if self.metrics.is_empty() {
            return Err((Reason::NoMetrics, "the row has no metric value".into()));
        }
        Ok(())
    }
}

/// The detail of a rejected value.
pub fn bad_value(reason: Reason, metric: Metric, raw: &str) -> RowError {
    let shown: String = raw.trim().chars().take(40).collect();
    let why = match reason {
        Reason::Absurd => format!(
            "{metric} = {shown} is beyond {} (implausible)",
            super::record::absurd_limit(metric)
        ),
        _ => format!("{metric} = '{shown}'"),
    };
    (reason, why)
}
