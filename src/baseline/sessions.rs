//! Open sessions, for bounce tracking.
//!
//! The states live in a slab in arrival order and a small index maps a
//! hashed session id to its slot. A new session is then an append (to
//! memory just written) plus a 16-byte index entry, instead of a 64-byte
//! entry at a random place in a table of tens of thousands: the index stays
//! in cache where the table did not, which made session tracking the
//! largest single cost of a CSV import.

use super::distinct::PreHashedState;
use super::record::View;
use crate::metric::Rating;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// What is known about one open session.
#[derive(Debug)]
pub struct SessionState {
    /// Group of the earliest view seen.
    pub landing: usize,
    /// Time of that view (`i64::MAX` without a timestamp).
    pub landing_time: i64,
    /// Latest time of any view.
    pub last_time: Option<i64>,
    /// The earliest view.
    pub landing_view: View,
    /// Whether a second view was seen.
    pub multi: bool,
    /// LCP rating of the landing view.
    pub landing_lcp: Option<Rating>,
}

/// Open sessions by hashed id.
#[derive(Debug, Default)]
pub struct Sessions {
    index: HashMap<u64, usize, PreHashedState>,
    slab: Vec<(u64, SessionState)>,
}

impl Sessions {
    /// Sessions held.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// The state of session `id`, made by `new` if it is not open yet.
    pub fn get_or_insert_with(
        &mut self,
        id: u64,
        new: impl FnOnce() -> SessionState,
    ) -> &mut SessionState {
        let slot = match self.index.entry(id) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(self.slab.len());
                self.slab.push((id, new()));
                self.slab.len() - 1
            }
        };
        &mut self.slab[slot].1
    }

    /// Opens session `id` with `state`, replacing any state it had.
    pub fn insert(&mut self, id: u64, state: SessionState) {
        match self.index.entry(id) {
            Entry::Occupied(e) => self.slab[*e.get()].1 = state,
            Entry::Vacant(e) => {
                e.insert(self.slab.len());
                self.slab.push((id, state));
            }
        }
    }

    /// Keeps the sessions `keep` says to keep (it sees each once).
    pub fn retain(&mut self, mut keep: impl FnMut(&SessionState) -> bool) {
        self.slab.retain(|(_, st)| keep(st));
        self.index.clear();
        for (i, (id, _)) in self.slab.iter().enumerate() {
            self.index.insert(*id, i);
        }
    }

    /// Every open session.
    pub fn iter(&self) -> impl Iterator<Item = &SessionState> {
        self.slab.iter().map(|(_, st)| st)
    }

    /// Takes every open session out, with its id.
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, SessionState)> + '_ {
        self.index.clear();
        self.slab.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(landing: usize) -> SessionState {
        SessionState {
            landing,
            landing_time: 0,
            last_time: None,
            landing_view: View::Unknown,
            multi: false,
            landing_lcp: None,
        }
    }

    #[test]
    fn lookups_find_the_same_state_after_a_sweep() {
        let mut s = Sessions::default();
        for id in 0..100u64 {
            s.get_or_insert_with(id, || state(id as usize));
        }
        s.retain(|st| st.landing % 3 == 0);
        assert_eq!(s.len(), 34);
        // Kept sessions are found again, not re-created.
        for id in (0..100u64).step_by(3) {
            assert_eq!(s.get_or_insert_with(id, || state(999)).landing, id as usize);
        }
        assert_eq!(s.get_or_insert_with(1, || state(999)).landing, 999);
        assert_eq!(s.len(), 35);
        assert_eq!(s.drain().count(), 35);
        assert_eq!(s.len(), 0);
    }
}
