//! The feed: tails the outbox in position order and applies every row to an
//! engine, never skipping a row that commits later with a lower position.
//!
//! One round (docs/replicas.md has the argument):
//!
//! 1. `last` = the engine's last applied position; read the rows above it
//!    (at most `batch`), in position order, with one snapshot S.
//! 2. The **dense prefix** — rows `last+1, last+2, …` without a hole — is
//!    complete as it is: apply it.
//! 3. If rows remain (a hole below the highest row M read), some position in
//!    between may belong to a transaction still in flight. Take a fresh
//!    transaction id X (`pg_current_xact_id()` in its own, committed
//!    transaction, after S), then poll until
//!    `pg_snapshot_xmin(pg_current_snapshot()) >= X`: every transaction that
//!    had an id when S was taken has ended. The outbox trigger takes the
//!    writer's id *before* its position, so every writer of a position below
//!    M has ended by then; re-read the rows up to M and apply them. A position
//!    still missing is a rolled-back transaction: a permanent gap.
//! 4. Wait for a `NOTIFY zorg_pdp_outbox`, the poll interval, or shutdown.
//!
//! A lost connection is retried with bounded backoff, resuming from the
//! engine's position; an entry the engine refuses stops the feed (fail
//! closed: every replica refuses the same row).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use tokio_util::sync::CancellationToken;
use zorg_pdp::{Engine, EntityError, EntryError, EventProblem, LogEntry};

/// How a feed connects and how often it looks
///
/// ```
/// use std::time::Duration;
/// let mut config = zorg_pdp_postgres::FeedConfig::new("postgresql://app@127.0.0.1:5432/ehr")?;
/// config.poll_interval = Duration::from_millis(200);
/// assert_eq!(config.batch, 1000);
/// # Ok::<(), zorg_pdp_postgres::FeedError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FeedConfig {
    /// Where the outbox is (its database; the table in the search path)
    pub postgres: tokio_postgres::Config,
    /// The fallback poll when no notification arrives (default 1 s): a lost
    /// `NOTIFY` delays a row by at most this much
    pub poll_interval: Duration,
    /// The longest sleep between two looks while waiting for the writers of
    /// a hole to end (default 20 ms; it starts at 1 ms and doubles)
    pub settle_poll: Duration,
    /// The first wait after a lost connection (default 100 ms); it doubles
    /// on every failed attempt
    pub backoff_min: Duration,
    /// The longest wait between two connection attempts (default 5 s)
    pub backoff_max: Duration,
    /// The most rows one read takes (default 1000)
    pub batch: u32,
}

impl FeedConfig {
    /// The defaults above, for the database at `url`
    /// (`postgresql://user@host:port/db` or `host=… user=… dbname=…`); a
    /// connect timeout of 10 s unless the URL sets one
    ///
    /// # Errors
    ///
    /// [`FeedError::Config`] when the URL does not parse.
    pub fn new(url: &str) -> Result<Self, FeedError> {
        let mut postgres: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| FeedError::Config(e.to_string()))?;
        if postgres.get_connect_timeout().is_none() {
            postgres.connect_timeout(Duration::from_secs(10));
        }
        Ok(Self {
            postgres,
            poll_interval: Duration::from_secs(1),
            settle_poll: Duration::from_millis(20),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            batch: 1000,
        })
    }
}

/// How far a feed is, for a host's `readyz`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts a readyz endpoint reports, not states of one machine"
)]
pub struct FeedStatus {
    /// The engine's last applied position after the feed's last round
    pub applied: u64,
    /// The highest position the feed has seen in the outbox
    pub head: u64,
    /// The last round applied every row committed before it read: nothing
    /// is known to be waiting (false while connecting, while waiting for
    /// writers, or when a read filled a whole batch)
    pub caught_up: bool,
    /// Connected to the server now
    pub connected: bool,
    /// Waiting for transactions that were in flight when rows above a hole
    /// were read (a long writer transaction holds the feed here)
    pub waiting_for_writers: bool,
    /// The last error: a lost connection (retried), or why the feed stopped
    /// ([`FeedError::redacted`]: no values, so no patient id)
    pub last_error: Option<String>,
    /// Connections lost and retried so far
    pub reconnects: u64,
    /// Rows handed to the engine so far
    pub entries_applied: u64,
    /// The feed has ended (after a shutdown, or on a [`FeedError`])
    pub stopped: bool,
}

