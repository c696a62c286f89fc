//! Tests of the accumulator: landing pages, session joins, buffers and sweeps.

mod landing {
    use super::super::*;
    use crate::baseline::record::WEB_VITALS;

    fn rec<'a>(
        page: &'a str,
        t: i64,
        view: u64,
        m: &'a [(Metric, f64, &'static str)],
    ) -> Record<'a> {
        Record {
            page,
            segment: [Some("phone"), None, None, None],
            time: Some(t),
            user: Some(1),
            session: Some(7),
            view: View::Whole(view),
            metrics: m,
        }
    }

    #[test]
    fn metric_discriminants_index_the_metric_arrays() {
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), Some(i), "{m}");
        }
    }

    #[test]
    fn the_earliest_view_is_the_landing_page_even_when_it_arrives_late() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        let poor = [(Metric::Lcp, 5000.0, WEB_VITALS)];
        let good = [(Metric::Lcp, 1000.0, WEB_VITALS)];
        acc.add(&rec("/b", 200, 2, &good));
        acc.add(&rec("/a", 100, 1, &poor));
        // A lone session elsewhere bounces.
        let mut lone = rec("/c", 300, 3, &good);
        lone.session = Some(8);
        acc.add(&lone);
        let out = acc.finish();
        let get = |p: &str, ff: Option<&str>| {
            out.iter()
                .find(|s| s.page == p && s.segment.form_factor.as_deref() == ff)
                .unwrap()
        };
        let a = get("/a", None);
        assert_eq!(a.context.landing_sessions, Some(1));
        assert_eq!(a.context.bounce_rate, Some(0.0));
        assert_eq!(a.context.bounce_rate_by_lcp["poor"], 0.0);
        assert_eq!(get("/b", Some("phone")).context.landing_sessions, None);
        assert_eq!(get("/c", Some("phone")).context.bounce_rate, Some(1.0));
        assert_eq!(get("/c", None).context.bounce_rate_by_lcp["good"], 1.0);
        assert_eq!(get("/c", None).context.users_per_day.len(), 1);
    }
}

mod join_tests {
    use super::super::*;
    use crate::baseline::record::WEB_VITALS;

    fn view(acc: &mut Accumulator, page: &str, t: i64, view: u64) {
        acc.add(&Record {
            page,
            segment: [None; 4],
            time: Some(t),
            user: None,
            session: Some(7),
            view: View::Whole(view),
            metrics: &[(Metric::Lcp, 1000.0, WEB_VITALS)],
        });
    }

    fn bounce(out: &[SegmentBaseline], page: &str) -> Option<(u64, f64)> {
        let s = out.iter().find(|s| s.page == page)?;
        Some((s.context.landing_sessions?, s.context.bounce_rate?))
    }

    #[test]
    fn a_session_split_between_accumulators_is_joined() {
        // The second half holds the landing view, which arrived late.
        let (mut a, mut b) = (Accumulator::default(), Accumulator::default());
        view(&mut a, "/next", 1_000, 1);
        b.hold_early_sessions();
        view(&mut b, "/home", 900, 2);
        a.absorb(b);
        let out = a.finish();
        assert_eq!(bounce(&out, "/home"), Some((1, 0.0)));
        assert_eq!(bounce(&out, "/next"), None);
    }

    #[test]
    fn the_landing_view_keeps_its_lcp_when_an_earlier_row_of_it_comes_later() {
        // Long format: the landing view's LCP row, then (after the cut) an
        // earlier row of the same view without LCP.
        let part = |acc: &mut Accumulator, t: i64, m: Metric, v: f64| {
            acc.add(&Record {
                page: "/home",
                segment: [None; 4],
                time: Some(t),
                user: None,
                session: Some(7),
                view: View::Part(1),
                metrics: &[(m, v, WEB_VITALS)],
            })
        };
        let mut one = Accumulator::default();
        part(&mut one, 300, Metric::Lcp, 1000.0);
        part(&mut one, 100, Metric::Cls, 0.01);
        let (mut a, mut b) = (Accumulator::default(), Accumulator::default());
        b.hold_early_sessions();
        part(&mut a, 300, Metric::Lcp, 1000.0);
        part(&mut b, 100, Metric::Cls, 0.01);
        a.absorb(b);
        let context = |out: Vec<SegmentBaseline>| out[0].context.landing_sessions_by_lcp.clone();
        let whole = context(one.finish());
        assert_eq!(whole.get("good"), Some(&1));
        assert_eq!(whole, context(a.finish()));
    }

    #[test]
    fn halves_idle_for_longer_than_the_expiry_are_two_sessions() {
        let (mut a, mut b) = (Accumulator::default(), Accumulator::default());
        view(&mut a, "/home", 1_000, 1);
        view(&mut b, "/next", 1_000 + SESSION_EXPIRY_S + 1, 2);
        a.absorb(b);
        let out = a.finish();
        assert_eq!(bounce(&out, "/home"), Some((1, 1.0)));
        assert_eq!(bounce(&out, "/next"), Some((1, 1.0)));
    }
}

mod buffer_tests {
    use super::super::*;
    use crate::baseline::record::WEB_VITALS;

