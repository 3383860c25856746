//! The consent resolver (RULES.md §J, R36–R42) against an independent
//! oracle, and the properties issue 14 names: arrival order does not matter,
//! a refusal never opens, a dominated statement changes nothing, a tie never
//! permits, the minor rule at every age boundary, and R38.
//!
//! The oracle reads RULES.md §J sentence by sentence over plain strings: it
//! drops the events R41 ignores, groups the rest by key in a map to find the
//! ones in force, lists the applying statements, compares every pair for
//! domination, keeps every `mitz_choices_confirmed` (not only the latest),
//! and takes the Dutch calendar date from the IANA time-zone database (jiff),
//! counting birthdays forward. It shares no code with `src/model/consent.rs`.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use zorg_pdp::Timestamp;
use zorg_pdp::consent::{
    AgeFacts, Answer, BirthDate, Choice, Data, Holder, Origin, Question, Requester, Resolution,
    StatementEvent, StatementKey, in_force, resolve,
};

// --- The oracle -------------------------------------------------------------

/// One consent event as the oracle sees it: strings and options
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ev {
    /// `mitz` or `dossier`
    origin: &'static str,
    /// `true`: `holder` names one organisation; `false`: a holder category
    holder_is_org: bool,
    holder: &'static str,
    /// `None`: every requester
    requester: Option<&'static str>,
    /// `None`: every data category
    data: Option<&'static str>,
    /// `Some(true)` permit, `Some(false)` refusal, `None` cleared
    choice: Option<bool>,
    /// Hours after 2026-01-01T00:00:00Z
    at: u32,
}

impl Ev {
    fn key(
        &self,
    ) -> (
        &'static str,
        bool,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    ) {
        (
            self.origin,
            self.holder_is_org,
            self.holder,
            self.requester,
            self.data,
        )
    }
}

/// The question as the oracle sees it
#[derive(Debug, Clone)]
struct Ask {
    holder: &'static str,
    holder_category: Option<&'static str>,
    requester_category: Option<&'static str>,
    data: &'static str,
    /// Hours after 2026-01-01T00:00:00Z
    t: u32,
    birth_date: Option<&'static str>,
    /// Every `mitz_choices_confirmed`, any time (also after `t`)
    confirmations: Vec<u32>,
}

/// GGC002 covers GGC012 and GGC013 (SPEC.md §7.2)
const COVERS: &[(&str, &str)] = &[("GGC002", "GGC012"), ("GGC002", "GGC013")];

fn hour(h: u32) -> Timestamp {
    Timestamp::from_unix(1_767_225_600 + i64::from(h) * 3600, 0).unwrap()
}

/// The Dutch calendar date of `t`, from the IANA rules for Europe/Amsterdam
fn dutch_date(t: Timestamp) -> jiff::civil::Date {
    let zone = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
    jiff::Timestamp::from_second(t.unix_seconds())
        .unwrap()
        .to_zoned(zone)
        .date()
}

/// The `n`th birthday of someone born on `birth`: the same month and day `n`
/// years on, and 1 March when that year has no 29 February (docs/consent.md)
fn nth_birthday(birth: jiff::civil::Date, n: i16) -> jiff::civil::Date {
    let year = birth.year() + n;
    jiff::civil::Date::new(year, birth.month(), birth.day())
        .unwrap_or_else(|_| jiff::civil::Date::new(year, 3, 1).unwrap())
}

fn civil(birth_date: &str) -> jiff::civil::Date {
    birth_date.parse().unwrap()
}

/// The age at `t`: the number of birthdays that have come, counted forward
fn oracle_age(birth_date: &str, t: Timestamp) -> u32 {
    let birth = civil(birth_date);
    let today = dutch_date(t);
    let mut age = 0;
    while nth_birthday(birth, i16::try_from(age + 1).unwrap()) <= today {
        age += 1;
    }
    age
}

/// R41: "younger than 16 at `t`": the day of `t` comes before the 16th birthday
fn oracle_minor(birth_date: Option<&str>, t: Timestamp) -> bool {
    // "Without `birth_date` the patient counts as an adult."
    birth_date.is_some_and(|b| dutch_date(t) < nth_birthday(civil(b), 16))
}

/// What the oracle answers
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    answer: Answer,
    deciding: BTreeSet<usize>,
    unconfirmed: bool,
    category_unknown: bool,
}

/// What the oracle saw on the way, for the properties
#[derive(Debug, Clone, Default)]
struct Seen {
    /// The applying statements in force that count
    applying: Vec<usize>,
    /// Those no other of them dominates
    undominated: BTreeSet<usize>,
}

/// R36 for the question `ask`: the specificity of `e` on each axis
/// (holder, requester, data), higher is more specific
fn specificity(e: &Ev, ask: &Ask) -> [u8; 3] {
    let holder = u8::from(e.holder_is_org);
    let requester = u8::from(e.requester.is_some());
    let data = match e.data {
        None => 0,
        Some(d) if d == ask.data => 2,
        Some(_) => 1,
    };
    [holder, requester, data]
}

/// "A statement dominates another when it is at least as specific on every
/// axis and more specific on one."
fn dominates(a: &Ev, b: &Ev, ask: &Ask) -> bool {
    let (sa, sb) = (specificity(a, ask), specificity(b, ask));
    (0..3).all(|i| sa[i] >= sb[i]) && (0..3).any(|i| sa[i] > sb[i])
}

/// "It applies when its holder is `h` or `h`'s holder category, its
/// requester is every requester or `o`'s requesting category, and its data
/// category is every category, `g`, or one that covers `g`."
fn holder_applies(e: &Ev, ask: &Ask) -> bool {
    if e.holder_is_org {
        e.holder == ask.holder
    } else {
        ask.holder_category == Some(e.holder)
    }
}
fn requester_applies(e: &Ev, ask: &Ask) -> bool {
    e.requester.is_none() || e.requester == ask.requester_category
}
fn data_applies(e: &Ev, ask: &Ask) -> bool {
    match e.data {
        None => true,
        Some(d) => d == ask.data || COVERS.contains(&(d, ask.data)),
    }
}
fn applies(e: &Ev, ask: &Ask) -> bool {
    holder_applies(e, ask) && requester_applies(e, ask) && data_applies(e, ask)
}

/// R41: whether event `e` counts: a holder's own consent always; a Mitz
/// event of a patient younger than 16 at `t` only with a confirmation at or
/// after it and at or before `t`
fn counts(e: &Ev, ask: &Ask) -> bool {
    e.origin == "dossier"
        || !oracle_minor(ask.birth_date, hour(ask.t))
        || ask.confirmations.iter().any(|&c| e.at <= c && c <= ask.t)
}

