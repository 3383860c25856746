//! The engine: decisions and dashboards.
//!
//! `decide` turns a request into the abstract input the schema allows
//! policies to read (the `input` module), evaluates it through Cedar against the
//! policies of its action, and maps Cedar's answer to reason codes from the
//! `@reason` annotations. `decide_plain` is the reference path: the whole
//! policy set, nothing shared with the fast path but the input.

mod audit;
pub(crate) mod cedar;
pub(crate) mod compiled;
pub(crate) mod consent;
mod consent_questions;
mod directory;
mod explain;
mod fhir;
pub(crate) mod input;
pub(crate) mod journal;
mod memo;
mod positions;

use std::sync::{Arc, PoisonError};

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard};

use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use crate::audit::{AuditSink, Checks, PendingRecord, Summary};
use crate::model::entities::{EntityRecord, Organisation, Patient, Practitioner};
use crate::model::error::EntityError;
use crate::model::event::{Event, EventError};
use crate::model::ids::{Category, OrganisationId};
use crate::model::request::{
    Action, DashboardAnswer, DashboardQuery, Decision, HolderView, ModuleView, Outcome, Principal,
    Request, Response,
};
use crate::model::vocab::Reason;
use crate::policy::{Policies, PolicyLoadError};
use crate::registry::{PatientState, Registry};

use compiled::fast::Compiled;
use compiled::tables::{Compact, Point, bit};
pub use consent_questions::ConsentQueryError;
pub use explain::{Explanation, FactSeen, PolicyTrace, PolicyVerdict};
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
///
/// Its `Debug` shows counts (entities, events, remembered answers), never an
/// id, a category or a fact.
///
/// ```
/// use zorg_pdp::{Engine, Event, Organisation, OrganisationId, Patient, PatientId};
/// let engine = Engine::new()?;
/// engine.register_organisation(Organisation::new(OrganisationId::new("huisarts-west")?))?;
/// engine.register_patient(&Patient::new(PatientId::new("client-1")?))?;
/// engine.apply(&Event::from_json(r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started",
///     "patient":"client-1","organisation":"huisarts-west"}"#)?)?;
/// // Two entity records and one event: each accepted entry takes a position
/// assert_eq!(engine.seq(), 3);
/// assert_eq!(format!("{engine:?}").contains("client-1"), false);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Engine {
    loaded: ArcSwap<Loaded>,
    /// Readers lock only their own shard, so deciding threads never touch a
    /// shared cache line; applying an event locks every shard briefly.
    registry: ShardedLock<Registry>,
    audit_failures: AtomicU64,
    /// The last applied position, published after every write for
    /// [`Engine::wait_for`]
    published: positions::Published,
    /// The data directory's journal, for an engine opened from one
    journal: Option<Arc<dyn journal::Journal>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = self.loaded.load();
        f.debug_struct("Engine")
            .field("registry", &*self.read())
            .field("policies", &loaded.policies.content_hash())
            .field("remembered", &self.memo_len())
            .field("audited", &loaded.sink.is_some())
            .field("audit_failures", &self.audit_failures())
            .field("published", &self.published.current())
            .field("journal", &self.journal)
            .finish()
    }
}

/// A policy set with its compiled tables and memo, and the audit sink:
/// swapped as one, so the tables never outlive the policies they were
/// compiled from, and a decision loads one pointer
#[derive(Clone)]
struct Loaded {
    policies: Arc<Policies>,
    /// The set compiled (`None` when it is too large to compile: decisions
    /// then go through Cedar and the memo)
    compiled: Option<Arc<Compiled>>,
    /// Cedar's answers remembered, for a set that does not compile
    memo: Option<Arc<Memo>>,
    sink: Option<Arc<dyn AuditSink>>,
}

impl Loaded {
    /// The policies compiled, with an empty memo and no sink: the whole
    /// cost of a load, paid by the loading thread before the swap
    fn new(policies: Policies) -> Self {
        let compiled = Compiled::of(&policies).ok();
        let memo = Memo::new(&policies).map(Arc::new);
        Self {
            policies: Arc::new(policies),
            compiled,
            memo,
            sink: None,
        }
    }

