//! Running the service: `/metrics` moving with the decisions made, the
//! audit log written as the library writes it and flushed on SIGTERM, a
//! SIGTERM right after start-up being a graceful stop, subject search after
//! a restart, and kill -9 under load losing no acknowledged entry.
#![expect(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    reason = "metric samples are small whole counts, exact in f64 and compared exactly"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zorg_pdp::Engine;
use zorg_pdp::audit::{self, AuditAction};

use crate::binary::{Running, WORLD, eventually, refused, scratch};
use crate::client::{Server, TIMEOUT};

const FEBRUARY: &str = "2026-02-01T12:00:00Z";

fn view(who: &str, category: &str) -> Value {
    json!({
        "subject": {"type": "practitioner", "id": who},
        "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-sanne",
                     "properties": {"holder": "vp-noord", "category": category}},
        "context": {"at": FEBRUARY, "mfa": true},
    })
}

/// The samples of an `OpenMetrics` text: `name{labels}` → value
pub(crate) fn samples(text: &str) -> BTreeMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "not OpenMetrics text: {text}");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').expect("a sample");
            (key.to_owned(), value.parse::<f64>().expect("a number"))
        })
        .collect()
}

/// One sample, 0 when absent
fn at(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

async fn scrape(s: &Server) -> BTreeMap<String, f64> {
    let r = s.get("/metrics").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/openmetrics-text")),
    );
    samples(&r.body)
}

async fn demo_server() -> (Server, Arc<zorg_pdp_server::ZorgDecider>) {
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let router = zorg_pdp_server::zorg_router(decider.clone(), "http://127.0.0.1");
    (Server::start(router).await, decider)
}

