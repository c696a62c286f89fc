//! Real-user baselines: importers, sketches and the baseline file (segment
//! and page keys are [`crate::segment`]'s).
//!
//! [`Importer`] streams input files (one importer per format) into an
//! [`Accumulator`](accum::Accumulator) and produces a [`Baseline`];
//! [`merge()`] combines baselines; [`show()`] renders one as a table.

pub(crate) mod accum;
mod binned;
mod boomerang;
mod correlation;
mod crux;
mod csv;
pub(crate) mod distinct;
mod error;
pub mod fetch;
pub(crate) mod group;
mod lines;
mod merge;
mod model;
pub mod options;
mod page;
mod pairs;
#[cfg(test)]
mod proptests;
pub(crate) mod record;
mod show;
mod topk;
mod validate;
mod webvitals;

pub use correlation::{MIN_PAIRS, STRONG, WEAK, correlation, reading};
pub use error::{ImportError, Reason};
pub use fetch::{
    ApiKey, DEFAULT_ENDPOINT as CRUX_ENDPOINT, FetchError, FetchOptions, Fetched, FormFactor,
    Target, fetch_crux, parse_endpoint as parse_crux_endpoint,
};
pub use merge::{merge, merge_with};
pub use model::*;
pub use options::{
    DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_PAGES, Field, Format, ImportOptions, OptionError, PageBy,
    SegmentDim,
};
pub use show::show;
pub use validate::{Invalid, MAX_COUNT, validate};

use accum::Accumulator;
use error::Tally;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A streaming import of one or more files into one baseline.
#[derive(Debug)]
pub struct Importer {
    opts: ImportOptions,
    acc: Accumulator,
    binned: crux::CruxOut,
    sources: Vec<Source>,
}

impl Importer {
    /// Starts an import with validated options.
    pub fn new(opts: ImportOptions) -> Self {
        let mut acc = Accumulator::new(opts.apdex_t.clone(), opts.min_segment);
        acc.fold_pages_over(opts.max_pages);
        Importer {
            acc,
            opts,
            binned: crux::CruxOut::default(),
            sources: Vec::new(),
        }
    }

    /// Reads one input; `name` is recorded in provenance and error messages.
    /// Gzip-compressed input (RUM exports often are) is recognised by its
    /// first bytes and decompressed as it streams.
    pub fn read(&mut self, name: &str, reader: impl Read) -> Result<(), ImportError> {
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let head = reader.fill_buf().map_err(|source| ImportError::Io {
            file: name.to_string(),
            source,
        })?;
        if head.starts_with(&[0x1f, 0x8b]) {
            // Multi-member: `cat a.gz b.gz` and split exports are one stream.
            let unzipped = Gunzip(flate2::bufread::MultiGzDecoder::new(reader));
            self.read_plain(name, BufReader::with_capacity(1 << 16, unzipped))
        } else {
            self.read_plain(name, reader)
        }
    }

    fn read_plain(&mut self, name: &str, reader: impl BufRead) -> Result<(), ImportError> {
        let mut tally = Tally::new(name, self.opts.format.name(), self.opts.strict);
        let opts = &self.opts;
        let acc = &mut self.acc;
        match opts.format {
            Format::Csv => csv::import_stream(reader, opts, acc, &mut tally)?,
            Format::WebVitals => webvitals::import(reader, opts, acc, &mut tally)?,
            Format::Boomerang => boomerang::import(reader, opts, acc, &mut tally)?,
            Format::Crux | Format::CruxHistory => {
                crux::import(reader, &mut tally, &mut self.binned)?
            }
            Format::CruxBigQuery => crux::bigquery::import(reader, &mut tally, &mut self.binned)?,
        }
        self.sources.push(tally.source);
        self.acc.fold_pages(self.opts.max_pages);
        Ok(())
    }

    /// Reads one file from disk; `-` is standard input.
    pub fn read_file(&mut self, path: &Path) -> Result<(), ImportError> {
        if path == Path::new("-") {
            return self.read("stdin", std::io::stdin().lock());
        }
        let name = path.display().to_string();
        let mut file = std::fs::File::open(path).map_err(|source| ImportError::Io {
            file: name.clone(),
            source,
        })?;
        if self.opts.format == Format::Csv && is_plain_file(&mut file) {
            // Read in blocks, in place (see csv/blocks.rs); streams and
            // gzip are copied to a temporary file first.
            let mut tally = Tally::new(&name, self.opts.format.name(), self.opts.strict);
            csv::import_file(path, &self.opts, &mut self.acc, &mut tally)?;
            self.sources.push(tally.source);
            self.acc.fold_pages(self.opts.max_pages);
            return Ok(());
        }
        self.read(&name, file)
    }

