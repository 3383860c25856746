//! The consent questions of SPEC.md §7.5 (`consent_check`, `consent_locate`,
//! `consent_overview`) and the statements in force, on the engine.

use crate::audit::{AuditPrincipal, AuditRecord, Checks, ConsentTag, PendingRecord};
use crate::model::consent::{
    Answer, Data, Holder, Origin, Requester, Resolution, StatementEvent, in_force,
};
use crate::model::consent_query::{
    ConsentAnswer, ConsentCheckAnswer, ConsentCheckQuery, ConsentLocateAnswer, ConsentLocateQuery,
    ConsentOverviewAnswer, ConsentOverviewQuery, ConsentStatement, DataCategoryAnswer,
    LocatedHolder, OverviewAnswer, StatementOrigin,
};
use crate::model::event::{Event, EventError};
use crate::model::ids::{DataCategory, OrganisationId, PatientId, RequesterCategory};
use crate::model::request::{Decision, Principal};
use crate::model::time::Timestamp;
use crate::model::vocab::{Reason, Vocabulary};
use crate::policy::version_of;
use crate::registry::{Idx, Registry, Statements};

use super::Engine;
use super::consent::PatientConsent;

/// A consent question the engine cannot answer: it names an unknown id, or
/// its fields do not fit together. Its `Debug` names the field only
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentQueryError {
    /// An id the registry does not know (the caller treats it as deny)
    #[error("{question}: field `{field}`: unknown `{value}`")]
    Unknown {
        /// `consent check`, `consent locate`, `consent overview`, …
        question: &'static str,
        /// The field at fault
        field: &'static str,
        /// The value given
        value: String,
    },
    /// A field that must be given is missing, or two that exclude each
    /// other are both given
    #[error("{question}: field `{field}`: {problem}")]
    Fields {
        /// The question
        question: &'static str,
        /// The field at fault
        field: &'static str,
        /// What is wrong
        problem: &'static str,
    },
    /// The query's `min_seq` is above the last position the engine applied
    /// (SPEC.md §8, R47): fail closed, like a deny with `stale_facts`; a
    /// host may wait ([`Engine::wait_for`]) and ask again, or ask a replica
    /// that is caught up
    #[error(
        "{question}: field `min_seq`: position {min_seq} is not applied yet (last applied: {seq})"
    )]
    Stale {
        /// The question
        question: &'static str,
        /// The position asked for
        min_seq: u64,
        /// The last applied position
        seq: u64,
    },
}

impl ConsentQueryError {
    /// The field at fault
    pub fn field(&self) -> &'static str {
        match self {
            ConsentQueryError::Unknown { field, .. } | ConsentQueryError::Fields { field, .. } => {
                field
            }
            ConsentQueryError::Stale { .. } => "min_seq",
        }
    }
}

impl std::fmt::Debug for ConsentQueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value may be a patient id: the field says enough in a log.
        match self {
            ConsentQueryError::Unknown {
                question, field, ..
            } => f
                .debug_struct("Unknown")
                .field("question", question)
                .field("field", field)
                .finish_non_exhaustive(),
            ConsentQueryError::Fields {
                question,
                field,
                problem,
            } => f
                .debug_struct("Fields")
                .field("question", question)
                .field("field", field)
                .field("problem", problem)
                .finish(),
            ConsentQueryError::Stale {
                question,
                min_seq,
                seq,
            } => f
                .debug_struct("Stale")
                .field("question", question)
                .field("min_seq", min_seq)
                .field("seq", seq)
                .finish(),
        }
    }
}

/// [`ConsentQueryError::Stale`] when the registry has not applied `min_seq` (R47)
fn fresh(
    registry: &Registry,
    min_seq: Option<u64>,
    question: &'static str,
) -> Result<(), ConsentQueryError> {
    let seq = registry.seq();
    match min_seq {
        Some(min_seq) if min_seq > seq => Err(ConsentQueryError::Stale {
            question,
            min_seq,
            seq,
        }),
        _ => Ok(()),
    }
}

