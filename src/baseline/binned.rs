//! Values counted per DDSketch bin during an import, handed to the sketch
//! crate once at the end.
//!
//! Why: the crate finds a value's bin with a logarithm, and an import adds
//! millions of values. Here the bin comes from the crate's own key function,
//! looked up from a table for whole numbers (most RUM values are whole
//! milliseconds), and each bin keeps its count and sum. At the end every bin
//! enters the sketch with `add_with_count`, at a value inside the bin, so the
//! sketch gets the same bins, count, minimum and maximum as if each value had
//! been added alone; only its sum may differ, in the last bits (or by less
//! than a bin's width in the rare bin whose mean rounds outside it;
//! `tests::same_sketch_as_adding_one_by_one`). The sketch itself, its
//! serialisation, merging and quantiles stay the crate's.

use super::model::Sketch;
use sketches_ddsketch::Config;
use std::sync::OnceLock;

/// Whole numbers below this get their bin from the table.
const TABLE: usize = 1 << 14;

/// The key standing for the sketch's zero bucket.
const ZERO: i32 = i32::MIN;

/// The sketch configuration rumcheck uses (the crate's defaults).
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(Config::defaults)
}

/// The crate's bin for `v`, or [`ZERO`] for its zero bucket (values at or
/// below its smallest distinguishable value). Values are never negative
/// (importers reject them).
fn key_of(v: f64) -> i32 {
    if v > config().min_possible() {
        config().key(v)
    } else {
        ZERO
    }
}

/// Whether `v` falls in bin `k`, mostly without a logarithm: against the
/// bin's bounds (γ^k, tabled once) with a wide margin, and only near a bound
/// by the crate's own key function, so the answer is always the crate's.
fn in_bin(v: f64, k: i32) -> bool {
    const FIRST: i32 = -1100;
    static BOUNDS: OnceLock<Vec<f64>> = OnceLock::new();
    let bounds = BOUNDS.get_or_init(|| (FIRST..1200).map(|k| config().pow_gamma(k)).collect());
    let i = k.wrapping_sub(FIRST) as u32 as usize;
    if let (Some(&lo), Some(&hi)) = (bounds.get(i), bounds.get(i + 1)) {
        if v > lo * (1.0 + 1e-9) && v < hi * (1.0 - 1e-9) {
            return true;
        }
    }
    key_of(v) == k
}

/// Bin keys with tables for whole numbers (milliseconds) and thousandths
/// (layout-shift scores are exported with three decimals); fetch once per
/// batch of values.
#[derive(Clone, Copy)]
pub struct Keys {
    whole: &'static [i32],
    thousandths: &'static [i32],
}

impl Keys {
    /// The tables, built on first use from the crate's key function.
    pub fn get() -> Keys {
        static KEYS: OnceLock<(Vec<i32>, Vec<i32>)> = OnceLock::new();
        let (whole, thousandths) = KEYS.get_or_init(|| {
            let table = |scale: f64| (0..TABLE).map(|n| key_of(n as f64 / scale)).collect();
            (table(1.0), table(1000.0))
        });
        Keys { whole, thousandths }
    }

    /// The crate's key for `v`. A table entry is used only when `v` is
    /// exactly the value it was made from (`n / 1000` is correctly rounded,
    /// as is the parse of a three-decimal cell), so the key is always the
    /// crate's.
    #[inline]
    fn key(self, v: f64) -> i32 {
        let whole = v as u32;
        if let Some(&k) = self.whole.get(whole as usize) {
            if f64::from(whole) == v {
                return k;
            }
            let milli = (v * 1000.0).round() as u32;
            if let Some(&k) = self.thousandths.get(milli as usize) {
                if f64::from(milli) / 1000.0 == v {
                    return k;
                }
            }
        }
        key_of(v)
    }
}

/// 16 bytes: every value added touches one bin at a random place, so the
/// bins' size decides how many of them stay in the CPU caches.
#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    count: u64,
    sum: f64,
}

