//! `SpecInterner`: a node's table of the `SharedSpec`s its pods hold, so that pods of one
//! template (a Deployment's replicas on the node) share one copy of what they have in common
//! instead of each holding its own (~500 bytes of heap a pod).
//!
//! It owns only `Weak` references: a spec lives as long as a pod's view holds it. Entries are
//! keyed by `SharedSpec::content_hash` and checked for equality before reuse (a collision
//! only costs a comparison). Entries nobody holds are forgotten: a bucket is swept whenever a
//! spec is added to it, and the whole table once it holds twice as many entries as after its
//! last sweep, so it stays within a constant factor of the specs in use.
//!
//! A worker interns its pod's spec when it starts and when the pod changes in a way its
//! current spec does not match (`PodSpecView::from_pod_in` compares with it first), so a status
//! echo costs an equality check, not a hash and this table's lock.

use super::spec::SharedSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Sweep the whole table from this many entries at the least.
const FIRST_SWEEP: usize = 64;

#[derive(Default)]
pub struct SpecInterner {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    buckets: HashMap<u64, Vec<Weak<SharedSpec>>>,
    /// Entries in `buckets`, live or not.
    entries: usize,
    /// Sweep every bucket when `entries` passes this.
    sweep_at: usize,
}

impl SpecInterner {
    /// The spec equal to `spec` some pod holds, or `spec`, made the one later equal ones get.
    pub fn intern(&self, spec: SharedSpec) -> Arc<SharedSpec> {
        let key = spec.content_hash();
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = t.buckets.entry(key).or_default();
        if let Some(found) = bucket
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| **s == spec)
        {
            return found;
        }
        let before = bucket.len();
        bucket.retain(|w| w.strong_count() > 0);
        let spec = Arc::new(spec);
        bucket.push(Arc::downgrade(&spec));
        let after = bucket.len();
        t.entries = t.entries + after - before;
        if t.entries > t.sweep_at.max(FIRST_SWEEP) {
            t.buckets.retain(|_, b| {
                b.retain(|w| w.strong_count() > 0);
                !b.is_empty()
            });
            t.entries = t.buckets.values().map(Vec::len).sum();
            t.sweep_at = t.entries * 2;
        }
        spec
    }

    /// How many specs the table knows of, held or not yet forgotten.
    pub fn entries(&self) -> usize {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).entries
    }

    /// How many of them some pod holds.
    pub fn live(&self) -> usize {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        t.buckets
            .values()
            .flatten()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}
