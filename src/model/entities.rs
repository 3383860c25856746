//! The registered entities of SPEC.md §2: organisations, practitioners, patients.

use serde::{Deserialize, Serialize};

use super::consent::BirthDate;
use super::ids::{OrganisationId, PatientId, PractitionerId, ProviderType, Role, Task};
use super::national::{Bsn, Ura};

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
    /// Its URA number, the national organisation id Mitz uses (SPEC.md §7.1);
    /// FHIR import finds the holder by it
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ura: Option<Ura>,
    /// Its national provider-type code (`Z3`, `V4`, `K4`, …): the consent
    /// vocabulary maps it to a holder and a requesting category (R42: none
    /// without one)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<ProviderType>,
}

impl Organisation {
    /// An organisation with only an id
    pub fn new(id: OrganisationId) -> Self {
        Self {
            id,
            name: None,
            kind: None,
            ura: None,
            provider_type: None,
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
    /// Its BSN, 9 digits passing the elfproef (SPEC.md §7.1); FHIR import
    /// finds the patient by it. Never printed by `Debug`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn: Option<Bsn>,
    /// Its date of birth, `YYYY-MM-DD`: the age at a decision's time decides
    /// whether its Mitz choices need a guardian's confirmation (R41); without
    /// one the patient counts as an adult
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<BirthDate>,
}

impl Patient {
    /// A patient with only an id
    pub fn new(id: PatientId) -> Self {
        Self {
            id,
            bsn: None,
            birth_date: None,
        }
    }
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

impl EntityRecord {
    /// Parses one entity record from JSON: `{"organisation": {...}}`,
    /// `{"practitioner": {...}}` or `{"patient": {...}}`
    ///
    /// # Errors
    ///
    /// [`crate::ParseError`] naming the field, for malformed JSON, an unknown
    /// kind of entity, an unknown or duplicate field, a malformed id, or text
    /// over 64 KiB.
    pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
        crate::model::parse_json::<EntityRecord>(json, "entity")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParseError;

    #[test]
    fn parses_each_kind() {
        let org = EntityRecord::from_json(r#"{"organisation":{"id":"vp-noord","name":"VP"}}"#);
        assert!(
            matches!(&org, Ok(EntityRecord::Organisation(o)) if o.id.as_str() == "vp-noord"),
            "{org:?}"
        );
        let p = EntityRecord::from_json(
            r#"{"practitioner":{"id":"anna","organisation":"kz","role":"huisarts","tasks":["log_review"]}}"#,
        );
        assert!(
            matches!(&p, Ok(EntityRecord::Practitioner(p)) if p.tasks.len() == 1),
            "{p:?}"
        );
        let patient = EntityRecord::from_json(r#"{"patient":{"id":"client-1"}}"#);
        assert!(
            matches!(&patient, Ok(EntityRecord::Patient(p)) if p.id.as_str() == "client-1"),
            "{patient:?}"
        );
    }

    #[test]
    fn errors_name_the_field_and_the_line() {
        let message = |json: &str| match EntityRecord::from_json(json) {
            Ok(e) => format!("parsed: {e:?}"),
            Err(e) => e.to_string(),
        };
        let m = message("{\"patient\":\n{\"id\":\"a b\"}}");
        assert!(m.starts_with("entity: field `id`: "), "{m}");
        assert!(m.contains("(line 2, column"), "{m}");
        let m = message(r#"{"patient":{"id":"c1","bsn":"123"}}"#);
        assert!(m.contains("field `bsn`") && m.contains("9 digits"), "{m}");
        let m = message(r#"{"patient":{"id":"c1","bsn":"123456789"}}"#);
        assert!(m.contains("elfproef") && !m.contains("123456789"), "{m}");
        let m = message(r#"{"patient":{"id":"c1","ssn":"1"}}"#);
        assert!(m.contains("unknown field `ssn`"), "{m}");
        let m = message(r#"{"patient":{"id":"c1","birth_date":"2026-02-30"}}"#);
        assert!(m.contains("field `birth_date`"), "{m}");
        let m = message(r#"{"organisation":{"id":"o","ura":"1234"}}"#);
        assert!(m.contains("field `ura`") && m.contains("8 digits"), "{m}");
        let m =
            message(r#"{"practitioner":{"id":"p","organisation":"o","role":"huisarts","id":"q"}}"#);
        assert!(m.contains("duplicate field `id`"), "{m}");
        let m = message(r#"{"robot":{"id":"r2"}}"#);
        assert!(m.starts_with("entity: ") && m.contains("`robot`"), "{m}");
        let m = message(r#"{"practitioner":{"id":"p","organisation":"o"}}"#);
        assert!(m.contains("missing field `role`"), "{m}");
    }

    #[test]
    fn national_fields_round_trip_and_debug_hides_the_bsn() {
        let json = r#"{"patient":{"id":"c1","bsn":"999999990","birth_date":"2011-02-28"}}"#;
        let p = EntityRecord::from_json(json).unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), json);
        assert!(!format!("{p:?}").contains("999999990"), "{p:?}");
        let json = r#"{"organisation":{"id":"kz","ura":"00000001","provider_type":"K4"}}"#;
        let o = EntityRecord::from_json(json).unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), json);
    }

    #[test]
    fn oversized_text_is_refused_before_parsing() {
        let big = format!(
            r#"{{"patient":{{"id":"{}"}}}}"#,
            "x".repeat(crate::model::MAX_JSON_LEN)
        );
        assert!(matches!(
            EntityRecord::from_json(&big),
            Err(ParseError::TooLarge { what: "entity", .. })
        ));
    }
}
