//! Least privilege at load (RULES.md §L, R52): a policy set in which a permit
//! can grant an action that lacks a `forbid` for a reason code the rules list
//! for that action is refused.
//!
//! Cedar denies when a forbid fires, so every restriction of the rules is a
//! forbid, and a permit alone grants everything its scope names. Deleting or
//! misplacing a forbid would therefore *widen* access, silently. This check
//! turns that into a load error: per action, [`listed`] is the table of the
//! reason codes that RULES.md §A–§H lists and that forbids carry; every
//! permit whose scope can grant the action needs, for each listed code, a
//! forbid carrying that code whose scope covers the permit's (see
//! [`covers`]). The check reads scopes and annotations only, never
//! conditions: it proves that the restricting policies are *there*, not that
//! they are *right* — the scenario suite does that.
//!
//! Three codes are the engine's own and are carried by no forbid:
//! `unknown_entity` (R2, decided before Cedar: an unknown id cannot be a
//! Cedar entity), `evaluation_error` (R3, any Cedar error) and
//! `not_permitted` (no permit applied: R20's PGO records for practitioners,
//! R28's other purposes).

use cedar_policy::{
    ActionConstraint, Effect, EntityTypeName, EntityUid, Policy, PrincipalConstraint,
    ResourceConstraint, Schema,
};

use super::ActionScope;
use super::load::Loaded;
use super::policy_load_errors::{LeastPrivilegeError, LeastPrivilegeErrors};
use crate::model::vocab::{ActionKind, Reason};

/// The principal types the engine sends, in case the schema does not say
/// (the contract check refuses such a schema first)
const PRINCIPALS: [&str; 3] = ["Practitioner", "Patient", "Organisation"];

/// The codes no forbid carries: the engine gives them itself (see the module docs)
#[cfg(test)]
const ENGINE_MADE: [Reason; 4] = [
    Reason::StaleFacts,
    Reason::UnknownEntity,
    Reason::EvaluationError,
    Reason::NotPermitted,
];

/// Which principal types a listed code applies to
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// Every principal type the permit can grant the action to
    Everyone,
    /// Every principal type but this one, which the rules exempt
    Except(&'static str),
}

impl Who {
    /// Whether the code applies to principals of type `name`
    pub(crate) fn includes(self, name: &str) -> bool {
        match self {
            Who::Everyone => true,
            Who::Except(exempt) => name != exempt,
        }
    }
}

/// One reason code RULES.md lists for an action, which a forbid must carry
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listed {
    /// The code
    pub(crate) reason: Reason,
    /// The principal types it applies to
    pub(crate) who: Who,
    /// The rules that list it for the action
    pub(crate) rules: &'static str,
}

const fn every(reason: Reason, rules: &'static str) -> Listed {
    Listed {
        reason,
        who: Who::Everyone,
        rules,
    }
}

const fn except(exempt: &'static str, reason: Reason, rules: &'static str) -> Listed {
    Listed {
        reason,
        who: Who::Except(exempt),
        rules,
    }
}

use Reason as R;

/// R1: two factors for practitioners and patients, whatever the action;
/// organisation principals (systems of external parties) are exempt
const MFA: Listed = except("Organisation", R::MfaRequired, "R1");

const VIEW: &[Listed] = &[
    MFA,
    every(R::NoTreatmentRelationship, "R5, R6, R11, R15, R16"),
    every(R::NoDossierConsent, "R6"),
    every(R::ConsentRefused, "R39"),
    every(R::ConsentUnconfirmed, "R41"),
    every(R::AccessNotRequested, "R6"),
    every(R::RoleNotPermitted, "R5, R6, R12, R15, R16"),
    every(R::NoReferral, "R15"),
    every(R::ReferralObjection, "R15"),
    every(R::NoUnplannedCareConsent, "R16"),
];

/// R18: a dossier record is viewed as `view`; R19–R21 add the record's own
const VIEW_RECORD: &[Listed] = &[
    MFA,
    every(R::NoTreatmentRelationship, "R18, R21"),
    every(R::NoDossierConsent, "R18"),
    every(R::ConsentRefused, "R39"),
    every(R::ConsentUnconfirmed, "R41"),
    every(R::AccessNotRequested, "R18"),
    every(R::RoleNotPermitted, "R18, R21"),
    every(R::RecordFlagged, "R19"),
    every(R::RecordDeleted, "R20"),
    every(R::NoReferral, "R18"),
    every(R::ReferralObjection, "R18"),
    every(R::NoUnplannedCareConsent, "R18"),
    every(R::OwnershipNotAccepted, "R21"),
];

