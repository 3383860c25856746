//! The audit log (SPEC.md §6, R33–R35): one record per decision, the file
//! sink's chain across threads, tampering, crash recovery, the overview.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use zorg_pdp::audit::{
    AuditAction, AuditError, AuditRecord, AuditSink, Break, Durability, FileSink, GENESIS_HASH,
    MemorySink, PrincipalKind, overview, overview_of_holder, read_records, record_hash, verify,
    verify_records,
};
use zorg_pdp::{
    Action, ActionKind, Category, DashboardQuery, Decision, OrganisationId, PatientId,
    PractitionerId, Principal, Purpose, Reason, Request, Scenario, Timestamp,
};

use crate::common::{TempDir, at, view, world};

// ---------------------------------------------------------------------------------------
// helpers (the shared ones are in `common.rs`)

fn org(s: &str) -> OrganisationId {
    OrganisationId::new(s).unwrap()
}
fn patient(s: &str) -> PatientId {
    PatientId::new(s).unwrap()
}
fn practitioner(s: &str) -> Principal {
    Principal::Practitioner(PractitionerId::new(s).unwrap())
}

fn request(principal: Principal, x: &str, when: &str, action: Action) -> Request {
    Request {
        principal,
        patient: patient(x),
        at: at(when),
        mfa: true,
        action,
        min_seq: None,
    }
}

/// A log of `n` decisions (views of client-1 by vera and anna), written with `durability`
fn write_log(path: &Path, n: usize, durability: Durability) -> FileSink {
    let engine = world();
    let (sink, _) = FileSink::open(path, durability).unwrap();
    let sink = Arc::new(sink);
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    for i in 0..n {
        let who = if i % 2 == 0 { "vera" } else { "anna" };
        let category = ["basis", "zwangerschap", "echo", "kraambed"][i % 4];
        let when = format!("2026-02-{:02}T10:00:00Z", 1 + i % 28);
        engine.decide(&view(who, "client-1", "vp-noord", category, &when));
    }
    engine.clear_audit_sink();
    assert_eq!(engine.audit_failures(), 0);
    Arc::try_unwrap(sink).unwrap()
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

/// A log of ten records, its lines and where it is
fn ten(dir: &TempDir) -> (PathBuf, Vec<String>) {
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 10, Durability::EveryRecord));
    let l = lines(&path);
    assert_eq!(l.len(), 10);
    assert!(verify(&path).unwrap().is_intact());
    (path, l)
}

fn first_break(path: &Path) -> (u64, Break) {
    let report = verify(path).unwrap();
    let b = report.first_break.expect("the chain should be broken");
    // The slice verifier agrees wherever every line is a record
    if let Ok(records) = read_records(path) {
        assert_eq!(verify_records(&records).first_break, Some(b), "{report}");
    }
    (b.seq, b.kind)
}

// ---------------------------------------------------------------------------------------
// R33: one record per audited decision, one per dashboard holder

/// The NEN 7513 flags say which checks the deciding policies made: viewing
/// the own organisation's dossier with purpose `emergency` (decided by
/// `permit-view-own-dossier`) makes no consent check and uses no emergency
/// route; another holder's data needs the consent its route asks for.
#[test]
fn checks_name_what_the_deciding_policies_checked() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let with_purpose = |who: &str, holder: &str, purpose: Purpose| Request {
        action: Action::View {
            holder: org(holder),
            category: Category::new("basis").unwrap(),
            purpose,
        },
        ..view(who, "client-1", holder, "basis", "2026-02-01T10:00:00Z")
    };
    let own_emergency = engine.decide(&with_purpose("vera", "vp-noord", Purpose::Emergency));
    assert!(own_emergency.is_allowed(), "{own_emergency:?}");
    assert_eq!(
        own_emergency.policies,
        vec!["permit-view-own-dossier".to_owned()]
    );
    let shared = engine.decide(&with_purpose("anna", "vp-noord", Purpose::Treatment));
    assert!(shared.is_allowed(), "{shared:?}");
    let emergency = engine.decide(&with_purpose("anna", "vp-noord", Purpose::Emergency));
    let records = sink.records().unwrap();
    let checks: Vec<_> = records.iter().map(|r| r.checks).collect();
    // vera at her own organisation, emergency purpose
    assert!(checks[0].authorisation && checks[0].treatment_relationship);
    assert!(
        !checks[0].consent,
        "no policy asked for consent: {:?}",
        checks[0]
    );
    assert!(
        !checks[0].emergency,
        "the own-dossier route, not the emergency one"
    );
    // anna at another holder for treatment: the dossier consent decided
    assert!(checks[1].consent && !checks[1].emergency, "{:?}", checks[1]);
    // anna at another holder in an emergency: the route, and its consent
    assert_eq!(emergency.reasons, vec![Reason::NoUnplannedCareConsent]);
    assert!(checks[2].emergency && checks[2].consent, "{:?}", checks[2]);
}

