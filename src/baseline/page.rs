//! Page keys from URLs, and segment values from what exports carry
//! (form-factor names, user agents, effective connection types).

use super::options::{PageBy, SegmentDim};
use super::record::trim;

/// Segment values found in one row, before `--segment-by` picks the dimensions.
#[derive(Debug, Clone, Default)]
pub struct SegmentValues {
    /// phone / tablet / desktop.
    pub form_factor: Option<&'static str>,
    /// Effective connection type.
    pub connection: Option<&'static str>,
    /// Upper-case country code.
    pub country: Option<Country>,
    /// Browser family.
    pub browser: Option<&'static str>,
}

impl SegmentValues {
    /// The values of the selected dimensions, in [`Record::segment`](super::record::Record) order.
    pub fn key(&self, dims: &[SegmentDim]) -> [Option<&str>; 4] {
        let on = |d| dims.contains(&d);
        [
            self.form_factor.filter(|_| on(SegmentDim::FormFactor)),
            self.connection.filter(|_| on(SegmentDim::Connection)),
            self.country
                .as_ref()
                .map(Country::as_str)
                .filter(|_| on(SegmentDim::Country)),
            self.browser.filter(|_| on(SegmentDim::Browser)),
        ]
    }

    /// Fills form factor and browser from a user agent where not yet known.
    pub fn from_ua(&mut self, ua: &str) {
        if self.form_factor.is_none() {
            self.form_factor = form_factor_from_ua(ua);
        }
        if self.browser.is_none() {
            self.browser = browser_from_ua(ua);
        }
    }
}

/// Writes the page key of `url` into `out` (cleared first): query string and
/// fragment dropped, origin dropped, trailing slash trimmed; with
/// [`PageBy::Template`] numeric and hash-like segments become `:id`. E-mail
/// addresses in a path always become `:id` (they are identifiers).
/// Returns false when there is no page.
pub fn page_key(url: &str, by: PageBy, out: &mut String) -> bool {
    out.clear();
    if by == PageBy::None {
        out.push('*');
        return true;
    }
    let url = trim(url);
    if url.is_empty() {
        return false;
    }
    let no_query = &url[..memchr::memchr2(b'?', b'#', url.as_bytes()).unwrap_or(url.len())];
    let path = match scheme_end(no_query) {
        Some(i) => {
            let after = &no_query[i..];
            memchr::memchr(b'/', after.as_bytes()).map_or("/", |j| &after[j..])
        }
        None => no_query,
    };
    // Split on bytes: `str::split` searches for each '/' with a call.
    for seg in path
        .as_bytes()
        .split(|&c| c == b'/')
        .filter(|s| !s.is_empty())
    {
        // Cut at ASCII '/', so the piece's bounds are char boundaries.
        let at = seg.as_ptr() as usize - path.as_ptr() as usize;
        let seg = &path[at..at + seg.len()];
        out.push('/');
        // A byte loop: segments are short, a `memchr` call costs more.
        let email = seg.bytes().any(|c| c == b'@');
        let fold = email || (by == PageBy::Template && is_id_like(seg));
        out.push_str(if fold { ":id" } else { seg });
    }
    if out.is_empty() {
        out.push('/');
    }
    true
}

/// The index just past the first `://`, if any.
fn scheme_end(url: &str) -> Option<usize> {
    // The usual case without a search.
    for scheme in ["https://", "http://"] {
        if url.starts_with(scheme) {
            return Some(scheme.len());
        }
    }
    memchr::memchr_iter(b':', url.as_bytes())
        .find(|&i| url.as_bytes()[i + 1..].starts_with(b"//"))
        .map(|i| i + 3)
}

/// Numeric (`123`), UUID/hex (`3f9a0c1e…`) or long random tokens mixing
/// letters and digits: the parts of a path that name one item of many.
fn is_id_like(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let hexish = b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-');
    if hexish && b.len() >= 8 {
        return true;
    }
    let token = b.iter().all(u8::is_ascii_alphanumeric);
    token && b.len() >= 16
}

/// Normalises a form-factor value (`mobile`, `Phone`, `DESKTOP`, …).
pub fn form_factor(raw: &str) -> Option<&'static str> {
    let t = trim(raw);
    let is = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
    if is(&["phone", "mobile", "smartphone", "handset"]) {
        Some("phone")
    } else if is(&["tablet"]) {
        Some("tablet")
    } else if is(&["desktop", "pc", "laptop"]) {
        Some("desktop")
    } else {
        None
    }
}

