//! Where an error is in the text it came from: the file, the 1-based line and
//! column, the byte span, and the text itself, so that an error can show its
//! source line with a caret under the span ([`miette::Diagnostic`]).
//!
//! Every error type that knows its place keeps an `Option<Location>` and gets
//! its [`miette::Diagnostic`] implementation from [`located!`]; the first
//! stage of the one-way flow, so every later module may use it.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};

/// A source text shared by every error found in it, under its file name
pub(crate) type Source = Arc<NamedSource<Arc<str>>>;

/// A source text under a file name, shared by the errors found in it
pub(crate) fn source(file: &str, text: &str) -> Source {
    Arc::new(NamedSource::new(file, Arc::from(text)))
}

/// A place in a source file: the file, the 1-based line and column of the
/// span's start, the byte span, and what the span is labelled with
///
/// [`Debug`](fmt::Debug) shows the place, never the text of the file (a
/// scenario file names patients).
#[derive(Clone)]
pub struct Location {
    /// Boxed, so an error that keeps an `Option<Location>` stays small
    place: Box<Place>,
}

/// What a [`Location`] knows
#[derive(Clone)]
struct Place {
    source: Source,
    line: usize,
    column: usize,
    span: Range<usize>,
    label: Option<String>,
}

impl Location {
    /// The span `span` (byte offsets, clamped to the text and to character
    /// boundaries) of `source`
    pub(crate) fn new(source: &Source, span: Range<usize>) -> Self {
        let text: &str = source.inner();
        let start = floor_char(text, span.start.min(text.len()));
        let end = floor_char(text, span.end.clamp(start, text.len()));
        let (line, column) = line_column(text, start);
        Self {
            place: Box::new(Place {
                source: Arc::clone(source),
                line,
                column,
                span: start..end,
                label: None,
            }),
        }
    }

    /// The span of a 1-based line and column (in characters), `len` bytes long
    pub(crate) fn at_line_column(source: &Source, line: usize, column: usize, len: usize) -> Self {
        let start = offset_of(source.inner(), line, column);
        Self::new(source, start..start.saturating_add(len))
    }

    /// The same place, with a label under the caret
    #[must_use]
    pub(crate) fn with_label(mut self, label: impl Into<String>) -> Self {
        let label = label.into();
        self.place.label = (!label.is_empty()).then_some(label);
        self
    }

    /// The file, as the error names it
    pub fn file(&self) -> &str {
        self.place.source.name()
    }

    /// The 1-based line of the span's start
    pub fn line(&self) -> usize {
        self.place.line
    }

    /// The 1-based column of the span's start, in characters
    pub fn column(&self) -> usize {
        self.place.column
    }

    /// The byte span in the file's text
    pub fn span(&self) -> Range<usize> {
        self.place.span.clone()
    }

    /// What the caret says, if anything
    pub fn label(&self) -> Option<&str> {
        self.place.label.as_deref()
    }

    /// The text of the line the span starts on, without its line break
    pub fn source_line(&self) -> &str {
        let text: &str = self.place.source.inner();
        let start = text
            .get(..self.place.span.start)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |i| i + 1);
        let rest = text.get(start..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// The file's text, for [`miette::Diagnostic::source_code`]
    pub(crate) fn source_code(&self) -> &dyn SourceCode {
        &*self.place.source
    }

    /// The labelled span, for [`miette::Diagnostic::labels`]
    pub(crate) fn labels(&self) -> Box<dyn Iterator<Item = LabeledSpan> + '_> {
        Box::new(std::iter::once(LabeledSpan::new_primary_with_span(
            self.place.label.clone(),
            self.place.span.start..self.place.span.end,
        )))
    }

    /// The sort key of a place: file, then byte offset
    pub(crate) fn key(&self) -> (&str, usize, usize) {
        (self.file(), self.place.span.start, self.place.span.end)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file(),
            self.place.line,
            self.place.column
        )
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Location")
            .field("file", &self.file())
            .field("line", &self.place.line)
            .field("column", &self.place.column)
            .field("span", &self.place.span)
            .finish_non_exhaustive()
    }
}

