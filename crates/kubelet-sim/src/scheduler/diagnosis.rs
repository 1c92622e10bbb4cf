//! Why a pod could not be scheduled, worded as kube-scheduler v1.35 words it (`FitError`):
//! a histogram of the filters' reasons over all nodes, then the post-filter plugins' verdict
//! (DRA's "no new claims to deallocate", then preemption's own histogram).

use super::filters::Failure;
use std::collections::BTreeMap;

pub const NO_NODES: &str = "no nodes available to schedule pods";

fn histogram(items: impl Iterator<Item = String>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let mut parts: Vec<String> = counts
        .into_iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    // Go's sort.Strings over "N reason".
    parts.sort();
    parts.join(", ")
}

/// The `FailedScheduling` message for a pod every node rejected (`failures` has one entry per
/// node).
pub fn fit_error(failures: &[Failure], preemption_never: bool) -> String {
    let n = failures.len();
    if n == 0 {
        return NO_NODES.into();
    }
    let filters = histogram(failures.iter().flat_map(|f| f.reasons().to_vec()));
    let preemption = if preemption_never {
        "not eligible due to preemptionPolicy=Never.".to_string()
    } else {
        let verdicts = histogram(failures.iter().map(|f| match f {
            Failure::Unresolvable(_) => "Preemption is not helpful for scheduling".to_string(),
            Failure::Unschedulable(_) => "No preemption victims found for incoming pod".to_string(),
        }));
        format!("0/{n} nodes are available: {verdicts}.")
    };
    format!("0/{n} nodes are available: {filters}. no new claims to deallocate, preemption: {preemption}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn un(r: &[&str]) -> Failure {
        Failure::Unresolvable(r.iter().map(|s| s.to_string()).collect())
    }
    fn full(r: &[&str]) -> Failure {
        Failure::Unschedulable(r.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn messages_match_kube_scheduler() {
        let cases = [
            (
                vec![un(&["node(s) had untolerated taint(s)"]), full(&["Insufficient cpu"]), full(&["Insufficient cpu"])],
                "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
            ),
            (
                vec![un(&["node(s) had untolerated taint(s)"]), un(&["Insufficient cpu"]), un(&["Insufficient cpu"])],
                "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            ),
            (
                vec![un(&["node(s) didn't match Pod's node affinity/selector"]); 3],
                "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            ),
            (
                vec![full(&["Insufficient cpu", "Insufficient memory"]), un(&["node(s) had untolerated taint(s)"])],
                "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
            ),
        ];
        for (failures, want) in cases {
            assert_eq!(fit_error(&failures, false), want);
        }
        assert_eq!(fit_error(&[], false), "no nodes available to schedule pods");
    }
}
