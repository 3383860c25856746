//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (run
//! by libFuzzer) and `tests/it/fuzz_regressions.rs` (which replays
//! `fuzz/regressions/<target>/*` on stable Rust with `cargo test`).
//!
//! Each body panics only when an invariant breaks: a panic inside the crate,
//! a fast path that differs from the plain path, an allow the oracle denies.
//!
//! The small world, the shipped policies and the state probe come from
//! `tests/it/common.rs`, the oracle from `tests/it/oracle.rs`: the fuzz
//! targets compile both as their `common` and `oracle` modules.

use std::path::Path;

use zorg_pdp::{Engine, Event, Policies, Request, Scenario};

use crate::common::{self, policies};

/// Scenario text (TOML or JSON): parse, and run it when it parses
pub(crate) fn scenario(data: &[u8], json: bool) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = if json {
        Path::new("fuzz.json")
    } else {
        Path::new("fuzz.toml")
    };
    if let Ok(s) = Scenario::parse(text, path) {
        let _ = zorg_pdp::scenario::run_scenario(policies(), &s, path);
    }
}

/// One event as JSON, applied to the small world: an accepted event takes the
/// next `seq`; a rejected one changes nothing a decision can see (the answers
/// to a fixed set of requests and dashboards, and `seq`, stay those of the
/// world before the event, which `common::world_state` computes once)
pub(crate) fn event_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = Event::from_json(text) else {
        return;
    };
    let engine = common::world();
    let seq = engine.seq();
    match engine.apply(&event) {
        Ok(next) => assert_eq!(next, seq + 1),
        Err(e) => assert_eq!(
            common::state(&engine),
            *common::world_state(),
            "a rejected event changed the state: {e}"
        ),
    }
}

/// A FHIR bundle, imported into the FHIR test world (`common::fhir_world`):
/// never a panic; on `Ok` every event applies with `apply_all`, `seq`
/// growing by their number, and `fhir_apply` on a fresh world ends in the
/// same state; on `Err` `fhir_apply` is refused too and nothing a consent
/// question can see changed (R45)
pub(crate) fn fhir_import(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let engine = common::fhir_world();
    let before = common::fhir_state(&engine);
    match engine.fhir_import(text) {
        Ok(events) => {
            let seq = engine.seq();
            let count = u64::try_from(events.len()).unwrap();
            assert_eq!(
                engine.apply_all(&events),
                Ok(seq + count),
                "an imported event was refused"
            );
            let other = common::fhir_world();
            assert_eq!(other.fhir_apply(text), Ok(seq + count));
            assert_eq!(common::fhir_state(&other), common::fhir_state(&engine));
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert_eq!(
                engine.fhir_apply(text).err(),
                Some(e.clone()),
                "apply differs from import"
            );
            assert_eq!(
                common::fhir_state(&engine),
                before,
                "a rejected bundle changed the state: {e}"
            );
        }
    }
}

/// One request as JSON, decided on the small world: fast path == plain path
pub(crate) fn request_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(request) = Request::from_json(text) else {
        return;
    };
    let engine = common::world();
    let fast = engine.decide(&request);
    let plain = engine.decide_plain(&request);
    assert_eq!(fast, plain, "fast and plain paths differ");
    assert_eq!(engine.decide(&request), plain, "a memo hit differs");
    if fast.is_allowed() {
        assert!(fast.reasons.is_empty());
        assert!(
            request.mfa || matches!(request.principal, zorg_pdp::Principal::Organisation(_)),
            "allow without mfa"
        );
    }
}

/// Policy text: loading never panics, alone or beside the shipped files; a
/// set that loads decides without panicking (beside the shipped forbids, a
/// fuzzed permit can pass the least-privilege check and reach a decision)
pub(crate) fn policy_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let alone = Policies::from_sources(common::SCHEMA, [("fuzz.cedar", text)]);
    let beside = common::shipped_with(&[("fuzz.cedar", text)]);
    for p in [alone, beside].into_iter().flatten() {
        let engine = common::world();
        engine.reload(p);
        let q = Request::from_json(
            r#"{"principal":{"practitioner":"anna"},"action":"view","patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true,"holder":"vp-noord","category":"kraambed"}"#,
        )
        .expect("fixed request parses");
        assert_eq!(engine.decide(&q), engine.decide_plain(&q));
    }
}

use crate::oracle;

