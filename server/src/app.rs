//! The HTTP layer: routes, status codes, `X-Request-ID`, and the entries
//! endpoint.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use zorg_pdp::{Applied, Engine, EntryBody, LogEntry};

use crate::metrics::Metrics;

use crate::authzen::{self, BadRequest, Parts, SearchKind, Semantic};
use crate::decider::{Answer, Context, Decider};
use crate::zorg::ZorgDecider;

/// The header every response echoes
pub const REQUEST_ID: &str = "x-request-id";

/// What the handlers share
struct Shared {
    decider: Arc<dyn Decider>,
    /// The engine behind the decider, for entries and readiness; `None`
    /// behind a fixture decider
    zorg: Option<Arc<ZorgDecider>>,
    /// Serialises ingestion, so a position-less entry's position (the last
    /// plus one) is not taken by another request meanwhile
    ingest: Mutex<()>,
    base_url: String,
    metrics: Arc<Metrics>,
}

/// The largest request body the AuthZEN endpoints take (64 KiB): a larger
/// one is answered 413 Payload Too Large
pub const MAX_BODY: usize = 64 * 1024;

/// The largest body `POST /v1/entries` takes (16 MiB): a batch of entries
pub const MAX_ENTRIES_BODY: usize = 16 * 1024 * 1024;

/// The body limits of a router: [`MAX_BODY`] and [`MAX_ENTRIES_BODY`] by
/// default, `[limits]` of the config file otherwise
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Every endpoint but `/v1/entries`
    pub body: usize,
    /// `POST /v1/entries`
    pub entries: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            body: MAX_BODY,
            entries: MAX_ENTRIES_BODY,
        }
    }
}

/// The service's router over `decider`, its metadata naming `base_url`
pub fn router(decider: Arc<dyn Decider>, base_url: &str) -> Router {
    build(decider, None, base_url, BodyLimits::default())
}

/// The service's router over the engine, with `/v1/entries`
pub fn zorg_router(zorg: Arc<ZorgDecider>, base_url: &str) -> Router {
    zorg_router_with(zorg, base_url, BodyLimits::default())
}

/// [`zorg_router`] with other body limits
pub fn zorg_router_with(zorg: Arc<ZorgDecider>, base_url: &str, limits: BodyLimits) -> Router {
    build(zorg.clone(), Some(zorg), base_url, limits)
}

fn build(
    decider: Arc<dyn Decider>,
    zorg: Option<Arc<ZorgDecider>>,
    base_url: &str,
    limits: BodyLimits,
) -> Router {
    let metrics = zorg
        .as_ref()
        .map_or_else(|| Arc::new(Metrics::new()), |z| Arc::clone(z.metrics()));
    let shared = Arc::new(Shared {
        decider,
        zorg: zorg.clone(),
        ingest: Mutex::new(()),
        base_url: base_url.trim_end_matches('/').to_owned(),
        metrics: Arc::clone(&metrics),
    });
    Router::new()
        .route("/access/v1/evaluation", post(evaluation))
        .route("/access/v1/evaluations", post(evaluations))
        .route("/access/v1/search/subject", post(search_subject))
        .route("/access/v1/search/resource", post(search_resource))
        .route("/access/v1/search/action", post(search_action))
        .route("/.well-known/authzen-configuration", get(metadata))
        .route(
            "/v1/entries",
            post(entries).layer(DefaultBodyLimit::max(limits.entries)),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::consent::routes(zorg.clone()))
        .merge(crate::metrics::routes(Arc::clone(&metrics), zorg))
        .layer(DefaultBodyLimit::max(limits.body))
        .layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(middleware::from_fn(echo_request_id))
        .with_state(shared)
}

/// Echoes the request's `X-Request-ID` on the response
async fn echo_request_id(request: Request, next: Next) -> Response {
    let id = request.headers().get(REQUEST_ID).cloned();
    let mut response = next.run(request).await;
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

/// An error answer: the status and the message as plain text
fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        format!("{message}\n"),
    )
        .into_response()
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        error(StatusCode::BAD_REQUEST, &self.0)
    }
}

fn ok(value: &impl serde::Serialize) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// Whether the request's content type is `application/json` (parameters aside)
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The body as a JSON object, if the content type says JSON
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, BadRequest> {
    if !is_json(headers) {
        return Err(BadRequest(
            "the content type must be `application/json`".into(),
        ));
    }
    authzen::parse_object(body)
}

