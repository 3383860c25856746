//! The structs that the variants of [`PolicyLoadError`](super::PolicyLoadError)
//! wrap: private fields, one accessor each (the shape of cedar's own errors).
//!
//! Every one is a [`miette::Diagnostic`]. An error that knows where it is
//! keeps an `at: Option<Location>` (file, line, column, span and the file's
//! text) and gets its `location()` accessor and its `Diagnostic` from one
//! macro, `located!`; an error about a whole file or folder has an empty
//! `Diagnostic`; a list of errors gives each as
//! [`related`](miette::Diagnostic::related), in its fixed order.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{MAX_POLICY_FILE_LEN, MAX_POLICY_NESTING, MAX_POLICY_OPERATORS, SCHEMA_FILE};
use crate::diagnostic::{Location, located};
use crate::model::vocab::{ActionKind, Reason};

/// A file or directory could not be read
///
/// The operating system's [`std::io::Error`] is the
/// [`source`](std::error::Error::source), so a host can tell a missing
/// folder from a permission problem.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}`", path.display())]
pub struct IoError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

impl IoError {
    pub(crate) fn new(path: &Path, source: std::io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file or directory
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kind of the operating system's error
    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

impl miette::Diagnostic for IoError {}

/// A file is larger than [`MAX_POLICY_FILE_LEN`]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` is {size} bytes, more than the limit of {MAX_POLICY_FILE_LEN}")]
pub struct FileTooLargeError {
    file: String,
    size: u64,
}

impl FileTooLargeError {
    pub(crate) fn new(file: impl Into<String>, size: u64) -> Self {
        Self {
            file: file.into(),
            size,
        }
    }

    /// The file
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Its size in bytes
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl miette::Diagnostic for FileTooLargeError {}

/// The directory has no schema file ([`SCHEMA_FILE`])
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no `{SCHEMA_FILE}` in `{}`", dir.display())]
pub struct NoSchemaError {
    dir: PathBuf,
}

impl NoSchemaError {
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl miette::Diagnostic for NoSchemaError {}

/// A file nests brackets deeper than [`MAX_POLICY_NESTING`]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` nests brackets deeper than {MAX_POLICY_NESTING}")]
pub struct NestingError {
    file: String,
    at: Option<Location>,
}

located!(NestingError);

impl NestingError {
    pub(crate) fn new(file: impl Into<String>, at: Option<Location>) -> Self {
        Self {
            file: file.into(),
            at,
        }
    }

    /// The file
    pub fn file(&self) -> &str {
        &self.file
    }
}

/// A policy holds more than [`MAX_POLICY_OPERATORS`] operator characters
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}`: a policy has more than {MAX_POLICY_OPERATORS} operators")]
pub struct ComplexityError {
    file: String,
    at: Option<Location>,
}

located!(ComplexityError);

impl ComplexityError {
    pub(crate) fn new(file: impl Into<String>, at: Option<Location>) -> Self {
        Self {
            file: file.into(),
            at,
        }
    }

    /// The file
    pub fn file(&self) -> &str {
        &self.file
    }
}

/// The schema does not parse
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema: {message}")]
pub struct SchemaError {
    message: String,
    at: Option<Location>,
    help: Option<String>,
}

located!(SchemaError, help);

impl SchemaError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            at: None,
            help: None,
        }
    }

    /// The same error at a place in the schema, with Cedar's hint
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>, help: Option<String>) -> Self {
        self.at = at;
        self.help = help;
        self
    }

    /// Cedar's message, on one line
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The vocabulary in the schema (`Role`, `Task`, `Category`, `CareModule`)
/// is missing or malformed
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema: vocabulary: {message}")]
pub struct VocabularyError {
    message: String,
    at: Option<Location>,
}

located!(VocabularyError);

impl VocabularyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            at: None,
        }
    }

    /// The same error at a place in the schema
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>) -> Self {
        self.at = at;
        self
    }

    /// What is wrong, naming the entity type
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An error about one policy file: the file, and a message on one line
macro_rules! file_error {
    ($(#[$doc:meta])* $name:ident, $message_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("`{file}`: {message}")]
        pub struct $name {
            file: String,
            message: String,
            at: Option<Location>,
            help: Option<String>,
        }

        located!($name, help);

        impl $name {
            pub(crate) fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
                Self {
                    file: file.into(),
                    message: message.into(),
                    at: None,
                    help: None,
                }
            }

            /// The same error at a place in the file, with a hint
            #[must_use]
            pub(crate) fn at(mut self, at: Option<Location>, help: Option<String>) -> Self {
                self.at = at;
                self.help = help;
                self
            }

            /// The file
            pub fn file(&self) -> &str {
                &self.file
            }

            #[doc = $message_doc]
            pub fn message(&self) -> &str {
                &self.message
            }
        }
    };
}

file_error!(
    /// A policy file does not parse
    PolicySyntaxError,
    "Cedar's message, on one line"
);
file_error!(
    /// A policy lacks a valid `@id`, or a policy file holds a template
    AnnotationError,
    "What is wrong"
);

/// Two policies share an `@id`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy id `{id}` is used twice")]
pub struct DuplicateIdError {
    id: String,
    at: Option<Location>,
}

located!(DuplicateIdError);

impl DuplicateIdError {
    pub(crate) fn new(id: impl Into<String>, at: Option<Location>) -> Self {
        Self { id: id.into(), at }
    }

    /// The policy id
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A `forbid` lacks `@reason`, or names a code that is not a reason code
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy `{id}`: {message}")]
pub struct ReasonError {
    id: String,
    message: String,
    at: Option<Location>,
}

located!(ReasonError);

impl ReasonError {
    pub(crate) fn new(id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            message: message.into(),
            at: None,
        }
    }

    /// The same error at a place in its file
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>) -> Self {
        self.at = at;
        self
    }

    /// The policy id
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What is wrong
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// One policy that does not validate strictly against the schema
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` line {line}, policy `{policy_id}`: {message}")]
pub struct ValidationError {
    file: String,
    line: usize,
    policy_id: String,
    message: String,
    at: Option<Location>,
    help: Option<String>,
}

located!(ValidationError, help);

impl ValidationError {
    pub(crate) fn new(file: String, line: usize, policy_id: String, message: String) -> Self {
        Self {
            file,
            line,
            policy_id,
            message,
            at: None,
            help: None,
        }
    }

    /// The same error at the place Cedar names, with Cedar's hint
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>, help: Option<String>) -> Self {
        self.at = at;
        self.help = help;
        self
    }

    /// The policy file
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line where the policy starts in its file (the error's
    /// own line and column are in [`ValidationError::location`])
    pub fn line(&self) -> usize {
        self.line
    }

    /// The policy's `@id`
    pub fn policy_id(&self) -> &str {
        &self.policy_id
    }

    /// Cedar's message, on one line
    pub fn message(&self) -> &str {
        &self.message
    }

    fn key(&self) -> (&str, usize, &str, usize, &str) {
        let offset = self.at.as_ref().map_or(0, |at| at.span().start);
        (
            &self.file,
            self.line,
            &self.policy_id,
            offset,
            &self.message,
        )
    }
}

/// Every strict-validation error of a policy set, sorted by file, line,
/// policy id, place in the policy and message (the same list, in the same
/// order, on every load)
///
/// Never empty. [`Display`](fmt::Display) prints a heading and then one error
/// per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
}

impl ValidationErrors {
    /// Sorts `errors` and drops repeats; `None` when there are none
    pub(crate) fn new(mut errors: Vec<ValidationError>) -> Option<Self> {
        errors.sort_by(|a, b| a.key().cmp(&b.key()));
        errors.dedup();
        (!errors.is_empty()).then_some(Self { errors })
    }

    /// The errors, in order
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.errors.iter()
    }

    /// How many errors there are (at least one)
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a load fails with at least one error
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("strict validation failed:")?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl miette::Diagnostic for ValidationErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}

/// What a [`ContractError`] is about
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    /// The request of an action: its principal, resource or context
    Action(ActionKind),
    /// The entities the engine builds for every request
    Entity(&'static str),
}

/// One way the schema does not accept a request the engine sends
///
/// The engine sends, per action, the context attributes of SPEC.md §4 and
/// the Boolean facts of its context type; a schema that leaves one out,
/// types it differently, or requires one the engine does not send, would
/// turn every such request into an `evaluation_error` deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError {
    subject: Subject,
    attribute: Option<String>,
    line: Option<usize>,
    message: String,
    at: Option<Location>,
}

