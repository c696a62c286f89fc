//! Bounded samples of (TTFB, `server.NAME`) pairs from the same row, so
//! `baseline show` can say how closely a page's TTFB follows its backend time.
//!
//! Sketches keep each metric's distribution but lose which values came
//! from the same page view; a correlation needs the pairs. Each page keeps
//! at most [`MAX_PAIRS`] per server metric, chosen as a bottom-k sample: every
//! pair gets a key hashed from its row, and the pairs with the smallest keys
//! stay. Unlike Algorithm R this needs no random state and merges exactly
//! (the union's smallest keys), so blocks of a file, `--max-pages` folding and
//! `baseline merge` all give the sample a single pass would, for any `-j`.

use serde::{Deserialize, Serialize};

/// Pairs kept per page × server metric: enough for a rank correlation with a
/// standard error near 0.02, and about 50 kB of baseline file.
pub const MAX_PAIRS: usize = 2000;

/// Keys are below 2^53, so any JSON reader holds them exactly.
pub const KEY_BITS: u32 = 53;

/// One row's TTFB and server metric value, with its sampling key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair(
    /// TTFB (ms).
    pub f64,
    /// The server metric (ms).
    pub f64,
    /// The sampling key (a hash of the row, below 2^[`KEY_BITS`]).
    pub u64,
);

/// A bounded uniform sample of the rows that had both TTFB and one server metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairSample {
    /// Rows that had both values (the population the sample is drawn from).
    pub seen: u64,
    /// At most [`MAX_PAIRS`] pairs, those with the smallest keys, by key.
    /// In files one string, `"ttfb value key,ttfb value key,…"`: as a JSON
    /// array the pretty-printed file would spend a line on every number
    /// (about 200 kB a page instead of 50).
    #[serde(with = "compact")]
    pub pairs: Vec<Pair>,
}

/// The string form of [`PairSample::pairs`]. Numbers are written in
/// Rust's shortest round-trip form, so reading gives back the same bits.
mod compact {
    use super::Pair;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::fmt::Write;

    pub fn serialize<S: Serializer>(pairs: &[Pair], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(pairs.len() * 28);
        for (i, Pair(ttfb, v, key)) in pairs.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(out, "{sep}{ttfb} {v} {key}");
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Pair>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        text.split(',')
            .enumerate()
            .map(|(i, triple)| {
                let bad = || {
                    let shown: String = triple.chars().take(60).collect();
                    D::Error::custom(format!(
                        "pair {i} '{shown}' is not 'ttfb value key' (two numbers and a whole number)"
                    ))
                };
                let mut parts = triple.split(' ');
                let mut num = || parts.next().and_then(|p| p.parse::<f64>().ok());
                let (ttfb, v) = (num().ok_or_else(bad)?, num().ok_or_else(bad)?);
                let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
                if parts.next().is_some() {
                    return Err(bad());
                }
                Ok(Pair(ttfb, v, key))
            })
            .collect()
    }
}

/// The sampling key of a row: its identity within the import (`salt`,
/// the view number of a wide CSV row) and its two values, hashed.
pub fn key(salt: u64, ttfb: f64, value: f64) -> u64 {
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&salt.to_le_bytes());
    bytes[8..16].copy_from_slice(&ttfb.to_bits().to_le_bytes());
    bytes[16..].copy_from_slice(&value.to_bits().to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes) >> (64 - KEY_BITS)
}

impl PairSample {
    /// Adds one row's pair.
    pub fn push(&mut self, pair: Pair) {
        self.seen += 1;
        self.pairs.push(pair);
        if self.pairs.len() >= 2 * MAX_PAIRS {
            self.shrink();
        }
    }

    /// Adds every pair of `other` (a sample of other rows).
    pub fn merge(&mut self, other: &PairSample) {
        self.seen = self.seen.saturating_add(other.seen);
        for p in &other.pairs {
            self.pairs.push(*p);
            if self.pairs.len() >= 2 * MAX_PAIRS {
                self.shrink();
            }
        }
    }

    /// Keeps the [`MAX_PAIRS`] smallest keys, in key order (ties by value,
    /// so the result does not depend on the order pairs came in).
    pub fn finish(&mut self) {
        self.shrink();
        self.pairs.sort_by(order);
    }

    fn shrink(&mut self) {
        if self.pairs.len() > MAX_PAIRS {
            self.pairs.select_nth_unstable_by(MAX_PAIRS, order);
            self.pairs.truncate(MAX_PAIRS);
        }
    }

    /// The sampled TTFB values and server values, as two columns.
    pub fn columns(&self) -> (Vec<f64>, Vec<f64>) {
        self.pairs.iter().map(|p| (p.0, p.1)).unzip()
    }
}

fn order(a: &Pair, b: &Pair) -> std::cmp::Ordering {
    a.2.cmp(&b.2)
        .then(a.0.total_cmp(&b.0))
        .then(a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: std::ops::Range<u64>) -> PairSample {
        let mut s = PairSample::default();
        for i in rows {
            let (t, v) = (i as f64, (i % 97) as f64);
            s.push(Pair(t, v, key(i, t, v)));
        }
        s
    }

    #[test]
    fn the_sample_is_bounded_and_merges_like_one_pass() {
        let mut whole = sample(0..10_000);
        whole.finish();
        assert_eq!(whole.seen, 10_000);
        assert_eq!(whole.pairs.len(), MAX_PAIRS);
        assert!(whole.pairs.iter().all(|p| p.2 < 1 << KEY_BITS));
        // Any split, merged in any order, keeps the same pairs.
        let (mut a, b, c) = (sample(6_000..10_000), sample(0..10), sample(10..6_000));
        a.merge(&b);
        a.merge(&c);
        a.finish();
        assert_eq!(a, whole);
        // Fewer rows than the cap: every pair stays.
        let mut few = sample(0..50);
        few.finish();
        assert_eq!((few.seen, few.pairs.len()), (50, 50));
    }

    #[test]
    fn pairs_are_one_string_in_files_and_read_back_bit_for_bit() {
        let s = PairSample {
            seen: 3,
            pairs: vec![
                Pair(120.0, 80.25, 7),
                Pair(0.1 + 0.2, 1e-7, (1 << KEY_BITS) - 1),
            ],
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"seen":3,"pairs":"120 80.25 7,0.30000000000000004 0.0000001 9007199254740991"}"#
        );
        assert_eq!(serde_json::from_str::<PairSample>(&json).unwrap(), s);
        let empty = r#"{"seen":0,"pairs":""}"#;
        assert!(
            serde_json::from_str::<PairSample>(empty)
                .unwrap()
                .pairs
                .is_empty()
        );
        for bad in ["1 2", "1 2 3 4", "1 x 3", "1 2 -3", "1,2 3 4", "1  2 3"] {
            let text = format!(r#"{{"seen":9,"pairs":"{bad}"}}"#);
            let e = serde_json::from_str::<PairSample>(&text)
                .unwrap_err()
                .to_string();
            assert!(e.contains("is not 'ttfb value key'"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_kept_rows_are_spread_over_the_input_not_its_start() {
        // A uniform sample of 2000 of 10 000 rows numbered 0..10 000 has a
        // mean row near 5 000 (sd about 2 900 / sqrt(2000) = 65).
        let mut s = sample(0..10_000);
        s.finish();
        let mean = s.pairs.iter().map(|p| p.0).sum::<f64>() / s.pairs.len() as f64;
        assert!((mean - 4999.5).abs() < 300.0, "mean row {mean}");
    }
}
