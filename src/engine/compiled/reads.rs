//! Which dimensions a policy can read: a sound over-approximation from the
//! policy's JSON form (Cedar's EST).
//!
//! The argument. Cedar evaluates a policy's scope and conditions as an
//! expression tree whose only leaves that depend on the request are the
//! variables `principal`, `action`, `resource` and `context` (literals,
//! including entity literals, are constants; templates are refused at load).
//! The engine's request is a function of the abstract input
//! (`engine::cedar::to_cedar`), and so is its entity store: the principal
//! (a practitioner with `role`, `tasks` and `organisation`; an
//! organisation, with no attributes) and the patient, none with parents. So:
//!
//! - `context.a` and `context has a` depend only on context attribute `a`:
//!   a fact, `mfa`, `purpose`, `category`, `module` (each a dimension),
//!   `source` (fixed per shape) or `holder` (an entity id: the `ids`
//!   dimension);
//! - `principal.role` depends only on the role, `principal.tasks` only on the
//!   tasks, `principal.organisation` only on an entity id (`ids`); any other
//!   attribute of the principal is taken to read all three;
//! - `principal` or `resource` anywhere else (`==`, `in`, a set) is an entity
//!   id (`ids`); `principal is T` without `in` depends only on the
//!   principal's type, which is fixed per shape;
//! - `context` anywhere else reads every context dimension;
//! - `action` is fixed per shape (and its groups by the schema).
//!
//! Whatever a policy's value depends on is therefore among the dimensions
//! collected here, so evaluating it with every other dimension fixed gives
//! its value at every point agreeing on these. The analysis never needs the
//! converse (a dimension listed but not really read only makes a table
//! larger). Tests hold it against Cedar by varying the unread dimensions.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::space::Dim;

/// The dimensions a policy can read
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per kind of read, each set on its own by the walk"
)]
pub(crate) struct Reads {
    /// Every dimension (a policy whose form could not be read)
    everything: bool,
    /// Every context attribute (`context` used whole)
    all_context: bool,
    context: BTreeSet<String>,
    role: bool,
    tasks: bool,
    ids: bool,
}

impl Reads {
    /// Everything: for a policy whose JSON form is not available
    pub(crate) fn everything() -> Self {
        Self {
            everything: true,
            ..Self::default()
        }
    }

    /// What the policy with this JSON form (EST) can read
    pub(crate) fn of(policy: &Json) -> Self {
        let mut r = Self::default();
        for var in ["principal", "resource"] {
            match policy
                .get(var)
                .and_then(|s| s.get("op"))
                .and_then(Json::as_str)
            {
                Some("All") => {}
                // A type test alone: the principal's type is fixed per shape
                Some("is") if policy.get(var).and_then(|s| s.get("in")).is_none() => {}
                _ => r.ids = true,
            }
        }
        match policy.get("conditions") {
            Some(Json::Array(conditions)) => {
                for c in conditions {
                    match c.get("body") {
                        Some(body) => r.walk(body),
                        None => r.everything = true,
                    }
                }
            }
            None => {}
            Some(_) => r.everything = true,
        }
        r
    }

    /// Whether the policy can read `dim`
    pub(crate) fn contains(&self, dim: Dim) -> bool {
        if self.everything {
            return true;
        }
        let context = |name: &str| self.all_context || self.context.contains(name);
        match dim {
            Dim::Role => self.role,
            Dim::Tasks => self.tasks,
            Dim::Ids => self.ids || context("holder"),
            Dim::Mfa => context("mfa"),
            Dim::Purpose => context("purpose"),
            Dim::Category => context("category"),
            Dim::Module => context("module"),
            Dim::Fact(f) => context(f.name()),
        }
    }

    fn principal_attribute(&mut self, attr: &str) {
        match attr {
            "role" => self.role = true,
            "tasks" => self.tasks = true,
            "organisation" => self.ids = true,
            _ => {
                self.role = true;
                self.tasks = true;
                self.ids = true;
            }
        }
    }

    fn var(&mut self, name: Option<&str>) {
        match name {
            Some("principal" | "resource") => self.ids = true,
            Some("context") => self.all_context = true,
            Some("action") => {}
            _ => self.everything = true,
        }
    }

    fn walk(&mut self, e: &Json) {
        match e {
            Json::Object(m) => {
                if let (1, Some((op, arg))) = (m.len(), m.iter().next()) {
                    match op.as_str() {
                        // A literal reads nothing
                        "Value" => return,
                        "Var" => return self.var(arg.as_str()),
                        "Slot" => {
                            self.ids = true;
                            return;
                        }
                        "." | "has" if self.attribute(arg) => return,
                        "is" => {
                            let left = arg.get("left");
                            let within = arg.get("in");
                            match (left.and_then(var_name), within) {
                                (Some(_), None) => {}
                                _ => {
                                    if let Some(l) = left {
                                        self.walk(l);
                                    }
                                }
                            }
                            if let Some(i) = within {
                                self.walk(i);
                            }
                            return;
                        }
                        _ => {}
                    }
                }
                for v in m.values() {
                    self.walk(v);
                }
            }
            Json::Array(a) => {
                for v in a {
                    self.walk(v);
                }
            }
            _ => {}
        }
    }

