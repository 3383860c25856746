//! FHIR R4 import and export (SPEC.md §7.6, R45, R46; `docs/fhir.md`): the
//! Mitz notification example of MITZ-AUTHZEN-NOTES.md §1.5 imports to the
//! expected events; every class of rejection names its entry and field and
//! changes nothing (R45); an export of random statements imports into a
//! fresh engine with the same answers to every consent question (R46); and
//! exports are valid FHIR R4 to an independent validator (the `PyPI` package
//! `fhir.resources`, R4 models, run by `tests/fhir-validator/validate.py`).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use serde_json::{Value, json};
use zorg_pdp::{
    ConsentCheckQuery, ConsentStatement, Engine, Event, FhirError, FhirProblem, PatientId, Scenario,
};

use crate::common::{self, FHIR_WORLD, MITZ_NOTIFICATION, at};

/// The notes' example with `change` applied to its JSON
fn mutated(change: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(MITZ_NOTIFICATION).unwrap();
    change(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

fn at_ptr<'a>(v: &'a mut Value, pointer: &str) -> &'a mut Value {
    v.pointer_mut(pointer).unwrap()
}

/// The events as flat JSON lines (the `zorg-pdp fhir import` output)
fn lines(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect()
}

/// Every statement in force of the three patients, sorted by id
fn statements(engine: &Engine, when: &str) -> Vec<(String, Vec<ConsentStatement>)> {
    ["client-1", "client-2", "client-3"]
        .into_iter()
        .map(|p| {
            let mut s = engine
                .consent_statements(&PatientId::new(p).unwrap(), at(when))
                .unwrap();
            s.sort_by(|a, b| a.id.cmp(&b.id));
            (p.to_owned(), s)
        })
        .collect()
}

#[test]
fn the_notes_example_imports_to_the_expected_events() {
    let engine = common::fhir_world();
    let events = engine.fhir_import(MITZ_NOTIFICATION).unwrap();
    let event = |ty: &str, requester: &str, choice: Option<&str>| {
        let mut v = json!({
            "at": "2026-03-01T09:30:00Z", "type": ty, "patient": "client-1",
            "holder": "ha-west", "data_category": "GGC002", "requester_category": requester,
        });
        if let Some(c) = choice {
            v["choice"] = json!(c);
            v["recorded_via"] = json!("fhir");
        }
        serde_json::to_string(&serde_json::from_value::<Event>(v).unwrap()).unwrap()
    };
    let recorded = "mitz_choice_recorded";
    let cleared = "mitz_choice_cleared";
    assert_eq!(
        lines(&events),
        vec![
            event(recorded, "RPZAC005", Some("permit")),
            event(recorded, "RPZAC001", Some("deny")),
            event(recorded, "RPZAC104", Some("deny")),
            event(recorded, "RPZAC200", Some("deny")),
            // Not named: back to no choice (a notification is a full picture)
            event(cleared, "RPZAC003", None),
            event(cleared, "RPZAC004", None),
            event(cleared, "RPZAC103", None),
        ]
    );
    // Nothing applied: the world's nine entities and five events
    assert_eq!(engine.seq(), 9 + 5);
    // Each line is an event the scenario format reads back
    for line in lines(&events) {
        assert_eq!(
            Event::from_json(&line).unwrap().at,
            at("2026-03-01T09:30:00Z")
        );
    }
}

#[test]
fn the_example_applied_answers_the_closed_question() {
    let engine = common::fhir_world();
    let seq = engine.fhir_apply(MITZ_NOTIFICATION).unwrap();
    assert_eq!(seq, 9 + 5 + 7);
    let check = |requester: &str| -> Vec<String> {
        let q = ConsentCheckQuery::from_json(&format!(
            r#"{{"principal":{{"organisation":"ha-west"}},"patient":"client-1","holder":"ha-west",
               "requester_category":"{requester}","data_categories":["GGC002","GGC013"],
               "at":"2026-03-02T00:00:00Z"}}"#
        ))
        .unwrap();
        engine
            .consent_check(&q)
            .unwrap()
            .answers
            .iter()
            .map(|a| {
                serde_json::to_value(a.answer)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        check("RPZAC005"),
        ["permit", "permit"],
        "GGC002 covers GGC013"
    );
    assert_eq!(check("RPZAC001"), ["refused", "refused"]);
    assert_eq!(check("RPZAC003"), ["no_choice", "no_choice"]);
    // A pharmacy (J8, RPZAC005) asking as itself
    let q = ConsentCheckQuery::from_json(
        r#"{"patient":"client-1","holder":"ha-west","requester":"apo-zuid",
            "data_categories":["GGC002"],"at":"2026-03-02T00:00:00Z"}"#,
    )
    .unwrap();
    assert!(
        engine.consent_check(&q).unwrap().answers[0]
            .answer
            .is_permit()
    );
}

