//! `validate` and `fmt`: the policy author's checks before a change is
//! tested (docs/authoring.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use zorg_pdp::{Policies, PolicyLoadError, SCHEMA_FILE};

use crate::diagnostics::{Reporter, leaves};
use crate::output::Console;

/// The folder `validate` and `fmt` read when none is named
pub(crate) const POLICIES_DIR: &str = "policies";

/// `validate [--policies DIR] [PATHS...]`
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// The folder of the schema and policies [default: `policies` of the current directory,
    /// or the shipped set when there is no such folder]
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    /// Scenario files or folders to check against the policies too: each parses, its
    /// expectations name only what the policies and the scenario know, and its world loads
    /// (no expectation is run)
    paths: Vec<PathBuf>,
}

/// Which policy set a command reads, and what to call it
#[derive(Debug, Clone)]
pub(crate) enum Set {
    /// The shipped policies, embedded in the binary
    Shipped,
    /// A folder
    Dir(PathBuf),
}

impl Set {
    /// `dir` when given, else `./policies` when it is a folder, else the shipped set
    pub(crate) fn default_dir(dir: Option<&Path>) -> Self {
        match dir {
            Some(d) => Self::Dir(d.to_path_buf()),
            None if Path::new(POLICIES_DIR).is_dir() => Self::Dir(PathBuf::from(POLICIES_DIR)),
            None => Self::Shipped,
        }
    }

    /// `dir` when given, else the shipped set
    pub(crate) fn named(dir: Option<&Path>) -> Self {
        dir.map_or(Self::Shipped, |d| Self::Dir(d.to_path_buf()))
    }

    pub(crate) fn load(&self) -> Result<Policies, PolicyLoadError> {
        match self {
            Self::Shipped => Policies::shipped(),
            Self::Dir(d) => Policies::from_dir(d),
        }
    }

    /// How a report names the set
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Shipped => "the shipped set (embedded)".to_owned(),
            Self::Dir(d) => format!("`{}`", d.display()),
        }
    }
}

/// Writes every error of a policy load to stderr, and a closing line
pub(crate) fn report_load_error(
    set: &Set,
    e: &PolicyLoadError,
    console: &mut Console,
) -> Result<()> {
    let n = Reporter::for_stderr().write_all(&mut console.err, e)?;
    let errors = if n == 1 { "error" } else { "errors" };
    writeln!(
        console.err,
        "error: the policies in {} do not load: {n} {errors}",
        set.describe()
    )?;
    Ok(())
}

pub(crate) fn validate(args: &ValidateArgs, console: &mut Console) -> Result<ExitCode> {
    let set = Set::default_dir(args.policies.as_deref());
    let policies = match set.load() {
        Ok(p) => p,
        Err(e) => {
            report_load_error(&set, &e, console)?;
            return Ok(ExitCode::from(2));
        }
    };
    let v = policies.vocabulary();
    let c = v.consent();
    writeln!(
        console.out,
        "ok: {} policies in {}, schema `{SCHEMA_FILE}` ({} roles, {} tasks, {} categories, {} care modules), \
         consent vocabulary ({} data categories, {} holder categories, {} requesting categories, \
         {} provider types), content hash {}",
        policies.ids().len(),
        set.describe(),
        v.roles().len(),
        v.tasks().len(),
        v.categories().len(),
        v.modules().len(),
        c.data_categories().len(),
        c.holder_categories().len(),
        c.requester_categories().len(),
        c.provider_type_count(),
        policies.content_hash()
    )?;
    if args.paths.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let report = zorg_pdp::scenario::check_paths(&policies, &args.paths);
    if !report.errors.is_empty() {
        let reporter = Reporter::for_stderr();
        for e in &report.errors {
            write!(console.err, "{}", reporter.render(e))?;
        }
        let n = report.errors.len();
        let errors = if n == 1 { "error" } else { "errors" };
        writeln!(
            console.err,
            "error: the scenario files do not check: {n} {errors}"
        )?;
        return Ok(ExitCode::from(2));
    }
    writeln!(
        console.out,
        "ok: {} scenario files, {} expectations",
        report.files, report.expectations
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `fmt [--check] [FILES...]`
#[derive(Debug, clap::Args)]
pub(crate) struct FmtArgs {
    /// Change nothing: list the files that would change, exit 1 when there is one (0 when every
    /// file is formatted)
    #[arg(long)]
    check: bool,
    /// Policy files (`*.cedar`), or folders of them [default: `policies/*.cedar` of the
    /// current directory]
    files: Vec<PathBuf>,
}

/// The `*.cedar` files named, or in the folders named, in name order
fn cedar_files(named: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let default = [PathBuf::from(POLICIES_DIR)];
    let named = if named.is_empty() {
        if !default[0].is_dir() {
            bail!("no `{POLICIES_DIR}` folder in the current directory; name the files to format");
        }
        &default[..]
    } else {
        named
    };
    let mut files = Vec::new();
    for p in named {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading `{}`", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "cedar"))
                .collect();
            if found.is_empty() {
                bail!("no `*.cedar` file in `{}`", p.display());
            }
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            bail!("`{}`: no such file or folder", p.display());
        }
    }
    Ok(files)
}

/// Writes `text` to `path` through a file beside it, so a crash leaves
/// either the old file or the new one
fn replace(path: &Path, text: &str) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.zorg-pdp-fmt"));
    std::fs::write(&tmp, text).with_context(|| format!("writing `{}`", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).with_context(|| format!("replacing `{}`", path.display()))
}

pub(crate) fn fmt(args: &FmtArgs, console: &mut Console) -> Result<ExitCode> {
    let files = cedar_files(&args.files)?;
    let reporter = Reporter::for_stderr();
    let (mut changed, mut broken) = (0usize, 0usize);
    for file in &files {
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("reading `{shown}`"))?;
        let formatted = match zorg_pdp::format_policies(&shown, &text) {
            Ok(f) => f,
            Err(e) => {
                broken += leaves(&e).len();
                reporter.write_all(&mut console.err, &e)?;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if args.check {
            writeln!(console.out, "would reformat {shown}")?;
        } else {
            replace(file, &formatted)?;
            writeln!(console.out, "reformatted {shown}")?;
        }
    }
    if broken > 0 {
        let errors = if broken == 1 { "error" } else { "errors" };
        writeln!(
            console.err,
            "error: {broken} {errors}; files that do not parse are left as they are"
        )?;
        return Ok(ExitCode::from(2));
    }
    let n = files.len();
    if args.check && changed > 0 {
        writeln!(
            console.out,
            "{changed} of {n} files would be reformatted; run `zorg-pdp fmt` to do it"
        )?;
        return Ok(ExitCode::from(1));
    }
    if changed == 0 {
        writeln!(console.out, "{n} files formatted")?;
    }
    Ok(ExitCode::SUCCESS)
}
