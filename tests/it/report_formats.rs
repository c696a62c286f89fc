//! The report formats on recorded inputs: JUnit and Markdown pinned by
//! snapshots (dates, versions, host and timings filtered), the JSON document
//! read back, and the output-path and schema errors people see.

use crate::report_fixture::{self, Fixture};
use rumcheck::output::OutputError;
use rumcheck::report::github;
use rumcheck::report::{Format, ReportError, ReportInput, ReportManager, Results};
use rumcheck::sample::Variant;
use std::path::Path;

fn input(f: &Fixture) -> ReportInput<'_> {
    ReportInput::new(&f.results, &f.candidate)
        .with_reference(&f.reference)
        .with_baseline(Some(&f.baseline))
}

fn render(format: Format, f: &Fixture) -> String {
    String::from_utf8(format.reporter().render(&input(f)).unwrap()).unwrap()
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../fixtures/report/snapshots");
        settings.set_prepend_module_to_snapshot(false);
        for (re, with) in [
            (
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
                "[date]",
            ),
            (r"rumcheck \d+\.\d+\.\d+\S*", "rumcheck [version]"),
            (r"Chromium [0-9.]+", "Chromium [version]"),
            (r"\d+ core\(s\)", "[n] core(s)"),
            (r"(linux|macos|windows) \w+", "[os]"),
            (r#"time="[0-9.]+""#, r#"time="[time]""#),
        ] {
            settings.add_filter(re, with);
        }
        settings.bind(|| insta::assert_snapshot!($name, $text));
    }};
}

#[test]
fn junit_snapshot() {
    snapshot!("junit", render(Format::Junit, &report_fixture::load()));
}

#[test]
fn markdown_snapshot() {
    snapshot!(
        "markdown",
        render(Format::Markdown, &report_fixture::load())
    );
}

#[test]
fn annotations_snapshot() {
    snapshot!(
        "annotations",
        github::annotations(&report_fixture::load().results)
    );
}

#[test]
fn junit_counts_regressions_as_failures_and_inconclusive_as_errors() {
    let xml = render(Format::Junit, &report_fixture::load());
    assert!(
        xml.contains(
            "<testsuites name=\"rumcheck: shop\" tests=\"9\" failures=\"2\" errors=\"1\">"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"home · phone\" tests=\"5\" failures=\"2\" errors=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testsuite name=\"checkout · phone\" tests=\"4\" failures=\"0\" errors=\"1\""
        ),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), 2);
    assert_eq!(xml.matches("<error ").count(), 1);
}

#[test]
fn json_round_trips_and_matches_the_run_summary() {
    let f = report_fixture::load();
    let text = render(Format::Json, &f);
    let back = Results::parse(&text, "results.json").unwrap();
    assert_eq!(back, f.results);
    let home = back.group("home", "phone", &Variant::Candidate).unwrap();
    assert_eq!((home.valid, home.failed), (8, 0));
    let checkout = back
        .group("checkout", "phone", &Variant::Candidate)
        .unwrap();
    assert_eq!((checkout.valid, checkout.failed), (7, 1));
    // Same numbers as the run summary (nearest rank) by construction.
    let lcp = home.metrics[&rumcheck::Metric::Lcp];
    let mut v: Vec<f64> = f
        .candidate
        .iter()
        .filter(|s| s.page == "home")
        .filter_map(|s| s.metric(rumcheck::Metric::Lcp))
        .collect();
    v.sort_by(f64::total_cmp);
    assert_eq!(lcp.p75, rumcheck::stats::nearest_rank(&v, 0.75));
    assert_eq!(back.failed_visits.len(), 1);
    assert!(back.failed_visits[0].error.contains("#pay"));
    // Unbounded interval sides are written as null and read back as None.
    let c = &back.verdict.as_ref().unwrap().comparisons[0];
    assert_eq!(c.interval.unwrap().upper, None);
}