/// "a statement is in force when it is the latest of its key at or before
/// `t` and not cleared", among the events `keep` accepts; latest by time,
/// then by arrival
fn statements_in_force(events: &[Ev], t: u32, keep: impl Fn(&Ev) -> bool) -> Vec<usize> {
    let mut by_key: HashMap<_, Vec<(u32, usize)>> = HashMap::new();
    for (arrival, e) in events.iter().enumerate() {
        if e.at <= t && keep(e) {
            by_key.entry(e.key()).or_default().push((e.at, arrival));
        }
    }
    let mut in_force: Vec<usize> = by_key
        .values()
        .map(|v| v.iter().max().unwrap().1)
        .filter(|&i| events[i].choice.is_some())
        .collect();
    in_force.sort_unstable();
    in_force
}

/// R37 over a set of applying statements: the answer, who decided, and the
/// undominated ones
fn decide(
    events: &[Ev],
    applying: &[usize],
    ask: &Ask,
) -> (Answer, BTreeSet<usize>, BTreeSet<usize>) {
    let undominated: BTreeSet<usize> = applying
        .iter()
        .copied()
        .filter(|&s| {
            !applying
                .iter()
                .any(|&o| dominates(&events[o], &events[s], ask))
        })
        .collect();
    if applying.is_empty() {
        return (Answer::NoChoice, BTreeSet::new(), undominated);
    }
    let refusals: BTreeSet<usize> = undominated
        .iter()
        .copied()
        .filter(|&s| events[s].choice == Some(false))
        .collect();
    if refusals.is_empty() {
        (Answer::Permit, undominated.clone(), undominated)
    } else {
        (Answer::Refused, refusals, undominated)
    }
}

/// RULES.md §J, read literally
fn oracle(events: &[Ev], ask: &Ask) -> Verdict {
    oracle_seen(events, ask).0
}

fn oracle_seen(events: &[Ev], ask: &Ask) -> (Verdict, Seen) {
    // R41: a Mitz event that does not count is ignored: as if not recorded.
    let in_force = statements_in_force(events, ask.t, |e| counts(e, ask));
    let applying: Vec<usize> = in_force
        .iter()
        .copied()
        .filter(|&i| applies(&events[i], ask))
        .collect();
    let (answer, deciding, undominated) = decide(events, &applying, ask);

    // R41: "a deny it would have decided reports `consent_unconfirmed`":
    // the picture had every choice counted.
    let every: Vec<usize> = statements_in_force(events, ask.t, |_| true)
        .into_iter()
        .filter(|&i| applies(&events[i], ask))
        .collect();
    let (_, would_decide, _) = decide(events, &every, ask);
    let unconfirmed =
        answer != Answer::Permit && would_decide.iter().any(|&i| !counts(&events[i], ask));

    // R42: a counted statement in force that fails only because the holder
    // or the requester has no category.
    let category_unknown = in_force.iter().any(|&i| {
        let e = &events[i];
        let holder = holder_applies(e, ask) || (!e.holder_is_org && ask.holder_category.is_none());
        let requester = requester_applies(e, ask)
            || (e.requester.is_some() && ask.requester_category.is_none());
        holder && requester && data_applies(e, ask) && !applies(e, ask)
    });
    (
        Verdict {
            answer,
            deciding,
            unconfirmed,
            category_unknown,
        },
        Seen {
            applying,
            undominated,
        },
    )
}

// --- The implementation's side ------------------------------------------------

fn to_event(e: &Ev) -> StatementEvent<&'static str> {
    StatementEvent {
        key: StatementKey {
            origin: if e.origin == "dossier" {
                Origin::Dossier
            } else {
                Origin::Mitz
            },
            holder: if e.holder_is_org {
                Holder::Organisation(e.holder)
            } else {
                Holder::Category(e.holder)
            },
            requester: e.requester.map_or(Requester::Every, Requester::Category),
            data: e.data.map_or(Data::Every, Data::Category),
        },
        choice: e
            .choice
            .map(|p| if p { Choice::Permit } else { Choice::Deny }),
        at: hour(e.at),
    }
}

fn to_question(ask: &Ask) -> Question<'static, &'static str> {
    let t = hour(ask.t);
    let birth = ask.birth_date.map(|b| BirthDate::parse(b).unwrap());
    let latest = ask.confirmations.iter().filter(|&&c| c <= ask.t).max();
    Question {
        holder: ask.holder,
        holder_category: ask.holder_category,
        requester_category: ask.requester_category,
        data: ask.data,
        covers: COVERS,
        age: AgeFacts::at(birth, latest.map(|&c| hour(c)), t),
        at: t,
    }
}

fn verdict_of(r: &Resolution) -> Verdict {
    Verdict {
        answer: r.answer(),
        deciding: r.deciding().iter().copied().collect(),
        unconfirmed: r.unconfirmed(),
        category_unknown: r.category_unknown(),
    }
}

/// The implementation's answer; for a patient whose choices all count, also
/// checks that resolving only the statements `in_force` selects gives it
fn implementation(events: &[Ev], ask: &Ask) -> Verdict {
    let evs: Vec<_> = events.iter().map(to_event).collect();
    let q = to_question(ask);
    let verdict = verdict_of(&resolve(&evs, &q));
    if !q.age.minor {
        let (ids, statements): (Vec<usize>, Vec<StatementEvent<_>>) = in_force(&evs, q.at)
            .map(|(i, s)| (i, StatementEvent::from(s)))
            .unzip();
        let mut again = verdict_of(&resolve(&statements, &q));
        again.deciding = again.deciding.iter().map(|&i| ids[i]).collect();
        assert_eq!(
            verdict, again,
            "resolving the statements in force again differs"
        );
    }
    verdict
}

// --- Generators ------------------------------------------------------------------

// Small universes, so that statements meet often: ties, domination and
// every answer are common (the last test checks it).
const ORGS: [&str; 2] = ["h0", "h1"];
const HOLDER_CATEGORIES: [&str; 2] = ["huisartsen", "ziekenhuizen"];
const REQUESTER_CATEGORIES: [&str; 2] = ["RPZAC001", "RPZAC005"];
const DATA: [&str; 3] = ["GGC002", "GGC012", "GGC013"];
/// Around the question's hours: `2010-01-02` turns 16 at hour 23 (00:00 in
/// Amsterdam on 2 January 2026), `2010-01-01` just before hour 0
const BIRTH_DATES: [Option<&str>; 5] = [
    None,
    Some("2010-01-02"),
    Some("2010-01-01"),
    Some("2012-06-01"),
    Some("1990-03-03"),
];
const HOURS: u32 = 30;

