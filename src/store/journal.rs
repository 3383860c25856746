//! The journal: segment files of checksummed JSON lines.
//!
//! A segment is `journal-<P>.jsonl` (P in 20 digits): it holds entries with
//! positions above P, in position order. Its first line is [`HEADER`]; each
//! line after it is
//!
//! ```text
//! 8 lowercase hex digits of the CRC-32 of the JSON, a space, the JSON, "\n"
//! 3f1c09a2 {"position":17,"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started",…}}
//! ```
//!
//! the JSON being a log entry (`schemas/log-entry.schema.json`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::audit::Durability;
use crate::engine::journal::{Kind, Line};
use crate::model::error::JournalFailure;
use crate::model::log_entry::LogEntry;

use super::{StoreError, TornEntry, io_error, sync_dir};

/// The first line of every segment: its format and version
pub(super) const HEADER: &[u8] = b"zorg-pdp journal 1\n";

/// The file name of the segment after position `after`
pub(super) fn segment_name(after: u64) -> String {
    format!("journal-{after:020}.jsonl")
}

/// The position a segment's file name says it follows
pub(super) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("journal-")?.strip_suffix(".jsonl")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Appends one journal line for `line` to `out`
pub(super) fn encode(out: &mut Vec<u8>, line: &Line) {
    let start = out.len();
    out.extend_from_slice(b"00000000 ");
    let json_start = out.len();
    out.extend_from_slice(b"{\"position\":");
    out.extend_from_slice(line.position.to_string().as_bytes());
    out.extend_from_slice(match line.kind {
        Kind::Event => b",\"event\":",
        Kind::Entity => b",\"entity\":",
    });
    out.extend_from_slice(&line.body);
    out.push(b'}');
    let crc = crc32fast::hash(out.get(json_start..).unwrap_or_default());
    let hex = format!("{crc:08x}");
    if let Some(slot) = out.get_mut(start..start + 8) {
        slot.copy_from_slice(hex.as_bytes());
    }
    out.push(b'\n');
}

/// Creates an empty segment after `after` atomically (a temporary file with
/// the header, synced, renamed, the directory synced) and opens it for appending
pub(super) fn create_segment(dir: &Path, after: u64) -> Result<(PathBuf, File), StoreError> {
    let path = dir.join(segment_name(after));
    let tmp = dir.join(format!("{}.tmp", segment_name(after)));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| io_error(&p, e)
    };
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(HEADER).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)?;
    let file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io(&path))?;
    Ok((path, file))
}

/// Opens an existing segment for appending
pub(super) fn open_segment(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| io_error(path, e))
}

/// Where an entry was read
#[derive(Debug, Clone, Copy)]
pub(super) struct LineAt {
    /// Index of the segment in the replay
    pub(super) segment: usize,
    /// 1-based line number in its file (the header is line 1)
    pub(super) line: u64,
}

/// What scanning one segment found
#[derive(Debug, Default)]
pub(super) struct Scanned {
    /// Entries read
    pub(super) entries: u64,
    /// The position of the last good entry (the segment's `after` when none)
    pub(super) last: u64,
    /// The torn last line, when the segment is the last and it had one
    pub(super) torn: Option<TornEntry>,
}

/// Reads the segment at `path` (positions above `after`, and above `previous`,
/// the last position before it) and hands each entry to `each`; `last`
/// says whether it is the newest segment, whose torn last line is reported
/// (not cut: the caller cuts it once the open succeeds) rather than an error
///
/// `each` returns `false` to stop early.
pub(super) fn scan(
    path: &Path,
    segment: usize,
    previous: u64,
    last: bool,
    mut each: impl FnMut(LogEntry, LineAt) -> bool,
) -> Result<Scanned, StoreError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let corrupt = |line: u64, offset: u64, message: String| StoreError::Corrupt {
        path: path.display().to_string(),
        line,
        offset,
        message,
    };
    let mut buf = Vec::with_capacity(512);
    let n = reader
        .read_until(b'\n', &mut buf)
        .map_err(|e| io_error(path, e))?;
    if buf != HEADER {
        return Err(corrupt(
            1,
            0,
            "the first line is not `zorg-pdp journal 1`".to_owned(),
        ));
    }
    let mut offset = n as u64;
    let mut scanned = Scanned {
        last: previous,
        ..Scanned::default()
    };
    let mut number = 1u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| io_error(path, e))?;
        if n == 0 {
            return Ok(scanned);
        }
        number += 1;
        let parsed = parse_line(&buf);
        let entry = match parsed {
            Ok(entry) => entry,
            Err(Problem::Bad(why)) => {
                let at_end = reader.fill_buf().map_err(|e| io_error(path, e))?.is_empty();
                if last && at_end {
                    scanned.torn = Some(TornEntry {
                        path: path.to_path_buf(),
                        offset,
                        bytes: n as u64,
                        after: scanned.last,
                    });
                    return Ok(scanned);
                }
                return Err(corrupt(number, offset, why));
            }
            Err(Problem::Invalid(why)) => return Err(corrupt(number, offset, why)),
        };
        if entry.position() <= scanned.last {
            return Err(corrupt(
                number,
                offset,
                format!(
                    "position {} is not above the one before it ({})",
                    entry.position(),
                    scanned.last
                ),
            ));
        }
        scanned.last = entry.position();
        scanned.entries += 1;
        if !each(
            entry,
            LineAt {
                segment,
                line: number,
            },
        ) {
            return Ok(scanned);
        }
        offset += n as u64;
    }
}

