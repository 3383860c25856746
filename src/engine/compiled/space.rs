//! The abstract input space: per action, the shapes of input the engine
//! sends, their dimensions and the finite domain of each.

use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::error::{AnalysisError, TooLargeError};
use crate::engine::input::{Input, PrincipalIn};
use crate::model::fact::{Fact, Facts};
use crate::model::ids::{
    CareModule, Category, OrganisationId, PatientId, PractitionerId, Role, Task, check_id,
};
use crate::model::time::Timestamp;
use crate::model::vocab::{ActionKind, Purpose, Source};
use crate::policy::Policies;

/// The most dimensions one shape has (seven plus every fact)
pub(crate) const MAX_DIMS: usize = 24;

/// A point of a shape: one coordinate per dimension, the rest zero
pub(crate) type Coords = [u32; MAX_DIMS];

/// The most tasks a vocabulary may have for the analysis (the tasks
/// dimension has `2^tasks` values)
pub const MAX_TASKS: usize = 16;

/// Who asks, as Cedar sees it: the principal's entity type
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A care professional or staff member (`Practitioner`)
    Practitioner,
    /// A patient (`Patient`)
    Patient,
    /// A system of an organisation (`Organisation`)
    Organisation,
}

impl PrincipalKind {
    /// Every kind, in this order
    pub const ALL: [PrincipalKind; 3] = [
        PrincipalKind::Practitioner,
        PrincipalKind::Patient,
        PrincipalKind::Organisation,
    ];

    /// The name in output (`practitioner`, …)
    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Practitioner => "practitioner",
            PrincipalKind::Patient => "patient",
            PrincipalKind::Organisation => "organisation",
        }
    }

    /// The Cedar entity type
    pub const fn type_name(self) -> &'static str {
        match self {
            PrincipalKind::Practitioner => "Practitioner",
            PrincipalKind::Patient => "Patient",
            PrincipalKind::Organisation => "Organisation",
        }
    }

    const fn ty(self) -> Ty {
        match self {
            PrincipalKind::Practitioner => Ty::Practitioner,
            PrincipalKind::Patient => Ty::Patient,
            PrincipalKind::Organisation => Ty::Organisation,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dimension of the space, internally
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dim {
    Role,
    Tasks,
    Mfa,
    Purpose,
    Category,
    Module,
    Ids,
    Fact(Fact),
}

/// One dimension of a shape: `role`, `tasks`, `mfa`, `purpose`, `category`,
/// `module`, `ids` (the id-equality pattern) or a fact's name
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimension(pub(crate) Dim);

impl Dimension {
    /// The dimension's name: a context attribute's, or `role`, `tasks`, `ids`
    pub fn name(self) -> &'static str {
        match self.0 {
            Dim::Role => "role",
            Dim::Tasks => "tasks",
            Dim::Mfa => "mfa",
            Dim::Purpose => "purpose",
            Dim::Category => "category",
            Dim::Module => "module",
            Dim::Ids => "ids",
            Dim::Fact(f) => f.name(),
        }
    }

    /// Whether it is one of the Boolean facts of the action's context
    pub fn is_fact(self) -> bool {
        matches!(self.0, Dim::Fact(_))
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The four entity ids of an input
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The principal
    Principal,
    /// A practitioner's organisation
    Organisation,
    /// The patient (the resource)
    Patient,
    /// The holder of the data (`context.holder`)
    Holder,
}

impl Slot {
    /// Every slot, in this order
    pub const ALL: [Slot; 4] = [
        Slot::Principal,
        Slot::Organisation,
        Slot::Patient,
        Slot::Holder,
    ];

    /// The slot's name
    pub const fn as_str(self) -> &'static str {
        match self {
            Slot::Principal => "principal",
            Slot::Organisation => "organisation",
            Slot::Patient => "patient",
            Slot::Holder => "holder",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Entity types whose ids a policy can compare
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Practitioner = 0,
    Patient = 1,
    Organisation = 2,
}

impl Ty {
    fn of(name: &str) -> Option<Ty> {
        match name {
            "Practitioner" => Some(Ty::Practitioner),
            "Patient" => Some(Ty::Patient),
            "Organisation" => Some(Ty::Organisation),
            _ => None,
        }
    }
}

/// One slot's id, internally: absent, the first slot holding the same
/// entity (no literal), or a literal's index in the universe's list of its type
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Sym {
    Absent,
    Fresh(u8),
    Literal(u16),
}

/// One slot's id in an [`IdPattern`]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbol {
    /// The input has no such id (no organisation for a patient, no holder)
    Absent,
    /// The same entity as the first slot named (itself, when it is the
    /// first), equal to no entity a policy names
    Fresh(Slot),
    /// The entity a policy names with this id (of the slot's type)
    Literal(String),
}

/// The equality pattern of an input's entity ids: which of the principal,
/// its organisation, the patient and the holder are the same entity, and
/// which are an entity a policy names. Ids of different types are never
/// equal. It is all a strictly validated policy can tell of the ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdPattern {
    symbols: [Symbol; 4],
}

impl IdPattern {
    /// The symbol of `slot`
    pub fn symbol(&self, slot: Slot) -> &Symbol {
        // INVARIANT: `symbols` has one entry per slot
        self.symbols.get(slot.index()).unwrap_or(&Symbol::Absent)
    }

    /// Whether the two slots hold the same entity
    pub fn same(&self, a: Slot, b: Slot) -> bool {
        let (x, y) = (self.symbol(a), self.symbol(b));
        *x != Symbol::Absent && x == y
    }
}

impl fmt::Display for IdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (i, slot) in Slot::ALL.iter().enumerate() {
            match self.symbol(*slot) {
                Symbol::Fresh(first) if first != slot => {
                    parts.push(format!("{} = {}", first.as_str(), slot.as_str()));
                }
                Symbol::Literal(id) => {
                    let earlier = Slot::ALL
                        .iter()
                        .take(i)
                        .find(|s| self.symbol(**s) == self.symbol(*slot));
                    match earlier {
                        Some(e) => parts.push(format!("{} = {}", e.as_str(), slot.as_str())),
                        None => parts.push(format!("{} = {id:?}", slot.as_str())),
                    }
                }
                _ => {}
            }
        }
        if parts.is_empty() {
            f.write_str("all distinct")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

impl Serialize for IdPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for slot in Slot::ALL {
            match self.symbol(slot) {
                Symbol::Absent => {}
                Symbol::Fresh(first) => map.serialize_entry(slot.as_str(), first.as_str())?,
                Symbol::Literal(id) => {
                    map.serialize_entry(slot.as_str(), &format!("literal:{id}"))?;
                }
            }
        }
        map.end()
    }
}

