//! Strata of a lab comparison: calibration tiers (each a different network
//! and CPU condition), machines (the grid nodes or hosts that ran the
//! visits, named by each sample's `node`), or both. Values are compared only
//! within a stratum, so a fast node and a slow one do not inflate the spread.

use crate::metric::Metric;
use crate::sample::Sample;

/// The distinct machines that ran valid visits of a group, in a stable
/// order (`None` for samples that do not say: files from before `node`).
pub(super) fn nodes<'a>(
    candidate: &[&'a Sample],
    reference: &[&'a Sample],
) -> Vec<Option<&'a str>> {
    let mut out: Vec<Option<&str>> = candidate
        .iter()
        .chain(reference)
        .filter(|s| s.ok)
        .map(|s| s.node.as_deref())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Values of `metric` per stratum: tier-major (`tier × nodes + node`).
/// With `tiers`, a sample without a tier is left out (it belongs to none);
/// without, every sample is in tier 0. With one node or none, strata are
/// the tiers alone.
pub(super) fn split(
    samples: &[&Sample],
    metric: Metric,
    tiers: Option<usize>,
    nodes: &[Option<&str>],
) -> Vec<Vec<f64>> {
    let per_tier = nodes.len().max(1);
    let mut out = vec![Vec::new(); tiers.unwrap_or(1) * per_tier];
    for s in samples {
        let Some(v) = s.metric(metric).filter(|v| v.is_finite()) else {
            continue;
        };
        let tier = match (tiers, s.tier) {
            (None, _) => 0,
            (Some(_), Some(t)) => t as usize,
            (Some(_), None) => continue,
        };
        let node = nodes
            .iter()
            .position(|n| *n == s.node.as_deref())
            .unwrap_or(0);
        if let Some(slot) = out.get_mut(tier * per_tier + node) {
            slot.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(node: Option<&str>, tier: Option<u32>, lcp: f64) -> Sample {
        let mut s = Sample::failed(0, "p", "default", "http://x/", String::new());
        s.ok = true;
        s.node = node.map(str::to_string);
        s.tier = tier;
        s.metrics.insert(Metric::Lcp, lcp);
        s
    }

    #[test]
    fn values_go_to_their_tier_and_node() {
        let a = visit(Some("n1"), Some(1), 1.0);
        let b = visit(Some("n2"), Some(0), 2.0);
        let c = visit(Some("n2"), Some(1), 3.0);
        let untiered = visit(Some("n1"), None, 4.0);
        let refs = [&a, &b, &c, &untiered];
        let nodes = nodes(&refs, &[]);
        assert_eq!(nodes, vec![Some("n1"), Some("n2")]);
        let strata = split(&refs, Metric::Lcp, Some(2), &nodes);
        assert_eq!(strata, vec![vec![], vec![2.0], vec![1.0], vec![3.0]]);
        let by_node = split(&refs, Metric::Lcp, None, &nodes);
        assert_eq!(by_node, vec![vec![1.0, 4.0], vec![2.0, 3.0]]);
    }

    #[test]
    fn failed_visits_name_no_node_and_unnamed_ones_form_their_own() {
        let mut failed = visit(Some("n9"), None, 1.0);
        failed.ok = false;
        let old = visit(None, None, 2.0);
        let new = visit(Some("n1"), None, 3.0);
        assert_eq!(nodes(&[&failed, &old], &[&new]), vec![None, Some("n1")]);
    }
}
