//! The registered entities of SPEC.md §2: organisations, practitioners, patients.

use serde::{Deserialize, Serialize};

use super::ids::{OrganisationId, PatientId, PractitionerId, Role, Task};

/// A care provider (zorgaanbieder), dossier holder or external party
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Its id
    pub id: OrganisationId,
    /// A display name; never used in decisions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What kind of organisation (`verloskundigenpraktijk`, `survey_bureau`, …); never used in decisions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Organisation {
    /// An organisation with only an id
    pub fn new(id: OrganisationId) -> Self {
        Self {
            id,
            name: None,
            kind: None,
        }
    }
}

/// A care professional or staff member of one organisation
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Practitioner {
    /// Its id
    pub id: PractitionerId,
    /// The organisation the practitioner works for
    pub organisation: OrganisationId,
    /// The role, from the loaded vocabulary
    pub role: Role,
    /// Authorisations for administrative actions, from the loaded vocabulary
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
}

impl Practitioner {
    /// A practitioner without tasks
    pub fn new(id: PractitionerId, organisation: OrganisationId, role: Role) -> Self {
        Self {
            id,
            organisation,
            role,
            tasks: Vec::new(),
        }
    }
}

/// A patient or client (cliënt)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Its id
    pub id: PatientId,
}

/// Any entity, for hosts that register through one JSON entry point
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EntityRecord {
    /// `{"organisation": {...}}`
    Organisation(Organisation),
    /// `{"practitioner": {...}}`
    Practitioner(Practitioner),
    /// `{"patient": {...}}`
    Patient(Patient),
}
