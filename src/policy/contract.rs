//! The contract between the engine and the schema, checked at load.
//!
//! The engine sends Cedar, per action, a principal, a patient, the context
//! attributes of SPEC.md §4 (`mfa`, `purpose`, `source`, `category`,
//! `holder`, `module` where the action has them) and the Boolean facts of
//! [`Fact::of`]. A schema that does not accept one of these requests would
//! turn every such decision into an `evaluation_error` deny, late and without
//! a word. So at load, one sample request per shape the engine sends (every
//! fact `false`) goes through Cedar's own request validation; a refusal
//! becomes a [`ContractError`] that names the action and, where the schema's
//! context type shows it, the attribute.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
    Schema,
};
use serde_json::Value as Json;

use super::flatten;
use super::policy_load_errors::{ContractError, ContractErrors};
use crate::diagnostic::{Location, Source as Text};
use crate::model::fact::Fact;
use crate::model::ids::Task;
use crate::model::vocab::{ActionKind, Purpose, Source, Vocabulary};

/// The id of every sample entity
const SAMPLE_ID: &str = "zorg-pdp-load-check";

/// The principal types the engine sends, for any action
const PRINCIPALS: [&str; 3] = ["Practitioner", "Patient", "Organisation"];

/// A value of the type the engine sends for an attribute
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'v> {
    /// A Boolean (`mfa` and the facts)
    Bool,
    /// An entity of a type, with a sample id
    Entity(&'static str, &'v str),
    /// A set of entities of a type, with a sample id (or none)
    Set(&'static str, Option<&'v str>),
}

impl Value<'_> {
    fn expression(self) -> Result<RestrictedExpression, String> {
        Ok(match self {
            Value::Bool => RestrictedExpression::new_bool(false),
            Value::Entity(ty, id) => RestrictedExpression::new_entity_uid(uid(ty, id)?),
            Value::Set(ty, id) => {
                let members: Result<Vec<_>, String> = id
                    .into_iter()
                    .map(|id| Ok(RestrictedExpression::new_entity_uid(uid(ty, id)?)))
                    .collect();
                RestrictedExpression::new_set(members?)
            }
        })
    }

    /// How the engine's type reads in a message
    fn describe(self) -> String {
        match self {
            Value::Bool => "a `Bool`".to_owned(),
            Value::Entity(ty, _) => format!("an entity of type `{ty}`"),
            Value::Set(ty, _) => format!("a `Set<{ty}>`"),
        }
    }
}

/// One attribute as the engine sends it
type Attribute<'v> = (&'static str, Value<'v>);

/// One request the engine can send for an action
#[derive(Debug, Clone)]
struct Shape<'v> {
    principal: &'static str,
    context: Vec<Attribute<'v>>,
}

/// Sample values from the loaded vocabulary
#[derive(Debug, Clone, Copy)]
struct Sample<'v> {
    role: &'v str,
    task: Option<&'v str>,
    category: &'v str,
    module: &'v str,
}

impl<'v> Sample<'v> {
    fn of(vocabulary: &'v Vocabulary) -> Self {
        Self {
            role: vocabulary.roles().first().map_or("", |r| r.as_str()),
            task: vocabulary.tasks().first().map(Task::as_str),
            category: vocabulary.categories().first().map_or("", |c| c.as_str()),
            module: vocabulary.modules().first().map_or("", |m| m.as_str()),
        }
    }
}

