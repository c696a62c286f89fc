//! What a gate runs under: one session setup per profile × build (× tier
//! for calibrated pages), the calibrations the profiles name, and the field
//! page each scenario page stands for.

use super::{Gate, GateError};
use crate::calibrate::CalibrationFile;
use crate::projection::TierLayout;
use crate::run::SessionSetup;
use crate::sample::Variant;
use crate::scenario::{LoadedScenario, Step};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One setup per profile for the candidate, and per profile for the
/// reference build when one is measured alongside (interleaved in the plan).
/// A calibrated profile gets one setup per page × tier instead: run `r` of a
/// page runs in tier `r mod K`, for both builds alike.
pub fn setups(
    scenario: &LoadedScenario,
    reference: Option<&url::Url>,
    calibrations: &BTreeMap<String, CalibrationFile>,
) -> Vec<Arc<SessionSetup>> {
    let v = scenario.scenario.viewport;
    let variants: Vec<(Variant, Option<url::Url>)> = std::iter::once((Variant::Candidate, None))
        .chain(reference.map(|u| (Variant::Reference, Some(u.clone()))))
        .collect();
    let mut out = Vec::new();
    for profile in &scenario.scenario.profiles {
        let file = calibrations.get(&profile.name);
        let mut plain_pages = Vec::new();
        for (i, page) in scenario.scenario.pages.iter().enumerate() {
            let Some(entry) = file.and_then(|f| f.entry(&profile.name, &page.name)) else {
                plain_pages.push(i);
                continue;
            };
            let of = entry.tiers.len() as u32;
            for (k, tier) in entry.tiers.iter().enumerate() {
                let tiered = tier.profile(profile);
                for (variant, base) in &variants {
                    let mut s = SessionSetup::for_profile(
                        &tiered,
                        variant.clone(),
                        base.clone(),
                        (v.width, v.height),
                    );
                    s.tier = Some(crate::run::TierSlot {
                        index: k as u32,
                        of,
                    });
                    s.pages = Some(vec![i]);
                    out.push(Arc::new(s));
                }
            }
        }
        if plain_pages.is_empty() {
            continue;
        }
        let only = (plain_pages.len() < scenario.scenario.pages.len()).then_some(plain_pages);
        for (variant, base) in &variants {
            let mut s = SessionSetup::for_profile(
                profile,
                variant.clone(),
                base.clone(),
                (v.width, v.height),
            );
            s.pages = only.clone();
            out.push(Arc::new(s));
        }
    }
    out
}

/// (profile, page) → tier layout of every calibrated page.
pub fn calibrated_layouts(
    calibrations: &BTreeMap<String, CalibrationFile>,
) -> BTreeMap<(String, String), Vec<TierLayout>> {
    calibrations
        .iter()
        .flat_map(|(profile, file)| {
            file.entries
                .iter()
                .filter(move |e| &e.profile == profile)
                .map(|e| ((e.profile.clone(), e.page.clone()), e.layout()))
        })
        .collect()
}

/// Warnings when a calibration was made on another host or browser, or
/// with visits isolated otherwise or more browsers at once.
pub(super) fn calibration_notes(
    calibrations: &BTreeMap<String, CalibrationFile>,
    browser: &str,
    isolation: crate::scenario::Isolation,
    concurrency: usize,
) -> Vec<String> {
    let mut notes: Vec<String> = calibrations
        .values()
        .flat_map(|f| f.mismatch(browser, isolation, concurrency))
        .collect();
    notes.sort();
    notes.dedup();
    notes
}

impl Gate {
    /// Profile name → its calibration: `--calibration` for every profile it
    /// covers, else the profile's own `calibration` file (relative to the
    /// scenario).
    pub(super) fn calibrations(&self) -> Result<BTreeMap<String, CalibrationFile>, GateError> {
        let mut out = BTreeMap::new();
        let profiles = &self.scenario.scenario.profiles;
        if let Some(path) = &self.calibration {
            let file = CalibrationFile::read(path)?;
            for p in profiles {
                if file.profiles().contains(&p.name.as_str()) {
                    out.insert(p.name.clone(), file.clone());
                }
            }
            if out.is_empty() {
                return Err(GateError::CalibrationProfile {
                    file: path.display().to_string(),
                    profile: profiles
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    has: file.profiles().join(", "),
                });
            }
            return Ok(out);
        }
        let dir = self.scenario.path.parent().unwrap_or(Path::new("."));
        for p in profiles {
            let Some(name) = &p.calibration else { continue };
            let path = dir.join(name);
            let file = CalibrationFile::read(&path)?;
            if !file.profiles().contains(&p.name.as_str()) {
                return Err(GateError::CalibrationProfile {
                    file: path.display().to_string(),
                    profile: p.name.clone(),
                    has: file.profiles().join(", "),
                });
            }
            out.insert(p.name.clone(), file);
        }
        Ok(out)
    }
}

/// Sample page name → baseline page key, for pages and journey legs.
pub fn field_pages(scenario: &LoadedScenario) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for page in &scenario.scenario.pages {
        out.insert(page.name.clone(), scenario.field_page(page));
        for step in &page.steps {
            if let Step::Navigate(n) = step {
                out.insert(
                    format!("{}/{}", page.name, n.name()),
                    crate::segment::template(n.path()),
                );
            }
        }
    }
    out
}
