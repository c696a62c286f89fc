//! The request diff between two builds: per folded URL, how often a visit
//! made the request and how many bytes it moved, compared by medians over
//! the visits of each build.

use crate::sample::Sample;
use crate::stats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a request changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestChangeKind {
    /// Made by most candidate visits and few reference visits.
    Added,
    /// Made by most reference visits and few candidate visits.
    Removed,
    /// Made by both, with more bytes or a longer duration in the candidate.
    Grown,
}

/// One request that differs between the builds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestChange {
    /// Folded URL.
    pub url: String,
    /// `stylesheet`, `script`, `image`…
    #[serde(rename = "type")]
    pub kind: String,
    /// Added, removed or grown.
    pub change: RequestChangeKind,
    /// Whether it blocks rendering (in the build that makes it).
    pub render_blocking: bool,
    /// Median transfer bytes per candidate visit (0 when not made).
    pub bytes_candidate: f64,
    /// Median transfer bytes per reference visit (0 when not made).
    pub bytes_reference: f64,
    /// Median duration in the candidate (ms, 0 when not made).
    pub ms_candidate: f64,
    /// Median duration in the reference (ms, 0 when not made).
    pub ms_reference: f64,
}

/// Most visits: a request counts as made by a build from this share of its visits.
const MOST: f64 = 0.8;
/// Few visits: at most this share.
const FEW: f64 = 0.2;
/// A grown request gained at least this many bytes…
const GROWN_BYTES: f64 = 10_240.0;
/// …and this share of its size; or its duration grew by this many ms.
const GROWN_SHARE: f64 = 0.2;
const GROWN_MS: f64 = 100.0;
/// The most changes a diagnosis lists.
pub const MAX_CHANGES: usize = 10;

/// Per URL: kind, render-blocking, and per visit bytes and ms (summed over
/// repeats of the URL in that visit).
#[derive(Default)]
struct Seen {
    kind: String,
    blocking: bool,
    bytes: Vec<f64>,
    ms: Vec<f64>,
}

fn tally(visits: &[&Sample]) -> (usize, BTreeMap<String, Seen>) {
    let mut out: BTreeMap<String, Seen> = BTreeMap::new();
    let mut n = 0;
    for s in visits.iter().filter(|s| s.ok) {
        n += 1;
        let mut this: BTreeMap<String, (String, bool, f64, f64)> = BTreeMap::new();
        for r in s.requests() {
            let e = this.entry(r.url).or_insert((r.kind, false, 0.0, 0.0));
            e.1 |= r.render_blocking;
            e.2 += r.size.max(0.0);
            e.3 = e.3.max(r.duration.max(0.0));
        }
        for (url, (kind, blocking, bytes, ms)) in this {
            let seen = out.entry(url).or_default();
            seen.kind = kind;
            seen.blocking |= blocking;
            seen.bytes.push(bytes);
            seen.ms.push(ms);
        }
    }
    (n, out)
}

/// The path of a folded URL: a foreign origin (`https://cdn.example`) dropped.
fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    }
}

/// A third party served from another origin in each build (another host
/// or port) is the same request: an added and a removed one with the same
/// path and type cancel out, or become one grown request when it grew.
fn pair_moved_origins(changes: &mut Vec<RequestChange>) {
    let same = |a: &RequestChange, b: &RequestChange| {
        a.change == RequestChangeKind::Added
            && b.change == RequestChangeKind::Removed
            && a.kind == b.kind
            && path_of(&a.url) == path_of(&b.url)
    };
    while let Some((i, j)) = (0..changes.len())
        .flat_map(|i| (0..changes.len()).map(move |j| (i, j)))
        .find(|&(i, j)| same(&changes[i], &changes[j]))
    {
        let (bc, br) = (changes[i].bytes_candidate, changes[j].bytes_reference);
        let (mc, mr) = (changes[i].ms_candidate, changes[j].ms_reference);
        if (bc - br >= GROWN_BYTES && bc - br >= GROWN_SHARE * br) || mc - mr >= GROWN_MS {
            let added = &mut changes[i];
            added.change = RequestChangeKind::Grown;
            added.bytes_reference = br;
            added.ms_reference = mr;
            changes.remove(j);
        } else {
            // Remove the later index first so the earlier one stays valid.
            changes.remove(i.max(j));
            changes.remove(i.min(j));
        }
    }
}

/// The requests added, removed or grown from `reference` to `candidate`:
/// render-blocking first, then by bytes moved; at most [`MAX_CHANGES`].
pub fn diff(candidate: &[&Sample], reference: &[&Sample]) -> Vec<RequestChange> {
    let (nc, c) = tally(candidate);
    let (nr, r) = tally(reference);
    if nc == 0 || nr == 0 {
        return Vec::new();
    }
    let empty = Seen::default();
    let median = |xs: &[f64]| stats::median(xs).unwrap_or(0.0);
    let mut urls: Vec<&String> = c.keys().chain(r.keys()).collect();
    urls.sort();
    urls.dedup();
    let mut out = Vec::new();
    for url in urls {
        let (sc, sr) = (c.get(url).unwrap_or(&empty), r.get(url).unwrap_or(&empty));
        let (share_c, share_r) = (
            sc.bytes.len() as f64 / nc as f64,
            sr.bytes.len() as f64 / nr as f64,
        );
        let (bc, br) = (median(&sc.bytes), median(&sr.bytes));
        let (mc, mr) = (median(&sc.ms), median(&sr.ms));
        let change = if share_c >= MOST && share_r <= FEW {
            RequestChangeKind::Added
        } else if share_r >= MOST && share_c <= FEW {
            RequestChangeKind::Removed
        } else if share_c >= MOST
            && share_r >= MOST
            && ((bc - br >= GROWN_BYTES && bc - br >= GROWN_SHARE * br) || mc - mr >= GROWN_MS)
        {
            RequestChangeKind::Grown
        } else {
            continue;
        };
        let removed = change == RequestChangeKind::Removed;
        out.push(RequestChange {
            url: url.clone(),
            kind: if removed { &sr.kind } else { &sc.kind }.clone(),
            change,
            render_blocking: if removed { sr.blocking } else { sc.blocking },
            bytes_candidate: if share_c >= MOST { bc } else { 0.0 },
            bytes_reference: if share_r >= MOST { br } else { 0.0 },
            ms_candidate: if share_c >= MOST { mc } else { 0.0 },
            ms_reference: if share_r >= MOST { mr } else { 0.0 },
        });
    }
    pair_moved_origins(&mut out);
    out.sort_by(|a, b| {
        let moved = |x: &RequestChange| (x.bytes_candidate - x.bytes_reference).abs();
        (b.render_blocking && b.change != RequestChangeKind::Removed)
            .cmp(&(a.render_blocking && a.change != RequestChangeKind::Removed))
            .then(moved(b).total_cmp(&moved(a)))
            .then(a.url.cmp(&b.url))
    });
    out.truncate(MAX_CHANGES);
    out
}
