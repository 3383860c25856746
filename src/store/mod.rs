//! The embedded data directory (SPEC.md §8, R49; `docs/durability.md`): a
//! journal of every accepted entry and snapshots of the registry, so an
//! engine reopened after a crash holds every entry it acknowledged.
//!
//! ```text
//! DIR/LOCK                                    held by the one opener
//! DIR/journal-00000000000000000000.jsonl      entries above position 0 …
//! DIR/journal-00000000000000120000.jsonl      … and above 120000 (a snapshot's)
//! DIR/snapshot-00000000000000120000.snap      the registry at position 120000
//! ```
//!
//! [`Engine::open`] restores the newest snapshot that verifies and replays
//! the journal after it; every accepted entry is then written to the
//! journal, with its position, before its call returns.
//! [`Engine::snapshot`] writes a snapshot while deciders go on deciding, and
//! drops the journal segments two snapshots cover.

mod journal;
mod snapshot;

use std::fmt;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use crate::audit::Durability;
use crate::engine::Engine;
use crate::engine::journal::{Journal, Line};
use crate::model::error::JournalFailure;
use crate::model::log_entry::LogEntry;
use crate::policy::{Policies, PolicyLoadError};

pub use snapshot::{FORMAT_VERSION, SnapshotProblem};

/// The lock file of a data directory
const LOCK_FILE: &str = "LOCK";

/// How to open a data directory
///
/// ```
/// use zorg_pdp::store::{Durability, StoreOptions};
/// let options = StoreOptions::default().durability(Durability::EveryN(100));
/// assert_eq!(options.get_durability(), Durability::EveryN(100));
/// assert!(!StoreOptions::default().get_read_only());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    durability: Durability,
    read_only: bool,
}

impl Default for StoreOptions {
    /// Every entry synced before its call returns; read and write
    fn default() -> Self {
        Self {
            durability: Durability::EveryRecord,
            read_only: false,
        }
    }
}

impl StoreOptions {
    /// When the journal is synced: every entry (the default), every `n`
    /// entries, or only on [`Engine::sync`] and [`Engine::snapshot`].
    /// Every entry is written to the operating system before its call
    /// returns whatever the policy, so a killed process loses none; the
    /// policy decides what a power loss can take (`docs/durability.md`).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Opens without changing anything: no lock for writing (a shared
    /// one), no torn tail cut, no journal attached (the engine's writes stay
    /// in memory). For inspecting a directory (`zorg-pdp data verify`).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The durability policy
    pub fn get_durability(&self) -> Durability {
        self.durability
    }

    /// Whether it opens read-only
    pub fn get_read_only(&self) -> bool {
        self.read_only
    }
}

/// A torn last journal line that opening cut (or, read-only, found)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornEntry {
    /// The segment file
    pub path: PathBuf,
    /// The byte offset the line starts at (the segment's new length)
    pub offset: u64,
    /// How many bytes it had
    pub bytes: u64,
    /// The position of the last good entry before it (the torn one's was above)
    pub after: u64,
}

impl fmt::Display for TornEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a torn last line of {} bytes at byte {} of `{}` (after position {})",
            self.bytes,
            self.offset,
            self.path.display(),
            self.after
        )
    }
}

/// A snapshot that opening refused; the journal was replayed instead
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedSnapshot {
    /// The file (renamed to `….refused` by a read-write open)
    pub path: PathBuf,
    /// The position its name gives
    pub position: u64,
    /// Why
    pub problem: SnapshotProblem,
}

impl fmt::Display for RefusedSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused snapshot `{}`: {}",
            self.path.display(),
            self.problem
        )
    }
}

