//! Granular consent (SPEC.md §7, RULES.md §J): consent statements, the
//! statements in force at a time, the minor rule's age, and the one pure
//! function that resolves the statements into permit, no choice or refused.
//!
//! A *statement* is a patient's choice for (holder, requester, data
//! category): a Mitz choice (`mitz_choice_recorded`, subject to the minor
//! rule R41) or a holder's own `dossier_consent_*` (R38: the statement
//! *(holder h, every requester, every data category, permit | deny)*).
//!
//! Ids are a type parameter `K` that is only compared: the engine can pass
//! interned indices, a host or a test strings. Organisations and categories
//! never meet, because each sits in its own variant ([`Holder`],
//! [`Requester`], [`Data`]).
//!
//! Nothing here reads a clock, does I/O, panics or allocates on the decision
//! path ([`resolve`] uses fixed tables and inline buffers). Nothing here is
//! wired into the registry or the engine yet; see `docs/consent.md`.

use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use crate::model::time::Timestamp;

/// The age from which a patient's Mitz choices count without a parent's or
/// guardian's confirmation (R41)
pub const MITZ_AGE_WITHOUT_CONFIRMATION: u32 = 16;

/// The holder axis of a statement: whose data it is about (R36: one
/// organisation is more specific than a holder category)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder<K> {
    /// One organisation (a dossierhoudersknop choice, a holder's own consent)
    Organisation(K),
    /// A holder category (`huisartsen`, `ziekenhuizen`, …)
    Category(K),
}

/// The requester axis of a statement: who may see the data (R36: a
/// requesting category is more specific than every requester)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Requester<K> {
    /// Every requesting organisation (a `dossier_consent_*`)
    Every,
    /// One requesting category (`RPZAC001`, …)
    Category(K),
}

/// The data axis of a statement: which data (R36: the asked category itself
/// is more specific than a category covering it, which is more specific than
/// every category)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Data<K> {
    /// Every data category (a `dossier_consent_*`)
    Every,
    /// One Mitz data category (`GGC002`, `GGC012`, `GGC013`)
    Category(K),
}

/// What the patient chose (`permit` or `deny` on the wire)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// Yes: the holder may make the data available (a Mitz "ja", a
    /// `dossier_consent_given`)
    Permit,
    /// No, explicitly: a refusal (a Mitz "nee", a `dossier_consent_withdrawn`)
    Deny,
}

/// Where a statement comes from
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A Mitz choice: subject to the minor rule (R41)
    Mitz,
    /// A holder's own `dossier_consent_given` / `_withdrawn` (R38); never
    /// subject to R41
    Dossier,
}

/// What a statement is about: a later statement with the same key replaces
/// the earlier one (SPEC.md §7.3)
///
/// The origin is part of the key, so a `dossier_consent_withdrawn` never
/// replaces a Mitz choice and a Mitz clear never removes a holder's own
/// consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatementKey<K> {
    /// Mitz choice or the holder's own consent
    pub origin: Origin,
    /// Whose data
    pub holder: Holder<K>,
    /// Who may see it
    pub requester: Requester<K>,
    /// Which data
    pub data: Data<K>,
}

impl<K> StatementKey<K> {
    /// The key of a holder's own `dossier_consent_*` for `holder` (R38):
    /// every requester, every data category
    pub fn dossier(holder: K) -> Self {
        Self {
            origin: Origin::Dossier,
            holder: Holder::Organisation(holder),
            requester: Requester::Every,
            data: Data::Every,
        }
    }

    /// The key of a Mitz choice (`mitz_choice_recorded` / `_cleared`)
    pub fn mitz(holder: Holder<K>, requester_category: K, data_category: K) -> Self {
        Self {
            origin: Origin::Mitz,
            holder,
            requester: Requester::Category(requester_category),
            data: Data::Category(data_category),
        }
    }
}

