//! The consent questions over HTTP: every answer is the engine's own for
//! the same query (the JSON of the CLI and the C ABI), malformed queries are
//! 400s naming the field, unknown ids 422, a freshness token ahead 503.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use zorg_pdp::{ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery, Engine};
use zorg_pdp_server::ZorgDecider;

use crate::client::Server;

const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-world.toml");

async fn demo() -> (Server, Arc<ZorgDecider>) {
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let router = zorg_pdp_server::zorg_router(decider.clone(), "http://127.0.0.1");
    (Server::start(router).await, decider)
}

/// What the engine answers directly for the query (as the CLI prints it)
fn direct(engine: &Engine, path: &str, query: &Value) -> Value {
    let text = query.to_string();
    match path {
        "/v1/consent/check" => serde_json::to_value(
            engine
                .consent_check(&ConsentCheckQuery::from_json(&text).unwrap())
                .unwrap(),
        ),
        "/v1/consent/locate" => serde_json::to_value(
            engine
                .consent_locate(&ConsentLocateQuery::from_json(&text).unwrap())
                .unwrap(),
        ),
        "/v1/consent/overview" => serde_json::to_value(
            engine
                .consent_overview(&ConsentOverviewQuery::from_json(&text).unwrap())
                .unwrap(),
        ),
        other => panic!("no such question {other}"),
    }
    .unwrap()
}

fn questions() -> Vec<(&'static str, Value)> {
    let at = "2026-02-01T12:00:00Z";
    vec![
        (
            "/v1/consent/check",
            json!({"patient": "client-sanne", "holder": "vp-noord", "requester": "kz-oost",
                   "data_categories": ["GGC002", "GGC012", "GGC013"], "at": at}),
        ),
        (
            "/v1/consent/check",
            json!({"patient": "client-sanne", "holder": "ziekenhuis-zuid", "requester": "kz-oost",
                   "data_categories": ["GGC013"], "at": at}),
        ),
        (
            "/v1/consent/check",
            json!({"principal": {"practitioner": "anna"}, "patient": "client-sanne",
                   "holder": "vp-noord", "requester_category": "RPZAC001",
                   "data_categories": ["GGC002"], "at": at}),
        ),
        (
            "/v1/consent/check",
            json!({"patient": "client-sanne", "holder": "vp-noord", "requester": "kz-oost",
                   "data_categories": ["GGC002"], "at": "2026-01-01T00:00:00Z"}),
        ),
        (
            "/v1/consent/locate",
            json!({"patient": "client-sanne", "requester": "ziekenhuis-zuid", "at": at}),
        ),
        (
            "/v1/consent/locate",
            json!({"principal": {"practitioner": "dr-jansen"}, "patient": "client-sanne",
                   "requester": "ziekenhuis-zuid", "at": at, "min_seq": 17}),
        ),
        (
            "/v1/consent/overview",
            json!({"principal": {"patient": "client-sanne"}, "patient": "client-sanne", "at": at}),
        ),
    ]
}

