//! Requests, responses and dashboard queries (SPEC.md §4), typed and on the wire.

use serde::{Deserialize, Serialize};

use super::ids::{
    CareModule, Category, OrganisationId, PatientId, PractitionerId, RecordId, StudyId,
};
use super::time::Timestamp;
use super::vocab::{ActionKind, Purpose, Reason};

/// Who asks: `{"practitioner": ID}`, `{"patient": ID}` or `{"organisation": ID}`
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Principal {
    /// A care professional or staff member
    Practitioner(PractitionerId),
    /// A patient (signed in with DigiD)
    Patient(PatientId),
    /// A system of an organisation, such as an external party
    Organisation(OrganisationId),
}

impl Principal {
    /// The principal's id, whichever kind it is
    pub fn id(&self) -> &str {
        match self {
            Principal::Practitioner(id) => id.as_str(),
            Principal::Patient(id) => id.as_str(),
            Principal::Organisation(id) => id.as_str(),
        }
    }
}

/// What is asked, with the action's own fields
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[expect(
    missing_docs,
    reason = "the fields are the ones of SPEC.md §4, named as there"
)]
pub enum Action {
    /// May they see this category of the patient's data held by `holder`?
    View {
        holder: OrganisationId,
        category: Category,
        purpose: Purpose,
    },
    /// May they see this one record?
    ViewRecord { record: RecordId, purpose: Purpose },
    /// May they request access to this patient in the viewer?
    RequestAccess,
    /// May their organisation make this patient's dossier available to the network?
    Share,
    /// May they start this care module with the patient?
    StartModule { module: CareModule },
    /// May they work in this care module?
    Contribute { module: CareModule },
    /// May they record or change the patient's consent for `holder`?
    ChangeConsent { holder: OrganisationId },
    /// May they see the patient's consent overview at `holder`?
    ViewConsents { holder: OrganisationId },
    /// May this external party use the patient's personal data held by `holder`?
    UsePersonalData {
        holder: OrganisationId,
        purpose: Purpose,
    },
    /// May this party use the patient's data for NZa registration or a study?
    UseForResearch {
        purpose: Purpose,
        study: Option<StudyId>,
    },
    /// May the patient see their own data?
    ViewOwn {
        holder: Option<OrganisationId>,
        category: Option<Category>,
        record: Option<RecordId>,
    },
    /// May they read the log of who saw this patient's data?
    ViewAccessLog { holder: Option<OrganisationId> },
}

impl Action {
    /// The action's wire name
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::View { .. } => ActionKind::View,
            Action::ViewRecord { .. } => ActionKind::ViewRecord,
            Action::RequestAccess => ActionKind::RequestAccess,
            Action::Share => ActionKind::Share,
            Action::StartModule { .. } => ActionKind::StartModule,
            Action::Contribute { .. } => ActionKind::Contribute,
            Action::ChangeConsent { .. } => ActionKind::ChangeConsent,
            Action::ViewConsents { .. } => ActionKind::ViewConsents,
            Action::UsePersonalData { .. } => ActionKind::UsePersonalData,
            Action::UseForResearch { .. } => ActionKind::UseForResearch,
            Action::ViewOwn { .. } => ActionKind::ViewOwn,
            Action::ViewAccessLog { .. } => ActionKind::ViewAccessLog,
        }
    }
}

/// A question for the engine: may `principal` do `action` with `patient`'s data at `at`?
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "RequestRecord", try_from = "RequestRecord")]
pub struct Request {
    /// Who asks
    pub principal: Principal,
    /// Whose data
    pub patient: PatientId,
    /// The time the decision is taken at; only events at or before it count
    pub at: Timestamp,
    /// Whether the principal signed in with two factors (DigiD for patients)
    pub mfa: bool,
    /// What is asked
    pub action: Action,
    /// A freshness token (SPEC.md §8): the position the answer must include;
    /// when the engine has not applied it yet the answer is a deny with
    /// `stale_facts` alone (R47). `None`: any position will do
    pub min_seq: Option<u64>,
}

