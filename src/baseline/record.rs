//! The row model every importer produces, and the checks on its values.
//!
//! A [`Record`] borrows from the importer's buffers, so the hot path
//! allocates nothing; identifiers arrive already hashed.

use super::error::Reason;
use crate::metric::{Metric, Unit};

/// The web-vitals definition (the default).
pub const WEB_VITALS: &str = "web-vitals";

/// Which page view a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The record is one whole page view (wide CSV, Boomerang beacon); the
    /// number is unique per view within the import.
    Whole(u64),
    /// The record is one metric of the view with this (hashed) id.
    Part(u64),
    /// Unknown: page views are estimated as the largest metric count.
    Unknown,
}

/// One cleaned row: a page, its segment values, hashed ids and metric values.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// Page key (already folded by `--page-by`).
    pub page: &'a str,
    /// Segment values: form factor, connection, country, browser
    /// (`None` when unknown or not segmented by).
    pub segment: [Option<&'a str>; 4],
    /// Unix time in seconds.
    pub time: Option<i64>,
    /// Hashed user id.
    pub user: Option<u64>,
    /// Hashed session id.
    pub session: Option<u64>,
    /// Page view identity.
    pub view: View,
    /// Metric values with the source's definition of each.
    pub metrics: &'a [(Metric, f64, &'static str)],
}

/// Hashes an identifier for distinct counting; the raw value is never kept.
/// Empty identifiers count as absent.
pub fn hash_id(raw: &str) -> Option<u64> {
    let raw = trim(raw);
    if raw.is_empty() {
        return None;
    }
    // XXH3: well mixed (distinct counting relies on it) and several times
    // faster than SipHash on short ids; no secret key is needed as the
    // hashes never leave the process.
    Some(xxhash_rust::xxh3::xxh3_64(raw.as_bytes()))
}

/// The largest plausible value per unit: beyond it a value is `absurd`.
pub fn absurd_limit(metric: Metric) -> f64 {
    match metric.unit() {
        Unit::Millis => 3_600_000.0,
        Unit::Score => 100.0,
        Unit::Count => 1_000_000.0,
        Unit::Bytes => 1e11,
    }
}

/// The rejection of a row naming a metric rumcheck does not know.
pub fn unknown_metric(name: &str) -> (Reason, String) {
    let shown: String = name.chars().take(40).collect();
    (Reason::UnknownMetric, format!("unknown metric '{shown}'"))
}

/// Checks a parsed value of `metric`.
pub fn check_number(metric: Metric, v: f64) -> Result<f64, Reason> {
    if !v.is_finite() {
        Err(Reason::NotFinite)
    } else if v < 0.0 {
        Err(Reason::Negative)
    } else if v > absurd_limit(metric) {
        Err(Reason::Absurd)
    } else {
        Ok(v)
    }
}

/// Parses a text cell holding a value of `metric`; empty cells are absent.
pub fn parse_value(metric: Metric, raw: &str) -> Result<Option<f64>, Reason> {
    let raw = trim(raw);
    if raw.is_empty() {
        return Ok(None);
    }
    let v = match plain_decimal(raw.as_bytes()) {
        Some(v) => v,
        None => raw.parse().map_err(|_| Reason::NonNumeric)?,
    };
    check_number(metric, v).map(Some)
}

/// Exact powers of ten up to 10^15 (every one is exact in an f64).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Parses the usual cell, `digits[.digits]` with at most 15 digits, without
/// the general float parser. The digits form an integer below 2^53 and the
/// divisor is a power of ten below 2^53, both exact in an f64, so the one
/// IEEE division is correctly rounded: the result equals `str::parse`'s
/// (Clinger's fast path; proptested against it). Anything else is `None`.
pub fn plain_decimal(b: &[u8]) -> Option<f64> {
    let (mut n, mut digits, mut frac, mut dot) = (0u64, 0usize, 0usize, false);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                n = n * 10 + u64::from(c - b'0');
                digits += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
        if digits > 15 {
            return None;
        }
    }
    // "5." and ".5" parse, "." does not.
    if digits == 0 {
        return None;
    }
    Some(n as f64 / POW10[frac])
}

/// `str::trim` with a fast path for the usual cell, which starts and ends
/// with a visible ASCII character and needs no Unicode-aware scan.
pub fn trim(s: &str) -> &str {
    let visible = |b: &u8| b.is_ascii_graphic();
    match s.as_bytes() {
        [] => s,
        [first, .., last] if visible(first) && visible(last) => s,
        [only] if visible(only) => s,
        _ => s.trim(),
    }
}

/// Parses a timestamp: RFC 3339, `YYYY-MM-DD[ T]HH:MM:SS[.f][Z|±HH:MM]`
/// (UTC without an offset), `YYYY-MM-DD`, or epoch seconds / milliseconds.
/// Returns Unix seconds.
pub fn parse_time(raw: &str) -> Option<i64> {
    parse_time_checked(raw).ok()
}

