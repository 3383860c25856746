//! `--postgres URL`: the service as a replica fed from the PostgreSQL
//! outbox (`docs/replicas.md`), its readiness, and why it takes no entries.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use zorg_pdp_postgres::{Feed, FeedConfig, FeedError, FeedStatus};

use crate::zorg::ZorgDecider;

/// Starts a feed from the outbox at `url` on `decider`'s engine (on the
/// current tokio runtime) and attaches its status to the decider, for
/// `/readyz`, `/metrics` and the refusal of `/v1/entries`
///
/// The engine must take its facts from the outbox only: a world file or
/// entries posted to it would take positions the outbox does not know
/// (`docs/replicas.md`, "What a host must do"). Stop the feed on shutdown
/// with [`Feed::stop`].
///
/// # Errors
///
/// [`FeedError::Config`] when the URL does not parse.
pub fn spawn(decider: &Arc<ZorgDecider>, url: &str) -> Result<Feed, FeedError> {
    Ok(spawn_with(decider, FeedConfig::new(url)?))
}

/// As [`spawn`], with the feed's settings given whole
pub fn spawn_with(decider: &Arc<ZorgDecider>, config: FeedConfig) -> Feed {
    let feed = Feed::spawn(Arc::clone(decider.engine()), config);
    decider.attach_feed(feed.subscribe());
    feed
}

/// A feed's status as JSON: positions and flags; `last_error` is the
/// feed's redacted message (no values, so no patient id)
pub fn status_json(s: &FeedStatus) -> Value {
    json!({
        "applied": s.applied,
        "head": s.head,
        "lag": s.head.saturating_sub(s.applied),
        "caught_up": s.caught_up,
        "connected": s.connected,
        "waiting_for_writers": s.waiting_for_writers,
        "stopped": s.stopped,
        "reconnects": s.reconnects,
        "entries_applied": s.entries_applied,
        "last_error": s.last_error,
    })
}

/// `GET /readyz` over the engine: 200 `{"ready": true, "seq"}` without a
/// feed or with one that is caught up ([`FeedStatus::is_ready`]); otherwise
/// 503 `{"ready": false, "seq", "feed": {…}}`
pub fn readyz(zorg: &ZorgDecider) -> Response {
    let seq = zorg.engine().seq();
    let Some(status) = zorg.feed_status() else {
        return (StatusCode::OK, Json(json!({ "ready": true, "seq": seq }))).into_response();
    };
    let ready = status.is_ready();
    let body = json!({ "ready": ready, "seq": seq, "feed": status_json(&status) });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// The refusal of `POST /v1/entries` on a replica: 409 Conflict
///
/// Not 403: nothing about the caller is wrong, and the same request is
/// taken by a service without `--postgres`. The service's state conflicts
/// with it: a replica takes its facts from the outbox alone, and an entry
/// posted to it would take a position the outbox gives to another row,
/// which the feed would then skip on this replica only.
pub fn refuse_entries(zorg: &ZorgDecider) -> Option<Response> {
    zorg.feed_status()?;
    let body = json!({
        "error": "this service is a replica fed from the PostgreSQL outbox (--postgres): \
                  write entries to the outbox (zorg_pdp_postgres::append) in the transaction \
                  of the change they describe",
        "seq": zorg.engine().seq(),
    });
    Some((StatusCode::CONFLICT, Json(body)).into_response())
}
