//! Why a row regressed: pure and synchronous, like `verdict`. For a
//! REGRESSED or warning row, the candidate's and the reference's visits of
//! that page × profile are taken apart the way a developer would in
//! DevTools: which LCP sub-part (or INP phase) moved, which Server-Timing
//! entries of the navigation moved, which requests were added, removed or
//! grew — and one sentence naming the most likely cause with its evidence,
//! or saying that no single cause stands out.
//!
//! A part "moved" when its Hodges–Lehmann shift's interval (at
//! [`PART_LEVEL`], wide enough for the handful of parts looked at together)
//! excludes 0 and the shift is at least [`PART_FLOOR_MS`]: noise of a few
//! milliseconds never becomes a cause.

mod cause;
mod requests;

pub use requests::{RequestChange, RequestChangeKind};

use crate::metric::Metric;
use crate::sample::{InpPhases, LcpParts, Sample};
use crate::stats;
use serde::{Deserialize, Serialize};

/// Confidence level of a part's interval: 99 %, so that across the eight
/// or so parts and server entries of a row a moved part is rarely noise.
pub const PART_LEVEL: f64 = 0.99;

/// The smallest shift (ms) of a part that can count as moved.
pub const PART_FLOOR_MS: f64 = 20.0;

/// Fewest visits per build for a part to be compared.
pub const MIN_VISITS: usize = 5;

/// The diagnosis of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// LCP sub-parts (LCP and TTFB rows; only `ttfb` for FCP rows) or INP
    /// phases (INP rows), largest shift first.
    pub parts: Vec<PartShift>,
    /// Named Server-Timing entries of the navigation (`server.db`), largest shift first.
    pub server: Vec<PartShift>,
    /// Requests added, removed or grown, render-blocking ones first.
    pub requests: Vec<RequestChange>,
    /// The most likely cause with its evidence, or "no single cause stands out".
    pub cause: String,
    /// Whether `cause` names one (false: nothing stands out).
    pub found: bool,
}

/// How one part of the metric moved between the builds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartShift {
    /// `resource_load_delay`, `input_delay`, `server.db`, `long_tasks`…
    pub name: String,
    /// Candidate median (ms).
    pub candidate: f64,
    /// Reference median (ms).
    pub reference: f64,
    /// Hodges–Lehmann shift, candidate − reference (ms).
    pub shift: f64,
    /// Its interval's lower bound (absent when unbounded).
    pub lower: Option<f64>,
    /// Its interval's upper bound (absent when unbounded).
    pub upper: Option<f64>,
    /// Interval level ([`PART_LEVEL`]).
    pub level: f64,
    /// Whether it moved up: the interval is above 0 and the shift at least [`PART_FLOOR_MS`].
    pub moved: bool,
}

/// Compares one part measured in both builds; `None` with too few visits.
pub fn part_shift(name: &str, candidate: &[f64], reference: &[f64]) -> Option<PartShift> {
    if candidate.len() < MIN_VISITS || reference.len() < MIN_VISITS {
        return None;
    }
    let shift = stats::hodges_lehmann(candidate, reference, PART_LEVEL).ok()?;
    let finite = |x: f64| x.is_finite().then_some(x);
    Some(PartShift {
        name: name.to_string(),
        candidate: stats::median(candidate)?,
        reference: stats::median(reference)?,
        shift: shift.estimate,
        lower: finite(shift.interval.lower),
        upper: finite(shift.interval.upper),
        level: PART_LEVEL,
        moved: shift.interval.lower > 0.0 && shift.estimate >= PART_FLOOR_MS,
    })
}

/// What the diagnosis is asked about: one row's metric and shift, and the
/// visits of its page × profile in each build (failed ones are skipped).
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The row's metric.
    pub metric: Metric,
    /// The row's shift estimate, when it has one.
    pub shift: Option<f64>,
    /// The candidate build's visits.
    pub candidate: &'a [&'a Sample],
    /// The reference build's visits.
    pub reference: &'a [&'a Sample],
}

/// Diagnoses one row. Pure: the same visits give the same diagnosis.
pub fn diagnose(row: Row<'_>) -> Diagnosis {
    let parts = match row.metric {
        Metric::Inp => phases(
            row,
            |s| s.inp_phases().map(|p| p.values().to_vec()),
            &InpPhases::NAMES,
        ),
        Metric::Lcp | Metric::Ttfb => phases(
            row,
            |s| s.lcp_parts().map(|p| p.values().to_vec()),
            &LcpParts::NAMES,
        ),
        // FCP shares only its first part with LCP: the rest is LCP's own.
        Metric::Fcp => phases(row, |s| s.lcp_parts().map(|p| vec![p.ttfb]), &["ttfb"]),
        _ => Vec::new(),
    };
    let server = server_shifts(row);
    let requests = requests::diff(row.candidate, row.reference);
    let main_thread = main_thread(row);
    let (cause, found) = cause::explain(row, &parts, &server, &requests, &main_thread);
    Diagnosis {
        parts,
        server,
        requests,
        cause,
        found,
    }
}