    /// The outcome of a point: reasons from its bits, policy ids from its
    /// indices (sorted, as the indices are)
    fn outcome(&self, point: &Point) -> Outcome {
        let ids = self.policies.ids();
        point.outcome(|i| ids.get(i).map(String::as_str))
    }

    /// The point of an outcome Cedar gave (the memo's path)
    fn point_of(&self, outcome: &Outcome) -> Point {
        let ids = self.policies.ids();
        let mut policies: smallvec::SmallVec<[u16; 8]> = outcome
            .policies
            .iter()
            .filter_map(|p| ids.binary_search(p).ok())
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        policies.sort_unstable();
        Point {
            compact: Compact {
                allow: outcome.decision == Decision::Allow,
                reasons: outcome.reasons.iter().fold(0, |acc, r| acc | bit(*r)),
            },
            policies,
        }
    }

    /// The compiled answer for an input, `None` without tables or for an
    /// input outside their space
    #[inline]
    fn compiled(&self, input: &input::Input<'_>) -> Option<Point> {
        self.compiled
            .as_ref()?
            .decide(input, self.policies.vocabulary())
    }

    /// The NEN 7513 checks of a decision with `outcome` (`point` when it
    /// came from the tables): each alternative input asked of the tables,
    /// or of Cedar when the set does not compile
    fn checks(&self, input: &input::Input<'_>, outcome: &Outcome, point: Option<&Point>) -> Checks {
        let policies = &*self.policies;
        audit::checks_of(input, &|alt| match (point, self.compiled(alt)) {
            (Some(base), Some(other)) => other != *base,
            _ => cedar::evaluate(policies, policies.bucket(alt.action), alt) != *outcome,
        })
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
            published: positions::Published::default(),
            journal: None,
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
        // Until this, decisions translate the consent codes one by one
        self.write(|r| r.sync_consent_map(fresh.policies.vocabulary().consent()));
    }

    /// How many answers the fast path remembers for the policies in force (a
    /// diagnostic for benches and tests; not part of the stable API)
    #[doc(hidden)]
    pub fn memo_len(&self) -> usize {
        self.loaded.load().memo.as_ref().map_or(0, |m| m.len())
    }

    /// Whether the policies in force are compiled, so that no decision
    /// runs Cedar (a diagnostic for benches and tests; not part of the
    /// stable API)
    #[doc(hidden)]
    pub fn is_compiled(&self) -> bool {
        self.loaded.load().compiled.is_some()
    }

