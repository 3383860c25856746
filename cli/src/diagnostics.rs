//! Errors that know where they are, shown as a policy author expects: every
//! error, in the library's fixed order, each as `file:line:column` with its
//! source line, the lines beside it, and a caret under the span.
//!
//! The report reads the library's [`miette::Diagnostic`]s (message, source
//! text, labelled span, help) and is drawn here, in ASCII, the same bytes on
//! every run; on a terminal `error` and the caret are coloured (not with
//! `NO_COLOR` set). Drawing it here rather than with miette's graphical
//! handler keeps miette's optional features (and the crates they bring) out
//! of the build: turning them on for the CLI would also change miette for
//! the library, and build the whole of Cedar twice (docs/authoring.md,
//! "Diagnostics").

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write};

use miette::{Diagnostic, SourceSpan};

/// How a report is drawn
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reporter {
    colour: bool,
}

/// ANSI styles, when colour is on
const RED_BOLD: &str = "\u{1b}[1;31m";
const BLUE: &str = "\u{1b}[34m";
const RESET: &str = "\u{1b}[0m";

impl Reporter {
    /// A reporter for stderr: colour on a terminal without `NO_COLOR`, none elsewhere
    pub(crate) fn for_stderr() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            colour: std::io::stderr().is_terminal() && !no_color,
        }
    }

    /// A reporter that writes plain ASCII without colour
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Self { colour: false }
    }

    fn paint(self, style: &str, text: &str) -> String {
        if self.colour {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// The report of one diagnostic (its related ones are not drawn: see
    /// [`Reporter::write_all`]), ending in a blank line
    pub(crate) fn render(self, d: &dyn Diagnostic) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} {d}", self.paint(RED_BOLD, "error:"));
        // Notes line up with the gutter's bar
        let pad = match snippet(d) {
            Some(snippet) => {
                self.draw(&mut out, &snippet);
                " ".repeat(snippet.gutter_width() + 1)
            }
            None => "  ".to_owned(),
        };
        let mut cause = std::error::Error::source(d);
        while let Some(c) = cause {
            let _ = writeln!(out, "{pad}= cause: {c}");
            cause = c.source();
        }
        if let Some(help) = d.help() {
            let _ = writeln!(out, "{pad}= help: {help}");
        }
        out.push('\n');
        out
    }

    /// The `-->` line, the gutter, the lines and the caret
    fn draw(self, out: &mut String, s: &Snippet) {
        let width = s.gutter_width();
        let pad = " ".repeat(width);
        let bar = self.paint(BLUE, "|");
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            self.paint(BLUE, "-->"),
            s.file,
            s.line,
            s.column
        );
        let _ = writeln!(out, "{pad} {bar}");
        for (i, text) in s.lines.iter().enumerate() {
            let n = s.first_line + i;
            let _ = writeln!(
                out,
                "{} {bar} {text}",
                self.paint(BLUE, &format!("{n:>width$}"))
            );
            if n == s.line {
                // The caret keeps the line's tabs, so it sits under the span
                let lead: String = text
                    .chars()
                    .take(s.column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let carets = self.paint(RED_BOLD, &"^".repeat(s.width));
                let label = s
                    .label
                    .as_deref()
                    .map(|l| format!(" {}", self.paint(RED_BOLD, l)))
                    .unwrap_or_default();
                let _ = writeln!(out, "{pad} {bar} {lead}{carets}{label}");
            }
        }
        let _ = writeln!(out, "{pad} {bar}");
    }

    /// Writes every error of `d` (its related errors, recursively, or `d`
    /// itself), in order, each as its report; returns how many
    pub(crate) fn write_all(
        self,
        out: &mut dyn Write,
        d: &dyn Diagnostic,
    ) -> std::io::Result<usize> {
        let errors = leaves(d);
        for e in &errors {
            write!(out, "{}", self.render(*e))?;
        }
        Ok(errors.len())
    }
}

/// What a report shows of the source: the lines around the span
#[derive(Debug)]
struct Snippet {
    file: String,
    /// 1-based line and column (in characters) of the span's start
    line: usize,
    column: usize,
    /// How many carets: the span's characters on its first line, at least one
    width: usize,
    label: Option<String>,
    /// The 1-based number of the first line shown
    first_line: usize,
    lines: Vec<String>,
}

impl Snippet {
    /// How wide the line numbers are
    fn gutter_width(&self) -> usize {
        let last = self.first_line + self.lines.len().saturating_sub(1);
        last.to_string().len()
    }
}

