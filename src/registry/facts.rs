//! Questions about one patient's timed facts, as of a time `t`.

use smallvec::SmallVec;

use super::Idx;
use super::packed;
use crate::model::consent::{Choice, Data, Holder, Requester, StatementEvent, StatementKey};
use crate::model::time::Timestamp;
use crate::model::vocab::Purpose;

/// The holder of a Mitz choice, interned: an organisation or a holder category
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum MitzHolderIdx {
    /// One organisation
    Organisation(Idx),
    /// A holder category
    Category(Idx),
}

/// The top bit of a packed Mitz holder: a category, not an organisation
const HOLDER_CATEGORY_BIT: u32 = 1 << 31;
/// The top bit of a packed Mitz data category: the choice is a permit
const PERMIT_BIT: u32 = 1 << 31;

/// A patient's consent statements as events, with organisations and
/// categories as registry indices (the resolver's `K`)
pub(crate) type Statements = SmallVec<[StatementEvent<Idx>; 8]>;

/// What a fact is about; the entry's `on` says given or withdrawn
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FactKey {
    /// `treatment_started` / `treatment_ended` of an organisation
    Relationship(Idx),
    /// `dossier_consent_given` / `_withdrawn` for a holder
    DossierConsent(Idx),
    /// `access_requested` by a practitioner
    AccessRequested(Idx),
    /// `referral_sent` from one organisation to another
    Referral { from: Idx, to: Idx },
    /// `referral_objection_recorded` / `_withdrawn` at a holder, for one category or all
    ReferralObjection { holder: Idx, category: Option<Idx> },
    /// `unplanned_care_consent_given` / `_withdrawn` for a holder
    UnplannedCareConsent(Idx),
    /// `pgo_account_created` / `_deleted`
    PgoAccount,
    /// `pgo_transfer_consent_given` / `_withdrawn`
    PgoTransferConsent,
    /// `module_started`
    ModuleStarted(Idx),
    /// `module_storage_consent_given` / `_withdrawn`
    ModuleStorageConsent(Idx),
    /// `module_ownership_accepted` by a practitioner for a module
    Ownership { practitioner: Idx, module: Idx },
    /// `party_consent_given` / `_withdrawn`
    PartyConsent {
        holder: Idx,
        party: Idx,
        purpose: Purpose,
    },
    /// `objection_recorded` / `_withdrawn` for a purpose
    Objection(Purpose),
    /// `research_consent_given` / `_withdrawn` for a study
    ResearchConsent(Idx),
    /// `mitz_choice_recorded` (the entry is on) / `_cleared` (off); the
    /// choice is part of the packed key, the resolver compares the rest
    Mitz {
        holder: MitzHolderIdx,
        requester: Idx,
        data: Idx,
        permit: bool,
    },
    /// `mitz_choices_confirmed`
    MitzConfirmed,
}

/// The kind of a [`FactKey`], the top bits of its [`PackedKey`]: the scans
/// that look for every fact of one kind compare with these, never with a
/// number spelled out
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum FactKind {
    Relationship,
    DossierConsent,
    AccessRequested,
    Referral,
    ReferralObjection,
    UnplannedCareConsent,
    PgoAccount,
    PgoTransferConsent,
    ModuleStarted,
    ModuleStorageConsent,
    Ownership,
    PartyConsent,
    Objection,
    ResearchConsent,
    Mitz,
    MitzConfirmed,
}

impl FactKey {
    /// Whether entries of this key are kept with the Mitz entries
    pub(crate) fn is_mitz(self) -> bool {
        matches!(self, FactKey::Mitz { .. } | FactKey::MitzConfirmed)
    }