#[test]
fn a_later_notification_replaces_the_picture_of_its_holder_and_data_category() {
    let engine = common::fhir_world();
    engine.fhir_apply(MITZ_NOTIFICATION).unwrap();
    // A day later: only the GPs may see the Behandelgegevens; the refusal
    // Consent is gone, so the hospitals and the EU are back to no choice.
    let later = mutated(|v| {
        let entries = at_ptr(v, "/entry").as_array_mut().unwrap();
        entries.remove(1);
        at_ptr(v, "/entry/0/resource/dateTime").clone_from(&json!("2026-03-02T09:30:00Z"));
        at_ptr(
            v,
            "/entry/0/resource/extension/0/valueCodeableConcept/coding/0/code",
        )
        .clone_from(&json!("RPZAC001"));
    });
    engine.fhir_apply(&later).unwrap();
    let (_, in_force) = statements(&engine, "2026-03-03T00:00:00Z").remove(0);
    let ids: Vec<&str> = in_force
        .iter()
        .filter(|s| s.holder.as_ref().is_some_and(|h| h.as_str() == "ha-west"))
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["org:ha-west/RPZAC001/GGC002"]);
    assert_eq!(
        in_force.iter().find(|s| s.id == ids[0]).unwrap().choice,
        zorg_pdp::consent::Choice::Permit
    );
}

// --- Rejections: one test per class, each naming its entry and field ----------

/// Rejects `bundle` on a fresh world, and checks R45 with `fhir_apply`: the
/// statements in force and `seq` are as before
fn rejected(bundle: &str) -> FhirError {
    let engine = common::fhir_world();
    let before = statements(&engine, "2027-01-01T00:00:00Z");
    let seq = engine.seq();
    let e = engine.fhir_import(bundle).unwrap_err();
    let applied = engine.fhir_apply(bundle).unwrap_err();
    assert_eq!(applied, e, "import and apply reject alike");
    assert_eq!(engine.seq(), seq, "R45: nothing applied");
    assert_eq!(statements(&engine, "2027-01-01T00:00:00Z"), before, "R45");
    // Debug shows the place, never a value
    let debug = format!("{e:?}");
    for secret in ["999999990", "urn:uuid", "client-1"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    e
}

/// `e` is in entry `entry` (with the example's fullUrl of that entry) at `path`
fn assert_place(e: &FhirError, entry: usize, path: &str) {
    assert_eq!(e.entry(), Some(entry), "{e}");
    assert_eq!(e.path(), path, "{e}");
    let url = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
        "44444444-4444-4444-8444-444444444444",
    ][entry];
    assert_eq!(e.full_url(), Some(format!("urn:uuid:{url}").as_str()));
    let shown = e.to_string();
    assert!(
        shown.contains(&format!("entry {entry} (urn:uuid:{url})")),
        "{shown}"
    );
    assert!(shown.contains(&format!("field `{path}`")), "{shown}");
}

#[test]
fn another_profile_or_version_is_rejected() {
    for profile in [
        "http://vzvz.nl/fhir/StructureDefinition/Consent-Mitz-Notify|3.9.0",
        "http://vzvz.nl/fhir/StructureDefinition/Consent-Mitz-Notify",
        "http://vzvz.nl/fhir/otv/StructureDefinition/mitz-base-consent|4.0.0-beta.1",
        // The local profile of an export is read from a collection only
        "urn:zorg-pdp:fhir:StructureDefinition:dossier-consent",
    ] {
        let e = rejected(&mutated(|v| {
            at_ptr(v, "/entry/1/resource/meta/profile/0").clone_from(&json!(profile));
        }));
        assert_place(&e, 1, "entry[1].resource.meta.profile");
        assert!(
            matches!(e.problem(), FhirProblem::Profile(p) if p[0] == profile),
            "{e}"
        );
        assert!(e.to_string().contains(profile), "{e}");
    }
    // 3.8.1 is read
    let ok = mutated(|v| {
        at_ptr(v, "/entry/1/resource/meta/profile/0").clone_from(&json!(
            "http://vzvz.nl/fhir/StructureDefinition/Consent-Mitz-Notify|3.8.1"
        ));
    });
    assert_eq!(common::fhir_world().fhir_import(&ok).unwrap().len(), 7);
}

#[test]
fn a_consent_without_a_cst_actor_is_rejected() {
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/1/resource/provision/actor")
            .as_array_mut()
            .unwrap()
            .clear();
    }));
    assert_place(&e, 1, "entry[1].resource.provision.actor");
    assert_eq!(e.problem(), &FhirProblem::Missing);
    // An actor of another role is not read as the holder: refused too
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/provision/actor/0/role/coding/0/code")
            .clone_from(&json!("PRCP"));
    }));
    assert_place(
        &e,
        0,
        "entry[0].resource.provision.actor[0].role.coding[0].code",
    );
    assert!(e.to_string().contains("`PRCP`"), "{e}");
}

