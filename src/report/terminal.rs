//! The verdict table printed to the terminal, rendered from the results
//! document like every other format.
//!
//! Plain text unless colour is asked for ([`use_color`]: stdout is a terminal
//! and `NO_COLOR` is unset, see <https://no-color.org>). Columns are padded
//! before colouring, so the table lines up either way.

use super::results::{ComparisonRecord, OutcomeKind, Results, Status};
use super::text::{is_share, percent};
use crate::metric::Metric;
use crate::output::inert::terminal as inert;
use crate::verdict::Against;
use std::fmt::Write;
use std::io::IsTerminal;

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

fn outcome_color(o: OutcomeKind) -> &'static str {
    match o {
        OutcomeKind::Regressed => RED,
        OutcomeKind::Improved => GREEN,
        OutcomeKind::Warning | OutcomeKind::Inconclusive => YELLOW,
        OutcomeKind::NoChange | OutcomeKind::NotComparable => DIM,
    }
}

fn value(m: Metric, v: Option<f64>, share: bool) -> String {
    match v {
        Some(v) if share => format!("{:.0} % good", v * 100.0),
        Some(v) => m.format(v),
        None => "–".into(),
    }
}

fn change(c: &ComparisonRecord) -> String {
    let m = c.metric;
    match (c.against, c.estimate, c.relative) {
        (Against::Reference, Some(e), Some(r)) => {
            format!(
                "{}{} ({:+.1} %)",
                if e < 0.0 { "−" } else { "+" },
                m.format(e.abs()),
                r * 100.0
            )
        }
        (Against::Reference, Some(e), None) => {
            format!("{}{}", if e < 0.0 { "−" } else { "+" }, m.format(e.abs()))
        }
        (Against::ProjectedField, _, Some(r)) => format!("{:+.1} %", r * 100.0),
        (Against::Field, _, _) => match (c.candidate, c.reference) {
            // Shares differ in percentage points, as in every other format.
            (Some(lab), Some(field)) if is_share(c) => format!("{:+.1} pp", (lab - field) * 100.0),
            (Some(lab), Some(field)) if field > 0.0 => percent(lab / field - 1.0),
            _ => "–".into(),
        },
        _ => "–".into(),
    }
}

fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-4 => "<0.0001".into(),
        Some(p) => format!("{p:.4}"),
        None => "–".into(),
    }
}

