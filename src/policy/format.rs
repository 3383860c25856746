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
