//! A FHIR Bundle of Consents → events (SPEC.md §7.6, R45).
//!
//! Everything is checked before any event is made: the first problem found
//! rejects the whole bundle, named by its entry and field. A `transaction`
//! bundle is a Mitz notification: only `Consent-Mitz-Notify` 3.8.x Consents,
//! the Patient by BSN and the holder Organization by URA number. A
//! `collection` bundle is one this crate exported: besides that, it may
//! hold a holder's own (dossier) consent, a holder category as the holder,
//! and local identifiers for a patient without a BSN or a holder without an
//! URA number.

use hashbrown::HashMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{FhirError, FhirProblem};
use super::wire::{Bundle, CodeableConcept, Consent, Entry, Identifier, Organization, Patient};
use super::{
    ACT_REASON_SYSTEM, ACT_REASON_SYSTEM_OLD, BSN_SYSTEM, CONSENT_SCOPE_SYSTEM,
    DATA_CATEGORY_SYSTEM, HOLDER_CATEGORY_SYSTEM, LOCAL_CONSENT_PROFILE, LOINC_SYSTEM,
    MAX_FHIR_BUNDLE_LEN, MITZ_CONSENT_PROFILE, ORGANISATION_ID_SYSTEM, PARTICIPATION_TYPE_SYSTEM,
    PATIENT_CONSENT_LOINC, PATIENT_ID_SYSTEM, PROVIDER_CATEGORY_EXTENSION,
    REQUESTER_CATEGORY_SYSTEM, URA_SYSTEM,
};
use crate::model::consent::Choice;
use crate::model::consent_vocab::ConsentVocabulary;
use crate::model::event::{Change, Event, EventKind, MitzHolder, RecordedVia};
use crate::model::ids::{
    DataCategory, HolderCategory, OrganisationId, PatientId, RequesterCategory,
};
use crate::model::national::{Bsn, Ura};
use crate::model::time::Timestamp;

/// What import needs to know of the engine's registry
pub(crate) trait Directory {
    /// The patient registered with this BSN
    fn patient_by_bsn(&self, bsn: &Bsn) -> Option<PatientId>;
    /// Whether this patient is registered
    fn has_patient(&self, id: &PatientId) -> bool;
    /// The organisation registered with this URA number
    fn organisation_by_ura(&self, ura: Ura) -> Option<OrganisationId>;
    /// Whether this organisation is registered
    fn has_organisation(&self, id: &OrganisationId) -> bool;
}

/// A Mitz notification, or a bundle this crate exported
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// `transaction`: a Mitz notification
    Notification,
    /// `collection`: a zorg-pdp export
    Export,
}

