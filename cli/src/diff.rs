//! `diff OLD_DIR NEW_DIR`: the change impact of a policy edit
//! (`zorg_pdp::analysis::diff`), as text or JSON.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use zorg_pdp::Policies;
use zorg_pdp::analysis::{self, Answer, DiffGroup, DiffReport, Field};

use crate::output::Console;

/// `diff OLD_DIR NEW_DIR [--format F]`
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The policies before the change: a folder with `zorg.cedarschema` and `*.cedar`
    #[arg(value_name = "OLD_DIR")]
    old: PathBuf,
    /// The policies after the change
    #[arg(value_name = "NEW_DIR")]
    new: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The output formats
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The groups, one header and its answers each
    Text,
    /// Machine-readable: the whole report
    Json,
}

fn load(dir: &Path, which: &str) -> Result<Policies> {
    Policies::from_dir(dir)
        .with_context(|| format!("loading the {which} policies from `{}`", dir.display()))
}

/// Prints the change impact; exit 0 when no abstract input differs, 1 when
/// some do (2, by the caller, when a folder does not load)
pub(crate) fn run(args: &DiffArgs, console: &mut Console) -> Result<ExitCode> {
    let old = load(&args.old, "old")?;
    let new = load(&args.new, "new")?;
    let report = analysis::diff(&old, &new)?;
    let out = match args.format {
        Format::Text => text(&report, &args.old, &args.new),
        Format::Json => {
            let mut value = serde_json::to_value(&report)?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("old_dir".into(), args.old.display().to_string().into());
                obj.insert("new_dir".into(), args.new.display().to_string().into());
            }
            format!("{}\n", serde_json::to_string_pretty(&value)?)
        }
    };
    console.out.write_all(out.as_bytes())?;
    Ok(if report.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The grouping values of a group, in words
fn header(g: &DiffGroup) -> String {
    let mut parts = vec![
        g.action.as_str().to_owned(),
        g.principal.as_str().to_owned(),
    ];
    if let Some(source) = g.source {
        parts.push(format!("source {source}"));
    }
    parts.push(if g.holder { "holder" } else { "no holder" }.to_owned());
    let mut field = |name: &str, f: String, absent: bool| {
        if !absent {
            parts.push(format!("{name} {f}"));
        }
    };
    field("role", g.role.to_string(), g.role == Field::Absent);
    field(
        "category",
        g.category.to_string(),
        g.category == Field::Absent,
    );
    field("module", g.module.to_string(), g.module == Field::Absent);
    field("purpose", g.purpose.to_string(), g.purpose == Field::Absent);
    parts.join(", ")
}

/// Per action, principal, role and category: how many inputs differ, and
/// how many of them change their decision
fn summary(s: &mut String, report: &DiffReport) {
    let mut rows: Vec<(String, u64, u64, u64)> = Vec::new();
    for g in &report.groups {
        let mut key = format!("{}, {}", g.action, g.principal);
        if g.role != Field::Absent {
            let _ = write!(key, ", role {}", g.role);
        }
        if g.category != Field::Absent {
            let _ = write!(key, ", category {}", g.category);
        }
        let gained = u64::from(g.new == Answer::Allow && g.old != Answer::Allow);
        let lost = u64::from(g.old == Answer::Allow && g.new != Answer::Allow);
        match rows.iter_mut().find(|r| r.0 == key) {
            Some(r) => {
                r.1 += g.count;
                r.2 += gained * g.count;
                r.3 += lost * g.count;
            }
            None => rows.push((key, g.count, gained * g.count, lost * g.count)),
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "summary (inputs that differ; of them, newly allowed / no longer allowed):"
    );
    for (key, n, gained, lost) in rows {
        let _ = writeln!(s, "  {key}: {n}; allowed {gained} / denied {lost}");
    }
}

fn text(report: &DiffReport, old: &Path, new: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "old: {} ({})", old.display(), report.old);
    let _ = writeln!(s, "new: {} ({})", new.display(), report.new);
    if report.changed.is_empty() {
        let _ = writeln!(s, "no policy differs");
    } else {
        let _ = writeln!(s, "policies that differ:");
        for c in &report.changed {
            let _ = writeln!(s, "  {:<8} {}", c.change.to_string(), c.id);
        }
    }
    if report.is_empty() {
        let _ = writeln!(s, "no abstract input differs ({} compared)", report.inputs);
        return s;
    }
    let _ = writeln!(
        s,
        "{} of {} abstract inputs differ, in {} groups (* = every value; counts span tasks, \
         mfa, facts and id patterns):",
        report.differing,
        report.inputs,
        report.groups.len()
    );
    summary(&mut s, report);
    let mut last = String::new();
    for g in &report.groups {
        let h = header(g);
        if h != last {
            let _ = writeln!(s);
            let _ = writeln!(s, "{h}:");
            last = h;
        }
        let side = |a: &Answer, which: &str| match a {
            Answer::NotInVocabulary => format!("not in {which}'s vocabulary"),
            other => other.to_string(),
        };
        let _ = writeln!(
            s,
            "  {:>10}  {} -> {}",
            g.count,
            side(&g.old, "OLD"),
            side(&g.new, "NEW")
        );
    }
    s
}
