//! The checks added after the hardening review: origins, control
//! characters, bounds, and messages that point at the real line.

use super::*;

const BASE: &str = r##"name = "shop"
base_url = "http://127.0.0.1:8080"

[[page]]
name = "home"
path = "/"
"##;

fn page(extra: &str) -> String {
    format!("{BASE}{extra}\n")
}

#[test]
fn a_file_url_page_is_refused_with_its_line() {
    let e = err(&BASE.replace("path = \"/\"", "path = \"file:///etc/hostname\""));
    assert!(
        e.starts_with("s.toml:6:8: page \"home\": path \"file:///etc/hostname\" is a file: URL"),
        "{e}"
    );
    assert!(e.contains("allow_origins"), "{e}");
}

#[test]
fn javascript_and_foreign_navigations_are_refused() {
    let e = err(&page(
        "steps = [ { wait_ms = 1 },\n  { navigate = \"javascript:alert(1)\" } ]",
    ));
    assert!(e.starts_with("s.toml:8:16:"), "{e}");
    assert!(e.contains("is a javascript: URL"), "{e}");
    let e = err(&page(
        "steps = [ { navigate = { path = \"https://evil.example/x\", name = \"x\" } } ]",
    ));
    assert!(e.starts_with("s.toml:7:"), "{e}");
    assert!(
        e.contains("leaves the base URL's origin http://127.0.0.1:8080 for https://evil.example"),
        "{e}"
    );
}

#[test]
fn allow_origins_lets_a_page_leave_the_base_origin() {
    let ok = page(
        "steps = [ { navigate = \"https://cdn.example/a\" } ]\nallow_origins = [\"https://cdn.example\"]",
    );
    parse(&ok, Path::new("s.toml")).unwrap();
    let wide = format!(
        "allow_origins = [\"https://cdn.example\"]\n{}",
        page("steps = [ { navigate = \"https://cdn.example/a\" } ]")
    );
    parse(&wide, Path::new("s.toml")).unwrap();
    // The port is part of the origin.
    let e = err(&page(
        "steps = [ { navigate = \"https://cdn.example:8443/a\" } ]\nallow_origins = [\"https://cdn.example\"]",
    ));
    assert!(e.contains("leaves the base URL's origin"), "{e}");
    let e = err(&page("allow_origins = [\"file:///\"]"));
    assert!(
        e.contains("allow_origins entry \"file:///\" is not an http(s) origin"),
        "{e}"
    );
    assert!(e.starts_with("s.toml:7:18:"), "{e}");
}

#[test]
fn a_base_url_override_rechecks_absolute_page_urls() {
    let text = BASE.replace("path = \"/\"", "path = \"http://127.0.0.1:8080/a\"");
    let mut s = parse(&text, Path::new("s.toml")).unwrap();
    let e = s
        .override_base_url("http://staging.example/")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--base-url \"http://staging.example/\": page \"home\""),
        "{e}"
    );
}

#[test]
fn control_characters_in_names_are_refused_with_their_line() {
    let e = err(&BASE.replace("name = \"home\"", "name = \"ho\\nme\""));
    assert!(
        e.starts_with("s.toml:5:8: page name \"ho\\nme\" contains a control character"),
        "{e}"
    );
    let e = err(&page("[[profile]]\nname = \"m\\u001b]0;x\\u0007\""));
    assert!(e.starts_with("s.toml:8:8: profile name"), "{e}");
    let e = err(&page(
        "[[profile]]\nname = \"m\"\nsegment = { country = \"de\\r\" }",
    ));
    assert!(
        e.contains("segment.country \"de\\r\" contains a control character"),
        "{e}"
    );
    let e = err(&page(
        "steps = [ { navigate = { path = \"/b\", name = \"b\\u001b[2J\" } } ]",
    ));
    assert!(e.contains("step name \"b\\u{1b}[2J\""), "{e}");
    let e = err(&page("field_page = \"/p\\t\""));
    assert!(
        e.starts_with("s.toml:7:14: page \"home\": field_page \"/p\\t\""),
        "{e}"
    );
}