/// Renders the verdict of a results document: table, reasons for everything
/// that is not "no change", page health problems, notes and the final line.
/// Empty when the document has no verdict.
pub fn render(results: &Results, color: bool) -> String {
    let Some(gate) = &results.verdict else {
        return String::new();
    };
    let header = [
        "page",
        "profile",
        "metric",
        "vs",
        "candidate",
        "baseline",
        "change",
        "adj. p",
        "verdict",
    ];
    let rows: Vec<[String; 9]> = gate
        .comparisons
        .iter()
        .map(|c| {
            let share = is_share(c);
            [
                inert(&c.page).into_owned(),
                inert(&c.profile).into_owned(),
                c.metric.to_string(),
                match c.against {
                    Against::Reference => "reference".into(),
                    Against::Field => "field p75 (info)".into(),
                    Against::ProjectedField => "projected field p75".into(),
                },
                value(c.metric, c.candidate, share),
                value(c.metric, c.reference, share),
                change(c),
                p_text(c.p_adjusted),
                c.outcome.label().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} comparisons, α = {} (Holm over {} regression tests{})",
        gate.comparisons.len(),
        gate.alpha,
        gate.family_size,
        if gate.test_alpha < gate.alpha {
            format!(", this look at {:.4}", gate.test_alpha)
        } else {
            String::new()
        }
    );
    if !rows.is_empty() {
        let line: Vec<String> = header.iter().zip(widths).map(|(h, w)| pad(h, w)).collect();
        let _ = writeln!(out, "{}", paint(line.join("  ").trim_end(), DIM, color));
        for (r, c) in rows.iter().zip(&gate.comparisons) {
            let mut cells: Vec<String> = r.iter().zip(widths).map(|(s, w)| pad(s, w)).collect();
            if let Some(last) = cells.last_mut() {
                *last = paint(last.trim_end(), outcome_color(c.outcome), color);
            }
            let _ = writeln!(out, "{}", cells.join("  "));
        }
    }
    let explained: Vec<&ComparisonRecord> = gate
        .comparisons
        .iter()
        .filter(|c| c.outcome != OutcomeKind::NoChange || !c.notes.is_empty())
        .collect();
    if !explained.is_empty() {
        out.push('\n');
        for c in explained {
            let tag = paint(c.outcome.label(), outcome_color(c.outcome), color);
            let _ = writeln!(
                out,
                "{tag} {} [{}] {}: {}",
                inert(&c.page),
                inert(&c.profile),
                c.metric,
                inert(&c.reason)
            );
            for n in &c.notes {
                let _ = writeln!(out, "  note: {}", inert(n));
            }
            if let Some(d) = &c.diagnosis {
                let _ = writeln!(out, "  why: {}", inert(&d.cause));
                for e in d.evidence() {
                    let _ = writeln!(out, "    {}", inert(&e));
                }
            }
        }
    }
    let sick: Vec<_> = gate
        .health
        .iter()
        .filter(|p| p.failed > 0 || !p.enough)
        .collect();
    if !sick.is_empty() {
        out.push('\n');
        for p in sick {
            let _ = writeln!(
                out,
                "{} {} [{}] {}: {} of {} visits failed{}",
                if p.enough { "note:" } else { "INCONCLUSIVE" },
                inert(&p.page),
                inert(&p.profile),
                p.variant,
                p.failed,
                p.valid + p.failed,
                p.first_error
                    .as_ref()
                    .map(|e| format!(" (first error: {})", inert(e)))
                    .unwrap_or_default()
            );
        }
    }
    if !gate.notes.is_empty() {
        out.push('\n');
        for n in &gate.notes {
            let _ = writeln!(out, "note: {}", inert(n));
        }
    }
    out.push('\n');
    let (word, code) = match gate.status {
        Status::Pass => ("PASS", GREEN),
        Status::Regressed => ("FAIL", RED),
        Status::Inconclusive => ("INCONCLUSIVE", YELLOW),
    };
    let _ = writeln!(
        out,
        "{}: {} (exit {})",
        paint(word, code, color),
        gate.summary,
        gate.exit_code
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Environment, RunMeta, ScenarioInfo};
    use crate::sample::Variant;
    use crate::verdict::{GateResult, GateStatus, PageHealth};

    fn results() -> Results {
        let gate = GateResult {
            status: GateStatus::Inconclusive,
            alpha: 0.05,
            test_alpha: 0.05,
            family_size: 0,
            comparisons: Vec::new(),
            pages: vec![PageHealth {
                page: "home".into(),
                profile: "default".into(),
                variant: Variant::Candidate,
                valid: 2,
                failed: 8,
                first_error: Some("chromedriver crashed".into()),
                enough: false,
            }],
            notes: vec!["nothing to compare with".into()],
        };
        let meta = RunMeta {
            scenario: ScenarioInfo {
                name: "t".into(),
                base_url: "http://127.0.0.1/".into(),
                runs: 10,
                pages: vec!["home".into()],
            },
            profiles: Vec::new(),
            environment: Environment::detect(""),
        };
        Results::new(meta, &[], Some(&gate))
    }

    #[test]
    fn plain_output_has_no_escape_codes_and_says_why() {
        let text = render(&results(), false);
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("INCONCLUSIVE home [default] candidate: 8 of 10 visits failed (first error: chromedriver crashed)"), "{text}");
        assert!(
            text.ends_with("INCONCLUSIVE: nothing compared (exit 3)\n"),
            "{text}"
        );
    }

    #[test]
    fn colour_marks_the_status() {
        let text = render(&results(), true);
        assert!(
            text.contains("\x1b[33mINCONCLUSIVE\x1b[0m: nothing compared"),
            "{text}"
        );
    }
}
