//! The plan: pages × profiles × runs, in an order that spreads slow drift
//! of the host (thermal, background load) evenly over pages and profiles.

use std::sync::Arc;

/// How a profile prepares each session. Built from the scenario's profiles
/// by the runner; the plan only carries it along.
#[derive(Debug, Clone, Default)]
pub struct SessionSetup {
    /// Profile name recorded in samples.
    pub profile: String,
    /// Extra browser arguments (e.g. the shaping proxy).
    pub browser_args: Vec<String>,
    /// CDP commands to send, in order, before the collector is installed.
    pub cdp: Vec<(String, serde_json::Value)>,
    /// CSS viewport.
    pub viewport: (u32, u32),
    /// Which build this setup measures (recorded in samples).
    pub variant: crate::sample::Variant,
    /// Base URL override for this variant (e.g. the reference build).
    pub base_url: Option<url::Url>,
    /// The shaping proxy each session gets (one per session, so concurrent
    /// browsers never share a bandwidth budget).
    pub proxy: Option<crate::throttle::ProxyConfig>,
    /// The calibration tier this setup stands for (calibrated profiles):
    /// run `r` of a page uses tier `r mod of`, so every tier gets the same
    /// share of runs, for candidate and reference alike.
    pub tier: Option<TierSlot>,
    /// Only these scenario pages run under this setup (a calibrated tier is
    /// fitted per page); `None` means every page.
    pub pages: Option<Vec<usize>>,
}

impl SessionSetup {
    /// How a session is put into `profile`'s conditions for `variant`.
    pub fn for_profile(
        profile: &crate::throttle::Profile,
        variant: crate::sample::Variant,
        base_url: Option<url::Url>,
        viewport: (u32, u32),
    ) -> Self {
        SessionSetup {
            profile: profile.name.clone(),
            browser_args: crate::throttle::chrome_args(profile, None),
            cdp: fresh_session_commands(profile),
            viewport: profile
                .device
                .as_ref()
                .map_or(viewport, |d| (d.width, d.height)),
            variant,
            base_url,
            proxy: profile
                .needs_proxy()
                .then(|| crate::throttle::ProxyConfig::from_profile(profile)),
            tier: None,
            pages: None,
        }
    }

    /// Every profile of `scenario` as the candidate build on its own base
    /// URL, at the scenario's viewport: the plain plan of `rumcheck run`.
    pub fn candidates(scenario: &crate::scenario::LoadedScenario) -> Vec<Arc<Self>> {
        let v = scenario.scenario.viewport;
        scenario
            .scenario
            .profiles
            .iter()
            .map(|p| {
                Arc::new(SessionSetup::for_profile(
                    p,
                    crate::sample::Variant::Candidate,
                    None,
                    (v.width, v.height),
                ))
            })
            .collect()
    }
}

/// One tier of a calibrated profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierSlot {
    /// Tier index (0-based), recorded in samples.
    pub index: u32,
    /// Number of tiers of the profile.
    pub of: u32,
}

impl SessionSetup {
    /// Whether this setup runs `page` in run `run`.
    pub fn runs(&self, run: u32, page: usize) -> bool {
        self.pages.as_ref().is_none_or(|p| p.contains(&page))
            && self.tier.is_none_or(|t| t.of == 0 || run % t.of == t.index)
    }
}

/// The profile's CDP commands minus those that only restate a fresh
/// session's defaults (every sample gets a fresh session, and each command
/// is a round trip through chromedriver that lands in the sample's wall time).
fn fresh_session_commands(profile: &crate::throttle::Profile) -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    let plain_device = profile
        .device
        .as_ref()
        .is_none_or(|d| d.dpr == 1.0 && !d.mobile && !d.touch && d.user_agent.is_none());
    let default = |method: &str, params: &serde_json::Value| match method {
        "Emulation.setCPUThrottlingRate" => params == &json!({ "rate": 1.0 }),
        "Emulation.setTouchEmulationEnabled" => params == &json!({ "enabled": false }),
        "Network.setBlockedURLs" => params["urls"].as_array().is_some_and(Vec::is_empty),
        "Network.emulateNetworkConditions" => params["downloadThroughput"] == json!(-1),
        // The session already has this viewport (set when it was created).
        "Emulation.setDeviceMetricsOverride" | "Emulation.clearDeviceMetricsOverride" => {
            plain_device
        }
        _ => false,
    };
    let mut out: Vec<(String, serde_json::Value)> = crate::throttle::cdp_commands(profile)
        .into_iter()
        .filter(|c| !default(c.method, &c.params))
        .map(|c| (c.method.to_string(), c.params))
        .collect();
    // Network.enable only matters before other Network commands.
    if !out
        .iter()
        .any(|(m, _)| m.starts_with("Network.") && m != "Network.enable")
    {
        out.retain(|(m, _)| m != "Network.enable");
    }
    out
}

/// One unit of work: one page (or journey) visited once under one setup.
#[derive(Debug, Clone)]
pub struct Job {
    /// Run index (0-based).
    pub run: u32,
    /// Index into the scenario's pages.
    pub page: usize,
    /// How to set the session up.
    pub setup: Arc<SessionSetup>,
}

