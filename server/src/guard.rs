//! The layer in front of every route: the bearer token and its scope, the
//! concurrency limit, and the body's size and time limits. Its own answers
//! (401, 403, 408, 413, 503) are JSON and echo `X-Request-ID` like the rest.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::Semaphore;

use crate::app::REQUEST_ID;
use crate::auth::{Access, Tokens, access, error_response};
use crate::config::{Config, Limits};

/// What the layer checks
#[derive(Debug)]
pub struct Guard {
    /// `None`: no authentication (no tokens configured; loopback only)
    tokens: Option<Tokens>,
    limits: Limits,
    in_flight: Arc<Semaphore>,
}

impl Guard {
    /// The guard of a config: its tokens (none: no authentication) and limits
    pub fn new(config: &Config) -> Self {
        let tokens = Tokens::new(&config.tokens);
        Self {
            tokens: (!tokens.is_empty()).then_some(tokens),
            limits: config.limits,
            in_flight: Arc::new(Semaphore::new(config.limits.max_concurrent)),
        }
    }

    /// Whether callers must present a token
    pub fn authenticates(&self) -> bool {
        self.tokens.is_some()
    }

    /// `router` behind this guard
    pub fn wrap(self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(Arc::new(self), guard))
    }

    async fn check(&self, request: Request, next: Next) -> Response {
        let path = request.uri().path();
        let probe = matches!(path, "/healthz" | "/readyz");
        let entries = path == "/v1/entries";
        let (mut parts, body) = request.into_parts();
        if let (Some(tokens), Access::Needs(scope)) = (&self.tokens, access(parts.uri.path())) {
            match tokens.check(&parts.headers, scope) {
                Ok(caller) => {
                    parts.extensions.insert(caller);
                }
                Err(refusal) => return refusal.response(),
            }
        }
        // Probes are not counted: a busy server is alive, and says so
        let _permit = if probe {
            None
        } else {
            let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
                let mut r = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    &format!(
                        "{} requests are in flight, the configured limit (`limits.max_concurrent`)",
                        self.limits.max_concurrent
                    ),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            };
            Some(permit)
        };
        let (limit, key) = if entries {
            (self.limits.entries_body_bytes, "limits.entries_body_bytes")
        } else {
            (self.limits.body_bytes, "limits.body_bytes")
        };
        let too_large = || {
            close(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                &format!("the body is over {limit} bytes (`{key}`)"),
            ))
        };
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return too_large();
        }
        let read = tokio::time::timeout(
            self.limits.body_timeout,
            Limited::new(body, limit).collect(),
        )
        .await;
        let bytes = match read {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
            Ok(Err(_)) => {
                return close(error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    "the request body could not be read",
                ));
            }
            Err(_) => {
                return close(error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "request_timeout",
                    &format!(
                        "the body did not arrive within {} ms (`limits.body_timeout_ms`)",
                        self.limits.body_timeout.as_millis()
                    ),
                ));
            }
        };
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    }
}

/// The answer with `Connection: close`: the rest of the body is not read
fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn guard(State(g): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let id = request.headers().get(REQUEST_ID).cloned();
    let mut response = g.check(request, next).await;
    if let Some(id) = id {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}
