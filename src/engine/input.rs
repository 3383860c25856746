//! From a request and the registry to the abstract Cedar input: the
//! principal's role, tasks and organisation, the request's own fields and the
//! Boolean facts the schema declares for the action. This is all a policy can
//! read (the schema is the boundary), so it is also the memo key's source.

use crate::model::ids::{
    CareModule, Category, OrganisationId, PatientId, PractitionerId, Role, Task,
};
use crate::model::request::{Action, Principal, Request};
use crate::model::time::Timestamp;
use crate::model::fact::{Fact, Facts};
use crate::model::vocab::{ActionKind, Purpose, Source, Vocabulary};
use crate::registry::{FactKey, Idx, PatientFacts, Registry, Tag};

/// The principal as Cedar sees it
#[derive(Debug, Clone, Copy)]
pub(crate) enum PrincipalIn<'r> {
    Practitioner {
        id: &'r PractitionerId,
        role: &'r Role,
        tasks: &'r [Task],
        organisation: &'r OrganisationId,
    },
    Patient(&'r PatientId),
    Organisation(&'r OrganisationId),
}

impl<'r> PrincipalIn<'r> {
    /// A practitioner's role and organisation
    pub(crate) fn role_and_organisation(self) -> Option<(&'r Role, &'r OrganisationId)> {
        match self {
            PrincipalIn::Practitioner {
                role, organisation, ..
            } => Some((role, organisation)),
            PrincipalIn::Patient(_) | PrincipalIn::Organisation(_) => None,
        }
    }
}

/// Everything a policy may read for one request
#[derive(Debug, Clone)]
pub(crate) struct Input<'r> {
    pub(crate) action: ActionKind,
    pub(crate) principal: PrincipalIn<'r>,
    pub(crate) patient: &'r PatientId,
    /// When; not seen by policies (time reaches them only through facts)
    pub(crate) at: Timestamp,
    pub(crate) mfa: bool,
    pub(crate) purpose: Option<Purpose>,
    pub(crate) source: Option<Source>,
    pub(crate) category: Option<&'r Category>,
    pub(crate) holder: Option<&'r OrganisationId>,
    pub(crate) module: Option<&'r CareModule>,
    pub(crate) facts: Facts,
    /// Where the registry's table of ids has the entities named, for the audit record
    pub(crate) tags: Tags,
}

/// The places in the registry's table of ids of the entities a decision's
/// audit record names
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tags {
    pub(crate) principal: Tag,
    /// A practitioner's organisation
    pub(crate) organisation: Option<Tag>,
    pub(crate) patient: Tag,
    /// The holder asked about, or where the record asked for was found
    pub(crate) holder: Option<Tag>,
    pub(crate) record: Option<Tag>,
}

/// The request names something the registry or the vocabulary does not know (R2)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unknown;

/// Who the principal is, resolved against the registry
struct Who<'r> {
    principal: PrincipalIn<'r>,
    /// The practitioner and their organisation, for facts about them
    practitioner: Option<(Idx, Idx)>,
    /// The principal's place in the table of ids, and a practitioner's organisation's
    tags: (Tag, Option<Tag>),
}

fn resolve_principal<'r>(
    registry: &'r Registry,
    vocabulary: &Vocabulary,
    principal: &'r Principal,
) -> Result<Who<'r>, Unknown> {
    match principal {
        Principal::Practitioner(id) => {
            let state = registry.practitioners.get(id).ok_or(Unknown)?;
            let idx = state.idx;
            let p = &state.entity;
            // A role or task the (reloaded) vocabulary no longer knows is unknown too.
            if !vocabulary.has_role(&p.role) || !p.tasks.iter().all(|t| vocabulary.has_task(t)) {
                return Err(Unknown);
            }
            Ok(Who {
                principal: PrincipalIn::Practitioner {
                    id,
                    role: &p.role,
                    tasks: &p.tasks,
                    organisation: &p.organisation,
                },
                practitioner: Some((idx, state.organisation)),
                tags: (state.tag, registry.organisation_tag(state.organisation)),
            })
        }
        Principal::Patient(id) => {
            let state = registry.patients.get(id).ok_or(Unknown)?;
            Ok(Who {
                principal: PrincipalIn::Patient(id),
                practitioner: None,
                tags: (state.tag, None),
            })
        }
        Principal::Organisation(id) => {
            let idx = registry.organisations.get(id).ok_or(Unknown)?;
            Ok(Who {
                principal: PrincipalIn::Organisation(id),
                practitioner: None,
                tags: (registry.organisation_tag(idx).ok_or(Unknown)?, None),
            })
        }
    }
}

/// The principal's organisation, for organisation principals the organisation itself
fn principal_org(registry: &Registry, who: &Who<'_>) -> Option<Idx> {
    match (who.practitioner, who.principal) {
        (Some((_, o)), _) => Some(o),
        (None, PrincipalIn::Organisation(id)) => registry.organisations.get(id),
        _ => None,
    }
}