#[test]
fn a_results_file_of_another_schema_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old-results.json");
    std::fs::write(&path, r#"{"schema": 99, "scenario": {}}"#).unwrap();
    let err = Results::read(&path).unwrap_err();
    assert!(matches!(err, ReportError::Schema { found: 99, .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("old-results.json")
            && msg.contains("schema 99")
            && msg.contains("reads schema 1"),
        "{msg}"
    );

    std::fs::write(&path, r#"{"runs": []}"#).unwrap();
    let msg = Results::read(&path).unwrap_err().to_string();
    assert!(
        msg.contains("is not a rumcheck results file") && msg.contains("\"schema\""),
        "{msg}"
    );

    let msg = Results::read(&dir.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("cannot read results file") && msg.contains("nope.json"),
        "{msg}"
    );
}

#[test]
fn a_missing_output_directory_names_the_flag_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/report.html");
    let err = ReportManager::from_cli_arguments(None, None, None, Some(&missing)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            ReportError::Output(OutputError::MissingDirectory { .. })
        ),
        "{msg}"
    );
    assert!(
        msg.starts_with("--html '")
            && msg.contains("report.html")
            && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn a_directory_as_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = ReportManager::from_cli_arguments(Some(dir.path()), None, None, None).unwrap_err();
    assert!(
        err.to_string().starts_with("--json '") && err.to_string().contains("is a directory"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_output_is_refused_before_anything_runs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let target = locked.join("junit.xml");
    // root ignores directory permissions; the check is then meaningless.
    let probe = std::fs::File::create(locked.join("probe"));
    if probe.is_ok() {
        eprintln!("skipping: running as root, permissions are not enforced");
        return;
    }
    let err = ReportManager::from_cli_arguments(None, Some(&target), None, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReportError::Output(OutputError::NotWritable { .. })),
        "{msg}"
    );
    assert!(
        msg.starts_with("--junit '") && msg.contains("junit.xml"),
        "{msg}"
    );
    assert!(!target.exists());
}

#[test]
fn a_read_only_existing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.md");
    std::fs::write(&target, "old").unwrap();
    let mut perms = std::fs::metadata(&target).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&target, perms).unwrap();
    let result = ReportManager::from_cli_arguments(None, None, Some(&target), None);
    if std::fs::OpenOptions::new()
        .write(true)
        .open(&target)
        .is_ok()
    {
        eprintln!("skipping: running as root, permissions are not enforced");
        return;
    }
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.starts_with("--markdown '") && msg.contains("cannot write"),
        "{msg}"
    );
}

#[test]
fn write_all_rewrites_every_file_and_keeps_partial_results() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let manager = ReportManager::from_cli_arguments(
        Some(&p("r.json")),
        Some(&p("r.xml")),
        Some(&p("r.md")),
        Some(&p("r.html")),
    )
    .unwrap();
    // Validation creates nothing.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let f = report_fixture::load();
    let mut partial = f.results.clone();
    partial.partial = true;
    partial.verdict = None;
    let half = &f.candidate[..4];
    let batch = Results {
        groups: Results::new(
            rumcheck::report::RunMeta {
                scenario: partial.scenario.clone(),
                profiles: partial.profiles.clone(),
                environment: partial.environment.clone(),
            },
            half,
            None,
        )
        .groups,
        ..partial
    };
    manager.write_all(&ReportInput::new(&batch, half)).unwrap();
    let first = Results::read(&p("r.json")).unwrap();
    assert!(first.partial && first.verdict.is_none());
    assert!(
        std::fs::read_to_string(p("r.md"))
            .unwrap()
            .contains("(partial)")
    );

    manager.write_all(&input(&f)).unwrap();
    let done = Results::read(&p("r.json")).unwrap();
    assert!(!done.partial && done.verdict.is_some());
    for name in ["r.json", "r.xml", "r.md", "r.html"] {
        assert!(std::fs::metadata(p(name)).unwrap().len() > 100, "{name}");
    }
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[test]
fn step_summary_appends_when_the_variable_is_set() {
    // Only this test touches GITHUB_STEP_SUMMARY; the fixture result is fixed.
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let f = report_fixture::load();
    // SAFETY: no other test reads or writes this variable.
    unsafe { std::env::set_var("GITHUB_STEP_SUMMARY", &summary) };
    let written = github::step_summary(&f.results);
    unsafe { std::env::remove_var("GITHUB_STEP_SUMMARY") };
    assert_eq!(written.unwrap().as_deref(), Some(Path::new(&summary)));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n### rumcheck: ❌ regressed — shop"),
        "{text}"
    );
}

#[test]
fn html_is_the_same_whether_reference_samples_come_apart_or_mixed_in() {
    let f = report_fixture::load();
    let split = render(Format::Html, &f);
    let all: Vec<_> = f.candidate.iter().chain(&f.reference).cloned().collect();
    let mixed = ReportInput::new(&f.results, &all).with_baseline(Some(&f.baseline));
    let mixed = String::from_utf8(Format::Html.reporter().render(&mixed).unwrap()).unwrap();
    assert_eq!(split, mixed);
    assert!(split.contains("lab reference (n=8)"));
}

/// Root ignores permission bits, so also check a directory nobody can create
/// files in: /proc (Linux).
#[cfg(target_os = "linux")]
#[test]
fn an_output_in_a_directory_that_refuses_files_is_refused_even_for_root() {
    let target = Path::new("/proc/rumcheck-report.json");
    let err = ReportManager::from_cli_arguments(Some(target), None, None, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReportError::Output(OutputError::NotWritable { .. })),
        "{msg}"
    );
    assert!(
        msg.starts_with("--json '/proc/rumcheck-report.json': cannot write this file"),
        "{msg}"
    );
}
