//! The consent vocabulary the loaded policies declare (SPEC.md §7.2): the
//! Mitz data categories and which covers which, the data category of each
//! dashboard category, the holder categories (each with the requesting
//! category its organisations ask as), the requesting categories, and the
//! provider-type table.
//!
//! Every code is interned by its position in the declaring file, as a `u16`
//! index, so the resolver compares small integers. The vocabulary is
//! read-only once built; `policies/consent.toml` declares the shipped one
//! (`docs/consent-vocabulary.md`).

use hashbrown::HashMap;

use super::ids::{DataCategory, HolderCategory, ProviderType, RequesterCategory};

/// The consent vocabulary of a policy set (SPEC.md §7.2)
///
/// Built by the policy loader from `consent.toml` (checked there: every code
/// a valid id, declared once, every reference declared); hosts read it
/// through [`crate::Vocabulary::consent`]. The [`Default`] is empty: no data,
/// holder or requesting categories, and no provider type belongs to a
/// category.
///
/// Indices are positions: a data category's index is its position in
/// [`ConsentVocabulary::data_categories`], a holder category's in
/// [`ConsentVocabulary::holder_categories`], a requesting category's in
/// [`ConsentVocabulary::requester_categories`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentVocabulary {
    data: Vec<DataCategory>,
    data_names: Vec<String>,
    data_index: HashMap<DataCategory, u16>,
    covers: Vec<(u16, u16)>,
    /// By a dashboard category's position in `Vocabulary::categories()`
    category_data: Vec<u16>,
    holders: Vec<HolderCategory>,
    holder_names: Vec<String>,
    /// By holder index: the requesting category its organisations ask as
    holder_requester: Vec<u16>,
    /// By holder index: its provider types, as listed
    holder_types: Vec<Vec<ProviderType>>,
    holder_index: HashMap<HolderCategory, u16>,
    requesters: Vec<RequesterCategory>,
    requester_names: Vec<String>,
    requester_index: HashMap<RequesterCategory, u16>,
    /// Provider type → (holder index, requester index)
    providers: HashMap<ProviderType, (u16, u16)>,
    /// Which construction this is (kept by clones), so that the registry
    /// can tell whether its table of this vocabulary's indices is current
    generation: Generation,
}

/// A number no other [`ConsentVocabulary::new`] in this process gave; it
/// compares equal to every other, so that two vocabularies of the same
/// content are equal
#[derive(Debug, Clone, Copy, Default)]
struct Generation(u64);

impl PartialEq for Generation {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Generation {}

impl Generation {
    fn next() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// One data category as declared: its code, its display name, and the
/// indices of the data categories it covers
#[derive(Debug, Clone)]
pub(crate) struct DataEntry {
    pub(crate) code: DataCategory,
    pub(crate) name: String,
    pub(crate) covers: Vec<u16>,
}

/// One holder category as declared: its id, its display name, the index of
/// the requesting category it asks as, and its provider types
#[derive(Debug, Clone)]
pub(crate) struct HolderEntry {
    pub(crate) code: HolderCategory,
    pub(crate) name: String,
    pub(crate) requester: u16,
    pub(crate) provider_types: Vec<ProviderType>,
}

/// One requesting category as declared: its code and display name
#[derive(Debug, Clone)]
pub(crate) struct RequesterEntry {
    pub(crate) code: RequesterCategory,
    pub(crate) name: String,
}

/// The position of each value; positions past `u16::MAX` are not indexed
/// (the loader refuses more entries than that)
fn index_of<T: Clone + Eq + std::hash::Hash>(values: &[T]) -> HashMap<T, u16> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((v.clone(), u16::try_from(i).ok()?)))
        .collect()
}

