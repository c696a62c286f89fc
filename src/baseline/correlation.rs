//! How closely a page's field TTFB follows its backend time: Spearman's rho
//! between TTFB and each `server.*` metric over the rows that had both
//! (the baseline's [`PairSample`]), read as one sentence for `baseline show`.
//!
//! Thresholds on rho (conventional bands, `docs/baseline-format.md`):
//! ≥ [`STRONG`] strong: slow TTFB is backend time; [`WEAK`] to [`STRONG`]
//! moderate: partly; below [`WEAK`] in size: look at the network; ≤ −[`WEAK`]:
//! TTFB moves against the metric, which is not backend time. Fewer than
//! [`MIN_PAIRS`] pairs get no reading.

use super::model::PairSample;
use crate::metric::Metric;
use crate::stats::spearman::{Spearman, spearman};

/// rho at or above this: TTFB follows the server metric.
pub const STRONG: f64 = 0.5;

/// |rho| below this: no useful association.
pub const WEAK: f64 = 0.2;

/// Pairs needed for a reading (as `--min-segment`'s default).
pub const MIN_PAIRS: usize = 30;

/// The confidence level of the interval shown.
const LEVEL: f64 = 0.95;

/// Spearman's rho of a page's (TTFB, `metric`) pairs, `None` when there are
/// fewer than three or one side never varies.
pub fn correlation(pairs: &PairSample) -> Option<Spearman> {
    let (ttfb, server) = pairs.columns();
    spearman(&ttfb, &server, LEVEL).ok()
}

/// One line: rho, its interval, n, and what it means for a slow TTFB.
pub fn reading(metric: Metric, pairs: &PairSample) -> String {
    let n = pairs.pairs.len();
    let of = if pairs.seen > n as u64 {
        format!(" sampled of {} rows", pairs.seen)
    } else {
        String::new()
    };
    let Some(s) = correlation(pairs) else {
        return format!(
            "TTFB vs {metric} (n {n}{of}): no correlation to read (too few pairs, or one of the two never varies)"
        );
    };
    let ci = s.interval.map_or(String::new(), |i| {
        format!(", 95% CI {:.2} to {:.2}", i.lower, i.upper)
    });
    let stats = format!("rho {:.2}{ci}, n {n}{of}", s.rho);
    if n < MIN_PAIRS {
        return format!(
            "TTFB vs {metric} ({stats}): too few pairs for a reading ({MIN_PAIRS} needed)"
        );
    }
    if s.rho >= STRONG {
        format!("TTFB follows {metric} ({stats}): slow TTFB here is backend time")
    } else if s.rho >= WEAK {
        format!(
            "TTFB partly follows {metric} ({stats}): backend time explains some of the slow TTFB, the network the rest"
        )
    } else if s.rho > -WEAK {
        format!("TTFB barely follows {metric} ({stats}): weak, look at the network")
    } else {
        format!(
            "TTFB moves against {metric} ({stats}): not backend time; check what {metric} measures"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::model::Pair;

    fn sample(f: impl Fn(f64) -> f64, n: u64) -> PairSample {
        let mut s = PairSample::default();
        for i in 0..n {
            let t = 100.0 + i as f64;
            s.push(Pair(t, f(t), i));
        }
        s.finish();
        s
    }

    #[test]
    fn the_reading_follows_the_documented_bands() {
        let db = Metric::parse_lab("server.db").unwrap();
        let strong = reading(db, &sample(|t| t * 0.8, 100));
        assert!(
            strong.starts_with("TTFB follows server.db (rho 1.00, 95% CI")
                && strong.ends_with("n 100): slow TTFB here is backend time"),
            "{strong}"
        );
        // A value unrelated to TTFB's order: i * 7919 mod 101 is a permutation.
        let weak = reading(db, &sample(|t| ((t as u64 * 7919) % 101) as f64, 101));
        assert!(weak.contains("look at the network"), "{weak}");
        // scipy.stats.spearmanr(t, t/3 + (t*7919 % 101)) for t = 100..199: 0.37438943894389437
        let partly = reading(
            db,
            &sample(|t| t / 3.0 + ((t as u64 * 7919) % 101) as f64, 100),
        );
        assert!(
            partly.starts_with("TTFB partly follows server.db (rho 0.37,")
                && partly.contains("the network the rest"),
            "{partly}"
        );
        let against = reading(db, &sample(|t| 1000.0 - t, 40));
        assert!(
            against.starts_with("TTFB moves against server.db (rho -1.00"),
            "{against}"
        );
        let few = reading(db, &sample(|t| t, 12));
        assert!(
            few.contains("too few pairs for a reading (30 needed)"),
            "{few}"
        );
        let flat = reading(db, &sample(|_| 5.0, 50));
        assert!(flat.contains("no correlation to read"), "{flat}");
        let mut big = sample(|t| t, 2500);
        big.seen = 9000;
        assert!(reading(db, &big).contains("n 2000 sampled of 9000 rows"));
    }
}
