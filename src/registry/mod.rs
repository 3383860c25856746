//! The registry: registered entities and the timed facts from events.
//!
//! A decision at `t` sees exactly the events with `at <= t`. Events may arrive
//! in any order; each patient's facts are kept sorted by `(at, arrival)`, so two
//! events at the same time are ordered by arrival. Applying an event never
//! consults the policies.
//!
//! The tables are private: the engine asks questions (`patient`, `record`,
//! `organisation_index`, …) and reads a patient's facts as of a time through
//! [`PatientState::facts`]. Applying an event first checks every reference
//! with `&self` and only then changes anything, so a rejected event changes
//! nothing, not even an interned value.

mod consent_map;
mod digest;
mod facts;
mod intern;
mod packed;
mod snapshot;

use std::sync::Arc;

use hashbrown::HashMap;

use crate::model::consent::{BirthDate, Choice};
use crate::model::entities::{Organisation, Patient, Practitioner};
use crate::model::error::EntityError;
use crate::model::event::{Event, EventError, EventKind, EventProblem, EventType, MitzHolder};
use crate::model::ids::{
    CareModule, Category, DataCategory, HolderCategory, OrganisationId, PatientId, PractitionerId,
    ProviderType, RecordId, RequesterCategory, StudyId,
};
use crate::model::names::{Names, Tag};
use crate::model::national::{Bsn, Ura};
use crate::model::time::Timestamp;
use crate::model::vocab::{Source, Vocabulary};

pub(crate) use consent_map::{ConsentMap, NONE_NAMED};
pub(crate) use facts::{FactKey, MitzHolderIdx, PatientFacts, Statements};
use intern::Interner;
use packed::{Block, Entry};

/// Index of an interned organisation, practitioner, category, module or study
pub(crate) type Idx = u32;

/// A registered practitioner with its organisation interned
#[derive(Debug, Clone)]
pub(crate) struct PractitionerState {
    entity: Practitioner,
    /// The practitioner's own index, for facts about them
    idx: Idx,
    organisation: Idx,
    /// Its place in the table of ids
    tag: Tag,
}

impl PractitionerState {
    /// The practitioner as registered
    pub(crate) fn entity(&self) -> &Practitioner {
        &self.entity
    }
    /// Its index, for facts about it
    pub(crate) fn index(&self) -> Idx {
        self.idx
    }
    /// Its organisation's index
    pub(crate) fn organisation(&self) -> Idx {
        self.organisation
    }
    /// Its place in the table of ids
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }
}

/// A registered patient: its place in the table of ids, and its facts,
/// national fields and Mitz entries in one block (docs/facts.md): 24 bytes
/// in the map's slot, the rest one pointer away
#[derive(Debug, Clone)]
pub(crate) struct PatientState {
    tag: Tag,
    /// The number of fact entries in the block (the Mitz ones apart)
    facts: u32,
    block: Block,
}

impl PatientState {
    /// A patient with no facts yet
    fn new(tag: Tag, bsn: Option<Bsn>, birth_date: Option<BirthDate>) -> Option<Self> {
        Some(Self {
            tag,
            facts: 0,
            block: Block::build(bsn, birth_date, &[], &[])?,
        })
    }

    /// The date of birth, when registered
    pub(crate) fn birth_date(&self) -> Option<BirthDate> {
        self.block.birth_date()
    }

    /// The BSN, when registered
    pub(crate) fn bsn(&self) -> Option<Bsn> {
        self.block.bsn()
    }

    /// Its place in the table of ids
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }

    /// Starts reading the patient's facts from memory, without waiting for
    /// them: a decision calls it before its other lookups, so that the
    /// facts' cache miss overlaps theirs
    pub(crate) fn warm(&self) {
        self.block.warm();
    }

    /// The patient's facts as of `at`: the entries at or before it
    pub(crate) fn facts(&self, at: Timestamp) -> PatientFacts<'_> {
        PatientFacts::of(self.block.parts(self.facts), at)
    }

    /// Every fact entry, unpacked, in `(at, arrival)` order (snapshots, the digest)
    fn fact_entries(&self) -> Vec<Entry> {
        self.block.facts(self.facts)
    }

    /// Every Mitz entry, unpacked, by statement key, then `(at, arrival)`
    fn mitz_entries(&self) -> Vec<Entry> {
        self.block.mitz(self.facts)
    }

    /// Whether a new entry of `key` fits the block's layout
    fn fits(&self, key: FactKey) -> bool {
        self.block.fits(self.facts, key)
    }

    /// Adds an entry after every entry at or before its time (arrival order
    /// within a time); `false` (nothing changed) when it does not fit
    fn insert(&mut self, entry: &Entry) -> bool {
        if entry.is_mitz() {
            return self.block.insert_mitz(self.facts, entry);
        }
        let Some(more) = self.facts.checked_add(1) else {
            return false;
        };
        if !self.block.insert_fact(self.facts, entry) {
            return false;
        }
        self.facts = more;
        true
    }
}