/// A statement event with its indices turned into names; `None` for an
/// index the registry cannot name (which no registered event gives)
pub(crate) fn statement_of(
    registry: &Registry,
    event: &StatementEvent<Idx>,
    counts: bool,
) -> Option<ConsentStatement> {
    let choice = event.choice?;
    let key = &event.key;
    let (holder, holder_category) = match key.holder {
        Holder::Organisation(o) => (Some(registry.organisation_id(o)?.clone()), None),
        Holder::Category(c) => (None, Some(registry.holder_category_name(c)?.clone())),
    };
    let requester_category = match key.requester {
        Requester::Every => None,
        Requester::Category(r) => Some(registry.requester_category_name(r)?.clone()),
    };
    let data_category = match key.data {
        Data::Every => None,
        Data::Category(d) => Some(registry.data_category_name(d)?.clone()),
    };
    let named = match (&holder, &holder_category) {
        (Some(o), _) => Ok(o),
        (None, Some(c)) => Err(c),
        (None, None) => return None,
    };
    let id = ConsentStatement::id_of(named, requester_category.as_ref(), data_category.as_ref());
    Some(ConsentStatement {
        id,
        origin: match key.origin {
            Origin::Dossier => StatementOrigin::Dossier,
            Origin::Mitz => StatementOrigin::Mitz,
        },
        holder,
        holder_category,
        requester_category,
        data_category,
        choice,
        at: event.at,
        counts,
    })
}

impl Engine {
    /// Every consent statement in force for the patient at `at` (RULES.md
    /// §J: the latest of its key at or before `at`, not cleared), by time of
    /// recording; a minor's unconfirmed Mitz choice is listed with
    /// `counts: false`
    ///
    /// Not audited: [`Engine::consent_overview`] is the audited question
    /// that includes it; this is for a host's own export and tests.
    ///
    /// # Errors
    ///
    /// [`ConsentQueryError::Unknown`] for an unknown patient.
    pub fn consent_statements(
        &self,
        patient: &PatientId,
        at: Timestamp,
    ) -> Result<Vec<ConsentStatement>, ConsentQueryError> {
        let registry = self.read();
        statements_in_force(&registry, patient, at, "consent statements")
    }

    /// Applies every event or none (SPEC.md §7.6, R45 for FHIR imports):
    /// each is checked against the state before the batch, then all are
    /// applied; returns the last sequence number
    ///
    /// An event that needs an earlier one of the same batch (a record
    /// flagged after its `record_added` in the batch) is rejected: apply
    /// such events one by one.
    ///
    /// # Errors
    ///
    /// The place in `events` of the first rejected event, and its
    /// [`EventError`]; nothing has changed then.
    pub fn apply_all(&self, events: &[Event]) -> Result<u64, (usize, EventError)> {
        let loaded = self.loaded.load();
        self.write(|r| {
            let done = r.apply_all(events, loaded.policies.vocabulary());
            r.sync_consent_map(loaded.policies.vocabulary().consent());
            done
        })
    }
}

/// The statements in force for `patient` at `at`, named
pub(crate) fn statements_in_force(
    registry: &Registry,
    patient: &PatientId,
    at: Timestamp,
    question: &'static str,
) -> Result<Vec<ConsentStatement>, ConsentQueryError> {
    let state = registry
        .patient(patient)
        .ok_or_else(|| ConsentQueryError::Unknown {
            question,
            field: "patient",
            value: patient.to_string(),
        })?;
    let facts = state.facts(at);
    let events = facts.statements();
    let age = crate::model::consent::AgeFacts::at(state.birth_date(), facts.mitz_confirmed(), at);
    let mut out: Vec<ConsentStatement> = in_force(&events, at)
        .filter_map(|(i, _)| {
            let event = events.get(i)?;
            let counts = event.key.origin == Origin::Dossier || age.counts(event.at, at);
            statement_of(registry, event, counts)
        })
        .collect();
    out.sort_by_key(|s| s.at);
    Ok(out)
}

