//! Making untrusted text inert before it is printed or written.
//!
//! Page and profile names, URLs, error messages from pages and beacons may
//! hold anything: a newline followed by `::error::…` becomes a GitHub
//! Actions workflow command, an ESC sequence retitles the terminal window or
//! hides the lines above it, and a bidi override reorders what a reviewer
//! reads. These helpers escape such characters visibly (so the text stays
//! diagnosable) and never drop anything silently.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character must not reach a terminal or a report as itself: C0
/// and C1 controls, DEL, and the Unicode bidi embeddings, overrides and
/// isolates.
fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `s` holds a control character or a bidi control: names that do
/// are refused where they are declared (scenario files).
pub fn has_control(s: &str) -> bool {
    s.chars().any(is_hostile)
}

/// Whether a line would be read as a GitHub Actions workflow command (the
/// runner trims leading whitespace before looking for `::`).
fn is_command_like(line: &str) -> bool {
    line.trim_start().starts_with("::")
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Escapes `:` of a leading `::` so the line is not a workflow command.
fn defuse_command(s: &str) -> Cow<'_, str> {
    if !is_command_like(s) {
        return Cow::Borrowed(s);
    }
    let lead = s.len() - s.trim_start().len();
    Cow::Owned(format!("{}\\u{{3a}}{}", &s[..lead], &s[lead + 1..]))
}

/// One value for one line of terminal output: every control character is
/// escaped visibly (`\n`, `\r`, `\t`, ESC as `\u{1b}`), as are bidi
/// controls, and a value beginning with `::` gets its first `:` escaped, so
/// a table row starting with it cannot be a workflow command.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return defuse_command(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(defuse_command(&out).into_owned())
}

/// One line of Markdown: line breaks become ` / ` (a cell or a list item
/// stays one line), other controls are escaped visibly, and the line never
/// begins with `::`.
pub fn markdown_line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return defuse_command(s);
    }
    let joined = s
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let mut out = String::with_capacity(joined.len() + 8);
    for c in joined.chars() {
        if is_hostile(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(defuse_command(&out).into_owned())
}

/// A multi-line message of rumcheck's own (an error with its hint lines)
/// that embeds untrusted values: line breaks stay, every other control is
/// escaped, and no line can begin with `::`.
pub fn message(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let escaped = if line.chars().any(is_hostile) {
            let mut e = String::with_capacity(line.len() + 8);
            for c in line.chars() {
                if is_hostile(c) && c != '\t' {
                    push_escaped(&mut e, c);
                } else {
                    e.push(c);
                }
            }
            Cow::Owned(e)
        } else {
            Cow::Borrowed(line)
        };
        out.push_str(&defuse_command(&escaped));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            terminal("home · phone"),
            Cow::Borrowed("home · phone")
        ));
        assert!(matches!(
            markdown_line("https://a.example/x?y=1"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn terminal_escapes_esc_newline_and_cr_visibly() {
        assert_eq!(
            terminal("a\x1b]0;pwned\x07b\r\nc\t"),
            "a\\u{1b}]0;pwned\\u{7}b\\r\\nc\\t"
        );
        assert_eq!(terminal("x\u{9b}y\u{7f}"), "x\\u{9b}y\\u{7f}");
    }

    #[test]
    fn terminal_never_starts_a_workflow_command() {
        assert_eq!(terminal("::error::pwn"), "\\u{3a}:error::pwn");
        assert_eq!(terminal("  ::warning::x"), "  \\u{3a}:warning::x");
        assert_eq!(terminal("a::b"), "a::b");
        // A newline inside a value is escaped, so the next line is ours.
        assert!(!terminal("home\n::error::pwn").contains('\n'));
    }

    #[test]
    fn bidi_overrides_are_escaped() {
        assert_eq!(terminal("abc\u{202E}def"), "abc\\u{202e}def");
        assert_eq!(markdown_line("\u{2066}x"), "\\u{2066}x");
    }

    #[test]
    fn markdown_lines_join_breaks_and_never_start_with_colons() {
        assert_eq!(markdown_line("a\r\n::error::x\n\nb"), "a / ::error::x / b");
        assert_eq!(markdown_line("::notice::x"), "\\u{3a}:notice::x");
        assert_eq!(markdown_line("\n::notice::x"), "\\u{3a}:notice::x");
        assert_eq!(markdown_line("t\x1b[2Jx"), "t\\u{1b}[2Jx");
        assert!(
            !markdown_line("a\x1b\x00\u{85}b")
                .chars()
                .any(char::is_control)
        );
    }

    #[test]
    fn messages_keep_their_lines_but_no_line_is_a_command() {
        let m = message("bad page \"x\n::error::pwn\x1b[31m\"\n  hint: fix it");
        assert_eq!(
            m,
            "bad page \"x\n\\u{3a}:error::pwn\\u{1b}[31m\"\n  hint: fix it"
        );
        assert!(m.lines().all(|l| !l.trim_start().starts_with("::")));
    }
}