impl ConsentVocabulary {
    /// A vocabulary from checked parts: every index in range, every code
    /// once, each provider type in one holder category at most (the policy
    /// loader checks all of it and reports each breach at its place)
    ///
    /// `category_data` is indexed by a dashboard category's position in
    /// `Vocabulary::categories()`. A provider type listed twice keeps its
    /// first holder category.
    pub(crate) fn new(
        data: Vec<DataEntry>,
        category_data: Vec<u16>,
        holders: Vec<HolderEntry>,
        requesters: Vec<RequesterEntry>,
    ) -> Self {
        let mut covers = Vec::new();
        for (i, d) in data.iter().enumerate() {
            if let Ok(i) = u16::try_from(i) {
                covers.extend(d.covers.iter().map(|&c| (i, c)));
            }
        }
        let (data, data_names): (Vec<_>, Vec<_>) =
            data.into_iter().map(|d| (d.code, d.name)).unzip();
        let (requesters, requester_names): (Vec<_>, Vec<_>) =
            requesters.into_iter().map(|r| (r.code, r.name)).unzip();
        let mut providers = HashMap::new();
        for (i, h) in holders.iter().enumerate() {
            let Ok(i) = u16::try_from(i) else { continue };
            for t in &h.provider_types {
                providers.entry(t.clone()).or_insert((i, h.requester));
            }
        }
        let mut holder_codes = Vec::with_capacity(holders.len());
        let mut holder_names = Vec::with_capacity(holders.len());
        let mut holder_requester = Vec::with_capacity(holders.len());
        let mut holder_types = Vec::with_capacity(holders.len());
        for h in holders {
            holder_codes.push(h.code);
            holder_names.push(h.name);
            holder_requester.push(h.requester);
            holder_types.push(h.provider_types);
        }
        Self {
            data_index: index_of(&data),
            data,
            data_names,
            covers,
            category_data,
            holder_index: index_of(&holder_codes),
            holders: holder_codes,
            holder_names,
            holder_requester,
            holder_types,
            requester_index: index_of(&requesters),
            requesters,
            requester_names,
            providers,
            generation: Generation::next(),
        }
    }

    /// Which construction this vocabulary is: equal for it and its clones,
    /// different for every other one built in this process (0 for the empty
    /// default)
    pub(crate) fn generation(&self) -> u64 {
        self.generation.0
    }

    /// The Mitz data categories, in the order declared (an index is a
    /// position here)
    pub fn data_categories(&self) -> &[DataCategory] {
        &self.data
    }

    /// The index of a data category; `None` when it is not declared
    pub fn data_index(&self, c: &DataCategory) -> Option<u16> {
        self.data_index.get(c).copied()
    }

    /// The display name of data category `i` (`Behandelgegevens`, …)
    pub fn data_name(&self, i: u16) -> Option<&str> {
        self.data_names.get(usize::from(i)).map(String::as_str)
    }

    /// `(covering, covered)` index pairs, as listed (not closed
    /// transitively): a permit for the covering category answers yes for
    /// the covered one (SPEC.md §7.2)
    pub fn covers(&self) -> &[(u16, u16)] {
        &self.covers
    }

    /// The data category (index) of a dashboard category, by the
    /// category's position in [`crate::Vocabulary::categories`] (the
    /// canonical order); `None` past the last category
    pub fn data_of_category(&self, category_position: u16) -> Option<u16> {
        self.category_data
            .get(usize::from(category_position))
            .copied()
    }

    /// The holder categories, in the order declared
    pub fn holder_categories(&self) -> &[HolderCategory] {
        &self.holders
    }

    /// The index of a holder category; `None` when it is not declared
    pub fn holder_index(&self, c: &HolderCategory) -> Option<u16> {
        self.holder_index.get(c).copied()
    }

    /// The display name of holder category `i`
    pub fn holder_name(&self, i: u16) -> Option<&str> {
        self.holder_names.get(usize::from(i)).map(String::as_str)
    }

    /// The requesting category (index) an organisation of holder category
    /// `i` asks as
    pub fn holder_requester(&self, i: u16) -> Option<u16> {
        self.holder_requester.get(usize::from(i)).copied()
    }

    /// The provider types of holder category `i`, as listed
    pub fn holder_provider_types(&self, i: u16) -> Option<&[ProviderType]> {
        self.holder_types.get(usize::from(i)).map(Vec::as_slice)
    }

    /// The requesting categories, in the order declared
    pub fn requester_categories(&self) -> &[RequesterCategory] {
        &self.requesters
    }

