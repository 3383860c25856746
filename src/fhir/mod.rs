//! FHIR R4 import and export of consent statements (SPEC.md §7.6, R45,
//! R46; `docs/fhir.md`).
//!
//! Import reads a Mitz notification (a `transaction` Bundle of
//! `Consent-Mitz-Notify` 3.8.x Consents, the Patient by BSN, the holder
//! Organization by URA number) or a bundle this crate exported (a
//! `collection`) and turns it into events; export writes a patient's
//! statements in force as a `collection` Bundle of Consents in the same
//! shape. Pure: no I/O, no clock; the engine (`engine/fhir.rs`) supplies
//! the registry's lookups through [`import::Directory`] and
//! [`export::Holders`]. Depends on `model` only.

mod error;
pub(crate) mod export;
pub(crate) mod import;
mod uuid;
mod wire;

pub use error::{FhirError, FhirProblem};

/// The largest FHIR bundle accepted, in bytes: 1 MiB, as for a policy file
/// (a Mitz notification is a few KB; the export of a patient with a Mitz
/// picture at every holder category and a few dozen holders stays well
/// below it)
pub const MAX_FHIR_BUNDLE_LEN: usize = 1024 * 1024;

/// The Mitz notification Consent profile; import accepts versions 3.8.x
pub(crate) const MITZ_CONSENT_PROFILE: &str =
    "http://vzvz.nl/fhir/StructureDefinition/Consent-Mitz-Notify";
/// The version export writes
pub(crate) const MITZ_PROFILE_VERSION: &str = "3.8.0";
/// The profile of a holder's own (dossier) consent in an export: a local
/// consent, read back only from a `collection` bundle
pub(crate) const LOCAL_CONSENT_PROFILE: &str =
    "urn:zorg-pdp:fhir:StructureDefinition:dossier-consent";

/// BSN (burgerservicenummer)
pub(crate) const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
/// URA number (UZI-register abonneenummer)
pub(crate) const URA_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/ura";
/// Vektis/Nictiz organisation type (provider type)
pub(crate) const ORGANIZATION_TYPE_SYSTEM: &str =
    "http://nictiz.nl/fhir/NamingSystem/organization-type";
/// Mitz data category (gegevenscategorie)
pub(crate) const DATA_CATEGORY_SYSTEM: &str = "http://fhir.nl/otv/CodeSystem/gegevenscategorie";
/// Mitz requesting category (raadplegende zorgaanbiedercategorie)
pub(crate) const REQUESTER_CATEGORY_SYSTEM: &str =
    "http://fhir.nl/otv/CodeSystem/raadplegende-zorgaanbiedercategorie";
/// The extension that names one requesting category of a Mitz Consent
pub(crate) const PROVIDER_CATEGORY_EXTENSION: &str =
    "http://fhir.nl/StructureDefinition/OTV-ProviderCategory";
/// `provision.actor.role`: CST, the custodian (the holder)
pub(crate) const PARTICIPATION_TYPE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// `Consent.scope`
pub(crate) const CONSENT_SCOPE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// `provision.purpose`, as export writes it
pub(crate) const ACT_REASON_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
/// `provision.purpose`, the pre-terminology.hl7.org URI Mitz sends
pub(crate) const ACT_REASON_SYSTEM_OLD: &str = "http://hl7.org/fhir/v3/ActReason";
/// `Consent.policyRule` (OPTIN, OPTOUT)
pub(crate) const ACT_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// LOINC, for the category of a local consent (59284-0 Patient Consent)
pub(crate) const LOINC_SYSTEM: &str = "http://loinc.org";
/// LOINC 59284-0 Patient Consent
pub(crate) const PATIENT_CONSENT_LOINC: &str = "59284-0";
/// A holder category of ours (Mitz publishes no codes), as the type of an
/// Organization that stands for the category in an export
pub(crate) const HOLDER_CATEGORY_SYSTEM: &str = "urn:zorg-pdp:fhir:CodeSystem:holder-category";
/// An organisation's id in the engine, for an exported holder without an
/// URA number
pub(crate) const ORGANISATION_ID_SYSTEM: &str = "urn:zorg-pdp:fhir:NamingSystem:organisation";
/// A patient's id in the engine, for an exported patient without a BSN
pub(crate) const PATIENT_ID_SYSTEM: &str = "urn:zorg-pdp:fhir:NamingSystem:patient";