located!(ContractError);

impl ContractError {
    pub(crate) fn for_action(
        action: ActionKind,
        attribute: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            subject: Subject::Action(action),
            attribute: attribute.map(str::to_owned),
            line: None,
            message: message.into(),
            at: None,
        }
    }

    pub(crate) fn for_entity(
        entity_type: &'static str,
        attribute: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            subject: Subject::Entity(entity_type),
            attribute: attribute.map(str::to_owned),
            line: None,
            message: message.into(),
            at: None,
        }
    }

    /// The same error, placed on a line of the schema
    pub(crate) fn on_line(self, line: Option<usize>) -> Self {
        Self { line, ..self }
    }

    /// The schema file, [`SCHEMA_FILE`]
    pub fn file(&self) -> &str {
        SCHEMA_FILE
    }

    /// The 1-based line of the schema where the attribute is declared or,
    /// when it is not, where the context type, entity type or action is
    /// declared; `None` when the schema text does not show it
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The same error at a place in the schema
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>) -> Self {
        self.at = at;
        self
    }

    /// The action whose requests the schema refuses; `None` when the error is
    /// about an entity type (see [`ContractError::entity_type`])
    pub fn action(&self) -> Option<ActionKind> {
        match self.subject {
            Subject::Action(a) => Some(a),
            Subject::Entity(_) => None,
        }
    }

    /// The entity type (`Practitioner`, `Patient`, `Organisation`) whose
    /// entities the schema refuses, when the error is about one
    pub fn entity_type(&self) -> Option<&str> {
        match self.subject {
            Subject::Action(_) => None,
            Subject::Entity(t) => Some(t),
        }
    }

    /// The attribute at fault, when it is known: a fact such as
    /// `relationship`, or `mfa`, `purpose`, `holder`, …
    pub fn attribute(&self) -> Option<&str> {
        self.attribute.as_deref()
    }

    /// What is wrong
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{SCHEMA_FILE}`")?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        f.write_str(", ")?;
        match self.subject {
            Subject::Action(a) => write!(f, "action `{a}`")?,
            Subject::Entity(t) => write!(f, "entity type `{t}`")?,
        }
        if let Some(attribute) = &self.attribute {
            write!(f, ", attribute `{attribute}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ContractError {}

