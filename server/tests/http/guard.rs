//! Who may call, and the limits: bearer tokens and scopes, body sizes,
//! header and body timeouts, the concurrency limit, TLS and mutual TLS,
//! and the binary's refusal to serve beyond loopback without tokens. Over
//! loopback only; every loop is bounded and every wait has a timeout.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zorg_pdp::Engine;
use zorg_pdp_server::config::{hex, token_hash};
use zorg_pdp_server::secure::Front;

use crate::client::{Server, TIMEOUT};

const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-world.toml");
const FEBRUARY: &str = "2026-02-01T12:00:00Z";

/// The three callers' tokens (64 characters, as `openssl rand -hex 32` makes)
const DECIDE: &str = "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";
const INGEST: &str = "1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e";
const ADMIN: &str = "adadadadadadadadadadadadadadadadadadadadadadadadadadadadadadadad";
/// Well-formed, but in no config
const UNKNOWN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn tokens() -> String {
    [
        ("ehr-a", DECIDE, "decide"),
        ("feed", INGEST, "ingest"),
        ("ops", ADMIN, "admin"),
    ]
    .iter()
    .fold(String::new(), |mut out, (name, token, scope)| {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "[[tokens]]\nname = \"{name}\"\nsha256 = \"{}\"\nscopes = [\"{scope}\"]\n\n",
            hex(&token_hash(token))
        );
        out
    })
}

