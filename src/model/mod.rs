//! The domain model: ids, time, entities, events, requests and responses.
//! Pure data with serde; nothing here knows about Cedar.

pub(crate) mod consent;
pub(crate) mod consent_query;
pub(crate) mod consent_vocab;
pub(crate) mod entities;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod fact;
pub(crate) mod hex;
pub(crate) mod ids;
pub(crate) mod log_entry;
pub(crate) mod names;
pub(crate) mod national;
pub(crate) mod request;
pub(crate) mod time;
pub(crate) mod vocab;

use crate::model::error::ParseError;

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
/// last `key =` or `"key":` before it), unless the message names a field
/// already; serde's Rust type words become wire words ([`wire_words`])
pub(crate) fn name_field(text: &str, offset: usize, message: String) -> String {
    let message = wire_words(message);
    if message.contains("field `") {
        return message;
    }
    match field_before(text, offset) {
        Some(field) => format!("field `{field}`: {message}"),
        None => message,
    }
}

/// What serde's derived and built-in types say they expected (after
/// "expected "), and what a JSON or TOML author calls it; a kind followed by
/// a name is a Rust type (`struct RequestRecord`), which must not reach users
const EXPECTED: &[(&str, &str)] = &[
    ("internally tagged enum ", "an object"),
    ("adjacently tagged enum ", "an object"),
    ("struct variant ", "an object"),
    ("tuple variant ", "an array"),
    ("newtype variant ", "a value"),
    ("unit variant ", "a string"),
    ("tuple struct ", "an array"),
    ("newtype struct ", "a value"),
    ("unit struct ", "null"),
    ("struct ", "an object"),
    ("enum ", "a string or an object"),
];

/// serde's built-in expectations that are Rust words rather than wire words
const EXPECTED_WORDS: &[(&str, &str)] = &[
    ("a sequence", "an array"),
    ("a map", "an object"),
    ("a character", "a one-character string"),
    ("option", "a value or null"),
    ("unit", "null"),
    ("u8", "a whole number"),
    ("u16", "a whole number"),
    ("u32", "a whole number"),
    ("u64", "a whole number"),
    ("u128", "a whole number"),
    ("usize", "a whole number"),
    ("i8", "an integer"),
    ("i16", "an integer"),
    ("i32", "an integer"),
    ("i64", "an integer"),
    ("i128", "an integer"),
    ("isize", "an integer"),
    ("f32", "a number"),
    ("f64", "a number"),
];

/// What serde says it found (after "invalid type: "), in wire words
const FOUND_WORDS: &[(&str, &str)] = &[
    ("sequence", "array"),
    ("map", "object"),
    ("unit value", "null"),
    ("newtype struct", "a value"),
    ("unit variant", "a string"),
];

/// Replaces serde's Rust type names and words in an error message with the
/// words of the wire format: "expected struct `RequestRecord`" becomes
/// "expected an object", "invalid type: sequence" becomes "invalid type: array"
pub(crate) fn wire_words(message: String) -> String {
    let message = array_for_object(untagged(message));
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(i) = rest.find("expected ") {
        let (before, after) = rest.split_at(i + "expected ".len());
        out.push_str(&found_words(before));
        rest = expected_words(after, &mut out);
    }
    out.push_str(&found_words(rest));
    out
}

/// serde's "invalid length N, expected struct X with M elements": an array
/// where an object belongs
fn array_for_object(message: String) -> String {
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if let Some(tail) = rest.get(digits..)
            && digits > 0
            && tail.starts_with(", expected struct ")
        {
            return format!("invalid type: array{tail}");
        }
    }
    message
}

/// serde's "data did not match any variant of untagged enum X"
fn untagged(message: String) -> String {
    const UNTAGGED: &str = "data did not match any variant of untagged enum ";
    match message.find(UNTAGGED) {
        Some(i) => {
            let after = message.get(i + UNTAGGED.len()..).unwrap_or("");
            let name_len = rust_path_len(after);
            format!(
                "{}the value does not have any of the accepted forms{}",
                message.get(..i).unwrap_or(""),
                after.get(name_len..).unwrap_or("")
            )
        }
        None => message,
    }
}

