//! Segment values from what exports carry (form-factor names, user agents,
//! effective connection types), and page keys as `--page-by` asks for them
//! (the folding itself is [`crate::segment`]'s).

use super::options::{ImportOptions, PageBy, SegmentDim};
use super::record::trim;
use crate::segment::{self, Fold, KeepSegments};

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
    // Not a constructor despite the name; kept because the CSV importer calls it.
    #[allow(clippy::wrong_self_convention)]
    pub fn from_ua(&mut self, ua: &str) {
        if self.form_factor.is_none() {
            self.form_factor = form_factor_from_ua(ua);
        }
        if self.browser.is_none() {
            self.browser = browser_from_ua(ua);
        }
    }
}

/// Writes the page key of `url` into `out` as `--page-by` asks, without
/// `--keep-path-segment`: `*` for [`PageBy::None`], else
/// [`segment::page_key`]. Returns false when there is no page.
pub fn page_key(url: &str, by: PageBy, out: &mut String) -> bool {
    keyed(url, by, &KeepSegments::NONE, out)
}

impl ImportOptions {
    /// Writes the page key of `url` into `out` as `--page-by` and
    /// `--keep-path-segment` ask. Returns false when there is no page.
    pub fn page_key(&self, url: &str, out: &mut String) -> bool {
        keyed(url, self.page_by, &self.keep_path_segments, out)
    }
}

fn keyed(url: &str, by: PageBy, keep: &KeepSegments, out: &mut String) -> bool {
    match by {
        PageBy::None => {
            out.clear();
            out.push('*');
            true
        }
        PageBy::Path => segment::page_key(url, Fold::Path, keep, out),
        PageBy::Template => segment::page_key(url, Fold::Template, keep, out),
    }
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
    fn page_by_picks_the_folding() {
        let u = "https://shop.example/product/123?q=1";
        assert_eq!(key(u, PageBy::Path), "/product/123");
        assert_eq!(key(u, PageBy::Template), "/product/:id");
        assert_eq!(key(u, PageBy::None), "*");
        assert!(!page_key("  ", PageBy::Path, &mut String::new()));
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
