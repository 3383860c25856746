//! Scenario files (SPEC.md §5): a small world, events, and expectations that
//! policy authors write in TOML (or JSON with the same structure), and the
//! runner behind `zorg-pdp test`, the tests and the examples.

mod entries;
mod locate;
mod run;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::{self, Location, located};
use crate::{
    ActionKind, CareModule, Category, ConsentAnswer, ConsentCheckQuery, DashboardQuery,
    DataCategory, Decision, Engine, Event, EventRecord, Organisation, OrganisationId, Patient,
    PatientId, Practitioner, Principal, Purpose, Reason, RecordId, Request, RequestRecord,
    RequesterCategory, StudyId, Timestamp,
};

pub use run::{
    Case, CheckReport, Coverage, Failure, RunReport, Runner, check_paths, run_paths,
    run_paths_with_sink, run_scenario,
};

/// The largest scenario file accepted, in bytes
pub const MAX_SCENARIO_LEN: usize = 4 * 1024 * 1024;

/// A scenario: entities, events in file order, and expectations
///
/// A *world file* (for `zorg-pdp decide` and `dashboard`) is a scenario
/// without expectations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `[[organisations]]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<Organisation>,
    /// `[[practitioners]]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub practitioners: Vec<Practitioner>,
    /// `[[patients]]`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patients: Vec<Patient>,
    /// `[[events]]`, applied in file order (which need not be time order)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventRecord>,
    /// `[[expect]]`: decisions
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
    /// `[[expect_dashboard]]`: dashboards
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_dashboard: Vec<DashboardExpectation>,
    /// `[[expect_consent]]`: `consent_check` answers (SPEC.md §7.5)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_consent: Vec<ConsentExpectation>,
    /// `[[expect_error]]`: events that must be rejected (kept raw, so a
    /// malformed id or an unknown type can be expected to fail too); besides
    /// the event's fields an entry may hold `field` (the field the rejection
    /// must name), `message` (text the rejection must contain), `name` and
    /// `note`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_error: Vec<serde_json::Value>,
}

