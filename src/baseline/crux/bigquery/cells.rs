//! Reading one BigQuery row's cells: column names in any case, the device,
//! the month, and numbers given as JSON numbers or numeric strings.

use super::Bad;
use crate::baseline::error::Reason;
use crate::baseline::record::parse_time;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The row's columns by lower-case name (`Origin` and `origin` alike).
pub(super) fn columns(obj: &Map<String, Value>) -> HashMap<String, &Value> {
    obj.iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

pub(super) fn device(cols: &HashMap<String, &Value>) -> Result<Option<String>, Bad> {
    match cols.get("device").copied() {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "desktop" => Ok(Some("desktop".into())),
            "phone" | "mobile" => Ok(Some("phone".into())),
            "tablet" => Ok(Some("tablet".into())),
            other => Err((
                Reason::Malformed,
                format!("device '{other}' is not desktop, phone or tablet"),
            )),
        },
        Some(v) => Err((
            Reason::Malformed,
            format!("device {v} is not desktop, phone or tablet"),
        )),
    }
}

/// First and last day (Unix seconds) of the month the row summarises.
pub(super) fn month(cols: &HashMap<String, &Value>) -> Result<Option<(i64, i64)>, Bad> {
    let Some((name, v)) = ["yyyymm", "date", "yyyymmdd"]
        .iter()
        .find_map(|k| cols.get(*k).map(|v| (*k, *v)))
    else {
        return Ok(None);
    };
    let text = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    };
    let bad = || {
        (
            Reason::BadTimestamp,
            format!("{name} '{text}' is not YYYYMM, YYYYMMDD or YYYY-MM-DD"),
        )
    };
    let b = text.as_bytes();
    let dashed = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    let digits: String = if dashed {
        text.replace('-', "")
    } else {
        text.clone()
    };
    if !(digits.len() == 6 || digits.len() == 8) || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let (Ok(y), Ok(m)) = (digits[..4].parse::<i64>(), digits[4..6].parse::<i64>()) else {
        return Err(bad());
    };
    let day_ok = digits.len() == 6
        || digits[6..]
            .parse::<u8>()
            .is_ok_and(|d| (1..=31).contains(&d));
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !day_ok {
        return Err(bad());
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let first = parse_time(&format!("{y:04}-{m:02}-01")).ok_or_else(bad)?;
    let next = parse_time(&format!("{ny:04}-{nm:02}-01")).ok_or_else(bad)?;
    Ok(Some((first, next - 86_400)))
}

/// A cell as a number: JSON numbers, and numeric strings (`"0.05"`, and
/// every value of `bq query --format=json`). `Ok(None)` when absent or null.
pub(super) fn cell(cols: &HashMap<String, &Value>, name: &str) -> Result<Option<f64>, Bad> {
    let raw = match cols.get(name).copied() {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let v = match raw {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(v) = v else {
        return Err((
            Reason::NonNumeric,
            format!("{name} = {raw}: not a number; fix or drop the column"),
        ));
    };
    if !v.is_finite() {
        return Err((Reason::NotFinite, format!("{name} = {raw} is not finite")));
    }
    if v < 0.0 {
        return Err((
            Reason::Negative,
            format!("{name} = {raw} is negative; shares and p75s are never below zero"),
        ));
    }
    Ok(Some(v))
}
