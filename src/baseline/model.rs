//! The baseline file: what real users experienced, per page × segment × metric.
//!
//! Written by `rumcheck baseline import`, read by `compare` and `run`. The
//! format is versioned ([`BASELINE_SCHEMA`]) and documented in
//! `docs/baseline-format.md`. It never holds raw rows or identifiers.

use crate::metric::{Metric, Rating};
use serde::{Deserialize, Serialize};
use sketches_ddsketch::DDSketch;
use std::collections::BTreeMap;

/// Segment keys are defined with page keys in [`crate::segment`]; the
/// baseline file stores them as they are.
pub use crate::segment::SegmentKey;

pub use super::pairs::{MAX_PAIRS, Pair, PairSample};

/// Version of the baseline file format. Bump on incompatible changes.
pub const BASELINE_SCHEMA: u32 = 1;

/// A whole baseline file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version ([`BASELINE_SCHEMA`]).
    pub schema: u32,
    /// Where the data came from.
    pub provenance: Provenance,
    /// One entry per page × segment.
    pub segments: Vec<SegmentBaseline>,
}

/// What is known about one page in one segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentBaseline {
    /// Page key (`/product/:id` with `--page-by template`, `*` with `--page-by none`,
    /// or the CrUX URL/origin).
    pub page: String,
    /// The segment.
    pub segment: SegmentKey,
    /// Fewer samples than `--min-segment`: kept for context, never compared.
    #[serde(default)]
    pub too_small: bool,
    /// Per-metric distributions.
    pub metrics: BTreeMap<Metric, MetricBaseline>,
    /// Sessions, users, bounce, Apdex, JS errors.
    #[serde(default)]
    pub context: Context,
    /// Per `server.*` metric: a bounded sample of (TTFB, that metric)
    /// pairs from the same rows, for `baseline show`'s correlation. Only a
    /// page's all-users segment has it; absent in files written before it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ttfb_pairs: BTreeMap<Metric, PairSample>,
}

/// The field distribution of one metric.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricBaseline {
    /// Number of real-user values (0 when only a CrUX histogram is known).
    pub n: u64,
    /// How the source defines the metric: `web-vitals`, or e.g. `boomerang-cls-sum`
    /// when it differs (comparisons warn on a definition mismatch).
    pub definition: String,
    /// Only binned data (CrUX 3-bin histogram + p75) exists for this metric.
    #[serde(default)]
    pub binned_only: bool,
    /// Quantiles as imported or estimated from the sketch.
    pub p50: Option<f64>,
    /// 75th percentile (what CrUX and Core Web Vitals assessments use).
    pub p75: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// Good / needs-improvement / poor shares (web-vitals thresholds), if defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<Shares>,
    /// The histogram as the source gave it (CrUX), bins in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<Bin>,
    /// Mergeable relative-error sketch of all values (absent for binned data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<Sketch>,
}

/// A mergeable quantile sketch with 1 % relative error (DDSketch).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sketch(pub DDSketch);

impl Default for Sketch {
    /// An empty sketch with 1 % relative accuracy.
    fn default() -> Self {
        Sketch(DDSketch::new(sketches_ddsketch::Config::defaults()))
    }
}

impl Sketch {
    /// Adds one value (values must be finite and non-negative; importers check).
    pub fn add(&mut self, v: f64) {
        self.0.add(v);
    }

    /// Adds `count` copies of one value.
    pub fn add_with_count(&mut self, v: f64, count: u64) {
        self.0.add_with_count(v, count);
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) within 1 % relative error; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.0.quantile(q).ok().flatten()
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.0.count() as u64
    }

    /// Merges `other` into `self`; fails only when the two were built with
    /// different accuracy settings (not produced by rumcheck).
    pub fn merge(&mut self, other: &Sketch) -> Result<(), String> {
        self.0
            .merge(&other.0)
            .map_err(|e| format!("sketches with different settings cannot merge: {e:?}"))
    }
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sketch(n={})", self.0.count())
    }
}

/// Shares of visits per web-vitals rating. Need not sum to exactly 1 (CrUX).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    /// Share rated good.
    pub good: f64,
    /// Share rated needs-improvement.
    pub needs_improvement: f64,
    /// Share rated poor.
    pub poor: f64,
}

/// One histogram bin `[start, end)`; the last bin has no end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Inclusive lower bound.
    pub start: f64,
    /// Exclusive upper bound; `None` for the open last bin.
    pub end: Option<f64>,
    /// Share of visits in the bin.
    pub density: f64,
}

