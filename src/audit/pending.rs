//! The record as the engine hands it over: cheap to build on the deciding
//! thread, turned into an [`AuditRecord`] by the sink.

use std::sync::Arc;

use super::record::{AuditAction, AuditPrincipal, AuditRecord, Checks};
use crate::engine::Outcome;
use crate::model::ids::{CareModule, Category, OrganisationId, Role};
use crate::model::request::{Request, RequestRecord};
use crate::policy::version_of;

/// One decision's audit record, not yet written out
///
/// The engine builds it on the deciding thread from shared parts: the
/// request, the remembered answer and the policy-set version are reference
/// counted or copied inline, nothing is serialised. A sink turns it into an
/// [`AuditRecord`] with [`PendingRecord::into_record`] when it numbers,
/// hashes or writes it; [`crate::audit::MemorySink`] keeps it pending until
/// its records are read.
#[derive(Debug, Clone)]
pub struct PendingRecord(Parts);

#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "decisions are the common case, kept inline so recording one allocates nothing"
)]
enum Parts {
    /// A decision of [`crate::Engine::decide`]
    Decision(Decision),
    /// A record built whole (a dashboard's, or one a host passed in)
    Ready(Box<AuditRecord>),
}

/// What a decision's record is made of
#[derive(Debug, Clone)]
struct Decision {
    request: Request,
    role: Option<Role>,
    organisation: Option<OrganisationId>,
    /// For `view_record` only: what the record was found to be
    found: Option<Box<Found>>,
    outcome: Arc<Outcome>,
    /// The digest of the policy set's content hash
    policy_version: [u8; 32],
    checks: Checks,
}

/// The holder, category and module of a record asked for by id
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    pub(crate) holder: Option<OrganisationId>,
    pub(crate) category: Option<Category>,
    pub(crate) module: Option<CareModule>,
}

impl PendingRecord {
    /// A decision's record from its parts
    #[inline]
    pub(crate) fn decision(
        request: &Request,
        practitioner: Option<(Role, OrganisationId)>,
        found: Option<Found>,
        outcome: Arc<Outcome>,
        policy_version: [u8; 32],
        checks: Checks,
    ) -> Self {
        let (role, organisation) = practitioner.unzip();
        Self(Parts::Decision(Decision {
            request: request.clone(),
            role,
            organisation,
            found: found.map(Box::new),
            outcome,
            policy_version,
            checks,
        }))
    }

    /// The record, with `seq`, `prev_hash` and `hash` left for the sink
    pub fn into_record(self) -> AuditRecord {
        match self.0 {
            Parts::Ready(record) => *record,
            Parts::Decision(d) => d.into_record(),
        }
    }

    /// [`PendingRecord::into_record`] of a copy; the parts are shared or
    /// small, so this costs what building the record costs
    pub fn to_record(&self) -> AuditRecord {
        match &self.0 {
            Parts::Ready(record) => AuditRecord::clone(record),
            Parts::Decision(d) => d.clone().into_record(),
        }
    }
}

impl From<AuditRecord> for PendingRecord {
    fn from(record: AuditRecord) -> Self {
        Self(Parts::Ready(Box::new(record)))
    }
}

impl Decision {
    fn into_record(self) -> AuditRecord {
        let Self {
            request,
            role,
            organisation,
            found,
            outcome,
            policy_version,
            checks,
        } = self;
        let principal = AuditPrincipal::of(&request.principal, role, organisation);
        // The action's fields as the flat wire form names them; a record
        // asked for by id (`found`) adds what it was found to be.
        let flat = RequestRecord::from(request);
        let mut r = AuditRecord {
            seq: 0,
            at: flat.at,
            principal,
            patient: flat.patient,
            action: AuditAction::Action(flat.action),
            holder: flat.holder,
            category: flat.category,
            categories: None,
            record: flat.record,
            module: flat.module,
            purpose: flat.purpose,
            study: flat.study,
            decision: outcome.decision,
            reasons: outcome.reasons.clone(),
            policies: outcome.policies.clone(),
            policy_version: version_of(&policy_version),
            checks,
            prev_hash: String::new(),
            hash: String::new(),
        };
        if let Some(found) = found {
            r.holder = found.holder;
            r.category = found.category;
            r.module = found.module;
        }
        r
    }
}