fn mitz_event() -> impl Strategy<Value = Ev> {
    (
        any::<bool>(),
        0..ORGS.len(),
        0..HOLDER_CATEGORIES.len(),
        // Mostly a category, as Mitz records, sometimes every requester or
        // every data category, to reach every specificity level.
        prop::option::weighted(0.85, 0..REQUESTER_CATEGORIES.len()),
        prop::option::weighted(0.85, 0..DATA.len()),
        prop::option::weighted(0.8, any::<bool>()),
        0..HOURS,
    )
        .prop_map(|(is_org, o, c, r, d, choice, at)| Ev {
            origin: "mitz",
            holder_is_org: is_org,
            holder: if is_org {
                ORGS[o]
            } else {
                HOLDER_CATEGORIES[c]
            },
            requester: r.map(|i| REQUESTER_CATEGORIES[i]),
            data: d.map(|i| DATA[i]),
            choice,
            at,
        })
}

fn dossier_event() -> impl Strategy<Value = Ev> {
    (0..ORGS.len(), any::<bool>(), 0..HOURS).prop_map(|(o, give, at)| Ev {
        origin: "dossier",
        holder_is_org: true,
        holder: ORGS[o],
        requester: None,
        data: None,
        choice: Some(give),
        at,
    })
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(prop_oneof![3 => mitz_event(), 1 => dossier_event()], 0..16)
}

fn ask() -> impl Strategy<Value = Ask> {
    (
        0..ORGS.len(),
        prop::option::weighted(0.8, 0..HOLDER_CATEGORIES.len()),
        prop::option::weighted(0.8, 0..REQUESTER_CATEGORIES.len()),
        0..DATA.len(),
        0..HOURS + 2,
        0..BIRTH_DATES.len(),
        prop::collection::vec(0..HOURS + 2, 0..3),
    )
        .prop_map(|(h, hc, rc, g, t, b, confirmations)| Ask {
            holder: ORGS[h],
            holder_category: hc.map(|i| HOLDER_CATEGORIES[i]),
            requester_category: rc.map(|i| REQUESTER_CATEGORIES[i]),
            data: DATA[g],
            t,
            birth_date: BIRTH_DATES[b],
            confirmations,
        })
}

/// A shuffle that keeps the relative order of events with the same key and
/// the same `at` (the only order the answer may depend on: the later arrival
/// replaces the earlier one, as the registry does)
///
/// Returns the shuffled events and, per new place, the old one.
fn shuffled(events: &[Ev], seed: &[u32]) -> (Vec<Ev>, Vec<usize>) {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| seed.get(i).copied().unwrap_or(0));
    // Put each tie group back in arrival order, in the slots it now holds.
    let mut groups: HashMap<_, Vec<usize>> = HashMap::new();
    for (slot, &i) in order.iter().enumerate() {
        groups
            .entry((events[i].key(), events[i].at))
            .or_default()
            .push(slot);
    }
    let mut old_of = order.clone();
    for slots in groups.values() {
        let mut originals: Vec<usize> = slots.iter().map(|&s| order[s]).collect();
        originals.sort_unstable();
        for (&slot, &i) in slots.iter().zip(&originals) {
            old_of[slot] = i;
        }
    }
    (old_of.iter().map(|&i| events[i].clone()).collect(), old_of)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        // `a_dominated_statement_changes_no_answer` needs an applying
        // statement to weaken, so it rejects some worlds.
        max_global_rejects: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_resolver_agrees_with_the_oracle(events in events(), ask in ask()) {
        prop_assert_eq!(implementation(&events, &ask), oracle(&events, &ask));
    }

    #[test]
    fn arrival_order_does_not_change_the_answer(
        events in events(),
        ask in ask(),
        seed in prop::collection::vec(any::<u32>(), 16),
    ) {
        let before = implementation(&events, &ask);
        let (events_after, old_of) = shuffled(&events, &seed);
        let mut after = implementation(&events_after, &ask);
        // The same statements decide, at their new places.
        after.deciding = after.deciding.iter().map(|&slot| old_of[slot]).collect();
        prop_assert_eq!(after, before);
    }

    #[test]
    fn adding_a_refusal_never_opens(
        events in events(),
        ask in ask(),
        refusal in mitz_event(),
        dossier in dossier_event(),
        dossier_refusal in any::<bool>(),
        same_key_as in prop::option::weighted(0.7, any::<prop::sample::Index>()),
        at in 0..HOURS + 2,
    ) {
        let before = implementation(&events, &ask);
        // A refusal at any time, new or of a key already recorded (then it
        // may replace a permit, or repeat a refusal of a minor unconfirmed).
        let mut added = if dossier_refusal { dossier } else { refusal };
        if let Some(index) = same_key_as
            && !events.is_empty()
        {
            added = events[index.index(events.len())].clone();
        }
        added.choice = Some(false);
        added.at = at;
        let mut with = events.clone();
        with.push(added);
        let after = implementation(&with, &ask);
        if before.answer != Answer::Permit {
            prop_assert_ne!(after.answer, Answer::Permit);
        }
        if before.answer == Answer::Refused {
            prop_assert_eq!(after.answer, Answer::Refused);
        }
    }

    #[test]
    fn a_dominated_statement_changes_no_answer(
        events in events(),
        ask in ask(),
        pick in any::<prop::sample::Index>(),
        axes in 1u8..8,
        choice in any::<bool>(),
    ) {
        // Take an applying statement in force that counts and add one less
        // specific on the axes `axes` names, with a key of its own: it is
        // dominated by one already in force.
        let (_, seen) = oracle_seen(&events, &ask);
        prop_assume!(!seen.applying.is_empty());
        let strong = &events[*pick.get(&seen.applying)];
        let weaker = generalised(strong, &ask, axes, choice);
        prop_assume!(weaker.is_some());
        let weaker = weaker.unwrap();
        prop_assume!(!events.iter().any(|e| e.key() == weaker.key()));
        prop_assert!(dominates(strong, &weaker, &ask) && applies(&weaker, &ask));
        let before = implementation(&events, &ask);
        let mut with = events.clone();
        with.push(weaker);
        let after = implementation(&with, &ask);
        prop_assert_eq!(after.answer, before.answer);
        prop_assert_eq!(&after.deciding, &before.deciding);
        prop_assert_eq!(after.category_unknown, before.category_unknown);
        // For a minor, the picture had every choice counted may lack
        // `strong` (replaced by an unconfirmed change), so only an adult's
        // `consent_unconfirmed` flag is sure to stay.
        if !oracle_minor(ask.birth_date, hour(ask.t)) {
            prop_assert_eq!(after.unconfirmed, before.unconfirmed);
        }
    }

    #[test]
    fn a_tie_never_permits(
        events in events(),
        ask in ask(),
        refuse_first in any::<bool>(),
    ) {
        // Add two statements each more specific than the other on one axis
        // (holder h with every requester and `g`; holder h with o's
        // category and every data category), one a permit, one a refusal:
        // whenever both are undominated, the answer is refused; and in any
        // world, undominated permits beside an undominated refusal refuse.
        let mut with = events.clone();
        let base = Ev {
            origin: "mitz",
            holder_is_org: true,
            holder: ask.holder,
            requester: None,
            data: Some(ask.data),
            choice: Some(refuse_first),
            at: ask.t,
        };
        with.push(base.clone());
        if let Some(rc) = ask.requester_category {
            with.push(Ev {
                requester: Some(rc),
                data: None,
                choice: Some(!refuse_first),
                ..base
            });
        }
        for world in [&events, &with] {
            let (_, seen) = oracle_seen(world, &ask);
            let permits = seen.undominated.iter().any(|&i| world[i].choice == Some(true));
            let refusals = seen.undominated.iter().any(|&i| world[i].choice == Some(false));
            let v = implementation(world, &ask);
            if permits && refusals {
                prop_assert_eq!(v.answer, Answer::Refused);
            }
            if v.answer == Answer::Permit {
                prop_assert!(!refusals);
            }
        }
    }

    #[test]
    fn dossier_consent_alone_is_the_latest_dossier_event(
        events in prop::collection::vec(dossier_event(), 0..10),
        ask in ask(),
    ) {
        // R38: with only dossier_consent_* events, consent(x, h) is a
        // permit iff the latest dossier event for h at or before t is a give
        // (RULES.md notation), for every requester and data category.
        let latest = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.holder == ask.holder && e.at <= ask.t)
            .max_by_key(|(i, e)| (e.at, *i));
        let v = implementation(&events, &ask);
        prop_assert_eq!(v.answer == Answer::Permit, latest.is_some_and(|(_, e)| e.choice == Some(true)));
        let expected = match latest {
            None => Answer::NoChoice,
            Some((_, e)) if e.choice == Some(true) => Answer::Permit,
            Some(_) => Answer::Refused,
        };
        prop_assert_eq!(v.answer, expected);
        prop_assert_eq!(v.deciding, latest.map(|(i, _)| i).into_iter().collect::<BTreeSet<_>>());
        prop_assert!(!v.unconfirmed && !v.category_unknown);
    }

    #[test]
    fn the_age_agrees_with_the_iana_calendar(
        // From 1996 on the EU summer-time rule holds in the Netherlands; the
        // resolver applies it to earlier years too (docs/consent.md), where
        // the IANA history differs.
        year in 1996i32..2090,
        month in 1u32..=12,
        day in 1u32..=31,
        years in 0i64..20,
        minutes in -4000i64..4000,
    ) {
        let Some(birth) = BirthDate::new(u32::try_from(year).unwrap(), month, day) else {
            return Ok(());
        };
        let text = birth.to_string();
        // Instants within three days of a birthday, in minutes.
        let anniversary = nth_birthday(civil(&text), i16::try_from(years).unwrap());
        let zone = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
        let midnight = anniversary.to_zoned(zone).unwrap().timestamp().as_second();
        let t = Timestamp::from_unix(midnight + minutes * 60, 0).unwrap();
        prop_assert_eq!(birth.age_at(t), oracle_age(&text, t), "{} at {}", text, t);
        prop_assert_eq!(birth.is_minor_at(t), oracle_minor(Some(&text), t), "{} at {}", text, t);
    }

    #[test]
    fn leap_day_births_age_on_the_first_of_march(
        leap in prop::sample::select(vec![1996u32, 2000, 2008, 2012, 2020, 2024, 2084, 2096]),
        years in 0i64..20,
        minutes in -3000i64..3000,
    ) {
        let birth = BirthDate::new(leap, 2, 29).unwrap();
        let text = birth.to_string();
        let anniversary = nth_birthday(civil(&text), i16::try_from(years).unwrap());
        let zone = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
        let midnight = anniversary.to_zoned(zone).unwrap().timestamp().as_second();
        let t = Timestamp::from_unix(midnight + minutes * 60, 0).unwrap();
        prop_assert_eq!(birth.age_at(t), oracle_age(&text, t));
        prop_assert_eq!(birth.is_minor_at(t), oracle_minor(Some(&text), t));
    }
}

