//! Change impact: every abstract input whose decision or reasons differ
//! between two policy sets, exact, grouped and counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hashbrown::HashMap;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::engine::compiled::error::{AnalysisError, TooLargeError};
use crate::engine::compiled::space::{
    AbstractInput, Coords, Dim, MAX_DIMS, PrincipalKind, Shape, Space,
};
use crate::engine::compiled::tables::{Acc, Compact, Entry, Membership, TruthTables};
use crate::model::ids::{CareModule, Category, Role};
use crate::model::request::Decision;
use crate::model::vocab::{ActionKind, Purpose, Reason, Source};
use crate::policy::Policies;

/// The most points one diff enumerates (beyond it the diff is refused)
pub const MAX_ENUMERATED: u64 = 1 << 32;

/// A grouping dimension's value in a [`DiffGroup`]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field<T> {
    /// The shape has no such dimension (no role for a patient, no category for `share`)
    Absent,
    /// Every value of it (of the vocabulary both sets share, or of the one
    /// set whose answer the group gives when the other lacks the input)
    Every,
    /// This value
    One(T),
}

impl<T: fmt::Display> fmt::Display for Field<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Absent => f.write_str("-"),
            Field::Every => f.write_str("*"),
            Field::One(v) => v.fmt(f),
        }
    }
}

impl<T: fmt::Display> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Absent => s.serialize_none(),
            Field::Every => s.serialize_str("*"),
            Field::One(v) => s.collect_str(v),
        }
    }
}

/// One side's answer in a [`DiffGroup`]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Answer {
    /// Allowed
    Allow,
    /// Denied, with these reasons (in the order of SPEC.md)
    Deny(Vec<Reason>),
    /// The input names a role, task, category or module this set's
    /// vocabulary lacks (the engine would deny with `unknown_entity`)
    NotInVocabulary,
}

impl Answer {
    fn of(c: Compact) -> Self {
        if c.allow {
            Answer::Allow
        } else {
            Answer::Deny(c.reasons())
        }
    }

    /// The decision, `None` for an input outside the vocabulary
    pub fn decision(&self) -> Option<Decision> {
        match self {
            Answer::Allow => Some(Decision::Allow),
            Answer::Deny(_) => Some(Decision::Deny),
            Answer::NotInVocabulary => None,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Allow => f.write_str("allow"),
            Answer::Deny(r) => {
                let names: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
                write!(f, "deny [{}]", names.join(", "))
            }
            Answer::NotInVocabulary => f.write_str("not in the vocabulary"),
        }
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::NotInVocabulary => s.serialize_str("not_in_vocabulary"),
            Answer::Allow | Answer::Deny(_) => {
                let mut st = s.serialize_struct("Answer", 2)?;
                st.serialize_field("decision", &self.decision())?;
                let none: &[Reason] = &[];
                st.serialize_field(
                    "reasons",
                    match self {
                        Answer::Deny(r) => r.as_slice(),
                        _ => none,
                    },
                )?;
                st.end()
            }
        }
    }
}

/// How a policy differs between the two sets
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in the new set
    Added,
    /// Only in the old set
    Removed,
    /// In both, with another text, effect or reason (or, when the schemas
    /// group the action differently, every policy of the action)
    Changed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        })
    }
}

/// A policy that can make a difference
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct PolicyChange {
    /// Its id
    pub id: String,
    /// How it changed
    pub change: Change,
}

/// Abstract inputs of one shape that go from one answer to another,
/// alike in the grouping dimensions
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiffGroup {
    /// The action
    pub action: ActionKind,
    /// The principal's kind
    pub principal: PrincipalKind,
    /// The source, where the action has one
    pub source: Option<Source>,
    /// Whether the inputs have a holder
    pub holder: bool,
    /// The role
    pub role: Field<Role>,
    /// The category
    pub category: Field<Category>,
    /// The care module
    pub module: Field<CareModule>,
    /// The purpose
    pub purpose: Field<Purpose>,
    /// The old set's answer
    pub old: Answer,
    /// The new set's answer
    pub new: Answer,
    /// How many abstract inputs the group spans (over tasks, mfa, facts,
    /// id patterns and every dimension shown as `*`)
    pub count: u64,
    /// One of them
    pub example: AbstractInput,
}