impl FeedStatus {
    /// Ready to answer as a caught-up replica: connected, caught up, not
    /// stopped (a host routes or waits on `stale_facts` either way; this is
    /// for its load balancer)
    pub fn is_ready(&self) -> bool {
        self.connected && self.caught_up && !self.stopped
    }
}

/// Why a feed stopped (a lost connection is not one: it is retried)
///
/// Its `Display` is the whole story, naming the position, the field and the
/// value (for the host's log); its `Debug` and the [`FeedStatus`]'s
/// `last_error` name the position and the field but never a value, so no
/// patient id reaches a health endpoint.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The connection settings do not parse
    #[error("feed: connection settings: {0}")]
    Config(String),
    /// The engine refused the row at this position (an unknown entity, a
    /// record added twice, …). Every replica refuses the same row, so the
    /// feed stops there rather than skip it (fail closed); the rows before it
    /// stay applied, and a new feed retries it.
    #[error("feed: the engine refused the outbox row at position {position}: {source}")]
    Refused {
        /// The row's position
        position: u64,
        /// Why
        source: EntryError,
    },
    /// The row at this position is no engine entry (it was not written with
    /// `append`); the feed stops there (fail closed)
    #[error("feed: the outbox row at position {position} is no log entry: {reason}")]
    Malformed {
        /// The row's position
        position: u64,
        /// What is wrong, naming the field
        reason: String,
    },
    /// The position sequence hands out values that are not monotonic in
    /// time (a cache above 1, or cycling), so rows could be skipped
    #[error(
        "feed: sequence zorg_pdp_outbox_position_seq has cache_size = {cache_size} and cycle = {cycle}; \
         the ordering needs CACHE 1 NO CYCLE (run migrate)"
    )]
    Sequence {
        /// The sequence's `cache_size`
        cache_size: i64,
        /// Whether it cycles
        cycle: bool,
    },
    /// The feed's task ended abnormally
    #[error("feed: task: {0}")]
    Task(String),
}

impl FeedError {
    /// The error without values: the position, the event type or entity
    /// kind, and the field (what `Debug` and [`FeedStatus::last_error`] show)
    pub fn redacted(&self) -> String {
        match self {
            FeedError::Refused { position, source } => format!(
                "feed: the engine refused the outbox row at position {position}: {}",
                redact_entry(source)
            ),
            FeedError::Malformed { position, .. } => {
                format!("feed: the outbox row at position {position} is no log entry")
            }
            other => other.to_string(),
        }
    }
}

impl std::fmt::Debug for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// An engine's refusal without the values it names
fn redact_entry(e: &EntryError) -> String {
    match e {
        EntryError::Event { source, .. } => {
            let problem = match source.problem() {
                EventProblem::Missing => "missing",
                EventProblem::NotUsed => "not used by this event type",
                EventProblem::Unknown(_) => "unknown value",
                _ => "invalid value",
            };
            format!(
                "event `{}`: field `{}`: {problem}",
                source.event_type(),
                source.field()
            )
        }
        EntryError::Entity { source, .. } => match source {
            EntityError::UnknownOrganisation { .. } => {
                "practitioner: field `organisation`: unknown value".to_owned()
            }
            EntityError::UnknownValue { field, .. } => {
                format!("practitioner: field `{field}`: unknown value")
            }
            EntityError::Taken { kind, field, .. } => {
                format!("{kind}: field `{field}`: already registered to another {kind}")
            }
            EntityError::Capacity(what) => format!("too many {what} registered"),
            _ => "entity refused".to_owned(),
        },
        _ => "entry refused".to_owned(),
    }
}

/// A running feed: its task, its status and its shutdown signal
#[derive(Debug)]
pub struct Feed {
    status: watch::Receiver<FeedStatus>,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), FeedError>>,
}