    /// `left.attr` or `left has attr` on a variable: the attribute it reads;
    /// false when it is not of that form (walk it as a whole then)
    fn attribute(&mut self, arg: &Json) -> bool {
        let attr = match arg.get("attr") {
            Some(Json::String(s)) => Some(s.as_str()),
            // `has a.b.c`: the first attribute is the one of the variable
            Some(Json::Array(path)) => path.first().and_then(Json::as_str),
            _ => None,
        };
        let (Some(left), Some(attr)) = (arg.get("left"), attr) else {
            return false;
        };
        match var_name(left) {
            Some("context") => {
                self.context.insert(attr.to_owned());
            }
            Some("principal") => self.principal_attribute(attr),
            _ => self.walk(left),
        }
        true
    }
}

/// The variable an expression is, if it is one
fn var_name(e: &Json) -> Option<&str> {
    e.as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.get("Var"))
        .and_then(Json::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fact::Fact;
    use crate::policy::Policies;

    fn reads(p: &Policies, id: &str) -> Reads {
        Reads::of(&p.policy_json(id).unwrap())
    }

    fn read_dims(r: &Reads) -> Vec<&'static str> {
        let mut dims = vec![
            (Dim::Role, "role"),
            (Dim::Tasks, "tasks"),
            (Dim::Mfa, "mfa"),
            (Dim::Purpose, "purpose"),
            (Dim::Category, "category"),
            (Dim::Module, "module"),
            (Dim::Ids, "ids"),
        ];
        for f in [
            Fact::Relationship,
            Fact::DossierConsent,
            Fact::AccessRequested,
            Fact::OwnershipAccepted,
            Fact::RecordFlagged,
        ] {
            dims.push((Dim::Fact(f), f.name()));
        }
        dims.into_iter()
            .filter(|(d, _)| r.contains(*d))
            .map(|(_, n)| n)
            .collect()
    }

    #[test]
    fn shipped_policies_read_what_their_text_names() {
        let p = Policies::shipped().unwrap();
        assert_eq!(
            read_dims(&reads(&p, "forbid-category-not-in-role-matrix")),
            ["role", "category"]
        );
        assert_eq!(read_dims(&reads(&p, "forbid-without-mfa")), ["mfa"]);
        assert_eq!(read_dims(&reads(&p, "permit-view-own-dossier")), ["ids"]);
        assert_eq!(
            read_dims(&reads(&p, "forbid-view-without-access-request")),
            ["purpose", "ids", "access_requested"]
        );
        assert_eq!(read_dims(&reads(&p, "forbid-other-patients-data")), ["ids"]);
        assert_eq!(
            read_dims(&reads(&p, "forbid-view-consents-without-task")),
            ["tasks"]
        );
        assert_eq!(
            read_dims(&reads(&p, "forbid-flagged-record")),
            ["ids", "record_flagged"]
        );
        assert_eq!(read_dims(&reads(&p, "permit-share")), Vec::<&str>::new());
    }

    #[test]
    fn whole_variables_and_scopes_read_conservatively() {
        let schema = include_str!("../../../policies/zorg.cedarschema");
        let text = r#"
            @id("scope") permit (principal == Practitioner::"anna", action, resource);
            @id("whole-context") permit (principal, action == Action::"share", resource)
                when { context == { "mfa": true, "dossier_consent": true } };
            @id("in-scope") permit (principal is Practitioner in Organisation::"o", action, resource);
            @id("other-attribute") permit (principal is Practitioner, action, resource)
                when { principal has role };
        "#;
        let p = Policies::from_sources_unguarded(schema, [("t.cedar", text)]).unwrap();
        assert!(reads(&p, "scope").contains(Dim::Ids));
        assert!(!reads(&p, "scope").contains(Dim::Mfa));
        let whole = reads(&p, "whole-context");
        assert!(whole.contains(Dim::Mfa) && whole.contains(Dim::Fact(Fact::DossierConsent)));
        assert!(!whole.contains(Dim::Role));
        assert!(reads(&p, "in-scope").contains(Dim::Ids));
        assert_eq!(read_dims(&reads(&p, "other-attribute")), ["role"]);
        assert!(Reads::everything().contains(Dim::Tasks));
    }
}