/// A consent statement in force: what it is about, the choice, and when it
/// was recorded
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Statement<K> {
    /// What it is about
    pub key: StatementKey<K>,
    /// Permit or refusal
    pub choice: Choice,
    /// When it was recorded (the event's `at`); R41 compares it with the
    /// guardian's confirmation
    pub at: Timestamp,
}

/// One event about a statement, as it arrived: recorded (a choice) or cleared
///
/// `dossier_consent_given` is a [`Choice::Permit`] and
/// `dossier_consent_withdrawn` a [`Choice::Deny`] of
/// [`StatementKey::dossier`]; `mitz_choice_recorded` carries its choice and
/// `mitz_choice_cleared` has `choice: None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementEvent<K> {
    /// What it is about
    pub key: StatementKey<K>,
    /// The choice, or `None` for a clear ("back to no choice")
    pub choice: Option<Choice>,
    /// The event's time
    pub at: Timestamp,
}

impl<K> From<Statement<K>> for StatementEvent<K> {
    /// The event that records `statement`
    fn from(statement: Statement<K>) -> Self {
        Self {
            key: statement.key,
            choice: Some(statement.choice),
            at: statement.at,
        }
    }
}

impl<K: Clone> StatementEvent<K> {
    /// The statement this event records, `None` for a clear
    pub fn statement(&self) -> Option<Statement<K>> {
        self.choice.map(|choice| Statement {
            key: self.key.clone(),
            choice,
            at: self.at,
        })
    }
}

/// The patient's age facts at the question's time, for the minor rule (R41)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgeFacts {
    /// Whether the patient is younger than 16 at the question's time
    pub minor: bool,
    /// The latest `mitz_choices_confirmed` at or before the question's time
    pub confirmed: Option<Timestamp>,
}

impl AgeFacts {
    /// An adult (or a patient without a birth date, R41): every Mitz choice
    /// counts
    pub const ADULT: Self = Self {
        minor: false,
        confirmed: None,
    };

    /// The facts at `t` of a patient born on `birth_date` (an adult without
    /// one, R41) whose latest `mitz_choices_confirmed` at or before `t` was at
    /// `confirmed`
    pub fn at(birth_date: Option<BirthDate>, confirmed: Option<Timestamp>, t: Timestamp) -> Self {
        Self {
            // R41: "Without `birth_date` the patient counts as an adult."
            minor: birth_date.is_some_and(|b| b.is_minor_at(t)),
            confirmed,
        }
    }

    /// R41: a Mitz event recorded at `recorded` counts at `t` when the
    /// patient is 16 or older at `t`, or when a `mitz_choices_confirmed` at or
    /// after it and at or before `t` exists (the latest confirmation at or
    /// before `t` is at or after it exactly then)
    ///
    /// A clear counts by the same rule: for a minor, the Mitz picture is the
    /// one as of the latest confirmation (docs/consent.md).
    pub fn counts(&self, recorded: Timestamp, t: Timestamp) -> bool {
        !self.minor || self.confirmed.is_some_and(|c| recorded <= c && c <= t)
    }
}

/// The question: may holder `h` make data category `g` available to
/// requesting organisation `o`, at `t`?
#[derive(Debug, Clone, Copy)]
pub struct Question<'a, K> {
    /// The holder `h`
    pub holder: K,
    /// `h`'s holder category; `None` when its provider type is missing or
    /// unmapped (R42)
    pub holder_category: Option<K>,
    /// `o`'s requesting category; `None` when its provider type is missing or
    /// unmapped (R42)
    pub requester_category: Option<K>,
    /// The Mitz data category `g` asked for
    pub data: K,
    /// The covering relation as `(covering, covered)` pairs, taken as listed
    /// (not closed transitively): the shipped vocabulary has `(GGC002,
    /// GGC012)` and `(GGC002, GGC013)` (R40)
    pub covers: &'a [(K, K)],
    /// The patient's age facts at `at` (R41)
    pub age: AgeFacts,
    /// The decision's time `t`
    pub at: Timestamp,
}