/// One abstract input: everything Cedar's answer depends on, with the
/// entity ids reduced to their [`IdPattern`]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct AbstractInput {
    /// The action
    pub action: ActionKind,
    /// The principal's kind
    pub principal: PrincipalKind,
    /// A practitioner's role
    pub role: Option<Role>,
    /// A practitioner's tasks, in vocabulary order
    pub tasks: Vec<Task>,
    /// Two-factor sign-in
    pub mfa: bool,
    /// The purpose, where the action has one
    pub purpose: Option<Purpose>,
    /// The source, where the action has one
    pub source: Option<Source>,
    /// The category, where the input has one
    pub category: Option<Category>,
    /// The care module, where the input has one
    pub module: Option<CareModule>,
    /// Every fact of the action's context, with its value, in schema order
    pub facts: Vec<(&'static str, bool)>,
    /// The id-equality pattern (whether there is a holder is part of it)
    pub ids: IdPattern,
}

impl AbstractInput {
    /// Whether the input has a holder (`context.holder`)
    pub fn has_holder(&self) -> bool {
        *self.ids.symbol(Slot::Holder) != Symbol::Absent
    }

    /// The value of the fact named `name`, `None` when the action has no such fact
    pub fn fact(&self, name: &str) -> Option<bool> {
        self.facts.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// The vocabulary and entity literals the space is built over: one policy
/// set's, or the union of two for a diff
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Universe {
    pub(crate) roles: Vec<Role>,
    pub(crate) tasks: Vec<Task>,
    pub(crate) categories: Vec<Category>,
    pub(crate) modules: Vec<CareModule>,
    /// Per [`Ty`], the ids policies name that are valid ids (an engine input
    /// can hold no other), sorted
    pub(crate) literals: [Vec<String>; 3],
}

/// `a` and then whatever of `b` it lacks
fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    out
}

impl Universe {
    pub(crate) fn of(policies: &Policies) -> Self {
        let v = policies.vocabulary();
        let mut literals: [Vec<String>; 3] = Default::default();
        for (ty, id) in policies.entity_literal_ids() {
            if let (Some(t), Ok(())) = (Ty::of(&ty), check_id(&id))
                && let Some(list) = literals.get_mut(t as usize)
            {
                list.push(id);
            }
        }
        for list in &mut literals {
            list.sort();
            list.dedup();
        }
        Self {
            roles: v.roles().to_vec(),
            tasks: v.tasks().to_vec(),
            categories: v.categories().to_vec(),
            modules: v.modules().to_vec(),
            literals,
        }
    }

    pub(crate) fn union(a: &Universe, b: &Universe) -> Self {
        let mut literals: [Vec<String>; 3] = Default::default();
        for (i, list) in literals.iter_mut().enumerate() {
            if let (Some(x), Some(y)) = (a.literals.get(i), b.literals.get(i)) {
                *list = union(x, y);
                list.sort();
            }
        }
        Self {
            roles: union(&a.roles, &b.roles),
            tasks: union(&a.tasks, &b.tasks),
            categories: union(&a.categories, &b.categories),
            modules: union(&a.modules, &b.modules),
            literals,
        }
    }

