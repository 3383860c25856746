//! What runs beside the HTTP layer: the feed behind `--postgres` and the
//! audit log's periodic sync; and the orderly stop after the last request
//! (feed, journal, audit log).

use std::sync::Arc;

use tokio::task::JoinHandle;
use zorg_pdp::audit::AuditError;
use zorg_pdp::store::StoreError;
use zorg_pdp_postgres::{Feed, FeedError};

use crate::zorg::ZorgDecider;

/// A failure stopping the service's companions
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The feed had stopped on an outbox row the engine refused
    #[error(transparent)]
    Feed(FeedError),
    /// The journal could not be synced
    #[error("syncing the journal: {0}")]
    Journal(StoreError),
    /// The audit log could not be flushed
    #[error("flushing the audit log: {0}")]
    Audit(AuditError),
}

/// What [`Companions::stop`] did
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    /// The engine's last applied position
    pub seq: u64,
    /// The `seq` of the audit log's last record, when there is a log
    pub audit_last_seq: Option<u64>,
    /// Whether a feed was stopped
    pub feed: bool,
}

/// The feed and the audit syncer of a running service
#[derive(Debug)]
pub struct Companions {
    feed: Option<Feed>,
    syncer: Option<JoinHandle<()>>,
}

impl Companions {
    /// Starts them on the current tokio runtime: a feed from `postgres` (see
    /// [`crate::replica::spawn`]) and, for an audit log synced every N
    /// records, a task that syncs it every second when it took records
    ///
    /// # Errors
    ///
    /// [`FeedError::Config`] when the URL does not parse.
    pub fn start(decider: &Arc<ZorgDecider>, postgres: Option<&str>) -> Result<Self, FeedError> {
        let feed = postgres
            .map(|url| crate::replica::spawn(decider, url))
            .transpose()?;
        let syncer = decider
            .audit()
            .and_then(crate::audit_log::AuditLog::sync_every)
            .map(|every| tokio::spawn(sync_audit(Arc::clone(decider), every)));
        Ok(Self { feed, syncer })
    }

    /// The feed, when one runs
    pub fn feed(&self) -> Option<&Feed> {
        self.feed.as_ref()
    }

    /// Stops them once the requests in flight are answered: the feed first
    /// (no entry is applied after it), then the journal is synced, then the
    /// audit log flushed and synced (every decision answered has its record
    /// on disk)
    ///
    /// # Errors
    ///
    /// The first failure; the later steps still run.
    pub async fn stop(self, decider: &ZorgDecider) -> Result<Stopped, StopError> {
        let mut first: Option<StopError> = None;
        let had_feed = self.feed.is_some();
        if let Some(feed) = self.feed
            && let Err(e) = feed.stop().await
        {
            first.get_or_insert(StopError::Feed(e));
        }
        if let Some(syncer) = self.syncer {
            syncer.abort();
        }
        if let Err(e) = decider.engine().sync() {
            first.get_or_insert(StopError::Journal(e));
        }
        let audit_last_seq = match decider.audit().map(crate::audit_log::AuditLog::flush) {
            Some(Ok(last)) => Some(last),
            Some(Err(e)) => {
                first.get_or_insert(StopError::Audit(e));
                None
            }
            None => None,
        };
        match first {
            Some(e) => Err(e),
            None => Ok(Stopped {
                seq: decider.engine().seq(),
                audit_last_seq,
                feed: had_feed,
            }),
        }
    }
}

/// Syncs the audit log every `every` while it takes records, off the async
/// workers; ends on the first failure (the sink has stopped, and
/// `zorg_pdp_audit_failures_total` counts what it refuses from then on)
async fn sync_audit(decider: Arc<ZorgDecider>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let d = Arc::clone(&decider);
        let done = tokio::task::spawn_blocking(move || {
            d.audit().map(crate::audit_log::AuditLog::sync_if_behind)
        })
        .await;
        match done {
            Ok(Some(Ok(_)) | None) => {}
            Ok(Some(Err(e))) => {
                eprintln!("zorg-pdp-server: audit log: {e}; no longer synced every second");
                return;
            }
            Err(_) => return,
        }
    }
}
