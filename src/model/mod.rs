//! The domain model: ids, time, entities, events, requests and responses.
//! Pure data with serde; nothing here knows about Cedar.

pub(crate) mod entities;
pub(crate) mod event;
pub(crate) mod fact;
pub(crate) mod hex;
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
    serde_json::from_str(json).map_err(|e| {
        let message = strip_position(&e.to_string());
        let offset = offset_of(json, e.line(), e.column());
        ParseError::Syntax {
            what,
            message: name_field(json, offset, message),
            line: e.line(),
            column: e.column(),
        }
    })
}

/// Byte offset of a 1-based line and column
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column).min(text.len())
}

/// Prefixes `message` with the field whose value ends near `offset` (the
/// last `key =` or `"key":` before it), unless the message names a field already
pub(crate) fn name_field(text: &str, offset: usize, message: String) -> String {
    if message.contains("field `") {
        return message;
    }
    match field_before(text, offset) {
        Some(field) => format!("field `{field}`: {message}"),
        None => message,
    }
}

fn field_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    // A small scanner: skips string contents, remembers the last bare word or
    // string, and takes it as the key at each `:` or `=` outside a string.
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut current = String::new();
    let mut last = String::new();
    let mut word = String::new();
    let mut key = None;
    for c in before.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
                last = std::mem::take(&mut current);
            } else if current.len() < 64 {
                current.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                quote = Some(c);
                current.clear();
            }
            ':' | '=' => {
                if !word.is_empty() {
                    last = std::mem::take(&mut word);
                }
                key = Some(last.clone());
            }
            c if (c.is_ascii_alphanumeric() || c == '_' || c == '-') && word.len() < 64 => {
                word.push(c);
            }
            _ => {
                if !word.is_empty() {
                    last = std::mem::take(&mut word);
                }
            }
        }
    }
    key.filter(|k| !k.is_empty())
}

/// `serde_json` appends " at line L column C"; we report those separately
pub(crate) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let e = parse_json::<request::RequestRecord>(
            r#"{"principal":{"practitioner":"a b"},"action":"view","patient":"c1","at":"2026-01-01T00:00:00Z"}"#,
            "request",
        )
        .unwrap_err();
        assert!(e.to_string().contains("field `practitioner`"), "{e}");
        let e = parse_json::<event::EventRecord>(
            r#"{"at":"2026-02-30T00:00:00Z","type":"pgo_account_created"}"#,
            "event",
        )
        .unwrap_err();
        assert!(e.to_string().contains("field `at`"), "{e}");
        let e = parse_json::<event::EventRecord>(
            r#"{"at":"2026-01-01T00:00:00Z","type":"lab"}"#,
            "event",
        )
        .unwrap_err();
        assert!(e.to_string().contains("field `type`"), "{e}");
    }

    #[test]
    fn oversized_json_is_refused() {
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_JSON_LEN));
        assert!(matches!(
            parse_json::<serde_json::Value>(&big, "event"),
            Err(ParseError::TooLarge { .. })
        ));
    }
}