/// A record added by `record_added`
#[derive(Debug, Clone)]
pub(crate) struct RecordState {
    patient: PatientId,
    category: Category,
    source: Source,
    holder: Option<Idx>,
    module: Option<Idx>,
    added_at: Timestamp,
    /// The earliest `record_flagged` for it, if any
    flagged_at: Option<Timestamp>,
    /// Its place in the table of ids
    tag: Tag,
}

impl RecordState {
    /// Whether the record is the patient's and exists at `at`
    pub(crate) fn visible(&self, patient: &PatientId, at: Timestamp) -> bool {
        self.patient == *patient && self.added_at <= at
    }
    /// Its category
    pub(crate) fn category(&self) -> &Category {
        &self.category
    }
    /// Where it came from
    pub(crate) fn source(&self) -> Source {
        self.source
    }
    /// The holder's index, for dossier and module records
    pub(crate) fn holder(&self) -> Option<Idx> {
        self.holder
    }
    /// The module's index, for module records
    pub(crate) fn module(&self) -> Option<Idx> {
        self.module
    }
    /// Whether it was flagged at or before `at`
    pub(crate) fn flagged(&self, at: Timestamp) -> bool {
        self.flagged_at.is_some_and(|f| f <= at)
    }
    /// Its place in the table of ids
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }
}

/// The facts: registered entities and every applied event, by patient
#[derive(Default)]
pub(crate) struct Registry {
    seq: u64,
    organisations: Interner<OrganisationId>,
    /// Each organisation's place in the table of ids, by index
    organisation_tags: Vec<Tag>,
    /// Practitioners by id, the state in the map itself (one lookup on the decision path)
    practitioners: HashMap<PractitionerId, PractitionerState>,
    /// Each patient's facts, sorted by `(at, arrival)`, in the map itself (one
    /// lookup on the decision path)
    patients: HashMap<PatientId, PatientState>,
    categories: Interner<Category>,
    modules: Interner<CareModule>,
    studies: Interner<StudyId>,
    /// Each organisation's provider type, by index (R42: `None` without one)
    provider_types: Vec<Option<ProviderType>>,
    /// Organisations by URA number (FHIR import)
    uras: HashMap<Ura, Idx>,
    /// Each organisation's URA number, by index (FHIR export)
    ura_of: Vec<Option<Ura>>,
    /// Patients by BSN (FHIR import)
    bsns: HashMap<Bsn, PatientId>,
    /// The Mitz codes the events named (SPEC.md §7.2)
    data_categories: Interner<DataCategory>,
    holder_categories: Interner<HolderCategory>,
    requester_categories: Interner<RequesterCategory>,
    records: HashMap<RecordId, RecordState>,
    /// Every registered id, for audit records (only grows)
    names: Arc<Names>,
    /// The consent vocabulary's indices as the registry's
    consent_map: consent_map::ConsentMap,
}

impl std::fmt::Debug for Registry {
    /// Counts only: never an id, a category or a fact
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("seq", &self.seq)
            .field("organisations", &self.organisations.len())
            .field("practitioners", &self.practitioners.len())
            .field("patients", &self.patients.len())
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

/// What an event changes, found by [`Registry::check`] before anything changes
struct Checked {
    patient: PatientId,
    fact: Option<FactKey>,
    /// A value to intern that the fact key already holds the index of
    intern: Intern,
}

/// At most one new value per interner (each event names at most one of each)
#[derive(Default)]
struct Intern {
    category: Option<Category>,
    module: Option<CareModule>,
    study: Option<StudyId>,
    data_category: Option<DataCategory>,
    holder_category: Option<HolderCategory>,
    requester_category: Option<RequesterCategory>,
}

impl Registry {
    /// An empty registry
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The last applied position (0 before any entry): every accepted
    /// entity record and event takes one (SPEC.md §8)
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Sets the last applied position to a host log's own position `p`,
    /// right after the entry at `p` was applied (which took `seq + 1`);
    /// never lowers it
    pub(crate) fn set_position(&mut self, p: u64) {
        self.seq = self.seq.max(p);
    }