/// The two kinds of Consent read
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Consent-Mitz-Notify` 3.8.x: one holder, one data category, the
    /// requesting categories as extensions
    Mitz,
    /// A holder's own consent (`dossier_consent_*`), from an export
    Local,
}

/// The holder a CST actor points at
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HolderOf {
    Organisation(OrganisationId),
    Category(HolderCategory),
}

/// One checked Consent
struct Checked {
    entry: usize,
    patient: PatientId,
    holder: HolderOf,
    choice: Choice,
    at: Timestamp,
    /// `Some` for a Mitz Consent, `None` for a local one
    data: Option<DataCategory>,
    /// The requesting categories with the index of their extension
    requesters: Vec<(usize, RequesterCategory)>,
}

/// The events of a bundle, nothing applied
pub(crate) fn import(
    json: &str,
    directory: &dyn Directory,
    vocabulary: &ConsentVocabulary,
) -> Result<Vec<Event>, FhirError> {
    let bundle = parse(json)?;
    let flavour = match bundle.resource_type.as_deref() {
        Some("Bundle") => match bundle.kind.as_deref() {
            Some("transaction") => Flavour::Notification,
            Some("collection") => Flavour::Export,
            Some(other) => {
                return Err(FhirError::new(
                    "type",
                    FhirProblem::Value {
                        found: other.to_owned(),
                        expected: "`transaction` (a Mitz notification) or `collection` (a zorg-pdp export)",
                    },
                ));
            }
            None => return Err(FhirError::new("type", FhirProblem::Missing)),
        },
        Some(other) => {
            return Err(FhirError::new(
                "resourceType",
                FhirProblem::Value {
                    found: other.to_owned(),
                    expected: "`Bundle`",
                },
            ));
        }
        None => return Err(FhirError::new("resourceType", FhirProblem::Missing)),
    };
    let reader = Reader::new(&bundle.entry, flavour, directory, vocabulary)?;
    let mut consents = Vec::new();
    for (i, entry) in bundle.entry.iter().enumerate() {
        if reader.resource_type(i) == Some("Consent") {
            let place = |e: FhirError| e.in_entry(i, entry.full_url.as_deref());
            let resource = entry.resource.as_ref().ok_or_else(|| {
                place(FhirError::new(
                    format!("entry[{i}].resource"),
                    FhirProblem::Missing,
                ))
            })?;
            consents.push(reader.consent(i, resource)?);
        }
    }
    events(&consents, &bundle.entry, vocabulary)
}

/// The bundle's envelope, its resources left as JSON values
fn parse(json: &str) -> Result<Bundle<Value>, FhirError> {
    if json.len() > MAX_FHIR_BUNDLE_LEN {
        return Err(FhirError::new(
            "",
            FhirProblem::TooLarge {
                size: json.len(),
                limit: MAX_FHIR_BUNDLE_LEN,
            },
        ));
    }
    if json
        .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with('<')
    {
        return Err(FhirError::new("", FhirProblem::Xml));
    }
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let mut de = serde_json::Deserializer::from_str(json);
    let bundle: Bundle<Value> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = path_text(&e.path().to_string());
        from_json_error(e.inner(), path)
    })?;
    de.end().map_err(|e| from_json_error(&e, String::new()))?;
    Ok(bundle)
}

/// `serde_path_to_error` writes the root as `.`
fn path_text(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_owned()
    }
}

fn from_json_error(e: &serde_json::Error, path: String) -> FhirError {
    let message = crate::model::strip_position(&e.to_string());
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => FhirError::new(
            "",
            FhirProblem::Syntax {
                message,
                line: e.line(),
                column: e.column(),
            },
        ),
        serde_json::error::Category::Data | serde_json::error::Category::Io => {
            FhirError::new(path, FhirProblem::Type(message))
        }
    }
}

/// `prefix.path`, or `prefix` alone
fn join(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_owned()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// A resource as the typed struct `T`, a wrong type named by its path
fn typed<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, FhirError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = path_text(&e.path().to_string());
        FhirError::new(
            join(prefix, &path),
            FhirProblem::Type(crate::model::strip_position(&e.inner().to_string())),
        )
    })
}

/// The entries with their lookups by `fullUrl` and `Type/id`
struct Reader<'a> {
    entries: &'a [Entry<Value>],
    flavour: Flavour,
    directory: &'a dyn Directory,
    vocabulary: &'a ConsentVocabulary,
    by_url: HashMap<&'a str, usize>,
    by_type_id: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Reader<'a> {
    /// Indexes the entries; refuses a resource type other than Consent,
    /// Patient and Organization, and a duplicate `fullUrl`
    fn new(
        entries: &'a [Entry<Value>],
        flavour: Flavour,
        directory: &'a dyn Directory,
        vocabulary: &'a ConsentVocabulary,
    ) -> Result<Self, FhirError> {
        let mut by_url = HashMap::new();
        let mut by_type_id = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let url = entry.full_url.as_deref();
            let place = |e: FhirError| e.in_entry(i, url);
            let Some(resource) = &entry.resource else {
                return Err(place(FhirError::new(
                    format!("entry[{i}].resource"),
                    FhirProblem::Missing,
                )));
            };
            let path = format!("entry[{i}].resource.resourceType");
            let kind = match resource.get("resourceType") {
                None => return Err(place(FhirError::new(path, FhirProblem::Missing))),
                Some(Value::String(s)) => s.as_str(),
                Some(other) => {
                    return Err(place(FhirError::new(
                        path,
                        FhirProblem::Type(format!("expected a string, found {other}")),
                    )));
                }
            };
            if !matches!(kind, "Consent" | "Patient" | "Organization") {
                return Err(place(FhirError::new(
                    path,
                    FhirProblem::Value {
                        found: kind.to_owned(),
                        expected: "`Consent`, `Patient` or `Organization`",
                    },
                )));
            }
            if let Some(url) = url
                && by_url.insert(url, i).is_some()
            {
                return Err(place(FhirError::new(
                    format!("entry[{i}].fullUrl"),
                    FhirProblem::DuplicateFullUrl,
                )));
            }
            if let Some(Value::String(id)) = resource.get("id") {
                by_type_id.insert((kind, id.as_str()), i);
            }
        }
        Ok(Self {
            entries,
            flavour,
            directory,
            vocabulary,
            by_url,
            by_type_id,
        })
    }

    fn resource_type(&self, i: usize) -> Option<&str> {
        self.entries
            .get(i)?
            .resource
            .as_ref()?
            .get("resourceType")?
            .as_str()
    }

    fn full_url(&self, i: usize) -> Option<&str> {
        self.entries.get(i)?.full_url.as_deref()
    }

    /// The entry a reference points at, if it is of type `expected`: by
    /// `fullUrl`, or a relative `Type/id` by the resource's `id`
    fn resolve(&self, reference: &str, expected: &'static str) -> Option<usize> {
        let found = self.by_url.get(reference).copied().or_else(|| {
            let (kind, id) = reference.split_once('/')?;
            self.by_type_id.get(&(kind, id)).copied()
        })?;
        (self.resource_type(found) == Some(expected)).then_some(found)
    }

    /// The entry a reference element points at, or the error at `path`
    fn follow(
        &self,
        reference: Option<&str>,
        path: String,
        expected: &'static str,
    ) -> Result<(usize, &'a Value), FhirError> {
        let Some(reference) = reference else {
            return Err(FhirError::new(path, FhirProblem::Missing));
        };
        self.resolve(reference, expected)
            .and_then(|k| Some((k, self.entries.get(k)?.resource.as_ref()?)))
            .ok_or_else(|| {
                FhirError::new(
                    path,
                    FhirProblem::Unresolved {
                        reference: reference.to_owned(),
                        expected,
                    },
                )
            })
    }

    /// The registered patient a Patient entry names
    fn patient(&self, k: usize, resource: &Value) -> Result<PatientId, FhirError> {
        let place = |e: FhirError| e.in_entry(k, self.full_url(k));
        let prefix = format!("entry[{k}].resource");
        let patient: Patient = typed(resource, &prefix).map_err(place)?;
        let local_system = (self.flavour == Flavour::Export).then_some(PATIENT_ID_SYSTEM);
        let (bsn, local) =
            identifiers(&patient.identifier, &prefix, BSN_SYSTEM, local_system).map_err(place)?;
        if let Some((j, value)) = bsn {
            let path = format!("{prefix}.identifier[{j}].value");
            let parsed = Bsn::new(value)
                .map_err(|e| place(FhirError::new(path.clone(), FhirProblem::NationalId(e))))?;
            return self.directory.patient_by_bsn(&parsed).ok_or_else(|| {
                place(FhirError::new(
                    path,
                    FhirProblem::UnknownIdentifier {
                        system: BSN_SYSTEM.to_owned(),
                        value: value.to_owned(),
                    },
                ))
            });
        }
        if let Some((j, value)) = local {
            let path = format!("{prefix}.identifier[{j}].value");
            let unknown = || {
                place(FhirError::new(
                    path.clone(),
                    FhirProblem::UnknownIdentifier {
                        system: PATIENT_ID_SYSTEM.to_owned(),
                        value: value.to_owned(),
                    },
                ))
            };
            let id = PatientId::new(value).map_err(|_| unknown())?;
            return if self.directory.has_patient(&id) {
                Ok(id)
            } else {
                Err(unknown())
            };
        }
        Err(place(FhirError::new(
            format!("{prefix}.identifier"),
            FhirProblem::NoIdentifier(match self.flavour {
                Flavour::Notification => "`http://fhir.nl/fhir/NamingSystem/bsn`",
                Flavour::Export => {
                    "`http://fhir.nl/fhir/NamingSystem/bsn` or `urn:zorg-pdp:fhir:NamingSystem:patient`"
                }
            }),
        )))
    }

    /// The registered organisation, or the holder category, an Organization
    /// entry names
    fn holder(&self, k: usize, resource: &Value) -> Result<HolderOf, FhirError> {
        let place = |e: FhirError| e.in_entry(k, self.full_url(k));
        let prefix = format!("entry[{k}].resource");
        let org: Organization = typed(resource, &prefix).map_err(place)?;
        let export = self.flavour == Flavour::Export;
        let local_system = export.then_some(ORGANISATION_ID_SYSTEM);
        let (ura, local) =
            identifiers(&org.identifier, &prefix, URA_SYSTEM, local_system).map_err(place)?;
        let unknown = |path: &str, system: &str, value: &str| {
            place(FhirError::new(
                path,
                FhirProblem::UnknownIdentifier {
                    system: system.to_owned(),
                    value: value.to_owned(),
                },
            ))
        };
        if let Some((j, value)) = ura {
            let path = format!("{prefix}.identifier[{j}].value");
            let parsed = Ura::new(value)
                .map_err(|e| place(FhirError::new(path.clone(), FhirProblem::NationalId(e))))?;
            return self
                .directory
                .organisation_by_ura(parsed)
                .map(HolderOf::Organisation)
                .ok_or_else(|| unknown(&path, URA_SYSTEM, value));
        }
        if let Some((j, value)) = local {
            let path = format!("{prefix}.identifier[{j}].value");
            return match OrganisationId::new(value) {
                Ok(id) if self.directory.has_organisation(&id) => Ok(HolderOf::Organisation(id)),
                _ => Err(unknown(&path, ORGANISATION_ID_SYSTEM, value)),
            };
        }
        if export {
            for (t, concept) in org.kind.iter().enumerate() {
                for (c, coding) in concept.coding.iter().enumerate() {
                    if coding.system.as_deref() != Some(HOLDER_CATEGORY_SYSTEM) {
                        continue;
                    }
                    let path = format!("{prefix}.type[{t}].coding[{c}].code");
                    let code = coding.code.as_deref().unwrap_or_default();
                    return match HolderCategory::new(code) {
                        Ok(h) if self.vocabulary.holder_index(&h).is_some() => {
                            Ok(HolderOf::Category(h))
                        }
                        _ => Err(place(FhirError::new(
                            path,
                            FhirProblem::Code {
                                system: HOLDER_CATEGORY_SYSTEM.to_owned(),
                                code: code.to_owned(),
                            },
                        ))),
                    };
                }
            }
        }
        Err(place(FhirError::new(
            format!("{prefix}.identifier"),
            FhirProblem::NoIdentifier(if export {
                "`http://fhir.nl/fhir/NamingSystem/ura` or `urn:zorg-pdp:fhir:NamingSystem:organisation` (or a type of `urn:zorg-pdp:fhir:CodeSystem:holder-category`)"
            } else {
                "`http://fhir.nl/fhir/NamingSystem/ura`"
            }),
        )))
    }

    /// Checks one Consent entry and finds its patient and holder
    #[expect(clippy::too_many_lines, reason = "one check per element, in order")]
    fn consent(&self, i: usize, resource: &Value) -> Result<Checked, FhirError> {
        let place = |e: FhirError| e.in_entry(i, self.full_url(i));
        let p = format!("entry[{i}].resource");
        let at_path = |rest: &str| format!("{p}.{rest}");
        let err = |rest: &str, problem: FhirProblem| place(FhirError::new(at_path(rest), problem));
        let consent: Consent = typed(resource, &p).map_err(place)?;

        // meta.profile: the Mitz profile, version 3.8.x (or, in an export,
        // the local one)
        let profiles = consent
            .meta
            .as_ref()
            .map(|m| m.profile.as_slice())
            .unwrap_or_default();
        let kind = profile_kind(profiles, self.flavour)
            .ok_or_else(|| err("meta.profile", FhirProblem::Profile(profiles.to_vec())))?;
        if consent.modifier_extension.is_some() {
            return Err(err(
                "modifierExtension",
                FhirProblem::NotSupported("a modifier extension"),
            ));
        }

        // The two shapes
        let status = consent
            .status
            .as_deref()
            .ok_or_else(|| err("status", FhirProblem::Missing))?;
        let provision = consent.provision.unwrap_or_default();
        let choice = match (status, provision.kind.as_deref()) {
            ("active", Some("permit")) => Choice::Permit,
            ("inactive", None) => Choice::Deny,
            (s, t) => {
                let field = if matches!(s, "active" | "inactive") {
                    "provision.type"
                } else {
                    "status"
                };
                return Err(err(
                    field,
                    FhirProblem::Shape {
                        status: s.to_owned(),
                        provision_type: t.map(str::to_owned),
                    },
                ));
            }
        };
        if let Some(name) = provision.unsupported() {
            return Err(err(
                &format!("provision.{name}"),
                FhirProblem::NotSupported(match name {
                    "period" => "a time-limited provision (provision.period)",
                    "provision" => "a nested provision (an exception to the rule)",
                    _ => "a provision limited to some actions, data or labels",
                }),
            ));
        }

        // scope: patient-privacy
        let scope = consent
            .scope
            .as_ref()
            .ok_or_else(|| err("scope", FhirProblem::Missing))?;
        one_code(scope, &at_path("scope"), CONSENT_SCOPE_SYSTEM, |c| {
            c == "patient-privacy"
        })
        .map_err(place)?;

        // category: the data category (or, for a local consent, Patient Consent)
        let category = match consent.category.as_slice() {
            [] => return Err(err("category", FhirProblem::Missing)),
            [one] => one,
            [_, ..] => return Err(err("category[1]", FhirProblem::Several("category"))),
        };
        let data = match kind {
            Kind::Mitz => {
                let code = one_code(
                    category,
                    &at_path("category[0]"),
                    DATA_CATEGORY_SYSTEM,
                    |c| {
                        DataCategory::new(c).is_ok_and(|d| self.vocabulary.data_index(&d).is_some())
                    },
                )
                .map_err(place)?;
                Some(DataCategory::new(code).map_err(|_| {
                    err(
                        "category[0].coding[0].code",
                        FhirProblem::Code {
                            system: DATA_CATEGORY_SYSTEM.to_owned(),
                            code: code.to_owned(),
                        },
                    )
                })?)
            }
            Kind::Local => {
                one_code(category, &at_path("category[0]"), LOINC_SYSTEM, |c| {
                    c == PATIENT_CONSENT_LOINC
                })
                .map_err(place)?;
                None
            }
        };

        // The requesting categories, one OTV-ProviderCategory extension each
        let mut requesters = Vec::new();
        for (k, ext) in consent.extension.iter().enumerate() {
            if ext.url.as_deref() != Some(PROVIDER_CATEGORY_EXTENSION) {
                continue;
            }
            let ext_path = format!("extension[{k}]");
            if kind == Kind::Local {
                return Err(err(
                    &ext_path,
                    FhirProblem::NotSupported("a requesting category on a local (dossier) consent"),
                ));
            }
            let value = ext.value_codeable_concept.as_ref().ok_or_else(|| {
                err(
                    &format!("{ext_path}.valueCodeableConcept"),
                    FhirProblem::Missing,
                )
            })?;
            let code = one_code(
                value,
                &at_path(&format!("{ext_path}.valueCodeableConcept")),
                REQUESTER_CATEGORY_SYSTEM,
                |c| {
                    RequesterCategory::new(c)
                        .is_ok_and(|r| self.vocabulary.requester_index(&r).is_some())
                },
            )
            .map_err(place)?;
            let code = RequesterCategory::new(code).map_err(|_| {
                err(
                    &ext_path,
                    FhirProblem::Code {
                        system: REQUESTER_CATEGORY_SYSTEM.to_owned(),
                        code: code.to_owned(),
                    },
                )
            })?;
            requesters.push((k, code));
        }
        if kind == Kind::Mitz && requesters.is_empty() {
            return Err(err("extension", FhirProblem::Missing));
        }

        // The patient
        let patient_ref = consent
            .patient
            .as_ref()
            .and_then(|r| r.reference.as_deref());
        let reference_path = if consent.patient.is_some() {
            at_path("patient.reference")
        } else {
            at_path("patient")
        };
        let (k, patient_resource) = self
            .follow(patient_ref, reference_path, "Patient")
            .map_err(place)?;
        let patient = self.patient(k, patient_resource)?;

        // When
        let when = consent
            .date_time
            .as_deref()
            .ok_or_else(|| err("dateTime", FhirProblem::Missing))?;
        let at = Timestamp::parse(when)
            .map_err(|_| err("dateTime", FhirProblem::Time(when.to_owned())))?;

        // The holder: the one actor, with role CST
        let mut holder_actor = None;
        for (j, actor) in provision.actor.iter().enumerate() {
            let role = actor
                .role
                .as_ref()
                .ok_or_else(|| err(&format!("provision.actor[{j}].role"), FhirProblem::Missing))?;
            one_code(
                role,
                &at_path(&format!("provision.actor[{j}].role")),
                PARTICIPATION_TYPE_SYSTEM,
                |c| c == "CST",
            )
            .map_err(place)?;
            if holder_actor.is_some() {
                return Err(err(
                    &format!("provision.actor[{j}]"),
                    FhirProblem::Several("actor with role CST"),
                ));
            }
            holder_actor = Some((j, actor));
        }
        let Some((j, actor)) = holder_actor else {
            return Err(err("provision.actor", FhirProblem::Missing));
        };
        let actor_ref = actor
            .reference
            .as_ref()
            .and_then(|r| r.reference.as_deref());
        let reference_path = if actor.reference.is_some() {
            at_path(&format!("provision.actor[{j}].reference.reference"))
        } else {
            at_path(&format!("provision.actor[{j}].reference"))
        };
        let (k, org_resource) = self
            .follow(actor_ref, reference_path, "Organization")
            .map_err(place)?;
        let holder = self.holder(k, org_resource)?;
        if kind == Kind::Local && matches!(holder, HolderOf::Category(_)) {
            return Err(err(
                &format!("provision.actor[{j}].reference"),
                FhirProblem::NotSupported("a holder category on a local (dossier) consent"),
            ));
        }

        // purpose: treatment (TREAT, or COC)
        for (j, coding) in provision.purpose.iter().enumerate() {
            let system = coding.system.as_deref().unwrap_or_default();
            if system != ACT_REASON_SYSTEM && system != ACT_REASON_SYSTEM_OLD {
                return Err(err(
                    &format!("provision.purpose[{j}].system"),
                    FhirProblem::System {
                        found: system.to_owned(),
                        expected: "http://terminology.hl7.org/CodeSystem/v3-ActReason` or `http://hl7.org/fhir/v3/ActReason",
                    },
                ));
            }
            let code = coding.code.as_deref().unwrap_or_default();
            if !matches!(code, "TREAT" | "COC") {
                return Err(err(
                    &format!("provision.purpose[{j}].code"),
                    FhirProblem::Code {
                        system: system.to_owned(),
                        code: code.to_owned(),
                    },
                ));
            }
        }

        Ok(Checked {
            entry: i,
            patient,
            holder,
            choice,
            at,
            data,
            requesters,
        })
    }
}

