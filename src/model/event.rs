//! Events: the facts of SPEC.md §3, typed, and their flat wire form.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::consent::Choice;
use super::ids::{
    CareModule, Category, DataCategory, DocumentRef, HolderCategory, OrganisationId, PatientId,
    PractitionerId, RecordId, RequesterCategory, StudyId,
};
use super::time::Timestamp;
use super::vocab::{Purpose, Source};

/// Whether an event gives a fact or takes it back: given, started, created
/// or recorded, against withdrawn, ended or deleted
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// `…_given`, `…_started`, `…_created`, `…_recorded`, and the one-off events
    Given,
    /// `…_withdrawn`, `…_ended`, `…_deleted`
    Withdrawn,
}

impl Change {
    /// Whether this gives the fact
    pub const fn is_given(self) -> bool {
        matches!(self, Change::Given)
    }
}

/// One table of event types: a pair of wire names per fact that can be given
/// and withdrawn, one name per one-off fact. It generates [`EventType`], its
/// wire names, and the mapping between a type and its [`EventKind`] variant
/// with its [`Change`], so a new event type is one line here plus its variant.
macro_rules! event_types {
    (
        pairs { $( $shape:ident: $given:ident = $gtext:literal / $withdrawn:ident = $wtext:literal ),+ $(,)? }
        singles { $( $single:ident = $stext:literal ),+ $(,)? }
    ) => {
        /// The `type` of an event
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
        pub enum EventType {
            $(
                #[doc = concat!("`", $gtext, "`")] #[serde(rename = $gtext)] $given,
                #[doc = concat!("`", $wtext, "`")] #[serde(rename = $wtext)] $withdrawn,
            )+
            $( #[doc = concat!("`", $stext, "`")] #[serde(rename = $stext)] $single, )+
        }

        /// The [`EventKind`] variant of a type, without its fields
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Shape {
            $( $shape, )+
            $( $single, )+
        }

        impl EventType {
            /// Every event type
            pub const ALL: &'static [EventType] =
                &[$(EventType::$given, EventType::$withdrawn,)+ $(EventType::$single,)+];

            /// The wire name
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( EventType::$given => $gtext, EventType::$withdrawn => $wtext, )+
                    $( EventType::$single => $stext, )+
                }
            }

            /// Whether events of this type give or withdraw their fact
            pub const fn change(self) -> Change {
                match self {
                    $( EventType::$given => Change::Given, EventType::$withdrawn => Change::Withdrawn, )+
                    $( EventType::$single => Change::Given, )+
                }
            }

            const fn shape(self) -> Shape {
                match self {
                    $( EventType::$given | EventType::$withdrawn => Shape::$shape, )+
                    $( EventType::$single => Shape::$single, )+
                }
            }
        }

        impl Shape {
            const fn event_type(self, change: Change) -> EventType {
                match (self, change) {
                    $(
                        (Shape::$shape, Change::Given) => EventType::$given,
                        (Shape::$shape, Change::Withdrawn) => EventType::$withdrawn,
                    )+
                    $( (Shape::$single, _) => EventType::$single, )+
                }
            }
        }
    };
}

