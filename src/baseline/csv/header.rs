//! A CSV file's header: its delimiter, its column names (read by the csv
//! crate), and which columns hold which field.

use super::Tally;
use crate::baseline::error::{ImportError, Reason};
use crate::baseline::options::{Field, ImportOptions, SegmentDim};
use crate::metric::Metric;
use std::collections::BTreeMap;
use std::io::BufRead;

/// Header names recognised without `--map` (compared case-insensitively).
fn aliases(field: Field) -> &'static [&'static str] {
    match field {
        Field::Url => &[
            "url", "page", "page_url", "pageurl", "location", "href", "path", "pathname",
        ],
        Field::Timestamp => &[
            "timestamp",
            "time",
            "ts",
            "date",
            "datetime",
            "event_time",
            "created_at",
        ],
        Field::User => &[
            "user_id",
            "userid",
            "user",
            "uid",
            "visitor_id",
            "client_id",
        ],
        Field::Session => &["session_id", "sessionid", "session", "sid"],
        Field::View => &[
            "view_id",
            "page_view_id",
            "pageview_id",
            "pageviewid",
            "navigation_id",
        ],
        Field::FormFactor => &[
            "form_factor",
            "formfactor",
            "device",
            "device_type",
            "device_category",
        ],
        Field::UserAgent => &["user_agent", "useragent", "ua"],
        Field::Connection => &[
            "connection",
            "ect",
            "effective_connection_type",
            "effective_type",
            "effectivetype",
        ],
        Field::Country => &["country", "country_code", "geo_country"],
        Field::Browser => &["browser", "browser_name", "browser_family"],
        Field::MetricName => &["metric", "metric_name", "name"],
        Field::Value => &["value", "metric_value"],
        Field::Metric(_) => &[],
    }
}

/// Slot of a context field in [`Columns::ctx`] (metrics use the spare last slot).
pub(super) fn slot(f: Field) -> usize {
    Field::CONTEXT
        .iter()
        .position(|c| *c == f)
        .unwrap_or(Field::CONTEXT.len())
}

/// Column indexes of the fields present in one file.
pub(super) struct Columns {
    pub(super) ctx: [Option<usize>; Field::CONTEXT.len() + 1],
    pub(super) metrics: Vec<(Metric, usize)>,
    pub(super) long: bool,
    /// The header's names, for messages about a cell.
    pub(super) names: Vec<String>,
}

pub(super) fn resolve(
    headers: &[String],
    opts: &ImportOptions,
    file: &str,
) -> Result<Columns, ImportError> {
    let norm = |h: &str| h.trim().to_ascii_lowercase();
    let find = |name: &str| headers.iter().position(|h| norm(h) == norm(name));
    let listing = || headers.join(", ");
    let mut ctx = BTreeMap::new();
    let mut metrics = Vec::new();
    for (field, column) in &opts.map {
        let i = find(column).ok_or_else(|| ImportError::UnknownColumn {
            file: file.to_string(),
            field: field.name().to_string(),
            column: column.clone(),
            columns: listing(),
        })?;
        match field {
            Field::Metric(m) => metrics.push((*m, i)),
            f => {
                ctx.insert(*f, i);
            }
        }
    }
    for field in Field::CONTEXT {
        if let std::collections::btree_map::Entry::Vacant(e) = ctx.entry(field) {
            if let Some(i) = aliases(field).iter().find_map(|a| find(a)) {
                e.insert(i);
            }
        }
    }
    let taken: Vec<usize> = ctx.values().copied().collect();
    for (i, h) in headers.iter().enumerate() {
        let h = norm(h);
        let bare = h.trim_end_matches("(ms)").trim().trim_end_matches("_ms");
        if let Ok(m) = bare.parse::<Metric>() {
            let mapped = metrics.iter().any(|(mm, _)| *mm == m);
            if !mapped && !taken.contains(&i) {
                metrics.push((m, i));
            }
        }
    }
    let long = ctx.contains_key(&Field::MetricName) && ctx.contains_key(&Field::Value);
    // Segment columns the import does not segment by are not read at all.
    let by = |d| opts.segment_by.contains(&d);
    let needed = |f: Field| match f {
        Field::FormFactor => by(SegmentDim::FormFactor),
        Field::UserAgent => by(SegmentDim::FormFactor) || by(SegmentDim::Browser),
        Field::Connection => by(SegmentDim::Connection),
        Field::Country => by(SegmentDim::Country),
        Field::Browser => by(SegmentDim::Browser),
        _ => true,
    };
    let mut slots = [None; Field::CONTEXT.len() + 1];
    for (f, i) in ctx.iter().filter(|(f, _)| needed(**f)) {
        slots[slot(*f)] = Some(*i);
    }
    if !long && metrics.is_empty() {
        return Err(ImportError::NoMetricColumns {
            file: file.to_string(),
            columns: listing(),
        });
    }
    Ok(Columns {
        ctx: slots,
        metrics,
        long,
        names: headers.to_vec(),
    })
}

/// Sniffs the delimiter from the header line: `,`, `;` or tab.
fn sniff(reader: &mut impl BufRead) -> std::io::Result<u8> {
    let buf = reader.fill_buf()?;
    let line = buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| line.iter().filter(|b| **b == d).count();
    let (c, s, t) = (count(b','), count(b';'), count(b'\t'));
    Ok(if t > c && t >= s {
        b'\t'
    } else if s > c {
        b';'
    } else {
        b','
    })
}

/// A CSV input's header, and where its rows begin.
pub(super) struct Header {
    pub(super) delimiter: u8,
    pub(super) names: Vec<String>,
    /// Input offset of the first byte after the header.
    pub(super) data: u64,
    /// The line the rows begin on (physical lines, the header's first is 1).
    pub(super) line: u64,
}

/// Sniffs the delimiter and reads the header (with the csv crate: one
/// record is no bottleneck, see `docs/design-notes.md`), reading no more
/// than `max_line` bytes of it; `None` for an empty file (counted in
/// `tally`).
pub(super) fn header(
    mut reader: impl BufRead,
    max_line: usize,
    tally: &mut Tally,
) -> Result<Option<Header>, ImportError> {
    let io = |source| ImportError::Io {
        file: tally.source.file.clone(),
        source,
    };
    let delimiter = sniff(&mut reader).map_err(io)?;
    // The csv crate keeps a byte-order mark in the first field.
    let bom = reader.fill_buf().map_err(io)?.starts_with(b"\xef\xbb\xbf");
    if bom {
        reader.consume(3);
    }
    let limit = max_line as u64 + 2;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(reader.take(limit));
    let mut record = csv::ByteRecord::new();
    let read = rdr
        .read_byte_record(&mut record)
        .map_err(|e| io(std::io::Error::other(e)))?;
    let end = rdr.position();
    // Past `max_line` bytes and a line end (or cut off by `take`).
    if end.byte() > max_line as u64 + 1 {
        return Err(ImportError::HeaderTooLong {
            file: tally.source.file.clone(),
            limit: max_line,
        });
    }
    if !read || record.len() == 1 && record[0].is_empty() {
        tally.reject(Reason::EmptyFile, 1, "the file is empty")?;
        return Ok(None);
    }
    Ok(Some(Header {
        delimiter,
        names: record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect(),
        data: end.byte() + 3 * u64::from(bom),
        line: end.line(),
    }))
}
