//! The `--max-pages` cap on an accumulator: folding the least viewed pages
//! into the page [`OTHER_PAGE`].
//!
//! Folding is exact: a folded page's groups merge into `(other)`'s groups
//! of the same segment (counts add, sketch bins add, distinct sets unite),
//! and its open sessions land on `(other)`. Which pages stay is decided by
//! rows counted, then by page key, so it does not depend on the order the
//! groups were created in.

use super::Accumulator;
use crate::baseline::group::Group;
use crate::baseline::options::OTHER_PAGE;
use std::collections::{BTreeMap, HashMap};

impl Accumulator {
    /// Rows aggregated per page key (all its segments).
    pub(crate) fn page_rows(&self) -> HashMap<&str, u64> {
        let mut rows: HashMap<&str, u64> = HashMap::new();
        for g in &self.groups {
            *rows.entry(g.page.as_str()).or_default() += g.rows;
        }
        rows
    }

    /// Keeps the `max_pages` pages with the most rows (ties: the smaller
    /// page key) and folds every other page into [`OTHER_PAGE`], which is
    /// not counted against the cap. Does nothing when there are no more.
    pub(crate) fn fold_pages(&mut self, max_pages: usize) {
        let mut ranked: Vec<(u64, &str)> = self
            .page_rows()
            .into_iter()
            .filter(|(p, _)| *p != OTHER_PAGE)
            .map(|(p, n)| (n, p))
            .collect();
        if ranked.len() <= max_pages {
            return;
        }
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let folded: std::collections::HashSet<String> = ranked[max_pages..]
            .iter()
            .map(|(_, p)| p.to_string())
            .collect();
        self.flush_all();
        // Rebuild the group table: kept groups first, in their order, then
        // `(other)` groups as the folded ones need them.
        let old = std::mem::take(&mut self.groups);
        self.rollups.clear();
        self.index.clear();
        self.pages.clear();
        let mut moved: Vec<usize> = Vec::with_capacity(old.len());
        let mut parked: BTreeMap<usize, Group> = BTreeMap::new();
        for (i, g) in old.into_iter().enumerate() {
            let s = &g.segment;
            let seg = [&s.form_factor, &s.connection, &s.country, &s.browser].map(|v| v.as_deref());
            let page = if folded.contains(&g.page) {
                OTHER_PAGE
            } else {
                g.page.as_str()
            };
            let at = self.intern(page, seg);
            moved.push(at);
            parked.insert(i, g);
        }
        let same: Vec<u8> = (0..self.definitions.len() as u8).collect();
        for (i, g) in parked {
            let at = moved[i];
            if self.groups[at].page == g.page {
                // A kept group: its own data, untouched (interned empty above).
                let fresh = std::mem::replace(&mut self.groups[at], g);
                self.groups[at].merge_from(&fresh, &same);
            } else {
                self.groups[at].merge_from(&g, &same);
            }
        }
        for st in self.sessions.values_mut().chain(self.early.values_mut()) {
            st.landing = moved[st.landing as usize] as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::record::{Record, View, WEB_VITALS};
    use crate::metric::Metric;

    fn add(acc: &mut Accumulator, page: &str, n: u64, session: u64) {
        for i in 0..n {
            acc.add(&Record {
                page,
                segment: [Some("phone"), None, None, None],
                time: Some(1_700_000_000 + i as i64),
                user: Some(i),
                session: Some(session),
                view: View::Whole(session * 1000 + i),
                metrics: &[(Metric::Lcp, 1000.0 + i as f64, WEB_VITALS)],
            });
        }
    }

    #[test]
    fn folding_keeps_the_most_viewed_pages_and_loses_no_row() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        add(&mut acc, "/a", 5, 1);
        add(&mut acc, "/b", 1, 2);
        add(&mut acc, "/c", 3, 3);
        add(&mut acc, "/d", 1, 4);
        acc.fold_pages(2);
        assert_eq!(acc.page_count(), 3, "/a, /c and (other)");
        let out = acc.finish();
        let all = |p: &str| {
            out.iter()
                .find(|s| s.page == p && s.segment.form_factor.is_none())
                .unwrap_or_else(|| panic!("no {p}"))
        };
        assert_eq!(all("/a").metrics[&Metric::Lcp].n, 5);
        assert_eq!(all("/c").metrics[&Metric::Lcp].n, 3);
        let other = all(OTHER_PAGE);
        assert_eq!(other.metrics[&Metric::Lcp].n, 2);
        // Sessions 2 and 4 landed on folded pages: they land on (other).
        assert_eq!(other.context.landing_sessions, Some(2));
        assert!(out.iter().all(|s| s.page != "/b" && s.page != "/d"));
    }

    #[test]
    fn ties_are_broken_by_page_key_not_arrival() {
        for order in [["/y", "/x", "/z"], ["/z", "/y", "/x"]] {
            let mut acc = Accumulator::new(BTreeMap::new(), 1);
            for (k, p) in order.iter().enumerate() {
                add(&mut acc, p, 2, k as u64);
            }
            acc.fold_pages(1);
            let pages: Vec<String> = acc.finish().into_iter().map(|s| s.page).collect();
            assert!(pages.contains(&"/x".to_string()), "{pages:?}");
            assert!(!pages.contains(&"/y".to_string()), "{pages:?}");
        }
    }
}
