//! The registry: registered entities and the timed facts from events.
//!
//! A decision at `t` sees exactly the events with `at <= t`. Events may arrive
//! in any order; each patient's facts are kept sorted by `(at, arrival)`, so two
//! events at the same time are ordered by arrival. Applying an event never
//! consults the policies.

mod facts;
mod intern;
mod names;

use std::sync::Arc;

use hashbrown::HashMap;

use crate::error::EntityError;
use crate::model::entities::{Organisation, Patient, Practitioner};
use crate::model::event::{Event, EventError, EventKind, EventProblem, EventType};
use crate::model::ids::{
    CareModule, Category, OrganisationId, PatientId, PractitionerId, RecordId, StudyId,
};
use crate::model::time::Timestamp;
use crate::model::vocab::{Source, Vocabulary};

pub(crate) use facts::{FactKey, PackedKey, PatientFacts};
use intern::Interner;
pub(crate) use names::{Names, Tag};

/// Index of an interned organisation, practitioner, category, module or study
pub(crate) type Idx = u32;

/// One timed fact of a patient
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) at: i64,
    pub(crate) key: PackedKey,
    /// Given/started/recorded (`true`) or withdrawn/ended/deleted (`false`)
    pub(crate) on: bool,
}

/// A registered practitioner with its organisation interned
#[derive(Debug, Clone)]
pub(crate) struct PractitionerState {
    pub(crate) entity: Practitioner,
    /// The practitioner's own index, for facts about them
    pub(crate) idx: Idx,
    pub(crate) organisation: Idx,
    /// Its place in the table of ids
    pub(crate) tag: Tag,
}

/// A registered patient: its place in the table of ids, and its facts
#[derive(Debug, Clone)]
pub(crate) struct PatientState {
    pub(crate) tag: Tag,
    /// Sorted by `(at, arrival)`
    pub(crate) entries: Vec<Entry>,
}

/// A record added by `record_added`
#[derive(Debug, Clone)]
pub(crate) struct RecordState {
    pub(crate) patient: PatientId,
    pub(crate) category: Category,
    pub(crate) source: Source,
    pub(crate) holder: Option<Idx>,
    pub(crate) module: Option<Idx>,
    pub(crate) added_at: i64,
    /// The earliest `record_flagged` for it, if any
    pub(crate) flagged_at: Option<i64>,
    /// Its place in the table of ids
    pub(crate) tag: Tag,
}

/// The facts: registered entities and every applied event, by patient
#[derive(Debug, Default)]
pub struct Registry {
    seq: u64,
    pub(crate) organisations: Interner<OrganisationId>,
    organisation_entities: Vec<Organisation>,
    /// Each organisation's place in the table of ids, by index
    organisation_tags: Vec<Tag>,
    /// Practitioners by id, the state in the map itself (one lookup on the decision path)
    pub(crate) practitioners: HashMap<PractitionerId, PractitionerState>,
    /// Each patient's facts, sorted by `(at, arrival)`, in the map itself (one
    /// lookup on the decision path)
    pub(crate) patients: HashMap<PatientId, PatientState>,
    pub(crate) categories: Interner<Category>,
    pub(crate) modules: Interner<CareModule>,
    studies: Interner<StudyId>,
    pub(crate) records: HashMap<RecordId, RecordState>,
    /// Every registered id, for audit records (only grows)
    names: Arc<Names>,
}

impl Registry {
    /// An empty registry
    pub fn new() -> Self {
        Self::default()
    }

