//! Page keys from URLs: the origin, query string, fragment and path
//! parameters dropped, and with [`Fold::Template`] the path segments that
//! name one item of many or a person folded to `:id`, so `/product/123` and
//! `/product/456` are one page and no identifier reaches a baseline. The
//! rules are in `fold.rs` and docs/baseline-format.md.

use super::fold;
use regex::Regex;

/// How much of a URL path a page key keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// The path as it is (e-mail addresses still become `:id`).
    Path,
    /// The path with identifiers folded to `:id` (`--page-by template`).
    Template,
}

/// The placeholder an identifier becomes.
pub const PLACEHOLDER: &str = ":id";

/// Path segments `--keep-path-segment` keeps although the template rules
/// would fold them (`es2015`, `covid19`).
#[derive(Debug, Clone, Default)]
pub struct KeepSegments(Vec<Regex>);

/// A `--keep-path-segment` pattern that is not a regular expression.
#[derive(Debug, thiserror::Error)]
#[error(
    "--keep-path-segment '{pattern}' is not a regular expression: {source}\n  hint: the pattern must match a whole path segment, e.g. --keep-path-segment 'es20[0-9]{{2}}'"
)]
pub struct KeepSegmentsError {
    /// The pattern as given.
    pub pattern: String,
    /// Why it does not compile.
    pub source: regex::Error,
}

impl KeepSegments {
    /// No segment kept: the template rules alone.
    pub const NONE: KeepSegments = KeepSegments(Vec::new());

