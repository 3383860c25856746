//! The state digest (SPEC.md §8, R48, R50): SHA-256 over the registry in a
//! canonical order, by names, never by interned indices.
//!
//! Two registries that applied the same entries hold the same state and
//! give the same digest, however their interners numbered the ids. Hashed,
//! each value length-prefixed and each optional one tagged, so no two
//! states share an encoding:
//!
//! - a version tag and the last applied position;
//! - organisations by id, with URA number and provider type;
//! - practitioners by id, with organisation, role and tasks (in their order);
//! - patients by id, with BSN and date of birth, then their fact entries in
//!   stored order (`(at, arrival)`): kind, each referenced id or code by
//!   name, time, given or withdrawn; then the Mitz entries, grouped by
//!   statement key, the groups in the order of their keys by name, each in
//!   stored order;
//! - records by id, with patient, category, source, holder, module, time
//!   added and time flagged.
//!
//! The table of ids for audit records is not hashed: it follows from the rest.

use sha2::{Digest as _, Sha256};

use super::facts::Ref;
use super::{Entry, Idx, PatientState, Registry};
use crate::model::ids::{
    CareModule, Category, DataCategory, HolderCategory, OrganisationId, ProviderType,
    RequesterCategory, StudyId,
};
use crate::model::vocab::Purpose;

/// The version of the digest's encoding: a change to it changes every digest
const VERSION: &str = "zorg-pdp state digest v1";

/// A SHA-256 fed with unambiguous encodings
struct Feed(Sha256);

impl Feed {
    fn u64(&mut self, n: u64) {
        self.0.update(n.to_be_bytes());
    }

    fn time(&mut self, secs: i64, nanos: u32) {
        self.0.update(secs.to_be_bytes());
        self.0.update(nanos.to_be_bytes());
    }

    fn flag(&mut self, b: bool) {
        self.0.update([u8::from(b)]);
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }

    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.flag(true);
                self.str(s);
            }
            None => self.flag(false),
        }
    }
}

impl Registry {
    /// The state digest: `sha256:` and 64 lowercase hex digits (see the module docs)
    pub(crate) fn state_digest(&self) -> String {
        let mut f = Feed(Sha256::new());
        f.str(VERSION);
        f.u64(self.seq);
        let names = Names::new(self);

        let mut organisations: Vec<(&str, Idx)> = (0..)
            .map_while(|i| Some((self.organisations.value(i)?.as_str(), i)))
            .collect();
        organisations.sort_unstable();
        f.u64(organisations.len() as u64);
        for (id, idx) in organisations {
            f.str(id);
            f.opt(self.ura(idx).map(|u| u.to_string()).as_deref());
            f.opt(self.provider_type(idx).map(ProviderType::as_str));
        }

        let mut practitioners: Vec<_> = self.practitioners.iter().collect();
        practitioners.sort_unstable_by(|a, b| a.0.cmp(b.0));
        f.u64(practitioners.len() as u64);
        for (id, p) in practitioners {
            f.str(id.as_str());
            f.str(p.entity.organisation.as_str());
            f.str(p.entity.role.as_str());
            f.u64(p.entity.tasks.len() as u64);
            for t in &p.entity.tasks {
                f.str(t.as_str());
            }
        }

        let mut patients: Vec<_> = self.patients.iter().collect();
        patients.sort_unstable_by(|a, b| a.0.cmp(b.0));
        f.u64(patients.len() as u64);
        for (id, p) in patients {
            f.str(id.as_str());
            patient(&mut f, &names, p);
        }

        let mut records: Vec<_> = self.records.iter().collect();
        records.sort_unstable_by(|a, b| a.0.cmp(b.0));
        f.u64(records.len() as u64);
        for (id, r) in records {
            f.str(id.as_str());
            f.str(r.patient.as_str());
            f.str(r.category.as_str());
            f.str(r.source.as_str());
            f.opt(
                r.holder
                    .and_then(|h| self.organisation_id(h))
                    .map(OrganisationId::as_str),
            );
            f.opt(
                r.module
                    .and_then(|m| self.module_id(m))
                    .map(CareModule::as_str),
            );
            f.time(r.added_at.unix_seconds(), r.added_at.subsec_nanos());
            match r.flagged_at {
                Some(t) => {
                    f.flag(true);
                    f.time(t.unix_seconds(), t.subsec_nanos());
                }
                None => f.flag(false),
            }
        }
        format!(
            "sha256:{}",
            crate::model::hex::hex(f.0.finalize().as_slice())
        )
    }
}

