use super::*;
use crate::run::plan::{TierSlot, plan};
use crate::sample::Variant;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn setup(profile: &str, variant: Variant, tier: Option<(u32, u32)>) -> Arc<SessionSetup> {
    Arc::new(SessionSetup {
        profile: profile.into(),
        variant,
        tier: tier.map(|(index, of)| TierSlot { index, of }),
        ..Default::default()
    })
}

/// `profiles` plain profiles (candidate and, with `reference`, reference),
/// plus one calibrated profile with `tiers` tiers when `tiers > 0`.
fn setups(profiles: usize, reference: bool, tiers: u32) -> Vec<Arc<SessionSetup>> {
    let variants: Vec<Variant> = if reference {
        vec![Variant::Candidate, Variant::Reference]
    } else {
        vec![Variant::Candidate]
    };
    let mut out = Vec::new();
    for p in 0..profiles {
        for v in &variants {
            out.push(setup(&format!("p{p}"), v.clone(), None));
        }
    }
    for k in 0..tiers {
        for v in &variants {
            out.push(setup("tiered", v.clone(), Some((k, tiers))));
        }
    }
    out
}

/// A job as a comparable key: (run, page, profile, variant, tier).
fn key(j: &Job) -> (u32, usize, String, String, Option<u32>) {
    (
        j.run,
        j.page,
        j.setup.profile.clone(),
        j.setup.variant.to_string(),
        j.setup.tier.map(|t| t.index),
    )
}

#[test]
fn the_flag_is_k_of_n_counted_from_one() {
    assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, of: 4 });
    assert_eq!("1/1".parse::<Shard>().unwrap(), Shard { index: 1, of: 1 });
    for (text, says) in [
        ("0/4", "K must be 1 to 4 (shards are numbered from 1)"),
        ("5/4", "K must be 1 to 4"),
        ("x", "expected K/N"),
        ("1/0", "N must be at least 1"),
        ("a/4", "K \"a\" is not a whole number"),
        ("2/-4", "N \"-4\" is not a whole number"),
    ] {
        let e = text.parse::<Shard>().unwrap_err().to_string();
        assert!(e.starts_with(&format!("--shard {text:?}: ")), "{e}");
        assert!(e.contains(says), "{text}: {e}");
    }
}

#[test]
fn cells_deal_round_robin_so_both_builds_of_a_run_stay_together() {
    let setups = setups(1, true, 0);
    let cells = Cells::new(2, &setups);
    let jobs = plan(0..2, 2, &setups);
    let first: Vec<_> = Shard { index: 1, of: 2 }
        .select(jobs.clone(), &cells)
        .iter()
        .map(key)
        .collect();
    // Cells run-major: (run 0, home), (run 0, cart), (run 1, home), (run 1, cart);
    // on odd runs the reference goes first (see `plan`).
    assert_eq!(
        first,
        [
            (0, 0, "p0".into(), "candidate".into(), None),
            (0, 0, "p0".into(), "reference".into(), None),
            (1, 0, "p0".into(), "reference".into(), None),
            (1, 0, "p0".into(), "candidate".into(), None),
        ]
    );
}

#[test]
fn more_shards_than_cells_is_refused_with_the_count() {
    let setups = setups(1, true, 0);
    let cells = Cells::new(1, &setups);
    let e = Shard { index: 1, of: 3 }
        .check(&cells, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("only 2 cell(s)"), "{e}");
    assert!(e.contains("use at most 2 shards"), "{e}");
    assert!(Shard { index: 2, of: 2 }.check(&cells, 2).is_ok());
}

#[test]
fn the_fingerprint_changes_with_runs_pages_visits_profiles_and_builds() {
    let pages = [("home", "/"), ("cart", "/cart")];
    let both = setups(1, true, 0);
    let base = fingerprint(&pages, 10, "cold", &both);
    assert_eq!(base, fingerprint(&pages, 10, "cold", &both));
    assert_eq!(base.len(), 16);
    assert_ne!(base, fingerprint(&pages, 11, "cold", &both));
    assert_ne!(base, fingerprint(&pages, 10, "warm", &both));
    assert_ne!(base, fingerprint(&pages[..1], 10, "cold", &both));
    assert_ne!(base, fingerprint(&pages, 10, "cold", &setups(1, false, 0)));
    assert_ne!(base, fingerprint(&pages, 10, "cold", &setups(2, true, 0)));
    assert_ne!(base, fingerprint(&pages, 10, "cold", &setups(1, true, 3)));
}