event_types! {
    pairs {
        Treatment: TreatmentStarted = "treatment_started" / TreatmentEnded = "treatment_ended",
        DossierConsent: DossierConsentGiven = "dossier_consent_given"
            / DossierConsentWithdrawn = "dossier_consent_withdrawn",
        ReferralObjection: ReferralObjectionRecorded = "referral_objection_recorded"
            / ReferralObjectionWithdrawn = "referral_objection_withdrawn",
        UnplannedCareConsent: UnplannedCareConsentGiven = "unplanned_care_consent_given"
            / UnplannedCareConsentWithdrawn = "unplanned_care_consent_withdrawn",
        PgoAccount: PgoAccountCreated = "pgo_account_created"
            / PgoAccountDeleted = "pgo_account_deleted",
        PgoTransferConsent: PgoTransferConsentGiven = "pgo_transfer_consent_given"
            / PgoTransferConsentWithdrawn = "pgo_transfer_consent_withdrawn",
        ModuleStorageConsent: ModuleStorageConsentGiven = "module_storage_consent_given"
            / ModuleStorageConsentWithdrawn = "module_storage_consent_withdrawn",
        PartyConsent: PartyConsentGiven = "party_consent_given"
            / PartyConsentWithdrawn = "party_consent_withdrawn",
        Objection: ObjectionRecorded = "objection_recorded"
            / ObjectionWithdrawn = "objection_withdrawn",
        ResearchConsent: ResearchConsentGiven = "research_consent_given"
            / ResearchConsentWithdrawn = "research_consent_withdrawn",
        MitzChoice: MitzChoiceRecorded = "mitz_choice_recorded"
            / MitzChoiceCleared = "mitz_choice_cleared",
    }
    singles {
        AccessRequested = "access_requested",
        ReferralSent = "referral_sent",
        ModuleStarted = "module_started",
        ModuleOwnershipAccepted = "module_ownership_accepted",
        RecordAdded = "record_added",
        RecordFlagged = "record_flagged",
        MitzChoicesConfirmed = "mitz_choices_confirmed",
    }
}

/// Whose data a Mitz choice is about: one organisation, or a holder category
/// (SPEC.md §7.3: exactly one of `holder` / `holder_category`)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MitzHolder {
    /// `holder`: one organisation (a dossierhoudersknop choice)
    Organisation(OrganisationId),
    /// `holder_category`: every organisation of a holder category
    Category(HolderCategory),
}

/// Where a Mitz choice was recorded (SPEC.md §7.3 `recorded_via`); never
/// used in decisions
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum RecordedVia {
    /// The patient's own `MijnMitz` portal
    Mijnmitz,
    /// The holder's dossierhoudersknop
    Dossierhoudersknop,
    /// The requester's raadplegersknop
    Raadplegersknop,
    /// A FHIR notification (`zorg-pdp fhir import`)
    Fhir,
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fact with its time
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "EventRecord", try_from = "EventRecord")]
pub struct Event {
    /// When it happened (not when it arrived)
    pub at: Timestamp,
    /// What happened
    pub kind: EventKind,
}

