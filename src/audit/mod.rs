//! Audit: one record per decision about a patient's data (SPEC.md §6,
//! R33–R35), a SHA-256 hash chain, pluggable sinks, verification and the
//! patient's access-log overview.
//!
//! The engine builds each record on the decision path (ids and codes only, a
//! few copies); sequence numbers, hashing and writing happen in the sink.

mod file;
mod overview;
mod record;
mod verify;

use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

pub use file::{Durability, FileSink, OpenReport, TornTail, read_records};
pub use overview::{OverviewEntry, overview, overview_of_holder};
pub use record::{
    AuditAction, AuditPrincipal, AuditRecord, Checks, DashboardTag, GENESIS_HASH, PrincipalKind,
};
pub use verify::{Break, ChainBreak, VerifyReport, verify, verify_records};

/// Why a sink could not take a record
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Writing or syncing the log failed
    #[error("audit log `{path}`: {message}")]
    Io {
        /// The log file
        path: String,
        /// The operating system's message
        message: String,
    },
    /// A record could not be serialised
    #[error("audit record {seq}: {message}")]
    Encode {
        /// Its sequence number
        seq: u64,
        /// What went wrong
        message: String,
    },
    /// An existing log cannot be continued or read: a line other than a torn
    /// last one is not a record
    #[error("audit log `{path}` at byte {offset}: {message}")]
    Corrupt {
        /// The log file
        path: String,
        /// Where the bad line starts
        offset: u64,
        /// What is wrong with it
        message: String,
    },
    /// Another writer holds the log
    #[error("audit log `{path}` is in use by another writer")]
    Locked {
        /// The log file
        path: String,
    },
    /// The sink refuses records after an earlier write failed; reopen the log
    /// (opening cuts the partly written record)
    #[error("audit log `{path}` stopped after an earlier failure: {message}")]
    Stopped {
        /// The log file
        path: String,
        /// The earlier failure
        message: String,
    },
}

/// Where audit records go
///
/// `record` is called on the deciding thread, possibly from many threads at
/// once; the sink gives the record its gap-free `seq` and its place in the
/// hash chain. A sink that cannot record must report it: the engine counts
/// failures (see [`crate::Engine::audit_failures`]).
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Takes one record; `seq`, `prev_hash` and `hash` are the sink's to fill
    ///
    /// # Errors
    ///
    /// [`AuditError`] when the record could not be stored.
    fn record(&self, record: AuditRecord) -> Result<(), AuditError>;

    /// Makes every record taken so far durable
    ///
    /// # Errors
    ///
    /// [`AuditError`] when syncing failed.
    fn flush(&self) -> Result<(), AuditError> {
        Ok(())
    }
}

/// The SHA-256 of a record: over its JSON form with `hash` empty (so over
/// every other field and `prev_hash`), as lowercase hex
///
/// # Errors
///
/// [`AuditError::Encode`] if the record cannot be serialised.
pub fn record_hash(record: &AuditRecord) -> Result<String, AuditError> {
    let mut unhashed = record.clone();
    unhashed.hash.clear();
    let bytes = serde_json::to_vec(&unhashed).map_err(|e| AuditError::Encode {
        seq: record.seq,
        message: e.to_string(),
    })?;
    Ok(hex(&Sha256::digest(&bytes)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(
            DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        s.push(char::from(
            DIGITS.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
        ));
    }
    s
}

/// Gives `record` the next `seq`, links it to `prev` and hashes it
///
/// # Errors
///
/// [`AuditError::Encode`] if the record cannot be serialised.
pub fn seal(mut record: AuditRecord, seq: u64, prev: &str) -> Result<AuditRecord, AuditError> {
    record.seq = seq;
    prev.clone_into(&mut record.prev_hash);
    record.hash = record_hash(&record)?;
    Ok(record)
}

/// Keeps records in memory; hashes them into a chain when they are read, so
/// taking a record costs a lock and a push
///
/// [`MemorySink::drain`] hands the records over and frees the sink for more
/// (the chain goes on across drains), for a host that ships records elsewhere
/// in batches.
#[derive(Debug)]
pub struct MemorySink {
    inner: Mutex<Pending>,
}

/// Records not yet drained, and where the chain stood at the last drain
#[derive(Debug)]
struct Pending {
    records: Vec<AuditRecord>,
    drained: u64,
    prev: String,
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl MemorySink {
    /// An empty sink
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sink with room for `capacity` records before it reallocates
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Pending {
                records: Vec::with_capacity(capacity),
                drained: 0,
                prev: GENESIS_HASH.to_owned(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every record taken since the last drain (all of them if none),
    /// numbered on from the last drained one (from 1) and hash-chained; the
    /// sink keeps them
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if a record cannot be serialised.
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let (taken, drained, mut prev) = {
            let pending = self.lock();
            (
                pending.records.clone(),
                pending.drained,
                pending.prev.clone(),
            )
        };
        let mut out = Vec::with_capacity(taken.len());
        for (seq, r) in (drained + 1..).zip(taken) {
            let sealed = seal(r, seq, &prev)?;
            prev.clone_from(&sealed.hash);
            out.push(sealed);
        }
        Ok(out)
    }

    /// As [`MemorySink::records`], but hands the records over: the sink
    /// keeps only its place in the chain, and its memory for the next ones
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if a record cannot be serialised; the sink then
    /// keeps every record.
    #[expect(
        clippy::drain_collect,
        reason = "`drain` keeps the sink's capacity for the next records; `take` would not"
    )]
    pub fn drain(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut pending = self.lock();
        let Pending {
            records,
            drained,
            prev,
        } = &mut *pending;
        let mut link = prev.clone();
        for (seq, r) in (*drained + 1..).zip(records.iter_mut()) {
            r.seq = seq;
            r.prev_hash.clone_from(&link);
            r.hash = record_hash(r)?;
            link.clone_from(&r.hash);
        }
        *drained += records.len() as u64;
        *prev = link;
        Ok(records.drain(..).collect())
    }

    /// How many records were taken since the last drain
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record was taken since the last drain
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AuditSink for MemorySink {
    fn record(&self, record: AuditRecord) -> Result<(), AuditError> {
        self.lock().records.push(record);
        Ok(())
    }
}
