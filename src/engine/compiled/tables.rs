//! Per-policy truth tables over the abstract space, and the combine step
//! that turns a point's policy values into the engine's decision.

use serde::Serialize;

use super::error::{AnalysisError, TooLargeError, UnfitError};
use super::reads::Reads;
use super::space::{AbstractInput, Coords, Dim, Dimension, Odometer, Space, Synth, Universe};
use crate::engine::cedar::{self, Satisfaction};
use crate::model::request::{Decision, Outcome, Response};
use crate::model::vocab::Reason;
use crate::policy::Policies;

/// The most points one policy's truth table may have (each is one Cedar
/// evaluation when the table is built)
pub const MAX_TABLE: u64 = 1 << 20;

/// A policy's value at a point, as Cedar evaluates it alone
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyValue {
    /// Scope and conditions hold: a permit grants, a forbid fires
    Satisfied,
    /// They do not
    NotSatisfied,
    /// Evaluating it failed: the engine denies with `evaluation_error`
    Error,
}

/// A table cell: a policy value, or `OUTSIDE` for a point outside the
/// policy set's vocabulary (a role, task, category or module it lacks)
pub(crate) const NO: u8 = 0;
pub(crate) const SAT: u8 = 1;
pub(crate) const ERR: u8 = 2;
pub(crate) const OUTSIDE: u8 = 3;

/// The decision and the reason codes of an outcome, as a bit set (one bit
/// per [`Reason`], in its order)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Compact {
    pub(crate) allow: bool,
    pub(crate) reasons: u32,
}

impl Compact {
    /// The reasons, in the order of SPEC.md
    pub(crate) fn reasons(self) -> Vec<Reason> {
        Reason::ALL
            .iter()
            .copied()
            .filter(|r| self.reasons & bit(*r) != 0)
            .collect()
    }
}

/// A reason's bit
pub(crate) const fn bit(r: Reason) -> u32 {
    1 << (r as u32)
}

/// The engine's answer for an abstract input: as a [`Response`], without
/// the registry's sequence number
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Allow or deny
    pub decision: Decision,
    /// On deny, every reason, in the order of SPEC.md §4
    pub reasons: Vec<Reason>,
    /// The determining policies, sorted
    pub policies: Vec<String>,
}

impl Verdict {
    /// Whether the decision is allow
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    pub(crate) fn of(outcome: Outcome) -> Self {
        Self {
            decision: outcome.decision,
            reasons: outcome.reasons,
            policies: outcome.policies,
        }
    }
}

impl From<&Response> for Verdict {
    fn from(r: &Response) -> Self {
        Self {
            decision: r.decision,
            reasons: r.reasons.clone(),
            policies: r.policies.clone(),
        }
    }
}

/// The exact answer of the engine for an abstract input, by Cedar: ids are
/// synthesised for its pattern, the engine input is built and evaluated as
/// `Engine::decide` evaluates it (the action's policies through Cedar). A
/// role, task, category or module outside the set's vocabulary is a deny
/// with `unknown_entity`, as the engine answers.
///
/// ```
/// use zorg_pdp::Policies;
/// use zorg_pdp::analysis::{Space, evaluate};
/// let policies = Policies::shipped()?;
/// let space = Space::of(&policies)?;
/// let first = space.inputs(0).next().unwrap();
/// // The first input of the first shape: no two-factor sign-in
/// assert!(!first.mfa);
/// assert_eq!(evaluate(&policies, &first).reasons[0].as_str(), "mfa_required");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evaluate(policies: &Policies, input: &AbstractInput) -> Verdict {
    let v = policies.vocabulary();
    let known = input.role.as_ref().is_none_or(|r| v.has_role(r))
        && input.tasks.iter().all(|t| v.has_task(t))
        && input.category.as_ref().is_none_or(|c| v.has_category(c))
        && input.module.as_ref().is_none_or(|m| v.has_module(m));
    let synth = Synth::new(input, &Universe::of(policies));
    match synth {
        Some(s) if known => Verdict::of(cedar::evaluate(
            policies,
            policies.bucket(input.action),
            &s.input(),
        )),
        _ => Verdict::of(Outcome::deny(Reason::UnknownEntity)),
    }
}