#[test]
fn an_unknown_code_system_is_rejected() {
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/category/0/coding/0/system")
            .clone_from(&json!("urn:oid:2.16.840.1.113883.2.4.3.111.5.10.1"));
    }));
    assert_place(&e, 0, "entry[0].resource.category[0].coding[0].system");
    assert!(
        e.to_string()
            .contains("`urn:oid:2.16.840.1.113883.2.4.3.111.5.10.1`"),
        "{e}"
    );
    let e = rejected(&mutated(|v| {
        at_ptr(
            v,
            "/entry/1/resource/extension/1/valueCodeableConcept/coding/0/system",
        )
        .clone_from(&json!("http://example.org/categories"));
    }));
    assert_place(
        &e,
        1,
        "entry[1].resource.extension[1].valueCodeableConcept.coding[0].system",
    );
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/provision/purpose/0/system")
            .clone_from(&json!("http://example.org/purpose"));
    }));
    assert_place(&e, 0, "entry[0].resource.provision.purpose[0].system");
    // Both ActReason URIs are read
    let new_uri = mutated(|v| {
        for i in 0..2 {
            at_ptr(
                v,
                &format!("/entry/{i}/resource/provision/purpose/0/system"),
            )
            .clone_from(&json!("http://terminology.hl7.org/CodeSystem/v3-ActReason"));
        }
    });
    assert_eq!(common::fhir_world().fhir_import(&new_uri).unwrap().len(), 7);
}

#[test]
fn an_unknown_code_is_rejected() {
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/category/0/coding/0/code").clone_from(&json!("GGC007"));
    }));
    assert_place(&e, 0, "entry[0].resource.category[0].coding[0].code");
    assert!(
        matches!(e.problem(), FhirProblem::Code { code, .. } if code == "GGC007"),
        "{e}"
    );
    let e = rejected(&mutated(|v| {
        at_ptr(
            v,
            "/entry/1/resource/extension/2/valueCodeableConcept/coding/0/code",
        )
        .clone_from(&json!("RPZAC999"));
    }));
    assert_place(
        &e,
        1,
        "entry[1].resource.extension[2].valueCodeableConcept.coding[0].code",
    );
    assert!(e.to_string().contains("`RPZAC999`"), "{e}");
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/scope/coding/0/code").clone_from(&json!("research"));
    }));
    assert_place(&e, 0, "entry[0].resource.scope.coding[0].code");
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/provision/purpose/0/code").clone_from(&json!("HRESCH"));
    }));
    assert_place(&e, 0, "entry[0].resource.provision.purpose[0].code");
}

#[test]
fn a_consent_of_neither_shape_is_rejected() {
    // active without a type, inactive with one, active deny, and a draft
    for (i, status, kind, field) in [
        (0, "active", None, "provision.type"),
        (1, "inactive", Some("permit"), "provision.type"),
        (0, "active", Some("deny"), "provision.type"),
        (0, "draft", Some("permit"), "status"),
    ] {
        let e = rejected(&mutated(|v| {
            at_ptr(v, &format!("/entry/{i}/resource/status")).clone_from(&json!(status));
            let provision = at_ptr(v, &format!("/entry/{i}/resource/provision"))
                .as_object_mut()
                .unwrap();
            match kind {
                Some(k) => provision.insert("type".into(), json!(k)),
                None => provision.remove("type"),
            };
        }));
        assert_place(&e, i, &format!("entry[{i}].resource.{field}"));
        assert!(matches!(e.problem(), FhirProblem::Shape { .. }), "{e}");
        assert!(e.to_string().contains(&format!("`{status}`")), "{e}");
    }
}

#[test]
fn a_requester_both_permitted_and_refused_is_rejected() {
    let e = rejected(&mutated(|v| {
        at_ptr(
            v,
            "/entry/1/resource/extension/1/valueCodeableConcept/coding/0/code",
        )
        .clone_from(&json!("RPZAC005"));
    }));
    assert_place(&e, 1, "entry[1].resource.extension[1]");
    assert_eq!(
        e.problem(),
        &FhirProblem::Conflict {
            code: "RPZAC005".into(),
            other_entry: 0
        }
    );
    // The same code twice with the same choice is no conflict
    let twice = mutated(|v| {
        at_ptr(
            v,
            "/entry/1/resource/extension/1/valueCodeableConcept/coding/0/code",
        )
        .clone_from(&json!("RPZAC001"));
    });
    assert_eq!(common::fhir_world().fhir_import(&twice).unwrap().len(), 7);
}

