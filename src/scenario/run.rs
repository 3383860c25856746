//! Running scenarios: every expectation against a fresh engine per file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Scenario, ScenarioError, collect_files, nth_table_line};
use crate::audit::AuditSink;
use crate::engine::Engine;
use crate::model::event::{Event, EventRecord};
use crate::model::request::{Decision, Response};
use crate::model::vocab::Reason;
use crate::policy::Policies;

/// One failed expectation
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The scenario file
    pub file: String,
    /// `expect #3`, `expect_dashboard #1`, `expect_error #2`
    pub label: String,
    /// The line of the expectation in a TOML file
    pub line: Option<usize>,
    /// What was expected
    pub expected: String,
    /// What the engine said
    pub actual: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(
            f,
            ": {}: expected {}, got {}",
            self.label, self.expected, self.actual
        )
    }
}

/// How often each policy determined an expectation's decision: a permit that
/// granted or a forbid that fired
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Per loaded policy id, the count (zero for policies no expectation reached)
    pub by_policy: BTreeMap<String, usize>,
    /// Per rule named in an expectation's `rules`, (allow, deny) expectation counts
    pub by_rule: BTreeMap<String, (usize, usize)>,
}

impl Coverage {
    fn new(policies: &Policies) -> Self {
        Self {
            by_policy: policies.ids().iter().map(|id| (id.clone(), 0)).collect(),
            by_rule: BTreeMap::new(),
        }
    }

    fn count(&mut self, response: &Response, rules: &[String], expected: Decision) {
        for id in &response.policies {
            *self.by_policy.entry(id.clone()).or_default() += 1;
        }
        for rule in rules {
            let tally = self.by_rule.entry(rule.clone()).or_default();
            match expected {
                Decision::Allow => tally.0 += 1,
                Decision::Deny => tally.1 += 1,
            }
        }
    }

    /// Policies no expectation reached
    pub fn unreached(&self) -> Vec<&str> {
        self.by_policy
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// The outcome of running scenario files
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Expectations that held
    pub passed: usize,
    /// Expectations that did not
    pub failed: usize,
    /// The failed expectations, in file order
    pub failures: Vec<Failure>,
    /// Files that could not be read, parsed or set up
    pub errors: Vec<ScenarioError>,
    /// Policy and rule coverage
    pub coverage: Coverage,
}

impl RunReport {
    /// `N passed, M failed`
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    fn merge(&mut self, other: RunReport) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.failures.extend(other.failures);
        self.errors.extend(other.errors);
        for (id, n) in other.coverage.by_policy {
            *self.coverage.by_policy.entry(id).or_default() += n;
        }
        for (rule, (a, d)) in other.coverage.by_rule {
            let t = self.coverage.by_rule.entry(rule).or_default();
            t.0 += a;
            t.1 += d;
        }
    }
}

fn show(decision: Decision, reasons: &[Reason]) -> String {
    let d = match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    };
    let r: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    format!("{d} [{}]", r.join(", "))
}

/// Runs every scenario file under `paths` against `policies`
///
/// Files that cannot be read or parsed are reported in [`RunReport::errors`];
/// the others still run.
pub fn run_paths(policies: &Policies, paths: &[PathBuf]) -> RunReport {
    run_paths_with(policies, paths, &mut |_| {})
}

/// As [`run_paths`], handing every engine to `observe` after its scenario ran
pub fn run_paths_with(
    policies: &Policies,
    paths: &[PathBuf],
    observe: &mut dyn FnMut(&Engine),
) -> RunReport {
    run_all(policies, paths, None, observe)
}

/// As [`run_paths`], with `sink` set on every scenario's engine before its
/// expectations run: the audit records of every decision the scenarios make,
/// file after file, in one chain
pub fn run_paths_with_sink(
    policies: &Policies,
    paths: &[PathBuf],
    sink: &Arc<dyn AuditSink>,
) -> RunReport {
    run_all(policies, paths, Some(sink), &mut |_| {})
}

fn run_all(
    policies: &Policies,
    paths: &[PathBuf],
    sink: Option<&Arc<dyn AuditSink>>,
    observe: &mut dyn FnMut(&Engine),
) -> RunReport {
    let mut report = RunReport {
        coverage: Coverage::new(policies),
        ..RunReport::default()
    };
    let files = match collect_files(paths) {
        Ok(files) => files,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    for file in files {
        match run_file(policies, &file, sink, observe) {
            Ok(r) => report.merge(r),
            Err(e) => report.errors.push(e),
        }
    }
    report
}

fn run_file(
    policies: &Policies,
    file: &Path,
    sink: Option<&Arc<dyn AuditSink>>,
    observe: &mut dyn FnMut(&Engine),
) -> Result<RunReport, ScenarioError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ScenarioError::new(file, None, format!("cannot read: {e}")))?;
    let scenario = Scenario::parse(&text, file)?;
    let engine = Engine::with_policies(policies.clone());
    if let Some(sink) = sink {
        engine.set_audit_sink(Arc::clone(sink));
    }
    let r = run_scenario_on(&engine, &scenario, file, Some(&text))?;
    observe(&engine);
    Ok(r)
}

/// Runs one parsed scenario on a fresh engine with `policies`
///
/// # Errors
///
/// [`ScenarioError`] when an entity or event of the scenario is rejected.
pub fn run_scenario(
    policies: &Policies,
    scenario: &Scenario,
    file: &Path,
) -> Result<RunReport, ScenarioError> {
    let engine = Engine::with_policies(policies.clone());
    run_scenario_on(&engine, scenario, file, None)
}

