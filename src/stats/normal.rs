//! The standard normal distribution, via statrs (which follows Cody's erf
//! and Acklam/Wichura-style inverse routines with ~1e-15 accuracy).

use statrs::distribution::{ContinuousCDF, Normal};

fn standard() -> Normal {
    // mean 0, sd 1 are valid parameters, so this cannot fail.
    Normal::standard()
}

/// P(Z <= z).
pub fn cdf(z: f64) -> f64 {
    standard().cdf(z)
}

/// P(Z > z), accurate in the upper tail.
pub fn sf(z: f64) -> f64 {
    standard().sf(z)
}

/// The z with P(Z <= z) = p, for p in (0, 1).
pub fn quantile(p: f64) -> f64 {
    standard().inverse_cdf(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy() {
        // scipy.stats.norm.ppf(0.975) = 1.959963984540054
        assert!((quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        // scipy.stats.norm.sf(3.0) = 0.0013498980316300933
        assert!((sf(3.0) - 0.0013498980316300933).abs() < 1e-12);
        assert!((cdf(0.0) - 0.5).abs() < 1e-15);
    }
}