    pub(crate) fn literals_of(&self, ty: Ty) -> &[String] {
        self.literals.get(ty as usize).map_or(&[], Vec::as_slice)
    }
}

/// What of an input the engine sends for one action and principal kind
#[derive(Debug, Clone, Copy)]
struct Spec {
    source: Option<Source>,
    holder: bool,
    category: bool,
    module: bool,
}

/// The input shapes the engine builds for `action` (see
/// `engine::input::build`): which of source, holder, category and module
/// the context has
fn specs(action: ActionKind) -> Vec<Spec> {
    use ActionKind as A;
    let spec = |source, holder, category, module| Spec {
        source,
        holder,
        category,
        module,
    };
    match action {
        A::View => vec![spec(Some(Source::Dossier), true, true, false)],
        A::ViewRecord => vec![
            spec(Some(Source::Dossier), true, true, false),
            spec(Some(Source::Module), true, true, true),
            spec(Some(Source::Pgo), false, true, false),
        ],
        A::RequestAccess | A::Share | A::UseForResearch => vec![spec(None, false, false, false)],
        A::StartModule | A::Contribute => vec![spec(None, false, false, true)],
        A::ChangeConsent | A::ViewConsents | A::UsePersonalData => {
            vec![spec(None, true, false, false)]
        }
        A::ViewOwn => vec![
            spec(None, true, true, false),
            spec(None, true, false, false),
            spec(None, false, true, false),
            spec(None, false, false, false),
        ],
        A::ViewAccessLog => vec![
            spec(None, true, false, false),
            spec(None, false, false, false),
        ],
    }
}

/// Whether the engine sends a purpose for `action`
fn has_purpose(action: ActionKind) -> bool {
    matches!(
        action,
        ActionKind::View
            | ActionKind::ViewRecord
            | ActionKind::UsePersonalData
            | ActionKind::UseForResearch
    )
}

/// The facts the engine can set to `true` for a shape (see
/// `engine::input::build`); every other fact of the action's context is
/// always `false`
fn free_facts(action: ActionKind, kind: PrincipalKind, spec: Spec) -> Vec<Fact> {
    use ActionKind as A;
    use Fact as F;
    let practitioner = kind == PrincipalKind::Practitioner;
    let mut free: Vec<Fact> = match action {
        A::View | A::ViewRecord => {
            let mut f = Vec::new();
            if practitioner {
                f.extend([F::Relationship, F::AccessRequested]);
                if spec.holder {
                    f.extend([
                        F::DossierConsent,
                        F::Referral,
                        F::ReferralObjection,
                        F::UnplannedCareConsent,
                        F::ConsentRefused,
                        F::ConsentUnconfirmed,
                    ]);
                }
                if spec.module {
                    f.push(F::OwnershipAccepted);
                }
            }
            if action == A::ViewRecord {
                f.extend([F::RecordFlagged, F::RecordDeleted]);
            }
            f
        }
        A::RequestAccess if practitioner => vec![F::Relationship, F::ConsentOtherHolder],
        A::Share if practitioner => vec![F::DossierConsent],
        A::StartModule | A::Contribute if practitioner => vec![
            F::Relationship,
            F::PgoAccount,
            F::PgoTransferConsent,
            F::ModuleStarted,
            F::ModuleStorageConsent,
            F::OwnershipAccepted,
        ],
        A::UsePersonalData if kind == PrincipalKind::Organisation => vec![F::PartyConsent],
        A::UseForResearch => vec![F::Objection, F::ResearchConsent],
        A::ViewOwn => vec![F::RecordFlagged, F::RecordDeleted],
        _ => Vec::new(),
    };
    // In the schema's (and `Fact::of`'s) order
    let order = Fact::of(action);
    free.retain(|f| order.contains(f));
    free.sort_by_key(|f| order.iter().position(|o| o == f));
    free
}

/// Which facts are dimensions of a shape
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Those the engine can set for the shape (the analysis's space)
    Engine,
    /// Every fact of the action's context
    EveryFact,
}

/// One shape of input: an action, a principal kind and which optional
/// context attributes are present; a product of finite dimensions
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per optional context attribute, as the engine sends them"
)]
pub struct Shape {
    pub(crate) action: ActionKind,
    pub(crate) principal: PrincipalKind,
    pub(crate) source: Option<Source>,
    pub(crate) holder: bool,
    pub(crate) category: bool,
    pub(crate) module: bool,
    pub(crate) purpose: bool,
    pub(crate) dims: Vec<Dim>,
    pub(crate) sizes: Vec<u32>,
    pub(crate) patterns: Vec<[Sym; 4]>,
    pub(crate) len: u64,
}

impl Shape {
    /// The action
    pub fn action(&self) -> ActionKind {
        self.action
    }
    /// The principal's kind
    pub fn principal(&self) -> PrincipalKind {
        self.principal
    }
    /// The source, where the action has one
    pub fn source(&self) -> Option<Source> {
        self.source
    }
    /// Whether the context has a holder
    pub fn has_holder(&self) -> bool {
        self.holder
    }
    /// Whether the context has a category
    pub fn has_category(&self) -> bool {
        self.category
    }
    /// Whether the context has a care module
    pub fn has_module(&self) -> bool {
        self.module
    }
    /// Whether the context has a purpose
    pub fn has_purpose(&self) -> bool {
        self.purpose
    }
    /// The dimensions and the size of each one's domain
    pub fn dimensions(&self) -> Vec<(Dimension, u32)> {
        self.dims
            .iter()
            .zip(&self.sizes)
            .map(|(d, s)| (Dimension(*d), *s))
            .collect()
    }
    /// How many abstract inputs the shape has (the product of the sizes)
    pub fn len(&self) -> u64 {
        self.len
    }
    /// Whether the shape has no input (a vocabulary list is empty)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The position of a dimension
    pub(crate) fn position(&self, dim: Dim) -> Option<usize> {
        self.dims.iter().position(|d| *d == dim)
    }

