//! Entries of a host's ordered log (SPEC.md §8): an event or an entity
//! record with the log's own position (an outbox id, a stream sequence).
//!
//! ```json
//! {"position": 17, "event": {"at": "2026-01-10T09:00:00Z", "type": "treatment_started",
//!   "patient": "client-1", "organisation": "vp-noord"}}
//! {"position": 18, "entity": {"patient": {"id": "client-2"}}}
//! ```
//!
//! The engine applies an entry only when its position is above the last one
//! it applied, so replaying a log from any earlier point changes nothing it
//! applied already (R48). Positions need not be dense.

use serde::{Deserialize, Serialize};

use crate::model::entities::EntityRecord;
use crate::model::error::{EntityError, JournalFailure};
use crate::model::event::{Event, EventError, EventRecord};

/// What a log entry carries
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryBody {
    /// A fact with its time
    Event(Event),
    /// An entity to register (or register again)
    Entity(EntityRecord),
}

/// One entry of a host's ordered log: a position (1 or more) and an event
/// or an entity record
///
/// ```
/// use zorg_pdp::{EntryBody, LogEntry};
/// let entry = LogEntry::from_json(r#"{"position": 18, "entity": {"patient": {"id": "client-2"}}}"#)?;
/// assert_eq!(entry.position(), 18);
/// assert!(matches!(entry.body(), EntryBody::Entity(_)));
/// assert!(LogEntry::from_json(r#"{"position": 0, "entity": {"patient": {"id": "c"}}}"#).is_err());
/// # Ok::<(), zorg_pdp::ParseError>(())
/// ```
///
/// Its `Debug` shows the position and the kind of entry, never an id.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "LogEntryRecord", try_from = "LogEntryRecord")]
pub struct LogEntry {
    position: u64,
    body: EntryBody,
}

impl std::fmt::Debug for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.body {
            EntryBody::Event(e) => e.kind.event_type().as_str(),
            EntryBody::Entity(EntityRecord::Organisation(_)) => "organisation",
            EntryBody::Entity(EntityRecord::Practitioner(_)) => "practitioner",
            EntryBody::Entity(EntityRecord::Patient(_)) => "patient",
        };
        f.debug_struct("LogEntry")
            .field("position", &self.position)
            .field("kind", &kind)
            .finish()
    }
}

impl LogEntry {
    /// An entry at `position`
    ///
    /// # Errors
    ///
    /// [`LogEntryError::ZeroPosition`] for position 0 (0 means "nothing
    /// applied yet").
    pub fn new(position: u64, body: EntryBody) -> Result<Self, LogEntryError> {
        if position == 0 {
            return Err(LogEntryError::ZeroPosition);
        }
        Ok(Self { position, body })
    }

    /// An event at `position`
    ///
    /// # Errors
    ///
    /// As [`LogEntry::new`].
    pub fn event(position: u64, event: Event) -> Result<Self, LogEntryError> {
        Self::new(position, EntryBody::Event(event))
    }

    /// An entity record at `position`
    ///
    /// # Errors
    ///
    /// As [`LogEntry::new`].
    pub fn entity(position: u64, entity: EntityRecord) -> Result<Self, LogEntryError> {
        Self::new(position, EntryBody::Entity(entity))
    }

    /// Its position in the host's log (1 or more)
    pub fn position(&self) -> u64 {
        self.position
    }

    /// What it carries
    pub fn body(&self) -> &EntryBody {
        &self.body
    }

    /// Parses one log entry from JSON
    ///
    /// # Errors
    ///
    /// [`crate::ParseError`] naming the field, for malformed JSON, an unknown
    /// or duplicate field, position 0, not exactly one of `event` /
    /// `entity`, or an event or entity that does not parse.
    pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
        crate::model::parse_json::<LogEntryRecord>(json, "log entry")
            .and_then(|r| LogEntry::try_from(r).map_err(crate::ParseError::from))
    }
}

/// The wire form of a [`LogEntry`]: `position` and exactly one of `event` /
/// `entity`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LogEntryRecord {
    /// The entry's position in the host's log (an outbox id, a stream
    /// sequence): 1 or more; an entry not above the last applied position is
    /// skipped as already applied
    #[cfg_attr(feature = "json-schema", schemars(range(min = 1)))]
    pub position: u64,
    /// An event (`schemas/event.schema.json`); exactly one of `event` / `entity`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventRecord>,
    /// An entity record (`schemas/entity.schema.json`); exactly one of
    /// `event` / `entity`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<EntityRecord>,
}

impl TryFrom<LogEntryRecord> for LogEntry {
    type Error = LogEntryError;

    fn try_from(r: LogEntryRecord) -> Result<Self, LogEntryError> {
        let position = r.position;
        let body = match (r.event, r.entity) {
            (Some(event), None) => EntryBody::Event(
                Event::try_from(event)
                    .map_err(|source| LogEntryError::Event { position, source })?,
            ),
            (None, Some(entity)) => EntryBody::Entity(entity),
            _ => return Err(LogEntryError::Body { position }),
        };
        LogEntry::new(position, body)
    }
}

