//! The consent questions of SPEC.md §7.5 (`consent_check`, `consent_locate`,
//! `consent_overview`) and the statements in force, on the engine.

use crate::model::consent::{Data, Holder, Origin, Requester, StatementEvent, in_force};
use crate::model::consent_query::{ConsentStatement, StatementOrigin};
use crate::model::event::{Event, EventError};
use crate::model::ids::PatientId;
use crate::model::time::Timestamp;
use crate::registry::{Idx, Registry};

use super::Engine;

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
}

impl ConsentQueryError {
    /// The field at fault
    pub fn field(&self) -> &'static str {
        match self {
            ConsentQueryError::Unknown { field, .. } | ConsentQueryError::Fields { field, .. } => {
                field
            }
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
        }
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
        self.write(|r| r.apply_all(events, loaded.policies.vocabulary()))
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
    out.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(out)
}
