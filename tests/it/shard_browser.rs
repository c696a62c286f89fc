//! Two CI jobs of one gate, for real: `rumcheck run --shard 1/2` and `2/2`
//! at once in real Chromium against a loopback page, candidate and
//! reference build interleaved, then `rumcheck compare` on the union.

use crate::support::{Fixtures, browser_lock, rumcheck_in};
use rumcheck::sample::read_samples;
use std::collections::BTreeSet;

#[tokio::test]
async fn two_shards_run_their_halves_and_compare_judges_the_union() {
    let _lock = browser_lock().await;
    let fx = Fixtures::start().await;
    let dir = tempfile::tempdir().unwrap();
    // One page, 2 runs: 2 cells (each the candidate and the reference visit of one run).
    std::fs::write(
        dir.path().join("s.toml"),
        format!(
            "name = \"tiny\"\nbase_url = \"{}\"\nruns = 2\nretries = 1\n\n[[page]]\nname = \"plain\"\npath = \"/plain.html\"\n",
            fx.url("/")
        ),
    )
    .unwrap();
    let reference = fx.url("/");
    let started = std::time::Instant::now();
    // The shards run at once, as matrix jobs do (each spawns its own chromedriver).
    let shards: Vec<_> = (1..=2)
        .map(|k| {
            let (path, reference) = (dir.path().to_path_buf(), reference.clone());
            tokio::task::spawn_blocking(move || {
                let (shard, out) = (format!("{k}/2"), format!("shard-{k}"));
                let args = [
                    "run",
                    "s.toml",
                    "--shard",
                    &shard,
                    "--reference-url",
                    &reference,
                    "--out",
                    &out,
                    "-q",
                ];
                rumcheck_in(&path, &args)
            })
        })
        .collect();
    for (k, shard) in shards.into_iter().enumerate() {
        let o = shard.await.unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "shard {}: {stdout}{stderr}",
            k + 1
        );
        assert!(
            stdout.contains(&format!("shard {}/2: measured, not judged", k + 1)),
            "{stdout}"
        );
    }
    let shards_took = started.elapsed();

    let mut runs = Vec::new();
    for k in 1..=2u32 {
        let samples = read_samples(&dir.path().join(format!("shard-{k}/samples.ndjson"))).unwrap();
        // Each shard holds one run: its candidate and its reference visit.
        assert_eq!(samples.len(), 2, "shard {k}: {samples:?}");
        assert!(samples.iter().all(|s| s.ok), "shard {k}: {samples:?}");
        let variants: BTreeSet<&str> = samples.iter().map(|s| s.variant.as_str()).collect();
        assert_eq!(variants, BTreeSet::from(["candidate", "reference"]));
        assert_eq!(samples[0].run, samples[1].run);
        runs.push(samples[0].run);
        let stamp = samples[0]
            .shard
            .clone()
            .expect("a shard's samples record it");
        assert_eq!(
            (stamp.index, stamp.of, stamp.scenario.as_str()),
            (k, 2, "tiny")
        );
        assert!(samples.iter().all(|s| s.shard == Some(stamp.clone())));
    }
    runs.sort();
    assert_eq!(runs, [0, 1], "the shards split the runs");

    let o = rumcheck_in(
        dir.path(),
        &[
            "compare",
            "shard-1/samples.ndjson",
            "shard-2/samples.ndjson",
            "--min-valid",
            "2",
            "--json",
            "results.json",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    // Two visits a build decide nothing at α = 0.05, but they are judged as one gate.
    assert!(matches!(o.status.code(), Some(0 | 3)), "{stdout}{stderr}");
    assert!(
        stdout.contains("note: candidate: judged shard(s) 1, 2 of 2 of scenario \"tiny\""),
        "{stdout}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    let groups = doc["groups"].as_array().unwrap();
    let visits: Vec<(String, u64)> = groups
        .iter()
        .map(|g| {
            (
                g["variant"].as_str().unwrap_or_default().to_string(),
                g["valid"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        visits,
        [("candidate".to_string(), 2), ("reference".to_string(), 2)],
        "{groups:?}"
    );
    eprintln!("two shards of 2 visits each, at once: {shards_took:?}");
}