    /// The position the next accepted entity record takes
    fn next_entity_position(&self) -> Result<u64, EntityError> {
        self.seq
            .checked_add(1)
            .ok_or(EntityError::Capacity("positions"))
    }

    /// Registers an organisation (registering a known id again changes
    /// nothing: its URA number and provider type are the first record's)
    pub(crate) fn register_organisation(&mut self, org: &Organisation) -> Result<(), EntityError> {
        let position = self.next_entity_position()?;
        if self.organisations.get(&org.id).is_some() {
            self.seq = position;
            return Ok(());
        }
        if org.ura.is_some_and(|u| self.uras.contains_key(&u)) {
            return Err(EntityError::Taken {
                kind: "organisation",
                id: org.id.to_string(),
                field: "ura",
            });
        }
        let full = EntityError::Capacity("organisations");
        let Some(idx) = self.organisations.peek(&org.id) else {
            return Err(full);
        };
        let tag = self.names.add(org.id.as_str()).ok_or(full)?;
        self.organisations.intern(&org.id);
        self.organisation_tags.push(tag);
        self.provider_types.push(org.provider_type.clone());
        self.ura_of.push(org.ura);
        if let Some(ura) = org.ura {
            self.uras.insert(ura, idx);
        }
        self.seq = position;
        Ok(())
    }

    /// Registers a practitioner, or updates its organisation, role and tasks
    ///
    /// Nothing changes when the organisation is not registered or the role or
    /// a task is not in `vocabulary`.
    pub(crate) fn register_practitioner(
        &mut self,
        practitioner: Practitioner,
        vocabulary: &Vocabulary,
    ) -> Result<(), EntityError> {
        let position = self.next_entity_position()?;
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
        self.seq = position;
        Ok(())
    }

    /// Registers a patient (registering a known id again changes nothing:
    /// its BSN and date of birth are the first record's)
    pub(crate) fn register_patient(&mut self, patient: &Patient) -> Result<(), EntityError> {
        let position = self.next_entity_position()?;
        if self.patients.contains_key(&patient.id) {
            self.seq = position;
            return Ok(());
        }
        if patient.bsn.is_some_and(|b| self.bsns.contains_key(&b)) {
            return Err(EntityError::Taken {
                kind: "patient",
                id: patient.id.to_string(),
                field: "bsn",
            });
        }
        let full = EntityError::Capacity("patients");
        if self.patients.len() >= Idx::MAX as usize {
            return Err(full);
        }
        let tag = self
            .names
            .add(patient.id.as_str())
            .ok_or(EntityError::Capacity("patients"))?;
        let state = PatientState::new(tag, patient.bsn, patient.birth_date).ok_or(full)?;
        self.patients.insert(patient.id.clone(), state);
        if let Some(bsn) = patient.bsn {
            self.bsns.insert(bsn, patient.id.clone());
        }
        self.seq = position;
        Ok(())
    }

    /// An organisation's provider type (R42: `None` without one)
    pub(crate) fn provider_type(&self, org: Idx) -> Option<&ProviderType> {
        self.provider_types
            .get(usize::try_from(org).ok()?)
            .and_then(Option::as_ref)
    }

    /// An organisation's URA number, when registered with one
    pub(crate) fn ura(&self, org: Idx) -> Option<Ura> {
        self.ura_of
            .get(usize::try_from(org).ok()?)
            .copied()
            .flatten()
    }

    /// The organisation with this URA number
    pub(crate) fn organisation_by_ura(&self, ura: Ura) -> Option<Idx> {
        self.uras.get(&ura).copied()
    }

    /// The name of a Mitz data category by the index events gave it
    pub(crate) fn data_category_name(&self, i: Idx) -> Option<&DataCategory> {
        self.data_categories.value(i)
    }

    /// The name of a holder category by the index events gave it
    pub(crate) fn holder_category_name(&self, i: Idx) -> Option<&HolderCategory> {
        self.holder_categories.value(i)
    }

    /// The name of a requesting category by the index events gave it
    pub(crate) fn requester_category_name(&self, i: Idx) -> Option<&RequesterCategory> {
        self.requester_categories.value(i)
    }

    /// The patient with this BSN
    pub(crate) fn patient_by_bsn(&self, bsn: &Bsn) -> Option<&PatientId> {
        self.bsns.get(bsn)
    }

