//! `zorg-pdp data import|snapshot|verify --data DIR`: the embedded data
//! directory (SPEC.md §8, R49, `docs/durability.md`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use zorg_pdp::store::{Durability, OpenReport, StoreOptions};
use zorg_pdp::{Applied, Engine, LogEntry};

use crate::load_policies;
use crate::output::Console;

/// `data import` / `data snapshot` / `data verify`
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Apply log entries (JSON Lines, one `{"position": P, "event"|"entity": …}` a line; `-`
    /// reads stdin) to the data directory, creating it when absent; each is in its journal
    /// before the next is read. Prints `{"seq", "applied", "skipped", "open"}`; exit 2 naming
    /// the line of the first entry that does not parse or is refused (the ones before it stay).
    Import(ImportArgs),
    /// Write a snapshot of the directory's state (after replaying its journal); prints the
    /// snapshot's file, position and size, and what was compacted
    Snapshot(DirArgs),
    /// Open the directory read-only and report: the snapshot restored, refused snapshots, journal
    /// segments, entries replayed, a torn last line, the last position and the state digest.
    /// Changes nothing. Exit 0 when intact, 1 when a snapshot was refused or a torn line found,
    /// 2 when it cannot be opened (a damaged journal line, a gap, in use)
    Verify(DirArgs),
}

/// A data directory and the policies to open it with
#[derive(Debug, Args)]
pub(crate) struct DirArgs {
    /// The data directory
    #[arg(long)]
    data: PathBuf,
    /// Load the schema, policies and consent vocabulary from this folder instead of the shipped
    /// ones (the vocabulary decides which entries are accepted and which snapshots are foreign)
    #[arg(long)]
    policies: Option<PathBuf>,
}

/// `data import`
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    dir: DirArgs,
    /// When the journal is synced: `every` (each entry, the default), `every-N`, or `on-exit`
    #[arg(long, default_value = "every")]
    durability: String,
    /// The log entries (JSON Lines; `-` reads stdin)
    file: PathBuf,
}

fn durability(text: &str) -> Result<Durability> {
    Ok(match text {
        "every" => Durability::EveryRecord,
        "on-exit" => Durability::OnFlush,
        other => match other.strip_prefix("every-").map(str::parse::<u64>) {
            Some(Ok(n)) if n > 0 => Durability::EveryN(n),
            _ => bail!(
                "--durability: `{other}` is not `every`, `every-N` (N at least 1) or `on-exit`"
            ),
        },
    })
}

fn open(dir: &DirArgs, options: StoreOptions) -> Result<(Engine, OpenReport)> {
    let policies = load_policies(dir.policies.as_deref())?;
    Engine::open_with(&dir.data, policies, options)
        .with_context(|| format!("opening data directory `{}`", dir.data.display()))
}

fn report_json(report: &OpenReport) -> serde_json::Value {
    serde_json::json!({
        "created": report.created,
        "snapshot": report.snapshot.as_ref().map(|(path, position)| serde_json::json!({
            "path": path.display().to_string(), "position": position,
        })),
        "refused": report.refused.iter().map(|r| serde_json::json!({
            "path": r.path.display().to_string(), "position": r.position,
            "problem": r.problem.to_string(),
        })).collect::<Vec<_>>(),
        "segments": report.segments,
        "segments_read": report.segments_read,
        "replayed": report.replayed,
        "torn": report.torn.as_ref().map(|t| serde_json::json!({
            "path": t.path.display().to_string(), "offset": t.offset, "bytes": t.bytes,
            "after": t.after,
        })),
        "seq": report.seq,
        "elapsed_ms": u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
    })
}

/// `data …`
pub(crate) fn run(command: &DataCommand, console: &mut Console) -> Result<ExitCode> {
    match command {
        DataCommand::Import(args) => import(args, console),
        DataCommand::Snapshot(dir) => {
            let (engine, opened) = open(dir, StoreOptions::default())?;
            let written = engine.snapshot()?;
            let out = serde_json::json!({
                "path": written.path.display().to_string(),
                "position": written.position,
                "bytes": written.bytes,
                "removed_segments": written.removed_segments,
                "removed_snapshots": written.removed_snapshots,
                "open": report_json(&opened),
            });
            writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Verify(dir) => {
            if !dir.data.is_dir() {
                bail!("data directory `{}` does not exist", dir.data.display());
            }
            let (engine, report) = open(dir, StoreOptions::default().read_only(true))?;
            let mut out = report_json(&report);
            if let Some(fields) = out.as_object_mut() {
                fields.insert("state_digest".into(), engine.state_digest().into());
            }
            writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
            let intact = report.refused.is_empty() && report.torn.is_none();
            if !intact {
                writeln!(console.err, "{report}")?;
            }
            Ok(if intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn import(args: &ImportArgs, console: &mut Console) -> Result<ExitCode> {
    let options = StoreOptions::default().durability(durability(&args.durability)?);
    let (engine, opened) = open(&args.dir, options)?;
    let (reader, name): (Box<dyn std::io::BufRead>, String) = if args.file == Path::new("-") {
        (Box::new(BufReader::new(std::io::stdin())), "stdin".into())
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("reading `{}`", args.file.display()))?;
        (
            Box::new(BufReader::new(file)),
            format!("`{}`", args.file.display()),
        )
    };
    let (mut applied, mut skipped) = (0u64, 0u64);
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let entry = LogEntry::from_json(&line).with_context(|| format!("{name}: line {n}"))?;
        match engine
            .apply_entry(&entry)
            .with_context(|| format!("{name}: line {n}"))?
        {
            Applied::Applied(_) => applied += 1,
            Applied::Skipped { .. } => skipped += 1,
        }
    }
    engine.sync()?;
    let out = serde_json::json!({
        "seq": engine.seq(),
        "applied": applied,
        "skipped": skipped,
        "open": report_json(&opened),
    });
    writeln!(console.out, "{}", serde_json::to_string_pretty(&out)?)?;
    Ok(ExitCode::SUCCESS)
}