const REQUEST_ACCESS: &[Listed] = &[
    MFA,
    every(R::NoTreatmentRelationship, "R13"),
    every(R::NoDossierConsent, "R13"),
];

const SHARE: &[Listed] = &[MFA, every(R::NoDossierConsent, "R14")];

const START_MODULE: &[Listed] = &[
    MFA,
    every(R::NoTreatmentRelationship, "R22"),
    every(R::RoleNotPermitted, "R22"),
    every(R::NoPgoAccount, "R22, R25"),
    every(R::NoPgoTransferConsent, "R22"),
    every(R::OwnershipNotAccepted, "R22"),
];

const CONTRIBUTE: &[Listed] = &[
    MFA,
    every(R::NoTreatmentRelationship, "R23"),
    every(R::RoleNotPermitted, "R23"),
    every(R::NoPgoAccount, "R23, R25"),
    every(R::NoPgoTransferConsent, "R23"),
    every(R::ModuleNotStarted, "R23"),
    every(R::NoModuleStorageConsent, "R23, R24"),
    every(R::OwnershipNotAccepted, "R23"),
];

const CHANGE_CONSENT: &[Listed] = &[
    MFA,
    every(R::TaskNotAuthorised, "R26"),
    every(R::NotOwnOrganisation, "R26"),
];

const VIEW_CONSENTS: &[Listed] = &[
    MFA,
    every(R::TaskNotAuthorised, "R27"),
    every(R::NotOwnOrganisation, "R27"),
];

const USE_PERSONAL_DATA: &[Listed] = &[MFA, every(R::NoPartyConsent, "R28")];

const USE_FOR_RESEARCH: &[Listed] = &[
    MFA,
    every(R::ObjectionRecorded, "R29"),
    every(R::NoResearchConsent, "R30"),
];

const VIEW_OWN: &[Listed] = &[
    MFA,
    every(R::RecordFlagged, "R19, R31"),
    every(R::RecordDeleted, "R20, R31"),
    every(R::NotSelf, "R31"),
];

/// R32 names `not_self` for patients and the organisation and task for
/// practitioners; an organisation principal, for which the rules give no
/// route, needs all three
const VIEW_ACCESS_LOG: &[Listed] = &[
    MFA,
    except("Patient", R::TaskNotAuthorised, "R32"),
    except("Patient", R::NotOwnOrganisation, "R32"),
    except("Practitioner", R::NotSelf, "R32"),
];

/// The reason codes RULES.md lists for `action` that forbids carry, in the
/// order of [`Reason::ALL`]
pub(crate) const fn listed(action: ActionKind) -> &'static [Listed] {
    match action {
        ActionKind::View => VIEW,
        ActionKind::ViewRecord => VIEW_RECORD,
        ActionKind::RequestAccess => REQUEST_ACCESS,
        ActionKind::Share => SHARE,
        ActionKind::StartModule => START_MODULE,
        ActionKind::Contribute => CONTRIBUTE,
        ActionKind::ChangeConsent => CHANGE_CONSENT,
        ActionKind::ViewConsents => VIEW_CONSENTS,
        ActionKind::UsePersonalData => USE_PERSONAL_DATA,
        ActionKind::UseForResearch => USE_FOR_RESEARCH,
        ActionKind::ViewOwn => VIEW_OWN,
        ActionKind::ViewAccessLog => VIEW_ACCESS_LOG,
    }
}

/// A principal or resource scope, whichever it is
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Any,
    Is(EntityTypeName),
    Eq(EntityUid),
    In(EntityUid),
    IsIn(EntityTypeName, EntityUid),
}

impl From<PrincipalConstraint> for Scope {
    fn from(c: PrincipalConstraint) -> Self {
        match c {
            PrincipalConstraint::Any => Scope::Any,
            PrincipalConstraint::Is(t) => Scope::Is(t),
            PrincipalConstraint::Eq(u) => Scope::Eq(u),
            PrincipalConstraint::In(u) => Scope::In(u),
            PrincipalConstraint::IsIn(t, u) => Scope::IsIn(t, u),
        }
    }
}