/// The answer a resolution gives `consent_check` (R42: a category that was
/// needed and missing makes it indeterminate)
fn answer_of(resolution: &Resolution) -> ConsentAnswer {
    if resolution.category_unknown() {
        return ConsentAnswer::Indeterminate;
    }
    match resolution.answer() {
        Answer::Permit => ConsentAnswer::Permit,
        Answer::NoChoice => ConsentAnswer::NoChoice,
        Answer::Refused => ConsentAnswer::Refused,
    }
}

/// The reasons a `view` would give for a resolution that is not a permit
/// (R39, R41), or none for a permit
fn reasons_of(resolution: &Resolution, answer: ConsentAnswer) -> Vec<Reason> {
    if answer.is_permit() {
        return Vec::new();
    }
    let mut reasons = vec![Reason::NoDossierConsent];
    if resolution.answer() == Answer::Refused {
        reasons.push(Reason::ConsentRefused);
    }
    if resolution.unconfirmed() {
        reasons.push(Reason::ConsentUnconfirmed);
    }
    reasons
}

/// The ids of the statements that decided a resolution; none for an
/// indeterminate one (R42: what decided is not known)
fn deciding_ids(registry: &Registry, resolution: &Resolution, events: &Statements) -> Vec<String> {
    if resolution.category_unknown() {
        return Vec::new();
    }
    resolution
        .deciding()
        .iter()
        .filter_map(|&i| statement_of(registry, events.get(i)?, true))
        .map(|s| s.id)
        .collect()
}

/// One consent question against one registry and vocabulary
struct Asking<'a> {
    registry: &'a Registry,
    vocabulary: &'a Vocabulary,
    question: &'static str,
}

impl<'a> Asking<'a> {
    fn unknown(&self, field: &'static str, value: &str) -> ConsentQueryError {
        ConsentQueryError::Unknown {
            question: self.question,
            field,
            value: value.to_owned(),
        }
    }

    fn organisation(
        &self,
        field: &'static str,
        id: &OrganisationId,
    ) -> Result<Idx, ConsentQueryError> {
        self.registry
            .organisation_index(id)
            .ok_or_else(|| self.unknown(field, id.as_str()))
    }

    /// The consent of a registered patient at `at`
    fn patient(
        &self,
        id: &PatientId,
        at: Timestamp,
    ) -> Result<PatientConsent<'a, 'a>, ConsentQueryError> {
        let state = self
            .registry
            .patient(id)
            .ok_or_else(|| self.unknown("patient", id.as_str()))?;
        Ok(PatientConsent::new(
            self.registry,
            self.vocabulary,
            state.facts(at),
            state.birth_date(),
            at,
        ))
    }

    /// Who asks, as the audit record names them: the principal if given
    /// (and registered), else the requesting organisation
    fn principal(
        &self,
        principal: Option<&Principal>,
        requester: Option<&OrganisationId>,
    ) -> Result<AuditPrincipal, ConsentQueryError> {
        let asked = match (principal, requester) {
            (Some(p), _) => p.clone(),
            (None, Some(o)) => Principal::Organisation(o.clone()),
            (None, None) => {
                return Err(ConsentQueryError::Fields {
                    question: self.question,
                    field: "principal",
                    problem: "is required when no `requester` organisation is given",
                });
            }
        };
        let (role, organisation) = match &asked {
            Principal::Practitioner(id) => {
                let p = self
                    .registry
                    .practitioner(id)
                    .ok_or_else(|| self.unknown("principal", id.as_str()))?;
                (
                    Some(p.entity().role.clone()),
                    Some(p.entity().organisation.clone()),
                )
            }
            Principal::Patient(id) => {
                if self.registry.patient(id).is_none() {
                    return Err(self.unknown("principal", id.as_str()));
                }
                (None, None)
            }
            Principal::Organisation(id) => {
                self.organisation("principal", id)?;
                (None, None)
            }
        };
        Ok(AuditPrincipal::of(&asked, role, organisation))
    }

