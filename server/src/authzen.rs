//! The AuthZEN 1.0 wire shapes (notes §2.2–2.5), checked by hand so every
//! malformed shape is a 400 whose message names the field, and every unknown
//! field is ignored.

use std::fmt::Display;
use std::sync::LazyLock;

use serde_json::{Map, Value};

/// The properties of an entity that has none
static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// A request the AuthZEN rules call malformed: HTTP 400, with this message
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

impl BadRequest {
    /// A bad request about `field`
    pub fn field(field: impl Display, what: &str) -> Self {
        Self(format!("field `{field}`: {what}"))
    }
}

/// A subject or a resource: `{type, id, properties?}`, borrowed from the
/// request body (a batch's items share their defaults without copies)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entity<'a> {
    /// Its type
    pub kind: &'a str,
    /// Its id (empty for the searched entity of a search, whose id is ignored)
    pub id: &'a str,
    /// Its properties (empty when absent)
    pub properties: &'a Map<String, Value>,
}

/// An action: `{name, properties?}`
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActionRef<'a> {
    /// Its name
    pub name: &'a str,
    /// Its properties (empty when absent)
    pub properties: &'a Map<String, Value>,
}

/// One access evaluation: subject, action, resource, context
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation<'a> {
    /// Who asks
    pub subject: Entity<'a>,
    /// What they would do
    pub action: ActionRef<'a>,
    /// With what
    pub resource: Entity<'a>,
    /// The free context object (empty when absent)
    pub context: &'a Map<String, Value>,
}

/// Which entity a search looks for
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// `/access/v1/search/subject`
    Subject,
    /// `/access/v1/search/resource`
    Resource,
    /// `/access/v1/search/action`
    Action,
}

/// A search: the complete inputs and the searched entity's type
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search<'a> {
    /// The subject: complete, or for a subject search only its type
    pub subject: Entity<'a>,
    /// The action (absent for an action search)
    pub action: Option<ActionRef<'a>>,
    /// The resource: complete, or for a resource search only its type
    pub resource: Entity<'a>,
    /// The free context object
    pub context: &'a Map<String, Value>,
}

/// The body as a JSON object; an empty body, malformed JSON or another
/// value is a 400
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, BadRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BadRequest("the request body is empty".into()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(BadRequest("the request body is not a JSON object".into())),
        Err(e) => Err(BadRequest(format!("the request body is not JSON: {e}"))),
    }
}

/// An optional object field: absent and `null` are `None`; `path` names it
/// in the message of a 400 (formatted only then)
pub fn optional_object<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &dyn Display,
) -> Result<Option<&'a Map<String, Value>>, BadRequest> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(BadRequest::field(path, "must be an object")),
    }
}

fn string_field<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &dyn Display,
) -> Result<&'a str, BadRequest> {
    match m.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(BadRequest::field(path, "is required")),
        Some(_) => Err(BadRequest::field(path, "must be a string")),
    }
}

fn properties<'a>(
    m: &'a Map<String, Value>,
    path: &str,
) -> Result<&'a Map<String, Value>, BadRequest> {
    Ok(optional_object(m, "properties", &format_args!("{path}.properties"))?.unwrap_or(&EMPTY))
}

/// A subject or resource; `need_id` false for the searched entity, whose
/// id is ignored
fn entity<'a>(
    m: &'a Map<String, Value>,
    path: &str,
    need_id: bool,
) -> Result<Entity<'a>, BadRequest> {
    let kind = string_field(m, "type", &format_args!("{path}.type"))?;
    let id = if need_id {
        string_field(m, "id", &format_args!("{path}.id"))?
    } else {
        ""
    };
    Ok(Entity {
        kind,
        id,
        properties: properties(m, path)?,
    })
}

fn action<'a>(m: &'a Map<String, Value>, path: &str) -> Result<ActionRef<'a>, BadRequest> {
    Ok(ActionRef {
        name: string_field(m, "name", &format_args!("{path}.name"))?,
        properties: properties(m, path)?,
    })
}

fn required<'a>(
    v: Option<&'a Map<String, Value>>,
    path: &str,
) -> Result<&'a Map<String, Value>, BadRequest> {
    v.ok_or_else(|| BadRequest::field(path, "is required"))
}

/// The four parts of an evaluation, each a whole object (a batch item's or
/// the default), with `prefix` naming where they came from in messages
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// `subject`
    pub subject: Option<&'a Map<String, Value>>,
    /// `action`
    pub action: Option<&'a Map<String, Value>>,
    /// `resource`
    pub resource: Option<&'a Map<String, Value>>,
    /// `context`
    pub context: Option<&'a Map<String, Value>>,
}

impl<'a> Parts<'a> {
    /// The parts of an object; a part that is present but not an object is
    /// a 400, its field named after `prefix` (`""`, `evaluations[3].`)
    pub fn of(m: &'a Map<String, Value>, prefix: &dyn Display) -> Result<Self, BadRequest> {
        Ok(Self {
            subject: optional_object(m, "subject", &format_args!("{prefix}subject"))?,
            action: optional_object(m, "action", &format_args!("{prefix}action"))?,
            resource: optional_object(m, "resource", &format_args!("{prefix}resource"))?,
            context: optional_object(m, "context", &format_args!("{prefix}context"))?,
        })
    }