#[test]
fn an_unknown_bsn_or_ura_is_rejected() {
    // 111222333 passes the elfproef, but this world's client-2 has it: use
    // another valid one that no patient has
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/2/resource/identifier/0/value").clone_from(&json!("123456782"));
    }));
    assert_place(&e, 2, "entry[2].resource.identifier[0].value");
    assert!(
        e.to_string().contains("123456782"),
        "Display names the value: {e}"
    );
    assert!(!format!("{e:?}").contains("123456782"));
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/2/resource/identifier/0/value").clone_from(&json!("999999991"));
    }));
    assert_place(&e, 2, "entry[2].resource.identifier[0].value");
    assert!(matches!(e.problem(), FhirProblem::NationalId(_)), "{e}");
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/3/resource/identifier/0/value").clone_from(&json!("09999999"));
    }));
    assert_place(&e, 3, "entry[3].resource.identifier[0].value");
    assert!(e.to_string().contains("`09999999`"), "{e}");
    // No URA at all (an AGB code only)
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/3/resource/identifier/0/system")
            .clone_from(&json!("http://fhir.nl/fhir/NamingSystem/agb-z"));
    }));
    assert_place(&e, 3, "entry[3].resource.identifier");
    assert!(matches!(e.problem(), FhirProblem::NoIdentifier(_)), "{e}");
}

#[test]
fn a_wrong_bundle_type_is_rejected() {
    for kind in ["batch", "searchset", "document"] {
        let e = rejected(&mutated(|v| at_ptr(v, "/type").clone_from(&json!(kind))));
        assert_eq!((e.entry(), e.path()), (None, "type"), "{e}");
        assert!(e.to_string().contains(&format!("`{kind}`")), "{e}");
    }
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/resourceType").clone_from(&json!("Consent"));
    }));
    assert_eq!(e.path(), "resourceType", "{e}");
}

#[test]
fn malformed_json_is_rejected_with_line_and_column() {
    let broken = MITZ_NOTIFICATION.replacen("\"status\": \"active\",", "\"status\": active,", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("\"status\": active"))
        .unwrap()
        + 1;
    let e = rejected(&broken);
    match e.problem() {
        FhirProblem::Syntax {
            line: l, column, ..
        } => {
            assert_eq!(*l, line, "{e}");
            assert!(*column > 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains(&format!("line {line}, column")),
        "{e}"
    );
    // A value of the wrong type is named by its path
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/1/resource/provision/actor").clone_from(&json!({"role": 1}));
    }));
    assert_place(&e, 1, "entry[1].resource.provision.actor");
    assert!(matches!(e.problem(), FhirProblem::Type(_)), "{e}");
    // XML is not read
    let e = rejected("<?xml version=\"1.0\"?><Bundle xmlns=\"http://hl7.org/fhir\"/>");
    assert_eq!(e.problem(), &FhirProblem::Xml);
    assert!(e.to_string().contains("XML is not supported"), "{e}");
}

#[test]
fn what_would_change_the_meaning_is_rejected_what_fhir_lets_a_reader_skip_is_ignored() {
    // A time-limited permit, an exception, a modifier extension: refused
    for (pointer, member, value, path) in [
        (
            "/entry/0/resource/provision",
            "period",
            json!({"end": "2026-03-04T09:30:00Z"}),
            "entry[0].resource.provision.period",
        ),
        (
            "/entry/0/resource/provision",
            "provision",
            json!([{"type": "deny"}]),
            "entry[0].resource.provision.provision",
        ),
        (
            "/entry/1/resource",
            "modifierExtension",
            json!([{"url": "http://example.org/x", "valueBoolean": true}]),
            "entry[1].resource.modifierExtension",
        ),
    ] {
        let e = rejected(&mutated(|v| {
            at_ptr(v, pointer)
                .as_object_mut()
                .unwrap()
                .insert(member.into(), value);
        }));
        assert_eq!(e.path(), path, "{e}");
        assert!(matches!(e.problem(), FhirProblem::NotSupported(_)), "{e}");
    }
    // Unknown members, narrative, other extensions, coding versions: ignored
    let decorated = mutated(|v| {
        let c = at_ptr(v, "/entry/0/resource").as_object_mut().unwrap();
        c.insert("id".into(), json!("c1"));
        c.insert(
            "text".into(),
            json!({"status": "generated", "div": "<div/>"}),
        );
        c.insert(
            "policy".into(),
            json!([{"uri": "https://www.mitz-toestemming.nl"}]),
        );
        c.insert("futureElement".into(), json!({"anything": [1, 2]}));
        at_ptr(v, "/entry/0/resource/extension")
            .as_array_mut()
            .unwrap()
            .push(json!({"url": "http://example.org/other", "valueString": "x"}));
        at_ptr(v, "/entry/0/resource/category/0/coding/0")
            .as_object_mut()
            .unwrap()
            .insert("version".into(), json!("3960100"));
        at_ptr(v, "/entry/2/resource")
            .as_object_mut()
            .unwrap()
            .insert("name".into(), json!([{"family": "Jansen"}]));
    });
    assert_eq!(
        common::fhir_world().fhir_import(&decorated).unwrap(),
        common::fhir_world().fhir_import(MITZ_NOTIFICATION).unwrap()
    );
}