/// Context of a page × segment: what a regression costs in users.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Context {
    /// Page views counted.
    #[serde(default)]
    pub page_views: u64,
    /// Distinct sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u64>,
    /// Distinct users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_users: Option<u64>,
    /// Distinct users per day (`YYYY-MM-DD`), where timestamps exist.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users_per_day: BTreeMap<String, u64>,
    /// Share of sessions with a single page view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounce_rate: Option<f64>,
    /// Bounce rate of sessions whose landing page's LCP had this rating.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bounce_rate_by_lcp: BTreeMap<String, f64>,
    /// Apdex scores for configured metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apdex: BTreeMap<Metric, Apdex>,
    /// Share of page views with at least one JS error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_error_rate: Option<f64>,
    /// Sessions that landed on this page (the denominator of `bounce_rate`;
    /// kept so merges stay exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_sessions: Option<u64>,
    /// Landing sessions per LCP rating (denominators of `bounce_rate_by_lcp`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub landing_sessions_by_lcp: BTreeMap<String, u64>,
    /// Page views that reported a JS error count (denominator of `js_error_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_reported_views: Option<u64>,
    /// 75th percentile of the users' network round-trip time (ms), as CrUX
    /// states it (`round_trip_time`): context for choosing a throttling
    /// profile, not a web-vitals metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_p75_ms: Option<f64>,
}

/// An Apdex score: (satisfied + tolerating/2) / n with satisfied ≤ T < tolerating ≤ 4T.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Apdex {
    /// The target T (ms).
    pub t_ms: f64,
    /// The score in [0, 1].
    pub score: f64,
    /// Values counted.
    pub n: u64,
}

/// Where a baseline came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// rumcheck version that wrote the file.
    pub rumcheck_version: String,
    /// RFC 3339 time of the import.
    pub imported_at: String,
    /// Inputs read.
    pub sources: Vec<Source>,
    /// First and last timestamp seen in the data (RFC 3339 or the source's dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<(String, String)>,
    /// The `--min-segment` the file was built with (merges re-apply it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_segment: Option<u64>,
    /// A hash of each import's data (`xxh3-128:` and 32 hex digits; a merge
    /// keeps every part's), so a merge can refuse the same data twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_hashes: Vec<String>,
    /// The `--max-pages` cap of an import from rows, and what it folded
    /// into the page `(other)`. Absent in baselines written before the cap
    /// and in CrUX-only imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_cap: Option<PageCap>,
}

/// The page cap of an import (`provenance.page_cap`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageCap {
    /// Page keys kept (`--max-pages`), the most viewed first.
    pub max_pages: u64,
    /// Pages kept (at most `max_pages`; `(other)` not counted).
    pub pages: u64,
    /// Page views counted under `(other)`.
    pub other_views: u64,
    /// Their share of all page views (0 when nothing was folded).
    pub other_share: f64,
}

/// One input file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Source {
    /// File name as given.
    pub file: String,
    /// Input format (`csv`, `webvitals`, `boomerang`, `crux`, `crux-history`,
    /// `crux-bigquery`).
    pub format: String,
    /// Rows (lines/records) read.
    pub rows_read: u64,
    /// Rows that contributed values.
    pub rows_accepted: u64,
    /// Rejected rows by reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rejected: BTreeMap<String, Rejected>,
}

/// Rejections for one reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rejected {
    /// How many rows.
    pub count: u64,
    /// The first few line numbers (1-based), to find them.
    pub first_lines: Vec<u64>,
}

impl Baseline {
    /// The hash [`Provenance::content_hashes`] records for an import: of
    /// the segments as serialised, so the same data always hashes alike.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(&self.segments).unwrap_or_default();
        format!("xxh3-128:{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))
    }

    /// The segment for `page` that best matches `wanted`: an exact match
    /// first, then the closest coarser segment (fields of `wanted` dropped
    /// from the most specific), then the page's all-users segment. Pages match
    /// exactly or through `*`.
    pub fn find(&self, page: &str, wanted: &SegmentKey) -> Option<&SegmentBaseline> {
        let candidates = [
            wanted.clone(),
            SegmentKey {
                browser: None,
                ..wanted.clone()
            },
            SegmentKey {
                browser: None,
                country: None,
                ..wanted.clone()
            },
            SegmentKey {
                form_factor: wanted.form_factor.clone(),
                ..SegmentKey::default()
            },
            SegmentKey::default(),
        ];
        for page_key in [page, "*"] {
            for key in &candidates {
                if let Some(s) = self
                    .segments
                    .iter()
                    .find(|s| s.page == page_key && &s.segment == key)
                {
                    return Some(s);
                }
            }
        }
        None
    }
}

impl MetricBaseline {
    /// A metric known only from binned data (CrUX): a p75, the good / needs
    /// improvement / poor shares and the histogram, no sketch and no n.
    pub fn binned(
        definition: &str,
        p75: Option<f64>,
        shares: Option<Shares>,
        histogram: Vec<Bin>,
    ) -> MetricBaseline {
        MetricBaseline {
            n: 0,
            definition: definition.to_string(),
            binned_only: true,
            p50: None,
            p75,
            p90: None,
            p95: None,
            shares,
            histogram,
            sketch: None,
        }
    }

    /// The share of visits rated `rating`, if known.
    pub fn share(&self, rating: Rating) -> Option<f64> {
        let s = self.shares?;
        Some(match rating {
            Rating::Good => s.good,
            Rating::NeedsImprovement => s.needs_improvement,
            Rating::Poor => s.poor,
        })
    }
}