    /// Compiles `--keep-path-segment` patterns; each must match a whole
    /// segment (it is anchored at both ends).
    pub fn new(patterns: &[String]) -> Result<Self, KeepSegmentsError> {
        patterns
            .iter()
            .map(|p| {
                Regex::new(&format!("^(?:{p})$")).map_err(|source| KeepSegmentsError {
                    pattern: p.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()
            .map(KeepSegments)
    }

    /// Whether a pattern matches the whole of `seg`.
    pub fn keeps(&self, seg: &str) -> bool {
        self.0.iter().any(|r| r.is_match(seg))
    }
}

/// Writes the page key of `url` into `out` (cleared first): origin, query
/// string, fragment and path parameters (`;jsessionid=…`) dropped, trailing
/// slash trimmed; e-mail addresses (percent-encoded too) become `:id`; with
/// [`Fold::Template`] every identifier does (see `fold.rs`) unless `keep`
/// keeps the segment. Returns false when there is no page (a blank URL).
pub fn page_key(url: &str, by: Fold, keep: &KeepSegments, out: &mut String) -> bool {
    out.clear();
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
        // Path parameters carry session ids (`;jsessionid=`), never a page.
        let seg = seg.split(';').next().unwrap_or_default();
        if seg.is_empty() {
            continue;
        }
        out.push('/');
        // One pass over the usual segment: identifiers include e-mail
        // addresses, which `keep` never keeps.
        let folded = match by {
            Fold::Template => fold::is_identifier(seg) && (!keep.keeps(seg) || fold::is_email(seg)),
            Fold::Path => fold::is_email(seg),
        };
        out.push_str(if folded { PLACEHOLDER } else { seg });
    }
    if out.is_empty() {
        out.push('/');
    }
    true
}

/// A path as `baseline import --page-by template` keys it
/// (`/product/1` → `/product/:id`): how scenario pages find their baseline
/// page.
pub fn template(path: &str) -> String {
    let mut key = String::new();
    page_key(path, Fold::Template, &KeepSegments::NONE, &mut key);
    key
}

/// A request's URL as samples and reports show it: the path folded like a
/// page template (identifiers to `:id`, query and fragment dropped), with
/// its origin in front when that is not the page's (`/img/:id.jpg`,
/// `https://cdn.example/app.js`). Requests that differ only by an id become
/// one key, so two builds' request lists can be compared.
pub fn request_key(url: &str, page_url: &str) -> String {
    let path = template(url);
    match (origin(url), origin(page_url)) {
        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => path,
        (Some(a), _) => format!("{a}{path}"),
        _ => path,
    }
}

/// `scheme://host:port` of an absolute URL.
fn origin(url: &str) -> Option<&str> {
    let url = trim(url);
    let start = scheme_end(url)?;
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..start + end])
}

/// `str::trim`, with a quick way out for the usual URL that needs none.
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str, by: Fold) -> String {
        let mut s = String::new();
        assert!(page_key(url, by, &KeepSegments::NONE, &mut s));
        s
    }

    #[test]
    fn query_fragment_and_origin_are_dropped() {
        let u = "https://shop.example/product/123?user=alice@example.com#reviews";
        assert_eq!(key(u, Fold::Path), "/product/123");
        assert_eq!(key(u, Fold::Template), "/product/:id");
        assert_eq!(key("https://shop.example", Fold::Path), "/");
        assert_eq!(key("/cart/", Fold::Path), "/cart");
        assert!(!page_key(
            "  ",
            Fold::Path,
            &KeepSegments::NONE,
            &mut String::new()
        ));
    }

    #[test]
    fn template_folds_ids_but_not_words() {
        let t = |u| key(u, Fold::Template);
        assert_eq!(t("/product/456"), "/product/:id");
        assert_eq!(
            t("/o/3f9a0c1e-77aa-4b1c-9d3e-0a1b2c3d4e5f/items"),
            "/o/:id/items"
        );
        assert_eq!(t("/s/a1B2c3D4e5F6g7H8"), "/s/:id");
        assert_eq!(t("/blog/how-to-cook"), "/blog/how-to-cook");
        assert_eq!(t("/v2/about"), "/v2/about");
        assert_eq!(key("/u/bob@example.com", Fold::Path), "/u/:id");
        assert_eq!(template("/product/1"), "/product/:id");
    }

    #[test]
    fn identifiers_from_the_hardening_issue_fold() {
        let t = |u| key(u, Fold::Template);
        assert_eq!(t("/track/198.51.100.10/x"), "/track/:id/x");
        assert_eq!(t("/p/alice14%40secret-mail.example/x"), "/p/:id/x");
        assert_eq!(t("/u/USERID0001X/profile"), "/u/:id/profile");
        assert_eq!(t("/search;jsessionid=JSESS00004SECRET"), "/search");
        assert_eq!(t("/user/john.doe13/settings"), "/user/:id/settings");
        assert_eq!(t("/a;b=1/;c/d"), "/a/d");
    }

    #[test]
    fn path_keeps_segments_but_not_e_mails_or_path_parameters() {
        let p = |u| key(u, Fold::Path);
        assert_eq!(p("/u/USERID0001X/profile"), "/u/USERID0001X/profile");
        assert_eq!(p("/p/alice%40mail.example"), "/p/:id");
        assert_eq!(p("/search;jsessionid=X1"), "/search");
    }

    #[test]
    fn kept_segments_match_whole_and_only_in_templates() {
        let keep = KeepSegments::new(&["es20[0-9]{2}".into(), "covid19".into()]).unwrap();
        let k = |u: &str| {
            let mut s = String::new();
            assert!(page_key(u, Fold::Template, &keep, &mut s));
            s
        };
        assert_eq!(k("/docs/es2015/covid19"), "/docs/es2015/covid19");
        assert_eq!(k("/docs/es2015x1/123"), "/docs/:id/:id");
        assert_eq!(k("/u/es2015@mail.example"), "/u/:id");
        let err = KeepSegments::new(&["(".into()]).unwrap_err().to_string();
        assert!(err.contains("--keep-path-segment '('"), "{err}");
    }

    #[test]
    fn request_keys_fold_ids_and_keep_foreign_origins() {
        let page = "http://127.0.0.1:8080/product/7";
        assert_eq!(
            request_key("http://127.0.0.1:8080/img/12345/hero.jpg?w=2", page),
            "/img/:id/hero.jpg"
        );
        assert_eq!(
            request_key("http://127.0.0.1:8080/promo.css", page),
            "/promo.css"
        );
        assert_eq!(
            request_key("https://cdn.example/u/alice@example.com/app.js", page),
            "https://cdn.example/u/:id/app.js"
        );
        // Another port is another origin.
        assert_eq!(
            request_key("http://127.0.0.1:9/x.js", page),
            "http://127.0.0.1:9/x.js"
        );
    }
}