impl From<ResourceConstraint> for Scope {
    fn from(c: ResourceConstraint) -> Self {
        match c {
            ResourceConstraint::Any => Scope::Any,
            ResourceConstraint::Is(t) => Scope::Is(t),
            ResourceConstraint::Eq(u) => Scope::Eq(u),
            ResourceConstraint::In(u) => Scope::In(u),
            ResourceConstraint::IsIn(t, u) => Scope::IsIn(t, u),
        }
    }
}

impl Scope {
    /// The types of `types` whose entities this scope can match (more
    /// rather than fewer: `in` an entity keeps every type that can be it or
    /// below it)
    fn admits(&self, schema: &Schema, types: &[EntityTypeName]) -> Vec<EntityTypeName> {
        let below = |t: &EntityTypeName, parent: &EntityTypeName| {
            t == parent
                || schema
                    .ancestors(t)
                    .is_some_and(|mut a| a.any(|a| a == parent))
        };
        types
            .iter()
            .filter(|t| match self {
                Scope::Any => true,
                Scope::Is(want) | Scope::IsIn(want, _) => *t == want,
                Scope::Eq(uid) => *t == uid.type_name(),
                Scope::In(uid) => below(t, uid.type_name()),
            })
            .cloned()
            .collect()
    }

    /// Whether this (a forbid's) scope matches every entity of type `t`
    /// that `permit` (a permit's scope) matches: it is unscoped, `is t`, or
    /// the same scope as the permit's
    fn covers(&self, permit: &Scope, t: &EntityTypeName) -> bool {
        match self {
            Scope::Any => true,
            Scope::Is(want) if want == t => true,
            same => same == permit,
        }
    }
}

/// A policy's scope, read once
struct Scoped<'p> {
    policy: &'p Policy,
    principal: Scope,
    resource: Scope,
    action: ActionConstraint,
}

impl<'p> Scoped<'p> {
    fn of(policy: &'p Policy) -> Self {
        Self {
            policy,
            principal: policy.principal_constraint().into(),
            resource: policy.resource_constraint().into(),
            action: policy.action_constraint(),
        }
    }
}

/// Whether `forbid` covers what `permit` grants for `action` to principals
/// of type `principal`: its action scope can match `action`, its principal
/// scope matches every principal of that type the permit matches, and its
/// resource scope every resource the permit matches
fn covers(
    forbid: &Scoped<'_>,
    permit: &Scoped<'_>,
    action: &ActionScope,
    principal: &EntityTypeName,
    resources: &[EntityTypeName],
) -> bool {
    action.matches(&forbid.action)
        && forbid.principal.covers(&permit.principal, principal)
        && resources
            .iter()
            .all(|r| forbid.resource.covers(&permit.resource, r))
}

/// The entity types `of` yields, or the engine's own principal types when
/// the schema does not know the action
fn types_or_engine<'a>(
    of: Option<impl Iterator<Item = &'a EntityTypeName>>,
    fallback: &[&str],
) -> Vec<EntityTypeName> {
    match of {
        Some(types) => types.cloned().collect(),
        None => fallback
            .iter()
            .filter_map(|t| t.parse::<EntityTypeName>().ok())
            .collect(),
    }
}

