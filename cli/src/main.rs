//! `zorg-pdp`: run scenario files, take decisions, show dashboards and read
//! audit logs from the command line. Exit codes and the handling of a closed
//! pipe are in `docs/cli.md`.

mod audit_log;
mod authoring;
mod consent;
mod data;
mod diagnostics;
mod diff;
mod digest;
mod explain;
mod fhir;
mod junit;
mod matrix;
mod output;
mod prove;
mod test_run;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use zorg_pdp::{DashboardQuery, Engine, Policies, Reason, Request, Scenario};

use audit_log::OverviewArgs;
use authoring::{FmtArgs, ValidateArgs};
use output::Console;
use test_run::TestArgs;

/// zorg-pdp: policy decisions for sharing patient data in Dutch care networks
#[derive(Debug, Parser)]
#[command(name = "zorg-pdp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files (*.toml, *.json) under the given files or folders
    Test(TestArgs),
    /// Load and check a policy set (every load-time check) and, optionally, scenario files
    /// against it: exit 0, or 2 with every error at its file, line and column
    Validate(ValidateArgs),
    /// Format policy files with Cedar's own formatter, in place (`--check`: change nothing,
    /// exit 1 listing the files that would change)
    Fmt(FmtArgs),
    /// Decide one request against a world file (a scenario without expectations)
    Decide {
        /// The world: entities and events, as a scenario file
        #[arg(long)]
        world: PathBuf,
        /// The request as JSON (SPEC.md §4), or @FILE to read it from a file
        #[arg(long)]
        request: String,
        /// Load the schema and policies from this folder instead of the shipped ones
        #[arg(long)]
        policies: Option<PathBuf>,
    },
    /// Decide one request and say why: every policy that fired or could have, and the facts
    /// the policies saw, in words
    Explain {
        /// The world: entities and events, as a scenario file
        #[arg(long)]
        world: PathBuf,
        /// The request as JSON (SPEC.md §4), or @FILE to read it from a file
        #[arg(long)]
        request: String,
        /// Load the schema and policies from this folder instead of the shipped ones
        #[arg(long)]
        policies: Option<PathBuf>,
        /// text (for a person) or json
        #[arg(long, value_enum, default_value = "text")]
        format: explain::Format,
    },
    /// Show a practitioner's dashboard of a patient against a world file
    Dashboard {
        /// The world: entities and events, as a scenario file
        #[arg(long)]
        world: PathBuf,
        /// The dashboard query as JSON (SPEC.md §4), or @FILE
        #[arg(long)]
        query: String,
        /// Load the schema and policies from this folder instead of the shipped ones
        #[arg(long)]
        policies: Option<PathBuf>,
    },
    /// The consent questions (SPEC.md §7.5) against a world file: `check` (the Mitz closed
    /// question), `locate` (the open question), `overview` (every statement in force)
    Consent {
        #[command(subcommand)]
        command: consent::ConsentCommand,
    },
    /// Print the JSON Schema of a wire type (events, requests, responses, ...), or list them
    Schema {
        /// The schema's name; without it, the names are listed
        name: Option<String>,
    },
    /// The effective role x category matrix, as the engine decides it (R5, R6, R12)
    ///
    /// One table per situation: the own organisation's dossier, and another holder's with
    /// consent and access request. Each cell is `allow` or the deny reasons. Exit 0, or 2
    /// when the policies do not load.
    Matrix(matrix::MatrixArgs),
    /// The change impact of a policy edit: every abstract input whose decision or reasons differ
    ///
    /// Abstract inputs are the finite space Cedar's answer depends on (action, principal kind,
    /// role, tasks, mfa, purpose, source, category, module, facts, id-equality pattern). The
    /// differing ones are listed in groups, each with its count. Exit status: 0 when no
    /// abstract input differs, 1 when some do, 2 when a folder does not load.
    Diff(diff::DiffArgs),
    /// Audit logs (NEN 7513): verify the hash chain, show a patient's access overview
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Prove the policies' properties for every input the schema admits (symcc and cvc5)
    ///
    /// Every request and entity store the schema admits, with Cedar's symbolic compiler and the
    /// cvc5 SMT solver; a property that fails is shown with a counterexample. Exit 0: all
    /// proved; 1: a property fails; 2: unusable input, no solver, or no answer. See docs/prove.md.
    Prove(prove::ProveArgs),
    /// FHIR R4: import a Mitz notification Bundle as events, export a patient's consent
    /// statements as a Bundle (SPEC.md §7.6, docs/fhir.md)
    Fhir {
        #[command(subcommand)]
        command: fhir::FhirCommand,
    },
    /// The state digest of a world and its last applied position (SPEC.md §8): two engines that
    /// applied the same entries print the same
    Digest(digest::DigestArgs),
    /// The embedded data directory (SPEC.md §8, docs/durability.md): import log entries into it,
    /// write a snapshot, verify it read-only (snapshot, journal, torn tail, position, digest)
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify an audit log's hash chain: exit 0 when intact, 1 naming the first bad seq
    Verify {
        /// The audit log (JSON Lines)
        file: PathBuf,
    },
    /// Every allowed access to a patient's data, newest first
    ///
    /// Reading the log is itself a `view_access_log` decision, logged to FILE
    /// before anything is shown; a denied reader gets the reasons and exit 1.
    /// A log whose chain does not verify is refused (exit 1, naming the first
    /// bad seq): nothing is shown and nothing is appended to it.
    Overview(OverviewArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut console = Console::new();
    let code = match run(cli, &mut console) {
        Ok(code) => code,
        Err(e) => {
            // Nowhere left to report a failing stderr
            let _ = diagnostics::report(&e, &mut console.err);
            ExitCode::from(2)
        }
    };
    // What is buffered goes now; a closed pipe is silent, and the exit code
    // stays the command's own
    if let Err(e) = console.out.flush() {
        let _ = writeln!(console.err, "error: writing to stdout: {e}");
        return ExitCode::from(2);
    }
    code
}

