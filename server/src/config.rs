//! The service's configuration file (`--config FILE`, TOML): the listen
//! address, the bearer tokens (stored hashed) with their scopes, TLS, and the
//! limits. Every key and its default: `docs/server-security.md`.
//!
//! An error names the file, the line and column, the field (`tokens[1].scopes[0]`)
//! and the value, except for `sha256`, whose value is never repeated (a token
//! pasted there by mistake must not reach a log).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

/// The shortest bearer token accepted: 43 characters, 256 bits in base64url
/// (64 hexadecimal digits are 256 bits too)
pub const MIN_TOKEN_LEN: usize = 43;

/// The longest bearer token accepted
pub const MAX_TOKEN_LEN: usize = 512;

/// What a token allows
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `/access/v1/*` (AuthZEN) and `/v1/consent/*`
    Decide,
    /// `POST /v1/entries`
    Ingest,
    /// `/metrics` and any path not listed for another scope
    Admin,
}

impl Scope {
    /// The scope's name as written in the config and in `WWW-Authenticate`
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decide => "decide",
            Self::Ingest => "ingest",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One caller: a name for logs, the SHA-256 of its token, its scopes
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// Shown in logs and at start, never the token
    pub name: String,
    /// The SHA-256 of the token
    pub sha256: [u8; 32],
    /// What the token allows (at least one)
    pub scopes: Vec<Scope>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not a secret, but nothing token-derived goes to a log
        f.debug_struct("Token")
            .field("name", &self.name)
            .field("sha256", &"<not shown>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The limits every request meets
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body of the AuthZEN (and every other) endpoint; 413 beyond
    pub body_bytes: usize,
    /// The largest body of `POST /v1/entries`; 413 beyond
    pub entries_body_bytes: usize,
    /// The whole request head must arrive within this, or the connection is
    /// closed (also how long an idle keep-alive connection is kept, and the
    /// limit on a TLS handshake)
    pub header_timeout: Duration,
    /// The whole body must arrive within this (from the end of the head), or
    /// the request is answered 408 and the connection closed
    pub body_timeout: Duration,
    /// Requests in flight at once; one more is answered 503 at once, with
    /// `Retry-After` (the probes are not counted)
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: crate::app::MAX_BODY,
            entries_body_bytes: crate::app::MAX_ENTRIES_BODY,
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(10),
            max_concurrent: 512,
        }
    }
}

/// The TLS files (PEM), resolved against the config file's folder
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1)
    pub key: PathBuf,
    /// The certificate authorities a client certificate must chain to: mutual
    /// TLS, a client without a certificate refused
    pub client_ca: Option<PathBuf>,
}

/// The configuration: from a file, or [`Config::default`] without one
/// (loopback only, no tokens, the default limits)
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from
    pub file: Option<PathBuf>,
    /// The address to listen on (`--listen` wins)
    pub listen: Option<SocketAddr>,
    /// A PostgreSQL URL to feed from (read by the feed, not here)
    pub postgres: Option<String>,
    /// The audit log's file, resolved against the config file's folder
    pub audit: Option<PathBuf>,
    /// The limits
    pub limits: Limits,
    /// TLS, when configured
    pub tls: Option<TlsFiles>,
    /// The callers; none: no authentication (loopback only)
    pub tokens: Vec<Token>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("file", &self.file)
            .field("listen", &self.listen)
            .field("postgres", &self.postgres.as_deref().map(redact_url))
            .field("audit", &self.audit)
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// A URL without its user information (`postgres://***@host/db`): it may
/// hold a password
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!(
                "{}://***{}",
                url.get(..scheme).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_owned(),
    }
}

/// A configuration that could not be read
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read
    #[error("{}: cannot read the config file: {source}", file.display())]
    Read {
        /// The file
        file: PathBuf,
        /// Why
        source: std::io::Error,
    },
    /// A field is malformed, unknown, missing or out of range
    #[error("{}:{line}:{column}: {}{message}", file.display(), field_prefix(field))]
    Field {
        /// The file
        file: PathBuf,
        /// The line, from 1
        line: usize,
        /// The column, from 1
        column: usize,
        /// The field's path (`limits.body_bytes`, `tokens[0].scopes[1]`);
        /// empty for a syntax error
        field: String,
        /// What is wrong, with the value (never a `sha256` value)
        message: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("`{field}`: ")
    }
}

