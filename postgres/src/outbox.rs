//! The outbox table: its migration and the writer's helper.

use tokio_postgres::{Client, Transaction};
use zorg_pdp::{EntryBody, LogEntry};

/// The outbox's DDL, `migrations/0001_outbox.sql`: the table
/// `zorg_pdp_outbox`, its position sequence (`CACHE 1`, `NO CYCLE`), the
/// trigger that takes the transaction's id and then the position, the
/// immutability trigger and the `NOTIFY zorg_pdp_outbox` trigger. Every
/// statement may run again.
pub const MIGRATION: &str = include_str!("../migrations/0001_outbox.sql");

/// The advisory lock [`migrate`] holds while it runs, so two replicas
/// starting together do not create the same objects at once ("zpdp" in
/// ASCII)
const MIGRATION_LOCK: i64 = 0x7a70_6470;

/// A failure writing to or setting up the outbox
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The server refused a statement, or the connection failed
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The entry given as JSON is not an entry body (`{"event": …}` or
    /// `{"entity": …}`, without a position)
    #[error("outbox entry: {0}")]
    Entry(String),
}

/// Applies the outbox migration ([`MIGRATION`]) on `client`'s database,
/// idempotently: every statement runs again harmlessly, all of them in one
/// implicit transaction under an advisory lock
///
/// # Errors
///
/// [`OutboxError::Postgres`] when the server refuses it (nothing of it
/// stays then).
pub async fn migrate(client: &Client) -> Result<(), OutboxError> {
    // One simple-query message: PostgreSQL runs it as one implicit
    // transaction, rolled back whole on an error
    let script = format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK});\n{MIGRATION}");
    client.batch_execute(&script).await?;
    Ok(())
}

/// Writes one engine entry into the outbox in the host's transaction and
/// returns its position: the freshness token to hand out as `min_seq`
///
/// Write it in the SAME transaction as the change it describes (a consent
/// withdrawn in the EHR's own tables and the `dossier_consent_withdrawn`
/// entry), so the outbox holds the entry exactly when the change committed.
/// The position is final only once `tx` commits; a rolled-back transaction
/// leaves a gap, which the feed passes over.
///
/// # Errors
///
/// [`OutboxError::Postgres`] when the insert fails (the table is missing:
/// run [`migrate`]; the transaction is aborted then).
pub async fn append(tx: &Transaction<'_>, body: &EntryBody) -> Result<u64, OutboxError> {
    let entry = LogEntry::new(1, body.clone()).map_err(|e| OutboxError::Entry(e.to_string()))?;
    let mut value = serde_json::to_value(&entry).map_err(|e| OutboxError::Entry(e.to_string()))?;
    if let Some(object) = value.as_object_mut() {
        object.remove("position");
    }
    insert(tx, &value.to_string()).await
}

/// As [`append`], for an entry body given as JSON: `{"event": {…}}` or
/// `{"entity": {…}}` (SPEC.md §3, §4), without a position
///
/// The JSON is parsed as the engine would before it is written, so an entry
/// the feed could not read never reaches the outbox (a refused entry stops
/// every replica, docs/replicas.md).
///
/// # Errors
///
/// [`OutboxError::Entry`] when it is not an entry body (naming the field);
/// [`OutboxError::Postgres`] as for [`append`].
pub async fn append_json(tx: &Transaction<'_>, body: &str) -> Result<u64, OutboxError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| OutboxError::Entry(e.to_string()))?;
    let serde_json::Value::Object(mut object) = value else {
        return Err(OutboxError::Entry("an entry body is a JSON object".into()));
    };
    if object.contains_key("position") {
        return Err(OutboxError::Entry(
            "field `position`: the outbox assigns positions; leave it out".into(),
        ));
    }
    let text = serde_json::Value::Object(object.clone()).to_string();
    object.insert("position".into(), serde_json::Value::from(1_u64));
    LogEntry::from_json(&serde_json::Value::Object(object).to_string())
        .map_err(|e| OutboxError::Entry(e.to_string()))?;
    insert(tx, &text).await
}

async fn insert(tx: &Transaction<'_>, entry: &str) -> Result<u64, OutboxError> {
    let row = tx
        .query_one(
            "INSERT INTO zorg_pdp_outbox (entry) VALUES ($1::text::jsonb) RETURNING position",
            &[&entry],
        )
        .await?;
    let position: i64 = row.try_get(0)?;
    // The sequence's MINVALUE is 1: a position is never 0 or negative
    Ok(position.unsigned_abs())
}