/// A fresh folder under the target's temporary directory
fn folder(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("guard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` as `server.toml` in a fresh folder, returns its path
fn config_file(name: &str, text: &str) -> PathBuf {
    let path = folder(name).join("server.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The demo world behind the front of the config `text`, on 127.0.0.1:0
async fn guarded(name: &str, text: &str) -> Server {
    let path = config_file(name, text);
    start(&path).await
}

async fn start(config: &Path) -> Server {
    let front = Front::prepare(Some(config), Some("127.0.0.1:0".parse().unwrap())).unwrap();
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let router =
        zorg_pdp_server::app::zorg_router_with(decider, "http://127.0.0.1", front.body_limits());
    let listener = tokio::net::TcpListener::bind(front.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task =
        tokio::spawn(async move { front.serve(listener, router, std::future::pending()).await });
    Server::serving(addr, task)
}

fn view() -> String {
    json!({
        "subject": {"type": "practitioner", "id": "anna"},
        "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-sanne",
                     "properties": {"holder": "vp-noord", "category": "kraambed"}},
        "context": {"at": FEBRUARY, "mfa": true},
    })
    .to_string()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn post_as(s: &Server, path: &str, token: Option<&str>, body: &str) -> crate::client::Reply {
    send_as(s, "POST", path, token, body).await
}

/// A request with `X-Request-ID` and, when given, the bearer token
async fn send_as(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> crate::client::Reply {
    let auth = token.map(bearer);
    let mut headers = vec![("x-request-id", "req-guard-1")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let content_type = (method == "POST").then_some("application/json");
    s.send(method, path, content_type, &headers, body).await
}

fn header<'a>(r: &'a crate::client::Reply, name: &str) -> &'a str {
    r.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// 401 without a token and with an unknown one, 403 for a wrong scope, the
/// right scope answered; probes and the metadata open; every refusal JSON,
/// with its `WWW-Authenticate` and the `X-Request-ID` echoed
#[tokio::test]
async fn tokens_and_scopes() {
    let s = guarded("scopes", &tokens()).await;

    let r = post_as(&s, "/access/v1/evaluation", None, &view()).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(header(&r, "www-authenticate"), "Bearer realm=\"zorg-pdp\"");
    assert_eq!(header(&r, "x-request-id"), "req-guard-1");
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(r.json()["error"]["status"], json!(401));
    assert_eq!(r.json()["error"]["code"], json!("unauthorized"));

    let r = post_as(&s, "/access/v1/evaluation", Some(UNKNOWN), &view()).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        header(&r, "www-authenticate"),
        "Bearer realm=\"zorg-pdp\", error=\"invalid_token\""
    );
    assert!(
        !r.body.contains(UNKNOWN),
        "the token is not repeated: {}",
        r.body
    );
    assert_eq!(header(&r, "x-request-id"), "req-guard-1");

    let r = s
        .send(
            "POST",
            "/access/v1/evaluation",
            Some("application/json"),
            &[("authorization", &format!("Basic {DECIDE}"))],
            &view(),
        )
        .await;
    assert_eq!(r.status, 401, "another scheme: {}", r.body);
    assert!(header(&r, "www-authenticate").starts_with("Bearer realm=\"zorg-pdp\""));

    // A wrong scope: 403, the scope named
    for (path, token, needed) in [
        ("/access/v1/evaluation", INGEST, "decide"),
        ("/access/v1/evaluations", ADMIN, "decide"),
        ("/access/v1/search/resource", INGEST, "decide"),
        ("/v1/consent/check", INGEST, "decide"),
        ("/v1/entries", DECIDE, "ingest"),
        ("/v1/entries", ADMIN, "ingest"),
        ("/metrics", DECIDE, "admin"),
    ] {
        let r = post_as(&s, path, Some(token), "{}").await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(
            header(&r, "www-authenticate"),
            format!("Bearer realm=\"zorg-pdp\", error=\"insufficient_scope\", scope=\"{needed}\""),
            "{path}"
        );
        assert_eq!(
            r.json()["error"]["code"],
            json!("insufficient_scope"),
            "{path}"
        );
        assert_eq!(header(&r, "x-request-id"), "req-guard-1", "{path}");
    }

    // The right scope
    let r = post_as(&s, "/access/v1/evaluation", Some(DECIDE), &view()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["decision"], json!(true), "{}", r.body);
    assert_eq!(header(&r, "x-request-id"), "req-guard-1");
    let r = post_as(
        &s,
        "/v1/entries",
        Some(INGEST),
        r#"{"entity": {"patient": {"id": "guard-patient-1"}}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["entries"][0]["applied"], json!(true), "{}", r.body);
    // The admin scope passes the guard to the metrics
    let r = send_as(&s, "GET", "/metrics", Some(ADMIN), "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("zorg_pdp_decisions"), "{}", r.body);
    // An unlisted path needs admin: closed to the others
    let r = send_as(&s, "GET", "/nowhere", Some(DECIDE), "").await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Open without a token
    for path in ["/healthz", "/readyz", "/.well-known/authzen-configuration"] {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
}

/// Body limits from the config: 413 beyond them, below and above the
/// built-in 64 KiB
#[tokio::test]
async fn configured_body_limits_are_413_beyond() {
    let s = guarded(
        "limits",
        &format!(
            "[limits]\nbody_bytes = 100000\nentries_body_bytes = 1000\n\n{}",
            tokens()
        ),
    )
    .await;
    let pad = |n: usize| {
        format!(
            r#"{{"subject": {{"type": "practitioner", "id": "anna", "pad": "{}"}}}}"#,
            "x".repeat(n)
        )
    };
    // 80 KiB is over the built-in limit but under the configured one: read (and malformed)
    let r = post_as(&s, "/access/v1/evaluation", Some(DECIDE), &pad(80 * 1024)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = post_as(&s, "/access/v1/evaluation", Some(DECIDE), &pad(100_000)).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("limits.body_bytes"), "{}", r.body);
    assert_eq!(header(&r, "x-request-id"), "req-guard-1");

    let lines: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"entity": {{"patient": {{"id": "limit-patient-{i:03}"}}}}}}"#))
        .collect();
    let batch = lines.join("\n");
    assert!(batch.len() > 1000);
    let r = post_as(&s, "/v1/entries", Some(INGEST), &batch).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("limits.entries_body_bytes"), "{}", r.body);
    let small = lines.first().unwrap();
    let r = post_as(&s, "/v1/entries", Some(INGEST), small).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Without a declared length (chunked), the limit holds while reading
    let (status, _) = raw_exchange(
        s.addr,
        &format!(
            "POST /access/v1/evaluation HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DECIDE}\r\n\
             content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            100_001,
            "x".repeat(100_001)
        ),
    )
    .await;
    assert_eq!(status, Some(413));
}

/// Sends `request` whole, reads the answer until the server closes or 5 s
/// pass: the status, and whether it closed
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> (Option<u16>, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(request.as_bytes()).await;
    let (text, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    (status_of(&text), closed)
}

fn status_of(text: &str) -> Option<u16> {
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
}

/// Reads until EOF (or a reset) or `limit`: what came, and whether it ended
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(buf.get(..n).unwrap()),
        }
    }
}

/// A client sending its head a byte at a time is cut off after the header
/// timeout, long before it would finish
#[tokio::test]
async fn slow_headers_are_closed() {
    let s = guarded("slow-head", "[limits]\nheader_timeout_ms = 300\n").await;
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let head =
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: abcdefghijklmnopqrstuvwxyz0123456789\r\n\r\n";
    // One byte per 50 ms: the whole head would take over 4 s
    let trickle = tokio::spawn(async move {
        for b in head.bytes().take(200) {
            if writer.write_all(&[b]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    });
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(buf.get(..n).unwrap()),
            }
        }
    })
    .await;
    let took = started.elapsed();
    assert!(closed.is_ok(), "still open after 3 s");
    assert!(
        took >= Duration::from_millis(250),
        "closed before the timeout: {took:?}"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(
        !text.contains("200 OK"),
        "a head that never completed was answered: {text}"
    );
    trickle.abort();
    // A prompt client on the same server is still served
    assert_eq!(s.get("/healthz").await.status, 200);
}

/// A body that trickles is answered 408 and the connection closed
#[tokio::test]
async fn a_trickling_body_is_408() {
    let s = guarded(
        "trickle",
        &format!("[limits]\nbody_timeout_ms = 300\n\n{}", tokens()),
    )
    .await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /access/v1/evaluation HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DECIDE}\r\n\
         x-request-id: slow-body\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(buf.get(..n).unwrap()),
            }
        }
    })
    .await;
    trickle.abort();
    assert!(ended.is_ok(), "still open after 3 s");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250), "{took:?}");
    let text = String::from_utf8_lossy(&got).to_lowercase();
    assert_eq!(status_of(&text.to_uppercase()), Some(408), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(text.contains("x-request-id: slow-body"), "{text}");
    assert!(text.contains("limits.body_timeout_ms"), "{text}");
}