    /// The index events gave a Mitz data category, if any named it
    pub(crate) fn data_category_index(&self, c: &DataCategory) -> Option<Idx> {
        self.data_categories.get(c)
    }

    /// The index events gave a holder category, if any named it
    pub(crate) fn holder_category_index(&self, c: &HolderCategory) -> Option<Idx> {
        self.holder_categories.get(c)
    }

    /// The index events gave a requesting category, if any named it
    pub(crate) fn requester_category_index(&self, c: &RequesterCategory) -> Option<Idx> {
        self.requester_categories.get(c)
    }

    /// A registered organisation's index
    pub(crate) fn organisation_index(&self, id: &OrganisationId) -> Option<Idx> {
        self.organisations.get(id)
    }

    /// The id of the organisation with this index
    pub(crate) fn organisation_id(&self, idx: Idx) -> Option<&OrganisationId> {
        self.organisations.value(idx)
    }

    /// An organisation's place in the table of ids
    pub(crate) fn organisation_tag(&self, idx: Idx) -> Option<Tag> {
        self.organisation_tags.get(idx as usize).copied()
    }

    /// A registered patient
    pub(crate) fn patient(&self, id: &PatientId) -> Option<&PatientState> {
        self.patients.get(id)
    }

    /// A registered practitioner
    pub(crate) fn practitioner(&self, id: &PractitionerId) -> Option<&PractitionerState> {
        self.practitioners.get(id)
    }

    /// Every registered organisation's id, sorted: ids only, no facts
    pub(crate) fn organisation_ids(&self) -> Vec<OrganisationId> {
        let mut ids = self.organisations.values().to_vec();
        ids.sort_unstable();
        ids
    }

    /// Every registered practitioner's id, sorted: ids only, no role and no
    /// facts
    pub(crate) fn practitioner_ids(&self) -> Vec<PractitionerId> {
        let mut ids: Vec<PractitionerId> = self.practitioners.keys().cloned().collect();
        ids.sort_unstable();
        ids
    }

    /// A record added by an event
    pub(crate) fn record(&self, id: &RecordId) -> Option<&RecordState> {
        self.records.get(id)
    }

    /// The index of a category some event named
    pub(crate) fn category_index(&self, id: &Category) -> Option<Idx> {
        self.categories.get(id)
    }

    /// The index of a module some event named
    pub(crate) fn module_index(&self, id: &CareModule) -> Option<Idx> {
        self.modules.get(id)
    }

    /// The id of the module with this index
    pub(crate) fn module_id(&self, idx: Idx) -> Option<&CareModule> {
        self.modules.value(idx)
    }

    /// The index of a study some event named
    pub(crate) fn study_index(&self, id: &StudyId) -> Option<Idx> {
        self.studies.get(id)
    }

    /// Whether the record is deleted at `at`: a `pgo` record whose patient's
    /// PGO account was deleted at or after the record was added
    pub(crate) fn record_deleted(&self, record: &RecordState, at: Timestamp) -> bool {
        record.source == Source::Pgo
            && self.patients.get(&record.patient).is_some_and(|p| {
                p.facts(at)
                    .any_since(FactKey::PgoAccount, false, record.added_at)
            })
    }

    /// The table of registered ids
    pub(crate) fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// Applies every event or none: each is checked against the state
    /// before the batch first (so an event that needs an earlier one of the
    /// same batch is rejected), then all are applied; returns the last
    /// sequence number
    ///
    /// On a rejected event, its place in `events` and the error; when the
    /// first pass rejects it, nothing has changed. The second pass can fail
    /// only for an event that conflicts with an earlier one of the same
    /// batch or a full table of ids, which leaves the earlier ones applied;
    /// the events a FHIR notification gives (Mitz choices of registered
    /// patients and holders) cannot.
    pub(crate) fn apply_all(
        &mut self,
        events: &[Event],
        vocabulary: &Vocabulary,
    ) -> Result<u64, (usize, EventError)> {
        for (i, event) in events.iter().enumerate() {
            self.check(event.kind.event_type(), &event.kind, vocabulary)
                .map_err(|e| (i, e))?;
        }
        for (i, event) in events.iter().enumerate() {
            self.apply(event, vocabulary).map_err(|e| (i, e))?;
        }
        Ok(self.seq)
    }

