//! The errors of parsing input and registering entities.

use crate::model::event::EventError;
use crate::model::log_entry::LogEntryError;
use crate::model::request::RequestError;

/// Input that could not be parsed: JSON or TOML syntax, an unknown or
/// duplicate field, a malformed id or time, or fields that do not fit
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is not valid for the expected structure
    #[error("{what}: {message} (line {line}, column {column})")]
    Syntax {
        /// What was being parsed (`request`, `event`, …)
        what: &'static str,
        /// What is wrong, naming the field
        message: String,
        /// 1-based line
        line: usize,
        /// 1-based column
        column: usize,
    },
    /// The text is larger than the limit for its kind
    #[error("{what}: {size} bytes is more than the limit of {limit}")]
    TooLarge {
        /// What was being parsed
        what: &'static str,
        /// Its size in bytes
        size: usize,
        /// The limit in bytes
        limit: usize,
    },
    /// The event's fields do not fit its type
    #[error(transparent)]
    Event(#[from] EventError),
    /// The request's fields do not fit its action
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A log entry's fields do not fit together (SPEC.md §8)
    #[error(transparent)]
    LogEntry(#[from] LogEntryError),
}

/// An entity that could not be registered
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntityError {
    /// A practitioner names an organisation that is not registered
    #[error("practitioner `{practitioner}`: field `organisation`: unknown `{organisation}`")]
    UnknownOrganisation {
        /// The practitioner
        practitioner: String,
        /// The organisation it names
        organisation: String,
    },
    /// A role, task or other value the loaded vocabulary does not know
    #[error("practitioner `{practitioner}`: field `{field}`: unknown `{value}`")]
    UnknownValue {
        /// The practitioner
        practitioner: String,
        /// `role` or `tasks`
        field: &'static str,
        /// The value
        value: String,
    },
    /// A national identifier (`ura` of an organisation, `bsn` of a patient)
    /// that another entity already has; the value is not repeated (a BSN
    /// names a patient)
    #[error("{kind} `{id}`: field `{field}`: already registered to another {kind}")]
    Taken {
        /// `organisation` or `patient`
        kind: &'static str,
        /// The entity being registered
        id: String,
        /// `ura` or `bsn`
        field: &'static str,
    },
    /// A registry holds at most `u32::MAX` entities of one kind
    #[error("too many {0} registered")]
    Capacity(&'static str),
    /// The engine was opened from a data directory and its journal could not
    /// take the accepted entity record: it is not acknowledged
    /// (`docs/durability.md`)
    #[error(transparent)]
    Journal(#[from] JournalFailure),
}

/// The journal of an engine opened from a data directory failed to take an
/// accepted entry (a write or a sync failed), or stopped after such a failure
///
/// The call that returns it is not acknowledged: its entry may be applied in
/// memory and may or may not be in the journal after a reopen, as with a
/// write whose answer was lost; retry it at its position with
/// `apply_entry` after reopening. After the first failure the journal stops
/// and every later write is refused, unchanged, with `stopped` set, until
/// the directory is opened again (fail closed: a half-written line is never
/// followed by another, and opening cuts it). The message names the file and
/// the operating system's reason, never an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal `{path}`: {}{message}", if *.stopped { "stopped after an earlier failure: " } else { "" })]
pub struct JournalFailure {
    /// The journal file
    pub path: String,
    /// What failed (the operating system's reason)
    pub message: String,
    /// Whether the journal had stopped before this call (it changed nothing)
    pub stopped: bool,
}
