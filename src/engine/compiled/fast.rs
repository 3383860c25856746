//! The request path's decision from the truth tables: an engine input is
//! placed in the space (its shape and coordinates, from vocabulary indices
//! and fact bits), and each of the action's policies gives its value by one
//! table lookup. No Cedar runs; the tables were filled by Cedar at load.
//!
//! Exactness rests on three things, each tested: the tables equal Cedar on
//! every point (`tables`' tests, and `tests/it/compiled.rs` exhaustively
//! over the shipped space), an engine input lands on the point
//! [`Space::of_input`] gives for it (the tests compare the two on every
//! request they build), and the combine step is `cedar::evaluate`'s.

use std::sync::{Arc, Mutex, PoisonError};

use super::error::AnalysisError;
use super::space::{Coords, Dim, MAX_DIMS, PrincipalKind, Space, Sym, Ty};
use super::tables::{Acc, Compact, Entry, NO, OUTSIDE, Point, TruthTables};
use crate::engine::input::{CATEGORY_FACTS, Indices, Input, PrincipalIn};
use crate::model::fact::Facts;
use crate::model::vocab::{ActionKind, Purpose, Source, Vocabulary};
use crate::policy::Policies;

/// A policy set compiled for the request path
#[derive(Debug)]
pub(crate) struct Compiled {
    tables: TruthTables,
    /// Per shape key ([`shape_key`]), the shape's index plus one (0: none)
    shape_of: Vec<u16>,
    /// Per shape, the fact bits that may be true (the engine never sets
    /// another for that shape; an input that does is not placed)
    free: Vec<u32>,
    /// Per shape, how a dashboard walks its categories ([`Compiled::walk`]):
    /// which tables the category changes, found once at load
    plans: Vec<Plan>,
}

/// How the tables of one shape split for a walk through the categories:
/// the dimensions that move with the category, the tables that read none
/// of them, and for each of the others its reads split into those that
/// stay and those that move
#[derive(Debug, Default)]
struct Plan {
    /// The dimensions that move, by position
    moving: smallvec::SmallVec<[(usize, Dim); 5]>,
    /// The tables no category changes, by index into the shape's entries
    fixed: Vec<usize>,
    /// The others
    varying: Vec<PlannedVarying>,
}

/// A table some category changes, as planned at load
#[derive(Debug)]
struct PlannedVarying {
    /// Its index into the shape's entries
    entry: usize,
    /// The reads of the dimensions that stay: (position, stride)
    stays: smallvec::SmallVec<[(usize, usize); 6]>,
    /// The reads that move: (index into [`Plan::moving`], stride)
    terms: smallvec::SmallVec<[(usize, usize); 4]>,
}

impl Plan {
    /// The plan of shape `shape` of `tables`
    fn of(tables: &TruthTables, shape: usize) -> Self {
        let dims = tables
            .space
            .shapes
            .get(shape)
            .map_or(&[][..], |s| s.dims.as_slice());
        let mut plan = Self::default();
        for (pos, d) in dims.iter().enumerate() {
            let moves = match d {
                Dim::Category => true,
                Dim::Fact(f) => CATEGORY_FACTS.contains(f),
                _ => false,
            };
            if moves {
                plan.moving.push((pos, *d));
            }
        }
        for (i, e) in tables.shapes.get(shape).into_iter().flatten().enumerate() {
            let mut stays = smallvec::SmallVec::new();
            let mut terms = smallvec::SmallVec::new();
            for &(pos, stride) in &e.reads {
                match plan.moving.iter().position(|(p, _)| *p == pos) {
                    Some(k) => terms.push((k, stride)),
                    None => stays.push((pos, stride)),
                }
            }
            if terms.is_empty() {
                plan.fixed.push(i);
            } else {
                plan.varying.push(PlannedVarying {
                    entry: i,
                    stays,
                    terms,
                });
            }
        }
        plan
    }
}

/// The number of shape keys
const KEYS: usize = ActionKind::ALL.len() * 3 * (Source::ALL.len() + 1) * 16;

