//! Building audit records from a decision: ids and codes only.

use std::sync::Arc;

use super::Answer;
use super::cedar::Outcome;
use super::input::{Input, PrincipalIn};
use crate::model::fact::Fact;
use crate::audit::pending::{AuditFacts, Decision};
use crate::audit::{AuditAction, AuditPrincipal, AuditRecord, Checks, DashboardTag, PendingRecord};
use crate::model::request::{
    Action, DashboardQuery, Decision as Verdict, HolderView, Principal, Request, RequestRecord,
};
use crate::model::vocab::{ActionKind, Purpose};
use crate::policy::version_of;

/// Whether decisions of this action are logged (SPEC.md §6: decisions about a patient's data)
pub(crate) const fn audited(action: ActionKind) -> bool {
    matches!(
        action,
        ActionKind::View
            | ActionKind::ViewRecord
            | ActionKind::ViewOwn
            | ActionKind::RequestAccess
            | ActionKind::UsePersonalData
            | ActionKind::UseForResearch
            | ActionKind::ViewAccessLog
    )
}

fn principal_of(principal: &Principal, input: Option<&Input<'_>>) -> AuditPrincipal {
    let (role, organisation) = input
        .and_then(|i| i.principal.role_and_organisation())
        .unzip();
    AuditPrincipal::of(principal, role.cloned(), organisation.cloned())
}

/// The NEN 7513 flags: which facts the policies were given, and the route
fn checks_of(input: Option<&Input<'_>>) -> Checks {
    let Some(input) = input else {
        return Checks::default();
    };
    let practitioner = matches!(input.principal, PrincipalIn::Practitioner { .. });
    let (mut relationship, mut consent) = (false, false);
    for fact in Fact::of(input.action) {
        match fact {
            Fact::Relationship => relationship = true,
            Fact::DossierConsent
            | Fact::ConsentOtherHolder
            | Fact::PartyConsent
            | Fact::ResearchConsent
            | Fact::Objection
            | Fact::ModuleStorageConsent => consent = true,
            _ => {}
        }
    }
    Checks {
        authorisation: practitioner
            && !matches!(
                input.action,
                ActionKind::RequestAccess | ActionKind::Share | ActionKind::ViewOwn
            ),
        treatment_relationship: practitioner && relationship,
        consent,
        emergency: input.purpose == Some(Purpose::Emergency),
    }
}

/// What the memo key of `input` determines of its record
pub(crate) fn facts_of(input: &Input<'_>, digest: [u8; 32]) -> AuditFacts {
    AuditFacts {
        action: input.action,
        role: input
            .principal
            .role_and_organisation()
            .map(|(r, _)| r.clone()),
        category: input.category.cloned(),
        module: input.module.cloned(),
        purpose: input.purpose,
        checks: checks_of(Some(input)),
        digest,
    }
}

/// The record of one decision, pending: the sink materialises it
///
/// The input's holder, category and module are the request's, or for a
/// record asked for by id, where and what it was found to be; its purpose is
/// the request's for the actions that have one. A study (research use) is
/// not in the registry's table of ids: that rare record is built at once.
#[inline]
pub(crate) fn decision_record(
    request: &Request,
    input: &Input<'_>,
    answer: Arc<Answer>,
) -> PendingRecord {
    let decision = PendingRecord::decision(Decision {
        answer,
        at: request.at,
        tags: input.tags,
        principal: AuditPrincipal::kind_of(&request.principal),
    });
    match &request.action {
        Action::UseForResearch {
            study: Some(study), ..
        } => {
            let mut record = decision.into_record();
            record.study = Some(study.clone());
            record.into()
        }
        _ => decision,
    }
}

/// The record of a decision that named an unknown id: the request's fields
/// as its flat wire form names them, built at once (a rare deny)
pub(crate) fn unknown_record(
    request: &Request,
    outcome: &Outcome,
    digest: [u8; 32],
) -> PendingRecord {
    let flat = RequestRecord::from(request.clone());
    AuditRecord {
        seq: 0,
        at: flat.at,
        principal: AuditPrincipal::of(&request.principal, None, None),
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
        policy_version: version_of(&digest),
        checks: Checks::default(),
        prev_hash: String::new(),
        hash: String::new(),
    }
    .into()
}

/// The record of one holder of a dashboard
pub(crate) fn dashboard_record(
    query: &DashboardQuery,
    input: Option<&Input<'_>>,
    view: &HolderView,
    policies: Vec<String>,
    policy_version: &str,
) -> PendingRecord {
    let allowed = !view.visible.is_empty();
    AuditRecord {
        seq: 0,
        at: query.at,
        principal: principal_of(&query.principal, input),
        patient: query.patient.clone(),
        action: AuditAction::Dashboard(DashboardTag::Dashboard),
        holder: Some(view.holder.clone()),
        category: None,
        categories: Some(view.visible.clone()),
        record: None,
        module: None,
        purpose: Some(query.purpose),
        study: None,
        decision: if allowed {
            Verdict::Allow
        } else {
            Verdict::Deny
        },
        reasons: view.reasons.clone(),
        policies,
        policy_version: policy_version.to_owned(),
        checks: checks_of(input),
        prev_hash: String::new(),
        hash: String::new(),
    }
    .into()
}