/// Two locations are equal when they point at the same span of the same
/// file with the same label (the text is not compared)
impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key() && self.place.label == other.place.label
    }
}

impl Eq for Location {}

/// The largest character boundary at or before `at`
fn floor_char(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The 1-based line and column (in characters) of byte `at`
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The byte offset of a 1-based line and column (in characters), clamped to
/// the line's end and the text's end
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = text.get(start..).unwrap_or("");
    let line_text = rest.split('\n').next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line_text.len(), |(i, _)| i);
    (start + within).min(text.len())
}

/// The first labelled span of a diagnostic of Cedar's, with its label:
/// where Cedar says the error is in the text it was given
pub(crate) fn cedar_span(d: &dyn miette::Diagnostic) -> Option<(Range<usize>, Option<String>)> {
    let label = d.labels()?.next()?;
    let start = label.offset();
    Some((start..start + label.len(), label.label().map(str::to_owned)))
}

/// Cedar's help text of a diagnostic, on one line
pub(crate) fn cedar_help(d: &dyn miette::Diagnostic) -> Option<String> {
    d.help().map(|h| h.to_string().replace('\n', " "))
}

/// Implements [`miette::Diagnostic`] for error types with an
/// `at: Option<Location>` field (and optionally a `help: Option<String>`
/// field), and a public `location()` accessor
///
/// ```text
/// located!(MyError);              // `at` only
/// located!(MyError, help);        // `at` and `help`
/// ```
macro_rules! located {
    ($name:ty) => {
        $crate::diagnostic::located!(@impl $name, none);
    };
    ($name:ty, help) => {
        $crate::diagnostic::located!(@impl $name, help);
    };
    (@help $e:ident, none) => {{
        let _ = $e;
        None::<&str>
    }};
    (@help $e:ident, help) => {
        $e.help.as_deref()
    };
    (@impl $name:ty, $help:ident) => {
        impl $name {
            /// Where the error is: file, line, column and span, with the
            /// file's text (for [`miette::Diagnostic`]); `None` when the
            /// error is about a whole file
            pub fn location(&self) -> Option<&$crate::diagnostic::Location> {
                self.at.as_ref()
            }
        }

        impl miette::Diagnostic for $name {
            fn source_code(&self) -> Option<&dyn miette::SourceCode> {
                self.at.as_ref().map($crate::diagnostic::Location::source_code)
            }

            fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
                self.at.as_ref().map($crate::diagnostic::Location::labels)
            }

            fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
                let this = self;
                let help: Option<&'a str> = $crate::diagnostic::located!(@help this, $help);
                help.map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
            }
        }
    };
}

pub(crate) use located;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_knows_its_line_column_and_source_line() {
        let s = source("x.cedar", "first\nsecönd line\n\nlast");
        let at = Location::new(&s, 9..13).with_label("here");
        assert_eq!((at.line(), at.column()), (2, 4));
        assert_eq!(at.source_line(), "secönd line");
        assert_eq!(at.to_string(), "x.cedar:2:4");
        assert_eq!(at.label(), Some("here"));
        // Past the end, and inside a character: clamped
        let end = Location::new(&s, 100..200);
        assert_eq!((end.line(), end.column(), end.span()), (4, 5, 24..24));
        let inside = Location::new(&s, 10..11);
        assert_eq!(inside.span(), 9..11, "the middle of `ö` moves to its start");
        assert_eq!(
            Location::at_line_column(&s, 2, 4, 2).span(),
            at.span().start..at.span().start + 2
        );
        assert_eq!(offset_of("ab\ncd", 2, 9), 5, "a column past the line's end");
    }

    #[test]
    fn debug_shows_the_place_not_the_text() {
        let s = source("w.toml", "patient = \"client-secret\"\n");
        let at = Location::new(&s, 11..24);
        let debug = format!("{at:?}");
        assert!(
            debug.contains("w.toml") && debug.contains("line: 1"),
            "{debug}"
        );
        assert!(!debug.contains("client-secret"), "{debug}");
    }
}
