//! Running scenarios: every expectation against a fresh engine per file.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::locate::{Spans, Step};
use super::{
    ConsentExpectation, DashboardExpectation, Expectation, Format, Scenario, ScenarioError,
    collect_files, format_of, nth_field_line, nth_table_line, read_file, sorted,
};
use crate::audit::AuditSink;
use crate::diagnostic;
use crate::{
    Action, Category, ConsentAnswer, DashboardAnswer, Decision, Engine, Event, EventRecord,
    OrganisationId, Policies, Reason, Request, RequestError, Vocabulary,
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

/// One expectation that ran, and how it went
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Case {
    /// The scenario file
    pub file: String,
    /// `expect #3`, `expect_dashboard #1`, `expect_error #2`
    pub label: String,
    /// The line of the expectation in a TOML file
    pub line: Option<usize>,
    /// The expectation's `name`, or else its `note`
    pub name: Option<String>,
    /// Why it failed; `None` when it passed
    pub failure: Option<Failure>,
}

impl Case {
    /// Whether the expectation held
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// How often each policy determined an expectation's decision: a permit that
/// granted or a forbid that fired
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Coverage {
    /// Per loaded policy id, the count (zero for policies no expectation reached)
    pub by_policy: BTreeMap<String, usize>,
    /// Per rule named in an expectation's `rules`, (allow, deny) expectation
    /// counts (a dashboard counts as allow when it shows a category);
    /// [`Coverage::rules`] lists them in numeric order
    pub by_rule: BTreeMap<String, (usize, usize)>,
    /// How many of the counted expectations were `[[expect_dashboard]]`s
    pub dashboards: usize,
    /// Per rule, how many of its expectations were dashboards
    pub dashboards_by_rule: BTreeMap<String, usize>,
}

impl Coverage {
    fn new(policies: &Policies) -> Self {
        Self {
            by_policy: policies.ids().iter().map(|id| (id.clone(), 0)).collect(),
            ..Self::default()
        }
    }

    /// Every rule named in an expectation's `rules`, with its (allow, deny)
    /// counts, in numeric order: `R2` before `R10`
    pub fn rules(&self) -> Vec<(&str, (usize, usize))> {
        let mut rules: Vec<(&str, (usize, usize))> =
            self.by_rule.iter().map(|(r, &n)| (r.as_str(), n)).collect();
        rules.sort_by(|a, b| numeric_key(a.0).cmp(&numeric_key(b.0)));
        rules
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

/// A rule name's sort key: its letters, its number, the rest (`R2` before
/// `R10`; names without a number after the ones with)
fn numeric_key(rule: &str) -> (&str, u64, &str) {
    let letters = rule
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(rule.len());
    let (prefix, rest) = rule.split_at(letters);
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (number, tail) = rest.split_at(digits);
    (prefix, number.parse().unwrap_or(u64::MAX), tail)
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
    /// Every error of the files that could not be read, parsed or set up:
    /// file after file, each file's in the order of its text
    pub errors: Vec<ScenarioError>,
    /// Policy and rule coverage
    pub coverage: Coverage,
    /// Every expectation that ran, passed or failed, in file order
    pub cases: Vec<Case>,
    /// Expectations a filter left out ([`Runner::filter`])
    pub filtered: usize,
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
        self.cases.extend(other.cases);
        self.filtered += other.filtered;
        for (id, n) in other.coverage.by_policy {
            *self.coverage.by_policy.entry(id).or_default() += n;
        }
        for (rule, (a, d)) in other.coverage.by_rule {
            let t = self.coverage.by_rule.entry(rule).or_default();
            t.0 += a;
            t.1 += d;
        }
        self.coverage.dashboards += other.coverage.dashboards;
        for (rule, n) in other.coverage.dashboards_by_rule {
            *self.coverage.dashboards_by_rule.entry(rule).or_default() += n;
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
    Runner::new(policies).run(paths)
}

/// As [`run_paths`], with `sink` set on every scenario's engine before its
/// expectations run: the audit records of every decision the scenarios make,
/// file after file, in one chain
pub fn run_paths_with_sink(
    policies: &Policies,
    paths: &[PathBuf],
    sink: &Arc<dyn AuditSink>,
) -> RunReport {
    Runner::new(policies)
        .audit_sink(Arc::clone(sink))
        .run(paths)
}

/// Runs scenario files with options: which expectations, and where their
/// audit records go
///
/// ```
/// use std::path::PathBuf;
/// use zorg_pdp::scenario::Runner;
/// let policies = zorg_pdp::Policies::shipped()?;
/// let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/tests"));
/// let report = Runner::new(&policies).filter("R12").run(&[dir]);
/// assert!(report.passed > 0 && report.filtered > 0 && report.failed == 0);
/// # Ok::<(), zorg_pdp::PolicyLoadError>(())
/// ```
pub struct Runner<'a> {
    policies: &'a Policies,
    filter: Option<String>,
    sink: Option<Arc<dyn AuditSink>>,
}

impl fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("policies", &self.policies.content_hash())
            .field("filter", &self.filter)
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl<'a> Runner<'a> {
    /// Runs every expectation against `policies`, with no audit sink
    pub fn new(policies: &'a Policies) -> Self {
        Self {
            policies,
            filter: None,
            sink: None,
        }
    }

    /// Runs only the expectations `pattern` is part of the name of: all of a
    /// file whose path or scenario `name` contains it, else each expectation
    /// whose label (`expect #3`), `name` or `note` contains it, or one of
    /// whose `rules` is it (case-sensitive); the rest are counted in
    /// [`RunReport::filtered`]. A file none of whose expectations match is
    /// parsed but not run.
    #[must_use]
    pub fn filter(mut self, pattern: impl Into<String>) -> Self {
        self.filter = Some(pattern.into());
        self
    }

    /// Sets `sink` on every scenario's engine before its expectations run
    #[must_use]
    pub fn audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Runs every scenario file under `paths`
    pub fn run(&self, paths: &[PathBuf]) -> RunReport {
        let mut report = RunReport {
            coverage: Coverage::new(self.policies),
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
            match self.run_file(&file, Mode::Run) {
                Ok(r) => report.merge(r),
                Err(e) => report.errors.extend(e),
            }
        }
        report
    }

    fn run_file(&self, file: &Path, mode: Mode) -> Result<RunReport, Vec<ScenarioError>> {
        let text = read_file(file).map_err(|e| vec![e])?;
        let scenario = Scenario::parse_all(&text, file)?;
        let engine = Engine::with_policies(self.policies.clone());
        if let Some(sink) = &self.sink {
            engine.set_audit_sink(Arc::clone(sink));
        }
        let select = Select::new(self.filter.as_deref(), file, &scenario);
        run_scenario_on(&engine, &scenario, file, Some(&text), &select, mode)
    }
}

/// What a run does with a scenario
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Check it and run its expectations
    Run,
    /// Check it and load its world only
    Check,
}

/// The outcome of checking scenario files ([`check_paths`])
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CheckReport {
    /// The scenario files found
    pub files: usize,
    /// How many expectations the files that check hold
    pub expectations: usize,
    /// Every error, file after file, each file's in the order of its text
    pub errors: Vec<ScenarioError>,
}

/// Checks every scenario file under `paths` against `policies` without
/// running an expectation: each file parses, every expectation fits its
/// action and names only what the policies' vocabulary and the scenario's
/// organisations know, and its world (entities, events) loads
///
/// ```
/// use std::path::PathBuf;
/// let policies = zorg_pdp::Policies::shipped()?;
/// let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/tests"));
/// let report = zorg_pdp::scenario::check_paths(&policies, &[dir]);
/// assert!(report.errors.is_empty() && report.files > 20);
/// # Ok::<(), zorg_pdp::PolicyLoadError>(())
/// ```
pub fn check_paths(policies: &Policies, paths: &[PathBuf]) -> CheckReport {
    let mut report = CheckReport::default();
    let files = match collect_files(paths) {
        Ok(files) => files,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    let runner = Runner::new(policies);
    for file in files {
        report.files += 1;
        match runner.run_file(&file, Mode::Check) {
            Ok(r) => report.expectations += r.filtered,
            Err(e) => report.errors.extend(e),
        }
    }
    report
}

/// Which expectations of one file run
#[derive(Debug)]
struct Select<'p> {
    pattern: Option<&'p str>,
    /// The file's path or scenario name matches: everything runs
    whole: bool,
}

impl<'p> Select<'p> {
    fn new(pattern: Option<&'p str>, file: &Path, scenario: &Scenario) -> Self {
        let whole = pattern.is_none_or(|p| {
            file.to_string_lossy().contains(p)
                || scenario.name.as_deref().is_some_and(|n| n.contains(p))
        });
        Self { pattern, whole }
    }

    /// Whether an expectation with this label, name, note and rules runs
    fn runs(&self, label: &str, name: Option<&str>, note: Option<&str>, rules: &[String]) -> bool {
        let Some(p) = self.pattern.filter(|_| !self.whole) else {
            return true;
        };
        label.contains(p)
            || name.is_some_and(|n| n.contains(p))
            || note.is_some_and(|n| n.contains(p))
            || rules.iter().any(|r| r == p)
    }
}

/// Runs one parsed scenario on a fresh engine with `policies`
///
/// # Errors
///
/// [`ScenarioError`] (the first, in the order of the file) when an entity or
/// event of the scenario is rejected, or an expectation does not fit its
/// action or names a category, module or holder the policies' vocabulary or
/// the scenario does not know.
pub fn run_scenario(
    policies: &Policies,
    scenario: &Scenario,
    file: &Path,
) -> Result<RunReport, ScenarioError> {
    let engine = Engine::with_policies(policies.clone());
    let select = Select::new(None, file, scenario);
    run_scenario_on(&engine, scenario, file, None, &select, Mode::Run)
        .map_err(|errors| super::first(errors, file))
}

/// Runs one parsed scenario on `engine`: every expectation is checked
/// against the vocabulary and the scenario's organisations before anything
/// is applied, then the world is loaded and each kind of expectation runs
/// in file order; every error found before running, in the order of the file
fn run_scenario_on(
    engine: &Engine,
    scenario: &Scenario,
    file: &Path,
    text: Option<&str>,
    select: &Select<'_>,
    mode: Mode,
) -> Result<RunReport, Vec<ScenarioError>> {
    let policies = engine.policies();
    let mut run = Run {
        engine,
        file,
        text,
        spans: OnceCell::new(),
        report: RunReport {
            coverage: Coverage::new(&policies),
            ..RunReport::default()
        },
    };
    let total = scenario.expect.len()
        + scenario.expect_dashboard.len()
        + scenario.expect_consent.len()
        + scenario.expect_error.len();
    let chosen = Chosen::of(scenario, select);
    if mode == Mode::Run && chosen.count() == 0 {
        run.report.filtered = total;
        return Ok(run.report);
    }
    let mut errors = Vec::new();
    let requests = run.requests(scenario, policies.vocabulary(), &mut errors);
    run.check_dashboards(scenario, policies.vocabulary(), &mut errors);
    run.check_expect_errors(scenario, &mut errors);
    if let Err(e) = scenario.load_into(engine, file, text) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(sorted(errors));
    }
    if mode == Mode::Check {
        // The expectations that would run, for the check's count
        run.report.filtered = total;
        return Ok(run.report);
    }
    for (i, (exp, request)) in scenario.expect.iter().zip(&requests).enumerate() {
        match request {
            Some(request) if chosen.expect.contains(&i) => run.expect(i, exp, request),
            _ => run.report.filtered += 1,
        }
    }
    for (i, exp) in scenario.expect_dashboard.iter().enumerate() {
        if chosen.dashboard.contains(&i) {
            run.expect_dashboard(i, exp);
        } else {
            run.report.filtered += 1;
        }
    }
    for (i, exp) in scenario.expect_consent.iter().enumerate() {
        if chosen.consent.contains(&i) {
            run.expect_consent(i, exp);
        } else {
            run.report.filtered += 1;
        }
    }
    for (i, raw) in scenario.expect_error.iter().enumerate() {
        if chosen.error.contains(&i) {
            run.expect_error(i, raw);
        } else {
            run.report.filtered += 1;
        }
    }
    Ok(run.report)
}

/// The wire name of a consent answer
fn answer_name(a: ConsentAnswer) -> &'static str {
    match a {
        ConsentAnswer::Permit => "permit",
        ConsentAnswer::NoChoice => "no_choice",
        ConsentAnswer::Refused => "refused",
        ConsentAnswer::Indeterminate => "indeterminate",
    }
}

/// The indexes of the expectations of each kind that run
#[derive(Debug, Default)]
struct Chosen {
    expect: HashSet<usize>,
    dashboard: HashSet<usize>,
    consent: HashSet<usize>,
    error: HashSet<usize>,
}

impl Chosen {
    fn of(scenario: &Scenario, select: &Select<'_>) -> Self {
        let label = |table: &str, i: usize| format!("{table} #{}", i + 1);
        let expect = scenario.expect.iter().enumerate().filter(|(i, e)| {
            select.runs(
                &label("expect", *i),
                e.name.as_deref(),
                e.note.as_deref(),
                &e.rules,
            )
        });
        let dashboard = scenario
            .expect_dashboard
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                select.runs(
                    &label("expect_dashboard", *i),
                    e.name.as_deref(),
                    e.note.as_deref(),
                    &e.rules,
                )
            });
        let consent = scenario.expect_consent.iter().enumerate().filter(|(i, e)| {
            select.runs(
                &label("expect_consent", *i),
                e.name.as_deref(),
                e.note.as_deref(),
                &e.rules,
            )
        });
        let error = scenario.expect_error.iter().enumerate().filter(|(i, raw)| {
            let text = |key: &str| raw.get(key).and_then(serde_json::Value::as_str);
            select.runs(&label("expect_error", *i), text("name"), text("note"), &[])
        });
        Self {
            expect: expect.map(|(i, _)| i).collect(),
            dashboard: dashboard.map(|(i, _)| i).collect(),
            consent: consent.map(|(i, _)| i).collect(),
            error: error.map(|(i, _)| i).collect(),
        }
    }

    fn count(&self) -> usize {
        self.expect.len() + self.dashboard.len() + self.consent.len() + self.error.len()
    }
}

