//! The ids of registered entities by tag: a table that only grows, shared
//! with the audit records that name them, so a record on the decision path
//! holds a few `u32`s instead of copies of the ids.
//!
//! A leaf of the model: the registry writes it and audit records read it,
//! and neither depends on the other.

use std::num::NonZeroU32;
use std::sync::{PoisonError, RwLock};

use smol_str::SmolStr;

/// An entity's place in [`Names`]: given once, when the entity is first
/// registered, and never reused
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Tag(NonZeroU32);

impl Tag {
    /// The tag as a number (1 or more), for snapshots
    pub(crate) fn get(self) -> u32 {
        self.0.get()
    }

    /// A tag from [`Tag::get`]; `None` for 0
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        NonZeroU32::new(n).map(Self)
    }
}

/// The places in the table of ids of the entities one decision's audit
/// record names
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tags {
    pub(crate) principal: Tag,
    /// A practitioner's organisation
    pub(crate) organisation: Option<Tag>,
    pub(crate) patient: Tag,
    /// The holder asked about, or where the record asked for was found
    pub(crate) holder: Option<Tag>,
    pub(crate) record: Option<Tag>,
}

/// Every registered id, by tag
///
/// Written only under the registry's write lock (registration), read by sinks
/// when they build records; a deciding thread never touches it.
#[derive(Default)]
pub(crate) struct Names(RwLock<Vec<SmolStr>>);

impl std::fmt::Debug for Names {
    /// The number of ids, never an id
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.read().map_or(0, |names| names.len());
        f.debug_struct("Names").field("ids", &len).finish()
    }
}

impl Names {
    /// Adds an id and gives its tag; `None` past `u32::MAX - 1` ids
    pub(crate) fn add(&self, id: &str) -> Option<Tag> {
        let mut names = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let next = u32::try_from(names.len()).ok()?.checked_add(1)?;
        let tag = Tag(NonZeroU32::new(next)?);
        names.push(SmolStr::new(id));
        Some(tag)
    }

    /// A table holding `ids`, the first with tag 1 (a restored snapshot)
    pub(crate) fn from_ids(ids: Vec<SmolStr>) -> Self {
        Self(RwLock::new(ids))
    }

    /// Runs `f` with a reader of the table (one lock for a whole record)
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> T) -> T {
        let names = self.0.read().unwrap_or_else(PoisonError::into_inner);
        f(&Reader(&names))
    }
}

/// A locked view of [`Names`]
pub(crate) struct Reader<'a>(&'a [SmolStr]);

impl Reader<'_> {
    /// Every id, by tag (the first has tag 1)
    pub(crate) fn all(&self) -> &[SmolStr] {
        self.0
    }

    /// The id with this tag
    ///
    /// Every tag comes from [`Names::add`] on the same table, which never
    /// shrinks, so this finds it; an empty id stands in otherwise.
    pub(crate) fn get(&self, tag: Tag) -> SmolStr {
        let i = usize::try_from(tag.0.get() - 1).unwrap_or(usize::MAX);
        let found = self.0.get(i);
        debug_assert!(found.is_some(), "tag {tag:?} not in its table");
        found.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_find_their_ids_and_are_never_reused() {
        let names = Names::default();
        let a = names.add("org-a").unwrap();
        let b = names.add("p-1").unwrap();
        let a2 = names.add("org-a").unwrap();
        assert_ne!(a, b);
        assert_ne!(
            a, a2,
            "adding again gives a new tag; the registry adds once per entity"
        );
        names.read(|r| {
            assert_eq!(r.get(a), "org-a");
            assert_eq!(r.get(b), "p-1");
            assert_eq!(r.get(a2), "org-a");
        });
    }
}
