use super::*;

const SHOP: &str = r##"
name = "shop"
base_url = "http://127.0.0.1:8080"
runs = 10
viewport = { width = 1280, height = 800 }

[[page]]
name = "product"
path = "/product/1"
steps = [ { wait_for = "#buy" }, { click = "#buy" }, { wait_ms = 500 }, { type = { selector = "#q", text = "shoes" } }, { scroll = 600 } ]
"##;

fn err(text: &str) -> String {
    parse(text, Path::new("s.toml")).unwrap_err().to_string()
}

#[test]
fn the_minimal_shape_from_the_issue_parses() {
    let s = parse(SHOP, Path::new("shop.toml")).unwrap();
    assert_eq!(s.scenario.runs, 10);
    assert_eq!(s.scenario.pages[0].steps.len(), 5);
    assert_eq!(
        s.scenario.pages[0].steps[3],
        Step::Type(TypeStep {
            selector: "#q".into(),
            text: "shoes".into()
        })
    );
    assert_eq!(s.url_of("/product/1"), "http://127.0.0.1:8080/product/1");
    assert_eq!(s.scenario.cache, Cache::Cold);
    assert_eq!(s.scenario.retries, 2);
}

#[test]
fn journeys_name_their_visits() {
    let text = SHOP.replace(
        "{ scroll = 600 } ]",
        "{ navigate = \"/cart/view\" }, { navigate = { path = \"/checkout\", name = \"pay\" } } ]",
    );
    let s = parse(&text, Path::new("shop.toml")).unwrap();
    let names: Vec<String> = s.scenario.pages[0]
        .steps
        .iter()
        .filter_map(|st| {
            if let Step::Navigate(n) = st {
                Some(n.name())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(names, ["cart-view", "pay"]);
}

#[test]
fn unknown_keys_point_at_file_line_column() {
    let e = err(&SHOP.replace("runs = 10", "runz = 10"));
    assert!(e.starts_with("s.toml:4:1: unknown field `runz`"), "{e}");
    assert!(e.contains("hint:"), "{e}");
}

#[test]
fn unknown_steps_list_the_valid_ones() {
    let e = err(&SHOP.replace("{ click = \"#buy\" }", "{ clik = \"#buy\" }"));
    assert!(e.starts_with("s.toml:10:"), "{e}");
    assert!(
        e.contains("unknown variant `clik`") && e.contains("{ click = \"css\" }"),
        "{e}"
    );
}

#[test]
fn type_errors_say_so() {
    let e = err(&SHOP.replace("runs = 10", "runs = \"ten\""));
    assert!(e.starts_with("s.toml:4:8: invalid type"), "{e}");
}

#[test]
fn bad_selectors_fail_at_load_with_their_line() {
    let e = err(&SHOP.replace("{ click = \"#buy\" }", "{ click = \"button[name=buy\" }"));
    assert!(e.starts_with("s.toml:10:"), "{e}");
    assert!(
        e.contains("invalid CSS selector") && e.contains("'[' is not closed"),
        "{e}"
    );
}

#[test]
fn bad_values_are_rejected() {
    assert!(
        err(&SHOP.replace("http://127.0.0.1:8080", "ftp://x")).contains("base_url: scheme 'ftp'")
    );
    assert!(err(&SHOP.replace("runs = 10", "runs = 0")).contains("runs must be at least 1"));
    let twice = format!("{SHOP}\n[[page]]\nname = \"product\"\npath = \"/\"\n");
    assert!(err(&twice).contains("used twice"));
    let agent = SHOP.replace(
        "runs = 10",
        "runs = 10\nrum_agent = { script = \"nope.js\", beacon = \"*\" }",
    );
    let e = err(&agent);
    assert!(
        e.contains("rum_agent script") && e.contains("relative to the scenario"),
        "{e}"
    );
}

#[test]
fn selector_check_accepts_real_selectors() {
    for ok in [
        "#buy",
        "button.add[data-x=\"a]b\"]",
        "ul > li:nth-child(2)",
        "a[href^='/p']",
        "div\\.x",
    ] {
        selector::check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in ["", "> a", "a >", "a[b", "a)", "a[\"x]", "..x"] {
        assert!(selector::check(bad).is_err(), "{bad}");
    }
}

#[test]
fn overrides_are_validated() {
    let mut s = parse(SHOP, Path::new("shop.toml")).unwrap();
    s.override_base_url("http://127.0.0.1:9/shop/").unwrap();
    assert_eq!(s.url_of("p"), "http://127.0.0.1:9/shop/p");
    assert!(
        s.override_base_url("nope")
            .unwrap_err()
            .to_string()
            .starts_with("--base-url \"nope\"")
    );
    assert!(s.override_runs(0).is_err());
}

#[test]
fn profiles_resolve_presets_and_default_to_one() {
    let s = parse(SHOP, Path::new("shop.toml")).unwrap();
    assert_eq!(s.scenario.profiles.len(), 1);
    assert_eq!(s.scenario.profiles[0].name, "default");
    let text = SHOP.replace(
        "[[page]]",
        "[[profile]]\nname = \"phone\"\npreset = \"lighthouse-mobile\"\n\n[[page]]",
    );
    let s = parse(&text, Path::new("shop.toml")).unwrap();
    let p = &s.scenario.profiles[0];
    assert_eq!(p.network.map(|n| n.rtt_ms), Some(150.0), "{p:?}");
    assert!(p.needs_proxy());
}

#[cfg(test)]
mod hardening;
