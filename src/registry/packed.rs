//! One patient's facts in one allocation of 32-bit words (docs/facts.md).
//!
//! ```text
//! [header] [bsn]? [birth date]? [fact entries: 5 words each] [Mitz holders: 1 word each] [Mitz entries: 3 words each]
//! ```
//!
//! - the header: the number of Mitz holders (bits 0–8), whether a BSN
//!   (bit 9) and a date of birth (bit 10) follow; the number of fact
//!   entries is in [`super::PatientState`] beside the block;
//! - a fact entry (20 bytes): the seconds since `0001-01-01T00:00:00Z` (39
//!   bits, years 0001–9999), the kind (4 bits), given or withdrawn (1 bit),
//!   the third index (20 bits: only a party consent's purpose has one), the
//!   nanoseconds, the first and second index; sorted by `(at, arrival)`;
//! - the Mitz holders: the packed holders ([`super::MitzHolderIdx::packed`])
//!   the Mitz entries name, ascending, so that an entry names its holder by
//!   its place (8 bits);
//! - a Mitz entry (12 bytes): the seconds (39 bits), the data category, the
//!   requesting category and the holder's place (8 bits each), recorded or cleared (1
//!   bit), the nanoseconds, permit (1 bit) and whether it is a
//!   `mitz_choices_confirmed` (1 bit); sorted by (confirmed, holder,
//!   requester, data), then `(at, arrival)`: the order of the statement keys.
//!
//! The block is rebuilt at its exact length on every insert: a patient's
//! events arrive a few at a time, and a decision reads a block that has no
//! spare capacity and one pointer to follow. Every value a block can hold is
//! checked before an event changes anything ([`Block::fits`]).

use super::Idx;
use super::facts::{FactKey, PackedKey};
use crate::model::consent::BirthDate;
use crate::model::national::Bsn;
use crate::model::time::Timestamp;

/// Words of one fact entry
pub(super) const FACT_WORDS: usize = 5;
/// Words of one Mitz entry
pub(super) const MITZ_WORDS: usize = 3;
/// The most Mitz holders one patient's entries can name
pub(super) const MAX_HOLDERS: usize = 256;
/// The most Mitz requesting or data categories the registry can intern
pub(crate) const MAX_MITZ_CODES: usize = 256;
/// The largest third index of a fact entry (a purpose's number)
const MAX_C: u32 = (1 << 20) - 1;

/// Seconds since the Unix epoch of the earliest time
const MIN_SECS: i64 = Timestamp::MIN.unix_seconds();
/// The 39 bits of the seconds
const SECS_MASK: u64 = (1 << 39) - 1;

const HAS_BSN: u32 = 1 << 9;
const HAS_BIRTH: u32 = 1 << 10;
const HOLDERS_MASK: u32 = (1 << 9) - 1;

/// The kind numbers of the Mitz keys (see `FactKind`)
const KIND_MITZ: u32 = 14;
const KIND_MITZ_CONFIRMED: u32 = 15;

/// One timed fact, unpacked: what snapshots, the digest and the questions
/// read
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(super) key: PackedKey,
    pub(super) secs: i64,
    pub(super) nanos: u32,
    /// Given/started/recorded (`true`) or withdrawn/ended/deleted (`false`)
    pub(super) on: bool,
}

impl Entry {
    /// The entry of `key` changed (`on`: given) at `at`
    pub(super) fn new(at: Timestamp, key: FactKey, on: bool) -> Self {
        Self {
            key: key.pack(),
            secs: at.unix_seconds(),
            nanos: at.subsec_nanos(),
            on,
        }
    }

    /// Whether it is at or before `t`
    #[cfg(test)]
    pub(super) fn not_after(&self, t: Timestamp) -> bool {
        (self.secs, self.nanos) <= (t.unix_seconds(), t.subsec_nanos())
    }

    /// Whether it is kept with the Mitz entries
    pub(super) fn is_mitz(&self) -> bool {
        let kind = self.key.bits() >> 96;
        kind == u128::from(KIND_MITZ) || kind == u128::from(KIND_MITZ_CONFIRMED)
    }

    fn secs_offset(&self) -> Option<u64> {
        let off = self.secs.checked_sub(MIN_SECS)?;
        u64::try_from(off).ok().filter(|&o| o <= SECS_MASK)
    }
}