#[test]
fn every_audited_decision_yields_exactly_one_record_with_its_fields() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let audited = [
        // own dossier: allow
        view(
            "vera",
            "client-1",
            "vp-noord",
            "echo",
            "2026-02-01T10:00:00Z",
        ),
        // no relationship with client-2 at kz-oost: deny
        view(
            "anna",
            "client-2",
            "vp-noord",
            "basis",
            "2026-02-01T10:00:00Z",
        ),
        // the emergency route
        Request {
            action: Action::View {
                holder: org("vp-noord"),
                category: Category::new("basis").unwrap(),
                purpose: Purpose::Emergency,
            },
            ..view(
                "anna",
                "client-1",
                "vp-noord",
                "basis",
                "2026-02-02T10:00:00Z",
            )
        },
        // an unknown practitioner
        view(
            "nobody",
            "client-1",
            "vp-noord",
            "basis",
            "2026-02-03T10:00:00Z",
        ),
        request(
            practitioner("anna"),
            "client-1",
            "2026-02-04T10:00:00Z",
            Action::RequestAccess,
        ),
        request(
            Principal::Patient(patient("client-1")),
            "client-1",
            "2026-02-05T10:00:00Z",
            Action::ViewAccessLog { holder: None },
        ),
        request(
            Principal::Patient(patient("client-1")),
            "client-1",
            "2026-02-05T11:00:00Z",
            Action::ViewOwn {
                holder: Some(org("vp-noord")),
                category: Some(Category::new("echo").unwrap()),
                record: None,
            },
        ),
    ];
    let not_audited = [
        request(
            practitioner("vera"),
            "client-1",
            "2026-02-06T10:00:00Z",
            Action::Share,
        ),
        request(
            practitioner("vera"),
            "client-1",
            "2026-02-06T10:00:00Z",
            Action::ViewConsents {
                holder: org("vp-noord"),
            },
        ),
    ];
    let mut responses = Vec::new();
    for (i, q) in audited.iter().enumerate() {
        responses.push(engine.decide(q));
        assert_eq!(sink.len(), i + 1, "one record per audited decision");
        for q in &not_audited {
            engine.decide(q);
        }
        assert_eq!(sink.len(), i + 1, "share and view_consents are not logged");
    }
    let records = sink.records().unwrap();
    assert!(verify_records(&records).is_intact());
    let version = engine.policies().content_hash().to_owned();
    for (i, ((q, response), r)) in audited.iter().zip(&responses).zip(&records).enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        assert_eq!(r.at, q.at);
        assert_eq!(r.patient, q.patient);
        assert_eq!(r.action, AuditAction::Action(q.action.kind()));
        assert_eq!(r.decision, response.decision, "{r:?}");
        assert_eq!(r.reasons, response.reasons);
        assert_eq!(r.policies, response.policies);
        assert_eq!(r.policy_version, version);
        assert_eq!(record_hash(r).unwrap(), r.hash);
    }
    assert_eq!(records[0].prev_hash, GENESIS_HASH);

    // vera's view: who, what, and the checks made
    let r = &records[0];
    assert_eq!(r.decision, Decision::Allow);
    assert_eq!(r.principal.kind, PrincipalKind::Practitioner);
    assert_eq!(r.principal.id, "vera");
    assert_eq!(r.principal.role.as_ref().unwrap().as_str(), "verloskundige");
    assert_eq!(r.principal.organisation, Some(org("vp-noord")));
    assert_eq!(r.holder, Some(org("vp-noord")));
    assert_eq!(r.category, Some(Category::new("echo").unwrap()));
    assert_eq!(r.purpose, Some(Purpose::Treatment));
    // Her own organisation's dossier: the role and the relationship decide,
    // no consent does (SPEC §6: the checks the deciding policies made).
    assert!(r.checks.authorisation && r.checks.treatment_relationship);
    assert!(!r.checks.consent && !r.checks.emergency, "{:?}", r.checks);
    // anna's view of client-2: denied and logged
    assert_eq!(records[1].decision, Decision::Deny);
    assert!(!records[1].reasons.is_empty());
    // the emergency route is flagged
    assert!(records[2].checks.emergency);
    assert_eq!(records[2].purpose, Some(Purpose::Emergency));
    // an unknown practitioner: no role, no organisation, no checks
    assert_eq!(records[3].reasons, vec![Reason::UnknownEntity]);
    assert_eq!(records[3].principal.role, None);
    assert_eq!(records[3].principal.organisation, None);
    assert_eq!(records[3].checks, zorg_pdp::audit::Checks::default());
    assert_eq!(
        records[4].action,
        AuditAction::Action(ActionKind::RequestAccess)
    );
    // the patient reading the log
    assert_eq!(records[5].principal.kind, PrincipalKind::Patient);
    assert_eq!(records[5].decision, Decision::Allow);
    assert!(!records[5].checks.authorisation);
    assert_eq!(records[6].holder, Some(org("vp-noord")));
    assert_eq!(records[6].category, Some(Category::new("echo").unwrap()));

    // Records carry ids and codes only: every string in the JSON is one of them
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains(' '), "no free text in a record: {json}");
}

#[test]
fn a_record_asked_for_by_id_is_logged_with_what_it_was_found_to_be() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let by_id = |who: &str, record: &str| {
        request(
            practitioner(who),
            "client-1",
            "2026-02-01T10:00:00Z",
            Action::ViewRecord {
                record: record.parse().unwrap(),
                purpose: Purpose::Treatment,
            },
        )
    };
    assert!(engine.decide(&by_id("vera", "rec-echo-1")).is_allowed());
    assert!(!engine.decide(&by_id("vera", "rec-nowhere")).is_allowed());
    let records = sink.drain().unwrap();
    assert_eq!(records.len(), 2);
    let found = &records[0];
    assert_eq!(found.action, AuditAction::Action(ActionKind::ViewRecord));
    assert_eq!(
        found.record.as_ref().map(zorg_pdp::RecordId::as_str),
        Some("rec-echo-1")
    );
    assert_eq!(found.holder, Some(org("vp-noord")));
    assert_eq!(found.category.as_ref().map(Category::as_str), Some("echo"));
    assert_eq!(found.module, None);
    assert_eq!(found.purpose, Some(Purpose::Treatment));
    assert_eq!(found.decision, Decision::Allow);
    // An unknown record: its id, and nothing it was not found to be
    let missing = &records[1];
    assert_eq!(
        missing.record.as_ref().map(zorg_pdp::RecordId::as_str),
        Some("rec-nowhere")
    );
    assert_eq!(
        (missing.holder.as_ref(), missing.category.as_ref()),
        (None, None)
    );
    assert_eq!(missing.reasons, vec![Reason::UnknownEntity]);
    // The file sink, which builds the record at once, writes the same fields
    let dir = TempDir::new("by-id");
    let path = dir.file("log.jsonl");
    let (file, _) = FileSink::open(&path, Durability::OnFlush).unwrap();
    let file = Arc::new(file);
    engine.set_audit_sink(Arc::clone(&file) as Arc<dyn AuditSink>);
    engine.decide(&by_id("vera", "rec-echo-1"));
    file.flush().unwrap();
    let written = read_records(&path).unwrap();
    let strip = |r: &AuditRecord| {
        let mut r = r.clone();
        r.seq = 0;
        r.prev_hash.clear();
        r.hash.clear();
        r
    };
    assert_eq!(strip(&written[0]), strip(found));
}

