//! A database per test, the feed's test settings, a small world written
//! through the outbox, and a reference engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_postgres::{Client, NoTls};
use zorg_pdp::{Category, Engine, LogEntry, OrganisationId, PatientId, PractitionerId, Request};
use zorg_pdp_postgres::{FeedConfig, append_json, migrate};

/// The script that starts a throw-away server
pub(crate) const SCRIPT: &str = "postgres/tests/cluster.sh";

/// The server's URL, from `ZORG_PDP_POSTGRES_URL`; fails (does not skip)
/// without it
pub(crate) fn base_url() -> String {
    match std::env::var("ZORG_PDP_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "ZORG_PDP_POSTGRES_URL is not set: the zorg-pdp-postgres tests need a PostgreSQL \
             server. Start a throw-away one with `bash {SCRIPT} start` (as .ci/run does; \
             `bash {SCRIPT} install` installs Debian's postgresql first) and export the URL it \
             prints as ZORG_PDP_POSTGRES_URL"
        ),
    }
}

/// A test's own database, migrated
pub(crate) struct Db {
    /// Its connection settings
    pub(crate) config: tokio_postgres::Config,
    /// A connection for the test's own statements
    pub(crate) client: Client,
}

impl Db {
    /// A new connection to it
    pub(crate) async fn connect(&self) -> Client {
        connect(&self.config).await
    }

    /// Feed settings for it: quick polls and backoff, so tests stay short
    pub(crate) fn feed_config(&self) -> FeedConfig {
        let mut c = FeedConfig::new(&base_url()).unwrap();
        c.postgres = self.config.clone();
        c.postgres.application_name("zorg-pdp-feed");
        c.poll_interval = Duration::from_millis(200);
        c.settle_poll = Duration::from_millis(5);
        c.backoff_min = Duration::from_millis(20);
        c.backoff_max = Duration::from_millis(200);
        c
    }

    /// Every row of the outbox in position order
    pub(crate) async fn rows(&self) -> Vec<(u64, String)> {
        self.client
            .query(
                "SELECT position, entry::text FROM zorg_pdp_outbox ORDER BY position",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, i64>(0).unsigned_abs(), r.get(1)))
            .collect()
    }

    /// An engine that applied every committed row in position order: what
    /// every replica must converge to
    pub(crate) async fn reference(&self) -> Engine {
        let engine = Engine::new().unwrap();
        let entries: Vec<LogEntry> = self
            .rows()
            .await
            .iter()
            .map(|(p, json)| entry(*p, json))
            .collect();
        engine.apply_entries(&entries).unwrap();
        engine
    }

    /// The highest committed position (0 for none)
    pub(crate) async fn head(&self) -> u64 {
        let row = self
            .client
            .query_one(
                "SELECT coalesce(max(position), 0) FROM zorg_pdp_outbox",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0).unsigned_abs()
    }
}

/// A row as a log entry
pub(crate) fn entry(position: u64, json: &str) -> LogEntry {
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["position"] = position.into();
    LogEntry::from_json(&value.to_string()).unwrap()
}

/// Connects and drives the connection on a task of its own
pub(crate) async fn connect(config: &tokio_postgres::Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A fresh database for the test `name` (dropped first if a killed run left
/// it), migrated
pub(crate) async fn fresh(name: &str) -> Db {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut config: tokio_postgres::Config = base_url().parse().unwrap();
    config.connect_timeout(Duration::from_secs(10));
    let admin = connect(&config).await;
    let db = format!(
        "zpdp_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    for statement in [
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin.batch_execute(&statement).await.unwrap();
    }
    config.dbname(&db);
    let client = connect(&config).await;
    migrate(&client).await.unwrap();
    Db { config, client }
}

/// Writes `bodies` in one transaction; their positions
pub(crate) async fn write(client: &mut Client, bodies: &[String]) -> Vec<u64> {
    let tx = client.transaction().await.unwrap();
    let mut positions = Vec::new();
    for body in bodies {
        positions.push(append_json(&tx, body).await.unwrap());
    }
    tx.commit().await.unwrap();
    positions
}

/// An entity body
pub(crate) fn entity(json: &str) -> String {
    format!(r#"{{"entity":{json}}}"#)
}

/// An event body
pub(crate) fn event(json: &str) -> String {
    format!(r#"{{"event":{json}}}"#)
}

/// A patient's registration
pub(crate) fn patient(id: &str) -> String {
    entity(&format!(r#"{{"patient":{{"id":"{id}"}}}}"#))
}

/// The small world of the core's integration tests, as outbox entries: a
/// midwifery practice (`vp-noord`, `vera`), a maternity-care organisation
/// (`kz-oost`, `anna`), `client-1` treated by both, consenting to
/// `vp-noord`'s dossier, `anna`'s access request
pub(crate) fn world() -> Vec<String> {
    vec![
        entity(r#"{"organisation":{"id":"vp-noord"}}"#),
        entity(r#"{"organisation":{"id":"kz-oost"}}"#),
        entity(
            r#"{"practitioner":{"id":"vera","organisation":"vp-noord","role":"verloskundige"}}"#,
        ),
        entity(
            r#"{"practitioner":{"id":"anna","organisation":"kz-oost","role":"kraamverzorgende"}}"#,
        ),
        patient("client-1"),
        event(
            r#"{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"vp-noord"}"#,
        ),
        event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"kz-oost"}"#,
        ),
        event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"dossier_consent_given","patient":"client-1","holder":"vp-noord"}"#,
        ),
        event(
            r#"{"at":"2026-01-11T08:00:00Z","type":"access_requested","practitioner":"anna","patient":"client-1"}"#,
        ),
    ]
}

/// `client-1` withdraws the consent to `vp-noord`'s dossier
pub(crate) fn withdrawal() -> String {
    event(
        r#"{"at":"2026-01-15T09:00:00Z","type":"dossier_consent_withdrawn","patient":"client-1","holder":"vp-noord"}"#,
    )
}

/// `anna` views `client-1`'s `kraambed` data held by `vp-noord`, after the
/// withdrawal's time, with the freshness token `min_seq`
pub(crate) fn anna_views(min_seq: Option<u64>) -> Request {
    let mut r = Request::view(
        PractitionerId::new("anna").unwrap(),
        PatientId::new("client-1").unwrap(),
        OrganisationId::new("vp-noord").unwrap(),
        Category::new("kraambed").unwrap(),
        "2026-02-01T00:00:00Z".parse().unwrap(),
        true,
    );
    r.min_seq = min_seq;
    r
}

/// A new engine with the shipped policies, shared
pub(crate) fn engine() -> Arc<Engine> {
    Arc::new(Engine::new().unwrap())
}

/// Waits (bounded) until `engine` has applied `position`, off the runtime's threads
pub(crate) async fn applied(engine: &Arc<Engine>, position: u64) -> bool {
    let engine = Arc::clone(engine);
    tokio::task::spawn_blocking(move || engine.wait_for(position, Duration::from_secs(20)))
        .await
        .unwrap()
}
