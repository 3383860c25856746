//! The structural rules of the AuthZEN 1.0 certification scenario (notes
//! §2.8), in our own words and tables, against the scenario's fixture
//! decider behind the service's own HTTP layer.

use std::sync::Arc;

use serde_json::{Value, json};
use zorg_pdp_server::FixtureDecider;

use crate::client::Server;

async fn fixture() -> Server {
    Server::with(Arc::new(FixtureDecider)).await
}

fn user(id: &str) -> Value {
    json!({ "type": "user", "id": id })
}

fn record(id: &str, status: &str) -> Value {
    json!({ "type": "record", "id": id, "properties": { "status": status } })
}

fn eval(subject: &Value, action: &Value, resource: &Value) -> Value {
    json!({ "subject": subject, "action": action, "resource": resource })
}

/// The scenario's eight mandated decisions
#[tokio::test]
async fn the_eight_fixture_decisions() {
    let s = fixture().await;
    let admin = json!({ "type": "user", "id": "bob", "properties": { "role": "admin" } });
    let cases = [
        (
            user("alice"),
            json!({"name": "read"}),
            record("record-1", "active"),
            true,
        ),
        (
            user("alice"),
            json!({"name": "write"}),
            record("record-1", "active"),
            true,
        ),
        (
            user("bob"),
            json!({"name": "read"}),
            record("record-1", "active"),
            true,
        ),
        (
            user("bob"),
            json!({"name": "write"}),
            record("record-1", "active"),
            false,
        ),
        (
            user("alice"),
            json!({"name": "write"}),
            record("record-2", "archived"),
            false,
        ),
        (
            admin,
            json!({"name": "write"}),
            record("record-2", "archived"),
            true,
        ),
        (
            user("alice"),
            json!({"name": "delete", "properties": {"soft": true}}),
            record("record-1", "active"),
            true,
        ),
        (
            user("alice"),
            json!({"name": "delete", "properties": {"soft": false}}),
            record("record-1", "active"),
            false,
        ),
    ];
    for (i, (subject, action, resource, expected)) in cases.iter().enumerate() {
        let r = s
            .post_json("/access/v1/evaluation", &eval(subject, action, resource))
            .await;
        assert_eq!(r.status, 200, "case {i}: {}", r.body);
        assert_eq!(r.json()["decision"], json!(expected), "case {i}");
    }
}

/// Every malformed shape is a 400 with a message, on both evaluation endpoints
#[tokio::test]
async fn malformed_requests_are_400() {
    let s = fixture().await;
    let a = json!({"name": "read"});
    let r1 = record("record-1", "active");
    let valid = eval(&user("alice"), &a, &r1);
    let without = |key: &str| {
        let mut v = valid.clone();
        v.as_object_mut().unwrap().remove(key);
        v
    };
    let with = |key: &str, value: Value| {
        let mut v = valid.clone();
        v[key] = value;
        v
    };
    let bodies: Vec<(&str, String)> = vec![
        ("no subject", without("subject").to_string()),
        ("no action", without("action").to_string()),
        ("no resource", without("resource").to_string()),
        (
            "subject a string",
            with("subject", json!("alice")).to_string(),
        ),
        (
            "subject without type",
            with("subject", json!({"id": "alice"})).to_string(),
        ),
        (
            "subject without id",
            with("subject", json!({"type": "user"})).to_string(),
        ),
        (
            "subject id a number",
            with("subject", json!({"type": "user", "id": 7})).to_string(),
        ),
        (
            "subject type null",
            with("subject", json!({"type": null, "id": "a"})).to_string(),
        ),
        (
            "subject properties a list",
            with(
                "subject",
                json!({"type": "user", "id": "a", "properties": []}),
            )
            .to_string(),
        ),
        ("action without name", with("action", json!({})).to_string()),
        (
            "action name a number",
            with("action", json!({"name": 123})).to_string(),
        ),
        ("action a list", with("action", json!(["read"])).to_string()),
        (
            "resource without id",
            with("resource", json!({"type": "record"})).to_string(),
        ),
        (
            "resource without type",
            with("resource", json!({"id": "record-1"})).to_string(),
        ),
        (
            "resource type a bool",
            with("resource", json!({"type": true, "id": "x"})).to_string(),
        ),
        (
            "context a string",
            with("context", json!("now")).to_string(),
        ),
        ("malformed JSON", "{\"subject\":".to_owned()),
        ("empty body", String::new()),
        ("a JSON array", "[]".to_owned()),
        ("a JSON string", "\"hello\"".to_owned()),
    ];
    for path in ["/access/v1/evaluation", "/access/v1/evaluations"] {
        for (what, body) in &bodies {
            let r = s.post(path, body).await;
            assert_eq!(r.status, 400, "{path}: {what}: {}", r.body);
            assert!(
                !r.body.trim().is_empty(),
                "{path}: {what}: an error message"
            );
        }
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let r = s.send("POST", path, ct, &[], &valid.to_string()).await;
            assert_eq!(r.status, 400, "{path}: content type {ct:?}");
        }
        let r = s
            .send(
                "POST",
                path,
                Some("application/json; charset=utf-8"),
                &[],
                &valid.to_string(),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: a charset parameter is still JSON");
    }
    let batch_bodies = [
        (
            "evaluations an object",
            json!({"subject": user("alice"), "action": a, "resource": r1, "evaluations": {}}),
        ),
        (
            "an item a string",
            json!({"subject": user("alice"), "action": a, "resource": r1, "evaluations": ["x"]}),
        ),
        (
            "options a string",
            json!({"subject": user("alice"), "action": a, "resource": r1, "evaluations": [{}], "options": "all"}),
        ),
        (
            "unknown semantic",
            json!({"subject": user("alice"), "action": a, "resource": r1, "evaluations": [{}], "options": {"evaluations_semantic": "all_of"}}),
        ),
        (
            "semantic a number",
            json!({"subject": user("alice"), "action": a, "resource": r1, "evaluations": [{}], "options": {"evaluations_semantic": 1}}),
        ),
        (
            "a default subject a string",
            json!({"subject": "alice", "action": a, "resource": r1, "evaluations": [{}]}),
        ),
    ];
    for (what, body) in &batch_bodies {
        let r = s.post_json("/access/v1/evaluations", body).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
    }
}

