//! Who may call: bearer tokens (RFC 6750) compared by their SHA-256 with the
//! configured ones, and the scope each path needs.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::config::{Scope, Token, token_hash};

/// The realm of every `WWW-Authenticate` challenge
pub const REALM: &str = "zorg-pdp";

/// What a path needs
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the probes and the AuthZEN metadata
    Open,
    /// A token with this scope
    Needs(Scope),
}

/// The access `path` needs. Open: `/healthz` and `/readyz` (an orchestrator
/// probes without credentials; they answer a status and a position, nothing
/// about a patient) and `/.well-known/authzen-configuration` (the AuthZEN
/// discovery document a client reads before it calls; it names endpoints
/// only). `decide`: `/access/v1/…` and `/v1/consent/…`; `ingest`:
/// `/v1/entries`; `admin`: `/metrics` and every other path, so a route added
/// later without a line here is closed to all but admins (fail closed).
pub fn access(path: &str) -> Access {
    match path {
        "/healthz" | "/readyz" | "/.well-known/authzen-configuration" => Access::Open,
        "/v1/entries" => Access::Needs(Scope::Ingest),
        p if p.starts_with("/access/v1/") || p.starts_with("/v1/consent/") => {
            Access::Needs(Scope::Decide)
        }
        _ => Access::Needs(Scope::Admin),
    }
}

/// The caller a request was authenticated as: put in the request's
/// extensions for the handlers (and the audit log) to read
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's configured name
    pub name: Arc<str>,
}

/// Why a request is refused
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header: 401, a bare challenge
    Missing,
    /// An `Authorization` header that is not one `Bearer` token: 401
    /// `invalid_request`
    Malformed,
    /// A bearer token that matches none configured: 401 `invalid_token`
    Unknown,
    /// A known token without the scope: 403 `insufficient_scope`
    Scope {
        /// The token's name
        caller: Arc<str>,
        /// The scope the path needs
        needed: Scope,
    },
}

/// The configured tokens
#[derive(Debug, Clone)]
pub struct Tokens {
    tokens: Vec<(Token, Arc<str>)>,
}

