//! Shards: one plan split across CI jobs (`rumcheck run --shard K/N`), and
//! the check that puts the shards' samples back together as one gate
//! (`rumcheck compare a.ndjson b.ndjson …`).
//!
//! The unit of a shard is a *cell*: one run of one page under one profile,
//! with every build (candidate and reference) and the calibration tier that
//! run uses. Cells are numbered run-major (run, then page, then profile) and
//! dealt round-robin, so every shard holds matched candidate and reference
//! visits, shard sizes differ by at most one cell, and early runs of every
//! page land in every shard.

use super::plan::{Job, SessionSetup};
use crate::sample::{Sample, ShardStamp};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Shard `index` (1-based, as on the command line) of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    /// Number of shards (≥ 1).
    pub of: u32,
}

/// A shard flag that cannot be used, or shard files that do not add up to one gate.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// `--shard` is not `K/N` with 1 ≤ K ≤ N.
    #[error(
        "--shard {text:?}: {reason}\n  hint: write --shard K/N with 1 ≤ K ≤ N, e.g. --shard 2/4 for the second of four CI jobs"
    )]
    Flag {
        /// What was given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// More shards than cells: some shard would have nothing to run.
    #[error(
        "--shard {index}/{of}: the plan has only {cells} cell(s) (pages × profiles × runs), so shard(s) would be empty\n  hint: use at most {cells} shards, or raise --runs"
    )]
    TooMany {
        /// K.
        index: u32,
        /// N.
        of: u32,
        /// Cells in the plan.
        cells: u64,
    },
    /// `--runs auto` decides after each look over every visit: one job cannot.
    #[error(
        "--shard cannot be combined with --runs auto: an adaptive gate decides after each look over all visits, which one CI job of several cannot see\n  hint: give a fixed count, e.g. --runs 30, and judge the shards with `rumcheck compare`"
    )]
    Adaptive,
    /// A sample's stamp is impossible (K outside 1..=N).
    #[error(
        "{file}:{line}: shard {index}/{of} is not a valid shard\n  hint: samples files are written by `rumcheck run --shard K/N`; re-record this shard"
    )]
    BadStamp {
        /// The file.
        file: String,
        /// 1-based sample number in the file.
        line: usize,
        /// K.
        index: u32,
        /// N.
        of: u32,
    },
    /// Shard samples mixed with samples of an unsharded run.
    #[error(
        "'{sharded}' holds shard samples but '{plain}' holds samples of an unsharded run: they are not one gate\n  hint: pass the samples of every shard of one `rumcheck run --shard K/N` matrix, and nothing else"
    )]
    Mixed {
        /// A file with shard samples.
        sharded: String,
        /// A file without.
        plain: String,
    },
    /// Two shards of different plans, scenarios or splits.
    #[error(
        "'{file}' is {this} but '{first_file}' is {first}: shards of different {what} are not one gate\n  hint: every shard job must run the same scenario with the same --runs, --reference-url and calibration, and the same N in --shard K/N"
    )]
    Different {
        /// The file that disagrees.
        file: String,
        /// What it is.
        this: String,
        /// The first file.
        first_file: String,
        /// What that is.
        first: String,
        /// `scenarios`, `plans` or `splits`.
        what: &'static str,
    },
    /// The same shard twice.
    #[error(
        "shard {index}/{of} is given twice: in '{first}' and in '{second}'\n  hint: pass each shard's samples once (each CI job's samples.ndjson)"
    )]
    Duplicate {
        /// K.
        index: u32,
        /// N.
        of: u32,
        /// One file.
        first: String,
        /// The other.
        second: String,
    },
    /// Shards missing from the set.
    #[error(
        "shard(s) {missing} of {of} missing (given: {given}): their pages, profiles and runs would go unjudged\n  hint: pass every shard's samples, or --allow-missing-shards to judge the visits that are there"
    )]
    Missing {
        /// Missing K's, e.g. `2, 4`.
        missing: String,
        /// N.
        of: u32,
        /// The files given.
        given: String,
    },
}

