//! Every part of a scenario file that does not fit the format, not only the
//! first: serde stops at the first wrong field of a text, so when the whole
//! file does not deserialize, each top-level value and each entry of a
//! top-level array (`[[expect]]`, `"events": [ … ]`) is deserialized as a
//! [`Scenario`] of its own, and every error is kept at its place.
//!
//! A top-level value is tried beside the values that fit before it, with
//! every array empty; an entry beside all the values that fit, alone in its
//! array. So one bad entry does not hide the next, a required top-level
//! field (should one be added) is there in each, and nothing here names a
//! field of the format: a field added to it is checked as in the whole file.
//! An entry reports at most its first wrong field (serde stops there).

use std::ops::Range;

use jsonc_parser::ast::{self as json, ObjectProp};
use jsonc_parser::common::Ranged as _;
use serde::Deserialize as _;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::locate::Spans;
use super::{Scenario, ScenarioError};
use crate::diagnostic::{Location, Source};

/// One part that does not fit: its entry's label (`events #2`; `None` for a
/// top-level value), where the part starts (a field is named from there),
/// its span in the text and serde's message without its position
struct Misfit {
    entry: Option<String>,
    from: usize,
    span: Option<Range<usize>>,
    message: String,
}

impl Misfit {
    /// The error, naming the entry and the field
    fn error(self, text: &str, path: &std::path::Path, source: &Source) -> ScenarioError {
        let Misfit {
            entry,
            from,
            span,
            message,
        } = self;
        let message = match &span {
            // A field is looked for from the part's start (not the file's: a
            // file of many wrong entries is not read again for each)
            Some(span) => {
                let scope = text.get(from..).unwrap_or("");
                let at = span.end.saturating_sub(from);
                crate::model::name_field(scope, at, message)
            }
            None => message,
        };
        let message = match entry {
            Some(entry) => format!("{entry}: {message}"),
            None => message,
        };
        match span {
            Some(span) => ScenarioError::located(path, Location::new(source, span), message),
            None => ScenarioError::new(path, None, message),
        }
    }
}

/// The most errors of parts that do not fit reported for one file, in the
/// order of the file; the rest are counted in one last error (each error's
/// place costs a walk over the text before it, and nobody reads thousands)
pub(super) const MAX_MISFITS: usize = 100;

/// A TOML error at its place
pub(super) fn toml_error(
    text: &str,
    path: &std::path::Path,
    source: &Source,
    e: &toml::de::Error,
) -> ScenarioError {
    toml_misfit(None, 0, e).error(text, path, source)
}

/// A TOML error as a misfit (`entry`: the label of the entry it is in;
/// `from`: where that part starts)
fn toml_misfit(entry: Option<String>, from: usize, e: &toml::de::Error) -> Misfit {
    Misfit {
        entry,
        from,
        span: e.span(),
        message: e.message().replace('\n', " "),
    }
}

/// The errors of `misfits`, in the order of the file: the first
/// [`MAX_MISFITS`], then one that counts the rest
fn report(
    mut misfits: Vec<Misfit>,
    text: &str,
    path: &std::path::Path,
    source: &Source,
) -> Vec<ScenarioError> {
    misfits.sort_by_key(|m| m.span.as_ref().map(|s| (s.start, s.end)));
    let rest = misfits.len().saturating_sub(MAX_MISFITS);
    misfits.truncate(MAX_MISFITS);
    let mut errors: Vec<ScenarioError> = misfits
        .into_iter()
        .map(|m| m.error(text, path, source))
        .collect();
    errors.dedup();
    if rest > 0 {
        errors.push(ScenarioError::new(
            path,
            None,
            format!(
                "{rest} more entries or values do not fit the format (the first {MAX_MISFITS} are shown)"
            ),
        ));
    }
    errors
}