/// Non-negative values counted per sketch bin; see the module documentation.
#[derive(Debug, Clone)]
pub struct Binned {
    /// Bins of keys `base`, `base + 1`, …
    bins: Vec<Bin>,
    base: i32,
    zero: Bin,
    /// Extremes of the values (∞ and −∞ while empty).
    min: f64,
    max: f64,
}

impl Default for Binned {
    fn default() -> Self {
        Binned {
            bins: Vec::new(),
            base: 0,
            zero: Bin::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Binned {
    /// Counts `v` (finite, non-negative).
    #[inline]
    pub fn add(&mut self, keys: Keys, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        let bin = match keys.key(v) {
            ZERO => &mut self.zero,
            k => self.bin(k),
        };
        bin.count += 1;
        bin.sum += v;
    }

    fn count(&self) -> u64 {
        self.zero.count + self.bins.iter().map(|b| b.count).sum::<u64>()
    }

    /// The bin of key `k`.
    #[inline]
    fn bin(&mut self, k: i32) -> &mut Bin {
        let i = k.wrapping_sub(self.base) as u32 as usize;
        if i < self.bins.len() {
            return &mut self.bins[i];
        }
        self.grow_to(k)
    }

    /// Grows the range of bins to hold key `k`.
    #[cold]
    fn grow_to(&mut self, k: i32) -> &mut Bin {
        if self.bins.is_empty() {
            self.base = k;
        }
        if k < self.base {
            let grow = (self.base - k) as usize;
            self.bins
                .splice(0..0, std::iter::repeat_n(Bin::default(), grow));
            self.base = k;
        }
        let i = (k - self.base) as usize;
        if i >= self.bins.len() {
            self.bins.resize(i + 1, Bin::default());
        }
        &mut self.bins[i]
    }

    /// Adds everything `other` counted.
    pub fn merge(&mut self, other: &Binned) {
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let keyed = other.bins.iter().enumerate();
        let theirs = keyed.map(|(i, b)| (other.base + i as i32, b));
        for (k, b) in std::iter::once((ZERO, &other.zero)).chain(theirs) {
            if b.count == 0 {
                continue;
            }
            let mine = if k == ZERO {
                &mut self.zero
            } else {
                self.bin(k)
            };
            mine.count += b.count;
            mine.sum += b.sum;
        }
    }

    /// The sketch of every value counted.
    pub fn to_sketch(&self) -> Sketch {
        let mut sketch = Sketch::default();
        // The minimum and maximum enter alone so the sketch's are exact.
        let mut extremes = match self.count() {
            0 => vec![],
            1 => vec![(self.min, key_of(self.min))],
            _ => vec![(self.min, key_of(self.min)), (self.max, key_of(self.max))],
        };
        let keyed = self.bins.iter().enumerate();
        let bins = keyed.map(|(i, b)| (self.base + i as i32, b));
        for (k, b) in std::iter::once((ZERO, &self.zero)).chain(bins) {
            if b.count == 0 {
                continue;
            }
            let (mut count, mut sum) = (b.count, b.sum);
            extremes.retain(|&(e, ek)| {
                let here = count > 0 && ek == k;
                if here {
                    sketch.add_with_count(e, 1);
                    count -= 1;
                    sum -= e;
                }
                !here
            });
            if count == 0 {
                continue;
            }
            // The mean of the rest lies in the bin, but rounding can put it
            // just outside: then the bin's middle value stands in (the sum
            // is then off by less than the bin's width).
            let v = match count {
                1 if b.count == 1 => sum,
                _ => {
                    let mean = (sum / count as f64).clamp(self.min, self.max);
                    if k == ZERO || in_bin(mean, k) {
                        mean
                    } else {
                        config().value(k)
                    }
                }
            };
            sketch.add_with_count(v, count);
        }
        sketch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one_by_one(values: &[f64]) -> Sketch {
        let mut s = Sketch::default();
        for &v in values {
            s.add_with_count(v, 1);
        }
        s
    }

    fn binned(values: &[f64]) -> Binned {
        let mut b = Binned::default();
        for &v in values {
            b.add(Keys::get(), v);
        }
        b
    }

    fn assert_same(a: &Sketch, b: &Sketch) {
        assert_eq!(a.0.count(), b.0.count());
        assert_eq!(a.0.min(), b.0.min());
        assert_eq!(a.0.max(), b.0.max());
        // A quantile at every rank: equal only if every bin is.
        let n = a.0.count().max(2);
        for i in 0..n {
            let q = i as f64 / (n - 1) as f64;
            assert_eq!(a.quantile(q), b.quantile(q), "q = {q}");
        }
        let (x, y) = (a.0.sum().unwrap_or(0.0), b.0.sum().unwrap_or(0.0));
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}");
        assert_eq!(bins(a), bins(b));
    }

    /// The serialised sketch's non-empty bins by key, and its zero count
    /// (the store's memory layout depends on the order values came in).
    fn bins(s: &Sketch) -> (std::collections::BTreeMap<i64, u64>, u64) {
        let v = serde_json::to_value(s).unwrap();
        let offset = v["store"]["offset"].as_i64().unwrap();
        let counts = v["store"]["bins"].as_array().unwrap().iter();
        let keyed = counts
            .enumerate()
            .map(|(i, c)| (offset + i as i64, c.as_u64().unwrap()))
            .filter(|(_, c)| *c > 0)
            .collect();
        (keyed, v["zero_count"].as_u64().unwrap())
    }

    #[test]
    fn bin_bounds_agree_with_the_crates_keys() {
        let mut v = 1e-6;
        while v < 1e7 {
            for x in [v, v * (1.0 + 1e-12), v * 1.013] {
                let k = key_of(x);
                assert!(in_bin(x, k), "{x} in {k}");
                assert!(!in_bin(x, k + 1) && !in_bin(x, k - 1), "{x}");
            }
            v *= 1.0037;
        }
    }

    #[test]
    fn table_keys_are_the_crates_keys() {
        let keys = Keys::get();
        for v in (0..TABLE).step_by(7).chain([1, 2, TABLE - 1]) {
            assert_eq!(keys.key(v as f64), key_of(v as f64), "{v}");
        }
        for n in (0..TABLE).step_by(3).chain([1, 2, 999, 1000, TABLE - 1]) {
            let v = n as f64 / 1000.0;
            assert_eq!(keys.key(v), key_of(v), "{v}");
            // Neighbours of a table value are not it, and go by the crate.
            let next = f64::from_bits(v.to_bits() + 1);
            assert_eq!(keys.key(next), key_of(next), "{next}");
        }
        assert_eq!(keys.key(0.0), ZERO);
        assert_eq!(keys.key(2.5), key_of(2.5));
        assert_eq!(keys.key(0.1), key_of(0.1));
        assert_eq!(keys.key(1e-12), key_of(1e-12));
    }

    fn values() -> impl Strategy<Value = Vec<f64>> {
        let v = prop_oneof![
            (0u32..20_000).prop_map(f64::from),
            (0u32..1000).prop_map(|n| f64::from(n) / 1000.0),
            0.0f64..5e6,
            Just(0.0),
            Just(1e-12),
        ];
        prop::collection::vec(v, 0..300)
    }

    proptest! {
        #[test]
        fn same_sketch_as_adding_one_by_one(v in values()) {
            assert_same(&one_by_one(&v), &binned(&v).to_sketch());
        }

        #[test]
        fn merging_equals_counting_both(a in values(), b in values()) {
            let mut m = binned(&a);
            m.merge(&binned(&b));
            let both: Vec<f64> = a.iter().chain(&b).copied().collect();
            assert_same(&one_by_one(&both), &m.to_sketch());
        }
    }
}
