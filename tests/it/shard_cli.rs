//! Shards from the outside: `rumcheck run --shard K/N` refuses what it
//! cannot run, and `rumcheck compare` judges shard files as one gate or
//! refuses them, naming the files (no browser: fixture samples split into
//! shards here).

use crate::support::rumcheck_in as rumcheck;
use std::path::Path;
use std::process::Output;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn text(o: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// `rumcheck run` in a directory holding the one-page scenario, with `args`.
fn run(args: &[&str]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{FIXTURES}scenarios/one-page.toml"),
        dir.path().join("s.toml"),
    )
    .unwrap();
    let mut all = vec!["run", "s.toml"];
    all.extend(args);
    let (_, stderr, code) = text(&rumcheck(dir.path(), &all));
    (stderr, code)
}

#[test]
fn a_bad_shard_flag_exits_2_naming_the_flag() {
    let mut all = String::new();
    for flag in ["0/4", "5/4", "x"] {
        let (e, code) = run(&["--shard", flag]);
        assert_eq!(code, 2, "{e}");
        all.push_str(&e);
    }
    insta::assert_snapshot!(all, @r#"
    error: --shard "0/4": K must be 1 to 4 (shards are numbered from 1)
      hint: write --shard K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four CI jobs
    error: --shard "5/4": K must be 1 to 4 (shards are numbered from 1)
      hint: write --shard K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four CI jobs
    error: --shard "x": expected K/N, e.g. 2/4
      hint: write --shard K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four CI jobs
    "#);
}

#[test]
fn a_shard_with_adaptive_runs_or_with_nothing_to_run_exits_2() {
    let (e, code) = run(&["--shard", "1/2", "--runs", "auto"]);
    assert_eq!(code, 2, "{e}");
    insta::assert_snapshot!(e, @r#"
    error: --shard cannot be combined with --runs auto: an adaptive gate decides after each look over all visits, which one CI job of several cannot see
      hint: give a fixed count, e.g. --runs 30, and judge the shards with `rumcheck compare`
    "#);
    // One page, one profile, 2 runs: 2 cells for 3 shards.
    let (e, code) = run(&["--shard", "3/3", "--runs", "2", "-q"]);
    assert_eq!(code, 2, "{e}");
    insta::assert_snapshot!(e, @r#"
    error: --shard 3/3: the plan has only 2 cell(s) (pages × profiles × runs), so shard(s) would be empty
      hint: use at most 2 shards, or raise --runs
    "#);
}

/// Writes `lines` of a fixture into `dir/name`, stamped as shard `index`/`of` of `plan`.
fn shard_file(dir: &Path, name: &str, lines: &[&str], index: u32, of: u32, plan: &str) {
    let stamped: Vec<String> = lines
        .iter()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["shard"] = serde_json::json!({
                "index": index, "of": of, "scenario": "shop", "plan": plan
            });
            v.to_string()
        })
        .collect();
    std::fs::write(dir.join(name), stamped.join("\n") + "\n").unwrap();
}

/// A compare fixture dealt into `of` shard files `{prefix}1.ndjson`… by run
/// (run r in shard r mod N + 1, as `--shard` deals cells).
fn deal(dir: &Path, fixture: &str, prefix: &str, of: u32, plan: &str) {
    let text = std::fs::read_to_string(format!("{FIXTURES}compare/{fixture}")).unwrap();
    for k in 1..=of {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["run"].as_u64().unwrap() % u64::from(of) == u64::from(k - 1)
            })
            .collect();
        shard_file(dir, &format!("{prefix}{k}.ndjson"), &lines, k, of, plan);
    }
}

/// The slower candidate as 3 shards `c1`…`c3`, and the reference whole (`ref.ndjson`).
fn split(dir: &Path, of: u32, plan: &str) {
    deal(dir, "candidate_slower.ndjson", "c", of, plan);
    std::fs::copy(
        format!("{FIXTURES}compare/reference.ndjson"),
        dir.join("ref.ndjson"),
    )
    .unwrap();
}