/// What changes between two policy sets
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiffReport {
    /// The old set's content hash
    pub old: String,
    /// The new set's content hash
    pub new: String,
    /// How many abstract inputs were compared (the space over both sets' vocabularies)
    pub inputs: u64,
    /// How many of them differ in decision or reasons
    pub differing: u64,
    /// The policies that can make a difference (the rest are the same in both)
    pub changed: Vec<PolicyChange>,
    /// The differing inputs, grouped, in a fixed order
    pub groups: Vec<DiffGroup>,
}

impl DiffReport {
    /// Whether no abstract input differs
    pub fn is_empty(&self) -> bool {
        self.differing == 0
    }
}

/// One side of a group key
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Side {
    Out(Compact),
    Missing,
}

/// A group before it is made public: grouping values as coordinates
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    shape: usize,
    role: Field<u32>,
    category: Field<u32>,
    module: Field<u32>,
    purpose: Field<u32>,
    old: Side,
    new: Side,
}

impl Key {
    fn field(&mut self, dim: Dim) -> Option<&mut Field<u32>> {
        match dim {
            Dim::Role => Some(&mut self.role),
            Dim::Category => Some(&mut self.category),
            Dim::Module => Some(&mut self.module),
            Dim::Purpose => Some(&mut self.purpose),
            _ => None,
        }
    }
}

/// The grouping dimensions, merged in this order
const GROUPED: [Dim; 4] = [Dim::Purpose, Dim::Module, Dim::Category, Dim::Role];

/// Counts and first examples, per group
type Groups = HashMap<Key, (u64, Coords)>;

/// Every abstract input whose decision or reasons differ between `old` and
/// `new`, exact, grouped and counted
///
/// Only a policy whose text, effect or reason differs, or that is in one
/// set only, can make a difference (a policy's value depends on its text
/// and the input alone). So, per shape, the diff projects onto the
/// dimensions the changed policies read, finds the points where some
/// changed policy contributes differently, and only there expands to full
/// inputs over the dimensions the other policies read, comparing the two
/// answers exactly; dimensions no policy reads multiply the count. Inputs
/// naming a role, task, category or module only one set knows form their
/// own groups (the other side is [`Answer::NotInVocabulary`]).
///
/// # Errors
///
/// [`AnalysisError`] as [`TruthTables::build`], and
/// [`AnalysisError::TooLarge`] when the comparison would enumerate more
/// than [`MAX_ENUMERATED`] points.
///
/// ```
/// use zorg_pdp::Policies;
/// use zorg_pdp::analysis::diff;
/// let shipped = Policies::shipped()?;
/// assert!(diff(&shipped, &shipped)?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diff(old: &Policies, new: &Policies) -> Result<DiffReport, AnalysisError> {
    let space = Space::union(old, new)?;
    let o = TruthTables::over(old, space.clone())?;
    let n = TruthTables::over(new, space)?;
    let (changed, changed_ids) = changes(&o, &n);
    let regrouped: BTreeSet<ActionKind> = ActionKind::ALL
        .iter()
        .copied()
        .filter(|a| old.action_groups(*a) != new.action_groups(*a))
        .collect();
    let mut groups = Groups::new();
    let mut budget = MAX_ENUMERATED;
    for (si, shape) in o.space.shapes.iter().enumerate() {
        let all = regrouped.contains(&shape.action);
        let is_changed = |t: &TruthTables, e: &Entry| {
            all || t
                .policies
                .get(e.policy)
                .is_none_or(|m| changed_ids.contains(&m.id))
        };
        let old_entries = o.shapes.get(si).map_or(&[][..], Vec::as_slice);
        let new_entries = n.shapes.get(si).map_or(&[][..], Vec::as_slice);
        let side = Sides {
            shape,
            si,
            unchanged: old_entries.iter().filter(|e| !is_changed(&o, e)).collect(),
            changed: pairs(&o, &n, old_entries, new_entries, &is_changed),
            old_entries,
            new_entries,
            old_member: &o.member,
            new_member: &n.member,
        };
        side.common(&mut groups, &mut budget)?;
        side.vocabulary(&mut groups, &mut budget)?;
    }
    let merged = merge(groups, &o, &n);
    let differing = merged.iter().map(|(_, (count, _))| *count).sum();
    let groups = merged
        .into_iter()
        .map(|(k, (count, example))| public(&o.space, &k, count, &example))
        .collect();
    Ok(DiffReport {
        old: o.content_hash().to_owned(),
        new: n.content_hash().to_owned(),
        inputs: o.space.len(),
        differing,
        changed,
        groups,
    })
}

