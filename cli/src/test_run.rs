//! `test`: run scenario files, say which policy set ran, and report every
//! expectation, a filter, coverage and JUnit XML (docs/authoring.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use zorg_pdp::audit::{self, AuditSink as _, Durability};
use zorg_pdp::scenario::Runner;
use zorg_pdp::{Policies, RunReport};

use crate::audit_log::{self, Opened};
use crate::authoring::{POLICIES_DIR, Set, report_load_error};
use crate::diagnostics::Reporter;
use crate::junit;
use crate::output::Console;

/// `test [--policies DIR] [--coverage] [--audit-log FILE] [-v] [--filter PATTERN] [--junit FILE] PATH...`
#[derive(Debug, clap::Args)]
pub(crate) struct TestArgs {
    /// Load the schema and policies from this folder instead of the shipped ones
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Report, per policy, how many expectations it determined, and the policies none reached
    #[arg(long)]
    coverage: bool,
    /// Append the audit record of every decision the scenarios make to this JSON Lines
    /// log (one hash chain; an existing log is continued, never overwritten, and
    /// only when its chain verifies)
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Print every expectation that ran, with its outcome
    #[arg(short, long)]
    verbose: bool,
    /// Run only what PATTERN is part of: every expectation of a file whose path or scenario
    /// `name` contains it, else each expectation whose label (`expect #3`), `name` or `note`
    /// contains it or one of whose `rules` is it; a filter that selects nothing is an error
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Write a JUnit XML report to FILE: one testsuite per scenario file, one testcase per
    /// expectation that ran
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Scenario files or folders
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Warns when `./policies` is a folder whose policies are not the set that ran
fn warn_if_local_policies_differ(set: &Set, ran: &Policies, console: &mut Console) -> Result<()> {
    let local = Path::new(POLICIES_DIR);
    if !local.is_dir() {
        return Ok(());
    }
    if let Set::Dir(dir) = set
        && let (Ok(a), Ok(b)) = (dir.canonicalize(), local.canonicalize())
        && a == b
    {
        return Ok(());
    }
    match Policies::from_dir(local) {
        Ok(here) if here.content_hash() == ran.content_hash() => {}
        Ok(here) => writeln!(
            console.err,
            "warning: `./{POLICIES_DIR}` differs from the policies that ran ({}, content hash {}; \
             `./{POLICIES_DIR}` has {}): to test it, add `--policies {POLICIES_DIR}`",
            set.describe(),
            ran.content_hash(),
            here.content_hash()
        )?,
        Err(e) => writeln!(
            console.err,
            "warning: `./{POLICIES_DIR}` does not load, and {} ran instead: {}",
            set.describe(),
            e.to_string().lines().next().unwrap_or_default()
        )?,
    }
    Ok(())
}

pub(crate) fn test(args: &TestArgs, console: &mut Console) -> Result<ExitCode> {
    let set = Set::named(args.policies.as_deref());
    let policies = match set.load() {
        Ok(p) => p,
        Err(e) => {
            report_load_error(&set, &e, console)?;
            return Ok(ExitCode::from(2));
        }
    };
    writeln!(
        console.out,
        "policies: {}, content hash {}",
        set.describe(),
        policies.content_hash()
    )?;
    warn_if_local_policies_differ(&set, &policies, console)?;
    let mut runner = Runner::new(&policies);
    if let Some(pattern) = &args.filter {
        runner = runner.filter(pattern.clone());
    }
    let report = match &args.audit_log {
        None => runner.run(&args.paths),
        Some(log) => {
            let sink = match audit_log::open_verified(log, Durability::OnFlush, console)? {
                Opened::Sink(sink) => Arc::new(sink),
                Opened::Broken(report) => {
                    bail!(audit_log::refusal(log, &report, "no scenario is run"))
                }
            };
            let first = sink.last_seq() + 1;
            let shared: Arc<dyn audit::AuditSink> = Arc::clone(&sink) as _;
            let report = runner.audit_sink(shared).run(&args.paths);
            sink.flush()?;
            let last = sink.last_seq();
            writeln!(
                console.out,
                "audit log `{}`: {} records written (seq {first}..={last})",
                log.display(),
                last + 1 - first,
            )?;
            report
        }
    };
    print_cases(&report, args.verbose, console)?;
    let reporter = Reporter::for_stderr();
    for error in &report.errors {
        write!(console.err, "{}", reporter.render(error))?;
    }
    if args.coverage {
        print_coverage(&report, console)?;
    }
    if let Some(pattern) = &args.filter {
        let ran = report.passed + report.failed;
        writeln!(
            console.out,
            "filter `{pattern}`: {ran} expectations ran, {} filtered out",
            report.filtered
        )?;
    }
    if let Some(file) = &args.junit {
        let xml = junit::report(&report, &set.describe(), policies.content_hash());
        std::fs::write(file, xml).with_context(|| format!("writing `{}`", file.display()))?;
        writeln!(console.out, "junit report `{}`", file.display())?;
    }
    writeln!(console.out, "{}", report.summary())?;
    let nothing_ran = args.filter.is_some() && report.passed + report.failed == 0;
    if nothing_ran && report.errors.is_empty() {
        writeln!(
            console.err,
            "error: the filter selects no expectation; nothing was tested"
        )?;
    }
    Ok(if !report.errors.is_empty() || nothing_ran {
        ExitCode::from(2)
    } else if report.failed > 0 || (args.coverage && !report.coverage.unreached().is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The failed expectations, one line each; with `verbose`, every expectation
/// that ran and its outcome
fn print_cases(report: &RunReport, verbose: bool, console: &mut Console) -> Result<()> {
    if !verbose {
        for failure in &report.failures {
            writeln!(console.out, "{failure}")?;
        }
        return Ok(());
    }
    for case in &report.cases {
        let place = match case.line {
            Some(line) => format!("{}:{line}", case.file),
            None => case.file.clone(),
        };
        let outcome = if case.passed() { "ok  " } else { "FAIL" };
        let name = case
            .name
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        writeln!(console.out, "{outcome}  {place}: {}{name}", case.label)?;
        if let Some(f) = &case.failure {
            writeln!(
                console.out,
                "      expected {}, got {}",
                f.expected, f.actual
            )?;
        }
    }
    Ok(())
}

fn print_coverage(report: &RunReport, console: &mut Console) -> Result<()> {
    let out = &mut console.out;
    let coverage = &report.coverage;
    writeln!(
        out,
        "policy coverage (expectations each policy determined; {} expectations, {} of them dashboards):",
        report.passed + report.failed,
        coverage.dashboards
    )?;
    for (id, n) in &coverage.by_policy {
        writeln!(out, "  {n:>5}  {id}")?;
    }
    let rules = coverage.rules();
    if !rules.is_empty() {
        writeln!(
            out,
            "rule coverage (expectations naming the rule: allow / deny, and how many are dashboards):"
        )?;
        for (rule, (allow, deny)) in rules {
            let dashboards = coverage.dashboards_by_rule.get(rule).copied().unwrap_or(0);
            writeln!(
                out,
                "  {rule:<5} {allow:>4} / {deny:<4} {dashboards:>3} dashboards"
            )?;
        }
    }
    let unreached = coverage.unreached();
    if unreached.is_empty() {
        writeln!(out, "every policy was reached")?;
    } else {
        writeln!(
            out,
            "policies no expectation reached: {}",
            unreached.join(", ")
        )?;
    }
    Ok(())
}