#[test]
fn every_kind_of_principal_and_subject_is_logged_with_the_requests_ids() {
    // The engine hands a sink tags into the registry's table of ids; the
    // record built from them names exactly what the request named.
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let when = "2026-02-01T10:00:00Z";
    let party = || Principal::Organisation(org("kz-oost"));
    let requests = [
        view("anna", "client-1", "vp-noord", "echo", when),
        request(
            practitioner("vera"),
            "client-1",
            when,
            Action::ViewRecord {
                record: "rec-echo-1".parse().unwrap(),
                purpose: Purpose::Treatment,
            },
        ),
        request(
            Principal::Patient(patient("client-1")),
            "client-1",
            when,
            Action::ViewOwn {
                holder: Some(org("kz-oost")),
                category: None,
                record: Some("rec-echo-1".parse().unwrap()),
            },
        ),
        request(
            party(),
            "client-1",
            when,
            Action::UsePersonalData {
                holder: org("vp-noord"),
                purpose: Purpose::Research,
            },
        ),
        request(
            party(),
            "client-1",
            when,
            Action::UseForResearch {
                purpose: Purpose::Research,
                study: Some("study-7".parse().unwrap()),
            },
        ),
        request(
            party(),
            "client-1",
            when,
            Action::UseForResearch {
                purpose: Purpose::NzaRegistration,
                study: None,
            },
        ),
        request(
            Principal::Patient(patient("client-1")),
            "client-1",
            when,
            Action::ViewAccessLog {
                holder: Some(org("kz-oost")),
            },
        ),
    ];
    for q in &requests {
        engine.decide(q);
    }
    let records = sink.drain().unwrap();
    assert_eq!(records.len(), requests.len());
    for (q, r) in requests.iter().zip(&records) {
        let (kind, id) = match &q.principal {
            Principal::Practitioner(p) => (PrincipalKind::Practitioner, p.as_str()),
            Principal::Patient(p) => (PrincipalKind::Patient, p.as_str()),
            Principal::Organisation(o) => (PrincipalKind::Organisation, o.as_str()),
        };
        assert_eq!((r.principal.kind, r.principal.id.as_str()), (kind, id));
        assert_eq!(r.patient, q.patient);
        assert_eq!(r.at, q.at);
        let (holder, record, study) = match &q.action {
            Action::View { holder, .. }
            | Action::UsePersonalData { holder, .. }
            | Action::ViewOwn {
                holder: Some(holder),
                record: None,
                ..
            } => (Some(holder.clone()), None, None),
            // a record asked for by id: where it was found
            Action::ViewRecord { record, .. } => (Some(org("vp-noord")), Some(record), None),
            Action::ViewOwn {
                holder: Some(holder),
                record,
                ..
            } => (Some(holder.clone()), record.as_ref(), None),
            Action::UseForResearch { study, .. } => (None, None, study.as_ref()),
            Action::ViewAccessLog { holder } => (holder.clone(), None, None),
            other => unreachable!("not in this test: {other:?}"),
        };
        assert_eq!(r.holder, holder, "{q:?}");
        assert_eq!(r.record.as_ref(), record, "{q:?}");
        assert_eq!(r.study.as_ref(), study, "{q:?}");
        match kind {
            PrincipalKind::Practitioner => {
                assert!(r.principal.role.is_some());
                assert!(r.principal.organisation.is_some());
            }
            _ => assert_eq!(
                (&r.principal.role, &r.principal.organisation),
                (&None, &None)
            ),
        }
    }
    assert_eq!(records[0].principal.organisation, Some(org("kz-oost")));
    assert_eq!(records[1].principal.organisation, Some(org("vp-noord")));
    assert!(verify_records(&records).is_intact());
}

#[test]
fn a_dashboard_yields_one_record_per_holder() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let query = DashboardQuery {
        principal: practitioner("anna"),
        patient: patient("client-1"),
        at: at("2026-02-01T00:00:00Z"),
        mfa: true,
        purpose: Purpose::Treatment,
        min_seq: None,
    };
    let answer = engine.dashboard(&query).unwrap();
    assert!(answer.holders.len() >= 2, "{answer:?}");
    let records = sink.records().unwrap();
    assert_eq!(records.len(), answer.holders.len());
    for (r, h) in records.iter().zip(&answer.holders) {
        assert!(matches!(r.action, AuditAction::Dashboard(_)));
        assert_eq!(r.action.as_str(), "dashboard");
        assert_eq!(r.holder.as_ref(), Some(&h.holder));
        assert_eq!(r.categories.as_ref(), Some(&h.visible));
        assert_eq!(r.reasons, h.reasons);
        assert_eq!(
            r.decision,
            if h.visible.is_empty() {
                Decision::Deny
            } else {
                Decision::Allow
            }
        );
        assert_eq!(r.purpose, Some(Purpose::Treatment));
        assert_eq!(r.principal.id, "anna");
        assert_eq!(r.policy_version, engine.policies().content_hash());
    }
    assert!(verify_records(&records).is_intact());
}