/// Each question answers over HTTP exactly what the engine answers, before
/// and after a withdrawal posted as an entry
#[tokio::test]
async fn consent_answers_are_the_engines() {
    let (s, decider) = demo().await;
    let engine = decider.engine();
    let mut permits = 0;
    for round in 0..2 {
        for (path, q) in questions() {
            let r = s.post_json(path, &q).await;
            assert_eq!(r.status, 200, "{path} {q}: {}", r.body);
            let answer = r.json();
            assert_eq!(answer, direct(engine, path, &q), "{path} {q}");
            assert_eq!(answer["seq"], json!(engine.seq()));
            if round == 0 && path.ends_with("check") {
                permits += answer["answers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["answer"] == json!("permit"))
                    .count();
            }
        }
        if round == 0 {
            let withdrawal = json!({"event": {"at": "2026-01-20T09:00:00Z",
                "type": "dossier_consent_withdrawn", "patient": "client-sanne", "holder": "vp-noord"}});
            assert_eq!(s.post_json("/v1/entries", &withdrawal).await.status, 200);
        }
    }
    assert!(permits >= 3, "the dossier consent permits vp-noord's data");
    // After the withdrawal the first question is no longer a permit
    let (path, q) = questions().remove(0);
    let a = s.post_json(path, &q).await.json();
    assert!(
        a["answers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["answer"] != json!("permit")),
        "{a}"
    );
    let located = s
        .post_json("/v1/consent/locate", &questions()[4].1)
        .await
        .json();
    assert_eq!(located["holders"], json!([]), "{located}");
}

/// Malformed → 400 naming the field; unknown ids → 422 naming the field
/// (the engine's answer, never a 500); a `min_seq` ahead → 503 with
/// `Retry-After`; the `X-Request-ID` echoed and the 64 KiB limit kept
#[tokio::test]
async fn consent_refusals_name_their_field() {
    let (s, decider) = demo().await;
    let check = json!({"patient": "client-sanne", "holder": "vp-noord", "requester": "kz-oost",
                       "data_categories": ["GGC002"], "at": "2026-02-01T12:00:00Z"});
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = check.clone();
        f(&mut v);
        v
    };
    let malformed = [
        (edit(&|v| v["colour"] = json!("blue")), "colour"),
        (
            edit(&|v| {
                v.as_object_mut().unwrap().remove("holder");
            }),
            "holder",
        ),
        (edit(&|v| v["at"] = json!("yesterday")), "at"),
        (
            edit(&|v| v["data_categories"] = json!("GGC002")),
            "data_categories",
        ),
        (edit(&|v| v["min_seq"] = json!(-1)), "min_seq"),
        (
            edit(&|v| v["requester_category"] = json!("RPZAC001")),
            "requester_category",
        ),
        (
            edit(&|v| {
                v.as_object_mut().unwrap().remove("requester");
            }),
            "requester",
        ),
    ];
    for (body, field) in &malformed {
        let r = s.post_json("/v1/consent/check", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(field), "{field}: {}", r.body);
    }
    for (content_type, body, says) in [
        (Some("text/plain"), check.to_string(), "content type"),
        (None, check.to_string(), "content type"),
        (Some("application/json"), "{".to_owned(), "line 1"),
        (Some("application/json"), String::new(), "consent"),
    ] {
        let r = s
            .send("POST", "/v1/consent/locate", content_type, &[], &body)
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(says), "{says}: {}", r.body);
    }
    let unknown = [
        (edit(&|v| v["patient"] = json!("client-nobody")), "patient"),
        (edit(&|v| v["holder"] = json!("elsewhere")), "holder"),
        (edit(&|v| v["requester"] = json!("elsewhere")), "requester"),
        (
            edit(&|v| v["data_categories"] = json!(["GGC999"])),
            "data_categories",
        ),
        (
            edit(&|v| v["principal"] = json!({"practitioner": "nobody"})),
            "principal",
        ),
    ];
    for (body, field) in &unknown {
        let r = s.post_json("/v1/consent/check", body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        let v = r.json();
        assert_eq!(v["error"], json!("unknown_entity"), "{v}");
        assert_eq!(v["field"], json!(field), "{v}");
    }
    for (path, body) in [
        (
            "/v1/consent/locate",
            json!({"patient": "client-nobody", "requester": "kz-oost", "at": "2026-02-01T12:00:00Z"}),
        ),
        (
            "/v1/consent/overview",
            json!({"principal": {"patient": "client-sanne"}, "patient": "client-nobody",
                   "at": "2026-02-01T12:00:00Z"}),
        ),
    ] {
        let r = s.post_json(path, &body).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert_eq!(r.json()["field"], json!("patient"));
    }
    let seq = decider.engine().seq();
    let ahead = edit(&|v| v["min_seq"] = json!(seq + 3));
    let r = s.post_json("/v1/consent/check", &ahead).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        r.headers.get("retry-after").map(|v| v.to_str().unwrap()),
        Some("1")
    );
    assert_eq!(
        r.json(),
        json!({"error": "stale_facts", "field": "min_seq", "min_seq": seq + 3, "seq": seq,
               "message": format!("consent check: field `min_seq`: position {} is not applied yet (last applied: {seq})", seq + 3)})
    );
    let at_seq = edit(&|v| v["min_seq"] = json!(seq));
    assert_eq!(s.post_json("/v1/consent/check", &at_seq).await.status, 200);

    let r = s
        .send(
            "POST",
            "/v1/consent/overview",
            Some("application/json"),
            &[("x-request-id", "req-consent-1")],
            "{}",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.headers.get("x-request-id").map(|v| v.to_str().unwrap()),
        Some("req-consent-1")
    );
    let big = format!(
        r#"{{"patient": "client-sanne", "pad": "{}"}}"#,
        "x".repeat(zorg_pdp_server::app::MAX_BODY)
    );
    assert_eq!(s.post("/v1/consent/check", &big).await.status, 413);
}
