//! The most frequent page keys of a stream in bounded memory: the
//! Space-Saving algorithm (Metwally, Agrawal, El Abbadi, "Efficient
//! computation of frequent and top-k elements in data streams", 2005),
//! with weighted updates so that summaries merge.
//!
//! Keys are 64-bit hashes of page keys (so a summary's size does not depend
//! on how long the URLs are). With `capacity` counters, every key seen more
//! than `total / capacity` times is in the summary, and each count is over
//! by at most the smallest count. Ties are broken by the order counters were
//! made in, and summaries are merged in file order, so the result is a
//! function of the input alone.

use super::distinct::PreHashedState;
use std::collections::{BTreeSet, HashMap};

/// The hash a page key is counted and kept by.
pub(crate) fn page_hash(page: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(page.as_bytes())
}

/// A Space-Saving summary of hashed keys.
#[derive(Debug, Clone)]
pub(crate) struct SpaceSaving {
    capacity: usize,
    /// Counter slot of each key in the summary.
    slots: HashMap<u64, u32, PreHashedState>,
    /// Per slot: key and count.
    counters: Vec<(u64, u64)>,
    /// (count, slot) of every counter: the first is the one replaced.
    order: BTreeSet<(u64, u32)>,
}

impl SpaceSaving {
    /// An empty summary with `capacity` counters (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.max(1),
            slots: HashMap::default(),
            counters: Vec::new(),
            order: BTreeSet::new(),
        }
    }

    /// Counts `key` `weight` times.
    pub(crate) fn add(&mut self, key: u64, weight: u64) {
        if let Some(&slot) = self.slots.get(&key) {
            let c = &mut self.counters[slot as usize];
            self.order.remove(&(c.1, slot));
            c.1 += weight;
            self.order.insert((c.1, slot));
            return;
        }
        if self.counters.len() < self.capacity {
            let slot = self.counters.len() as u32;
            self.counters.push((key, weight));
            self.slots.insert(key, slot);
            self.order.insert((weight, slot));
            return;
        }
        // Full: the smallest counter is taken over, keeping its count.
        let Some((min, slot)) = self.order.pop_first() else {
            return;
        };
        let c = &mut self.counters[slot as usize];
        self.slots.remove(&c.0);
        *c = (key, min + weight);
        self.slots.insert(key, slot);
        self.order.insert((c.1, slot));
    }

    /// Adds every counter of `other` (the summary of the input after this
    /// one's), largest first.
    pub(crate) fn merge(&mut self, other: &SpaceSaving) {
        for (key, n) in other.ranked() {
            self.add(key, n);
        }
    }

    /// Keys and counts, the largest count first (ties: the smaller key).
    pub(crate) fn ranked(&self) -> Vec<(u64, u64)> {
        let mut v = self.counters.clone();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_keys_survive_a_stream_of_rare_ones() {
        let mut s = SpaceSaving::new(8);
        for i in 0..10_000u64 {
            // Keys 1–3 are a third of the stream; the rest are all distinct.
            let key = if i % 3 == 0 { 1 + i % 9 / 3 } else { 1000 + i };
            s.add(key, 1);
        }
        let top: Vec<u64> = s.ranked().iter().take(3).map(|k| k.0).collect();
        let mut sorted = top.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![1, 2, 3], "{:?}", s.ranked());
    }

    #[test]
    fn merged_summaries_find_what_one_summary_finds() {
        let key = |i: u64| if i % 4 == 0 { i % 5 } else { 100 + i };
        let mut one = SpaceSaving::new(64);
        let (mut a, mut b) = (SpaceSaving::new(64), SpaceSaving::new(64));
        for i in 0..4000u64 {
            one.add(key(i), 1);
            if i < 2000 { &mut a } else { &mut b }.add(key(i), 1);
        }
        a.merge(&b);
        let top = |s: &SpaceSaving| {
            let mut v: Vec<u64> = s.ranked().iter().take(5).map(|k| k.0).collect();
            v.sort_unstable();
            v
        };
        // Each of keys 0–4 is 200 of 4000: above 4000 / 64, so kept.
        assert_eq!(top(&a), vec![0, 1, 2, 3, 4]);
        assert_eq!(top(&one), top(&a));
    }
}
