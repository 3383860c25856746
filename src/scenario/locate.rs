//! Where a field of a scenario file is: the byte spans of its values, kept
//! for the errors found after parsing (an unknown category, an unknown
//! holder, an event the engine rejects), so each error points at its field.
//!
//! A TOML text's spans are the TOML parser's ([`DeTable`]); a JSON text's are
//! `jsonc-parser`'s syntax tree, since `serde_json` keeps none. The same
//! [`Step`] paths lead through both.

use std::ops::Range;

use jsonc_parser::ast::{self as json, ObjectProp};
use jsonc_parser::common::Ranged as _;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Location, Source};

/// One step of a path into a scenario's tables
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'p> {
    /// A key of a table: its value (its name when the value is a table)
    Key(&'p str),
    /// A key of a table: its name
    KeyName(&'p str),
    /// The string element of an array equal to this
    Element(&'p str),
}

/// The spans of a scenario text, when it parses
#[derive(Debug)]
pub(crate) struct Spans<'t> {
    root: Root<'t>,
    pub(crate) source: Source,
}

/// A parsed text, with the span of every value
#[derive(Debug)]
enum Root<'t> {
    Toml(Spanned<DeTable<'t>>),
    Json(json::Value<'t>),
    /// The text does not parse: no spans
    None,
}

/// A value of either text, with its span
#[derive(Clone, Copy)]
enum Node<'v, 't> {
    Toml(&'v Spanned<DeValue<'t>>),
    Json(&'v json::Value<'t>),
}

impl<'v, 't> Node<'v, 't> {
    fn span(self) -> Range<usize> {
        match self {
            Node::Toml(v) => v.span(),
            // An object is its opening brace: the entry it is, not all its lines
            Node::Json(json::Value::Object(object)) => {
                object.range.start..object.range.start.saturating_add(1)
            }
            Node::Json(v) => {
                let r = v.range();
                r.start..r.end
            }
        }
    }

    fn is_table(self) -> bool {
        match self {
            Node::Toml(v) => matches!(v.get_ref(), DeValue::Table(_)),
            Node::Json(v) => matches!(v, json::Value::Object(_)),
        }
    }

    /// The span of `key`'s name in this table, and its value
    fn key(self, key: &str) -> Option<(Range<usize>, Node<'v, 't>)> {
        match self {
            Node::Toml(v) => match v.get_ref() {
                DeValue::Table(table) => toml_key(table, key),
                _ => None,
            },
            Node::Json(json::Value::Object(object)) => json_key(&object.properties, key),
            Node::Json(_) => None,
        }
    }

    /// The `index`-th element of this array
    fn index(self, index: usize) -> Option<Node<'v, 't>> {
        match self {
            Node::Toml(v) => match v.get_ref() {
                DeValue::Array(items) => items.get(index).map(Node::Toml),
                _ => None,
            },
            Node::Json(json::Value::Array(array)) => array.elements.get(index).map(Node::Json),
            Node::Json(_) => None,
        }
    }

    /// The first string element of this array equal to `text`
    fn element(self, text: &str) -> Option<Node<'v, 't>> {
        match self {
            Node::Toml(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .find(|v| matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == text))
                    .map(Node::Toml),
                _ => None,
            },
            Node::Json(json::Value::Array(array)) => array
                .elements
                .iter()
                .find(|v| matches!(v, json::Value::StringLit(s) if s.value.as_ref() == text))
                .map(Node::Json),
            Node::Json(_) => None,
        }
    }
}

impl<'t> Spans<'t> {
    /// The spans of `text`, TOML or JSON as `toml` says (none when it does
    /// not parse)
    pub(crate) fn new(source: Source, text: &'t str, toml: bool) -> Self {
        let root = if toml {
            DeTable::parse(text).ok().map(Root::Toml)
        } else {
            parse_json(text).map(Root::Json)
        };
        Self {
            root: root.unwrap_or(Root::None),
            source,
        }
    }

    /// The span of the `index`-th entry of the array of tables `table`
    /// (`[[events]]`, `"events": [ … ]`), then down `path`: the deepest step
    /// found, so a path that goes too far still points at its last known part
    ///
    /// A key whose value is a table points at the key's name, any other at
    /// its value.
    pub(crate) fn find(
        &self,
        table: &str,
        index: usize,
        path: &[Step<'_>],
    ) -> Option<Range<usize>> {
        let entries = match &self.root {
            Root::Toml(root) => toml_key(root.get_ref(), table)?.1,
            Root::Json(json::Value::Object(root)) => json_key(&root.properties, table)?.1,
            Root::Json(_) | Root::None => return None,
        };
        let entry = entries.index(index)?;
        let mut found = entry.span();
        let mut node = entry;
        for step in path {
            let next = match step {
                Step::Key(key) => node.key(key).map(|(name, v)| {
                    let span = if v.is_table() { name } else { v.span() };
                    (span, v)
                }),
                Step::KeyName(key) => node.key(key),
                Step::Element(text) => node.element(text).map(|v| (v.span(), v)),
            };
            let Some((span, v)) = next else { break };
            found = span;
            node = v;
        }
        Some(found)
    }

    /// The span of what a JSON error whose token ends at byte `end` is
    /// about: the deepest value or key holding the byte before `end`; when
    /// that is an object holding `field`, that field (as [`Step::Key`] finds
    /// it); `None` for a TOML text, or one that does not parse
    pub(crate) fn json_at(&self, end: usize, field: Option<&str>) -> Option<Range<usize>> {
        let Root::Json(root) = &self.root else {
            return None;
        };
        let at = end.checked_sub(1)?;
        let holds = |r: jsonc_parser::common::Range| r.start <= at && at < r.end;
        let mut node = root;
        if !holds(node.range()) {
            return None;
        }
        loop {
            let next = match node {
                // Properties and elements are in the order of the text: the
                // one that may hold `at` is the last starting at or before it
                json::Value::Object(object) => {
                    let i = object.properties.partition_point(|p| p.range.start <= at);
                    match i.checked_sub(1).and_then(|i| object.properties.get(i)) {
                        Some(p) if holds(p.value.range()) => Some(&p.value),
                        // The name, or between it and its value (at the colon)
                        Some(p) if holds(p.range) => {
                            let name = p.name.range();
                            return Some(name.start..name.end);
                        }
                        _ => None,
                    }
                }
                json::Value::Array(array) => {
                    let i = array.elements.partition_point(|v| v.range().start <= at);
                    i.checked_sub(1)
                        .and_then(|i| array.elements.get(i))
                        .filter(|v| holds(v.range()))
                }
                _ => None,
            };
            match next {
                Some(v) => node = v,
                None => break,
            }
        }
        if let (json::Value::Object(object), Some(field)) = (node, field)
            && let Some((name, value)) = json_key(&object.properties, field)
        {
            return Some(if value.is_table() { name } else { value.span() });
        }
        Some(Node::Json(node).span())
    }

    /// The top-level object of a JSON text
    pub(crate) fn json_object(&self) -> Option<&json::Object<'t>> {
        match &self.root {
            Root::Json(json::Value::Object(object)) => Some(object),
            _ => None,
        }
    }

    /// A location at `span`
    pub(crate) fn location(&self, span: Range<usize>) -> Location {
        Location::new(&self.source, span)
    }
}

/// The syntax tree of a JSON text, with the byte span of every value (of a
/// text `serde_json` accepted: `jsonc-parser`'s leniencies never come into play)
pub(crate) fn parse_json(text: &str) -> Option<json::Value<'_>> {
    let collect = jsonc_parser::CollectOptions::default();
    let options = jsonc_parser::ParseOptions::default();
    jsonc_parser::parse_to_ast(text, &collect, &options)
        .ok()
        .and_then(|parsed| parsed.value)
}

