//! The fast path's memo: Cedar's answers keyed on exactly what strict
//! validation lets a policy read.
//!
//! A strictly validated policy can read only the request's principal, action,
//! resource and context, and the attributes the schema declares on the
//! principal (`role`, `tasks`, `organisation`). Entity ids are only ever
//! compared for equality (Cedar has no operator that reads an id's text, and
//! our entities have no parents, so `in` is equality too). So Cedar's answer is
//! a function of:
//!
//! - the action, the principal's type, role and tasks, and every context value
//!   that is not an entity id (purpose, source, category, module, the facts);
//! - the *equality pattern* of the entity ids in the request — the principal,
//!   its organisation, the patient, the holder — and which of them equal an
//!   entity literal named in some policy.
//!
//! The key below holds exactly that: vocabulary indices, a fact bit set, and
//! each entity id replaced by a symbol (a literal's index, or the position of
//! its first occurrence). Two requests with equal keys get the same answer
//! from Cedar, so the memo returns what Cedar would. The memo belongs to one
//! policy set: a reload starts a new, empty one.

use std::hash::Hash;
use std::sync::Arc;

use hashbrown::HashMap;

use super::input::{Input, PrincipalIn};
use crate::audit::Summary;
use crate::model::vocab::Vocabulary;
use crate::policy::Policies;

/// The most answers kept per policy set; past it, decisions are evaluated
/// without being remembered (the key space of realistic worlds is far smaller)
const MAX_ENTRIES: usize = 1 << 20;

/// Absent, for optional key parts
const NONE: u16 = u16::MAX;

/// Everything Cedar's answer depends on, with ids abstracted to symbols
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    action: u8,
    principal_kind: u8,
    mfa: bool,
    purpose: u8,
    source: u8,
    role: u16,
    category: u16,
    module: u16,
    tasks: u64,
    facts: u32,
    /// principal, principal's organisation, patient, holder
    ids: [u16; 4],
}

/// Entity types as Cedar sees them, for id symbols
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ty {
    Practitioner,
    Patient,
    Organisation,
}

/// The policy literals and remembered answers of one policy set
#[derive(Debug)]
pub(crate) struct Memo {
    /// Entity literals of types Practitioner, Patient, Organisation named in any policy
    literals: HashMap<(Ty, String), u16>,
    answers: papaya::HashMap<Key, Arc<Summary>, hashbrown::DefaultHashBuilder>,
}

impl Memo {
    /// An empty memo for `policies`, or `None` when the vocabulary is too large to key
    pub(crate) fn new(policies: &Policies) -> Option<Self> {
        let v = policies.vocabulary();
        if v.tasks().len() > 64
            || v.roles().len() >= usize::from(NONE)
            || v.categories().len() >= usize::from(NONE)
        {
            return None;
        }
        let mut literals = HashMap::new();
        for uid in policies.entity_literals() {
            let ty = match uid.type_name().to_string().as_str() {
                "Practitioner" => Ty::Practitioner,
                "Patient" => Ty::Patient,
                "Organisation" => Ty::Organisation,
                _ => continue,
            };
            let next = u16::try_from(literals.len()).ok().filter(|n| *n < 0x4000)?;
            literals
                .entry((ty, uid.id().unescaped().to_owned()))
                .or_insert(next);
        }
        Some(Self {
            literals,
            answers: papaya::HashMap::with_hasher(hashbrown::DefaultHashBuilder::default()),
        })
    }

    /// The key of an input, or `None` when some value is outside the vocabulary
    pub(crate) fn key(&self, input: &Input<'_>, vocabulary: &Vocabulary) -> Option<Key> {
        let (kind, principal, role, tasks, org) = match input.principal {
            PrincipalIn::Practitioner {
                id,
                role,
                tasks,
                organisation,
            } => {
                let mut mask = 0u64;
                for t in tasks {
                    mask |= 1 << vocabulary.task_index(t)?;
                }
                (
                    0,
                    (Ty::Practitioner, id.as_str()),
                    vocabulary.role_index(role)?,
                    mask,
                    Some(organisation.as_str()),
                )
            }
            PrincipalIn::Patient(id) => (1, (Ty::Patient, id.as_str()), NONE, 0, None),
            PrincipalIn::Organisation(id) => (2, (Ty::Organisation, id.as_str()), NONE, 0, None),
        };
        let slots: [Option<(Ty, &str)>; 4] = [
            Some(principal),
            org.map(|o| (Ty::Organisation, o)),
            Some((Ty::Patient, input.patient.as_str())),
            input.holder.map(|h| (Ty::Organisation, h.as_str())),
        ];
        let mut ids = [NONE; 4];
        for (i, slot) in slots.iter().enumerate() {
            let Some((ty, id)) = slot else { continue };
            let symbol = if self.literals.is_empty() {
                None
            } else {
                self.literals
                    .get(&(*ty, (*id).to_owned()))
                    .map(|n| 0x8000 | n)
            };
            let symbol = symbol.unwrap_or_else(|| {
                // The first position holding the same entity, else this one.
                let first = slots
                    .iter()
                    .position(|s| s.as_ref() == Some(&(*ty, *id)))
                    .unwrap_or(i);
                u16::try_from(first).unwrap_or(NONE)
            });
            if let Some(cell) = ids.get_mut(i) {
                *cell = symbol;
            }
        }
        let category = match input.category {
            Some(c) => vocabulary.category_index(c)?,
            None => NONE,
        };
        let module = match input.module {
            Some(m) => vocabulary.module_index(m)?,
            None => NONE,
        };
        Some(Key {
            action: input.action as u8,
            principal_kind: kind,
            mfa: input.mfa,
            purpose: input.purpose.map_or(u8::MAX, |p| p as u8),
            source: input.source.map_or(u8::MAX, |s| s as u8),
            role,
            category,
            module,
            tasks,
            facts: input.facts.0,
            ids,
        })
    }

    /// `read` of the remembered answer for `key`, or of `evaluate`'s, remembered
    pub(crate) fn answer<T>(
        &self,
        key: Key,
        evaluate: impl FnOnce() -> Summary,
        read: impl FnOnce(&Arc<Summary>) -> T,
    ) -> T {
        let answers = self.answers.pin();
        if let Some(hit) = answers.get(&key) {
            return read(hit);
        }
        let answer = Arc::new(evaluate());
        let out = read(&answer);
        if answers.len() < MAX_ENTRIES {
            answers.insert(key, answer);
        }
        out
    }

    /// How many answers are remembered
    pub(crate) fn len(&self) -> usize {
        self.answers.pin().len()
    }
}
