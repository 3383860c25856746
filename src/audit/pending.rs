//! The record as the engine hands it over: cheap to build on the deciding
//! thread, turned into an [`AuditRecord`] by the sink.

use std::sync::Arc;

use super::record::{AuditAction, AuditPrincipal, AuditRecord, Checks, PrincipalKind};
use crate::engine::{Answer, Tags};
use crate::model::ids::{CareModule, Category, OrganisationId, PatientId, RecordId, Role};
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose};
use crate::policy::version_of;
use crate::registry::Tag;

/// One decision's audit record, not yet written out
///
/// The engine builds it on the deciding thread: a shared reference to the
/// remembered answer, which also holds every field the answer's memo key
/// determines (role, category, module, purpose, the check flags, the
/// policy-set digest), and where the registry's table of ids (which only
/// grows) has the principal, organisation, patient, holder and record. No id
/// is copied, nothing is allocated or serialised: 40 bytes.
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

/// What one decision's record adds to its answer: where the registry's
/// table of ids has the entities it names, the principal's kind and the time
/// (40 bytes with the answer; the ids are looked up when the record is built)
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) answer: Arc<Answer>,
    pub(crate) at: Timestamp,
    pub(crate) tags: Tags,
    pub(crate) principal: PrincipalKind,
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
    /// The record, the ids read from the registry's table; the answer's
    /// reference count is not touched (a sink thread building records then
    /// writes nothing a deciding thread reads)
    fn to_record(&self) -> AuditRecord {
        let Self {
            answer,
            at,
            tags,
            principal,
        } = self;
        let (outcome, facts) = (&answer.outcome, &answer.facts);
        answer.names.read(|names| {
            let org = |t: Tag| OrganisationId::from_registered(names.get(t));
            AuditRecord {
                seq: 0,
                at: *at,
                principal: AuditPrincipal {
                    kind: *principal,
                    id: names.get(tags.principal).to_string(),
                    role: facts.role.clone(),
                    organisation: tags.organisation.map(org),
                },
                patient: PatientId::from_registered(names.get(tags.patient)),
                action: AuditAction::Action(facts.action),
                holder: tags.holder.map(org),
                category: facts.category.clone(),
                categories: None,
                record: tags.record.map(|t| RecordId::from_registered(names.get(t))),
                module: facts.module.clone(),
                purpose: facts.purpose,
                study: None,
                decision: outcome.decision,
                reasons: outcome.reasons.clone(),
                policies: outcome.policies.clone(),
                policy_version: version_of(&facts.digest),
                checks: facts.checks,
                prev_hash: String::new(),
                hash: String::new(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_record_fits_in_a_cache_line() {
        // What a deciding thread writes per decision into a memory sink
        assert!(
            std::mem::size_of::<PendingRecord>() <= 48,
            "{} bytes",
            std::mem::size_of::<PendingRecord>()
        );
    }
}
