//! Reports that follow a running gate: every batch rewrites the files from
//! the gate's results document (marked `partial`), so a crash or Ctrl-C
//! keeps what was measured; the last batch writes the final verdict and
//! GitHub's step summary.

use super::BatchView;
use crate::report::{ReportError, ReportInput, ReportManager, github};
use std::sync::{Arc, Mutex};

/// Report files bound to one gate.
#[derive(Clone)]
pub struct LiveReports {
    manager: Arc<ReportManager>,
    error: Arc<Mutex<Option<ReportError>>>,
}

impl LiveReports {
    /// Reports into the manager's files.
    pub fn new(manager: ReportManager) -> Self {
        LiveReports {
            manager: Arc::new(manager),
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// Writes every file for this view; the last view also goes to
    /// `$GITHUB_STEP_SUMMARY`. The first error is kept for [`Self::take_error`].
    pub fn write(&self, view: &BatchView<'_>) {
        let input = ReportInput::new(view.results, view.samples)
            .with_reference(view.reference)
            .with_baseline(view.baseline);
        let mut outcome = self.manager.write_all(&input);
        if outcome.is_ok() && view.done {
            outcome = github::step_summary(view.results).map(|_| ());
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
