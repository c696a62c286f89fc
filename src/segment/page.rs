//! Page keys from URLs: the origin, query string and fragment dropped, and
//! with [`Fold::Template`] the path segments that name one item of many
//! folded to `:id`, so `/product/123` and `/product/456` are one page.

use super::fold;

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

/// Writes the page key of `url` into `out` (cleared first): query string and
/// fragment dropped, origin dropped, trailing slash trimmed; with
/// [`Fold::Template`] numeric and hash-like segments become `:id`. E-mail
/// addresses in a path always become `:id` (they are identifiers).
/// Returns false when there is no page (a blank URL).
pub fn page_key(url: &str, by: Fold, out: &mut String) -> bool {
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
        out.push('/');
        // A byte loop: segments are short, a `memchr` call costs more.
        let email = seg.bytes().any(|c| c == b'@');
        let folded = email || (by == Fold::Template && fold::is_id_like(seg));
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
    page_key(path, Fold::Template, &mut key);
    key
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
        assert!(page_key(url, by, &mut s));
        s
    }

    #[test]
    fn query_fragment_and_origin_are_dropped() {
        let u = "https://shop.example/product/123?user=alice@example.com#reviews";
        assert_eq!(key(u, Fold::Path), "/product/123");
        assert_eq!(key(u, Fold::Template), "/product/:id");
        assert_eq!(key("https://shop.example", Fold::Path), "/");
        assert_eq!(key("/cart/", Fold::Path), "/cart");
        assert!(!page_key("  ", Fold::Path, &mut String::new()));
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
}