/// The parts of a packed key
fn parts(key: PackedKey) -> (u32, u32, u32, u32) {
    let bits = key.bits();
    let word = |shift: u32| u32::try_from((bits >> shift) & 0xffff_ffff).unwrap_or(u32::MAX);
    (word(96), word(64), word(32), word(0))
}

/// A time as (seconds offset, nanoseconds): the order of times
pub(super) fn time_order(t: Timestamp) -> (u64, u32) {
    let off = t.unix_seconds().saturating_sub(MIN_SECS);
    (u64::try_from(off).unwrap_or(0), t.subsec_nanos())
}

/// A fact entry's words, or `None` when a value does not fit
fn pack_fact(e: &Entry) -> Option<[u32; FACT_WORDS]> {
    let (kind, a, b, c) = parts(e.key);
    if kind >= KIND_MITZ || c > MAX_C || e.nanos >= 1_000_000_000 {
        return None;
    }
    let off = e.secs_offset()?;
    let low = u32::try_from(off & 0xffff_ffff).ok()?;
    let high = u32::try_from(off >> 32).ok()?;
    Some([
        low,
        high | kind << 7 | u32::from(e.on) << 11 | c << 12,
        e.nanos,
        a,
        b,
    ])
}

/// The seconds of a packed entry's first two words
fn secs_of(low: u32, high: u32) -> i64 {
    let off = u64::from(low) | u64::from(high & 0x7f) << 32;
    i64::try_from(off).unwrap_or(0).saturating_add(MIN_SECS)
}

/// A fact entry from its words
fn unpack_fact(w: &[u32]) -> Entry {
    let get = |i: usize| w.get(i).copied().unwrap_or(0);
    let (w0, w1, w2, w3, w4) = (get(0), get(1), get(2), get(3), get(4));
    let kind = (w1 >> 7) & 0xf;
    let c = w1 >> 12;
    Entry {
        key: PackedKey::from_bits(
            u128::from(kind) << 96 | u128::from(w3) << 64 | u128::from(w4) << 32 | u128::from(c),
        ),
        secs: secs_of(w0, w1),
        nanos: w2,
        on: w1 & (1 << 11) != 0,
    }
}

/// The words of a fact entry's key, for comparing packed entries with
/// it: word 1 under [`FACT_KEY_MASK`], words 3 and 4
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FactMatch {
    hi: u32,
    a: u32,
    b: u32,
}

/// The key bits of a fact entry's word 1: kind and third index
const FACT_KEY_MASK: u32 = !0xfff | 0xf << 7;
/// The kind bits of a fact entry's word 1
const FACT_KIND_MASK: u32 = 0xf << 7;

impl FactMatch {
    /// The packed form of `key` (a key that is not a fact entry's matches none)
    pub(super) fn of(key: PackedKey) -> Self {
        let (kind, a, b, c) = parts(key);
        if kind >= KIND_MITZ || c > MAX_C {
            // Word 1 of a fact entry never has every key bit set with kind 15
            return Self {
                hi: FACT_KEY_MASK,
                a,
                b,
            };
        }
        Self {
            hi: kind << 7 | c << 12,
            a,
            b,
        }
    }

    /// Whether packed entry `w` has this key
    pub(super) fn matches(self, w: &[u32]) -> bool {
        match w {
            [_, w1, _, a, b, ..] => w1 & FACT_KEY_MASK == self.hi && *a == self.a && *b == self.b,
            _ => false,
        }
    }
}

/// Whether packed fact entry `w` is of kind `kind` (a `FactKind` number)
pub(super) fn fact_is(w: &[u32], kind: u32) -> bool {
    w.get(1).is_some_and(|w1| w1 & FACT_KIND_MASK == kind << 7)
}

/// Whether packed fact entry `w` is given (on)
pub(super) fn fact_on(w: &[u32]) -> bool {
    w.get(1).is_some_and(|w1| w1 & (1 << 11) != 0)
}

/// The first index of packed fact entry `w`
pub(super) fn fact_a(w: &[u32]) -> u32 {
    w.get(3).copied().unwrap_or(0)
}

/// The time order of a packed fact or Mitz entry
pub(super) fn entry_time(w: &[u32]) -> (u64, u32) {
    let get = |i: usize| w.get(i).copied().unwrap_or(0);
    let nanos = if w.len() == MITZ_WORDS {
        get(2) & 0x3fff_ffff
    } else {
        get(2)
    };
    (u64::from(get(0)) | u64::from(get(1) & 0x7f) << 32, nanos)
}

