//! The engine: decisions and dashboards.
//!
//! `decide` turns a request into the abstract input the schema allows
//! policies to read (the `input` module), evaluates it through Cedar against the
//! policies of its action, and maps Cedar's answer to reason codes from the
//! `@reason` annotations. `decide_plain` is the reference path: the whole
//! policy set, nothing shared with the fast path but the input.

mod audit;
mod cedar;
mod input;
mod memo;

use std::sync::{Arc, PoisonError};

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard};

use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use crate::audit::{AuditSink, PendingRecord};
use crate::error::EntityError;
use crate::model::entities::{EntityRecord, Organisation, Patient, Practitioner};
use crate::model::event::{Event, EventError};
use crate::model::ids::Category;
use crate::model::request::{
    Action, DashboardAnswer, DashboardQuery, Decision, HolderView, ModuleView, Principal, Request,
    Response,
};
use crate::model::vocab::Reason;
use crate::policy::{Policies, PolicyLoadError};
use crate::registry::Registry;

pub(crate) use cedar::{Answer, Outcome};
pub(crate) use input::Tags;
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
    /// Readers lock only their own shard, so deciding threads never touch a
    /// shared cache line; applying an event locks every shard briefly.
    registry: ShardedLock<Registry>,
    audit_failures: AtomicU64,
}

/// A policy set with its memo, and the audit sink: swapped as one, so the
/// memo never outlives the policies it remembers answers of, and a decision
/// loads one pointer
#[derive(Debug, Clone)]
struct Loaded {
    policies: Arc<Policies>,
    memo: Option<Arc<Memo>>,
    sink: Option<Arc<dyn AuditSink>>,
}

impl Loaded {
    /// The policies with an empty memo and no sink
    fn new(policies: Policies) -> Self {
        let memo = Memo::new(&policies).map(Arc::new);
        Self {
            policies: Arc::new(policies),
            memo,
            sink: None,
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
            registry: ShardedLock::new(Registry::new()),
            audit_failures: AtomicU64::new(0),
        }
    }

    /// The policies in force
    pub fn policies(&self) -> Arc<Policies> {
        Arc::clone(&self.loaded.load().policies)
    }

    /// Replaces the policies; decisions in flight finish with the old ones
    pub fn reload(&self, policies: Policies) {
        let fresh = Loaded::new(policies);
        self.loaded.rcu(|old| Loaded {
            sink: old.sink.clone(),
            ..fresh.clone()
        });
    }

    /// How many answers the fast path remembers for the policies in force
    pub fn memo_len(&self) -> usize {
        self.loaded.load().memo.as_ref().map_or(0, |m| m.len())
    }

    fn read(&self) -> ShardedLockReadGuard<'_, Registry> {
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
        let input = input::build(&registry, loaded.policies.vocabulary(), request);
        let seq = registry.seq();
        let sink = loaded
            .sink
            .as_ref()
            .filter(|_| audit::audited(request.action.kind()));
        let Some(sink) = sink else {
            // Read the remembered answer in place: no reference count is
            // touched, so deciding threads share no written cache line.
            return match &input {
                Ok(input) => {
                    decide_input(&loaded, &registry, input, |a| a.outcome.to_response(seq))
                }
                Err(input::Unknown) => Outcome::deny(Reason::UnknownEntity).into_response(seq),
            };
        };
        if let Ok(input) = &input {
            // The record takes the one new reference to the remembered
            // answer: each reference-count change is an atomic write.
            let (response, answer) = decide_input(&loaded, &registry, input, |a| {
                (a.outcome.to_response(seq), Arc::clone(a))
            });
            self.send(sink, audit::decision_record(request, input, answer));
            response
        } else {
            let outcome = Outcome::deny(Reason::UnknownEntity);
            self.send(
                sink,
                audit::unknown_record(request, &outcome, loaded.policies.digest()),
            );
            outcome.into_response(seq)
        }
    }

    /// Sends every later decision's audit record to `sink` (SPEC.md §6); replaces any earlier sink
    #[expect(
        clippy::needless_pass_by_value,
        reason = "the engine keeps the sink; the swap may retry, so it clones the handle"
    )]
    pub fn set_audit_sink(&self, sink: Arc<dyn AuditSink>) {
        self.set_sink(Some(&sink));
    }

    /// Stops auditing
    pub fn clear_audit_sink(&self) {
        self.set_sink(None);
    }

    fn set_sink(&self, sink: Option<&Arc<dyn AuditSink>>) {
        self.loaded.rcu(|old| Loaded {
            sink: sink.cloned(),
            ..Loaded::clone(old)
        });
    }

    /// How many audit records a sink refused (each one is also a decision that
    /// was answered: a host that must not answer unaudited should check this
    /// or use a sink that cannot fail)
    pub fn audit_failures(&self) -> u64 {
        self.audit_failures.load(Ordering::Relaxed)
    }

    fn send(&self, sink: &Arc<dyn AuditSink>, record: PendingRecord) {
        if sink.record_pending(record).is_err() {
            self.audit_failures.fetch_add(1, Ordering::Relaxed);
        }
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
        let (answer, records) = dashboard_in(&loaded, &registry, query)?;
        if let Some(sink) = &loaded.sink {
            for record in records {
                self.send(sink, record);
            }
        }
        Ok(answer)
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
        Path::Fast => decide_input(loaded, registry, &input, |a| a.outcome.clone()),
        Path::Plain => cedar::evaluate(policies, &policies.set, &input),
    }
}

