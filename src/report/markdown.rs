//! `--markdown`: a compact summary for a pull-request comment or GitHub's
//! step summary: a status line, the comparisons that changed, then every
//! comparison in a collapsed table.

use super::results::{ComparisonRecord, OutcomeKind, Results, Status};
use super::text::{change, p, value};
use super::{ReportError, ReportInput, Reporter};
use std::fmt::Write;

/// Writes the Markdown summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownReporter;

impl Reporter for MarkdownReporter {
    fn render(&self, input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render(input.results).into_bytes())
    }
}

/// Makes a string safe in a table cell: no HTML (GitHub renders it), no
/// pipes or line breaks that would end the cell, no backticks, no raw
/// control characters (ESC…), never a line starting with `::`.
pub(crate) fn cell(s: &str) -> String {
    html_escape::encode_text(&crate::output::inert::markdown_line(s))
        .replace('|', "\\|")
        .replace('`', "'")
}

fn icon(o: OutcomeKind) -> &'static str {
    match o {
        OutcomeKind::Regressed => "❌",
        OutcomeKind::Inconclusive => "❔",
        OutcomeKind::Warning => "⚠️",
        OutcomeKind::Improved => "✅",
        OutcomeKind::NoChange => "➖",
        OutcomeKind::NotComparable => "ℹ️",
    }
}

/// Renders the summary.
pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let name = cell(&results.scenario.name);
    let partial = if results.partial { " (partial)" } else { "" };
    match &results.verdict {
        Some(v) => {
            let headline = match v.status {
                Status::Pass => "✅ pass",
                Status::Regressed => "❌ regressed",
                Status::Inconclusive => "❔ inconclusive",
            };
            let _ = writeln!(out, "### rumcheck: {headline} — {name}{partial}\n");
            let _ = writeln!(
                out,
                "{} · α = {} (Holm over {} comparisons) · {} run(s) per page and profile\n",
                cell(&v.summary),
                v.alpha,
                v.family_size,
                results.scenario.runs
            );
            let changed: Vec<&ComparisonRecord> = v
                .comparisons
                .iter()
                .filter(|c| {
                    !matches!(
                        c.outcome,
                        OutcomeKind::NoChange | OutcomeKind::NotComparable
                    )
                })
                .collect();
            if !changed.is_empty() {
                let mut sorted = changed;
                sorted.sort_by_key(|c| c.outcome);
                table(&mut out, &sorted);
                out.push('\n');
                diagnoses(&mut out, &sorted);
            }
            let all: Vec<&ComparisonRecord> = v.comparisons.iter().collect();
            let _ = writeln!(
                out,
                "<details><summary>All {} comparisons</summary>\n",
                all.len()
            );
            table(&mut out, &all);
            out.push_str("\n</details>\n");
            for note in &v.notes {
                let _ = writeln!(out, "\n> {}", cell(note));
            }
        }
        None => {
            let _ = writeln!(out, "### rumcheck: measured — {name}{partial}\n");
            out.push_str("No reference or baseline was given, so nothing was judged.\n\n");
            measured(&mut out, results);
        }
    }
    failed(&mut out, results);
    let e = &results.environment;
    let _ = writeln!(
        out,
        "\n<sub>rumcheck {} · {} · {} core(s) · {} · {}</sub>",
        cell(&e.rumcheck_version),
        cell(if e.browser.is_empty() {
            "browser unknown"
        } else {
            &e.browser
        }),
        e.host_cores,
        cell(&e.os),
        cell(&e.generated_at)
    );
    out
}

/// Why each diagnosed row moved: the cause, then its evidence.
fn diagnoses(out: &mut String, rows: &[&ComparisonRecord]) {
    for c in rows {
        let Some(d) = &c.diagnosis else { continue };
        let _ = writeln!(
            out,
            "**Why {} [{}] {}:** {}\n",
            cell(&c.page),
            cell(&c.profile),
            c.metric,
            cell(&d.cause)
        );
        let evidence = d.evidence();
        for e in &evidence {
            let _ = writeln!(out, "- {}", cell(e));
        }
        if !evidence.is_empty() {
            out.push('\n');
        }
    }
}

fn table(out: &mut String, rows: &[&ComparisonRecord]) {
    out.push_str(
        "| | page | profile | metric | vs | candidate | baseline | change | p (Holm) | reason |\n",
    );
    out.push_str("|---|---|---|---|---|---:|---:|---:|---:|---|\n");
    for c in rows {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            icon(c.outcome),
            c.outcome.label(),
            cell(&c.page),
            cell(&c.profile),
            c.metric,
            cell(c.against.as_str()),
            cell(&value(c, c.candidate)),
            cell(&value(c, c.reference)),
            cell(&change(c)),
            p(c.p_adjusted),
            cell(&c.reason)
        );
    }
}

fn measured(out: &mut String, results: &Results) {
    out.push_str("| page | profile | variant | metric | n | median | p75 | p90 |\n");
    out.push_str("|---|---|---|---|---:|---:|---:|---:|\n");
    for g in &results.groups {
        for (&m, s) in &g.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {m} | {} | {} | {} | {} |",
                cell(&g.page),
                cell(&g.profile),
                cell(g.variant.as_str()),
                s.n,
                m.format(s.p50),
                m.format(s.p75),
                m.format(s.p90)
            );
        }
    }
}

fn failed(out: &mut String, results: &Results) {
    if results.failed_visits.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n<details><summary>{} failed visit(s)</summary>\n",
        results.failed_visits.len()
    );
    out.push_str("| page | profile | variant | run | error |\n|---|---|---|---:|---|\n");
    for f in &results.failed_visits {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&f.page),
            cell(&f.profile),
            cell(f.variant.as_str()),
            f.run,
            cell(&f.error)
        );
    }
    out.push_str("\n</details>\n");
}