/// The resolved consent (R37)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// At least one statement applies and every undominated one is a permit
    Permit,
    /// No statement applies: no consent ("geen keuze is nee")
    NoChoice,
    /// An undominated applying statement is a refusal
    Refused,
}

/// The answer, which statements decided it, and the flags the reason codes
/// and `consent_check` need
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    answer: Answer,
    unconfirmed: bool,
    category_unknown: bool,
    deciding: SmallVec<[usize; 4]>,
}

impl Resolution {
    /// Permit, no choice or refused (R37)
    pub fn answer(&self) -> Answer {
        self.answer
    }

    /// Whether the answer is [`Answer::Permit`]: consent(x, h) for `o`, `g`
    pub fn is_permit(&self) -> bool {
        self.answer == Answer::Permit
    }

    /// R41: the answer is not a permit, and a Mitz choice of a patient under
    /// 16 that no guardian confirmed would have been among the statements
    /// that decide, had it counted (reason `consent_unconfirmed`)
    pub fn unconfirmed(&self) -> bool {
        self.unconfirmed
    }

    /// R42: a counted category statement would apply but for the holder's or
    /// the requester's missing category, so `consent_check` answers
    /// `indeterminate` (the answer itself ignores such statements)
    pub fn category_unknown(&self) -> bool {
        self.category_unknown
    }

    /// The ids of the statements that decided, in input order: for
    /// [`Answer::Permit`] every undominated applying statement, for
    /// [`Answer::Refused`] every undominated applying refusal, for
    /// [`Answer::NoChoice`] none. An id is the event's index in the slice
    /// given to [`resolve`]
    pub fn deciding(&self) -> &[usize] {
        &self.deciding
    }
}

/// Specificity on the three axes (R36) as ranks, higher is more specific:
/// holder 0 category, 1 organisation; requester 0 every, 1 category; data 0
/// every, 1 covering, 2 the asked category itself
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Level {
    holder: u8,
    requester: u8,
    data: u8,
}

/// Every combination of ranks: 2 × 2 × 3
const LEVELS: usize = 12;

impl Level {
    fn index(self) -> usize {
        usize::from(self.holder) * 6 + usize::from(self.requester) * 3 + usize::from(self.data)
    }

    /// This level's bit in a [`Levels`] mask
    fn bit(self) -> u16 {
        1 << self.index()
    }
}

/// R36: "A statement dominates another when it is at least as specific on
/// every axis and more specific on one." — the levels that dominate level
/// `i`, as a mask: every level at least as high on each axis, but `i` itself
const fn dominators(i: usize) -> u16 {
    let mut mask = 0;
    let mut holder = i / 6;
    while holder < 2 {
        let mut requester = i / 3 % 2;
        while requester < 2 {
            let mut data = i % 3;
            while data < 3 {
                let j = holder * 6 + requester * 3 + data;
                if j != i {
                    mask |= 1 << j;
                }
                data += 1;
            }
            requester += 1;
        }
        holder += 1;
    }
    mask
}

/// [`dominators`] of every level, computed at compile time
const DOMINATORS: [u16; LEVELS] = {
    let mut table = [0; LEVELS];
    let mut i = 0;
    while i < LEVELS {
        #[expect(
            clippy::indexing_slicing,
            reason = "compile-time evaluation: an index out of bounds fails the build"
        )]
        {
            table[i] = dominators(i);
        }
        i += 1;
    }
    table
};

/// The specificity levels at which permits and refusals apply, one bit per
/// level
#[derive(Debug, Clone, Copy, Default)]
struct Levels {
    permits: u16,
    refusals: u16,
}

impl Levels {
    fn add(&mut self, level: Level, choice: Choice) {
        match choice {
            Choice::Permit => self.permits |= level.bit(),
            Choice::Deny => self.refusals |= level.bit(),
        }
    }