/// Checks that `schema` accepts every request shape and entity the engine
/// sends; the schema's text is read again only to explain a refusal and to
/// point at the declaration at fault
pub(super) fn check(
    schema: &Schema,
    text: &Text,
    vocabulary: &Vocabulary,
) -> Result<(), ContractErrors> {
    let schema_text: &str = text.inner();
    let sample = Sample::of(vocabulary);
    let types = OnceCell::new();
    let types = || types.get_or_init(|| resolved_types(schema_text)).as_ref();
    let mut errors = Vec::new();
    for &action in ActionKind::ALL {
        for shape in requests(action, sample) {
            if let Err(cedar) = try_request(schema, action, &shape) {
                let found = types()
                    .map(|t| explain_context(t, action, &shape, sample))
                    .unwrap_or_default();
                if found.is_empty() {
                    errors.push(ContractError::for_action(action, None, cedar));
                }
                errors.extend(found);
            }
        }
    }
    for (entity_type, attributes) in entities(sample) {
        if let Err(cedar) = try_entity(schema, entity_type, &attributes) {
            let found = types()
                .map(|t| explain_entity(t, entity_type, &attributes))
                .unwrap_or_default();
            if found.is_empty() {
                errors.push(ContractError::for_entity(entity_type, None, cedar));
            }
            errors.extend(found);
        }
    }
    let errors = errors
        .into_iter()
        .map(|e| {
            let span = match (e.action(), e.entity_type()) {
                (Some(action), _) => action_place(schema_text, action.as_str(), e.attribute()),
                (None, Some(entity_type)) => entity_place(schema_text, entity_type, e.attribute()),
                (None, None) => None,
            };
            let at = span.map(|span| Location::new(text, span));
            e.on_line(at.as_ref().map(Location::line)).at(at)
        })
        .collect();
    ContractErrors::new(errors).map_or(Ok(()), Err)
}

/// The byte span of the first whole word `word` in `text` at or after `from`
fn word_at(text: &str, word: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let rest = text.get(from..)?;
    rest.match_indices(word).find_map(|(i, _)| {
        let at = from + i;
        let before = text.get(..at).unwrap_or("");
        let line = before.rsplit('\n').next().unwrap_or("");
        let after = text.get(at + word.len()..).and_then(|a| a.chars().next());
        let whole = !before.chars().next_back().is_some_and(is_word) && !after.is_some_and(is_word);
        (whole && !line.contains("//")).then_some(at..at + word.len())
    })
}

/// The `{ … }` block that opens at or after `from`: its byte span, braces included
fn block_at(text: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let open = from + text.get(from..)?.find('{')?;
    let mut depth = 0usize;
    for (i, c) in text.get(open..)?.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(open..open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The attribute `name` declared in the record block `block`
fn attribute_in(
    text: &str,
    block: std::ops::Range<usize>,
    name: &str,
) -> Option<std::ops::Range<usize>> {
    let mut from = block.start;
    while let Some(span) = word_at(text, name, from) {
        if span.end > block.end {
            return None;
        }
        let after = text.get(span.end..).unwrap_or("").trim_start();
        if (after.starts_with(':') || after.starts_with('?'))
            && matches!(code_before(text, span.start), Some('{' | ','))
        {
            return Some(span);
        }
        from = span.end;
    }
    None
}

/// The last character before byte `at` that is neither white space nor in
/// a `//` comment (the comment after the attribute declared on the line
/// before, `a: Bool,   // note`)
fn code_before(text: &str, at: usize) -> Option<char> {
    let before = text.get(..at)?;
    let mut lines = before.rsplit('\n');
    // The line of `at` itself: a `//` before `at` would make it a comment
    let current = lines.next().unwrap_or("");
    if let Some(c) = current.trim_end().chars().next_back() {
        return Some(c);
    }
    lines.find_map(|line| {
        let code = line.split("//").next().unwrap_or("");
        code.trim_end().chars().next_back()
    })
}

/// Where the schema declares what a [`ContractError`] about `action` is
/// about: the attribute in the action's context type, else the context
/// type, else the action's name in its declaration
fn action_place(
    text: &str,
    action: &str,
    attribute: Option<&str>,
) -> Option<std::ops::Range<usize>> {
    // `action a, b appliesTo {`, with names bare or quoted
    let mut from = 0;
    let (name, declaration) = loop {
        let keyword = word_at(text, "action", from)?;
        let applies = word_at(text, "appliesTo", keyword.end)?;
        let found = word_at(text, action, keyword.end).filter(|span| span.end <= applies.start);
        if let Some(span) = found {
            break (span, block_at(text, applies.end)?);
        }
        from = applies.end;
    };
    let Some(attribute) = attribute else {
        return Some(name);
    };
    let body = text.get(declaration.clone())?;
    let context = body.find("context").map(|i| declaration.start + i);
    let Some(context) = context else {
        return Some(name);
    };
    let after = text.get(context + "context".len()..)?.trim_start();
    let after = after.strip_prefix(':')?.trim_start();
    if after.starts_with('{') {
        let offset = text.len() - after.len();
        let block = block_at(text, offset)?;
        return attribute_in(text, block, attribute).or(Some(name));
    }
    let type_name: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let type_use = text.len() - after.len();
    let mut from = 0;
    while let Some(keyword) = word_at(text, "type", from) {
        if let Some(span) = word_at(text, &type_name, keyword.end)
            && text
                .get(keyword.end..span.start)
                .is_some_and(|g| g.trim().is_empty())
        {
            let Some(block) = block_at(text, span.end) else {
                return Some(span);
            };
            return attribute_in(text, block, attribute).or(Some(span));
        }
        from = keyword.end;
    }
    Some(type_use..type_use + type_name.len())
}

/// Where the schema declares `entity_type` (and its `attribute`)
fn entity_place(
    text: &str,
    entity_type: &str,
    attribute: Option<&str>,
) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    while let Some(keyword) = word_at(text, "entity", from) {
        if let Some(span) = word_at(text, entity_type, keyword.end)
            && text
                .get(keyword.end..span.start)
                .is_some_and(|g| g.trim().is_empty())
        {
            let declaration = keyword.start..span.end;
            let Some(attribute) = attribute else {
                return Some(declaration);
            };
            let end = text
                .get(span.end..)
                .and_then(|r| r.find(';'))
                .map_or(text.len(), |i| span.end + i);
            let found = block_at(text, span.end)
                .filter(|b| b.start < end)
                .and_then(|block| attribute_in(text, block, attribute));
            return found.or(Some(declaration));
        }
        from = keyword.end;
    }
    None
}

/// The principal the engine sends for `action` in the ordinary case
fn usual_principal(action: ActionKind) -> &'static str {
    match action {
        ActionKind::UsePersonalData | ActionKind::UseForResearch => "Organisation",
        ActionKind::ViewOwn => "Patient",
        _ => "Practitioner",
    }
}

