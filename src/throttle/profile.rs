//! The profile model: what a `[[profile]]` table in a scenario says, and its
//! validated form.
//!
//! ```toml
//! [[profile]]
//! name = "mobile"
//! preset = "lighthouse-mobile"            # optional: network + CPU + device + segment
//! network = "slow-4g"                     # or { rtt_ms = 150, down_kbps = 1638.4, up_kbps = 750 }
//! cpu_slowdown = 4
//! device = "phone"                        # or { width = 412, height = 823, dpr = 1.75, mobile = true }
//! segment = { form_factor = "phone", connection = "4g" }
//! engine = "proxy"                        # or "cdp"
//! block = ["ads.example.com"]             # refused, as by an ad-blocker or an outage
//! hang = ["*.slowcdn.example"]            # accepted, never answered
//! calibration = "calibration.json"        # optional: tiers fitted by `rumcheck calibrate`
//! ```

mod checks;

pub use checks::{CONNECTIONS, FORM_FACTORS};
use checks::{check_device, check_network, check_segment, is_none, out_of_range};

use super::error::ProfileError;
use super::presets;
use crate::segment::SegmentKey;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// Name of the profile used when a scenario declares none (matches the
/// `profile` default of [`crate::Sample`]).
pub const DEFAULT_PROFILE_NAME: &str = "default";

/// Network conditions as a user experiences them. `kbps` = 1000 bit/s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConditions {
    /// Round-trip time in ms (each direction costs half).
    pub rtt_ms: f64,
    /// Downstream bandwidth in kbit/s.
    pub down_kbps: f64,
    /// Upstream bandwidth in kbit/s.
    pub up_kbps: f64,
    /// Share of segments lost, in [0, 1); each loss costs an extra RTT.
    #[serde(default)]
    pub loss: f64,
    /// Each round trip's one-way delay varies uniformly by ± this many ms.
    #[serde(default)]
    pub jitter_ms: f64,
}

/// An emulated device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// CSS viewport width in px.
    pub width: u32,
    /// CSS viewport height in px.
    pub height: u32,
    /// Device pixel ratio.
    #[serde(default = "one")]
    pub dpr: f64,
    /// Mobile viewport (meta viewport honoured, overlay scrollbars).
    #[serde(default)]
    pub mobile: bool,
    /// Touch events enabled.
    #[serde(default)]
    pub touch: bool,
    /// User agent override; absent keeps the browser's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// How network conditions reach the browser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// rumcheck's shaping proxy: connection-level, moves TTFB like a real network.
    #[default]
    Proxy,
    /// `Network.emulateNetworkConditions`: request-level, does not move the
    /// navigation's `responseStart`.
    Cdp,
}