proptest! {
    /// Every job of the plan is in exactly one shard, a cell (one run of one
    /// page under one profile: every build and tier of it) never straddles
    /// shards, and shard sizes differ by at most one cell.
    #[test]
    fn every_job_is_in_exactly_one_shard(
        n in 1u32..=12,
        runs in 1u32..=9,
        pages in 1usize..=4,
        profiles in 0usize..=3,
        reference in any::<bool>(),
        tiers in 0u32..=3,
        batch in 1u32..=5,
    ) {
        prop_assume!(profiles > 0 || tiers > 0);
        let setups = setups(profiles, reference, tiers);
        let cells = Cells::new(pages, &setups);
        let all: Vec<Job> = plan(0..runs, pages, &setups);
        let mut seen: BTreeMap<_, u32> = BTreeMap::new();
        let mut cell_shard: BTreeMap<u64, u32> = BTreeMap::new();
        let mut sizes = Vec::new();
        for k in 1..=n {
            let shard = Shard { index: k, of: n };
            // The gate plans in batches of runs; the split must not depend on them.
            let mut mine = Vec::new();
            let mut done = 0;
            while done < runs {
                let target = (done + batch).min(runs);
                mine.extend(shard.select(plan(done..target, pages, &setups), &cells));
                done = target;
            }
            let mut held = BTreeSet::new();
            for j in &mine {
                *seen.entry(key(j)).or_default() += 1;
                let cell = cells.of(j);
                held.insert(cell);
                prop_assert_eq!(*cell_shard.entry(cell).or_insert(k), k, "a cell straddles shards");
            }
            sizes.push(held.len() as u64);
        }
        prop_assert_eq!(seen.len(), all.len());
        prop_assert!(seen.values().all(|&c| c == 1), "a job ran twice");
        for j in &all {
            prop_assert!(seen.contains_key(&key(j)), "job {:?} in no shard", key(j));
        }
        prop_assert_eq!(sizes.iter().sum::<u64>(), cells.count(runs));
        let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        prop_assert!(hi - lo <= 1, "shard sizes {:?}", sizes);
    }
}

fn stamped(index: u32, of: u32, plan: &str) -> Sample {
    let mut s = Sample::failed(0, "home", "default", "http://x/", String::new());
    s.shard = Some(ShardStamp {
        index,
        of,
        scenario: "shop".into(),
        plan: plan.into(),
    });
    s
}

#[test]
fn shards_of_one_plan_combine_and_say_what_is_missing() {
    let (a, b) = (vec![stamped(1, 3, "p")], vec![stamped(3, 3, "p")]);
    let set = combine(&[(Path::new("a"), &a), (Path::new("b"), &b)])
        .unwrap()
        .unwrap();
    assert_eq!(set.present, [1, 3]);
    assert_eq!(set.missing(), [2]);
    let e = set
        .missing_error(&[Path::new("a"), Path::new("b")])
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("shard(s) 2 of 3 missing (given: 'a', 'b')"),
        "{e}"
    );
    let plain = vec![Sample::failed(
        0,
        "home",
        "default",
        "http://x/",
        String::new(),
    )];
    assert_eq!(combine(&[(Path::new("c"), &plain)]).unwrap(), None);
}

#[test]
fn shards_that_do_not_add_up_are_refused_naming_the_files() {
    let one = vec![stamped(1, 2, "p")];
    let other_plan = vec![stamped(2, 2, "q")];
    let other_split = vec![stamped(2, 4, "p")];
    let plain = vec![Sample::failed(
        0,
        "home",
        "default",
        "http://x/",
        String::new(),
    )];
    let err = |files: &[(&Path, &[Sample])]| combine(files).unwrap_err().to_string();
    let e = err(&[(Path::new("a"), &one), (Path::new("b"), &other_plan)]);
    assert!(e.starts_with("'b' is shard 2/2 of scenario \"shop\" (plan q) but 'a' is shard 1/2 of scenario \"shop\" (plan p): shards of different plans"), "{e}");
    let e = err(&[(Path::new("a"), &one), (Path::new("b"), &other_split)]);
    assert!(e.contains("shards of different splits"), "{e}");
    let e = err(&[(Path::new("a"), &one), (Path::new("b"), &one)]);
    assert!(
        e.starts_with("shard 1/2 is given twice: in 'a' and in 'b'"),
        "{e}"
    );
    // The same file twice is the same shard twice.
    let e = err(&[(Path::new("a"), &one), (Path::new("a"), &one)]);
    assert!(e.starts_with("shard 1/2 is given twice"), "{e}");
    let e = err(&[(Path::new("a"), &one), (Path::new("c"), &plain)]);
    assert!(
        e.starts_with("'a' holds shard samples but 'c' holds samples of an unsharded run"),
        "{e}"
    );
    let bad = vec![stamped(3, 2, "p")];
    let e = err(&[(Path::new("d"), &bad)]);
    assert!(e.starts_with("d:1: shard 3/2 is not a valid shard"), "{e}");
}
