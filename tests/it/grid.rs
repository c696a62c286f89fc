//! A small gate through a real Selenium Grid 4 (standalone with the shaping
//! proxies open to the network, then a hub with two nodes), held against the
//! same gate run directly: same verdicts,
//! TTFB shaped by the proxy engine on the grid's browsers as on ours, and
//! every sample names the node that ran it. No Java process outlives it.

use crate::grid_support::{Grid, processes_in_group};
use crate::support::{Fixtures, browser_lock};
use rumcheck::Metric;
use rumcheck::sample::Sample;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Candidate and reference are the same pages: every judged row is a tie.
/// Runs are few (CI cost); the 150 ms RTT makes shaping visible in TTFB.
fn scenario(dir: &Path, base: &str) -> std::path::PathBuf {
    let text = format!(
        r#"name = "grid"
base_url = "{base}"
runs = 4
retries = 1

[[profile]]
name = "shaped"
network = {{ rtt_ms = 150, down_kbps = 20000, up_kbps = 20000 }}

# No proxy: a context per visit in a long-lived session, while the shaped
# visits (open proxy) need a browser each. Both kinds share the grid's slots.
[[profile]]
name = "unshaped"

[[page]]
name = "plain"
path = "/plain.html"
"#
    );
    let path = dir.join("grid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// One gate: exit code, results document and samples.
struct Gate {
    code: Option<i32>,
    results: serde_json::Value,
    samples: Vec<Sample>,
}

async fn gate(
    scenario: &Path,
    reference: &str,
    out: &Path,
    webdriver: Option<&str>,
    extra: &[&str],
) -> Gate {
    std::fs::create_dir_all(out).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rumcheck"));
    command
        .arg("run")
        .arg(scenario)
        .args([
            "--reference-url",
            reference,
            "--concurrency",
            "2",
            "--quiet",
        ])
        .arg("--json")
        .arg(out.join("results.json"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("RUMCHECK_WEBDRIVER");
    if let Some(url) = webdriver {
        command.args(["--webdriver", url]);
        // The grid's node runs as root here: its Chromium needs the flag, and
        // rumcheck adds it only to browsers it starts itself.
        if rumcheck::browser::running_as_root() {
            command.arg("--browser-arg=--no-sandbox");
        }
    }
    let output = command.output().await.expect("rumcheck runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let results = std::fs::read_to_string(out.join("results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}); stderr:\n{stderr}"));
    let samples = rumcheck::sample::read_samples(&out.join("samples.ndjson"))
        .unwrap_or_else(|e| panic!("no samples ({e}); stderr:\n{stderr}"));
    Gate {
        code: output.status.code(),
        results: serde_json::from_str(&results).unwrap(),
        samples,
    }
}

/// `(page, metric, against) → outcome` of the judged rows.
fn outcomes(g: &Gate) -> BTreeMap<String, String> {
    let rows = g.results["verdict"]["comparisons"].as_array().cloned();
    rows.unwrap_or_default()
        .iter()
        .map(|c| {
            (
                format!("{} {} {}", c["page"], c["metric"], c["against"]),
                c["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Median TTFB of the shaped profile's ok visits.
fn median_ttfb(g: &Gate) -> f64 {
    let mut v: Vec<f64> = g
        .samples
        .iter()
        .filter(|s| s.profile == "shaped")
        .filter_map(|s| s.metric(Metric::Ttfb))
        .collect();
    assert!(!v.is_empty(), "no TTFB measured");
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn nodes(g: &Gate) -> BTreeSet<String> {
    g.samples.iter().filter_map(|s| s.node.clone()).collect()
}

/// The grid gate agrees with the direct one; `expected` are its nodes.
fn assert_agrees(direct: &Gate, grid: &Gate, expected: &[String], logs: &str) {
    let failed: Vec<_> = grid
        .samples
        .iter()
        .filter(|s| !s.ok)
        .map(|s| &s.error)
        .collect();
    assert!(
        failed.is_empty(),
        "visits failed on the grid: {failed:?}\n{logs}"
    );
    assert_eq!(grid.samples.len(), direct.samples.len());
    assert_eq!(grid.code, direct.code, "{}", grid.results["verdict"]);
    assert_eq!(outcomes(grid), outcomes(direct));
    // A new connection pays one RTT and the request another: ≥ 2 × 150 ms
    // when the grid's browser really goes through the shaping proxy.
    let (d, g) = (median_ttfb(direct), median_ttfb(grid));
    assert!(g >= 280.0, "TTFB on the grid {g} ms: not shaped");
    assert!(
        (g - d).abs() < 120.0,
        "median TTFB direct {d} ms vs grid {g} ms"
    );
    let expected: BTreeSet<String> = expected.iter().cloned().collect();
    assert_eq!(
        nodes(grid),
        expected,
        "every grid node ran visits, and only they"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_gate_through_a_standalone_grid_and_a_hub_with_two_nodes_matches_the_direct_run() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario(tmp.path(), &fixtures.url(""));
    let reference = fixtures.url("");

    let direct = gate(&scenario, &reference, &tmp.path().join("direct"), None, &[]).await;
    assert!(direct.samples.iter().all(|s| s.ok), "direct visits failed");
    let host = rumcheck::browser::local_host_name();
    assert_eq!(nodes(&direct), BTreeSet::from([host]));

    let mut groups = Vec::new();
    {
        let grid = Grid::standalone(2);
        groups.extend(grid.process_groups());
        let out = tmp.path().join("standalone");
        // The proxies as a remote grid needs them: open, each with its own
        // credentials (bound to loopback here: the tests stay on this machine).
        let open = [
            "--proxy-listen",
            "127.0.0.1",
            "--proxy-advertise",
            "127.0.0.1",
        ];
        let through = gate(&scenario, &reference, &out, Some(&grid.url), &open).await;
        assert_agrees(&direct, &through, &grid.nodes, &grid.logs());
    }
    {
        let grid = Grid::hub_and_nodes(2);
        groups.extend(grid.process_groups());
        let out = tmp.path().join("hub");
        let through = gate(&scenario, &reference, &out, Some(&grid.url), &[]).await;
        assert_agrees(&direct, &through, &grid.nodes, &grid.logs());
    }
    for group in groups {
        let left = processes_in_group(group);
        assert!(left.is_empty(), "Grid processes left behind: {left:?}");
    }
}