/// Every way the schema does not accept the requests the engine sends, in
/// the order of [`ActionKind::ALL`], then entity types
///
/// Never empty. [`Display`](fmt::Display) prints a heading and then one error
/// per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractErrors {
    errors: Vec<ContractError>,
}

impl ContractErrors {
    /// Sorts `errors` by subject (stable otherwise) and drops repeats;
    /// `None` when there are none
    pub(crate) fn new(mut errors: Vec<ContractError>) -> Option<Self> {
        errors.sort_by_key(|e| e.subject);
        let mut unique: Vec<ContractError> = Vec::with_capacity(errors.len());
        for e in errors {
            if !unique.contains(&e) {
                unique.push(e);
            }
        }
        (!unique.is_empty()).then_some(Self { errors: unique })
    }

    /// The errors, in order
    pub fn iter(&self) -> std::slice::Iter<'_, ContractError> {
        self.errors.iter()
    }

    /// How many errors there are (at least one)
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a load fails with at least one error
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<'a> IntoIterator for &'a ContractErrors {
    type Item = &'a ContractError;
    type IntoIter = std::slice::Iter<'a, ContractError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for ContractErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "schema `{SCHEMA_FILE}` does not accept what the engine sends:"
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContractErrors {}

/// One gap that least privilege (RULES.md R52) refuses: a permit can grant
/// an action, but no `forbid` whose scope covers that action (for the named
/// principal types) carries a reason code RULES.md lists for it
///
/// The permit is named by its file, the line it starts on and its `@id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeastPrivilegeError {
    file: String,
    line: usize,
    policy_id: String,
    action: ActionKind,
    reason: Reason,
    rules: &'static str,
    principals: Vec<String>,
    at: Option<Location>,
}

located!(LeastPrivilegeError);

impl fmt::Display for LeastPrivilegeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.principals.iter().map(|n| format!("`{n}`")).collect();
        write!(
            f,
            "`{}` line {}, policy `{}`: grants `{}` to {}, but no forbid covering that carries \
             `@reason(\"{}\")` ({})",
            self.file,
            self.line,
            self.policy_id,
            self.action,
            names.join(", "),
            self.reason,
            self.rules
        )
    }
}

impl std::error::Error for LeastPrivilegeError {}

