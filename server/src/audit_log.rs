//! `--audit FILE`: the audit log of SPEC.md §6 as the library writes it
//! (`zorg_pdp::audit::FileSink`), set on the engine so every decision and
//! consent question through HTTP leaves its record; synced every second
//! while it runs and flushed on shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zorg_pdp::audit::{AuditError, AuditSink as _, Durability, FileSink, OpenReport};

/// The default `--audit-durability`: sync every 1,000 records (and every
/// second, see [`AuditLog::sync_every`])
pub const DEFAULT_DURABILITY: &str = "every-1000";

/// How often a running service syncs a log that took records since the
/// last sync, unless it syncs every record or only on flush
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// A `--audit-durability` value that does not parse
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--audit-durability: `{0}` is not `every-record`, `every-N` (N a positive integer) or `on-flush`"
)]
pub struct DurabilityError(String);

/// Parses `every-record`, `every-N` or `on-flush`
///
/// ```
/// use zorg_pdp::audit::Durability;
/// use zorg_pdp_server::audit_log::parse_durability;
/// assert_eq!(parse_durability("every-record"), Ok(Durability::EveryRecord));
/// assert_eq!(parse_durability("every-1000"), Ok(Durability::EveryN(1000)));
/// assert_eq!(parse_durability("on-flush"), Ok(Durability::OnFlush));
/// assert!(parse_durability("every-0").is_err());
/// ```
pub fn parse_durability(s: &str) -> Result<Durability, DurabilityError> {
    match s {
        "every-record" => Ok(Durability::EveryRecord),
        "on-flush" => Ok(Durability::OnFlush),
        _ => s
            .strip_prefix("every-")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .map(|n| {
                if n == 1 {
                    Durability::EveryRecord
                } else {
                    Durability::EveryN(n)
                }
            })
            .ok_or_else(|| DurabilityError(s.to_owned())),
    }
}

/// A durability as the flag spells it (`every-record`, `every-N`, `on-flush`)
pub fn describe(durability: Durability) -> String {
    match durability {
        Durability::EveryRecord | Durability::EveryN(0 | 1) => "every-record".to_owned(),
        Durability::EveryN(n) => format!("every-{n}"),
        Durability::OnFlush => "on-flush".to_owned(),
    }
}

/// An open audit log: the sink, and where it stood when opened
#[derive(Debug)]
pub struct AuditLog {
    sink: Arc<FileSink>,
    /// The `seq` of the last record when the log was opened
    opened_at: u64,
    /// The `seq` synced by the last periodic sync
    synced: AtomicU64,
}

impl AuditLog {
    /// Opens (or continues) the log at `path`; a torn last line left by a
    /// crash is cut and reported in the [`OpenReport`]
    ///
    /// # Errors
    ///
    /// [`AuditError`] naming the file when it cannot be opened, is locked by
    /// another writer, or its last record is damaged.
    pub fn open(path: &Path, durability: Durability) -> Result<(Self, OpenReport), AuditError> {
        let (sink, report) = FileSink::open(path, durability)?;
        let log = Self {
            opened_at: report.last_seq,
            synced: AtomicU64::new(report.last_seq),
            sink: Arc::new(sink),
        };
        Ok((log, report))
    }

    /// The sink, to set on the engine
    pub fn sink(&self) -> &Arc<FileSink> {
        &self.sink
    }

    /// The log file
    pub fn path(&self) -> PathBuf {
        self.sink.path().to_path_buf()
    }

    /// The `seq` of the last record in the log
    pub fn last_seq(&self) -> u64 {
        self.sink.last_seq()
    }

    /// Records this process wrote
    pub fn written(&self) -> u64 {
        self.last_seq().saturating_sub(self.opened_at)
    }

    /// How often a running service should call [`AuditLog::sync_if_behind`]:
    /// every [`SYNC_INTERVAL`] for `every-N`, never for `every-record`
    /// (nothing is left to sync) or `on-flush` (syncs on shutdown only, as
    /// asked)
    pub fn sync_every(&self) -> Option<Duration> {
        matches!(self.sink.durability(), Durability::EveryN(_)).then_some(SYNC_INTERVAL)
    }

    /// Flushes and syncs when records were taken since the last call; the
    /// `seq` synced to
    ///
    /// # Errors
    ///
    /// [`AuditError`] when the write or the sync fails (the sink stops).
    pub fn sync_if_behind(&self) -> Result<u64, AuditError> {
        let last = self.last_seq();
        if last > self.synced.load(Ordering::Relaxed) {
            self.sink.flush()?;
            self.synced.store(last, Ordering::Relaxed);
        }
        Ok(last)
    }

    /// Flushes and syncs everything buffered (on shutdown, once the requests
    /// in flight are answered); the `seq` of the last record
    ///
    /// # Errors
    ///
    /// [`AuditError`] when the write or the sync fails.
    pub fn flush(&self) -> Result<u64, AuditError> {
        self.sink.flush()?;
        let last = self.last_seq();
        self.synced.store(last, Ordering::Relaxed);
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durability_values() {
        assert_eq!(parse_durability("every-1"), Ok(Durability::EveryRecord));
        assert_eq!(
            parse_durability(DEFAULT_DURABILITY),
            Ok(Durability::EveryN(1000))
        );
        for bad in [
            "",
            "every-",
            "every--1",
            "every-x",
            "always",
            "every-record ",
        ] {
            let e = parse_durability(bad).unwrap_err().to_string();
            assert!(e.contains("--audit-durability") && e.contains(bad), "{e}");
        }
        for text in ["every-record", "every-250", "on-flush"] {
            assert_eq!(describe(parse_durability(text).unwrap()), text);
        }
    }
}