/// The flat wire form of a request
///
/// `mfa` absent means `false` through the API (fail closed) and `true` in
/// scenario files (SPEC.md §5); `purpose` absent means `treatment` where the
/// action's purpose is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "the fields are the ones of SPEC.md §4, named as there"
)]
pub struct RequestRecord {
    pub principal: Principal,
    pub action: ActionKind,
    pub patient: PatientId,
    pub at: Timestamp,
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
    /// A freshness token (SPEC.md §8, R47): deny with `stale_facts` unless
    /// the engine has applied this position
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
}

/// A request whose fields do not fit its action
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A field the action needs is absent
    #[error("action `{action}`: field `{field}` is missing")]
    MissingField {
        /// The action
        action: ActionKind,
        /// The field
        field: &'static str,
    },
    /// A field the action does not have is present
    #[error("action `{action}`: field `{field}` is not used by this action")]
    UnusedField {
        /// The action
        action: ActionKind,
        /// The field
        field: &'static str,
    },
    /// A value the loaded vocabulary does not know (a category or module
    /// the policies do not declare), rejected like a malformed id
    #[error("action `{action}`: field `{field}`: unknown `{value}`")]
    UnknownValue {
        /// The action
        action: ActionKind,
        /// The field (`category` or `module`)
        field: &'static str,
        /// The value
        value: String,
    },
}

impl RequestRecord {
    /// Turns the wire form into a typed request; `default_mfa` fills an absent `mfa`
    ///
    /// # Errors
    ///
    /// [`RequestError`] when a field the action needs is absent or one it does
    /// not use is present.
    pub fn into_request(mut self, default_mfa: bool) -> Result<Request, RequestError> {
        use ActionKind as A;
        let a = self.action;
        let missing = |field| RequestError::MissingField { action: a, field };
        let purpose_or_treatment = |p: &mut Option<Purpose>| p.take().unwrap_or(Purpose::Treatment);
        let action = match a {
            A::View => Action::View {
                holder: self.holder.take().ok_or_else(|| missing("holder"))?,
                category: self.category.take().ok_or_else(|| missing("category"))?,
                purpose: purpose_or_treatment(&mut self.purpose),
            },
            A::ViewRecord => Action::ViewRecord {
                record: self.record.take().ok_or_else(|| missing("record"))?,
                purpose: purpose_or_treatment(&mut self.purpose),
            },
            A::RequestAccess => Action::RequestAccess,
            A::Share => Action::Share,
            A::StartModule => Action::StartModule {
                module: self.module.take().ok_or_else(|| missing("module"))?,
            },
            A::Contribute => Action::Contribute {
                module: self.module.take().ok_or_else(|| missing("module"))?,
            },
            A::ChangeConsent => Action::ChangeConsent {
                holder: self.holder.take().ok_or_else(|| missing("holder"))?,
            },
            A::ViewConsents => Action::ViewConsents {
                holder: self.holder.take().ok_or_else(|| missing("holder"))?,
            },
            A::UsePersonalData => Action::UsePersonalData {
                holder: self.holder.take().ok_or_else(|| missing("holder"))?,
                purpose: self.purpose.take().ok_or_else(|| missing("purpose"))?,
            },
            A::UseForResearch => Action::UseForResearch {
                purpose: self.purpose.take().ok_or_else(|| missing("purpose"))?,
                study: self.study.take(),
            },
            A::ViewOwn => Action::ViewOwn {
                holder: self.holder.take(),
                category: self.category.take(),
                record: self.record.take(),
            },
            A::ViewAccessLog => Action::ViewAccessLog {
                holder: self.holder.take(),
            },
        };
        let left = [
            ("holder", self.holder.is_some()),
            ("category", self.category.is_some()),
            ("record", self.record.is_some()),
            ("purpose", self.purpose.is_some()),
            ("module", self.module.is_some()),
            ("study", self.study.is_some()),
        ];
        if let Some((field, _)) = left.iter().find(|(_, present)| *present) {
            return Err(RequestError::UnusedField { action: a, field });
        }
        Ok(Request {
            principal: self.principal,
            patient: self.patient,
            at: self.at,
            mfa: self.mfa.unwrap_or(default_mfa),
            action,
            min_seq: self.min_seq,
        })
    }
}

impl TryFrom<RequestRecord> for Request {
    type Error = RequestError;
    fn try_from(r: RequestRecord) -> Result<Self, RequestError> {
        r.into_request(false)
    }
}