/// The facts about dossier data of `holder` in `category` for a practitioner
fn data_facts(
    facts: &mut Facts,
    f: &PatientFacts<'_>,
    who: &Who<'_>,
    holder: Option<Idx>,
    category: impl FnOnce() -> Option<Idx>,
) {
    let Some((p, o)) = who.practitioner else {
        return;
    };
    facts.set(Fact::Relationship, f.active(FactKey::Relationship(o)));
    facts.set(Fact::AccessRequested, f.requested(p, o));
    if let Some(h) = holder {
        facts.set(Fact::DossierConsent, f.active(FactKey::DossierConsent(h)));
        facts.set(
            Fact::Referral,
            f.exists(FactKey::Referral { from: h, to: o }),
        );
        facts.set(
            Fact::ReferralObjection,
            f.any_referral_objection() && f.referral_objection(h, category()),
        );
        facts.set(
            Fact::UnplannedCareConsent,
            f.active(FactKey::UnplannedCareConsent(h)),
        );
    }
}

/// Builds the abstract input for a request, or [`Unknown`] (R2)
pub(crate) fn build<'r>(
    registry: &'r Registry,
    vocabulary: &Vocabulary,
    request: &'r Request,
) -> Result<Input<'r>, Unknown> {
    let who = resolve_principal(registry, vocabulary, &request.principal)?;
    let patient = registry.patients.get(&request.patient).ok_or(Unknown)?;
    let at = request.at;
    let f = Registry::facts(&patient.entries, at);
    let org = |id: &OrganisationId| registry.organisations.get(id).ok_or(Unknown);
    let org_tag = |idx: Idx| registry.organisation_tag(idx);
    let category_ok = |c: &Category| {
        if vocabulary.has_category(c) {
            Ok(())
        } else {
            Err(Unknown)
        }
    };
    let module_ok = |m: &CareModule| {
        if vocabulary.has_module(m) {
            Ok(())
        } else {
            Err(Unknown)
        }
    };
    let mut input = Input {
        action: request.action.kind(),
        principal: who.principal,
        patient: &request.patient,
        at,
        mfa: request.mfa,
        purpose: None,
        source: None,
        category: None,
        holder: None,
        module: None,
        facts: Facts::default(),
        tags: Tags {
            principal: who.tags.0,
            organisation: who.tags.1,
            patient: patient.tag,
            holder: None,
            record: None,
        },
    };
    match &request.action {
        Action::View {
            holder,
            category,
            purpose,
        } => {
            let h = org(holder)?;
            category_ok(category)?;
            input.purpose = Some(*purpose);
            input.source = Some(Source::Dossier);
            input.category = Some(category);
            input.holder = Some(holder);
            input.tags.holder = org_tag(h);
            data_facts(&mut input.facts, &f, &who, Some(h), || {
                registry.categories.get(category)
            });
        }
        Action::ViewRecord { record, purpose } => {
            let state = registry.records.get(record).ok_or(Unknown)?;
            if state.patient != request.patient || state.added_at > at.unix_nanos() {
                return Err(Unknown);
            }
            category_ok(&state.category)?;
            input.purpose = Some(*purpose);
            input.source = Some(state.source);
            input.category = Some(&state.category);
            input.holder = state.holder.and_then(|h| registry.organisations.value(h));
            input.tags.holder = state.holder.and_then(org_tag);
            input.tags.record = Some(state.tag);
            input.module = state.module.and_then(|m| registry.modules.value(m));
            if let Some(m) = input.module {
                module_ok(m)?;
            }
            data_facts(&mut input.facts, &f, &who, state.holder, || {
                registry.categories.get(&state.category)
            });
            if let (Some((p, _)), Some(m)) = (who.practitioner, state.module) {
                input.facts.set(
                    Fact::OwnershipAccepted,
                    f.exists(FactKey::Ownership {
                        practitioner: p,
                        module: m,
                    }),
                );
            }
            record_facts(&mut input.facts, registry, state, at);
        }
        Action::RequestAccess => {
            if let Some((_, o)) = who.practitioner {
                input
                    .facts
                    .set(Fact::Relationship, f.active(FactKey::Relationship(o)));
                input
                    .facts
                    .set(Fact::ConsentOtherHolder, f.consent_other_holder(o));
            }
        }
        Action::Share => {
            if let Some((_, o)) = who.practitioner {
                input
                    .facts
                    .set(Fact::DossierConsent, f.active(FactKey::DossierConsent(o)));
            }
        }
        Action::StartModule { module } | Action::Contribute { module } => {
            module_ok(module)?;
            input.module = Some(module);
            if let Some((p, o)) = who.practitioner {
                input
                    .facts
                    .set(Fact::Relationship, f.active(FactKey::Relationship(o)));
                input
                    .facts
                    .set(Fact::PgoAccount, f.active(FactKey::PgoAccount));
                input.facts.set(
                    Fact::PgoTransferConsent,
                    f.active(FactKey::PgoTransferConsent),
                );
                if let Some(m) = registry.modules.get(module) {
                    input
                        .facts
                        .set(Fact::ModuleStarted, f.exists(FactKey::ModuleStarted(m)));
                    input.facts.set(
                        Fact::ModuleStorageConsent,
                        f.active(FactKey::ModuleStorageConsent(m)),
                    );
                    input.facts.set(
                        Fact::OwnershipAccepted,
                        f.exists(FactKey::Ownership {
                            practitioner: p,
                            module: m,
                        }),
                    );
                }
            }
        }
        Action::ChangeConsent { holder } | Action::ViewConsents { holder } => {
            let h = org(holder)?;
            input.holder = Some(holder);
            input.tags.holder = org_tag(h);
        }
        Action::UsePersonalData { holder, purpose } => {
            let h = org(holder)?;
            input.holder = Some(holder);
            input.tags.holder = org_tag(h);
            input.purpose = Some(*purpose);
            if let (PrincipalIn::Organisation(_), Some(q)) =
                (who.principal, principal_org(registry, &who))
            {
                input.facts.set(
                    Fact::PartyConsent,
                    f.active(FactKey::PartyConsent {
                        holder: h,
                        party: q,
                        purpose: *purpose,
                    }),
                );
            }
        }
        Action::UseForResearch { purpose, study } => {
            input.purpose = Some(*purpose);
            input
                .facts
                .set(Fact::Objection, f.active(FactKey::Objection(*purpose)));
            let consent = study
                .as_ref()
                .and_then(|s| registry.study(s))
                .is_some_and(|s| f.active(FactKey::ResearchConsent(s)));
            input.facts.set(Fact::ResearchConsent, consent);
        }
        Action::ViewOwn {
            holder,
            category,
            record,
        } => {
            if let Some(h) = holder {
                input.tags.holder = org_tag(org(h)?);
                input.holder = Some(h);
            }
            if let Some(c) = category {
                category_ok(c)?;
                input.category = Some(c);
            }
            if let Some(r) = record {
                let state = registry.records.get(r).ok_or(Unknown)?;
                if state.patient != request.patient || state.added_at > at.unix_nanos() {
                    return Err(Unknown);
                }
                input.tags.record = Some(state.tag);
                record_facts(&mut input.facts, registry, state, at);
            }
        }
        Action::ViewAccessLog { holder } => {
            if let Some(h) = holder {
                input.tags.holder = org_tag(org(h)?);
                input.holder = Some(h);
            }
        }
    }
    Ok(input)
}