/// The config file as written
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: Option<SocketAddr>,
    postgres: Option<String>,
    audit: Option<PathBuf>,
    #[serde(default)]
    limits: RawLimits,
    tls: Option<RawTls>,
    #[serde(default)]
    tokens: Vec<RawToken>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    body_bytes: Option<Spanned<u64>>,
    entries_body_bytes: Option<Spanned<u64>>,
    header_timeout_ms: Option<Spanned<u64>>,
    body_timeout_ms: Option<Spanned<u64>>,
    max_concurrent: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: Spanned<PathBuf>,
    key: Spanned<PathBuf>,
    client_ca: Option<Spanned<PathBuf>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: Spanned<String>,
    sha256: Spanned<String>,
    scopes: Spanned<Vec<Scope>>,
}

/// The line and column (from 1) of byte `offset` of `text`
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before.get(nl + 1..).map_or(0, |s| s.chars().count())
    }) + 1;
    (line, column)
}

/// Builds the errors of one file
struct Errors<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Errors<'_> {
    fn at(&self, offset: usize, field: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, offset);
        ConfigError::Field {
            file: self.file.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The `[limits]` table, checked, with defaults
    fn limits(&self, l: &RawLimits) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let bytes = (1, 1 << 32);
        let ms = (1, 3_600_000);
        let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let as_ms = |t: Duration| u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        Ok(Limits {
            body_bytes: to_usize(self.limit(
                l.body_bytes.as_ref(),
                "limits.body_bytes",
                bytes,
                as_u64(d.body_bytes),
            )?),
            entries_body_bytes: to_usize(self.limit(
                l.entries_body_bytes.as_ref(),
                "limits.entries_body_bytes",
                bytes,
                as_u64(d.entries_body_bytes),
            )?),
            header_timeout: Duration::from_millis(self.limit(
                l.header_timeout_ms.as_ref(),
                "limits.header_timeout_ms",
                ms,
                as_ms(d.header_timeout),
            )?),
            body_timeout: Duration::from_millis(self.limit(
                l.body_timeout_ms.as_ref(),
                "limits.body_timeout_ms",
                ms,
                as_ms(d.body_timeout),
            )?),
            max_concurrent: to_usize(self.limit(
                l.max_concurrent.as_ref(),
                "limits.max_concurrent",
                (1, 1_000_000),
                as_u64(d.max_concurrent),
            )?),
        })
    }

    /// The `[[tokens]]`, checked: names and hashes unique, scopes present
    fn tokens(&self, raw: Vec<RawToken>) -> Result<Vec<Token>, ConfigError> {
        let mut tokens: Vec<Token> = Vec::with_capacity(raw.len());
        for (i, t) in raw.into_iter().enumerate() {
            let name = t.name.get_ref();
            if !valid_name(name) {
                return Err(self.at(
                    t.name.span().start,
                    &format!("tokens[{i}].name"),
                    format!(
                        "{name:?}: a name has 1 to 64 letters, digits, `-`, `_` or `.` (it is shown in logs)"
                    ),
                ));
            }
            if tokens.iter().any(|o| &o.name == name) {
                return Err(self.at(
                    t.name.span().start,
                    &format!("tokens[{i}].name"),
                    format!("{name:?} is the name of an earlier token"),
                ));
            }
            let Some(sha256) = parse_hex32(t.sha256.get_ref()) else {
                return Err(self.at(
                    t.sha256.span().start,
                    &format!("tokens[{i}].sha256"),
                    "not 64 hexadecimal digits (the value is not repeated: it may be a token \
                     pasted by mistake; `zorg-pdp-server hash-token` makes the line)",
                ));
            };
            if let Some(o) = tokens.iter().find(|o| o.sha256 == sha256) {
                return Err(self.at(
                    t.sha256.span().start,
                    &format!("tokens[{i}].sha256"),
                    format!("the same hash as token {:?}: one token, one name", o.name),
                ));
            }
            let mut scopes = t.scopes.get_ref().clone();
            if scopes.is_empty() {
                return Err(self.at(
                    t.scopes.span().start,
                    &format!("tokens[{i}].scopes"),
                    "[]: a token needs at least one scope (`decide`, `ingest`, `admin`)",
                ));
            }
            scopes.sort_unstable();
            scopes.dedup();
            tokens.push(Token {
                name: name.clone(),
                sha256,
                scopes,
            });
        }
        Ok(tokens)
    }

    /// A limit within `min..=max`, or its default
    fn limit(
        &self,
        value: Option<&Spanned<u64>>,
        field: &str,
        (min, max): (u64, u64),
        default: u64,
    ) -> Result<u64, ConfigError> {
        let Some(v) = value else {
            return Ok(default);
        };
        let n = *v.get_ref();
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(self.at(
                v.span().start,
                field,
                format!("{n} is out of range (from {min} to {max})"),
            ))
        }
    }
}

