//! What the analysis (`crate::analysis`) needs to know about a loaded set,
//! in plain Rust types: each policy's JSON form (Cedar's EST), the buckets'
//! policy ids, the schema's principal types and action groups, the entity
//! literals. Cedar's own types stay in `policy` and `engine`.

use std::str::FromStr;

use cedar_policy::{EntityUid, PolicyId};

use super::Policies;
use crate::model::vocab::ActionKind;

impl Policies {
    /// The policy's JSON form (Cedar's EST: scope, conditions, annotations;
    /// no source positions), `None` for an unknown id or a policy Cedar
    /// cannot render
    pub(crate) fn policy_json(&self, id: &str) -> Option<serde_json::Value> {
        self.set.policy(&PolicyId::new(id))?.to_json().ok()
    }

    /// The ids of the policies whose action scope can match `action` (the
    /// bucket the engine evaluates), sorted
    pub(crate) fn bucket_ids(&self, action: ActionKind) -> Vec<String> {
        let mut ids: Vec<String> = self
            .bucket(action)
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// The principal entity types the schema allows for `action`, sorted
    pub(crate) fn principal_types(&self, action: ActionKind) -> Vec<String> {
        let Ok(uid) = action_uid(action) else {
            return Vec::new();
        };
        let mut types: Vec<String> = self
            .schema
            .principals_for_action(&uid)
            .map(|t| t.map(ToString::to_string).collect())
            .unwrap_or_default();
        types.sort();
        types
    }

    /// The action groups `action` belongs to in the schema, sorted (an
    /// `action in …` scope depends on them)
    pub(crate) fn action_groups(&self, action: ActionKind) -> Vec<String> {
        let (Ok(uid), Ok(actions)) = (action_uid(action), self.schema.action_entities()) else {
            return Vec::new();
        };
        let mut groups: Vec<String> = actions
            .ancestors(&uid)
            .map(|a| a.map(ToString::to_string).collect())
            .unwrap_or_default();
        groups.sort();
        groups
    }

    /// Every entity literal of a policy as (type name, id), sorted, without repeats
    pub(crate) fn entity_literal_ids(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .entity_literals()
            .into_iter()
            .map(|uid| (uid.type_name().to_string(), uid.id().unescaped().to_owned()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

fn action_uid(action: ActionKind) -> Result<EntityUid, ()> {
    EntityUid::from_str(&format!("Action::\"{}\"", action.as_str())).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_set_answers_in_plain_types() {
        let p = Policies::shipped().unwrap();
        let json = p.policy_json("forbid-without-mfa").unwrap();
        assert_eq!(json["effect"], "forbid");
        assert!(p.policy_json("no-such-policy").is_none());
        let view = p.bucket_ids(ActionKind::View);
        assert!(view.contains(&"forbid-category-not-in-role-matrix".to_owned()));
        assert!(!view.contains(&"permit-share".to_owned()));
        assert_eq!(
            p.principal_types(ActionKind::View),
            ["Organisation", "Patient", "Practitioner"]
        );
        assert!(p.action_groups(ActionKind::View).is_empty());
        assert!(p.entity_literal_ids().iter().all(|(t, _)| t != "Patient"));
    }
}
