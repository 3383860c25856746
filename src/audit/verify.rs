//! Verifying a hash chain (R34): the first changed, removed, inserted or
//! reordered record, by `seq`.

use std::convert::Infallible;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use super::{AuditError, AuditRecord, GENESIS_HASH, record_hash};

/// How a chain is broken
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// A record's content no longer matches its `hash`, a line is not a
    /// record, or a record was altered and hashed again (so the next record's
    /// `prev_hash` no longer matches): the altered record is named
    Changed,
    /// Records are missing: the first missing `seq` is named
    Removed,
    /// An extra record: its `seq` is named
    Inserted,
    /// Records are all there but out of order: the first `seq` not in its
    /// place is named
    Reordered,
    /// The last line of a file is incomplete (a crash mid-write, not yet
    /// repaired by opening the log): the `seq` it would have had is named
    Torn,
}

impl Break {
    /// `changed`, `removed`, `inserted`, `reordered` or `torn`
    pub fn as_str(self) -> &'static str {
        match self {
            Break::Changed => "changed",
            Break::Removed => "removed",
            Break::Inserted => "inserted",
            Break::Reordered => "reordered",
            Break::Torn => "torn",
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first place a chain is broken
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The first bad `seq`
    pub seq: u64,
    /// What happened there
    pub kind: Break,
    /// The line (from 1; the index plus one for a slice) where the break shows
    pub line: u64,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Break::Changed => "a record was changed",
            Break::Removed => "a record was removed",
            Break::Inserted => "a record was inserted",
            Break::Reordered => "records were reordered",
            Break::Torn => {
                "the last line is torn, a crash mid-write that opening the log cuts away"
            }
        };
        write!(f, "seq {}: {what} (line {})", self.seq, self.line)
    }
}

/// The outcome of verifying a chain
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// How many lines (records) were read
    pub records: u64,
    /// The first break, or `None` when the chain is intact
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// Whether the chain is intact
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.first_break {
            None => write!(f, "{} records, chain intact", self.records),
            Some(b) => write!(f, "chain broken at {b}"),
        }
    }
}

/// One line, reduced to what the chain needs
#[derive(Debug)]
enum Link {
    /// A record; `content_ok` when its content matches its `hash`
    Record {
        seq: u64,
        prev: String,
        hash: String,
        content_ok: bool,
    },
    /// Not a record
    Bad,
    /// An incomplete last line that is not a record
    Torn,
}

impl Link {
    fn of(record: &AuditRecord) -> Self {
        let content_ok = record_hash(record).is_ok_and(|h| h == record.hash);
        Link::Record {
            seq: record.seq,
            prev: record.prev_hash.clone(),
            hash: record.hash.clone(),
            content_ok,
        }
    }

    fn seq(&self) -> Option<u64> {
        match self {
            Link::Record { seq, .. } => Some(*seq),
            Link::Bad | Link::Torn => None,
        }
    }
}

/// Verifies records in order: `seq` from 1 without gaps, each `hash` over its
/// record, each `prev_hash` the `hash` before (the first: [`GENESIS_HASH`])
///
/// A chain cut short at its end looks intact; compare the last `seq` and
/// `hash` with a copy kept elsewhere (see [`super::FileSink::last_hash`]).
pub fn verify_records(records: &[AuditRecord]) -> VerifyReport {
    let links = (1..)
        .zip(records)
        .map(|(line, r)| Ok::<_, Infallible>((line, Link::of(r))));
    match check(links) {
        Ok(report) => report,
        Err(infallible) => match infallible {},
    }
}

/// Verifies the log at `path` (JSON Lines, as [`super::FileSink`] writes),
/// reading it once; a line that is not a record counts as changed, an
/// incomplete last line as [`Break::Torn`]
///
/// # Errors
///
/// [`AuditError::Io`] when the file cannot be read.
///
/// ```
/// use zorg_pdp::audit::verify;
/// # let dir = std::env::temp_dir().join(format!("zorg-pdp-verify-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("audit.jsonl");
/// std::fs::write(&path, "not a record\n")?;
/// let report = verify(&path)?;
/// assert!(!report.is_intact());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let path = path.as_ref();
    let io = |source: std::io::Error| AuditError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    let links = std::iter::from_fn(move || {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) => {
                line_no += 1;
                let (text, complete) = match buf.strip_suffix(b"\n") {
                    Some(t) => (t, true),
                    None => (buf.as_slice(), false),
                };
                let link = match serde_json::from_slice::<AuditRecord>(text) {
                    Ok(r) => Link::of(&r),
                    Err(_) if complete => Link::Bad,
                    Err(_) => Link::Torn,
                };
                Some(Ok((line_no, link)))
            }
            Err(e) => Some(Err(io(e))),
        }
    });
    check(links)
}