    /// Applies one event and returns its position (the last one plus one)
    ///
    /// On error (an unknown entity, record, category or module, a record id
    /// added twice, a full table) nothing changes.
    pub(crate) fn apply(
        &mut self,
        event: &Event,
        vocabulary: &Vocabulary,
    ) -> Result<u64, EventError> {
        let t = event.kind.event_type();
        let position = self.seq.checked_add(1).ok_or_else(|| {
            EventError::new(
                t,
                "position",
                EventProblem::Invalid("no position is left above the last applied one".into()),
            )
        })?;
        let checked = self.check(t, &event.kind, vocabulary)?;
        let record_tag = match &event.kind {
            EventKind::RecordAdded { record, .. } => Some(
                self.names
                    .add(record.as_str())
                    .ok_or_else(|| capacity(t, "record"))?,
            ),
            _ => None,
        };
        // Nothing has changed before this line but the table of ids, which
        // only grows and which no decision reads.
        let Checked {
            patient,
            fact,
            intern,
        } = checked;
        if let Some(c) = &intern.category {
            self.categories.intern(c);
        }
        if let Some(m) = &intern.module {
            self.modules.intern(m);
        }
        if let Some(s) = &intern.study {
            self.studies.intern(s);
        }
        if let Some(c) = &intern.data_category {
            self.data_categories.intern(c);
        }
        if let Some(c) = &intern.holder_category {
            self.holder_categories.intern(c);
        }
        if let Some(c) = &intern.requester_category {
            self.requester_categories.intern(c);
        }
        match (&event.kind, record_tag) {
            (
                EventKind::RecordAdded {
                    record,
                    category,
                    source,
                    holder,
                    module,
                    ..
                },
                Some(tag),
            ) => {
                let state = RecordState {
                    patient: patient.clone(),
                    category: category.clone(),
                    source: *source,
                    holder: holder.as_ref().and_then(|h| self.organisations.get(h)),
                    module: module.as_ref().and_then(|m| self.modules.get(m)),
                    added_at: event.at,
                    flagged_at: None,
                    tag,
                };
                self.records.insert(record.clone(), state);
            }
            (EventKind::RecordFlagged { record }, _) => {
                if let Some(state) = self.records.get_mut(record) {
                    state.flagged_at = Some(state.flagged_at.map_or(event.at, |f| f.min(event.at)));
                }
            }
            _ => {}
        }
        self.seq = position;
        if let (Some(key), Some(state)) = (fact, self.patients.get_mut(&patient)) {
            let entry = Entry::new(event.at, key, event.kind.change().is_given());
            // Entries stay sorted by (at, arrival): a new entry goes after every
            // entry at or before its time. `check` found that it fits.
            let fitted = state.insert(&entry);
            debug_assert!(fitted, "checked before");
        }
        Ok(self.seq)
    }

