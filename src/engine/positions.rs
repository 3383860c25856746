//! Positions (SPEC.md §8): entries of a host's ordered log, and waiting for
//! a position.
//!
//! Every accepted entry takes a position. [`Engine::apply`] and the
//! `register_*` functions take the last one plus one; [`Engine::apply_entry`]
//! takes the entry's own and skips one that is not above the last applied
//! position (R48). After every write the engine publishes the last applied
//! position to a `Mutex` + `Condvar`, so [`Engine::wait_for`] sleeps until
//! it is reached or the timeout passes.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::model::entities::EntityRecord;
use crate::model::log_entry::{Applied, EntryBody, EntryError, LogEntry};
use crate::registry::Registry;

use super::journal::Body;
use super::{Engine, Loaded};

/// The last applied position as the waiters see it
#[derive(Debug, Default)]
pub(super) struct Published {
    position: Mutex<u64>,
    changed: Condvar,
}

impl Published {
    /// Publishes `position` (never lowering it) and wakes every waiter when it grew
    pub(super) fn publish(&self, position: u64) {
        let mut published = self.position.lock().unwrap_or_else(PoisonError::into_inner);
        if position > *published {
            *published = position;
            self.changed.notify_all();
        }
    }

    /// The position published last
    pub(super) fn current(&self) -> u64 {
        *self.position.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `position` is published within `timeout`
    fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut published = self.position.lock().unwrap_or_else(PoisonError::into_inner);
        while *published < position {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                // A timeout too long to add to now: wait as long as it takes
                None => Duration::MAX,
            };
            if left.is_zero() {
                return false;
            }
            published = self
                .changed
                .wait_timeout(published, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Engine {
    /// Applies one entry of a host's ordered log at its own position
    ///
    /// An entry whose position is not above the last applied one is
    /// skipped ([`Applied::Skipped`]): it was applied before, so replaying a
    /// log from any earlier position changes nothing (R48). Positions need
    /// not be dense: after this the last applied position is the entry's.
    ///
    /// ```
    /// use zorg_pdp::{Applied, Engine, LogEntry};
    /// let engine = Engine::new()?;
    /// let entry = LogEntry::from_json(r#"{"position": 17, "entity": {"patient": {"id": "client-1"}}}"#)?;
    /// assert_eq!(engine.apply_entry(&entry)?, Applied::Applied(17));
    /// assert_eq!(engine.apply_entry(&entry)?, Applied::Skipped { last: 17 });
    /// assert_eq!(engine.seq(), 17);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EntryError`] when the event or the entity is rejected; nothing
    /// changes then, and the position is not taken (a later entry at the
    /// same position is applied).
    pub fn apply_entry(&self, entry: &LogEntry) -> Result<Applied, EntryError> {
        let loaded = self.loaded.load();
        let body = self.journal.as_ref().map(|_| body_of(entry));
        let position = entry.position();
        self.write_journaled(
            |source| EntryError::Journal { position, source },
            |r, lines| {
                let done = apply_one(r, &loaded, entry)?;
                if let (Applied::Applied(p), Some(body)) = (done, body) {
                    lines.push(body.at(p));
                }
                Ok(done)
            },
        )
    }

    /// Applies entries of a host's ordered log in order, each as
    /// [`Engine::apply_entry`] does, under one write lock; returns the last
    /// applied position
    ///
    /// # Errors
    ///
    /// At the first refused entry: its place in `entries` and the
    /// [`EntryError`]. The entries before it stay applied; none after it is
    /// looked at.
    pub fn apply_entries(&self, entries: &[LogEntry]) -> Result<u64, (usize, EntryError)> {
        let loaded = self.loaded.load();
        let bodies: Option<Vec<Body>> = self
            .journal
            .as_ref()
            .map(|_| entries.iter().map(body_of).collect());
        let first = entries.first().map_or(0, LogEntry::position);
        self.write_journaled(
            |source| {
                (
                    0,
                    EntryError::Journal {
                        position: first,
                        source,
                    },
                )
            },
            |r, lines| {
                for (i, entry) in entries.iter().enumerate() {
                    let done = apply_one(r, &loaded, entry).map_err(|e| (i, e))?;
                    if let (Applied::Applied(p), Some(body)) =
                        (done, bodies.as_ref().and_then(|b| b.get(i)))
                    {
                        lines.push(body.at(p));
                    }
                }
                Ok(r.seq())
            },
        )
    }

    /// Waits until the engine has applied `position` (its [`Engine::seq`] is
    /// at least `position`), at most `timeout`; whether it has
    ///
    /// For a host that got a `stale_facts` deny (R47) and would rather wait
    /// than ask another replica. Sleeps on a condition variable that every
    /// applied entry notifies; never spins, reads no clock but for the
    /// timeout, and takes no registry lock.
    pub fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        self.published.wait_for(position, timeout)
    }

    /// The state digest, `sha256:` and 64 lowercase hex digits: SHA-256 over
    /// the last applied position and the registry in a canonical order, by
    /// names (R48, R50). Two engines that applied the same entries give the
    /// same digest, whatever order their interners numbered ids in; a
    /// replayed log with its repeats skipped gives the digest of applying it
    /// once. The encoding is in `docs/freshness.md`; the policies are not
    /// part of it.
    ///
    /// ```
    /// use zorg_pdp::{Engine, LogEntry};
    /// let (a, b) = (Engine::new()?, Engine::new()?);
    /// let entry = LogEntry::from_json(r#"{"position": 4, "entity": {"patient": {"id": "client-1"}}}"#)?;
    /// a.apply_entry(&entry)?;
    /// b.apply_entries(&[entry.clone(), entry]).map_err(|(_, e)| e)?;
    /// assert_eq!(a.state_digest(), b.state_digest());
    /// assert!(a.state_digest().starts_with("sha256:"));
    /// assert_ne!(a.state_digest(), Engine::new()?.state_digest());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn state_digest(&self) -> String {
        self.read().state_digest()
    }
}

/// An entry's body for the journal
fn body_of(entry: &LogEntry) -> Body {
    match entry.body() {
        EntryBody::Event(e) => Body::event(e),
        EntryBody::Entity(e) => Body::entity(e),
    }
}

/// One entry under the write lock
fn apply_one(r: &mut Registry, loaded: &Loaded, entry: &LogEntry) -> Result<Applied, EntryError> {
    let last = r.seq();
    let position = entry.position();
    if position <= last {
        return Ok(Applied::Skipped { last });
    }
    let vocabulary = loaded.policies.vocabulary();
    match entry.body() {
        EntryBody::Event(event) => r
            .apply(event, vocabulary)
            .map(|_| ())
            .map_err(|source| EntryError::Event { position, source }),
        EntryBody::Entity(entity) => match entity {
            EntityRecord::Organisation(o) => r.register_organisation(o),
            EntityRecord::Practitioner(p) => r.register_practitioner(p.clone(), vocabulary),
            EntityRecord::Patient(p) => r.register_patient(p),
        }
        .map_err(|source| EntryError::Entity { position, source }),
    }?;
    r.sync_consent_map(vocabulary.consent());
    r.set_position(position);
    Ok(Applied::Applied(position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_for_a_position_already_published_is_immediate() {
        let p = Published::default();
        p.publish(5);
        assert!(p.wait_for(5, Duration::ZERO));
        assert!(p.wait_for(3, Duration::ZERO));
        assert!(!p.wait_for(6, Duration::from_millis(10)));
        // Never lowered
        p.publish(2);
        assert!(p.wait_for(5, Duration::ZERO));
    }

    #[test]
    fn an_enormous_timeout_does_not_overflow() {
        let p = Published::default();
        p.publish(1);
        assert!(p.wait_for(1, Duration::MAX));
    }
}