    /// The patient's dashboard holders (SPEC.md §4), by id, with their indices
    fn holders(&self, consent: &PatientConsent<'_, '_>) -> Vec<(&'a OrganisationId, Idx)> {
        let mut holders: Vec<(&OrganisationId, Idx)> = consent
            .holders()
            .into_iter()
            .filter_map(|h| Some((self.registry.organisation_id(h)?, h)))
            .collect();
        holders.sort();
        holders
    }

    fn data_index(&self, g: &DataCategory) -> Result<u16, ConsentQueryError> {
        self.vocabulary
            .consent()
            .data_index(g)
            .ok_or_else(|| self.unknown("data_categories", g.as_str()))
    }
}

/// What one audit record of a consent question says
struct ConsentRecord<'q> {
    principal: AuditPrincipal,
    patient: &'q PatientId,
    at: Timestamp,
    tag: ConsentTag,
    holder: Option<OrganisationId>,
    requester_category: Option<RequesterCategory>,
    data_categories: Vec<DataCategory>,
    allowed: bool,
    reasons: Vec<Reason>,
    statements: Vec<String>,
}

impl ConsentRecord<'_> {
    fn into_pending(self, policy_version: &str) -> PendingRecord {
        AuditRecord {
            seq: 0,
            at: self.at,
            principal: self.principal,
            patient: self.patient.clone(),
            action: crate::audit::AuditAction::Consent(self.tag),
            holder: self.holder,
            category: None,
            categories: None,
            record: None,
            module: None,
            purpose: None,
            study: None,
            requester_category: self.requester_category,
            data_categories: Some(self.data_categories),
            statements: Some(self.statements),
            decision: if self.allowed {
                Decision::Allow
            } else {
                Decision::Deny
            },
            reasons: self.reasons,
            policies: Vec::new(),
            policy_version: policy_version.to_owned(),
            checks: Checks {
                consent: true,
                ..Checks::default()
            },
            prev_hash: String::new(),
            hash: String::new(),
        }
        .into()
    }
}

