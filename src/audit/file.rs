//! The JSON Lines file sink: one sealed record per line, a SHA-256 chain,
//! gap-free `seq` across threads, configurable durability and recovery from a
//! torn last line.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::{AuditError, AuditRecord, AuditSink, GENESIS_HASH, seal};
use crate::model::hex::hex;

/// When the file sink makes records durable (`fsync`)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every record is written and synced before [`AuditSink::record`]
    /// returns: an acknowledged record survives a crash of the process or the
    /// machine
    EveryRecord,
    /// Records are buffered and synced every `n` records (and on
    /// [`AuditSink::flush`]); a crash loses at most the last `n - 1`
    /// acknowledged records. `EveryN(0)` and `EveryN(1)` are `EveryRecord`.
    EveryN(u64),
    /// Records are buffered and synced only on [`AuditSink::flush`] (and when
    /// the sink is dropped)
    OnFlush,
}

/// A torn last line that opening a log cut away
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The byte offset the cut started at (the new length of the file)
    pub offset: u64,
    /// How many bytes were cut
    pub bytes: u64,
    /// The `seq` the torn record would have had: the last good record's plus one
    pub seq: u64,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cut a torn last line of {} bytes at byte {} (from seq {})",
            self.bytes, self.offset, self.seq
        )
    }
}

/// What opening a log found
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Whether the file was created
    pub created: bool,
    /// The `seq` of the last good record (0 for an empty log)
    pub last_seq: u64,
    /// The `hash` of the last good record ([`GENESIS_HASH`] for an empty log)
    pub last_hash: String,
    /// The torn last line that was cut, if any
    pub torn: Option<TornTail>,
}

impl fmt::Display for OpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created {
            f.write_str("created a new log")?;
        } else {
            write!(f, "continuing after seq {}", self.last_seq)?;
        }
        if let Some(torn) = &self.torn {
            write!(f, "; {torn}")?;
        }
        Ok(())
    }
}

/// A JSON Lines audit log: one sealed [`AuditRecord`] per line
///
/// Each record gets the next gap-free `seq` and is chained to the one before
/// by SHA-256 (see [`super::record_hash`]), under one lock, so many deciding
/// threads write one ordered chain. The record is serialised before the lock
/// is taken; only the sequence number, the hash and the write happen under it.
///
/// The file is locked against other writers while the sink is open.
/// Dropping the sink flushes and syncs what is buffered.
pub struct FileSink {
    path: PathBuf,
    durability: Durability,
    state: Mutex<State>,
}

impl std::fmt::Debug for FileSink {
    /// The path, the durability and the next `seq`; never a record
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let next_seq = self.state.lock().map_or(0, |state| state.next_seq);
        f.debug_struct("FileSink")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .field("next_seq", &next_seq)
            .finish_non_exhaustive()
    }
}

struct State {
    next_seq: u64,
    prev_hash: String,
    writer: BufWriter<File>,
    unsynced: u64,
    line: Vec<u8>,
    stopped: Option<String>,
}

/// `{"seq":0,` — how a record with `seq` 0 starts
const SEQ_PREFIX: &[u8] = b"{\"seq\":0,";
/// How a record with empty `prev_hash` and `hash` ends
const CHAIN_SUFFIX: &[u8] = b"\"prev_hash\":\"\",\"hash\":\"\"}";