/// One `[[expect]]`: a request (the fields of SPEC.md §4, `mfa` defaulting to
/// `true`) and the expected decision
// The request fields are listed here again rather than flattened from
// `RequestRecord`: serde cannot combine `flatten` with
// `deny_unknown_fields`, and a misspelt field must be an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[expect(missing_docs, reason = "the request fields are the ones of SPEC.md §4")]
pub struct Expectation {
    /// A short name, for `zorg-pdp test -v`, `--filter` and `--junit`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub at: Timestamp,
    pub principal: Principal,
    pub action: ActionKind,
    pub patient: PatientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<CareModule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyId>,
    /// A freshness token (SPEC.md §8, R47): the world's last position is
    /// the number of entities plus the number of events; above it the
    /// answer is a deny with `stale_facts`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
    /// The expected decision
    pub decision: Decision,
    /// Codes that must all be among the decision's reasons; absent: not checked
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Reason>>,
    /// The rules of RULES.md this expectation exercises (`["R6"]`), for the rule coverage report
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// A note for the reader
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Expectation {
    /// The request this expectation makes (`mfa` defaults to `true`)
    ///
    /// # Errors
    ///
    /// [`crate::RequestError`] when the fields do not fit the action.
    pub fn request(&self) -> Result<Request, crate::RequestError> {
        RequestRecord {
            principal: self.principal.clone(),
            action: self.action,
            patient: self.patient.clone(),
            at: self.at,
            mfa: self.mfa,
            holder: self.holder.clone(),
            category: self.category.clone(),
            record: self.record.clone(),
            purpose: self.purpose,
            module: self.module.clone(),
            study: self.study.clone(),
            min_seq: self.min_seq,
        }
        .into_request(true)
    }

    /// Whether this expects a deny with `unknown_entity` among its reasons:
    /// the one expectation that may name a category or module the policies'
    /// vocabulary does not know, to show how the engine answers it
    pub fn expects_unknown_entity(&self) -> bool {
        self.decision == Decision::Deny
            && self
                .reasons
                .as_ref()
                .is_some_and(|r| r.contains(&Reason::UnknownEntity))
    }
}

/// One `[[expect_dashboard]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DashboardExpectation {
    /// A short name, for `zorg-pdp test -v`, `--filter` and `--junit`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When
    pub at: Timestamp,
    /// Who looks
    pub principal: Principal,
    /// Whose dashboard
    pub patient: PatientId,
    /// Two-factor sign-in; default `true`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    /// Default `treatment`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// A freshness token (SPEC.md §8, R47): above the world's last position
    /// the dashboard shows nothing
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
    /// Per holder, exactly the visible categories; a holder the answer lists
    /// but this map does not must show none. Every holder named here (and in
    /// `reasons`) must be one of the scenario's `[[organisations]]`
    #[serde(default)]
    pub visible: BTreeMap<OrganisationId, Vec<Category>>,
    /// Per holder, codes that must all be among the holder's reasons
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<BTreeMap<OrganisationId, Vec<Reason>>>,
    /// Per started module, whether `contribute` is allowed
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<BTreeMap<CareModule, bool>>,
    /// The rules of RULES.md this expectation exercises
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// A note for the reader
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DashboardExpectation {
    /// The dashboard query this expectation makes
    pub fn query(&self) -> DashboardQuery {
        DashboardQuery {
            principal: self.principal.clone(),
            patient: self.patient.clone(),
            at: self.at,
            mfa: self.mfa.unwrap_or(true),
            purpose: self.purpose.unwrap_or(Purpose::Treatment),
            min_seq: self.min_seq,
        }
    }
}

/// One `[[expect_consent]]`: a `consent_check` (SPEC.md §7.5) and the
/// answer expected per data category
///
/// ```toml
/// [[expect_consent]]
/// at = "2026-02-02T10:00:00Z"
/// patient = "client-1"
/// holder = "zh-noord"
/// requester = "kz-oost"
/// answers = { GGC013 = "permit", GGC002 = "refused" }
/// statements = { GGC013 = ["org:zh-noord/RPZAC004/GGC013"] }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentExpectation {
    /// A short name, for `zorg-pdp test -v`, `--filter` and `--junit`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When
    pub at: Timestamp,
    /// Who asks (for the audit log); absent: the organisation `requester`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Whose data
    pub patient: PatientId,
    /// The holder asked about
    pub holder: OrganisationId,
    /// The requesting organisation; exactly one of `requester` /
    /// `requester_category`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<OrganisationId>,
    /// A requesting category asked about directly
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_category: Option<RequesterCategory>,
    /// Per data category asked, the expected answer (the categories asked
    /// are exactly these keys)
    pub answers: BTreeMap<DataCategory, ConsentAnswer>,
    /// Per data category, exactly the ids of the statements that must
    /// decide it; absent or a category not named: not checked
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<BTreeMap<DataCategory, Vec<String>>>,
    /// The rules of RULES.md this expectation exercises
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// A note for the reader
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ConsentExpectation {
    /// The `consent_check` this expectation makes
    pub fn query(&self) -> ConsentCheckQuery {
        ConsentCheckQuery {
            principal: self.principal.clone(),
            patient: self.patient.clone(),
            holder: self.holder.clone(),
            requester: self.requester.clone(),
            requester_category: self.requester_category.clone(),
            data_categories: self.answers.keys().cloned().collect(),
            at: self.at,
            min_seq: None,
        }
    }
}

/// A scenario file that cannot be read, parsed or set up
///
/// [`Display`](std::fmt::Display) names the file, the line where known, and
/// what is wrong (naming the field); [`ScenarioError::location`] has the
/// line, column and span, and with the file's text it is a
/// [`miette::Diagnostic`] that shows the line with a caret under the field.
/// [`Debug`](std::fmt::Debug) shows the place only: the message may name
/// patients.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ScenarioError {
    file: String,
    line: Option<usize>,
    message: String,
    at: Option<Location>,
}

located!(ScenarioError);

