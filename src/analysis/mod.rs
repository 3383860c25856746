//! What a policy set decides, as a whole: the finite space of abstract
//! inputs, per-policy truth tables over it, the change impact of an edit
//! ([`diff`]) and the effective role × category matrix ([`matrix`]).
//!
//! Strict validation makes Cedar's answer a function of a finite abstract
//! input (the memo of the fast path rests on the same argument): the action,
//! the principal's kind, a practitioner's role and tasks, `mfa`, the
//! purpose, source, category and module where the action has them, the
//! Boolean facts of the action's context, and the equality pattern of the
//! entity ids (principal, its organisation, patient, holder; and which equal
//! an entity a policy names). [`Space`] enumerates exactly the inputs the
//! engine can send: per action, the principal kinds the schema allows, the
//! context keys as `engine::input` fills them, and only the facts it can set
//! for that kind (a fact it never computes for, say, a patient's `view` is
//! always `false`).
//!
//! [`TruthTables`] holds, per shape and per policy, the policy's value
//! (satisfied, not, error) over just the dimensions it can read (a sound
//! test on its JSON form, see `reads`), each cell evaluated by Cedar with the
//! policy alone; deciding from the tables needs no Cedar and gives exactly
//! what the engine gives (the unit tests hold both against
//! `engine::cedar::evaluate`, exhaustively for ten actions and on a seeded
//! sample for `view` and `view_record`). `docs/analysis.md` has the whole
//! argument and how to read the diff.
//!
//! This module comes after `engine` in the one-way flow: it uses the
//! engine's evaluation and public API, and nothing before it names it.

mod diff;
mod matrix;

use crate::engine::compiled::space;

pub use crate::engine::compiled::error::{AnalysisError, TooLargeError, UnfitError, WorldError};
pub use crate::engine::compiled::space::{
    AbstractInput, Dimension, IdPattern, MAX_TASKS, PrincipalKind, Shape, Slot, Space, Symbol,
};
pub use crate::engine::compiled::tables::{
    MAX_TABLE, PolicyTable, PolicyValue, TruthTables, Verdict, evaluate,
};
pub use diff::{Answer, Change, DiffGroup, DiffReport, Field, MAX_ENUMERATED, PolicyChange, diff};
pub use matrix::{
    Cell, Matrix, MatrixTable, OTHER_HOLDER, OWN_ORGANISATION, PATIENT, Situation, matrix,
};

use crate::engine::Engine;
use crate::model::request::Request;

/// The abstract input the engine builds for `request` in its current
/// world, `None` when the request names an id the registry or the
/// vocabulary does not know (the engine then denies with `unknown_entity`)
///
/// Entity ids become their [`IdPattern`], literals being the ids the
/// engine's policies name. [`TruthTables::decide`] of the result is the
/// engine's answer to the request.
///
/// ```
/// use zorg_pdp::analysis::{TruthTables, abstract_input};
/// use zorg_pdp::{Engine, Organisation, OrganisationId, Patient, PatientId, Practitioner,
///     PractitionerId, Request, Role, Category};
/// let engine = Engine::new()?;
/// let org = OrganisationId::new("vp-noord")?;
/// engine.register_organisation(Organisation::new(org.clone()))?;
/// engine.register_practitioner(Practitioner::new(
///     PractitionerId::new("vera")?, org.clone(), Role::new("verloskundige")?))?;
/// engine.register_patient(&Patient::new(PatientId::new("client-1")?))?;
/// let request = Request::view(PractitionerId::new("vera")?, PatientId::new("client-1")?,
///     org, Category::new("echo")?, "2026-02-01T00:00:00Z".parse()?, true);
/// let input = abstract_input(&engine, &request).unwrap();
/// assert_eq!(input.fact("relationship"), Some(false));
/// let tables = TruthTables::build(&engine.policies())?;
/// let verdict = tables.decide(&input).unwrap();
/// assert_eq!(verdict.reasons, engine.decide(&request).reasons);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn abstract_input(engine: &Engine, request: &Request) -> Option<AbstractInput> {
    engine.with_input(request, |policies, input| {
        input.map(|i| Space::of_input(i, &space::Universe::of(policies)))
    })
}