/// Either a preset name or an inline table, as TOML allows for `network` and `device`.
#[derive(Debug, Clone, PartialEq)]
pub enum NameOr<T> {
    /// A preset name.
    Preset(String),
    /// Inline values.
    Custom(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NameOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = NameOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a preset name (see `rumcheck profiles`) or an inline table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NameOr::Preset(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(NameOr::Custom)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A `[[profile]]` table exactly as written, before presets are resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Unique name; recorded in every sample.
    pub name: String,
    /// Whole-profile preset (`lighthouse-mobile`, `lighthouse-desktop`); other fields override it.
    #[serde(default)]
    pub preset: Option<String>,
    /// Network preset name, `"none"`, or inline conditions.
    #[serde(default)]
    pub network: Option<NameOr<NetworkConditions>>,
    /// CPU slowdown factor (≥ 1; default 1, or the preset's).
    #[serde(default)]
    pub cpu_slowdown: Option<f64>,
    /// Device preset name or inline device.
    #[serde(default)]
    pub device: Option<NameOr<Device>>,
    /// The field segment this profile stands for.
    #[serde(default)]
    pub segment: Option<SegmentKey>,
    /// Network engine (default `proxy`).
    #[serde(default)]
    pub engine: Engine,
    /// Hosts whose connections are refused.
    #[serde(default)]
    pub block: Vec<String>,
    /// Hosts that accept connections and never answer (proxy engine only).
    #[serde(default)]
    pub hang: Vec<String>,
    /// A calibration file (`rumcheck calibrate`), relative to the scenario:
    /// visits are spread over its tiers and field rows are projected.
    #[serde(default)]
    pub calibration: Option<String>,
}

/// A validated profile with presets resolved. Deserializing a `Profile`
/// validates it, so a scenario embedding `Vec<Profile>` reports errors with
/// TOML's line numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ProfileSpec")]
pub struct Profile {
    /// Unique name.
    pub name: String,
    /// Network conditions; `None` means unshaped.
    pub network: Option<NetworkConditions>,
    /// CPU slowdown factor (1 = none).
    pub cpu_slowdown: f64,
    /// Emulated device; `None` leaves the browser window as it is.
    pub device: Option<Device>,
    /// The field segment compared against.
    pub segment: SegmentKey,
    /// Network engine.
    pub engine: Engine,
    /// Refused hosts.
    pub block: Vec<HostPattern>,
    /// Hung hosts.
    pub hang: Vec<HostPattern>,
    /// Calibration file as written in the scenario (relative to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
}

impl TryFrom<ProfileSpec> for Profile {
    type Error = ProfileError;
    fn try_from(spec: ProfileSpec) -> Result<Self, ProfileError> {
        spec.resolve()
    }
}

impl Profile {
    /// The profile used when a scenario declares none: no throttling, a
    /// desktop viewport of the scenario's size.
    pub fn default_for_viewport(width: u32, height: u32) -> Profile {
        Profile {
            name: DEFAULT_PROFILE_NAME.to_string(),
            network: None,
            cpu_slowdown: 1.0,
            device: Some(Device {
                width,
                height,
                dpr: 1.0,
                mobile: false,
                touch: false,
                user_agent: None,
            }),
            segment: SegmentKey::default(),
            engine: Engine::Proxy,
            block: Vec::new(),
            hang: Vec::new(),
            calibration: None,
        }
    }

    /// Whether the browser must be pointed at the shaping proxy.
    pub fn needs_proxy(&self) -> bool {
        self.engine == Engine::Proxy
            && (self.network.is_some() || !self.block.is_empty() || !self.hang.is_empty())
    }

    /// Parses one `[[profile]]` table from TOML text (mainly for tests and tools).
    pub fn from_toml(text: &str) -> Result<Profile, toml::de::Error> {
        toml::from_str(text)
    }
}

/// Checks what no single profile can: names are unique.
pub fn check_unique(profiles: &[Profile]) -> Result<(), ProfileError> {
    let mut seen = std::collections::HashSet::new();
    for p in profiles {
        if !seen.insert(p.name.as_str()) {
            return Err(ProfileError::DuplicateName(p.name.clone()));
        }
    }
    Ok(())
}

impl ProfileSpec {
    /// Resolves presets and validates every field.
    pub fn resolve(self) -> Result<Profile, ProfileError> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(ProfileError::EmptyName);
        }
        let unknown = |field, given: &str, valid: String| ProfileError::UnknownPreset {
            profile: name.clone(),
            field,
            name: given.to_string(),
            valid,
        };
        let preset = match &self.preset {
            None => None,
            Some(p) => Some(
                presets::profile(p)
                    .ok_or_else(|| unknown("preset", p, presets::profile_names()))?,
            ),
        };
        let network_spec = self
            .network
            .clone()
            .or_else(|| preset.map(|p| NameOr::Preset(p.network.to_string())));
        let network = match network_spec {
            None => None,
            Some(NameOr::Preset(n)) if is_none(&n) => None,
            Some(NameOr::Preset(n)) => Some(
                presets::network(&n)
                    .ok_or_else(|| {
                        unknown("network", &n, format!("none, {}", presets::network_names()))
                    })?
                    .conditions,
            ),
            Some(NameOr::Custom(c)) => Some(c),
        };
        if let Some(c) = &network {
            check_network(&name, c)?;
        }
        let cpu_slowdown = self
            .cpu_slowdown
            .or(preset.map(|p| p.cpu_slowdown))
            .unwrap_or(1.0);
        if !(cpu_slowdown.is_finite() && cpu_slowdown >= 1.0) {
            return Err(out_of_range(
                &name,
                "cpu_slowdown",
                cpu_slowdown,
                "a factor of at least 1 (1 = no slowdown, 4 = Lighthouse mobile)",
            ));
        }
        let device_spec = self
            .device
            .clone()
            .or_else(|| preset.map(|p| NameOr::Preset(p.device.to_string())));
        let device = match device_spec {
            None => None,
            Some(NameOr::Preset(n)) => Some(
                presets::device(&n)
                    .ok_or_else(|| unknown("device", &n, presets::device_names()))?
                    .device(),
            ),
            Some(NameOr::Custom(d)) => Some(d),
        };
        if let Some(d) = &device {
            check_device(&name, d)?;
        }
        let segment = match self.segment {
            Some(s) => check_segment(&name, s)?,
            None => SegmentKey {
                form_factor: preset.map(|p| p.form_factor.to_string()),
                connection: preset.and_then(|p| p.connection.map(str::to_string)),
                ..SegmentKey::default()
            },
        };
        let block = hosts(&name, "block", &self.block)?;
        let hang = hosts(&name, "hang", &self.hang)?;
        let calibration = self.calibration.map(|c| c.trim().to_string());
        if calibration.as_deref() == Some("") {
            return Err(ProfileError::EmptyCalibration(name));
        }
        if self.engine == Engine::Cdp && !hang.is_empty() {
            return Err(ProfileError::HangNeedsProxy(name));
        }
        Ok(Profile {
            name,
            network,
            cpu_slowdown,
            device,
            segment,
            engine: self.engine,
            block,
            hang,
            calibration,
        })
    }
}

