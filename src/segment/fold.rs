//! Which path segments are identifiers (and so become `:id` in a template).
//!
//! The rules, in the order they are tried on a segment (percent-encoding
//! decoded first, so `alice%40mail.example` is an e-mail address):
//!
//! 1. an e-mail address: anything holding `@`;
//! 2. all digits (`123`);
//! 3. an IPv4 or IPv6 address (`198.51.100.10`, `2001:db8::1`);
//! 4. hex, UUIDs and dashed hex of 8 characters or more with a digit
//!    (`3f9a0c1e`, `3f9a0c1e-77aa-…`);
//! 5. a long token: 16 characters or more of base64 (`A–Z a–z 0–9 + / =`)
//!    with a digit, or 24 or more mixing upper and lower case;
//! 6. a word that mixes letters and digits, at least 5 characters with at
//!    least 2 digits (`USERID0001X`, `alice14`, and `doe13` in
//!    `john.doe13`); words are the parts between `-`, `_`, `.`, `~` and `+`.
//!
//! Rule 6 keeps short product and format names (`v2`, `mp3`, `h264`, `2fa`,
//! `utf-8`, `x86_64`, `html5`, `i18n`, `4k`) and slugs whose numbers are
//! words of their own (`iphone-15-pro`, `2024-in-review`). It folds longer
//! names with digits (`es2015`, `covid19`, `1080p`): `--keep-path-segment`
//! keeps those.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `seg` (one path segment, without path parameters) names one item
/// of many or a person: see the module documentation.
pub fn is_identifier(seg: &str) -> bool {
    let mut digits = 0usize;
    let mut hint = false;
    for c in seg.bytes() {
        digits += usize::from(c.is_ascii_digit());
        // Everything but rules 2–6's digits needs one of these.
        hint |= matches!(c, b'@' | b'%' | b':') || c.is_ascii_uppercase();
    }
    // The usual segment (`product`, `how-to-cook`) ends here.
    if digits == 0 && !hint {
        return false;
    }
    let seg = decoded(seg);
    let b = seg.as_bytes();
    b.contains(&b'@')
        || b.iter().all(u8::is_ascii_digit)
        || seg.parse::<Ipv4Addr>().is_ok()
        || (b.contains(&b':') && seg.parse::<Ipv6Addr>().is_ok())
        || is_hex(b)
        || is_token(b)
        || b.split(|c| matches!(c, b'-' | b'_' | b'.' | b'~' | b'+'))
            .any(is_user_id)
}

/// Whether `seg` holds an e-mail address, percent-encoded or not: folded
/// even with `--page-by path`.
pub fn is_email(seg: &str) -> bool {
    seg.contains('@') || (seg.contains('%') && decoded(seg).contains('@'))
}

fn decoded(seg: &str) -> Cow<'_, str> {
    if seg.contains('%') {
        percent_encoding::percent_decode_str(seg).decode_utf8_lossy()
    } else {
        Cow::Borrowed(seg)
    }
}

fn is_hex(b: &[u8]) -> bool {
    b.len() >= 8
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-')
}

fn is_token(b: &[u8]) -> bool {
    if b.len() < 16
        || !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(c))
    {
        return false;
    }
    let has = |f: fn(&u8) -> bool| b.iter().any(f);
    has(u8::is_ascii_digit)
        || (b.len() >= 24 && has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase))
}

fn is_user_id(word: &[u8]) -> bool {
    let digits = word.iter().filter(|c| c.is_ascii_digit()).count();
    word.len() >= 5
        && digits >= 2
        && word.iter().any(u8::is_ascii_alphabetic)
        && word.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_of_every_kind_are_recognised() {
        for id in [
            "123",
            "198.51.100.10",
            "2001:db8::1",
            "2001%3Adb8%3A%3A1",
            "alice14%40secret-mail.example",
            "bob@example.com",
            "3f9a0c1e-77aa-4b1c-9d3e-0a1b2c3d4e5f",
            "deadbeef0042",
            "a1B2c3D4e5F6g7H8",
            "YWxpY2VAZXhhbXBsZS5jb20=",
            "QWxhZGRpbkBvcGVuU2VzYW1lQWxhZGRpbg",
            "USERID0001X",
            "john.doe13",
            "alice14",
            "u12345",
        ] {
            assert!(is_identifier(id), "{id} should fold");
        }
    }

    #[test]
    fn words_and_short_names_with_digits_stay() {
        for word in [
            "product",
            "how-to-cook",
            "v2",
            "mp3",
            "h264",
            "2fa",
            "utf-8",
            "x86_64",
            "html5",
            "i18n",
            "4k",
            "iphone-15-pro",
            "2024-in-review",
            "About",
            "HowToCookPasta",
            "facade",
        ] {
            assert!(!is_identifier(word), "{word} should stay");
        }
    }

    #[test]
    fn e_mail_addresses_are_found_encoded_too() {
        assert!(is_email("a@b.example"));
        assert!(is_email("a%40b.example"));
        assert!(!is_email("about"));
        assert!(!is_email("100%25"));
    }
}