/// Turns a `view` input into the same view of another category: only the
/// category and the referral-objection fact depend on it
pub(crate) fn with_category<'r>(
    input: &mut Input<'r>,
    registry: &Registry,
    category: &'r Category,
) {
    input.category = Some(category);
    if let (PrincipalIn::Practitioner { .. }, Some(holder)) = (input.principal, input.holder) {
        let objection = match (
            registry.patients.get(input.patient),
            registry.organisations.get(holder),
        ) {
            (Some(x), Some(h)) => {
                let f = Registry::facts(&x.entries, input.at);
                f.any_referral_objection()
                    && f.referral_objection(h, registry.categories.get(category))
            }
            _ => false,
        };
        input.facts.set(Fact::ReferralObjection, objection);
    }
}

fn record_facts(
    facts: &mut Facts,
    registry: &Registry,
    state: &crate::registry::RecordState,
    at: Timestamp,
) {
    facts.set(
        Fact::RecordFlagged,
        state.flagged_at.is_some_and(|f| f <= at.unix_nanos()),
    );
    facts.set(Fact::RecordDeleted, registry.record_deleted(state, at));
}

impl Input<'_> {
    /// The input as JSON: what the policies see, for explanations and for
    /// feeding other engines the same facts
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut context = serde_json::Map::new();
        context.insert("mfa".into(), self.mfa.into());
        if let Some(p) = self.purpose {
            context.insert("purpose".into(), p.as_str().into());
        }
        if let Some(s) = self.source {
            context.insert("source".into(), s.as_str().into());
        }
        if let Some(c) = self.category {
            context.insert("category".into(), c.as_str().into());
        }
        if let Some(h) = self.holder {
            context.insert("holder".into(), h.as_str().into());
        }
        if let Some(m) = self.module {
            context.insert("module".into(), m.as_str().into());
        }
        for fact in Fact::of(self.action) {
            context.insert(fact.name().into(), self.facts.get(*fact).into());
        }
        let principal = match self.principal {
            PrincipalIn::Practitioner {
                id,
                role,
                tasks,
                organisation,
            } => serde_json::json!({
                "type": "Practitioner",
                "id": id.as_str(),
                "role": role.as_str(),
                "tasks": tasks.iter().map(Task::as_str).collect::<Vec<_>>(),
                "organisation": organisation.as_str(),
            }),
            PrincipalIn::Patient(id) => serde_json::json!({ "type": "Patient", "id": id.as_str() }),
            PrincipalIn::Organisation(id) => {
                serde_json::json!({ "type": "Organisation", "id": id.as_str() })
            }
        };
        serde_json::json!({
            "principal": principal,
            "action": self.action.as_str(),
            "patient": self.patient.as_str(),
            "context": context,
        })
    }
}
