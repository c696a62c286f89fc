//! Segments and page keys: how real users and pages are grouped.
//!
//! A baseline is keyed by page × segment; scenarios, throttling profiles,
//! verdicts and reports name the same keys. They live here, apart from the
//! importers in `baseline`, so that those modules agree with the importer on
//! what a page or a segment is without depending on how files are read.

mod fold;
pub mod page;

pub use page::{
    Fold, KeepSegments, KeepSegmentsError, PLACEHOLDER, page_key, request_key, template,
};

use serde::{Deserialize, Serialize};

/// The segment a group of real users belongs to. `None` means "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SegmentKey {
    /// `phone`, `tablet` or `desktop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    /// Effective connection type: `4g`, `3g`, `2g`, `slow-2g`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// ISO country code, when the export has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Browser family, when the export has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
}

impl SegmentKey {
    /// `phone · 4g · DE · chrome`, or `all users`.
    pub fn label(&self) -> String {
        let parts: Vec<&str> = [
            &self.form_factor,
            &self.connection,
            &self.country,
            &self.browser,
        ]
        .into_iter()
        .filter_map(|v| v.as_deref())
        .collect();
        if parts.is_empty() {
            "all users".into()
        } else {
            parts.join(" · ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_set_dimensions_or_all_users() {
        assert_eq!(SegmentKey::default().label(), "all users");
        let k = SegmentKey {
            form_factor: Some("phone".into()),
            browser: Some("chrome".into()),
            ..SegmentKey::default()
        };
        assert_eq!(k.label(), "phone · chrome");
    }
}