    fn read(&self) -> ShardedLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// `f` under the registry's write lock; then the last applied position
    /// is published to [`Engine::wait_for`] (still under the lock, so the
    /// published position only grows)
    fn write<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        let mut guard = self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let done = f(&mut guard);
        self.published.publish(guard.seq());
        done
    }

    /// Registers an organisation (registering a known id again changes
    /// nothing but the last applied position: every accepted entry takes one)
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] when the registry is full.
    #[expect(
        clippy::needless_pass_by_value,
        reason = "takes the entity like the other `register_*` (the registry keeps only its id today)"
    )]
    pub fn register_organisation(&self, organisation: Organisation) -> Result<(), EntityError> {
        let loaded = self.loaded.load();
        let body = self
            .journal
            .as_ref()
            .map(|_| journal::Body::entity(&EntityRecord::Organisation(organisation.clone())));
        self.write_journaled(EntityError::Journal, |r, lines| {
            let done = r.register_organisation(&organisation);
            r.sync_consent_map(loaded.policies.vocabulary().consent());
            done?;
            lines.extend(body.map(|b| b.at(r.seq())));
            Ok(())
        })
    }

    /// Registers a practitioner, or updates its organisation, role and
    /// tasks; takes the next position
    ///
    /// # Errors
    ///
    /// [`EntityError`] when the organisation is unknown or the role or a task
    /// is not in the loaded vocabulary; nothing changes then.
    pub fn register_practitioner(&self, practitioner: Practitioner) -> Result<(), EntityError> {
        let loaded = self.loaded.load();
        let body = self
            .journal
            .as_ref()
            .map(|_| journal::Body::entity(&EntityRecord::Practitioner(practitioner.clone())));
        self.write_journaled(EntityError::Journal, |r, lines| {
            r.register_practitioner(practitioner, loaded.policies.vocabulary())?;
            lines.extend(body.map(|b| b.at(r.seq())));
            Ok(())
        })
    }

    /// Registers a patient (registering a known id again changes nothing but
    /// the last applied position: every accepted entry takes one)
    ///
    /// # Errors
    ///
    /// [`EntityError::Capacity`] when the registry is full.
    pub fn register_patient(&self, patient: &Patient) -> Result<(), EntityError> {
        let body = self
            .journal
            .as_ref()
            .map(|_| journal::Body::entity(&EntityRecord::Patient(patient.clone())));
        self.write_journaled(EntityError::Journal, |r, lines| {
            r.register_patient(patient)?;
            lines.extend(body.map(|b| b.at(r.seq())));
            Ok(())
        })
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

    /// Applies an event and returns its position: the last applied one plus
    /// one (SPEC.md §8; entries of a host's log with their own position go
    /// through [`Engine::apply_entry`])
    ///
    /// # Errors
    ///
    /// [`EventError`] naming the event and the field; nothing changes then
    /// and no position is taken.
    pub fn apply(&self, event: &Event) -> Result<u64, EventError> {
        let loaded = self.loaded.load();
        let body = self.journal.as_ref().map(|_| journal::Body::event(event));
        let event_type = event.kind.event_type();
        self.write_journaled(
            |f| EventError::journal(event_type, f),
            |r, lines| {
                let done = r.apply(event, loaded.policies.vocabulary());
                r.sync_consent_map(loaded.policies.vocabulary().consent());
                let position = done?;
                lines.extend(body.map(|b| b.at(position)));
                Ok(position)
            },
        )
    }

    /// The last applied position (0 before any entry): every accepted entity
    /// record and event takes one; a response's `seq`
    pub fn seq(&self) -> u64 {
        self.read().seq()
    }

    /// May this principal do this, at the request's time `at`? Never fails:
    /// an evaluation problem is a deny with `evaluation_error` (fail closed),
    /// an unknown id a deny with `unknown_entity` alone. The engine reads no
    /// clock: the request says when.
    ///
    /// ```
    /// use zorg_pdp::{Decision, Engine, Reason, Request};
    /// let engine = Engine::new()?;
    /// let request = Request::from_json(r#"{"principal":{"practitioner":"nobody"},
    ///     "action":"view","patient":"client-1","holder":"vp-noord","category":"basis",
    ///     "at":"2026-02-01T00:00:00Z","mfa":true}"#)?;
    /// let response = engine.decide(&request);
    /// assert_eq!(response.decision, Decision::Deny);
    /// assert_eq!(response.reasons, vec![Reason::UnknownEntity]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decide(&self, request: &Request) -> Response {
        let loaded = self.loaded.load();
        let registry = self.read();
        self.decide_in(&loaded, &registry, request)
    }

    /// [`Engine::decide`] against one loaded policy set and registry
    fn decide_in(&self, loaded: &Loaded, registry: &Registry, request: &Request) -> Response {
        let seq = registry.seq();
        let sink = loaded
            .sink
            .as_ref()
            .filter(|_| audit::audited(request.action.kind()));
        let policies = &*loaded.policies;
        // R47: stale facts first, whatever else holds
        let built = if stale(request.min_seq, seq) {
            Err(Reason::StaleFacts)
        } else {
            input::build(registry, policies.vocabulary(), request)
                .map_err(|input::Unknown| Reason::UnknownEntity)
        };
        let built = match built {
            Ok(built) => built,
            Err(reason) => {
                let outcome = Outcome::deny(reason);
                if let Some(sink) = sink {
                    let record = audit::unknown_record(request, &outcome, policies.digest());
                    self.send(sink, record);
                }
                return outcome.into_response(seq);
            }
        };
        let input = &built.input;
        if let Some(point) = loaded.compiled(input) {
            // The request path proper: the tables alone, nothing written
            // that another deciding thread reads
            let outcome = loaded.outcome(&point);
            if let Some(sink) = sink {
                let summary = Summary::new(
                    outcome.clone(),
                    audit::facts_of(input, policies.digest()),
                    Arc::clone(registry.names()),
                );
                summary.checks(|| loaded.checks(input, &outcome, Some(&point)));
                let record = audit::decision_record(request, &built, Arc::new(summary));
                self.send(sink, record);
            }
            return outcome.into_response(seq);
        }
        // A set that does not compile: Cedar's answers, remembered. Without
        // a sink, the remembered answer is read in place: no reference
        // count is touched, so deciding threads share no written cache line.
        // With one, the record takes the one new reference (each
        // reference-count change is an atomic write).
        remembered(loaded, registry, &built.input, |summary| {
            let response = summary.outcome.to_response(seq);
            if let Some(sink) = sink {
                summary.checks(|| loaded.checks(&built.input, &summary.outcome, None));
                let record = audit::decision_record(request, &built, Arc::clone(summary));
                self.send(sink, record);
            }
            response
        })
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
        let policies = &*loaded.policies;
        let seq = registry.seq();
        if stale(request.min_seq, seq) {
            return Outcome::deny(Reason::StaleFacts).into_response(seq);
        }
        let outcome = match input::build(&registry, policies.vocabulary(), request) {
            Ok(built) => cedar::evaluate(policies, &policies.set, &built.input),
            Err(input::Unknown) => Outcome::deny(Reason::UnknownEntity),
        };
        outcome.into_response(seq)
    }

    /// [`Engine::decide`], and why: every policy whose action scope covers the
    /// request, each evaluated on its own (fired, not satisfied, out of
    /// scope, error), and the facts the policies saw. For policy authors and
    /// support desks; the decision is `decide`'s own, audited like it when a
    /// sink is set.
    ///
    /// ```
    /// use zorg_pdp::{Engine, PolicyVerdict, Request};
    /// let engine = Engine::new()?;
    /// let request = Request::from_json(r#"{"principal":{"practitioner":"nobody"},
    ///     "action":"view","patient":"client-1","holder":"vp-noord","category":"basis",
    ///     "at":"2026-02-01T00:00:00Z","mfa":true}"#)?;
    /// let why = engine.explain(&request);
    /// assert!(!why.response.is_allowed());
    /// assert!(why.policies.is_empty(), "an unknown principal reaches no policy (R2)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self, request: &Request) -> Explanation {
        let loaded = self.loaded.load();
        let registry = self.read();
        let response = self.decide_in(&loaded, &registry, request);
        let policies = &*loaded.policies;
        let traced = if stale(request.min_seq, registry.seq()) {
            // Stale facts reach no policy (R47), as an unknown id does not
            Err(input::Unknown)
        } else {
            input::build(&registry, policies.vocabulary(), request)
        };
        let (facts, policies) = match traced {
            Ok(built) => explain::trace(policies, &built.input),
            Err(input::Unknown) => (Vec::new(), Vec::new()),
        };
        Explanation {
            response,
            facts,
            policies,
        }
    }

    /// `f` of the policies in force and the input `decide` builds for
    /// `request` (`None` when it names an unknown id), under the registry's
    /// read lock
    pub(crate) fn with_input<T>(
        &self,
        request: &Request,
        f: impl FnOnce(&Policies, Option<&input::Input<'_>>) -> T,
    ) -> T {
        let loaded = self.loaded.load();
        let registry = self.read();
        let policies = &*loaded.policies;
        let built = input::build(&registry, policies.vocabulary(), request).ok();
        f(policies, built.as_ref().map(|b| &b.input))
    }

    /// What the policies would see for this request: the principal's role,
    /// tasks and organisation, and the context with every fact the registry
    /// computed, as JSON; `None` when the request names an unknown id
    pub fn explain_input(&self, request: &Request) -> Option<serde_json::Value> {
        let loaded = self.loaded.load();
        let registry = self.read();
        input::build(&registry, loaded.policies.vocabulary(), request)
            .ok()
            .map(|b| b.input.to_json())
    }

    /// The best a Cedar user can do for `request`, for the performance
    /// report's baseline (`examples/perf_report.rs`) and not part of the API:
    /// the Cedar request and entities `decide` would evaluate, built, and the
    /// action's policies alone. `None` when the request names an unknown id
    /// or does not fit the schema.
    #[doc(hidden)]
    pub fn cedar_baseline(&self, request: &Request) -> Option<CedarBaseline> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let policies = &*loaded.policies;
        let built = input::build(&registry, policies.vocabulary(), request).ok()?;
        let (request, entities) = cedar::to_cedar(policies, &built.input).ok()?;
        Some(CedarBaseline {
            request,
            entities,
            policies: policies.bucket(built.input.action).clone(),
        })
    }

    /// Which categories of which holder does this practitioner's dashboard show?
    ///
    /// Every entry equals the `view` decision with the query's fields; each
    /// holder's entry is one audit record.
    ///
    /// # Errors
    ///
    /// [`DashboardError`] when the principal or the patient is unknown.
    ///
    /// ```
    /// use zorg_pdp::{DashboardQuery, Engine};
    /// let engine = Engine::new()?;
    /// let query = DashboardQuery::from_json(r#"{"principal":{"practitioner":"nobody"},
    ///     "patient":"client-1","at":"2026-02-01T00:00:00Z"}"#)?;
    /// let error = engine.dashboard(&query).unwrap_err();
    /// assert_eq!(error.field(), "principal");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dashboard(&self, query: &DashboardQuery) -> Result<DashboardAnswer, DashboardError> {
        let loaded = self.loaded.load();
        let registry = self.read();
        let board = Board {
            loaded: &loaded,
            registry: &registry,
            query,
            audit: loaded.sink.is_some(),
        };
        let (answer, records) = board.answer()?;
        if let Some(sink) = &loaded.sink {
            for record in records {
                self.send(sink, record);
            }
        }
        Ok(answer)
    }
}

