//! `--html`: one self-contained file (no external requests, no scripts):
//! the verdict table; per page × profile the lab numbers beside the field
//! context, an ECDF plot per metric against the field distribution, and the
//! visits with step logs and screenshots of failed and outlier visits.
//!
//! Every string that comes from a scenario, URL, sample, error or baseline
//! goes through [`esc`]; the Content-Security-Policy forbids scripts too, as
//! a second line of defence. The markup is well-formed XML so tests can
//! parse it and check every element and attribute.

pub mod plot;
pub mod visits;

use super::results::{ComparisonRecord, Results};
use super::text::{change, esc, p, value};
use super::{ReportError, ReportInput, Reporter};
use crate::baseline::{Baseline, SegmentBaseline};
use crate::metric::Metric;
use crate::sample::{Sample, Variant};
use crate::segment::SegmentKey;
use plot::{FieldCurve, PlotData};
use std::fmt::Write;

/// Writes the HTML report.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlReporter;

impl Reporter for HtmlReporter {
    fn render(&self, input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render(input).into_bytes())
    }
}

const STYLE: &str = include_str!("style.css");

/// Renders the whole document.
pub fn render(input: &ReportInput<'_>) -> String {
    let r = input.results;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\"/>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
<title>rumcheck: {}</title><style>{STYLE}</style></head>\n<body>\n",
        esc(&r.scenario.name)
    );
    header(&mut out, r);
    verdict(&mut out, r);
    for (i, (page, profile)) in r.page_profiles().iter().enumerate() {
        group(&mut out, input, i, page, profile);
    }
    failed(&mut out, r);
    let e = &r.environment;
    let _ = writeln!(
        out,
        "<footer>rumcheck {} · results schema {} · generated {}</footer>\n</body></html>",
        esc(&e.rumcheck_version),
        r.schema,
        esc(&e.generated_at)
    );
    out
}

fn header(out: &mut String, r: &Results) {
    let (key, label, summary) = match &r.verdict {
        Some(v) => (
            format!("{:?}", v.status).to_lowercase(),
            v.status.label(),
            v.summary.clone(),
        ),
        None => (
            "measured".into(),
            "MEASURED",
            "no reference or baseline: nothing judged".into(),
        ),
    };
    let _ = writeln!(
        out,
        "<header><h1>rumcheck · <span class=\"scenario\">{}</span></h1>\n<p id=\"status\" class=\"status status-{key}\">{label}{}</p><p class=\"summary\">{}</p>",
        esc(&r.scenario.name),
        if r.partial {
            " (partial: run still going)"
        } else {
            ""
        },
        esc(&summary)
    );
    let e = &r.environment;
    let profiles: Vec<String> = r
        .profiles
        .iter()
        .map(|p| format!("{} → {}", p.name, SegmentKey::label(&p.segment)))
        .collect();
    let _ = writeln!(
        out,
        "<dl class=\"meta\"><dt>base URL</dt><dd class=\"url\">{}</dd><dt>runs</dt><dd>{}</dd><dt>pages</dt><dd>{}</dd><dt>profiles</dt><dd>{}</dd><dt>browser</dt><dd>{}</dd><dt>host</dt><dd>{} · {} core(s)</dd></dl></header>",
        esc(&r.scenario.base_url),
        r.scenario.runs,
        esc(&r.scenario.pages.join(", ")),
        esc(&profiles.join("; ")),
        esc(&e.browser),
        esc(&e.os),
        e.host_cores
    );
}