/// Which kind of Consent its profiles make it, if any this flavour reads
fn profile_kind(profiles: &[String], flavour: Flavour) -> Option<Kind> {
    let mitz = profiles.iter().any(|p| {
        p.strip_prefix(MITZ_CONSENT_PROFILE)
            .and_then(|rest| rest.strip_prefix("|3.8."))
            .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
    });
    if mitz {
        Some(Kind::Mitz)
    } else if flavour == Flavour::Export && profiles.iter().any(|p| p == LOCAL_CONSENT_PROFILE) {
        Some(Kind::Local)
    } else {
        None
    }
}

/// The one code of a concept: every coding must be of `system` with a code
/// `known` accepts, and there must be exactly one
fn one_code<'c>(
    concept: &'c CodeableConcept,
    path: &str,
    system: &'static str,
    known: impl Fn(&str) -> bool,
) -> Result<&'c str, FhirError> {
    let coding = match concept.coding.as_slice() {
        [] => {
            return Err(FhirError::new(
                format!("{path}.coding"),
                FhirProblem::Missing,
            ));
        }
        [one] => one,
        [_, ..] => {
            return Err(FhirError::new(
                format!("{path}.coding[1]"),
                FhirProblem::Several("coding"),
            ));
        }
    };
    let found = coding.system.as_deref().unwrap_or_default();
    if found != system {
        return Err(FhirError::new(
            format!("{path}.coding[0].system"),
            FhirProblem::System {
                found: found.to_owned(),
                expected: system,
            },
        ));
    }
    let code = coding
        .code
        .as_deref()
        .ok_or_else(|| FhirError::new(format!("{path}.coding[0].code"), FhirProblem::Missing))?;
    if !known(code) {
        return Err(FhirError::new(
            format!("{path}.coding[0].code"),
            FhirProblem::Code {
                system: system.to_owned(),
                code: code.to_owned(),
            },
        ));
    }
    Ok(code)
}