/// The dense key of a shape: action, principal kind, source, and which of
/// holder, category, module and purpose the context has
fn shape_key(
    action: ActionKind,
    kind: PrincipalKind,
    source: Option<Source>,
    flags: [bool; 4],
) -> usize {
    let action = ActionKind::ALL
        .iter()
        .position(|a| *a == action)
        .unwrap_or(0);
    let kind = kind as usize;
    let source = source.map_or(0, |s| {
        Source::ALL
            .iter()
            .position(|x| *x == s)
            .map_or(0, |i| i + 1)
    });
    let bits = flags
        .iter()
        .fold(0usize, |acc, f| (acc << 1) | usize::from(*f));
    ((action * 3 + kind) * (Source::ALL.len() + 1) + source) * 16 + bits
}

/// Compiled sets by content hash, so that engines of one set (every test's
/// `Engine::new`, a host's several engines, a reload of the set in force)
/// share one compilation, the newest last: every set an engine holds, and
/// the [`KEPT`] newest no engine holds any more (so a host that loads many
/// sets keeps a bounded number it no longer uses).
static SHARED: Mutex<Vec<(String, Arc<Compiled>)>> = Mutex::new(Vec::new());

/// How many compiled sets no engine holds [`SHARED`] keeps
const KEPT: usize = 4;

impl Compiled {
    /// The set compiled, or shared with another engine of the same content
    /// hash
    ///
    /// # Errors
    ///
    /// [`AnalysisError`] when the set's space or a table is too large (the
    /// engine then decides through Cedar, remembering answers).
    pub(crate) fn of(policies: &Policies) -> Result<Arc<Self>, AnalysisError> {
        let hash = policies.content_hash();
        let shared = || SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = shared().iter().find(|(h, _)| h == hash) {
            return Ok(Arc::clone(&found.1));
        }
        // Compiled outside the lock: two threads loading one new set may
        // both compile it, and the first result kept is the one shared
        let space = Space::every_fact(policies)?;
        let compiled = Arc::new(Self::new(
            TruthTables::over(policies, space)?.without_forms(),
        ));
        let mut list = shared();
        if let Some(first) = list.iter().find(|(h, _)| h == hash) {
            return Ok(Arc::clone(&first.1));
        }
        list.push((hash.to_owned(), Arc::clone(&compiled)));
        // Past the bound, the oldest sets no engine holds go
        let mut unused = list
            .iter()
            .filter(|(_, c)| Arc::strong_count(c) == 1)
            .count();
        list.retain(|(_, c)| {
            let drop = unused > KEPT && Arc::strong_count(c) == 1;
            unused -= usize::from(drop);
            !drop
        });
        Ok(compiled)
    }

    fn new(tables: TruthTables) -> Self {
        let mut shape_of = vec![0u16; KEYS];
        let mut free = Vec::with_capacity(tables.space.shapes.len());
        for (i, s) in tables.space.shapes.iter().enumerate() {
            let key = shape_key(
                s.action,
                s.principal,
                s.source,
                [s.holder, s.category, s.module, s.purpose],
            );
            if let (Some(cell), Ok(n)) = (shape_of.get_mut(key), u16::try_from(i + 1)) {
                *cell = n;
            }
            let bits = s.dims.iter().fold(0u32, |acc, d| match d {
                Dim::Fact(f) => acc | 1 << (*f as u32),
                _ => acc,
            });
            free.push(bits);
        }
        let plans = (0..tables.shapes.len())
            .map(|i| Plan::of(&tables, i))
            .collect();
        Self {
            tables,
            shape_of,
            free,
            plans,
        }
    }