fn load_policies(dir: Option<&Path>) -> Result<Policies> {
    Ok(match dir {
        Some(d) => Policies::from_dir(d)
            .with_context(|| format!("loading policies from `{}`", d.display()))?,
        None => Policies::shipped()?,
    })
}

/// An argument's text, or the text of the file it names with `@FILE`, and
/// what to call it in an error
fn arg_text(arg: &str, name: &str) -> Result<(String, String)> {
    match arg.strip_prefix('@') {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading `{path}`"))?;
            Ok((text, format!("`{path}`")))
        }
        None => Ok((arg.to_owned(), name.to_owned())),
    }
}

/// An engine with `policies` and the world of a scenario file (read with the
/// size limit of [`Scenario::load`])
fn world(policies: Policies, path: &Path) -> Result<Engine> {
    let text = zorg_pdp::scenario::read_file(path)?;
    let scenario = Scenario::parse(&text, path)?;
    let engine = Engine::with_policies(policies);
    scenario.load_into(&engine, path, Some(&text))?;
    Ok(engine)
}

fn explain(reasons: &[Reason]) -> serde_json::Value {
    reasons
        .iter()
        .map(|r| serde_json::json!({ "code": r.as_str(), "text": r.explain() }))
        .collect()
}

fn run(cli: Cli, console: &mut Console) -> Result<ExitCode> {
    match cli.command {
        Command::Schema { name } => schema(name.as_deref(), console),
        Command::Test(args) => test_run::test(&args, console),
        Command::Validate(args) => authoring::validate(&args, console),
        Command::Fmt(args) => authoring::fmt(&args, console),
        Command::Decide {
            world: path,
            request,
            policies,
        } => {
            let engine = world(load_policies(policies.as_deref())?, &path)?;
            let (text, name) = arg_text(&request, "--request")?;
            let request = Request::from_json(&text).with_context(|| name.clone())?;
            // A category or module the policies do not know is a typo, not a deny
            engine
                .policies()
                .vocabulary()
                .check_request(&request)
                .with_context(|| name.clone())?;
            let response = engine.decide(&request);
            let mut out = serde_json::to_value(&response)?;
            if let Some(obj) = out.as_object_mut() {
                obj.insert("explanation".into(), explain(&response.reasons));
            }
            writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain {
            world,
            request,
            policies,
            format,
        } => explain::run(&world, &request, policies.as_deref(), format, console),
        Command::Dashboard {
            world: path,
            query,
            policies,
        } => {
            let engine = world(load_policies(policies.as_deref())?, &path)?;
            // A dashboard query names no category or module: nothing to check
            // against the vocabulary
            let (text, name) = arg_text(&query, "--query")?;
            let query = DashboardQuery::from_json(&text).with_context(|| name.clone())?;
            let answer = engine.dashboard(&query)?;
            let mut out = serde_json::to_value(&answer)?;
            if let Some(holders) = out.get_mut("holders").and_then(|h| h.as_array_mut()) {
                for (h, view) in holders.iter_mut().zip(&answer.holders) {
                    if let Some(obj) = h.as_object_mut() {
                        obj.insert("explanation".into(), explain(&view.reasons));
                    }
                }
            }
            writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
            // A stale answer (R47) shows nothing on purpose and says why
            if answer.holders.is_empty() && answer.modules.is_empty() && answer.reasons.is_empty() {
                bail!("the dashboard is empty: the patient has no holders yet");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Consent { command } => consent::run(&command, console),
        Command::Matrix(args) => matrix::run(&args, console),
        Command::Diff(args) => diff::run(&args, console),
        Command::Audit {
            command: AuditCommand::Verify { file },
        } => audit_log::verify(&file, console),
        Command::Audit {
            command: AuditCommand::Overview(args),
        } => audit_log::overview(&args, console),
        Command::Prove(args) => prove::run(&args, console),
        Command::Fhir { command } => fhir::run(&command, console),
        Command::Digest(args) => digest::run(&args, console),
        Command::Data { command } => data::run(&command, console),
    }
}

/// `schema [NAME]`
fn schema(name: Option<&str>, console: &mut Console) -> Result<ExitCode> {
    let Some(name) = name else {
        for n in zorg_pdp::schema::names() {
            writeln!(console.out, "{n}")?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(schema) = zorg_pdp::schema::by_name(name) else {
        let known: Vec<&str> = zorg_pdp::schema::names().collect();
        bail!("no schema `{name}`; known: {}", known.join(", "))
    };
    writeln!(console.out, "{}", serde_json::to_string_pretty(&schema)?)?;
    Ok(ExitCode::SUCCESS)
}
