//! `zorg-pdp`: run scenario files, take decisions, show dashboards and read
//! audit logs from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use zorg_pdp::audit::{self, AuditSink as _, Durability, FileSink, OverviewEntry, PrincipalKind};
use zorg_pdp::{
    Action, DashboardQuery, Engine, Patient, PatientId, Policies, PractitionerId, Principal,
    Reason, Request, Scenario, Timestamp,
};

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
    Test {
        /// Load the schema and policies from this folder instead of the shipped ones
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Report, per policy, how many expectations it determined, and the policies none reached
        #[arg(long)]
        coverage: bool,
        /// Append the audit record of every decision the scenarios make to this JSON Lines
        /// log (one hash chain; an existing log is continued, never overwritten)
        #[arg(long, value_name = "FILE")]
        audit_log: Option<PathBuf>,
        /// Scenario files or folders
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
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
    /// Print the JSON Schema of a wire type (events, requests, responses, ...), or list them
    Schema {
        /// The schema's name; without it, the names are listed
        name: Option<String>,
    },
    /// Audit logs (NEN 7513): verify the hash chain, show a patient's access overview
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
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
    Overview {
        /// The patient
        #[arg(long)]
        patient: String,
        /// The audit log (JSON Lines); it must exist
        file: PathBuf,
        /// Print the overview as JSON
        #[arg(long)]
        json: bool,
        /// The world (entities and events, as a scenario file); by default only the patient
        #[arg(long)]
        world: Option<PathBuf>,
        /// Read as this practitioner (R32: with the task `log_review`, for `--holder`,
        /// their own organisation), instead of as the patient
        #[arg(long, requires = "holder")]
        practitioner: Option<String>,
        /// Only the data this organisation holds
        #[arg(long)]
        holder: Option<String>,
        /// The time of the `view_access_log` decision (RFC 3339); by default now
        #[arg(long)]
        at: Option<String>,
        /// Load the schema and policies from this folder instead of the shipped ones
        #[arg(long)]
        policies: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_policies(dir: Option<&Path>) -> Result<Policies> {
    Ok(match dir {
        Some(d) => Policies::from_dir(d)
            .with_context(|| format!("loading policies from `{}`", d.display()))?,
        None => Policies::shipped()?,
    })
}

fn arg_text(arg: &str) -> Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading `{path}`")),
        None => Ok(arg.to_owned()),
    }
}

fn world(policies: Policies, path: &Path) -> Result<Engine> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))?;
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