impl LeastPrivilegeError {
    pub(crate) fn new(
        (file, line, policy_id): (String, usize, String),
        action: ActionKind,
        (reason, rules): (Reason, &'static str),
        principals: Vec<String>,
    ) -> Self {
        Self {
            file,
            line,
            policy_id,
            action,
            reason,
            rules,
            principals,
            at: None,
        }
    }

    /// The permit's file
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line where the permit starts in its file
    pub fn line(&self) -> usize {
        self.line
    }

    /// The permit's `@id`
    pub fn policy_id(&self) -> &str {
        &self.policy_id
    }

    /// The action the permit can grant
    pub fn action(&self) -> ActionKind {
        self.action
    }

    /// The reason code no covering forbid carries
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The rules of RULES.md that list the code for the action (`R19`, `R5, R6`)
    pub fn rules(&self) -> &'static str {
        self.rules
    }

    /// The principal types (`Practitioner`, …) the permit grants the action
    /// to and no covering forbid restricts, sorted
    pub fn principals(&self) -> &[String] {
        &self.principals
    }

    fn key(&self) -> (&str, usize, &str, ActionKind, Reason) {
        (
            &self.file,
            self.line,
            &self.policy_id,
            self.action,
            self.reason,
        )
    }
}

/// Every least-privilege gap of a policy set (RULES.md R52), sorted by the
/// permit's file, line and id, then by action and reason code in the order
/// of [`ActionKind::ALL`] and [`Reason::ALL`]
///
/// Never empty. [`Display`](fmt::Display) prints a heading and then one gap
/// per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeastPrivilegeErrors {
    errors: Vec<LeastPrivilegeError>,
}

impl LeastPrivilegeErrors {
    /// Sorts `errors` and drops repeats; `None` when there are none
    pub(crate) fn new(mut errors: Vec<LeastPrivilegeError>) -> Option<Self> {
        errors.sort_by(|a, b| a.key().cmp(&b.key()));
        errors.dedup();
        (!errors.is_empty()).then_some(Self { errors })
    }

    /// The same gaps, each placed on its permit's first line by `place`
    /// (file, line → location)
    #[must_use]
    pub(crate) fn located(mut self, place: impl Fn(&str, usize) -> Option<Location>) -> Self {
        for e in &mut self.errors {
            e.at = place(&e.file, e.line);
        }
        self
    }

    /// The gaps, in order
    pub fn iter(&self) -> std::slice::Iter<'_, LeastPrivilegeError> {
        self.errors.iter()
    }

    /// How many gaps there are (at least one)
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a load fails with at least one gap
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<'a> IntoIterator for &'a LeastPrivilegeErrors {
    type Item = &'a LeastPrivilegeError;
    type IntoIter = std::slice::Iter<'a, LeastPrivilegeError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for LeastPrivilegeErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "least privilege (RULES.md R52): a permit grants an action that lacks a forbid \
             for a reason code the rules list; the set is refused, so a deleted or misplaced \
             forbid never widens access:",
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LeastPrivilegeErrors {}

impl miette::Diagnostic for LeastPrivilegeErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}

impl miette::Diagnostic for ContractErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}

/// Every error of a policy set that failed in more than one way, in a fixed
/// order: the schema's (its parse, its vocabulary, then the contract with
/// the engine), then the consent vocabulary's, then each policy file's in
/// name order (each in the order of its text), then strict validation's
///
/// Never shorter than two: a load that fails in one way only fails with that
/// error alone. [`Display`](fmt::Display) prints a heading and then each
/// error.
#[derive(Debug)]
pub struct PolicyLoadErrors {
    errors: Vec<super::PolicyLoadError>,
}

impl PolicyLoadErrors {
    pub(crate) fn new(errors: Vec<super::PolicyLoadError>) -> Self {
        Self { errors }
    }

