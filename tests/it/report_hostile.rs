//! Hostile input: a payload that breaks out of HTML text, attributes, CDATA
//! and lines goes through every string field (page, profile, URL, error,
//! reason, notes, step log, screenshot, browser, baseline page/segment/LCP
//! bucket, scenario name and base URL). The HTML must contain no element or
//! attribute the report did not write itself, and the XML must parse and give
//! the payload back verbatim.

use crate::report_fixture::{self, Fixture};
use quick_xml::events::Event;
use rumcheck::report::{Format, ReportInput, github};

fn render(format: Format, f: &Fixture) -> String {
    let input = ReportInput::new(&f.results, &f.candidate)
        .with_reference(&f.reference)
        .with_baseline(Some(&f.baseline));
    String::from_utf8(format.reporter().render(&input).unwrap()).unwrap()
}

/// The hostile fixture's HTML report (also opened by the browser test).
pub fn hostile_html() -> String {
    render(Format::Html, &report_fixture::hostile())
}

const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "span",
    "p",
    "dl",
    "dt",
    "dd",
    "section",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "small",
    "div",
    "figure",
    "figcaption",
    "svg",
    "line",
    "text",
    "path",
    "circle",
    "details",
    "summary",
    "img",
    "footer",
];
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "class",
    "id",
    "data-outcome",
    "data-metric",
    "xmlns",
    "viewBox",
    "width",
    "height",
    "role",
    "aria-label",
    "x1",
    "y1",
    "x2",
    "y2",
    "x",
    "y",
    "text-anchor",
    "d",
    "cx",
    "cy",
    "r",
    "open",
    "alt",
    "src",
];

/// Parses the HTML as XML (the report writes well-formed markup) and checks
/// every element and attribute against what the report itself writes.
/// Returns the number of `<img>` elements.
fn check_markup(html: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(html);
    reader.config_mut().check_end_names = true;
    let mut images = 0;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!("not well-formed at byte {}: {e}", reader.buffer_position())
        });
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert!(
                    ELEMENTS.contains(&name.as_str()),
                    "injected element <{name}>"
                );
                for attr in e.attributes() {
                    let attr = attr.expect("well-formed attribute");
                    let key = String::from_utf8(attr.key.as_ref().to_vec()).unwrap();
                    assert!(
                        ATTRIBUTES.contains(&key.as_str()),
                        "injected attribute {key} on <{name}>"
                    );
                    if key == "src" {
                        let v = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap();
                        assert!(
                            v.starts_with("data:image/png;base64,iVBORw0KGgo"),
                            "src {v}"
                        );
                    }
                }
                if name == "img" {
                    images += 1;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    images
}

#[test]
fn the_html_report_has_no_injected_element_or_attribute() {
    let html = hostile_html();
    assert!(!html.contains("<script"), "a raw <script> reached the HTML");
    assert!(!html.contains("<img src=x"), "a raw <img> reached the HTML");
    // Exactly the two real screenshots (failed visit, outlier visit); the
    // hostile screenshot string is not a PNG and is left out.
    assert_eq!(check_markup(&html), 2);
    // The payload is there, as text.
    assert!(
        html.contains("&lt;script&gt;window.__xss=1;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;"),
        "payload not shown as text"
    );
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn the_clean_html_report_is_well_formed_too() {
    let html = render(Format::Html, &report_fixture::load());
    assert_eq!(check_markup(&html), 2);
    // One plot per compared or measured gated metric and group:
    // home: ttfb fcp lcp cls; checkout: ttfb fcp lcp cls inp.
    assert_eq!(html.matches("<svg class=\"ecdf\"").count(), 9);
}

#[test]
fn the_junit_xml_parses_and_gives_the_payload_back() {
    let f = report_fixture::hostile();
    let xml = render(Format::Junit, &f);
    let mut reader = quick_xml::Reader::from_str(&xml);
    reader.config_mut().check_end_names = true;
    let mut messages = Vec::new();
    let mut suites = Vec::new();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("invalid XML: {e}\n{xml}"))
        {
            Event::Start(e) | Event::Empty(e) => {
                for attr in e.attributes() {
                    let attr = attr.unwrap();
                    let v = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                    match (e.name().as_ref(), attr.key.as_ref()) {
                        (b"failure" | b"error", b"message") => messages.push(v),
                        (b"testsuite", b"name") => suites.push(v),
                        _ => {}
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(messages.len(), 3, "{xml}"); // 2 failures, 1 error
    // Line breaks are folded in attributes; everything else comes back verbatim.
    let folded = "<script>window.__xss=1;alert(1)</script>\"><img src=x onerror=window.__xss=2>]]>&amp; 'q' \"dq\" / line2";
    for m in &messages {
        assert!(m.contains(folded), "{m}");
    }
    assert!(
        suites
            .iter()
            .all(|s| s.starts_with("home<script>") || s.starts_with("checkout<script>")),
        "{suites:?}"
    );
}

#[test]
fn markdown_and_annotations_stay_inert() {
    let f = report_fixture::hostile();
    let md = render(Format::Markdown, &f);
    assert!(!md.contains("<script") && !md.contains("<img"), "{md}");
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        // A cell's pipes are escaped, so every row has the header's column count.
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(cells == 11 || cells == 9 || cells == 6, "{cells}: {line}");
    }
    let notes = github::annotations(&f.results);
    let lines: Vec<&str> = notes.lines().collect();
    assert_eq!(lines.len(), 4, "{notes}"); // 2 regressed (lab and projected field), 1 warning, 1 inconclusive
    for l in lines {
        assert!(
            l.starts_with("::error title=") || l.starts_with("::warning title="),
            "{l}"
        );
        let (props, _) = l
            .split_once("::")
            .map(|(_, rest)| rest.split_once("::").unwrap())
            .unwrap();
        assert!(
            !props["error title=".len().min(props.len())..].contains(','),
            "{props}"
        );
    }
}

/// Terminal and CI payloads: an ESC sequence (window title, clear screen)
/// and a line that GitHub Actions would run as a workflow command.
const TERMINAL_PAYLOAD: &str = "\x1b]0;pwned\x07\x1b[2J\n::error::pwn\r\n  ::warning::x\u{202e}";

#[test]
fn markdown_and_annotations_carry_no_escape_bytes_or_workflow_commands() {
    let f = report_fixture::hostile_with(TERMINAL_PAYLOAD);
    let md = render(Format::Markdown, &f);
    assert!(!md.contains(['\x1b', '\x07', '\r', '\u{202e}']), "{md:?}");
    for line in md.lines() {
        assert!(!line.trim_start().starts_with("::"), "{line:?}");
    }
    // The payload is still visible, escaped.
    assert!(md.contains("\\u{1b}]0;pwned"), "{md}");
    let notes = github::annotations(&f.results);
    assert_eq!(notes.lines().count(), 4, "{notes}");
    assert!(
        !notes.contains(['\x1b', '\x07', '\r', '\u{202e}']),
        "{notes:?}"
    );
    for l in notes.lines() {
        assert!(
            l.starts_with("::error title=") || l.starts_with("::warning title="),
            "{l}"
        );
    }
}
