//! A patient's statements in force → a FHIR R4 `collection` Bundle of
//! Consents in the shape of a Mitz notification (SPEC.md §7.6, R46).
//!
//! One Consent per (holder, data category, choice, time): the requesting
//! categories of the Mitz statements with that key are its
//! `OTV-ProviderCategory` extensions (statements that arrived in one
//! notification share their time, so they share a Consent). A holder's own
//! (dossier) consent is a local Consent: every requester and every data
//! category, so no extension and the LOINC category Patient Consent. The
//! holder is the CST actor, an Organization entry: by URA number (a local
//! identifier without one), or, for a holder category, an Organization
//! that only has a type of our holder-category code system and the
//! category's name. The Patient entry has the BSN (a local identifier
//! without one). Entry names are `urn:uuid:`s derived from the content.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{FhirError, FhirProblem};
use super::uuid::urn_uuid;
use super::wire::{
    Actor, Bundle, CodeableConcept, Coding, Consent, Entry, Extension, Identifier, Meta,
    Organization, Patient, Provision, Reference, Resource,
};
use super::{
    ACT_CODE_SYSTEM, ACT_REASON_SYSTEM, BSN_SYSTEM, CONSENT_SCOPE_SYSTEM, DATA_CATEGORY_SYSTEM,
    HOLDER_CATEGORY_SYSTEM, LOCAL_CONSENT_PROFILE, LOINC_SYSTEM, MITZ_CONSENT_PROFILE,
    MITZ_PROFILE_VERSION, ORGANISATION_ID_SYSTEM, ORGANIZATION_TYPE_SYSTEM,
    PARTICIPATION_TYPE_SYSTEM, PATIENT_CONSENT_LOINC, PATIENT_ID_SYSTEM,
    PROVIDER_CATEGORY_EXTENSION, REQUESTER_CATEGORY_SYSTEM, URA_SYSTEM,
};
use crate::model::consent::Choice;
use crate::model::consent_query::{ConsentStatement, StatementOrigin};
use crate::model::consent_vocab::ConsentVocabulary;
use crate::model::ids::{
    DataCategory, HolderCategory, OrganisationId, PatientId, ProviderType, RequesterCategory,
};
use crate::model::national::{Bsn, Ura};
use crate::model::time::Timestamp;

/// What export needs to know of a holder organisation
pub(crate) trait Holders {
    /// Its URA number, when registered with one
    fn ura(&self, id: &OrganisationId) -> Option<Ura>;
    /// Its provider type, when registered with one
    fn provider_type(&self, id: &OrganisationId) -> Option<ProviderType>;
}

/// A holder: one organisation or a holder category (the order of the
/// Organization entries)
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum HolderKey {
    Organisation(OrganisationId),
    Category(HolderCategory),
}

/// What one Consent is about
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ConsentKey {
    holder: HolderKey,
    /// `None`: a holder's own consent (every data category)
    data: Option<DataCategory>,
    choice: Choice,
    at: Timestamp,
}

/// The bundle of `patient`'s `statements` (those that count; a minor's
/// unconfirmed choice is left out), written at `at`
pub(crate) fn export(
    patient: &PatientId,
    bsn: Option<Bsn>,
    statements: &[ConsentStatement],
    holders: &dyn Holders,
    vocabulary: &ConsentVocabulary,
    at: Timestamp,
) -> Result<serde_json::Value, FhirError> {
    let mut consents: BTreeMap<ConsentKey, BTreeSet<RequesterCategory>> = BTreeMap::new();
    for s in statements.iter().filter(|s| s.counts) {
        let holder = match (&s.holder, &s.holder_category) {
            (Some(o), _) => HolderKey::Organisation(o.clone()),
            (None, Some(c)) => HolderKey::Category(c.clone()),
            // A statement names its holder one way or the other
            (None, None) => continue,
        };
        let (data, requester) = match s.origin {
            StatementOrigin::Dossier => (None, None),
            StatementOrigin::Mitz => match (&s.data_category, &s.requester_category) {
                (Some(d), Some(r)) => (Some(d.clone()), Some(r.clone())),
                // A Mitz choice has both (SPEC.md §7.3)
                _ => continue,
            },
        };
        let requesters = consents
            .entry(ConsentKey {
                holder,
                data,
                choice: s.choice,
                at: s.at,
            })
            .or_default();
        requesters.extend(requester);
    }

    let pid = patient.as_str();
    let patient_url = urn_uuid(&["patient", pid]);
    let holder_url = |h: &HolderKey| match h {
        HolderKey::Organisation(o) => urn_uuid(&["organisation", o.as_str()]),
        HolderKey::Category(c) => urn_uuid(&["holder-category", c.as_str()]),
    };
    let mut entries = Vec::new();
    let mut holders_named = BTreeSet::new();
    for (key, requesters) in &consents {
        let data = key.data.as_ref().map_or("*", DataCategory::as_str);
        let holder_name = match &key.holder {
            HolderKey::Organisation(o) => format!("org:{o}"),
            HolderKey::Category(c) => format!("category:{c}"),
        };
        let choice = match key.choice {
            Choice::Permit => "permit",
            Choice::Deny => "deny",
        };
        let when = key.at.to_string();
        let mut parts = vec!["consent", pid, &holder_name, data, choice, &when];
        parts.extend(requesters.iter().map(RequesterCategory::as_str));
        let consent = consent(
            key,
            requesters,
            &patient_url,
            &holder_url(&key.holder),
            vocabulary,
        );
        entries.push(Entry {
            full_url: Some(urn_uuid(&parts)),
            resource: Some(Resource::Consent(Box::new(consent))),
        });
        holders_named.insert(key.holder.clone());
    }
    entries.push(Entry {
        full_url: Some(patient_url.clone()),
        resource: Some(Resource::Patient(Patient {
            identifier: vec![match bsn {
                Some(b) => identifier(BSN_SYSTEM, &b.to_string()),
                None => identifier(PATIENT_ID_SYSTEM, pid),
            }],
        })),
    });
    for h in &holders_named {
        entries.push(Entry {
            full_url: Some(holder_url(h)),
            resource: Some(Resource::Organization(organization(h, holders, vocabulary))),
        });
    }
    let bundle = Bundle {
        resource_type: Some("Bundle".to_owned()),
        kind: Some("collection".to_owned()),
        timestamp: Some(at.to_string()),
        entry: entries,
    };
    serde_json::to_value(&bundle).map_err(|e| FhirError::new("", FhirProblem::Type(e.to_string())))
}