    /// The key as one number (kind and up to three indices), so that the
    /// scans over a patient's entries compare integers
    pub(crate) fn pack(self) -> PackedKey {
        use FactKind as K;
        let (kind, a, b, c): (FactKind, u32, u32, u32) = match self {
            FactKey::Relationship(o) => (K::Relationship, o, 0, 0),
            FactKey::DossierConsent(h) => (K::DossierConsent, h, 0, 0),
            FactKey::AccessRequested(p) => (K::AccessRequested, p, 0, 0),
            FactKey::Referral { from, to } => (K::Referral, from, to, 0),
            FactKey::ReferralObjection { holder, category } => (
                K::ReferralObjection,
                holder,
                category.map_or(0, |c| c + 1),
                0,
            ),
            FactKey::UnplannedCareConsent(h) => (K::UnplannedCareConsent, h, 0, 0),
            FactKey::PgoAccount => (K::PgoAccount, 0, 0, 0),
            FactKey::PgoTransferConsent => (K::PgoTransferConsent, 0, 0, 0),
            FactKey::ModuleStarted(m) => (K::ModuleStarted, m, 0, 0),
            FactKey::ModuleStorageConsent(m) => (K::ModuleStorageConsent, m, 0, 0),
            FactKey::Ownership {
                practitioner,
                module,
            } => (K::Ownership, practitioner, module, 0),
            FactKey::PartyConsent {
                holder,
                party,
                purpose,
            } => (K::PartyConsent, holder, party, purpose as u32),
            FactKey::Objection(purpose) => (K::Objection, purpose as u32, 0, 0),
            FactKey::ResearchConsent(s) => (K::ResearchConsent, s, 0, 0),
            FactKey::Mitz {
                holder,
                requester,
                data,
                permit,
            } => {
                let h = holder.packed();
                let d = if permit {
                    data | PERMIT_BIT
                } else {
                    data & !PERMIT_BIT
                };
                (K::Mitz, h, requester, d)
            }
            FactKey::MitzConfirmed => (K::MitzConfirmed, 0, 0, 0),
        };
        PackedKey(
            u128::from(kind as u8) << 96
                | u128::from(a) << 64
                | u128::from(b) << 32
                | u128::from(c),
        )
    }
}

/// A packed [`FactKey`]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PackedKey(u128);

impl PackedKey {
    /// The key as one number, for snapshots
    pub(super) fn bits(self) -> u128 {
        self.0
    }

    /// A key from [`PackedKey::bits`]
    pub(super) fn from_bits(bits: u128) -> Self {
        Self(bits)
    }
    /// The key without a Mitz entry's choice bit: the statement's key
    /// (holder, requester, data), by which the Mitz entries are sorted
    fn statement_key(self) -> u128 {
        if self.is(FactKind::Mitz) {
            self.0 & !u128::from(PERMIT_BIT)
        } else {
            self.0
        }
    }

    fn is(self, kind: FactKind) -> bool {
        self.0 >> 96 == u128::from(kind as u8)
    }
    fn a(self) -> u32 {
        u32::try_from((self.0 >> 64) & 0xffff_ffff).unwrap_or(u32::MAX)
    }
    fn b(self) -> u32 {
        u32::try_from((self.0 >> 32) & 0xffff_ffff).unwrap_or(u32::MAX)
    }
    fn c(self) -> u32 {
        u32::try_from(self.0 & 0xffff_ffff).unwrap_or(u32::MAX)
    }
}

/// What an index in a packed key refers to, for naming it (the state digest)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ref {
    /// Nothing in this place
    Nothing,
    /// An organisation
    Organisation(Idx),
    /// A practitioner
    Practitioner(Idx),
    /// A category (of a referral objection)
    Category(Idx),
    /// A care module
    Module(Idx),
    /// A study
    Study(Idx),
    /// A purpose, by its number in [`Purpose::ALL`]
    Purpose(u32),
    /// A Mitz holder category
    HolderCategory(Idx),
    /// A Mitz requesting category
    RequesterCategory(Idx),
    /// A Mitz data category
    DataCategory(Idx),
    /// A Mitz choice: permit (`true`) or refusal
    Permit(bool),
}

