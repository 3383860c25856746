//! A string interner: ids to dense `u32` indices and back.

use std::hash::Hash;

use hashbrown::HashMap;

use super::Idx;

/// Maps values to dense indices in insertion order
#[derive(Debug, Clone)]
pub(crate) struct Interner<K> {
    index: HashMap<K, Idx>,
    values: Vec<K>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Self {
            index: HashMap::new(),
            values: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Interner<K> {
    /// The index of `k`, adding it when new; `None` when full
    pub(crate) fn intern(&mut self, k: &K) -> Option<Idx> {
        if let Some(&i) = self.index.get(k) {
            return Some(i);
        }
        let i = Idx::try_from(self.values.len())
            .ok()
            .filter(|&i| i < Idx::MAX)?;
        self.index.insert(k.clone(), i);
        self.values.push(k.clone());
        Some(i)
    }

    /// The index `k` has, or would get from [`Interner::intern`]; `None` when full
    pub(crate) fn peek(&self, k: &K) -> Option<Idx> {
        match self.index.get(k) {
            Some(&i) => Some(i),
            None => Idx::try_from(self.values.len())
                .ok()
                .filter(|&i| i < Idx::MAX),
        }
    }

    /// How many values are interned
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The index of `k`, if known
    pub(crate) fn get(&self, k: &K) -> Option<Idx> {
        self.index.get(k).copied()
    }

    /// The value at `i`
    pub(crate) fn value(&self, i: Idx) -> Option<&K> {
        self.values.get(i as usize)
    }

    /// Every value, in insertion (index) order
    pub(crate) fn values(&self) -> &[K] {
        &self.values
    }
}