    /// R37
    fn verdict(self) -> Verdict {
        let present = self.permits | self.refusals;
        let mut undominated = 0u16;
        let mut rest = present;
        while rest != 0 {
            let i = rest.trailing_zeros();
            rest &= rest - 1;
            // R37: only the applying statements that no other applying
            // statement dominates decide.
            let dominated = DOMINATORS.get(i as usize).is_some_and(|d| d & present != 0);
            if !dominated {
                undominated |= 1 << i;
            }
        }
        let answer = if present == 0 {
            // R37: "No applying statement: no choice (no consent)."
            Answer::NoChoice
        } else if undominated & self.refusals != 0 {
            // R37: "Any undominated refusal among them — also when two
            // statements are equally or incomparably specific — makes it
            // refused" (the tie rule: a tie never permits).
            Answer::Refused
        } else {
            // R37: "a permit iff at least one statement applies and every
            // applying statement that no other applying statement dominates
            // is a permit"
            Answer::Permit
        };
        Verdict {
            answer,
            undominated,
        }
    }
}

/// The answer of one set of levels and its undominated levels
#[derive(Debug, Clone, Copy)]
struct Verdict {
    answer: Answer,
    undominated: u16,
}

impl Verdict {
    /// Whether a statement of `choice` at `level` is among those that decide
    fn decides(self, level: Level, choice: Choice) -> bool {
        let wanted = match self.answer {
            Answer::Permit => Choice::Permit,
            Answer::Refused => Choice::Deny,
            Answer::NoChoice => return false,
        };
        choice == wanted && self.undominated & level.bit() != 0
    }
}

/// How a statement meets the question
#[derive(Debug, Clone, Copy)]
enum Match {
    Applies(Level),
    No,
    /// It would apply but for a missing category (R42)
    Unknown,
}

/// How one category axis of a statement meets the question
#[derive(Debug, Clone, Copy)]
enum Axis {
    /// It applies, at this rank
    Rank(u8),
    /// It does not apply
    No,
    /// The question's organisation has no category (R42)
    Unknown,
}

/// How a category on one axis meets the question's category there
fn category_axis<K: PartialEq>(statement: &K, question: Option<&K>, rank: u8) -> Axis {
    match question {
        Some(c) if c == statement => Axis::Rank(rank),
        Some(_) => Axis::No,
        // R42: "An organisation without a (mapped) provider type belongs to
        // no category: category statements never apply to it" (noted, so
        // `consent_check` can answer indeterminate).
        None => Axis::Unknown,
    }
}

/// Whether and at which specificity a statement with `key` applies (the
/// notation of RULES.md §J), cheapest axis first
fn match_key<K: PartialEq>(key: &StatementKey<K>, q: &Question<'_, K>) -> Match {
    // "its holder is `h` or `h`'s holder category"; R36: one organisation
    // above a category
    let holder = match &key.holder {
        Holder::Organisation(h) if *h == q.holder => Some(1),
        Holder::Organisation(_) => return Match::No,
        Holder::Category(c) => match category_axis(c, q.holder_category.as_ref(), 0) {
            Axis::Rank(rank) => Some(rank),
            Axis::Unknown => None,
            Axis::No => return Match::No,
        },
    };
    // "its requester is every requester or `o`'s requesting category"; R36:
    // a category above every requester
    let requester = match &key.requester {
        Requester::Every => Some(0),
        Requester::Category(c) => match category_axis(c, q.requester_category.as_ref(), 1) {
            Axis::Rank(rank) => Some(rank),
            Axis::Unknown => None,
            Axis::No => return Match::No,
        },
    };
    // "its data category is every category, `g`, or one that covers `g`";
    // R36: `g` itself above a covering category above every category; R40: a
    // covering category answers for what it covers (a GGC002 permit answers
    // GGC012 and GGC013), never the other way round (a GGC013 statement
    // never applies to GGC002: the pair (GGC013, GGC002) is not listed)
    let data = match &key.data {
        Data::Every => 0,
        Data::Category(a) if *a == q.data => 2,
        Data::Category(a) if q.covers.iter().any(|(up, down)| up == a && *down == q.data) => 1,
        Data::Category(_) => return Match::No,
    };
    match (holder, requester) {
        (Some(holder), Some(requester)) => Match::Applies(Level {
            holder,
            requester,
            data,
        }),
        _ => Match::Unknown,
    }
}