impl ScenarioError {
    pub(crate) fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            line,
            message: message.into(),
            at: None,
        }
    }

    /// An error at a place in the file (its line is the place's)
    pub(crate) fn located(file: &Path, at: Location, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            line: Some(at.line()),
            message: message.into(),
            at: Some(at),
        }
    }

    /// The file
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line, when known
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong, naming the expectation or entry and the field
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The sort key of an error in a file: its place, then its message
    fn key(&self) -> (Option<usize>, Option<usize>, &str) {
        let offset = self.at.as_ref().map(|at| at.span().start);
        (self.line, offset, &self.message)
    }
}

impl std::fmt::Debug for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioError")
            .field("file", &self.file)
            .field("line", &self.line)
            .field("column", &self.at.as_ref().map(Location::column))
            .finish_non_exhaustive()
    }
}

/// The first of a file's errors
pub(crate) fn first(errors: Vec<ScenarioError>, file: &Path) -> ScenarioError {
    errors
        .into_iter()
        .next()
        .unwrap_or_else(|| ScenarioError::new(file, None, "cannot be used"))
}

/// Sorts the errors of one file by place, drops repeats
pub(crate) fn sorted(mut errors: Vec<ScenarioError>) -> Vec<ScenarioError> {
    errors.sort_by(|a, b| a.key().cmp(&b.key()));
    errors.dedup();
    errors
}

/// A scenario that cannot be written as TOML or JSON; the cause is its
/// [`std::error::Error::source`]
#[derive(Debug, thiserror::Error)]
#[error("scenario: cannot be written as {format}")]
pub struct ScenarioWriteError {
    format: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl ScenarioWriteError {
    /// `TOML` or `JSON`
    pub fn format(&self) -> &'static str {
        self.format
    }
}

/// Which text format
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
}

/// The message of a text over [`MAX_SCENARIO_LEN`]
fn too_large() -> String {
    format!("more than the limit of {MAX_SCENARIO_LEN} bytes")
}

/// Reads a scenario file's text: at most [`MAX_SCENARIO_LEN`] bytes are read
/// (one more to tell that a file is larger), whatever the file claims its size is
///
/// # Errors
///
/// [`ScenarioError`] naming the file when it cannot be read, is larger than
/// the limit, or is not UTF-8 (with the line of the first bad byte).
pub fn read_file(path: &Path) -> Result<String, ScenarioError> {
    let cannot = |e: std::io::Error| ScenarioError::new(path, None, format!("cannot read: {e}"));
    let limit = u64::try_from(MAX_SCENARIO_LEN).map_or(u64::MAX, |n| n.saturating_add(1));
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(cannot)?
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_SCENARIO_LEN {
        return Err(ScenarioError::new(path, None, too_large()));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..valid)
            .and_then(|b| std::str::from_utf8(b).ok())
            .map_or(1, |text| line_of(text, valid));
        ScenarioError::new(path, Some(line), "not UTF-8 text")
    })
}

