//! TEMPORARY interface stub; the real collector lands from the `collect` branch.

use crate::browser::Session;
use crate::metric::Metric;
use std::collections::BTreeMap;

/// The user's RUM agent.
pub struct RumAgent {
    /// JS source.
    pub script: String,
    /// Beacon URL glob.
    pub beacon: String,
}

/// What a visit measured.
pub struct Collected {
    /// Metrics.
    pub metrics: BTreeMap<Metric, f64>,
    /// Details.
    pub details: serde_json::Value,
    /// Beacons.
    pub beacons: Vec<crate::sample::Beacon>,
}

/// Collector errors.
#[derive(Debug, thiserror::Error)]
#[error("collector: {0}")]
pub struct CollectError(pub String);

/// Installs the collector.
pub async fn install(
    _session: &Session,
    _rum_agent: Option<&RumAgent>,
) -> Result<(), CollectError> {
    Ok(())
}

/// Finalises the visit.
pub async fn finalize(_session: &Session) -> Result<Collected, CollectError> {
    Err(CollectError("not built".into()))
}