/// One key that can apply to the question, and its latest events at or
/// before `t`: among every event, and among the events that count (R41)
struct Slot<'e, K> {
    key: &'e StatementKey<K>,
    /// How the key meets the question (never [`Match::No`])
    meets: Match,
    /// `(at, index)` of the latest event of the key
    every: Option<(Timestamp, usize)>,
    /// `(at, index)` of the latest event of the key that counts
    counted: Option<(Timestamp, usize)>,
}

/// Whether event `i` is in force at `t`: at or before `t`, and the latest
/// of its key at or before `t` by `(at, index)` (for [`in_force`])
fn latest_of_key<K: PartialEq>(events: &[StatementEvent<K>], i: usize, t: Timestamp) -> bool {
    let Some(event) = events.get(i) else {
        return false;
    };
    event.at <= t
        && !events.iter().enumerate().any(|(j, other)| {
            same_key(&other.key, &event.key) && other.at <= t && (other.at, j) > (event.at, i)
        })
}

/// `a == b`, the axis that differs most often in a patient's picture first
/// (a full Mitz picture has seven requesting categories per holder and data
/// category)
fn same_key<K: PartialEq>(a: &StatementKey<K>, b: &StatementKey<K>) -> bool {
    a.requester == b.requester && a.data == b.data && a.holder == b.holder && a.origin == b.origin
}