    #[test]
    fn many_groups_keep_small_buffers() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        let m = [
            Metric::Lcp,
            Metric::Fcp,
            Metric::Ttfb,
            Metric::Inp,
            Metric::Cls,
        ]
        .map(|m| (m, 100.0, WEB_VITALS));
        // Time-sorted exports visit pages in bursts: 200 rows each, in turn.
        let pages: Vec<String> = (0..2_000).map(|i| format!("/p{i}")).collect();
        for i in 0..400_000u64 {
            acc.add(&Record {
                page: &pages[i as usize / 200],
                segment: [None; 4],
                time: None,
                user: Some(i % 977),
                session: None,
                view: View::Whole(i),
                metrics: &m,
            });
        }
        // A fixed FLUSH_AT-entry flush point would keep millions of entries.
        let kept: usize = acc.groups.iter().map(Group::buffer_capacity).sum();
        assert!(kept <= 8 * PENDING_CAP, "{kept} buffered entries kept");
        let out = acc.finish();
        assert_eq!(out.len(), 2_000);
        assert!(out.iter().all(|s| s.metrics[&Metric::Lcp].n == 200));
    }
}

mod sweep_tests {
    use super::super::*;
    use crate::baseline::record::WEB_VITALS;

    #[test]
    fn idle_sessions_are_settled_and_forgotten_without_changing_results() {
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        let m = [(Metric::Lcp, 1000.0, WEB_VITALS)];
        let n = 3 * SWEEP_EVERY;
        for i in 0..n {
            // Two views per session, a minute apart; a new session every 10 s.
            let s = i / 2;
            acc.add(&Record {
                page: if i % 2 == 0 { "/" } else { "/next" },
                segment: [None; 4],
                time: Some(1_700_000_000 + s as i64 * 10 + (i % 2) as i64 * 60),
                user: None,
                session: Some(s),
                view: View::Whole(i),
                metrics: &m,
            });
        }
        assert!(
            acc.sessions.len() < 5_000,
            "{} sessions still held",
            acc.sessions.len()
        );
        let out = acc.finish();
        let home = out.iter().find(|s| s.page == "/").unwrap();
        assert_eq!(home.context.landing_sessions, Some(n / 2));
        assert_eq!(home.context.bounce_rate, Some(0.0));
    }
}

mod server_metrics {
    use super::super::*;
    use crate::baseline::record::WEB_VITALS;

    fn add(acc: &mut Accumulator, page: &str, ff: &str, view: u64, ttfb: f64, db: Option<f64>) {
        let db_metric = Metric::parse_lab("server.db").unwrap();
        let mut m = vec![(Metric::Ttfb, ttfb, WEB_VITALS)];
        m.extend(db.map(|v| (db_metric, v, WEB_VITALS)));
        acc.add(&Record {
            page,
            segment: [Some(ff), None, None, None],
            time: None,
            user: None,
            session: None,
            view: View::Whole(view),
            metrics: &m,
        });
    }

    #[test]
    fn server_values_get_sketches_per_segment_and_pairs_per_page() {
        let db = Metric::parse_lab("server.db").unwrap();
        let mut acc = Accumulator::new(BTreeMap::new(), 1);
        for i in 0..60u64 {
            let ff = if i % 2 == 0 { "phone" } else { "desktop" };
            let ttfb = 100.0 + i as f64;
            // Every third row has no server value: it pairs with nothing.
            let db_v = (i % 3 != 0).then_some(ttfb - 50.0);
            add(&mut acc, "/p", ff, i, ttfb, db_v);
        }
        let out = acc.finish();
        let get = |ff: Option<&str>| {
            out.iter()
                .find(|s| s.segment.form_factor.as_deref() == ff)
                .unwrap()
        };
        let all = get(None);
        assert_eq!(all.metrics[&db].n, 40);
        assert_eq!(all.metrics[&Metric::Ttfb].n, 60);
        assert_eq!(get(Some("phone")).metrics[&db].n, 20);
        let p75 = all.metrics[&db].p75.unwrap();
        assert!((p75 - 94.0).abs() <= 1.0, "p75 {p75}");
        assert!(all.metrics[&db].shares.is_none());
        let pairs = &all.ttfb_pairs[&db];
        assert_eq!((pairs.seen, pairs.pairs.len()), (40, 40));
        assert!(pairs.pairs.iter().all(|p| p.0 - p.1 == 50.0));
        // One sample per page: the segments hold none.
        assert!(get(Some("phone")).ttfb_pairs.is_empty());
    }

    #[test]
    fn folded_and_absorbed_pages_keep_their_pairs() {
        let db = Metric::parse_lab("server.db").unwrap();
        let mut a = Accumulator::new(BTreeMap::new(), 1);
        let mut b = Accumulator::new(BTreeMap::new(), 1);
        for i in 0..30u64 {
            add(&mut a, "/big", "phone", i, 200.0 + i as f64, Some(i as f64));
            add(&mut b, "/big", "phone", 100 + i, 300.0, Some(7.0));
        }
        add(&mut b, "/small", "phone", 999, 10.0, Some(1.0));
        a.absorb(b);
        a.fold_pages(1);
        let out = a.finish();
        let all = |p: &str| {
            out.iter()
                .find(|s| s.page == p && s.segment.form_factor.is_none())
                .unwrap()
        };
        assert_eq!(all("/big").ttfb_pairs[&db].seen, 60);
        assert_eq!(
            all("(other)").ttfb_pairs[&db].pairs,
            [Pair(10.0, 1.0, pairs::key(999, 10.0, 1.0))]
        );
    }
}
