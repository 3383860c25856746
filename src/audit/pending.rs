//! The record as the engine hands it over: cheap to build on the deciding
//! thread, turned into an [`AuditRecord`] by the sink.
//!
//! This module depends on the model and on `policy` (for the version string)
//! only: the engine builds a [`Summary`] per remembered answer and a
//! [`Decided`] per decision, and the flow stays one way (engine → audit).

use std::sync::{Arc, OnceLock};

use super::record::{AuditAction, AuditPrincipal, AuditRecord, Checks, PrincipalKind};
use crate::model::ids::{CareModule, Category, OrganisationId, PatientId, RecordId, Role};
use crate::model::names::{Names, Tag, Tags};
use crate::model::request::Outcome;
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose};
use crate::policy::version_of;

/// One decision's audit record, not yet written out
///
/// The engine builds it on the deciding thread: a shared reference to the
/// remembered answer's summary, which also holds every field the answer's
/// memo key determines (role, category, module, purpose, the check flags, the
/// policy-set digest), and where the registry's table of ids (which only
/// grows) has the principal, organisation, patient, holder and record. No id
/// is copied, nothing is allocated or serialised: 48 bytes.
/// A sink turns it into an [`AuditRecord`] with
/// [`PendingRecord::into_record`] when it numbers, hashes or writes it;
/// [`crate::audit::MemorySink`] keeps it pending until its records are read.
#[derive(Clone)]
pub struct PendingRecord(Parts);

#[derive(Clone)]
enum Parts {
    /// A decision of [`crate::Engine::decide`]
    Decided(Decided),
    /// A record built whole (a dashboard's, an unknown id's, or one a host passed in)
    Ready(Box<AuditRecord>),
}

impl std::fmt::Debug for PendingRecord {
    /// The action and the decision, never an id or a category
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (action, decision) = match &self.0 {
            Parts::Decided(d) => (
                AuditAction::Action(d.summary.facts.action),
                d.summary.outcome.decision,
            ),
            Parts::Ready(r) => (r.action, r.decision),
        };
        f.debug_struct("PendingRecord")
            .field("action", &action.as_str())
            .field("decision", &decision)
            .finish_non_exhaustive()
    }
}

/// A remembered answer as the audit layer needs it: the outcome, what the
/// memo key determines of the record, and the table of ids the record's tags
/// point into
///
/// Aligned to a cache line: in an `Arc` the reference counts then sit on a
/// line of their own, so a sink thread dropping pending records does not
/// take the line a deciding thread reads the outcome from.
#[repr(align(64))]
pub(crate) struct Summary {
    pub(crate) outcome: Outcome,
    facts: AuditFacts,
    /// Which checks the decision made: computed by the engine the first time
    /// a decision with this answer is audited (it asks the policies)
    checks: OnceLock<Checks>,
    names: Arc<Names>,
}

impl std::fmt::Debug for Summary {
    /// The action and the decision, never a category
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summary")
            .field("action", &self.facts.action)
            .field("decision", &self.outcome.decision)
            .finish_non_exhaustive()
    }
}

/// What a remembered answer's memo key determines of a decision's record:
/// the same for every decision that shares the answer
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AuditFacts {
    pub(crate) action: ActionKind,
    pub(crate) role: Option<Role>,
    pub(crate) category: Option<Category>,
    pub(crate) module: Option<CareModule>,
    pub(crate) purpose: Option<Purpose>,
    pub(crate) digest: [u8; 32],
}

impl Summary {
    /// A summary of `outcome`, whose records name ids in `names`
    pub(crate) fn new(outcome: Outcome, facts: AuditFacts, names: Arc<Names>) -> Self {
        Self {
            outcome,
            facts,
            checks: OnceLock::new(),
            names,
        }
    }

    /// The check flags, computed by `checks` the first time they are asked for
    pub(crate) fn checks(&self, checks: impl FnOnce() -> Checks) -> Checks {
        *self.checks.get_or_init(checks)
    }
}

/// What one decision's record adds to its answer: where the registry's
/// table of ids has the entities it names, the principal's kind and the time
/// (48 bytes with the answer; the ids are looked up when the record is built)
#[derive(Clone)]
pub(crate) struct Decided {
    pub(crate) summary: Arc<Summary>,
    pub(crate) at: Timestamp,
    pub(crate) tags: Tags,
    pub(crate) principal: PrincipalKind,
}

impl PendingRecord {
    /// A decision's record; its summary's checks must have been computed
    #[inline]
    pub(crate) fn decided(decided: Decided) -> Self {
        Self(Parts::Decided(decided))
    }

    /// The record, with `seq`, `prev_hash` and `hash` left for the sink
    pub fn into_record(self) -> AuditRecord {
        match self.0 {
            Parts::Ready(record) => *record,
            Parts::Decided(d) => d.to_record(),
        }
    }

    /// [`PendingRecord::into_record`] of a copy; the parts are shared or
    /// small, so this costs what building the record costs
    pub fn to_record(&self) -> AuditRecord {
        match &self.0 {
            Parts::Ready(record) => AuditRecord::clone(record),
            Parts::Decided(d) => d.to_record(),
        }
    }
}

impl From<AuditRecord> for PendingRecord {
    fn from(record: AuditRecord) -> Self {
        Self(Parts::Ready(Box::new(record)))
    }
}

impl Decided {
    /// The record, the ids read from the registry's table; the answer's
    /// reference count is not touched (a sink thread building records then
    /// writes nothing a deciding thread reads)
    fn to_record(&self) -> AuditRecord {
        let Self {
            summary,
            at,
            tags,
            principal,
        } = self;
        let (outcome, facts) = (&summary.outcome, &summary.facts);
        // The engine computes the checks before it hands the record over.
        let checks = summary.checks.get().copied().unwrap_or_default();
        summary.names.read(|names| {
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
                requester_category: None,
                data_categories: None,
                statements: None,
                decision: outcome.decision,
                reasons: outcome.reasons.clone(),
                policies: outcome.policies.clone(),
                policy_version: version_of(&facts.digest),
                checks,
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