/// [`parse_time`], saying why a timestamp is rejected: its shape, or (from
/// the `time` crate's calendar) a component out of range, such as
/// `2024-02-31`.
pub fn parse_time_checked(raw: &str) -> Result<i64, String> {
    const SHAPE: &str = "not RFC 3339, 'YYYY-MM-DD HH:MM:SS' or epoch seconds/ms";
    let s = trim(raw);
    if s.is_empty() {
        return Err("empty".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v: f64 = s.parse().map_err(|_| SHAPE.to_string())?;
        // 12+ integer digits can only be milliseconds (year 5138 in seconds).
        let int_digits = s.split('.').next().map_or(0, str::len);
        let secs = if int_digits >= 12 { v / 1000.0 } else { v };
        return (secs.is_finite() && secs.abs() < 1e15)
            .then_some(secs.floor() as i64)
            .ok_or_else(|| "epoch value out of range".to_string());
    }
    // The shape is checked here (cheap, and exports repeat one shape); the
    // calendar (month lengths, leap years, day numbers) is the time crate's.
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<u16, String> {
        let part = s.get(r).ok_or(SHAPE)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| SHAPE.to_string())
        } else {
            Err(SHAPE.to_string())
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(SHAPE.into());
    }
    let invalid = |e: time::error::ComponentRange| {
        format!("not a valid date and time ({} out of range)", e.name())
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = time::Month::try_from(mo as u8)
        .map_err(|_| format!("not a valid date (month {mo} is not 01 to 12)"))?;
    let year = i32::from(y);
    let date = time::Date::from_calendar_date(year, month, d as u8).map_err(|_| {
        format!(
            "not a valid date ({month} {year} has days 01 to {})",
            month.length(year)
        )
    })?;
    if b.len() == 10 {
        return Ok(date.midnight().assume_utc().unix_timestamp());
    }
    if !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') || b.len() < 19 {
        return Err(SHAPE.into());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(SHAPE.into());
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // RFC 3339 allows a leap second (:60); the time crate does not.
    let leap = i64::from(se == 60);
    let clock = time::Time::from_hms(h as u8, mi as u8, (se as u8).min(59)).map_err(invalid)?;
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(SHAPE.into());
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "" | "Z" | "z" => time::UtcOffset::UTC,
        _ => {
            let sign: i8 = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(SHAPE.into()),
            };
            let off = rest.get(1..).ok_or(SHAPE)?;
            let (oh, om) = off
                .split_once(':')
                .or_else(|| Some((off.get(0..2)?, off.get(2..)?)))
                .ok_or(SHAPE)?;
            let (oh, om): (i8, i8) = (
                oh.parse().map_err(|_| SHAPE.to_string())?,
                om.parse().map_err(|_| SHAPE.to_string())?,
            );
            if !(0..=23).contains(&oh) || !(0..=59).contains(&om) {
                return Err(format!("offset '{rest}' out of range"));
            }
            time::UtcOffset::from_hms(sign * oh, sign * om, 0).map_err(invalid)?
        }
    };
    let at = time::PrimitiveDateTime::new(date, clock).assume_offset(offset);
    Ok(at.unix_timestamp() + leap)
}

/// Formats Unix seconds as RFC 3339 (UTC).
pub fn format_time(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Formats a day number (days since the epoch) as `YYYY-MM-DD`.
pub fn format_day(day: i64) -> String {
    let t = format_time(day * 86_400);
    t.get(0..10).unwrap_or(&t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_reason() {
        assert_eq!(parse_value(Metric::Lcp, " 1234.5 "), Ok(Some(1234.5)));
        assert_eq!(parse_value(Metric::Lcp, ""), Ok(None));
        assert_eq!(parse_value(Metric::Lcp, "fast"), Err(Reason::NonNumeric));
        assert_eq!(parse_value(Metric::Lcp, "-3"), Err(Reason::Negative));
        assert_eq!(parse_value(Metric::Lcp, "NaN"), Err(Reason::NotFinite));
        assert_eq!(parse_value(Metric::Lcp, "inf"), Err(Reason::NotFinite));
        assert_eq!(parse_value(Metric::Lcp, "3600001"), Err(Reason::Absurd));
        assert_eq!(parse_value(Metric::Cls, "0.25"), Ok(Some(0.25)));
        assert_eq!(parse_value(Metric::Cls, "1000"), Err(Reason::Absurd));
    }

    #[test]
    fn timestamps_in_common_shapes() {
        // 2022-08-27T05:53:00Z = 1661579580 (python: datetime(2022,8,27,5,53,tzinfo=utc).timestamp())
        let t = 1_661_579_580;
        assert_eq!(parse_time("2022-08-27 05:53:00"), Some(t));
        assert_eq!(parse_time("2022-08-27T05:53:00Z"), Some(t));
        assert_eq!(parse_time("2022-08-27T05:53:00.250Z"), Some(t));
        assert_eq!(parse_time("2022-08-27T07:53:00+02:00"), Some(t));
        assert_eq!(parse_time("1661579580"), Some(t));
        assert_eq!(parse_time("1661579580123"), Some(t));
        assert_eq!(parse_time("2022-08-27"), Some(t - 5 * 3600 - 53 * 60));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2022-13-01"), None);
        assert_eq!(parse_time("2016-12-31T23:59:60Z"), Some(1_483_228_800));
        assert_eq!(parse_time("2022-08-27T07:53:00+0200"), Some(t));
        assert_eq!(format_time(t), "2022-08-27T05:53:00Z");
        assert_eq!(format_day(t.div_euclid(86_400)), "2022-08-27");
    }

    #[test]
    fn impossible_calendar_dates_are_rejected_with_the_reason() {
        // Right shape, wrong calendar: February 2024 has 29 days.
        let e = parse_time_checked("2024-02-31 10:00:00").unwrap_err();
        assert_eq!(e, "not a valid date (February 2024 has days 01 to 29)");
        assert_eq!(parse_time("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_time("2023-02-29"), None);
        assert_eq!(parse_time("2024-04-31T00:00:00Z"), None);
        assert!(
            parse_time_checked("2024-02-10 24:00:00")
                .unwrap_err()
                .contains("hour")
        );
    }

    #[test]
    fn ids_hash_and_empty_ids_are_absent() {
        assert_eq!(hash_id("abc"), hash_id(" abc "));
        assert_ne!(hash_id("abc"), hash_id("abd"));
        assert_eq!(hash_id("  "), None);
    }
}
