//! Scoring feasible nodes: NodeResourcesFit's LeastAllocated over CPU and memory (with the
//! non-zero request defaults, so replicas spread across nodes) and TaintToleration's
//! preference against `PreferNoSchedule` taints; the highest total wins, ties broken at random.

use super::filters::{tolerates, NodeView, PodView};
use rand::Rng;

const MAX: i128 = 100;

fn least_allocated(requested: i128, capacity: i128) -> i128 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX / capacity
}

/// A node's score for a pod (0–100 per plugin, weighted as the default profile).
pub fn score(pod: &PodView, node: &NodeView) -> i128 {
    let cpu_cap = node.allocatable.get("cpu").copied().unwrap_or(0);
    let mem_cap = node.allocatable.get("memory").copied().unwrap_or(0);
    let cpu = least_allocated(node.non_zero.0 + pod.non_zero.0, cpu_cap);
    let mem = least_allocated(node.non_zero.1 + pod.non_zero.1, mem_cap);
    let fit = (cpu + mem) / 2;
    let intolerable = node
        .taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|taint| !pod.tolerations.iter().any(|t| tolerates(t, taint)))
        .count() as i128;
    let taint = if intolerable == 0 {
        MAX
    } else {
        MAX - (MAX * intolerable).min(MAX)
    };
    fit + 3 * taint
}

/// Pick the best node among the feasible ones (reservoir sampling over equal scores).
pub fn select<'a>(pod: &PodView, feasible: &[&'a NodeView]) -> Option<&'a NodeView> {
    let mut rng = rand::thread_rng();
    let mut best: Option<(&NodeView, i128)> = None;
    let mut ties = 0u32;
    for n in feasible {
        let s = score(pod, n);
        match best {
            None => {
                best = Some((n, s));
                ties = 1;
            }
            Some((_, b)) if s > b => {
                best = Some((n, s));
                ties = 1;
            }
            Some((_, b)) if s == b => {
                ties += 1;
                if rng.gen_range(0..ties) == 0 {
                    best = Some((n, s));
                }
            }
            _ => {}
        }
    }
    best.map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cpu_used: i128) -> NodeView {
        NodeView {
            name: name.into(),
            allocatable: [
                ("cpu".to_string(), 2000),
                ("memory".to_string(), 8_000_000_000_000),
                ("pods".to_string(), 110_000),
            ]
            .into(),
            non_zero: (cpu_used, 0),
            ..NodeView::default()
        }
    }

    #[test]
    fn the_least_allocated_node_wins() {
        let pod = PodView {
            non_zero: (100, 200 * 1024 * 1024 * 1000),
            ..PodView::default()
        };
        let busy = node("busy", 1000);
        let idle = node("idle", 0);
        assert!(score(&pod, &idle) > score(&pod, &busy));
        assert_eq!(select(&pod, &[&busy, &idle]).unwrap().name, "idle");
    }

    #[test]
    fn least_allocated_table() {
        let cases = [
            (0, 1000, 100),
            (500, 1000, 50),
            (1000, 1000, 0),
            (1500, 1000, 0),
            (10, 0, 0),
        ];
        for (req, cap, want) in cases {
            assert_eq!(least_allocated(req, cap), want, "{req}/{cap}");
        }
    }

    #[test]
    fn replicas_spread_over_equal_nodes() {
        let pod = PodView {
            non_zero: (100, 0),
            ..PodView::default()
        };
        let mut nodes = [node("a", 0), node("b", 0)];
        for _ in 0..10 {
            let pick = select(&pod, &nodes.iter().collect::<Vec<_>>())
                .unwrap()
                .name
                .clone();
            let n = nodes.iter_mut().find(|n| n.name == pick).unwrap();
            n.non_zero.0 += 100;
        }
        assert_eq!(nodes[0].non_zero.0, 500);
        assert_eq!(nodes[1].non_zero.0, 500);
    }
}