    /// The shape and coordinates of an engine input, `None` when it is not
    /// a point of the space (a value outside the vocabulary, a fact the
    /// engine never sets for its shape): the caller then asks Cedar
    #[inline]
    pub(crate) fn locate(&self, input: &Input<'_>, v: &Vocabulary) -> Option<(usize, Coords)> {
        let (kind, role, tasks) = match input.principal {
            PrincipalIn::Practitioner { role, tasks, .. } => {
                (PrincipalKind::Practitioner, Some(role), tasks)
            }
            PrincipalIn::Patient(_) => (PrincipalKind::Patient, None, &[][..]),
            PrincipalIn::Organisation(_) => (PrincipalKind::Organisation, None, &[][..]),
        };
        let key = shape_key(
            input.action,
            kind,
            input.source,
            [
                input.holder.is_some(),
                input.category.is_some(),
                input.module.is_some(),
                input.purpose.is_some(),
            ],
        );
        let index = usize::from(self.shape_of.get(key)?.checked_sub(1)?);
        let shape = self.tables.space.shapes.get(index)?;
        if input.facts.0 & !self.free.get(index)? != 0 {
            return None;
        }
        let mut c: Coords = [0; MAX_DIMS];
        for (pos, dim) in shape.dims.iter().enumerate() {
            let value = match dim {
                Dim::Role => match input.indices.role {
                    Some(i) => u32::from(i),
                    None => u32::from(v.role_index(role?)?),
                },
                Dim::Tasks => match input.indices.tasks {
                    Some(mask) => mask,
                    None => Indices::task_mask(v, tasks).ok()??,
                },
                Dim::Mfa => u32::from(input.mfa),
                Dim::Purpose => {
                    let p = input.purpose?;
                    u32::try_from(Purpose::ALL.iter().position(|x| *x == p)?).ok()?
                }
                Dim::Category => match input.indices.category {
                    Some(i) => u32::from(i),
                    None => u32::from(v.category_index(input.category?)?),
                },
                Dim::Module => u32::from(v.module_index(input.module?)?),
                Dim::Ids => {
                    let syms = self.symbols(input);
                    u32::try_from(shape.patterns.iter().position(|p| *p == syms)?).ok()?
                }
                Dim::Fact(f) => u32::from(input.facts.get(*f)),
            };
            *c.get_mut(pos)? = value;
        }
        Some((index, c))
    }

    /// The id-equality pattern of an input: per slot (principal, its
    /// organisation, patient, holder) the literal it equals, or the first
    /// slot holding the same entity
    fn symbols(&self, input: &Input<'_>) -> [Sym; 4] {
        let (principal, org) = match input.principal {
            PrincipalIn::Practitioner {
                id, organisation, ..
            } => ((Ty::Practitioner, id.as_str()), Some(organisation.as_str())),
            PrincipalIn::Patient(id) => ((Ty::Patient, id.as_str()), None),
            PrincipalIn::Organisation(id) => ((Ty::Organisation, id.as_str()), None),
        };
        let slots: [Option<(Ty, &str)>; 4] = [
            Some(principal),
            org.map(|o| (Ty::Organisation, o)),
            Some((Ty::Patient, input.patient.as_str())),
            input.holder.map(|h| (Ty::Organisation, h.as_str())),
        ];
        let literals = &self.tables.space.universe;
        std::array::from_fn(|i| {
            let Some(Some((ty, id))) = slots.get(i) else {
                return Sym::Absent;
            };
            let named = literals.literals_of(*ty);
            if !named.is_empty()
                && let Ok(n) = named.binary_search_by(|l| l.as_str().cmp(id))
                && let Ok(n) = u16::try_from(n)
            {
                return Sym::Literal(n);
            }
            let first = slots
                .iter()
                .position(|s| s.as_ref() == Some(&(*ty, *id)))
                .unwrap_or(i);
            Sym::Fresh(u8::try_from(first).unwrap_or(u8::MAX))
        })
    }

    /// A dashboard's walk through the categories of one placed `view`
    /// input: the tables of the policies that read neither the category
    /// nor a fact that depends on it ([`CATEGORY_FACTS`]) are read once,
    /// here; each category then reads only the others. Which tables are
    /// which was found at load ([`Plan`]); here only the cells' offsets
    pub(crate) fn walk(&self, shape: usize, c: Coords) -> Walk<'_> {
        let mut base = Acc::default();
        let mut varying = smallvec::SmallVec::new();
        let entries = self.tables.shapes.get(shape).map_or(&[][..], Vec::as_slice);
        let Some(plan) = self.plans.get(shape) else {
            return Walk {
                base,
                varying,
                moving: &[],
            };
        };
        for e in plan.fixed.iter().filter_map(|&i| entries.get(i)) {
            base.add_entry(e, &c);
        }
        for v in &plan.varying {
            let Some(entry) = entries.get(v.entry) else {
                continue;
            };
            let offset = v
                .stays
                .iter()
                .map(|&(pos, stride)| c.get(pos).map_or(0, |&x| x as usize) * stride)
                .sum();
            varying.push(Varying {
                entry,
                offset,
                terms: &v.terms,
            });
        }
        Walk {
            base,
            varying,
            moving: &plan.moving,
        }
    }

    /// The answer at a point
    #[inline]
    pub(crate) fn point(&self, shape: usize, c: &Coords) -> Point {
        self.tables.point(shape, c)
    }

    /// The answer for an engine input, `None` when it is not placed
    #[inline]
    pub(crate) fn decide(&self, input: &Input<'_>, v: &Vocabulary) -> Option<Point> {
        let (shape, c) = self.locate(input, v)?;
        Some(self.point(shape, &c))
    }
}