/// Writes the wire words for the expectation at the start of `after` to
/// `out`, and returns the text after it
fn expected_words<'m>(after: &'m str, out: &mut String) -> &'m str {
    for (kind, wire) in EXPECTED {
        if let Some(named) = after.strip_prefix(kind) {
            let name_len = rust_path_len(named);
            if name_len == 0 {
                continue;
            }
            out.push_str(wire);
            let rest = named.get(name_len..).unwrap_or("");
            // `struct X with 3 elements`: serde's wording for a sequence
            // given where an object belongs
            return match rest.strip_prefix(" with ") {
                Some(n) => n.find(" element").map_or(rest, |j| {
                    let tail = n.get(j + " element".len()..).unwrap_or("");
                    tail.strip_prefix('s').unwrap_or(tail)
                }),
                None => rest,
            };
        }
    }
    for (word, wire) in EXPECTED_WORDS {
        if let Some(rest) = after.strip_prefix(word)
            && !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push_str(wire);
            return rest;
        }
    }
    after
}

/// `before` with serde's words for what it found replaced
fn found_words(before: &str) -> String {
    for marker in ["invalid type: ", "invalid value: "] {
        if let Some(i) = before.find(marker) {
            let (head, found) = before.split_at(i + marker.len());
            for (word, wire) in FOUND_WORDS {
                if let Some(rest) = found.strip_prefix(word)
                    && (rest.is_empty() || rest.starts_with([',', ' ']))
                {
                    return format!("{head}{wire}{rest}");
                }
            }
        }
    }
    before.to_owned()
}

/// The length of the Rust type path at the start of `s` (`RequestRecord`,
/// `Principal::Patient`)
fn rust_path_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len())
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
    fn serde_rust_type_names_become_wire_words() {
        let e = parse_json::<request::RequestRecord>(r#""x""#, "request").unwrap_err();
        assert_eq!(
            e.to_string(),
            "request: invalid type: string \"x\", expected an object (line 1, column 3)"
        );
        let e = parse_json::<request::RequestRecord>("[]", "request").unwrap_err();
        assert_eq!(
            e.to_string(),
            "request: invalid type: array, expected an object (line 1, column 2)"
        );
        let e = parse_json::<event::EventRecord>(
            r#"{"at":"2026-01-01T00:00:00Z","type":"pgo_account_created","patient":["a"]}"#,
            "event",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("field `patient`: invalid type: array, expected a string"),
            "{e}"
        );
        for (serde, wire) in [
            (
                "invalid type: map, expected struct variant Principal::Patient",
                "invalid type: object, expected an object",
            ),
            (
                "invalid type: unit value, expected enum Principal",
                "invalid type: null, expected a string or an object",
            ),
            (
                "invalid type: sequence, expected internally tagged enum Kind",
                "invalid type: array, expected an object",
            ),
            (
                "invalid length 2, expected tuple struct Pair with 3 elements",
                "invalid length 2, expected an array",
            ),
            (
                "invalid type: string \"a\", expected u64",
                "invalid type: string \"a\", expected a whole number",
            ),
            (
                "invalid type: integer `3`, expected a sequence",
                "invalid type: integer `3`, expected an array",
            ),
            (
                "data did not match any variant of untagged enum Principal",
                "the value does not have any of the accepted forms",
            ),
            // Wire words stay as they are; so do names in backticks.
            (
                "unknown variant `x`, expected one of `practitioner`, `patient`",
                "unknown variant `x`, expected one of `practitioner`, `patient`",
            ),
            (
                "invalid type: string \"map\", expected a boolean",
                "invalid type: string \"map\", expected a boolean",
            ),
            ("expected `,` or `}`", "expected `,` or `}`"),
            ("expected value", "expected value"),
            ("expected unity", "expected unity"),
        ] {
            assert_eq!(wire_words(serde.to_owned()), wire, "{serde}");
            assert!(!wire_words(serde.to_owned()).contains("struct "), "{serde}");
        }
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