/// One policy's truth table on one shape
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The policy's index in [`TruthTables::policies`]
    pub(crate) policy: usize,
    pub(crate) permit: bool,
    /// A forbid's reason bit (zero for permits)
    pub(crate) reason: u32,
    /// The positions of the dimensions it reads, with their strides
    pub(crate) reads: Vec<(usize, usize)>,
    pub(crate) values: Vec<u8>,
}

impl Entry {
    /// The cell of the point `c`
    #[inline]
    pub(crate) fn at(&self, c: &Coords) -> u8 {
        let mut i = 0;
        for &(pos, stride) in &self.reads {
            i += c.get(pos).map_or(0, |&v| v as usize) * stride;
        }
        self.values.get(i).copied().unwrap_or(OUTSIDE)
    }

    /// What the cell contributes to an outcome: nothing when not satisfied
    #[inline]
    pub(crate) fn contribution(&self, c: &Coords) -> Option<(u8, bool, u32)> {
        match self.at(c) {
            NO => None,
            v => Some((v, self.permit, self.reason)),
        }
    }
}

/// Membership of the universe's values in one set's vocabulary
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    pub(crate) roles: Vec<bool>,
    pub(crate) tasks: u32,
    pub(crate) categories: Vec<bool>,
    pub(crate) modules: Vec<bool>,
}

impl Membership {
    fn new(policies: &Policies, u: &Universe) -> Self {
        let v = policies.vocabulary();
        let mut tasks = 0;
        for (i, t) in u.tasks.iter().enumerate() {
            if v.has_task(t) {
                tasks |= 1 << i;
            }
        }
        Self {
            roles: u.roles.iter().map(|r| v.has_role(r)).collect(),
            tasks,
            categories: u.categories.iter().map(|c| v.has_category(c)).collect(),
            modules: u.modules.iter().map(|m| v.has_module(m)).collect(),
        }
    }

    /// Whether value `v` of dimension `dim` is in the vocabulary
    pub(crate) fn has(&self, dim: Dim, v: u32) -> bool {
        let at = |list: &[bool]| {
            usize::try_from(v)
                .ok()
                .and_then(|i| list.get(i).copied())
                .unwrap_or(false)
        };
        match dim {
            Dim::Role => at(&self.roles),
            Dim::Tasks => v & !self.tasks == 0,
            Dim::Category => at(&self.categories),
            Dim::Module => at(&self.modules),
            _ => true,
        }
    }
}

/// A policy of the set, as the tables know it
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) id: String,
    pub(crate) permit: bool,
    pub(crate) reason: Option<Reason>,
    /// The JSON form, to tell whether two sets' policies of one id differ
    pub(crate) json: Option<serde_json::Value>,
    pub(crate) reads: Reads,
}

/// Every policy's truth table on every shape of a space: what the policy
/// set decides, compiled. Deciding an abstract input from the tables needs
/// no Cedar: each of the action's policies gives its value by one table
/// lookup, and the values combine as the engine combines Cedar's answer.
#[derive(Debug, Clone)]
pub struct TruthTables {
    pub(crate) space: Space,
    pub(crate) policies: Vec<Meta>,
    /// Per shape, the tables of the action's policies
    pub(crate) shapes: Vec<Vec<Entry>>,
    pub(crate) member: Membership,
    content_hash: String,
}

