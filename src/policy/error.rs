//! [`PolicyLoadError`]: why a policy set did not load.

use super::policy_load_errors::{
    AnnotationError, ComplexityError, ConsentVocabularyErrors, ContractErrors, DuplicateIdError,
    FileTooLargeError, IoError, LeastPrivilegeErrors, NestingError, NoSchemaError,
    PolicyLoadErrors, PolicySyntaxError, ReasonError, SchemaError, ValidationErrors,
    VocabularyError,
};

/// Why a policy set did not load
///
/// Each variant wraps a struct of [`policy_load_errors`](super::policy_load_errors)
/// with accessors for what it names (file, line, policy id, action, attribute).
/// Messages name files, lines, policy ids and schema attributes, never the
/// content of a request.
///
/// Every variant is a [`miette::Diagnostic`]: an error that knows where it is
/// gives its file's text and a labelled span (`location()` on the wrapped
/// struct: file, line, column), and a list of errors gives each one as
/// [`related`](miette::Diagnostic::related). A load that fails in more than
/// one way fails with [`PolicyLoadError::Several`], holding every error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyLoadError {
    /// A file or directory could not be read; the operating system's error
    /// is the [`source`](std::error::Error::source)
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file is larger than [`MAX_POLICY_FILE_LEN`](super::MAX_POLICY_FILE_LEN)
    #[error(transparent)]
    TooLarge(#[from] FileTooLargeError),
    /// The directory has no schema file
    #[error(transparent)]
    NoSchema(#[from] NoSchemaError),
    /// A file nests brackets deeper than [`MAX_POLICY_NESTING`](super::MAX_POLICY_NESTING)
    #[error(transparent)]
    TooDeep(#[from] NestingError),
    /// A policy holds more than [`MAX_POLICY_OPERATORS`](super::MAX_POLICY_OPERATORS)
    /// operator characters
    #[error(transparent)]
    TooComplex(#[from] ComplexityError),
    /// The schema does not parse
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The vocabulary in the schema is missing or malformed
    #[error(transparent)]
    Vocabulary(#[from] VocabularyError),
    /// The schema does not accept what the engine sends for an action: a fact
    /// or attribute is missing, typed differently, or one is required that
    /// the engine does not send
    #[error(transparent)]
    Contract(#[from] ContractErrors),
    /// The consent vocabulary (`consent.toml`, SPEC.md §7.2) does not parse
    /// or does not fit the schema: every error, each at its field
    #[error(transparent)]
    Consent(#[from] ConsentVocabularyErrors),
    /// A policy file does not parse
    #[error(transparent)]
    Parse(#[from] PolicySyntaxError),
    /// A policy lacks `@id`, or a policy file holds a template
    #[error(transparent)]
    Annotation(#[from] AnnotationError),
    /// Two policies share an `@id`
    #[error(transparent)]
    DuplicateId(#[from] DuplicateIdError),
    /// A `forbid` lacks `@reason`, or names an unknown reason code
    #[error(transparent)]
    Reason(#[from] ReasonError),
    /// Policies do not validate strictly against the schema: every error, in
    /// a fixed order
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// Least privilege (RULES.md R52): a permit can grant an action for
    /// which no forbid carries a reason code the rules list; every gap, in a
    /// fixed order, each naming the permit's file, line and `@id`
    #[error(transparent)]
    LeastPrivilege(#[from] LeastPrivilegeErrors),
    /// The load failed in more than one of the ways above: every error, in a
    /// fixed order (the schema's, then the consent vocabulary's, then each
    /// policy file's in name order, then strict validation's)
    #[error(transparent)]
    Several(#[from] PolicyLoadErrors),
}

impl PolicyLoadError {
    /// The one error of `errors`, [`PolicyLoadError::Several`] for more
    /// than one, `None` for none
    pub(crate) fn from_all(mut errors: Vec<PolicyLoadError>) -> Option<Self> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Self::Several(PolicyLoadErrors::new(errors))),
        }
    }

    /// The wrapped error, as a diagnostic
    fn inner(&self) -> &dyn miette::Diagnostic {
        match self {
            Self::Io(e) => e,
            Self::TooLarge(e) => e,
            Self::NoSchema(e) => e,
            Self::TooDeep(e) => e,
            Self::TooComplex(e) => e,
            Self::Schema(e) => e,
            Self::Vocabulary(e) => e,
            Self::Contract(e) => e,
            Self::Consent(e) => e,
            Self::Parse(e) => e,
            Self::Annotation(e) => e,
            Self::DuplicateId(e) => e,
            Self::Reason(e) => e,
            Self::Validation(e) => e,
            Self::LeastPrivilege(e) => e,
            Self::Several(e) => e,
        }
    }
}

/// Forwards to the wrapped error
impl miette::Diagnostic for PolicyLoadError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner().help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner().source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.inner().labels()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        self.inner().related()
    }
}
