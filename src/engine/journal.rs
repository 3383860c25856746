//! The hook through which an engine opened from a data directory journals
//! every accepted entry (`docs/durability.md`). The engine knows only this
//! trait; the data directory (a later module) implements it. Decisions never
//! touch it.
//!
//! A write takes the registry's write lock, asks [`Journal::ready`] (a
//! stopped journal refuses the write before anything changes), applies,
//! hands the accepted entries' lines to [`Journal::append`] (still under the
//! lock: journal order is position order), releases the lock, and then
//! waits in [`Journal::commit`] until the lines are synced as the durability
//! asks. Only then does the call return: that is the acknowledgement.

use std::any::Any;
use std::sync::{Arc, PoisonError};

use crate::model::entities::EntityRecord;
use crate::model::error::JournalFailure;
use crate::model::event::Event;
use crate::registry::Registry;

use super::Engine;

/// What an accepted entry is
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `{"position": P, "event": …}`
    Event,
    /// `{"position": P, "entity": …}`
    Entity,
}

/// An accepted entry as the journal takes it: position, kind, and the body's
/// JSON (an event or entity record, serialised before the lock was taken)
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) position: u64,
    pub(crate) kind: Kind,
    pub(crate) body: Arc<[u8]>,
}

/// An entry body serialised for the journal
#[derive(Debug, Clone)]
pub(crate) struct Body {
    kind: Kind,
    json: Arc<[u8]>,
}

impl Body {
    /// An event's body
    pub(crate) fn event(event: &Event) -> Self {
        Self {
            kind: Kind::Event,
            json: serde_json::to_vec(event).unwrap_or_default().into(),
        }
    }

    /// An entity record's body
    pub(crate) fn entity(entity: &EntityRecord) -> Self {
        Self {
            kind: Kind::Entity,
            json: serde_json::to_vec(entity).unwrap_or_default().into(),
        }
    }

    /// The line of this body at `position`
    pub(crate) fn at(&self, position: u64) -> Line {
        Line {
            position,
            kind: self.kind,
            body: Arc::clone(&self.json),
        }
    }
}

/// Where an engine opened from a data directory writes its accepted entries
pub(crate) trait Journal: Send + Sync + std::fmt::Debug {
    /// Whether the journal takes writes; a stopped one refuses them
    /// before the engine changes anything
    fn ready(&self) -> Result<(), JournalFailure>;

    /// Writes the lines (under the registry's write lock, so in position
    /// order); returns the count to [`Journal::commit`] to when the
    /// durability asks for a sync now
    fn append(&self, lines: &[Line]) -> Result<Option<u64>, JournalFailure>;

    /// Returns once every line up to `upto` is synced (after the lock is released)
    fn commit(&self, upto: u64) -> Result<(), JournalFailure>;

    /// The data directory behind it
    fn as_any(&self) -> &dyn Any;
}

impl Engine {
    /// The journal hook, for an engine opened from a data directory
    pub(crate) fn journal(&self) -> Option<&Arc<dyn Journal>> {
        self.journal.as_ref()
    }

    /// Attaches the journal: every later accepted entry goes to it
    pub(crate) fn set_journal(&mut self, journal: Arc<dyn Journal>) {
        self.journal = Some(journal);
    }

    /// Replaces the registry with a restored one (before the engine is shared)
    pub(crate) fn restore(&self, registry: Registry) {
        let loaded = self.loaded.load();
        self.write(|r| {
            *r = registry;
            r.sync_consent_map(loaded.policies.vocabulary().consent());
        });
    }

    /// `f` under the registry's read lock: deciders go on, writers wait
    pub(crate) fn with_registry<T>(&self, f: impl FnOnce(&Registry) -> T) -> T {
        f(&self.read())
    }

    /// `f` under the registry's write lock, journaling the lines it pushes
    /// (see the module docs); `fail` turns a journal failure into the call's error
    pub(super) fn write_journaled<T, E>(
        &self,
        fail: impl Fn(JournalFailure) -> E,
        f: impl FnOnce(&mut Registry, &mut Vec<Line>) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(journal) = &self.journal else {
            return self.write(|r| f(r, &mut Vec::new()));
        };
        let (done, appended) = {
            let mut guard = self
                .registry
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            journal.ready().map_err(&fail)?;
            let mut lines = Vec::new();
            let done = f(&mut guard, &mut lines);
            let appended = if lines.is_empty() {
                Ok(None)
            } else {
                journal.append(&lines)
            };
            self.published.publish(guard.seq());
            (done, appended)
        };
        if let Some(upto) = appended.map_err(&fail)? {
            journal.commit(upto).map_err(&fail)?;
        }
        done
    }
}
