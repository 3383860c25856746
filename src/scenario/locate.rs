//! Where a field of a scenario file is: the TOML parser's spans, kept for the
//! errors found after parsing (an unknown category, an unknown holder, an
//! event the engine rejects), so each error points at its field.

use std::ops::Range;

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

/// The spans of a scenario text, when it is TOML that parses
#[derive(Debug)]
pub(crate) struct Spans<'t> {
    root: Option<Spanned<DeTable<'t>>>,
    pub(crate) source: Source,
}

impl<'t> Spans<'t> {
    /// The spans of `text` (none for JSON: `serde_json` gives no spans after parsing)
    pub(crate) fn new(source: Source, text: &'t str, toml: bool) -> Self {
        let root = if toml {
            DeTable::parse(text).ok()
        } else {
            None
        };
        Self { root, source }
    }

    /// The span of the `index`-th entry of the array of tables `table`
    /// (`[[events]]`), then down `path`: the deepest step found, so a path
    /// that goes too far still points at its last known part
    pub(crate) fn find(
        &self,
        table: &str,
        index: usize,
        path: &[Step<'_>],
    ) -> Option<Range<usize>> {
        let root = self.root.as_ref()?.get_ref();
        let entry = root.get(table)?.get_ref().get(index)?;
        let mut found = entry.span();
        let mut value: &Spanned<DeValue<'_>> = entry;
        for step in path {
            let next = match step {
                Step::Key(key) => key_span(value.get_ref(), key).map(|(key_span, v)| {
                    // A key whose value is a table points at the key, else at the value
                    let span = if matches!(v.get_ref(), DeValue::Table(_)) {
                        key_span
                    } else {
                        v.span()
                    };
                    (span, v)
                }),
                Step::KeyName(key) => key_span(value.get_ref(), key),
                Step::Element(text) => match value.get_ref() {
                    DeValue::Array(items) => items
                        .iter()
                        .find(|v| matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == *text))
                        .map(|v| (v.span(), v)),
                    _ => None,
                },
            };
            let Some((span, v)) = next else { break };
            found = span;
            value = v;
        }
        Some(found)
    }

    /// A location at `span`
    pub(crate) fn location(&self, span: Range<usize>) -> Location {
        Location::new(&self.source, span)
    }
}

/// The span of a key of a table value, and its value
fn key_span<'v, 'i>(
    value: &'v DeValue<'i>,
    key: &str,
) -> Option<(Range<usize>, &'v Spanned<DeValue<'i>>)> {
    let DeValue::Table(table) = value else {
        return None;
    };
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span(), v))
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
        assert!(
            Spans::new(crate::diagnostic::source("t.json", "{}"), "{}", false)
                .find("events", 0, &[])
                .is_none()
        );
    }
}