/// The lines around the first labelled span of `d`, one before and one after
fn snippet(d: &dyn Diagnostic) -> Option<Snippet> {
    let source = d.source_code()?;
    let label = d.labels()?.next()?;
    let span: SourceSpan = *label.inner();
    let contents = source.read_span(&span, 1, 1).ok()?;
    let data = std::str::from_utf8(contents.data()).ok()?;
    let start = span.offset().checked_sub(contents.span().offset())?;
    let before = data.get(..start)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = contents.line() + before.matches('\n').count() + 1;
    let column = before.get(line_start..)?.chars().count() + 1;
    let rest_of_line = data
        .get(start..)?
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r');
    let spanned = data
        .get(start..(start + span.len()).min(data.len()))
        .unwrap_or("");
    let width = spanned
        .split('\n')
        .next()
        .unwrap_or("")
        .chars()
        .count()
        .min(rest_of_line.chars().count())
        .max(1);
    let lines = data
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect::<Vec<_>>();
    // A text that ends in a line break has no line after it
    let lines = match lines.split_last() {
        Some((last, most)) if last.is_empty() && !most.is_empty() => most.to_vec(),
        _ => lines,
    };
    Some(Snippet {
        file: contents.name().unwrap_or("<input>").to_owned(),
        line,
        column,
        width,
        label: label.label().map(str::to_owned),
        first_line: contents.line() + 1,
        lines,
    })
}

/// Writes a command's error to `err`: a policy or scenario error as its
/// reports (after the context it was met in), anything else on one line
pub(crate) fn report(e: &anyhow::Error, err: &mut dyn Write) -> std::io::Result<()> {
    let mut context = Vec::new();
    for cause in e.chain() {
        let located: Option<&dyn Diagnostic> =
            if let Some(d) = cause.downcast_ref::<zorg_pdp::PolicyLoadError>() {
                Some(d)
            } else if let Some(d) = cause.downcast_ref::<zorg_pdp::ScenarioError>() {
                Some(d)
            } else {
                None
            };
        if let Some(d) = located {
            if !context.is_empty() {
                writeln!(err, "error: {}:", context.join(": "))?;
            }
            Reporter::for_stderr().write_all(err, d)?;
            return Ok(());
        }
        context.push(cause.to_string());
    }
    writeln!(err, "error: {e:#}")
}

/// Every single error of a diagnostic, in order: the related errors of a
/// list (recursively), or the diagnostic itself
pub(crate) fn leaves(d: &dyn Diagnostic) -> Vec<&dyn Diagnostic> {
    match d.related() {
        Some(related) => {
            let mut out = Vec::new();
            for r in related {
                out.extend(leaves(r));
            }
            out
        }
        None => vec![d],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = include_str!("../../policies/zorg.cedarschema");

    #[test]
    fn a_validation_error_shows_file_line_column_the_lines_and_a_caret() {
        let policy = "@id(\"p\")\npermit (principal is Practitioner, action == Action::\"view\", resource)\nwhen { principal.rol == Role::\"huisarts\" };\n";
        let e = zorg_pdp::Policies::from_sources(SCHEMA, [("p.cedar", policy)]).unwrap_err();
        let all = leaves(&e);
        assert_eq!(all.len(), 1);
        let text = Reporter::plain().render(all[0]);
        let expected = "error: `p.cedar` line 1, policy `p`: attribute `rol` on entity type `Practitioner` not found\n \
             --> p.cedar:3:8\n  \
             |\n\
             2 | permit (principal is Practitioner, action == Action::\"view\", resource)\n\
             3 | when { principal.rol == Role::\"huisarts\" };\n  \
             |        ^^^^^^^^^^^^^ attribute `rol` on entity type `Practitioner` not found\n  \
             |\n  \
             = help: did you mean `role`?\n\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_caret_sits_under_the_span_past_tabs() {
        // The error on the last line of the file: no line after it
        let e = zorg_pdp::Policies::from_sources(
            SCHEMA,
            [(
                "u.cedar",
                "@id(\"a\")\n\tpermit (principal, action, resource) when { 1 + };",
            )],
        )
        .unwrap_err();
        let text = Reporter::plain().render(leaves(&e)[0]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[4], "2 | \tpermit (principal, action, resource) when { 1 + };",
            "{text}"
        );
        assert!(lines[1].ends_with("u.cedar:2:50"), "{text}");
        let under = format!("  | \t{}^ expected", " ".repeat(48));
        assert!(lines[5].starts_with(&under), "{text}");
        assert_eq!(lines[6], "  |", "{text}");
    }

    #[test]
    fn an_error_without_a_place_is_its_message_and_its_cause() {
        let e = zorg_pdp::Policies::from_dir("/no/such/folder").unwrap_err();
        let text = Reporter::plain().render(&e);
        assert!(
            text.starts_with("error: cannot read `/no/such/folder`\n  = cause: "),
            "{text}"
        );
    }
}
