//! Applying a profile to a Chromium session: the DevTools commands (as data,
//! sent by the `browser` module through chromedriver's `goog/cdp/execute`)
//! and the command-line switches that route the browser through the proxy.

use super::profile::{Device, Engine, HostPattern, Profile};
use serde::Serialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// One Chrome DevTools Protocol command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CdpCommand {
    /// Domain and method, e.g. `Emulation.setCPUThrottlingRate`.
    pub method: &'static str,
    /// The command's parameters (an object).
    pub params: Value,
}

impl CdpCommand {
    fn new(method: &'static str, params: Value) -> Self {
        CdpCommand { method, params }
    }

    /// The JSON body chromedriver's `POST /session/{id}/goog/cdp/execute` expects.
    pub fn goog_cdp_body(&self) -> Value {
        json!({ "cmd": self.method, "params": self.params })
    }
}

/// The commands that put a session into `profile`'s conditions, in the order
/// to send them. They set every piece of emulated state (CPU rate, network
/// conditions, blocked URLs, device metrics, touch), so applying profile B
/// after profile A in the same session leaves nothing of A behind — except a
/// user agent override, which only a new session removes.
///
/// `Network.enable` comes first: without it Chromium ignores
/// `emulateNetworkConditions` and `setBlockedURLs` for page fetches. With the
/// proxy engine the network commands reset CDP throttling to "none", since
/// the proxy does the shaping and blocking.
pub fn cdp_commands(profile: &Profile) -> Vec<CdpCommand> {
    let cdp = profile.engine == Engine::Cdp;
    let mut out = vec![CdpCommand::new("Network.enable", json!({}))];
    let conditions = match (&profile.network, cdp) {
        (Some(n), true) => json!({
            "offline": false,
            "latency": n.rtt_ms,
            "downloadThroughput": kbps_to_bytes_per_sec(n.down_kbps),
            "uploadThroughput": kbps_to_bytes_per_sec(n.up_kbps),
        }),
        // -1 disables throughput throttling, as DevTools' "No throttling" does.
        _ => json!({
            "offline": false,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }),
    };
    out.push(CdpCommand::new(
        "Network.emulateNetworkConditions",
        conditions,
    ));
    out.push(CdpCommand::new(
        "Emulation.setCPUThrottlingRate",
        json!({ "rate": profile.cpu_slowdown }),
    ));
    match &profile.device {
        Some(d) => {
            out.push(CdpCommand::new(
                "Emulation.setDeviceMetricsOverride",
                json!({
                    "width": d.width,
                    "height": d.height,
                    "deviceScaleFactor": d.dpr,
                    "mobile": d.mobile,
                    "screenWidth": d.width,
                    "screenHeight": d.height,
                }),
            ));
            let touch = if d.touch {
                json!({ "enabled": true, "maxTouchPoints": 5 })
            } else {
                json!({ "enabled": false })
            };
            out.push(CdpCommand::new("Emulation.setTouchEmulationEnabled", touch));
            if let Some(ua) = &d.user_agent {
                out.push(CdpCommand::new(
                    "Emulation.setUserAgentOverride",
                    json!({ "userAgent": ua, "userAgentMetadata": ua_metadata(ua, d) }),
                ));
            }
        }
        None => {
            out.push(CdpCommand::new(
                "Emulation.clearDeviceMetricsOverride",
                json!({}),
            ));
            out.push(CdpCommand::new(
                "Emulation.setTouchEmulationEnabled",
                json!({ "enabled": false }),
            ));
        }
    }
    let blocked: &[HostPattern] = if cdp { &profile.block } else { &[] };
    out.push(CdpCommand::new(
        "Network.setBlockedURLs",
        blocked_urls(blocked),
    ));
    out
}

/// kbit/s (1000 bit) to the bytes per second CDP expects.
pub fn kbps_to_bytes_per_sec(kbps: f64) -> f64 {
    kbps * 1000.0 / 8.0
}

/// Both the deprecated `urls` wildcards (older Chromium) and `urlPatterns`
/// (URLPattern syntax, newer Chromium; takes precedence where understood).
fn blocked_urls(hosts: &[HostPattern]) -> Value {
    let mut urls = Vec::new();
    let mut patterns = Vec::new();
    for h in hosts {
        let host = if h.is_wildcard() {
            format!("*.{}", h.host())
        } else {
            h.host().to_string()
        };
        urls.push(format!("*://{host}/*"));
        urls.push(format!("*://{host}:*"));
        patterns.push(json!({ "urlPattern": format!("*://{host}:*/*"), "block": true }));
    }
    json!({ "urls": urls, "urlPatterns": patterns })
}

/// User-agent client hints that agree with the overridden UA string, so
/// `Sec-CH-UA-Mobile` and `navigator.userAgentData` do not contradict it.
fn ua_metadata(ua: &str, d: &Device) -> Value {
    let tokens: Vec<&str> = platform_group(ua).split(';').map(str::trim).collect();
    let android = tokens.iter().position(|t| t.starts_with("Android"));
    let (platform, version, model) = if let Some(i) = android {
        let version = tokens[i].trim_start_matches("Android").trim();
        let model = tokens.get(i + 1).copied().unwrap_or("");
        ("Android", version.to_string(), model.to_string())
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        ("iOS", String::new(), String::new())
    } else if ua.contains("Windows") {
        ("Windows", String::new(), String::new())
    } else if ua.contains("Mac OS X") {
        ("macOS", String::new(), String::new())
    } else if ua.contains("CrOS") {
        ("Chrome OS", String::new(), String::new())
    } else {
        ("Linux", String::new(), String::new())
    };
    let major = ua
        .split("Chrome/")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .unwrap_or("")
        .to_string();
    let brands = if major.is_empty() {
        json!([])
    } else {
        json!([
            { "brand": "Chromium", "version": major },
            { "brand": "Not/A)Brand", "version": "24" }
        ])
    };
    json!({
        "brands": brands,
        "platform": platform,
        "platformVersion": version,
        "architecture": "",
        "model": model,
        "mobile": d.mobile,
    })
}