impl FileSink {
    /// Opens the log at `path`, creating it if absent
    ///
    /// An existing log is continued: the next record gets the last record's
    /// `seq` plus one and links to its `hash`. A torn last line (left by a
    /// crash mid-write: no trailing newline, or not a record) is cut away and
    /// reported in [`OpenReport::torn`]; no line before it is touched.
    ///
    /// # Errors
    ///
    /// [`AuditError::Io`] when the file cannot be opened, read, cut or synced;
    /// [`AuditError::Locked`] when another sink has it open;
    /// [`AuditError::Corrupt`] when the line before a torn one is not a record
    /// either, or the last record's `hash` is not a SHA-256.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use zorg_pdp::audit::{AuditSink, Durability, FileSink, verify};
    /// # let path = std::env::temp_dir().join(format!("zorg-pdp-doc-{}.jsonl", std::process::id()));
    /// let engine = zorg_pdp::Engine::new()?;
    /// let (sink, opened) = FileSink::open(&path, Durability::EveryN(1000))?;
    /// if let Some(torn) = &opened.torn {
    ///     eprintln!("audit log: {torn}"); // a crash cut the last record short
    /// }
    /// let sink = Arc::new(sink);
    /// engine.set_audit_sink(sink.clone());
    /// // ... decide ...
    /// sink.flush()?;
    /// assert!(verify(&path)?.is_intact());
    /// # drop(sink); engine.clear_audit_sink(); std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<(FileSink, OpenReport), AuditError> {
        let path = path.as_ref().to_path_buf();
        let io = |e: std::io::Error| io_error(&path, e);
        let created = !path.try_exists().map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(AuditError::Locked {
                    path: path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        if created {
            sync_parent(&path).map_err(io)?;
        }
        let len = file.metadata().map_err(io)?.len();
        let tail = scan_tail(&mut file, len, &path)?;
        let (last_seq, last_hash) = match &tail.last {
            Some(r) => (r.seq, r.hash.clone()),
            None => (0, GENESIS_HASH.to_owned()),
        };
        if !is_sha256_hex(&last_hash) {
            return Err(AuditError::Corrupt {
                path: path.display().to_string(),
                offset: tail.last_start,
                message: format!("record {last_seq}: `hash` is not a SHA-256 in lowercase hex"),
            });
        }
        let torn = if tail.good_len < len {
            file.set_len(tail.good_len).map_err(io)?;
            file.sync_all().map_err(io)?;
            Some(TornTail {
                offset: tail.good_len,
                bytes: len - tail.good_len,
                seq: last_seq + 1,
            })
        } else {
            None
        };
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let report = OpenReport {
            created,
            last_seq,
            last_hash: last_hash.clone(),
            torn,
        };
        let sink = FileSink {
            path,
            durability: match durability {
                Durability::EveryN(0 | 1) => Durability::EveryRecord,
                d => d,
            },
            state: Mutex::new(State {
                next_seq: last_seq + 1,
                prev_hash: last_hash,
                writer: BufWriter::with_capacity(256 * 1024, file),
                unsynced: 0,
                line: Vec::with_capacity(1024),
                stopped: None,
            }),
        };
        Ok((sink, report))
    }

    /// The log file
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability it was opened with
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// The `seq` of the last record taken (0 when none is in the log)
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }

    /// The `hash` of the last record taken: keep it somewhere else too, so a
    /// log cut short at its end can be told from an intact one
    pub fn last_hash(&self) -> String {
        self.lock().prev_hash.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn io(&self, e: std::io::Error) -> AuditError {
        io_error(&self.path, e)
    }

    /// Writes `line` (one record with its newline) and syncs as the
    /// durability asks; on failure the sink stops
    fn write(&self, state: &mut State, sync_now: bool) -> Result<(), AuditError> {
        let State {
            writer,
            line,
            unsynced,
            ..
        } = state;
        let result = writer.write_all(line).and_then(|()| {
            *unsynced += 1;
            if sync_now {
                writer.flush()?;
                writer.get_ref().sync_data()?;
                *unsynced = 0;
            }
            Ok(())
        });
        result.map_err(|e| {
            state.stopped = Some(e.to_string());
            self.io(e)
        })
    }
}

impl AuditSink for FileSink {
    fn record(&self, record: AuditRecord) -> Result<(), AuditError> {
        // Serialise outside the lock: the record with `seq` 0 and empty chain
        // fields, split around the parts the lock fills in.
        let mut record = record;
        record.seq = 0;
        record.prev_hash.clear();
        record.hash.clear();
        let encoded = serde_json::to_vec(&record).map_err(|e| AuditError::Encode {
            seq: 0,
            message: e.to_string(),
        })?;
        let middle = encoded
            .strip_prefix(SEQ_PREFIX)
            .and_then(|m| m.strip_suffix(CHAIN_SUFFIX));

        let mut guard = self.lock();
        let state = &mut *guard;
        if let Some(message) = &state.stopped {
            return Err(AuditError::Stopped {
                path: self.path.display().to_string(),
                message: message.clone(),
            });
        }
        let seq = state.next_seq;
        state.line.clear();
        let hash = if let Some(middle) = middle {
            // The bytes `serde_json` gives the sealed record, built by hand:
            // `seq` is the first field, `prev_hash` and `hash` the last two,
            // and both hashes are plain hex.
            let line = &mut state.line;
            line.extend_from_slice(b"{\"seq\":");
            line.extend_from_slice(seq.to_string().as_bytes());
            line.push(b',');
            line.extend_from_slice(middle);
            line.extend_from_slice(b"\"prev_hash\":\"");
            line.extend_from_slice(state.prev_hash.as_bytes());
            line.extend_from_slice(b"\",\"hash\":\"");
            let mut hasher = Sha256::new();
            hasher.update(&*line);
            hasher.update(b"\"}");
            let hash = hex(&hasher.finalize());
            line.extend_from_slice(hash.as_bytes());
            line.extend_from_slice(b"\"}\n");
            hash
        } else {
            let sealed = seal(record, seq, &state.prev_hash)?;
            serde_json::to_writer(&mut state.line, &sealed).map_err(|e| AuditError::Encode {
                seq,
                message: e.to_string(),
            })?;
            state.line.push(b'\n');
            sealed.hash
        };
        let sync_now = match self.durability {
            Durability::EveryRecord => true,
            Durability::EveryN(n) => state.unsynced + 1 >= n,
            Durability::OnFlush => false,
        };
        self.write(state, sync_now)?;
        state.next_seq = seq + 1;
        state.prev_hash = hash;
        Ok(())
    }

