//! `Interner`: one shared `Arc` per distinct value, for what many cached objects have in common
//! (a namespace, a node name, the label set or the spec of a pod template), so that each object
//! holds a pointer instead of its own copy.
//!
//! It owns only `Weak` references: a value lives as long as some object holds it, and is then
//! forgotten without being given back. Entries are keyed by a 64-bit hash of the value (its
//! `Hash`, or one the caller computes for types without it) and checked for equality before
//! reuse, so a collision only costs a comparison. A bucket is swept of dead entries whenever a
//! value is added to it, and the whole table once it holds twice as many entries as after its
//! last sweep, so it stays within a constant factor of the values in use.

use std::borrow::Borrow;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

/// Sweep the whole table from this many entries at the least.
const FIRST_SWEEP: usize = 64;

pub struct Interner<T: ?Sized> {
    buckets: HashMap<u64, Vec<Weak<T>>>,
    /// Entries in `buckets`, live or not.
    entries: usize,
    /// Sweep every bucket when `entries` passes this.
    sweep_at: usize,
}

impl<T: ?Sized> std::fmt::Debug for Interner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("entries", &self.entries)
            .finish()
    }
}

impl<T: ?Sized> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            buckets: HashMap::new(),
            entries: 0,
            sweep_at: 0,
        }
    }
}

impl<T: ?Sized + PartialEq> Interner<T> {
    /// The shared copy equal to `value`, whose hash is `hash`: the one some object holds, or
    /// `value` itself, made the one later equal values get.
    pub fn intern_hashed<V: Borrow<T> + Into<Arc<T>>>(&mut self, hash: u64, value: V) -> Arc<T> {
        let bucket = self.buckets.entry(hash).or_default();
        if let Some(found) = bucket
            .iter()
            .filter_map(Weak::upgrade)
            .find(|held| **held == *value.borrow())
        {
            return found;
        }
        let before = bucket.len();
        bucket.retain(|w| w.strong_count() > 0);
        let held: Arc<T> = value.into();
        bucket.push(Arc::downgrade(&held));
        self.entries = self.entries + bucket.len() - before;
        if self.entries > self.sweep_at.max(FIRST_SWEEP) {
            self.buckets.retain(|_, b| {
                b.retain(|w| w.strong_count() > 0);
                !b.is_empty()
            });
            self.entries = self.buckets.values().map(Vec::len).sum();
            self.sweep_at = self.entries * 2;
        }
        held
    }

    /// How many values the table knows of, held or not yet forgotten.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// How many of them some object holds.
    pub fn live(&self) -> usize {
        self.buckets
            .values()
            .flatten()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

impl<T: ?Sized + PartialEq + Hash> Interner<T> {
    /// The shared copy equal to `value` (see `intern_hashed`).
    pub fn intern<V: Borrow<T> + Into<Arc<T>>>(&mut self, value: V) -> Arc<T> {
        let mut h = DefaultHasher::new();
        value.borrow().hash(&mut h);
        self.intern_hashed(h.finish(), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_are_interned_as_one_shared_copy() {
        let mut i = Interner::<str>::default();
        let a = i.intern("default");
        let b = i.intern(String::from("default"));
        let c = i.intern("kube-system");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(i.live(), 2);
    }

    #[test]
    fn an_interner_forgets_a_value_once_no_one_holds_it() {
        let mut i = Interner::<str>::default();
        let a = i.intern("worker-1");
        let b = i.intern("worker-1");
        drop(a);
        assert_eq!(i.live(), 1, "still held by b");
        drop(b);
        assert_eq!(i.live(), 0);
        // A value made again after it was forgotten is a new copy, shared from then on.
        let c = i.intern("worker-1");
        assert!(Arc::ptr_eq(&c, &i.intern("worker-1")));
    }

    #[test]
    fn values_whose_hashes_collide_stay_apart() {
        let mut i = Interner::<str>::default();
        let a = i.intern_hashed(7, "a");
        let b = i.intern_hashed(7, "b");
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(&a, &i.intern_hashed(7, "a")));
    }

    #[test]
    fn the_table_stays_within_a_constant_factor_of_the_values_in_use() {
        let mut i = Interner::<str>::default();
        let kept = i.intern("kept");
        for n in 0..10_000 {
            drop(i.intern(format!("gone-{n}")));
        }
        assert_eq!(i.live(), 1);
        assert!(
            i.entries() <= 2 * FIRST_SWEEP + 1,
            "{} entries",
            i.entries()
        );
        drop(kept);
    }
}
