//! Real-user baselines: importers, segments, sketches and the baseline file.

pub mod model;

pub use model::*;