// ---------------------------------------------------------------------------------------
// The file sink

#[test]
fn many_threads_deciding_into_one_file_sink_write_one_gap_free_chain() {
    let dir = TempDir::new("threads");
    let path = dir.file("log.jsonl");
    let engine = Arc::new(world());
    let (sink, report) = FileSink::open(&path, Durability::EveryN(64)).unwrap();
    assert!(report.created);
    let sink = Arc::new(sink);
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    const THREADS: usize = 8;
    const EACH: usize = 250;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let engine = &engine;
            s.spawn(move || {
                for i in 0..EACH {
                    let who = if (t + i) % 2 == 0 { "vera" } else { "anna" };
                    let when = format!("2026-02-{:02}T{:02}:00:00Z", 1 + t, i % 24);
                    engine.decide(&view(who, "client-1", "vp-noord", "basis", &when));
                }
            });
        }
    });
    sink.flush().unwrap();
    assert_eq!(engine.audit_failures(), 0);
    let n = (THREADS * EACH) as u64;
    assert_eq!(sink.last_seq(), n);
    let records = read_records(&path).unwrap();
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.records, n);
    assert_eq!(report.to_string(), format!("{n} records, chain intact"));
    assert_eq!(sink.last_hash(), records.last().unwrap().hash);
}

#[test]
fn draining_a_memory_sink_while_threads_decide_gives_one_gap_free_chain() {
    let engine = Arc::new(world());
    let sink = Arc::new(MemorySink::with_capacity(16));
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    const THREADS: usize = 4;
    const EACH: usize = 300;
    let done = std::sync::atomic::AtomicBool::new(false);
    // Halfway the deciders wait for one drain, so at least one batch is
    // shipped mid-stream; after it, drains race the deciders freely.
    let halfway = std::sync::Barrier::new(THREADS + 1);
    let resumed = std::sync::Barrier::new(THREADS + 1);
    let mut drained: Vec<AuditRecord> = Vec::new();
    std::thread::scope(|s| {
        let deciders: Vec<_> = (0..THREADS)
            .map(|t| {
                let (engine, halfway, resumed) = (&engine, &halfway, &resumed);
                s.spawn(move || {
                    for i in 0..EACH {
                        if i == EACH / 2 {
                            halfway.wait();
                            resumed.wait();
                        }
                        let who = if (t + i) % 3 == 0 { "anna" } else { "vera" };
                        let when = format!("2026-02-{:02}T{:02}:00:00Z", 1 + t, i % 24);
                        engine.decide(&view(who, "client-1", "vp-noord", "echo", &when));
                    }
                })
            })
            .collect();
        // A host thread shipping batches while the deciders run
        let shipper = s.spawn(|| {
            halfway.wait();
            let first = sink.drain().unwrap();
            resumed.wait();
            let mut shipped = first.clone();
            while !done.load(Ordering::Relaxed) {
                shipped.extend(sink.drain().unwrap());
                std::thread::yield_now();
            }
            (shipped, first.len())
        });
        for d in deciders {
            d.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        let (records, first) = shipper.join().unwrap();
        assert_eq!(first, THREADS * (EACH / 2));
        drained = records;
    });
    drained.extend(sink.drain().unwrap());
    assert!(sink.is_empty());
    let n = (THREADS * EACH) as u64;
    let seqs: Vec<u64> = drained.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>());
    let report = verify_records(&drained);
    assert!(report.is_intact(), "{report}");
    // Both practitioners' decisions are there, allowed and denied alike
    let by = |id: &str| drained.iter().filter(|r| r.principal.id == id).count();
    assert_eq!(by("vera") + by("anna"), THREADS * EACH);
    assert!(by("anna") > 0 && by("vera") > 0);
    // The chain goes on after the drains
    engine.decide(&view(
        "vera",
        "client-1",
        "vp-noord",
        "echo",
        "2026-03-01T10:00:00Z",
    ));
    let next = sink.drain().unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].seq, n + 1);
    assert_eq!(next[0].prev_hash, drained.last().unwrap().hash);
}

#[test]
fn a_memory_sink_keeps_every_record_in_order_across_its_batches() {
    // The sink gathers records a batch at a time before moving them on; every
    // read must still see every record taken, in the order taken, whatever
    // the count.
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let when = |i: usize| {
        format!(
            "2026-02-01T{:02}:{:02}:{:02}Z",
            i / 3600,
            i / 60 % 60,
            i % 60
        )
    };
    let decide = |i: usize| {
        let who = if i.is_multiple_of(3) { "anna" } else { "vera" };
        engine.decide(&view(who, "client-1", "vp-noord", "echo", &when(i)));
    };
    let ats = |records: &[AuditRecord], from: usize| {
        let got: Vec<Timestamp> = records.iter().map(|r| r.at).collect();
        let want: Vec<Timestamp> = (from..from + records.len()).map(|i| at(&when(i))).collect();
        assert_eq!(got, want);
    };
    let mut all: Vec<AuditRecord> = Vec::new();
    let mut next = 0;
    // Drains after counts below, at and across any batch size up to 1,000
    for take in [1, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1_000] {
        for i in next..next + take {
            decide(i);
            assert_eq!(sink.len(), i - next + 1);
        }
        let kept = sink.records().unwrap();
        assert_eq!(kept.len(), take);
        ats(&kept, next);
        // Reading keeps them; draining hands over the same records
        assert_eq!(sink.len(), take);
        let drained = sink.drain().unwrap();
        assert_eq!(drained, kept);
        assert!(sink.is_empty());
        all.extend(drained);
        next += take;
    }
    ats(&all, 0);
    let seqs: Vec<u64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=next as u64).collect::<Vec<_>>());
    let report = verify_records(&all);
    assert!(report.is_intact(), "{report}");
}

