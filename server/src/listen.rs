//! The accept loop: hyper's HTTP/1.1 server on each connection (so the
//! request head has a deadline, which `axum::serve` cannot set), TLS with
//! rustls when configured, and graceful shutdown (stop accepting, let the
//! requests in flight finish, close idle connections).

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::{Limits, TlsFiles};

/// How connections are served
#[derive(Clone)]
pub struct Options {
    /// The request head (and a TLS handshake) must arrive within this; an
    /// idle keep-alive connection is closed after it too
    pub header_timeout: Duration,
    /// TLS, when set
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("header_timeout", &self.header_timeout)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            header_timeout: Limits::default().header_timeout,
            tls: None,
        }
    }
}

/// The TLS files could not be used
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file did not read or held nothing usable
    #[error("{}: {what}: {message}", file.display())]
    File {
        /// The file
        file: PathBuf,
        /// `certificate`, `private key` or `client CA`
        what: &'static str,
        /// Why
        message: String,
    },
    /// rustls refused the certificate, key or CAs
    #[error("TLS ({}): {message}", file.display())]
    Config {
        /// The file of the refused part
        file: PathBuf,
        /// rustls' reason
        message: String,
    },
}

fn certificates(file: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |message: String| TlsError::File {
        file: file.to_owned(),
        what,
        message,
    };
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no `BEGIN CERTIFICATE` block".into()));
    }
    Ok(certs)
}

/// The rustls server configuration of `files` (ring as the crypto provider,
/// TLS 1.3 and 1.2, ALPN `http/1.1`); with `client_ca`, a client must
/// present a certificate chaining to one of its CAs
pub fn tls_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = certificates(&files.cert, "certificate")?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::File {
        file: files.key.clone(),
        what: "private key",
        message: e.to_string(),
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config {
            file: files.cert.clone(),
            message: e.to_string(),
        })?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certificates(ca, "client CA")? {
                roots.add(c).map_err(|e| TlsError::Config {
                    file: ca.clone(),
                    message: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Config {
                    file: ca.clone(),
                    message: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config {
            file: files.key.clone(),
            message: e.to_string(),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Whether an accept error concerns one connection only (the loop goes on
/// at once) rather than the listener (the loop pauses first)
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` until `shutdown` completes; then stops
/// accepting, closes idle connections, and returns once every request in
/// flight is answered
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Biased, the shutdown first: it is looked at on every turn, even
        // when connections keep arriving
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    let stopped = stopped.clone();
                    let timeout = options.header_timeout;
                    let acceptor = acceptor.clone();
                    connections.spawn(async move {
                        match acceptor {
                            None => connection(stream, router, timeout, stopped).await,
                            Some(acceptor) => {
                                let mut early = stopped.clone();
                                let handshake = tokio::time::timeout(timeout, acceptor.accept(stream));
                                tokio::select! {
                                    done = handshake => {
                                        if let Ok(Ok(tls)) = done {
                                            connection(tls, router, timeout, stopped).await;
                                        }
                                    }
                                    () = until_stopped(&mut early) => {}
                                }
                            }
                        }
                    });
                }
                Err(e) if per_connection(&e) => {}
                Err(_) => {
                    // Out of file descriptors, say: pause rather than spin
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One HTTP/1.1 connection, closed gracefully once `stopped` turns true
async fn connection<S>(
    stream: S,
    router: Router,
    timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = until_stopped(&mut stopped) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Completes once the shutdown is sent (or its sender gone)
async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}
