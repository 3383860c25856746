//! `audit verify`, `audit overview`, and opening a log to append to: a log
//! is appended to only after its chain verified, under the sink's lock.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use zorg_pdp::audit::{self, AuditSink as _, Durability, FileSink, OverviewEntry, VerifyReport};
use zorg_pdp::{
    Action, Engine, OrganisationId, Patient, PatientId, PractitionerId, Principal, Request,
    Timestamp,
};

use crate::output::Console;
use crate::{load_policies, world};

/// An audit log opened to append to, or why it must not be
#[derive(Debug)]
pub(crate) enum Opened {
    /// The chain verified: append here
    Sink(FileSink),
    /// The chain does not verify; nothing was appended
    Broken(VerifyReport),
}

/// Opens an audit log to append to: the sink takes the file's lock (and cuts
/// a torn last line, saying so), then the whole chain is verified under that
/// lock; a chain that does not verify is not appended to
pub(crate) fn open_verified(
    path: &Path,
    durability: Durability,
    console: &mut Console,
) -> Result<Opened> {
    let (sink, opened) = FileSink::open(path, durability)?;
    if let Some(torn) = &opened.torn {
        writeln!(
            console.err,
            "warning: audit log `{}`: {torn}",
            path.display()
        )?;
    }
    let report = audit::verify(path)?;
    Ok(if report.is_intact() {
        Opened::Sink(sink)
    } else {
        Opened::Broken(report)
    })
}

/// The message for a log that does not verify
pub(crate) fn refusal(path: &Path, report: &VerifyReport, what: &str) -> String {
    format!(
        "audit log `{}`: {report}; {what}, and nothing is appended to a chain that does not verify (see `zorg-pdp audit verify`)",
        path.display()
    )
}

/// `audit verify FILE`: exit 0 when intact, 1 naming the first bad `seq`
pub(crate) fn verify(file: &Path, console: &mut Console) -> Result<ExitCode> {
    let report = audit::verify(file)?;
    writeln!(console.out, "{report}")?;
    Ok(if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The arguments of `audit overview`
#[derive(Debug, clap::Args)]
pub(crate) struct OverviewArgs {
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
}

/// `audit overview`: the log must verify; then a logged `view_access_log`
/// decision; then, on allow, the overview
///
/// A log that does not verify is refused before the decision (exit 1, the
/// first bad `seq`): the forged or damaged records are not shown as
/// accesses, and the read is not chained onto them.
pub(crate) fn overview(args: &OverviewArgs, console: &mut Console) -> Result<ExitCode> {
    let policies = load_policies(args.policies.as_deref())?;
    let patient = PatientId::new(&args.patient).context("--patient")?;
    let holder = args
        .holder
        .as_deref()
        .map(OrganisationId::new)
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
        engine.register_patient(&Patient::new(patient.clone()))?;
        engine
    };
    if !args.file.is_file() {
        bail!("no audit log at `{}`", args.file.display());
    }
    let sink = match open_verified(&args.file, Durability::EveryRecord, console)? {
        Opened::Sink(sink) => Arc::new(sink),
        Opened::Broken(report) => {
            let message = refusal(&args.file, &report, "no overview is shown");
            writeln!(console.err, "error: {message}")?;
            return Ok(ExitCode::from(1));
        }
    };
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn audit::AuditSink>);
    let request = Request {
        principal,
        patient: patient.clone(),
        at,
        mfa: true,
        action: Action::ViewAccessLog {
            holder: holder.clone(),
        },
        min_seq: None,
    };
    let response = engine.decide(&request);
    engine.clear_audit_sink();
    sink.flush()?;
    if engine.audit_failures() > 0 {
        bail!("the `view_access_log` decision could not be logged, so nothing is shown");
    }
    if !response.is_allowed() {
        writeln!(
            console.out,
            "denied: view_access_log of patient `{patient}` (logged as seq {})",
            sink.last_seq()
        )?;
        for r in &response.reasons {
            writeln!(console.out, "  {}: {}", r.as_str(), r.explain())?;
        }
        return Ok(ExitCode::from(1));
    }
    // Still under the sink's lock: the records as verified, plus the read
    let records = audit::read_records(&args.file)?;
    let check = audit::verify_records(&records);
    if !check.is_intact() {
        let message = refusal(&args.file, &check, "no overview is shown");
        writeln!(console.err, "error: {message}")?;
        return Ok(ExitCode::from(1));
    }
    let entries = match &holder {
        Some(h) => audit::overview_of_holder(&records, &patient, h),
        None => audit::overview(&records, &patient),
    };
    if args.json {
        writeln!(console.out, "{}", serde_json::to_string_pretty(&entries)?)?;
    } else {
        writeln!(
            console.out,
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
        )?;
        write!(console.out, "{}", table(&entries))?;
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
            audit::PrincipalKind::Practitioner => "practitioner",
            audit::PrincipalKind::Patient => "patient",
            audit::PrincipalKind::Organisation => "organisation",
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