/// The time of a packed fact or Mitz entry
pub(super) fn entry_at(w: &[u32]) -> Timestamp {
    let (off, nanos) = entry_time(w);
    let secs = i64::try_from(off).unwrap_or(0).saturating_add(MIN_SECS);
    Timestamp::from_unix(secs, nanos).unwrap_or(Timestamp::MIN)
}

/// The statement order of a packed Mitz entry: confirmed, holder place,
/// requester, data
pub(super) fn mitz_key(w: &[u32]) -> u32 {
    let (w1, w2) = (
        w.get(1).copied().unwrap_or(0),
        w.get(2).copied().unwrap_or(0),
    );
    (w2 >> 31) << 24 | (w1 >> 7) & 0xff_ffff
}

/// The statement order of a Mitz choice at holder place `slot`
pub(super) fn mitz_choice_key(slot: u32, requester: u32, data: u32) -> u32 {
    slot << 16 | requester << 8 | data
}

/// The statement order of the confirmations
pub(super) const MITZ_CONFIRMED_KEY: u32 = 1 << 24;

/// The parts of a packed Mitz choice: (holder place, requester, data,
/// permit, recorded)
pub(super) fn mitz_parts(w: &[u32]) -> (u32, u32, u32, bool, bool) {
    let (w1, w2) = (
        w.get(1).copied().unwrap_or(0),
        w.get(2).copied().unwrap_or(0),
    );
    (
        (w1 >> 23) & 0xff,
        (w1 >> 15) & 0xff,
        (w1 >> 7) & 0xff,
        w2 & (1 << 30) != 0,
        w1 >> 31 != 0,
    )
}

/// A patient's facts, national fields and Mitz entries in one allocation
/// (the layout is in the module's documentation)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Block(Box<[u32]>);

/// The parts of a block, as slices
#[derive(Debug, Clone, Copy)]
pub(super) struct Parts<'a> {
    /// The fact entries, [`FACT_WORDS`] words each
    pub(super) facts: &'a [u32],
    /// The Mitz holders, packed
    pub(super) holders: &'a [u32],
    /// The Mitz entries, [`MITZ_WORDS`] words each
    pub(super) mitz: &'a [u32],
}

impl Block {
    fn header(&self) -> u32 {
        self.0.first().copied().unwrap_or(0)
    }

    /// Reads one word of each of the block's cache lines, so that their
    /// misses are under way, side by side, while the caller does other work
    /// (`black_box` keeps the reads)
    pub(super) fn warm(&self) {
        for word in self.0.iter().step_by(16) {
            std::hint::black_box(*word);
        }
    }

    /// Where the fact entries start
    fn facts_start(&self) -> usize {
        if self.0.is_empty() {
            return 0;
        }
        let h = self.header();
        1 + usize::from(h & HAS_BSN != 0) + usize::from(h & HAS_BIRTH != 0)
    }

    fn holder_count(&self) -> usize {
        (self.header() & HOLDERS_MASK) as usize
    }

