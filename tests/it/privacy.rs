//! `Debug` output never prints a patient's id, a record's id or a category
//! the engine holds for a patient: a `{:?}` in a vendor's log must not become
//! a data leak. Engine, registry, sinks and records print counts and codes.

use std::sync::Arc;

use zorg_pdp::audit::{Durability, FileSink};
use zorg_pdp::{AuditSink, Engine, Event, MemorySink, PatientId, RecordId, Request, Scenario};

/// Ids that appear nowhere in the shipped policies or vocabulary, so finding
/// one in a `Debug` text can only mean it leaked from the registry
const WORLD: &str = r#"
[[organisations]]
id = "org-alpha-7"
[[practitioners]]
id = "prac-bravo-7"
organisation = "org-alpha-7"
role = "huisarts"
[[patients]]
id = "secret-patient-42"

[[events]]
at = "2026-01-05T09:00:00Z"
type = "treatment_started"
patient = "secret-patient-42"
organisation = "org-alpha-7"

[[events]]
at = "2026-01-06T09:00:00Z"
type = "record_added"
record = "secret-record-99"
patient = "secret-patient-42"
category = "zwangerschap"
source = "dossier"
holder = "org-alpha-7"
"#;

const SECRETS: &[&str] = &["secret-patient-42", "secret-record-99", "zwangerschap"];

fn assert_private(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

#[test]
fn debug_of_engine_sinks_and_records_shows_no_patient_data() {
    let path = std::path::Path::new("privacy-world.toml");
    let scenario = Scenario::parse(WORLD, path).unwrap();
    let engine = Engine::new().unwrap();
    scenario.load_into(&engine, path, Some(WORLD)).unwrap();
    let memory = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&memory) as Arc<dyn AuditSink>);
    let request = Request::from_json(
        r#"{"principal":{"practitioner":"prac-bravo-7"},"action":"view_record",
            "patient":"secret-patient-42","record":"secret-record-99",
            "at":"2026-02-01T00:00:00Z","mfa":true}"#,
    )
    .unwrap();
    let response = engine.decide(&request);
    assert!(response.is_allowed(), "{response:?}");
    assert_eq!(memory.len(), 1);

    // The engine (and its registry), the memory sink, pending and built records
    let engine_text = format!("{engine:?}");
    assert!(
        engine_text.contains("patients: 1"),
        "counts are shown: {engine_text}"
    );
    assert_private("Engine", &engine_text);
    assert_private("MemorySink", &format!("{memory:?}"));
    let records = memory.records().unwrap();
    assert_private("AuditRecord", &format!("{records:?}"));
    assert!(format!("{:?}", records[0]).contains("view_record"));

    // The request and the ids themselves
    assert_private("Request", &format!("{request:?}"));
    assert_private(
        "PatientId",
        &format!("{:?}", PatientId::new("secret-patient-42").unwrap()),
    );
    assert_private(
        "RecordId",
        &format!("{:?}", RecordId::new("secret-record-99").unwrap()),
    );
    let event = Event::from_json(
        r#"{"at":"2026-01-05T09:00:00Z","type":"pgo_account_created","patient":"secret-patient-42"}"#,
    )
    .unwrap();
    assert_private("Event", &format!("{event:?}"));

    // A file sink, with a record written
    let dir = std::env::temp_dir().join(format!("zorg-pdp-privacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let (file, _) = FileSink::open(&path, Durability::OnFlush).unwrap();
    let file = Arc::new(file);
    engine.set_audit_sink(Arc::clone(&file) as Arc<dyn AuditSink>);
    assert!(engine.decide(&request).is_allowed());
    assert_private("FileSink", &format!("{file:?}"));
    drop(file);
    engine.clear_audit_sink();
    let _ = std::fs::remove_dir_all(&dir);
}
