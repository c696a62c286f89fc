//! The range checks of a profile's values, with errors that name the
//! profile, the field and what is accepted.

use super::{Device, NetworkConditions};
use crate::segment::SegmentKey;
use crate::throttle::error::ProfileError;

pub(super) fn is_none(name: &str) -> bool {
    ["none", "native", "off"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name.trim()))
}

pub(super) fn out_of_range(
    profile: &str,
    field: &'static str,
    value: f64,
    expected: &'static str,
) -> ProfileError {
    ProfileError::OutOfRange {
        profile: profile.to_string(),
        field,
        value,
        expected,
    }
}

pub(super) fn check_network(profile: &str, c: &NetworkConditions) -> Result<(), ProfileError> {
    if !(c.rtt_ms.is_finite() && c.rtt_ms >= 0.0) {
        return Err(out_of_range(
            profile,
            "network.rtt_ms",
            c.rtt_ms,
            "a round-trip time of 0 ms or more",
        ));
    }
    for (field, v) in [
        ("network.down_kbps", c.down_kbps),
        ("network.up_kbps", c.up_kbps),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(out_of_range(
                profile,
                field,
                v,
                "a bandwidth above 0 kbit/s (use network = \"none\" for no shaping)",
            ));
        }
    }
    if !(c.loss.is_finite() && (0.0..1.0).contains(&c.loss)) {
        return Err(out_of_range(
            profile,
            "network.loss",
            c.loss,
            "a share in [0, 1), e.g. 0.01 for 1 % loss",
        ));
    }
    if !(c.jitter_ms.is_finite() && c.jitter_ms >= 0.0) {
        return Err(out_of_range(
            profile,
            "network.jitter_ms",
            c.jitter_ms,
            "0 ms or more",
        ));
    }
    Ok(())
}

pub(super) fn check_device(profile: &str, d: &Device) -> Result<(), ProfileError> {
    for (field, v) in [("device.width", d.width), ("device.height", d.height)] {
        if !(1..=10_000).contains(&v) {
            return Err(out_of_range(
                profile,
                field,
                f64::from(v),
                "between 1 and 10000 CSS px",
            ));
        }
    }
    if !(d.dpr.is_finite() && d.dpr > 0.0 && d.dpr <= 10.0) {
        return Err(out_of_range(
            profile,
            "device.dpr",
            d.dpr,
            "a pixel ratio above 0 and at most 10",
        ));
    }
    Ok(())
}

/// The form factors baselines use (`segment.form_factor`, `--segment`).
pub const FORM_FACTORS: &str = "phone, tablet, desktop";
/// The connection types baselines use (`segment.connection`, `--segment`).
pub const CONNECTIONS: &str = "4g, 3g, 2g, slow-2g";

pub(super) fn check_segment(profile: &str, mut s: SegmentKey) -> Result<SegmentKey, ProfileError> {
    let checks: [(&'static str, &mut Option<String>, &'static str); 2] = [
        ("form_factor", &mut s.form_factor, FORM_FACTORS),
        ("connection", &mut s.connection, CONNECTIONS),
    ];
    for (field, value, valid) in checks {
        if let Some(v) = value {
            let lower = v.trim().to_ascii_lowercase();
            if !valid.split(", ").any(|x| x == lower) {
                return Err(ProfileError::BadSegment {
                    profile: profile.to_string(),
                    field,
                    value: v.clone(),
                    valid,
                });
            }
            *v = lower;
        }
    }
    Ok(s)
}
