//! Building audit records from a decision: ids and codes only.

use std::sync::Arc;

use super::cedar::Outcome;
use super::input::{Fact, Input, PrincipalIn};
use crate::audit::pending::Found;
use crate::audit::{AuditAction, AuditPrincipal, AuditRecord, Checks, DashboardTag, PendingRecord};
use crate::model::request::{Action, DashboardQuery, Decision, HolderView, Principal, Request};
use crate::model::vocab::{ActionKind, Purpose};

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
    match input.map(|i| i.principal) {
        Some(PrincipalIn::Practitioner {
            role, organisation, ..
        }) => AuditPrincipal::of(principal, Some(role.clone()), Some(organisation.clone())),
        _ => AuditPrincipal::of(principal, None, None),
    }
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

/// The record of one decision, pending: the sink materialises it
#[inline]
pub(crate) fn decision_record(
    request: &Request,
    input: Option<&Input<'_>>,
    outcome: &Arc<Outcome>,
    policy_digest: [u8; 32],
) -> PendingRecord {
    let practitioner = match input.map(|i| i.principal) {
        Some(PrincipalIn::Practitioner {
            role, organisation, ..
        }) => Some((role.clone(), organisation.clone())),
        _ => None,
    };
    let found = match (&request.action, input) {
        (Action::ViewRecord { .. }, Some(i)) => Some(Found {
            holder: i.holder.cloned(),
            category: i.category.cloned(),
            module: i.module.cloned(),
        }),
        _ => None,
    };
    PendingRecord::decision(
        request,
        practitioner,
        found,
        Arc::clone(outcome),
        policy_digest,
        checks_of(input),
    )
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
            Decision::Allow
        } else {
            Decision::Deny
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
