//! The engine: decisions and dashboards.
//!
//! `decide` turns a request into the abstract input the schema allows
//! policies to read (see [`input`]), evaluates it through Cedar against the
//! policies of its action, and maps Cedar's answer to reason codes from the
//! `@reason` annotations. `decide_plain` is the reference path: the whole
//! policy set, nothing shared with the fast path but the input.

mod cedar;
mod input;
mod memo;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use arc_swap::ArcSwap;

use crate::error::EntityError;
use crate::model::entities::{EntityRecord, Organisation, Patient, Practitioner};
use crate::model::event::{Event, EventError};
use crate::model::request::{
    Action, DashboardAnswer, DashboardQuery, Decision, HolderView, ModuleView, Principal, Request,
    Response,
};
use crate::model::vocab::Reason;
use crate::policy::{Policies, PolicyLoadError};
use crate::registry::Registry;

use cedar::Outcome;
use memo::Memo;

/// A dashboard query that names an unknown principal or patient
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dashboard: field `{field}`: unknown `{value}`")]
pub struct DashboardError {
    field: &'static str,
    value: String,
}

impl DashboardError {
    /// The field at fault (`principal` or `patient`)
    pub fn field(&self) -> &'static str {
        self.field
    }
}

/// The policy-decision engine: policies, the registry of facts, decisions
///
/// `Engine` is `Send + Sync`: share it between threads behind an `Arc`.
/// Decisions take `&self`; applying events takes the registry's write lock
/// briefly; reloading policies swaps them atomically, so every decision sees
/// wholly the old or wholly the new set.
#[derive(Debug)]
pub struct Engine {
    loaded: ArcSwap<Loaded>,
    registry: RwLock<Registry>,
}

/// A policy set with its memo: swapped as one on reload, so the memo never
/// outlives the policies it remembers answers of
#[derive(Debug)]
struct Loaded {
    policies: Arc<Policies>,
    memo: Option<Memo>,
}

impl Loaded {
    fn new(policies: Policies) -> Self {
        let memo = Memo::new(&policies);
        Self {
            policies: Arc::new(policies),
            memo,
        }
    }
}

impl Engine {
    /// An engine with the shipped policies and an empty registry
    ///
    /// # Errors
    ///
    /// [`PolicyLoadError`] only if the shipped policies are broken.
    pub fn new() -> Result<Self, PolicyLoadError> {
        Ok(Self::with_policies(Policies::shipped()?))
    }

    /// An engine with the given policies and an empty registry
    pub fn with_policies(policies: Policies) -> Self {
        Self {
            loaded: ArcSwap::from_pointee(Loaded::new(policies)),
            registry: RwLock::new(Registry::new()),
        }
    }

    /// The policies in force
    pub fn policies(&self) -> Arc<Policies> {
        Arc::clone(&self.loaded.load().policies)
    }

    /// Replaces the policies; decisions in flight finish with the old ones
    pub fn reload(&self, policies: Policies) {
        self.loaded.store(Arc::new(Loaded::new(policies)));
    }

    /// How many answers the fast path remembers for the policies in force
    pub fn memo_len(&self) -> usize {
        self.loaded.load().memo.as_ref().map_or(0, Memo::len)
    }

    fn read(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        let mut guard = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Registers an organisation, or updates it
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] when the registry is full.
    pub fn register_organisation(&self, organisation: Organisation) -> Result<(), EntityError> {
        self.write(|r| r.register_organisation(organisation))
    }

    /// Registers a practitioner, or updates its organisation, role and tasks
    ///
    /// # Errors
    ///
    /// [`EntityError`] when the organisation is unknown or the role or a task
    /// is not in the loaded vocabulary.
    pub fn register_practitioner(&self, practitioner: Practitioner) -> Result<(), EntityError> {
        let loaded = self.loaded.load();
        self.write(|r| r.register_practitioner(practitioner, loaded.policies.vocabulary()))
    }

    /// Registers a patient
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] when the registry is full.
    pub fn register_patient(&self, patient: &Patient) -> Result<(), EntityError> {
        self.write(|r| r.register_patient(patient))
    }

    /// Registers any entity
    ///
    /// # Errors
    ///
    /// As the `register_*` function for its kind.
    pub fn register(&self, entity: EntityRecord) -> Result<(), EntityError> {
        match entity {
            EntityRecord::Organisation(o) => self.register_organisation(o),
            EntityRecord::Practitioner(p) => self.register_practitioner(p),
            EntityRecord::Patient(p) => self.register_patient(&p),
        }
    }

    /// Applies an event and returns its sequence number
    ///
    /// # Errors
    ///
    /// [`EventError`] naming the event and the field; the registry is unchanged then.
    pub fn apply(&self, event: &Event) -> Result<u64, EventError> {
        let loaded = self.loaded.load();
        self.write(|r| r.apply(event, loaded.policies.vocabulary()))
    }

    /// The sequence number of the last applied event
    pub fn seq(&self) -> u64 {
        self.read().seq()
    }

    /// Runs `f` with shared access to the registry
    pub fn with_registry<T>(&self, f: impl FnOnce(&Registry) -> T) -> T {
        f(&self.read())
    }

    /// May this principal do this, now? Never fails: an evaluation problem is
    /// a deny with `evaluation_error` (fail closed), an unknown id a deny with
    /// `unknown_entity` alone.
    pub fn decide(&self, request: &Request) -> Response {
        let loaded = self.loaded.load();
        let registry = self.read();
        let outcome = decide_in(&loaded, &registry, request, Path::Fast);
        outcome.into_response(registry.seq())
    }

    /// The reference path: the whole policy set through Cedar, no bucketing
    /// and no memo. Gives the same response as [`Engine::decide`]; the
    /// property tests and benches hold the two against each other.
    pub fn decide_plain(&self, request: &Request) -> Response {
        let loaded = self.loaded.load();
        let registry = self.read();
        let outcome = decide_in(&loaded, &registry, request, Path::Plain);
        outcome.into_response(registry.seq())
    }

    /// What the policies would see for this request: the principal's role,
    /// tasks and organisation, and the context with every fact the registry
    /// computed, as JSON; `None` when the request names an unknown id
    pub fn explain_input(&self, request: &Request) -> Option<serde_json::Value> {
        let loaded = self.loaded.load();
        let registry = self.read();
        input::build(&registry, loaded.policies.vocabulary(), request)
            .ok()
            .map(|i| i.to_json())
    }

    /// Which categories of which holder does this practitioner's dashboard show?
    ///
    /// Every entry equals the `view` decision with the query's fields.
    ///
    /// # Errors
    ///
    /// [`DashboardError`] when the principal or the patient is unknown.
    pub fn dashboard(&self, query: &DashboardQuery) -> Result<DashboardAnswer, DashboardError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        dashboard_in(&loaded, &registry, query)
    }
}