impl TruthTables {
    /// The truth tables of `policies` over its own space ([`Space::of`])
    ///
    /// # Errors
    ///
    /// [`AnalysisError::TooLarge`] when a policy reads more than
    /// [`MAX_TABLE`] points of a shape, [`AnalysisError::Unfit`] when the
    /// schema refuses an input the engine sends.
    ///
    /// ```
    /// use zorg_pdp::Policies;
    /// use zorg_pdp::analysis::{TruthTables, evaluate};
    /// let policies = Policies::shipped()?;
    /// let tables = TruthTables::build(&policies)?;
    /// for input in tables.space().inputs(0).take(200) {
    ///     assert_eq!(tables.decide(&input), Some(evaluate(&policies, &input)));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(policies: &Policies) -> Result<Self, AnalysisError> {
        Self::over(policies, Space::of(policies)?)
    }

    /// The truth tables of `policies` over `space` (whose universe may be
    /// wider than the set's vocabulary: cells outside it are `OUTSIDE`)
    pub(crate) fn over(policies: &Policies, space: Space) -> Result<Self, AnalysisError> {
        let metas: Vec<Meta> = policies
            .ids()
            .iter()
            .map(|id| {
                let json = policies.policy_json(id);
                Meta {
                    id: id.clone(),
                    permit: policies.is_permit(id),
                    reason: policies.reason_of(id),
                    reads: json.as_ref().map_or_else(Reads::everything, Reads::of),
                    json,
                }
            })
            .collect();
        let member = Membership::new(policies, &space.universe);
        let mut shapes = Vec::with_capacity(space.shapes.len());
        for (index, shape) in space.shapes.iter().enumerate() {
            let mut entries = Vec::new();
            for id in policies.bucket_ids(shape.action) {
                let Some((p, meta)) = metas.iter().enumerate().find(|(_, m)| m.id == id) else {
                    continue;
                };
                entries.push(entry(policies, &space, &member, index, p, meta)?);
            }
            shapes.push(entries);
        }
        Ok(Self {
            space,
            policies: metas,
            shapes,
            member,
            content_hash: policies.content_hash().to_owned(),
        })
    }

    /// The tables without the policies' JSON forms, which only a comparison
    /// of two sets reads (`analysis::diff`): the engine keeps its
    /// compilations for the life of the process (shared by content hash),
    /// and these are the one part it never reads
    pub(crate) fn without_forms(mut self) -> Self {
        for meta in &mut self.policies {
            meta.json = None;
        }
        self
    }

    /// The space the tables cover
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The content hash of the policy set
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// How many cells all tables have together (each was one Cedar evaluation)
    pub fn cells(&self) -> usize {
        self.shapes.iter().flatten().map(|e| e.values.len()).sum()
    }

    /// The tables of the action's policies on shape `shape` (an index into
    /// [`Space::shapes`])
    pub fn tables(&self, shape: usize) -> impl Iterator<Item = PolicyTable<'_>> + '_ {
        self.shapes
            .get(shape)
            .into_iter()
            .flatten()
            .map(move |entry| PolicyTable {
                tables: self,
                shape,
                entry,
            })
    }

    /// The engine's answer for `input` from the tables alone, `None` when
    /// the input is not in the space or not in the set's vocabulary
    pub fn decide(&self, input: &AbstractInput) -> Option<Verdict> {
        let (shape, c) = self.space.locate(input)?;
        self.in_vocabulary(shape, &c)
            .then(|| self.verdict(shape, &c))
    }

    /// Whether every vocabulary value of the point is the set's
    pub(crate) fn in_vocabulary(&self, shape: usize, c: &Coords) -> bool {
        let Some(s) = self.space.shapes.get(shape) else {
            return false;
        };
        s.dims
            .iter()
            .enumerate()
            .all(|(pos, dim)| c.get(pos).is_some_and(|v| self.member.has(*dim, *v)))
    }

    /// The decision and reasons at a point, by the combine step, without
    /// the determining policies
    #[cfg(test)]
    pub(crate) fn compact(&self, shape: usize, c: &Coords) -> Compact {
        let mut acc = Acc::default();
        for e in self.shapes.get(shape).into_iter().flatten() {
            acc.add_entry(e, c);
        }
        acc.finish()
    }

    /// The full answer at a point: decision, reasons and determining policies
    pub(crate) fn verdict(&self, shape: usize, c: &Coords) -> Verdict {
        let point = self.point(shape, c);
        Verdict::of(point.outcome(|i| self.policies.get(i).map(|m| m.id.as_str())))
    }

    /// The answer at a point as the request path keeps it: the decision and
    /// reason bits, and the determining policies as indices into
    /// [`Policies::ids`] (sorted, so their ids are sorted too). One pass over
    /// the action's tables, one lookup each; no Cedar.
    pub(crate) fn point(&self, shape: usize, c: &Coords) -> Point {
        let entries = self.shapes.get(shape).map_or(&[][..], Vec::as_slice);
        let mut acc = Acc::default();
        // The satisfied and erroring policies: (index, permit, value)
        let mut hits: smallvec::SmallVec<[(u16, bool, u8); 8]> = smallvec::SmallVec::new();
        for e in entries {
            let v = e.at(c);
            if v == NO {
                continue;
            }
            acc.add(v, e.permit, e.reason);
            hits.push((u16::try_from(e.policy).unwrap_or(u16::MAX), e.permit, v));
        }
        let compact = acc.finish();
        let cedar_allow = acc.cedar_allow();
        // Cedar's determining policies: the satisfied forbids, or (none
        // firing) the satisfied permits; on a deny the engine keeps them
        // unless Cedar allowed, and adds the erroring ones.
        let mut policies: smallvec::SmallVec<[u16; 8]> = hits
            .iter()
            .filter(|(_, permit, v)| {
                let determining = *v == SAT && *permit == cedar_allow;
                if compact.allow {
                    determining
                } else {
                    (determining && !cedar_allow) || *v == ERR
                }
            })
            .map(|(p, _, _)| *p)
            .collect();
        policies.sort_unstable();
        policies.dedup();
        Point { compact, policies }
    }
}