    /// The slots' types: principal, organisation, patient, holder
    fn slot_types(&self) -> [Option<Ty>; 4] {
        [
            Some(self.principal.ty()),
            (self.principal == PrincipalKind::Practitioner).then_some(Ty::Organisation),
            Some(Ty::Patient),
            self.holder.then_some(Ty::Organisation),
        ]
    }
}

/// The finite space of abstract inputs of a policy set (or of two, for a
/// diff): every input the engine can send Cedar, up to what Cedar cannot
/// tell apart
#[derive(Debug, Clone)]
pub struct Space {
    pub(crate) universe: Universe,
    pub(crate) shapes: Vec<Shape>,
}

impl Space {
    /// The space of `policies`: its vocabulary, the entity literals its
    /// policies name, and the principal types its schema allows per action
    ///
    /// # Errors
    ///
    /// [`AnalysisError::TooLarge`] when the vocabulary has more than
    /// [`MAX_TASKS`] tasks or a shape more than `2^63` inputs.
    pub fn of(policies: &Policies) -> Result<Self, AnalysisError> {
        let kinds = |a| principal_kinds(policies, a);
        Self::build(Universe::of(policies), &kinds, Reach::Engine)
    }

    /// The space of `policies` with every fact of an action's context free,
    /// also those the engine never sets for a shape: the request path's
    /// compiled tables, so that the audit's "would the answer differ with
    /// this fact the other way round" (`engine::audit::checks_of`) is a
    /// point of the space too
    pub(crate) fn every_fact(policies: &Policies) -> Result<Self, AnalysisError> {
        let kinds = |a| principal_kinds(policies, a);
        Self::build(Universe::of(policies), &kinds, Reach::EveryFact)
    }

    /// The space over both sets' vocabularies, literals and principal types
    pub(crate) fn union(old: &Policies, new: &Policies) -> Result<Self, AnalysisError> {
        let universe = Universe::union(&Universe::of(old), &Universe::of(new));
        let kinds = |a| {
            let mut k = principal_kinds(old, a);
            k.extend(principal_kinds(new, a));
            k.sort();
            k.dedup();
            k
        };
        Self::build(universe, &kinds, Reach::Engine)
    }

    fn build(
        universe: Universe,
        kinds: &dyn Fn(ActionKind) -> Vec<PrincipalKind>,
        reach: Reach,
    ) -> Result<Self, AnalysisError> {
        let mut shapes = Vec::new();
        for &action in ActionKind::ALL {
            if universe.tasks.len() > MAX_TASKS {
                return Err(TooLargeError::new(
                    action,
                    "the tasks dimension",
                    1u128 << universe.tasks.len().min(127),
                    1 << MAX_TASKS,
                )
                .into());
            }
            for kind in kinds(action) {
                for spec in specs(action) {
                    shapes.push(shape(&universe, action, kind, spec, reach)?);
                }
            }
        }
        Ok(Self { universe, shapes })
    }

    /// The shapes, per action in [`ActionKind::ALL`] order
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// How many abstract inputs the space has
    pub fn len(&self) -> u64 {
        self.shapes.iter().map(|s| s.len).sum()
    }

    /// Whether it has none
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The roles of the space's vocabulary
    pub fn roles(&self) -> &[Role] {
        &self.universe.roles
    }

    /// The tasks
    pub fn tasks(&self) -> &[Task] {
        &self.universe.tasks
    }

    /// The categories
    pub fn categories(&self) -> &[Category] {
        &self.universe.categories
    }

    /// The care modules
    pub fn modules(&self) -> &[CareModule] {
        &self.universe.modules
    }

    /// Whether `input` is a point of the space
    pub fn contains(&self, input: &AbstractInput) -> bool {
        self.locate(input).is_some()
    }

