//! Which path segments are identifiers.

/// Numeric (`123`), UUID/hex (`3f9a0c1e…`) or long random tokens mixing
/// letters and digits: the parts of a path that name one item of many.
pub fn is_id_like(seg: &str) -> bool {
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