#[expect(clippy::too_many_lines, reason = "one arm per command")]
fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Schema { name } => match name {
            None => {
                for n in zorg_pdp::schema::names() {
                    println!("{n}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(n) => {
                let Some(schema) = zorg_pdp::schema::by_name(&n) else {
                    let known: Vec<&str> = zorg_pdp::schema::names().collect();
                    bail!("no schema `{n}`; known: {}", known.join(", "))
                };
                println!("{}", serde_json::to_string_pretty(&schema)?);
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Test {
            policies,
            coverage,
            audit_log,
            paths,
        } => {
            let policies = load_policies(policies.as_deref())?;
            let report = match &audit_log {
                None => zorg_pdp::scenario::run_paths(&policies, &paths),
                Some(log) => {
                    let sink = Arc::new(open_log(log, Durability::OnFlush)?);
                    let first = sink.last_seq() + 1;
                    let shared: Arc<dyn audit::AuditSink> = Arc::clone(&sink) as _;
                    let report =
                        zorg_pdp::scenario::run_paths_with_sink(&policies, &paths, &shared);
                    sink.flush()?;
                    let last = sink.last_seq();
                    println!(
                        "audit log `{}`: {} records written (seq {first}..={last})",
                        log.display(),
                        last + 1 - first,
                    );
                    report
                }
            };
            for failure in &report.failures {
                println!("{failure}");
            }
            for error in &report.errors {
                eprintln!("error: {error}");
            }
            if coverage {
                println!("policy coverage (expectations each policy determined):");
                for (id, n) in &report.coverage.by_policy {
                    println!("  {n:>5}  {id}");
                }
                if !report.coverage.by_rule.is_empty() {
                    println!("rule coverage (expectations naming the rule: allow / deny):");
                    for (rule, (allow, deny)) in &report.coverage.by_rule {
                        println!("  {rule:<5} {allow:>4} / {deny:<4}");
                    }
                }
                let unreached = report.coverage.unreached();
                if unreached.is_empty() {
                    println!("every policy was reached");
                } else {
                    println!("policies no expectation reached: {}", unreached.join(", "));
                }
            }
            println!("{}", report.summary());
            Ok(if !report.errors.is_empty() {
                ExitCode::from(2)
            } else if report.failed > 0 || (coverage && !report.coverage.unreached().is_empty()) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Decide {
            world: path,
            request,
            policies,
        } => {
            let engine = world(load_policies(policies.as_deref())?, &path)?;
            let request = Request::from_json(&arg_text(&request)?)?;
            let response = engine.decide(&request);
            let mut out = serde_json::to_value(&response)?;
            if let Some(obj) = out.as_object_mut() {
                obj.insert("explanation".into(), explain(&response.reasons));
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Dashboard {
            world: path,
            query,
            policies,
        } => {
            let engine = world(load_policies(policies.as_deref())?, &path)?;
            let query = DashboardQuery::from_json(&arg_text(&query)?)?;
            let answer = engine.dashboard(&query)?;
            let mut out = serde_json::to_value(&answer)?;
            if let Some(holders) = out.get_mut("holders").and_then(|h| h.as_array_mut()) {
                for (h, view) in holders.iter_mut().zip(&answer.holders) {
                    if let Some(obj) = h.as_object_mut() {
                        obj.insert("explanation".into(), explain(&view.reasons));
                    }
                }
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            if answer.holders.is_empty() && answer.modules.is_empty() {
                bail!("the dashboard is empty: the patient has no holders yet");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { file },
        } => {
            let report = audit::verify(&file)?;
            println!("{report}");
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Audit {
            command:
                AuditCommand::Overview {
                    patient,
                    file,
                    json,
                    world: world_file,
                    practitioner,
                    holder,
                    at,
                    policies,
                },
        } => overview(&OverviewArgs {
            patient,
            file,
            json,
            world: world_file,
            practitioner,
            holder,
            at,
            policies,
        }),
    }
}

/// Opens an audit log, telling about a torn last line it cut
fn open_log(path: &Path, durability: Durability) -> Result<FileSink> {
    let (sink, opened) = FileSink::open(path, durability)?;
    if let Some(torn) = &opened.torn {
        eprintln!("warning: audit log `{}`: {torn}", path.display());
    }
    Ok(sink)
}

#[derive(Debug)]
struct OverviewArgs {
    patient: String,
    file: PathBuf,
    json: bool,
    world: Option<PathBuf>,
    practitioner: Option<String>,
    holder: Option<String>,
    at: Option<String>,
    policies: Option<PathBuf>,
}

/// `audit overview`: a logged `view_access_log` decision, then the overview
fn overview(args: &OverviewArgs) -> Result<ExitCode> {
    let policies = load_policies(args.policies.as_deref())?;
    let patient = PatientId::new(&args.patient).context("--patient")?;
    let holder = args
        .holder
        .as_deref()
        .map(zorg_pdp::OrganisationId::new)
        .transpose()
        .context("--holder")?;
    let principal = match &args.practitioner {
        Some(p) => Principal::Practitioner(PractitionerId::new(p).context("--practitioner")?),
        None => Principal::Patient(patient.clone()),
    };
    let at = match &args.at {
        Some(t) => Timestamp::parse(t).context("--at")?,
        None => now()?,
    };
    let engine = if let Some(w) = &args.world {
        world(policies, w)?
    } else {
        let engine = Engine::with_policies(policies);
        engine.register_patient(&Patient {
            id: patient.clone(),
        })?;
        engine
    };
    if !args.file.is_file() {
        bail!("no audit log at `{}`", args.file.display());
    }
    let sink = Arc::new(open_log(&args.file, Durability::EveryRecord)?);
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn audit::AuditSink>);
    let request = Request {
        principal,
        patient: patient.clone(),
        at,
        mfa: true,
        action: Action::ViewAccessLog {
            holder: holder.clone(),
        },
    };
    let response = engine.decide(&request);
    engine.clear_audit_sink();
    sink.flush()?;
    if engine.audit_failures() > 0 {
        bail!("the `view_access_log` decision could not be logged, so nothing is shown");
    }
    if !response.is_allowed() {
        println!(
            "denied: view_access_log of patient `{patient}` (logged as seq {})",
            sink.last_seq()
        );
        for r in &response.reasons {
            println!("  {}: {}", r.as_str(), r.explain());
        }
        return Ok(ExitCode::from(1));
    }
    let records = audit::read_records(&args.file)?;
    let check = audit::verify_records(&records);
    if !check.is_intact() {
        eprintln!("warning: audit log `{}`: {check}", args.file.display());
    }
    let entries = match &holder {
        Some(h) => audit::overview_of_holder(&records, &patient, h),
        None => audit::overview(&records, &patient),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        println!(
            "access to the data of patient `{patient}`{}: {} {}, newest first",
            holder
                .as_ref()
                .map(|h| format!(" held by `{h}`"))
                .unwrap_or_default(),
            entries.len(),
            if entries.len() == 1 {
                "entry"
            } else {
                "entries"
            }
        );
        print!("{}", table(&entries));
    }
    Ok(ExitCode::SUCCESS)
}

fn now() -> Result<Timestamp> {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    Ok(Timestamp::from_unix_nanos(i64::try_from(since.as_nanos())?))
}

/// The overview as an aligned text table
fn table(entries: &[OverviewEntry]) -> String {
    let dash = |s: String| if s.is_empty() { "-".to_owned() } else { s };
    let header = [
        "WHEN",
        "WHO",
        "ROLE",
        "ORGANISATION",
        "ACTION",
        "HOLDER",
        "DATA",
        "PURPOSE",
        "POLICIES",
        "SEQ",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for e in entries {
        let kind = match e.principal.kind {
            PrincipalKind::Practitioner => "practitioner",
            PrincipalKind::Patient => "patient",
            PrincipalKind::Organisation => "organisation",
        };
        rows.push(vec![
            e.at.to_string(),
            format!("{kind} {}", e.principal.id),
            dash(
                e.principal
                    .role
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            dash(
                e.principal
                    .organisation
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            e.action.as_str().to_owned(),
            dash(
                e.holder
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            dash(
                e.categories
                    .iter()
                    .map(ToString::to_string)
                    .chain(e.record.as_ref().map(|r| format!("record {r}")))
                    .chain(e.module.as_ref().map(|m| format!("module {m}")))
                    .chain(e.study.as_ref().map(|s| format!("study {s}")))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            dash(e.purpose.map(|p| p.as_str().to_owned()).unwrap_or_default()),
            dash(e.policies.join(", ")),
            e.seq.to_string(),
        ]);
    }
    let mut widths = vec![0usize; header.len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