impl Scenario {
    /// Reads a `.toml` or `.json` scenario file
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the file, and the line and field where known.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::parse(&read_file(path)?, path)
    }

    /// Parses scenario text; `path` decides the format (`.json` or TOML) and names errors
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the file, and the line and field where known
    /// (the first error; `zorg-pdp test` and [`check_paths`] report every
    /// syntax error of a TOML file, or every entry that does not fit the
    /// format).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        Self::parse_all(text, path).map_err(|errors| first(errors, path))
    }

    /// As [`Scenario::parse`], with every syntax error of a TOML file, or
    /// else every entry's serde error of a TOML or JSON file (never an empty
    /// list), in the order of the text
    pub(crate) fn parse_all(text: &str, path: &Path) -> Result<Self, Vec<ScenarioError>> {
        if text.len() > MAX_SCENARIO_LEN {
            return Err(vec![ScenarioError::new(path, None, too_large())]);
        }
        let source = diagnostic::source(&path.display().to_string(), text);
        match format_of(path) {
            Format::Json => serde_json::from_str(text).map_err(|first| {
                let spans = locate::Spans::new(source, text, false);
                let data = first.classify() == serde_json::error::Category::Data;
                // serde_json stops at the first error: a syntax error after a
                // wrong value is the next error, and then no entry is looked at
                let syntax = serde_json::from_str::<serde::de::IgnoredAny>(text).err();
                if let Some(syntax) = syntax.filter(|_| data) {
                    let errors =
                        [&first, &syntax].map(|e| entries::json_error(text, path, &spans, e));
                    return sorted(errors.into());
                }
                // serde stops at the first wrong field: every entry on its own
                let errors = if data {
                    entries::json_errors(text, path, &spans)
                } else {
                    Vec::new()
                };
                if errors.is_empty() {
                    vec![entries::json_error(text, path, &spans, &first)]
                } else {
                    errors
                }
            }),
            Format::Toml => {
                let (_, syntax) = toml::de::DeTable::parse_recoverable(text);
                let one = |e: &toml::de::Error| entries::toml_error(text, path, &source, e);
                if !syntax.is_empty() {
                    return Err(sorted(syntax.iter().map(one).collect()));
                }
                toml::from_str(text).map_err(|first| {
                    // serde stops at the first wrong field: every entry on its own
                    let errors = entries::toml_errors(text, path, &source);
                    if errors.is_empty() {
                        vec![one(&first)]
                    } else {
                        errors
                    }
                })
            }
        }
    }

    /// Serialises as TOML
    ///
    /// # Errors
    ///
    /// [`ScenarioWriteError`] when a value has no TOML form.
    pub fn to_toml(&self) -> Result<String, ScenarioWriteError> {
        toml::to_string(self).map_err(|e| ScenarioWriteError {
            format: "TOML",
            source: Box::new(e),
        })
    }

    /// Serialises as pretty JSON
    ///
    /// # Errors
    ///
    /// [`ScenarioWriteError`] when a value has no JSON form.
    pub fn to_json(&self) -> Result<String, ScenarioWriteError> {
        serde_json::to_string_pretty(self).map_err(|e| ScenarioWriteError {
            format: "JSON",
            source: Box::new(e),
        })
    }

    /// Registers the entities and applies the events on `engine`
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the entity or event (with its line and the
    /// field's place in a TOML or JSON file) and the field.
    pub fn load_into(
        &self,
        engine: &Engine,
        path: &Path,
        text: Option<&str>,
    ) -> Result<(), ScenarioError> {
        let spans = std::cell::OnceCell::new();
        let fail = |table: &'static str, index: usize, field: Option<&str>, message: String| {
            let message = format!("{table} #{}: {message}", index + 1);
            let Some(text) = text else {
                return ScenarioError::new(path, None, message);
            };
            let spans = spans.get_or_init(|| {
                let source = diagnostic::source(&path.display().to_string(), text);
                locate::Spans::new(source, text, format_of(path) == Format::Toml)
            });
            let steps: Vec<locate::Step<'_>> = field.map(locate::Step::Key).into_iter().collect();
            match spans.find(table, index, &steps) {
                Some(span) => ScenarioError::located(path, spans.location(span), message),
                None => ScenarioError::new(path, nth_table_line(text, table, index), message),
            }
        };
        for (i, o) in self.organisations.iter().enumerate() {
            engine
                .register_organisation(o.clone())
                .map_err(|e| fail("organisations", i, Some("id"), e.to_string()))?;
        }
        for (i, p) in self.patients.iter().enumerate() {
            engine
                .register_patient(p)
                .map_err(|e| fail("patients", i, Some("id"), e.to_string()))?;
        }
        for (i, p) in self.practitioners.iter().enumerate() {
            engine.register_practitioner(p.clone()).map_err(|e| {
                let field = match &e {
                    crate::EntityError::UnknownOrganisation { .. } => Some("organisation"),
                    crate::EntityError::UnknownValue { field, .. } => Some(*field),
                    _ => None,
                };
                fail("practitioners", i, field, e.to_string())
            })?;
        }
        for (i, record) in self.events.iter().enumerate() {
            let event = Event::try_from(record.clone())
                .map_err(|e| fail("events", i, Some(e.field()), e.to_string()))?;
            engine
                .apply(&event)
                .map_err(|e| fail("events", i, Some(e.field()), e.to_string()))?;
        }
        Ok(())
    }
}