/// The fast path for a built input: the memo, or Cedar on the action's bucket
fn decide_input<T>(
    loaded: &Loaded,
    registry: &Registry,
    input: &input::Input<'_>,
    read: impl FnOnce(&Arc<Answer>) -> T,
) -> T {
    let policies = &*loaded.policies;
    let evaluate = || Answer {
        outcome: cedar::evaluate(policies, policies.bucket(input.action), input),
        facts: audit::facts_of(input, policies.digest()),
        names: Arc::clone(registry.names()),
    };
    match loaded
        .memo
        .as_ref()
        .and_then(|m| Some((m, m.key(input, policies.vocabulary())?)))
    {
        Some((memo, key)) => memo.answer(key, evaluate, read),
        None => read(&Arc::new(evaluate())),
    }
}

/// The dashboard, and one audit record per holder
fn dashboard_in(
    loaded: &Loaded,
    registry: &Registry,
    query: &DashboardQuery,
) -> Result<(DashboardAnswer, Vec<PendingRecord>), DashboardError> {
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
    let facts = Registry::facts(&patient.entries, query.at);
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
    let categories = vocabulary.categories();
    let mut records = Vec::with_capacity(holders.len());
    for holder in holders {
        let mut view = HolderView {
            holder: holder.clone(),
            visible: Vec::new(),
            reasons: Vec::new(),
        };
        let mut common: Option<Vec<Reason>> = None;
        let mut all: Vec<Reason> = Vec::new();
        // The permits behind what is visible, and the forbids behind what is not
        let (mut granting, mut denying): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        let mut note =
            |category: &Category, decision: Decision, reasons: &[Reason], policies: &[String]| {
                let into = if decision == Decision::Allow {
                    &mut granting
                } else {
                    &mut denying
                };
                for p in policies {
                    if !into.contains(p) {
                        into.push(p.clone());
                    }
                }
                if decision == Decision::Allow {
                    view.visible.push(category.clone());
                } else {
                    common = Some(match common.take() {
                        None => reasons.to_vec(),
                        Some(c) => c.into_iter().filter(|r| reasons.contains(r)).collect(),
                    });
                    all.extend_from_slice(reasons);
                }
            };
        let Some(first) = categories.first() else {
            answer.holders.push(view);
            continue;
        };
        // One input per holder; per category only the category and the
        // referral-objection fact change (the same input `decide` builds).
        request.action = Action::View {
            holder: holder.clone(),
            category: first.clone(),
            purpose: query.purpose,
        };
        let built = input::build(registry, vocabulary, &request);
        match &built {
            Ok(base) => {
                let mut input = base.clone();
                for category in categories {
                    input::with_category(&mut input, registry, category);
                    decide_input(loaded, registry, &input, |a| {
                        let o = &a.outcome;
                        note(category, o.decision, &o.reasons, &o.policies);
                    });
                }
            }
            Err(input::Unknown) => {
                for category in categories {
                    note(category, Decision::Deny, &[Reason::UnknownEntity], &[]);
                }
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
        let mut determining = if view.visible.is_empty() {
            denying
        } else {
            granting
        };
        determining.sort_unstable();
        records.push(audit::dashboard_record(
            query,
            built.as_ref().ok(),
            &view,
            determining,
            loaded.policies.content_hash(),
        ));
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
    Ok((answer, records))
}