/// Runs one parsed scenario on `engine`
#[expect(
    clippy::too_many_lines,
    reason = "split by the scenario work (issue 12)"
)]
fn run_scenario_on(
    engine: &Engine,
    scenario: &Scenario,
    file: &Path,
    text: Option<&str>,
) -> Result<RunReport, ScenarioError> {
    let policies = engine.policies();
    let mut report = RunReport {
        coverage: Coverage::new(&policies),
        ..RunReport::default()
    };
    scenario.load_into(engine, file, text)?;
    let name = file.display().to_string();
    let line = |table: &str, i: usize| text.and_then(|t| nth_table_line(t, table, i));
    let fail = |report: &mut RunReport, label: String, line, expected: String, actual: String| {
        report.failed += 1;
        report.failures.push(Failure {
            file: name.clone(),
            label,
            line,
            expected,
            actual,
        });
    };

    for (i, exp) in scenario.expect.iter().enumerate() {
        let label = format!("expect #{}", i + 1);
        let request = exp
            .request()
            .map_err(|e| ScenarioError::new(file, line("expect", i), format!("{label}: {e}")))?;
        let response = engine.decide(&request);
        let reasons_ok = exp
            .reasons
            .as_ref()
            .is_none_or(|want| want.iter().all(|r| response.reasons.contains(r)));
        report.coverage.count(&response, &exp.rules, exp.decision);
        if response.decision == exp.decision && reasons_ok {
            report.passed += 1;
        } else {
            let expected = show(exp.decision, exp.reasons.as_deref().unwrap_or(&[]));
            fail(
                &mut report,
                label,
                line("expect", i),
                expected,
                show(response.decision, &response.reasons),
            );
        }
    }

    for (i, exp) in scenario.expect_dashboard.iter().enumerate() {
        let label = format!("expect_dashboard #{}", i + 1);
        let answer = match engine.dashboard(&exp.query()) {
            Ok(a) => a,
            Err(e) => {
                fail(
                    &mut report,
                    label,
                    line("expect_dashboard", i),
                    "a dashboard".into(),
                    e.to_string(),
                );
                continue;
            }
        };
        let mut problems = Vec::new();
        for h in &answer.holders {
            let want = exp.visible.get(&h.holder).cloned().unwrap_or_default();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            let mut got_sorted = h.visible.clone();
            got_sorted.sort();
            if want_sorted != got_sorted {
                problems.push(format!(
                    "{}: expected [{}], got [{}]",
                    h.holder,
                    join(&want),
                    join(&h.visible)
                ));
            }
            if let Some(want) = exp.reasons.as_ref().and_then(|m| m.get(&h.holder))
                && !want.iter().all(|r| h.reasons.contains(r))
            {
                let w: Vec<&str> = want.iter().map(|r| r.as_str()).collect();
                let g: Vec<&str> = h.reasons.iter().map(|r| r.as_str()).collect();
                problems.push(format!(
                    "{} reasons: expected [{}], got [{}]",
                    h.holder,
                    w.join(", "),
                    g.join(", ")
                ));
            }
        }
        for (holder, want) in &exp.visible {
            if !want.is_empty() && !answer.holders.iter().any(|h| &h.holder == holder) {
                problems.push(format!(
                    "{holder}: expected [{}], but the dashboard does not list it",
                    join(want)
                ));
            }
        }
        if let Some(modules) = &exp.modules {
            for (module, allowed) in modules {
                let got = answer
                    .modules
                    .iter()
                    .find(|m| &m.module == module)
                    .map(|m| m.allowed);
                if got != Some(*allowed) {
                    problems.push(format!("module {module}: expected {allowed}, got {got:?}"));
                }
            }
        }
        report.coverage.count(
            &Response {
                decision: Decision::Allow,
                reasons: Vec::new(),
                policies: Vec::new(),
                seq: 0,
            },
            &exp.rules,
            if answer.holders.iter().any(|h| !h.visible.is_empty()) {
                Decision::Allow
            } else {
                Decision::Deny
            },
        );
        if problems.is_empty() {
            report.passed += 1;
        } else {
            fail(
                &mut report,
                label,
                line("expect_dashboard", i),
                "the dashboard".into(),
                problems.join("; "),
            );
        }
    }

    for (i, raw) in scenario.expect_error.iter().enumerate() {
        let label = format!("expect_error #{}", i + 1);
        let before = engine.seq();
        let outcome = serde_json::from_value::<EventRecord>(raw.clone())
            .map_err(|e| e.to_string())
            .and_then(|r| Event::try_from(r).map_err(|e| e.to_string()))
            .and_then(|e| engine.apply(&e).map_err(|e| e.to_string()));
        match outcome {
            Err(_) if engine.seq() == before => report.passed += 1,
            Err(_) => fail(
                &mut report,
                label,
                line("expect_error", i),
                "rejection, state unchanged".into(),
                "state changed".into(),
            ),
            Ok(seq) => fail(
                &mut report,
                label,
                line("expect_error", i),
                "the event to be rejected".into(),
                format!("applied as seq {seq}"),
            ),
        }
    }
    Ok(report)
}

fn join(categories: &[crate::model::ids::Category]) -> String {
    categories
        .iter()
        .map(super::super::model::ids::Category::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