    /// Checks every reference of an event, changing nothing: the patient, the
    /// fact key (with the index a new category, module or study will get) and
    /// what to intern
    #[expect(clippy::too_many_lines, reason = "one arm per event kind")]
    fn check(
        &self,
        event_type: EventType,
        kind: &EventKind,
        vocabulary: &Vocabulary,
    ) -> Result<Checked, EventError> {
        use EventKind as K;
        let look = Checker {
            registry: self,
            t: event_type,
            vocabulary,
        };
        let mut intern = Intern::default();
        let (patient, fact) = match kind {
            K::Treatment {
                patient,
                organisation,
                ..
            } => (
                look.patient(patient)?,
                Some(FactKey::Relationship(
                    look.org(organisation, "organisation")?,
                )),
            ),
            K::DossierConsent {
                patient,
                holder,
                recorded_by,
                ..
            } => {
                let h = look.org(holder, "holder")?;
                if let Some(p) = recorded_by {
                    look.practitioner(p, "recorded_by")?;
                }
                (look.patient(patient)?, Some(FactKey::DossierConsent(h)))
            }
            K::AccessRequested {
                practitioner,
                patient,
            } => {
                let p = look.practitioner(practitioner, "practitioner")?;
                (look.patient(patient)?, Some(FactKey::AccessRequested(p)))
            }
            K::ReferralSent { patient, from, to } => {
                let from = look.org(from, "from")?;
                let to = look.org(to, "to")?;
                (look.patient(patient)?, Some(FactKey::Referral { from, to }))
            }
            K::ReferralObjection {
                patient,
                holder,
                category,
                ..
            } => {
                let holder = look.org(holder, "holder")?;
                let pid = look.patient(patient)?;
                let category = match category {
                    Some(c) => Some(look.category(c, &mut intern)?),
                    None => None,
                };
                (pid, Some(FactKey::ReferralObjection { holder, category }))
            }
            K::UnplannedCareConsent {
                patient, holder, ..
            } => {
                let h = look.org(holder, "holder")?;
                (
                    look.patient(patient)?,
                    Some(FactKey::UnplannedCareConsent(h)),
                )
            }
            K::PgoAccount { patient, .. } => (look.patient(patient)?, Some(FactKey::PgoAccount)),
            K::PgoTransferConsent { patient, .. } => {
                (look.patient(patient)?, Some(FactKey::PgoTransferConsent))
            }
            K::ModuleStarted {
                patient,
                module,
                practitioner,
            } => {
                look.practitioner(practitioner, "practitioner")?;
                let pid = look.patient(patient)?;
                let m = look.module(module, &mut intern)?;
                (pid, Some(FactKey::ModuleStarted(m)))
            }
            K::ModuleStorageConsent {
                patient, module, ..
            } => {
                let pid = look.patient(patient)?;
                let m = look.module(module, &mut intern)?;
                (pid, Some(FactKey::ModuleStorageConsent(m)))
            }
            K::ModuleOwnershipAccepted {
                practitioner,
                patient,
                module,
            } => {
                let p = look.practitioner(practitioner, "practitioner")?;
                let pid = look.patient(patient)?;
                let m = look.module(module, &mut intern)?;
                (
                    pid,
                    Some(FactKey::Ownership {
                        practitioner: p,
                        module: m,
                    }),
                )
            }
            K::RecordAdded {
                record,
                patient,
                category,
                holder,
                module,
                ..
            } => {
                if self.records.contains_key(record) {
                    return Err(EventError::new(
                        event_type,
                        "record",
                        EventProblem::Invalid(format!("record `{record}` was added before")),
                    ));
                }
                let pid = look.patient(patient)?;
                look.known_category(category)?;
                if let Some(h) = holder {
                    look.org(h, "holder")?;
                }
                if let Some(m) = module {
                    look.module(m, &mut intern)?;
                }
                (pid, None)
            }
            K::RecordFlagged { record } => {
                let r = self.records.get(record).ok_or_else(|| {
                    EventError::new(
                        event_type,
                        "record",
                        EventProblem::Unknown(record.to_string()),
                    )
                })?;
                (r.patient.clone(), None)
            }
            K::PartyConsent {
                patient,
                holder,
                party,
                purpose,
                ..
            } => {
                let holder = look.org(holder, "holder")?;
                let party = look.org(party, "party")?;
                (
                    look.patient(patient)?,
                    Some(FactKey::PartyConsent {
                        holder,
                        party,
                        purpose: *purpose,
                    }),
                )
            }
            K::Objection {
                patient, purpose, ..
            } => (look.patient(patient)?, Some(FactKey::Objection(*purpose))),
            K::ResearchConsent { patient, study, .. } => {
                let pid = look.patient(patient)?;
                let index = if let Some(known) = self.studies.get(study) {
                    known
                } else {
                    intern.study = Some(study.clone());
                    self.studies
                        .peek(study)
                        .ok_or_else(|| capacity(event_type, "study"))?
                };
                (pid, Some(FactKey::ResearchConsent(index)))
            }
            K::MitzChoice {
                patient,
                holder,
                data_category,
                requester_category,
                choice,
                ..
            } => {
                let pid = look.patient(patient)?;
                let holder = match holder {
                    MitzHolder::Organisation(h) => {
                        MitzHolderIdx::Organisation(look.org(h, "holder")?)
                    }
                    MitzHolder::Category(c) => MitzHolderIdx::Category(look.code(
                        &self.holder_categories,
                        c,
                        vocabulary.has_holder_category(c),
                        "holder_category",
                        &mut intern.holder_category,
                    )?),
                };
                let data = look.code(
                    &self.data_categories,
                    data_category,
                    vocabulary.has_data_category(data_category),
                    "data_category",
                    &mut intern.data_category,
                )?;
                let requester = look.code(
                    &self.requester_categories,
                    requester_category,
                    vocabulary.has_requester_category(requester_category),
                    "requester_category",
                    &mut intern.requester_category,
                )?;
                let key = FactKey::Mitz {
                    holder,
                    requester,
                    data,
                    permit: *choice == Some(Choice::Permit),
                };
                (pid, Some(key))
            }
            K::MitzChoicesConfirmed { patient } => {
                (look.patient(patient)?, Some(FactKey::MitzConfirmed))
            }
        };
        if let Some(key) = fact {
            // A fact entry's fit depends on its key alone; a Mitz entry's
            // also on the patient's holders
            let fits = if key.is_mitz() {
                self.patients.get(&patient).is_some_and(|p| p.fits(key))
            } else {
                packed::Block::default().fits(0, key)
            };
            if !fits {
                return Err(capacity(event_type, layout_field(key)));
            }
        }
        Ok(Checked {
            patient,
            fact,
            intern,
        })
    }
}

/// The lookups of [`Registry::check`], each naming the event's field on failure
struct Checker<'a> {
    registry: &'a Registry,
    t: EventType,
    vocabulary: &'a Vocabulary,
}

