//! Strata of a lab comparison: calibration tiers (each a different network
//! and CPU condition), machines (the grid nodes or hosts that ran the
//! visits, named by each sample's `node`), or both. Values are compared only
//! within a stratum, so a fast node and a slow one do not inflate the spread.

use crate::metric::Metric;
use crate::sample::Sample;

/// The machines (in a stable order) that ran valid visits of both builds
/// of a group; `None` stands for samples that do not say (files from before
/// `node`). A machine that ran only one build says nothing about the change
/// within it: reference samples recorded on another CI host share no
/// machine with the candidate, and the comparison stays pooled.
pub(super) fn shared_nodes<'a>(
    candidate: &[&'a Sample],
    reference: &[&'a Sample],
) -> Vec<Option<&'a str>> {
    let of = |v: &[&'a Sample]| -> Vec<Option<&'a str>> {
        let mut out: Vec<Option<&str>> = v
            .iter()
            .filter(|s| s.ok)
            .map(|s| s.node.as_deref())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let theirs = of(reference);
    of(candidate)
        .into_iter()
        .filter(|n| theirs.contains(n))
        .collect()
}

/// Whether both builds ran on any machine the other did not.
pub(super) fn machines_differ(candidate: &[&Sample], reference: &[&Sample]) -> bool {
    let shared = shared_nodes(candidate, reference);
    candidate
        .iter()
        .chain(reference)
        .filter(|s| s.ok)
        .any(|s| !shared.contains(&s.node.as_deref()))
}

/// Values of `metric` per stratum: tier-major (`tier × nodes + node`).
/// With `tiers`, a sample without a tier is left out (it belongs to none);
/// without, every sample is in tier 0. With `nodes`, only visits on those
/// machines count, one stratum each; an empty `nodes` does not split by
/// machine.
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
        let node = if nodes.is_empty() {
            0
        } else {
            match nodes.iter().position(|n| *n == s.node.as_deref()) {
                Some(i) => i,
                None => continue,
            }
        };
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
        let elsewhere = visit(Some("n3"), Some(0), 5.0);
        let all = [&a, &b, &c, &untiered, &elsewhere];
        let nodes = shared_nodes(&[&a, &b], &[&c, &untiered]);
        assert_eq!(nodes, vec![Some("n1"), Some("n2")]);
        let strata = split(&all, Metric::Lcp, Some(2), &nodes);
        assert_eq!(strata, vec![vec![], vec![2.0], vec![1.0], vec![3.0]]);
        let by_node = split(&all, Metric::Lcp, None, &nodes);
        assert_eq!(by_node, vec![vec![1.0, 4.0], vec![2.0, 3.0]]);
        // Tiers alone: every machine counts.
        assert_eq!(
            split(&all, Metric::Lcp, Some(2), &[]),
            vec![vec![2.0, 5.0], vec![1.0, 3.0]]
        );
    }

    #[test]
    fn only_machines_that_ran_both_builds_are_strata() {
        let mut failed = visit(Some("n9"), None, 1.0);
        failed.ok = false;
        let old = visit(None, None, 2.0);
        let new = visit(Some("n1"), None, 3.0);
        let other_host = visit(Some("ci-runner-7"), None, 3.0);
        assert_eq!(
            shared_nodes(&[&failed, &old, &new], &[&old, &new, &failed]),
            vec![None, Some("n1")]
        );
        // Reference samples recorded on another CI host: nothing shared.
        assert!(shared_nodes(&[&new], &[&other_host]).is_empty());
        assert!(machines_differ(&[&new], &[&other_host]));
        assert!(!machines_differ(&[&new], &[&new]));
    }
}
