//! `zorg-pdp`: run scenario files, take decisions and show dashboards from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use zorg_pdp::{DashboardQuery, Engine, Policies, Reason, Request, Scenario};

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

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Test {
            policies,
            coverage,
            paths,
        } => {
            let policies = load_policies(policies.as_deref())?;
            let report = zorg_pdp::scenario::run_paths(&policies, &paths);
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
    }
}