/// Why a line is not an entry
enum Problem {
    /// Torn or damaged: no newline, no checksum, or a wrong one (a torn
    /// write when it is the last line)
    Bad(String),
    /// The checksum matches but the JSON is not a log entry: never a torn write
    Invalid(String),
}

fn parse_line(line: &[u8]) -> Result<LogEntry, Problem> {
    let Some(body) = line.strip_suffix(b"\n") else {
        return Err(Problem::Bad(
            "the line has no newline (a torn write)".to_owned(),
        ));
    };
    let (Some(hex), Some(b' '), Some(json)) = (body.get(..8), body.get(8), body.get(9..)) else {
        return Err(Problem::Bad(
            "the line is too short for a checksum".to_owned(),
        ));
    };
    let stored = std::str::from_utf8(hex)
        .ok()
        .filter(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| Problem::Bad("the line does not start with a CRC-32 in hex".to_owned()))?;
    let computed = crc32fast::hash(json);
    if stored != computed {
        return Err(Problem::Bad(format!(
            "checksum mismatch: the line says {stored:08x}, its bytes give {computed:08x}"
        )));
    }
    let text = std::str::from_utf8(json)
        .map_err(|_| Problem::Invalid("the entry is not UTF-8".to_owned()))?;
    LogEntry::from_json(text).map_err(|e| Problem::Invalid(format!("not a log entry: {e}")))
}

/// The open segment and what was written to it
#[derive(Debug)]
struct Inner {
    file: Arc<File>,
    path: PathBuf,
    /// The position the segment follows
    after: u64,
    /// Its length: where a failed write is cut back to
    len: u64,
    /// Lines written since the directory was opened
    appended: u64,
    unsynced: u64,
    stopped: Option<String>,
    buf: Vec<u8>,
}

/// The writing end of the journal
#[derive(Debug)]
pub(super) struct Writer {
    dir: PathBuf,
    durability: Durability,
    /// Lines known synced (taken before `inner`)
    synced: Mutex<u64>,
    inner: Mutex<Inner>,
}