/// What opening a data directory found and did
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The directory
    pub dir: PathBuf,
    /// Whether it held no journal yet (a new directory)
    pub created: bool,
    /// Whether it was opened read-only
    pub read_only: bool,
    /// The snapshot restored (its file and position), if any
    pub snapshot: Option<(PathBuf, u64)>,
    /// Snapshots newer than it that were refused, newest first
    pub refused: Vec<RefusedSnapshot>,
    /// Journal segments in the directory, and how many were read
    pub segments: usize,
    /// Segments read to replay
    pub segments_read: usize,
    /// Entries applied from the journal
    pub replayed: u64,
    /// The torn last line cut (found, when read-only)
    pub torn: Option<TornEntry>,
    /// The last applied position after opening
    pub seq: u64,
    /// How long opening took
    pub elapsed: Duration,
}

impl fmt::Display for OpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data directory `{}`", self.dir.display())?;
        if self.created {
            f.write_str(": new")?;
        }
        match &self.snapshot {
            Some((path, p)) => {
                write!(f, "; restored snapshot `{}` (position {p})", path.display())?;
            }
            None => f.write_str("; no snapshot")?,
        }
        write!(
            f,
            "; replayed {} entries from {} of {} journal segments; at position {}",
            self.replayed, self.segments_read, self.segments, self.seq
        )?;
        for r in &self.refused {
            write!(f, "; {r}")?;
        }
        if let Some(torn) = &self.torn {
            let verb = if self.read_only { "found" } else { "cut" };
            write!(f, "; {verb} {torn}")?;
        }
        Ok(())
    }
}

/// What [`Engine::snapshot`] wrote
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotReport {
    /// The snapshot file
    pub path: PathBuf,
    /// The position it holds the registry at
    pub position: u64,
    /// Its size
    pub bytes: u64,
    /// How long writers waited: the encoding under the registry's read lock
    /// (deciders never wait)
    pub writers_waited: Duration,
    /// Journal segments removed (two snapshots cover them)
    pub removed_segments: usize,
    /// Older snapshots removed (the two newest are kept)
    pub removed_snapshots: usize,
}

/// A data directory that could not be opened, snapshotted or synced
///
/// Messages name the file, the line and byte offset, the field; its `Debug`
/// shows the kind of error and the file, never an entry.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file could not be created, read, written or synced
    #[error("data directory: `{path}`: {source}")]
    Io {
        /// The file or directory
        path: String,
        /// The operating system's reason
        source: std::io::Error,
    },
    /// Another engine has the directory open
    #[error("data directory `{path}` is in use by another engine (its `LOCK` is held)")]
    Locked {
        /// The directory
        path: String,
    },
    /// A journal line that is not the last one is damaged (or the last one
    /// of a segment before the newest): never skipped
    #[error("journal `{path}`: line {line} (byte {offset}): {message}")]
    Corrupt {
        /// The segment file
        path: String,
        /// 1-based line (the header is line 1)
        line: u64,
        /// The byte offset the line starts at
        offset: u64,
        /// What is wrong
        message: String,
    },
    /// The journal does not reach back to the restored state: its oldest
    /// segment follows position `first`, and the newest snapshot accepted
    /// (none: 0) is at `restored`
    #[error(
        "journal `{path}` starts after position {first}, but the state restored is at position \
         {restored} ({refused} snapshot(s) refused): entries in between are gone"
    )]
    Gap {
        /// The oldest segment
        path: String,
        /// The position it follows
        first: u64,
        /// The restored position
        restored: u64,
        /// Snapshots refused
        refused: usize,
    },
    /// An entry of the journal was refused on replay (the policies' vocabulary
    /// changed since it was written?)
    #[error("journal `{path}`: line {line}: entry at position {position} refused: {message}")]
    Replay {
        /// The segment file
        path: String,
        /// 1-based line
        line: u64,
        /// The entry's position
        position: u64,
        /// Why the engine refused it
        message: String,
    },
    /// The journal failed (and stopped)
    #[error(transparent)]
    Journal(#[from] JournalFailure),
    /// The engine was not opened from a data directory
    #[error("the engine was not opened from a data directory: nothing to snapshot")]
    InMemory,
    /// The shipped policies did not load
    #[error(transparent)]
    Policies(Box<PolicyLoadError>),
    /// The thread reading the journal stopped unexpectedly
    #[error("data directory `{path}`: the journal reader stopped unexpectedly")]
    Reader {
        /// The directory
        path: String,
    },
}