/// `strong` made less specific on the axes `axes` names (bit 0 holder, 1
/// requester, 2 data) where it can be and still apply; `None` when no axis
/// changes
fn generalised(strong: &Ev, ask: &Ask, axes: u8, choice: bool) -> Option<Ev> {
    let mut weaker = Ev {
        choice: Some(choice),
        ..strong.clone()
    };
    let mut changed = false;
    if axes & 1 != 0
        && strong.holder_is_org
        && let Some(hc) = ask.holder_category
    {
        weaker.holder_is_org = false;
        weaker.holder = hc;
        changed = true;
    }
    if axes & 2 != 0 && strong.requester.is_some() {
        weaker.requester = None;
        changed = true;
    }
    if axes & 4 != 0
        && let Some(d) = strong.data
    {
        // From `g` to a category covering it, else (and from a covering one)
        // to every category.
        let cover = COVERS
            .iter()
            .find(|(_, down)| *down == ask.data)
            .map(|(up, _)| *up);
        weaker.data = if d == ask.data { cover } else { None };
        changed = true;
    }
    changed.then_some(weaker)
}

// --- The minor rule at its boundaries, spelled out -------------------------------

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// A 15-year-old's permit, unconfirmed, asked about at `t`
fn minor_permit_at(birth: &'static str, t: Timestamp) -> Resolution {
    let events = [StatementEvent {
        key: StatementKey::mitz(Holder::Organisation("h0"), "RPZAC005", "GGC002"),
        choice: Some(Choice::Permit),
        at: at("2020-01-01T00:00:00Z"),
    }];
    let q = Question {
        holder: "h0",
        holder_category: Some("huisartsen"),
        requester_category: Some("RPZAC005"),
        data: "GGC013",
        covers: COVERS,
        age: AgeFacts::at(Some(BirthDate::parse(birth).unwrap()), None, t),
        at: t,
    };
    resolve(&events, &q)
}

