//! Boomerang's `err` beacon parameter: the JavaScript (and console, network,
//! promise-rejection) errors the Errors plugin queued before the beacon.
//!
//! Format, from boomerang's `plugins/errors.js`: `err` is
//! `BOOMR.utils.serializeForUrl(compressErrors(queue))`, i.e. the compressed
//! error list as JSURL (`~(~(m~'boom~n~3)~(…))`, Boomerang's port of
//! Sage/jsurl) or, when the Compression utility is absent, as JSON. Each
//! element is one distinct error; `n` holds its count when it is not 1
//! (`decompressErrors`: `count = n ? parseInt(n, 10) : 1`). The number of
//! errors on a beacon is the sum of the counts.
//!
//! An `err` that is neither JSURL nor JSON (or does not decode to a list)
//! still means the plugin had at least one error queued (it adds `err` only
//! for a non-empty queue), so it counts as 1 with the definition
//! [`BOOMERANG_ERR_UNDECODED`].

use serde_json::{Map, Number, Value};

/// Definition of js_errors decoded from Boomerang's `err`.
pub const BOOMERANG_ERR: &str = "boomerang-err";
/// Definition of js_errors from an `err` that could not be decoded (counted as 1).
pub const BOOMERANG_ERR_UNDECODED: &str = "boomerang-err-undecoded";

/// Nesting deeper than this is not a Boomerang error list (and would risk
/// the stack): such an `err` counts as undecoded.
const MAX_DEPTH: usize = 32;

/// The number of errors an `err` value reports and the definition it has;
/// `None` for an empty value (Boomerang never sends one).
pub fn count(raw: &str) -> Option<(f64, &'static str)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let decoded = if raw.starts_with('~') {
        jsurl(raw)
    } else if raw.starts_with('[') {
        serde_json::from_str(raw).ok()
    } else {
        None
    };
    let Some(Value::Array(errors)) = decoded else {
        return Some((1.0, BOOMERANG_ERR_UNDECODED));
    };
    let total: f64 = errors.iter().map(error_count).sum();
    Some((total, BOOMERANG_ERR))
}

/// One compressed error's count: `n` when it is a positive number (or a
/// string starting with digits, as `parseInt` reads it), else 1.
fn error_count(e: &Value) -> f64 {
    let n = match e.get("n") {
        Some(Value::Number(n)) => n.as_f64().map(f64::trunc),
        Some(Value::String(s)) => {
            let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<f64>().ok()
        }
        _ => None,
    };
    n.filter(|n| n.is_finite() && *n >= 1.0).unwrap_or(1.0)
}

/// Decodes JSURL (Sage/jsurl, as boomerang's `jsUrlDecompress`) into JSON.
/// `None` on any syntax error.
pub fn jsurl(s: &str) -> Option<Value> {
    // jsurl's parse first undoes a URL-encoded quote (`%27`, `%2527`, …).
    let s = undo_quote_escapes(s);
    let mut p = Parser {
        src: &s,
        s: s.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    (p.i == p.s.len()).then_some(v)
}

fn undo_quote_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let skip = tail.len() - tail.trim_start_matches("25").len();
        if tail[skip..].starts_with("27") {
            out.push('\'');
            rest = &tail[skip + 2..];
        } else {
            out.push('%');
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

struct Parser<'a> {
    src: &'a str,
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'~')?;
        match self.peek()? {
            b'(' => {
                self.i += 1;
                let v = if self.peek()? == b'~' {
                    let mut items = Vec::new();
                    if self.s.get(self.i + 1) == Some(&b')') {
                        self.i += 1;
                    } else {
                        loop {
                            items.push(self.value(depth + 1)?);
                            if self.peek() != Some(b'~') {
                                break;
                            }
                        }
                    }
                    Value::Array(items)
                } else {
                    let mut obj = Map::new();
                    if self.peek()? != b')' {
                        loop {
                            let key = self.text()?;
                            let v = self.value(depth + 1)?;
                            obj.insert(key, v);
                            if self.peek() != Some(b'~') {
                                break;
                            }
                            self.i += 1;
                        }
                    }
                    Value::Object(obj)
                };
                self.eat(b')')?;
                Some(v)
            }
            b'\'' => {
                self.i += 1;
                self.text().map(Value::String)
            }
            first => {
                let beg = self.i;
                while self.peek().is_some_and(|c| c != b')' && c != b'~') {
                    self.i += 1;
                }
                let word = self.src.get(beg..self.i)?;
                if first.is_ascii_digit() || first == b'-' {
                    let n: f64 = parse_float_prefix(word)?;
                    Number::from_f64(n).map(Value::Number)
                } else {
                    match word {
                        "true" => Some(Value::Bool(true)),
                        "false" => Some(Value::Bool(false)),
                        "null" => Some(Value::Null),
                        _ => None,
                    }
                }
            }
        }
    }

    /// A JSURL string body: up to `~` or `)`, with `*XX`, `**XXXX` and `!` (`$`) escapes.
    fn text(&mut self) -> Option<String> {
        let mut out: Vec<u16> = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                b'~' | b')' => break,
                b'*' => {
                    let wide = self.s.get(self.i + 1) == Some(&b'*');
                    let (from, len) = if wide {
                        (self.i + 2, 4)
                    } else {
                        (self.i + 1, 2)
                    };
                    let hex = std::str::from_utf8(self.s.get(from..from + len)?).ok()?;
                    out.push(u16::from_str_radix(hex, 16).ok()?);
                    self.i = from + len;
                }
                b'!' => {
                    out.push(u16::from(b'$'));
                    self.i += 1;
                }
                _ => {
                    // Copy one UTF-8 character as UTF-16 units.
                    let ch = self.src.get(self.i..)?.chars().next()?;
                    let mut units = [0u16; 2];
                    out.extend_from_slice(ch.encode_utf16(&mut units));
                    self.i += ch.len_utf8();
                }
            }
        }
        // JavaScript strings may hold lone surrogates; keep what is valid.
        Some(String::from_utf16_lossy(&out))
    }
}

/// `parseFloat`: the longest numeric prefix (jsurl numbers end at `~`/`)`).
fn parse_float_prefix(word: &str) -> Option<f64> {
    if word.len() > 64 {
        return None;
    }
    (1..=word.len())
        .rev()
        .filter(|&k| word.is_char_boundary(k))
        .find_map(|k| word[..k].parse::<f64>().ok())
}

#[cfg(test)]
mod tests;