/// Expands `runs` × pages × setups (a tiered setup only in its runs), run-major: every page and setup gets
/// visit `r` before any gets visit `r + 1`, so a slow trend in the host
/// shifts all groups alike instead of biasing the last ones. The builds
/// take turns to go first: on odd runs the reference's visits come before
/// the candidate's. With several browsers at once, the visit that starts
/// first loads its page while the next one is being set up; a fixed order
/// put that load on the candidate alone (an unchanged build read +114 %
/// FCP on a two-node Grid).
pub fn plan(runs: std::ops::Range<u32>, pages: usize, setups: &[Arc<SessionSetup>]) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(runs.len() * pages * setups.len());
    for run in runs {
        for page in 0..pages {
            let mut here: Vec<&Arc<SessionSetup>> =
                setups.iter().filter(|s| s.runs(run, page)).collect();
            if run % 2 == 1 {
                // Stable: each build's own setups keep their order.
                here.sort_by_key(|s| s.variant != crate::sample::Variant::Reference);
            }
            for setup in here {
                jobs.push(Job {
                    run,
                    page,
                    setup: Arc::clone(setup),
                });
            }
        }
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builds_take_turns_to_go_first() {
        let text = "name = \"c\"\nbase_url = \"http://127.0.0.1:9\"\n\
                    [[page]]\nname = \"home\"\npath = \"/\"\n\
                    [[profile]]\nname = \"desk\"\n\
                    [[profile]]\nname = \"phone\"\ndevice = \"phone\"\n";
        let s = crate::scenario::parse(text, std::path::Path::new("c.toml")).unwrap();
        let mut setups = SessionSetup::candidates(&s);
        for c in SessionSetup::candidates(&s) {
            let mut r = (*c).clone();
            r.variant = crate::sample::Variant::Reference;
            setups.push(Arc::new(r));
        }
        let order: Vec<(u32, String)> = plan(0..3, 1, &setups)
            .iter()
            .map(|j| (j.run, format!("{:?} {}", j.setup.variant, j.setup.profile)))
            .collect();
        let names = |run: u32| -> Vec<&str> {
            order
                .iter()
                .filter(|(r, _)| *r == run)
                .map(|(_, n)| n.as_str())
                .collect()
        };
        let candidates_first = [
            "Candidate desk",
            "Candidate phone",
            "Reference desk",
            "Reference phone",
        ];
        assert_eq!(names(0), candidates_first);
        assert_eq!(
            names(1),
            [
                "Reference desk",
                "Reference phone",
                "Candidate desk",
                "Candidate phone"
            ]
        );
        assert_eq!(names(2), candidates_first);
    }

    #[test]
    fn candidates_are_every_profile_at_the_scenario_viewport_unless_a_device_says() {
        let text = "name = \"c\"\nbase_url = \"http://127.0.0.1:9\"\nviewport = { width = 1000, height = 700 }\n\
                    [[page]]\nname = \"home\"\npath = \"/\"\n\
                    [[profile]]\nname = \"desk\"\n\
                    [[profile]]\nname = \"phone\"\ndevice = \"phone\"\n";
        let s = crate::scenario::parse(text, std::path::Path::new("c.toml")).unwrap();
        let c = SessionSetup::candidates(&s);
        let names: Vec<&str> = c.iter().map(|x| x.profile.as_str()).collect();
        assert_eq!(names, ["desk", "phone"]);
        assert!(
            c.iter()
                .all(|x| x.variant == crate::sample::Variant::Candidate)
        );
        assert_eq!(c[0].viewport, (1000, 700));
        assert_ne!(c[1].viewport, (1000, 700));
    }

    #[test]
    fn a_default_profile_sends_nothing_and_a_phone_profile_sends_what_it_needs() {
        let default = crate::throttle::Profile::default_for_viewport(1280, 800);
        assert!(fresh_session_commands(&default).is_empty());
        let phone = crate::throttle::ProfileSpec {
            name: "phone".into(),
            preset: Some("lighthouse-mobile".into()),
            engine: crate::throttle::Engine::Cdp,
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let methods: Vec<String> = fresh_session_commands(&phone)
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(
            methods,
            [
                "Network.enable",
                "Network.emulateNetworkConditions",
                "Emulation.setCPUThrottlingRate",
                "Emulation.setDeviceMetricsOverride",
                "Emulation.setTouchEmulationEnabled",
                "Emulation.setUserAgentOverride"
            ]
        );
    }

    #[test]
    fn expands_pages_times_profiles_times_runs_run_major() {
        let setups: Vec<_> = ["phone", "desktop"]
            .iter()
            .map(|p| {
                Arc::new(SessionSetup {
                    profile: p.to_string(),
                    ..Default::default()
                })
            })
            .collect();
        let jobs = plan(0..3, 2, &setups);
        assert_eq!(jobs.len(), 12);
        let order: Vec<(u32, usize, &str)> = jobs
            .iter()
            .map(|j| (j.run, j.page, j.setup.profile.as_str()))
            .collect();
        assert_eq!(
            order[..4],
            [
                (0, 0, "phone"),
                (0, 0, "desktop"),
                (0, 1, "phone"),
                (0, 1, "desktop")
            ]
        );
        assert!(jobs[..4].iter().all(|j| j.run == 0));
        assert_eq!(plan(3..5, 2, &setups)[0].run, 3);
    }
}