/// A host a `block` or `hang` rule applies to: `ads.example.com` (exactly
/// that host) or `*.example.com` (any subdomain, not `example.com` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct HostPattern {
    host: String,
    subdomains: bool,
}

impl From<HostPattern> for String {
    fn from(p: HostPattern) -> String {
        p.to_string()
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subdomains {
            write!(f, "*.{}", self.host)
        } else {
            f.write_str(&self.host)
        }
    }
}

impl HostPattern {
    /// Parses `host` or `*.domain`; the error reason says what is wrong.
    pub fn parse(text: &str) -> Result<HostPattern, &'static str> {
        let t = text.trim().to_ascii_lowercase();
        let (subdomains, host) = match t.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, t),
        };
        if host.is_empty() {
            return Err("it is empty");
        }
        if host.contains("://") || host.contains('/') {
            return Err("give the host only, not a URL");
        }
        if host.contains(':') {
            return Err("leave out the port; every port of the host is matched");
        }
        if host.contains('*') {
            return Err("only a leading `*.` wildcard is supported");
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err("it contains characters a host name cannot have");
        }
        Ok(HostPattern { host, subdomains })
    }

    /// Whether `host` (no port, any case) is covered by this pattern.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        if self.subdomains {
            host.len() > self.host.len() + 1
                && host[host.len() - self.host.len()..].eq_ignore_ascii_case(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host.eq_ignore_ascii_case(&self.host)
        }
    }

    /// The host part (without `*.`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the pattern covers subdomains (`*.`) rather than one host.
    pub fn is_wildcard(&self) -> bool {
        self.subdomains
    }
}

fn hosts(
    profile: &str,
    field: &'static str,
    list: &[String],
) -> Result<Vec<HostPattern>, ProfileError> {
    list.iter()
        .map(|h| {
            HostPattern::parse(h).map_err(|reason| ProfileError::BadHost {
                profile: profile.to_string(),
                field,
                host: h.clone(),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
