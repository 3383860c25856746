//! Audit: one record per decision about a patient's data (SPEC.md §6,
//! R33–R35), a SHA-256 hash chain, pluggable sinks, verification and the
//! patient's access-log overview.
//!
//! The engine builds each record on the decision path (ids and codes only, a
//! few copies); sequence numbers, hashing and writing happen in the sink.

mod record;

use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

pub use record::{
    AuditAction, AuditPrincipal, AuditRecord, Checks, DashboardTag, GENESIS_HASH, PrincipalKind,
};

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
    record.prev_hash = prev.to_owned();
    record.hash = record_hash(&record)?;
    Ok(record)
}

/// Keeps records in memory; hashes them into a chain when they are read, so
/// taking a record costs a lock and a push
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemorySink {
    /// An empty sink
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record so far, numbered from 1 and hash-chained
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if a record cannot be serialised.
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let taken = self
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut prev = GENESIS_HASH.to_owned();
        let mut out = Vec::with_capacity(taken.len());
        for (seq, r) in (1..).zip(taken) {
            let sealed = seal(r, seq, &prev)?;
            prev.clone_from(&sealed.hash);
            out.push(sealed);
        }
        Ok(out)
    }

    /// How many records were taken
    pub fn len(&self) -> usize {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no record was taken
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AuditSink for MemorySink {
    fn record(&self, record: AuditRecord) -> Result<(), AuditError> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
        Ok(())
    }
}