impl fmt::Debug for StoreError {
    /// The kind and the file, never an entry
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, source } => f
                .debug_struct("Io")
                .field("path", path)
                .field("kind", &source.kind())
                .finish(),
            StoreError::Locked { path } => f.debug_struct("Locked").field("path", path).finish(),
            StoreError::Corrupt {
                path, line, offset, ..
            } => f
                .debug_struct("Corrupt")
                .field("path", path)
                .field("line", line)
                .field("offset", offset)
                .finish_non_exhaustive(),
            StoreError::Gap {
                path,
                first,
                restored,
                refused,
            } => f
                .debug_struct("Gap")
                .field("path", path)
                .field("first", first)
                .field("restored", restored)
                .field("refused", refused)
                .finish(),
            StoreError::Replay {
                path,
                line,
                position,
                ..
            } => f
                .debug_struct("Replay")
                .field("path", path)
                .field("line", line)
                .field("position", position)
                .finish_non_exhaustive(),
            StoreError::Journal(j) => f
                .debug_struct("Journal")
                .field("path", &j.path)
                .field("stopped", &j.stopped)
                .finish_non_exhaustive(),
            StoreError::InMemory => f.write_str("InMemory"),
            StoreError::Policies(_) => f.write_str("Policies(..)"),
            StoreError::Reader { path } => f.debug_struct("Reader").field("path", path).finish(),
        }
    }
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Makes the directory's entries (a new, renamed or removed file) durable
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))
}

#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// An open data directory: the engine's journal hook
struct Directory {
    path: PathBuf,
    /// Held (locked) while the directory is open
    _lock: Option<File>,
    writer: journal::Writer,
    /// One snapshot at a time
    snapshotting: Mutex<()>,
}

impl fmt::Debug for Directory {
    /// Paths and the durability, never an entry
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (segment, after) = self.writer.current();
        f.debug_struct("Directory")
            .field("path", &self.path)
            .field("durability", &self.writer.durability())
            .field("segment", &segment)
            .field("segment_after", &after)
            .finish_non_exhaustive()
    }
}

