//! Validated verdict options and the `--threshold METRIC=AMOUNT` parser.

use crate::metric::{Metric, PracticalThreshold, Unit};
use std::collections::BTreeMap;

/// Everything the verdict needs to know besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictOptions {
    /// Family-wise false-alarm rate (default 0.05).
    pub alpha: f64,
    /// Per-metric overrides of [`Metric::default_threshold`].
    pub thresholds: BTreeMap<Metric, PracticalThreshold>,
    /// Minimum valid visits per page and variant (default 8); below it the page is inconclusive.
    pub min_valid: usize,
    /// Projected field rows: real users' p75 may worsen by this fraction
    /// (with the metric's absolute floor) before it is a regression (default 0.10).
    pub field_tolerance: f64,
    /// Metrics to judge (default [`Metric::GATED`]).
    pub metrics: Vec<Metric>,
    /// Also judge every `server.*` metric (a named Server-Timing entry of
    /// the navigation) that both builds' visits of a page measured, against
    /// the reference visits (default true; `compare --metrics` turns it off
    /// unless it lists them).
    pub server_metrics: bool,
}

impl Default for VerdictOptions {
    fn default() -> Self {
        VerdictOptions {
            alpha: 0.05,
            thresholds: BTreeMap::new(),
            min_valid: 8,
            field_tolerance: 0.10,
            metrics: Metric::GATED.to_vec(),
            server_metrics: true,
        }
    }
}

/// An invalid verdict option.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// `--alpha` outside (0, 0.5].
    #[error(
        "--alpha must be in (0, 0.5], got {0}\n  hint: 0.05 means at most a 5 % chance that a gate with no real change fails"
    )]
    Alpha(f64),
    /// A malformed `--threshold`.
    #[error(
        "invalid --threshold '{given}': {reason}\n  hint: write METRIC=AMOUNT, e.g. lcp=10%, lcp=150ms, cls=0.05, js_errors=1"
    )]
    Threshold {
        /// What the user wrote.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--field-tolerance` negative or not finite.
    #[error("--field-tolerance must be a fraction >= 0 (e.g. 0.1 for 10 %), got {0}")]
    FieldTolerance(f64),
    /// `--min-valid` of 0 or 1.
    #[error("--min-valid must be at least 2, got {0}")]
    MinValid(usize),
}

impl VerdictOptions {
    /// The practical threshold in force for `metric`.
    pub fn threshold(&self, metric: Metric) -> PracticalThreshold {
        self.thresholds
            .get(&metric)
            .copied()
            .unwrap_or_else(|| metric.default_threshold())
    }

    /// Checks the numeric options.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            return Err(OptionsError::Alpha(self.alpha));
        }
        if !(self.field_tolerance.is_finite() && self.field_tolerance >= 0.0) {
            return Err(OptionsError::FieldTolerance(self.field_tolerance));
        }
        if self.min_valid < 2 {
            return Err(OptionsError::MinValid(self.min_valid));
        }
        Ok(())
    }
}

/// Parses `lcp=10%` (relative only), `lcp=150ms` / `lcp=0.2s` (absolute
/// only), `cls=0.05`, `js_errors=1`, `bytes=20kB`. The amount replaces the
/// whole default threshold of that metric.
pub fn parse_threshold(text: &str) -> Result<(Metric, PracticalThreshold), OptionsError> {
    let err = |reason: String| OptionsError::Threshold {
        given: text.to_string(),
        reason,
    };
    let (name, amount) = text
        .split_once('=')
        .ok_or_else(|| err("missing '='".into()))?;
    let metric = Metric::parse_lab(name).map_err(|e| err(e.to_string()))?;
    let amount = amount.trim().to_ascii_lowercase();
    let number = |s: &str| -> Result<f64, OptionsError> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| err(format!("'{s}' is not a number")))?;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(err(format!("the amount must be positive, got {v}")))
        }
    };
    if let Some(p) = amount.strip_suffix('%') {
        let v = number(p)?;
        return Ok((
            metric,
            PracticalThreshold {
                relative: v / 100.0,
                absolute: 0.0,
            },
        ));
    }
    let absolute = match metric.unit() {
        Unit::Millis => {
            if let Some(v) = amount.strip_suffix("ms") {
                number(v)?
            } else if let Some(v) = amount.strip_suffix('s') {
                number(v)? * 1000.0
            } else {
                return Err(err(format!(
                    "{metric} is a time: add a unit, e.g. {metric}=150ms or {metric}=10%"
                )));
            }
        }
        Unit::Bytes => {
            if let Some(v) = amount.strip_suffix("kb") {
                number(v)? * 1024.0
            } else if let Some(v) = amount.strip_suffix("mb") {
                number(v)? * 1_048_576.0
            } else {
                number(amount.strip_suffix('b').unwrap_or(&amount))?
            }
        }
        Unit::Score | Unit::Count => {
            if amount.ends_with("ms") || amount.ends_with('s') {
                return Err(err(format!(
                    "{metric} has no time unit; write e.g. {metric}=0.05"
                )));
            }
            number(&amount)?
        }
    };
    Ok((
        metric,
        PracticalThreshold {
            relative: 0.0,
            absolute,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            parse_threshold("lcp=10%").unwrap(),
            (
                Metric::Lcp,
                PracticalThreshold {
                    relative: 0.1,
                    absolute: 0.0
                }
            )
        );
        assert_eq!(parse_threshold("lcp=150ms").unwrap().1.absolute, 150.0);
        assert_eq!(parse_threshold("LCP=0.2s").unwrap().1.absolute, 200.0);
        assert_eq!(parse_threshold("cls=0.05").unwrap().1.absolute, 0.05);
        assert_eq!(parse_threshold("bytes=20kB").unwrap().1.absolute, 20480.0);
    }

    #[test]
    fn errors_say_what_to_write() {
        let e = parse_threshold("lcp=150").unwrap_err().to_string();
        assert!(e.contains("'lcp=150'") && e.contains("lcp=150ms"), "{e}");
        let e = parse_threshold("lpc=10%").unwrap_err().to_string();
        assert!(e.contains("unknown metric 'lpc'"), "{e}");
        let e = parse_threshold("lcp").unwrap_err().to_string();
        assert!(e.contains("missing '='"), "{e}");
        let e = parse_threshold("cls=-1").unwrap_err().to_string();
        assert!(e.contains("positive"), "{e}");
        let e = parse_threshold("cls=5ms").unwrap_err().to_string();
        assert!(e.contains("no time unit"), "{e}");
    }

    #[test]
    fn validation_names_the_flag() {
        let o = VerdictOptions {
            alpha: 0.0,
            ..Default::default()
        };
        assert!(o.validate().unwrap_err().to_string().contains("--alpha"));
        assert!(VerdictOptions::default().validate().is_ok());
    }
}