/// The engine's answer at one point of the space, compactly (see
/// [`TruthTables::point`])
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) compact: Compact,
    /// The determining policies, as sorted indices into [`Policies::ids`]
    pub(crate) policies: smallvec::SmallVec<[u16; 8]>,
}

impl Point {
    /// The answer in full, `id` naming the policy of an index
    pub(crate) fn outcome<'a>(&self, id: impl Fn(usize) -> Option<&'a str>) -> Outcome {
        Outcome {
            decision: if self.compact.allow {
                Decision::Allow
            } else {
                Decision::Deny
            },
            reasons: self.compact.reasons(),
            policies: self
                .policies
                .iter()
                .filter_map(|i| id(usize::from(*i)).map(str::to_owned))
                .collect(),
        }
    }
}

/// The combine step: the engine's decision and reasons from the values of
/// an action's policies at one point (`engine::cedar::evaluate` applied to
/// Cedar's rule). Cedar allows when some permit is satisfied and no forbid
/// is, skipping policies that error; its determining policies are the
/// satisfied forbids, or else the satisfied permits. The engine allows only
/// when Cedar allows and nothing errored; otherwise it denies with the
/// reasons of the satisfied forbids (none when Cedar allowed), plus
/// `evaluation_error` when something errored, or `not_permitted` when that
/// leaves no reason. `Acc` adds up the satisfied and erroring policies
/// seen so far; `finish` gives the engine's answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Acc {
    permit: bool,
    forbid: bool,
    error: bool,
    reasons: u32,
}

impl Acc {
    /// Adds one satisfied or erroring policy
    #[inline]
    pub(crate) fn add(&mut self, value: u8, permit: bool, reason: u32) {
        match (value, permit) {
            (SAT, true) => self.permit = true,
            (SAT, false) => {
                self.forbid = true;
                self.reasons |= reason;
            }
            (ERR, _) => self.error = true,
            // NO adds nothing; OUTSIDE never reaches here (points outside
            // the vocabulary are not combined)
            _ => {}
        }
    }

    /// Adds the cell of `entry` at `c`
    #[inline]
    pub(crate) fn add_entry(&mut self, entry: &Entry, c: &Coords) {
        let v = entry.at(c);
        if v != NO {
            self.add(v, entry.permit, entry.reason);
        }
    }

    /// Whether Cedar itself allows: some permit satisfied, no forbid
    pub(crate) fn cedar_allow(self) -> bool {
        self.permit && !self.forbid
    }

    /// The engine's decision and reasons
    pub(crate) fn finish(self) -> Compact {
        let cedar_allow = self.cedar_allow();
        if cedar_allow && !self.error {
            return Compact {
                allow: true,
                reasons: 0,
            };
        }
        let mut r = if cedar_allow { 0 } else { self.reasons };
        if self.error {
            r |= bit(Reason::EvaluationError);
        }
        if r == 0 {
            r = bit(Reason::NotPermitted);
        }
        Compact {
            allow: false,
            reasons: r,
        }
    }
}