impl From<LogEntry> for LogEntryRecord {
    fn from(e: LogEntry) -> Self {
        let (event, entity) = match e.body {
            EntryBody::Event(event) => (Some(EventRecord::from(event)), None),
            EntryBody::Entity(entity) => (None, Some(entity)),
        };
        Self {
            position: e.position,
            event,
            entity,
        }
    }
}

/// A log entry whose fields do not fit together
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogEntryError {
    /// Position 0: positions start at 1 (0 means "nothing applied yet")
    #[error("log entry: field `position`: must be 1 or more, not 0")]
    ZeroPosition,
    /// Neither or both of `event` / `entity`
    #[error("log entry at position {position}: exactly one of `event` / `entity` is required")]
    Body {
        /// The entry's position
        position: u64,
    },
    /// The event's fields do not fit its type
    #[error("log entry at position {position}: {source}")]
    Event {
        /// The entry's position
        position: u64,
        /// What is wrong with the event
        source: EventError,
    },
}

/// What [`crate::Engine::apply_entry`] did with an entry
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// Applied; the engine's last applied position is now this one
    Applied(u64),
    /// Skipped: its position is not above the last applied one (R48: it was
    /// applied before, or an older entry arrived late); nothing changed
    Skipped {
        /// The last applied position, unchanged
        last: u64,
    },
}

/// A log entry the engine refused; nothing changed, and its position was not taken
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The event was rejected (an unknown entity or value, a record added twice, …)
    #[error("log entry at position {position}: {source}")]
    Event {
        /// The entry's position
        position: u64,
        /// Why
        source: EventError,
    },
    /// The entity was rejected (an unknown organisation, role or task, a
    /// URA or BSN taken, a full registry)
    #[error("log entry at position {position}: {source}")]
    Entity {
        /// The entry's position
        position: u64,
        /// Why
        source: EntityError,
    },
    /// The entry was accepted but the journal of the engine's data directory
    /// could not take it: it is not acknowledged (`docs/durability.md`)
    #[error("log entry at position {position}: {source}")]
    Journal {
        /// The entry's position (of a batch: its first entry's)
        position: u64,
        /// What failed
        source: JournalFailure,
    },
}

impl EntryError {
    /// The refused entry's position
    pub fn position(&self) -> u64 {
        match self {
            EntryError::Event { position, .. }
            | EntryError::Entity { position, .. }
            | EntryError::Journal { position, .. } => *position,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"vp"}"#;

    #[test]
    fn parses_both_kinds_and_round_trips() {
        let json = format!(r#"{{"position":17,"event":{EVENT}}}"#);
        let e = LogEntry::from_json(&json).unwrap();
        assert_eq!(e.position(), 17);
        assert!(matches!(e.body(), EntryBody::Event(_)));
        assert_eq!(serde_json::to_string(&e).unwrap(), json);
        let json = r#"{"position":18,"entity":{"patient":{"id":"c2"}}}"#;
        let e = LogEntry::from_json(json).unwrap();
        assert!(matches!(
            e.body(),
            EntryBody::Entity(EntityRecord::Patient(_))
        ));
        assert_eq!(serde_json::to_string(&e).unwrap(), json);
    }

    #[test]
    fn refuses_position_zero_neither_both_and_unknown_fields() {
        let message = |json: &str| match LogEntry::from_json(json) {
            Ok(e) => format!("parsed: {e:?}"),
            Err(e) => e.to_string(),
        };
        let m = message(r#"{"position":0,"entity":{"patient":{"id":"c2"}}}"#);
        assert!(
            m.contains("field `position`") && m.contains("1 or more"),
            "{m}"
        );
        let m = message(r#"{"position":3}"#);
        assert!(m.contains("position 3") && m.contains("exactly one"), "{m}");
        let m = message(&format!(
            r#"{{"position":4,"event":{EVENT},"entity":{{"patient":{{"id":"c2"}}}}}}"#
        ));
        assert!(m.contains("exactly one"), "{m}");
        let m = message(r#"{"position":5,"entity":{"patient":{"id":"c2"}},"extra":1}"#);
        assert!(m.contains("unknown field `extra`"), "{m}");
        let m = message(r#"{"position":-1,"entity":{"patient":{"id":"c2"}}}"#);
        assert!(m.contains("position"), "{m}");
        let m = message(
            r#"{"position":6,"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"c1"}}"#,
        );
        assert!(
            m.contains("position 6") && m.contains("organisation"),
            "{m}"
        );
    }

    #[test]
    fn new_refuses_position_zero() {
        let patient = EntityRecord::from_json(r#"{"patient":{"id":"c1"}}"#).unwrap();
        assert_eq!(
            LogEntry::entity(0, patient.clone()),
            Err(LogEntryError::ZeroPosition)
        );
        assert_eq!(LogEntry::entity(1, patient).unwrap().position(), 1);
    }
}