/// One (patient, holder, data category) of the bundle: a full picture
struct Group {
    patient: PatientId,
    holder: HolderOf,
    data: DataCategory,
    /// Each requesting category named, with its choice, time and entry
    named: Vec<(RequesterCategory, Choice, Timestamp, usize)>,
    latest: Timestamp,
}

/// The events of the checked Consents: per (patient, holder, data
/// category), the permits and refusals, then a clear for every other
/// requesting category of the vocabulary; then the local consents
#[expect(
    clippy::too_many_lines,
    reason = "grouping, conflicts and the events in one place"
)]
fn events(
    consents: &[Checked],
    entries: &[Entry<Value>],
    vocabulary: &ConsentVocabulary,
) -> Result<Vec<Event>, FhirError> {
    let full_url = |i: usize| entries.get(i).and_then(|e| e.full_url.as_deref());
    let mut groups: Vec<Group> = Vec::new();
    let mut local: Vec<&Checked> = Vec::new();
    for c in consents {
        let Some(data) = &c.data else {
            if let Some(earlier) = local
                .iter()
                .find(|l| l.patient == c.patient && l.holder == c.holder)
            {
                return Err(FhirError::new(
                    format!("entry[{}].resource", c.entry),
                    FhirProblem::Conflict {
                        code: "a second local consent for this holder".to_owned(),
                        other_entry: earlier.entry,
                    },
                )
                .in_entry(c.entry, full_url(c.entry)));
            }
            local.push(c);
            continue;
        };
        let g = if let Some(g) = groups
            .iter()
            .position(|g| g.patient == c.patient && g.holder == c.holder && g.data == *data)
        {
            g
        } else {
            groups.push(Group {
                patient: c.patient.clone(),
                holder: c.holder.clone(),
                data: data.clone(),
                named: Vec::new(),
                latest: c.at,
            });
            groups.len() - 1
        };
        let Some(group) = groups.get_mut(g) else {
            continue;
        };
        group.latest = group.latest.max(c.at);
        for (k, code) in &c.requesters {
            match group.named.iter_mut().find(|(r, ..)| r == code) {
                Some((_, choice, _, other)) if *choice != c.choice => {
                    return Err(FhirError::new(
                        format!("entry[{}].resource.extension[{k}]", c.entry),
                        FhirProblem::Conflict {
                            code: code.to_string(),
                            other_entry: *other,
                        },
                    )
                    .in_entry(c.entry, full_url(c.entry)));
                }
                Some((_, _, at, _)) => *at = (*at).max(c.at),
                None => group.named.push((code.clone(), c.choice, c.at, c.entry)),
            }
        }
    }
    let mut out = Vec::new();
    for g in &groups {
        let holder = match &g.holder {
            HolderOf::Organisation(o) => MitzHolder::Organisation(o.clone()),
            HolderOf::Category(c) => MitzHolder::Category(c.clone()),
        };
        let event = |requester: &RequesterCategory, choice: Option<Choice>, at: Timestamp| Event {
            at,
            kind: EventKind::MitzChoice {
                change: if choice.is_some() {
                    Change::Given
                } else {
                    Change::Withdrawn
                },
                patient: g.patient.clone(),
                holder: holder.clone(),
                data_category: g.data.clone(),
                requester_category: requester.clone(),
                choice,
                recorded_via: choice.map(|_| RecordedVia::Fhir),
            },
        };
        for (requester, choice, at, _) in &g.named {
            out.push(event(requester, Some(*choice), *at));
        }
        for requester in vocabulary.requester_categories() {
            if !g.named.iter().any(|(r, ..)| r == requester) {
                out.push(event(requester, None, g.latest));
            }
        }
    }
    for c in local {
        if let HolderOf::Organisation(holder) = &c.holder {
            out.push(Event {
                at: c.at,
                kind: EventKind::DossierConsent {
                    change: match c.choice {
                        Choice::Permit => Change::Given,
                        Choice::Deny => Change::Withdrawn,
                    },
                    patient: c.patient.clone(),
                    holder: holder.clone(),
                    recorded_by: None,
                    evidence: None,
                },
            });
        }
    }
    Ok(out)
}