impl Feed {
    /// Starts a feed on the current tokio runtime that applies the outbox
    /// to `engine`, resuming after `engine.seq()`
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn(engine: Arc<Engine>, config: FeedConfig) -> Feed {
        let (tx, status) = watch::channel(FeedStatus {
            applied: engine.seq(),
            ..FeedStatus::default()
        });
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(engine, config, shutdown.clone(), tx));
        Feed {
            status,
            shutdown,
            task,
        }
    }

    /// Its status now
    pub fn status(&self) -> FeedStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change
    pub fn subscribe(&self) -> watch::Receiver<FeedStatus> {
        self.status.clone()
    }

    /// Waits until the feed's status satisfies `ready`, at most `timeout`;
    /// the status then, or `None` on timeout or when the feed ended without
    /// satisfying it
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut ready: impl FnMut(&FeedStatus) -> bool,
    ) -> Option<FeedStatus> {
        let mut rx = self.status.clone();
        let found = tokio::time::timeout(timeout, async {
            loop {
                {
                    let status = rx.borrow_and_update();
                    if ready(&status) {
                        return Some(status.clone());
                    }
                    if status.stopped {
                        return None;
                    }
                }
                if rx.changed().await.is_err() {
                    let status = rx.borrow();
                    return ready(&status).then(|| status.clone());
                }
            }
        })
        .await;
        found.ok().flatten()
    }

    /// Asks the feed to stop and waits until it has; what it ended with
    ///
    /// # Errors
    ///
    /// The [`FeedError`] it had stopped on before, if any.
    pub async fn stop(self) -> Result<(), FeedError> {
        self.shutdown.cancel();
        self.join().await
    }

    /// Waits until the feed ends by itself (on a [`FeedError`]) or by its
    /// shutdown token
    ///
    /// # Errors
    ///
    /// The [`FeedError`] it stopped on.
    pub async fn join(self) -> Result<(), FeedError> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(FeedError::Task(e.to_string())),
        }
    }

    /// Its shutdown signal (cancel it to stop the feed)
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// How a connected session ended
enum Stop {
    /// The shutdown signal
    Shutdown,
    /// The connection or a statement failed: retry
    Lost(String),
    /// Stop the feed
    Fatal(FeedError),
}

impl From<tokio_postgres::Error> for Stop {
    fn from(e: tokio_postgres::Error) -> Self {
        Stop::Lost(format!("PostgreSQL: {e}"))
    }
}

