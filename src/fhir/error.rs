//! The one error of FHIR import and export: where (the entry, its `fullUrl`,
//! the field path) and what (the problem, with the offending code or value).

use std::fmt;

use crate::model::national::NationalIdError;

/// A rejected FHIR bundle (the whole bundle: nothing of it is used), or a
/// patient that cannot be exported
///
/// `Display` names the entry (its index in `Bundle.entry` and its `fullUrl`
/// when it has one), the field path (`entry[1].resource.provision.actor`) and
/// the offending code or value; malformed JSON names its line and column.
/// `Debug` names the entry index, the path and the kind of problem only:
/// never a BSN, a patient id, a `fullUrl` or a code.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct FhirError {
    entry: Option<usize>,
    full_url: Option<String>,
    path: String,
    problem: FhirProblem,
}

/// What is wrong (see [`FhirError`]); the values are the offending ones, as
/// found in the bundle
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FhirProblem {
    /// The body is XML: only FHIR JSON is read
    Xml,
    /// The body is larger than [`crate::MAX_FHIR_BUNDLE_LEN`]
    TooLarge {
        /// Its size in bytes
        size: usize,
        /// The limit in bytes
        limit: usize,
    },
    /// Not JSON (with serde's words); the place is at `line` and `column`
    Syntax {
        /// What the JSON parser says
        message: String,
        /// 1-based line
        line: usize,
        /// 1-based column
        column: usize,
    },
    /// A value of the wrong JSON type for its FHIR element (serde's words)
    Type(String),
    /// A required element is absent
    Missing,
    /// An element holds a value that is not allowed there (`resourceType`,
    /// `Bundle.type`, `Consent.status`, …)
    Value {
        /// The value found
        found: String,
        /// What is accepted
        expected: &'static str,
    },
    /// No `meta.profile` this importer reads: the profiles found
    Profile(Vec<String>),
    /// A coding of a code system this element does not accept
    System {
        /// The system found (empty when the coding has none)
        found: String,
        /// The system or systems accepted
        expected: &'static str,
    },
    /// A code its code system or the loaded consent vocabulary does not know
    Code {
        /// The code system
        system: String,
        /// The code found
        code: String,
    },
    /// A Consent that is neither a permit (`active` with `provision.type =
    /// permit`) nor a refusal (`inactive` without `provision.type`)
    Shape {
        /// `Consent.status`
        status: String,
        /// `Consent.provision.type`, if any
        provision_type: Option<String>,
    },
    /// The same requesting category is permitted and refused for one holder
    /// and data category of one patient
    Conflict {
        /// The requesting category
        code: String,
        /// The entry that names it with the other choice
        other_entry: usize,
    },
    /// More than one of an element this importer needs exactly one of
    Several(&'static str),
    /// A reference that resolves to no entry of the bundle, or to a
    /// resource of the wrong type
    Unresolved {
        /// The reference as given
        reference: String,
        /// The resource type it must point at
        expected: &'static str,
    },
    /// Two entries with the same `fullUrl`
    DuplicateFullUrl,
    /// A BSN or URA number that is not well formed
    NationalId(NationalIdError),
    /// An identifier the engine's registry does not know: no patient with
    /// this BSN, no organisation with this URA number, …
    UnknownIdentifier {
        /// The identifier's system
        system: String,
        /// The value
        value: String,
    },
    /// No identifier this importer can look up
    NoIdentifier(&'static str),
    /// A FHIR element that would change what the statement means and that
    /// this importer does not read (so the bundle is refused, not misread)
    NotSupported(&'static str),
    /// `Consent.dateTime` is not a full date and time with a zone
    Time(String),
    /// The patient to export is not registered
    UnknownPatient(String),
    /// The engine refused an imported event (its index in the import and
    /// the engine's message)
    Apply {
        /// The event's index among the imported events
        event: usize,
        /// What the engine said
        message: String,
    },
}

impl FhirProblem {
    /// A short name of the kind of problem, the only part `Debug` shows
    pub fn kind(&self) -> &'static str {
        match self {
            FhirProblem::Xml => "xml",
            FhirProblem::TooLarge { .. } => "too_large",
            FhirProblem::Syntax { .. } => "syntax",
            FhirProblem::Type(_) => "type",
            FhirProblem::Missing => "missing",
            FhirProblem::Value { .. } => "value",
            FhirProblem::Profile(_) => "profile",
            FhirProblem::System { .. } => "system",
            FhirProblem::Code { .. } => "code",
            FhirProblem::Shape { .. } => "shape",
            FhirProblem::Conflict { .. } => "conflict",
            FhirProblem::Several(_) => "several",
            FhirProblem::Unresolved { .. } => "unresolved",
            FhirProblem::DuplicateFullUrl => "duplicate_full_url",
            FhirProblem::NationalId(_) => "national_id",
            FhirProblem::UnknownIdentifier { .. } => "unknown_identifier",
            FhirProblem::NoIdentifier(_) => "no_identifier",
            FhirProblem::NotSupported(_) => "not_supported",
            FhirProblem::Time(_) => "time",
            FhirProblem::UnknownPatient(_) => "unknown_patient",
            FhirProblem::Apply { .. } => "apply",
        }
    }
}

impl fmt::Debug for FhirProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values may be a BSN, a patient id or a clinical category.
        f.write_str(self.kind())
    }
}