/// Unknown fields are ignored, `context` is optional, the same request
/// gives the same answer, and `X-Request-ID` is echoed
#[tokio::test]
async fn lenient_in_what_it_ignores_and_strict_in_what_it_echoes() {
    let s = fixture().await;
    let a = json!({"name": "write"});
    let base = eval(&user("alice"), &a, &record("record-1", "active"));
    let mut extra = base.clone();
    extra["foo"] = json!({"bar": 1});
    extra["subject"]["nickname"] = json!("al");
    extra["action"]["verb"] = json!("PUT");
    let mut with_context = base.clone();
    with_context["context"] = json!({"time": "2026-01-01T00:00:00Z", "ip": "10.0.0.1"});
    let mut null_context = base.clone();
    null_context["context"] = Value::Null;
    let mut answers = Vec::new();
    for body in [&base, &extra, &with_context, &null_context, &base] {
        let r = s.post_json("/access/v1/evaluation", body).await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        answers.push(r.json());
    }
    assert!(
        answers.iter().all(|a| a == &json!({"decision": true})),
        "{answers:?}"
    );

    for (path, body) in [
        ("/access/v1/evaluation", base.to_string()),
        ("/access/v1/evaluation", "{}".to_owned()),
        ("/access/v1/evaluations", base.to_string()),
        ("/access/v1/search/action", "{}".to_owned()),
    ] {
        let r = s
            .send(
                "POST",
                path,
                Some("application/json"),
                &[("X-Request-ID", "req-abc-123")],
                &body,
            )
            .await;
        let echoed = r
            .headers
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            echoed.as_deref(),
            Some("req-abc-123"),
            "{path} {body} ({})",
            r.status
        );
    }
    let r = s
        .send(
            "GET",
            "/.well-known/authzen-configuration",
            None,
            &[("X-Request-ID", "m-1")],
            "",
        )
        .await;
    assert_eq!(r.headers.get("x-request-id").unwrap(), "m-1");
    let r = s.post_json("/access/v1/evaluation", &base).await;
    assert_eq!(r.status, 200, "no X-Request-ID: no failure");
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
}

fn decisions(v: &Value) -> Vec<bool> {
    v["evaluations"]
        .as_array()
        .unwrap_or_else(|| panic!("no evaluations: {v}"))
        .iter()
        .map(|d| d["decision"].as_bool().unwrap())
        .collect()
}