/// What [`Engine::cedar_baseline`] gives: Cedar's inputs prebuilt, for
/// timing `Authorizer::is_authorized` alone (the performance report only)
#[doc(hidden)]
#[derive(Debug)]
pub struct CedarBaseline {
    /// The Cedar request
    pub request: cedar_policy::Request,
    /// The request's entities
    pub entities: cedar_policy::Entities,
    /// The policies of the request's action
    pub policies: cedar_policy::PolicySet,
}

/// Whether a request or query with freshness token `min_seq` asks for a
/// position the registry at `seq` has not applied (R47)
fn stale(min_seq: Option<u64>, seq: u64) -> bool {
    min_seq.is_some_and(|m| m > seq)
}

/// The answer for a built input: from the compiled tables, or (a set that
/// does not compile) Cedar's through the memo
fn decide_input(loaded: &Loaded, registry: &Registry, input: &input::Input<'_>) -> Point {
    loaded.compiled(input).unwrap_or_else(|| {
        remembered(loaded, registry, input, |summary| {
            loaded.point_of(&summary.outcome)
        })
    })
}

/// The path of a set that does not compile: the memo, or Cedar on the
/// action's bucket
fn remembered<T>(
    loaded: &Loaded,
    registry: &Registry,
    input: &input::Input<'_>,
    read: impl FnOnce(&Arc<Summary>) -> T,
) -> T {
    let policies = &*loaded.policies;
    let evaluate = || {
        Summary::new(
            cedar::evaluate(policies, policies.bucket(input.action), input),
            audit::facts_of(input, policies.digest()),
            Arc::clone(registry.names()),
        )
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

/// One dashboard query against one registry and policy set
struct Board<'a> {
    loaded: &'a Loaded,
    registry: &'a Registry,
    query: &'a DashboardQuery,
    /// Whether to build the holders' audit records
    audit: bool,
}

/// What one holder's categories add up to
struct Tally {
    view: HolderView,
    /// The reason bits every denied category shares, and all of them
    common: Option<u32>,
    all: u32,
    /// The permits behind what is visible, and the forbids behind what is
    /// not, as indices into the set's policy ids
    granting: smallvec::SmallVec<[u16; 8]>,
    denying: smallvec::SmallVec<[u16; 8]>,
    checks: Checks,
}

impl Tally {
    fn new(holder: OrganisationId, categories: usize) -> Self {
        Self {
            view: HolderView {
                holder,
                visible: Vec::with_capacity(categories),
                reasons: Vec::new(),
            },
            common: None,
            all: 0,
            granting: smallvec::SmallVec::new(),
            denying: smallvec::SmallVec::new(),
            checks: Checks::default(),
        }
    }

    fn note(&mut self, category: &Category, point: &Point) {
        let into = if point.compact.allow {
            &mut self.granting
        } else {
            &mut self.denying
        };
        for p in &point.policies {
            if !into.contains(p) {
                into.push(*p);
            }
        }
        self.note_compact(category, point.compact);
    }

    /// [`Tally::note`] without the determining policies (unaudited)
    fn note_compact(&mut self, category: &Category, compact: Compact) {
        let allowed = compact.allow;
        if allowed {
            self.view.visible.push(category.clone());
        } else {
            let reasons = compact.reasons;
            self.common = Some(self.common.map_or(reasons, |c| c & reasons));
            self.all |= reasons;
        }
    }

    /// The holder's view, and the policies that determined it
    fn finish(mut self, ids: &[String]) -> (HolderView, Vec<String>, Checks) {
        let mut determining = if self.view.visible.is_empty() {
            let bits = match self.common {
                Some(c) if c != 0 => c,
                _ => self.all,
            };
            self.view.reasons = Compact {
                allow: false,
                reasons: bits,
            }
            .reasons();
            self.denying
        } else {
            self.granting
        };
        determining.sort_unstable();
        let determining = determining
            .iter()
            .filter_map(|i| ids.get(usize::from(*i)).cloned())
            .collect();
        (self.view, determining, self.checks)
    }
}

impl Board<'_> {
    /// The dashboard, and one audit record per holder when auditing
    fn answer(&self) -> Result<(DashboardAnswer, Vec<PendingRecord>), DashboardError> {
        let (registry, query) = (self.registry, self.query);
        if stale(query.min_seq, registry.seq()) {
            // R47: nothing shown, whoever asks; no holder, so no record
            let answer = DashboardAnswer {
                holders: Vec::new(),
                modules: Vec::new(),
                seq: registry.seq(),
                reasons: vec![Reason::StaleFacts],
            };
            return Ok((answer, Vec::new()));
        }
        let vocabulary = self.loaded.policies.vocabulary();
        let unknown = |field, value: &str| DashboardError {
            field,
            value: value.to_owned(),
        };
        let known = match &query.principal {
            Principal::Practitioner(id) => registry.practitioner(id).is_some(),
            Principal::Patient(id) => registry.patient(id).is_some(),
            Principal::Organisation(id) => registry.organisation_index(id).is_some(),
        };
        if !known {
            return Err(unknown("principal", query.principal.id()));
        }
        // A role or task the (reloaded) vocabulary no longer knows makes every
        // entry a deny with `unknown_entity`, as `decide` answers.
        let who = input::resolve_principal(registry, vocabulary, &query.principal);
        let patient = registry
            .patient(&query.patient)
            .ok_or_else(|| unknown("patient", query.patient.as_str()))?;
        let facts = patient.facts(query.at);
        let mut holders: Vec<_> = facts
            .holders()
            .into_iter()
            .filter_map(|o| registry.organisation_id(o).cloned())
            .collect();
        holders.sort();
        let mut answer = DashboardAnswer {
            holders: Vec::with_capacity(holders.len()),
            modules: Vec::new(),
            seq: registry.seq(),
            reasons: Vec::new(),
        };
        let mut records = Vec::new();
        for holder in holders {
            let (view, record) = self.holder(who, patient, holder);
            records.extend(record);
            answer.holders.push(view);
        }
        answer.modules = self.modules(who, patient, &facts.modules_started());
        Ok((answer, records))
    }

    /// One holder's categories: one input, and per category only the
    /// category and the referral-objection fact change (the input `decide`
    /// builds for each)
    fn holder(
        &self,
        who: Result<input::Who<'_>, input::Unknown>,
        patient: &PatientState,
        holder: OrganisationId,
    ) -> (HolderView, Option<PendingRecord>) {
        let (loaded, registry, query) = (self.loaded, self.registry, self.query);
        let policies = &*loaded.policies;
        let categories = policies.vocabulary().categories();
        let mut tally = Tally::new(holder.clone(), categories.len());
        let Some(first) = categories.first() else {
            return (tally.view, None);
        };
        let request = Request {
            principal: query.principal.clone(),
            patient: query.patient.clone(),
            at: query.at,
            mfa: query.mfa,
            action: Action::View {
                holder,
                category: first.clone(),
                purpose: query.purpose,
            },
            min_seq: query.min_seq,
        };
        let built = who.and_then(|who| {
            input::build_with(registry, policies.vocabulary(), who, patient, &request)
        });
        if let Ok(base) = &built {
            {
                let mut input = base.input.clone();
                let mut walk =
                    input::Categories::new(&input, registry, policies.vocabulary(), patient);
                // Unaudited, the holder's input is placed once; per category
                // only the category and the facts move, and only the
                // decision and reasons are read (the determining policies
                // are for the record)
                let placed = loaded
                    .compiled
                    .as_ref()
                    .filter(|_| !self.audit)
                    .and_then(|c| {
                        c.locate(&input, policies.vocabulary())
                            .map(|(s, p)| c.walk(s, p))
                    });
                for (index, category) in (0u16..).zip(categories) {
                    walk.set(&mut input, index, category);
                    if let Some(placed) = &placed {
                        let compact = placed.compact(u32::from(index), input.facts);
                        tally.note_compact(category, compact);
                        continue;
                    }
                    let point = decide_input(loaded, registry, &input);
                    tally.note(category, &point);
                    if self.audit {
                        let outcome = loaded.outcome(&point);
                        let checks = loaded.checks(&input, &outcome, Some(&point));
                        tally.checks = audit::either(tally.checks, checks);
                    }
                }
            }
        } else {
            {
                let unknown = Point {
                    compact: Compact {
                        allow: false,
                        reasons: bit(Reason::UnknownEntity),
                    },
                    policies: smallvec::SmallVec::new(),
                };
                for category in categories {
                    tally.note(category, &unknown);
                }
            }
        }
        let (view, determining, checks) = tally.finish(policies.ids());
        let record = self.audit.then(|| {
            audit::dashboard_record(
                query,
                built.as_ref().ok().map(|b| &b.input),
                &view,
                determining,
                policies.content_hash(),
                checks,
            )
        });
        (view, record)
    }

    /// The started modules the practitioner may work in
    fn modules(
        &self,
        who: Result<input::Who<'_>, input::Unknown>,
        patient: &PatientState,
        started: &[u32],
    ) -> Vec<ModuleView> {
        let (loaded, registry, query) = (self.loaded, self.registry, self.query);
        let vocabulary = loaded.policies.vocabulary();
        let mut views = Vec::new();
        for module in vocabulary.modules() {
            if !registry
                .module_index(module)
                .is_some_and(|idx| started.contains(&idx))
            {
                continue;
            }
            let request = Request {
                principal: query.principal.clone(),
                patient: query.patient.clone(),
                at: query.at,
                mfa: query.mfa,
                action: Action::Contribute {
                    module: module.clone(),
                },
                min_seq: query.min_seq,
            };
            let built =
                who.and_then(|who| input::build_with(registry, vocabulary, who, patient, &request));
            let outcome = match built {
                Ok(built) => loaded.outcome(&decide_input(loaded, registry, &built.input)),
                Err(input::Unknown) => Outcome::deny(Reason::UnknownEntity),
            };
            views.push(ModuleView {
                module: module.clone(),
                allowed: outcome.decision == Decision::Allow,
                reasons: outcome.reasons,
            });
        }
        views
    }
}
