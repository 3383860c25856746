//! Audit: one record per decision about a patient's data (SPEC.md §6,
//! R33–R35), a SHA-256 hash chain, pluggable sinks, verification and the
//! patient's access-log overview.
//!
//! The engine builds each record on the decision path (ids and codes only, a
//! few copies); sequence numbers, hashing and writing happen in the sink.

mod file;
mod overview;
mod pending;
mod record;
mod verify;

use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::model::hex::hex;

pub use file::{Durability, FileSink, OpenReport, TornTail, read_records};
pub use overview::{OverviewEntry, overview, overview_of_holder};
pub use pending::PendingRecord;
pub(crate) use pending::{AuditFacts, Decided, Summary};
pub use record::{
    AuditAction, AuditPrincipal, AuditRecord, Checks, ConsentTag, DashboardTag, GENESIS_HASH,
    PrincipalKind,
};
pub use verify::{Break, ChainBreak, VerifyReport, verify, verify_records};

/// Why a sink could not take a record
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Opening, reading, writing or syncing the log failed
    ///
    /// The operating system's error is the [`source`](std::error::Error::source),
    /// so a host can tell a full disk from a permission problem.
    #[error("audit log `{path}`: input or output failed")]
    Io {
        /// The log file
        path: String,
        /// The operating system's error
        #[source]
        source: std::io::Error,
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

    /// Takes one record as the engine builds it on the deciding thread
    ///
    /// The default turns it into an [`AuditRecord`] at once and calls
    /// [`AuditSink::record`]; a sink that can keep it pending (and do the
    /// work later, off the decision path) overrides this.
    ///
    /// # Errors
    ///
    /// [`AuditError`] when the record could not be stored.
    fn record_pending(&self, record: PendingRecord) -> Result<(), AuditError> {
        self.record(record.into_record())
    }

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
    let mut buf = Vec::new();
    if record.hash.is_empty() {
        return hash_unhashed(record, &mut buf);
    }
    let mut unhashed = record.clone();
    unhashed.hash.clear();
    hash_unhashed(&unhashed, &mut buf)
}

/// The hash of a record whose `hash` is empty, serialised into `buf`
fn hash_unhashed(record: &AuditRecord, buf: &mut Vec<u8>) -> Result<String, AuditError> {
    buf.clear();
    serde_json::to_writer(&mut *buf, record).map_err(|e| AuditError::Encode {
        seq: record.seq,
        message: e.to_string(),
    })?;
    Ok(hex(&Sha256::digest(buf.as_slice())))
}

/// Gives `record` the next `seq`, links it to `prev` and hashes it
///
/// # Errors
///
/// [`AuditError::Encode`] if the record cannot be serialised.
pub fn seal(record: AuditRecord, seq: u64, prev: &str) -> Result<AuditRecord, AuditError> {
    seal_into(record, seq, prev, &mut Vec::new())
}

/// [`seal`], serialising into `buf` (reused across records)
fn seal_into(
    mut record: AuditRecord,
    seq: u64,
    prev: &str,
    buf: &mut Vec<u8>,
) -> Result<AuditRecord, AuditError> {
    record.seq = seq;
    prev.clone_into(&mut record.prev_hash);
    record.hash.clear();
    record.hash = hash_unhashed(&record, buf)?;
    Ok(record)
}

/// Keeps records in memory, pending; builds and hashes them into a chain when
/// they are read, so taking a record costs a lock and a push
///
/// [`MemorySink::drain`] hands the records over and frees the sink for more
/// (the chain goes on across drains), for a host that ships records elsewhere
/// in batches.
pub struct MemorySink {
    /// Records taken since the last drain; deciding threads lock only this,
    /// for a push
    taken: Mutex<Taken>,
    /// Where the chain stands; held by a drain while it builds and hashes,
    /// so deciding threads never wait for that
    chain: Mutex<Chain>,
}

/// The records taken since the last drain, oldest first: `older`, then `recent`
///
/// A deciding thread writes its record into `recent`, a few kilobytes it
/// keeps in its cache, and moves `STAGE` records at a time to `older` in one
/// copy. Writing each record straight into a buffer of hundreds of
/// thousands would make every decision wait, at the lock's release, for a
/// line of memory nobody has touched since the last drain; one copy of many
/// lines waits for them together.
struct Taken {
    older: Vec<PendingRecord>,
    recent: Vec<PendingRecord>,
}

