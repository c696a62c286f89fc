//! The calibration file written by `rumcheck calibrate` and read by `run`,
//! `compare` and `demo` (documented in `docs/calibration-format.md`).

use crate::metric::Metric;
use crate::projection::TierLayout;
use crate::scenario::Isolation;
use crate::segment::SegmentKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the calibration file format. Bump on incompatible changes.
pub const CALIBRATION_SCHEMA: u32 = 1;

/// The field quantiles the fit is reported at.
pub const FIT_QUANTILES: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

/// The metrics a calibration matches, in the order it fits them.
pub const FITTED: [Metric; 3] = [Metric::Ttfb, Metric::Fcp, Metric::Lcp];

/// A whole calibration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// Format version ([`CALIBRATION_SCHEMA`]).
    pub schema: u32,
    /// RFC 3339 time the calibration finished.
    pub created_at: String,
    /// rumcheck version that wrote it.
    pub rumcheck_version: String,
    /// Browser name and version the tiers were fitted with.
    pub browser: String,
    /// The host the tiers were fitted on.
    pub host: HostFigures,
    /// The baseline file the field came from, as given.
    pub baseline: String,
    /// The production build that was fitted (`--base-url`).
    pub base_url: String,
    /// How the fitting visits were isolated. Absent in files written before
    /// rumcheck had browser contexts: those fitted a browser per visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<Isolation>,
    /// How many browsers ran at once while fitting. Absent in files written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// One entry per scenario page × profile.
    pub entries: Vec<CalibratedPage>,
}

/// The host's figures at calibration time (from the `calibrate-host` probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFigures {
    /// Logical CPU cores.
    pub cores: usize,
    /// Operating system and architecture.
    pub os: String,
    /// `calibrate-host` under the median tier's conditions, if it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::run::calibrate::Calibration>,
}

impl HostFigures {
    /// This host, without a probe.
    pub fn detect() -> HostFigures {
        HostFigures {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            probe: None,
        }
    }
}

/// The fitted tiers of one scenario page under one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedPage {
    /// Profile name in the scenario.
    pub profile: String,
    /// Page name in the scenario.
    pub page: String,
    /// The baseline page key the field came from.
    pub field_page: String,
    /// The baseline segment the field came from.
    pub segment: SegmentKey,
    /// The tiers, fastest first.
    pub tiers: Vec<Tier>,
    /// Lab mixture vs field, per fitted metric.
    pub fit: BTreeMap<Metric, Fit>,
    /// Browser visits the fit took.
    pub visits: usize,
    /// What the search could not do (a bound reached, a metric missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Lab conditions standing for one quantile band of real users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// The field quantile level the tier reproduces (band centre).
    pub quantile: f64,
    /// Share of real users it stands for.
    pub weight: f64,
    /// Round-trip time (ms).
    pub rtt_ms: f64,
    /// Downstream bandwidth (kbit/s).
    pub down_kbps: f64,
    /// Upstream bandwidth (kbit/s).
    pub up_kbps: f64,
    /// CPU slowdown factor.
    pub cpu_slowdown: f64,
    /// The field value at `quantile`, per fitted metric.
    pub target: BTreeMap<Metric, f64>,
    /// The lab median under these conditions, per fitted metric.
    pub lab: BTreeMap<Metric, f64>,
}

/// How well the tiers reproduce the field for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Field values at [`FIT_QUANTILES`].
    pub field: Vec<f64>,
    /// The calibrated lab mixture at [`FIT_QUANTILES`].
    pub lab: Vec<f64>,
    /// Largest `|lab / field − 1|` over the quantiles.
    pub max_rel_error: f64,
    /// `lab / field − 1` at p75.
    pub p75_rel_error: f64,
}

impl CalibrationFile {
    /// The entry for `profile` × `page`, if calibrated.
    pub fn entry(&self, profile: &str, page: &str) -> Option<&CalibratedPage> {
        self.entries
            .iter()
            .find(|e| e.profile == profile && e.page == page)
    }

    /// Profiles with at least one calibrated page.
    pub fn profiles(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.entries.iter().map(|e| e.profile.as_str()).collect();
        p.dedup();
        p
    }