/// The first parenthesised group of a UA string, e.g. `Linux; Android 11; moto g power (2022)`.
fn platform_group(ua: &str) -> &str {
    let Some(open) = ua.find('(') else {
        return "";
    };
    let mut depth = 0;
    for (i, c) in ua[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &ua[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &ua[open + 1..]
}

/// Chrome switches that send every request, loopback included, through the
/// shaping proxy at `proxy`. Chromium bypasses proxies for localhost and
/// 127.0.0.1 unless `<-loopback>` removes that implicit rule.
pub fn proxy_chrome_args(proxy: SocketAddr) -> Vec<String> {
    vec![
        format!("--proxy-server=http://{proxy}"),
        "--proxy-bypass-list=<-loopback>".to_string(),
    ]
}

/// The Chrome switches a profile needs at browser start: the proxy switches
/// when [`Profile::needs_proxy`] and a proxy address is given, nothing otherwise.
pub fn chrome_args(profile: &Profile, proxy: Option<SocketAddr>) -> Vec<String> {
    match proxy {
        Some(addr) if profile.needs_proxy() => proxy_chrome_args(addr),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Profile {
        Profile::from_toml(text).unwrap()
    }

    fn methods(cmds: &[CdpCommand]) -> Vec<&'static str> {
        cmds.iter().map(|c| c.method).collect()
    }

    #[test]
    fn cdp_engine_throttles_through_network_conditions_in_bytes_per_second() {
        let p = profile(
            "name = \"m\"\npreset = \"lighthouse-mobile\"\nengine = \"cdp\"\nblock = [\"ads.test\"]",
        );
        let cmds = cdp_commands(&p);
        assert_eq!(
            methods(&cmds),
            [
                "Network.enable",
                "Network.emulateNetworkConditions",
                "Emulation.setCPUThrottlingRate",
                "Emulation.setDeviceMetricsOverride",
                "Emulation.setTouchEmulationEnabled",
                "Emulation.setUserAgentOverride",
                "Network.setBlockedURLs",
            ]
        );
        // 1638.4 kbit/s × 1000 / 8 = 204800 B/s; 750 kbit/s = 93750 B/s.
        assert_eq!(
            cmds[1].params,
            json!({"offline": false, "latency": 150.0, "downloadThroughput": 204800.0, "uploadThroughput": 93750.0})
        );
        assert_eq!(cmds[2].params, json!({"rate": 4.0}));
        assert_eq!(cmds[3].params["deviceScaleFactor"], json!(1.75));
        assert_eq!(
            cmds[4].params,
            json!({"enabled": true, "maxTouchPoints": 5})
        );
        let meta = &cmds[5].params["userAgentMetadata"];
        assert_eq!(meta["platform"], "Android");
        assert_eq!(meta["platformVersion"], "11");
        assert_eq!(meta["model"], "moto g power (2022)");
        assert_eq!(meta["mobile"], true);
        assert_eq!(meta["brands"][0]["version"], "119");
        assert_eq!(
            cmds[6].params["urls"],
            json!(["*://ads.test/*", "*://ads.test:*"])
        );
        assert_eq!(
            cmds[6].params["urlPatterns"][0]["urlPattern"],
            "*://ads.test:*/*"
        );
    }

    #[test]
    fn proxy_engine_resets_cdp_network_state() {
        let p = profile("name = \"m\"\nnetwork = \"dsl\"\nblock = [\"*.ads.test\"]");
        let cmds = cdp_commands(&p);
        assert_eq!(cmds[0].method, "Network.enable");
        assert_eq!(cmds[1].params["downloadThroughput"], json!(-1));
        assert_eq!(cmds[2].params, json!({"rate": 1.0}));
        assert_eq!(cmds[3].method, "Emulation.clearDeviceMetricsOverride");
        assert_eq!(cmds.last().unwrap().params["urls"], json!([]));
        assert_eq!(
            cmds[0].goog_cdp_body(),
            json!({"cmd": "Network.enable", "params": {}})
        );
    }

    #[test]
    fn chrome_args_route_loopback_through_the_proxy_only_when_needed() {
        let addr: SocketAddr = "127.0.0.1:8123".parse().unwrap();
        let shaped = profile("name = \"m\"\nnetwork = \"cable\"");
        assert_eq!(
            chrome_args(&shaped, Some(addr)),
            [
                "--proxy-server=http://127.0.0.1:8123",
                "--proxy-bypass-list=<-loopback>"
            ]
        );
        let plain = profile("name = \"p\"");
        assert!(chrome_args(&plain, Some(addr)).is_empty());
        let cdp = profile("name = \"c\"\nnetwork = \"cable\"\nengine = \"cdp\"");
        assert!(chrome_args(&cdp, Some(addr)).is_empty());
    }
}