impl From<Request> for RequestRecord {
    fn from(q: Request) -> Self {
        let mut r = RequestRecord {
            principal: q.principal,
            action: q.action.kind(),
            patient: q.patient,
            at: q.at,
            mfa: Some(q.mfa),
            holder: None,
            category: None,
            record: None,
            purpose: None,
            module: None,
            study: None,
            min_seq: q.min_seq,
        };
        match q.action {
            Action::View {
                holder,
                category,
                purpose,
            } => {
                r.holder = Some(holder);
                r.category = Some(category);
                r.purpose = Some(purpose);
            }
            Action::ViewRecord { record, purpose } => {
                r.record = Some(record);
                r.purpose = Some(purpose);
            }
            Action::RequestAccess | Action::Share => {}
            Action::StartModule { module } | Action::Contribute { module } => {
                r.module = Some(module);
            }
            Action::ChangeConsent { holder } | Action::ViewConsents { holder } => {
                r.holder = Some(holder);
            }
            Action::UsePersonalData { holder, purpose } => {
                r.holder = Some(holder);
                r.purpose = Some(purpose);
            }
            Action::UseForResearch { purpose, study } => {
                r.purpose = Some(purpose);
                r.study = study;
            }
            Action::ViewOwn {
                holder,
                category,
                record,
            } => {
                r.holder = holder;
                r.category = category;
                r.record = record;
            }
            Action::ViewAccessLog { holder } => r.holder = holder,
        }
        r
    }
}

impl Request {
    /// Parses a request from JSON; an absent `mfa` is `false`
    ///
    /// # Errors
    ///
    /// [`crate::ParseError`] naming the field, for malformed JSON, unknown or
    /// duplicate fields, malformed ids or times, or fields that do not fit the action.
    pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
        crate::model::parse_json::<RequestRecord>(json, "request")
            .and_then(|r| r.into_request(false).map_err(crate::ParseError::from))
    }

    /// A `view` request with purpose `treatment`; `mfa` says whether the
    /// practitioner signed in with two factors (R1: without, every request is denied)
    ///
    /// ```
    /// use zorg_pdp::{Category, OrganisationId, PatientId, PractitionerId, Request};
    /// let request = Request::view(
    ///     PractitionerId::new("anna")?, PatientId::new("client-1")?,
    ///     OrganisationId::new("vp-noord")?, Category::new("kraambed")?,
    ///     "2026-02-01T00:00:00Z".parse()?, true);
    /// assert!(request.mfa);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn view(
        practitioner: PractitionerId,
        patient: PatientId,
        holder: OrganisationId,
        category: Category,
        at: Timestamp,
        mfa: bool,
    ) -> Self {
        Self {
            principal: Principal::Practitioner(practitioner),
            patient,
            at,
            mfa,
            action: Action::View {
                holder,
                category,
                purpose: Purpose::Treatment,
            },
            min_seq: None,
        }
    }
}

/// Allow or deny
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The principal may
    Allow,
    /// The principal may not; the reasons say why
    Deny,
}

/// One evaluation's answer, before the registry's sequence number is added
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) decision: Decision,
    pub(crate) reasons: Vec<Reason>,
    pub(crate) policies: Vec<String>,
}

impl Outcome {
    /// A deny for one reason, decided by no policy (an unknown id, an input
    /// that does not fit the schema)
    pub(crate) fn deny(reason: Reason) -> Self {
        Self {
            decision: Decision::Deny,
            reasons: vec![reason],
            policies: Vec::new(),
        }
    }

    /// The response at sequence number `seq`
    pub(crate) fn to_response(&self, seq: u64) -> Response {
        self.clone().into_response(seq)
    }

    /// The response at sequence number `seq`
    pub(crate) fn into_response(self, seq: u64) -> Response {
        Response {
            decision: self.decision,
            reasons: self.reasons,
            policies: self.policies,
            seq,
        }
    }
}

/// The engine's answer
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Response {
    /// Allow or deny
    pub decision: Decision,
    /// On deny, every reason that applies, in the order of SPEC.md §4; empty on allow
    pub reasons: Vec<Reason>,
    /// The ids of the determining policies: the permits that applied on allow,
    /// the forbids that fired (or failed) on deny; sorted
    pub policies: Vec<String>,
    /// The registry's sequence number when the decision was taken (a freshness token)
    #[serde(default)]
    pub seq: u64,
}

