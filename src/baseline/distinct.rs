//! Distinct counting of hashed ids in bounded memory: exact up to
//! [`EXACT_LIMIT`] ids, then a HyperLogLog sketch (2^12 one-byte registers,
//! 4 KiB, standard error 1.04/√4096 ≈ 1.6 %; Flajolet et al. 2007, with
//! linear counting for small ranges).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher for keys that already are 64-bit hashes: passes them
/// through instead of hashing them a second time. Other keys (the
/// accumulator's group-key strings) are hashed with XXH3.
#[derive(Debug, Default, Clone, Copy)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u8(&mut self, b: u8) {
        // `str` hashing ends with a 0xff marker: fold it in cheaply.
        self.0 = self.0.rotate_left(8) ^ u64::from(b);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Hash-map state for pre-hashed keys.
pub type PreHashedState = BuildHasherDefault<PreHashed>;

/// Distinct ids counted exactly before switching to HyperLogLog. At this
/// size the exact set (512 buckets of 8 bytes) is as large as the registers,
/// so a counter never outgrows 4 KiB and the hundreds of counters of a
/// segmented import stay in cache; above it, linear counting keeps the
/// RMS error at 1.2–1.4 % (`estimate_error_just_above_the_exact_limit`).
pub const EXACT_LIMIT: usize = 256;
const P: u32 = 12;
const M: usize = 1 << P;

/// A distinct counter of 64-bit hashes (inputs must already be well mixed).
#[derive(Debug, Clone)]
pub enum Distinct {
    /// Every hash seen (at most [`EXACT_LIMIT`]).
    Exact(HashSet<u64, PreHashedState>),
    /// HyperLogLog registers.
    Sketch(Box<[u8; M]>),
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Exact(HashSet::default())
    }
}

fn hll_add(regs: &mut [u8; M], h: u64) {
    let idx = (h >> (64 - P)) as usize;
    // The remaining 52 bits, with a sentinel bit so the rank is at most 53.
    let w = (h << P) | (1 << (P - 1));
    let rank = w.leading_zeros() as u8 + 1;
    if regs[idx] < rank {
        regs[idx] = rank;
    }
}

impl Distinct {
    /// Counts `h`.
    pub fn insert(&mut self, h: u64) {
        match self {
            Distinct::Exact(set) => {
                set.insert(h);
                if set.len() > EXACT_LIMIT {
                    let mut regs = Box::new([0u8; M]);
                    for &x in set.iter() {
                        hll_add(&mut regs, x);
                    }
                    *self = Distinct::Sketch(regs);
                }
            }
            Distinct::Sketch(regs) => hll_add(regs, h),
        }
    }

    /// Adds every id `other` counted (union; HyperLogLog registers take the maximum).
    pub fn merge(&mut self, other: &Distinct) {
        match other {
            Distinct::Exact(set) => {
                for &h in set {
                    self.insert(h);
                }
            }
            Distinct::Sketch(theirs) => {
                if let Distinct::Exact(set) = self {
                    let mut regs = Box::new([0u8; M]);
                    for &x in set.iter() {
                        hll_add(&mut regs, x);
                    }
                    *self = Distinct::Sketch(regs);
                }
                if let Distinct::Sketch(mine) = self {
                    for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                        *a = (*a).max(*b);
                    }
                }
            }
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        matches!(self, Distinct::Exact(s) if s.is_empty())
    }

    /// The number of distinct ids (exact, or the HyperLogLog estimate).
    pub fn count(&self) -> u64 {
        match self {
            Distinct::Exact(s) => s.len() as u64,
            Distinct::Sketch(regs) => {
                let m = M as f64;
                let alpha = 0.7213 / (1.0 + 1.079 / m);
                // Registers per rank (at most 53), then the sum of 2^-r
                // in units of 2^-53, exactly (no chain of float additions).
                let mut ranks = [0u32; 64];
                for &r in regs.iter() {
                    ranks[usize::from(r & 63)] += 1;
                }
                let units: u128 = (0..=53).map(|r| u128::from(ranks[r]) << (53 - r)).sum();
                let sum = units as f64 / (1u64 << 53) as f64;
                let estimate = alpha * m * m / sum;
                let zeros = ranks[0];
                if estimate <= 2.5 * m && zeros > 0 {
                    (m * (m / zeros as f64).ln()).round() as u64
                } else {
                    estimate.round() as u64
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(i: u64) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&i, &mut h);
        std::hash::Hasher::finish(&h)
    }

    #[test]
    fn merge_is_a_union() {
        let (mut a, mut b, mut both) = (
            Distinct::default(),
            Distinct::default(),
            Distinct::default(),
        );
        for i in 0..20_000u64 {
            if i < 12_000 {
                a.insert(mix(i));
            }
            if i >= 8_000 {
                b.insert(mix(i));
            }
            both.insert(mix(i));
        }
        let mut small = Distinct::default();
        small.insert(mix(1));
        small.insert(mix(99_999_999));
        let mut s2 = small.clone();
        s2.merge(&small);
        assert_eq!(s2.count(), 2);
        a.merge(&b);
        assert_eq!(a.count(), both.count(), "registers are the same");
        small.merge(&both);
        assert!((small.count() as f64 - 20_000.0).abs() < 1_000.0);
    }

    #[test]
    fn estimate_error_just_above_the_exact_limit() {
        // Linear counting over 4096 registers: the relative standard error
        // is sqrt(m(e^t - t - 1))/n with t = n/m (Whang et al. 1990), about
        // 1.1 % at n = 300 and 1.3 % at n = 4000; simulated over 40 seeds
        // it measures 1.2 %, 1.4 % and 1.4 % at n = 300, 1000, 4000.
        for n in [300u64, 1_000, 4_000] {
            let mut sq = 0.0;
            for seed in 0..40u64 {
                let mut d = Distinct::default();
                for i in 0..n {
                    d.insert(mix(seed << 32 | i));
                }
                let rel = (d.count() as f64 - n as f64) / n as f64;
                sq += rel * rel;
            }
            let rmse = (sq / 40.0).sqrt();
            println!("n={n}: RMS relative error {:.2} %", rmse * 100.0);
            assert!(rmse < 0.02, "n={n}: RMS relative error {rmse}");
        }
    }

    #[test]
    fn exact_below_the_limit_then_within_five_percent() {
        let mut d = Distinct::default();
        for i in 0..EXACT_LIMIT as u64 {
            d.insert(mix(i));
            d.insert(mix(i));
        }
        assert_eq!(d.count(), EXACT_LIMIT as u64);
        for n in [300u64, 1_000, 4_000, 10_000, 100_000, 1_000_000] {
            let mut d = Distinct::default();
            for i in 0..n {
                d.insert(mix(i));
            }
            let err = (d.count() as f64 - n as f64).abs() / n as f64;
            // 3 standard errors of 1.6 %.
            assert!(err < 0.05, "n={n} estimate={} err={err}", d.count());
        }
    }
}
