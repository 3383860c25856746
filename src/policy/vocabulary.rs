//! The schema and the vocabulary it declares.

use cedar_policy::{Schema, SchemaFragment};

use super::policy_load_errors::{SchemaError, VocabularyError};
use super::{PolicyLoadError, SCHEMA_FILE, flatten, load};
use crate::model::ids::{CareModule, Category, IdError, Role, Task};
use crate::model::vocab::Vocabulary;

/// Parses the schema and reads its vocabulary
pub(super) fn parse_schema(text: &str) -> Result<(Schema, Vocabulary), PolicyLoadError> {
    load::check_len(SCHEMA_FILE, text.len())?;
    let (schema, _warnings) =
        Schema::from_cedarschema_str(text).map_err(|e| SchemaError::new(flatten(&e)))?;
    Ok((schema, vocabulary_of(text)?))
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