/// The policies that differ between the two sets, listed and as a set of ids
fn changes(o: &TruthTables, n: &TruthTables) -> (Vec<PolicyChange>, BTreeSet<String>) {
    let mut ids: BTreeSet<&str> = o.policies.iter().map(|m| m.id.as_str()).collect();
    ids.extend(n.policies.iter().map(|m| m.id.as_str()));
    let mut out = Vec::new();
    for id in ids {
        let a = o.policies.iter().find(|m| m.id == id);
        let b = n.policies.iter().find(|m| m.id == id);
        let change = match (a, b) {
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (Some(a), Some(b))
                if a.json.is_none()
                    || a.json != b.json
                    || a.permit != b.permit
                    || a.reason != b.reason =>
            {
                Change::Changed
            }
            _ => continue,
        };
        out.push(PolicyChange {
            id: id.to_owned(),
            change,
        });
    }
    let set = out.iter().map(|c| c.id.clone()).collect();
    (out, set)
}

/// The changed policies of a shape, matched by id: (old table, new table)
fn pairs<'t>(
    o: &TruthTables,
    n: &TruthTables,
    old: &'t [Entry],
    new: &'t [Entry],
    is_changed: &dyn Fn(&TruthTables, &Entry) -> bool,
) -> Vec<(Option<&'t Entry>, Option<&'t Entry>)> {
    let id = |t: &TruthTables, e: &Entry| t.policies.get(e.policy).map(|m| m.id.clone());
    let mut by_id: BTreeMap<Option<String>, (Option<&Entry>, Option<&Entry>)> = BTreeMap::new();
    for e in old.iter().filter(|e| is_changed(o, e)) {
        by_id.entry(id(o, e)).or_default().0 = Some(e);
    }
    for e in new.iter().filter(|e| is_changed(n, e)) {
        by_id.entry(id(n, e)).or_default().1 = Some(e);
    }
    by_id.into_values().collect()
}

/// One shape of both sets
struct Sides<'a> {
    shape: &'a Shape,
    si: usize,
    /// The old set's tables of the policies the same in both (equal to the new set's)
    unchanged: Vec<&'a Entry>,
    changed: Vec<(Option<&'a Entry>, Option<&'a Entry>)>,
    old_entries: &'a [Entry],
    new_entries: &'a [Entry],
    old_member: &'a Membership,
    new_member: &'a Membership,
}

/// One axis of an enumeration: a position and its values
type Axis = (usize, Vec<u32>);