impl Journal for Directory {
    fn ready(&self) -> Result<(), JournalFailure> {
        self.writer.ready()
    }
    fn append(&self, lines: &[Line]) -> Result<Option<u64>, JournalFailure> {
        self.writer.append(lines)
    }
    fn commit(&self, upto: u64) -> Result<(), JournalFailure> {
        self.writer.commit(upto)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The files of a data directory, sorted by position
#[derive(Debug, Default)]
struct Listing {
    segments: Vec<(u64, PathBuf)>,
    snapshots: Vec<(u64, PathBuf)>,
    temporary: Vec<PathBuf>,
}

fn list(dir: &Path) -> Result<Listing, StoreError> {
    let mut listing = Listing::default();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        if let Some(after) = journal::parse_segment_name(name) {
            listing.segments.push((after, path));
        } else if let Some(position) = snapshot::parse_snapshot_name(name) {
            listing.snapshots.push((position, path));
        } else if Path::new(name).extension().is_some_and(|e| e == "tmp") {
            listing.temporary.push(path);
        }
    }
    listing.segments.sort();
    listing.snapshots.sort();
    Ok(listing)
}

/// Takes the directory's lock: exclusive to write, shared to read
fn lock(dir: &Path, read_only: bool) -> Result<Option<File>, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = if read_only {
        match File::open(&path) {
            Ok(f) => f,
            // Never opened for writing: nobody to keep out
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        }
    } else {
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error(&path, e))?
    };
    let locked = if read_only {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match locked {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked {
            path: dir.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(io_error(&path, e)),
    }
}

/// Entries per batch handed from the reading thread to the applying one
const CHUNK: usize = 4096;

/// What replaying the journal did
struct Replayed {
    entries: u64,
    torn: Option<TornEntry>,
}

/// Replays `segments` into `engine`: one thread reads, checks and parses
/// the lines, this one applies them in batches
fn replay(
    dir: &Path,
    engine: &Engine,
    segments: &[(u64, PathBuf)],
) -> Result<Replayed, StoreError> {
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel::<Vec<(LogEntry, journal::LineAt)>>(4);
        let reader = s.spawn(move || -> Result<Option<TornEntry>, StoreError> {
            let mut previous = 0;
            let mut torn = None;
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut gone = false;
            for (i, (after, path)) in segments.iter().enumerate() {
                let last = i + 1 == segments.len();
                let scanned = journal::scan(path, i, previous.max(*after), last, |entry, at| {
                    chunk.push((entry, at));
                    if chunk.len() >= CHUNK
                        && tx
                            .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                            .is_err()
                    {
                        gone = true;
                    }
                    !gone
                })?;
                if gone {
                    return Ok(None);
                }
                previous = scanned.last;
                torn = torn.or(scanned.torn);
            }
            if !chunk.is_empty() {
                let _ = tx.send(chunk);
            }
            Ok(torn)
        });
        let mut entries = 0u64;
        let mut failed = None;
        for chunk in &rx {
            let (batch, at): (Vec<LogEntry>, Vec<journal::LineAt>) = chunk.into_iter().unzip();
            let seq = engine.seq();
            let fresh = batch.iter().filter(|e| e.position() > seq).count() as u64;
            if let Err((i, e)) = engine.apply_entries(&batch) {
                let at = at.get(i).copied();
                let path = at
                    .and_then(|a| segments.get(a.segment))
                    .map(|(_, p)| p.display().to_string())
                    .unwrap_or_default();
                failed = Some(StoreError::Replay {
                    path,
                    line: at.map_or(0, |a| a.line),
                    position: e.position(),
                    message: e.to_string(),
                });
                break;
            }
            entries += fresh;
        }
        drop(rx);
        let torn = reader.join().map_err(|_| StoreError::Reader {
            path: dir.display().to_string(),
        })??;
        match failed {
            Some(e) => Err(e),
            None => Ok(Replayed { entries, torn }),
        }
    })
}

impl Engine {
    /// An engine with the shipped policies restored from the data directory
    /// `dir` (created when absent), journaling every accepted entry there,
    /// each synced before its call returns
    ///
    /// ```
    /// use zorg_pdp::{Engine, Patient, PatientId};
    /// # let dir = std::env::temp_dir().join(format!("zorg-pdp-doc-open-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// {
    ///     let engine = Engine::open(&dir)?;
    ///     engine.register_patient(&Patient::new(PatientId::new("client-1")?))?;
    ///     assert!(Engine::open(&dir).is_err(), "a second opener is refused");
    /// }
    /// let again = Engine::open(&dir)?;
    /// assert_eq!(again.seq(), 1);
    /// # drop(again); std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Engine::open_with`], and [`StoreError::Policies`] if the
    /// shipped policies are broken.
    pub fn open(dir: impl AsRef<Path>) -> Result<Engine, StoreError> {
        let policies = Policies::shipped().map_err(|e| StoreError::Policies(Box::new(e)))?;
        Self::open_with(dir, policies, StoreOptions::default()).map(|(engine, _)| engine)
    }