/// What happened: one variant per fact of SPEC.md §3
///
/// A fact that can be given and withdrawn is one variant with a [`Change`]
/// (its two wire types, such as `dossier_consent_given` and
/// `dossier_consent_withdrawn`, share their fields: a withdrawal matches the
/// earlier event with the same fields). [`EventKind::event_type`] gives the
/// wire type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    missing_docs,
    reason = "the fields are the ones of SPEC.md §3, named as there"
)]
pub enum EventKind {
    /// `treatment_started` / `treatment_ended`
    Treatment {
        change: Change,
        patient: PatientId,
        organisation: OrganisationId,
    },
    /// `dossier_consent_given` / `dossier_consent_withdrawn`
    DossierConsent {
        change: Change,
        patient: PatientId,
        holder: OrganisationId,
        recorded_by: Option<PractitionerId>,
        evidence: Option<DocumentRef>,
    },
    /// `access_requested`
    AccessRequested {
        practitioner: PractitionerId,
        patient: PatientId,
    },
    /// `referral_sent`
    ReferralSent {
        patient: PatientId,
        from: OrganisationId,
        to: OrganisationId,
    },
    /// `referral_objection_recorded` / `_withdrawn`; without a category it covers all categories
    ReferralObjection {
        change: Change,
        patient: PatientId,
        holder: OrganisationId,
        category: Option<Category>,
    },
    /// `unplanned_care_consent_given` / `_withdrawn`
    UnplannedCareConsent {
        change: Change,
        patient: PatientId,
        holder: OrganisationId,
    },
    /// `pgo_account_created` / `pgo_account_deleted`
    PgoAccount { change: Change, patient: PatientId },
    /// `pgo_transfer_consent_given` / `_withdrawn`
    PgoTransferConsent { change: Change, patient: PatientId },
    /// `module_started`
    ModuleStarted {
        patient: PatientId,
        module: CareModule,
        practitioner: PractitionerId,
    },
    /// `module_storage_consent_given` / `_withdrawn`
    ModuleStorageConsent {
        change: Change,
        patient: PatientId,
        module: CareModule,
    },
    /// `module_ownership_accepted`
    ModuleOwnershipAccepted {
        practitioner: PractitionerId,
        patient: PatientId,
        module: CareModule,
    },
    /// `record_added`: `holder` is set for `dossier` and `module` records, `module` for `module` records
    RecordAdded {
        record: RecordId,
        patient: PatientId,
        category: Category,
        source: Source,
        holder: Option<OrganisationId>,
        module: Option<CareModule>,
    },
    /// `record_flagged`: wrong or mixed-up data (gegevensverwisseling)
    RecordFlagged { record: RecordId },
    /// `party_consent_given` / `_withdrawn`
    PartyConsent {
        change: Change,
        patient: PatientId,
        holder: OrganisationId,
        party: OrganisationId,
        purpose: Purpose,
    },
    /// `objection_recorded` / `objection_withdrawn`
    Objection {
        change: Change,
        patient: PatientId,
        purpose: Purpose,
    },
    /// `research_consent_given` / `_withdrawn`
    ResearchConsent {
        change: Change,
        patient: PatientId,
        study: StudyId,
    },
    /// `mitz_choice_recorded` (`choice` is `Some`) / `mitz_choice_cleared`
    /// (`choice` and `recorded_via` are `None`): a later one with the same
    /// key (patient, holder, data category, requesting category) replaces
    /// the earlier one
    MitzChoice {
        change: Change,
        patient: PatientId,
        holder: MitzHolder,
        data_category: DataCategory,
        requester_category: RequesterCategory,
        choice: Option<Choice>,
        recorded_via: Option<RecordedVia>,
    },
    /// `mitz_choices_confirmed`: a parent or guardian confirmed the choices
    /// the patient recorded at or before this event's time (R41)
    MitzChoicesConfirmed { patient: PatientId },
}

/// The flat wire form of an event, as in JSON and scenario files
///
/// Every field but `at` and `type` is optional here; [`Event::try_from`]
/// checks that the fields match the type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "the fields are the ones of SPEC.md §3, named as there"
)]
pub struct EventRecord {
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<PractitionerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<DocumentRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<PractitionerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<CareModule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<OrganisationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_category: Option<HolderCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_category: Option<DataCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_category: Option<RequesterCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_via: Option<RecordedVia>,
}

/// What is wrong with one field of an event
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventProblem {
    /// A field the event type needs is absent
    Missing,
    /// A field the event type does not have is present
    NotUsed,
    /// The field names an entity the registry does not know, or a value the
    /// loaded vocabulary does not know
    Unknown(String),
    /// The value is well formed but not acceptable here
    Invalid(String),
    /// The event was accepted but the journal of the engine's data directory
    /// could not take it: it is not acknowledged (field `journal`)
    Journal(crate::model::error::JournalFailure),
}

/// A rejected event: names the event type and the field; the state did not change
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event `{event_type}`: {}", describe(self.field, &self.problem))]
pub struct EventError {
    event_type: EventType,
    field: &'static str,
    problem: EventProblem,
}

fn describe(field: &str, problem: &EventProblem) -> String {
    match problem {
        EventProblem::Missing => format!("field `{field}` is missing"),
        EventProblem::NotUsed => format!("field `{field}` is not used by this event type"),
        EventProblem::Unknown(v) => format!("field `{field}`: unknown `{v}`"),
        EventProblem::Invalid(why) => format!("field `{field}`: {why}"),
        EventProblem::Journal(failure) => failure.to_string(),
    }
}

