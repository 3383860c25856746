//! The record as the engine hands it over: cheap to build on the deciding
//! thread, turned into an [`AuditRecord`] by the sink.

use std::sync::Arc;

use super::record::{AuditAction, AuditPrincipal, AuditRecord, Checks};
use crate::engine::Answer;
use crate::model::ids::{CareModule, Category, OrganisationId, PatientId, RecordId, Role, StudyId};
use crate::model::request::Principal;
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose};
use crate::policy::version_of;

/// One decision's audit record, not yet written out
///
/// The engine builds it on the deciding thread: the ids of the request, and
/// a shared reference to the remembered answer, which also holds every field
/// the answer's memo key determines (role, category, module, purpose, the
/// check flags, the policy-set digest). Nothing is allocated or serialised.
/// A sink turns it into an [`AuditRecord`] with
/// [`PendingRecord::into_record`] when it numbers, hashes or writes it;
/// [`crate::audit::MemorySink`] keeps it pending until its records are read.
#[derive(Debug, Clone)]
pub struct PendingRecord(Parts);

#[derive(Debug, Clone)]
enum Parts {
    /// A decision of [`crate::Engine::decide`]
    Decision(Decision),
    /// A record built whole (a dashboard's, an unknown id's, or one a host passed in)
    Ready(Box<AuditRecord>),
}

/// What a remembered answer's memo key determines of a decision's record:
/// the same for every decision that shares the answer
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditFacts {
    pub(crate) action: ActionKind,
    pub(crate) role: Option<Role>,
    pub(crate) category: Option<Category>,
    pub(crate) module: Option<CareModule>,
    pub(crate) purpose: Option<Purpose>,
    pub(crate) checks: Checks,
    pub(crate) digest: [u8; 32],
}

/// What one decision's record adds to its answer
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) answer: Arc<Answer>,
    pub(crate) principal: Principal,
    /// The practitioner's organisation
    pub(crate) organisation: Option<OrganisationId>,
    pub(crate) patient: PatientId,
    /// The holder asked about, or where the record asked for was found
    pub(crate) holder: Option<OrganisationId>,
    pub(crate) subject: Subject,
    pub(crate) at: Timestamp,
}

/// The record or study asked about (no action names both)
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    None,
    Record(RecordId),
    Study(StudyId),
}

impl PendingRecord {
    /// A decision's record
    #[inline]
    pub(crate) fn decision(decision: Decision) -> Self {
        Self(Parts::Decision(decision))
    }

    /// The record, with `seq`, `prev_hash` and `hash` left for the sink
    pub fn into_record(self) -> AuditRecord {
        match self.0 {
            Parts::Ready(record) => *record,
            Parts::Decision(d) => d.to_record(),
        }
    }

    /// [`PendingRecord::into_record`] of a copy; the parts are shared or
    /// small, so this costs what building the record costs
    pub fn to_record(&self) -> AuditRecord {
        match &self.0 {
            Parts::Ready(record) => AuditRecord::clone(record),
            Parts::Decision(d) => d.to_record(),
        }
    }
}

impl From<AuditRecord> for PendingRecord {
    fn from(record: AuditRecord) -> Self {
        Self(Parts::Ready(Box::new(record)))
    }
}

impl Decision {
    /// The record, without touching the answer's reference count (a sink
    /// thread building records then writes nothing a deciding thread reads);
    /// the ids are short strings, copied
    fn to_record(&self) -> AuditRecord {
        let Self {
            answer,
            principal,
            organisation,
            patient,
            holder,
            subject,
            at,
        } = self;
        let (outcome, facts) = (&answer.outcome, &answer.facts);
        let (record, study) = match subject {
            Subject::None => (None, None),
            Subject::Record(r) => (Some(r.clone()), None),
            Subject::Study(s) => (None, Some(s.clone())),
        };
        AuditRecord {
            seq: 0,
            at: *at,
            principal: AuditPrincipal::of(principal, facts.role.clone(), organisation.clone()),
            patient: patient.clone(),
            action: AuditAction::Action(facts.action),
            holder: holder.clone(),
            category: facts.category.clone(),
            categories: None,
            record,
            module: facts.module.clone(),
            purpose: facts.purpose,
            study,
            decision: outcome.decision,
            reasons: outcome.reasons.clone(),
            policies: outcome.policies.clone(),
            policy_version: version_of(&facts.digest),
            checks: facts.checks,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }
}