fn identifier(system: &str, value: &str) -> Identifier {
    Identifier {
        system: Some(system.to_owned()),
        value: Some(value.to_owned()),
    }
}

fn reference(url: &str) -> Reference {
    Reference {
        reference: Some(url.to_owned()),
    }
}

/// One Consent in the shape of a Mitz notification's
fn consent(
    key: &ConsentKey,
    requesters: &BTreeSet<RequesterCategory>,
    patient_url: &str,
    holder_url: &str,
    vocabulary: &ConsentVocabulary,
) -> Consent {
    let (profile, category) = match &key.data {
        Some(d) => (
            format!("{MITZ_CONSENT_PROFILE}|{MITZ_PROFILE_VERSION}"),
            Coding::new(
                DATA_CATEGORY_SYSTEM,
                d.as_str(),
                vocabulary
                    .data_index(d)
                    .and_then(|i| vocabulary.data_name(i)),
            ),
        ),
        None => (
            LOCAL_CONSENT_PROFILE.to_owned(),
            Coding::new(LOINC_SYSTEM, PATIENT_CONSENT_LOINC, Some("Patient Consent")),
        ),
    };
    let extension = requesters
        .iter()
        .map(|r| Extension {
            url: Some(PROVIDER_CATEGORY_EXTENSION.to_owned()),
            value_codeable_concept: Some(CodeableConcept::of(Coding::new(
                REQUESTER_CATEGORY_SYSTEM,
                r.as_str(),
                vocabulary
                    .requester_index(r)
                    .and_then(|i| vocabulary.requester_name(i)),
            ))),
        })
        .collect();
    let (status, provision_type, rule) = match key.choice {
        Choice::Permit => ("active", Some("permit".to_owned()), "OPTIN"),
        Choice::Deny => ("inactive", None, "OPTOUT"),
    };
    Consent {
        meta: Some(Meta {
            profile: vec![profile],
        }),
        extension,
        modifier_extension: None,
        status: Some(status.to_owned()),
        scope: Some(CodeableConcept::of(Coding::new(
            CONSENT_SCOPE_SYSTEM,
            "patient-privacy",
            Some("Privacy Consent"),
        ))),
        category: vec![CodeableConcept::of(category)],
        patient: Some(reference(patient_url)),
        date_time: Some(key.at.to_string()),
        policy_rule: Some(CodeableConcept::of(Coding::new(
            ACT_CODE_SYSTEM,
            rule,
            None,
        ))),
        provision: Some(Provision {
            kind: provision_type,
            actor: vec![Actor {
                role: Some(CodeableConcept::of(Coding::new(
                    PARTICIPATION_TYPE_SYSTEM,
                    "CST",
                    Some("custodian"),
                ))),
                reference: Some(reference(holder_url)),
            }],
            purpose: vec![Coding::new(ACT_REASON_SYSTEM, "TREAT", Some("treatment"))],
            ..Provision::default()
        }),
    }
}

/// The Organization of a holder
fn organization(
    holder: &HolderKey,
    holders: &dyn Holders,
    vocabulary: &ConsentVocabulary,
) -> Organization {
    match holder {
        HolderKey::Organisation(o) => Organization {
            identifier: vec![match holders.ura(o) {
                Some(u) => identifier(URA_SYSTEM, &u.to_string()),
                None => identifier(ORGANISATION_ID_SYSTEM, o.as_str()),
            }],
            kind: holders
                .provider_type(o)
                .map(|t| {
                    CodeableConcept::of(Coding::new(ORGANIZATION_TYPE_SYSTEM, t.as_str(), None))
                })
                .into_iter()
                .collect(),
            name: None,
        },
        HolderKey::Category(c) => {
            let name = vocabulary
                .holder_index(c)
                .and_then(|i| vocabulary.holder_name(i));
            Organization {
                identifier: Vec::new(),
                kind: vec![CodeableConcept::of(Coding::new(
                    HOLDER_CATEGORY_SYSTEM,
                    c.as_str(),
                    name,
                ))],
                // R4 org-1: an identifier or a name
                name: Some(name.unwrap_or(c.as_str()).to_owned()),
            }
        }
    }
}