/// Classifies a user agent into a form factor.
pub fn form_factor_from_ua(ua: &str) -> Option<&'static str> {
    if ua.trim().is_empty() {
        return None;
    }
    if ua.contains("iPad")
        || ua.contains("Tablet")
        || (ua.contains("Android") && !ua.contains("Mobile"))
    {
        Some("tablet")
    } else if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("Android") {
        Some("phone")
    } else {
        Some("desktop")
    }
}

/// Classifies a user agent into a browser family (order matters: Edge and
/// Opera also say Chrome, Chrome also says Safari).
pub fn browser_from_ua(ua: &str) -> Option<&'static str> {
    if ua.contains("Edg/") || ua.contains("Edge/") {
        Some("edge")
    } else if ua.contains("OPR/") || ua.contains("Opera") {
        Some("opera")
    } else if ua.contains("SamsungBrowser") {
        Some("samsung")
    } else if ua.contains("Firefox/") || ua.contains("FxiOS") {
        Some("firefox")
    } else if ua.contains("Chrome/") || ua.contains("CriOS") || ua.contains("Chromium") {
        Some("chrome")
    } else if ua.contains("Safari/") {
        Some("safari")
    } else {
        None
    }
}

/// Normalises a browser name column (`Chrome`, `Mobile Safari`, …).
pub fn browser(raw: &str) -> Option<&'static str> {
    let l = raw.trim().to_ascii_lowercase();
    ["edge", "opera", "samsung", "firefox", "chrome", "safari"]
        .into_iter()
        .find(|b| l.contains(b))
        .or_else(|| l.contains("chromium").then_some("chrome"))
}

/// Normalises an effective connection type (`4g`, `4G`, `slow-2g`, `slow_2g`).
pub fn connection(raw: &str) -> Option<&'static str> {
    let t = trim(raw);
    ["4g", "3g", "2g", "slow-2g", "offline"]
        .into_iter()
        .find(|c| t.eq_ignore_ascii_case(c))
        .or_else(|| {
            ["slow_2g", "slow2g"]
                .iter()
                .any(|c| t.eq_ignore_ascii_case(c))
                .then_some("slow-2g")
        })
}

/// An upper-case ISO 3166 alpha-2 country code, stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country([u8; 2]);

impl Country {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Built only from two ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// Normalises a country code to upper-case ISO 3166 alpha-2.
pub fn country(raw: &str) -> Option<Country> {
    match trim(raw).as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str, by: PageBy) -> String {
        let mut s = String::new();
        assert!(page_key(url, by, &mut s));
        s
    }

    #[test]
    fn query_fragment_and_origin_are_dropped() {
        let u = "https://shop.example/product/123?user=alice@example.com#reviews";
        assert_eq!(key(u, PageBy::Path), "/product/123");
        assert_eq!(key(u, PageBy::Template), "/product/:id");
        assert_eq!(key("https://shop.example", PageBy::Path), "/");
        assert_eq!(key("/cart/", PageBy::Path), "/cart");
        assert_eq!(key("/a/b", PageBy::None), "*");
        assert!(!page_key("  ", PageBy::Path, &mut String::new()));
    }

    #[test]
    fn template_folds_ids_but_not_words() {
        let t = |u| key(u, PageBy::Template);
        assert_eq!(t("/product/456"), "/product/:id");
        assert_eq!(
            t("/o/3f9a0c1e-77aa-4b1c-9d3e-0a1b2c3d4e5f/items"),
            "/o/:id/items"
        );
        assert_eq!(t("/s/a1B2c3D4e5F6g7H8"), "/s/:id");
        assert_eq!(t("/blog/how-to-cook"), "/blog/how-to-cook");
        assert_eq!(t("/v2/about"), "/v2/about");
        assert_eq!(key("/u/bob@example.com", PageBy::Path), "/u/:id");
    }

    #[test]
    fn user_agents_classify() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
        let tab = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(form_factor_from_ua(iphone), Some("phone"));
        assert_eq!(form_factor_from_ua(pixel), Some("phone"));
        assert_eq!(form_factor_from_ua(tab), Some("tablet"));
        assert_eq!(form_factor_from_ua(edge), Some("desktop"));
        assert_eq!(browser_from_ua(iphone), Some("safari"));
        assert_eq!(browser_from_ua(pixel), Some("chrome"));
        assert_eq!(browser_from_ua(edge), Some("edge"));
        assert_eq!(connection("4G"), Some("4g"));
        assert_eq!(connection("slow_2g"), Some("slow-2g"));
        assert_eq!(form_factor("Mobile"), Some("phone"));
        assert_eq!(
            country("de").map(|c| c.as_str().to_string()),
            Some("DE".to_string())
        );
    }
}
