//! Checks a baseline before anything uses it: a hand-edited or damaged file
//! must be rejected with the field that is wrong, never reach the sketch
//! crate (whose merge indexes its bins without bounds checks) or divide by a
//! zero count.
//!
//! [`validate`] is called by every reader ([`read_baseline`](super::read_baseline),
//! hence `show`, `compare`, `run` and `calibrate`) and by [`merge`](super::merge).

use super::model::{
    Baseline, Bin, Context, MAX_PAIRS, MetricBaseline, Pair, PairSample, SegmentBaseline, Shares,
    Sketch,
};
use super::pairs::KEY_BITS;
use crate::metric::Metric;
use serde::Deserialize;

/// Largest count rumcheck accepts anywhere in a baseline: far beyond any
/// real export, and small enough that adding thousands of them never
/// overflows.
pub const MAX_COUNT: u64 = 1 << 50;

/// How far densities and shares may sum from 1 (CrUX rounds them).
const SUM_TOLERANCE: f64 = 0.02;

/// Largest sketch key magnitude: the default mapping gives keys of about
/// ±36 000 for all positive finite numbers.
const MAX_KEY: i64 = 1 << 20;

/// What is wrong with a baseline, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    /// Path of the field, e.g. `segments[2] (/cart, phone).metrics.lcp.p75`.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Checks everything a reader relies on: sketches (settings, stores,
/// offsets, keys, counts), quantiles and p75s (finite, non-negative),
/// shares and CrUX densities (each in [0, 1], summing to about 1), rates,
/// and counts (at most [`MAX_COUNT`]).
pub fn validate(b: &Baseline) -> Result<(), Invalid> {
    for (i, s) in b.segments.iter().enumerate() {
        let at = format!("segments[{i}] ({}, {})", s.page, s.segment.label());
        segment(&at, s)?;
    }
    Ok(())
}

fn fail<T>(field: impl Into<String>, problem: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid {
        field: field.into(),
        problem: problem.into(),
    })
}

fn count(field: &str, n: u64) -> Result<(), Invalid> {
    if n > MAX_COUNT {
        return fail(
            field,
            format!("{n} is beyond any real count (at most {MAX_COUNT})"),
        );
    }
    Ok(())
}

fn non_negative(field: &str, v: f64) -> Result<(), Invalid> {
    if !(v.is_finite() && v >= 0.0) {
        return fail(field, format!("{v} must be a finite number ≥ 0"));
    }
    Ok(())
}

fn share(field: &str, v: f64) -> Result<(), Invalid> {
    if !(0.0..=1.0).contains(&v) {
        return fail(field, format!("{v} must be a share between 0 and 1"));
    }
    Ok(())
}

fn sums_to_one(field: &str, parts: &[f64]) -> Result<(), Invalid> {
    let sum: f64 = parts.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return fail(field, format!("sum to {sum}, not 1"));
    }
    Ok(())
}

fn segment(at: &str, s: &SegmentBaseline) -> Result<(), Invalid> {
    if s.page.is_empty() {
        return fail(format!("{at}.page"), "is empty");
    }
    for (m, mb) in &s.metrics {
        metric(&format!("{at}.metrics.{m}"), mb)?;
    }
    for (m, p) in &s.ttfb_pairs {
        pairs(&format!("{at}.ttfb_pairs.{m}"), *m, p)?;
    }
    context(&format!("{at}.context"), &s.context)
}

fn pairs(at: &str, m: Metric, p: &PairSample) -> Result<(), Invalid> {
    if !matches!(m, Metric::Server(_)) {
        return fail(at, "pairs TTFB with server.* metrics only");
    }
    count(&format!("{at}.seen"), p.seen)?;
    if p.pairs.len() > MAX_PAIRS || p.pairs.len() as u64 > p.seen {
        return fail(
            format!("{at}.pairs"),
            format!(
                "holds {} pairs, more than the {MAX_PAIRS} kept or the {} seen",
                p.pairs.len(),
                p.seen
            ),
        );
    }
    for (i, Pair(ttfb, v, key)) in p.pairs.iter().enumerate() {
        non_negative(&format!("{at}.pairs[{i}].ttfb"), *ttfb)?;
        non_negative(&format!("{at}.pairs[{i}].value"), *v)?;
        if *key >> KEY_BITS != 0 {
            return fail(
                format!("{at}.pairs[{i}].key"),
                format!("key {key} is not below 2^{KEY_BITS}"),
            );
        }
    }
    Ok(())
}

