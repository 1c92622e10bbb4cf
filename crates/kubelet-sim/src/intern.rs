//! `Interner`: one shared `Arc` per distinct value, for what many cached objects have in common
//! (a namespace, a node name, the label set of a pod template), so that each object holds a
//! pointer instead of its own copy.
//!
//! The interner holds every value it handed out; it forgets one when it is given back
//! ([`Interner::release`]) by its last holder, so a value no object uses any more is freed
//! rather than kept for the life of the process.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

#[derive(Debug)]
pub struct Interner<T: ?Sized + Eq + Hash>(HashSet<Arc<T>>);

impl<T: ?Sized + Eq + Hash> Default for Interner<T> {
    fn default() -> Self {
        Interner(HashSet::new())
    }
}

impl<T: ?Sized + Eq + Hash> Interner<T> {
    /// The shared copy of `value` (made from `value` when there is none yet).
    pub fn intern<V: Borrow<T> + Into<Arc<T>>>(&mut self, value: V) -> Arc<T> {
        if let Some(held) = self.0.get(value.borrow()) {
            return held.clone();
        }
        let held: Arc<T> = value.into();
        self.0.insert(held.clone());
        held
    }

    /// Give back a copy obtained from `intern`: when no one else holds the value any more, the
    /// interner forgets it.
    pub fn release(&mut self, value: Arc<T>) {
        // Held by the interner and by `value`, and by no one else.
        if Arc::strong_count(&value) == 2
            && self.0.get(&*value).is_some_and(|h| Arc::ptr_eq(h, &value))
        {
            self.0.remove(&*value);
        }
    }

    /// How many distinct values are held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn an_interner_forgets_a_value_once_its_last_holder_gives_it_back() {
        let mut i = Interner::<str>::default();
        let a = i.intern("worker-1");
        let b = i.intern("worker-1");
        i.release(a);
        assert_eq!(i.len(), 1, "still held by b");
        i.release(b);
        assert!(i.is_empty());
        // A value the interner did not hand out is left alone.
        let held = i.intern("worker-2");
        i.release(Arc::from("worker-2"));
        assert_eq!(i.len(), 1);
        drop(held);
    }
}