impl std::str::FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let bad = |reason: &str| ShardError::Flag {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, e.g. 2/4"))?;
        let parse = |part: &str, what: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("{what} {:?} is not a whole number", part.trim())))
        };
        let (index, of) = (parse(k, "K")?, parse(n, "N")?);
        if of == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > of {
            return Err(bad(&format!(
                "K must be 1 to {of} (shards are numbered from 1)"
            )));
        }
        Ok(Shard { index, of })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

/// The cells of a plan: numbers (run, page, profile) run-major.
#[derive(Debug, Clone)]
pub struct Cells {
    pages: u64,
    profiles: Vec<String>,
}

impl Cells {
    /// The cell layout of `pages` pages under `setups` (profiles in the
    /// order the setups name them).
    pub fn new(pages: usize, setups: &[Arc<SessionSetup>]) -> Cells {
        let mut profiles: Vec<String> = Vec::new();
        for s in setups {
            if !profiles.contains(&s.profile) {
                profiles.push(s.profile.clone());
            }
        }
        Cells {
            pages: pages as u64,
            profiles,
        }
    }

    /// Cells in `runs` runs.
    pub fn count(&self, runs: u32) -> u64 {
        u64::from(runs) * self.pages * self.profiles.len() as u64
    }

    /// The cell of a job: every build and tier of one run of one page under
    /// one profile share it.
    pub fn of(&self, job: &Job) -> u64 {
        let profile = self
            .profiles
            .iter()
            .position(|p| p == &job.setup.profile)
            .unwrap_or(0) as u64;
        let per_run = self.pages * self.profiles.len() as u64;
        u64::from(job.run) * per_run + job.page as u64 * self.profiles.len() as u64 + profile
    }
}

impl Shard {
    /// Whether this shard runs `cell` (round-robin over cells).
    pub fn holds(&self, cell: u64) -> bool {
        cell % u64::from(self.of) == u64::from(self.index - 1)
    }

    /// This shard's share of `jobs`, in their order.
    pub fn select(&self, jobs: Vec<Job>, cells: &Cells) -> Vec<Job> {
        jobs.into_iter()
            .filter(|j| self.holds(cells.of(j)))
            .collect()
    }

    /// Refuses a split with an empty shard.
    pub fn check(&self, cells: &Cells, runs: u32) -> Result<(), ShardError> {
        let count = cells.count(runs);
        if u64::from(self.of) > count {
            return Err(ShardError::TooMany {
                index: self.index,
                of: self.of,
                cells: count,
            });
        }
        Ok(())
    }
}

/// The plan's fingerprint: a hash of what decides which visits exist and
/// what they measure — pages (name and path), runs, how a visit is made
/// (`visits`: cache and isolation), and per session setup its profile,
/// build, tier, pages, viewport, CDP commands and shaping. Base URLs are
/// left out on purpose: each CI job may serve its builds on its own port.
pub fn fingerprint(
    pages: &[(&str, &str)],
    runs: u32,
    visits: &str,
    setups: &[Arc<SessionSetup>],
) -> String {
    let setups: Vec<serde_json::Value> = setups
        .iter()
        .map(|s| {
            serde_json::json!({
                "profile": s.profile,
                "variant": s.variant.as_str(),
                "tier": s.tier.map(|t| [t.index, t.of]),
                "pages": s.pages,
                "viewport": [s.viewport.0, s.viewport.1],
                "cdp": s.cdp,
                "shaping": s.proxy.as_ref().map(|p| format!("{:?}", p.shaping)),
            })
        })
        .collect();
    let text = serde_json::json!({
        "pages": pages, "runs": runs, "visits": visits, "setups": setups
    })
    .to_string();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// What the shard samples given to `compare` add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardSet {
    /// The scenario the shards ran.
    pub scenario: String,
    /// The plan fingerprint they share.
    pub plan: String,
    /// N.
    pub of: u32,
    /// The shards present (K's, ascending).
    pub present: Vec<u32>,
}