/// The optional attributes of each request shape the engine sends for
/// `action` (see `engine::input::build`), without `mfa`, `purpose` and facts
fn variants(action: ActionKind, s: Sample<'_>) -> Vec<Vec<Attribute<'_>>> {
    use ActionKind as A;
    let holder = ("holder", Value::Entity("Organisation", SAMPLE_ID));
    let category = ("category", Value::Entity("Category", s.category));
    let module = ("module", Value::Entity("CareModule", s.module));
    let source = |s: Source| ("source", Value::Entity("Source", s.as_str()));
    match action {
        A::View => vec![vec![source(Source::Dossier), category, holder]],
        A::ViewRecord => vec![
            vec![source(Source::Dossier), category, holder],
            vec![source(Source::Module), category, holder, module],
            vec![source(Source::Pgo), category],
        ],
        A::RequestAccess | A::Share | A::UseForResearch => vec![vec![]],
        A::StartModule | A::Contribute => vec![vec![module]],
        A::ChangeConsent | A::ViewConsents | A::UsePersonalData => vec![vec![holder]],
        A::ViewOwn => vec![vec![holder, category], vec![]],
        A::ViewAccessLog => vec![vec![holder], vec![]],
    }
}

/// Whether the engine sends a `purpose` for `action`
fn has_purpose(action: ActionKind) -> bool {
    matches!(
        action,
        ActionKind::View
            | ActionKind::ViewRecord
            | ActionKind::UsePersonalData
            | ActionKind::UseForResearch
    )
}

/// The requests to try for `action`: every variant with the usual
/// principal; the first also with every purpose and every principal type
/// (what Cedar checks of each is independent of the rest)
fn requests(action: ActionKind, s: Sample<'_>) -> Vec<Shape<'_>> {
    let purposes: &[Purpose] = if has_purpose(action) {
        Purpose::ALL
    } else {
        &[]
    };
    let first = purposes.first().copied();
    let usual = usual_principal(action);
    let mut out = Vec::new();
    for (i, optional) in variants(action, s).iter().enumerate() {
        let shape = |principal, purpose: Option<Purpose>| {
            let mut context = vec![("mfa", Value::Bool)];
            context.extend(purpose.map(|p| ("purpose", Value::Entity("Purpose", p.as_str()))));
            context.extend_from_slice(optional);
            context.extend(Fact::of(action).iter().map(|f| (f.name(), Value::Bool)));
            Shape { principal, context }
        };
        out.push(shape(usual, first));
        if i == 0 {
            out.extend(purposes.iter().skip(1).map(|&p| shape(usual, Some(p))));
            out.extend(
                PRINCIPALS
                    .iter()
                    .filter(|&&p| p != usual)
                    .map(|&p| shape(p, first)),
            );
        }
    }
    out
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    let ty = EntityTypeName::from_str(ty).map_err(|e| flatten(&e))?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

/// Builds the request as `engine::cedar::to_cedar` does, validated by Cedar
/// against `schema`; Cedar's message on refusal
fn try_request(schema: &Schema, action: ActionKind, shape: &Shape<'_>) -> Result<(), String> {
    let pairs: Result<Vec<(String, RestrictedExpression)>, String> = shape
        .context
        .iter()
        .map(|&(name, value)| Ok((name.to_owned(), value.expression()?)))
        .collect();
    let context = Context::from_pairs(pairs?).map_err(|e| flatten(&e))?;
    Request::new(
        uid(shape.principal, SAMPLE_ID)?,
        uid("Action", action.as_str())?,
        uid("Patient", SAMPLE_ID)?,
        context,
        Some(schema),
    )
    .map(drop)
    .map_err(|e| flatten(&e))
}

/// The entities the engine builds, with their attributes
fn entities(s: Sample<'_>) -> Vec<(&'static str, Vec<Attribute<'_>>)> {
    vec![
        (
            "Practitioner",
            vec![
                ("role", Value::Entity("Role", s.role)),
                ("tasks", Value::Set("Task", s.task)),
                ("organisation", Value::Entity("Organisation", SAMPLE_ID)),
            ],
        ),
        ("Patient", Vec::new()),
        ("Organisation", Vec::new()),
    ]
}

/// Builds one entity as the engine does, validated by Cedar against
/// `schema`; Cedar's message on refusal
fn try_entity(
    schema: &Schema,
    entity_type: &str,
    attributes: &[Attribute<'_>],
) -> Result<(), String> {
    let attrs: Result<HashMap<String, RestrictedExpression>, String> = attributes
        .iter()
        .map(|&(name, value)| Ok((name.to_owned(), value.expression()?)))
        .collect();
    let entity = Entity::new(uid(entity_type, SAMPLE_ID)?, attrs?, HashSet::new())
        .map_err(|e| flatten(&e))?;
    Entities::from_entities([entity], Some(schema))
        .map(drop)
        .map_err(|e| flatten(&e))
}

/// The schema as JSON with every type reference classified, or `None` when
/// Cedar cannot give it (the explanation then falls back to Cedar's message)
fn resolved_types(schema_text: &str) -> Option<Json> {
    let (json, _) = cedar_policy::schema_str_to_json_with_resolved_types(schema_text).ok()?;
    json.get("").cloned()
}

/// Which attributes of the request `shape` the context type of `action`
/// does not accept, read from the schema's types
fn explain_context(
    types: &Json,
    action: ActionKind,
    shape: &Shape<'_>,
    s: Sample<'_>,
) -> Vec<ContractError> {
    let Some(applies) = types
        .get("actions")
        .and_then(|a| a.get(action.as_str()))
        .and_then(|a| a.get("appliesTo"))
    else {
        return Vec::new();
    };
    let record = match applies.get("context") {
        Some(context) => resolve(types, context),
        None => Some(&Json::Null),
    };
    let Some(record) = record else {
        return Vec::new();
    };
    let sent_ever = |name: &str| {
        requests(action, s)
            .iter()
            .any(|r| r.context.iter().any(|(n, _)| *n == name))
    };
    record_problems(types, record, &shape.context)
        .into_iter()
        .map(|(name, problem)| {
            let message = match problem {
                Problem::Required if sent_ever(&name) => format!(
                    "required, but the engine leaves it out of some requests; declare it `{name}?`"
                ),
                Problem::Required => "required, but the engine never sends it".to_owned(),
                Problem::Other(m) => m,
            };
            ContractError::for_action(action, Some(&name), message)
        })
        .collect()
}

/// Which attributes of an entity the entity type's shape does not accept
fn explain_entity(
    types: &Json,
    entity_type: &'static str,
    attributes: &[Attribute<'_>],
) -> Vec<ContractError> {
    let Some(declared) = types.get("entityTypes").and_then(|t| t.get(entity_type)) else {
        return Vec::new();
    };
    let record = match declared.get("shape") {
        Some(shape) => resolve(types, shape),
        None => Some(&Json::Null),
    };
    let Some(record) = record else {
        return Vec::new();
    };
    record_problems(types, record, attributes)
        .into_iter()
        .map(|(name, problem)| {
            let message = match problem {
                Problem::Required => "required, but the engine never sends it".to_owned(),
                Problem::Other(m) => m,
            };
            ContractError::for_entity(entity_type, Some(&name), message)
        })
        .collect()
}

/// What is wrong with one attribute
#[derive(Debug)]
enum Problem {
    /// Declared as required, but absent from the request
    Required,
    /// Not declared, or declared with another type
    Other(String),
}

/// The attributes of `sent` that the record type (`Null`: no attributes)
/// does not declare or types differently, then the required attributes
/// `sent` lacks; empty when the type is not a record this reads
fn record_problems(types: &Json, record: &Json, sent: &[Attribute<'_>]) -> Vec<(String, Problem)> {
    let empty = serde_json::Map::new();
    let declared = match record {
        Json::Null => &empty,
        r if r.get("type").and_then(Json::as_str) == Some("Record") => r
            .get("attributes")
            .and_then(Json::as_object)
            .unwrap_or(&empty),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for &(name, value) in sent {
        match declared.get(name) {
            None => out.push((
                name.to_owned(),
                Problem::Other(format!(
                    "not declared; the engine sends {}",
                    value.describe()
                )),
            )),
            Some(d) => {
                if let Some(found) = mismatch(types, d, value) {
                    out.push((
                        name.to_owned(),
                        Problem::Other(format!(
                            "declared as {found}; the engine sends {}",
                            value.describe()
                        )),
                    ));
                }
            }
        }
    }
    for (name, d) in declared {
        let required = d.get("required").and_then(Json::as_bool).unwrap_or(true);
        if required && !sent.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), Problem::Required));
        }
    }
    out
}

/// The `type` values of Cedar's JSON schema format that are not names of
/// common types
const BUILTIN_TYPES: [&str; 8] = [
    "Record",
    "Set",
    "Entity",
    "Extension",
    "Bool",
    "Boolean",
    "String",
    "Long",
];

/// Follows common-type references (`{"type": "DataContext"}`, or with
/// `CommonType`/`EntityOrCommon` and a `name`) to the type they name; `None`
/// when one cannot be followed
fn resolve<'t>(types: &'t Json, mut ty: &'t Json) -> Option<&'t Json> {
    for _ in 0..16 {
        let kind = ty.get("type").and_then(Json::as_str)?;
        let name = match kind {
            "CommonType" | "EntityOrCommon" => ty.get("name").and_then(Json::as_str)?,
            k if BUILTIN_TYPES.contains(&k) => return Some(ty),
            k => k,
        };
        match types
            .get("commonTypes")
            .and_then(|c| c.get(unqualified(name)))
        {
            Some(next) => ty = next,
            None => return Some(ty),
        }
    }
    None
}

/// A type name without a leading `::` or `__cedar::`
fn unqualified(name: &str) -> &str {
    let name = name.strip_prefix("::").unwrap_or(name);
    name.strip_prefix("__cedar::").unwrap_or(name)
}

/// The declared type, when it is not the one the engine sends; `None` when
/// it matches or cannot be read
fn mismatch(types: &Json, declared: &Json, sent: Value<'_>) -> Option<String> {
    let ty = resolve(types, declared)?;
    let kind = ty.get("type").and_then(Json::as_str)?;
    let name = ty.get("name").and_then(Json::as_str).map(unqualified);
    let is = |want: &str| match kind {
        "Entity" | "EntityOrCommon" => name == Some(want),
        _ => false,
    };
    let fits = match sent {
        Value::Bool => matches!(kind, "Bool" | "Boolean") || is("Bool") || is("Boolean"),
        Value::Entity(want, _) => is(want),
        Value::Set(want, _) => {
            kind == "Set"
                && ty
                    .get("element")
                    .is_some_and(|e| mismatch(types, e, Value::Entity(want, "")).is_none())
        }
    };
    if fits {
        return None;
    }
    Some(match (kind, name) {
        ("Entity" | "EntityOrCommon", Some(n)) => format!("`{n}`"),
        ("Set", _) => "a `Set` of another type".to_owned(),
        ("Record", _) => "a record".to_owned(),
        (k, _) => format!("`{k}`"),
    })
}

/// The context attributes the engine puts in at least one request it sends
/// for `action`, each once, in the order they first appear
pub(super) fn supplied_context(action: ActionKind) -> Vec<&'static str> {
    let none = Sample {
        role: "",
        task: None,
        category: "",
        module: "",
    };
    let mut names: Vec<&'static str> = Vec::new();
    for shape in requests(action, none) {
        for (name, _) in shape.context {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The attributes the engine gives every entity of `entity_type` it builds
/// (none for a type it does not build)
pub(super) fn supplied_attributes(entity_type: &str) -> Vec<&'static str> {
    let none = Sample {
        role: "",
        task: None,
        category: "",
        module: "",
    };
    entities(none)
        .into_iter()
        .filter(|(ty, _)| *ty == entity_type)
        .flat_map(|(_, attributes)| attributes.into_iter().map(|(name, _)| name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{PolicyLoadError, SHIPPED_SCHEMA};

    fn contract_errors(schema: &str) -> Vec<ContractError> {
        let text = crate::diagnostic::source(crate::policy::SCHEMA_FILE, schema);
        let (parsed, vocabulary) = super::super::vocabulary::parse_schema(&text).unwrap();
        match check(&parsed, &text, &vocabulary) {
            Ok(()) => Vec::new(),
            Err(e) => e.iter().cloned().collect(),
        }
    }

    fn edit(from: &str, to: &str) -> String {
        assert!(SHIPPED_SCHEMA.contains(from), "{from}");
        SHIPPED_SCHEMA.replacen(from, to, 1)
    }

    #[test]
    fn supplied_context_and_attributes_are_what_the_requests_carry() {
        assert_eq!(
            supplied_context(ActionKind::View),
            [
                "mfa",
                "purpose",
                "source",
                "category",
                "holder",
                "relationship",
                "dossier_consent",
                "access_requested",
                "referral",
                "referral_objection",
                "unplanned_care_consent",
                "ownership_accepted",
                "record_flagged",
                "record_deleted",
                "consent_refused",
                "consent_unconfirmed",
            ]
        );
        assert!(supplied_context(ActionKind::ViewRecord).contains(&"module"));
        assert!(!supplied_context(ActionKind::View).contains(&"module"));
        assert_eq!(
            supplied_context(ActionKind::Share),
            ["mfa", "dossier_consent"]
        );
        assert_eq!(
            supplied_attributes("Practitioner"),
            ["role", "tasks", "organisation"]
        );
        assert!(supplied_attributes("Patient").is_empty());
        assert!(supplied_attributes("Role").is_empty());
    }

    #[test]
    fn the_shipped_schema_accepts_every_request_the_engine_sends() {
        assert_eq!(contract_errors(SHIPPED_SCHEMA), Vec::new());
    }

    #[test]
    fn the_request_set_covers_every_fact_attribute_principal_and_purpose() {
        let vocabulary = crate::policy::Policies::shipped().unwrap();
        let s = Sample::of(vocabulary.vocabulary());
        for &action in ActionKind::ALL {
            let shapes = requests(action, s);
            for fact in Fact::of(action) {
                assert!(
                    shapes
                        .iter()
                        .all(|r| r.context.iter().any(|(n, _)| *n == fact.name())),
                    "{action} {}",
                    fact.name()
                );
            }
            for principal in PRINCIPALS {
                assert!(shapes.iter().any(|r| r.principal == principal), "{action}");
            }
            if has_purpose(action) {
                for p in Purpose::ALL {
                    let sent = Value::Entity("Purpose", p.as_str());
                    assert!(
                        shapes
                            .iter()
                            .any(|r| r.context.contains(&("purpose", sent))),
                        "{action} {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_dropped_fact_is_refused_naming_the_action_and_the_fact() {
        let schema = edit(
            "  consent_other_holder: Bool,     // consent(x, h) for some holder h != o\n",
            "",
        );
        let errors = contract_errors(&schema);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!(e.action(), Some(ActionKind::RequestAccess));
        assert_eq!(e.attribute(), Some("consent_other_holder"));
        // Not declared: the line of the context type that lacks it
        assert_eq!((e.file(), e.line()), ("zorg.cedarschema", Some(64)));
        assert_eq!(
            e.to_string(),
            "`zorg.cedarschema` line 64, action `request_access`, attribute \
             `consent_other_holder`: not declared; the engine sends a `Bool`"
        );
        let errors = match crate::policy::Policies::from_sources(&schema, []) {
            Err(PolicyLoadError::Contract(errors)) => errors,
            other => panic!("{other:?}"),
        };
        assert!(
            errors
                .to_string()
                .contains("`request_access`, attribute `consent_other_holder`"),
            "{errors}"
        );
    }

    #[test]
    fn a_renamed_fact_is_refused_naming_both_names() {
        let schema = edit("  pgo_account: Bool,\n", "  pgo_acount: Bool,\n");
        let errors = contract_errors(&schema);
        let named: Vec<(Option<ActionKind>, Option<&str>)> =
            errors.iter().map(|e| (e.action(), e.attribute())).collect();
        assert_eq!(
            named,
            [
                (Some(ActionKind::StartModule), Some("pgo_account")),
                (Some(ActionKind::StartModule), Some("pgo_acount")),
                (Some(ActionKind::Contribute), Some("pgo_account")),
                (Some(ActionKind::Contribute), Some("pgo_acount")),
            ],
            "{errors:?}"
        );
        assert_eq!(
            errors[1].message(),
            "required, but the engine never sends it"
        );
        // The name the engine sends is not declared: the context type's
        // line; the name it never sends is on its own line (after a line
        // that ends in a comment)
        let lines: Vec<Option<usize>> = errors.iter().map(ContractError::line).collect();
        assert_eq!(lines, [Some(75), Some(79), Some(75), Some(79)]);
        assert_eq!(
            errors[1]
                .location()
                .map(|at| (at.line(), at.column(), at.span().len())),
            Some((79, 3, "pgo_acount".len()))
        );
    }

    #[test]
    fn a_retyped_or_required_optional_attribute_is_refused() {
        let schema = edit(
            "  dossier_consent: Bool,          // consent(x, o)\n",
            "  dossier_consent: Long,\n",
        );
        let errors = contract_errors(&schema);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].action(), Some(ActionKind::Share));
        assert_eq!(
            errors[0].message(),
            "declared as `Long`; the engine sends a `Bool`"
        );
        assert_eq!(errors[0].line(), Some(72), "the attribute's own line");

        // `holder` absent for PGO records: the engine leaves it out of some
        // `view_record` requests (and `view` always sends it).
        let schema = edit(
            "  holder?: Organisation,          // absent for `pgo` records\n",
            "  holder: Organisation,\n",
        );
        let errors = contract_errors(&schema);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].action(), Some(ActionKind::ViewRecord));
        assert_eq!(errors[0].attribute(), Some("holder"));
        assert!(errors[0].message().contains("`holder?`"), "{errors:?}");
    }

    #[test]
    fn principals_purposes_and_entity_attributes_are_checked_too() {
        let schema = edit(
            "action view_own appliesTo {\n  principal: [Practitioner, Patient, Organisation]",
            "action view_own appliesTo {\n  principal: [Patient]",
        );
        let errors = contract_errors(&schema);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.action() == Some(ActionKind::ViewOwn))
        );
        assert!(errors.iter().all(|e| e.attribute().is_none()));
        assert!(errors[0].message().contains("Practitioner"), "{errors:?}");
        // No attribute: the line of the action's declaration
        assert!(errors.iter().all(|e| e.line() == Some(139)), "{errors:?}");

        let schema = edit(
            "\"nza_registration\",\n  \"research\"",
            "\"nza_registration\"",
        );
        let errors = contract_errors(&schema);
        assert!(!errors.is_empty());
        assert!(
            errors.iter().all(|e| e.message().contains("research")),
            "{errors:?}"
        );

        let schema = edit("  tasks: Set<Task>,\n", "  task_list: Set<Task>,\n");
        let errors = contract_errors(&schema);
        let named: Vec<_> = errors
            .iter()
            .map(|e| (e.entity_type(), e.attribute()))
            .collect();
        assert_eq!(
            named,
            [
                (Some("Practitioner"), Some("tasks")),
                (Some("Practitioner"), Some("task_list"))
            ],
            "{errors:?}"
        );
        let lines: Vec<Option<usize>> = errors.iter().map(ContractError::line).collect();
        assert_eq!(lines, [Some(35), Some(37)], "{errors:?}");
    }
}
