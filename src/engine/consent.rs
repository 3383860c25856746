//! Consent for a decision (RULES.md §J): the patient's consent statements
//! about a holder, resolved for the requesting organisation and the data
//! category asked, with the consent vocabulary's categories translated to the
//! registry's indices. The policies then read the answer as Boolean facts
//! (`dossier_consent`, `consent_refused`, `consent_unconfirmed`): the resolver
//! decides only *whether the patient consented*, the policies *who* may see
//! *what*.

use smallvec::SmallVec;

use crate::model::consent::{AgeFacts, Answer, Question, Resolution, resolve};
use crate::model::ids::Category;
use crate::model::time::Timestamp;
use crate::model::vocab::Vocabulary;
use crate::registry::{Idx, PatientFacts, Registry, Statements};

/// An index no event gave: a category the vocabulary knows but no statement
/// names, so no statement applies through it
const NONE_NAMED: Idx = Idx::MAX;

/// The answer as the policies read it
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ConsentFacts {
    /// consent(x, h) for `o` and `g` (R37)
    pub(crate) permit: bool,
    /// An undominated refusal decided (reason `consent_refused`)
    pub(crate) refused: bool,
    /// A minor's unconfirmed choice would have decided (reason `consent_unconfirmed`)
    pub(crate) unconfirmed: bool,
}

impl From<&Resolution> for ConsentFacts {
    fn from(r: &Resolution) -> Self {
        Self {
            permit: r.is_permit(),
            refused: r.answer() == Answer::Refused,
            unconfirmed: r.unconfirmed(),
        }
    }
}

/// One patient's consent at one time, ready to answer per holder, requester
/// and data category
pub(crate) struct PatientConsent<'r, 'v> {
    registry: &'r Registry,
    vocabulary: &'v Vocabulary,
    facts: PatientFacts<'r>,
    age: AgeFacts,
    at: Timestamp,
    /// Whether any Mitz event exists: without one only the holders' own
    /// consents decide and no category is looked up
    mitz: bool,
}

/// A data category to ask about: its index in the consent vocabulary, or
/// `None` when only statements for every category can apply (a category
/// the vocabulary does not map)
pub(crate) type DataAsked = Option<u16>;

impl<'r, 'v> PatientConsent<'r, 'v> {
    /// The consent of the patient whose facts as of `at` are `facts`
    pub(crate) fn new(
        registry: &'r Registry,
        vocabulary: &'v Vocabulary,
        facts: PatientFacts<'r>,
        birth_date: Option<crate::model::consent::BirthDate>,
        at: Timestamp,
    ) -> Self {
        let mitz = facts.any_mitz();
        let age = if mitz {
            AgeFacts::at(birth_date, facts.mitz_confirmed(), at)
        } else {
            AgeFacts::ADULT
        };
        Self {
            registry,
            vocabulary,
            facts,
            age,
            at,
            mitz,
        }
    }

    /// The patient's dashboard holders (SPEC.md §4), unsorted
    pub(crate) fn holders(&self) -> smallvec::SmallVec<[Idx; 8]> {
        self.facts.holders()
    }

    /// The data category of a dashboard category (SPEC.md §7.2)
    pub(crate) fn data_of(&self, category: &Category) -> DataAsked {
        let position = self.vocabulary.category_index(category)?;
        self.vocabulary.consent().data_of_category(position)
    }

    /// The holder and requesting category (vocabulary indices) of an
    /// organisation's provider type; `None` when it has none or the table
    /// lacks it (R42)
    pub(crate) fn categories_of(&self, org: Idx) -> Option<(u16, u16)> {
        let t = self.registry.provider_type(org)?;
        self.vocabulary.consent().provider(t)
    }

    /// The resolution for holder `h`, a requester in requesting category
    /// `requester` (a vocabulary index; `None` when unknown, R42) and data
    /// category `data`
    pub(crate) fn resolve(&self, h: Idx, requester: Option<u16>, data: DataAsked) -> Resolution {
        self.resolve_with(h, requester, data).0
    }