fn format_of(path: &Path) -> Format {
    if path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json"))
    {
        Format::Json
    } else {
        Format::Toml
    }
}

/// 1-based line of a byte offset
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |s| s.bytes().filter(|&b| b == b'\n').count() + 1)
}

/// The line of the `n`-th (0-based) `[[name]]` header in a TOML text
pub(crate) fn nth_table_line(text: &str, name: &str, n: usize) -> Option<usize> {
    let header = format!("[[{name}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// The line of `field` (a `field = …` line) in the `n`-th (0-based)
/// `[[table]]` of a TOML text, before the next `[[…]]` header; the line of the
/// header itself when no such line is found
pub(crate) fn nth_field_line(text: &str, table: &str, n: usize, field: &str) -> Option<usize> {
    let header = nth_table_line(text, table, n)?;
    let is_field = |line: &str| {
        let key = line.trim_start().trim_start_matches('"');
        key.strip_prefix(field)
            .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with('='))
    };
    let found = text
        .lines()
        .enumerate()
        .skip(header)
        .take_while(|(_, l)| !l.trim_start().starts_with("[["))
        .find(|(_, l)| is_field(l))
        .map(|(i, _)| i + 1);
    Some(found.unwrap_or(header))
}

/// Every `*.toml` and `*.json` file under the given files or folders, each
/// once, sorted
///
/// A path named here is followed even when it is a symbolic link. Inside a
/// folder, a symbolic link to a folder is not followed (so a link back to a
/// folder above cannot make the walk endless), and a file reached twice (by a
/// link to it, or by naming it twice) is listed once.
///
/// # Errors
///
/// [`ScenarioError`] for a path that does not exist, a folder that cannot be
/// read, or a named folder with no scenario file in it or below it.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut found = Found::default();
    for p in paths {
        if p.is_dir() {
            let before = found.reached;
            walk(p, &mut found)?;
            if found.reached == before {
                return Err(ScenarioError::new(
                    p,
                    None,
                    "no scenario file (`*.toml`, `*.json`) in this folder or below it",
                ));
            }
        } else if p.is_file() {
            found.reach(p.clone(), false);
        } else {
            return Err(ScenarioError::new(p, None, "no such file or folder"));
        }
    }
    // A file reached both as itself and through a link keeps its own name
    for link in std::mem::take(&mut found.links) {
        found.add(link);
    }
    let mut files = found.files;
    files.sort();
    Ok(files)
}

/// The files a walk found
#[derive(Debug, Default)]
struct Found {
    files: Vec<PathBuf>,
    /// The canonical paths of `files`
    seen: HashSet<PathBuf>,
    /// How many scenario files were reached, counting the ones seen before
    reached: usize,
    /// Symbolic links to files met in folders, added after every walk
    links: Vec<PathBuf>,
}

impl Found {
    /// A scenario file reached, directly or through a link (added last)
    fn reach(&mut self, path: PathBuf, link: bool) {
        self.reached += 1;
        if link {
            self.links.push(path);
        } else {
            self.add(path);
        }
    }

    /// Lists `path` unless its file is listed already
    fn add(&mut self, path: PathBuf) {
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if self.seen.insert(canonical) {
            self.files.push(path);
        }
    }
}

fn is_scenario(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "toml" || x == "json")
}

/// Walks `dir` depth first, in name order, following no symbolic link to a folder
fn walk(dir: &Path, found: &mut Found) -> Result<(), ScenarioError> {
    let cannot = |e: std::io::Error| ScenarioError::new(dir, None, format!("cannot read: {e}"));
    let mut entries = std::fs::read_dir(dir)
        .map_err(cannot)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(cannot)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(cannot)?;
        if kind.is_dir() {
            walk(&path, found)?;
        } else if kind.is_symlink() && path.is_dir() {
            // Not followed: it may lead back up (a loop) or out of the tree
        } else if is_scenario(&path) {
            found.reach(path, kind.is_symlink());
        }
    }
    Ok(())
}
