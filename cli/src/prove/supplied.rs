//! The `supplied_facts` check: a policy may read only what the engine puts
//! in a request.
//!
//! Strict validation already refuses a policy that reads an attribute the
//! schema does not declare, so "well-typed" alone would be a tautology. The
//! schema declares more than the engine sends: record types shared between
//! actions (`DataContext` serves `view` and `view_record`, so `module?` is
//! declared for `view`, which never has one) and optional attributes an
//! author adds and the engine never fills in. A policy that tests them
//! validates, yet never sees them: a permit behind such a test never
//! grants, a forbid behind one never fires, and one `unless` it grants or
//! denies always.
//!
//! So, per request environment, every `has` test (and `hasTag`) of an
//! attribute the engine does not supply for that action is replaced by
//! `false` — what the engine's requests always answer — and symcc proves
//! the rewritten policy matches exactly the inputs the original matches.
//! When it does not, the counterexample is an input on which the policy's
//! answer depends on such an attribute. A policy that uses the `context`
//! record whole (`context == {…}`) is refused outright: it reads every
//! attribute, supplied or not.

use cedar_policy::Policy;
use serde_json::Value as Json;

/// What the rewrite found in one policy for one action
#[derive(Debug)]
pub(crate) enum Reads {
    /// Only supplied attributes: the policy is its own rewrite
    OnlySupplied,
    /// These unsupplied attributes are tested; the rewrite replaces the tests
    Unsupplied {
        names: Vec<String>,
        rewritten: Box<Policy>,
    },
    /// The policy uses `context` as a whole value
    WholeContext,
}

/// The rewrite of `policy` for an action whose requests carry the context
/// attributes `context` and entities with the attributes `entity`
pub(crate) fn rewrite(policy: &Policy, context: &[&str], entity: &[&str]) -> Result<Reads, String> {
    let mut json = policy.to_json().map_err(|e| e.to_string())?;
    let mut walk = Walk {
        context,
        entity,
        names: Vec::new(),
        whole_context: false,
    };
    if let Some(conditions) = json.get_mut("conditions").and_then(Json::as_array_mut) {
        for condition in conditions {
            if let Some(body) = condition.get_mut("body") {
                walk.expr(body);
            }
        }
    }
    if walk.whole_context {
        return Ok(Reads::WholeContext);
    }
    if walk.names.is_empty() {
        return Ok(Reads::OnlySupplied);
    }
    let rewritten =
        Policy::from_json(Some(policy.id().clone()), json).map_err(|e| e.to_string())?;
    walk.names.sort();
    walk.names.dedup();
    Ok(Reads::Unsupplied {
        names: walk.names,
        rewritten: Box::new(rewritten),
    })
}

struct Walk<'a> {
    context: &'a [&'a str],
    entity: &'a [&'a str],
    /// `context.x`, `entity.y`, `tag t`: what was replaced
    names: Vec<String>,
    whole_context: bool,
}

fn is_context(e: &Json) -> bool {
    e.get("Var").and_then(Json::as_str) == Some("context")
}

/// The first attribute of a `has` (`e has a` or `e has a.b`)
fn first_attr(has: &Json) -> Option<&str> {
    match has.get("attr")? {
        Json::String(s) => Some(s),
        Json::Array(path) => path.first()?.as_str(),
        _ => None,
    }
}

impl Walk<'_> {
    fn expr(&mut self, e: &mut Json) {
        if is_context(e) {
            // Reached only where `context` is not the left of `.` or `has`
            self.whole_context = true;
            return;
        }
        if let Some(replaced) = self.replacement(e) {
            self.names.push(replaced);
            *e = serde_json::json!({ "Value": false });
            return;
        }
        match e {
            Json::Object(map) => {
                for (key, value) in map.iter_mut() {
                    let access = key == "." || key == "has";
                    match value {
                        Json::Object(inner) if access => {
                            // Descend into the left unless it is `context` itself
                            if let Some(left) = inner.get_mut("left")
                                && !is_context(left)
                            {
                                self.expr(left);
                            }
                        }
                        other => self.expr(other),
                    }
                }
            }
            Json::Array(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            _ => {}
        }
    }

    /// What `e` reads that the engine does not supply, when `e` is a `has`
    /// or `hasTag` test of it
    fn replacement(&self, e: &Json) -> Option<String> {
        if let Some(has) = e.get("has") {
            let left = has.get("left")?;
            let attr = first_attr(has)?;
            if is_context(left) {
                return (!self.context.contains(&attr)).then(|| format!("context.{attr}"));
            }
            // A record literal has what it has; every other `has` is on an
            // entity (the engine supplies no record-valued attributes)
            if left.get("Record").is_some() {
                return None;
            }
            return (!self.entity.contains(&attr)).then(|| format!("entity attribute `{attr}`"));
        }
        // The engine gives entities no tags
        e.get("hasTag").map(|t| {
            let tag = t
                .get("right")
                .and_then(|r| r.get("Value"))
                .and_then(Json::as_str)
                .unwrap_or("…");
            format!("tag `{tag}`")
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    const CONTEXT: &[&str] = &["mfa", "holder", "category"];
    const ENTITY: &[&str] = &["role", "organisation"];

    fn reads(text: &str) -> Reads {
        let policy = Policy::from_str(text).unwrap();
        rewrite(&policy, CONTEXT, ENTITY).unwrap()
    }

    #[test]
    fn supplied_reads_are_left_alone() {
        let r = reads(
            "permit (principal, action, resource) when { context.mfa && context has holder && principal has role };",
        );
        assert!(matches!(r, Reads::OnlySupplied), "{r:?}");
    }

    #[test]
    fn an_unsupplied_has_becomes_false() {
        let r = reads(
            "permit (principal, action, resource) when { context has module && context.module == CareModule::\"DM\" || principal has licence };",
        );
        let Reads::Unsupplied { names, rewritten } = r else {
            panic!("{r:?}")
        };
        assert_eq!(names, ["context.module", "entity attribute `licence`"]);
        let text = rewritten.to_string();
        assert!(
            !text.contains("has module") && !text.contains("licence"),
            "{text}"
        );
        assert!(text.contains("false"), "{text}");
    }

    #[test]
    fn a_path_has_and_a_tag_count_too() {
        let r = reads("permit (principal, action, resource) when { context has module.x };");
        assert!(
            matches!(&r, Reads::Unsupplied { names, .. } if names == &["context.module"]),
            "{r:?}"
        );
        let r = reads("permit (principal, action, resource) when { principal.hasTag(\"vip\") };");
        assert!(
            matches!(&r, Reads::Unsupplied { names, .. } if names == &["tag `vip`"]),
            "{r:?}"
        );
    }

    #[test]
    fn the_whole_context_is_refused() {
        let r = reads("permit (principal, action, resource) when { context == { mfa: true } };");
        assert!(matches!(r, Reads::WholeContext), "{r:?}");
        let r = reads("permit (principal, action, resource) when { { a: 1 } has a };");
        assert!(matches!(r, Reads::OnlySupplied), "{r:?}");
    }
}