#[test]
fn a_file_sink_writes_what_seal_gives() {
    // The sink builds each line by hand; it must be byte for byte the JSON of
    // the sealed record, so that `record_hash` over the parsed line agrees.
    let dir = TempDir::new("bytes");
    let path = dir.file("log.jsonl");
    let engine = world();
    let memory = Arc::new(MemorySink::new());
    let (file, _) = FileSink::open(&path, Durability::OnFlush).unwrap();
    let file = Arc::new(file);
    let q = [
        view(
            "vera",
            "client-1",
            "vp-noord",
            "echo",
            "2026-02-01T10:00:00Z",
        ),
        view(
            "nobody",
            "client-1",
            "vp-noord",
            "echo",
            "2026-02-01T10:00:00Z",
        ),
    ];
    for sink in [
        Arc::clone(&memory) as Arc<dyn AuditSink>,
        Arc::clone(&file) as Arc<dyn AuditSink>,
    ] {
        engine.set_audit_sink(sink);
        for q in &q {
            engine.decide(q);
        }
    }
    file.flush().unwrap();
    let expected: Vec<String> = memory
        .records()
        .unwrap()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(lines(&path), expected);
}

#[test]
fn durability_decides_when_records_reach_the_file() {
    let dir = TempDir::new("durability");
    let count = |p: &Path| fs::read_to_string(p).unwrap().lines().count();
    let record = || {
        let mut r = read_records_of_one();
        r.seq = 0;
        r
    };

    let every = dir.file("every.jsonl");
    let (sink, _) = FileSink::open(&every, Durability::EveryRecord).unwrap();
    for i in 1..=3 {
        sink.record(record()).unwrap();
        assert_eq!(count(&every), i);
    }

    let every_two = dir.file("every-two.jsonl");
    let (sink, _) = FileSink::open(&every_two, Durability::EveryN(2)).unwrap();
    assert_eq!(sink.durability(), Durability::EveryN(2));
    sink.record(record()).unwrap();
    assert_eq!(count(&every_two), 0);
    sink.record(record()).unwrap();
    assert_eq!(count(&every_two), 2);
    sink.record(record()).unwrap();
    assert_eq!(count(&every_two), 2);
    sink.flush().unwrap();
    assert_eq!(count(&every_two), 3);

    let on_flush = dir.file("on-flush.jsonl");
    let (sink, _) = FileSink::open(&on_flush, Durability::OnFlush).unwrap();
    for _ in 0..5 {
        sink.record(record()).unwrap();
    }
    assert_eq!(count(&on_flush), 0);
    sink.flush().unwrap();
    assert_eq!(count(&on_flush), 5);
    sink.record(record()).unwrap();
    drop(sink); // dropping flushes
    assert_eq!(count(&on_flush), 6);
    assert!(verify(&on_flush).unwrap().is_intact());
}

/// One record from a real decision
fn read_records_of_one() -> AuditRecord {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    engine.decide(&view(
        "vera",
        "client-1",
        "vp-noord",
        "echo",
        "2026-02-01T10:00:00Z",
    ));
    sink.records().unwrap().remove(0)
}

#[test]
fn reopening_a_clean_log_continues_its_chain() {
    let dir = TempDir::new("reopen");
    let path = dir.file("log.jsonl");
    let sink = write_log(&path, 3, Durability::EveryRecord);
    let last_hash = sink.last_hash();
    drop(sink);
    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert!(!report.created);
    assert_eq!(report.last_seq, 3);
    assert_eq!(report.last_hash, last_hash);
    assert_eq!(report.torn, None);
    sink.record(read_records_of_one()).unwrap();
    assert_eq!(sink.last_seq(), 4);
    drop(sink);
    let records = read_records(&path).unwrap();
    assert_eq!(records[3].seq, 4);
    assert_eq!(records[3].prev_hash, last_hash);
    assert!(verify(&path).unwrap().is_intact());
}

#[test]
fn a_log_has_one_writer_at_a_time() {
    let dir = TempDir::new("lock");
    let path = dir.file("log.jsonl");
    let (first, _) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert!(matches!(
        FileSink::open(&path, Durability::EveryRecord),
        Err(AuditError::Locked { .. })
    ));
    drop(first);
    assert!(FileSink::open(&path, Durability::EveryRecord).is_ok());
}

// ---------------------------------------------------------------------------------------
// R34: tampering

#[test]
fn verify_reports_an_intact_chain_and_an_empty_log() {
    let dir = TempDir::new("intact");
    let (path, _) = ten(&dir);
    let report = verify(&path).unwrap();
    assert_eq!(report.records, 10);
    assert_eq!(report.to_string(), "10 records, chain intact");
    let empty = dir.file("empty.jsonl");
    fs::write(&empty, "").unwrap();
    assert!(verify(&empty).unwrap().is_intact());
    assert!(verify_records(&[]).is_intact());
}

#[test]
fn verify_names_a_changed_record() {
    let dir = TempDir::new("changed");
    let (path, mut l) = ten(&dir);
    // record 5: another category, the hash left as it was
    let mut v: serde_json::Value = serde_json::from_str(&l[4]).unwrap();
    v["category"] = "psychosociaal".into();
    l[4] = v.to_string();
    write_lines(&path, &l);
    assert_eq!(first_break(&path), (5, Break::Changed));
    let b = verify(&path).unwrap().first_break.unwrap();
    assert_eq!(b.line, 5);
    assert_eq!(b.to_string(), "seq 5: a record was changed (line 5)");
}