    /// The block's parts, with `n` fact entries
    pub(super) fn parts(&self, n: u32) -> Parts<'_> {
        let start = self.facts_start();
        let facts_end = start + n as usize * FACT_WORDS;
        let holders_end = facts_end + self.holder_count();
        Parts {
            facts: self.0.get(start..facts_end).unwrap_or(&[]),
            holders: self.0.get(facts_end..holders_end).unwrap_or(&[]),
            mitz: self.0.get(holders_end..).unwrap_or(&[]),
        }
    }

    /// The BSN, when registered
    pub(super) fn bsn(&self) -> Option<Bsn> {
        if self.header() & HAS_BSN == 0 {
            return None;
        }
        let n = self.0.get(1)?;
        Bsn::new(&format!("{n:09}")).ok()
    }

    /// The date of birth, when registered
    pub(super) fn birth_date(&self) -> Option<BirthDate> {
        let h = self.header();
        if h & HAS_BIRTH == 0 {
            return None;
        }
        let w = self.0.get(1 + usize::from(h & HAS_BSN != 0))?;
        BirthDate::new(w >> 16, (w >> 8) & 0xff, w & 0xff)
    }

    /// Every fact entry, unpacked, in `(at, arrival)` order
    pub(super) fn facts(&self, n: u32) -> Vec<Entry> {
        self.parts(n)
            .facts
            .chunks_exact(FACT_WORDS)
            .map(unpack_fact)
            .collect()
    }

    /// Every Mitz entry, unpacked, in statement-key, then `(at, arrival)` order
    pub(super) fn mitz(&self, n: u32) -> Vec<Entry> {
        let parts = self.parts(n);
        parts
            .mitz
            .chunks_exact(MITZ_WORDS)
            .map(|w| unpack_mitz(parts.holders, w))
            .collect()
    }

    /// A block with these national fields, fact entries (in `(at, arrival)`
    /// order) and Mitz entries (in arrival order within a key and time),
    /// or `None` when a value does not fit
    pub(super) fn build(
        bsn: Option<Bsn>,
        birth: Option<BirthDate>,
        facts: &[Entry],
        mitz: &[Entry],
    ) -> Option<Self> {
        let mut holders: Vec<u32> = Vec::new();
        for e in mitz {
            let (kind, h, _, _) = parts(e.key);
            if kind == KIND_MITZ && !holders.contains(&h) {
                holders.push(h);
            }
        }
        holders.sort_unstable();
        if holders.len() > MAX_HOLDERS {
            return None;
        }
        let mut packed_mitz: Vec<[u32; MITZ_WORDS]> = mitz
            .iter()
            .map(|e| pack_mitz(&holders, e))
            .collect::<Option<_>>()?;
        // Stable: arrival order within a key and time stays
        packed_mitz.sort_by_key(|w| (mitz_key(w), entry_time(w)));
        let mut words = Vec::new();
        let h = u32::try_from(holders.len()).ok()?
            | if bsn.is_some() { HAS_BSN } else { 0 }
            | if birth.is_some() { HAS_BIRTH } else { 0 };
        let empty = facts.is_empty() && mitz.is_empty() && bsn.is_none() && birth.is_none();
        if !empty {
            words.push(h);
        }
        if let Some(b) = bsn {
            words.push(b.to_string().parse().ok()?);
        }
        if let Some(d) = birth {
            words.push(d.year() << 16 | d.month() << 8 | d.day());
        }
        for e in facts {
            words.extend_from_slice(&pack_fact(e)?);
        }
        words.extend_from_slice(&holders);
        for w in &packed_mitz {
            words.extend_from_slice(w);
        }
        Some(Self(words.into_boxed_slice()))
    }

    /// Whether `key`, added to this block, fits: its values within the
    /// bits the layout gives them, and at most [`MAX_HOLDERS`] Mitz holders
    pub(super) fn fits(&self, n: u32, key: FactKey) -> bool {
        let entry = Entry::new(Timestamp::MIN, key, true);
        if !key.is_mitz() {
            return pack_fact(&entry).is_some();
        }
        let (kind, holder, requester, data) = parts(entry.key);
        if kind == KIND_MITZ_CONFIRMED {
            return true;
        }
        let holders = self.parts(n).holders;
        let room = holders.len() < MAX_HOLDERS || holders.binary_search(&holder).is_ok();
        room && (requester as usize) < MAX_MITZ_CODES
            && ((data & 0x7fff_ffff) as usize) < MAX_MITZ_CODES
    }

    /// Inserts fact entry `e` (not a Mitz one) after every fact entry at or
    /// before its time; `n` is the number of fact entries, one more after.
    /// `false` (and nothing changed) when it does not fit
    pub(super) fn insert_fact(&mut self, n: u32, e: &Entry) -> bool {
        let Some(words) = pack_fact(e) else {
            return false;
        };
        let at = (e.secs_offset().unwrap_or(0), e.nanos);
        let mut v = std::mem::take(&mut self.0).into_vec();
        if v.is_empty() {
            v.push(0);
        }
        // Exactly the room needed: the boxed slice below needs no second
        // reallocation, and the allocator can often grow in place
        v.reserve_exact(FACT_WORDS);
        let start = facts_start_of(&v);
        let facts = v.get(start..start + n as usize * FACT_WORDS).unwrap_or(&[]);
        let pos = facts
            .chunks_exact(FACT_WORDS)
            .rev()
            .take_while(|w| entry_time(w) > at)
            .count();
        let at_word = start + (n as usize - pos) * FACT_WORDS;
        v.splice(at_word..at_word, words);
        self.0 = v.into_boxed_slice();
        true
    }

    /// Inserts Mitz entry `e` after every entry of a smaller statement key
    /// and every entry of its own key at or before its time. `false` (and
    /// nothing changed) when it does not fit
    pub(super) fn insert_mitz(&mut self, n: u32, e: &Entry) -> bool {
        let (kind, h, _, _) = parts(e.key);
        let old = self.parts(n).holders;
        let mut holders = old.to_vec();
        let added = match holders.binary_search(&h) {
            Err(place) if kind == KIND_MITZ => {
                if holders.len() >= MAX_HOLDERS {
                    return false;
                }
                holders.insert(place, h);
                Some(place)
            }
            _ => None,
        };
        let Some(words) = pack_mitz(&holders, e) else {
            return false;
        };
        let mut v = std::mem::take(&mut self.0).into_vec();
        if v.is_empty() {
            v.push(0);
        }
        v.reserve_exact(MITZ_WORDS + usize::from(added.is_some()));
        let holders_start = facts_start_of(&v) + n as usize * FACT_WORDS;
        if let Some(place) = added {
            // The later holders move one place up in every entry
            let slot = u32::try_from(place).unwrap_or(u32::MAX);
            let mitz_start = holders_start + holders.len() - 1;
            for w in v
                .get_mut(mitz_start..)
                .unwrap_or(&mut [])
                .chunks_exact_mut(MITZ_WORDS)
            {
                let is_choice = w.get(2).is_some_and(|w2| w2 >> 31 == 0);
                if let Some(w1) = w.get_mut(1)
                    && is_choice
                    && (*w1 >> 23) & 0xff >= slot
                {
                    *w1 += 1 << 23;
                }
            }
            v.insert(holders_start + place, h);
            if let Some(header) = v.first_mut() {
                *header = (*header & !HOLDERS_MASK) | u32::try_from(holders.len()).unwrap_or(0);
            }
        }
        let mitz_start = holders_start + holders.len();
        let order = (mitz_key(&words), entry_time(&words));
        let mitz = v.get(mitz_start..).unwrap_or(&[]);
        let before = mitz
            .chunks_exact(MITZ_WORDS)
            .take_while(|w| (mitz_key(w), entry_time(w)) <= order)
            .count();
        let at = mitz_start + before * MITZ_WORDS;
        v.splice(at..at, words);
        self.0 = v.into_boxed_slice();
        true
    }

    /// The bytes the block holds on the heap
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.len() * 4
    }
}