impl Engine {
    /// `consent_check`, the Mitz closed question (SPEC.md §7.5): per data
    /// category asked, does the patient permit holder `h` to make it
    /// available to the requester? Organisation level: no role, no
    /// relationship. Audited: one record per data category asked.
    ///
    /// ```
    /// use zorg_pdp::{ConsentAnswer, ConsentCheckQuery, Engine, Event, Organisation,
    ///     OrganisationId, Patient, PatientId};
    /// let engine = Engine::new()?;
    /// for org in ["ziekenhuis-zuid", "apotheek-oost"] {
    ///     engine.register_organisation(Organisation::new(OrganisationId::new(org)?))?;
    /// }
    /// engine.register_patient(&Patient::new(PatientId::new("client-1")?))?;
    /// engine.apply(&Event::from_json(r#"{"at":"2026-03-01T09:00:00Z",
    ///     "type":"dossier_consent_given","patient":"client-1","holder":"ziekenhuis-zuid"}"#)?)?;
    /// let answer = engine.consent_check(&ConsentCheckQuery::from_json(r#"{"patient":"client-1",
    ///     "holder":"ziekenhuis-zuid","requester":"apotheek-oost",
    ///     "data_categories":["GGC013"],"at":"2026-03-02T10:00:00Z"}"#)?)?;
    /// assert_eq!(answer.answers[0].answer, ConsentAnswer::Permit);
    /// assert_eq!(answer.answers[0].statements, ["org:ziekenhuis-zuid/*/*"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConsentQueryError`] for an unknown id or data or requesting
    /// category, or when not exactly one of `requester` /
    /// `requester_category` is given; [`ConsentQueryError::Stale`] when the
    /// query's `min_seq` is above the last applied position (R47, checked
    /// first); nothing is audited then.
    pub fn consent_check(
        &self,
        query: &ConsentCheckQuery,
    ) -> Result<ConsentCheckAnswer, ConsentQueryError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let ask = Asking {
            registry: &registry,
            vocabulary: loaded.policies.vocabulary(),
            question: "consent check",
        };
        fresh(&registry, query.min_seq, ask.question)?;
        let consent = ask.patient(&query.patient, query.at)?;
        let h = ask.organisation("holder", &query.holder)?;
        let requester = match (&query.requester, &query.requester_category) {
            (Some(o), None) => {
                let o = ask.organisation("requester", o)?;
                consent.categories_of(o).map(|(_, r)| r)
            }
            (None, Some(r)) => Some(
                ask.vocabulary
                    .consent()
                    .requester_index(r)
                    .ok_or_else(|| ask.unknown("requester_category", r.as_str()))?,
            ),
            (None, None) => {
                return Err(ConsentQueryError::Fields {
                    question: ask.question,
                    field: "requester",
                    problem: "one of `requester` / `requester_category` is required",
                });
            }
            (Some(_), Some(_)) => {
                return Err(ConsentQueryError::Fields {
                    question: ask.question,
                    field: "requester_category",
                    problem: "give `requester` or `requester_category`, not both",
                });
            }
        };
        let principal = ask.principal(query.principal.as_ref(), query.requester.as_ref())?;
        let mut answers = Vec::with_capacity(query.data_categories.len());
        for g in &query.data_categories {
            let d = ask.data_index(g)?;
            let (resolution, events) = consent.resolve_with(h, requester, Some(d));
            let answer = answer_of(&resolution);
            answers.push(DataCategoryAnswer {
                data_category: g.clone(),
                answer,
                statements: deciding_ids(&registry, &resolution, &events),
                reasons: reasons_of(&resolution, answer),
            });
        }
        if let Some(sink) = &loaded.sink {
            let version = version_of(&loaded.policies.digest());
            for a in &answers {
                let record = ConsentRecord {
                    principal: principal.clone(),
                    patient: &query.patient,
                    at: query.at,
                    tag: ConsentTag::ConsentCheck,
                    holder: Some(query.holder.clone()),
                    requester_category: query.requester_category.clone(),
                    data_categories: vec![a.data_category.clone()],
                    allowed: a.answer.is_permit(),
                    reasons: a.reasons.clone(),
                    statements: a.statements.clone(),
                };
                self.send(sink, record.into_pending(&version));
            }
        }
        Ok(ConsentCheckAnswer {
            answers,
            seq: registry.seq(),
        })
    }

    /// `consent_locate`, the Mitz open question (SPEC.md §7.5, R44): the
    /// patient's dashboard holders (SPEC.md §4: every organisation with a
    /// treatment relationship or a dossier consent, the requester's own
    /// included) where `consent_check` permits the requester at least one
    /// data category, with those categories. Audited: one record per
    /// candidate holder, allowed when it is listed.
    ///
    /// # Errors
    ///
    /// [`ConsentQueryError::Unknown`] for an unknown id,
    /// [`ConsentQueryError::Stale`] when the query's `min_seq` is above the
    /// last applied position (R47, checked first); nothing is audited then.
    pub fn consent_locate(
        &self,
        query: &ConsentLocateQuery,
    ) -> Result<ConsentLocateAnswer, ConsentQueryError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let ask = Asking {
            registry: &registry,
            vocabulary: loaded.policies.vocabulary(),
            question: "consent locate",
        };
        fresh(&registry, query.min_seq, ask.question)?;
        let consent = ask.patient(&query.patient, query.at)?;
        let o = ask.organisation("requester", &query.requester)?;
        let principal = ask.principal(query.principal.as_ref(), Some(&query.requester))?;
        let requester = consent.categories_of(o).map(|(_, r)| r);
        let data = ask.vocabulary.consent().data_categories();
        let candidates = ask.holders(&consent);
        let mut holders = Vec::new();
        let mut records = Vec::new();
        for (id, h) in candidates {
            let mut permitted = Vec::new();
            let mut statements = Vec::new();
            for (d, g) in data.iter().enumerate() {
                let Ok(d) = u16::try_from(d) else { break };
                let (resolution, events) = consent.resolve_with(h, requester, Some(d));
                if answer_of(&resolution).is_permit() {
                    permitted.push(g.clone());
                    for s in deciding_ids(&registry, &resolution, &events) {
                        if !statements.contains(&s) {
                            statements.push(s);
                        }
                    }
                }
            }
            let allowed = !permitted.is_empty();
            if loaded.sink.is_some() {
                records.push(ConsentRecord {
                    principal: principal.clone(),
                    patient: &query.patient,
                    at: query.at,
                    tag: ConsentTag::ConsentLocate,
                    holder: Some(id.clone()),
                    requester_category: None,
                    data_categories: permitted.clone(),
                    allowed,
                    reasons: if allowed {
                        Vec::new()
                    } else {
                        vec![Reason::NoDossierConsent]
                    },
                    statements,
                });
            }
            if allowed {
                holders.push(LocatedHolder {
                    holder: id.clone(),
                    data_categories: permitted,
                });
            }
        }
        if let Some(sink) = &loaded.sink {
            let version = version_of(&loaded.policies.digest());
            for r in records {
                self.send(sink, r.into_pending(&version));
            }
        }
        Ok(ConsentLocateAnswer {
            holders,
            seq: registry.seq(),
        })
    }

    /// `consent_overview` (SPEC.md §7.5): every statement in force for the
    /// patient at `at`, and per dashboard holder × requesting category ×
    /// data category (holders by id, categories in vocabulary order) what
    /// `consent_check` answers. Audited: one record, listing the statements.
    ///
    /// # Errors
    ///
    /// [`ConsentQueryError::Unknown`] for an unknown id,
    /// [`ConsentQueryError::Stale`] when the query's `min_seq` is above the
    /// last applied position (R47, checked first); nothing is audited then.
    pub fn consent_overview(
        &self,
        query: &ConsentOverviewQuery,
    ) -> Result<ConsentOverviewAnswer, ConsentQueryError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let ask = Asking {
            registry: &registry,
            vocabulary: loaded.policies.vocabulary(),
            question: "consent overview",
        };
        fresh(&registry, query.min_seq, ask.question)?;
        let consent = ask.patient(&query.patient, query.at)?;
        let principal = ask.principal(Some(&query.principal), None)?;
        let statements = statements_in_force(&registry, &query.patient, query.at, ask.question)?;
        let vocab = ask.vocabulary.consent();
        let holders = ask.holders(&consent);
        let mut answers = Vec::new();
        for (id, h) in holders {
            for (r, rc) in vocab.requester_categories().iter().enumerate() {
                let Ok(r) = u16::try_from(r) else { break };
                for (d, g) in vocab.data_categories().iter().enumerate() {
                    let Ok(d) = u16::try_from(d) else { break };
                    let (resolution, events) = consent.resolve_with(h, Some(r), Some(d));
                    let answer = answer_of(&resolution);
                    answers.push(OverviewAnswer {
                        holder: id.clone(),
                        requester_category: rc.clone(),
                        data_category: g.clone(),
                        answer,
                        statements: deciding_ids(&registry, &resolution, &events),
                    });
                }
            }
        }
        if let Some(sink) = &loaded.sink {
            let record = ConsentRecord {
                principal,
                patient: &query.patient,
                at: query.at,
                tag: ConsentTag::ConsentOverview,
                holder: None,
                requester_category: None,
                data_categories: Vec::new(),
                allowed: true,
                reasons: Vec::new(),
                statements: statements.iter().map(|s| s.id.clone()).collect(),
            };
            self.send(
                sink,
                record.into_pending(&version_of(&loaded.policies.digest())),
            );
        }
        Ok(ConsentOverviewAnswer {
            statements,
            answers,
            seq: registry.seq(),
        })
    }
}