impl PackedKey {
    /// The kind of fact as a name, and what each of its (up to four) places
    /// refers to; the Mitz choice is the last place
    #[expect(clippy::too_many_lines, reason = "one arm per fact kind")]
    pub(super) fn refs(self) -> (&'static str, [Ref; 4]) {
        use FactKind as K;
        use Ref as R;
        let (a, b, c) = (self.a(), self.b(), self.c());
        let none = [R::Nothing; 4];
        let kind = u8::try_from(self.0 >> 96).unwrap_or(u8::MAX);
        let of = |k: K| kind == k as u8;
        if of(K::Relationship) {
            (
                "relationship",
                [R::Organisation(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::DossierConsent) {
            (
                "dossier_consent",
                [R::Organisation(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::AccessRequested) {
            (
                "access_requested",
                [R::Practitioner(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::Referral) {
            (
                "referral",
                [
                    R::Organisation(a),
                    R::Organisation(b),
                    R::Nothing,
                    R::Nothing,
                ],
            )
        } else if of(K::ReferralObjection) {
            let category = b.checked_sub(1).map_or(R::Nothing, R::Category);
            (
                "referral_objection",
                [R::Organisation(a), category, R::Nothing, R::Nothing],
            )
        } else if of(K::UnplannedCareConsent) {
            (
                "unplanned_care_consent",
                [R::Organisation(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::PgoAccount) {
            ("pgo_account", none)
        } else if of(K::PgoTransferConsent) {
            ("pgo_transfer_consent", none)
        } else if of(K::ModuleStarted) {
            (
                "module_started",
                [R::Module(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::ModuleStorageConsent) {
            (
                "module_storage_consent",
                [R::Module(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::Ownership) {
            (
                "ownership",
                [R::Practitioner(a), R::Module(b), R::Nothing, R::Nothing],
            )
        } else if of(K::PartyConsent) {
            (
                "party_consent",
                [
                    R::Organisation(a),
                    R::Organisation(b),
                    R::Purpose(c),
                    R::Nothing,
                ],
            )
        } else if of(K::Objection) {
            (
                "objection",
                [R::Purpose(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::ResearchConsent) {
            (
                "research_consent",
                [R::Study(a), R::Nothing, R::Nothing, R::Nothing],
            )
        } else if of(K::Mitz) {
            let holder = if a & HOLDER_CATEGORY_BIT == 0 {
                R::Organisation(a)
            } else {
                R::HolderCategory(a & !HOLDER_CATEGORY_BIT)
            };
            (
                "mitz",
                [
                    holder,
                    R::RequesterCategory(b),
                    R::DataCategory(c & !PERMIT_BIT),
                    R::Permit(c & PERMIT_BIT != 0),
                ],
            )
        } else if of(K::MitzConfirmed) {
            ("mitz_confirmed", none)
        } else {
            ("unknown", none)
        }
    }

    /// The key without a Mitz entry's choice: entries with the same one
    /// are kept together, in `(at, arrival)` order
    pub(super) fn statement(self) -> u128 {
        self.statement_key()
    }
}

/// The consent statement event of a packed `dossier_consent_*` fact
/// entry (R38: a dossier consent is the statement (holder, every
/// requester, every data category))
fn dossier_statement(w: &[u32]) -> StatementEvent<Idx> {
    let choice = if packed::fact_on(w) {
        Choice::Permit
    } else {
        Choice::Deny
    };
    StatementEvent {
        key: StatementKey::dossier(packed::fact_a(w)),
        choice: Some(choice),
        at: packed::entry_at(w),
    }
}

/// The consent statement event of a packed Mitz entry (`None` for a
/// confirmation), its holder by its place in `holders`
fn mitz_statement(holders: &[u32], w: &[u32]) -> Option<StatementEvent<Idx>> {
    if packed::mitz_key(w) >= packed::MITZ_CONFIRMED_KEY {
        return None;
    }
    let (slot, requester, data, permit, on) = packed::mitz_parts(w);
    let h = packed::holder_at(holders, slot);
    let holder = if h & HOLDER_CATEGORY_BIT == 0 {
        Holder::Organisation(h)
    } else {
        Holder::Category(h & !HOLDER_CATEGORY_BIT)
    };
    let choice = if permit { Choice::Permit } else { Choice::Deny };
    Some(StatementEvent {
        key: StatementKey {
            origin: crate::model::consent::Origin::Mitz,
            holder,
            requester: Requester::Category(requester),
            data: Data::Category(data),
        },
        choice: on.then_some(choice),
        at: packed::entry_at(w),
    })
}

/// One patient's facts with `at <= t`
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatientFacts<'a> {
    /// The packed fact entries with `at <= t`, sorted by `(at, arrival)`,
    /// [`packed::FACT_WORDS`] words each
    seen: &'a [u32],
    /// The holders the Mitz entries name by place, ascending
    holders: &'a [u32],
    /// Every packed Mitz entry (`mitz_choice_*`, `mitz_choices_confirmed`),
    /// at any time, sorted by statement key, then `(at, arrival)`: apart, so
    /// that a patient's full Mitz picture does not lengthen every other
    /// fact's scan, and by key, so that a question reads only the few keys
    /// that can apply
    mitz: &'a [u32],
    /// The time, as the packed entries order times
    order: (u64, u32),
}

impl MitzHolderIdx {
    /// The holder as packed into a Mitz key (for [`PatientFacts::statements_of_keys`])
    pub(crate) fn packed(self) -> u32 {
        match self {
            MitzHolderIdx::Organisation(o) => o & !HOLDER_CATEGORY_BIT,
            MitzHolderIdx::Category(c) => c | HOLDER_CATEGORY_BIT,
        }
    }
}

/// The packed entries of `words` (`size` words each)
fn chunks(words: &[u32], size: usize) -> std::slice::ChunksExact<'_, u32> {
    words.chunks_exact(size)
}

impl<'a> PatientFacts<'a> {
    /// The facts of a patient's block parts as of `t`
    pub(super) fn of(parts: packed::Parts<'a>, t: Timestamp) -> Self {
        let order = packed::time_order(t);
        let all = parts.facts;
        // The entries at or before `t`: most decisions ask after the last
        // one, which the first comparison finds
        let n = all.len() / packed::FACT_WORDS;
        let last_in = |i: usize| {
            all.get(i * packed::FACT_WORDS..(i + 1) * packed::FACT_WORDS)
                .is_some_and(|w| packed::entry_time(w) <= order)
        };
        let seen_n = if n == 0 || last_in(n - 1) {
            n
        } else {
            // Binary search: entries `..lo` are in, `hi..` are out
            let (mut lo, mut hi) = (0, n - 1);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if last_in(mid) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        Self {
            seen: all.get(..seen_n * packed::FACT_WORDS).unwrap_or(&[]),
            holders: parts.holders,
            mitz: parts.mitz,
            order,
        }
    }

    /// The packed fact entries at or before `t`
    fn seen(&self) -> std::slice::ChunksExact<'a, u32> {
        chunks(self.seen, packed::FACT_WORDS)
    }

    /// The packed Mitz entries at or before `t`, by key
    fn mitz_seen(&self) -> impl Iterator<Item = &'a [u32]> + 'a {
        let order = self.order;
        chunks(self.mitz, packed::MITZ_WORDS).filter(move |w| packed::entry_time(w) <= order)
    }

    /// The latest entry for `key` (by time, then arrival)
    fn latest(&self, key: FactKey) -> Option<&'a [u32]> {
        let key = packed::FactMatch::of(key.pack());
        self.seen().rev().find(|w| key.matches(w))
    }

    /// Whether the latest given/withdrawn of `key` is a give
    pub(crate) fn active(&self, key: FactKey) -> bool {
        self.latest(key).is_some_and(packed::fact_on)
    }

    /// Whether any entry for `key` exists (one-off facts: referral, module start, ownership)
    pub(crate) fn exists(&self, key: FactKey) -> bool {
        let key = packed::FactMatch::of(key.pack());
        self.seen().any(|w| key.matches(w))
    }

    /// Whether an entry for `key` with polarity `on` exists at or after `since`
    pub(crate) fn any_since(&self, key: FactKey, on: bool, since: Timestamp) -> bool {
        let key = packed::FactMatch::of(key.pack());
        let since = packed::time_order(since);
        self.seen()
            .any(|w| key.matches(w) && packed::fact_on(w) == on && packed::entry_time(w) >= since)
    }

    /// The start of the current treatment relationship of `org`: the first
    /// start after the last end, or `None` when there is no relationship now
    /// (the decisions read it through [`Self::view`])
    #[cfg(test)]
    pub(crate) fn relationship_start(&self, org: Idx) -> Option<Timestamp> {
        let key = packed::FactMatch::of(FactKey::Relationship(org).pack());
        let mut start = None;
        for w in self.seen().rev().filter(|w| key.matches(w)) {
            if packed::fact_on(w) {
                start = Some(packed::entry_at(w));
            } else {
                break;
            }
        }
        start
    }

    /// requested(p, x): an access request of `practitioner` at or after the
    /// start of the current relationship of `org` (false without one; the
    /// decisions read it through [`Self::view`])
    #[cfg(test)]
    pub(crate) fn requested(&self, practitioner: Idx, org: Idx) -> bool {
        self.relationship_start(org).is_some_and(|start| {
            self.any_since(FactKey::AccessRequested(practitioner), true, start)
        })
    }

    /// The facts a practitioner's `view` of holder `holder` (`None`: no
    /// holder) reads about the practitioner `practitioner` of organisation
    /// `org`, in one pass over the entries: what [`Self::active`],
    /// [`Self::requested`], [`Self::exists`] and [`Self::referral_objection`]
    /// answer one by one (the unit tests hold the two equal)
    pub(crate) fn view(&self, practitioner: Idx, org: Idx, holder: Option<Idx>) -> ViewFacts {
        let relationship = packed::FactMatch::of(FactKey::Relationship(org).pack());
        let request = packed::FactMatch::of(FactKey::AccessRequested(practitioner).pack());
        let h = holder.unwrap_or(u32::MAX);
        let referral = packed::FactMatch::of(FactKey::Referral { from: h, to: org }.pack());
        let unplanned = packed::FactMatch::of(FactKey::UnplannedCareConsent(h).pack());
        let mut out = ViewFacts::default();
        // From the latest entry back: the relationship's latest entry
        // decides `relationship`; the starts before it back to the last end
        // give the current relationship's start
        let mut relationship_seen = false;
        let mut relationship_open = true;
        let mut start: Option<(u64, u32)> = None;
        let mut unplanned_seen = false;
        let mut latest_request: Option<(u64, u32)> = None;
        for w in self.seen().rev() {
            if relationship.matches(w) {
                let on = packed::fact_on(w);
                if !relationship_seen {
                    relationship_seen = true;
                    out.relationship = on;
                }
                if relationship_open {
                    if on {
                        start = Some(packed::entry_time(w));
                    } else {
                        relationship_open = false;
                    }
                }
            } else if request.matches(w) {
                if packed::fact_on(w) {
                    let at = packed::entry_time(w);
                    latest_request = latest_request.max(Some(at));
                }
            } else if holder.is_some() {
                if referral.matches(w) {
                    out.referral = true;
                } else if unplanned.matches(w) {
                    if !unplanned_seen {
                        unplanned_seen = true;
                        out.unplanned_care_consent = packed::fact_on(w);
                    }
                } else if packed::fact_is(w, FactKind::ReferralObjection as u32) {
                    out.any_referral_objection = true;
                }
            }
        }
        out.access_requested = start.is_some_and(|s| latest_request.is_some_and(|r| r >= s));
        out
    }

    /// [`Self::statements_about_into`], returned (for the tests)
    #[cfg(test)]
    pub(crate) fn statements_about(&self, holder: Idx, category: Option<Idx>) -> Statements {
        let mut out = Statements::new();
        self.statements_about_into(holder, category, &mut out);
        out
    }

    /// The consent statement events about `holder` (itself, or its holder
    /// category `category`), in arrival-within-time order, up to `t`, into
    /// `out`: the resolver's input for a question about that holder, in a
    /// buffer of the caller's (the decision path's, on its stack: no copy
    /// of the buffer on return)
    pub(crate) fn statements_about_into(
        &self,
        holder: Idx,
        category: Option<Idx>,
        out: &mut Statements,
    ) {
        self.statements_where(
            |k| match k.holder {
                Holder::Organisation(h) => h == holder,
                Holder::Category(c) => Some(c) == category,
            },
            out,
        );
    }

    /// The consent statement events whose key `keep` accepts, in
    /// arrival-within-time order, up to `t`: every event of a kept key, so
    /// the resolver's "latest of its key" is unchanged
    pub(crate) fn statements_where(
        &self,
        keep: impl Fn(&StatementKey<Idx>) -> bool,
        out: &mut Statements,
    ) {
        out.clear();
        out.extend(self.statement_events().filter(|e| keep(&e.key)));
    }

    /// The consent statements: the dossier consents, then the Mitz entries
    /// (the resolver compares events of one key only, and a dossier consent
    /// and a Mitz choice never share one)
    fn statement_events(&self) -> impl Iterator<Item = StatementEvent<Idx>> + 'a {
        let holders = self.holders;
        self.seen()
            .filter(|w| packed::fact_is(w, FactKind::DossierConsent as u32))
            .map(dossier_statement)
            .chain(
                self.mitz_seen()
                    .filter_map(move |w| mitz_statement(holders, w)),
            )
    }

    /// The consent statement events of holder `holder`'s own dossier
    /// consent and of the Mitz choices with one of `holders` (packed: an
    /// organisation, or a category with its bit), requesting category
    /// `requester` and a data category of `data`, up to `t`, into `out`: the
    /// events of exactly those keys
    pub(crate) fn statements_of_keys(
        &self,
        holder: Idx,
        holders: &[u32],
        requester: Idx,
        data: &[Idx],
        out: &mut Statements,
    ) {
        let dossier = packed::FactMatch::of(FactKey::DossierConsent(holder).pack());
        out.clear();
        out.extend(
            self.seen()
                .filter(|w| dossier.matches(w))
                .map(dossier_statement),
        );
        if requester >= 256 {
            // No Mitz entry names a category past the layout's
            return;
        }
        let order = self.order;
        for &h in holders {
            // The holder's place, then one forward scan to its entries for
            // `requester`, which are adjacent, by data category. Sequential
            // reads let the prefetcher hide the misses: in `perf_report` the
            // scan beat a binary search over the same few dozen entries
            let Ok(slot) = self.holders.binary_search(&h) else {
                continue;
            };
            let slot = u32::try_from(slot).unwrap_or(u32::MAX);
            let first = packed::mitz_choice_key(slot, requester, 0);
            let last = packed::mitz_choice_key(slot, requester, 255);
            let this = self.holders;
            out.extend(
                chunks(self.mitz, packed::MITZ_WORDS)
                    .skip_while(|w| packed::mitz_key(w) < first)
                    .take_while(|w| packed::mitz_key(w) <= last)
                    .filter(|w| {
                        let (_, _, d, _, _) = packed::mitz_parts(w);
                        data.contains(&d) && packed::entry_time(w) <= order
                    })
                    .filter_map(|w| mitz_statement(this, w)),
            );
        }
    }

    /// Every consent statement event of the patient up to `t`, in
    /// arrival-within-time order (overviews and exports)
    pub(crate) fn statements(&self) -> Statements {
        self.statement_events().collect()
    }

    /// Whether the patient has any Mitz event (if not, only the holders' own
    /// consents decide and no category needs looking up), at any time
    pub(crate) fn any_mitz(&self) -> bool {
        // Any at all, also after `t`: without one in force the answers are
        // the holders' own consents' either way, and the length is read
        // without touching the entries
        !self.mitz.is_empty()
    }

    /// The latest `mitz_choices_confirmed` up to `t` (R41)
    pub(crate) fn mitz_confirmed(&self) -> Option<Timestamp> {
        let order = self.order;
        // The confirmations sort last, by time
        chunks(self.mitz, packed::MITZ_WORDS)
            .rev()
            .take_while(|w| packed::mitz_key(w) >= packed::MITZ_CONFIRMED_KEY)
            .find(|w| packed::entry_time(w) <= order)
            .map(packed::entry_at)
    }

    /// Whether the patient has any referral objection (to skip the category lookup)
    pub(crate) fn any_referral_objection(&self) -> bool {
        self.seen()
            .any(|w| packed::fact_is(w, FactKind::ReferralObjection as u32))
    }

    /// Whether an active referral objection of the patient at `holder` covers `category`
    pub(crate) fn referral_objection(&self, holder: Idx, category: Option<Idx>) -> bool {
        self.active(FactKey::ReferralObjection {
            holder,
            category: None,
        }) || category.is_some_and(|c| {
            self.active(FactKey::ReferralObjection {
                holder,
                category: Some(c),
            })
        })
    }

    /// Organisations that ever had a relationship or held a dossier consent
    pub(crate) fn holders(&self) -> smallvec::SmallVec<[Idx; 8]> {
        let mut out = smallvec::SmallVec::new();
        for w in self.seen() {
            if packed::fact_on(w)
                && (packed::fact_is(w, FactKind::Relationship as u32)
                    || packed::fact_is(w, FactKind::DossierConsent as u32))
            {
                let o = packed::fact_a(w);
                if !out.contains(&o) {
                    out.push(o);
                }
            }
        }
        out
    }

    /// Modules started
    pub(crate) fn modules_started(&self) -> smallvec::SmallVec<[Idx; 4]> {
        let mut out = smallvec::SmallVec::new();
        for w in self.seen() {
            if packed::fact_is(w, FactKind::ModuleStarted as u32) {
                let m = packed::fact_a(w);
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }
}

/// What a practitioner's `view` reads of a patient's facts
/// ([`PatientFacts::view`])
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one Boolean fact each, as the policies read them"
)]
pub(crate) struct ViewFacts {
    /// The practitioner's organisation has a relationship
    pub(crate) relationship: bool,
    /// requested(p, o)
    pub(crate) access_requested: bool,
    /// A referral from the holder to the organisation
    pub(crate) referral: bool,
    /// The unplanned-care consent for the holder
    pub(crate) unplanned_care_consent: bool,
    /// Any referral objection at all (the category lookup is needed)
    pub(crate) any_referral_objection: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::packed::{Block, Entry};

    /// An entry at second `at`
    fn e(at: i64, key: FactKey, on: bool) -> Entry {
        Entry::new(t(at), key, on)
    }

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix(secs, 0).unwrap()
    }

    /// A patient's block after entries arrived in this order
    struct Patient {
        block: Block,
        n: u32,
    }

    impl Patient {
        fn arriving(entries: &[Entry]) -> Self {
            let mut p = Self {
                block: Block::default(),
                n: 0,
            };
            for x in entries {
                p.add(x);
            }
            p
        }
        fn add(&mut self, x: &Entry) {
            if x.is_mitz() {
                assert!(self.block.insert_mitz(self.n, x));
            } else {
                assert!(self.block.insert_fact(self.n, x));
                self.n += 1;
            }
        }
        fn at(&self, secs: i64) -> PatientFacts<'_> {
            PatientFacts::of(self.block.parts(self.n), t(secs))
        }
    }

    #[test]
    fn latest_by_time_then_arrival() {
        let k = FactKey::DossierConsent(0);
        // The two entries at 5 in arrival order.
        let v = Patient::arriving(&[e(1, k, true), e(5, k, false), e(5, k, true)]);
        assert!(!v.at(0).active(k));
        assert!(v.at(1).active(k));
        assert!(v.at(4).active(k));
        assert!(v.at(5).active(k), "tie: the later arrival wins");
        let w = Patient::arriving(&[e(1, k, true), e(5, k, true), e(5, k, false)]);
        assert!(!w.at(5).active(k), "and the other way round");
    }

    #[test]
    fn before_at_and_after_the_last_entry() {
        let k = FactKey::UnplannedCareConsent(2);
        let p = Patient::arriving(&[e(10, k, true), e(20, k, false)]);
        assert!(p.at(19).active(k), "before the last entry: the earlier one");
        assert!(!p.at(20).active(k), "at the last entry: it counts");
        assert!(!p.at(21).active(k), "after it");
        assert!(!p.at(9).active(k), "before every entry");
        assert!(!p.at(9).exists(k));
        assert!(p.at(10).exists(k));
    }

    #[test]
    fn a_late_entry_goes_to_its_time_and_a_withdrawal_changes_the_answer() {
        let k = FactKey::DossierConsent(4);
        let other = FactKey::PgoAccount;
        let mut p = Patient::arriving(&[e(10, k, true), e(30, other, true)]);
        assert!(p.at(40).active(k));
        // A withdrawal at 20 arrives after the entry at 30: it changes the
        // answer from 20 on, not before
        p.add(&e(20, k, false));
        assert!(p.at(15).active(k));
        assert!(!p.at(20).active(k));
        assert!(!p.at(40).active(k));
        assert!(p.at(40).active(other));
        // A late give at the same time as the withdrawal arrived after it: it wins
        p.add(&e(20, k, true));
        assert!(p.at(20).active(k));
        let times: Vec<i64> = p.block.facts(p.n).iter().map(|x| x.secs).collect();
        assert_eq!(times, [10, 20, 20, 30], "sorted by time, arrival within it");
    }

    #[test]
    fn requested_needs_request_in_current_relationship() {
        let r = FactKey::Relationship(0);
        let a = FactKey::AccessRequested(7);
        let v = Patient::arriving(&[
            e(1, r, true),
            e(2, a, true),
            e(3, r, false),
            e(4, r, true),
            e(6, r, true),
        ]);
        assert!(v.at(2).requested(7, 0));
        assert!(!v.at(3).requested(7, 0), "no relationship");
        assert!(
            !v.at(5).requested(7, 0),
            "new relationship needs a new request"
        );
        assert_eq!(v.at(9).relationship_start(0), Some(t(4)));
        for at in 0..10 {
            let f = v.at(at);
            let view = f.view(7, 0, None);
            assert_eq!(view.relationship, f.active(r), "at {at}");
            assert_eq!(view.access_requested, f.requested(7, 0), "at {at}");
        }
    }

    /// A small deterministic generator for the tests below
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn the_one_pass_view_answers_what_the_questions_answer() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2_000 {
            let n = next(&mut rng) % 12;
            let keys = |r: u64| match r % 7 {
                0 => FactKey::Relationship(u32::try_from(r / 7 % 3).unwrap()),
                1 => FactKey::AccessRequested(u32::try_from(r / 7 % 2).unwrap()),
                2 => FactKey::Referral {
                    from: u32::try_from(r / 7 % 3).unwrap(),
                    to: u32::try_from(r / 21 % 3).unwrap(),
                },
                3 => FactKey::UnplannedCareConsent(u32::try_from(r / 7 % 3).unwrap()),
                4 => FactKey::ReferralObjection {
                    holder: u32::try_from(r / 7 % 3).unwrap(),
                    category: r.is_multiple_of(2).then_some(1),
                },
                5 => FactKey::DossierConsent(u32::try_from(r / 7 % 3).unwrap()),
                _ => FactKey::Relationship(0),
            };
            let arrivals: Vec<Entry> = (0..n)
                .map(|_| {
                    let r = next(&mut rng);
                    let at = i64::try_from(r % 8).unwrap();
                    e(at, keys(r >> 8), !(r >> 4).is_multiple_of(3))
                })
                .collect();
            let p = Patient::arriving(&arrivals);
            for at in 0..9 {
                let f = p.at(at);
                for (prac, org, holder) in [(0, 0, Some(1)), (1, 2, Some(2)), (0, 1, None)] {
                    let v = f.view(prac, org, holder);
                    assert_eq!(v.relationship, f.active(FactKey::Relationship(org)));
                    assert_eq!(v.access_requested, f.requested(prac, org));
                    if let Some(h) = holder {
                        assert_eq!(v.referral, f.exists(FactKey::Referral { from: h, to: org }));
                        assert_eq!(
                            v.unplanned_care_consent,
                            f.active(FactKey::UnplannedCareConsent(h))
                        );
                        assert_eq!(v.any_referral_objection, f.any_referral_objection());
                    }
                }
                // R4 against the entries themselves: the latest at or before
                // `at`, by time, then arrival
                for probe in 0..64 {
                    let k = keys(probe);
                    let naive = arrivals
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.key == k.pack() && x.not_after(t(at)))
                        .max_by_key(|(i, x)| (x.secs, x.nanos, *i))
                        .is_some_and(|(_, x)| x.on);
                    assert_eq!(f.active(k), naive, "{k:?} at {at} of {arrivals:?}");
                }
            }
        }
    }

    #[test]
    fn kinds_are_found_by_kind() {
        let p = Patient::arriving(&[
            e(1, FactKey::Relationship(3), true),
            e(1, FactKey::DossierConsent(5), true),
            e(1, FactKey::ModuleStarted(2), true),
            e(
                1,
                FactKey::ReferralObjection {
                    holder: 5,
                    category: None,
                },
                true,
            ),
        ]);
        let f = p.at(1);
        assert_eq!(f.holders().as_slice(), &[3, 5]);
        assert_eq!(f.modules_started().as_slice(), &[2]);
        assert!(f.any_referral_objection());
        let about = f.statements_about(5, None);
        assert_eq!(about.len(), 1);
        assert_eq!(about[0].key, StatementKey::dossier(5));
        assert_eq!(about[0].choice, Some(Choice::Permit));
        assert!(f.statements_about(3, None).is_empty());
        assert!(!f.any_mitz());
    }

    #[test]
    fn a_mitz_entry_unpacks_into_its_statement() {
        let mitz = |holder, permit, on| {
            let key = FactKey::Mitz {
                holder,
                requester: 4,
                data: 2,
                permit,
            };
            e(1, key, on)
        };
        let p = Patient::arriving(&[
            mitz(MitzHolderIdx::Category(7), true, true),
            mitz(MitzHolderIdx::Organisation(7), false, true),
            mitz(MitzHolderIdx::Organisation(7), true, false),
            e(1, FactKey::MitzConfirmed, true),
        ]);
        let f = p.at(1);
        assert!(f.any_mitz());
        assert_eq!(f.mitz_confirmed(), Some(t(1)));
        assert_eq!(p.at(0).mitz_confirmed(), None);
        // Holder 7 as an organisation; category 7 only when it is the holder's
        let by_org = f.statements_about(7, None);
        assert_eq!(by_org.len(), 2);
        assert_eq!(by_org[0].key.holder, Holder::Organisation(7));
        assert_eq!(by_org[0].key.requester, Requester::Category(4));
        assert_eq!(by_org[0].key.data, Data::Category(2));
        assert_eq!(by_org[0].choice, Some(Choice::Deny));
        assert_eq!(by_org[1].choice, None, "a clear");
        let with_category = f.statements_about(7, Some(7));
        assert_eq!(with_category.len(), 3);
        // by key: the organisation's entries, then the category's
        assert_eq!(with_category[2].key.holder, Holder::Category(7));
        assert_eq!(with_category[2].choice, Some(Choice::Permit));
        assert_eq!(f.statements_about(8, Some(6)).len(), 0);
        // Kept by key, before unpacking the rest
        let mut categories = Statements::new();
        f.statements_where(|k| matches!(k.holder, Holder::Category(_)), &mut categories);
        assert_eq!(categories.len(), 1);
        let mut every = Statements::new();
        f.statements_where(|_| true, &mut every);
        assert_eq!(every.len(), 3);
        // Exactly the keys asked: the organisation's, data category 2 only
        let mut keyed = Statements::new();
        let holders = [MitzHolderIdx::Organisation(7).packed()];
        f.statements_of_keys(7, &holders, 4, &[2], &mut keyed);
        assert_eq!(keyed.len(), 2);
        f.statements_of_keys(7, &holders, 4, &[3], &mut keyed);
        assert!(keyed.is_empty());
        f.statements_of_keys(7, &holders, 5, &[2], &mut keyed);
        assert!(keyed.is_empty());
    }

    #[test]
    fn a_new_mitz_holder_keeps_the_others_entries_theirs() {
        let choice = |h, d, at| {
            e(
                at,
                FactKey::Mitz {
                    holder: MitzHolderIdx::Organisation(h),
                    requester: 1,
                    data: d,
                    permit: true,
                },
                true,
            )
        };
        // Holder 9 first, then 3 (a smaller index: a place before 9's)
        let mut p = Patient::arriving(&[choice(9, 0, 1), choice(9, 1, 2)]);
        p.add(&choice(3, 2, 3));
        p.add(&e(0, FactKey::MitzConfirmed, true));
        let f = p.at(5);
        let mut out = Statements::new();
        f.statements_of_keys(9, &[9], 1, &[0, 1], &mut out);
        assert_eq!(out.len(), 2, "9's entries still name 9");
        f.statements_of_keys(3, &[3], 1, &[2], &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key.holder, Holder::Organisation(3));
        assert_eq!(f.mitz_confirmed(), Some(t(0)));
        // Unpacked, by statement key: 3's, then 9's, then the confirmation
        let holders: Vec<u128> = p
            .block
            .mitz(p.n)
            .iter()
            .map(|x| x.key.bits() >> 64 & 0xffff_ffff)
            .collect();
        assert_eq!(holders, [3, 9, 9, 0]);
    }
}