/// `name` rules: shown in logs, so a short plain word
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// 64 hexadecimal digits as 32 bytes
fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// Lower-case hexadecimal
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The SHA-256 of a token, as stored in the config
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Why a token is refused by [`check_token`]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Shorter than [`MIN_TOKEN_LEN`] or longer than [`MAX_TOKEN_LEN`]
    #[error(
        "a token has {MIN_TOKEN_LEN} to {MAX_TOKEN_LEN} characters (this one has {0}): use 32 random \
         bytes, e.g. `openssl rand -hex 32`"
    )]
    Length(usize),
    /// A character outside RFC 6750's `b64token`
    #[error(
        "a token holds only letters, digits and `-._~+/`, with `=` only at its end (RFC 6750 b64token)"
    )]
    Character,
}

/// Checks a token's form (its randomness cannot be checked): the length,
/// and RFC 6750's `b64token` characters, so it fits an `Authorization` header
pub fn check_token(token: &str) -> Result<(), TokenError> {
    let n = token.len();
    if !(MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&n) {
        return Err(TokenError::Length(n));
    }
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    if ok {
        Ok(())
    } else {
        Err(TokenError::Character)
    }
}

impl Config {
    /// Reads and checks the config file at `file`; relative paths in it are
    /// resolved against its folder
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_owned(),
            source,
        })?;
        Self::parse(&text, file)
    }

    /// Parses `text` read from `file`; relative paths are resolved against
    /// `file`'s folder
    pub fn parse(text: &str, file: &Path) -> Result<Self, ConfigError> {
        let errors = Errors { file, text };
        let de = toml::de::Deserializer::parse(text)
            .map_err(|e| errors.at(e.span().map_or(0, |s| s.start), "", e.message()))?;
        let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
            // `Spanned` shows in the path as a private field: not the user's
            let field = e
                .path()
                .to_string()
                .replace(".$__serde_spanned_private_value", "");
            let field = if field == "." { String::new() } else { field };
            let inner = e.into_inner();
            errors.at(inner.span().map_or(0, |s| s.start), &field, inner.message())
        })?;
        let folder = file.parent().unwrap_or(Path::new(""));
        let resolve = |p: &Path| folder.join(p);

        let limits = errors.limits(&raw.limits)?;
        let tls = raw.tls.map(|t| TlsFiles {
            cert: resolve(t.cert.get_ref()),
            key: resolve(t.key.get_ref()),
            client_ca: t.client_ca.map(|c| resolve(c.get_ref())),
        });

        let tokens = errors.tokens(raw.tokens)?;

        Ok(Self {
            file: Some(file.to_owned()),
            listen: raw.listen,
            postgres: raw.postgres,
            audit: raw.audit.map(|p| resolve(&p)),
            limits,
            tls,
            tokens,
        })
    }

    /// One line for the start message: the tokens by name and scope, TLS,
    /// the limits
    pub fn summary(&self) -> String {
        let tokens = if self.tokens.is_empty() {
            "no tokens".to_owned()
        } else {
            let list: Vec<String> = self
                .tokens
                .iter()
                .map(|t| {
                    let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                    format!("{} ({})", t.name, scopes.join(", "))
                })
                .collect();
            format!("{} token(s): {}", self.tokens.len(), list.join("; "))
        };
        let tls = match &self.tls {
            None => "no TLS",
            Some(t) if t.client_ca.is_some() => "TLS with client certificates (mutual TLS)",
            Some(_) => "TLS",
        };
        let l = &self.limits;
        format!(
            "{tokens}; {tls}; limits: body {} B, entries body {} B, head {} ms, body {} ms, {} in flight",
            l.body_bytes,
            l.entries_body_bytes,
            l.header_timeout.as_millis(),
            l.body_timeout.as_millis(),
            l.max_concurrent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/zorg/server.toml"))
    }

    fn field_error(text: &str) -> (usize, String, String, String) {
        match parse(text) {
            Err(e @ ConfigError::Field { .. }) => {
                let shown = e.to_string();
                let ConfigError::Field {
                    line,
                    field,
                    message,
                    ..
                } = e
                else {
                    unreachable!()
                };
                (line, field, message, shown)
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.limits.body_bytes, 64 * 1024);
        assert_eq!(c.limits.entries_body_bytes, 16 * 1024 * 1024);
        assert_eq!(c.limits.header_timeout, Duration::from_secs(5));
        assert_eq!(c.limits.body_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.max_concurrent, 512);
        assert!(c.tokens.is_empty() && c.tls.is_none() && c.listen.is_none());
    }

    #[test]
    fn every_key_is_read_and_paths_are_relative_to_the_file() {
        let c = parse(&format!(
            r#"
listen = "127.0.0.1:8443"
postgres = "postgres://zorg:secret@db.example/zorg"
audit = "audit.jsonl"

[limits]
body_bytes = 1000
entries_body_bytes = 2000
header_timeout_ms = 300
body_timeout_ms = 400
max_concurrent = 7

[tls]
cert = "server.pem"
key = "/abs/server.key"
client_ca = "ca.pem"

[[tokens]]
name = "ehr-a"
sha256 = "{HASH}"
scopes = ["decide", "ingest", "decide"]
"#
        ))
        .unwrap();
        assert_eq!(c.listen, Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(c.audit, Some(PathBuf::from("/etc/zorg/audit.jsonl")));
        assert_eq!(
            c.limits,
            Limits {
                body_bytes: 1000,
                entries_body_bytes: 2000,
                header_timeout: Duration::from_millis(300),
                body_timeout: Duration::from_millis(400),
                max_concurrent: 7,
            }
        );
        let tls = c.tls.clone().unwrap();
        assert_eq!(tls.cert, PathBuf::from("/etc/zorg/server.pem"));
        assert_eq!(tls.key, PathBuf::from("/abs/server.key"));
        assert_eq!(tls.client_ca, Some(PathBuf::from("/etc/zorg/ca.pem")));
        let t = c.tokens.first().unwrap();
        assert_eq!(t.name, "ehr-a");
        assert_eq!(hex(&t.sha256), HASH);
        assert_eq!(
            t.scopes,
            vec![Scope::Decide, Scope::Ingest],
            "sorted, once each"
        );
        assert!(
            c.summary().contains("ehr-a (decide, ingest)"),
            "{}",
            c.summary()
        );
    }

    #[test]
    fn debug_shows_no_hash_and_no_password() {
        let c = parse(&format!(
            "postgres = \"postgres://zorg:secret@db/zorg\"\n[[tokens]]\nname = \"a\"\nsha256 = \"{HASH}\"\nscopes = [\"admin\"]\n"
        ))
        .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains(HASH), "{d}");
        assert!(!d.contains("secret"), "{d}");
        assert!(d.contains("postgres://***@db/zorg"), "{d}");
        assert!(d.contains("name: \"a\""), "{d}");
        // The raw field stays whole for the feed
        assert_eq!(
            c.postgres.as_deref(),
            Some("postgres://zorg:secret@db/zorg")
        );
    }

    #[test]
    fn an_unknown_key_names_its_line_and_field() {
        let (line, field, message, shown) =
            field_error("[limits]\nbody_bytes = 10\nbody_byte = 5\n");
        assert_eq!(line, 3);
        assert_eq!(field, "limits.body_byte");
        assert!(message.contains("unknown field `body_byte`"), "{message}");
        assert!(
            shown.starts_with("/etc/zorg/server.toml:3:1: `limits.body_byte`: "),
            "{shown}"
        );

        let (line, _, message, _) = field_error("listen = \"127.0.0.1:1\"\nlisten_on = 1\n");
        assert_eq!(line, 2);
        assert!(message.contains("unknown field `listen_on`"), "{message}");
    }

    #[test]
    fn a_wrong_type_names_its_line_field_and_value() {
        let (line, field, message, _) =
            field_error("[limits]\nbody_bytes = 1\nmax_concurrent = \"many\"\n");
        assert_eq!((line, field.as_str()), (3, "limits.max_concurrent"));
        assert!(message.contains("\"many\""), "{message}");

        let (line, field, message, _) = field_error("listen = \"localhost:80:9\"\n");
        assert_eq!((line, field.as_str()), (1, "listen"));
        assert!(message.contains("socket address"), "{message}");
    }

    #[test]
    fn an_unknown_scope_names_the_item() {
        let (line, field, message, _) = field_error(&format!(
            "[[tokens]]\nname = \"a\"\nsha256 = \"{HASH}\"\nscopes = [\"decide\"]\n\n[[tokens]]\nname = \"b\"\nsha256 = \"{}\"\nscopes = [\"ingest\", \"root\"]\n",
            HASH.replace('9', "8")
        ));
        assert_eq!(line, 9);
        assert_eq!(field, "tokens[1].scopes[1]");
        assert!(message.contains("`root`"), "{message}");
        assert!(message.contains("`decide`, `ingest`, `admin`"), "{message}");
    }

    #[test]
    fn a_bad_hash_is_refused_without_repeating_it() {
        let pasted = "tok_3kJ8sZ1pQ9vN2mX7cR4tY6uB0wE5aD8fG1hL3oP7s";
        let (line, field, message, shown) = field_error(&format!(
            "[[tokens]]\nname = \"ehr-a\"\nsha256 = \"{pasted}\"\nscopes = [\"decide\"]\n"
        ));
        assert_eq!((line, field.as_str()), (3, "tokens[0].sha256"));
        assert!(
            !shown.contains(pasted) && !shown.contains("tok_3kJ8"),
            "{shown}"
        );
        assert!(message.contains("64 hexadecimal digits"), "{message}");
    }

    #[test]
    fn tokens_need_a_scope_a_fresh_name_and_a_fresh_hash() {
        let t = |name: &str, hash: &str, scopes: &str| {
            format!("[[tokens]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nscopes = {scopes}\n")
        };
        let other = HASH.replace('9', "7");
        let (line, field, _, _) = field_error(&t("a", HASH, "[]"));
        assert_eq!((line, field.as_str()), (4, "tokens[0].scopes"));
        let (line, field, m, _) =
            field_error(&(t("a", HASH, "[\"decide\"]") + &t("a", &other, "[\"admin\"]")));
        assert_eq!((line, field.as_str()), (6, "tokens[1].name"));
        assert!(m.contains("earlier token"), "{m}");
        let (line, field, m, _) =
            field_error(&(t("a", HASH, "[\"decide\"]") + &t("b", HASH, "[\"admin\"]")));
        assert_eq!((line, field.as_str()), (7, "tokens[1].sha256"));
        assert!(m.contains("\"a\""), "{m}");
        let (_, field, m, _) = field_error(&t("ehr a", HASH, "[\"decide\"]"));
        assert_eq!(field, "tokens[0].name");
        assert!(m.contains("\"ehr a\""), "{m}");
        let (line, field, m, _) = field_error("[[tokens]]\nname = \"a\"\nscopes = [\"decide\"]\n");
        assert_eq!((line, field.as_str()), (1, "tokens[0]"));
        assert!(m.contains("missing field `sha256`"), "{m}");
    }

    #[test]
    fn limits_out_of_range_name_the_value() {
        let (line, field, m, _) = field_error("[limits]\n\nheader_timeout_ms = 0\n");
        assert_eq!((line, field.as_str()), (3, "limits.header_timeout_ms"));
        assert!(m.contains("0 is out of range"), "{m}");
        let (_, field, m, _) = field_error("[limits]\nmax_concurrent = 0\n");
        assert_eq!(field, "limits.max_concurrent");
        assert!(m.contains('0'), "{m}");
        let (_, field, m, _) = field_error("[limits]\nbody_bytes = -1\n");
        assert_eq!(field, "limits.body_bytes");
        assert!(m.contains("-1"), "{m}");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let (line, field, _, shown) = field_error("listen = \"127.0.0.1:80\"\n[limits\n");
        assert_eq!(line, 2);
        assert_eq!(field, "");
        assert!(shown.starts_with("/etc/zorg/server.toml:2:"), "{shown}");
    }

    #[test]
    fn a_missing_file_names_it() {
        let e = Config::load(Path::new("/nonexistent/zorg.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/zorg.toml"), "{e}");
    }

    #[test]
    fn tokens_have_a_length_and_an_alphabet() {
        assert_eq!(check_token(&"a".repeat(42)), Err(TokenError::Length(42)));
        assert_eq!(check_token(&"a".repeat(43)), Ok(()));
        assert_eq!(check_token(&"a".repeat(513)), Err(TokenError::Length(513)));
        assert_eq!(check_token(&format!("{}=", "A/+b".repeat(11))), Ok(()));
        assert_eq!(
            check_token(&format!("{} x", "a".repeat(43))),
            Err(TokenError::Character)
        );
        assert_eq!(
            check_token(&format!("{}=a", "a".repeat(43))),
            Err(TokenError::Character)
        );
        assert_eq!(
            hex(&token_hash("test")),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        assert_eq!(parse_hex32(&HASH.to_uppercase()), parse_hex32(HASH));
        assert_eq!(parse_hex32(&HASH.replace('9', "g")), None);
    }

    #[test]
    fn urls_lose_their_user_information() {
        assert_eq!(redact_url("postgres://u:p@h/d"), "postgres://***@h/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
    }

    #[test]
    fn line_columns_count_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