/// Resolves a patient's consent events for one question (R36, R37, R40,
/// R41, R42): the statements in force at `q.at` (see [`in_force`]), the
/// minor rule, specificity and the tie rule
///
/// `events` are the patient's `mitz_choice_*` and `dossier_consent_*` events
/// in arrival order, at any time (those after `q.at` are skipped). The
/// answer depends on the order only for events of the same key at the same
/// `at` (the later arrival replaces the earlier one). The ids in
/// [`Resolution::deciding`] are indices into `events`.
///
/// R41 is applied to the *events*, before the selection of the statements in
/// force: for a patient under 16, a Mitz event (a choice or a clear) after
/// the latest `mitz_choices_confirmed` is ignored as if it had not been
/// recorded, so the earlier, confirmed statement of its key stays in force.
/// (Ignoring the statement only after the selection would let an unconfirmed
/// repetition of a confirmed refusal remove that refusal.)
///
/// One pass over the events; allocation-free unless more than 16 keys can
/// apply or more than four statements decide.
///
/// ```
/// use zorg_pdp::Timestamp;
/// use zorg_pdp::consent::{
///     AgeFacts, Answer, Choice, Holder, Question, StatementEvent, StatementKey, resolve,
/// };
///
/// let at: Timestamp = "2026-03-01T09:30:00Z".parse()?;
/// // The GP practice `gp` may make Behandelgegevens available to pharmacies.
/// let permit = StatementEvent {
///     key: StatementKey::mitz(Holder::Organisation("gp"), "RPZAC005", "GGC002"),
///     choice: Some(Choice::Permit),
///     at,
/// };
/// let covers = [("GGC002", "GGC012"), ("GGC002", "GGC013")];
/// let question = Question {
///     holder: "gp",
///     holder_category: Some("huisartsen"),
///     requester_category: Some("RPZAC005"),
///     data: "GGC013",
///     covers: &covers,
///     age: AgeFacts::ADULT,
///     at,
/// };
/// let resolution = resolve(&[permit], &question);
/// assert_eq!(resolution.answer(), Answer::Permit, "GGC002 covers GGC013");
/// assert_eq!(resolution.deciding(), &[0]);
/// let hospital = Question { requester_category: Some("RPZAC104"), ..question };
/// assert_eq!(resolve(&[permit], &hospital).answer(), Answer::NoChoice);
/// # Ok::<(), zorg_pdp::TimeError>(())
/// ```
pub fn resolve<K: PartialEq>(events: &[StatementEvent<K>], q: &Question<'_, K>) -> Resolution {
    // R41: a Mitz choice of a patient younger than 16 at `t` counts only
    // when a confirmation at or after it and at or before `t` exists; a
    // holder's own consent always counts.
    let counts =
        |e: &StatementEvent<K>| e.key.origin == Origin::Dossier || q.age.counts(e.at, q.at);
    // One pass: the latest event of every key that can apply, at or before
    // `t` ("the latest of its key at or before `t`"), by `(at, arrival)`:
    // at equal times the later arrival replaces the earlier one, as the
    // registry orders every fact.
    let mut slots: SmallVec<[Slot<'_, K>; 16]> = SmallVec::new();
    for (i, event) in events.iter().enumerate() {
        if event.at > q.at {
            continue;
        }
        let meets = match_key(&event.key, q);
        if matches!(meets, Match::No) {
            continue;
        }
        let slot = if let Some(k) = slots.iter().position(|s| same_key(s.key, &event.key)) {
            slots.get_mut(k)
        } else {
            slots.push(Slot {
                key: &event.key,
                meets,
                every: None,
                counted: None,
            });
            slots.last_mut()
        };
        let Some(slot) = slot else {
            continue;
        };
        // `i` only grows, so an event at the same time or later is later.
        let later =
            |latest: Option<(Timestamp, usize)>| latest.is_none_or(|(at, _)| event.at >= at);
        if later(slot.every) {
            slot.every = Some((event.at, i));
        }
        // R41, on the events: an event that does not count is ignored as if
        // it had not been recorded, so it replaces nothing.
        if counts(event) && later(slot.counted) {
            slot.counted = Some((event.at, i));
        }
    }
    // "in force when it is the latest of its key at or before `t` and not
    // cleared": the latest event's choice, if it is not a clear
    let choice_of = |latest: Option<(Timestamp, usize)>| {
        let (_, i) = latest?;
        let choice = events.get(i)?.choice?;
        Some((i, choice))
    };

    // By specificity level: the statements in force that count, the ones in
    // force had every choice counted, and among those the unconfirmed ones.
    let mut counted = Levels::default();
    let mut every = Levels::default();
    let mut unconfirmed = Levels::default();
    let mut category_unknown = false;
    for slot in &slots {
        match slot.meets {
            Match::Applies(level) => {
                if let Some((_, choice)) = choice_of(slot.counted) {
                    counted.add(level, choice);
                }
                if let Some((i, choice)) = choice_of(slot.every) {
                    every.add(level, choice);
                    if events.get(i).is_some_and(|e| !counts(e)) {
                        unconfirmed.add(level, choice);
                    }
                }
            }
            // R42: a counted statement in force that would need a missing
            // category: noted for `consent_check`, ignored by the answer
            Match::Unknown => category_unknown |= choice_of(slot.counted).is_some(),
            Match::No => {}
        }
    }
    let decided = counted.verdict();
    let mut deciding: SmallVec<[usize; 4]> = slots
        .iter()
        .filter_map(|slot| match (slot.meets, choice_of(slot.counted)) {
            (Match::Applies(level), Some((i, choice))) if decided.decides(level, choice) => Some(i),
            _ => None,
        })
        .collect();
    deciding.sort_unstable();
    // R41: "otherwise it is ignored and a deny it would have decided reports
    // `consent_unconfirmed`": resolve again as if every choice counted, and
    // look for an unconfirmed one among the statements that would decide.
    let unconfirmed = decided.answer != Answer::Permit && {
        let would = every.verdict();
        let wanted = match would.answer {
            Answer::Permit => unconfirmed.permits,
            Answer::Refused => unconfirmed.refusals,
            Answer::NoChoice => 0,
        };
        wanted & would.undominated != 0
    };
    Resolution {
        answer: decided.answer,
        unconfirmed,
        category_unknown,
        deciding,
    }
}

/// The statements in force at `t`, each with its event's index: for every
/// key, the latest event at or before `t` (by time, then by place in
/// `events`), unless it is a clear
///
/// `events` is in arrival order; only events of the same key and the same
/// `at` depend on it (the later one wins, as everywhere in the registry).
/// This is the picture as recorded, with every Mitz choice counted; for a
/// patient under 16, [`resolve`] counts the Mitz statements as of the latest
/// `mitz_choices_confirmed` instead (what `in_force` gives at that time).
/// Quadratic in the number of events: for overviews and exports, not for the
/// decision path.
pub fn in_force<K: PartialEq + Clone>(
    events: &[StatementEvent<K>],
    t: Timestamp,
) -> impl Iterator<Item = (usize, Statement<K>)> + '_ {
    events.iter().enumerate().filter_map(move |(i, event)| {
        if latest_of_key(events, i, t) {
            event.statement().map(|s| (i, s))
        } else {
            None
        }
    })
}