/// Builds the truth table of policy `p` on shape `index`
fn entry(
    policies: &Policies,
    space: &Space,
    member: &Membership,
    index: usize,
    p: usize,
    meta: &Meta,
) -> Result<Entry, AnalysisError> {
    let Some(shape) = space.shapes.get(index) else {
        return Ok(Entry {
            policy: p,
            permit: meta.permit,
            reason: 0,
            reads: Vec::new(),
            values: Vec::new(),
        });
    };
    let read: Vec<usize> = shape
        .dims
        .iter()
        .enumerate()
        .filter(|(_, d)| meta.reads.contains(**d))
        .map(|(i, _)| i)
        .collect();
    let sizes: Vec<u32> = read
        .iter()
        .map(|&i| shape.sizes.get(i).copied().unwrap_or(0))
        .collect();
    let total: u128 = sizes.iter().map(|s| u128::from(*s)).product();
    if total > u128::from(MAX_TABLE) {
        return Err(TooLargeError::new(
            shape.action,
            format!(
                "the truth table of policy `{}` for principal `{}`",
                meta.id, shape.principal
            ),
            total,
            MAX_TABLE,
        )
        .into());
    }
    // Strides: the last read dimension varies fastest, as the odometer counts
    let mut reads = Vec::with_capacity(read.len());
    let mut stride = 1usize;
    for (&pos, &size) in read.iter().zip(&sizes).rev() {
        reads.push((pos, stride));
        stride *= size as usize;
    }
    reads.reverse();
    // Every other dimension at a value in the set's vocabulary
    let mut base: Coords = [0; super::space::MAX_DIMS];
    let mut evaluable = true;
    for (pos, dim) in shape.dims.iter().enumerate() {
        let size = shape.sizes.get(pos).copied().unwrap_or(0);
        match (0..size).find(|v| member.has(*dim, *v)) {
            Some(v) => {
                if let Some(cell) = base.get_mut(pos) {
                    *cell = v;
                }
            }
            None => evaluable = false,
        }
    }
    let mut values = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for point in Odometer::new(&sizes) {
        let mut c = base;
        let mut inside = evaluable;
        for (k, &pos) in read.iter().enumerate() {
            let v = point.get(k).copied().unwrap_or(0);
            if let Some(cell) = c.get_mut(pos) {
                *cell = v;
            }
            inside &= shape.dims.get(pos).is_some_and(|d| member.has(*d, v));
        }
        if !inside {
            values.push(OUTSIDE);
            continue;
        }
        let unfit = || UnfitError::new(shape.action, shape.principal, &meta.id);
        let input = space.input(index, &c);
        let synth = Synth::new(&input, &space.universe).ok_or_else(unfit)?;
        let value = cedar::policy_value(policies, &meta.id, &synth.input()).map_err(|_| unfit())?;
        values.push(match value {
            Satisfaction::Satisfied => SAT,
            Satisfaction::NotSatisfied => NO,
            Satisfaction::Error => ERR,
        });
    }
    Ok(Entry {
        policy: p,
        permit: meta.permit,
        reason: if meta.permit {
            0
        } else {
            meta.reason.map_or(0, bit)
        },
        reads,
        values,
    })
}

/// One policy's truth table on one shape
#[derive(Debug, Clone, Copy)]
pub struct PolicyTable<'t> {
    tables: &'t TruthTables,
    shape: usize,
    entry: &'t Entry,
}

