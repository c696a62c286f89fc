//! The diagnosis names planted causes, in real Chromium: pages with a slow
//! db phase, a late hero image, a new render-blocking stylesheet and a long
//! task before the LCP paint (examples/diagnosis/causes.rs). Visits are
//! pooled once per cause (about 50 s of browser time) and 20 gates per cause
//! are drawn from the pools; examples/diagnosis measures fresh visits for
//! every gate (figures in the README).

use crate::causes::{CauseSite, Gates, Plant, hit_rates, pool};
use crate::support::with_session;
use rumcheck::{Metric, Sample, collect};

/// Visits per pool: the reference and A/A pools, and each cause's.
const REFERENCE: usize = 12;
const PER_CAUSE: usize = 8;
/// Visits per build in one gate.
const K: usize = 6;

fn check_parts_sum_to_lcp(samples: &[Sample]) {
    for s in samples {
        let lcp = s
            .metric(Metric::Lcp)
            .unwrap_or_else(|| panic!("no LCP in {}", s.url));
        let parts = s
            .lcp_parts()
            .unwrap_or_else(|| panic!("no LCP sub-parts in {}: {:#}", s.url, s.details));
        assert!(
            (parts.sum() - lcp).abs() <= 1.0,
            "{}: parts {parts:?} sum to {} but LCP is {lcp}",
            s.url,
            parts.sum()
        );
        assert!(parts.values().iter().all(|p| *p >= 0.0), "{parts:?}");
    }
}

#[tokio::test]
async fn the_diagnosis_names_each_planted_cause_and_nothing_on_a_a() {
    with_session(|s| async move {
        let site = CauseSite::start().await;
        collect::install(&s, None).await.unwrap();
        let reference = pool(&s, &site, Plant::None, REFERENCE).await;
        let aa = pool(&s, &site, Plant::None, REFERENCE).await;
        let mut causes = Vec::new();
        for plant in Plant::CAUSES {
            causes.push((plant, pool(&s, &site, plant, PER_CAUSE).await));
        }
        for pool in std::iter::once(&reference)
            .chain([&aa])
            .chain(causes.iter().map(|(_, p)| p))
        {
            check_parts_sum_to_lcp(pool);
        }
        // What the collector saw, beyond the parts: Server-Timing and the requests.
        let first = &reference[0];
        let db = first.server_timing();
        assert_eq!(db[0].name, "db", "{db:?}");
        assert_eq!(db[0].request, None);
        assert_eq!(db[0].desc, "database");
        let urls: Vec<String> = first.requests().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["/page", "/hero.png"], "{:#}", first.details);
        let css = &causes[2].1[0].requests();
        let promo = css
            .iter()
            .find(|r| r.url == "/promo.css")
            .expect("promo.css");
        assert!(
            promo.render_blocking && promo.kind == "stylesheet",
            "{promo:?}"
        );
        assert!(promo.size > 9_000.0, "{promo:?}");

        let rates = hit_rates(&reference, &aa, &causes, 20, K, Gates::Drawn { seed: 16 });
        for plant in Plant::CAUSES {
            let (hit, gates, example) = &rates.hits[plant.name()];
            eprintln!("{}: {hit}/{gates}: {example}", plant.name());
            assert!(
                *hit >= 19,
                "{}: named in {hit} of {gates} gates; last: {example}",
                plant.name()
            );
        }
        assert_eq!(
            rates.false_names.0, 0,
            "A/A gates named a cause: {}",
            rates.aa_example
        );
    })
    .await;
}