    /// Every input of one shape, in a fixed order (the last dimension
    /// varies fastest); a shape may have tens of millions
    pub fn inputs(&self, shape: usize) -> impl Iterator<Item = AbstractInput> + '_ {
        let sizes = self
            .shapes
            .get(shape)
            .map_or(&[][..], |s| s.sizes.as_slice());
        Odometer::new(sizes).map(move |c| self.input(shape, &c))
    }

    /// The shape and coordinates of an input, `None` when it is not a
    /// point of the space
    pub(crate) fn locate(&self, input: &AbstractInput) -> Option<(usize, Coords)> {
        let u = &self.universe;
        let index = self.shapes.iter().position(|s| {
            s.action == input.action
                && s.principal == input.principal
                && s.source == input.source
                && s.holder == input.has_holder()
                && s.category == input.category.is_some()
                && s.module == input.module.is_some()
                && s.purpose == input.purpose.is_some()
        })?;
        let shape = self.shapes.get(index)?;
        let mut c: Coords = [0; MAX_DIMS];
        for (pos, dim) in shape.dims.iter().enumerate() {
            let value = match dim {
                Dim::Role => position(&u.roles, input.role.as_ref()?)?,
                Dim::Tasks => {
                    let mut mask = 0u32;
                    for t in &input.tasks {
                        mask |= 1 << position(&u.tasks, t)?;
                    }
                    mask
                }
                Dim::Mfa => u32::from(input.mfa),
                Dim::Purpose => position(Purpose::ALL, &input.purpose?)?,
                Dim::Category => position(&u.categories, input.category.as_ref()?)?,
                Dim::Module => position(&u.modules, input.module.as_ref()?)?,
                Dim::Ids => {
                    let syms = self.symbols_of(shape, &input.ids)?;
                    position(&shape.patterns, &syms)?
                }
                Dim::Fact(f) => u32::from(input.fact(f.name())?),
            };
            *c.get_mut(pos)? = value;
        }
        // A fact the engine never sets for this shape must be false
        let free = |name: &str| {
            shape
                .dims
                .iter()
                .any(|d| matches!(d, Dim::Fact(f) if f.name() == name))
        };
        if input.facts.iter().any(|(n, v)| *v && !free(n))
            || input.facts.len() != Fact::of(input.action).len()
            || input.role.is_some() != (input.principal == PrincipalKind::Practitioner)
        {
            return None;
        }
        Some((index, c))
    }

    /// The internal symbols of a public pattern, `None` when a literal is
    /// not one the space knows or a slot's presence does not fit the shape
    fn symbols_of(&self, shape: &Shape, ids: &IdPattern) -> Option<[Sym; 4]> {
        let types = shape.slot_types();
        let mut out = [Sym::Absent; 4];
        for (i, slot) in Slot::ALL.iter().enumerate() {
            let ty = *types.get(i)?;
            let sym = match (ids.symbol(*slot), ty) {
                (Symbol::Absent, None) => Sym::Absent,
                (Symbol::Fresh(first), Some(_)) => Sym::Fresh(u8::try_from(first.index()).ok()?),
                (Symbol::Literal(id), Some(t)) => Sym::Literal(
                    u16::try_from(self.universe.literals_of(t).iter().position(|l| l == id)?)
                        .ok()?,
                ),
                _ => return None,
            };
            *out.get_mut(i)? = sym;
        }
        Some(out)
    }

    /// The abstract input at `coords` of shape `shape`
    pub(crate) fn input(&self, shape: usize, coords: &Coords) -> AbstractInput {
        let u = &self.universe;
        let s = self.shapes.get(shape);
        let at = |dim: Dim| {
            s.and_then(|s| s.position(dim))
                .and_then(|p| coords.get(p).copied())
        };
        let nth = |i: Option<u32>| i.and_then(|i| usize::try_from(i).ok());
        let action = s.map_or(ActionKind::View, |s| s.action);
        let principal = s.map_or(PrincipalKind::Practitioner, |s| s.principal);
        let tasks = at(Dim::Tasks).map_or_else(Vec::new, |mask| {
            u.tasks
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, t)| t.clone())
                .collect()
        });
        let facts = Fact::of(action)
            .iter()
            .map(|f| (f.name(), at(Dim::Fact(*f)) == Some(1)))
            .collect();
        let syms = nth(at(Dim::Ids))
            .and_then(|i| s.and_then(|s| s.patterns.get(i)))
            .copied()
            .unwrap_or([Sym::Absent; 4]);
        let types = s.map_or([None; 4], Shape::slot_types);
        let symbols =
            std::array::from_fn(|i| match (syms.get(i), types.get(i).copied().flatten()) {
                (Some(Sym::Fresh(first)), Some(_)) => Symbol::Fresh(
                    Slot::ALL
                        .get(usize::from(*first))
                        .copied()
                        .unwrap_or(Slot::Principal),
                ),
                (Some(Sym::Literal(k)), Some(t)) => Symbol::Literal(
                    u.literals_of(t)
                        .get(usize::from(*k))
                        .cloned()
                        .unwrap_or_default(),
                ),
                _ => Symbol::Absent,
            });
        AbstractInput {
            action,
            principal,
            role: nth(at(Dim::Role)).and_then(|i| u.roles.get(i)).cloned(),
            tasks,
            mfa: at(Dim::Mfa) == Some(1),
            purpose: nth(at(Dim::Purpose)).and_then(|i| Purpose::ALL.get(i).copied()),
            source: s.and_then(|s| s.source),
            category: nth(at(Dim::Category))
                .and_then(|i| u.categories.get(i))
                .cloned(),
            module: nth(at(Dim::Module)).and_then(|i| u.modules.get(i)).cloned(),
            facts,
            ids: IdPattern { symbols },
        }
    }

    /// The abstract input of an engine input, `literals` holding the ids its
    /// policies name (and the task order)
    pub(crate) fn of_input(input: &Input<'_>, literals: &Universe) -> AbstractInput {
        let (principal, role, tasks, org, id) = match input.principal {
            PrincipalIn::Practitioner {
                id,
                role,
                tasks,
                organisation,
            } => (
                PrincipalKind::Practitioner,
                Some(role.clone()),
                tasks.to_vec(),
                Some(organisation.as_str()),
                id.as_str(),
            ),
            PrincipalIn::Patient(id) => {
                (PrincipalKind::Patient, None, Vec::new(), None, id.as_str())
            }
            PrincipalIn::Organisation(id) => (
                PrincipalKind::Organisation,
                None,
                Vec::new(),
                None,
                id.as_str(),
            ),
        };
        let slots: [Option<(Ty, &str)>; 4] = [
            Some((principal.ty(), id)),
            org.map(|o| (Ty::Organisation, o)),
            Some((Ty::Patient, input.patient.as_str())),
            input.holder.map(|h| (Ty::Organisation, h.as_str())),
        ];
        let symbols = std::array::from_fn(|i| {
            let Some(Some((ty, id))) = slots.get(i) else {
                return Symbol::Absent;
            };
            if literals.literals_of(*ty).iter().any(|l| l == id) {
                return Symbol::Literal((*id).to_owned());
            }
            let first = slots
                .iter()
                .position(|s| s.as_ref() == Some(&(*ty, *id)))
                .unwrap_or(i);
            Symbol::Fresh(Slot::ALL.get(first).copied().unwrap_or(Slot::Principal))
        });
        let mut sorted_tasks = tasks;
        sorted_tasks.sort_by_key(|t| literals.tasks.iter().position(|x| x == t));
        sorted_tasks.dedup();
        AbstractInput {
            action: input.action,
            principal,
            role,
            tasks: sorted_tasks,
            mfa: input.mfa,
            purpose: input.purpose,
            source: input.source,
            category: input.category.cloned(),
            module: input.module.cloned(),
            facts: Fact::of(input.action)
                .iter()
                .map(|f| (f.name(), input.facts.get(*f)))
                .collect(),
            ids: IdPattern { symbols },
        }
    }
}