impl Sides<'_> {
    /// The values of each dimension both vocabularies have
    fn common_domain(&self, pos: usize) -> Vec<u32> {
        let (Some(dim), Some(size)) = (self.shape.dims.get(pos), self.shape.sizes.get(pos)) else {
            return Vec::new();
        };
        (0..*size)
            .filter(|v| self.old_member.has(*dim, *v) && self.new_member.has(*dim, *v))
            .collect()
    }

    /// The positions some of `entries` read
    fn reads<'e>(entries: impl Iterator<Item = &'e Entry>) -> BTreeSet<usize> {
        entries
            .flat_map(|e| e.reads.iter().map(|(p, _)| *p))
            .collect()
    }

    /// The key of a point, with the grouping dimensions in `shown` by value
    fn key(&self, c: &Coords, shown: &BTreeSet<usize>, old: Side, new: Side) -> Key {
        let mut k = Key {
            shape: self.si,
            role: Field::Absent,
            category: Field::Absent,
            module: Field::Absent,
            purpose: Field::Absent,
            old,
            new,
        };
        for dim in GROUPED {
            if let (Some(pos), Some(field)) = (self.shape.position(dim), k.field(dim)) {
                *field = if shown.contains(&pos) {
                    Field::One(c.get(pos).copied().unwrap_or(0))
                } else {
                    Field::Every
                };
            }
        }
        k
    }

    /// The inputs in both vocabularies: where a changed policy contributes
    /// differently, expanded over what the others read
    fn common(&self, groups: &mut Groups, budget: &mut u64) -> Result<(), AnalysisError> {
        if self.changed.is_empty() || self.shape.is_empty() {
            return Ok(());
        }
        let domains: Vec<Vec<u32>> = (0..self.shape.dims.len())
            .map(|p| self.common_domain(p))
            .collect();
        if domains.iter().any(Vec::is_empty) {
            return Ok(());
        }
        let projected = Self::reads(
            self.changed
                .iter()
                .flat_map(|(a, b)| a.iter().chain(b.iter()).copied()),
        );
        let rest: BTreeSet<usize> = Self::reads(self.unchanged.iter().copied())
            .difference(&projected)
            .copied()
            .collect();
        let shown: BTreeSet<usize> = projected.union(&rest).copied().collect();
        let weight: u64 = (0..domains.len())
            .filter(|p| !shown.contains(p))
            .map(|p| domains.get(p).map_or(1, |d| d.len() as u64))
            .product();
        let axis = |set: &BTreeSet<usize>| -> Vec<Axis> {
            set.iter()
                .map(|&p| (p, domains.get(p).cloned().unwrap_or_default()))
                .collect()
        };
        let (outer, inner) = (axis(&projected), axis(&rest));
        spend(budget, self.shape, &outer, &[])?;
        spend(budget, self.shape, &outer, &inner)?;
        let mut base: Coords = [0; MAX_DIMS];
        for (p, d) in domains.iter().enumerate() {
            if let (Some(cell), Some(v)) = (base.get_mut(p), d.first()) {
                *cell = *v;
            }
        }
        for_each(&outer, base, &mut |y| {
            let differs = self.changed.iter().any(|(a, b)| {
                a.and_then(|e| e.contribution(y)) != b.and_then(|e| e.contribution(y))
            });
            if !differs {
                return;
            }
            for_each(&inner, *y, &mut |x| {
                let mut shared = Acc::default();
                for e in &self.unchanged {
                    shared.add_entry(e, x);
                }
                let (mut a, mut b) = (shared, shared);
                for (old, new) in &self.changed {
                    if let Some(e) = old {
                        a.add_entry(e, x);
                    }
                    if let Some(e) = new {
                        b.add_entry(e, x);
                    }
                }
                let (a, b) = (a.finish(), b.finish());
                if a != b {
                    let key = self.key(x, &shown, Side::Out(a), Side::Out(b));
                    let g = groups.entry(key).or_insert((0, *x));
                    g.0 += weight;
                }
            });
        });
        Ok(())
    }

    /// The inputs only one vocabulary has: each answered by that set
    fn vocabulary(&self, groups: &mut Groups, budget: &mut u64) -> Result<(), AnalysisError> {
        let vocab: Vec<usize> = self
            .shape
            .dims
            .iter()
            .enumerate()
            .filter(|(_, d)| matches!(d, Dim::Role | Dim::Tasks | Dim::Category | Dim::Module))
            .map(|(p, _)| p)
            .collect();
        let full =
            |p: usize| -> Vec<u32> { (0..self.shape.sizes.get(p).copied().unwrap_or(0)).collect() };
        let differing: Vec<usize> = vocab
            .iter()
            .copied()
            .filter(|&p| self.common_domain(p).len() != full(p).len())
            .collect();
        if differing.is_empty() || self.shape.is_empty() {
            return Ok(());
        }
        let read = Self::reads(self.old_entries.iter().chain(self.new_entries));
        let shown: BTreeSet<usize> = read
            .union(&differing.iter().copied().collect())
            .copied()
            .collect();
        let weight: u64 = (0..self.shape.dims.len())
            .filter(|p| !shown.contains(p))
            .map(|p| full(p).len() as u64)
            .product();
        // Disjoint boxes covering every point outside the common vocabulary:
        // the i-th differing dimension outside it, earlier ones inside
        for (i, &outside) in differing.iter().enumerate() {
            let axes: Vec<Axis> = shown
                .iter()
                .map(|&p| {
                    let domain = if p == outside {
                        let common = self.common_domain(p);
                        full(p)
                            .into_iter()
                            .filter(|v| !common.contains(v))
                            .collect()
                    } else if differing.iter().take(i).any(|&q| q == p) {
                        self.common_domain(p)
                    } else {
                        full(p)
                    };
                    (p, domain)
                })
                .collect();
            spend(budget, self.shape, &axes, &[])?;
            let mut base: Coords = [0; MAX_DIMS];
            for (p, cell) in base.iter_mut().enumerate().take(self.shape.dims.len()) {
                *cell = self.common_domain(p).first().copied().unwrap_or(0);
            }
            for_each(&axes, base, &mut |x| {
                let inside = |m: &Membership| {
                    vocab.iter().all(|&p| {
                        self.shape
                            .dims
                            .get(p)
                            .is_some_and(|d| m.has(*d, x.get(p).copied().unwrap_or(0)))
                    })
                };
                let answer = |entries: &[Entry]| {
                    let mut acc = Acc::default();
                    for e in entries {
                        acc.add_entry(e, x);
                    }
                    Side::Out(acc.finish())
                };
                let (old, new) = match (inside(self.old_member), inside(self.new_member)) {
                    (true, false) => (answer(self.old_entries), Side::Missing),
                    (false, true) => (Side::Missing, answer(self.new_entries)),
                    // Both (not in these boxes) or neither: nothing to compare
                    _ => return,
                };
                let key = self.key(x, &shown, old, new);
                let g = groups.entry(key).or_insert((0, *x));
                g.0 += weight;
            });
        }
        Ok(())
    }
}