/// Every serde error of a TOML scenario text that parses, each at its
/// place, in the order of the text (at most [`MAX_MISFITS`], then their
/// count); empty when the text does not parse or every part fits alone
pub(super) fn toml_errors(
    text: &str,
    path: &std::path::Path,
    source: &Source,
) -> Vec<ScenarioError> {
    let Ok(root) = DeTable::parse(text) else {
        return Vec::new();
    };
    let span = root.span();
    let root = root.into_inner();
    let check = |table: DeTable<'_>| {
        Scenario::deserialize(toml::de::Deserializer::from(Spanned::new(
            span.clone(),
            table,
        )))
        .err()
    };
    let mut misfits = Vec::new();
    let mut base = DeTable::new();
    let mut arrays = Vec::new();
    for (key, value) in &root {
        let shell = match value.get_ref() {
            DeValue::Array(entries) => {
                arrays.push((key, value.span(), entries));
                Spanned::new(value.span(), DeValue::Array(DeArray::new()))
            }
            _ => value.clone(),
        };
        let mut table = base.clone();
        table.insert(key.clone(), shell.clone());
        match check(table) {
            Some(e) => {
                // An unknown or wrong top-level key: its entries are not looked at
                arrays.retain(|(k, _, _)| *k != key);
                misfits.push(toml_misfit(None, key.span().start, &e));
            }
            None => {
                base.insert(key.clone(), shell);
            }
        }
    }
    for (key, array_span, entries) in arrays {
        for (i, entry) in entries.iter().enumerate() {
            let mut one = DeArray::new();
            one.push(entry.clone());
            let mut table = base.clone();
            table.insert(
                key.clone(),
                Spanned::new(array_span.clone(), DeValue::Array(one)),
            );
            if let Some(e) = check(table) {
                let label = format!("{} #{}", key.get_ref(), i + 1);
                let from = entry.span().start;
                misfits.push(toml_misfit(Some(label), from, &e));
            }
        }
    }
    report(misfits, text, path, source)
}

/// A JSON error of `serde_json` at its place: the value, key or object the
/// error ends at (`spans` finds it; the field the message names when that
/// is an object holding it), else the byte before
pub(super) fn json_error(
    text: &str,
    path: &std::path::Path,
    spans: &Spans<'_>,
    e: &serde_json::Error,
) -> ScenarioError {
    let message = crate::model::strip_position(&e.to_string());
    if e.line() == 0 {
        return ScenarioError::new(path, None, message);
    }
    let end = crate::model::offset_of(text, e.line(), e.column());
    let data = e.classify() == serde_json::error::Category::Data;
    Misfit {
        entry: None,
        from: 0,
        span: Some(place(spans, end, data, 0, &message, text)),
        message,
    }
    .error(text, path, &spans.source)
}

/// Where an error whose token ends at byte `end` is: for a data error, the
/// node `spans` finds (`from`: where its part starts, for the field's name),
/// else the one byte before `end`
fn place(
    spans: &Spans<'_>,
    end: usize,
    data: bool,
    from: usize,
    message: &str,
    text: &str,
) -> Range<usize> {
    let fallback = end.saturating_sub(1)..end;
    if !data {
        return fallback;
    }
    let scope = text.get(from..).unwrap_or("");
    let named = crate::model::name_field(scope, end.saturating_sub(from), message.to_owned());
    let field = super::run::field_named(&named);
    spans.json_at(end, field.as_deref()).unwrap_or(fallback)
}