impl Checker<'_> {
    fn unknown(&self, field: &'static str, value: &dyn std::fmt::Display) -> EventError {
        EventError::new(self.t, field, EventProblem::Unknown(value.to_string()))
    }

    fn org(&self, id: &OrganisationId, field: &'static str) -> Result<Idx, EventError> {
        self.registry
            .organisations
            .get(id)
            .ok_or_else(|| self.unknown(field, id))
    }

    fn patient(&self, id: &PatientId) -> Result<PatientId, EventError> {
        if self.registry.patients.contains_key(id) {
            Ok(id.clone())
        } else {
            Err(self.unknown("patient", id))
        }
    }

    fn practitioner(&self, id: &PractitionerId, field: &'static str) -> Result<Idx, EventError> {
        self.registry
            .practitioners
            .get(id)
            .map(|p| p.idx)
            .ok_or_else(|| self.unknown(field, id))
    }

    fn known_category(&self, c: &Category) -> Result<(), EventError> {
        if self.vocabulary.has_category(c) {
            Ok(())
        } else {
            Err(self.unknown("category", c))
        }
    }

    /// The index a category in the vocabulary has or will get
    fn category(&self, c: &Category, intern: &mut Intern) -> Result<Idx, EventError> {
        self.known_category(c)?;
        if let Some(i) = self.registry.categories.get(c) {
            return Ok(i);
        }
        intern.category = Some(c.clone());
        self.registry
            .categories
            .peek(c)
            .ok_or_else(|| capacity(self.t, "category"))
    }

    /// The index a Mitz code the vocabulary knows (`known`) has or will get
    fn code<C: std::hash::Hash + Eq + Clone + std::fmt::Display>(
        &self,
        interner: &Interner<C>,
        c: &C,
        known: bool,
        field: &'static str,
        intern: &mut Option<C>,
    ) -> Result<Idx, EventError> {
        if !known {
            return Err(self.unknown(field, c));
        }
        if let Some(i) = interner.get(c) {
            return Ok(i);
        }
        *intern = Some(c.clone());
        interner.peek(c).ok_or_else(|| capacity(self.t, field))
    }

    /// The index a module in the vocabulary has or will get
    fn module(&self, m: &CareModule, intern: &mut Intern) -> Result<Idx, EventError> {
        if !self.vocabulary.has_module(m) {
            return Err(self.unknown("module", m));
        }
        if let Some(i) = self.registry.modules.get(m) {
            return Ok(i);
        }
        intern.module = Some(m.clone());
        self.registry
            .modules
            .peek(m)
            .ok_or_else(|| capacity(self.t, "module"))
    }
}

/// The field of an event whose fact does not fit a patient's block: the
/// Mitz codes past [`packed::MAX_MITZ_CODES`] interned, or a Mitz holder past
/// [`packed::MAX_HOLDERS`] of one patient (docs/facts.md)
fn layout_field(key: FactKey) -> &'static str {
    match key {
        FactKey::Mitz { requester, .. } if requester as usize >= packed::MAX_MITZ_CODES => {
            "requester_category"
        }
        FactKey::Mitz { data, .. } if data as usize >= packed::MAX_MITZ_CODES => "data_category",
        FactKey::Mitz { .. } => "holder",
        _ => "patient",
    }
}