/// Charges an enumeration of `outer × inner` points to the budget
fn spend(
    budget: &mut u64,
    shape: &Shape,
    outer: &[Axis],
    inner: &[Axis],
) -> Result<(), TooLargeError> {
    let points: u128 = outer
        .iter()
        .chain(inner)
        .map(|(_, d)| d.len() as u128)
        .product();
    match u64::try_from(points)
        .ok()
        .and_then(|p| budget.checked_sub(p))
    {
        Some(left) => {
            *budget = left;
            Ok(())
        }
        None => Err(TooLargeError::new(
            shape.action,
            format!("the comparison for principal `{}`", shape.principal),
            points,
            MAX_ENUMERATED,
        )),
    }
}

/// Calls `visit` at every point of the axes' product, other coordinates as in `base`
fn for_each(axes: &[Axis], base: Coords, visit: &mut dyn FnMut(&Coords)) {
    if axes.iter().any(|(_, domain)| domain.is_empty()) {
        return;
    }
    let mut index = [0usize; MAX_DIMS];
    let mut point = base;
    for (pos, domain) in axes {
        if let (Some(cell), Some(first)) = (point.get_mut(*pos), domain.first()) {
            *cell = *first;
        }
    }
    loop {
        visit(&point);
        let mut level = axes.len();
        loop {
            if level == 0 {
                return;
            }
            level -= 1;
            let (Some((pos, domain)), Some(at)) = (axes.get(level), index.get_mut(level)) else {
                return;
            };
            *at += 1;
            match (domain.get(*at), point.get_mut(*pos)) {
                (Some(value), Some(cell)) => {
                    *cell = *value;
                    break;
                }
                (None, Some(cell)) => {
                    *at = 0;
                    *cell = domain.first().copied().unwrap_or(0);
                }
                _ => return,
            }
        }
    }
}

/// Merges groups that differ only in one grouping dimension and cover all
/// its values into one with that dimension `*`, dimension by dimension
fn merge(mut groups: Groups, o: &TruthTables, n: &TruthTables) -> Vec<(Key, (u64, Coords))> {
    for dim in GROUPED {
        let mut by_rest: BTreeMap<Key, Vec<(u32, u64, Coords)>> = BTreeMap::new();
        let mut kept = Groups::new();
        for (key, (count, example)) in groups {
            let mut rest = key;
            match rest.field(dim) {
                Some(field) if matches!(field, Field::One(_)) => {
                    let value = match *field {
                        Field::One(v) => v,
                        Field::Absent | Field::Every => 0,
                    };
                    *field = Field::Every;
                    by_rest
                        .entry(rest)
                        .or_default()
                        .push((value, count, example));
                }
                _ => {
                    kept.insert(key, (count, example));
                }
            }
        }
        for (rest, mut members) in by_rest {
            members.sort_by_key(|m| m.0);
            let domain = domain_of(&rest, dim, o, n);
            let values: Vec<u32> = members.iter().map(|m| m.0).collect();
            if !domain.is_empty() && values == domain {
                let count = members.iter().map(|m| m.1).sum();
                let example = members.first().map_or([0; MAX_DIMS], |m| m.2);
                kept.insert(rest, (count, example));
            } else {
                for (v, count, example) in members {
                    let mut key = rest;
                    if let Some(field) = key.field(dim) {
                        *field = Field::One(v);
                    }
                    kept.insert(key, (count, example));
                }
            }
        }
        groups = kept;
    }
    let mut out: Vec<(Key, (u64, Coords))> = groups.into_iter().collect();
    out.sort_by_key(|g| g.0);
    out
}

