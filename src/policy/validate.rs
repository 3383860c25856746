//! Strict validation against the schema, keeping every error in a fixed order.

use cedar_policy::{Schema, ValidationMode, Validator};

use super::flatten;
use super::load::Loaded;
use super::policy_load_errors::{ValidationError, ValidationErrors};
use crate::diagnostic::{self, Location};

/// Validates every loaded policy strictly against `schema`
///
/// Cedar reports errors in an order that changes between runs; they come
/// back sorted by file, line, policy id and message.
pub(super) fn strictly(schema: &Schema, loaded: &Loaded) -> Result<(), ValidationErrors> {
    let result = Validator::new(schema.clone()).validate(&loaded.set, ValidationMode::Strict);
    let errors = result
        .validation_errors()
        .map(|e| {
            let id = e.policy_id().to_string();
            let (file, line) = loaded
                .origins
                .get(&id)
                .map_or((String::new(), 0), |o| (o.file.clone(), o.line));
            let message = without_policy(&flatten(e), &id);
            // Cedar's span is a byte span of the file the policy was parsed from
            let at = loaded
                .sources
                .get(&file)
                .zip(diagnostic::cedar_span(e))
                .map(|(source, (span, label))| {
                    // Cedar labels few of its spans; the caret then says the message
                    Location::new(source, span).with_label(label.unwrap_or_else(|| message.clone()))
                });
            ValidationError::new(file, line, id, message).at(at, diagnostic::cedar_help(e))
        })
        .collect();
    ValidationErrors::new(errors).map_or(Ok(()), Err)
}

/// Cedar starts its messages with "for policy `id`, " (or ": "); the entry
/// names the policy already
fn without_policy(message: &str, id: &str) -> String {
    let prefix = format!("for policy `{id}`");
    message
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix(", ").or_else(|| rest.strip_prefix(": ")))
        .unwrap_or(message)
        .to_owned()
}