/// The keys of an `[[expect_error]]` entry that are not the event's
const EXPECT_ERROR_KEYS: [&str; 4] = ["field", "message", "name", "note"];

/// One scenario's run: where it comes from, and what it found so far
struct Run<'a> {
    engine: &'a Engine,
    file: &'a Path,
    /// The file's text (TOML or JSON), for places and line numbers
    text: Option<&'a str>,
    /// The text's spans, made when the first error needs them
    spans: OnceCell<Spans<'a>>,
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

impl<'a> Run<'a> {
    fn line(&self, at: Place) -> Option<usize> {
        self.text
            .and_then(|t| nth_table_line(t, at.table, at.index))
    }

    fn spans(&self) -> Option<&Spans<'a>> {
        let text = self.text?;
        Some(self.spans.get_or_init(|| {
            let source = diagnostic::source(&self.file.display().to_string(), text);
            Spans::new(source, text, format_of(self.file) == Format::Toml)
        }))
    }

    /// An expectation that cannot run: the file, the place of the field
    /// `path` leads to (the line of `field` when the file has no spans),
    /// and the message
    fn error(&self, at: Place, path: &[Step<'_>], field: &str, message: &str) -> ScenarioError {
        let message = format!("{}: {message}", at.label());
        if let Some(spans) = self.spans()
            && let Some(span) = spans.find(at.table, at.index, path)
        {
            return ScenarioError::located(self.file, spans.location(span), message);
        }
        let line = self
            .text
            .and_then(|t| nth_field_line(t, at.table, at.index, field));
        ScenarioError::new(self.file, line, message)
    }

    /// Records how an expectation went
    fn case(&mut self, at: Place, name: Option<&str>, failure: Option<Failure>) {
        self.report.cases.push(Case {
            file: self.file.display().to_string(),
            label: at.label(),
            line: self.line(at),
            name: name.map(str::to_owned),
            failure,
        });
    }

    fn pass(&mut self, at: Place, name: Option<&str>) {
        self.report.passed += 1;
        self.case(at, name, None);
    }

    fn fail(&mut self, at: Place, name: Option<&str>, expected: String, actual: String) {
        let failure = Failure {
            file: self.file.display().to_string(),
            label: at.label(),
            line: self.line(at),
            expected,
            actual,
        };
        self.report.failed += 1;
        self.report.failures.push(failure.clone());
        self.case(at, name, Some(failure));
    }

    /// The request of every `[[expect]]`, each checked against `vocabulary`
    /// (`None` for one that does not fit, with its error added to `errors`)
    ///
    /// A category or module `vocabulary` does not know is an error, unless
    /// the expectation says it knows: a deny with `unknown_entity` among its
    /// reasons (how the engine answers such a request, fail closed).
    fn requests(
        &self,
        scenario: &Scenario,
        vocabulary: &Vocabulary,
        errors: &mut Vec<ScenarioError>,
    ) -> Vec<Option<Request>> {
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
                    // A missing field has no place of its own: the expectation's
                    let path: &[Step<'_>] = match &e {
                        RequestError::MissingField { .. } => &[],
                        _ => &[Step::Key(field)],
                    };
                    self.error(at, path, field, &e.to_string())
                });
            match request {
                Ok(request) => requests.push(Some(request)),
                Err(e) => {
                    errors.push(e);
                    requests.push(None);
                }
            }
        }
        requests
    }

    /// Every category and module an `[[expect_dashboard]]` names is one
    /// `vocabulary` knows, and every holder one of the scenario's organisations
    fn check_dashboards(
        &self,
        scenario: &Scenario,
        vocabulary: &Vocabulary,
        errors: &mut Vec<ScenarioError>,
    ) {
        let organisations: HashSet<&OrganisationId> =
            scenario.organisations.iter().map(|o| &o.id).collect();
        for (index, exp) in scenario.expect_dashboard.iter().enumerate() {
            let at = Place {
                table: "expect_dashboard",
                index,
            };
            for (holder, categories) in &exp.visible {
                let key = holder.as_str();
                if !organisations.contains(holder) {
                    let message = format!(
                        "field `visible`: unknown holder `{holder}` (not among the `[[organisations]]`)"
                    );
                    let path = [Step::Key("visible"), Step::KeyName(key)];
                    errors.push(self.error(at, &path, key, &message));
                }
                for c in categories.iter().filter(|c| !vocabulary.has_category(c)) {
                    let message = format!("field `visible.{holder}`: unknown category `{c}`");
                    let path = [
                        Step::Key("visible"),
                        Step::Key(key),
                        Step::Element(c.as_str()),
                    ];
                    errors.push(self.error(at, &path, key, &message));
                }
            }
            for holder in exp.reasons.iter().flat_map(BTreeMap::keys) {
                if !organisations.contains(holder) {
                    let key = holder.as_str();
                    let message = format!(
                        "field `reasons`: unknown holder `{holder}` (not among the `[[organisations]]`)"
                    );
                    let path = [Step::Key("reasons"), Step::KeyName(key)];
                    errors.push(self.error(at, &path, key, &message));
                }
            }
            let modules = exp.modules.iter().flat_map(BTreeMap::keys);
            for m in modules.filter(|m| !vocabulary.has_module(m)) {
                let message = format!("field `modules`: unknown module `{m}`");
                let path = [Step::Key("modules"), Step::KeyName(m.as_str())];
                errors.push(self.error(at, &path, m.as_str(), &message));
            }
        }
    }

    /// Every `[[expect_error]]` is a table, and its `field`, `message`,
    /// `name` and `note` are strings
    fn check_expect_errors(&self, scenario: &Scenario, errors: &mut Vec<ScenarioError>) {
        for (index, raw) in scenario.expect_error.iter().enumerate() {
            let at = Place {
                table: "expect_error",
                index,
            };
            let Some(table) = raw.as_object() else {
                errors.push(self.error(at, &[], "", "must be a table of an event's fields"));
                continue;
            };
            for key in EXPECT_ERROR_KEYS {
                if table.get(key).is_some_and(|v| !v.is_string()) {
                    let message = format!("field `{key}`: must be a string");
                    errors.push(self.error(at, &[Step::Key(key)], key, &message));
                }
            }
        }
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
        let at = Place {
            table: "expect",
            index,
        };
        let name = exp.name.as_deref().or(exp.note.as_deref());
        if response.decision == exp.decision && reasons_ok {
            self.pass(at, name);
        } else {
            self.fail(
                at,
                name,
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
        let name = exp.name.as_deref().or(exp.note.as_deref());
        self.report.coverage.dashboards += 1;
        for rule in &exp.rules {
            *self
                .report
                .coverage
                .dashboards_by_rule
                .entry(rule.clone())
                .or_default() += 1;
        }
        let answer = match self.engine.dashboard(&exp.query()) {
            Ok(answer) => answer,
            Err(e) => {
                self.fail(at, name, "a dashboard".into(), e.to_string());
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
            self.pass(at, name);
        } else {
            self.fail(at, name, "the dashboard".into(), problems.join("; "));
        }
    }

    /// One `[[expect_consent]]`: a `consent_check`, its answer per data
    /// category and, where given, exactly its deciding statements
    fn expect_consent(&mut self, index: usize, exp: &ConsentExpectation) {
        let at = Place {
            table: "expect_consent",
            index,
        };
        let name = exp.name.as_deref().or(exp.note.as_deref());
        let answer = match self.engine.consent_check(&exp.query()) {
            Ok(answer) => answer,
            Err(e) => {
                self.fail(at, name, "a consent answer".into(), e.to_string());
                return;
            }
        };
        let permits = answer.answers.iter().any(|a| a.answer.is_permit());
        let shown = if permits {
            Decision::Allow
        } else {
            Decision::Deny
        };
        self.report
            .coverage
            .count(std::iter::empty(), &exp.rules, shown);
        let mut problems = Vec::new();
        for a in &answer.answers {
            let g = &a.data_category;
            if exp.answers.get(g) != Some(&a.answer) {
                problems.push(format!(
                    "{g}: expected {}, got {}",
                    exp.answers.get(g).map_or("nothing", |w| answer_name(*w)),
                    answer_name(a.answer)
                ));
            }
            if let Some(want) = exp.statements.as_ref().and_then(|s| s.get(g)) {
                let mut want = want.clone();
                let mut got = a.statements.clone();
                want.sort();
                got.sort();
                if want != got {
                    problems.push(format!(
                        "{g}: expected statements [{}], got [{}]",
                        want.join(", "),
                        got.join(", ")
                    ));
                }
            }
        }
        if problems.is_empty() {
            self.pass(at, name);
        } else {
            self.fail(at, name, "the consent answers".into(), problems.join("; "));
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
            min_seq: query.min_seq,
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

    /// One `[[expect_error]]`: an event that must be rejected, with the
    /// state unchanged, and (when the entry says) a rejection that names
    /// `field` and contains `message`
    fn expect_error(&mut self, index: usize, raw: &serde_json::Value) {
        let at = Place {
            table: "expect_error",
            index,
        };
        let text = |key: &str| raw.get(key).and_then(serde_json::Value::as_str);
        let name = text("name").or(text("note")).map(str::to_owned);
        let want_field = text("field");
        let want_message = text("message");
        let mut event = raw.clone();
        if let Some(table) = event.as_object_mut() {
            for key in EXPECT_ERROR_KEYS {
                table.remove(key);
            }
        }
        let before = self.engine.seq();
        match self.reject(&event) {
            Ok(seq) => self.fail(
                at,
                name.as_deref(),
                "the event to be rejected".into(),
                format!("applied as seq {seq}"),
            ),
            Err(_) if self.engine.seq() != before => self.fail(
                at,
                name.as_deref(),
                "rejection, state unchanged".into(),
                "state changed".into(),
            ),
            Err(rejection) => {
                let field_ok = want_field.is_none_or(|f| rejection.field.as_deref() == Some(f));
                let message_ok = want_message.is_none_or(|m| rejection.message.contains(m));
                if field_ok && message_ok {
                    self.pass(at, name.as_deref());
                } else {
                    let mut expected = "a rejection".to_owned();
                    if let Some(f) = want_field {
                        let _ = write!(expected, " naming field `{f}`");
                    }
                    if let Some(m) = want_message {
                        let and = if want_field.is_some() { " and" } else { "" };
                        let _ = write!(expected, "{and} containing `{m}`");
                    }
                    let actual = match &rejection.field {
                        Some(f) => format!("a rejection naming field `{f}`: {}", rejection.message),
                        None => format!("a rejection naming no field: {}", rejection.message),
                    };
                    self.fail(at, name.as_deref(), expected, actual);
                }
            }
        }
    }

    /// Applies the event of an `[[expect_error]]` (its own keys removed):
    /// its seq, or the rejection
    fn reject(&self, event: &serde_json::Value) -> Result<u64, Rejection> {
        // As JSON text, so a malformed value is named by its field
        let text = serde_json::to_string_pretty(event).unwrap_or_default();
        let record = crate::model::parse_json::<EventRecord>(&text, "event").map_err(|e| {
            let message = match &e {
                crate::ParseError::Syntax { message, .. } => message.clone(),
                other => other.to_string(),
            };
            Rejection {
                field: field_named(&message),
                message,
            }
        })?;
        let rejected = |e: crate::EventError| Rejection {
            field: Some(e.field().to_owned()),
            message: e.to_string(),
        };
        let event = Event::try_from(record).map_err(rejected)?;
        self.engine.apply(&event).map_err(rejected)
    }
}

/// Why an event was rejected: the field it names, and the message
#[derive(Debug)]
struct Rejection {
    field: Option<String>,
    message: String,
}

/// The first field a message names (`` field `x` ``, `` unknown field `x` ``,
/// `` missing field `x` ``)
pub(super) fn field_named(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let rest = message.get(start..)?;
    rest.find('`')
        .and_then(|end| rest.get(..end))
        .map(str::to_owned)
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

#[cfg(test)]
mod tests {
    use super::*;

    const WORLD: &str = r#"name = "a small world"

[[organisations]]
id = "vp-noord"
[[organisations]]
id = "kz-oost"

[[practitioners]]
id = "anna"
organisation = "kz-oost"
role = "kraamverzorgende"

[[patients]]
id = "client-1"

[[events]]
at = "2026-01-10T09:00:00Z"
type = "treatment_started"
patient = "client-1"
organisation = "kz-oost"
"#;

    fn policies() -> Policies {
        Policies::shipped().unwrap()
    }

    /// Writes `text` to a scratch file and runs (or checks) it
    fn with_file<T>(name: &str, text: &str, f: impl FnOnce(&Path) -> T) -> T {
        let dir = std::env::temp_dir().join(format!("zorg-pdp-run-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = f(&file);
        std::fs::remove_dir_all(&dir).unwrap();
        out
    }

    #[test]
    fn rules_are_listed_in_numeric_order() {
        let mut rules = vec!["R10", "R2", "R1", "R51", "X", "R9b", "R9"];
        rules.sort_by(|a, b| numeric_key(a).cmp(&numeric_key(b)));
        assert_eq!(rules, ["R1", "R2", "R9", "R9b", "R10", "R51", "X"]);
    }

    #[test]
    fn every_toml_syntax_error_is_reported_at_its_place() {
        let text = format!(
            "{WORLD}\n[[expect]]\nat = 2026-02-01T00:00:00\nprincipal = {{ practitioner = \"anna\" \naction = \"view\"\n"
        );
        let errors = Scenario::parse_all(&text, Path::new("s.toml")).unwrap_err();
        assert!(!errors.is_empty());
        for e in &errors {
            let at = e.location().unwrap();
            assert_eq!(e.line(), Some(at.line()));
            assert!(at.line() > WORLD.lines().count(), "{e}");
        }
        let lines: Vec<usize> = errors.iter().filter_map(ScenarioError::line).collect();
        let mut sorted_lines = lines.clone();
        sorted_lines.sort_unstable();
        assert_eq!(lines, sorted_lines, "in the order of the text");
        // JSON: at serde_json's line and column
        let e = Scenario::parse("{\n  \"name\": 3\n}", Path::new("s.json")).unwrap_err();
        let at = e.location().unwrap();
        assert_eq!((at.line(), e.line()), (2, Some(2)), "{e}");
        assert!(e.message().contains("field `name`"), "{e}");
    }

    #[test]
    fn every_unknown_holder_category_and_module_of_a_file_is_an_error_at_its_field() {
        let text = format!(
            "{WORLD}\n[[expect_dashboard]]\nat = \"2026-02-01T00:00:00Z\"\nprincipal = {{ practitioner = \"anna\" }}\npatient = \"client-1\"\n[expect_dashboard.visible]\nvp-noord = [\"basis\", \"kraambedd\"]\nvp-nergens = []\n[expect_dashboard.modules]\nDN = false\n"
        );
        let report = with_file("holders.toml", &text, |f| {
            check_paths(&policies(), &[f.to_path_buf()])
        });
        let said: Vec<String> = report.errors.iter().map(ScenarioError::to_string).collect();
        assert_eq!(report.errors.len(), 3, "{said:#?}");
        let line = |start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
        let places: Vec<(usize, usize)> = report
            .errors
            .iter()
            .map(|e| {
                let at = e.location().unwrap();
                (at.line(), at.column())
            })
            .collect();
        assert_eq!(
            places,
            [
                (line("vp-noord"), 22),
                (line("vp-nergens"), 1),
                (line("DN"), 1)
            ],
            "{said:#?}"
        );
        assert!(
            said[0].contains("unknown category `kraambedd`"),
            "{}",
            said[0]
        );
        assert!(
            said[1].contains("field `visible`: unknown holder `vp-nergens`"),
            "{}",
            said[1]
        );
        assert!(said[2].contains("unknown module `DN`"), "{}", said[2]);
        // Debug shows the place, not what the message names
        let debug = format!("{:?}", report.errors[1]);
        assert!(
            !debug.contains("vp-nergens") && debug.contains("line"),
            "{debug}"
        );
    }

    #[test]
    fn expect_error_checks_the_field_and_message_it_names() {
        let entry = |extra: &str| {
            format!(
                "\n[[expect_error]]\n{extra}at = \"2026-02-01T10:00:00Z\"\ntype = \"treatment_started\"\npatient = \"client-1\"\norganisation = \"vp-nergens\"\n"
            )
        };
        let text = format!(
            "{WORLD}{}{}{}{}{}",
            entry(
                "name = \"unknown organisation\"\nfield = \"organisation\"\nmessage = \"vp-nergens\"\n"
            ),
            entry("field = \"patient\"\n"),
            entry("message = \"no such words\"\n"),
            entry(""),
            "\n[[expect_error]]\nfield = \"practitioner\"\nat = \"2026-02-01T10:00:00Z\"\ntype = \"access_requested\"\npractitioner = \"a b\"\npatient = \"client-1\"\n",
        );
        let report = with_file("errors.toml", &text, |f| {
            run_paths(&policies(), &[f.to_path_buf()])
        });
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let outcomes: Vec<bool> = report.cases.iter().map(Case::passed).collect();
        assert_eq!(
            outcomes,
            [true, false, false, true, true],
            "{:#?}",
            report.failures
        );
        assert_eq!(
            report.cases[0].name.as_deref(),
            Some("unknown organisation")
        );
        let wrong_field = &report.failures[0];
        assert_eq!(wrong_field.expected, "a rejection naming field `patient`");
        assert!(
            wrong_field
                .actual
                .starts_with("a rejection naming field `organisation`: "),
            "{wrong_field}"
        );
        assert_eq!(
            report.failures[1].expected,
            "a rejection containing `no such words`"
        );
        // A non-string `field` is an error of the file
        let bad = format!("{WORLD}{}", entry("field = 3\n"));
        let report = with_file("bad.toml", &bad, |f| {
            run_paths(&policies(), &[f.to_path_buf()])
        });
        assert_eq!(report.errors.len(), 1);
        assert!(
            report.errors[0]
                .to_string()
                .contains("expect_error #1: field `field`: must be a string")
        );
    }

    #[test]
    fn a_filter_runs_the_matching_expectations_and_counts_the_rest() {
        let expect = |name: &str, rules: &str| {
            format!(
                "\n[[expect]]\nname = \"{name}\"\nrules = [{rules}]\nat = \"2026-02-01T00:00:00Z\"\nprincipal = {{ practitioner = \"anna\" }}\naction = \"view\"\npatient = \"client-1\"\nholder = \"kz-oost\"\ncategory = \"basis\"\ndecision = \"allow\"\n"
            )
        };
        let text = format!(
            "{WORLD}{}{}{}",
            expect("first", "\"R5\""),
            expect("second", "\"R50\""),
            expect("third", "")
        );
        with_file("filter.toml", &text, |f| {
            let p = policies();
            let paths = [f.to_path_buf()];
            let run = |pattern: &str| Runner::new(&p).filter(pattern).run(&paths);
            let r = run("second");
            assert_eq!((r.passed, r.filtered), (1, 2), "{:?}", r.failures);
            assert_eq!(r.cases[0].name.as_deref(), Some("second"));
            let r = run("R5");
            assert_eq!(
                (r.passed, r.filtered),
                (1, 2),
                "a rule matches whole, not R50"
            );
            let r = run("expect #3");
            assert_eq!(r.cases[0].label, "expect #3");
            let r = run("small world");
            assert_eq!(
                (r.passed, r.filtered),
                (3, 0),
                "the scenario's name selects the file"
            );
            let r = run("nothing");
            assert_eq!((r.passed + r.failed, r.filtered), (0, 3));
        });
    }

    #[test]
    fn every_entry_that_does_not_fit_the_format_is_an_error_at_its_place() {
        // A wrong-typed field, an unknown field and a missing field, in three
        // entries of three tables, and a second wrong entry of the same table
        let text = "name = \"x\"\n\n[[organisations]]\nid = \"vp-noord\"\n\n[[practitioners]]\nid = \"anna\"\norganisation = \"vp-noord\"\nrole = 3\n\n[[events]]\nat = \"2026-01-10T09:00:00Z\"\ntype = \"treatment_started\"\npateint = \"client-1\"\norganisation = \"vp-noord\"\n\n[[expect]]\nat = \"2026-02-01T00:00:00Z\"\nprincipal = { practitioner = \"anna\" }\naction = \"view\"\npatient = \"client-1\"\n\n[[expect]]\nat = 5\n";
        let errors = Scenario::parse_all(text, Path::new("s.toml")).unwrap_err();
        let found: Vec<(usize, usize, &str)> = errors
            .iter()
            .map(|e| {
                let at = e.location().unwrap();
                (at.line(), at.column(), text.get(at.span()).unwrap())
            })
            .collect();
        assert_eq!(
            found,
            [
                (9, 8, "3"),
                (14, 1, "pateint"),
                (17, 1, "[[expect]]"),
                (24, 6, "5")
            ],
            "{errors:?}"
        );
        let messages: Vec<&str> = errors.iter().map(ScenarioError::message).collect();
        assert!(
            messages[0].starts_with("practitioners #1: field `role`: invalid type: integer `3`"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with("events #1: unknown field `pateint`"),
            "{}",
            messages[1]
        );
        assert_eq!(messages[2], "expect #1: missing field `decision`");
        assert!(
            messages[3].starts_with("expect #2: field `at`: "),
            "{}",
            messages[3]
        );
        // `parse` keeps the first
        let first = Scenario::parse(text, Path::new("s.toml")).unwrap_err();
        assert_eq!(first, errors[0]);
        // A wrong top-level value is reported once, without an entry; an
        // unknown table once, its entries not looked at
        let wrong_name = text.replacen("name = \"x\"", "name = 1", 1);
        let errors = Scenario::parse_all(&wrong_name, Path::new("s.toml")).unwrap_err();
        assert!(
            errors[0].message().starts_with("field `name`: "),
            "{errors:?}"
        );
        let lines: Vec<Option<usize>> = errors.iter().map(ScenarioError::line).collect();
        assert_eq!(
            lines,
            [Some(1), Some(9), Some(14), Some(17), Some(24)],
            "{errors:?}"
        );
        let unknown = text.replace("[[events]]", "[[event]]");
        let errors = Scenario::parse_all(&unknown, Path::new("s.toml")).unwrap_err();
        let said: Vec<(Option<usize>, &str)> =
            errors.iter().map(|e| (e.line(), e.message())).collect();
        assert_eq!(said.len(), 4, "{said:?}");
        assert!(
            said[1].0 == Some(11) && said[1].1.starts_with("unknown field `event`"),
            "{said:?}"
        );
        // A file that fits parses as before
        let parsed = Scenario::parse_all(WORLD, Path::new("w.toml")).unwrap();
        assert_eq!(parsed, toml::from_str::<Scenario>(WORLD).unwrap());
        assert_eq!(parsed.events.len(), 1);
    }

    /// [`WORLD`] as JSON, with `expect` and `expect_dashboard` entries
    /// naming an unknown category and an unknown holder, and an event the
    /// engine rejects
    const JSON: &str = r#"{
  "name": "a small world",
  "organisations": [{"id": "vp-noord"}, {"id": "kz-oost"}],
  "practitioners": [
    {"id": "anna", "organisation": "kz-oost", "role": "kraamverzorgende"}
  ],
  "patients": [{"id": "client-1"}],
  "events": [
    {
      "at": "2026-01-10T09:00:00Z",
      "type": "treatment_started",
      "patient": "client-1",
      "organisation": "kz-oost"
    },
    {
      "at": "2026-01-10T09:00:00Z",
      "type": "treatment_started",
      "patient": "client-1",
      "organisation": "kz-nergens"
    }
  ],
  "expect": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "action": "view",
      "patient": "client-1",
      "holder": "kz-oost",
      "category": "labuitslag",
      "decision": "deny"
    }
  ],
  "expect_dashboard": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "patient": "client-1",
      "visible": {"kz-oost": ["basis", "kraambedd"], "vp-nergens": []}
    }
  ]
}
"#;

    #[test]
    fn json_errors_found_after_parsing_are_at_their_field() {
        let report = with_file("world.json", JSON, |f| {
            check_paths(&policies(), &[f.to_path_buf()])
        });
        let found: Vec<(usize, usize, &str)> = report
            .errors
            .iter()
            .map(|e| {
                let at = e.location().unwrap();
                assert_eq!(e.line(), Some(at.line()));
                (at.line(), at.column(), JSON.get(at.span()).unwrap())
            })
            .collect();
        assert_eq!(
            found,
            [
                (19, 23, "\"kz-nergens\""),
                (29, 19, "\"labuitslag\""),
                (38, 40, "\"kraambedd\""),
                (38, 54, "\"vp-nergens\"")
            ],
            "{:#?}",
            report.errors
        );
        let said: Vec<String> = report.errors.iter().map(ScenarioError::to_string).collect();
        assert!(said[0].contains("events #2: "), "{}", said[0]);
        assert!(said[1].contains("expect #1: "), "{}", said[1]);
        assert!(
            said[2].contains("unknown category `kraambedd`"),
            "{}",
            said[2]
        );
        assert!(
            said[3].contains("unknown holder `vp-nergens`"),
            "{}",
            said[3]
        );
    }
}
