//! `SmallMap`: a string map as a sorted boxed slice, for the labels and annotations a node keeps
//! of every pod. A `BTreeMap` allocates a ~540-byte node for even one entry; this allocates one
//! slice of exactly its entries.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SmallMap(Box<[(Box<str>, Box<str>)]>);

impl SmallMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Whether every entry of `selector` is in the map (a Service's equality selector).
    pub fn matches(&self, selector: &BTreeMap<String, String>) -> bool {
        selector
            .iter()
            .all(|(k, v)| self.get(k) == Some(v.as_str()))
    }
}

impl From<Option<&BTreeMap<String, String>>> for SmallMap {
    fn from(m: Option<&BTreeMap<String, String>>) -> SmallMap {
        // A BTreeMap iterates in key order: the slice is sorted as `get` needs.
        SmallMap(
            m.into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
                .collect(),
        )
    }
}

impl<const N: usize> From<[(&str, &str); N]> for SmallMap {
    fn from(entries: [(&str, &str); N]) -> SmallMap {
        let m: BTreeMap<String, String> = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SmallMap::from(Some(&m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_map_finds_every_key_and_iterates_in_key_order() {
        let m = SmallMap::from([
            ("tier", "front"),
            ("app", "web"),
            ("pod-template-hash", "5d"),
        ]);
        assert_eq!(m.get("app"), Some("web"));
        assert_eq!(m.get("tier"), Some("front"));
        assert_eq!(m.get("pod-template-hash"), Some("5d"));
        assert_eq!(m.get("nope"), None);
        let keys: Vec<&str> = m.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["app", "pod-template-hash", "tier"]);
        assert_eq!(SmallMap::from(None).get("app"), None);
    }

    #[test]
    fn a_selector_matches_only_when_every_entry_is_present_and_equal() {
        let m = SmallMap::from([("app", "web"), ("tier", "front")]);
        let sel = |e: &[(&str, &str)]| {
            e.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert!(m.matches(&sel(&[("app", "web")])));
        assert!(m.matches(&sel(&[("app", "web"), ("tier", "front")])));
        assert!(!m.matches(&sel(&[("app", "db")])));
        assert!(!m.matches(&sel(&[("app", "web"), ("zone", "a")])));
    }
}
