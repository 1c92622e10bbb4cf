//! Addresses of the simulated cluster network: node N has InternalIP `172.18.0.(N+2)` and
//! podCIDR `10.244.N.0/24` (kind's layout); a node hands its pods `.2`–`.254` of its podCIDR,
//! lowest free first, and takes an address back when the pod's sandbox goes.

use crate::lifecycle::IpSource;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The InternalIP of node number `n` (control plane 0, workers 1, 2, ...).
pub fn node_ip(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 18, 0, 0)) + n + 2)
}

/// The podCIDR of node number `n`.
pub fn pod_cidr(n: u32) -> String {
    format!(
        "{}/24",
        Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 244, 0, 0)) + (n << 8))
    )
}

/// The node number a podCIDR or InternalIP belongs to (for re-adopted nodes).
pub fn index_of_cidr(cidr: &str) -> Option<u32> {
    let base: Ipv4Addr = cidr.split('/').next()?.parse().ok()?;
    u32::from(base)
        .checked_sub(u32::from(Ipv4Addr::new(10, 244, 0, 0)))
        .map(|d| d >> 8)
}

/// A node's pod addresses.
#[derive(Debug)]
pub struct IpPool {
    base: u32,
    used: HashMap<String, u8>,
    taken: [bool; 256],
}

impl IpPool {
    /// A pool over a `/24` (`10.244.1.0/24`); `None` if the CIDR is not an IPv4 /24.
    pub fn new(cidr: &str) -> Option<IpPool> {
        let (net, bits) = cidr.split_once('/')?;
        if bits != "24" {
            return None;
        }
        let net: Ipv4Addr = net.parse().ok()?;
        let mut taken = [false; 256];
        taken[0] = true;
        taken[1] = true;
        taken[255] = true;
        Some(IpPool {
            base: u32::from(net) & 0xffff_ff00,
            used: HashMap::new(),
            taken,
        })
    }

    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}

impl IpSource for IpPool {
    /// Take a specific address for a pod (a pod re-adopted after a restart).
    fn reserve(&mut self, pod_uid: &str, ip: &str) -> bool {
        let Ok(addr) = ip.parse::<Ipv4Addr>() else {
            return false;
        };
        let a = u32::from(addr);
        if a & 0xffff_ff00 != self.base {
            return false;
        }
        let host = (a & 0xff) as u8;
        if self.taken[host as usize] && self.used.get(pod_uid) != Some(&host) {
            return false;
        }
        self.taken[host as usize] = true;
        self.used.insert(pod_uid.into(), host);
        true
    }

    fn allocate(&mut self, pod_uid: &str) -> Option<String> {
        if let Some(h) = self.used.get(pod_uid) {
            return Some(Ipv4Addr::from(self.base + *h as u32).to_string());
        }
        let host = (2..255u32).find(|h| !self.taken[*h as usize])?;
        self.taken[host as usize] = true;
        self.used.insert(pod_uid.into(), host as u8);
        Some(Ipv4Addr::from(self.base + host).to_string())
    }

    fn release(&mut self, pod_uid: &str) {
        if let Some(h) = self.used.remove(pod_uid) {
            self.taken[h as usize] = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_numbered_like_kind() {
        let cases = [
            (0, "172.18.0.2", "10.244.0.0/24"),
            (1, "172.18.0.3", "10.244.1.0/24"),
            (2, "172.18.0.4", "10.244.2.0/24"),
            (300, "172.18.1.46", "10.245.44.0/24"),
        ];
        for (n, ip, cidr) in cases {
            assert_eq!(node_ip(n).to_string(), ip);
            assert_eq!(pod_cidr(n), cidr);
            assert_eq!(index_of_cidr(cidr), Some(n));
        }
    }

    #[test]
    fn pods_get_the_lowest_free_address_and_give_it_back() {
        let mut p = IpPool::new("10.244.1.0/24").unwrap();
        assert_eq!(p.allocate("a").unwrap(), "10.244.1.2");
        assert_eq!(p.allocate("b").unwrap(), "10.244.1.3");
        assert_eq!(
            p.allocate("a").unwrap(),
            "10.244.1.2",
            "the same pod keeps its address"
        );
        p.release("a");
        assert_eq!(p.allocate("c").unwrap(), "10.244.1.2");
        assert!(p.reserve("d", "10.244.1.9"));
        assert!(!p.reserve("e", "10.244.1.9"), "taken");
        assert!(!p.reserve("e", "10.244.2.9"), "another node's range");
        assert_eq!(p.in_use(), 3);
    }

    #[test]
    fn a_full_pool_has_no_address() {
        let mut p = IpPool::new("10.244.3.0/24").unwrap();
        for i in 0..253 {
            assert!(p.allocate(&format!("p{i}")).is_some());
        }
        assert_eq!(p.allocate("one-more"), None);
        assert!(IpPool::new("10.244.0.0/16").is_none());
    }
}
