//! The domain through HTTP: the engine behind AuthZEN, the geboortezorg
//! story (`examples/geboortezorg.rs`), entries and their positions, and the
//! binary on the shipped demo world.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use zorg_pdp::Engine;
use zorg_pdp_server::ZorgDecider;

use crate::client::{Server, TIMEOUT};

const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-world.toml");
const FEBRUARY: &str = "2026-02-01T12:00:00Z";
const MARCH: &str = "2026-03-02T12:00:00Z";

/// A fresh data directory under the target's temporary directory
fn data_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A server over `engine` with the demo world loaded
async fn demo(engine: Engine) -> (Server, Arc<ZorgDecider>) {
    let decider = zorg_pdp_server::decider(engine);
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let router = zorg_pdp_server::zorg_router(decider.clone(), "http://127.0.0.1");
    (Server::start(router).await, decider)
}

fn view(who: &str, category: &str, at: &str) -> Value {
    json!({
        "subject": {"type": "practitioner", "id": who},
        "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-sanne",
                     "properties": {"holder": "vp-noord", "category": category}},
        "context": {"at": at, "mfa": true},
    })
}

fn categories(who: &str, at: &str) -> Value {
    json!({
        "subject": {"type": "practitioner", "id": who},
        "action": {"name": "view"},
        "resource": {"type": "category", "properties": {"patient": "client-sanne", "holder": "vp-noord"}},
        "context": {"at": at, "mfa": true},
    })
}

