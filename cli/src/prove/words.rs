//! A counterexample (symcc's concrete request and entity store) in words,
//! and the concrete check that it really is one: Cedar's own authorizer
//! runs it against the policies and the property.

use std::fmt::Write as _;

use cedar_policy::{Authorizer, Decision, Entities, EntityUid, PolicyId, PolicySet};
use cedar_policy_symcc::Env;
use serde_json::Value as Json;
use zorg_pdp::{ActionKind, Policies};

/// The engine's vocabulary types, whose values read best bare
/// (`role kraamverzorgende`, `category echo`)
const VOCABULARY: [&str; 6] = [
    "Role",
    "Task",
    "Category",
    "CareModule",
    "Purpose",
    "Source",
];

/// What Cedar's authorizer says of one request
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) allowed: bool,
    /// The policies that determined it (permits for an allow, forbids for a deny)
    pub(crate) by: Vec<PolicyId>,
    /// Evaluation errors, one line each
    pub(crate) errors: Vec<String>,
}

/// Runs the counterexample's request against `set`
pub(crate) fn authorize(env: &Env, set: &PolicySet) -> Verdict {
    let response = Authorizer::new().is_authorized(&env.request, set, &env.entities);
    Verdict {
        allowed: response.decision() == Decision::Allow,
        by: response.diagnostics().reason().cloned().collect(),
        errors: response
            .diagnostics()
            .errors()
            .map(|e| {
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
    }
}

/// Whether `id` determined the verdict: for one policy alone, whether it matched
pub(crate) fn matched(verdict: &Verdict, id: &PolicyId) -> bool {
    verdict.by.iter().any(|p| p == id)
}

/// The counterexample as indented lines: who asks what, the context (its
/// Booleans grouped), marked, the attributes the engine never sends for the
/// action, and the ones it can send that are absent
pub(crate) fn describe(env: &Env, unsupplied: &[&str], indent: &str) -> String {
    let request = &env.request;
    let entities = entity_attrs(&env.entities);
    let mut out = String::new();
    let principal = request.principal();
    let organisation = principal
        .and_then(|p| entities.iter().find(|(uid, _)| uid == &p.to_string()))
        .and_then(|(_, attrs)| attrs.get("organisation"))
        .cloned();
    if let Some(p) = principal {
        let _ = writeln!(out, "{indent}principal: {}", entity_words(p, &entities));
    }
    if let Some(a) = request.action() {
        let _ = writeln!(out, "{indent}action:    {}", a.id().unescaped());
    }
    if let Some(r) = request.resource() {
        let mut words = entity_words(r, &entities);
        if Some(r) == principal {
            words.push_str(" (the principal itself)");
        }
        let _ = writeln!(out, "{indent}resource:  {words}");
    }
    let context = request
        .context()
        .and_then(|c| c.to_json_value().ok())
        .unwrap_or(Json::Null);
    if let Some(map) = context.as_object() {
        let (mut values, mut yes, mut no) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in map {
            let mark = if unsupplied.contains(&name.as_str()) {
                " [never supplied by the engine for this action]"
            } else {
                ""
            };
            match value {
                Json::Bool(true) => yes.push(format!("{name}{mark}")),
                Json::Bool(false) => no.push(format!("{name}{mark}")),
                other => {
                    let mut words = format!("{name} {}", value_words(other));
                    if let Some(org) = &organisation
                        && other.get("__entity").is_some()
                        && other.get("__entity").and_then(|e| e.get("type"))
                            == org.get("__entity").and_then(|e| e.get("type"))
                    {
                        words.push_str(if other == org {
                            " (the principal's organisation)"
                        } else {
                            " (not the principal's organisation)"
                        });
                    }
                    values.push(format!("{words}{mark}"));
                }
            }
        }
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(out, "{indent}context:   {}", list(&values));
        let _ = writeln!(out, "{indent}true:      {}", list(&yes));
        let _ = writeln!(out, "{indent}false:     {}", list(&no));
        // What the engine always sends for the action, missing here
        let action = request.action().map(|a| a.id().unescaped().to_owned());
        let absent: Vec<String> = action
            .as_deref()
            .and_then(ActionKind::from_name)
            .map(Policies::supplied_context)
            .unwrap_or_default()
            .into_iter()
            .filter(|name| !map.contains_key(*name))
            .map(str::to_owned)
            .collect();
        if !absent.is_empty() {
            let _ = writeln!(out, "{indent}absent:    {}", absent.join(", "));
        }
    }
    out
}

/// Every entity of the store as (`Type::"id"`, its attributes as JSON)
fn entity_attrs(entities: &Entities) -> Vec<(String, serde_json::Map<String, Json>)> {
    entities
        .iter()
        .map(|e| {
            let attrs = e
                .to_json_value()
                .ok()
                .and_then(|j| j.get("attrs").and_then(Json::as_object).cloned())
                .unwrap_or_default();
            (e.uid().to_string(), attrs)
        })
        .collect()
}

/// `Practitioner "p" (role kraamverzorgende, organisation Organisation "o", tasks none)`
fn entity_words(uid: &EntityUid, entities: &[(String, serde_json::Map<String, Json>)]) -> String {
    let mut words = uid_words(&uid.type_name().to_string(), uid.id().unescaped());
    match entities.iter().find(|(u, _)| u == &uid.to_string()) {
        Some((_, attrs)) if !attrs.is_empty() => {
            let list: Vec<String> = attrs
                .iter()
                .map(|(k, v)| format!("{k} {}", value_words(v)))
                .collect();
            let _ = write!(words, " ({})", list.join(", "));
        }
        Some(_) => {}
        None => words.push_str(" (not in the entity store)"),
    }
    words
}

fn uid_words(ty: &str, id: &str) -> String {
    if VOCABULARY.contains(&ty) {
        id.to_owned()
    } else {
        format!("{ty} {id:?}")
    }
}

/// A Cedar value (in its JSON form) in words
fn value_words(v: &Json) -> String {
    if let Some(e) = v.get("__entity") {
        let ty = e.get("type").and_then(Json::as_str).unwrap_or("?");
        let id = e.get("id").and_then(Json::as_str).unwrap_or("?");
        return uid_words(ty, id);
    }
    match v {
        Json::Bool(b) => b.to_string(),
        Json::Array(items) if items.is_empty() => "none".to_owned(),
        Json::Array(items) => items
            .iter()
            .map(value_words)
            .collect::<Vec<_>>()
            .join(" and "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cedar_policy::{Context, Entity, EntityUid, Request, RestrictedExpression};

    use super::*;

    fn uid(s: &str) -> EntityUid {
        EntityUid::from_str(s).unwrap()
    }

    #[test]
    fn a_counterexample_reads_as_who_asks_what_in_which_context() {
        let practitioner = Entity::new(
            uid("Practitioner::\"p\""),
            [
                (
                    "role".to_owned(),
                    RestrictedExpression::new_entity_uid(uid("Role::\"kraamverzorgende\"")),
                ),
                (
                    "organisation".to_owned(),
                    RestrictedExpression::new_entity_uid(uid("Organisation::\"o\"")),
                ),
                ("tasks".to_owned(), RestrictedExpression::new_set([])),
            ]
            .into_iter()
            .collect(),
            std::collections::HashSet::new(),
        )
        .unwrap();
        let context = Context::from_pairs([
            ("mfa".to_owned(), RestrictedExpression::new_bool(true)),
            (
                "relationship".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
            (
                "category".to_owned(),
                RestrictedExpression::new_entity_uid(uid("Category::\"echo\"")),
            ),
            (
                "holder".to_owned(),
                RestrictedExpression::new_entity_uid(uid("Organisation::\"o\"")),
            ),
            (
                "module".to_owned(),
                RestrictedExpression::new_entity_uid(uid("CareModule::\"DM\"")),
            ),
        ])
        .unwrap();
        let env = Env {
            request: Request::new(
                uid("Practitioner::\"p\""),
                uid("Action::\"view\""),
                uid("Patient::\"x\""),
                context,
                None,
            )
            .unwrap(),
            entities: Entities::from_entities([practitioner], None).unwrap(),
        };
        let words = describe(&env, &["module"], "  ");
        assert!(
            words.contains("principal: Practitioner \"p\" (")
                && words.contains("role kraamverzorgende")
                && words.contains("organisation Organisation \"o\"")
                && words.contains("tasks none"),
            "{words}"
        );
        assert!(words.contains("action:    view\n"), "{words}");
        assert!(
            words.contains("resource:  Patient \"x\" (not in the entity store)"),
            "{words}"
        );
        assert!(words.contains("category echo"), "{words}");
        assert!(
            words.contains("holder Organisation \"o\" (the principal's organisation)"),
            "{words}"
        );
        assert!(words.contains("module DM [never supplied"), "{words}");
        assert!(words.contains("true:      mfa\n"), "{words}");
        assert!(words.contains("false:     relationship\n"), "{words}");
        // `view` requests can carry these; this one does not
        assert!(words.contains("absent:    purpose, source,"), "{words}");
    }
}
