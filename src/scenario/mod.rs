//! Scenario files (SPEC.md §5): a small world, events, and expectations that
//! policy authors write in TOML (or JSON with the same structure), and the
//! runner behind `zorg-pdp test`, the tests and the examples.

mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::model::entities::{Organisation, Patient, Practitioner};
use crate::model::event::{Event, EventRecord};
use crate::model::ids::{CareModule, Category, OrganisationId, PatientId, RecordId, StudyId};
use crate::model::request::{DashboardQuery, Decision, Principal, Request, RequestRecord};
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose, Reason};

pub use run::{
    Coverage, Failure, RunReport, run_paths, run_paths_with, run_paths_with_sink, run_scenario,
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
    /// `[[expect_error]]`: events that must be rejected (kept raw, so a
    /// malformed id or an unknown type can be expected to fail too)
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
        }
        .into_request(true)
    }
}

/// One `[[expect_dashboard]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DashboardExpectation {
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
    /// Per holder, exactly the visible categories; a holder the answer lists
    /// but this map does not must show none
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
        }
    }
}

/// A scenario file that cannot be read, parsed or set up
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ScenarioError {
    file: String,
    line: Option<usize>,
    message: String,
}

impl ScenarioError {
    pub(crate) fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            line,
            message: message.into(),
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
}

/// Which text format
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Json,
}

impl Scenario {
    /// Reads a `.toml` or `.json` scenario file
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the file, and the line and field where known.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let len = std::fs::metadata(path)
            .map_err(|e| ScenarioError::new(path, None, format!("cannot read: {e}")))?
            .len();
        if len > MAX_SCENARIO_LEN as u64 {
            return Err(ScenarioError::new(
                path,
                None,
                format!("{len} bytes is more than the limit of {MAX_SCENARIO_LEN}"),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::new(path, None, format!("cannot read: {e}")))?;
        Self::parse(&text, path)
    }

    /// Parses scenario text; `path` decides the format (`.json` or TOML) and names errors
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the file, and the line and field where known.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        if text.len() > MAX_SCENARIO_LEN {
            return Err(ScenarioError::new(
                path,
                None,
                format!("more than {MAX_SCENARIO_LEN} bytes"),
            ));
        }
        match format_of(path) {
            Format::Json => serde_json::from_str(text).map_err(|e| {
                let offset = crate::model::offset_of(text, e.line(), e.column());
                let message = crate::model::name_field(
                    text,
                    offset,
                    crate::model::strip_position(&e.to_string()),
                );
                ScenarioError::new(path, Some(e.line()), message)
            }),
            Format::Toml => toml::from_str(text).map_err(|e| {
                let line = e.span().map(|s| line_of(text, s.start));
                let message = e.message().replace('\n', " ");
                let message = match e.span() {
                    Some(span) => crate::model::name_field(text, span.start, message),
                    None => message,
                };
                ScenarioError::new(path, line, message)
            }),
        }
    }

    /// Serialises as TOML
    ///
    /// # Errors
    ///
    /// A message when a value has no TOML form.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }

    /// Serialises as pretty JSON
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Registers the entities and applies the events on `engine`
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the entity or event (with its line in a TOML
    /// file) and the field.
    pub fn load_into(
        &self,
        engine: &Engine,
        path: &Path,
        text: Option<&str>,
    ) -> Result<(), ScenarioError> {
        for o in &self.organisations {
            engine
                .register_organisation(o.clone())
                .map_err(|e| ScenarioError::new(path, None, e.to_string()))?;
        }
        for p in &self.patients {
            engine
                .register_patient(p)
                .map_err(|e| ScenarioError::new(path, None, e.to_string()))?;
        }
        for (i, p) in self.practitioners.iter().enumerate() {
            engine.register_practitioner(p.clone()).map_err(|e| {
                let line = text.and_then(|t| nth_table_line(t, "practitioners", i));
                ScenarioError::new(path, line, format!("practitioners #{}: {e}", i + 1))
            })?;
        }
        for (i, record) in self.events.iter().enumerate() {
            let fail = |msg: String| {
                let line = text.and_then(|t| nth_table_line(t, "events", i));
                ScenarioError::new(path, line, format!("events #{}: {msg}", i + 1))
            };
            let event = Event::try_from(record.clone()).map_err(|e| fail(e.to_string()))?;
            engine.apply(&event).map_err(|e| fail(e.to_string()))?;
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

/// Every `*.toml` and `*.json` file under the given files or folders, sorted
///
/// # Errors
///
/// [`ScenarioError`] for a path that does not exist or a folder that cannot be read.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out)?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| ScenarioError::new(path, None, format!("cannot read: {e}")))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| ScenarioError::new(path, None, format!("cannot read: {e}")))?;
            let p = entry.path();
            if p.is_dir() {
                collect(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml" || x == "json") {
                out.push(p);
            }
        }
        Ok(())
    } else if path.is_file() {
        out.push(path.to_path_buf());
        Ok(())
    } else {
        Err(ScenarioError::new(path, None, "no such file or folder"))
    }
}
