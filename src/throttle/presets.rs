//! Named presets with the published numbers of the tools people know.
//!
//! Units: `kbps` are kilobits per second of 1000 bits (as WebPageTest and
//! `tc`/netem use them). Lighthouse writes its throughput as `1.6 * 1024`
//! "Kbps" and its simulator multiplies by 1024 again, so its own slow 4G
//! moves 2.4 % more bytes per second than our `slow-4g` with the same number.
//!
//! Sources:
//! - Lighthouse `core/config/constants.js`: `throttling.mobileSlow4G`
//!   (rttMs 150, throughputKbps 1.6 × 1024, upload 750, cpuSlowdownMultiplier 4),
//!   `throttling.desktopDense4G` (rttMs 40, throughputKbps 10 × 1024, 1x CPU),
//!   `screenEmulationMetrics.mobile` (412 × 823 @ 1.75) and `.desktop`
//!   (1350 × 940 @ 1), and the Moto G Power user agent.
//! - WebPageTest `www/settings/connectivity.ini.sample` (bwIn/bwOut in bit/s,
//!   latency = RTT in ms).

use super::profile::{Device, NetworkConditions};

/// A named network preset.
#[derive(Debug, Clone, Copy)]
pub struct NetworkPreset {
    /// Canonical name, matched case-insensitively.
    pub name: &'static str,
    /// Other accepted spellings.
    pub aliases: &'static [&'static str],
    /// Where the numbers come from.
    pub source: &'static str,
    /// The conditions.
    pub conditions: NetworkConditions,
}

const fn net(rtt_ms: f64, down_kbps: f64, up_kbps: f64) -> NetworkConditions {
    NetworkConditions {
        rtt_ms,
        down_kbps,
        up_kbps,
        loss: 0.0,
        jitter_ms: 0.0,
    }
}

/// All network presets, in the order `rumcheck profiles` lists them.
pub const NETWORK_PRESETS: &[NetworkPreset] = &[
    NetworkPreset {
        name: "slow-4g",
        aliases: &["lighthouse-mobile", "mobile-slow-4g"],
        source: "Lighthouse mobile (mobileSlow4G)",
        conditions: net(150.0, 1638.4, 750.0),
    },
    NetworkPreset {
        name: "lighthouse-desktop",
        aliases: &["desktop-dense-4g"],
        source: "Lighthouse desktop (desktopDense4G)",
        conditions: net(40.0, 10240.0, 10240.0),
    },
    NetworkPreset {
        name: "cable",
        aliases: &[],
        source: "WebPageTest Cable",
        conditions: net(28.0, 5000.0, 1000.0),
    },
    NetworkPreset {
        name: "dsl",
        aliases: &[],
        source: "WebPageTest DSL",
        conditions: net(50.0, 1500.0, 384.0),
    },
    NetworkPreset {
        name: "3g",
        aliases: &[],
        source: "WebPageTest 3G",
        conditions: net(300.0, 1600.0, 768.0),
    },
    NetworkPreset {
        name: "3gfast",
        aliases: &["3g-fast"],
        source: "WebPageTest 3GFast",
        conditions: net(150.0, 1600.0, 768.0),
    },
    NetworkPreset {
        name: "4g",
        aliases: &[],
        source: "WebPageTest 4G",
        conditions: net(170.0, 9000.0, 9000.0),
    },
    NetworkPreset {
        name: "lte",
        aliases: &[],
        source: "WebPageTest LTE",
        conditions: net(70.0, 12000.0, 12000.0),
    },
];

/// A named device preset.
#[derive(Debug, Clone, Copy)]
pub struct DevicePreset {
    /// Canonical name, matched case-insensitively.
    pub name: &'static str,
    /// Where the numbers come from.
    pub source: &'static str,
    /// CSS viewport width.
    pub width: u32,
    /// CSS viewport height.
    pub height: u32,
    /// Device pixel ratio.
    pub dpr: f64,
    /// Mobile viewport (meta viewport honoured, overlay scrollbars).
    pub mobile: bool,
    /// Touch events enabled.
    pub touch: bool,
    /// User agent override; `None` keeps the browser's own.
    pub user_agent: Option<&'static str>,
}

impl DevicePreset {
    /// The preset as a [`Device`].
    pub fn device(&self) -> Device {
        Device {
            width: self.width,
            height: self.height,
            dpr: self.dpr,
            mobile: self.mobile,
            touch: self.touch,
            user_agent: self.user_agent.map(str::to_string),
        }
    }
}

/// Lighthouse's mobile user agent (a Moto G Power running Android Chrome).
pub const PHONE_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36";

/// All device presets.
pub const DEVICE_PRESETS: &[DevicePreset] = &[
    DevicePreset {
        name: "phone",
        source: "Lighthouse mobile (Moto G Power)",
        width: 412,
        height: 823,
        dpr: 1.75,
        mobile: true,
        touch: true,
        user_agent: Some(PHONE_USER_AGENT),
    },
    DevicePreset {
        name: "desktop",
        source: "Lighthouse desktop",
        width: 1350,
        height: 940,
        dpr: 1.0,
        mobile: false,
        touch: false,
        user_agent: None,
    },
];