fn metric(at: &str, mb: &MetricBaseline) -> Result<(), Invalid> {
    count(&format!("{at}.n"), mb.n)?;
    for (name, q) in [
        ("p50", mb.p50),
        ("p75", mb.p75),
        ("p90", mb.p90),
        ("p95", mb.p95),
    ] {
        if let Some(v) = q {
            non_negative(&format!("{at}.{name}"), v)?;
        }
    }
    if let Some(Shares {
        good,
        needs_improvement,
        poor,
    }) = mb.shares
    {
        share(&format!("{at}.shares.good"), good)?;
        share(&format!("{at}.shares.needs_improvement"), needs_improvement)?;
        share(&format!("{at}.shares.poor"), poor)?;
        sums_to_one(&format!("{at}.shares"), &[good, needs_improvement, poor])?;
    }
    histogram(&format!("{at}.histogram"), &mb.histogram)?;
    if let Some(sk) = &mb.sketch {
        let field = format!("{at}.sketch");
        sketch(&field, sk)?;
        if sk.count() != mb.n {
            return fail(
                field,
                format!("holds {} values but n is {}", sk.count(), mb.n),
            );
        }
    }
    Ok(())
}

fn histogram(at: &str, bins: &[Bin]) -> Result<(), Invalid> {
    for (i, b) in bins.iter().enumerate() {
        let f = |name: &str| format!("{at}[{i}].{name}");
        non_negative(&f("start"), b.start)?;
        if let Some(end) = b.end {
            non_negative(&f("end"), end)?;
            if end < b.start {
                return fail(f("end"), format!("{end} is below the start {}", b.start));
            }
        }
        share(&f("density"), b.density)?;
    }
    if !bins.is_empty() {
        let densities: Vec<f64> = bins.iter().map(|b| b.density).collect();
        sums_to_one(&format!("{at} densities"), &densities)?;
    }
    Ok(())
}

fn context(at: &str, c: &Context) -> Result<(), Invalid> {
    let counts = [
        ("page_views", Some(c.page_views)),
        ("sessions", c.sessions),
        ("active_users", c.active_users),
        ("landing_sessions", c.landing_sessions),
        ("js_reported_views", c.js_reported_views),
    ];
    for (name, n) in counts {
        if let Some(n) = n {
            count(&format!("{at}.{name}"), n)?;
        }
    }
    for (day, n) in &c.users_per_day {
        count(&format!("{at}.users_per_day.{day}"), *n)?;
    }
    for (k, n) in &c.landing_sessions_by_lcp {
        count(&format!("{at}.landing_sessions_by_lcp.{k}"), *n)?;
    }
    for (name, rate) in [
        ("bounce_rate", c.bounce_rate),
        ("js_error_rate", c.js_error_rate),
    ] {
        if let Some(r) = rate {
            share(&format!("{at}.{name}"), r)?;
        }
    }
    for (k, r) in &c.bounce_rate_by_lcp {
        share(&format!("{at}.bounce_rate_by_lcp.{k}"), *r)?;
    }
    for (m, a) in &c.apdex {
        share(&format!("{at}.apdex.{m}.score"), a.score)?;
        count(&format!("{at}.apdex.{m}.n"), a.n)?;
        if !(a.t_ms.is_finite() && a.t_ms > 0.0) {
            return fail(
                format!("{at}.apdex.{m}.t_ms"),
                format!("{} must be > 0", a.t_ms),
            );
        }
    }
    if let Some(rtt) = c.rtt_p75_ms {
        non_negative(&format!("{at}.rtt_p75_ms"), rtt)?;
    }
    Ok(())
}

/// The sketch crate's serde form, read back to check what its own API
/// cannot show (stores and keys).
#[derive(Deserialize)]
struct RawSketch {
    config: RawConfig,
    store: RawStore,
    negative_store: RawStore,
    // Infinite (serialised as null) while the sketch is empty.
    min: Option<f64>,
    max: Option<f64>,
    zero_count: u64,
}

#[derive(Deserialize, PartialEq)]
struct RawConfig {
    max_num_bins: u32,
    gamma: f64,
    gamma_ln: f64,
    min_value: f64,
    offset: i32,
}

#[derive(Deserialize)]
struct RawStore {
    bins: Vec<u64>,
    count: u64,
    min_key: i32,
    max_key: i32,
    offset: i32,
    bin_limit: usize,
}

