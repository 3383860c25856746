//! The registry as bytes, for the snapshots of a data directory
//! (`docs/durability.md`): its own structures, field by field, little
//! endian, so restoring is a linear read with no parsing of JSON and no
//! replay of entries.
//!
//! The encoding (inside the snapshot's frame, which carries the magic,
//! version, vocabulary hash and checksum):
//!
//! - the last applied position (`u64`);
//! - the table of ids in tag order (`u32` count, then each as a string:
//!   `u32` length and UTF-8 bytes); every entity below names its id by its
//!   tag (`u32`, 1 or more);
//! - organisations in index order: tag, provider type and URA number (each
//!   optional: a `u8` 0 or 1, then the string);
//! - practitioners: tag, index, organisation index, role, tasks (count, strings);
//! - the interners in index order: categories, modules, studies, Mitz data,
//!   holder and requesting categories (count, strings);
//! - patients: tag, BSN and date of birth (optional strings), the fact
//!   entries and the Mitz entries (count, then 29 bytes each: the packed
//!   key `u128`, seconds `i64`, nanoseconds `u32`, on `u8`);
//! - records: tag, the patient's tag, category, source, holder and module
//!   (optional `u32` indices), time added, time flagged (optional).
//!
//! Decoding checks every length against the bytes left and every id against
//! the id rules, so a bad snapshot is an error, never a panic; the frame's
//! checksum catches the rest.

use std::sync::Arc;

use hashbrown::HashMap;
use smol_str::SmolStr;

use super::intern::Interner;
use super::{Entry, Idx, PatientState, PractitionerState, RecordState, Registry};
use crate::model::consent::BirthDate;
use crate::model::entities::Practitioner;
use crate::model::ids::{
    CareModule, Category, DataCategory, HolderCategory, OrganisationId, PatientId, PractitionerId,
    ProviderType, RecordId, RequesterCategory, Role, StudyId, Task,
};
use crate::model::names::{Names, Tag};
use crate::model::national::{Bsn, Ura};
use crate::model::time::Timestamp;
use crate::model::vocab::Source;

/// Bytes of one encoded fact entry
const ENTRY_LEN: usize = 16 + 8 + 4 + 1;

/// Why the bytes of a snapshot are not a registry
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset} of the registry: {what}")]
pub(crate) struct DecodeError {
    /// Where in the encoded registry
    pub(crate) offset: usize,
    /// What is wrong (names the field, never a value)
    pub(crate) what: String,
}

/// Appends little-endian values
struct Out<'a>(&'a mut Vec<u8>);

impl Out<'_> {
    fn u8(&mut self, n: u8) {
        self.0.push(n);
    }
    fn u32(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    fn opt_u32(&mut self, n: Option<u32>) {
        match n {
            Some(n) => {
                self.u8(1);
                self.u32(n);
            }
            None => self.u8(0),
        }
    }
    fn time(&mut self, t: Timestamp) {
        self.0.extend_from_slice(&t.unix_seconds().to_le_bytes());
        self.u32(t.subsec_nanos());
    }
    fn entries(&mut self, entries: &[Entry]) {
        self.len(entries.len());
        self.0.reserve(entries.len() * ENTRY_LEN);
        for e in entries {
            self.0.extend_from_slice(&e.key.bits().to_le_bytes());
            self.0.extend_from_slice(&e.secs.to_le_bytes());
            self.0.extend_from_slice(&e.nanos.to_le_bytes());
            self.0.push(u8::from(e.on));
        }
    }
    fn interner<K: AsRef<str> + std::hash::Hash + Eq + Clone>(&mut self, i: &Interner<K>) {
        self.len(i.len());
        for idx in 0..i.len() {
            let value = Idx::try_from(idx).ok().and_then(|idx| i.value(idx));
            self.str(value.map_or("", AsRef::as_ref));
        }
    }
}

