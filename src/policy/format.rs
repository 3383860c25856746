//! Cedar's own formatter (`cedar-policy-formatter`), with the load's
//! located syntax errors.

use std::str::FromStr;

use cedar_policy::PolicySet;
use cedar_policy_formatter::{Config, policies_str_to_pretty};

use super::policy_load_errors::PolicySyntaxError;
use super::{PolicyLoadError, flatten, load};
use crate::diagnostic;

/// The line width the formatter fills to (Cedar's own default)
pub const FORMAT_LINE_WIDTH: usize = 80;

/// The indentation the formatter uses (Cedar's own default)
pub const FORMAT_INDENT: usize = 2;

/// A policy file's text as Cedar's formatter writes it: the same policies,
/// annotations and comments, laid out with an indent of [`FORMAT_INDENT`]
/// within [`FORMAT_LINE_WIDTH`] columns
///
/// `file` names the file in errors. Formatting formatted text changes nothing.
///
/// # Errors
///
/// [`PolicyLoadError::Parse`] (or [`PolicyLoadError::Several`], one per
/// syntax error) at the place of each error when the text does not parse;
/// [`PolicyLoadError::TooLarge`], [`PolicyLoadError::TooDeep`] and
/// [`PolicyLoadError::TooComplex`] as at load; [`PolicyLoadError::Parse`]
/// naming the file when the formatter cannot keep the policies as they are.
///
/// ```
/// let messy = "// the rule\n@id(\"p\")   permit(principal,action,resource)  when {context.mfa};";
/// let tidy = zorg_pdp::format_policies("p.cedar", messy)?;
/// assert_eq!(tidy, "// the rule\n@id(\"p\")\npermit (principal, action, resource)\nwhen { context.mfa };\n");
/// assert_eq!(zorg_pdp::format_policies("p.cedar", &tidy)?, tidy);
/// # Ok::<(), zorg_pdp::PolicyLoadError>(())
/// ```
pub fn format_policies(file: &str, text: &str) -> Result<String, PolicyLoadError> {
    load::check_len(file, text.len())?;
    let source = diagnostic::source(file, text);
    load::check_shape(text, file, &source)?;
    if let Err(e) = PolicySet::from_str(text) {
        let errors = load::syntax_errors(&e, file, &source);
        return Err(PolicyLoadError::from_all(errors)
            .unwrap_or_else(|| PolicySyntaxError::new(file, flatten(&e)).into()));
    }
    let config = Config {
        line_width: FORMAT_LINE_WIDTH,
        indent_width: isize::try_from(FORMAT_INDENT).unwrap_or(2),
    };
    policies_str_to_pretty(text, &config).map_err(|e| {
        let message = format!("the formatter cannot keep the policies as they are: {e}");
        PolicySyntaxError::new(file, message.replace('\n', " ")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SHIPPED_POLICIES;

    /// `role-matrix.cedar` keeps one row per role with its categories run on
    /// (Cedar's formatter puts one category a line, 155 lines for 12 rows);
    /// the C and CLI tests edit its rows as written
    const KEPT_AS_WRITTEN: &[&str] = &["role-matrix.cedar"];

    #[test]
    fn the_shipped_policies_are_formatted() {
        let mut unformatted = Vec::new();
        for (name, text) in SHIPPED_POLICIES {
            let formatted = format_policies(name, text).unwrap();
            if formatted != *text && !KEPT_AS_WRITTEN.contains(name) {
                unformatted.push(*name);
            }
            // Formatting is stable
            assert_eq!(
                format_policies(name, &formatted).unwrap(),
                formatted,
                "{name}"
            );
        }
        assert!(
            unformatted.is_empty(),
            "run `zorg-pdp fmt` (these differ from Cedar's formatter): {unformatted:?}"
        );
    }

    #[test]
    fn formatting_keeps_every_annotation_and_comment() {
        let schema = include_str!("../../policies/zorg.cedarschema");
        for (name, text) in SHIPPED_POLICIES {
            let formatted = format_policies(name, text).unwrap();
            for line in text.lines().map(str::trim) {
                if line.starts_with("//") || line.starts_with('@') {
                    assert!(formatted.contains(line), "{name}: `{line}` was lost");
                }
            }
            let before =
                super::super::Policies::from_sources_unguarded(schema, [(*name, *text)]).unwrap();
            let after = super::super::Policies::from_sources_unguarded(
                schema,
                [(*name, formatted.as_str())],
            )
            .unwrap();
            assert_eq!(before.ids(), after.ids(), "{name}");
            for id in before.ids() {
                assert_eq!(before.reason_of(id), after.reason_of(id), "{name}: {id}");
                assert_eq!(before.is_permit(id), after.is_permit(id), "{name}: {id}");
            }
        }
    }

    #[test]
    fn a_file_that_does_not_parse_is_refused_with_every_error_located() {
        let text = "@id(\"a\")\npermit (principal, action, resource) when { 1 + };\n";
        let e = format_policies("bad.cedar", text).unwrap_err();
        let PolicyLoadError::Parse(e) = &e else {
            panic!("{e:?}");
        };
        let at = e.location().unwrap();
        assert_eq!((at.file(), at.line()), ("bad.cedar", 2), "{e}");
        assert_eq!(
            at.source_line(),
            "permit (principal, action, resource) when { 1 + };"
        );
        assert!(e.to_string().starts_with("`bad.cedar`: "), "{e}");
    }
}