impl EventError {
    pub(crate) fn new(event_type: EventType, field: &'static str, problem: EventProblem) -> Self {
        Self {
            event_type,
            field,
            problem,
        }
    }
    /// The event's type
    pub fn event_type(&self) -> EventType {
        self.event_type
    }
    /// The field at fault
    pub fn field(&self) -> &'static str {
        self.field
    }
    /// An accepted event the journal could not take
    pub(crate) fn journal(
        event_type: EventType,
        failure: crate::model::error::JournalFailure,
    ) -> Self {
        Self::new(event_type, "journal", EventProblem::Journal(failure))
    }
    /// What is wrong with it
    pub fn problem(&self) -> &EventProblem {
        &self.problem
    }
}

impl EventRecord {
    /// An empty record of a type, for building by hand
    pub fn new(at: Timestamp, event_type: EventType) -> Self {
        Self {
            at,
            event_type,
            patient: None,
            organisation: None,
            holder: None,
            recorded_by: None,
            evidence: None,
            practitioner: None,
            from: None,
            to: None,
            category: None,
            module: None,
            record: None,
            source: None,
            party: None,
            purpose: None,
            study: None,
            holder_category: None,
            data_category: None,
            requester_category: None,
            choice: None,
            recorded_via: None,
        }
    }
}

/// Takes the fields out of a record one by one, then checks nothing is left
struct Fields {
    t: EventType,
    r: EventRecord,
}

macro_rules! need {
    ($f:expr, $name:ident) => {
        $f.r.$name
            .take()
            .ok_or_else(|| EventError::new($f.t, stringify!($name), EventProblem::Missing))?
    };
}

impl Fields {
    fn finish(self) -> Result<(), EventError> {
        let r = &self.r;
        let left: [(&'static str, bool); 20] = [
            ("patient", r.patient.is_some()),
            ("organisation", r.organisation.is_some()),
            ("holder", r.holder.is_some()),
            ("recorded_by", r.recorded_by.is_some()),
            ("evidence", r.evidence.is_some()),
            ("practitioner", r.practitioner.is_some()),
            ("from", r.from.is_some()),
            ("to", r.to.is_some()),
            ("category", r.category.is_some()),
            ("module", r.module.is_some()),
            ("record", r.record.is_some()),
            ("source", r.source.is_some()),
            ("party", r.party.is_some()),
            ("purpose", r.purpose.is_some()),
            ("study", r.study.is_some()),
            ("holder_category", r.holder_category.is_some()),
            ("data_category", r.data_category.is_some()),
            ("requester_category", r.requester_category.is_some()),
            ("choice", r.choice.is_some()),
            ("recorded_via", r.recorded_via.is_some()),
        ];
        match left.iter().find(|(_, present)| *present) {
            Some((field, _)) => Err(EventError::new(self.t, field, EventProblem::NotUsed)),
            None => Ok(()),
        }
    }
}

impl TryFrom<EventRecord> for Event {
    type Error = EventError;

