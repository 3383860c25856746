//! `zorg-pdp-server --listen 127.0.0.1:8080 --data DIR [--policies DIR] [--world FILE]
//! [--postgres URL] [--audit FILE [--audit-durability D]]`

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use zorg_pdp::Policies;
use zorg_pdp::audit::Durability;
use zorg_pdp::store::StoreOptions;
use zorg_pdp_server::audit_log::{self, AuditLog};

/// mimalloc: a decision over HTTP allocates dozens of small JSON values, and
/// glibc's allocator costs about a quarter of the service's throughput
/// (`server/examples/load.rs`, docs/server.md)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The zorg-pdp engine over the OpenID AuthZEN Authorization API 1.0
#[derive(Debug, Parser)]
#[command(name = "zorg-pdp-server", version)]
struct Args {
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The data directory: every accepted entry is journaled there, and the
    /// state restored from it at start (created when absent)
    #[arg(long)]
    data: PathBuf,
    /// A policy directory instead of the shipped policies
    #[arg(long)]
    policies: Option<PathBuf>,
    /// A world (a scenario file's entities and events) loaded into an empty
    /// data directory, such as `server/demo-world.toml`
    #[arg(long)]
    world: Option<PathBuf>,
    /// The base URL the metadata names (`policy_decision_point`); default
    /// `http://` and the listen address
    #[arg(long)]
    base_url: Option<String>,
    /// Run as a replica: apply the PostgreSQL outbox at this URL
    /// (`postgresql://user@host:port/db`); `/readyz` is 200 only when caught
    /// up, and `/v1/entries` is refused (409)
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Write the audit log (SPEC.md §6) to this JSON Lines file, continuing
    /// an existing one; flushed and synced on shutdown
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// When the audit log is synced: `every-record`, `every-N` (and every
    /// second) or `on-flush` (on shutdown only)
    #[arg(long, value_name = "D", default_value = audit_log::DEFAULT_DURABILITY,
          value_parser = audit_log::parse_durability)]
    audit_durability: Durability,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--listen {}: this version serves loopback addresses only (no tokens or TLS yet)",
            args.listen
        );
    }
    if args.postgres.is_some() && args.world.is_some() {
        anyhow::bail!(
            "--world with --postgres: a replica takes its facts from the outbox only (write the world there)"
        );
    }
    let policies = match &args.policies {
        Some(d) => Policies::from_dir(d)
            .with_context(|| format!("loading policies from `{}`", d.display()))?,
        None => Policies::shipped()?,
    };
    let (engine, report) =
        zorg_pdp::Engine::open_with(&args.data, policies, StoreOptions::default())
            .with_context(|| format!("opening the data directory `{}`", args.data.display()))?;
    eprintln!(
        "zorg-pdp-server: data directory `{}` at position {} ({} entries replayed)",
        args.data.display(),
        report.seq,
        report.replayed
    );
    let decider = zorg_pdp_server::decider(engine);
    if let Some(world) = &args.world {
        if decider.engine().seq() == 0 {
            zorg_pdp_server::load_world(&decider, world)?;
            eprintln!(
                "zorg-pdp-server: loaded the world `{}` (position {})",
                world.display(),
                decider.engine().seq()
            );
        } else {
            eprintln!(
                "zorg-pdp-server: the data directory is not empty; the world `{}` is not loaded again",
                world.display()
            );
        }
    }
    if let Some(path) = &args.audit {
        let (log, opened) = AuditLog::open(path, args.audit_durability)
            .with_context(|| format!("opening the audit log `{}`", path.display()))?;
        eprintln!(
            "zorg-pdp-server: audit log `{}`: {opened} (synced {})",
            path.display(),
            audit_log::describe(args.audit_durability)
        );
        decider.attach_audit(log);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let bound = listener.local_addr()?;
        let base_url = args
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"));
        eprintln!("zorg-pdp-server: listening on http://{bound} (loopback only, no tokens)");
        let companions =
            zorg_pdp_server::ops::Companions::start(&decider, args.postgres.as_deref())
                .context("--postgres")?;
        if companions.feed().is_some() {
            eprintln!("zorg-pdp-server: replica of the PostgreSQL outbox (ready when caught up)");
        }
        let router = zorg_pdp_server::zorg_router(decider.clone(), &base_url);
        zorg_pdp_server::serve_until(listener, router, zorg_pdp_server::terminated())
            .await
            .context("serving")?;
        // In-flight requests are answered: stop the feed, sync the journal
        // and the audit log before leaving
        let stopped = companions.stop(&decider).await.context("stopping")?;
        let audit = stopped
            .audit_last_seq
            .map(|s| format!(", audit log synced at seq {s}"))
            .unwrap_or_default();
        eprintln!(
            "zorg-pdp-server: stopped at position {} (journal synced{audit})",
            stopped.seq
        );
        Ok(())
    })
}
