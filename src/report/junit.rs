//! `--junit`: JUnit XML for CI test tabs. A `<testsuite>` per page ×
//! profile, a `<testcase>` per comparison: regressions are `<failure>`,
//! inconclusive comparisons `<error>`, warnings pass with `<system-out>`.
//! Without a verdict, each metric summary is a passing test case.

use super::results::{ComparisonRecord, OutcomeKind, Results};
use super::text::{esc, numbers, one_line};
use super::{ReportError, ReportInput, Reporter};
use crate::sample::{Sample, Variant};
use std::fmt::Write;

/// Writes JUnit XML.
#[derive(Debug, Clone, Copy, Default)]
pub struct JunitReporter;

impl Reporter for JunitReporter {
    fn render(&self, input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render(input).into_bytes())
    }
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
}

fn render(input: &ReportInput<'_>) -> String {
    let results = input.results;
    let mut suites = String::new();
    let mut total = Counts::default();
    for (page, profile) in results.page_profiles() {
        let (body, counts) = suite_body(results, &page, &profile);
        let seconds = wall_seconds(input.candidate, &page, &profile)
            + wall_seconds(input.reference, &page, &profile);
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{seconds:.3}\" timestamp=\"{}\">",
            esc(&format!("{page} · {profile}")),
            counts.tests,
            counts.failures,
            counts.errors,
            esc(&results.environment.generated_at),
        );
        suites.push_str(&body);
        suites.push_str("  </testsuite>\n");
        total.tests += counts.tests;
        total.failures += counts.failures;
        total.errors += counts.errors;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        esc(&format!("rumcheck: {}", results.scenario.name)),
        total.tests,
        total.failures,
        total.errors
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}

/// Seconds of browser time spent on the group (for the suite's `time`).
fn wall_seconds(samples: &[Sample], page: &str, profile: &str) -> f64 {
    samples
        .iter()
        .filter(|s| s.page == page && s.profile == profile)
        .filter_map(|s| s.timing)
        .map(|t| t.session_ms + t.page_ms + t.finalize_ms)
        .sum::<f64>()
        / 1000.0
}

fn suite_body(results: &Results, page: &str, profile: &str) -> (String, Counts) {
    let mut out = String::new();
    let mut counts = Counts::default();
    let classname = esc(&format!("{}.{page}.{profile}", results.scenario.name));
    let comparisons: Vec<&ComparisonRecord> = results
        .verdict
        .iter()
        .flat_map(|v| &v.comparisons)
        .filter(|c| c.page == page && c.profile == profile)
        .collect();
    for c in &comparisons {
        counts.tests += 1;
        let name = esc(&format!("{} vs {}", c.metric, c.against));
        let why = c
            .diagnosis
            .as_ref()
            .map(|d| format!("; why: {}", one_line(&d.cause)))
            .unwrap_or_default();
        let message = esc(&format!("{} ({}){why}", one_line(&c.reason), numbers(c)));
        let detail = esc(&detail(c));
        let _ = write!(
            out,
            "    <testcase name=\"{name}\" classname=\"{classname}\" time=\"0\""
        );
        match c.outcome {
            OutcomeKind::Regressed => {
                counts.failures += 1;
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"regressed\" message=\"{message}\">{detail}</failure>\n    </testcase>"
                );
            }
            OutcomeKind::Inconclusive => {
                counts.errors += 1;
                let _ = writeln!(
                    out,
                    ">\n      <error type=\"inconclusive\" message=\"{message}\">{detail}</error>\n    </testcase>"
                );
            }
            OutcomeKind::Warning
            | OutcomeKind::Improved
            | OutcomeKind::NoChange
            | OutcomeKind::NotComparable => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}: {detail}</system-out>\n    </testcase>",
                    c.outcome.label()
                );
            }
        }
    }
    if comparisons.is_empty() {
        // No verdict for this group: record what was measured as passing cases.
        if let Some(g) = results.group(page, profile, &Variant::Candidate) {
            for (&m, s) in &g.metrics {
                counts.tests += 1;
                let _ = writeln!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{classname}\" time=\"0\">\n      <system-out>{}</system-out>\n    </testcase>",
                    esc(m.name()),
                    esc(&format!(
                        "n {}; median {}; p75 {}; p90 {} (not compared)",
                        s.n,
                        m.format(s.p50),
                        m.format(s.p75),
                        m.format(s.p90)
                    ))
                );
            }
        }
    }
    let failed: Vec<String> = results
        .failed_visits
        .iter()
        .filter(|f| f.page == page && f.profile == profile)
        .map(|f| {
            format!(
                "{} run {} ({} attempt(s)) {}: {}",
                f.variant, f.run, f.attempts, f.url, f.error
            )
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "    <system-err>{} failed visit(s):\n{}</system-err>",
            failed.len(),
            esc(&failed.join("\n"))
        );
    }
    (out, counts)
}

fn detail(c: &ComparisonRecord) -> String {
    let mut s = format!("{}\n{}\ntest: {}", c.reason, numbers(c), c.test);
    for n in &c.notes {
        s.push_str("\nnote: ");
        s.push_str(n);
    }
    if let Some(d) = &c.diagnosis {
        s.push_str("\nwhy: ");
        s.push_str(&d.cause);
        for e in d.evidence() {
            s.push_str("\n  ");
            s.push_str(&e);
        }
    }
    s
}