/// Every serde error of a JSON scenario text whose top level is an object,
/// each at its place, in the order of the text (at most [`MAX_MISFITS`],
/// then their count); empty when it is not, or every part fits alone
pub(super) fn json_errors(
    text: &str,
    path: &std::path::Path,
    spans: &Spans<'_>,
) -> Vec<ScenarioError> {
    let Some(root) = spans.json_object() else {
        return Vec::new();
    };
    let mut misfits = Vec::new();
    // The top-level values that fit: their index among `root`'s properties,
    // and whether they are arrays (tried empty)
    let mut base: Vec<(usize, bool)> = Vec::new();
    let mut misfit = |entry: Option<String>, from: usize, part: &Part<'_>, e: serde_json::Error| {
        let message = crate::model::strip_position(&e.to_string());
        let span = (e.line() > 0).then(|| {
            let end = part.original(crate::model::offset_of(&part.text, e.line(), e.column()));
            let data = e.classify() == serde_json::error::Category::Data;
            place(spans, end, data, from, &message, text)
        });
        misfits.push(Misfit {
            entry,
            from,
            span,
            message,
        });
    };
    for (i, prop) in root.properties.iter().enumerate() {
        let array = matches!(prop.value, json::Value::Array(_));
        let mut tried = base.clone();
        tried.push((i, array));
        let part = Part::of(text, &root.properties, &tried, None);
        match part.check() {
            Some(e) => misfit(None, prop.range.start, &part, e),
            None => base.push((i, array)),
        }
    }
    for &(i, _) in base.iter().filter(|(_, array)| *array) {
        let Some(prop) = root.properties.get(i) else {
            continue;
        };
        let json::Value::Array(entries) = &prop.value else {
            continue;
        };
        for (n, entry) in entries.elements.iter().enumerate() {
            let part = Part::of(text, &root.properties, &base, Some((i, entry)));
            if let Some(e) = part.check() {
                let label = format!("{} #{}", prop.name.as_str(), n + 1);
                misfit(Some(label), entry.range().start, &part, e);
            }
        }
    }
    report(misfits, text, path, &spans.source)
}

/// A JSON text put together from pieces of the scenario text, and where
/// each piece came from
struct Part<'t> {
    original: &'t str,
    text: String,
    /// Each copied piece: where it starts in `text`, where in `original`,
    /// and its length
    pieces: Vec<(usize, usize, usize)>,
}