/// Reads what [`Out`] wrote
struct In<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn error(&self, what: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.at,
            what: what.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.at..end)) {
            Some(slice) => {
                self.at += n;
                Ok(slice)
            }
            None => Err(self.error(format!("{what}: the bytes end early"))),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N, what)?;
        <[u8; N]>::try_from(slice).map_err(|_| self.error(what.to_owned()))
    }

    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn i64(&mut self, what: &str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    /// A count of items at least `min_len` bytes each, checked against the bytes left
    fn count(&mut self, what: &str, min_len: usize) -> Result<usize, DecodeError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_len.max(1)) > self.bytes.len() - self.at {
            return Err(self.error(format!(
                "{what}: a count of {n} is more than the bytes left"
            )));
        }
        Ok(n)
    }
    fn str(&mut self, what: &str) -> Result<&'a str, DecodeError> {
        let n = self.u32(what)? as usize;
        let bytes = self.take(n, what)?;
        std::str::from_utf8(bytes).map_err(|_| self.error(format!("{what}: not UTF-8")))
    }
    fn flag(&mut self, what: &str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.error(format!("{what}: flag {b} is neither 0 nor 1"))),
        }
    }
    fn opt_str(&mut self, what: &str) -> Result<Option<&'a str>, DecodeError> {
        if self.flag(what)? {
            self.str(what).map(Some)
        } else {
            Ok(None)
        }
    }
    fn opt_u32(&mut self, what: &str) -> Result<Option<u32>, DecodeError> {
        if self.flag(what)? {
            self.u32(what).map(Some)
        } else {
            Ok(None)
        }
    }
    fn time(&mut self, what: &str) -> Result<Timestamp, DecodeError> {
        let secs = self.i64(what)?;
        let nanos = self.u32(what)?;
        Timestamp::from_unix(secs, nanos).ok_or_else(|| self.error(format!("{what}: not a time")))
    }
    /// A value parsed from a string, its error reduced to the field's name
    fn parse<T, E>(
        &mut self,
        what: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, DecodeError> {
        let s = self.str(what)?;
        parse(s).map_err(|_| self.error(format!("{what}: not valid")))
    }
    fn opt_parse<T, E>(
        &mut self,
        what: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, DecodeError> {
        match self.opt_str(what)? {
            Some(s) => parse(s)
                .map(Some)
                .map_err(|_| self.error(format!("{what}: not valid"))),
            None => Ok(None),
        }
    }
    fn entries(&mut self, what: &str) -> Result<Vec<Entry>, DecodeError> {
        let n = self.count(what, ENTRY_LEN)?;
        let bytes = self.take(n * ENTRY_LEN, what)?;
        let mut entries = Vec::with_capacity(n);
        for chunk in bytes.chunks_exact(ENTRY_LEN) {
            let (key, rest) = chunk.split_at(16);
            let (secs, rest) = rest.split_at(8);
            let (nanos, on) = rest.split_at(4);
            let bad = || DecodeError {
                offset: self.at,
                what: format!("{what}: an entry is malformed"),
            };
            entries.push(Entry {
                key: super::facts::PackedKey::from_bits(u128::from_le_bytes(
                    key.try_into().map_err(|_| bad())?,
                )),
                secs: i64::from_le_bytes(secs.try_into().map_err(|_| bad())?),
                nanos: u32::from_le_bytes(nanos.try_into().map_err(|_| bad())?),
                on: match on {
                    [0] => false,
                    [1] => true,
                    _ => return Err(bad()),
                },
            });
        }
        Ok(entries)
    }
    fn interner<K: std::hash::Hash + Eq + Clone, E>(
        &mut self,
        what: &str,
        make: impl Fn(&str) -> Result<K, E>,
    ) -> Result<Interner<K>, DecodeError> {
        let n = self.count(what, 4)?;
        let mut interner = Interner::default();
        for i in 0..n {
            let value = self.parse(what, &make)?;
            if interner.intern(&value).map(|x| x as usize) != Some(i) {
                return Err(self.error(format!("{what}: a value is there twice")));
            }
        }
        Ok(interner)
    }
}

/// The table of ids, by tag
struct Ids<'a>(&'a [SmolStr]);

impl Ids<'_> {
    fn get(&self, r: &In<'_>, tag: u32, what: &str) -> Result<(Tag, SmolStr), DecodeError> {
        let found = Tag::from_u32(tag)
            .and_then(|t| Some((t, self.0.get(usize::try_from(tag - 1).ok()?)?.clone())));
        found.ok_or_else(|| r.error(format!("{what}: tag {tag} is not in the table of ids")))
    }
}

