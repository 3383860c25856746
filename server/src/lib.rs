//! `zorg-pdp-server`: the zorg-pdp engine as a service following the OpenID
//! AuthZEN Authorization API 1.0 (SPEC.md §9; `docs/server.md`).
//!
//! The core crate stays sync and I/O-free: this crate owns the HTTP layer
//! (tokio + axum). Decisions run on the engine directly in the request's
//! task (they take microseconds); entries, which wait for the journal's
//! fsync, run on tokio's blocking pool.
//!
//! The HTTP layer ([`app`]) answers through a [`decider::Decider`]: the
//! engine ([`zorg::ZorgDecider`]) in the service, or the AuthZEN
//! certification fixture ([`decider::FixtureDecider`]) in the conformance
//! tests, so both run the same handlers.

pub mod app;
pub mod audit_log;
pub mod auth;
pub mod authzen;
pub mod config;
pub mod consent;
pub mod decider;
pub mod guard;
pub mod listen;
pub mod metrics;
pub mod ops;
pub mod replica;
pub mod secure;
pub mod words;
pub mod zorg;

use std::path::Path;
use std::sync::Arc;

use zorg_pdp::{Engine, Scenario};

pub use app::{router, zorg_router};
pub use decider::{Decider, FixtureDecider};
pub use zorg::ZorgDecider;

/// A world file that could not be loaded
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The file did not read or parse, or an entity or event was refused
    #[error(transparent)]
    Scenario(#[from] zorg_pdp::ScenarioError),
}

/// Loads the world of a scenario file (its entities and events; its
/// expectations are ignored) into `decider`'s engine
pub fn load_world(decider: &ZorgDecider, path: &Path) -> Result<(), WorldError> {
    let text = zorg_pdp::scenario::read_file(path)?;
    let scenario = Scenario::parse(&text, path)?;
    scenario.load_into(decider.engine(), path, Some(&text))?;
    Ok(())
}

/// Serves `router` on `listener` until the future ends (never, unless the
/// listener fails), with the default header timeout and no TLS
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    listen::serve(
        listener,
        router,
        listen::Options::default(),
        std::future::pending(),
    )
    .await
}

/// Serves `router` on `listener` until `shutdown` completes: then stops
/// accepting and returns once the requests in flight are answered (the
/// default header timeout, no TLS; [`listen::serve`] takes options)
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(listener, router, listen::Options::default(), shutdown).await
}

/// A future that completes on SIGTERM or Ctrl-C (SIGINT), with the
/// handlers installed now, when this is called, not at its first poll: a
/// signal that arrives before the server polls its shutdown is kept, not
/// fatal. Call it inside the tokio runtime (with signals enabled) before
/// announcing that the server listens; outside a runtime, or where neither
/// signal can be watched, the future never completes
pub fn terminated() -> impl std::future::Future<Output = ()> + Send + 'static {
    let in_runtime = tokio::runtime::Handle::try_current().is_ok();
    #[cfg(unix)]
    let term = in_runtime
        .then(|| tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok())
        .flatten();
    #[cfg(unix)]
    let int = in_runtime
        .then(|| tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok())
        .flatten();
    #[cfg(not(unix))]
    let ctrl_c = in_runtime.then(|| Box::pin(tokio::signal::ctrl_c()));
    async move {
        #[cfg(unix)]
        {
            tokio::select! {
                () = received(term) => {}
                () = received(int) => {}
            }
        }
        #[cfg(not(unix))]
        match ctrl_c {
            Some(c) => {
                if c.await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// Completes when `signal` arrives (or its stream ends); never without one
#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// A decider over `engine`, ready for [`zorg_router`]
pub fn decider(engine: Engine) -> Arc<ZorgDecider> {
    Arc::new(ZorgDecider::new(Arc::new(engine)))
}