/// Where the fact entries of a non-empty block's words start
fn facts_start_of(v: &[u32]) -> usize {
    let h = v.first().copied().unwrap_or(0);
    1 + usize::from(h & HAS_BSN != 0) + usize::from(h & HAS_BIRTH != 0)
}

/// A Mitz entry's words with holder places from `holders`
fn pack_mitz(holders: &[u32], e: &Entry) -> Option<[u32; MITZ_WORDS]> {
    let (kind, h, r, d) = parts(e.key);
    let off = e.secs_offset()?;
    if e.nanos >= 1_000_000_000 {
        return None;
    }
    let low = u32::try_from(off & 0xffff_ffff).ok()?;
    let high = u32::try_from(off >> 32).ok()?;
    if kind == KIND_MITZ_CONFIRMED {
        return Some([low, high | u32::from(e.on) << 31, e.nanos | 1 << 31]);
    }
    if kind != KIND_MITZ {
        return None;
    }
    let permit = d >> 31;
    let data = d & 0x7fff_ffff;
    let slot = u32::try_from(holders.binary_search(&h).ok()?).ok()?;
    if slot >= 256 || r >= 256 || data >= 256 {
        return None;
    }
    Some([
        low,
        high | data << 7 | r << 15 | slot << 23 | u32::from(e.on) << 31,
        e.nanos | permit << 30,
    ])
}

/// A Mitz entry from its words and the block's holders
fn unpack_mitz(holders: &[u32], w: &[u32]) -> Entry {
    let (w0, w1, w2) = (
        w.first().copied().unwrap_or(0),
        w.get(1).copied().unwrap_or(0),
        w.get(2).copied().unwrap_or(0),
    );
    let secs = secs_of(w0, w1);
    let nanos = w2 & 0x3fff_ffff;
    let on = w1 >> 31 != 0;
    if w2 >> 31 != 0 {
        return Entry {
            key: FactKey::MitzConfirmed.pack(),
            secs,
            nanos,
            on,
        };
    }
    let (slot, r, d, permit, _) = mitz_parts(w);
    let h = holders.get(slot as usize).copied().unwrap_or(0);
    let d = d | u32::from(permit) << 31;
    Entry {
        key: PackedKey::from_bits(
            u128::from(KIND_MITZ) << 96 | u128::from(h) << 64 | u128::from(r) << 32 | u128::from(d),
        ),
        secs,
        nanos,
        on,
    }
}

