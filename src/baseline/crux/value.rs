//! The numbers a CrUX document states, checked: a damaged or hand-edited
//! record is an error naming the field, not a silently dropped metric.

use crate::baseline::error::{ImportError, Tally};
use serde_json::Value;

/// What a number in a CrUX document must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A share of visits, in [0, 1].
    Density,
    /// A p75 or a bin bound: finite and ≥ 0.
    NonNegative,
}

/// A number the document states (a JSON number or a numeric string, as
/// CrUX writes CLS). Absent, `null` and `"NaN"` are `None`: that is how
/// CrUX History marks an incomplete period. Anything else that is not a
/// number of the right range is an error naming the file and the field.
pub fn checked(
    v: Option<&Value>,
    kind: Kind,
    tally: &Tally,
    field: impl Fn() -> String,
) -> Result<Option<f64>, ImportError> {
    let bad = |problem: String| ImportError::BadValue {
        file: tally.source.file.clone(),
        field: field(),
        problem,
    };
    let x = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| bad(format!("{n} is not a number")))?,
        Some(Value::String(t)) => match t.trim().parse::<f64>() {
            Ok(x) if x.is_nan() => return Ok(None),
            Ok(x) => x,
            Err(_) => return Err(bad(format!("\"{t}\" is not a number"))),
        },
        Some(other) => return Err(bad(format!("{other} is not a number"))),
    };
    let ok = match kind {
        Kind::Density => (0.0..=1.0).contains(&x),
        Kind::NonNegative => x.is_finite() && x >= 0.0,
    };
    if !ok {
        return Err(bad(match kind {
            Kind::Density => format!("{x} is not a share of visits between 0 and 1"),
            Kind::NonNegative => {
                format!("{x} is negative or infinite; CrUX states only values ≥ 0")
            }
        }));
    }
    Ok(Some(x))
}