fn ok<'a>(visits: &'a [&'a Sample]) -> impl Iterator<Item = &'a Sample> {
    visits.iter().copied().filter(|s| s.ok)
}

/// Per-name shifts of parts each visit splits its metric into.
fn phases(
    row: Row<'_>,
    split: impl Fn(&Sample) -> Option<Vec<f64>>,
    names: &[&str],
) -> Vec<PartShift> {
    let columns = |visits: &[&Sample]| {
        let mut cols = vec![Vec::new(); names.len()];
        for v in ok(visits).filter_map(&split) {
            for (col, x) in cols.iter_mut().zip(v) {
                if x.is_finite() {
                    col.push(x);
                }
            }
        }
        cols
    };
    let (c, r) = (columns(row.candidate), columns(row.reference));
    let mut out: Vec<PartShift> = names
        .iter()
        .zip(c.iter().zip(&r))
        .filter_map(|(name, (c, r))| part_shift(name, c, r))
        .collect();
    by_shift(&mut out);
    out
}

fn by_shift(parts: &mut [PartShift]) {
    parts.sort_by(|a, b| b.shift.total_cmp(&a.shift).then(a.name.cmp(&b.name)));
}

/// Shifts of the navigation's named Server-Timing entries, as `server.NAME`.
fn server_shifts(row: Row<'_>) -> Vec<PartShift> {
    let values = |visits: &[&Sample], name: &str| -> Vec<f64> {
        ok(visits)
            .filter_map(|s| {
                s.server_timing()
                    .into_iter()
                    .find(|t| t.request.is_none() && t.name.eq_ignore_ascii_case(name))
                    .and_then(|t| t.dur)
            })
            .filter(|x| x.is_finite())
            .collect()
    };
    let mut names: Vec<String> = ok(row.candidate)
        .chain(ok(row.reference))
        .flat_map(|s| s.server_timing())
        .filter(|t| t.request.is_none() && t.dur.is_some())
        .map(|t| t.name.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let mut out: Vec<PartShift> = names
        .iter()
        .filter_map(|n| {
            part_shift(
                &format!("server.{n}"),
                &values(row.candidate, n),
                &values(row.reference, n),
            )
        })
        .collect();
    by_shift(&mut out);
    out
}

/// Main-thread evidence: long tasks inside the LCP render delay, total
/// blocking time and long tasks.
fn main_thread(row: Row<'_>) -> Vec<PartShift> {
    let before_paint = |v: &[&Sample]| ok(v).filter_map(Sample::lcp_long_tasks).collect::<Vec<_>>();
    let lcp = part_shift(
        "long_tasks_before_paint",
        &before_paint(row.candidate),
        &before_paint(row.reference),
    );
    lcp.into_iter().chain(main_thread_metrics(row)).collect()
}

fn main_thread_metrics(row: Row<'_>) -> Vec<PartShift> {
    [Metric::Tbt, Metric::LongTasks]
        .into_iter()
        .filter_map(|m| {
            let vals = |v: &[&Sample]| ok(v).filter_map(|s| s.metric(m)).collect::<Vec<_>>();
            let mut p = part_shift(m.name(), &vals(row.candidate), &vals(row.reference))?;
            if m == Metric::LongTasks {
                // A count: one more long task in most visits is a move.
                p.moved = p.lower.is_some_and(|l| l > 0.0) && p.shift >= 1.0;
            }
            Some(p)
        })
        .collect()
}

impl Diagnosis {
    /// The evidence as lines for reports, after the cause: moved parts,
    /// moved server entries, changed requests (`resource load delay +400 ms
    /// [380 ms, 420 ms]`, `added render-blocking stylesheet /promo.css (300.0 kB)`).
    pub fn evidence(&self) -> Vec<String> {
        let part = |p: &PartShift| {
            let bound = |b: Option<f64>| b.map_or("∞".to_string(), |x| format!("{x:.0}"));
            format!(
                "{} {} ms → {} ms, {} [{}, {}] ms ({:.0} % interval)",
                cause::label(&p.name),
                p.reference.round(),
                p.candidate.round(),
                cause::signed(Metric::Lcp, p.shift),
                bound(p.lower),
                bound(p.upper),
                p.level * 100.0
            )
        };
        let mut out: Vec<String> = self
            .parts
            .iter()
            .chain(&self.server)
            .filter(|p| p.moved)
            .map(part)
            .collect();
        for r in &self.requests {
            let change = match r.change {
                RequestChangeKind::Added => "added",
                RequestChangeKind::Removed => "removed",
                RequestChangeKind::Grown => "grown",
            };
            let blocking = if r.render_blocking {
                " render-blocking"
            } else {
                ""
            };
            out.push(format!(
                "{change}{blocking} {} {}",
                r.kind,
                cause::request_text(r)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests;