impl fmt::Display for FhirProblem {
    #[expect(clippy::too_many_lines, reason = "one sentence per problem")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FhirProblem::Xml => f.write_str(
                "XML is not supported: send the bundle as FHIR JSON (application/fhir+json)",
            ),
            FhirProblem::TooLarge { size, limit } => {
                write!(
                    f,
                    "the bundle is {size} bytes, more than the limit of {limit}"
                )
            }
            FhirProblem::Syntax {
                message,
                line,
                column,
            } => write!(
                f,
                "malformed JSON at line {line}, column {column}: {message}"
            ),
            FhirProblem::Type(message) => f.write_str(message),
            FhirProblem::Missing => f.write_str("is missing"),
            FhirProblem::Value { found, expected } => {
                write!(
                    f,
                    "`{}` is not accepted here: expected {expected}",
                    esc(found)
                )
            }
            FhirProblem::Profile(found) => {
                if found.is_empty() {
                    f.write_str("no meta.profile: expected ")?;
                } else {
                    let found: Vec<String> =
                        found.iter().map(|p| format!("`{}`", esc(p))).collect();
                    write!(f, "profile {} is not read: expected ", found.join(", "))?;
                }
                write!(
                    f,
                    "`{}|3.8.x` (version 3.8.0, 3.8.1, …)",
                    super::MITZ_CONSENT_PROFILE
                )
            }
            FhirProblem::System { found, expected } => {
                if found.is_empty() {
                    write!(f, "a coding without a system: expected `{expected}`")
                } else {
                    write!(
                        f,
                        "unknown code system `{}`: expected `{expected}`",
                        esc(found)
                    )
                }
            }
            FhirProblem::Code { system, code } => {
                write!(
                    f,
                    "unknown code `{}` of system `{}`",
                    esc(code),
                    esc(system)
                )
            }
            FhirProblem::Shape {
                status,
                provision_type,
            } => {
                let t = provision_type.as_deref().map_or_else(
                    || "no provision.type".to_owned(),
                    |t| format!("provision.type `{}`", esc(t)),
                );
                write!(
                    f,
                    "a Consent with status `{}` and {t} is neither a permit (status `active`, \
                     provision.type `permit`) nor a refusal (status `inactive`, no provision.type)",
                    esc(status)
                )
            }
            FhirProblem::Conflict { code, other_entry } => write!(
                f,
                "requesting category `{}` is both permitted and refused for this holder and \
                 data category (the other choice is in entry[{other_entry}])",
                esc(code)
            ),
            FhirProblem::Several(what) => write!(f, "more than one {what}: expected exactly one"),
            FhirProblem::Unresolved {
                reference,
                expected,
            } => write!(
                f,
                "reference `{}` resolves to no {expected} entry of the bundle",
                esc(reference)
            ),
            FhirProblem::DuplicateFullUrl => {
                f.write_str("another entry has the same fullUrl (bdl-7)")
            }
            FhirProblem::NationalId(e) => write!(f, "{e}"),
            FhirProblem::UnknownIdentifier { system, value } => write!(
                f,
                "no registered entity has identifier `{}` of system `{}`",
                esc(value),
                esc(system)
            ),
            FhirProblem::NoIdentifier(expected) => write!(f, "no identifier of system {expected}"),
            FhirProblem::NotSupported(what) => write!(
                f,
                "{what} is not supported: it would change what the consent means, so the \
                 bundle is refused rather than misread"
            ),
            FhirProblem::Time(value) => write!(
                f,
                "`{}` is not a full date and time with a zone (such as 2026-03-01T09:30:00Z)",
                esc(value)
            ),
            FhirProblem::UnknownPatient(id) => write!(f, "unknown patient `{}`", esc(id)),
            FhirProblem::Apply { event, message } => {
                write!(f, "the engine refused imported event {event}: {message}")
            }
        }
    }
}