/// A world, events and requests built by `arbitrary`: the engine must agree
/// with the oracle (decision and reasons) and with the plain path
pub(crate) fn structured(data: &[u8]) {
    use arbitrary::Unstructured;
    use zorg_pdp::{
        Action, CareModule, Category, Change, EventKind, Organisation, OrganisationId, Patient,
        PatientId, Practitioner, PractitionerId, Principal, Purpose, RecordId, Role, Source,
        StudyId, Task, Timestamp,
    };
    const ROLES: [&str; 12] = [
        "huisarts",
        "poh",
        "diabetesverpleegkundige",
        "dietist",
        "podotherapeut",
        "verloskundige",
        "gynaecoloog",
        "kraamverzorgende",
        "jgz",
        "apotheker",
        "medisch_specialist",
        "administratief",
    ];
    const TASKS: [&str; 3] = ["consent_change", "client_management", "log_review"];
    let mut u = Unstructured::new(data);
    let Ok(picks) = (0..8)
        .map(|_| u.int_in_range(0u8..=11))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return;
    };
    let engine = Engine::with_policies(policies().clone());
    let vocab = policies().vocabulary();
    let mut oracle = oracle::Oracle::new(
        vocab.categories().iter().map(ToString::to_string).collect(),
        vocab.modules().iter().map(ToString::to_string).collect(),
    );
    let org =
        |i: u8| OrganisationId::new(["o0", "o1", "o2", "ghost"][usize::from(i % 4)]).expect("id");
    let pat = |i: u8| PatientId::new(["x0", "x1", "ghost"][usize::from(i % 3)]).expect("id");
    let pra = |i: u8| PractitionerId::new(&format!("p{}", i % 5)).expect("id");
    for i in 0..3u8 {
        engine
            .register_organisation(Organisation::new(org(i)))
            .expect("register");
        oracle.organisations.insert(org(i).to_string());
    }
    for i in 0..2u8 {
        engine
            .register_patient(&Patient::new(pat(i)))
            .expect("register");
        oracle.patients.insert(pat(i).to_string());
    }
    for (i, r) in picks.iter().take(4).enumerate() {
        let i = u8::try_from(i).expect("small");
        let tasks: Vec<Task> = TASKS
            .iter()
            .enumerate()
            .filter(|(b, _)| picks.get(4 + b).is_some_and(|p| p & 1 == 1))
            .map(|(_, t)| Task::new(t).expect("task"))
            .collect();
        let p = Practitioner {
            id: pra(i),
            organisation: org(r % 3),
            role: Role::new(ROLES[usize::from(*r)]).expect("role"),
            tasks: tasks.clone(),
        };
        engine.register_practitioner(p).expect("register");
        oracle.practitioners.insert(
            pra(i).to_string(),
            oracle::OraclePractitioner {
                organisation: org(r % 3).to_string(),
                role: ROLES[usize::from(*r)].to_owned(),
                tasks: tasks.iter().map(ToString::to_string).collect(),
            },
        );
    }
    let cat = |i: u8| {
        Category::new(
            ["basis", "echo", "medicatie", "labuitslagen", "wondzorg"][usize::from(i % 5)],
        )
        .expect("id")
    };
    let module = |i: u8| CareModule::new(["DM", "CVRM", "XX"][usize::from(i % 3)]).expect("id");
    let time = |h: u8| {
        Timestamp::from_unix_nanos(
            1_767_225_600_000_000_000 + i64::from(h % 16) * 3_600_000_000_000,
        )
    };
    let purpose = |i: u8| Purpose::ALL[usize::from(i) % Purpose::ALL.len()];
    let Ok(n_events) = u.int_in_range(0u8..=40) else {
        return;
    };
    for _ in 0..n_events {
        let Ok(b) = <[u8; 6]>::arbitrary_take(&mut u) else {
            break;
        };
        let x = pat(b[1]);
        let kind = match b[0] % 26 {
            0 => EventKind::Treatment {
                change: Change::Given,
                patient: x,
                organisation: org(b[2]),
            },
            1 => EventKind::Treatment {
                change: Change::Withdrawn,
                patient: x,
                organisation: org(b[2]),
            },
            2 => EventKind::DossierConsent {
                change: Change::Given,
                patient: x,
                holder: org(b[2]),
                recorded_by: None,
                evidence: None,
            },
            3 => EventKind::DossierConsent {
                change: Change::Withdrawn,
                patient: x,
                holder: org(b[2]),
                recorded_by: None,
                evidence: None,
            },
            4 => EventKind::AccessRequested {
                practitioner: pra(b[3]),
                patient: x,
            },
            5 => EventKind::ReferralSent {
                patient: x,
                from: org(b[2]),
                to: org(b[3]),
            },
            6 => EventKind::ReferralObjection {
                change: Change::Given,
                patient: x,
                holder: org(b[2]),
                category: (b[4] & 1 == 1).then(|| cat(b[3])),
            },
            7 => EventKind::ReferralObjection {
                change: Change::Withdrawn,
                patient: x,
                holder: org(b[2]),
                category: (b[4] & 1 == 1).then(|| cat(b[3])),
            },
            8 => EventKind::UnplannedCareConsent {
                change: Change::Given,
                patient: x,
                holder: org(b[2]),
            },
            9 => EventKind::UnplannedCareConsent {
                change: Change::Withdrawn,
                patient: x,
                holder: org(b[2]),
            },
            10 => EventKind::PgoAccount {
                change: Change::Given,
                patient: x,
            },
            11 => EventKind::PgoAccount {
                change: Change::Withdrawn,
                patient: x,
            },
            12 => EventKind::PgoTransferConsent {
                change: Change::Given,
                patient: x,
            },
            13 => EventKind::PgoTransferConsent {
                change: Change::Withdrawn,
                patient: x,
            },
            14 => EventKind::ModuleStarted {
                patient: x,
                module: module(b[2]),
                practitioner: pra(b[3]),
            },
            15 => EventKind::ModuleStorageConsent {
                change: Change::Given,
                patient: x,
                module: module(b[2]),
            },
            16 => EventKind::ModuleStorageConsent {
                change: Change::Withdrawn,
                patient: x,
                module: module(b[2]),
            },
            17 => EventKind::ModuleOwnershipAccepted {
                practitioner: pra(b[3]),
                patient: x,
                module: module(b[2]),
            },
            18 | 19 => {
                let source = [Source::Dossier, Source::Module, Source::Pgo][usize::from(b[4] % 3)];
                EventKind::RecordAdded {
                    record: RecordId::new(&format!("r{}", b[3] % 4)).expect("id"),
                    patient: x,
                    category: cat(b[2]),
                    source,
                    holder: (source != Source::Pgo).then(|| org(b[2])),
                    module: (source == Source::Module).then(|| module(b[3])),
                }
            }
            20 => EventKind::RecordFlagged {
                record: RecordId::new(&format!("r{}", b[3] % 4)).expect("id"),
            },
            21 => EventKind::PartyConsent {
                change: Change::Given,
                patient: x,
                holder: org(b[2]),
                party: org(b[3]),
                purpose: purpose(b[4]),
            },
            22 => EventKind::PartyConsent {
                change: Change::Withdrawn,
                patient: x,
                holder: org(b[2]),
                party: org(b[3]),
                purpose: purpose(b[4]),
            },
            23 => EventKind::Objection {
                change: Change::Given,
                patient: x,
                purpose: purpose(b[4]),
            },
            24 => EventKind::Objection {
                change: Change::Withdrawn,
                patient: x,
                purpose: purpose(b[4]),
            },
            _ => EventKind::ResearchConsent {
                change: Change::Given,
                patient: x,
                study: StudyId::new("s1").expect("id"),
            },
        };
        let event = Event {
            at: time(b[5]),
            kind,
        };
        let reject = oracle.must_reject(&event);
        match engine.apply(&event) {
            Ok(_) => {
                assert!(!reject, "engine accepted {event:?}");
                oracle.accept(event);
            }
            Err(_) => assert!(reject, "engine rejected {event:?}"),
        }
    }
    while let Ok(b) = <[u8; 8]>::arbitrary_take(&mut u) {
        let principal = match b[0] % 8 {
            0 => Principal::Patient(pat(b[1])),
            1 => Principal::Organisation(org(b[1])),
            _ => Principal::Practitioner(pra(b[1])),
        };
        let action = match b[2] % 12 {
            0 => Action::View {
                holder: org(b[3]),
                category: cat(b[4]),
                purpose: purpose(b[5]),
            },
            1 => Action::ViewRecord {
                record: RecordId::new(&format!("r{}", b[3] % 4)).expect("id"),
                purpose: purpose(b[5]),
            },
            2 => Action::RequestAccess,
            3 => Action::Share,
            4 => Action::StartModule {
                module: module(b[3]),
            },
            5 => Action::Contribute {
                module: module(b[3]),
            },
            6 => Action::ChangeConsent { holder: org(b[3]) },
            7 => Action::ViewConsents { holder: org(b[3]) },
            8 => Action::UsePersonalData {
                holder: org(b[3]),
                purpose: purpose(b[5]),
            },
            9 => Action::UseForResearch {
                purpose: purpose(b[5]),
                study: (b[4] & 1 == 1).then(|| StudyId::new("s1").expect("id")),
            },
            10 => Action::ViewOwn {
                holder: (b[4] & 1 == 1).then(|| org(b[3])),
                category: (b[4] & 2 == 2).then(|| cat(b[5])),
                record: (b[4] & 4 == 4)
                    .then(|| RecordId::new(&format!("r{}", b[3] % 4)).expect("id")),
            },
            _ => Action::ViewAccessLog {
                holder: (b[4] & 1 == 1).then(|| org(b[3])),
            },
        };
        let q = Request {
            principal,
            patient: pat(b[6]),
            at: time(b[7]),
            mfa: b[0] & 0x80 == 0,
            action,
            min_seq: None,
        };
        let fast = engine.decide(&q);
        assert_eq!(
            fast,
            engine.decide_plain(&q),
            "fast and plain differ for {q:?}"
        );
        let (decision, reasons) = oracle.decide(&q);
        assert_eq!(fast.decision, decision, "decision for {q:?}");
        let got: std::collections::BTreeSet<_> = fast.reasons.iter().copied().collect();
        assert_eq!(got, reasons, "reasons for {q:?}");
    }
}

/// Takes a fixed number of bytes
trait ArbitraryTake: Sized {
    fn arbitrary_take(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Self>;
}

impl<const N: usize> ArbitraryTake for [u8; N] {
    fn arbitrary_take(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Self> {
        let mut out = [0u8; N];
        u.fill_buffer(&mut out)?;
        if u.is_empty() && out.iter().all(|b| *b == 0) {
            return Err(arbitrary::Error::NotEnoughData);
        }
        Ok(out)
    }
}