fn raw(s: &Sketch) -> Result<RawSketch, String> {
    serde_json::to_value(&s.0)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("cannot be read back: {e}"))
}

fn sketch(at: &str, s: &Sketch) -> Result<(), Invalid> {
    let mine = raw(&Sketch::default()).map_err(|p| Invalid {
        field: at.into(),
        problem: p,
    })?;
    let r = raw(s).map_err(|p| Invalid {
        field: at.into(),
        problem: p,
    })?;
    if r.config != mine.config {
        return fail(
            format!("{at}.config"),
            "is not rumcheck's sketch setting (1 % relative accuracy, 2048 bins)",
        );
    }
    count(&format!("{at}.zero_count"), r.zero_count)?;
    if r.negative_store.count != 0 || r.negative_store.bins.iter().any(|&b| b != 0) {
        return fail(
            format!("{at}.negative_store"),
            "holds negative values; metric values are never negative",
        );
    }
    store(&format!("{at}.store"), &r.store, r.config.max_num_bins)?;
    let total = r.store.count + r.zero_count;
    if total > 0 {
        let (min, max) = (r.min.unwrap_or(f64::NAN), r.max.unwrap_or(f64::NAN));
        non_negative(&format!("{at}.min"), min)?;
        non_negative(&format!("{at}.max"), max)?;
        if min > max {
            return fail(format!("{at}.min"), format!("{min} is above max {max}"));
        }
    }
    Ok(())
}

