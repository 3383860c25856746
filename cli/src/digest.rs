//! `zorg-pdp digest`: the state digest of a world file (SPEC.md §8, R48,
//! R50) and its last applied position, so two replicas, or a replica and the
//! world it was fed, can be compared.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::output::Console;
use crate::{load_policies, world};

/// What `digest` takes
#[derive(Debug, Args)]
pub(crate) struct DigestArgs {
    /// The world: entities and events, as a scenario file (each accepted entity record and event
    /// takes the next position)
    #[arg(long)]
    world: PathBuf,
    /// Load the schema, policies and consent vocabulary from this folder instead of the shipped
    /// ones (the vocabulary decides which events are accepted)
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// `digest`: exit 0 with `{"seq": N, "state_digest": "sha256:…"}` on stdout;
/// 2 when the world or the policies are unusable
pub(crate) fn run(args: &DigestArgs, console: &mut Console) -> Result<ExitCode> {
    let engine = world(load_policies(args.policies.as_deref())?, &args.world)?;
    let out = serde_json::json!({
        "seq": engine.seq(),
        "state_digest": engine.state_digest(),
    });
    writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
    Ok(ExitCode::SUCCESS)
}