impl PolicyTable<'_> {
    /// The policy's id
    pub fn id(&self) -> &str {
        self.tables
            .policies
            .get(self.entry.policy)
            .map_or("", |m| m.id.as_str())
    }

    /// Whether the policy is a permit
    pub fn is_permit(&self) -> bool {
        self.entry.permit
    }

    /// The dimensions of the shape the policy can read (its table's axes)
    pub fn reads(&self) -> Vec<Dimension> {
        let dims = self
            .tables
            .space
            .shapes
            .get(self.shape)
            .map_or(&[][..], |s| s.dims.as_slice());
        self.entry
            .reads
            .iter()
            .filter_map(|(pos, _)| dims.get(*pos).map(|d| Dimension(*d)))
            .collect()
    }

    /// How many cells the table has
    pub fn len(&self) -> usize {
        self.entry.values.len()
    }

    /// Whether it has none (a shape without inputs)
    pub fn is_empty(&self) -> bool {
        self.entry.values.is_empty()
    }

    /// The policy's value at `input`, `None` when the input is not a point
    /// of this table's shape or is outside the set's vocabulary
    pub fn value(&self, input: &AbstractInput) -> Option<PolicyValue> {
        let (shape, c) = self.tables.space.locate(input)?;
        if shape != self.shape {
            return None;
        }
        match self.entry.at(&c) {
            NO => Some(PolicyValue::NotSatisfied),
            SAT => Some(PolicyValue::Satisfied),
            ERR => Some(PolicyValue::Error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vocab::ActionKind;

    /// A small deterministic generator (xorshift64*)
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u32) -> u32 {
            u32::try_from(self.next() % u64::from(n.max(1))).unwrap()
        }
    }

    fn shipped() -> Policies {
        Policies::shipped().unwrap()
    }

    /// The plain path's answer: the whole set through Cedar, as `decide_plain`
    fn plain(policies: &Policies, universe: &Universe, input: &AbstractInput) -> Verdict {
        let synth = Synth::new(input, universe).unwrap();
        Verdict::of(cedar::evaluate(policies, &policies.set, &synth.input()))
    }

    fn random_point(rng: &mut Rng, sizes: &[u32]) -> Coords {
        let mut c = [0; super::super::space::MAX_DIMS];
        for (i, s) in sizes.iter().enumerate() {
            c[i] = rng.below(*s);
        }
        c
    }

    #[test]
    fn combine_equals_evaluate_exhaustively_for_small_actions() {
        let p = shipped();
        let tables = TruthTables::build(&p).unwrap();
        let universe = Universe::of(&p);
        let mut checked = 0u64;
        for (i, shape) in tables.space.shapes.iter().enumerate() {
            if shape.len > 5000 {
                continue;
            }
            for c in Odometer::new(&shape.sizes) {
                let input = tables.space.input(i, &c);
                assert_eq!(
                    tables.verdict(i, &c),
                    plain(&p, &universe, &input),
                    "{input:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 8000, "{checked}");
    }

    /// Every combination of the dimensions some policy of the shape reads
    /// (the others at seeded random values): every point the tables can
    /// tell apart, for the shapes too large to walk whole
    #[test]
    fn combine_equals_evaluate_over_every_read_combination_of_the_larger_actions() {
        let p = shipped();
        let tables = TruthTables::build(&p).unwrap();
        let universe = Universe::of(&p);
        let mut rng = Rng(0x00ab_5712);
        let mut checked = 0u64;
        for (i, shape) in tables.space.shapes.iter().enumerate() {
            if shape.len <= 5000
                || matches!(shape.action, ActionKind::View | ActionKind::ViewRecord)
            {
                continue;
            }
            let read: Vec<usize> = (0..shape.dims.len())
                .filter(|pos| {
                    tables.shapes[i]
                        .iter()
                        .any(|e| e.reads.iter().any(|r| r.0 == *pos))
                })
                .collect();
            let sizes: Vec<u32> = read.iter().map(|&pos| shape.sizes[pos]).collect();
            for point in Odometer::new(&sizes) {
                let mut c = random_point(&mut rng, &shape.sizes);
                for (k, &pos) in read.iter().enumerate() {
                    c[pos] = point[k];
                }
                let input = tables.space.input(i, &c);
                assert_eq!(
                    tables.verdict(i, &c),
                    plain(&p, &universe, &input),
                    "{input:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn combine_equals_evaluate_on_a_seeded_sample_of_view_and_view_record() {
        let p = shipped();
        let tables = TruthTables::build(&p).unwrap();
        let universe = Universe::of(&p);
        let mut rng = Rng(0x5eed_0013);
        let shapes: Vec<usize> = (0..tables.space.shapes.len())
            .filter(|&i| {
                matches!(
                    tables.space.shapes[i].action,
                    ActionKind::View | ActionKind::ViewRecord
                )
            })
            .collect();
        assert_eq!(shapes.len(), 3 + 9);
        let mut allowed = 0;
        for n in 0..8_000 {
            let i = shapes[n % shapes.len()];
            let shape = &tables.space.shapes[i];
            let mut c = random_point(&mut rng, &shape.sizes);
            // Half the points with mfa and the relationship, where allows are
            if n % 2 == 0 {
                for (pos, d) in shape.dims.iter().enumerate() {
                    if matches!(
                        d,
                        Dim::Mfa | Dim::Fact(crate::model::fact::Fact::Relationship)
                    ) {
                        c[pos] = 1;
                    }
                }
            }
            let input = tables.space.input(i, &c);
            let verdict = tables.verdict(i, &c);
            assert_eq!(verdict, plain(&p, &universe, &input), "{input:?}");
            assert_eq!(tables.compact(i, &c).allow, verdict.is_allowed());
            allowed += usize::from(verdict.is_allowed());
        }
        assert!(allowed > 200, "the sample reaches allows: {allowed}");
    }

    #[test]
    fn every_policy_value_ignores_the_dimensions_it_does_not_read() {
        let p = shipped();
        let tables = TruthTables::build(&p).unwrap();
        let universe = Universe::of(&p);
        let mut rng = Rng(0xd1ce);
        for (i, shape) in tables.space.shapes.iter().enumerate() {
            for entry in &tables.shapes[i] {
                let id = &tables.policies[entry.policy].id;
                for _ in 0..24 {
                    let mut c = random_point(&mut rng, &shape.sizes);
                    let input = tables.space.input(i, &c);
                    let synth = Synth::new(&input, &universe).unwrap();
                    let value = cedar::policy_value(&p, id, &synth.input()).unwrap();
                    // Change every dimension the policy does not read
                    for (pos, size) in shape.sizes.iter().enumerate() {
                        if !entry.reads.iter().any(|(r, _)| *r == pos) {
                            c[pos] = rng.below(*size);
                        }
                    }
                    let moved = tables.space.input(i, &c);
                    let synth = Synth::new(&moved, &universe).unwrap();
                    assert_eq!(
                        cedar::policy_value(&p, id, &synth.input()).unwrap(),
                        value,
                        "{id} at {moved:?}"
                    );
                    let cell = entry.at(&c);
                    let expected = match value {
                        Satisfaction::Satisfied => SAT,
                        Satisfaction::NotSatisfied => NO,
                        Satisfaction::Error => ERR,
                    };
                    assert_eq!(cell, expected, "{id}");
                }
            }
        }
    }

    #[test]
    fn the_tables_are_small() {
        let tables = TruthTables::build(&shipped()).unwrap();
        // The role matrix reads role x category: 12 x 14 cells per shape it can match
        let matrix: Vec<usize> = (0..tables.space.shapes.len())
            .flat_map(|i| {
                tables
                    .tables(i)
                    .filter(|t| t.id() == "forbid-category-not-in-role-matrix")
                    .map(|t| t.len())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(matrix.contains(&(12 * 14)), "{matrix:?}");
        assert!(tables.cells() < 20_000, "{}", tables.cells());
        assert!(tables.space.len() > 50_000_000, "{}", tables.space.len());
    }

    #[test]
    fn an_erroring_policy_denies_with_evaluation_error_as_the_engine_does() {
        let schema = include_str!("../../../policies/zorg.cedarschema");
        // An overflow errors at evaluation, strict validation or not; Cedar
        // skips the policy, so the permit would win: the engine fails closed.
        let text = r#"
            @id("permit-share") permit (principal, action == Action::"share", resource);
            @id("forbid-overflow") @reason("role_not_permitted")
            forbid (principal, action == Action::"share", resource)
            when { context.mfa && 9223372036854775807 + 1 > 0 };
            @id("forbid-self") @reason("not_self")
            forbid (principal, action == Action::"share", resource)
            when { principal == resource };
        "#;
        let p = Policies::from_sources_unguarded(schema, [("t.cedar", text)]).unwrap();
        let tables = TruthTables::build(&p).unwrap();
        let universe = Universe::of(&p);
        let mut errors = 0;
        for (i, shape) in tables.space.shapes.iter().enumerate() {
            if shape.action != ActionKind::Share {
                continue;
            }
            for c in Odometer::new(&shape.sizes) {
                let input = tables.space.input(i, &c);
                let verdict = tables.verdict(i, &c);
                assert_eq!(verdict, plain(&p, &universe, &input), "{input:?}");
                errors += usize::from(verdict.reasons.contains(&Reason::EvaluationError));
            }
        }
        assert!(errors > 0);
    }
}