    /// Reasons this calibration may not hold on the current host and
    /// browser, for visits isolated as `isolation` with `concurrency`
    /// browsers at once.
    pub fn mismatch(&self, browser: &str, isolation: Isolation, concurrency: usize) -> Vec<String> {
        let here = HostFigures::detect();
        let mut out = Vec::new();
        let major = |v: &str| {
            v.split_whitespace()
                .last()
                .and_then(|s| s.split('.').next())
                .map(str::to_string)
        };
        if !browser.is_empty() && !self.browser.is_empty() && major(browser) != major(&self.browser)
        {
            out.push(format!(
                "calibrated with {} but running {browser}: run `rumcheck calibrate` again",
                self.browser
            ));
        }
        let fitted = self.isolation.unwrap_or(Isolation::Browser);
        if fitted != isolation {
            // Measured: paint timings of a cold browser process differ by a
            // few ms to ~20 ms under load (docs/isolation-equivalence.md).
            out.push(format!(
                "calibrated with isolation = \"{}\" but this run uses \"{}\": paint timings may shift by a few ms; set isolation = \"{}\" in the scenario or run `rumcheck calibrate` again",
                fitted.as_str(),
                isolation.as_str(),
                fitted.as_str()
            ));
        }
        // Browsers beyond one per two cores compete for the CPU and slow
        // paints (README, "Measured": on 2 cores a second browser made FCP
        // read 27-34 % higher); below that, the count does not matter.
        let quiet = crate::run::concurrency_for(here.cores);
        if let Some(fitted) = self.concurrency
            && fitted != concurrency
            && fitted.max(concurrency) > quiet
        {
            out.push(format!(
                "calibrated with {fitted} browser(s) at once but this run uses {concurrency} on {} cores: CPU contention shifts paint timings; pass --concurrency {fitted} or run `rumcheck calibrate` again",
                here.cores
            ));
        }
        if here.cores != self.host.cores || here.os != self.host.os {
            out.push(format!(
                "calibrated on a {}-core {} host, running on a {}-core {} host: CPU tiers may not transfer; run `rumcheck calibrate` on this machine",
                self.host.cores, self.host.os, here.cores, here.os
            ));
        }
        out
    }

    /// Reads and checks a calibration file.
    pub fn read(path: &Path) -> Result<CalibrationFile, CalibrationError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CalibrationError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: CalibrationFile =
            serde_json::from_str(&text).map_err(|e| CalibrationError::Parse {
                path: shown.clone(),
                line: e.line(),
                message: e.to_string(),
            })?;
        if file.schema != CALIBRATION_SCHEMA {
            return Err(CalibrationError::Schema {
                path: shown,
                found: file.schema,
            });
        }
        for e in &file.entries {
            e.check().map_err(|message| CalibrationError::Invalid {
                path: shown.clone(),
                message,
            })?;
        }
        Ok(file)
    }
}

impl Tier {
    /// `base` under this tier's conditions, through the shaping proxy.
    pub fn profile(&self, base: &crate::throttle::Profile) -> crate::throttle::Profile {
        crate::throttle::Profile {
            network: Some(crate::throttle::NetworkConditions {
                rtt_ms: self.rtt_ms,
                down_kbps: self.down_kbps,
                up_kbps: self.up_kbps,
                loss: 0.0,
                jitter_ms: 0.0,
            }),
            cpu_slowdown: self.cpu_slowdown,
            engine: crate::throttle::Engine::Proxy,
            ..base.clone()
        }
    }
}

impl CalibratedPage {
    /// The tiers as the projection sees them.
    pub fn layout(&self) -> Vec<TierLayout> {
        self.tiers
            .iter()
            .map(|t| TierLayout {
                quantile: t.quantile,
                weight: t.weight,
            })
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        let at = format!("entry {} [{}]", self.page, self.profile);
        if self.tiers.is_empty() {
            return Err(format!("{at} has no tiers"));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            let bad = |field: &str, v: f64| format!("{at} tier {i}: {field} = {v} is out of range");
            if !(t.quantile > 0.0 && t.quantile < 1.0) {
                return Err(bad("quantile", t.quantile));
            }
            if !(t.weight > 0.0 && t.weight <= 1.0) {
                return Err(bad("weight", t.weight));
            }
            if !(t.rtt_ms.is_finite() && t.rtt_ms >= 0.0) {
                return Err(bad("rtt_ms", t.rtt_ms));
            }
            for (f, v) in [("down_kbps", t.down_kbps), ("up_kbps", t.up_kbps)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(bad(f, v));
                }
            }
            if !(t.cpu_slowdown.is_finite() && t.cpu_slowdown >= 1.0) {
                return Err(bad("cpu_slowdown", t.cpu_slowdown));
            }
        }
        Ok(())
    }
}

