//! The committed JSON Schemas in `schemas/` match the types (run with
//! `UPDATE_SCHEMAS=1` to rewrite them), and every JSON input refuses unknown
//! fields and duplicate keys.

use std::path::{Path, PathBuf};

use zorg_pdp::{DashboardQuery, EntityRecord, Event, Request};

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn text_of(schema: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn committed_schemas_match_the_types() {
    let dir = schema_dir();
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some_and(|v| v == "1");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut drifted = Vec::new();
    for (name, schema) in zorg_pdp::schema::all() {
        let path = dir.join(format!("{name}.schema.json"));
        let want = text_of(&schema);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::write(&path, want).unwrap();
            } else {
                drifted.push(path.display().to_string());
            }
        }
    }
    // No stale file for a schema that no longer exists
    let known: Vec<String> = zorg_pdp::schema::names()
        .map(|n| format!("{n}.schema.json"))
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if file.ends_with(".schema.json") && !known.contains(&file) {
            if update {
                std::fs::remove_file(&path).unwrap();
            } else {
                drifted.push(format!("{} (stale)", path.display()));
            }
        }
    }
    assert!(
        drifted.is_empty(),
        "JSON Schemas drifted from the types; run `UPDATE_SCHEMAS=1 cargo test --test it schemas` \
         and commit schemas/: {drifted:?}"
    );
}

#[test]
fn committed_schemas_are_valid_json_with_the_expected_titles() {
    let titles = [
        ("event", "EventRecord"),
        ("request", "RequestRecord"),
        ("response", "Response"),
        ("dashboard-query", "DashboardQuery"),
        ("dashboard-answer", "DashboardAnswer"),
        ("entity", "EntityRecord"),
        ("scenario", "Scenario"),
        ("audit-record", "AuditRecord"),
        ("consent-check-query", "ConsentCheckQuery"),
        ("consent-check-answer", "ConsentCheckAnswer"),
        ("consent-locate-query", "ConsentLocateQuery"),
        ("consent-locate-answer", "ConsentLocateAnswer"),
        ("consent-overview-query", "ConsentOverviewQuery"),
        ("consent-overview-answer", "ConsentOverviewAnswer"),
        ("log-entry", "LogEntryRecord"),
    ];
    for (name, title) in titles {
        let text = std::fs::read_to_string(schema_dir().join(format!("{name}.schema.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(schema["title"], title, "{name}");
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
    }
}

#[test]
fn input_schemas_refuse_unknown_fields() {
    for name in [
        "event",
        "request",
        "dashboard-query",
        "consent-check-query",
        "consent-locate-query",
        "consent-overview-query",
        "log-entry",
    ] {
        let schema = zorg_pdp::schema::by_name(name).unwrap();
        assert_eq!(schema["additionalProperties"], false, "{name}");
    }
    // A check needs its patient, holder, data categories and time; the
    // requester is one of two fields, so neither is required
    let check = zorg_pdp::schema::by_name("consent-check-query").unwrap();
    assert_eq!(
        check["required"],
        serde_json::json!(["patient", "holder", "data_categories", "at"])
    );
    // An answer always carries its per-category answers and its seq
    let answer = zorg_pdp::schema::by_name("consent-check-answer").unwrap();
    assert_eq!(answer["required"], serde_json::json!(["answers", "seq"]));
    // An entity record is one of three single-key objects, each closed
    let entity = zorg_pdp::schema::by_name("entity").unwrap();
    for variant in entity["oneOf"].as_array().unwrap() {
        assert_eq!(variant["additionalProperties"], false, "{variant}");
    }
}

const EVENT: &str =
    r#""at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"c1","organisation":"vp""#;
const REQUEST: &str = r#""principal":{"practitioner":"anna"},"action":"view","patient":"c1","at":"2026-02-01T00:00:00Z","holder":"vp","category":"basis""#;
const QUERY: &str =
    r#""principal":{"practitioner":"anna"},"patient":"c1","at":"2026-02-01T00:00:00Z""#;
const PRACTITIONER: &str = r#""id":"anna","organisation":"vp","role":"verloskundige""#;

fn entity(json: &str) -> Result<EntityRecord, String> {
    serde_json::from_str::<EntityRecord>(json).map_err(|e| e.to_string())
}

#[test]
fn the_samples_parse() {
    Event::from_json(&format!("{{{EVENT}}}")).unwrap();
    Request::from_json(&format!("{{{REQUEST}}}")).unwrap();
    DashboardQuery::from_json(&format!("{{{QUERY}}}")).unwrap();
    entity(&format!(r#"{{"practitioner":{{{PRACTITIONER}}}}}"#)).unwrap();
}

#[test]
fn events_refuse_unknown_fields_and_duplicate_keys() {
    let e = Event::from_json(&format!(r#"{{{EVENT},"colour":"red"}}"#)).unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = Event::from_json(&format!(r#"{{{EVENT},"patient":"c2"}}"#)).unwrap_err();
    assert!(e.to_string().contains("duplicate field `patient`"), "{e}");
}

#[test]
fn requests_refuse_unknown_fields_and_duplicate_keys() {
    let e = Request::from_json(&format!(r#"{{{REQUEST},"colour":"red"}}"#)).unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = Request::from_json(&format!(r#"{{{REQUEST},"holder":"kz"}}"#)).unwrap_err();
    assert!(e.to_string().contains("duplicate field `holder`"), "{e}");
    // Inside the principal too: one kind, no second key
    let e = Request::from_json(&format!(
        r#"{{{},"principal":{{"practitioner":"anna","patient":"c1"}}}}"#,
        REQUEST.replace(r#""principal":{"practitioner":"anna"},"#, "")
    ))
    .unwrap_err();
    assert!(e.to_string().contains("field `practitioner`"), "{e}");
}

#[test]
fn dashboard_queries_refuse_unknown_fields_and_duplicate_keys() {
    let e = DashboardQuery::from_json(&format!(r#"{{{QUERY},"colour":"red"}}"#)).unwrap_err();
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    let e = DashboardQuery::from_json(&format!(r#"{{{QUERY},"at":"2026-03-01T00:00:00Z"}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("duplicate field `at`"), "{e}");
}

#[test]
fn entity_records_refuse_unknown_fields_and_duplicate_keys() {
    let e = entity(&format!(
        r#"{{"practitioner":{{{PRACTITIONER},"colour":"red"}}}}"#
    ))
    .unwrap_err();
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = entity(&format!(
        r#"{{"practitioner":{{{PRACTITIONER},"role":"huisarts"}}}}"#
    ))
    .unwrap_err();
    assert!(e.contains("duplicate field `role`"), "{e}");
    let e = entity(r#"{"robot":{"id":"r2"}}"#).unwrap_err();
    assert!(e.contains("unknown variant `robot`"), "{e}");
    // Two entities in one record: the second key is refused, not silently dropped
    let e = entity(r#"{"patient":{"id":"c1"},"patient":{"id":"c2"}}"#).unwrap_err();
    assert!(!e.is_empty());
    let e = entity(r#"{"patient":{"id":"c1"},"organisation":{"id":"vp"}}"#).unwrap_err();
    assert!(!e.is_empty());
}
