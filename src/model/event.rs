//! Events: the facts of SPEC.md §3, typed, and their flat wire form.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{
    CareModule, Category, DocumentRef, OrganisationId, PatientId, PractitionerId, RecordId, StudyId,
};
use super::time::Timestamp;
use super::vocab::{Purpose, Source};

macro_rules! event_types {
    ($( $variant:ident = $text:literal ),+ $(,)?) => {
        /// The `type` of an event
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
        pub enum EventType {
            $( #[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant, )+
        }

        impl EventType {
            /// Every event type, in the order of SPEC.md §3
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            /// The wire name
            pub const fn as_str(self) -> &'static str {
                match self { $( EventType::$variant => $text, )+ }
            }
        }
    };
}

event_types! {
    TreatmentStarted = "treatment_started",
    TreatmentEnded = "treatment_ended",
    DossierConsentGiven = "dossier_consent_given",
    DossierConsentWithdrawn = "dossier_consent_withdrawn",
    AccessRequested = "access_requested",
    ReferralSent = "referral_sent",
    ReferralObjectionRecorded = "referral_objection_recorded",
    ReferralObjectionWithdrawn = "referral_objection_withdrawn",
    UnplannedCareConsentGiven = "unplanned_care_consent_given",
    UnplannedCareConsentWithdrawn = "unplanned_care_consent_withdrawn",
    PgoAccountCreated = "pgo_account_created",
    PgoAccountDeleted = "pgo_account_deleted",
    PgoTransferConsentGiven = "pgo_transfer_consent_given",
    PgoTransferConsentWithdrawn = "pgo_transfer_consent_withdrawn",
    ModuleStarted = "module_started",
    ModuleStorageConsentGiven = "module_storage_consent_given",
    ModuleStorageConsentWithdrawn = "module_storage_consent_withdrawn",
    ModuleOwnershipAccepted = "module_ownership_accepted",
    RecordAdded = "record_added",
    RecordFlagged = "record_flagged",
    PartyConsentGiven = "party_consent_given",
    PartyConsentWithdrawn = "party_consent_withdrawn",
    ObjectionRecorded = "objection_recorded",
    ObjectionWithdrawn = "objection_withdrawn",
    ResearchConsentGiven = "research_consent_given",
    ResearchConsentWithdrawn = "research_consent_withdrawn",
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

/// What happened: one variant per event type of SPEC.md §3
///
/// The given/withdrawn pairs share their fields; a withdrawal matches the
/// earlier event with the same fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    missing_docs,
    reason = "the fields are the ones of SPEC.md §3, named as there"
)]
pub enum EventKind {
    /// `treatment_started`
    TreatmentStarted {
        patient: PatientId,
        organisation: OrganisationId,
    },
    /// `treatment_ended`
    TreatmentEnded {
        patient: PatientId,
        organisation: OrganisationId,
    },
    /// `dossier_consent_given`
    DossierConsentGiven {
        patient: PatientId,
        holder: OrganisationId,
        recorded_by: Option<PractitionerId>,
        evidence: Option<DocumentRef>,
    },
    /// `dossier_consent_withdrawn`
    DossierConsentWithdrawn {
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
    /// `referral_objection_recorded`; without a category it covers all categories
    ReferralObjectionRecorded {
        patient: PatientId,
        holder: OrganisationId,
        category: Option<Category>,
    },
    /// `referral_objection_withdrawn`
    ReferralObjectionWithdrawn {
        patient: PatientId,
        holder: OrganisationId,
        category: Option<Category>,
    },
    /// `unplanned_care_consent_given`
    UnplannedCareConsentGiven {
        patient: PatientId,
        holder: OrganisationId,
    },
    /// `unplanned_care_consent_withdrawn`
    UnplannedCareConsentWithdrawn {
        patient: PatientId,
        holder: OrganisationId,
    },
    /// `pgo_account_created`
    PgoAccountCreated { patient: PatientId },
    /// `pgo_account_deleted`
    PgoAccountDeleted { patient: PatientId },
    /// `pgo_transfer_consent_given`
    PgoTransferConsentGiven { patient: PatientId },
    /// `pgo_transfer_consent_withdrawn`
    PgoTransferConsentWithdrawn { patient: PatientId },
    /// `module_started`
    ModuleStarted {
        patient: PatientId,
        module: CareModule,
        practitioner: PractitionerId,
    },
    /// `module_storage_consent_given`
    ModuleStorageConsentGiven {
        patient: PatientId,
        module: CareModule,
    },
    /// `module_storage_consent_withdrawn`
    ModuleStorageConsentWithdrawn {
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
    /// `party_consent_given`
    PartyConsentGiven {
        patient: PatientId,
        holder: OrganisationId,
        party: OrganisationId,
        purpose: Purpose,
    },
    /// `party_consent_withdrawn`
    PartyConsentWithdrawn {
        patient: PatientId,
        holder: OrganisationId,
        party: OrganisationId,
        purpose: Purpose,
    },
    /// `objection_recorded`
    ObjectionRecorded {
        patient: PatientId,
        purpose: Purpose,
    },
    /// `objection_withdrawn`
    ObjectionWithdrawn {
        patient: PatientId,
        purpose: Purpose,
    },
    /// `research_consent_given`
    ResearchConsentGiven { patient: PatientId, study: StudyId },
    /// `research_consent_withdrawn`
    ResearchConsentWithdrawn { patient: PatientId, study: StudyId },
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
        let left: [(&'static str, bool); 15] = [
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
        ];
        match left.iter().find(|(_, present)| *present) {
            Some((field, _)) => Err(EventError::new(self.t, field, EventProblem::NotUsed)),
            None => Ok(()),
        }
    }
}

impl TryFrom<EventRecord> for Event {
    type Error = EventError;

    fn try_from(r: EventRecord) -> Result<Self, EventError> {
        use EventType as T;
        let at = r.at;
        let mut f = Fields { t: r.event_type, r };
        let kind = match f.t {
            T::TreatmentStarted | T::TreatmentEnded => {
                let patient = need!(f, patient);
                let organisation = need!(f, organisation);
                if f.t == T::TreatmentStarted {
                    EventKind::TreatmentStarted {
                        patient,
                        organisation,
                    }
                } else {
                    EventKind::TreatmentEnded {
                        patient,
                        organisation,
                    }
                }
            }
            T::DossierConsentGiven | T::DossierConsentWithdrawn => {
                let patient = need!(f, patient);
                let holder = need!(f, holder);
                let recorded_by = f.r.recorded_by.take();
                let evidence = f.r.evidence.take();
                if f.t == T::DossierConsentGiven {
                    EventKind::DossierConsentGiven {
                        patient,
                        holder,
                        recorded_by,
                        evidence,
                    }
                } else {
                    EventKind::DossierConsentWithdrawn {
                        patient,
                        holder,
                        recorded_by,
                        evidence,
                    }
                }
            }
            T::AccessRequested => EventKind::AccessRequested {
                practitioner: need!(f, practitioner),
                patient: need!(f, patient),
            },
            T::ReferralSent => EventKind::ReferralSent {
                patient: need!(f, patient),
                from: need!(f, from),
                to: need!(f, to),
            },
            T::ReferralObjectionRecorded | T::ReferralObjectionWithdrawn => {
                let patient = need!(f, patient);
                let holder = need!(f, holder);
                let category = f.r.category.take();
                if f.t == T::ReferralObjectionRecorded {
                    EventKind::ReferralObjectionRecorded {
                        patient,
                        holder,
                        category,
                    }
                } else {
                    EventKind::ReferralObjectionWithdrawn {
                        patient,
                        holder,
                        category,
                    }
                }
            }
            T::UnplannedCareConsentGiven | T::UnplannedCareConsentWithdrawn => {
                let patient = need!(f, patient);
                let holder = need!(f, holder);
                if f.t == T::UnplannedCareConsentGiven {
                    EventKind::UnplannedCareConsentGiven { patient, holder }
                } else {
                    EventKind::UnplannedCareConsentWithdrawn { patient, holder }
                }
            }
            T::PgoAccountCreated => EventKind::PgoAccountCreated {
                patient: need!(f, patient),
            },
            T::PgoAccountDeleted => EventKind::PgoAccountDeleted {
                patient: need!(f, patient),
            },
            T::PgoTransferConsentGiven => EventKind::PgoTransferConsentGiven {
                patient: need!(f, patient),
            },
            T::PgoTransferConsentWithdrawn => EventKind::PgoTransferConsentWithdrawn {
                patient: need!(f, patient),
            },
            T::ModuleStarted => EventKind::ModuleStarted {
                patient: need!(f, patient),
                module: need!(f, module),
                practitioner: need!(f, practitioner),
            },
            T::ModuleStorageConsentGiven | T::ModuleStorageConsentWithdrawn => {
                let patient = need!(f, patient);
                let module = need!(f, module);
                if f.t == T::ModuleStorageConsentGiven {
                    EventKind::ModuleStorageConsentGiven { patient, module }
                } else {
                    EventKind::ModuleStorageConsentWithdrawn { patient, module }
                }
            }
            T::ModuleOwnershipAccepted => EventKind::ModuleOwnershipAccepted {
                practitioner: need!(f, practitioner),
                patient: need!(f, patient),
                module: need!(f, module),
            },
            T::RecordAdded => {
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
                EventKind::RecordAdded {
                    record,
                    patient,
                    category,
                    source,
                    holder,
                    module,
                }
            }
            T::RecordFlagged => EventKind::RecordFlagged {
                record: need!(f, record),
            },
            T::PartyConsentGiven | T::PartyConsentWithdrawn => {
                let patient = need!(f, patient);
                let holder = need!(f, holder);
                let party = need!(f, party);
                let purpose = need!(f, purpose);
                if f.t == T::PartyConsentGiven {
                    EventKind::PartyConsentGiven {
                        patient,
                        holder,
                        party,
                        purpose,
                    }
                } else {
                    EventKind::PartyConsentWithdrawn {
                        patient,
                        holder,
                        party,
                        purpose,
                    }
                }
            }
            T::ObjectionRecorded | T::ObjectionWithdrawn => {
                let patient = need!(f, patient);
                let purpose = need!(f, purpose);
                if f.t == T::ObjectionRecorded {
                    EventKind::ObjectionRecorded { patient, purpose }
                } else {
                    EventKind::ObjectionWithdrawn { patient, purpose }
                }
            }
            T::ResearchConsentGiven | T::ResearchConsentWithdrawn => {
                let patient = need!(f, patient);
                let study = need!(f, study);
                if f.t == T::ResearchConsentGiven {
                    EventKind::ResearchConsentGiven { patient, study }
                } else {
                    EventKind::ResearchConsentWithdrawn { patient, study }
                }
            }
        };
        f.finish()?;
        Ok(Event { at, kind })
    }
}

impl From<Event> for EventRecord {
    fn from(e: Event) -> Self {
        use EventKind as K;
        let mut r = EventRecord::new(e.at, e.kind.event_type());
        match e.kind {
            K::TreatmentStarted {
                patient,
                organisation,
            }
            | K::TreatmentEnded {
                patient,
                organisation,
            } => {
                r.patient = Some(patient);
                r.organisation = Some(organisation);
            }
            K::DossierConsentGiven {
                patient,
                holder,
                recorded_by,
                evidence,
            }
            | K::DossierConsentWithdrawn {
                patient,
                holder,
                recorded_by,
                evidence,
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
            K::ReferralObjectionRecorded {
                patient,
                holder,
                category,
            }
            | K::ReferralObjectionWithdrawn {
                patient,
                holder,
                category,
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
                r.category = category;
            }
            K::UnplannedCareConsentGiven { patient, holder }
            | K::UnplannedCareConsentWithdrawn { patient, holder } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
            }
            K::PgoAccountCreated { patient }
            | K::PgoAccountDeleted { patient }
            | K::PgoTransferConsentGiven { patient }
            | K::PgoTransferConsentWithdrawn { patient } => r.patient = Some(patient),
            K::ModuleStarted {
                patient,
                module,
                practitioner,
            } => {
                r.patient = Some(patient);
                r.module = Some(module);
                r.practitioner = Some(practitioner);
            }
            K::ModuleStorageConsentGiven { patient, module }
            | K::ModuleStorageConsentWithdrawn { patient, module } => {
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
            K::PartyConsentGiven {
                patient,
                holder,
                party,
                purpose,
            }
            | K::PartyConsentWithdrawn {
                patient,
                holder,
                party,
                purpose,
            } => {
                r.patient = Some(patient);
                r.holder = Some(holder);
                r.party = Some(party);
                r.purpose = Some(purpose);
            }
            K::ObjectionRecorded { patient, purpose }
            | K::ObjectionWithdrawn { patient, purpose } => {
                r.patient = Some(patient);
                r.purpose = Some(purpose);
            }
            K::ResearchConsentGiven { patient, study }
            | K::ResearchConsentWithdrawn { patient, study } => {
                r.patient = Some(patient);
                r.study = Some(study);
            }
        }
        r
    }
}

impl EventKind {
    /// The wire `type` of this event
    pub fn event_type(&self) -> EventType {
        use EventKind as K;
        use EventType as T;
        match self {
            K::TreatmentStarted { .. } => T::TreatmentStarted,
            K::TreatmentEnded { .. } => T::TreatmentEnded,
            K::DossierConsentGiven { .. } => T::DossierConsentGiven,
            K::DossierConsentWithdrawn { .. } => T::DossierConsentWithdrawn,
            K::AccessRequested { .. } => T::AccessRequested,
            K::ReferralSent { .. } => T::ReferralSent,
            K::ReferralObjectionRecorded { .. } => T::ReferralObjectionRecorded,
            K::ReferralObjectionWithdrawn { .. } => T::ReferralObjectionWithdrawn,
            K::UnplannedCareConsentGiven { .. } => T::UnplannedCareConsentGiven,
            K::UnplannedCareConsentWithdrawn { .. } => T::UnplannedCareConsentWithdrawn,
            K::PgoAccountCreated { .. } => T::PgoAccountCreated,
            K::PgoAccountDeleted { .. } => T::PgoAccountDeleted,
            K::PgoTransferConsentGiven { .. } => T::PgoTransferConsentGiven,
            K::PgoTransferConsentWithdrawn { .. } => T::PgoTransferConsentWithdrawn,
            K::ModuleStarted { .. } => T::ModuleStarted,
            K::ModuleStorageConsentGiven { .. } => T::ModuleStorageConsentGiven,
            K::ModuleStorageConsentWithdrawn { .. } => T::ModuleStorageConsentWithdrawn,
            K::ModuleOwnershipAccepted { .. } => T::ModuleOwnershipAccepted,
            K::RecordAdded { .. } => T::RecordAdded,
            K::RecordFlagged { .. } => T::RecordFlagged,
            K::PartyConsentGiven { .. } => T::PartyConsentGiven,
            K::PartyConsentWithdrawn { .. } => T::PartyConsentWithdrawn,
            K::ObjectionRecorded { .. } => T::ObjectionRecorded,
            K::ObjectionWithdrawn { .. } => T::ObjectionWithdrawn,
            K::ResearchConsentGiven { .. } => T::ResearchConsentGiven,
            K::ResearchConsentWithdrawn { .. } => T::ResearchConsentWithdrawn,
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