#[test]
fn fifteen_years_and_364_days_is_a_minor_and_the_sixteenth_birthday_is_not() {
    // Born 2010-06-15: 15 on 2025-06-15; 364 days later is 2026-06-14, the
    // day before the 16th birthday (Dutch summer time, UTC+2).
    let r = minor_permit_at("2010-06-15", at("2026-06-14T12:00:00Z"));
    assert_eq!(r.answer(), Answer::NoChoice);
    assert!(r.unconfirmed(), "reason consent_unconfirmed");
    let r = minor_permit_at("2010-06-15", at("2026-06-14T21:59:59Z"));
    assert_eq!(r.answer(), Answer::NoChoice, "23:59:59 in Amsterdam");
    let r = minor_permit_at("2010-06-15", at("2026-06-14T22:00:00Z"));
    assert_eq!(r.answer(), Answer::Permit, "00:00 on the 16th birthday");
    assert!(!r.unconfirmed());
    // Oracle and implementation agree on those instants too.
    for s in [
        "2026-06-14T12:00:00Z",
        "2026-06-14T21:59:59Z",
        "2026-06-14T22:00:00Z",
    ] {
        let b = BirthDate::parse("2010-06-15").unwrap();
        assert_eq!(
            b.is_minor_at(at(s)),
            oracle_minor(Some("2010-06-15"), at(s))
        );
    }
}

#[test]
fn a_leap_day_child_turns_sixteen_on_29_february_or_on_1_march() {
    // 2008-02-29 + 16 = 2024-02-29, a leap year: the birthday itself.
    assert_eq!(
        minor_permit_at("2008-02-29", at("2024-02-28T22:59:59Z")).answer(),
        Answer::NoChoice
    );
    assert!(minor_permit_at("2008-02-29", at("2024-02-28T23:00:00Z")).is_permit());
    // 2084-02-29 + 16 = 2100, which has no 29 February: 1 March.
    assert_eq!(
        minor_permit_at("2084-02-29", at("2100-02-28T12:00:00Z")).answer(),
        Answer::NoChoice
    );
    assert_eq!(
        minor_permit_at("2084-02-29", at("2100-02-28T22:59:59Z")).answer(),
        Answer::NoChoice
    );
    assert!(minor_permit_at("2084-02-29", at("2100-02-28T23:00:00Z")).is_permit());
    assert_eq!(oracle_age("2084-02-29", at("2100-02-28T23:00:00Z")), 16);
    assert_eq!(oracle_age("2084-02-29", at("2100-02-28T22:59:59Z")), 15);
}

#[test]
fn the_oracle_sees_the_cases_of_the_notes() {
    // A check on the oracle itself, with the Mitz notes' example notification
    // (holder h0 permits pharmacies, refuses GGZ).
    let ev = |requester, choice| Ev {
        origin: "mitz",
        holder_is_org: true,
        holder: "h0",
        requester: Some(requester),
        data: Some("GGC002"),
        choice: Some(choice),
        at: 1,
    };
    let events = [ev("RPZAC005", true), ev("RPZAC003", false)];
    let ask = |requester| Ask {
        holder: "h0",
        holder_category: Some("huisartsen"),
        requester_category: Some(requester),
        data: "GGC013",
        t: 2,
        birth_date: None,
        confirmations: vec![],
    };
    assert_eq!(oracle(&events, &ask("RPZAC005")).answer, Answer::Permit);
    assert_eq!(oracle(&events, &ask("RPZAC003")).answer, Answer::Refused);
    assert_eq!(oracle(&events, &ask("RPZAC104")).answer, Answer::NoChoice);
    for requester in ["RPZAC005", "RPZAC003", "RPZAC104"] {
        assert_eq!(
            implementation(&events, &ask(requester)),
            oracle(&events, &ask(requester))
        );
    }
}

#[test]
fn the_generated_worlds_reach_every_answer_and_flag() {
    // The properties above are only as good as the worlds they see: every
    // answer, both flags, ties, minors and domination must be common.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let n = 4000;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for _ in 0..n {
        let events = events().new_tree(&mut runner).unwrap().current();
        let ask = ask().new_tree(&mut runner).unwrap().current();
        let (v, seen) = oracle_seen(&events, &ask);
        let mut hit = |what| *count.entry(what).or_default() += 1;
        match v.answer {
            Answer::Permit => hit("permit"),
            Answer::NoChoice => hit("no choice"),
            Answer::Refused => hit("refused"),
        }
        if v.unconfirmed {
            hit("unconfirmed");
        }
        if v.category_unknown {
            hit("category unknown");
        }
        if oracle_minor(ask.birth_date, hour(ask.t)) {
            hit("minor");
        }
        if seen.applying.len() > seen.undominated.len() {
            hit("a dominated statement");
        }
        let choices: BTreeSet<_> = seen.undominated.iter().map(|&i| events[i].choice).collect();
        if choices.len() == 2 {
            hit("a tie of permit and refusal");
        }
        if seen.undominated.len() > 1 {
            hit("several undominated");
        }
    }
    for what in [
        "permit",
        "no choice",
        "refused",
        "unconfirmed",
        "category unknown",
        "minor",
        "a dominated statement",
        "a tie of permit and refusal",
        "several undominated",
    ] {
        let c = count.get(what).copied().unwrap_or(0);
        assert!(c * 50 >= n, "only {c} of {n} worlds have {what}: {count:?}");
    }
}

#[test]
fn a_minors_unconfirmed_repetition_of_a_confirmed_refusal_still_refuses() {
    // The case that decides how R41 reads: adding a refusal must not open.
    let refusal = |at| Ev {
        origin: "mitz",
        holder_is_org: true,
        holder: "h0",
        requester: Some("RPZAC005"),
        data: Some("GGC002"),
        choice: Some(false),
        at,
    };
    let give = Ev {
        origin: "dossier",
        holder_is_org: true,
        holder: "h0",
        requester: None,
        data: None,
        choice: Some(true),
        at: 0,
    };
    let ask = Ask {
        holder: "h0",
        holder_category: Some("huisartsen"),
        requester_category: Some("RPZAC005"),
        data: "GGC013",
        t: 10,
        birth_date: Some("2012-06-01"),
        confirmations: vec![3],
    };
    let before = [give.clone(), refusal(2)];
    let after = [give, refusal(2), refusal(5)];
    for events in [&before[..], &after[..]] {
        let v = implementation(events, &ask);
        assert_eq!(v, oracle(events, &ask));
        assert_eq!(v.answer, Answer::Refused);
        assert_eq!(v.deciding, BTreeSet::from([1]));
    }
    assert!(implementation(&after, &ask).unconfirmed);
}

// --- Through the engine: decisions use the resolved consent (R39–R42) ---------

/// A provider type of each holder category of the generators (`None`: no
/// provider type, R42)
fn provider_of_holder(c: Option<&str>) -> Option<&'static str> {
    match c {
        Some("huisartsen") => Some("Z3"),
        Some("ziekenhuizen") => Some("V4"),
        _ => None,
    }
}

/// A provider type of each requesting category of the generators
fn provider_of_requester(c: Option<&str>) -> Option<&'static str> {
    match c {
        Some("RPZAC001") => Some("Z3"),
        Some("RPZAC005") => Some("J8"),
        _ => None,
    }
}

