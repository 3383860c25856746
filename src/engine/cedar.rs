//! The abstract input as a Cedar request, evaluated against a policy set,
//! and Cedar's answer as an [`Outcome`].

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, RestrictedExpression,
};

use super::input::{Input, PrincipalIn};
use crate::model::fact::Fact;
use crate::model::request::{Decision, Outcome};
use crate::model::vocab::Reason;
use crate::policy::Policies;

fn uid(ty: &str, id: &str) -> Result<EntityUid, ()> {
    let ty = EntityTypeName::from_str(ty).map_err(|_| ())?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

fn entity_ref(ty: &str, id: &str) -> Result<RestrictedExpression, ()> {
    Ok(RestrictedExpression::new_entity_uid(uid(ty, id)?))
}

/// Builds the Cedar request and entities for an input
pub(crate) fn to_cedar(
    policies: &Policies,
    input: &Input<'_>,
) -> Result<(cedar_policy::Request, Entities), ()> {
    let mut entities = Vec::with_capacity(2);
    let principal = match input.principal {
        PrincipalIn::Practitioner {
            id,
            role,
            tasks,
            organisation,
        } => {
            let me = uid("Practitioner", id.as_str())?;
            let mut attrs = HashMap::with_capacity(3);
            attrs.insert("role".to_owned(), entity_ref("Role", role.as_str())?);
            let tasks: Result<Vec<_>, ()> = tasks
                .iter()
                .map(|t| entity_ref("Task", t.as_str()))
                .collect();
            attrs.insert("tasks".to_owned(), RestrictedExpression::new_set(tasks?));
            attrs.insert(
                "organisation".to_owned(),
                entity_ref("Organisation", organisation.as_str())?,
            );
            entities.push(Entity::new(me.clone(), attrs, HashSet::new()).map_err(|_| ())?);
            me
        }
        PrincipalIn::Patient(id) => uid("Patient", id.as_str())?,
        PrincipalIn::Organisation(id) => uid("Organisation", id.as_str())?,
    };
    let resource = uid("Patient", input.patient.as_str())?;
    entities.push(Entity::new_no_attrs(resource.clone(), HashSet::new()));
    if let PrincipalIn::Organisation(id) = input.principal {
        entities.push(Entity::new_no_attrs(
            uid("Organisation", id.as_str())?,
            HashSet::new(),
        ));
    }
    if principal == resource {
        entities.truncate(1);
    }
    let mut ctx: Vec<(String, RestrictedExpression)> = Vec::with_capacity(16);
    ctx.push(("mfa".into(), RestrictedExpression::new_bool(input.mfa)));
    if let Some(p) = input.purpose {
        ctx.push(("purpose".into(), entity_ref("Purpose", p.as_str())?));
    }
    if let Some(s) = input.source {
        ctx.push(("source".into(), entity_ref("Source", s.as_str())?));
    }
    if let Some(c) = input.category {
        ctx.push(("category".into(), entity_ref("Category", c.as_str())?));
    }
    if let Some(h) = input.holder {
        ctx.push(("holder".into(), entity_ref("Organisation", h.as_str())?));
    }
    if let Some(m) = input.module {
        ctx.push(("module".into(), entity_ref("CareModule", m.as_str())?));
    }
    for fact in Fact::of(input.action) {
        ctx.push((
            fact.name().into(),
            RestrictedExpression::new_bool(input.facts.get(*fact)),
        ));
    }
    let action = uid("Action", input.action.as_str())?;
    let context = Context::from_pairs(ctx).map_err(|_| ())?;
    let schema = Some(&policies.schema);
    let request =
        cedar_policy::Request::new(principal, action, resource, context, schema).map_err(|_| ())?;
    let entities = Entities::from_entities(entities, schema).map_err(|_| ())?;
    Ok((request, entities))
}

/// Evaluates an input against `set` (all policies, or one action's bucket)
pub(crate) fn evaluate(policies: &Policies, set: &PolicySet, input: &Input<'_>) -> Outcome {
    let Ok((request, entities)) = to_cedar(policies, input) else {
        // The input does not fit the schema: fail closed.
        return Outcome::deny(Reason::EvaluationError);
    };
    let answer = Authorizer::new().is_authorized(&request, set, &entities);
    let diagnostics = answer.diagnostics();
    let mut policy_ids: Vec<String> = diagnostics.reason().map(ToString::to_string).collect();
    let erroring: Vec<String> = diagnostics
        .errors()
        .map(|e| match e {
            cedar_policy::AuthorizationError::PolicyEvaluationError(e) => e.policy_id().to_string(),
        })
        .collect();
    let allowed = answer.decision() == cedar_policy::Decision::Allow;
    let mut reasons: Vec<Reason> = Vec::new();
    let decision = if erroring.is_empty() && allowed {
        Decision::Allow
    } else {
        if allowed {
            // The permits that applied do not determine a deny.
            policy_ids.clear();
        } else {
            // The forbids that fired: their `@reason` codes.
            reasons.extend(policy_ids.iter().filter_map(|id| policies.reason_of(id)));
        }
        if !erroring.is_empty() {
            // R3: Cedar skips a policy that errors, which could let a permit win. Fail closed.
            reasons.push(Reason::EvaluationError);
            policy_ids.extend(erroring);
        }
        if reasons.is_empty() {
            reasons.push(Reason::NotPermitted);
        }
        Decision::Deny
    };
    reasons.sort_unstable();
    reasons.dedup();
    policy_ids.sort_unstable();
    policy_ids.dedup();
    Outcome {
        decision,
        reasons,
        policies: policy_ids,
    }
}

/// What one policy made of an input
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its scope and conditions held: a permit granted, a forbid denied
    Fired,
    /// Its scope matched, a condition did not hold
    NotSatisfied,
    /// Its principal or resource scope does not cover the request
    OutOfScope,
    /// Evaluating it failed (the decision is then a deny, R3)
    Error,
}

