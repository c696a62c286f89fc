//! `--regress` knobs that make the demo shop slower in known ways.

use std::str::FromStr;

/// How much slower the demo build is than the "production" one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DemoKnobs {
    /// How much later the hero image's request starts (a script sets its
    /// `src`): pushes LCP through its resource load delay, ms.
    pub lcp_extra_ms: u64,
    /// Extra time of every HTML page's `db` server phase (pushes TTFB and
    /// everything after; shows in `Server-Timing: db`), ms.
    pub ttfb_extra_ms: u64,
    /// Extra busy time of the product page's "Add to cart" handler (pushes INP), ms.
    pub inp_extra_ms: u64,
    /// Extra layout-shift score added on the home page (a late cookie bar).
    pub cls_extra: f64,
    /// Size of a new render-blocking stylesheet on every page (0: none), bytes.
    pub blocking_css_bytes: u64,
}

/// A `--regress` value that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--regress '{given}': {reason}\n  hint: use METRIC=AMOUNT with lcp, ttfb or inp in ms or s (lcp=400ms, ttfb=0.2s, inp=150), cls as a score (cls=0.05) or blocking-css as a size (blocking-css=300KB); repeat the flag or separate with commas"
)]
pub struct KnobError {
    /// The item as written.
    pub given: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Largest allowed delay: a knob is a regression, not a hang.
const MAX_MS: f64 = 60_000.0;
/// Largest extra CLS the demo page geometry can produce.
const MAX_CLS: f64 = 0.25;
/// Largest new stylesheet: a regression, not a download.
const MAX_CSS_BYTES: f64 = 10.0 * 1_048_576.0;

impl DemoKnobs {
    /// Parses every `--regress` value (each may hold several comma-separated items).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<DemoKnobs, KnobError> {
        let mut knobs = DemoKnobs::default();
        for item in items {
            for part in item.as_ref().split(',').filter(|p| !p.trim().is_empty()) {
                knobs.apply(part)?;
            }
        }
        Ok(knobs)
    }

    /// True when the build is the unmodified "production" one.
    pub fn is_baseline(&self) -> bool {
        *self == DemoKnobs::default()
    }

    fn apply(&mut self, item: &str) -> Result<(), KnobError> {
        let err = |reason: String| KnobError {
            given: item.trim().to_string(),
            reason,
        };
        let (name, amount) = item
            .split_once('=')
            .ok_or_else(|| err("missing '=' between metric and amount".into()))?;
        let name = name.trim().to_ascii_lowercase();
        let amount = amount.trim();
        match name.as_str() {
            "lcp" | "ttfb" | "inp" => {
                let ms = parse_ms(amount).map_err(err)?;
                match name.as_str() {
                    "lcp" => self.lcp_extra_ms = ms,
                    "ttfb" => self.ttfb_extra_ms = ms,
                    _ => self.inp_extra_ms = ms,
                }
            }
            "cls" => {
                let v = f64::from_str(amount)
                    .map_err(|_| err(format!("'{amount}' is not a number")))?;
                if !(0.0..=MAX_CLS).contains(&v) {
                    return Err(err(format!(
                        "the extra CLS must be between 0 and {MAX_CLS}"
                    )));
                }
                self.cls_extra = v;
            }
            "blocking-css" | "blocking_css" => {
                self.blocking_css_bytes = parse_bytes(amount).map_err(err)?;
            }
            other => {
                return Err(err(format!(
                    "unknown metric '{other}' (the demo can regress lcp, ttfb, inp, cls and blocking-css)"
                )));
            }
        }
        Ok(())
    }
}

/// `400ms`, `400`, `0.4s` → 400.
fn parse_ms(amount: &str) -> Result<u64, String> {
    let (number, scale) = if let Some(n) = amount.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = amount.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (amount, 1.0)
    };
    let v = f64::from_str(number.trim())
        .map_err(|_| format!("'{amount}' is not a duration like 400ms or 0.4s"))?;
    let ms = v * scale;
    if !ms.is_finite() || !(0.0..=MAX_MS).contains(&ms) {
        return Err(format!("the delay must be between 0 and {MAX_MS} ms"));
    }
    Ok(ms.round() as u64)
}

/// `300KB`, `1.5MB`, `2048B`, `2048` → bytes (KB = 1024 bytes).
fn parse_bytes(amount: &str) -> Result<u64, String> {
    let upper = amount.to_ascii_uppercase();
    let (number, scale) = if let Some(n) = upper.strip_suffix("MB") {
        (n.to_string(), 1_048_576.0)
    } else if let Some(n) = upper.strip_suffix("KB") {
        (n.to_string(), 1024.0)
    } else if let Some(n) = upper.strip_suffix('B') {
        (n.to_string(), 1.0)
    } else {
        (upper.clone(), 1.0)
    };
    let v = f64::from_str(number.trim())
        .map_err(|_| format!("'{amount}' is not a size like 300KB or 1MB"))?;
    let bytes = v * scale;
    if !bytes.is_finite() || !(0.0..=MAX_CSS_BYTES).contains(&bytes) {
        return Err("the stylesheet must be between 0 and 10MB".into());
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_knob_and_unit() {
        let k = DemoKnobs::parse(&[
            "lcp=400ms",
            "ttfb=0.2s,inp=150",
            "CLS = 0.05",
            "blocking-css=300KB",
        ])
        .unwrap();
        assert_eq!(
            k,
            DemoKnobs {
                lcp_extra_ms: 400,
                ttfb_extra_ms: 200,
                inp_extra_ms: 150,
                cls_extra: 0.05,
                blocking_css_bytes: 307_200,
            }
        );
        let k = DemoKnobs::parse(&["blocking-css=1.5mb", "blocking_css=2048"]).unwrap();
        assert_eq!(k.blocking_css_bytes, 2048);
        let e = DemoKnobs::parse(&["blocking-css=big"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a size like 300KB"), "{e}");
        let e = DemoKnobs::parse(&["blocking-css=11MB"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("between 0 and 10MB"), "{e}");
        assert!(DemoKnobs::parse::<&str>(&[]).unwrap().is_baseline());
    }

    #[test]
    fn errors_name_the_flag_the_item_and_the_fix() {
        let e = DemoKnobs::parse(&["lcp=fast"]).unwrap_err().to_string();
        assert!(e.starts_with("--regress 'lcp=fast'"), "{e}");
        assert!(e.contains("400ms"), "{e}");
        let e = DemoKnobs::parse(&["fid=10ms"]).unwrap_err().to_string();
        assert!(e.contains("unknown metric 'fid'"), "{e}");
        let e = DemoKnobs::parse(&["lcp400"]).unwrap_err().to_string();
        assert!(e.contains("missing '='"), "{e}");
        let e = DemoKnobs::parse(&["cls=0.9"]).unwrap_err().to_string();
        assert!(e.contains("between 0 and 0.25"), "{e}");
        let e = DemoKnobs::parse(&["ttfb=-5ms"]).unwrap_err().to_string();
        assert!(e.contains("between 0 and"), "{e}");
    }
}