    /// An engine with `policies` restored from the data directory `dir`, and
    /// what opening found
    ///
    /// The newest snapshot that verifies is restored; a corrupt or foreign
    /// one (another format version, another vocabulary) is refused, named in
    /// [`OpenReport::refused`], renamed to `….refused`, and an older snapshot
    /// or the journal from its start is used instead. The journal after the
    /// restored position is replayed; a torn last line (a crash mid-write) is
    /// cut and reported in [`OpenReport::torn`]. A failed open changes
    /// nothing in the directory.
    ///
    /// ```
    /// use zorg_pdp::store::{Durability, StoreOptions};
    /// use zorg_pdp::{Engine, Patient, PatientId, Policies};
    /// # let dir = std::env::temp_dir().join(format!("zorg-pdp-doc-open-with-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let options = StoreOptions::default().durability(Durability::EveryN(1000));
    /// let (engine, report) = Engine::open_with(&dir, Policies::shipped()?, options)?;
    /// assert!(report.created && report.torn.is_none());
    /// engine.register_patient(&Patient::new(PatientId::new("client-1")?))?;
    /// let written = engine.snapshot()?;
    /// assert_eq!(written.position, 1);
    /// engine.sync()?;
    /// drop(engine);
    /// let (engine, report) = Engine::open_with(&dir, Policies::shipped()?, options)?;
    /// assert_eq!(report.snapshot.map(|(_, p)| p), Some(1));
    /// assert_eq!(engine.seq(), 1);
    /// # drop(engine); std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] when another engine has it open;
    /// [`StoreError::Corrupt`] for a damaged journal line that is not the
    /// last; [`StoreError::Gap`] when the journal does not reach back to the
    /// state restored; [`StoreError::Replay`] for a journal entry refused;
    /// [`StoreError::Io`] for a file that cannot be read or written.
    pub fn open_with(
        dir: impl AsRef<Path>,
        policies: Policies,
        options: StoreOptions,
    ) -> Result<(Engine, OpenReport), StoreError> {
        let started = Instant::now();
        let dir = dir.as_ref().to_path_buf();
        let read_only = options.read_only;
        if !read_only {
            std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
        }
        let held = lock(&dir, read_only)?;
        let listing = list(&dir)?;
        let vocabulary = snapshot::vocabulary_hash(policies.vocabulary());
        let mut engine = Engine::with_policies(policies);

        let mut refused = Vec::new();
        let mut restored = None;
        for (position, path) in listing.snapshots.iter().rev() {
            match snapshot::load(path, *position, &vocabulary) {
                Ok(registry) => {
                    engine.restore(registry);
                    restored = Some((path.clone(), *position));
                    break;
                }
                Err(problem) => refused.push(RefusedSnapshot {
                    path: path.clone(),
                    position: *position,
                    problem,
                }),
            }
        }
        let from = engine.seq();
        let start = listing
            .segments
            .iter()
            .rposition(|(after, _)| *after <= from);
        let segments = match (start, listing.segments.first()) {
            (Some(i), _) => listing.segments.get(i..).unwrap_or_default(),
            (None, None) => &[],
            (None, Some((first, path))) => {
                return Err(StoreError::Gap {
                    path: path.display().to_string(),
                    first: *first,
                    restored: from,
                    refused: refused.len(),
                });
            }
        };
        let replayed = replay(&dir, &engine, segments)?;

        // The open succeeded: now the directory may change
        if !read_only {
            if let Some(torn) = &replayed.torn {
                let file = journal::open_segment(&torn.path)?;
                file.set_len(torn.offset)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_error(&torn.path, e))?;
            }
            for r in &refused {
                let mut aside = r.path.clone().into_os_string();
                aside.push(".refused");
                std::fs::rename(&r.path, &aside).map_err(|e| io_error(&r.path, e))?;
            }
            for tmp in &listing.temporary {
                std::fs::remove_file(tmp).map_err(|e| io_error(tmp, e))?;
            }
            let (path, after, file) = if let Some((after, path)) = listing.segments.last() {
                (path.clone(), *after, journal::open_segment(path)?)
            } else {
                let (path, file) = journal::create_segment(&dir, engine.seq())?;
                (path, engine.seq(), file)
            };
            sync_dir(&dir)?;
            let writer = journal::Writer::new(dir.clone(), options.durability, path, after, file)?;
            engine.set_journal(Arc::new(Directory {
                path: dir.clone(),
                _lock: held,
                writer,
                snapshotting: Mutex::new(()),
            }));
        }
        let report = OpenReport {
            created: listing.segments.is_empty(),
            read_only,
            snapshot: restored,
            refused,
            segments: listing.segments.len(),
            segments_read: segments.len(),
            replayed: replayed.entries,
            torn: replayed.torn,
            seq: engine.seq(),
            elapsed: started.elapsed(),
            dir,
        };
        Ok((engine, report))
    }

    fn directory(&self) -> Option<&Directory> {
        self.journal()?.as_any().downcast_ref::<Directory>()
    }

    /// The data directory the engine was opened from, if any
    pub fn data_dir(&self) -> Option<&Path> {
        self.directory().map(|d| d.path.as_path())
    }

    /// Writes a snapshot of the registry at the last applied position
    ///
    /// Deciders never wait: the registry is encoded under its read lock
    /// (writers wait for that, about a second per million patients, see
    /// [`SnapshotReport::writers_waited`]), and the journal starts a new
    /// segment there; the file is then written after the lock is released,
    /// atomically (a temporary file, synced, renamed, the directory synced).
    /// After it: the two newest snapshots are kept, older ones removed, and
    /// the journal segments wholly at or before the older of the two
    /// removed, so a refused newest snapshot can still fall back on the
    /// older one and the journal after it.
    ///
    /// # Errors
    ///
    /// [`StoreError::InMemory`] for an engine not opened from a directory;
    /// [`StoreError::Io`] when the file cannot be written (the journal is
    /// untouched and goes on); [`StoreError::Journal`] when the journal has stopped.
    pub fn snapshot(&self) -> Result<SnapshotReport, StoreError> {
        let dir = self.directory().ok_or(StoreError::InMemory)?;
        let _one = dir
            .snapshotting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let vocabulary = snapshot::vocabulary_hash(self.policies().vocabulary());
        let started = Instant::now();
        let (position, bytes) = self.with_registry(|r| -> Result<_, StoreError> {
            let bytes = snapshot::encode(r, &vocabulary);
            dir.writer.rotate(r.seq())?;
            Ok((r.seq(), bytes))
        })?;
        let writers_waited = started.elapsed();
        let path = snapshot::write(&dir.path, position, &bytes)?;
        let (removed_segments, removed_snapshots) = compact(&dir.path)?;
        Ok(SnapshotReport {
            path,
            position,
            bytes: bytes.len() as u64,
            writers_waited,
            removed_segments,
            removed_snapshots,
        })
    }

    /// Whether the journal has stopped after a failed write or sync: it then
    /// refuses every later entry (restart on the data directory to go on);
    /// `false` for an engine in memory. Cheap: for a host's metrics and
    /// health endpoints
    pub fn journal_stopped(&self) -> bool {
        self.directory().is_some_and(|d| d.writer.ready().is_err())
    }

    /// Flushes and syncs the journal: every entry accepted so far is durable
    /// when it returns, whatever the durability policy (nothing to do for an
    /// engine in memory)
    ///
    /// # Errors
    ///
    /// [`StoreError::Journal`] when the sync fails or the journal stopped.
    pub fn sync(&self) -> Result<(), StoreError> {
        match self.directory() {
            Some(dir) => dir.writer.sync().map_err(StoreError::Journal),
            None => Ok(()),
        }
    }
}

/// Keeps the two newest snapshots and the journal segments after the older
/// of them; how many segments and snapshots it removed
fn compact(dir: &Path) -> Result<(usize, usize), StoreError> {
    let listing = list(dir)?;
    let keep_from = listing.snapshots.len().saturating_sub(2);
    let (old, kept) = listing.snapshots.split_at(keep_from);
    for (_, path) in old {
        std::fs::remove_file(path).map_err(|e| io_error(path, e))?;
    }
    let mut removed = 0;
    if kept.len() == 2
        && let Some((older, _)) = kept.first()
    {
        // A segment is wholly at or before `older` when the next one follows
        // a position at or before it; the newest segment is never removed
        for pair in listing.segments.windows(2) {
            if let [(_, path), (next_after, _)] = pair
                && *next_after <= *older
            {
                std::fs::remove_file(path).map_err(|e| io_error(path, e))?;
                removed += 1;
            }
        }
    }
    if removed > 0 || !old.is_empty() {
        sync_dir(dir)?;
    }
    Ok((removed, old.len()))
}
