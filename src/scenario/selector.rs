//! A cheap CSS selector syntax check, so typos fail at load time with a
//! file:line instead of mid-run. The browser remains the final judge.

/// Returns why `sel` cannot be a CSS selector, if it visibly cannot.
pub fn check(sel: &str) -> Result<(), String> {
    let s = sel.trim();
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.starts_with(['>', '+', '~', ',']) || s.ends_with(['>', '+', '~', ',']) {
        return Err("it starts or ends with a combinator".into());
    }
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '"' | '\'' => quote = Some(c),
            '[' | '(' => stack.push(c),
            ']' | ')' => {
                let open = if c == ']' { '[' } else { '(' };
                if stack.pop() != Some(open) {
                    return Err(format!("unbalanced '{c}'"));
                }
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    if let Some(open) = stack.pop() {
        return Err(format!("'{open}' is not closed"));
    }
    if s.contains("..") || s.contains("##") {
        return Err("it has an empty class or id".into());
    }
    Ok(())
}