impl Registry {
    /// Appends the registry's encoding (see the module docs) to `out`
    pub(crate) fn encode_snapshot(&self, out: &mut Vec<u8>) {
        let mut o = Out(out);
        o.u64(self.seq);
        self.names.read(|names| {
            let all = names.all();
            o.len(all.len());
            for id in all {
                o.str(id);
            }
        });
        o.len(self.organisations.len());
        for (i, tag) in self.organisation_tags.iter().enumerate() {
            o.u32(tag.get());
            let idx = Idx::try_from(i).unwrap_or(Idx::MAX);
            o.opt_str(self.provider_type(idx).map(ProviderType::as_str));
            o.opt_str(self.ura(idx).map(|u| u.to_string()).as_deref());
        }
        o.len(self.practitioners.len());
        for p in self.practitioners.values() {
            o.u32(p.tag.get());
            o.u32(p.idx);
            o.u32(p.organisation);
            o.str(p.entity.role.as_str());
            o.len(p.entity.tasks.len());
            for t in &p.entity.tasks {
                o.str(t.as_str());
            }
        }
        o.interner(&self.categories);
        o.interner(&self.modules);
        o.interner(&self.studies);
        o.interner(&self.data_categories);
        o.interner(&self.holder_categories);
        o.interner(&self.requester_categories);
        o.len(self.patients.len());
        for p in self.patients.values() {
            o.u32(p.tag.get());
            o.opt_str(p.bsn().map(|b| b.to_string()).as_deref());
            o.opt_str(p.birth_date().map(|b| b.to_string()).as_deref());
            o.entries(&p.fact_entries());
            o.entries(&p.mitz_entries());
        }
        o.len(self.records.len());
        for r in self.records.values() {
            o.u32(r.tag.get());
            let patient = self.patients.get(&r.patient).map_or(0, |p| p.tag.get());
            o.u32(patient);
            o.str(r.category.as_str());
            o.str(r.source.as_str());
            o.opt_u32(r.holder);
            o.opt_u32(r.module);
            o.time(r.added_at);
            match r.flagged_at {
                Some(t) => {
                    o.u8(1);
                    o.time(t);
                }
                None => o.u8(0),
            }
        }
    }