/// Mitz events as Mitz records them: a requesting category and a data
/// category always (the every-requester and every-category statements are
/// the holders' own consents)
fn engine_events() -> impl Strategy<Value = Vec<Ev>> {
    let mitz = mitz_event().prop_filter("a Mitz event names both categories", |e| {
        e.requester.is_some() && e.data.is_some()
    });
    prop::collection::vec(prop_oneof![3 => mitz, 1 => dossier_event()], 0..16)
}

/// The world of one case: holders `h0`, `h1` with the holder categories
/// given, a requesting organisation `o` with a practitioner (a `huisarts`,
/// who may see every category) in treatment with access requested, the
/// patient with the birth date, the holders' treatment relationships, the
/// events and the confirmations
fn engine_world(
    events: &[Ev],
    holder_categories: [Option<&str>; 2],
    requester: Option<&str>,
    birth_date: Option<&str>,
    confirmations: &[u32],
) -> zorg_pdp::Engine {
    use zorg_pdp::{Engine, EntityRecord, Event};
    let engine = Engine::new().unwrap();
    let entity = |json: String| {
        let record = EntityRecord::from_json(&json).unwrap();
        engine.register(record).unwrap();
    };
    let typed = |t: Option<&str>| t.map_or(String::new(), |t| format!(r#","provider_type":"{t}""#));
    for (org, c) in ORGS.iter().zip(holder_categories) {
        entity(format!(
            r#"{{"organisation":{{"id":"{org}"{}}}}}"#,
            typed(provider_of_holder(c))
        ));
    }
    entity(format!(
        r#"{{"organisation":{{"id":"o"{}}}}}"#,
        typed(provider_of_requester(requester))
    ));
    entity(r#"{"practitioner":{"id":"p","organisation":"o","role":"huisarts"}}"#.into());
    let birth = birth_date.map_or(String::new(), |b| format!(r#","birth_date":"{b}""#));
    entity(format!(r#"{{"patient":{{"id":"x"{birth}}}}}"#));
    let apply = |json: String| {
        engine.apply(&Event::from_json(&json).unwrap()).unwrap();
    };
    let before = "2025-12-31T00:00:00Z";
    apply(format!(
        r#"{{"at":"{before}","type":"treatment_started","patient":"x","organisation":"o"}}"#
    ));
    apply(format!(
        r#"{{"at":"{before}","type":"access_requested","patient":"x","practitioner":"p"}}"#
    ));
    // The holders treated the patient: they hold data and are on every dashboard.
    for org in ORGS {
        apply(format!(
            r#"{{"at":"{before}","type":"treatment_started","patient":"x","organisation":"{org}"}}"#
        ));
    }
    for e in events {
        let at = hour(e.at);
        let json = if e.origin == "dossier" {
            let t = if e.choice == Some(true) {
                "dossier_consent_given"
            } else {
                "dossier_consent_withdrawn"
            };
            format!(
                r#"{{"at":"{at}","type":"{t}","patient":"x","holder":"{}"}}"#,
                e.holder
            )
        } else {
            let holder = if e.holder_is_org {
                format!(r#""holder":"{}""#, e.holder)
            } else {
                format!(r#""holder_category":"{}""#, e.holder)
            };
            let (t, choice) = match e.choice {
                Some(true) => ("mitz_choice_recorded", r#","choice":"permit""#),
                Some(false) => ("mitz_choice_recorded", r#","choice":"deny""#),
                None => ("mitz_choice_cleared", ""),
            };
            format!(
                r#"{{"at":"{at}","type":"{t}","patient":"x",{holder},"data_category":"{}","requester_category":"{}"{choice}}}"#,
                e.data.unwrap_or_default(),
                e.requester.unwrap_or_default(),
            )
        };
        apply(json);
    }
    for &c in confirmations {
        apply(format!(
            r#"{{"at":"{}","type":"mitz_choices_confirmed","patient":"x"}}"#,
            hour(c)
        ));
    }
    engine
}

/// The dashboard category of each Mitz data category (SPEC.md §7.2)
const CATEGORY_OF: [(&str, &str); 3] = [
    ("GGC002", "basis"),
    ("GGC012", "labuitslagen"),
    ("GGC013", "medicatie"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..config() })]

    /// R39–R42 through the whole engine: a `view` of another holder's data
    /// is allowed exactly when the oracle resolves a permit for the
    /// category's data category, and a deny carries `consent_refused` and
    /// `consent_unconfirmed` exactly when the oracle says so; a dashboard
    /// shows exactly the categories its views allow (R44)
    #[test]
    fn the_engine_decides_with_the_resolved_consent(
        events in engine_events(),
        holder_categories in [
            prop::option::weighted(0.8, 0..HOLDER_CATEGORIES.len()),
            prop::option::weighted(0.8, 0..HOLDER_CATEGORIES.len()),
        ],
        requester in prop::option::weighted(0.8, 0..REQUESTER_CATEGORIES.len()),
        b in 0..BIRTH_DATES.len(),
        confirmations in prop::collection::vec(0..HOURS + 2, 0..3),
        t in 0..HOURS + 2,
    ) {
        use zorg_pdp::{Decision, Reason};
        let holder_categories = holder_categories.map(|c| c.map(|i| HOLDER_CATEGORIES[i]));
        let requester = requester.map(|i| REQUESTER_CATEGORIES[i]);
        let engine = engine_world(&events, holder_categories, requester, BIRTH_DATES[b], &confirmations);
        let when = hour(t).to_string();
        for (h, holder_category) in ORGS.iter().zip(holder_categories) {
            let board = engine
                .dashboard(&zorg_pdp::DashboardQuery::from_json(&format!(
                    r#"{{"principal":{{"practitioner":"p"}},"patient":"x","at":"{when}","mfa":true,"purpose":"treatment"}}"#
                )).unwrap())
                .unwrap();
            let shown = board.holders.iter().find(|v| v.holder.as_str() == *h);
            prop_assert!(shown.is_some(), "{} is on the dashboard", h);
            for (data, category) in CATEGORY_OF {
                let ask = Ask {
                    holder: h,
                    holder_category,
                    requester_category: requester,
                    data,
                    t,
                    birth_date: BIRTH_DATES[b],
                    confirmations: confirmations.clone(),
                };
                let want = oracle(&events, &ask);
                let r = engine.decide(&crate::common::view("p", "x", h, category, &when));
                let what = format!("{h} {category} at {when}: {r:?}, oracle {want:?}");
                prop_assert_eq!(r.decision == Decision::Allow, want.answer == Answer::Permit, "{}", what);
                prop_assert_eq!(r.reasons.contains(&Reason::ConsentRefused), want.answer == Answer::Refused, "{}", what);
                prop_assert_eq!(r.reasons.contains(&Reason::ConsentUnconfirmed), want.unconfirmed, "{}", what);
                if r.decision == Decision::Deny {
                    prop_assert!(r.reasons.contains(&Reason::NoDossierConsent), "{}", what);
                }
                let on_board = shown.is_some_and(|v| v.visible.iter().any(|c| c.as_str() == category));
                prop_assert_eq!(on_board, r.decision == Decision::Allow, "dashboard: {}", what);
            }
        }
    }
}

#[test]
fn the_engine_worlds_reach_allow_refused_and_unconfirmed() {
    // The engine property above sees every outcome often: an allow, each of
    // the two consent reasons, and a category lookup that fails (R42).
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    use zorg_pdp::{Decision, Reason};
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[11; 32]),
    );
    let n = 150;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for i in 0..n {
        let events = engine_events().new_tree(&mut runner).unwrap().current();
        let birth = BIRTH_DATES[i % BIRTH_DATES.len()];
        let requester = [None, Some("RPZAC001"), Some("RPZAC005")][i % 3];
        let holders = [Some("huisartsen"), [None, Some("ziekenhuizen")][i % 2]];
        let engine = engine_world(
            &events,
            holders,
            requester,
            birth,
            &[u32::try_from(i % 20).unwrap()],
        );
        for t in [5, 15, 31] {
            let when = hour(t).to_string();
            for h in ORGS {
                for (_, category) in CATEGORY_OF {
                    let r = engine.decide(&crate::common::view("p", "x", h, category, &when));
                    let mut hit = |what| *count.entry(what).or_default() += 1;
                    if r.decision == Decision::Allow {
                        hit("allow");
                    }
                    if r.reasons.contains(&Reason::ConsentRefused) {
                        hit("refused");
                    }
                    if r.reasons.contains(&Reason::ConsentUnconfirmed) {
                        hit("unconfirmed");
                    }
                }
            }
        }
    }
    for what in ["allow", "refused", "unconfirmed"] {
        let c = count.get(what).copied().unwrap_or(0);
        assert!(c >= 20, "only {c} decisions with {what}: {count:?}");
    }
}

// --- The consent questions (SPEC.md §7.5) -------------------------------------

/// The id `consent_check` gives the statement of event `e`
fn statement_id(e: &Ev) -> String {
    let holder = if e.holder_is_org {
        format!("org:{}", e.holder)
    } else {
        format!("category:{}", e.holder)
    };
    format!(
        "{holder}/{}/{}",
        e.requester.unwrap_or("*"),
        e.data.unwrap_or("*")
    )
}

/// What `consent_check` should answer, from the oracle
fn oracle_check(events: &[Ev], ask: &Ask) -> (zorg_pdp::ConsentAnswer, BTreeSet<String>) {
    use zorg_pdp::ConsentAnswer as C;
    let v = oracle(events, ask);
    if v.category_unknown {
        return (C::Indeterminate, BTreeSet::new());
    }
    let answer = match v.answer {
        Answer::Permit => C::Permit,
        Answer::NoChoice => C::NoChoice,
        Answer::Refused => C::Refused,
    };
    (
        answer,
        v.deciding
            .iter()
            .map(|&i| statement_id(&events[i]))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..config() })]

    /// `consent_check`, `consent_locate` and `consent_overview` answer what
    /// the oracle resolves (R37–R42, R44): per holder and data category the
    /// answer, the deciding statements, the reasons; locate lists exactly
    /// the holders with a permitted data category; the overview's answers
    /// are the checks of every requesting category, and its statements are
    /// the oracle's statements in force
    #[test]
    fn the_consent_questions_answer_as_the_oracle(
        events in engine_events(),
        holder_categories in [
            prop::option::weighted(0.8, 0..HOLDER_CATEGORIES.len()),
            prop::option::weighted(0.8, 0..HOLDER_CATEGORIES.len()),
        ],
        requester in prop::option::weighted(0.8, 0..REQUESTER_CATEGORIES.len()),
        b in 0..BIRTH_DATES.len(),
        confirmations in prop::collection::vec(0..HOURS + 2, 0..3),
        t in 0..HOURS + 2,
    ) {
        use zorg_pdp::{ConsentAnswer, ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery, Reason};
        let holder_categories = holder_categories.map(|c| c.map(|i| HOLDER_CATEGORIES[i]));
        let requester = requester.map(|i| REQUESTER_CATEGORIES[i]);
        let engine = engine_world(&events, holder_categories, requester, BIRTH_DATES[b], &confirmations);
        let when = hour(t).to_string();
        let ask_for = |h: &'static str, hc, rc, data| Ask {
            holder: h,
            holder_category: hc,
            requester_category: rc,
            data,
            t,
            birth_date: BIRTH_DATES[b],
            confirmations: confirmations.clone(),
        };
        let mut located = BTreeSet::new();
        for (h, hc) in ORGS.iter().zip(holder_categories) {
            let check = engine.consent_check(&ConsentCheckQuery::from_json(&format!(
                r#"{{"patient":"x","holder":"{h}","requester":"o","data_categories":["GGC002","GGC012","GGC013"],"at":"{when}"}}"#
            )).unwrap()).unwrap();
            prop_assert_eq!(check.answers.len(), 3);
            for (a, data) in check.answers.iter().zip(DATA) {
                let ask = ask_for(h, hc, requester, data);
                let (want, deciding) = oracle_check(&events, &ask);
                // the reasons a `view` gives, which ignores a missing category
                let view = oracle(&events, &ask);
                let what = format!("{h} {data} at {when}: {:?}", a.answer);
                prop_assert_eq!(a.data_category.as_str(), data);
                prop_assert_eq!(a.answer, want, "{}", what);
                prop_assert_eq!(a.statements.iter().cloned().collect::<BTreeSet<_>>(), deciding, "{}", what);
                prop_assert_eq!(a.reasons.is_empty(), want == ConsentAnswer::Permit, "{}", what);
                prop_assert_eq!(a.reasons.contains(&Reason::ConsentRefused), view.answer == Answer::Refused, "{}", what);
                prop_assert_eq!(a.reasons.contains(&Reason::ConsentUnconfirmed), view.unconfirmed, "{}", what);
                if want == ConsentAnswer::Permit {
                    located.insert(*h);
                }
            }
        }
        let locate = engine.consent_locate(&ConsentLocateQuery::from_json(&format!(
            r#"{{"patient":"x","requester":"o","at":"{when}"}}"#
        )).unwrap()).unwrap();
        let listed: BTreeSet<&str> = locate.holders.iter().map(|l| l.holder.as_str()).collect();
        // `o` is a dashboard holder too (treated, no consent at itself):
        // listed only when a statement permits it, which none of `ORGS` makes
        // (its provider type, Z3 or J8, makes it a huisarts or an apotheek as a holder)
        let o_category = match requester {
            Some("RPZAC001") => Some("huisartsen"),
            Some("RPZAC005") => Some("apotheken"),
            _ => None,
        };
        let oracle_o = DATA.iter().any(|d| {
            oracle_check(&events, &ask_for("o", o_category, requester, d)).0 == ConsentAnswer::Permit
        });
        let mut want = located.clone();
        if oracle_o {
            want.insert("o");
        }
        prop_assert_eq!(listed, want);
        let overview = engine.consent_overview(&ConsentOverviewQuery::from_json(&format!(
            r#"{{"principal":{{"patient":"x"}},"patient":"x","at":"{when}"}}"#
        )).unwrap()).unwrap();
        // three holders (h0, h1, o) × seven requesting categories × three data categories
        prop_assert_eq!(overview.answers.len(), 3 * 7 * 3);
        for a in &overview.answers {
            let Some(i) = ORGS.iter().position(|h| *h == a.holder.as_str()) else { continue };
            let rc: &'static str = ["RPZAC001", "RPZAC003", "RPZAC004", "RPZAC005", "RPZAC103", "RPZAC104", "RPZAC200"]
                .into_iter()
                .find(|c| *c == a.requester_category.as_str())
                .unwrap();
            let data = DATA.into_iter().find(|d| *d == a.data_category.as_str()).unwrap();
            let (want, deciding) = oracle_check(&events, &ask_for(ORGS[i], holder_categories[i], Some(rc), data));
            prop_assert_eq!(a.answer, want, "overview {} {} {}", ORGS[i], rc, data);
            prop_assert_eq!(a.statements.iter().cloned().collect::<BTreeSet<_>>(), deciding);
        }
        // Every requesting category counts as given: "all seven" statements
        let every_counts = Ask { requester_category: None, ..ask_for("h0", None, None, "GGC002") };
        let in_force: BTreeSet<String> = statements_in_force(&events, t, |_| true)
            .into_iter()
            .map(|i| statement_id(&events[i]))
            .collect();
        let listed: BTreeSet<String> = overview.statements.iter().map(|s| s.id.clone()).collect();
        prop_assert_eq!(listed, in_force);
        for s in &overview.statements {
            // the latest of its key by time, then arrival
            let (_, e) = events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at <= t && statement_id(e) == s.id)
                .max_by_key(|(i, e)| (e.at, *i))
                .unwrap();
            prop_assert_eq!(s.counts, counts(e, &every_counts), "{}", s.id);
        }
    }
}

/// The birth-care world of `policies/tests/r36-r44-mitz.toml`, with every
/// event applied
fn mitz_world() -> zorg_pdp::Engine {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/tests/r36-r44-mitz.toml"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    let scenario = zorg_pdp::Scenario::parse(&text, path).unwrap();
    let engine = zorg_pdp::Engine::new().unwrap();
    scenario.load_into(&engine, path, Some(&text)).unwrap();
    engine
}

#[test]
fn the_consent_questions_are_audited_with_their_answers() {
    use std::sync::Arc;
    use zorg_pdp::audit::{AuditAction, ConsentTag, verify_records};
    use zorg_pdp::{
        AuditSink, ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery, Decision,
        MemorySink, Reason,
    };
    let engine = mitz_world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let at = r#""at":"2026-02-02T10:00:00Z""#;
    engine
        .consent_check(&ConsentCheckQuery::from_json(&format!(
            r#"{{"principal":{{"practitioner":"anna"}},"patient":"client-1","holder":"zh-noord","requester":"kz-oost","data_categories":["GGC013","GGC002"],{at}}}"#
        )).unwrap())
        .unwrap();
    engine
        .consent_locate(
            &ConsentLocateQuery::from_json(&format!(
                r#"{{"patient":"client-1","requester":"kz-oost",{at}}}"#
            ))
            .unwrap(),
        )
        .unwrap();
    engine
        .consent_overview(
            &ConsentOverviewQuery::from_json(&format!(
                r#"{{"principal":{{"patient":"client-1"}},"patient":"client-1",{at}}}"#
            ))
            .unwrap(),
        )
        .unwrap();
    // An unknown id is an error and leaves no record
    assert!(engine
        .consent_check(&ConsentCheckQuery::from_json(&format!(
            r#"{{"patient":"client-1","holder":"nergens","requester":"kz-oost","data_categories":["GGC013"],{at}}}"#
        )).unwrap())
        .is_err());
    let records = sink.drain().unwrap();
    assert!(verify_records(&records).first_break.is_none());
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    // two data categories; three candidate holders; one overview
    assert_eq!(
        actions,
        [
            "consent_check",
            "consent_check",
            "consent_locate",
            "consent_locate",
            "consent_locate",
            "consent_overview"
        ]
    );
    let (medication, basis) = (&records[0], &records[1]);
    assert_eq!(
        medication.action,
        AuditAction::Consent(ConsentTag::ConsentCheck)
    );
    assert_eq!(medication.principal.id, "anna");
    assert_eq!(
        medication.principal.organisation.as_ref().unwrap().as_str(),
        "kz-oost"
    );
    assert_eq!(medication.decision, Decision::Allow);
    assert_eq!(medication.holder.as_ref().unwrap().as_str(), "zh-noord");
    assert_eq!(
        medication.data_categories.as_ref().unwrap()[0].as_str(),
        "GGC013"
    );
    assert_eq!(
        medication.statements.as_deref().unwrap(),
        ["org:zh-noord/RPZAC004/GGC013"]
    );
    assert!(medication.checks.consent);
    assert_eq!(basis.decision, Decision::Deny);
    assert_eq!(
        basis.reasons,
        [Reason::NoDossierConsent, Reason::ConsentRefused]
    );
    // locate: the hospital allowed with its medication, the others denied;
    // the organisation asks when no principal is given
    let located: Vec<(&str, Decision)> = records[2..5]
        .iter()
        .map(|r| (r.holder.as_ref().unwrap().as_str(), r.decision))
        .collect();
    assert_eq!(
        located,
        [
            ("ggz-zuid", Decision::Deny),
            ("kz-oost", Decision::Deny),
            ("zh-noord", Decision::Allow)
        ]
    );
    assert_eq!(records[2].principal.id, "kz-oost");
    assert_eq!(records[5].statements.as_ref().unwrap().len(), 4);
    // A consent question is not an access to the patient's data
    assert!(
        zorg_pdp::audit::overview(&records, &zorg_pdp::PatientId::new("client-1").unwrap())
            .is_empty()
    );
}
