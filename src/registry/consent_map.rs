//! The consent vocabulary's indices translated into the registry's, kept
//! beside the facts so that a decision with a Mitz picture hashes no code
//! (SPEC.md §7.2: the vocabulary numbers its codes by position; the
//! registry interns the codes events name, in their order).

use crate::model::consent_vocab::ConsentVocabulary;

use super::{Idx, Registry};

/// An index no event gave: a code the vocabulary knows but no statement
/// names, so no statement applies through it
pub(crate) const NONE_NAMED: Idx = Idx::MAX;

/// The table for one consent vocabulary (by its generation)
#[derive(Debug, Clone, Default)]
pub(crate) struct ConsentMap {
    /// The vocabulary's generation (0: none yet)
    generation: u64,
    /// By organisation index: its (holder, requesting) category as
    /// vocabulary indices; `None` without a mapped provider type (R42)
    organisations: Vec<Option<(u16, u16)>>,
    /// By vocabulary index: the registry's index of the code, or [`NONE_NAMED`]
    holders: Vec<Idx>,
    requesters: Vec<Idx>,
    data: Vec<Idx>,
    /// The interners' lengths the code tables were made at
    interned: (usize, usize, usize),
}

impl ConsentMap {
    /// The (holder, requesting) category of organisation `org`, vocabulary indices
    pub(crate) fn organisation(&self, org: Idx) -> Option<(u16, u16)> {
        self.organisations
            .get(usize::try_from(org).ok()?)
            .copied()
            .flatten()
    }

    /// The registry index of holder category `c` (a vocabulary index)
    pub(crate) fn holder(&self, c: u16) -> Idx {
        self.holders
            .get(usize::from(c))
            .copied()
            .unwrap_or(NONE_NAMED)
    }

    /// The registry index of requesting category `r`
    pub(crate) fn requester(&self, r: u16) -> Idx {
        self.requesters
            .get(usize::from(r))
            .copied()
            .unwrap_or(NONE_NAMED)
    }

    /// The registry index of data category `d`
    pub(crate) fn data(&self, d: u16) -> Idx {
        self.data.get(usize::from(d)).copied().unwrap_or(NONE_NAMED)
    }
}

impl Registry {
    /// The table for `vocabulary`, when it is current (else the caller
    /// translates code by code)
    pub(crate) fn consent_map(&self, vocabulary: &ConsentVocabulary) -> Option<&ConsentMap> {
        let map = &self.consent_map;
        (map.generation != 0
            && map.generation == vocabulary.generation()
            && map.organisations.len() == self.provider_types.len()
            && map.interned == self.interned_lens())
        .then_some(map)
    }

    fn interned_lens(&self) -> (usize, usize, usize) {
        (
            self.holder_categories.len(),
            self.requester_categories.len(),
            self.data_categories.len(),
        )
    }

    /// Brings the table up to date with `vocabulary` and the registry: after
    /// every change of entities, events or policies (cheap when nothing the
    /// table holds changed)
    pub(crate) fn sync_consent_map(&mut self, vocabulary: &ConsentVocabulary) {
        let fresh = self.consent_map.generation != vocabulary.generation();
        if fresh {
            self.consent_map.organisations.clear();
            self.consent_map.generation = vocabulary.generation();
        }
        let known = self.consent_map.organisations.len();
        for t in self.provider_types.iter().skip(known) {
            let categories = t.as_ref().and_then(|t| vocabulary.provider(t));
            self.consent_map.organisations.push(categories);
        }
        if fresh || self.consent_map.interned != self.interned_lens() {
            self.consent_map.holders = vocabulary
                .holder_categories()
                .iter()
                .map(|c| self.holder_categories.get(c).unwrap_or(NONE_NAMED))
                .collect();
            self.consent_map.requesters = vocabulary
                .requester_categories()
                .iter()
                .map(|c| self.requester_categories.get(c).unwrap_or(NONE_NAMED))
                .collect();
            self.consent_map.data = vocabulary
                .data_categories()
                .iter()
                .map(|c| self.data_categories.get(c).unwrap_or(NONE_NAMED))
                .collect();
            self.consent_map.interned = self.interned_lens();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::consent_vocab::small_for_tests;
    use crate::model::entities::Organisation;
    use crate::model::ids::{OrganisationId, ProviderType};

    #[test]
    fn the_table_follows_the_registry_and_the_vocabulary() {
        let vocabulary = small_for_tests();
        let consent = &vocabulary;
        let mut r = Registry::new();
        let mut org = Organisation::new(OrganisationId::new("zh").unwrap());
        org.provider_type = Some(ProviderType::new("Z3").unwrap());
        r.register_organisation(&org).unwrap();
        assert!(r.consent_map(consent).is_none(), "not made yet");
        r.sync_consent_map(consent);
        let map = r.consent_map(consent).unwrap();
        let zh = r.organisation_index(&org.id).unwrap();
        assert_eq!(
            map.organisation(zh),
            consent.provider(&ProviderType::new("Z3").unwrap())
        );
        // No event named a code yet
        assert_eq!(map.data(0), NONE_NAMED);
        // A new organisation makes the table stale until it is synced
        r.register_organisation(&Organisation::new(OrganisationId::new("x").unwrap()))
            .unwrap();
        assert!(r.consent_map(consent).is_none());
        r.sync_consent_map(consent);
        let x = r
            .organisation_index(&OrganisationId::new("x").unwrap())
            .unwrap();
        assert_eq!(r.consent_map(consent).unwrap().organisation(x), None);
        // Another vocabulary (even of the same content) is another table
        let other = small_for_tests();
        assert!(r.consent_map(&other).is_none());
    }
}
