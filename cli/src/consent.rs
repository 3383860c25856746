//! `zorg-pdp consent check|locate|overview`: the consent questions of
//! SPEC.md §7.5 against a world file, answered as JSON.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use zorg_pdp::{ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery};

use crate::output::Console;
use crate::{arg_text, load_policies, world};

/// The consent questions
#[derive(Debug, Subcommand)]
pub(crate) enum ConsentCommand {
    /// The closed question: per data category, may the holder make the patient's data available
    /// to the requester? (permit, no_choice, refused or indeterminate, with the statements that
    /// decided)
    Check(QueryArgs),
    /// The open question: the holders where the requester may find data, with the data
    /// categories permitted there
    Locate(QueryArgs),
    /// Every consent statement in force for the patient, and the resolved answer per holder,
    /// requesting category and data category
    Overview(QueryArgs),
}

/// What every consent question takes
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The world: entities and events, as a scenario file
    #[arg(long)]
    world: PathBuf,
    /// The question as JSON (SPEC.md §7.5), or @FILE to read it from a file
    #[arg(long)]
    query: String,
    /// Load the schema, policies and consent vocabulary from this folder instead of the shipped
    /// ones
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// `consent check|locate|overview`: exit 0 with the answer on stdout; 2 when
/// the world, the policies or the question is unusable (an unknown id names
/// its field)
pub(crate) fn run(command: &ConsentCommand, console: &mut Console) -> Result<ExitCode> {
    let (ConsentCommand::Check(args)
    | ConsentCommand::Locate(args)
    | ConsentCommand::Overview(args)) = command;
    let engine = world(load_policies(args.policies.as_deref())?, &args.world)?;
    let (text, name) = arg_text(&args.query, "--query")?;
    let answer = match command {
        ConsentCommand::Check(_) => {
            let query = ConsentCheckQuery::from_json(&text).with_context(|| name.clone())?;
            serde_json::to_value(engine.consent_check(&query).with_context(|| name.clone())?)?
        }
        ConsentCommand::Locate(_) => {
            let query = ConsentLocateQuery::from_json(&text).with_context(|| name.clone())?;
            serde_json::to_value(
                engine
                    .consent_locate(&query)
                    .with_context(|| name.clone())?,
            )?
        }
        ConsentCommand::Overview(_) => {
            let query = ConsentOverviewQuery::from_json(&text).with_context(|| name.clone())?;
            serde_json::to_value(
                engine
                    .consent_overview(&query)
                    .with_context(|| name.clone())?,
            )?
        }
    };
    writeln!(console.out, "{}", serde_json::to_string_pretty(&answer)?)?;
    Ok(ExitCode::SUCCESS)
}
