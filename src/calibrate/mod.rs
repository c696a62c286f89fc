//! `rumcheck calibrate`: fit lab conditions to real users. For each scenario
//! page × profile whose segment has field data, K tiers (rtt, bandwidth,
//! CPU, weight) are found under which the production build reproduces the
//! field's TTFB, FCP and LCP at K quantile bands ([`search`] measures,
//! [`fit`] decides). The result ([`CalibrationFile`]) makes a profile a
//! small mixture of conditions; [`crate::projection`] then carries a change
//! measured in those tiers over to the real-user distribution.
//!
//! The method and its stopping rule are in `docs/statistics.md` ("Field
//! projection"); the file format in `docs/calibration-format.md`.

pub mod fit;
pub mod model;
mod problem;
mod search;

pub use model::{
    CALIBRATION_SCHEMA, CalibratedPage, CalibrationError, CalibrationFile, FIT_QUANTILES, Fit,
    HostFigures, Tier,
};
pub use search::{CalibrateError, CalibrateOptions, calibrate, conditioned};

use std::fmt::Write;

/// p75 errors above this are flagged: the projection would rest on a lab
/// that does not look like the field.
pub const P75_WARN: f64 = 0.15;

/// The fit as a table (lab vs field at p10 … p90 per page × profile ×
/// metric), then each entry's tiers and notes, then warnings.
pub fn render(file: &CalibrationFile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<10} {:<5} {:>17} {:>17} {:>17} {:>17} {:>17} {:>8}",
        "page", "profile", "metric", "p10 field/lab", "p25", "p50", "p75", "p90", "p75 err"
    );
    let mut warnings = Vec::new();
    for e in &file.entries {
        for (m, f) in &e.fit {
            let cells: Vec<String> = f
                .field
                .iter()
                .zip(&f.lab)
                .map(|(a, b)| format!("{} / {}", m.format(*a), m.format(*b)))
                .collect();
            let _ = writeln!(
                out,
                "{:<12} {:<10} {:<5} {:>17} {:>17} {:>17} {:>17} {:>17} {:>+7.1}%",
                e.page,
                e.profile,
                m.to_string(),
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                f.p75_rel_error * 100.0
            );
            if f.p75_rel_error.abs() > P75_WARN {
                warnings.push(format!(
                    "{} [{}] {m}: the lab p75 is {:+.0} % off the field's (more than {:.0} %); projections for it are unreliable",
                    e.page,
                    e.profile,
                    f.p75_rel_error * 100.0,
                    P75_WARN * 100.0
                ));
            }
        }
    }
    out.push('\n');
    for e in &file.entries {
        let _ = writeln!(
            out,
            "{} [{}] ({} visits): {}",
            e.page,
            e.profile,
            e.visits,
            e.tiers
                .iter()
                .map(|t| format!(
                    "q{:.0}: {:.0} ms, {:.0} kbps, {:.1}x",
                    t.quantile * 100.0,
                    t.rtt_ms,
                    t.down_kbps,
                    t.cpu_slowdown
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        for n in &e.notes {
            let _ = writeln!(out, "  note: {n}");
        }
    }
    for w in warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
