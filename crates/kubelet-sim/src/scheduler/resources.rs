//! Resource quantities (`500m`, `1Gi`, `2`, `1e3`) in milli-units, and a pod's requests as the
//! scheduler counts them (`PodRequests`: containers plus sidecars, or the largest init
//! container if larger), with the non-zero defaults used for scoring (100m CPU, 200Mi memory).

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// Requests per resource name, in milli-units.
pub type Resources = BTreeMap<String, i128>;

pub const DEFAULT_MILLI_CPU: i128 = 100;
pub const DEFAULT_MEMORY: i128 = 200 * 1024 * 1024;

/// Parse a quantity into milli-units (rounded up), `None` if malformed.
pub fn parse_milli(q: &str) -> Option<i128> {
    let q = q.trim();
    const SUFFIXES: [&str; 15] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    let (num, suffix) = SUFFIXES
        .iter()
        .find(|s| q.len() > s.len() && q.ends_with(*s))
        .map(|s| (&q[..q.len() - s.len()], *s))
        .unwrap_or((q, ""));
    let (mantissa, exp10) = match num.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (num, 0),
    };
    let value: f64 = mantissa.parse().ok()?;
    let mult: f64 = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    let milli = value * mult * 10f64.powi(exp10) * 1000.0;
    Some(milli.ceil() as i128)
}

fn add(into: &mut Resources, from: &BTreeMap<String, Quantity>) {
    for (k, v) in from {
        if let Some(m) = parse_milli(&v.0) {
            *into.entry(k.clone()).or_default() += m;
        }
    }
}

fn requests(c: &Container) -> Resources {
    let mut r = Resources::new();
    if let Some(res) = &c.resources {
        match &res.requests {
            Some(req) => add(&mut r, req),
            // Requests default to limits.
            None => {
                if let Some(l) = &res.limits {
                    add(&mut r, l)
                }
            }
        }
    }
    r
}

fn max_into(into: &mut Resources, other: &Resources) {
    for (k, v) in other {
        let e = into.entry(k.clone()).or_default();
        *e = (*e).max(*v);
    }
}

/// What a pod asks of a node.
pub fn pod_requests(pod: &Pod) -> Resources {
    let Some(spec) = &pod.spec else {
        return Resources::new();
    };
    let mut sum = Resources::new();
    for c in &spec.containers {
        for (k, v) in requests(c) {
            *sum.entry(k).or_default() += v;
        }
    }
    let mut sidecars = Resources::new();
    let mut init_max = Resources::new();
    for c in spec.init_containers.iter().flatten() {
        let r = requests(c);
        if c.restart_policy.as_deref() == Some("Always") {
            for (k, v) in &r {
                *sum.entry(k.clone()).or_default() += v;
                *sidecars.entry(k.clone()).or_default() += v;
            }
        } else {
            let mut with_sidecars = sidecars.clone();
            for (k, v) in r {
                *with_sidecars.entry(k).or_default() += v;
            }
            max_into(&mut init_max, &with_sidecars);
        }
    }
    max_into(&mut sum, &init_max);
    if let Some(o) = &spec.overhead {
        add(&mut sum, o);
    }
    sum.retain(|_, v| *v > 0);
    sum
}

/// CPU (milli) and memory (milli-bytes) for scoring, with the non-zero defaults.
pub fn non_zero(pod: &Pod) -> (i128, i128) {
    let Some(spec) = &pod.spec else {
        return (0, 0);
    };
    let mut cpu = 0;
    let mut mem = 0;
    for c in &spec.containers {
        let r = requests(c);
        cpu += r.get("cpu").copied().unwrap_or(DEFAULT_MILLI_CPU);
        mem += r.get("memory").copied().unwrap_or(DEFAULT_MEMORY * 1000);
    }
    (cpu, mem)
}

/// Parse a node's allocatable into milli-units.
pub fn parse_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
    let mut r = Resources::new();
    if let Some(l) = list {
        add(&mut r, l);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_parse_to_milli_units() {
        let cases = [
            ("100m", 100),
            ("1", 1000),
            ("2.5", 2500),
            ("1Ki", 1024 * 1000),
            ("1Gi", 1024 * 1024 * 1024 * 1000),
            ("1G", 1_000_000_000_000),
            ("1e3", 1_000_000),
            ("16265232Ki", 16_265_232 * 1024 * 1000),
            ("110", 110_000),
            ("1E", 1_000_000_000_000_000_000_000),
        ];
        for (q, want) in cases {
            assert_eq!(parse_milli(q), Some(want), "{q}");
        }
        assert_eq!(parse_milli("abc"), None);
        assert_eq!(parse_milli("1Zi"), None);
    }

    #[test]
    fn pod_requests_count_containers_sidecars_and_the_largest_init_container() {
        let pod: Pod = serde_json::from_value(json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                {"name": "b", "resources": {"limits": {"cpu": "200m"}}},
            ],
            "initContainers": [
                {"name": "big", "resources": {"requests": {"cpu": "1"}}},
                {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
            ],
        }}))
        .unwrap();
        let r = pod_requests(&pod);
        assert_eq!(r["cpu"], 1000, "the 1-CPU init container dominates 350m");
        assert_eq!(r["memory"], 64 * 1024 * 1024 * 1000);
        let (cpu, mem) = non_zero(&pod);
        assert_eq!(cpu, 300);
        assert_eq!(mem, 64 * 1024 * 1024 * 1000 + DEFAULT_MEMORY * 1000);
    }
}