/// See [`Compiled::walk`]
#[derive(Debug, Clone)]
pub(crate) struct Walk<'c> {
    /// The answer of the policies that no category changes
    base: Acc,
    /// The tables of the others
    varying: smallvec::SmallVec<[Varying<'c>; 8]>,
    /// The dimensions that move, by position
    moving: &'c [(usize, Dim)],
}

/// A table some category changes: the part of its cell's index that the
/// dimensions which do not move make, and the strides of those that do
#[derive(Debug, Clone, Copy)]
struct Varying<'c> {
    entry: &'c Entry,
    offset: usize,
    /// (index into [`Walk::moving`], stride)
    terms: &'c [(usize, usize)],
}

impl Walk<'_> {
    /// The decision and reasons with category `category` (its vocabulary
    /// index) and the input's facts `facts`
    #[inline]
    pub(crate) fn compact(&self, category: u32, facts: Facts) -> Compact {
        let mut values = [0usize; 5];
        for ((_, dim), value) in self.moving.iter().zip(values.iter_mut()) {
            *value = match dim {
                Dim::Fact(f) => usize::from(facts.get(*f)),
                _ => category as usize,
            };
        }
        let mut acc = self.base;
        for v in &self.varying {
            let mut i = v.offset;
            for &(k, stride) in v.terms {
                i += values.get(k).copied().unwrap_or(0) * stride;
            }
            let cell = v.entry.values.get(i).copied().unwrap_or(OUTSIDE);
            if cell != NO {
                acc.add(cell, v.entry.permit, v.entry.reason);
            }
        }
        acc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::space::{Odometer, Synth, Universe};
    use super::super::tables::Verdict;
    use super::*;
    use crate::engine::cedar;

    fn shipped() -> Policies {
        Policies::shipped().unwrap()
    }

    /// The plain path's answer for a synthesised input: the whole set
    /// through Cedar, as `decide_plain`
    fn plain(policies: &Policies, input: &Input<'_>) -> Verdict {
        Verdict::of(cedar::evaluate(policies, &policies.set, input))
    }

    /// The compiled answer as a verdict, and where the input was placed
    fn compiled(c: &Compiled, p: &Policies, input: &Input<'_>) -> (Verdict, (usize, Coords)) {
        let placed = c.locate(input, p.vocabulary()).unwrap();
        let point = c.point(placed.0, &placed.1);
        let ids = p.ids();
        let verdict = Verdict {
            decision: if point.compact.allow {
                crate::model::request::Decision::Allow
            } else {
                crate::model::request::Decision::Deny
            },
            reasons: point.compact.reasons(),
            policies: point
                .policies
                .iter()
                .map(|i| ids[usize::from(*i)].clone())
                .collect(),
        };
        (verdict, placed)
    }

    /// `input` with the vocabulary positions of its role, tasks and
    /// category carried
    fn with_indices<'a>(input: &Input<'a>, v: &Vocabulary) -> Input<'a> {
        let mut carried = input.clone();
        if let PrincipalIn::Practitioner { role, tasks, .. } = input.principal {
            carried.indices = Indices::of_practitioner(v, role, tasks).unwrap();
        }
        carried.indices.category = input.category.and_then(|c| v.category_index(c));
        carried
    }

    /// Every point of every shape of the compiled space with at most 10,000
    /// points (all but the practitioner's `view` and `view_record` and a few
    /// more), each synthesised into an engine input, placed back on its own
    /// point by [`Compiled::locate`], and decided as the plain path decides
    #[test]
    fn every_point_of_the_smaller_shapes_is_placed_back_and_decides_as_the_plain_path() {
        let p = shipped();
        let c = Compiled::of(&p).unwrap();
        let space = c.tables.space();
        let universe = Universe::of(&p);
        let mut checked = 0u64;
        let mut allowed = 0u64;
        for (i, shape) in space.shapes.iter().enumerate() {
            if shape.len > 10_000 {
                continue;
            }
            for point in Odometer::new(&shape.sizes) {
                let abstract_input = space.input(i, &point);
                let synth = Synth::new(&abstract_input, &universe).unwrap();
                let input = synth.input();
                let (verdict, placed) = compiled(&c, &p, &input);
                assert_eq!(placed, (i, point), "{abstract_input:?}");
                assert_eq!(verdict, plain(&p, &input), "{abstract_input:?}");
                // With the positions carried, as `input::build` carries
                // them, the input lands on the same point
                let carried = with_indices(&input, p.vocabulary());
                assert_eq!(
                    c.locate(&carried, p.vocabulary()),
                    Some(placed),
                    "{abstract_input:?}"
                );
                checked += 1;
                allowed += u64::from(verdict.is_allowed());
            }
        }
        assert!(checked > 15_000, "{checked}");
        assert!(allowed > 100, "allows are reached: {allowed}");
    }

    /// The larger shapes on a seeded sample, half of it with two factors
    /// and the relationship (where the allows are)
    #[test]
    fn a_seeded_sample_of_the_larger_shapes_decides_as_the_plain_path() {
        let p = shipped();
        let c = Compiled::of(&p).unwrap();
        let space = c.tables.space();
        let universe = Universe::of(&p);
        let large: Vec<usize> = (0..space.shapes.len())
            .filter(|i| space.shapes[*i].len > 10_000)
            .collect();
        assert!(large.len() >= 4, "{large:?}");
        let mut seed = 0x00c0_ffee_u64;
        let mut below = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            u32::try_from(seed % u64::from(n.max(1))).unwrap()
        };
        let mut allowed = 0;
        for n in 0..6_000 {
            let i = large[n % large.len()];
            let shape = &space.shapes[i];
            let mut point = [0; MAX_DIMS];
            for (pos, size) in shape.sizes.iter().enumerate() {
                point[pos] = below(*size);
            }
            if n % 2 == 0 {
                for (pos, d) in shape.dims.iter().enumerate() {
                    if matches!(
                        d,
                        Dim::Mfa | Dim::Fact(crate::model::fact::Fact::Relationship)
                    ) {
                        point[pos] = 1;
                    }
                }
            }
            let abstract_input = space.input(i, &point);
            let synth = Synth::new(&abstract_input, &universe).unwrap();
            let input = synth.input();
            let (verdict, placed) = compiled(&c, &p, &input);
            assert_eq!(placed, (i, point), "{abstract_input:?}");
            assert_eq!(verdict, plain(&p, &input), "{abstract_input:?}");
            allowed += usize::from(verdict.is_allowed());
        }
        assert!(allowed > 100, "the sample reaches allows: {allowed}");
    }

    #[test]
    fn every_fact_is_a_dimension_of_the_compiled_space() {
        let p = shipped();
        let c = Compiled::of(&p).unwrap();
        for (i, shape) in c.tables.space().shapes.iter().enumerate() {
            let facts = crate::model::fact::Fact::of(shape.action);
            let bits = facts.iter().fold(0u32, |a, f| a | 1 << (*f as u32));
            assert_eq!(c.free[i], bits, "{:?}", shape.action);
        }
        // The analysis's space has only the facts the engine sets
        let narrow = Space::of(&p).unwrap();
        assert!(narrow.len() < c.tables.space().len());
    }

    #[test]
    fn engines_of_one_set_share_one_compilation() {
        let a = Compiled::of(&shipped()).unwrap();
        let b = Compiled::of(&shipped()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn an_input_off_the_space_is_not_placed() {
        let p = shipped();
        let c = Compiled::of(&p).unwrap();
        let space = c.tables.space();
        let universe = Universe::of(&p);
        // A `view_own` of a patient (no facts but the record's) with a fact
        // of another action's context set: the engine never builds it
        let i = space
            .shapes
            .iter()
            .position(|s| s.action == ActionKind::ViewOwn)
            .unwrap();
        let synth = Synth::new(&space.input(i, &[0; MAX_DIMS]), &universe).unwrap();
        let mut input = synth.input();
        assert!(c.locate(&input, p.vocabulary()).is_some());
        input
            .facts
            .set(crate::model::fact::Fact::PartyConsent, true);
        assert!(c.locate(&input, p.vocabulary()).is_none());
    }
}
