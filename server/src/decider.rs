//! What answers the questions behind the HTTP layer: the engine
//! ([`crate::zorg::ZorgDecider`]), or the AuthZEN certification fixture
//! ([`FixtureDecider`]), so the conformance tests run the very handlers the
//! service runs.

use serde_json::{Map, Value, json};

use crate::authzen::{BadRequest, Entity, Evaluation, Search};

/// One decision: `decision` and the free response `context` (omitted when `None`)
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Whether the request may proceed
    pub decision: bool,
    /// The response context
    pub context: Option<Map<String, Value>>,
}

impl Answer {
    /// The AuthZEN Decision object
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("decision".into(), Value::Bool(self.decision));
        if let Some(c) = &self.context {
            m.insert("context".into(), Value::Object(c.clone()));
        }
        Value::Object(m)
    }
}

/// A search result: an entity `{type, id}` or an action `{name}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A subject or resource
    Entity {
        /// Its type (the searched type)
        kind: String,
        /// Its id
        id: String,
    },
    /// An action
    Action(String),
}

impl Found {
    /// The result's JSON
    pub fn to_json(&self) -> Value {
        match self {
            Found::Entity { kind, id } => json!({ "type": kind, "id": id }),
            Found::Action(name) => json!({ "name": name }),
        }
    }
}

/// Answers AuthZEN evaluations and searches; a [`BadRequest`] is a 400 (or,
/// in a batch under `execute_all`, that item's error)
pub trait Decider: Send + Sync + 'static {
    /// One evaluation
    fn evaluate(&self, evaluation: &Evaluation) -> Result<Answer, BadRequest>;
    /// The subjects of `search.subject.kind` for which the evaluation is true
    fn search_subject(&self, search: &Search) -> Result<Vec<Found>, BadRequest>;
    /// The resources of `search.resource.kind` for which the evaluation is true
    fn search_resource(&self, search: &Search) -> Result<Vec<Found>, BadRequest>;
    /// The actions for which the evaluation is true
    fn search_action(&self, search: &Search) -> Result<Vec<Found>, BadRequest>;
}

/// The AuthZEN certification scenario's fixture (notes §2.8), in our own
/// words: users `alice` and `bob` (role `admin`), resources `record-1`
/// (`status: active`) and `record-2` (`archived`), actions `read`, `write`,
/// `delete` (`soft`)
///
/// Its rules give the scenario's eight decisions: both users read; on an
/// active record only alice writes; on a record whose `status` property is
/// `archived` only a subject whose `role` property is `admin` writes; a
/// delete is allowed exactly when its `soft` property is `true`. Unknown
/// ids, types and actions are false.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixtureDecider;

const USERS: [&str; 2] = ["alice", "bob"];
const RECORDS: [&str; 2] = ["record-1", "record-2"];
const ACTIONS: [&str; 3] = ["read", "write", "delete"];

fn property<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key)
}

impl FixtureDecider {
    fn decide(subject: &Entity, action: &str, soft: Option<&Value>, resource: &Entity) -> bool {
        let known = subject.kind == "user"
            && USERS.contains(&subject.id.as_str())
            && resource.kind == "record"
            && RECORDS.contains(&resource.id.as_str());
        if !known {
            return false;
        }
        match action {
            "read" => true,
            "write" => {
                if property(&resource.properties, "status") == Some(&Value::from("archived")) {
                    property(&subject.properties, "role") == Some(&Value::from("admin"))
                } else {
                    subject.id == "alice"
                }
            }
            "delete" => soft == Some(&Value::Bool(true)),
            _ => false,
        }
    }
}

impl Decider for FixtureDecider {
    fn evaluate(&self, e: &Evaluation) -> Result<Answer, BadRequest> {
        Ok(Answer {
            decision: Self::decide(
                &e.subject,
                &e.action.name,
                e.action.properties.get("soft"),
                &e.resource,
            ),
            context: None,
        })
    }

    fn search_subject(&self, s: &Search) -> Result<Vec<Found>, BadRequest> {
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        Ok(USERS
            .iter()
            .filter(|id| {
                let subject = Entity {
                    id: (**id).to_owned(),
                    ..s.subject.clone()
                };
                Self::decide(
                    &subject,
                    &action.name,
                    action.properties.get("soft"),
                    &s.resource,
                )
            })
            .map(|id| Found::Entity {
                kind: s.subject.kind.clone(),
                id: (*id).to_owned(),
            })
            .collect())
    }

    fn search_resource(&self, s: &Search) -> Result<Vec<Found>, BadRequest> {
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        Ok(RECORDS
            .iter()
            .filter(|id| {
                let resource = Entity {
                    id: (**id).to_owned(),
                    ..s.resource.clone()
                };
                Self::decide(
                    &s.subject,
                    &action.name,
                    action.properties.get("soft"),
                    &resource,
                )
            })
            .map(|id| Found::Entity {
                kind: s.resource.kind.clone(),
                id: (*id).to_owned(),
            })
            .collect())
    }

    fn search_action(&self, s: &Search) -> Result<Vec<Found>, BadRequest> {
        // A delete without properties is not soft: only read and write can appear
        Ok(ACTIONS
            .iter()
            .filter(|name| Self::decide(&s.subject, name, None, &s.resource))
            .map(|name| Found::Action((*name).to_owned()))
            .collect())
    }
}