#[test]
fn absurd_viewports_and_cpu_slowdowns_are_refused() {
    let e = err(&format!(
        "viewport = {{ width = 100000000, height = 100000000 }}\n{BASE}"
    ));
    assert!(
        e.starts_with("s.toml:1:22: viewport width = 100000000 is outside 1 to 10000 CSS px"),
        "{e}"
    );
    let e = err(&page("[[profile]]\nname = \"m\"\ncpu_slowdown = 1000"));
    assert!(
        e.starts_with("s.toml:9:16: profile \"m\": cpu_slowdown = 1000 is above 20"),
        "{e}"
    );
    parse(
        &page("[[profile]]\nname = \"m\"\ncpu_slowdown = 20"),
        Path::new("s.toml"),
    )
    .unwrap();
}

#[test]
fn a_selector_with_escaped_quotes_is_reported_on_its_own_line() {
    // The quoted value is not in the text verbatim: the old search found 1:1.
    let text = page("steps = [\n  { wait_ms = 1 },\n  { click = \"a[href=\\\"x\\\"\" },\n]");
    let e = err(&text);
    assert!(
        e.starts_with("s.toml:9:13: page \"home\", step `click a[href=\"x\"`"),
        "{e}"
    );
    let text = page("steps = [ { type = { text = \"x\", selector = 'p >' } } ]");
    let e = err(&text);
    assert!(e.starts_with("s.toml:7:45:"), "{e}");
}

#[test]
fn an_unknown_engine_or_cache_lists_that_fields_values_not_step_types() {
    let e = err(&page("[[profile]]\nname = \"m\"\nengine = \"tc\""));
    assert!(e.contains("hint: `engine` takes `proxy` or `cdp`"), "{e}");
    assert!(!e.contains("wait_for"), "{e}");
    let e = err(&format!("cache = \"lukewarm\"\n{BASE}"));
    assert!(e.contains("hint: `cache` takes `cold` or `warm`"), "{e}");
    // A bad step still lists the step types.
    let e = err(&page("steps = [ { clik = \"#a\" } ]"));
    assert!(e.contains("a step is one of"), "{e}");
}

#[test]
fn a_binary_file_is_named_as_not_a_text_toml_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(&f, b"name = \"x\"\n\xff\xfe\x00binary").unwrap();
    let e = load(&f).unwrap_err().to_string();
    assert!(
        e.contains("s.toml' is not a text TOML file: byte 11 is not UTF-8"),
        "{e}"
    );
    std::fs::write(&f, b"\x00\x01\x02").unwrap();
    let e = load(&f).unwrap_err().to_string();
    assert!(
        e.contains("is not a text TOML file: byte 0 is a NUL byte"),
        "{e}"
    );
}

#[test]
fn an_unknown_profile_preset_says_so_once_and_lists_the_presets() {
    let e = err(&page("[[profile]]\nname = \"m\"\npreset = \"mobile\""));
    assert!(
        e.contains("unknown profile preset \"mobile\"; valid presets: lighthouse-mobile"),
        "{e}"
    );
    assert!(!e.contains("preset preset"), "{e}");
}

#[test]
fn positions_inside_multibyte_characters_never_panic() {
    let text = "name = \"é\"\nbase_url = \"ü\"\n";
    for offset in 0..=text.len() + 2 {
        let (line, column) = line_col(text, offset);
        assert!(line >= 1 && column >= 1);
        let _ = key_at(text, offset);
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the file holds, loading it gives a scenario or an error.
        #[test]
        fn on_any_text(tail in "(\\PC|[\\n\"'=\\[\\]{},])*") {
            let _ = parse(&tail, Path::new("s.toml"));
            let _ = parse(&format!("{BASE}{tail}"), Path::new("s.toml"));
        }
    }
}

#[test]
fn browser_args_must_be_switches_and_name_their_line() {
    let text = BASE.replace(
        "base_url = \"http://127.0.0.1:8080\"",
        "base_url = \"http://127.0.0.1:8080\"\nbrowser_args = [\"--no-sandbox\", \"http://evil.example\"]",
    );
    let e = err(&text);
    assert!(e.starts_with("s.toml:3:33:"), "{e}");
    assert!(
        e.contains("browser_args entry \"http://evil.example\" is not a browser switch"),
        "{e}"
    );
}