fn position<T: PartialEq>(list: &[T], x: &T) -> Option<u32> {
    list.iter()
        .position(|y| y == x)
        .and_then(|i| u32::try_from(i).ok())
}

/// The principal kinds the engine sends that the schema allows for `action`
fn principal_kinds(policies: &Policies, action: ActionKind) -> Vec<PrincipalKind> {
    let allowed = policies.principal_types(action);
    PrincipalKind::ALL
        .into_iter()
        .filter(|k| allowed.iter().any(|t| t == k.type_name()))
        .collect()
}

/// One shape of `action` for `kind`
fn shape(
    u: &Universe,
    action: ActionKind,
    kind: PrincipalKind,
    spec: Spec,
    reach: Reach,
) -> Result<Shape, AnalysisError> {
    let mut s = Shape {
        action,
        principal: kind,
        source: spec.source,
        holder: spec.holder,
        category: spec.category,
        module: spec.module,
        purpose: has_purpose(action),
        dims: Vec::new(),
        sizes: Vec::new(),
        patterns: Vec::new(),
        len: 0,
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let push = |s: &mut Shape, dim, size| {
        s.dims.push(dim);
        s.sizes.push(size);
    };
    if kind == PrincipalKind::Practitioner {
        push(&mut s, Dim::Role, count(u.roles.len()));
        push(&mut s, Dim::Tasks, 1 << u.tasks.len());
    }
    push(&mut s, Dim::Mfa, 2);
    if s.purpose {
        push(&mut s, Dim::Purpose, count(Purpose::ALL.len()));
    }
    if spec.category {
        push(&mut s, Dim::Category, count(u.categories.len()));
    }
    if spec.module {
        push(&mut s, Dim::Module, count(u.modules.len()));
    }
    s.patterns = patterns(s.slot_types(), u);
    let patterns = count(s.patterns.len());
    push(&mut s, Dim::Ids, patterns);
    let facts = match reach {
        Reach::Engine => free_facts(action, kind, spec),
        Reach::EveryFact => Fact::of(action).to_vec(),
    };
    for f in facts {
        push(&mut s, Dim::Fact(f), 2);
    }
    let mut len: u128 = 1;
    for size in &s.sizes {
        len = len.saturating_mul(u128::from(*size));
    }
    s.len = u64::try_from(len)
        .ok()
        .filter(|l| *l < 1 << 63)
        .ok_or_else(|| {
            TooLargeError::new(
                action,
                format!("the space of principal `{kind}`"),
                len,
                1 << 63,
            )
        })?;
    Ok(s)
}

/// Every equality pattern of slots of the given types: each slot is the
/// same entity as an earlier slot of its type, or a literal of its type, or
/// a new entity named by no policy
fn patterns(types: [Option<Ty>; 4], u: &Universe) -> Vec<[Sym; 4]> {
    let mut out = vec![[Sym::Absent; 4]];
    for (i, ty) in types.iter().enumerate() {
        let Some(ty) = ty else { continue };
        let mut next = Vec::new();
        for p in &out {
            let mut options = vec![Sym::Fresh(u8::try_from(i).unwrap_or(0))];
            for (j, earlier) in types.iter().enumerate().take(i) {
                if earlier == &Some(*ty)
                    && p.get(j) == Some(&Sym::Fresh(u8::try_from(j).unwrap_or(0)))
                {
                    options.push(Sym::Fresh(u8::try_from(j).unwrap_or(0)));
                }
            }
            let literals = u.literals_of(*ty).len();
            options.extend((0..literals).filter_map(|k| u16::try_from(k).ok().map(Sym::Literal)));
            for o in options {
                let mut q = *p;
                if let Some(cell) = q.get_mut(i) {
                    *cell = o;
                }
                next.push(q);
            }
        }
        out = next;
    }
    out
}

/// Counts through every point of a product of domains, the last fastest
#[derive(Debug, Clone)]
pub(crate) struct Odometer {
    sizes: Vec<u32>,
    next: Option<Coords>,
}

impl Odometer {
    pub(crate) fn new(sizes: &[u32]) -> Self {
        let empty = sizes.contains(&0) || sizes.len() > MAX_DIMS;
        Self {
            sizes: sizes.to_vec(),
            next: (!empty).then_some([0; MAX_DIMS]),
        }
    }
}

impl Iterator for Odometer {
    type Item = Coords;
    fn next(&mut self) -> Option<Coords> {
        let current = self.next?;
        let mut c = current;
        let mut carry = true;
        for (pos, size) in self.sizes.iter().enumerate().rev() {
            let Some(cell) = c.get_mut(pos) else { break };
            *cell += 1;
            if *cell < *size {
                carry = false;
                break;
            }
            *cell = 0;
        }
        self.next = (!carry).then_some(c);
        Some(current)
    }
}

/// An engine input built from an abstract input: the ids synthesised for
/// its pattern, the values copied
#[derive(Debug, Clone)]
pub(crate) struct Synth {
    action: ActionKind,
    kind: PrincipalKind,
    practitioner: PractitionerId,
    principal_patient: PatientId,
    principal_org: OrganisationId,
    role: Role,
    tasks: Vec<Task>,
    organisation: OrganisationId,
    patient: PatientId,
    holder: Option<OrganisationId>,
    mfa: bool,
    purpose: Option<Purpose>,
    source: Option<Source>,
    category: Option<Category>,
    module: Option<CareModule>,
    facts: Facts,
}

/// The id of a fresh entity first held by `slot`: one no literal of the
/// universe (or of `avoid`) equals
fn fresh_id(slot: Slot, avoid: &[String]) -> String {
    let mut id = format!("zpdp-analysis-{}", slot.as_str());
    while avoid.contains(&id) {
        id.push('_');
    }
    id
}

impl Synth {
    /// The engine input of `a`, with fresh ids unequal to every literal in
    /// `literals`; `None` when an id cannot be made (a literal that is not a
    /// valid id) or a fact is unknown to the action
    pub(crate) fn new(a: &AbstractInput, literals: &Universe) -> Option<Self> {
        let ty_of = |slot: Slot| match slot {
            Slot::Principal => a.principal.ty(),
            Slot::Organisation | Slot::Holder => Ty::Organisation,
            Slot::Patient => Ty::Patient,
        };
        let id = |slot: Slot| -> Option<String> {
            match a.ids.symbol(slot) {
                Symbol::Absent => None,
                Symbol::Literal(id) => Some(id.clone()),
                Symbol::Fresh(first) => Some(fresh_id(*first, literals.literals_of(ty_of(slot)))),
            }
        };
        let principal = id(Slot::Principal)?;
        let placeholder = |ty: Ty| fresh_id(Slot::Principal, literals.literals_of(ty));
        let mut facts = Facts::default();
        for (name, value) in &a.facts {
            let fact = Fact::of(a.action).iter().find(|f| f.name() == *name)?;
            facts.set(*fact, *value);
        }
        let (practitioner, principal_patient, principal_org) = match a.principal {
            PrincipalKind::Practitioner => (
                principal,
                placeholder(Ty::Patient),
                placeholder(Ty::Organisation),
            ),
            PrincipalKind::Patient => (
                placeholder(Ty::Practitioner),
                principal,
                placeholder(Ty::Organisation),
            ),
            PrincipalKind::Organisation => (
                placeholder(Ty::Practitioner),
                placeholder(Ty::Patient),
                principal,
            ),
        };
        let organisation = id(Slot::Organisation).unwrap_or_else(|| {
            fresh_id(Slot::Organisation, literals.literals_of(Ty::Organisation))
        });
        Some(Self {
            action: a.action,
            kind: a.principal,
            practitioner: PractitionerId::new(&practitioner).ok()?,
            principal_patient: PatientId::new(&principal_patient).ok()?,
            principal_org: OrganisationId::new(&principal_org).ok()?,
            role: match &a.role {
                Some(r) => r.clone(),
                None => Role::new("none").ok()?,
            },
            tasks: a.tasks.clone(),
            organisation: OrganisationId::new(&organisation).ok()?,
            patient: PatientId::new(&id(Slot::Patient)?).ok()?,
            holder: match id(Slot::Holder) {
                Some(h) => Some(OrganisationId::new(&h).ok()?),
                None => None,
            },
            mfa: a.mfa,
            purpose: a.purpose,
            source: a.source,
            category: a.category.clone(),
            module: a.module.clone(),
            facts,
        })
    }

    /// The input, borrowing the synthesised values
    pub(crate) fn input(&self) -> Input<'_> {
        Input {
            action: self.action,
            principal: match self.kind {
                PrincipalKind::Practitioner => PrincipalIn::Practitioner {
                    id: &self.practitioner,
                    role: &self.role,
                    tasks: &self.tasks,
                    organisation: &self.organisation,
                },
                PrincipalKind::Patient => PrincipalIn::Patient(&self.principal_patient),
                PrincipalKind::Organisation => PrincipalIn::Organisation(&self.principal_org),
            },
            patient: &self.patient,
            at: Timestamp::MIN,
            mfa: self.mfa,
            purpose: self.purpose,
            source: self.source,
            category: self.category.as_ref(),
            holder: self.holder.as_ref(),
            module: self.module.as_ref(),
            facts: self.facts,
            indices: crate::engine::input::Indices::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Policies {
        Policies::shipped().unwrap()
    }

    #[test]
    fn the_shipped_view_shapes_have_the_expected_dimensions_and_sizes() {
        let space = Space::of(&shipped()).unwrap();
        let view: Vec<&Shape> = space
            .shapes()
            .iter()
            .filter(|s| s.action() == ActionKind::View)
            .collect();
        assert_eq!(view.len(), 3, "one shape per principal kind");
        let p = view[0];
        assert_eq!(p.principal(), PrincipalKind::Practitioner);
        let names: Vec<&str> = p.dimensions().iter().map(|(d, _)| d.name()).collect();
        assert_eq!(
            names,
            [
                "role",
                "tasks",
                "mfa",
                "purpose",
                "category",
                "ids",
                "relationship",
                "dossier_consent",
                "access_requested",
                "referral",
                "referral_objection",
                "unplanned_care_consent",
                "consent_refused",
                "consent_unconfirmed"
            ]
        );
        // 12 roles, 2^3 task sets, mfa, 6 purposes, 14 categories, organisation = holder or
        // not, 2^8 facts
        assert_eq!(p.len(), 12 * 8 * 2 * 6 * 14 * 2 * 256);
        // A patient's view: no role, tasks or facts; the patient may be the principal
        assert_eq!(view[1].len(), 2 * 6 * 14 * 2);
        assert_eq!(view[2].len(), 2 * 6 * 14 * 2);
    }

    #[test]
    fn id_patterns_are_the_set_partitions_by_type_with_literals() {
        let mut u = Universe::of(&shipped());
        let practitioner = [
            Some(Ty::Practitioner),
            Some(Ty::Organisation),
            Some(Ty::Patient),
            Some(Ty::Organisation),
        ];
        assert_eq!(patterns(practitioner, &u).len(), 2);
        // One organisation literal: each organisation slot is it or not, and
        // the holder may also equal a fresh organisation
        u.literals[Ty::Organisation as usize] = vec!["vp-noord".into()];
        let found = patterns(practitioner, &u);
        // organisation: fresh | literal; holder: fresh | = organisation (when fresh) | literal
        assert_eq!(found.len(), 2 + 3);
        let organisation_principal = [Some(Ty::Organisation), None, Some(Ty::Patient), None];
        assert_eq!(patterns(organisation_principal, &u).len(), 2);
    }

    #[test]
    fn inputs_locate_back_to_their_coordinates() {
        let space = Space::of(&shipped()).unwrap();
        for (i, shape) in space.shapes().iter().enumerate() {
            let mut seen = 0;
            for point in Odometer::new(&shape.sizes).step_by(997) {
                let input = space.input(i, &point);
                let (j, c) = space.locate(&input).unwrap();
                assert_eq!(j, i);
                assert_eq!(c, point);
                assert_eq!(space.input(j, &c), input);
                seen += 1;
            }
            assert!(seen > 0 || shape.is_empty());
        }
    }

    #[test]
    fn a_fact_the_engine_never_sets_is_not_in_the_space() {
        let space = Space::of(&shipped()).unwrap();
        let i = space
            .shapes()
            .iter()
            .position(|s| s.action() == ActionKind::View)
            .unwrap();
        let mut input = space.inputs(i).next().unwrap();
        assert!(space.contains(&input));
        // `view` never sends a record flag
        for f in &mut input.facts {
            if f.0 == "record_flagged" {
                f.1 = true;
            }
        }
        assert!(!space.contains(&input));
    }

    #[test]
    fn the_odometer_counts_every_point_once() {
        let points: Vec<Coords> = Odometer::new(&[2, 3]).collect();
        assert_eq!(points.len(), 6);
        assert_eq!(points[1][..2], [0, 1]);
        assert_eq!(points[5][..2], [1, 2]);
        assert_eq!(Odometer::new(&[2, 0]).count(), 0);
        assert_eq!(Odometer::new(&[]).count(), 1);
    }
}