/// A value from the bundle, shortened and escaped so that it cannot reach a
/// terminal or a log as control characters
fn esc(s: &str) -> String {
    const MAX: usize = 128;
    let short: String = s.chars().take(MAX).collect();
    let mut out = short.escape_debug().to_string();
    if s.chars().count() > MAX {
        out.push('…');
    }
    out
}

impl FhirError {
    pub(crate) fn new(path: impl Into<String>, problem: FhirProblem) -> Self {
        Self {
            entry: None,
            full_url: None,
            path: path.into(),
            problem,
        }
    }

    /// The same error placed in entry `index` (with its `fullUrl`)
    #[must_use]
    pub(crate) fn in_entry(mut self, index: usize, full_url: Option<&str>) -> Self {
        self.entry = Some(index);
        self.full_url = full_url.map(str::to_owned);
        self
    }

    /// The index in `Bundle.entry` of the entry at fault, if one is
    pub fn entry(&self) -> Option<usize> {
        self.entry
    }

    /// The `fullUrl` of the entry at fault, when it has one
    pub fn full_url(&self) -> Option<&str> {
        self.full_url.as_deref()
    }

    /// The path of the field at fault from the bundle's root
    /// (`entry[1].resource.provision.actor`); empty for a problem of the
    /// whole body (XML, too large, malformed JSON)
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong
    pub fn problem(&self) -> &FhirProblem {
        &self.problem
    }

    fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::from("FHIR bundle");
        // Writing to a String cannot fail.
        if let Some(i) = self.entry {
            let _ = write!(out, ", entry {i}");
            if let Some(url) = &self.full_url {
                let _ = write!(out, " ({})", esc(url));
            }
        }
        if !self.path.is_empty() {
            let _ = write!(out, ": field `{}`", self.path);
        }
        let _ = write!(out, ": {}", self.problem);
        out
    }
}

impl fmt::Debug for FhirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fullUrl and the problem's values may name the patient.
        f.debug_struct("FhirError")
            .field("entry", &self.entry)
            .field("path", &self.path)
            .field("problem", &self.problem)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_entry_field_and_value_debug_only_the_place() {
        let e = FhirError::new(
            "entry[2].resource.identifier[0].value",
            FhirProblem::UnknownIdentifier {
                system: super::super::BSN_SYSTEM.into(),
                value: "999999990".into(),
            },
        )
        .in_entry(2, Some("urn:uuid:33333333-3333-4333-8333-333333333333"));
        let shown = e.to_string();
        assert!(shown.contains("entry 2 (urn:uuid:3333"), "{shown}");
        assert!(
            shown.contains("`entry[2].resource.identifier[0].value`"),
            "{shown}"
        );
        assert!(shown.contains("999999990"), "{shown}");
        let debug = format!("{e:?}");
        assert!(
            !debug.contains("999999990") && !debug.contains("3333"),
            "{debug}"
        );
        assert!(debug.contains("unknown_identifier") && debug.contains("entry: Some(2)"));
    }

    #[test]
    fn values_are_escaped_and_shortened() {
        let e = FhirError::new(
            "type",
            FhirProblem::Value {
                found: format!("a\u{1b}[31m{}", "x".repeat(300)),
                expected: "`transaction`",
            },
        );
        let shown = e.to_string();
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains('…') && shown.len() < 400, "{shown}");
    }
}
