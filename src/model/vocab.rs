//! The engine's fixed vocabulary (actions, purposes, sources, reason codes)
//! and the policy-declared one (roles, tasks, categories, modules).

use std::fmt;

use hashbrown::HashMap;

use serde::{Deserialize, Serialize};

use super::consent_vocab::ConsentVocabulary;
use super::ids::{
    CareModule, Category, DataCategory, HolderCategory, RequesterCategory, Role, Task,
};
use super::request::{Action, Request, RequestError};

macro_rules! fixed_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $( $(#[$vdoc])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in the order of SPEC.md
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name (`snake_case`)
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// Looks a wire name up
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $( $text => Some($name::$variant), )+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

fixed_enum!(
    /// Why a principal may process a patient's data (SPEC.md §2, purposes)
    Purpose, "purpose" {
        /// Care within an existing treatment relationship (the default)
        Treatment = "treatment",
        /// Unplanned care (niet-planbare zorg)
        Emergency = "emergency",
        /// Planned care: the receiving side of a referral
        Referral = "referral",
        /// An external party's care-quality survey
        QualitySurvey = "quality_survey",
        /// Registration data for NZa research
        NzaRegistration = "nza_registration",
        /// Medical-scientific research (needs a study)
        Research = "research",
    }
);

fixed_enum!(
    /// Where a record comes from
    Source, "source" {
        /// The holder's dossier
        Dossier = "dossier",
        /// A care module's shared data
        Module = "module",
        /// The patient's own PGO (personal health environment)
        Pgo = "pgo",
    }
);

fixed_enum!(
    /// The actions of SPEC.md §4
    ActionKind, "action" {
        /// See one category of a holder's data
        View = "view",
        /// See one record
        ViewRecord = "view_record",
        /// Request access (toegang vragen) in the viewer
        RequestAccess = "request_access",
        /// Make the own organisation's dossier available to the network
        Share = "share",
        /// Start a care module
        StartModule = "start_module",
        /// Work in a care module
        Contribute = "contribute",
        /// Record or change a patient's consent for a holder
        ChangeConsent = "change_consent",
        /// See a patient's consent overview at a holder
        ViewConsents = "view_consents",
        /// An external party uses personal data
        UsePersonalData = "use_personal_data",
        /// NZa registration or a study uses the data
        UseForResearch = "use_for_research",
        /// A patient sees their own data
        ViewOwn = "view_own",
        /// Read the log of who saw a patient's data
        ViewAccessLog = "view_access_log",
    }
);

fixed_enum!(
    /// A deny reason code (SPEC.md §4); their order here is the order in every response
    Reason, "reason" {
        /// The request's `min_seq` is above the last position the engine
        /// applied (SPEC.md §8, R47): always the only reason
        StaleFacts = "stale_facts",
        /// The request names an id the registry does not know
        UnknownEntity = "unknown_entity",
        /// No two-factor sign-in (DigiD for patients)
        MfaRequired = "mfa_required",
        /// No active treatment relationship
        NoTreatmentRelationship = "no_treatment_relationship",
        /// No active dossier consent for the holder
        NoDossierConsent = "no_dossier_consent",
        /// Beside `no_dossier_consent`: the deciding consent statement is an
        /// explicit refusal (a Mitz "nee" or a withdrawal)
        ConsentRefused = "consent_refused",
        /// Beside `no_dossier_consent`: a Mitz choice would have applied but
        /// the patient is under 16 and no guardian confirmed it (R41)
        ConsentUnconfirmed = "consent_unconfirmed",
        /// The practitioner has not requested access
        AccessNotRequested = "access_not_requested",
        /// The role may not see this category or do this
        RoleNotPermitted = "role_not_permitted",
        /// The record is marked as wrong or mixed-up data
        RecordFlagged = "record_flagged",
        /// The record was deleted with the PGO account
        RecordDeleted = "record_deleted",
        /// Planned care without a referral
        NoReferral = "no_referral",
        /// The patient objected to sharing this on referral
        ReferralObjection = "referral_objection",
        /// Emergency without unplanned-care consent
        NoUnplannedCareConsent = "no_unplanned_care_consent",
        /// No PGO account
        NoPgoAccount = "no_pgo_account",
        /// No consent to transfer module tasks to the PGO
        NoPgoTransferConsent = "no_pgo_transfer_consent",
        /// The care module was not started
        ModuleNotStarted = "module_not_started",
        /// No storage consent for the module
        NoModuleStorageConsent = "no_module_storage_consent",
        /// Shared ownership of the module not accepted
        OwnershipNotAccepted = "ownership_not_accepted",
        /// The practitioner lacks the task
        TaskNotAuthorised = "task_not_authorised",
        /// Only for staff of the holder
        NotOwnOrganisation = "not_own_organisation",
        /// No per-party consent
        NoPartyConsent = "no_party_consent",
        /// The patient objected to this purpose
        ObjectionRecorded = "objection_recorded",
        /// No consent for this study
        NoResearchConsent = "no_research_consent",
        /// A patient asked about another patient
        NotSelf = "not_self",
        /// A policy could not be evaluated; the engine failed closed
        EvaluationError = "evaluation_error",
        /// No rule permits the action
        NotPermitted = "not_permitted",
    }
);

impl Reason {
    /// The reason in words, for a practitioner or patient reading a screen
    pub const fn explain(self) -> &'static str {
        match self {
            Reason::StaleFacts => {
                "this server has not yet received the latest changes to the patient's data \
                 (such as a withdrawn consent); try again shortly"
            }
            Reason::UnknownEntity => "the request names something the registry does not know",
            Reason::MfaRequired => "sign in with two factors (DigiD for patients) first",
            Reason::NoTreatmentRelationship => {
                "your organisation has no active treatment relationship with this patient"
            }
            Reason::NoDossierConsent => {
                "the patient has not consented to sharing this holder's dossier"
            }
            Reason::ConsentRefused => {
                "the patient refused sharing this data with your organisation"
            }
            Reason::ConsentUnconfirmed => {
                "the patient's choice needs a parent's or guardian's confirmation first (under 16)"
            }
            Reason::AccessNotRequested => "request access to this patient first",
            Reason::RoleNotPermitted => "your role may not see this category or do this",
            Reason::RecordFlagged => "the record is marked as wrong or mixed-up data",
            Reason::RecordDeleted => "the record was deleted with the patient's PGO account",
            Reason::NoReferral => "there is no referral from this holder to your organisation",
            Reason::ReferralObjection => "the patient objected to sharing this on referral",
            Reason::NoUnplannedCareConsent => {
                "the patient has not consented to sharing this holder's data for unplanned care"
            }
            Reason::NoPgoAccount => "the patient has no PGO account",
            Reason::NoPgoTransferConsent => {
                "the patient has not consented to transferring module tasks to the PGO"
            }
            Reason::ModuleNotStarted => "this care module was not started for the patient",
            Reason::NoModuleStorageConsent => {
                "the patient has not consented to storing this module's data in the network"
            }
            Reason::OwnershipNotAccepted => "accept shared ownership of this module's data first",
            Reason::TaskNotAuthorised => "you lack the task this action needs",
            Reason::NotOwnOrganisation => "only staff of the holder may do this",
            Reason::NoPartyConsent => {
                "the patient has not consented to this party using the data for this purpose"
            }
            Reason::ObjectionRecorded => "the patient objected to this purpose",
            Reason::NoResearchConsent => "the patient has not consented to this study",
            Reason::NotSelf => "a patient may only see their own data",
            Reason::EvaluationError => {
                "a policy could not be evaluated, so the engine denied (fail closed)"
            }
            Reason::NotPermitted => "no rule permits this",
        }
    }
}

/// The vocabulary the loaded policies declare: roles, tasks, categories (in
/// canonical order), care modules, and the consent vocabulary
///
/// The first four come from the enumerated entity types `Role`, `Task`,
/// `Category` and `CareModule` of the Cedar schema, so a policy author
/// extends them by editing `policies/zorg.cedarschema`; the consent
/// vocabulary ([`Vocabulary::consent`]) comes from `policies/consent.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vocabulary {
    roles: Vec<Role>,
    tasks: Vec<Task>,
    categories: Vec<Category>,
    modules: Vec<CareModule>,
    role_index: HashMap<Role, u16>,
    task_index: HashMap<Task, u16>,
    category_index: HashMap<Category, u16>,
    module_index: HashMap<CareModule, u16>,
    consent: ConsentVocabulary,
}