/// A whole-profile preset: network, CPU, device and the field segment together.
#[derive(Debug, Clone, Copy)]
pub struct ProfilePreset {
    /// Canonical name.
    pub name: &'static str,
    /// Where the numbers come from.
    pub source: &'static str,
    /// Network preset name.
    pub network: &'static str,
    /// CPU slowdown factor.
    pub cpu_slowdown: f64,
    /// Device preset name.
    pub device: &'static str,
    /// Segment form factor.
    pub form_factor: &'static str,
    /// Segment connection type, if the preset stands for one.
    pub connection: Option<&'static str>,
}

/// All profile presets (`preset = "…"` in a `[[profile]]`).
pub const PROFILE_PRESETS: &[ProfilePreset] = &[
    ProfilePreset {
        name: "lighthouse-mobile",
        source: "Lighthouse default (mobile, simulated slow 4G, 4x CPU)",
        network: "slow-4g",
        cpu_slowdown: 4.0,
        device: "phone",
        form_factor: "phone",
        connection: Some("4g"),
    },
    ProfilePreset {
        name: "lighthouse-desktop",
        source: "Lighthouse desktop preset",
        network: "lighthouse-desktop",
        cpu_slowdown: 1.0,
        device: "desktop",
        form_factor: "desktop",
        connection: None,
    },
];

/// Finds a network preset by name or alias (case-insensitive).
pub fn network(name: &str) -> Option<&'static NetworkPreset> {
    let name = name.trim();
    NETWORK_PRESETS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Finds a device preset by name (case-insensitive).
pub fn device(name: &str) -> Option<&'static DevicePreset> {
    DEVICE_PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

/// Finds a profile preset by name (case-insensitive).
pub fn profile(name: &str) -> Option<&'static ProfilePreset> {
    PROFILE_PRESETS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

/// Comma-separated canonical network preset names, for error messages.
pub fn network_names() -> String {
    join(NETWORK_PRESETS.iter().map(|p| p.name))
}

/// Comma-separated device preset names, for error messages.
pub fn device_names() -> String {
    join(DEVICE_PRESETS.iter().map(|p| p.name))
}

/// Comma-separated profile preset names, for error messages.
pub fn profile_names() -> String {
    join(PROFILE_PRESETS.iter().map(|p| p.name))
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// The table `rumcheck profiles` prints.
pub fn table() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Network presets (network = \"NAME\"; kbps = 1000 bit/s)"
    );
    let _ = writeln!(
        out,
        "  {:<20} {:>7} {:>10} {:>9}  SOURCE",
        "NAME", "RTT ms", "down kbps", "up kbps"
    );
    for p in NETWORK_PRESETS {
        let c = p.conditions;
        let _ = writeln!(
            out,
            "  {:<20} {:>7} {:>10} {:>9}  {}",
            p.name, c.rtt_ms, c.down_kbps, c.up_kbps, p.source
        );
        if !p.aliases.is_empty() {
            let _ = writeln!(out, "  {:<20} also: {}", "", p.aliases.join(", "));
        }
    }
    let _ = writeln!(out, "\nDevice presets (device = \"NAME\")");
    let _ = writeln!(
        out,
        "  {:<8} {:>10} {:>5} {:<6} {:<5}  SOURCE",
        "NAME", "VIEWPORT", "DPR", "MOBILE", "TOUCH"
    );
    for d in DEVICE_PRESETS {
        let _ = writeln!(
            out,
            "  {:<8} {:>10} {:>5} {:<6} {:<5}  {}",
            d.name,
            format!("{}x{}", d.width, d.height),
            d.dpr,
            yes(d.mobile),
            yes(d.touch),
            d.source
        );
    }
    let _ = writeln!(
        out,
        "\nProfile presets (preset = \"NAME\"; fields you set override them)"
    );
    let _ = writeln!(
        out,
        "  {:<19} {:<19} {:>4} {:<8} {:<14}  SOURCE",
        "NAME", "NETWORK", "CPU", "DEVICE", "SEGMENT"
    );
    for p in PROFILE_PRESETS {
        let segment = match p.connection {
            Some(c) => format!("{}/{c}", p.form_factor),
            None => p.form_factor.to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<19} {:<19} {:>4} {:<8} {:<14}  {}",
            p.name,
            p.network,
            format!("{}x", p.cpu_slowdown),
            p.device,
            segment,
            p.source
        );
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_by_name_and_alias_case_insensitively() {
        assert_eq!(network("Slow-4G").unwrap().conditions.down_kbps, 1638.4);
        assert_eq!(network("lighthouse-mobile").unwrap().name, "slow-4g");
        assert_eq!(network("3GFast").unwrap().conditions.rtt_ms, 150.0);
        assert_eq!(device("PHONE").unwrap().width, 412);
        assert!(network("5g").is_none());
    }

    #[test]
    fn profile_presets_point_at_existing_presets() {
        for p in PROFILE_PRESETS {
            assert!(network(p.network).is_some(), "{}", p.name);
            assert!(device(p.device).is_some(), "{}", p.name);
        }
    }

    #[test]
    fn table_lists_every_preset() {
        let t = table();
        for p in NETWORK_PRESETS {
            assert!(t.contains(p.name));
        }
        assert!(t.contains("412x823"));
        assert!(t.contains("1638.4"));
    }
}