    #[expect(clippy::too_many_lines, reason = "one arm per event kind")]
    fn try_from(r: EventRecord) -> Result<Self, EventError> {
        use EventKind as K;
        let at = r.at;
        let change = r.event_type.change();
        let mut f = Fields { t: r.event_type, r };
        let kind = match f.t.shape() {
            Shape::Treatment => K::Treatment {
                change,
                patient: need!(f, patient),
                organisation: need!(f, organisation),
            },
            Shape::DossierConsent => K::DossierConsent {
                change,
                patient: need!(f, patient),
                holder: need!(f, holder),
                recorded_by: f.r.recorded_by.take(),
                evidence: f.r.evidence.take(),
            },
            Shape::AccessRequested => K::AccessRequested {
                practitioner: need!(f, practitioner),
                patient: need!(f, patient),
            },
            Shape::ReferralSent => K::ReferralSent {
                patient: need!(f, patient),
                from: need!(f, from),
                to: need!(f, to),
            },
            Shape::ReferralObjection => K::ReferralObjection {
                change,
                patient: need!(f, patient),
                holder: need!(f, holder),
                category: f.r.category.take(),
            },
            Shape::UnplannedCareConsent => K::UnplannedCareConsent {
                change,
                patient: need!(f, patient),
                holder: need!(f, holder),
            },
            Shape::PgoAccount => K::PgoAccount {
                change,
                patient: need!(f, patient),
            },
            Shape::PgoTransferConsent => K::PgoTransferConsent {
                change,
                patient: need!(f, patient),
            },
            Shape::ModuleStarted => K::ModuleStarted {
                patient: need!(f, patient),
                module: need!(f, module),
                practitioner: need!(f, practitioner),
            },
            Shape::ModuleStorageConsent => K::ModuleStorageConsent {
                change,
                patient: need!(f, patient),
                module: need!(f, module),
            },
            Shape::ModuleOwnershipAccepted => K::ModuleOwnershipAccepted {
                practitioner: need!(f, practitioner),
                patient: need!(f, patient),
                module: need!(f, module),
            },
            Shape::RecordAdded => {
                let record = need!(f, record);
                let patient = need!(f, patient);
                let category = need!(f, category);
                let source = need!(f, source);
                let holder = match source {
                    Source::Dossier | Source::Module => Some(need!(f, holder)),
                    Source::Pgo => None,
                };
                let module = match source {
                    Source::Module => Some(need!(f, module)),
                    Source::Dossier | Source::Pgo => None,
                };
                K::RecordAdded {
                    record,
                    patient,
                    category,
                    source,
                    holder,
                    module,
                }
            }
            Shape::RecordFlagged => K::RecordFlagged {
                record: need!(f, record),
            },
            Shape::PartyConsent => K::PartyConsent {
                change,
                patient: need!(f, patient),
                holder: need!(f, holder),
                party: need!(f, party),
                purpose: need!(f, purpose),
            },
            Shape::Objection => K::Objection {
                change,
                patient: need!(f, patient),
                purpose: need!(f, purpose),
            },
            Shape::ResearchConsent => K::ResearchConsent {
                change,
                patient: need!(f, patient),
                study: need!(f, study),
            },
            Shape::MitzChoice => {
                let patient = need!(f, patient);
                let holder = match (f.r.holder.take(), f.r.holder_category.take()) {
                    (Some(h), None) => MitzHolder::Organisation(h),
                    (None, Some(c)) => MitzHolder::Category(c),
                    (None, None) => {
                        return Err(EventError::new(f.t, "holder", EventProblem::Missing));
                    }
                    (Some(_), Some(_)) => {
                        return Err(EventError::new(
                            f.t,
                            "holder_category",
                            EventProblem::Invalid(
                                "give exactly one of `holder` and `holder_category`".into(),
                            ),
                        ));
                    }
                };
                let data_category = need!(f, data_category);
                let requester_category = need!(f, requester_category);
                let (choice, recorded_via) = match change {
                    Change::Given => (Some(need!(f, choice)), f.r.recorded_via.take()),
                    Change::Withdrawn => (None, None),
                };
                K::MitzChoice {
                    change,
                    patient,
                    holder,
                    data_category,
                    requester_category,
                    choice,
                    recorded_via,
                }
            }
            Shape::MitzChoicesConfirmed => K::MitzChoicesConfirmed {
                patient: need!(f, patient),
            },
        };
        f.finish()?;
        Ok(Event { at, kind })
    }
}

impl From<Event> for EventRecord {
    #[expect(clippy::too_many_lines, reason = "one arm per event kind")]
    fn from(e: Event) -> Self {
        use EventKind as K;
        let mut r = EventRecord::new(e.at, e.kind.event_type());
        match e.kind {
            K::Treatment {
                patient,
                organisation,
                ..
            } => {
                r.patient = Some(patient);
                r.organisation = Some(organisation);
            }
            K::DossierConsent {
                patient,
                holder,
                recorded_by,
                evidence,
                ..
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
                r.recorded_by = recorded_by;
                r.evidence = evidence;
            }
            K::AccessRequested {
                practitioner,
                patient,
            } => {
                r.practitioner = Some(practitioner);
                r.patient = Some(patient);
            }
            K::ReferralSent { patient, from, to } => {
                r.patient = Some(patient);
                r.from = Some(from);
                r.to = Some(to);
            }
            K::ReferralObjection {
                patient,
                holder,
                category,
                ..
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
                r.category = category;
            }
            K::UnplannedCareConsent {
                patient, holder, ..
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
            }
            K::PgoAccount { patient, .. } | K::PgoTransferConsent { patient, .. } => {
                r.patient = Some(patient);
            }
            K::ModuleStarted {
                patient,
                module,
                practitioner,
            } => {
                r.patient = Some(patient);
                r.module = Some(module);
                r.practitioner = Some(practitioner);
            }
            K::ModuleStorageConsent {
                patient, module, ..
            } => {
                r.patient = Some(patient);
                r.module = Some(module);
            }
            K::ModuleOwnershipAccepted {
                practitioner,
                patient,
                module,
            } => {
                r.practitioner = Some(practitioner);
                r.patient = Some(patient);
                r.module = Some(module);
            }
            K::RecordAdded {
                record,
                patient,
                category,
                source,
                holder,
                module,
            } => {
                r.record = Some(record);
                r.patient = Some(patient);
                r.category = Some(category);
                r.source = Some(source);
                r.holder = holder;
                r.module = module;
            }
            K::RecordFlagged { record } => r.record = Some(record),
            K::PartyConsent {
                patient,
                holder,
                party,
                purpose,
                ..
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
                r.party = Some(party);
                r.purpose = Some(purpose);
            }
            K::Objection {
                patient, purpose, ..
            } => {
                r.patient = Some(patient);
                r.purpose = Some(purpose);
            }
            K::ResearchConsent { patient, study, .. } => {
                r.patient = Some(patient);
                r.study = Some(study);
            }
            K::MitzChoice {
                patient,
                holder,
                data_category,
                requester_category,
                choice,
                recorded_via,
                ..
            } => {
                r.patient = Some(patient);
                match holder {
                    MitzHolder::Organisation(h) => r.holder = Some(h),
                    MitzHolder::Category(c) => r.holder_category = Some(c),
                }
                r.data_category = Some(data_category);
                r.requester_category = Some(requester_category);
                r.choice = choice;
                r.recorded_via = recorded_via;
            }
            K::MitzChoicesConfirmed { patient } => r.patient = Some(patient),
        }
        r
    }
}

impl EventKind {
    /// The wire `type` of this event
    pub fn event_type(&self) -> EventType {
        self.shape().event_type(self.change())
    }

