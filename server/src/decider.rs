//! What answers the questions behind the HTTP layer: the engine
//! ([`crate::zorg::ZorgDecider`]), or the AuthZEN certification fixture
//! ([`FixtureDecider`]), so the conformance tests run the very handlers the
//! service runs.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use zorg_pdp::Reason;

use crate::authzen::{BadRequest, Entity, Evaluation, Search};
use crate::words;

/// One decision: `decision` and the response `context` (omitted when `None`);
/// it serialises as the AuthZEN Decision object
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Whether the request may proceed
    pub decision: bool,
    /// The response context
    pub context: Option<Context>,
}

/// The response context of a decision
#[derive(Debug, Clone, PartialEq)]
pub enum Context {
    /// A free JSON object (a batch item's `error`, a fixture's context)
    Object(Map<String, Value>),
    /// The engine's: `{reasons, policies, seq}` and, when `allowed` is
    /// false, `reason_user` (the reasons in English and Dutch words),
    /// written straight into the response without intermediate JSON values
    Engine {
        /// Whether the engine allowed (a deny adds `reason_user`)
        allowed: bool,
        /// The deny reasons
        reasons: Vec<Reason>,
        /// The deciding policies' ids
        policies: Vec<String>,
        /// The position decided at
        seq: u64,
    },
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("decision", &self.decision)?;
        if let Some(c) = &self.context {
            m.serialize_entry("context", c)?;
        }
        m.end()
    }
}

/// `{en, nl}`: the reasons in words
struct InWords<'a>(&'a [Reason]);

impl Serialize for InWords<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(2))?;
        m.serialize_entry("en", &Text(words::sentence(self.0, words::english)))?;
        m.serialize_entry("nl", &Text(words::sentence(self.0, words::dutch)))?;
        m.end()
    }
}

/// A `Display` value serialised as a JSON string, unbuffered
struct Text<T>(T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// The reason codes as strings
struct Codes<'a>(&'a [Reason]);

impl Serialize for Codes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|r| r.as_str()))
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Context::Object(m) => m.serialize(serializer),
            Context::Engine {
                allowed,
                reasons,
                policies,
                seq,
            } => {
                let mut m = serializer.serialize_map(None)?;
                m.serialize_entry("reasons", &Codes(reasons))?;
                m.serialize_entry("policies", policies)?;
                m.serialize_entry("seq", seq)?;
                if !allowed {
                    m.serialize_entry("reason_user", &InWords(reasons))?;
                }
                m.end()
            }
        }
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
    fn evaluate(&self, evaluation: &Evaluation<'_>) -> Result<Answer, BadRequest>;
    /// The subjects of `search.subject.kind` for which the evaluation is true
    fn search_subject(&self, search: &Search<'_>) -> Result<Vec<Found>, BadRequest>;
    /// The resources of `search.resource.kind` for which the evaluation is true
    fn search_resource(&self, search: &Search<'_>) -> Result<Vec<Found>, BadRequest>;
    /// The actions for which the evaluation is true
    fn search_action(&self, search: &Search<'_>) -> Result<Vec<Found>, BadRequest>;
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
    fn decide(
        subject: &Entity<'_>,
        action: &str,
        soft: Option<&Value>,
        resource: &Entity<'_>,
    ) -> bool {
        let known = subject.kind == "user"
            && USERS.contains(&subject.id)
            && resource.kind == "record"
            && RECORDS.contains(&resource.id);
        if !known {
            return false;
        }
        match action {
            "read" => true,
            "write" => {
                if property(resource.properties, "status") == Some(&Value::from("archived")) {
                    property(subject.properties, "role") == Some(&Value::from("admin"))
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
    fn evaluate(&self, e: &Evaluation<'_>) -> Result<Answer, BadRequest> {
        Ok(Answer {
            decision: Self::decide(
                &e.subject,
                e.action.name,
                e.action.properties.get("soft"),
                &e.resource,
            ),
            context: None,
        })
    }

    fn search_subject(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        Ok(USERS
            .iter()
            .filter(|id| {
                let subject = Entity { id, ..s.subject };
                Self::decide(
                    &subject,
                    action.name,
                    action.properties.get("soft"),
                    &s.resource,
                )
            })
            .map(|id| Found::Entity {
                kind: s.subject.kind.to_owned(),
                id: (*id).to_owned(),
            })
            .collect())
    }

    fn search_resource(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        let Some(action) = &s.action else {
            return Ok(Vec::new());
        };
        Ok(RECORDS
            .iter()
            .filter(|id| {
                let resource = Entity { id, ..s.resource };
                Self::decide(
                    &s.subject,
                    action.name,
                    action.properties.get("soft"),
                    &resource,
                )
            })
            .map(|id| Found::Entity {
                kind: s.resource.kind.to_owned(),
                id: (*id).to_owned(),
            })
            .collect())
    }

    fn search_action(&self, s: &Search<'_>) -> Result<Vec<Found>, BadRequest> {
        // A delete without properties is not soft: only read and write can appear
        Ok(ACTIONS
            .iter()
            .filter(|name| Self::decide(&s.subject, name, None, &s.resource))
            .map(|name| Found::Action((*name).to_owned()))
            .collect())
    }
}
