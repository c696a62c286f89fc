//! `rumcheck compare` end to end: the built binary on small NDJSON fixtures
//! (tests/fixtures/compare/), checking the table, the messages and the exit code.

use std::process::{Command, Output};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compare/");

fn compare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .arg("compare")
        .args(args.iter().map(|a| a.replace("@", DIR)))
        .env("NO_COLOR", "1")
        .output()
        .expect("the rumcheck binary runs")
}

fn text(out: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn a_slower_lcp_fails_with_exit_1_and_a_table() {
    let (stdout, stderr, code) = text(&compare(&[
        "@candidate_slower.ndjson",
        "--reference",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    insta::assert_snapshot!(stdout, @r"
    10 comparisons, α = 0.05 (Holm over 10 regression tests)
    page  profile  metric  vs         candidate  baseline  change             adj. p   verdict
    cart  default  ttfb    reference  400 ms     400 ms    +0 ms (+0.0 %)     1.0000   no change
    cart  default  fcp     reference  1500 ms    1500 ms   +0 ms (+0.0 %)     1.0000   no change
    cart  default  lcp     reference  1800 ms    1800 ms   +0 ms (+0.0 %)     1.0000   no change
    cart  default  cls     reference  0.019      0.019     +0.000 (+0.0 %)    1.0000   no change
    cart  default  inp     reference  80 ms      80 ms     +0 ms (+0.0 %)     1.0000   no change
    home  default  ttfb    reference  400 ms     400 ms    +0 ms (+0.0 %)     1.0000   no change
    home  default  fcp     reference  1500 ms    1500 ms   +0 ms (+0.0 %)     1.0000   no change
    home  default  lcp     reference  3000 ms    2500 ms   +500 ms (+20.0 %)  <0.0001  REGRESSED
    home  default  cls     reference  0.019      0.019     +0.000 (+0.0 %)    1.0000   no change
    home  default  inp     reference  80 ms      80 ms     +0 ms (+0.0 %)     1.0000   no change

    REGRESSED home [default] lcp: +500 ms (+20.0 %) slower than reference (90 % CI +403 ms … +597 ms), over the 250 ms threshold; adjusted p <0.0001
      why: LCP +500 ms: no single cause stands out (the visits carry no LCP sub-parts, Server-Timing entries or request list to compare)

    FAIL: 1 regressed, 9 no change (exit 1)
    ");
}

#[test]
fn the_same_build_passes() {
    let (stdout, _, code) = text(&compare(&[
        "@candidate_same.ndjson",
        "--reference",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("PASS: 10 no change (exit 0)"), "{stdout}");
}

#[test]
fn a_raised_threshold_turns_the_regression_into_a_warning() {
    let (stdout, _, code) = text(&compare(&[
        "@candidate_slower.ndjson",
        "--reference",
        "@reference.ndjson",
        "--threshold",
        "lcp=25%",
    ]));
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("warning home [default] lcp: +500 ms (+20.0 %) slower: real but small"),
        "{stdout}"
    );
}

#[test]
fn failed_visits_make_it_inconclusive() {
    let (stdout, _, code) = text(&compare(&[
        "@candidate_failing.ndjson",
        "--reference",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("too few valid visits, need 8: 5 candidate visits valid of 20"),
        "{stdout}"
    );
    assert!(stdout.contains("navigation timeout after 30 s"), "{stdout}");
    assert!(stdout.contains("INCONCLUSIVE:"), "{stdout}");
}

#[test]
fn reference_visits_in_the_same_file_are_used() {
    let (stdout, _, code) = text(&compare(&["@mixed.ndjson"]));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("REGRESSED home [default] lcp"), "{stdout}");
}

#[test]
fn a_field_baseline_without_calibration_is_shown_but_never_judged() {
    // One lab condition held against the whole field says nothing about the
    // change: the offset is information, and nothing judged is never a pass.
    let (stdout, _, code) = text(&compare(&[
        "@candidate_slower.ndjson",
        "--baseline",
        "@baseline.json",
    ]));
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("info home [default] lcp: lab p75 3142 ms is 12 % above field p75 2800 ms: not comparable without calibration"),
        "{stdout}"
    );
    assert!(stdout.contains("rumcheck calibrate"), "{stdout}");
    assert!(!stdout.contains("REGRESSED"), "{stdout}");
    let (stdout, _, code) = text(&compare(&[
        "@candidate_same.ndjson",
        "--baseline",
        "@baseline.json",
    ]));
    assert_eq!(code, 3, "{stdout}");
    assert!(!stdout.contains("no change"), "{stdout}");
}

#[test]
fn a_broken_samples_file_is_named_with_its_line() {
    let (_, stderr, code) = text(&compare(&[
        "@broken.ndjson",
        "--reference",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "broken.ndjson:3, column 36: not a rumcheck sample: EOF while parsing a value\n"
        ),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let (_, stderr, code) = text(&compare(&[
        "@nope.ndjson",
        "--reference",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read samples file") && stderr.contains("nope.ndjson"),
        "{stderr}"
    );
    let (_, stderr, code) = text(&compare(&[
        "@candidate_same.ndjson",
        "--baseline",
        "@reference.ndjson",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reference.ndjson': line 2, column 1: not a rumcheck baseline"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_usage_errors_that_say_how_to_fix_them() {
    let (_, stderr, code) = text(&compare(&[
        "@candidate_same.ndjson",
        "--reference",
        "@reference.ndjson",
        "--threshold",
        "lcp=150",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid --threshold 'lcp=150'") && stderr.contains("lcp=150ms"),
        "{stderr}"
    );
    let (_, stderr, code) = text(&compare(&[
        "@candidate_same.ndjson",
        "--reference",
        "@reference.ndjson",
        "--alpha",
        "1.5",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("--alpha must be in (0, 0.5]"), "{stderr}");
    let (_, stderr, code) = text(&compare(&["@candidate_same.ndjson"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("pass --reference REF.ndjson or --baseline BASELINE.json"),
        "{stderr}"
    );
}

/// `--scenario` maps sample pages (`home`) to baseline pages (`/`) and
/// profiles to segments; without it the field check finds nothing.
#[test]
fn the_scenario_maps_pages_and_profiles_to_the_field_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let b = rumcheck::demo::gate::baseline().unwrap();
    std::fs::write(&baseline, serde_json::to_vec(&b).unwrap()).unwrap();
    let samples = dir.path().join("samples.ndjson");
    let mut out = Vec::new();
    for run in 0..12 {
        let mut s =
            rumcheck::Sample::failed(run, "home", "desktop", "http://127.0.0.1/", String::new());
        s.ok = true;
        s.error = None;
        s.metrics
            .insert(rumcheck::Metric::Lcp, 400.0 + f64::from(run) * 7.0);
        rumcheck::sample::write_sample(&mut out, &s).unwrap();
    }
    std::fs::write(&samples, out).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "compare".to_string(),
            samples.display().to_string(),
            "--baseline".into(),
            baseline.display().to_string(),
            "--metrics".into(),
            "lcp".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        std::process::Command::new(env!("CARGO_BIN_EXE_rumcheck"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let with = run(&["--scenario", "scenarios/demo.toml"]);
    let stdout = String::from_utf8_lossy(&with.stdout);
    assert_eq!(
        with.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(
        stdout.contains("field p75 (info)") && stdout.contains("not comparable"),
        "{stdout}"
    );
    let without = run(&[]);
    let stdout = String::from_utf8_lossy(&without.stdout);
    assert!(!stdout.contains("field p75"), "{stdout}");
    assert!(
        stdout.contains("no field segment for page home"),
        "{stdout}"
    );
}
