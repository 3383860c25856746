//! The domain model: ids, time, entities, events, requests and responses.
//! Pure data with serde; nothing here knows about Cedar.

pub(crate) mod entities;
pub(crate) mod event;
pub(crate) mod ids;
pub(crate) mod request;
pub(crate) mod time;
pub(crate) mod vocab;

use crate::error::ParseError;

/// The largest JSON text accepted for one request, event or dashboard query
pub const MAX_JSON_LEN: usize = 64 * 1024;

/// Parses one JSON value of type `T`, refusing oversized input
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    json: &str,
    what: &'static str,
) -> Result<T, ParseError> {
    if json.len() > MAX_JSON_LEN {
        return Err(ParseError::TooLarge {
            what,
            size: json.len(),
            limit: MAX_JSON_LEN,
        });
    }
    serde_json::from_str(json).map_err(|e| ParseError::Syntax {
        what,
        message: strip_position(&e.to_string()),
        line: e.line(),
        column: e.column(),
    })
}

/// serde_json appends " at line L column C"; we report those separately
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_owned(),
        None => msg.to_owned(),
    }
}