/// The index of a Mitz holder place
pub(super) fn holder_at(holders: &[u32], slot: u32) -> Idx {
    holders.get(slot as usize).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Change;
    use crate::registry::MitzHolderIdx;

    fn t(secs: i64, nanos: u32) -> Timestamp {
        Timestamp::from_unix(secs, nanos).unwrap()
    }

    #[test]
    fn a_fact_entry_round_trips_at_the_ends_of_time() {
        for at in [Timestamp::MIN, Timestamp::MAX, t(0, 1), t(-1, 999_999_999)] {
            for key in [
                FactKey::Relationship(u32::MAX),
                FactKey::Referral {
                    from: 7,
                    to: u32::MAX - 1,
                },
                FactKey::PartyConsent {
                    holder: 1,
                    party: 2,
                    purpose: crate::model::vocab::Purpose::ALL
                        [crate::model::vocab::Purpose::ALL.len() - 1],
                },
                FactKey::ReferralObjection {
                    holder: 3,
                    category: Some(9),
                },
            ] {
                for on in [true, false] {
                    let e = Entry::new(at, key, on);
                    let w = pack_fact(&e).unwrap();
                    assert_eq!(unpack_fact(&w), e, "{key:?} at {at}");
                    assert!(FactMatch::of(key.pack()).matches(&w));
                    assert_eq!(entry_at(&w), at);
                }
            }
        }
        let _ = Change::Given;
    }

    #[test]
    fn a_mitz_entry_round_trips() {
        let key = |holder, permit| FactKey::Mitz {
            holder,
            requester: 255,
            data: 255,
            permit,
        };
        let entries = [
            Entry::new(Timestamp::MAX, key(MitzHolderIdx::Category(4), true), true),
            Entry::new(
                Timestamp::MIN,
                key(MitzHolderIdx::Organisation(9), false),
                false,
            ),
            Entry::new(t(5, 6), FactKey::MitzConfirmed, true),
        ];
        let block = Block::build(None, None, &[], &entries).unwrap();
        let back = block.mitz(0);
        assert_eq!(back.len(), 3);
        // By statement key: organisation 9, then category 4, then the confirmation
        assert_eq!(back[0], entries[1]);
        assert_eq!(back[1], entries[0]);
        assert_eq!(back[2], entries[2]);
        assert_eq!(block.heap_bytes(), 4 * (1 + 2 + 3 * MITZ_WORDS));
    }

    #[test]
    fn values_past_the_layout_do_not_fit() {
        let block = Block::default();
        let code = |requester, data| FactKey::Mitz {
            holder: MitzHolderIdx::Organisation(1),
            requester,
            data,
            permit: true,
        };
        assert!(block.fits(0, code(255, 255)));
        assert!(!block.fits(0, code(256, 0)));
        assert!(!block.fits(0, code(0, 256)));
        let holders: Vec<Entry> = (0..256)
            .map(|h| {
                let key = FactKey::Mitz {
                    holder: MitzHolderIdx::Organisation(h),
                    requester: 0,
                    data: 0,
                    permit: true,
                };
                Entry::new(t(1, 0), key, true)
            })
            .collect();
        let full = Block::build(None, None, &[], &holders).unwrap();
        assert!(full.fits(0, code(0, 0)), "a known holder");
        let new = FactKey::Mitz {
            holder: MitzHolderIdx::Organisation(999),
            requester: 0,
            data: 0,
            permit: true,
        };
        assert!(!full.fits(0, new), "a 257th holder");
        let mut grown = full.clone();
        assert!(!grown.insert_mitz(0, &Entry::new(t(2, 0), new, true)));
        assert_eq!(grown, full, "nothing changed");
    }

    #[test]
    fn national_fields_sit_before_the_facts() {
        let bsn = Bsn::new("012345672").ok();
        let birth = BirthDate::new(2010, 2, 28);
        let f = [Entry::new(t(3, 0), FactKey::PgoAccount, true)];
        let block = Block::build(bsn, birth, &f, &[]).unwrap();
        assert_eq!(block.bsn(), bsn);
        assert_eq!(block.birth_date(), birth);
        assert_eq!(block.facts(1), f);
        let mut b = block.clone();
        assert!(b.insert_fact(1, &Entry::new(t(1, 0), FactKey::PgoTransferConsent, true)));
        assert_eq!(b.bsn(), bsn);
        assert_eq!(b.facts(2)[1], f[0]);
    }
}