impl<'t> Part<'t> {
    /// The object of the top-level values `chosen` (by index; an array
    /// empty, or holding only `entry` when it is the one of `entry`'s index)
    fn of(
        original: &'t str,
        properties: &[ObjectProp<'_>],
        chosen: &[(usize, bool)],
        entry: Option<(usize, &json::Value<'_>)>,
    ) -> Self {
        let mut part = Self {
            original,
            text: String::from("{"),
            pieces: Vec::new(),
        };
        for (n, &(i, array)) in chosen.iter().enumerate() {
            let Some(prop) = properties.get(i) else {
                continue;
            };
            if n > 0 {
                part.text.push(',');
            }
            part.copy(prop.name.range().start..prop.name.range().end);
            part.text.push(':');
            match entry {
                Some((at, value)) if at == i => {
                    part.text.push('[');
                    part.copy(value.range().start..value.range().end);
                    part.text.push(']');
                }
                _ if array => part.text.push_str("[]"),
                _ => part.copy(prop.value.range().start..prop.value.range().end),
            }
        }
        part.text.push('}');
        part
    }

    fn copy(&mut self, range: Range<usize>) {
        let piece = self.original.get(range.clone()).unwrap_or("");
        self.pieces
            .push((self.text.len(), range.start, piece.len()));
        self.text.push_str(piece);
    }

    /// The serde error of this part as a [`Scenario`], if any
    fn check(&self) -> Option<serde_json::Error> {
        serde_json::from_str::<Scenario>(&self.text).err()
    }

    /// The offset in the original text of byte `at` of this part: in a
    /// piece, its place there; between pieces, the end of the one before
    fn original(&self, at: usize) -> usize {
        let before = self.pieces.partition_point(|&(start, _, _)| start <= at);
        match before.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(start, from, len)) => from + (at - start).min(len),
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every error of a scenario text: line, column, the text under the
    /// caret, and the message
    fn errors_of(text: &str, file: &str) -> Vec<(usize, usize, String, String)> {
        Scenario::parse_all(text, Path::new(file))
            .unwrap_err()
            .iter()
            .map(|e| {
                let at = e.location().unwrap();
                assert_eq!(e.line(), Some(at.line()));
                let under = text.get(at.span()).unwrap().to_owned();
                (at.line(), at.column(), under, e.message().to_owned())
            })
            .collect()
    }

    const JSON: &str = r#"{
  "name": "drie fouten, één bestand",
  "organisations": [{"id": "kz-oost"}],
  "practitioners": [
    {"id": "anna", "naam": "Änne", "organisation": "kz-oost", "role": 3}
  ],
  "events": [
    {
      "at": "2026-01-10T09:00:00Z",
      "type": "treatment_started",
      "pateint" : "client-1",
      "organisation": "kz-oost"
    },
    {"at": "gisteren", "type": "treatment_started", "patient": "client-1", "organisation": "kz-oost"}
  ],
  "expect": [
    {
      "at": "2026-02-01T00:00:00Z",
      "principal": {"practitioner": "anna"},
      "action": "view",
      "patient": "client-1"
    }
  ]
}
"#;

    #[test]
    fn every_json_entry_that_does_not_fit_is_an_error_at_its_place() {
        let found = errors_of(JSON, "s.json");
        let places: Vec<(usize, usize, &str)> = found
            .iter()
            .map(|(l, c, under, _)| (*l, *c, under.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                (5, 20, "\"naam\""),
                (11, 7, "\"pateint\""),
                (14, 12, "\"gisteren\""),
                (17, 5, "{")
            ],
            "{found:#?}"
        );
        assert!(
            found[0]
                .3
                .starts_with("practitioners #1: unknown field `naam`"),
            "{}",
            found[0].3
        );
        assert!(found[1].3.starts_with("events #1: unknown field `pateint`"));
        assert!(
            found[2]
                .3
                .starts_with("events #2: field `at`: invalid time `gisteren`"),
            "{}",
            found[2].3
        );
        assert_eq!(found[3].3, "expect #1: missing field `decision`");
        // `role = 3` is the entry's second wrong field: serde stops at the first
        assert!(
            !found.iter().any(|f| f.3.contains("integer `3`")),
            "{found:#?}"
        );
        let without_naam = JSON.replace("\"naam\": \"Änne\", ", "");
        let found = errors_of(&without_naam, "s.json");
        assert_eq!(
            (found[0].0, found[0].1, found[0].2.as_str()),
            (5, 55, "3"),
            "{found:#?}"
        );
        // A file that fits parses as before
        let fixed = without_naam
            .replace("\"role\": 3", "\"role\": \"huisarts\"")
            .replace("\"pateint\"", "\"patient\"")
            .replace("gisteren", "2026-01-09T09:00:00Z")
            .replace(
                "\"patient\": \"client-1\"\n    }",
                "\"patient\": \"client-1\", \"decision\": \"deny\"\n    }",
            );
        let parsed = Scenario::parse_all(&fixed, Path::new("s.json")).unwrap();
        assert_eq!(parsed, serde_json::from_str::<Scenario>(&fixed).unwrap());
        assert_eq!((parsed.events.len(), parsed.expect.len()), (2, 1));
    }

    #[test]
    fn a_json_syntax_error_after_a_wrong_value_is_the_next_error() {
        let text = "{\n  \"name\": \"x\",\n  \"events\": [{\"at\": 5},]\n}";
        let found = errors_of(text, "s.json");
        let places: Vec<(usize, usize, &str)> = found
            .iter()
            .map(|(l, c, under, _)| (*l, *c, under.as_str()))
            .collect();
        assert_eq!(places, [(3, 21, "5"), (3, 24, "]")], "{found:#?}");
        assert!(found[1].3.contains("expected value"), "{}", found[1].3);
        // A syntax error alone: at its character, columns in characters
        let found = errors_of("{\n  \"name\": \"é\", \"patients\": view\n}", "s.json");
        assert_eq!(
            (found.len(), found[0].0, found[0].1, found[0].2.as_str()),
            (1, 2, 28, "v"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_wrong_top_level_value_is_reported_once_and_an_unknown_table_hides_its_entries() {
        let text = "{\"name\": 1, \"event\": [{\"x\": 1}], \"patients\": [{\"id\": 2}], \"events\": [{\"at\": 3}]}";
        let found = errors_of(text, "s.json");
        let said: Vec<(usize, &str)> = found.iter().map(|f| (f.1, f.3.as_str())).collect();
        assert_eq!(said.len(), 4, "{said:#?}");
        assert!(
            said[0].1.starts_with("field `name`: invalid type"),
            "{said:#?}"
        );
        assert_eq!(
            (said[1].0, &said[1].1[..22]),
            (13, "unknown field `event`,")
        );
        assert!(
            said[2].1.starts_with("patients #1: field `id`"),
            "{said:#?}"
        );
        assert!(said[3].1.starts_with("events #1: field `at`"), "{said:#?}");
        // The same in TOML
        let toml = "name = 1\n[[event]]\nx = 1\n[[patients]]\nid = 2\n[[events]]\nat = 3\n";
        let found = errors_of(toml, "s.toml");
        let said: Vec<(usize, usize, &str)> =
            found.iter().map(|f| (f.0, f.1, f.3.as_str())).collect();
        assert_eq!(said.len(), 4, "{said:#?}");
        assert_eq!((said[1].0, said[1].1), (2, 3), "{said:#?}");
        assert!(said[1].2.starts_with("unknown field `event`"), "{said:#?}");
        assert!(
            said[2].2.starts_with("patients #1: field `id`"),
            "{said:#?}"
        );
        assert!(said[3].2.starts_with("events #1: field `at`"), "{said:#?}");
    }

    #[test]
    fn past_the_limit_the_rest_is_counted_in_one_last_error() {
        let entry = "[[patients]]\nid = 1\n";
        let text = format!("[[expect]]\nat = 2\n{}", entry.repeat(MAX_MISFITS + 49));
        let errors = Scenario::parse_all(&text, Path::new("s.toml")).unwrap_err();
        assert_eq!(errors.len(), MAX_MISFITS + 1);
        let lines: Vec<Option<usize>> = errors.iter().map(ScenarioError::line).collect();
        // The first hundred of the file, whatever the order of its tables
        assert_eq!(lines.first(), Some(&Some(2)), "expect #1 comes first");
        assert_eq!(lines.get(MAX_MISFITS - 1), Some(&Some(2 * MAX_MISFITS)));
        let last = errors.last().unwrap();
        assert_eq!(
            (last.line(), last.message()),
            (
                None,
                "50 more entries or values do not fit the format (the first 100 are shown)"
            )
        );
        let json = format!(
            "{{\"patients\": [{}]}}",
            vec!["{\"id\": 1}"; MAX_MISFITS + 1].join(",\n")
        );
        let errors = Scenario::parse_all(&json, Path::new("s.json")).unwrap_err();
        assert_eq!(errors.len(), MAX_MISFITS + 1);
        assert!(errors.last().unwrap().message().starts_with("1 more "));
        assert_eq!(
            errors.get(MAX_MISFITS - 1).and_then(ScenarioError::line),
            Some(MAX_MISFITS)
        );
    }

    #[test]
    fn a_part_maps_its_bytes_back_to_the_text() {
        let text = "{\"a\": 1, \"b\": [10, 20]}";
        let Some(json::Value::Object(root)) = super::super::locate::parse_json(text) else {
            panic!("an object");
        };
        let json::Value::Array(b) = &root.properties[1].value else {
            panic!("an array");
        };
        let part = Part::of(
            text,
            &root.properties,
            &[(0, false), (1, true)],
            Some((1, &b.elements[1])),
        );
        assert_eq!(part.text, "{\"a\":1,\"b\":[20]}");
        let twenty = part.text.find("20").unwrap();
        assert_eq!(part.original(twenty), text.find("20").unwrap());
        assert_eq!(
            part.original(twenty + 2),
            text.find("20").unwrap() + 2,
            "its end"
        );
        assert_eq!(
            part.original(part.text.len() - 1),
            text.find("20").unwrap() + 2,
            "glue after a piece"
        );
        assert_eq!(part.original(0), 0, "glue before every piece");
        let empty = Part::of(text, &root.properties, &[(1, true)], None);
        assert_eq!(empty.text, "{\"b\":[]}");
    }
}
