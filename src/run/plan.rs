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
    /// Variant recorded in samples (`candidate`, `reference`, `block:host`…).
    pub variant: String,
    /// Base URL override for this variant (e.g. the reference build).
    pub base_url: Option<url::Url>,
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

/// Expands `runs` × pages × setups, run-major: every page and setup gets
/// visit `r` before any gets visit `r + 1`, so a slow trend in the host
/// shifts all groups alike instead of biasing the last ones.
pub fn plan(runs: std::ops::Range<u32>, pages: usize, setups: &[Arc<SessionSetup>]) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(runs.len() * pages * setups.len());
    for run in runs {
        for page in 0..pages {
            for setup in setups {
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
