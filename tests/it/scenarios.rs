//! Every scenario file under `policies/tests` passes, and every shipped policy
//! and every rule R1–R32 is exercised by them. The suite runs once; each test
//! reads the one report.

use std::path::PathBuf;
use std::sync::OnceLock;

use zorg_pdp::scenario::run_paths;
use zorg_pdp::{Policies, RunReport};

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/tests")
}

/// The report of the scenario suite against the shipped policies
fn report() -> &'static RunReport {
    static REPORT: OnceLock<RunReport> = OnceLock::new();
    REPORT.get_or_init(|| run_paths(&Policies::shipped().unwrap(), &[tests_dir()]))
}

#[test]
fn scenario_files_pass() {
    let report = report();
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    for f in &report.failures {
        eprintln!("{f}");
    }
    assert!(report.errors.is_empty(), "scenario files that do not parse");
    assert_eq!(report.failed, 0, "{}", report.summary());
    assert!(report.passed >= 100, "only {} expectations", report.passed);
}

#[test]
fn every_shipped_policy_is_reached() {
    assert_eq!(report().coverage.unreached(), Vec::<&str>::new());
}

#[test]
fn every_rule_has_an_allow_and_a_deny() {
    let report = report();
    let mut missing = Vec::new();
    let rules = (1..=32)
        .filter(|n| *n != 3)
        .map(|n| format!("R{n}"))
        // R47: a freshness token at or below the last position, and above it
        .chain(["R47".to_owned()]);
    for rule in rules {
        match report.coverage.by_rule.get(&rule) {
            Some((allow, deny)) if *allow > 0 && *deny > 0 => {}
            other => missing.push(format!("{rule}: {other:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "rules without an allow and a deny expectation: {missing:?}"
    );
}
