//! `--json`: the results document, pretty-printed.

use super::{ReportError, ReportInput, Reporter};

/// Writes [`super::Results`] as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn render(&self, input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError> {
        let mut out =
            serde_json::to_vec_pretty(input.results).map_err(|e| ReportError::Render {
                format: "JSON",
                message: e.to_string(),
            })?;
        out.push(b'\n');
        Ok(out)
    }
}
