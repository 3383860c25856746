//! `zorg-pdp-server --listen 127.0.0.1:8080 --data DIR [--policies DIR] [--world FILE]
//! [--config FILE] [--postgres URL] [--audit FILE [--audit-durability D]]`;
//! `zorg-pdp-server hash-token [--name N] [--scope S]… [--generate]`

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
#[command(name = "zorg-pdp-server", version, subcommand_negates_reqs = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The address to listen on (default: the config's `listen`, else
    /// 127.0.0.1:8080); a non-loopback address needs a config with tokens
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The configuration file (TOML): tokens, TLS, limits
    /// (docs/server-security.md)
    #[arg(long)]
    config: Option<PathBuf>,
    /// The data directory: every accepted entry is journaled there, and the
    /// state restored from it at start (created when absent)
    #[arg(long, required = true)]
    data: Option<PathBuf>,
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

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Prints the `[[tokens]]` entry of the token on standard input (or of a
    /// new one, with --generate) to paste into the config
    HashToken {
        /// The token's name in the config (shown in logs)
        #[arg(long, default_value = "client")]
        name: String,
        /// A scope of the token (repeat for several; default `decide`)
        #[arg(long = "scope", value_parser = ["decide", "ingest", "admin"])]
        scopes: Vec<String>,
        /// Makes a new random token (printed to standard error, for the
        /// client) instead of reading one
        #[arg(long)]
        generate: bool,
    },
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(Command::HashToken {
        name,
        scopes,
        generate,
    }) = &args.command
    {
        return hash_token(name, scopes, *generate);
    }
    let data = args.data.clone().context("--data DIR is required")?;
    let front = zorg_pdp_server::secure::Front::prepare(args.config.as_deref(), args.listen)?;
    for line in front.announce() {
        eprintln!("zorg-pdp-server: {line}");
    }
    // A flag wins over the config file's key
    let postgres = args
        .postgres
        .clone()
        .or_else(|| front.config.postgres.clone());
    let audit = args.audit.clone().or_else(|| front.config.audit.clone());
    if postgres.is_some() && args.world.is_some() {
        anyhow::bail!(
            "--world with --postgres: a replica takes its facts from the outbox only (write the world there)"
        );
    }
    let policies = match &args.policies {
        Some(d) => Policies::from_dir(d)
            .with_context(|| format!("loading policies from `{}`", d.display()))?,
        None => Policies::shipped()?,
    };
    let (engine, report) = zorg_pdp::Engine::open_with(&data, policies, StoreOptions::default())
        .with_context(|| format!("opening the data directory `{}`", data.display()))?;
    eprintln!(
        "zorg-pdp-server: data directory `{}` at position {} ({} entries replayed)",
        data.display(),
        report.seq,
        report.replayed
    );
    let decider = zorg_pdp_server::decider(engine);
    if let Some(world) = &args.world {
        load_world_once(&decider, world)?;
    }
    if let Some(path) = &audit {
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
        let listener = tokio::net::TcpListener::bind(front.listen)
            .await
            .with_context(|| format!("binding {}", front.listen))?;
        let bound = listener.local_addr()?;
        let scheme = front.scheme();
        let base_url = args
            .base_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{bound}"));
        // The signal handlers go in before the line that says the server
        // listens: a SIGTERM sent right after it is a graceful stop
        let shutdown = zorg_pdp_server::terminated();
        eprintln!(
            "zorg-pdp-server: listening on {scheme}://{bound} {}",
            front.mode()
        );
        let companions = zorg_pdp_server::ops::Companions::start(&decider, postgres.as_deref())
            .context("--postgres")?;
        if companions.feed().is_some() {
            eprintln!("zorg-pdp-server: replica of the PostgreSQL outbox (ready when caught up)");
        }
        let router =
            zorg_pdp_server::app::zorg_router_with(decider.clone(), &base_url, front.body_limits());
        front
            .serve(listener, router, shutdown)
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

/// `--world`: loaded into an empty data directory only
fn load_world_once(decider: &zorg_pdp_server::ZorgDecider, world: &std::path::Path) -> Result<()> {
    if decider.engine().seq() == 0 {
        zorg_pdp_server::load_world(decider, world)?;
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
    Ok(())
}

/// `zorg-pdp-server hash-token`
fn hash_token(name: &str, scopes: &[String], generate: bool) -> Result<()> {
    use zorg_pdp_server::config::Scope;
    let scopes: Vec<Scope> = scopes
        .iter()
        .map(|s| match s.as_str() {
            "ingest" => Scope::Ingest,
            "admin" => Scope::Admin,
            _ => Scope::Decide,
        })
        .collect();
    let out =
        zorg_pdp_server::secure::hash_token(name, &scopes, generate, &mut std::io::stdin().lock())?;
    if let Some(token) = &out.generated {
        eprintln!("the new token (give it to the client; it is stored nowhere): {token}");
    }
    print!("{}", out.entry);
    Ok(())
}
