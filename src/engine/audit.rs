//! Building audit records from a decision: ids and codes only.

use super::cedar::Outcome;
use super::input::{Fact, Input, PrincipalIn};
use crate::audit::{AuditAction, AuditPrincipal, AuditRecord, Checks, DashboardTag, PrincipalKind};
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
    let (kind, id) = match principal {
        Principal::Practitioner(id) => (PrincipalKind::Practitioner, id.to_string()),
        Principal::Patient(id) => (PrincipalKind::Patient, id.to_string()),
        Principal::Organisation(id) => (PrincipalKind::Organisation, id.to_string()),
    };
    let (role, organisation) = match input.map(|i| i.principal) {
        Some(PrincipalIn::Practitioner {
            role, organisation, ..
        }) => (Some(role.clone()), Some(organisation.clone())),
        _ => (None, None),
    };
    AuditPrincipal {
        kind,
        id,
        role,
        organisation,
    }
}

/// The NEN 7513 flags: which facts the policies were given, and the route
fn checks_of(input: Option<&Input<'_>>) -> Checks {
    let Some(input) = input else {
        return Checks::default();
    };
    let facts = Fact::of(input.action);
    let practitioner = matches!(input.principal, PrincipalIn::Practitioner { .. });
    let has = |f: Fact| facts.contains(&f);
    Checks {
        authorisation: practitioner
            && !matches!(
                input.action,
                ActionKind::RequestAccess | ActionKind::Share | ActionKind::ViewOwn
            ),
        treatment_relationship: practitioner && has(Fact::Relationship),
        consent: has(Fact::DossierConsent)
            || has(Fact::ConsentOtherHolder)
            || has(Fact::PartyConsent)
            || has(Fact::ResearchConsent)
            || has(Fact::Objection)
            || has(Fact::ModuleStorageConsent),
        emergency: input.purpose == Some(Purpose::Emergency),
    }
}

/// The record of one decision
pub(crate) fn decision_record(
    request: &Request,
    input: Option<&Input<'_>>,
    outcome: &Outcome,
    policy_version: &str,
) -> AuditRecord {
    let mut r = AuditRecord {
        seq: 0,
        at: request.at,
        principal: principal_of(&request.principal, input),
        patient: request.patient.clone(),
        action: AuditAction::Action(request.action.kind()),
        holder: None,
        category: None,
        categories: None,
        record: None,
        module: None,
        purpose: None,
        study: None,
        decision: outcome.decision,
        reasons: outcome.reasons.clone(),
        policies: outcome.policies.clone(),
        policy_version: policy_version.to_owned(),
        checks: checks_of(input),
        prev_hash: String::new(),
        hash: String::new(),
    };
    match &request.action {
        Action::View {
            holder,
            category,
            purpose,
        } => {
            r.holder = Some(holder.clone());
            r.category = Some(category.clone());
            r.purpose = Some(*purpose);
        }
        Action::ViewRecord { record, purpose } => {
            r.record = Some(record.clone());
            r.purpose = Some(*purpose);
            if let Some(i) = input {
                r.holder = i.holder.cloned();
                r.category = i.category.cloned();
                r.module = i.module.cloned();
            }
        }
        Action::StartModule { module } | Action::Contribute { module } => {
            r.module = Some(module.clone());
        }
        Action::ChangeConsent { holder } | Action::ViewConsents { holder } => {
            r.holder = Some(holder.clone());
        }
        Action::UsePersonalData { holder, purpose } => {
            r.holder = Some(holder.clone());
            r.purpose = Some(*purpose);
        }
        Action::UseForResearch { purpose, study } => {
            r.purpose = Some(*purpose);
            r.study.clone_from(study);
        }
        Action::ViewOwn {
            holder,
            category,
            record,
        } => {
            r.holder.clone_from(holder);
            r.category.clone_from(category);
            r.record.clone_from(record);
        }
        Action::ViewAccessLog { holder } => r.holder.clone_from(holder),
        Action::RequestAccess | Action::Share => {}
    }
    r
}

/// The record of one holder of a dashboard
pub(crate) fn dashboard_record(
    query: &DashboardQuery,
    input: Option<&Input<'_>>,
    view: &HolderView,
    policies: Vec<String>,
    policy_version: &str,
) -> AuditRecord {
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
}
