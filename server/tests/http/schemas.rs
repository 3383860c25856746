//! The service's own JSON Schemas (`server/schemas/`, draft 2020-12) hold
//! for real traffic: every request the service answers 200 is valid against
//! its request schema, every answer against its response schema, and every
//! body the service refuses with a 400 for its shape is refused by the
//! request schema too. The reason codes and the entries' shape are the
//! core's own (`schemas/`): `entries-request` is generated from
//! `log-entry` (`UPDATE_SCHEMAS=1` rewrites it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonschema::{Draft, Resource, Validator};
use serde_json::{Value, json};
use zorg_pdp::Engine;

use crate::client::{Reply, Server};

const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-world.toml");
const AT: &str = "2026-02-01T12:00:00Z";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Every schema of `server/schemas/` by name (`evaluation-request`, …)
fn raw() -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".schema.json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
            all.insert(name.to_owned(), value);
        }
    }
    all
}

/// The validators, each able to resolve the others by their `$id`
struct Schemas(BTreeMap<String, Validator>);

impl Schemas {
    fn load() -> Self {
        let raw = raw();
        let resources: Vec<(String, Resource)> = raw
            .values()
            .map(|v| {
                let id = v["$id"].as_str().unwrap().to_owned();
                (id, Resource::from_contents(v.clone()))
            })
            .collect();
        let validators = raw
            .iter()
            .map(|(name, schema)| {
                let v = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_resources(resources.clone().into_iter())
                    .build(schema)
                    .unwrap_or_else(|e| panic!("{name}: does not compile: {e}"));
                (name.clone(), v)
            })
            .collect();
        Self(validators)
    }

    fn get(&self, name: &str) -> &Validator {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("no schema `{name}`"))
    }

    /// `value` is valid against `name`, or the test fails listing why
    fn holds(&self, name: &str, value: &Value) {
        let errors: Vec<String> = self
            .get(name)
            .iter_errors(value)
            .map(|e| format!("{} at `{}`", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name} refuses {value}: {errors:?}");
    }

    /// `value` is refused by `name`
    fn refuses(&self, name: &str, value: &Value) {
        assert!(
            !self.get(name).is_valid(value),
            "{name} takes what the service refuses: {value}"
        );
    }
}

/// `entries-request` as made from the core's `log-entry` schema: one entry
/// (an event or an entity record, `position` optional) or an array of them
fn entries_request() -> Value {
    let mut entry = zorg_pdp::schema::by_name("log-entry").unwrap();
    let map = entry.as_object_mut().unwrap();
    let defs = map.remove("$defs").unwrap();
    map.remove("$schema");
    map.insert("required".into(), json!([]));
    map.insert("title".into(), json!("Entry"));
    map.insert(
        "description".into(),
        json!(
            "One entry: an `event` or an `entity` record as in `schemas/log-entry.schema.json`, \
             with `position` optional (absent: the next position after the last applied)"
        ),
    );
    map.insert(
        "anyOf".into(),
        json!([{"required": ["event"]}, {"required": ["entity"]}]),
    );
    let mut defs = defs.as_object().unwrap().clone();
    defs.insert("Entry".into(), entry);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://zorg-pdp.example/schemas/server/entries-request.schema.json",
        "title": "EntriesRequest",
        "description": "The body of POST /v1/entries: one entry, an array of entries, or (not \
            expressible here) JSON Lines with one entry per line; generated from \
            schemas/log-entry.schema.json by server/tests/http/schemas.rs",
        "oneOf": [
            {"$ref": "#/$defs/Entry"},
            {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Entry"}},
        ],
        "$defs": defs,
    })
}

#[test]
fn the_schemas_are_2020_12_name_themselves_and_follow_the_core() {
    let raw = raw();
    let expected = [
        "entries-request",
        "entries-response",
        "error",
        "evaluation-request",
        "evaluation-response",
        "evaluations-request",
        "evaluations-response",
        "healthz",
        "metadata",
        "readyz",
        "refusal",
        "search-request",
        "search-response",
    ];
    assert_eq!(raw.keys().map(String::as_str).collect::<Vec<_>>(), expected);
    for (name, schema) in &raw {
        if let Err(e) = jsonschema::meta::validate(schema) {
            panic!("{name}: not a valid JSON Schema: {e}");
        }
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        let id = schema["$id"].as_str().unwrap();
        assert!(
            id.ends_with(&format!("/{name}.schema.json")),
            "{name}: $id {id}"
        );
        assert!(schema["title"].is_string() && schema["description"].is_string());
    }
    // Every schema compiles with its references to the others resolved
    let schemas = Schemas::load();
    assert_eq!(schemas.0.len(), expected.len());

    // The reason codes are the engine's, in its order
    let core = zorg_pdp::schema::by_name("response").unwrap();
    let codes: Vec<Value> = core["$defs"]["Reason"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["const"].clone())
        .collect();
    assert!(codes.len() > 20);
    assert_eq!(
        raw["evaluation-response"]["$defs"]["Reason"]["enum"],
        Value::Array(codes)
    );

    // `entries-request` is generated from the core's log entry
    let want = entries_request();
    if std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        let mut text = serde_json::to_string_pretty(&want).unwrap();
        text.push('\n');
        std::fs::write(dir().join("entries-request.schema.json"), text).unwrap();
    } else {
        assert_eq!(
            raw["entries-request"], want,
            "server/schemas/entries-request.schema.json drifted from schemas/log-entry.schema.json; \
             run `UPDATE_SCHEMAS=1 cargo test -p zorg-pdp-server --test http schemas`"
        );
    }
}