/// The span of a key of a TOML table, and its value
fn toml_key<'v, 't>(table: &'v DeTable<'t>, key: &str) -> Option<(Range<usize>, Node<'v, 't>)> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span(), Node::Toml(v)))
}

/// The span of a key of a JSON object (its quotes included), and its value:
/// the last of a repeated key, the one `serde_json` keeps in a map
fn json_key<'v, 't>(
    properties: &'v [ObjectProp<'t>],
    key: &str,
) -> Option<(Range<usize>, Node<'v, 't>)> {
    properties
        .iter()
        .rev()
        .find(|p| p.name.as_str() == key)
        .map(|p| {
            let r = p.name.range();
            (r.start..r.end, Node::Json(&p.value))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n\n[[events]]\nat = \"2026-01-01T00:00:00Z\"\ntype = \"treatment_started\"\n\n[[expect_dashboard]]\nat = \"2026-01-01T00:00:00Z\"\n[expect_dashboard.visible]\nvp-noord = [\"basis\", \"kraambedd\"]\n";

    fn spans() -> Spans<'static> {
        Spans::new(crate::diagnostic::source("t.toml", TEXT), TEXT, true)
    }

    fn text_of(span: Option<Range<usize>>) -> &'static str {
        span.and_then(|s| TEXT.get(s)).unwrap_or("")
    }

    #[test]
    fn fields_and_elements_are_found_by_path() {
        let s = spans();
        assert_eq!(
            text_of(s.find("events", 0, &[Step::Key("type")])),
            "\"treatment_started\""
        );
        assert_eq!(
            text_of(s.find(
                "expect_dashboard",
                0,
                &[
                    Step::Key("visible"),
                    Step::Key("vp-noord"),
                    Step::Element("kraambedd")
                ]
            )),
            "\"kraambedd\""
        );
        assert_eq!(
            text_of(s.find("expect_dashboard", 0, &[Step::Key("visible")])),
            "visible"
        );
        // A missing key stops at the last step found
        let entry = s.find("events", 0, &[]);
        assert_eq!(s.find("events", 0, &[Step::Key("holder")]), entry);
        assert!(s.find("events", 1, &[]).is_none());
    }

    /// The spans of a JSON text, and the text a path leads to
    fn json_at(text: &str, table: &str, index: usize, path: &[Step<'_>]) -> Option<String> {
        let s = Spans::new(crate::diagnostic::source("t.json", text), text, false);
        let span = s.find(table, index, path)?;
        text.get(span).map(str::to_owned)
    }

    /// The 1-based line and column of what a path leads to in a JSON text
    fn json_place(text: &str, table: &str, index: usize, path: &[Step<'_>]) -> (usize, usize) {
        let s = Spans::new(crate::diagnostic::source("t.json", text), text, false);
        let at = s.location(s.find(table, index, path).unwrap());
        (at.line(), at.column())
    }

    #[test]
    fn json_values_are_found_by_the_same_paths_in_nested_objects_and_arrays() {
        let text = "{\n  \"name\": \"x\",\n  \"events\": [\n    {\"type\": \"treatment_started\", \"at\": \"2026-01-01T00:00:00Z\"},\n    {\n      \"type\": \"access_requested\",\n      \"practitioner\": \"anna\"\n    }\n  ],\n  \"expect_dashboard\": [\n    {\n      \"visible\": {\n        \"vp-noord\": [\"basis\", \"kraambedd\"]\n      },\n      \"modules\": {\"DN\": false}\n    }\n  ]\n}\n";
        assert_eq!(
            json_at(text, "events", 1, &[Step::Key("practitioner")]).as_deref(),
            Some("\"anna\"")
        );
        assert_eq!(
            json_place(text, "events", 1, &[Step::Key("practitioner")]),
            (7, 23)
        );
        assert_eq!(json_place(text, "events", 0, &[Step::Key("at")]), (4, 41));
        let kraambedd = [
            Step::Key("visible"),
            Step::Key("vp-noord"),
            Step::Element("kraambedd"),
        ];
        assert_eq!(
            json_at(text, "expect_dashboard", 0, &kraambedd).as_deref(),
            Some("\"kraambedd\"")
        );
        assert_eq!(
            json_place(text, "expect_dashboard", 0, &kraambedd),
            (13, 31)
        );
        // A key whose value is a table: its name, quotes and all
        assert_eq!(
            json_at(text, "expect_dashboard", 0, &[Step::Key("visible")]).as_deref(),
            Some("\"visible\"")
        );
        assert_eq!(
            json_at(
                text,
                "expect_dashboard",
                0,
                &[Step::Key("modules"), Step::KeyName("DN")]
            )
            .as_deref(),
            Some("\"DN\"")
        );
        // A path that goes too far stops at its last step found; an entry
        // that is not there has no span
        let entry = json_at(text, "events", 1, &[]).unwrap();
        assert_eq!(entry, "{", "an entry is its opening brace");
        assert_eq!(json_place(text, "events", 1, &[]), (5, 5));
        assert_eq!(
            json_at(text, "events", 1, &[Step::Key("holder")]),
            Some(entry)
        );
        assert_eq!(json_at(text, "events", 2, &[]), None);
        assert_eq!(json_at(text, "patients", 0, &[]), None);
        assert_eq!(json_at(text, "name", 0, &[]), None, "not an array");
    }

    #[test]
    fn json_keys_and_strings_with_escapes_and_unicode_are_matched_by_their_value() {
        // An escaped quote and a `\u` escape before the value, a key written
        // with escapes, and characters of several bytes on the same line
        let text = "{\"name\": \"\\\"zo\u{00eb}\\\" \u{1f476}\", \"events\": [{\"note\": \"\\u00e9\u{00e9}\", \"p\\u0061tient\": \"client-\u{00e9}\", \"organisation\": \"kz\\/oost\"}]}";
        assert_eq!(
            json_at(text, "events", 0, &[Step::Key("patient")]).as_deref(),
            Some("\"client-\u{00e9}\"")
        );
        let (line, column) = json_place(text, "events", 0, &[Step::Key("patient")]);
        let before = text.find("\"client-").unwrap();
        assert_eq!(
            (line, column),
            (1, text.get(..before).unwrap().chars().count() + 1),
            "the column counts characters, not bytes"
        );
        assert_eq!(
            json_at(text, "events", 0, &[Step::Key("organisation")]).as_deref(),
            Some("\"kz\\/oost\"")
        );
        let arr = "{\"events\": [{\"c\": [\"a\\\"b\", \"kz/oost\"]}]}";
        assert_eq!(
            json_at(arr, "events", 0, &[Step::Key("c"), Step::Element("a\"b")]).as_deref(),
            Some("\"a\\\"b\"")
        );
        assert_eq!(
            json_at(
                arr,
                "events",
                0,
                &[Step::Key("c"), Step::Element("kz/oost")]
            )
            .as_deref(),
            Some("\"kz/oost\"")
        );
    }

    #[test]
    fn the_same_key_name_in_different_objects_is_found_in_its_own() {
        let text = "{\n  \"holder\": \"top\",\n  \"expect\": [\n    {\"holder\": \"first\", \"principal\": {\"holder\": \"inner\"}},\n    {\"principal\": {\"holder\": \"inner-2\"}, \"holder\": \"second\"}\n  ]\n}";
        assert_eq!(
            json_at(text, "expect", 0, &[Step::Key("holder")]).as_deref(),
            Some("\"first\"")
        );
        assert_eq!(
            json_at(text, "expect", 1, &[Step::Key("holder")]).as_deref(),
            Some("\"second\"")
        );
        assert_eq!(
            json_at(
                text,
                "expect",
                1,
                &[Step::Key("principal"), Step::Key("holder")]
            )
            .as_deref(),
            Some("\"inner-2\"")
        );
        assert_eq!(
            json_place(text, "expect", 1, &[Step::Key("holder")]),
            (5, 52)
        );
        // A key repeated in one object: the last, the one serde_json keeps
        let twice = "{\"expect\": [{\"holder\": \"a\", \"holder\": \"b\"}]}";
        assert_eq!(
            json_at(twice, "expect", 0, &[Step::Key("holder")]).as_deref(),
            Some("\"b\"")
        );
    }

    #[test]
    fn a_json_error_position_is_the_value_key_or_entry_it_ends_at() {
        let text = "{\"events\": [{\"at\": \"x\" , \"k\" : 1, \"p\": {\"q\": 2}}]}";
        let s = Spans::new(crate::diagnostic::source("t.json", text), text, false);
        let under =
            |end: usize, field: Option<&str>| s.json_at(end, field).and_then(|span| text.get(span));
        let end_of = |needle: &str| text.find(needle).unwrap() + needle.len();
        assert_eq!(under(end_of("\"x\""), None), Some("\"x\""));
        // Between a key and its colon: the key
        assert_eq!(under(end_of("\"k\" "), None), Some("\"k\""));
        assert_eq!(under(end_of("\"q\": 2"), None), Some("2"));
        // At an entry's closing brace: the field the message names, or the
        // entry's opening brace
        let close = text.len() - 2;
        assert_eq!(under(close, Some("at")), Some("\"x\""));
        assert_eq!(under(close, Some("p")), Some("\"p\""), "a table: its key");
        let entry = text.find("[{").unwrap() + 1;
        assert_eq!(s.json_at(close, Some("nothing")), Some(entry..entry + 1));
        assert_eq!(s.json_at(0, None), None);
        assert_eq!(
            spans().json_at(3, None),
            None,
            "a TOML text has spans of its own"
        );
    }

    #[test]
    fn a_text_that_does_not_parse_has_no_spans() {
        for (text, toml) in [("{", false), ("[1]", false), ("a = ", true)] {
            let s = Spans::new(crate::diagnostic::source("t", text), text, toml);
            assert!(s.find("events", 0, &[]).is_none(), "{text}");
        }
    }
}
