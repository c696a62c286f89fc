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
