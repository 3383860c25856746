//! Running scenarios: every expectation against a fresh engine per file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    DashboardExpectation, Expectation, Scenario, ScenarioError, collect_files, nth_field_line,
    nth_table_line, read_file,
};
use crate::audit::AuditSink;
use crate::{
    Action, Category, DashboardAnswer, Decision, Engine, Event, EventRecord, Policies, Reason,
    Request, RequestError, Vocabulary,
};

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

    /// Counts one expectation: the policies that determined its decision
    /// (each once), and its rules with the decision it expected
    fn count<'p>(
        &mut self,
        policies: impl IntoIterator<Item = &'p String>,
        rules: &[String],
        expected: Decision,
    ) {
        for id in policies {
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
#[non_exhaustive]
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
    format!("{d} [{}]", codes(reasons))
}

/// Runs every scenario file under `paths` against `policies`
///
/// Files that cannot be read or parsed are reported in [`RunReport::errors`];
/// the others still run.
///
/// ```
/// use std::path::PathBuf;
/// let policies = zorg_pdp::Policies::shipped()?;
/// let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/tests"));
/// let report = zorg_pdp::scenario::run_paths(&policies, &[dir]);
/// assert!(report.errors.is_empty() && report.failures.is_empty());
/// assert!(report.passed > 200);
/// # Ok::<(), zorg_pdp::PolicyLoadError>(())
/// ```
pub fn run_paths(policies: &Policies, paths: &[PathBuf]) -> RunReport {
    run_all(policies, paths, None, &mut |_| {})
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
    let text = read_file(file)?;
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
/// [`ScenarioError`] when an entity or event of the scenario is rejected, or
/// an expectation does not fit its action or names a category or module the
/// policies' vocabulary does not know.
pub fn run_scenario(
    policies: &Policies,
    scenario: &Scenario,
    file: &Path,
) -> Result<RunReport, ScenarioError> {
    let engine = Engine::with_policies(policies.clone());
    run_scenario_on(&engine, scenario, file, None)
}

/// Runs one parsed scenario on `engine`: every expectation is checked
/// against the vocabulary before anything is applied, then the world is
/// loaded and each kind of expectation runs in file order
fn run_scenario_on(
    engine: &Engine,
    scenario: &Scenario,
    file: &Path,
    text: Option<&str>,
) -> Result<RunReport, ScenarioError> {
    let policies = engine.policies();
    let mut run = Run {
        engine,
        file,
        text,
        report: RunReport {
            coverage: Coverage::new(&policies),
            ..RunReport::default()
        },
    };
    let requests = run.requests(scenario, policies.vocabulary())?;
    run.check_dashboards(scenario, policies.vocabulary())?;
    scenario.load_into(engine, file, text)?;
    for (i, (exp, request)) in scenario.expect.iter().zip(&requests).enumerate() {
        run.expect(i, exp, request);
    }
    for (i, exp) in scenario.expect_dashboard.iter().enumerate() {
        run.expect_dashboard(i, exp);
    }
    for (i, raw) in scenario.expect_error.iter().enumerate() {
        run.expect_error(i, raw);
    }
    Ok(run.report)
}

/// One scenario's run: where it comes from, and what it found so far
struct Run<'a> {
    engine: &'a Engine,
    file: &'a Path,
    /// The TOML text, for line numbers
    text: Option<&'a str>,
    report: RunReport,
}

/// An expectation's place: its table (`expect`, …) and index in it
#[derive(Clone, Copy)]
struct Place {
    table: &'static str,
    index: usize,
}

impl Place {
    fn label(self) -> String {
        format!("{} #{}", self.table, self.index + 1)
    }
}

impl Run<'_> {
    fn line(&self, at: Place) -> Option<usize> {
        self.text
            .and_then(|t| nth_table_line(t, at.table, at.index))
    }

    /// An expectation that cannot run: the file, the line of `field` and the message
    fn error(&self, at: Place, field: &str, message: &str) -> ScenarioError {
        let line = self
            .text
            .and_then(|t| nth_field_line(t, at.table, at.index, field));
        ScenarioError::new(self.file, line, format!("{}: {message}", at.label()))
    }

    fn pass(&mut self) {
        self.report.passed += 1;
    }

    fn fail(&mut self, at: Place, expected: String, actual: String) {
        let failure = Failure {
            file: self.file.display().to_string(),
            label: at.label(),
            line: self.line(at),
            expected,
            actual,
        };
        self.report.failed += 1;
        self.report.failures.push(failure);
    }

    /// The request of every `[[expect]]`, each checked against `vocabulary`
    ///
    /// A category or module `vocabulary` does not know is an error, unless
    /// the expectation says it knows: a deny with `unknown_entity` among its
    /// reasons (how the engine answers such a request, fail closed).
    fn requests(
        &self,
        scenario: &Scenario,
        vocabulary: &Vocabulary,
    ) -> Result<Vec<Request>, ScenarioError> {
        let mut requests = Vec::with_capacity(scenario.expect.len());
        for (index, exp) in scenario.expect.iter().enumerate() {
            let at = Place {
                table: "expect",
                index,
            };
            let request = exp
                .request()
                .and_then(|r| match vocabulary.check_request(&r) {
                    Err(RequestError::UnknownValue { .. }) if exp.expects_unknown_entity() => Ok(r),
                    checked => checked.map(|()| r),
                })
                .map_err(|e| {
                    let field = match &e {
                        RequestError::MissingField { field, .. }
                        | RequestError::UnusedField { field, .. }
                        | RequestError::UnknownValue { field, .. } => field,
                    };
                    self.error(at, field, &e.to_string())
                })?;
            requests.push(request);
        }
        Ok(requests)
    }

    /// Every category and module an `[[expect_dashboard]]` names is one
    /// `vocabulary` knows
    fn check_dashboards(
        &self,
        scenario: &Scenario,
        vocabulary: &Vocabulary,
    ) -> Result<(), ScenarioError> {
        for (index, exp) in scenario.expect_dashboard.iter().enumerate() {
            let at = Place {
                table: "expect_dashboard",
                index,
            };
            for (holder, categories) in &exp.visible {
                if let Some(c) = categories.iter().find(|c| !vocabulary.has_category(c)) {
                    let message = format!("field `visible.{holder}`: unknown category `{c}`");
                    return Err(self.error(at, holder.as_str(), &message));
                }
            }
            let modules = exp.modules.iter().flat_map(BTreeMap::keys);
            if let Some(m) = modules.into_iter().find(|m| !vocabulary.has_module(m)) {
                let message = format!("field `modules`: unknown module `{m}`");
                return Err(self.error(at, m.as_str(), &message));
            }
        }
        Ok(())
    }

    /// One `[[expect]]`
    fn expect(&mut self, index: usize, exp: &Expectation, request: &Request) {
        let response = self.engine.decide(request);
        self.report
            .coverage
            .count(&response.policies, &exp.rules, exp.decision);
        let reasons_ok = exp
            .reasons
            .as_ref()
            .is_none_or(|want| want.iter().all(|r| response.reasons.contains(r)));
        if response.decision == exp.decision && reasons_ok {
            self.pass();
        } else {
            let at = Place {
                table: "expect",
                index,
            };
            self.fail(
                at,
                show(exp.decision, exp.reasons.as_deref().unwrap_or(&[])),
                show(response.decision, &response.reasons),
            );
        }
    }

    /// One `[[expect_dashboard]]`
    fn expect_dashboard(&mut self, index: usize, exp: &DashboardExpectation) {
        let at = Place {
            table: "expect_dashboard",
            index,
        };
        let answer = match self.engine.dashboard(&exp.query()) {
            Ok(answer) => answer,
            Err(e) => {
                self.fail(at, "a dashboard".into(), e.to_string());
                return;
            }
        };
        let (determining, mut problems) = self.views_of(exp, &answer);
        let shown = if answer.holders.iter().any(|h| !h.visible.is_empty()) {
            Decision::Allow
        } else {
            Decision::Deny
        };
        self.report.coverage.count(&determining, &exp.rules, shown);
        problems.extend(visible_problems(exp, &answer));
        problems.extend(module_problems(exp, &answer));
        if problems.is_empty() {
            self.pass();
        } else {
            self.fail(at, "the dashboard".into(), problems.join("; "));
        }
    }

    /// The decisions a dashboard summarises — a `view` per listed holder and
    /// category, a `contribute` per listed module — taken one by one on the
    /// reference path (which writes no audit record): the policies that
    /// determined them, and where the dashboard differs from them
    ///
    /// The dashboard answer does not name its policies, so they are found
    /// here; SPEC.md §4 has the dashboard equal its views, so they are the same.
    fn views_of(
        &self,
        exp: &DashboardExpectation,
        answer: &DashboardAnswer,
    ) -> (BTreeSet<String>, Vec<String>) {
        let query = exp.query();
        let policies = self.engine.policies();
        let ask = |action| Request {
            principal: query.principal.clone(),
            patient: query.patient.clone(),
            at: query.at,
            mfa: query.mfa,
            action,
        };
        let mut determining = BTreeSet::new();
        let mut problems = Vec::new();
        for h in &answer.holders {
            for category in policies.vocabulary().categories() {
                let response = self.engine.decide_plain(&ask(Action::View {
                    holder: h.holder.clone(),
                    category: category.clone(),
                    purpose: query.purpose,
                }));
                determining.extend(response.policies.iter().cloned());
                if h.visible.contains(category) != response.is_allowed() {
                    problems.push(format!(
                        "{}: the dashboard {} `{category}`, but `view` says {}",
                        h.holder,
                        if h.visible.contains(category) {
                            "shows"
                        } else {
                            "hides"
                        },
                        show(response.decision, &response.reasons),
                    ));
                }
            }
        }
        for m in &answer.modules {
            let response = self.engine.decide_plain(&ask(Action::Contribute {
                module: m.module.clone(),
            }));
            determining.extend(response.policies.iter().cloned());
            if m.allowed != response.is_allowed() {
                problems.push(format!(
                    "module {}: the dashboard says {}, but `contribute` says {}",
                    m.module,
                    m.allowed,
                    show(response.decision, &response.reasons),
                ));
            }
        }
        (determining, problems)
    }

    /// One `[[expect_error]]`: an event that must be rejected, with the state unchanged
    fn expect_error(&mut self, index: usize, raw: &serde_json::Value) {
        let at = Place {
            table: "expect_error",
            index,
        };
        let before = self.engine.seq();
        let outcome = serde_json::from_value::<EventRecord>(raw.clone())
            .map_err(|e| e.to_string())
            .and_then(|r| Event::try_from(r).map_err(|e| e.to_string()))
            .and_then(|e| self.engine.apply(&e).map_err(|e| e.to_string()));
        match outcome {
            Err(_) if self.engine.seq() == before => self.pass(),
            Err(_) => self.fail(
                at,
                "rejection, state unchanged".into(),
                "state changed".into(),
            ),
            Ok(seq) => self.fail(
                at,
                "the event to be rejected".into(),
                format!("applied as seq {seq}"),
            ),
        }
    }
}