    /// Whether this event gives or withdraws its fact ([`Change::Given`] for one-off events)
    pub fn change(&self) -> Change {
        use EventKind as K;
        match self {
            K::Treatment { change, .. }
            | K::DossierConsent { change, .. }
            | K::ReferralObjection { change, .. }
            | K::UnplannedCareConsent { change, .. }
            | K::PgoAccount { change, .. }
            | K::PgoTransferConsent { change, .. }
            | K::ModuleStorageConsent { change, .. }
            | K::PartyConsent { change, .. }
            | K::Objection { change, .. }
            | K::ResearchConsent { change, .. }
            | K::MitzChoice { change, .. } => *change,
            K::AccessRequested { .. }
            | K::ReferralSent { .. }
            | K::ModuleStarted { .. }
            | K::ModuleOwnershipAccepted { .. }
            | K::RecordAdded { .. }
            | K::RecordFlagged { .. }
            | K::MitzChoicesConfirmed { .. } => Change::Given,
        }
    }

    fn shape(&self) -> Shape {
        use EventKind as K;
        match self {
            K::Treatment { .. } => Shape::Treatment,
            K::DossierConsent { .. } => Shape::DossierConsent,
            K::AccessRequested { .. } => Shape::AccessRequested,
            K::ReferralSent { .. } => Shape::ReferralSent,
            K::ReferralObjection { .. } => Shape::ReferralObjection,
            K::UnplannedCareConsent { .. } => Shape::UnplannedCareConsent,
            K::PgoAccount { .. } => Shape::PgoAccount,
            K::PgoTransferConsent { .. } => Shape::PgoTransferConsent,
            K::ModuleStarted { .. } => Shape::ModuleStarted,
            K::ModuleStorageConsent { .. } => Shape::ModuleStorageConsent,
            K::ModuleOwnershipAccepted { .. } => Shape::ModuleOwnershipAccepted,
            K::RecordAdded { .. } => Shape::RecordAdded,
            K::RecordFlagged { .. } => Shape::RecordFlagged,
            K::PartyConsent { .. } => Shape::PartyConsent,
            K::Objection { .. } => Shape::Objection,
            K::ResearchConsent { .. } => Shape::ResearchConsent,
            K::MitzChoice { .. } => Shape::MitzChoice,
            K::MitzChoicesConfirmed { .. } => Shape::MitzChoicesConfirmed,
        }
    }
}

impl Event {
    /// Parses one event from JSON
    ///
    /// # Errors
    ///
    /// [`crate::ParseError`] naming the field, for malformed JSON, an unknown
    /// field, type or value, or fields that do not fit the type.
    pub fn from_json(json: &str) -> Result<Self, crate::ParseError> {
        crate::model::parse_json::<EventRecord>(json, "event")
            .and_then(|r| Event::try_from(r).map_err(crate::ParseError::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_round_trips() {
        let json = r#"{"at":"2026-01-10T09:00:00Z","type":"dossier_consent_given","patient":"c1","holder":"vp"}"#;
        let e = Event::from_json(json).unwrap();
        assert_eq!(e.kind.event_type(), EventType::DossierConsentGiven);
        let back = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&back).unwrap(), e);
    }

    #[test]
    fn names_missing_and_unused_fields() {
        let e = Event::from_json(
            r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"c1"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("`treatment_started`"), "{e}");
        assert!(e.to_string().contains("`organisation` is missing"), "{e}");
        let e = Event::from_json(
            r#"{"at":"2026-01-10T09:00:00Z","type":"pgo_account_created","patient":"c1","holder":"x"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("`holder` is not used"), "{e}");
    }

    #[test]
    fn record_added_fields_depend_on_source() {
        let base = r#"{"at":"2026-01-10T09:00:00Z","type":"record_added","record":"r","patient":"c1","category":"basis""#;
        assert!(Event::from_json(&format!("{base},\"source\":\"pgo\"}}")).is_ok());
        assert!(Event::from_json(&format!("{base},\"source\":\"dossier\"}}")).is_err());
        assert!(
            Event::from_json(&format!("{base},\"source\":\"dossier\",\"holder\":\"h\"}}")).is_ok()
        );
        assert!(
            Event::from_json(&format!("{base},\"source\":\"module\",\"holder\":\"h\"}}")).is_err()
        );
        assert!(
            Event::from_json(&format!("{base},\"source\":\"pgo\",\"holder\":\"h\"}}")).is_err()
        );
        assert!(Event::from_json(&format!("{base},\"source\":\"mail\"}}")).is_err());
    }

    #[test]
    fn every_type_round_trips_through_its_variant_and_change() {
        for &t in EventType::ALL {
            assert_eq!(t.shape().event_type(t.change()), t, "{t}");
        }
        let withdrawn = EventType::ALL
            .iter()
            .filter(|t| t.change() == Change::Withdrawn)
            .count();
        assert_eq!(withdrawn, 11, "eleven facts can be withdrawn or cleared");
        assert_eq!(EventType::ALL.len(), 29);
    }

    #[test]
    fn rejects_unknown_type_and_field() {
        assert!(
            Event::from_json(r#"{"at":"2026-01-10T09:00:00Z","type":"nope","patient":"c1"}"#)
                .is_err()
        );
        assert!(
            Event::from_json(
                r#"{"at":"2026-01-10T09:00:00Z","type":"pgo_account_created","patient":"c1","x":1}"#
            )
            .is_err()
        );
    }
}