fn verdict(out: &mut String, r: &Results) {
    let Some(v) = &r.verdict else {
        return;
    };
    let _ = writeln!(
        out,
        "<section id=\"verdict\"><h2>Verdict</h2><p>α = {} over {} comparison(s) (Holm); tests at {}.</p>",
        v.alpha, v.family_size, v.test_alpha
    );
    out.push_str("<table class=\"verdict\"><thead><tr><th>outcome</th><th>page</th><th>profile</th><th>metric</th><th>vs</th><th>candidate</th><th>baseline</th><th>change</th><th>p (Holm)</th><th>reason</th></tr></thead><tbody>\n");
    let mut rows: Vec<&ComparisonRecord> = v.comparisons.iter().collect();
    rows.sort_by_key(|c| c.outcome);
    for c in rows {
        let notes = if c.notes.is_empty() {
            String::new()
        } else {
            format!("<br/><small>{}</small>", esc(&c.notes.join("; ")))
        };
        let notes = match &c.diagnosis {
            Some(d) => {
                let items: String = d
                    .evidence()
                    .iter()
                    .map(|e| format!("<br/><small>{}</small>", esc(e)))
                    .collect();
                format!(
                    "{notes}<div class=\"why\">why: {}{items}</div>",
                    esc(&d.cause)
                )
            }
            None => notes,
        };
        let _ = writeln!(
            out,
            "<tr class=\"outcome-{k}\" data-outcome=\"{k}\"><td class=\"outcome\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"reason\">{}{notes}</td></tr>",
            c.outcome.label(),
            esc(&c.page),
            esc(&c.profile),
            c.metric,
            esc(c.against.as_str()),
            esc(&value(c, c.candidate)),
            esc(&value(c, c.reference)),
            esc(&change(c)),
            p(c.p_adjusted),
            esc(&c.reason),
            k = c.outcome.key(),
        );
    }
    out.push_str("</tbody></table>\n");
    for n in &v.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(n));
    }
    out.push_str("</section>\n");
}

fn values<'s>(samples: &'s [Sample], page: &str, profile: &str) -> Vec<&'s Sample> {
    samples
        .iter()
        .filter(|s| s.page == page && s.profile == profile)
        .collect()
}

fn metric_values(samples: &[&Sample], m: Metric) -> Vec<f64> {
    samples.iter().filter_map(|s| s.metric(m)).collect()
}

fn group(out: &mut String, input: &ReportInput<'_>, i: usize, page: &str, profile: &str) {
    let r = input.results;
    // Tolerate a caller passing every sample as `candidate`: reference
    // visits are recognised by their variant either way.
    let (cand, mut reference): (Vec<&Sample>, Vec<&Sample>) =
        values(input.candidate, page, profile)
            .into_iter()
            .partition(|s| s.variant != Variant::Reference);
    reference.extend(values(input.reference, page, profile));
    let segment = r.segment_of(profile);
    let field: Option<&SegmentBaseline> = input
        .baseline
        .and_then(|b: &Baseline| b.find(page, &segment));
    let _ = writeln!(
        out,
        "<section class=\"group\" id=\"group-{i}\"><h2><span class=\"page\">{}</span> · <span class=\"profile\">{}</span></h2>\n<div class=\"side\">",
        esc(page),
        esc(profile)
    );
    // Metrics worth a plot: those compared, plus the gated ones measured.
    let compared: Vec<Metric> = r
        .verdict
        .iter()
        .flat_map(|v| &v.comparisons)
        .filter(|c| c.page == page && c.profile == profile)
        .map(|c| c.metric)
        .collect();
    let metrics: Vec<Metric> = Metric::ALL
        .into_iter()
        .filter(|m| {
            compared.contains(m)
                || (Metric::GATED.contains(m) && cand.iter().any(|s| s.metric(*m).is_some()))
        })
        .collect();
    lab_table(out, r, page, profile, &metrics, field);
    context(out, field);
    out.push_str("</div>\n<div class=\"plots\">\n");
    for &m in &metrics {
        let c = metric_values(&cand, m);
        let rf = metric_values(&reference, m);
        let curve = field
            .and_then(|f| f.metrics.get(&m))
            .and_then(FieldCurve::from_baseline);
        let _ = writeln!(
            out,
            "<figure class=\"plot\" data-metric=\"{m}\">{}<figcaption>{m}: share of visits at or below each value</figcaption></figure>",
            plot::svg(&PlotData {
                metric: m,
                candidate: &c,
                reference: &rf,
                field: curve.as_ref(),
            })
        );
    }
    out.push_str("</div>\n");
    let all: Vec<&Sample> = cand.iter().chain(reference.iter()).copied().collect();
    out.push_str(&visits::render(&all));
    out.push_str("</section>\n");
}