fn store(at: &str, s: &RawStore, max_bins: u32) -> Result<(), Invalid> {
    count(&format!("{at}.count"), s.count)?;
    if s.bin_limit != max_bins as usize {
        return fail(
            format!("{at}.bin_limit"),
            format!("{} is not the sketch's {max_bins} bins", s.bin_limit),
        );
    }
    if s.bins.len() > s.bin_limit {
        return fail(
            format!("{at}.bins"),
            format!("{} bins exceed the limit of {}", s.bins.len(), s.bin_limit),
        );
    }
    let sum = s
        .bins
        .iter()
        .try_fold(0u64, |a, &b| a.checked_add(b))
        .filter(|&n| n == s.count);
    if sum.is_none() {
        return fail(
            format!("{at}.bins"),
            format!("do not add up to the store's count {}", s.count),
        );
    }
    if s.count == 0 {
        return Ok(());
    }
    let (min, max, offset) = (
        i64::from(s.min_key),
        i64::from(s.max_key),
        i64::from(s.offset),
    );
    for (name, k) in [("min_key", min), ("max_key", max), ("offset", offset)] {
        if k.abs() > MAX_KEY {
            return fail(
                format!("{at}.{name}"),
                format!("{k} is outside the keys a sketch can hold (±{MAX_KEY})"),
            );
        }
    }
    if !(offset <= min && min <= max && max - offset < s.bins.len() as i64) {
        return fail(
            at,
            format!(
                "keys {min}..={max} do not fit the {} bins from offset {offset}",
                s.bins.len()
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;
    use crate::segment::SegmentKey;
    use serde_json::{Value, json};

    fn good() -> Baseline {
        let values: Vec<(Metric, f64)> = (1..=40)
            .map(|i| (Metric::Lcp, 100.0 * f64::from(i)))
            .collect();
        super::super::from_values("/", &SegmentKey::default(), &values, 1)
    }

    /// `good()` with one JSON field replaced (`path` as a JSON pointer).
    fn with(path: &str, v: Value) -> Result<Baseline, String> {
        let mut j = serde_json::to_value(good()).unwrap();
        *j.pointer_mut(path).unwrap() = v;
        serde_json::from_value(j).map_err(|e| e.to_string())
    }

    fn problem(path: &str, v: Value) -> Invalid {
        validate(&with(path, v).unwrap()).unwrap_err()
    }

    const SKETCH: &str = "/segments/0/metrics/lcp/sketch";

    #[test]
    fn an_imported_baseline_is_valid() {
        assert_eq!(validate(&good()), Ok(()));
    }

    #[test]
    fn a_sketch_store_without_bins_is_rejected() {
        let e = problem(&format!("{SKETCH}/store/bins"), json!([]));
        assert!(e.field.ends_with("metrics.lcp.sketch.store.bins"), "{e}");
        assert!(e.problem.contains("do not add up"), "{e}");
    }

    #[test]
    fn extreme_sketch_offsets_and_keys_are_rejected() {
        for (field, v) in [
            ("offset", json!(i32::MIN)),
            ("offset", json!(i32::MAX)),
            ("min_key", json!(i32::MIN)),
            ("max_key", json!(i32::MAX)),
            ("max_key", json!(5000)),
        ] {
            let e = problem(&format!("{SKETCH}/store/{field}"), v.clone());
            assert!(e.field.contains("sketch.store"), "{field}={v}: {e}");
        }
    }

    #[test]
    fn sketch_counts_that_disagree_or_overflow_are_rejected() {
        let e = problem(&format!("{SKETCH}/store/count"), json!(u64::MAX));
        assert!(e.field.ends_with("store.count"), "{e}");
        let e = problem("/segments/0/metrics/lcp/n", json!(41));
        assert!(e.problem.contains("holds 40 values but n is 41"), "{e}");
        let e = problem("/segments/0/context/page_views", json!(u64::MAX));
        assert!(e.field.ends_with("context.page_views"), "{e}");
    }

    #[test]
    fn other_sketch_settings_and_negative_values_are_rejected() {
        let e = problem(&format!("{SKETCH}/config/gamma"), json!(1.5));
        assert!(e.field.ends_with("sketch.config"), "{e}");
        let e = problem(&format!("{SKETCH}/min"), json!(-1.0));
        assert!(e.field.ends_with("sketch.min"), "{e}");
    }

    #[test]
    fn files_without_pairs_load_and_bad_pairs_are_named() {
        let j = serde_json::to_value(good()).unwrap();
        assert!(j.pointer("/segments/0/ttfb_pairs").is_none(), "{j}");
        let with_pairs = |sample: Value| {
            let mut j = serde_json::to_value(good()).unwrap();
            j["segments"][0]["ttfb_pairs"] = sample;
            serde_json::from_value::<Baseline>(j).unwrap()
        };
        let pairs = |p: Value| {
            let sample = json!({ "server.db": { "seen": 2, "pairs": p } });
            validate(&with_pairs(sample)).map_err(|e| e.to_string())
        };
        assert_eq!(pairs(json!("120 80 7,300.5 210 9")), Ok(()));
        let e = pairs(json!("120 -1 7")).unwrap_err();
        assert!(e.contains("ttfb_pairs.server.db.pairs[0].value"), "{e}");
        let e = pairs(json!("1 NaN 7")).unwrap_err();
        assert!(
            e.contains("pairs[0].value: NaN must be a finite number"),
            "{e}"
        );
        let e = pairs(json!(format!("1 1 {}", 1u64 << 53))).unwrap_err();
        assert!(e.contains("not below 2^53"), "{e}");
        let e = pairs(json!("1 1 1,1 1 2,1 1 3")).unwrap_err();
        assert!(e.contains("holds 3 pairs"), "{e}");
        let lcp = json!({ "lcp": { "seen": 0, "pairs": "" } });
        let e = validate(&with_pairs(lcp)).unwrap_err();
        assert!(e.problem.contains("server.* metrics only"), "{e}");
    }

    #[test]
    fn p75_must_be_finite_and_non_negative() {
        let e = problem("/segments/0/metrics/lcp/p75", json!(-3.0));
        assert!(
            e.field.ends_with("metrics.lcp.p75") && e.problem.contains("-3"),
            "{e}"
        );
    }

    #[test]
    fn crux_densities_must_be_shares_summing_to_one() {
        let mut b = good();
        let m = b.segments[0].metrics.get_mut(&Metric::Lcp).unwrap();
        m.histogram = vec![
            Bin {
                start: 0.0,
                end: Some(2500.0),
                density: 0.7,
            },
            Bin {
                start: 2500.0,
                end: Some(4000.0),
                density: 0.2,
            },
            Bin {
                start: 4000.0,
                end: None,
                density: 0.1,
            },
        ];
        assert_eq!(validate(&b), Ok(()));
        b.segments[0]
            .metrics
            .get_mut(&Metric::Lcp)
            .unwrap()
            .histogram[2]
            .density = 0.5;
        let e = validate(&b).unwrap_err();
        assert!(e.problem.contains("sum to 1.4"), "{e}");
        b.segments[0]
            .metrics
            .get_mut(&Metric::Lcp)
            .unwrap()
            .histogram[2]
            .density = -0.1;
        let e = validate(&b).unwrap_err();
        assert!(e.field.ends_with("histogram[2].density"), "{e}");
        let e = problem("/segments/0/metrics/lcp/shares/good", json!(1.5));
        assert!(e.field.ends_with("shares.good"), "{e}");
    }
}