    /// [`Self::resolve`], with the statement events it read: the
    /// resolution's [`Resolution::deciding`] indexes them
    pub(crate) fn resolve_with(
        &self,
        h: Idx,
        requester: Option<u16>,
        data: DataAsked,
    ) -> (Resolution, Statements) {
        let category = self.holder_category(h);
        let events = match category {
            // R42: the resolver notes a category statement the holder's
            // missing category would have needed, for `consent_check`
            None if self.mitz => self.facts.statements_about_uncategorised(h),
            _ => self.facts.statements_about(h, category),
        };
        let (holder_category, requester_category, data_idx, covers) = if self.mitz {
            (
                self.holder_category(h),
                requester.map(|r| self.requester_idx(r)),
                data.map_or(NONE_NAMED, |d| self.data_idx(d)),
                self.covering(data),
            )
        } else {
            (None, None, NONE_NAMED, SmallVec::new())
        };
        let resolution = resolve(
            &events,
            &Question {
                holder: h,
                holder_category,
                requester_category,
                data: data_idx,
                covers: &covers,
                age: self.age,
                at: self.at,
            },
        );
        (resolution, events)
    }

    /// [`Self::resolve`] for requesting organisation `o`
    pub(crate) fn for_requester(&self, h: Idx, o: Idx, data: DataAsked) -> ConsentFacts {
        let requester = if self.mitz {
            self.categories_of(o).map(|(_, r)| r)
        } else {
            None
        };
        ConsentFacts::from(&self.resolve(h, requester, data))
    }

    /// R43 (`request_access`): a permit for `o` at some dashboard holder
    /// `h ≠ o` for some data category
    pub(crate) fn permit_elsewhere(&self, o: Idx) -> bool {
        let requester = if self.mitz {
            self.categories_of(o).map(|(_, r)| r)
        } else {
            None
        };
        self.facts
            .holders()
            .iter()
            .filter(|&&h| h != o)
            .any(|&h| self.any_data(|data| self.resolve(h, requester, data).is_permit()))
    }

    /// R43 (`share`): a permit at holder `o` for some requester and data
    /// category
    pub(crate) fn permit_at(&self, o: Idx) -> bool {
        if !self.mitz {
            return self.resolve(o, None, None).is_permit();
        }
        let requesters = self.vocabulary.consent().requester_categories().len();
        let any_requester = (0..requesters)
            .filter_map(|r| u16::try_from(r).ok())
            .map(Some)
            .chain([None]);
        any_requester
            .into_iter()
            .any(|r| self.any_data(|data| self.resolve(o, r, data).is_permit()))
    }

    /// Whether `f` holds for some data category of the vocabulary (or, with
    /// no Mitz event, for the holders' own consents alone)
    fn any_data(&self, f: impl Fn(DataAsked) -> bool) -> bool {
        if !self.mitz {
            return f(None);
        }
        let n = self.vocabulary.consent().data_categories().len();
        (0..n)
            .filter_map(|d| u16::try_from(d).ok())
            .any(|d| f(Some(d)))
    }

    /// The registry index of `h`'s holder category: `None` when `h` has no
    /// (mapped) provider type (R42), [`NONE_NAMED`] when no event named it
    fn holder_category(&self, h: Idx) -> Option<Idx> {
        if !self.mitz {
            return None;
        }
        let (c, _) = self.categories_of(h)?;
        let name = self
            .vocabulary
            .consent()
            .holder_categories()
            .get(usize::from(c))?;
        Some(
            self.registry
                .holder_category_index(name)
                .unwrap_or(NONE_NAMED),
        )
    }

    fn requester_idx(&self, r: u16) -> Idx {
        self.vocabulary
            .consent()
            .requester_categories()
            .get(usize::from(r))
            .and_then(|name| self.registry.requester_category_index(name))
            .unwrap_or(NONE_NAMED)
    }

    fn data_idx(&self, d: u16) -> Idx {
        self.vocabulary
            .consent()
            .data_categories()
            .get(usize::from(d))
            .and_then(|name| self.registry.data_category_index(name))
            .unwrap_or(NONE_NAMED)
    }

    /// The (covering, asked) pairs for the asked data category, as registry
    /// indices (R40)
    fn covering(&self, data: DataAsked) -> SmallVec<[(Idx, Idx); 4]> {
        let Some(d) = data else {
            return SmallVec::new();
        };
        let asked = self.data_idx(d);
        self.vocabulary
            .consent()
            .covers()
            .iter()
            .filter(|&&(_, covered)| covered == d)
            .map(|&(covering, _)| (self.data_idx(covering), asked))
            .collect()
    }
}