/// Batches: order and length, defaults, whole-object override, the three
/// semantics, per-item errors, and the no-items fallback
#[tokio::test]
async fn batches() {
    let s = fixture().await;
    let read = json!({"name": "read"});
    let write = json!({"name": "write"});
    let r1 = record("record-1", "active");
    let r2 = record("record-2", "archived");
    let allow = json!({"action": read});
    let deny = json!({"action": write, "resource": r2});
    let items = json!([allow, deny, allow]);
    let body = |semantic: Option<&str>, items: &Value| {
        let mut b =
            json!({"subject": user("alice"), "action": read, "resource": r1, "evaluations": items});
        if let Some(sem) = semantic {
            b["options"] = json!({"evaluations_semantic": sem});
        }
        b
    };
    let cases: [(Option<&str>, Vec<bool>); 4] = [
        (None, vec![true, false, true]),
        (Some("execute_all"), vec![true, false, true]),
        (Some("deny_on_first_deny"), vec![true, false]),
        (Some("permit_on_first_permit"), vec![true]),
    ];
    for (semantic, expected) in cases {
        let r = s
            .post_json("/access/v1/evaluations", &body(semantic, &items))
            .await;
        assert_eq!(r.status, 200, "{semantic:?}: {}", r.body);
        let v = r.json();
        assert_eq!(decisions(&v), expected, "{semantic:?}");
        assert!(v.get("decision").is_none(), "no top-level decision");
    }
    // permit_on_first_permit runs past denies to the first permit
    let r = s
        .post_json(
            "/access/v1/evaluations",
            &body(
                Some("permit_on_first_permit"),
                &json!([deny, deny, allow, deny]),
            ),
        )
        .await;
    assert_eq!(decisions(&r.json()), vec![false, false, true]);

    // `{}` inherits everything; a subject replaces the default whole: the
    // default's `role` property does not survive an item's own subject
    let admin = json!({"type": "user", "id": "bob", "properties": {"role": "admin"}});
    let b = json!({
        "subject": admin, "action": write, "resource": r2,
        "evaluations": [{}, {"subject": {"type": "user", "id": "bob"}}, {"resource": r1}],
    });
    let r = s.post_json("/access/v1/evaluations", &b).await;
    assert_eq!(decisions(&r.json()), vec![true, false, false]);

    // No top-level defaults when every item is complete
    let b = json!({"evaluations": [eval(&user("alice"), &read, &r1), eval(&user("mallory"), &read, &r1)]});
    let r = s.post_json("/access/v1/evaluations", &b).await;
    assert_eq!(decisions(&r.json()), vec![true, false]);

    // An item lacking a resource under execute_all: 200, that item false with an error
    let b = json!({"subject": user("alice"), "action": read, "evaluations": [{"resource": r1}, {}, {"resource": r1}]});
    let r = s.post_json("/access/v1/evaluations", &b).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(decisions(&v), vec![true, false, true]);
    assert_eq!(
        v["evaluations"][1]["context"]["error"]["status"],
        json!(400)
    );
    assert!(
        v["evaluations"][1]["context"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("resource")
    );
    // … and under deny_on_first_deny the failed item ends the batch
    let mut b2 = b.clone();
    b2["options"] = json!({"evaluations_semantic": "deny_on_first_deny"});
    let r = s.post_json("/access/v1/evaluations", &b2).await;
    assert_eq!(decisions(&r.json()), vec![true, false]);

    // Absent or empty `evaluations`: answered as one evaluation
    for evaluations in [None, Some(json!([]))] {
        let mut b = json!({"subject": user("alice"), "action": write, "resource": r1});
        if let Some(e) = evaluations.clone() {
            b["evaluations"] = e;
        }
        let r = s.post_json("/access/v1/evaluations", &b).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json(), json!({"decision": true}), "{evaluations:?}");
        b["subject"] = json!({"type": "user"});
        let r = s.post_json("/access/v1/evaluations", &b).await;
        assert_eq!(r.status, 400, "a single evaluation's shape is checked");
    }
    // Length and order over a longer batch
    let many: Vec<Value> = (0..40)
        .map(|i| {
            if i % 3 == 0 {
                deny.clone()
            } else {
                allow.clone()
            }
        })
        .collect();
    let r = s
        .post_json("/access/v1/evaluations", &body(None, &json!(many)))
        .await;
    let expected: Vec<bool> = (0..40).map(|i| i % 3 != 0).collect();
    assert_eq!(decisions(&r.json()), expected);
}

fn results(v: &Value) -> Vec<Value> {
    assert_eq!(v.as_object().unwrap().len(), 1, "only `results`: {v}");
    v["results"].as_array().unwrap().clone()
}