/// Runs a feed until `shutdown` is cancelled or it stops on a
/// [`FeedError`], reporting on `status` (for hosts that run their own task;
/// [`Feed::spawn`] wraps it)
///
/// Resumes after `engine.seq()` on every (re)connect, so it works on an
/// engine however it was made: new, loaded from a world, or restored from a
/// data directory.
///
/// # Errors
///
/// [`FeedError::Refused`], [`FeedError::Malformed`] or
/// [`FeedError::Sequence`]: the feed stops (fail closed). Lost connections
/// are retried, never returned.
pub async fn run(
    engine: Arc<Engine>,
    config: FeedConfig,
    shutdown: CancellationToken,
    status: watch::Sender<FeedStatus>,
) -> Result<(), FeedError> {
    let mut backoff = config.backoff_min;
    let result = loop {
        if shutdown.is_cancelled() {
            break Ok(());
        }
        let mut progressed = false;
        match session(&engine, &config, &shutdown, &status, &mut progressed).await {
            Stop::Shutdown => break Ok(()),
            Stop::Fatal(e) => break Err(e),
            Stop::Lost(message) => {
                status.send_modify(|s| {
                    s.connected = false;
                    s.caught_up = false;
                    s.waiting_for_writers = false;
                    s.last_error = Some(message);
                    s.reconnects += 1;
                });
                if progressed {
                    backoff = config.backoff_min;
                }
                tokio::select! {
                    () = shutdown.cancelled() => break Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = backoff.saturating_mul(2).min(config.backoff_max);
            }
        }
    };
    status.send_modify(|s| {
        s.connected = false;
        s.caught_up = false;
        s.waiting_for_writers = false;
        s.stopped = true;
        if let Err(e) = &result {
            s.last_error = Some(e.redacted());
        }
    });
    result
}

/// One connection: connect, check the sequence, LISTEN, then rounds until
/// something ends it
async fn session(
    engine: &Engine,
    config: &FeedConfig,
    shutdown: &CancellationToken,
    status: &watch::Sender<FeedStatus>,
    progressed: &mut bool,
) -> Stop {
    let connect = tokio::select! {
        () = shutdown.cancelled() => return Stop::Shutdown,
        c = config.postgres.connect(NoTls) => c,
    };
    let (client, mut connection) = match connect {
        Ok(c) => c,
        Err(e) => return Stop::from(e),
    };
    // Drives the connection and turns notifications into wake-ups; when the
    // connection ends it wakes the feed, whose next statement then fails
    let wake = Arc::new(Notify::new());
    let driver = tokio::spawn({
        let wake = Arc::clone(&wake);
        async move {
            while let Some(Ok(message)) =
                std::future::poll_fn(|cx| connection.poll_message(cx)).await
            {
                if matches!(message, AsyncMessage::Notification(_)) {
                    wake.notify_one();
                }
            }
            wake.notify_one();
        }
    });
    let stop = connected(engine, config, shutdown, status, progressed, &client, &wake).await;
    driver.abort();
    stop
}

async fn connected(
    engine: &Engine,
    config: &FeedConfig,
    shutdown: &CancellationToken,
    status: &watch::Sender<FeedStatus>,
    progressed: &mut bool,
    client: &Client,
    wake: &Notify,
) -> Stop {
    if let Err(stop) = check_sequence(client).await {
        return stop;
    }
    if let Err(e) = client.batch_execute("LISTEN zorg_pdp_outbox").await {
        return Stop::from(e);
    }
    status.send_modify(|s| {
        s.connected = true;
        s.applied = engine.seq();
    });
    loop {
        let full = match round(engine, config, shutdown, status, client).await {
            Ok(Some(full)) => full,
            Ok(None) => return Stop::Shutdown,
            Err(stop) => return stop,
        };
        *progressed = true;
        if full {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return Stop::Shutdown,
            () = wake.notified() => {}
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

/// Refuses a sequence whose values are not monotonic in time
async fn check_sequence(client: &Client) -> Result<(), Stop> {
    let row = client
        .query_opt(
            "SELECT cache_size, cycle FROM pg_sequences \
             WHERE sequencename = 'zorg_pdp_outbox_position_seq' \
             AND schemaname = ANY (current_schemas(false)) LIMIT 1",
            &[],
        )
        .await?;
    let Some(row) = row else {
        return Err(Stop::Lost(
            "the outbox is missing (no sequence zorg_pdp_outbox_position_seq): run migrate".into(),
        ));
    };
    let cache_size: i64 = row.try_get(0)?;
    let cycle: bool = row.try_get(1)?;
    if cache_size != 1 || cycle {
        return Err(Stop::Fatal(FeedError::Sequence { cache_size, cycle }));
    }
    Ok(())
}

/// One round; whether the read filled a whole batch (`None` on shutdown)
async fn round(
    engine: &Engine,
    config: &FeedConfig,
    shutdown: &CancellationToken,
    status: &watch::Sender<FeedStatus>,
    client: &Client,
) -> Result<Option<bool>, Stop> {
    let last = engine.seq();
    let rows = read(client, last, None, config.batch).await?;
    let full = u32::try_from(rows.len()).is_ok_and(|n| n >= config.batch);
    let Some(&(high, _)) = rows.last() else {
        status.send_modify(|s| {
            s.applied = last;
            s.head = s.head.max(last);
            s.caught_up = true;
            s.last_error = None;
        });
        return Ok(Some(false));
    };
    status.send_modify(|s| s.head = s.head.max(high));
    // The dense prefix: last+1, last+2, … are every position there is up to
    // the first hole
    let dense = rows
        .iter()
        .zip(1_u64..)
        .take_while(|((position, _), i)| last.checked_add(*i) == Some(*position))
        .count();
    let (prefix, rest) = rows.split_at(dense);
    apply(engine, status, prefix)?;
    if !rest.is_empty() {
        status.send_modify(|s| {
            s.caught_up = false;
            s.waiting_for_writers = true;
        });
        if !settle(client, config, shutdown).await? {
            return Ok(None);
        }
        let rows = read(client, engine.seq(), Some(high), u32::MAX).await?;
        apply(engine, status, &rows)?;
        status.send_modify(|s| s.waiting_for_writers = false);
    }
    status.send_modify(|s| {
        s.applied = engine.seq();
        s.caught_up = !full;
        s.last_error = None;
    });
    Ok(Some(full))
}

/// Rows above `after` (and at most `upto`), in position order, at most
/// `limit`, as (position, entry JSON without the position)
async fn read(
    client: &Client,
    after: u64,
    upto: Option<u64>,
    limit: u32,
) -> Result<Vec<(u64, String)>, Stop> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let upto = upto.map_or(i64::MAX, |u| i64::try_from(u).unwrap_or(i64::MAX));
    let rows = client
        .query(
            "SELECT position, entry::text FROM zorg_pdp_outbox \
             WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3",
            &[&after, &upto, &i64::from(limit)],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let position: i64 = row.try_get(0)?;
            Ok((position.unsigned_abs(), row.try_get(1)?))
        })
        .collect()
}

/// Waits until every transaction that had an id when the last read's
/// snapshot was taken has ended; false on shutdown
async fn settle(
    client: &Client,
    config: &FeedConfig,
    shutdown: &CancellationToken,
) -> Result<bool, Stop> {
    // A new id, in its own (autocommit) transaction, after the read: every
    // id assigned before the read is below it
    let horizon: i64 = client
        .query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .await?
        .try_get(0)?;
    let mut sleep = Duration::from_millis(1);
    loop {
        let xmin: i64 = client
            .query_one(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                &[],
            )
            .await?
            .try_get(0)?;
        if xmin >= horizon {
            return Ok(true);
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(false),
            () = tokio::time::sleep(sleep) => {}
        }
        sleep = sleep.saturating_mul(2).min(config.settle_poll);
    }
}

/// Parses and applies rows in order
fn apply(
    engine: &Engine,
    status: &watch::Sender<FeedStatus>,
    rows: &[(u64, String)],
) -> Result<(), Stop> {
    if rows.is_empty() {
        return Ok(());
    }
    let entries = rows
        .iter()
        .map(|(position, json)| parse(*position, json))
        .collect::<Result<Vec<_>, _>>();
    // A malformed row: apply the ones before it, then stop
    let (entries, malformed) = match entries {
        Ok(entries) => (entries, None),
        Err(e) => {
            let good = rows
                .iter()
                .map_while(|(position, json)| parse(*position, json).ok())
                .collect();
            (good, Some(e))
        }
    };
    let result = engine.apply_entries(&entries);
    let handed = match &result {
        Ok(_) => entries.len(),
        Err((i, _)) => *i,
    };
    status.send_modify(|s| {
        s.applied = engine.seq();
        s.entries_applied += handed as u64;
    });
    if let Err((_, source)) = result {
        return Err(Stop::Fatal(FeedError::Refused {
            position: source.position(),
            source,
        }));
    }
    match malformed {
        Some(e) => Err(Stop::Fatal(e)),
        None => Ok(()),
    }
}

/// One row as a log entry
fn parse(position: u64, json: &str) -> Result<LogEntry, FeedError> {
    let malformed = |reason: String| FeedError::Malformed { position, reason };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| malformed(e.to_string()))?;
    let serde_json::Value::Object(mut object) = value else {
        return Err(malformed("not a JSON object".into()));
    };
    object.insert("position".into(), serde_json::Value::from(position));
    LogEntry::from_json(&serde_json::Value::Object(object).to_string())
        .map_err(|e| malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_parses_with_its_position() {
        let e = parse(7, r#"{"entity":{"patient":{"id":"c1"}}}"#).unwrap();
        assert_eq!(e.position(), 7);
        let m = parse(8, r#"{"entity":{"patient":{"id":"c1"}},"extra":1}"#)
            .unwrap_err()
            .to_string();
        assert!(m.contains("position 8") && m.contains("extra"), "{m}");
        let m = parse(9, "[1]").unwrap_err().to_string();
        assert!(m.contains("position 9") && m.contains("object"), "{m}");
    }

    #[test]
    fn config_defaults_and_a_bad_url() {
        let c = FeedConfig::new("postgresql://u@127.0.0.1:1/db").unwrap();
        assert_eq!(c.poll_interval, Duration::from_secs(1));
        assert_eq!(
            c.postgres.get_connect_timeout(),
            Some(&Duration::from_secs(10))
        );
        let c = FeedConfig::new("postgresql://u@127.0.0.1:1/db?connect_timeout=2").unwrap();
        assert_eq!(
            c.postgres.get_connect_timeout(),
            Some(&Duration::from_secs(2))
        );
        assert!(matches!(
            FeedConfig::new("postgresql://u@h:notaport/db"),
            Err(FeedError::Config(_))
        ));
    }

    #[test]
    fn ready_needs_connected_caught_up_and_running() {
        let mut s = FeedStatus {
            connected: true,
            caught_up: true,
            ..FeedStatus::default()
        };
        assert!(s.is_ready());
        s.stopped = true;
        assert!(!s.is_ready());
        s.stopped = false;
        s.connected = false;
        assert!(!s.is_ready());
    }
}