/// Equality of two hashes in time independent of where they differ
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer …` header
fn bearer(headers: &HeaderMap) -> Result<&str, Refusal> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(if headers.contains_key(header::AUTHORIZATION) {
            Refusal::Malformed
        } else {
            Refusal::Missing
        });
    };
    let value = value.to_str().map_err(|_| Refusal::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(Refusal::Malformed)?;
    let token = token.trim_start_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(Refusal::Malformed);
    }
    Ok(token)
}

impl Tokens {
    /// The tokens of a config
    pub fn new(tokens: &[Token]) -> Self {
        Self {
            tokens: tokens
                .iter()
                .map(|t| (t.clone(), Arc::from(t.name.as_str())))
                .collect(),
        }
    }

    /// How many there are
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are none
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The caller of a request needing `needed`, or why it is refused. The
    /// presented token's SHA-256 is compared with every stored one, each in
    /// constant time.
    pub fn check(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, Refusal> {
        let hash = token_hash(bearer(headers)?);
        let mut found = None;
        for (t, name) in &self.tokens {
            if same(&t.sha256, &hash) {
                found = Some((t, name));
            }
        }
        let (token, name) = found.ok_or(Refusal::Unknown)?;
        if token.scopes.contains(&needed) {
            Ok(Caller { name: name.clone() })
        } else {
            Err(Refusal::Scope {
                caller: name.clone(),
                needed,
            })
        }
    }
}

/// A JSON error answer: `{"error": {"status", "code", "message"}}`, the shape
/// of a failed batch item's `context.error` with a machine-readable code
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "error": { "status": status.as_u16(), "code": code, "message": message }
    });
    let mut response = Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl Refusal {
    /// The answer: 401 or 403 with its RFC 6750 challenge
    pub fn response(&self) -> Response {
        let (status, code, message, challenge) = match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this endpoint needs a bearer token (`Authorization: Bearer …`)".to_owned(),
                format!("Bearer realm=\"{REALM}\""),
            ),
            Self::Malformed => (
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "the `Authorization` header is not one `Bearer` token".to_owned(),
                format!("Bearer realm=\"{REALM}\", error=\"invalid_request\""),
            ),
            Self::Unknown => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the bearer token is not known".to_owned(),
                format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            ),
            Self::Scope { caller, needed } => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the token `{caller}` lacks the scope `{needed}` this endpoint needs"),
                format!(
                    "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{needed}\""
                ),
            ),
        };
        let mut response = error_response(status, code, &message);
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_its_scope() {
        for (path, want) in [
            ("/healthz", Access::Open),
            ("/readyz", Access::Open),
            ("/.well-known/authzen-configuration", Access::Open),
            ("/access/v1/evaluation", Access::Needs(Scope::Decide)),
            ("/access/v1/evaluations", Access::Needs(Scope::Decide)),
            ("/access/v1/search/resource", Access::Needs(Scope::Decide)),
            ("/v1/consent/check", Access::Needs(Scope::Decide)),
            ("/v1/entries", Access::Needs(Scope::Ingest)),
            ("/metrics", Access::Needs(Scope::Admin)),
            ("/v1/entries/x", Access::Needs(Scope::Admin)),
            ("/healthz/", Access::Needs(Scope::Admin)),
            ("/access/v1", Access::Needs(Scope::Admin)),
            ("/", Access::Needs(Scope::Admin)),
        ] {
            assert_eq!(access(path), want, "{path}");
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_token_is_known_by_its_hash_and_checked_for_its_scope() {
        let secret = "a".repeat(64);
        let tokens = Tokens::new(&[
            Token {
                name: "ehr".into(),
                sha256: token_hash(&secret),
                scopes: vec![Scope::Decide],
            },
            Token {
                name: "feed".into(),
                sha256: token_hash(&"b".repeat(64)),
                scopes: vec![Scope::Ingest, Scope::Admin],
            },
        ]);
        let ok = tokens.check(&headers(&[&format!("Bearer {secret}")]), Scope::Decide);
        assert_eq!(ok.unwrap().name.as_ref(), "ehr");
        let lower = tokens.check(&headers(&[&format!("bearer  {secret}")]), Scope::Decide);
        assert!(lower.is_ok(), "the scheme is case-insensitive");
        assert_eq!(
            tokens.check(&headers(&[&format!("Bearer {secret}")]), Scope::Ingest),
            Err(Refusal::Scope {
                caller: "ehr".into(),
                needed: Scope::Ingest
            })
        );
        assert_eq!(
            tokens.check(
                &headers(&[&format!("Bearer {}", "c".repeat(64))]),
                Scope::Decide
            ),
            Err(Refusal::Unknown)
        );
        assert_eq!(
            tokens.check(&headers(&[]), Scope::Decide),
            Err(Refusal::Missing)
        );
        for bad in [
            format!("Basic {secret}"),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer {secret} x"),
        ] {
            assert_eq!(
                tokens.check(&headers(&[&bad]), Scope::Decide),
                Err(Refusal::Malformed),
                "{bad}"
            );
        }
        let twice = format!("Bearer {secret}");
        assert_eq!(
            tokens.check(&headers(&[&twice, &twice]), Scope::Decide),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn refusals_carry_their_challenge() {
        let r = Refusal::Missing.response();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"zorg-pdp\""
        );
        let r = Refusal::Unknown.response();
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"zorg-pdp\", error=\"invalid_token\""
        );
        let r = Refusal::Scope {
            caller: "ehr".into(),
            needed: Scope::Admin,
        }
        .response();
        assert_eq!(r.status(), 403);
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"zorg-pdp\", error=\"insufficient_scope\", scope=\"admin\""
        );
    }
}
