//! TEMPORARY stub of the consent vocabulary (replaced by the real one from
//! `policies/consent.toml` at merge); same API.
#![allow(missing_docs, dead_code)]

use super::ids::{DataCategory, HolderCategory, ProviderType, RequesterCategory};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentVocabulary {
    data: Vec<DataCategory>,
    holders: Vec<HolderCategory>,
    requesters: Vec<RequesterCategory>,
    covers: Vec<(u16, u16)>,
}

const DATA: &[&str] = &["GGC002", "GGC012", "GGC013"];
const HOLDERS: &[&str] = &[
    "huisartsen",
    "apotheken",
    "ziekenhuizen",
    "verpleging_verzorging",
    "laboratoria",
    "ggz",
    "overige_zorg",
];
const REQUESTERS: &[&str] = &[
    "RPZAC001", "RPZAC003", "RPZAC004", "RPZAC005", "RPZAC103", "RPZAC104", "RPZAC200",
];

impl Default for ConsentVocabulary {
    fn default() -> Self {
        Self {
            data: DATA.iter().filter_map(|s| DataCategory::new(s).ok()).collect(),
            holders: HOLDERS.iter().filter_map(|s| HolderCategory::new(s).ok()).collect(),
            requesters: REQUESTERS
                .iter()
                .filter_map(|s| RequesterCategory::new(s).ok())
                .collect(),
            covers: vec![(0, 1), (0, 2)],
        }
    }
}

impl ConsentVocabulary {
    pub fn data_categories(&self) -> &[DataCategory] {
        &self.data
    }
    pub fn data_index(&self, c: &DataCategory) -> Option<u16> {
        self.data.iter().position(|d| d == c).and_then(|i| u16::try_from(i).ok())
    }
    pub fn covers(&self) -> &[(u16, u16)] {
        &self.covers
    }
    pub fn data_of_category(&self, category_position: u16) -> Option<u16> {
        // shipped order: labuitslagen is 10, medicatie 11
        Some(match category_position {
            10 => 1,
            11 => 2,
            _ => 0,
        })
    }
    pub fn holder_categories(&self) -> &[HolderCategory] {
        &self.holders
    }
    pub fn holder_index(&self, c: &HolderCategory) -> Option<u16> {
        self.holders.iter().position(|d| d == c).and_then(|i| u16::try_from(i).ok())
    }
    pub fn requester_categories(&self) -> &[RequesterCategory] {
        &self.requesters
    }
    pub fn requester_index(&self, c: &RequesterCategory) -> Option<u16> {
        self.requesters.iter().position(|d| d == c).and_then(|i| u16::try_from(i).ok())
    }
    pub fn provider(&self, t: &ProviderType) -> Option<(u16, u16)> {
        Some(match t.as_str() {
            "Z3" | "H1" | "K3" | "N6" => (0, 0),
            "J8" | "A1" | "K9" => (1, 3),
            "V4" | "G3" | "V5" | "V6" | "GC" => (2, 5),
            "K4" | "G6" | "H2" => (3, 2),
            "L1" | "B1" | "B2" | "Z5" => (4, 5),
            "G5" | "G7" | "G8" => (5, 1),
            "JGZ" | "B4" | "C3" => (6, 4),
            _ => return None,
        })
    }
}