#[test]
fn verify_names_a_changed_record_that_was_hashed_again() {
    let dir = TempDir::new("rehashed");
    let (path, mut l) = ten(&dir);
    let mut r: AuditRecord = serde_json::from_str(&l[4]).unwrap();
    r.decision = Decision::Deny;
    r.hash = record_hash(&r).unwrap();
    l[4] = serde_json::to_string(&r).unwrap();
    write_lines(&path, &l);
    // record 5 is consistent in itself; record 6's prev_hash gives it away
    assert_eq!(first_break(&path), (5, Break::Changed));
}

#[test]
fn verify_names_a_line_that_is_no_record_as_changed() {
    let dir = TempDir::new("garbage");
    let (path, mut l) = ten(&dir);
    l[6] = "{\"seq\":7,\"oops\":true}".to_owned();
    write_lines(&path, &l);
    assert_eq!(verify(&path).unwrap().first_break.unwrap().seq, 7);
    assert_eq!(
        verify(&path).unwrap().first_break.unwrap().kind,
        Break::Changed
    );
}

#[test]
fn verify_names_a_removed_record() {
    let dir = TempDir::new("removed");
    let (path, mut l) = ten(&dir);
    l.remove(4);
    write_lines(&path, &l);
    assert_eq!(first_break(&path), (5, Break::Removed));

    l.remove(0);
    write_lines(&path, &l);
    assert_eq!(first_break(&path), (1, Break::Removed));
}

#[test]
fn verify_names_an_inserted_record() {
    let dir = TempDir::new("inserted");
    let (path, l) = ten(&dir);
    // a copy of record 5 after it
    let mut copy = l.clone();
    copy.insert(5, l[4].clone());
    write_lines(&path, &copy);
    assert_eq!(first_break(&path), (5, Break::Inserted));

    // a forged record, consistent in itself, slipped in before record 5
    let mut forged: AuditRecord = serde_json::from_str(&l[4]).unwrap();
    forged.seq = 99;
    forged.principal.id = "mallory".into();
    forged.hash = record_hash(&forged).unwrap();
    let mut with_forged = l.clone();
    with_forged.insert(4, serde_json::to_string(&forged).unwrap());
    write_lines(&path, &with_forged);
    assert_eq!(first_break(&path), (99, Break::Inserted));

    // a forged record that takes seq 5 and links to record 4
    let mut forged: AuditRecord = serde_json::from_str(&l[4]).unwrap();
    forged.principal.id = "mallory".into();
    forged.prev_hash = "f".repeat(64);
    forged.hash = record_hash(&forged).unwrap();
    let mut with_forged = l;
    with_forged.insert(4, serde_json::to_string(&forged).unwrap());
    write_lines(&path, &with_forged);
    assert_eq!(first_break(&path), (5, Break::Inserted));
}

#[test]
fn verify_names_reordered_records() {
    let dir = TempDir::new("reordered");
    let (path, l) = ten(&dir);
    let mut swapped = l.clone();
    swapped.swap(4, 5);
    write_lines(&path, &swapped);
    assert_eq!(first_break(&path), (5, Break::Reordered));

    // the last two swapped
    let mut swapped = l.clone();
    swapped.swap(8, 9);
    write_lines(&path, &swapped);
    assert_eq!(first_break(&path), (9, Break::Reordered));

    // record 3 moved to the end
    let mut moved = l;
    let third = moved.remove(2);
    moved.push(third);
    write_lines(&path, &moved);
    assert_eq!(first_break(&path), (3, Break::Reordered));
}

#[test]
fn verify_names_a_torn_last_line() {
    let dir = TempDir::new("torn-verify");
    let (path, l) = ten(&dir);
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&l[0].as_bytes()[..50]).unwrap();
    drop(f);
    assert_eq!(
        verify(&path).unwrap().first_break.map(|b| (b.seq, b.kind)),
        Some((11, Break::Torn))
    );
}

// ---------------------------------------------------------------------------------------
// Crash safety

#[test]
fn reopening_after_a_torn_write_cuts_the_tail_and_continues_the_chain() {
    let dir = TempDir::new("torn");
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 20, Durability::EveryRecord));
    let acknowledged = fs::read(&path).unwrap();
    // a crash halfway through writing record 21
    let line = lines(&path)[0].clone();
    let partial = &line.as_bytes()[..line.len() / 2];
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(partial).unwrap();
    drop(f);

    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    let torn = report.torn.clone().expect("the torn line is reported");
    assert_eq!(torn.offset, acknowledged.len() as u64);
    assert_eq!(torn.bytes, partial.len() as u64);
    assert_eq!(torn.seq, 21);
    assert_eq!(report.last_seq, 20);
    assert!(report.to_string().contains("torn"), "{report}");
    // no acknowledged record is lost, byte for byte
    assert_eq!(fs::read(&path).unwrap(), acknowledged);

    // the chain goes on from record 20
    for _ in 0..5 {
        sink.record(read_records_of_one()).unwrap();
    }
    drop(sink);
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.records, 25);
}

#[test]
fn reopening_after_a_cut_mid_line_drops_only_that_record() {
    let dir = TempDir::new("truncated");
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 12, Durability::EveryRecord));
    let before = lines(&path);
    let len = fs::metadata(&path).unwrap().len();
    let last_start = len - before[11].len() as u64 - 1;
    // the file system kept only part of the last write
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 37)
        .unwrap();

    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    let torn = report.torn.clone().unwrap();
    assert_eq!(torn.offset, last_start);
    assert_eq!(torn.bytes, len - 37 - last_start);
    assert_eq!(torn.seq, 12);
    assert_eq!(report.last_seq, 11);
    assert_eq!(lines(&path), before[..11]);

    sink.record(read_records_of_one()).unwrap();
    drop(sink);
    let records = read_records(&path).unwrap();
    assert_eq!(records.len(), 12);
    assert_eq!(records[11].seq, 12);
    assert!(verify(&path).unwrap().is_intact());
}

