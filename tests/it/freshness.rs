//! Positions, freshness tokens and the state digest (SPEC.md §8, RULES.md §K):
//! R47 as a property over random worlds and requests, R48 as a property over
//! replays with repeats and skipped positions, the digest by names, and
//! waiting for a position.

use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zorg_pdp::{
    Applied, ConsentCheckQuery, ConsentQueryError, DashboardQuery, Decision, Engine, EntityRecord,
    EntryError, Event, LogEntry, Organisation, OrganisationId, Patient, PatientId, Reason, Request,
};

use crate::common::{self, policies};
use crate::proptests::{
    EventSeed, build_event, build_request, event_seed, request_seed, setup, staff,
};

fn entity(json: &str) -> EntityRecord {
    EntityRecord::from_json(json).unwrap()
}

fn event(json: &str) -> Event {
    Event::from_json(json).unwrap()
}

fn request(json: &str) -> Request {
    Request::from_json(json).unwrap()
}

const VIEW: &str = r#"{"principal":{"practitioner":"vera"},"action":"view","patient":"client-1",
    "holder":"vp-noord","category":"echo","at":"2026-02-01T10:00:00Z","mfa":true"#;

fn view_with(min_seq: Option<u64>) -> Request {
    let token = min_seq.map_or(String::new(), |m| format!(r#","min_seq":{m}"#));
    request(&format!("{VIEW}{token}}}"))
}

#[test]
fn every_accepted_entry_takes_a_position_and_a_rejected_one_none() {
    let engine = Engine::with_policies(policies().clone());
    assert_eq!(engine.seq(), 0);
    engine
        .register(entity(r#"{"organisation":{"id":"vp"}}"#))
        .unwrap();
    assert_eq!(engine.seq(), 1);
    // A known id again: accepted, and it takes a position too
    engine
        .register(entity(r#"{"organisation":{"id":"vp"}}"#))
        .unwrap();
    assert_eq!(engine.seq(), 2);
    // Rejected: an unknown organisation
    let refused = engine.register(entity(
        r#"{"practitioner":{"id":"v","organisation":"nope","role":"verloskundige"}}"#,
    ));
    assert!(refused.is_err());
    assert_eq!(engine.seq(), 2);
    engine
        .register(entity(r#"{"patient":{"id":"c1"}}"#))
        .unwrap();
    let seq = engine
        .apply(&event(
            r#"{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"vp"}"#,
        ))
        .unwrap();
    assert_eq!(seq, 4);
    assert!(
        engine
            .apply(&event(
                r#"{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"nope"}"#,
            ))
            .is_err()
    );
    assert_eq!(engine.seq(), 4);
}

#[test]
fn r48_an_entry_at_a_position_not_above_the_last_is_skipped() {
    let engine = Engine::with_policies(policies().clone());
    let at = |p: u64, json: &str| LogEntry::from_json(&format!(r#"{{"position":{p},{json}}}"#));
    let org = at(10, r#""entity":{"organisation":{"id":"vp"}}"#).unwrap();
    assert_eq!(engine.apply_entry(&org).unwrap(), Applied::Applied(10));
    let digest = engine.state_digest();
    // Twice: nothing changes
    assert_eq!(
        engine.apply_entry(&org).unwrap(),
        Applied::Skipped { last: 10 }
    );
    assert_eq!(engine.state_digest(), digest);
    // An older position arriving late is skipped too, whatever it holds
    let late = at(3, r#""entity":{"patient":{"id":"c9"}}"#).unwrap();
    assert_eq!(
        engine.apply_entry(&late).unwrap(),
        Applied::Skipped { last: 10 }
    );
    assert_eq!(engine.state_digest(), digest);
    // Positions need not be dense
    let patient = at(25, r#""entity":{"patient":{"id":"c1"}}"#).unwrap();
    assert_eq!(engine.apply_entry(&patient).unwrap(), Applied::Applied(25));
    assert_eq!(engine.seq(), 25);
    // A refused entry takes no position: the same position applies later
    let refused = at(
        26,
        r#""event":{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"nope"}"#,
    )
    .unwrap();
    let e = engine.apply_entry(&refused).unwrap_err();
    assert!(matches!(e, EntryError::Event { position: 26, .. }), "{e}");
    assert!(e.to_string().contains("position 26") && e.to_string().contains("organisation"));
    assert_eq!(engine.seq(), 25);
    let fixed = at(
        26,
        r#""event":{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"vp"}"#,
    )
    .unwrap();
    assert_eq!(engine.apply_entry(&fixed).unwrap(), Applied::Applied(26));
    // apply: the last one plus one, after a host position too
    assert_eq!(
        engine
            .apply(&event(
                r#"{"at":"2026-01-06T09:00:00Z","type":"dossier_consent_given","patient":"c1","holder":"vp"}"#
            ))
            .unwrap(),
        27
    );
}

#[test]
fn apply_entries_stops_at_the_first_refused_entry_and_names_its_index() {
    let engine = Engine::with_policies(policies().clone());
    let entries: Vec<LogEntry> = [
        r#"{"position":1,"entity":{"organisation":{"id":"vp"}}}"#,
        r#"{"position":2,"entity":{"practitioner":{"id":"v","organisation":"zz","role":"verloskundige"}}}"#,
        r#"{"position":3,"entity":{"patient":{"id":"c1"}}}"#,
    ]
    .iter()
    .map(|j| LogEntry::from_json(j).unwrap())
    .collect();
    let (i, e) = engine.apply_entries(&entries).unwrap_err();
    assert_eq!(i, 1);
    assert_eq!(e.position(), 2);
    assert_eq!(
        engine.seq(),
        1,
        "the entry before stays applied, none after"
    );
    assert_eq!(engine.apply_entries(&entries[2..]).unwrap(), 3);
}

#[test]
fn r47_stale_facts_alone_first_and_on_every_path() {
    let engine = common::world();
    let seq = engine.seq();
    assert_eq!(seq, 12);
    let sink = Arc::new(zorg_pdp::MemorySink::new());
    engine.set_audit_sink(sink.clone());
    let stale = view_with(Some(seq + 1));
    let r = engine.decide(&stale);
    assert_eq!(r.decision, Decision::Deny);
    assert_eq!(r.reasons, [Reason::StaleFacts]);
    assert!(r.policies.is_empty());
    assert_eq!(r.seq, seq);
    assert_eq!(engine.decide_plain(&stale), r);
    let why = engine.explain(&stale);
    assert_eq!(why.response, r);
    assert!(why.policies.is_empty() && why.facts.is_empty());
    // Audited like an unknown-entity deny: one record each for decide and explain
    let records = sink.records().unwrap();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|a| a.reasons == [Reason::StaleFacts] && a.decision == Decision::Deny)
    );
    // Checked before unknown ids and missing two-factor sign-in
    let unknown = request(&format!(
        r#"{{"principal":{{"practitioner":"nobody"}},"action":"view","patient":"client-1",
        "holder":"vp-noord","category":"echo","at":"2026-02-01T10:00:00Z","min_seq":{}}}"#,
        u64::MAX
    ));
    assert_eq!(engine.decide(&unknown).reasons, [Reason::StaleFacts]);
    // At or below the last position: as without a token
    let plain = engine.decide(&view_with(None));
    assert!(plain.is_allowed(), "{plain:?}");
    assert_eq!(engine.decide(&view_with(Some(seq))), plain);
    assert_eq!(engine.decide(&view_with(Some(0))), plain);
    assert_eq!(Reason::StaleFacts.as_str(), "stale_facts");
    assert!(!Reason::StaleFacts.explain().is_empty());
}

#[test]
fn r47_a_stale_dashboard_shows_nothing_and_says_why() {
    let engine = common::world();
    let seq = engine.seq();
    let q = |m: u64| {
        DashboardQuery::from_json(&format!(
            r#"{{"principal":{{"practitioner":"vera"}},"patient":"client-1",
            "at":"2026-02-01T10:00:00Z","mfa":true,"min_seq":{m}}}"#
        ))
        .unwrap()
    };
    let stale = engine.dashboard(&q(seq + 1)).unwrap();
    assert!(stale.holders.is_empty() && stale.modules.is_empty());
    assert_eq!(stale.reasons, [Reason::StaleFacts]);
    assert_eq!(stale.seq, seq);
    let json = serde_json::to_value(&stale).unwrap();
    assert_eq!(json["reasons"], serde_json::json!(["stale_facts"]));
    // Even for an unknown principal: nothing to probe
    let nobody = DashboardQuery::from_json(&format!(
        r#"{{"principal":{{"practitioner":"nobody"}},"patient":"client-1",
        "at":"2026-02-01T10:00:00Z","min_seq":{}}}"#,
        seq + 1
    ))
    .unwrap();
    assert_eq!(
        engine.dashboard(&nobody).unwrap().reasons,
        [Reason::StaleFacts]
    );
    let fresh = engine.dashboard(&q(seq)).unwrap();
    assert!(!fresh.holders.is_empty());
    assert!(fresh.reasons.is_empty());
    let json = serde_json::to_value(&fresh).unwrap();
    assert!(json.get("reasons").is_none(), "written only when stale");
}

#[test]
fn r47_a_stale_consent_question_is_refused() {
    let engine = common::fhir_world();
    let seq = engine.seq();
    let q = |m: u64| {
        ConsentCheckQuery::from_json(&format!(
            r#"{{"patient":"client-1","holder":"zh-noord","requester":"kz-oost",
            "data_categories":["GGC013"],"at":"2026-03-02T10:00:00Z","min_seq":{m}}}"#
        ))
        .unwrap()
    };
    let e = engine.consent_check(&q(seq + 5)).unwrap_err();
    assert_eq!(
        e,
        ConsentQueryError::Stale {
            question: "consent check",
            min_seq: seq + 5,
            seq
        }
    );
    assert_eq!(e.field(), "min_seq");
    assert!(e.to_string().contains("not applied yet"), "{e}");
    assert!(engine.consent_check(&q(seq)).is_ok());
    let locate = zorg_pdp::ConsentLocateQuery::from_json(&format!(
        r#"{{"patient":"client-1","requester":"kz-oost","at":"2026-03-02T10:00:00Z","min_seq":{}}}"#,
        seq + 1
    ))
    .unwrap();
    assert!(matches!(
        engine.consent_locate(&locate),
        Err(ConsentQueryError::Stale { .. })
    ));
}

#[test]
fn wait_for_wakes_when_another_thread_applies_the_position() {
    let engine = Arc::new(Engine::with_policies(policies().clone()));
    engine
        .register(entity(r#"{"organisation":{"id":"vp"}}"#))
        .unwrap();
    assert!(engine.wait_for(1, Duration::ZERO));
    assert!(!engine.wait_for(40, Duration::from_millis(20)));
    let writer = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let entry =
                LogEntry::from_json(r#"{"position":40,"entity":{"patient":{"id":"c1"}}}"#).unwrap();
            engine.apply_entry(&entry).unwrap()
        })
    };
    let started = Instant::now();
    assert!(engine.wait_for(40, Duration::from_secs(30)));
    let waited = started.elapsed();
    assert!(engine.seq() >= 40);
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    assert_eq!(writer.join().unwrap(), Applied::Applied(40));
    // A timeout is honoured within a bound
    let started = Instant::now();
    assert!(!engine.wait_for(41, Duration::from_millis(30)));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(30) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

/// A world of entities and Mitz choices whose organisations are registered
/// in `order`
fn mitz_world(orgs: &[&str]) -> Engine {
    let engine = Engine::with_policies(policies().clone());
    for o in orgs {
        engine
            .register_organisation(Organisation::new(OrganisationId::new(o).unwrap()))
            .unwrap();
    }
    engine
        .register_patient(&Patient::new(PatientId::new("client-1").unwrap()))
        .unwrap();
    for (holder, data, choice) in [
        ("zh-noord", "GGC013", "permit"),
        ("zh-zuid", "GGC002", "deny"),
        ("zh-noord", "GGC002", "deny"),
        ("zh-zuid", "GGC013", "permit"),
    ] {
        engine
            .apply(&event(&format!(
                r#"{{"at":"2026-02-01T12:00:00Z","type":"mitz_choice_recorded","patient":"client-1",
                "holder":"{holder}","data_category":"{data}","requester_category":"RPZAC004",
                "choice":"{choice}","recorded_via":"mijnmitz"}}"#
            )))
            .unwrap();
    }
    engine
}

#[test]
fn the_digest_names_ids_rather_than_interned_indices() {
    let a = mitz_world(&["zh-noord", "zh-zuid"]);
    let b = mitz_world(&["zh-zuid", "zh-noord"]);
    assert_eq!(a.seq(), b.seq());
    assert_eq!(a.state_digest(), b.state_digest());
    let digest = a.state_digest();
    assert_eq!(digest.len(), "sha256:".len() + 64);
    assert!(
        digest
            .trim_start_matches("sha256:")
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    // A different state, a different digest: one more event, a different
    // choice, a different last position alone
    let c = mitz_world(&["zh-noord", "zh-zuid"]);
    c.apply(&event(
        r#"{"at":"2026-02-02T12:00:00Z","type":"mitz_choice_cleared","patient":"client-1",
        "holder":"zh-noord","data_category":"GGC013","requester_category":"RPZAC004"}"#,
    ))
    .unwrap();
    assert_ne!(c.state_digest(), digest);
    let d = mitz_world(&["zh-noord", "zh-zuid"]);
    let again =
        LogEntry::from_json(r#"{"position":100,"entity":{"patient":{"id":"client-1"}}}"#).unwrap();
    // The same entity again changes only the position: still a different digest
    d.apply_entry(&again).unwrap();
    assert_ne!(d.state_digest(), digest);
    assert_ne!(
        Engine::with_policies(policies().clone()).state_digest(),
        digest
    );
}

/// One random log entry: an event of the random world, or one of its
/// entities again
#[derive(Debug, Clone)]
enum Seed {
    Event(EventSeed),
    Again(u8),
}

fn seed() -> impl Strategy<Value = Seed> {
    prop_oneof![
        8 => event_seed().prop_map(Seed::Event),
        1 => (0..3u8).prop_map(Seed::Again),
    ]
}

/// The seeds as a log whose positions start above `base` and have gaps
fn log_of(base: u64, seeds: &[(Seed, u64)]) -> Vec<LogEntry> {
    let orgs = crate::proptests::ORGS;
    let mut entries = Vec::new();
    let mut position = base;
    for (seed, gap) in seeds {
        position += 1 + gap;
        let entry = match seed {
            Seed::Event(s) => LogEntry::event(position, build_event(s)),
            Seed::Again(i) => LogEntry::entity(
                position,
                EntityRecord::Organisation(Organisation::new(
                    OrganisationId::new(orgs[usize::from(*i)]).unwrap(),
                )),
            ),
        };
        entries.push(entry.unwrap());
    }
    entries
}

/// Applies every entry one by one, leaving a refused one out
fn apply_each(engine: &Engine, entries: &[LogEntry]) {
    for e in entries {
        // Refused entries (an event naming a record not added yet) take no
        // position; the replay meets them in the same state and refuses them again
        let _ = engine.apply_entry(e);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// R47: whatever the world and the request, a token above the last
    /// position gives `[stale_facts]` alone, and one at or below it the
    /// answer without a token
    #[test]
    fn r47_stale_facts_whatever_else_holds(
        staff in prop::collection::vec(staff(), 7),
        events in prop::collection::vec(event_seed(), 0..25),
        requests in prop::collection::vec(request_seed(), 1..8),
        above in 1..1000u64,
        below in any::<u64>(),
    ) {
        let (engine, _) = setup(&staff);
        for e in &events {
            let _ = engine.apply(&build_event(e));
        }
        let seq = engine.seq();
        for s in &requests {
            let plain = build_request(s);
            let without = engine.decide(&plain);
            let stale = Request { min_seq: Some(seq + above), ..plain.clone() };
            for r in [engine.decide(&stale), engine.decide_plain(&stale), engine.explain(&stale).response] {
                prop_assert_eq!(r.decision, Decision::Deny);
                prop_assert_eq!(&r.reasons, &[Reason::StaleFacts]);
                prop_assert!(r.policies.is_empty());
                prop_assert_eq!(r.seq, seq);
            }
            let fresh = Request { min_seq: Some(below % (seq + 1)), ..plain.clone() };
            prop_assert_eq!(&engine.decide(&fresh), &without);
            prop_assert_eq!(&engine.decide_plain(&fresh), &engine.decide_plain(&plain));
            prop_assert_eq!(&engine.explain(&fresh), &engine.explain(&plain));
        }
    }

    /// R48: replaying a log from any earlier position, with repeats, gives
    /// the state digest (and the answers) of applying it once
    #[test]
    fn r48_replay_from_any_earlier_position_gives_the_same_digest(
        staff in prop::collection::vec(staff(), 7),
        seeds in prop::collection::vec((seed(), prop_oneof![3 => Just(0u64), 1 => 1..5u64]), 1..30),
        cut in any::<prop::sample::Index>(),
        from in any::<prop::sample::Index>(),
        repeats in prop::collection::vec(any::<(prop::sample::Index, prop::sample::Index)>(), 0..6),
        requests in prop::collection::vec(request_seed(), 1..5),
    ) {
        // The world registered as `setup` does (positions 1 onwards), then a
        // host log above it
        let (once, _) = setup(&staff);
        let entries = log_of(once.seq(), &seeds);
        apply_each(&once, &entries);

        let (replayed, _) = setup(&staff);
        let cut = cut.index(entries.len() + 1);
        apply_each(&replayed, &entries[..cut]);
        // A replica restarting from an earlier position, with some entries twice
        let from = from.index(cut + 1);
        let mut replay: Vec<LogEntry> = entries[from..].to_vec();
        // Each repeat follows its original: an entry of the log arrives again
        for (r, later) in &repeats {
            if replay.is_empty() {
                break;
            }
            let k = r.index(replay.len());
            let e = replay[k].clone();
            replay.insert(k + 1 + later.index(replay.len() - k), e);
        }
        apply_each(&replayed, &replay);
        apply_each(&replayed, &entries);

        prop_assert_eq!(replayed.seq(), once.seq());
        prop_assert_eq!(replayed.state_digest(), once.state_digest());
        for s in &requests {
            let q = build_request(s);
            prop_assert_eq!(replayed.decide(&q), once.decide(&q));
        }
    }
}

#[test]
fn a_request_record_carries_min_seq_through_json() {
    let q = view_with(Some(17));
    assert_eq!(q.min_seq, Some(17));
    let json = serde_json::to_value(&q).unwrap();
    assert_eq!(json["min_seq"], 17);
    assert_eq!(Request::from_json(&json.to_string()).unwrap(), q);
    let none = serde_json::to_value(view_with(None)).unwrap();
    assert!(none.get("min_seq").is_none());
}
