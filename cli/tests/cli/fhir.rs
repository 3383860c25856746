//! `zorg-pdp fhir import` and `zorg-pdp fhir export` end to end, against the
//! FHIR test world (`tests/it/fixtures/fhir-world.toml`) and the Mitz
//! notification example of MITZ-AUTHZEN-NOTES.md §1.5.

use std::fs;

use crate::helpers::{TempDir, path, stderr, stdout, zorg};

const WORLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/it/fixtures/fhir-world.toml"
);
const NOTIFICATION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/it/fixtures/mitz-notification.json"
);

/// `world` with `lines` (events as JSON Lines) appended as `[[events]]`
fn world_with(lines: &str) -> String {
    let mut world = fs::read_to_string(WORLD).unwrap();
    for line in lines.lines() {
        let table: toml::Table = serde_json::from_str(line).unwrap();
        world.push_str("\n[[events]]\n");
        world.push_str(&toml::to_string(&table).unwrap());
    }
    world
}

fn check(world: &str, requester: &str) -> serde_json::Value {
    let query = format!(
        r#"{{"principal":{{"organisation":"ha-west"}},"patient":"client-1","holder":"ha-west",
            "requester_category":"{requester}","data_categories":["GGC002","GGC013"],
            "at":"2026-03-02T00:00:00Z"}}"#
    );
    let out = zorg(&["consent", "check", "--world", world, "--query", &query]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn import_prints_the_events_as_json_lines_that_scenarios_read_back() {
    let out = zorg(&["fhir", "import", "--world", WORLD, NOTIFICATION]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    for line in &lines {
        let event = zorg_pdp::Event::from_json(line).unwrap();
        assert_eq!(event.at.to_string(), "2026-03-01T09:30:00Z");
    }
    assert!(
        lines[0]
            .contains(r#""requester_category":"RPZAC005","choice":"permit","recorded_via":"fhir""#)
    );
    assert!(lines[6].contains(r#""type":"mitz_choice_cleared""#));
    // Fed back as scenario events, the consent questions see them
    let tmp = TempDir::new("fhir-import");
    let world = tmp.0.join("world.toml");
    fs::write(&world, world_with(&text)).unwrap();
    let answers = |a: serde_json::Value| -> Vec<String> {
        a["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["answer"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        answers(check(path(&world), "RPZAC005")),
        ["permit", "permit"]
    );
    assert_eq!(
        answers(check(path(&world), "RPZAC104")),
        ["refused", "refused"]
    );
    assert_eq!(
        answers(check(WORLD, "RPZAC005")),
        ["no_choice", "no_choice"]
    );
}

#[test]
fn a_rejected_bundle_exits_2_naming_entry_and_field_with_nothing_on_stdout() {
    let tmp = TempDir::new("fhir-reject");
    let bad = tmp.0.join("bad.json");
    let text = fs::read_to_string(NOTIFICATION).unwrap();
    fs::write(
        &bad,
        text.replacen("\"code\": \"CST\"", "\"code\": \"PRCP\"", 1),
    )
    .unwrap();
    let out = zorg(&["fhir", "import", "--world", WORLD, path(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains("entry 0 (urn:uuid:11111111-1111-4111-8111-111111111111)")
            && err.contains("field `entry[0].resource.provision.actor[0].role.coding[0].code`")
            && err.contains("`PRCP`"),
        "{err}"
    );
    // An unknown BSN: the Patient entry
    fs::write(&bad, text.replace("999999990", "123456782")).unwrap();
    let out = zorg(&["fhir", "import", "--world", WORLD, path(&bad)]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(2), ""));
    assert!(
        stderr(&out).contains("field `entry[2].resource.identifier[0].value`"),
        "{}",
        stderr(&out)
    );
    // XML, and malformed JSON with its line
    fs::write(&bad, "<Bundle xmlns=\"http://hl7.org/fhir\"/>").unwrap();
    let out = zorg(&["fhir", "import", "--world", WORLD, path(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("XML is not supported"),
        "{}",
        stderr(&out)
    );
    fs::write(
        &bad,
        "{\n  \"resourceType\": \"Bundle\",\n  \"type\": transaction\n}",
    )
    .unwrap();
    let out = zorg(&["fhir", "import", "--world", WORLD, path(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3, column"), "{}", stderr(&out));
}

#[test]
fn export_prints_a_bundle_that_import_reads_back() {
    let out = zorg(&["fhir", "export", "--world", WORLD, "--patient", "client-1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bundle: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    // --at defaults to the world's latest event
    assert_eq!(bundle["timestamp"], "2026-02-03T08:00:00Z");
    let consents = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Consent")
        .count();
    assert_eq!(consents, 3);
    assert!(
        stdout(&out).starts_with("{\n  \"resourceType\": \"Bundle\""),
        "pretty"
    );
    // Before the world's Mitz choices only the hospital's own consent
    let early = zorg(&[
        "fhir",
        "export",
        "--world",
        WORLD,
        "--patient",
        "client-1",
        "--at",
        "2026-01-10T00:00:00Z",
    ]);
    let early: serde_json::Value = serde_json::from_str(&stdout(&early)).unwrap();
    assert_eq!(early["timestamp"], "2026-01-10T00:00:00Z");
    assert_eq!(
        early["entry"].as_array().unwrap().len(),
        3,
        "Consent, Patient, Organization"
    );
    // Read back
    let tmp = TempDir::new("fhir-export");
    let file = tmp.0.join("export.json");
    fs::write(&file, stdout(&out)).unwrap();
    let back = zorg(&["fhir", "import", "--world", WORLD, path(&file)]);
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let events = stdout(&back);
    assert!(
        events
            .contains(r#""type":"dossier_consent_given","patient":"client-1","holder":"zh-noord""#),
        "{events}"
    );
    assert!(
        events.contains(r#""holder_category":"ziekenhuizen""#),
        "{events}"
    );
    // An unknown patient
    let out = zorg(&["fhir", "export", "--world", WORLD, "--patient", "nobody"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(2), ""));
    assert!(
        stderr(&out).contains("unknown patient `nobody`"),
        "{}",
        stderr(&out)
    );
}
