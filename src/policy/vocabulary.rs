//! The schema and the vocabulary it declares.

use cedar_policy::{Schema, SchemaFragment};

use super::policy_load_errors::{SchemaError, VocabularyError};
use super::{PolicyLoadError, flatten, load};
use crate::diagnostic::{self, Location, Source};
use crate::model::ids::{CareModule, Category, IdError, Role, Task};
use crate::model::vocab::Vocabulary;

/// Parses the schema (`source`, under the name errors give it) and reads its
/// vocabulary; every error Cedar finds, each at its place
pub(super) fn parse_schema(source: &Source) -> Result<(Schema, Vocabulary), Vec<PolicyLoadError>> {
    let text: &str = source.inner();
    load::check_len(source.name(), text.len()).map_err(|e| vec![e.into()])?;
    let (schema, _warnings) =
        Schema::from_cedarschema_str(text).map_err(|e| schema_errors(&e, source))?;
    let vocabulary = vocabulary_of(text).map_err(|e| match e {
        PolicyLoadError::Vocabulary(v) => {
            let at = declaration(text, v.message()).map(|span| Location::new(source, span));
            vec![v.at(at).into()]
        }
        other => vec![other],
    })?;
    Ok((schema, vocabulary))
}

/// Cedar's schema error and the errors related to it, each at its place,
/// in the order of the text
fn schema_errors(e: &dyn miette::Diagnostic, source: &Source) -> Vec<PolicyLoadError> {
    let mut leaves: Vec<&dyn miette::Diagnostic> = vec![e];
    if let Some(related) = e.related() {
        leaves.extend(related);
    }
    let mut found: Vec<SchemaError> = leaves
        .into_iter()
        .map(|d| {
            let at = diagnostic::cedar_span(d).map(|(span, label)| {
                let at = Location::new(source, span);
                match label {
                    Some(label) => at.with_label(label),
                    None => at,
                }
            });
            SchemaError::new(one_line(d)).at(at, diagnostic::cedar_help(d))
        })
        .collect();
    found.sort_by(|a, b| {
        let key = |e: &SchemaError| e.location().map(|at| at.span().start);
        key(a)
            .cmp(&key(b))
            .then_with(|| a.message().cmp(b.message()))
    });
    found.dedup();
    found.into_iter().map(PolicyLoadError::from).collect()
}

/// A diagnostic's message and causes on one line
fn one_line(d: &dyn miette::Diagnostic) -> String {
    flatten(d)
}

/// The span of `entity Name` for the type a vocabulary message names first
fn declaration(text: &str, message: &str) -> Option<std::ops::Range<usize>> {
    let name = message.split('`').nth(1)?;
    let needle = format!("entity {name}");
    let at = text.match_indices(&needle).find_map(|(i, _)| {
        let after = text.get(i + needle.len()..)?;
        (!after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')).then_some(i)
    })?;
    Some(at..at + needle.len())
}

/// Reads the enumerated entity types `Role`, `Task`, `Category` and `CareModule`
fn vocabulary_of(schema_text: &str) -> Result<Vocabulary, PolicyLoadError> {
    let (fragment, _) = SchemaFragment::from_cedarschema_str(schema_text)
        .map_err(|e| SchemaError::new(flatten(&e)))?;
    let json = fragment
        .to_json_value()
        .map_err(|e| SchemaError::new(flatten(&e)))?;
    let types = json
        .get("")
        .and_then(|ns| ns.get("entityTypes"))
        .ok_or_else(|| {
            VocabularyError::new("the schema must declare its types outside any namespace")
        })?;
    Ok(Vocabulary::new(
        list(types, "Role", Role::new)?,
        list(types, "Task", Task::new)?,
        list(types, "Category", Category::new)?,
        list(types, "CareModule", CareModule::new)?,
    ))
}

/// The values of one enumerated entity type
fn list<T>(
    types: &serde_json::Value,
    name: &str,
    make: fn(&str) -> Result<T, IdError>,
) -> Result<Vec<T>, VocabularyError> {
    let values = types
        .get(name)
        .and_then(|t| t.get("enum"))
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| {
            VocabularyError::new(format!("`{name}` must be an enumerated entity type"))
        })?;
    values
        .iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| VocabularyError::new(format!("`{name}`: values must be strings")))?;
            make(s).map_err(|e| VocabularyError::new(format!("`{name}`: {e}")))
        })
        .collect()
}