impl std::fmt::Debug for MemorySink {
    /// How many records it holds and has drained; never a record
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.taken.lock().map_or(0, |t| t.len());
        let drained = self.chain.lock().map_or(0, |c| c.drained);
        f.debug_struct("MemorySink")
            .field("held", &held)
            .field("drained", &drained)
            .finish()
    }
}

/// Records a deciding thread gathers in cache before moving them on together
const STAGE: usize = 128;

impl Taken {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            older: Vec::with_capacity(capacity),
            recent: Vec::with_capacity(STAGE),
        }
    }

    #[inline]
    fn push(&mut self, record: PendingRecord) {
        self.recent.push(record);
        if self.recent.len() >= STAGE {
            // Keeps `recent`'s memory for the next ones
            self.older.append(&mut self.recent);
        }
    }

    fn len(&self) -> usize {
        self.older.len() + self.recent.len()
    }

    /// Every record, oldest first, in `older`
    fn gather(&mut self) -> &mut Vec<PendingRecord> {
        self.older.append(&mut self.recent);
        &mut self.older
    }
}

/// Where the chain stood at the last drain
struct Chain {
    drained: u64,
    prev: String,
    /// The other buffer: swapped with `taken` by a drain, so both keep their memory
    spare: Vec<PendingRecord>,
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemorySink {
    /// An empty sink
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sink with room for `capacity` records between drains before
    /// it reallocates
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            taken: Mutex::new(Taken::with_capacity(capacity)),
            chain: Mutex::new(Chain {
                drained: 0,
                prev: GENESIS_HASH.to_owned(),
                spare: Vec::with_capacity(capacity),
            }),
        }
    }

    /// Every record taken since the last drain (all of them if none),
    /// numbered on from the last drained one (from 1) and hash-chained; the
    /// sink keeps them
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if a record cannot be serialised.
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let chain = lock(&self.chain);
        let mut taken = lock(&self.taken);
        seal_all(taken.gather(), chain.drained, &chain.prev)
    }

    /// As [`MemorySink::records`], but hands the records over: the sink
    /// keeps only its place in the chain, and its memory for the next ones
    ///
    /// Deciding threads go on recording while a drain builds and hashes: it
    /// takes the records in one swap and works outside their lock.
    ///
    /// # Errors
    ///
    /// [`AuditError::Encode`] if a record cannot be serialised; the sink then
    /// keeps every record.
    pub fn drain(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut chain = lock(&self.chain);
        let chain = &mut *chain;
        std::mem::swap(lock(&self.taken).gather(), &mut chain.spare);
        match seal_all(&chain.spare, chain.drained, &chain.prev) {
            Ok(out) => {
                if let Some(last) = out.last() {
                    chain.drained = last.seq;
                    last.hash.clone_into(&mut chain.prev);
                }
                chain.spare.clear();
                Ok(out)
            }
            Err(e) => {
                // Put them back, before any taken since.
                let mut taken = lock(&self.taken);
                let taken = taken.gather();
                chain.spare.append(taken);
                std::mem::swap(taken, &mut chain.spare);
                Err(e)
            }
        }
    }

    /// How many records were taken since the last drain
    pub fn len(&self) -> usize {
        lock(&self.taken).len()
    }

    /// Whether no record was taken since the last drain
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `records` built, numbered on from `drained` and linked from `prev`
fn seal_all(
    records: &[PendingRecord],
    drained: u64,
    prev: &str,
) -> Result<Vec<AuditRecord>, AuditError> {
    let mut out: Vec<AuditRecord> = Vec::with_capacity(records.len());
    let mut buf = Vec::with_capacity(1024);
    for (seq, r) in (drained + 1..).zip(records) {
        let link = out.last().map_or(prev, |p| p.hash.as_str());
        let sealed = seal_into(r.to_record(), seq, link, &mut buf)?;
        out.push(sealed);
    }
    Ok(out)
}

impl AuditSink for MemorySink {
    fn record(&self, record: AuditRecord) -> Result<(), AuditError> {
        self.record_pending(record.into())
    }

    fn record_pending(&self, record: PendingRecord) -> Result<(), AuditError> {
        lock(&self.taken).push(record);
        Ok(())
    }
}