/// A date of birth, `YYYY-MM-DD` (SPEC.md §7.1); its `Debug` shows no date
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate {
    // Field order is the order.
    year: u16,
    month: u8,
    day: u8,
}

/// Why a string is not a date of birth
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid `birth_date` `{value}`: expected a calendar date `YYYY-MM-DD` between 0001-01-01 and 9999-12-31"
)]
pub struct BirthDateError {
    value: String,
}

impl fmt::Debug for BirthDateError {
    /// The length only: a date of birth is personal data
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BirthDateError(<{} bytes>)", self.value.len())
    }
}

impl BirthDate {
    /// A date of birth from its parts; `None` unless it is a calendar date in
    /// the years 0001–9999
    pub fn new(year: u32, month: u32, day: u32) -> Option<Self> {
        let year16 = u16::try_from(year)
            .ok()
            .filter(|y| (1..=9999).contains(y))?;
        NaiveDate::from_ymd_opt(i32::from(year16), month, day)?;
        Some(Self {
            year: year16,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }

    /// Parses `YYYY-MM-DD` exactly (four, two and two digits)
    ///
    /// # Errors
    ///
    /// [`BirthDateError`] when `s` has another shape or names no calendar
    /// date (`2026-02-29`, `2026-13-01`).
    ///
    /// ```
    /// use zorg_pdp::consent::BirthDate;
    /// let leap = BirthDate::parse("2008-02-29")?;
    /// assert_eq!(leap.to_string(), "2008-02-29");
    /// assert!(BirthDate::parse("2009-02-29").is_err());
    /// assert!(BirthDate::parse("2008-2-29").is_err());
    /// # Ok::<(), zorg_pdp::consent::BirthDateError>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self, BirthDateError> {
        let err = || BirthDateError {
            value: s
                .chars()
                .take(32)
                .collect::<String>()
                .escape_debug()
                .to_string(),
        };
        let bytes = s.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return Err(err());
        }
        let number = |from: usize, to: usize| -> Option<u32> {
            let part = s.get(from..to)?;
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        match (number(0, 4), number(5, 7), number(8, 10)) {
            (Some(year), Some(month), Some(day)) => Self::new(year, month, day).ok_or_else(err),
            _ => Err(err()),
        }
    }

    /// The year
    pub fn year(self) -> u32 {
        u32::from(self.year)
    }

    /// The month, 1–12
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    /// The day of the month, 1–31
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// The birthday in `year` as (month, day): the date itself, except that
    /// a 29 February birthday is on 1 March in a year without 29 February
    ///
    /// The choice (docs/consent.md): Dutch statute has no general rule; the
    /// age is counted "van dag tot dag", and the years of a person born on 29
    /// February are complete only when 28 February has passed. 1 March is
    /// also the later of the two candidates, so a patient is treated as a
    /// minor one day longer rather than one day too short, and the choices of
    /// a minor count only with a guardian's confirmation a day longer.
    pub fn birthday_in(self, year: i32) -> (u32, u32) {
        let (month, day) = (self.month(), self.day());
        if (month, day) == (2, 29) && NaiveDate::from_ymd_opt(year, 2, 29).is_none() {
            (3, 1)
        } else {
            (month, day)
        }
    }

    /// The age in whole years at `t`, taking the calendar date of `t` in the
    /// Netherlands (Europe/Amsterdam: UTC+1, UTC+2 in summer time); 0 before
    /// the birth
    ///
    /// The age goes up at 00:00 Dutch time on the birthday ([`Self::birthday_in`]).
    pub fn age_at(self, t: Timestamp) -> u32 {
        let (year, month, day) = dutch_date(t);
        let years = i64::from(year) - i64::from(self.year);
        let age = if (month, day) >= self.birthday_in(year) {
            years
        } else {
            years - 1
        };
        u32::try_from(age.max(0)).unwrap_or(0)
    }

    /// Whether the patient is younger than 16 at `t` (R41): a minor up to and
    /// including the day before the 16th birthday, not on it
    pub fn is_minor_at(self, t: Timestamp) -> bool {
        self.age_at(t) < MITZ_AGE_WITHOUT_CONFIRMATION
    }
}

/// The calendar date (year, month, day) of `t` in the Netherlands
///
/// Central European Time, UTC+1, and summer time, UTC+2, from 01:00 UTC on
/// the last Sunday of March to 01:00 UTC on the last Sunday of October (the
/// EU rule, Directive 2000/84/EC, in force in the Netherlands since 1996;
/// earlier years get the same rule, which only matters for decisions dated
/// before 1996).
fn dutch_date(t: Timestamp) -> (i32, u32, u32) {
    let secs = t.unix_seconds();
    let offset = if summer_time(secs) { 7200 } else { 3600 };
    let local = DateTime::from_timestamp(secs.saturating_add(offset), 0)
        .unwrap_or_default()
        .date_naive();
    (local.year(), local.month(), local.day())
}

/// Whether `secs` (since the Unix epoch) falls in Dutch summer time
fn summer_time(secs: i64) -> bool {
    let Some(utc) = DateTime::from_timestamp(secs, 0) else {
        return false;
    };
    let year = utc.year();
    match (
        last_sunday_0100_utc(year, 3),
        last_sunday_0100_utc(year, 10),
    ) {
        (Some(start), Some(end)) => start <= secs && secs < end,
        _ => false,
    }
}

/// 01:00 UTC on the last Sunday of `month` (a month of 31 days) in `year`,
/// in seconds since the Unix epoch
fn last_sunday_0100_utc(year: i32, month: u32) -> Option<i64> {
    let last = NaiveDate::from_ymd_opt(year, month, 31)?;
    let sunday =
        last.checked_sub_days(Days::new(u64::from(last.weekday().num_days_from_sunday())))?;
    Some(sunday.and_hms_opt(1, 0, 0)?.and_utc().timestamp())
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for BirthDate {
    /// Redacted: a date of birth is personal data
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}

impl std::str::FromStr for BirthDate {
    type Err = BirthDateError;
    fn from_str(s: &str) -> Result<Self, BirthDateError> {
        Self::parse(s)
    }
}

impl Serialize for BirthDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BirthDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "json-schema")]
impl schemars::JsonSchema for BirthDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BirthDate".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A date of birth, `YYYY-MM-DD`",
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        })
    }
}

#[cfg(test)]
mod tests;
