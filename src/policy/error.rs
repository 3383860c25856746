//! [`PolicyLoadError`]: why a policy set did not load.

use super::policy_load_errors::{
    AnnotationError, ComplexityError, ContractErrors, DuplicateIdError, FileTooLargeError, IoError,
    LeastPrivilegeErrors, NestingError, NoSchemaError, PolicySyntaxError, ReasonError, SchemaError,
    ValidationErrors, VocabularyError,
};

/// Why a policy set did not load
///
/// Each variant wraps a struct of [`policy_load_errors`](super::policy_load_errors)
/// with accessors for what it names (file, line, policy id, action, attribute).
/// Messages name files, lines, policy ids and schema attributes, never the
/// content of a request.
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
}