    /// Ends the import. Fails when no segment at all could be built.
    pub fn finish(mut self) -> Result<Baseline, ImportError> {
        self.acc.fold_pages(self.opts.max_pages);
        let mut time = self.acc.time_range();
        if let Some((a, b)) = self.binned.time_range {
            time = Some(time.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        let mut segments = self.acc.finish_on(self.opts.thread_count());
        let page_cap = page_cap(&segments, self.opts.max_pages);
        for s in self.binned.segments {
            // A later record for the same page × segment replaces an earlier one.
            segments.retain(|o| !(o.page == s.page && o.segment == s.segment));
            segments.push(s);
        }
        if segments.is_empty() {
            return Err(ImportError::Nothing {
                files: self
                    .sources
                    .iter()
                    .map(|s| s.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                summary: rejection_summary(&self.sources),
            });
        }
        let mut b = Baseline {
            schema: BASELINE_SCHEMA,
            provenance: Provenance {
                rumcheck_version: env!("CARGO_PKG_VERSION").to_string(),
                imported_at: record::format_time(now_unix()),
                sources: self.sources,
                time_range: time.map(|(a, b)| (record::format_time(a), record::format_time(b))),
                min_segment: Some(self.opts.min_segment),
                content_hashes: Vec::new(),
                page_cap,
            },
            segments,
        };
        b.provenance.content_hashes = vec![b.content_hash()];
        Ok(b)
    }
}

/// Gzip input whose read errors say what a broken gzip stream means (the
/// decoder's own "incomplete deflate stream" does not).
struct Gunzip<R>(flate2::bufread::MultiGzDecoder<R>);

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return e;
            }
            std::io::Error::new(
                e.kind(),
                format!(
                    "the gzip data is cut short or damaged ({e}); the file is probably truncated: copy, download or export it again"
                ),
            )
        })
    }
}

