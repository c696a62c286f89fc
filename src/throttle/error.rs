//! Errors of the throttle module: bad profiles (exit 2) and proxy failures.

use std::net::SocketAddr;

/// What kind of preset a key names: `preset = "…"` names a profile preset
/// (saying "unknown preset preset" helped nobody).
fn preset_kind(field: &str) -> &str {
    if field == "preset" { "profile" } else { field }
}

/// A profile that cannot be used. Every message names the profile and the
/// field, and says what would be accepted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProfileError {
    /// `name` is empty.
    #[error(
        "a [[profile]] has an empty `name`; give every profile a short unique name such as \"mobile\""
    )]
    EmptyName,
    /// `calibration = ""`.
    #[error(
        "profile \"{0}\": `calibration` is empty; give the file written by `rumcheck calibrate`, e.g. calibration = \"calibration.json\", or remove the line"
    )]
    EmptyCalibration(String),
    /// Two profiles share a name.
    #[error("profile \"{0}\" is declared twice; profile names must be unique")]
    DuplicateName(String),
    /// A preset name that does not exist.
    #[error(
        "profile \"{profile}\": unknown {} preset \"{name}\"; valid presets: {valid}",
        preset_kind(field)
    )]
    UnknownPreset {
        /// Profile name.
        profile: String,
        /// `network`, `device` or `preset`.
        field: &'static str,
        /// The name given.
        name: String,
        /// Comma-separated valid names.
        valid: String,
    },
    /// A number outside its allowed range.
    #[error("profile \"{profile}\": `{field}` = {value} is invalid: {expected}")]
    OutOfRange {
        /// Profile name.
        profile: String,
        /// Field path, e.g. `network.down_kbps`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// A segment value the baselines never use.
    #[error("profile \"{profile}\": `segment.{field}` = \"{value}\" is not one of {valid}")]
    BadSegment {
        /// Profile name.
        profile: String,
        /// `form_factor` or `connection`.
        field: &'static str,
        /// The value given.
        value: String,
        /// Accepted values.
        valid: &'static str,
    },
    /// A `block`/`hang` entry that is not a host name.
    #[error(
        "profile \"{profile}\": `{field}` entry \"{host}\" is not a host name ({reason}); \
         write hosts like \"ads.example.com\" or \"*.example.com\""
    )]
    BadHost {
        /// Profile name.
        profile: String,
        /// `block` or `hang`.
        field: &'static str,
        /// The entry given.
        host: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// `hang` needs the proxy engine.
    #[error(
        "profile \"{0}\": `hang` needs `engine = \"proxy\"` (CDP can refuse requests but cannot \
         hold them open); remove `engine = \"cdp\"` or move the hosts to `block`"
    )]
    HangNeedsProxy(String),
}

/// The shaping proxy could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The chosen port is taken.
    #[error(
        "the shaping proxy cannot listen on {addr}: the port is already in use; \
         choose another proxy port, or 0 to let the system pick a free one"
    )]
    PortInUse {
        /// Address tried.
        addr: SocketAddr,
    },
    /// Any other bind failure.
    #[error("the shaping proxy cannot listen on {addr}: {source}")]
    Bind {
        /// Address tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS identity of a proxy open to the network could not be made.
    #[error("the shaping proxy cannot set up its TLS credentials: {0}")]
    Tls(String),
    /// `--proxy-listen` on every interface without a name to reach it by.
    #[error(
        "--proxy-listen {bind}: browsers on other machines need a name or address for this host\n  hint: add --proxy-advertise HOST (the rumcheck host's name or IP as the grid nodes see it)"
    )]
    NoAdvertise {
        /// The wildcard address given.
        bind: std::net::IpAddr,
    },
    /// An I/O failure while measuring (accuracy check).
    #[error("proxy accuracy check failed during {step}: {source}")]
    Measure {
        /// What was being done.
        step: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}