/// The three searches: results of the searched type only, the searched id
/// ignored, inputs complete, unknowns empty, `page` accepted
#[tokio::test]
async fn searches() {
    let s = fixture().await;
    let read = json!({"name": "read"});
    let write = json!({"name": "write"});
    let r1 = record("record-1", "active");
    let cases = [
        (
            "/access/v1/search/subject",
            json!({"subject": {"type": "user"}, "action": read, "resource": r1}),
            json!([user("alice"), user("bob")]),
        ),
        (
            "/access/v1/search/subject",
            json!({"subject": {"type": "user"}, "action": write, "resource": r1}),
            json!([user("alice")]),
        ),
        (
            "/access/v1/search/resource",
            json!({"subject": user("alice"), "action": write, "resource": {"type": "record"}}),
            json!([{"type": "record", "id": "record-1"}, {"type": "record", "id": "record-2"}]),
        ),
        (
            "/access/v1/search/resource",
            json!({"subject": user("bob"), "action": write, "resource": {"type": "record"}}),
            json!([]),
        ),
        (
            "/access/v1/search/action",
            json!({"subject": user("bob"), "resource": r1}),
            json!([{"name": "read"}]),
        ),
        (
            "/access/v1/search/action",
            json!({"subject": user("alice"), "resource": r1}),
            json!([{"name": "read"}, {"name": "write"}]),
        ),
        // unknown ids and types: empty results, not errors
        (
            "/access/v1/search/subject",
            json!({"subject": {"type": "robot"}, "action": read, "resource": r1}),
            json!([]),
        ),
        (
            "/access/v1/search/resource",
            json!({"subject": user("nobody"), "action": read, "resource": {"type": "record"}}),
            json!([]),
        ),
        (
            "/access/v1/search/action",
            json!({"subject": user("alice"), "resource": {"type": "record", "id": "record-9"}}),
            json!([]),
        ),
    ];
    for (path, body, expected) in &cases {
        let r = s.post_json(path, body).await;
        assert_eq!(r.status, 200, "{path} {body}: {}", r.body);
        assert_eq!(json!(results(&r.json())), *expected, "{path} {body}");
        // The searched entity's id is ignored; `page` and unknown keys too
        let mut same = body.clone();
        if path.ends_with("subject") {
            same["subject"]["id"] = json!("carol");
        } else if path.ends_with("resource") {
            same["resource"]["id"] = json!("record-2");
        } else {
            same["action"] = json!({"name": "delete"});
        }
        same["page"] = json!({"token": "", "limit": 1});
        same["foo"] = json!(1);
        let r = s.post_json(path, &same).await;
        assert_eq!(r.status, 200, "{path} {same}: {}", r.body);
        assert_eq!(json!(results(&r.json())), *expected, "{path} {same}");
    }
    // The same body: valid for a subject search, a 400 for a resource search
    // (its subject lacks an id) and vice versa
    let body = json!({"subject": {"type": "user"}, "action": read, "resource": r1});
    assert_eq!(
        s.post_json("/access/v1/search/subject", &body).await.status,
        200
    );
    assert_eq!(
        s.post_json("/access/v1/search/resource", &body)
            .await
            .status,
        400
    );
    assert_eq!(
        s.post_json("/access/v1/search/action", &body).await.status,
        400
    );
    let body = json!({"subject": user("alice"), "action": read, "resource": {"type": "record"}});
    assert_eq!(
        s.post_json("/access/v1/search/resource", &body)
            .await
            .status,
        200
    );
    assert_eq!(
        s.post_json("/access/v1/search/subject", &body).await.status,
        400
    );
    let malformed = [
        (
            "/access/v1/search/subject",
            json!({"action": read, "resource": r1}),
        ),
        (
            "/access/v1/search/subject",
            json!({"subject": {"type": "user"}, "resource": r1}),
        ),
        (
            "/access/v1/search/subject",
            json!({"subject": {}, "action": read, "resource": r1}),
        ),
        (
            "/access/v1/search/resource",
            json!({"subject": user("alice"), "action": {"name": 1}, "resource": {"type": "record"}}),
        ),
        (
            "/access/v1/search/resource",
            json!({"subject": user("alice"), "action": read}),
        ),
        (
            "/access/v1/search/action",
            json!({"subject": user("alice")}),
        ),
        (
            "/access/v1/search/action",
            json!({"subject": user("alice"), "resource": r1, "page": "next"}),
        ),
    ];
    for (path, body) in &malformed {
        let r = s.post_json(path, body).await;
        assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
    }
    for path in [
        "/access/v1/search/subject",
        "/access/v1/search/resource",
        "/access/v1/search/action",
    ] {
        assert_eq!(s.post(path, "").await.status, 400, "{path}: empty body");
        assert_eq!(
            s.send("POST", path, Some("text/plain"), &[], "{}")
                .await
                .status,
            400
        );
    }
}

/// The metadata endpoint names the base URL and every endpoint under it
#[tokio::test]
async fn metadata() {
    let s = fixture().await;
    let r = s.get("/.well-known/authzen-configuration").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    let m = r.json();
    assert_eq!(m["policy_decision_point"], json!("https://pdp.example"));
    for (key, path) in [
        ("access_evaluation_endpoint", "/access/v1/evaluation"),
        ("access_evaluations_endpoint", "/access/v1/evaluations"),
        ("search_subject_endpoint", "/access/v1/search/subject"),
        ("search_resource_endpoint", "/access/v1/search/resource"),
        ("search_action_endpoint", "/access/v1/search/action"),
    ] {
        assert_eq!(m[key], json!(format!("https://pdp.example{path}")), "{key}");
    }
    assert!(
        m.as_object().unwrap().values().all(|v| !v.is_null()),
        "no null parameters"
    );
    assert!(m.get("signed_metadata").is_none());
}