#[test]
fn a_reference_that_resolves_to_no_entry_is_rejected() {
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/1/resource/patient/reference")
            .clone_from(&json!("urn:uuid:55555555-5555-4555-8555-555555555555"));
    }));
    assert_place(&e, 1, "entry[1].resource.patient.reference");
    // The holder must be an Organization: the Patient is not
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/0/resource/provision/actor/0/reference/reference")
            .clone_from(&json!("urn:uuid:33333333-3333-4333-8333-333333333333"));
    }));
    assert_place(
        &e,
        0,
        "entry[0].resource.provision.actor[0].reference.reference",
    );
    assert!(matches!(e.problem(), FhirProblem::Unresolved { .. }), "{e}");
    // A relative Type/id reference to an entry's id resolves
    let relative = mutated(|v| {
        at_ptr(v, "/entry/3/resource")
            .as_object_mut()
            .unwrap()
            .insert("id".into(), json!("ha"));
        for i in 0..2 {
            at_ptr(
                v,
                &format!("/entry/{i}/resource/provision/actor/0/reference/reference"),
            )
            .clone_from(&json!("Organization/ha"));
        }
    });
    assert_eq!(
        common::fhir_world().fhir_import(&relative).unwrap().len(),
        7
    );
}

#[test]
fn a_notification_names_its_holder_by_ura_only() {
    // A holder category and a local organisation id are read from an
    // export (a collection), not from a Mitz notification (a transaction)
    let e = rejected(&mutated(|v| {
        at_ptr(v, "/entry/3/resource").clone_from(&json!({
            "resourceType": "Organization", "name": "Huisartsen",
            "type": [{"coding": [{"system": "urn:zorg-pdp:fhir:CodeSystem:holder-category", "code": "huisartsen"}]}]
        }));
    }));
    assert_place(&e, 3, "entry[3].resource.identifier");
    let as_collection = mutated(|v| {
        at_ptr(v, "/type").clone_from(&json!("collection"));
        at_ptr(v, "/entry/3/resource").clone_from(&json!({
            "resourceType": "Organization", "name": "Huisartsen",
            "type": [{"coding": [{"system": "urn:zorg-pdp:fhir:CodeSystem:holder-category", "code": "huisartsen"}]}]
        }));
    });
    let events = common::fhir_world().fhir_import(&as_collection).unwrap();
    assert!(
        lines(&events)[0].contains(r#""holder_category":"huisartsen""#),
        "{:?}",
        lines(&events)
    );
}

// --- Export ------------------------------------------------------------------

fn export(engine: &Engine, patient: &str, when: &str) -> Value {
    engine
        .fhir_export(&PatientId::new(patient).unwrap(), at(when))
        .unwrap()
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

#[test]
fn an_export_has_the_notification_shape_and_is_deterministic() {
    let engine = common::fhir_world();
    engine.fhir_apply(MITZ_NOTIFICATION).unwrap();
    let bundle = export(&engine, "client-1", "2026-03-02T00:00:00Z");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    assert_eq!(bundle["timestamp"], "2026-03-02T00:00:00Z");
    assert_eq!(
        bundle,
        export(&engine, "client-1", "2026-03-02T00:00:00Z"),
        "deterministic"
    );
    let consents = resources(&bundle, "Consent");
    // zh-noord: its own consent and the kraamzorg's medication; the hospital
    // category's GGZ refusal; ha-west: one permit, one refusal Consent
    assert_eq!(consents.len(), 5, "{bundle:#}");
    let of_ha = |c: &&Value| {
        let holder = c["provision"]["actor"][0]["reference"]["reference"]
            .as_str()
            .unwrap();
        let org = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["fullUrl"] == holder)
            .unwrap();
        org["resource"]["identifier"][0]["value"] == "00000001"
    };
    let ha: Vec<&&Value> = consents.iter().filter(|c| of_ha(c)).collect();
    assert_eq!(ha.len(), 2);
    let codes = |c: &Value| -> Vec<String> {
        c["extension"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["valueCodeableConcept"]["coding"][0]["code"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let permit = ha.iter().find(|c| c["status"] == "active").unwrap();
    assert_eq!(permit["provision"]["type"], "permit");
    assert_eq!(codes(permit), ["RPZAC005"]);
    assert_eq!(
        permit["meta"]["profile"][0],
        "http://vzvz.nl/fhir/StructureDefinition/Consent-Mitz-Notify|3.8.0"
    );
    assert_eq!(permit["category"][0]["coding"][0]["code"], "GGC002");
    assert_eq!(permit["dateTime"], "2026-03-01T09:30:00Z");
    let refusal = ha.iter().find(|c| c["status"] == "inactive").unwrap();
    assert!(refusal["provision"].get("type").is_none());
    assert_eq!(codes(refusal), ["RPZAC001", "RPZAC104", "RPZAC200"]);
    // The holder's own consent: a local Consent, no category extension
    let local: Vec<&&Value> = consents
        .iter()
        .filter(|c| {
            c["meta"]["profile"][0] == "urn:zorg-pdp:fhir:StructureDefinition:dossier-consent"
        })
        .collect();
    assert_eq!(local.len(), 1);
    assert!(local[0].get("extension").is_none());
    assert_eq!(local[0]["category"][0]["coding"][0]["code"], "59284-0");
    // The holder category: an Organization with only its type and name
    let orgs = resources(&bundle, "Organization");
    let category = orgs.iter().find(|o| o.get("identifier").is_none()).unwrap();
    assert_eq!(category["type"][0]["coding"][0]["code"], "ziekenhuizen");
    // The patient by BSN
    let patients = resources(&bundle, "Patient");
    assert_eq!(patients.len(), 1);
    assert_eq!(patients[0]["identifier"][0]["value"], "999999990");
    // Before the notification, at the export's time, ha-west has nothing
    let earlier = export(&engine, "client-1", "2026-02-15T00:00:00Z");
    assert_eq!(resources(&earlier, "Consent").len(), 3);
}

#[test]
fn an_export_names_a_patient_without_bsn_and_a_holder_without_ura_locally() {
    let engine = common::fhir_world();
    let bundle = export(&engine, "client-3", "2026-03-01T00:00:00Z");
    let patient = resources(&bundle, "Patient")[0];
    assert_eq!(
        patient["identifier"][0],
        json!({"system": "urn:zorg-pdp:fhir:NamingSystem:patient", "value": "client-3"})
    );
    let org = resources(&bundle, "Organization")[0];
    assert_eq!(
        org["identifier"][0],
        json!({"system": "urn:zorg-pdp:fhir:NamingSystem:organisation", "value": "vp-noord"})
    );
    let consent = resources(&bundle, "Consent")[0];
    assert_eq!(
        consent["status"], "inactive",
        "a withdrawn dossier consent is a refusal"
    );
    // Unknown patient: an error, Debug without the id
    let e = engine
        .fhir_export(
            &PatientId::new("nobody-7").unwrap(),
            at("2026-03-01T00:00:00Z"),
        )
        .unwrap_err();
    assert!(matches!(e.problem(), FhirProblem::UnknownPatient(_)));
    assert!(e.to_string().contains("nobody-7") && !format!("{e:?}").contains("nobody-7"));
}

#[test]
fn an_unconfirmed_choice_of_a_minor_is_not_exported() {
    let engine = common::fhir_world();
    let choice = |when: &str| {
        Event::from_json(&format!(
            r#"{{"at":"{when}","type":"mitz_choice_recorded","patient":"client-2","holder":"ha-west",
                "data_category":"GGC002","requester_category":"RPZAC005","choice":"permit"}}"#
        ))
        .unwrap()
    };
    engine.apply(&choice("2026-03-01T00:00:00Z")).unwrap();
    let bundle = export(&engine, "client-2", "2026-03-02T00:00:00Z");
    assert!(resources(&bundle, "Consent").is_empty(), "{bundle:#}");
    engine
        .apply(
            &Event::from_json(
                r#"{"at":"2026-03-01T12:00:00Z","type":"mitz_choices_confirmed","patient":"client-2"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let bundle = export(&engine, "client-2", "2026-03-02T00:00:00Z");
    assert_eq!(
        resources(&bundle, "Consent").len(),
        1,
        "confirmed: exported"
    );
}

// --- R46: export then import gives the same answers ----------------------------

/// An engine with [`FHIR_WORLD`]'s entities and none of its events
fn entities_only() -> Engine {
    let engine = Engine::with_policies(common::policies().clone());
    let s = Scenario::parse(FHIR_WORLD, Path::new("fhir-world.toml")).unwrap();
    for o in s.organisations {
        engine.register_organisation(o).unwrap();
    }
    for p in s.patients {
        engine.register_patient(&p).unwrap();
    }
    engine
}

const ORGS: [&str; 6] = [
    "ha-west", "zh-noord", "kz-oost", "apo-zuid", "ggz-zuid", "vp-noord",
];
const HOLDER_CATEGORIES: [&str; 7] = [
    "huisartsen",
    "apotheken",
    "ziekenhuizen",
    "verpleging_verzorging",
    "laboratoria",
    "ggz",
    "overige_zorg",
];
const DATA: [&str; 3] = ["GGC002", "GGC012", "GGC013"];
const REQUESTERS: [&str; 7] = [
    "RPZAC001", "RPZAC003", "RPZAC004", "RPZAC005", "RPZAC103", "RPZAC104", "RPZAC200",
];

/// One random statement event: (dossier?, holder is an org?, holder,
/// data, requester, choice 0 permit / 1 deny / 2 clear, hour)
type Op = (bool, bool, usize, usize, usize, u8, u32);

fn op() -> impl Strategy<Value = Op> {
    (
        prop::bool::weighted(0.2),
        any::<bool>(),
        0usize..7,
        0usize..3,
        0usize..7,
        0u8..3,
        0u32..48,
    )
}

fn event_of(patient: &str, (dossier, is_org, h, d, r, choice, hour): Op) -> Event {
    let when = format!("2026-03-{:02}T{:02}:00:00Z", 1 + hour / 24, hour % 24);
    let json = if dossier {
        let ty = if choice == 0 {
            "dossier_consent_given"
        } else {
            "dossier_consent_withdrawn"
        };
        format!(
            r#"{{"at":"{when}","type":"{ty}","patient":"{patient}","holder":"{}"}}"#,
            ORGS[h % 6]
        )
    } else {
        let holder = if is_org {
            format!(r#""holder":"{}""#, ORGS[h % 6])
        } else {
            format!(r#""holder_category":"{}""#, HOLDER_CATEGORIES[h])
        };
        let (ty, c) = match choice {
            0 => ("mitz_choice_recorded", r#","choice":"permit""#),
            1 => ("mitz_choice_recorded", r#","choice":"deny""#),
            _ => ("mitz_choice_cleared", ""),
        };
        format!(
            r#"{{"at":"{when}","type":"{ty}","patient":"{patient}",{holder},"data_category":"{}","requester_category":"{}"{c}}}"#,
            DATA[d], REQUESTERS[r]
        )
    };
    Event::from_json(&json).unwrap()
}

/// `consent_check` for every holder × requesting category × data category
fn every_answer(engine: &Engine, patient: &str, when: &str) -> Vec<String> {
    let mut out = Vec::new();
    for h in ORGS {
        for r in REQUESTERS {
            let q = ConsentCheckQuery::from_json(&format!(
                r#"{{"principal":{{"organisation":"ha-west"}},"patient":"{patient}","holder":"{h}",
                   "requester_category":"{r}","data_categories":["GGC002","GGC012","GGC013"],"at":"{when}"}}"#
            ))
            .unwrap();
            let mut a = serde_json::to_value(engine.consent_check(&q).unwrap()).unwrap();
            a["seq"] = json!(0);
            // The deciding statements come in arrival order, which a bundle does not
            // carry (statements of one time are ordered by key there): compare them as sets
            for answer in a["answers"].as_array_mut().unwrap() {
                answer["statements"]
                    .as_array_mut()
                    .unwrap()
                    .sort_by_key(ToString::to_string);
            }
            out.push(format!("{h} {r}: {a}"));
        }
    }
    out
}

/// Random statements for `patient` on engine A, exported and imported into
/// a fresh engine B: the same statements in force, the same answers
fn round_trip(patient: &str, ops: &[Op]) -> (Value, Engine) {
    let a = entities_only();
    for &o in ops {
        a.apply(&event_of(patient, o)).unwrap();
    }
    let when = "2026-03-05T00:00:00Z";
    let bundle = export(&a, patient, when);
    let b = entities_only();
    b.fhir_apply(&bundle.to_string())
        .map_err(|e| format!("{e}\n{bundle:#}"))
        .unwrap();
    assert_eq!(
        statements(&b, when),
        statements(&a, when),
        "the statements in force carry over, times included"
    );
    assert_eq!(
        every_answer(&b, patient, when),
        every_answer(&a, patient, when)
    );
    assert_eq!(
        every_answer(&b, patient, "2027-01-01T00:00:00Z"),
        every_answer(&a, patient, "2027-01-01T00:00:00Z")
    );
    (bundle, b)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// R46, for a patient with a BSN and one without
    #[test]
    fn export_then_import_gives_the_same_answers(
        bsn in any::<bool>(),
        ops in prop::collection::vec(op(), 0..24),
    ) {
        let patient = if bsn { "client-1" } else { "client-3" };
        let (bundle, b) = round_trip(patient, &ops);
        // And the re-export of B is the same bundle
        prop_assert_eq!(export(&b, patient, "2026-03-05T00:00:00Z"), bundle);
    }
}

#[test]
fn a_full_picture_round_trips() {
    // Every holder category and organisation × data × requester, alternating
    let mut ops = Vec::new();
    for h in 0..7 {
        for d in 0..3 {
            for r in 0..7 {
                let choice = u8::try_from((h + d + r) % 2).unwrap();
                ops.push((false, h < 6, h, d, r, choice, u32::try_from(h).unwrap()));
                ops.push((false, false, h, d, r, 1 - choice, 30));
            }
        }
    }
    ops.push((true, true, 1, 0, 0, 0, 40));
    ops.push((true, true, 5, 0, 0, 1, 41));
    let (bundle, _) = round_trip("client-1", &ops);
    let consents = resources(&bundle, "Consent").len();
    assert!(consents > 60, "{consents}");
    assert!(bundle.to_string().len() < zorg_pdp::MAX_FHIR_BUNDLE_LEN);
}

// --- Validity: an independent FHIR R4 validator --------------------------------

/// The Python interpreter with `fhir.resources` (R4): `ZORG_PDP_FHIR_PYTHON`
/// as `.ci/run` sets it, or the venv `tests/fhir-validator/setup.sh` makes
/// under the target folder (it installs it when missing: `PyPI`, pinned)
fn validator_python() -> String {
    if let Ok(python) = std::env::var("ZORG_PDP_FHIR_PYTHON") {
        assert!(
            Path::new(&python).is_file(),
            "ZORG_PDP_FHIR_PYTHON={python} is no file: run `bash tests/fhir-validator/setup.sh` \
             and set ZORG_PDP_FHIR_PYTHON to the path it prints (or unset it)"
        );
        return python;
    }
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-validator/setup.sh");
    let out = Command::new("bash").arg(&setup).output().unwrap();
    assert!(
        out.status.success(),
        "the FHIR validator could not be installed ({}): {}\nInstall it with `bash \
         tests/fhir-validator/setup.sh` (needs python3 with venv and PyPI) and set \
         ZORG_PDP_FHIR_PYTHON to the path it prints",
        setup.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Each bundle's verdict from `validate.py`: `ok N` or `invalid N: …`
fn validate(bundles: &[Value]) -> Vec<String> {
    let python = validator_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-validator/validate.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for b in bundles {
            writeln!(stdin, "{b}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn exports_are_valid_fhir_r4() {
    // Several generated patients (a fixed seed), the world's own, and a full picture
    let mut bundles = Vec::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::vec(op(), 1..30);
    for i in 0..10 {
        let patient = if i % 2 == 0 { "client-1" } else { "client-3" };
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let a = entities_only();
        for &o in &ops {
            a.apply(&event_of(patient, o)).unwrap();
        }
        bundles.push(export(&a, patient, "2026-03-05T00:00:00Z"));
    }
    let world = common::fhir_world();
    world.fhir_apply(MITZ_NOTIFICATION).unwrap();
    for p in ["client-1", "client-2", "client-3"] {
        bundles.push(export(&world, p, "2026-03-05T00:00:00Z"));
    }
    assert!(bundles.iter().any(|b| resources(b, "Consent").len() > 5));
    let verdicts = validate(&bundles);
    let expected: Vec<String> = (0..bundles.len()).map(|n| format!("ok {n}")).collect();
    assert_eq!(verdicts, expected);
}

#[test]
fn the_validator_refuses_what_r4_refuses() {
    // So that `exports_are_valid_fhir_r4` can fail: broken exports are caught
    let world = common::fhir_world();
    world.fhir_apply(MITZ_NOTIFICATION).unwrap();
    let good = export(&world, "client-1", "2026-03-05T00:00:00Z");
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let bundles = [
        good.clone(),
        // Consent.status is required
        broken(&|b| {
            b["entry"][0]["resource"]
                .as_object_mut()
                .unwrap()
                .remove("status");
        }),
        // An element R4 does not have
        broken(&|b| b["entry"][0]["resource"]["provision"]["holder"] = json!("x")),
        // Consent.category is 1..*
        broken(&|b| {
            b["entry"][0]["resource"]
                .as_object_mut()
                .unwrap()
                .remove("category");
        }),
        // ppc-1: a policy or a policyRule
        broken(&|b| {
            b["entry"][0]["resource"]
                .as_object_mut()
                .unwrap()
                .remove("policyRule");
        }),
        // A reference that resolves to no entry
        broken(&|b| {
            b["entry"][0]["resource"]["patient"]["reference"] =
                json!("urn:uuid:00000000-0000-4000-8000-000000000000");
        }),
        // The notification itself: a transaction without policyRule (ppc-1)
        serde_json::from_str(MITZ_NOTIFICATION).unwrap(),
    ];
    let verdicts = validate(&bundles);
    assert_eq!(verdicts.len(), bundles.len(), "{verdicts:?}");
    assert_eq!(verdicts[0], "ok 0");
    for (n, v) in verdicts.iter().enumerate().skip(1) {
        assert!(v.starts_with(&format!("invalid {n}:")), "{v}");
    }
    assert!(verdicts[1].contains("status"), "{}", verdicts[1]);
    assert!(verdicts[4].contains("ppc-1"), "{}", verdicts[4]);
}