impl Writer {
    /// Appends to the segment at `path`, after position `after`
    pub(super) fn new(
        dir: PathBuf,
        durability: Durability,
        path: PathBuf,
        after: u64,
        file: File,
    ) -> Result<Self, StoreError> {
        let len = file.metadata().map_err(|e| io_error(&path, e))?.len();
        Ok(Self {
            dir,
            durability: match durability {
                Durability::EveryN(0 | 1) => Durability::EveryRecord,
                d => d,
            },
            synced: Mutex::new(0),
            inner: Mutex::new(Inner {
                file: Arc::new(file),
                path,
                after,
                len,
                appended: 0,
                unsynced: 0,
                stopped: None,
                buf: Vec::with_capacity(64 * 1024),
            }),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn synced(&self) -> MutexGuard<'_, u64> {
        self.synced.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The durability it writes with
    pub(super) fn durability(&self) -> Durability {
        self.durability
    }

    /// The segment being written
    pub(super) fn current(&self) -> (PathBuf, u64) {
        let inner = self.inner();
        (inner.path.clone(), inner.after)
    }

    /// A stopped journal's failure
    pub(super) fn ready(&self) -> Result<(), JournalFailure> {
        let inner = self.inner();
        match &inner.stopped {
            Some(message) => Err(failure(&inner.path, message.clone(), true)),
            None => Ok(()),
        }
    }

    /// Writes the lines with one `write`; see [`crate::engine::journal::Journal::append`]
    pub(super) fn append(&self, lines: &[Line]) -> Result<Option<u64>, JournalFailure> {
        let mut guard = self.inner();
        let inner = &mut *guard;
        if let Some(message) = &inner.stopped {
            return Err(failure(&inner.path, message.clone(), true));
        }
        inner.buf.clear();
        for line in lines {
            if line.body.is_empty() {
                let message = format!("entry at position {} could not be encoded", line.position);
                inner.stopped = Some(message.clone());
                return Err(failure(&inner.path, message, false));
            }
            encode(&mut inner.buf, line);
        }
        if let Err(e) = (&*inner.file).write_all(&inner.buf) {
            // Cut a partly written line now; opening again would cut it too
            let _ = inner.file.set_len(inner.len);
            let message = e.to_string();
            inner.stopped = Some(message.clone());
            return Err(failure(&inner.path, message, false));
        }
        inner.len += inner.buf.len() as u64;
        let n = lines.len() as u64;
        inner.appended += n;
        inner.unsynced += n;
        let now = match self.durability {
            Durability::EveryRecord => true,
            Durability::EveryN(every) => inner.unsynced >= every,
            Durability::OnFlush => false,
        };
        if now {
            inner.unsynced = 0;
            Ok(Some(inner.appended))
        } else {
            Ok(None)
        }
    }

    /// Syncs until line `upto` is durable (one sync serves every writer
    /// waiting: the first to get here syncs all that was written)
    pub(super) fn commit(&self, upto: u64) -> Result<(), JournalFailure> {
        let mut synced = self.synced();
        if *synced >= upto {
            return Ok(());
        }
        let (file, path, written) = {
            let inner = self.inner();
            if let Some(message) = &inner.stopped {
                return Err(failure(&inner.path, message.clone(), true));
            }
            (Arc::clone(&inner.file), inner.path.clone(), inner.appended)
        };
        match file.sync_data() {
            Ok(()) => {
                *synced = written;
                Ok(())
            }
            Err(e) => {
                // After a failed sync the page cache may have dropped the
                // lines: nothing after them may be acknowledged (fail closed)
                let message = e.to_string();
                self.inner().stopped = Some(message.clone());
                Err(failure(&path, message, false))
            }
        }
    }

    /// Syncs every line written so far
    pub(super) fn sync(&self) -> Result<(), JournalFailure> {
        self.ready()?;
        let upto = self.inner().appended;
        if upto == 0 {
            return Ok(());
        }
        self.commit(upto)
    }

    /// Starts a new segment after position `after` (the snapshot being
    /// written), syncing the old one first; nothing when the current
    /// segment already starts there. Called under the registry's read lock,
    /// so no entry is written meanwhile.
    pub(super) fn rotate(&self, after: u64) -> Result<(), StoreError> {
        let mut synced = self.synced();
        let mut inner = self.inner();
        if inner.after == after {
            return Ok(());
        }
        if let Some(message) = &inner.stopped {
            return Err(StoreError::Journal(failure(
                &inner.path,
                message.clone(),
                true,
            )));
        }
        if let Err(e) = inner.file.sync_data() {
            let message = e.to_string();
            inner.stopped = Some(message.clone());
            return Err(StoreError::Journal(failure(&inner.path, message, false)));
        }
        *synced = inner.appended;
        let (path, file) = create_segment(&self.dir, after)?;
        inner.file = Arc::new(file);
        inner.path = path;
        inner.after = after;
        inner.len = HEADER.len() as u64;
        inner.unsynced = 0;
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if inner.stopped.is_none() {
            // Nobody is left to tell; opening again finds what a crash leaves
            let _ = inner.file.sync_data();
        }
    }
}

fn failure(path: &Path, message: String, stopped: bool) -> JournalFailure {
    JournalFailure {
        path: path.display().to_string(),
        message,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_its_checksum_a_space_and_the_entry() {
        let line = Line {
            position: 7,
            kind: Kind::Entity,
            body: Arc::from(&b"{\"patient\":{\"id\":\"c1\"}}"[..]),
        };
        let mut out = Vec::new();
        encode(&mut out, &line);
        let text = String::from_utf8(out.clone()).unwrap();
        let json = r#"{"position":7,"entity":{"patient":{"id":"c1"}}}"#;
        assert_eq!(
            text,
            format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()))
        );
        let entry = parse_line(&out).ok().unwrap();
        assert_eq!(entry.position(), 7);
        out[20] ^= 1;
        assert!(matches!(parse_line(&out), Err(Problem::Bad(m)) if m.contains("checksum")));
    }

    #[test]
    fn a_failed_write_stops_the_writer_and_ready_says_so() {
        // A segment opened read-only: the first write fails, as a full or
        // failing disk would make it
        let dir =
            std::env::temp_dir().join(format!("zorg-pdp-journal-stop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(segment_name(0));
        std::fs::write(&path, HEADER).unwrap();
        let file = File::open(&path).unwrap();
        let writer = Writer::new(dir.clone(), Durability::EveryRecord, path, 0, file).unwrap();
        assert!(writer.ready().is_ok(), "a new writer takes writes");
        let line = Line {
            position: 1,
            kind: Kind::Entity,
            body: Arc::from(&b"{\"patient\":{\"id\":\"c1\"}}"[..]),
        };
        let failed = writer.append(&[line]).unwrap_err();
        assert!(!failed.stopped, "the first failure is the write itself");
        let stopped = writer.ready().unwrap_err();
        assert!(stopped.stopped, "then the writer refuses every later entry");
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn segment_names_sort_by_position() {
        assert_eq!(segment_name(12), "journal-00000000000000000012.jsonl");
        assert_eq!(parse_segment_name(&segment_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_segment_name("journal-12.jsonl"), None);
        assert!(segment_name(9) < segment_name(10));
    }
}