/// Why a calibration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// Unreadable.
    #[error(
        "cannot read calibration '{path}': {source}\n  hint: create it with `rumcheck calibrate SCENARIO --baseline B.json -o {path}`"
    )]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a calibration file.
    #[error(
        "{path}:{line}: not a rumcheck calibration file: {message}\n  hint: create it with `rumcheck calibrate`"
    )]
    Parse {
        /// The file.
        path: String,
        /// Line of the error.
        line: usize,
        /// serde's message.
        message: String,
    },
    /// Another schema version.
    #[error(
        "{path}: calibration schema {found}, this rumcheck reads schema {CALIBRATION_SCHEMA}\n  hint: run `rumcheck calibrate` again"
    )]
    Schema {
        /// The file.
        path: String,
        /// The version found.
        found: u32,
    },
    /// Values out of range.
    #[error(
        "{path}: {message}\n  hint: run `rumcheck calibrate` again rather than editing the file"
    )]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(isolation: Option<Isolation>) -> CalibrationFile {
        CalibrationFile {
            schema: CALIBRATION_SCHEMA,
            created_at: String::new(),
            rumcheck_version: String::new(),
            browser: "Chromium 156.0.1".into(),
            host: HostFigures::detect(),
            baseline: String::new(),
            base_url: String::new(),
            isolation,
            concurrency: Some(1),
            entries: Vec::new(),
        }
    }

    #[test]
    fn another_isolation_mode_is_a_note_and_old_files_count_as_browser() {
        let browser = "Chromium 156.0.2";
        let context = file(Some(Isolation::Context));
        assert!(context.mismatch(browser, Isolation::Context, 1).is_empty());
        let notes = context.mismatch(browser, Isolation::Browser, 1);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "calibrated with isolation = \"context\" but this run uses \"browser\""
            ),
            "{notes:?}"
        );
        // Written before isolation was recorded: a browser per visit.
        let old = file(None);
        assert!(old.mismatch(browser, Isolation::Browser, 1).is_empty());
        assert_eq!(old.mismatch(browser, Isolation::Context, 1).len(), 1);
        // The mode round-trips through the file; an old file has no field.
        let text = serde_json::to_string(&context).unwrap();
        assert!(text.contains("\"isolation\":\"context\""), "{text}");
        let back: CalibrationFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back.isolation, Some(Isolation::Context));
        assert!(!serde_json::to_string(&old).unwrap().contains("isolation"));
    }

    #[test]
    fn more_browsers_than_one_per_two_cores_is_a_note() {
        let browser = "Chromium 156.0.2";
        let cores = HostFigures::detect().cores;
        let quiet = crate::run::concurrency_for(cores);
        let fitted = file(Some(Isolation::Context));
        // Within one browser per two cores the count does not matter.
        assert!(
            fitted
                .mismatch(browser, Isolation::Context, quiet)
                .is_empty()
        );
        let crowded = fitted.mismatch(browser, Isolation::Context, quiet + 1);
        assert_eq!(crowded.len(), 1, "{crowded:?}");
        assert!(
            crowded[0].starts_with(&format!(
                "calibrated with 1 browser(s) at once but this run uses {}",
                quiet + 1
            )),
            "{crowded:?}"
        );
        assert!(crowded[0].contains("--concurrency 1"), "{crowded:?}");
        // Files written before the count was recorded get no note.
        let old = CalibrationFile {
            concurrency: None,
            ..fitted.clone()
        };
        assert!(old.mismatch(browser, Isolation::Context, 64).is_empty());
        let text = serde_json::to_string(&fitted).unwrap();
        let back: CalibrationFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back.concurrency, Some(1));
    }
}
