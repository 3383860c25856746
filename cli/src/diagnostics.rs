//! Errors that know where they are, shown as a policy author expects: every
//! error, in the library's fixed order, each as `file:line:column` with its
//! source line and a caret under the span (miette's graphical report).
//!
//! On a terminal the report uses Unicode lines and colour (none with
//! `NO_COLOR` set); anywhere else — a pipe, a file, CI, the tests — plain
//! ASCII without colour, so the text is the same on every run
//! (docs/authoring.md, "Diagnostics").

use std::io::{IsTerminal as _, Write};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

/// Renders diagnostics the same way for one run
pub(crate) struct Reporter {
    handler: GraphicalReportHandler,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter").finish_non_exhaustive()
    }
}

impl Reporter {
    /// A reporter for stderr: Unicode and colour on a terminal, plain ASCII elsewhere
    pub(crate) fn for_stderr() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let theme = match (terminal, no_color) {
            (true, false) => GraphicalTheme::unicode(),
            (true, true) => GraphicalTheme::unicode_nocolor(),
            (false, _) => GraphicalTheme::none(),
        };
        Self::with_theme(theme)
    }

    /// A reporter that writes plain ASCII without colour
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Self::with_theme(GraphicalTheme::none())
    }

    fn with_theme(mut theme: GraphicalTheme) -> Self {
        // Each report opens with `error: ` and its message, on one line
        "error:".clone_into(&mut theme.characters.error);
        Self {
            handler: GraphicalReportHandler::new_themed(theme)
                .with_wrap_lines(false)
                .with_context_lines(1)
                .with_links(false),
        }
    }

    /// The report of one diagnostic with no related ones
    pub(crate) fn render(&self, d: &dyn Diagnostic) -> String {
        let mut out = String::new();
        if self.handler.render_report(&mut out, d).is_err() {
            // A diagnostic whose span falls outside its text: its message alone
            out = format!("  error: {d}\n");
        }
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out
    }

    /// Writes every error of `d` (its related errors, recursively, or `d`
    /// itself), in order, each as its report; returns how many
    pub(crate) fn write_all(
        &self,
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

    #[test]
    fn a_validation_error_shows_file_line_column_the_line_and_a_caret() {
        let schema = include_str!("../../policies/zorg.cedarschema");
        let policy = "@id(\"p\")\npermit (principal is Practitioner, action == Action::\"view\", resource)\nwhen { principal.rol == Role::\"huisarts\" };\n";
        let e = zorg_pdp::Policies::from_sources(schema, [("p.cedar", policy)]).unwrap_err();
        let all = leaves(&e);
        assert_eq!(all.len(), 1);
        let text = Reporter::plain().render(all[0]);
        assert!(text.contains("[p.cedar:3:8]"), "{text}");
        assert!(
            text.contains("when { principal.rol == Role::\"huisarts\" };"),
            "{text}"
        );
        assert!(text.contains("^^^"), "{text}");
        assert!(text.contains("did you mean `role`?"), "{text}");
        assert!(text.is_ascii(), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour: {text}");
    }
}