/// Every policy of `set` evaluated on its own against an input, in the set's
/// id order; `None` when the input does not fit the schema
pub(crate) fn verdicts(
    policies: &Policies,
    set: &PolicySet,
    input: &Input<'_>,
) -> Option<Vec<(String, Verdict)>> {
    let (request, _) = to_cedar(policies, input).ok()?;
    let mut out = Vec::new();
    for policy in set.policies() {
        let id = policy.id().to_string();
        let verdict = if in_scope(policy, &request) {
            match policy_value(policies, &id, input).ok()? {
                Satisfaction::Satisfied => Verdict::Fired,
                Satisfaction::NotSatisfied => Verdict::NotSatisfied,
                Satisfaction::Error => Verdict::Error,
            }
        } else {
            Verdict::OutOfScope
        };
        out.push((id, verdict));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

/// Whether a policy's principal and resource scope match the request. Our
/// entities have no parents, so `in` is equality (as the memo argues).
fn in_scope(policy: &cedar_policy::Policy, request: &cedar_policy::Request) -> bool {
    use cedar_policy::{PrincipalConstraint as P, ResourceConstraint as R};
    let (Some(principal), Some(resource)) = (request.principal(), request.resource()) else {
        return false;
    };
    let principal_ok = match policy.principal_constraint() {
        P::Any => true,
        P::Is(ty) => principal.type_name() == &ty,
        P::Eq(uid) | P::In(uid) => principal == &uid,
        P::IsIn(ty, uid) => principal.type_name() == &ty && principal == &uid,
    };
    let resource_ok = match policy.resource_constraint() {
        R::Any => true,
        R::Is(ty) => resource.type_name() == &ty,
        R::Eq(uid) | R::In(uid) => resource == &uid,
        R::IsIn(ty, uid) => resource.type_name() == &ty && resource == &uid,
    };
    principal_ok && resource_ok
}

/// One policy's own value at an input, as Cedar evaluates it
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Satisfaction {
    /// Scope and conditions hold
    Satisfied,
    /// They do not
    NotSatisfied,
    /// Evaluating it failed (Cedar skips such a policy; the engine denies)
    Error,
}

/// The input does not fit the schema, or names no policy of the set
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unfit;

/// Evaluates the one policy `id` of `policies` at `input`, alone in a set
/// (Cedar evaluates every policy of a set on its own, so its value alone is
/// its value in any set)
pub(crate) fn policy_value(
    policies: &Policies,
    id: &str,
    input: &Input<'_>,
) -> Result<Satisfaction, Unfit> {
    let policy = policies.set.policy(&PolicyId::new(id)).ok_or(Unfit)?;
    let mut set = PolicySet::new();
    set.add(policy.clone()).map_err(|_| Unfit)?;
    let (request, entities) = to_cedar(policies, input).map_err(|()| Unfit)?;
    let answer = Authorizer::new().is_authorized(&request, &set, &entities);
    let diagnostics = answer.diagnostics();
    if diagnostics.errors().next().is_some() {
        Ok(Satisfaction::Error)
    } else if diagnostics.reason().next().is_some() {
        Ok(Satisfaction::Satisfied)
    } else {
        Ok(Satisfaction::NotSatisfied)
    }
}
