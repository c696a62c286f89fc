//! `rumcheck init URL`: a starter scenario a team can run at once and grow.

use super::ScenarioError;

/// Writes the text of a starter scenario for `url`: one page, the phone and
/// desktop profiles Lighthouse users know, and a run count that gives the
/// gate useful power (see docs/statistics.md).
pub fn starter(url: &str) -> Result<String, ScenarioError> {
    let parsed = url::Url::parse(url).map_err(|e| ScenarioError::Override {
        flag: "URL",
        value: url.to_string(),
        message: format!("{e}; give a full URL such as https://shop.example.com/product/1"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ScenarioError::Override {
            flag: "URL",
            value: url.to_string(),
            message: "only http and https URLs can be measured".into(),
        });
    }
    let host = parsed.host_str().unwrap_or("site");
    let base = format!(
        "{}://{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default()
    ) + &parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path = format!("{path}?{q}");
    }
    let page = parsed
        .path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_string))
        .unwrap_or_else(|| "home".into());
    let page: String = page
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(format!(
        r##"# rumcheck scenario for {host}, written by `rumcheck init`.
# Reference: README.md, "Scenario reference".
name = "{host}"
base_url = "{base}"     # --base-url overrides (e.g. a preview deployment)
runs = 30               # visits per page and profile: 90 % power for +20 % LCP at 15 % spread (docs/statistics.md)
max_runs = 60           # cap for --runs auto
cache = "cold"          # "warm" measures repeat views

# Field-like conditions. Each page runs under every profile; `segment` picks
# the matching real-user baseline segment.
[[profile]]
name = "phone"
preset = "lighthouse-mobile"   # slow 4G, 4x CPU, a mid-range phone
segment = {{ form_factor = "phone" }}

[[profile]]
name = "desktop"
preset = "lighthouse-desktop"
segment = {{ form_factor = "desktop" }}

[[page]]
name = "{page}"
path = "{path}"
# Steps run after load, as trusted input. Uncomment and adapt:
# steps = [ {{ wait_for = "main" }}, {{ click = "button" }}, {{ wait_ms = 500 }} ]
"##
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_page_after_the_last_path_segment() {
        let text = starter("https://shop.example.com:8443/product/42?ref=x").unwrap();
        assert!(
            text.contains("base_url = \"https://shop.example.com:8443\""),
            "{text}"
        );
        assert!(
            text.contains("name = \"42\"") && text.contains("path = \"/product/42?ref=x\""),
            "{text}"
        );
        assert!(
            starter("http://127.0.0.1:8080/")
                .unwrap()
                .contains("name = \"home\"")
        );
    }

    #[test]
    fn the_starter_is_a_valid_scenario_with_phone_and_desktop() {
        let text = starter("http://127.0.0.1:8080/p/1").unwrap();
        let s = crate::scenario::parse(&text, std::path::Path::new("rumcheck.toml")).unwrap();
        let names: Vec<&str> = s
            .scenario
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["phone", "desktop"]);
        assert!(s.scenario.profiles[0].needs_proxy() && s.scenario.profiles[0].cpu_slowdown == 4.0);
        assert_eq!(s.scenario.runs, 30);
    }

    #[test]
    fn rejects_what_cannot_be_measured() {
        assert!(
            starter("shop.example.com")
                .unwrap_err()
                .to_string()
                .contains("give a full URL")
        );
        assert!(
            starter("ftp://x/")
                .unwrap_err()
                .to_string()
                .contains("only http and https")
        );
    }
}
