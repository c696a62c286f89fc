//! rumcheck: a synthetic-plus-RUM performance gate.
//!
//! Real browsers (WebDriver) run scripted page visits under field-like
//! throttling, an in-page collector measures what a RUM agent measures, and
//! error-controlled statistics compare the result with real-user baselines.
//! `docs/architecture.md` is the design: the module layers, the data flow of
//! one visit and of one gate, and the formats. The binary in `main.rs` is a
//! thin shell over [`app`].
#![warn(missing_docs)]

pub mod app;
pub mod baseline;
pub mod browser;
pub mod calibrate;
pub mod cli;
pub mod collect;
pub mod demo;
pub mod diagnose;
pub mod exit;
pub mod gate;
pub mod metric;
pub mod output;
pub mod projection;
pub mod report;
pub mod run;
pub mod sample;
pub mod scenario;
pub mod segment;
pub mod stats;
pub mod throttle;
pub mod verdict;

pub use gate::{Gate, GateOutcome};
pub use metric::Metric;
pub use sample::Sample;
