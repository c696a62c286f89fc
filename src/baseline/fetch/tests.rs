//! Unit tests for the pure parts of `fetch-crux`: targets, request bodies and
//! URLs, retry delays, error details. The HTTP exchange itself is tested
//! against a loopback server in tests/it/baseline_fetch.rs.

use super::*;
use serde_json::json;

fn key() -> ApiKey {
    ApiKey::new(Some("k3y-SECRET")).unwrap()
}

#[test]
fn origins_are_normalised_and_paths_refused() {
    assert_eq!(
        Target::origin("https://github.com/").unwrap(),
        Target::Origin("https://github.com".into())
    );
    assert_eq!(
        Target::origin(" HTTPS://GitHub.com ").unwrap().as_str(),
        "https://github.com"
    );
    let e = Target::origin("https://github.com/marketplace").unwrap_err();
    assert!(e.to_string().contains("--url"), "{e}");
    for bad in ["github.com", "ftp://github.com", "", "https://"] {
        assert!(Target::origin(bad).is_err(), "{bad}");
        assert!(Target::url(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Target::url("https://github.com/marketplace?type=actions")
            .unwrap()
            .as_str(),
        "https://github.com/marketplace?type=actions",
        "the API normalises URLs itself"
    );
}

#[test]
fn request_bodies_name_the_target_and_the_form_factor() {
    let origin = Target::origin("https://github.com").unwrap();
    assert_eq!(
        request_body(&origin, FormFactor::Phone),
        json!({"origin": "https://github.com", "formFactor": "PHONE"})
    );
    assert_eq!(
        request_body(&origin, FormFactor::All),
        json!({"origin": "https://github.com"}),
        "all form factors: no formFactor"
    );
    let url = Target::url("https://github.com/").unwrap();
    assert_eq!(
        request_body(&url, FormFactor::Tablet),
        json!({"url": "https://github.com/", "formFactor": "TABLET"})
    );
}

#[test]
fn request_urls_append_the_method_and_the_key() {
    let ep = parse_endpoint(DEFAULT_ENDPOINT).unwrap();
    let u = request_url(&ep, false, &key()).unwrap();
    assert_eq!(
        u.as_str(),
        "https://chromeuxreport.googleapis.com/v1/records:queryRecord?key=k3y-SECRET"
    );
    let ep = parse_endpoint("http://127.0.0.1:8080/base/").unwrap();
    assert_eq!(
        request_url(&ep, true, &key()).unwrap().as_str(),
        "http://127.0.0.1:8080/base/records:queryHistoryRecord?key=k3y-SECRET"
    );
    assert_eq!(
        method_url(&ep, true),
        "http://127.0.0.1:8080/base/records:queryHistoryRecord",
        "shown without the key"
    );
}

#[test]
fn endpoints_must_be_http_or_https() {
    for bad in [
        "file:///tmp/x",
        "ftp://example.com",
        "localhost:8080",
        "https://h/?a=1",
    ] {
        let e = parse_endpoint(bad).unwrap_err();
        assert!(e.to_string().contains("RUMCHECK_CRUX_ENDPOINT"), "{e}");
    }
    assert!(parse_endpoint("http://localhost:1/v1").is_ok());
}

#[test]
fn keys_are_required_and_never_shown() {
    for missing in [None, Some(""), Some("  ")] {
        let e = ApiKey::new(missing).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("--key") && text.contains("CRUX_API_KEY"),
            "{text}"
        );
    }
    let opts = FetchOptions::new(
        Target::origin("https://github.com").unwrap(),
        key(),
        parse_endpoint(DEFAULT_ENDPOINT).unwrap(),
    );
    assert!(!format!("{opts:?}").contains("SECRET"));
    assert_eq!(key().scrub("GET /?key=k3y-SECRET"), "GET /?key=[key]");
}

#[test]
fn form_factors_parse_in_either_case() {
    assert_eq!("PHONE".parse::<FormFactor>().unwrap(), FormFactor::Phone);
    assert_eq!(
        "desktop".parse::<FormFactor>().unwrap(),
        FormFactor::Desktop
    );
    assert_eq!("all".parse::<FormFactor>().unwrap(), FormFactor::All);
    let e = "watch".parse::<FormFactor>().unwrap_err();
    assert!(e.to_string().contains("phone, desktop, tablet"), "{e}");
}

#[test]
fn retry_after_takes_seconds_or_an_http_date() {
    let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
        Some(Duration::ZERO),
        "a past date: no wait"
    );
    for junk in ["", "soon", "-5", "1.5"] {
        assert_eq!(parse_retry_after(junk, now), None, "{junk}");
    }
}

#[test]
fn retry_delays_double_are_capped_and_honour_retry_after() {
    let r = Retry::default();
    let now = SystemTime::now();
    let waits: Vec<u64> = (1..=7)
        .map(|n| retry_delay(&r, n, None, now).as_secs())
        .collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
    assert_eq!(
        retry_delay(&r, 1, Some("3"), now),
        Duration::from_secs(3),
        "Retry-After wins over the backoff"
    );
    assert_eq!(
        retry_delay(&r, 1, Some("86400"), now),
        r.max_retry_after,
        "but is bounded"
    );
    assert_eq!(
        retry_delay(&r, 2, Some("later"), now),
        Duration::from_secs(2),
        "an unreadable Retry-After falls back to the backoff"
    );
    assert_eq!(retry_delay(&r, u32::MAX, None, now), r.max);
}

#[test]
fn api_error_details_are_short_clean_and_keyless() {
    let body = br#"{"error": {"code": 400, "message": "API key not valid: k3y-SECRET\n", "status": "INVALID_ARGUMENT"}}"#;
    assert_eq!(
        api_detail(body, &key()),
        " INVALID_ARGUMENT API key not valid: [key]"
    );
    assert_eq!(api_detail(b"", &key()), "");
    assert_eq!(
        api_detail(b"<html>\r\nBad\tgateway</html>", &key()),
        " <html> Bad gateway</html>"
    );
    assert!(is_not_found(
        404,
        br#"{"error": {"code": 404, "message": "chrome ux report data not found", "status": "NOT_FOUND"}}"#
    ));
    assert!(
        !is_not_found(404, b"Not Found"),
        "a wrong endpoint is no 'no data'"
    );
}

#[test]
fn the_https_client_builds_with_the_ring_provider() {
    // Building the connector picks the rustls crypto provider; a second
    // provider enabled by some dependency would make this panic.
    let _client = http::Client::new();
}
