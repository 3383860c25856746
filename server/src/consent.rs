//! The consent questions of SPEC.md §7.5 over HTTP: `POST
//! /v1/consent/check`, `/v1/consent/locate` and `/v1/consent/overview` take
//! and answer the JSON of `zorg-pdp consent …` and `zpdp_engine_consent_*`
//! (`schemas/consent-*.schema.json`), answered by
//! `Engine::consent_check|locate|overview` and audited as the library
//! audits them.
//!
//! * 200: the engine's answer, as the schema has it.
//! * 400 (plain text naming the field): a content type other than
//!   `application/json`, a body that is not UTF-8 or not the query (an
//!   unknown or missing field, a malformed id or time), or fields that do
//!   not fit together (`requester` and `requester_category` both or
//!   neither).
//! * 422 `{"error": "unknown_entity", "field", "message"}`: the query names
//!   an id or code the engine does not know; treat it as a deny.
//! * 503 `{"error": "stale_facts", "field": "min_seq", "min_seq", "seq",
//!   "message"}` with `Retry-After: 1`: the query's `min_seq` is above the
//!   last applied position (R47); ask again or ask a replica that is caught
//!   up.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use zorg_pdp::{
    ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery, ConsentQueryError, Engine,
    ParseError,
};

use crate::metrics::ConsentOutcome;
use crate::zorg::ZorgDecider;

/// The three routes over the engine behind `zorg` (none without one)
pub fn routes<S: Clone + Send + Sync + 'static>(zorg: Option<Arc<ZorgDecider>>) -> Router<S> {
    let Some(zorg) = zorg else {
        return Router::new();
    };
    Router::new()
        .route("/v1/consent/check", post(check))
        .route("/v1/consent/locate", post(locate))
        .route("/v1/consent/overview", post(overview))
        .with_state(zorg)
}

/// Why a consent question was not answered
enum Refusal {
    /// Malformed: 400 with the message
    Malformed(String),
    /// The engine's error
    Engine(ConsentQueryError),
}

impl From<ParseError> for Refusal {
    fn from(e: ParseError) -> Self {
        Refusal::Malformed(e.to_string())
    }
}

impl From<ConsentQueryError> for Refusal {
    fn from(e: ConsentQueryError) -> Self {
        match e {
            ConsentQueryError::Fields { .. } => Refusal::Malformed(e.to_string()),
            other => Refusal::Engine(other),
        }
    }
}

impl Refusal {
    fn outcome(&self) -> ConsentOutcome {
        match self {
            Refusal::Malformed(_) => ConsentOutcome::Malformed,
            Refusal::Engine(ConsentQueryError::Stale { .. }) => ConsentOutcome::Stale,
            Refusal::Engine(_) => ConsentOutcome::Unknown,
        }
    }

    fn into_response(self) -> Response {
        match self {
            Refusal::Malformed(message) => (
                StatusCode::BAD_REQUEST,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                format!("{message}\n"),
            )
                .into_response(),
            Refusal::Engine(e @ ConsentQueryError::Stale { min_seq, seq, .. }) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
                Json(json!({
                    "error": "stale_facts",
                    "field": "min_seq",
                    "min_seq": min_seq,
                    "seq": seq,
                    "message": e.to_string(),
                })),
            )
                .into_response(),
            Refusal::Engine(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "error": "unknown_entity",
                    "field": e.field(),
                    "message": e.to_string(),
                })),
            )
                .into_response(),
        }
    }
}

/// The body as the text of a JSON query
fn text<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<&'a str, Refusal> {
    if !crate::app::is_json(headers) {
        return Err(Refusal::Malformed(
            "the content type must be `application/json`".into(),
        ));
    }
    std::str::from_utf8(body)
        .map_err(|_| Refusal::Malformed("the request body is not UTF-8".into()))
}

/// Parses, asks, answers and counts one question
fn answer<A: Serialize>(
    zorg: &ZorgDecider,
    question: &'static str,
    headers: &HeaderMap,
    body: &[u8],
    ask: impl FnOnce(&Engine, &str) -> Result<A, Refusal>,
) -> Response {
    let result = text(headers, body).and_then(|t| ask(zorg.engine(), t));
    match result {
        Ok(a) => {
            zorg.metrics().consent(question, ConsentOutcome::Answered);
            (StatusCode::OK, Json(a)).into_response()
        }
        Err(refusal) => {
            zorg.metrics().consent(question, refusal.outcome());
            refusal.into_response()
        }
    }
}

async fn check(State(z): State<Arc<ZorgDecider>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&z, "check", &headers, &body, |engine, text| {
        Ok(engine.consent_check(&ConsentCheckQuery::from_json(text)?)?)
    })
}

async fn locate(State(z): State<Arc<ZorgDecider>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&z, "locate", &headers, &body, |engine, text| {
        Ok(engine.consent_locate(&ConsentLocateQuery::from_json(text)?)?)
    })
}

async fn overview(State(z): State<Arc<ZorgDecider>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(&z, "overview", &headers, &body, |engine, text| {
        Ok(engine.consent_overview(&ConsentOverviewQuery::from_json(text)?)?)
    })
}