async fn evaluation(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    json_body(&headers, &body)
        .and_then(|body| answer_evaluation(s.decider.as_ref(), &body))
        .map_or_else(IntoResponse::into_response, |v| ok(&v))
}

/// The answer of `POST /access/v1/evaluation` to `body`: the handler's
/// work without HTTP (the load example times it)
pub fn answer_evaluation(
    decider: &dyn Decider,
    body: &Map<String, Value>,
) -> Result<Answer, BadRequest> {
    let e = Parts::of(body, &"")?.evaluation()?;
    decider.evaluate(&e)
}

/// The answer of `POST /access/v1/evaluations`: one Decision, or the
/// items' Decisions under `evaluations`
#[derive(Debug, Clone, PartialEq)]
pub enum Answers {
    /// A body without items: the evaluation of its top-level parts
    One(Answer),
    /// The items answered, in order
    Many(Vec<Answer>),
}

impl serde::Serialize for Answers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Answers::One(a) => a.serialize(serializer),
            Answers::Many(items) => {
                let mut m = serializer.serialize_map(Some(1))?;
                m.serialize_entry("evaluations", items)?;
                m.end()
            }
        }
    }
}

/// A failed batch item: false, with the error in its context
fn item_error(e: &BadRequest) -> Answer {
    let mut context = Map::new();
    context.insert("error".into(), json!({ "status": 400, "message": e.0 }));
    Answer {
        decision: false,
        context: Some(Context::Object(context)),
    }
}

async fn evaluations(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    json_body(&headers, &body)
        .and_then(|body| answer_evaluations(s.decider.as_ref(), &body))
        .map_or_else(IntoResponse::into_response, |v| {
            if let Answers::Many(items) = &v {
                s.metrics.batch(items.len());
            }
            ok(&v)
        })
}

/// The answer of `POST /access/v1/evaluations` to `body`: the handler's
/// work without HTTP (the load example times it)
pub fn answer_evaluations(
    decider: &dyn Decider,
    body: &Map<String, Value>,
) -> Result<Answers, BadRequest> {
    let defaults = Parts::of(body, &"")?;
    let semantic = Semantic::of(body)?;
    let Some(items) = authzen::items(body)? else {
        // No items: the single evaluation of the top-level parts
        return Ok(Answers::One(decider.evaluate(&defaults.evaluation()?)?));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let answer = Parts::of(item, &format_args!("evaluations[{i}]."))
            .map(|p| p.or(defaults))
            .and_then(Parts::evaluation)
            .and_then(|e| decider.evaluate(&e));
        let answer = answer.unwrap_or_else(|e| item_error(&e));
        let stop = match semantic {
            Semantic::ExecuteAll => false,
            Semantic::DenyOnFirstDeny => !answer.decision,
            Semantic::PermitOnFirstPermit => answer.decision,
        };
        out.push(answer);
        if stop {
            break;
        }
    }
    Ok(Answers::Many(out))
}

fn search(s: &Shared, headers: &HeaderMap, body: &[u8], kind: SearchKind) -> Response {
    let run = || -> Result<Value, BadRequest> {
        let body = json_body(headers, body)?;
        let search = authzen::search(&body, kind)?;
        let found = match kind {
            SearchKind::Subject => s.decider.search_subject(&search)?,
            SearchKind::Resource => s.decider.search_resource(&search)?,
            SearchKind::Action => s.decider.search_action(&search)?,
        };
        let results: Vec<Value> = found.iter().map(crate::decider::Found::to_json).collect();
        Ok(json!({ "results": results }))
    };
    run().map_or_else(IntoResponse::into_response, |v| ok(&v))
}

async fn search_subject(State(s): State<Arc<Shared>>, h: HeaderMap, b: Bytes) -> Response {
    search(&s, &h, &b, SearchKind::Subject)
}

async fn search_resource(State(s): State<Arc<Shared>>, h: HeaderMap, b: Bytes) -> Response {
    search(&s, &h, &b, SearchKind::Resource)
}

async fn search_action(State(s): State<Arc<Shared>>, h: HeaderMap, b: Bytes) -> Response {
    search(&s, &h, &b, SearchKind::Action)
}