impl ShardSet {
    /// Shards of `of` that are not present.
    pub fn missing(&self) -> Vec<u32> {
        (1..=self.of)
            .filter(|k| !self.present.contains(k))
            .collect()
    }

    /// One line for reports, e.g. `shards 1–4 of 4 of "shop" (plan 9f…)`.
    pub fn describe(&self) -> String {
        let present: Vec<String> = self.present.iter().map(u32::to_string).collect();
        format!(
            "judged shard(s) {} of {} of scenario \"{}\" (plan {})",
            present.join(", "),
            self.of,
            self.scenario,
            self.plan
        )
    }
}

fn shown(stamp: &ShardStamp) -> String {
    format!(
        "shard {}/{} of scenario \"{}\" (plan {})",
        stamp.index, stamp.of, stamp.scenario, stamp.plan
    )
}

/// Checks that `files` (each with its samples) are shards of one plan:
/// one scenario, one plan fingerprint, one N, no shard twice. Returns
/// `None` when no sample carries a shard stamp (an unsharded run, or
/// several). Missing shards are the caller's call ([`ShardSet::missing`]).
pub fn combine(files: &[(&Path, &[Sample])]) -> Result<Option<ShardSet>, ShardError> {
    let mut first: Option<(&Path, &ShardStamp)> = None;
    let mut plain: Option<&Path> = None;
    let mut sharded: Option<&Path> = None;
    // K → the index of the file that holds it (a file passed twice is two files).
    let mut owner: BTreeMap<u32, usize> = BTreeMap::new();
    for (n, (file, samples)) in files.iter().enumerate() {
        let name = file.display().to_string();
        for (i, sample) in samples.iter().enumerate() {
            let Some(stamp) = &sample.shard else {
                plain = Some(file);
                continue;
            };
            sharded = Some(file);
            if stamp.of == 0 || stamp.index == 0 || stamp.index > stamp.of {
                return Err(ShardError::BadStamp {
                    file: name,
                    line: i + 1,
                    index: stamp.index,
                    of: stamp.of,
                });
            }
            let (first_file, first_stamp) = *first.get_or_insert((file, stamp));
            let what = if stamp.scenario != first_stamp.scenario {
                Some("scenarios")
            } else if stamp.plan != first_stamp.plan {
                Some("plans (pages, profiles, runs or builds differ)")
            } else if stamp.of != first_stamp.of {
                Some("splits")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(ShardError::Different {
                    file: name,
                    this: shown(stamp),
                    first_file: first_file.display().to_string(),
                    first: shown(first_stamp),
                    what,
                });
            }
            match owner.get(&stamp.index) {
                Some(&other) if other != n => {
                    return Err(ShardError::Duplicate {
                        index: stamp.index,
                        of: stamp.of,
                        first: files[other].0.display().to_string(),
                        second: name,
                    });
                }
                Some(_) => {}
                None => {
                    owner.insert(stamp.index, n);
                }
            }
        }
    }
    if let (Some(sharded), Some(plain)) = (sharded, plain) {
        return Err(ShardError::Mixed {
            sharded: sharded.display().to_string(),
            plain: plain.display().to_string(),
        });
    }
    Ok(first.map(|(_, stamp)| ShardSet {
        scenario: stamp.scenario.clone(),
        plan: stamp.plan.clone(),
        of: stamp.of,
        present: owner.keys().copied().collect(),
    }))
}

impl ShardSet {
    /// The [`ShardError::Missing`] of this set, naming the files given.
    pub fn missing_error(&self, files: &[&Path]) -> Option<ShardError> {
        let missing = self.missing();
        (!missing.is_empty()).then(|| ShardError::Missing {
            missing: missing
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            of: self.of,
            given: files
                .iter()
                .map(|f| format!("'{}'", f.display()))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