fn lab_table(
    out: &mut String,
    r: &Results,
    page: &str,
    profile: &str,
    metrics: &[Metric],
    field: Option<&SegmentBaseline>,
) {
    let cand = r.group(page, profile, &Variant::Candidate);
    let reference = r.group(page, profile, &Variant::Reference);
    let _ = writeln!(
        out,
        "<table class=\"lab\"><caption>lab: {} valid, {} failed visit(s){}</caption><thead><tr><th>metric</th><th>n</th><th>median</th><th>p75</th><th>p90</th><th>ref. median</th><th>field p75</th></tr></thead><tbody>",
        cand.map_or(0, |g| g.valid),
        cand.map_or(0, |g| g.failed),
        reference.map_or(String::new(), |g| format!(
            "; reference {} valid, {} failed",
            g.valid, g.failed
        ))
    );
    for &m in metrics {
        let s = cand.and_then(|g| g.metrics.get(&m));
        let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| m.format(v));
        let _ = writeln!(
            out,
            "<tr><td>{m}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            s.map_or(0, |s| s.n),
            fmt(s.map(|s| s.p50)),
            fmt(s.map(|s| s.p75)),
            fmt(s.map(|s| s.p90)),
            fmt(reference.and_then(|g| g.metrics.get(&m)).map(|s| s.p50)),
            fmt(field.and_then(|f| f.metrics.get(&m)).and_then(|b| b.p75)),
        );
    }
    out.push_str("</tbody></table>\n");
}

fn context(out: &mut String, field: Option<&SegmentBaseline>) {
    let Some(f) = field else {
        out.push_str("<div class=\"field-context\"><h3>Field</h3><p>No matching baseline segment.</p></div>\n");
        return;
    };
    let c = &f.context;
    let count = |v: Option<u64>| v.map_or("–".to_string(), |v| v.to_string());
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1} %", v * 100.0));
    let _ = writeln!(
        out,
        "<div class=\"field-context\"><h3>Field: <span class=\"segment\">{} · {}</span>{}</h3><dl><dt>page views</dt><dd>{}</dd><dt>sessions</dt><dd>{}</dd><dt>users</dt><dd>{}</dd><dt>bounce rate</dt><dd>{}</dd><dt>JS error rate</dt><dd>{}</dd></dl>",
        esc(&f.page),
        esc(&SegmentKey::label(&f.segment)),
        if f.too_small {
            " (too small to compare)"
        } else {
            ""
        },
        c.page_views,
        count(c.sessions),
        count(c.active_users),
        pct(c.bounce_rate),
        pct(c.js_error_rate)
    );
    if !c.bounce_rate_by_lcp.is_empty() {
        out.push_str("<table class=\"bounce\"><caption>bounce rate by landing-page LCP</caption><thead><tr><th>LCP</th><th>bounce rate</th></tr></thead><tbody>");
        for (bucket, rate) in &c.bounce_rate_by_lcp {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{:.1} %</td></tr>",
                esc(bucket),
                rate * 100.0
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</div>\n");
}

fn failed(out: &mut String, r: &Results) {
    if r.failed_visits.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"failed\"><h2>Failed visits ({})</h2><table class=\"failed\"><thead><tr><th>page</th><th>profile</th><th>variant</th><th>run</th><th>url</th><th>attempts</th><th>error</th></tr></thead><tbody>",
        r.failed_visits.len()
    );
    for f in &r.failed_visits {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"url\">{}</td><td class=\"num\">{}</td><td class=\"error\">{}</td></tr>",
            esc(&f.page),
            esc(&f.profile),
            esc(f.variant.as_str()),
            f.run,
            esc(&f.url),
            f.attempts,
            esc(&f.error)
        );
    }
    out.push_str("</tbody></table></section>\n");
}
