//! Text helpers shared by the formats: escaping and the numbers of a comparison.

use super::results::{ComparisonRecord, IntervalRecord};
use crate::metric::Metric;
use crate::verdict::{Against, TestKind};
use std::borrow::Cow;

/// Escapes for HTML/XML text and double- or single-quoted attributes, after
/// replacing characters XML 1.0 forbids (most C0 controls) with U+FFFD, so
/// the same string is safe in HTML, SVG and JUnit XML.
pub(crate) fn esc(s: &str) -> String {
    let cleaned: Cow<'_, str> = if s.chars().all(xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    };
    html_escape::encode_quoted_attribute(&cleaned).into_owned()
}

/// XML 1.0 `Char` production (without the surrogates Rust cannot hold).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Collapses line breaks so a string fits on one line (table cells, attributes).
pub(crate) fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Whether the comparison's values are shares (CrUX good-share test).
pub(crate) fn is_share(c: &ComparisonRecord) -> bool {
    matches!(
        c.test,
        TestKind::GoodShareBinomial | TestKind::FieldGoodShareOffset
    )
}

/// A value of the comparison in people's units.
pub(crate) fn value(c: &ComparisonRecord, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if is_share(c) => format!("{:.1} % good", v * 100.0),
        Some(v) => c.metric.format(v),
    }
}

/// A signed shift in the metric's unit (`+310 ms`).
pub(crate) fn signed(metric: Metric, v: f64) -> String {
    let s = metric.format(v.abs());
    if v < 0.0 {
        format!("−{s}")
    } else {
        format!("+{s}")
    }
}

/// A signed percentage (`+13.5 %`).
pub(crate) fn percent(v: f64) -> String {
    format!("{:+.1} %", v * 100.0)
}

fn bound(v: Option<f64>, f: impl Fn(f64) -> String, inf: &str) -> String {
    v.map_or_else(|| inf.to_string(), f)
}

fn interval_text(i: &IntervalRecord, f: impl Fn(f64) -> String + Copy) -> String {
    format!("[{}, {}]", bound(i.lower, f, "-∞"), bound(i.upper, f, "+∞"))
}

/// The change column: relative shift with its interval when known, else the
/// absolute estimate.
pub(crate) fn change(c: &ComparisonRecord) -> String {
    if matches!(c.against, Against::Reference | Against::ProjectedField) {
        if let Some(r) = c.relative {
            let mut s = percent(r);
            if let Some(i) = &c.relative_interval {
                s.push(' ');
                s.push_str(&interval_text(i, percent));
            }
            return s;
        }
        if let Some(e) = c.estimate {
            let mut s = signed(c.metric, e);
            if let Some(i) = &c.interval {
                s.push(' ');
                s.push_str(&interval_text(i, |v| signed(c.metric, v)));
            }
            return s;
        }
        return "–".into();
    }
    match (c.candidate, c.reference) {
        (Some(a), Some(b)) if b != 0.0 && !is_share(c) => percent(a / b - 1.0),
        (Some(a), Some(b)) if is_share(c) => format!("{:+.1} pp", (a - b) * 100.0),
        _ => "–".into(),
    }
}

/// A p-value for people.
pub(crate) fn p(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 0.0001 => "<0.0001".into(),
        Some(v) => format!("{v:.4}"),
    }
}

/// All the numbers of a comparison on one line (JUnit messages, annotations).
pub(crate) fn numbers(c: &ComparisonRecord) -> String {
    let mut parts = vec![match c.against {
        Against::Reference => format!(
            "candidate median {} vs reference {}",
            value(c, c.candidate),
            value(c, c.reference)
        ),
        Against::ProjectedField => format!(
            "projected real-user p75 {} vs today {}",
            value(c, c.candidate),
            value(c, c.reference)
        ),
        Against::Field => format!(
            "lab {} {} vs field {} (information only)",
            if is_share(c) { "share" } else { "p75" },
            value(c, c.candidate),
            value(c, c.reference)
        ),
    }];
    parts.push(format!("change {}", change(c)));
    if c.p_value.is_some() {
        parts.push(format!("p {} (Holm {})", p(c.p_value), p(c.p_adjusted)));
    }
    if let Some(t) = c.threshold {
        parts.push(format!("threshold {}", value(c, Some(t))));
    }
    parts.push(format!("n {}/{}", c.n_candidate, c.n_reference));
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_xml_forbidden_controls() {
        assert_eq!(
            esc("<a href=\"x\" title='y'>&\u{0}</a>"),
            "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;\u{FFFD}&lt;/a&gt;"
        );
        assert_eq!(esc("tab\tnew\nline"), "tab\tnew\nline");
    }

    #[test]
    fn one_line_joins_non_empty_lines() {
        assert_eq!(one_line("a\r\nb\n\nc"), "a / b / c");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the input, the escaped text holds no markup character
        /// and unescapes back to the input (controls aside).
        #[test]
        fn escaped_text_is_inert_and_reversible(s in "\\PC*|[<>&\"'\\]\\[!/=a-z \\n]{0,40}") {
            let e = esc(&s);
            prop_assert!(!e.contains(['<', '>', '"', '\'']));
            let back = html_escape::decode_html_entities(&e);
            prop_assert_eq!(back.as_ref(), s.as_str());
        }
    }
}