fn ids(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The story: the four dashboards of vp-noord's dossier by role, a deny in
/// words, the withdrawal posted as an entry, and time travel (R4)
#[tokio::test]
async fn geboortezorg_through_http() {
    let (s, decider) = demo(Engine::new().unwrap()).await;
    let seq = decider.engine().seq();

    // 1. Every resource search equals the single `view` decisions, category by category
    let vocabulary: Vec<String> = decider
        .engine()
        .policies()
        .vocabulary()
        .categories()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut seen = Vec::new();
    for who in ["eva", "dr-jansen", "anna", "lotte"] {
        let r = s
            .post_json("/access/v1/search/resource", &categories(who, FEBRUARY))
            .await;
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        let found = ids(&r.json());
        let mut one_by_one = Vec::new();
        for c in &vocabulary {
            let d = s
                .post_json("/access/v1/evaluation", &view(who, c, FEBRUARY))
                .await
                .json();
            assert_eq!(d["context"]["seq"], json!(seq));
            if d["decision"] == json!(true) {
                one_by_one.push(c.clone());
            }
        }
        assert_eq!(
            found, one_by_one,
            "{who}: search = its views, in canonical order"
        );
        seen.push(found);
    }
    assert_eq!(
        seen[2],
        [
            "basis",
            "zwangerschap",
            "bevalling",
            "kraambed",
            "kind",
            "medicatie"
        ]
    );
    assert!(
        seen[0].len() > seen[2].len(),
        "the verloskundige sees more than the kraamverzorgende"
    );
    assert!(seen.iter().all(|s| !s.is_empty()));

    // 2. A deny carries the codes, the deciding policy and the reason in two languages
    let d = s
        .post_json(
            "/access/v1/evaluation",
            &view("anna", "labuitslagen", FEBRUARY),
        )
        .await
        .json();
    assert_eq!(d["decision"], json!(false));
    assert_eq!(d["context"]["reasons"], json!(["role_not_permitted"]));
    assert!(!d["context"]["policies"].as_array().unwrap().is_empty());
    assert_eq!(
        d["context"]["reason_user"]["en"],
        json!(zorg_pdp::Reason::RoleNotPermitted.explain())
    );
    assert!(
        d["context"]["reason_user"]["nl"]
            .as_str()
            .unwrap()
            .contains("uw rol")
    );
    let a = s
        .post_json("/access/v1/evaluation", &view("anna", "kraambed", FEBRUARY))
        .await
        .json();
    assert_eq!(a["decision"], json!(true));
    assert_eq!(a["context"]["reasons"], json!([]));
    assert!(a["context"].get("reason_user").is_none());

    // 3. The holders search: the organisations whose dossier anna sees part of
    let holders = json!({
        "subject": {"type": "practitioner", "id": "anna"}, "action": {"name": "view"},
        "resource": {"type": "holder", "properties": {"patient": "client-sanne"}},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let found = ids(&s
        .post_json("/access/v1/search/resource", &holders)
        .await
        .json());
    assert!(
        found.contains(&"vp-noord".to_owned()) && found.contains(&"kz-oost".to_owned()),
        "{found:?}"
    );

    // 4. The withdrawal, posted as a position-less event: the answer names its position
    let withdrawal = json!({"event": {"at": "2026-03-01T09:00:00Z", "type": "dossier_consent_withdrawn",
        "patient": "client-sanne", "holder": "vp-noord", "recorded_by": "eva"}});
    let r = s.post_json("/v1/entries", &withdrawal).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let position = seq + 1;
    assert_eq!(
        r.json(),
        json!({"entries": [{"position": position, "applied": true}], "seq": position})
    );

    // 5. Asked about March, dr-jansen sees nothing of vp-noord; about February, still the echo (R4)
    let march = s
        .post_json("/access/v1/evaluation", &view("dr-jansen", "echo", MARCH))
        .await
        .json();
    assert_eq!(march["decision"], json!(false));
    assert!(
        march["context"]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("no_dossier_consent")),
        "{march}"
    );
    assert_eq!(march["context"]["seq"], json!(position));
    let feb = s
        .post_json(
            "/access/v1/evaluation",
            &view("dr-jansen", "echo", FEBRUARY),
        )
        .await
        .json();
    assert_eq!(feb["decision"], json!(true), "{feb}");
    let r = s
        .post_json(
            "/access/v1/search/resource",
            &categories("dr-jansen", MARCH),
        )
        .await;
    assert_eq!(ids(&r.json()), Vec::<String>::new());
    let r = s
        .post_json("/access/v1/search/resource", &categories("eva", MARCH))
        .await;
    assert_eq!(
        ids(&r.json()),
        seen[0],
        "the holder keeps its own dossier (R5)"
    );

    // 6. A freshness token above the position: stale_facts alone (R47)
    let mut ahead = view("anna", "kraambed", FEBRUARY);
    ahead["context"]["min_seq"] = json!(position + 5);
    let d = s.post_json("/access/v1/evaluation", &ahead).await.json();
    assert_eq!(d["decision"], json!(false));
    assert_eq!(d["context"]["reasons"], json!(["stale_facts"]));
    ahead["context"]["min_seq"] = json!(position);
    assert_eq!(
        s.post_json("/access/v1/evaluation", &ahead).await.json()["decision"],
        json!(true)
    );

    // 7. The closed question as a batch: one item per category, defaults for the rest
    let batch = json!({
        "subject": {"type": "practitioner", "id": "anna"}, "action": {"name": "view"},
        "context": {"at": FEBRUARY, "mfa": true},
        "evaluations": vocabulary.iter().map(|c| json!({"resource": {"type": "patient", "id": "client-sanne",
            "properties": {"holder": "vp-noord", "category": c}}})).collect::<Vec<_>>(),
    });
    let v = s.post_json("/access/v1/evaluations", &batch).await.json();
    let allowed: Vec<String> = vocabulary
        .iter()
        .zip(v["evaluations"].as_array().unwrap())
        .filter(|(_, d)| d["decision"] == json!(true))
        .map(|(c, _)| c.clone())
        .collect();
    assert_eq!(allowed, seen[2]);
}

/// Unknown ids, types and actions are a 200 deny with `unknown_entity`;
/// malformed context values and missing properties are a 400; context keys
/// that do not matter change nothing
#[tokio::test]
async fn the_mapping_denies_unknowns_and_refuses_malformed_values() {
    let (s, _) = demo(Engine::new().unwrap()).await;
    let base = view("anna", "kraambed", FEBRUARY);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    let unknown = [
        edit(&|v| v["subject"]["id"] = json!("nobody")),
        edit(&|v| v["subject"]["id"] = json!("has spaces and ünicode")),
        edit(&|v| v["subject"]["type"] = json!("user")),
        edit(&|v| v["resource"]["id"] = json!("client-nobody")),
        edit(&|v| v["resource"]["type"] = json!("record")),
        edit(&|v| v["resource"]["properties"]["holder"] = json!("elsewhere")),
        edit(&|v| v["resource"]["properties"]["category"] = json!("no-such-category")),
        edit(&|v| v["action"]["name"] = json!("delete")),
    ];
    for body in &unknown {
        let r = s.post_json("/access/v1/evaluation", body).await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        let d = r.json();
        assert_eq!(d["decision"], json!(false), "{body}");
        assert_eq!(d["context"]["reasons"], json!(["unknown_entity"]), "{body}");
    }
    let malformed = [
        (edit(&|v| v["context"] = json!({})), "context.at"),
        (
            edit(&|v| {
                v.as_object_mut().unwrap().remove("context");
            }),
            "context.at",
        ),
        (
            edit(&|v| v["context"]["at"] = json!("yesterday")),
            "context.at",
        ),
        (
            edit(&|v| v["context"]["at"] = json!(20_260_201)),
            "context.at",
        ),
        (edit(&|v| v["context"]["mfa"] = json!("yes")), "context.mfa"),
        (
            edit(&|v| v["context"]["purpose"] = json!("curiosity")),
            "context.purpose",
        ),
        (
            edit(&|v| v["context"]["min_seq"] = json!(-1)),
            "context.min_seq",
        ),
        (
            edit(&|v| v["resource"]["properties"] = json!({"holder": "vp-noord"})),
            "resource.properties.category",
        ),
        (
            edit(&|v| v["resource"]["properties"]["holder"] = json!(7)),
            "resource.properties.holder",
        ),
    ];
    for (body, field) in &malformed {
        let r = s.post_json("/access/v1/evaluation", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(field), "{field}: {}", r.body);
    }
    // Keys that do not matter: unknown context keys, properties the action
    // does not read, subject properties
    let reference = s.post_json("/access/v1/evaluation", &base).await.json();
    assert_eq!(reference["decision"], json!(true));
    let same = [
        edit(&|v| v["context"]["time"] = json!("2026-01-01T00:00:00Z")),
        edit(&|v| v["context"]["ip"] = json!("10.1.2.3")),
        edit(&|v| v["resource"]["properties"]["module"] = json!("anything")),
        edit(&|v| v["resource"]["properties"]["colour"] = json!("blue")),
        edit(&|v| v["subject"]["properties"] = json!({"role": "admin"})),
        edit(&|v| v["foo"] = json!(true)),
    ];
    for body in &same {
        assert_eq!(
            s.post_json("/access/v1/evaluation", body).await.json(),
            reference,
            "{body}"
        );
    }
    // mfa absent is false (fail closed)
    let no_mfa = edit(&|v| {
        v["context"].as_object_mut().unwrap().remove("mfa");
    });
    let d = s.post_json("/access/v1/evaluation", &no_mfa).await.json();
    assert_eq!(d["context"]["reasons"], json!(["mfa_required"]));
    // A search with an unknown subject or patient: empty results
    let mut c = categories("nobody", FEBRUARY);
    assert_eq!(
        ids(&s.post_json("/access/v1/search/resource", &c).await.json()),
        Vec::<String>::new()
    );
    c["subject"]["id"] = json!("anna");
    c["resource"]["properties"]["patient"] = json!("client-nobody");
    assert_eq!(
        ids(&s.post_json("/access/v1/search/resource", &c).await.json()),
        Vec::<String>::new()
    );
    c["resource"]["type"] = json!("patient");
    assert_eq!(
        ids(&s.post_json("/access/v1/search/resource", &c).await.json()),
        Vec::<String>::new()
    );
    c["resource"]["type"] = json!("category");
    c["resource"]["properties"] = json!({"holder": "vp-noord"});
    assert_eq!(
        s.post_json("/access/v1/search/resource", &c).await.status,
        400,
        "no patient"
    );
}

/// Subject and action search over the engine
#[tokio::test]
async fn who_may_see_and_what_they_may_do() {
    let (s, _) = demo(Engine::new().unwrap()).await;
    let who = json!({
        "subject": {"type": "practitioner"}, "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-sanne", "properties": {"holder": "vp-noord", "category": "echo"}},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let r = s.post_json("/access/v1/search/subject", &who).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let found = ids(&r.json());
    assert!(
        found.contains(&"dr-jansen".to_owned()) && found.contains(&"eva".to_owned()),
        "{found:?}"
    );
    assert!(
        !found.contains(&"anna".to_owned()),
        "a kraamverzorgende sees no echo"
    );
    for id in &found {
        let d = s
            .post_json("/access/v1/evaluation", &view(id, "echo", FEBRUARY))
            .await
            .json();
        assert_eq!(d["decision"], json!(true), "{id}");
    }
    let what = json!({
        "subject": {"type": "practitioner", "id": "eva"},
        "resource": {"type": "patient", "id": "client-sanne", "properties": {"holder": "vp-noord", "category": "echo"}},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let r = s.post_json("/access/v1/search/action", &what).await.json();
    let names: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"view") && names.contains(&"change_consent"),
        "{names:?}"
    );
    let anna = json!({
        "subject": {"type": "practitioner", "id": "anna"},
        "resource": {"type": "patient", "id": "client-sanne", "properties": {"holder": "vp-noord", "category": "echo"}},
        "context": {"at": FEBRUARY, "mfa": true},
    });
    let r = s.post_json("/access/v1/search/action", &anna).await.json();
    let names: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"view") && !names.contains(&"change_consent"),
        "{names:?}"
    );
}

/// Entries: JSON Lines mixing positioned and position-less entries, a
/// replayed position skipped, a refused entry a 422 naming it, a malformed
/// body a 400; every acknowledged entry is in the data directory after a
/// restart
#[tokio::test]
async fn entries_take_positions_and_survive_a_restart() {
    let dir = data_dir("entries");
    {
        let decider = zorg_pdp_server::decider(Engine::open(&dir).unwrap());
        let s = Server::start(zorg_pdp_server::zorg_router(decider.clone(), "http://x")).await;
        let lines = [
            r#"{"position": 10, "entity": {"organisation": {"id": "vp-noord"}}}"#,
            r#"{"entity": {"patient": {"id": "client-1"}}}"#,
            "",
            r#"{"entity": {"practitioner": {"id": "eva", "organisation": "vp-noord", "role": "verloskundige"}}}"#,
            r#"{"position": 5, "entity": {"patient": {"id": "client-2"}}}"#,
            r#"{"event": {"at": "2026-01-05T09:00:00Z", "type": "treatment_started", "patient": "client-1", "organisation": "vp-noord"}}"#,
        ]
        .join("\n");
        let r = s
            .send(
                "POST",
                "/v1/entries",
                Some("application/x-ndjson"),
                &[],
                &lines,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json(),
            json!({"entries": [
                {"position": 10, "applied": true}, {"position": 11, "applied": true},
                {"position": 12, "applied": true}, {"position": 5, "applied": false, "last": 12},
                {"position": 13, "applied": true}], "seq": 13})
        );
        // A JSON array works too; the second entry is refused: 422, the first stays
        let batch = json!([
            {"entity": {"patient": {"id": "client-3"}}},
            {"event": {"at": "2026-01-05T09:00:00Z", "type": "treatment_started", "patient": "client-9", "organisation": "vp-noord"}},
        ]);
        let r = s.post_json("/v1/entries", &batch).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let v = r.json();
        assert!(v["error"].as_str().unwrap().starts_with("entry 2:"), "{v}");
        assert_eq!(v["entries"], json!([{"position": 14, "applied": true}]));
        assert_eq!(v["seq"], json!(14));
        for (body, says) in [
            ("", "no entries"),
            ("{\"entity\": 1", "line 1"),
            ("[1]", "entry 1"),
            (
                r#"{"position": 0, "entity": {"patient": {"id": "c"}}}"#,
                "entry 1",
            ),
            (
                r#"{"entity": {"patient": {"id": "c"}}, "event": {}}"#,
                "entry 1",
            ),
        ] {
            let r = s.post("/v1/entries", body).await;
            assert_eq!(r.status, 400, "{body}: {}", r.body);
            assert!(r.body.contains(says), "{body}: {}", r.body);
        }
        assert_eq!(decider.engine().seq(), 14, "a refused body changes nothing");
        let ready = s.get("/readyz").await;
        assert_eq!(
            (ready.status, ready.json()),
            (200, json!({"ready": true, "seq": 14}))
        );
        assert_eq!(s.get("/healthz").await.json(), json!({"status": "ok"}));
    }
    // The engine is dropped with its server's router only once the task is
    // aborted; wait until the data directory's lock is free
    let deadline = std::time::Instant::now() + TIMEOUT;
    let engine = loop {
        match Engine::open(&dir) {
            Ok(e) => break e,
            Err(e) if std::time::Instant::now() > deadline => panic!("reopening: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    };
    assert_eq!(engine.seq(), 14, "every acknowledged entry is back");
    let s = Server::start(zorg_pdp_server::zorg_router(
        zorg_pdp_server::decider(engine),
        "http://x",
    ))
    .await;
    let d = s
        .post_json(
            "/access/v1/evaluation",
            &json!({"subject": {"type": "practitioner", "id": "eva"}, "action": {"name": "request_access"},
                    "resource": {"type": "patient", "id": "client-1"}, "context": {"at": FEBRUARY, "mfa": true}}),
        )
        .await
        .json();
    assert_eq!(d["context"]["seq"], json!(14));
    assert_ne!(
        d["context"]["reasons"],
        json!(["unknown_entity"]),
        "the entities are known: {d}"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary: `--data DIR --world demo-world.toml` on 127.0.0.1:0 gives a
/// working service; a non-loopback address is refused
#[tokio::test]
async fn the_binary_serves_the_demo_world() {
    let dir = data_dir("binary");
    let bin = env!("CARGO_BIN_EXE_zorg-pdp-server");
    let mut child = tokio::process::Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&dir)
        .args(["--world", WORLD])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let addr = tokio::time::timeout(TIMEOUT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("zorg-pdp-server: listening on http://") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the server ended before listening");
    })
    .await
    .expect("the server did not start in time");
    let client = Server::client_for(addr.parse().unwrap());
    let d = client
        .post_json("/access/v1/evaluation", &view("anna", "kraambed", FEBRUARY))
        .await
        .json();
    assert_eq!(d["decision"], json!(true), "{d}");
    assert_eq!(
        d["context"]["seq"],
        json!(17),
        "the demo world has 17 entries"
    );
    let m = client
        .get("/.well-known/authzen-configuration")
        .await
        .json();
    assert_eq!(
        m["policy_decision_point"],
        json!(format!("http://{addr}")),
        "the bound address"
    );
    // SIGTERM: stop accepting, answer what is in flight, sync, exit 0
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .expect("no exit after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    let rest = tokio::time::timeout(TIMEOUT, async {
        let mut rest = String::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            rest.push_str(&line);
        }
        rest
    })
    .await
    .unwrap();
    assert!(
        rest.contains("stopped at position 17 (journal synced)"),
        "{rest}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let out = tokio::time::timeout(
        TIMEOUT,
        tokio::process::Command::new(bin)
            .args(["--listen", "0.0.0.0:0", "--data"])
            .arg(data_dir("refused"))
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

/// An AuthZEN body over 64 KiB is refused with 413 and nothing decided; an
/// entry batch of the same size is taken (its limit is 16 MiB)
#[tokio::test]
async fn a_body_over_its_limit_is_413() {
    let (s, _) = demo(Engine::new().unwrap()).await;
    let padding = "x".repeat(zorg_pdp_server::app::MAX_BODY);
    let big =
        format!(r#"{{"subject": {{"type": "practitioner", "id": "anna", "pad": "{padding}"}}}}"#);
    let r = s.post("/access/v1/evaluation", &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    let r = s.post("/access/v1/evaluations", &big).await;
    assert_eq!(r.status, 413, "{}", r.body);

    // Just under the limit, the same endpoint reads the body (and finds it malformed)
    let small = format!(
        r#"{{"subject": {{"type": "practitioner", "id": "anna", "pad": "{}"}}}}"#,
        "x".repeat(zorg_pdp_server::app::MAX_BODY - 100)
    );
    assert_eq!(s.post("/access/v1/evaluation", &small).await.status, 400);

    // An entry batch larger than 64 KiB is applied
    let lines: Vec<String> = (0..2_000)
        .map(|i| format!(r#"{{"entity": {{"patient": {{"id": "bulk-patient-{i:06}"}}}}}}"#))
        .collect();
    let batch = lines.join("\n");
    assert!(batch.len() > zorg_pdp_server::app::MAX_BODY);
    let r = s
        .send(
            "POST",
            "/v1/entries",
            Some("application/x-ndjson"),
            &[],
            &batch,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["entries"].as_array().map(Vec::len), Some(2_000));
}