    /// The registry [`Registry::encode_snapshot`] wrote into `bytes`; its
    /// consent map is empty (the engine syncs it with its vocabulary)
    #[expect(
        clippy::too_many_lines,
        reason = "one table after the other, as encoded"
    )]
    pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<Registry, DecodeError> {
        let mut r = In { bytes, at: 0 };
        let mut registry = Registry {
            seq: r.u64("position")?,
            ..Registry::default()
        };
        let n = r.count("ids", 4)?;
        let mut table = Vec::with_capacity(n);
        for _ in 0..n {
            table.push(SmolStr::new(r.str("ids")?));
        }
        let ids = Ids(&table);

        let n = r.count("organisations", 6)?;
        for _ in 0..n {
            let tag = r.u32("organisation tag")?;
            let (tag, id) = ids.get(&r, tag, "organisation tag")?;
            let id = OrganisationId::new(&id).map_err(|_| r.error("organisation id: not valid"))?;
            let provider = r.opt_parse("provider_type", ProviderType::new)?;
            let ura = r.opt_parse("ura", Ura::new)?;
            let idx = registry.organisations.intern(&id);
            if idx.map(|i| i as usize) != Some(registry.organisation_tags.len()) {
                return Err(r.error("organisations: an id is there twice"));
            }
            if let (Some(ura), Some(idx)) = (ura, idx) {
                registry.uras.insert(ura, idx);
            }
            registry.organisation_tags.push(tag);
            registry.provider_types.push(provider);
            registry.ura_of.push(ura);
        }

        let n = r.count("practitioners", 16)?;
        registry.practitioners.reserve(n);
        for _ in 0..n {
            let tag = r.u32("practitioner tag")?;
            let (tag, id) = ids.get(&r, tag, "practitioner tag")?;
            let id = PractitionerId::new(&id).map_err(|_| r.error("practitioner id: not valid"))?;
            let idx = r.u32("practitioner index")?;
            let organisation = r.u32("practitioner organisation")?;
            let org_id = registry
                .organisations
                .value(organisation)
                .cloned()
                .ok_or_else(|| r.error("practitioner organisation: not an organisation index"))?;
            let role = r.parse("role", Role::new)?;
            let k = r.count("tasks", 4)?;
            let mut tasks = Vec::with_capacity(k);
            for _ in 0..k {
                tasks.push(r.parse("tasks", Task::new)?);
            }
            let state = PractitionerState {
                entity: Practitioner {
                    id: id.clone(),
                    organisation: org_id,
                    role,
                    tasks,
                },
                idx,
                organisation,
                tag,
            };
            if registry.practitioners.insert(id, state).is_some() {
                return Err(r.error("practitioners: an id is there twice"));
            }
        }

        registry.categories = r.interner("categories", Category::new)?;
        registry.modules = r.interner("modules", CareModule::new)?;
        registry.studies = r.interner("studies", StudyId::new)?;
        registry.data_categories = r.interner("data_categories", DataCategory::new)?;
        registry.holder_categories = r.interner("holder_categories", HolderCategory::new)?;
        registry.requester_categories =
            r.interner("requester_categories", RequesterCategory::new)?;

        let n = r.count("patients", 14)?;
        registry.patients.reserve(n);
        let mut patient_of_tag: HashMap<u32, PatientId> = HashMap::with_capacity(n);
        for _ in 0..n {
            let number = r.u32("patient tag")?;
            let (tag, id) = ids.get(&r, number, "patient tag")?;
            let id = PatientId::new(&id).map_err(|_| r.error("patient id: not valid"))?;
            let bsn = r.opt_parse("bsn", Bsn::new)?;
            let birth_date = r.opt_parse("birth_date", BirthDate::parse)?;
            let entries = r.entries("entries")?;
            let mitz = r.entries("mitz")?;
            // Each part in its own order: facts by time, the Mitz entries by
            // statement key (a snapshot of another order is refused)
            let by_time = entries.windows(2).all(|w| match w {
                [a, b] => (a.secs, a.nanos) <= (b.secs, b.nanos),
                _ => true,
            });
            if !by_time || entries.iter().any(Entry::is_mitz) || !mitz.iter().all(Entry::is_mitz) {
                return Err(r.error("entries: not in the registry's order"));
            }
            let facts = u32::try_from(entries.len()).map_err(|_| r.error("entries: too many"))?;
            let block = super::packed::Block::build(bsn, birth_date, &entries, &mitz)
                .ok_or_else(|| r.error("entries: a value past the registry's layout"))?;
            if let Some(bsn) = bsn {
                registry.bsns.insert(bsn, id.clone());
            }
            patient_of_tag.insert(number, id.clone());
            let state = PatientState { tag, facts, block };
            if registry.patients.insert(id, state).is_some() {
                return Err(r.error("patients: an id is there twice"));
            }
        }

        let n = r.count("records", 30)?;
        registry.records.reserve(n);
        for _ in 0..n {
            let tag = r.u32("record tag")?;
            let (tag, id) = ids.get(&r, tag, "record tag")?;
            let id = RecordId::new(&id).map_err(|_| r.error("record id: not valid"))?;
            let patient_tag = r.u32("record patient")?;
            let patient = patient_of_tag
                .get(&patient_tag)
                .cloned()
                .ok_or_else(|| r.error("record patient: not a patient's tag"))?;
            let category = r.parse("record category", Category::new)?;
            let source = r.parse("record source", |s| Source::from_name(s).ok_or(()))?;
            let holder = r.opt_u32("record holder")?;
            let module = r.opt_u32("record module")?;
            let added_at = r.time("record added")?;
            let flagged_at = if r.flag("record flagged")? {
                Some(r.time("record flagged")?)
            } else {
                None
            };
            let state = RecordState {
                patient,
                category,
                source,
                holder,
                module,
                added_at,
                flagged_at,
                tag,
            };
            if registry.records.insert(id, state).is_some() {
                return Err(r.error("records: an id is there twice"));
            }
        }
        if r.at != bytes.len() {
            return Err(r.error(format!("{} bytes after the records", bytes.len() - r.at)));
        }
        registry.names = Arc::new(Names::from_ids(table));
        Ok(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entities::{Organisation, Patient};
    use crate::model::event::Event;

    #[test]
    fn a_registry_survives_its_encoding_and_a_cut_one_is_an_error() {
        let policies = crate::policy::Policies::shipped().unwrap();
        let v = policies.vocabulary();
        let mut r = Registry::new();
        let mut org = Organisation::new(OrganisationId::new("zh").unwrap());
        org.ura = Some(Ura::new("12345678").unwrap());
        org.provider_type = Some(ProviderType::new("V4").unwrap());
        r.register_organisation(&org).unwrap();
        let mut patient = Patient::new(PatientId::new("c1").unwrap());
        patient.bsn = Some(Bsn::new("111222333").unwrap());
        patient.birth_date = Some(BirthDate::parse("2012-03-04").unwrap());
        r.register_patient(&patient).unwrap();
        let e = Event::from_json(
            r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"zh"}"#,
        )
        .unwrap();
        r.apply(&e, v).unwrap();
        let e = Event::from_json(
            r#"{"at":"2026-01-10T09:00:00Z","type":"record_added","record":"r1","patient":"c1",
                "category":"medicatie","source":"dossier","holder":"zh"}"#,
        )
        .unwrap();
        r.apply(&e, v).unwrap();
        let mut bytes = Vec::new();
        r.encode_snapshot(&mut bytes);
        let back = Registry::decode_snapshot(&bytes).unwrap();
        assert_eq!(back.state_digest(), r.state_digest());
        let mut again = Vec::new();
        back.encode_snapshot(&mut again);
        assert_eq!(again, bytes);
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                Registry::decode_snapshot(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let e = Registry::decode_snapshot(&longer).err().unwrap();
        assert!(e.to_string().contains("after the records"), "{e}");
    }
}