/// With `max_concurrent = 1`, one request held open (its body half sent)
/// makes the next one 503 with `Retry-After`; the probes still answer, and
/// once the first is done the next is served
#[tokio::test]
async fn beyond_max_concurrent_is_503() {
    let s = guarded(
        "concurrency",
        &format!(
            "[limits]\nmax_concurrent = 1\nbody_timeout_ms = 10000\n\n{}",
            tokens()
        ),
    )
    .await;
    let body = view();
    let (first, rest) = body.split_at(10);
    let mut held = TcpStream::connect(s.addr).await.unwrap();
    let request_head = format!(
        "POST /access/v1/evaluation HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DECIDE}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n{first}",
        body.len()
    );
    held.write_all(request_head.as_bytes()).await.unwrap();
    // hyper says `100 Continue` once the body is read, which the guard does
    // only after taking the one permit: from here the slot is taken
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    tokio::time::timeout(TIMEOUT, async {
        while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
            let n = held.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before 100 Continue");
            got.extend_from_slice(buf.get(..n).unwrap());
        }
    })
    .await
    .expect("no 100 Continue");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 100"),
        "{got:?}"
    );

    let r = post_as(&s, "/access/v1/evaluation", Some(DECIDE), &view()).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(header(&r, "retry-after"), "1");
    assert_eq!(header(&r, "x-request-id"), "req-guard-1");
    assert_eq!(r.json()["error"]["code"], json!("overloaded"));
    assert_eq!(
        s.get("/healthz").await.status,
        200,
        "probes are not counted"
    );

    // The held request completes and is answered
    held.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(TIMEOUT, async {
        while !String::from_utf8_lossy(&answer).contains("\"decision\"") {
            let n = held.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the answer");
            answer.extend_from_slice(buf.get(..n).unwrap());
        }
    })
    .await
    .expect("the held request was not answered");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    drop(held);

    // The slot is free again (bounded retries: the permit is released as
    // the held answer is written, a moment before the client reads it)
    let mut status = 0;
    for _ in 0..50 {
        status = post_as(&s, "/access/v1/evaluation", Some(DECIDE), &view())
            .await
            .status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 200);
}

/// A CA, a server certificate for 127.0.0.1 and localhost, and a client
/// certificate, as PEM files in `dir`; a second CA's client certificate too
fn certificates(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    };
    let leaf = |sans: Vec<String>, usage, issuer: &CertifiedIssuer<'_, KeyPair>, stem: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(sans).unwrap();
        p.distinguished_name.push(DnType::CommonName, stem);
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, issuer).unwrap();
        std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
    };
    let root = ca("zorg test CA");
    std::fs::write(dir.join("ca.pem"), root.pem()).unwrap();
    leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        &root,
        "server",
    );
    leaf(vec![], ExtendedKeyUsagePurpose::ClientAuth, &root, "client");
    let other = ca("another CA");
    leaf(
        vec![],
        ExtendedKeyUsagePurpose::ClientAuth,
        &other,
        "stranger",
    );
}

