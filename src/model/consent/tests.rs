//! The rules of RULES.md §J one by one, with the resolution cases of
//! MITZ-AUTHZEN-NOTES.md §3.2, the in-force selection and the minor rule's
//! age at its boundaries.

use super::*;

const COVERS: &[(&str, &str)] = &[("GGC002", "GGC012"), ("GGC002", "GGC013")];

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn day(n: i64) -> Timestamp {
    Timestamp::from_unix(1_767_225_600 + n * 86_400, 0).unwrap()
}

/// A GP practice `gp` (huisartsen) asked by a pharmacy (RPZAC005) for `data`
fn question(data: &'static str) -> Question<'static, &'static str> {
    Question {
        holder: "gp",
        holder_category: Some("huisartsen"),
        requester_category: Some("RPZAC005"),
        data,
        covers: COVERS,
        age: AgeFacts::ADULT,
        at: day(100),
    }
}

fn mitz(
    holder: Holder<&'static str>,
    requester: &'static str,
    data: &'static str,
    choice: Choice,
    at: Timestamp,
) -> Statement<&'static str> {
    Statement {
        key: StatementKey::mitz(holder, requester, data),
        choice,
        at,
    }
}

fn dossier(holder: &'static str, choice: Choice, at: Timestamp) -> Statement<&'static str> {
    Statement {
        key: StatementKey::dossier(holder),
        choice,
        at,
    }
}

fn org(id: &'static str) -> Holder<&'static str> {
    Holder::Organisation(id)
}

fn cat(id: &'static str) -> Holder<&'static str> {
    Holder::Category(id)
}

use Choice::{Deny, Permit};

/// The events that record `statements`, in this order
fn events_of(statements: &[Statement<&'static str>]) -> Vec<StatementEvent<&'static str>> {
    statements
        .iter()
        .copied()
        .map(StatementEvent::from)
        .collect()
}

// --- MITZ-AUTHZEN-NOTES.md §3.2 ------------------------------------------

#[test]
fn no_choice_recorded_is_no_choice() {
    let r = resolve::<&str>(&[], &question("GGC002"));
    assert_eq!(r.answer(), Answer::NoChoice);
    assert!(!r.is_permit());
    assert!(r.deciding().is_empty());
    assert!(!r.unconfirmed() && !r.category_unknown());
}

/// The notes' example notification: GP practice Z3 permits pharmacies
/// (RPZAC005) for GGC002 and refuses RPZAC001, RPZAC104 and RPZAC200
fn notification() -> Vec<Statement<&'static str>> {
    let at = day(10);
    vec![
        mitz(org("gp"), "RPZAC005", "GGC002", Permit, at),
        mitz(org("gp"), "RPZAC001", "GGC002", Deny, at),
        mitz(org("gp"), "RPZAC104", "GGC002", Deny, at),
        mitz(org("gp"), "RPZAC200", "GGC002", Deny, at),
        mitz(org("gp"), "RPZAC003", "GGC002", Deny, at),
    ]
}

#[test]
fn a_listed_requesting_category_is_permitted() {
    let r = resolve(&events_of(&notification()), &question("GGC002"));
    assert_eq!(r.answer(), Answer::Permit);
    assert_eq!(r.deciding(), &[0]);
}

#[test]
fn a_refused_requesting_category_is_refused() {
    for (requester, id) in [("RPZAC003", 4), ("RPZAC200", 3), ("RPZAC104", 2)] {
        let q = Question {
            requester_category: Some(requester),
            ..question("GGC002")
        };
        let r = resolve(&events_of(&notification()), &q);
        assert_eq!(r.answer(), Answer::Refused, "{requester}");
        assert_eq!(r.deciding(), &[id], "{requester}");
    }
    let q = Question {
        requester_category: Some("RPZAC103"),
        ..question("GGC002")
    };
    assert_eq!(
        resolve(&events_of(&notification()), &q).answer(),
        Answer::NoChoice,
        "a category the notification does not name has no choice"
    );
}

#[test]
fn ggc002_covers_ggc012_and_ggc013_but_not_the_other_way_round() {
    // R40
    let broad = [mitz(org("gp"), "RPZAC005", "GGC002", Permit, day(1))];
    assert!(resolve(&events_of(&broad), &question("GGC013")).is_permit());
    assert!(resolve(&events_of(&broad), &question("GGC012")).is_permit());
    let narrow = [mitz(org("gp"), "RPZAC005", "GGC013", Permit, day(1))];
    assert!(resolve(&events_of(&narrow), &question("GGC013")).is_permit());
    assert_eq!(
        resolve(&events_of(&narrow), &question("GGC002")).answer(),
        Answer::NoChoice
    );
    assert_eq!(
        resolve(&events_of(&narrow), &question("GGC012")).answer(),
        Answer::NoChoice
    );
    // Without the covering relation a GGC002 permit answers only GGC002.
    let bare = Question {
        covers: &[],
        ..question("GGC013")
    };
    assert_eq!(
        resolve(&events_of(&broad), &bare).answer(),
        Answer::NoChoice
    );
}

#[test]
fn an_individual_objection_beats_a_categorical_permit() {
    // Hospitals (category) → RPZAC001 permit; an objection for hospital X.
    let statements = [
        mitz(cat("ziekenhuizen"), "RPZAC001", "GGC002", Permit, day(1)),
        mitz(org("hospital-x"), "RPZAC001", "GGC002", Deny, day(2)),
    ];
    let ask = |holder| Question {
        holder,
        holder_category: Some("ziekenhuizen"),
        requester_category: Some("RPZAC001"),
        ..question("GGC002")
    };
    let x = resolve(&events_of(&statements), &ask("hospital-x"));
    assert_eq!(x.answer(), Answer::Refused);
    assert_eq!(x.deciding(), &[1]);
    let y = resolve(&events_of(&statements), &ask("hospital-y"));
    assert_eq!(y.answer(), Answer::Permit);
    assert_eq!(y.deciding(), &[0]);
}

#[test]
fn an_individual_permit_beats_a_categorical_objection() {
    let statements = [
        mitz(cat("ziekenhuizen"), "RPZAC001", "GGC002", Deny, day(1)),
        mitz(org("hospital-x"), "RPZAC001", "GGC002", Permit, day(2)),
    ];
    let ask = |holder| Question {
        holder,
        holder_category: Some("ziekenhuizen"),
        requester_category: Some("RPZAC001"),
        ..question("GGC002")
    };
    assert!(resolve(&events_of(&statements), &ask("hospital-x")).is_permit());
    assert_eq!(
        resolve(&events_of(&statements), &ask("hospital-y")).answer(),
        Answer::Refused
    );
}

#[test]
fn a_permit_and_an_objection_equally_specific_is_refused() {
    // Two covering categories (a vocabulary may declare more than one), one
    // permitting, one refusing: equally specific.
    let covers = [("GGC002", "GGC013"), ("GGC099", "GGC013")];
    let statements = [
        mitz(cat("huisartsen"), "RPZAC005", "GGC002", Permit, day(1)),
        mitz(cat("huisartsen"), "RPZAC005", "GGC099", Deny, day(1)),
    ];
    let q = Question {
        covers: &covers,
        ..question("GGC013")
    };
    let r = resolve(&events_of(&statements), &q);
    assert_eq!(r.answer(), Answer::Refused);
    assert_eq!(r.deciding(), &[1]);
    // The holder's own consent beside a Mitz choice of the same scope (the
    // origin is part of the key, so neither replaces the other).
    let same_scope = [
        dossier("gp", Permit, day(1)),
        Statement {
            key: StatementKey {
                origin: Origin::Mitz,
                ..StatementKey::dossier("gp")
            },
            choice: Deny,
            at: day(2),
        },
    ];
    assert_eq!(
        resolve(&events_of(&same_scope), &question("GGC002")).answer(),
        Answer::Refused
    );
}

#[test]
fn incomparable_statements_tie_and_a_tie_never_permits() {
    // The holder's own consent (organisation, every, every) against a Mitz
    // refusal (category, category, g): each more specific on another axis.
    let statements = [
        dossier("gp", Permit, day(1)),
        mitz(cat("huisartsen"), "RPZAC005", "GGC002", Deny, day(2)),
    ];
    let r = resolve(&events_of(&statements), &question("GGC002"));
    assert_eq!(r.answer(), Answer::Refused);
    assert_eq!(r.deciding(), &[1]);
    // Both permits: both decide.
    let both = [
        dossier("gp", Permit, day(1)),
        mitz(cat("huisartsen"), "RPZAC005", "GGC002", Permit, day(2)),
    ];
    let r = resolve(&events_of(&both), &question("GGC002"));
    assert!(r.is_permit());
    assert_eq!(r.deciding(), &[0, 1]);
}

#[test]
fn the_asked_category_is_more_specific_than_a_covering_one() {
    // R36 on the data axis: GGC013 itself above GGC002 above every category.
    let statements = [
        mitz(org("gp"), "RPZAC005", "GGC002", Deny, day(1)),
        mitz(org("gp"), "RPZAC005", "GGC013", Permit, day(1)),
    ];
    assert!(resolve(&events_of(&statements), &question("GGC013")).is_permit());
    assert_eq!(
        resolve(&events_of(&statements), &question("GGC012")).answer(),
        Answer::Refused
    );
    assert_eq!(
        resolve(&events_of(&statements), &question("GGC002")).answer(),
        Answer::Refused
    );
    // A covering permit is above every category (the holder's own refusal
    // has every data category and every requester: dominated on two axes).
    let over_every = [
        Statement {
            key: StatementKey {
                requester: Requester::Category("RPZAC005"),
                ..StatementKey::dossier("gp")
            },
            choice: Deny,
            at: day(1),
        },
        mitz(org("gp"), "RPZAC005", "GGC002", Permit, day(1)),
    ];
    assert!(resolve(&events_of(&over_every), &question("GGC013")).is_permit());
}

#[test]
fn a_minor_choice_needs_a_guardian_confirmation() {
    // R41: aged 14 records a permit; no confirmation → no choice, flagged.
    let birth = BirthDate::parse("2012-01-01").unwrap();
    let at = t("2026-06-01T12:00:00Z");
    let recorded = t("2026-05-01T12:00:00Z");
    let statements = [mitz(org("gp"), "RPZAC005", "GGC002", Permit, recorded)];
    let ask = |confirmed| Question {
        age: AgeFacts::at(Some(birth), confirmed, at),
        at,
        ..question("GGC002")
    };
    let unconfirmed = resolve(&events_of(&statements), &ask(None));
    assert_eq!(unconfirmed.answer(), Answer::NoChoice);
    assert!(unconfirmed.unconfirmed());
    assert!(unconfirmed.deciding().is_empty());
    // Confirmed after the choice, before `at` → permit.
    let confirmed = resolve(
        &events_of(&statements),
        &ask(Some(t("2026-05-02T00:00:00Z"))),
    );
    assert!(confirmed.is_permit());
    assert!(!confirmed.unconfirmed());
    // Confirmed at the very instant of the choice → counts ("at or after").
    assert!(resolve(&events_of(&statements), &ask(Some(recorded))).is_permit());
    // A confirmation before the choice does not confirm it.
    let early = resolve(
        &events_of(&statements),
        &ask(Some(t("2026-04-30T00:00:00Z"))),
    );
    assert_eq!(early.answer(), Answer::NoChoice);
    assert!(early.unconfirmed());
    // A confirmation after `t` does not count yet.
    let late = resolve(
        &events_of(&statements),
        &ask(Some(t("2026-07-01T00:00:00Z"))),
    );
    assert_eq!(late.answer(), Answer::NoChoice);
    // Aged 16 → counts at once.
    let sixteen = BirthDate::parse("2010-01-01").unwrap();
    let q = Question {
        age: AgeFacts::at(Some(sixteen), None, at),
        at,
        ..question("GGC002")
    };
    assert!(resolve(&events_of(&statements), &q).is_permit());
    // Without a birth date: an adult.
    let q = Question {
        age: AgeFacts::at(None, None, at),
        at,
        ..question("GGC002")
    };
    assert!(resolve(&events_of(&statements), &q).is_permit());
}

#[test]
fn the_minor_rule_leaves_a_holders_own_consent_alone() {
    let minor = AgeFacts {
        minor: true,
        confirmed: None,
    };
    let q = Question {
        age: minor,
        ..question("GGC002")
    };
    let r = resolve(&events_of(&[dossier("gp", Permit, day(1))]), &q);
    assert!(r.is_permit(), "R41 is about Mitz choices only");
    assert!(!r.unconfirmed());
}

#[test]
fn unconfirmed_is_reported_only_for_a_choice_that_would_have_decided() {
    let minor = Question {
        age: AgeFacts {
            minor: true,
            confirmed: None,
        },
        ..question("GGC002")
    };
    // An unconfirmed refusal alone: no choice, and it would have decided.
    let refusal = [mitz(org("gp"), "RPZAC005", "GGC002", Deny, day(1))];
    let r = resolve(&events_of(&refusal), &minor);
    assert_eq!(r.answer(), Answer::NoChoice);
    assert!(r.unconfirmed());
    // The holder's own withdrawal refuses; an unconfirmed permit beside it
    // (incomparable) would not have changed the deciding refusal.
    let beside = [
        dossier("gp", Deny, day(1)),
        mitz(cat("huisartsen"), "RPZAC005", "GGC002", Permit, day(2)),
    ];
    let r = resolve(&events_of(&beside), &minor);
    assert_eq!(r.answer(), Answer::Refused);
    assert!(!r.unconfirmed());
    // An unconfirmed permit that dominates a counted refusal would have decided.
    let above = [
        dossier("gp", Deny, day(1)),
        mitz(org("gp"), "RPZAC005", "GGC002", Permit, day(2)),
    ];
    let r = resolve(&events_of(&above), &minor);
    assert_eq!(r.answer(), Answer::Refused);
    assert!(r.unconfirmed());
    assert_eq!(r.deciding(), &[0]);
    // A permit is never flagged.
    let r = resolve(
        &events_of(&[
            dossier("gp", Permit, day(1)),
            mitz(org("gp"), "RPZAC005", "GGC002", Permit, day(2)),
        ]),
        &minor,
    );
    assert!(r.is_permit());
    assert!(!r.unconfirmed());
}

#[test]
fn an_unmapped_organisation_belongs_to_no_category() {
    // R42: category statements never apply; its own statements still do.
    let statements = [
        mitz(cat("huisartsen"), "RPZAC005", "GGC002", Permit, day(1)),
        mitz(org("gp"), "RPZAC005", "GGC013", Permit, day(1)),
    ];
    let unmapped = Question {
        holder_category: None,
        ..question("GGC002")
    };
    let r = resolve(&events_of(&statements), &unmapped);
    assert_eq!(r.answer(), Answer::NoChoice);
    assert!(r.category_unknown(), "consent_check: indeterminate");
    let own = Question {
        holder_category: None,
        ..question("GGC013")
    };
    let r = resolve(&events_of(&statements), &own);
    assert!(r.is_permit());
    assert!(
        r.category_unknown(),
        "the category statement would apply too"
    );
    // An unmapped requester: requester-category statements never apply; the
    // holder's own consent (every requester) does.
    let no_requester = Question {
        requester_category: None,
        ..question("GGC002")
    };
    let r = resolve(&events_of(&[dossier("gp", Permit, day(1))]), &no_requester);
    assert!(r.is_permit());
    assert!(!r.category_unknown(), "no category was needed");
    let r = resolve(&events_of(&statements), &no_requester);
    assert_eq!(r.answer(), Answer::NoChoice);
    assert!(r.category_unknown());
    // A category statement for another holder's category is not "needed".
    let other = [mitz(org("hospital"), "RPZAC005", "GGC002", Permit, day(1))];
    assert!(!resolve(&events_of(&other), &unmapped).category_unknown());
}

// --- R38: the holder's own consent alone ---------------------------------

#[test]
fn dossier_consent_alone_is_the_old_rule() {
    let give = StatementEvent {
        key: StatementKey::dossier("gp"),
        choice: Some(Permit),
        at: day(1),
    };
    let withdraw = StatementEvent {
        choice: Some(Deny),
        at: day(2),
        ..give
    };
    let again = StatementEvent { at: day(3), ..give };
    let other_holder = StatementEvent {
        key: StatementKey::dossier("hospital"),
        ..give
    };
    let events = [give, withdraw, again, other_holder];
    let at = |n| Question {
        at: day(n),
        ..question("GGC002")
    };
    assert_eq!(resolve(&events, &at(0)).answer(), Answer::NoChoice);
    assert!(resolve(&events, &at(1)).is_permit());
    let withdrawn = resolve(&events, &at(2));
    assert_eq!(
        withdrawn.answer(),
        Answer::Refused,
        "R9, and consent_refused"
    );
    assert_eq!(withdrawn.deciding(), &[1]);
    let r = resolve(&events, &at(3));
    assert!(r.is_permit(), "R10");
    assert_eq!(r.deciding(), &[2]);
    // R8: consent for one holder says nothing about another.
    let hospital = Question {
        holder: "hospital",
        at: day(2),
        ..question("GGC002")
    };
    assert!(resolve(&events, &hospital).is_permit());
    // Every data category and every requester, mapped or not.
    for data in ["GGC002", "GGC012", "GGC013"] {
        let q = Question {
            requester_category: None,
            holder_category: None,
            ..at(3)
        };
        let q = Question { data, ..q };
        assert!(resolve(&events, &q).is_permit());
    }
}

// --- In force --------------------------------------------------------------

fn event(
    key: StatementKey<&'static str>,
    choice: Option<Choice>,
    at: Timestamp,
) -> StatementEvent<&'static str> {
    StatementEvent { key, choice, at }
}

#[test]
fn the_latest_statement_of_a_key_replaces_the_earlier_one() {
    let key = StatementKey::mitz(org("gp"), "RPZAC005", "GGC002");
    // Out of time order on purpose: arrival order does not matter.
    let events = [
        event(key, Some(Deny), day(5)),
        event(key, Some(Permit), day(1)),
        event(key, None, day(9)),
    ];
    let at = |n| Question {
        at: day(n),
        ..question("GGC002")
    };
    assert_eq!(resolve(&events, &at(0)).answer(), Answer::NoChoice);
    assert_eq!(resolve(&events, &at(1)).deciding(), &[1]);
    assert!(resolve(&events, &at(4)).is_permit());
    assert_eq!(resolve(&events, &at(5)).answer(), Answer::Refused);
    assert_eq!(
        resolve(&events, &at(9)).answer(),
        Answer::NoChoice,
        "cleared: back to no choice"
    );
    let in_force_at = |n| in_force(&events, day(n)).collect::<Vec<_>>();
    assert!(in_force_at(0).is_empty());
    assert_eq!(
        in_force_at(6),
        vec![(
            0,
            Statement {
                key,
                choice: Deny,
                at: day(5)
            }
        )]
    );
    assert!(in_force_at(9).is_empty());
}

#[test]
fn equal_times_are_ordered_by_arrival() {
    let key = StatementKey::mitz(org("gp"), "RPZAC005", "GGC002");
    let a = [
        event(key, Some(Permit), day(5)),
        event(key, Some(Deny), day(5)),
    ];
    let b = [
        event(key, Some(Deny), day(5)),
        event(key, Some(Permit), day(5)),
    ];
    let q = question("GGC002");
    assert_eq!(resolve(&a, &q).answer(), Answer::Refused);
    assert_eq!(resolve(&a, &q).deciding(), &[1]);
    assert_eq!(resolve(&b, &q).answer(), Answer::Permit);
    assert_eq!(
        in_force(&b, day(5)).map(|(i, _)| i).collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn keys_are_independent_and_the_origin_is_part_of_the_key() {
    // A Mitz clear with the holder's own scope leaves the holder's consent.
    let dossier_key = StatementKey::dossier("gp");
    let mitz_same_scope = StatementKey {
        origin: Origin::Mitz,
        ..dossier_key
    };
    let events = [
        event(dossier_key, Some(Permit), day(1)),
        event(mitz_same_scope, None, day(2)),
        event(
            StatementKey::mitz(org("gp"), "RPZAC001", "GGC002"),
            Some(Deny),
            day(3),
        ),
    ];
    let r = resolve(&events, &question("GGC002"));
    assert!(r.is_permit());
    assert_eq!(r.deciding(), &[0]);
    assert_eq!(in_force(&events, day(9)).count(), 2);
}

#[test]
fn resolving_the_statements_in_force_again_changes_nothing() {
    let events: Vec<_> = notification()
        .into_iter()
        .map(|s| event(s.key, Some(s.choice), s.at))
        .collect();
    for requester in ["RPZAC001", "RPZAC003", "RPZAC005", "RPZAC103"] {
        let q = Question {
            requester_category: Some(requester),
            ..question("GGC013")
        };
        let statements: Vec<_> = in_force(&events, q.at).map(|(_, s)| s).collect();
        assert_eq!(statements.len(), 5);
        assert_eq!(resolve(&events_of(&statements), &q), resolve(&events, &q));
    }
}

#[test]
fn many_deciding_statements_are_all_reported() {
    // More than the inline capacity of four: six equally specific permits,
    // through six covering categories.
    let codes = ["C1", "C2", "C3", "C4", "C5", "C6"];
    let covers: Vec<_> = codes.iter().map(|&c| (c, "GGC013")).collect();
    let statements: Vec<_> = codes
        .iter()
        .map(|&c| mitz(org("gp"), "RPZAC005", c, Permit, day(1)))
        .collect();
    let q = Question {
        covers: &covers,
        ..question("GGC013")
    };
    let r = resolve(&events_of(&statements), &q);
    assert!(r.is_permit());
    assert_eq!(r.deciding(), &[0, 1, 2, 3, 4, 5]);
}

#[test]
fn the_dominator_masks_are_r36() {
    let levels: Vec<Level> = (0..2u8)
        .flat_map(|holder| {
            (0..2u8).flat_map(move |requester| {
                (0..3u8).map(move |data| Level {
                    holder,
                    requester,
                    data,
                })
            })
        })
        .collect();
    assert_eq!(levels.len(), LEVELS);
    for (i, level) in levels.iter().enumerate() {
        assert_eq!(level.index(), i);
        for other in &levels {
            // At least as specific on every axis and more specific on one.
            let dominates = other.holder >= level.holder
                && other.requester >= level.requester
                && other.data >= level.data
                && other != level;
            assert_eq!(
                DOMINATORS[i] & other.bit() != 0,
                dominates,
                "{other:?} over {level:?}"
            );
        }
    }
    // The most specific level has no dominator; the least has all others.
    assert_eq!(DOMINATORS[LEVELS - 1], 0);
    assert_eq!(DOMINATORS[0], 0b1111_1111_1110);
}

// --- R41 on the events ---------------------------------------------------------

/// A minor asked at day 100 whose guardian last confirmed at `confirmed`
fn minor_question(confirmed: Option<Timestamp>) -> Question<'static, &'static str> {
    Question {
        age: AgeFacts {
            minor: true,
            confirmed,
        },
        ..question("GGC002")
    }
}

#[test]
fn an_unconfirmed_repetition_does_not_remove_a_confirmed_refusal() {
    let key = StatementKey::mitz(org("gp"), "RPZAC005", "GGC002");
    let events = [
        StatementEvent::from(dossier("gp", Permit, day(1))),
        event(key, Some(Deny), day(2)),
        // Confirmed at day 3; the same refusal again at day 5, unconfirmed.
        event(key, Some(Deny), day(5)),
    ];
    let r = resolve(&events, &minor_question(Some(day(3))));
    assert_eq!(r.answer(), Answer::Refused);
    assert_eq!(r.deciding(), &[1], "the confirmed one decides");
    assert!(r.unconfirmed(), "the repetition would have decided too");
    // For an adult the repetition is the statement in force.
    assert_eq!(resolve(&events, &question("GGC002")).deciding(), &[2]);
}

#[test]
fn a_minors_unconfirmed_change_waits_for_the_guardian() {
    let key = StatementKey::mitz(org("gp"), "RPZAC005", "GGC002");
    // A confirmed permit, then an unconfirmed clear and an unconfirmed refusal.
    let cleared = [event(key, Some(Permit), day(1)), event(key, None, day(5))];
    let refused = [
        event(key, Some(Permit), day(1)),
        event(key, Some(Deny), day(5)),
    ];
    for events in [&cleared[..], &refused[..]] {
        let r = resolve(events, &minor_question(Some(day(3))));
        assert!(
            r.is_permit(),
            "the confirmed picture holds until confirmed again"
        );
        assert!(!r.unconfirmed());
        let r = resolve(events, &minor_question(Some(day(6))));
        assert!(!r.is_permit(), "after the confirmation the change counts");
        // Without any confirmation nothing of Mitz counts.
        let r = resolve(events, &minor_question(None));
        assert_eq!(r.answer(), Answer::NoChoice);
        assert!(r.unconfirmed() == (events == &refused[..]));
    }
}

// --- The minor rule's age ----------------------------------------------------

#[test]
fn birth_dates_parse_strictly() {
    let b = BirthDate::parse("2010-06-15").unwrap();
    assert_eq!((b.year(), b.month(), b.day()), (2010, 6, 15));
    assert_eq!(b.to_string(), "2010-06-15");
    assert_eq!(
        "0001-01-01".parse::<BirthDate>().unwrap().to_string(),
        "0001-01-01"
    );
    for bad in [
        "",
        "2010-6-15",
        "2010-06-5",
        "20100615",
        "2010/06/15",
        "2010-13-01",
        "2010-00-10",
        "2010-02-29",
        "1900-02-29",
        "0000-01-01",
        "2010-06-15T00:00:00Z",
        "+010-06-15",
        "2010-06-1x",
        " 2010-06-1",
    ] {
        let err = BirthDate::parse(bad).unwrap_err();
        assert!(err.to_string().contains("`birth_date`"), "{err}");
        assert!(
            format!("{err:?}").starts_with("BirthDateError(<"),
            "{err:?}"
        );
    }
    assert!(
        BirthDate::parse("2000-02-29").is_ok(),
        "2000 is a leap year"
    );
    assert_eq!(
        BirthDate::parse("2010-13-01").unwrap_err().to_string(),
        "invalid `birth_date` `2010-13-01`: expected a calendar date `YYYY-MM-DD` between 0001-01-01 and 9999-12-31"
    );
}

#[test]
fn birth_dates_are_redacted_in_debug_and_round_trip_as_json() {
    let b = BirthDate::parse("2010-06-15").unwrap();
    assert_eq!(format!("{b:?}"), "BirthDate(<redacted>)");
    let facts = AgeFacts::at(Some(b), None, day(0));
    assert!(!format!("{facts:?}").contains("2010"));
    let json = serde_json::to_string(&b).unwrap();
    assert_eq!(json, "\"2010-06-15\"");
    assert_eq!(serde_json::from_str::<BirthDate>(&json).unwrap(), b);
    assert!(serde_json::from_str::<BirthDate>("\"2010-02-30\"").is_err());
}

#[test]
fn the_sixteenth_birthday_counts_from_midnight_dutch_time() {
    let b = BirthDate::parse("2010-06-15").unwrap();
    // Summer time: 00:00 in Amsterdam is 22:00 UTC the day before.
    assert!(b.is_minor_at(t("2026-06-14T21:59:59Z")));
    assert!(!b.is_minor_at(t("2026-06-14T22:00:00Z")));
    assert_eq!(b.age_at(t("2026-06-14T22:00:00Z")), 16);
    assert_eq!(b.age_at(t("2026-06-14T21:59:59.999999999Z")), 15);
    // Winter: 23:00 UTC the day before.
    let w = BirthDate::parse("2010-01-15").unwrap();
    assert!(w.is_minor_at(t("2026-01-14T22:59:59Z")));
    assert!(!w.is_minor_at(t("2026-01-14T23:00:00Z")));
    // 15 years and 364 days: a minor.
    assert!(w.is_minor_at(t("2026-01-14T12:00:00Z")));
    assert!(w.is_minor_at(t("2025-01-15T12:00:00Z")));
    assert_eq!(w.age_at(t("2025-01-15T12:00:00Z")), 15);
}

#[test]
fn dutch_summer_time_starts_and_ends_on_the_last_sundays() {
    // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
    assert_eq!(dutch_date(t("2026-03-29T00:59:59Z")), (2026, 3, 29));
    assert!(!summer_time(t("2026-03-29T00:59:59Z").unix_seconds()));
    assert!(summer_time(t("2026-03-29T01:00:00Z").unix_seconds()));
    assert!(summer_time(t("2026-10-25T00:59:59Z").unix_seconds()));
    assert!(!summer_time(t("2026-10-25T01:00:00Z").unix_seconds()));
    assert_eq!(dutch_date(t("2026-12-31T23:00:00Z")), (2027, 1, 1));
    assert_eq!(dutch_date(t("2026-07-31T21:59:59Z")), (2026, 7, 31));
    assert_eq!(dutch_date(t("2026-07-31T22:00:00Z")), (2026, 8, 1));
    // The ends of time do not panic.
    assert_eq!(dutch_date(Timestamp::MIN), (1, 1, 1));
    assert_eq!(dutch_date(Timestamp::MAX), (10000, 1, 1));
}

#[test]
fn a_leap_day_birthday_is_on_the_first_of_march_in_other_years() {
    let b = BirthDate::parse("2008-02-29").unwrap();
    assert_eq!(b.birthday_in(2024), (2, 29));
    assert_eq!(b.birthday_in(2025), (3, 1));
    // 17 in 2025: on 1 March, not on 28 February (Dutch dates, winter).
    assert_eq!(b.age_at(t("2025-02-28T12:00:00Z")), 16);
    assert_eq!(b.age_at(t("2025-02-28T22:59:59Z")), 16);
    assert_eq!(b.age_at(t("2025-02-28T23:00:00Z")), 17);
    // 16 is a multiple of four: the 16th birthday is on 29 February itself,
    // except when that year has none, as 2100.
    assert!(b.is_minor_at(t("2024-02-28T12:00:00Z")));
    assert!(!b.is_minor_at(t("2024-02-29T12:00:00Z")));
    let late = BirthDate::parse("2084-02-29").unwrap();
    assert!(
        late.is_minor_at(t("2100-02-28T12:00:00Z")),
        "15 until 1 March 2100"
    );
    assert!(late.is_minor_at(t("2100-02-28T22:59:59Z")));
    assert!(
        !late.is_minor_at(t("2100-02-28T23:00:00Z")),
        "00:00 on 1 March in Amsterdam"
    );
    assert_eq!(late.age_at(t("2100-03-01T12:00:00Z")), 16);
}

#[test]
fn before_the_birth_the_age_is_zero() {
    let b = BirthDate::parse("2030-01-01").unwrap();
    assert_eq!(b.age_at(t("2026-01-01T00:00:00Z")), 0);
    assert!(b.is_minor_at(t("2026-01-01T00:00:00Z")));
    assert_eq!(
        BirthDate::parse("9999-12-31")
            .unwrap()
            .age_at(Timestamp::MIN),
        0
    );
    assert_eq!(
        BirthDate::parse("0001-01-01")
            .unwrap()
            .age_at(Timestamp::MAX),
        9999
    );
}
