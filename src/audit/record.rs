//! The audit record of SPEC.md §6.

use serde::{Deserialize, Serialize};

use crate::model::ids::{
    CareModule, Category, DataCategory, OrganisationId, PatientId, RecordId, RequesterCategory,
    Role, StudyId,
};
use crate::model::request::{Decision, Principal};
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose, Reason};

/// What an audit record is about: an action of SPEC.md §4, or one holder of a dashboard
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum AuditAction {
    /// A decision
    Action(ActionKind),
    /// One holder of a dashboard
    Dashboard(DashboardTag),
    /// A consent question (SPEC.md §7.5)
    Consent(ConsentTag),
}

/// The tag `"dashboard"`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DashboardTag {
    /// `"dashboard"`
    Dashboard,
}

/// The consent questions, as an audit record names them
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentTag {
    /// `"consent_check"`: one record per data category asked
    ConsentCheck,
    /// `"consent_locate"`: one record per candidate holder
    ConsentLocate,
    /// `"consent_overview"`: one record per overview
    ConsentOverview,
}

impl ConsentTag {
    /// The wire name
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentTag::ConsentCheck => "consent_check",
            ConsentTag::ConsentLocate => "consent_locate",
            ConsentTag::ConsentOverview => "consent_overview",
        }
    }
}

impl AuditAction {
    /// The wire name
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Action(a) => a.as_str(),
            AuditAction::Dashboard(_) => "dashboard",
            AuditAction::Consent(c) => c.as_str(),
        }
    }
}

/// Who asked, with role and organisation for practitioners
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditPrincipal {
    /// `practitioner`, `patient` or `organisation`
    pub kind: PrincipalKind,
    /// The principal's id
    pub id: String,
    /// The practitioner's role
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The practitioner's organisation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
}

impl AuditPrincipal {
    /// The record's principal: kind and id from the request, role and
    /// organisation for a practitioner
    pub(crate) fn of(
        principal: &Principal,
        role: Option<Role>,
        organisation: Option<OrganisationId>,
    ) -> Self {
        Self {
            kind: Self::kind_of(principal),
            id: principal.id().to_owned(),
            role,
            organisation,
        }
    }

    /// The kind of a request's principal
    pub(crate) const fn kind_of(principal: &Principal) -> PrincipalKind {
        match principal {
            Principal::Practitioner(_) => PrincipalKind::Practitioner,
            Principal::Patient(_) => PrincipalKind::Patient,
            Principal::Organisation(_) => PrincipalKind::Organisation,
        }
    }
}

/// The kind of principal
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A practitioner
    Practitioner,
    /// A patient
    Patient,
    /// An organisation's system
    Organisation,
}

/// The four NEN 7513 event-type flags: which checks the decision made
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the four NEN 7513 event-type flags are independent yes/no facts"
)]
#[non_exhaustive]
pub struct Checks {
    /// An authorisation check (the practitioner's role or task) was made
    pub authorisation: bool,
    /// A treatment-relationship check was made
    pub treatment_relationship: bool,
    /// A consent (or objection) check was made
    pub consent: bool,
    /// The emergency route (unplanned care) was used
    pub emergency: bool,
}

/// One audit record: ids and codes only, never free text or clinical content
///
/// Its `Debug` shows the sequence number, the action and the decision only:
/// a record names a patient and a category, and a `{:?}` in a host's log must
/// not copy them there.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditRecord {
    /// Gap-free sequence number, given by the sink
    pub seq: u64,
    /// The decision's time
    pub at: Timestamp,
    /// Who asked
    pub principal: AuditPrincipal,
    /// Whose data
    pub patient: PatientId,
    /// What was asked
    pub action: AuditAction,
    /// The holder asked about
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<OrganisationId>,
    /// The category asked about
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// For a dashboard: the categories it showed of this holder
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Category>>,
    /// The record asked about
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    /// The care module asked about
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<CareModule>,
    /// The purpose
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The study
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyId>,
    /// For a consent question asked about a requesting category directly
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_category: Option<RequesterCategory>,
    /// For a consent question: the data category asked (`consent_check`),
    /// or the data categories permitted at the holder (`consent_locate`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_categories: Option<Vec<DataCategory>>,
    /// For a consent question: the ids of the consent statements that
    /// decided (`consent_check`, `consent_locate`) or were shown
    /// (`consent_overview`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<Vec<String>>,
    /// The answer
    pub decision: Decision,
    /// The deny reasons
    pub reasons: Vec<Reason>,
    /// The determining policies
    pub policies: Vec<String>,
    /// The content hash of the policy set that decided
    pub policy_version: String,
    /// The NEN 7513 check flags
    pub checks: Checks,
    /// The previous record's `hash` (64 zeros for the first)
    pub prev_hash: String,
    /// SHA-256 over every other field and `prev_hash`
    pub hash: String,
}

impl std::fmt::Debug for AuditRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditRecord")
            .field("seq", &self.seq)
            .field("action", &self.action.as_str())
            .field("decision", &self.decision)
            .finish_non_exhaustive()
    }
}

/// The `prev_hash` of the first record
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