/// Walks the chain; at the first break, reads the rest to tell what happened
fn check<E>(mut links: impl Iterator<Item = Result<(u64, Link), E>>) -> Result<VerifyReport, E> {
    let mut expected = 1u64;
    let mut prev = GENESIS_HASH.to_owned();
    let mut count = 0u64;
    while let Some(item) = links.next() {
        let (line_no, link) = item?;
        count += 1;
        if let Link::Record {
            seq,
            prev: p,
            hash,
            content_ok: true,
        } = &link
            && *seq == expected
            && *p == prev
        {
            expected += 1;
            prev.clone_from(hash);
            continue;
        }
        let rest = links
            .map(|item| item.map(|(_, l)| l))
            .collect::<Result<Vec<_>, E>>()?;
        let (seq, kind) = classify(&link, &rest, expected, &prev);
        return Ok(VerifyReport {
            records: count + rest.len() as u64,
            first_break: Some(ChainBreak {
                seq,
                kind,
                line: line_no,
            }),
        });
    }
    Ok(VerifyReport {
        records: count,
        first_break: None,
    })
}

/// What broke at `link`, where `expected` and `prev` were due; `rest` is
/// every later line
fn classify(link: &Link, rest: &[Link], expected: u64, prev: &str) -> (u64, Break) {
    let (seq, its_prev) = match link {
        Link::Torn => return (expected, Break::Torn),
        Link::Bad
        | Link::Record {
            content_ok: false, ..
        } => return (expected, Break::Changed),
        Link::Record { seq, prev, .. } => (*seq, prev.as_str()),
    };
    // Would the chain go on if this line were not there?
    let next_continues = matches!(
        rest.first(),
        Some(Link::Record { seq: s, prev: p, content_ok: true, .. }) if *s == expected && p == prev
    );
    if seq < expected {
        return (seq, Break::Inserted);
    }
    if seq == expected {
        // The right place, the wrong link: an extra record if the next one
        // carries on the chain, else the record before was altered and hashed again
        return if next_continues {
            (seq, Break::Inserted)
        } else {
            (expected.saturating_sub(1).max(1), Break::Changed)
        };
    }
    // A jump forward
    if rest.iter().any(|l| l.seq() == Some(seq)) {
        return (seq, Break::Inserted);
    }
    let missing_later = rest
        .iter()
        .any(|l| l.seq().is_some_and(|s| (expected..seq).contains(&s)));
    if !missing_later {
        return (expected, Break::Removed);
    }
    let links_to_later = rest
        .iter()
        .any(|l| matches!(l, Link::Record { hash, .. } if hash == its_prev));
    if next_continues && !links_to_later {
        (seq, Break::Inserted)
    } else {
        (expected, Break::Reordered)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::verify;
    use crate::audit::{AuditError, Durability, FileSink};

    /// The operating system's error kind, found through `source()`
    fn io_kind(e: &AuditError) -> Option<std::io::ErrorKind> {
        e.source()?
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
    }

    #[test]
    fn io_errors_keep_the_operating_systems_error_as_source() {
        let missing = std::env::temp_dir().join(format!(
            "zorg-pdp-no-such-dir-{}/audit.jsonl",
            std::process::id()
        ));
        let e = verify(&missing).unwrap_err();
        assert!(matches!(e, AuditError::Io { .. }), "{e:?}");
        assert_eq!(io_kind(&e), Some(std::io::ErrorKind::NotFound), "{e:?}");
        assert!(e.to_string().contains("no-such-dir"), "{e}");
        let e = FileSink::open(&missing, Durability::EveryRecord).unwrap_err();
        assert_eq!(io_kind(&e), Some(std::io::ErrorKind::NotFound), "{e:?}");
    }
}