/// Posts `body` to `path`, checks the request against `request` and the
/// 200 answer against `response`
async fn exchange(
    s: &Server,
    schemas: &Schemas,
    path: &str,
    (request, response): (&str, &str),
    body: &Value,
) -> Value {
    schemas.holds(request, body);
    let r: Reply = s.post_json(path, body).await;
    assert_eq!(r.status, 200, "{path} {body}: {}", r.body);
    let answer = r.json();
    schemas.holds(response, &answer);
    answer
}

fn evaluation(who: &str, action: &str, properties: &Value, context: &Value) -> Value {
    json!({
        "subject": {"type": "practitioner", "id": who},
        "action": {"name": action},
        "resource": {"type": "patient", "id": "client-sanne", "properties": properties},
        "context": context,
    })
}

#[tokio::test]
async fn real_traffic_matches_the_schemas() {
    let schemas = Schemas::load();
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let seq = decider.engine().seq();
    let s = Server::start(zorg_pdp_server::zorg_router(
        decider.clone(),
        "http://127.0.0.1",
    ))
    .await;
    let echo = json!({"holder": "vp-noord", "category": "echo"});
    let ctx = json!({"at": AT, "mfa": true});
    let one = ("evaluation-request", "evaluation-response");

    // Single evaluations: an allow, denies of several kinds, unknown ids, a stale token
    let mut decisions = Vec::new();
    for body in [
        evaluation("eva", "view", &echo, &ctx),
        evaluation("anna", "view", &echo, &json!({"at": AT, "mfa": false})),
        evaluation("nobody", "view", &echo, &ctx),
        evaluation("eva", "fly", &echo, &ctx),
        evaluation(
            "eva",
            "view",
            &echo,
            &json!({"at": AT, "mfa": true, "purpose": "treatment", "min_seq": null, "x": [1]}),
        ),
        evaluation(
            "eva",
            "view",
            &echo,
            &json!({"at": AT, "mfa": true, "min_seq": seq + 5}),
        ),
    ] {
        let d = exchange(&s, &schemas, "/access/v1/evaluation", one, &body).await;
        decisions.push(d["decision"].as_bool().unwrap());
    }
    assert_eq!(decisions, [true, false, false, false, true, false]);

    // Batches: every semantic, an item error, and a body without items
    let many = ("evaluations-request", "evaluations-response");
    for (semantic, answered) in [
        ("execute_all", 3),
        ("deny_on_first_deny", 2),
        ("permit_on_first_permit", 1),
    ] {
        let body = json!({
            "subject": {"type": "practitioner", "id": "eva"},
            "action": {"name": "view"},
            "context": ctx,
            "options": {"evaluations_semantic": semantic},
            "evaluations": [
                {"resource": {"type": "patient", "id": "client-sanne", "properties": echo}},
                {"resource": {"type": "patient", "id": "client-sanne"}},
                {"subject": {"type": "practitioner", "id": "anna"},
                 "resource": {"type": "patient", "id": "client-sanne", "properties": echo}},
            ],
        });
        let a = exchange(&s, &schemas, "/access/v1/evaluations", many, &body).await;
        let items = a["evaluations"].as_array().unwrap();
        assert_eq!(items.len(), answered, "{semantic}: {a}");
        assert_eq!(items[0]["decision"], true, "{a}");
        if let Some(failed) = items.get(1) {
            assert_eq!(failed["context"]["error"]["status"], 400, "{a}");
        }
    }
    let a = exchange(
        &s,
        &schemas,
        "/access/v1/evaluations",
        many,
        &evaluation("eva", "view", &echo, &ctx),
    )
    .await;
    assert_eq!(a["decision"], true);

    // Searches: categories of one holder, holders, subjects, actions
    let search = ("search-request", "search-response");
    for (path, body) in [
        (
            "/access/v1/search/resource",
            json!({
            "subject": {"type": "practitioner", "id": "dr-jansen"}, "action": {"name": "view"},
            "resource": {"type": "category", "properties": {"patient": "client-sanne", "holder": "vp-noord"}},
            "context": ctx, "page": {"token": ""}}),
        ),
        (
            "/access/v1/search/resource",
            json!({
            "subject": {"type": "practitioner", "id": "anna"}, "action": {"name": "view"},
            "resource": {"type": "holder", "properties": {"patient": "client-sanne"}},
            "context": ctx}),
        ),
        (
            "/access/v1/search/subject",
            json!({
            "subject": {"type": "practitioner"}, "action": {"name": "view"},
            "resource": {"type": "patient", "id": "client-sanne", "properties": echo},
            "context": ctx}),
        ),
        (
            "/access/v1/search/action",
            json!({
            "subject": {"type": "practitioner", "id": "eva"},
            "resource": {"type": "patient", "id": "client-sanne", "properties": echo},
            "context": ctx}),
        ),
    ] {
        let a = exchange(&s, &schemas, path, search, &body).await;
        assert!(!a["results"].as_array().unwrap().is_empty(), "{path}: {a}");
    }

    // Entries: a position-less one, a skipped one, a refused one (422)
    let entries = ("entries-request", "entries-response");
    let patient = json!({"entity": {"patient": {"id": "client-schema"}}});
    let a = exchange(&s, &schemas, "/v1/entries", entries, &patient).await;
    assert_eq!(a["entries"][0]["position"], seq + 1);
    let again = json!([{"position": 1, "entity": {"patient": {"id": "client-schema"}}}]);
    let a = exchange(&s, &schemas, "/v1/entries", entries, &again).await;
    assert_eq!(a["entries"][0]["applied"], false);
    let refused = json!([{"event": {"at": AT, "type": "treatment_started",
        "patient": "client-none", "organisation": "vp-noord"}}]);
    schemas.holds("entries-request", &refused);
    let r = s.post_json("/v1/entries", &refused).await;
    assert_eq!(r.status, 422, "{}", r.body);
    schemas.holds("entries-response", &r.json());

    // The GETs
    for (path, name) in [
        ("/.well-known/authzen-configuration", "metadata"),
        ("/healthz", "healthz"),
        ("/readyz", "readyz"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        schemas.holds(name, &r.json());
    }
}

#[tokio::test]
async fn what_the_service_refuses_for_its_shape_the_schemas_refuse() {
    let schemas = Schemas::load();
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let s = Server::start(zorg_pdp_server::zorg_router(decider, "http://127.0.0.1")).await;
    let good = evaluation(
        "eva",
        "view",
        &json!({"holder": "vp-noord", "category": "echo"}),
        &json!({"at": AT, "mfa": true, "purpose": "treatment", "min_seq": 0}),
    );
    // `good` with the field at `pointer` (its parent exists) set to `value`
    let with = |pointer: &str, value: Value| {
        let mut v = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        parent.insert(key.to_owned(), value);
        v
    };
    let without = |key: &str| {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(key);
        v
    };
    let single = [
        json!([]),
        json!("subject"),
        without("subject"),
        without("action"),
        without("resource"),
        without("context"),
        with("/subject", json!("eva")),
        with("/subject/id", json!(7)),
        with("/subject/properties", json!([1])),
        with("/action", json!({"verb": "view"})),
        with("/resource/type", json!(null)),
        with("/resource/properties/holder", json!(12)),
        with("/context/at", json!(20_260_201)),
        with("/context/mfa", json!("yes")),
        with("/context/purpose", json!(1)),
        with("/context/min_seq", json!(-1)),
    ];
    for body in &single {
        let r = s.post_json("/access/v1/evaluation", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        schemas.refuses("evaluation-request", body);
    }
    let batches = [
        json!({"evaluations": {"a": 1}}),
        json!({"evaluations": [good, 1]}),
        json!({"evaluations": [good], "options": {"evaluations_semantic": "all"}}),
        json!({"evaluations": [good], "options": {"evaluations_semantic": 1}}),
        json!({"evaluations": [good], "options": []}),
        json!({"subject": "eva", "evaluations": [good]}),
    ];
    for body in &batches {
        let r = s.post_json("/access/v1/evaluations", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        schemas.refuses("evaluations-request", body);
    }
    let searches = [
        json!({"action": {"name": "view"}, "resource": {"type": "holder"}, "context": {"at": AT}}),
        json!({"subject": {"type": "practitioner", "id": "eva"}, "action": {"name": "view"},
               "resource": {"type": "holder", "properties": {"patient": "client-sanne"}},
               "context": {"at": AT}, "page": 3}),
        json!({"subject": {"id": "eva"}, "action": {"name": "view"},
               "resource": {"type": "holder"}, "context": {"at": AT}}),
    ];
    for body in &searches {
        let r = s.post_json("/access/v1/search/resource", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        schemas.refuses("search-request", body);
    }
    for body in [
        json!([]),
        json!([1]),
        json!({"position": 0, "entity": {"patient": {"id": "c"}}}),
    ] {
        let r = s.post_json("/v1/entries", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        schemas.refuses("entries-request", &body);
    }
}

/// The core's schema `name` (`schemas/`), compiled
fn core(name: &str) -> Validator {
    jsonschema::draft202012::new(&zorg_pdp::schema::by_name(name).unwrap()).unwrap()
}

#[tokio::test]
async fn consent_questions_refusals_and_the_front_s_errors_match_their_schemas() {
    let schemas = Schemas::load();
    let decider = zorg_pdp_server::decider(Engine::new().unwrap());
    zorg_pdp_server::load_world(&decider, Path::new(WORLD)).unwrap();
    let seq = decider.engine().seq();
    // The binary's front: one `decide` token, limits from the config
    let token = "schema-test-token-0123456789abcdefghijklmnopqrstuvwxyz";
    let hash = zorg_pdp_server::config::hex(&zorg_pdp_server::config::token_hash(token));
    let config = zorg_pdp_server::config::Config::parse(
        &format!(
            "[limits]\nbody_bytes = 1024\n[[tokens]]\nname = \"t\"\nsha256 = \"{hash}\"\nscopes = [\"decide\"]\n"
        ),
        Path::new("schemas-test.toml"),
    )
    .unwrap();
    let router = zorg_pdp_server::app::zorg_router_with(
        decider,
        "http://127.0.0.1",
        zorg_pdp_server::app::BodyLimits {
            body: config.limits.body_bytes,
            entries: config.limits.entries_body_bytes,
        },
    );
    let s = Server::start(zorg_pdp_server::guard::Guard::new(&config).wrap(router)).await;
    let bearer = format!("Bearer {token}");
    let auth: &[(&str, &str)] = &[("authorization", &bearer)];
    let post = |path: &'static str, body: Value| {
        let s = &s;
        async move {
            s.send(
                "POST",
                path,
                Some("application/json"),
                auth,
                &body.to_string(),
            )
            .await
        }
    };

    // The consent questions: the core's query and answer schemas
    let at = AT;
    for (path, name, body) in [
        (
            "/v1/consent/check",
            "check",
            json!({"patient": "client-sanne", "holder": "vp-noord",
            "requester": "kz-oost", "data_categories": ["GGC002", "GGC013"], "at": at}),
        ),
        (
            "/v1/consent/locate",
            "locate",
            json!({"patient": "client-sanne", "requester": "kz-oost", "at": at}),
        ),
        (
            "/v1/consent/overview",
            "overview",
            json!({"principal": {"patient": "client-sanne"},
            "patient": "client-sanne", "at": at}),
        ),
    ] {
        let query = core(&format!("consent-{name}-query"));
        assert!(query.is_valid(&body), "{path}: {body}");
        let r = post(path, body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let answer = core(&format!("consent-{name}-answer"));
        let errors: Vec<String> = answer
            .iter_errors(&r.json())
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
    }
    // Refusals: an unknown id (422), a position not applied (503)
    let r = post(
        "/v1/consent/locate",
        json!({"patient": "client-nobody", "requester": "kz-oost", "at": at}),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    schemas.holds("refusal", &r.json());
    let r = post(
        "/v1/consent/check",
        json!({"patient": "client-sanne", "holder": "vp-noord",
        "requester": "kz-oost", "data_categories": ["GGC002"], "at": at, "min_seq": seq + 9}),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    schemas.holds("refusal", &r.json());

    // The front's own answers: 401 without a token, 403 for a scope it lacks, 413 beyond the limit
    let r = s.post("/access/v1/evaluation", "{}").await;
    assert_eq!(r.status, 401, "{}", r.body);
    schemas.holds("error", &r.json());
    let r = s
        .send("POST", "/v1/entries", Some("application/json"), auth, "{}")
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    schemas.holds("error", &r.json());
    let big = json!({"subject": {"type": "practitioner", "id": "x".repeat(2048)}});
    let r = post("/access/v1/evaluation", big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    schemas.holds("error", &r.json());
    // And a malformed body that passes the front is the plain-text 400
    let r = post("/access/v1/evaluation", json!({"subject": 1})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    schemas.refuses("evaluation-request", &json!({"subject": 1}));
}