/// Whether `file` is a regular file that is not gzipped (leaving its
/// position at its start).
fn is_plain_file(file: &mut std::fs::File) -> bool {
    use std::io::{Seek, SeekFrom};
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    let mut magic = [0; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    regular && file.seek(SeekFrom::Start(0)).is_ok() && !gzip
}

/// What `--max-pages` kept and folded, from the all-users segments of the
/// pages built from rows (`None` when there are none, as for CrUX alone).
fn page_cap(segments: &[SegmentBaseline], max_pages: usize) -> Option<PageCap> {
    let all = segments
        .iter()
        .filter(|s| s.segment == SegmentKey::default());
    let (mut pages, mut views, mut other) = (0, 0, 0);
    for s in all {
        views += s.context.page_views;
        if s.page == options::OTHER_PAGE {
            other += s.context.page_views;
        } else {
            pages += 1;
        }
    }
    (pages + other > 0).then(|| PageCap {
        max_pages: max_pages as u64,
        pages,
        other_views: other,
        other_share: if views == 0 {
            0.0
        } else {
            other as f64 / views as f64
        },
    })
}

/// Imports `files` with `opts`: the whole `baseline import` in one call.
pub fn import_files(
    files: &[impl AsRef<Path>],
    opts: &ImportOptions,
) -> Result<Baseline, ImportError> {
    let mut imp = Importer::new(opts.clone());
    for f in files {
        imp.read_file(f.as_ref())?;
    }
    imp.finish()
}

/// Builds a baseline from in-memory values (for demos and tests): one page ×
/// segment, every value one page view.
pub fn from_values(
    page: &str,
    segment: &SegmentKey,
    values: &[(crate::Metric, f64)],
    min_segment: u64,
) -> Baseline {
    let mut acc = Accumulator::new(Default::default(), min_segment);
    let seg = [
        segment.form_factor.as_deref(),
        segment.connection.as_deref(),
        segment.country.as_deref(),
        segment.browser.as_deref(),
    ];
    for (i, &(m, v)) in values.iter().enumerate() {
        if record::check_number(m, v).is_ok() {
            acc.add(&record::Record {
                page,
                segment: seg,
                time: None,
                user: None,
                session: None,
                view: record::View::Part(i as u64),
                metrics: &[(m, v, record::WEB_VITALS)],
            });
        }
    }
    let mut b = Baseline {
        schema: BASELINE_SCHEMA,
        provenance: Provenance {
            rumcheck_version: env!("CARGO_PKG_VERSION").to_string(),
            imported_at: record::format_time(now_unix()),
            ..Provenance::default()
        },
        segments: acc.finish(),
    };
    b.provenance.content_hashes = vec![b.content_hash()];
    b
}

/// `reason: count (lines …)` over all sources, for messages.
pub fn rejection_summary(sources: &[Source]) -> String {
    let mut parts = Vec::new();
    for s in sources {
        for (reason, r) in &s.rejected {
            let lines: Vec<String> = r.first_lines.iter().map(u64::to_string).collect();
            parts.push(format!(
                "{}: {reason} ×{} (lines {})",
                s.file,
                r.count,
                lines.join(", ")
            ));
        }
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join("; ")
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Reads a baseline file, checking its schema version and every value
/// ([`validate`]).
pub fn read_baseline(path: &Path) -> Result<Baseline, ImportError> {
    let file = path.display().to_string();
    let err = |message: String| ImportError::Baseline {
        file: file.clone(),
        message,
    };
    let bytes = read_bounded(path).map_err(&err)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| {
            err(format!(
                "line {}, column {}: not a rumcheck baseline (not JSON: {e})\n  hint: baseline files are written by `rumcheck baseline import`",
                e.line(),
                e.column()
            ))
        })?;
    check_schema(&v).map_err(err)?;
    let b: Baseline =
        serde_json::from_value(v).map_err(|e| err(format!("not a rumcheck baseline: {e}")))?;
    validate(&b).map_err(|e| ImportError::Invalid {
        file: file.clone(),
        field: e.field,
        problem: e.problem,
    })?;
    Ok(b)
}

/// The top-level `schema` must be [`BASELINE_SCHEMA`]; the message says
/// which rumcheck wrote the file and what to do.
fn check_schema(v: &serde_json::Value) -> Result<(), String> {
    let schema = v.get("schema");
    if schema.and_then(serde_json::Value::as_u64) == Some(u64::from(BASELINE_SCHEMA)) {
        return Ok(());
    }
    let writer = v
        .pointer("/provenance/rumcheck_version")
        .and_then(serde_json::Value::as_str)
        .map_or(String::new(), |w| format!(" (written by rumcheck {w})"));
    let this = env!("CARGO_PKG_VERSION");
    Err(match schema {
        None => "has no top-level \"schema\" field: not a rumcheck baseline\n  hint: baseline files are written by `rumcheck baseline import`".to_string(),
        Some(s) => format!(
            "is baseline schema {s}{writer}; this rumcheck ({this}) reads schema {BASELINE_SCHEMA} only\n  hint: re-import the data with this rumcheck (`rumcheck baseline import …`), or use the rumcheck that wrote it"
        ),
    })
}

/// The largest baseline file read: ten times what the default
/// `--max-pages` writes with four segment dimensions.
pub const MAX_BASELINE_BYTES: u64 = 1 << 30;

/// A baseline file's bytes, read no further than [`MAX_BASELINE_BYTES`], and
/// refused at once unless it starts like a JSON object (so `/dev/zero` or a
/// binary file ends in an error, not a long read).
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    let mut reader = BufReader::new(file.take(MAX_BASELINE_BYTES + 1));
    let head = reader.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{') | None) {
        return Err("not a rumcheck baseline (not JSON: it does not start with a JSON object '{')\n  hint: baseline files are written by `rumcheck baseline import`".into());
    }
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_BASELINE_BYTES {
        return Err(format!(
            "larger than {} MiB: not a baseline rumcheck wrote (check the path)",
            MAX_BASELINE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

/// Writes a baseline as pretty JSON (see [`crate::output`]).
pub fn write_baseline(path: &Path, b: &Baseline) -> Result<(), ImportError> {
    let err = |message: String| ImportError::Baseline {
        file: path.display().to_string(),
        message,
    };
    let json = serde_json::to_vec_pretty(b).map_err(|e| err(format!("cannot serialise: {e}")))?;
    // Replaced only by a complete file; devices and FIFOs are refused.
    crate::output::write_file("-o", path, &json).map_err(|e| err(e.to_string()))
}