    fn flush(&self) -> Result<(), AuditError> {
        let mut state = self.lock();
        if let Some(message) = &state.stopped {
            return Err(AuditError::Stopped {
                path: self.path.display().to_string(),
                message: message.clone(),
            });
        }
        let result = state
            .writer
            .flush()
            .and_then(|()| state.writer.get_ref().sync_data());
        match result {
            Ok(()) => {
                state.unsynced = 0;
                Ok(())
            }
            Err(e) => {
                state.stopped = Some(e.to_string());
                Err(self.io(e))
            }
        }
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if state.stopped.is_none() && state.writer.flush().is_ok() {
            // Nobody is left to tell: a failed sync here is what a crash
            // would have left, and opening the log again repairs it.
            let _ = state.writer.get_ref().sync_data();
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Makes a new file's directory entry durable
#[cfg(unix)]
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(not(unix))]
fn sync_parent(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The end of an existing log
#[derive(Debug)]
struct Tail {
    /// The length of the log without its torn last line
    good_len: u64,
    /// Where the last good record's line starts
    last_start: u64,
    /// The last good record
    last: Option<AuditRecord>,
}

/// Finds the last good record, reading the log from its end in growing windows
fn scan_tail(file: &mut File, len: u64, path: &Path) -> Result<Tail, AuditError> {
    let io = |e: std::io::Error| io_error(path, e);
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut buf = Vec::new();
        Read::take(&mut *file, len - start)
            .read_to_end(&mut buf)
            .map_err(io)?;
        match analyse(&buf, start == 0) {
            Some(Ok((good, last_start, last))) => {
                return Ok(Tail {
                    good_len: start + good,
                    last_start: start + last_start,
                    last,
                });
            }
            Some(Err((offset, message))) => {
                return Err(AuditError::Corrupt {
                    path: path.display().to_string(),
                    offset: start + offset,
                    message,
                });
            }
            None if start == 0 => {
                return Err(AuditError::Corrupt {
                    path: path.display().to_string(),
                    offset: 0,
                    message: "cannot find the last record".to_owned(),
                });
            }
            None => window = window.saturating_mul(2),
        }
    }
}

/// Offsets into the window, the last record; `None` when the window is too
/// small to see the start of the line that decides
type Analysis = Option<Result<(u64, u64, Option<AuditRecord>), (u64, String)>>;

/// The last good record in `buf`, the end of the log: cuts the bytes after
/// the last newline (a torn write) or, if there are none, the last line if it
/// is not a record; the line before the cut must be a record.
fn analyse(buf: &[u8], at_file_start: bool) -> Analysis {
    let newline = |b: &u8| *b == b'\n';
    let mut end = match buf.iter().rposition(newline) {
        Some(p) => p + 1,
        None if at_file_start => 0,
        None => return None,
    };
    // At most one line is torn: a partial one after the last newline, or
    // else a last complete line that is not a record
    let mut cut_a_line = end < buf.len();
    loop {
        if end == 0 {
            return Some(Ok((0, 0, None)));
        }
        let body = buf.get(..end - 1)?;
        let start = match body.iter().rposition(newline) {
            Some(q) => q + 1,
            None if at_file_start => 0,
            None => return None,
        };
        let line = body.get(start..)?;
        match serde_json::from_slice::<AuditRecord>(line) {
            Ok(record) => return Some(Ok((end as u64, start as u64, Some(record)))),
            Err(_) if !cut_a_line => {
                cut_a_line = true;
                end = start;
            }
            Err(e) => {
                return Some(Err((
                    start as u64,
                    format!("the line before the torn last line is not a record either: {e}"),
                )));
            }
        }
    }
}

/// Every record of a log, in file order
///
/// # Errors
///
/// [`AuditError::Io`] when the file cannot be read; [`AuditError::Corrupt`]
/// naming the first line that is not a record (a torn last line too: open
/// the log with [`FileSink::open`] to cut it, or check it with
/// [`super::verify`]).
pub fn read_records(path: impl AsRef<Path>) -> Result<Vec<AuditRecord>, AuditError> {
    let path = path.as_ref();
    let io = |e: std::io::Error| io_error(path, e);
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut records = Vec::new();
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io)?;
        if n == 0 {
            return Ok(records);
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let record =
            serde_json::from_slice::<AuditRecord>(text).map_err(|e| AuditError::Corrupt {
                path: path.display().to_string(),
                offset,
                message: format!("line {} is not a record: {e}", records.len() + 1),
            })?;
        records.push(record);
        offset += n as u64;
    }
}
