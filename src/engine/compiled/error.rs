//! Why an analysis could not be done.

use crate::model::vocab::ActionKind;

use super::space::PrincipalKind;

/// Why an analysis (space, truth tables, diff, matrix) could not be done
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A space, a truth table or an enumeration would be larger than the
    /// analysis handles
    #[error(transparent)]
    TooLarge(TooLargeError),
    /// The schema refused an input the engine sends (the load-time contract
    /// check rules this out; seeing it means the two disagree)
    #[error(transparent)]
    Unfit(UnfitError),
    /// The matrix's world could not be built in an engine
    #[error(transparent)]
    World(WorldError),
}

/// A space, a truth table or an enumeration beyond the analysis's limits
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("action `{action}`: {what} has {size} points, more than the {limit} the analysis handles")]
pub struct TooLargeError {
    action: ActionKind,
    what: String,
    size: u128,
    limit: u64,
}

impl TooLargeError {
    pub(crate) fn new(action: ActionKind, what: impl Into<String>, size: u128, limit: u64) -> Self {
        Self {
            action,
            what: what.into(),
            size,
            limit,
        }
    }

    /// The action whose space is too large
    pub fn action(&self) -> ActionKind {
        self.action
    }

    /// What is too large, in words (a policy's truth table, a shape's space, …)
    pub fn what(&self) -> &str {
        &self.what
    }

    /// How many points it has
    pub fn size(&self) -> u128 {
        self.size
    }

    /// The most the analysis handles
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl From<TooLargeError> for AnalysisError {
    fn from(e: TooLargeError) -> Self {
        AnalysisError::TooLarge(e)
    }
}

/// The schema refused an input the engine sends
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "action `{action}`, principal `{principal}`, policy `{policy}`: the schema does not accept \
     the input the engine sends"
)]
pub struct UnfitError {
    action: ActionKind,
    principal: PrincipalKind,
    policy: String,
}

impl UnfitError {
    pub(crate) fn new(action: ActionKind, principal: PrincipalKind, policy: &str) -> Self {
        Self {
            action,
            principal,
            policy: policy.to_owned(),
        }
    }

    /// The action
    pub fn action(&self) -> ActionKind {
        self.action
    }

    /// The principal's kind
    pub fn principal(&self) -> PrincipalKind {
        self.principal
    }

    /// The policy being evaluated
    pub fn policy(&self) -> &str {
        &self.policy
    }
}

impl From<UnfitError> for AnalysisError {
    fn from(e: UnfitError) -> Self {
        AnalysisError::Unfit(e)
    }
}

/// The matrix's world could not be built
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("matrix world: field `{field}`: `{value}`: {message}")]
pub struct WorldError {
    field: &'static str,
    value: String,
    message: String,
}

impl WorldError {
    pub(crate) fn new(field: &'static str, value: &str, message: &dyn std::fmt::Display) -> Self {
        Self {
            field,
            value: value.to_owned(),
            message: message.to_string(),
        }
    }

    /// The field at fault (`role`, `organisation`, `event`, …)
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Its value
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl From<WorldError> for AnalysisError {
    fn from(e: WorldError) -> Self {
        AnalysisError::World(e)
    }
}