#[test]
fn reopening_cuts_a_last_line_that_is_no_record_and_zero_fill() {
    let dir = TempDir::new("zeros");
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 4, Durability::EveryRecord));
    let good = fs::read(&path).unwrap();
    // a last line that is complete but not a record
    let mut bytes = good.clone();
    bytes.extend_from_slice(b"{\"seq\":5,\"at\":\n");
    fs::write(&path, &bytes).unwrap();
    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert_eq!(report.torn.unwrap().bytes, 15);
    drop(sink);
    assert_eq!(fs::read(&path).unwrap(), good);

    let mut bytes = good.clone();
    bytes.extend_from_slice(&[0u8; 300]); // zeros a crash left
    fs::write(&path, &bytes).unwrap();
    let (_, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert_eq!(report.torn.unwrap().bytes, 300);
    assert_eq!(fs::read(&path).unwrap(), good);

    // a log holding only a torn first line starts afresh
    fs::write(&path, b"{\"seq\":1,\"a").unwrap();
    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert_eq!(report.last_seq, 0);
    assert_eq!(report.torn.unwrap().seq, 1);
    sink.record(read_records_of_one()).unwrap();
    drop(sink);
    assert!(verify(&path).unwrap().is_intact());
}

#[test]
fn reopening_refuses_a_log_damaged_before_its_last_line() {
    let dir = TempDir::new("corrupt");
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 4, Durability::EveryRecord));
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"not a record\n{\"seq\":6,");
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        FileSink::open(&path, Durability::EveryRecord),
        Err(AuditError::Corrupt { .. })
    ));
    // nothing was cut
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn reopening_finds_the_last_record_behind_a_long_torn_tail() {
    // The tail is read from the end in growing windows
    let dir = TempDir::new("long-tail");
    let path = dir.file("log.jsonl");
    drop(write_log(&path, 300, Durability::OnFlush));
    let good_len = fs::metadata(&path).unwrap().len();
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&vec![b'x'; 200_000]).unwrap();
    drop(f);
    let (_, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert_eq!(report.last_seq, 300);
    assert_eq!(report.torn.unwrap().offset, good_len);
}

const CHILD_ENV: &str = "ZORG_PDP_AUDIT_CRASH_CHILD_LOG";

/// The writer the crash test kills: does nothing unless started by it
#[test]
fn crash_writer_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let (sink, _) = FileSink::open(PathBuf::from(path), Durability::EveryRecord).unwrap();
    let record = read_records_of_one();
    let mut out = std::io::stdout().lock();
    loop {
        sink.record(record.clone()).unwrap();
        writeln!(out, "ack {}", sink.last_seq()).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killing_a_writer_mid_stream_loses_no_acknowledged_record() {
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = TempDir::new("kill");
    let path = dir.file("log.jsonl");
    let mut child = Kill(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "audit::crash_writer_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Keep reading until the kill: a closed pipe would end the writer on its own
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let mut acked = 0u64;
    let mut line = String::new();
    while acked < 200 && reader.read_line(&mut line).unwrap() > 0 {
        if let Some(n) = line.trim_end().strip_prefix("ack ") {
            acked = n.parse().unwrap();
        }
        line.clear();
    }
    assert!(acked >= 200, "the writer stopped early at {acked}");
    child.0.kill().unwrap(); // SIGKILL, mid-stream
    child.0.wait().unwrap();

    let (sink, report) = FileSink::open(&path, Durability::EveryRecord).unwrap();
    assert!(
        report.last_seq >= acked,
        "acknowledged {acked}, found {report}"
    );
    sink.record(read_records_of_one()).unwrap();
    drop(sink);
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert!(report.records > acked);
}

// ---------------------------------------------------------------------------------------
// R35: the overview

#[test]
fn the_overview_lists_only_allowed_accesses_to_that_patient_newest_first() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let allowed_views = [
        view(
            "vera",
            "client-1",
            "vp-noord",
            "echo",
            "2026-02-03T10:00:00Z",
        ),
        view(
            "vera",
            "client-1",
            "vp-noord",
            "basis",
            "2026-02-01T10:00:00Z",
        ),
        view(
            "vera",
            "client-1",
            "vp-noord",
            "zwangerschap",
            "2026-02-03T10:00:00Z",
        ),
    ];
    for q in &allowed_views {
        assert!(engine.decide(q).is_allowed());
    }
    // denied: not listed
    assert!(
        !engine
            .decide(&view(
                "anna",
                "client-2",
                "vp-noord",
                "basis",
                "2026-02-04T10:00:00Z"
            ))
            .is_allowed()
    );
    assert!(
        !engine
            .decide(&view(
                "nobody",
                "client-1",
                "vp-noord",
                "basis",
                "2026-02-04T10:00:00Z"
            ))
            .is_allowed()
    );
    // another patient: not listed
    assert!(
        engine
            .decide(&view(
                "vera",
                "client-2",
                "vp-noord",
                "basis",
                "2026-02-05T10:00:00Z"
            ))
            .is_allowed()
    );
    // asking for access sees no data: not listed
    engine.decide(&request(
        practitioner("anna"),
        "client-1",
        "2026-02-02T00:00:00Z",
        Action::RequestAccess,
    ));
    // a dashboard: one entry per holder it showed something of
    let answer = engine
        .dashboard(&DashboardQuery {
            principal: practitioner("anna"),
            patient: patient("client-1"),
            at: at("2026-02-02T12:00:00Z"),
            mfa: true,
            purpose: Purpose::Treatment,
            min_seq: None,
        })
        .unwrap();
    let shown = answer
        .holders
        .iter()
        .filter(|h| !h.visible.is_empty())
        .count();
    assert!(shown >= 1);
    // the patient reads her log
    assert!(
        engine
            .decide(&request(
                Principal::Patient(patient("client-1")),
                "client-1",
                "2026-02-06T00:00:00Z",
                Action::ViewAccessLog { holder: None },
            ))
            .is_allowed()
    );

    let records = sink.records().unwrap();
    let entries = overview(&records, &patient("client-1"));
    assert_eq!(entries.len(), allowed_views.len() + shown + 1);
    // newest first, by time and then by seq
    for pair in entries.windows(2) {
        assert!(
            (pair[0].at, pair[0].seq) > (pair[1].at, pair[1].seq),
            "{pair:?}"
        );
    }
    let log = &entries[0];
    assert_eq!(log.action, AuditAction::Action(ActionKind::ViewAccessLog));
    assert_eq!(log.principal.kind, PrincipalKind::Patient);
    // the two views of 3 February: the later decision first
    assert_eq!(
        entries[1].categories,
        vec![Category::new("zwangerschap").unwrap()]
    );
    assert_eq!(entries[2].categories, vec![Category::new("echo").unwrap()]);
    assert!(entries[1].seq > entries[2].seq);
    let v = &entries[1];
    assert_eq!(v.principal.id, "vera");
    assert_eq!(v.principal.role.as_ref().unwrap().as_str(), "verloskundige");
    assert_eq!(v.principal.organisation, Some(org("vp-noord")));
    assert_eq!(v.holder, Some(org("vp-noord")));
    assert_eq!(v.purpose, Some(Purpose::Treatment));
    assert!(!v.policies.is_empty());
    // dashboards list the categories they showed
    for e in entries
        .iter()
        .filter(|e| matches!(e.action, AuditAction::Dashboard(_)))
    {
        let h = answer
            .holders
            .iter()
            .find(|h| Some(&h.holder) == e.holder.as_ref())
            .unwrap();
        assert_eq!(e.categories, h.visible);
        assert_eq!(e.principal.id, "anna");
    }
    // every entry is an allowed record of client-1
    for e in &entries {
        let r = &records[usize::try_from(e.seq).unwrap() - 1];
        assert_eq!(r.decision, Decision::Allow);
        assert_eq!(r.patient, patient("client-1"));
    }
    // client-2's overview has only vera's view
    let other = overview(&records, &patient("client-2"));
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].principal.id, "vera");
    // a holder's reviewer sees only what that holder holds
    let at_kz = overview_of_holder(&records, &patient("client-1"), &org("kz-oost"));
    assert!(at_kz.iter().all(|e| e.holder == Some(org("kz-oost"))));
    assert!(at_kz.len() < entries.len());
}

