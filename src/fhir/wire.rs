//! The FHIR R4 elements this crate reads and writes, and nothing else:
//! `Bundle` and its entries, `Consent` (with `meta`, `extension`, `category`,
//! `provision` and its `actor`s), `Patient`, `Organization`, and the data
//! types `Identifier`, `CodeableConcept`, `Coding` and `Reference`.
//!
//! Reading ignores every JSON member not named here, as FHIR allows a
//! reader to (`text`, `id`, `identifier`, `policy`, `coding.version`, other
//! extensions, …); the few members that would change what a Consent means
//! are read as opaque values only to refuse them (see `import.rs`). Writing
//! leaves out what is absent. No `Debug`: identifiers here are BSNs.

use serde::{Deserialize, Serialize};

/// `Bundle`, with its entries' resources as `R` (`serde_json::Value` when
/// reading, to look at `resourceType` first)
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bundle<R> {
    #[serde(default)]
    pub(crate) resource_type: Option<String>,
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) entry: Vec<Entry<R>>,
}

/// `Bundle.entry`
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry<R> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) full_url: Option<String>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(crate) resource: Option<R>,
}

fn none<R>() -> Option<R> {
    None
}

/// An entry's resource when writing
#[derive(Serialize)]
#[serde(tag = "resourceType")]
pub(crate) enum Resource {
    Consent(Box<Consent>),
    Patient(Patient),
    Organization(Organization),
}

/// `Resource.meta` (only `profile` is read)
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Meta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) profile: Vec<String>,
}

/// `Coding`
#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct Coding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) display: Option<String>,
}

impl Coding {
    pub(crate) fn new(system: &str, code: &str, display: Option<&str>) -> Self {
        Self {
            system: Some(system.to_owned()),
            code: Some(code.to_owned()),
            display: display.map(str::to_owned),
        }
    }
}

/// `CodeableConcept`
#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct CodeableConcept {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) coding: Vec<Coding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
}

impl CodeableConcept {
    /// A concept of one coding
    pub(crate) fn of(coding: Coding) -> Self {
        Self {
            coding: vec![coding],
            text: None,
        }
    }
}

/// `Identifier`
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Identifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}

/// `Reference` (only `reference` is read)
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reference: Option<String>,
}

/// `Extension` (only `valueCodeableConcept` of the value\[x\] choices is read)
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Extension {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value_codeable_concept: Option<CodeableConcept>,
}

/// `Consent`
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Consent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) extension: Vec<Extension>,
    /// Refused when present: a modifier extension must be understood
    #[serde(default, skip_serializing)]
    pub(crate) modifier_extension: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) category: Vec<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) patient: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date_time: Option<String>,
    /// Written only (R4 invariant ppc-1: a policy or a policy rule); not read
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub(crate) policy_rule: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) provision: Option<Provision>,
}

/// `Consent.provision`: its `type`, `actor`s and `purpose`s are read; the
/// elements that would narrow or change the rule are read only to refuse them
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Provision {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) actor: Vec<Actor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) purpose: Vec<Coding>,
    #[serde(default, skip_serializing)]
    pub(crate) period: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) action: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) security_label: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) class: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) code: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) data_period: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub(crate) data: Option<serde_json::Value>,
    #[serde(rename = "provision", default, skip_serializing)]
    pub(crate) nested: Option<serde_json::Value>,
}

impl Provision {
    /// The first element present that this importer refuses, by its name
    pub(crate) fn unsupported(&self) -> Option<&'static str> {
        [
            ("period", &self.period),
            ("action", &self.action),
            ("securityLabel", &self.security_label),
            ("class", &self.class),
            ("code", &self.code),
            ("dataPeriod", &self.data_period),
            ("data", &self.data),
            ("provision", &self.nested),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(name, _)| name)
    }
}

/// `Consent.provision.actor`
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reference: Option<Reference>,
}

/// `Patient` (only `identifier` is read)
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Patient {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) identifier: Vec<Identifier>,
}

/// `Organization` (`identifier`, `type` and `name`)
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Organization {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) identifier: Vec<Identifier>,
    #[serde(rename = "type", default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) kind: Vec<CodeableConcept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}