/// The national and the local identifier of a resource, each as
/// `(index, value)`
type Identified<'r> = (Option<(usize, &'r str)>, Option<(usize, &'r str)>);

/// A resource's identifier of the national system and of the local one
/// (when `local` is given); any other system is skipped. An identifier of
/// either system without a value, or two of one system with different
/// values, is an error at `prefix.identifier[j]`.
fn identifiers<'r>(
    identifiers: &'r [Identifier],
    prefix: &str,
    national: &str,
    local: Option<&str>,
) -> Result<Identified<'r>, FhirError> {
    let (mut found_national, mut found_local) = (None, None);
    for (j, id) in identifiers.iter().enumerate() {
        let system = id.system.as_deref();
        let slot: &mut Option<(usize, &str)> = if system == Some(national) {
            &mut found_national
        } else if system.is_some() && system == local {
            &mut found_local
        } else {
            continue;
        };
        let Some(value) = id.value.as_deref() else {
            return Err(FhirError::new(
                format!("{prefix}.identifier[{j}].value"),
                FhirProblem::Missing,
            ));
        };
        match slot {
            Some((_, earlier)) if *earlier != value => {
                return Err(FhirError::new(
                    format!("{prefix}.identifier[{j}]"),
                    FhirProblem::Several("identifier of this system"),
                ));
            }
            _ => *slot = Some((j, value)),
        }
    }
    Ok((found_national, found_local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_versions() {
        let p = |s: &str| vec![s.to_owned()];
        let n = Flavour::Notification;
        for ok in ["|3.8.0", "|3.8.1", "|3.8.12"] {
            let prof = p(&format!("{MITZ_CONSENT_PROFILE}{ok}"));
            assert_eq!(profile_kind(&prof, n), Some(Kind::Mitz), "{ok}");
        }
        for bad in [
            "",
            "|3.9.0",
            "|3.8",
            "|3.8.",
            "|3.8.x",
            "|4.0.0-beta.1",
            "|3.8.0 ",
        ] {
            let prof = p(&format!("{MITZ_CONSENT_PROFILE}{bad}"));
            assert_eq!(profile_kind(&prof, n), None, "{bad}");
        }
        assert_eq!(profile_kind(&p(LOCAL_CONSENT_PROFILE), n), None);
        assert_eq!(
            profile_kind(&p(LOCAL_CONSENT_PROFILE), Flavour::Export),
            Some(Kind::Local)
        );
    }

    #[test]
    fn join_paths() {
        assert_eq!(join("entry[1].resource", ""), "entry[1].resource");
        assert_eq!(
            join("entry[1].resource", "provision.actor[0]"),
            "entry[1].resource.provision.actor[0]"
        );
        assert_eq!(join("a", "[2]"), "a[2]");
    }

    #[test]
    fn xml_and_size_are_refused_before_parsing() {
        struct Nobody;
        impl Directory for Nobody {
            fn patient_by_bsn(&self, _: &Bsn) -> Option<PatientId> {
                None
            }
            fn has_patient(&self, _: &PatientId) -> bool {
                false
            }
            fn organisation_by_ura(&self, _: Ura) -> Option<OrganisationId> {
                None
            }
            fn has_organisation(&self, _: &OrganisationId) -> bool {
                false
            }
        }
        let v = ConsentVocabulary::default();
        let e = import("\u{feff}  <Bundle/>", &Nobody, &v).unwrap_err();
        assert_eq!(e.problem(), &FhirProblem::Xml);
        assert!(e.to_string().contains("XML is not supported"), "{e}");
        let big = " ".repeat(MAX_FHIR_BUNDLE_LEN + 1);
        assert!(matches!(
            import(&big, &Nobody, &v).unwrap_err().problem(),
            FhirProblem::TooLarge { .. }
        ));
        let e = import("{\"resourceType\":\"Bundle\",\n \"type\": }", &Nobody, &v).unwrap_err();
        assert!(
            matches!(e.problem(), FhirProblem::Syntax { line: 2, .. }),
            "{e}"
        );
        let e = import(
            r#"{"resourceType":"Bundle","type":"transaction"} x"#,
            &Nobody,
            &v,
        )
        .unwrap_err();
        assert!(
            matches!(e.problem(), FhirProblem::Syntax { line: 1, .. }),
            "{e}"
        );
        let e = import(
            r#"{"resourceType":"Bundle","type":"transaction","entry":{}}"#,
            &Nobody,
            &v,
        )
        .unwrap_err();
        assert_eq!(e.path(), "entry", "{e}");
        assert!(matches!(e.problem(), FhirProblem::Type(_)), "{e}");
        let empty = import(
            r#"{"resourceType":"Bundle","type":"collection"}"#,
            &Nobody,
            &v,
        );
        assert_eq!(empty, Ok(Vec::new()));
    }
}
