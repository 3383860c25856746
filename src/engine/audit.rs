//! Building audit records from a decision: ids and codes only.

use std::sync::Arc;

use super::input::{Built, Input, PrincipalIn};
use crate::audit::{
    AuditAction, AuditFacts, AuditPrincipal, AuditRecord, Checks, DashboardTag, Decided,
    PendingRecord, Summary,
};
use crate::model::fact::Fact;
use crate::model::request::{
    Action, DashboardQuery, Decision, HolderView, Outcome, Principal, Request, RequestRecord,
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

/// Whether a fact is a consent (or an objection) the patient gave
const fn is_consent(fact: Fact) -> bool {
    matches!(
        fact,
        Fact::DossierConsent
            | Fact::UnplannedCareConsent
            | Fact::ConsentOtherHolder
            | Fact::PgoTransferConsent
            | Fact::ModuleStorageConsent
            | Fact::PartyConsent
            | Fact::Objection
            | Fact::ResearchConsent
    )
}

/// The NEN 7513 flags: which checks the deciding policies made
///
/// A relationship or consent check was made when the outcome depends on the
/// fact: with the fact the other way round, the policies answer differently.
/// The emergency route was used when the purpose is `emergency` and the
/// policies would answer a `treatment` request differently. So a huisarts's
/// view of her own organisation's dossier, which no consent and no purpose
/// decides, logs neither a consent check nor the emergency route, while a
/// view of another holder's data logs the consent its permit needed. The
/// authorisation (role) check is made for every practitioner request that
/// the role matrix governs. `differs` tells whether the policies answer an
/// alternative input differently (the engine asks its compiled tables).
pub(crate) fn checks_of(input: &Input<'_>, differs: &dyn Fn(&Input<'_>) -> bool) -> Checks {
    let practitioner = matches!(input.principal, PrincipalIn::Practitioner { .. });
    let depends_on = |fact: Fact| {
        let mut alt = input.clone();
        alt.facts.set(fact, !input.facts.get(fact));
        differs(&alt)
    };
    let facts = Fact::of(input.action);
    let emergency = input.purpose == Some(Purpose::Emergency) && {
        let mut alt = input.clone();
        alt.purpose = Some(Purpose::Treatment);
        differs(&alt)
    };
    Checks {
        authorisation: practitioner
            && !matches!(
                input.action,
                ActionKind::RequestAccess | ActionKind::Share | ActionKind::ViewOwn
            ),
        treatment_relationship: practitioner
            && facts.contains(&Fact::Relationship)
            && depends_on(Fact::Relationship),
        consent: facts.iter().any(|&f| is_consent(f) && depends_on(f)),
        emergency,
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
    built: &Built<'_>,
    summary: Arc<Summary>,
) -> PendingRecord {
    let decided = PendingRecord::decided(Decided {
        summary,
        at: request.at,
        tags: built.tags,
        principal: AuditPrincipal::kind_of(&request.principal),
    });
    match &request.action {
        Action::UseForResearch {
            study: Some(study), ..
        } => {
            let mut record = decided.into_record();
            record.study = Some(study.clone());
            record.into()
        }
        _ => decided,
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
        requester_category: None,
        data_categories: None,
        statements: None,
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

/// The record of one holder of a dashboard; `checks` are those of its
/// category decisions together
pub(crate) fn dashboard_record(
    query: &DashboardQuery,
    input: Option<&Input<'_>>,
    view: &HolderView,
    policies: Vec<String>,
    policy_version: &str,
    checks: Checks,
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
        requester_category: None,
        data_categories: None,
        statements: None,
        decision: if allowed {
            Decision::Allow
        } else {
            Decision::Deny
        },
        reasons: view.reasons.clone(),
        policies,
        policy_version: policy_version.to_owned(),
        checks,
        prev_hash: String::new(),
        hash: String::new(),
    }
    .into()
}

/// The flags of two decisions together: a check either made
pub(crate) fn either(a: Checks, b: Checks) -> Checks {
    Checks {
        authorisation: a.authorisation || b.authorisation,
        treatment_relationship: a.treatment_relationship || b.treatment_relationship,
        consent: a.consent || b.consent,
        emergency: a.emergency || b.emergency,
    }
}