/// One patient: national fields, facts, Mitz entries
fn patient(f: &mut Feed, names: &Names<'_>, p: &PatientState) {
    f.opt(p.bsn().map(|b| b.to_string()).as_deref());
    f.opt(p.birth_date().map(|b| b.to_string()).as_deref());
    let entries = p.fact_entries();
    f.u64(entries.len() as u64);
    for e in &entries {
        entry(f, names, e);
    }
    // Grouped by statement key (stored order within a key), the groups by
    // name: the indices that order them in memory depend on interning
    let all = p.mitz_entries();
    let mitz: &[Entry] = &all;
    let mut groups: Vec<(Vec<String>, &[Entry])> = Vec::new();
    let mut rest = mitz;
    while let Some(first) = rest.first() {
        let key = first.key.statement();
        let len = rest
            .iter()
            .position(|e| e.key.statement() != key)
            .unwrap_or(rest.len());
        let (group, after) = rest.split_at(len);
        let (kind, refs) = first.key.refs();
        let mut name = vec![kind.to_owned()];
        // The choice (the last place) differs within a group: not part of its name
        name.extend(
            refs.iter()
                .filter(|r| !matches!(r, Ref::Permit(_)))
                .map(|r| names.name(*r)),
        );
        groups.push((name, group));
        rest = after;
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    f.u64(mitz.len() as u64);
    for (_, group) in groups {
        for e in group {
            entry(f, names, e);
        }
    }
}

/// One fact entry, by names
fn entry(f: &mut Feed, names: &Names<'_>, e: &Entry) {
    let (kind, refs) = e.key.refs();
    f.str(kind);
    for r in refs {
        f.str(&names.name(r));
    }
    f.time(e.secs, e.nanos);
    f.flag(e.on);
}

/// The names of a registry's indices
struct Names<'a> {
    registry: &'a Registry,
    /// Practitioner ids by index
    practitioners: Vec<Option<&'a str>>,
}

impl<'a> Names<'a> {
    fn new(registry: &'a Registry) -> Self {
        let mut practitioners = vec![None; registry.practitioners.len()];
        for (id, p) in &registry.practitioners {
            if let Some(slot) = practitioners.get_mut(p.idx as usize) {
                *slot = Some(id.as_str());
            }
        }
        Self {
            registry,
            practitioners,
        }
    }

    /// A reference by name, tagged with what it names (`-` for nothing; an
    /// index without a name, which no applied entry gives, as `?` and the index)
    fn name(&self, r: Ref) -> String {
        let r0 = self.registry;
        let named = |tag: &str, name: Option<&str>, i: u32| match name {
            Some(n) => format!("{tag}:{n}"),
            None => format!("{tag}?{i}"),
        };
        match r {
            Ref::Nothing => "-".to_owned(),
            Ref::Organisation(i) => {
                named("org", r0.organisation_id(i).map(OrganisationId::as_str), i)
            }
            Ref::Practitioner(i) => named(
                "practitioner",
                self.practitioners.get(i as usize).copied().flatten(),
                i,
            ),
            Ref::Category(i) => named("category", r0.categories.value(i).map(Category::as_str), i),
            Ref::Module(i) => named("module", r0.module_id(i).map(CareModule::as_str), i),
            Ref::Study(i) => named("study", r0.studies.value(i).map(StudyId::as_str), i),
            Ref::Purpose(i) => named(
                "purpose",
                Purpose::ALL.get(i as usize).map(|p| p.as_str()),
                i,
            ),
            Ref::HolderCategory(i) => named(
                "holder_category",
                r0.holder_category_name(i).map(HolderCategory::as_str),
                i,
            ),
            Ref::RequesterCategory(i) => named(
                "requester_category",
                r0.requester_category_name(i).map(RequesterCategory::as_str),
                i,
            ),
            Ref::DataCategory(i) => named(
                "data_category",
                r0.data_category_name(i).map(DataCategory::as_str),
                i,
            ),
            Ref::Permit(p) => if p { "permit" } else { "deny" }.to_owned(),
        }
    }
}
