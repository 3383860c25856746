//! `explain --world W --request R`: a decision, every policy that fired or
//! could have, and the facts the policies saw, in words.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use zorg_pdp::{Explanation, PolicyVerdict, Request};

use crate::output::Console;

/// How `explain` prints
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Sentences and an aligned list, for a person
    Text,
    /// The explanation as JSON
    Json,
}

/// `explain --world W --request R [--policies DIR] [--format F]`
pub(crate) fn run(
    world: &Path,
    request: &str,
    policies: Option<&Path>,
    format: Format,
    console: &mut Console,
) -> Result<ExitCode> {
    let engine = crate::world(crate::load_policies(policies)?, world)?;
    let (text, name) = crate::arg_text(request, "--request")?;
    let request = Request::from_json(&text).with_context(|| name.clone())?;
    engine
        .policies()
        .vocabulary()
        .check_request(&request)
        .with_context(|| name.clone())?;
    let why = engine.explain(&request);
    match format {
        Format::Json => {
            let mut out = serde_json::to_value(&why)?;
            if let Some(r) = out.get_mut("response").and_then(|r| r.as_object_mut()) {
                r.insert("explanation".into(), crate::explain(&why.response.reasons));
            }
            writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
        }
        Format::Text => print_text(&why, &request, console)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(why: &Explanation, request: &Request, console: &mut Console) -> Result<()> {
    let out = &mut console.out;
    let action = request.action.kind().as_str();
    if why.response.is_allowed() {
        writeln!(out, "decision: allow ({action})")?;
        writeln!(out, "  granted by: {}", why.response.policies.join(", "))?;
    } else {
        writeln!(out, "decision: deny ({action})")?;
        for reason in &why.response.reasons {
            writeln!(out, "  {}: {}", reason.as_str(), reason.explain())?;
        }
    }
    if why.policies.is_empty() {
        writeln!(
            out,
            "no policy was asked: the request names an id the world does not know (R2)"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "policies that could apply to `{action}` ({}):",
        why.policies.len()
    )?;
    let width = why.policies.iter().map(|p| p.id.len()).max().unwrap_or(0);
    // What decided first: fired and failing policies, then the rest
    let mut listed: Vec<_> = why.policies.iter().collect();
    listed.sort_by_key(|p| (rank(p.verdict), p.effect, p.id.as_str()));
    for p in listed {
        let reason = p
            .reason
            .map(|r| format!(" -> {}", r.as_str()))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<13} {:<6} {:<width$}  {}:{}{reason}",
            p.verdict.as_str(),
            p.effect,
            p.id,
            p.file,
            p.line,
        )?;
    }
    if why.facts.is_empty() {
        writeln!(out, "facts the policies saw: none (`{action}` reads none)")?;
    } else {
        writeln!(out, "facts the policies saw:")?;
        for f in &why.facts {
            let value = if f.value { "yes" } else { "no" };
            writeln!(out, "  {:<3} {:<22} {}", value, f.name, f.meaning)?;
        }
    }
    Ok(())
}

/// The order verdicts are listed in
fn rank(v: PolicyVerdict) -> u8 {
    match v {
        PolicyVerdict::Fired => 0,
        PolicyVerdict::Error => 1,
        PolicyVerdict::NotSatisfied => 2,
        _ => 3,
    }
}