/// Refuses the loaded set when a permit can grant an action without a
/// covering forbid for every code [`listed`] for it; every gap, sorted
pub(super) fn check(
    schema: &Schema,
    loaded: &Loaded,
    actions: &[ActionScope],
) -> Result<(), LeastPrivilegeErrors> {
    let effect_of = |p: &Policy| {
        loaded
            .info
            .get(AsRef::<str>::as_ref(p.id()))
            .map(|i| (i.effect, i.reason))
    };
    let forbids: Vec<(Scoped<'_>, Reason)> = loaded
        .set
        .policies()
        .filter_map(|p| match effect_of(p)? {
            (Effect::Forbid, Some(reason)) => Some((Scoped::of(p), reason)),
            _ => None,
        })
        .collect();
    let mut errors = Vec::new();
    for permit in loaded.set.policies() {
        if !matches!(effect_of(permit), Some((Effect::Permit, _))) {
            continue;
        }
        let permit = Scoped::of(permit);
        let id = permit.policy.id().to_string();
        let (file, line) = loaded
            .origins
            .get(&id)
            .map_or((String::new(), 0), |o| (o.file.clone(), o.line));
        for action in actions.iter().filter(|a| a.matches(&permit.action)) {
            let principals = permit.principal.admits(
                schema,
                &types_or_engine(schema.principals_for_action(&action.uid), &PRINCIPALS),
            );
            let resources = permit.resource.admits(
                schema,
                &types_or_engine(schema.resources_for_action(&action.uid), &["Patient"]),
            );
            if resources.is_empty() {
                continue;
            }
            for listed in listed(action.kind) {
                let mut lacking: Vec<String> = principals
                    .iter()
                    .filter(|t| listed.who.includes(&t.to_string()))
                    .filter(|t| {
                        !forbids.iter().any(|(forbid, reason)| {
                            *reason == listed.reason
                                && covers(forbid, &permit, action, t, &resources)
                        })
                    })
                    .map(ToString::to_string)
                    .collect();
                if !lacking.is_empty() {
                    lacking.sort();
                    errors.push(LeastPrivilegeError::new(
                        (file.clone(), line, id.clone()),
                        action.kind,
                        (listed.reason, listed.rules),
                        lacking,
                    ));
                }
            }
        }
    }
    LeastPrivilegeErrors::new(errors).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::policy::{Policies, PolicyLoadError, SHIPPED_POLICIES, SHIPPED_SCHEMA};

    /// The shipped files, with `edit` applied to the file `name`
    fn shipped_with(name: &str, edit: impl Fn(&str) -> String) -> Vec<(&'static str, String)> {
        SHIPPED_POLICIES
            .iter()
            .map(|&(n, t)| (n, if n == name { edit(t) } else { t.to_owned() }))
            .collect()
    }

    fn load(files: &[(&str, String)]) -> Result<Policies, PolicyLoadError> {
        Policies::from_sources(SHIPPED_SCHEMA, files.iter().map(|(n, t)| (*n, t.as_str())))
    }

    fn gaps(files: &[(&str, String)]) -> Vec<LeastPrivilegeError> {
        match load(files) {
            Err(PolicyLoadError::LeastPrivilege(errors)) => errors.iter().cloned().collect(),
            Ok(_) => Vec::new(),
            Err(other) => panic!("{other}"),
        }
    }

    /// (policy id, action, reason) of each gap
    fn named(gaps: &[LeastPrivilegeError]) -> Vec<(&str, ActionKind, Reason)> {
        gaps.iter()
            .map(|g| (g.policy_id(), g.action(), g.reason()))
            .collect()
    }

    fn one(text: &str) -> Vec<(&'static str, String)> {
        vec![("a.cedar", text.to_owned())]
    }

    #[test]
    fn every_reason_code_is_listed_for_some_action_or_made_by_the_engine() {
        for &reason in Reason::ALL {
            let listed_somewhere = ActionKind::ALL
                .iter()
                .any(|&a| listed(a).iter().any(|l| l.reason == reason));
            assert_ne!(
                listed_somewhere,
                ENGINE_MADE.contains(&reason),
                "{reason}: listed for an action and engine-made, or neither"
            );
        }
    }

    #[test]
    fn the_table_is_in_reason_order_without_repeats_and_mfa_first() {
        for &action in ActionKind::ALL {
            let codes: Vec<Reason> = listed(action).iter().map(|l| l.reason).collect();
            let mut sorted = codes.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(codes, sorted, "{action}");
            assert_eq!(codes.first(), Some(&Reason::MfaRequired), "{action}");
            assert!(listed(action).iter().all(|l| !l.rules.is_empty()));
        }
    }

    #[test]
    fn the_shipped_policies_carry_every_listed_code() {
        assert!(Policies::shipped().is_ok());
    }

    #[test]
    fn a_permit_without_forbids_is_refused_for_every_action_and_code_in_order() {
        let errors = gaps(&one("@id(\"all\") permit(principal, action, resource);"));
        let expected: usize = ActionKind::ALL.iter().map(|&a| listed(a).len()).sum();
        assert_eq!(errors.len(), expected);
        let order: Vec<(ActionKind, Reason)> =
            errors.iter().map(|e| (e.action(), e.reason())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        // R1 exempts organisations; every other code applies to all three
        let mfa = &errors[0];
        assert_eq!(
            (mfa.action(), mfa.reason()),
            (ActionKind::View, R::MfaRequired)
        );
        assert_eq!(mfa.principals(), ["Patient", "Practitioner"]);
        assert_eq!(
            errors[1].principals(),
            ["Organisation", "Patient", "Practitioner"]
        );
        assert_eq!(
            (mfa.file(), mfa.line(), mfa.policy_id()),
            ("a.cedar", 1, "all")
        );
        assert_eq!(
            mfa.to_string(),
            "`a.cedar` line 1, policy `all`: grants `view` to `Patient`, `Practitioner`, but no \
             forbid covering that carries `@reason(\"mfa_required\")` (R1)"
        );
    }

    #[test]
    fn a_set_without_permits_loads() {
        assert!(load(&[]).is_ok());
        assert!(
            load(&one(
                "@id(\"f\") @reason(\"not_permitted\") forbid(principal, action, resource);"
            ))
            .is_ok()
        );
    }

    #[test]
    fn action_scopes_equal_in_and_unscoped_are_each_covered() {
        let permit = "@id(\"p\") permit(principal is Organisation, action == Action::\"share\", resource);\n";
        assert_eq!(
            named(&gaps(&one(permit))),
            [("p", ActionKind::Share, R::NoDossierConsent)],
            "organisations need no mfa_required"
        );
        for scope in [
            "action == Action::\"share\"",
            "action in [Action::\"view\", Action::\"share\"]",
            "action",
        ] {
            let forbid = format!(
                "@id(\"f\") @reason(\"no_dossier_consent\") forbid(principal, {scope}, resource);"
            );
            assert!(
                gaps(&one(&format!("{permit}{forbid}"))).is_empty(),
                "{scope}"
            );
        }
        // A forbid for another action covers nothing here
        let elsewhere = "@id(\"f\") @reason(\"no_dossier_consent\") \
                         forbid(principal, action == Action::\"request_access\", resource);";
        assert_eq!(gaps(&one(&format!("{permit}{elsewhere}"))).len(), 1);
    }

    #[test]
    fn a_forbid_for_another_principal_type_covers_nothing() {
        let permit = "@id(\"p\") permit(principal is Organisation, action == Action::\"share\", resource);\n";
        for (scope, covered) in [
            ("principal is Practitioner", false),
            ("principal == Organisation::\"o\"", false),
            ("principal is Organisation", true),
            ("principal", true),
        ] {
            let forbid = format!(
                "@id(\"f\") @reason(\"no_dossier_consent\") \
                 forbid({scope}, action == Action::\"share\", resource);"
            );
            assert_eq!(
                gaps(&one(&format!("{permit}{forbid}"))).is_empty(),
                covered,
                "{scope}"
            );
        }
        // A permit for one organisation is covered by a forbid for the same one
        let narrow = "@id(\"p\") permit(principal == Organisation::\"o\", action == Action::\"share\", resource);\n\
                      @id(\"f\") @reason(\"no_dossier_consent\") \
                      forbid(principal == Organisation::\"o\", action == Action::\"share\", resource);";
        assert!(gaps(&one(narrow)).is_empty());
    }

    #[test]
    fn a_forbid_on_fewer_resources_covers_nothing() {
        let text = "@id(\"p\") permit(principal is Organisation, action == Action::\"share\", resource);\n\
                    @id(\"f\") @reason(\"no_dossier_consent\") \
                    forbid(principal, action == Action::\"share\", resource == Patient::\"x\");";
        assert_eq!(gaps(&one(text)).len(), 1);
        let text = text.replace("resource == Patient::\"x\"", "resource is Patient");
        assert!(gaps(&one(&text)).is_empty());
    }

    #[test]
    fn the_rules_exempt_principal_types_per_code() {
        // R32: a patient reading the log needs not_self, not the task
        let patient = "@id(\"p\") permit(principal is Patient, action == Action::\"view_access_log\", resource);\n\
                       @id(\"m\") @reason(\"mfa_required\") forbid(principal, action, resource);";
        assert_eq!(
            named(&gaps(&one(patient))),
            [("p", ActionKind::ViewAccessLog, R::NotSelf)]
        );
        let practitioner = patient.replace("is Patient", "is Practitioner");
        assert_eq!(
            named(&gaps(&one(&practitioner))),
            [
                ("p", ActionKind::ViewAccessLog, R::TaskNotAuthorised),
                ("p", ActionKind::ViewAccessLog, R::NotOwnOrganisation)
            ]
        );
    }

    #[test]
    fn deleting_the_matrix_is_refused_for_every_view_permit() {
        let files: Vec<(&str, String)> = SHIPPED_POLICIES
            .iter()
            .filter(|(n, _)| *n != "role-matrix.cedar")
            .map(|&(n, t)| (n, t.to_owned()))
            .collect();
        let errors = gaps(&files);
        assert!(errors.iter().all(|e| e.reason() == R::RoleNotPermitted));
        let where_: Vec<(&str, &str, ActionKind)> = errors
            .iter()
            .map(|e| (e.file(), e.policy_id(), e.action()))
            .collect();
        assert_eq!(
            where_,
            [
                (
                    "records.cedar",
                    "permit-view-module-record",
                    ActionKind::ViewRecord
                ),
                (
                    "view-own-dossier.cedar",
                    "permit-view-own-dossier",
                    ActionKind::View
                ),
                (
                    "view-own-dossier.cedar",
                    "permit-view-own-dossier",
                    ActionKind::ViewRecord
                ),
                (
                    "view-planned-care.cedar",
                    "permit-view-on-referral",
                    ActionKind::View
                ),
                (
                    "view-planned-care.cedar",
                    "permit-view-on-referral",
                    ActionKind::ViewRecord
                ),
                (
                    "view-shared-dossier.cedar",
                    "permit-view-shared-dossier",
                    ActionKind::View
                ),
                (
                    "view-shared-dossier.cedar",
                    "permit-view-shared-dossier",
                    ActionKind::ViewRecord
                ),
                (
                    "view-unplanned-care.cedar",
                    "permit-view-in-emergency",
                    ActionKind::View
                ),
                (
                    "view-unplanned-care.cedar",
                    "permit-view-in-emergency",
                    ActionKind::ViewRecord
                ),
            ]
        );
        assert_eq!(errors[1].line(), 4);
    }

    #[test]
    fn a_misplaced_forbid_is_refused_where_it_no_longer_reaches() {
        // The matrix narrowed to `view`: `view_record` is open
        let files = shipped_with("role-matrix.cedar", |t| {
            t.replace(
                "action in [Action::\"view\", Action::\"view_record\"]",
                "action == Action::\"view\"",
            )
        });
        let errors = gaps(&files);
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.action() == ActionKind::ViewRecord && e.reason() == R::RoleNotPermitted)
        );
        // The matrix narrowed to one practitioner: the others are open
        let files = shipped_with("role-matrix.cedar", |t| {
            t.replacen(
                "principal is Practitioner",
                "principal == Practitioner::\"anna\"",
                1,
            )
        });
        let errors = gaps(&files);
        assert_eq!(errors.len(), 9, "{errors:?}");
        assert!(errors.iter().all(|e| e.principals() == ["Practitioner"]));
    }

    #[test]
    fn action_groups_in_scopes_are_followed() {
        let schema = SHIPPED_SCHEMA.replace(
            "action view, view_record appliesTo",
            "action read;\naction view, view_record in [read] appliesTo",
        );
        let text =
            "@id(\"p\") permit(principal is Organisation, action in [Action::\"read\"], resource);";
        let errors = match Policies::from_sources(&schema, [("a.cedar", text)]) {
            Err(PolicyLoadError::LeastPrivilege(e)) => e,
            other => panic!("{other:?}"),
        };
        let actions: Vec<ActionKind> = errors.iter().map(LeastPrivilegeError::action).collect();
        assert!(actions.contains(&ActionKind::View) && actions.contains(&ActionKind::ViewRecord));
        // Forbids on the group cover both members
        let mut covered = String::from(text);
        for l in listed(ActionKind::ViewRecord) {
            let r = l.reason;
            write!(
                covered,
                "\n@id(\"f-{r}\") @reason(\"{r}\") forbid(principal, action in [Action::\"read\"], resource);"
            )
            .unwrap();
        }
        assert!(Policies::from_sources(&schema, [("a.cedar", covered.as_str())]).is_ok());
    }
}