fn pem_certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_file_iter(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A TLS client trusting `dir/ca.pem`, presenting `dir/<stem>.pem` if given
fn tls_client(dir: &Path, identity: Option<&str>) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(&dir.join("ca.pem")) {
        roots.add(c).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(stem) => builder
            .with_client_auth_cert(
                pem_certs(&dir.join(format!("{stem}.pem"))),
                PrivateKeyDer::from_pem_file(dir.join(format!("{stem}.key"))).unwrap(),
            )
            .unwrap(),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One request over TLS: the status and body, or why it failed
async fn tls_request(
    addr: std::net::SocketAddr,
    connector: &tokio_rustls::TlsConnector,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let exchange = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        let driver = tokio::spawn(conn);
        let mut b = hyper::Request::builder()
            .method(if body.is_some() { "POST" } else { "GET" })
            .uri(path)
            .header("host", "localhost");
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        if let Some(t) = token {
            b = b.header("authorization", bearer(t));
        }
        let request = b
            .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
            .unwrap();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        driver.abort();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// TLS from `[tls]` (paths relative to the config file); then mutual TLS:
/// a client without a certificate, or with one of another CA, refused; one
/// with a certificate of `client_ca` served
#[tokio::test]
async fn tls_and_mutual_tls() {
    let dir = folder("tls");
    certificates(&dir);
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\n\n{}",
            tokens()
        ),
    )
    .unwrap();
    let s = start(&config).await;
    let anonymous = tls_client(&dir, None);
    let (status, body) = tls_request(s.addr, &anonymous, "/healthz", None, None)
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = tls_request(
        s.addr,
        &anonymous,
        "/access/v1/evaluation",
        Some(DECIDE),
        Some(&view()),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["decision"],
        json!(true)
    );
    let (status, _) = tls_request(
        s.addr,
        &anonymous,
        "/access/v1/evaluation",
        None,
        Some(&view()),
    )
    .await
    .unwrap();
    assert_eq!(status, 401, "tokens still apply over TLS");
    // Plain HTTP to the TLS port is not answered in HTTP
    let (status, closed) = raw_exchange(s.addr, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert_eq!(status, None);
    assert!(closed);
    drop(s);

    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\n\n{}",
            tokens()
        ),
    )
    .unwrap();
    let s = start(&config).await;
    let refused = tls_request(s.addr, &anonymous, "/healthz", None, None).await;
    assert!(
        refused.is_err(),
        "a client without a certificate: {refused:?}"
    );
    let stranger = tls_client(&dir, Some("stranger"));
    let refused = tls_request(s.addr, &stranger, "/healthz", None, None).await;
    assert!(refused.is_err(), "a certificate of another CA: {refused:?}");
    let known = tls_client(&dir, Some("client"));
    let (status, _) = tls_request(s.addr, &known, "/healthz", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, body) = tls_request(
        s.addr,
        &known,
        "/access/v1/evaluation",
        Some(DECIDE),
        Some(&view()),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    drop(s);

    // A missing key file is named at start
    std::fs::write(
        &config,
        "[tls]\ncert = \"server.pem\"\nkey = \"nope.key\"\n",
    )
    .unwrap();
    let e = Front::prepare(Some(&config), None).unwrap_err().to_string();
    assert!(e.contains("nope.key") && e.contains("private key"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary: no non-loopback address without tokens (checked before
/// anything binds, so nothing beyond loopback is ever bound here), config
/// errors by file, line and field; `hash-token` makes an entry the server
/// takes, and a configured server asks for it
#[tokio::test]
async fn the_binary_guards_its_door() {
    let bin = env!("CARGO_BIN_EXE_zorg-pdp-server");
    let dir = folder("binary");
    let run = |args: Vec<String>| async move {
        let out = tokio::time::timeout(
            TIMEOUT,
            tokio::process::Command::new(bin).args(args).output(),
        )
        .await
        .expect("the binary did not exit")
        .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let data = dir.join("data").display().to_string();

    let (ok, err) = run(vec![
        "--listen".into(),
        "0.0.0.0:0".into(),
        "--data".into(),
        data.clone(),
    ])
    .await;
    assert!(!ok);
    assert!(
        err.contains("--listen 0.0.0.0:0") && err.contains("loopback"),
        "{err}"
    );
    assert!(err.contains("[[tokens]]"), "{err}");

    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "[limits]\nmax_concurrent = 4\n").unwrap();
    let (ok, err) = run(vec![
        "--listen".into(),
        "[::]:0".into(),
        "--data".into(),
        data.clone(),
        "--config".into(),
        empty.display().to_string(),
    ])
    .await;
    assert!(!ok);
    assert!(
        err.contains("empty.toml") && err.contains("has no tokens"),
        "{err}"
    );

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"0.0.0.0:0\"\n\n[limits]\nbody_bytes = \"big\"\n",
    )
    .unwrap();
    let (ok, err) = run(vec![
        "--data".into(),
        data.clone(),
        "--config".into(),
        bad.display().to_string(),
    ])
    .await;
    assert!(!ok);
    assert!(
        err.contains("bad.toml:4:")
            && err.contains("`limits.body_bytes`")
            && err.contains("\"big\""),
        "{err}"
    );
    assert!(
        !dir.join("data").exists(),
        "refused before the data directory is opened"
    );

    // hash-token: the entry of the token on stdin
    let mut child = tokio::process::Command::new(bin)
        .args(["hash-token", "--name", "ehr-a", "--scope", "decide"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{DECIDE}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let entry = String::from_utf8(out.stdout).unwrap();
    assert!(entry.contains(&hex(&token_hash(DECIDE))), "{entry}");
    assert!(!entry.contains(DECIDE), "{entry}");

    // The server with that entry asks for the token
    let config = dir.join("server.toml");
    std::fs::write(&config, &entry).unwrap();
    let mut child = tokio::process::Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data",
            &data,
            "--world",
            WORLD,
            "--config",
        ])
        .arg(&config)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let (addr, said) = tokio::time::timeout(TIMEOUT, async {
        let mut said = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            said.push_str(&line);
            said.push('\n');
            if let Some(rest) = line.strip_prefix("zorg-pdp-server: listening on http://") {
                return (rest.split_whitespace().next().unwrap().to_owned(), said);
            }
        }
        panic!("the server ended before listening: {said}");
    })
    .await
    .expect("the server did not start in time");
    assert!(said.contains("1 token(s): ehr-a (decide)"), "{said}");
    assert!(said.contains("(bearer tokens required)"), "{said}");
    assert!(!said.contains(&hex(&token_hash(DECIDE))), "{said}");
    let client = Server::client_for(addr.parse().unwrap());
    assert_eq!(
        client.post("/access/v1/evaluation", &view()).await.status,
        401
    );
    let r = post_as(&client, "/access/v1/evaluation", Some(DECIDE), &view()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Graceful shutdown through the accept loop: once it is asked to stop,
/// nothing new is accepted, an idle keep-alive connection is closed, and a
/// request in flight (its body half sent) is still answered before `serve`
/// returns
#[tokio::test]
async fn shutdown_finishes_what_is_in_flight() {
    let path = config_file("shutdown", &tokens());
    let front = Front::prepare(Some(&path), Some("127.0.0.1:0".parse().unwrap())).unwrap();
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let router =
        zorg_pdp_server::app::zorg_router_with(decider, "http://127.0.0.1", front.body_limits());
    let listener = tokio::net::TcpListener::bind(front.listen).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        front
            .serve(listener, router, async {
                let _ = stopped.await;
            })
            .await
    });

    // An idle keep-alive connection, after one answered request
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(TIMEOUT, idle.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(buf.get(..n).unwrap()).starts_with("HTTP/1.1 200"));

    // A request in flight: its head and half its body
    let body = view();
    let (first, rest) = body.split_at(20);
    let mut held = TcpStream::connect(addr).await.unwrap();
    held.write_all(
        format!(
            "POST /access/v1/evaluation HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DECIDE}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\r\n{first}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let n = tokio::time::timeout(TIMEOUT, held.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(buf.get(..n).unwrap()).starts_with("HTTP/1.1 100"));

    stop.send(()).unwrap();
    // The idle connection is closed
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(closed, "the idle connection stayed open");
    // Nothing new is accepted (bounded: the listener closes as the loop ends)
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "still accepting after the shutdown");
    assert!(!serving.is_finished(), "returned with a request in flight");
    // The request in flight is finished and answered
    held.write_all(rest.as_bytes()).await.unwrap();
    let (answer, closed) = read_until_closed(&mut held, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"decision\":true"), "{answer}");
    assert!(closed, "the connection is closed after its last answer");
    let done = tokio::time::timeout(TIMEOUT, serving)
        .await
        .unwrap()
        .unwrap();
    assert!(done.is_ok(), "{done:?}");
}