/// Which evaluation path
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Fast,
    Plain,
}

fn decide_in(loaded: &Loaded, registry: &Registry, request: &Request, path: Path) -> Outcome {
    let policies = &*loaded.policies;
    let Ok(input) = input::build(registry, policies.vocabulary(), request) else {
        return Outcome::deny(Reason::UnknownEntity);
    };
    match path {
        Path::Fast => {
            let bucket = || cedar::evaluate(policies, policies.bucket(input.action), &input);
            match loaded.memo.as_ref().and_then(|m| Some((m, m.key(&input)?))) {
                Some((memo, key)) => memo.answer(key, bucket),
                None => bucket(),
            }
        }
        Path::Plain => cedar::evaluate(policies, &policies.set, &input),
    }
}

fn dashboard_in(
    loaded: &Loaded,
    registry: &Registry,
    query: &DashboardQuery,
) -> Result<DashboardAnswer, DashboardError> {
    let unknown = |field, value: &dyn std::fmt::Display| DashboardError {
        field,
        value: value.to_string(),
    };
    let known = match &query.principal {
        Principal::Practitioner(id) => registry.practitioner(id).is_some(),
        Principal::Patient(id) => registry.has_patient(id),
        Principal::Organisation(id) => registry.has_organisation(id),
    };
    if !known {
        let id: &dyn std::fmt::Display = match &query.principal {
            Principal::Practitioner(id) => id,
            Principal::Patient(id) => id,
            Principal::Organisation(id) => id,
        };
        return Err(unknown("principal", id));
    }
    let patient = registry
        .patients
        .get(&query.patient)
        .ok_or_else(|| unknown("patient", &query.patient))?;
    let facts = registry.facts(patient, query.at);
    let mut holders: Vec<_> = facts
        .holders()
        .into_iter()
        .filter_map(|o| registry.organisations.value(o).cloned())
        .collect();
    holders.sort();
    let vocabulary = loaded.policies.vocabulary();
    let mut request = Request {
        principal: query.principal.clone(),
        patient: query.patient.clone(),
        at: query.at,
        mfa: query.mfa,
        action: Action::RequestAccess,
    };
    let mut answer = DashboardAnswer {
        holders: Vec::with_capacity(holders.len()),
        modules: Vec::new(),
        seq: registry.seq(),
    };
    for holder in holders {
        let mut view = HolderView {
            holder: holder.clone(),
            visible: Vec::new(),
            reasons: Vec::new(),
        };
        let mut common: Option<Vec<Reason>> = None;
        let mut all: Vec<Reason> = Vec::new();
        for category in vocabulary.categories() {
            request.action = Action::View {
                holder: holder.clone(),
                category: category.clone(),
                purpose: query.purpose,
            };
            let outcome = decide_in(loaded, registry, &request, Path::Fast);
            if outcome.decision == Decision::Allow {
                view.visible.push(category.clone());
            } else {
                common = Some(match common {
                    None => outcome.reasons.clone(),
                    Some(c) => c
                        .into_iter()
                        .filter(|r| outcome.reasons.contains(r))
                        .collect(),
                });
                all.extend(outcome.reasons);
            }
        }
        if view.visible.is_empty() {
            all.sort_unstable();
            all.dedup();
            view.reasons = match common {
                Some(c) if !c.is_empty() => c,
                _ => all,
            };
        }
        answer.holders.push(view);
    }
    let started = facts.modules_started();
    for module in vocabulary.modules() {
        let Some(idx) = registry.modules.get(module) else {
            continue;
        };
        if !started.contains(&idx) {
            continue;
        }
        request.action = Action::Contribute {
            module: module.clone(),
        };
        let outcome = decide_in(loaded, registry, &request, Path::Fast);
        answer.modules.push(ModuleView {
            module: module.clone(),
            allowed: outcome.decision == Decision::Allow,
            reasons: outcome.reasons,
        });
    }
    Ok(answer)
}