    /// The errors, in order
    pub fn iter(&self) -> std::slice::Iter<'_, super::PolicyLoadError> {
        self.errors.iter()
    }

    /// How many errors there are (at least two)
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<'a> IntoIterator for &'a PolicyLoadErrors {
    type Item = &'a super::PolicyLoadError;
    type IntoIter = std::slice::Iter<'a, super::PolicyLoadError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for PolicyLoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the policies fail to load in {} ways:",
            self.errors.len()
        )?;
        for e in &self.errors {
            for line in e.to_string().lines() {
                write!(f, "\n  {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PolicyLoadErrors {}

impl miette::Diagnostic for PolicyLoadErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}

/// What is wrong in a consent vocabulary file (`consent.toml`, SPEC.md §7.2)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ConsentErrorKind {
    /// The text is not TOML
    Syntax,
    /// A table or field the file format does not have
    UnknownKey,
    /// A value of the wrong TOML type (a string where a table belongs, …)
    WrongType,
    /// A required table or field is missing, or a name is empty
    Missing,
    /// A code or id breaks the id rules of SPEC.md §1
    InvalidCode,
    /// The same code twice in one list (`covers`, `provider_types`)
    Duplicate,
    /// `covers` or `[category_data]` names a data category that
    /// `[data_categories]` does not declare
    UndeclaredDataCategory,
    /// Covering goes round: a data category covers itself, directly or
    /// through others
    CoversCycle,
    /// A `[category_data]` key is not a category of the schema
    UnknownCategory,
    /// A category of the schema is missing from `[category_data]`
    UnmappedCategory,
    /// A holder category's `requester` is not declared in
    /// `[requester_categories]`
    UndeclaredRequester,
    /// A provider type is listed in two holder categories
    ProviderTypeTwice,
    /// A table has more entries than a `u16` index can number
    TooMany,
}

/// One error of a consent vocabulary file: the file, the field (a dotted
/// TOML path such as `holder_categories.apotheken.requester`), what is wrong
/// naming the value, and where (`location()`: line, column, span)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}`{}{}: {message}", line_of(.at.as_ref()), field_of(.field))]
pub struct ConsentVocabularyError {
    file: String,
    kind: ConsentErrorKind,
    field: String,
    message: String,
    at: Option<Location>,
    help: Option<String>,
}

located!(ConsentVocabularyError, help);

/// ` line N` when the place is known
fn line_of(at: Option<&Location>) -> String {
    at.map(|at| format!(" line {}", at.line()))
        .unwrap_or_default()
}

/// The field part of a message (a comma, `field`, the dotted path), or
/// nothing for an error about the whole file
fn field_of(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(", field `{field}`")
    }
}

impl ConsentVocabularyError {
    pub(crate) fn new(
        file: impl Into<String>,
        kind: ConsentErrorKind,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            kind,
            field: field.into(),
            message: message.into(),
            at: None,
            help: None,
        }
    }

    /// The same error at a place in the file
    #[must_use]
    pub(crate) fn at(mut self, at: Option<Location>) -> Self {
        self.at = at;
        self
    }

    /// The same error with a hint, when there is one (a later hint replaces
    /// an earlier one)
    #[must_use]
    pub(crate) fn with_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The file, as the error names it
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What kind of error it is
    pub fn kind(&self) -> ConsentErrorKind {
        self.kind
    }

    /// The field at fault, as a dotted TOML path (`category_data.wondzorg`);
    /// empty for the file as a whole
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong, naming the value
    pub fn message(&self) -> &str {
        &self.message
    }

    fn key(&self) -> (usize, usize, &str, &str) {
        let (start, end) = self
            .at
            .as_ref()
            .map_or((0, 0), |at| (at.span().start, at.span().end));
        (start, end, &self.field, &self.message)
    }
}

/// Every error of a consent vocabulary file, in the order of the text (by
/// place, then field and message: the same list on every load)
///
/// Never empty. [`Display`](fmt::Display) prints a heading and then one error
/// per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentVocabularyErrors {
    errors: Vec<ConsentVocabularyError>,
}

impl ConsentVocabularyErrors {
    /// Sorts `errors` and drops repeats; `None` when there are none
    pub(crate) fn new(mut errors: Vec<ConsentVocabularyError>) -> Option<Self> {
        errors.sort_by(|a, b| a.key().cmp(&b.key()));
        errors.dedup();
        (!errors.is_empty()).then_some(Self { errors })
    }

    /// The errors, in order
    pub fn iter(&self) -> std::slice::Iter<'_, ConsentVocabularyError> {
        self.errors.iter()
    }

    /// How many errors there are (at least one)
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a load fails with at least one error
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<'a> IntoIterator for &'a ConsentVocabularyErrors {
    type Item = &'a ConsentVocabularyError;
    type IntoIter = std::slice::Iter<'a, ConsentVocabularyError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Display for ConsentVocabularyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the consent vocabulary does not load:")?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConsentVocabularyErrors {}

impl miette::Diagnostic for ConsentVocabularyErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.errors.iter().map(|e| e as &dyn miette::Diagnostic),
        ))
    }
}
