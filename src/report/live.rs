//! Reports that follow a running gate: every batch rewrites the files (marked
//! `partial`), so a crash or Ctrl-C keeps what was measured; the last batch
//! writes the final verdict and GitHub's step summary.

use super::{
    Environment, ProfileInfo, ReportError, ReportInput, ReportManager, Results, RunMeta,
    ScenarioInfo,
};
use crate::gate::BatchView;
use crate::scenario::LoadedScenario;
use std::sync::{Arc, Mutex};

/// Report files bound to one gate.
#[derive(Clone)]
pub struct LiveReports {
    manager: Arc<ReportManager>,
    scenario: ScenarioInfo,
    profiles: Vec<ProfileInfo>,
    error: Arc<Mutex<Option<ReportError>>>,
}

impl LiveReports {
    /// Reports for `scenario` into the manager's files.
    pub fn new(manager: ReportManager, scenario: &LoadedScenario) -> Self {
        let s = &scenario.scenario;
        LiveReports {
            manager: Arc::new(manager),
            scenario: ScenarioInfo {
                name: s.name.clone(),
                base_url: scenario.base_url.to_string(),
                runs: s.runs,
                pages: s.pages.iter().map(|p| p.name.clone()).collect(),
            },
            profiles: s
                .profiles
                .iter()
                .map(|p| ProfileInfo {
                    name: p.name.clone(),
                    segment: p.segment.clone(),
                })
                .collect(),
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// The results document for a view of the gate.
    pub fn results(&self, view: &BatchView<'_>) -> Results {
        let browser = view
            .samples
            .iter()
            .find(|s| !s.browser.is_empty())
            .map_or("", |s| s.browser.as_str());
        let meta = RunMeta {
            scenario: self.scenario.clone(),
            profiles: self.profiles.clone(),
            environment: Environment::detect(browser),
        };
        let mut results = Results::new(meta, view.samples, view.verdict);
        results.partial = !view.done;
        results
    }

    /// Writes every file for this view; the last view also goes to
    /// `$GITHUB_STEP_SUMMARY`. The first error is kept for [`Self::take_error`].
    pub fn write(&self, view: &BatchView<'_>) {
        let results = self.results(view);
        let input = ReportInput::new(&results, view.samples)
            .with_reference(view.reference)
            .with_baseline(view.baseline);
        let mut outcome = self.manager.write_all(&input);
        if outcome.is_ok() && view.done {
            outcome = super::github::step_summary(&results).map(|_| ());
        }
        if let Err(e) = outcome {
            let mut slot = self
                .error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slot.get_or_insert(e);
        }
    }

    /// A batch observer for [`crate::Gate::on_batch`].
    pub fn observer(&self) -> impl FnMut(&BatchView<'_>) + Send + 'static {
        let this = self.clone();
        move |view| this.write(view)
    }

    /// The first write error, if any.
    pub fn take_error(&self) -> Option<ReportError> {
        self.error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}