fn capacity(t: EventType, field: &'static str) -> EventError {
    EventError::new(
        t,
        field,
        EventProblem::Invalid("too many distinct values".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> (Registry, Vocabulary) {
        let policies = crate::policy::Policies::shipped().unwrap();
        let vocabulary = policies.vocabulary().clone();
        let mut r = Registry::new();
        let org = |s: &str| Organisation::new(OrganisationId::new(s).unwrap());
        r.register_organisation(&org("vp")).unwrap();
        r.register_patient(&Patient::new(PatientId::new("c1").unwrap()))
            .unwrap();
        (r, vocabulary)
    }

    fn event(json: &str) -> Event {
        Event::from_json(json).unwrap()
    }

    #[test]
    fn a_rejected_event_interns_nothing() {
        let (mut r, v) = world();
        // A known category and module, an unknown holder: rejected after the
        // category and module were looked at.
        let e = event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"record_added","record":"r1","patient":"c1",
                "category":"medicatie","source":"module","holder":"nope","module":"zwangerschap"}"#,
        );
        let before = (
            r.categories.len(),
            r.modules.len(),
            r.studies.len(),
            r.seq(),
        );
        assert!(r.apply(&e, &v).is_err());
        assert_eq!(
            (
                r.categories.len(),
                r.modules.len(),
                r.studies.len(),
                r.seq()
            ),
            before
        );
        assert!(r.record(&RecordId::new("r1").unwrap()).is_none());
        let e = event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"referral_objection_recorded","patient":"nobody",
                "holder":"vp","category":"medicatie"}"#,
        );
        assert!(r.apply(&e, &v).is_err());
        assert_eq!(r.categories.len(), 0);
        let e = event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"research_consent_given","patient":"nobody","study":"s1"}"#,
        );
        assert!(r.apply(&e, &v).is_err());
        assert_eq!(r.studies.len(), 0);
    }

    #[test]
    fn an_accepted_event_gets_the_index_it_was_checked_with() {
        let (mut r, v) = world();
        let e = event(
            r#"{"at":"2026-01-10T09:00:00Z","type":"referral_objection_recorded","patient":"c1",
                "holder":"vp","category":"medicatie"}"#,
        );
        // An organisation and a patient took positions 1 and 2
        assert_eq!(r.apply(&e, &v).unwrap(), 3);
        let c = Category::new("medicatie").unwrap();
        let at: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
        let holder = r.organisation_index(&OrganisationId::new("vp").unwrap());
        let patient = r.patient(&PatientId::new("c1").unwrap());
        let (Some(holder), Some(patient)) = (holder, patient) else {
            panic!("registered");
        };
        assert!(
            patient
                .facts(at)
                .referral_objection(holder, r.category_index(&c))
        );
    }

    #[test]
    fn registered_ids_are_listed_sorted_and_once() {
        let (mut r, v) = world();
        let org = |s: &str| Organisation::new(OrganisationId::new(s).unwrap());
        r.register_organisation(&org("kz-oost")).unwrap();
        r.register_organisation(&org("ha-west")).unwrap();
        // Registering a known id again lists it once
        r.register_organisation(&org("kz-oost")).unwrap();
        let p = |id: &str, o: &str| {
            Practitioner::new(
                PractitionerId::new(id).unwrap(),
                OrganisationId::new(o).unwrap(),
                crate::model::ids::Role::new("verloskundige").unwrap(),
            )
        };
        r.register_practitioner(p("vera", "vp"), &v).unwrap();
        r.register_practitioner(p("anna", "kz-oost"), &v).unwrap();
        // An update (another organisation) keeps one entry
        r.register_practitioner(p("vera", "ha-west"), &v).unwrap();
        // A refused practitioner (unknown organisation) is not listed
        assert!(r.register_practitioner(p("zed", "nowhere"), &v).is_err());
        let orgs: Vec<String> = r
            .organisation_ids()
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect();
        assert_eq!(orgs, ["ha-west", "kz-oost", "vp"]);
        let people: Vec<String> = r
            .practitioner_ids()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect();
        assert_eq!(people, ["anna", "vera"]);
        assert!(Registry::new().practitioner_ids().is_empty());
        assert!(Registry::new().organisation_ids().is_empty());
    }

    #[test]
    fn a_patient_is_24_bytes_in_the_map() {
        // The tag, the number of fact entries and the block's pointer and
        // length: the map's slot is the id and these
        assert_eq!(std::mem::size_of::<PatientState>(), 24);
    }

    #[test]
    fn debug_shows_counts_not_ids() {
        let (r, _) = world();
        let shown = format!("{r:?}");
        assert!(shown.contains("patients: 1"), "{shown}");
        assert!(!shown.contains("c1") && !shown.contains("vp"), "{shown}");
    }
}