/// The values a merged `*` stands for: those of the vocabulary both sets
/// share, or of the set whose answer the group gives
fn domain_of(key: &Key, dim: Dim, o: &TruthTables, n: &TruthTables) -> Vec<u32> {
    let Some(shape) = o.space.shapes.get(key.shape) else {
        return Vec::new();
    };
    let Some(size) = shape.position(dim).and_then(|p| shape.sizes.get(p)) else {
        return Vec::new();
    };
    (0..*size)
        .filter(|v| match (key.old, key.new) {
            (Side::Out(_), Side::Out(_)) => o.member.has(dim, *v) && n.member.has(dim, *v),
            (Side::Missing, _) => n.member.has(dim, *v),
            (_, Side::Missing) => o.member.has(dim, *v),
        })
        .collect()
}

/// A grouping value as the report shows it: a coordinate made a value
fn shown<T: Clone>(f: Field<u32>, values: &[T]) -> Field<T> {
    match f {
        Field::Absent => Field::Absent,
        Field::Every => Field::Every,
        Field::One(v) => usize::try_from(v)
            .ok()
            .and_then(|i| values.get(i))
            .map_or(Field::Absent, |x| Field::One(x.clone())),
    }
}

/// A group as the report shows it
fn public(space: &Space, k: &Key, count: u64, example: &Coords) -> DiffGroup {
    let u = &space.universe;
    let shape = space.shapes.get(k.shape);
    let answer = |s: Side| match s {
        Side::Out(c) => Answer::of(c),
        Side::Missing => Answer::NotInVocabulary,
    };
    DiffGroup {
        action: shape.map_or(ActionKind::View, |s| s.action),
        principal: shape.map_or(PrincipalKind::Practitioner, |s| s.principal),
        source: shape.and_then(|s| s.source),
        holder: shape.is_some_and(|s| s.holder),
        role: shown(k.role, &u.roles),
        category: shown(k.category, &u.categories),
        module: shown(k.module, &u.modules),
        purpose: shown(k.purpose, Purpose::ALL),
        old: answer(k.old),
        new: answer(k.new),
        count,
        example: space.input(k.shape, example),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::space::Odometer;

    const SCHEMA: &str = include_str!("../../policies/zorg.cedarschema");

    /// The shipped schema with a smaller vocabulary, so a brute-force
    /// comparison over the whole space runs in a moment
    fn small_schema(extra_role: bool, extra_category: bool) -> String {
        let roles = if extra_role {
            r#"entity Role enum ["huisarts", "kraamverzorgende", "fysiotherapeut"];"#
        } else {
            r#"entity Role enum ["huisarts", "kraamverzorgende"];"#
        };
        let categories = if extra_category {
            r#"entity Category enum ["basis", "echo", "wondzorg"];"#
        } else {
            r#"entity Category enum ["basis", "echo"];"#
        };
        let mut out = String::new();
        let mut skip = false;
        for line in SCHEMA.lines() {
            if line.starts_with("entity Role enum") {
                out.push_str(roles);
                out.push('\n');
                skip = !line.ends_with("];");
                continue;
            }
            if line.starts_with("entity Category enum") {
                out.push_str(categories);
                out.push('\n');
                skip = !line.ends_with("];");
                continue;
            }
            if skip {
                skip = !line.ends_with("];");
                continue;
            }
            let line = line.replace(r#""CVRM", "DM", "COPD""#, r#""DM""#);
            if line.starts_with("entity Task enum") {
                out.push_str(r#"entity Task enum ["client_management"];"#);
            } else {
                out.push_str(&line);
            }
            out.push('\n');
        }
        out
    }

    /// A small set: mfa, own and shared dossier, relationship, a matrix, an
    /// administrative permit naming an organisation
    const BASE: &[&str] = &[
        r#"@id("forbid-without-mfa") @reason("mfa_required")
        forbid (principal, action, resource) when { !(principal is Organisation) && !context.mfa };"#,
        r#"@id("permit-view-own")
        permit (principal is Practitioner, action in [Action::"view", Action::"view_record"], resource)
        when { context has holder && principal.organisation == context.holder };"#,
        r#"@id("permit-view-shared")
        permit (principal is Practitioner, action == Action::"view", resource)
        when { context has holder && principal.organisation != context.holder && context.purpose == Purpose::"treatment" };"#,
        r#"@id("forbid-shared-without-consent") @reason("no_dossier_consent")
        forbid (principal is Practitioner, action == Action::"view", resource)
        when { context has holder && principal.organisation != context.holder && !context.dossier_consent };"#,
        r#"@id("forbid-without-relationship") @reason("no_treatment_relationship")
        forbid (principal is Practitioner, action in [Action::"view", Action::"view_record"], resource)
        when { !context.relationship };"#,
        r#"@id("forbid-matrix") @reason("role_not_permitted")
        forbid (principal is Practitioner, action in [Action::"view", Action::"view_record"], resource)
        unless { principal.role == Role::"huisarts" || context.category == Category::"basis" };"#,
        r#"@id("permit-admin")
        permit (principal is Practitioner, action == Action::"view_consents", resource)
        when { principal.tasks.contains(Task::"client_management") && context.holder == Organisation::"vp-noord" };"#,
    ];

    fn text(policies: &[&str]) -> String {
        policies.join("\n")
    }

    /// The base set with `f` applied to its text
    fn edited(schema: &str, f: impl Fn(String) -> String) -> Policies {
        load(schema, &f(text(BASE)))
    }

    /// A small schema's set, with a consent vocabulary that maps exactly
    /// the schema's categories (on one line in [`small_schema`])
    fn load(schema: &str, text: &str) -> Policies {
        let categories: Vec<&str> = schema
            .lines()
            .find_map(|l| l.strip_prefix("entity Category enum ["))
            .map(|l| {
                l.trim_end_matches("];")
                    .split(", ")
                    .map(|c| c.trim_matches('"'))
                    .collect()
            })
            .unwrap();
        let consent = crate::policy::consent_for(&categories);
        Policies::from_sources_unguarded(
            schema,
            [("t.cedar", text), (crate::CONSENT_FILE, consent.as_str())],
        )
        .unwrap()
    }

    /// The diff by brute force: every point of the union space, both
    /// answers from the tables; (old, new) -> count
    fn brute(old: &Policies, new: &Policies) -> BTreeMap<(Answer, Answer), u64> {
        brute_where(old, new, |_| true)
    }

    /// [`brute`] over the shapes `keep` keeps
    fn brute_where(
        old: &Policies,
        new: &Policies,
        keep: impl Fn(&Shape) -> bool,
    ) -> BTreeMap<(Answer, Answer), u64> {
        let space = Space::union(old, new).unwrap();
        let o = TruthTables::over(old, space.clone()).unwrap();
        let n = TruthTables::over(new, space).unwrap();
        let mut out = BTreeMap::new();
        for (i, shape) in o.space.shapes.iter().enumerate() {
            if !keep(shape) {
                continue;
            }
            for c in Odometer::new(&shape.sizes) {
                let a = o.in_vocabulary(i, &c).then(|| Answer::of(o.compact(i, &c)));
                let b = n.in_vocabulary(i, &c).then(|| Answer::of(n.compact(i, &c)));
                let pair = match (a, b) {
                    (Some(a), Some(b)) if a != b => (a, b),
                    (Some(a), None) => (a, Answer::NotInVocabulary),
                    (None, Some(b)) => (Answer::NotInVocabulary, b),
                    _ => continue,
                };
                *out.entry(pair).or_insert(0) += 1;
            }
        }
        out
    }

    fn by_answers(report: &DiffReport) -> BTreeMap<(Answer, Answer), u64> {
        let mut out = BTreeMap::new();
        for g in &report.groups {
            *out.entry((g.old.clone(), g.new.clone())).or_insert(0) += g.count;
        }
        out
    }

    #[test]
    fn diff_equals_brute_force_for_every_kind_of_change() {
        let schema = small_schema(false, false);
        let wider = small_schema(true, true);
        let base = load(&schema, &text(BASE));
        let without = |id: &str| {
            let kept: Vec<&str> = BASE.iter().copied().filter(|p| !p.contains(id)).collect();
            load(&schema, &text(&kept))
        };
        let edits: Vec<(&str, Policies)> = vec![
            ("the same", load(&schema, &text(BASE))),
            (
                "a removed forbid",
                without("\"forbid-without-relationship\""),
            ),
            ("a removed permit", without("\"permit-view-shared\"")),
            (
                "a wider matrix",
                edited(&schema, |t| {
                    t.replace(
                        "context.category == Category::\"basis\"",
                        "context.category in [Category::\"basis\", Category::\"echo\"]",
                    )
                }),
            ),
            (
                "another reason",
                edited(&schema, |t| {
                    t.replace(
                        "@reason(\"no_dossier_consent\")",
                        "@reason(\"access_not_requested\")",
                    )
                }),
            ),
            (
                "a renamed policy",
                edited(&schema, |t| {
                    t.replace("permit-view-shared", "permit-view-shared-2")
                }),
            ),
            (
                "a literal",
                edited(&schema, |t| {
                    t.replace("Organisation::\"vp-noord\"", "Organisation::\"kz-oost\"")
                }),
            ),
            ("a new role and category", load(&wider, &text(BASE))),
        ];
        for (what, new) in &edits {
            let report = diff(&base, new).unwrap();
            assert_eq!(by_answers(&report), brute(&base, new), "{what}");
            let back = diff(new, &base).unwrap();
            assert_eq!(by_answers(&back), brute(new, &base), "{what}, backwards");
            assert_eq!(report.differing, back.differing, "{what}");
            if *what == "the same" || *what == "a renamed policy" {
                assert!(report.is_empty(), "{what}: {:?}", report.groups);
            } else {
                assert!(!report.is_empty(), "{what}");
            }
        }
    }

    /// The shipped files, and the same with one more file
    fn shipped_plus(extra: &str) -> (Policies, Policies) {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
        let old = Policies::from_dir(dir).unwrap();
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.push(("zz-extra.cedar".to_owned(), extra.to_owned()));
        let new = Policies::from_sources_unguarded(
            SCHEMA,
            files.iter().map(|(n, t)| (n.as_str(), t.as_str())),
        )
        .unwrap();
        (old, new)
    }

    #[test]
    fn diff_equals_brute_force_over_the_shipped_view_shapes() {
        let extras = [
            // One more (role, category) pair denied
            r#"@id("forbid-kraam-basis") @reason("role_not_permitted")
            forbid (principal is Practitioner, action == Action::"view", resource)
            when { principal.role == Role::"kraamverzorgende" && context.category == Category::"basis" };"#,
            // A permit that errors (an overflow) where it applies
            r#"@id("permit-overflow")
            permit (principal, action == Action::"view", resource)
            when { context.mfa && context.category == Category::"echo" && 9223372036854775807 + 1 > 0 };"#,
        ];
        for extra in extras {
            let (old, new) = shipped_plus(extra);
            let report = diff(&old, &new).unwrap();
            assert_eq!(report.changed.len(), 1);
            let mut found = BTreeMap::new();
            for g in &report.groups {
                assert_eq!(g.action, ActionKind::View, "{g:?}");
                *found.entry((g.old.clone(), g.new.clone())).or_insert(0) += g.count;
            }
            let expected = brute_where(&old, &new, |s| s.action == ActionKind::View);
            assert_eq!(found, expected, "{extra}");
            assert!(!found.is_empty());
        }
    }

    #[test]
    fn a_new_role_and_category_are_their_own_groups() {
        let base = load(&small_schema(false, false), &text(BASE));
        let wider = load(&small_schema(true, true), &text(BASE));
        let report = diff(&base, &wider).unwrap();
        assert!(report.changed.is_empty());
        for g in &report.groups {
            assert_eq!(g.old, Answer::NotInVocabulary, "{g:?}");
            let new_role = g.role == Field::One(Role::new("fysiotherapeut").unwrap());
            let new_category = g.category == Field::One(Category::new("wondzorg").unwrap());
            assert!(new_role || new_category, "{g:?}");
            // huisarts sees every category, so it gains the new one; every
            // role sees `basis`, the new role too; no other view is allowed
            if g.new == Answer::Allow
                && matches!(g.action, ActionKind::View | ActionKind::ViewRecord)
            {
                let huisarts = g.role == Field::One(Role::new("huisarts").unwrap());
                let basis = g.category == Field::One(Category::new("basis").unwrap());
                assert!(huisarts || basis, "{g:?}");
            }
        }
        assert!(report.groups.iter().any(|g| g.new == Answer::Allow));
    }

    #[test]
    fn groups_merge_only_over_every_value() {
        let schema = small_schema(false, false);
        let base = load(&schema, &text(BASE));
        let no_mfa = edited(&schema, |t| t.replace("!context.mfa", "false"));
        let report = diff(&base, &no_mfa).unwrap();
        // The mfa forbid reads nothing the grouping shows, but the matrix
        // reads role and category; every view group covers both roles, so
        // role merges to `*` where the answers agree
        assert!(report.groups.iter().any(|g| g.role == Field::Every));
        assert!(
            report.groups.iter().all(|g| !g.example.mfa),
            "only inputs without mfa differ"
        );
        let total: u64 = report.groups.iter().map(|g| g.count).sum();
        assert_eq!(total, report.differing);
    }
}