/// Counters move by exactly the decisions, batch items, searches, consent
/// questions and requests made; the seq gauge follows an entry; no label
/// carries an id or a category
#[tokio::test]
async fn metrics_move_with_the_decisions() {
    let (s, decider) = demo_server().await;
    let before = scrape(&s).await;
    assert_eq!(at(&before, "zorg_pdp_seq"), 17.0);
    for (name, v) in &before {
        for id in ["client-sanne", "anna", "vp-noord", "kraambed", "GGC"] {
            assert!(!name.contains(id), "{name} {v}");
        }
    }

    // 3 allowed views, 2 denied, 1 unknown action, 1 unknown patient
    for _ in 0..3 {
        let d = s
            .post_json("/access/v1/evaluation", &view("anna", "kraambed"))
            .await;
        assert_eq!(d.json()["decision"], json!(true));
    }
    for _ in 0..2 {
        let d = s
            .post_json("/access/v1/evaluation", &view("anna", "labuitslagen"))
            .await;
        assert_eq!(d.json()["decision"], json!(false));
    }
    let mut unknown = view("anna", "kraambed");
    unknown["action"]["name"] = json!("delete");
    assert_eq!(
        s.post_json("/access/v1/evaluation", &unknown).await.json()["decision"],
        json!(false)
    );
    let mut nobody = view("anna", "kraambed");
    nobody["resource"]["id"] = json!("client-nobody");
    assert_eq!(
        s.post_json("/access/v1/evaluation", &nobody).await.json()["context"]["reasons"],
        json!(["unknown_entity"])
    );
    // A batch of the 14 categories
    let categories: Vec<String> = decider
        .engine()
        .policies()
        .vocabulary()
        .categories()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let batch = json!({
        "subject": {"type": "practitioner", "id": "anna"}, "action": {"name": "view"},
        "context": {"at": FEBRUARY, "mfa": true},
        "evaluations": categories.iter().map(|c| json!({"resource": {"type": "patient",
            "id": "client-sanne", "properties": {"holder": "vp-noord", "category": c}}}))
            .collect::<Vec<_>>(),
    });
    let answers = s.post_json("/access/v1/evaluations", &batch).await.json();
    let answers = answers["evaluations"].as_array().unwrap().clone();
    let batch_allowed = answers
        .iter()
        .filter(|a| a["decision"] == json!(true))
        .count() as f64;
    assert_eq!(answers.len(), categories.len());
    // A search, a consent question, a 400, a 404, an entry
    let what = json!({"subject": {"type": "practitioner", "id": "eva"},
        "resource": {"type": "patient", "id": "client-sanne", "properties": {"holder": "vp-noord", "category": "echo"}},
        "context": {"at": FEBRUARY, "mfa": true}});
    assert_eq!(
        s.post_json("/access/v1/search/action", &what).await.status,
        200
    );
    let check = json!({"patient": "client-sanne", "holder": "vp-noord", "requester": "kz-oost",
                       "data_categories": ["GGC002"], "at": FEBRUARY});
    assert_eq!(s.post_json("/v1/consent/check", &check).await.status, 200);
    assert_eq!(s.post("/access/v1/evaluation", "{}").await.status, 400);
    assert_eq!(s.get("/no/such/route").await.status, 404);
    let entry = json!({"entity": {"patient": {"id": "client-new"}}});
    assert_eq!(s.post_json("/v1/entries", &entry).await.status, 200);

    let after = scrape(&s).await;
    let delta = |key: &str| at(&after, key) - at(&before, key);
    let n = categories.len() as f64;
    // 3 allowed views, the batch's permits, and the action search's `view`
    // (it asks every action once; eva sees the echo)
    assert_eq!(
        delta(r#"zorg_pdp_decisions_total{action="view",decision="allow"}"#),
        3.0 + batch_allowed + 1.0
    );
    // 2 denied views, the unknown patient (the engine's deny), the batch's denies
    assert_eq!(
        delta(r#"zorg_pdp_decisions_total{action="view",decision="deny"}"#),
        2.0 + 1.0 + (n - batch_allowed)
    );
    assert_eq!(
        delta(r#"zorg_pdp_decisions_total{action="other",decision="deny"}"#),
        1.0
    );
    assert_eq!(delta("zorg_pdp_batches_total"), 1.0);
    assert_eq!(delta("zorg_pdp_batch_items_total"), n);
    assert_eq!(delta(r#"zorg_pdp_searches_total{kind="action"}"#), 1.0);
    assert_eq!(
        delta(r#"zorg_pdp_consent_questions_total{question="check",outcome="answered"}"#),
        1.0
    );
    // Every decision the engine made was timed: all but the unknown action
    let engine_answers: f64 = after
        .iter()
        .filter(|(k, _)| k.starts_with("zorg_pdp_decisions_total{"))
        .map(|(k, v)| v - at(&before, k))
        .sum();
    assert_eq!(
        delta("zorg_pdp_decision_duration_seconds_count"),
        engine_answers - 1.0
    );
    assert_eq!(
        delta(r#"zorg_pdp_decision_duration_seconds_bucket{le="+Inf"}"#),
        engine_answers - 1.0
    );
    assert!(delta("zorg_pdp_decision_duration_seconds_sum") > 0.0);
    assert_eq!(
        delta(r#"zorg_pdp_http_requests_total{route="/access/v1/evaluation",status="200"}"#),
        7.0
    );
    assert_eq!(
        delta(r#"zorg_pdp_http_requests_total{route="/access/v1/evaluation",status="400"}"#),
        1.0
    );
    assert_eq!(
        delta(r#"zorg_pdp_http_requests_total{route="unmatched",status="404"}"#),
        1.0
    );
    assert_eq!(
        at(
            &after,
            r#"zorg_pdp_http_requests_total{route="/metrics",status="200"}"#
        ),
        1.0,
        "the first scrape is counted once it is answered"
    );
    assert_eq!(at(&after, "zorg_pdp_seq"), 18.0);
    assert_eq!(at(&after, "zorg_pdp_audit_failures_total"), 0.0);
    assert!(
        !after.contains_key("zorg_pdp_feed_ready"),
        "no feed series without --postgres"
    );
}

/// The binary with `--audit FILE --audit-durability on-flush`: every
/// audited decision and consent question leaves one record, buffered until
/// SIGTERM, then flushed and synced; the chain verifies, and a restart
/// continues it
#[tokio::test]
async fn the_audit_log_is_flushed_on_sigterm_and_verifies() {
    let data = scratch("audit-data");
    let log = scratch("audit.jsonl");
    let args = |world: bool| {
        let mut a = vec![
            "--data".to_owned(),
            data.display().to_string(),
            "--audit".to_owned(),
            log.display().to_string(),
            "--audit-durability".to_owned(),
            "on-flush".to_owned(),
        ];
        if world {
            a.extend(["--world".to_owned(), WORLD.to_owned()]);
        }
        a
    };
    let server = Running::start(args(true)).await;
    let s = &server.client;
    // 5 views, one of an unknown (well-formed) patient: 5 records
    for (who, category) in [
        ("anna", "kraambed"),
        ("anna", "labuitslagen"),
        ("dr-jansen", "echo"),
        ("eva", "basis"),
    ] {
        assert_eq!(
            s.post_json("/access/v1/evaluation", &view(who, category))
                .await
                .status,
            200
        );
    }
    let mut nobody = view("anna", "kraambed");
    nobody["resource"]["id"] = json!("client-nobody");
    assert_eq!(
        s.post_json("/access/v1/evaluation", &nobody).await.status,
        200
    );
    // A share is not audited (SPEC.md §6): no record
    let share = json!({"subject": {"type": "practitioner", "id": "eva"}, "action": {"name": "share"},
        "resource": {"type": "patient", "id": "client-sanne"}, "context": {"at": FEBRUARY, "mfa": true}});
    assert_eq!(
        s.post_json("/access/v1/evaluation", &share).await.status,
        200
    );
    // A batch of 3 views: 3 records
    let items: Vec<Value> = ["basis", "kind", "echo"]
        .iter()
        .map(|c| {
            json!({"resource": {"type": "patient", "id": "client-sanne",
                "properties": {"holder": "vp-noord", "category": c}}})
        })
        .collect();
    let batch = json!({"subject": {"type": "practitioner", "id": "anna"}, "action": {"name": "view"},
        "context": {"at": FEBRUARY, "mfa": true}, "evaluations": items});
    assert_eq!(
        s.post_json("/access/v1/evaluations", &batch).await.status,
        200
    );
    // consent check of 2 data categories: 2; locate over the 4 holders: 4; overview: 1
    let check = json!({"patient": "client-sanne", "holder": "vp-noord", "requester": "kz-oost",
                       "data_categories": ["GGC002", "GGC013"], "at": FEBRUARY});
    assert_eq!(s.post_json("/v1/consent/check", &check).await.status, 200);
    let locate = json!({"patient": "client-sanne", "requester": "kz-oost", "at": FEBRUARY});
    assert_eq!(s.post_json("/v1/consent/locate", &locate).await.status, 200);
    let overview = json!({"principal": {"patient": "client-sanne"}, "patient": "client-sanne", "at": FEBRUARY});
    assert_eq!(
        s.post_json("/v1/consent/overview", &overview).await.status,
        200
    );
    let expected: u32 = 5 + 3 + 2 + 4 + 1;

    let m = scrape(s).await;
    assert_eq!(
        at(&m, "zorg_pdp_audit_records_written_total"),
        f64::from(expected)
    );
    assert_eq!(at(&m, "zorg_pdp_audit_last_seq"), f64::from(expected));
    assert_eq!(at(&m, "zorg_pdp_audit_failures_total"), 0.0);
    assert_eq!(at(&m, "zorg_pdp_journal_stopped"), 0.0);
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        0,
        "on-flush: nothing is on disk before the shutdown"
    );

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains(&format!("audit log synced at seq {expected}")),
        "{stderr}"
    );
    let report = audit::verify(&log).unwrap();
    assert!(report.is_intact(), "{report}");
    let records = audit::read_records(&log).unwrap();
    assert_eq!(records.len(), usize::try_from(expected).unwrap());
    let consent = records
        .iter()
        .filter(|r| matches!(r.action, AuditAction::Consent(_)))
        .count();
    assert_eq!(consent, 7, "2 checks, 4 locates, 1 overview");
    assert!(
        records
            .iter()
            .all(|r| !matches!(r.action, AuditAction::Action(zorg_pdp::ActionKind::Share)))
    );

    // A restart continues the chain (the world is not loaded again)
    let server = Running::start(args(false)).await;
    assert!(
        server
            .stderr()
            .contains(&format!("continuing after seq {expected}")),
        "{}",
        server.stderr()
    );
    assert_eq!(
        server
            .client
            .post_json("/access/v1/evaluation", &view("anna", "kraambed"))
            .await
            .json()["decision"],
        json!(true)
    );
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{stderr}");
    let report = audit::verify(&log).unwrap();
    assert!(report.is_intact(), "{report}");
    assert_eq!(
        audit::read_records(&log).unwrap().len(),
        usize::try_from(expected).unwrap() + 1
    );

    // Flags it refuses
    let (ok, stderr) = refused([
        "--data",
        &data.display().to_string(),
        "--audit-durability",
        "sometimes",
    ])
    .await;
    assert!(!ok && stderr.contains("--audit-durability"), "{stderr}");
    let (ok, stderr) = refused([
        "--data",
        &data.display().to_string(),
        "--world",
        WORLD,
        "--postgres",
        "postgresql://u@127.0.0.1:1/db",
    ])
    .await;
    assert!(!ok && stderr.contains("outbox only"), "{stderr}");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(&log);
}

/// Subject search finds the practitioners of a data directory after a
/// restart, and one registered through `/v1/entries` before it (the engine
/// lists them; nothing is kept by the process)
/// SIGTERM sent the moment the binary says it listens, before any request
/// has made it poll its shutdown, is a graceful stop (the handlers go in
/// before that line), not a death by the signal
#[tokio::test]
async fn a_sigterm_right_after_listening_is_a_graceful_stop() {
    for round in 0..3 {
        let data = scratch(&format!("early-term-{round}"));
        let server = Running::start(["--data".to_owned(), data.display().to_string()]).await;
        let (status, stderr) = server.terminate().await;
        assert!(status.success(), "round {round}: {status}: {stderr}");
        assert!(stderr.contains("stopped at position 0"), "{stderr}");
        let _ = std::fs::remove_dir_all(&data);
    }
}

#[tokio::test]
async fn subject_search_after_a_restart() {
    let dir = scratch("subjects");
    {
        let decider = zorg_pdp_server::decider(Engine::open(&dir).unwrap());
        zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
        let s = Server::start(zorg_pdp_server::zorg_router(decider.clone(), "http://x")).await;
        let new = json!({"entity": {"practitioner": {"id": "dr-bakker", "organisation": "ziekenhuis-zuid",
            "role": "gynaecoloog"}}});
        assert_eq!(s.post_json("/v1/entries", &new).await.status, 200);
        let access = json!({"event": {"at": "2026-01-08T10:00:00Z", "type": "access_requested",
            "practitioner": "dr-bakker", "patient": "client-sanne"}});
        assert_eq!(s.post_json("/v1/entries", &access).await.status, 200);
    }
    let deadline = Instant::now() + TIMEOUT;
    let engine = loop {
        match Engine::open(&dir) {
            Ok(e) => break e,
            Err(e) if Instant::now() > deadline => panic!("reopening: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let s = Server::start(zorg_pdp_server::zorg_router(
        zorg_pdp_server::decider(engine),
        "http://x",
    ))
    .await;
    let who = json!({
        "subject": {"type": "practitioner"}, "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-sanne", "properties": {"holder": "vp-noord", "category": "echo"}},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let r = s.post_json("/access/v1/search/subject", &who).await.json();
    let found: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["dr-bakker", "dr-jansen", "eva"], "sorted by id");
    let orgs = json!({
        "subject": {"type": "organisation"}, "action": {"name": "request_access"},
        "resource": {"type": "patient", "id": "client-sanne"},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let r = s.post_json("/access/v1/search/subject", &orgs).await;
    assert_eq!(r.status, 200, "{}", r.body);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// kill -9 under load: four clients post position-less entries and record
/// every acknowledged position; the binary is killed mid-stream; restarted
/// on the same directory it has every acknowledged entry, the last one
/// included
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_keeps_every_acknowledged_entry() {
    let dir = scratch("kill9");
    let args = |world: bool| {
        let mut a = vec!["--data".to_owned(), dir.display().to_string()];
        if world {
            a.extend(["--world".to_owned(), WORLD.to_owned()]);
        }
        a
    };
    let server = Running::start(args(true)).await;
    let addr = server.client.addr;
    let acked = Arc::new(Mutex::new(Vec::<(u64, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let acked = Arc::clone(&acked);
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let client = Server::client_for(addr);
                let mut errors = 0;
                // Bounded: at most 2,000 entries or 20 s per client
                for i in 0..2_000 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(20) {
                        break;
                    }
                    let id = format!("load-{c}-{i:05}");
                    let body = json!({"entity": {"patient": {"id": id}}}).to_string();
                    match client.try_post("/v1/entries", &body).await {
                        Ok(r) if r.status == 200 => {
                            let v: Value = serde_json::from_str(&r.body).unwrap();
                            let p = v["entries"][0]["position"].as_u64().unwrap();
                            acked.lock().unwrap().push((p, id));
                        }
                        Ok(r) => panic!("refused: {} {}", r.status, r.body),
                        // The server is gone: every later attempt fails too
                        Err(_) => {
                            errors += 1;
                            if errors > 3 {
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // Kill once the stream is well under way
    let under_way = eventually(TIMEOUT, || {
        let n = acked.lock().unwrap().len();
        async move { n >= 120 }
    })
    .await;
    assert!(under_way, "too few entries acknowledged");
    server.kill9().await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        tokio::time::timeout(TIMEOUT * 3, c)
            .await
            .expect("a client hung")
            .unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let (max_acked, last_id) = acked.iter().max().cloned().unwrap();
    assert!(max_acked > 17 + 100, "{max_acked}");

    let server = Running::start(args(false)).await;
    let s = &server.client;
    let ready = s.get("/readyz").await.json();
    let seq = ready["seq"].as_u64().unwrap();
    assert!(seq >= max_acked, "seq {seq} < acknowledged {max_acked}");
    // Every acknowledged patient is known; the last one by itself first
    let ask = |patient: &str| json!({"resource": {"type": "patient", "id": patient}});
    let last = json!({"subject": {"type": "practitioner", "id": "eva"}, "action": {"name": "request_access"},
        "resource": {"type": "patient", "id": last_id}, "context": {"at": FEBRUARY, "mfa": true}});
    let d = s.post_json("/access/v1/evaluation", &last).await.json();
    assert_ne!(
        d["context"]["reasons"],
        json!(["unknown_entity"]),
        "{last_id}: {d}"
    );
    for chunk in acked.chunks(200) {
        let batch = json!({"subject": {"type": "practitioner", "id": "eva"}, "action": {"name": "request_access"},
            "context": {"at": FEBRUARY, "mfa": true},
            "evaluations": chunk.iter().map(|(_, id)| ask(id)).collect::<Vec<_>>()});
        let v = s.post_json("/access/v1/evaluations", &batch).await.json();
        let answers = v["evaluations"].as_array().unwrap();
        assert_eq!(answers.len(), chunk.len());
        for ((p, id), a) in chunk.iter().zip(answers) {
            assert_ne!(
                a["context"]["reasons"],
                json!(["unknown_entity"]),
                "acknowledged at {p}, lost: {id}"
            );
        }
    }
    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{stderr}");
    eprintln!(
        "kill -9: {} entries acknowledged in {:?} before the kill, max position {max_acked}, restored at {seq}",
        acked.len(),
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