fn index_of<T: Clone + Eq + std::hash::Hash>(values: &[T]) -> HashMap<T, u16> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((v.clone(), u16::try_from(i).ok()?)))
        .collect()
}

impl Vocabulary {
    /// A vocabulary from its lists; positions past `u16::MAX` are not indexed
    pub(crate) fn new(
        roles: Vec<Role>,
        tasks: Vec<Task>,
        categories: Vec<Category>,
        modules: Vec<CareModule>,
    ) -> Self {
        Self {
            role_index: index_of(&roles),
            task_index: index_of(&tasks),
            category_index: index_of(&categories),
            module_index: index_of(&modules),
            roles,
            tasks,
            categories,
            modules,
            consent: ConsentVocabulary::default(),
        }
    }

    /// The same vocabulary with `consent` as its consent vocabulary
    #[must_use]
    pub(crate) fn with_consent(self, consent: ConsentVocabulary) -> Self {
        Self { consent, ..self }
    }

    /// The consent vocabulary (SPEC.md §7.2): data, holder and requesting
    /// categories and the provider-type table; empty in a
    /// [`Vocabulary::default`]
    pub fn consent(&self) -> &ConsentVocabulary {
        &self.consent
    }

    /// The roles
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }
    /// The tasks
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }
    /// The data categories, in canonical order
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
    /// The care modules
    pub fn modules(&self) -> &[CareModule] {
        &self.modules
    }
    /// Whether `role` is known
    pub fn has_role(&self, role: &Role) -> bool {
        self.role_index.contains_key(role)
    }
    /// Whether `task` is known
    pub fn has_task(&self, task: &Task) -> bool {
        self.task_index.contains_key(task)
    }
    /// Whether `category` is known
    pub fn has_category(&self, category: &Category) -> bool {
        self.category_index.contains_key(category)
    }
    /// Whether `module` is known
    pub fn has_module(&self, module: &CareModule) -> bool {
        self.module_index.contains_key(module)
    }
    /// Whether the consent vocabulary knows the Mitz data category `c`
    pub fn has_data_category(&self, c: &DataCategory) -> bool {
        self.consent.data_index(c).is_some()
    }
    /// Whether the consent vocabulary knows the holder category `c`
    pub fn has_holder_category(&self, c: &HolderCategory) -> bool {
        self.consent.holder_index(c).is_some()
    }
    /// Whether the consent vocabulary knows the requesting category `c`
    pub fn has_requester_category(&self, c: &RequesterCategory) -> bool {
        self.consent.requester_index(c).is_some()
    }
    /// The position of `role` in [`Vocabulary::roles`]
    pub(crate) fn role_index(&self, role: &Role) -> Option<u16> {
        self.role_index.get(role).copied()
    }
    /// The position of `task` in [`Vocabulary::tasks`]
    pub(crate) fn task_index(&self, task: &Task) -> Option<u16> {
        self.task_index.get(task).copied()
    }
    /// The position of `category` in [`Vocabulary::categories`] (the canonical order)
    pub(crate) fn category_index(&self, category: &Category) -> Option<u16> {
        self.category_index.get(category).copied()
    }
    /// The position of `module` in [`Vocabulary::modules`]
    pub(crate) fn module_index(&self, module: &CareModule) -> Option<u16> {
        self.module_index.get(module).copied()
    }

    /// Checks that every vocabulary value `request` names (its `category`
    /// or `module`) is one this vocabulary declares (SPEC.md §2: a value the
    /// loaded vocabulary does not know is rejected like a malformed id)
    ///
    /// Roles and tasks come from the registered practitioner, not from the
    /// request, and a [`crate::DashboardQuery`] names no vocabulary value, so
    /// neither needs this check. [`crate::Engine::decide`] itself still
    /// answers such a request with a deny (`unknown_entity`): this check is
    /// for the places where a typo must be an error, such as a scenario
    /// expectation or a request typed at the command line.
    ///
    /// # Errors
    ///
    /// [`RequestError::UnknownValue`] naming the action, the field and the value.
    pub fn check_request(&self, request: &Request) -> Result<(), RequestError> {
        let unknown = |field, value: &dyn fmt::Display| {
            Err(RequestError::UnknownValue {
                action: request.action.kind(),
                field,
                value: value.to_string(),
            })
        };
        match &request.action {
            Action::View { category, .. }
            | Action::ViewOwn {
                category: Some(category),
                ..
            } if !self.has_category(category) => unknown("category", category),
            Action::StartModule { module } | Action::Contribute { module }
                if !self.has_module(module) =>
            {
                unknown("module", module)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{OrganisationId, PatientId, PractitionerId};
    use crate::model::request::Principal;
    use crate::model::time::Timestamp;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(
            vec![Role::new("huisarts").unwrap()],
            vec![Task::new("log_review").unwrap()],
            vec![
                Category::new("basis").unwrap(),
                Category::new("labuitslagen").unwrap(),
            ],
            vec![CareModule::new("DM").unwrap()],
        )
    }

    fn request(action: Action) -> Request {
        Request {
            principal: Principal::Practitioner(PractitionerId::new("anna").unwrap()),
            patient: PatientId::new("client-1").unwrap(),
            at: Timestamp::parse("2026-02-01T00:00:00Z").unwrap(),
            mfa: true,
            action,
            min_seq: None,
        }
    }

    fn view(category: &str) -> Action {
        Action::View {
            holder: OrganisationId::new("vp-noord").unwrap(),
            category: Category::new(category).unwrap(),
            purpose: Purpose::Treatment,
        }
    }

    #[test]
    fn check_request_rejects_unknown_categories_and_modules_only() {
        let v = vocabulary();
        assert_eq!(v.check_request(&request(view("labuitslagen"))), Ok(()));
        assert_eq!(
            v.check_request(&request(view("labuitslag"))),
            Err(RequestError::UnknownValue {
                action: ActionKind::View,
                field: "category",
                value: "labuitslag".into(),
            })
        );
        let e = v.check_request(&request(view("labuitslag"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "action `view`: field `category`: unknown `labuitslag`"
        );
        let own = |category: Option<&str>| Action::ViewOwn {
            holder: None,
            category: category.map(|c| Category::new(c).unwrap()),
            record: None,
        };
        assert_eq!(v.check_request(&request(own(None))), Ok(()));
        assert_eq!(v.check_request(&request(own(Some("basis")))), Ok(()));
        assert!(v.check_request(&request(own(Some("wondzorg")))).is_err());
        let module = |m: &str| CareModule::new(m).unwrap();
        assert_eq!(
            v.check_request(&request(Action::Contribute {
                module: module("DM")
            })),
            Ok(())
        );
        for action in [
            Action::Contribute {
                module: module("DN"),
            },
            Action::StartModule {
                module: module("COPD"),
            },
        ] {
            let e = v.check_request(&request(action)).unwrap_err();
            assert!(
                matches!(
                    &e,
                    RequestError::UnknownValue {
                        field: "module",
                        ..
                    }
                ),
                "{e:?}"
            );
        }
        // Actions that name no vocabulary value always pass
        assert_eq!(v.check_request(&request(Action::RequestAccess)), Ok(()));
    }
}
