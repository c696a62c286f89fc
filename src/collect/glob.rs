//! Beacon URL globs, compiled to JavaScript regular expressions.

/// Compiles a beacon glob to an anchored JavaScript `RegExp` source: `*`
/// matches any run of characters (including `/` and `?`); every other
/// character is literal, so query strings need no escaping.
pub fn glob_to_regex(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 8);
    out.push('^');
    for c in glob.trim().chars() {
        match c {
            '*' => out.push_str(".*"),
            '\\' | '^' | '$' | '.' | '|' | '?' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_anything_and_the_rest_is_literal() {
        assert_eq!(glob_to_regex("*"), "^.*$");
        assert_eq!(
            glob_to_regex("https://rum.example.com/c?v=1*"),
            r"^https://rum\.example\.com/c\?v=1.*$"
        );
        assert_eq!(
            glob_to_regex(" a(b)[c]{d}+|^$\\ "),
            r"^a\(b\)\[c\]\{d\}\+\|\^\$\\$"
        );
    }
}