impl Response {
    /// Whether the decision is allow
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// Which categories does a practitioner's dashboard show for a patient?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// Who looks (a practitioner)
    pub principal: Principal,
    /// Whose dashboard
    pub patient: PatientId,
    /// When
    pub at: Timestamp,
    /// Two-factor sign-in; absent means `false` through the API
    #[serde(default)]
    pub mfa: bool,
    /// The purpose of every `view` it summarises; absent means `treatment`
    #[serde(default = "treatment")]
    pub purpose: Purpose,
    /// A freshness token (SPEC.md §8, R47): unless the engine has applied
    /// this position, the answer shows nothing and says `stale_facts`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
}

fn treatment() -> Purpose {
    Purpose::Treatment
}

impl DashboardQuery {
    /// Parses a dashboard query from JSON
    ///
    /// # Errors
    ///
    /// [`crate::ParseError`] naming the field.
    pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
        crate::model::parse_json::<DashboardQuery>(json, "dashboard query")
    }
}

/// One holder on a dashboard
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HolderView {
    /// The holder (dossierhouder)
    pub holder: OrganisationId,
    /// The categories a `view` allows, in canonical order
    pub visible: Vec<Category>,
    /// When nothing is visible: the reasons every category is denied for
    /// (or, when no reason is common to all, every reason that occurs)
    pub reasons: Vec<Reason>,
}

/// One care module on a dashboard
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ModuleView {
    /// The module
    pub module: CareModule,
    /// Whether `contribute` is allowed
    pub allowed: bool,
    /// The deny reasons of `contribute`; empty when allowed
    pub reasons: Vec<Reason>,
}

/// A dashboard: per holder the visible categories, per started module whether the principal may contribute
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DashboardAnswer {
    /// Every organisation that ever had a treatment relationship with the
    /// patient or held a dossier consent for them (at or before `at`), by id
    pub holders: Vec<HolderView>,
    /// Every module started for the patient (at or before `at`), in vocabulary order
    pub modules: Vec<ModuleView>,
    /// The registry's sequence number when the answer was computed
    #[serde(default)]
    pub seq: u64,
    /// Empty, but `[stale_facts]` when the query's `min_seq` is above `seq`:
    /// then no holder and no module is shown (R47)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_view_with_defaults() {
        let q = Request::from_json(
            r#"{"principal":{"practitioner":"anna"},"action":"view","patient":"c1","at":"2026-02-01T00:00:00Z","holder":"vp","category":"basis"}"#,
        )
        .unwrap();
        assert!(!q.mfa);
        assert!(matches!(
            q.action,
            Action::View {
                purpose: Purpose::Treatment,
                ..
            }
        ));
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(Request::from_json(&json).unwrap(), q);
    }

    #[test]
    fn rejects_missing_unused_duplicate_and_unknown_fields() {
        let base =
            r#""principal":{"practitioner":"anna"},"patient":"c1","at":"2026-02-01T00:00:00Z""#;
        let e = Request::from_json(&format!(r#"{{{base},"action":"view","holder":"vp"}}"#))
            .unwrap_err();
        assert!(e.to_string().contains("`category` is missing"), "{e}");
        let e = Request::from_json(&format!(r#"{{{base},"action":"share","module":"DM"}}"#))
            .unwrap_err();
        assert!(e.to_string().contains("`module` is not used"), "{e}");
        let e = Request::from_json(&format!(r#"{{{base},"action":"share","action":"share"}}"#))
            .unwrap_err();
        assert!(e.to_string().contains("duplicate"), "{e}");
        let e =
            Request::from_json(&format!(r#"{{{base},"action":"share","bogus":1}}"#)).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Request::from_json(&format!(r#"{{{base},"action":"fly"}}"#)).unwrap_err();
        assert!(e.to_string().contains("fly"), "{e}");
    }

    #[test]
    fn principal_has_exactly_one_kind() {
        let e = serde_json::from_str::<Principal>(r#"{"practitioner":"a","patient":"b"}"#);
        assert!(e.is_err());
    }
}