// ---------------------------------------------------------------------------------------
// `zorg-pdp test --audit-log`

#[test]
fn scenario_runs_log_every_decision_into_one_chain() {
    let dir = TempDir::new("scenarios");
    let path = dir.file("log.jsonl");
    let (sink, _) = FileSink::open(&path, Durability::OnFlush).unwrap();
    let sink: Arc<dyn AuditSink> = Arc::new(sink);
    let policies = zorg_pdp::Policies::shipped().unwrap();
    let dirs = [PathBuf::from("policies/tests")];
    let report = zorg_pdp::scenario::run_paths_with_sink(&policies, &dirs, &sink);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.failed, 0);
    sink.flush().unwrap();
    drop(sink);

    // every `expect` of an audited action is one decision record
    let audited = |a: ActionKind| {
        !matches!(
            a,
            ActionKind::Share
                | ActionKind::StartModule
                | ActionKind::Contribute
                | ActionKind::ChangeConsent
                | ActionKind::ViewConsents
        )
    };
    let mut decisions = 0;
    let mut dashboards = 0;
    for file in zorg_pdp::scenario::collect_files(&dirs).unwrap() {
        let s = Scenario::load(&file).unwrap();
        decisions += s.expect.iter().filter(|e| audited(e.action)).count();
        dashboards += s.expect_dashboard.len();
    }
    let records = read_records(&path).unwrap();
    let of_decisions = records
        .iter()
        .filter(|r| matches!(r.action, AuditAction::Action(_)))
        .count();
    assert_eq!(of_decisions, decisions);
    assert!(records.len() - of_decisions >= dashboards);
    let report = verify(&path).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.records, records.len() as u64);
}

#[test]
fn a_drained_memory_sink_goes_on_with_the_chain() {
    let engine = world();
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    let q = view(
        "vera",
        "client-1",
        "vp-noord",
        "echo",
        "2026-02-01T10:00:00Z",
    );
    for _ in 0..3 {
        engine.decide(&q);
    }
    let first = sink.drain().unwrap();
    assert_eq!(first.len(), 3);
    assert!(sink.is_empty());
    for _ in 0..2 {
        engine.decide(&q);
    }
    let pending = sink.records().unwrap();
    assert_eq!(pending.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(pending[0].prev_hash, first[2].hash);
    let second = sink.drain().unwrap();
    assert_eq!(second, pending);
    let all: Vec<AuditRecord> = first.into_iter().chain(second).collect();
    assert!(verify_records(&all).is_intact());
    // a gap between two drains shows
    let skipped: Vec<AuditRecord> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, r)| r.clone())
        .collect();
    let b = verify_records(&skipped).first_break.unwrap();
    assert_eq!((b.seq, b.kind), (4, Break::Removed));
}