/// Where a dashboard's holders differ from `visible` and `reasons`
fn visible_problems(exp: &DashboardExpectation, answer: &DashboardAnswer) -> Vec<String> {
    let mut problems = Vec::new();
    for h in &answer.holders {
        let want = exp.visible.get(&h.holder).map_or(&[][..], Vec::as_slice);
        let mut want_sorted = want.to_vec();
        want_sorted.sort();
        let mut got_sorted = h.visible.clone();
        got_sorted.sort();
        if want_sorted != got_sorted {
            problems.push(format!(
                "{}: expected [{}], got [{}]",
                h.holder,
                join(want),
                join(&h.visible)
            ));
        }
        if let Some(want) = exp.reasons.as_ref().and_then(|m| m.get(&h.holder))
            && !want.iter().all(|r| h.reasons.contains(r))
        {
            problems.push(format!(
                "{} reasons: expected [{}], got [{}]",
                h.holder,
                codes(want),
                codes(&h.reasons)
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
    problems
}

/// Where a dashboard's modules differ from `modules`
fn module_problems(exp: &DashboardExpectation, answer: &DashboardAnswer) -> Vec<String> {
    let Some(modules) = &exp.modules else {
        return Vec::new();
    };
    let mut problems = Vec::new();
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
    problems
}

fn join(categories: &[Category]) -> String {
    categories
        .iter()
        .map(Category::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn codes(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