    /// The index of a requesting category; `None` when it is not declared
    pub fn requester_index(&self, c: &RequesterCategory) -> Option<u16> {
        self.requester_index.get(c).copied()
    }

    /// The display name of requesting category `i`
    pub fn requester_name(&self, i: u16) -> Option<&str> {
        self.requester_names.get(usize::from(i)).map(String::as_str)
    }

    /// `(holder category index, requesting category index)` of a provider
    /// type; `None` when the table lacks it: such an organisation belongs
    /// to no category (RULES.md R42)
    pub fn provider(&self, t: &ProviderType) -> Option<(u16, u16)> {
        self.providers.get(t).copied()
    }

    /// How many provider types the table maps
    pub fn provider_type_count(&self) -> usize {
        self.providers.len()
    }
}

/// A small vocabulary for unit tests elsewhere in the crate
#[cfg(test)]
pub(crate) fn small_for_tests() -> ConsentVocabulary {
    tests::small()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn small() -> ConsentVocabulary {
        let data = |code: &str, name: &str, covers: Vec<u16>| DataEntry {
            code: DataCategory::new(code).unwrap(),
            name: name.to_owned(),
            covers,
        };
        ConsentVocabulary::new(
            vec![
                data("GGC002", "Behandelgegevens", vec![1]),
                data("GGC013", "Medicatie", vec![]),
            ],
            vec![0, 1, 0],
            vec![
                HolderEntry {
                    code: HolderCategory::new("huisartsen").unwrap(),
                    name: "Huisartsen".to_owned(),
                    requester: 1,
                    provider_types: vec![ProviderType::new("Z3").unwrap()],
                },
                HolderEntry {
                    code: HolderCategory::new("apotheken").unwrap(),
                    name: "Apotheken".to_owned(),
                    requester: 0,
                    provider_types: vec![
                        ProviderType::new("J8").unwrap(),
                        ProviderType::new("Z3").unwrap(),
                    ],
                },
            ],
            vec![
                RequesterEntry {
                    code: RequesterCategory::new("RPZAC005").unwrap(),
                    name: "Apotheken".to_owned(),
                },
                RequesterEntry {
                    code: RequesterCategory::new("RPZAC001").unwrap(),
                    name: "Huisartsen".to_owned(),
                },
            ],
        )
    }

    #[test]
    fn codes_are_interned_by_position() {
        let v = small();
        let ggc013 = DataCategory::new("GGC013").unwrap();
        assert_eq!(v.data_index(&ggc013), Some(1));
        assert_eq!(v.data_categories()[1], ggc013);
        assert_eq!(v.data_name(0), Some("Behandelgegevens"));
        assert_eq!(v.data_name(2), None);
        assert_eq!(v.covers(), &[(0, 1)]);
        assert_eq!(v.data_of_category(1), Some(1));
        assert_eq!(v.data_of_category(3), None);
        let apotheken = HolderCategory::new("apotheken").unwrap();
        assert_eq!(v.holder_index(&apotheken), Some(1));
        assert_eq!(v.holder_name(1), Some("Apotheken"));
        assert_eq!(v.holder_requester(0), Some(1));
        assert_eq!(v.holder_provider_types(1).map(<[_]>::len), Some(2));
        let rpzac001 = RequesterCategory::new("RPZAC001").unwrap();
        assert_eq!(v.requester_index(&rpzac001), Some(1));
        assert_eq!(v.requester_name(0), Some("Apotheken"));
        assert_eq!(v.provider(&ProviderType::new("J8").unwrap()), Some((1, 0)));
        // A type listed twice keeps its first holder category (the loader refuses it)
        assert_eq!(v.provider(&ProviderType::new("Z3").unwrap()), Some((0, 1)));
        assert_eq!(v.provider(&ProviderType::new("V4").unwrap()), None);
        assert_eq!(v.provider_type_count(), 2);
    }

    #[test]
    fn the_default_is_empty() {
        let v = ConsentVocabulary::default();
        assert!(v.data_categories().is_empty() && v.covers().is_empty());
        assert_eq!(v.data_of_category(0), None);
        assert_eq!(v.provider(&ProviderType::new("Z3").unwrap()), None);
        assert_eq!(v.holder_requester(0), None);
    }
}