#[test]
fn shards_judged_together_give_the_unsharded_verdict() {
    let dir = tempfile::tempdir().unwrap();
    split(dir.path(), 3, "9f");
    // The reference build's own run, in 2 shards.
    deal(dir.path(), "reference.ndjson", "r", 2, "3e");
    let whole = rumcheck(
        dir.path(),
        &[
            "compare",
            &format!("{FIXTURES}compare/candidate_slower.ndjson"),
            "--reference",
            "ref.ndjson",
        ],
    );
    let (whole, _, whole_code) = text(&whole);
    let (stdout, stderr, code) = text(&rumcheck(
        dir.path(),
        &[
            "compare",
            "c1.ndjson",
            "c2.ndjson",
            "c3.ndjson",
            "--reference",
            "r1.ndjson",
            "--reference",
            "r2.ndjson",
            "--json",
            "r.json",
        ],
    ));
    assert_eq!((code, whole_code), (1, 1), "{stdout}{stderr}");
    // The same table and verdict, plus notes saying which shards were judged.
    let notes = "\nnote: candidate: judged shard(s) 1, 2, 3 of 3 of scenario \"shop\" (plan 9f)\nnote: reference: judged shard(s) 1, 2 of 2 of scenario \"shop\" (plan 3e)\n";
    assert!(stdout.contains(notes), "{stdout}");
    assert_eq!(stdout.replacen(notes, "", 1), whole);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(doc["scenario"]["name"], "shop");
    let notes = doc["verdict"]["notes"].to_string();
    assert!(
        notes
            .contains("candidate: judged shard(s) 1, 2, 3 of 3 of scenario \\\"shop\\\" (plan 9f)"),
        "{notes}"
    );
}

#[test]
fn shards_that_are_not_one_gate_exit_2_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    split(dir.path(), 3, "9f");
    let compare = |files: &[&str]| {
        let mut args = vec!["compare"];
        args.extend(files);
        args.extend(["--reference", "ref.ndjson"]);
        let (stdout, stderr, code) = text(&rumcheck(dir.path(), &args));
        assert_eq!(code, 2, "{stdout}{stderr}");
        stderr
    };
    insta::assert_snapshot!(compare(&["c1.ndjson", "c2.ndjson"]), @r#"
    error: shard(s) 3 of 3 missing (given: 'c1.ndjson', 'c2.ndjson'): their pages, profiles and runs would go unjudged
      hint: pass every shard's samples, or --allow-missing-shards to judge the visits that are there
    "#);
    insta::assert_snapshot!(compare(&["c1.ndjson", "c2.ndjson", "c3.ndjson", "c2.ndjson"]), @r#"
    error: shard 2/3 is given twice: in 'c2.ndjson' and in 'c2.ndjson'
      hint: pass each shard's samples once (each CI job's samples.ndjson)
    "#);
    let line = std::fs::read_to_string(dir.path().join("c3.ndjson")).unwrap();
    let line: Vec<&str> = line.lines().collect();
    shard_file(dir.path(), "other.ndjson", &line, 3, 3, "77");
    insta::assert_snapshot!(compare(&["c1.ndjson", "c2.ndjson", "other.ndjson"]), @r#"
    error: 'other.ndjson' is shard 3/3 of scenario "shop" (plan 77) but 'c1.ndjson' is shard 1/3 of scenario "shop" (plan 9f): shards of different plans (pages, profiles, runs or builds differ) are not one gate
      hint: every shard job must run the same scenario with the same --runs, --reference-url and calibration, and the same N in --shard K/N
    "#);
    insta::assert_snapshot!(
        compare(&["c1.ndjson", &format!("{FIXTURES}compare/candidate_same.ndjson")])
            .replace(FIXTURES, "[FIXTURES]/"),
        @r#"
    error: 'c1.ndjson' holds shard samples but '[FIXTURES]/compare/candidate_same.ndjson' holds samples of an unsharded run: they are not one gate
      hint: pass the samples of every shard of one `rumcheck run --shard K/N` matrix, and nothing else
    "#
    );
}

#[test]
fn missing_shards_can_be_judged_on_request_with_a_warning_and_a_note() {
    let dir = tempfile::tempdir().unwrap();
    split(dir.path(), 3, "9f");
    let (stdout, stderr, code) = text(&rumcheck(
        dir.path(),
        &[
            "compare",
            "c1.ndjson",
            "c3.ndjson",
            "--reference",
            "ref.ndjson",
            "--allow-missing-shards",
            "--min-valid",
            "4",
        ],
    ));
    assert_ne!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.starts_with("warning: shard(s) 2 of 3 missing (given: 'c1.ndjson', 'c3.ndjson')"),
        "{stderr}"
    );
    assert!(
        stdout.contains("candidate: incomplete shards: 2/3 missing"),
        "{stdout}"
    );
}
