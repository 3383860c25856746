//! `zorg-pdp fhir import` and `zorg-pdp fhir export` (SPEC.md §7.6,
//! `docs/fhir.md`): a Mitz notification Bundle → its events as JSON Lines,
//! and a patient's statements in force → a FHIR R4 Bundle.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use zorg_pdp::{MAX_FHIR_BUNDLE_LEN, PatientId, Scenario, Timestamp};

use crate::output::Console;

/// `fhir import` / `fhir export`
#[derive(Debug, Subcommand)]
pub(crate) enum FhirCommand {
    /// A Mitz notification (a FHIR R4 transaction Bundle of Consent-Mitz-Notify 3.8.x
    /// Consents) or a bundle `fhir export` wrote → its events as JSON Lines on stdout, one
    /// event a line, in the scenario files' event form; nothing is applied
    ///
    /// Patient and holder are found in the world by BSN and URA number. A notification is a
    /// full picture for its holder and data category: every requesting category it does not
    /// name becomes a `mitz_choice_cleared`. Any invalid part rejects the whole bundle: exit 2
    /// with the entry and the field named on stderr, nothing on stdout.
    Import(ImportArgs),
    /// A patient's consent statements in force as a FHIR R4 `collection` Bundle of Consents
    /// (pretty JSON on stdout), in the shape of a Mitz notification
    Export(ExportArgs),
}

/// `fhir import`
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The world: entities (with `bsn` and `ura`) and events, as a scenario file
    #[arg(long)]
    world: PathBuf,
    /// The Bundle (FHIR JSON; `-` reads stdin)
    file: PathBuf,
    /// Load the schema, policies and consent vocabulary from this folder instead of the shipped
    /// ones
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// `fhir export`
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The world: entities and events, as a scenario file
    #[arg(long)]
    world: PathBuf,
    /// The patient's id in the world
    #[arg(long)]
    patient: String,
    /// The statements in force at this time (RFC 3339); default: the latest event time of the
    /// world (the current time for a world without events)
    #[arg(long)]
    at: Option<String>,
    /// Load the schema, policies and consent vocabulary from this folder instead of the shipped
    /// ones
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// Runs a `fhir` subcommand
pub(crate) fn run(command: &FhirCommand, console: &mut Console) -> Result<ExitCode> {
    match command {
        FhirCommand::Import(args) => import(args, console),
        FhirCommand::Export(args) => export(args, console),
    }
}

/// Reads the bundle, at most one byte past the limit (the import names the
/// size then)
fn read_bundle(path: &Path) -> Result<String> {
    let limit = u64::try_from(MAX_FHIR_BUNDLE_LEN).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading the bundle from stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .with_context(|| format!("reading `{}`", path.display()))?;
    }
    String::from_utf8(bytes).with_context(|| format!("`{}` is not UTF-8", path.display()))
}

fn import(args: &ImportArgs, console: &mut Console) -> Result<ExitCode> {
    let engine = crate::world(crate::load_policies(args.policies.as_deref())?, &args.world)?;
    let text = read_bundle(&args.file)?;
    // Every event is made before the first line is written: a rejected
    // bundle leaves stdout empty
    let events = engine
        .fhir_import(&text)
        .with_context(|| format!("`{}`", args.file.display()))?;
    let mut out = String::new();
    for event in &events {
        out.push_str(&serde_json::to_string(event)?);
        out.push('\n');
    }
    console.out.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn export(args: &ExportArgs, console: &mut Console) -> Result<ExitCode> {
    let patient = PatientId::new(&args.patient).context("--patient")?;
    let at = match &args.at {
        Some(t) => Timestamp::parse(t).context("--at")?,
        None => latest_event(&args.world)?,
    };
    let engine = crate::world(crate::load_policies(args.policies.as_deref())?, &args.world)?;
    let bundle = engine.fhir_export(&patient, at)?;
    writeln!(console.out, "{}", serde_json::to_string_pretty(&bundle)?)?;
    Ok(ExitCode::SUCCESS)
}

/// The latest event time of a world file, or now when it has no events
fn latest_event(path: &Path) -> Result<Timestamp> {
    let text = zorg_pdp::scenario::read_file(path)?;
    let scenario = Scenario::parse(&text, path)?;
    if let Some(latest) = scenario.events.iter().map(|e| e.at).max() {
        return Ok(latest);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?;
    let secs = i64::try_from(now.as_secs()).context("the system clock")?;
    match Timestamp::from_unix(secs, now.subsec_nanos()) {
        Some(t) => Ok(t),
        None => bail!("the system clock is past the year 9999"),
    }
}
