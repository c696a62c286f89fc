//! Typed views of a sample's attribution `details`: the LCP sub-parts, the
//! INP phases, Server-Timing entries and the request summary
//! (docs/results-format.md, "Attribution in samples.ndjson"). They stay in
//! `details` in the file, so older samples read as they did; a missing or
//! malformed part reads as absent.

use super::Sample;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// LCP split the way web-vitals' attribution build splits it: each part
/// starts where the previous one ends, so they add up to LCP (ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LcpParts {
    /// Navigation start to the first byte of the document.
    pub ttfb: f64,
    /// First byte to the start of the LCP resource's request (0 for text).
    pub resource_load_delay: f64,
    /// The LCP resource's request start to its response end (0 for text).
    pub resource_load_duration: f64,
    /// The LCP resource's response end (or TTFB) to the paint.
    pub element_render_delay: f64,
}

impl LcpParts {
    /// The parts' names in files and reports, in time order.
    pub const NAMES: [&'static str; 4] = [
        "ttfb",
        "resource_load_delay",
        "resource_load_duration",
        "element_render_delay",
    ];

    /// The parts in [`Self::NAMES`] order.
    pub fn values(&self) -> [f64; 4] {
        [
            self.ttfb,
            self.resource_load_delay,
            self.resource_load_duration,
            self.element_render_delay,
        ]
    }

    /// Their sum: LCP.
    pub fn sum(&self) -> f64 {
        self.values().iter().sum()
    }
}

/// The phases of the interaction INP reports (ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InpPhases {
    /// Input to the first event handler.
    pub input_delay: f64,
    /// The event handlers.
    pub processing: f64,
    /// The last handler to the next paint.
    pub presentation: f64,
}

impl InpPhases {
    /// The phases' names in files and reports.
    pub const NAMES: [&'static str; 3] = ["input_delay", "processing", "presentation"];

    /// The phases in [`Self::NAMES`] order.
    pub fn values(&self) -> [f64; 3] {
        [self.input_delay, self.processing, self.presentation]
    }
}

/// One `Server-Timing` entry of the navigation or of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerTimingEntry {
    /// `null` for the navigation, else the resource's folded URL.
    #[serde(default)]
    pub request: Option<String>,
    /// The entry's name (`db`).
    pub name: String,
    /// Its `dur` (ms), when it has one.
    #[serde(default)]
    pub dur: Option<f64>,
    /// Its `desc`.
    #[serde(default)]
    pub desc: String,
}

/// One request of the visit (the navigation first), from Resource Timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// URL with identifiers folded (`segment::request_key`).
    pub url: String,
    /// `document`, `stylesheet`, `script`, `image`, `font`, `fetch` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Resource Timing's `initiatorType` (`link`, `img`, `script`…; `navigation`).
    #[serde(default)]
    pub initiator: String,
    /// Transfer size in bytes (0 from the cache or a cross-origin resource without Timing-Allow-Origin).
    #[serde(default)]
    pub size: f64,
    /// Start relative to navigation start (ms).
    #[serde(default)]
    pub start: f64,
    /// Duration (ms).
    #[serde(default)]
    pub duration: f64,
    /// Whether the browser held the first paint for it (`renderBlockingStatus`).
    #[serde(default)]
    pub render_blocking: bool,
}

fn typed<T: for<'de> Deserialize<'de>>(v: &Value) -> Option<T> {
    if v.is_null() {
        return None;
    }
    serde_json::from_value(v.clone()).ok()
}

impl Sample {
    /// The LCP sub-parts, when LCP happened and the collector split it.
    pub fn lcp_parts(&self) -> Option<LcpParts> {
        typed(&self.details["lcp"]["parts"])
    }

    /// Milliseconds of long tasks between the LCP content's arrival and its
    /// paint (inside the element render delay), when LCP was split.
    pub fn lcp_long_tasks(&self) -> Option<f64> {
        self.details["lcp"]["long_tasks_before_paint"].as_f64()
    }

    /// The phases of the INP interaction, when there was one.
    pub fn inp_phases(&self) -> Option<InpPhases> {
        typed(&self.details["inp"])
    }

    /// The visit's Server-Timing entries (navigation first).
    pub fn server_timing(&self) -> Vec<ServerTimingEntry> {
        typed(&self.details["server_timing"]).unwrap_or_default()
    }

    /// The visit's requests (at most the collector's cap, 200).
    pub fn requests(&self) -> Vec<Request> {
        typed(&self.details["requests"]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_views_read_details_and_absent_parts_are_none() {
        let mut s = Sample::failed(0, "home", "default", "http://x/", String::new());
        assert_eq!(s.lcp_parts(), None);
        assert!(s.requests().is_empty());
        s.details = json!({
            "lcp": {"element": "img", "parts": {"ttfb": 10.0, "resource_load_delay": 20.0,
                    "resource_load_duration": 30.0, "element_render_delay": 40.5}},
            "inp": {"input_delay": 1.0, "processing": 2.0, "presentation": 3.0, "target": "b"},
            "server_timing": [{"request": null, "name": "db", "dur": 12.5, "desc": ""}],
            "requests": [{"url": "/a.css", "type": "stylesheet", "initiator": "link",
                          "size": 300.0, "start": 5.0, "duration": 9.0, "render_blocking": true}],
        });
        assert_eq!(s.lcp_parts().unwrap().sum(), 100.5);
        assert_eq!(s.inp_phases().unwrap().values(), [1.0, 2.0, 3.0]);
        assert_eq!(s.server_timing()[0].dur, Some(12.5));
        assert!(s.requests()[0].render_blocking);
        s.details["requests"] = json!("junk");
        assert!(s.requests().is_empty());
    }
}