    /// Each part of `self`, or else of `defaults`, as a whole object (no
    /// merging of sub-fields)
    #[must_use]
    pub fn or(self, defaults: Parts<'a>) -> Self {
        Self {
            subject: self.subject.or(defaults.subject),
            action: self.action.or(defaults.action),
            resource: self.resource.or(defaults.resource),
            context: self.context.or(defaults.context),
        }
    }

    /// The evaluation these parts make; a missing or malformed part is a 400
    pub fn evaluation(self) -> Result<Evaluation<'a>, BadRequest> {
        Ok(Evaluation {
            subject: entity(required(self.subject, "subject")?, "subject", true)?,
            action: action(required(self.action, "action")?, "action")?,
            resource: entity(required(self.resource, "resource")?, "resource", true)?,
            context: self.context.unwrap_or(&EMPTY),
        })
    }
}

/// The semantics of a batch (`options.evaluations_semantic`)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semantic {
    /// Run every item, answer every item (the default)
    #[default]
    ExecuteAll,
    /// Stop after the first false (or failed) item
    DenyOnFirstDeny,
    /// Stop after the first true item
    PermitOnFirstPermit,
}

impl Semantic {
    /// `options.evaluations_semantic` of a batch body
    pub fn of(body: &Map<String, Value>) -> Result<Self, BadRequest> {
        let Some(options) = optional_object(body, "options", &"options")? else {
            return Ok(Self::default());
        };
        match options.get("evaluations_semantic") {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(Value::String(s)) => match s.as_str() {
                "execute_all" => Ok(Self::ExecuteAll),
                "deny_on_first_deny" => Ok(Self::DenyOnFirstDeny),
                "permit_on_first_permit" => Ok(Self::PermitOnFirstPermit),
                other => Err(BadRequest::field(
                    "options.evaluations_semantic",
                    &format!(
                        "unknown `{other}` (one of execute_all, deny_on_first_deny, permit_on_first_permit)"
                    ),
                )),
            },
            Some(_) => Err(BadRequest::field(
                "options.evaluations_semantic",
                "must be a string",
            )),
        }
    }
}

/// The items of a batch body: `None` when `evaluations` is absent or empty
/// (the endpoint then answers as a single evaluation)
pub fn items(body: &Map<String, Value>) -> Result<Option<Vec<&Map<String, Value>>>, BadRequest> {
    match body.get("evaluations") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.is_empty() => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_object().ok_or_else(|| {
                    BadRequest::field(format_args!("evaluations[{i}]"), "must be an object")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(BadRequest::field("evaluations", "must be an array")),
    }
}

/// A search body for `kind`: every input entity complete, the searched
/// one's id ignored, no `action` for an action search (one sent is ignored)
pub fn search(body: &Map<String, Value>, kind: SearchKind) -> Result<Search<'_>, BadRequest> {
    let parts = Parts::of(body, &"")?;
    let subject = entity(
        required(parts.subject, "subject")?,
        "subject",
        kind != SearchKind::Subject,
    )?;
    let resource = entity(
        required(parts.resource, "resource")?,
        "resource",
        kind != SearchKind::Resource,
    )?;
    let action = match kind {
        SearchKind::Action => None,
        _ => Some(action(required(parts.action, "action")?, "action")?),
    };
    // `page` is accepted and ignored (no pagination), but must be an object
    optional_object(body, "page", &"page")?;
    Ok(Search {
        subject,
        action,
        resource,
        context: parts.context.unwrap_or(&EMPTY),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Map<String, Value> {
        parse_object(json.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn item_parts_replace_defaults_whole() {
        let b = body(
            r#"{"subject":{"type":"user","id":"alice","properties":{"x":1}},
               "evaluations":[{"subject":{"type":"user","id":"bob"}}]}"#,
        );
        let defaults = Parts::of(&b, &"").unwrap_or_default();
        let items = items(&b).ok().flatten().unwrap_or_default();
        let item = items.first().map(|i| Parts::of(i, &"")).transpose();
        let merged = item.ok().flatten().unwrap_or_default().or(defaults);
        let subject = merged.subject.cloned().unwrap_or_default();
        assert_eq!(subject.get("id"), Some(&Value::from("bob")));
        assert!(subject.get("properties").is_none(), "no sub-field merging");
    }

    #[test]
    fn malformed_shapes_name_their_field() {
        let cases = [
            ("", "empty"),
            ("[]", "not a JSON object"),
            ("{", "not JSON"),
        ];
        for (json, says) in cases {
            let e = parse_object(json.as_bytes())
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(e.contains(says), "{json}: {e}");
        }
        let e = Parts::of(&body(r#"{"subject":"alice"}"#), &"").err();
        assert_eq!(e, Some(BadRequest::field("subject", "must be an object")));
        let e = Semantic::of(&body(r#"{"options":{"evaluations_semantic":"all"}}"#)).err();
        assert!(e.is_some_and(|e| e.0.contains("unknown `all`")));
    }
}