    /// The sequence number of the last applied event (0 before any)
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Registers an organisation, or updates it when the id is known
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] past `u32::MAX` organisations.
    pub fn register_organisation(&mut self, org: Organisation) -> Result<(), EntityError> {
        let full = EntityError::Capacity("organisations");
        if let Some(idx) = self.organisations.get(&org.id) {
            if let Some(slot) = self.organisation_entities.get_mut(idx as usize) {
                *slot = org;
            }
            return Ok(());
        }
        if self.organisation_entities.len() >= Idx::MAX as usize {
            return Err(full);
        }
        let tag = self.names.add(org.id.as_str()).ok_or(full)?;
        self.organisations.intern(&org.id);
        self.organisation_entities.push(org);
        self.organisation_tags.push(tag);
        Ok(())
    }

    /// Registers a practitioner, or updates its organisation, role and tasks
    ///
    /// # Errors
    ///
    /// [`EntityError`] when the organisation is not registered or the role or a
    /// task is not in `vocabulary`; nothing changes then.
    pub fn register_practitioner(
        &mut self,
        practitioner: Practitioner,
        vocabulary: &Vocabulary,
    ) -> Result<(), EntityError> {
        let organisation = self
            .organisations
            .get(&practitioner.organisation)
            .ok_or_else(|| EntityError::UnknownOrganisation {
                practitioner: practitioner.id.to_string(),
                organisation: practitioner.organisation.to_string(),
            })?;
        if !vocabulary.has_role(&practitioner.role) {
            return Err(EntityError::UnknownValue {
                practitioner: practitioner.id.to_string(),
                field: "role",
                value: practitioner.role.to_string(),
            });
        }
        if let Some(task) = practitioner.tasks.iter().find(|t| !vocabulary.has_task(t)) {
            return Err(EntityError::UnknownValue {
                practitioner: practitioner.id.to_string(),
                field: "tasks",
                value: task.to_string(),
            });
        }
        let full = || EntityError::Capacity("practitioners");
        let (idx, tag) = if let Some(known) = self.practitioners.get(&practitioner.id) {
            (known.idx, known.tag)
        } else {
            let idx = Idx::try_from(self.practitioners.len()).map_err(|_| full())?;
            (
                idx,
                self.names.add(practitioner.id.as_str()).ok_or_else(full)?,
            )
        };
        let state = PractitionerState {
            entity: practitioner,
            idx,
            organisation,
            tag,
        };
        self.practitioners.insert(state.entity.id.clone(), state);
        Ok(())
    }

    /// Registers a patient (registering a known id again changes nothing)
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] past `u32::MAX` patients.
    pub fn register_patient(&mut self, patient: &Patient) -> Result<(), EntityError> {
        if self.patients.contains_key(&patient.id) {
            return Ok(());
        }
        let full = EntityError::Capacity("patients");
        if self.patients.len() >= Idx::MAX as usize {
            return Err(full);
        }
        let tag = self.names.add(patient.id.as_str()).ok_or(full)?;
        self.patients.insert(
            patient.id.clone(),
            PatientState {
                tag,
                entries: Vec::new(),
            },
        );
        Ok(())
    }

    /// Whether an organisation is registered
    pub fn has_organisation(&self, id: &OrganisationId) -> bool {
        self.organisations.get(id).is_some()
    }

    /// Whether a patient is registered
    pub fn has_patient(&self, id: &PatientId) -> bool {
        self.patients.contains_key(id)
    }

    /// A registered practitioner
    pub fn practitioner(&self, id: &PractitionerId) -> Option<&Practitioner> {
        self.practitioners.get(id).map(|s| &s.entity)
    }

    /// A registered organisation
    pub fn organisation(&self, id: &OrganisationId) -> Option<&Organisation> {
        let idx = self.organisations.get(id)?;
        self.organisation_entities.get(idx as usize)
    }

    /// The number of registered patients
    pub fn patient_count(&self) -> usize {
        self.patients.len()
    }

    /// Applies one event and returns its sequence number
    ///
    /// # Errors
    ///
    /// [`EventError`] naming the event type and the field when the event names
    /// an unknown entity, record, category or module, or adds a record id twice;
    /// the registry is unchanged then.
    pub fn apply(&mut self, event: &Event, vocabulary: &Vocabulary) -> Result<u64, EventError> {
        let t = event.kind.event_type();
        let at = event.at.unix_nanos();
        let (patient, key, on) = self.resolve(t, &event.kind, vocabulary)?;
        match &event.kind {
            EventKind::RecordAdded {
                record,
                category,
                source,
                holder,
                module,
                ..
            } => {
                let holder = holder.as_ref().and_then(|h| self.organisations.get(h));
                let tag = self
                    .names
                    .add(record.as_str())
                    .ok_or_else(|| capacity(t, "record"))?;
                let module = match module {
                    Some(m) => Some(
                        self.modules
                            .intern(m)
                            .ok_or_else(|| capacity(t, "module"))?,
                    ),
                    None => None,
                };
                self.records.insert(
                    record.clone(),
                    RecordState {
                        patient: patient.clone(),
                        category: category.clone(),
                        source: *source,
                        holder,
                        module,
                        added_at: at,
                        flagged_at: None,
                        tag,
                    },
                );
            }
            EventKind::RecordFlagged { record } => {
                if let Some(state) = self.records.get_mut(record) {
                    state.flagged_at = Some(state.flagged_at.map_or(at, |f| f.min(at)));
                }
            }
            _ => {}
        }
        self.seq += 1;
        let seq = self.seq;
        if let (Some(key), Some(facts)) =
            (key, self.patients.get_mut(&patient).map(|p| &mut p.entries))
        {
            let entry = Entry {
                at,
                key: key.pack(),
                on,
            };
            // Entries stay sorted by (at, arrival): a new entry goes after every
            // entry at or before its time. Events mostly arrive in order, so this
            // is usually a push.
            let pos = facts.partition_point(|e| e.at <= at);
            facts.insert(pos, entry);
        }
        Ok(seq)
    }

    /// Checks every reference of an event and returns the patient index, the fact key and its polarity
    fn resolve(
        &mut self,
        t: EventType,
        kind: &EventKind,
        vocabulary: &Vocabulary,
    ) -> Result<(PatientId, Option<FactKey>, bool), EventError> {
        use EventKind as K;
        let org = |s: &Self, id: &OrganisationId, field: &'static str| {
            s.organisations
                .get(id)
                .ok_or_else(|| EventError::new(t, field, EventProblem::Unknown(id.to_string())))
        };
        let pat = |s: &Self, id: &PatientId| {
            s.patients
                .contains_key(id)
                .then(|| id.clone())
                .ok_or_else(|| EventError::new(t, "patient", EventProblem::Unknown(id.to_string())))
        };
        let pra = |s: &Self, id: &PractitionerId, field: &'static str| {
            s.practitioners
                .get(id)
                .map(|p| p.idx)
                .ok_or_else(|| EventError::new(t, field, EventProblem::Unknown(id.to_string())))
        };
        let module = |s: &mut Self, m: &CareModule| {
            if vocabulary.has_module(m) {
                s.modules.intern(m).ok_or_else(|| capacity(t, "module"))
            } else {
                Err(EventError::new(
                    t,
                    "module",
                    EventProblem::Unknown(m.to_string()),
                ))
            }
        };
        let category = |s: &mut Self, c: &Category| {
            if vocabulary.has_category(c) {
                s.categories
                    .intern(c)
                    .ok_or_else(|| capacity(t, "category"))
            } else {
                Err(EventError::new(
                    t,
                    "category",
                    EventProblem::Unknown(c.to_string()),
                ))
            }
        };
        Ok(match kind {
            K::TreatmentStarted {
                patient,
                organisation,
            }
            | K::TreatmentEnded {
                patient,
                organisation,
            } => {
                let o = org(self, organisation, "organisation")?;
                (
                    pat(self, patient)?,
                    Some(FactKey::Relationship(o)),
                    matches!(kind, K::TreatmentStarted { .. }),
                )
            }
            K::DossierConsentGiven {
                patient,
                holder,
                recorded_by,
                ..
            }
            | K::DossierConsentWithdrawn {
                patient,
                holder,
                recorded_by,
                ..
            } => {
                let h = org(self, holder, "holder")?;
                if let Some(p) = recorded_by {
                    pra(self, p, "recorded_by")?;
                }
                (
                    pat(self, patient)?,
                    Some(FactKey::DossierConsent(h)),
                    matches!(kind, K::DossierConsentGiven { .. }),
                )
            }
            K::AccessRequested {
                practitioner,
                patient,
            } => {
                let p = pra(self, practitioner, "practitioner")?;
                (pat(self, patient)?, Some(FactKey::AccessRequested(p)), true)
            }
            K::ReferralSent { patient, from, to } => {
                let f = org(self, from, "from")?;
                let to = org(self, to, "to")?;
                (
                    pat(self, patient)?,
                    Some(FactKey::Referral { from: f, to }),
                    true,
                )
            }
            K::ReferralObjectionRecorded {
                patient,
                holder,
                category: c,
            }
            | K::ReferralObjectionWithdrawn {
                patient,
                holder,
                category: c,
            } => {
                let h = org(self, holder, "holder")?;
                let x = pat(self, patient)?;
                let c = match c {
                    Some(c) => Some(category(self, c)?),
                    None => None,
                };
                (
                    x,
                    Some(FactKey::ReferralObjection {
                        holder: h,
                        category: c,
                    }),
                    matches!(kind, K::ReferralObjectionRecorded { .. }),
                )
            }
            K::UnplannedCareConsentGiven { patient, holder }
            | K::UnplannedCareConsentWithdrawn { patient, holder } => {
                let h = org(self, holder, "holder")?;
                (
                    pat(self, patient)?,
                    Some(FactKey::UnplannedCareConsent(h)),
                    matches!(kind, K::UnplannedCareConsentGiven { .. }),
                )
            }
            K::PgoAccountCreated { patient } => {
                (pat(self, patient)?, Some(FactKey::PgoAccount), true)
            }
            K::PgoAccountDeleted { patient } => {
                (pat(self, patient)?, Some(FactKey::PgoAccount), false)
            }
            K::PgoTransferConsentGiven { patient } => {
                (pat(self, patient)?, Some(FactKey::PgoTransferConsent), true)
            }
            K::PgoTransferConsentWithdrawn { patient } => (
                pat(self, patient)?,
                Some(FactKey::PgoTransferConsent),
                false,
            ),
            K::ModuleStarted {
                patient,
                module: m,
                practitioner,
            } => {
                pra(self, practitioner, "practitioner")?;
                let x = pat(self, patient)?;
                (x, Some(FactKey::ModuleStarted(module(self, m)?)), true)
            }
            K::ModuleStorageConsentGiven { patient, module: m }
            | K::ModuleStorageConsentWithdrawn { patient, module: m } => {
                let x = pat(self, patient)?;
                (
                    x,
                    Some(FactKey::ModuleStorageConsent(module(self, m)?)),
                    matches!(kind, K::ModuleStorageConsentGiven { .. }),
                )
            }
            K::ModuleOwnershipAccepted {
                practitioner,
                patient,
                module: m,
            } => {
                let p = pra(self, practitioner, "practitioner")?;
                let x = pat(self, patient)?;
                (
                    x,
                    Some(FactKey::Ownership {
                        practitioner: p,
                        module: module(self, m)?,
                    }),
                    true,
                )
            }
            K::RecordAdded {
                record,
                patient,
                category: c,
                holder,
                module: m,
                ..
            } => {
                if self.records.contains_key(record) {
                    return Err(EventError::new(
                        t,
                        "record",
                        EventProblem::Invalid(format!("record `{record}` was added before")),
                    ));
                }
                let x = pat(self, patient)?;
                category(self, c)?;
                if let Some(h) = holder {
                    org(self, h, "holder")?;
                }
                if let Some(m) = m {
                    module(self, m)?;
                }
                (x, None, true)
            }
            K::RecordFlagged { record } => {
                let r = self.records.get(record).ok_or_else(|| {
                    EventError::new(t, "record", EventProblem::Unknown(record.to_string()))
                })?;
                (r.patient.clone(), None, true)
            }
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
                let h = org(self, holder, "holder")?;
                let q = org(self, party, "party")?;
                (
                    pat(self, patient)?,
                    Some(FactKey::PartyConsent {
                        holder: h,
                        party: q,
                        purpose: *purpose,
                    }),
                    matches!(kind, K::PartyConsentGiven { .. }),
                )
            }
            K::ObjectionRecorded { patient, purpose }
            | K::ObjectionWithdrawn { patient, purpose } => (
                pat(self, patient)?,
                Some(FactKey::Objection(*purpose)),
                matches!(kind, K::ObjectionRecorded { .. }),
            ),
            K::ResearchConsentGiven { patient, study }
            | K::ResearchConsentWithdrawn { patient, study } => {
                let x = pat(self, patient)?;
                let s = self
                    .studies
                    .intern(study)
                    .ok_or_else(|| capacity(t, "study"))?;
                (
                    x,
                    Some(FactKey::ResearchConsent(s)),
                    matches!(kind, K::ResearchConsentGiven { .. }),
                )
            }
        })
    }

    /// The facts of one patient as of `at`
    pub(crate) fn facts(entries: &[Entry], at: Timestamp) -> PatientFacts<'_> {
        PatientFacts::new(entries, at.unix_nanos())
    }

    /// The index of a study, if any event named it
    pub(crate) fn study(&self, id: &StudyId) -> Option<Idx> {
        self.studies.get(id)
    }

    /// Whether the record is deleted at `at`: a `pgo` record whose patient's
    /// PGO account was deleted at or after the record was added
    pub(crate) fn record_deleted(&self, record: &RecordState, at: Timestamp) -> bool {
        record.source == Source::Pgo
            && self.patients.get(&record.patient).is_some_and(|p| {
                Self::facts(&p.entries, at).any_since(FactKey::PgoAccount, false, record.added_at)
            })
    }

    /// The table of registered ids
    pub(crate) fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// An organisation's place in the table of ids
    pub(crate) fn organisation_tag(&self, idx: Idx) -> Option<Tag> {
        self.organisation_tags.get(idx as usize).copied()
    }
}

fn capacity(t: EventType, field: &'static str) -> EventError {
    EventError::new(
        t,
        field,
        EventProblem::Invalid("too many distinct values".into()),
    )
}