async fn metadata(State(s): State<Arc<Shared>>) -> Response {
    let base = &s.base_url;
    ok(&json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
        "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
        "search_action_endpoint": format!("{base}/access/v1/search/action"),
    }))
}

async fn healthz() -> Response {
    ok(&json!({ "status": "ok" }))
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    // Without a feed the service is caught up once it serves: the world
    // file and the data directory were loaded before it bound its address;
    // with one, when the feed is (crate::replica)
    match &s.zorg {
        Some(z) => crate::replica::readyz(z),
        None => ok(&json!({ "ready": true, "seq": null })),
    }
}

/// One line of an entries body: a log entry, or a body without a position
enum Line {
    Positioned(LogEntry),
    Next(EntryBody),
}

/// The entries of a body: a JSON array, one JSON object, or JSON Lines
fn parse_entries(body: &[u8]) -> Result<Vec<Line>, BadRequest> {
    let text = std::str::from_utf8(body)
        .map_err(|_| BadRequest("the request body is not UTF-8".into()))?;
    let values: Vec<(usize, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => a.into_iter().enumerate().collect(),
        Ok(v) => vec![(0, v)],
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map(|v| (i, v))
                    .map_err(|e| BadRequest(format!("line {}: not JSON: {e}", i + 1)))
            })
            .collect::<Result<_, _>>()?,
    };
    if values.is_empty() {
        return Err(BadRequest("the request body holds no entries".into()));
    }
    values
        .into_iter()
        .map(|(i, mut v)| {
            let Some(m) = v.as_object_mut() else {
                return Err(BadRequest(format!("entry {}: not a JSON object", i + 1)));
            };
            let positioned = m.contains_key("position");
            if !positioned {
                // A placeholder position, replaced by the next free one
                m.insert("position".into(), Value::from(1));
            }
            let entry = LogEntry::from_json(&v.to_string())
                .map_err(|e| BadRequest(format!("entry {}: {e}", i + 1)))?;
            Ok(if positioned {
                Line::Positioned(entry)
            } else {
                Line::Next(entry.body().clone())
            })
        })
        .collect()
}

async fn entries(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let Some(zorg) = s.zorg.clone() else {
        return error(StatusCode::NOT_FOUND, "this service takes no entries");
    };
    if let Some(refused) = crate::replica::refuse_entries(&zorg) {
        return refused;
    }
    let lines = match parse_entries(&body) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let shared = s.clone();
    // The journal syncs every entry before it is acknowledged: off the async workers
    let done = tokio::task::spawn_blocking(move || ingest(&shared, &zorg, lines)).await;
    match done {
        Ok(Ok(v)) => ok(&v),
        Ok(Err((status, v))) => (status, axum::Json(v)).into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the ingesting task failed",
        ),
    }
}

/// Applies the entries in order; stops at the first refused one
fn ingest(s: &Shared, zorg: &ZorgDecider, lines: Vec<Line>) -> Result<Value, (StatusCode, Value)> {
    let _one_at_a_time = s.ingest.lock().unwrap_or_else(PoisonError::into_inner);
    let engine: &Engine = zorg.engine();
    let mut answers = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        let entry = match line {
            Line::Positioned(e) => Ok(e),
            Line::Next(body) => LogEntry::new(engine.seq().saturating_add(1), body),
        };
        let result = entry
            .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))
            .and_then(|entry| {
                let applied = engine.apply_entry(&entry).map_err(|e| {
                    let status = match e {
                        zorg_pdp::EntryError::Journal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                        _ => StatusCode::UNPROCESSABLE_ENTITY,
                    };
                    (status, e.to_string())
                })?;
                Ok((entry.position(), applied))
            });
        match result {
            Ok((_, Applied::Applied(p))) => {
                answers.push(json!({ "position": p, "applied": true }));
            }
            Ok((p, Applied::Skipped { last })) => {
                answers.push(json!({ "position": p, "applied": false, "last": last }));
            }
            Err((status, message)) => {
                return Err((
                    status,
                    json!({
                        "error": format!("entry {}: {message}", i + 1),
                        "entries": answers,
                        "seq": engine.seq(),
                    }),
                ));
            }
        }
    }
    Ok(json!({ "entries": answers, "seq": engine.seq() }))
}
