//! Consent for a decision (RULES.md §J): the patient's consent statements
//! about a holder, resolved for the requesting organisation and the data
//! category asked, with the consent vocabulary's categories translated to the
//! registry's indices. The policies then read the answer as Boolean facts
//! (`dossier_consent`, `consent_refused`, `consent_unconfirmed`): the resolver
//! decides only *whether the patient consented*, the policies *who* may see
//! *what*.

use smallvec::SmallVec;

use crate::model::consent::{
    AgeFacts, Answer, Data, Holder, Question, Requester, Resolution, resolve,
};
use crate::model::time::Timestamp;
use crate::model::vocab::Vocabulary;
use crate::registry::{
    ConsentMap, Idx, MitzHolderIdx, NONE_NAMED, PatientFacts, Registry, Statements,
};

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
    /// The registry's table of the vocabulary's indices, when current
    map: Option<&'r ConsentMap>,
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
        // The confirmations matter only for a minor (R41): an adult's
        // decision does not look them up
        let minor = mitz && birth_date.is_some_and(|b| b.is_minor_at(at));
        let age = if minor {
            AgeFacts::at(birth_date, facts.mitz_confirmed(), at)
        } else {
            AgeFacts::ADULT
        };
        Self {
            registry,
            vocabulary,
            map: if mitz {
                registry.consent_map(vocabulary.consent())
            } else {
                None
            },
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

    /// Whether the data category asked changes an answer: only the Mitz
    /// picture names data categories; a dossier consent covers all of a
    /// holder's data (SPEC.md §7.2), so without Mitz entries every data
    /// category resolves alike
    pub(crate) fn data_matters(&self) -> bool {
        self.mitz
    }

    /// The data category of the category at `position` in the vocabulary
    pub(crate) fn data_at(&self, position: u16) -> DataAsked {
        self.vocabulary.consent().data_of_category(position)
    }

    /// The holder and requesting category (vocabulary indices) of an
    /// organisation's provider type; `None` when it has none or the table
    /// lacks it (R42)
    pub(crate) fn categories_of(&self, org: Idx) -> Option<(u16, u16)> {
        if let Some(map) = self.map {
            return map.organisation(org);
        }
        let t = self.registry.provider_type(org)?;
        self.vocabulary.consent().provider(t)
    }

    /// The resolution for holder `h`, a requester in requesting category
    /// `requester` (a vocabulary index; `None` when unknown, R42) and data
    /// category `data`
    pub(crate) fn resolve(&self, h: Idx, requester: Option<u16>, data: DataAsked) -> Resolution {
        let mut events = Statements::new();
        self.resolve_into(h, requester, data, &mut events)
    }

    /// [`Self::resolve`], with the statement events it read: the
    /// resolution's [`Resolution::deciding`] indexes them
    pub(crate) fn resolve_with(
        &self,
        h: Idx,
        requester: Option<u16>,
        data: DataAsked,
    ) -> (Resolution, Statements) {
        let mut events = Statements::new();
        let resolution = self.resolve_into(h, requester, data, &mut events);
        (resolution, events)
    }

    /// [`Self::resolve_with`] into a buffer of the caller's (which the
    /// decision path keeps on its stack)
    fn resolve_into(
        &self,
        h: Idx,
        requester: Option<u16>,
        data: DataAsked,
        events: &mut Statements,
    ) -> Resolution {
        let category = self.holder_category(h);
        if !self.mitz {
            self.facts.statements_about_into(h, category, events);
            return self.resolve_events(events, h, None, None, NONE_NAMED, &[]);
        }
        let requester_category = requester.map(|r| self.requester_idx(r));
        let data_idx = data.map_or(NONE_NAMED, |d| self.data_idx(d));
        let covers = self.covering(data);
        if let (Some(hc), Some(r)) = (category, requester_category) {
            // Every category known: exactly the keys that can apply, by
            // binary search (a Mitz choice names a requesting and a data
            // category always)
            let mut holders: SmallVec<[u32; 2]> =
                smallvec::smallvec![MitzHolderIdx::Organisation(h).packed()];
            if hc != NONE_NAMED {
                holders.push(MitzHolderIdx::Category(hc).packed());
            }
            if r == NONE_NAMED {
                holders.clear();
            }
            let mut datas: SmallVec<[Idx; 4]> = SmallVec::new();
            if data_idx != NONE_NAMED {
                datas.push(data_idx);
            }
            datas.extend(
                covers
                    .iter()
                    .map(|&(up, _)| up)
                    .filter(|&up| up != NONE_NAMED),
            );
            self.facts
                .statements_of_keys(h, &holders, r, &datas, events);
        } else {
            self.statements_scanned(h, category, requester_category, data_idx, &covers, events);
        }
        self.resolve_events(events, h, category, requester_category, data_idx, &covers)
    }

    /// The statements about `h` that apply, or would but for a missing
    /// category (R42: the resolver notes those for `consent_check`), by a
    /// scan of every statement
    fn statements_scanned(
        &self,
        h: Idx,
        category: Option<Idx>,
        requester_category: Option<Idx>,
        data_idx: Idx,
        covers: &[(Idx, Idx)],
        events: &mut Statements,
    ) {
        self.facts.statements_where(
            |key| {
                let holder = match key.holder {
                    Holder::Organisation(o) => o == h,
                    Holder::Category(c) => category.is_none_or(|mine| c == mine),
                };
                let requester_ok = match key.requester {
                    Requester::Every => true,
                    Requester::Category(r) => requester_category.is_none_or(|mine| r == mine),
                };
                let data_ok = match key.data {
                    Data::Every => true,
                    Data::Category(d) => d == data_idx || covers.iter().any(|&(up, _)| up == d),
                };
                holder && requester_ok && data_ok
            },
            events,
        );
    }

    /// The resolver on `events` for holder `h`
    fn resolve_events(
        &self,
        events: &Statements,
        h: Idx,
        holder_category: Option<Idx>,
        requester_category: Option<Idx>,
        data: Idx,
        covers: &[(Idx, Idx)],
    ) -> Resolution {
        resolve(
            events,
            &Question {
                holder: h,
                holder_category,
                requester_category,
                data,
                covers,
                age: self.age,
                at: self.at,
            },
        )
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
        if let Some(map) = self.map {
            return Some(map.holder(c));
        }
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
        if let Some(map) = self.map {
            return map.requester(r);
        }
        self.vocabulary
            .consent()
            .requester_categories()
            .get(usize::from(r))
            .and_then(|name| self.registry.requester_category_index(name))
            .unwrap_or(NONE_NAMED)
    }

    fn data_idx(&self, d: u16) -> Idx {
        if let Some(map) = self.map {
            return map.data(d);
        }
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
