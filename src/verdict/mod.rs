//! Placeholder in this branch: the real verdict module comes from the `stats` branch.

pub mod model;

pub use model::*;
